//! The ledger-sync demo's QuickBooks Online client: OAuth 2.0 at `/oauth2/v1/tokens/bearer`,
//! the company (realm) from `QUICKBOOKS_REALM_ID`, bills and vendors of the Accounting API
//! (`/v3/company/<realm>/`), webhooks signed in `intuit-signature`.
//!
//! [`QuickBooksClient`] keeps the tokens of one connection and the `SyncToken` of every bill it
//! has seen. These incidents of release 1.4.2 live here, each beside its 1.4.3 fix and selected
//! only by [`Release`]:
//!
//! - SUP-5011: moving a bill's due date sends the `SyncToken` ledger-sync saw when it created
//!   the bill; after someone edited the bill in QuickBooks that token is stale (Fault 5010), and
//!   1.4.2 retries with the same token and fails. 1.4.3 re-reads the bill and retries once with
//!   the fresh token.
//! - SUP-5024: a refresh may return a new refresh token (about daily); 1.4.2 keeps only the new
//!   access token and refreshes with the token from the first connect until QuickBooks refuses it
//!   (`invalid_grant`), which disconnects the company. 1.4.3 stores every refresh token returned.
//! - SUP-5032: when the connection drops after QuickBooks saved a bill, 1.4.2 sends it again
//!   without a `requestid` and reports the 6140 Fault ("Duplicate Document Number Error") as a
//!   failure, though the bill is in QuickBooks. 1.4.3 sends the expense id as `requestid`, so the retry gets the
//!   original answer, and links the bill a 6140 names (`TxnId`).
//! - SUP-5081: since Intuit moved webhooks to CloudEvents, 1.4.2 refuses every delivery with 400
//!   (it knows only the legacy `eventNotifications` payload) and no change reaches ledger-sync;
//!   1.4.3 accepts both shapes, after checking the signature over the raw body.

use std::collections::HashMap;

use hyper::HeaderMap;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderValue};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::connector::{
    Bill, Settings, TIMED_OUT, http_client, request_tokens, status_line, text_at,
    unreachable_message,
};
use crate::log;
use crate::release::Release;
use crate::webhook::{Rejection, check_signature};

/// Intuit's token endpoint.
const TOKEN_PATH: &str = "/oauth2/v1/tokens/bearer";
/// The header Intuit signs webhooks in.
const SIGNATURE_HEADER: &str = "intuit-signature";
/// Intuit's limit on a `requestid`.
const MAX_REQUEST_ID_CHARS: usize = 50;
/// Vendors per page of a vendor query.
const PAGE_SIZE: usize = 100;
/// The most vendor pages one sync reads, so a looping API cannot hang it.
const MAX_VENDOR_PAGES: usize = 100;

/// The tokens of a connection.
#[derive(Clone, Debug)]
struct Session {
    access: String,
    refresh: String,
}

/// Why one call gave no usable answer.
#[derive(Debug)]
enum CallError {
    /// The request went out but the answer was lost (timeout, reset): it may have taken effect.
    Lost(String),
    /// Any other failure, as the message to show the user.
    Failed(String),
}

impl CallError {
    fn into_message(self) -> String {
        match self {
            CallError::Lost(message) | CallError::Failed(message) => message,
        }
    }
}

/// An error answer of QuickBooks: its Fault code (if any) and the message to show.
#[derive(Debug)]
struct Refusal {
    code: Option<String>,
    message: String,
    detail: String,
}

/// Talks to QuickBooks Online on behalf of one ledger-sync process.
pub struct QuickBooksClient {
    base_url: String,
    http: reqwest::Client,
    release: Release,
    /// `QUICKBOOKS_REALM_ID`: the company.
    realm: String,
    session: Mutex<Option<Session>>,
    /// Bill id → the `SyncToken` of the version ledger-sync last saw.
    sync_tokens: Mutex<HashMap<String, String>>,
}

impl QuickBooksClient {
    /// A client for QuickBooks at `settings.base_url`, for the company `QUICKBOOKS_REALM_ID`.
    pub fn from_env(settings: Settings) -> Result<QuickBooksClient, String> {
        let realm = std::env::var("QUICKBOOKS_REALM_ID")
            .ok()
            .filter(|id| !id.trim().is_empty())
            .ok_or("QUICKBOOKS_REALM_ID is required with ACCOUNTING_PROVIDER=quickbooks")?;
        Ok(QuickBooksClient {
            http: http_client(settings.timeout)?,
            base_url: settings.base_url,
            release: settings.release,
            realm: realm.trim().to_owned(),
            session: Mutex::new(None),
            sync_tokens: Mutex::new(HashMap::new()),
        })
    }

    /// Exchanges the authorization `code` for tokens.
    pub async fn connect(&self, code: Option<&str>) -> Result<(), String> {
        let code = code.ok_or("connecting to QuickBooks needs the authorization `code`")?;
        let (access, refresh) = self
            .token(&[("grant_type", "authorization_code"), ("code", code)])
            .await?;
        *self.session.lock().await = Some(Session { access, refresh });
        Ok(())
    }

    /// `POST /oauth2/v1/tokens/bearer` with `form`: the access and refresh tokens.
    async fn token(&self, form: &[(&str, &str)]) -> Result<(String, String), String> {
        let refreshing = form
            .first()
            .is_some_and(|(_, grant)| *grant == "refresh_token");
        request_tokens(&self.http, &self.base_url, TOKEN_PATH, "quickbooks", form)
            .await
            .map_err(|message| {
                if refreshing && message == "token request failed: invalid_grant" {
                    "QuickBooks disconnected: the refresh token was refused (invalid_grant); reconnect ledger-sync"
                        .to_owned()
                } else {
                    message
                }
            })
    }

    /// Trades the session's refresh token for a new access token.
    async fn refresh(&self, used: &Session) -> Result<(), String> {
        let (access, refresh) = self
            .token(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", &used.refresh),
            ])
            .await?;
        if let Some(session) = self.session.lock().await.as_mut() {
            session.access = access;
            if refresh != session.refresh {
                log("quickbooks: the refresh answer holds a new refresh token");
            }
            session.refresh = refresh_to_keep(self.release, &session.refresh, refresh);
        }
        Ok(())
    }

    /// `https://…/v3/company/<realm>/<path>`.
    fn url(&self, path: &str) -> String {
        format!("{}/v3/company/{}/{path}", self.base_url, self.realm)
    }

    /// Sends the request `build` makes with the session's access token; on `401` refreshes once
    /// and sends it again (both releases: QuickBooks access tokens last an hour). Logs `what`.
    async fn call(
        &self,
        what: &str,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<(StatusCode, bytes::Bytes), CallError> {
        let mut refreshed = false;
        loop {
            let session = self
                .session
                .lock()
                .await
                .clone()
                .ok_or_else(|| CallError::Failed("not connected to QuickBooks".to_owned()))?;
            let bearer = HeaderValue::from_str(&format!("Bearer {}", session.access))
                .map_err(|_| CallError::Failed("the access token is not header-safe".to_owned()))?;
            let response = build()
                .header(AUTHORIZATION, bearer)
                .header(ACCEPT, "application/json")
                .send()
                .await
                .map_err(|error| {
                    let message = unreachable_message(error);
                    log(format!("{what} -> no answer: {message}"));
                    CallError::Lost(message)
                })?;
            let status = response.status();
            let tid = response
                .headers()
                .get("intuit_tid")
                .and_then(|v| v.to_str().ok())
                .map(|tid| format!(" (intuit_tid {tid})"))
                .unwrap_or_default();
            log(format!("{what} -> {}{tid}", status.as_u16()));
            if status == StatusCode::UNAUTHORIZED && !refreshed {
                refreshed = true;
                self.refresh(&session).await.map_err(CallError::Failed)?;
                continue;
            }
            let body = response
                .bytes()
                .await
                .map_err(|error| CallError::Lost(unreachable_message(error)))?;
            return Ok((status, body));
        }
    }

    /// Creates a bill and returns its `Id`, or the message to show the user.
    pub async fn post_bill(&self, export_id: &str, bill: &Bill) -> Result<String, String> {
        let vendor = self.vendor_id(export_id, &bill.contact).await?;
        let body = bill_body(bill, &vendor)?;
        let request_id = request_id(self.release, &bill.reference);
        let first = self
            .create_bill(export_id, &body, request_id.as_deref())
            .await;
        let outcome = match first {
            Err(CallError::Lost(message)) => {
                log(format!(
                    "export {export_id}: the answer to the create was lost ({message}), sending it again"
                ));
                self.create_bill(export_id, &body, request_id.as_deref())
                    .await
            }
            other => other,
        };
        match outcome {
            Ok(id) => Ok(id),
            Err(CallError::Failed(message)) => Err(message),
            Err(CallError::Lost(message)) if message.contains("timed out") => {
                Err(TIMED_OUT.to_owned())
            }
            Err(error) => Err(error.into_message()),
        }
    }

    /// One `POST bill` (with `?requestid=` when given): the new bill's `Id`.
    async fn create_bill(
        &self,
        export_id: &str,
        body: &Value,
        request_id: Option<&str>,
    ) -> Result<String, CallError> {
        let path = match request_id {
            Some(id) => format!(
                "bill?{}",
                form_urlencoded::Serializer::new(String::new())
                    .append_pair("requestid", id)
                    .finish()
            ),
            None => "bill".to_owned(),
        };
        let (status, answer) = self
            .call(&format!("export {export_id}: POST {path}"), || {
                self.http.post(self.url(&path)).json(body)
            })
            .await?;
        if status.is_success() {
            let json = parse(&answer).map_err(CallError::Failed)?;
            return self
                .remember(&json, "Bill")
                .await
                .map_err(CallError::Failed);
        }
        let refusal = refusal(status, &answer);
        if refusal.code.as_deref() == Some("6140") {
            match self.release {
                // SUP-5032 (bug): 1.4.2 shows the duplicate as a failed export, although the
                // bill it names is the one this export saved a moment ago.
                Release::V1_4_2 => {}
                // SUP-5032 (fix): 1.4.3 reads the `TxnId` the Fault names, checks that bill is
                // this expense's, and links it.
                Release::V1_4_3 => {
                    if let Some(id) = self.linked_duplicate(export_id, &refusal, body).await {
                        return Ok(id);
                    }
                }
            }
        }
        Err(CallError::Failed(refusal.to_message()))
    }

    /// SUP-5032 (fix): the id of the bill a 6140 names (`… TxnType=Bill with TxnId=N`), when it
    /// is the same expense (same `DocNumber` and vendor).
    async fn linked_duplicate(
        &self,
        export_id: &str,
        refusal: &Refusal,
        sent: &Value,
    ) -> Option<String> {
        let id = duplicate_txn_id(&refusal.detail)?;
        let saved = self.read_bill(&id).await.ok()?;
        let same =
            saved["DocNumber"] == sent["DocNumber"] && saved["VendorRef"] == sent["VendorRef"];
        log(format!(
            "export {export_id}: QuickBooks says bill {id} has this number: {}",
            if same {
                "it is this expense, linking it"
            } else {
                "another expense"
            }
        ));
        same.then_some(id)
    }

    /// Reads `{entity: {..}}` of an answer, remembers the record's `SyncToken` and returns its
    /// `Id`.
    async fn remember(&self, json: &Value, entity: &str) -> Result<String, String> {
        let record = json
            .get(entity)
            .ok_or_else(|| format!("QuickBooks answered without a {entity}"))?;
        let id = text_at(record, &["Id"])
            .ok_or_else(|| format!("QuickBooks answered a {entity} without an Id"))?
            .to_owned();
        if let Some(token) = text_at(record, &["SyncToken"]) {
            self.sync_tokens
                .lock()
                .await
                .insert(id.clone(), token.to_owned());
        }
        Ok(id)
    }

    /// `GET bill/<id>`: the bill as QuickBooks has it now (its `SyncToken` remembered).
    async fn read_bill(&self, id: &str) -> Result<Value, String> {
        let path = format!("bill/{id}");
        let json = self
            .call_json(&format!("bill {id}: GET {path}"), || {
                self.http.get(self.url(&path))
            })
            .await?;
        self.remember(&json, "Bill").await?;
        Ok(json["Bill"].clone())
    }

    /// The `Id` of the vendor called `name`, created when QuickBooks has none.
    async fn vendor_id(&self, export_id: &str, name: &str) -> Result<String, String> {
        let query = format!(
            "select * from Vendor where DisplayName = '{}'",
            name.replace('\\', "\\\\").replace('\'', "\\'")
        );
        let found = self.query(export_id, &query).await?;
        if let Some(id) = found["Vendor"].get(0).and_then(|v| text_at(v, &["Id"])) {
            return Ok(id.to_owned());
        }
        let body = json!({ "DisplayName": name });
        let json = self
            .call_json(&format!("export {export_id}: POST vendor"), || {
                self.http.post(self.url("vendor")).json(&body)
            })
            .await?;
        self.remember(&json, "Vendor").await
    }

    /// `GET query?query=…`: the `QueryResponse` object.
    async fn query(&self, what: &str, query: &str) -> Result<Value, String> {
        let path = format!(
            "query?{}",
            form_urlencoded::Serializer::new(String::new())
                .append_pair("query", query)
                .finish()
        );
        let json = self
            .call_json(&format!("{what}: GET query ({query})"), || {
                self.http.get(self.url(&path))
            })
            .await?;
        Ok(json["QueryResponse"].clone())
    }

    /// [`Self::call`] for an answer that must be a success: its body as JSON, or the message.
    async fn call_json(
        &self,
        what: &str,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Value, String> {
        let (status, answer) = self
            .call(what, build)
            .await
            .map_err(CallError::into_message)?;
        if !status.is_success() {
            return Err(refusal(status, &answer).to_message());
        }
        parse(&answer)
    }

    /// Creates `bills` in one `POST batch`: per bill its id or QuickBooks' message.
    pub async fn post_bills(
        &self,
        export_id: &str,
        bills: &[Bill],
    ) -> Result<Vec<Result<String, String>>, String> {
        let mut items = Vec::with_capacity(bills.len());
        for (index, bill) in bills.iter().enumerate() {
            let vendor = self.vendor_id(export_id, &bill.contact).await?;
            items.push(json!({
                "bId": index.to_string(),
                "operation": "create",
                "Bill": bill_body(bill, &vendor)?,
            }));
        }
        let body = json!({ "BatchItemRequest": items });
        let json = self
            .call_json(&format!("export {export_id}: POST batch"), || {
                self.http.post(self.url("batch")).json(&body)
            })
            .await?;
        let answers = json["BatchItemResponse"]
            .as_array()
            .ok_or("QuickBooks answered the batch without BatchItemResponse")?;
        Ok((0..bills.len())
            .map(|index| {
                let b_id = index.to_string();
                let item = answers
                    .iter()
                    .find(|item| item["bId"].as_str() == Some(b_id.as_str()))
                    .ok_or("QuickBooks answered no item for this bill")?;
                match text_at(item, &["Bill", "Id"]) {
                    Some(id) => Ok(id.to_owned()),
                    None => Err(fault_message(&item["Fault"])
                        .unwrap_or_else(|| "refused by QuickBooks".to_owned())),
                }
            })
            .collect())
    }

    /// Moves the due date of bill `bill_id`: a sparse update with the bill's `SyncToken`.
    pub async fn update_due_date(&self, bill_id: &str, due_date: &str) -> Result<(), String> {
        let known = self.sync_tokens.lock().await.get(bill_id).cloned();
        let sync_token = match known {
            Some(token) => token,
            None => text_at(&self.read_bill(bill_id).await?, &["SyncToken"])
                .unwrap_or("0")
                .to_owned(),
        };
        let first = self.send_due_date(bill_id, due_date, &sync_token).await?;
        let Err(refusal) = first else {
            return Ok(());
        };
        if refusal.code.as_deref() != Some("5010") {
            return Err(refusal.to_message());
        }
        let retry_token = match on_stale_object(self.release) {
            StaleRetry::SameToken => {
                log(format!("bill {bill_id}: stale object, retrying"));
                sync_token
            }
            StaleRetry::Reread => {
                log(format!(
                    "bill {bill_id}: changed in QuickBooks since ledger-sync saw it, re-reading"
                ));
                text_at(&self.read_bill(bill_id).await?, &["SyncToken"])
                    .unwrap_or_default()
                    .to_owned()
            }
        };
        match self.send_due_date(bill_id, due_date, &retry_token).await? {
            Ok(()) => Ok(()),
            Err(refusal) => Err(refusal.to_message()),
        }
    }

    /// One sparse update of the due date with `sync_token`; QuickBooks' refusal as `Ok(Err)`.
    async fn send_due_date(
        &self,
        bill_id: &str,
        due_date: &str,
        sync_token: &str,
    ) -> Result<Result<(), Refusal>, String> {
        let body = json!({
            "Id": bill_id,
            "SyncToken": sync_token,
            "sparse": true,
            "DueDate": due_date,
        });
        let (status, answer) = self
            .call(
                &format!("bill {bill_id}: POST bill (SyncToken {sync_token})"),
                || self.http.post(self.url("bill")).json(&body),
            )
            .await
            .map_err(CallError::into_message)?;
        if status.is_success() {
            self.remember(&parse(&answer)?, "Bill").await?;
            return Ok(Ok(()));
        }
        Ok(Err(refusal(status, &answer)))
    }

    /// Lists the names of QuickBooks' vendors, a page of 100 at a time.
    pub async fn list_vendors(&self) -> Result<Vec<String>, String> {
        let mut names = Vec::new();
        for page in 0..MAX_VENDOR_PAGES {
            let start = page * PAGE_SIZE + 1;
            let found = self
                .query(
                    "sync vendors",
                    &format!("select * from Vendor STARTPOSITION {start} MAXRESULTS {PAGE_SIZE}"),
                )
                .await?;
            let vendors = found["Vendor"].as_array().cloned().unwrap_or_default();
            names.extend(
                vendors
                    .iter()
                    .filter_map(|vendor| text_at(vendor, &["DisplayName"]))
                    .map(str::to_owned),
            );
            if vendors.len() < PAGE_SIZE {
                break;
            }
        }
        Ok(names)
    }

    /// Checks a delivery's `intuit-signature` (base64 HMAC-SHA256 of the raw body under the
    /// verifier token `key`) and returns its events: the entities of a legacy
    /// `eventNotifications` payload (each with its `realmId`), or the events of a CloudEvents
    /// array.
    pub fn verify_webhook(
        &self,
        key: &[u8],
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Vec<Value>, Rejection> {
        let signature = headers
            .get(SIGNATURE_HEADER)
            .map(HeaderValue::as_bytes)
            .ok_or(Rejection::BadSignature("no intuit-signature header"))?;
        check_signature(key, signature, body)?;
        let payload: Value = serde_json::from_slice(body)
            .map_err(|error| Rejection::BadPayload(format!("the body is not JSON: {error}")))?;
        webhook_events(self.release, &payload)
    }
}

/// The events of a verified webhook payload.
fn webhook_events(release: Release, payload: &Value) -> Result<Vec<Value>, Rejection> {
    if let Some(events) = payload.as_array() {
        match release {
            // SUP-5081 (bug): 1.4.2 knows only the legacy `eventNotifications` payload. Since
            // Intuit sends CloudEvents arrays, every delivery is refused with 400, QuickBooks
            // keeps re-sending it, and no change reaches ledger-sync.
            Release::V1_4_2 => {}
            // SUP-5081 (fix): 1.4.3 takes a CloudEvents array as it comes, one event per element,
            // beside the legacy shape.
            Release::V1_4_3 => return Ok(events.clone()),
        }
    }
    let notifications = payload
        .get("eventNotifications")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            Rejection::BadPayload("the payload has no `eventNotifications`".to_owned())
        })?;
    Ok(notifications
        .iter()
        .flat_map(|notification| {
            let realm = notification["realmId"].clone();
            notification["dataChangeEvent"]["entities"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(move |mut entity| {
                    entity["realmId"] = realm.clone();
                    entity
                })
        })
        .collect())
}

impl Refusal {
    /// What the user sees: QuickBooks' message, detail and code.
    fn to_message(&self) -> String {
        match &self.code {
            Some(code) => format!(
                "{} (QuickBooks error {code}): {}",
                self.message, self.detail
            ),
            None => self.message.clone(),
        }
    }
}

/// The refusal in an error answer: QuickBooks' `Fault` (or the 401's lowercase `fault`).
fn refusal(status: StatusCode, body: &[u8]) -> Refusal {
    let json = serde_json::from_slice::<Value>(body).unwrap_or(Value::Null);
    let error = json["Fault"]["Error"]
        .get(0)
        .or_else(|| json["fault"]["error"].get(0));
    match error {
        Some(error) => {
            let field = |upper: &str, lower: &str| {
                text_at(error, &[upper])
                    .or_else(|| text_at(error, &[lower]))
                    .unwrap_or_default()
                    .to_owned()
            };
            Refusal {
                code: text_at(error, &["code"]).map(str::to_owned),
                message: field("Message", "message"),
                detail: field("Detail", "detail"),
            }
        }
        None => Refusal {
            code: None,
            message: format!("QuickBooks answered {}", status_line(status)),
            detail: String::new(),
        },
    }
}

/// An answer's body as JSON.
fn parse(answer: &[u8]) -> Result<Value, String> {
    serde_json::from_slice(answer)
        .map_err(|error| format!("unexpected answer from QuickBooks: {error}"))
}

/// The message of a batch item's `Fault`.
fn fault_message(fault: &Value) -> Option<String> {
    let error = fault["Error"].get(0)?;
    Some(format!(
        "{} (QuickBooks error {}): {}",
        text_at(error, &["Message"])?,
        text_at(error, &["code"]).unwrap_or("?"),
        text_at(error, &["Detail"]).unwrap_or_default()
    ))
}

/// The QuickBooks bill for `bill`, billed by vendor `vendor`.
fn bill_body(bill: &Bill, vendor: &str) -> Result<Value, String> {
    let amount: serde_json::Number = bill
        .amount
        .parse()
        .map_err(|_| format!("amount `{}` is not a number", bill.amount))?;
    let mut body = json!({
        "VendorRef": { "value": vendor },
        "DocNumber": bill.reference,
        "CurrencyRef": { "value": bill.currency },
        "Line": [{
            "Amount": amount,
            "DetailType": "AccountBasedExpenseLineDetail",
            "AccountBasedExpenseLineDetail": { "AccountRef": { "value": bill.account_code } },
        }],
    });
    if let Some(date) = &bill.date {
        body["TxnDate"] = json!(date);
    }
    if let Some(due) = &bill.due_date {
        body["DueDate"] = json!(due);
    }
    Ok(body)
}

/// The `requestid` of the create of an expense's bill.
fn request_id(release: Release, reference: &str) -> Option<String> {
    match release {
        // SUP-5032 (bug): 1.4.2 sends no `requestid`, so a create sent again after a lost
        // answer runs again (and meets its own DocNumber: 6140).
        Release::V1_4_2 => None,
        // SUP-5032 (fix): 1.4.3 sends the expense id, when it fits Intuit's 50 characters, so
        // QuickBooks answers a repeat with the first answer instead of running it again.
        Release::V1_4_3 => (!reference.is_empty()
            && reference.chars().count() <= MAX_REQUEST_ID_CHARS)
            .then(|| reference.to_owned()),
    }
}

/// SUP-5032 (fix): the `TxnId` a 6140 `Detail` names (`DocNumber=… is assigned to TxnType=Bill
/// with TxnId=111`).
fn duplicate_txn_id(detail: &str) -> Option<String> {
    let id: String = detail
        .split("TxnId=")
        .nth(1)?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    (!id.is_empty()).then_some(id)
}

/// The refresh token to keep after a refresh that answered `answered` while `held` was kept.
fn refresh_to_keep(release: Release, held: &str, answered: String) -> String {
    match release {
        // SUP-5024 (bug): 1.4.2 keeps the refresh token from the connect. Once QuickBooks has
        // rotated it (about daily) and the old one has lapsed, the next refresh gets
        // `invalid_grant` and the company is disconnected.
        Release::V1_4_2 => held.to_owned(),
        // SUP-5024 (fix): 1.4.3 stores the refresh token of every answer, rotated or not.
        Release::V1_4_3 => answered,
    }
}

/// What an update does after a Stale Object Error (5010).
#[derive(Debug, PartialEq, Eq)]
enum StaleRetry {
    /// Send it again with the same `SyncToken`.
    SameToken,
    /// Re-read the bill and send it again, once, with the current `SyncToken`.
    Reread,
}

fn on_stale_object(release: Release) -> StaleRetry {
    match release {
        // SUP-5011 (bug): 1.4.2 takes the stale object error for a glitch and sends the same
        // update again, with the same old SyncToken, which fails the same way.
        Release::V1_4_2 => StaleRetry::SameToken,
        // SUP-5011 (fix): 1.4.3 re-reads the bill, re-applies the due date on the current
        // version and retries once; a second conflict is shown to the user.
        Release::V1_4_3 => StaleRetry::Reread,
    }
}

#[cfg(test)]
mod tests {
    //! The pure parts of the client: Fault parsing (both key casings), request ids, bodies.

    use super::*;

    #[test]
    fn faults_are_read_in_both_key_casings() {
        let validation = br#"{"Fault":{"Error":[{"Message":"Stale Object Error","Detail":"d","code":"5010","element":""}],"type":"ValidationFault"}}"#;
        let refused = refusal(StatusCode::BAD_REQUEST, validation);
        assert_eq!(refused.code.as_deref(), Some("5010"));
        assert_eq!(
            refused.to_message(),
            "Stale Object Error (QuickBooks error 5010): d"
        );
        let auth = br#"{"fault":{"error":[{"message":"message=AuthenticationFailed; errorCode=003200; statusCode=401","detail":"Token expired: x","code":"3200"}],"type":"AUTHENTICATION"}}"#;
        assert_eq!(
            refusal(StatusCode::UNAUTHORIZED, auth).code.as_deref(),
            Some("3200")
        );
        assert_eq!(
            refusal(StatusCode::BAD_GATEWAY, b"").to_message(),
            "QuickBooks answered 502 Bad Gateway"
        );
    }

    #[test]
    fn sup_5032_no_request_id_on_1_4_2_and_the_expense_id_on_1_4_3() {
        assert_eq!(request_id(Release::V1_4_2, "EXP-1042"), None);
        assert_eq!(
            request_id(Release::V1_4_3, "EXP-1042").as_deref(),
            Some("EXP-1042")
        );
        assert_eq!(request_id(Release::V1_4_3, &"x".repeat(51)), None);
        assert_eq!(request_id(Release::V1_4_3, ""), None);
    }

    #[test]
    fn sup_5032_the_txn_id_of_a_duplicate_doc_number_is_read_from_the_detail() {
        let cases = [
            (
                "DocNumber=1234 is assigned to TxnType=Bill with TxnId=111",
                Some("111"),
            ),
            (
                "Duplicate : DocNumber=EXP-1 is assigned to TxnType=Bill with TxnId=7.",
                Some("7"),
            ),
            ("DocNumber=1234 is assigned", None),
            ("TxnId=", None),
        ];
        for (detail, expected) in cases {
            assert_eq!(duplicate_txn_id(detail).as_deref(), expected, "{detail}");
        }
    }

    #[test]
    fn sup_5024_1_4_2_keeps_the_first_refresh_token_and_1_4_3_the_latest() {
        let kept = |release| refresh_to_keep(release, "rt-connect", "rt-rotated".to_owned());
        assert_eq!(kept(Release::V1_4_2), "rt-connect");
        assert_eq!(kept(Release::V1_4_3), "rt-rotated");
    }

    #[test]
    fn sup_5081_cloudevents_are_refused_on_1_4_2_and_taken_on_1_4_3() {
        let cloud =
            json!([{ "specversion": "1.0", "type": "qbo.bill.created.v1", "intuitentityid": "1" }]);
        assert!(matches!(
            webhook_events(Release::V1_4_2, &cloud),
            Err(Rejection::BadPayload(_))
        ));
        assert_eq!(
            webhook_events(Release::V1_4_3, &cloud),
            Ok(vec![cloud[0].clone()])
        );
        let legacy = json!({ "eventNotifications": [{ "realmId": "9", "dataChangeEvent": {
            "entities": [{ "name": "Bill", "id": "1", "operation": "Create" }] } }] });
        for release in Release::ALL {
            let events = webhook_events(release, &legacy).expect("legacy events");
            assert_eq!(events[0]["realmId"], "9", "release {release}");
            assert_eq!(events[0]["name"], "Bill");
        }
    }

    #[test]
    fn sup_5011_1_4_2_resends_the_stale_token_and_1_4_3_rereads() {
        assert_eq!(on_stale_object(Release::V1_4_2), StaleRetry::SameToken);
        assert_eq!(on_stale_object(Release::V1_4_3), StaleRetry::Reread);
    }

    #[test]
    fn a_bill_carries_its_amount_digits_and_the_expense_id_as_doc_number() {
        let bill = Bill {
            reference: "EXP-1".to_owned(),
            contact: "Acme".to_owned(),
            amount: "1240.50".to_owned(),
            currency: "GBP".to_owned(),
            account_code: "310".to_owned(),
            date: Some("2026-05-09".to_owned()),
            due_date: None,
        };
        let body = bill_body(&bill, "7").expect("a body");
        assert_eq!(body["DocNumber"], "EXP-1");
        assert_eq!(body["VendorRef"]["value"], "7");
        // The same decimal value; JSON has no trailing zeros to keep.
        assert_eq!(body["Line"][0]["Amount"].to_string(), "1240.5");
        assert_eq!(body["TxnDate"], "2026-05-09");
        assert!(body.get("DueDate").is_none());
    }
}
