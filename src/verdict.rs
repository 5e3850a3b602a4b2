//! Expectations and verdicts: pure functions from an observation to results, and from the results
//! of repeated runs to a fix verdict. Table-tested below.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::matching::{RequestView, check_response, evaluate};
use crate::observe::{Journal, JournalEntry, Observation};
use crate::scenario::model::{Check, CountRange, Expectation, RequestMatcher};

/// The result of one expectation on one observation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpectationResult {
    /// The expectation's name.
    pub name: String,
    /// Whether it held.
    pub passed: bool,
    /// What was found, e.g. `2 matching requests, expected exactly 1`.
    pub detail: String,
}

/// Evaluate every expectation on an observation.
pub fn evaluate_expectations(
    expectations: &[Expectation],
    observation: &Observation,
) -> Vec<ExpectationResult> {
    expectations
        .iter()
        .map(|expectation| {
            let (passed, detail) = evaluate_check(&expectation.check, observation);
            ExpectationResult {
                name: expectation.name.clone(),
                passed,
                detail,
            }
        })
        .collect()
}

fn evaluate_check(check: &Check, observation: &Observation) -> (bool, String) {
    match check {
        Check::Step { step, check } => {
            let Some(found) = observation.steps.iter().find(|s| &s.name == step) else {
                return (false, format!("step `{step}` did not run"));
            };
            let Some(response) = &found.response else {
                return (
                    false,
                    format!(
                        "step `{step}` got no response{}",
                        found
                            .failure
                            .as_ref()
                            .map(|f| format!(": {f}"))
                            .unwrap_or_default()
                    ),
                );
            };
            let failures = check_response(check, response);
            if failures.is_empty() {
                (true, format!("step `{step}` answered {}", response.status))
            } else {
                (false, failures.join("; "))
            }
        }
        Check::MockCount {
            mock,
            request,
            count,
        } => {
            let journal = journal_of(observation, mock);
            let n = matching_entries(&journal, request).count() as u64;
            count_detail(n, *count, "matching request", journal.dropped)
        }
        Check::Unmatched { mock, count } => {
            let journal = journal_of(observation, mock);
            let n = journal
                .entries
                .iter()
                .filter(|e| e.matched.is_none())
                .count() as u64;
            count_detail(n, *count, "unmatched request", journal.dropped)
        }
        Check::MockOrder { mock, order } => {
            let journal = journal_of(observation, mock);
            check_order(&journal, order)
        }
        Check::MockState {
            mock,
            collection,
            filter,
            count,
            unique_by,
            fields,
        } => {
            let records = observation
                .mock_states
                .get(mock)
                .and_then(|state| state.get(collection))
                .and_then(Value::as_array);
            let Some(records) = records else {
                return (
                    false,
                    format!("mock `{mock}` reported no state `{collection}`"),
                );
            };
            let selected: Vec<&Value> = records
                .iter()
                .filter(|record| {
                    filter
                        .iter()
                        .all(|(field, value)| field_at(record, field) == Some(value))
                })
                .collect();
            let (mut holds, mut detail) = check_state(&selected, *count, unique_by.as_deref());
            if !fields.is_empty() && selected.is_empty() && count.is_none() {
                // Nothing selected: `fields` alone would hold vacuously.
                holds = false;
                detail = "no record selected to check `fields` on".to_owned();
            } else if let Some(mismatch) = field_mismatch(&selected, fields) {
                holds = false;
                detail = if detail.is_empty() {
                    mismatch
                } else {
                    format!("{detail}; {mismatch}")
                };
            } else if !fields.is_empty() {
                let n = selected.len();
                let plural = if n == 1 { "" } else { "s" };
                let checked = if detail.is_empty() {
                    String::new()
                } else {
                    format!("{detail}; ")
                };
                detail = format!("{checked}fields hold on {n} record{plural}");
            }
            (holds, detail)
        }
    }
}

/// The value at a dotted field path of a record (`Contact.Name`).
fn field_at<'a>(record: &'a Value, field: &str) -> Option<&'a Value> {
    field
        .split('.')
        .try_fold(record, |value, part| value.get(part))
}

/// `fields` over the records a `state` expectation selected: the first record (1-based among the
/// selected) whose field differs, with what it holds; `None` when all hold.
fn field_mismatch(selected: &[&Value], fields: &[(String, Value)]) -> Option<String> {
    selected.iter().enumerate().find_map(|(index, record)| {
        fields.iter().find_map(|(field, wanted)| {
            let found = field_at(record, field);
            (found != Some(wanted)).then(|| {
                let found = found.map_or_else(|| "nothing".to_owned(), Value::to_string);
                format!(
                    "record {} of those selected has `{field}` = {found}, expected {wanted}",
                    index + 1
                )
            })
        })
    })
}

/// `count` and `unique_by` over the records a `state` expectation selected. Records without the
/// `unique_by` field are not compared.
fn check_state(
    selected: &[&Value],
    count: Option<CountRange>,
    unique_by: Option<&str>,
) -> (bool, String) {
    let mut holds = true;
    let mut details = Vec::new();
    if let Some(range) = count {
        let n = selected.len() as u64;
        let plural = if n == 1 { "" } else { "s" };
        details.push(format!("{n} record{plural}, expected {range}"));
        holds &= range.contains(n);
    }
    if let Some(field) = unique_by {
        let mut seen: Vec<&Value> = Vec::new();
        let mut repeated: Vec<String> = Vec::new();
        for value in selected.iter().filter_map(|record| field_at(record, field)) {
            if seen.contains(&value) {
                let shown = value.to_string();
                if !repeated.contains(&shown) {
                    repeated.push(shown);
                }
            } else {
                seen.push(value);
            }
        }
        if repeated.is_empty() {
            details.push(format!("unique by `{field}`"));
        } else {
            holds = false;
            details.push(format!("`{field}` repeats: {}", repeated.join(", ")));
        }
    }
    (holds, details.join("; "))
}

fn journal_of(observation: &Observation, mock: &str) -> Journal {
    observation.mocks.get(mock).cloned().unwrap_or_default()
}

fn matching_entries<'a>(
    journal: &'a Journal,
    matcher: &'a RequestMatcher,
) -> impl Iterator<Item = &'a JournalEntry> {
    journal
        .entries
        .iter()
        .filter(move |entry| evaluate(matcher, &RequestView::from(*entry)).matched())
}

fn count_detail(n: u64, range: CountRange, noun: &str, dropped: u64) -> (bool, String) {
    let plural = if n == 1 { "" } else { "s" };
    let mut detail = format!("{n} {noun}{plural}, expected {range}");
    if dropped > 0 {
        detail.push_str(&format!(
            " ({dropped} request(s) not journaled: the journal limit was reached)"
        ));
    }
    (range.contains(n) && dropped == 0, detail)
}

fn check_order(journal: &Journal, order: &[RequestMatcher]) -> (bool, String) {
    let mut next = 0;
    let mut seen = Vec::new();
    for entry in &journal.entries {
        if next < order.len() && evaluate(&order[next], &RequestView::from(entry)).matched() {
            seen.push(format!("#{} {} {}", entry.seq, entry.method, entry.path));
            next += 1;
        }
    }
    if next == order.len() {
        (true, format!("in order: {}", seen.join(", ")))
    } else {
        (
            false,
            format!(
                "matched {next} of {} in order{}; no later request matched step {}",
                order.len(),
                if seen.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", seen.join(", "))
                },
                next + 1
            ),
        )
    }
}

/// How one run of one build went, as far as verdicts care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Behaviour {
    /// Every step passed and every expectation held.
    Holds,
    /// A step or an expectation failed: the incident shows.
    Fails,
}

/// The fix verdict of one scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Fails on before (the incident reproduces) and holds on after.
    Fixed,
    /// Already holds on before: the scenario does not capture the bug.
    NotReproduced,
    /// Fails on both.
    StillFailing,
    /// Holds on before, fails on after.
    Regressed,
    /// Repeated runs of the same build disagree.
    Flaky,
}

impl Verdict {
    /// The verdict as written in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Fixed => "fixed",
            Verdict::NotReproduced => "not-reproduced",
            Verdict::StillFailing => "still-failing",
            Verdict::Regressed => "regressed",
            Verdict::Flaky => "flaky",
        }
    }
}

/// What repeated runs of one build disagree on: each expectation that held in some runs and
/// failed in others, and each step that failed in some runs only. Any disagreement makes the
/// verdict `flaky`, even when every run fails (on different checks).
///
/// `runs` holds, per run, its expectation results (the same expectations in the same order in
/// every run) and the name of its first failed step.
///
/// ```
/// use reenact::verdict::{ExpectationResult, disagreements};
///
/// let check = |passed| vec![ExpectationResult { name: "one bill".into(), passed, detail: String::new() }];
/// let (first, second) = (check(false), check(true));
/// assert_eq!(
///     disagreements(&[(&first, None), (&second, None)]),
///     ["expectation `one bill` failed in run 1, held in run 2"]
/// );
/// ```
pub fn disagreements(runs: &[(&[ExpectationResult], Option<&str>)]) -> Vec<String> {
    let mut found = Vec::new();
    let Some((first, _)) = runs.first() else {
        return found;
    };
    let mark = |held: bool| if held { "held" } else { "failed" };
    for (index, expectation) in first.iter().enumerate() {
        let results: Vec<bool> = runs
            .iter()
            .map(|(results, _)| results.get(index).is_some_and(|r| r.passed))
            .collect();
        if results.windows(2).any(|pair| pair[0] != pair[1]) {
            let each: Vec<String> = results
                .iter()
                .enumerate()
                .map(|(run, held)| format!("{} in run {}", mark(*held), run + 1))
                .collect();
            found.push(format!(
                "expectation `{}` {}",
                expectation.name,
                each.join(", ")
            ));
        }
    }
    let steps: Vec<Option<&str>> = runs.iter().map(|(_, step)| *step).collect();
    if steps.windows(2).any(|pair| pair[0] != pair[1]) {
        let each: Vec<String> = steps
            .iter()
            .enumerate()
            .map(|(run, step)| match step {
                Some(step) => format!("step `{step}` failed in run {}", run + 1),
                None => format!("no step failed in run {}", run + 1),
            })
            .collect();
        found.push(each.join(", "));
    }
    found
}

/// Judge a fix from the behaviours of repeated runs of each build (at least one run each).
///
/// ```
/// use reenact::verdict::{Behaviour::{Fails, Holds}, Verdict, judge};
///
/// assert_eq!(judge(&[Fails], &[Holds]), Verdict::Fixed);
/// assert_eq!(judge(&[Holds], &[Holds]), Verdict::NotReproduced);
/// assert_eq!(judge(&[Fails, Fails], &[Fails]), Verdict::StillFailing);
/// assert_eq!(judge(&[Holds], &[Fails]), Verdict::Regressed);
/// assert_eq!(judge(&[Fails, Holds], &[Holds]), Verdict::Flaky);
/// ```
pub fn judge(before: &[Behaviour], after: &[Behaviour]) -> Verdict {
    let consistent = |runs: &[Behaviour]| runs.windows(2).all(|pair| pair[0] == pair[1]);
    if !consistent(before) || !consistent(after) {
        return Verdict::Flaky;
    }
    match (before.first(), after.first()) {
        (Some(Behaviour::Fails), Some(Behaviour::Holds)) => Verdict::Fixed,
        (Some(Behaviour::Fails), Some(Behaviour::Fails)) => Verdict::StillFailing,
        (Some(Behaviour::Holds), Some(Behaviour::Fails)) => Verdict::Regressed,
        _ => Verdict::NotReproduced,
    }
}

#[cfg(test)]
mod tests {
    use super::Behaviour::{Fails, Holds};
    use super::*;

    #[test]
    fn judge_table() {
        let cases: &[(&[Behaviour], &[Behaviour], Verdict)] = &[
            (&[Fails], &[Holds], Verdict::Fixed),
            (&[Holds], &[Holds], Verdict::NotReproduced),
            (&[Fails], &[Fails], Verdict::StillFailing),
            (&[Holds], &[Fails], Verdict::Regressed),
            (&[Fails, Fails], &[Holds, Holds], Verdict::Fixed),
            (&[Fails, Holds], &[Holds, Holds], Verdict::Flaky),
            (&[Fails, Fails], &[Holds, Fails], Verdict::Flaky),
        ];
        for (before, after, expected) in cases {
            assert_eq!(judge(before, after), *expected, "{before:?} {after:?}");
        }
    }

    #[test]
    fn disagreements_between_runs_table() {
        let results = |passed: &[bool]| -> Vec<ExpectationResult> {
            passed
                .iter()
                .enumerate()
                .map(|(i, passed)| ExpectationResult {
                    name: format!("check {i}"),
                    passed: *passed,
                    detail: String::new(),
                })
                .collect()
        };
        let (a, b, c) = (
            results(&[false, true]),
            results(&[true, false]),
            results(&[false, true]),
        );
        type Runs<'a> = &'a [(&'a [ExpectationResult], Option<&'a str>)];
        let cases: &[(Runs, &[&str])] = &[
            (&[(&a, None)], &[]),
            (&[(&a, None), (&c, None)], &[]),
            (
                // Both runs fail, on different checks: still a disagreement.
                &[(&a, None), (&b, None)],
                &[
                    "expectation `check 0` failed in run 1, held in run 2",
                    "expectation `check 1` held in run 1, failed in run 2",
                ],
            ),
            (
                &[(&a, Some("pay")), (&c, None)],
                &["step `pay` failed in run 1, no step failed in run 2"],
            ),
            (&[(&a, Some("pay")), (&c, Some("pay"))], &[]),
        ];
        for (runs, expected) in cases {
            assert_eq!(disagreements(runs), *expected, "{runs:?}");
        }
    }

    #[test]
    fn state_expectations_table() {
        let mut observation = Observation::default();
        observation.mock_states.insert(
            "xero".into(),
            serde_json::json!({ "invoices": [
                { "InvoiceID": "a", "Reference": "EXP-1042", "Contact": { "Name": "Acme" } },
                { "InvoiceID": "b", "Reference": "EXP-1042", "Contact": { "Name": "Acme" } },
                { "InvoiceID": "c", "Reference": "EXP-7", "Contact": { "Name": "Globex" } },
            ] }),
        );
        let check = |collection: &str,
                     filter: &[(&str, Value)],
                     count: Option<u64>,
                     unique_by: Option<&str>| Check::MockState {
            mock: "xero".into(),
            collection: collection.into(),
            filter: filter
                .iter()
                .map(|(field, value)| ((*field).to_owned(), value.clone()))
                .collect(),
            count: count.map(CountRange::exactly),
            unique_by: unique_by.map(str::to_owned),
            fields: Vec::new(),
        };
        let acme = || ("Contact.Name", Value::from("Acme"));
        let cases = [
            (
                check("invoices", &[], Some(3), None),
                true,
                "3 records, expected exactly 3",
            ),
            (
                check("invoices", &[acme()], Some(1), None),
                false,
                "2 records, expected exactly 1",
            ),
            (
                check("invoices", &[acme()], None, Some("InvoiceID")),
                true,
                "unique by `InvoiceID`",
            ),
            (
                check("invoices", &[], Some(3), Some("Reference")),
                false,
                "3 records, expected exactly 3; `Reference` repeats: \"EXP-1042\"",
            ),
            (
                check(
                    "invoices",
                    &[("Reference", Value::from("EXP-7"))],
                    Some(1),
                    Some("Reference"),
                ),
                true,
                "1 record, expected exactly 1; unique by `Reference`",
            ),
            (
                check("contacts", &[], Some(0), None),
                false,
                "mock `xero` reported no state `contacts`",
            ),
        ];
        for (check, passed, detail) in cases {
            assert_eq!(
                evaluate_check(&check, &observation),
                (passed, detail.to_owned()),
                "{check:?}"
            );
        }
        let with_fields =
            |filter: &[(&str, Value)], fields: &[(&str, Value)], count: Option<u64>| {
                let pairs = |items: &[(&str, Value)]| {
                    items
                        .iter()
                        .map(|(field, value)| ((*field).to_owned(), value.clone()))
                        .collect()
                };
                Check::MockState {
                    mock: "xero".into(),
                    collection: "invoices".into(),
                    filter: pairs(filter),
                    count: count.map(CountRange::exactly),
                    unique_by: None,
                    fields: pairs(fields),
                }
            };
        let reference = |value: &str| ("Reference", Value::from(value));
        let field_cases = [
            (
                with_fields(&[acme()], &[reference("EXP-1042")], None),
                true,
                "fields hold on 2 records",
            ),
            (
                with_fields(&[], &[("Contact.Name", Value::from("Acme"))], Some(3)),
                false,
                "3 records, expected exactly 3; record 3 of those selected has `Contact.Name` = \"Globex\", expected \"Acme\"",
            ),
            (
                with_fields(
                    &[reference("EXP-7")],
                    &[("Status", Value::from("PAID"))],
                    None,
                ),
                false,
                "record 1 of those selected has `Status` = nothing, expected \"PAID\"",
            ),
            (
                with_fields(&[reference("EXP-9")], &[reference("EXP-9")], None),
                false,
                "no record selected to check `fields` on",
            ),
            (
                with_fields(&[reference("EXP-9")], &[reference("EXP-9")], Some(0)),
                true,
                "0 records, expected exactly 0; fields hold on 0 records",
            ),
        ];
        for (check, passed, detail) in field_cases {
            assert_eq!(
                evaluate_check(&check, &observation),
                (passed, detail.to_owned()),
                "{check:?}"
            );
        }
    }

    #[test]
    fn count_ranges() {
        let cases = [
            (CountRange::exactly(1), 1, true),
            (CountRange::exactly(1), 2, false),
            (CountRange { min: 1, max: None }, 7, true),
            (
                CountRange {
                    min: 2,
                    max: Some(3),
                },
                1,
                false,
            ),
        ];
        for (range, n, expected) in cases {
            assert_eq!(range.contains(n), expected, "{range} {n}");
        }
        let (passed, detail) = count_detail(3, CountRange::exactly(3), "matching request", 2);
        assert!(
            !passed,
            "a count with dropped requests cannot pass: {detail}"
        );
    }
}
