//! The ledger-sync demo's Xero client: OAuth 2.0 at `/connect/token`, the tenant from
//! `/connections`, bills as `ACCPAY` invoices and vendors as contacts of the Accounting API
//! (`/api.xro/2.0/`).
//!
//! [`XeroClient`] keeps the tokens and the tenant id of one connection. These incidents of
//! release 1.4.2 live here, each beside its 1.4.3 fix and selected only by [`Release`] (SUP-4972,
//! the webhook signature, is in `webhook.rs`):
//!
//! - SUP-4821: on `429 Too Many Requests` 1.4.2 retries once at once and gives up; 1.4.3 honours
//!   `Retry-After` (capped at 10s, 1s when absent) for up to three retries.
//! - SUP-4907: 1.4.2 imports only the first page of contacts; 1.4.3 reads pages until one is not
//!   full (Xero pages by 100).
//! - SUP-4933: 1.4.2 looks for `error.message` in a 400 body and shows "unknown error" for Xero's
//!   `ValidationException`; 1.4.3 shows the validation messages.
//! - SUP-4958: when a bill create times out, 1.4.2 sends it again at once (a duplicate when the
//!   first was saved); 1.4.3 sends an `Idempotency-Key` and, after a timeout, looks the bill up by
//!   its invoice number before sending it again.
//! - SUP-4990: 1.4.2 uses the access token of the connection until it fails, so every call after
//!   its 30 minutes gets `401` `TokenExpired: token expired at …`; 1.4.3 refreshes once on a 401 and
//!   retries.
//! - SUP-4995: with `summarizeErrors=false` Xero answers `200` even when some bills of a batch were
//!   refused; 1.4.2 reports every bill as exported, 1.4.3 reads each element's
//!   `StatusAttributeString`.

use hyper::HeaderMap;
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue, RETRY_AFTER};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::connector::{
    Bill, Settings, TIMED_OUT, bearer, http_client, request_tokens, retry_after, status_line,
    text_at, unreachable_message, unsupported,
};
use crate::log;
use crate::release::Release;
use crate::webhook::{Rejection, SIGNATURE_HEADER, verify_delivery};

/// The message users see when Xero keeps rate limiting an export.
const RATE_LIMITED: &str = "rate limited by accounting system";
/// How many times 1.4.3 retries a rate-limited call.
const MAX_RATE_LIMIT_RETRIES: u32 = 3;
/// Records per page of Xero's `?page=N` [XERO-OAS].
const PAGE_SIZE: usize = 100;
/// The most contact pages 1.4.3 reads in one sync, so a looping API cannot hang it.
const MAX_VENDOR_PAGES: u32 = 100;
/// The header 1.4.3 sends the expense id in, so a repeated create is not saved twice.
const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// Xero's limit on an `Idempotency-Key` ("128 character max").
const MAX_IDEMPOTENCY_KEY_CHARS: usize = 128;
/// The Accounting API's invoices.
const INVOICES: &str = "/api.xro/2.0/Invoices";
/// The Accounting API's contacts.
const CONTACTS: &str = "/api.xro/2.0/Contacts";

/// The tokens and tenant of a connection.
#[derive(Clone, Debug)]
struct Session {
    access: String,
    refresh: String,
    tenant: String,
}

/// Why one call gave no usable answer.
#[derive(Debug)]
enum CallError {
    /// The request went out but no answer came in time: it may or may not have taken effect.
    TimedOut,
    /// Any other failure, as the message to show the user.
    Failed(String),
}

impl CallError {
    /// Sorts a transport error: a timeout leaves the outcome unknown, anything else failed.
    fn from_transport(error: reqwest::Error) -> CallError {
        if error.is_timeout() {
            CallError::TimedOut
        } else {
            CallError::Failed(unreachable_message(error))
        }
    }

    /// The message shown to the user.
    fn into_message(self) -> String {
        match self {
            CallError::TimedOut => TIMED_OUT.to_owned(),
            CallError::Failed(message) => message,
        }
    }
}

/// Talks to Xero on behalf of one ledger-sync process.
pub struct XeroClient {
    base_url: String,
    http: reqwest::Client,
    release: Release,
    /// `XERO_TENANT_ID`: the tenant to use when the connection lists several (default: the first).
    tenant: Option<String>,
    session: Mutex<Option<Session>>,
}

impl XeroClient {
    /// A client for Xero at `settings.base_url`.
    pub fn from_env(settings: Settings) -> Result<XeroClient, String> {
        Ok(XeroClient {
            http: http_client(settings.timeout)?,
            base_url: settings.base_url,
            release: settings.release,
            tenant: std::env::var("XERO_TENANT_ID")
                .ok()
                .filter(|id| !id.trim().is_empty()),
            session: Mutex::new(None),
        })
    }

    /// Exchanges the authorization `code` for tokens and picks the tenant from `/connections`.
    pub async fn connect(&self, code: Option<&str>) -> Result<(), String> {
        let code = code.ok_or("connecting to Xero needs the authorization `code`")?;
        let tokens = self
            .token(&[("grant_type", "authorization_code"), ("code", code)])
            .await?;
        let response = self
            .http
            .get(format!("{}/connections", self.base_url))
            .header(AUTHORIZATION, bearer(&tokens.0)?)
            .send()
            .await
            .map_err(unreachable_message)?;
        let status = response.status();
        log(format!("connect: GET /connections -> {}", status.as_u16()));
        let body = response.bytes().await.map_err(unreachable_message)?;
        if !status.is_success() {
            return Err(format!(
                "listing Xero connections failed: {}",
                status_line(status)
            ));
        }
        let connections: Vec<Value> = serde_json::from_slice(&body)
            .map_err(|error| format!("unexpected answer from /connections: {error}"))?;
        let tenants: Vec<&str> = connections
            .iter()
            .filter_map(|connection| text_at(connection, &["tenantId"]))
            .collect();
        let tenant = match &self.tenant {
            Some(wanted) => tenants
                .iter()
                .find(|id| id.eq_ignore_ascii_case(wanted))
                .ok_or_else(|| format!("tenant {wanted} is not connected to this app"))?,
            None => tenants
                .first()
                .ok_or("no Xero organisation is connected to this app")?,
        };
        *self.session.lock().await = Some(Session {
            access: tokens.0,
            refresh: tokens.1,
            tenant: (*tenant).to_owned(),
        });
        Ok(())
    }

    /// `POST /connect/token` with `form`: the new access and refresh tokens.
    async fn token(&self, form: &[(&str, &str)]) -> Result<(String, String), String> {
        request_tokens(&self.http, &self.base_url, "/connect/token", "xero", form).await
    }

    /// The current session, or the message that ledger-sync is not connected.
    async fn session(&self) -> Result<Session, CallError> {
        self.session
            .lock()
            .await
            .clone()
            .ok_or_else(|| CallError::Failed("not connected to Xero".to_owned()))
    }

    /// Sends the request `build` makes for the current session, with the release's handling of
    /// `401` (SUP-4990) and `429` (SUP-4821). Logs `what` with the status.
    async fn call(
        &self,
        what: &str,
        build: impl Fn(&Session) -> reqwest::RequestBuilder,
    ) -> Result<(StatusCode, bytes::Bytes), CallError> {
        let mut rate_limited = 0;
        let mut refreshed = false;
        loop {
            let session = self.session().await?;
            let request = build(&session)
                .header(
                    AUTHORIZATION,
                    bearer(&session.access).map_err(CallError::Failed)?,
                )
                .header("xero-tenant-id", &session.tenant);
            let response = request.send().await.map_err(CallError::from_transport)?;
            let status = response.status();
            log(format!("{what} -> {}", status.as_u16()));
            if status == StatusCode::UNAUTHORIZED && !refreshed {
                match self.release {
                    // SUP-4990 (bug): 1.4.2 never refreshes; once the 30-minute access token
                    // expires, every call of a long export fails.
                    Release::V1_4_2 => {}
                    // SUP-4990 (fix): 1.4.3 refreshes once (rotating the refresh token) and
                    // retries the call.
                    Release::V1_4_3 => {
                        refreshed = true;
                        self.refresh(&session).await.map_err(CallError::Failed)?;
                        continue;
                    }
                }
            }
            if status == StatusCode::TOO_MANY_REQUESTS {
                match self.release {
                    // SUP-4821 (bug): 1.4.2 ignores Retry-After, retries once straight away and
                    // gives up, so a minute-limit burst fails the export for good.
                    Release::V1_4_2 if rate_limited < 1 => {
                        rate_limited += 1;
                        log(format!("{what}: retrying immediately"));
                        continue;
                    }
                    // SUP-4821 (fix): 1.4.3 waits as long as Retry-After says (capped) and
                    // retries up to three times.
                    Release::V1_4_3 if rate_limited < MAX_RATE_LIMIT_RETRIES => {
                        rate_limited += 1;
                        let wait = retry_after(response.headers().get(RETRY_AFTER));
                        log(format!(
                            "{what}: waiting {}ms (Retry-After) before retry {rate_limited} of {MAX_RATE_LIMIT_RETRIES}",
                            wait.as_millis()
                        ));
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    _ => return Err(CallError::Failed(RATE_LIMITED.to_owned())),
                }
            }
            let body = response.bytes().await.map_err(CallError::from_transport)?;
            return Ok((status, body));
        }
    }

    /// Trades the session's refresh token for new tokens and keeps them.
    async fn refresh(&self, used: &Session) -> Result<(), String> {
        let (access, refresh) = self
            .token(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", &used.refresh),
            ])
            .await?;
        if let Some(session) = self.session.lock().await.as_mut() {
            session.access = access;
            session.refresh = refresh;
        }
        Ok(())
    }

    /// Creates a bill and returns its `InvoiceID`, or the message to show the user.
    pub async fn post_bill(&self, export_id: &str, bill: &Bill) -> Result<String, String> {
        let outcome = match self.create_bill(export_id, bill).await {
            Err(CallError::TimedOut) => match self.release {
                // SUP-4958 (bug): 1.4.2 treats a timed-out create as "not saved" and sends it
                // again at once. When Xero had saved the first one and only answered late, the
                // customer gets the same bill twice.
                Release::V1_4_2 => {
                    log(format!(
                        "export {export_id}: creating the bill timed out, retrying immediately"
                    ));
                    self.create_bill(export_id, bill).await
                }
                // SUP-4958 (fix): 1.4.3 asks whether the bill was saved (by its invoice number)
                // and sends it again, with the same Idempotency-Key, only when it was not.
                Release::V1_4_3 => {
                    log(format!(
                        "export {export_id}: creating the bill timed out, looking it up by invoice number"
                    ));
                    match self.find_bill(export_id, &bill.reference).await {
                        Ok(Some(bill_id)) => Ok(bill_id),
                        Ok(None) => self.create_bill(export_id, bill).await,
                        Err(message) => Err(CallError::Failed(message)),
                    }
                }
            },
            other => other,
        };
        outcome.map_err(CallError::into_message)
    }

    /// One `PUT /Invoices` of one bill.
    async fn create_bill(&self, export_id: &str, bill: &Bill) -> Result<String, CallError> {
        // SUP-4958 (fix): 1.4.3 sends the expense id as Idempotency-Key on every create, so a
        // repeat within Xero's idempotency window cannot create a second bill. 1.4.2 sends none.
        let key = match self.release {
            Release::V1_4_2 => None,
            Release::V1_4_3 => {
                let key = idempotency_key(&bill.reference);
                if key.is_none() {
                    log(format!(
                        "export {export_id}: reference is not usable as an Idempotency-Key (more than {MAX_IDEMPOTENCY_KEY_CHARS} characters or not header-safe), sending none"
                    ));
                }
                key
            }
        };
        let body = json!({ "Invoices": [invoice(bill)] });
        let (status, answer) = self
            .call(&format!("export {export_id}: PUT {INVOICES}"), |_| {
                let request = self
                    .http
                    .put(format!("{}{INVOICES}", self.base_url))
                    .json(&body);
                match &key {
                    Some(key) => request.header(IDEMPOTENCY_KEY, key.clone()),
                    None => request,
                }
            })
            .await?;
        if !status.is_success() {
            return Err(CallError::Failed(self.error_message(status, &answer)));
        }
        serde_json::from_slice::<Value>(&answer)
            .ok()
            .and_then(|json| {
                json.get("Invoices")?
                    .get(0)
                    .and_then(|invoice| text_at(invoice, &["InvoiceID"]))
                    .map(str::to_owned)
            })
            .ok_or_else(|| {
                CallError::Failed(format!(
                    "Xero answered {} without an InvoiceID",
                    status.as_u16()
                ))
            })
    }

    /// SUP-4958 (fix): the `InvoiceID` of the bill already saved as `reference`, if there is one.
    async fn find_bill(&self, export_id: &str, reference: &str) -> Result<Option<String>, String> {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("InvoiceNumbers", reference)
            .finish();
        let lookup_failed = |cause: String| {
            format!("creating the bill timed out and looking it up failed: {cause}")
        };
        let (status, body) = self
            .call(
                &format!("export {export_id}: GET {INVOICES}?{query}"),
                |_| {
                    self.http
                        .get(format!("{}{INVOICES}?{query}", self.base_url))
                },
            )
            .await
            .map_err(|error| lookup_failed(error.into_message()))?;
        if !status.is_success() {
            return Err(lookup_failed(self.error_message(status, &body)));
        }
        let json: Value = serde_json::from_slice(&body)
            .map_err(|error| lookup_failed(format!("unexpected answer: {error}")))?;
        let bill_id = saved_bill_id(&json, reference);
        log(format!(
            "export {export_id}: {}",
            match &bill_id {
                Some(id) => format!("already saved as {id}"),
                None => "not saved, sending it again".to_owned(),
            }
        ));
        Ok(bill_id)
    }

    /// Creates `bills` in one `PUT /Invoices?summarizeErrors=false`.
    pub async fn post_bills(
        &self,
        export_id: &str,
        bills: &[Bill],
    ) -> Result<Vec<Result<String, String>>, String> {
        let body = json!({ "Invoices": bills.iter().map(invoice).collect::<Vec<_>>() });
        let (status, answer) = self
            .call(
                &format!("export {export_id}: PUT {INVOICES}?summarizeErrors=false"),
                |_| {
                    self.http
                        .put(format!("{}{INVOICES}?summarizeErrors=false", self.base_url))
                        .json(&body)
                },
            )
            .await
            .map_err(CallError::into_message)?;
        if !status.is_success() {
            return Err(self.error_message(status, &answer));
        }
        let json: Value = serde_json::from_slice(&answer)
            .map_err(|error| format!("unexpected answer from Xero: {error}"))?;
        let elements = json
            .get("Invoices")
            .and_then(Value::as_array)
            .filter(|elements| elements.len() == bills.len())
            .ok_or("Xero's answer does not have one invoice per bill")?;
        Ok(elements
            .iter()
            .map(|element| {
                let id = text_at(element, &["InvoiceID"])
                    .unwrap_or_default()
                    .to_owned();
                match self.release {
                    // SUP-4995 (bug): 1.4.2 takes the 200 for "all saved" and never looks at the
                    // elements, so refused bills are reported as exported (with no id).
                    Release::V1_4_2 => Ok(id),
                    // SUP-4995 (fix): 1.4.3 reads each element's status and shows Xero's
                    // validation messages for the refused ones.
                    Release::V1_4_3 => {
                        match text_at(element, &["StatusAttributeString"]) {
                            Some("ERROR") => Err(element_errors(element)
                                .unwrap_or_else(|| "refused by Xero".to_owned())),
                            _ if id.is_empty() => Err("Xero returned no InvoiceID".to_owned()),
                            _ => Ok(id),
                        }
                    }
                }
            })
            .collect())
    }

    /// Not offered for Xero: this client does not update bills (`PATCH /bills/{id}` answers 502,
    /// "updating a bill is not supported for Xero"), although reenact's fake of Xero takes a new
    /// `DueDate` in `POST /api.xro/2.0/Invoices/{id}` (`docs/providers/xero.md`).
    pub async fn update_due_date(&self, _bill_id: &str, _due_date: &str) -> Result<(), String> {
        Err(unsupported("Xero", "updating a bill"))
    }

    /// Lists the names of Xero's contacts.
    pub async fn list_vendors(&self) -> Result<Vec<String>, String> {
        let mut names = Vec::new();
        let mut page = 1;
        loop {
            let contacts = self.contact_page(page).await?;
            let full = contacts.len() == PAGE_SIZE;
            names.extend(contacts);
            match self.release {
                // SUP-4907 (bug): 1.4.2 reads only page 1, so customers with more than 100
                // suppliers never see the rest.
                Release::V1_4_2 => break,
                // SUP-4907 (fix): 1.4.3 reads pages until one is not full (at most 100 pages).
                Release::V1_4_3 => {
                    if !full {
                        break;
                    }
                    if page >= MAX_VENDOR_PAGES {
                        log(format!(
                            "sync vendors: stopping after {MAX_VENDOR_PAGES} full pages"
                        ));
                        break;
                    }
                }
            }
            page += 1;
        }
        log(format!(
            "sync vendors: imported {} vendors from {page} page(s)",
            names.len()
        ));
        Ok(names)
    }

    /// The contact names of one page.
    async fn contact_page(&self, page: u32) -> Result<Vec<String>, String> {
        let (status, body) = self
            .call(&format!("sync vendors: GET {CONTACTS}?page={page}"), |_| {
                self.http
                    .get(format!("{}{CONTACTS}?page={page}", self.base_url))
            })
            .await
            .map_err(CallError::into_message)?;
        if !status.is_success() {
            return Err(format!(
                "vendor sync failed on page {page}: {}",
                self.error_message(status, &body)
            ));
        }
        let json: Value = serde_json::from_slice(&body).map_err(|error| {
            format!("vendor sync failed on page {page}: unexpected answer: {error}")
        })?;
        Ok(json
            .get("Contacts")
            .and_then(Value::as_array)
            .map(|contacts| {
                contacts
                    .iter()
                    .filter_map(|contact| text_at(contact, &["Name"]).map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Checks an `x-xero-signature` delivery (see `webhook.rs`).
    pub fn verify_webhook(
        &self,
        key: &[u8],
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Vec<Value>, Rejection> {
        let signature = headers.get(SIGNATURE_HEADER).map(HeaderValue::as_bytes);
        verify_delivery(self.release, key, signature, body)
    }

    /// The message shown to the user for an error answer of Xero.
    fn error_message(&self, status: StatusCode, body: &[u8]) -> String {
        let json = serde_json::from_slice::<Value>(body).ok();
        if status == StatusCode::UNAUTHORIZED {
            // Xero's 401: `{"Title":"Unauthorized","Detail":"TokenExpired: token expired at ..",..}`
            // for an expired token, `"Detail":"AuthenticationUnsuccessful"` for an unknown one.
            let detail = json.as_ref().and_then(|json| text_at(json, &["Detail"]));
            return format!(
                "Xero refused the credentials: {}",
                detail.unwrap_or("401 Unauthorized")
            );
        }
        match self.release {
            // SUP-4933 (bug): 1.4.2 expects `{"error":{"message":...}}`; Xero's
            // ValidationException has no such field, so users were told "unknown error" and could
            // not fix the expense.
            Release::V1_4_2 => json
                .as_ref()
                .and_then(|json| text_at(json, &["error", "message"]))
                .map_or_else(|| "unknown error".to_owned(), str::to_owned),
            // SUP-4933 (fix): 1.4.3 shows Xero's validation messages, then its top-level
            // `Message`, then the old `error.message`, and finally the status line.
            Release::V1_4_3 => json
                .as_ref()
                .and_then(|json| {
                    validation_messages(json)
                        .or_else(|| text_at(json, &["Message"]).map(str::to_owned))
                        .or_else(|| text_at(json, &["error", "message"]).map(str::to_owned))
                })
                .unwrap_or_else(|| status_line(status)),
        }
    }
}

/// A bill as a Xero `ACCPAY` invoice; the expense id is its invoice number and reference, and
/// the amount goes out as a JSON number with the decimal value written.
fn invoice(bill: &Bill) -> Value {
    let amount = serde_json::from_str::<Value>(&bill.amount).unwrap_or(Value::Null);
    let mut invoice = json!({
        "Type": "ACCPAY",
        "Contact": { "Name": bill.contact },
        "InvoiceNumber": bill.reference,
        "Reference": bill.reference,
        "CurrencyCode": bill.currency,
        "LineAmountTypes": "Inclusive",
        "LineItems": [{
            "Description": bill.reference,
            "Quantity": 1,
            "UnitAmount": amount,
            "AccountCode": bill.account_code,
        }],
    });
    if let Some(date) = &bill.date {
        invoice["Date"] = Value::from(date.as_str());
    }
    if let Some(due) = &bill.due_date {
        invoice["DueDate"] = Value::from(due.as_str());
    }
    invoice
}

/// Xero's `Elements[*].ValidationErrors[*].Message` texts joined with `; `, if there are any.
fn validation_messages(json: &Value) -> Option<String> {
    let messages: Vec<String> = json
        .get("Elements")?
        .as_array()?
        .iter()
        .filter_map(element_errors)
        .collect();
    (!messages.is_empty()).then(|| messages.join("; "))
}

/// One element's `ValidationErrors[*].Message` joined with `; `, if it has any.
fn element_errors(element: &Value) -> Option<String> {
    let messages: Vec<&str> = element
        .get("ValidationErrors")?
        .as_array()?
        .iter()
        .filter_map(|error| error.get("Message")?.as_str())
        .collect();
    (!messages.is_empty()).then(|| messages.join("; "))
}

/// The `InvoiceID` of the first listed invoice whose number is exactly `reference`; the filter is
/// not trusted blindly.
fn saved_bill_id(list: &Value, reference: &str) -> Option<String> {
    list.get("Invoices")?
        .as_array()?
        .iter()
        .find(|invoice| text_at(invoice, &["InvoiceNumber"]) == Some(reference))
        .and_then(|invoice| text_at(invoice, &["InvoiceID"]))
        .map(str::to_owned)
}

/// The expense id as an `Idempotency-Key`, unless it is too long or not a valid header value.
fn idempotency_key(reference: &str) -> Option<HeaderValue> {
    if reference.chars().count() > MAX_IDEMPOTENCY_KEY_CHARS {
        return None;
    }
    HeaderValue::from_str(reference).ok()
}

#[cfg(test)]
mod tests {
    //! Table tests for the SUP-4933 and SUP-4958 helpers; the incidents end to end are the
    //! scenarios under `scenarios/`, run against reenact's Xero fake.

    use std::time::Duration;

    use super::*;

    fn client(release: Release) -> XeroClient {
        XeroClient::from_env(Settings {
            base_url: "http://127.0.0.1:9".to_owned(),
            timeout: Duration::from_secs(1),
            release,
        })
        .expect("a client")
    }

    const VALIDATION_EXCEPTION: &str = r#"{"ErrorNumber":10,"Type":"ValidationException","Message":"A validation exception occurred","Elements":[{"ValidationErrors":[{"Message":"Organisation is not subscribed to currency EUR"}]}]}"#;

    #[test]
    fn sup_4933_validation_exception_is_unknown_on_1_4_2_and_explained_on_1_4_3() {
        let body = VALIDATION_EXCEPTION.as_bytes();
        let cases = [
            (Release::V1_4_2, "unknown error"),
            (
                Release::V1_4_3,
                "Organisation is not subscribed to currency EUR",
            ),
        ];
        for (release, expected) in cases {
            let message = client(release).error_message(StatusCode::BAD_REQUEST, body);
            assert_eq!(message, expected, "release {release}");
        }
    }

    #[test]
    fn error_message_falls_back_in_order_on_1_4_3() {
        let cases: [(&str, &str); 5] = [
            (
                r#"{"Elements":[{"ValidationErrors":[{"Message":"a"},{"Message":"b"}]},{"ValidationErrors":[{"Message":"c"}]}]}"#,
                "a; b; c",
            ),
            (
                r#"{"Message":"A validation exception occurred","Elements":[]}"#,
                "A validation exception occurred",
            ),
            (
                r#"{"error":{"message":"duplicate reference"}}"#,
                "duplicate reference",
            ),
            ("<html>bad gateway</html>", "400 Bad Request"),
            ("", "400 Bad Request"),
        ];
        for (body, expected) in cases {
            let message =
                client(Release::V1_4_3).error_message(StatusCode::BAD_REQUEST, body.as_bytes());
            assert_eq!(message, expected, "body {body}");
        }
    }

    #[test]
    fn a_401_names_xeros_detail_on_both_releases() {
        let body = br#"{"Type":null,"Title":"Unauthorized","Status":401,"Detail":"AuthenticationUnsuccessful"}"#;
        for release in Release::ALL {
            assert_eq!(
                client(release).error_message(StatusCode::UNAUTHORIZED, body),
                "Xero refused the credentials: AuthenticationUnsuccessful"
            );
        }
    }

    #[test]
    fn saved_bill_is_found_by_its_exact_invoice_number() {
        let cases = [
            (r#"{"Invoices":[]}"#, None),
            (
                r#"{"Invoices":[{"InvoiceID":"b-1","InvoiceNumber":"EXP-1"}]}"#,
                Some("b-1"),
            ),
            (
                r#"{"Invoices":[{"InvoiceID":"b-2","InvoiceNumber":"EXP-10"}]}"#,
                None,
            ),
            (
                r#"{"Invoices":[{"InvoiceID":"b-2","InvoiceNumber":"exp-1"},{"InvoiceID":"b-3","InvoiceNumber":"EXP-1"}]}"#,
                Some("b-3"),
            ),
        ];
        for (json, expected) in cases {
            let list: Value = serde_json::from_str(json).expect("JSON");
            assert_eq!(saved_bill_id(&list, "EXP-1").as_deref(), expected, "{json}");
        }
    }

    #[test]
    fn idempotency_key_is_the_reference_when_xero_would_take_it() {
        let longest = "k".repeat(MAX_IDEMPOTENCY_KEY_CHARS);
        let too_long = "k".repeat(MAX_IDEMPOTENCY_KEY_CHARS + 1);
        let cases = [
            ("EXP-20260311-0042", true),
            (longest.as_str(), true),
            (too_long.as_str(), false),
            ("EXP\n1", false),
        ];
        for (reference, usable) in cases {
            assert_eq!(
                idempotency_key(reference).is_some(),
                usable,
                "reference {reference:?}"
            );
        }
    }

    #[test]
    fn a_bill_becomes_an_accpay_invoice_with_its_amount_digits() {
        let bill = Bill {
            reference: "EXP-1".to_owned(),
            contact: "Premier Inn".to_owned(),
            amount: "189.10".to_owned(),
            currency: "GBP".to_owned(),
            account_code: "493".to_owned(),
            date: Some("2026-11-01".to_owned()),
            due_date: None,
        };
        let invoice = invoice(&bill);
        assert_eq!(invoice["Type"], "ACCPAY");
        assert_eq!(invoice["InvoiceNumber"], "EXP-1");
        assert_eq!(invoice["Date"], "2026-11-01");
        assert!(invoice.get("DueDate").is_none());
        // The same decimal value; JSON has no trailing zeros to keep.
        assert_eq!(invoice["LineItems"][0]["UnitAmount"].to_string(), "189.1");
    }
}
