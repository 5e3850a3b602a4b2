//! Terminal output: colors on a TTY (unless `NO_COLOR`), plain text when piped.

use std::error::Error;
use std::io::{IsTerminal, Write};

use super::ColorChoice;
use super::error::{CliError, render_error};

/// Where and how the CLI writes.
pub(crate) struct Output {
    color_out: bool,
    color_err: bool,
}

/// A style for a piece of text.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Style {
    /// Good news.
    Green,
    /// Bad news.
    Red,
    /// Needs a look.
    Yellow,
    /// Emphasis.
    Bold,
    /// Less important.
    Dim,
}

impl Output {
    /// Decide colors from the choice and the streams.
    pub(crate) fn new(choice: ColorChoice) -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let decide = |is_tty: bool| match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => is_tty && !no_color,
        };
        Output {
            color_out: decide(std::io::stdout().is_terminal()),
            color_err: decide(std::io::stderr().is_terminal()),
        }
    }

    /// Whether stderr gets colors.
    pub(crate) fn color_stderr(&self) -> bool {
        self.color_err
    }

    /// Style text for stdout.
    pub(crate) fn paint(&self, style: Style, text: &str) -> String {
        paint(self.color_out, style, text)
    }

    /// Style text for stderr.
    pub(crate) fn paint_err(&self, style: Style, text: &str) -> String {
        paint(self.color_err, style, text)
    }

    /// Write text to stdout (a newline is added when missing).
    pub(crate) fn stdout(&self, text: &str) {
        let mut lock = std::io::stdout().lock();
        let _ = lock.write_all(text.as_bytes());
        if !text.ends_with('\n') {
            let _ = lock.write_all(b"\n");
        }
        let _ = lock.flush();
    }

    /// Write text to stderr (a newline is added when missing).
    pub(crate) fn stderr(&self, text: &str) {
        let mut lock = std::io::stderr().lock();
        let _ = lock.write_all(text.as_bytes());
        if !text.ends_with('\n') {
            let _ = lock.write_all(b"\n");
        }
        let _ = lock.flush();
    }

    /// The error that stopped a subcommand, on stderr.
    pub(crate) fn error(&self, err: &CliError) {
        self.stderr(&err.render(self.color_err));
    }

    /// An error met on the way (e.g. one scenario that could not run), with its causes, an
    /// optional help line and detail lines, on stderr.
    pub(crate) fn error_of(
        &self,
        err: &(dyn Error + 'static),
        help: Option<&str>,
        detail: Option<&str>,
    ) {
        self.stderr(&render_error(
            &err.to_string(),
            Some(err),
            help,
            detail,
            self.color_err,
        ));
    }
}

/// `text` in `style` when `enabled` (ANSI escapes), else as it is.
pub(super) fn paint(enabled: bool, style: Style, text: &str) -> String {
    if !enabled {
        return text.to_string();
    }
    let code = match style {
        Style::Green => "32",
        Style::Red => "31;1",
        Style::Yellow => "33",
        Style::Bold => "1",
        Style::Dim => "2",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}
