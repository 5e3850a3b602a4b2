//! The scenario format: a YAML file turned once into a validated [`Scenario`].
//!
//! Loading goes YAML text → spanned node tree (`yaml`) → validated model ([`model`]), collecting
//! every problem in the file as a located [`Diagnostic`] instead of stopping at the first.

mod convert;
mod declared;
pub mod diagnostic;
pub(crate) mod duration;
pub(crate) mod expression;
pub mod model;
pub(crate) mod paths;
pub(crate) mod schema;
pub(crate) mod select;
pub(crate) mod suggest;
pub(crate) mod template;
pub(crate) mod yaml;

use std::path::{Path, PathBuf};

pub use diagnostic::Diagnostic;
pub use model::*;
pub use template::{Template, TemplateSyntaxError};
pub use yaml::MAX_INPUT_BYTES;

/// The names `provider:` accepts (for tests of modules that must know every provider).
#[cfg(test)]
pub(crate) use convert::PROVIDERS;

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
///
/// Only a regular file is read (a FIFO, a device or a socket is an error located at the file's
/// start, and is never opened for reading), and at most one byte past [`MAX_INPUT_BYTES`].
///
/// A mock definition (a file in the `mocks/` folder of the project root, see
/// [`is_mock_definition`]) is not a scenario: loading one is an error saying so.
pub fn load(path: &Path) -> Result<Scenario, LoadError> {
    if paths::is_mock_definition(path) {
        return Err(LoadError::Invalid {
            path: path.to_path_buf(),
            source_text: String::new(),
            diagnostics: vec![
                Diagnostic::new(
                    format!("`{}` is a mock definition, not a scenario", path.display()),
                    Some(file_start()),
                )
                .with_label("files in the project's `mocks/` folder are mock definitions")
                .with_help(format!(
                    "a scenario includes it from a mock (`include: {}`); `reenact check` checks it on its own",
                    paths::name_in_root(path).display()
                )),
            ],
        });
    }
    let bytes = match paths::read_regular(path, MAX_INPUT_BYTES) {
        Ok(bytes) => bytes,
        Err(paths::ReadError::Io { path, source }) => return Err(LoadError::Io { path, source }),
        Err(err @ paths::ReadError::NotRegular { .. }) => {
            let start = model::Span {
                start: 0,
                end: 0,
                line: 1,
                col: 1,
            };
            return Err(LoadError::Invalid {
                path: path.to_path_buf(),
                source_text: String::new(),
                diagnostics: vec![
                    Diagnostic::new(err.to_string(), Some(start))
                        .with_help("a scenario is a YAML file: name a file, or a folder of them"),
                ],
            });
        }
    };
    let root = paths::scenario_root(path);
    load_bytes(path, &root, &bytes)
}

/// Whether `path` is a mock definition rather than a scenario: a file inside the `mocks/` folder
/// of its project root (the folder of the nearest `reenact.toml`). Scenarios include mock
/// definitions (`include: mocks/acme-xero.yaml`); [`load_mock_definition`] checks one alone.
pub fn is_mock_definition(path: &Path) -> bool {
    paths::is_mock_definition(path)
}

/// Load and check the mock definition `path` on its own, as a scenario that includes it and
/// overrides nothing would; the mock is named after the file. Files it names resolve relative to
/// it, inside its project root; it is read as a scenario is (regular files only, within
/// [`MAX_INPUT_BYTES`]).
pub fn load_mock_definition(path: &Path) -> Result<MockSpec, LoadError> {
    let bytes = match paths::read_regular(path, MAX_INPUT_BYTES) {
        Ok(bytes) => bytes,
        Err(paths::ReadError::Io { path, source }) => return Err(LoadError::Io { path, source }),
        Err(err @ paths::ReadError::NotRegular { .. }) => {
            return Err(LoadError::Invalid {
                path: path.to_path_buf(),
                source_text: String::new(),
                diagnostics: vec![
                    Diagnostic::new(err.to_string(), Some(file_start()))
                        .with_help("a mock definition is a YAML file"),
                ],
            });
        }
    };
    let root = paths::scenario_root(path);
    convert::convert_definition(path, &root, &bytes)
}

/// The position of a file's first character.
fn file_start() -> model::Span {
    model::Span {
        start: 0,
        end: 0,
        line: 1,
        col: 1,
    }
}

/// The scenarios among `scenarios` (in the order they were loaded) whose id an earlier one
/// already has: one error each, located at its `id:` value, whose help says where the first one
/// is. Ids name snapshot files, so each must be unique in a suite.
pub(crate) fn duplicate_ids(scenarios: &[&Scenario]) -> Vec<LoadError> {
    let mut first: std::collections::HashMap<&str, &Scenario> = std::collections::HashMap::new();
    let mut errors = Vec::new();
    for &scenario in scenarios {
        let Some(earlier) = first.get(scenario.id.as_str()) else {
            first.insert(&scenario.id, scenario);
            continue;
        };
        let (source_text, span) = id_location(&scenario.source.path);
        let (_, first_span) = id_location(&earlier.source.path);
        let diagnostic = Diagnostic::new(format!("duplicate id `{}`", scenario.id), Some(span))
            .with_label(format!(
                "also the id of `{}`",
                earlier.source.path.display()
            ))
            .with_help(format!(
                "the first `{}` is at {}:{}:{}; ids name snapshot files, so each must be unique",
                scenario.id,
                earlier.source.path.display(),
                first_span.line,
                first_span.col
            ));
        errors.push(LoadError::Invalid {
            path: scenario.source.path.clone(),
            source_text,
            diagnostics: vec![diagnostic],
        });
    }
    errors
}

/// The text of the scenario file `path` and where its `id:` value is (its start when the file
/// no longer reads as a scenario).
fn id_location(path: &Path) -> (String, model::Span) {
    let start = model::Span {
        start: 0,
        end: 0,
        line: 1,
        col: 1,
    };
    let Ok(bytes) = paths::read_regular(path, MAX_INPUT_BYTES) else {
        return (String::new(), start);
    };
    let span = yaml::parse(&bytes).ok().and_then(|node| match node.kind {
        yaml::NodeKind::Mapping(entries) => entries
            .into_iter()
            .find(|(key, _)| key.text() == Some("id"))
            .map(|(_, value)| value.span),
        _ => None,
    });
    (
        String::from_utf8_lossy(&bytes).into_owned(),
        span.unwrap_or(start),
    )
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
