//! Escalation packages (`reenact package`): everything Engineering needs about one reproduction
//! in one folder or one `.tar.gz`: the scenario and the files it reads, a README (ticket,
//! customers, severity, outcome, the command that reproduces it), the failing exchange, the
//! observation, logs, the run report and versions. See `docs/package.md`.
//!
//! [`write`] holds the files and writes them atomically, redacting each as it is added;
//! [`contents`] says what each file says.

pub(crate) mod contents;
pub(crate) mod write;

pub(crate) use write::{Package, PackageError};
