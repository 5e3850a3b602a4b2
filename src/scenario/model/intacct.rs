//! `with:` settings of `provider: intacct`, [`IntacctSettings`] (documented in
//! `docs/providers/intacct.md`): the Web Services sender, the companies with their users and
//! entities, the session lifetime and the optional gateway limits.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::SecretText;

/// How long an API session lives without use when `session_lifetime` is not given (the catalog
/// gives no lifetime: one hour is reenact's choice).
pub const DEFAULT_SESSION_LIFETIME: Duration = Duration::from_secs(3600);

/// `with:` of `provider: intacct`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntacctSettings {
    /// The Web Services sender every request's `<control>` must name.
    pub sender: IntacctSender,
    /// The companies users sign in to, in order.
    pub companies: Vec<IntacctCompany>,
    /// How long an API session lives after its last use, on the virtual clock.
    pub session_lifetime: Duration,
    /// The gateway's limits, when the scenario turns them on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limits: Option<IntacctRateLimits>,
}

/// The Web Services sender (partner) credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntacctSender {
    /// `<senderid>`.
    pub id: String,
    /// `<password>` of `<control>`.
    pub password: SecretText,
}

/// One Intacct company.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntacctCompany {
    /// `<companyid>`.
    pub id: String,
    /// Users who may sign in, each with a password.
    pub users: Vec<IntacctUser>,
    /// Entities (`<locationid>`) a session may be scoped to; empty for a company without any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entities: Vec<String>,
    /// Whether the sender is in the company's Web Services authorizations (`false` reproduces
    /// `XL03000006`).
    pub sender_authorized: bool,
    /// The endpoint `getAPISession` answers for the company's sessions (`http://` or `https://`
    /// URL); `None`: the mock's own URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

/// A user of a company.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntacctUser {
    /// `<userid>`.
    pub id: String,
    /// `<password>` of `<login>`.
    pub password: SecretText,
}

/// `with.rate_limits` of `provider: intacct`: the gateway's limits on the XML endpoint, each
/// optional (the catalog gives no numbers, so neither has a default).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntacctRateLimits {
    /// Requests per minute before `GW-0010` (HTTP 429).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minute: Option<u64>,
    /// Requests in progress at once before "too many operations running".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrent: Option<u64>,
}
