//! Serialize durations as the text a scenario would use (`200ms`, `3s`).

use std::time::Duration;

use serde::Serializer;

/// Serialize a duration as text.
pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::scenario::duration::format(*d))
}
