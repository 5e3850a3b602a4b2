//! `flow` → [`Step`]s: the ordered steps the scenario replays (a request to the target or a
//! mock, a poll until a check holds, a webhook from a mock, a login driven as a browser
//! ([`SsoLogin`]), a clock advance), their captures and the requests they send ([`RequestSpec`]). Step names are unique, and each step's templates may
//! name the captures of the steps before it.

use std::time::Duration;

use super::{Cx, Fields, Scope, list_keys};
use crate::scenario::diagnostic::Diagnostic;
use crate::scenario::model::{
    Capture, CaptureSource, DEFAULT_MAX_HOPS, DEFAULT_REQUEST_TIMEOUT, MAX_MAX_HOPS, Pattern,
    RequestBody, RequestSpec, ResponseCheck, SsoLogin, Step, StepAction, UserSelection,
};
use crate::scenario::template::Template;
use crate::scenario::yaml::{Node, NodeKind};

pub(super) const STEP_KEYS: &[&str] = &[
    "name",
    "request",
    "poll",
    "webhook",
    "sso_login",
    "advance_clock",
    "expect",
    "capture",
    "follow_redirects",
    "max_redirects",
];

pub(super) const SSO_LOGIN_KEYS: &[&str] = &["start", "idp", "user", "max_hops"];

pub(super) const POLL_KEYS: &[&str] = &["request", "until", "every", "within"];

pub(super) const CAPTURE_KEYS: &[&str] = &["json", "header", "cookie", "regex"];

pub(super) const REQUEST_KEYS: &[&str] = &[
    "mock",
    "method",
    "path",
    "query",
    "headers",
    "json",
    "json_file",
    "body",
    "body_file",
    "timeout",
];

/// Default pause between poll attempts.
const DEFAULT_POLL_EVERY: Duration = Duration::from_secs(1);

/// Default poll deadline.
const DEFAULT_POLL_WITHIN: Duration = Duration::from_secs(30);

fn is_capture_name(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
}

/// Whether `text` can be an HTTP method: ASCII letters only.
pub(super) fn is_method(text: &str) -> bool {
    !text.is_empty() && text.chars().all(|c| c.is_ascii_alphabetic())
}

impl Cx<'_> {
    pub(super) fn flow(&mut self, node: &Node) -> Option<Vec<Step>> {
        let context = "at the top level";
        let items = self.list(node, "flow", context)?;
        if items.is_empty() {
            self.error(
                Diagnostic::new("`flow` is empty", Some(node.span))
                    .with_label("give at least one step"),
            );
            return None;
        }
        let mut captures: Vec<String> = Vec::new();
        let mut names: Vec<(String, usize)> = Vec::new();
        self.each_item(items, |cx, index, item| {
            cx.step(item, index + 1, &mut captures, &mut names)
        })
    }

    fn step(
        &mut self,
        node: &Node,
        number: usize,
        captures: &mut Vec<String>,
        names: &mut Vec<(String, usize)>,
    ) -> Option<Step> {
        let context = format!("in step {number}");
        let fields = self.fields(node, STEP_KEYS, "flow", &context)?;
        let name = match fields.get("name") {
            Some(value) => {
                let name = self.string(value, "name", &context);
                if let Some(name) = &name {
                    if let Some((_, first)) = names.iter().find(|(known, _)| known == name) {
                        self.error(
                            Diagnostic::new(
                                format!("duplicate step name `{name}`"),
                                Some(value.span),
                            )
                            .with_label(format!("step {first} already has this name"))
                            .with_help("step names must be unique"),
                        );
                    } else {
                        names.push((name.clone(), number));
                    }
                }
                name
            }
            None => Some(format!("step {number}")),
        };
        let context = match &name {
            Some(name) if fields.has("name") => format!("in step `{name}`"),
            _ => context,
        };
        let context = context.as_str();
        let actions = ["request", "poll", "webhook", "sso_login", "advance_clock"];
        let given: Vec<&str> = actions
            .iter()
            .copied()
            .filter(|key| fields.has(key))
            .collect();
        if given.is_empty() {
            if actions.iter().any(|action| fields.has_typo_of(action)) {
                return None;
            }
            self.error(
                Diagnostic::new(format!("missing action {context}"), Some(node.span))
                    .with_label(format!("give one of {}", list_keys(&actions))),
            );
            return None;
        }
        if !self.at_most_one(&fields, &actions, context) {
            return None;
        }
        if given[0] != "request" {
            for key in ["follow_redirects", "max_redirects"] {
                if let Some(key_node) = fields.key(key) {
                    self.error(
                        Diagnostic::new(
                            format!("`{key}` does not apply to `{}` {context}", given[0]),
                            Some(key_node.span),
                        )
                        .with_label("only a `request` step follows redirects when asked")
                        .with_help("an `sso_login` always follows them (`max_hops`)"),
                    );
                }
            }
        }
        let scope_captures = captures.clone();
        let scope = Scope::Flow {
            captures: &scope_captures,
        };
        let capture = match fields.get("capture") {
            Some(value) => self.captures(value, context),
            None => Some(Vec::new()),
        };
        let action = match given[0] {
            "request" => {
                let request = self.request(fields.get("request")?, context, scope);
                let expect = self.step_expect(fields.get("expect"), context);
                let follow_redirects = self.follow_redirects(&fields, context);
                (|| {
                    Some(StepAction::Request {
                        request: request?,
                        expect: expect?,
                        capture: capture.clone()?,
                        follow_redirects: follow_redirects?,
                    })
                })()
            }
            "poll" => {
                if let Some(key) = fields.key("expect") {
                    self.error(
                        Diagnostic::new(
                            format!("`expect` does not apply to a poll {context}"),
                            Some(key.span),
                        )
                        .with_label("a poll ends when `until` holds")
                        .with_help("move the checks into `poll.until`"),
                    );
                }
                self.poll(fields.get("poll")?, context, scope, capture.clone())
            }
            "webhook" => {
                if let Some(key_node) = fields.key("capture") {
                    self.error(
                        Diagnostic::new(
                            format!("`capture` does not apply to a webhook {context}"),
                            Some(key_node.span),
                        )
                        .with_label("a webhook's answer goes to the mock, not to the flow"),
                    );
                }
                let webhook = self.webhook(fields.get("webhook")?, context, scope);
                let expect = self.step_expect(fields.get("expect"), context);
                Some(StepAction::Webhook {
                    webhook: webhook?,
                    expect: expect?,
                })
            }
            "sso_login" => {
                let login = self.sso_login(fields.get("sso_login")?, context, scope);
                let expect = self.step_expect(fields.get("expect"), context);
                (|| {
                    Some(StepAction::SsoLogin {
                        login: login?,
                        expect: expect?,
                        capture: capture.clone()?,
                    })
                })()
            }
            _ => {
                for key in ["expect", "capture"] {
                    if let Some(key_node) = fields.key(key) {
                        self.error(
                            Diagnostic::new(
                                format!("`{key}` does not apply to `advance_clock` {context}"),
                                Some(key_node.span),
                            )
                            .with_label(
                                "only a request, poll, webhook or sso_login step has a response",
                            ),
                        );
                    }
                }
                self.duration(fields.get("advance_clock")?, "advance_clock", context)
                    .map(|by| StepAction::AdvanceClock { by })
            }
        };
        // Later steps may use this step's captures, even when this step has other problems.
        if let Some(value) = fields.get("capture")
            && let NodeKind::Mapping(entries) = &value.kind
        {
            captures.extend(
                entries
                    .iter()
                    .filter_map(|(key, _)| key.as_str().map(str::to_string)),
            );
        }
        Some(Step {
            name: name?,
            span: node.span,
            action: action?,
        })
    }

    /// `follow_redirects: true` and `max_redirects` of a request step: the most redirects
    /// followed (`Some(None)` when they are not followed, `None` when invalid).
    fn follow_redirects(&mut self, fields: &Fields<'_>, context: &str) -> Option<Option<u32>> {
        let follow = match fields.get("follow_redirects") {
            Some(value) => self.boolean(value, "follow_redirects", context)?,
            None => false,
        };
        let max = match fields.get("max_redirects") {
            Some(value) => {
                let max =
                    self.integer(value, "max_redirects", context, 1..=u64::from(MAX_MAX_HOPS))?;
                if !follow {
                    self.error(
                        Diagnostic::new(
                            format!("`max_redirects` needs `follow_redirects: true` {context}"),
                            fields.key("max_redirects").map(|key| key.span),
                        )
                        .with_label("without it, a redirect is the step's response"),
                    );
                    return None;
                }
                u32::try_from(max).unwrap_or(MAX_MAX_HOPS)
            }
            None => DEFAULT_MAX_HOPS,
        };
        Some(follow.then_some(max))
    }

    /// A step's `expect`, if given (`Some(None)` when absent, `None` when invalid).
    fn step_expect(
        &mut self,
        value: Option<&Node>,
        context: &str,
    ) -> Option<Option<ResponseCheck>> {
        match value {
            Some(value) => self.check(value, "expect", context).map(Some),
            None => Some(None),
        }
    }

    fn captures(&mut self, node: &Node, context: &str) -> Option<Vec<Capture>> {
        let NodeKind::Mapping(entries) = &node.kind else {
            self.type_error(node, "a mapping", "capture", context);
            return None;
        };
        let mut out = Some(Vec::new());
        for (key, value) in entries {
            let name = self.string(key, "capture", context).and_then(|name| {
                if is_capture_name(&name) && !["mocks", "target", "env"].contains(&name.as_str()) {
                    return Some(name);
                }
                self.error(
                    Diagnostic::new(format!("invalid capture name `{name}`"), Some(key.span))
                        .with_label("expected letters, digits, `_` and `-`, starting with a letter or `_`, and not `mocks`, `target` or `env`"),
                );
                None
            });
            let rule = match &value.kind {
                NodeKind::Mapping(_) => self.capture_rule(value, context),
                _ => self
                    .string(value, "capture", context)
                    .and_then(|text| self.jsonpath(value, &text))
                    .map(|path| (CaptureSource::Json(path), None)),
            };
            match (&mut out, name, rule) {
                (Some(out), Some(name), Some((from, regex))) => {
                    out.push(Capture { name, from, regex });
                }
                _ => out = None,
            }
        }
        out
    }

    /// `{ json: JSONPATH }`, `{ header: NAME }`, `{ cookie: NAME }` or none of them (the body as
    /// text), each with an optional `regex` (required for the body).
    fn capture_rule(
        &mut self,
        node: &Node,
        context: &str,
    ) -> Option<(CaptureSource, Option<Pattern>)> {
        let fields = self.fields(node, CAPTURE_KEYS, "capture", context)?;
        let sources: Vec<&str> = ["json", "header", "cookie"]
            .into_iter()
            .filter(|key| fields.get(key).is_some())
            .collect();
        if sources.len() > 1 {
            self.error(
                Diagnostic::new(
                    format!(
                        "a capture takes one of `json`, `header` and `cookie`, not `{}` and `{}`",
                        sources[0], sources[1]
                    ),
                    Some(node.span),
                )
                .with_label("keep one: the regex, if any, applies to what it selects"),
            );
            return None;
        }
        let regex = match fields.get("regex") {
            Some(value) => {
                let text = self.string(value, "regex", context)?;
                Some(self.regex(value, &text, false)?)
            }
            None => None,
        };
        let name = |this: &mut Self, key: &str| {
            let value = fields.get(key)?;
            let text = this.string(value, key, context)?;
            if text.is_empty() || !text.chars().all(super::read::is_token_char) {
                this.error(
                    Diagnostic::new(format!("invalid {key} name `{text}`"), Some(value.span))
                        .with_label("a header or cookie name is a token: letters, digits and ``!#$%&'*+-.^_`|~``"),
                );
                return None;
            }
            Some(text)
        };
        let from = match sources.first().copied() {
            Some("json") => {
                let value = fields.get("json")?;
                let text = self.string(value, "json", context)?;
                CaptureSource::Json(self.jsonpath(value, &text)?)
            }
            Some("header") => CaptureSource::Header(name(self, "header")?.to_ascii_lowercase()),
            Some("cookie") => CaptureSource::Cookie(name(self, "cookie")?),
            _ if regex.is_none() => {
                self.error(
                    Diagnostic::new(
                        format!("a capture mapping needs `json`, `header`, `cookie` or `regex` {context}"),
                        Some(node.span),
                    )
                    .with_label("e.g. `{ header: location, regex: \"code=([^&]+)\" }`, or `{ regex: … }` on the body"),
                );
                return None;
            }
            _ => CaptureSource::Body,
        };
        Some((from, regex))
    }

    fn poll(
        &mut self,
        node: &Node,
        context: &str,
        scope: Scope<'_>,
        capture: Option<Vec<Capture>>,
    ) -> Option<StepAction> {
        if !matches!(node.kind, NodeKind::Mapping(_)) {
            self.type_error(node, "a mapping", "poll", context);
            return None;
        }
        let poll_context = format!("in the poll of {}", &context[3..]);
        let context = poll_context.as_str();
        let fields = self.fields(node, POLL_KEYS, "poll", context)?;
        let request = self.required(&fields, "request", context, |this, value| {
            this.request(value, context, scope)
        });
        let until = self.required(&fields, "until", context, |this, value| {
            this.check(value, "until", context)
        });
        let every = match fields.get("every") {
            Some(value) => self.duration(value, "every", context),
            None => Some(DEFAULT_POLL_EVERY),
        };
        let within = match fields.get("within") {
            Some(value) => self.duration(value, "within", context),
            None => Some(DEFAULT_POLL_WITHIN),
        };
        Some(StepAction::Poll {
            request: request?,
            until: until?,
            every: every?,
            within: within?,
            capture: capture?,
        })
    }

    fn request(&mut self, node: &Node, context: &str, scope: Scope<'_>) -> Option<RequestSpec> {
        self.request_spec(node, "request", context, scope)
    }

    /// A request mapping under `key`: `request` (method and path required) or `start` of an
    /// `sso_login` (method default `GET`, path default `/`).
    fn request_spec(
        &mut self,
        node: &Node,
        key: &str,
        context: &str,
        scope: Scope<'_>,
    ) -> Option<RequestSpec> {
        if !matches!(node.kind, NodeKind::Mapping(_)) {
            self.type_error(node, "a mapping", key, context);
            return None;
        }
        let start = key == "start";
        let request_context = if start {
            format!("in the `sso_login.start` of {}", &context[3..])
        } else {
            format!("in the request of {}", &context[3..])
        };
        let context = request_context.as_str();
        let fields = self.fields(node, REQUEST_KEYS, key, context)?;
        let mock = match fields.get("mock") {
            Some(value) => self.mock_name(value, context).map(Some),
            None => Some(None),
        };
        let method = match fields.get("method") {
            None if start => Some("GET".to_string()),
            _ => self.required(&fields, "method", context, |this, value| {
                this.method(value, context)
            }),
        };
        let path = match fields.get("path") {
            None if start => Template::parse("/").ok(),
            _ => self.required(&fields, "path", context, |this, value| {
                this.path(value, context, scope)
            }),
        };
        let query = match fields.get("query") {
            Some(value) => self.template_map(value, "query", context, scope),
            None => Some(Vec::new()),
        };
        let headers = match fields.get("headers") {
            Some(value) => {
                let names_ok = self.header_fields(value, context);
                self.template_map(value, "headers", context, scope)
                    .filter(|_| names_ok)
            }
            None => Some(Vec::new()),
        };
        let body_keys = ["json", "json_file", "body", "body_file"];
        let body = if !self.at_most_one(&fields, &body_keys, context) {
            None
        } else if let Some(value) = fields.get("json") {
            let templates_ok = self.json_templates(value, scope);
            self.json(value)
                .filter(|_| templates_ok)
                .map(|value| Some(RequestBody::Json(value)))
        } else if let Some(value) = fields.get("json_file") {
            self.json_file(value, "json_file", context)
                .and_then(|json| {
                    self.file_json_templates(value, &json, scope)
                        .then_some(Some(RequestBody::Json(json)))
                })
        } else if let Some(value) = fields.get("body") {
            self.string(value, "body", context)
                .and_then(|text| self.template(value, &text, scope))
                .map(|body| Some(RequestBody::Text(body)))
        } else if let Some(value) = fields.get("body_file") {
            self.text_file(value, "body_file", context)
                .and_then(|(_, text)| self.file_template(value, &text, scope))
                .map(|body| Some(RequestBody::Text(body)))
        } else {
            Some(None)
        };
        let timeout = match fields.get("timeout") {
            Some(value) => self.duration(value, "timeout", context),
            None => Some(DEFAULT_REQUEST_TIMEOUT),
        };
        Some(RequestSpec {
            mock: mock?,
            method: method?,
            path: path?,
            query: query?,
            headers: headers?,
            body: body?,
            timeout: timeout?,
        })
    }

    /// `sso_login: { start, idp, user, max_hops }`: the start request (default `GET /` on the
    /// target), the identity provider mock, the user it logs in (the parameter its provider reads)
    /// and the hop limit.
    fn sso_login(&mut self, node: &Node, context: &str, scope: Scope<'_>) -> Option<SsoLogin> {
        if !matches!(node.kind, NodeKind::Mapping(_)) {
            self.type_error(node, "a mapping", "sso_login", context);
            return None;
        }
        let fields = self.fields(node, SSO_LOGIN_KEYS, "sso_login", context)?;
        let start = match fields.get("start") {
            Some(value) if value.as_str().is_some() => {
                let path = value.as_str().unwrap_or_default();
                let mut diagnostic = Diagnostic::new(
                    format!("expected a mapping for `start` {context}, found a string"),
                    Some(value.span),
                )
                .with_label("`start` is a request: `path`, and optional `method`, `query`, `headers`, `mock`, …");
                if path.starts_with('/') {
                    diagnostic = diagnostic.with_help(format!("write `start: {{ path: {path} }}`"));
                }
                self.error(diagnostic);
                None
            }
            Some(value) => self.request_spec(value, "start", context, scope),
            None => Some(RequestSpec {
                mock: None,
                method: "GET".to_string(),
                path: Template::parse("/").ok()?,
                query: Vec::new(),
                headers: Vec::new(),
                body: None,
                timeout: DEFAULT_REQUEST_TIMEOUT,
            }),
        };
        let idp = match fields.get("idp") {
            Some(value) => self
                .string(value, "idp", context)
                .and_then(|_| self.mock_name(value, context))
                .map(Some),
            None => Some(None),
        };
        let user = match (fields.get("user"), &idp) {
            (None, _) => Some(None),
            (Some(_), None) => None,
            (Some(value), Some(None)) => {
                let key = fields.key("user").map_or(value.span, |key| key.span);
                self.error(
                    Diagnostic::new(format!("`user` needs `idp` {context}"), Some(key))
                        .with_label("who logs in is told to the identity provider mock")
                        .with_help("name it: `idp: MOCK`, a mock with `provider: oidc` or `provider: saml`"),
                );
                None
            }
            (Some(value), Some(Some(mock))) => {
                let param = self.user_param(mock, value, context);
                let template = self
                    .string(value, "user", context)
                    .and_then(|text| self.template(value, &text, scope));
                match (param, template) {
                    (Some(param), Some(value)) => Some(Some(UserSelection {
                        param: param.to_string(),
                        value,
                    })),
                    _ => None,
                }
            }
        };
        let max_hops = match fields.get("max_hops") {
            Some(value) => self
                .integer(value, "max_hops", context, 1..=u64::from(MAX_MAX_HOPS))
                .and_then(|n| u32::try_from(n).ok()),
            None => Some(DEFAULT_MAX_HOPS),
        };
        Some(SsoLogin {
            start: start?,
            idp: idp?,
            user: user?,
            max_hops: max_hops?,
        })
    }

    /// The query parameter by which the provider of mock `mock` picks the user who logs in, or
    /// an error at `value` (the `user`) when it has none.
    fn user_param(&mut self, mock: &str, value: &Node, context: &str) -> Option<&'static str> {
        let provider = self
            .providers
            .iter()
            .find(|(name, _)| name == mock)
            .map(|(_, provider)| *provider);
        match provider {
            Some("oidc") => return Some("login_hint"),
            Some("saml") => return Some("user"),
            _ => {}
        }
        let what = match provider {
            Some(provider) => format!("`provider: {provider}`"),
            None => "no provider".to_string(),
        };
        self.error(
            Diagnostic::new(
                format!("mock `{mock}` cannot pick the user {context}"),
                Some(value.span),
            )
            .with_label(format!(
                "`user` needs an `idp` with `provider: oidc` (`login_hint`) or `provider: saml` (`user`); `{mock}` has {what}"
            ))
            .with_help("for a stubbed identity provider, put the user where its stubs look for it, e.g. in `start.query`, and drop `user`"),
        );
        None
    }

    /// The method of a request the runner or a mock sends, upper-cased.
    pub(super) fn method(&mut self, value: &Node, context: &str) -> Option<String> {
        let text = self.string(value, "method", context)?;
        if is_method(&text) {
            return Some(text.to_ascii_uppercase());
        }
        self.error(
            Diagnostic::new(format!("invalid method `{text}`"), Some(value.span))
                .with_label("expected an HTTP method such as `GET` or `POST`"),
        );
        None
    }

    /// The path of a request sent to the target: it starts with `/` (or with a placeholder that
    /// supplies one), since it is appended to the target's base URL.
    pub(super) fn path(
        &mut self,
        value: &Node,
        context: &str,
        scope: Scope<'_>,
    ) -> Option<Template> {
        let text = self.string(value, "path", context)?;
        if !text.starts_with('/') && !text.starts_with("{{") {
            self.error(
                Diagnostic::new(format!("invalid path `{text}`"), Some(value.span))
                    .with_label("a path starts with `/`")
                    .with_help(format!("write `/{text}`")),
            );
            return None;
        }
        self.template(value, &text, scope)
    }
}
