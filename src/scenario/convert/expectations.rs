//! `expect` → [`Expectation`]s, and the response checks a step's `expect` and a poll's `until`
//! share ([`ResponseCheck`]): a step's response, a mock's journal (request counts, `none`,
//! order, unmatched requests) or a provider's state (records by `where`, counted, unique by a
//! field, or with given field values). Under a response check's JSONPath, a mapping of operator
//! names is a [`ValueCheck`] (`present`, `non_empty`, `contains`, `regex`, `one_of`, `not`,
//! `equals`); any other value is the value expected.

use serde_json::Value;

use super::{Cx, Fields, list_keys, present};
use crate::scenario::diagnostic::Diagnostic;
use crate::scenario::model::{
    Check, CountRange, Expectation, RequestMatcher, ResponseCheck, Step, StepAction,
    VALUE_CHECK_OPERATORS, ValueCheck,
};
use crate::scenario::suggest::did_you_mean;
use crate::scenario::yaml::{Node, NodeKind, Scalar};

pub(super) const CHECK_KEYS: &[&str] = &["status", "json", "headers", "body_contains"];

pub(super) const STEP_EXPECT_KEYS: &[&str] =
    &["name", "step", "status", "json", "headers", "body_contains"];

pub(super) const MOCK_EXPECT_KEYS: &[&str] = &[
    "name",
    "mock",
    "request",
    "count",
    "none",
    "order",
    "unmatched",
    "state",
    "where",
    "unique_by",
    "fields",
];

pub(super) const COUNT_KEYS: &[&str] = &["min", "max"];

/// The operators of a response check's value check (defined with the model, which documents
/// what each means).
pub(super) const VALUE_CHECK_KEYS: &[&str] = VALUE_CHECK_OPERATORS;

/// A default name for an expectation without one.
fn describe(check: &Check) -> String {
    match check {
        Check::Step { step, .. } => format!("response of `{step}`"),
        Check::MockCount { mock, count, .. } => format!("requests to `{mock}`: {count}"),
        Check::MockOrder { mock, .. } => format!("order of requests to `{mock}`"),
        Check::Unmatched { mock, count } => format!("unmatched requests to `{mock}`: {count}"),
        Check::MockState {
            mock,
            collection,
            count,
            unique_by,
            fields,
            ..
        } => {
            let mut text = format!("`{collection}` of `{mock}`");
            if let Some(count) = count {
                text.push_str(&format!(": {count}"));
            }
            if let Some(field) = unique_by {
                text.push_str(&format!(", unique by `{field}`"));
            }
            for (field, value) in fields {
                text.push_str(&format!(", `{field}` = {value}"));
            }
            text
        }
    }
}

impl Cx<'_> {
    /// Response checks: `status` (a code or a list of codes), `json` (keys starting with `$` are
    /// JSONPaths, each with a value or a [`ValueCheck`]), `headers` (value matchers),
    /// `body_contains`.
    pub(super) fn check(&mut self, node: &Node, key: &str, context: &str) -> Option<ResponseCheck> {
        if !matches!(node.kind, NodeKind::Mapping(_)) {
            self.type_error(node, "a mapping", key, context);
            return None;
        }
        let check_context = format!("in `{key}` of {}", &context[3..]);
        let fields = self.fields(node, CHECK_KEYS, key, &check_context)?;
        self.check_fields(&fields, &check_context)
    }

    fn check_fields(&mut self, fields: &Fields<'_>, context: &str) -> Option<ResponseCheck> {
        let status = match fields.get("status") {
            Some(value) => self.statuses(value, context),
            None => Some(Vec::new()),
        };
        let headers = match fields.get("headers") {
            Some(value) => {
                let names_ok = self.header_fields(value, context);
                self.value_matchers(value, "headers", context)
                    .filter(|_| names_ok)
                    .map(|headers| {
                        headers
                            .into_iter()
                            .map(|(name, matcher)| (name.to_ascii_lowercase(), matcher))
                            .collect()
                    })
            }
            None => Some(Vec::new()),
        };
        let mut json = Some(None);
        let mut jsonpath = Some(Vec::new());
        if let Some(value) = fields.get("json") {
            match &value.kind {
                NodeKind::Mapping(entries) => {
                    let mut rest = serde_json::Map::new();
                    let mut ok = true;
                    for (key, item) in entries {
                        let Some(name) = key.text() else {
                            self.type_error(key, "a string", "json", context);
                            ok = false;
                            continue;
                        };
                        if name.starts_with('$') {
                            let path = self.jsonpath(key, name);
                            let check = self.value_check(item, name, context);
                            match (&mut jsonpath, path, check) {
                                (Some(paths), Some(path), Some(check)) => {
                                    paths.push((path, check));
                                }
                                _ => ok = false,
                            }
                        } else {
                            match self.json(item) {
                                Some(item_value) => {
                                    rest.insert(name.to_string(), item_value);
                                }
                                None => ok = false,
                            }
                        }
                    }
                    if ok {
                        json = Some((!rest.is_empty()).then_some(Value::Object(rest)));
                    } else {
                        json = None;
                    }
                }
                _ => json = self.json(value).map(Some),
            }
        }
        let body_contains = match fields.get("body_contains") {
            Some(value) => self.string(value, "body_contains", context).map(Some),
            None => Some(None),
        };
        Some(ResponseCheck {
            status: status?,
            json: json?,
            jsonpath: jsonpath?,
            headers: headers?,
            body_contains: body_contains?,
        })
    }

    /// `status: 200` or `status: [200, 204]` (any of them).
    fn statuses(&mut self, node: &Node, context: &str) -> Option<Vec<u16>> {
        let read = |cx: &mut Self, item: &Node| {
            cx.integer(item, "status", context, 100..=599)
                .map(|n| n as u16)
        };
        match &node.kind {
            NodeKind::Sequence(_) => {
                let items = self.non_empty_list(
                    node,
                    "status",
                    context,
                    "give the status codes that pass, e.g. `[200, 204]`",
                )?;
                self.each_item(items, |cx, _, item| read(cx, item))
            }
            _ => read(self, node).map(|status| vec![status]),
        }
    }

    /// The check under a response check's JSONPath `path`: a mapping whose keys are all operator
    /// names is an operator (several: all must hold); anything else is the value expected. A
    /// mapping that mixes operators and other keys, or whose one key is a typo of an operator, is
    /// an error: `equals:` says a value that looks like an operator is meant literally.
    fn value_check(&mut self, node: &Node, path: &str, context: &str) -> Option<ValueCheck> {
        self.value_check_in(node, &format!("in `{path}` {context}"))
    }

    /// [`Cx::value_check`], `inner` saying where (`` in `$.state` in `expect` of … ``).
    fn value_check_in(&mut self, node: &Node, inner: &str) -> Option<ValueCheck> {
        let NodeKind::Mapping(entries) = &node.kind else {
            return self.json(node).map(ValueCheck::Equals);
        };
        let is_operator = |key: &Node| key.text().is_some_and(|k| VALUE_CHECK_KEYS.contains(&k));
        let operators = entries.iter().filter(|(key, _)| is_operator(key)).count();
        if operators > 0 && operators == entries.len() {
            let mut checks = Some(Vec::new());
            for (key, value) in entries {
                let check = self.operator(key.text().unwrap_or_default(), value, inner);
                match (&mut checks, check) {
                    (Some(checks), Some(check)) => checks.push(check),
                    _ => checks = None,
                }
            }
            let mut checks = checks?;
            return Some(match checks.len() {
                1 => checks.remove(0),
                _ => ValueCheck::All(checks),
            });
        }
        let odd = if operators > 0 {
            entries.iter().find(|(key, _)| !is_operator(key))
        } else if let [(key, _)] = entries.as_slice() {
            // `not` is left out: too near common field names (`note`, `no`) to call them typos.
            let near: Vec<&str> = VALUE_CHECK_KEYS
                .iter()
                .copied()
                .filter(|operator| *operator != "not")
                .collect();
            key.text()
                .and_then(|k| did_you_mean(k, &near))
                .map(|_| &entries[0])
        } else {
            None
        };
        let Some((key, _)) = odd else {
            return self.json(node).map(ValueCheck::Equals);
        };
        let text = key.text().unwrap_or_default();
        let mut diagnostic =
            Diagnostic::new(format!("unknown check `{text}` {inner}"), Some(key.span))
                .with_label(format!("expected one of {}", list_keys(VALUE_CHECK_KEYS)));
        diagnostic = match did_you_mean(text, VALUE_CHECK_KEYS) {
            Some(suggestion) => diagnostic.with_help(format!(
                "did you mean `{suggestion}`? To expect this mapping itself, write `equals: {{ … }}`"
            )),
            None => diagnostic.with_help(
                "a mapping of checks takes only check names; to expect a mapping, write `equals: { … }`",
            ),
        };
        self.error(diagnostic);
        None
    }

    /// One operator of a [`ValueCheck`] mapping, `name: value`.
    fn operator(&mut self, name: &str, value: &Node, context: &str) -> Option<ValueCheck> {
        match name {
            "equals" => self.json(value).map(ValueCheck::Equals),
            "present" => self.boolean(value, name, context).map(ValueCheck::Present),
            "non_empty" => match self.boolean(value, name, context)? {
                true => Some(ValueCheck::NonEmpty),
                false => {
                    self.error(
                        Diagnostic::new(
                            format!("`non_empty` must be `true` {context}"),
                            Some(value.span),
                        )
                        .with_label("to expect an empty value, write `not: { non_empty: true }`"),
                    );
                    None
                }
            },
            "contains" => self
                .scalar_text(value, name, context)
                .map(ValueCheck::Contains),
            "regex" => {
                let text = self.string(value, name, context)?;
                self.regex(value, &text, false).map(ValueCheck::Regex)
            }
            "one_of" => {
                let items = self.non_empty_list(
                    value,
                    name,
                    context,
                    "give the values that pass, e.g. `[queued, done]`",
                )?;
                self.each_item(items, |cx, _, item| cx.json(item))
                    .map(ValueCheck::OneOf)
            }
            _ => self
                .value_check_in(value, context)
                .map(|check| ValueCheck::Not(Box::new(check))),
        }
    }

    pub(super) fn expectations(&mut self, node: &Node, flow: &[Step]) -> Option<Vec<Expectation>> {
        let items = self.list(node, "expect", "at the top level")?;
        self.each_item(items, |cx, index, item| {
            cx.expectation(item, index + 1, flow)
        })
    }

    fn expectation(&mut self, node: &Node, number: usize, flow: &[Step]) -> Option<Expectation> {
        let context = format!("in expectation {number}");
        let context = context.as_str();
        let NodeKind::Mapping(entries) = &node.kind else {
            self.type_error(node, "a mapping", "expect", context);
            return None;
        };
        let has = |key: &str| entries.iter().any(|(k, _)| k.text() == Some(key));
        let allowed = match (has("step"), has("mock")) {
            (true, true) => {
                let key = entries
                    .iter()
                    .find(|(key, _)| key.text() == Some("mock"))
                    .map(|(key, _)| key.span);
                self.error(
                    Diagnostic::new(
                        format!("`step` and `mock` cannot both be given {context}"),
                        key,
                    )
                    .with_label(
                        "an expectation checks a step's response or a mock's journal, not both",
                    ),
                );
                return None;
            }
            (true, false) => STEP_EXPECT_KEYS,
            (false, true) => MOCK_EXPECT_KEYS,
            (false, false) => {
                self.fields(
                    node,
                    &[STEP_EXPECT_KEYS, MOCK_EXPECT_KEYS].concat(),
                    "expect",
                    context,
                );
                self.error(
                    Diagnostic::new(format!("missing field `step` or `mock` {context}"), Some(node.span))
                        .with_label("an expectation checks a step's response (`step`) or a mock's journal (`mock`)"),
                );
                return None;
            }
        };
        let fields = self.fields(node, allowed, "expect", context)?;
        let name = fields
            .get("name")
            .map(|value| self.string(value, "name", context));
        let check = if fields.has("step") {
            self.step_expectation(&fields, flow, context)
        } else {
            self.mock_expectation(&fields, context)
        };
        let check = check?;
        let name = match present(name)? {
            Some(name) => name,
            None => describe(&check),
        };
        Some(Expectation {
            name,
            span: node.span,
            check,
        })
    }

    fn step_expectation(
        &mut self,
        fields: &Fields<'_>,
        flow: &[Step],
        context: &str,
    ) -> Option<Check> {
        let value = fields.get("step")?;
        let step = self.string(value, "step", context).and_then(|name| {
            match flow.iter().find(|step| step.name == name) {
                Some(step) if matches!(step.action, StepAction::AdvanceClock { .. }) => {
                    self.error(
                        Diagnostic::new(format!("step `{name}` has no response"), Some(value.span))
                            .with_label("it advances the clock"),
                    );
                    None
                }
                Some(_) => Some(name),
                None if flow.is_empty() => None,
                None => {
                    let names: Vec<&str> = flow.iter().map(|step| step.name.as_str()).collect();
                    let mut diagnostic = Diagnostic::new(
                        format!("unknown step `{name}` {context}"),
                        Some(value.span),
                    )
                    .with_label(format!("the flow has {}", list_keys(&names)));
                    if let Some(suggestion) = did_you_mean(&name, &names) {
                        diagnostic = diagnostic.with_help(format!("did you mean `{suggestion}`?"));
                    }
                    self.error(diagnostic);
                    None
                }
            }
        });
        let check = self.check_fields(fields, context);
        Some(Check::Step {
            step: step?,
            check: check?,
        })
    }

    /// `mock` + `state: COLLECTION` with `where`, `count` and/or `unique_by`.
    fn state_expectation(
        &mut self,
        mock: Option<String>,
        state: &Node,
        fields: &Fields<'_>,
        context: &str,
    ) -> Option<Check> {
        for key in ["request", "none", "order", "unmatched"] {
            if let Some(key_node) = fields.key(key) {
                self.error(
                    Diagnostic::new(
                        format!("`{key}` does not apply to `state` {context}"),
                        Some(key_node.span),
                    )
                    .with_label("`state` goes with `where`, `count`, `unique_by` and `fields`"),
                );
                return None;
            }
        }
        let collection = self.string(state, "state", context);
        let collection = match (&mock, collection) {
            (Some(mock), Some(collection)) => {
                let known = self
                    .provider_mocks
                    .iter()
                    .find(|(name, _)| name == mock)
                    .map(|(_, collections)| *collections);
                match known {
                    Some(collections) if collections.contains(&collection.as_str()) => {
                        Some(collection)
                    }
                    Some(collections) => {
                        let mut diagnostic = Diagnostic::new(
                            format!("unknown state `{collection}` of mock `{mock}` {context}"),
                            Some(state.span),
                        )
                        .with_label(format!("expected one of {}", list_keys(collections)));
                        if let Some(suggestion) = did_you_mean(&collection, collections) {
                            diagnostic =
                                diagnostic.with_help(format!("did you mean `{suggestion}`?"));
                        }
                        self.error(diagnostic);
                        None
                    }
                    None => {
                        self.error(
                            Diagnostic::new(
                                format!("mock `{mock}` has no provider state {context}"),
                                Some(state.span),
                            )
                            .with_label("`state` checks a mock with `provider`")
                            .with_help("count its requests with `request` and `count`"),
                        );
                        None
                    }
                }
            }
            _ => None,
        };
        let filter = match fields.get("where") {
            Some(value) => self.state_filter(value, "where", context),
            None => Some(Vec::new()),
        };
        let field_checks = match fields.get("fields") {
            Some(value) => self.state_filter(value, "fields", context),
            None => Some(Vec::new()),
        };
        let count = fields
            .get("count")
            .map(|value| self.count(value, "count", context));
        let unique_by = fields.get("unique_by").map(|value| {
            self.string(value, "unique_by", context)
                .and_then(|field| self.field_path(value, field, "unique_by", context))
        });
        let checks = ["count", "unique_by", "fields"];
        if !checks.iter().any(|key| fields.has(key)) {
            if !checks.iter().any(|key| fields.has_typo_of(key)) {
                self.error(
                    Diagnostic::new(format!("missing check {context}"), Some(fields.node.span))
                        .with_label("give `count`, `unique_by` and/or `fields` with `state`"),
                );
            }
            return None;
        }
        Some(Check::MockState {
            mock: mock?,
            collection: collection?,
            filter: filter?,
            count: present(count)?,
            unique_by: present(unique_by)?,
            fields: field_checks?,
        })
    }

    /// `where: { FIELD: VALUE }` or `fields: { FIELD: VALUE }` (the key `name`): dotted field paths
    /// and the JSON values they must equal.
    fn state_filter(
        &mut self,
        node: &Node,
        name: &str,
        context: &str,
    ) -> Option<Vec<(String, Value)>> {
        let NodeKind::Mapping(entries) = &node.kind else {
            self.type_error(node, "a mapping", name, context);
            return None;
        };
        let mut out = Some(Vec::new());
        for (key, value) in entries {
            let field = self
                .string(key, name, context)
                .and_then(|field| self.field_path(key, field, name, context));
            let value = self.json(value);
            match (&mut out, field, value) {
                (Some(out), Some(field), Some(value)) => out.push((field, value)),
                _ => out = None,
            }
        }
        out
    }

    /// A dotted field path into a record: `Contact.Name`.
    fn field_path(
        &mut self,
        node: &Node,
        field: String,
        key: &str,
        context: &str,
    ) -> Option<String> {
        if !field.is_empty() && field.split('.').all(|part| !part.is_empty()) {
            return Some(field);
        }
        self.error(
            Diagnostic::new(
                format!("invalid field `{field}` in `{key}` {context}"),
                Some(node.span),
            )
            .with_label("a field name, or a dotted path such as `Contact.Name`"),
        );
        None
    }

    fn mock_expectation(&mut self, fields: &Fields<'_>, context: &str) -> Option<Check> {
        let value = fields.get("mock")?;
        let mock = self.mock_name(value, context);
        if let Some(state) = fields.get("state") {
            return self.state_expectation(mock, state, fields, context);
        }
        for key in ["where", "unique_by"] {
            if let Some(key_node) = fields.key(key) {
                self.error(
                    Diagnostic::new(
                        format!("`{key}` needs `state` {context}"),
                        Some(key_node.span),
                    )
                    .with_label("it selects records of a provider's state"),
                );
                return None;
            }
        }
        let kinds = ["count", "none", "order", "unmatched"];
        if !self.at_most_one(fields, &kinds, context) {
            return None;
        }
        if let Some(key) = fields.key("request")
            && (fields.has("order") || fields.has("unmatched"))
        {
            self.error(
                Diagnostic::new(
                    format!("`request` does not apply here {context}"),
                    Some(key.span),
                )
                .with_label("`request` goes with `count` or `none`"),
            );
            return None;
        }
        let request = match fields.get("request") {
            Some(value) => self.matcher(value, "request", context),
            None => Some(RequestMatcher::default()),
        };
        if let Some(value) = fields.get("count") {
            let count = self.count(value, "count", context);
            return Some(Check::MockCount {
                mock: mock?,
                request: request?,
                count: count?,
            });
        }
        if let Some(value) = fields.get("none") {
            let none = self.boolean(value, "none", context).and_then(|none| {
                if none {
                    return Some(());
                }
                self.error(
                    Diagnostic::new(format!("`none` must be `true` {context}"), Some(value.span))
                        .with_label("to allow requests, use `count`"),
                );
                None
            });
            none?;
            return Some(Check::MockCount {
                mock: mock?,
                request: request?,
                count: CountRange::exactly(0),
            });
        }
        if let Some(value) = fields.get("order") {
            let order = self
                .non_empty_list(
                    value,
                    "order",
                    context,
                    "give the requests in their expected order",
                )
                .and_then(|items| {
                    self.each_item(items, |cx, index, item| {
                        cx.matcher(item, &format!("order entry {}", index + 1), context)
                    })
                });
            return Some(Check::MockOrder {
                mock: mock?,
                order: order?,
            });
        }
        if let Some(value) = fields.get("unmatched") {
            let count = self.count(value, "unmatched", context);
            return Some(Check::Unmatched {
                mock: mock?,
                count: count?,
            });
        }
        if kinds.iter().any(|kind| fields.has_typo_of(kind)) {
            return None;
        }
        self.error(
            Diagnostic::new(format!("missing check {context}"), Some(fields.node.span))
                .with_label(format!("give one of {}", list_keys(&kinds))),
        );
        None
    }

    /// `3` or `{ min: 1, max: 2 }`.
    fn count(&mut self, node: &Node, key: &str, context: &str) -> Option<CountRange> {
        if !matches!(node.kind, NodeKind::Mapping(_)) {
            return match node.scalar() {
                Some(Scalar::Int(_) | Scalar::UInt(_)) => self
                    .integer(node, key, context, 0..=u64::MAX)
                    .map(CountRange::exactly),
                _ if node.is_integer_text() => self
                    .integer(node, key, context, 0..=u64::MAX)
                    .map(CountRange::exactly),
                _ => {
                    self.type_error(node, "an integer or `{ min, max }`", key, context);
                    None
                }
            };
        }
        let fields = self.fields(node, COUNT_KEYS, key, context)?;
        if !fields.has("min") && !fields.has("max") {
            self.error(Diagnostic::new(
                format!("`{key}` {context} needs `min` or `max`"),
                Some(node.span),
            ));
            return None;
        }
        let min = match fields.get("min") {
            Some(value) => self.integer(value, "min", context, 0..=u64::MAX),
            None => Some(0),
        };
        let max = match fields.get("max") {
            Some(value) => self.integer(value, "max", context, 0..=u64::MAX).map(Some),
            None => Some(None),
        };
        let (min, max) = (min?, max?);
        if let Some(max) = max
            && max < min
        {
            self.error(
                Diagnostic::new(
                    format!("`min` is above `max` in `{key}` {context}"),
                    Some(node.span),
                )
                .with_label(format!("{min} > {max}")),
            );
            return None;
        }
        Some(CountRange { min, max })
    }
}
