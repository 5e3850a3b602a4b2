//! The validated scenario: what a scenario file means once loading has checked it.
//!
//! Everything here is built once by [`crate::scenario::load`] from the spanned YAML tree and is
//! then trusted by the runner, the mock engine and the verdict logic: names are unique, references
//! resolve, durations are durations, regexes compile, templates parse and name known variables,
//! and files a scenario names are read and known to stay inside the scenario root.
//!
//! The mock configuration types ([`MockSpec`] and what it holds) also travel as JSON to a mock
//! engine through its control API, so they derive `Serialize` and `Deserialize`; that JSON is an
//! internal wire format, never user input.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::scenario::template::Template;

mod intacct;
pub use intacct::*;

/// A position in a scenario file: byte offsets plus 1-based line and column of the start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Span {
    /// Byte offset of the first character.
    pub start: usize,
    /// Byte offset one past the last character.
    pub end: usize,
    /// 1-based line of `start`.
    pub line: usize,
    /// 1-based column (in characters) of `start`.
    pub col: usize,
}

/// One incident: its customer environment, the failing flow and what correct looks like.
#[derive(Debug, Clone, Serialize)]
pub struct Scenario {
    /// Unique id; also the snapshot file name (`snapshots/<id>.snap`).
    pub id: String,
    /// Ticket-style one-line title.
    pub title: String,
    /// Support ticket reference, e.g. `SUP-4821`.
    pub ticket: Option<String>,
    /// Customers affected.
    pub customers: Vec<String>,
    /// `sev1` .. `sev4`.
    pub severity: Option<Severity>,
    /// Free-form tags for selection and reports.
    pub tags: Vec<String>,
    /// Classification of the root cause.
    pub root_cause: Option<RootCause>,
    /// Virtual clock settings shared by the mocks of a run.
    pub clock: ClockSpec,
    /// The mocks to start, in file order; names are unique.
    pub mocks: Vec<MockSpec>,
    /// How the system under test is started and reached; a target named on the command line or
    /// in `reenact.toml` supplies the launch when the scenario has none.
    pub target: TargetSpec,
    /// The ordered steps to replay.
    pub flow: Vec<Step>,
    /// Checks that hold when the incident is fixed.
    pub expect: Vec<Expectation>,
    /// Snapshot settings.
    pub snapshot: SnapshotSpec,
    /// Where the scenario came from.
    #[serde(skip)]
    pub source: Source,
}

/// Where a scenario was loaded from.
#[derive(Debug, Clone, Default)]
pub struct Source {
    /// The scenario file, as given (relative paths stay relative for display).
    pub path: PathBuf,
    /// The folder files named by the scenario must stay inside.
    pub root: PathBuf,
}

/// Incident severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Outage or data loss for many customers.
    Sev1,
    /// A major feature broken for a customer.
    Sev2,
    /// Degraded behaviour with a workaround.
    Sev3,
    /// Cosmetic or minor.
    Sev4,
}

/// Root cause classification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RootCause {
    /// A bug in the product.
    ProductDefect,
    /// The customer's or our configuration.
    Configuration,
    /// Bad data.
    Data,
    /// The third party misbehaved.
    ExternalDependency,
    /// Not known yet.
    Unknown,
}

/// Virtual clock settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ClockSpec {
    /// Virtual time at the start of the run, as RFC 3339 (`2026-10-31T23:00:00Z`). `None` means
    /// the wall-clock time when the run starts.
    pub start: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Mocks
// ---------------------------------------------------------------------------------------------

/// Default number of requests a mock journal keeps before it starts counting drops.
pub const DEFAULT_JOURNAL_LIMIT: usize = 10_000;

/// One fake third-party service.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MockSpec {
    /// Name, unique in the scenario; used in templates (`{{ mocks.NAME.url }}`) and expectations.
    pub name: String,
    /// Stubs in file order. Matching picks the highest priority (lowest number), then file order.
    pub stubs: Vec<Stub>,
    /// Journal bound: requests kept before further ones are only counted as dropped.
    pub journal_limit: usize,
    /// Rate limits, checked in order before any stub; all must pass.
    #[serde(default)]
    pub rate_limits: Vec<RateLimit>,
    /// Serve HTTPS on the traffic port with a certificate from the run's CA (`tls: true`).
    #[serde(default)]
    pub tls: bool,
    /// Extra DNS names of the mock (`hostnames: [api.xero.com]`), lowercase RFC 1123 names,
    /// unique in the scenario: on the `docker` backend, network aliases a container target
    /// reaches the mock under; on HTTPS mocks, names its certificate carries. In-process they
    /// change nothing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hostnames: Vec<String>,
    /// The built-in provider this mock fakes (`provider:` with its `with:` settings), answering
    /// every request no stub matched: stubs come first, as overrides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<ProviderSpec>,
    /// Mock-level faults (`faults: [{ when, .. }]`) on the provider's routes, in file order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<RouteFault>,
}

impl MockSpec {
    /// A mock called `name` with nothing configured yet: no stubs, no provider, plain HTTP, the
    /// default journal bound. Set what a test or a tool needs with struct update syntax.
    pub fn new(name: impl Into<String>) -> MockSpec {
        MockSpec {
            name: name.into(),
            stubs: Vec::new(),
            journal_limit: DEFAULT_JOURNAL_LIMIT,
            rate_limits: Vec::new(),
            tls: false,
            hostnames: Vec::new(),
            provider: None,
            faults: Vec::new(),
        }
    }
}

/// A built-in provider and its settings; travels in the configuration the runner sends a mock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum ProviderSpec {
    /// The Xero Accounting API, its OAuth 2.0 identity server and `/connections`.
    Xero(XeroSettings),
    /// Sage Intacct's XML Web Services gateway (`/ia/xml/xmlgw.phtml`).
    Intacct(IntacctSettings),
    /// Sage Business Cloud Accounting (v3.1), its OAuth 2.0 token endpoint and `X-Business`.
    Sage(SageSettings),
    /// The QuickBooks Online Accounting API and Intuit's OAuth 2.0 endpoints.
    #[serde(rename = "quickbooks")]
    QuickBooks(QuickBooksSettings),
}

impl ProviderSpec {
    /// The name written after `provider:`.
    pub fn name(&self) -> &'static str {
        match self {
            ProviderSpec::Xero(_) => "xero",
            ProviderSpec::Intacct(_) => "intacct",
            ProviderSpec::Sage(_) => "sage",
            ProviderSpec::QuickBooks(_) => "quickbooks",
        }
    }

    /// The collections of its state that `state:` expectations can name.
    pub fn collections(&self) -> &'static [&'static str] {
        match self {
            ProviderSpec::Xero(_) => &[
                "connections",
                "contacts",
                "invoices",
                "payments",
                "manual_journals",
            ],
            ProviderSpec::Intacct(_) => &["vendors", "bills", "payments", "journals"],
            ProviderSpec::Sage(_) => &[
                "businesses",
                "contacts",
                "purchase_invoices",
                "ledger_accounts",
            ],
            ProviderSpec::QuickBooks(_) => &["bills", "vendors"],
        }
    }
}

/// `with:` settings of `provider: xero` (documented in `docs/providers/xero.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct XeroSettings {
    /// The organisations a consent connects, in order (`GET /connections` lists them).
    pub tenants: Vec<XeroTenant>,
    /// Xero's rate limits on the Accounting API, when the scenario turns them on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limits: Option<XeroRateLimits>,
    /// `PeriodLockDate` (`YYYY-MM-DD`): invoices dated on or before it are refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_lock_date: Option<String>,
    /// `EndOfYearLockDate` (`YYYY-MM-DD`): invoices dated on or before it are refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_of_year_lock_date: Option<String>,
    /// The app's webhook key: Xero signs every webhook with it (`x-xero-signature`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_key: Option<SecretText>,
    /// The currencies the organisation subscribes to (ISO 4217 codes); a document in another is
    /// refused. Any currency when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currencies: Option<Vec<String>>,
    /// The chart of accounts: a line's `AccountCode` must name an active one. Any code when
    /// absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accounts: Option<Vec<XeroAccount>>,
    /// Contacts the organisation has when a run starts, in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contacts: Option<Vec<XeroContact>>,
}

/// A contact a Xero organisation starts with (`with.contacts`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct XeroContact {
    /// `Name`, unique.
    pub name: String,
    /// `ContactStatus`: `ACTIVE` or `ARCHIVED`.
    pub status: String,
}

/// One account of a Xero organisation's chart of accounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct XeroAccount {
    /// `Code`, e.g. `493`.
    pub code: String,
    /// `Name`, e.g. `Travel - National`.
    pub name: String,
    /// `Status`: `ACTIVE` or `ARCHIVED`.
    pub status: String,
    /// The rate of tax on lines booked to it, in percent as a decimal string (`"20"`, `"12.5"`);
    /// none when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_rate: Option<String>,
}

/// A secret setting, such as a webhook key: its `Debug` form never shows it, so neither does a
/// log line or a parsed-scenario dump. It travels as plain text in the configuration the runner
/// sends a mock, which needs it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretText(pub String);

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretText([redacted])")
    }
}

/// `with.rate_limits` of `provider: xero`: per-tenant and per-app limits; defaults are Xero's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct XeroRateLimits {
    /// Calls in progress at once per tenant (Xero: 5).
    pub concurrent: u64,
    /// Calls per tenant per minute (Xero: 60).
    pub minute: u64,
    /// Calls per tenant per day (Xero: 5000).
    pub day: u64,
    /// Calls per minute across all tenants (Xero: 10000).
    pub app_minute: u64,
}

impl Default for XeroRateLimits {
    fn default() -> Self {
        XeroRateLimits {
            concurrent: 5,
            minute: 60,
            day: 5000,
            app_minute: 10_000,
        }
    }
}

/// One Xero organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct XeroTenant {
    /// The tenant id (`xero-tenant-id`), a UUID.
    pub id: String,
    /// The organisation's name (`tenantName`).
    pub name: String,
}

/// `with:` settings of `provider: sage` (documented in `docs/providers/sage.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SageSettings {
    /// The user's businesses, in order; exactly one is the lead business.
    pub businesses: Vec<SageBusiness>,
    /// The app's registered redirect URI: a code exchange naming another gets `invalid_grant`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
}

/// One Sage business of the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SageBusiness {
    /// The business id (`X-Business`).
    pub id: String,
    /// The business's name.
    pub name: String,
    /// Whether it is the user's lead business, used when a request has no `X-Business`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub lead: bool,
}

/// `with:` settings of `provider: quickbooks` (documented in `docs/providers/quickbooks.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuickBooksSettings {
    /// The companies the app is authorised for: `/v3/company/<id>/...` answers only for these.
    pub realms: Vec<QuickBooksRealm>,
    /// A refresh older than this returns a new refresh token (default 24 h).
    pub refresh_rotation: Duration,
    /// How long a refresh token that was rotated away still refreshes (default 1 h).
    pub refresh_lag: Duration,
    /// The books closed date (`YYYY-MM-DD`): bills dated on or before it are refused (6210).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub books_closed_date: Option<String>,
    /// Most items one batch request may hold (default 10).
    pub batch_max_items: u64,
    /// QuickBooks' throttling per realm, when the scenario turns it on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limits: Option<QuickBooksRateLimits>,
    /// The webhook verifier token: the mock signs webhooks with it (`intuit-signature`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verifier_token: Option<SecretText>,
}

impl QuickBooksSettings {
    /// Default `refresh_rotation`: "roughly every 24 h" [INTUIT-FAQ].
    pub const DEFAULT_REFRESH_ROTATION: Duration = Duration::from_secs(24 * 3600);
    /// Default `refresh_lag`: one hour (the catalog leaves the lag open; reenact's choice).
    pub const DEFAULT_REFRESH_LAG: Duration = Duration::from_secs(3600);
    /// Default `batch_max_items`: 10, the current batch page [INTUIT-BATCH].
    pub const DEFAULT_BATCH_MAX_ITEMS: u64 = 10;
}

/// One QuickBooks company.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuickBooksRealm {
    /// The realm id (company id): digits.
    pub id: String,
    /// The company's name.
    pub name: String,
}

/// `with.rate_limits` of `provider: quickbooks`: per-realm limits; defaults are Intuit's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuickBooksRateLimits {
    /// Requests per realm per minute, batches included (Intuit: 500).
    pub minute: u64,
    /// Requests in flight at once per realm (Intuit: 10).
    pub concurrent: u64,
    /// Batch requests per realm per minute (Intuit: 40).
    pub batch_minute: u64,
}

impl Default for QuickBooksRateLimits {
    fn default() -> Self {
        QuickBooksRateLimits {
            minute: 500,
            concurrent: 10,
            batch_minute: 40,
        }
    }
}

/// A mock-level fault: a stub fault that fires on the requests `when` selects among those the
/// provider answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteFault {
    /// Method, if given, compared case-insensitively.
    pub method: Option<String>,
    /// Exact path (no query string).
    pub path: String,
    /// Selector and action, as on a stub.
    pub fault: Fault,
}

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

/// A deliberate failure a stub injects instead of (or on top of) its normal answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    /// Optional name, shown in the journal entry of each request it fired on.
    pub name: Option<String>,
    /// Which requests it fires on.
    pub selector: FaultSelector,
    /// What the client sees.
    pub action: FaultAction,
}

/// Which of a stub's requests a fault fires on. Every condition present must hold; none present
/// means every request. `n` below is the 1-based count of requests the stub matched.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FaultSelector {
    /// `n` is one of these (empty: any).
    pub nth: Vec<u64>,
    /// `n <= times`: the first `times` requests.
    pub times: Option<u64>,
    /// `n` is a multiple of `every`.
    pub every: Option<u64>,
    /// The virtual clock has advanced at least this far since its start.
    pub after: Option<Duration>,
    /// Fires at random with this chance, from a PRNG seeded per fault.
    pub probability: Option<Probability>,
}

/// A seeded chance: the same seed gives the same faults on every run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Probability {
    /// Chance per request, `0.0 ..= 1.0`.
    pub chance: f64,
    /// PRNG seed (default 0).
    pub seed: u64,
}

/// Default number of garbage bytes sent by [`FaultAction::Garbage`].
pub const DEFAULT_GARBAGE_BYTES: u64 = 64;
/// Default chunk size of [`FaultAction::SlowBody`].
pub const DEFAULT_SLOW_CHUNK: u64 = 16;
/// Default pause between chunks of [`FaultAction::SlowBody`].
pub const DEFAULT_SLOW_EVERY: Duration = Duration::from_millis(100);
/// Longest a [`FaultAction::Timeout`] holds a connection.
pub const MAX_TIMEOUT_HOLD: Duration = Duration::from_secs(600);

/// What the client sees when a fault fires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum FaultAction {
    /// This response instead of the stub's; the stub takes no effect.
    Respond(ResponseSpec),
    /// The stub's response, sent this much (wall-clock) time late; the stub takes effect.
    Delay(Duration),
    /// Nothing until the client gives up (at most [`MAX_TIMEOUT_HOLD`]); no effect.
    Timeout,
    /// A TCP reset (RST) before any byte; no effect.
    Reset,
    /// The connection closed (FIN) without a byte; no effect.
    Empty,
    /// The stub's headers with the full `content-length`, then `bytes` body bytes (default:
    /// half the body), then close; the stub takes effect.
    Truncated {
        /// Body bytes sent before the close.
        bytes: Option<u64>,
    },
    /// `bytes` bytes that are not HTTP (from a seeded PRNG), then close; no effect.
    Garbage {
        /// How many bytes.
        bytes: u64,
    },
    /// The stub's response with its body sent `chunk` bytes at a time, `every` apart; the stub
    /// takes effect.
    SlowBody {
        /// Bytes per write.
        chunk: u64,
        /// Pause before each chunk.
        every: Duration,
    },
    /// The stub takes effect (its sequence advances, its store writes and state transition apply,
    /// the journal records it as matched with the status it would have sent), then the client
    /// does not learn it.
    CommitThen(CommitThen),
}

/// What the client sees after a `commit_then` fault committed the stub's effect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum CommitThen {
    /// The stub's response, this much late.
    Delay(Duration),
    /// A TCP reset.
    Reset,
    /// This response instead.
    Respond(ResponseSpec),
}

/// Default stub priority (WireMock's default).
pub const DEFAULT_PRIORITY: u8 = 5;

/// The conditions a request must meet; every present condition must hold.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RequestMatcher {
    /// HTTP method, upper case; `None` matches any.
    pub method: Option<String>,
    /// Path condition; `None` matches any path.
    pub path: Option<PathMatcher>,
    /// Query parameters: each named parameter must be present and match.
    pub query: Vec<(String, ValueMatcher)>,
    /// Headers (names compared case-insensitively): each must be present and match.
    pub headers: Vec<(String, ValueMatcher)>,
    /// Body conditions; all must hold.
    pub body: Vec<BodyMatcher>,
}

/// How a request path is matched.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum PathMatcher {
    /// The path equals this string exactly (query string excluded).
    Exact(String),
    /// A template such as `/invoices/{id}`: literal segments must equal, `{name}` segments match
    /// any one non-empty segment and are captured as path parameters.
    Template(String),
    /// The whole path matches this regex.
    Regex(Pattern),
}

/// How one string value (query parameter, header, form field) is matched.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum ValueMatcher {
    /// Equal to this string.
    Equals(String),
    /// Contains this substring.
    Contains(String),
    /// Matches this regex (unanchored unless the regex anchors itself).
    Regex(Pattern),
    /// Present (`true`) or absent (`false`), whatever its value.
    Present(bool),
}

/// One condition on the request body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BodyMatcher {
    /// The body parses as JSON equal to this value.
    JsonEquals {
        /// Expected document.
        value: Value,
    },
    /// The body parses as JSON and contains this value as a subset: objects may have more keys,
    /// arrays must contain a matching element for each expected element.
    JsonPartial {
        /// Expected subset.
        value: Value,
    },
    /// The JSONPath selects at least one node; with `value`, some selected node must contain it
    /// as a subset.
    JsonPath {
        /// RFC 9535 JSONPath expression, e.g. `$.Invoices[0].Type`.
        path: String,
        /// Expected value (subset), if any.
        value: Option<Value>,
    },
    /// The body parses as XML and the XPath 1.0 expression selects something; with `value`, its
    /// string value must equal it.
    XPath {
        /// XPath 1.0 expression.
        path: String,
        /// Expected string value, if any.
        value: Option<String>,
    },
    /// The body is `application/x-www-form-urlencoded` and each named field matches.
    Form {
        /// Field conditions.
        fields: Vec<(String, ValueMatcher)>,
    },
    /// The raw body (as UTF-8) contains this text.
    Contains {
        /// Expected substring.
        text: String,
    },
}

/// A compiled regex that serializes as its source.
#[derive(Clone)]
pub struct Pattern(pub regex::Regex);

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "/{}/", self.0.as_str())
    }
}

impl Serialize for Pattern {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.as_str())
    }
}

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let source = String::deserialize(d)?;
        regex::Regex::new(&source)
            .map(Pattern)
            .map_err(serde::de::Error::custom)
    }
}

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
}

// ---------------------------------------------------------------------------------------------
// Target
// ---------------------------------------------------------------------------------------------

/// How the system under test runs. Everything is optional in a scenario: a target named on the
/// command line or in `reenact.toml` supplies `launch`, and the scenario adds env and readiness.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TargetSpec {
    /// How to start or reach it, when the scenario says.
    pub launch: Option<Launch>,
    /// Environment for a command target; values are templates.
    pub env: Vec<(String, Template)>,
    /// Readiness probe.
    pub ready: Option<ReadySpec>,
    /// Where this scenario's mocks (and a container target) run, when the scenario says;
    /// `--backend` wins over it, and it wins over `run.backend` in `reenact.toml`.
    pub backend: Option<BackendChoice>,
}

/// A backend a scenario names in `target.backend`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BackendChoice {
    /// Mocks in the reenact process.
    Inprocess,
    /// Mocks (and a container target) in Docker containers.
    Docker,
}

/// Start a process, start a container, or use a URL already serving.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Launch {
    /// Program and arguments (templates: `{{ target.port }}` gives the port to listen on).
    Command(Vec<Template>),
    /// Base URL of a running target.
    Url(Template),
    /// A container of a local image on the run's Docker network.
    Image(ImageLaunch),
}

/// A target that runs as a container (`target.image`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImageLaunch {
    /// The local image, e.g. `reenact-target-ledger-sync:0a1b2c3d4e5f6a7b`.
    pub image: String,
    /// Arguments to the image's entrypoint, replacing its `CMD` (as docker-compose's `command`
    /// does); `None` keeps the image's own.
    pub args: Option<Vec<Template>>,
    /// The port the target listens on inside its container (`{{ target.port }}`).
    pub port: u16,
}

/// The port a container target listens on unless the scenario says otherwise.
pub const DEFAULT_TARGET_PORT: u16 = 8080;

/// The name a container target has on the run's network (so mocks reach it as
/// `http://reenact-target:PORT`); no mock may take it.
pub const TARGET_ALIAS: &str = "reenact-target";

/// Readiness probe: an HTTP request that must answer 2xx within a deadline.
#[derive(Debug, Clone, Serialize)]
pub struct ReadySpec {
    /// Method of the probe.
    pub method: String,
    /// Path of the probe.
    pub path: String,
    /// Deadline from process start.
    #[serde(with = "duration_text")]
    pub within: Duration,
}

/// Default readiness deadline.
pub const DEFAULT_READY_WITHIN: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------------
// Flow
// ---------------------------------------------------------------------------------------------

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

/// A webhook: a request a mock sends to the target. Strings are templates rendered in the flow.
#[derive(Debug, Clone, Serialize)]
pub struct WebhookSpec {
    /// The sending mock.
    pub mock: String,
    /// Method, upper case; default `POST`.
    pub method: String,
    /// Path on the target (with an optional query string).
    pub path: Template,
    /// Headers, in order.
    pub headers: Vec<(String, Template)>,
    /// The body, if any.
    pub body: Option<WebhookBody>,
    /// How the body is signed, if it is.
    pub sign: Option<SignSpec>,
    /// When and how often delivery is attempted.
    pub retry: RetrySpec,
    /// `xero:`: the body and signature are the Xero provider's (an event, or the Intent to
    /// Receive handshake); then `body` and `sign` are absent.
    pub xero: Option<XeroWebhookSpec>,
    /// `quickbooks:`: the body and signature are the QuickBooks provider's (a change event about
    /// a record of its state); then `body` and `sign` are absent.
    pub quickbooks: Option<Box<QuickBooksWebhookSpec>>,
}

/// `quickbooks:` of a webhook step: one change event the sending `provider: quickbooks` mock
/// writes from its state and signs with its verifier token.
#[derive(Debug, Clone, Serialize)]
pub struct QuickBooksWebhookSpec {
    /// The entity, `Bill` or `Vendor`.
    pub entity: String,
    /// `Create` or `Update`.
    pub operation: String,
    /// The record's `Id` (template, e.g. a capture).
    pub id: Template,
    /// The realm of the record; the mock's first realm when absent.
    pub realm: Option<String>,
    /// Whether the payload is a CloudEvents array instead of the legacy `eventNotifications`.
    pub cloudevents: bool,
}

/// `xero:` of a webhook step: what the sending `provider: xero` mock delivers.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum XeroWebhookSpec {
    /// `{ event: invoice.update, resource: ID }`: one event about a record of the mock's state.
    Event {
        /// `eventCategory`, e.g. `INVOICE`.
        category: String,
        /// `eventType`, e.g. `UPDATE`.
        event_type: String,
        /// The record's id (template, e.g. a capture).
        resource: Template,
    },
    /// `{ intent_to_receive: true }`: Xero's handshake of correctly and incorrectly signed empty
    /// payloads.
    IntentToReceive,
}

/// The body of a webhook.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookBody {
    /// JSON (from `json:`), sent compact with `content-type: application/json`; string leaves
    /// are templates.
    Json(Value),
    /// Text (from `body:`, or a UTF-8 `body_file:`), templated; every byte outside the
    /// placeholders is sent as it is.
    Text(Template),
    /// Bytes of a `body_file:` that is not UTF-8, sent as they are.
    Bytes(Vec<u8>),
}

/// How a webhook is signed: an HMAC over the exact body bytes, in a header.
#[derive(Debug, Clone, Serialize)]
pub struct SignSpec {
    /// The key (template; `{{ env.NAME }}` keeps it out of the file).
    pub secret: Template,
    /// Header carrying the signature, e.g. `x-xero-signature`.
    pub header: String,
    /// MAC algorithm.
    pub algorithm: SignAlgorithm,
    /// How the MAC is written.
    pub encoding: SignatureEncoding,
    /// Text before the encoded MAC, e.g. `sha256=`.
    pub prefix: String,
}

/// MAC algorithms for webhook signatures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignAlgorithm {
    /// HMAC with SHA-256 (Xero, QuickBooks, Stripe, GitHub, Shopify).
    HmacSha256,
}

/// How a signature is written into its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignatureEncoding {
    /// Standard base64 with padding (Xero, QuickBooks).
    Base64,
    /// Lower-case hex (GitHub, Stripe).
    Hex,
}

/// The vendor's retry policy for a webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RetrySpec {
    /// Attempts in all, at least 1.
    pub attempts: u32,
    /// Virtual time between attempts: the mocks' clocks move on by this much, nobody sleeps.
    #[serde(with = "duration_text")]
    pub backoff: Duration,
    /// How long the target has to answer one attempt.
    #[serde(with = "duration_text")]
    pub timeout: Duration,
}

/// Default time the target has to answer one webhook attempt.
pub const DEFAULT_WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);

impl Default for RetrySpec {
    fn default() -> Self {
        RetrySpec {
            attempts: 1,
            backoff: Duration::ZERO,
            timeout: DEFAULT_WEBHOOK_TIMEOUT,
        }
    }
}

/// Checks on a target response.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ResponseCheck {
    /// Expected status code.
    pub status: Option<u16>,
    /// Expected JSON subset of the body.
    pub json: Option<Value>,
    /// JSONPath → expected value (subset) pairs.
    pub jsonpath: Vec<(String, Value)>,
    /// Substring the body must contain.
    pub body_contains: Option<String>,
}

/// Capture a value from a response body into a variable.
#[derive(Debug, Clone, Serialize)]
pub struct Capture {
    /// Variable name.
    pub name: String,
    /// JSONPath selecting exactly one node.
    pub jsonpath: String,
}

// ---------------------------------------------------------------------------------------------
// Expectations
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Snapshot
// ---------------------------------------------------------------------------------------------

/// Snapshot settings.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SnapshotSpec {
    /// JSONPath expressions (RFC 9535) whose values are replaced by `[redacted]` everywhere in the
    /// observation before it is stored or compared.
    pub redact: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// Rate limits, scenario states and the store of a mock
// ---------------------------------------------------------------------------------------------

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

/// Serialize durations as the text a scenario would use (`200ms`, `3s`).
pub mod duration_text {
    use std::time::Duration;

    use serde::Serializer;

    /// Serialize a duration as text.
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::scenario::duration::format(*d))
    }
}
