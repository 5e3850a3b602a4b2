//! Located problems in a scenario file, and their rendering as `file:line:col` + source line +
//! caret + label + help, the way hurl and rustc show them.
//!
//! A problem inside a mock definition the scenario includes ([`Included`]) is shown in that file,
//! followed by the scenario's `include:` line that brought it in.
//!
//! Rendering returns a `String`: the library never prints, the CLI decides where text goes. A
//! source line is shown with what looks secret in it (a value under a secret name, a private
//! key, an IBAN, …) overwritten by `*`, one per character, so the carets still point right.

use std::path::{Path, PathBuf};
use std::sync::Arc;

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
    /// The mock definition the problem is in, when it is not in the scenario file itself; the
    /// span is then a position in that file.
    pub included: Option<Arc<Included>>,
}

/// A mock definition file (`mocks/…`) a scenario includes, as diagnostics in it refer to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Included {
    /// The file, as resolved (the project root joined with the name written).
    pub path: PathBuf,
    /// Its text (lossy UTF-8), for rendering source lines.
    pub text: String,
    /// The mock whose `include:` names it.
    pub mock: String,
    /// Where the scenario names it (the `include:` value); `None` when the definition is checked
    /// on its own.
    pub at: Option<Span>,
}

impl Diagnostic {
    /// A diagnostic at `span` with `message`.
    pub fn new(message: impl Into<String>, span: Option<Span>) -> Self {
        Diagnostic {
            message: message.into(),
            span,
            label: None,
            help: None,
            included: None,
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
///
/// Each diagnostic shows its message, `--> file:line:col`, the source line with carets under the
/// located text and the label, then the help line; diagnostics are separated by a blank line.
pub fn render(file: &Path, source: &str, diagnostics: &[Diagnostic], color: bool) -> String {
    let paint = Paint { color };
    diagnostics
        .iter()
        .map(|diagnostic| render_one(file, source, diagnostic, paint))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Width a tab stands for when source lines are shown.
const TAB: &str = "    ";

#[derive(Clone, Copy)]
struct Paint {
    color: bool,
}

impl Paint {
    fn error(self) -> &'static str {
        if self.color {
            "\x1b[1;31merror\x1b[0m"
        } else {
            "error"
        }
    }

    fn gutter(self, text: &str) -> String {
        if self.color {
            format!("\x1b[1;34m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn carets(self, text: &str) -> String {
        if self.color {
            format!("\x1b[1;31m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn bold(self, text: &str) -> String {
        if self.color {
            format!("\x1b[1m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

fn render_one(file: &Path, source: &str, diagnostic: &Diagnostic, paint: Paint) -> String {
    let mut out = format!(
        "{}{}\n",
        paint.error(),
        paint.bold(&format!(": {}", diagnostic.message))
    );
    // A problem in an included file is shown there, then where the scenario includes it.
    let (shown_file, shown_source) = match &diagnostic.included {
        Some(included) => (included.path.as_path(), included.text.as_str()),
        None => (file, source),
    };
    let include_site = diagnostic
        .included
        .as_deref()
        .and_then(|included| Some((included.at?, included.mock.as_str())));
    let Some(span) = diagnostic.span else {
        out.push_str(&format!(
            " {} {}\n",
            paint.gutter("-->"),
            shown_file.display()
        ));
        if let Some(label) = &diagnostic.label {
            out.push_str(&format!("  {} {label}\n", paint.gutter("=")));
        }
        if let Some(help) = &diagnostic.help {
            out.push_str(&format!("  {} help: {help}\n", paint.gutter("=")));
        }
        return out;
    };
    let widest = span
        .line
        .max(include_site.map_or(0, |(at, _)| at.line))
        .to_string()
        .len();
    let pad = " ".repeat(widest);
    let bar = paint.gutter("|");
    out.push_str(&format!(
        "{pad}{} {}:{}:{}\n",
        paint.gutter("-->"),
        shown_file.display(),
        span.line,
        span.col
    ));
    if shown_source.is_empty() {
        // No text to show (an empty file, or a path that is not a regular file).
        if let Some(label) = &diagnostic.label {
            out.push_str(&format!("{pad} {} {label}\n", paint.gutter("=")));
        }
    } else {
        out.push_str(&format!("{pad} {bar}\n"));
        out.push_str(&snippet(
            shown_source,
            span,
            diagnostic.label.as_deref(),
            widest,
            paint,
        ));
    }
    if let Some((at, mock)) = include_site {
        out.push_str(&format!("{pad} {bar}\n"));
        out.push_str(&format!(
            "{pad}{} {}:{}:{}\n",
            paint.gutter(":::"),
            file.display(),
            at.line,
            at.col
        ));
        out.push_str(&format!("{pad} {bar}\n"));
        let label = format!("included here by mock `{mock}`");
        out.push_str(&snippet(source, at, Some(&label), widest, paint));
    }
    if let Some(help) = &diagnostic.help {
        if shown_source.is_empty() && include_site.is_none() {
            out.push_str(&format!("{pad} {} help: {help}\n", paint.gutter("=")));
        } else {
            out.push_str(&format!("{pad} {bar}\n"));
            out.push_str(&format!("{pad} {} help: {help}\n", paint.gutter("=")));
        }
    }
    out
}

/// The source line of `span` in `source` with carets under the located text and `label`; the
/// line number is right-aligned in `width` columns.
fn snippet(source: &str, span: Span, label: Option<&str>, width: usize, paint: Paint) -> String {
    let pad = " ".repeat(width);
    let bar = paint.gutter("|");
    let (line, first, count) = locate(source, span);
    let (line, first, count) = shown_part(line, first, count);
    let line = line.as_str();
    let prefix: String = line.chars().take(first).collect();
    let marked: String = line.chars().skip(first).take(count).collect();
    // Secrets in the line are overwritten in place (`*`): the carets below keep their columns.
    let shown = crate::secrets::mask_same_width(line).replace('\t', TAB);
    let mut out = format!(
        "{} {bar} {}\n",
        paint.gutter(&format!("{:>width$}", span.line)),
        shown.trim_end()
    );
    let indent = " ".repeat(prefix.replace('\t', TAB).chars().count());
    let width = marked.replace('\t', TAB).chars().count().max(1);
    let mut caret_line = format!("{pad} {bar} {indent}{}", paint.carets(&"^".repeat(width)));
    if let Some(label) = label {
        caret_line.push(' ');
        caret_line.push_str(&paint.carets(label));
    }
    out.push_str(&caret_line);
    out.push('\n');
    out
}

/// Most characters of a source line shown; a longer line is shown as a window around the span.
const MAX_SHOWN: usize = 120;

/// What to show of a source line: control characters as their visible pictures (`␀` for NUL),
/// and of a line longer than [`MAX_SHOWN`] characters a window around the marked characters,
/// cut with `…`; with the marked part's new start and length.
fn shown_part(line: &str, first: usize, count: usize) -> (String, usize, usize) {
    let chars: Vec<char> = line
        .chars()
        .map(|c| match c {
            '\t' => c,
            '\0'..='\u{1f}' => char::from_u32(0x2400 + u32::from(c)).unwrap_or('?'),
            '\u{7f}' => '\u{2421}',
            '\u{80}'..='\u{9f}' => '\u{fffd}',
            _ => c,
        })
        .collect();
    if chars.len() <= MAX_SHOWN {
        return (chars.into_iter().collect(), first, count);
    }
    let start = first.saturating_sub(MAX_SHOWN / 3);
    let end = (start + MAX_SHOWN).min(chars.len());
    let start = end.saturating_sub(MAX_SHOWN).min(start);
    let count = count.min(end.saturating_sub(first)).max(1);
    let mut shown = String::new();
    if start > 0 {
        shown.push('…');
    }
    shown.extend(&chars[start..end]);
    if end < chars.len() {
        shown.push('…');
    }
    (shown, first - start + usize::from(start > 0), count)
}

/// The source line of `span`, the character index the span starts at on it, and how many of its
/// characters the span covers there (to the end of the line when it goes on).
fn locate(source: &str, span: Span) -> (&str, usize, usize) {
    let line = source
        .split('\n')
        .nth(span.line.saturating_sub(1))
        .unwrap_or("")
        .trim_end_matches('\r');
    let line_chars = line.chars().count();
    let first = span.col.saturating_sub(1).min(line_chars);
    // Prefer byte offsets for the length; fall back to "rest of the line" when they do not fit
    // this text (e.g. a lossy copy of a file that was not UTF-8).
    let length = source
        .get(span.start..span.end.max(span.start))
        .map(|text| text.split('\n').next().unwrap_or("").chars().count());
    let rest = line_chars - first;
    let count = match length {
        Some(length) if length > 0 => length.min(rest),
        _ => rest.min(1),
    };
    (line, first, count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span_of(source: &str, needle: &str) -> Span {
        let start = source.find(needle).unwrap();
        let before = &source[..start];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().unwrap().chars().count() + 1;
        Span {
            start,
            end: start + needle.len(),
            line,
            col,
        }
    }

    #[test]
    fn renders_like_rustc() {
        let mut source = String::new();
        for _ in 0..13 {
            source.push_str("# filler\n");
        }
        source.push_str("      respnse: { status: 504 }\n");
        let diagnostic = Diagnostic::new(
            "unknown field `respnse` in stub 1 of mock `erp`",
            Some(span_of(&source, "respnse")),
        )
        .with_label("expected one of `request`, `response`, `responses`")
        .with_help("did you mean `response`?");
        let text = render(
            Path::new("scenarios/erp-timeout.yaml"),
            &source,
            &[diagnostic],
            false,
        );
        let expected = "\
error: unknown field `respnse` in stub 1 of mock `erp`
  --> scenarios/erp-timeout.yaml:14:7
   |
14 |       respnse: { status: 504 }
   |       ^^^^^^^ expected one of `request`, `response`, `responses`
   |
   = help: did you mean `response`?
";
        assert_eq!(text, expected);
    }

    #[test]
    fn tabs_keep_carets_aligned() {
        let source = "a:\tb\tbad\n";
        let diagnostic = Diagnostic::new("bad", Some(span_of(source, "bad")));
        let text = render(Path::new("f.yaml"), source, &[diagnostic], false);
        let lines: Vec<&str> = text.lines().collect();
        let shown = lines[3].find("bad").unwrap();
        let caret = lines[4].find('^').unwrap();
        assert_eq!(shown, caret, "{text}");
        assert_eq!(lines[4].matches('^').count(), 3);
    }

    #[test]
    fn separates_diagnostics_and_marks_at_least_one_column() {
        let source = "a: 1\n";
        let empty = Span {
            start: 4,
            end: 4,
            line: 1,
            col: 5,
        };
        let diagnostics = [
            Diagnostic::new("first", Some(empty)),
            Diagnostic::new("second", None).with_help("try again"),
        ];
        let text = render(Path::new("f.yaml"), source, &diagnostics, false);
        assert_eq!(
            text,
            "error: first\n --> f.yaml:1:5\n  |\n1 | a: 1\n  |     ^\n\nerror: second\n --> f.yaml\n  = help: try again\n"
        );
    }

    #[test]
    fn long_lines_show_a_window_and_control_characters_their_pictures() {
        let source = format!("key: {}bad{}\n", "x".repeat(500), "y".repeat(500));
        let diagnostic = Diagnostic::new("bad", Some(span_of(&source, "bad")));
        let text = render(Path::new("f.yaml"), &source, &[diagnostic], false);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[3].chars().count() < MAX_SHOWN + 10, "{text}");
        assert!(
            lines[3].starts_with("1 | …x") && lines[3].ends_with("y…"),
            "{text}"
        );
        let column = |line: &str, needle: &str| line[..line.find(needle).unwrap()].chars().count();
        assert_eq!(column(lines[4], "^"), column(lines[3], "bad"), "{text}");
        assert_eq!(lines[4].matches('^').count(), 3, "{text}");

        let source = "a: \"t\0\"\n";
        let diagnostic = Diagnostic::new("nul", Some(span_of(source, "\0")));
        let text = render(Path::new("f.yaml"), source, &[diagnostic], false);
        assert!(
            text.contains("1 | a: \"t\u{2400}\"\n  |      ^\n"),
            "{text}"
        );
    }

    #[test]
    fn a_location_in_a_file_without_text_shows_no_source_line() {
        let at = Span {
            start: 0,
            end: 0,
            line: 1,
            col: 1,
        };
        let diagnostic = Diagnostic::new("the file is empty", Some(at)).with_help("write one");
        let text = render(Path::new("f.yaml"), "", &[diagnostic], false);
        assert_eq!(
            text,
            "error: the file is empty\n --> f.yaml:1:1\n  = help: write one\n"
        );
    }

    #[test]
    fn color_only_when_asked() {
        let diagnostics = [Diagnostic::new("x", None)];
        assert!(!render(Path::new("f"), "", &diagnostics, false).contains('\x1b'));
        assert!(render(Path::new("f"), "", &diagnostics, true).contains("\x1b[1;31merror"));
    }
}
