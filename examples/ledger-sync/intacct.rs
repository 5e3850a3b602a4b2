//! The ledger-sync demo's Sage Intacct client: the XML Web Services gateway
//! (`POST /ia/xml/xmlgw.phtml`), a session from `getAPISession`, bills as `APBILL`, journal
//! entries as `GLBATCH` and vendors as `VENDOR` records.
//!
//! [`IntacctClient`] keeps the credentials (`INTACCT_*`) and the API session of one process. A
//! vendor's `VENDORID` is its name in upper case with every run of other characters turned into
//! one `-` ("Office Supplies Ltd" is `OFFICE-SUPPLIES-LTD`): the vendors must exist in Intacct.
//! These incidents of release 1.4.2 live here, each beside its 1.4.3 fix and selected only by
//! [`Release`]:
//!
//! - SUP-5040: a batch export sends one `create APBILL` function per bill in one request, without
//!   `transaction="true"`. Intacct runs each function on its own, so one can fail while the others
//!   are saved and the control status still says `success`. 1.4.2 reads only the control status
//!   and takes the `RECORDNO`s in document order, so the export shows every bill as posted (and a
//!   wrong bill id beside the one after the failure); 1.4.3 reads each function's result by its
//!   `controlid` and reports the failed bill with Intacct's error.
//! - SUP-5047: when the gateway answers `524` (the CDN cut the connection while Intacct kept
//!   processing), 1.4.2 sends the create (a month-end accrual journal, or a bill: both go through
//!   [`IntacctClient::create_once`]) again as a new request and Intacct posts it twice; 1.4.3
//!   sends writes with `uniqueid=true` under a control id made from the caller's reference, and
//!   after a 524 looks the record up by that reference (a journal's `REFERENCENO`, a bill's
//!   `RECORDID`) before sending anything again.
//! - SUP-5052: at month end the gateway answers `429` with `GW-0010`; 1.4.2 fails the export at
//!   once, 1.4.3 backs off (`Retry-After` when given, else 1s) and retries up to three times.

use std::sync::atomic::{AtomicU64, Ordering};

use hyper::HeaderMap;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use serde_json::Value;
use tokio::sync::Mutex;

use crate::connector::{
    Bill, Journal, Settings, Side, http_client, retry_after, status_line, unreachable_message,
    unsupported,
};
use crate::log;
use crate::release::Release;
use crate::webhook::Rejection;

/// The gateway's path on the API host.
const GATEWAY_PATH: &str = "/ia/xml/xmlgw.phtml";
/// The content type the Intacct SDKs send.
const XML_REQUEST: &str = "x-intacct-xml-request";
/// "CDN cut connection but system still processing request": the SDKs never retry it.
const GATEWAY_TIMEOUT_524: u16 = 524;
/// How many times 1.4.3 retries a call the gateway rate limited (SUP-5052).
const MAX_RATE_LIMIT_RETRIES: u32 = 3;
/// The journal ledger-sync posts its entries to: the general journal (ledger-sync's choice).
const JOURNAL_SYMBOL: &str = "GJ";
/// Vendors per `readByQuery` page.
const PAGE_SIZE: usize = 100;
/// The most vendor pages one sync reads, so a looping API cannot hang it.
const MAX_VENDOR_PAGES: usize = 100;

/// Why one request gave no usable answer.
#[derive(Debug)]
enum CallError {
    /// The gateway answered with this status instead of an XML response.
    Gateway(StatusCode),
    /// Anything else, as the message to show the user.
    Failed(String),
}

impl CallError {
    fn into_message(self) -> String {
        match self {
            CallError::Gateway(status) => format!("Intacct gateway error: {}", status_line(status)),
            CallError::Failed(message) => message,
        }
    }
}

/// What the client signs in with: the Web Services sender and the company user.
#[derive(Clone, Debug)]
struct Credentials {
    sender_id: String,
    sender_password: String,
    company_id: String,
    user_id: String,
    user_password: String,
}

/// An API session from `getAPISession`: its id and the endpoint to send it to.
#[derive(Clone, Debug)]
struct ApiSession {
    id: String,
    endpoint: String,
}

/// Talks to Sage Intacct on behalf of one ledger-sync process.
pub struct IntacctClient {
    base_url: String,
    http: reqwest::Client,
    release: Release,
    credentials: Credentials,
    session: Mutex<Option<ApiSession>>,
    /// Numbers the requests' control ids.
    requests: AtomicU64,
}

/// An object ledger-sync creates, and how to find one again by the caller's reference
/// (SUP-5047).
#[derive(Debug, PartialEq, Eq)]
struct Kind {
    /// What the log and the `uniqueid` control id call it.
    noun: &'static str,
    /// The Intacct object.
    object: &'static str,
    /// The element a record of it is listed as in `<data>`.
    list: &'static str,
    /// The field that holds the caller's reference.
    reference_field: &'static str,
}

/// A bill, found by its `RECORDID` (the expense id).
const BILL: Kind = Kind {
    noun: "bill",
    object: "APBILL",
    list: "apbill",
    reference_field: "RECORDID",
};

/// A journal entry, found by its `REFERENCENO` (the caller's journal id).
const JOURNAL: Kind = Kind {
    noun: "journal",
    object: "GLBATCH",
    list: "glbatch",
    reference_field: "REFERENCENO",
};

/// One `<result>` of an answer.
#[derive(Clone, Debug, PartialEq, Eq)]
struct FunctionResult {
    controlid: String,
    /// `Ok(RECORDNO)` (empty when the data has none) or the error to show.
    outcome: Result<String, String>,
}

/// An answer whose control and authentication layers succeeded.
#[derive(Debug)]
struct Answer {
    /// The document, for reading function data.
    xml: String,
    results: Vec<FunctionResult>,
}

impl IntacctClient {
    /// A client for the gateway at `settings.base_url`, signing in with `INTACCT_SENDER_ID`,
    /// `INTACCT_SENDER_PASSWORD`, `INTACCT_COMPANY_ID`, `INTACCT_USER_ID` and
    /// `INTACCT_USER_PASSWORD`.
    pub fn from_env(settings: Settings) -> Result<IntacctClient, String> {
        let var = |name: &str| {
            std::env::var(name)
                .ok()
                .filter(|value| !value.trim().is_empty())
                .ok_or(format!("{name} is not set (needed for Intacct)"))
        };
        Ok(IntacctClient {
            http: http_client(settings.timeout)?,
            base_url: settings.base_url,
            release: settings.release,
            credentials: Credentials {
                sender_id: var("INTACCT_SENDER_ID")?,
                sender_password: var("INTACCT_SENDER_PASSWORD")?,
                company_id: var("INTACCT_COMPANY_ID")?,
                user_id: var("INTACCT_USER_ID")?,
                user_password: var("INTACCT_USER_PASSWORD")?,
            },
            session: Mutex::new(None),
            requests: AtomicU64::new(0),
        })
    }

    /// Opens an API session (`getAPISession`) and keeps its id and endpoint; Intacct has no
    /// OAuth, so `code` is ignored.
    pub async fn connect(&self, _code: Option<&str>) -> Result<(), String> {
        *self.session.lock().await = None;
        let answer = self
            .call(
                "getAPISession",
                false,
                "<function controlid=\"session\"><getAPISession/></function>",
            )
            .await?;
        // The parsed document is not `Send`: read it before the next `.await`.
        let (id, endpoint) = {
            let document = parse(&answer.xml)?;
            let data = "/response/operation/result[1]/data/api";
            (
                text(&document, &format!("{data}/sessionid")),
                text(&document, &format!("{data}/endpoint")),
            )
        };
        if let Some(FunctionResult {
            outcome: Err(message),
            ..
        }) = answer.results.first()
        {
            return Err(format!("opening an Intacct session failed: {message}"));
        }
        if id.is_empty() || endpoint.is_empty() {
            return Err("Intacct answered getAPISession without a session".to_owned());
        }
        *self.session.lock().await = Some(ApiSession { id, endpoint });
        Ok(())
    }

    /// Creates a bill; its `RECORDNO`, or the message to show the user.
    pub async fn post_bill(&self, export_id: &str, bill: &Bill) -> Result<String, String> {
        let function = create_bill(export_id, bill);
        let what = format!("export {export_id}: create APBILL");
        self.create_once(&what, &function, &BILL, &bill.reference)
            .await
    }

    /// Posts a journal entry (`GLBATCH` in the general journal, the caller's id as
    /// `REFERENCENO`); its `RECORDNO`, or the message to show the user.
    pub async fn post_journal(&self, export_id: &str, journal: &Journal) -> Result<String, String> {
        let function = create_journal(export_id, journal);
        let what = format!("export {export_id}: create GLBATCH");
        self.create_once(&what, &function, &JOURNAL, &journal.reference)
            .await
    }

    /// Sends the one-record create `function` for a `kind` record the caller knows as
    /// `reference`; the new `RECORDNO`, or the message to show. After a gateway error the
    /// release decides what happens (SUP-5047).
    async fn create_once(
        &self,
        what: &str,
        function: &str,
        kind: &Kind,
        reference: &str,
    ) -> Result<String, String> {
        let unique = unique_control(self.release, kind, reference);
        let resend = || self.send(what, false, function, unique.as_deref());
        let answer = match resend().await {
            Err(CallError::Gateway(status)) => match after_gateway_error(self.release, status) {
                AfterGatewayError::SendAgain => {
                    log(format!(
                        "{what}: {} - sending it again",
                        status_line(status)
                    ));
                    resend().await.map_err(CallError::into_message)?
                }
                AfterGatewayError::LookUp => {
                    log(format!(
                        "{what}: {} - looking the {} up",
                        status_line(status),
                        kind.noun
                    ));
                    if let Some(record) = self.find_record(kind, reference).await? {
                        return Ok(record);
                    }
                    resend().await.map_err(CallError::into_message)?
                }
                AfterGatewayError::GiveUp => return Err(CallError::Gateway(status).into_message()),
            },
            other => other.map_err(CallError::into_message)?,
        };
        match answer.results.into_iter().next() {
            Some(result) => result.outcome,
            None => Err("Intacct answered without a result".to_owned()),
        }
    }

    /// Creates several bills in one request, one function each (controlid
    /// `{export_id}-{n}`); per bill, its `RECORDNO` or the message to show.
    pub async fn post_bills(
        &self,
        export_id: &str,
        bills: &[Bill],
    ) -> Result<Vec<Result<String, String>>, String> {
        let ids: Vec<String> = (1..=bills.len())
            .map(|n| format!("{export_id}-{n}"))
            .collect();
        let functions: String = bills
            .iter()
            .zip(&ids)
            .map(|(bill, id)| create_bill(id, bill))
            .collect();
        let what = format!("export {export_id}: create {} APBILLs", bills.len());
        let answer = self.call(&what, false, &functions).await?;
        Ok(bill_outcomes(self.release, &answer.results, &ids))
    }

    /// Moves the due date of the bill whose `RECORDNO` is `bill_id`.
    pub async fn update_due_date(&self, bill_id: &str, due_date: &str) -> Result<(), String> {
        let function = format!(
            "<function controlid=\"due-date\"><update><APBILL><RECORDNO>{}</RECORDNO><WHENDUE>{}</WHENDUE></APBILL></update></function>",
            escape(bill_id),
            escape(&us_date(due_date))
        );
        let answer = self
            .call(&format!("bill {bill_id}: update APBILL"), false, &function)
            .await?;
        match answer.results.into_iter().next() {
            Some(result) => result.outcome.map(|_| ()),
            None => Err("Intacct answered without a result".to_owned()),
        }
    }

    /// The names of Intacct's vendors, page by page: `readByQuery`, then `readMore` with the
    /// answer's `resultId` until none remain (Intacct's `readByQuery` has no offset).
    pub async fn list_vendors(&self) -> Result<Vec<String>, String> {
        let mut names = Vec::new();
        let mut result_id: Option<String> = None;
        for _ in 0..MAX_VENDOR_PAGES {
            let (step, function) = match &result_id {
                None => (
                    "sync vendors: readByQuery VENDOR",
                    format!(
                        "<function controlid=\"vendors\"><readByQuery><object>VENDOR</object><fields>NAME</fields><query></query><pagesize>{PAGE_SIZE}</pagesize></readByQuery></function>"
                    ),
                ),
                Some(id) => (
                    "sync vendors: readMore VENDOR",
                    format!(
                        "<function controlid=\"vendors\"><readMore><resultId>{}</resultId></readMore></function>",
                        escape(id)
                    ),
                ),
            };
            let answer = self.call(step, false, &function).await?;
            if let Some(FunctionResult {
                outcome: Err(message),
                ..
            }) = answer.results.first()
            {
                return Err(message.clone());
            }
            let (page, remaining, next) = vendor_page(&answer.xml)?;
            names.extend(page);
            if remaining == 0 {
                return Ok(names);
            }
            if next.is_empty() {
                return Err("Intacct said records remain but gave no resultId".to_owned());
            }
            result_id = Some(next);
        }
        Ok(names)
    }

    /// Intacct sends no webhooks.
    pub fn verify_webhook(
        &self,
        _key: &[u8],
        _headers: &HeaderMap,
        _body: &[u8],
    ) -> Result<Vec<Value>, Rejection> {
        Err(Rejection::BadPayload(unsupported("Intacct", "webhooks")))
    }

    /// Sends `functions` in one request (with the session, or a login before `connect`) and
    /// returns the answer when its control and authentication layers succeeded.
    async fn call(&self, what: &str, transaction: bool, functions: &str) -> Result<Answer, String> {
        self.send(what, transaction, functions, None)
            .await
            .map_err(CallError::into_message)
    }

    /// [`IntacctClient::call`] that tells a gateway status apart; with `unique`, the request goes
    /// as `uniqueid=true` under that control id, so Intacct refuses to run it twice.
    async fn send(
        &self,
        what: &str,
        transaction: bool,
        functions: &str,
        unique: Option<&str>,
    ) -> Result<Answer, CallError> {
        let session = self.session.lock().await.clone();
        let (url, authentication) = match &session {
            Some(session) => (
                session.endpoint.clone(),
                format!("<sessionid>{}</sessionid>", escape(&session.id)),
            ),
            None => {
                let c = &self.credentials;
                (
                    format!("{}{GATEWAY_PATH}", self.base_url),
                    format!(
                        "<login><userid>{}</userid><companyid>{}</companyid><password>{}</password></login>",
                        escape(&c.user_id),
                        escape(&c.company_id),
                        escape(&c.user_password)
                    ),
                )
            }
        };
        let mut rate_limited = 0;
        loop {
            let number = self.requests.fetch_add(1, Ordering::Relaxed) + 1;
            let (controlid, uniqueid) = match unique {
                Some(id) => (escape(id), "true"),
                None => (format!("ledger-sync-{number}"), "false"),
            };
            let c = &self.credentials;
            let transaction = if transaction {
                " transaction=\"true\""
            } else {
                ""
            };
            let body = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<request><control><senderid>{}</senderid><password>{}</password><controlid>{controlid}</controlid><uniqueid>{uniqueid}</uniqueid><dtdversion>3.0</dtdversion></control><operation{transaction}><authentication>{authentication}</authentication><content>{functions}</content></operation></request>",
                escape(&c.sender_id),
                escape(&c.sender_password),
            );
            let response = self
                .http
                .post(&url)
                .header(CONTENT_TYPE, XML_REQUEST)
                .body(body)
                .send()
                .await
                .map_err(|error| CallError::Failed(unreachable_message(error)))?;
            let status = response.status();
            log(format!("{what} -> {}", status.as_u16()));
            if status == StatusCode::TOO_MANY_REQUESTS
                && let Some(wait) = rate_limit_wait(
                    self.release,
                    rate_limited,
                    response.headers().get(RETRY_AFTER),
                )
            {
                rate_limited += 1;
                log(format!(
                    "{what}: GW-0010, waiting {}ms before retry {rate_limited} of {MAX_RATE_LIMIT_RETRIES}",
                    wait.as_millis()
                ));
                tokio::time::sleep(wait).await;
                continue;
            }
            let xml = response
                .text()
                .await
                .map_err(|error| CallError::Failed(unreachable_message(error)))?;
            if status != StatusCode::OK {
                return Err(CallError::Gateway(status));
            }
            return read_answer(xml).map_err(CallError::Failed);
        }
    }

    /// SUP-5047 (fix): the `RECORDNO` of the `kind` record saved as `reference`, if Intacct has
    /// one.
    async fn find_record(&self, kind: &Kind, reference: &str) -> Result<Option<String>, String> {
        let function = format!(
            "<function controlid=\"find-{}\"><readByQuery><object>{}</object><fields>RECORDNO</fields><query>{} = '{}'</query><pagesize>1</pagesize></readByQuery></function>",
            kind.noun,
            kind.object,
            kind.reference_field,
            escape(&reference.replace('\'', ""))
        );
        let answer = self
            .call(
                &format!("{} {reference}: readByQuery {}", kind.noun, kind.object),
                false,
                &function,
            )
            .await?;
        if let Some(FunctionResult {
            outcome: Err(message),
            ..
        }) = answer.results.first()
        {
            return Err(message.clone());
        }
        let document = parse(&answer.xml)?;
        let found = text(
            &document,
            &format!(
                "/response/operation/result[1]/data/{}[1]/RECORDNO",
                kind.list
            ),
        );
        Ok(Some(found).filter(|n| !n.is_empty()))
    }
}

/// SUP-5052: how long to wait before retrying a call the gateway rate limited (`429`,
/// `GW-0010`) for the `retried`th time; `None` to give up.
fn rate_limit_wait(
    release: Release,
    retried: u32,
    header: Option<&HeaderValue>,
) -> Option<std::time::Duration> {
    match release {
        // SUP-5052 (bug): 1.4.2 takes GW-0010 for a failure, so a month-end burst that passes
        // the company's limit fails the export for good.
        Release::V1_4_2 => None,
        // SUP-5052 (fix): 1.4.3 backs off (Retry-After when given, else 1s; capped) and retries
        // up to three times. A rate-limited request did not run, so it is safe to resend.
        Release::V1_4_3 => (retried < MAX_RATE_LIMIT_RETRIES).then(|| retry_after(header)),
    }
}

/// What a create does after the gateway answered with an HTTP error (SUP-5047).
#[derive(Debug, PartialEq, Eq)]
enum AfterGatewayError {
    /// Send the same create again.
    SendAgain,
    /// Look the record up by its reference; send it again only when Intacct does not have it.
    LookUp,
    /// Report the error.
    GiveUp,
}

/// SUP-5047: what the release does after `status`.
fn after_gateway_error(release: Release, status: StatusCode) -> AfterGatewayError {
    match release {
        // SUP-5047 (bug): 1.4.2 sends the create again after any 5xx, 524 included. A 524 means
        // the CDN cut the connection while Intacct still processed the request, so the journal
        // (or bill) is posted twice.
        Release::V1_4_2 if status.is_server_error() => AfterGatewayError::SendAgain,
        // SUP-5047 (fix): 1.4.3 never resends blindly after a 524 (as the Intacct SDKs, which
        // retry other 5xx but not 524); it looks the record up first.
        Release::V1_4_3 if status.as_u16() == GATEWAY_TIMEOUT_524 => AfterGatewayError::LookUp,
        _ => AfterGatewayError::GiveUp,
    }
}

/// SUP-5047: the control id the create of the `kind` record known as `reference` goes under with
/// `uniqueid=true`, if the release sends one.
fn unique_control(release: Release, kind: &Kind, reference: &str) -> Option<String> {
    match release {
        // SUP-5047 (bug): 1.4.2 numbers every request anew (uniqueid false), so Intacct cannot
        // tell a resent journal or bill from a new one.
        Release::V1_4_2 => None,
        // SUP-5047 (fix): 1.4.3 derives the control id from the caller's reference (journal id,
        // expense id) and sends uniqueid=true, so Intacct refuses to run the same create twice.
        Release::V1_4_3 => Some(format!("{}-{reference}", kind.noun)),
    }
}

/// The vendor names of a `readByQuery` or `readMore` answer, how many records remain after them
/// and the `resultId` to read them with.
fn vendor_page(xml: &str) -> Result<(Vec<String>, usize, String), String> {
    let document = parse(xml)?;
    let data = "/response/operation/result[1]/data";
    let count = number(&document, &format!("count({data}/vendor)"));
    let names = (1..=count)
        .map(|n| text(&document, &format!("{data}/vendor[{n}]/NAME")))
        .collect();
    let remaining = number(&document, &format!("number({data}/@numremaining)"));
    let result_id = text(&document, &format!("{data}/@resultId"));
    Ok((names, remaining, result_id))
}

/// SUP-5040: per bill (function `ids[n]`), its `RECORDNO` or the error, as the release reads the
/// answer of a multi-function request.
fn bill_outcomes(
    release: Release,
    results: &[FunctionResult],
    ids: &[String],
) -> Vec<Result<String, String>> {
    match release {
        // SUP-5040 (bug): 1.4.2 trusts the control status: `success` means every bill was saved.
        // It takes the RECORDNOs of the answer in document order, so after a failed function
        // the bills get the next bill's id, and the last ones none at all.
        Release::V1_4_2 => {
            let numbers: Vec<&String> = results
                .iter()
                .filter_map(|result| result.outcome.as_ref().ok())
                .collect();
            (0..ids.len())
                .map(|n| Ok(numbers.get(n).map(|s| (*s).clone()).unwrap_or_default()))
                .collect()
        }
        // SUP-5040 (fix): 1.4.3 reads each function's own result by its controlid and shows
        // Intacct's error for a bill that was not saved.
        Release::V1_4_3 => ids
            .iter()
            .map(|id| {
                results
                    .iter()
                    .find(|result| &result.controlid == id)
                    .map(|result| result.outcome.clone())
                    .unwrap_or_else(|| Err(format!("Intacct gave no result for `{id}`")))
            })
            .collect(),
    }
}

/// The `create APBILL` function for `bill`, with control id `id`.
fn create_bill(id: &str, bill: &Bill) -> String {
    let mut fields = format!("<VENDORID>{}</VENDORID>", escape(&vendor_id(&bill.contact)));
    if let Some(date) = &bill.date {
        fields.push_str(&format!(
            "<WHENCREATED>{}</WHENCREATED>",
            escape(&us_date(date))
        ));
    }
    if let Some(due) = &bill.due_date {
        fields.push_str(&format!("<WHENDUE>{}</WHENDUE>", escape(&us_date(due))));
    }
    format!(
        "<function controlid=\"{}\"><create><APBILL>{fields}<RECORDID>{}</RECORDID><CURRENCY>{}</CURRENCY><APBILLITEMS><APBILLITEM><ACCOUNTNO>{}</ACCOUNTNO><TRX_AMOUNT>{}</TRX_AMOUNT></APBILLITEM></APBILLITEMS></APBILL></create></function>",
        escape(id),
        escape(&bill.reference),
        escape(&bill.currency),
        escape(&bill.account_code),
        escape(&bill.amount),
    )
}

/// The `create GLBATCH` function for `journal` in the general journal, with control id `id`:
/// one `GLENTRY` per line, `TR_TYPE` `1` for a debit and `-1` for a credit.
fn create_journal(id: &str, journal: &Journal) -> String {
    let entries: String = journal
        .lines
        .iter()
        .map(|line| {
            let side = match line.side {
                Side::Debit => "1",
                Side::Credit => "-1",
            };
            format!(
                "<GLENTRY><ACCOUNTNO>{}</ACCOUNTNO><TR_TYPE>{side}</TR_TYPE><TRX_AMOUNT>{}</TRX_AMOUNT></GLENTRY>",
                escape(&line.account),
                escape(&line.amount)
            )
        })
        .collect();
    format!(
        "<function controlid=\"{}\"><create><GLBATCH><JOURNAL>{JOURNAL_SYMBOL}</JOURNAL><BATCH_DATE>{}</BATCH_DATE><BATCH_TITLE>{}</BATCH_TITLE><REFERENCENO>{}</REFERENCENO><ENTRIES>{entries}</ENTRIES></GLBATCH></create></function>",
        escape(id),
        escape(&us_date(&journal.date)),
        escape(&journal.title),
        escape(&journal.reference),
    )
}

/// The `VENDORID` ledger-sync uses for a vendor name: upper case, other characters as `-`.
fn vendor_id(name: &str) -> String {
    let mut id = String::new();
    for c in name.trim().chars() {
        if c.is_ascii_alphanumeric() {
            id.push(c.to_ascii_uppercase());
        } else if !id.ends_with('-') {
            id.push('-');
        }
    }
    id.trim_end_matches('-').to_owned()
}

/// `YYYY-MM-DD` as Intacct's `MM/DD/YYYY`; anything else unchanged.
fn us_date(date: &str) -> String {
    match date.split('-').collect::<Vec<_>>()[..] {
        [year, month, day] if year.len() == 4 => format!("{month}/{day}/{year}"),
        _ => date.to_owned(),
    }
}

/// Reads the layers of an answer: a failed control or authentication is the whole call's error.
fn read_answer(xml: String) -> Result<Answer, String> {
    let document = parse(&xml)?;
    if text(&document, "/response/control/status") != "success" {
        return Err(format!(
            "Intacct refused the request: {}",
            error_text(&document, "/response/errormessage")
        ));
    }
    let auth = "/response/operation/authentication/status";
    if text(&document, auth) != "success" {
        return Err(format!(
            "Intacct sign-in failed: {}",
            error_text(&document, "/response/operation/errormessage")
        ));
    }
    let count = number(&document, "count(/response/operation/result)");
    let results = (1..=count)
        .map(|n| {
            let result = format!("/response/operation/result[{n}]");
            let outcome = if text(&document, &format!("{result}/status")) == "success" {
                Ok(text(&document, &format!("{result}/data/*[1]/RECORDNO")))
            } else {
                Err(error_text(&document, &format!("{result}/errormessage")))
            };
            FunctionResult {
                controlid: text(&document, &format!("{result}/controlid")),
                outcome,
            }
        })
        .collect();
    Ok(Answer { xml, results })
}

/// The first error of an `<errormessage>` as `description: description2`.
fn error_text(document: &sxd_document::Package, errormessage: &str) -> String {
    let error = format!("{errormessage}/error[1]");
    let description = text(document, &format!("{error}/description"));
    let detail = text(document, &format!("{error}/description2"));
    match (description.is_empty(), detail.is_empty()) {
        (true, true) => "unknown error".to_owned(),
        (false, true) => description,
        (true, false) => detail,
        (false, false) => format!("{description}: {detail}"),
    }
}

fn parse(xml: &str) -> Result<sxd_document::Package, String> {
    sxd_document::parser::parse(xml)
        .map_err(|error| format!("Intacct answered with bad XML: {error}"))
}

/// The string value of XPath `path`, trimmed (empty when nothing matches).
fn text(document: &sxd_document::Package, path: &str) -> String {
    sxd_xpath::evaluate_xpath(&document.as_document(), path)
        .map(|value| value.string().trim().to_owned())
        .unwrap_or_default()
}

/// The number XPath `path` gives, 0 when it is not one.
fn number(document: &sxd_document::Package, path: &str) -> usize {
    sxd_xpath::evaluate_xpath(&document.as_document(), path)
        .map(|value| value.number())
        .ok()
        .filter(|n| n.is_finite() && *n >= 0.0)
        .map_or(0, |n| n as usize)
}

/// `text` with XML's special characters escaped.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    //! Table tests for the SUP-5040 helper and the request pieces; the incident end to end is
    //! `scenarios/intacct-partial-multi-function-failure.yaml`.

    use super::*;

    const PARTIAL: &str = r#"<response>
  <control><status>success</status></control>
  <operation>
    <authentication><status>success</status></authentication>
    <result><status>success</status><function>create</function><controlid>exp-1-1</controlid>
      <data><apbill><RECORDNO>1</RECORDNO></apbill></data></result>
    <result><status>failure</status><function>create</function><controlid>exp-1-2</controlid>
      <errormessage><error><errorno>X</errorno><description>Invalid vendor</description>
      <description2>Vendor `NOBODY` does not exist</description2><correction/></error></errormessage></result>
    <result><status>success</status><function>create</function><controlid>exp-1-3</controlid>
      <data><apbill><RECORDNO>2</RECORDNO></apbill></data></result>
  </operation>
</response>"#;

    fn ids() -> Vec<String> {
        ["exp-1-1", "exp-1-2", "exp-1-3"]
            .map(str::to_owned)
            .to_vec()
    }

    #[test]
    fn sup_5040_1_4_2_reports_a_partial_failure_as_all_posted() {
        let answer = read_answer(PARTIAL.to_owned()).expect("control and sign-in succeeded");
        let outcomes = bill_outcomes(Release::V1_4_2, &answer.results, &ids());
        assert_eq!(
            outcomes,
            vec![Ok("1".to_owned()), Ok("2".to_owned()), Ok(String::new())]
        );
    }

    #[test]
    fn sup_5040_1_4_3_reads_each_result_by_controlid() {
        let answer = read_answer(PARTIAL.to_owned()).expect("control and sign-in succeeded");
        let outcomes = bill_outcomes(Release::V1_4_3, &answer.results, &ids());
        assert_eq!(
            outcomes,
            vec![
                Ok("1".to_owned()),
                Err("Invalid vendor: Vendor `NOBODY` does not exist".to_owned()),
                Ok("2".to_owned())
            ]
        );
    }

    #[test]
    fn a_failed_control_or_sign_in_fails_the_whole_call() {
        let control = "<response><control><status>failure</status></control><errormessage><error><errorno>XL03000006</errorno><description>Invalid Web Services Authorization</description><description2/><correction/></error></errormessage></response>";
        assert_eq!(
            read_answer(control.to_owned()).unwrap_err(),
            "Intacct refused the request: Invalid Web Services Authorization"
        );
        let sign_in = "<response><control><status>success</status></control><operation><authentication><status>failure</status></authentication><errormessage><error><description>Invalid session</description></error></errormessage></operation></response>";
        assert!(read_answer(sign_in.to_owned()).is_err());
    }

    #[test]
    fn sup_5047_1_4_2_resends_after_a_524_and_1_4_3_looks_the_record_up() {
        let cdn = StatusCode::from_u16(524).expect("a status");
        assert_eq!(
            after_gateway_error(Release::V1_4_2, cdn),
            AfterGatewayError::SendAgain
        );
        assert_eq!(
            after_gateway_error(Release::V1_4_3, cdn),
            AfterGatewayError::LookUp
        );
        assert_eq!(
            after_gateway_error(Release::V1_4_3, StatusCode::BAD_GATEWAY),
            AfterGatewayError::GiveUp
        );
        assert_eq!(unique_control(Release::V1_4_2, &JOURNAL, "ACCR-11"), None);
        assert_eq!(
            unique_control(Release::V1_4_3, &JOURNAL, "ACCR-11").as_deref(),
            Some("journal-ACCR-11")
        );
        assert_eq!(
            unique_control(Release::V1_4_3, &BILL, "EXP-1").as_deref(),
            Some("bill-EXP-1")
        );
    }

    #[test]
    fn sup_5052_1_4_2_gives_up_on_gw_0010_and_1_4_3_backs_off_three_times() {
        assert_eq!(rate_limit_wait(Release::V1_4_2, 0, None), None);
        assert_eq!(
            rate_limit_wait(Release::V1_4_3, 0, None),
            Some(std::time::Duration::from_secs(1))
        );
        let two = HeaderValue::from_static("2");
        assert_eq!(
            rate_limit_wait(Release::V1_4_3, 2, Some(&two)),
            Some(std::time::Duration::from_secs(2))
        );
        assert_eq!(rate_limit_wait(Release::V1_4_3, 3, None), None);
    }

    #[test]
    fn journals_are_glbatch_entries_with_tr_type_sides() {
        let journal = Journal {
            reference: "ACCR<1>".to_owned(),
            date: "2026-11-30".to_owned(),
            title: "Accruals".to_owned(),
            lines: vec![
                crate::connector::JournalLine {
                    account: "6420".to_owned(),
                    amount: "10.00".to_owned(),
                    side: Side::Debit,
                },
                crate::connector::JournalLine {
                    account: "2100".to_owned(),
                    amount: "10.00".to_owned(),
                    side: Side::Credit,
                },
            ],
        };
        let function = create_journal("exp-1", &journal);
        let document = parse(&function).expect("XML");
        let entry = "/function/create/GLBATCH";
        assert_eq!(text(&document, &format!("{entry}/JOURNAL")), "GJ");
        assert_eq!(
            text(&document, &format!("{entry}/BATCH_DATE")),
            "11/30/2026"
        );
        assert_eq!(text(&document, &format!("{entry}/REFERENCENO")), "ACCR<1>");
        assert_eq!(
            text(&document, &format!("{entry}/ENTRIES/GLENTRY[2]/TR_TYPE")),
            "-1"
        );
        assert_eq!(
            text(&document, &format!("{entry}/ENTRIES/GLENTRY[1]/TRX_AMOUNT")),
            "10.00"
        );
    }

    #[test]
    fn vendor_ids_and_dates_are_as_intacct_reads_them() {
        assert_eq!(vendor_id("Office Supplies Ltd."), "OFFICE-SUPPLIES-LTD");
        assert_eq!(vendor_id("  A&B  Co "), "A-B-CO");
        assert_eq!(us_date("2026-11-30"), "11/30/2026");
        assert_eq!(escape("a<b&\"c\""), "a&lt;b&amp;&quot;c&quot;");
    }
}
