//! `snapshot` → [`SnapshotSpec`]: how the observation is stored as a snapshot (the JSONPaths
//! to redact) and the values the scenario declares secret.

use super::Cx;
use super::templates::Scope;
use crate::scenario::model::SnapshotSpec;
use crate::scenario::yaml::Node;

pub(super) const SNAPSHOT_KEYS: &[&str] = &["redact", "secrets"];

impl Cx<'_> {
    /// `snapshot`; `captures` are the names every step of the flow captures, which
    /// `snapshot.secrets` may use.
    pub(super) fn snapshot(&mut self, node: &Node, captures: &[String]) -> Option<SnapshotSpec> {
        let context = "in `snapshot`";
        let fields = self.fields(node, SNAPSHOT_KEYS, "snapshot", context)?;
        // Both lists are read before either can fail, so every problem is reported.
        let redact = match fields.get("redact") {
            Some(redact) => self.list(redact, "redact", context).and_then(|items| {
                self.each_item(items, |cx, _, item| {
                    cx.string(item, "redact", context)
                        .and_then(|text| cx.jsonpath(item, &text))
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
            redact: redact?,
            secrets: secrets?,
        })
    }
}
