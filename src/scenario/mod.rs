//! The scenario format: a YAML file turned once into a validated [`Scenario`].
//!
//! Loading goes YAML text → spanned node tree (`yaml`) → validated model ([`model`]), collecting
//! every problem in the file as a located [`Diagnostic`] instead of stopping at the first.

mod convert;
mod declared;
pub mod diagnostic;
pub(crate) mod duration;
pub mod model;
pub(crate) mod paths;
pub(crate) mod schema;
pub(crate) mod suggest;
pub(crate) mod template;
pub(crate) mod yaml;

use std::path::{Path, PathBuf};

pub use diagnostic::Diagnostic;
pub use model::*;
pub use template::{Template, TemplateSyntaxError};
pub use yaml::MAX_INPUT_BYTES;

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
/// inside `root` (see `paths::scenario_root`).
pub fn load(path: &Path) -> Result<Scenario, LoadError> {
    let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let root = paths::scenario_root(path);
    load_bytes(path, &root, &bytes)
}

/// Load and validate scenario text already read from `path`; files it names resolve relative to
/// `path` and must stay inside `root`.
///
/// Every problem in the text is reported at once, located, as the command shows them:
///
/// ```
/// use std::path::Path;
///
/// use reenact::scenario::{LoadError, diagnostic, load_bytes};
///
/// let good = b"id: hello\ntitle: Hello\nflow: [{ request: { method: GET, path: /hello } }]\n";
/// let scenario = load_bytes(Path::new("hello.yaml"), Path::new("."), good).unwrap();
/// assert_eq!(scenario.id, "hello");
/// assert_eq!(scenario.flow.len(), 1);
///
/// let typo = b"id: hello\ntitle: Hello\nflow: [{ requst: { method: GET, path: /hello } }]\n";
/// let Err(LoadError::Invalid { path, source_text, diagnostics }) =
///     load_bytes(Path::new("hello.yaml"), Path::new("."), typo)
/// else {
///     panic!("a typo is an error");
/// };
/// let shown = diagnostic::render(&path, &source_text, &diagnostics, false);
/// assert!(shown.contains("unknown field `requst`"), "{shown}");
/// assert!(shown.contains("--> hello.yaml:3:"), "{shown}");
/// assert!(shown.contains("did you mean `request`?"), "{shown}");
/// ```
pub fn load_bytes(path: &Path, root: &Path, bytes: &[u8]) -> Result<Scenario, LoadError> {
    convert::convert(path, root, bytes)
}
