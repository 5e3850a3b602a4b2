//! `with:` settings of `provider: sage`, [`SageSettings`] (documented in `docs/providers/sage.md`):
//! the user's businesses, the app's redirect URI, the subscription, the user's read-only areas
//! and an optional throttle.

use serde::{Deserialize, Serialize};

/// `with:` settings of `provider: sage` (documented in `docs/providers/sage.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SageSettings {
    /// The user's businesses, in order; exactly one is the lead business.
    pub businesses: Vec<SageBusiness>,
    /// The app's registered redirect URI: a code exchange naming another gets `invalid_grant`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
    /// Whether the businesses have an active subscription (default `true`); without one every API
    /// call gets `401 AuthorizationFailure` "No active subscription. (MSE)".
    #[serde(default = "active", skip_serializing_if = "is_active")]
    pub subscription_active: bool,
    /// Collections the user may only read (`contacts`, `purchase_invoices`, `ledger_accounts`):
    /// a `POST` or `PUT` there gets `403 MultiUserAccessDenied`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub read_only: Vec<String>,
    /// Throttling: at most `limit` API requests per business in any `per` window; `429` beyond.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttle: Option<SageThrottle>,
}

fn active() -> bool {
    true
}

fn is_active(value: &bool) -> bool {
    *value
}

/// `with.throttle` of `provider: sage`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SageThrottle {
    /// Requests allowed per window.
    pub limit: u64,
    /// Window length.
    pub per: std::time::Duration,
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
