//! The project file `reenact.toml`: named targets and defaults.
//!
//! ```toml
//! [targets."ledger-sync@1.4.2"]
//! build = ["cargo", "build", "--release", "--example", "ledger-sync"]
//! command = ["target/release/examples/ledger-sync", "--release", "1.4.2", "--port", "{{ target.port }}"]
//! env = { RUST_LOG = "info" }
//!
//! [run]
//! target = "ledger-sync@1.4.3"
//! backend = "docker"          # where mocks run; `--backend` wins
//!
//! [docker]
//! ready_within = "60s"        # how long a mock container may take to start
//! ```
//!
//! A target is a `command` (with an optional `build` run once before first use), a `url`, or a
//! container: `image` (a local image) or `image_from` (a binary reenact images after `build`,
//! as `reenact image` does), with `command` as the container's arguments and `port` the port it
//! listens on inside (default 8080):
//!
//! ```toml
//! [targets."ledger-sync@1.4.3-container"]
//! build = ["cargo", "build", "--release", "--example", "ledger-sync"]
//! image_from = "target/release/examples/ledger-sync"
//! command = ["--release", "1.4.3", "--host", "0.0.0.0", "--port", "{{ target.port }}"]
//! ```
//!
//! Relative program paths and the build run from the folder that holds `reenact.toml`.
//!
//! The file is looked up from the scenarios' folder ([`Project::discover_for`]): the folder of
//! the scenarios a command names (their common folder when there are several), then each folder
//! above it up to the file system's root, the first `reenact.toml` found winning; when none is
//! found there, from the working folder upward (where commands looked before, and where a
//! command naming no scenario looks). A `.git` folder does not stop the lookup: the scenario
//! root that bounds the files a scenario reads (`scenario::paths`) is found the same way, and
//! the two must agree. [`Project::source`] says which file was read, or where none was found.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::scenario::paths::ReadError;

/// File name of the project file.
pub const PROJECT_FILE: &str = "reenact.toml";

/// The largest `reenact.toml` read.
const MAX_PROJECT_BYTES: usize = 1024 * 1024;

/// A loaded project file.
#[derive(Debug, Clone, Default)]
pub struct Project {
    /// Folder holding `reenact.toml` (or the current folder when there is none).
    pub root: PathBuf,
    /// Which file was read, or where none was found.
    pub source: ProjectSource,
    /// Named targets.
    pub targets: BTreeMap<String, TargetDef>,
    /// Default target for `reenact run`.
    pub default_target: Option<String>,
    /// `run.backend`: where mocks run unless `--backend` says otherwise.
    pub backend: Option<BackendSetting>,
    /// `docker.ready_within`: how long a mock container may take from start to ready.
    pub docker_ready_within: Option<std::time::Duration>,
}

/// Where a [`Project`] came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectSource {
    /// This `reenact.toml` was read.
    File(PathBuf),
    /// No `reenact.toml` in these folders or any folder above them (the lookup's starts).
    NotFound(Vec<PathBuf>),
}

impl Default for ProjectSource {
    fn default() -> Self {
        ProjectSource::NotFound(Vec::new())
    }
}

impl ProjectSource {
    /// The file read, if any.
    pub fn file(&self) -> Option<&Path> {
        match self {
            ProjectSource::File(file) => Some(file),
            ProjectSource::NotFound(_) => None,
        }
    }
}

impl std::fmt::Display for ProjectSource {
    /// `` `PATH` `` for a file read; `no reenact.toml in `A` or any folder above it` otherwise.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProjectSource::File(file) => write!(f, "`{}`", file.display()),
            ProjectSource::NotFound(starts) => {
                let starts: Vec<String> = starts
                    .iter()
                    .map(|start| format!("`{}`", start.display()))
                    .collect();
                match starts.as_slice() {
                    [] => write!(f, "no {PROJECT_FILE}"),
                    [one] => write!(f, "no {PROJECT_FILE} in {one} or any folder above it"),
                    many => write!(
                        f,
                        "no {PROJECT_FILE} in {} or any folder above them",
                        many.join(" or ")
                    ),
                }
            }
        }
    }
}

/// A backend named in `reenact.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendSetting {
    /// `inprocess`.
    InProcess,
    /// `docker`.
    Docker,
}

/// The backends `run.backend` accepts.
const BACKENDS: &[&str] = &["inprocess", "docker"];

/// Bounds of `docker.ready_within`.
const READY_WITHIN_RANGE: std::ops::RangeInclusive<std::time::Duration> =
    std::time::Duration::from_secs(1)..=std::time::Duration::from_secs(600);

/// A named target.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetDef {
    /// Command to run once before the target is first used (e.g. a cargo build).
    #[serde(default)]
    pub build: Option<Vec<String>>,
    /// Program and arguments; `{{ target.port }}` gives the port to listen on. With `image` or
    /// `image_from`: the container's arguments (they replace the image's `CMD`).
    #[serde(default)]
    pub command: Option<Vec<String>>,
    /// Base URL of a running target.
    #[serde(default)]
    pub url: Option<String>,
    /// A local Docker image to run as a container target.
    #[serde(default)]
    pub image: Option<String>,
    /// A binary (relative to the project root) to image after `build`, as `reenact image` does.
    #[serde(default)]
    pub image_from: Option<PathBuf>,
    /// With `image` / `image_from`: the port the target listens on in its container.
    #[serde(default)]
    pub port: Option<u16>,
    /// Extra environment.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

impl TargetDef {
    /// Whether the target runs as a container (`image` or `image_from`).
    pub fn is_container(&self) -> bool {
        self.image.is_some() || self.image_from.is_some()
    }

    /// What is wrong with the combination of keys, if anything.
    fn problem(&self) -> Option<&'static str> {
        let container = self.is_container();
        match (&self.command, &self.url) {
            _ if self.image.is_some() && self.image_from.is_some() => {
                Some("has both `image` and `image_from`: keep one")
            }
            (_, Some(_)) if container => {
                Some("has `url` and an image: keep one (`url` is for a target already running)")
            }
            (Some(_), Some(_)) => Some("has both `command` and `url`: keep one"),
            (None, None) if !container => Some("needs `command`, `url`, `image` or `image_from`"),
            (Some(command), None) if command.is_empty() => Some("has an empty `command`"),
            _ if self.port.is_some() && !container => {
                Some("has `port`, which is only for `image` / `image_from` targets")
            }
            _ => None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProject {
    #[serde(default)]
    targets: BTreeMap<String, TargetDef>,
    #[serde(default)]
    run: RawRun,
    #[serde(default)]
    docker: RawDocker,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRun {
    target: Option<String>,
    backend: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDocker {
    ready_within: Option<String>,
}

/// Why the project file is unusable.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    /// Could not read it.
    #[error("failed to read `{}`", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Not valid TOML or unknown keys.
    #[error("invalid `{}`: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong (with line and column).
        message: String,
    },
}

impl Project {
    /// Find `reenact.toml` in `start` or its ancestors and load it; no file gives an empty
    /// project rooted at `start`.
    pub fn discover(start: &Path) -> Result<Project, ProjectError> {
        match find(start) {
            Some(file) => Project::load(&file),
            None => Ok(Project {
                root: start.to_path_buf(),
                source: ProjectSource::NotFound(vec![start.to_path_buf()]),
                ..Project::default()
            }),
        }
    }

    /// Find and load the `reenact.toml` of the scenarios `paths` name (files or folders,
    /// relative to `cwd`): the first in their common folder or a folder above it, else the first
    /// in `cwd` or above (see the module's documentation). No file gives an empty project
    /// rooted at `cwd`. No path looks from `cwd`, as [`Project::discover`] does.
    pub fn discover_for(paths: &[PathBuf], cwd: &Path) -> Result<Project, ProjectError> {
        let Some(start) = common_folder(paths, cwd) else {
            return Project::discover(cwd);
        };
        if let Some(file) = find(&start) {
            return Project::load(&file);
        }
        let mut project = Project::discover(cwd)?;
        if let ProjectSource::NotFound(starts) = &mut project.source {
            if start.starts_with(cwd) {
                // The lookup from below the working folder passed it already.
                *starts = vec![start];
            } else {
                starts.insert(0, start);
            }
        }
        Ok(project)
    }

    /// Load a project file.
    pub fn load(path: &Path) -> Result<Project, ProjectError> {
        let invalid = |message: String| ProjectError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let bytes = crate::scenario::paths::read_regular(path, MAX_PROJECT_BYTES).map_err(
            |err| match err {
                ReadError::Io { path, source } => ProjectError::Io { path, source },
                not_regular @ ReadError::NotRegular { .. } => invalid(not_regular.to_string()),
            },
        )?;
        if bytes.len() > MAX_PROJECT_BYTES {
            return Err(invalid(format!(
                "it is larger than {} KiB; a project file names targets and settings only",
                MAX_PROJECT_BYTES / 1024
            )));
        }
        let text = String::from_utf8(bytes).map_err(|e| {
            invalid(format!(
                "not UTF-8 text (byte {})",
                e.utf8_error().valid_up_to()
            ))
        })?;
        let raw: RawProject = toml::from_str(&text).map_err(|e| invalid(e.to_string()))?;
        for (name, def) in &raw.targets {
            if let Some(problem) = def.problem() {
                return Err(invalid(format!("target `{name}` {problem}")));
            }
        }
        if let Some(default) = &raw.run.target
            && !raw.targets.contains_key(default)
        {
            return Err(invalid(format!(
                "`run.target` names `{default}`, which is not under `[targets]`"
            )));
        }
        let backend = match raw.run.backend.as_deref() {
            None => None,
            Some("inprocess") => Some(BackendSetting::InProcess),
            Some("docker") => Some(BackendSetting::Docker),
            Some(other) => {
                let hint = crate::scenario::suggest::did_you_mean(other, BACKENDS)
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                return Err(invalid(format!(
                    "`run.backend` is `{other}`, expected `inprocess` or `docker`{hint}"
                )));
            }
        };
        let docker_ready_within = match raw.docker.ready_within.as_deref() {
            None => None,
            Some(text) => {
                let within = crate::scenario::duration::parse(text).map_err(|e| {
                    invalid(format!(
                        "`docker.ready_within`: {e}; write a duration such as `60s` or `2m`"
                    ))
                })?;
                if !READY_WITHIN_RANGE.contains(&within) {
                    return Err(invalid(format!(
                        "`docker.ready_within` is `{text}`, expected between `1s` and `10m`"
                    )));
                }
                Some(within)
            }
        };
        Ok(Project {
            root: path
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from(".")),
            source: ProjectSource::File(path.to_path_buf()),
            targets: raw.targets,
            default_target: raw.run.target,
            backend,
            docker_ready_within,
        })
    }
}

/// The first `reenact.toml` (a regular file, symlinks followed) in `start` or a folder above it.
fn find(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|folder| folder.join(PROJECT_FILE))
        .find(|candidate| candidate.is_file())
}

/// The deepest folder holding every one of `paths` (absolute, `.` and `..` resolved
/// lexically): a folder holds itself, a file (or a path that does not exist) is held by its
/// parent. `None` for no path.
fn common_folder(paths: &[PathBuf], cwd: &Path) -> Option<PathBuf> {
    let mut common: Option<PathBuf> = None;
    for path in paths {
        let absolute = lexical(&cwd.join(path));
        let folder = if absolute.is_dir() {
            absolute
        } else {
            absolute
                .parent()
                .map_or_else(|| absolute.clone(), Path::to_path_buf)
        };
        common = Some(match common {
            None => folder,
            Some(common) => common
                .components()
                .zip(folder.components())
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| a)
                .collect(),
        });
    }
    common
}

/// `path` with `.` removed and `..` resolved lexically (never above the root).
fn lexical(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut parts: Vec<Component<'_>> = Vec::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if matches!(parts.last(), Some(Component::Normal(_))) {
                    parts.pop();
                }
            }
            other => parts.push(other),
        }
    }
    parts.iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lookup_starts_at_the_scenarios_common_folder() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let project = root.join("project");
        let scenarios = project.join("scenarios");
        let elsewhere = root.join("elsewhere");
        for folder in [&scenarios.join("sso"), &elsewhere] {
            std::fs::create_dir_all(folder).unwrap();
        }
        std::fs::write(
            project.join(PROJECT_FILE),
            "[targets.app]\nurl = \"http://x\"\n",
        )
        .unwrap();
        let toml = project.join(PROJECT_FILE);
        let paths = |names: &[&str]| names.iter().map(PathBuf::from).collect::<Vec<_>>();
        // From elsewhere, naming the scenarios by a relative path, a file, a folder, or several.
        for named in [
            paths(&["../project/scenarios/sso/a.yaml"]),
            paths(&["../project/scenarios"]),
            paths(&["../project/scenarios/sso", "../project/scenarios/b.yaml"]),
        ] {
            let found = Project::discover_for(&named, &elsewhere).unwrap();
            assert_eq!(found.source, ProjectSource::File(toml.clone()), "{named:?}");
            assert_eq!(found.root, project);
            assert!(found.targets.contains_key("app"));
        }
        // No scenario named: the working folder's, as before.
        let none = Project::discover_for(&[], &elsewhere).unwrap();
        assert_eq!(
            none.source,
            ProjectSource::NotFound(vec![elsewhere.clone()])
        );
        assert_eq!(none.root, elsewhere);
        // Scenarios outside any project, run from inside one: the working folder's file.
        let outside =
            Project::discover_for(&paths(&["../../elsewhere/x.yaml"]), &scenarios).unwrap();
        assert_eq!(outside.source, ProjectSource::File(toml.clone()));
        // Found nowhere: both starts are named.
        let lost = Project::discover_for(&paths(&["x.yaml"]), &elsewhere).unwrap();
        assert_eq!(
            lost.source,
            ProjectSource::NotFound(vec![elsewhere.clone()])
        );
        std::fs::create_dir_all(root.join("third")).unwrap();
        let lost = Project::discover_for(&paths(&["../third/x.yaml"]), &elsewhere).unwrap();
        assert_eq!(
            lost.source.to_string(),
            format!(
                "no reenact.toml in `{}` or `{}` or any folder above them",
                root.join("third").display(),
                elsewhere.display()
            )
        );
    }

    fn load_text(text: &str) -> Result<Project, ProjectError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(PROJECT_FILE);
        std::fs::write(&path, text).unwrap();
        Project::load(&path)
    }

    #[test]
    fn loads_targets_and_default() {
        let project = load_text(
            r#"
[targets."app@1"]
command = ["bin/app", "--port", "{{ target.port }}"]
[targets.staging]
url = "http://127.0.0.1:9"
[targets."app@1-container"]
image_from = "bin/app"
command = ["--port", "{{ target.port }}"]
port = 9000
[run]
target = "app@1"
"#,
        )
        .unwrap();
        assert_eq!(project.default_target.as_deref(), Some("app@1"));
        assert_eq!(project.targets.len(), 3);
        let container = &project.targets["app@1-container"];
        assert!(container.is_container());
        assert_eq!(container.port, Some(9000));
        assert!(!project.targets["app@1"].is_container());
    }

    #[test]
    fn reads_backend_and_docker_settings() {
        let project =
            load_text("[run]\nbackend = \"docker\"\n[docker]\nready_within = \"60s\"\n").unwrap();
        assert_eq!(project.backend, Some(BackendSetting::Docker));
        assert_eq!(
            project.docker_ready_within,
            Some(std::time::Duration::from_secs(60))
        );
        let empty = load_text("").unwrap();
        assert_eq!((empty.backend, empty.docker_ready_within), (None, None));
    }

    #[test]
    fn a_project_file_is_read_within_limits() {
        // Over the limit: refused by size, without reading all of it.
        let huge = format!("# {}\n", "x".repeat(MAX_PROJECT_BYTES));
        let err = load_text(&huge).unwrap_err().to_string();
        assert!(err.contains("larger than 1024 KiB"), "{err}");
        let err = load_text_bytes(b"[run]\ntarget = \"\xff\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not UTF-8 text (byte 16)"), "{err}");
        // A FIFO named reenact.toml would block a plain read until a writer came.
        #[cfg(unix)]
        {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(PROJECT_FILE);
            let c_path = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
            // SAFETY: a valid NUL-terminated path; mkfifo only creates a file.
            assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
            let err = Project::load(&path).unwrap_err().to_string();
            assert!(
                err.contains("is a FIFO (named pipe), not a regular file"),
                "{err}"
            );
        }
    }

    fn load_text_bytes(bytes: &[u8]) -> Result<Project, ProjectError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(PROJECT_FILE);
        std::fs::write(&path, bytes).unwrap();
        Project::load(&path)
    }

    #[test]
    fn rejects_bad_files() {
        let cases = [
            ("[targets.a]\ncomand = [\"x\"]", "unknown field `comand`"),
            ("[targets.a]\ncommand = [\"x\"]\nurl = \"http://x\"", "both"),
            (
                "[targets.a]\n",
                "needs `command`, `url`, `image` or `image_from`",
            ),
            (
                "[targets.a]\nimage = \"x\"\nurl = \"http://x\"",
                "has `url` and an image",
            ),
            (
                "[targets.a]\nimage = \"x\"\nimage_from = \"bin/x\"",
                "both `image` and `image_from`",
            ),
            (
                "[targets.a]\ncommand = [\"x\"]\nport = 9000",
                "only for `image`",
            ),
            ("[run]\ntarget = \"nope\"", "not under `[targets]`"),
            (
                "[run]\nbackend = \"dokcer\"",
                "expected `inprocess` or `docker`; did you mean `docker`?",
            ),
            ("[docker]\nready_within = \"60\"", "`docker.ready_within`:"),
            (
                "[docker]\nready_within = \"1h\"",
                "expected between `1s` and `10m`",
            ),
            ("[docker]\nready = \"60s\"", "unknown field `ready`"),
        ];
        for (text, needle) in cases {
            let err = load_text(text).unwrap_err().to_string();
            assert!(err.contains(needle), "{text}: {err}");
        }
    }
}
