//! Snapshots: the observation normalized, redacted and stored as an insta `.snap` file.
//!
//! Normalization makes two runs of the same behaviour produce the same text: mock and target
//! URLs become `{{ mocks.NAME.url }}` / `{{ target.url }}`, volatile headers are dropped, bodies
//! that are JSON are parsed so JSONPath redaction reaches inside them. A step's response shows
//! only the headers its step names (`StepObservation::shown_headers`). Redaction is the run's
//! [`Secrets`](crate::secrets::Secrets) (every secret value it knows, known shapes such as
//! private keys and IBANs, and the values of secret-named keys: Authorization, cookies, tokens,
//! secrets, passwords, keys, account numbers), then whatever the scenario's `snapshot.redact`
//! JSONPaths select. A snapshot file is written only from `Redacted` text (see `crate::secrets`).
//! Then the scenario's rules make it hold still: captured values become `{{ NAME }}`
//! (`CaptureNames` has the rules), `snapshot.normalize` regexes rewrite strings,
//! `snapshot.exclude` JSONPaths are removed, and `snapshot.unordered` mocks' requests are sorted.
//! Each file records its provenance (scenario hash, target, reenact version) in insta's
//! `info:` metadata, which comparing ignores.
//!
//! Files are written in insta's format (front matter, `---`, content) and read back with insta,
//! so `cargo insta review` understands `.snap` and `.snap.new` files. This is the only module
//! that touches insta.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use crate::observe::{Delivery, Hop, Observation};
use crate::scenario::model::SnapshotSpec;
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
/// snapshots store and validate compares: URLs and ports by name, headers in name order, secrets
/// redacted, then the scenario's `snapshot` rules: captured values by name, `normalize`, `exclude`
/// and `unordered` (see `docs/scenario-format.md`, "Snapshot").
///
/// ```
/// use reenact::observe::Observation;
/// use reenact::scenario::model::SnapshotSpec;
///
/// let observation = Observation {
///     target_url: "http://127.0.0.1:41234".to_owned(),
///     ..Observation::default()
/// };
/// let document = reenact::snapshot::normalize(&observation, &[], &SnapshotSpec::default());
/// assert!(document.is_object());
/// assert!(!document.to_string().contains("41234"), "ports are not part of a snapshot");
/// ```
pub fn normalize(
    observation: &Observation,
    expectations: &[ExpectationResult],
    spec: &SnapshotSpec,
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
                let shown: Vec<(String, String)> = response
                    .headers
                    .iter()
                    .filter(|(name, _)| step.shown_headers.contains(name))
                    .map(|(name, value)| {
                        // A redirect's target is a URL: named, its credentials masked, as a hop's.
                        let value = if name == "location" {
                            url_with_masked_query(value)
                        } else {
                            value.clone()
                        };
                        (name.clone(), value)
                    })
                    .collect();
                if !shown.is_empty() {
                    received.insert("headers".into(), headers(&shown, &urls));
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
    apply_rules(&mut document, observation, spec);
    document
}

/// The rules that make a normalized document hold still, in this order:
///
/// 1. secrets are redacted (the run's [`Secrets`](crate::secrets::Secrets)), then the values
///    `spec.redact` selects: a secret never becomes a capture's name;
/// 2. captured values become `{{ NAME }}` (see [`CaptureNames`]);
/// 3. each `spec.normalize` regex rewrites every string value in turn (object keys are
///    structure and stay);
/// 4. the values `spec.exclude` selects are removed;
/// 5. the requests of each `spec.unordered` mock are sorted by their rendered JSON, so the
///    journal compares as a multiset.
fn apply_rules(document: &mut Value, observation: &Observation, spec: &SnapshotSpec) {
    observation.secrets.redact_json(document);
    for path in &spec.redact {
        redact_path(document, path);
    }
    let names = CaptureNames::new(observation);
    if !names.0.is_empty() {
        rewrite_strings(document, &|text| names.apply(text));
    }
    for normalizer in &spec.normalize {
        rewrite_strings(document, &|text| match normalizer
            .regex
            .0
            .replace_all(text, regex::NoExpand(&normalizer.replacement))
        {
            std::borrow::Cow::Borrowed(_) => None,
            std::borrow::Cow::Owned(text) => Some(text),
        });
    }
    for path in &spec.exclude {
        exclude_path(document, path);
    }
    for mock in &spec.unordered {
        if let Some(Value::Array(requests)) = document.pointer_mut(&format!(
            "/mocks/{}/requests",
            mock.replace('~', "~0").replace('/', "~1")
        )) {
            requests.sort_by_cached_key(|request| request.to_string());
        }
    }
}

/// Shortest captured value that is replaced by its name: shorter ones (`1`, `ok`, `EUR`) are
/// too likely to stand for something else.
pub(crate) const MIN_CAPTURE_CHARS: usize = 4;

/// Captured values and the names they are replaced with (`{{ NAME }}`), longest value first.
///
/// The rules, which keep the replacement from touching unrelated text:
/// - a value is replaced only as a whole token: the characters on either side of it, where the
///   value itself starts or ends with a letter, digit, `_` or `-`, must not be one of those
///   (`exp-1` is not replaced inside `exp-10` or `myexp-1`, but is in `/exports/exp-1/status`);
/// - values shorter than [`MIN_CAPTURE_CHARS`] characters, empty or with surrounding
///   whitespace are never replaced;
/// - only string values change: a JSON number or boolean, and object keys, stay as they are;
/// - a value the run knows as a secret is never named: it stays `[redacted]`;
/// - when two captures have the same value, the one captured first (flow order; within a step,
///   name order) names it;
/// - at each place the longest value wins, and a replacement is never searched again.
pub(crate) struct CaptureNames(Vec<(String, String)>);

impl CaptureNames {
    pub(crate) fn new(observation: &Observation) -> Self {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for step in &observation.steps {
            for (name, value) in &step.captures {
                let usable = value.chars().count() >= MIN_CAPTURE_CHARS
                    && value.trim() == value
                    && observation.secrets.redact(value) == *value
                    && !pairs.iter().any(|(seen, _)| seen == value);
                if usable {
                    pairs.push((value.clone(), format!("{{{{ {name} }}}}")));
                }
            }
        }
        // Stable: among equal lengths, flow order.
        pairs.sort_by_key(|pair| std::cmp::Reverse(pair.0.len()));
        CaptureNames(pairs)
    }

    /// `text` with every captured value that stands as a token replaced by its name; `None`
    /// when nothing changed.
    pub(crate) fn apply(&self, text: &str) -> Option<String> {
        if !self
            .0
            .iter()
            .any(|(value, _)| text.contains(value.as_str()))
        {
            return None;
        }
        let mut out = String::with_capacity(text.len());
        let mut changed = false;
        let mut at = 0;
        while at < text.len() {
            let before = text[..at].chars().next_back();
            let rest = &text[at..];
            let found = self.0.iter().find(|(value, _)| {
                rest.starts_with(value.as_str())
                    && edge_ok(value.chars().next(), before)
                    && edge_ok(
                        value.chars().next_back(),
                        rest[value.len()..].chars().next(),
                    )
            });
            match found {
                Some((value, name)) => {
                    out.push_str(name);
                    at += value.len();
                    changed = true;
                }
                None => {
                    let next = rest.chars().next().map_or(1, char::len_utf8);
                    out.push_str(&rest[..next]);
                    at += next;
                }
            }
        }
        changed.then_some(out)
    }
}

/// A character that continues a token: a captured value is replaced only where the text around
/// it does not continue it.
fn is_token_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

/// Whether a value's edge character `edge` may sit next to `neighbour` (the text's character
/// beside it, if any) for the value to be a whole token.
fn edge_ok(edge: Option<char>, neighbour: Option<char>) -> bool {
    match (edge, neighbour) {
        (Some(edge), Some(neighbour)) => !(is_token_char(edge) && is_token_char(neighbour)),
        _ => true,
    }
}

/// Rewrite every string value of `value` with `rewrite` (`None`: unchanged). Object keys are
/// left as they are: they are the document's structure (`path`, `status`), which a capture or
/// a regex must not rename.
fn rewrite_strings(value: &mut Value, rewrite: &dyn Fn(&str) -> Option<String>) {
    match value {
        Value::String(text) => {
            if let Some(new) = rewrite(text) {
                *text = new;
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| rewrite_strings(item, rewrite)),
        Value::Object(map) => map
            .values_mut()
            .for_each(|item| rewrite_strings(item, rewrite)),
        _ => {}
    }
}

/// Remove the values `path` selects: object members and array items. The root stays.
fn exclude_path(document: &mut Value, path: &str) {
    let Ok(parsed) = serde_json_path::JsonPath::parse(path) else {
        return;
    };
    let mut pointers: Vec<Vec<String>> = parsed
        .query_located(document)
        .locations()
        .map(|location| {
            location
                .to_json_pointer()
                .split('/')
                .skip(1)
                .map(|part| part.replace("~1", "/").replace("~0", "~"))
                .collect()
        })
        .collect();
    // Deepest and last first, so removing an array item never shifts one still to remove.
    let order = |a: &Vec<String>, b: &Vec<String>| {
        for (x, y) in a.iter().zip(b) {
            let ordering = match (x.parse::<usize>(), y.parse::<usize>()) {
                (Ok(x), Ok(y)) => x.cmp(&y),
                _ => x.cmp(y),
            };
            if ordering.is_ne() {
                return ordering;
            }
        }
        a.len().cmp(&b.len())
    };
    pointers.sort_by(|a, b| order(b, a));
    for parts in pointers {
        let Some((last, parents)) = parts.split_last() else {
            continue;
        };
        let pointer: String = parents
            .iter()
            .map(|part| format!("/{}", part.replace('~', "~0").replace('/', "~1")))
            .collect();
        let Some(parent) = document.pointer_mut(&pointer) else {
            continue;
        };
        match parent {
            Value::Object(map) => {
                map.shift_remove(last.as_str());
            }
            Value::Array(items) => {
                if let Ok(index) = last.parse::<usize>()
                    && index < items.len()
                {
                    items.remove(index);
                }
            }
            _ => {}
        }
    }
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

/// Headers by lowercase name, in name order: the order a client sends headers in is not
/// behaviour (RFC 9110 §5.3 gives meaning only to the order of one name's lines, and a name
/// keeps its last value here), and clients that build them from a hash map send them in a
/// different order on every run.
fn headers(headers: &[(String, String)], urls: &UrlNames) -> Value {
    let mut sorted: Vec<&(String, String)> = headers.iter().collect();
    sorted.sort_by_key(|(name, _)| name.to_ascii_lowercase());
    let mut out = Map::new();
    for (name, value) in sorted {
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

/// The snapshot text of a run: its observation [normalized](normalize) with the scenario's
/// `snapshot` rules, rendered, and redacted once more as text with the run's secrets.
pub(crate) fn content(
    observation: &Observation,
    expectations: &[ExpectationResult],
    spec: &SnapshotSpec,
) -> Redacted {
    observation
        .secrets
        .redacted(&render(&normalize(observation, expectations, spec)))
}

/// Where a snapshot came from, recorded in its file's front matter (insta's `info:`) and never
/// compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Provenance {
    /// SHA-256 of the scenario file and the files it names
    /// ([`Source::hash`](crate::scenario::model::Source::hash)).
    pub scenario_sha256: String,
    /// The target's label (`ledger-sync@1.4.3`, or the command, URL or image given on the
    /// command line), redacted.
    pub target: String,
    /// The target's image, when it ran as a container.
    pub target_image: Option<String>,
    /// The reenact version that wrote the snapshot.
    pub reenact: String,
}

impl Provenance {
    /// The provenance of a snapshot of a scenario with hash `scenario_sha256` against the target
    /// labelled `target`; a `project_root` prefix is taken out of the label, so the file reads the
    /// same on every machine.
    pub(crate) fn new(
        scenario_sha256: &str,
        target: &str,
        target_image: Option<&str>,
        project_root: &Path,
    ) -> Self {
        let root = std::path::absolute(project_root).unwrap_or_else(|_| project_root.into());
        let mut label = target.to_string();
        if let Some(root) = root.to_str().filter(|root| !root.is_empty()) {
            label = label.replace(&format!("{}/", root.trim_end_matches('/')), "");
        }
        Provenance {
            scenario_sha256: scenario_sha256.to_string(),
            target: crate::secrets::redact_text(&label),
            target_image: target_image.map(crate::secrets::redact_text),
            reenact: env!("CARGO_PKG_VERSION").to_string(),
        }
    }

    /// The `info:` block of the front matter, indented YAML with JSON-quoted strings.
    fn front_matter(&self) -> String {
        let quote = |text: &str| serde_json::to_string(text).unwrap_or_default();
        let mut out = format!(
            "info:\n  scenario_sha256: {}\n  target: {}\n",
            quote(&self.scenario_sha256),
            quote(&self.target)
        );
        if let Some(image) = &self.target_image {
            out.push_str(&format!("  target_image: {}\n", quote(image)));
        }
        out.push_str(&format!("  reenact: {}\n", quote(&self.reenact)));
        out
    }
}

/// The scenario hash an accepted snapshot file records (`info.scenario_sha256`), if it records
/// one: snapshots accepted before provenance was recorded have none.
pub(crate) fn recorded_scenario_hash(path: &Path) -> Option<String> {
    // Within the front matter only; a snapshot's own text can never be taken for it.
    let text = std::fs::read_to_string(path).ok()?;
    let header = text.strip_prefix("---\n")?;
    let header = &header[..header.find("\n---\n")?];
    header.lines().find_map(|line| {
        let value = line.strip_prefix("  scenario_sha256: ")?;
        serde_json::from_str::<String>(value).ok()
    })
}

/// Compare `content` with the accepted snapshot of scenario `id` in `dir`. With `accept`, store
/// it (and, when it matches, refresh a provenance that changed); otherwise write a `.snap.new`
/// when it is new or differs (also under `CI=true`), and remove a stale `.snap.new` when it
/// matches. Provenance is never compared.
pub(crate) fn compare(
    dir: &Path,
    id: &str,
    header: &Header<'_>,
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
        let stale = header.provenance.is_some_and(|provenance| {
            recorded_scenario_hash(&snap).as_deref() != Some(&provenance.scenario_sha256)
        });
        if accept && stale {
            write_snapshot(&snap, header, content)?;
        }
        remove_if_exists(&pending)?;
        return Ok(Comparison::Matches);
    }
    if accept {
        write_snapshot(&snap, header, content)?;
        remove_if_exists(&pending)?;
        return Ok(Comparison::Accepted(snap));
    }
    write_snapshot(&pending, header, content)?;
    Ok(match accepted {
        None => Comparison::New(pending),
        Some(old) => Comparison::Differs {
            diff: diff(&old, text, "accepted", "new"),
            pending,
        },
    })
}

/// The front matter of a snapshot file: the scenario file, its title and (when known) where the
/// snapshot came from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Header<'a> {
    /// The scenario file, relative to the project root.
    pub source: &'a str,
    /// The scenario's title.
    pub title: &'a str,
    /// Where the snapshot came from.
    pub provenance: Option<&'a Provenance>,
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
/// is [`Redacted`]; the title (the scenario's) is redacted by shape and name; provenance goes
/// in insta's `info:` metadata, which insta reads and ignores when comparing.
pub(crate) fn write_snapshot(
    path: &Path,
    header: &Header<'_>,
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
        "---\nsource: {}\ndescription: {}\n{}---\n{}\n",
        quote(header.source),
        quote(&crate::secrets::redact_text(header.title)),
        header
            .provenance
            .map(Provenance::front_matter)
            .unwrap_or_default(),
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

    fn spec() -> SnapshotSpec {
        SnapshotSpec::default()
    }

    fn redacting(path: &str) -> SnapshotSpec {
        SnapshotSpec {
            redact: vec![path.to_string()],
            ..SnapshotSpec::default()
        }
    }

    fn header() -> Header<'static> {
        Header {
            source: "scenarios/s1.yaml",
            title: "Title: \"q\"",
            provenance: None,
        }
    }

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
        let text = render(&normalize(&observation, &[], &spec()));
        for secret in [token, "AIzaSyPLANTED012", "5555 5555 5555 4444"] {
            assert!(!text.contains(secret), "`{secret}` leaked:\n{text}");
        }
        let document = normalize(&observation, &[], &spec());
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
        let document = normalize(&observation, &[], &redacting("$..InvoiceID"));
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
        assert_eq!(
            normalize(&host, &[], &spec()),
            normalize(&docker, &[], &spec())
        );
        // Another host is not the mock: it stays as it is, and the comparison sees it.
        docker.steps[0].request.as_mut().unwrap().headers =
            vec![("X-Callback".into(), "http://other:8080/cb".into())];
        assert_ne!(
            normalize(&host, &[], &spec()),
            normalize(&docker, &[], &spec())
        );
    }

    #[test]
    fn normalizes_and_redacts_secrets_by_default() {
        let text = render(&normalize(&observation(), &[], &redacting("$..id")));
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
        let document = normalize(&observation, &[], &spec());
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
        let document = normalize(&observation, &[], &spec());
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
        let document = normalize(&observation, &[], &spec());
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

    /// Issue 16: a step's response shows the headers it names (a redirect's `location`, what its
    /// checks and captures read) and no other, redacted as everything else is.
    #[test]
    fn a_steps_response_shows_only_the_headers_the_step_names_redacted() {
        let mut observation = observation();
        let step = &mut observation.steps[0];
        step.response = Some(ReceivedResponse {
            status: 302,
            headers: vec![
                (
                    "location".into(),
                    "http://127.0.0.1:5000/callback?code=c0de-77aa&view=full".into(),
                ),
                (
                    "set-cookie".into(),
                    "sid=sess-9f8e7d6c; Path=/; HttpOnly".into(),
                ),
                ("x-request-id".into(), "r-1".into()),
                ("date".into(), "Fri, 04 Dec 2026 19:00:00 GMT".into()),
            ],
            body: String::new(),
        });
        step.shown_headers = vec!["location".into(), "set-cookie".into()];
        observation.secrets = observation.secrets_seen();
        let document = normalize(&observation, &[], &spec());
        assert_eq!(
            document["steps"][0]["response"],
            json!({
                "status": 302,
                "headers": {
                    "location": "{{ target.url }}/callback?code=[redacted]&view=full",
                    "set-cookie": "[redacted]",
                },
            })
        );
        observation.steps[0].shown_headers.clear();
        let document = normalize(&observation, &[], &spec());
        assert_eq!(document["steps"][0]["response"], json!({ "status": 302 }));
    }

    #[test]
    fn a_failed_polls_attempt_count_is_not_part_of_the_snapshot() {
        let mut observation = observation();
        observation.steps[0].failure =
            Some("poll: condition not met within 3s after 29 attempt(s); last: `$.state`".into());
        let document = normalize(&observation, &[], &spec());
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
        let first = compare(dir.path(), "s1", &header(), &content, false).unwrap();
        let pending = pending_path(&snapshot_path(dir.path(), "s1"));
        assert_eq!(first, Comparison::New(pending.clone()));
        assert_eq!(read_contents(&pending).unwrap(), content.as_str());
        let found = find_pending(dir.path()).unwrap();
        assert_eq!(found.len(), 1);
        accept_pending(&found[0]).unwrap();
        let again = compare(dir.path(), "s1", &header(), &content, false).unwrap();
        assert_eq!(again, Comparison::Matches);
        let changed = secrets.redacted(&render(&json!({"a": [1, 3], "b": "x"})));
        match compare(dir.path(), "s1", &header(), &changed, false).unwrap() {
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

    fn with_captures(captures: &[(&str, &str)]) -> Observation {
        let mut observation = observation();
        observation.steps[0].captures = captures
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        observation
    }

    /// The rules of [`CaptureNames`], one row each: captures, text, what it becomes.
    #[test]
    fn captured_values_are_named_only_as_whole_tokens() {
        /// Captures (name, value), a text, what it becomes.
        type Row<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
        let rows: &[Row<'_>] = &[
            (
                &[("id", "exp-1")],
                "/exports/exp-1/status",
                "/exports/{{ id }}/status",
            ),
            (&[("id", "exp-1")], "exp-1", "{{ id }}"),
            (&[("id", "exp-1")], "/exports/exp-10", "/exports/exp-10"),
            (
                &[("id", "exp-1")],
                "myexp-1 and exp-1_x",
                "myexp-1 and exp-1_x",
            ),
            (&[("id", "exp-1")], "<Id>exp-1</Id>", "<Id>{{ id }}</Id>"),
            (
                &[("id", "exp-1")],
                "ids=exp-1,exp-1.",
                "ids={{ id }},{{ id }}.",
            ),
            (&[("n", "1")], "/runs/1", "/runs/1"),
            (&[("n", "abc")], "abc", "abc"),
            (&[("v", " pad ")], " pad ", " pad "),
            // The longest value at a place wins; a name is never searched again.
            (
                &[("short", "run-1"), ("long", "run-1-retry")],
                "run-1-retry then run-1",
                "{{ long }} then {{ short }}",
            ),
            (&[("a", "cafe"), ("b", "{{ a }}")], "cafe", "{{ a }}"),
            // Two captures with one value: the first captured (here, in name order) names it.
            (
                &[("b_second", "same-9"), ("a_first", "same-9")],
                "same-9",
                "{{ a_first }}",
            ),
            // A value that starts with a separator needs no boundary before it.
            (&[("p", "/v2/x7")], "http://h/v2/x7?q", "http://h{{ p }}?q"),
            (&[("u", "über-1")], "über-1 / xüber-1", "{{ u }} / xüber-1"),
        ];
        for (captures, text, expected) in rows {
            let names = CaptureNames::new(&with_captures(captures));
            assert_eq!(
                names.apply(text).as_deref().unwrap_or(text),
                *expected,
                "{captures:?} in {text:?}"
            );
        }
    }

    #[test]
    fn captured_values_are_named_in_paths_bodies_headers_and_state_but_secrets_stay_redacted() {
        let mut observation =
            with_captures(&[("run_id", "run-7f3a"), ("api_token", "tok-9f8e7d6c")]);
        let step = &mut observation.steps[0];
        step.request.as_mut().unwrap().path = "/payment-runs/run-7f3a/refresh".into();
        step.response.as_mut().unwrap().body =
            r#"{"id":"run-7f3a","count":1042,"note":"run-7f3a created","t":"tok-9f8e7d6c"}"#.into();
        let erp = observation.mocks.get_mut("erp").unwrap();
        erp.entries[0].path = "/files/run-7f3a.xml".into();
        erp.entries[0].headers = vec![
            ("content-type".into(), "application/xml".into()),
            ("x-run".into(), "run-7f3a".into()),
        ];
        erp.entries[0].body = "<PmtInfId>run-7f3a</PmtInfId>".into();
        observation.mock_states.insert(
            "erp".into(),
            json!({ "runs": { "run-7f3a": { "n": 1042, "of": "run-7f3a" } } }),
        );
        observation.secrets = observation.secrets_seen();
        let document = normalize(&observation, &[], &spec());
        let step = &document["steps"][0];
        assert_eq!(
            step["request"]["path"],
            json!("/payment-runs/{{ run_id }}/refresh")
        );
        assert_eq!(
            step["response"]["body"],
            json!({
                "id": "{{ run_id }}",
                "count": 1042,
                "note": "{{ run_id }} created",
                "t": REDACTED,
            })
        );
        assert_eq!(step["captures"]["run_id"], json!("{{ run_id }}"));
        assert_eq!(step["captures"]["api_token"], json!(REDACTED));
        let request = &document["mocks"]["erp"]["requests"][0];
        assert_eq!(request["path"], json!("/files/{{ run_id }}.xml"));
        assert_eq!(request["headers"]["x-run"], json!("{{ run_id }}"));
        assert_eq!(request["body"], json!("<PmtInfId>{{ run_id }}</PmtInfId>"));
        // Keys are structure: they stay as they are.
        assert_eq!(
            document["mocks"]["erp"]["state"],
            json!({ "runs": { "run-7f3a": { "n": 1042, "of": "{{ run_id }}" } } })
        );
        let text = render(&document);
        assert!(
            !text.contains("{{ api_token }}") && !text.contains("tok-9f8e7d6c"),
            "{text}"
        );
    }

    fn normalizer(regex: &str, replacement: &str) -> crate::scenario::model::Normalizer {
        crate::scenario::model::Normalizer {
            regex: crate::scenario::model::Pattern(regex::Regex::new(regex).unwrap()),
            replacement: replacement.into(),
        }
    }

    #[test]
    fn regex_normalizers_rewrite_every_string_value_in_order_literally() {
        let rows: &[(&str, &str, &str, &str)] = &[
            (
                r"\d{4}-\d\d-\d\dT[0-9:.]+Z",
                "[timestamp]",
                "at 2026-10-31T23:00:00.123Z",
                "at [timestamp]",
            ),
            (
                r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
                "[uuid]",
                "/bills/5f0c6b1e-2d3a-4c4b-9e8f-0a1b2c3d4e5f/lines",
                "/bills/[uuid]/lines",
            ),
            (r"PR-\d+", "$0 [id]", "PR-88", "$0 [id]"),
            (r"nothing", "x", "unchanged", "unchanged"),
        ];
        for (regex, replacement, text, expected) in rows {
            let spec = SnapshotSpec {
                normalize: vec![normalizer(regex, replacement)],
                ..SnapshotSpec::default()
            };
            let mut observation = observation();
            observation.steps[0].response.as_mut().unwrap().body =
                format!("{{\"v\":{},\"k\":{{{}:1}}}}", json!(text), json!(text));
            let document = normalize(&observation, &[], &spec);
            let body = &document["steps"][0]["response"]["body"];
            assert_eq!(body["v"], json!(expected), "{regex}");
            assert_eq!(body["k"], json!({ *text: 1 }), "{regex}: keys stay");
        }
        // In order: the second sees what the first wrote.
        let spec = SnapshotSpec {
            normalize: vec![normalizer("a+", "b"), normalizer("bc", "[x]")],
            ..SnapshotSpec::default()
        };
        let mut observation = observation();
        observation.steps[0].request.as_mut().unwrap().path = "/aaac".into();
        let document = normalize(&observation, &[], &spec);
        assert_eq!(document["steps"][0]["request"]["path"], json!("/[x]"));
    }

    #[test]
    fn excluded_paths_are_removed_from_objects_and_arrays() {
        let mut observation = observation();
        observation.mock_states.insert(
            "erp".into(),
            json!({ "invoices": [{ "n": 1 }, { "n": 2 }, { "n": 3 }], "seq": 9 }),
        );
        let spec = SnapshotSpec {
            exclude: vec![
                "$.mocks.erp.state.seq".into(),
                "$.mocks.erp.state.invoices[0,2]".into(),
                "$.steps[*].response".into(),
                "$.nothing.here".into(),
                "$".into(),
            ],
            ..SnapshotSpec::default()
        };
        let document = normalize(&observation, &[], &spec);
        assert_eq!(
            document["mocks"]["erp"]["state"],
            json!({ "invoices": [{ "n": 2 }] })
        );
        assert!(document["steps"][0].get("response").is_none());
        assert!(document["steps"][0].get("request").is_some());
    }

    #[test]
    fn an_unordered_mocks_requests_compare_as_a_multiset() {
        let mut first = observation();
        let erp = first.mocks.get_mut("erp").unwrap();
        let mut second_entry = erp.entries[0].clone();
        second_entry.path = "/a/second".into();
        erp.entries.push(second_entry);
        let mut second = first.clone();
        second.mocks.get_mut("erp").unwrap().entries.reverse();
        let ordered = spec();
        assert_ne!(
            normalize(&first, &[], &ordered),
            normalize(&second, &[], &ordered)
        );
        let unordered = SnapshotSpec {
            unordered: vec!["erp".into()],
            ..SnapshotSpec::default()
        };
        let document = normalize(&first, &[], &unordered);
        assert_eq!(document, normalize(&second, &[], &unordered));
        assert_eq!(
            document["mocks"]["erp"]["requests"][0]["path"],
            json!("/a/second")
        );
        // A different multiset still differs.
        second.mocks.get_mut("erp").unwrap().entries.pop();
        assert_ne!(document, normalize(&second, &[], &unordered));
    }

    #[test]
    fn header_order_is_not_part_of_the_snapshot() {
        let mut first = observation();
        first.steps[0].request.as_mut().unwrap().headers =
            vec![("X-B".into(), "2".into()), ("x-a".into(), "1".into())];
        let mut second = first.clone();
        second.steps[0].request.as_mut().unwrap().headers.reverse();
        let document = normalize(&first, &[], &spec());
        assert_eq!(document, normalize(&second, &[], &spec()));
        assert_eq!(
            render(&document["steps"][0]["request"]["headers"]),
            "{\n  \"x-a\": \"1\",\n  \"x-b\": \"2\"\n}"
        );
    }

    #[test]
    fn provenance_is_recorded_in_insta_info_and_never_compared() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("project");
        let provenance = Provenance::new(
            "abc123",
            &format!(
                "{}/target/debug/app --port {{{{ target.port }}}}",
                root.display()
            ),
            None,
            &root,
        );
        assert_eq!(
            provenance.target,
            "target/debug/app --port {{ target.port }}"
        );
        let content = crate::secrets::Secrets::new().redacted("{\"a\": 1}");
        let front = Header {
            provenance: Some(&provenance),
            ..header()
        };
        let snap = snapshot_path(dir.path(), "s1");
        assert_eq!(
            compare(dir.path(), "s1", &front, &content, true).unwrap(),
            Comparison::Accepted(snap.clone())
        );
        let text = std::fs::read_to_string(&snap).unwrap();
        assert!(
            text.starts_with(&format!(
                "---\nsource: \"scenarios/s1.yaml\"\ndescription: \"Title: \\\"q\\\"\"\ninfo:\n  scenario_sha256: \"abc123\"\n  target: \"target/debug/app --port {{{{ target.port }}}}\"\n  reenact: \"{}\"\n---\n",
                env!("CARGO_PKG_VERSION")
            )),
            "{text}"
        );
        // insta reads it, info and all.
        let read = insta::Snapshot::from_file(&snap).unwrap();
        assert!(read.metadata().private_info().is_some());
        assert_eq!(read_contents(&snap).unwrap(), "{\"a\": 1}");
        assert_eq!(recorded_scenario_hash(&snap).as_deref(), Some("abc123"));
        // Another scenario hash, same content: it matches, and the file keeps what it recorded
        // until `--accept`.
        let changed = Provenance::new("def456", "app", Some("img:1"), &root);
        let front = Header {
            provenance: Some(&changed),
            ..header()
        };
        assert_eq!(
            compare(dir.path(), "s1", &front, &content, false).unwrap(),
            Comparison::Matches
        );
        assert_eq!(recorded_scenario_hash(&snap).as_deref(), Some("abc123"));
        assert_eq!(
            compare(dir.path(), "s1", &front, &content, true).unwrap(),
            Comparison::Matches
        );
        assert_eq!(recorded_scenario_hash(&snap).as_deref(), Some("def456"));
        assert!(
            std::fs::read_to_string(&snap)
                .unwrap()
                .contains("  target_image: \"img:1\"\n")
        );
        // A snapshot's text never passes for its front matter.
        std::fs::write(
            &snap,
            "---\nsource: \"x\"\n---\n  scenario_sha256: \"zzz\"\n",
        )
        .unwrap();
        assert_eq!(recorded_scenario_hash(&snap), None);
    }
}
