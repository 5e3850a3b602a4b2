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

/// How [`json_like`] loosens equality.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Loose {
    /// Arrays may hold their elements in any order.
    pub(crate) array_order: bool,
    /// Objects may have more keys, and arrays more elements.
    pub(crate) extra_elements: bool,
}

impl Loose {
    /// The flags in words, for a miss.
    pub(crate) fn describe(self) -> &'static str {
        match (self.array_order, self.extra_elements) {
            (false, false) => "equal",
            (true, false) => "any array order",
            (false, true) => "extra elements allowed",
            (true, true) => "any array order, extra elements allowed",
        }
    }
}

/// Most element pairs one unordered array comparison tries (expected × actual); past it, the
/// arrays do not compare equal, so a request cannot make a mock do quadratic work without bound.
pub(crate) const MAX_UNORDERED_PAIRS: usize = 100_000;

/// Whether `actual` equals `expected`, loosened as `loose` says (WireMock's `equalToJson` with
/// `ignoreArrayOrder` and `ignoreExtraElements`):
/// - objects: the same keys, or with `extra_elements` at least the expected ones;
/// - arrays in order: element by element; with `extra_elements`, the actual array may be longer
///   and its first elements are compared;
/// - arrays with `array_order`: each expected element is matched to its own actual element (a
///   bipartite matching); the same length unless `extra_elements`;
/// - numbers by value.
pub(crate) fn json_like(actual: &Value, expected: &Value, loose: Loose) -> bool {
    let mut budget = MAX_LIKE_COMPARISONS;
    like_within(actual, expected, loose, MAX_DEPTH, &mut budget)
}

/// Most value comparisons one [`json_like`] call makes, nested arrays included: the per-array
/// bound ([`MAX_UNORDERED_PAIRS`]) multiplies with each level of unordered arrays inside unordered
/// arrays, so the whole call has a budget too; past it, nothing compares equal.
pub(crate) const MAX_LIKE_COMPARISONS: usize = 1_000_000;

fn like_within(
    actual: &Value,
    expected: &Value,
    loose: Loose,
    depth: usize,
    budget: &mut usize,
) -> bool {
    let Some(depth) = depth.checked_sub(1) else {
        return false;
    };
    let Some(left) = budget.checked_sub(1) else {
        return false;
    };
    *budget = left;
    match (actual, expected) {
        (Value::Object(actual), Value::Object(expected)) => {
            (loose.extra_elements || actual.len() == expected.len())
                && expected.iter().all(|(key, value)| {
                    actual
                        .get(key)
                        .is_some_and(|actual| like_within(actual, value, loose, depth, budget))
                })
        }
        (Value::Array(actual), Value::Array(expected)) => {
            let lengths = if loose.extra_elements {
                actual.len() >= expected.len()
            } else {
                actual.len() == expected.len()
            };
            if !lengths {
                return false;
            }
            if !loose.array_order {
                return actual
                    .iter()
                    .zip(expected)
                    .all(|(a, e)| like_within(a, e, loose, depth, budget));
            }
            if actual.len().saturating_mul(expected.len()) > MAX_UNORDERED_PAIRS {
                return false;
            }
            // Kuhn's augmenting paths: `owner[a]` is the expected element actual `a` matches.
            let fits: Vec<Vec<usize>> = expected
                .iter()
                .map(|e| {
                    (0..actual.len())
                        .filter(|&a| like_within(&actual[a], e, loose, depth, budget))
                        .collect()
                })
                .collect();
            let mut owner: Vec<Option<usize>> = vec![None; actual.len()];
            (0..expected.len()).all(|e| {
                let mut seen = vec![false; actual.len()];
                augment(e, &fits, &mut owner, &mut seen)
            })
        }
        (Value::Number(a), Value::Number(b)) => numbers_equal(a, b),
        _ => actual == expected,
    }
}

/// Find an actual element for expected element `e`, moving earlier owners along if needed.
fn augment(e: usize, fits: &[Vec<usize>], owner: &mut [Option<usize>], seen: &mut [bool]) -> bool {
    for &a in &fits[e] {
        if seen[a] {
            continue;
        }
        seen[a] = true;
        if owner[a].is_none_or(|other| augment(other, fits, owner, seen)) {
            owner[a] = Some(e);
            return true;
        }
    }
    false
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
    fn json_like_loosens_as_asked() {
        let like = |actual: Value, expected: Value, array_order, extra_elements| {
            json_like(
                &actual,
                &expected,
                Loose {
                    array_order,
                    extra_elements,
                },
            )
        };
        // Strict: json_equals.
        assert!(like(
            json!({"a": [1, 2]}),
            json!({"a": [1, 2]}),
            false,
            false
        ));
        assert!(!like(
            json!({"a": [2, 1]}),
            json!({"a": [1, 2]}),
            false,
            false
        ));
        // Any order: same length, each element its own match.
        assert!(like(
            json!({"a": [2, 1]}),
            json!({"a": [1, 2]}),
            true,
            false
        ));
        assert!(!like(
            json!({"a": [2, 1, 3]}),
            json!({"a": [1, 2]}),
            true,
            false
        ));
        assert!(!like(
            json!({"a": [1, 2], "c": 1}),
            json!({"a": [1, 2]}),
            true,
            false
        ));
        // Extra elements: more keys, a longer array compared from its start.
        assert!(like(
            json!({"a": [1, 2, 3], "b": 1, "c": 2}),
            json!({"a": [1, 2], "b": 1}),
            false,
            true
        ));
        assert!(!like(
            json!({"a": [0, 1, 2], "b": 1}),
            json!({"a": [1, 2], "b": 1}),
            false,
            true
        ));
        // Both: one actual element cannot match two expected ones.
        assert!(!like(
            json!({"a": [2, 1]}),
            json!({"a": [2, 2]}),
            true,
            true
        ));
        assert!(like(
            json!({"a": [2, 3, 2]}),
            json!({"a": [2, 2]}),
            true,
            true
        ));
        // A matching that needs an earlier choice undone (augmenting path).
        assert!(like(
            json!([{"k": 1, "x": 1}, {"k": 1}]),
            json!([{"k": 1}, {"k": 1, "x": 1}]),
            true,
            true
        ));
        // Too many pairs to try: not equal, rather than quadratic work without bound.
        let big: Vec<u32> = (0..400).collect();
        assert!(!like(json!(big.clone()), json!(big), true, false));
        // Unordered arrays inside unordered arrays: each level within the pair bound, the whole
        // call past the comparison budget (300 × 300 outer pairs, each 300 × 300 inner ones).
        let inner: Vec<u32> = (0..300).collect();
        let nested = json!(vec![inner; 300]);
        assert!(!like(nested.clone(), nested, true, false));
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
