//! The labels reenact puts on every container, network and image it creates, and the filters
//! that find them again. `reenact clean` removes only objects carrying [`MANAGED`]: the Docker
//! engine may be shared with other work, so nothing is ever found by name or by another tool's
//! labels.

use std::collections::HashMap;

/// Present (`true`) on every object reenact creates.
pub const MANAGED: &str = "reenact.managed";
/// The run an object belongs to (containers and networks).
pub const RUN: &str = "reenact.run";
/// The process id of the reenact process that created the object.
pub const PID: &str = "reenact.pid";
/// Unix time (seconds) when the object was created.
pub const STARTED: &str = "reenact.started";
/// The mock a container serves.
pub const MOCK: &str = "reenact.mock";
/// What the object is: `mock`, `target`, `network`, `mock-image` or `target-image`.
pub const KIND: &str = "reenact.kind";
/// On images: the content hash of what the image was built from (see
/// [`crate::backend::image`]).
pub const CONTENT: &str = "reenact.content";

/// The labels of one object of run `run`.
pub fn for_run(run: &str, kind: &str) -> HashMap<String, String> {
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    HashMap::from([
        (MANAGED.to_owned(), "true".to_owned()),
        (RUN.to_owned(), run.to_owned()),
        (PID.to_owned(), std::process::id().to_string()),
        (STARTED.to_owned(), started.to_string()),
        (KIND.to_owned(), kind.to_owned()),
    ])
}

/// A Docker list filter selecting objects that carry `label=value`.
pub fn filter(label: &str, value: &str) -> HashMap<String, Vec<String>> {
    HashMap::from([("label".to_owned(), vec![format!("{label}={value}")])])
}

/// A Docker list filter selecting every object reenact created.
pub fn managed_filter() -> HashMap<String, Vec<String>> {
    filter(MANAGED, "true")
}
