//! `provider: bank`, [`Bank`]: a bank that delivers statement files rendered from the scenario's
//! ledger (MT940 in `mt940.rs`, BAI2 in `bai2.rs`, camt.053 in `camt.rs`) or given as they are,
//! over HTTP: `GET /statements` lists the files available at the virtual now, `GET
//! /statements/{name}` downloads one, each behind the scenario's `auth` if it sets one. Every file
//! is rendered once when the mock starts (the ledger is static). With `sftp:` the same files are
//! served over SFTP too (`crate::mock::sftp`, through [`Bank::inbox`] and
//! [`Bank::receive_payment_file`]). Settings:
//! [`BankSettings`](crate::scenario::model::BankSettings); documented in `docs/providers/bank.md`.

mod amounts;
pub(crate) mod bai2;
pub(crate) mod camt;
mod charset;
pub(crate) mod mt940;
#[cfg(test)]
mod properties;

use bytes::Bytes;
use hyper::header::{ALLOW, CONTENT_DISPOSITION, CONTENT_TYPE, HeaderValue, WWW_AUTHENTICATE};
use hyper::{Response, StatusCode};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::kit::Fake;
use super::{ProviderAnswer, ProviderRequest};
use crate::mock::engine::json_response;
use crate::scenario::model::{
    BankAccount, BankAuth, BankSettings, BankSftp, CamtVersion, StatementContent, StatementFormat,
    page_name,
};

/// The realm the `WWW-Authenticate` challenges name.
const REALM: &str = "bank";
/// The most downloads the state records; later ones are served but not recorded (reenact's
/// bound, so a polling client cannot grow the state without end).
pub(crate) const MAX_RECORDED_DOWNLOADS: usize = 10_000;
/// The most uploads the state records; later ones are refused (a payment file that is not
/// recorded could not be processed).
pub(crate) const MAX_RECORDED_UPLOADS: usize = 10_000;
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
    sftp: Option<BankSftp>,
}

/// What one run of the bank holds: the downloads served, the listings answered and the files
/// uploaded.
#[derive(Debug, Default)]
pub(crate) struct BankState {
    downloads: Vec<Value>,
    listings: u64,
    uploads: Vec<Value>,
}

/// One file a client may download: its name and bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InboxFile {
    /// The name it is listed and downloaded under.
    pub(crate) name: String,
    /// Its bytes.
    pub(crate) bytes: Bytes,
}

/// What the bank says to a payment file it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PaymentReceipt {
    /// The file's name, as uploaded.
    pub(crate) name: String,
}

/// Why the bank refused a payment file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub(crate) struct PaymentRefusal {
    /// The reason, as the client is told it.
    pub(crate) reason: String,
}

/// `now` as the state writes instants: RFC 3339, whole seconds.
fn state_time(now: OffsetDateTime) -> String {
    now.replace_nanosecond(0)
        .unwrap_or(now)
        .format(&Rfc3339)
        .unwrap_or_default()
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
            sftp: settings.sftp,
        }
    }

    /// The SFTP server's settings, when the bank runs one.
    pub(crate) fn sftp(&self) -> Option<&BankSftp> {
        self.sftp.as_ref()
    }

    /// Every file a client may download at `now`: the statement files available (in the order
    /// `GET /statements` lists them).
    pub(crate) fn inbox(&self, state: &BankState, now: OffsetDateTime) -> Vec<InboxFile> {
        let _ = state;
        self.files
            .iter()
            .filter(|file| file.available(now))
            .map(|file| InboxFile {
                name: file.name.clone(),
                bytes: file.bytes.clone(),
            })
            .collect()
    }

    /// Take the payment file `name` a client uploaded at `now`: recorded in the state's
    /// `uploads` (`{name, size, at}`); refused once [`MAX_RECORDED_UPLOADS`] were taken.
    pub(crate) fn receive_payment_file(
        &self,
        state: &mut BankState,
        name: &str,
        body: &[u8],
        now: OffsetDateTime,
    ) -> Result<PaymentReceipt, PaymentRefusal> {
        if state.uploads.len() >= MAX_RECORDED_UPLOADS {
            return Err(PaymentRefusal {
                reason: format!("the bank takes at most {MAX_RECORDED_UPLOADS} files per run"),
            });
        }
        state.uploads.push(json!({
            "name": name,
            "size": body.len(),
            "at": state_time(now),
        }));
        Ok(PaymentReceipt {
            name: name.to_owned(),
        })
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
                "at": state_time(now),
                "channel": channel,
            }));
        }
    }

    /// Count one listing of the files (`GET /statements`, an SFTP directory listing).
    pub(crate) fn record_listing(&self, state: &mut BankState) {
        state.listings = state.listings.saturating_add(1);
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

    /// `{"downloads": [{"name", "at", "channel"}], "listings": N, "uploads": [{"name", "size",
    /// "at"}]}`: what was served and taken, never a credential.
    fn state_json(state: &BankState) -> Value {
        json!({
            "downloads": state.downloads,
            "listings": state.listings,
            "uploads": state.uploads,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
