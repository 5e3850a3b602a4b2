//! A mock's rate limits, [`RateLimit`]: what a limit is counted per ([`LimitKey`]), its window or
//! concurrency ([`LimitKind`]) and its default answer ([`default_limit_response`]).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{RequestMatcher, ResponseBody, ResponseSpec};

/// One rate limit of a mock: a sliding window or a concurrency cap, per key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RateLimit {
    /// Name, shown in journals (`rate_limited`); defaults to `rate limit N` (1-based).
    pub name: String,
    /// What separates callers.
    pub key: LimitKey,
    /// Window or concurrency.
    pub kind: LimitKind,
    /// Which requests count (all when `None`).
    pub request: Option<RequestMatcher>,
    /// The answer to a blocked request; its headers and body are templates that also know
    /// `{{ retry_after }}`.
    pub response: ResponseSpec,
    /// Header added to answers that pass, holding how many requests remain.
    pub remaining_header: Option<String>,
}

/// What a rate limit counts separately.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum LimitKey {
    /// The value of this request header (lower case); requests without it share one bucket.
    Header(String),
    /// The bearer token of the `Authorization` header.
    Bearer,
    /// The client's IP address.
    ClientIp,
    /// One bucket for every caller.
    Global,
}

/// How a rate limit counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitKind {
    /// At most `limit` requests in any sliding window of `per` on the virtual clock.
    Window {
        /// Requests allowed per window.
        limit: u64,
        /// Window length.
        per: Duration,
    },
    /// At most this many requests in flight at once.
    Concurrent(u64),
}

/// Default answer of a blocked request: `429` with `Retry-After` and a JSON error.
pub fn default_limit_response() -> ResponseSpec {
    ResponseSpec {
        status: 429,
        headers: vec![("Retry-After".to_owned(), "{{ retry_after }}".to_owned())],
        body: ResponseBody::Json(serde_json::json!({ "error": "rate limit exceeded" })),
    }
}
