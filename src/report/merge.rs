//! `reenact report merge`: the JSON reports of the shards of one suite (`--partition`) combined
//! into one report, as if the suite had run on one machine.
//!
//! The shards must agree on what they ran (command, shape version, target or before/after and
//! run counts); scenarios are concatenated, ordered by file then id, and a scenario in two shards
//! is an error. The merged report keeps the shards' fields as they are (unknown ones too).

use std::cmp::Ordering;

use serde_json::Value;

/// Why shards could not be merged; `file` is the shard as the user named it.
#[derive(Debug, thiserror::Error)]
pub(crate) enum MergeError {
    /// Not a run or validate report.
    #[error("shard `{file}` is not a report of `run` or `validate`: {why}")]
    NotAReport {
        /// The shard.
        file: String,
        /// What is missing or wrong.
        why: String,
    },
    /// A shard disagrees with the first on what was run.
    #[error("shard `{file}` has {field} `{found}`, but `{first}` has `{expected}`")]
    Mismatch {
        /// The shard.
        file: String,
        /// The field that differs.
        field: &'static str,
        /// Its value in the first shard.
        expected: String,
        /// Its value in this shard.
        found: String,
        /// The first shard.
        first: String,
    },
    /// A scenario in two shards.
    #[error("scenario `{id}` is in shard `{first}` and in shard `{second}`")]
    Duplicate {
        /// The scenario.
        id: String,
        /// The shard that had it first.
        first: String,
        /// The shard that has it again.
        second: String,
    },
}

/// The merged report and the exit outcome its results give.
pub(crate) struct Merged {
    /// The merged report.
    pub report: Value,
    /// How `run` / `validate` would have ended with these results.
    pub outcome: MergedOutcome,
}

/// How a command ends with a report's results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MergedOutcome {
    /// Every scenario passed (`run`) or is fixed (`validate`).
    Success,
    /// A scenario failed, or has another verdict than fixed, or was not run.
    Failed,
    /// A scenario could not be run.
    Environment,
}

/// The fields the shards of one suite must agree on, per command.
const SAME_IN_EVERY_SHARD: [(&str, &[&str]); 2] = [
    ("run", &["version", "target"]),
    (
        "validate",
        &["version", "before", "after", "runs", "after_runs"],
    ),
];

/// Merge `shards` (each: the name the user gave, and its JSON) into one report.
pub(crate) fn merge(shards: Vec<(String, Value)>) -> Result<Merged, MergeError> {
    let mut shards = shards.into_iter();
    let Some((first_file, mut merged)) = shards.next() else {
        return Err(MergeError::NotAReport {
            file: String::new(),
            why: "no shard given".into(),
        });
    };
    let command = check_shape(&first_file, &merged)?;
    let same = SAME_IN_EVERY_SHARD
        .iter()
        .find(|(name, _)| *name == command)
        .map_or(&[][..], |(_, fields)| *fields);
    let mut items: Vec<(String, Value)> = take_scenarios(&mut merged)
        .into_iter()
        .map(|item| (first_file.clone(), item))
        .collect();
    let mut date = merged
        .get("date")
        .and_then(Value::as_str)
        .map(str::to_owned);
    for (file, mut shard) in shards {
        let shard_command = check_shape(&file, &shard)?;
        if shard_command != command {
            return Err(mismatch(&file, "command", &merged, &shard, &first_file));
        }
        for field in same {
            if shard.get(*field) != merged.get(*field) {
                return Err(mismatch(&file, field, &merged, &shard, &first_file));
            }
        }
        if let Some(shard_date) = shard.get("date").and_then(Value::as_str)
            && later(shard_date, date.as_deref())
        {
            date = Some(shard_date.to_owned());
        }
        items.extend(
            take_scenarios(&mut shard)
                .into_iter()
                .map(|item| (file.clone(), item)),
        );
    }
    items.sort_by(|(_, a), (_, b)| {
        let key = |item: &Value| {
            (
                item["file"].as_str().unwrap_or_default().to_owned(),
                item["id"].as_str().unwrap_or_default().to_owned(),
            )
        };
        key(a).cmp(&key(b))
    });
    // By id alone: the same id under two files would sort apart.
    let mut by_id: Vec<(&str, &str)> = items
        .iter()
        .map(|(file, item)| (item["id"].as_str().unwrap_or_default(), file.as_str()))
        .collect();
    by_id.sort();
    if let Some(pair) = by_id.windows(2).find(|pair| pair[0].0 == pair[1].0) {
        return Err(MergeError::Duplicate {
            id: pair[0].0.to_owned(),
            first: pair[0].1.to_owned(),
            second: pair[1].1.to_owned(),
        });
    }
    let object = merged.as_object_mut().expect("checked to be an object");
    object.insert("reenact".into(), super::REENACT_VERSION.into());
    if let Some(date) = date {
        object.insert("date".into(), date.into());
    }
    object.insert(
        "scenarios".into(),
        Value::Array(items.into_iter().map(|(_, item)| item).collect()),
    );
    let outcome = outcome(&merged);
    Ok(Merged {
        report: merged,
        outcome,
    })
}

/// How `run` / `validate` end with the results of `report` (see `docs/reports.md`).
pub(crate) fn outcome(report: &Value) -> MergedOutcome {
    let items = report["scenarios"]
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    let not_run = |item: &Value| {
        item["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("not run:"))
    };
    let (erred, failed) = if report["command"] == "validate" {
        (
            items
                .iter()
                .any(|item| item["verdict"].is_null() && !not_run(item)),
            items.iter().any(|item| item["verdict"] != "fixed"),
        )
    } else {
        (
            items.iter().any(|item| item["outcome"] == "error"),
            items.iter().any(|item| item["outcome"] != "passed"),
        )
    };
    if erred {
        MergedOutcome::Environment
    } else if failed {
        MergedOutcome::Failed
    } else {
        MergedOutcome::Success
    }
}

/// The command of a shard that has the shape of a report.
fn check_shape(file: &str, shard: &Value) -> Result<String, MergeError> {
    let not = |why: &str| MergeError::NotAReport {
        file: file.to_owned(),
        why: why.to_owned(),
    };
    let object = shard.as_object().ok_or_else(|| not("not a JSON object"))?;
    let command = match object.get("command").and_then(Value::as_str) {
        Some(command @ ("run" | "validate")) => command.to_owned(),
        Some(other) => return Err(not(&format!("its `command` is `{other}`"))),
        None => return Err(not("it has no `command`")),
    };
    let items = object
        .get("scenarios")
        .and_then(Value::as_array)
        .ok_or_else(|| not("it has no `scenarios` list"))?;
    for (index, item) in items.iter().enumerate() {
        if item.get("id").and_then(Value::as_str).is_none()
            || item.get("file").and_then(Value::as_str).is_none()
        {
            return Err(not(&format!(
                "scenario {} has no `id` or `file`",
                index + 1
            )));
        }
    }
    Ok(command)
}

fn take_scenarios(report: &mut Value) -> Vec<Value> {
    match report.get_mut("scenarios").map(Value::take) {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    }
}

fn mismatch(
    file: &str,
    field: &'static str,
    first: &Value,
    shard: &Value,
    first_file: &str,
) -> MergeError {
    let text = |value: Option<&Value>| match value {
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
        None => "nothing".into(),
    };
    MergeError::Mismatch {
        file: file.to_owned(),
        field,
        expected: text(first.get(field)),
        found: text(shard.get(field)),
        first: first_file.to_owned(),
    }
}

/// Whether RFC 3339 instant `a` is later than `b` (any instant is later than none or than one
/// that does not parse).
fn later(a: &str, b: Option<&str>) -> bool {
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;
    let parse = |text: &str| OffsetDateTime::parse(text, &Rfc3339).ok();
    match (parse(a), b.and_then(parse)) {
        (Some(a), Some(b)) => a.cmp(&b) == Ordering::Greater,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn shard(date: &str, ids: &[(&str, &str)]) -> Value {
        let items: Vec<Value> = ids
            .iter()
            .map(|(id, outcome)| json!({"id": id, "file": format!("scenarios/{id}.yaml"), "outcome": outcome}))
            .collect();
        json!({"version": 1, "command": "run", "reenact": "0.0.0", "date": date, "target": "t", "scenarios": items})
    }

    #[test]
    fn shards_merge_in_file_order_with_the_latest_date() {
        let merged = merge(vec![
            (
                "a.json".into(),
                shard("2026-12-04T16:00:00Z", &[("c", "passed"), ("a", "passed")]),
            ),
            (
                "b.json".into(),
                shard("2026-12-04T16:05:00Z", &[("b", "failed")]),
            ),
        ])
        .unwrap();
        let ids: Vec<&str> = merged.report["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["a", "b", "c"]);
        assert_eq!(merged.report["date"], "2026-12-04T16:05:00Z");
        assert_eq!(merged.outcome, MergedOutcome::Failed);
    }

    #[test]
    fn shards_that_do_not_belong_together_are_refused() {
        let mut other = shard("2026-12-04T16:00:00Z", &[("b", "passed")]);
        other["target"] = "u".into();
        let err = merge(vec![
            (
                "a.json".into(),
                shard("2026-12-04T16:00:00Z", &[("a", "passed")]),
            ),
            ("b.json".into(), other),
        ])
        .err()
        .unwrap();
        assert_eq!(
            err.to_string(),
            "shard `b.json` has target `u`, but `a.json` has `t`"
        );
        let err = merge(vec![
            (
                "a.json".into(),
                shard("2026-12-04T16:00:00Z", &[("a", "passed")]),
            ),
            (
                "b.json".into(),
                shard("2026-12-04T16:00:00Z", &[("a", "error")]),
            ),
        ])
        .err()
        .unwrap();
        assert_eq!(
            err.to_string(),
            "scenario `a` is in shard `a.json` and in shard `b.json`"
        );
        let err = merge(vec![(
            "x.json".into(),
            json!({"command": "list", "scenarios": []}),
        )])
        .err()
        .unwrap();
        assert_eq!(
            err.to_string(),
            "shard `x.json` is not a report of `run` or `validate`: its `command` is `list`"
        );
    }

    #[test]
    fn the_outcome_is_the_commands_exit() {
        let run = |outcomes: &[&str]| {
            let ids: Vec<(String, &str)> = outcomes
                .iter()
                .enumerate()
                .map(|(i, o)| (format!("s{i}"), *o))
                .collect();
            let ids: Vec<(&str, &str)> = ids.iter().map(|(i, o)| (i.as_str(), *o)).collect();
            outcome(&shard("2026-12-04T16:00:00Z", &ids))
        };
        assert_eq!(run(&["passed", "passed"]), MergedOutcome::Success);
        assert_eq!(run(&["passed", "failed", "not-run"]), MergedOutcome::Failed);
        assert_eq!(run(&["failed", "error"]), MergedOutcome::Environment);
        let validate = |verdict: Value, error: Value| {
            outcome(&json!({"command": "validate", "scenarios": [
                {"id": "a", "verdict": "fixed", "error": null},
                {"id": "b", "verdict": verdict, "error": error}
            ]}))
        };
        assert_eq!(
            validate("fixed".into(), Value::Null),
            MergedOutcome::Success
        );
        assert_eq!(validate("flaky".into(), Value::Null), MergedOutcome::Failed);
        assert_eq!(
            validate(
                Value::Null,
                "not run: `--fail-fast` stopped the suite".into()
            ),
            MergedOutcome::Failed
        );
        assert_eq!(
            validate(Value::Null, "failed to start mock `erp`".into()),
            MergedOutcome::Environment
        );
    }
}
