//! Request matchers, [`RequestMatcher`]: the conditions a request must meet, on its path
//! ([`PathMatcher`]), query, headers and form fields ([`ValueMatcher`]) and body ([`BodyMatcher`]).

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The conditions a request must meet; every present condition must hold.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RequestMatcher {
    /// HTTP method, upper case; `None` matches any.
    pub method: Option<String>,
    /// Path condition; `None` matches any path.
    pub path: Option<PathMatcher>,
    /// Query parameters: each named parameter must be present and match.
    pub query: Vec<(String, ValueMatcher)>,
    /// Headers (names compared case-insensitively): each must be present and match.
    pub headers: Vec<(String, ValueMatcher)>,
    /// Body conditions; all must hold.
    pub body: Vec<BodyMatcher>,
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
}

/// A compiled regex that serializes as its source.
#[derive(Clone)]
pub struct Pattern(pub regex::Regex);

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
