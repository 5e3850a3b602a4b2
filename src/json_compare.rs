//! JSON comparison by value: the subset relation ([`json_contains`]) that stubs, step checks and
//! expectations use, and equality ([`json_equals`]) with numbers compared by value.
//!
//! A neutral helper shared by request matching (the engine's stubs, the verdict's request
//! counts) and response checks.
//!
//! Both recurse once per level of the expected value, which comes from a scenario (YAML nests at
//! most 64 levels, a `json_file` at most 128, serde_json's limit) and so is shallow today; the
//! recursion is bounded all the same ([`MAX_DEPTH`]), so that a value built by another route can
//! never overflow the stack: deeper than that, nothing compares equal.

use serde_json::{Number, Value};

/// Deepest nesting compared; a value nested deeper never contains or equals another.
pub(crate) const MAX_DEPTH: usize = 256;

/// Whether `actual` contains `expected` as a JSON subset.
///
/// Objects: every expected key is present and its value contains the expected value (extra keys
/// are fine). Arrays: every expected element is contained in some actual element (order and
/// extra elements do not matter). Numbers compare by value (`1` equals `1.0`). Other scalars
/// compare equal.
pub(crate) fn json_contains(actual: &Value, expected: &Value) -> bool {
    contains_within(actual, expected, MAX_DEPTH)
}

fn contains_within(actual: &Value, expected: &Value, depth: usize) -> bool {
    let Some(depth) = depth.checked_sub(1) else {
        return false;
    };
    match (actual, expected) {
        (Value::Object(actual), Value::Object(expected)) => expected.iter().all(|(key, value)| {
            actual
                .get(key)
                .is_some_and(|actual| contains_within(actual, value, depth))
        }),
        (Value::Array(actual), Value::Array(expected)) => expected.iter().all(|value| {
            actual
                .iter()
                .any(|actual| contains_within(actual, value, depth))
        }),
        (Value::Number(a), Value::Number(b)) => numbers_equal(a, b),
        _ => actual == expected,
    }
}

/// Whether two JSON documents are equal: same keys (in any order), arrays element by element,
/// numbers by value (`1` equals `1.0`).
pub(crate) fn json_equals(actual: &Value, expected: &Value) -> bool {
    equals_within(actual, expected, MAX_DEPTH)
}

fn equals_within(actual: &Value, expected: &Value, depth: usize) -> bool {
    let Some(depth) = depth.checked_sub(1) else {
        return false;
    };
    match (actual, expected) {
        (Value::Object(actual), Value::Object(expected)) => {
            actual.len() == expected.len()
                && expected.iter().all(|(key, value)| {
                    actual
                        .get(key)
                        .is_some_and(|actual| equals_within(actual, value, depth))
                })
        }
        (Value::Array(actual), Value::Array(expected)) => {
            actual.len() == expected.len()
                && actual
                    .iter()
                    .zip(expected)
                    .all(|(a, e)| equals_within(a, e, depth))
        }
        (Value::Number(a), Value::Number(b)) => numbers_equal(a, b),
        _ => actual == expected,
    }
}

fn numbers_equal(a: &Number, b: &Number) -> bool {
    if let (Some(a), Some(b)) = (a.as_i64(), b.as_i64()) {
        return a == b;
    }
    if let (Some(a), Some(b)) = (a.as_u64(), b.as_u64()) {
        return a == b;
    }
    match (a.as_f64(), b.as_f64()) {
        (Some(a), Some(b)) => a == b,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn json_contains_table() {
        let cases = [
            (json!({"a": 1, "b": 2}), json!({"a": 1}), true),
            (json!({"a": 1}), json!({"a": 1.0}), true),
            (json!({"a": 1.5}), json!({"a": 1}), false),
            (
                json!({"a": {"b": [1, 2, 3]}}),
                json!({"a": {"b": [3, 1]}}),
                true,
            ),
            (json!({"a": {"b": [1, 2]}}), json!({"a": {"b": [4]}}), false),
            (
                json!([{"id": 1, "x": 2}, {"id": 2}]),
                json!([{"id": 2}]),
                true,
            ),
            (json!({"a": null}), json!({"a": null}), true),
            (json!({}), json!({"a": null}), false),
            (json!("1"), json!(1), false),
            (json!(true), json!(true), true),
            (json!([]), json!([]), true),
            (json!(u64::MAX), json!(u64::MAX), true),
            (json!(-1), json!(-1.0), true),
        ];
        for (actual, expected, want) in cases {
            assert_eq!(
                json_contains(&actual, &expected),
                want,
                "{actual} contains {expected}"
            );
        }
    }

    /// Values nested deeper than [`MAX_DEPTH`] (built here directly: serde_json's parser stops at
    /// 128) compare unequal instead of overflowing the stack of a 2 MiB worker thread.
    #[test]
    fn deep_values_are_bounded() {
        fn nested(levels: usize) -> Value {
            let mut value = json!(1);
            for _ in 0..levels {
                value = Value::Array(vec![value]);
            }
            value
        }
        let shallow = nested(MAX_DEPTH - 1);
        assert!(json_equals(&shallow, &shallow.clone()));
        assert!(json_contains(&shallow, &shallow.clone()));
        let outcome = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(|| {
                let deep = nested(100_000);
                let answers = (json_equals(&deep, &deep), json_contains(&deep, &deep));
                // serde_json drops a value recursively: take it apart by hand.
                let mut value = deep;
                while let Value::Array(mut items) = value {
                    value = items.pop().unwrap_or(Value::Null);
                }
                answers
            })
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(outcome, (false, false));
    }

    #[test]
    fn json_equals_table() {
        let cases = [
            (
                json!({"a": 1, "b": [1, 2]}),
                json!({"b": [1, 2], "a": 1.0}),
                true,
            ),
            (json!({"a": 1, "b": 2}), json!({"a": 1}), false),
            (json!([1, 2]), json!([2, 1]), false),
            (json!([1, 2]), json!([1]), false),
            (json!(null), json!(null), true),
        ];
        for (actual, expected, want) in cases {
            assert_eq!(
                json_equals(&actual, &expected),
                want,
                "{actual} == {expected}"
            );
        }
    }
}
