//! Expectations, [`Expectation`]: checks on what a run observed ([`Check`]), with count ranges
//! ([`CountRange`]); and the response checks a step's `expect` and a poll's `until` share
//! ([`ResponseCheck`]), with the operators a JSONPath's value may be checked by ([`ValueCheck`]).

use std::fmt;

use serde::Serialize;
use serde_json::Value;

use super::{Pattern, RequestMatcher, Span, ValueMatcher};

/// Checks on a target response.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ResponseCheck {
    /// Allowed status codes (`status: 200` or `status: [200, 204]`); empty: not checked.
    pub status: Vec<u16>,
    /// Expected JSON subset of the body.
    pub json: Option<Value>,
    /// JSONPath → check of the value it selects.
    pub jsonpath: Vec<(String, ValueCheck)>,
    /// Response headers (names lower case) → what their value must be, as request matchers'
    /// `headers` take it.
    pub headers: Vec<(String, ValueMatcher)>,
    /// Substring the body must contain.
    pub body_contains: Option<String>,
}

/// A check of the JSON values a JSONPath selects in a response body.
///
/// In a scenario a plain value is [`ValueCheck::Equals`]; a mapping whose keys are all operator
/// names ([`VALUE_CHECK_OPERATORS`]) is an operator (several: all must hold); `equals:` escapes a
/// value that looks like an operator.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueCheck {
    /// Some selected value contains this one as a subset (equal, for scalars).
    Equals(Value),
    /// The path selects something (`true`) or nothing (`false`).
    Present(bool),
    /// Some selected value is not `null`, `""`, `[]` or `{}`.
    NonEmpty,
    /// Some selected value contains this text (a string's text; other values as JSON).
    Contains(String),
    /// Some selected value matches this regex, unanchored (a string's text; other values as
    /// JSON).
    Regex(Pattern),
    /// Some selected value contains one of these as a subset.
    OneOf(Vec<Value>),
    /// The inner check does not hold (a path that selects nothing holds `not: VALUE`).
    Not(Box<ValueCheck>),
    /// Every one of these holds.
    All(Vec<ValueCheck>),
}

/// The keys that make a mapping under a response check's JSONPath a [`ValueCheck`] operator.
pub const VALUE_CHECK_OPERATORS: &[&str] = &[
    "equals",
    "present",
    "non_empty",
    "contains",
    "regex",
    "one_of",
    "not",
];

/// A check on the observation that holds when the incident is fixed.
#[derive(Debug, Clone, Serialize)]
pub struct Expectation {
    /// Name, shown in reports; defaults to a description of the check.
    pub name: String,
    /// Where it is in the file.
    #[serde(skip)]
    pub span: Span,
    /// The check.
    pub check: Check,
}

/// What an expectation checks.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// The last response of a flow step passes these checks.
    Step {
        /// Name of the step.
        step: String,
        /// Checks.
        check: ResponseCheck,
    },
    /// The number of requests in a mock's journal that match `request`.
    MockCount {
        /// Mock name.
        mock: String,
        /// Which requests count (all when empty).
        request: RequestMatcher,
        /// Allowed count.
        count: CountRange,
    },
    /// Requests matching these matchers arrived at the mock in this order (other requests may
    /// come between them).
    MockOrder {
        /// Mock name.
        mock: String,
        /// Matchers in the expected order.
        order: Vec<RequestMatcher>,
    },
    /// The number of requests the mock received that matched no stub.
    Unmatched {
        /// Mock name.
        mock: String,
        /// Allowed count.
        count: CountRange,
    },
    /// Records of a collection of a provider mock's state at the end of the run.
    MockState {
        /// Mock name (a mock with a provider).
        mock: String,
        /// Collection name, e.g. `invoices`.
        collection: String,
        /// `where`: only records whose field (a dotted path into the record) equals the value.
        filter: Vec<(String, serde_json::Value)>,
        /// Allowed number of selected records, if checked.
        count: Option<CountRange>,
        /// No two selected records share this field's value (a dotted path), if checked.
        unique_by: Option<String>,
        /// `fields`: every selected record has these values at these fields (dotted paths).
        fields: Vec<(String, serde_json::Value)>,
    },
}

/// An inclusive allowed range for a count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CountRange {
    /// Minimum (inclusive).
    pub min: u64,
    /// Maximum (inclusive); `None` means unbounded.
    pub max: Option<u64>,
}

impl CountRange {
    /// Exactly `n`.
    pub fn exactly(n: u64) -> Self {
        CountRange {
            min: n,
            max: Some(n),
        }
    }

    /// Whether `n` is in the range.
    pub fn contains(&self, n: u64) -> bool {
        n >= self.min && self.max.is_none_or(|max| n <= max)
    }
}

impl fmt::Display for CountRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.max {
            Some(max) if max == self.min => write!(f, "exactly {max}"),
            Some(max) if self.min == 0 => write!(f, "at most {max}"),
            Some(max) => write!(f, "between {} and {max}", self.min),
            None => write!(f, "at least {}", self.min),
        }
    }
}
