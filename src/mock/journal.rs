//! The journal of a mock: every request it received, in order, bounded.
//!
//! When the bound is reached further requests are not stored but counted in
//! [`Journal::dropped`], so an observation always says how much it is missing.

use serde::{Deserialize, Serialize};

/// What a mock received, as the control API returns it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Journal {
    /// Stored requests, oldest first.
    pub entries: Vec<JournalEntry>,
    /// Requests received after the bound was reached (not stored).
    pub dropped: u64,
}

/// One request a mock received and what it answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// 1-based arrival number at this mock since the last reset.
    pub seq: u64,
    /// Virtual time of arrival, RFC 3339.
    pub at: String,
    /// Method, upper case.
    pub method: String,
    /// Path without the query string.
    pub path: String,
    /// Raw query string without `?` (empty when none).
    pub query: String,
    /// Headers in arrival order, names lower case.
    pub headers: Vec<(String, String)>,
    /// Body as UTF-8 (invalid bytes replaced).
    pub body: String,
    /// The stub that answered, if any.
    pub matched: Option<MatchedStub>,
    /// Status code answered.
    pub status: u16,
}

/// The stub that answered a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchedStub {
    /// 0-based index in the mock's stub list.
    pub index: usize,
    /// The stub's name, or `stub N` (1-based).
    pub name: String,
}
