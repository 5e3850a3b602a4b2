//! A webhook step → [`WebhookSpec`]: a request a mock sends to the target, with its body, its
//! HMAC signature ([`SignSpec`]) and the vendor's retry policy ([`RetrySpec`]); or a body the
//! sending provider writes and signs itself (`xero:`, `quickbooks:`, converted in their
//! provider's module).

use super::{Cx, Fields, Scope};
use crate::scenario::diagnostic::Diagnostic;
use crate::scenario::model::{
    RetrySpec, SignAlgorithm, SignSpec, SignatureEncoding, WebhookBody, WebhookSpec,
};
use crate::scenario::yaml::{Node, NodeKind};

pub(super) const WEBHOOK_KEYS: &[&str] = &[
    "mock",
    "method",
    "path",
    "headers",
    "json",
    "body",
    "body_file",
    "sign",
    "retry",
    "xero",
    "quickbooks",
];

pub(super) const SIGN_KEYS: &[&str] = &["secret", "header", "algorithm", "encoding", "prefix"];

pub(super) const RETRY_KEYS: &[&str] = &["attempts", "backoff", "timeout"];

impl Cx<'_> {
    pub(super) fn webhook(
        &mut self,
        node: &Node,
        context: &str,
        scope: Scope<'_>,
    ) -> Option<WebhookSpec> {
        if !matches!(node.kind, NodeKind::Mapping(_)) {
            self.type_error(node, "a mapping", "webhook", context);
            return None;
        }
        let webhook_context = format!("in the webhook of {}", &context[3..]);
        let context = webhook_context.as_str();
        let fields = self.fields(node, WEBHOOK_KEYS, "webhook", context)?;
        let mock = self.required(&fields, "mock", context, |this, value| {
            this.mock_name(value, context)
        });
        let method = match fields.get("method") {
            Some(value) => self.method(value, context),
            None => Some("POST".to_string()),
        };
        let path = self.required(&fields, "path", context, |this, value| {
            this.path(value, context, scope)
        });
        let headers = match fields.get("headers") {
            Some(value) => {
                let names_ok = self.header_fields(value, context);
                self.template_map(value, "headers", context, scope)
                    .filter(|_| names_ok)
            }
            None => Some(Vec::new()),
        };
        let body = if !self.at_most_one(&fields, &["json", "body", "body_file"], context) {
            None
        } else if let Some(value) = fields.get("json") {
            let templates_ok = self.json_templates(value, scope);
            self.json(value)
                .filter(|_| templates_ok)
                .map(|value| Some(WebhookBody::Json(value)))
        } else if let Some(value) = fields.get("body") {
            self.string(value, "body", context)
                .and_then(|text| self.template(value, &text, scope))
                .map(|body| Some(WebhookBody::Text(body)))
        } else if let Some(value) = fields.get("body_file") {
            self.read_file(value, "body_file", context)
                .and_then(|(_, bytes)| match String::from_utf8(bytes) {
                    Ok(text) => self
                        .file_template(value, &text, scope)
                        .map(|body| Some(WebhookBody::Text(body))),
                    Err(err) => Some(Some(WebhookBody::Bytes(err.into_bytes()))),
                })
        } else {
            Some(None)
        };
        let sign = match fields.get("sign") {
            Some(value) => self.sign(value, context, scope).map(Some),
            None => Some(None),
        };
        let retry = match fields.get("retry") {
            Some(value) => self.retry(value, context),
            None => Some(RetrySpec::default()),
        };
        let quickbooks = match fields.get("quickbooks") {
            Some(value) => {
                let alone = self.provider_writes_body(
                    &fields,
                    "quickbooks",
                    &["json", "body", "body_file", "sign", "xero"],
                    "a body, `sign` or `xero`",
                    context,
                );
                let spec = self.quickbooks_webhook(value, context, scope);
                let sender_ok = mock
                    .as_deref()
                    .is_none_or(|mock| self.quickbooks_webhook_sender(mock, value, context));
                spec.filter(|_| alone && sender_ok)
                    .map(|spec| Some(Box::new(spec)))
            }
            None => Some(None),
        };
        let xero = match fields.get("xero") {
            Some(value) => {
                let alone = self.provider_writes_body(
                    &fields,
                    "xero",
                    &["json", "body", "body_file", "sign"],
                    "a body or `sign`",
                    context,
                );
                let spec = self.xero_webhook(value, context, scope);
                let sender_ok = mock
                    .as_deref()
                    .is_none_or(|mock| self.xero_webhook_sender(mock, value, context));
                spec.filter(|_| alone && sender_ok).map(Some)
            }
            None => Some(None),
        };
        Some(WebhookSpec {
            mock: mock?,
            method: method?,
            path: path?,
            headers: headers?,
            body: body?,
            sign: sign?,
            retry: retry?,
            xero: xero?,
            quickbooks: quickbooks?,
        })
    }

    /// Whether a webhook with the provider key `provider` (whose provider writes and signs the
    /// body) has none of `keys` (`what` names them in the error); reports each one it has.
    fn provider_writes_body(
        &mut self,
        fields: &Fields<'_>,
        provider: &str,
        keys: &[&str],
        what: &str,
        context: &str,
    ) -> bool {
        let conflicts: Vec<&Node> = keys.iter().filter_map(|key| fields.key(key)).collect();
        for key_node in &conflicts {
            self.error(
                Diagnostic::new(
                    format!("`{provider}` and {what} {context}"),
                    Some(key_node.span),
                )
                .with_label(format!(
                    "with `{provider}` the provider writes and signs the body"
                )),
            );
        }
        conflicts.is_empty()
    }

    fn sign(&mut self, node: &Node, context: &str, scope: Scope<'_>) -> Option<SignSpec> {
        let sign_context = format!("in `sign` of {}", &context[3..]);
        let context = sign_context.as_str();
        let fields = self.fields(node, SIGN_KEYS, "sign", context)?;
        let secret = self.required_template(&fields, "secret", context, scope);
        let header = match fields.get("header") {
            Some(value) => self.string(value, "header", context).and_then(|text| {
                if !text.is_empty()
                    && text
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
                {
                    return Some(text);
                }
                self.error(
                    Diagnostic::new(format!("invalid header name `{text}`"), Some(value.span))
                        .with_label("expected letters, digits and `-`, e.g. `x-xero-signature`"),
                );
                None
            }),
            None => {
                self.missing(&fields, "header", context);
                None
            }
        };
        let algorithm = match fields.get("algorithm") {
            Some(value) => self.choice(
                value,
                "algorithm",
                context,
                &[("hmac-sha256", SignAlgorithm::HmacSha256)],
            ),
            None => Some(SignAlgorithm::HmacSha256),
        };
        let encoding = match fields.get("encoding") {
            Some(value) => self.choice(
                value,
                "encoding",
                context,
                &[
                    ("base64", SignatureEncoding::Base64),
                    ("hex", SignatureEncoding::Hex),
                ],
            ),
            None => Some(SignatureEncoding::Base64),
        };
        let prefix = match fields.get("prefix") {
            Some(value) => self.string(value, "prefix", context),
            None => Some(String::new()),
        };
        Some(SignSpec {
            secret: secret?,
            header: header?,
            algorithm: algorithm?,
            encoding: encoding?,
            prefix: prefix?,
        })
    }

    fn retry(&mut self, node: &Node, context: &str) -> Option<RetrySpec> {
        let retry_context = format!("in `retry` of {}", &context[3..]);
        let context = retry_context.as_str();
        let fields = self.fields(node, RETRY_KEYS, "retry", context)?;
        let defaults = RetrySpec::default();
        let attempts = match fields.get("attempts") {
            Some(value) => self
                .integer(value, "attempts", context, 1..=100)
                .map(|n| n as u32),
            None => Some(defaults.attempts),
        };
        let backoff = match fields.get("backoff") {
            Some(value) => self.duration(value, "backoff", context),
            None => Some(defaults.backoff),
        };
        let timeout = match fields.get("timeout") {
            Some(value) => self.duration(value, "timeout", context),
            None => Some(defaults.timeout),
        };
        Some(RetrySpec {
            attempts: attempts?,
            backoff: backoff?,
            timeout: timeout?,
        })
    }
}
