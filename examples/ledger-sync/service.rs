//! The HTTP API of the ledger-sync demo: routing, request parsing and the export store.
//!
//! [`App`] holds the state of one process (the accounting token, the exports, the webhook events)
//! and [`App::handle`] answers every request. Exports run in background tasks, so `POST /exports`
//! answers `202` at once and `GET /exports/{id}` shows the outcome. The incidents of release 1.4.2
//! live in the accounting client (`accounting.rs`) and the webhook check (`webhook.rs`); this
//! module behaves the same in both releases. Bad input gets a `4xx` with a JSON `error`, never a
//! panic.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::{Mutex, RwLock};

use crate::accounting::{AccountingClient, Bill};
use crate::log;
use crate::release::Release;
use crate::webhook::{Rejection, SIGNATURE_HEADER, verify_delivery};

/// The largest request body ledger-sync reads.
const MAX_BODY_BYTES: usize = 1024 * 1024;
/// The most webhook events kept for `GET /webhooks/events`; later ones are only counted.
const MAX_KEPT_EVENTS: usize = 1000;

/// The state of one ledger-sync process.
pub struct App {
    release: Release,
    accounting: Option<AccountingClient>,
    token: RwLock<Option<String>>,
    exports: Mutex<Exports>,
    webhook_key: Option<Vec<u8>>,
    webhooks: Mutex<WebhookEvents>,
}

/// The events the accounting system's webhooks delivered, in arrival order.
#[derive(Debug, Default, Serialize)]
struct WebhookEvents {
    /// Every event accepted, including those no longer kept.
    received: usize,
    /// The first [`MAX_KEPT_EVENTS`] events.
    events: Vec<Value>,
}

/// The exports of this process, numbered from 1.
#[derive(Default)]
struct Exports {
    last_number: u64,
    by_id: HashMap<String, Export>,
}

/// One card expense on its way to the accounting system.
#[derive(Clone, Debug, Serialize)]
struct Export {
    id: String,
    state: ExportState,
    #[serde(skip_serializing_if = "Option::is_none")]
    bill_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// Where an export stands.
#[derive(Clone, Copy, Debug, Serialize)]
#[serde(rename_all = "lowercase")]
enum ExportState {
    Pending,
    Done,
    Failed,
}

/// The body of `POST /exports`: one card expense.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expense {
    expense_id: String,
    vendor: String,
    amount: String,
    currency: String,
    account_code: String,
}

/// The body of `POST /connections/accounting`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Connect {
    code: String,
}

type HttpResponse = Response<Full<Bytes>>;

/// A request ledger-sync turns down: answered as `{"error": message}` with `status`.
#[derive(Debug)]
struct Reject {
    status: StatusCode,
    message: String,
}

impl Reject {
    fn new(status: StatusCode, message: impl Into<String>) -> Reject {
        Reject {
            status,
            message: message.into(),
        }
    }

    fn into_response(self) -> HttpResponse {
        respond(self.status, &json!({ "error": self.message }))
    }
}

impl App {
    /// An app for `release`; without an accounting URL, exports and syncs answer `503`, and
    /// without a webhook key, webhooks do.
    pub fn new(
        release: Release,
        accounting_url: Option<&str>,
        timeout: Duration,
        webhook_key: Option<Vec<u8>>,
    ) -> Result<App, String> {
        let accounting = accounting_url
            .map(|url| AccountingClient::new(url, timeout, release))
            .transpose()?;
        Ok(App {
            release,
            accounting,
            token: RwLock::new(None),
            exports: Mutex::new(Exports::default()),
            webhook_key,
            webhooks: Mutex::new(WebhookEvents::default()),
        })
    }

    /// Answers one request.
    pub async fn handle(self: Arc<Self>, request: Request<Incoming>) -> HttpResponse {
        self.route(request)
            .await
            .unwrap_or_else(Reject::into_response)
    }

    /// Sends a request to its endpoint.
    async fn route(self: Arc<Self>, request: Request<Incoming>) -> Result<HttpResponse, Reject> {
        let method = request.method().clone();
        let path = request.uri().path().to_owned();
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        match (&method, segments.as_slice()) {
            (&Method::GET, ["healthz"]) => Ok(respond(
                StatusCode::OK,
                &json!({"status": "ok", "release": self.release.as_str()}),
            )),
            (&Method::POST, ["connections", "accounting"]) => self.connect(request).await,
            (&Method::POST, ["exports"]) => self.start_export(request).await,
            (&Method::GET, ["exports", id]) => self.show_export(id).await,
            (&Method::POST, ["sync", "vendors"]) => self.sync_vendors().await,
            (&Method::POST, ["webhooks", "accounting"]) => self.receive_webhook(request).await,
            (&Method::GET, ["webhooks", "events"]) => {
                Ok(respond(StatusCode::OK, &*self.webhooks.lock().await))
            }
            (
                _,
                ["healthz"]
                | ["connections", "accounting"]
                | ["exports"]
                | ["exports", _]
                | ["sync", "vendors"]
                | ["webhooks", "accounting"]
                | ["webhooks", "events"],
            ) => Err(Reject::new(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("method {method} is not allowed on {path}"),
            )),
            _ => Err(Reject::new(
                StatusCode::NOT_FOUND,
                format!("no route for {method} {path}"),
            )),
        }
    }

    /// `POST /connections/accounting`: exchanges the OAuth code and keeps the token.
    async fn connect(&self, request: Request<Incoming>) -> Result<HttpResponse, Reject> {
        let connect: Connect = read_json(request).await?;
        let token = self
            .accounting()?
            .exchange_code(&connect.code)
            .await
            .map_err(|message| {
                log(format!("connect: failed: {message}"));
                Reject::new(StatusCode::BAD_GATEWAY, message)
            })?;
        *self.token.write().await = Some(token);
        log("connect: connected to the accounting system");
        Ok(respond(StatusCode::CREATED, &json!({"connected": true})))
    }

    /// `POST /exports`: records the export and posts the bill in the background.
    async fn start_export(
        self: Arc<Self>,
        request: Request<Incoming>,
    ) -> Result<HttpResponse, Reject> {
        let expense: Expense = read_json(request).await?;
        check_expense(&expense).map_err(|message| Reject::new(StatusCode::BAD_REQUEST, message))?;
        let accounting = self.accounting()?.clone();
        let export = {
            let mut exports = self.exports.lock().await;
            exports.last_number += 1;
            let export = Export {
                id: format!("exp-{}", exports.last_number),
                state: ExportState::Pending,
                bill_id: None,
                error: None,
            };
            exports.by_id.insert(export.id.clone(), export.clone());
            export
        };
        log(format!(
            "export {}: accepted expense {} ({} {} to {})",
            export.id, expense.expense_id, expense.amount, expense.currency, expense.vendor
        ));
        let bill = Bill {
            reference: expense.expense_id,
            contact: expense.vendor,
            amount: expense.amount,
            currency: expense.currency,
            account_code: expense.account_code,
        };
        let app = Arc::clone(&self);
        let id = export.id.clone();
        tokio::spawn(async move {
            let token = app.token.read().await.clone();
            let outcome = accounting.post_bill(&id, token.as_deref(), &bill).await;
            match &outcome {
                Ok(bill_id) => log(format!("export {id}: done (bill {bill_id})")),
                Err(message) => log(format!("export {id}: failed: {message}")),
            }
            if let Some(export) = app.exports.lock().await.by_id.get_mut(&id) {
                match outcome {
                    Ok(bill_id) => {
                        export.state = ExportState::Done;
                        export.bill_id = Some(bill_id);
                    }
                    Err(message) => {
                        export.state = ExportState::Failed;
                        export.error = Some(message);
                    }
                }
            }
        });
        Ok(respond(StatusCode::ACCEPTED, &export))
    }

    /// `GET /exports/{id}`.
    async fn show_export(&self, id: &str) -> Result<HttpResponse, Reject> {
        match self.exports.lock().await.by_id.get(id) {
            Some(export) => Ok(respond(StatusCode::OK, export)),
            None => Err(Reject::new(
                StatusCode::NOT_FOUND,
                format!("no export `{id}`"),
            )),
        }
    }

    /// `POST /sync/vendors`: imports the accounting system's vendors.
    async fn sync_vendors(&self) -> Result<HttpResponse, Reject> {
        let accounting = self.accounting()?;
        let token = self.token.read().await.clone();
        let names = accounting
            .list_vendors(token.as_deref())
            .await
            .map_err(|message| {
                log(format!("sync vendors: failed: {message}"));
                Reject::new(StatusCode::BAD_GATEWAY, message)
            })?;
        Ok(respond(
            StatusCode::OK,
            &json!({"imported": names.len(), "vendors": names}),
        ))
    }

    /// `POST /webhooks/accounting`: checks the signature and keeps the events. Answers `200` with
    /// no body as Xero asks, `401` for a bad signature (what Xero's intent-to-receive expects).
    async fn receive_webhook(&self, request: Request<Incoming>) -> Result<HttpResponse, Reject> {
        let key = self.webhook_key.as_deref().ok_or_else(|| {
            Reject::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "ACCOUNTING_WEBHOOK_KEY is not set",
            )
        })?;
        let signature = request
            .headers()
            .get(SIGNATURE_HEADER)
            .map(|value| value.as_bytes().to_vec());
        let body = read_body(request).await?;
        match verify_delivery(self.release, key, signature.as_deref(), &body) {
            Ok(events) => {
                log(format!("webhook: accepted {} event(s)", events.len()));
                let mut webhooks = self.webhooks.lock().await;
                webhooks.received += events.len();
                let room = MAX_KEPT_EVENTS.saturating_sub(webhooks.events.len());
                webhooks.events.extend(events.into_iter().take(room));
                let mut response = Response::new(Full::new(Bytes::new()));
                *response.status_mut() = StatusCode::OK;
                Ok(response)
            }
            Err(Rejection::BadSignature(reason)) => {
                log(format!("webhook: rejected with 401: {reason}"));
                Err(Reject::new(StatusCode::UNAUTHORIZED, reason))
            }
            Err(Rejection::BadPayload(message)) => {
                log(format!("webhook: rejected with 400: {message}"));
                Err(Reject::new(StatusCode::BAD_REQUEST, message))
            }
        }
    }

    /// The accounting client, or a `503` when `ACCOUNTING_API_URL` is not set.
    fn accounting(&self) -> Result<&AccountingClient, Reject> {
        self.accounting.as_ref().ok_or_else(|| {
            Reject::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "ACCOUNTING_API_URL is not set",
            )
        })
    }
}

/// Rejects expenses the accounting system could never accept.
fn check_expense(expense: &Expense) -> Result<(), String> {
    for (field, value) in [
        ("expense_id", &expense.expense_id),
        ("vendor", &expense.vendor),
        ("currency", &expense.currency),
        ("account_code", &expense.account_code),
    ] {
        if value.trim().is_empty() {
            return Err(format!("`{field}` must not be empty"));
        }
    }
    if !is_decimal(&expense.amount) {
        return Err(format!(
            "`amount` must be a decimal string like \"123.45\", got \"{}\"",
            expense.amount
        ));
    }
    Ok(())
}

/// `123`, `123.4`, `-123.45`: digits with at most two decimals.
fn is_decimal(text: &str) -> bool {
    let all_digits =
        |part: &str| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit());
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    match unsigned.split_once('.') {
        Some((whole, fraction)) => all_digits(whole) && fraction.len() <= 2 && all_digits(fraction),
        None => all_digits(unsigned),
    }
}

/// Reads a JSON body of type `T`.
async fn read_json<T: DeserializeOwned>(request: Request<Incoming>) -> Result<T, Reject> {
    let body = read_body(request).await?;
    serde_json::from_slice(&body).map_err(|cause| {
        Reject::new(
            StatusCode::BAD_REQUEST,
            format!("invalid JSON body: {cause}"),
        )
    })
}

/// Reads the raw body, up to [`MAX_BODY_BYTES`].
async fn read_body(request: Request<Incoming>) -> Result<Bytes, Reject> {
    Ok(Limited::new(request.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
        .map_err(|cause| {
            if cause.is::<LengthLimitError>() {
                Reject::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("body is larger than {MAX_BODY_BYTES} bytes"),
                )
            } else {
                Reject::new(
                    StatusCode::BAD_REQUEST,
                    format!("failed to read the body: {cause}"),
                )
            }
        })?
        .to_bytes())
}

/// A JSON answer.
fn respond(status: StatusCode, body: &impl Serialize) -> HttpResponse {
    // Serializing these plain values cannot fail; fall back to `null` rather than panic.
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| Value::Null.to_string().into_bytes());
    let mut response = Response::new(Full::new(Bytes::from(bytes)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

#[cfg(test)]
mod tests {
    //! Table tests for expense validation.

    use super::*;

    #[test]
    fn amounts_are_decimal_strings_with_at_most_two_places() {
        let cases = [
            ("123.45", true),
            ("123", true),
            ("0.5", true),
            ("-12.00", true),
            ("12.555", false),
            ("12.", false),
            (".5", false),
            ("1e3", false),
            ("", false),
            ("12,50", false),
        ];
        for (amount, expected) in cases {
            assert_eq!(is_decimal(amount), expected, "amount {amount:?}");
        }
    }
}
