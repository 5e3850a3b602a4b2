//! Secrets: the values reenact must never write, and [`Secrets::redact`], the one redactor
//! every writer uses (snapshot files, the terminal, JSON reports, logs).
//!
//! Redaction follows the value, not only the field name. A run collects one [`Secrets`] set:
//! every value the scenario declares secret (`snapshot.secrets`, provider keys and passwords,
//! webhook signing keys, the values of secret-named headers, query parameters and environment
//! variables), and every value a secret-named field, header or parameter carried during the run
//! (the flow's requests and responses, what each mock received, the mocks' state); a capture
//! taken from such a field holds one of those values. [`Secrets::redact`] then masks, in any
//! text:
//!
//! 1. each known value and its common encodings (URL-encoded, JSON-escaped, base64) as
//!    [`REDACTED`];
//! 2. known shapes wherever they appear: PEM private keys (`[redacted:private-key]`), JWTs
//!    (`[redacted:jwt]`), IBANs of a known country, length and mod-97 checksum
//!    (`[redacted:iban]`), card numbers of 13–19 digits with a card issuer's prefix and a valid
//!    Luhn digit (`[redacted:card]`), and the values of secret query parameters (`?key=`,
//!    `&token=`, `&sig=`, …);
//! 3. values after a secret name: `Bearer`/`Basic` credentials, `password=…`, `"token": "…"`
//!    and the text of secret XML elements (`<password>`, `<sessionid>`).
//!
//! Values shorter than [`MIN_VALUE_CHARS`] are not tracked by value (they would mask ordinary
//! words and numbers); where their name says they are secret they are still masked. The
//! placeholders are fixed, so masked output is the same on every run. Masking is idempotent:
//! redacted text redacts to itself.
//!
//! A neutral helper: it uses nothing of the crate.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use base64::Engine as _;
use regex::{Captures, Regex};
use serde_json::Value;

/// What replaces a secret value, or the value of a secret-named field.
pub const REDACTED: &str = "[redacted]";
/// What replaces a PEM private key.
pub const REDACTED_PRIVATE_KEY: &str = "[redacted:private-key]";
/// What replaces a JSON Web Token.
pub const REDACTED_JWT: &str = "[redacted:jwt]";
/// What replaces an IBAN.
pub const REDACTED_IBAN: &str = "[redacted:iban]";
/// What replaces a payment card number.
pub const REDACTED_CARD: &str = "[redacted:card]";

/// The shortest value tracked by value: shorter ones would mask ordinary words and numbers.
pub const MIN_VALUE_CHARS: usize = 8;

/// Header names whose values are always secret.
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
];

/// Substrings of JSON keys, form fields, query parameters, header and environment variable names
/// whose values are secret (compared case-insensitively, ignoring `_` and `-`).
const SECRET_NAME_PARTS: &[&str] = &[
    "token",
    "secret",
    "password",
    "passwd",
    "passphrase",
    "apikey",
    "authorization",
    "cookie",
    "privatekey",
    "signingkey",
    "webhookkey",
    "signature",
    "accountnumber",
    "iban",
    "assertion",
    "sessionid",
    "sessid",
    // A SAML Response is a bearer credential while it is valid (SAML Profiles §4.1.4.5).
    "samlresponse",
];

/// Names that contain a secret-looking part but hold no secret (folded like the parts): a
/// QuickBooks `SyncToken` is a record's version number, which the incidents about stale objects
/// need to show.
const NOT_SECRET_NAMES: &[&str] = &["synctoken"];

/// Endings of names (folded) that describe a credential without holding it: its lifetime or its
/// type (`refresh_token_expires_in`, `x_refresh_token_hard_expires_in`, `token_type`).
const NOT_SECRET_ENDINGS: &[&str] = &["expiresin", "expiresat", "tokentype"];

/// Whether a folded name only looks secret (`synctoken`, `refreshtokenexpiresin`).
fn only_looks_secret(folded: &str) -> bool {
    NOT_SECRET_NAMES.contains(&folded) || NOT_SECRET_ENDINGS.iter().any(|end| folded.ends_with(end))
}

/// Query parameter and form field names (folded) that are secret there, beside every
/// [`is_secret_name`]: too short or too common to be secret as JSON keys (`key` is also a
/// stateful stub's store key).
const SECRET_PARAMS: &[&str] = &[
    "key",
    "sig",
    "sid",
    "pwd",
    "pass",
    "auth",
    "session",
    "codeverifier",
];

/// `name` lower case without `_` and `-`: `X-Api-Key` → `xapikey`.
fn fold(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether a key, field, header or environment variable name holds a secret.
///
/// ```
/// use reenact::secrets::is_secret_name;
///
/// assert!(is_secret_name("refresh_token"));
/// assert!(is_secret_name("X-Api-Key"));
/// assert!(is_secret_name("sessionId"));
/// assert!(!is_secret_name("SyncToken"), "a QuickBooks version number");
/// assert!(!is_secret_name("x_refresh_token_expires_in"), "a lifetime, not a token");
/// ```
pub fn is_secret_name(name: &str) -> bool {
    let folded = fold(name);
    if only_looks_secret(&folded) {
        return false;
    }
    SECRET_HEADERS.contains(&name.to_ascii_lowercase().as_str())
        || SECRET_NAME_PARTS.iter().any(|part| folded.contains(part))
}

/// Whether a query parameter or form field holds a secret: a [secret name](is_secret_name), or
/// one of the short names that are secret in URLs (`key`, `sig`, `sid`, `auth`, …).
pub fn is_secret_param(name: &str) -> bool {
    is_secret_name(name) || SECRET_PARAMS.contains(&fold(name).as_str())
}

/// Mask secrets in free text by shape and by name only, for text no run's [`Secrets`] reaches
/// (the same as `Secrets::default().redact(text)`).
pub fn redact_text(text: &str) -> String {
    Secrets::default().redact(text)
}

/// The secret values of one run (or of everything a process has run): see the module
/// documentation. Its `Debug` form shows how many values it holds, never a value.
///
/// ```
/// use reenact::secrets::Secrets;
///
/// let mut secrets = Secrets::new();
/// secrets.add_header("Authorization", "Bearer tok-7f3c9a1e5b2d");
/// assert_eq!(
///     secrets.redact("echo: tok-7f3c9a1e5b2d, as a query: ?t=tok-7f3c9a1e5b2d"),
///     "echo: [redacted], as a query: ?t=[redacted]"
/// );
/// // Shapes need no declaration.
/// assert_eq!(secrets.redact("refund to GB82 WEST 1234 5698 7654 32"), "refund to [redacted:iban]");
/// ```
#[derive(Clone, Default)]
pub struct Secrets {
    values: BTreeSet<String>,
    /// Every value and encoding, as one multi-pattern searcher (the longest match wins); built
    /// on first use after a change.
    matcher: OnceLock<Option<AhoCorasick>>,
}

impl PartialEq for Secrets {
    fn eq(&self, other: &Self) -> bool {
        self.values == other.values
    }
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secrets({} values)", self.values.len())
    }
}

impl Secrets {
    /// No values yet: [`Secrets::redact`] masks shapes and secret names only.
    pub fn new() -> Secrets {
        Secrets::default()
    }

    /// How many values are tracked.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether no value is tracked.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Track `value`: unless it is shorter than [`MIN_VALUE_CHARS`] or already a placeholder.
    pub fn add(&mut self, value: &str) {
        if value.trim().chars().count() < MIN_VALUE_CHARS || value.contains("[redacted") {
            return;
        }
        if self.values.insert(value.to_owned()) {
            self.matcher = OnceLock::new();
        }
    }

    /// Track every value of `other`.
    pub fn extend(&mut self, other: &Secrets) {
        for value in &other.values {
            self.add(value);
        }
    }

    /// Track the value of header `name` if the name is secret. Credentials are tracked on their
    /// own too (`Bearer T` → `T`; `Basic B` → `B`, its decoded `user:password` and the
    /// password), and each cookie value.
    pub fn add_header(&mut self, name: &str, value: &str) {
        if !is_secret_name(name) {
            return;
        }
        match name.to_ascii_lowercase().as_str() {
            "authorization" | "proxy-authorization" => {
                self.add(value);
                let Some((scheme, credentials)) = value.trim().split_once(' ') else {
                    return;
                };
                let credentials = credentials.trim();
                self.add(credentials);
                if scheme.eq_ignore_ascii_case("basic")
                    && let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(credentials)
                    && let Ok(pair) = String::from_utf8(bytes)
                {
                    self.add(&pair);
                    if let Some((_, password)) = pair.split_once(':') {
                        self.add(password);
                    }
                }
            }
            "cookie" => {
                for pair in value.split(';') {
                    if let Some((_, cookie)) = pair.split_once('=') {
                        self.add(cookie.trim());
                    }
                }
            }
            // The attributes after the first pair (`Path`, `Expires`, …) are not secret.
            "set-cookie" => {
                let first = value.split(';').next().unwrap_or_default();
                if let Some((_, cookie)) = first.split_once('=') {
                    self.add(cookie.trim());
                }
            }
            _ => self.add(value),
        }
    }

    /// Track every string (and number) under a secret-named key of a JSON document, at any
    /// depth.
    pub fn add_json(&mut self, document: &Value) {
        self.add_json_under(document, false);
    }

    fn add_json_under(&mut self, value: &Value, secret: bool) {
        match value {
            Value::Object(map) => {
                for (key, item) in map {
                    self.add_json_under(item, secret || is_secret_name(key));
                }
            }
            Value::Array(items) => {
                for item in items {
                    self.add_json_under(item, secret);
                }
            }
            Value::String(text) if secret => self.add(text),
            Value::Number(number) if secret => self.add(&number.to_string()),
            _ => {}
        }
    }

    /// Track the values of the [secret parameters](is_secret_param) of a query string or an
    /// `application/x-www-form-urlencoded` body (decoded, so their encodings follow).
    pub fn add_form(&mut self, encoded: &str) {
        for (name, value) in form_urlencoded::parse(encoded.trim_start_matches('?').as_bytes()) {
            if is_secret_param(&name) {
                self.add(&value);
            }
        }
    }

    /// Track what the names in free text say is secret: `Bearer`/`Basic` credentials, values of
    /// secret pairs (`password=…`, `"token": "…"`), secret XML elements and secret query
    /// parameters of URLs.
    pub fn add_text(&mut self, text: &str) {
        let patterns = patterns();
        let named = [
            &patterns.credentials,
            &patterns.json_pairs,
            &patterns.pairs,
            &patterns.colon_pairs,
            &patterns.elements,
            &patterns.inputs,
        ];
        let found: Vec<String> = named
            .into_iter()
            .flat_map(|pattern| pattern.captures_iter(text))
            .filter(masks)
            .filter_map(|found| value_of(&found).map(|m| m.as_str().to_owned()))
            .chain(
                patterns
                    .query
                    .captures_iter(text)
                    .filter(|found| secret_query_value(found))
                    .map(|found| found[3].to_owned()),
            )
            .collect();
        for value in found {
            self.add(&value);
        }
    }

    /// `text` with every tracked value and its encodings, every known shape and every value
    /// after a secret name masked.
    pub fn redact(&self, text: &str) -> String {
        let text = self.mask_values(text);
        let text = mask_shapes(&text);
        mask_named(&text).into_owned()
    }

    /// [`Secrets::redact`] as [`Redacted`] text, what a writer that must not write a secret
    /// (the snapshot files) accepts.
    pub(crate) fn redacted(&self, text: &str) -> Redacted {
        Redacted(self.redact(text))
    }

    /// Redact a JSON document in place: the value of every secret-named key becomes
    /// [`REDACTED`] (objects and arrays included), every string is [redacted](Secrets::redact),
    /// and a number that is a tracked value or a card number becomes a placeholder string.
    pub fn redact_json(&self, value: &mut Value) {
        match value {
            Value::Object(map) => {
                let renamed = map.keys().any(|key| self.redact(key) != *key);
                if renamed {
                    let entries = std::mem::take(map);
                    for (key, item) in entries {
                        map.insert(self.redact(&key), item);
                    }
                }
                for (key, item) in map.iter_mut() {
                    if is_secret_name(key) && !item.is_null() {
                        *item = Value::String(REDACTED.to_owned());
                    } else {
                        self.redact_json(item);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|item| self.redact_json(item)),
            Value::String(text) => {
                let redacted = self.redact(text);
                if redacted != *text {
                    *text = redacted;
                }
            }
            Value::Number(number) => {
                let digits = number.to_string();
                if self.values.contains(&digits) {
                    *value = Value::String(REDACTED.to_owned());
                } else if is_card_number(&digits) {
                    *value = Value::String(REDACTED_CARD.to_owned());
                }
            }
            Value::Bool(_) | Value::Null => {}
        }
    }

    fn mask_values<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let matcher = self.matcher.get_or_init(|| self.build_matcher());
        match matcher {
            Some(matcher) if matcher.is_match(text) => {
                let mut out = String::with_capacity(text.len());
                matcher.replace_all_with(text, &mut out, |_, _, out| {
                    out.push_str(REDACTED);
                    true
                });
                Cow::Owned(out)
            }
            _ => Cow::Borrowed(text),
        }
    }

    fn build_matcher(&self) -> Option<AhoCorasick> {
        let variants: BTreeSet<String> = self
            .values
            .iter()
            .flat_map(|value| encodings(value))
            .collect();
        if variants.is_empty() {
            return None;
        }
        // Leftmost-longest: where two values start at one place, the longer one is masked
        // whole. The build fails only past the searcher's size limits (gigabytes of values);
        // shapes and names are still masked then.
        // A contiguous NFA: built in a fraction of a DFA's time, and a run's set is rebuilt as
        // it grows; searching it is fast enough for text of a run's size.
        AhoCorasick::builder()
            .kind(Some(AhoCorasickKind::ContiguousNFA))
            .match_kind(MatchKind::LeftmostLongest)
            .build(&variants)
            .ok()
    }
}

/// Text that went through [`Secrets::redact`]: the only text the snapshot files are written
/// from, so a new writer cannot forget to redact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Redacted(String);

impl Redacted {
    /// The redacted text.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// A value as it may appear: as it is, JSON-escaped, URL-encoded (as a path or query component
/// and as a form value) and base64 (standard, with and without padding, and URL-safe).
fn encodings(value: &str) -> Vec<String> {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    let json = serde_json::to_string(value).unwrap_or_default();
    let json = json
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap_or(value)
        .to_owned();
    let padded = STANDARD.encode(value);
    vec![
        value.to_owned(),
        json,
        percent_encode(value),
        form_urlencoded::byte_serialize(value.as_bytes()).collect(),
        padded.trim_end_matches('=').to_owned(),
        padded,
        URL_SAFE_NO_PAD.encode(value),
    ]
}

/// Percent-encode every byte but RFC 3986's unreserved characters.
fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The compiled patterns of shapes and secret names.
struct Patterns {
    /// A whole PEM private key.
    pem: Regex,
    /// A PEM private key cut short (clipped in a message): its header and what follows of it.
    pem_start: Regex,
    /// A JSON Web Token: three base64url segments, the first a JSON header (`eyJ`).
    jwt: Regex,
    /// Where an IBAN may start: a country code and two check digits.
    iban_start: Regex,
    /// A run of 13 to 19 digits, single spaces or dashes between them.
    card: Regex,
    /// A URL query parameter: separator, name, value.
    query: Regex,
    /// `Bearer` / `Basic` credentials (`value`).
    credentials: Regex,
    /// A quoted secret name, a colon, a quoted value: `"token": "…"` (JSON; `name`, `value`).
    json_pairs: Regex,
    /// An unquoted secret name, `=`, a value: `password=…` (`name`, `value`); not a name
    /// inside a path or a longer word.
    pairs: Regex,
    /// An unquoted secret name where a key stands (at the start of a line, or after `{`, `,`,
    /// `(`, `[`, `;`, `|`), `:`, a value: `password: …`, `X-Api-Key: …` (`name`, `value`).
    /// Prose keeps its colons: `the verifier token: printable ASCII`.
    colon_pairs: Regex,
    /// The text of a secret XML element (`name`, `value`).
    elements: Regex,
    /// The value of a secret HTML form field: `name="SAMLResponse" value="…"` (`name`, `dq`).
    inputs: Regex,
}

/// The names the text patterns treat as secret (a regex alternation, case-insensitive).
const SECRET_NAME_PATTERN: &str = "token|secret|password|passwd|passphrase|api[_-]?key|webhook[_-]?key|private[_-]?key|signing[_-]?key|session[_-]?id|sessid|account[_-]?number|iban|saml[_-]?response";

fn patterns() -> &'static Patterns {
    static PATTERNS: OnceLock<Patterns> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        let regex = |pattern: &str| Regex::new(pattern).expect("a valid built-in pattern");
        let name = format!("[a-z0-9_-]*(?:{SECRET_NAME_PATTERN})[a-z0-9_-]*");
        // A value: quoted (to its closing quote, on one line), or up to a space, quote,
        // separator or placeholder.
        let value = r#"(?:"(?P<dq>[^"\n]*)"|'(?P<sq>[^'\n]*)'|(?P<value>[^\s"'`&,;}<\[][^\s"'`&,;}<]*))"#;
        Patterns {
            pem: regex(
                r#"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----[^"]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----"#,
            ),
            pem_start: regex(
                r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----(?:[A-Za-z0-9+/=\r\n]|\\[rn])*",
            ),
            jwt: regex(r"(?-u:\b)eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"),
            iban_start: regex(r"(?-u:\b)[A-Z]{2}[0-9]{2} ?[A-Z0-9]"),
            card: regex(r"(?-u:\b)[0-9](?:[ -]?[0-9]){12,18}(?-u:\b)"),
            query: regex(r#"([?&;])([A-Za-z0-9_.\[\]%-]+)=([^&#\s"'<>`\\]+)"#),
            // Spaces or tabs only: a line ending in "Basic" must not eat the next line's first word.
            credentials: regex(r"(?i)(?-u:\b)(?:bearer|basic)[ \t]+(?P<value>[A-Za-z0-9._~+/=-]+)"),
            json_pairs: regex(&format!(
                r#"(?i)"(?P<name>{name})"\s*:\s*"(?P<value>(?:[^"\\]|\\.)+)""#
            )),
            pairs: regex(&format!(
                r#"(?i)(?:^|[^/.A-Za-z0-9_-])(?P<name>{name})\s*=\s*{value}"#
            )),
            colon_pairs: regex(&format!(
                r#"(?im)(?:^|[{{,(\[;|])[ \t]*(?P<name>{name})[ \t]*:[ \t]*{value}"#
            )),
            elements: regex(&format!(
                r"(?i)<(?P<name>{name})(?:\s[^<>]*)?>(?P<value>[^<]+)</",
                name = "[a-z0-9_:.-]*(?:token|secret|password|passwd|sessionid|api_?key|webhook_?key|private_?key|signing_?key)[a-z0-9_.-]*"
            )),
            inputs: regex(&format!(
                r#"(?i)\bname\s*=\s*"(?P<name>{name})"\s+value\s*=\s*"(?P<dq>[^"]*)""#
            )),
        }
    })
}

/// Mask the known shapes: PEM private keys, JWTs, IBANs, card numbers, secret query parameters.
fn mask_shapes(text: &str) -> Cow<'_, str> {
    let patterns = patterns();
    // Most text (a JSON leaf, a log line) holds no shape at all: each pattern runs only where
    // a cheap test says it may match.
    let digits = text.bytes().filter(u8::is_ascii_digit).count();
    let mut text = Cow::Borrowed(text);
    if text.contains("PRIVATE KEY-----") {
        for pattern in [&patterns.pem, &patterns.pem_start] {
            if let Cow::Owned(masked) = pattern.replace_all(&text, REDACTED_PRIVATE_KEY) {
                text = Cow::Owned(masked);
            }
        }
    }
    if text.contains("eyJ")
        && let Cow::Owned(masked) = patterns.jwt.replace_all(&text, REDACTED_JWT)
    {
        text = Cow::Owned(masked);
    }
    if digits >= 2
        && let Some(masked) = mask_ibans(&text)
    {
        text = Cow::Owned(masked);
    }
    if digits < 13 && !text.contains('=') {
        return text;
    }
    let cards = patterns.card.replace_all(&text, |found: &Captures<'_>| {
        let digits: String = found[0].chars().filter(char::is_ascii_digit).collect();
        if is_card_number(&digits) {
            REDACTED_CARD.to_owned()
        } else {
            found[0].to_owned()
        }
    });
    if let Cow::Owned(masked) = cards {
        text = Cow::Owned(masked);
    }
    let query = patterns.query.replace_all(&text, |found: &Captures<'_>| {
        if secret_query_value(found) && !found[3].starts_with("[redacted") {
            format!("{}{}={REDACTED}", &found[1], &found[2])
        } else {
            found[0].to_owned()
        }
    });
    if let Cow::Owned(masked) = query {
        text = Cow::Owned(masked);
    }
    text
}

/// Whether a query parameter the `query` pattern found holds a secret value: a secret name, and
/// a value that is not a template placeholder (`&sid={{ sid }}` in a scenario's source names a
/// variable, it holds no value).
fn secret_query_value(found: &Captures<'_>) -> bool {
    is_secret_param(&param_name(&found[2])) && !found[3].starts_with("{{")
}

/// `line` with what [`redact_text`] would mask overwritten by `*`, one per character, so that
/// columns keep their place: for a source line shown above carets (a scenario's diagnostics).
/// Values are masked by shape and by name; nothing is tracked by value.
pub(crate) fn mask_same_width(line: &str) -> String {
    let patterns = patterns();
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for pattern in [&patterns.pem, &patterns.pem_start, &patterns.jwt] {
        spans.extend(pattern.find_iter(line).map(|m| (m.start(), m.end())));
    }
    let mut from = 0;
    while let Some(found) = patterns.iban_start.find_at(line, from) {
        from = found.start() + 1;
        if let Some(end) = iban_end(line, found.start()) {
            spans.push((found.start(), end));
            from = end;
        }
    }
    for found in patterns.card.find_iter(line) {
        let digits: String = found
            .as_str()
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        if is_card_number(&digits) {
            spans.push((found.start(), found.end()));
        }
    }
    for found in patterns.query.captures_iter(line) {
        if secret_query_value(&found)
            && let Some(value) = found.get(3)
        {
            spans.push((value.start(), value.end()));
        }
    }
    for pattern in [
        &patterns.credentials,
        &patterns.json_pairs,
        &patterns.elements,
        &patterns.inputs,
        &patterns.pairs,
        &patterns.colon_pairs,
    ] {
        for found in pattern.captures_iter(line) {
            if masks(&found)
                && let Some(value) = value_of(&found)
            {
                spans.push((value.start(), value.end()));
            }
        }
    }
    line.char_indices()
        .map(|(at, c)| {
            if spans
                .iter()
                .any(|(start, end)| (*start..*end).contains(&at))
            {
                '*'
            } else {
                c
            }
        })
        .collect()
}

/// A query parameter's name as written in a URL, decoded (`api%5Fkey` → `api_key`).
fn param_name(raw: &str) -> String {
    form_urlencoded::parse(raw.as_bytes())
        .next()
        .map_or_else(|| raw.to_owned(), |(name, _)| name.into_owned())
}

/// Mask the values after secret names: credentials, pairs and XML elements.
fn mask_named(text: &str) -> Cow<'_, str> {
    let patterns = patterns();
    let credentials = ["earer", "EARER", "asic", "ASIC"]
        .iter()
        .any(|part| text.contains(part));
    let pairs = text.contains(':') || text.contains('=');
    let elements = text.contains('<');
    let mut text = Cow::Borrowed(text);
    for (pattern, may_match) in [
        (&patterns.credentials, credentials),
        (&patterns.json_pairs, pairs),
        (&patterns.elements, elements),
        (&patterns.inputs, elements),
        (&patterns.pairs, pairs),
        (&patterns.colon_pairs, pairs),
    ] {
        if !may_match {
            continue;
        }
        let masked = pattern.replace_all(&text, |found: &Captures<'_>| {
            let whole = found.get(0).map_or("", |m| m.as_str());
            match value_of(found) {
                Some(value) if masks(found) => {
                    let start = found.get(0).map_or(0, |m| m.start());
                    format!(
                        "{}{REDACTED}{}",
                        &whole[..value.start() - start],
                        &whole[value.end() - start..]
                    )
                }
                _ => whole.to_owned(),
            }
        });
        if let Cow::Owned(masked) = masked {
            text = Cow::Owned(masked);
        }
    }
    text
}

/// The value a name pattern found: quoted (`dq`, `sq`) or not (`value`).
fn value_of<'t>(found: &Captures<'t>) -> Option<regex::Match<'t>> {
    found
        .name("value")
        .or_else(|| found.name("dq"))
        .or_else(|| found.name("sq"))
}

/// Whether a match of a name pattern holds a secret: its value has a letter or a digit (`..`
/// in `password: ..` is a placeholder of a help text) and its name is not one that only looks
/// secret (`SyncToken`).
fn masks(found: &Captures<'_>) -> bool {
    let value = value_of(found).map_or("", |m| m.as_str());
    value.chars().any(char::is_alphanumeric)
        && !found
            .name("name")
            .is_some_and(|name| only_looks_secret(&fold(name.as_str())))
}

/// The length of the IBANs of each country (the SWIFT IBAN registry).
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BI", 27),
    ("BR", 29),
    ("BY", 28),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DJ", 27),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FK", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("LY", 25),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MN", 20),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NI", 28),
    ("NL", 18),
    ("NO", 15),
    ("OM", 23),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("RU", 33),
    ("SA", 24),
    ("SC", 31),
    ("SD", 18),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("SO", 23),
    ("ST", 25),
    ("SV", 28),
    ("TL", 23),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
    ("YE", 30),
];

/// `text` with every IBAN masked (compact or in groups separated by single spaces), or `None`
/// when it has none. A candidate is an IBAN when its country is known, it has exactly that
/// country's length, it ends at a word boundary and its mod-97 checksum holds (ISO 13616).
fn mask_ibans(text: &str) -> Option<String> {
    let start = &patterns().iban_start;
    let mut out = String::new();
    let mut copied = 0;
    let mut from = 0;
    while let Some(found) = start.find_at(text, from) {
        let begin = found.start();
        from = begin + 1;
        let Some(end) = iban_end(text, begin) else {
            continue;
        };
        out.push_str(&text[copied..begin]);
        out.push_str(REDACTED_IBAN);
        copied = end;
        from = end;
    }
    if copied == 0 {
        return None;
    }
    out.push_str(&text[copied..]);
    Some(out)
}

/// Where the IBAN starting at `begin` ends, if one does.
fn iban_end(text: &str, begin: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let country = text.get(begin..begin + 2)?;
    let length = iban_length(country)?;
    let mut compact = Vec::with_capacity(length);
    let mut at = begin;
    while compact.len() < length {
        let byte = *bytes.get(at)?;
        if byte.is_ascii_uppercase() || byte.is_ascii_digit() {
            compact.push(byte);
            at += 1;
        } else if byte == b' '
            && !compact.is_empty()
            && bytes
                .get(at + 1)
                .is_some_and(|next| next.is_ascii_uppercase() || next.is_ascii_digit())
        {
            at += 1;
        } else {
            return None;
        }
    }
    if bytes.get(at).is_some_and(u8::is_ascii_alphanumeric) {
        return None;
    }
    iban_checksum_holds(&compact).then_some(at)
}

/// The length of the IBANs of `country` (two capitals), if the SWIFT IBAN registry lists it.
pub(crate) fn iban_length(country: &str) -> Option<usize> {
    IBAN_LENGTHS
        .iter()
        .find(|(code, _)| *code == country)
        .map(|(_, length)| *length)
}

/// Whether the ISO 7064 MOD 97-10 check of a compact IBAN (capitals and digits, at least 4)
/// holds: with the country and check digits moved to the end and letters counted as 10..35,
/// the number leaves 1 divided by 97 (ISO 13616).
pub(crate) fn iban_checksum_holds(compact: &[u8]) -> bool {
    if compact.len() < 4 {
        return false;
    }
    let mut remainder: u32 = 0;
    for &byte in compact[4..].iter().chain(&compact[..4]) {
        let value = if byte.is_ascii_digit() {
            u32::from(byte - b'0')
        } else if byte.is_ascii_uppercase() {
            u32::from(byte - b'A') + 10
        } else {
            return false;
        };
        let scale = if value >= 10 { 100 } else { 10 };
        remainder = (remainder * scale + value) % 97;
    }
    remainder == 1
}

/// Whether `digits` (digits only) is a payment card number: 13 to 19 digits, a card issuer's
/// prefix (Visa, Mastercard, American Express, Discover, JCB, Diners Club, UnionPay, Maestro)
/// and a valid Luhn check digit.
fn is_card_number(digits: &str) -> bool {
    if !(13..=19).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let prefix = |n: usize| digits[..n].parse::<u32>().unwrap_or(0);
    let issuer = digits.starts_with('4')
        || (51..=55).contains(&prefix(2))
        || (2221..=2720).contains(&prefix(4))
        || matches!(
            prefix(2),
            34 | 37 | 36 | 38 | 39 | 62 | 65 | 50 | 56..=58 | 63 | 67
        )
        || prefix(4) == 6011
        || (644..=649).contains(&prefix(3))
        || (3528..=3589).contains(&prefix(4))
        || (300..=305).contains(&prefix(3));
    issuer && luhn(digits)
}

/// The Luhn (mod 10) check over a string of digits.
fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(index, byte)| {
            let digit = u32::from(byte - b'0');
            if index % 2 == 1 {
                let doubled = digit * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                digit
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn known_values_are_masked_with_their_encodings() {
        let mut secrets = Secrets::new();
        secrets.add("cs-PLANTED/se+cret \"q\"");
        let value = "cs-PLANTED/se+cret \"q\"";
        let encoded = [
            value.to_owned(),
            r#"cs-PLANTED/se+cret \"q\""#.to_owned(),
            "cs-PLANTED%2Fse%2Bcret%20%22q%22".to_owned(),
            "cs-PLANTED%2Fse%2Bcret+%22q%22".to_owned(),
            base64::engine::general_purpose::STANDARD.encode(value),
        ];
        for text in encoded {
            let redacted = secrets.redact(&format!("before {text} after"));
            assert_eq!(redacted, "before [redacted] after", "{text}");
        }
    }

    #[test]
    fn short_values_and_placeholders_are_not_tracked() {
        let mut secrets = Secrets::new();
        for value in [
            "Bearer",
            "1234567",
            "   \t    ",
            "[redacted]",
            "[redacted:iban]",
        ] {
            secrets.add(value);
        }
        assert!(secrets.is_empty(), "{secrets:?}");
        secrets.add("12345678");
        assert_eq!(secrets.len(), 1);
        assert_eq!(format!("{secrets:?}"), "Secrets(1 values)");
    }

    #[test]
    fn the_longest_of_overlapping_values_is_masked_whole() {
        let mut secrets = Secrets::new();
        secrets.add("tok-12345678");
        secrets.add("tok-12345678-refresh");
        assert_eq!(
            secrets.redact("a tok-12345678-refresh b tok-12345678"),
            "a [redacted] b [redacted]"
        );
    }

    #[test]
    fn headers_track_their_credentials_and_cookies() {
        let mut secrets = Secrets::new();
        secrets.add_header(
            "Authorization",
            "Basic Y2xpZW50LTc6Y3MtUExBTlRFRC9zZStjcmV0",
        );
        secrets.add_header("Cookie", "sid=SID-4d5e6f7a8b9c; theme=dark");
        secrets.add_header(
            "set-cookie",
            "session=SESS-0a1b2c3d4e; Path=/; Expires=Wed, 21 Oct 2026 07:28:00 GMT",
        );
        secrets.add_header("content-type", "application/json; charset=utf-8");
        let text = "client-7:cs-PLANTED/se+cret cs-PLANTED/se+cret SID-4d5e6f7a8b9c \
                    SESS-0a1b2c3d4e application/json Wed, 21 Oct 2026 07:28:00 GMT";
        assert_eq!(
            secrets.redact(text),
            "[redacted] [redacted] [redacted] [redacted] application/json Wed, 21 Oct 2026 07:28:00 GMT"
        );
    }

    #[test]
    fn json_values_under_secret_keys_are_tracked_at_any_depth() {
        let mut secrets = Secrets::new();
        secrets.add_json(&json!({
            "at": "tok-innocent-name",
            "access_token": "tok-AT-7f3c9a1e5b2d",
            "payee": { "account_number": 31926819, "iban": "GB82WEST12345698765432" },
            "credentials": { "client_secret": ["cs-one-1234", { "x": "cs-two-5678" }] },
            "SyncToken": "12345678",
        }));
        let expected: BTreeSet<String> = [
            "tok-AT-7f3c9a1e5b2d",
            "31926819",
            "GB82WEST12345698765432",
            "cs-one-1234",
            "cs-two-5678",
        ]
        .map(str::to_owned)
        .into();
        assert_eq!(secrets.values, expected);
    }

    #[test]
    fn forms_queries_and_free_text_track_their_secret_parameters() {
        let mut secrets = Secrets::new();
        secrets.add_form("?key=AIzaSy-0123456789&q=London&client_secret=s3cr3t%2Fvalue");
        secrets.add_text(
            "<login><password>pw-xml-12345</password></login> Bearer tok-bearer-123 \
             api_key=k-pair-123456 {\"refresh_token\":\"rt-json-123456\"} https://x/y?sig=sig-url-123456",
        );
        let expected: BTreeSet<String> = [
            "AIzaSy-0123456789",
            "s3cr3t/value",
            "pw-xml-12345",
            "tok-bearer-123",
            "k-pair-123456",
            "rt-json-123456",
            "sig-url-123456",
        ]
        .map(str::to_owned)
        .into();
        assert_eq!(secrets.values, expected);
    }

    /// Each shape masked, and a near twin that is not the shape left alone.
    #[test]
    fn shapes_are_masked_and_look_alikes_are_not() {
        let cases: &[(&str, &str)] = &[
            (
                "refund to DE89 3704 0044 0532 0130 00 failed",
                "refund to [redacted:iban] failed",
            ),
            ("iban GB82WEST12345698765432.", "iban [redacted:iban]."),
            // One digit off: the checksum fails.
            (
                "ref GB82WEST12345698765433 kept",
                "ref GB82WEST12345698765433 kept",
            ),
            // Too long for GB: part of a longer code.
            (
                "GB82WEST123456987654321 kept",
                "GB82WEST123456987654321 kept",
            ),
            (
                "paid with 5555 5555 5555 4444.",
                "paid with [redacted:card].",
            ),
            ("card 4111-1111-1111-1111", "card [redacted:card]"),
            // Luhn fails; a millisecond timestamp has no issuer prefix.
            ("card 4111 1111 1111 1112", "card 4111 1111 1111 1112"),
            ("at 1778313600000 ms", "at 1778313600000 ms"),
            (
                "issued eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl for you",
                "issued [redacted:jwt] for you",
            ),
            (
                "GET /geo?key=AIzaSy012&q=London&sig=abc&keyword=x",
                "GET /geo?key=[redacted]&q=London&sig=[redacted]&keyword=x",
            ),
            (
                "-----BEGIN PRIVATE KEY-----\nMIIEvQIB\nAAKB==\n-----END PRIVATE KEY-----\nafter",
                "[redacted:private-key]\nafter",
            ),
            (
                r#"{"k":"-----BEGIN RSA PRIVATE KEY-----\nMIIBOg\n-----END RSA PRIVATE KEY-----\n"}"#,
                r#"{"k":"[redacted:private-key]\n"}"#,
            ),
            // Clipped in a message: no END line.
            (
                "got `-----BEGIN EC PRIVATE KEY-----\\nMHcCAQEEI…` instead",
                "got `[redacted:private-key]…` instead",
            ),
            (
                "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
                "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(redact_text(text), *expected, "{text}");
        }
    }

    #[test]
    fn values_after_secret_names_are_masked_and_json_stays_json() {
        let detail = r#"json: expected to contain `{"state":"done"}`, got `{"access_token":"eyJ.a.b","refresh_token":"rt-9","account_number":"31926819","state":"failed"}`"#;
        let redacted = redact_text(detail);
        for secret in ["eyJ.a.b", "rt-9", "31926819"] {
            assert!(!redacted.contains(secret), "`{secret}` leaked: {redacted}");
        }
        assert!(redacted.contains(r#""state":"failed""#), "{redacted}");
        assert_eq!(
            redact_text("sent Authorization: Bearer abc.def and password=hunter2"),
            "sent Authorization: Bearer [redacted] and password=[redacted]"
        );
        // A line that ends in "Basic" leaves the next line alone.
        assert_eq!(
            redact_text("help: authenticate with HTTP Basic\nerror: missing `auth`"),
            "help: authenticate with HTTP Basic\nerror: missing `auth`"
        );
        // A quoted value is masked to its closing quote.
        assert_eq!(
            redact_text(r#"password="two words", api_key: 'k 1'"#),
            r#"password="[redacted]", api_key: '[redacted]'"#
        );
        // Where a key stands, a colon separates a secret; in prose it does not.
        assert_eq!(
            redact_text("  password: hunter2\nX-Api-Key: k-123\n{ id: u, password: p }"),
            "  password: [redacted]\nX-Api-Key: [redacted]\n{ id: u, password: [redacted] }"
        );
        // Not a name: a path that ends like one, prose, a help text's example and placeholder;
        // and a name that only looks secret.
        for kept in [
            "mock `xero`: POST /connect/token: 1 → 2",
            "expected the app's webhook verifier token: printable ASCII without spaces",
            "copy it from the app's Webhooks page, e.g. `verifier_token: 3xAmPl3t0k3n`",
            "give at least one user: `{ id: ws-user, password: .. }`",
            r#"{"SyncToken": "0", "Id": "1"} SyncToken=3"#,
        ] {
            assert_eq!(redact_text(kept), kept);
        }
        // Numbers and objects under secret names in JSON text are left to `redact_json`: text
        // redaction never makes JSON invalid.
        let text =
            r#"{"refresh_token_expires_in": 8726400, "password": {"a": 1}, "token": "x\"y"}"#;
        let redacted = redact_text(text);
        assert_eq!(
            redacted,
            r#"{"refresh_token_expires_in": 8726400, "password": {"a": 1}, "token": "[redacted]"}"#
        );
        serde_json::from_str::<Value>(&redacted).expect("still JSON");
    }

    #[test]
    fn a_source_line_is_masked_in_place_so_carets_still_point_right() {
        let line =
            r#"      sign: { secret: k3y-0123, header: "x signature" }, webhook_key: "two words""#;
        let masked = mask_same_width(line);
        assert_eq!(
            masked,
            r#"      sign: { secret: ********, header: "x signature" }, webhook_key: "*********""#
        );
        assert_eq!(masked.chars().count(), line.chars().count());
        assert_eq!(
            mask_same_width("iban: GB82 WEST 1234 5698 7654 32 ?key=abc é"),
            "iban: *************************** ?key=*** é"
        );
        // Masked text redacts to itself: nothing is left to find.
        assert_eq!(redact_text(&masked), masked);
        // A placeholder names a variable: it is shown, a value is not.
        let line = r#"      body: "code={{ code }}&sid={{ sid }}&key=abc123""#;
        assert_eq!(
            mask_same_width(line),
            r#"      body: "code={{ code }}&sid={{ sid }}&key=******""#
        );
    }

    /// An IdP's login page posts the SAML Response from a hidden field: its value is masked
    /// there and wherever it goes next (the form post to the ACS), the field's neighbours not.
    #[test]
    fn a_saml_response_in_an_html_form_is_masked() {
        let page = r#"<form method="post" action="https://sp.test/acs"><input type="hidden" name="SAMLResponse" value="PHNhbWxwOlJlc3BvbnNlPg=="/><input type="hidden" name="RelayState" value="/home"/></form>"#;
        let redacted = redact_text(page);
        assert!(!redacted.contains("PHNhbWxw"), "{redacted}");
        assert!(
            redacted.contains(r#"name="SAMLResponse" value="[redacted]""#),
            "{redacted}"
        );
        assert!(redacted.contains(r#"value="/home""#), "{redacted}");
        let mut secrets = Secrets::default();
        secrets.add_text(page);
        assert_eq!(
            secrets.redact("SAMLResponse=PHNhbWxwOlJlc3BvbnNlPg%3D%3D&RelayState=%2Fhome"),
            "SAMLResponse=[redacted]&RelayState=%2Fhome"
        );
    }

    #[test]
    fn secret_xml_elements_are_masked_but_not_their_neighbours() {
        let body = "<control><senderid>acme</senderid><password>s3nd3r</password></control>\
            <authentication><sessionid>abc123..</sessionid></authentication><password/>";
        let redacted = redact_text(body);
        for secret in ["s3nd3r", "abc123.."] {
            assert!(!redacted.contains(secret), "`{secret}` leaked: {redacted}");
        }
        assert!(redacted.contains("<senderid>acme</senderid>"), "{redacted}");
        assert!(
            redacted.contains("<sessionid>[redacted]</sessionid>"),
            "{redacted}"
        );
    }

    #[test]
    fn json_documents_are_redacted_by_key_value_and_shape() {
        let mut secrets = Secrets::new();
        secrets.add("31926819");
        secrets.add("tok-innocent-name");
        let mut document = json!({
            "at": "tok-innocent-name",
            "webhook_key": "k3y",
            "account": 31926819,
            "amount": 5555555555554444u64,
            "total": 12.5,
            "tok-innocent-name": "as a key",
            "SyncToken": "3",
            "note": "iban GB82WEST12345698765432",
        });
        secrets.redact_json(&mut document);
        assert_eq!(
            document,
            json!({
                "at": "[redacted]",
                "webhook_key": "[redacted]",
                "account": "[redacted]",
                "amount": "[redacted:card]",
                "total": 12.5,
                "[redacted]": "as a key",
                "SyncToken": "3",
                "note": "iban [redacted:iban]",
            })
        );
    }

    #[test]
    fn redaction_is_idempotent_and_stable() {
        let mut secrets = Secrets::new();
        secrets.add("tok-AT-7f3c9a1e5b2d");
        let text = "Bearer tok-AT-7f3c9a1e5b2d ?key=abc GB82 WEST 1234 5698 7654 32 \
                    4111111111111111 eyJhbGciOi.eyJzdWIiOi.sig password=x";
        let once = secrets.redact(text);
        assert_eq!(secrets.redact(&once), once);
        assert_eq!(secrets.clone().redact(text), once);
        assert_eq!(
            once,
            "Bearer [redacted] ?key=[redacted] [redacted:iban] [redacted:card] [redacted:jwt] password=[redacted]"
        );
    }

    #[test]
    fn secret_names_and_parameters() {
        for name in [
            "webhook_key",
            "webhookKey",
            "refresh_token",
            "X-Api-Key",
            "x-api-key",
            "sessionId",
            "PHPSESSID",
            "account_number",
            "Authorization",
        ] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in ["SyncToken", "key", "sessions", "ACCOUNTNO", "code", "id"] {
            assert!(!is_secret_name(name), "{name}");
        }
        for name in ["key", "sig", "sid", "access_token", "code_verifier"] {
            assert!(is_secret_param(name), "{name}");
        }
        for name in ["keyword", "q", "code", "page"] {
            assert!(!is_secret_param(name), "{name}");
        }
    }
}
