//! What the files of an escalation package say: the README ([`readme`]), the failing exchange
//! ([`failing_exchange`], as Markdown and JSON) and `versions.txt` ([`versions`]). Pure
//! functions of the scenario, its run and its report item; the [`Package`](super::Package)
//! they are added to redacts them.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::observe::{JournalEntry, Observation, StepObservation};
use crate::report::{Outcome, RunItem};
use crate::run::TargetChoice;
use crate::scenario::Scenario;
use crate::verdict::ExpectationResult;

/// How the package's run can be run again from inside the package.
#[derive(Debug, Clone)]
pub(crate) struct Reproduce {
    /// The one-line shell command, run from the package's top folder.
    pub command: String,
    /// What the user must do or supply first, if anything (one sentence each).
    pub notes: Vec<String>,
}

/// Everything the README states.
pub(crate) struct Facts<'a> {
    /// The packaged scenario.
    pub scenario: &'a Scenario,
    /// Its report item of this run.
    pub item: &'a RunItem,
    /// The target it ran against.
    pub target: &'a TargetChoice,
    /// How to run it again.
    pub reproduce: &'a Reproduce,
    /// When the package was made, RFC 3339 UTC.
    pub date: &'a str,
    /// The scenario's files whose copy had values replaced by placeholders.
    pub redacted_files: &'a [String],
    /// The scenario's files left out (not UTF-8 text, so not checked for secrets).
    pub left_out: &'a [String],
    /// Each file of the package and what it holds, in order.
    pub index: &'a [(String, String)],
}

/// The package's `README.md`.
pub(crate) fn readme(facts: &Facts<'_>) -> String {
    let scenario = facts.scenario;
    let item = facts.item;
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", scenario.title);
    let _ = writeln!(
        out,
        "Escalation package of scenario `{}`, made by reenact {} on {}.\n",
        scenario.id,
        env!("CARGO_PKG_VERSION"),
        facts.date
    );
    let or_none = |text: String| {
        if text.is_empty() {
            "none given".to_owned()
        } else {
            text
        }
    };
    let rows = [
        (
            "Ticket",
            or_none(scenario.ticket.clone().unwrap_or_default()),
        ),
        ("Customers", or_none(scenario.customers.join(", "))),
        (
            "Impact",
            or_none(scenario.impact.clone().unwrap_or_default()),
        ),
        (
            "Severity",
            or_none(scenario.severity.map(serde_name).unwrap_or_default()),
        ),
        (
            "Root cause",
            or_none(scenario.root_cause.map(serde_name).unwrap_or_default()),
        ),
        ("Tags", or_none(scenario.tags.join(", "))),
        ("Target", target_line(facts.target)),
        ("Outcome", format!("**{}**", outcome_word(item.outcome))),
        ("reenact", env!("CARGO_PKG_VERSION").to_owned()),
        ("Date", facts.date.to_owned()),
    ];
    out.push_str("| | |\n| --- | --- |\n");
    for (name, value) in rows {
        let _ = writeln!(out, "| {name} | {} |", value.replace('|', "\\|"));
    }
    out.push_str("\n## Outcome of this run\n\n");
    out.push_str(&outcome_lines(item));
    out.push_str("\n## Reproduce\n\nFrom the folder of this README:\n\n```sh\n");
    let _ = writeln!(out, "{}", facts.reproduce.command);
    out.push_str("```\n\n");
    for note in &facts.reproduce.notes {
        let _ = writeln!(out, "- {note}");
    }
    if !facts.reproduce.notes.is_empty() {
        out.push('\n');
    }
    out.push_str(
        "## Secrets\n\nEverything in this package is redacted: values the scenario declares \
         secret, values its run learned (tokens, passwords, keys), and values of known shapes \
         (IBANs, card numbers, JWTs, private keys) read `[redacted]` or `[redacted:KIND]`.\n",
    );
    if facts.redacted_files.is_empty() {
        out.push_str("No file of the scenario held one: it runs as copied.\n");
    } else {
        let _ = writeln!(
            out,
            "These files of `scenario/` had values replaced, so put the real values back \
             (from the original project or the ticket) before running it: {}.",
            code_list(facts.redacted_files)
        );
    }
    if !facts.left_out.is_empty() {
        let _ = writeln!(
            out,
            "\nLeft out, as they are not text and could not be checked for secrets: {}.",
            code_list(facts.left_out)
        );
    }
    out.push_str("\n## Files\n\n");
    for (path, what) in facts.index {
        let _ = writeln!(out, "- `{path}`: {what}");
    }
    out
}

/// The name a value of the scenario format is written with (`sev2`, `product-defect`).
fn serde_name(value: impl serde::Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(name)) => name,
        _ => String::new(),
    }
}

fn code_list(items: &[String]) -> String {
    items
        .iter()
        .map(|item| format!("`{item}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The target as the README names it: label, and its image or command.
fn target_line(target: &TargetChoice) -> String {
    let Some(def) = &target.def else {
        return "the scenario's own target".to_owned();
    };
    let mut line = format!("`{}`", target.label);
    if let Some(image) = &def.image {
        let _ = write!(line, " (image `{image}`)");
    } else if let Some(binary) = &def.image_from {
        let _ = write!(line, " (imaged from `{}`)", binary.display());
    } else if let Some(url) = &def.url {
        let _ = write!(line, " at `{url}`");
    }
    line
}

/// The outcome in a word (`passed`, `failed`, `error`, `not run`).
pub(crate) fn outcome_word(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Passed => "passed",
        Outcome::Failed => "failed",
        Outcome::Error => "error",
        Outcome::NotRun => "not run",
    }
}

/// What failed in the run, one bullet each; or that all held.
fn outcome_lines(item: &RunItem) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "The scenario **{}**.\n", outcome_word(item.outcome));
    if let Some(step) = &item.failed_step {
        let _ = writeln!(out, "- step `{}` failed: {}", step.name, step.reason);
    }
    for expectation in item.expectations.iter().filter(|e| !e.passed) {
        let _ = writeln!(
            out,
            "- expectation `{}` failed: {}",
            expectation.name, expectation.detail
        );
    }
    match item.snapshot.as_str() {
        "differs" => out.push_str("- the observation differs from the accepted snapshot\n"),
        "new" => out.push_str("- the scenario has no accepted snapshot yet\n"),
        _ => {}
    }
    if let Some(error) = &item.error {
        let _ = writeln!(out, "- {error}");
    }
    if item.outcome == Outcome::Passed {
        out.push_str("- every step and expectation held\n");
    }
    out
}

/// `versions.txt`: reenact, the target and the machine.
pub(crate) fn versions(target: &TargetChoice, os: &str) -> String {
    let mut out = format!("reenact {}\n", env!("CARGO_PKG_VERSION"));
    let _ = writeln!(out, "target {}", target.label);
    if let Some(def) = &target.def {
        if let Some(image) = &def.image {
            let _ = writeln!(out, "target image {image}");
        }
        if let Some(command) = &def.command {
            let _ = writeln!(out, "target command {}", command.join(" "));
        }
        if let Some(url) = &def.url {
            let _ = writeln!(out, "target url {url}");
        }
    }
    let _ = writeln!(out, "os {os}");
    out
}

/// The operating system this runs on: `/etc/os-release`'s name when there is one, and the
/// platform.
pub(crate) fn os_description() -> String {
    let platform = format!("{} {}", std::env::consts::OS, std::env::consts::ARCH);
    let pretty = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|text| {
            text.lines().find_map(|line| {
                line.strip_prefix("PRETTY_NAME=")
                    .map(|name| name.trim_matches('"').to_owned())
            })
        });
    match pretty {
        Some(name) => format!("{name} ({platform})"),
        None => platform,
    }
}

/// The failed step of a run (the first), as `failing-exchange.json` holds it: its request and
/// response, the failed expectations, and every request each mock received, in order.
pub(crate) fn failing_exchange(
    id: &str,
    observation: &Observation,
    expectations: &[ExpectationResult],
) -> Value {
    let step = observation.steps.iter().find(|step| step.failure.is_some());
    json!({
        "scenario": id,
        "failed_step": step.map(step_json),
        "failed_expectations": expectations
            .iter()
            .filter(|e| !e.passed)
            .map(|e| json!({ "name": e.name, "detail": e.detail }))
            .collect::<Vec<_>>(),
        "mocks": observation
            .mocks
            .iter()
            .map(|(name, journal)| {
                let entries: Vec<Value> = journal.entries.iter().map(entry_json).collect();
                (name.clone(), Value::Array(entries))
            })
            .collect::<serde_json::Map<_, _>>(),
    })
}

fn step_json(step: &StepObservation) -> Value {
    json!({
        "name": step.name,
        "kind": step.kind,
        "reason": step.failure,
        "attempts": step.attempts,
        "request": step.request,
        "response": step.response,
    })
}

fn entry_json(entry: &JournalEntry) -> Value {
    json!({
        "seq": entry.seq,
        "at": entry.at,
        "method": entry.method,
        "path": entry.path,
        "query": entry.query,
        "status": entry.status,
        "matched": entry.matched.as_ref().map(|stub| stub.name.clone()),
        "rate_limited": entry.rate_limited,
        "fault": entry.fault,
    })
}

/// `failing-exchange.md`: [`failing_exchange`] (already redacted) for people.
pub(crate) fn failing_exchange_markdown(exchange: &Value) -> String {
    let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
    let mut out = format!(
        "# Failing exchange of `{}`\n\n",
        text(&exchange["scenario"])
    );
    let step = &exchange["failed_step"];
    if step.is_null() {
        out.push_str("Every step passed.\n");
    } else {
        let _ = writeln!(
            out,
            "Step `{}` ({}) failed after {} request(s): {}\n",
            text(&step["name"]),
            text(&step["kind"]),
            step["attempts"],
            text(&step["reason"])
        );
        let request = &step["request"];
        if request.is_object() {
            let to = match request["mock"].as_str() {
                Some(mock) => format!("mock `{mock}`"),
                None => "the target".to_owned(),
            };
            let _ = writeln!(
                out,
                "## Request\n\n`{} {}` to {to}\n",
                text(&request["method"]),
                text(&request["path"])
            );
            out.push_str(&headers_and_body(&request["headers"], &request["body"]));
        }
        let response = &step["response"];
        if response.is_object() {
            let _ = writeln!(out, "## Response\n\nStatus {}\n", response["status"]);
            out.push_str(&headers_and_body(&response["headers"], &response["body"]));
        } else {
            out.push_str("## Response\n\nNone was received.\n\n");
        }
    }
    let failed: &[Value] = exchange["failed_expectations"]
        .as_array()
        .map_or(&[], Vec::as_slice);
    if !failed.is_empty() {
        out.push_str("\n## Failed expectations\n\n");
        for expectation in failed {
            let _ = writeln!(
                out,
                "- `{}`: {}",
                text(&expectation["name"]),
                text(&expectation["detail"])
            );
        }
    }
    out.push_str("\n## What each mock saw\n\nEvery request each mock received, in order of arrival (virtual time).\n");
    let mocks = exchange["mocks"].as_object().cloned().unwrap_or_default();
    if mocks.is_empty() {
        out.push_str("\nThe scenario has no mock.\n");
    }
    for (mock, entries) in &mocks {
        let entries: &[Value] = entries.as_array().map_or(&[], Vec::as_slice);
        let _ = writeln!(out, "\n### `{mock}` ({} request(s))\n", entries.len());
        if entries.is_empty() {
            continue;
        }
        out.push_str("| # | at | request | status | matched stub | fault |\n");
        out.push_str("| --- | --- | --- | --- | --- | --- |\n");
        for entry in entries {
            let query = text(&entry["query"]);
            let path = if query.is_empty() {
                text(&entry["path"])
            } else {
                format!("{}?{query}", text(&entry["path"]))
            };
            let matched = match entry["matched"].as_str() {
                Some(stub) => stub.to_owned(),
                None => match entry["rate_limited"].as_str() {
                    Some(limit) => format!("rate limited: {limit}"),
                    None => "none".to_owned(),
                },
            };
            let cell = |text: String| text.replace('|', "\\|");
            let _ = writeln!(
                out,
                "| {} | {} | `{} {}` | {} | {} | {} |",
                entry["seq"],
                cell(text(&entry["at"])),
                text(&entry["method"]),
                cell(path),
                entry["status"],
                cell(matched),
                cell(entry["fault"].as_str().unwrap_or("").to_owned()),
            );
        }
    }
    out
}

fn headers_and_body(headers: &Value, body: &Value) -> String {
    let mut out = String::new();
    for pair in headers.as_array().map_or(&[][..], Vec::as_slice) {
        let _ = writeln!(
            out,
            "- `{}: {}`",
            pair[0].as_str().unwrap_or_default(),
            pair[1].as_str().unwrap_or_default()
        );
    }
    if !out.is_empty() {
        out.push('\n');
    }
    match body.as_str() {
        Some(body) if !body.is_empty() => {
            let fence = if body.contains("```") { "~~~~" } else { "```" };
            let _ = writeln!(out, "{fence}\n{}\n{fence}\n", body.trim_end());
        }
        _ => out.push_str("(no body)\n\n"),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::{Journal, MatchedStub, ReceivedResponse, SentRequest};

    #[test]
    fn the_failing_exchange_names_the_step_and_what_each_mock_saw() {
        let mut observation = Observation::default();
        observation.steps.push(StepObservation {
            name: "export".into(),
            kind: "request".into(),
            request: Some(SentRequest {
                method: "POST".into(),
                path: "/export".into(),
                ..SentRequest::default()
            }),
            response: Some(ReceivedResponse {
                status: 502,
                body: "upstream | timed out".into(),
                ..ReceivedResponse::default()
            }),
            attempts: 1,
            failure: Some("expected status 200, got 502".into()),
            ..StepObservation::default()
        });
        observation.mocks.insert(
            "xero".into(),
            Journal {
                entries: vec![JournalEntry {
                    seq: 1,
                    at: "2026-10-31T23:00:00Z".into(),
                    method: "PUT".into(),
                    path: "/api.xro/2.0/Invoices".into(),
                    query: "summarizeErrors=false".into(),
                    headers: Vec::new(),
                    body: String::new(),
                    matched: Some(MatchedStub {
                        index: 0,
                        name: "create invoice".into(),
                    }),
                    status: 0,
                    rate_limited: None,
                    fault: Some("timeout".into()),
                }],
                dropped: 0,
            },
        );
        let failed = ExpectationResult {
            name: "one bill".into(),
            passed: false,
            detail: "2 matching requests, expected exactly 1".into(),
        };
        let markdown = failing_exchange_markdown(&failing_exchange("s", &observation, &[failed]));
        for expected in [
            "Step `export` (request) failed after 1 request(s): expected status 200, got 502",
            "`POST /export` to the target",
            "Status 502",
            "upstream | timed out",
            "- `one bill`: 2 matching requests, expected exactly 1",
            "### `xero` (1 request(s))",
            "| 1 | 2026-10-31T23:00:00Z | `PUT /api.xro/2.0/Invoices?summarizeErrors=false` | 0 | create invoice | timeout |",
        ] {
            assert!(
                markdown.contains(expected),
                "`{expected}` not in:\n{markdown}"
            );
        }
    }

    #[test]
    fn a_run_whose_steps_all_passed_says_so() {
        let markdown =
            failing_exchange_markdown(&failing_exchange("s", &Observation::default(), &[]));
        assert!(markdown.contains("Every step passed."), "{markdown}");
        assert!(markdown.contains("The scenario has no mock."), "{markdown}");
    }
}
