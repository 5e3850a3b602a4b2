//! `reenact record`: a recording proxy in front of a vendor's sandbox. The target is pointed at a
//! loopback port; each request is forwarded to the upstream URL the user named (never anywhere
//! else), its answer goes back unchanged, and the exchange is kept. When recording stops, the
//! exchanges become a mock definition (`mocks/NAME.yaml`) with stubs of what the sandbox answered,
//! through the same assembly as the HAR importer ([`super::stubs`]), redacted by the same rules.
//!
//! Only origin-form requests (`GET /path`) are forwarded. A request in absolute form
//! (`GET http://elsewhere/…`, what a client configured to use an HTTP proxy sends) or a `CONNECT`
//! is refused with `403` and counted: the recorder is not a general proxy. Redirects are passed
//! back, not followed; a redirect to a host the user did not name is noted.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use reqwest::Url;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use super::learn_body;
use super::stubs::{
    Answer, Body, MockPlan, keep_response_header, pretty, stubs_yaml, usable, write_stub_payloads,
};
use crate::secrets::{Secrets, is_secret_name};

/// Largest request or response body the proxy passes (64 MiB); a larger one is refused (`413`
/// for a request, `502` for an answer) and noted.
pub(crate) const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// Most exchanges one upstream keeps; later ones are forwarded but not recorded, and counted.
pub(crate) const MAX_EXCHANGES: usize = 10_000;

/// How long an upstream may take to answer one request.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(60);

/// Headers that belong to one connection (RFC 9110 §7.6.1), never forwarded; `host` is the
/// upstream's, and `accept-encoding` is dropped so that answers arrive as text to record.
const NOT_FORWARDED: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "proxy-authenticate",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "accept-encoding",
    "content-length",
];

/// One request forwarded and what the upstream answered.
struct Exchange {
    method: String,
    /// The request's path and query, as the client sent it.
    path_and_query: String,
    request_headers: Vec<(String, String)>,
    request_body: Bytes,
    status: u16,
    response_headers: Vec<(String, String)>,
    response_body: Bytes,
}

/// What one upstream's proxy saw.
#[derive(Default)]
struct Log {
    exchanges: Vec<Exchange>,
    /// Requests refused: absolute form, `CONNECT`, bodies over the limit.
    refused: Vec<String>,
    /// Requests the upstream did not answer (connection failed, timed out).
    failed: Vec<String>,
    /// Exchanges forwarded after [`MAX_EXCHANGES`].
    not_kept: usize,
}

/// A running recording proxy for one upstream.
pub(crate) struct Recorder {
    name: String,
    upstream: Url,
    addr: SocketAddr,
    log: Arc<Mutex<Log>>,
    tasks: JoinSet<()>,
}

impl Recorder {
    /// Listen on `127.0.0.1:port` (0: any free port) and forward to `upstream` through `client`
    /// (one that follows no redirect and uses no proxy: [`crate::run::http_client`]).
    pub(crate) async fn start(
        name: String,
        upstream: Url,
        port: u16,
        client: reqwest::Client,
    ) -> std::io::Result<Recorder> {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let log = Arc::new(Mutex::new(Log::default()));
        let mut tasks = JoinSet::new();
        let shared = Arc::new((upstream.clone(), client, log.clone()));
        tasks.spawn(async move {
            let mut connections = JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                let shared = shared.clone();
                connections.spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let shared = shared.clone();
                        async move {
                            let (upstream, client, log) = &*shared;
                            Ok::<_, std::convert::Infallible>(
                                forward(request, upstream, client, log).await,
                            )
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Recorder {
            name,
            upstream,
            addr,
            log,
            tasks,
        })
    }

    /// The URL the target should use instead of the upstream's.
    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The mock's name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The upstream URL.
    pub(crate) fn upstream(&self) -> &Url {
        &self.upstream
    }

    /// Stop listening and turn what was recorded into a mock definition: its files (the YAML
    /// first, named `NAME.yaml`; payloads under `payloads/NAME/`, relative to the definition),
    /// the secrets to redact them with, and notes.
    pub(crate) fn finish(mut self, command: &str) -> Recording {
        self.tasks.abort_all();
        let log = std::mem::take(&mut *self.log.lock().unwrap_or_else(|e| e.into_inner()));
        recording(&self.name, &self.upstream, log, command)
    }
}

/// A finished recording.
pub(crate) struct Recording {
    /// Files relative to the mocks folder: `NAME.yaml` first, then `payloads/NAME/…`.
    pub(crate) files: Vec<(String, String)>,
    /// Every secret the exchanges carried.
    pub(crate) secrets: Secrets,
    /// What could not be kept, one sentence each.
    pub(crate) notes: Vec<String>,
    /// How many requests were recorded.
    pub(crate) requests: usize,
    /// How many stubs they became.
    pub(crate) stubs: usize,
}

/// Forward one request to the upstream, keep the exchange, answer what the upstream answered.
async fn forward(
    request: Request<Incoming>,
    upstream: &Url,
    client: &reqwest::Client,
    log: &Mutex<Log>,
) -> Response<Full<Bytes>> {
    let method = request.method().as_str().to_owned();
    let shown = format!("{method} {}", request.uri());
    let refuse = |status: StatusCode, why: String| {
        let body = serde_json::json!({ "error": why }).to_string();
        let mut response = Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = status;
        response.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("application/json"),
        );
        response
    };
    if request.method() == hyper::Method::CONNECT || request.uri().authority().is_some() {
        lock(log).refused.push(format!(
            "`{shown}`: a proxy-style request; only paths are forwarded"
        ));
        return refuse(
            StatusCode::FORBIDDEN,
            format!(
                "reenact record forwards only to {upstream}: send `METHOD /path`, not a full URL"
            ),
        );
    }
    let path_and_query = request
        .uri()
        .path_and_query()
        .map_or("/", |pq| pq.as_str())
        .to_owned();
    let Some(url) = join(upstream, &path_and_query) else {
        lock(log)
            .refused
            .push(format!("`{shown}`: not a path the upstream URL can take"));
        return refuse(StatusCode::BAD_REQUEST, "not a valid path".to_owned());
    };
    let request_headers = pairs(request.headers());
    let request_body = match Limited::new(request.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            lock(log).refused.push(format!(
                "`{shown}`: the body is over {MAX_BODY_BYTES} bytes or broke off"
            ));
            return refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body is over {MAX_BODY_BYTES} bytes"),
            );
        }
    };
    let mut outgoing = client
        .request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::GET),
            url,
        )
        .timeout(UPSTREAM_TIMEOUT)
        .body(request_body.clone());
    for (name, value) in &request_headers {
        if !NOT_FORWARDED.contains(&name.as_str()) {
            outgoing = outgoing.header(name, value);
        }
    }
    let answer = match outgoing.send().await {
        Ok(answer) => answer,
        Err(err) => {
            let cause = crate::errors::one_line(&err);
            // An unknown issuer is the usual reason with a sandbox behind a private CA.
            let hint = if cause.contains("certificate") || cause.contains("UnknownIssuer") {
                "; if a private CA signed its certificate, give it with `reenact record --ca FILE`"
            } else {
                ""
            };
            lock(log).failed.push(format!(
                "`{shown}`: the upstream did not answer ({cause}){hint}"
            ));
            return refuse(
                StatusCode::BAD_GATEWAY,
                format!("the upstream {upstream} did not answer ({cause}){hint}"),
            );
        }
    };
    let status = answer.status().as_u16();
    let response_headers = pairs(answer.headers());
    let response_body = match read_limited(answer).await {
        Some(body) => body,
        None => {
            lock(log).failed.push(format!(
                "`{shown}`: the answer is over {MAX_BODY_BYTES} bytes or broke off"
            ));
            return refuse(
                StatusCode::BAD_GATEWAY,
                format!("the upstream's answer is over {MAX_BODY_BYTES} bytes or broke off"),
            );
        }
    };
    let mut response = Response::new(Full::new(response_body.clone()));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    for (name, value) in &response_headers {
        if NOT_FORWARDED.contains(&name.as_str()) {
            continue;
        }
        if let (Ok(name), Ok(value)) = (
            hyper::header::HeaderName::from_bytes(name.as_bytes()),
            hyper::header::HeaderValue::from_str(value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    let mut log = lock(log);
    if log.exchanges.len() < MAX_EXCHANGES {
        log.exchanges.push(Exchange {
            method,
            path_and_query,
            request_headers,
            request_body,
            status,
            response_headers,
            response_body,
        });
    } else {
        log.not_kept += 1;
    }
    response
}

/// Headers as (lower-case name, value) pairs, in order.
fn pairs(headers: &hyper::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect()
}

fn lock(log: &Mutex<Log>) -> std::sync::MutexGuard<'_, Log> {
    log.lock().unwrap_or_else(|e| e.into_inner())
}

/// An answer's body, up to [`MAX_BODY_BYTES`].
async fn read_limited(mut answer: reqwest::Response) -> Option<Bytes> {
    let mut body = Vec::new();
    while let Some(chunk) = answer.chunk().await.ok()? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return None;
        }
        body.extend_from_slice(&chunk);
    }
    Some(Bytes::from(body))
}

/// The upstream URL with the request's path appended to its own path, and the request's query.
fn join(upstream: &Url, path_and_query: &str) -> Option<Url> {
    let (path, query) = match path_and_query.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (path_and_query, None),
    };
    if !path.starts_with('/') {
        return None;
    }
    let mut url = upstream.clone();
    let base = upstream.path().trim_end_matches('/');
    url.set_path(&format!("{base}{path}"));
    url.set_query(query);
    // The joined URL must still name the upstream's origin: nothing in a path may move it.
    (url.origin() == upstream.origin()).then_some(url)
}

/// The mock definition of one upstream's exchanges.
fn recording(name: &str, upstream: &Url, log: Log, command: &str) -> Recording {
    let mut secrets = Secrets::new();
    for exchange in &log.exchanges {
        if let Some((_, query)) = exchange.path_and_query.split_once('?') {
            secrets.add_form(query);
        }
        for (header, value) in exchange
            .request_headers
            .iter()
            .chain(&exchange.response_headers)
        {
            secrets.add_header(header, value);
        }
        for body in [&exchange.request_body, &exchange.response_body] {
            if let Ok(text) = std::str::from_utf8(body) {
                learn_body(&mut secrets, text);
            }
        }
    }
    let mut notes = Vec::new();
    let mut mock = MockPlan::new(name.to_owned(), upstream.origin().ascii_serialization());
    let mut payload_bytes = 0;
    let mut set_cookies = 0;
    // The requests are matched relative to the mock's URL, as the target will send them.
    let base = Url::parse("http://mock.invalid").expect("a valid URL");
    for exchange in &log.exchanges {
        let Ok(url) = base.join(&exchange.path_and_query) else {
            continue;
        };
        let mut headers = Vec::new();
        let mut mime = String::new();
        for (header, value) in &exchange.response_headers {
            if header == "set-cookie" {
                set_cookies += 1;
            } else if keep_response_header(header) && !is_secret_name(header) {
                headers.push((header.clone(), value.clone()));
            }
            if header == "content-type" {
                mime = value.clone();
            }
            if header == "location" {
                redirect_note(upstream, value, &mut notes);
            }
        }
        let what = format!("the answer to `{} {}`", exchange.method, url.path());
        let body = match std::str::from_utf8(&exchange.response_body) {
            Ok("") => None,
            Ok(text) => usable(
                text.to_owned(),
                &mime,
                &what,
                &mut notes,
                &mut payload_bytes,
            ),
            Err(_) => {
                notes.push(format!(
                    "{what}: the body is binary; a body file must be UTF-8 text"
                ));
                None
            }
        };
        let body = body.map(|body| match body {
            Body::Json(value) => (pretty(&value), "json"),
            Body::Text(text, ext) => (text, ext),
        });
        mock.add(
            exchange.method.clone(),
            &url,
            Answer {
                status: exchange.status,
                headers,
                body,
            },
        );
    }
    if set_cookies > 0 {
        notes.push(format!(
            "`Set-Cookie` headers of the answers were dropped (their values are secrets): {set_cookies}."
        ));
    }
    notes.extend(log.refused.iter().map(|r| format!("Refused {r}.")));
    notes.extend(log.failed.iter().map(|f| format!("Not recorded: {f}.")));
    if log.not_kept > 0 {
        notes.push(format!(
            "Forwarded but not recorded, past {MAX_EXCHANGES} requests: {}.",
            log.not_kept
        ));
    }
    let mut files = Vec::new();
    let stubs = mock.stub_count();
    let mut mocks = [mock];
    let by_mock = write_stub_payloads(&mut mocks, &format!("payloads/{name}"), &mut files);
    let mut text = format!(
        "# Recorded by `{command}` from {upstream}: {} request{}, {stubs} stub{}.\n",
        log.exchanges.len(),
        if log.exchanges.len() == 1 { "" } else { "s" },
        if stubs == 1 { "" } else { "s" },
    );
    text.push_str(&format!(
        "# Include it in a scenario: `mocks: {{ {name}: {{ include: mocks/{name}.yaml }} }}`, and\n\
         # point the target at `{{{{ mocks.{name}.url }}}}` where it had the sandbox's URL.\n"
    ));
    for note in &notes {
        text.push_str(&format!("# - {note}\n"));
    }
    if stubs == 0 {
        text.push_str("stubs: []\n");
    } else {
        text.push_str("stubs:\n");
        text.push_str(&stubs_yaml(&mocks[0], &by_mock[0], "  ", "the sandbox"));
    }
    files.insert(0, (format!("{name}.yaml"), text));
    Recording {
        files,
        secrets,
        notes,
        requests: log.exchanges.len(),
        stubs,
    }
}

/// A note when the sandbox redirects to a host the recorder does not forward to.
fn redirect_note(upstream: &Url, location: &str, notes: &mut Vec<String>) {
    let Ok(target) = upstream.join(location) else {
        return;
    };
    if target.origin() != upstream.origin() {
        let note = format!(
            "The sandbox redirected to {}, which is not recorded: a target that follows it \
             reaches the real host. Record it too with another `--upstream NAME={}`.",
            target.origin().ascii_serialization(),
            target.origin().ascii_serialization()
        );
        if !notes.contains(&note) {
            notes.push(note);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_join_under_the_upstream_and_never_leave_it() {
        let upstream = Url::parse("https://sandbox.vendor.test/api/v2/").unwrap();
        assert_eq!(
            join(&upstream, "/items?page=2").unwrap().as_str(),
            "https://sandbox.vendor.test/api/v2/items?page=2"
        );
        let bare = Url::parse("https://sandbox.vendor.test").unwrap();
        assert_eq!(
            join(&bare, "/a/b").unwrap().as_str(),
            "https://sandbox.vendor.test/a/b"
        );
        assert!(join(&bare, "items").is_none(), "not a path");
        // A path that looks like another authority stays a path on the upstream.
        let sneaky = join(&bare, "//evil.test/x").unwrap();
        assert_eq!(sneaky.host_str(), Some("sandbox.vendor.test"));
        let dotted = join(&upstream, "/../../../x").unwrap();
        assert_eq!(dotted.host_str(), Some("sandbox.vendor.test"));
    }

    #[test]
    fn a_redirect_elsewhere_is_noted_once() {
        let upstream = Url::parse("https://sandbox.vendor.test").unwrap();
        let mut notes = Vec::new();
        redirect_note(&upstream, "/next", &mut notes);
        assert!(notes.is_empty());
        redirect_note(
            &upstream,
            "https://login.vendor.test/authorize?x=1",
            &mut notes,
        );
        redirect_note(&upstream, "https://login.vendor.test/other", &mut notes);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("--upstream NAME=https://login.vendor.test"));
    }
}
