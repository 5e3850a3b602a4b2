//! The HTTP API of the ledger-sync demo: routing, request parsing and the export store.
//!
//! [`App`] holds the state of one process (the accounting connector, the exports, the webhook
//! events) and [`App::handle`] answers every request. Exports run in background tasks, so
//! `POST /exports` and `POST /exports/batch` answer `202` at once and `GET /exports/{id}` shows
//! the outcome; `POST /journals` posts a journal entry the same way. Most incidents of release 1.4.2 live in the provider clients (`connector.rs`
//! lists them) and the webhook check (`webhook.rs`); the one in this module is SUP-5003: 1.4.2
//! dates a bill by the UTC day of the card transaction, 1.4.3 by its local day. Bad input gets a
//! `4xx` with a JSON `error`, never a panic.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::connector::{Bill, Connector, Journal, JournalLine, Side};
use crate::log;
use crate::oidc::OidcLogin;
use crate::release::Release;
use crate::saml::SamlLogin;
use crate::sso::{self, Sso};
use crate::statements::Statements;
use crate::webhook::Rejection;

/// The sign-in protocols, as pages and logs name them.
const OIDC: &str = "OpenID Connect";
const SAML: &str = "SAML";

/// The largest request body ledger-sync reads.
const MAX_BODY_BYTES: usize = 1024 * 1024;
/// The most webhook events kept for `GET /webhooks/events`; later ones are only counted.
const MAX_KEPT_EVENTS: usize = 1000;
/// The most expenses one `POST /exports/batch` takes.
const MAX_BATCH: usize = 50;
/// The most lines one `POST /journals` takes.
const MAX_JOURNAL_LINES: usize = 100;

/// The state of one ledger-sync process.
pub struct App {
    release: Release,
    accounting: Option<Arc<Connector>>,
    exports: Mutex<Exports>,
    webhook_key: Option<Vec<u8>>,
    webhooks: Mutex<WebhookEvents>,
    sso: Sso,
    bank: Option<Statements>,
    payments: crate::payments::Payments,
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

/// One card expense (or journal entry) on its way to the accounting system.
#[derive(Clone, Debug, Serialize)]
struct Export {
    id: String,
    state: ExportState,
    #[serde(skip_serializing_if = "Option::is_none")]
    bill_id: Option<String>,
    /// The accounting system's id of the journal entry, for a journal export.
    #[serde(skip_serializing_if = "Option::is_none")]
    entry_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// Per expense, for a batch export.
    #[serde(skip_serializing_if = "Option::is_none")]
    results: Option<Vec<ItemResult>>,
}

/// The outcome of one expense of a batch export.
#[derive(Clone, Debug, Serialize)]
struct ItemResult {
    expense_id: String,
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
    /// The bill's date, `YYYY-MM-DD`; wins over `spent_at`.
    #[serde(default)]
    date: Option<String>,
    /// When the card was used, RFC 3339 with the local offset of the purchase.
    #[serde(default)]
    spent_at: Option<String>,
    /// The bill's due date, `YYYY-MM-DD`.
    #[serde(default)]
    due_date: Option<String>,
}

/// The body of `POST /exports/batch`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Batch {
    expenses: Vec<Expense>,
}

/// The body of `POST /journals`: a journal entry, e.g. a month-end accrual.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JournalEntry {
    /// The caller's id of the entry.
    journal_id: String,
    /// The posting date, `YYYY-MM-DD`.
    date: String,
    title: String,
    lines: Vec<Line>,
}

/// One line of a [`JournalEntry`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    account: String,
    amount: String,
    side: Side,
}

/// The body of `POST /connections/accounting`: the OAuth authorization code (systems without
/// OAuth need none).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Connect {
    #[serde(default)]
    code: Option<String>,
}

/// The body of `PATCH /bills/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BillChange {
    due_date: String,
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
    /// An app for `release`; without an accounting connector, exports and syncs answer `503`,
    /// and without a webhook key, webhooks do.
    pub fn new(
        release: Release,
        accounting: Option<Connector>,
        webhook_key: Option<Vec<u8>>,
        sso: Sso,
        payments: crate::payments::Payments,
    ) -> App {
        App {
            release,
            accounting: accounting.map(Arc::new),
            exports: Mutex::new(Exports::default()),
            webhook_key,
            webhooks: Mutex::new(WebhookEvents::default()),
            sso,
            bank: None,
            payments,
        }
    }

    /// The app with the bank statement import `BANK_URL` configures (none: `/bank/…` answer `503`).
    pub fn with_bank(mut self, bank: Option<Statements>) -> App {
        self.bank = bank;
        self
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
            (&Method::POST, ["exports", "batch"]) => self.start_batch(request).await,
            (&Method::POST, ["journals"]) => self.start_journal(request).await,
            (&Method::GET, ["exports", id]) => self.show_export(id).await,
            (&Method::PATCH, ["bills", id]) => self.change_bill(id, request).await,
            (&Method::POST, ["sync", "vendors"]) => self.sync_vendors().await,
            (&Method::POST, ["webhooks", "accounting"]) => self.receive_webhook(request).await,
            (&Method::GET, ["webhooks", "events"]) => {
                Ok(respond(StatusCode::OK, &*self.webhooks.lock().await))
            }
            (&Method::GET, ["login", "oidc"]) => Ok(sso::started(OIDC, self.oidc()?.start().await)),
            (&Method::GET, ["auth", "callback"]) => {
                let query = request.uri().query().unwrap_or_default().to_owned();
                let outcome = self.oidc()?.callback(&query).await;
                Ok(self.sso.finished(OIDC, outcome).await)
            }
            (&Method::GET, ["login", "saml"]) => Ok(sso::started(SAML, self.saml()?.start().await)),
            (&Method::POST, ["saml", "acs"]) => {
                let saml = self.saml()?;
                let body = read_body(request).await?;
                Ok(self.sso.finished(SAML, saml.acs(&body).await).await)
            }
            (&Method::POST, ["bank", "import"]) => self.import_statements().await,
            (&Method::GET, ["bank", "accounts"]) => {
                Ok(respond(StatusCode::OK, &self.bank()?.accounts().await))
            }
            (_, ["payment-runs", ..]) => {
                let body = read_body(request).await?;
                let (status, json) = self
                    .payments
                    .handle(method.as_str(), &segments, &body)
                    .await;
                Ok(respond(status, &json))
            }
            (&Method::GET, ["home"]) => {
                let cookies = request
                    .headers()
                    .get(hyper::header::COOKIE)
                    .and_then(|value| value.to_str().ok());
                Ok(self.sso.home(cookies).await)
            }
            (
                _,
                ["healthz"]
                | ["connections", "accounting"]
                | ["exports"]
                | ["exports", _]
                | ["journals"]
                | ["bills", _]
                | ["sync", "vendors"]
                | ["webhooks", "accounting"]
                | ["webhooks", "events"]
                | ["login", "oidc" | "saml"]
                | ["auth", "callback"]
                | ["saml", "acs"]
                | ["home"]
                | ["bank", "import" | "accounts"],
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

    /// `POST /connections/accounting`: connects to the accounting system (the connector keeps
    /// its credentials).
    async fn connect(&self, request: Request<Incoming>) -> Result<HttpResponse, Reject> {
        let connect: Connect = read_json(request).await?;
        self.accounting()?
            .connect(connect.code.as_deref())
            .await
            .map_err(|message| {
                log(format!("connect: failed: {message}"));
                Reject::new(StatusCode::BAD_GATEWAY, message)
            })?;
        log("connect: connected to the accounting system");
        Ok(respond(StatusCode::CREATED, &json!({"connected": true})))
    }

    /// `POST /exports`: records the export and posts the bill in the background.
    async fn start_export(
        self: Arc<Self>,
        request: Request<Incoming>,
    ) -> Result<HttpResponse, Reject> {
        let expense: Expense = read_json(request).await?;
        let bill = self.bill(expense)?;
        let accounting = Arc::clone(self.accounting()?);
        let export = self.new_export().await;
        log(format!(
            "export {}: accepted expense {} ({} {} to {})",
            export.id, bill.reference, bill.amount, bill.currency, bill.contact
        ));
        let app = Arc::clone(&self);
        let id = export.id.clone();
        tokio::spawn(async move {
            let outcome = accounting.post_bill(&id, &bill).await;
            app.settle(&id, outcome, "bill", |export, bill_id| {
                export.bill_id = Some(bill_id);
            })
            .await;
        });
        Ok(respond(StatusCode::ACCEPTED, &export))
    }

    /// `POST /journals`: records the export and posts the journal entry in the background.
    async fn start_journal(
        self: Arc<Self>,
        request: Request<Incoming>,
    ) -> Result<HttpResponse, Reject> {
        let entry: JournalEntry = read_json(request).await?;
        check_journal(&entry).map_err(|message| Reject::new(StatusCode::BAD_REQUEST, message))?;
        let journal = Journal {
            reference: entry.journal_id,
            date: entry.date,
            title: entry.title,
            lines: entry
                .lines
                .into_iter()
                .map(|line| JournalLine {
                    account: line.account,
                    amount: line.amount,
                    side: line.side,
                })
                .collect(),
        };
        let accounting = Arc::clone(self.accounting()?);
        let export = self.new_export().await;
        log(format!(
            "export {}: accepted journal {} ({} lines)",
            export.id,
            journal.reference,
            journal.lines.len()
        ));
        let app = Arc::clone(&self);
        let id = export.id.clone();
        tokio::spawn(async move {
            let outcome = accounting.post_journal(&id, &journal).await;
            app.settle(&id, outcome, "journal entry", |export, entry_id| {
                export.entry_id = Some(entry_id);
            })
            .await;
        });
        Ok(respond(StatusCode::ACCEPTED, &export))
    }

    /// Records how the one-record export `id` ended: `done`, with the accounting system's id put
    /// in place by `record` (a `noun` for the log), or `failed` with the message.
    async fn settle(
        &self,
        id: &str,
        outcome: Result<String, String>,
        noun: &str,
        record: fn(&mut Export, String),
    ) {
        match &outcome {
            Ok(record_id) => log(format!("export {id}: done ({noun} {record_id})")),
            Err(message) => log(format!("export {id}: failed: {message}")),
        }
        if let Some(export) = self.exports.lock().await.by_id.get_mut(id) {
            match outcome {
                Ok(record_id) => {
                    export.state = ExportState::Done;
                    record(export, record_id);
                }
                Err(message) => {
                    export.state = ExportState::Failed;
                    export.error = Some(message);
                }
            }
        }
    }

    /// `POST /exports/batch`: records the export and posts its bills in one call in the
    /// background; the export is `done` only when every bill was saved.
    async fn start_batch(
        self: Arc<Self>,
        request: Request<Incoming>,
    ) -> Result<HttpResponse, Reject> {
        let batch: Batch = read_json(request).await?;
        if batch.expenses.is_empty() || batch.expenses.len() > MAX_BATCH {
            return Err(Reject::new(
                StatusCode::BAD_REQUEST,
                format!("a batch holds 1 to {MAX_BATCH} expenses"),
            ));
        }
        let bills = batch
            .expenses
            .into_iter()
            .map(|expense| self.bill(expense))
            .collect::<Result<Vec<Bill>, Reject>>()?;
        let accounting = Arc::clone(self.accounting()?);
        let export = self.new_export().await;
        log(format!(
            "export {}: accepted a batch of {} expenses",
            export.id,
            bills.len()
        ));
        let app = Arc::clone(&self);
        let id = export.id.clone();
        tokio::spawn(async move {
            let outcome = accounting.post_bills(&id, &bills).await;
            let mut exports = app.exports.lock().await;
            let Some(export) = exports.by_id.get_mut(&id) else {
                return;
            };
            match outcome {
                Ok(outcomes) => {
                    let results: Vec<ItemResult> = bills
                        .iter()
                        .zip(outcomes)
                        .map(|(bill, outcome)| match outcome {
                            Ok(bill_id) => ItemResult {
                                expense_id: bill.reference.clone(),
                                state: ExportState::Done,
                                bill_id: Some(bill_id),
                                error: None,
                            },
                            Err(message) => ItemResult {
                                expense_id: bill.reference.clone(),
                                state: ExportState::Failed,
                                bill_id: None,
                                error: Some(message),
                            },
                        })
                        .collect();
                    let failed = results
                        .iter()
                        .filter(|result| matches!(result.state, ExportState::Failed))
                        .count();
                    if failed == 0 {
                        log(format!("export {id}: done ({} bills)", results.len()));
                        export.state = ExportState::Done;
                    } else {
                        let message = format!("{failed} of {} bills failed", results.len());
                        log(format!("export {id}: failed: {message}"));
                        export.state = ExportState::Failed;
                        export.error = Some(message);
                    }
                    export.results = Some(results);
                }
                Err(message) => {
                    log(format!("export {id}: failed: {message}"));
                    export.state = ExportState::Failed;
                    export.error = Some(message);
                }
            }
        });
        Ok(respond(StatusCode::ACCEPTED, &export))
    }

    /// A new pending export, numbered after the last one.
    async fn new_export(&self) -> Export {
        let mut exports = self.exports.lock().await;
        exports.last_number += 1;
        let export = Export {
            id: format!("exp-{}", exports.last_number),
            state: ExportState::Pending,
            bill_id: None,
            entry_id: None,
            error: None,
            results: None,
        };
        exports.by_id.insert(export.id.clone(), export.clone());
        export
    }

    /// The bill for a checked expense, dated as the release dates it.
    fn bill(&self, expense: Expense) -> Result<Bill, Reject> {
        check_expense(&expense).map_err(|message| Reject::new(StatusCode::BAD_REQUEST, message))?;
        let date = match (&expense.date, &expense.spent_at) {
            (Some(date), _) => Some(date.clone()),
            (None, Some(spent_at)) => Some(
                bill_date(self.release, spent_at)
                    .map_err(|message| Reject::new(StatusCode::BAD_REQUEST, message))?,
            ),
            (None, None) => None,
        };
        Ok(Bill {
            reference: expense.expense_id,
            contact: expense.vendor,
            amount: expense.amount,
            currency: expense.currency,
            account_code: expense.account_code,
            date,
            due_date: expense.due_date,
        })
    }

    /// `PATCH /bills/{id}`: moves a bill's due date in the accounting system.
    async fn change_bill(
        &self,
        bill_id: &str,
        request: Request<Incoming>,
    ) -> Result<HttpResponse, Reject> {
        let change: BillChange = read_json(request).await?;
        if !is_date(&change.due_date) {
            return Err(Reject::new(
                StatusCode::BAD_REQUEST,
                format!(
                    "`due_date` must be a date like \"2026-11-30\", got \"{}\"",
                    change.due_date
                ),
            ));
        }
        self.accounting()?
            .update_due_date(bill_id, &change.due_date)
            .await
            .map_err(|message| {
                log(format!("bill {bill_id}: update failed: {message}"));
                Reject::new(StatusCode::BAD_GATEWAY, message)
            })?;
        log(format!(
            "bill {bill_id}: due date moved to {}",
            change.due_date
        ));
        Ok(respond(
            StatusCode::OK,
            &json!({"bill_id": bill_id, "due_date": change.due_date}),
        ))
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
        let names = self.accounting()?.list_vendors().await.map_err(|message| {
            log(format!("sync vendors: failed: {message}"));
            Reject::new(StatusCode::BAD_GATEWAY, message)
        })?;
        Ok(respond(
            StatusCode::OK,
            &json!({"imported": names.len(), "vendors": names}),
        ))
    }

    /// `POST /webhooks/accounting`: checks the signature as the connected provider signs and
    /// keeps the events. Answers `200` with no body as Xero asks, `401` for a bad signature (what
    /// Xero's intent-to-receive expects).
    async fn receive_webhook(&self, request: Request<Incoming>) -> Result<HttpResponse, Reject> {
        let key = self.webhook_key.as_deref().ok_or_else(|| {
            Reject::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "ACCOUNTING_WEBHOOK_KEY is not set",
            )
        })?;
        let accounting = Arc::clone(self.accounting()?);
        let headers = request.headers().clone();
        let body = read_body(request).await?;
        match accounting.verify_webhook(key, &headers, &body) {
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

    /// `POST /bank/import`: imports the bank's new statement files (`502` when the bank cannot
    /// be listed).
    async fn import_statements(&self) -> Result<HttpResponse, Reject> {
        let summary = self.bank()?.import().await.map_err(|message| {
            log(format!("bank import: failed: {message}"));
            Reject::new(StatusCode::BAD_GATEWAY, message)
        })?;
        Ok(respond(StatusCode::OK, &summary))
    }

    /// The statement import, or `503` when `BANK_URL` is not set.
    fn bank(&self) -> Result<&Statements, Reject> {
        self.bank
            .as_ref()
            .ok_or_else(|| Reject::new(StatusCode::SERVICE_UNAVAILABLE, "BANK_URL is not set"))
    }

    /// The accounting connector, or a `503` when `ACCOUNTING_API_URL` is not set.
    /// The OpenID Connect login, or `503` when `OIDC_ISSUER` is not set.
    fn oidc(&self) -> Result<&OidcLogin, Reject> {
        self.sso
            .oidc
            .as_ref()
            .ok_or_else(|| not_configured("OIDC_ISSUER"))
    }

    /// The SAML login, or `503` when `SAML_IDP_METADATA_URL` is not set.
    fn saml(&self) -> Result<&SamlLogin, Reject> {
        self.sso
            .saml
            .as_ref()
            .ok_or_else(|| not_configured("SAML_IDP_METADATA_URL"))
    }

    fn accounting(&self) -> Result<&Arc<Connector>, Reject> {
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

/// Rejects journal entries no accounting system could post: empty ids or accounts, a date that
/// is not `YYYY-MM-DD`, no lines or too many, amounts that are not non-negative decimals (the
/// balance is the accounting system's to check).
fn check_journal(entry: &JournalEntry) -> Result<(), String> {
    for (field, value) in [("journal_id", &entry.journal_id), ("title", &entry.title)] {
        if value.trim().is_empty() {
            return Err(format!("`{field}` must not be empty"));
        }
    }
    if !is_date(&entry.date) {
        return Err(format!(
            "`date` must be a date like \"2026-11-30\", got \"{}\"",
            entry.date
        ));
    }
    if entry.lines.is_empty() || entry.lines.len() > MAX_JOURNAL_LINES {
        return Err(format!(
            "a journal entry holds 1 to {MAX_JOURNAL_LINES} lines"
        ));
    }
    for (n, line) in entry.lines.iter().enumerate() {
        if line.account.trim().is_empty() {
            return Err(format!("line {}: `account` must not be empty", n + 1));
        }
        if line.amount.starts_with('-') || !is_decimal(&line.amount) {
            return Err(format!(
                "line {}: `amount` must be a decimal string like \"123.45\" (not negative; `side` says debit or credit), got \"{}\"",
                n + 1,
                line.amount
            ));
        }
    }
    Ok(())
}

/// SUP-5003: the day a card expense is booked on, from `spent_at` (RFC 3339 with the offset of
/// the place of purchase).
fn bill_date(release: Release, spent_at: &str) -> Result<String, String> {
    let at = time::OffsetDateTime::parse(spent_at, &time::format_description::well_known::Rfc3339)
        .map_err(|_| {
            format!("`spent_at` must be an RFC 3339 time like \"2026-11-01T09:30:00+13:00\", got \"{spent_at}\"")
        })?;
    let day = match release {
        // SUP-5003 (bug): 1.4.2 takes the UTC day. A purchase in the morning in New Zealand
        // (UTC+13) lands on the previous day, which can be inside a period the customer already
        // locked in Xero, so the export is refused.
        Release::V1_4_2 => at.to_offset(time::UtcOffset::UTC).date(),
        // SUP-5003 (fix): 1.4.3 takes the day on the receipt: the local day of the purchase.
        Release::V1_4_3 => at.date(),
    };
    Ok(day.to_string())
}

/// `2026-11-30`: a calendar date.
fn is_date(text: &str) -> bool {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text, format).is_ok()
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

/// `503`: the sign-in `variable` enables is not configured.
fn not_configured(variable: &str) -> Reject {
    Reject::new(
        StatusCode::SERVICE_UNAVAILABLE,
        format!("this sign-in is not configured: set {variable}"),
    )
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
    fn sup_5003_bill_date_is_the_utc_day_on_1_4_2_and_the_local_day_on_1_4_3() {
        let cases = [
            ("2026-11-01T08:30:00+13:00", "2026-10-31", "2026-11-01"),
            ("2026-11-01T14:00:00+13:00", "2026-11-01", "2026-11-01"),
            ("2026-10-31T23:30:00-05:00", "2026-11-01", "2026-10-31"),
            ("2026-11-01T08:30:00Z", "2026-11-01", "2026-11-01"),
        ];
        for (spent_at, old, new) in cases {
            assert_eq!(bill_date(Release::V1_4_2, spent_at).as_deref(), Ok(old));
            assert_eq!(bill_date(Release::V1_4_3, spent_at).as_deref(), Ok(new));
        }
        assert!(bill_date(Release::V1_4_3, "2026-11-01 08:30").is_err());
    }

    #[test]
    fn journal_entries_need_a_date_lines_and_unsigned_amounts() {
        let entry = |date: &str, lines: &str| -> JournalEntry {
            serde_json::from_str(&format!(
                r#"{{"journal_id":"ACCR-1","date":"{date}","title":"Accruals","lines":[{lines}]}}"#
            ))
            .expect("JSON of the shape")
        };
        let debit = r#"{"account":"6420","amount":"10.00","side":"debit"}"#;
        let credit = r#"{"account":"2100","amount":"10.00","side":"credit"}"#;
        assert_eq!(
            check_journal(&entry("2026-11-30", &format!("{debit},{credit}"))),
            Ok(())
        );
        assert!(check_journal(&entry("11/30/2026", debit)).is_err());
        assert!(check_journal(&entry("2026-11-30", "")).is_err());
        let negative = r#"{"account":"6420","amount":"-10.00","side":"debit"}"#;
        assert!(check_journal(&entry("2026-11-30", negative)).is_err());
        let no_account = r#"{"account":" ","amount":"1","side":"credit"}"#;
        assert!(check_journal(&entry("2026-11-30", no_account)).is_err());
        let sideways = r#"{"account":"1","amount":"1","side":"left"}"#;
        assert!(serde_json::from_str::<Line>(sideways).is_err());
    }

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
