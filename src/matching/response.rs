//! Response checks: whether a received response meets a scenario's [`ResponseCheck`] (status,
//! JSON subset, JSONPath values, body text), and if not, one readable reason per failed part.
//!
//! Shared by a flow step's `expect:` (the runner checks each answer as it comes) and the
//! verdict's step expectations, so both judge a response by the same rule.

use crate::json_compare::json_contains;
use crate::observe::ReceivedResponse;
use crate::scenario::model::ResponseCheck;

/// Checks a response against a [`ResponseCheck`]; returns one reason per failed condition.
pub(crate) fn check_response(check: &ResponseCheck, response: &ReceivedResponse) -> Vec<String> {
    let mut failures = Vec::new();
    if let Some(status) = check.status
        && response.status != status
    {
        failures.push(format!(
            "status: expected {status}, got {}",
            response.status
        ));
    }
    if check.json.is_some() || !check.jsonpath.is_empty() {
        match response.json() {
            None => failures.push(format!(
                "body: expected JSON, got `{}`",
                abbreviate(&response.body, 120)
            )),
            Some(body) => {
                if let Some(expected) = &check.json
                    && !json_contains(&body, expected)
                {
                    failures.push(format!(
                        "json: expected to contain `{expected}`, got `{}`",
                        abbreviate(&body.to_string(), 200)
                    ));
                }
                for (path, expected) in &check.jsonpath {
                    failures.extend(check_jsonpath(&body, path, expected));
                }
            }
        }
    }
    if let Some(needle) = &check.body_contains
        && !response.body.contains(needle.as_str())
    {
        failures.push(format!(
            "body: expected to contain `{needle}`, got `{}`",
            abbreviate(&response.body, 200)
        ));
    }
    failures
}

fn check_jsonpath(
    body: &serde_json::Value,
    path: &str,
    expected: &serde_json::Value,
) -> Option<String> {
    let parsed = match serde_json_path::JsonPath::parse(path) {
        Ok(parsed) => parsed,
        Err(err) => return Some(format!("`{path}`: {err}")),
    };
    let nodes = parsed.query(body).all();
    if nodes.iter().any(|node| json_contains(node, expected)) {
        return None;
    }
    Some(match nodes.as_slice() {
        [] => format!("`{path}`: selected nothing, expected `{expected}`"),
        [one] => format!("`{path}`: expected `{expected}`, got `{one}`"),
        many => format!(
            "`{path}`: expected `{expected}`, got {} values none of which matches",
            many.len()
        ),
    })
}

fn abbreviate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let cut: String = text.chars().take(max).collect();
        format!("{cut}…")
    }
}
