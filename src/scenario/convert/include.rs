//! `include:` in a mock: a mock definition from the project's `mocks/` folder, merged with what
//! the scenario writes beside it.
//!
//! The definition is a YAML file holding one mock's keys (`provider`, `with`, `stubs`, …). It is
//! named relative to the scenario root (the folder of `reenact.toml`), must stay inside it (the
//! rules of `paths::resolve`), and is read and parsed with the budgets of a scenario. The rest of
//! the scenario's mock entry is merged over it as a JSON Merge Patch (RFC 7386): mappings merge
//! key by key, any other value (a list, a scalar) replaces the inherited one whole, and `null`
//! removes the inherited key. [`merge_patch`] is that rule.
//!
//! Errors in an included file point into it: its nodes' spans are shifted past the scenario's
//! text, one window of [`STRIDE`] bytes per include ([`Cx::include`]), so every reader and check
//! of the conversion works unchanged; [`attribute`] maps each diagnostic back to its file at the
//! end. Includes are one level deep: a definition cannot include another, so there is no cycle
//! to detect and a mock's setup is never more than two files away.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Cx, list_keys};
use crate::scenario::diagnostic::{Diagnostic, Included};
use crate::scenario::model::Span;
use crate::scenario::paths;
use crate::scenario::yaml::{self, MAX_INPUT_BYTES, Node, NodeKind, Scalar};

/// Most `include:`s one scenario (or one check of a definition) may hold: each included file may
/// be as large as a scenario, and each mock that includes it gets its own copy.
pub(crate) const MAX_INCLUDES: usize = 16;

/// Width of the offset window of one included file: past any offset in a file within the size
/// limit, so the windows of the scenario and of each include never overlap.
const STRIDE: usize = MAX_INPUT_BYTES + 1;

/// A file whose nodes are in the conversion, by the offset its spans were shifted by.
pub(super) struct IncludedSource {
    /// What diagnostics in the file refer to.
    pub(super) file: Arc<Included>,
    /// Added to every offset of the file's spans.
    pub(super) base: usize,
}

/// Add `base` to the byte offsets of every span in `node` (lines and columns stay the file's).
fn shift(node: &mut Node, base: usize) {
    node.span.start += base;
    node.span.end += base;
    match &mut node.kind {
        NodeKind::Scalar { .. } => {}
        NodeKind::Sequence(items) => items.iter_mut().for_each(|item| shift(item, base)),
        NodeKind::Mapping(entries) => {
            for (key, value) in entries {
                shift(key, base);
                shift(value, base);
            }
        }
    }
}

/// `base` merged with `patch` by JSON Merge Patch (RFC 7386): a mapping patch merges into a
/// mapping key by key (a `null` value removes the key, any other value is merged in turn, new
/// keys come last); any other patch replaces `base`. Merged mappings take the patch's span and
/// key nodes: what the scenario wrote is where its problems are shown.
pub(super) fn merge_patch(base: Option<&Node>, patch: &Node) -> Node {
    let NodeKind::Mapping(patch_entries) = &patch.kind else {
        return patch.clone();
    };
    let mut entries: Vec<(Node, Node)> = match base.map(|base| &base.kind) {
        Some(NodeKind::Mapping(entries)) => entries.clone(),
        _ => Vec::new(),
    };
    for (key, value) in patch_entries {
        let at = entries
            .iter()
            .position(|(known, _)| known.text().is_some() && known.text() == key.text());
        if value.scalar() == Some(Scalar::Null) {
            if let Some(at) = at {
                entries.remove(at);
            }
            continue;
        }
        match at {
            Some(at) => {
                let merged = merge_patch(Some(&entries[at].1), value);
                entries[at] = (key.clone(), merged);
            }
            None => entries.push((key.clone(), merge_patch(None, value))),
        }
    }
    Node {
        kind: NodeKind::Mapping(entries),
        span: patch.span,
    }
}

/// Each diagnostic located in an included file's window, moved back into that file and marked
/// with it; the others are the scenario's and stay as they are.
pub(super) fn attribute(errors: &mut [Diagnostic], includes: &[IncludedSource]) {
    for diagnostic in errors {
        let Some(span) = diagnostic.span else {
            continue;
        };
        let Some(source) = includes
            .iter()
            .find(|source| (source.base..source.base + STRIDE).contains(&span.start))
        else {
            continue;
        };
        diagnostic.span = Some(Span {
            start: span.start - source.base,
            end: span
                .end
                .saturating_sub(source.base)
                .max(span.start - source.base),
            ..span
        });
        diagnostic.included = Some(Arc::clone(&source.file));
    }
}

impl Cx<'_> {
    /// The text and path of the file holding `offset` (a span start), with the offset its spans
    /// were shifted by: an included file's, or the scenario's own.
    pub(super) fn file_at(&self, offset: usize) -> (&str, &Path, usize) {
        match self
            .includes
            .iter()
            .find(|source| (source.base..source.base + STRIDE).contains(&offset))
        {
            Some(source) => (&source.file.text, &source.file.path, source.base),
            None => (self.text, self.path, 0),
        }
    }

    /// The mock definition `include` (the value of a mock's `include:` key) names, parsed, its
    /// spans shifted into a window of their own; `None` (reported) when it cannot be used.
    pub(super) fn include(&mut self, mock: &str, include: &Node) -> Option<Node> {
        let context = format!("in mock `{mock}`");
        let name = self.string(include, "include", &context)?;
        if self.includes.len() >= MAX_INCLUDES {
            self.error(
                Diagnostic::new(
                    format!("more than {MAX_INCLUDES} includes in one scenario"),
                    Some(include.span),
                )
                .with_label(format!("include {} of at most {MAX_INCLUDES}", MAX_INCLUDES + 1))
                .with_help("each include is a file as large as a scenario: share fewer, larger definitions"),
            );
            return None;
        }
        let path = match paths::resolve_in_root(self.root, &name) {
            Ok(path) => path,
            Err(err) => {
                let diagnostic = match err {
                    paths::PathError::Missing { .. } => Diagnostic::new(
                        format!("mock definition `{name}` not found {context}"),
                        Some(include.span),
                    )
                    .with_label(format!(
                        "tried `{}`",
                        self.root.join(&name).display()
                    ))
                    .with_help(format!(
                        "`include` names a file relative to the scenario root `{}` (the folder of `reenact.toml`), such as `mocks/acme-xero.yaml`",
                        self.root.display()
                    )),
                    paths::PathError::Empty => {
                        Diagnostic::new(format!("empty `include` {context}"), Some(include.span))
                            .with_label("name a mock definition, such as `mocks/acme-xero.yaml`")
                    }
                    err => Diagnostic::new(
                        format!("cannot use `include` {context}: {err}"),
                        Some(include.span),
                    )
                    .with_label("mock definitions must stay inside the scenario root"),
                };
                self.error(diagnostic);
                return None;
            }
        };
        let bytes = match paths::read_regular(&path, MAX_INPUT_BYTES) {
            Ok(bytes) => bytes,
            Err(paths::ReadError::NotRegular { kind, .. }) => {
                self.error(
                    Diagnostic::new(
                        format!(
                            "cannot use `include` {context}: `{name}` is {kind}, not a regular file"
                        ),
                        Some(include.span),
                    )
                    .with_label("not a regular file")
                    .with_help("name a regular file (a FIFO or a device could block or never end)"),
                );
                return None;
            }
            Err(paths::ReadError::Io { source, .. }) => {
                self.error(Diagnostic::new(
                    format!("failed to read `{name}`: {source}"),
                    Some(include.span),
                ));
                return None;
            }
        };
        self.note_file(&path);
        // Provenance covers included definitions as it covers payloads (see `files.rs`).
        sha2::Digest::update(
            &mut self.hash,
            format!("\0{name}\0{}\0", bytes.len()).as_bytes(),
        );
        sha2::Digest::update(&mut self.hash, &bytes);
        let base = STRIDE * (self.includes.len() + 1);
        self.includes.push(IncludedSource {
            file: Arc::new(Included {
                path,
                text: String::from_utf8_lossy(&bytes).into_owned(),
                mock: mock.to_string(),
                at: Some(include.span),
            }),
            base,
        });
        self.definition(&bytes, base)
    }

    /// A mock definition's text parsed into its (shifted) mapping; its own `include` is an error.
    pub(super) fn definition(&mut self, bytes: &[u8], base: usize) -> Option<Node> {
        let text = String::from_utf8_lossy(bytes);
        if text
            .lines()
            .all(|line| line.trim().is_empty() || line.trim_start().starts_with('#'))
        {
            let start = Span {
                start: base,
                end: base,
                line: 1,
                col: 1,
            };
            self.error(
                Diagnostic::new("the mock definition is empty", Some(start))
                    .with_label("no mock definition here")
                    .with_help("a mock definition holds one mock's keys: start from `provider: …` and its `with:` settings, or `stubs:`"),
            );
            return None;
        }
        let mut node = match yaml::parse(bytes) {
            Ok(node) => node,
            Err(diagnostics) => {
                for mut diagnostic in diagnostics {
                    if let Some(span) = &mut diagnostic.span {
                        span.start += base;
                        span.end += base;
                    }
                    self.error(diagnostic);
                }
                return None;
            }
        };
        shift(&mut node, base);
        let NodeKind::Mapping(entries) = &mut node.kind else {
            self.error(
                Diagnostic::new(
                    format!(
                        "expected a mapping in a mock definition, found {}",
                        node.describe()
                    ),
                    Some(node.span),
                )
                .with_help(format!(
                    "a mock definition holds one mock's keys: {}",
                    list_keys(super::mocks::DEFINITION_KEYS)
                )),
            );
            return None;
        };
        if let Some(at) = entries
            .iter()
            .position(|(key, _)| key.text() == Some("include"))
        {
            let (key, _) = entries.remove(at);
            self.error(
                Diagnostic::new("a mock definition cannot include another", Some(key.span))
                    .with_label("includes are one level deep")
                    .with_help("copy what this file needs from the other, or include the other from the scenario"),
            );
            return None;
        }
        Some(node)
    }

    /// Remember that the conversion read `path` (for [`Source::files`]), once.
    ///
    /// [`Source::files`]: crate::scenario::Source::files
    pub(super) fn note_file(&mut self, path: &Path) {
        if !self.files.iter().any(|known| known == path) {
            self.files.push(PathBuf::from(path));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Node {
        yaml::parse(text.as_bytes()).unwrap()
    }

    fn json(node: &Node) -> String {
        yaml::to_json(node).unwrap().to_string()
    }

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let base = parse(
            "provider: xero\nwith:\n  tenants: [a, b]\n  currencies: [GBP]\n  webhook_key: k\nstubs: [x]\n",
        );
        let cases = [
            // Mappings merge key by key; lists replace; new keys come last.
            (
                "with: { currencies: [USD] }\nfaults: [f]\n",
                r#"{"provider":"xero","with":{"tenants":["a","b"],"currencies":["USD"],"webhook_key":"k"},"stubs":["x"],"faults":["f"]}"#,
            ),
            // `null` removes, at any depth; removing what is not there is no error.
            (
                "with: { webhook_key: null, nothing: ~ }\nstubs:\n",
                r#"{"provider":"xero","with":{"tenants":["a","b"],"currencies":["GBP"]}}"#,
            ),
            // A scalar or list replaces a mapping whole, and a mapping replaces a scalar.
            (
                "with: [1]\n",
                r#"{"provider":"xero","with":[1],"stubs":["x"]}"#,
            ),
            (
                "provider: { a: 1 }\n",
                r#"{"provider":{"a":1},"with":{"tenants":["a","b"],"currencies":["GBP"],"webhook_key":"k"},"stubs":["x"]}"#,
            ),
        ];
        for (patch, expected) in cases {
            assert_eq!(
                json(&merge_patch(Some(&base), &parse(patch))),
                expected,
                "{patch}"
            );
        }
        // With nothing to merge into, the nulls of a patch are left out too.
        assert_eq!(
            json(&merge_patch(None, &parse("a: { b: null, c: 1 }\n"))),
            r#"{"a":{"c":1}}"#
        );
    }

    #[test]
    fn diagnostics_move_back_into_their_file() {
        let file = Arc::new(Included {
            path: PathBuf::from("mocks/a.yaml"),
            text: "provider: x\n".to_string(),
            mock: "a".to_string(),
            at: None,
        });
        let includes = [IncludedSource { file, base: STRIDE }];
        let at = |start| Span {
            start,
            end: start + 3,
            line: 2,
            col: 4,
        };
        let mut errors = [
            Diagnostic::new("in the scenario", Some(at(10))),
            Diagnostic::new("in the include", Some(at(STRIDE + 10))),
            Diagnostic::new("nowhere", None),
        ];
        attribute(&mut errors, &includes);
        assert_eq!(errors[0].span, Some(at(10)));
        assert!(errors[0].included.is_none());
        assert_eq!(errors[1].span, Some(at(10)));
        assert_eq!(
            errors[1].included.as_ref().unwrap().path,
            PathBuf::from("mocks/a.yaml")
        );
        assert!(errors[2].included.is_none());
    }
}
