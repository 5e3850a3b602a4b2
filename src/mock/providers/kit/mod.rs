//! The provider kit: what every built-in provider is made of, so that a new one (the OIDC and
//! SAML identity providers, the bank) is a set of routes over shared parts rather than a copy.
//!
//! - [`Fake`]: the trait a provider implements (its state, its routes, its webhooks and the rate
//!   limits it adds), and [`Provider`] / [`ProviderState`], the one dispatch the engine calls;
//! - [`tokens`]: OAuth 2.0 codes, access and refresh tokens and sessions, with each vendor's
//!   policy (lifetimes, rotation, caps, revocation, the fields of the token answer) as data;
//! - [`records`]: a record store with versions, inactive and deleted records, and the paging
//!   styles vendors use (page numbers, `$next`/`$back`, result ids, offsets);
//! - [`AuthFailure`] and [`RecordRefusal`], the refusals the shared parts make, which each
//!   provider renders as its vendor writes them ([`ErrorRenderer`], [`RecordRenderer`]).
//!
//! The `Authorization` header parser is [`super::ProviderRequest::credentials`].

pub(crate) mod records;
pub(crate) mod tokens;

use std::any::Any;
use std::fmt::Debug;

use bytes::Bytes;
use hyper::Response;
use serde_json::Value;
use time::OffsetDateTime;

use super::{
    ProviderAnswer, ProviderPayload, ProviderRequest, ProviderWebhook, ProviderWebhookError,
};
use crate::scenario::model::RateLimit;

pub(crate) use records::RecordRefusal;
pub(crate) use tokens::AuthFailure;

/// A built-in provider: a stateless configuration (`Self`) answering requests from a state it
/// makes afresh for every run.
pub(crate) trait Fake: Debug + Send + Sync + 'static {
    /// What one run of the provider holds: records, tokens, sessions, files.
    type State: Debug + Send + 'static;

    /// The name written after `provider:`.
    const NAME: &'static str;

    /// The state a fresh run starts with (seeded records included).
    fn fresh_state(&self) -> Self::State;

    /// Answer one request, updating `state`.
    fn respond(&self, state: &mut Self::State, request: &ProviderRequest<'_>) -> ProviderAnswer;

    /// `state` as JSON for `GET /__reenact/state` and `state:` expectations: collections by
    /// name, never a token or secret.
    fn state_json(state: &Self::State) -> Value;

    /// `state` as JSON at virtual time `now`, for a provider whose state reads differently as
    /// time passes (the bank's payment statuses); by default [`Fake::state_json`].
    fn state_json_at(state: &Self::State, now: OffsetDateTime) -> Value {
        let _ = now;
        Self::state_json(state)
    }

    /// The rate limits the provider adds to its mock's own (checked after them).
    fn rate_limits(&self) -> Vec<RateLimit> {
        Vec::new()
    }

    /// The payloads of `webhook` at virtual time `now`, from `state`; by default the provider
    /// sends none.
    fn webhook(
        &self,
        state: &mut Self::State,
        webhook: &ProviderWebhook,
        now: OffsetDateTime,
    ) -> Result<Vec<ProviderPayload>, ProviderWebhookError> {
        let _ = (state, webhook, now);
        Err(ProviderWebhookError::NoWebhooks {
            provider: Self::NAME,
        })
    }
}

/// How a provider answers a request whose credentials [`tokens::Tokens::authenticate`]
/// refused: the same situation (an unknown, expired or revoked token) reads differently at every
/// vendor, and clients key on the words (Xero's `TokenExpired`).
pub(crate) trait ErrorRenderer {
    /// The whole answer to the refused request.
    fn unauthenticated(&self, failure: &AuthFailure, now: OffsetDateTime) -> Response<Bytes>;
}

/// How a provider writes a refusal of its [`records::Store`] (not found, deleted, stale).
pub(crate) trait RecordRenderer {
    /// What a refusal becomes: a whole answer for a REST vendor, the failed function's error for
    /// a vendor that answers several functions in one response (Intacct).
    type Refused;

    /// The refusal as the vendor writes it.
    fn refused(&self, refusal: &RecordRefusal, now: OffsetDateTime) -> Self::Refused;
}

/// A configured provider, whichever it is.
#[derive(Debug)]
pub(crate) struct Provider(Box<dyn Erased>);

/// The state of a provider, whichever it is; made only by [`Provider::fresh_state`].
#[derive(Debug)]
pub(crate) struct ProviderState(Box<dyn AnyState>);

impl Provider {
    /// Wrap a fake.
    pub(crate) fn of<F: Fake>(fake: F) -> Provider {
        Provider(Box::new(fake))
    }

    /// The name written after `provider:`.
    pub(crate) fn name(&self) -> &'static str {
        self.0.name()
    }

    /// The state a fresh run starts with.
    pub(crate) fn fresh_state(&self) -> ProviderState {
        self.0.fresh_state()
    }

    /// Answer one request, updating `state`.
    pub(crate) fn respond(
        &self,
        state: &mut ProviderState,
        request: &ProviderRequest<'_>,
    ) -> ProviderAnswer {
        self.0.respond(state, request)
    }

    /// The payloads of `webhook` at virtual time `now`, from `state` (which counts them), or why
    /// this provider cannot send it.
    pub(crate) fn webhook(
        &self,
        state: &mut ProviderState,
        webhook: &ProviderWebhook,
        now: OffsetDateTime,
    ) -> Result<Vec<ProviderPayload>, ProviderWebhookError> {
        self.0.webhook(state, webhook, now)
    }

    /// The rate limits the provider adds to its mock's own.
    pub(crate) fn rate_limits(&self) -> Vec<RateLimit> {
        self.0.rate_limits()
    }

    /// The fake itself when it is an `F` (a listener of its own, such as the bank's SFTP
    /// server, reaches its fake through this).
    pub(crate) fn downcast<F: Fake>(&self) -> Option<&F> {
        self.0.as_any().downcast_ref::<F>()
    }
}

impl ProviderState {
    /// The state as JSON for `GET /__reenact/state` and `state:` expectations.
    pub(crate) fn to_json(&self, now: OffsetDateTime) -> Value {
        self.0.to_json(now)
    }

    /// The state itself when it is fake `F`'s.
    pub(crate) fn downcast_mut<F: Fake>(&mut self) -> Option<&mut F::State> {
        self.0.as_any_mut().downcast_mut::<F::State>()
    }
}

/// [`Fake`] with its state type erased, so the engine holds any provider the same way.
trait Erased: Debug + Send + Sync {
    fn as_any(&self) -> &dyn Any;
    fn name(&self) -> &'static str;
    fn fresh_state(&self) -> ProviderState;
    fn respond(&self, state: &mut ProviderState, request: &ProviderRequest<'_>) -> ProviderAnswer;
    fn webhook(
        &self,
        state: &mut ProviderState,
        webhook: &ProviderWebhook,
        now: OffsetDateTime,
    ) -> Result<Vec<ProviderPayload>, ProviderWebhookError>;
    fn rate_limits(&self) -> Vec<RateLimit>;
}

/// A state of some [`Fake`], which knows how to write itself as JSON.
trait AnyState: Debug + Send {
    fn as_any_mut(&mut self) -> &mut dyn Any;
    fn to_json(&self, now: OffsetDateTime) -> Value;
}

/// The state of fake `F`.
struct Typed<F: Fake>(F::State);

impl<F: Fake> Debug for Typed<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<F: Fake> AnyState for Typed<F> {
    fn as_any_mut(&mut self) -> &mut dyn Any {
        &mut self.0
    }

    fn to_json(&self, now: OffsetDateTime) -> Value {
        F::state_json_at(&self.0, now)
    }
}

impl<F: Fake> Erased for F {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn name(&self) -> &'static str {
        F::NAME
    }

    fn fresh_state(&self) -> ProviderState {
        ProviderState(Box::new(Typed::<F>(Fake::fresh_state(self))))
    }

    fn respond(&self, state: &mut ProviderState, request: &ProviderRequest<'_>) -> ProviderAnswer {
        match state.0.as_any_mut().downcast_mut::<F::State>() {
            Some(state) => Fake::respond(self, state, request),
            // A provider's state is made by the provider itself, so this cannot happen; answer
            // rather than take the mock down.
            None => ProviderAnswer::unrouted(F::NAME, request),
        }
    }

    fn webhook(
        &self,
        state: &mut ProviderState,
        webhook: &ProviderWebhook,
        now: OffsetDateTime,
    ) -> Result<Vec<ProviderPayload>, ProviderWebhookError> {
        match state.0.as_any_mut().downcast_mut::<F::State>() {
            Some(state) => Fake::webhook(self, state, webhook, now),
            None => Err(ProviderWebhookError::NoState),
        }
    }

    fn rate_limits(&self) -> Vec<RateLimit> {
        Fake::rate_limits(self)
    }
}
