//! The conversion context [`Cx`]: the file being converted, the diagnostics found so far and the
//! names declared so far (mocks, hostnames, providers) that later parts refer to; the mapping
//! entries of a node checked against its allowed keys ([`Fields`]); and the error helpers every
//! part of the grammar reports through.

use std::path::{Path, PathBuf};

use super::include::IncludedSource;

use crate::scenario::diagnostic::Diagnostic;
use crate::scenario::suggest::did_you_mean;
use crate::scenario::yaml::{Node, NodeKind};

/// The mapping entries of a node, checked against the keys allowed there.
pub(super) struct Fields<'n> {
    pub(super) node: &'n Node,
    pub(super) entries: Vec<(&'n str, &'n Node, &'n Node)>,
    /// Keys that are not allowed here (already reported).
    pub(super) unknown: Vec<&'n str>,
}

impl<'n> Fields<'n> {
    pub(super) fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(name, _, _)| *name == key)
            .map(|(_, _, value)| *value)
    }

    pub(super) fn key(&self, key: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(name, _, _)| *name == key)
            .map(|(_, key, _)| *key)
    }

    pub(super) fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Whether an unknown key here is probably a typo of `key`: then "missing `key`" would only
    /// repeat the did-you-mean of the unknown key.
    pub(super) fn has_typo_of(&self, key: &str) -> bool {
        self.unknown
            .iter()
            .any(|unknown| did_you_mean(unknown, &[key]).is_some())
    }
}

/// The conversion of one scenario file: what it needs to locate and word a problem, the problems
/// found so far, and what the parts converted so far declared.
pub(super) struct Cx<'a> {
    pub(super) path: &'a Path,
    pub(super) root: &'a Path,
    pub(super) text: &'a str,
    pub(super) errors: Vec<Diagnostic>,
    /// Names of the mocks declared, for references and templates.
    pub(super) mocks: Vec<String>,
    /// Names of the mocks with `tls: true` (`{{ tls.ca_file }}` needs one).
    pub(super) tls_mocks: Vec<String>,
    /// Names of the bank mocks with `sftp:` (`{{ mocks.NAME.sftp_url }}` needs one).
    pub(super) sftp_mocks: Vec<String>,
    /// Every `hostnames` entry seen so far, with the mock that declares it.
    pub(super) hostnames: Vec<(String, String)>,
    /// Mocks with a valid provider, with the collections of its state.
    pub(super) provider_mocks: Vec<(String, &'static [&'static str])>,
    /// Mocks with a valid provider, with its name (`sso_login` asks which picks a user how).
    pub(super) providers: Vec<(String, &'static str)>,
    /// Mocks with `provider: xero`, and whether they have a `webhook_key`.
    pub(super) xero_mocks: Vec<(String, bool)>,
    /// Mocks with `provider: quickbooks`, and whether they have a `verifier_token`.
    pub(super) quickbooks_mocks: Vec<(String, bool)>,
    /// Bytes of the files named so far, each counted every time it is named.
    pub(super) file_bytes: usize,
    /// The mock definitions included so far, by the window their spans were shifted into.
    pub(super) includes: Vec<IncludedSource>,
    /// Every file read besides the scenario, once each, in the order read.
    pub(super) files: Vec<PathBuf>,
    /// How many `$repeat` items enclose the payload value being checked (inside one,
    /// `{{ index }}` and `{{ number }}` are variables).
    pub(super) repeat_depth: usize,
    /// SHA-256 of the scenario's bytes and of every file it names, as read (see
    /// [`Source::hash`](crate::scenario::model::Source::hash)).
    pub(super) hash: sha2::Sha256,
}

impl<'a> Cx<'a> {
    /// The conversion of the file `path` (its files resolve inside `root`) whose text is `text`,
    /// with nothing found or declared yet.
    pub(super) fn new(path: &'a Path, root: &'a Path, text: &'a str) -> Self {
        Cx {
            path,
            root,
            text,
            errors: Vec::new(),
            mocks: Vec::new(),
            tls_mocks: Vec::new(),
            sftp_mocks: Vec::new(),
            provider_mocks: Vec::new(),
            providers: Vec::new(),
            xero_mocks: Vec::new(),
            quickbooks_mocks: Vec::new(),
            hostnames: Vec::new(),
            file_bytes: 0,
            includes: Vec::new(),
            files: Vec::new(),
            repeat_depth: 0,
            hash: sha2::Digest::new_with_prefix(text.as_bytes()),
        }
    }
}

/// `a`, `b`, `c`: keys or words as a message lists them.
pub(super) fn list_keys(keys: &[&str]) -> String {
    keys.iter()
        .map(|key| format!("`{key}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// An optional key's value: absent is fine (`Some(None)`), present but invalid is not (`None`).
pub(super) fn present<T>(value: Option<Option<T>>) -> Option<Option<T>> {
    match value {
        None => Some(None),
        Some(None) => None,
        Some(Some(value)) => Some(Some(value)),
    }
}

impl Cx<'_> {
    pub(super) fn error(&mut self, diagnostic: Diagnostic) {
        self.errors.push(diagnostic);
    }

    pub(super) fn type_error(&mut self, node: &Node, expected: &str, key: &str, context: &str) {
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
    pub(super) fn fields<'n>(
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

    /// Required field `key` converted by `convert`, or (when absent) an error that it is missing.
    pub(super) fn required<'n, T>(
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

    pub(super) fn missing(&mut self, fields: &Fields<'_>, key: &str, context: &str) {
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
    pub(super) fn at_most_one(
        &mut self,
        fields: &Fields<'_>,
        keys: &[&str],
        context: &str,
    ) -> bool {
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
}
