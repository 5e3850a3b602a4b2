//! The ledger-sync demo's client for the accounting API (a Xero-like system).
//!
//! [`AccountingClient`] exchanges OAuth codes for tokens, posts bills and pages through vendors.
//! This is where four incidents of release 1.4.2 live, each beside its 1.4.3 fix and selected
//! only by [`Release`] (the fifth, SUP-4972, is in `webhook.rs`):
//!
//! - SUP-4821: on `429 Too Many Requests` 1.4.2 retries once at once and gives up; 1.4.3 honours
//!   `Retry-After` (capped at 10s, 1s when absent) for up to three retries.
//! - SUP-4907: 1.4.2 imports only the first page of vendors; 1.4.3 follows `has_more`.
//! - SUP-4933: 1.4.2 looks for `error.message` in a 400 body and shows "unknown error" for Xero's
//!   `ValidationException`; 1.4.3 shows the validation messages.
//! - SUP-4958: when a bill POST times out, 1.4.2 posts it again at once (a duplicate when the first
//!   was saved); 1.4.3 sends an `Idempotency-Key` and, after a timeout, looks the bill up by its
//!   reference before posting again.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderName, HeaderValue, RETRY_AFTER};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::log;
use crate::release::Release;

/// The message users see when the accounting system does not answer within `HTTP_TIMEOUT_MS`.
const TIMED_OUT: &str = "accounting system did not answer in time";
/// The message users see when the accounting system keeps rate limiting an export.
const RATE_LIMITED: &str = "rate limited by accounting system";
/// The longest `Retry-After` 1.4.3 waits for; longer hints are cut to this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(10);
/// The wait 1.4.3 uses when a 429 carries no usable `Retry-After`.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(1);
/// How many times 1.4.3 retries a rate-limited bill.
const MAX_RATE_LIMIT_RETRIES: u32 = 3;
/// The most vendor pages 1.4.3 reads in one sync, so a looping API cannot hang it.
const MAX_VENDOR_PAGES: u32 = 100;
/// The header 1.4.3 sends the expense id in, so a repeated bill POST is not saved twice.
const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// Xero's limit on an `Idempotency-Key` ("128 character max").
const MAX_IDEMPOTENCY_KEY_CHARS: usize = 128;

/// A bill as the accounting API expects it; `amount` stays a decimal string, never a float.
#[derive(Debug, Serialize)]
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
}

/// Why one attempt to create a bill gave no bill id.
#[derive(Debug)]
enum CreateError {
    /// The request went out but no answer came in time: the bill may or may not have been saved.
    TimedOut,
    /// Any other failure, as the message to show the user.
    Failed(String),
}

impl CreateError {
    /// Sorts a transport error: a timeout leaves the outcome unknown, anything else failed.
    fn from_transport(error: reqwest::Error) -> CreateError {
        if error.is_timeout() {
            CreateError::TimedOut
        } else {
            CreateError::Failed(unreachable_message(error))
        }
    }

    /// The message shown to the user.
    fn into_message(self) -> String {
        match self {
            CreateError::TimedOut => TIMED_OUT.to_owned(),
            CreateError::Failed(message) => message,
        }
    }
}

/// The answer of `GET /api/bills?reference=...`.
#[derive(Debug, Deserialize)]
struct BillList {
    bills: Vec<SavedBill>,
}

/// A bill the accounting system already holds.
#[derive(Debug, Deserialize)]
struct SavedBill {
    id: String,
    reference: String,
}

/// One page of `GET /api/vendors`.
#[derive(Debug, Deserialize)]
struct VendorPage {
    vendors: Vec<Vendor>,
    #[serde(default)]
    has_more: bool,
}

/// A vendor as listed by the accounting API; only the name is imported.
#[derive(Debug, Deserialize)]
struct Vendor {
    name: String,
}

/// Talks to the accounting API on behalf of one ledger-sync process.
#[derive(Clone, Debug)]
pub struct AccountingClient {
    base_url: String,
    http: reqwest::Client,
    release: Release,
}

impl AccountingClient {
    /// A client for the API at `base_url` whose requests time out after `timeout`.
    pub fn new(
        base_url: &str,
        timeout: Duration,
        release: Release,
    ) -> Result<AccountingClient, String> {
        install_tls_provider();
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|error| format!("failed to build the HTTP client: {error}"))?;
        Ok(AccountingClient {
            base_url: base_url.trim_end_matches('/').to_owned(),
            http,
            release,
        })
    }

    /// Exchanges an OAuth authorization code for an access token.
    pub async fn exchange_code(&self, code: &str) -> Result<String, String> {
        let form = form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "authorization_code")
            .append_pair("code", code)
            .finish();
        let response = self
            .http
            .post(format!("{}/oauth/token", self.base_url))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .map_err(unreachable_message)?;
        let status = response.status();
        log(format!("connect: POST /oauth/token -> {}", status.as_u16()));
        let body = response.bytes().await.map_err(unreachable_message)?;
        if !status.is_success() {
            let reason = serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|json| text_at(&json, &["error"]).map(str::to_owned))
                .unwrap_or_else(|| status_line(status));
            return Err(format!("token exchange failed: {reason}"));
        }
        serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|json| text_at(&json, &["access_token"]).map(str::to_owned))
            .ok_or_else(|| "token exchange failed: the answer has no `access_token`".to_owned())
    }

    /// Posts a bill and returns the accounting system's bill id, or the message to show the user.
    pub async fn post_bill(
        &self,
        export_id: &str,
        token: Option<&str>,
        bill: &Bill,
    ) -> Result<String, String> {
        let outcome = match self.create_bill(export_id, token, bill).await {
            Err(CreateError::TimedOut) => match self.release {
                // SUP-4958 (bug): 1.4.2 treats a timed-out POST as "not saved" and posts again at
                // once. When the accounting system had saved the first one and only answered
                // late, the customer gets the same bill twice.
                Release::V1_4_2 => {
                    log(format!(
                        "export {export_id}: POST /api/bills timed out, retrying immediately"
                    ));
                    self.create_bill(export_id, token, bill).await
                }
                // SUP-4958 (fix): 1.4.3 asks whether the bill was saved (by its reference) and
                // posts again, with the same Idempotency-Key, only when it was not.
                Release::V1_4_3 => {
                    log(format!(
                        "export {export_id}: POST /api/bills timed out, looking the bill up by reference"
                    ));
                    match self.find_bill(export_id, token, &bill.reference).await {
                        Ok(Some(bill_id)) => Ok(bill_id),
                        Ok(None) => self.create_bill(export_id, token, bill).await,
                        Err(message) => Err(CreateError::Failed(message)),
                    }
                }
            },
            other => other,
        };
        outcome.map_err(CreateError::into_message)
    }

    /// One attempt to create a bill, with the release's handling of `429`.
    async fn create_bill(
        &self,
        export_id: &str,
        token: Option<&str>,
        bill: &Bill,
    ) -> Result<String, CreateError> {
        let mut retries = 0;
        loop {
            let mut request = self.authorized(
                self.http.post(format!("{}/api/bills", self.base_url)),
                token,
            );
            // SUP-4958 (fix): 1.4.3 sends the expense id as Idempotency-Key on every bill POST,
            // so a repeat within the accounting system's idempotency window cannot create a
            // second bill. 1.4.2 sends none.
            if self.release == Release::V1_4_3 {
                match idempotency_key(&bill.reference) {
                    Some(key) => request = request.header(IDEMPOTENCY_KEY, key),
                    None => log(format!(
                        "export {export_id}: reference is not usable as an Idempotency-Key (more than {MAX_IDEMPOTENCY_KEY_CHARS} characters or not header-safe), sending none"
                    )),
                }
            }
            let response = request
                .json(bill)
                .send()
                .await
                .map_err(CreateError::from_transport)?;
            let status = response.status();
            log(format!(
                "export {export_id}: POST /api/bills -> {}",
                status.as_u16()
            ));
            if status == StatusCode::TOO_MANY_REQUESTS {
                match self.release {
                    // SUP-4821 (bug): 1.4.2 ignores Retry-After, retries once straight away and
                    // gives up, so a minute-limit burst fails the export for good.
                    Release::V1_4_2 => {
                        if retries < 1 {
                            retries += 1;
                            log(format!("export {export_id}: retrying immediately"));
                            continue;
                        }
                    }
                    // SUP-4821 (fix): 1.4.3 waits as long as Retry-After says (capped) and
                    // retries up to three times.
                    Release::V1_4_3 => {
                        if retries < MAX_RATE_LIMIT_RETRIES {
                            retries += 1;
                            let wait = retry_after(response.headers().get(RETRY_AFTER));
                            log(format!(
                                "export {export_id}: waiting {}ms (Retry-After) before retry {retries} of {MAX_RATE_LIMIT_RETRIES}",
                                wait.as_millis()
                            ));
                            tokio::time::sleep(wait).await;
                            continue;
                        }
                    }
                }
                return Err(CreateError::Failed(RATE_LIMITED.to_owned()));
            }
            let body = response
                .bytes()
                .await
                .map_err(CreateError::from_transport)?;
            if status.is_success() {
                return serde_json::from_slice::<Value>(&body)
                    .ok()
                    .and_then(|json| text_at(&json, &["id"]).map(str::to_owned))
                    .ok_or_else(|| {
                        CreateError::Failed(format!(
                            "accounting system answered {} without a bill id",
                            status.as_u16()
                        ))
                    });
            }
            return Err(CreateError::Failed(self.error_message(status, &body)));
        }
    }

    /// SUP-4958 (fix): the id of the bill already saved for `reference`, if there is one.
    async fn find_bill(
        &self,
        export_id: &str,
        token: Option<&str>,
        reference: &str,
    ) -> Result<Option<String>, String> {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("reference", reference)
            .finish();
        let lookup_failed = |cause: String| {
            format!("the bill request timed out and looking the bill up failed: {cause}")
        };
        let response = self
            .authorized(
                self.http
                    .get(format!("{}/api/bills?{query}", self.base_url)),
                token,
            )
            .send()
            .await
            .map_err(|error| lookup_failed(unreachable_message(error)))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|error| lookup_failed(unreachable_message(error)))?;
        if !status.is_success() {
            log(format!(
                "export {export_id}: GET /api/bills?{query} -> {}",
                status.as_u16()
            ));
            return Err(lookup_failed(self.error_message(status, &body)));
        }
        let found: BillList = serde_json::from_slice(&body)
            .map_err(|error| lookup_failed(format!("unexpected answer: {error}")))?;
        let bill_id = saved_bill_id(found, reference);
        log(format!(
            "export {export_id}: GET /api/bills?{query} -> {} ({})",
            status.as_u16(),
            match &bill_id {
                Some(id) => format!("already saved as {id}"),
                None => "not saved, posting again".to_owned(),
            }
        ));
        Ok(bill_id)
    }

    /// Lists the names of the accounting system's vendors.
    pub async fn list_vendors(&self, token: Option<&str>) -> Result<Vec<String>, String> {
        let mut names = Vec::new();
        let mut page = 1;
        loop {
            let vendors = self.vendor_page(page, token).await?;
            names.extend(vendors.vendors.into_iter().map(|vendor| vendor.name));
            match self.release {
                // SUP-4907 (bug): 1.4.2 never looks at `has_more`, so customers with more vendors
                // than fit on one page only ever see the first page.
                Release::V1_4_2 => break,
                // SUP-4907 (fix): 1.4.3 follows `has_more` until the last page (at most 100).
                Release::V1_4_3 => {
                    if !vendors.has_more {
                        break;
                    }
                    if page >= MAX_VENDOR_PAGES {
                        log(format!(
                            "sync vendors: stopping after {MAX_VENDOR_PAGES} pages although has_more is true"
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

    /// Fetches one page of vendors.
    async fn vendor_page(&self, page: u32, token: Option<&str>) -> Result<VendorPage, String> {
        let response = self
            .authorized(
                self.http
                    .get(format!("{}/api/vendors?page={page}", self.base_url)),
                token,
            )
            .send()
            .await
            .map_err(unreachable_message)?;
        let status = response.status();
        let body = response.bytes().await.map_err(unreachable_message)?;
        if !status.is_success() {
            log(format!(
                "sync vendors: GET /api/vendors?page={page} -> {}",
                status.as_u16()
            ));
            return Err(format!(
                "vendor sync failed on page {page}: {}",
                self.error_message(status, &body)
            ));
        }
        let vendors: VendorPage = serde_json::from_slice(&body).map_err(|error| {
            format!("vendor sync failed on page {page}: unexpected answer: {error}")
        })?;
        log(format!(
            "sync vendors: GET /api/vendors?page={page} -> {} ({} vendors, has_more={})",
            status.as_u16(),
            vendors.vendors.len(),
            vendors.has_more
        ));
        Ok(vendors)
    }

    /// Adds the bearer token, when connected.
    fn authorized(
        &self,
        request: reqwest::RequestBuilder,
        token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        match token.and_then(|token| HeaderValue::from_str(&format!("Bearer {token}")).ok()) {
            Some(value) => request.header(AUTHORIZATION, value),
            None => request,
        }
    }

    /// The message shown to the user for an error answer of the accounting API.
    fn error_message(&self, status: StatusCode, body: &[u8]) -> String {
        let json = serde_json::from_slice::<Value>(body).ok();
        match self.release {
            // SUP-4933 (bug): 1.4.2 expects `{"error":{"message":...}}`; Xero's ValidationException
            // has no such field, so users were told "unknown error" and could not fix the expense.
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

/// Xero's `Elements[*].ValidationErrors[*].Message` texts joined with `; `, if there are any.
fn validation_messages(json: &Value) -> Option<String> {
    let messages: Vec<&str> = json
        .get("Elements")?
        .as_array()?
        .iter()
        .filter_map(|element| element.get("ValidationErrors")?.as_array())
        .flatten()
        .filter_map(|error| error.get("Message")?.as_str())
        .collect();
    (!messages.is_empty()).then(|| messages.join("; "))
}

/// The id of the first listed bill whose reference is `reference`; the filter is not trusted blindly.
fn saved_bill_id(list: BillList, reference: &str) -> Option<String> {
    list.bills
        .into_iter()
        .find(|bill| bill.reference == reference)
        .map(|bill| bill.id)
}

/// The expense id as an `Idempotency-Key`, unless it is too long or not a valid header value.
fn idempotency_key(reference: &str) -> Option<HeaderValue> {
    if reference.chars().count() > MAX_IDEMPOTENCY_KEY_CHARS {
        return None;
    }
    HeaderValue::from_str(reference).ok()
}

/// The string at a path of object keys, if there is one.
fn text_at<'a>(json: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter()
        .try_fold(json, |value, key| value.get(key))?
        .as_str()
}

/// How long to wait for a `Retry-After` header: whole seconds, capped, 1s when absent or unusable.
fn retry_after(header: Option<&HeaderValue>) -> Duration {
    header
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.trim().parse::<u64>().ok())
        .map_or(DEFAULT_RETRY_AFTER, |seconds| {
            Duration::from_secs(seconds).min(MAX_RETRY_AFTER)
        })
}

/// `400 Bad Request`, the last resort for an error body that says nothing useful.
fn status_line(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("{} {reason}", status.as_u16()),
        None => status.as_u16().to_string(),
    }
}

/// The message for a request that never got an answer (refused, reset, timed out).
fn unreachable_message(error: reqwest::Error) -> String {
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
    //! Table tests for the SUP-4821 and SUP-4933 helpers (error messages per release,
    //! Retry-After) and for SUP-4958 against a fake accounting API that saves a bill but answers
    //! after the client gave up.

    use std::sync::{Arc, Mutex};

    use bytes::Bytes;
    use http_body_util::Full;
    use hyper::server::conn::http1;
    use hyper::service::service_fn;
    use hyper_util::rt::TokioIo;
    use tokio::net::TcpListener;

    use super::*;

    fn client(release: Release) -> AccountingClient {
        AccountingClient {
            base_url: "http://127.0.0.1:9".to_owned(),
            http: {
                install_tls_provider();
                reqwest::Client::new()
            },
            release,
        }
    }

    const XERO_VALIDATION_EXCEPTION: &str = r#"{"ErrorNumber":10,"Type":"ValidationException","Message":"A validation exception occurred","Elements":[{"ValidationErrors":[{"Message":"Account code '999' is not a valid code for this document."}]}]}"#;

    #[test]
    fn sup_4933_validation_exception_is_unknown_on_1_4_2_and_explained_on_1_4_3() {
        let body = XERO_VALIDATION_EXCEPTION.as_bytes();
        let cases = [
            (Release::V1_4_2, "unknown error"),
            (
                Release::V1_4_3,
                "Account code '999' is not a valid code for this document.",
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

    /// What the fake accounting API saw: method, path with query, `Idempotency-Key`.
    type Seen = Arc<Mutex<Vec<(String, String, Option<String>)>>>;

    /// A fake accounting API: every bill POST is saved as `bill-N`, but the first is answered
    /// only after `delay` (commit, then time out); `GET /api/bills` answers `listed`.
    async fn commit_then_delay_api(delay: Duration, listed: &'static str) -> (String, Seen) {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let url = format!(
            "http://{}",
            listener.local_addr().expect("the bound address")
        );
        let seen: Seen = Arc::default();
        let state = Arc::clone(&seen);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = Arc::clone(&state);
                let service = service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                    let state = Arc::clone(&state);
                    async move {
                        let key = request
                            .headers()
                            .get(IDEMPOTENCY_KEY)
                            .and_then(|value| value.to_str().ok())
                            .map(str::to_owned);
                        let target = request
                            .uri()
                            .path_and_query()
                            .map_or_else(String::new, ToString::to_string);
                        let is_post = request.method() == hyper::Method::POST;
                        let posts = {
                            let mut seen = state.lock().expect("the journal lock");
                            seen.push((request.method().to_string(), target, key));
                            seen.iter().filter(|(method, ..)| method == "POST").count()
                        };
                        let body = if is_post {
                            if posts == 1 {
                                tokio::time::sleep(delay).await;
                            }
                            format!(r#"{{"id":"bill-{posts}"}}"#)
                        } else {
                            listed.to_owned()
                        };
                        Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(
                            Bytes::from(body),
                        )))
                    }
                });
                tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(stream), service));
            }
        });
        (url, seen)
    }

    #[tokio::test]
    async fn sup_4958_timed_out_bill_is_posted_twice_on_1_4_2_and_looked_up_on_1_4_3() {
        const SAVED: &str = r#"{"bills":[{"id":"bill-9","reference":"EXP-OTHER"},{"id":"bill-1","reference":"EXP-1"}]}"#;
        const NOT_SAVED: &str = r#"{"bills":[]}"#;
        let post = |key: Option<&'static str>| ("POST", "/api/bills", key);
        let lookup = ("GET", "/api/bills?reference=EXP-1", None);
        let cases = [
            // The duplicate: the first POST was saved as bill-1, the retry saves bill-2.
            (
                Release::V1_4_2,
                SAVED,
                "bill-2",
                vec![post(None), post(None)],
            ),
            (
                Release::V1_4_3,
                SAVED,
                "bill-1",
                vec![post(Some("EXP-1")), lookup],
            ),
            (
                Release::V1_4_3,
                NOT_SAVED,
                "bill-2",
                vec![post(Some("EXP-1")), lookup, post(Some("EXP-1"))],
            ),
        ];
        let bill = Bill {
            reference: "EXP-1".to_owned(),
            contact: "Premier Inn".to_owned(),
            amount: "189.00".to_owned(),
            currency: "GBP".to_owned(),
            account_code: "493".to_owned(),
        };
        for (release, listed, expected_id, expected_requests) in cases {
            let (url, seen) = commit_then_delay_api(Duration::from_secs(3), listed).await;
            let client = AccountingClient::new(&url, Duration::from_millis(300), release)
                .expect("an HTTP client");
            let outcome = client.post_bill("exp-1", None, &bill).await;
            assert_eq!(outcome, Ok(expected_id.to_owned()), "release {release}");
            let requests = seen.lock().expect("the journal lock").clone();
            let requests: Vec<(&str, &str, Option<&str>)> = requests
                .iter()
                .map(|(method, target, key)| (method.as_str(), target.as_str(), key.as_deref()))
                .collect();
            assert_eq!(requests, expected_requests, "release {release}");
        }
    }

    #[test]
    fn saved_bill_is_found_by_its_exact_reference() {
        let list = |json: &str| serde_json::from_str::<BillList>(json).expect("a bill list");
        let cases = [
            (r#"{"bills":[]}"#, None),
            (
                r#"{"bills":[{"id":"b-1","reference":"EXP-1"}]}"#,
                Some("b-1"),
            ),
            (r#"{"bills":[{"id":"b-2","reference":"EXP-10"}]}"#, None),
            (
                r#"{"bills":[{"id":"b-2","reference":"exp-1"},{"id":"b-3","reference":"EXP-1"}]}"#,
                Some("b-3"),
            ),
        ];
        for (json, expected) in cases {
            assert_eq!(
                saved_bill_id(list(json), "EXP-1").as_deref(),
                expected,
                "{json}"
            );
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
}
