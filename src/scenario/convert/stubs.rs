//! Stubs → [`Stub`]: one match-and-respond rule of a mock, with its response or response
//! sequence ([`ResponseSpec`], whose templates are checked against the mock's variables), its
//! scenario-state rule ([`StateRule`]) and its key/value store writes ([`StoreRule`]).

use serde_json::Value;

use super::{Cx, Scope, present};
use crate::scenario::diagnostic::Diagnostic;
use crate::scenario::model::{
    AfterLast, DEFAULT_PRIORITY, PathMatcher, RequestMatcher, ResponseBody, ResponseSequence,
    ResponseSpec, StateRule, StoreRule, Stub,
};
use crate::scenario::yaml::{Node, NodeKind};

pub(super) const STUB_KEYS: &[&str] = &[
    "name",
    "priority",
    "request",
    "response",
    "responses",
    "sequence",
    "state",
    "store",
    "faults",
];

pub(super) const RESPONSE_KEYS: &[&str] =
    &["status", "headers", "json", "body", "body_file", "template"];

pub(super) const STATE_KEYS: &[&str] = &["machine", "when", "set"];

pub(super) const STORE_KEYS: &[&str] = &["set", "delete"];

/// The parameter names of a stub's path template (`/invoices/{id}` → `id`).
fn stub_params(request: Option<&RequestMatcher>) -> Vec<String> {
    match request.and_then(|r| r.path.as_ref()) {
        Some(PathMatcher::Template(template)) => template
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

impl Cx<'_> {
    pub(super) fn stub(&mut self, node: &Node, context: &str) -> Option<Stub> {
        let fields = self.fields(node, STUB_KEYS, "stubs", context)?;
        let name = fields
            .get("name")
            .map(|value| self.string(value, "name", context));
        let priority = match fields.get("priority") {
            Some(value) => self
                .integer(value, "priority", context, 1..=255)
                .map(|n| n as u8),
            None => Some(DEFAULT_PRIORITY),
        };
        let request = self.required(&fields, "request", context, |this, value| {
            this.matcher(value, "request", context)
        });
        let exclusive = self.at_most_one(&fields, &["response", "responses"], context);
        let responses = if !exclusive {
            None
        } else if let Some(value) = fields.get("response") {
            if let Some(key) = fields.key("sequence") {
                self.error(
                    Diagnostic::new(
                        format!("`sequence` needs `responses` {context}"),
                        Some(key.span),
                    )
                    .with_label("a single `response` has no sequence"),
                );
            }
            self.response(value, &format!("in the response of {}", &context[3..]))
                .map(|response| vec![response])
        } else if let Some(value) = fields.get("responses") {
            self.non_empty_list(value, "responses", context, "give at least one response")
                .and_then(|items| {
                    self.each_item(items, |cx, index, item| {
                        cx.response(
                            item,
                            &format!("in response {} of {}", index + 1, &context[3..]),
                        )
                    })
                })
        } else {
            if !fields.has_typo_of("response") && !fields.has_typo_of("responses") {
                self.error(
                    Diagnostic::new(
                        format!("missing field `response` {context}"),
                        Some(node.span),
                    )
                    .with_label("give `response` or `responses`"),
                );
            }
            None
        };
        let params = stub_params(request.as_ref());
        let scope = Scope::Mock {
            params: &params,
            limit: false,
        };
        let mut templates_ok = true;
        if let (Some(value), Some(responses)) = (fields.get("response"), &responses) {
            templates_ok &= self.response_templates(value, &responses[0], scope);
        }
        if let (Some(NodeKind::Sequence(items)), Some(responses)) =
            (fields.get("responses").map(|v| &v.kind), &responses)
        {
            for (item, response) in items.iter().zip(responses) {
                templates_ok &= self.response_templates(item, response, scope);
            }
        }
        let state = fields
            .get("state")
            .map(|value| self.state_rule(value, context));
        let store = fields
            .get("store")
            .map(|value| self.store_rule(value, context, scope));
        let after_last = match fields.get("sequence") {
            Some(value) => {
                let text = self.string(value, "sequence", context);
                match text.as_deref() {
                    Some("stick") => Some(AfterLast::Stick),
                    Some("cycle") => Some(AfterLast::Cycle),
                    Some(other) => {
                        self.error(
                            Diagnostic::new(
                                format!("invalid `sequence` `{other}`"),
                                Some(value.span),
                            )
                            .with_label("expected one of `stick`, `cycle`"),
                        );
                        None
                    }
                    None => None,
                }
            }
            None => Some(AfterLast::Stick),
        };
        let faults = match fields.get("faults") {
            Some(value) => self.list(value, "faults", context).and_then(|items| {
                self.each_item(items, |cx, index, item| {
                    cx.fault(
                        item,
                        &format!("in fault {} of {}", index + 1, &context[3..]),
                    )
                })
            }),
            None => Some(Vec::new()),
        };
        templates_ok.then_some(())?;
        Some(Stub {
            name: present(name)?,
            priority: priority?,
            request: request?,
            responses: ResponseSequence {
                responses: responses?,
                after_last: after_last?,
            },
            state: present(state)?,
            store: present(store)?,
            faults: faults?,
        })
    }

    pub(super) fn response(&mut self, node: &Node, context: &str) -> Option<ResponseSpec> {
        let fields = self.fields(node, RESPONSE_KEYS, "response", context)?;
        let status = match fields.get("status") {
            Some(value) => self
                .integer(value, "status", context, 100..=599)
                .map(|n| n as u16),
            None => Some(200),
        };
        let mut headers = Some(Vec::new());
        if let Some(value) = fields.get("headers") {
            let names_ok = self.header_fields(value, context);
            headers = self.response_headers(value, context).filter(|_| names_ok);
        }
        // `template: false`: the body is sent exactly as written, `{{` and `}}` included.
        let literal = match fields.get("template") {
            Some(value) => self.boolean(value, "template", context).map(|t| !t),
            None => Some(false),
        };
        let body = if !self.at_most_one(&fields, &["json", "body", "body_file"], context) {
            None
        } else if literal == Some(true) {
            if fields.has("json") {
                self.error(
                    Diagnostic::new(
                        format!("`template: false` with `json` {context}"),
                        fields.key("template").map(|key| key.span),
                    )
                    .with_label("only a text body can be sent as written")
                    .with_help("write the JSON as `body` text, or put it in a `body_file`"),
                );
                None
            } else if let Some(value) = fields.get("body") {
                self.string(value, "body", context).map(ResponseBody::Raw)
            } else if let Some(value) = fields.get("body_file") {
                // A `.json` file too: its bytes, not a parsed document.
                self.text_file(value, "body_file", context)
                    .map(|(_, text)| ResponseBody::Raw(text))
            } else {
                Some(ResponseBody::Empty)
            }
        } else if let Some(value) = fields.get("json") {
            self.json(value).map(ResponseBody::Json)
        } else if let Some(value) = fields.get("body") {
            self.string(value, "body", context).map(ResponseBody::Text)
        } else if let Some(value) = fields.get("body_file") {
            if value.as_str().is_some_and(|name| name.ends_with(".json")) {
                self.json_file(value, "body_file", context)
                    .map(ResponseBody::Json)
            } else {
                self.text_file(value, "body_file", context)
                    .map(|(_, text)| ResponseBody::Text(text))
            }
        } else {
            Some(ResponseBody::Empty)
        };
        literal?;
        Some(ResponseSpec {
            status: status?,
            headers: headers?,
            body: body?,
        })
    }

    /// A response's `headers`: name → value, or name → list of values, each sent as its own
    /// header line in order (`set-cookie: [a=1, b=2]`).
    fn response_headers(&mut self, node: &Node, context: &str) -> Option<Vec<(String, String)>> {
        let entries =
            self.map_entries(node, "headers", context, |cx, _, value| match &value.kind {
                NodeKind::Sequence(items) if items.is_empty() => {
                    cx.error(
                        Diagnostic::new(
                            format!("empty list of header values {context}"),
                            Some(value.span),
                        )
                        .with_label("a header needs at least one value")
                        .with_help("give one value, a list of values, or leave the header out"),
                    );
                    None
                }
                NodeKind::Sequence(items) => cx.each_item(items, |cx, _, item| {
                    cx.scalar_text(item, "headers", context)
                }),
                _ => cx.scalar_text(value, "headers", context).map(|v| vec![v]),
            })?;
        Some(
            entries
                .into_iter()
                .flat_map(|(name, values)| values.into_iter().map(move |v| (name.clone(), v)))
                .collect(),
        )
    }

    /// Check the templates of a mock response: header values, `body`, `json` string leaves and
    /// `body_file` content. Keys were already checked by [`Cx::response`].
    pub(super) fn response_templates(
        &mut self,
        node: &Node,
        spec: &ResponseSpec,
        scope: Scope<'_>,
    ) -> bool {
        let NodeKind::Mapping(entries) = &node.kind else {
            return true;
        };
        let mut ok = true;
        for (key, value) in entries {
            match key.text() {
                Some("headers") => {
                    if let NodeKind::Mapping(headers) = &value.kind {
                        let values = headers.iter().flat_map(|(_, header)| match &header.kind {
                            NodeKind::Sequence(items) => items.iter().collect::<Vec<_>>(),
                            _ => vec![header],
                        });
                        for header in values {
                            if let Some(text) = header
                                .text()
                                .filter(|t| t.contains("{{") || t.contains("}}"))
                            {
                                let text = text.to_owned();
                                ok &= self.template(header, &text, scope).is_some();
                            }
                        }
                    }
                }
                Some("json") => ok &= self.json_templates(value, scope),
                Some("body") if !matches!(spec.body, ResponseBody::Raw(_)) => {
                    if let Some(text) = value
                        .as_str()
                        .filter(|t| t.contains("{{") || t.contains("}}"))
                    {
                        let text = text.to_owned();
                        ok &= self.template(value, &text, scope).is_some();
                    }
                }
                Some("body_file") => match &spec.body {
                    ResponseBody::Json(json) => {
                        ok &= self.file_json_templates(value, json, scope);
                    }
                    ResponseBody::Text(text) if text.contains("{{") || text.contains("}}") => {
                        let json = Value::String(text.clone());
                        ok &= self.file_json_templates(value, &json, scope);
                    }
                    _ => {}
                },
                _ => {}
            }
        }
        ok
    }

    /// `state:` of a stub.
    fn state_rule(&mut self, node: &Node, context: &str) -> Option<StateRule> {
        let context = format!("in the state of {}", &context[3..]);
        let context = context.as_str();
        let fields = self.fields(node, STATE_KEYS, "state", context)?;
        let machine = self.required(&fields, "machine", context, |this, value| {
            this.scalar_text(value, "machine", context)
        });
        let when = fields
            .get("when")
            .map(|value| self.scalar_text(value, "when", context));
        let set = fields
            .get("set")
            .map(|value| self.scalar_text(value, "set", context));
        Some(StateRule {
            machine: machine?,
            when: present(when)?,
            set: present(set)?,
        })
    }

    /// `store:` of a stub: `set` (key template → value template) and `delete` (key templates).
    fn store_rule(&mut self, node: &Node, context: &str, scope: Scope<'_>) -> Option<StoreRule> {
        let context = format!("in the store of {}", &context[3..]);
        let context = context.as_str();
        let fields = self.fields(node, STORE_KEYS, "store", context)?;
        let mut rule = Some(StoreRule::default());
        if let Some(value) = fields.get("set") {
            if let NodeKind::Mapping(entries) = &value.kind {
                for (key, item) in entries {
                    let key = self
                        .scalar_text(key, "set", context)
                        .and_then(|text| self.template(key, &text, scope).map(|_| text));
                    let item = self
                        .scalar_text(item, "set", context)
                        .and_then(|text| self.template(item, &text, scope).map(|_| text));
                    match (&mut rule, key, item) {
                        (Some(rule), Some(key), Some(item)) => rule.set.push((key, item)),
                        _ => rule = None,
                    }
                }
            } else {
                self.type_error(value, "a mapping", "set", context);
                rule = None;
            }
        }
        if let Some(value) = fields.get("delete") {
            match self.list(value, "delete", context) {
                Some(items) => {
                    for item in items {
                        let key = self
                            .scalar_text(item, "delete", context)
                            .and_then(|text| self.template(item, &text, scope).map(|_| text));
                        match (&mut rule, key) {
                            (Some(rule), Some(key)) => rule.delete.push(key),
                            _ => rule = None,
                        }
                    }
                }
                None => rule = None,
            }
        }
        rule
    }
}
