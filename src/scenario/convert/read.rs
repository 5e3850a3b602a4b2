//! Typed readers: a node read as a string, scalar text, list, integer in a range, boolean,
//! duration, JSON value, regex, JSONPath, XPath, one of a fixed set of words, a secret or a
//! mapping of strings, each reporting what it expected at the node when it cannot.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::Value;

use super::{Cx, list_keys};

/// Longest URL a provider setting takes.
pub(super) const MAX_SETTING_URL: usize = 2048;

/// Largest signed offset a setting takes, in seconds: ten years.
pub(super) const MAX_SIGNED_SECONDS: i64 = 10 * 366 * 86_400;
use crate::scenario::diagnostic::Diagnostic;
use crate::scenario::duration;
use crate::scenario::expression;
use crate::scenario::model::{Pattern, SecretText};
use crate::scenario::suggest::did_you_mean;
use crate::scenario::yaml::{self, Node, NodeKind, Scalar};

/// Whether `c` may be part of an HTTP token (RFC 9110, section 5.6.2): a header name.
pub(super) fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// An expression as a message quotes it: at most 60 characters, then `…`.
pub(super) fn clip(text: &str) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(60) {
        Some((end, _)) => format!("{}…", &text[..end]).into(),
        None => text.into(),
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

/// Whether [`Cx::unique_items`] still reports a duplicate once an item before it was bad
/// (invalid, or itself a duplicate). The lists it reads differ on this; each keeps the behaviour
/// it had before they shared the helper.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum AfterBad {
    /// Compare with every good item before.
    Report,
    /// Report no more duplicates after a bad item.
    Ignore,
}

impl Cx<'_> {
    pub(super) fn string(&mut self, node: &Node, key: &str, context: &str) -> Option<String> {
        match node.as_str() {
            Some(text) => Some(text.to_string()),
            None => {
                self.type_error(node, "a string", key, context);
                None
            }
        }
    }

    /// The text of any non-null scalar: `PORT: 8080` means the string `8080`.
    pub(super) fn scalar_text(&mut self, node: &Node, key: &str, context: &str) -> Option<String> {
        match node.scalar() {
            Some(Scalar::Null) | None => {
                self.type_error(node, "a string", key, context);
                None
            }
            Some(_) => node.text().map(str::to_string),
        }
    }

    pub(super) fn string_list(
        &mut self,
        node: &Node,
        key: &str,
        context: &str,
    ) -> Option<Vec<String>> {
        let items = self.list(node, key, context)?;
        self.each_item(items, |cx, _, item| cx.string(item, key, context))
    }

    pub(super) fn list<'n>(
        &mut self,
        node: &'n Node,
        key: &str,
        context: &str,
    ) -> Option<&'n [Node]> {
        match &node.kind {
            NodeKind::Sequence(items) => Some(items),
            _ => {
                self.type_error(node, "a list", key, context);
                None
            }
        }
    }

    /// Every item of a list, each read by `read` (given its index), even after a bad one so that
    /// each problem is reported; `None` when any is bad.
    pub(super) fn each_item<T>(
        &mut self,
        items: &[Node],
        mut read: impl FnMut(&mut Self, usize, &Node) -> Option<T>,
    ) -> Option<Vec<T>> {
        let mut out = Some(Vec::with_capacity(items.len()));
        for (index, item) in items.iter().enumerate() {
            let value = read(self, index, item);
            match (&mut out, value) {
                (Some(out), Some(value)) => out.push(value),
                _ => out = None,
            }
        }
        out
    }

    /// The items of a list, each read by `read` (given its index) and keyed by `key`, which must be
    /// unique in the list: a duplicate is reported at its item, with the message and label
    /// `duplicate` gives, and is not kept. Every item is read, even after a bad one, so that each
    /// problem is reported; `None` when any item is bad or a duplicate. A `None` key (an item
    /// whose key part is invalid) is not compared.
    pub(super) fn unique_items<T, K: Eq + std::hash::Hash>(
        &mut self,
        items: &[Node],
        after_bad: AfterBad,
        mut read: impl FnMut(&mut Self, usize, &Node) -> Option<T>,
        key: impl Fn(&T) -> Option<K>,
        duplicate: impl Fn(usize, &T, &K) -> (String, &'static str),
    ) -> Option<Vec<T>> {
        let mut out = Some(Vec::with_capacity(items.len()));
        // A set, not a list: a file can hold tens of thousands of items within the node budget.
        let mut seen: HashSet<K> = HashSet::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let value = read(self, index, item);
            let item_key = value.as_ref().and_then(&key);
            if let (Some(value), Some(item_key)) = (&value, &item_key)
                && seen.contains(item_key)
                && (after_bad == AfterBad::Report || out.is_some())
            {
                let (message, label) = duplicate(index, value, item_key);
                self.error(Diagnostic::new(message, Some(item.span)).with_label(label));
                out = None;
                continue;
            }
            seen.extend(item_key);
            match (&mut out, value) {
                (Some(out), Some(value)) => out.push(value),
                _ => out = None,
            }
        }
        out
    }

    /// A list that must hold at least one item; `label` says what to give when it is empty.
    pub(super) fn non_empty_list<'n>(
        &mut self,
        node: &'n Node,
        key: &str,
        context: &str,
        label: &str,
    ) -> Option<&'n [Node]> {
        let items = self.list(node, key, context)?;
        if items.is_empty() {
            self.error(
                Diagnostic::new(format!("`{key}` {context} is empty"), Some(node.span))
                    .with_label(label),
            );
            return None;
        }
        Some(items)
    }

    pub(super) fn integer(
        &mut self,
        node: &Node,
        key: &str,
        context: &str,
        range: std::ops::RangeInclusive<u64>,
    ) -> Option<u64> {
        let value = match node.scalar() {
            Some(Scalar::Int(n)) => u64::try_from(n).ok(),
            Some(Scalar::UInt(n)) => Some(n),
            // Digits beyond 64 bits: an integer, out of any range.
            _ if node.is_integer_text() => None,
            _ => {
                self.type_error(node, "an integer", key, context);
                return None;
            }
        };
        match value.filter(|n| range.contains(n)) {
            Some(n) => Some(n),
            None => {
                let too_low = node.text().is_some_and(|text| text.starts_with('-'))
                    || value.is_some_and(|n| n < *range.start());
                let allowed = if *range.end() == u64::MAX && too_low {
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

    pub(super) fn boolean(&mut self, node: &Node, key: &str, context: &str) -> Option<bool> {
        match node.scalar() {
            Some(Scalar::Bool(b)) => Some(b),
            _ => {
                self.type_error(node, "`true` or `false`", key, context);
                None
            }
        }
    }

    pub(super) fn duration(&mut self, node: &Node, key: &str, context: &str) -> Option<Duration> {
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

    /// A calendar date `YYYY-MM-DD`, kept as written (a provider's lock or closing date).
    pub(super) fn date(&mut self, node: &Node, key: &str, context: &str) -> Option<String> {
        let text = self.scalar_text(node, key, context)?;
        let format = time::macros::format_description!("[year]-[month]-[day]");
        if time::Date::parse(&text, format).is_ok() {
            return Some(text);
        }
        self.error(
            Diagnostic::new(format!("invalid `{key}` `{text}`"), Some(node.span))
                .with_label("expected a date `YYYY-MM-DD`, e.g. `2026-09-30`"),
        );
        None
    }

    pub(super) fn json(&mut self, node: &Node) -> Option<Value> {
        match yaml::to_json(node) {
            Ok(value) => Some(value),
            Err(diagnostic) => {
                self.error(diagnostic);
                None
            }
        }
    }

    /// An absolute `http://` or `https://` URL with a host, at most [`MAX_SETTING_URL`]
    /// characters, without whitespace or control characters (`example` shows one in the hint).
    pub(super) fn absolute_url(
        &mut self,
        node: &Node,
        key: &str,
        context: &str,
        example: &str,
    ) -> Option<String> {
        let url = self.string(node, key, context)?;
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"));
        if rest.is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'))
            && url.len() <= MAX_SETTING_URL
            && !url.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Some(url);
        }
        self.error(
            Diagnostic::new(
                format!("invalid `{key}` `{url}` {context}"),
                Some(node.span),
            )
            .with_label("expected an absolute `http://` or `https://` URL")
            .with_help(format!("e.g. `{example}`")),
        );
        None
    }

    /// A duration in whole seconds with an optional leading `-` (earlier) or `+`: `-10m`,
    /// `+30s`, `90s`; at most [`MAX_SIGNED_SECONDS`] either way (a clock offset, a skew).
    pub(super) fn signed_seconds(&mut self, node: &Node, key: &str, context: &str) -> Option<i64> {
        let text = self.scalar_text(node, key, context)?;
        let (sign, magnitude) = match (text.strip_prefix('-'), text.strip_prefix('+')) {
            (Some(rest), _) => (-1, rest),
            (None, Some(rest)) => (1, rest),
            (None, None) => (1, text.as_str()),
        };
        let parsed = duration::parse(magnitude.trim())
            .map_err(|err| err.to_string())
            .and_then(|d| {
                if d.subsec_nanos() != 0 {
                    return Err("whole seconds only".to_owned());
                }
                i64::try_from(d.as_secs())
                    .ok()
                    .filter(|secs| *secs <= MAX_SIGNED_SECONDS)
                    .ok_or_else(|| "at most ten years".to_owned())
            });
        match parsed {
            Ok(secs) => Some(sign * secs),
            Err(label) => {
                self.error(
                    Diagnostic::new(format!("invalid offset for `{key}` {context}"), Some(node.span))
                        .with_label(label)
                        .with_help("write whole seconds, minutes or hours, `-` for earlier: `-10m`, `30s`, `+1h`"),
                );
                None
            }
        }
    }

    /// An RFC 3339 time, kept as written (a time on the run's virtual clock).
    pub(super) fn rfc3339_time(&mut self, node: &Node, key: &str, context: &str) -> Option<String> {
        let text = self.scalar_text(node, key, context)?;
        if time::OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339)
            .is_ok()
        {
            return Some(text);
        }
        self.error(
            Diagnostic::new(
                format!("invalid `{key}` `{text}` {context}"),
                Some(node.span),
            )
            .with_label("expected an RFC 3339 time")
            .with_help("e.g. `2026-11-02T09:00:00Z`, on the run's virtual clock"),
        );
        None
    }

    pub(super) fn regex(&mut self, node: &Node, text: &str, anchored: bool) -> Option<Pattern> {
        let source = if anchored {
            format!("^(?:{text})$")
        } else {
            text.to_string()
        };
        match expression::regex(&source) {
            Ok(regex) => Some(Pattern(regex)),
            Err(err) => {
                let detail = err.to_string();
                let last = detail.lines().last().unwrap_or_default().trim();
                let last = last.strip_prefix("error: ").unwrap_or(last);
                self.error(
                    Diagnostic::new(format!("invalid regex `{}`", clip(text)), Some(node.span))
                        .with_label(last.to_string()),
                );
                None
            }
        }
    }

    /// An expression over budget ([`expression`]), located inside the scalar where it can be.
    fn expression_error(
        &mut self,
        node: &Node,
        language: &str,
        text: &str,
        err: &expression::ExpressionError,
    ) {
        let span = self.inner_span(node, err.offset, err.len());
        let mut diagnostic =
            Diagnostic::new(format!("invalid {language} `{}`", clip(text)), Some(span))
                .with_label(err.to_string());
        if let Some(help) = err.help() {
            diagnostic = diagnostic.with_help(help);
        }
        self.error(diagnostic);
    }

    pub(super) fn jsonpath(&mut self, node: &Node, text: &str) -> Option<String> {
        if let Err(err) = expression::check_jsonpath(text) {
            self.expression_error(node, "JSONPath", text, &err);
            return None;
        }
        match serde_json_path::JsonPath::parse(text) {
            Ok(_) => Some(text.to_string()),
            Err(err) => {
                let mut diagnostic = Diagnostic::new(
                    format!("invalid JSONPath `{}`", clip(text)),
                    Some(node.span),
                )
                .with_label(format!(
                    "at position {}: {}",
                    err.position(),
                    err.message()
                ));
                if !text.starts_with('$') {
                    diagnostic = diagnostic.with_help("a JSONPath starts with `$`, e.g. `$.id`");
                }
                self.error(diagnostic);
                None
            }
        }
    }

    pub(super) fn xpath(&mut self, node: &Node, text: &str) -> Option<String> {
        if let Err(err) = expression::check_xpath(text) {
            self.expression_error(node, "XPath", text, &err);
            return None;
        }
        match sxd_xpath::Factory::new().build(text) {
            Ok(Some(_)) => Some(text.to_string()),
            Ok(None) => {
                self.error(Diagnostic::new("empty XPath", Some(node.span)));
                None
            }
            Err(err) => {
                self.error(
                    Diagnostic::new(format!("invalid XPath `{}`", clip(text)), Some(node.span))
                        .with_label(words(&format!("{err:?}"))),
                );
                None
            }
        }
    }

    /// One of a fixed set of words (`options`, by name) for `key` `context` (e.g. "at the top
    /// level"), with a did-you-mean.
    pub(super) fn choice<T: Copy>(
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

    /// A secret setting `key` of a provider (a webhook key): printable ASCII without spaces.
    /// The errors never quote it.
    pub(super) fn secret_setting(
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

    /// A mapping `key` of names (scalar text) to values read by `read`, which is given the name
    /// when it is valid. Every entry is read, even after a bad one, so that each problem is
    /// reported; `None` when any is bad.
    pub(super) fn map_entries<T>(
        &mut self,
        node: &Node,
        key: &str,
        context: &str,
        mut read: impl FnMut(&mut Self, Option<&str>, &Node) -> Option<T>,
    ) -> Option<Vec<(String, T)>> {
        let NodeKind::Mapping(entries) = &node.kind else {
            self.type_error(node, "a mapping", key, context);
            return None;
        };
        let mut out = Some(Vec::new());
        for (name, value) in entries {
            let name = self.scalar_text(name, key, context);
            let value = read(self, name.as_deref(), value);
            match (&mut out, name, value) {
                (Some(out), Some(name), Some(value)) => out.push((name, value)),
                _ => out = None,
            }
        }
        out
    }

    /// Check the names and values of a `headers` mapping (its shape is read elsewhere): a name is
    /// an RFC 9110 token (no spaces, no `:`), and a value, or the `equals` / `contains` text of a
    /// matcher, holds no CR, LF or NUL (a header cannot carry them). True when all are fine.
    pub(super) fn header_fields(&mut self, node: &Node, context: &str) -> bool {
        let NodeKind::Mapping(entries) = &node.kind else {
            return true;
        };
        let mut ok = true;
        for (name_node, value) in entries {
            let Some(name) = name_node.text() else {
                continue;
            };
            if let Some(bad) = name
                .chars()
                .find(|&c| !is_token_char(c))
                .or(name.is_empty().then_some(' '))
            {
                let what = match bad {
                    ' ' if name.is_empty() => "is empty".to_string(),
                    ' ' => "holds a space".to_string(),
                    c if c.is_control() => {
                        format!("holds the control character U+{:04X}", u32::from(c))
                    }
                    c => format!("holds `{c}`"),
                };
                self.error(
                    Diagnostic::new(
                        format!(
                            "invalid header name `{}` {context}: it {what}",
                            name.escape_debug()
                        ),
                        Some(name_node.span),
                    )
                    .with_label("a header name is a token: letters, digits and ``!#$%&'*+-.^_`|~``")
                    .with_help("write e.g. `X-Request-Id`"),
                );
                ok = false;
            }
            let texts: Vec<&Node> = match &value.kind {
                NodeKind::Scalar { .. } => vec![value],
                NodeKind::Mapping(matcher) => matcher
                    .iter()
                    .filter(|(key, _)| matches!(key.text(), Some("equals" | "contains")))
                    .map(|(_, text)| text)
                    .collect(),
                NodeKind::Sequence(items) => items.iter().collect(),
            };
            for text_node in texts {
                let Some(text) = text_node.text() else {
                    continue;
                };
                if let Some(bad) = text.chars().find(|c| matches!(c, '\r' | '\n' | '\0')) {
                    let what = match bad {
                        '\r' => "a carriage return (CR)",
                        '\n' => "a line feed (LF)",
                        _ => "a NUL character",
                    };
                    self.error(
                        Diagnostic::new(
                            format!("the value of header `{name}` {context} holds {what}"),
                            Some(text_node.span),
                        )
                        .with_label("CR, LF and NUL cannot be sent in a header value")
                        .with_help("a block scalar (`|`) ends with a line feed: use a plain or quoted string"),
                    );
                    ok = false;
                }
            }
        }
        ok
    }

    /// Check the names of an `env` mapping: not empty, without `=` or NUL (the operating system
    /// could not pass them), and values without NUL. True when all are fine.
    pub(super) fn env_fields(&mut self, node: &Node, context: &str) -> bool {
        let NodeKind::Mapping(entries) = &node.kind else {
            return true;
        };
        let mut ok = true;
        for (name_node, value) in entries {
            let Some(name) = name_node.text() else {
                continue;
            };
            let problem = if name.is_empty() {
                Some("is empty")
            } else if name.contains('=') {
                Some("holds `=`")
            } else if name.contains('\0') {
                Some("holds a NUL character")
            } else {
                None
            };
            if let Some(problem) = problem {
                self.error(
                    Diagnostic::new(
                        format!(
                            "invalid environment variable name `{}` {context}: it {problem}",
                            name.escape_debug()
                        ),
                        Some(name_node.span),
                    )
                    .with_label("a variable name cannot be empty or hold `=` or NUL")
                    .with_help("write e.g. `API_URL`"),
                );
                ok = false;
            }
            if value.text().is_some_and(|text| text.contains('\0')) {
                self.error(
                    Diagnostic::new(
                        format!(
                            "the value of `{}` {context} holds a NUL character",
                            name.escape_debug()
                        ),
                        Some(value.span),
                    )
                    .with_label("an environment value cannot hold NUL"),
                );
                ok = false;
            }
        }
        ok
    }
}
