//! `snapshot` → [`SnapshotSpec`]: how the observation is stored as a snapshot (the JSONPaths
//! to redact).

use super::Cx;
use crate::scenario::model::SnapshotSpec;
use crate::scenario::yaml::Node;

impl Cx<'_> {
    pub(super) fn snapshot(&mut self, node: &Node) -> Option<SnapshotSpec> {
        let context = "in `snapshot`";
        let fields = self.fields(node, &["redact"], "snapshot", context)?;
        let Some(redact) = fields.get("redact") else {
            return Some(SnapshotSpec::default());
        };
        let items = self.list(redact, "redact", context)?;
        let mut paths = Some(Vec::new());
        for item in items {
            let path = self
                .string(item, "redact", context)
                .and_then(|text| self.jsonpath(item, &text));
            match (&mut paths, path) {
                (Some(paths), Some(path)) => paths.push(path),
                _ => paths = None,
            }
        }
        Some(SnapshotSpec { redact: paths? })
    }
}
