//! Response checks: whether a received response meets a scenario's [`ResponseCheck`] (status,
//! JSON subset, JSONPath value checks, headers, body text), and if not, one readable reason per
//! failed part, saying what was expected and what was found.
//!
//! Shared by a flow step's `expect:` (the runner checks each answer as it comes) and the
//! verdict's step expectations, so both judge a response by the same rule. Headers are judged as
//! a request's headers are ([`super::evaluate`]), so their value matchers mean the same on both
//! sides and a secret-named header's value stays out of the reason.

use serde_json::Value;

use super::request::{RequestView, evaluate};
use crate::json_compare::json_contains;
use crate::observe::ReceivedResponse;
use crate::scenario::model::{RequestMatcher, ResponseCheck, ValueCheck};

/// Checks a response against a [`ResponseCheck`]; returns one reason per failed condition.
pub(crate) fn check_response(check: &ResponseCheck, response: &ReceivedResponse) -> Vec<String> {
    let mut failures = Vec::new();
    if !check.status.is_empty() && !check.status.contains(&response.status) {
        let expected = match check.status.as_slice() {
            [one] => one.to_string(),
            many => {
                let codes: Vec<String> = many.iter().map(u16::to_string).collect();
                format!("one of {}", codes.join(", "))
            }
        };
        failures.push(format!(
            "status: expected {expected}, got {}",
            response.status
        ));
    }
    if !check.headers.is_empty() {
        let matcher = RequestMatcher {
            headers: check.headers.clone(),
            ..RequestMatcher::default()
        };
        let view = RequestView {
            method: "",
            path: "",
            query: "",
            headers: &response.headers,
            body: &[],
        };
        failures.extend(evaluate(&matcher, &view).misses);
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

fn check_jsonpath(body: &Value, path: &str, check: &ValueCheck) -> Option<String> {
    let parsed = match serde_json_path::JsonPath::parse(path) {
        Ok(parsed) => parsed,
        Err(err) => return Some(format!("`{path}`: {err}")),
    };
    let nodes = parsed.query(body).all();
    if holds(check, &nodes) {
        return None;
    }
    let expected = describe(check);
    Some(match nodes.as_slice() {
        [] => format!("`{path}`: selected nothing, expected {expected}"),
        [one] => format!("`{path}`: expected {expected}, got `{one}`"),
        many => format!(
            "`{path}`: expected {expected}, got {} values none of which matches",
            many.len()
        ),
    })
}

/// Whether `check` holds for the values a JSONPath selected.
fn holds(check: &ValueCheck, nodes: &[&Value]) -> bool {
    match check {
        ValueCheck::Equals(expected) => nodes.iter().any(|node| json_contains(node, expected)),
        ValueCheck::Present(present) => nodes.is_empty() != *present,
        ValueCheck::NonEmpty => nodes.iter().any(|node| !is_empty(node)),
        ValueCheck::Contains(part) => nodes.iter().any(|node| text(node).contains(part.as_str())),
        ValueCheck::Regex(pattern) => nodes.iter().any(|node| pattern.0.is_match(&text(node))),
        ValueCheck::OneOf(options) => nodes
            .iter()
            .any(|node| options.iter().any(|option| json_contains(node, option))),
        ValueCheck::Not(inner) => !holds(inner, nodes),
        ValueCheck::All(checks) => checks.iter().all(|check| holds(check, nodes)),
    }
}

/// `null`, `""`, `[]` and `{}` are empty.
fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(text) => text.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(fields) => fields.is_empty(),
        Value::Bool(_) | Value::Number(_) => false,
    }
}

/// A string's text; any other value as JSON.
fn text(value: &Value) -> std::borrow::Cow<'_, str> {
    match value {
        Value::String(text) => std::borrow::Cow::Borrowed(text),
        other => std::borrow::Cow::Owned(other.to_string()),
    }
}

/// What `check` expects, as a failure says it: `` `"done"` ``, `present`, `` one of `a`, `b` ``.
fn describe(check: &ValueCheck) -> String {
    let values = |values: &[Value]| {
        let shown: Vec<String> = values
            .iter()
            .map(|value| format!("`{}`", abbreviate(&value.to_string(), 120)))
            .collect();
        shown.join(", ")
    };
    match check {
        ValueCheck::Equals(expected) => format!("`{expected}`"),
        ValueCheck::Present(true) => "present".to_owned(),
        ValueCheck::Present(false) => "absent".to_owned(),
        ValueCheck::NonEmpty => "non-empty".to_owned(),
        ValueCheck::Contains(part) => format!("to contain `{}`", abbreviate(part, 120)),
        ValueCheck::Regex(pattern) => format!("to match `{}`", pattern.0.as_str()),
        ValueCheck::OneOf(options) => format!("one of {}", values(options)),
        ValueCheck::Not(inner) => format!("not {}", describe(inner)),
        ValueCheck::All(checks) => {
            let parts: Vec<String> = checks.iter().map(describe).collect();
            parts.join(" and ")
        }
    }
}

fn abbreviate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let cut: String = text.chars().take(max).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::scenario::model::{Pattern, ValueMatcher};

    fn response(status: u16, headers: &[(&str, &str)], body: &str) -> ReceivedResponse {
        ReceivedResponse {
            status,
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.to_owned(),
        }
    }

    fn at(path: &str, check: ValueCheck) -> ResponseCheck {
        ResponseCheck {
            jsonpath: vec![(path.to_owned(), check)],
            ..ResponseCheck::default()
        }
    }

    /// Each operator of issue 16, holding and failing, with the reason naming what was found.
    #[test]
    fn value_checks_say_what_they_expected_and_found() {
        let body = r#"{"id":"b-1","state":"queued","note":"","lines":[1,2],"error":null,"n":123}"#;
        let not = |inner: ValueCheck| ValueCheck::Not(Box::new(inner));
        let regex = |source: &str| ValueCheck::Regex(Pattern(regex::Regex::new(source).unwrap()));
        let cases: Vec<(&str, ValueCheck, Option<&str>)> = vec![
            ("$.id", ValueCheck::Equals(json!("b-1")), None),
            ("$.id", ValueCheck::Present(true), None),
            (
                "$.missing",
                ValueCheck::Present(true),
                Some("`$.missing`: selected nothing, expected present"),
            ),
            ("$.missing", ValueCheck::Present(false), None),
            (
                "$.id",
                ValueCheck::Present(false),
                Some(r#"`$.id`: expected absent, got `"b-1"`"#),
            ),
            ("$.lines", ValueCheck::NonEmpty, None),
            (
                "$.note",
                ValueCheck::NonEmpty,
                Some(r#"`$.note`: expected non-empty, got `""`"#),
            ),
            (
                "$.error",
                ValueCheck::NonEmpty,
                Some("`$.error`: expected non-empty, got `null`"),
            ),
            ("$.state", ValueCheck::Contains("que".into()), None),
            ("$.n", ValueCheck::Contains("12".into()), None),
            (
                "$.state",
                ValueCheck::Contains("done".into()),
                Some(r#"`$.state`: expected to contain `done`, got `"queued"`"#),
            ),
            ("$.id", regex("^b-[0-9]+$"), None),
            ("$.id", regex("-1"), None),
            (
                "$.id",
                regex("^x"),
                Some(r#"`$.id`: expected to match `^x`, got `"b-1"`"#),
            ),
            (
                "$.state",
                ValueCheck::OneOf(vec![json!("queued"), json!("done")]),
                None,
            ),
            (
                "$.state",
                ValueCheck::OneOf(vec![json!("failed"), json!("done")]),
                Some(r#"`$.state`: expected one of `"failed"`, `"done"`, got `"queued"`"#),
            ),
            ("$.state", not(ValueCheck::Equals(json!("failed"))), None),
            ("$.missing", not(ValueCheck::Equals(json!("failed"))), None),
            (
                "$.state",
                not(ValueCheck::OneOf(vec![json!("queued")])),
                Some(r#"`$.state`: expected not one of `"queued"`, got `"queued"`"#),
            ),
            (
                "$.lines[*]",
                not(ValueCheck::Equals(json!(2))),
                Some("`$.lines[*]`: expected not `2`, got 2 values none of which matches"),
            ),
            (
                "$.id",
                ValueCheck::All(vec![ValueCheck::Present(true), regex("^a")]),
                Some(r#"`$.id`: expected present and to match `^a`, got `"b-1"`"#),
            ),
        ];
        let response = response(200, &[], body);
        for (path, check, failure) in cases {
            let check = at(path, check);
            assert_eq!(
                check_response(&check, &response),
                failure.into_iter().collect::<Vec<_>>(),
                "{check:?}"
            );
        }
    }

    #[test]
    fn a_list_of_statuses_is_any_of_them_and_headers_match_as_requests_do() {
        let check = ResponseCheck {
            status: vec![200, 204],
            headers: vec![
                ("location".into(), ValueMatcher::Contains("/done".into())),
                ("set-cookie".into(), ValueMatcher::Present(true)),
            ],
            ..ResponseCheck::default()
        };
        let fine = response(
            204,
            &[("location", "/jobs/1/done"), ("set-cookie", "sid=s3cr3t")],
            "",
        );
        assert!(check_response(&check, &fine).is_empty());
        let wrong = response(302, &[("location", "/login")], "");
        assert_eq!(
            check_response(&check, &wrong),
            [
                "status: expected one of 200, 204, got 302",
                "header `location`: expected to contain `/done`, got `/login`",
                "header `set-cookie`: missing",
            ]
        );
        let one = ResponseCheck {
            status: vec![201],
            ..ResponseCheck::default()
        };
        assert_eq!(
            check_response(&one, &wrong),
            ["status: expected 201, got 302"]
        );
    }
}
