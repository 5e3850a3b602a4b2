//! What the JUnit and Markdown reports say of one scenario item of a run or validate report
//! (as JSON): its status, a one-line reason, the lines that explain a failure, and its diff.
//! Both read the JSON document, so a merged report renders like one from a single machine.

use serde_json::Value;

/// How a scenario item ended, in the terms every report kind shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// `run`: passed; `validate`: fixed.
    Passed,
    /// `run`: failed; `validate`: any verdict but fixed.
    Failed,
    /// Could not be run (environment).
    Error,
    /// Not run (`--fail-fast`).
    Skipped,
}

/// Whether `report` is a validate report (else a run report).
pub(crate) fn is_validate(report: &Value) -> bool {
    report["command"] == "validate"
}

/// The status of `item` of a report.
pub(crate) fn status(item: &Value, validate: bool) -> Status {
    let not_run = text(item, "error").starts_with("not run:");
    if validate {
        return match item["verdict"].as_str() {
            Some("fixed") => Status::Passed,
            Some(_) => Status::Failed,
            None if not_run => Status::Skipped,
            None => Status::Error,
        };
    }
    match item["outcome"].as_str() {
        Some("passed") => Status::Passed,
        Some("failed") => Status::Failed,
        Some("not-run") => Status::Skipped,
        _ => Status::Error,
    }
}

/// The verdict or outcome of `item` as the reports name it (`not-run` and `error` for a
/// validate item without a verdict).
pub(crate) fn label(item: &Value, validate: bool) -> String {
    let field = if validate { "verdict" } else { "outcome" };
    match item[field].as_str() {
        Some(label) => label.to_owned(),
        None if status(item, validate) == Status::Skipped => "not-run".into(),
        None => "error".into(),
    }
}

/// The string field `key` of `value`, or empty.
pub(crate) fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key].as_str().unwrap_or_default()
}

/// One line saying why `item` ended as it did (empty for a run item that passed).
pub(crate) fn reason(item: &Value, validate: bool) -> String {
    match status(item, validate) {
        Status::Error | Status::Skipped => return text(item, "error").to_owned(),
        Status::Passed if !validate => return String::new(),
        _ => {}
    }
    if !validate {
        return failure_lines(item, false)
            .into_iter()
            .next()
            .unwrap_or_else(|| "failed".into());
    }
    let after_failure =
        || first_failure(&item["after"]).map_or_else(String::new, |why| format!(": after, {why}"));
    match text(item, "verdict") {
        "fixed" => "fails before the fix, holds after it".into(),
        "not-reproduced" => {
            "already holds before the fix: the scenario does not capture the bug".into()
        }
        "still-failing" => format!("fails before and after the fix{}", after_failure()),
        "regressed" => format!("held before the fix, fails after it{}", after_failure()),
        "flaky" => {
            let disagreement = ["before", "after"]
                .iter()
                .find_map(|build| item[build]["disagreements"].as_array()?.first()?.as_str());
            match disagreement {
                Some(what) => format!("runs of one build disagree: {what}"),
                None => "runs of one build disagree".into(),
            }
        }
        other => other.to_owned(),
    }
}

/// The first failed step or expectation of a run item or build summary, in words.
fn first_failure(run: &Value) -> Option<String> {
    if let Some(step) = run["failed_step"].as_object() {
        return Some(format!(
            "step `{}` failed: {}",
            step.get("name").and_then(Value::as_str).unwrap_or_default(),
            step.get("reason")
                .and_then(Value::as_str)
                .unwrap_or_default()
        ));
    }
    failed_expectations(run).into_iter().next()
}

/// `expectation `NAME` failed: DETAIL` for each failed expectation of a run or build.
fn failed_expectations(run: &Value) -> Vec<String> {
    run["expectations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["passed"] == false)
        .map(|e| {
            format!(
                "expectation `{}` failed: {}",
                text(e, "name"),
                text(e, "detail")
            )
        })
        .collect()
}

/// The lines that explain a failure of `item`: failed steps and expectations, the snapshot (run)
/// or each build's and the call changes in words (validate).
pub(crate) fn failure_lines(item: &Value, validate: bool) -> Vec<String> {
    let mut lines = Vec::new();
    if !validate {
        lines.extend(first_failure(item).filter(|_| item["failed_step"].is_object()));
        lines.extend(failed_expectations(item));
        match text(item, "snapshot") {
            "new" => lines.push("no accepted snapshot yet (`.snap.new` written)".into()),
            "differs" => lines.push("the observation differs from the accepted snapshot".into()),
            _ => {}
        }
        if item["snapshot_scenario_changed"] == true {
            lines.push("the scenario changed since its snapshot was accepted".into());
        }
        return lines;
    }
    for build in ["before", "after"] {
        let summary = &item[build];
        if let Some(step) = summary["failed_step"].as_object() {
            lines.push(format!(
                "{build}: step `{}` failed: {}",
                step.get("name").and_then(Value::as_str).unwrap_or_default(),
                step.get("reason")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
            ));
        }
        lines.extend(
            failed_expectations(summary)
                .into_iter()
                .map(|line| format!("{build}: {line}")),
        );
        for disagreement in summary["disagreements"].as_array().into_iter().flatten() {
            lines.push(format!(
                "{build}, runs disagree: {}",
                disagreement.as_str().unwrap_or_default()
            ));
        }
    }
    if let Some(mocks) = item["diff"]["call_summary"].as_object() {
        for (mock, changes) in mocks {
            for change in changes.as_array().into_iter().flatten() {
                lines.push(format!(
                    "mock `{mock}`: {}",
                    change.as_str().unwrap_or_default()
                ));
            }
        }
    }
    lines
}

/// The diff of `item`: against the accepted snapshot (run) or before → after (validate).
pub(crate) fn diff(item: &Value, validate: bool) -> Option<&str> {
    let diff = if validate {
        item["diff"]["text"].as_str()
    } else {
        item["snapshot_diff"].as_str()
    };
    diff.filter(|text| !text.is_empty())
}

/// At most `limit` lines of `text`, and a last line saying how many were left out.
pub(crate) fn truncated(text: &str, limit: usize) -> String {
    let total = text.lines().count();
    if total <= limit {
        return text.to_owned();
    }
    let mut kept: Vec<&str> = text.lines().take(limit).collect();
    let note = format!(
        "… {} more lines left out (at most {limit} shown; the JSON report has them all)",
        total - limit
    );
    kept.push(&note);
    kept.join("\n")
}

/// The outcomes of `run`, in the order reports list them.
pub(crate) const RUN_STATUSES: &[&str] = &["passed", "failed", "error", "not-run"];
/// The verdicts of `validate` (and `error` / `not-run` for a `null` verdict), in order.
pub(crate) const VALIDATE_STATUSES: &[&str] = &[
    "fixed",
    "not-reproduced",
    "still-failing",
    "regressed",
    "flaky",
    "error",
    "not-run",
];

/// `N passed, N failed, …` (run) or `N fixed, N still-failing, …` (validate), with the total.
pub(crate) fn counts(report: &Value) -> String {
    let validate = is_validate(report);
    let items = report["scenarios"]
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    let labels = if validate {
        VALIDATE_STATUSES
    } else {
        RUN_STATUSES
    };
    let parts: Vec<String> = labels
        .iter()
        .filter_map(|wanted| {
            let n = items
                .iter()
                .filter(|item| label(item, validate) == *wanted)
                .count();
            let always = matches!(*wanted, "passed" | "failed" | "fixed");
            (n > 0 || always).then(|| format!("{n} {wanted}"))
        })
        .collect();
    format!("{} scenario(s): {}", items.len(), parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn status_reason_and_counts_of_run_and_validate_items() {
        let run = json!({"command": "run", "scenarios": [
            {"outcome": "passed", "error": null},
            {"outcome": "failed", "error": null, "failed_step": null, "snapshot": "matches",
             "expectations": [{"name": "one bill", "passed": false, "detail": "2 bills"}]},
            {"outcome": "not-run", "error": "not run: `--fail-fast` stopped the suite"}
        ]});
        let items = run["scenarios"].as_array().unwrap();
        let statuses: Vec<Status> = items.iter().map(|i| status(i, false)).collect();
        assert_eq!(statuses, [Status::Passed, Status::Failed, Status::Skipped]);
        assert_eq!(
            reason(&items[1], false),
            "expectation `one bill` failed: 2 bills"
        );
        assert_eq!(counts(&run), "3 scenario(s): 1 passed, 1 failed, 1 not-run");
        let validate = json!({"command": "validate", "scenarios": [
            {"verdict": "still-failing", "error": null,
             "before": {"failed_step": null, "expectations": [], "disagreements": []},
             "after": {"failed_step": {"name": "export", "reason": "got 500"},
                       "expectations": [], "disagreements": []},
             "diff": {"call_summary": {"erp": ["the fix sends 1 more `POST /bills` (1 → 2)"]}}},
            {"verdict": null, "error": "failed to start mock `erp`"}
        ]});
        let items = validate["scenarios"].as_array().unwrap();
        assert_eq!(
            reason(&items[0], true),
            "fails before and after the fix: after, step `export` failed: got 500"
        );
        assert_eq!(
            failure_lines(&items[0], true),
            [
                "after: step `export` failed: got 500",
                "mock `erp`: the fix sends 1 more `POST /bills` (1 → 2)"
            ]
        );
        assert_eq!(status(&items[1], true), Status::Error);
        assert_eq!(
            counts(&validate),
            "2 scenario(s): 0 fixed, 1 still-failing, 1 error"
        );
    }

    #[test]
    fn long_text_is_cut_with_a_note() {
        let text: String = (1..=5).map(|n| format!("line {n}\n")).collect();
        assert_eq!(truncated(&text, 5), text);
        assert_eq!(
            truncated(&text, 2),
            "line 1\nline 2\n… 3 more lines left out (at most 2 shown; the JSON report has them all)"
        );
    }
}
