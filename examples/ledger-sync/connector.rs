//! The ledger-sync demo's accounting connectors: one client per accounting system, picked by
//! `ACCOUNTING_PROVIDER` and reached at `ACCOUNTING_API_URL`.
//!
//! [`Connector`] is what the service (`service.rs`) calls; each variant wraps one provider's
//! client, which keeps its own credentials (tokens, session, tenant) and carries that provider's
//! incidents of release 1.4.2 beside their 1.4.3 fixes, each commented `SUP-NNNN (bug)` /
//! `SUP-NNNN (fix)` and selected only by [`Release`].
//!
//! Adding a provider `NAME`:
//! - write `NAME.rs` beside this file with a client that has
//!   `from_env(settings: Settings) -> Result<Self, String>` (reading its own `NAME_*` environment
//!   variables, e.g. a realm or business id) and the async methods `connect`, `post_bill`,
//!   `post_bills`, `update_due_date`, `list_vendors` and the method `verify_webhook`, with the
//!   signatures of [`Connector`]'s methods below; an operation the provider does not offer
//!   returns `Err(unsupported(..))`; `post_journal` only where the provider posts journals
//!   (Intacct's does; the others are answered `unsupported` in [`Connector::post_journal`]);
//! - declare `mod NAME;` in `main.rs`, add a variant here and an arm to each `match`;
//! - list the variables in `main.rs`'s usage text.
//!
//! Shared helpers for the clients (HTTP client, messages, `Retry-After`) live here too.

use std::time::Duration;

use hyper::HeaderMap;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderValue};
use serde_json::Value;

use crate::intacct::IntacctClient;
use crate::log;
use crate::quickbooks::QuickBooksClient;
use crate::release::Release;
use crate::sage::SageClient;
use crate::webhook::Rejection;
use crate::xero::XeroClient;

/// The message users see when the accounting system does not answer within `HTTP_TIMEOUT_MS`.
pub const TIMED_OUT: &str = "accounting system did not answer in time";
/// The longest `Retry-After` 1.4.3 waits for; longer hints are cut to this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(10);
/// The wait 1.4.3 uses when a 429 carries no usable `Retry-After`.
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(1);

/// A bill to create from one card expense; amounts stay decimal strings, never floats.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bill {
    /// The expense id, so the bill can be traced back to the card expense.
    pub reference: String,
    /// The vendor's name.
    pub contact: String,
    /// The amount as a decimal string, e.g. `"123.45"`.
    pub amount: String,
    /// ISO 4217 currency code.
    pub currency: String,
    /// The ledger account the expense is booked to.
    pub account_code: String,
    /// The bill's date, `YYYY-MM-DD`, when the expense has one.
    pub date: Option<String>,
    /// The bill's due date, `YYYY-MM-DD`, when the expense has one.
    pub due_date: Option<String>,
}

/// A journal entry to post, e.g. a month-end accrual; amounts stay decimal strings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Journal {
    /// The caller's id of the entry, so it can be traced back and found again.
    pub reference: String,
    /// The posting date, `YYYY-MM-DD`.
    pub date: String,
    /// What the entry is for.
    pub title: String,
    /// The lines; the accounting system checks that they balance.
    pub lines: Vec<JournalLine>,
}

/// One line of a [`Journal`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JournalLine {
    /// The ledger account.
    pub account: String,
    /// The amount as a non-negative decimal string, e.g. `"123.45"`.
    pub amount: String,
    /// Debit or credit.
    pub side: Side,
}

/// Which side of the ledger a [`JournalLine`] is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Debit,
    Credit,
}

/// What every client is built from.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Base URL of the accounting system (`ACCOUNTING_API_URL`), without a trailing `/`.
    pub base_url: String,
    /// Timeout of each call (`HTTP_TIMEOUT_MS`).
    pub timeout: Duration,
    /// The release whose behaviour to show.
    pub release: Release,
}

/// The providers `ACCOUNTING_PROVIDER` names.
pub const PROVIDERS: &[&str] = &["xero", "quickbooks", "intacct", "sage"];

/// The accounting system ledger-sync is connected to.
pub enum Connector {
    /// Xero (`ACCOUNTING_PROVIDER=xero`, the default).
    Xero(XeroClient),
    /// Sage Intacct (`ACCOUNTING_PROVIDER=intacct`).
    Intacct(IntacctClient),
    /// Sage Business Cloud Accounting (`ACCOUNTING_PROVIDER=sage`).
    Sage(SageClient),
    /// QuickBooks Online (`ACCOUNTING_PROVIDER=quickbooks`).
    QuickBooks(QuickBooksClient),
}

impl Connector {
    /// The client for `provider` with `settings`; a provider's own variables come from the
    /// environment.
    pub fn from_env(provider: &str, settings: Settings) -> Result<Connector, String> {
        match provider {
            "xero" => Ok(Connector::Xero(XeroClient::from_env(settings)?)),
            "intacct" => Ok(Connector::Intacct(IntacctClient::from_env(settings)?)),
            "sage" => Ok(Connector::Sage(SageClient::from_env(settings)?)),
            "quickbooks" => Ok(Connector::QuickBooks(QuickBooksClient::from_env(settings)?)),
            other => Err(format!(
                "unknown ACCOUNTING_PROVIDER `{other}` (known: {})",
                PROVIDERS.join(", ")
            )),
        }
    }

    /// Connects: exchanges the OAuth authorization `code` (or opens a session, for systems
    /// without OAuth, which ignore `code`).
    pub async fn connect(&self, code: Option<&str>) -> Result<(), String> {
        match self {
            Connector::Xero(client) => client.connect(code).await,
            Connector::Intacct(client) => client.connect(code).await,
            Connector::Sage(client) => client.connect(code).await,
            Connector::QuickBooks(client) => client.connect(code).await,
        }
    }

    /// Creates one bill; the accounting system's id of it, or the message to show the user.
    pub async fn post_bill(&self, export_id: &str, bill: &Bill) -> Result<String, String> {
        match self {
            Connector::Xero(client) => client.post_bill(export_id, bill).await,
            Connector::Intacct(client) => client.post_bill(export_id, bill).await,
            Connector::Sage(client) => client.post_bill(export_id, bill).await,
            Connector::QuickBooks(client) => client.post_bill(export_id, bill).await,
        }
    }

    /// Creates several bills in one go: per bill, its id or the message to show; `Err` when the
    /// whole batch failed.
    pub async fn post_bills(
        &self,
        export_id: &str,
        bills: &[Bill],
    ) -> Result<Vec<Result<String, String>>, String> {
        match self {
            Connector::Xero(client) => client.post_bills(export_id, bills).await,
            Connector::Intacct(client) => client.post_bills(export_id, bills).await,
            Connector::Sage(client) => client.post_bills(export_id, bills).await,
            Connector::QuickBooks(client) => client.post_bills(export_id, bills).await,
        }
    }

    /// Posts one journal entry; the accounting system's id of it, or the message to show.
    pub async fn post_journal(&self, export_id: &str, journal: &Journal) -> Result<String, String> {
        match self {
            Connector::Intacct(client) => client.post_journal(export_id, journal).await,
            Connector::Xero(_) => Err(unsupported("Xero", "posting journals")),
            Connector::Sage(_) => Err(unsupported("Sage", "posting journals")),
            Connector::QuickBooks(_) => Err(unsupported("QuickBooks", "posting journals")),
        }
    }

    /// Moves the due date of bill `bill_id` to `due_date` (`YYYY-MM-DD`).
    pub async fn update_due_date(&self, bill_id: &str, due_date: &str) -> Result<(), String> {
        match self {
            Connector::Xero(client) => client.update_due_date(bill_id, due_date).await,
            Connector::Intacct(client) => client.update_due_date(bill_id, due_date).await,
            Connector::Sage(client) => client.update_due_date(bill_id, due_date).await,
            Connector::QuickBooks(client) => client.update_due_date(bill_id, due_date).await,
        }
    }

    /// The names of the accounting system's vendors.
    pub async fn list_vendors(&self) -> Result<Vec<String>, String> {
        match self {
            Connector::Xero(client) => client.list_vendors().await,
            Connector::Intacct(client) => client.list_vendors().await,
            Connector::Sage(client) => client.list_vendors().await,
            Connector::QuickBooks(client) => client.list_vendors().await,
        }
    }

    /// Checks a webhook delivery signed with `key` and returns its events.
    pub fn verify_webhook(
        &self,
        key: &[u8],
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Vec<Value>, Rejection> {
        match self {
            Connector::Xero(client) => client.verify_webhook(key, headers, body),
            Connector::Intacct(client) => client.verify_webhook(key, headers, body),
            Connector::Sage(client) => client.verify_webhook(key, headers, body),
            Connector::QuickBooks(client) => client.verify_webhook(key, headers, body),
        }
    }
}

/// An OAuth 2.0 token request: `POST {base_url}{path}` with the URL-encoded `form` (an
/// authorization code or a refresh token); the new access and refresh tokens, or the message
/// "token request failed: <the `error` of the answer, else its status>". Logs the call as
/// `{provider}: POST {path} ({grant_type}) -> {status}`.
pub async fn request_tokens(
    http: &reqwest::Client,
    base_url: &str,
    path: &str,
    provider: &str,
    form: &[(&str, &str)],
) -> Result<(String, String), String> {
    let grant = form.first().map_or("", |(_, value)| *value);
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let response = http
        .post(format!("{base_url}{path}"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .map_err(unreachable_message)?;
    let status = response.status();
    log(format!(
        "{provider}: POST {path} ({grant}) -> {}",
        status.as_u16()
    ));
    let body = response.bytes().await.map_err(unreachable_message)?;
    let json = serde_json::from_slice::<Value>(&body).ok();
    if !status.is_success() {
        let reason = json
            .as_ref()
            .and_then(|json| text_at(json, &["error"]).map(str::to_owned))
            .unwrap_or_else(|| status_line(status));
        return Err(format!("token request failed: {reason}"));
    }
    let field = |name: &str| {
        json.as_ref()
            .and_then(|json| text_at(json, &[name]))
            .map(str::to_owned)
            .ok_or_else(|| format!("token request failed: the answer has no `{name}`"))
    };
    Ok((field("access_token")?, field("refresh_token")?))
}

/// The `Authorization` value for the access token `token`.
pub fn bearer(token: &str) -> Result<HeaderValue, String> {
    HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|_| "the access token is not a valid header value".to_owned())
}

/// The message for an operation `provider` does not offer.
pub fn unsupported(provider: &str, operation: &str) -> String {
    format!("{operation} is not supported for {provider}")
}

/// An HTTP client whose calls time out after `timeout`.
pub fn http_client(timeout: Duration) -> Result<reqwest::Client, String> {
    install_tls_provider();
    reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .map_err(|error| format!("failed to build the HTTP client: {error}"))
}

/// The string at a path of object keys, if there is one.
pub fn text_at<'a>(json: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter()
        .try_fold(json, |value, key| value.get(key))?
        .as_str()
}

/// How long to wait for a `Retry-After` header: whole seconds, capped, 1s when absent or unusable.
pub fn retry_after(header: Option<&HeaderValue>) -> Duration {
    header
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.trim().parse::<u64>().ok())
        .map_or(DEFAULT_RETRY_AFTER, |seconds| {
            Duration::from_secs(seconds).min(MAX_RETRY_AFTER)
        })
}

/// `400 Bad Request`, the last resort for an error body that says nothing useful.
pub fn status_line(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("{} {reason}", status.as_u16()),
        None => status.as_u16().to_string(),
    }
}

/// The message for a request that never got an answer (refused, reset, timed out).
pub fn unreachable_message(error: reqwest::Error) -> String {
    if error.is_timeout() {
        return TIMED_OUT.to_owned();
    }
    // reqwest's own message names only the URL; the cause ("connection refused") is in the chain.
    let mut message = "accounting system unreachable".to_owned();
    let mut cause: Option<&dyn std::error::Error> = Some(&error);
    while let Some(current) = cause {
        message.push_str(": ");
        message.push_str(&current.to_string());
        cause = current.source();
    }
    message
}

/// reqwest is built without a TLS crypto provider of its own in this package (reenact uses
/// rustls with `ring`): install `ring` once before building a client, or building panics.
fn install_tls_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

#[cfg(test)]
mod tests {
    //! Table tests for the shared helpers.

    use super::*;

    #[test]
    fn retry_after_is_seconds_capped_with_a_default() {
        let cases = [
            (Some("1"), Duration::from_secs(1)),
            (Some(" 4 "), Duration::from_secs(4)),
            (Some("66975"), MAX_RETRY_AFTER),
            (Some("Wed, 21 Oct 2015 07:28:00 GMT"), DEFAULT_RETRY_AFTER),
            (Some("-1"), DEFAULT_RETRY_AFTER),
            (None, DEFAULT_RETRY_AFTER),
        ];
        for (header, expected) in cases {
            let value = header.map(HeaderValue::from_static);
            assert_eq!(retry_after(value.as_ref()), expected, "header {header:?}");
        }
    }

    #[test]
    fn unknown_providers_are_refused_with_the_known_ones() {
        let settings = Settings {
            base_url: "http://127.0.0.1:9".to_owned(),
            timeout: Duration::from_secs(1),
            release: Release::V1_4_3,
        };
        let Err(message) = Connector::from_env("zero", settings) else {
            panic!("`zero` is not a provider");
        };
        assert_eq!(
            message,
            "unknown ACCOUNTING_PROVIDER `zero` (known: xero, quickbooks, intacct, sage)"
        );
    }
}
