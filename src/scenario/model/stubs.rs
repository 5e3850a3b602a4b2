//! Stubs, [`Stub`]: one match-and-respond rule, its responses ([`ResponseSequence`],
//! [`ResponseSpec`]), its scenario-state rule ([`StateRule`]) and its store writes ([`StoreRule`]).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Fault, RequestMatcher};

/// One match-and-respond rule.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stub {
    /// Optional name, shown in near-miss reports and journals; defaults to `stub N` (1-based).
    pub name: Option<String>,
    /// Priority: 1 is the highest; default 5 (as WireMock).
    pub priority: u8,
    /// What a request must look like.
    pub request: RequestMatcher,
    /// What to answer, in order.
    pub responses: ResponseSequence,
    /// Scenario state condition and transition (WireMock-style), if any.
    #[serde(default)]
    pub state: Option<StateRule>,
    /// Writes to the mock's key/value store when the stub answers.
    #[serde(default)]
    pub store: Option<StoreRule>,
    /// Deliberate failures, in file order; the first whose selector holds fires.
    #[serde(default)]
    pub faults: Vec<Fault>,
}

/// Default stub priority (WireMock's default).
pub const DEFAULT_PRIORITY: u8 = 5;

/// The responses of a stub, answered in order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResponseSequence {
    /// At least one response.
    pub responses: Vec<ResponseSpec>,
    /// What happens after the last response was given.
    pub after_last: AfterLast,
}

/// What a response sequence does once exhausted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AfterLast {
    /// Keep answering the last response (the default).
    Stick,
    /// Start again from the first response.
    Cycle,
}

/// One HTTP response a stub gives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseSpec {
    /// Status code.
    pub status: u16,
    /// Headers in order; a `json` body adds `content-type: application/json` unless given.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: ResponseBody,
}

/// A response body. File bodies are read at load time, so a mock needs no file access.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum ResponseBody {
    /// No body.
    Empty,
    /// A JSON document (from `json:` or a `.json` `body_file`).
    Json(Value),
    /// Text (from `body:` or a non-JSON `body_file`, which must be UTF-8).
    Text(String),
    /// Text sent exactly as it is, not a template (`template: false`): `{{` and `}}` are text.
    Raw(String),
}

/// A stub's scenario-state rule: match only in state `when`, move to `set` after answering.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateRule {
    /// The state machine's name; every machine starts in [`INITIAL_STATE`].
    pub machine: String,
    /// The state the machine must be in for the stub to match.
    pub when: Option<String>,
    /// The state the machine moves to once the stub answered.
    pub set: Option<String>,
}

/// The state every machine starts in (as WireMock).
pub const INITIAL_STATE: &str = "Started";

/// Writes to the mock's key/value store; keys and values are templates rendered per request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreRule {
    /// Key → value templates to set.
    pub set: Vec<(String, String)>,
    /// Key templates to delete.
    pub delete: Vec<String>,
}
