//! Machine-readable reports of `run` and `validate`, the before/after behaviour diff, and the
//! kinds of report they are written as ([`ReportKind`]: JSON, JUnit XML, Markdown, HTML).
//!
//! The JSON shapes here are the documented, stable output of `--format json` (see
//! `docs/reports.md` and `report.schema.json`); everything in them is normalized and redacted.
//! The other kinds are rendered from that JSON document, so a merged report
//! ([`merge`]) renders like one from a single run.

pub(crate) mod junit;
pub(crate) mod markdown;
pub(crate) mod merge;
pub(crate) mod summary;
pub(crate) mod timeline;

pub(crate) mod html;

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use crate::secrets::Secrets;
use crate::snapshot;
use crate::verdict::{Behaviour, ExpectationResult, Verdict};

pub(crate) use timeline::TimelineEntry;

/// Version of the JSON report shapes.
pub(crate) const REPORT_VERSION: u32 = 1;

/// The JSON Schema of run and validate reports (`reenact schema report`).
pub(crate) const REPORT_SCHEMA: &str = include_str!("report/report.schema.json");

/// The reenact version reports name.
pub(crate) const REENACT_VERSION: &str = env!("CARGO_PKG_VERSION");

/// How many of a log's last lines a report keeps.
const LOG_TAIL: usize = 20;

/// A kind of report file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReportKind {
    /// The JSON document of `--format json`.
    Json,
    /// JUnit XML, for CI systems.
    Junit,
    /// A Markdown summary, for CI step summaries and ticket comments.
    Markdown,
    /// A self-contained HTML page.
    Html,
}

impl ReportKind {
    /// Every kind, with the name `--report KIND=PATH` takes.
    pub(crate) const ALL: [(&'static str, ReportKind); 4] = [
        ("json", ReportKind::Json),
        ("junit", ReportKind::Junit),
        ("markdown", ReportKind::Markdown),
        ("html", ReportKind::Html),
    ];

    /// The kind called `name`.
    pub(crate) fn named(name: &str) -> Option<ReportKind> {
        Self::ALL
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, kind)| *kind)
    }
}

/// `report` (a run or validate report as JSON) rendered as `kind`.
pub(crate) fn render(kind: ReportKind, report: &Value) -> io::Result<String> {
    Ok(match kind {
        ReportKind::Json => {
            let mut text = serde_json::to_string_pretty(report).map_err(io::Error::other)?;
            text.push('\n');
            text
        }
        ReportKind::Junit => junit::render(report),
        ReportKind::Markdown => markdown::render(report),
        ReportKind::Html => html::render(report),
    })
}

/// Write `report` as `kind` to `path` atomically: into a temporary file in the same folder,
/// renamed over `path` once complete, so a reader never sees half a report.
pub(crate) fn write_report(kind: ReportKind, report: &Value, path: &Path) -> io::Result<()> {
    let text = render(kind, report)?;
    write_atomically(path, text.as_bytes())
}

/// Write `bytes` to `path` through a temporary file in the same folder and a rename.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut file = tempfile::NamedTempFile::new_in(folder)?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|err| err.error)?;
    Ok(())
}

/// The wall-clock time now, RFC 3339 in UTC to the second (a report's `date`).
pub(crate) fn now_utc() -> String {
    format!(
        "{}Z",
        crate::timestamp::format_utc_seconds(time::OffsetDateTime::now_utc())
    )
}

/// The entity of a character that is markup in both XML and HTML (`&`, `<`, `>`), for the
/// JUnit and Markdown renderers (each escapes more of its own).
pub(crate) fn markup_entity(c: char) -> Option<&'static str> {
    match c {
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        _ => None,
    }
}

/// The last lines of a log, redacted with `secrets`.
pub(crate) fn log_tail(lines: &[String], secrets: &Secrets) -> Vec<String> {
    lines[lines.len().saturating_sub(LOG_TAIL)..]
        .iter()
        .map(|line| secrets.redact(line))
        .collect()
}

/// `reenact run --format json`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RunReport {
    /// Report shape version.
    pub version: u32,
    /// Always `run`.
    pub command: &'static str,
    /// The reenact version that made the report.
    pub reenact: &'static str,
    /// When the report was made (wall clock, RFC 3339 UTC).
    pub date: String,
    /// The target label.
    pub target: String,
    /// One item per scenario.
    pub scenarios: Vec<RunItem>,
}

/// Outcome of one scenario in `run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Outcome {
    /// Expectations held and the snapshot matched (or was accepted).
    Passed,
    /// An expectation, a step or the snapshot failed.
    Failed,
    /// The run could not be carried out (environment).
    Error,
    /// Not run: `--fail-fast` stopped the suite first (see `error`).
    NotRun,
}

/// One scenario in a run report.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RunItem {
    /// Scenario id.
    pub id: String,
    /// Scenario title.
    pub title: String,
    /// Ticket, if any.
    pub ticket: Option<String>,
    /// The scenario's severity (`sev1` … `sev4`), if it has one.
    pub severity: Option<&'static str>,
    /// The scenario's tags.
    pub tags: Vec<String>,
    /// Scenario file.
    pub file: String,
    /// The outcome.
    pub outcome: Outcome,
    /// Expectation results.
    pub expectations: Vec<ExpectationResult>,
    /// The first failed step.
    pub failed_step: Option<FailedStep>,
    /// `matches`, `accepted`, `new`, `differs`, `off` (the scenario keeps no snapshot), or
    /// `skipped` (when the run errored or did not run).
    pub snapshot: String,
    /// Diff against the accepted snapshot, when it differs.
    pub snapshot_diff: Option<String>,
    /// Whether the scenario (its file or a file it names) changed since the accepted snapshot
    /// was recorded, by the hash the snapshot's provenance holds.
    pub snapshot_scenario_changed: bool,
    /// Environment error, when the outcome is `error`; why not, when it is `not-run`.
    pub error: Option<String>,
    /// Per mock, requests received after its journal bound was reached (not journaled).
    pub journal_dropped: BTreeMap<String, u64>,
    /// The target's last output lines (at most 20), redacted.
    pub target_log: Vec<String>,
    /// Each mock container's last output lines (at most 20), redacted; absent in-process.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub mock_logs: BTreeMap<String, Vec<String>>,
    /// The run's steps, deliveries, mock calls and faults ([`timeline::timeline`]).
    pub timeline: Vec<TimelineEntry>,
    /// Wall-clock milliseconds.
    pub duration_ms: u64,
}

/// A failed flow step.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct FailedStep {
    /// Step name.
    pub name: String,
    /// Why it failed.
    pub reason: String,
}

/// `reenact validate --format json`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ValidateReport {
    /// Report shape version.
    pub version: u32,
    /// Always `validate`.
    pub command: &'static str,
    /// The reenact version that made the report.
    pub reenact: &'static str,
    /// When the report was made (wall clock, RFC 3339 UTC).
    pub date: String,
    /// Label of the before target.
    pub before: String,
    /// Label of the after target.
    pub after: String,
    /// Runs of the before build per scenario.
    pub runs: u32,
    /// Runs of the after build per scenario.
    pub after_runs: u32,
    /// One item per scenario.
    pub scenarios: Vec<ValidateItem>,
}

/// One scenario in a validate report.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ValidateItem {
    /// Scenario id.
    pub id: String,
    /// Scenario title.
    pub title: String,
    /// Ticket, if any.
    pub ticket: Option<String>,
    /// The scenario's severity (`sev1` … `sev4`), if it has one.
    pub severity: Option<&'static str>,
    /// The scenario's tags.
    pub tags: Vec<String>,
    /// Scenario file.
    pub file: String,
    /// The verdict; `null` when a run could not be carried out or the scenario was not run
    /// (see `error`).
    pub verdict: Option<Verdict>,
    /// Environment error, or why the scenario was not run (`--fail-fast`).
    pub error: Option<String>,
    /// The before build.
    pub before: Option<BuildSummary>,
    /// The after build.
    pub after: Option<BuildSummary>,
    /// What changed from before to after, noise removed.
    pub diff: Option<BehaviourDiff>,
}

/// How one build behaved over its runs.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct BuildSummary {
    /// Behaviour of each run.
    pub behaviours: Vec<Behaviour>,
    /// Expectation results of the first run.
    pub expectations: Vec<ExpectationResult>,
    /// First failed step of the first run.
    pub failed_step: Option<FailedStep>,
    /// What the runs of this build disagreed on (expectations that held in some runs only,
    /// steps that failed in some runs only); not empty makes the verdict `flaky`.
    pub disagreements: Vec<String>,
    /// The first run's timeline ([`timeline::timeline`]).
    pub timeline: Vec<TimelineEntry>,
    /// The target's last output lines in the first run (at most 20), redacted.
    pub target_log: Vec<String>,
}

/// The behaviour difference between two builds.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct BehaviourDiff {
    /// JSON pointers into the normalized observation that differ between repeated runs of the
    /// same build; they are masked before comparing builds.
    pub noise: Vec<String>,
    /// Per mock, request kinds whose count changed: `POST /api/bills: 2 → 3`.
    pub calls: BTreeMap<String, Vec<String>>,
    /// The same changes in words, per mock: `the fix removed 1 duplicate `POST /api/bills` (2 →
    /// 1)`.
    pub call_summary: BTreeMap<String, Vec<String>>,
    /// Unified diff of the normalized observations, before → after (empty when equal).
    pub text: String,
}

/// Compare the normalized observations of two builds (one or more runs each).
pub(crate) fn behaviour_diff(before: &[Value], after: &[Value]) -> BehaviourDiff {
    let mut noise: Vec<String> = Vec::new();
    for runs in [before, after] {
        for pair in runs.windows(2) {
            for path in snapshot::differing_paths(&pair[0], &pair[1]) {
                if !noise.contains(&path) {
                    noise.push(path);
                }
            }
        }
    }
    noise.sort();
    let (Some(first_before), Some(first_after)) = (before.first(), after.first()) else {
        return BehaviourDiff::default();
    };
    let mut b = first_before.clone();
    let mut a = first_after.clone();
    snapshot::mask(&mut b, &noise);
    snapshot::mask(&mut a, &noise);
    let (calls, call_summary) = call_changes(&b, &a);
    let text = if a == b {
        String::new()
    } else {
        snapshot::diff(
            &snapshot::render(&b),
            &snapshot::render(&a),
            "before",
            "after",
        )
    };
    BehaviourDiff {
        noise,
        calls,
        call_summary,
        text,
    }
}

/// Per mock, per request kind (`METHOD path`), the requests of that kind in the order the mock
/// received them, each reduced to what identifies it (method, path, query, body).
fn calls_by_kind(document: &Value) -> BTreeMap<String, BTreeMap<String, Vec<Value>>> {
    let mut out: BTreeMap<String, BTreeMap<String, Vec<Value>>> = BTreeMap::new();
    if let Some(mocks) = document.get("mocks").and_then(Value::as_object) {
        for (name, mock) in mocks {
            let kinds = out.entry(name.clone()).or_default();
            for request in mock
                .get("requests")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let field = |key: &str| request.get(key).cloned().unwrap_or(Value::Null);
                let kind = format!(
                    "{} {}",
                    request.get("method").and_then(Value::as_str).unwrap_or("?"),
                    request.get("path").and_then(Value::as_str).unwrap_or("?")
                );
                kinds.entry(kind).or_default().push(Value::Array(vec![
                    field("method"),
                    field("path"),
                    field("query"),
                    field("body"),
                ]));
            }
        }
    }
    out
}

/// How many of `requests` repeat an earlier one exactly.
fn repeats(requests: &[Value]) -> usize {
    requests
        .iter()
        .enumerate()
        .filter(|(index, request)| requests[..*index].contains(request))
        .count()
}

/// A change in the number of `kind` calls, in words: `the fix removed 1 duplicate `POST
/// /bills`` when the build before sent the same request more often, else fewer / more calls
/// (more of a request is not called a duplicate: polls and retries repeat on purpose).
fn call_change_words(kind: &str, before: &[Value], after: &[Value]) -> String {
    let (x, y) = (before.len(), after.len());
    let plural = |n: usize, word: &str| {
        if n == 1 {
            format!("1 {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    if x > y {
        let n = x - y;
        if repeats(before) >= n {
            format!(
                "the fix removed {} `{kind}` ({x} → {y})",
                plural(n, "duplicate")
            )
        } else if y == 0 {
            format!("the fix no longer sends `{kind}` ({x} → 0)")
        } else {
            format!("the fix sends {n} fewer `{kind}` ({x} → {y})")
        }
    } else {
        let n = y - x;
        if x == 0 {
            format!("the fix sends `{kind}`, which the build before did not (0 → {y})")
        } else {
            format!("the fix sends {n} more `{kind}` ({x} → {y})")
        }
    }
}

/// Per mock, the request kinds whose count changed: as counts (`POST /bills: 2 → 1`) and in
/// words (`the fix removed 1 duplicate `POST /bills` (2 → 1)`).
fn call_changes(
    before: &Value,
    after: &Value,
) -> (BTreeMap<String, Vec<String>>, BTreeMap<String, Vec<String>>) {
    let b = calls_by_kind(before);
    let a = calls_by_kind(after);
    let (mut counts, mut words) = (BTreeMap::new(), BTreeMap::new());
    let mocks: std::collections::BTreeSet<&String> = b.keys().chain(a.keys()).collect();
    for mock in mocks {
        let empty = BTreeMap::new();
        let (bc, ac) = (b.get(mock).unwrap_or(&empty), a.get(mock).unwrap_or(&empty));
        let kinds: std::collections::BTreeSet<&String> = bc.keys().chain(ac.keys()).collect();
        let (mut mock_counts, mut mock_words) = (Vec::new(), Vec::new());
        for kind in kinds {
            let none = Vec::new();
            let (x, y) = (bc.get(kind).unwrap_or(&none), ac.get(kind).unwrap_or(&none));
            if x.len() != y.len() {
                mock_counts.push(format!("{kind}: {} → {}", x.len(), y.len()));
                mock_words.push(call_change_words(kind, x, y));
            }
        }
        if !mock_counts.is_empty() {
            counts.insert(mock.clone(), mock_counts);
            words.insert(mock.clone(), mock_words);
        }
    }
    (counts, words)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(calls: &[&str], at: &str) -> Value {
        let requests: Vec<Value> = calls
            .iter()
            .map(|c| {
                let (m, p) = c.split_once(' ').unwrap();
                json!({"method": m, "path": p, "at": at})
            })
            .collect();
        json!({"mocks": {"erp": {"requests": requests}}})
    }

    #[test]
    fn noise_is_masked_and_call_changes_counted() {
        let before = [doc(&["POST /bills"], "t1"), doc(&["POST /bills"], "t2")];
        let after = [doc(&["POST /bills", "POST /bills"], "t3")];
        let diff = behaviour_diff(&before, &after);
        assert_eq!(diff.noise, ["/mocks/erp/requests/0/at"]);
        assert_eq!(diff.calls["erp"], ["POST /bills: 1 → 2"]);
        assert_eq!(
            diff.call_summary["erp"],
            ["the fix sends 1 more `POST /bills` (1 → 2)"]
        );
        let added: Vec<&str> = diff
            .text
            .lines()
            .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
            .map(|l| l[1..].trim())
            .collect();
        assert!(added.contains(&"\"method\": \"POST\","), "{}", diff.text);
        assert!(
            !diff.text.contains("\"at\": \"t1\""),
            "noise leaked: {}",
            diff.text
        );
    }

    #[test]
    fn call_changes_in_words_table() {
        let request =
            |path: &str, body: Value| json!({"method": "POST", "path": path, "body": body});
        let bill = |n: u32| request("/bills", json!({ "number": n }));
        let cases: &[(Vec<Value>, Vec<Value>, &str)] = &[
            (
                vec![bill(1), bill(1)],
                vec![bill(1)],
                "the fix removed 1 duplicate `POST /bills` (2 → 1)",
            ),
            (
                vec![bill(1), bill(1), bill(1)],
                vec![bill(1)],
                "the fix removed 2 duplicates `POST /bills` (3 → 1)",
            ),
            (
                vec![bill(1), bill(2)],
                vec![bill(1)],
                "the fix sends 1 fewer `POST /bills` (2 → 1)",
            ),
            (
                vec![bill(1), bill(2)],
                vec![],
                "the fix no longer sends `POST /bills` (2 → 0)",
            ),
            (
                vec![],
                vec![bill(1)],
                "the fix sends `POST /bills`, which the build before did not (0 → 1)",
            ),
            (
                vec![bill(1)],
                vec![bill(1), bill(2), bill(3)],
                "the fix sends 2 more `POST /bills` (1 → 3)",
            ),
        ];
        for (before, after, expected) in cases {
            let doc = |requests: &Vec<Value>| json!({"mocks": {"erp": {"requests": requests}}});
            let diff = behaviour_diff(&[doc(before)], &[doc(after)]);
            assert_eq!(diff.call_summary["erp"], [*expected]);
        }
    }

    #[test]
    fn identical_builds_have_no_diff() {
        let runs = [doc(&["GET /a"], "t")];
        let diff = behaviour_diff(&runs, &runs);
        assert!(diff.text.is_empty() && diff.calls.is_empty() && diff.noise.is_empty());
    }
}
