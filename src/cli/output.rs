//! Terminal output: colors on a TTY (unless `NO_COLOR`), plain text when piped; and every line
//! redacted.
//!
//! [`Output`] is the only way the command line writes (stdout, stderr, and the log lines of
//! [`LogWriter`]), and it masks secrets itself: the values it has [learned](Output::learn) (each
//! loaded scenario's declared secrets, then each run's), known shapes and values after secret
//! names ([`Secrets::redact`]). Only compile-time text skips it ([`Output::stdout_static`]).

use std::error::Error;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex, PoisonError};

use super::ColorChoice;
use super::error::{CliError, render_error};
use crate::secrets::Secrets;

/// Where and how the CLI writes.
pub(crate) struct Output {
    color_out: bool,
    color_err: bool,
    /// Whether stderr is a terminal (where a progress bar may draw).
    err_terminal: bool,
    /// Every secret value learned so far, shared with the log writer.
    secrets: Arc<Mutex<Secrets>>,
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
        let err_terminal = std::io::stderr().is_terminal();
        Output {
            color_out: decide(std::io::stdout().is_terminal()),
            color_err: decide(err_terminal),
            err_terminal,
            secrets: Arc::default(),
        }
    }

    /// Mask these values too in everything written from now on (terminal and logs).
    pub(crate) fn learn(&self, secrets: &Secrets) {
        if !secrets.is_empty() {
            lock(&self.secrets).extend(secrets);
        }
    }

    /// The writer of log lines: stderr, redacted like everything else.
    pub(crate) fn log_writer(&self) -> LogWriter {
        LogWriter {
            secrets: self.secrets.clone(),
        }
    }

    fn redact(&self, text: &str) -> String {
        lock(&self.secrets).redact(text)
    }

    /// `text` with every secret masked, for what is drawn outside these methods (the progress
    /// bar's message).
    pub(crate) fn redacted(&self, text: &str) -> String {
        self.redact(text)
    }

    /// Whether stderr is a terminal.
    pub(crate) fn stderr_is_terminal(&self) -> bool {
        self.err_terminal
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

    /// Write text to stdout, redacted (a newline is added when missing).
    pub(crate) fn stdout(&self, text: &str) {
        self.stdout_static_or_redacted(&self.redact(text));
    }

    /// Write text that is part of reenact itself (the JSON Schema) to stdout as it is: only
    /// compile-time text can skip redaction.
    pub(crate) fn stdout_static(&self, text: &'static str) {
        self.stdout_static_or_redacted(text);
    }

    fn stdout_static_or_redacted(&self, text: &str) {
        let mut lock = std::io::stdout().lock();
        let _ = lock.write_all(text.as_bytes());
        if !text.ends_with('\n') {
            let _ = lock.write_all(b"\n");
        }
        let _ = lock.flush();
    }

    /// Write text to stderr, redacted (a newline is added when missing).
    pub(crate) fn stderr(&self, text: &str) {
        let text = self.redact(text);
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

fn lock(secrets: &Mutex<Secrets>) -> std::sync::MutexGuard<'_, Secrets> {
    // A panic while holding the lock left the set as it was: still good for masking.
    secrets.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Makes the writer of each log line (`tracing_subscriber`'s `MakeWriter`): a [`LogLine`].
#[derive(Clone)]
pub(crate) struct LogWriter {
    secrets: Arc<Mutex<Secrets>>,
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = LogLine;

    fn make_writer(&'a self) -> LogLine {
        LogLine {
            secrets: self.secrets.clone(),
            buffer: Vec::new(),
        }
    }
}

/// One log event as it is formatted; written to stderr, redacted, when it is dropped.
pub(crate) struct LogLine {
    secrets: Arc<Mutex<Secrets>>,
    buffer: Vec<u8>,
}

impl Write for LogLine {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LogLine {
    fn drop(&mut self) {
        if self.buffer.is_empty() {
            return;
        }
        let text = lock(&self.secrets).redact(&String::from_utf8_lossy(&self.buffer));
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }
}
