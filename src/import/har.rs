//! `reenact import har`: a scenario from a HAR 1.2 capture (the "HTTP Archive" a browser's
//! developer tools save; W3C Web Performance WG draft "HTTP Archive (HAR) format", 2012).
//!
//! The user names the host of the system under test (`--target-host`). Requests to it become
//! the flow, one `request` step each, in the capture's order, bodies in `payloads/`. Requests to
//! every other host become one mock per host (scheme, host and port), with one stub per method,
//! path and query; a request that repeats answers what the capture saw, in order (`responses`).
//! What a browser adds that says nothing about the incident is left out and counted: static
//! assets, CORS preflights, answers from the browser's cache, non-HTTP URLs.
//!
//! Nothing secret is written: every header, query parameter, cookie and body of the capture is
//! read into one [`Secrets`] set, and every file goes through it (the snapshot rules: secret
//! names, values and shapes). Secret request headers (`Authorization`, `Cookie`) are dropped
//! from the flow, and the notes say how to add them back from the environment.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use base64::Engine as _;
use reqwest::Url;
use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::stubs::{
    Answer, Body, MockPlan, holds_braces, keep_response_header, pretty, stubs_yaml, usable,
    write_stub_payloads,
};
use super::{Imported, learn_body, quoted, slug};
use crate::scenario::yaml::MAX_INPUT_BYTES;
use crate::secrets::{Secrets, is_secret_name, is_secret_param};

/// Largest HAR file read (128 MiB): a long browser session with bodies stays well below.
pub(crate) const MAX_HAR_BYTES: usize = 128 * 1024 * 1024;

/// Most entries a capture may hold.
pub(crate) const MAX_ENTRIES: usize = 20_000;

/// A HAR file, the parts the importer reads (unknown fields are ignored, as the format allows
/// custom fields starting with `_`).
#[derive(Debug, Deserialize)]
pub(crate) struct Har {
    log: Log,
}

#[derive(Debug, Deserialize)]
struct Log {
    entries: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
struct Entry {
    #[serde(rename = "startedDateTime", default)]
    started: String,
    request: Request,
    response: Response,
    /// Chrome's resource type (`document`, `xhr`, `fetch`, `script`, `image`, …).
    #[serde(rename = "_resourceType", default)]
    resource_type: Option<String>,
    /// Chrome: `disk` or `memory` when the browser's cache answered.
    #[serde(rename = "_fromCache", default)]
    from_cache: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct Request {
    method: String,
    url: String,
    #[serde(default)]
    headers: Vec<Pair>,
    #[serde(default)]
    cookies: Vec<Pair>,
    #[serde(rename = "postData", default)]
    post_data: Option<PostData>,
}

#[derive(Debug, Deserialize)]
struct PostData {
    #[serde(rename = "mimeType", default)]
    mime_type: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    params: Vec<Pair>,
}

#[derive(Debug, Deserialize)]
struct Response {
    status: i64,
    #[serde(default)]
    headers: Vec<Pair>,
    #[serde(default)]
    cookies: Vec<Pair>,
    #[serde(default)]
    content: Content,
}

#[derive(Debug, Default, Deserialize)]
struct Content {
    #[serde(default)]
    size: i64,
    #[serde(rename = "mimeType", default)]
    mime_type: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    encoding: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Pair {
    name: String,
    #[serde(default)]
    value: String,
}

/// Why a capture cannot be imported.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HarError {
    /// Not JSON, or not the shape of a HAR.
    #[error("not a HAR file: {message} at line {line}, column {column}")]
    Syntax {
        /// What serde said.
        message: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// More entries than [`MAX_ENTRIES`].
    #[error("the capture holds {count} entries, more than {MAX_ENTRIES}")]
    TooManyEntries {
        /// How many.
        count: usize,
    },
    /// No request of the capture went to the target host.
    #[error("no request of the capture went to `{host}`")]
    NoTargetRequests {
        /// The host asked for.
        host: String,
        /// Hosts the capture did reach (authority, requests), most requests first.
        hosts: Vec<(String, usize)>,
    },
    /// The scenario would be larger than the loader reads.
    #[error(
        "the scenario would be {bytes} bytes, more than the {MAX_INPUT_BYTES} a scenario file may hold"
    )]
    TooLarge {
        /// Its size.
        bytes: usize,
    },
}

/// Parse a HAR file's bytes.
pub(crate) fn parse(bytes: &[u8]) -> Result<Har, HarError> {
    let har: Har = serde_json::from_slice(bytes).map_err(|err| HarError::Syntax {
        message: err
            .to_string()
            .split(" at line ")
            .next()
            .unwrap_or_default()
            .to_owned(),
        line: err.line(),
        column: err.column(),
    })?;
    if har.log.entries.len() > MAX_ENTRIES {
        return Err(HarError::TooManyEntries {
            count: har.log.entries.len(),
        });
    }
    Ok(har)
}

/// Which requests are the target's: a host, and a port when one was given.
#[derive(Debug, Clone)]
pub(crate) struct TargetHost {
    host: String,
    port: Option<u16>,
}

impl TargetHost {
    /// `host` or `host:port` (a URL is accepted too: its host and explicit port are taken).
    pub(crate) fn parse(text: &str) -> Option<TargetHost> {
        let text = text.trim();
        let url = if text.contains("://") {
            Url::parse(text).ok()?
        } else {
            Url::parse(&format!("http://{text}")).ok()?
        };
        let host = url.host_str()?.to_ascii_lowercase();
        (url.path() == "/" && url.query().is_none()).then_some(TargetHost {
            host,
            port: url.port(),
        })
    }

    fn matches(&self, url: &Url) -> bool {
        url.host_str()
            .is_some_and(|host| host.eq_ignore_ascii_case(&self.host))
            && self
                .port
                .is_none_or(|port| url.port_or_known_default() == Some(port))
    }
}

/// What the import is named after and where its files go.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// The target's host.
    pub(crate) target: TargetHost,
    /// The scenario's id (also its file name and payload folder).
    pub(crate) id: String,
    /// How the capture is named in the scenario's title and header (its file name).
    pub(crate) source: String,
    /// The command line that made it, for the header comment.
    pub(crate) command: String,
}

/// A flow step being assembled.
struct StepPlan {
    name: String,
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Option<String>,
    answered: Option<u16>,
}

/// Counters of what was left out, for the notes.
#[derive(Default)]
struct Left {
    reasons: BTreeMap<&'static str, usize>,
    secret_headers: BTreeSet<String>,
    secret_header_requests: usize,
    set_cookies: usize,
    unanswered: Vec<String>,
    bodies: Vec<String>,
    /// `Location` headers pointed at a mock: how many, and a target-host one left as captured.
    redirects_to_mocks: usize,
    redirects_to_target: usize,
}

/// Build the scenario folder's files from a parsed capture. The returned [`Secrets`] hold every
/// secret the capture carried: write every file through them.
pub(crate) fn import(har: &Har, options: &Options) -> Result<(Imported, Secrets), HarError> {
    let secrets = collect_secrets(&har.log.entries);
    let mut left = Left::default();
    let mut hosts: BTreeMap<String, usize> = BTreeMap::new();
    let mut steps: Vec<StepPlan> = Vec::new();
    let mut mocks: Vec<MockPlan> = Vec::new();
    let mut files: Vec<(String, String)> = Vec::new();
    let mut payload_bytes = 0usize;
    let mut first_started: Option<OffsetDateTime> = None;

    for entry in &har.log.entries {
        let Ok(url) = Url::parse(&entry.request.url) else {
            *left.reasons.entry("URLs that do not parse").or_default() += 1;
            continue;
        };
        if let Some(reason) = left_out(entry, &url) {
            *left.reasons.entry(reason).or_default() += 1;
            continue;
        }
        let authority = authority(&url);
        *hosts.entry(authority.clone()).or_default() += 1;
        if first_started.is_none() {
            first_started = OffsetDateTime::parse(&entry.started, &Rfc3339).ok();
        }
        let method = entry.request.method.to_ascii_uppercase();
        if options.target.matches(&url) {
            let index = steps.len() + 1;
            let mut headers = Vec::new();
            let mut dropped = false;
            for header in &entry.request.headers {
                let name = header.name.to_ascii_lowercase();
                if is_secret_name(&name) {
                    left.secret_headers.insert(name);
                    dropped = true;
                } else if keep_request_header(&name) {
                    headers.push((name, header.value.clone()));
                }
            }
            left.secret_header_requests += usize::from(dropped);
            let body = request_body(&entry.request).and_then(|(text, mime)| {
                let what = format!("the body of flow step {index} (`{method} {}`)", url.path());
                usable(text, &mime, &what, &mut left.bodies, &mut payload_bytes)
            });
            let body = body.map(|body| {
                let (file, text) = match body {
                    Body::Json(value) => {
                        headers.retain(|(name, _)| name != "content-type");
                        (
                            format!("payloads/{}/step-{index}.json", options.id),
                            pretty(&value),
                        )
                    }
                    // A step's body file is a template: braces of its own are escaped.
                    Body::Text(text, ext) => (
                        format!("payloads/{}/step-{index}.{ext}", options.id),
                        if holds_braces(&text) {
                            crate::scenario::template::escape(&text)
                        } else {
                            text
                        },
                    ),
                };
                files.push((file.clone(), text));
                file
            });
            let path = match url.query() {
                Some(query) => format!("{}?{query}", url.path()),
                None => url.path().to_owned(),
            };
            steps.push(StepPlan {
                name: format!("{method} {}", url.path()),
                method,
                path,
                headers,
                body,
                answered: u16::try_from(entry.response.status)
                    .ok()
                    .filter(|status| (100..=599).contains(status)),
            });
            continue;
        }

        let mock_index = match mocks.iter().position(|mock| mock.host == authority) {
            Some(found) => found,
            None => {
                let name = mock_name(&url, &mocks);
                mocks.push(MockPlan::new(name, authority.clone()));
                mocks.len() - 1
            }
        };
        let status = u16::try_from(entry.response.status)
            .ok()
            .filter(|status| (100..=599).contains(status));
        let Some(status) = status else {
            left.unanswered.push(format!(
                "`{method} {}` to mock `{}`",
                url.path(),
                mocks[mock_index].name
            ));
            continue;
        };
        let mut headers = Vec::new();
        for header in &entry.response.headers {
            let name = header.name.to_ascii_lowercase();
            if name == "set-cookie" {
                left.set_cookies += 1;
            } else if keep_response_header(&name) && !is_secret_name(&name) {
                headers.push((name, header.value.clone()));
            }
        }
        let mock = &mut mocks[mock_index];
        let what = format!(
            "the answer to `{method} {}` (mock `{}`)",
            url.path(),
            mock.name
        );
        let body = response_body(&entry.response, &what, &mut left).and_then(|(text, mime)| {
            usable(text, &mime, &what, &mut left.bodies, &mut payload_bytes)
        });
        let body = body.map(|body| match body {
            Body::Json(value) => (pretty(&value), "json"),
            Body::Text(text, ext) => (text, ext),
        });
        mock.add(
            method,
            &url,
            Answer {
                status,
                headers,
                body,
            },
        );
    }

    if steps.is_empty() {
        let mut hosts: Vec<(String, usize)> = hosts.into_iter().collect();
        hosts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        return Err(HarError::NoTargetRequests {
            host: match options.target.port {
                Some(port) => format!("{}:{port}", options.target.host),
                None => options.target.host.clone(),
            },
            hosts,
        });
    }

    point_redirects_at_mocks(&mut mocks, &options.target, &mut left);
    let stub_files =
        write_stub_payloads(&mut mocks, &format!("payloads/{}", options.id), &mut files);
    let notes = notes(&left, &mocks, &options.target);
    let scenario = scenario_text(options, first_started, &mocks, &stub_files, &steps, &notes);
    if scenario.len() > MAX_INPUT_BYTES {
        return Err(HarError::TooLarge {
            bytes: scenario.len(),
        });
    }
    let stubs: usize = mocks.iter().map(|mock| mock.stub_count()).sum();
    let summary = format!(
        "{} step{}, {} mock{} with {stubs} stub{}, {} payload file{}",
        steps.len(),
        plural(steps.len()),
        mocks.len(),
        plural(mocks.len()),
        plural(stubs),
        files.len(),
        plural(files.len()),
    );
    let scenario_file = format!("{}.yaml", options.id);
    files.insert(0, (scenario_file.clone(), scenario));
    Ok((
        Imported {
            scenario: scenario_file,
            files,
            notes,
            summary,
        },
        secrets,
    ))
}

/// Point each `Location` of a mock's answer that names a captured host at that host's mock
/// (`https://login.idp.test/authorize?x=1` → `{{ mocks.idp-login.url }}/authorize?x=1`), so that
/// a target following the redirect stays with the run's mocks and never reaches the real host.
/// Relative locations stay as they are (they resolve against the mock that answered).
fn point_redirects_at_mocks(mocks: &mut [MockPlan], target: &TargetHost, left: &mut Left) {
    let hosts: Vec<(String, String)> = mocks
        .iter()
        .map(|mock| (mock.host.clone(), mock.name.clone()))
        .collect();
    for mock in mocks.iter_mut() {
        for answer in mock.answers_mut() {
            for (name, value) in &mut answer.headers {
                if name != "location" || value.contains("{{") {
                    continue;
                }
                let Ok(url) = Url::parse(value) else {
                    continue;
                };
                if target.matches(&url) {
                    left.redirects_to_target += 1;
                    continue;
                }
                let Some((_, mock_name)) = hosts.iter().find(|(host, _)| *host == authority(&url))
                else {
                    continue;
                };
                let mut rest = url.path().to_owned();
                if let Some(query) = url.query() {
                    rest.push('?');
                    rest.push_str(query);
                }
                if let Some(fragment) = url.fragment() {
                    rest.push('#');
                    rest.push_str(fragment);
                }
                *value = format!("{{{{ mocks.{mock_name}.url }}}}{rest}");
                left.redirects_to_mocks += 1;
            }
        }
    }
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

/// Every secret the capture carries: secret headers and cookies, secret query parameters and
/// form fields, secret JSON keys and secret pairs in text bodies.
fn collect_secrets(entries: &[Entry]) -> Secrets {
    let mut secrets = Secrets::new();
    for entry in entries {
        let request = &entry.request;
        secrets.add_text(&request.url);
        if let Some((_, query)) = request.url.split_once('?') {
            secrets.add_form(query);
        }
        for header in request.headers.iter().chain(&entry.response.headers) {
            secrets.add_header(&header.name, &header.value);
        }
        for cookie in request.cookies.iter().chain(&entry.response.cookies) {
            secrets.add(&cookie.value);
        }
        if let Some(post) = &request.post_data {
            if let Some(text) = &post.text {
                learn_body(&mut secrets, text);
            }
            for param in &post.params {
                if is_secret_param(&param.name) {
                    secrets.add(&param.value);
                }
            }
        }
        if let Some(text) = &entry.response.content.text {
            match decoded(&entry.response.content) {
                Some(text) => learn_body(&mut secrets, &text),
                None => learn_body(&mut secrets, text),
            }
        }
    }
    secrets
}

/// Why a browser's entry says nothing about the incident, if it does not.
fn left_out(entry: &Entry, url: &Url) -> Option<&'static str> {
    if !matches!(url.scheme(), "http" | "https") {
        return Some("requests that are not HTTP (data:, blob:, ws:, extensions)");
    }
    if entry
        .from_cache
        .as_ref()
        .is_some_and(|cache| matches!(cache, Value::String(s) if !s.is_empty()))
    {
        return Some("answers from the browser's cache");
    }
    let method = entry.request.method.to_ascii_uppercase();
    if method == "OPTIONS"
        && entry
            .request
            .headers
            .iter()
            .any(|h| h.name.eq_ignore_ascii_case("access-control-request-method"))
    {
        return Some("CORS preflights");
    }
    let resource = entry.resource_type.as_deref().unwrap_or("");
    let mime = entry.response.content.mime_type.to_ascii_lowercase();
    let path = url.path().to_ascii_lowercase();
    let asset_extension = [
        ".js", ".mjs", ".css", ".map", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".ico", ".webp",
        ".woff", ".woff2", ".ttf", ".otf", ".mp4", ".webm",
    ]
    .iter()
    .any(|ext| path.ends_with(ext));
    let asset = matches!(
        resource,
        "script" | "stylesheet" | "image" | "font" | "media" | "manifest" | "texttrack"
    ) || mime.starts_with("image/")
        || mime.starts_with("font/")
        || mime.starts_with("video/")
        || mime.starts_with("audio/")
        || mime.contains("css")
        || mime.contains("javascript")
        || (method == "GET" && asset_extension);
    asset.then_some("static assets (scripts, style sheets, images, fonts, media)")
}

/// `scheme://host:port` of a URL, the port only when it is not the scheme's default.
fn authority(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    }
}

/// A mock's name from its host: the registered name first (`api.xero.com` → `xero-api`,
/// `identity.xero.com` → `xero-identity`), made unique.
fn mock_name(url: &Url, mocks: &[MockPlan]) -> String {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let ip = host.starts_with('[') || host.parse::<std::net::IpAddr>().is_ok();
    let base = if ip || host == "localhost" {
        None
    } else {
        let labels: Vec<&str> = host.split('.').collect();
        let mut ordered: Vec<&str> = Vec::new();
        if labels.len() >= 2 {
            ordered.push(labels[labels.len() - 2]);
            ordered.extend(labels[..labels.len() - 2].iter().filter(|l| **l != "www"));
        } else {
            ordered.extend(&labels);
        }
        slug(&ordered.join("-"))
    };
    let base = base.unwrap_or_else(|| "mock".to_owned());
    let taken = |name: &str| mocks.iter().any(|mock| mock.name == name);
    if !taken(&base) {
        return base;
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|name| !taken(name))
        .unwrap_or(base)
}

/// Request headers the flow keeps: the body's type, what the client accepts, idempotency keys
/// and custom `X-` headers. What the browser adds on its own (`User-Agent`, `Sec-*`, `Origin`,
/// `Referer`, …) is not the incident.
fn keep_request_header(name: &str) -> bool {
    matches!(
        name,
        "content-type" | "accept" | "idempotency-key" | "if-match" | "if-none-match"
    ) || (name.starts_with("x-") && name != "x-requested-with")
}

/// A request's body text and media type: `postData.text`, or its `params` form-encoded.
fn request_body(request: &Request) -> Option<(String, String)> {
    let post = request.post_data.as_ref()?;
    let text = match &post.text {
        Some(text) => text.clone(),
        None if !post.params.is_empty() => form_urlencoded::Serializer::new(String::new())
            .extend_pairs(post.params.iter().map(|p| (&p.name, &p.value)))
            .finish(),
        None => return None,
    };
    (!text.is_empty()).then(|| (text, post.mime_type.clone()))
}

/// A response's body text (base64 decoded) and media type; a body the capture left out or that
/// is not text is noted.
fn response_body(response: &Response, what: &str, left: &mut Left) -> Option<(String, String)> {
    let content = &response.content;
    let mime = content.mime_type.clone();
    match &content.text {
        None if content.size > 0 => {
            left.bodies.push(format!(
                "{what}: the capture has no body text (saved without content?)"
            ));
            None
        }
        None => None,
        Some(text) if text.is_empty() => None,
        Some(text) => match content.encoding.as_deref() {
            Some(encoding) if encoding.eq_ignore_ascii_case("base64") => match decoded(content) {
                Some(text) => Some((text, mime)),
                None => {
                    left.bodies.push(format!(
                        "{what}: the body is binary; a body file must be UTF-8 text"
                    ));
                    None
                }
            },
            _ => Some((text.clone(), mime)),
        },
    }
}

/// Base64 content decoded as UTF-8 text, if it is base64 and text.
fn decoded(content: &Content) -> Option<String> {
    let text = content.text.as_deref()?;
    if !content
        .encoding
        .as_deref()
        .is_some_and(|e| e.eq_ignore_ascii_case("base64"))
    {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .ok()?;
    String::from_utf8(bytes).ok()
}

/// What the user must still fill in, and what was left out.
fn notes(left: &Left, mocks: &[MockPlan], target: &TargetHost) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(mock) = mocks.first() {
        notes.push(format!(
            "How the target reaches the mocks: a capture cannot say. Point the target's settings at \
             each mock in `target.env` (e.g. `VENDOR_URL: \"{{{{ mocks.{}.url }}}}\"`); on the docker \
             backend each mock also answers to its original host name (`hostnames`).",
            mock.name
        ));
    }
    notes.push(
        "What correct looks like: the capture shows what happened, not what should have. Add \
         `expect:` (docs/scenario-format.md, \"Expectations\"); each step's answer in the capture \
         is in a comment under it."
            .to_owned(),
    );
    if !left.secret_headers.is_empty() {
        let names: Vec<String> = left
            .secret_headers
            .iter()
            .map(|name| format!("`{name}`"))
            .collect();
        notes.push(format!(
            "Secret headers {} were dropped from {} request{} to `{}`: add them back from the \
             environment, e.g. `headers: {{ authorization: \"Bearer {{{{ env.TOKEN }}}}\" }}`.",
            names.join(", "),
            left.secret_header_requests,
            plural(left.secret_header_requests),
            target.host
        ));
    }
    if left.set_cookies > 0 {
        notes.push(format!(
            "`Set-Cookie` headers of mock answers were dropped (their values are secrets): {}.",
            left.set_cookies
        ));
    }
    if left.redirects_to_mocks > 0 {
        notes.push(format!(
            "`Location` headers of mock answers that named a captured host now name its mock \
             (`{{{{ mocks.NAME.url }}}}`), so a target that follows them stays with the run's mocks: {}.",
            left.redirects_to_mocks
        ));
    }
    if left.redirects_to_target > 0 {
        notes.push(format!(
            "`Location` headers of mock answers that name the target host `{}` are kept as \
             captured: point them at the target the run starts if it must follow them: {}.",
            target.host, left.redirects_to_target
        ));
    }
    for unanswered in &left.unanswered {
        notes.push(format!(
            "{unanswered} got no answer in the capture (status 0: a timeout, a reset or a \
             blocked request); it has no stub. To reproduce it, add a fault (docs/scenario-format.md, \"Faults\")."
        ));
    }
    notes.extend(left.bodies.iter().cloned());
    for (reason, count) in &left.reasons {
        notes.push(format!("Left out {reason}: {count}."));
    }
    notes
}

/// The scenario file's text.
fn scenario_text(
    options: &Options,
    started: Option<OffsetDateTime>,
    mocks: &[MockPlan],
    stub_files: &[Vec<Vec<Option<String>>>],
    steps: &[StepPlan],
    notes: &[String],
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Imported from {} by `{}`.",
        options.source, options.command
    );
    out.push_str("# What the capture could not say, and what was left out:\n");
    for note in notes {
        let _ = writeln!(out, "# - {note}");
    }
    let _ = writeln!(out, "id: {}", options.id);
    let _ = writeln!(
        out,
        "title: {}",
        quoted(&format!(
            "Imported from {}: {} request{} to {}",
            options.source,
            steps.len(),
            plural(steps.len()),
            options.target.host
        ))
    );
    if let Some(started) = started {
        let utc = started.to_offset(time::UtcOffset::UTC);
        if let Ok(text) = utc.format(&Rfc3339) {
            let _ = writeln!(out, "clock: {{ start: {text} }}   # when the capture began");
        }
    }
    if !mocks.is_empty() {
        out.push_str("\nmocks:\n");
    }
    for (mock, files) in mocks.iter().zip(stub_files) {
        let _ = writeln!(out, "  {}:   # {}", mock.name, mock.host);
        let host = mock
            .host
            .split("://")
            .nth(1)
            .unwrap_or_default()
            .split(':')
            .next()
            .unwrap_or_default();
        if hostname_allowed(host) {
            let _ = writeln!(out, "    hostnames: [{}]", quoted(host));
        }
        out.push_str("    stubs:\n");
        out.push_str(&stubs_yaml(mock, files, "      ", "the capture"));
    }
    // The first page the target answered 2xx to a plain `GET` is a fair readiness probe.
    let probe = steps.iter().find(|step| {
        step.method == "GET"
            && !step.path.contains('?')
            && step.answered.is_some_and(|s| (200..300).contains(&s))
    });
    let hint = |out: &mut String, indent: &str| {
        if let Some(mock) = mocks.first() {
            let _ = writeln!(
                out,
                "{indent}# env:     # point the target's settings at the mocks, e.g."
            );
            let _ = writeln!(
                out,
                "{indent}#   VENDOR_URL: \"{{{{ mocks.{}.url }}}}\"",
                mock.name
            );
        }
    };
    match probe {
        Some(step) => {
            out.push_str("\n# How the target runs comes from reenact.toml or --target.\ntarget:\n");
            let _ = writeln!(
                out,
                "  ready: {{ http: {}, within: 10s }}   # a page it answered in the capture",
                quoted(&format!("GET {}", step.path))
            );
            hint(&mut out, "  ");
        }
        None => {
            out.push_str(
                "\n# How the target runs comes from reenact.toml or --target.\n# target:\n",
            );
            hint(&mut out, "#   ");
            out.push_str("#   ready: { http: GET /healthz, within: 10s }\n");
        }
    }
    out.push_str("\nflow:\n");
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    for step in steps {
        let seen = names.entry(step.name.clone()).or_default();
        *seen += 1;
        let name = match *seen {
            1 => step.name.clone(),
            n => format!("{} ({n})", step.name),
        };
        let _ = writeln!(out, "  - name: {}", quoted(&name));
        let mut request = format!(
            "method: {}, path: {}",
            quoted(&step.method),
            quoted(&step.path)
        );
        if !step.headers.is_empty() {
            let headers: Vec<String> = step
                .headers
                .iter()
                .map(|(name, value)| format!("{}: {}", quoted(name), quoted(value)))
                .collect();
            let _ = write!(request, ", headers: {{ {} }}", headers.join(", "));
        }
        if let Some(file) = &step.body {
            let key = if file.ends_with(".json") {
                "json_file"
            } else {
                "body_file"
            };
            let _ = write!(request, ", {key}: {}", quoted(file));
        }
        let _ = writeln!(out, "    request: {{ {request} }}");
        match step.answered {
            Some(status) => {
                let _ = writeln!(out, "    # the capture's answer: {status}");
            }
            None => out.push_str(
                "    # the capture has no answer (a timeout, a reset or a blocked request)\n",
            ),
        }
    }
    out
}

/// Whether a host may be a mock's `hostnames` entry: a DNS name, not an address or `localhost`.
fn hostname_allowed(host: &str) -> bool {
    host != "localhost"
        && host.contains('.')
        && host.parse::<std::net::IpAddr>().is_err()
        && !host.starts_with('[')
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn a_target_host_matches_its_host_and_its_port_when_given() {
        let host = TargetHost::parse("App.Acme.test").unwrap();
        assert!(host.matches(&url("https://app.acme.test/x")));
        assert!(host.matches(&url("http://app.acme.test:8080/x")));
        assert!(!host.matches(&url("https://api.acme.test/x")));
        let port = TargetHost::parse("localhost:8080").unwrap();
        assert!(port.matches(&url("http://localhost:8080/")));
        assert!(!port.matches(&url("http://localhost:8081/")));
        assert!(TargetHost::parse("https://app.acme.test").is_some());
        assert!(TargetHost::parse("https://app.acme.test/login").is_none());
        assert!(TargetHost::parse("").is_none());
    }

    #[test]
    fn mocks_are_named_registered_name_first_and_uniquely() {
        let mut mocks = Vec::new();
        for (address, expected) in [
            ("https://api.xero.com/x", "xero-api"),
            ("https://identity.xero.com/x", "xero-identity"),
            ("https://www.example.com/", "example"),
            ("http://127.0.0.1:9000/", "mock"),
            ("http://localhost:9001/", "mock-2"),
            ("https://api.xero.com:8443/", "xero-api-2"),
        ] {
            let name = mock_name(&url(address), &mocks);
            assert_eq!(name, expected, "{address}");
            mocks.push(MockPlan::new(name, address.to_owned()));
        }
    }

    #[test]
    fn hostnames_are_dns_names_only() {
        assert!(hostname_allowed("api.vendor.test"));
        assert!(!hostname_allowed("localhost"));
        assert!(!hostname_allowed("10.0.0.1"));
        assert!(!hostname_allowed("intranet"));
        assert!(!hostname_allowed("bad-.example.com"));
    }

    #[test]
    fn a_redirect_to_a_captured_host_points_at_its_mock() {
        let entry = |method: &str, url: &str, status: u16, location: Option<&str>| {
            let headers = location.map_or_else(String::new, |to| {
                format!(r#"{{"name": "Location", "value": "{to}"}}"#)
            });
            format!(
                r#"{{"startedDateTime": "2026-11-30T09:00:00Z", "request": {{"method": "{method}", "url": "{url}", "headers": []}}, "response": {{"status": {status}, "headers": [{headers}], "content": {{}}}}}}"#
            )
        };
        let entries = [
            entry("GET", "https://app.acme.test/login", 200, None),
            entry(
                "GET",
                "https://sso.vendor.test/start",
                302,
                Some("https://login.vendor.test/authorize?client=app#top"),
            ),
            entry(
                "GET",
                "https://login.vendor.test/authorize?client=app",
                200,
                None,
            ),
            entry(
                "GET",
                "https://login.vendor.test/done",
                302,
                Some("https://app.acme.test/callback?code=c"),
            ),
            entry(
                "GET",
                "https://login.vendor.test/elsewhere",
                302,
                Some("https://other.test/x"),
            ),
            entry(
                "GET",
                "https://login.vendor.test/relative",
                302,
                Some("/authorize"),
            ),
        ];
        let har = parse(format!(r#"{{"log": {{"entries": [{}]}}}}"#, entries.join(",")).as_bytes())
            .unwrap();
        let options = Options {
            target: TargetHost::parse("app.acme.test").unwrap(),
            id: "sso".into(),
            source: "sso.har".into(),
            command: "reenact import har sso.har".into(),
        };
        let (imported, _) = import(&har, &options).unwrap();
        let scenario = &imported.files[0].1;
        let name = |host: &str| mock_name(&url(host), &[]);
        let login = name("https://login.vendor.test/");
        for (kept, why) in [
            (
                format!("{{{{ mocks.{login}.url }}}}/authorize?client=app#top"),
                "a captured host becomes its mock",
            ),
            (
                "https://app.acme.test/callback?code=c".to_owned(),
                "the target host stays",
            ),
            (
                "https://other.test/x".to_owned(),
                "an uncaptured host stays",
            ),
            ("/authorize".to_owned(), "a relative location stays"),
        ] {
            assert!(
                scenario.contains(&kept),
                "{why}: no `{kept}` in\n{scenario}"
            );
        }
        assert!(
            imported
                .notes
                .iter()
                .any(|n| n.contains("stays with the run's mocks: 1."))
        );
        assert!(
            imported
                .notes
                .iter()
                .any(|n| n.contains("name the target host `app.acme.test`"))
        );
    }

    #[test]
    fn an_answer_holding_braces_is_sent_as_written_and_a_step_body_escapes_them() {
        let har = r#"{"log": {"entries": [
            {"startedDateTime": "2026-11-30T09:00:00Z",
             "request": {"method": "POST", "url": "https://app.acme.test/render", "headers": [],
                         "postData": {"mimeType": "text/plain", "text": "Dear {{ name }}"}},
             "response": {"status": 200, "headers": [], "content": {}}},
            {"startedDateTime": "2026-11-30T09:00:01Z",
             "request": {"method": "GET", "url": "https://cdn.vendor.test/app", "headers": []},
             "response": {"status": 200,
                          "headers": [{"name": "Content-Type", "value": "text/html"}],
                          "content": {"mimeType": "text/html", "text": "<p>{{ user.name }}</p><script>if (a) { b(); }}</script>"}}}
        ]}}"#;
        let options = Options {
            target: TargetHost::parse("app.acme.test").unwrap(),
            id: "braces".into(),
            source: "braces.har".into(),
            command: "reenact import har braces.har".into(),
        };
        let (imported, _) = import(&parse(har.as_bytes()).unwrap(), &options).unwrap();
        let scenario = &imported.files[0].1;
        assert!(scenario.contains(", template: false }"), "{scenario}");
        let page = imported
            .files
            .iter()
            .find(|(name, _)| name.ends_with(".html"))
            .unwrap_or_else(|| panic!("{:?}", imported.files));
        assert_eq!(
            page.1,
            "<p>{{ user.name }}</p><script>if (a) { b(); }}</script>"
        );
        let step = imported
            .files
            .iter()
            .find(|(name, _)| name.contains("step-1"))
            .unwrap_or_else(|| panic!("{:?}", imported.files));
        assert_eq!(step.1, r#"Dear {{ "{{" }} name }{{ "}" }}"#);
        let rendered = crate::scenario::template::Template::parse(&step.1).unwrap();
        assert_eq!(
            rendered.render(&|_: &[String]| None).unwrap(),
            "Dear {{ name }}"
        );
    }

    #[test]
    fn a_har_with_too_many_entries_or_the_wrong_shape_is_refused() {
        assert!(matches!(
            parse(b"{\"log\": {}}"),
            Err(HarError::Syntax { .. })
        ));
        assert!(matches!(
            parse(b"[]"),
            Err(HarError::Syntax { line: 1, .. })
        ));
        let entry = r#"{"request": {"method": "GET", "url": "http://a.test/"}, "response": {"status": 200}}"#;
        let many = format!(
            "{{\"log\": {{\"entries\": [{}]}}}}",
            vec![entry; MAX_ENTRIES + 1].join(",")
        );
        assert!(matches!(
            parse(many.as_bytes()),
            Err(HarError::TooManyEntries { count }) if count == MAX_ENTRIES + 1
        ));
    }
}
