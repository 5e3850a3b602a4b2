//! Built-in providers: stateful, protocol-faithful fakes of real systems, [`Provider`].
//!
//! A mock with `provider:` answers every request that none of its stubs matched through its
//! provider (stubs first, as overrides; see `docs/decisions.md`). The engine keeps the provider's
//! [`ProviderState`] beside its stubs: a reset or a reconfigure starts it afresh, the control
//! API's `GET /__reenact/state` returns it under `provider`, and every time it reads comes from
//! the engine's virtual clock. Ids a provider generates are seeded by the mock's name and a
//! per-run serial, so they are the same on every run.

pub mod intacct;
pub mod money;
pub mod xero;

use bytes::Bytes;
use hyper::Response;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::mock::matching::RequestView;
use crate::mock::webhook::SigningSettings;
use crate::scenario::model::{ProviderSpec, RateLimit};

/// A request as a provider sees it: as matching sees it, at a virtual time.
#[derive(Debug)]
pub struct ProviderRequest<'a> {
    /// Method, path, query, headers and body.
    pub view: RequestView<'a>,
    /// Virtual time of arrival.
    pub now: OffsetDateTime,
}

impl ProviderRequest<'_> {
    /// The first header called `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.view
            .headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first query parameter called `name`.
    pub fn query_param(&self, name: &str) -> Option<String> {
        form_urlencoded::parse(self.view.query.as_bytes())
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.into_owned())
    }
}

/// A provider's answer: the response, and whether one of its routes served it (`false` for a
/// path the provider does not know, journaled as unmatched).
#[derive(Debug)]
pub struct ProviderAnswer {
    /// The response.
    pub response: Response<Bytes>,
    /// Whether a route of the provider answered.
    pub routed: bool,
}

/// The answer to a request for a path provider `name` does not serve: `404` JSON naming the
/// request, with `x-reenact-unmatched: true`, journaled as unmatched.
pub fn unrouted(name: &str, request: &ProviderRequest<'_>) -> ProviderAnswer {
    let mut response = crate::mock::engine::json_response(
        hyper::StatusCode::NOT_FOUND,
        &serde_json::json!({
            "error": format!("the {name} provider serves no such route"),
            "request": { "method": request.view.method, "path": request.view.path },
        }),
    );
    response.headers_mut().insert(
        crate::mock::engine::UNMATCHED_HEADER,
        hyper::header::HeaderValue::from_static("true"),
    );
    ProviderAnswer {
        response,
        routed: false,
    }
}

/// A webhook whose body and signature a provider writes itself, from its state (the `xero:` of a
/// webhook step); travels in [`crate::mock::webhook::WebhookRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ProviderWebhook {
    /// One Xero event about a record of the state.
    XeroEvent {
        /// `eventCategory`: `INVOICE` or `CONTACT`.
        category: String,
        /// `eventType`: `CREATE` or `UPDATE`.
        event_type: String,
        /// The record's id.
        resource_id: String,
    },
    /// Xero's Intent to Receive handshake.
    XeroIntentToReceive,
}

/// One payload a provider wrote for a [`ProviderWebhook`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderPayload {
    /// Headers besides the signature.
    pub headers: Vec<(String, String)>,
    /// The exact body bytes.
    pub body: Vec<u8>,
    /// How the body is signed (a handshake signs some payloads with a wrong key on purpose).
    pub sign: SigningSettings,
    /// The answer the vendor requires to this payload, when it checks one (a handshake).
    pub expected_status: Option<u16>,
}

/// A configured provider.
#[derive(Debug)]
pub enum Provider {
    /// `provider: xero`.
    Xero(xero::Xero),
    /// `provider: intacct`.
    Intacct(intacct::Intacct),
}

/// The state of a provider: entities, tokens, connections.
#[derive(Debug)]
pub enum ProviderState {
    /// State of `provider: xero`.
    Xero(xero::XeroState),
    /// State of `provider: intacct`.
    Intacct(intacct::IntacctState),
}

impl Provider {
    /// The provider `spec` names, serving as mock `mock` (which seeds its ids).
    pub fn new(mock: &str, spec: &ProviderSpec) -> Provider {
        match spec {
            ProviderSpec::Xero(settings) => Provider::Xero(xero::Xero::new(mock, settings.clone())),
            ProviderSpec::Intacct(settings) => {
                Provider::Intacct(intacct::Intacct::new(mock, settings.clone()))
            }
        }
    }

    /// The name written after `provider:`.
    pub fn name(&self) -> &'static str {
        match self {
            Provider::Xero(_) => "xero",
            Provider::Intacct(_) => "intacct",
        }
    }

    /// The state a fresh run starts with.
    pub fn fresh_state(&self) -> ProviderState {
        match self {
            Provider::Xero(_) => ProviderState::Xero(xero::XeroState::default()),
            Provider::Intacct(_) => ProviderState::Intacct(intacct::IntacctState::default()),
        }
    }

    /// Answer one request, updating `state`.
    pub fn respond(
        &self,
        state: &mut ProviderState,
        request: &ProviderRequest<'_>,
    ) -> ProviderAnswer {
        match (self, state) {
            (Provider::Xero(xero), ProviderState::Xero(state)) => xero.respond(state, request),
            (Provider::Intacct(intacct), ProviderState::Intacct(state)) => {
                intacct.respond(state, request)
            }
            _ => unreachable!("a provider's state is made by the provider itself"),
        }
    }
}

impl Provider {
    /// The payloads of `webhook` at virtual time `now`, from `state` (which counts them), or why
    /// this provider cannot send it.
    pub fn webhook(
        &self,
        state: &mut ProviderState,
        webhook: &ProviderWebhook,
        now: OffsetDateTime,
    ) -> Result<Vec<ProviderPayload>, String> {
        match (self, state) {
            (Provider::Xero(xero), ProviderState::Xero(state)) => xero.webhook(state, webhook, now),
            // Intacct sends no webhooks (catalog §3).
            (Provider::Intacct(_), _) => Err("the intacct provider sends no webhooks".to_string()),
            _ => unreachable!("a provider's state is made by the provider itself"),
        }
    }
}

/// The rate limits a provider adds to its mock's own (checked after them), from its settings.
pub fn rate_limits(spec: &ProviderSpec) -> Vec<RateLimit> {
    match spec {
        ProviderSpec::Xero(settings) => settings
            .rate_limits
            .as_ref()
            .map(xero::rate_limits)
            .unwrap_or_default(),
        ProviderSpec::Intacct(settings) => settings
            .rate_limits
            .as_ref()
            .map(intacct::rate_limits)
            .unwrap_or_default(),
    }
}

impl ProviderState {
    /// The state as JSON for `GET /__reenact/state` and `state:` expectations: collections by
    /// name, never a token or secret.
    pub fn to_json(&self) -> Value {
        match self {
            ProviderState::Xero(state) => state.to_json(),
            ProviderState::Intacct(state) => state.to_json(),
        }
    }
}
