//! The flow, [`Step`]s: what each step does ([`StepAction`]), the requests it sends
//! ([`RequestSpec`]), the logins it drives as a browser ([`SsoLogin`]) and the values it
//! captures ([`Capture`]).

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
        /// Most redirects followed (`follow_redirects: true`, `max_redirects`), as an
        /// `sso_login` follows them; `None`: a redirect is the step's response.
        #[serde(skip_serializing_if = "Option::is_none")]
        follow_redirects: Option<u32>,
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
    /// Act as a browser: send `start`, follow redirects and auto-submitting HTML forms with a
    /// cookie jar, only to the target and the run's mocks; checks and captures apply to the final
    /// response.
    SsoLogin {
        /// Where the login starts and how it goes.
        login: SsoLogin,
        /// Checks on the final response; a failed check fails the run and stops the flow.
        expect: Option<ResponseCheck>,
        /// Values to capture from the final response (and, for `cookie:`, the cookie jar).
        capture: Vec<Capture>,
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

/// A login driven as a browser would drive it (`sso_login:`).
#[derive(Debug, Clone, Serialize)]
pub struct SsoLogin {
    /// The first request (method default `GET`, path default `/`, to the target unless `mock:`).
    pub start: RequestSpec,
    /// The mock that is the identity provider (`idp:`), if named.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idp: Option<String>,
    /// The user who logs in (`user:`), as the identity provider's query parameter picks them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<UserSelection>,
    /// Most requests followed after `start` (redirects and form posts), 1 … 100.
    pub max_hops: u32,
}

/// Default [`SsoLogin::max_hops`]: Chrome's and Firefox's redirect limit.
pub const DEFAULT_MAX_HOPS: u32 = 20;

/// Largest [`SsoLogin::max_hops`] (and `max_redirects` of a request step) a scenario may ask
/// for.
pub const MAX_MAX_HOPS: u32 = 100;

/// How an identity provider mock is told who logs in: a query parameter on every request to it.
#[derive(Debug, Clone, Serialize)]
pub struct UserSelection {
    /// The parameter: `login_hint` for `provider: oidc`, `user` for `provider: saml`.
    pub param: String,
    /// Its value, templated.
    pub value: Template,
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
