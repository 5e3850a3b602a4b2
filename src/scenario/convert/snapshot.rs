//! `snapshot` → [`SnapshotSpec`]: how the observation is stored as a snapshot (the JSONPaths
//! to redact).

use super::Cx;
use crate::scenario::model::SnapshotSpec;
use crate::scenario::yaml::Node;

pub(super) const SNAPSHOT_KEYS: &[&str] = &["redact"];

impl Cx<'_> {
    pub(super) fn snapshot(&mut self, node: &Node) -> Option<SnapshotSpec> {
        let context = "in `snapshot`";
        let fields = self.fields(node, SNAPSHOT_KEYS, "snapshot", context)?;
        let Some(redact) = fields.get("redact") else {
            return Some(SnapshotSpec::default());
        };
        let items = self.list(redact, "redact", context)?;
        let paths = self.each_item(items, |cx, _, item| {
            cx.string(item, "redact", context)
                .and_then(|text| cx.jsonpath(item, &text))
        });
        Some(SnapshotSpec { redact: paths? })
    }
}
