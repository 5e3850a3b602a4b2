//! Templates in a scenario: each is parsed where it is written, and the variables it names are
//! checked against its [`Scope`] (the target, the flow so far, or a mock's request), with errors
//! pointing inside the string. Also the templates of JSON values, of files and of mappings.

use serde_json::Value;

use super::read::clip;
use super::{Cx, Fields, list_keys};
use crate::scenario::diagnostic::Diagnostic;
use crate::scenario::model::Span;
use crate::scenario::suggest::did_you_mean;
use crate::scenario::template::repeat::{ITEM_KEY, MAX_REPEAT_DEPTH, MAX_REPEAT_ITEMS, REPEAT_KEY};
use crate::scenario::template::{Template, Var};
use crate::scenario::yaml::{Node, NodeKind, Scalar};

/// Where a template is used, which decides the variables it may name.
#[derive(Clone, Copy)]
pub(super) enum Scope<'s> {
    /// In `target`: `mocks.NAME.url`, `target.port`, `env.NAME`.
    Target,
    /// In the flow: `mocks.NAME.url`, `target.url`, `env.NAME` and the captures so far.
    Flow { captures: &'s [String] },
    /// In a mock's responses and store writes: `request.*`, `now`, `uuid`, `store.*`,
    /// `state.*`, `self.url`, `mocks.NAME.url`, and `retry_after` in a rate limit's answer.
    Mock {
        /// Parameters of the stub's path template.
        params: &'s [String],
        /// Whether this is a rate limit's answer.
        limit: bool,
    },
}

/// Top-level variables of mock templates, for did-you-mean.
const MOCK_VARS: &[&str] = &[
    "request",
    "now",
    "uuid",
    "store",
    "state",
    "retry_after",
    "self",
    "mocks",
];

/// Fields of `request` in mock templates.
const REQUEST_VARS: &[&str] = &["method", "path", "query", "headers", "json", "body"];

/// What a mock's template variables are.
const MOCK_VARIABLES: &str = "a mock's variables are `mocks.NAME.url`, and for a bank with `sftp:` `mocks.NAME.sftp_url`, `sftp_host` and `sftp_port`";

/// Check a variable of a mock template (response, store write, rate limit answer).
fn check_mock_var(
    path: &[String],
    name: &str,
    params: &[String],
    limit: bool,
) -> Option<Diagnostic> {
    let unknown = |label: String| {
        Diagnostic::new(format!("unknown variable `{name}`"), None).with_label(label)
    };
    let parts: Vec<&str> = path.iter().map(String::as_str).collect();
    match parts.as_slice() {
        ["now"] | ["uuid"] | ["self", "url"] => None,
        ["retry_after"] if limit => None,
        ["retry_after"] => Some(unknown(
            "`retry_after` is only known in a rate limit's `response`".to_owned(),
        )),
        ["self", ..] => Some(unknown("`self` has `url`: `self.url`".to_owned())),
        ["store", _, ..] | ["state", _] => None,
        ["request", "method" | "path" | "body"] => None,
        ["request", "query" | "headers", _] => None,
        ["request", "json", ..] => None,
        ["request", "path", param] => {
            if params.iter().any(|p| p == param) {
                return None;
            }
            let known: Vec<&str> = params.iter().map(String::as_str).collect();
            let mut diagnostic = unknown(if params.is_empty() {
                "the request path has no `{name}` parameters here".to_owned()
            } else {
                format!("the path template has no parameter `{param}`")
            });
            if let Some(suggestion) = did_you_mean(param, &known) {
                diagnostic =
                    diagnostic.with_help(format!("did you mean `request.path.{suggestion}`?"));
            }
            Some(diagnostic)
        }
        ["request", field, ..] => {
            let mut diagnostic = unknown(format!("`request` has {}", list_keys(REQUEST_VARS)));
            if let Some(suggestion) = did_you_mean(field, REQUEST_VARS) {
                diagnostic = diagnostic.with_help(format!("did you mean `request.{suggestion}`?"));
            }
            Some(diagnostic)
        }
        [first, ..] => {
            let mut diagnostic = unknown("not a variable of a mock response".to_owned());
            diagnostic = match did_you_mean(first, MOCK_VARS) {
                Some(suggestion) => diagnostic.with_help(format!("did you mean `{suggestion}`?")),
                None => diagnostic.with_help(
                    "a mock response knows `request.*`, `now`, `uuid`, `random(\"KIND\", LENGTH)`, `self.url`, `mocks.NAME.url`, `store.KEY` and `state.MACHINE`",
                ),
            };
            Some(diagnostic)
        }
        [] => Some(unknown("empty variable".to_owned())),
    }
}

impl Cx<'_> {
    /// The required scalar `key` of `fields` as a template.
    pub(super) fn required_template(
        &mut self,
        fields: &Fields<'_>,
        key: &str,
        context: &str,
        scope: Scope<'_>,
    ) -> Option<Template> {
        match fields.get(key) {
            Some(value) => self
                .scalar_text(value, key, context)
                .and_then(|text| self.template(value, &text, scope)),
            None => {
                self.missing(fields, key, context);
                None
            }
        }
    }

    /// The byte offset in the file where a scalar's text starts, when the text appears there
    /// verbatim (plain, or quoted on one line without escapes).
    fn verbatim_start(&self, node: &Node) -> Option<usize> {
        let NodeKind::Scalar { text, .. } = &node.kind else {
            return None;
        };
        let (text_of_file, _, base) = self.file_at(node.span.start);
        let raw = text_of_file.get(node.span.start - base..node.span.end - base)?;
        if raw == text {
            return Some(node.span.start);
        }
        let quote = raw.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let inner = raw.strip_prefix(quote)?.strip_suffix(quote)?;
        (inner == text && !inner.contains('\n')).then_some(node.span.start + 1)
    }

    /// A span inside a scalar's text (`offset..offset + len` in its text), or the whole scalar.
    pub(super) fn inner_span(&self, node: &Node, offset: usize, len: usize) -> Span {
        let Some(start) = self.verbatim_start(node) else {
            return node.span;
        };
        let text = node.text().unwrap_or_default();
        let Some(before) = text.get(..offset) else {
            return node.span;
        };
        let quote = usize::from(start != node.span.start);
        Span {
            start: start + offset,
            end: (start + offset + len).min(node.span.end),
            line: node.span.line,
            col: node.span.col + quote + before.chars().count(),
        }
    }

    /// Parse a template and check the variables it names against `scope`.
    pub(super) fn template(
        &mut self,
        node: &Node,
        text: &str,
        scope: Scope<'_>,
    ) -> Option<Template> {
        let template = match Template::parse(text) {
            Ok(template) => template,
            Err(err) => {
                let span = self.inner_span(node, err.offset, 2);
                let mut diagnostic =
                    Diagnostic::new(format!("invalid template `{}`", clip(text)), Some(span))
                        .with_label(err.message);
                if let Some(help) = err.help {
                    diagnostic = diagnostic.with_help(help);
                }
                self.error(diagnostic);
                return None;
            }
        };
        let mut ok = true;
        for var in template.vars() {
            let name = var.name();
            let span = self.inner_span(node, var.offset, name.len());
            let checked = self.check_placeholder(var, scope);
            if let Some(diagnostic) = checked {
                let mut diagnostic = diagnostic;
                diagnostic.span = Some(span);
                self.error(diagnostic);
                ok = false;
            }
        }
        ok.then_some(template)
    }

    /// What is wrong with a placeholder's head in `scope`, if anything: a variable it does not
    /// know, or `random(…)` outside a mock response. A quoted text names nothing.
    fn check_placeholder(&self, var: &Var, scope: Scope<'_>) -> Option<Diagnostic> {
        if var.text.is_some() {
            None
        } else if var.random.is_some() {
            // A function, not a variable: only a mock's request seeds it.
            (!matches!(scope, Scope::Mock { .. })).then(|| {
                Diagnostic::new("`random(…)` outside a mock response", None)
                    .with_label("random values are only made in a mock's responses")
                    .with_help("capture a value the mock answered, or write it out")
            })
        } else {
            self.check_var(&var.path, &var.name(), scope)
        }
    }

    fn check_var(&self, path: &[String], name: &str, scope: Scope<'_>) -> Option<Diagnostic> {
        let unknown = |label: String| {
            Diagnostic::new(format!("unknown variable `{name}`"), None).with_label(label)
        };
        let parts: Vec<&str> = path.iter().map(String::as_str).collect();
        if matches!(parts.as_slice(), ["index" | "number"]) {
            if self.repeat_depth > 0 {
                return None;
            }
            if !matches!(scope, Scope::Flow { captures } if captures.iter().any(|c| c == name)) {
                return Some(
                    unknown("only known inside the `item` of a `$repeat`".to_owned()).with_help(
                        "generate items with `{ $repeat: 3, item: { id: \"B-{{ number }}\" } }`",
                    ),
                );
            }
        }
        if let Scope::Mock { params, limit } = scope {
            match parts.as_slice() {
                // Checked as everywhere else, below.
                ["mocks", _, "url"] => {}
                ["mocks", ..] => {
                    return Some(
                        unknown("a mock response knows `mocks.NAME.url`".to_owned())
                            .with_help("write `{{ mocks.NAME.url }}`"),
                    );
                }
                _ => return check_mock_var(path, name, params, limit),
            }
        }
        match (parts.as_slice(), scope) {
            (["mocks", mock, "url"], _) => {
                if self.mocks.iter().any(|known| known == mock) {
                    return None;
                }
                let known: Vec<&str> = self.mocks.iter().map(String::as_str).collect();
                let mut diagnostic = unknown(format!("no mock named `{mock}`"));
                if let Some(suggestion) = did_you_mean(mock, &known) {
                    diagnostic =
                        diagnostic.with_help(format!("did you mean `mocks.{suggestion}.url`?"));
                }
                Some(diagnostic)
            }
            (["mocks", _, "sftp_url" | "sftp_host" | "sftp_port"], Scope::Flow { .. }) => Some(
                unknown("the SFTP variables are only known in `target`".to_string())
                    .with_help("the flow speaks HTTP; the target is the SFTP client"),
            ),
            (["mocks", mock, "sftp_url" | "sftp_host" | "sftp_port"], _) => {
                if self.sftp_mocks.iter().any(|known| known == mock) {
                    return None;
                }
                let label = if self.mocks.iter().any(|known| known == mock) {
                    format!("mock `{mock}` runs no SFTP server")
                } else {
                    format!("no mock named `{mock}`")
                };
                Some(unknown(label).with_help(
                    "the SFTP variables are known for a `provider: bank` mock with `sftp:` in its `with`",
                ))
            }
            (["mocks", mock, field], _) => {
                let fields = ["url", "sftp_url", "sftp_host", "sftp_port"];
                let help = match did_you_mean(field, &fields) {
                    Some(suggestion) => format!("did you mean `mocks.{mock}.{suggestion}`?"),
                    None => "write `{{ mocks.NAME.url }}`".to_owned(),
                };
                Some(unknown(MOCK_VARIABLES.to_string()).with_help(help))
            }
            (["mocks", ..], _) => {
                Some(unknown(MOCK_VARIABLES.to_string()).with_help("write `{{ mocks.NAME.url }}`"))
            }
            (["tls", "ca_file"], Scope::Target) if !self.tls_mocks.is_empty() => None,
            (["tls", "ca_file"], Scope::Target) => Some(
                unknown("no mock has `tls: true`".to_string())
                    .with_help("add `tls: true` to the mock the target reaches over HTTPS"),
            ),
            (["tls", "ca_file"], Scope::Flow { .. }) => Some(unknown(
                "`tls.ca_file` is only known in `target`".to_string(),
            )),
            (["tls", ..], _) => Some(
                unknown("the TLS variable is `tls.ca_file`".to_string())
                    .with_help("did you mean `tls.ca_file`?"),
            ),
            (["env", _], _) => None,
            (["env", ..], _) => Some(unknown("an environment variable is `env.NAME`".to_string())),
            (["target", "port"], Scope::Target) | (["target", "url"], Scope::Flow { .. }) => None,
            (["target", "port"], Scope::Flow { .. }) => Some(
                unknown("`target.port` is only known in `target`".to_string())
                    .with_help("in the flow, use `target.url`"),
            ),
            (["target", "url"], Scope::Target) => Some(
                unknown("`target.url` is only known in the flow".to_string())
                    .with_help("in `target`, use `target.port`"),
            ),
            (["target", ..], Scope::Target) => Some(
                unknown("`target` has `port` here".to_string())
                    .with_help("did you mean `target.port`?"),
            ),
            (["target", ..], Scope::Flow { .. }) => Some(
                unknown("`target` has `url` here".to_string())
                    .with_help("did you mean `target.url`?"),
            ),
            ([capture], Scope::Flow { captures }) => {
                if captures.iter().any(|known| known == capture) {
                    return None;
                }
                let known: Vec<&str> = captures.iter().map(String::as_str).collect();
                let mut diagnostic = unknown("not a capture of an earlier step".to_string());
                if let Some(suggestion) = did_you_mean(capture, &known) {
                    diagnostic = diagnostic.with_help(format!("did you mean `{suggestion}`?"));
                } else {
                    diagnostic = diagnostic
                        .with_help("captures are known after the step that captures them");
                }
                Some(diagnostic)
            }
            (_, Scope::Target) => {
                Some(unknown("not a variable of `target`".to_string()).with_help(
                    "`target` knows `mocks.NAME.url`, `target.port`, `tls.ca_file` and `env.NAME`",
                ))
            }
            (_, Scope::Flow { .. }) => Some(unknown("not a known variable".to_string()).with_help(
                "the flow knows `mocks.NAME.url`, `target.url`, `env.NAME` and captures",
            )),
            (_, Scope::Mock { .. }) => None,
        }
    }

    /// Check a JSON payload written in YAML (a request's, webhook's or response's `json:`): the
    /// templates of its string leaves and its `$repeat` nodes.
    pub(super) fn json_templates(&mut self, node: &Node, scope: Scope<'_>) -> bool {
        self.payload_node(node, scope, &mut RepeatWalk::default())
    }

    fn payload_node(&mut self, node: &Node, scope: Scope<'_>, walk: &mut RepeatWalk) -> bool {
        match &node.kind {
            NodeKind::Scalar { text, .. } => {
                if matches!(node.scalar(), Some(Scalar::Str(_)))
                    && (text.contains("{{") || text.contains("}}"))
                {
                    let text = text.clone();
                    return self.template(node, &text, scope).is_some();
                }
                true
            }
            NodeKind::Sequence(items) => {
                // Check every leaf, not only up to the first bad one.
                let mut ok = true;
                for item in items {
                    ok &= self.payload_node(item, scope, walk);
                }
                ok
            }
            NodeKind::Mapping(entries) => {
                if let Some((key, count)) = entries
                    .iter()
                    .find(|(key, _)| key.as_str() == Some(REPEAT_KEY))
                {
                    return self.repeat_node(node, (key, count), entries, scope, walk);
                }
                let mut ok = true;
                for (_, value) in entries {
                    ok &= self.payload_node(value, scope, walk);
                }
                ok
            }
        }
    }

    /// Check a `$repeat` node written in YAML (`key: count` is its `$repeat` entry): its keys,
    /// its count, its nesting and the items of the payload so far, then its item.
    fn repeat_node(
        &mut self,
        node: &Node,
        (key, count): (&Node, &Node),
        entries: &[(Node, Node)],
        scope: Scope<'_>,
        walk: &mut RepeatWalk,
    ) -> bool {
        let mut ok = true;
        for (other, _) in entries {
            let name = other.as_str().unwrap_or_default();
            if name != REPEAT_KEY && name != ITEM_KEY {
                self.error(unknown_beside_repeat(name, "", other.span));
                ok = false;
            }
        }
        let value = match count.scalar() {
            Some(Scalar::Int(n)) => u64::try_from(n).map_or(CountCheck::Invalid, CountCheck::Fixed),
            Some(Scalar::UInt(n)) => CountCheck::Fixed(n),
            Some(Scalar::Str(text)) if text.contains("{{") => {
                let text = text.to_owned();
                if self.template(count, &text, scope).is_none() {
                    ok = false;
                }
                CountCheck::Templated
            }
            _ => CountCheck::Invalid,
        };
        let problem = walk.enter(value);
        if let Some(problem) = &problem {
            let span = if matches!(problem, RepeatProblem::TooDeep) {
                key.span
            } else {
                count.span
            };
            self.error(problem.diagnostic(span, ""));
            ok = false;
        }
        match entries.iter().find(|(k, _)| k.as_str() == Some(ITEM_KEY)) {
            Some((_, item)) if problem.is_none() => {
                self.repeat_depth += 1;
                ok &= self.payload_node(item, scope, walk);
                self.repeat_depth -= 1;
            }
            Some(_) => {}
            None => {
                self.error(missing_item("", node.span));
                ok = false;
            }
        }
        walk.leave();
        ok
    }

    /// Check a JSON payload read from `node`'s file: the templates of its string leaves and its
    /// `$repeat` nodes; problems point at `node`.
    pub(super) fn file_json_templates(
        &mut self,
        node: &Node,
        value: &Value,
        scope: Scope<'_>,
    ) -> bool {
        self.file_payload(node, value, scope, &mut RepeatWalk::default())
    }

    fn file_payload(
        &mut self,
        node: &Node,
        value: &Value,
        scope: Scope<'_>,
        walk: &mut RepeatWalk,
    ) -> bool {
        match value {
            Value::Object(map) if map.contains_key(REPEAT_KEY) => {
                self.file_repeat_node(node, map, scope, walk)
            }

            Value::String(text) if text.contains("{{") || text.contains("}}") => {
                let name = node.text().unwrap_or_default().to_string();
                match Template::parse(text) {
                    Ok(template) => {
                        let mut ok = true;
                        for var in template.vars() {
                            if let Some(mut diagnostic) = self.check_placeholder(var, scope) {
                                diagnostic.message = format!("{} in `{name}`", diagnostic.message);
                                diagnostic.span = Some(node.span);
                                self.error(diagnostic);
                                ok = false;
                            }
                        }
                        ok
                    }
                    Err(err) => {
                        self.error(
                            Diagnostic::new(
                                format!("invalid template `{}` in `{name}`", clip(text)),
                                Some(node.span),
                            )
                            .with_label(err.message),
                        );
                        false
                    }
                }
            }
            Value::Array(items) => {
                let mut ok = true;
                for item in items {
                    ok &= self.file_payload(node, item, scope, walk);
                }
                ok
            }
            Value::Object(map) => {
                let mut ok = true;
                for item in map.values() {
                    ok &= self.file_payload(node, item, scope, walk);
                }
                ok
            }
            _ => true,
        }
    }

    /// [`Cx::repeat_node`] for a payload read from `node`'s file: problems point at `node`.
    fn file_repeat_node(
        &mut self,
        node: &Node,
        map: &serde_json::Map<String, Value>,
        scope: Scope<'_>,
        walk: &mut RepeatWalk,
    ) -> bool {
        let file = format!(" in `{}`", node.text().unwrap_or_default());
        let mut ok = true;
        for name in map.keys() {
            if name != REPEAT_KEY && name != ITEM_KEY {
                self.error(unknown_beside_repeat(name, &file, node.span));
                ok = false;
            }
        }
        let value = match &map[REPEAT_KEY] {
            Value::Number(n) => n.as_u64().map_or(CountCheck::Invalid, CountCheck::Fixed),
            text @ Value::String(t) if t.contains("{{") => {
                ok &= self.file_payload(node, text, scope, walk);
                CountCheck::Templated
            }
            _ => CountCheck::Invalid,
        };
        let problem = walk.enter(value);
        if let Some(problem) = &problem {
            self.error(problem.diagnostic(node.span, &file));
            ok = false;
        }
        match map.get(ITEM_KEY) {
            Some(item) if problem.is_none() => {
                self.repeat_depth += 1;
                ok &= self.file_payload(node, item, scope, walk);
                self.repeat_depth -= 1;
            }
            Some(_) => {}
            None => {
                self.error(missing_item(&file, node.span));
                ok = false;
            }
        }
        walk.leave();
        ok
    }

    /// A template read from a file: problems point at the scalar naming the file.
    pub(super) fn file_template(
        &mut self,
        node: &Node,
        text: &str,
        scope: Scope<'_>,
    ) -> Option<Template> {
        let value = Value::String(text.to_string());
        if !self.file_json_templates(node, &value, scope) {
            return None;
        }
        Template::parse(text).ok()
    }

    /// A mapping name → template.
    pub(super) fn template_map(
        &mut self,
        node: &Node,
        key: &str,
        context: &str,
        scope: Scope<'_>,
    ) -> Option<Vec<(String, Template)>> {
        self.map_entries(node, key, context, |cx, _, value| {
            cx.scalar_text(value, key, context)
                .and_then(|text| cx.template(value, &text, scope))
        })
    }
}

/// A key beside `$repeat` other than `item` (`place`: where, e.g. `` in `bills.json` ``).
fn unknown_beside_repeat(name: &str, place: &str, span: Span) -> Diagnostic {
    let mut diagnostic = Diagnostic::new(
        format!("unknown field `{name}` beside `$repeat`{place}"),
        Some(span),
    )
    .with_label("a `$repeat` node has `$repeat` (the count) and `item` only");
    if let Some(suggestion) = did_you_mean(name, &[ITEM_KEY]) {
        diagnostic = diagnostic.with_help(format!("did you mean `{suggestion}`?"));
    }
    diagnostic
}

/// A `$repeat` without `item`.
fn missing_item(place: &str, span: Span) -> Diagnostic {
    Diagnostic::new(
        format!("missing field `item` beside `$repeat`{place}"),
        Some(span),
    )
    .with_label("the value to repeat")
    .with_help("write `{ $repeat: 3, item: { id: \"B-{{ number }}\" } }`")
}

/// Where the check of a payload's `$repeat` nodes is: for each node entered, how many items
/// each of its items stands for (nested counts multiply); and how many items the payload makes
/// so far.
#[derive(Default)]
struct RepeatWalk {
    multipliers: Vec<u64>,
    items: u64,
    /// Whether the payload was found to make too many items (said once).
    over: bool,
}

/// What is wrong with a `$repeat` node's count or place.
enum RepeatProblem {
    /// Not a whole number from 0 to [`MAX_REPEAT_ITEMS`].
    Count,
    /// Nested deeper than [`MAX_REPEAT_DEPTH`].
    TooDeep,
    /// The payload makes more than [`MAX_REPEAT_ITEMS`] items: this many with this node.
    TooMany(u64),
}

impl RepeatProblem {
    /// The error at `span` (`place`: where, e.g. `` in `bills.json` ``).
    fn diagnostic(&self, span: Span, place: &str) -> Diagnostic {
        match self {
            RepeatProblem::Count => {
                Diagnostic::new(format!("invalid `$repeat` count{place}"), Some(span)).with_label(
                    format!("expected a whole number of items from 0 to {MAX_REPEAT_ITEMS}, or a template that renders to one"),
                )
            }
            RepeatProblem::TooDeep => Diagnostic::new(
                format!("`$repeat` nested deeper than {MAX_REPEAT_DEPTH} levels{place}"),
                Some(span),
            )
            .with_label("a `$repeat` inside the item of a `$repeat` is one level deeper"),
            RepeatProblem::TooMany(items) => Diagnostic::new(
                format!(
                    "the `$repeat` nodes of this payload make more than {MAX_REPEAT_ITEMS} items{place}"
                ),
                Some(span),
            )
            .with_label(format!("{items} items with this one (nested counts multiply)")),
        }
    }
}

/// A `$repeat` count as the loader sees it.
#[derive(Clone, Copy)]
enum CountCheck {
    /// A whole number (maybe over the limit).
    Fixed(u64),
    /// A template: known when the payload renders (and bounded then).
    Templated,
    /// Anything else.
    Invalid,
}

impl RepeatWalk {
    /// Enter a `$repeat` node whose count is `count`; leave it with [`RepeatWalk::leave`]
    /// whatever this says. A templated count counts as 1 here: rendering bounds it.
    fn enter(&mut self, count: CountCheck) -> Option<RepeatProblem> {
        let outer = self.multipliers.last().copied().unwrap_or(1);
        let depth = self.multipliers.len() + 1;
        let count = match count {
            CountCheck::Fixed(n) => Some(n).filter(|n| *n <= MAX_REPEAT_ITEMS),
            CountCheck::Templated => Some(1),
            CountCheck::Invalid => None,
        };
        let problem = match count {
            None => Some(RepeatProblem::Count),
            Some(_) if depth > MAX_REPEAT_DEPTH => Some(RepeatProblem::TooDeep),
            Some(count) => {
                self.items = self.items.saturating_add(outer.saturating_mul(count));
                let over = self.items > MAX_REPEAT_ITEMS && !self.over;
                self.over |= over;
                over.then_some(RepeatProblem::TooMany(self.items))
            }
        };
        let count = count.filter(|_| problem.is_none()).unwrap_or(1);
        self.multipliers.push(outer.saturating_mul(count));
        problem
    }

    /// Leave the node last entered.
    fn leave(&mut self) {
        self.multipliers.pop();
    }
}
