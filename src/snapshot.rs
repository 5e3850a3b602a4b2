//! Snapshots: the observation normalized, redacted and stored as an insta `.snap` file.
//!
//! Normalization makes two runs of the same behaviour produce the same text: mock and target
//! URLs become `{{ mocks.NAME.url }}` / `{{ target.url }}`, volatile headers are dropped, bodies
//! that are JSON are parsed so JSONPath redaction reaches inside them. Redaction is the run's
//! [`Secrets`](crate::secrets::Secrets) (every secret value it knows, known shapes such as
//! private keys and IBANs, and the values of secret-named keys: Authorization, cookies, tokens,
//! secrets, passwords, keys, account numbers), then whatever the scenario's `snapshot.redact`
//! JSONPaths select. A snapshot file is written only from `Redacted` text (see `crate::secrets`).
//!
//! Files are written in insta's format (front matter, `---`, content) and read back with insta,
//! so `cargo insta review` understands `.snap` and `.snap.new` files. This is the only module
//! that touches insta.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use crate::observe::{Delivery, Hop, Observation};
use crate::secrets::{Redacted, is_secret_param};
use crate::verdict::ExpectationResult;

/// What replaces a redacted value.
pub(crate) use crate::secrets::REDACTED;
/// What replaces a value that differs between repeated runs of one build.
pub(crate) const NOISE: &str = "[noise]";

/// Request headers left out of snapshots: they change from run to run or say nothing.
const VOLATILE_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "user-agent",
    "accept-encoding",
    "date",
];

/// Turn an observation and its expectation results into the normalized, redacted document that
/// snapshots store and validate compares: URLs and ports by name, secrets redacted, plus the
/// JSONPaths in `redact` (a scenario's `snapshot.redact`).
///
/// ```
/// use reenact::observe::Observation;
///
/// let observation = Observation {
///     target_url: "http://127.0.0.1:41234".to_owned(),
///     ..Observation::default()
/// };
/// let document = reenact::snapshot::normalize(&observation, &[], &[]);
/// assert!(document.is_object());
/// assert!(!document.to_string().contains("41234"), "ports are not part of a snapshot");
/// ```
pub fn normalize(
    observation: &Observation,
    expectations: &[ExpectationResult],
    redact: &[String],
) -> Value {
    let urls = UrlNames::new(observation);
    let steps: Vec<Value> = observation
        .steps
        .iter()
        .map(|step| {
            let mut out = Map::new();
            out.insert("name".into(), json!(step.name));
            if let Some(request) = &step.request {
                let mut sent = Map::new();
                sent.insert("method".into(), json!(request.method));
                sent.insert("path".into(), json!(urls.apply(&request.path)));
                if !request.headers.is_empty() {
                    sent.insert("headers".into(), headers(&request.headers, &urls));
                }
                if let Some(mock) = &request.mock {
                    sent.insert("mock".into(), json!(mock));
                }
                if let Some(body) = &request.body {
                    let form = request.headers.iter().any(|(name, value)| {
                        name.eq_ignore_ascii_case("content-type")
                            && value.starts_with("application/x-www-form-urlencoded")
                    });
                    let body = if form {
                        // Parsed, so OAuth codes are redacted as in the mocks' journals.
                        form_value(body)
                    } else {
                        body_value(body, &urls)
                    };
                    sent.insert("body".into(), body);
                }
                out.insert("request".into(), Value::Object(sent));
            }
            if let Some(response) = &step.response {
                let mut received = Map::new();
                received.insert("status".into(), json!(response.status));
                if let Some((_, content_type)) =
                    response.headers.iter().find(|(n, _)| n == "content-type")
                {
                    received.insert("content_type".into(), json!(content_type));
                }
                if !response.body.is_empty() {
                    received.insert("body".into(), body_value(&response.body, &urls));
                }
                out.insert("response".into(), Value::Object(received));
            }
            if !step.deliveries.is_empty() {
                out.insert("deliveries".into(), deliveries(&step.deliveries, &urls));
            }
            if !step.hops.is_empty() {
                out.insert("hops".into(), hops(&step.hops, &urls));
            }
            if !step.captures.is_empty() {
                out.insert("captures".into(), redact_map(&step.captures));
            }
            if let Some(failure) = &step.failure {
                let failure = without_attempt_count(&urls.apply(failure));
                out.insert("failure".into(), json!(failure));
            }
            Value::Object(out)
        })
        .collect();
    let mut mocks = Map::new();
    for (name, journal) in &observation.mocks {
        let requests: Vec<Value> = journal
            .entries
            .iter()
            .map(|entry| {
                let mut out = Map::new();
                out.insert("method".into(), json!(entry.method));
                out.insert("path".into(), json!(urls.apply(&entry.path)));
                if !entry.query.is_empty() {
                    out.insert("query".into(), form_value(&entry.query));
                }
                let kept: Vec<(String, String)> = entry
                    .headers
                    .iter()
                    .filter(|(n, _)| !VOLATILE_HEADERS.contains(&n.as_str()))
                    .cloned()
                    .collect();
                if !kept.is_empty() {
                    out.insert("headers".into(), headers(&kept, &urls));
                }
                if !entry.body.is_empty() {
                    let is_form = entry.headers.iter().any(|(n, v)| {
                        n == "content-type" && v.starts_with("application/x-www-form-urlencoded")
                    });
                    let body = if is_form {
                        form_value(&entry.body)
                    } else {
                        body_value(&entry.body, &urls)
                    };
                    out.insert("body".into(), body);
                }
                out.insert(
                    "stub".into(),
                    entry
                        .matched
                        .as_ref()
                        .map_or(Value::Null, |stub| json!(stub.name)),
                );
                out.insert("status".into(), json!(entry.status));
                if let Some(limit) = &entry.rate_limited {
                    out.insert("rate_limited".into(), json!(limit));
                }
                if let Some(fault) = &entry.fault {
                    out.insert("fault".into(), json!(fault));
                }
                Value::Object(out)
            })
            .collect();
        let mut mock = Map::new();
        mock.insert("requests".into(), Value::Array(requests));
        if journal.dropped > 0 {
            mock.insert("dropped".into(), json!(journal.dropped));
        }
        if let Some(state) = observation.mock_states.get(name) {
            mock.insert("state".into(), state.clone());
        }
        mocks.insert(name.clone(), Value::Object(mock));
    }
    let checks: Vec<Value> = expectations
        .iter()
        .map(|result| json!({ "name": result.name, "passed": result.passed }))
        .collect();
    let mut document = json!({ "steps": steps, "mocks": mocks, "expectations": checks });
    observation.secrets.redact_json(&mut document);
    for path in redact {
        redact_path(&mut document, path);
    }
    document
}

/// Replaces run-specific base URLs with their template names.
struct UrlNames(Vec<(String, String)>);

impl UrlNames {
    fn new(observation: &Observation) -> Self {
        // A mock or target reached through the run's Docker network is the same mock or target:
        // both of its URLs get its one name.
        let mut pairs: Vec<(String, String)> = observation
            .mock_urls
            .iter()
            .chain(&observation.mock_network_urls)
            .map(|(name, url)| (url.clone(), format!("{{{{ mocks.{name}.url }}}}")))
            .collect();
        for url in std::iter::once(&observation.target_url).chain(&observation.target_network_url) {
            if !url.is_empty() {
                pairs.push((url.clone(), "{{ target.url }}".into()));
            }
        }
        // Longest first, so a URL that prefixes another cannot eat it.
        pairs.sort_by_key(|pair| std::cmp::Reverse(pair.0.len()));
        UrlNames(pairs)
    }

    fn apply(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (url, name) in &self.0 {
            if out.contains(url.as_str()) {
                out = out.replace(url.as_str(), name);
            }
        }
        out
    }

    fn apply_json(&self, value: &mut Value) {
        match value {
            Value::String(text) => *text = self.apply(text),
            Value::Array(items) => items.iter_mut().for_each(|item| self.apply_json(item)),
            Value::Object(map) => map.values_mut().for_each(|item| self.apply_json(item)),
            _ => {}
        }
    }
}

/// A failed poll's message without its attempt count (`after 29 attempt(s)` → `after [n]
/// attempt(s)`): how many attempts fit in the deadline is timing, not behaviour.
fn without_attempt_count(failure: &str) -> String {
    static ATTEMPTS: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    ATTEMPTS
        .get_or_init(|| regex::Regex::new(r"after \d+ attempt\(s\)").expect("valid regex"))
        .replace_all(failure, "after [n] attempt(s)")
        .into_owned()
}

fn headers(headers: &[(String, String)], urls: &UrlNames) -> Value {
    let mut out = Map::new();
    for (name, value) in headers {
        let name = name.to_ascii_lowercase();
        // Secret-named headers, like every secret, go when the whole document is redacted.
        let value = urls.apply(value);
        out.insert(name, json!(value));
    }
    Value::Object(out)
}

/// Webhook attempts: what was sent (signature headers redacted by name, like every secret) and
/// the answer or the transport error. Virtual times are left out: without `clock.start` they
/// follow the wall clock.
fn deliveries(deliveries: &[Delivery], urls: &UrlNames) -> Value {
    let attempts: Vec<Value> = deliveries
        .iter()
        .map(|delivery| {
            let mut out = Map::new();
            out.insert("attempt".into(), json!(delivery.attempt));
            out.insert("method".into(), json!(delivery.method));
            out.insert("url".into(), json!(urls.apply(&delivery.url)));
            if !delivery.headers.is_empty() {
                out.insert("headers".into(), headers(&delivery.headers, urls));
            }
            if !delivery.body.is_empty() {
                out.insert("body".into(), body_value(&delivery.body, urls));
            }
            if let Some(response) = &delivery.response {
                let mut received = Map::new();
                received.insert("status".into(), json!(response.status));
                if !response.body.is_empty() {
                    received.insert("body".into(), body_value(&response.body, urls));
                }
                out.insert("response".into(), Value::Object(received));
            }
            if let Some(error) = &delivery.error {
                out.insert("error".into(), json!(urls.apply(error)));
            }
            if let Some(expected) = delivery.expected_status {
                out.insert("expected_status".into(), json!(expected));
            }
            Value::Object(out)
        })
        .collect();
    Value::Array(attempts)
}

/// A browsed login's hops: method, URL, status and where the answer sent the browser. URLs are
/// named like every URL, and their queries' credentials (OAuth codes, secret parameters) are
/// masked as in forms.
fn hops(hops: &[Hop], urls: &UrlNames) -> Value {
    let url = |url: &str| json!(urls.apply(&url_with_masked_query(url)));
    let list: Vec<Value> = hops
        .iter()
        .map(|hop| {
            let mut out = Map::new();
            out.insert("method".into(), json!(hop.method));
            out.insert("url".into(), url(&hop.url));
            if let Some(status) = hop.status {
                out.insert("status".into(), json!(status));
            }
            if let Some(location) = &hop.location {
                out.insert("location".into(), url(location));
            }
            if let Some(action) = &hop.form_post {
                out.insert("form_post".into(), url(action));
            }
            if let Some(error) = &hop.error {
                out.insert("error".into(), json!(urls.apply(error)));
            }
            Value::Object(out)
        })
        .collect();
    Value::Array(list)
}

/// `url` with the values of its query's credentials (as [`form_value`] masks them) replaced by
/// [`REDACTED`], the rest as written.
fn url_with_masked_query(url: &str) -> String {
    let Some((base, query)) = url.split_once('?') else {
        return url.to_string();
    };
    let (query, fragment) = match query.split_once('#') {
        Some((query, fragment)) => (query, Some(fragment)),
        None => (query, None),
    };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| {
            let (name, _) = pair.split_once('=').unwrap_or((pair, ""));
            let decoded: String = form_urlencoded::parse(name.as_bytes())
                .map(|(name, _)| name.into_owned())
                .next()
                .unwrap_or_default();
            if is_credential_param(&decoded) {
                format!("{name}={REDACTED}")
            } else {
                pair.to_string()
            }
        })
        .collect();
    let mut out = format!("{base}?{}", pairs.join("&"));
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

fn body_value(body: &str, urls: &UrlNames) -> Value {
    match serde_json::from_str::<Value>(body) {
        Ok(mut value) => {
            urls.apply_json(&mut value);
            value
        }
        Err(_) => json!(urls.apply(body)),
    }
}

/// Login parameters that are masked without a secret-sounding name, in forms and query strings
/// where the protocols carry them (in JSON, `code` and `state` are too common to hide):
/// credentials, the OAuth authorization code (RFC 6749 §4.1.3) and PKCE verifier (RFC 7636
/// §4.5); and the one-time values a client makes unguessable, so they differ on every run and
/// tell nothing about behaviour: `state` (RFC 6749 §10.12), `nonce` (OpenID Connect Core
/// §3.1.2.1), the PKCE `code_challenge` (RFC 7636 §4.2), and SAML's `SAMLRequest` (its request
/// `ID` is random, Core §1.3.4) and `RelayState` (Bindings §3.4.3).
const LOGIN_PARAMS: &[&str] = &[
    "code",
    "code_verifier",
    "state",
    "nonce",
    "code_challenge",
    "SAMLRequest",
    "RelayState",
];

/// Whether a query parameter or form field is masked: a [login one](LOGIN_PARAMS) or a
/// [secret parameter](is_secret_param).
fn is_credential_param(name: &str) -> bool {
    LOGIN_PARAMS.contains(&name) || is_secret_param(name)
}

fn form_value(encoded: &str) -> Value {
    let mut out = Map::new();
    for (name, value) in form_urlencoded::parse(encoded.as_bytes()) {
        let value = if is_credential_param(&name) {
            json!(REDACTED)
        } else {
            json!(value)
        };
        out.insert(name.into_owned(), value);
    }
    Value::Object(out)
}

fn redact_map(values: &BTreeMap<String, String>) -> Value {
    Value::Object(values.iter().map(|(k, v)| (k.clone(), json!(v))).collect())
}

fn redact_path(document: &mut Value, path: &str) {
    let Ok(parsed) = serde_json_path::JsonPath::parse(path) else {
        return;
    };
    let pointers: Vec<String> = parsed
        .query_located(document)
        .locations()
        .map(|location| location.to_json_pointer())
        .collect();
    for pointer in pointers {
        if let Some(target) = document.pointer_mut(&pointer) {
            *target = json!(REDACTED);
        }
    }
}

/// JSON pointers of the leaves where two documents differ.
pub(crate) fn differing_paths(a: &Value, b: &Value) -> Vec<String> {
    let mut out = Vec::new();
    collect_differences(a, b, String::new(), &mut out);
    out
}

fn collect_differences(a: &Value, b: &Value, at: String, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for key in keys {
                let child = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
                match (x.get(key), y.get(key)) {
                    (Some(p), Some(q)) => collect_differences(p, q, child, out),
                    _ => out.push(child),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (index, (p, q)) in x.iter().zip(y).enumerate() {
                collect_differences(p, q, format!("{at}/{index}"), out);
            }
        }
        _ if a == b => {}
        _ => out.push(at),
    }
}

/// Replace the values at these JSON pointers with [`NOISE`].
pub(crate) fn mask(document: &mut Value, pointers: &[String]) {
    for pointer in pointers {
        if let Some(target) = document.pointer_mut(pointer) {
            *target = json!(NOISE);
        }
    }
}

/// The text stored in a snapshot: pretty JSON.
pub(crate) fn render(document: &Value) -> String {
    serde_json::to_string_pretty(document).unwrap_or_else(|_| document.to_string())
}

/// A unified diff between two texts (`-` old, `+` new).
pub(crate) fn diff(old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(old_name, new_name)
        .to_string()
}

/// How an observation compared with its accepted snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Comparison {
    /// Same as the accepted snapshot.
    Matches,
    /// Stored as the accepted snapshot (`--accept`).
    Accepted(PathBuf),
    /// No accepted snapshot exists; the new one was written as `.snap.new`.
    New(PathBuf),
    /// Differs from the accepted snapshot; the new one was written as `.snap.new`.
    Differs {
        /// The pending file.
        pending: PathBuf,
        /// Unified diff, accepted → new.
        diff: String,
    },
}

/// Why a snapshot file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SnapshotError {
    /// Reading or writing failed.
    #[error("failed to {action} `{}`", path.display())]
    Io {
        /// `read` or `write`.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not an insta snapshot.
    #[error("`{}` is not a snapshot file: {message}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What insta said.
        message: String,
    },
}

/// Where the accepted snapshot of a scenario lives.
pub(crate) fn snapshot_path(dir: &Path, id: &str) -> PathBuf {
    dir.join(format!("{id}.snap"))
}

/// The pending file beside an accepted snapshot path.
pub(crate) fn pending_path(snap: &Path) -> PathBuf {
    let mut name = snap.as_os_str().to_owned();
    name.push(".new");
    PathBuf::from(name)
}

/// The snapshot text of a run: its observation [normalized](normalize) with `redact` (the
/// scenario's `snapshot.redact`), rendered, and redacted once more as text with the run's
/// secrets.
pub(crate) fn content(
    observation: &Observation,
    expectations: &[ExpectationResult],
    redact: &[String],
) -> Redacted {
    observation
        .secrets
        .redacted(&render(&normalize(observation, expectations, redact)))
}

/// Compare `content` with the accepted snapshot of scenario `id` in `dir`. With `accept`, store
/// it; otherwise write a `.snap.new` when it is new or differs (also under `CI=true`), and remove
/// a stale `.snap.new` when it matches.
pub(crate) fn compare(
    dir: &Path,
    id: &str,
    source: &str,
    title: &str,
    content: &Redacted,
    accept: bool,
) -> Result<Comparison, SnapshotError> {
    let snap = snapshot_path(dir, id);
    let pending = pending_path(&snap);
    let accepted = if snap.exists() {
        Some(read_contents(&snap)?)
    } else {
        None
    };
    let text = content.as_str().trim_end();
    if accepted.as_deref() == Some(text) {
        remove_if_exists(&pending)?;
        return Ok(Comparison::Matches);
    }
    if accept {
        write_snapshot(&snap, source, title, content)?;
        remove_if_exists(&pending)?;
        return Ok(Comparison::Accepted(snap));
    }
    write_snapshot(&pending, source, title, content)?;
    Ok(match accepted {
        None => Comparison::New(pending),
        Some(old) => Comparison::Differs {
            diff: diff(&old, text, "accepted", "new"),
            pending,
        },
    })
}

/// Read the content of a snapshot file (via insta, so the format stays insta's).
pub(crate) fn read_contents(path: &Path) -> Result<String, SnapshotError> {
    let snapshot = insta::Snapshot::from_file(path).map_err(|err| SnapshotError::Format {
        path: path.to_path_buf(),
        message: err.to_string(),
    })?;
    let text = snapshot
        .contents()
        .as_text()
        .map(|text| text.to_string())
        .ok_or_else(|| SnapshotError::Format {
            path: path.to_path_buf(),
            message: "binary snapshot".into(),
        })?;
    Ok(text.trim_end().replace("\r\n", "\n"))
}

/// Write a snapshot file in insta's format, atomically (temp file, then rename). The content
/// is [`Redacted`]; the title (the scenario's) is redacted by shape and name.
pub(crate) fn write_snapshot(
    path: &Path,
    source: &str,
    title: &str,
    content: &Redacted,
) -> Result<(), SnapshotError> {
    let io = |source| SnapshotError::Io {
        action: "write",
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let quote = |text: &str| serde_json::to_string(text).unwrap_or_default();
    let text = format!(
        "---\nsource: {}\ndescription: {}\n---\n{}\n",
        quote(source),
        quote(&crate::secrets::redact_text(title)),
        content.as_str().trim_end()
    );
    let temp = path.with_extension("tmp-reenact");
    std::fs::write(&temp, text).map_err(io)?;
    std::fs::rename(&temp, path).map_err(io)
}

fn remove_if_exists(path: &Path) -> Result<(), SnapshotError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(SnapshotError::Io {
            action: "remove",
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// A `.snap.new` file waiting for review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pending {
    /// The `.snap.new` file.
    pub pending: PathBuf,
    /// The accepted snapshot it would replace (may not exist yet).
    pub accepted: PathBuf,
}

/// Every pending snapshot under `dir` (recursively), sorted.
pub(crate) fn find_pending(dir: &Path) -> Result<Vec<Pending>, SnapshotError> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        let entries = match std::fs::read_dir(&current) {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => {
                return Err(SnapshotError::Io {
                    action: "read",
                    path: current,
                    source,
                });
            }
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Some(accepted) = path
                .to_str()
                .and_then(|p| p.strip_suffix(".snap.new"))
                .map(|p| PathBuf::from(format!("{p}.snap")))
            {
                found.push(Pending {
                    pending: path,
                    accepted,
                });
            }
        }
    }
    found.sort_by(|a, b| a.pending.cmp(&b.pending));
    Ok(found)
}

/// Accept a pending snapshot: it replaces the accepted one.
pub(crate) fn accept_pending(pending: &Pending) -> Result<(), SnapshotError> {
    std::fs::rename(&pending.pending, &pending.accepted).map_err(|source| SnapshotError::Io {
        action: "write",
        path: pending.accepted.clone(),
        source,
    })
}

/// Reject a pending snapshot: it is deleted.
pub(crate) fn reject_pending(pending: &Pending) -> Result<(), SnapshotError> {
    remove_if_exists(&pending.pending)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::{Journal, JournalEntry, ReceivedResponse, SentRequest, StepObservation};

    fn observation() -> Observation {
        let mut mocks = BTreeMap::new();
        mocks.insert(
            "erp".to_string(),
            Journal {
                entries: vec![JournalEntry {
                    seq: 1,
                    at: "2026-10-31T23:00:00Z".into(),
                    method: "POST".into(),
                    path: "/oauth/token".into(),
                    query: "page=1".into(),
                    headers: vec![
                        ("host".into(), "127.0.0.1:4000".into()),
                        ("authorization".into(), "Basic c2VjcmV0".into()),
                        (
                            "content-type".into(),
                            "application/x-www-form-urlencoded".into(),
                        ),
                    ],
                    body: "grant_type=refresh_token&refresh_token=rt-123&client_secret=s3cr3t"
                        .into(),
                    matched: None,
                    status: 404,
                    rate_limited: None,
                    fault: None,
                }],
                dropped: 0,
            },
        );
        Observation {
            steps: vec![StepObservation {
                name: "connect".into(),
                kind: "request".into(),
                request: Some(SentRequest {
                    mock: None,
                    method: "POST".into(),
                    path: "/connect".into(),
                    headers: vec![("X-Callback".into(), "http://127.0.0.1:4000/cb".into())],
                    body: Some(r#"{"password":"hunter2","id":"abc"}"#.into()),
                }),
                response: Some(ReceivedResponse {
                    status: 201,
                    headers: vec![("content-type".into(), "application/json".into())],
                    body: r#"{"access_token":"eyJ.x.y","note":"Bearer abc.def used","id":"abc"}"#
                        .into(),
                }),
                attempts: 1,
                failure: None,
                captures: BTreeMap::new(),
                deliveries: Vec::new(),
                ..StepObservation::default()
            }],
            mocks,
            mock_urls: [("erp".to_string(), "http://127.0.0.1:4000".to_string())].into(),
            mock_network_urls: BTreeMap::new(),
            target_url: "http://127.0.0.1:5000".into(),
            target_network_url: None,
            target_log: vec![],
            // Container output is never part of a snapshot.
            mock_logs: [(
                "erp".to_string(),
                vec!["reenact mock-engine ready".to_string()],
            )]
            .into(),
            mock_states: BTreeMap::new(),
            secrets: crate::secrets::Secrets::new(),
        }
    }

    /// The `at` incident: a token under a name nothing calls secret, captured and sent back in
    /// an `Authorization` header, is masked wherever it appears.
    #[test]
    fn a_value_seen_under_a_secret_name_is_masked_everywhere() {
        let mut observation = observation();
        let token = "tok-AT-7f3c9a1e5b2d4f60";
        observation.steps[0].response.as_mut().unwrap().body =
            format!(r#"{{"at":"{token}","memo":"paid with 5555 5555 5555 4444"}}"#);
        observation.steps[0].captures = BTreeMap::from([("at".to_owned(), token.to_owned())]);
        observation.steps[0].failure = Some(format!("expect: got `{token}`"));
        observation.mocks.get_mut("erp").unwrap().entries[0]
            .headers
            .push(("authorization".into(), format!("Bearer {token}")));
        observation.mocks.get_mut("erp").unwrap().entries[0].query =
            "page=1&key=AIzaSyPLANTED012".into();
        observation.secrets = observation.secrets_seen();
        let text = render(&normalize(&observation, &[], &[]));
        for secret in [token, "AIzaSyPLANTED012", "5555 5555 5555 4444"] {
            assert!(!text.contains(secret), "`{secret}` leaked:\n{text}");
        }
        let document = normalize(&observation, &[], &[]);
        assert_eq!(document["steps"][0]["captures"]["at"], json!(REDACTED));
        assert_eq!(
            document["steps"][0]["response"]["body"]["at"],
            json!(REDACTED)
        );
        assert_eq!(
            document["steps"][0]["response"]["body"]["memo"],
            json!("paid with [redacted:card]")
        );
        assert_eq!(
            document["steps"][0]["failure"],
            json!("expect: got `[redacted]`")
        );
        assert_eq!(
            document["mocks"]["erp"]["requests"][0]["query"],
            json!({ "page": "1", "key": REDACTED })
        );
    }

    #[test]
    fn provider_state_is_in_the_snapshot_under_its_mock_with_secrets_redacted() {
        let mut observation = observation();
        observation.mock_states.insert(
            "erp".into(),
            json!({
                "invoices": [{ "InvoiceID": "inv-1", "Reference": "EXP-1042" }],
                "issued": { "access": 1 },
                "connections": [{ "refresh_token": "rt-123", "tenantId": "t-1" }],
            }),
        );
        let document = normalize(&observation, &[], &["$..InvoiceID".to_string()]);
        assert_eq!(
            document["mocks"]["erp"]["state"],
            json!({
                "invoices": [{ "InvoiceID": REDACTED, "Reference": "EXP-1042" }],
                "issued": { "access": 1 },
                "connections": [{ "refresh_token": REDACTED, "tenantId": "t-1" }],
            })
        );
    }

    #[test]
    fn network_urls_of_a_docker_run_normalize_like_host_urls_and_nothing_else_does() {
        let mut host = observation();
        host.steps[0].deliveries = vec![crate::observe::Delivery {
            url: "http://127.0.0.1:5000/webhooks/xero".into(),
            ..Default::default()
        }];
        let mut docker = host.clone();
        docker.mock_urls = [("erp".to_string(), "http://127.0.0.1:4100".to_string())].into();
        docker.mock_network_urls = [("erp".to_string(), "http://erp:8080".to_string())].into();
        docker.target_url = "http://127.0.0.1:5100".into();
        docker.target_network_url = Some("http://reenact-target:8080".into());
        // What the target sent and where the mock delivered, as each saw the other on the
        // network.
        docker.steps[0].request.as_mut().unwrap().headers =
            vec![("X-Callback".into(), "http://erp:8080/cb".into())];
        docker.steps[0].deliveries[0].url = "http://reenact-target:8080/webhooks/xero".into();
        assert_eq!(normalize(&host, &[], &[]), normalize(&docker, &[], &[]));
        // Another host is not the mock: it stays as it is, and the comparison sees it.
        docker.steps[0].request.as_mut().unwrap().headers =
            vec![("X-Callback".into(), "http://other:8080/cb".into())];
        assert_ne!(normalize(&host, &[], &[]), normalize(&docker, &[], &[]));
    }

    #[test]
    fn normalizes_and_redacts_secrets_by_default() {
        let text = render(&normalize(&observation(), &[], &["$..id".to_string()]));
        for secret in [
            "c2VjcmV0", "rt-123", "s3cr3t", "hunter2", "eyJ.x.y", "abc.def", "\"abc\"",
        ] {
            assert!(!text.contains(secret), "`{secret}` leaked:\n{text}");
        }
        assert!(text.contains("{{ mocks.erp.url }}/cb"), "{text}");
        assert!(!text.contains("127.0.0.1"), "{text}");
        assert!(text.contains("\"grant_type\": \"refresh_token\""), "{text}");
        assert!(
            !text.contains("mock-engine ready"),
            "container logs in a snapshot:\n{text}"
        );
    }

    #[test]
    fn a_form_a_step_sends_to_a_mock_is_parsed_with_its_oauth_code_redacted() {
        let mut observation = observation();
        observation.steps[0].request = Some(SentRequest {
            mock: Some("erp".into()),
            method: "POST".into(),
            path: "/connect/token".into(),
            headers: vec![(
                "content-type".into(),
                "application/x-www-form-urlencoded".into(),
            )],
            body: Some("grant_type=authorization_code&code=consent-42".into()),
        });
        let document = normalize(&observation, &[], &[]);
        let sent = &document["steps"][0]["request"];
        assert_eq!(sent["mock"], json!("erp"));
        assert_eq!(
            sent["body"],
            json!({ "grant_type": "authorization_code", "code": REDACTED })
        );
    }

    #[test]
    fn webhook_deliveries_are_normalized_with_signatures_redacted() {
        let mut observation = observation();
        observation.steps[0].deliveries = vec![crate::observe::Delivery {
            attempt: 1,
            at: "2026-10-31T23:00:00Z".into(),
            method: "POST".into(),
            url: "http://127.0.0.1:5000/webhooks/xero".into(),
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("x-xero-signature".into(), "c2lnbmF0dXJl".into()),
            ],
            body: r#"{"events":[]}"#.into(),
            response: Some(ReceivedResponse {
                status: 401,
                headers: Vec::new(),
                body: String::new(),
            }),
            error: None,
            expected_status: None,
        }];
        let document = normalize(&observation, &[], &[]);
        assert_eq!(
            document["steps"][0]["deliveries"],
            json!([{
                "attempt": 1,
                "method": "POST",
                "url": "{{ target.url }}/webhooks/xero",
                "headers": { "content-type": "application/json", "x-xero-signature": REDACTED },
                "body": { "events": [] },
                "response": { "status": 401 },
            }])
        );
    }

    #[test]
    fn oauth_codes_in_forms_and_queries_are_redacted_but_json_codes_are_not() {
        let form =
            form_value("grant_type=authorization_code&code=abc123&code_verifier=v&redirect_uri=x");
        assert_eq!(form["code"], json!(REDACTED));
        assert_eq!(form["code_verifier"], json!(REDACTED));
        assert_eq!(form["grant_type"], json!("authorization_code"));
        assert_eq!(form["redirect_uri"], json!("x"));
        let query = form_value("q=London&key=AIzaSy012&sig=abc&keyword=x");
        assert_eq!(
            query,
            json!({ "q": "London", "key": REDACTED, "sig": REDACTED, "keyword": "x" })
        );
        let mut document = json!({ "AccountCode": "200", "code": "ERR-1" });
        crate::secrets::Secrets::new().redact_json(&mut document);
        assert_eq!(document, json!({ "AccountCode": "200", "code": "ERR-1" }));
    }

    /// A browsed login's hops: URLs named, an OAuth code in a redirect, the login's one-time
    /// values (`state`, `nonce`, `code_challenge`) and a secret parameter masked in the URL,
    /// the rest of the query kept as written.
    #[test]
    fn hops_are_named_and_their_credentials_masked() {
        let mut observation = observation();
        observation.steps[0].hops = vec![
            Hop {
                method: "GET".into(),
                url: "http://127.0.0.1:4000/authorize?client_id=app&login_hint=alice%40acme.test&state=s1&nonce=n-4f1a&code_challenge=E9Melhoa2Ow"
                    .into(),
                status: Some(302),
                location: Some(
                    "http://127.0.0.1:5000/callback?code=c0de-4f1a9b&state=s1&key=k-123456789"
                        .into(),
                ),
                ..Hop::default()
            },
            Hop {
                method: "GET".into(),
                url: "http://127.0.0.1:5000/callback?code=c0de-4f1a9b&state=s1&key=k-123456789"
                    .into(),
                error: Some("request failed: timed out".into()),
                ..Hop::default()
            },
        ];
        let document = normalize(&observation, &[], &[]);
        assert_eq!(
            document["steps"][0]["hops"],
            json!([
                {
                    "method": "GET",
                    "url": "{{ mocks.erp.url }}/authorize?client_id=app&login_hint=alice%40acme.test&state=[redacted]&nonce=[redacted]&code_challenge=[redacted]",
                    "status": 302,
                    "location": "{{ target.url }}/callback?code=[redacted]&state=[redacted]&key=[redacted]",
                },
                {
                    "method": "GET",
                    "url": "{{ target.url }}/callback?code=[redacted]&state=[redacted]&key=[redacted]",
                    "error": "request failed: timed out",
                },
            ])
        );
    }

    #[test]
    fn a_failed_polls_attempt_count_is_not_part_of_the_snapshot() {
        let mut observation = observation();
        observation.steps[0].failure =
            Some("poll: condition not met within 3s after 29 attempt(s); last: `$.state`".into());
        let document = normalize(&observation, &[], &[]);
        assert_eq!(
            document["steps"][0]["failure"],
            json!("poll: condition not met within 3s after [n] attempt(s); last: `$.state`")
        );
    }

    #[test]
    fn webhook_keys_are_secret_in_keys_and_free_text() {
        let mut document = json!({ "with": { "webhook_key": "k3y", "tenantId": "t1" } });
        crate::secrets::Secrets::new().redact_json(&mut document);
        assert_eq!(
            document,
            json!({ "with": { "webhook_key": REDACTED, "tenantId": "t1" } })
        );
        let redacted =
            crate::secrets::redact_text(r#"settings {"webhook_key":"k3y"} and webhookKey=k3y"#);
        assert!(!redacted.contains("k3y"), "the key leaked: {redacted}");
    }

    #[test]
    fn snapshot_files_round_trip_through_insta() {
        let secrets = crate::secrets::Secrets::new();
        let dir = tempfile::tempdir().unwrap();
        let content = secrets.redacted(&render(&json!({"a": [1, 2], "b": "x"})));
        let first = compare(
            dir.path(),
            "s1",
            "scenarios/s1.yaml",
            "Title: \"q\"",
            &content,
            false,
        )
        .unwrap();
        let pending = pending_path(&snapshot_path(dir.path(), "s1"));
        assert_eq!(first, Comparison::New(pending.clone()));
        assert_eq!(read_contents(&pending).unwrap(), content.as_str());
        let found = find_pending(dir.path()).unwrap();
        assert_eq!(found.len(), 1);
        accept_pending(&found[0]).unwrap();
        let again = compare(dir.path(), "s1", "scenarios/s1.yaml", "t", &content, false).unwrap();
        assert_eq!(again, Comparison::Matches);
        let changed = secrets.redacted(&render(&json!({"a": [1, 3], "b": "x"})));
        match compare(dir.path(), "s1", "scenarios/s1.yaml", "t", &changed, false).unwrap() {
            Comparison::Differs { diff, .. } => {
                assert!(diff.contains("-    2") && diff.contains("+    3"), "{diff}")
            }
            other => panic!("expected a difference, got {other:?}"),
        }
    }

    #[test]
    fn differing_paths_and_mask() {
        let a = json!({"x": 1, "y": [1, 2], "z": {"t": "a"}});
        let b = json!({"x": 1, "y": [1, 3], "z": {"t": "b"}, "w": 0});
        let paths = differing_paths(&a, &b);
        assert_eq!(paths, ["/w", "/y/1", "/z/t"]);
        let mut masked = b.clone();
        mask(&mut masked, &paths);
        assert_eq!(
            masked,
            json!({"x": 1, "y": [1, "[noise]"], "z": {"t": "[noise]"}, "w": "[noise]"})
        );
    }
}
