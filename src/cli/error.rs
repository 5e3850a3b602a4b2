//! How a subcommand ends: an [`Outcome`] when it did its job (whatever the verdicts), a
//! [`CliError`] when it could not. Both map to exit codes here, and only here in `cli`; errors
//! are rendered here too, one way for every subcommand.
//!
//! A rendered error is its message, one `caused by:` line per cause in its source chain, an
//! optional help line and optional detail lines (e.g. a target's last output), as cargo and
//! nextest show them:
//!
//! ```text
//! error: target `bin/app` failed
//!   caused by: failed to start target `bin/app`
//!   caused by: No such file or directory (os error 2)
//!   = help: check the target's command and its `ready` probe; run with -v for details
//! ```
//!
//! Scenario files that fail to load keep their own located rendering
//! ([`crate::scenario::diagnostic::render`]); where an error becomes data (a report row, a
//! JSON report) it stays one line ([`crate::errors::one_line`]).

use std::error::Error;

use crate::exit_codes;
use crate::scenario::LoadError;

use super::output::{Style, paint};

/// An error as a cause: owned, and shareable across threads.
type Source = Box<dyn Error + Send + Sync + 'static>;

/// What kind of failure stopped a subcommand; it decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorKind {
    /// Invalid usage, scenario or `reenact.toml`, or a scenario the chosen backend cannot run.
    InvalidInput,
    /// The environment failed: a target would not start, a port is in use, Docker is
    /// unreachable.
    Environment,
    /// The selection (`--tag`, `--filter`, `--partition`, …) left no scenario.
    NoScenarios,
    /// A bug in reenact.
    Internal,
}

impl ErrorKind {
    /// The exit code of an error of this kind.
    pub(crate) fn exit_code(self) -> i32 {
        match self {
            ErrorKind::InvalidInput => exit_codes::INVALID_INPUT,
            ErrorKind::Environment => exit_codes::ENVIRONMENT,
            ErrorKind::NoScenarios => exit_codes::NO_SCENARIOS,
            ErrorKind::Internal => exit_codes::INTERNAL,
        }
    }
}

/// How a subcommand that did its job ends: its result, not an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Everything passed: every scenario (`run`), every fix (`validate`), every file (`check`).
    Success,
    /// A verdict or snapshot failed.
    Failed,
    /// The report is complete, and some of its rows are errors of this kind (scenarios that
    /// could not run, files that are not valid scenarios). Each was shown in its row, so there
    /// is no error line of its own: the kind only decides the exit code.
    ErrorsInReport(ErrorKind),
    /// A second signal stopped a graceful shutdown (`mock serve`).
    Stopped(Signal),
}

impl Outcome {
    /// The exit code of this outcome.
    pub(crate) fn exit_code(self) -> i32 {
        match self {
            Outcome::Success => exit_codes::SUCCESS,
            Outcome::Failed => exit_codes::FAILED,
            Outcome::ErrorsInReport(kind) => kind.exit_code(),
            Outcome::Stopped(signal) => signal.exit_code(),
        }
    }
}

/// A signal that stops reenact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// SIGTERM.
    Terminate,
}

impl Signal {
    /// Its name, e.g. `SIGINT`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
        }
    }

    /// The exit code of a process it stopped (128 + its number, as shells report it).
    pub(crate) fn exit_code(self) -> i32 {
        match self {
            Signal::Interrupt => exit_codes::INTERRUPTED,
            Signal::Terminate => exit_codes::TERMINATED,
        }
    }
}

/// Why a subcommand stopped: its kind (the exit code) and what to tell the user.
///
/// Most errors are one [`Report`] (`new`, `from_error`, then `with_source`, `with_help`,
/// `with_detail`); a few gather every problem found before giving up ([`CliError::several`]).
#[derive(Debug)]
pub(crate) struct CliError {
    kind: ErrorKind,
    /// Shown in order; never empty.
    problems: Vec<Problem>,
}

/// One problem of a [`CliError`].
#[derive(Debug)]
pub(crate) enum Problem {
    /// An error with its causes, help and detail.
    Error(Report),
    /// A scenario file that failed to load: its located diagnostics (or, when it could not be
    /// read, an error with its cause).
    Scenario(LoadError),
    /// A plain closing line, e.g. `nothing was run`.
    Note(String),
    /// A problem located in text given on the command line (a `--filter`): `name` stands for
    /// the file in `--> name:line:col`.
    Located {
        /// What the text is, e.g. `--filter`.
        name: String,
        /// The text.
        text: String,
        /// The problem in it.
        diagnostic: crate::scenario::Diagnostic,
    },
}

/// An error as the terminal shows it: `error: MESSAGE`, its causes, help and detail.
#[derive(Debug)]
pub(crate) struct Report {
    /// What failed: lowercase, no trailing period, user values in backticks.
    message: String,
    /// Why: the first cause; its own sources follow.
    source: Option<Source>,
    /// What to do about it.
    help: Option<String>,
    /// Lines shown after the help line, indented by the caller (e.g. a target's last output).
    detail: Option<String>,
}

impl Report {
    /// An error saying `message`.
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Report {
            message: message.into(),
            source: None,
            help: None,
            detail: None,
        }
    }

    /// An error saying what `err` says, with `err`'s sources as its causes.
    pub(crate) fn from_error(err: impl Error + Send + Sync + 'static) -> Self {
        // `err` itself is the first cause: its text is the message, so rendering skips it.
        Report::new(err.to_string()).with_source(err)
    }

    /// Add the cause (its own sources follow it).
    pub(crate) fn with_source(mut self, source: impl Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// Add a help line.
    pub(crate) fn with_help(self, help: impl Into<String>) -> Self {
        self.with_optional_help(Some(help))
    }

    /// Add a help line when there is one.
    pub(crate) fn with_optional_help(mut self, help: Option<impl Into<String>>) -> Self {
        self.help = help.map(Into::into);
        self
    }

    /// Add detail lines (when there are some).
    pub(crate) fn with_detail(mut self, detail: Option<String>) -> Self {
        self.detail = detail;
        self
    }

    /// The report as text, ending in a newline; `color` paints the `error` label.
    pub(crate) fn render(&self, color: bool) -> String {
        let causes = self.source.as_deref().map(|source| source as &dyn Error);
        render_error(
            &self.message,
            causes,
            self.help.as_deref(),
            self.detail.as_deref(),
            color,
        )
    }
}

impl CliError {
    /// An error of `kind` saying `message`.
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        CliError::of_report(kind, Report::new(message))
    }

    /// Invalid usage or input, saying `message`.
    pub(crate) fn invalid_input(message: impl Into<String>) -> Self {
        CliError::new(ErrorKind::InvalidInput, message)
    }

    /// An environment failure, saying `message`.
    pub(crate) fn environment(message: impl Into<String>) -> Self {
        CliError::new(ErrorKind::Environment, message)
    }

    /// An error of `kind` saying what `err` says, with `err`'s sources as its causes.
    pub(crate) fn from_error(kind: ErrorKind, err: impl Error + Send + Sync + 'static) -> Self {
        CliError::of_report(kind, Report::from_error(err))
    }

    /// An error of `kind` shown as `report`.
    pub(crate) fn of_report(kind: ErrorKind, report: Report) -> Self {
        CliError {
            kind,
            problems: vec![Problem::Error(report)],
        }
    }

    /// Every problem found before giving up, shown in order, as one error of `kind`.
    pub(crate) fn several(kind: ErrorKind, problems: Vec<Problem>) -> Self {
        debug_assert!(!problems.is_empty(), "an error shows at least one problem");
        CliError { kind, problems }
    }

    /// A scenario file that failed to load: invalid input.
    pub(crate) fn scenario(err: LoadError) -> Self {
        CliError::several(ErrorKind::InvalidInput, vec![Problem::Scenario(err)])
    }

    /// This error, then `next`'s problems, as one error of this one's kind.
    pub(crate) fn followed_by(mut self, next: CliError) -> Self {
        self.problems.extend(next.problems);
        self
    }

    /// Add the cause of the error (its own sources follow it).
    pub(crate) fn with_source(self, source: impl Error + Send + Sync + 'static) -> Self {
        self.map_report(|report| report.with_source(source))
    }

    /// Add a help line.
    pub(crate) fn with_help(self, help: impl Into<String>) -> Self {
        self.map_report(|report| report.with_help(help))
    }

    /// Add a help line when there is one.
    pub(crate) fn with_optional_help(self, help: Option<impl Into<String>>) -> Self {
        self.map_report(|report| report.with_optional_help(help))
    }

    /// Add detail lines (when there are some).
    pub(crate) fn with_detail(self, detail: Option<String>) -> Self {
        self.map_report(|report| report.with_detail(detail))
    }

    /// Change the last problem when it is a [`Report`] (as it is for every error but
    /// [`CliError::several`]'s).
    fn map_report(mut self, change: impl FnOnce(Report) -> Report) -> Self {
        if let Some(Problem::Error(report)) = self.problems.pop() {
            self.problems.push(Problem::Error(change(report)));
        }
        self
    }

    /// The exit code of this error.
    pub(crate) fn exit_code(&self) -> i32 {
        self.kind.exit_code()
    }

    /// The error as text, every problem in order, ending in a newline; `color` paints it for a
    /// terminal.
    pub(crate) fn render(&self, color: bool) -> String {
        let mut text = String::new();
        for problem in &self.problems {
            let block = match problem {
                Problem::Error(report) => report.render(color),
                Problem::Scenario(err) => render_load_error(err, color),
                Problem::Note(note) => note.clone(),
                Problem::Located {
                    name,
                    text,
                    diagnostic,
                } => crate::scenario::diagnostic::render(
                    std::path::Path::new(name),
                    text,
                    std::slice::from_ref(diagnostic),
                    color,
                ),
            };
            text.push_str(&block);
            if !block.ends_with('\n') {
                text.push('\n');
            }
        }
        text
    }
}

/// A scenario file that failed to load: its located diagnostics, or the error that kept it
/// from being read.
pub(super) fn render_load_error(err: &LoadError, color: bool) -> String {
    match err {
        LoadError::Invalid {
            path,
            source_text,
            diagnostics,
        } => crate::scenario::diagnostic::render(path, source_text, diagnostics, color),
        LoadError::Io { .. } => render_error(&err.to_string(), Some(err), None, None, color),
    }
}

/// `error: MESSAGE`, then a `caused by:` line for each error of the chain that starts at
/// `causes`, then `= help: HELP`, then `detail`; the text ends in a newline.
///
/// A cause whose text a line above already holds is left out (an error that prints its source
/// in its own message, or `causes` being the error the message was taken from), so nothing is
/// said twice.
pub(super) fn render_error(
    message: &str,
    causes: Option<&(dyn Error + 'static)>,
    help: Option<&str>,
    detail: Option<&str>,
    color: bool,
) -> String {
    let mut text = format!("{}: {message}\n", paint(color, Style::Red, "error"));
    let mut shown = vec![message.to_owned()];
    let mut cause = causes;
    while let Some(err) = cause {
        let line = err.to_string();
        if !shown.iter().any(|above| above.contains(&line)) {
            text.push_str(&format!("  caused by: {line}\n"));
            shown.push(line);
        }
        cause = err.source();
    }
    if let Some(help) = help {
        text.push_str(&format!("  = help: {help}\n"));
    }
    if let Some(detail) = detail {
        text.push_str(detail);
        if !detail.ends_with('\n') {
            text.push('\n');
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A link of an error chain: its text and its source.
    #[derive(Debug, thiserror::Error)]
    #[error("{text}")]
    struct Link {
        text: &'static str,
        #[source]
        source: Option<Box<Link>>,
    }

    /// A chain of errors with these texts, outermost first.
    fn chain(texts: &[&'static str]) -> Link {
        let (last, rest) = texts.split_last().expect("at least one text");
        rest.iter().rev().fold(
            Link {
                text: last,
                source: None,
            },
            |source, text| Link {
                text,
                source: Some(Box::new(source)),
            },
        )
    }

    /// Three causes, the middle one saying again what the first one said.
    fn three_causes() -> Link {
        chain(&[
            "failed to start target `bin/app`",
            "failed to start target `bin/app`",
            "No such file or directory (os error 2)",
        ])
    }

    #[test]
    fn a_cause_chain_renders_one_line_per_cause_and_skips_a_repeated_one() {
        let cases = [
            (
                None,
                false,
                "error: target `app` failed\n  caused by: failed to start target `bin/app`\n  caused by: No such file or directory (os error 2)\n",
            ),
            (
                Some("check `target.command` in the scenario"),
                false,
                "error: target `app` failed\n  caused by: failed to start target `bin/app`\n  caused by: No such file or directory (os error 2)\n  = help: check `target.command` in the scenario\n",
            ),
            (
                None,
                true,
                "\x1b[31;1merror\x1b[0m: target `app` failed\n  caused by: failed to start target `bin/app`\n  caused by: No such file or directory (os error 2)\n",
            ),
            (
                Some("check `target.command` in the scenario"),
                true,
                "\x1b[31;1merror\x1b[0m: target `app` failed\n  caused by: failed to start target `bin/app`\n  caused by: No such file or directory (os error 2)\n  = help: check `target.command` in the scenario\n",
            ),
        ];
        for (help, color, expected) in cases {
            let err = CliError::environment("target `app` failed")
                .with_source(three_causes())
                .with_optional_help(help);
            assert_eq!(err.render(color), expected, "help {help:?}, color {color}");
            assert_eq!(err.exit_code(), exit_codes::ENVIRONMENT);
        }
    }

    #[test]
    fn an_error_taken_as_the_message_is_not_repeated_as_its_own_cause() {
        let err = CliError::from_error(ErrorKind::InvalidInput, three_causes());
        assert_eq!(
            err.render(false),
            "error: failed to start target `bin/app`\n  caused by: No such file or directory (os error 2)\n"
        );
    }

    #[test]
    fn a_cause_the_message_already_holds_is_left_out() {
        let err = CliError::from_error(
            ErrorKind::Internal,
            chain(&["invalid `reenact.toml`: bad key", "bad key"]),
        );
        assert_eq!(
            err.render(false),
            "error: invalid `reenact.toml`: bad key\n"
        );
        assert_eq!(err.exit_code(), exit_codes::INTERNAL);
    }

    #[test]
    fn detail_follows_the_help_line() {
        let err = CliError::environment("target `app` failed")
            .with_help("check it")
            .with_detail(Some("  last output lines:\n  | boom".to_owned()));
        assert_eq!(
            err.render(false),
            "error: target `app` failed\n  = help: check it\n  last output lines:\n  | boom\n"
        );
    }

    #[test]
    fn several_problems_render_in_order() {
        let err = CliError::several(
            ErrorKind::InvalidInput,
            vec![
                Problem::Error(Report::new("first").with_help("do this")),
                Problem::Error(Report::new("second")),
                Problem::Note("nothing was run".to_owned()),
            ],
        );
        assert_eq!(
            err.render(false),
            "error: first\n  = help: do this\nerror: second\nnothing was run\n"
        );
        assert_eq!(err.exit_code(), exit_codes::INVALID_INPUT);
    }

    #[test]
    fn every_kind_and_outcome_has_its_exit_code() {
        let cases = [
            (Outcome::Success, exit_codes::SUCCESS),
            (Outcome::Failed, exit_codes::FAILED),
            (
                Outcome::ErrorsInReport(ErrorKind::InvalidInput),
                exit_codes::INVALID_INPUT,
            ),
            (
                Outcome::ErrorsInReport(ErrorKind::Environment),
                exit_codes::ENVIRONMENT,
            ),
            (
                Outcome::ErrorsInReport(ErrorKind::Internal),
                exit_codes::INTERNAL,
            ),
            (Outcome::Stopped(Signal::Interrupt), 130),
            (Outcome::Stopped(Signal::Terminate), 143),
        ];
        for (outcome, code) in cases {
            assert_eq!(outcome.exit_code(), code, "{outcome:?}");
        }
    }
}
