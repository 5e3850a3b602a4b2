//! Located problems in a scenario file, and their rendering as `file:line:col` + source line +
//! caret + label + help, the way hurl and rustc show them.
//!
//! Rendering returns a `String`: the library never prints, the CLI decides where text goes.

use std::path::Path;

use crate::scenario::model::Span;

/// One problem in a scenario file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Lowercase, no trailing period, user values in backticks.
    pub message: String,
    /// Where; `None` for file-level problems (empty file, not UTF-8 as a whole).
    pub span: Option<Span>,
    /// Short text under the caret.
    pub label: Option<String>,
    /// A `help:` line, e.g. a did-you-mean.
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic at `span` with `message`.
    pub fn new(message: impl Into<String>, span: Option<Span>) -> Self {
        Diagnostic {
            message: message.into(),
            span,
            label: None,
            help: None,
        }
    }

    /// Add the label shown under the caret.
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Add a `help:` line.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// Render diagnostics of one file. `color` adds ANSI colors (for a TTY).
pub fn render(file: &Path, source: &str, diagnostics: &[Diagnostic], color: bool) -> String {
    let _ = (file, source, diagnostics, color);
    unimplemented!("rendering is built by the scenario-loader work")
}
