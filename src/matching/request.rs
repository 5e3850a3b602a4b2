//! Request matching: whether a request meets a [`RequestMatcher`], and if not, why.
//!
//! Semantics follow WireMock's: every condition present must hold; a miss is explained in one
//! readable line per failed condition (`path: expected `/a`, got `/b``), and the number of
//! conditions that held ranks stubs for near-miss reports.
//!
//! The engine compiles each stub's matcher once into a [`CompiledMatcher`] (anchored path regex,
//! parsed JSONPath, split path template) and, on the hot path, asks only [`CompiledMatcher::matches`],
//! which stops at the first failed condition and formats nothing. The full explanation
//! ([`CompiledMatcher::evaluate`], or [`evaluate`] for a one-off) runs only when no stub matched.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::fmt::Write as _;

use serde_json::Value;
use serde_json_path::JsonPath;

use super::multipart::{self, NotMultipart, Part};
use crate::json_compare::{Loose, json_contains, json_equals, json_like};
use crate::observe::JournalEntry;
use crate::scenario::expression;
use crate::scenario::model::{
    BodyMatcher, PartMatch, PathMatcher, Pattern, RequestMatcher, ValueMatcher,
};
use crate::scenario::template::codec;
use crate::secrets::{REDACTED, is_secret_name, is_secret_param};

/// A request as matching sees it: from the wire or from a journal entry.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestView<'a> {
    /// Method, upper case.
    pub method: &'a str,
    /// Path without query.
    pub path: &'a str,
    /// Raw query string without `?`.
    pub query: &'a str,
    /// Headers (names lower case).
    pub headers: &'a [(String, String)],
    /// Raw body.
    pub body: &'a [u8],
}

impl<'a> From<&'a JournalEntry> for RequestView<'a> {
    /// A journal entry as matching sees it.
    fn from(entry: &'a JournalEntry) -> Self {
        RequestView {
            method: &entry.method,
            path: &entry.path,
            query: &entry.query,
            headers: &entry.headers,
            body: entry.body.as_bytes(),
        }
    }
}

/// The result of matching one request against one matcher.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct MatchResult {
    /// Every condition that failed, as readable reasons (`path: expected /a, got /b`); empty when
    /// the request matched.
    pub misses: Vec<String>,
    /// How many conditions held; used to find the closest stub for near-miss reports.
    pub hits: usize,
    /// Path parameters captured by a path template.
    pub path_params: Vec<(String, String)>,
}

impl MatchResult {
    /// Whether every condition held.
    pub(crate) fn matched(&self) -> bool {
        self.misses.is_empty()
    }
}

/// Match a request against a matcher.
///
/// This compiles the matcher first; a caller matching many requests against the same matcher
/// should keep a [`CompiledMatcher`] instead.
pub(crate) fn evaluate(matcher: &RequestMatcher, request: &RequestView<'_>) -> MatchResult {
    CompiledMatcher::new(matcher).evaluate(request, &ParsedBody::new(request.body))
}

/// A request body, parsed lazily and at most once however many stubs look at it.
#[derive(Debug)]
pub(crate) struct ParsedBody<'a> {
    raw: &'a [u8],
    json: OnceCell<Result<Value, NotJson>>,
    multipart: OnceCell<Result<Vec<ParsedPart<'a>>, NotMultipart>>,
}

/// One part of a multipart body with its body parsed lazily, so that however many conditions
/// look at a part, its JSON is parsed once.
#[derive(Debug)]
struct ParsedPart<'a> {
    part: Part<'a>,
    body: ParsedBody<'a>,
}

/// Why a request body is not JSON. Kept typed in the cache, so a quick match formats nothing;
/// a reported miss shows the text.
#[derive(Debug, thiserror::Error)]
enum NotJson {
    /// Nothing but whitespace.
    #[error("body is not JSON: the body is empty")]
    Empty,
    /// Not valid JSON.
    #[error("body is not JSON: {0}")]
    Syntax(serde_json::Error),
}

impl<'a> ParsedBody<'a> {
    /// Wrap a raw body; nothing is parsed until a condition needs it.
    pub(crate) fn new(raw: &'a [u8]) -> Self {
        ParsedBody {
            raw,
            json: OnceCell::new(),
            multipart: OnceCell::new(),
        }
    }

    /// The parts of a multipart body, read with the `Content-Type` among `headers` (the same
    /// for every look at one body).
    fn multipart(&self, headers: &[(String, String)]) -> Result<&[ParsedPart<'a>], &NotMultipart> {
        self.multipart
            .get_or_init(|| {
                let content_type = headers
                    .iter()
                    .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
                    .map(|(_, value)| value.as_str());
                let parts = multipart::parse(content_type, self.raw)?;
                Ok(parts
                    .into_iter()
                    .map(|part| ParsedPart {
                        body: ParsedBody::new(part.body),
                        part,
                    })
                    .collect())
            })
            .as_ref()
            .map(Vec::as_slice)
    }

    fn json(&self) -> Result<&Value, &NotJson> {
        self.json
            .get_or_init(|| {
                if self.raw.iter().all(u8::is_ascii_whitespace) {
                    return Err(NotJson::Empty);
                }
                serde_json::from_slice(self.raw).map_err(NotJson::Syntax)
            })
            .as_ref()
    }

    fn text(&self) -> Cow<'a, str> {
        String::from_utf8_lossy(self.raw)
    }
}

/// A [`RequestMatcher`] prepared for matching many requests.
#[derive(Debug)]
pub(crate) struct CompiledMatcher {
    method: Option<String>,
    path: Option<CompiledPath>,
    query: Vec<(String, ValueMatcher)>,
    headers: Vec<(String, ValueMatcher)>,
    cookies: Vec<(String, ValueMatcher)>,
    body: Vec<CompiledBody>,
}

#[derive(Debug)]
enum CompiledPath {
    Exact(String),
    /// Path and query string as sent.
    Url(String),
    Template {
        source: String,
        segments: Vec<Segment>,
    },
    Regex {
        source: String,
        anchored: regex::Regex,
    },
    /// Path and query string as sent, against an anchored regex.
    UrlRegex {
        source: String,
        anchored: regex::Regex,
    },
}

#[derive(Debug)]
enum Segment {
    Literal(String),
    Param(String),
}

#[derive(Debug)]
enum CompiledBody {
    JsonEquals(Value),
    JsonPartial(Value),
    JsonLike {
        value: Value,
        loose: Loose,
    },
    JsonPath {
        source: String,
        /// The compiled path, or why it is not one (over budget, or malformed).
        path: Result<JsonPath, String>,
        value: Option<Value>,
    },
    XPath {
        source: String,
        value: Option<ValueMatcher>,
    },
    Form(Vec<(String, ValueMatcher)>),
    Contains(String),
    Multipart {
        parts: PartMatch,
        headers: Vec<(String, ValueMatcher)>,
        text: Option<ValueMatcher>,
        content: Vec<CompiledBody>,
    },
}

/// The most cookie pairs read from a request's `Cookie` headers; later ones are not seen.
const MAX_COOKIES: usize = 1_000;

/// The cookies a request carries: the `name=value` pairs of its `Cookie` headers, in order
/// (RFC 6265 §4.2.1, several headers read one after the other, a quoted value unquoted), within
/// [`MAX_COOKIES`]. A pair without `=` is no cookie.
fn cookies(headers: &[(String, String)]) -> impl Iterator<Item = (&str, &str)> {
    headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("cookie"))
        .flat_map(|(_, value)| value.split(';'))
        .take(MAX_COOKIES)
        .filter_map(|pair| {
            let (name, value) = pair.split_once('=')?;
            let value = value.trim();
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value);
            Some((name.trim(), value))
        })
}

/// One body condition prepared for matching (a multipart condition's part conditions too).
fn compile_body(condition: &BodyMatcher) -> CompiledBody {
    match condition {
        BodyMatcher::JsonEquals { value } => CompiledBody::JsonEquals(value.clone()),
        BodyMatcher::JsonPartial { value } => CompiledBody::JsonPartial(value.clone()),
        BodyMatcher::JsonLike {
            value,
            ignore_array_order,
            ignore_extra_elements,
        } => CompiledBody::JsonLike {
            value: value.clone(),
            loose: Loose {
                array_order: *ignore_array_order,
                extra_elements: *ignore_extra_elements,
            },
        },
        BodyMatcher::JsonPath { path, value } => CompiledBody::JsonPath {
            source: path.clone(),
            path: compile_jsonpath(path),
            value: value.clone(),
        },
        BodyMatcher::XPath { path, value } => CompiledBody::XPath {
            source: path.clone(),
            value: value.clone(),
        },
        BodyMatcher::Form { fields } => CompiledBody::Form(fields.clone()),
        BodyMatcher::Contains { text } => CompiledBody::Contains(text.clone()),
        BodyMatcher::Multipart {
            parts,
            headers,
            body,
            content,
        } => CompiledBody::Multipart {
            parts: *parts,
            headers: headers.clone(),
            text: body.clone(),
            content: content.iter().map(compile_body).collect(),
        },
    }
}

/// Conditions that can never hold because they are malformed, parts' conditions included.
fn body_problems(conditions: &[CompiledBody], problems: &mut Vec<String>) {
    for body in conditions {
        match body {
            CompiledBody::JsonPath {
                source,
                path: Err(e),
                ..
            } => problems.push(format!("invalid jsonpath `{source}`: {e}")),
            CompiledBody::XPath { source, .. } => {
                if let Err(e) = build_xpath(source) {
                    problems.push(e.to_string());
                }
            }
            CompiledBody::Multipart { content, .. } => body_problems(content, problems),
            _ => {}
        }
    }
}

/// Marker: a condition failed and the caller only wants to know whether everything held.
struct Stop;

/// Collects hits and misses; in quick mode it stops at the first miss without formatting.
struct Tally {
    report: bool,
    result: MatchResult,
}

impl Tally {
    fn hit(&mut self) {
        self.result.hits += 1;
    }

    fn miss(&mut self, reason: impl FnOnce() -> String) -> Result<(), Stop> {
        if !self.report {
            return Err(Stop);
        }
        let reason = reason();
        if !self.result.misses.contains(&reason) {
            self.result.misses.push(reason);
        }
        Ok(())
    }

    fn check(&mut self, held: bool, reason: impl FnOnce() -> String) -> Result<(), Stop> {
        if held {
            self.hit();
            Ok(())
        } else {
            self.miss(reason)
        }
    }
}

impl CompiledMatcher {
    /// Prepare `matcher`. Never fails: a condition that cannot be prepared (an invalid JSONPath
    /// or XPath) never holds and says why; [`CompiledMatcher::problems`] lists such conditions.
    pub(crate) fn new(matcher: &RequestMatcher) -> Self {
        let method = matcher
            .method
            .as_deref()
            .filter(|m| !m.eq_ignore_ascii_case("ANY"))
            .map(str::to_ascii_uppercase);
        let path = matcher.path.as_ref().map(|path| match path {
            PathMatcher::Exact(p) => CompiledPath::Exact(p.clone()),
            PathMatcher::Url(url) => CompiledPath::Url(url.clone()),
            PathMatcher::Template(t) => CompiledPath::Template {
                source: t.clone(),
                segments: t
                    .split('/')
                    .map(
                        |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                            Some(name) if !name.is_empty() => Segment::Param(name.to_owned()),
                            _ => Segment::Literal(s.to_owned()),
                        },
                    )
                    .collect(),
            },
            PathMatcher::Regex(p) => {
                let (source, anchored) = anchor(p);
                CompiledPath::Regex { source, anchored }
            }
            PathMatcher::UrlRegex(p) => {
                let (source, anchored) = anchor(p);
                CompiledPath::UrlRegex { source, anchored }
            }
        });
        let headers = matcher
            .headers
            .iter()
            .map(|(name, m)| (name.to_ascii_lowercase(), m.clone()))
            .collect();
        let body = matcher.body.iter().map(compile_body).collect();
        CompiledMatcher {
            method,
            path,
            query: matcher.query.clone(),
            headers,
            cookies: matcher.cookies.clone(),
            body,
        }
    }

    /// Conditions that can never hold because they are malformed (an invalid JSONPath or
    /// XPath), as readable reasons; empty for a sound matcher.
    pub(crate) fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        body_problems(&self.body, &mut problems);
        problems
    }

    /// Whether every condition holds; stops at the first miss and allocates only what body
    /// conditions need.
    pub(crate) fn matches(&self, request: &RequestView<'_>, body: &ParsedBody<'_>) -> bool {
        let mut tally = Tally {
            report: false,
            result: MatchResult::default(),
        };
        self.run(request, body, &mut tally).is_ok()
    }

    /// Match a request and explain every miss.
    pub(crate) fn evaluate(&self, request: &RequestView<'_>, body: &ParsedBody<'_>) -> MatchResult {
        let mut tally = Tally {
            report: true,
            result: MatchResult::default(),
        };
        // In report mode no condition stops the evaluation.
        let _ = self.run(request, body, &mut tally);
        tally.result
    }

    fn run(
        &self,
        request: &RequestView<'_>,
        body: &ParsedBody<'_>,
        tally: &mut Tally,
    ) -> Result<(), Stop> {
        if let Some(method) = &self.method {
            tally.check(method.eq_ignore_ascii_case(request.method), || {
                format!(
                    "method: expected `{method}`, got `{}`",
                    clip(request.method)
                )
            })?;
        }
        if let Some(path) = &self.path {
            match_path(path, request.path, request.query, tally)?;
        }
        for (name, matcher) in &self.query {
            let values = form_urlencoded::parse(request.query.as_bytes())
                .filter(|(key, _)| key == name)
                .map(|(_, value)| value);
            match_values(("query", name), matcher, values, tally)?;
        }
        for (name, matcher) in &self.headers {
            let values = request
                .headers
                .iter()
                .filter(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, value)| Cow::Borrowed(value.as_str()));
            match_values(("header", name), matcher, values, tally)?;
        }
        for (name, matcher) in &self.cookies {
            let values = cookies(request.headers)
                .filter(|(key, _)| key == name)
                .map(|(_, value)| Cow::Borrowed(value));
            match_values(("cookie", name), matcher, values, tally)?;
        }
        for condition in &self.body {
            match_body(condition, body, request.headers, tally)?;
        }
        Ok(())
    }
}

/// A regex's source and its anchored form. The anchored form of a valid regex is valid too,
/// unless it crosses the size limit; then the regex is used as it is, and the match is checked to
/// span the whole text.
fn anchor(pattern: &Pattern) -> (String, regex::Regex) {
    let source = pattern.0.as_str().to_owned();
    let anchored =
        expression::regex(&format!("^(?:{source})$")).unwrap_or_else(|_| pattern.0.clone());
    (source, anchored)
}

/// Whether `regex` matches the whole of `text`.
fn spans(regex: &regex::Regex, text: &str) -> bool {
    regex
        .find(text)
        .is_some_and(|m| m.start() == 0 && m.end() == text.len())
}

fn match_path(
    path: &CompiledPath,
    actual: &str,
    query: &str,
    tally: &mut Tally,
) -> Result<(), Stop> {
    match path {
        CompiledPath::Url(expected) => {
            let sent = url_as_sent(actual, query);
            tally.check(*expected == *sent, || {
                format!("url: expected `{expected}`, got `{}`", clip(&sent))
            })
        }
        CompiledPath::UrlRegex { source, anchored } => {
            let sent = url_as_sent(actual, query);
            tally.check(spans(anchored, &sent), || {
                format!("url: expected to match `{source}`, got `{}`", clip(&sent))
            })
        }
        CompiledPath::Exact(expected) => tally.check(expected == actual, || {
            format!("path: expected `{expected}`, got `{}`", clip(actual))
        }),
        CompiledPath::Template { source, segments } => {
            let mut parts = actual.split('/');
            let mut held = true;
            let mut params = Vec::new();
            for segment in segments {
                let Some(part) = parts.next() else {
                    held = false;
                    break;
                };
                match segment {
                    Segment::Literal(literal) => held &= literal == part,
                    Segment::Param(name) => {
                        held &= !part.is_empty();
                        if tally.report {
                            params.push((name.clone(), part.to_owned()));
                        }
                    }
                }
                if !held {
                    break;
                }
            }
            held &= parts.next().is_none();
            if held {
                tally.result.path_params = params;
            }
            tally.check(held, || {
                format!("path: expected template `{source}`, got `{}`", clip(actual))
            })
        }
        CompiledPath::Regex { source, anchored } => tally.check(spans(anchored, actual), || {
            format!("path: expected to match `{source}`, got `{}`", clip(actual))
        }),
    }
}

/// The path and query string as the client sent them: `/orders?page=2`, or the path alone.
fn url_as_sent<'a>(path: &'a str, query: &str) -> Cow<'a, str> {
    if query.is_empty() {
        Cow::Borrowed(path)
    } else {
        Cow::Owned(format!("{path}?{query}"))
    }
}

/// Match the values a request carries under one name (query parameter, header, form field):
/// the name must be present and some value must match (or, for `present: false`, be absent).
/// The label (`("header", "accept")`) is formatted only when a miss is reported.
fn match_values<'v>(
    (kind, name): (&str, &str),
    matcher: &ValueMatcher,
    values: impl Iterator<Item = Cow<'v, str>>,
    tally: &mut Tally,
) -> Result<(), Stop> {
    if let ValueMatcher::Not(inner) = matcher {
        // A negation judges every value, so they are all kept.
        let values: Vec<Cow<'v, str>> = values.collect();
        let held = !values_hold(inner, &values);
        let secret = is_secret_label(kind, name);
        return tally.check(held, || {
            let got = if values.is_empty() {
                "nothing".to_owned()
            } else if secret {
                list(&vec![Cow::Borrowed(REDACTED); values.len()])
            } else {
                list(&values)
            };
            let expected = if secret {
                format!("not `{REDACTED}`")
            } else {
                describe_value(matcher)
            };
            format!("{kind} `{name}`: expected {expected}, got {got}")
        });
    }
    // Values that did not match, kept only for reasons (quick mode must not allocate).
    let mut seen: Vec<Cow<'v, str>> = Vec::new();
    let mut present = false;
    let mut held = false;
    for value in values {
        present = true;
        if value_matches(matcher, &value) {
            held = true;
            break;
        }
        if tally.report {
            seen.push(value);
        }
    }
    if held {
        tally.hit();
        return Ok(());
    }
    // A miss is explained to whoever sent the request (the near-miss 404) and lands in reports:
    // under a secret name neither the expected value nor the ones sent are shown.
    let secret = is_secret_label(kind, name);
    let got = |seen: &[Cow<'_, str>]| {
        if secret {
            list(&vec![Cow::Borrowed(REDACTED); seen.len()])
        } else {
            list(seen)
        }
    };
    match matcher {
        ValueMatcher::Present(false) => tally.check(!present, || {
            format!("{kind} `{name}`: expected absent, got {}", got(&seen))
        }),
        _ if !present => tally.miss(|| format!("{kind} `{name}`: missing")),
        _ => tally.miss(|| {
            let expected = match matcher {
                ValueMatcher::Equals(_) if secret => format!("`{REDACTED}`"),
                ValueMatcher::Contains(_) if secret => format!("to contain `{REDACTED}`"),
                ValueMatcher::Regex(_) if secret => format!("to match `{REDACTED}`"),
                ValueMatcher::OneOf(_) if secret => format!("one of `{REDACTED}`"),
                _ => describe_value(matcher),
            };
            format!("{kind} `{name}`: expected {expected}, got {}", got(&seen))
        }),
    }
}

/// Whether the values under a name are secret in reasons: a header (a part's too) by its name,
/// every cookie (the `Cookie` header is secret as a whole), anything else (query parameter,
/// form field) as a parameter.
fn is_secret_label(kind: &str, name: &str) -> bool {
    match kind {
        "header" | "part header" => is_secret_name(name),
        "cookie" => true,
        _ => is_secret_param(name),
    }
}

/// Whether `matcher` holds for all the values carried under one name (none: the name is
/// absent): some value matches, `present: false` holds when there is none, and `not` when its
/// inner matcher does not hold.
fn values_hold(matcher: &ValueMatcher, values: &[Cow<'_, str>]) -> bool {
    match matcher {
        ValueMatcher::Present(false) => values.is_empty(),
        ValueMatcher::Not(inner) => !values_hold(inner, values),
        _ => values.iter().any(|value| value_matches(matcher, value)),
    }
}

fn value_matches(matcher: &ValueMatcher, value: &str) -> bool {
    match matcher {
        ValueMatcher::Equals(expected) => expected == value,
        ValueMatcher::Contains(part) => value.contains(part.as_str()),
        ValueMatcher::Regex(pattern) => pattern.0.is_match(value),
        ValueMatcher::Present(present) => *present,
        ValueMatcher::OneOf(options) => options.iter().any(|option| option == value),
        ValueMatcher::Not(inner) => !values_hold(inner, &[Cow::Borrowed(value)]),
    }
}

fn describe_value(matcher: &ValueMatcher) -> String {
    match matcher {
        ValueMatcher::Equals(v) => format!("`{}`", clip(v)),
        ValueMatcher::Contains(v) => format!("to contain `{}`", clip(v)),
        ValueMatcher::Regex(p) => format!("to match `{}`", p.0.as_str()),
        ValueMatcher::Present(true) => "present".to_owned(),
        ValueMatcher::Present(false) => "absent".to_owned(),
        ValueMatcher::OneOf(options) => {
            let options: Vec<Cow<'_, str>> =
                options.iter().map(|o| Cow::Borrowed(o.as_str())).collect();
            format!("one of {}", list(&options))
        }
        ValueMatcher::Not(inner) => format!("not {}", describe_value(inner)),
    }
}

fn list(values: &[Cow<'_, str>]) -> String {
    let mut out = String::new();
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "`{}`", clip(value));
    }
    out
}

/// Match one body condition; `headers` are those the body came with (the request's, or a
/// part's), whose `Content-Type` says how a multipart body is split.
fn match_body(
    condition: &CompiledBody,
    body: &ParsedBody<'_>,
    headers: &[(String, String)],
    tally: &mut Tally,
) -> Result<(), Stop> {
    match condition {
        CompiledBody::JsonEquals(expected) => match body.json() {
            Ok(actual) => tally.check(json_equals(actual, expected), || {
                format!(
                    "json body: expected `{}`, got `{}`",
                    clip(&expected.to_string()),
                    clip(&actual.to_string())
                )
            }),
            Err(e) => tally.miss(|| e.to_string()),
        },
        CompiledBody::JsonLike {
            value: expected,
            loose,
        } => match body.json() {
            Ok(actual) => tally.check(json_like(actual, expected, *loose), || {
                format!(
                    "json body: expected `{}` ({}), got `{}`",
                    clip(&expected.to_string()),
                    loose.describe(),
                    clip(&actual.to_string())
                )
            }),
            Err(e) => tally.miss(|| e.to_string()),
        },
        CompiledBody::JsonPartial(expected) => match body.json() {
            Ok(actual) => tally.check(json_contains(actual, expected), || {
                format!(
                    "json body: expected `{}` (partial), got `{}`",
                    clip(&expected.to_string()),
                    clip(&actual.to_string())
                )
            }),
            Err(e) => tally.miss(|| e.to_string()),
        },
        CompiledBody::JsonPath {
            source,
            path,
            value,
        } => {
            let path = match path {
                Ok(path) => path,
                Err(e) => return tally.miss(|| format!("invalid jsonpath `{source}`: {e}")),
            };
            let document = match body.json() {
                Ok(document) => document,
                Err(e) => return tally.miss(|| e.to_string()),
            };
            let nodes = path.query(document);
            if nodes.is_empty() {
                return tally.miss(|| format!("jsonpath `{source}`: selected nothing"));
            }
            let Some(expected) = value else {
                tally.hit();
                return Ok(());
            };
            tally.check(nodes.iter().any(|n| json_contains(n, expected)), || {
                let got = match nodes.len() {
                    1 => nodes.iter().map(|n| n.to_string()).collect::<String>(),
                    _ => Value::Array(nodes.iter().map(|n| (*n).clone()).collect()).to_string(),
                };
                format!(
                    "jsonpath `{source}`: expected `{}`, got `{}`",
                    clip(&expected.to_string()),
                    clip(&got)
                )
            })
        }
        CompiledBody::XPath { source, value } => match xpath_outcome(source, body) {
            Ok(XPathOutcome { selected, strings }) => {
                let absence_may_hold = matches!(
                    value,
                    Some(ValueMatcher::Present(false) | ValueMatcher::Not(_))
                );
                if !selected && !absence_may_hold {
                    return tally.miss(|| format!("xpath `{source}`: selected nothing"));
                }
                let Some(matcher) = value else {
                    tally.hit();
                    return Ok(());
                };
                // What it selected, as the values under one name: none when it selected nothing.
                let strings = strings
                    .iter()
                    .filter(|_| selected)
                    .map(|s| Cow::Borrowed(s.as_str()));
                match_values(("xpath", source), matcher, strings, tally)
            }
            Err(e) => tally.miss(|| e.to_string()),
        },
        CompiledBody::Form(fields) => {
            for (name, matcher) in fields {
                let values = form_urlencoded::parse(body.raw)
                    .filter(|(key, _)| key == name)
                    .map(|(_, value)| value);
                match_values(("form field", name), matcher, values, tally)?;
            }
            Ok(())
        }
        CompiledBody::Contains(text) => tally.check(body.text().contains(text.as_str()), || {
            format!(
                "body: expected to contain `{}`, got `{}`",
                clip(text),
                clip(&body.text())
            )
        }),
        CompiledBody::Multipart { parts: which, .. } => {
            let parts = match body.multipart(headers) {
                Ok(parts) => parts,
                Err(e) => return tally.miss(|| e.to_string()),
            };
            // WireMock finds no part in a body without any, whether `any` or `all` is asked.
            if parts.is_empty() {
                return tally.miss(|| "multipart: the body has no parts".to_owned());
            }
            let holds = |part: &ParsedPart<'_>| {
                let mut quick = Tally {
                    report: false,
                    result: MatchResult::default(),
                };
                match_part(condition, part, &mut quick).is_ok()
            };
            let explain = |part: &ParsedPart<'_>| {
                let mut full = Tally {
                    report: true,
                    result: MatchResult::default(),
                };
                let _ = match_part(condition, part, &mut full);
                full.result
            };
            match which {
                PartMatch::Any => {
                    if parts.iter().any(holds) {
                        tally.hit();
                        return Ok(());
                    }
                    tally.miss(|| {
                        // The part that came closest says most about what was meant.
                        let mut closest = (0, explain(&parts[0]));
                        for (index, part) in parts.iter().enumerate().skip(1) {
                            let result = explain(part);
                            if result.hits > closest.1.hits {
                                closest = (index, result);
                            }
                        }
                        format!(
                            "multipart: no part matched; closest, part {} of {}: {}",
                            closest.0 + 1,
                            parts.len(),
                            closest.1.misses.join("; ")
                        )
                    })
                }
                PartMatch::All => match parts.iter().position(|part| !holds(part)) {
                    None => {
                        tally.hit();
                        Ok(())
                    }
                    Some(index) => tally.miss(|| {
                        format!(
                            "multipart: part {} of {} does not match: {}",
                            index + 1,
                            parts.len(),
                            explain(&parts[index]).misses.join("; ")
                        )
                    }),
                },
            }
        }
    }
}

/// Match one part against the part conditions of a multipart condition: its headers, its body
/// as text, and its body as a body of its own.
fn match_part(
    condition: &CompiledBody,
    parsed: &ParsedPart<'_>,
    tally: &mut Tally,
) -> Result<(), Stop> {
    let part = &parsed.part;
    let CompiledBody::Multipart {
        headers,
        text,
        content,
        ..
    } = condition
    else {
        return Ok(());
    };
    for (name, matcher) in headers {
        let values = part
            .headers
            .iter()
            .filter(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| Cow::Borrowed(value.as_str()));
        match_values(("part header", name), matcher, values, tally)?;
    }
    if let Some(matcher) = text {
        let body = String::from_utf8_lossy(part.body);
        tally.check(values_hold(matcher, &[Cow::Borrowed(&body)]), || {
            format!(
                "part body: expected {}, got `{}`",
                describe_value(matcher),
                clip(&body)
            )
        })?;
    }
    for condition in content {
        match_body(condition, &parsed.body, &part.headers, tally)?;
    }
    Ok(())
}

struct XPathOutcome {
    selected: bool,
    strings: Vec<String>,
}

/// Why an XPath condition cannot hold on a body: a miss reason (or, for a malformed
/// expression, a problem of the matcher), formatted only when reported.
#[derive(Debug, thiserror::Error)]
enum XPathError {
    /// The expression is empty.
    #[error("invalid xpath `{expression}`: empty expression")]
    Empty {
        /// The expression.
        expression: String,
    },
    /// The expression is over the expression budgets or names what evaluation rejects.
    #[error("invalid xpath `{expression}`: {error}")]
    Budget {
        /// The expression.
        expression: String,
        /// What is wrong.
        error: String,
    },
    /// The expression does not parse.
    #[error("invalid xpath `{expression}`: {error}")]
    Syntax {
        /// The expression.
        expression: String,
        /// What the parser said.
        error: sxd_xpath::ParserError,
    },
    /// The body is not an XML document.
    #[error("body is not XML: {0}")]
    NotXml(sxd_document::parser::Error),
    /// The body is too large or nests too deep to be read as XML.
    #[error("body is not read as XML: {0}")]
    OverLimits(String),
    /// The expression failed on the document.
    #[error("xpath `{expression}`: {error}")]
    Evaluation {
        /// The expression.
        expression: String,
        /// What went wrong.
        error: sxd_xpath::ExecutionError,
    },
}

/// A JSONPath within the expression budgets, compiled. Scenarios are checked when they load;
/// stubs can also arrive through a mock's control API, so the budgets are checked again here.
fn compile_jsonpath(source: &str) -> Result<JsonPath, String> {
    expression::check_jsonpath(source).map_err(|error| error.to_string())?;
    JsonPath::parse(source).map_err(|error| error.to_string())
}

fn build_xpath(source: &str) -> Result<sxd_xpath::XPath, XPathError> {
    // Over budget, or naming what only evaluation rejects (sxd-xpath panics on an undeclared
    // namespace prefix), it is not built at all.
    if let Err(error) = expression::check_xpath(source) {
        return Err(XPathError::Budget {
            expression: source.to_owned(),
            error: error.to_string(),
        });
    }
    match sxd_xpath::Factory::new().build(source) {
        Ok(Some(xpath)) => Ok(xpath),
        Ok(None) => Err(XPathError::Empty {
            expression: source.to_owned(),
        }),
        Err(error) => Err(XPathError::Syntax {
            expression: source.to_owned(),
            error,
        }),
    }
}

/// Evaluate an XPath against the body. `sxd_xpath` expressions are neither `Send` nor `Sync`,
/// so they are built per evaluation; XPath stubs are rare and the engine validates them once.
fn xpath_outcome(source: &str, body: &ParsedBody<'_>) -> Result<XPathOutcome, XPathError> {
    let xpath = build_xpath(source)?;
    let text = body.text();
    codec::within_xml_limits(&text).map_err(XPathError::OverLimits)?;
    let package = sxd_document::parser::parse(&text).map_err(XPathError::NotXml)?;
    let document = package.as_document();
    let context = sxd_xpath::Context::new();
    let value =
        xpath
            .evaluate(&context, document.root())
            .map_err(|error| XPathError::Evaluation {
                expression: source.to_owned(),
                error,
            })?;
    Ok(match value {
        sxd_xpath::Value::Nodeset(nodes) => XPathOutcome {
            selected: nodes.size() > 0,
            strings: nodes
                .document_order()
                .iter()
                .map(|n| n.string_value())
                .collect(),
        },
        sxd_xpath::Value::Boolean(b) => XPathOutcome {
            selected: b,
            strings: vec![b.to_string()],
        },
        sxd_xpath::Value::Number(n) => XPathOutcome {
            selected: n != 0.0 && !n.is_nan(),
            strings: vec![sxd_xpath::Value::Number(n).string()],
        },
        sxd_xpath::Value::String(s) => XPathOutcome {
            selected: !s.is_empty(),
            strings: vec![s],
        },
    })
}

/// Keep reasons readable when a request carries a large value.
fn clip(text: &str) -> Cow<'_, str> {
    const MAX: usize = 200;
    if text.len() <= MAX {
        return Cow::Borrowed(text);
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!("{}…", &text[..end]))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::scenario::model::Pattern;

    fn regex(source: &str) -> Pattern {
        Pattern(regex::Regex::new(source).expect("test regex"))
    }

    fn request<'a>(
        method: &'a str,
        path: &'a str,
        query: &'a str,
        headers: &'a [(String, String)],
        body: &'a [u8],
    ) -> RequestView<'a> {
        RequestView {
            method,
            path,
            query,
            headers,
            body,
        }
    }

    /// Evaluate with both entry points and check they agree on whether it matched.
    fn check(matcher: &RequestMatcher, view: &RequestView<'_>) -> MatchResult {
        let result = evaluate(matcher, view);
        let quick = CompiledMatcher::new(matcher).matches(view, &ParsedBody::new(view.body));
        assert_eq!(quick, result.matched(), "quick and full matching disagree");
        result
    }

    #[test]
    fn method_and_path_table() {
        let no_headers: &[(String, String)] = &[];
        /// Method and path conditions, the request's method and path, the expected miss.
        type Case<'a> = (
            Option<&'a str>,
            Option<PathMatcher>,
            &'a str,
            &'a str,
            Option<&'a str>,
        );
        let cases: Vec<Case<'_>> = vec![
            (None, None, "DELETE", "/anything", None),
            (Some("ANY"), None, "PATCH", "/", None),
            (Some("post"), None, "POST", "/", None),
            (
                Some("POST"),
                None,
                "GET",
                "/",
                Some("method: expected `POST`, got `GET`"),
            ),
            (
                None,
                Some(PathMatcher::Exact("/api/bills".into())),
                "GET",
                "/api/bill",
                Some("path: expected `/api/bills`, got `/api/bill`"),
            ),
            (
                None,
                Some(PathMatcher::Template("/invoices/{id}".into())),
                "GET",
                "/invoices/42",
                None,
            ),
            (
                None,
                Some(PathMatcher::Template("/invoices/{id}".into())),
                "GET",
                "/invoices/42/lines",
                Some("path: expected template `/invoices/{id}`, got `/invoices/42/lines`"),
            ),
            (
                None,
                Some(PathMatcher::Template("/invoices/{id}".into())),
                "GET",
                "/invoices/",
                Some("path: expected template `/invoices/{id}`, got `/invoices/`"),
            ),
            (
                None,
                Some(PathMatcher::Template("/invoices/{id}".into())),
                "GET",
                "/invoices",
                Some("path: expected template `/invoices/{id}`, got `/invoices`"),
            ),
            (
                None,
                Some(PathMatcher::Regex(regex("/api/v[0-9]+/bills"))),
                "GET",
                "/api/v2/bills",
                None,
            ),
            (
                None,
                Some(PathMatcher::Regex(regex("/api/v[0-9]+/bills"))),
                "GET",
                "/x/api/v2/bills/1",
                Some("path: expected to match `/api/v[0-9]+/bills`, got `/x/api/v2/bills/1`"),
            ),
            (
                // Leftmost-first alternation must still be judged on the whole path.
                None,
                Some(PathMatcher::Regex(regex("/a|/ab"))),
                "GET",
                "/ab",
                None,
            ),
        ];
        for (method, path, got_method, got_path, miss) in cases {
            let matcher = RequestMatcher {
                method: method.map(str::to_owned),
                path,
                ..RequestMatcher::default()
            };
            let result = check(
                &matcher,
                &request(got_method, got_path, "", no_headers, b""),
            );
            let misses: Vec<&str> = result.misses.iter().map(String::as_str).collect();
            assert_eq!(misses, miss.into_iter().collect::<Vec<_>>(), "{matcher:?}");
        }
    }

    #[test]
    fn template_captures_path_params() {
        let matcher = RequestMatcher {
            path: Some(PathMatcher::Template("/orgs/{org}/invoices/{id}".into())),
            ..RequestMatcher::default()
        };
        let result = check(
            &matcher,
            &request("GET", "/orgs/acme/invoices/7", "", &[], b""),
        );
        assert_eq!(
            result.path_params,
            [("org".into(), "acme".into()), ("id".into(), "7".into())]
        );
        assert_eq!(result.hits, 1);
    }

    #[test]
    fn query_table() {
        let cases: Vec<(ValueMatcher, &str, Option<&str>)> = vec![
            (ValueMatcher::Equals("2".into()), "page=2", None),
            (ValueMatcher::Equals("2".into()), "page=1&page=2", None),
            (
                ValueMatcher::Equals("2".into()),
                "page=1&page=3",
                Some("query `page`: expected `2`, got `1`, `3`"),
            ),
            (
                ValueMatcher::Equals("2".into()),
                "size=2",
                Some("query `page`: missing"),
            ),
            (ValueMatcher::Equals("a b".into()), "page=a+b", None),
            (ValueMatcher::Equals("a/b".into()), "page=a%2Fb", None),
            (ValueMatcher::Contains("cme".into()), "page=acme", None),
            (ValueMatcher::Regex(regex("^[0-9]+$")), "page=12", None),
            (
                ValueMatcher::Regex(regex("^[0-9]+$")),
                "page=x",
                Some("query `page`: expected to match `^[0-9]+$`, got `x`"),
            ),
            (ValueMatcher::Present(true), "page=", None),
            (ValueMatcher::Present(false), "size=1", None),
            (
                ValueMatcher::Present(false),
                "page=1",
                Some("query `page`: expected absent, got `1`"),
            ),
        ];
        for (value, query, miss) in cases {
            let matcher = RequestMatcher {
                query: vec![("page".into(), value)],
                ..RequestMatcher::default()
            };
            let result = check(&matcher, &request("GET", "/", query, &[], b""));
            let misses: Vec<&str> = result.misses.iter().map(String::as_str).collect();
            assert_eq!(misses, miss.into_iter().collect::<Vec<_>>(), "{query}");
        }
    }

    #[test]
    fn header_names_are_case_insensitive_and_any_value_may_match() {
        let headers = vec![
            ("accept".to_owned(), "text/html".to_owned()),
            ("accept".to_owned(), "application/json".to_owned()),
        ];
        let matcher = RequestMatcher {
            headers: vec![("Accept".into(), ValueMatcher::Contains("json".into()))],
            ..RequestMatcher::default()
        };
        assert!(check(&matcher, &request("GET", "/", "", &headers, b"")).matched());

        let matcher = RequestMatcher {
            headers: vec![(
                "Authorization".into(),
                ValueMatcher::Regex(regex("^Bearer ")),
            )],
            ..RequestMatcher::default()
        };
        let result = check(&matcher, &request("GET", "/", "", &headers, b""));
        assert_eq!(result.misses, ["header `authorization`: missing"]);
    }

    /// The near-miss 404 of a mock quotes neither the key a stub expects nor the one sent.
    #[test]
    fn misses_under_secret_names_show_no_value() {
        let headers = vec![("x-api-key".to_owned(), "XKEY-wrong-9b8a7c".to_owned())];
        let matcher = RequestMatcher {
            headers: vec![(
                "X-Api-Key".into(),
                ValueMatcher::Equals("expected-key-000".into()),
            )],
            query: vec![
                ("key".into(), ValueMatcher::Contains("AIza".into())),
                ("page".into(), ValueMatcher::Equals("2".into())),
            ],
            body: vec![BodyMatcher::Form {
                fields: vec![(
                    "client_secret".into(),
                    ValueMatcher::Regex(regex("^cs-[a-z]+$")),
                )],
            }],
            ..RequestMatcher::default()
        };
        let result = check(
            &matcher,
            &request(
                "POST",
                "/",
                "key=wrong-query-key&page=1",
                &headers,
                b"client_secret=cs-Wrong-1",
            ),
        );
        assert_eq!(
            result.misses,
            [
                "query `key`: expected to contain `[redacted]`, got `[redacted]`",
                "query `page`: expected `2`, got `1`",
                "header `x-api-key`: expected `[redacted]`, got `[redacted]`",
                "form field `client_secret`: expected to match `[redacted]`, got `[redacted]`",
            ]
        );
    }

    #[test]
    fn body_table() {
        let xml = br#"<invoice id="7"><total>12.50</total><line/><line/></invoice>"#;
        let cases: Vec<(BodyMatcher, &[u8], Option<&str>)> = vec![
            (
                BodyMatcher::JsonEquals {
                    value: json!({"a": 1, "b": [1]}),
                },
                br#"{"b":[1.0],"a":1}"#,
                None,
            ),
            (
                BodyMatcher::JsonEquals {
                    value: json!({"a": 1}),
                },
                br#"{"a":1,"b":2}"#,
                Some(r#"json body: expected `{"a":1}`, got `{"a":1,"b":2}`"#),
            ),
            (
                BodyMatcher::JsonPartial {
                    value: json!({"a": 1}),
                },
                br#"{"a":2}"#,
                Some(r#"json body: expected `{"a":1}` (partial), got `{"a":2}`"#),
            ),
            (
                BodyMatcher::JsonPartial {
                    value: json!({"a": 1}),
                },
                br#"{"a":1,"b":2}"#,
                None,
            ),
            (
                BodyMatcher::JsonPartial {
                    value: json!({"a": 1}),
                },
                b"a=1",
                Some("body is not JSON: expected value at line 1 column 1"),
            ),
            (
                BodyMatcher::JsonPartial {
                    value: json!({"a": 1}),
                },
                b"",
                Some("body is not JSON: the body is empty"),
            ),
            (
                BodyMatcher::JsonPath {
                    path: "$.Invoices[0].Type".into(),
                    value: None,
                },
                br#"{"Invoices":[{"Type":"ACCPAY"}]}"#,
                None,
            ),
            (
                BodyMatcher::JsonPath {
                    path: "$.Invoices[*].Type".into(),
                    value: Some(json!("ACCREC")),
                },
                br#"{"Invoices":[{"Type":"ACCPAY"},{"Type":"ACCREC"}]}"#,
                None,
            ),
            (
                BodyMatcher::JsonPath {
                    path: "$.Invoices[0]".into(),
                    value: Some(json!({"Total": 12.5})),
                },
                br#"{"Invoices":[{"Type":"ACCPAY","Total":12.50}]}"#,
                None,
            ),
            (
                BodyMatcher::JsonPath {
                    path: "$.Invoices[0].Type".into(),
                    value: Some(json!("ACCREC")),
                },
                br#"{"Invoices":[{"Type":"ACCPAY"}]}"#,
                Some(r#"jsonpath `$.Invoices[0].Type`: expected `"ACCREC"`, got `"ACCPAY"`"#),
            ),
            (
                BodyMatcher::JsonPath {
                    path: "$.missing".into(),
                    value: None,
                },
                br#"{"a":1}"#,
                Some("jsonpath `$.missing`: selected nothing"),
            ),
            (
                BodyMatcher::XPath {
                    path: "/invoice/total".into(),
                    value: Some(ValueMatcher::Equals("12.50".into())),
                },
                xml,
                None,
            ),
            (
                BodyMatcher::XPath {
                    path: "count(//line) = 2".into(),
                    value: None,
                },
                xml,
                None,
            ),
            (
                BodyMatcher::XPath {
                    path: "/invoice/@id".into(),
                    value: Some(ValueMatcher::Equals("8".into())),
                },
                xml,
                Some("xpath `/invoice/@id`: expected `8`, got `7`"),
            ),
            (
                BodyMatcher::XPath {
                    path: "/invoice/customer".into(),
                    value: None,
                },
                xml,
                Some("xpath `/invoice/customer`: selected nothing"),
            ),
            // Issue 16: an XPath value takes the value matchers `query`, `headers` and `form` do.
            (
                BodyMatcher::XPath {
                    path: "/invoice/total".into(),
                    value: Some(ValueMatcher::Regex(regex(r"^\d+\.\d{2}$"))),
                },
                xml,
                None,
            ),
            (
                BodyMatcher::XPath {
                    path: "/invoice/@id".into(),
                    value: Some(ValueMatcher::OneOf(vec!["8".into(), "9".into()])),
                },
                xml,
                Some("xpath `/invoice/@id`: expected one of `8`, `9`, got `7`"),
            ),
            (
                BodyMatcher::XPath {
                    path: "/invoice/customer".into(),
                    value: Some(ValueMatcher::Present(false)),
                },
                xml,
                None,
            ),
            (
                BodyMatcher::XPath {
                    path: "/invoice/@id".into(),
                    value: Some(ValueMatcher::Present(false)),
                },
                xml,
                Some("xpath `/invoice/@id`: expected absent, got `7`"),
            ),
            (
                BodyMatcher::XPath {
                    path: "/invoice/@id".into(),
                    value: Some(ValueMatcher::Not(Box::new(ValueMatcher::Equals(
                        "7".into(),
                    )))),
                },
                xml,
                Some("xpath `/invoice/@id`: expected not `7`, got `7`"),
            ),
            (
                BodyMatcher::XPath {
                    path: "/invoice/customer".into(),
                    value: Some(ValueMatcher::Not(Box::new(ValueMatcher::Equals(
                        "7".into(),
                    )))),
                },
                xml,
                None,
            ),
            (
                BodyMatcher::XPath {
                    path: "/invoice/customer".into(),
                    value: Some(ValueMatcher::Contains("7".into())),
                },
                xml,
                Some("xpath `/invoice/customer`: selected nothing"),
            ),
            (
                BodyMatcher::Form {
                    fields: vec![
                        (
                            "grant_type".into(),
                            ValueMatcher::Equals("refresh_token".into()),
                        ),
                        ("scope".into(), ValueMatcher::Contains("accounting".into())),
                    ],
                },
                b"grant_type=refresh_token&scope=openid+accounting.transactions",
                None,
            ),
            (
                BodyMatcher::Form {
                    fields: vec![(
                        "grant_type".into(),
                        ValueMatcher::Equals("refresh_token".into()),
                    )],
                },
                b"grant_type=authorization_code",
                Some("form field `grant_type`: expected `refresh_token`, got `authorization_code`"),
            ),
            (
                BodyMatcher::Contains {
                    text: "ACCPAY".into(),
                },
                br#"{"Type":"ACCPAY"}"#,
                None,
            ),
            (
                BodyMatcher::Contains {
                    text: "ACCREC".into(),
                },
                b"nope",
                Some("body: expected to contain `ACCREC`, got `nope`"),
            ),
        ];
        for (body, raw, miss) in cases {
            let matcher = RequestMatcher {
                body: vec![body],
                ..RequestMatcher::default()
            };
            let result = check(&matcher, &request("POST", "/", "", &[], raw));
            let misses: Vec<&str> = result.misses.iter().map(String::as_str).collect();
            assert_eq!(misses, miss.into_iter().collect::<Vec<_>>(), "{matcher:?}");
        }
    }

    /// `one_of` and `not` (issue 16): `not` holds when the name is absent or no value matches its
    /// matcher, and a secret-named header's values stay out of the reason.
    #[test]
    fn one_of_and_not_judge_all_the_values_under_a_name() {
        let headers = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect()
        };
        let not = |inner: ValueMatcher| ValueMatcher::Not(Box::new(inner));
        /// Header name, matcher, the headers sent, the expected miss.
        type Case<'a> = (
            &'a str,
            ValueMatcher,
            Vec<(String, String)>,
            Option<&'a str>,
        );
        let cases: Vec<Case<'_>> = vec![
            (
                "x-cache",
                ValueMatcher::OneOf(vec!["HIT".into(), "STALE".into()]),
                headers(&[("x-cache", "STALE")]),
                None,
            ),
            (
                "x-cache",
                ValueMatcher::OneOf(vec!["HIT".into(), "STALE".into()]),
                headers(&[("x-cache", "MISS")]),
                Some("header `x-cache`: expected one of `HIT`, `STALE`, got `MISS`"),
            ),
            (
                "x-cache",
                ValueMatcher::OneOf(vec!["HIT".into()]),
                headers(&[]),
                Some("header `x-cache`: missing"),
            ),
            (
                "x-cache",
                not(ValueMatcher::Equals("MISS".into())),
                headers(&[]),
                None,
            ),
            (
                "x-cache",
                not(ValueMatcher::Equals("MISS".into())),
                headers(&[("x-cache", "HIT")]),
                None,
            ),
            (
                "x-cache",
                not(ValueMatcher::Regex(regex("MISS|STALE"))),
                headers(&[("x-cache", "HIT"), ("x-cache", "STALE")]),
                Some("header `x-cache`: expected not to match `MISS|STALE`, got `HIT`, `STALE`"),
            ),
            (
                "x-cache",
                not(ValueMatcher::Present(true)),
                headers(&[("x-cache", "HIT")]),
                Some("header `x-cache`: expected not present, got `HIT`"),
            ),
            (
                "x-cache",
                not(ValueMatcher::Present(false)),
                headers(&[]),
                Some("header `x-cache`: expected not absent, got nothing"),
            ),
            (
                "authorization",
                not(ValueMatcher::Equals("Bearer revoked-1".into())),
                headers(&[("authorization", "Bearer revoked-1")]),
                Some("header `authorization`: expected not `[redacted]`, got `[redacted]`"),
            ),
            (
                "authorization",
                ValueMatcher::OneOf(vec!["Bearer new-2".into()]),
                headers(&[("authorization", "Bearer old-1")]),
                Some("header `authorization`: expected one of `[redacted]`, got `[redacted]`"),
            ),
        ];
        for (name, matcher, sent, miss) in cases {
            let matcher = RequestMatcher {
                headers: vec![(name.to_owned(), matcher)],
                ..RequestMatcher::default()
            };
            let result = check(&matcher, &request("GET", "/", "", &sent, b""));
            let misses: Vec<&str> = result.misses.iter().map(String::as_str).collect();
            assert_eq!(
                misses,
                miss.into_iter().collect::<Vec<_>>(),
                "{matcher:?} {sent:?}"
            );
        }
        let query = RequestMatcher {
            query: vec![(
                "status".into(),
                not(ValueMatcher::OneOf(vec!["void".into(), "deleted".into()])),
            )],
            ..RequestMatcher::default()
        };
        assert!(check(&query, &request("GET", "/", "status=open", &[], b"")).matched());
        assert_eq!(
            check(&query, &request("GET", "/", "status=void", &[], b"")).misses,
            ["query `status`: expected not one of `void`, `deleted`, got `void`"]
        );
    }

    /// Issue 16: cookies come from every `Cookie` header (RFC 6265 §4.2.1 pairs); a name is
    /// compared exactly, any value under it may match, and no reason shows a cookie's value.
    #[test]
    fn cookies_are_the_pairs_of_every_cookie_header() {
        let headers = |values: &[&str]| -> Vec<(String, String)> {
            values
                .iter()
                .map(|v| ("cookie".to_owned(), (*v).to_owned()))
                .collect()
        };
        let abc = || ValueMatcher::Equals("abc".into());
        /// Cookie name, matcher, the `Cookie` headers sent, the expected miss.
        type Case<'a> = (&'a str, ValueMatcher, Vec<&'a str>, Option<&'a str>);
        let cases: Vec<Case<'_>> = vec![
            ("sid", abc(), vec!["sid=abc"], None),
            ("sid", abc(), vec!["a=1;sid=abc ;  b=2"], None),
            ("sid", abc(), vec!["a=1", "sid=abc"], None),
            ("sid", abc(), vec!["sid=\"abc\""], None),
            ("sid", abc(), vec!["sid=zzz; sid=abc"], None),
            (
                "sid",
                abc(),
                vec!["SID=abc; flag"],
                Some("cookie `sid`: missing"),
            ),
            (
                "sid",
                abc(),
                vec!["sid=abc, theme=dark"],
                Some("cookie `sid`: expected `[redacted]`, got `[redacted]`"),
            ),
            ("sid", ValueMatcher::Present(false), vec!["lang=en"], None),
            (
                "sid",
                ValueMatcher::Present(false),
                vec!["sid="],
                Some("cookie `sid`: expected absent, got `[redacted]`"),
            ),
            (
                "sid",
                ValueMatcher::Not(Box::new(ValueMatcher::Equals("revoked".into()))),
                vec!["sid=revoked"],
                Some("cookie `sid`: expected not `[redacted]`, got `[redacted]`"),
            ),
        ];
        for (name, matcher, sent, miss) in cases {
            let matcher = RequestMatcher {
                cookies: vec![(name.to_owned(), matcher)],
                ..RequestMatcher::default()
            };
            let sent = headers(&sent);
            let result = check(&matcher, &request("GET", "/", "", &sent, b""));
            let misses: Vec<&str> = result.misses.iter().map(String::as_str).collect();
            assert_eq!(
                misses,
                miss.into_iter().collect::<Vec<_>>(),
                "{matcher:?} {sent:?}"
            );
        }
        // Past the budget, pairs are not read.
        let many = format!("{}sid=abc", "x=1; ".repeat(MAX_COOKIES));
        let matcher = RequestMatcher {
            cookies: vec![("sid".into(), ValueMatcher::Present(true))],
            ..RequestMatcher::default()
        };
        let sent = headers(&[&many]);
        assert!(!check(&matcher, &request("GET", "/", "", &sent, b"")).matched());
    }

    /// Issue 16: WireMock's `multipartPatterns`: `any` holds when some part meets every
    /// condition, `all` when every part does, neither on a body without parts or that is not
    /// multipart; a part's body takes the request's body conditions.
    #[test]
    fn multipart_conditions_judge_the_parts() {
        let form = vec![(
            "content-type".to_owned(),
            "multipart/form-data; boundary=b".to_owned(),
        )];
        let body = "--b\r\nContent-Disposition: form-data; name=\"meta\"\r\n\
                    Content-Type: application/json\r\n\r\n{\"id\": 7, \"kind\": \"bill\"}\r\n\
                    --b\r\nContent-Disposition: form-data; name=\"ref\"\r\n\r\nINV-42\r\n--b--\r\n";
        let named = |name: &str| {
            vec![(
                "Content-Disposition".to_owned(),
                ValueMatcher::Contains(format!("name=\"{name}\"")),
            )]
        };
        let part = |parts, headers, text, content| BodyMatcher::Multipart {
            parts,
            headers,
            body: text,
            content,
        };
        let meta = |id: u32| {
            part(
                PartMatch::Any,
                named("meta"),
                None,
                vec![BodyMatcher::JsonPartial {
                    value: json!({ "id": id }),
                }],
            )
        };
        // The condition, the expected miss.
        let cases: Vec<(BodyMatcher, Option<&str>)> = vec![
            (
                part(
                    PartMatch::Any,
                    named("ref"),
                    Some(ValueMatcher::Regex(regex("^[A-Z]{3}-[0-9]+$"))),
                    vec![],
                ),
                None,
            ),
            (meta(7), None),
            (
                meta(8),
                Some(
                    r#"multipart: no part matched; closest, part 1 of 2: json body: expected `{"id":8}` (partial), got `{"id":7,"kind":"bill"}`"#,
                ),
            ),
            (
                part(
                    PartMatch::Any,
                    vec![],
                    Some(ValueMatcher::Equals("INV-43".into())),
                    vec![],
                ),
                Some(
                    "multipart: no part matched; closest, part 1 of 2: part body: expected `INV-43`, got `{\"id\": 7, \"kind\": \"bill\"}`",
                ),
            ),
            (
                part(
                    PartMatch::All,
                    vec![(
                        "content-disposition".into(),
                        ValueMatcher::Contains("form-data".into()),
                    )],
                    None,
                    vec![],
                ),
                None,
            ),
            (
                part(
                    PartMatch::All,
                    vec![("Content-Type".into(), ValueMatcher::Present(true))],
                    None,
                    vec![],
                ),
                Some("multipart: part 2 of 2 does not match: part header `Content-Type`: missing"),
            ),
            (
                part(
                    PartMatch::All,
                    vec![("X-Upload-Token".into(), ValueMatcher::Equals("t-1".into()))],
                    None,
                    vec![],
                ),
                Some(
                    "multipart: part 1 of 2 does not match: part header `X-Upload-Token`: missing",
                ),
            ),
        ];
        for (condition, miss) in cases {
            let matcher = RequestMatcher {
                body: vec![condition],
                ..RequestMatcher::default()
            };
            let result = check(&matcher, &request("POST", "/", "", &form, body.as_bytes()));
            let misses: Vec<&str> = result.misses.iter().map(String::as_str).collect();
            assert_eq!(misses, miss.into_iter().collect::<Vec<_>>(), "{matcher:?}");
        }
        let any = RequestMatcher {
            body: vec![part(PartMatch::Any, vec![], None, vec![])],
            ..RequestMatcher::default()
        };
        let all = RequestMatcher {
            body: vec![part(PartMatch::All, vec![], None, vec![])],
            ..RequestMatcher::default()
        };
        for matcher in [&any, &all] {
            assert!(check(matcher, &request("POST", "/", "", &form, body.as_bytes())).matched());
            assert_eq!(
                check(matcher, &request("POST", "/", "", &form, b"--b--\r\n")).misses,
                ["multipart: the body has no parts"]
            );
            let json = vec![("content-type".to_owned(), "application/json".to_owned())];
            assert_eq!(
                check(matcher, &request("POST", "/", "", &json, b"{}")).misses,
                ["body is not multipart: the content type is `application/json`"]
            );
            assert_eq!(
                check(matcher, &request("POST", "/", "", &[], b"{}")).misses,
                ["body is not multipart: the content type is missing"]
            );
        }
        // A secret-named part header shows no value.
        let token = RequestMatcher {
            body: vec![part(
                PartMatch::Any,
                vec![(
                    "Authorization".into(),
                    ValueMatcher::Equals("Bearer t-1".into()),
                )],
                None,
                vec![],
            )],
            ..RequestMatcher::default()
        };
        let sent = "--b\r\nAuthorization: Bearer t-2\r\n\r\nx\r\n--b--\r\n";
        assert_eq!(
            check(&token, &request("POST", "/", "", &form, sent.as_bytes())).misses,
            [
                "multipart: no part matched; closest, part 1 of 1: part header `Authorization`: expected `[redacted]`, got `[redacted]`"
            ]
        );
        // A malformed part condition is a problem of the matcher.
        let bad = RequestMatcher {
            body: vec![part(
                PartMatch::Any,
                vec![],
                None,
                vec![BodyMatcher::JsonPath {
                    path: "$[".into(),
                    value: None,
                }],
            )],
            ..RequestMatcher::default()
        };
        assert_eq!(CompiledMatcher::new(&bad).problems().len(), 1);
    }

    #[test]
    fn malformed_xml_and_paths_never_panic() {
        let matcher = RequestMatcher {
            body: vec![
                BodyMatcher::XPath {
                    path: "/a".into(),
                    value: None,
                },
                BodyMatcher::JsonPath {
                    path: "$[".into(),
                    value: None,
                },
                BodyMatcher::XPath {
                    path: "///".into(),
                    value: None,
                },
            ],
            ..RequestMatcher::default()
        };
        let bad_path = JsonPath::parse("$[").unwrap_err();
        let bad_xpath = sxd_xpath::Factory::new().build("///").err().unwrap();
        let problems = [
            format!("invalid jsonpath `$[`: {bad_path}"),
            format!("invalid xpath `///`: {bad_xpath}"),
        ];
        assert_eq!(CompiledMatcher::new(&matcher).problems(), problems);
        for body in [&b"<a"[..], b"\xff\xfe", b"", b"<a/>"] {
            let result = check(&matcher, &request("POST", "/", "", &[], body));
            assert!(!result.matched());
        }
        // Every reason, as a reported miss shows it.
        let not_xml = sxd_document::parser::parse("<a").err().unwrap();
        let result = check(&matcher, &request("POST", "/", "", &[], b"<a"));
        assert_eq!(
            result.misses,
            [
                format!("body is not XML: {not_xml}"),
                problems[0].clone(),
                problems[1].clone(),
            ]
        );
    }

    #[test]
    fn a_url_matcher_compares_path_and_query_string_exactly() {
        let matcher = |url: &str| RequestMatcher {
            path: Some(PathMatcher::Url(url.into())),
            ..RequestMatcher::default()
        };
        let sent = |path, query| {
            check(
                &matcher("/exact?x=1"),
                &request("GET", path, query, &[], b""),
            )
        };
        assert!(sent("/exact", "x=1").matched());
        assert!(!sent("/exact", "x=1&y=2").matched());
        assert!(!sent("/exact", "").matched());
        assert_eq!(
            sent("/exact", "x=01").misses,
            ["url: expected `/exact?x=1`, got `/exact?x=01`"]
        );
        let bare = |query| {
            check(
                &matcher("/exact"),
                &request("GET", "/exact", query, &[], b""),
            )
        };
        assert!(bare("").matched());
        assert!(!bare("x=1").matched());
    }

    #[test]
    fn a_url_regex_must_match_path_and_query_string_as_a_whole() {
        let matcher = RequestMatcher {
            path: Some(PathMatcher::UrlRegex(Pattern(
                expression::regex(r"/items\?page=[0-9]").unwrap(),
            ))),
            ..RequestMatcher::default()
        };
        let sent = |path, query| check(&matcher, &request("GET", path, query, &[], b""));
        assert!(sent("/items", "page=3").matched());
        // Anchored at both ends: neither more query, nor a longer path, nor no query matches.
        assert!(!sent("/items", "page=10").matched());
        assert!(!sent("/v2/items", "page=3").matched());
        assert_eq!(
            sent("/items", "").misses,
            [r"url: expected to match `/items\?page=[0-9]`, got `/items`"]
        );
    }

    #[test]
    fn a_body_nested_too_deep_is_not_parsed_as_xml() {
        // 20,000 levels took the parser seconds, and 200,000 held a mock's worker for minutes.
        let matcher = RequestMatcher {
            body: vec![BodyMatcher::XPath {
                path: "//MsgId".into(),
                value: None,
            }],
            ..RequestMatcher::default()
        };
        let deep = format!("{}{}", "<a>".repeat(200_000), "</a>".repeat(200_000));
        let result = check(&matcher, &request("POST", "/", "", &[], deep.as_bytes()));
        assert!(!result.matched());
        assert_eq!(
            result.misses,
            ["body is not read as XML: elements nest deeper than 256 levels"]
        );
        let shallow = format!(
            "{}<MsgId>1</MsgId>{}",
            "<a>".repeat(200),
            "</a>".repeat(200)
        );
        let result = check(&matcher, &request("POST", "/", "", &[], shallow.as_bytes()));
        assert!(result.matched(), "{:?}", result.misses);
    }

    #[test]
    fn hits_count_the_conditions_that_held() {
        let matcher = RequestMatcher {
            method: Some("POST".into()),
            path: Some(PathMatcher::Exact("/api/bills".into())),
            headers: vec![("x-tenant".into(), ValueMatcher::Equals("acme".into()))],
            body: vec![BodyMatcher::JsonPartial {
                value: json!({"amount": 10}),
            }],
            ..RequestMatcher::default()
        };
        let headers = vec![("x-tenant".to_owned(), "acme".to_owned())];
        let result = check(
            &matcher,
            &request("POST", "/api/bills", "", &headers, br#"{"amount": 11}"#),
        );
        assert_eq!(result.hits, 3);
        assert_eq!(
            result.misses,
            [r#"json body: expected `{"amount":10}` (partial), got `{"amount":11}`"#]
        );
    }

    #[test]
    fn long_values_are_clipped_in_reasons() {
        let long = "x".repeat(1000);
        let matcher = RequestMatcher {
            path: Some(PathMatcher::Exact("/".into())),
            ..RequestMatcher::default()
        };
        let result = check(&matcher, &request("GET", &long, "", &[], b""));
        assert!(result.misses[0].len() < 300, "{}", result.misses[0]);
        assert!(result.misses[0].ends_with("…`"));
    }
}
