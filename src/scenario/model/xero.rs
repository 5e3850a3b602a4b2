//! `with:` settings of `provider: xero`, [`XeroSettings`] (documented in `docs/providers/xero.md`):
//! the tenants, rate limits, lock dates, webhook key, currencies, accounts and contacts; and the
//! `xero:` webhook a `provider: xero` mock writes and signs, [`XeroWebhookSpec`].

use serde::{Deserialize, Serialize};

use super::SecretText;
use crate::scenario::template::Template;

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
