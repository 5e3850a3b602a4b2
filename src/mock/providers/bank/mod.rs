//! `provider: bank`, [`Bank`]: a bank that delivers statement files rendered from the scenario's
//! ledger (MT940 in `mt940.rs`, BAI2 in `bai2.rs`, camt.053 in `camt.rs`) or given as they are,
//! over HTTP: `GET /statements` lists the files available at the virtual now, `GET
//! /statements/{name}` downloads one, each behind the scenario's `auth` if it sets one. Every file
//! is rendered once when the mock starts (the ledger is static). Payments: `POST /payments` takes
//! a pain.001 file ([`Bank::receive_payment_file`], `payments.rs`), `GET /payments/{id}` tells its
//! status and `GET /payments/{id}/reports[/{name}]` serves its pain.002 reports (`pain002.rs`) as
//! due on the virtual clock. With `sftp:` the same files and reports are served over SFTP too
//! (`crate::mock::sftp`, through [`Bank::inbox`] and [`Bank::receive_payment_file`]). Settings:
//! [`BankSettings`](crate::scenario::model::BankSettings); documented in `docs/providers/bank.md`.

mod amounts;
pub(crate) mod bai2;
pub(crate) mod camt;
mod charset;
pub(crate) mod mt940;
pub(crate) mod pain002;
pub(crate) mod payments;
#[cfg(test)]
mod properties;
pub(crate) mod xsd;

use bytes::Bytes;
use hyper::header::{
    ALLOW, CONTENT_DISPOSITION, CONTENT_TYPE, HeaderValue, LOCATION, WWW_AUTHENTICATE,
};
use hyper::{Response, StatusCode};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::kit::Fake;
use super::{ProviderAnswer, ProviderRequest};
use crate::mock::engine::json_response;
use crate::scenario::model::{
    BankAccount, BankAuth, BankSettings, BankSftp, CamtVersion, PaymentProfile, StatementContent,
    StatementFormat, page_name,
};
use payments::{Content, PaymentFile};

/// The realm the `WWW-Authenticate` challenges name.
const REALM: &str = "bank";
/// The most downloads the state records; later ones are served but not recorded (reenact's
/// bound, so a polling client cannot grow the state without end).
pub(crate) const MAX_RECORDED_DOWNLOADS: usize = 10_000;
/// The longest path segment read as a file name (percent-encoded).
const MAX_NAME_SEGMENT: usize = 3 * 255;

/// One file the bank serves: a statement file, or one page (message) of a paginated camt file.
#[derive(Debug)]
struct Served {
    /// The name it is listed and downloaded under.
    name: String,
    /// The format as the listing names it.
    format: &'static str,
    /// Its `Content-Type`.
    content_type: HeaderValue,
    /// The bytes.
    bytes: Bytes,
    /// When it appears on the virtual clock; `None`: from the start.
    available_at: Option<OffsetDateTime>,
}

impl Served {
    fn available(&self, now: OffsetDateTime) -> bool {
        self.available_at.is_none_or(|at| at <= now)
    }
}

/// A configured bank fake: its files, rendered once, and its credentials.
#[derive(Debug)]
pub(crate) struct Bank {
    files: Vec<Served>,
    auth: Option<BankAuth>,
    payments: PaymentProfile,
    sftp: Option<BankSftp>,
}

/// What one run of the bank holds: the downloads served, the listings answered and the payment
/// files received.
#[derive(Debug, Default)]
pub(crate) struct BankState {
    downloads: Vec<Value>,
    listings: u64,
    payment_files: Vec<PaymentFile>,
}

/// A file a client may download at a given time: a statement file or a pain.002 report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InboxFile {
    /// Its name (a statement's, or `PMT-N-pain.002-K.xml`).
    pub(crate) name: String,
    /// Its bytes.
    pub(crate) bytes: Bytes,
}

/// What the bank answers a payment file it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PaymentReceipt {
    /// The bank's id of the file (`PMT-N`).
    pub(crate) id: String,
    /// Its `MsgId`, when one could be read.
    pub(crate) msg_id: Option<String>,
    /// When it was received (virtual clock, whole seconds, the bank's offset).
    pub(crate) received_at: OffsetDateTime,
}

/// Why the bank did not take a payment file at all (a file it takes and rejects is a
/// [`PaymentReceipt`] whose reports say `RJCT`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PaymentRefusal {
    /// The run already holds [`payments::MAX_FILES`] files.
    #[error("the bank holds {} payment files, its most", payments::MAX_FILES)]
    TooManyFiles,
    /// The file would take the run past [`payments::MAX_TRANSACTIONS`] transactions.
    #[error(
        "the bank holds at most {} transactions in all",
        payments::MAX_TRANSACTIONS
    )]
    TooManyTransactions,
}

/// The listing's name of a format.
fn format_name(format: &StatementFormat) -> &'static str {
    match format {
        StatementFormat::Mt940(_) => "mt940",
        StatementFormat::Bai2(_) => "bai2",
        StatementFormat::Camt053(options) => match options.version {
            CamtVersion::V02 => "camt.053.001.02",
            CamtVersion::V08 => "camt.053.001.08",
        },
    }
}

/// The `Content-Type` of a text file: its charset UTF-8 when the bytes are (ASCII included),
/// else ISO 8859-1, the one 8-bit charset every byte is valid in (banks' umlauts outside the
/// SWIFT X set).
fn text_type(bytes: &[u8]) -> HeaderValue {
    if std::str::from_utf8(bytes).is_ok() {
        HeaderValue::from_static("text/plain; charset=utf-8")
    } else {
        HeaderValue::from_static("text/plain; charset=iso-8859-1")
    }
}

/// The `Content-Type` of a raw fixture: XML by its extension, else bytes as they are.
fn raw_type(name: &str) -> HeaderValue {
    if name.to_ascii_lowercase().ends_with(".xml") {
        HeaderValue::from_static("application/xml")
    } else {
        HeaderValue::from_static("application/octet-stream")
    }
}

/// `segment` percent-decoded (RFC 3986 §2.1), or `None` when it is not valid UTF-8 after
/// decoding or holds a bad escape.
fn percent_decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] == b'%' {
            let hex = bytes.get(at + 1..at + 3)?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            at += 3;
        } else {
            out.push(bytes[at]);
            at += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The files one rendered statement is served as: one under `name`, or, when it is several
/// messages, one per message under `STEM-pN.EXT` (N from 1).
fn paged(
    name: &str,
    pages: Vec<Vec<u8>>,
    format: &'static str,
    content_type: &HeaderValue,
    available_at: Option<OffsetDateTime>,
) -> Vec<Served> {
    let single = pages.len() <= 1;
    let mut pages = pages;
    if pages.is_empty() {
        pages.push(Vec::new());
    }
    pages
        .into_iter()
        .enumerate()
        .map(|(index, page)| Served {
            name: if single {
                name.to_owned()
            } else {
                page_name(name, index + 1)
            },
            format,
            content_type: content_type.clone(),
            bytes: Bytes::from(page),
            available_at,
        })
        .collect()
}

impl Bank {
    /// A bank with `settings`: every file rendered now.
    pub(crate) fn new(settings: BankSettings) -> Bank {
        let mut files = Vec::new();
        for statement in &settings.statements {
            match &statement.content {
                StatementContent::Raw { bytes } => files.push(Served {
                    name: statement.name.clone(),
                    format: "raw",
                    content_type: raw_type(&statement.name),
                    bytes: Bytes::from(bytes.clone()),
                    available_at: statement.available_at,
                }),
                StatementContent::Rendered(rendered) => {
                    // The loader checked every id; an unknown one is left out, not a panic.
                    let accounts: Vec<&BankAccount> = rendered
                        .accounts
                        .iter()
                        .filter_map(|id| settings.accounts.iter().find(|a| &a.id == id))
                        .collect();
                    let format = format_name(&rendered.format);
                    let text = |bytes: Vec<u8>| {
                        let content_type = text_type(&bytes);
                        (vec![bytes], content_type)
                    };
                    let (pages, content_type) = match &rendered.format {
                        StatementFormat::Mt940(options) => text(mt940::render(
                            rendered,
                            options,
                            &accounts,
                            &settings.bank,
                            statement.created_at,
                        )),
                        StatementFormat::Bai2(options) => text(bai2::render(
                            rendered,
                            options,
                            &accounts,
                            &settings.bank,
                            statement.created_at,
                        )),
                        StatementFormat::Camt053(options) => (
                            camt::render(
                                rendered,
                                options,
                                &accounts,
                                &settings.bank,
                                statement.created_at,
                            ),
                            HeaderValue::from_static("application/xml"),
                        ),
                    };
                    files.extend(paged(
                        &statement.name,
                        pages,
                        format,
                        &content_type,
                        statement.available_at,
                    ));
                }
            }
        }
        Bank {
            files,
            auth: settings.auth,
            payments: settings.payments,
            sftp: settings.sftp,
        }
    }

    /// The SFTP server's settings, when the bank runs one.
    pub(crate) fn sftp(&self) -> Option<&BankSftp> {
        self.sftp.as_ref()
    }

    /// Record that `name` was downloaded at `now` over `channel` (`http`, `sftp`).
    pub(crate) fn record_download(
        &self,
        state: &mut BankState,
        name: &str,
        now: OffsetDateTime,
        channel: &str,
    ) {
        if state.downloads.len() < MAX_RECORDED_DOWNLOADS {
            state.downloads.push(json!({
                "name": name,
                "at": now.replace_nanosecond(0).unwrap_or(now).format(&Rfc3339).unwrap_or_default(),
                "channel": channel,
            }));
        }
    }

    /// Count one listing of the files (`GET /statements`, an SFTP listing of the inbox).
    pub(crate) fn record_listing(&self, state: &mut BankState) {
        state.listings = state.listings.saturating_add(1);
    }

    /// Take `body` as a pain.001 payment file named `name` at `now` (HTTP `POST /payments` and
    /// the SFTP outbox): its checks are made and its reports planned at once; the receipt, or why
    /// the bank took nothing.
    pub(crate) fn receive_payment_file(
        &self,
        state: &mut BankState,
        name: &str,
        body: &[u8],
        now: OffsetDateTime,
    ) -> Result<PaymentReceipt, PaymentRefusal> {
        if state.payment_files.len() >= payments::MAX_FILES {
            return Err(PaymentRefusal::TooManyFiles);
        }
        let file = payments::receive(&self.payments, &state.payment_files, name, body, now);
        let held: usize = state
            .payment_files
            .iter()
            .map(PaymentFile::transaction_count)
            .sum();
        if held + file.transaction_count() > payments::MAX_TRANSACTIONS {
            return Err(PaymentRefusal::TooManyTransactions);
        }
        let receipt = PaymentReceipt {
            id: file.id.clone(),
            msg_id: file.msg_id().map(str::to_owned),
            received_at: file.received_at,
        };
        state.payment_files.push(file);
        Ok(receipt)
    }

    /// Every file a client may download at `now`: the statement files available (in the order
    /// `GET /statements` lists them), then the pain.002 reports issued so far (files in order of
    /// receipt, reports in order of issue).
    pub(crate) fn inbox(&self, state: &BankState, now: OffsetDateTime) -> Vec<InboxFile> {
        let statements = self
            .files
            .iter()
            .filter(|file| file.available(now))
            .map(|file| InboxFile {
                name: file.name.clone(),
                bytes: file.bytes.clone(),
            });
        let reports = state.payment_files.iter().flat_map(|file| {
            file.issued(now)
                .iter()
                .enumerate()
                .map(move |(index, report)| InboxFile {
                    name: pain002::report_name(file, index + 1),
                    bytes: Bytes::from(pain002::render(file, index + 1, report)),
                })
        });
        statements.chain(reports).collect()
    }

    /// Whether `request` carries the credentials `auth` requires; `None` when it does, else the
    /// `401` to answer.
    fn refuse_unauthenticated(&self, request: &ProviderRequest<'_>) -> Option<Response<Bytes>> {
        let auth = self.auth.as_ref()?;
        let (presented, challenge) = match auth {
            BankAuth::Basic { username, password } => {
                let presented = request.credentials("Basic");
                if request
                    .basic()
                    .as_ref()
                    .map(|(user, pass)| (user.as_str(), pass.as_str()))
                    == Some((username.as_str(), password.0.as_str()))
                {
                    return None;
                }
                // RFC 7617 §2 and §2.1.
                (
                    presented.is_some(),
                    format!("Basic realm=\"{REALM}\", charset=\"UTF-8\""),
                )
            }
            BankAuth::Bearer { token } => {
                let presented = request.bearer();
                if presented == Some(token.0.as_str()) {
                    return None;
                }
                // RFC 6750 §3 and §3.1: no error code when no credentials came.
                let challenge = if presented.is_some() {
                    format!("Bearer realm=\"{REALM}\", error=\"invalid_token\"")
                } else {
                    format!("Bearer realm=\"{REALM}\"")
                };
                (presented.is_some(), challenge)
            }
        };
        let message = if presented {
            "the credentials are not valid"
        } else {
            "credentials are required"
        };
        let mut response = json_response(StatusCode::UNAUTHORIZED, &json!({ "error": message }));
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            response.headers_mut().insert(WWW_AUTHENTICATE, value);
        }
        Some(response)
    }

    /// `GET /statements`: the files available now, in file order.
    fn list(&self, state: &mut BankState, now: OffsetDateTime) -> Response<Bytes> {
        self.record_listing(state);
        let statements: Vec<Value> = self
            .files
            .iter()
            .filter(|file| file.available(now))
            .map(|file| {
                let mut entry = json!({
                    "name": file.name,
                    "format": file.format,
                    "size": file.bytes.len(),
                });
                if let Some(at) = file.available_at.and_then(|at| at.format(&Rfc3339).ok()) {
                    entry["available_at"] = Value::String(at);
                }
                entry
            })
            .collect();
        json_response(StatusCode::OK, &json!({ "statements": statements }))
    }

    /// `GET /statements/{name}`: the file's bytes, or `404` when it is unknown or not yet
    /// available (the same answer: a client cannot tell a future file from none).
    fn download(
        &self,
        state: &mut BankState,
        segment: &str,
        now: OffsetDateTime,
    ) -> Response<Bytes> {
        let name = (segment.len() <= MAX_NAME_SEGMENT)
            .then(|| percent_decode(segment))
            .flatten();
        let file = name.as_deref().and_then(|name| {
            self.files
                .iter()
                .find(|file| file.name == name && file.available(now))
        });
        let Some(file) = file else {
            return json_response(
                StatusCode::NOT_FOUND,
                &json!({ "error": "no such statement file", "name": name.unwrap_or_default() }),
            );
        };
        self.record_download(state, &file.name, now, "http");
        let mut response = Response::new(file.bytes.clone());
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, file.content_type.clone());
        // RFC 6266 §4.1; names with a quote or non-ASCII characters go without one.
        if file
            .name
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' || b == b' ')
            && let Ok(value) =
                HeaderValue::from_str(&format!("attachment; filename=\"{}\"", file.name))
        {
            headers.insert(CONTENT_DISPOSITION, value);
        }
        response
    }
}

/// `405` for a method the statement routes do not take.
fn method_not_allowed() -> Response<Bytes> {
    let mut response = json_response(
        StatusCode::METHOD_NOT_ALLOWED,
        &json!({ "error": "the statement routes take GET" }),
    );
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static("GET"));
    response
}

impl Fake for Bank {
    type State = BankState;
    const NAME: &'static str = "bank";

    fn fresh_state(&self) -> BankState {
        BankState::default()
    }

    fn respond(&self, state: &mut BankState, request: &ProviderRequest<'_>) -> ProviderAnswer {
        let path = request.view.path;
        if let Some(rest) = path.strip_prefix("/payments")
            && (rest.is_empty() || rest.starts_with('/'))
        {
            return self.payment_route(state, request, rest);
        }
        let segment = match path.strip_prefix("/statements") {
            Some("") => None,
            Some(rest) => match rest.strip_prefix('/') {
                Some(name) if !name.is_empty() && !name.contains('/') => Some(name),
                _ => return ProviderAnswer::unrouted(Self::NAME, request),
            },
            None => return ProviderAnswer::unrouted(Self::NAME, request),
        };
        if request.view.method != "GET" {
            return ProviderAnswer::routed(method_not_allowed());
        }
        if let Some(refused) = self.refuse_unauthenticated(request) {
            return ProviderAnswer::routed(refused);
        }
        let response = match segment {
            None => self.list(state, request.now),
            Some(segment) => self.download(state, segment, request.now),
        };
        ProviderAnswer::routed(response)
    }

    /// `{"downloads": [{"name", "at", "channel"}], "listings": N, "payment_files": [..],
    /// "payments": [..]}`
    /// as of the clock's start; [`Fake::state_json_at`] gives the statuses as of a time.
    fn state_json(state: &BankState) -> Value {
        Self::state_json_at(state, OffsetDateTime::UNIX_EPOCH)
    }

    /// What was served (never a credential), and every payment file and transaction with its
    /// status as of `now`.
    fn state_json_at(state: &BankState, now: OffsetDateTime) -> Value {
        let files: Vec<Value> = state
            .payment_files
            .iter()
            .map(|file| file.summary(now, true))
            .collect();
        let payments: Vec<Value> = state
            .payment_files
            .iter()
            .flat_map(|file| payment_rows(file, now))
            .collect();
        json!({
            "downloads": state.downloads,
            "listings": state.listings,
            "payment_files": files,
            "payments": payments,
        })
    }
}

/// Each transaction of `file` with its status as of `now`: `{file, end_to_end_id, amount,
/// currency, creditor_iban, status, reason}`.
fn payment_rows(file: &PaymentFile, now: OffsetDateTime) -> Vec<Value> {
    let Content::Read(read) = &file.content else {
        return Vec::new();
    };
    read.transactions
        .iter()
        .enumerate()
        .map(|(index, tx)| {
            let (status, reason) = file.transaction_status(index, now);
            json!({
                "file": file.id,
                "end_to_end_id": tx.end_to_end_id,
                "amount": tx.amount_text,
                "currency": tx.currency,
                "creditor_iban": tx.creditor_iban,
                "status": status.code(),
                "reason": reason.map(|r| r.code.clone()),
            })
        })
        .collect()
}

/// `405` naming the methods a payment route takes.
fn payment_method_not_allowed(allow: &'static str) -> Response<Bytes> {
    let mut response = json_response(
        StatusCode::METHOD_NOT_ALLOWED,
        &json!({ "error": format!("this payment route takes {allow}") }),
    );
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static(allow));
    response
}

fn not_found(what: &str, name: &str) -> Response<Bytes> {
    json_response(
        StatusCode::NOT_FOUND,
        &json!({ "error": format!("no such {what}"), "name": name }),
    )
}

impl Bank {
    /// The routes under `/payments` (`rest`: the path after it).
    fn payment_route(
        &self,
        state: &mut BankState,
        request: &ProviderRequest<'_>,
        rest: &str,
    ) -> ProviderAnswer {
        let segments: Vec<&str> = rest.split('/').skip(1).collect();
        let method = request.view.method;
        let allow = if segments.is_empty() {
            "GET, POST"
        } else {
            "GET"
        };
        let allowed = method == "GET" || (segments.is_empty() && method == "POST");
        if segments.len() > 3
            || segments
                .iter()
                .any(|s| s.is_empty() || s.len() > MAX_NAME_SEGMENT)
        {
            return ProviderAnswer::unrouted(Self::NAME, request);
        }
        if segments.len() >= 2 && segments[1] != "reports" {
            return ProviderAnswer::unrouted(Self::NAME, request);
        }
        if !allowed {
            return ProviderAnswer::routed(payment_method_not_allowed(allow));
        }
        if let Some(refused) = self.refuse_unauthenticated(request) {
            return ProviderAnswer::routed(refused);
        }
        let now = request.now;
        let response = match (method, segments.as_slice()) {
            ("POST", []) => self.post_payment(state, request),
            (_, []) => {
                let files: Vec<Value> = state
                    .payment_files
                    .iter()
                    .map(|file| file.summary(now, false))
                    .collect();
                json_response(StatusCode::OK, &json!({ "payments": files }))
            }
            (_, [id, rest @ ..]) => {
                let Some(file) = state.payment_files.iter().find(|f| f.id == *id) else {
                    return ProviderAnswer::routed(not_found("payment file", id));
                };
                match rest {
                    [] => json_response(StatusCode::OK, &payment_status(file, now)),
                    [_] => {
                        let reports: Vec<Value> = file
                            .issued(now)
                            .iter()
                            .enumerate()
                            .map(|(index, report)| {
                                json!({
                                    "name": pain002::report_name(file, index + 1),
                                    "at": report.at.format(&Rfc3339).unwrap_or_default(),
                                    "group_status": report.group_status.code(),
                                })
                            })
                            .collect();
                        json_response(StatusCode::OK, &json!({ "reports": reports }))
                    }
                    [_, name] => {
                        let name = percent_decode(name).unwrap_or_default();
                        let found = file
                            .issued(now)
                            .iter()
                            .enumerate()
                            .find(|(index, _)| pain002::report_name(file, index + 1) == name);
                        match found {
                            Some((index, report)) => {
                                let mut response = Response::new(Bytes::from(pain002::render(
                                    file,
                                    index + 1,
                                    report,
                                )));
                                response.headers_mut().insert(
                                    CONTENT_TYPE,
                                    HeaderValue::from_static("application/xml"),
                                );
                                response
                            }
                            None => not_found("report", &name),
                        }
                    }
                    _ => return ProviderAnswer::unrouted(Self::NAME, request),
                }
            }
        };
        ProviderAnswer::routed(response)
    }

    /// `POST /payments`: the body is the pain.001 file; `?name=` names it (default `PMT-N.xml`).
    fn post_payment(
        &self,
        state: &mut BankState,
        request: &ProviderRequest<'_>,
    ) -> Response<Bytes> {
        let next = format!("PMT-{}.xml", state.payment_files.len() + 1);
        let name = request
            .query_param("name")
            .filter(|n| {
                !n.is_empty()
                    && n.len() <= 255
                    && !n.contains('/')
                    && !n.chars().any(char::is_control)
            })
            .unwrap_or(next);
        match self.receive_payment_file(state, &name, request.view.body, request.now) {
            Ok(receipt) => {
                let mut response = json_response(
                    StatusCode::ACCEPTED,
                    &json!({
                        "id": receipt.id,
                        "msg_id": receipt.msg_id,
                        "received_at": receipt.received_at.format(&Rfc3339).unwrap_or_default(),
                    }),
                );
                if let Ok(location) = HeaderValue::from_str(&format!("/payments/{}", receipt.id)) {
                    response.headers_mut().insert(LOCATION, location);
                }
                response
            }
            Err(refusal) => json_response(
                StatusCode::SERVICE_UNAVAILABLE,
                &json!({ "error": refusal.to_string() }),
            ),
        }
    }
}

/// `GET /payments/{id}`: the file and its transactions as of `now`.
fn payment_status(file: &PaymentFile, now: OffsetDateTime) -> Value {
    let issued = file.issued(now);
    let group_reason = issued.iter().rev().find_map(|r| r.group_reason.as_ref());
    let transactions: Vec<Value> = match &file.content {
        Content::Read(read) => read
            .transactions
            .iter()
            .enumerate()
            .map(|(index, tx)| {
                let (status, reason) = file.transaction_status(index, now);
                json!({
                    "end_to_end_id": tx.end_to_end_id,
                    "amount": tx.amount_text,
                    "currency": tx.currency,
                    "status": status.code(),
                    "reason": reason.map(|r| r.code.clone()),
                    "reason_text": reason.and_then(|r| r.info.clone()),
                })
            })
            .collect(),
        Content::Refused { .. } => Vec::new(),
    };
    json!({
        "id": file.id,
        "name": file.name,
        "msg_id": file.msg_id(),
        "received_at": file.received_at.format(&Rfc3339).unwrap_or_default(),
        "group_status": file.group_status(now).code(),
        "reason": group_reason.map(|r| r.code.clone()),
        "reason_text": group_reason.and_then(|r| r.info.clone()),
        "reports": issued.len(),
        "transactions": transactions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The inbox lists the statements available now, then the reports issued so far, each with
    /// the bytes its route serves.
    #[test]
    fn the_inbox_lists_available_statements_then_issued_reports() {
        let bank = Bank {
            files: vec![
                Served {
                    name: "a.sta".into(),
                    format: "raw",
                    content_type: HeaderValue::from_static("application/octet-stream"),
                    bytes: Bytes::from_static(b"A"),
                    available_at: None,
                },
                Served {
                    name: "later.sta".into(),
                    format: "raw",
                    content_type: HeaderValue::from_static("application/octet-stream"),
                    bytes: Bytes::from_static(b"B"),
                    available_at: Some(time::macros::datetime!(2026-11-03 06:00 UTC)),
                },
            ],
            auth: None,
            payments: PaymentProfile::default(),
            sftp: None,
        };
        let mut state = BankState::default();
        let now = time::macros::datetime!(2026-11-02 09:00 UTC);
        let receipt = bank
            .receive_payment_file(&mut state, "run.xml", b"<not-a-pain001/>", now)
            .expect("taken");
        assert_eq!(receipt.id, "PMT-1");
        let inbox = bank.inbox(&state, now);
        let names: Vec<&str> = inbox.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["a.sta", "PMT-1-pain.002-1.xml"]);
        let report = String::from_utf8(inbox[1].bytes.to_vec()).expect("UTF-8");
        assert!(report.contains("<GrpSts>RJCT</GrpSts>"), "{report}");
        let later = bank.inbox(&state, time::macros::datetime!(2026-11-03 06:00 UTC));
        assert_eq!(later.len(), 3);
    }

    /// One message keeps the statement's name; several are `STEM-pN.EXT` in order; none is one
    /// empty file (a renderer that wrote nothing is still listed).
    #[test]
    fn a_paginated_statement_is_served_one_file_per_message() {
        let xml = HeaderValue::from_static("application/xml");
        let names = |pages: Vec<Vec<u8>>| -> Vec<(String, Vec<u8>)> {
            paged("stmt.xml", pages, "camt.053.001.08", &xml, None)
                .into_iter()
                .map(|file| (file.name, file.bytes.to_vec()))
                .collect()
        };
        assert_eq!(
            names(vec![b"<a/>".to_vec()]),
            [("stmt.xml".to_owned(), b"<a/>".to_vec())]
        );
        assert_eq!(
            names(vec![b"<1/>".to_vec(), b"<2/>".to_vec(), b"<3/>".to_vec()]),
            [
                ("stmt-p1.xml".to_owned(), b"<1/>".to_vec()),
                ("stmt-p2.xml".to_owned(), b"<2/>".to_vec()),
                ("stmt-p3.xml".to_owned(), b"<3/>".to_vec()),
            ]
        );
        assert_eq!(names(Vec::new()), [("stmt.xml".to_owned(), Vec::new())]);
    }

    #[test]
    fn percent_decoding_reads_escapes_and_refuses_bad_ones() {
        assert_eq!(percent_decode("a%20b.sta").as_deref(), Some("a b.sta"));
        assert_eq!(percent_decode("%C3%BC.sta").as_deref(), Some("ü.sta"));
        assert_eq!(percent_decode("plain").as_deref(), Some("plain"));
        assert_eq!(percent_decode("%2"), None);
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%+1"), None);
        assert_eq!(percent_decode("%FF"), None);
    }

    #[test]
    fn text_files_name_their_charset() {
        assert_eq!(text_type(b":20:STMT\r\n"), "text/plain; charset=utf-8");
        assert_eq!(text_type(b"M\xfcller"), "text/plain; charset=iso-8859-1");
        assert_eq!(raw_type("odd.XML"), "application/xml");
        assert_eq!(raw_type("odd.sta"), "application/octet-stream");
    }
}
