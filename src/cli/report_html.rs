//! `reenact report html`: render a saved JSON report of `run` or `validate` (one run's, or
//! shards' merged) as one self-contained HTML page ([`crate::report::html`]).
//!
//! The report is read with a size bound ([`MAX_REPORT_BYTES`]); JSON that does not parse is an
//! error located in the file. Every string of the report is redacted again before rendering (a
//! report reenact wrote is redacted already: redaction is idempotent, and a hand-edited or older
//! report gets the same masking), and the page is written atomically: a temporary file in the
//! destination's folder, renamed over it.

use std::io::Read;
use std::path::{Path, PathBuf};

use clap::Args;
use serde_json::Value;

use crate::scenario::{Diagnostic, Span};

use super::error::Problem;
use super::{CliError, ErrorKind, Outcome, Output};

/// The largest report read: 64 MiB (10,000 scenarios with logs and timelines fit many times).
pub(super) const MAX_REPORT_BYTES: u64 = 64 * 1024 * 1024;

/// Source lines longer than this are not quoted under a parse error (a one-line report would
/// print whole).
const MAX_QUOTED_LINE: usize = 240;

/// Arguments of `report html`.
#[derive(Debug, Args)]
pub(super) struct HtmlArgs {
    /// The JSON report (`reenact run --format json` or `reenact validate --format json`);
    /// `-` reads standard input.
    #[arg(value_name = "REPORT.json")]
    report: PathBuf,
    /// Where to write the page (written atomically; its folder is created when missing)
    /// [default: standard output].
    #[arg(short, long, value_name = "PAGE.html")]
    output: Option<PathBuf>,
}

/// Run `report html`.
pub(super) fn html(args: HtmlArgs, cwd: &Path, out: &Output) -> Result<Outcome, CliError> {
    let (name, report) = read_json(&args.report, cwd)?;
    let mut report = run_or_validate(&name, report)?;
    super::report::redact_strings(&mut report, out);
    let page = crate::report::html::render(&report);
    match &args.output {
        None => out.stdout(&page),
        Some(path) => {
            write_atomically(&cwd.join(path), path, &page)?;
            let count = report
                .get("scenarios")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            out.stderr(&format!(
                "wrote `{}` ({count} scenario{})",
                path.display(),
                if count == 1 { "" } else { "s" }
            ));
        }
    }
    Ok(Outcome::Success)
}

/// The report's bytes, at most [`MAX_REPORT_BYTES`], and the name errors call it by.
fn read_report(path: &Path, cwd: &Path) -> Result<(String, Vec<u8>), CliError> {
    let stdin = path == Path::new("-");
    let name = if stdin {
        "<stdin>".to_owned()
    } else {
        path.display().to_string()
    };
    let failed = |err: std::io::Error| {
        CliError::invalid_input(format!("failed to read report `{name}`"))
            .with_source(err)
            .with_help("give a file `reenact run --format json > report.json` wrote")
    };
    let mut bytes = Vec::new();
    let limit = MAX_REPORT_BYTES + 1;
    if stdin {
        std::io::stdin()
            .lock()
            .take(limit)
            .read_to_end(&mut bytes)
            .map_err(failed)?;
    } else {
        std::fs::File::open(cwd.join(path))
            .and_then(|file| file.take(limit).read_to_end(&mut bytes))
            .map_err(failed)?;
    }
    if bytes.len() as u64 > MAX_REPORT_BYTES {
        return Err(CliError::invalid_input(format!(
            "report `{name}` is larger than {} MiB",
            MAX_REPORT_BYTES / (1024 * 1024)
        ))
        .with_help("render the shards' reports one by one, or select fewer scenarios"));
    }
    Ok((name, bytes))
}

/// A saved JSON report (a file, or stdin for `-`) and the name errors call it by: read with a
/// bound of [`MAX_REPORT_BYTES`], a syntax error located in it. Also what `report merge` reads
/// its shards with.
pub(super) fn read_json(path: &Path, cwd: &Path) -> Result<(String, Value), CliError> {
    let (name, bytes) = read_report(path, cwd)?;
    let report = parse_json(&name, &bytes)?;
    Ok((name, report))
}

/// `bytes` as JSON, a syntax error located in them.
fn parse_json(name: &str, bytes: &[u8]) -> Result<Value, CliError> {
    serde_json::from_slice(bytes).map_err(|err| parse_error(name, bytes, &err))
}

/// `report` when its `command` is `run` or `validate`.
fn run_or_validate(name: &str, report: Value) -> Result<Value, CliError> {
    match report.get("command").and_then(Value::as_str) {
        Some("run" | "validate") => Ok(report),
        command => {
            let what = match command {
                Some(command) => format!("its `command` is `{command}`"),
                None if report.is_object() => "it has no `command`".to_owned(),
                None => "it is not a JSON object".to_owned(),
            };
            Err(CliError::invalid_input(format!(
                "`{name}` is not a report of `reenact run` or `reenact validate`: {what}"
            ))
            .with_help("only run and validate reports (`--format json`) render as a page"))
        }
    }
}

/// A JSON syntax error, located in the report: source line and caret when the line is short
/// enough to quote, else `--> file:line:col`.
fn parse_error(name: &str, bytes: &[u8], err: &serde_json::Error) -> CliError {
    let help = "the report must be the JSON document `--format json` printed, whole";
    let (line, col) = (err.line(), err.column());
    let text = String::from_utf8_lossy(bytes);
    let start = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum::<usize>();
    let source_line = text[start..].lines().next().unwrap_or_default();
    if line == 0 || source_line.len() > MAX_QUOTED_LINE || !err.is_syntax() && !err.is_eof() {
        return CliError::invalid_input(format!("report `{name}` is not valid JSON"))
            .with_source(JsonError(err.to_string()))
            .with_help(help)
            .with_detail(Some(format!("  --> {name}:{line}:{col}")));
    }
    let col = col.max(1);
    let offset = start + source_line.floor_char_boundary(col - 1);
    let message = err.to_string();
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or(&message)
        .to_owned();
    let diagnostic = Diagnostic {
        message: format!("report `{name}` is not valid JSON: {message}"),
        span: Some(Span {
            start: offset,
            end: offset + 1,
            line,
            col,
        }),
        label: Some(message),
        help: Some(help.to_owned()),
        included: None,
    };
    CliError::several(
        ErrorKind::InvalidInput,
        vec![Problem::Located {
            name: name.to_owned(),
            text: text.into_owned(),
            diagnostic,
        }],
    )
}

/// A JSON error's text as an error cause.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct JsonError(String);

/// Write `page` to `path` atomically: a temporary file in the same folder, renamed over `path`.
/// Errors name the file as the user gave it (`shown`).
fn write_atomically(path: &Path, shown: &Path, page: &str) -> Result<(), CliError> {
    let failed = |err: std::io::Error| {
        CliError::from_error(
            ErrorKind::Environment,
            WriteError {
                path: shown.to_path_buf(),
                source: err,
            },
        )
        .with_help("check that the folder is writable and the disk not full")
    };
    if path.is_dir() {
        return Err(
            CliError::invalid_input(format!("`{}` is a folder", shown.display()))
                .with_help("name the page, e.g. `-o reports/report.html`"),
        );
    }
    if path.file_name().is_none() {
        return Err(
            CliError::invalid_input(format!("`{}` names no file", shown.display()))
                .with_help("name the page, e.g. `-o reports/report.html`"),
        );
    }
    if let Some(folder) = path
        .parent()
        .filter(|folder| !folder.as_os_str().is_empty())
    {
        std::fs::create_dir_all(folder).map_err(failed)?;
    }
    crate::report::write_atomically(path, page.as_bytes()).map_err(failed)
}

/// The page could not be written.
#[derive(Debug, thiserror::Error)]
#[error("failed to write `{}`", path.display())]
struct WriteError {
    path: PathBuf,
    #[source]
    source: std::io::Error,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// What `report html` makes of a report's bytes.
    fn parse_report(name: &str, bytes: &[u8]) -> Result<Value, CliError> {
        parse_json(name, bytes).and_then(|report| run_or_validate(name, report))
    }

    #[test]
    fn strings_and_keys_are_redacted_at_any_depth() {
        let secret = "password=hunter2hunter2";
        // As deep as parsing lets a report be (serde_json stops at 128 levels).
        let mut deep = json!(secret);
        for _ in 0..100 {
            deep = json!([deep]);
        }
        let mut report = json!({"command": "run", "scenarios": [{"target_log": [secret]}],
                                "deep": deep, secret: 1});
        let out = Output::new(crate::cli::ColorChoice::Never);
        super::super::report::redact_strings(&mut report, &out);
        let text = serde_json::to_string(&report).unwrap_or_default();
        assert!(!text.contains("hunter2"), "a secret survived");
        assert!(text.contains("password=[redacted]"));
    }

    #[test]
    fn a_parse_error_points_into_the_file() {
        let err = parse_report("r.json", b"{\n  \"command\": \"run\",\n  oops\n}").unwrap_err();
        let text = err.render(false);
        assert!(text.contains("--> r.json:3:3"), "{text}");
        assert!(text.contains("oops"), "{text}");
        assert_eq!(err.exit_code(), crate::exit_codes::INVALID_INPUT);
        // A long line is not quoted.
        let long = format!("{{\"command\": \"{}\" x}}", "a".repeat(1000));
        let text = parse_report("r.json", long.as_bytes())
            .unwrap_err()
            .render(false);
        assert!(
            text.contains("--> r.json:1:") && !text.contains("aaaa"),
            "{text}"
        );
    }

    #[test]
    fn a_deeply_nested_report_is_an_error_not_a_crash() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let text = parse_report("r.json", deep.as_bytes())
            .unwrap_err()
            .render(false);
        assert!(text.contains("recursion limit exceeded"), "{text}");
    }

    #[test]
    fn only_run_and_validate_reports_are_rendered() {
        for (bytes, says) in [
            (&b"{\"command\": \"list\"}"[..], "its `command` is `list`"),
            (b"{}", "it has no `command`"),
            (b"[1]", "it is not a JSON object"),
        ] {
            let text = parse_report("r.json", bytes).unwrap_err().render(false);
            assert!(text.contains(says), "{text}");
        }
        assert!(parse_report("r.json", b"{\"command\": \"validate\"}").is_ok());
    }
}
