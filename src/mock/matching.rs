//! Request matching: whether a request meets a [`RequestMatcher`], and if not, why.

use crate::scenario::model::RequestMatcher;

/// A request as matching sees it: from the wire or from a journal entry.
#[derive(Debug, Clone, Copy)]
pub struct RequestView<'a> {
    /// Method, upper case.
    pub method: &'a str,
    /// Path without query.
    pub path: &'a str,
    /// Raw query string without `?`.
    pub query: &'a str,
    /// Headers (names lower case).
    pub headers: &'a [(String, String)],
    /// Raw body.
    pub body: &'a [u8],
}

/// The result of matching one request against one matcher.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MatchResult {
    /// Every condition that failed, as readable reasons (`path: expected /a, got /b`); empty when
    /// the request matched.
    pub misses: Vec<String>,
    /// How many conditions held; used to find the closest stub for near-miss reports.
    pub hits: usize,
    /// Path parameters captured by a path template.
    pub path_params: Vec<(String, String)>,
}

impl MatchResult {
    /// Whether every condition held.
    pub fn matched(&self) -> bool {
        self.misses.is_empty()
    }
}

/// Match a request against a matcher.
pub fn evaluate(matcher: &RequestMatcher, request: &RequestView<'_>) -> MatchResult {
    let _ = (matcher, request);
    unimplemented!("built by the mock-engine work")
}

/// Whether `actual` contains `expected` as a subset: objects may have more keys, each expected
/// array element must match some actual element, numbers compare by value, other scalars equal.
pub fn json_contains(actual: &serde_json::Value, expected: &serde_json::Value) -> bool {
    let _ = (actual, expected);
    unimplemented!("built by the mock-engine work")
}
