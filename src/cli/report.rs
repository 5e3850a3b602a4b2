//! Report files and the `reenact report` subcommands: `--report KIND=PATH` (checked before
//! anything runs, written atomically after), the report printed by `--format`, and `report
//! merge`, which combines the JSON reports of shards into one.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use serde_json::Value;

use crate::report::{self, ReportKind, merge::Merged};

use super::{CliError, ErrorKind, Outcome, Output, ReportFormat};

/// `--report KIND=PATH`, shared by `run`, `validate` and `report merge`.
#[derive(Debug, Default, Args)]
pub(crate) struct ReportFiles {
    /// Also write a report to a file, whatever `--format` is: KIND=PATH with KIND `json`,
    /// `junit` or `markdown` (repeatable; the folder must exist; written atomically).
    #[arg(long = "report", value_name = "KIND=PATH")]
    report: Vec<String>,
}

/// A report file asked for, checked.
#[derive(Debug, Clone)]
pub(crate) struct ReportFile {
    kind: ReportKind,
    path: PathBuf,
}

impl ReportFiles {
    /// The report files asked for, each kind known and each folder existing, relative paths
    /// taken from `cwd`: checked before anything runs, so a typo costs no suite.
    pub(crate) fn check(&self, cwd: &Path) -> Result<Vec<ReportFile>, CliError> {
        self.report
            .iter()
            .map(|value| report_file(value, cwd))
            .collect()
    }
}

/// The kinds `--report` takes.
const DOCUMENTED_KINDS: &str = "`json`, `junit`, `markdown`, `html`";

fn report_file(value: &str, cwd: &Path) -> Result<ReportFile, CliError> {
    let invalid =
        |why: String| CliError::invalid_input(format!("invalid `--report {value}`: {why}"));
    let Some((name, path)) = value.split_once('=') else {
        return Err(invalid("expected KIND=PATH".into()).with_help(format!(
            "e.g. `--report junit=reports/junit.xml`; KIND is one of {DOCUMENTED_KINDS}"
        )));
    };
    let Some(kind) = ReportKind::named(name) else {
        let names: Vec<&str> = ReportKind::ALL.iter().map(|(name, _)| *name).collect();
        let help = match crate::scenario::suggest::did_you_mean(name, &names) {
            Some(known) => format!("did you mean `{known}`? KIND is one of {DOCUMENTED_KINDS}"),
            None => format!("KIND is one of {DOCUMENTED_KINDS}"),
        };
        return Err(invalid(format!("unknown report kind `{name}`")).with_help(help));
    };
    if path.is_empty() {
        return Err(invalid("the path is empty".into())
            .with_help("e.g. `--report junit=reports/junit.xml`"));
    }
    let path = cwd.join(path);
    if path.is_dir() {
        return Err(invalid(format!("`{}` is a folder", path.display()))
            .with_help("name a file in it, e.g. `--report junit=reports/junit.xml`"));
    }
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => cwd.to_path_buf(),
    };
    if !folder.is_dir() {
        return Err(
            invalid(format!("folder `{}` does not exist", folder.display())).with_help(format!(
                "create it first (`mkdir -p {}`) or write the report elsewhere",
                folder.display()
            )),
        );
    }
    Ok(ReportFile { kind, path })
}

/// Print `report` on stdout as `format` asks (nothing for the human output, which the command
/// prints itself), then write every report file. Every string of the report is redacted once
/// more with every secret `out` learned, in case a run's own redaction missed one.
pub(crate) fn emit(
    format: ReportFormat,
    files: &[ReportFile],
    report: &Value,
    out: &Output,
) -> Result<(), CliError> {
    let mut report = report.clone();
    redact_strings(&mut report, out);
    if let Some(kind) = format.kind() {
        out.stdout(&rendered(kind, &report)?);
    }
    for file in files {
        report::write_report(file.kind, &report, &file.path).map_err(|err| {
            CliError::environment(format!("failed to write report `{}`", file.path.display()))
                .with_source(err)
                .with_help("check that the folder is writable and the disk not full")
        })?;
    }
    Ok(())
}

/// Redact every string of `value`, keys too, with every secret `out` learned and the known
/// shapes; walked with a stack rather than recursion (parsing stops at 128 levels anyway).
pub(super) fn redact_strings(value: &mut Value, out: &Output) {
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        match value {
            Value::String(text) => *text = out.redacted(text),
            Value::Array(items) => stack.extend(items.iter_mut()),
            Value::Object(fields) => {
                let keys: Vec<String> = fields.keys().cloned().collect();
                for key in keys {
                    let redacted = out.redacted(&key);
                    if redacted != key
                        && let Some(inner) = fields.remove(&key)
                    {
                        fields.insert(redacted, inner);
                    }
                }
                stack.extend(fields.values_mut());
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
}

fn rendered(kind: ReportKind, report: &Value) -> Result<String, CliError> {
    report::render(kind, report).map_err(|err| {
        CliError::new(ErrorKind::Internal, "failed to render the report").with_source(err)
    })
}

/// `reenact report ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum ReportCommand {
    /// Combine the JSON reports of shards (`--partition`) into one report.
    #[command(
        after_help = "Examples:\n  reenact report merge shard-1.json shard-2.json shard-3.json shard-4.json -o report.json\n  reenact report merge shards/*.json --format markdown >> \"$GITHUB_STEP_SUMMARY\"\n  reenact report merge shards/*.json -o report.json --report junit=junit.xml\n\nThe shards must come from the same command (`run` or `validate`) against the same target(s);\na scenario in two shards is an error. Scenarios are ordered by file, then id; `date` is the\nlatest shard's. Exit code as `run` / `validate` would give for the merged results: 0 all\npassed (all fixed), 1 a failure, 3 a scenario that could not run; 2 for unreadable shards."
    )]
    Merge(MergeArgs),
    /// Render a JSON report of `run` or `validate` as one self-contained HTML page.
    #[command(
        after_help = "Examples:\n  reenact run scenarios/ --format json > report.json\n  reenact report html report.json -o report.html\n  reenact validate scenarios/ --before ledger-sync@1.4.2 --after ledger-sync@1.4.3 --format json \\\n      | reenact report html - -o validate.html\n\nThe page is one file with nothing to fetch (inline style and script, no URL, a\nContent-Security-Policy of `default-src 'none'`): open it in any browser, offline, or attach\nit to a ticket. It shows the verdict table with filters, and per scenario its expectations,\ntimeline on the virtual clock, diffs and logs. Reports up to 64 MiB; every string is redacted\nagain before rendering."
    )]
    Html(super::report_html::HtmlArgs),
}

/// Arguments of `report merge`.
#[derive(Debug, Args)]
pub(crate) struct MergeArgs {
    /// The shards' JSON reports (`--format json` or `--report json=PATH` of `run` or `validate`).
    #[arg(required = true, value_name = "SHARD.json")]
    shards: Vec<PathBuf>,
    /// Write the merged JSON report to this file (atomically) instead of stdout.
    #[arg(short = 'o', long, value_name = "OUT")]
    output: Option<PathBuf>,
    /// Output format on stdout [default: json, or nothing with `-o`].
    #[arg(long, value_enum)]
    format: Option<ReportFormat>,
    #[command(flatten)]
    reports: ReportFiles,
}

/// Run `reenact report ...`.
pub(super) fn report(
    command: ReportCommand,
    cwd: &Path,
    out: &Output,
) -> Result<Outcome, CliError> {
    match command {
        ReportCommand::Merge(args) => merge(args, cwd, out),
        ReportCommand::Html(args) => super::report_html::html(args, cwd, out),
    }
}

fn merge(args: MergeArgs, cwd: &Path, out: &Output) -> Result<Outcome, CliError> {
    let mut files = args.reports.check(cwd)?;
    if let Some(output) = &args.output {
        let value = format!("json={}", output.display());
        files.insert(
            0,
            report_file(&value, cwd).map_err(|_| output_error(output, cwd))?,
        );
    }
    let mut shards = Vec::with_capacity(args.shards.len());
    for path in &args.shards {
        shards.push(super::report_html::read_json(path, cwd)?);
    }
    let Merged { report, outcome } = report::merge::merge(shards).map_err(|err| {
        CliError::from_error(ErrorKind::InvalidInput, err)
            .with_help("merge the shards of one CI run: the same command, target(s) and runs")
    })?;
    let format = args.format.or(match args.output {
        None => Some(ReportFormat::Json),
        Some(_) => None,
    });
    if format == Some(ReportFormat::Human) {
        out.stdout(&report::markdown::counts_line(&report));
    }
    emit(format.unwrap_or(ReportFormat::Human), &files, &report, out)?;
    Ok(match outcome {
        report::merge::MergedOutcome::Success => Outcome::Success,
        report::merge::MergedOutcome::Failed => Outcome::Failed,
        report::merge::MergedOutcome::Environment => {
            Outcome::ErrorsInReport(ErrorKind::Environment)
        }
    })
}

fn output_error(output: &Path, cwd: &Path) -> CliError {
    let folder = cwd
        .join(output)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| cwd.to_path_buf());
    CliError::invalid_input(format!(
        "invalid `-o {}`: folder `{}` does not exist, or it is a folder",
        output.display(),
        folder.display()
    ))
    .with_help("name a file in a folder that exists")
}
