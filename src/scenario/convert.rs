//! Conversion of the spanned YAML tree into the validated [`Scenario`], collecting every error.
//!
//! The conversion is hand-written over [`Node`]s (no serde on user input) so that every problem
//! gets a precise location and wording, and so that it can keep going: a bad part is skipped and
//! reported, the rest is still validated. The main type is the private `Cx`, which holds the file
//! being converted and the [`Diagnostic`]s found so far; the scenario is only built when there
//! are none.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::scenario::diagnostic::Diagnostic;
use crate::scenario::model::*;
use crate::scenario::suggest::did_you_mean;
use crate::scenario::template::Template;
use crate::scenario::yaml::{self, Node, NodeKind, Scalar};
use crate::scenario::{LoadError, duration, paths};

mod expectations;
mod faults;
mod flow;
mod intacct;
mod matchers;
mod mocks;
mod quickbooks;
mod rate_limits;
mod sage;
mod snapshot;
mod stubs;
mod target;
mod webhooks;
mod xero;

pub(crate) fn convert(path: &Path, root: &Path, bytes: &[u8]) -> Result<Scenario, LoadError> {
    let source_text = String::from_utf8_lossy(bytes).into_owned();
    let invalid = |diagnostics: Vec<Diagnostic>, source_text: String| LoadError::Invalid {
        path: path.to_path_buf(),
        source_text,
        diagnostics,
    };
    let node = match yaml::parse(bytes) {
        Ok(node) => node,
        Err(diagnostics) => return Err(invalid(diagnostics, source_text)),
    };
    let mut cx = Cx {
        path,
        root,
        text: &source_text,
        errors: Vec::new(),
        mocks: Vec::new(),
        tls_mocks: Vec::new(),
        provider_mocks: Vec::new(),
        xero_mocks: Vec::new(),
        quickbooks_mocks: Vec::new(),
        hostnames: Vec::new(),
    };
    let scenario = cx.scenario(&node);
    let mut errors = cx.errors;
    match scenario {
        Some(scenario) if errors.is_empty() => Ok(scenario),
        _ => {
            if errors.is_empty() {
                errors.push(Diagnostic::new("invalid scenario", Some(node.span)));
            }
            // File order; file-level problems first. The sort is stable, so problems at the same
            // place keep the order they were found in.
            errors.sort_by_key(|d| d.span.map(|s| (s.start, s.line)));
            Err(invalid(errors, source_text))
        }
    }
}

/// Top-level keys.
const TOP_KEYS: &[&str] = &[
    "id",
    "title",
    "ticket",
    "customers",
    "severity",
    "tags",
    "root_cause",
    "clock",
    "mocks",
    "target",
    "flow",
    "expect",
    "snapshot",
];
/// Where a template is used, which decides the variables it may name.
#[derive(Clone, Copy)]
enum Scope<'s> {
    /// In `target`: `mocks.NAME.url`, `target.port`, `env.NAME`.
    Target,
    /// In the flow: `mocks.NAME.url`, `target.url`, `env.NAME` and the captures so far.
    Flow { captures: &'s [String] },
    /// In a mock's responses and store writes: `request.*`, `now`, `uuid`, `store.*`,
    /// `state.*`, and `retry_after` in a rate limit's answer.
    Mock {
        /// Parameters of the stub's path template.
        params: &'s [String],
        /// Whether this is a rate limit's answer.
        limit: bool,
    },
}

/// The mapping entries of a node, checked against the keys allowed there.
struct Fields<'n> {
    node: &'n Node,
    entries: Vec<(&'n str, &'n Node, &'n Node)>,
    /// Keys that are not allowed here (already reported).
    unknown: Vec<&'n str>,
}

impl<'n> Fields<'n> {
    fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(name, _, _)| *name == key)
            .map(|(_, _, value)| *value)
    }

    fn key(&self, key: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(name, _, _)| *name == key)
            .map(|(_, key, _)| *key)
    }

    fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Whether an unknown key here is probably a typo of `key`: then "missing `key`" would only
    /// repeat the did-you-mean of the unknown key.
    fn has_typo_of(&self, key: &str) -> bool {
        self.unknown
            .iter()
            .any(|unknown| did_you_mean(unknown, &[key]).is_some())
    }
}

struct Cx<'a> {
    path: &'a Path,
    root: &'a Path,
    text: &'a str,
    errors: Vec<Diagnostic>,
    /// Names of the mocks declared, for references and templates.
    mocks: Vec<String>,
    /// Names of the mocks with `tls: true` (`{{ tls.ca_file }}` needs one).
    tls_mocks: Vec<String>,
    /// Every `hostnames` entry seen so far, with the mock that declares it.
    hostnames: Vec<(String, String)>,
    /// Mocks with a valid provider, with the collections of its state.
    provider_mocks: Vec<(String, &'static [&'static str])>,
    /// Mocks with `provider: xero`, and whether they have a `webhook_key`.
    xero_mocks: Vec<(String, bool)>,
    /// Mocks with `provider: quickbooks`, and whether they have a `verifier_token`.
    quickbooks_mocks: Vec<(String, bool)>,
}

fn list_keys(keys: &[&str]) -> String {
    keys.iter()
        .map(|key| format!("`{key}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn is_id(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
}

fn is_method(text: &str) -> bool {
    !text.is_empty() && text.chars().all(|c| c.is_ascii_alphabetic())
}

impl Cx<'_> {
    // -----------------------------------------------------------------------------------------
    // Building blocks
    // -----------------------------------------------------------------------------------------

    fn error(&mut self, diagnostic: Diagnostic) {
        self.errors.push(diagnostic);
    }

    fn type_error(&mut self, node: &Node, expected: &str, key: &str, context: &str) {
        let mut diagnostic = Diagnostic::new(
            format!(
                "expected {expected} for `{key}` {context}, found {}",
                node.describe()
            ),
            Some(node.span),
        );
        if expected == "a string"
            && matches!(node.kind, NodeKind::Scalar { .. })
            && let Some(text) = node.text().filter(|text| !text.is_empty())
        {
            diagnostic = diagnostic.with_help(format!("quote it: `\"{text}\"`"));
        }
        self.error(diagnostic);
    }

    /// The entries of a mapping, reporting keys outside `allowed`.
    fn fields<'n>(
        &mut self,
        node: &'n Node,
        allowed: &[&str],
        key: &str,
        context: &str,
    ) -> Option<Fields<'n>> {
        let NodeKind::Mapping(entries) = &node.kind else {
            self.type_error(node, "a mapping", key, context);
            return None;
        };
        let mut fields = Fields {
            node,
            entries: Vec::new(),
            unknown: Vec::new(),
        };
        for (key_node, value) in entries {
            let Some(name) = key_node.text() else {
                self.error(Diagnostic::new(
                    format!(
                        "expected a string key {context}, found {}",
                        key_node.describe()
                    ),
                    Some(key_node.span),
                ));
                continue;
            };
            if allowed.contains(&name) {
                fields.entries.push((name, key_node, value));
                continue;
            }
            fields.unknown.push(name);
            let mut diagnostic = Diagnostic::new(
                format!("unknown field `{name}` {context}"),
                Some(key_node.span),
            )
            .with_label(format!("expected one of {}", list_keys(allowed)));
            if let Some(suggestion) = did_you_mean(name, allowed) {
                diagnostic = diagnostic.with_help(format!("did you mean `{suggestion}`?"));
            }
            self.error(diagnostic);
        }
        Some(fields)
    }

    /// The required scalar `key` of `fields` as a template.
    fn required_template(
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

    /// Required field `key` converted by `convert`, or (when absent) an error that it is missing.
    fn required<'n, T>(
        &mut self,
        fields: &Fields<'n>,
        key: &str,
        context: &str,
        convert: impl FnOnce(&mut Self, &'n Node) -> Option<T>,
    ) -> Option<T> {
        match fields.get(key) {
            Some(value) => convert(self, value),
            None => {
                self.missing(fields, key, context);
                None
            }
        }
    }

    fn missing(&mut self, fields: &Fields<'_>, key: &str, context: &str) {
        if fields.has_typo_of(key) {
            return;
        }
        self.error(
            Diagnostic::new(
                format!("missing field `{key}` {context}"),
                Some(fields.node.span),
            )
            .with_label(format!("`{key}` is required")),
        );
    }

    /// Report every pair of exclusive keys that are both present; true when at most one is.
    fn at_most_one(&mut self, fields: &Fields<'_>, keys: &[&str], context: &str) -> bool {
        let present: Vec<&str> = keys.iter().copied().filter(|key| fields.has(key)).collect();
        if present.len() <= 1 {
            return true;
        }
        let second = fields.key(present[1]).map(|node| node.span);
        self.error(
            Diagnostic::new(
                format!(
                    "`{}` and `{}` cannot both be given {context}",
                    present[0], present[1]
                ),
                second,
            )
            .with_label(format!("give only one of {}", list_keys(keys))),
        );
        false
    }

    fn string(&mut self, node: &Node, key: &str, context: &str) -> Option<String> {
        match node.as_str() {
            Some(text) => Some(text.to_string()),
            None => {
                self.type_error(node, "a string", key, context);
                None
            }
        }
    }

    /// The text of any non-null scalar: `PORT: 8080` means the string `8080`.
    fn scalar_text(&mut self, node: &Node, key: &str, context: &str) -> Option<String> {
        match node.scalar() {
            Some(Scalar::Null) | None => {
                self.type_error(node, "a string", key, context);
                None
            }
            Some(_) => node.text().map(str::to_string),
        }
    }

    fn string_list(&mut self, node: &Node, key: &str, context: &str) -> Option<Vec<String>> {
        let items = self.list(node, key, context)?;
        let strings: Vec<Option<String>> = items
            .iter()
            .map(|item| self.string(item, key, context))
            .collect();
        strings.into_iter().collect()
    }

    fn list<'n>(&mut self, node: &'n Node, key: &str, context: &str) -> Option<&'n [Node]> {
        match &node.kind {
            NodeKind::Sequence(items) => Some(items),
            _ => {
                self.type_error(node, "a list", key, context);
                None
            }
        }
    }

    fn integer(
        &mut self,
        node: &Node,
        key: &str,
        context: &str,
        range: std::ops::RangeInclusive<u64>,
    ) -> Option<u64> {
        let value = match node.scalar() {
            Some(Scalar::Int(n)) => u64::try_from(n).ok(),
            Some(Scalar::UInt(n)) => Some(n),
            _ => {
                self.type_error(node, "an integer", key, context);
                return None;
            }
        };
        match value.filter(|n| range.contains(n)) {
            Some(n) => Some(n),
            None => {
                let allowed = if *range.end() == u64::MAX {
                    format!("at least {}", range.start())
                } else {
                    format!("between {} and {}", range.start(), range.end())
                };
                self.error(
                    Diagnostic::new(
                        format!(
                            "`{key}` {context} must be {allowed}, found `{}`",
                            node.text().unwrap_or_default()
                        ),
                        Some(node.span),
                    )
                    .with_label("out of range"),
                );
                None
            }
        }
    }

    fn boolean(&mut self, node: &Node, key: &str, context: &str) -> Option<bool> {
        match node.scalar() {
            Some(Scalar::Bool(b)) => Some(b),
            _ => {
                self.type_error(node, "`true` or `false`", key, context);
                None
            }
        }
    }

    fn duration(&mut self, node: &Node, key: &str, context: &str) -> Option<Duration> {
        let text = self.string(node, key, context)?;
        match duration::parse(&text) {
            Ok(duration) => Some(duration),
            Err(err) => {
                self.error(
                    Diagnostic::new(
                        format!("invalid duration for `{key}` {context}"),
                        Some(node.span),
                    )
                    .with_label(err.to_string()),
                );
                None
            }
        }
    }

    fn json(&mut self, node: &Node) -> Option<Value> {
        match yaml::to_json(node) {
            Ok(value) => Some(value),
            Err(diagnostic) => {
                self.error(diagnostic);
                None
            }
        }
    }

    fn regex(&mut self, node: &Node, text: &str, anchored: bool) -> Option<Pattern> {
        let source = if anchored {
            format!("^(?:{text})$")
        } else {
            text.to_string()
        };
        match regex::Regex::new(&source) {
            Ok(regex) => Some(Pattern(regex)),
            Err(err) => {
                let detail = err.to_string();
                let last = detail.lines().last().unwrap_or_default().trim();
                let last = last.strip_prefix("error: ").unwrap_or(last);
                self.error(
                    Diagnostic::new(format!("invalid regex `{text}`"), Some(node.span))
                        .with_label(last.to_string()),
                );
                None
            }
        }
    }

    fn jsonpath(&mut self, node: &Node, text: &str) -> Option<String> {
        match serde_json_path::JsonPath::parse(text) {
            Ok(_) => Some(text.to_string()),
            Err(err) => {
                let mut diagnostic =
                    Diagnostic::new(format!("invalid JSONPath `{text}`"), Some(node.span))
                        .with_label(format!("at position {}: {}", err.position(), err.message()));
                if !text.starts_with('$') {
                    diagnostic = diagnostic.with_help("a JSONPath starts with `$`, e.g. `$.id`");
                }
                self.error(diagnostic);
                None
            }
        }
    }

    fn xpath(&mut self, node: &Node, text: &str) -> Option<String> {
        match sxd_xpath::Factory::new().build(text) {
            Ok(Some(_)) => Some(text.to_string()),
            Ok(None) => {
                self.error(Diagnostic::new("empty XPath", Some(node.span)));
                None
            }
            Err(err) => {
                self.error(
                    Diagnostic::new(format!("invalid XPath `{text}`"), Some(node.span))
                        .with_label(words(&format!("{err:?}"))),
                );
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
        let raw = self.text.get(node.span.start..node.span.end)?;
        if raw == text {
            return Some(node.span.start);
        }
        let quote = raw.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let inner = raw.strip_prefix(quote)?.strip_suffix(quote)?;
        (inner == text && !inner.contains('\n')).then_some(node.span.start + 1)
    }

    /// A span inside a scalar's text (`offset..offset + len` in its text), or the whole scalar.
    fn inner_span(&self, node: &Node, offset: usize, len: usize) -> Span {
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
    fn template(&mut self, node: &Node, text: &str, scope: Scope<'_>) -> Option<Template> {
        let template = match Template::parse(text) {
            Ok(template) => template,
            Err(err) => {
                let span = self.inner_span(node, err.offset, 2);
                let mut diagnostic =
                    Diagnostic::new(format!("invalid template `{text}`"), Some(span))
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
            if let Some(diagnostic) = self.check_var(&var.path, &name, scope) {
                let mut diagnostic = diagnostic;
                diagnostic.span = Some(span);
                self.error(diagnostic);
                ok = false;
            }
        }
        ok.then_some(template)
    }

    fn check_var(&self, path: &[String], name: &str, scope: Scope<'_>) -> Option<Diagnostic> {
        let unknown = |label: String| {
            Diagnostic::new(format!("unknown variable `{name}`"), None).with_label(label)
        };
        if let Scope::Mock { params, limit } = scope {
            return check_mock_var(path, name, params, limit);
        }
        let parts: Vec<&str> = path.iter().map(String::as_str).collect();
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
            (["mocks", ..], _) => Some(
                unknown("a mock's variable is `mocks.NAME.url`".to_string())
                    .with_help("write `{{ mocks.NAME.url }}`"),
            ),
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

    /// Check the templates in every string leaf of a YAML value (a request `json:` body).
    fn json_templates(&mut self, node: &Node, scope: Scope<'_>) -> bool {
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
                    ok &= self.json_templates(item, scope);
                }
                ok
            }
            NodeKind::Mapping(entries) => {
                let mut ok = true;
                for (_, value) in entries {
                    ok &= self.json_templates(value, scope);
                }
                ok
            }
        }
    }

    /// Check the templates in every string leaf of a JSON value read from `node`'s file.
    fn file_json_templates(&mut self, node: &Node, value: &Value, scope: Scope<'_>) -> bool {
        match value {
            Value::String(text) if text.contains("{{") || text.contains("}}") => {
                let name = node.text().unwrap_or_default().to_string();
                match Template::parse(text) {
                    Ok(template) => {
                        let mut ok = true;
                        for var in template.vars() {
                            if let Some(mut diagnostic) =
                                self.check_var(&var.path, &var.name(), scope)
                            {
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
                                format!("invalid template `{text}` in `{name}`"),
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
                    ok &= self.file_json_templates(node, item, scope);
                }
                ok
            }
            Value::Object(map) => {
                let mut ok = true;
                for item in map.values() {
                    ok &= self.file_json_templates(node, item, scope);
                }
                ok
            }
            _ => true,
        }
    }

    /// Read a file the scenario names, inside the root.
    fn read_file(&mut self, node: &Node, key: &str, context: &str) -> Option<(String, Vec<u8>)> {
        let name = self.string(node, key, context)?;
        let resolved = match paths::resolve(self.path, self.root, &name) {
            Ok(resolved) => resolved,
            Err(err) => {
                let label = match err {
                    paths::PathError::Missing { .. } => "no such file",
                    paths::PathError::Empty => "name a file",
                    paths::PathError::Io { .. } => "cannot inspect this file",
                    _ => "files must stay inside the scenario root",
                };
                self.error(
                    Diagnostic::new(
                        format!("cannot use `{key}` {context}: {err}"),
                        Some(node.span),
                    )
                    .with_label(label),
                );
                return None;
            }
        };
        match std::fs::read(&resolved) {
            Ok(bytes) => Some((name, bytes)),
            Err(err) => {
                self.error(Diagnostic::new(
                    format!("failed to read `{name}`: {err}"),
                    Some(node.span),
                ));
                None
            }
        }
    }

    fn json_file(&mut self, node: &Node, key: &str, context: &str) -> Option<Value> {
        let (name, bytes) = self.read_file(node, key, context)?;
        match serde_json::from_slice(&bytes) {
            Ok(value) => Some(value),
            Err(err) => {
                self.error(
                    Diagnostic::new(format!("`{name}` is not valid JSON"), Some(node.span))
                        .with_label(format!(
                            "{} at line {} column {}",
                            json_error_text(&err),
                            err.line(),
                            err.column()
                        )),
                );
                None
            }
        }
    }

    fn text_file(&mut self, node: &Node, key: &str, context: &str) -> Option<(String, String)> {
        let (name, bytes) = self.read_file(node, key, context)?;
        match String::from_utf8(bytes) {
            Ok(text) => Some((name, text)),
            Err(err) => {
                self.error(
                    Diagnostic::new(format!("`{name}` is not UTF-8 text"), Some(node.span))
                        .with_label(format!(
                            "invalid byte at offset {}",
                            err.utf8_error().valid_up_to()
                        )),
                );
                None
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // The scenario
    // -----------------------------------------------------------------------------------------

    fn scenario(&mut self, node: &Node) -> Option<Scenario> {
        let context = "at the top level";
        let NodeKind::Mapping(_) = node.kind else {
            self.error(
                Diagnostic::new(
                    format!(
                        "expected a mapping at the top level, found {}",
                        node.describe()
                    ),
                    Some(node.span),
                )
                .with_help("a scenario is a mapping with at least `id`, `title` and `flow`"),
            );
            return None;
        };
        let fields = self.fields(node, TOP_KEYS, "scenario", context)?;
        for key in ["id", "title", "flow"] {
            if !fields.has(key) {
                self.missing(&fields, key, context);
            }
        }
        let id = fields.get("id").and_then(|value| {
            let id = self.string(value, "id", context)?;
            if is_id(&id) {
                return Some(id);
            }
            self.error(
                Diagnostic::new(format!("invalid id `{id}`"), Some(value.span))
                    .with_label("expected lowercase letters, digits, `.`, `_` and `-`, starting with a letter or digit"),
            );
            None
        });
        let title = fields
            .get("title")
            .and_then(|value| self.string(value, "title", context));
        let ticket = fields
            .get("ticket")
            .map(|value| self.string(value, "ticket", context));
        let customers = fields
            .get("customers")
            .map(|value| self.string_list(value, "customers", context));
        let tags = fields
            .get("tags")
            .map(|value| self.string_list(value, "tags", context));
        let severity = fields.get("severity").map(|value| self.severity(value));
        let root_cause = fields.get("root_cause").map(|value| self.root_cause(value));
        let clock = fields.get("clock").map(|value| self.clock(value));
        let mocks = fields.get("mocks").map(|value| self.mocks(value));
        let target = fields.get("target").map(|value| self.target(value));
        let flow = fields.get("flow").and_then(|value| self.flow(value));
        let expect = fields
            .get("expect")
            .map(|value| self.expectations(value, flow.as_deref().unwrap_or(&[])));
        let snapshot = fields.get("snapshot").map(|value| self.snapshot(value));

        Some(Scenario {
            id: id?,
            title: title?,
            ticket: present(ticket)?,
            customers: present(customers)?.unwrap_or_default(),
            severity: present(severity)?,
            tags: present(tags)?.unwrap_or_default(),
            root_cause: present(root_cause)?,
            clock: present(clock)?.unwrap_or_default(),
            mocks: present(mocks)?.unwrap_or_default(),
            target: present(target)?.unwrap_or_default(),
            flow: flow?,
            expect: present(expect)?.unwrap_or_default(),
            snapshot: present(snapshot)?.unwrap_or_default(),
            source: Source {
                path: self.path.to_path_buf(),
                root: self.root.to_path_buf(),
            },
        })
    }

    /// One of `options` by name, for `key` `context` (e.g. "at the top level").
    fn choice<T: Copy>(
        &mut self,
        node: &Node,
        key: &str,
        context: &str,
        options: &[(&str, T)],
    ) -> Option<T> {
        let text = self.string(node, key, context)?;
        if let Some((_, value)) = options.iter().find(|(name, _)| *name == text) {
            return Some(*value);
        }
        let names: Vec<&str> = options.iter().map(|(name, _)| *name).collect();
        let mut diagnostic = Diagnostic::new(
            format!("invalid `{key}` `{text}` {context}"),
            Some(node.span),
        )
        .with_label(format!("expected one of {}", list_keys(&names)));
        if let Some(suggestion) = did_you_mean(&text, &names) {
            diagnostic = diagnostic.with_help(format!("did you mean `{suggestion}`?"));
        }
        self.error(diagnostic);
        None
    }

    fn severity(&mut self, node: &Node) -> Option<Severity> {
        self.choice(
            node,
            "severity",
            "at the top level",
            &[
                ("sev1", Severity::Sev1),
                ("sev2", Severity::Sev2),
                ("sev3", Severity::Sev3),
                ("sev4", Severity::Sev4),
            ],
        )
    }

    fn root_cause(&mut self, node: &Node) -> Option<RootCause> {
        self.choice(
            node,
            "root_cause",
            "at the top level",
            &[
                ("product-defect", RootCause::ProductDefect),
                ("configuration", RootCause::Configuration),
                ("data", RootCause::Data),
                ("external-dependency", RootCause::ExternalDependency),
                ("unknown", RootCause::Unknown),
            ],
        )
    }

    fn clock(&mut self, node: &Node) -> Option<ClockSpec> {
        let context = "in `clock`";
        let fields = self.fields(node, &["start"], "clock", context)?;
        let Some(start) = fields.get("start") else {
            return Some(ClockSpec::default());
        };
        let text = self.string(start, "start", context)?;
        let format = time::format_description::well_known::Rfc3339;
        match time::OffsetDateTime::parse(&text, &format) {
            Ok(_) => Some(ClockSpec { start: Some(text) }),
            Err(err) => {
                self.error(
                    Diagnostic::new(format!("invalid `clock.start` `{text}`"), Some(start.span))
                        .with_label(format!("expected an RFC 3339 instant: {err}"))
                        .with_help("write e.g. `2026-10-31T23:00:00Z`"),
                );
                None
            }
        }
    }

    /// A secret setting `key` of a provider (a webhook key): printable ASCII without spaces.
    /// The errors never quote it.
    fn secret_setting(
        &mut self,
        node: &Node,
        key: &str,
        context: &str,
        label: &str,
        help: &str,
    ) -> Option<SecretText> {
        let secret = self.string(node, key, context)?;
        let problem = if secret.is_empty() {
            format!("`{key}` {context} is empty")
        } else if !secret.chars().all(|c| c.is_ascii_graphic()) {
            format!("invalid `{key}` {context}")
        } else {
            return Some(SecretText(secret));
        };
        self.error(
            Diagnostic::new(problem, Some(node.span))
                .with_label(label)
                .with_help(help),
        );
        None
    }

    /// A mapping name → scalar text (`Retry-After: 1` is the text `1`).
    fn string_map(
        &mut self,
        node: &Node,
        key: &str,
        context: &str,
    ) -> Option<Vec<(String, String)>> {
        let NodeKind::Mapping(entries) = &node.kind else {
            self.type_error(node, "a mapping", key, context);
            return None;
        };
        let mut out = Some(Vec::new());
        for (name, value) in entries {
            let name = self.scalar_text(name, key, context);
            let value = self.scalar_text(value, key, context);
            match (&mut out, name, value) {
                (Some(out), Some(name), Some(value)) => out.push((name, value)),
                _ => out = None,
            }
        }
        out
    }

    /// A mapping name → template.
    fn template_map(
        &mut self,
        node: &Node,
        key: &str,
        context: &str,
        scope: Scope<'_>,
    ) -> Option<Vec<(String, Template)>> {
        let NodeKind::Mapping(entries) = &node.kind else {
            self.type_error(node, "a mapping", key, context);
            return None;
        };
        let mut out = Some(Vec::new());
        for (name, value) in entries {
            let name = self.scalar_text(name, key, context);
            let template = self
                .scalar_text(value, key, context)
                .and_then(|text| self.template(value, &text, scope));
            match (&mut out, name, template) {
                (Some(out), Some(name), Some(template)) => out.push((name, template)),
                _ => out = None,
            }
        }
        out
    }

    /// One of a fixed set of words, with a did-you-mean.
    fn option<T: Copy>(
        &mut self,
        node: &Node,
        key: &str,
        context: &str,
        options: &[(&str, T)],
    ) -> Option<T> {
        let text = self.string(node, key, context)?;
        if let Some((_, value)) = options.iter().find(|(name, _)| *name == text) {
            return Some(*value);
        }
        let names: Vec<&str> = options.iter().map(|(name, _)| *name).collect();
        let mut diagnostic = Diagnostic::new(
            format!("invalid `{key}` `{text}` {context}"),
            Some(node.span),
        )
        .with_label(format!("expected one of {}", list_keys(&names)));
        if let Some(suggestion) = did_you_mean(&text, &names) {
            diagnostic = diagnostic.with_help(format!("did you mean `{suggestion}`?"));
        }
        self.error(diagnostic);
        None
    }

    /// A template read from a file: problems point at the scalar naming the file.
    fn file_template(&mut self, node: &Node, text: &str, scope: Scope<'_>) -> Option<Template> {
        let value = Value::String(text.to_string());
        if !self.file_json_templates(node, &value, scope) {
            return None;
        }
        Template::parse(text).ok()
    }
}

/// An optional key's value: absent is fine (`Some(None)`), present but invalid is not (`None`).
fn present<T>(value: Option<Option<T>>) -> Option<Option<T>> {
    match value {
        None => Some(None),
        Some(None) => None,
        Some(Some(value)) => Some(Some(value)),
    }
}

/// `Parser(RanOutOfInput)` → `ran out of input`: sxd-xpath errors are nested enum variants.
fn words(debug: &str) -> String {
    let name = debug
        .split(|c: char| !c.is_alphanumeric())
        .rfind(|token| !token.is_empty())
        .unwrap_or(debug);
    let mut out = String::new();
    for c in name.chars() {
        if c.is_uppercase() && !out.is_empty() {
            out.push(' ');
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// A serde_json error without its " at line L column C" suffix (given separately).
fn json_error_text(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// Top-level variables of mock templates, for did-you-mean.
const MOCK_VARS: &[&str] = &["request", "now", "uuid", "store", "state", "retry_after"];
/// Fields of `request` in mock templates.
const REQUEST_VARS: &[&str] = &["method", "path", "query", "headers", "json", "body"];
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
        ["now"] | ["uuid"] => None,
        ["retry_after"] if limit => None,
        ["retry_after"] => Some(unknown(
            "`retry_after` is only known in a rate limit's `response`".to_owned(),
        )),
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
                    "a mock response knows `request.*`, `now`, `uuid`, `store.KEY` and `state.MACHINE`",
                ),
            };
            Some(diagnostic)
        }
        [] => Some(unknown("empty variable".to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn load(text: &str) -> Result<Scenario, Vec<Diagnostic>> {
        match convert(Path::new("s.yaml"), &PathBuf::from("."), text.as_bytes()) {
            Ok(scenario) => Ok(scenario),
            Err(LoadError::Invalid { diagnostics, .. }) => Err(diagnostics),
            Err(err) => panic!("{err}"),
        }
    }

    #[test]
    fn minimal_scenario_loads_with_defaults() {
        let scenario =
            load("id: a\ntitle: t\nflow:\n  - request: { method: get, path: / }\n").unwrap();
        assert_eq!(scenario.flow[0].name, "step 1");
        let StepAction::Request { request, .. } = &scenario.flow[0].action else {
            panic!("not a request")
        };
        assert_eq!(request.method, "GET");
        assert_eq!(request.timeout, DEFAULT_REQUEST_TIMEOUT);
    }

    #[test]
    fn template_errors_point_inside_the_string() {
        let errors =
            load("id: a\ntitle: t\nflow:\n  - request: { method: GET, path: \"/x/{{ nope }}\" }\n")
                .unwrap_err();
        assert_eq!(errors.len(), 1);
        let span = errors[0].span.unwrap();
        assert_eq!((span.line, span.col), (4, 42));
        assert_eq!(span.end - span.start, 4);
    }

    #[test]
    fn captures_are_known_only_after_their_step() {
        let text = "id: a\ntitle: t\nflow:\n  - request: { method: GET, path: \"/{{ x }}\" }\n    capture: { x: $.id }\n  - request: { method: GET, path: \"/{{ x }}\" }\n";
        let errors = load(text).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].span.unwrap().line, 4);
    }
}
