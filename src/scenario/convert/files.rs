//! Files a scenario names (`body_file`, `json_file`): resolved inside the scenario root (relative
//! to the file that names them: the scenario, or a mock definition it includes), read
//! once at load time (regular files only, within [`paths::MAX_FILE_BYTES`] each and
//! [`paths::MAX_FILES_TOTAL_BYTES`] in all), and parsed as JSON or text, each failure reported at
//! the scalar naming the file.

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
        // A file named in an included mock definition is relative to that definition.
        let (_, named_in, _) = self.file_at(node.span.start);
        let resolved = match paths::resolve(named_in, self.root, &name) {
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
        let problem = match paths::read_regular(&resolved, paths::MAX_FILE_BYTES) {
            Ok(bytes) if bytes.len() > paths::MAX_FILE_BYTES => Diagnostic::new(
                format!(
                    "`{name}` is larger than the limit of {} bytes (8 MiB)",
                    paths::MAX_FILE_BYTES
                ),
                Some(node.span),
            )
            .with_label("file too large"),
            Ok(bytes) if self.file_bytes + bytes.len() > paths::MAX_FILES_TOTAL_BYTES => {
                Diagnostic::new(
                    format!(
                        "the files this scenario names add up to more than {} bytes (64 MiB)",
                        paths::MAX_FILES_TOTAL_BYTES
                    ),
                    Some(node.span),
                )
                .with_label("the limit is crossed here")
                .with_help("each time a file is named counts: share one stub instead of repeating a large file")
            }
            Ok(bytes) => {
                self.file_bytes += bytes.len();
                self.note_file(&resolved);
                // Name and length first, so two files cannot hash like one.
                sha2::Digest::update(
                    &mut self.hash,
                    format!("\0{name}\0{}\0", bytes.len()).as_bytes(),
                );
                sha2::Digest::update(&mut self.hash, &bytes);
                return Some((name, bytes));
            }
            Err(paths::ReadError::NotRegular { kind, .. }) => Diagnostic::new(
                format!("cannot use `{key}` {context}: `{name}` is {kind}, not a regular file"),
                Some(node.span),
            )
            .with_label("not a regular file")
            .with_help("name a regular file (a FIFO or a device could block or never end)"),
            Err(paths::ReadError::Io { source, .. }) => Diagnostic::new(
                format!("failed to read `{name}`: {source}"),
                Some(node.span),
            ),
        };
        self.error(problem);
        None
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
