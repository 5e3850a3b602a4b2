//! The flow, [`Step`]s: what each step does ([`StepAction`]), the requests it sends
//! ([`RequestSpec`]) and the values it captures ([`Capture`]).

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use super::duration_text;
use super::{Pattern, ResponseCheck, Span, WebhookSpec};
use crate::scenario::template::Template;

/// One step of the flow.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// Name, unique in the flow; defaults to `step N`.
    pub name: String,
    /// Where the step starts in the file.
    #[serde(skip)]
    pub span: Span,
    /// What the step does.
    pub action: StepAction,
}

/// What a step does.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepAction {
    /// Send one request to the target.
    Request {
        /// The request.
        request: RequestSpec,
        /// Checks on the response; a failed check fails the run and stops the flow.
        expect: Option<ResponseCheck>,
        /// Values to capture from the response for later templates.
        capture: Vec<Capture>,
    },
    /// Repeat a request until its response passes `until`, or the deadline passes.
    Poll {
        /// The request.
        request: RequestSpec,
        /// Condition that ends the poll.
        until: ResponseCheck,
        /// Pause between attempts.
        #[serde(with = "duration_text")]
        every: Duration,
        /// Deadline.
        #[serde(with = "duration_text")]
        within: Duration,
        /// Values to capture from the final response.
        capture: Vec<Capture>,
    },
    /// A mock sends a request to the target (a webhook), with retries on the virtual clock.
    Webhook {
        /// What to send and how.
        webhook: WebhookSpec,
        /// Checks on the answer to the last delivery attempt.
        expect: Option<ResponseCheck>,
    },
    /// Move every mock's virtual clock forward.
    AdvanceClock {
        /// How far.
        #[serde(with = "duration_text")]
        by: Duration,
    },
}

/// A request of the flow: to the target, or to a mock (`mock:`, someone else acting on the third
/// party's system). Strings are templates.
#[derive(Debug, Clone, Serialize)]
pub struct RequestSpec {
    /// The mock it goes to instead of the target (`mock: NAME`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mock: Option<String>,
    /// Method, upper case.
    pub method: String,
    /// Path (with an optional query string), templated.
    pub path: Template,
    /// Extra query parameters.
    pub query: Vec<(String, Template)>,
    /// Headers.
    pub headers: Vec<(String, Template)>,
    /// Body, if any.
    pub body: Option<RequestBody>,
    /// Per-request timeout; default 30s.
    #[serde(with = "duration_text")]
    pub timeout: Duration,
}

/// Default per-request timeout of flow steps.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A request body; string leaves of JSON are templates rendered at run time.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestBody {
    /// JSON (from `json:` or `json_file:`), sent with `content-type: application/json`.
    Json(Value),
    /// Text (from `body:` or `body_file:`), templated.
    Text(Template),
}

/// Capture a value from a response into a variable.
#[derive(Debug, Clone, Serialize)]
pub struct Capture {
    /// Variable name.
    pub name: String,
    /// Where the text comes from.
    pub from: CaptureSource,
    /// A regex applied to that text: the value is its first group, else its whole match.
    pub regex: Option<Pattern>,
}

/// Where a capture takes its text.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CaptureSource {
    /// The one node a JSONPath selects in the JSON body.
    Json(String),
    /// The first response header of this name (lower case), e.g. a redirect's `location`.
    Header(String),
    /// The value of the cookie of this name a `Set-Cookie` header sets.
    Cookie(String),
    /// The body as text.
    Body,
}
