//! `with:` settings of `provider: quickbooks`, [`QuickBooksSettings`] (documented in
//! `docs/providers/quickbooks.md`): the realms, token rotation, books closed date, batch size,
//! throttling and verifier token; and the `quickbooks:` webhook a `provider: quickbooks` mock
//! writes and signs, [`QuickBooksWebhookSpec`].

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::SecretText;
use crate::scenario::template::Template;

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
    /// Most items one batch request may hold (default 30).
    pub batch_max_items: u64,
    /// The company preference `WarnDuplicateBillNumber`: when on (default), a bill whose
    /// `DocNumber` another bill has is refused with 6140 unless the request says
    /// `include=allowduplicatedocnum`.
    pub warn_duplicate_bill_number: bool,
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
    /// Default `batch_max_items`: 30, Intuit's limits page ("Recommended maximum number of
    /// payloads in a single batch request is 30"); the .NET SDK's cap is 30 since e9e0618e.
    pub const DEFAULT_BATCH_MAX_ITEMS: u64 = 30;
}

/// One QuickBooks company.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuickBooksRealm {
    /// The realm id (company id): digits.
    pub id: String,
    /// The company's name.
    pub name: String,
    /// The company's state: `active`, or one that Intuit refuses (120, 6190).
    #[serde(default)]
    pub status: QuickBooksRealmStatus,
}

/// `status` of a realm: what Intuit's "Fix common errors" page says a company can be in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuickBooksRealmStatus {
    /// In use: every call is answered.
    #[default]
    Active,
    /// The admin who connected the app is no longer an admin of the company: every API call
    /// gets 401 Fault 120 Authorization Failure.
    AdminRemoved,
    /// The trial or subscription ended: the company is read-only, every write gets 400 Fault
    /// 6190 Invalid Company Status.
    SubscriptionEnded,
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
