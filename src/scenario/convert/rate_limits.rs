//! A mock's `rate_limits` → [`RateLimit`]s: which requests count (`request`), per what
//! ([`LimitKey`]: a header, the bearer token, the client address, or all), a window limit or a
//! concurrency limit ([`LimitKind`]), and the answer once it is exceeded.

use super::{Cx, Fields, Scope, list_keys, present};
use crate::scenario::diagnostic::Diagnostic;
use crate::scenario::model::{LimitKey, LimitKind, RateLimit, Span, default_limit_response};
use crate::scenario::suggest::did_you_mean;
use crate::scenario::yaml::Node;

pub(super) const RATE_LIMIT_KEYS: &[&str] = &[
    "name",
    "key",
    "limit",
    "per",
    "concurrent",
    "request",
    "response",
    "remaining_header",
];

fn per_span(fields: &Fields<'_>) -> Span {
    fields.get("per").map_or(fields.node.span, |node| node.span)
}

impl Cx<'_> {
    /// `rate_limits:` of a mock.
    pub(super) fn rate_limits(&mut self, node: &Node, mock: &str) -> Option<Vec<RateLimit>> {
        let items = self.list(node, "rate_limits", &format!("in mock `{mock}`"))?;
        self.each_item(items, |cx, index, item| {
            cx.rate_limit(
                item,
                index,
                &format!("in rate limit {} of mock `{mock}`", index + 1),
            )
        })
    }

    fn rate_limit(&mut self, node: &Node, index: usize, context: &str) -> Option<RateLimit> {
        let fields = self.fields(node, RATE_LIMIT_KEYS, "rate_limits", context)?;
        let name = match fields.get("name") {
            Some(value) => self.string(value, "name", context),
            None => Some(format!("rate limit {}", index + 1)),
        };
        let key = self.required(&fields, "key", context, |this, value| {
            this.limit_key(value, context)
        });
        let kind = if !self.at_most_one(&fields, &["limit", "concurrent"], context) {
            None
        } else if let Some(value) = fields.get("concurrent") {
            if let Some(per) = fields.key("per") {
                self.error(
                    Diagnostic::new(format!("`per` needs `limit` {context}"), Some(per.span))
                        .with_label("a concurrency limit has no window"),
                );
            }
            self.integer(value, "concurrent", context, 1..=u64::MAX)
                .map(LimitKind::Concurrent)
        } else if let Some(value) = fields.get("limit") {
            let limit = self.integer(value, "limit", context, 0..=u64::MAX);
            let per = match fields.get("per") {
                Some(per) => self.duration(per, "per", context).and_then(|per| {
                    if per.is_zero() {
                        self.error(
                            Diagnostic::new(
                                format!("`per` {context} must be longer than 0"),
                                Some(per_span(&fields)),
                            )
                            .with_label("a window needs a length"),
                        );
                        return None;
                    }
                    Some(per)
                }),
                None => {
                    self.missing(&fields, "per", context);
                    None
                }
            };
            Some(LimitKind::Window {
                limit: limit?,
                per: per?,
            })
        } else {
            if !fields.has_typo_of("limit") && !fields.has_typo_of("concurrent") {
                self.error(
                    Diagnostic::new(format!("missing field `limit` {context}"), Some(node.span))
                        .with_label("give `limit` with `per`, or `concurrent`"),
                );
            }
            None
        };
        let request = fields
            .get("request")
            .map(|value| self.matcher(value, "request", context));
        let response = match fields.get("response") {
            Some(value) => self
                .response(value, &format!("in the response of {}", &context[3..]))
                .filter(|response| {
                    self.response_templates(
                        value,
                        response,
                        Scope::Mock {
                            params: &[],
                            limit: true,
                        },
                    )
                }),
            None => Some(default_limit_response()),
        };
        let remaining_header = fields.get("remaining_header").map(|value| {
            let text = self.string(value, "remaining_header", context)?;
            if hyper::header::HeaderName::from_bytes(text.as_bytes()).is_ok() {
                return Some(text);
            }
            self.error(
                Diagnostic::new(format!("invalid header name `{text}`"), Some(value.span))
                    .with_label("letters, digits and `-` only"),
            );
            None
        });
        Some(RateLimit {
            name: name?,
            key: key?,
            kind: kind?,
            request: present(request)?,
            response: response?,
            remaining_header: present(remaining_header)?,
        })
    }

    fn limit_key(&mut self, node: &Node, context: &str) -> Option<LimitKey> {
        let text = self.string(node, "key", context)?;
        match text.as_str() {
            "bearer" => return Some(LimitKey::Bearer),
            "client_ip" => return Some(LimitKey::ClientIp),
            "global" => return Some(LimitKey::Global),
            _ => {}
        }
        if let Some(name) = text.strip_prefix("header:") {
            let name = name.trim();
            if !name.is_empty() && hyper::header::HeaderName::from_bytes(name.as_bytes()).is_ok() {
                return Some(LimitKey::Header(name.to_ascii_lowercase()));
            }
        }
        let options = ["header:NAME", "bearer", "client_ip", "global"];
        let mut diagnostic =
            Diagnostic::new(format!("invalid rate limit key `{text}`"), Some(node.span))
                .with_label(format!("expected one of {}", list_keys(&options)));
        if text.starts_with("header") {
            diagnostic = diagnostic
                .with_help("write `header:` and the header's name, e.g. `header:xero-tenant-id`");
        } else if let Some(suggestion) = did_you_mean(&text, &options[1..]) {
            diagnostic = diagnostic.with_help(format!("did you mean `{suggestion}`?"));
        }
        self.error(diagnostic);
        None
    }
}
