//! Request matchers, [`RequestMatcher`]: the conditions a request must meet, on its path
//! ([`PathMatcher`]), query, headers, cookies and form fields ([`ValueMatcher`]) and body
//! ([`BodyMatcher`], with the parts of a multipart body: [`PartMatch`]).

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The conditions a request must meet; every present condition must hold.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct RequestMatcher {
    /// HTTP method, upper case; `None` matches any.
    pub method: Option<String>,
    /// Path condition; `None` matches any path.
    pub path: Option<PathMatcher>,
    /// Query parameters: each named parameter must be present and match.
    pub query: Vec<(String, ValueMatcher)>,
    /// Headers (names compared case-insensitively): each must be present and match.
    pub headers: Vec<(String, ValueMatcher)>,
    /// Cookies, the `name=value` pairs of the request's `Cookie` headers (RFC 6265 §4.2.1; names
    /// compared exactly): each must be present and match.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cookies: Vec<(String, ValueMatcher)>,
    /// Body conditions; all must hold.
    pub body: Vec<BodyMatcher>,
}

impl fmt::Debug for RequestMatcher {
    /// `cookies` is shown only when there are some, so a matcher without cookie conditions
    /// reads as it did before cookies existed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("RequestMatcher");
        out.field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("headers", &self.headers);
        if !self.cookies.is_empty() {
            out.field("cookies", &self.cookies);
        }
        out.field("body", &self.body).finish()
    }
}

/// Which parts of a multipart body a [`BodyMatcher::Multipart`] condition must hold for
/// (WireMock's `matchingType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartMatch {
    /// At least one part.
    Any,
    /// Every part (and there is at least one).
    All,
}

/// How a request path is matched.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum PathMatcher {
    /// The path equals this string exactly (query string excluded).
    Exact(String),
    /// A template such as `/invoices/{id}`: literal segments must equal, `{name}` segments match
    /// any one non-empty segment and are captured as path parameters.
    Template(String),
    /// The whole path matches this regex.
    Regex(Pattern),
    /// The path and query string, as sent, equal this (`/orders?page=2`; without `?`, the
    /// request may have no query string): WireMock's `url`.
    Url(String),
    /// The path and query string, as sent (`/orders?page=2`), match this regex as a whole:
    /// WireMock's `urlPattern`.
    UrlRegex(Pattern),
}

/// How one string value (query parameter, header, form field) is matched.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum ValueMatcher {
    /// Equal to this string.
    Equals(String),
    /// Contains this substring.
    Contains(String),
    /// Matches this regex (unanchored unless the regex anchors itself).
    Regex(Pattern),
    /// Present (`true`) or absent (`false`), whatever its value.
    Present(bool),
    /// Equal to one of these strings.
    OneOf(Vec<String>),
    /// The inner matcher does not hold: absent, or no value matches it.
    Not(Box<ValueMatcher>),
}

/// One condition on the request body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BodyMatcher {
    /// The body parses as JSON equal to this value.
    JsonEquals {
        /// Expected document.
        value: Value,
    },
    /// The body parses as JSON and contains this value as a subset: objects may have more keys,
    /// arrays must contain a matching element for each expected element.
    JsonPartial {
        /// Expected subset.
        value: Value,
    },
    /// The body parses as JSON and equals this value, loosened as asked (WireMock's
    /// `equalToJson` with `ignoreArrayOrder` / `ignoreExtraElements`).
    JsonLike {
        /// Expected document.
        value: Value,
        /// Arrays may hold their elements in any order (each expected element matches its own).
        ignore_array_order: bool,
        /// Objects may have more keys, and arrays more elements.
        ignore_extra_elements: bool,
    },
    /// The JSONPath selects at least one node; with `value`, some selected node must contain it
    /// as a subset.
    JsonPath {
        /// RFC 9535 JSONPath expression, e.g. `$.Invoices[0].Type`.
        path: String,
        /// Expected value (subset), if any.
        value: Option<Value>,
    },
    /// The body parses as XML and the XPath 1.0 expression selects something; with `value`,
    /// some selected node's string value must match it (`present: false`: it selects nothing).
    XPath {
        /// XPath 1.0 expression.
        path: String,
        /// What the string value must be, if anything.
        value: Option<ValueMatcher>,
    },
    /// The body is `application/x-www-form-urlencoded` and each named field matches.
    Form {
        /// Field conditions.
        fields: Vec<(String, ValueMatcher)>,
    },
    /// The raw body (as UTF-8) contains this text.
    Contains {
        /// Expected substring.
        text: String,
    },
    /// The body is `multipart/*` (RFC 2046 §5.1, RFC 7578) and its parts meet these conditions:
    /// some part (`any`) or every part (`all`) has the headers and the body described.
    Multipart {
        /// Which parts must meet the conditions.
        parts: PartMatch,
        /// Part headers (names compared case-insensitively): each must be present and match.
        headers: Vec<(String, ValueMatcher)>,
        /// The part's body, as UTF-8 text, matches this.
        body: Option<ValueMatcher>,
        /// Conditions on the part's body as a body of its own (JSON, JSONPath, XPath, a
        /// substring).
        content: Vec<BodyMatcher>,
    },
}

/// A compiled regex that serializes as its source.
#[derive(Clone)]
pub struct Pattern(pub regex::Regex);

/// Equal when their sources are.
impl PartialEq for Pattern {
    fn eq(&self, other: &Pattern) -> bool {
        self.0.as_str() == other.0.as_str()
    }
}

impl Eq for Pattern {}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "/{}/", self.0.as_str())
    }
}

impl Serialize for Pattern {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.as_str())
    }
}

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let source = String::deserialize(d)?;
        crate::scenario::expression::regex(&source)
            .map(Pattern)
            .map_err(serde::de::Error::custom)
    }
}
