//! Machine-readable reports of `run` and `validate`, and the before/after behaviour diff.
//!
//! The JSON shapes here are the documented, stable output of `--format json` (see
//! `docs/reports.md`); everything in them is normalized and redacted.

pub(crate) mod html;

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::snapshot;
use crate::verdict::{Behaviour, ExpectationResult, Verdict};

/// Version of the JSON report shapes.
pub(crate) const REPORT_VERSION: u32 = 1;

/// `reenact run --format json`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RunReport {
    /// Report shape version.
    pub version: u32,
    /// Always `run`.
    pub command: &'static str,
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
