//! The engine of a mock, [`Engine`]: stubs, response sequences, journal and virtual clock, shared
//! by the traffic and admin listeners behind one `Arc`.
//!
//! The engine knows nothing about sockets: the edge ([`crate::mock::server`]) reads a request,
//! hands it to [`Engine::respond`] and writes back what it gets. That keeps the engine the same
//! whether it runs in-process or as `reenact mock serve` inside a container.
//!
//! Hot path: the stub set sits behind an `RwLock<Arc<StubSet>>` read only long enough to clone the
//! `Arc`, so a reconfigure swaps it without stalling traffic; responses are prepared once per
//! configuration (status, header map, serialized body) unless they hold templates; the journal
//! lock is held only to push. Rate limits ([`crate::mock::ratelimit`]) are checked before any
//! stub; the state/store lock ([`crate::mock::state`]) is taken only by mocks that use them; a
//! stub's faults ([`crate::mock::fault`]) are drawn only once it matched, and the edge carries out
//! what the [`Answer`] says.

use std::cell::{Cell, OnceCell};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use bytes::Bytes;
use hyper::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use hyper::{Response, StatusCode};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::matching::{CompiledMatcher, ParsedBody, RequestView};
use crate::mock::clock::VirtualClock;
use crate::mock::control::RunUrls;
use crate::mock::fault::{self, EdgeAction, PreparedAction, PreparedFault};
use crate::mock::journal::Recorder;
use crate::mock::providers::kit::Fake;
use crate::mock::providers::{
    Provider, ProviderPayload, ProviderRequest, ProviderState, ProviderWebhook,
    ProviderWebhookError,
};
use crate::mock::ratelimit::{Decision, Limiter};
use crate::mock::render::{RequestVars, Responder, path_params};
use crate::mock::state::MockState;
use crate::observe::{Journal, JournalEntry, MatchedStub};
use crate::scenario::model::{
    AfterLast, MockSpec, PathMatcher, ResponseBody, ResponseSpec, StateRule,
};
use crate::scenario::template::{RenderError, Template, TemplateSyntaxError};
use crate::secrets::redact_text;

/// Header set on answers to requests that matched no stub.
pub(crate) const UNMATCHED_HEADER: &str = "x-reenact-unmatched";

/// Why a mock configuration cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A stub is malformed (possible only for configurations that bypassed the scenario loader,
    /// e.g. sent straight to the control API).
    #[error("invalid stub `{stub}` in mock `{mock}`: {reason}")]
    InvalidStub {
        /// The mock's name.
        mock: String,
        /// The stub's name (`faults` and `rate_limits` for the mock's own).
        stub: String,
        /// What is wrong.
        reason: Box<StubError>,
    },
}

impl ConfigError {
    /// Stub `stub` of mock `mock` cannot be served, for `reason`.
    fn invalid_stub(mock: &str, stub: &str, reason: StubError) -> Self {
        ConfigError::InvalidStub {
            mock: mock.to_owned(),
            stub: stub.to_owned(),
            reason: Box::new(reason),
        }
    }
}

/// Why a stub, fault or rate limit cannot be prepared. The scenario loader reports the same
/// problems with their location first: these guard configurations sent straight to the control
/// API, which answers with the text.
///
/// Errors of the template parser are part of the message (the text the control API answers),
/// so they are fields, not sources.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StubError {
    /// A request condition can never hold ([`CompiledMatcher::problems`] says why).
    #[error("{0}")]
    Matcher(String),
    /// The stub has no response.
    #[error("it has no responses")]
    NoResponses,
    /// Not an HTTP status.
    #[error("invalid status `{0}`")]
    Status(u16),
    /// Not a valid header name.
    #[error("invalid header name `{0}`")]
    HeaderName(String),
    /// Not a valid value of its header.
    #[error("invalid value `{value}` for header `{name}`")]
    HeaderValue {
        /// The header.
        name: String,
        /// The value.
        value: String,
    },
    /// A header value is a template that does not parse.
    #[error("invalid template `{value}` for header `{name}`: {error}")]
    HeaderTemplate {
        /// The header.
        name: String,
        /// The value.
        value: String,
        /// What is wrong with it.
        error: TemplateSyntaxError,
    },
    /// A text body is a template that does not parse.
    #[error("invalid body template: {0}")]
    BodyTemplate(TemplateSyntaxError),
    /// A string of a JSON body is a template that does not parse.
    #[error("invalid template `{text}`: {error}")]
    JsonTemplate {
        /// The string.
        text: String,
        /// What is wrong with it.
        error: TemplateSyntaxError,
    },
    /// A key or value of a `store` rule is a template that does not parse.
    #[error("invalid store template `{text}`: {error}")]
    StoreTemplate {
        /// The key or value.
        text: String,
        /// What is wrong with it.
        error: TemplateSyntaxError,
    },
    /// A fault's probability is outside 0..=1.
    #[error("probability `{0}` is not between 0 and 1")]
    Probability(f64),
    /// A fault's `nth`, `times` or `every` is 0.
    #[error("fault selectors count requests from 1")]
    SelectorFromZero,
    /// A rate limit is invalid.
    #[error("rate limit `{name}`: {reason}")]
    RateLimit {
        /// The rate limit's name.
        name: String,
        /// What is wrong with it.
        reason: Box<StubError>,
    },
}

/// A request as the edge read it, ready for the engine.
#[derive(Debug)]
pub(crate) struct Incoming<'a> {
    /// Method as sent.
    pub method: &'a str,
    /// Path without the query string.
    pub path: &'a str,
    /// Raw query string without `?`.
    pub query: &'a str,
    /// Headers in arrival order, names lower case.
    pub headers: Vec<(String, String)>,
    /// The full body.
    pub body: Bytes,
    /// The client's address, when known (for `client_ip` rate limits).
    pub peer: Option<IpAddr>,
    /// Whether it came over TLS (the scheme of the mock's own URL, `self.url`).
    pub tls: bool,
}

/// An operation that reached the mock on another channel than HTTP (the bank's SFTP server),
/// journaled like a request: see `docs/providers/bank.md`, "Journal".
#[derive(Debug)]
pub(crate) struct Operation {
    /// The operation, e.g. `SFTP-GET`.
    pub method: &'static str,
    /// What it acted on, e.g. `/inbox/stmt.sta`.
    pub path: String,
    /// Details as header pairs, names lower case (e.g. `("sftp-user", "ledger")`).
    pub headers: Vec<(String, String)>,
    /// The bytes uploaded, as UTF-8 (invalid bytes replaced); empty for the others.
    pub body: String,
    /// The HTTP status with the outcome's meaning (`200`, `401`, `403`, `404`, `413`).
    pub status: u16,
    /// Whether the provider took it (journaled as matched by `provider NAME`).
    pub routed: bool,
}

/// What the engine answers a request with: the response, and what the edge must do with it when
/// a fault fired.
#[derive(Debug)]
pub(crate) struct Answer {
    /// The HTTP response (not written at all for `timeout`, `reset`, `empty` and `garbage`).
    pub response: Response<Bytes>,
    /// Connection-level behaviour for the edge; `None` means write the response as usual.
    pub edge: Option<EdgeAction>,
}

/// The state one mock serves from; see the module documentation.
#[derive(Debug)]
pub(crate) struct Engine {
    stubs: RwLock<Arc<StubSet>>,
    journal: Recorder,
    clock: VirtualClock,
    /// Scenario-state machines and the key/value store.
    state: Mutex<MockState>,
    /// Requests received since the last reset (seeds `{{ uuid }}`).
    requests: AtomicU64,
    /// The provider's entities and tokens, when the mock has a provider.
    provider_state: Mutex<Option<ProviderState>>,
    /// The run's mock URLs (`{{ mocks.NAME.url }}`), once the runner sent them.
    urls: RwLock<Arc<RunUrls>>,
}

/// One configuration's stubs, prepared for serving.
#[derive(Debug)]
struct StubSet {
    mock: String,
    stubs: Vec<PreparedStub>,
    /// Indices into `stubs` in matching order: priority, then file order.
    order: Vec<usize>,
    /// Rate limits, checked before any stub.
    limiter: Limiter,
    /// Whether any stub reads or writes state or the store (then matching takes the state lock).
    stateful: bool,
    /// The provider answering what no stub matched.
    provider: Option<Provider>,
    /// Mock-level faults on the provider's routes, grouped by route in first-appearance order.
    routes: Vec<PreparedRoute>,
}

/// The mock-level faults of one route (`when: { method, path }`).
#[derive(Debug)]
struct PreparedRoute {
    /// `METHOD path`, or `path` alone when any method matches.
    name: String,
    method: Option<String>,
    path: String,
    faults: Vec<PreparedFault<PreparedResponse>>,
    /// Requests to this route the provider received since the last reset.
    matched: AtomicU64,
}

impl PreparedRoute {
    fn selects(&self, method: &str, path: &str) -> bool {
        self.path == path
            && self
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
    }
}

#[derive(Debug)]
struct PreparedStub {
    name: String,
    matcher: CompiledMatcher,
    responses: Vec<Responder>,
    after_last: AfterLast,
    /// The path template, for `{{ request.path.NAME }}`.
    path_template: Option<String>,
    state: Option<StateRule>,
    store: Option<PreparedStore>,
    /// Requests this stub answered since the last reset; also its sequence position.
    served: AtomicU64,
    /// Faults in file order; empty for most stubs, which then never touch `matched`.
    faults: Vec<PreparedFault<PreparedResponse>>,
    /// Requests this stub matched since the last reset, faulted or not (for fault selectors).
    matched: AtomicU64,
}

impl PreparedStub {
    /// Advance the stub's sequence and return the response at that position.
    fn advance(&self) -> &Responder {
        let n = self.served.fetch_add(1, Ordering::Relaxed);
        let last = self.responses.len() - 1;
        let position = match self.after_last {
            AfterLast::Stick => usize::try_from(n).map_or(last, |n| n.min(last)),
            AfterLast::Cycle => (n % self.responses.len() as u64) as usize,
        };
        tracing::trace!(stub = %self.name, position, "stub matched");
        &self.responses[position]
    }
}

/// What a matched request gets: response, journaled status, edge action, fault description.
struct Outcome {
    response: Response<Bytes>,
    /// The status journaled: `0` when no status line reaches the client.
    status: u16,
    edge: Option<EdgeAction>,
    fault: Option<String>,
}

impl Outcome {
    /// The response as it is: no fault fired.
    fn plain(response: Response<Bytes>) -> Outcome {
        Outcome {
            status: response.status().as_u16(),
            response,
            edge: None,
            fault: None,
        }
    }
}

/// Store writes of a stub, parsed once.
#[derive(Debug)]
struct PreparedStore {
    set: Vec<(Template, Template)>,
    delete: Vec<Template>,
}

/// A response prepared once: status, header map and serialized body.
#[derive(Debug)]
pub(crate) struct PreparedResponse {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl PreparedResponse {
    /// A fresh response with the prepared parts.
    pub(crate) fn to_response(&self) -> Response<Bytes> {
        let mut response = Response::new(self.body.clone());
        *response.status_mut() = self.status;
        if !self.headers.is_empty() {
            *response.headers_mut() = self.headers.clone();
        }
        response
    }
}

impl StubSet {
    fn prepare(spec: &MockSpec) -> Result<StubSet, ConfigError> {
        let mut stubs = Vec::with_capacity(spec.stubs.len());
        for (index, stub) in spec.stubs.iter().enumerate() {
            let name = stub
                .name
                .clone()
                .unwrap_or_else(|| format!("stub {}", index + 1));
            let invalid = |reason| ConfigError::invalid_stub(&spec.name, &name, reason);
            let matcher = CompiledMatcher::new(&stub.request);
            if let Some(problem) = matcher.problems().into_iter().next() {
                return Err(invalid(StubError::Matcher(problem)));
            }
            if stub.responses.responses.is_empty() {
                return Err(invalid(StubError::NoResponses));
            }
            let responses = stub
                .responses
                .responses
                .iter()
                .map(Responder::prepare)
                .collect::<Result<Vec<_>, _>>()
                .map_err(invalid)?;
            let store = match &stub.store {
                Some(rule) => Some(prepare_store(rule).map_err(invalid)?),
                None => None,
            };
            let path_template = match &stub.request.path {
                Some(PathMatcher::Template(template)) => Some(template.clone()),
                _ => None,
            };
            let faults = stub
                .faults
                .iter()
                .map(|fault| PreparedFault::new(fault, prepare_response))
                .collect::<Result<Vec<_>, _>>()
                .map_err(invalid)?;
            stubs.push(PreparedStub {
                name,
                matcher,
                responses,
                after_last: stub.responses.after_last,
                path_template,
                state: stub.state.clone(),
                store,
                served: AtomicU64::new(0),
                faults,
                matched: AtomicU64::new(0),
            });
        }
        let mut order: Vec<usize> = (0..stubs.len()).collect();
        // Stable: equal priorities keep file order.
        order.sort_by_key(|&i| spec.stubs[i].priority);
        let provider = spec
            .provider
            .as_ref()
            .map(|provider| Provider::new(&spec.name, provider));
        let mut limits = spec.rate_limits.clone();
        if let Some(provider) = &provider {
            limits.extend(provider.rate_limits());
        }
        let limiter = Limiter::new(&limits)
            .map_err(|reason| ConfigError::invalid_stub(&spec.name, "rate_limits", reason))?;
        // Templates may read the store and states, so a templated mock takes the lock too.
        let stateful = stubs.iter().any(|s| {
            s.state.is_some()
                || s.store.is_some()
                || s.responses.iter().any(Responder::is_templated)
        });
        let mut routes: Vec<PreparedRoute> = Vec::new();
        for route in &spec.faults {
            let fault = PreparedFault::new(&route.fault, prepare_response)
                .map_err(|reason| ConfigError::invalid_stub(&spec.name, "faults", reason))?;
            let method = route.method.as_ref().map(|m| m.to_ascii_uppercase());
            match routes
                .iter_mut()
                .find(|r| r.method == method && r.path == route.path)
            {
                Some(existing) => existing.faults.push(fault),
                None => routes.push(PreparedRoute {
                    name: match &method {
                        Some(m) => format!("{m} {}", route.path),
                        None => route.path.clone(),
                    },
                    method,
                    path: route.path.clone(),
                    faults: vec![fault],
                    matched: AtomicU64::new(0),
                }),
            }
        }
        Ok(StubSet {
            mock: spec.name.clone(),
            stubs,
            order,
            limiter,
            stateful,
            provider,
            routes,
        })
    }
}

fn prepare_store(rule: &crate::scenario::model::StoreRule) -> Result<PreparedStore, StubError> {
    let parse = |text: &String| {
        Template::parse(text).map_err(|error| StubError::StoreTemplate {
            text: text.clone(),
            error,
        })
    };
    Ok(PreparedStore {
        set: rule
            .set
            .iter()
            .map(|(k, v)| Ok((parse(k)?, parse(v)?)))
            .collect::<Result<_, StubError>>()?,
        delete: rule.delete.iter().map(parse).collect::<Result<_, _>>()?,
    })
}

/// Prepare a response that holds no templates.
pub(crate) fn prepare_response(spec: &ResponseSpec) -> Result<PreparedResponse, StubError> {
    let status = parse_status(spec.status)?;
    let mut headers = HeaderMap::with_capacity(spec.headers.len() + 1);
    for (name, value) in &spec.headers {
        let header = parse_header_name(name)?;
        let value = HeaderValue::from_str(value).map_err(|_| StubError::HeaderValue {
            name: name.clone(),
            value: value.clone(),
        })?;
        headers.append(header, value);
    }
    let body = match &spec.body {
        ResponseBody::Empty => Bytes::new(),
        ResponseBody::Text(text) | ResponseBody::Raw(text) => Bytes::from(text.clone()),
        ResponseBody::Json(value) => {
            if !headers.contains_key(CONTENT_TYPE) {
                headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            }
            Bytes::from(value.to_string())
        }
    };
    Ok(PreparedResponse {
        status,
        headers,
        body,
    })
}

/// `status` as an HTTP status.
pub(crate) fn parse_status(status: u16) -> Result<StatusCode, StubError> {
    StatusCode::from_u16(status).map_err(|_| StubError::Status(status))
}

/// `name` as a header name.
pub(crate) fn parse_header_name(name: &str) -> Result<HeaderName, StubError> {
    HeaderName::from_bytes(name.as_bytes()).map_err(|_| StubError::HeaderName(name.to_owned()))
}

impl Engine {
    /// An engine serving `spec` on `clock`.
    pub(crate) fn new(spec: &MockSpec, clock: VirtualClock) -> Result<Engine, ConfigError> {
        let set = StubSet::prepare(spec)?;
        let provider_state = set.provider.as_ref().map(Provider::fresh_state);
        Ok(Engine {
            stubs: RwLock::new(Arc::new(set)),
            journal: Recorder::new(spec.journal_limit),
            clock,
            state: Mutex::new(MockState::default()),
            requests: AtomicU64::new(0),
            provider_state: Mutex::new(provider_state),
            urls: RwLock::new(Arc::default()),
        })
    }

    /// The virtual clock.
    pub(crate) fn clock(&self) -> &VirtualClock {
        &self.clock
    }

    /// A copy of the journal.
    pub(crate) fn journal(&self) -> Journal {
        self.journal.snapshot()
    }

    /// Clear the journal (and its dropped count), rewind every response sequence and fault
    /// count, forget rate limit windows, scenario states, the store and the provider's state,
    /// and put the clock back at its start.
    pub(crate) fn reset(&self) {
        let set = self.current();
        for stub in &set.stubs {
            stub.served.store(0, Ordering::Relaxed);
            stub.matched.store(0, Ordering::Relaxed);
        }
        for route in &set.routes {
            route.matched.store(0, Ordering::Relaxed);
        }
        set.limiter.reset();
        *self.lock_provider() = set.provider.as_ref().map(Provider::fresh_state);
        *self.lock_state() = MockState::default();
        self.requests.store(0, Ordering::Relaxed);
        self.journal.clear();
        self.clock.reset();
    }

    /// Replace the stubs with `spec`'s and reset; on error the old configuration stays.
    pub(crate) fn configure(&self, spec: &MockSpec) -> Result<(), ConfigError> {
        let prepared = Arc::new(StubSet::prepare(spec)?);
        *self.lock_provider() = prepared.provider.as_ref().map(Provider::fresh_state);
        *self.stubs.write().unwrap_or_else(PoisonError::into_inner) = prepared;
        *self.urls.write().unwrap_or_else(PoisonError::into_inner) = Arc::default();
        *self.lock_state() = MockState::default();
        self.requests.store(0, Ordering::Relaxed);
        self.journal.reset_with_limit(spec.journal_limit);
        self.clock.reset();
        Ok(())
    }

    /// Know the run's mock URLs (until the next configuration).
    pub(crate) fn set_urls(&self, urls: RunUrls) {
        *self.urls.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(urls);
    }

    /// Stub state as JSON: `{"mock": NAME, "stubs": [{"name": .., "served": N}], "machines":
    /// {MACHINE: STATE}, "store": {KEY: VALUE}}`, stubs in file order; with a provider also
    /// `"provider": {"name": .., "state": {COLLECTION: [..], ..}}`.
    pub(crate) fn state(&self) -> Value {
        let set = self.current();
        let stubs: Vec<Value> = set
            .stubs
            .iter()
            .map(|s| json!({ "name": s.name, "served": s.served.load(Ordering::Relaxed) }))
            .collect();
        let state = self.lock_state();
        let mut out = json!({
            "mock": set.mock,
            "stubs": stubs,
            "machines": state.machines,
            "store": state.store,
        });
        drop(state);
        if let (Some(provider), Some(provider_state)) = (&set.provider, &*self.lock_provider()) {
            out["provider"] = json!({ "name": provider.name(), "state": provider_state.to_json(self.clock.now()) });
        }
        out
    }

    /// The payloads the provider writes for `webhook` now (see [`Provider::webhook`]), or why it
    /// cannot: no provider, or the provider's own reason.
    pub(crate) fn provider_webhook(
        &self,
        webhook: &ProviderWebhook,
    ) -> Result<Vec<ProviderPayload>, ProviderWebhookError> {
        let set = self.current();
        let Some(provider) = &set.provider else {
            return Err(ProviderWebhookError::NoProvider {
                mock: set.mock.clone(),
            });
        };
        let mut state = self.lock_provider();
        let Some(state) = state.as_mut() else {
            return Err(ProviderWebhookError::NoState);
        };
        provider.webhook(state, webhook, self.clock.now())
    }

    /// Run `f` on the provider when it is an `F`, with its state and the virtual now: how a
    /// listener of the provider's own (the bank's SFTP server) shares the state and clock of
    /// the HTTP routes. `None` when the mock has no provider of that kind (for now: a
    /// reconfigure may change it).
    pub(crate) fn with_provider<F: Fake, R>(
        &self,
        f: impl FnOnce(&F, &mut F::State, OffsetDateTime) -> R,
    ) -> Option<R> {
        let set = self.current();
        let fake = set.provider.as_ref()?.downcast::<F>()?;
        let mut state = self.lock_provider();
        let state = state.as_mut()?.downcast_mut::<F>()?;
        Some(f(fake, state, self.clock.now()))
    }

    /// Journal one operation that came on another channel than HTTP (an SFTP download): the
    /// mock's name for the provider as `matched`, the virtual now as `at`.
    pub(crate) fn record_operation(&self, operation: Operation) {
        let set = self.current();
        let matched = operation.routed.then(|| MatchedStub {
            index: set.stubs.len(),
            name: match &set.provider {
                Some(provider) => format!("provider {}", provider.name()),
                None => "provider".to_owned(),
            },
        });
        self.journal.record_with(|| JournalEntry {
            seq: 0,
            at: self.clock.now_rfc3339(),
            method: operation.method.to_owned(),
            path: operation.path,
            query: String::new(),
            headers: operation.headers,
            body: operation.body,
            matched,
            status: operation.status,
            rate_limited: None,
            fault: None,
        });
    }

    fn lock_provider(&self) -> MutexGuard<'_, Option<ProviderState>> {
        // The provider replaces whole entries, so a poisoned lock still holds a sound state.
        self.provider_state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_state(&self) -> MutexGuard<'_, MockState> {
        // Writes replace whole entries, so a poisoned lock still holds a sound state.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Answer one request: rate limits first, then the stubs (and their faults); journal it.
    pub(crate) fn respond(&self, request: Incoming<'_>) -> Answer {
        let set = self.current();
        let number = self.requests.fetch_add(1, Ordering::Relaxed) + 1;
        let view = RequestView {
            method: request.method,
            path: request.path,
            query: request.query,
            headers: &request.headers,
            body: &request.body,
        };
        let body = ParsedBody::new(&request.body);
        let scheme = if request.tls { "https" } else { "http" };
        let host = view
            .headers
            .iter()
            .find(|(name, _)| name == "host")
            .map(|(_, host)| host.as_str());
        let self_url = host.map(|host| format!("{scheme}://{host}"));
        let urls = self
            .urls
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let mock_urls = urls.as_reached(&set.mock, host);
        let vars = || RequestVars {
            request: &view,
            path_params: Vec::new(),
            mock: &set.mock,
            number,
            now: self.clock.now(),
            retry_after: None,
            store: None,
            machines: None,
            uuids: Cell::new(0),
            self_url: self_url.as_deref(),
            mock_urls,
            json: OnceCell::new(),
        };
        let mut pass = None;
        if !set.limiter.is_empty() {
            match set
                .limiter
                .check(&view, &body, request.peer, self.clock.offset())
            {
                Decision::Blocked {
                    limit,
                    name,
                    retry_after,
                    remaining,
                } => {
                    tracing::trace!(limit = %name, retry_after, "rate limited");
                    let mut response = match set.limiter.response(limit) {
                        Some(responder) => responder.respond(&RequestVars {
                            retry_after: Some(retry_after),
                            ..vars()
                        }),
                        None => json_response(StatusCode::TOO_MANY_REQUESTS, &json!({})),
                    };
                    // What each limit has left, unless the limit's own answer says otherwise.
                    for (header, left) in remaining {
                        response
                            .headers_mut()
                            .entry(header)
                            .or_insert_with(|| HeaderValue::from(left));
                    }
                    drop(body);
                    let status = response.status().as_u16();
                    self.record(request, None, status, None, Some(name));
                    return Answer {
                        response,
                        edge: None,
                    };
                }
                Decision::Pass {
                    remaining,
                    in_flight,
                } => pass = Some((remaining, in_flight)),
            }
        }
        let mut state = set.stateful.then(|| self.lock_state());
        let found = set.order.iter().copied().find(|&i| {
            let stub = &set.stubs[i];
            stub.matcher.matches(&view, &body)
                && match (&stub.state, &state) {
                    (Some(rule), Some(state)) => state.allows(rule),
                    _ => true,
                }
        });
        let (mut outcome, matched) = match found {
            Some(index) => {
                let stub = &set.stubs[index];
                let params = || {
                    stub.path_template
                        .as_deref()
                        .map(|t| path_params(t, view.path))
                        .unwrap_or_default()
                };
                // The stub's effect: its sequence advances, its store writes and state transition
                // apply, and the response at its position is rendered. A fault that keeps the
                // stub from taking effect never calls this.
                let mut effect = || {
                    let responder = stub.advance();
                    let mut failure = None;
                    if let Some(state) = state.as_deref_mut() {
                        if let Some(store) = &stub.store {
                            let vars = RequestVars {
                                path_params: params(),
                                ..vars()
                            }
                            .with_state(Some(state));
                            let writes = render_store(store, &vars);
                            drop(vars);
                            failure = apply_store(writes, state);
                        }
                        if let Some(rule) = &stub.state {
                            state.transition(rule);
                        }
                    }
                    match failure {
                        Some(response) => response,
                        None if responder.is_templated() => responder.respond(
                            &RequestVars {
                                path_params: params(),
                                ..vars()
                            }
                            .with_state(state.as_deref()),
                        ),
                        None => responder.respond(&|_: &[String]| None),
                    }
                };
                let outcome = if stub.faults.is_empty() {
                    Outcome::plain(effect())
                } else {
                    self.with_faults(&stub.name, &stub.matched, &stub.faults, &mut effect)
                };
                let matched = MatchedStub {
                    index,
                    name: stub.name.clone(),
                };
                (outcome, Some(matched))
            }
            None => match &set.provider {
                Some(provider) => {
                    drop(state.take());
                    self.provider_outcome(&set, provider, &view, request.tls)
                }
                None => (
                    Outcome::plain(near_miss(&set, &view, &body, state.as_deref())),
                    None,
                ),
            },
        };
        drop(state);
        drop(body);
        if let Some((remaining, in_flight)) = pass {
            for (header, left) in remaining {
                outcome
                    .response
                    .headers_mut()
                    .insert(header, HeaderValue::from(left));
            }
            // The slots stay taken while the edge holds the response (also through a `delay` or
            // `timeout` fault) and are freed when it drops it.
            if let Some(in_flight) = in_flight {
                outcome.response.extensions_mut().insert(in_flight);
            }
        }
        self.record(request, matched, outcome.status, outcome.fault, None);
        Answer {
            response: outcome.response,
            edge: outcome.edge,
        }
    }

    /// Answer a request no stub matched through the provider, with the mock-level faults of its
    /// route; a route the provider serves is journaled as matched by `provider NAME`.
    fn provider_outcome(
        &self,
        set: &StubSet,
        provider: &Provider,
        view: &RequestView<'_>,
        tls: bool,
    ) -> (Outcome, Option<MatchedStub>) {
        let routed = Cell::new(false);
        let mut effect = || {
            let request = ProviderRequest {
                view: *view,
                now: self.clock.now(),
                tls,
            };
            let mut state = self.lock_provider();
            let Some(state) = state.as_mut() else {
                return json_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &json!({ "error": "the provider has no state" }),
                );
            };
            let answer = provider.respond(state, &request);
            routed.set(answer.routed);
            answer.response
        };
        let outcome = match set
            .routes
            .iter()
            .find(|route| route.selects(view.method, view.path))
        {
            Some(route) => {
                // A fault that fires instead of the provider's answer still names a route.
                routed.set(true);
                self.with_faults(&route.name, &route.matched, &route.faults, &mut effect)
            }
            None => Outcome::plain(effect()),
        };
        let matched = routed.get().then(|| MatchedStub {
            index: set.stubs.len(),
            name: format!("provider {}", provider.name()),
        });
        (outcome, matched)
    }

    /// Answer a request matched by a stub (or a provider route) that has faults: the first fault
    /// whose selector holds fires, or none does and the stub answers as usual. `matched` counts
    /// the requests it matched; `effect` takes the stub's effect and gives its response.
    fn with_faults(
        &self,
        name: &str,
        matched: &AtomicU64,
        faults: &[PreparedFault<PreparedResponse>],
        effect: &mut dyn FnMut() -> Response<Bytes>,
    ) -> Outcome {
        let n = matched.fetch_add(1, Ordering::Relaxed) + 1;
        let elapsed = self.clock.offset();
        let Some(fault) = faults.iter().find(|f| f.fires(n, elapsed)) else {
            return Outcome::plain(effect());
        };
        tracing::debug!(stub = %name, n, fault = %fault.description, "fault fired");
        let (response, status, edge) = match &fault.action {
            PreparedAction::Respond(instead) => {
                (instead.to_response(), instead.status.as_u16(), None)
            }
            PreparedAction::NoEffect(edge) => (Response::new(Bytes::new()), 0, Some(edge.clone())),
            PreparedAction::Effect(edge) => {
                let response = effect();
                let status = response.status().as_u16();
                (response, status, Some(edge.clone()))
            }
            PreparedAction::Truncated(bytes) => {
                let response = effect();
                let len = response.body().len();
                let body_bytes = bytes.map_or(len / 2, |n| usize::try_from(n).unwrap_or(len));
                // Never the whole body: a truncation the client cannot notice is no fault.
                let body_bytes = body_bytes.min(len.saturating_sub(1));
                let status = response.status().as_u16();
                (response, status, Some(EdgeAction::Truncated { body_bytes }))
            }
            PreparedAction::CommitRespond(instead) => {
                let committed = effect().status().as_u16();
                (instead.to_response(), committed, None)
            }
            PreparedAction::RandomDelay(delay) => {
                let response = effect();
                let status = response.status().as_u16();
                let by = fault::draw_delay(delay, n);
                (response, status, Some(EdgeAction::Delay(by)))
            }
            PreparedAction::Dribble { chunks, over } => {
                let response = effect();
                let status = response.status().as_u16();
                let edge = fault::dribble(*chunks, *over, response.body().len());
                (response, status, edge)
            }
        };
        Outcome {
            response,
            status,
            edge,
            fault: Some(fault.description.clone()),
        }
    }

    /// Journal a request the edge refused before matching (e.g. a body over the size limit) and
    /// build its JSON error answer.
    pub(crate) fn reject(
        &self,
        request: Incoming<'_>,
        status: StatusCode,
        error: &str,
    ) -> Response<Bytes> {
        let mut response = json_response(status, &json!({ "error": error }));
        response
            .headers_mut()
            .insert(UNMATCHED_HEADER, HeaderValue::from_static("true"));
        self.record(request, None, status.as_u16(), None, None);
        response
    }

    fn record(
        &self,
        request: Incoming<'_>,
        matched: Option<MatchedStub>,
        status: u16,
        fault: Option<String>,
        rate_limited: Option<String>,
    ) {
        self.journal.record_with(|| JournalEntry {
            seq: 0,
            at: self.clock.now_rfc3339(),
            method: request.method.to_owned(),
            path: request.path.to_owned(),
            query: request.query.to_owned(),
            headers: request.headers,
            body: String::from_utf8_lossy(&request.body).into_owned(),
            matched,
            status,
            rate_limited,
            fault,
        });
    }

    fn current(&self) -> Arc<StubSet> {
        self.stubs
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Render a stub's store writes against the state before them.
fn render_store(store: &PreparedStore, vars: &RequestVars<'_>) -> Result<StoreWrites, RenderError> {
    let mut writes = Vec::with_capacity(store.set.len());
    for (key, value) in &store.set {
        writes.push((key.render(vars)?, value.render(vars)?));
    }
    let deletes = store
        .delete
        .iter()
        .map(|key| key.render(vars))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((writes, deletes))
}

/// Rendered store writes: keys and values to set, keys to delete.
type StoreWrites = (Vec<(String, String)>, Vec<String>);

/// Apply rendered store writes; a template that could not render gives the `500` to answer
/// instead (and nothing is written).
fn apply_store(
    rendered: Result<StoreWrites, RenderError>,
    state: &mut MockState,
) -> Option<Response<Bytes>> {
    match rendered {
        Ok((writes, deletes)) => {
            for key in deletes {
                state.store.remove(&key);
            }
            state.store.extend(writes);
            None
        }
        Err(e) => Some(json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            &json!({ "error": format!("failed to render the store write: {e}") }),
        )),
    }
}

/// The 404 for a request no stub matched, naming the closest stub (most conditions held; ties
/// go to matching order) and why it missed; a stub held back by its scenario state says so.
/// Values under secret names and secret shapes are masked in the reasons.
fn near_miss(
    set: &StubSet,
    view: &RequestView<'_>,
    body: &ParsedBody<'_>,
    state: Option<&MockState>,
) -> Response<Bytes> {
    let mut closest: Option<(&PreparedStub, crate::matching::MatchResult)> = None;
    for &i in &set.order {
        let stub = &set.stubs[i];
        let mut result = stub.matcher.evaluate(view, body);
        if let (Some(rule), Some(state)) = (&stub.state, state)
            && !state.allows(rule)
        {
            result.misses.push(format!(
                "state: machine `{}` is `{}`, not `{}`",
                rule.machine,
                state.machine(&rule.machine),
                rule.when.as_deref().unwrap_or_default()
            ));
        }
        if closest
            .as_ref()
            .is_none_or(|(_, best)| result.hits > best.hits)
        {
            closest = Some((stub, result));
        }
    }
    // The reasons quote the request (JSON bodies, text): what a secret name or shape says is
    // secret does not go back over the wire.
    let closest = closest.map(|(stub, result)| {
        let misses: Vec<String> = result.misses.iter().map(|miss| redact_text(miss)).collect();
        json!({ "name": stub.name, "misses": misses })
    });
    tracing::debug!(method = view.method, path = view.path, "no stub matched");
    let mut response = json_response(
        StatusCode::NOT_FOUND,
        &json!({
            "error": "no stub matched",
            "request": { "method": view.method, "path": view.path },
            "closest_stub": closest,
        }),
    );
    response
        .headers_mut()
        .insert(UNMATCHED_HEADER, HeaderValue::from_static("true"));
    response
}

/// A JSON answer with `content-type: application/json`.
pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response<Bytes> {
    let mut response = Response::new(Bytes::from(body.to_string()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}
