//! `snapshot` → [`SnapshotSpec`]: whether the scenario keeps a snapshot, how the observation is
//! stored as one (JSONPaths to redact and to exclude, regex normalizers, mocks whose requests are
//! unordered) and the values the scenario declares secret.

use super::Cx;
use super::templates::Scope;
use crate::scenario::diagnostic::Diagnostic;
use crate::scenario::model::{Normalizer, SnapshotSpec};
use crate::scenario::yaml::Node;

pub(super) const SNAPSHOT_KEYS: &[&str] = &[
    "enabled",
    "redact",
    "exclude",
    "normalize",
    "unordered",
    "secrets",
];
pub(super) const NORMALIZE_KEYS: &[&str] = &["regex", "as"];

/// Most `snapshot.normalize` entries: each runs over every string of the observation.
pub(crate) const MAX_NORMALIZERS: usize = 32;
/// Longest `normalize` regex, in bytes (its compiled size has its own budget).
pub(crate) const MAX_NORMALIZER_REGEX_BYTES: usize = 1024;
/// Longest `normalize` replacement (`as`), in bytes.
pub(crate) const MAX_NORMALIZER_AS_BYTES: usize = 256;

impl Cx<'_> {
    /// `snapshot`; `captures` are the names every step of the flow captures, which
    /// `snapshot.secrets` may use.
    pub(super) fn snapshot(&mut self, node: &Node, captures: &[String]) -> Option<SnapshotSpec> {
        let context = "in `snapshot`";
        let fields = self.fields(node, SNAPSHOT_KEYS, "snapshot", context)?;
        // Every key is read before any can fail, so every problem is reported.
        let enabled = match fields.get("enabled") {
            Some(value) => self.boolean(value, "enabled", context),
            None => Some(true),
        };
        let jsonpaths = |cx: &mut Self, key: &str| match fields.get(key) {
            Some(list) => cx.list(list, key, context).and_then(|items| {
                cx.each_item(items, |cx, _, item| {
                    cx.string(item, key, context)
                        .and_then(|text| cx.jsonpath(item, &text))
                })
            }),
            None => Some(Vec::new()),
        };
        let redact = jsonpaths(self, "redact");
        let exclude = jsonpaths(self, "exclude");
        let normalize = match fields.get("normalize") {
            Some(list) => self.list(list, "normalize", context).and_then(|items| {
                if items.len() > MAX_NORMALIZERS {
                    self.error(
                        Diagnostic::new(
                            format!(
                                "too many `normalize` entries {context}: {} (the limit is {MAX_NORMALIZERS})",
                                items.len()
                            ),
                            Some(list.span),
                        )
                        .with_label(format!("more than {MAX_NORMALIZERS}"))
                        .with_help("one regex with alternatives (`a|b`) can replace several"),
                    );
                    return None;
                }
                self.each_item(items, |cx, _, item| cx.normalizer(item))
            }),
            None => Some(Vec::new()),
        };
        let unordered = match fields.get("unordered") {
            Some(list) => self.list(list, "unordered", context).and_then(|items| {
                self.each_item(items, |cx, _, item| {
                    cx.mock_name(item, "in `snapshot.unordered`")
                })
            }),
            None => Some(Vec::new()),
        };
        let secrets = match fields.get("secrets") {
            Some(secrets) => self.list(secrets, "secrets", context).and_then(|items| {
                self.each_item(items, |cx, _, item| {
                    cx.scalar_text(item, "secrets", context)
                        .and_then(|text| cx.template(item, &text, Scope::Flow { captures }))
                })
            }),
            None => Some(Vec::new()),
        };
        Some(SnapshotSpec {
            disabled: !enabled?,
            redact: redact?,
            exclude: exclude?,
            normalize: normalize?,
            unordered: unordered?,
            secrets: secrets?,
        })
    }

    /// One `normalize` entry: `{ regex, as }`.
    fn normalizer(&mut self, node: &Node) -> Option<Normalizer> {
        let context = "in a `snapshot.normalize` entry";
        let fields = self.fields(node, NORMALIZE_KEYS, "normalize", context)?;
        let regex = self.required(&fields, "regex", context, |cx, value| {
            let text = cx.string(value, "regex", context)?;
            cx.within(value, "regex", &text, MAX_NORMALIZER_REGEX_BYTES)?;
            if text.is_empty() {
                cx.error(
                    Diagnostic::new(format!("empty `regex` {context}"), Some(value.span))
                        .with_label("it would match between every two characters"),
                );
                return None;
            }
            cx.regex(value, &text, false)
        });
        let replacement = self.required(&fields, "as", context, |cx, value| {
            let text = cx.scalar_text(value, "as", context)?;
            cx.within(value, "as", &text, MAX_NORMALIZER_AS_BYTES)?;
            Some(text)
        });
        Some(Normalizer {
            regex: regex?,
            replacement: replacement?,
        })
    }

    /// `Some(())` when `text`, the value of `key` in a `snapshot.normalize` entry, is at most
    /// `limit` bytes; otherwise an error at `node` that names the limit.
    fn within(&mut self, node: &Node, key: &str, text: &str, limit: usize) -> Option<()> {
        if text.len() <= limit {
            return Some(());
        }
        self.error(
            Diagnostic::new(
                format!(
                    "`{key}` in a `snapshot.normalize` entry is longer than the limit of {limit} bytes"
                ),
                Some(node.span),
            )
            .with_label(format!("{} bytes", text.len())),
        );
        None
    }
}
