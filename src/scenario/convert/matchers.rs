//! Request matchers → [`RequestMatcher`]: what a stub, a rate limit or a journal expectation
//! selects: method, exact, templated or regex path, query, headers, cookies, form fields and
//! body conditions (JSON equality or subset, JSONPath and XPath checks, a substring, the parts
//! of a multipart body). Query parameters, headers, cookies, form fields, part headers and
//! XPath values take the same value matchers.

use base64::Engine as _;

use super::{Cx, is_method, list_keys};

use super::cx::Fields;
use crate::scenario::diagnostic::Diagnostic;
use crate::scenario::model::{BodyMatcher, PartMatch, PathMatcher, RequestMatcher, ValueMatcher};
use crate::scenario::yaml::{Node, NodeKind};

/// The methods a bank's SFTP server journals its operations under, which a request matcher
/// also takes.
const SFTP_OPERATIONS: &[&str] = &["SFTP-LOGIN", "SFTP-LIST", "SFTP-GET", "SFTP-PUT"];

pub(super) const MATCHER_KEYS: &[&str] = &[
    "method",
    "path",
    "path_regex",
    "url",
    "url_regex",
    "basic_auth",
    "query",
    "headers",
    "cookies",
    "json",
    "json_partial",
    "json_like",
    "jsonpath",
    "xpath",
    "form",
    "body_contains",
    "multipart",
];

/// The keys of one item of `multipart`: which parts, their headers, and their body (as text,
/// or with the body conditions of a request).
pub(super) const PART_KEYS: &[&str] = &[
    "match",
    "headers",
    "body",
    "json",
    "json_partial",
    "json_like",
    "jsonpath",
    "xpath",
    "body_contains",
];

/// The values of a part's `match`.
const PART_MATCH_VALUES: &[&str] = &["any", "all"];

/// The most items of one `multipart` list.
const MAX_PART_CONDITIONS: usize = 100;

pub(super) const JSON_LIKE_KEYS: &[&str] =
    &["value", "ignore_array_order", "ignore_extra_elements"];

pub(super) const BASIC_AUTH_KEYS: &[&str] = &["username", "password"];

pub(super) const VALUE_MATCHER_KEYS: &[&str] =
    &["equals", "contains", "regex", "present", "one_of", "not"];

impl Cx<'_> {
    fn value_matcher(&mut self, node: &Node, key: &str, context: &str) -> Option<ValueMatcher> {
        if let NodeKind::Mapping(_) = node.kind {
            let fields = self.fields(node, VALUE_MATCHER_KEYS, key, context)?;
            let present: Vec<&str> = VALUE_MATCHER_KEYS
                .iter()
                .copied()
                .filter(|name| fields.has(name))
                .collect();
            if present.len() != 1 {
                if present.is_empty() && !fields.unknown.is_empty() {
                    return None;
                }
                self.error(
                    Diagnostic::new(
                        format!(
                            "expected exactly one of {} for `{key}` {context}",
                            list_keys(VALUE_MATCHER_KEYS)
                        ),
                        Some(node.span),
                    )
                    .with_label(format!("found {}", present.len())),
                );
                return None;
            }
            let value = fields.get(present[0])?;
            return match present[0] {
                "equals" => self
                    .scalar_text(value, "equals", context)
                    .map(ValueMatcher::Equals),
                "contains" => self
                    .scalar_text(value, "contains", context)
                    .map(ValueMatcher::Contains),
                "regex" => {
                    let text = self.string(value, "regex", context)?;
                    self.regex(value, &text, false).map(ValueMatcher::Regex)
                }
                "one_of" => {
                    let items = self.non_empty_list(
                        value,
                        "one_of",
                        context,
                        "give the values that pass, e.g. `[a, b]`",
                    )?;
                    self.each_item(items, |cx, _, item| cx.scalar_text(item, "one_of", context))
                        .map(ValueMatcher::OneOf)
                }
                "not" => self
                    .value_matcher(value, key, context)
                    .map(|inner| ValueMatcher::Not(Box::new(inner))),
                _ => self
                    .boolean(value, "present", context)
                    .map(ValueMatcher::Present),
            };
        }
        self.scalar_text(node, key, context)
            .map(ValueMatcher::Equals)
    }

    /// A mapping name → value matcher (`query`, `headers`, `form`, a response check's
    /// `headers`).
    pub(super) fn value_matchers(
        &mut self,
        node: &Node,
        key: &str,
        context: &str,
    ) -> Option<Vec<(String, ValueMatcher)>> {
        self.map_entries(node, key, context, |cx, name, value| {
            let inner = match name {
                Some(name) => format!("in `{key}.{name}` of {}", &context[3..]),
                None => context.to_string(),
            };
            cx.value_matcher(value, key, &inner)
        })
    }

    pub(super) fn matcher(
        &mut self,
        node: &Node,
        key: &str,
        context: &str,
    ) -> Option<RequestMatcher> {
        if !matches!(node.kind, NodeKind::Mapping(_)) {
            self.type_error(node, "a mapping", key, context);
            return None;
        }
        let context = format!("in the {key} of {}", context.trim_start_matches("in "));
        let context = context.as_str();
        let fields = self.fields(node, MATCHER_KEYS, key, context)?;
        let mut ok = true;
        let method = match fields.get("method") {
            Some(value) => match self.string(value, "method", context) {
                Some(text) if text.eq_ignore_ascii_case("any") => None,
                Some(text) if is_method(&text) => Some(text.to_ascii_uppercase()),
                // The operations a bank's SFTP server journals (`docs/providers/bank.md`).
                Some(text) if SFTP_OPERATIONS.contains(&text.to_ascii_uppercase().as_str()) => {
                    Some(text.to_ascii_uppercase())
                }
                Some(text) => {
                    self.error(
                        Diagnostic::new(format!("invalid method `{text}`"), Some(value.span))
                            .with_label("expected an HTTP method such as `GET` or `POST`, or `ANY`")
                            .with_help(format!(
                                "a bank's SFTP operations are journaled as {}",
                                list_keys(SFTP_OPERATIONS)
                            )),
                    );
                    ok = false;
                    None
                }
                None => {
                    ok = false;
                    None
                }
            },
            None => None,
        };
        let exclusive = self.at_most_one(
            &fields,
            &["path", "path_regex", "url", "url_regex"],
            context,
        );
        ok &= exclusive;
        let mut path = None;
        if let Some(value) = fields.get("path") {
            match self.string(value, "path", context) {
                Some(text) if text.starts_with('/') => {
                    let templated = text.split('/').any(|segment| {
                        segment.len() > 2
                            && segment.starts_with('{')
                            && segment.ends_with('}')
                            && !segment.starts_with("{{")
                    });
                    path = Some(if templated {
                        PathMatcher::Template(text)
                    } else {
                        PathMatcher::Exact(text)
                    });
                }
                Some(text) => {
                    self.error(
                        Diagnostic::new(format!("invalid path `{text}`"), Some(value.span))
                            .with_label("a path starts with `/`"),
                    );
                    ok = false;
                }
                None => ok = false,
            }
        }
        if let Some(value) = fields.get("path_regex") {
            match self
                .string(value, "path_regex", context)
                .and_then(|text| self.regex(value, &text, true))
            {
                Some(pattern) => path = Some(PathMatcher::Regex(pattern)),
                None => ok = false,
            }
        }
        if let Some(value) = fields.get("url") {
            match self.string(value, "url", context) {
                Some(text) if text.starts_with('/') => path = Some(PathMatcher::Url(text)),
                Some(text) => {
                    self.error(
                        Diagnostic::new(format!("invalid url `{text}`"), Some(value.span))
                            .with_label(
                                "a path and query string, starting with `/`: `/orders?page=2`",
                            ),
                    );
                    ok = false;
                }
                None => ok = false,
            }
        }
        if let Some(value) = fields.get("url_regex") {
            match self
                .string(value, "url_regex", context)
                .and_then(|text| self.regex(value, &text, true))
            {
                Some(pattern) => path = Some(PathMatcher::UrlRegex(pattern)),
                None => ok = false,
            }
        }
        let mut query = Vec::new();
        if let Some(value) = fields.get("query") {
            match self.value_matchers(value, "query", context) {
                Some(matchers) => query = matchers,
                None => ok = false,
            }
        }
        let mut headers = Vec::new();
        if let Some(value) = fields.get("headers") {
            ok &= self.header_fields(value, context);
            match self.value_matchers(value, "headers", context) {
                Some(matchers) => headers = matchers,
                None => ok = false,
            }
        }
        // `basic_auth` is a header condition: what a client sends for these credentials
        // (RFC 7617 §2), compared exactly, as WireMock's `basicAuthCredentials` does.
        if let Some(value) = fields.get("basic_auth") {
            let inner = format!("in `basic_auth` {context}");
            let credentials = self
                .fields(value, BASIC_AUTH_KEYS, "basic_auth", context)
                .and_then(|fields| {
                    let username = self.required(&fields, "username", &inner, |cx, node| {
                        cx.string(node, "username", &inner)
                    });
                    let password = self.required(&fields, "password", &inner, |cx, node| {
                        cx.string(node, "password", &inner)
                    });
                    Some((username?, password?))
                });
            match credentials {
                Some((username, password)) => {
                    let encoded = base64::engine::general_purpose::STANDARD
                        .encode(format!("{username}:{password}"));
                    headers.push((
                        "Authorization".to_owned(),
                        ValueMatcher::Equals(format!("Basic {encoded}")),
                    ));
                }
                None => ok = false,
            }
        }
        let mut cookies = Vec::new();
        if let Some(value) = fields.get("cookies") {
            match self.value_matchers(value, "cookies", context) {
                Some(matchers) => cookies = matchers,
                None => ok = false,
            }
        }
        let body = self.body_conditions(&fields, context);
        ok &= body.is_some();
        let body = body.unwrap_or_default();
        ok.then_some(RequestMatcher {
            method,
            path,
            query,
            headers,
            cookies,
            body,
        })
    }

    /// The body conditions among a request matcher's (or a part's) fields, each present key
    /// read even after a bad one; `None` when any is bad.
    fn body_conditions(&mut self, fields: &Fields<'_>, context: &str) -> Option<Vec<BodyMatcher>> {
        let mut ok = true;
        let mut body = Vec::new();
        if let Some(value) = fields.get("json") {
            match self.json(value) {
                Some(value) => body.push(BodyMatcher::JsonEquals { value }),
                None => ok = false,
            }
        }
        if let Some(value) = fields.get("json_partial") {
            match self.json(value) {
                Some(value) => body.push(BodyMatcher::JsonPartial { value }),
                None => ok = false,
            }
        }
        if let Some(node) = fields.get("json_like") {
            let inner = format!("in `json_like` {context}");
            let like = self
                .fields(node, JSON_LIKE_KEYS, "json_like", context)
                .and_then(|like| {
                    let value = self.required(&like, "value", &inner, |cx, value| cx.json(value));
                    let flag = |cx: &mut Self, key: &str| match like.get(key) {
                        Some(node) => cx.boolean(node, key, &inner),
                        None => Some(false),
                    };
                    let ignore_array_order = flag(self, "ignore_array_order");
                    let ignore_extra_elements = flag(self, "ignore_extra_elements");
                    Some(BodyMatcher::JsonLike {
                        value: value?,
                        ignore_array_order: ignore_array_order?,
                        ignore_extra_elements: ignore_extra_elements?,
                    })
                });
            match like {
                Some(matcher) => body.push(matcher),
                None => ok = false,
            }
        }
        if let Some(value) = fields.get("jsonpath") {
            match self.path_checks(value, "jsonpath", context, false) {
                Some(checks) => body.extend(checks),
                None => ok = false,
            }
        }
        if let Some(value) = fields.get("xpath") {
            match self.path_checks(value, "xpath", context, true) {
                Some(checks) => body.extend(checks),
                None => ok = false,
            }
        }
        if let Some(value) = fields.get("form") {
            match self.value_matchers(value, "form", context) {
                Some(fields) => body.push(BodyMatcher::Form { fields }),
                None => ok = false,
            }
        }
        if let Some(value) = fields.get("body_contains") {
            match self.string(value, "body_contains", context) {
                Some(text) => body.push(BodyMatcher::Contains { text }),
                None => ok = false,
            }
        }
        if let Some(value) = fields.get("multipart") {
            match self.part_conditions(value, context) {
                Some(parts) => body.extend(parts),
                None => ok = false,
            }
        }
        ok.then_some(body)
    }

    /// `multipart:` of a request matcher: a list of part conditions.
    fn part_conditions(&mut self, node: &Node, context: &str) -> Option<Vec<BodyMatcher>> {
        let items = self.non_empty_list(
            node,
            "multipart",
            context,
            "give the parts' conditions, e.g. `[{ headers: { Content-Disposition: { contains: 'name=\"file\"' } } }]`",
        )?;
        if items.len() > MAX_PART_CONDITIONS {
            self.error(
                Diagnostic::new(
                    format!("`multipart` {context} has {} items", items.len()),
                    Some(node.span),
                )
                .with_label(format!("at most {MAX_PART_CONDITIONS}")),
            );
            return None;
        }
        self.each_item(items, |cx, index, item| {
            let inner = format!("in `multipart[{index}]` {context}");
            let fields = cx.fields(item, PART_KEYS, "multipart", &inner)?;
            let mut ok = true;
            let parts = match fields.get("match") {
                Some(value) => match cx.string(value, "match", &inner).as_deref() {
                    Some("any") => PartMatch::Any,
                    Some("all") => PartMatch::All,
                    Some(other) => {
                        cx.error(
                            Diagnostic::new(
                                format!("invalid `match` `{other}` {inner}"),
                                Some(value.span),
                            )
                            .with_label(format!("expected one of {}", list_keys(PART_MATCH_VALUES)))
                            .with_help(
                                "`any`: some part meets the conditions; `all`: every part does",
                            ),
                        );
                        ok = false;
                        PartMatch::Any
                    }
                    None => {
                        ok = false;
                        PartMatch::Any
                    }
                },
                None => PartMatch::Any,
            };
            let mut headers = Vec::new();
            if let Some(value) = fields.get("headers") {
                ok &= cx.header_fields(value, &inner);
                match cx.value_matchers(value, "headers", &inner) {
                    Some(matchers) => headers = matchers,
                    None => ok = false,
                }
            }
            let body = match fields.get("body") {
                Some(value) => {
                    let matcher = cx.value_matcher(value, "body", &inner);
                    ok &= matcher.is_some();
                    matcher
                }
                None => None,
            };
            let content = cx.body_conditions(&fields, &inner);
            ok &= content.is_some();
            ok.then(|| BodyMatcher::Multipart {
                parts,
                headers,
                body,
                content: content.unwrap_or_default(),
            })
        })
    }

    /// `jsonpath:` or `xpath:` of a request matcher: a mapping expression → value, or a list of
    /// expressions.
    fn path_checks(
        &mut self,
        node: &Node,
        key: &str,
        context: &str,
        xml: bool,
    ) -> Option<Vec<BodyMatcher>> {
        let mut pairs: Vec<(&Node, Option<&Node>)> = Vec::new();
        match &node.kind {
            NodeKind::Mapping(entries) => {
                pairs.extend(entries.iter().map(|(key, value)| (key, Some(value))));
            }
            NodeKind::Sequence(items) => pairs.extend(items.iter().map(|item| (item, None))),
            NodeKind::Scalar { .. } => {
                self.type_error(node, "a mapping or a list", key, context);
                return None;
            }
        }
        let mut out = Some(Vec::new());
        for (expression, value) in pairs {
            let matcher = self.string(expression, key, context).and_then(|text| {
                if xml {
                    let path = self.xpath(expression, &text)?;
                    let value = match value {
                        Some(value) => Some(self.value_matcher(value, key, context)?),
                        None => None,
                    };
                    Some(BodyMatcher::XPath { path, value })
                } else {
                    let path = self.jsonpath(expression, &text)?;
                    let value = match value {
                        Some(value) => Some(self.json(value)?),
                        None => None,
                    };
                    Some(BodyMatcher::JsonPath { path, value })
                }
            });
            match (&mut out, matcher) {
                (Some(out), Some(matcher)) => out.push(matcher),
                _ => out = None,
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::MAX_PART_CONDITIONS;
    use crate::scenario::LoadError;

    /// A `multipart` list over its budget is refused where it stands, with the budget.
    #[test]
    fn a_multipart_list_over_its_budget_is_refused() {
        let items = "{ body: x }, ".repeat(MAX_PART_CONDITIONS + 1);
        let yaml = format!(
            "id: many-parts\ntitle: too many part conditions\nmocks:\n  vendor:\n    stubs:\n      \
             - request: {{ method: POST, multipart: [{items}] }}\n        response: {{ status: 201 }}\n\
             flow:\n  - request: {{ method: GET, path: / }}\n"
        );
        let Err(LoadError::Invalid { diagnostics, .. }) =
            crate::scenario::load_bytes(Path::new("many.yaml"), Path::new("."), yaml.as_bytes())
        else {
            panic!("over the budget, yet loaded");
        };
        let found: Vec<(&str, Option<&str>)> = diagnostics
            .iter()
            .map(|d| (d.message.as_str(), d.label.as_deref()))
            .collect();
        assert_eq!(
            found,
            [(
                "`multipart` in the request of stub 1 of mock `vendor` has 101 items",
                Some("at most 100")
            )]
        );
        let fits = yaml.replacen("{ body: x }, ", "", 1);
        crate::scenario::load_bytes(Path::new("fits.yaml"), Path::new("."), fits.as_bytes())
            .expect("100 items fit");
    }
}
