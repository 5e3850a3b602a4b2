//! Files a scenario names (`body_file`, `json_file`): resolved inside the scenario root, read
//! once at load time, and parsed as JSON or text, each failure reported at the scalar naming the
//! file.

use serde_json::Value;

use super::Cx;
use crate::scenario::diagnostic::Diagnostic;
use crate::scenario::paths;
use crate::scenario::yaml::Node;

/// A serde_json error without its " at line L column C" suffix (given separately).
fn json_error_text(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

impl Cx<'_> {
    /// Read a file the scenario names, inside the root.
    pub(super) fn read_file(
        &mut self,
        node: &Node,
        key: &str,
        context: &str,
    ) -> Option<(String, Vec<u8>)> {
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

    pub(super) fn json_file(&mut self, node: &Node, key: &str, context: &str) -> Option<Value> {
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

    pub(super) fn text_file(
        &mut self,
        node: &Node,
        key: &str,
        context: &str,
    ) -> Option<(String, String)> {
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
}
