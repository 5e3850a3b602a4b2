//! The scenario format: a YAML file turned once into a validated [`Scenario`].
//!
//! Loading goes YAML text → spanned node tree ([`yaml`]) → validated model ([`model`]), collecting
//! every problem in the file as a located [`Diagnostic`] instead of stopping at the first.

mod convert;
pub mod diagnostic;
pub mod duration;
pub mod model;
pub mod paths;
pub mod schema;
pub mod suggest;
pub mod template;
pub mod yaml;

use std::path::{Path, PathBuf};

pub use diagnostic::Diagnostic;
pub use model::*;

/// Why a scenario file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("failed to read `{}`", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file was read but is not a valid scenario; every problem found is listed.
    #[error("invalid scenario `{}`: {} error(s)", path.display(), diagnostics.len())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Its text (lossy UTF-8), for rendering source lines.
        source_text: String,
        /// Every problem found, in file order.
        diagnostics: Vec<Diagnostic>,
    },
}

/// Load and validate one scenario file. Files it names resolve relative to it and must stay
/// inside `root` (see [`paths::scenario_root`]).
pub fn load(path: &Path) -> Result<Scenario, LoadError> {
    let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let root = paths::scenario_root(path);
    load_bytes(path, &root, &bytes)
}

/// Load and validate scenario text already read from `path`.
pub fn load_bytes(path: &Path, root: &Path, bytes: &[u8]) -> Result<Scenario, LoadError> {
    convert::convert(path, root, bytes)
}
