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

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// File name of the project file.
pub const PROJECT_FILE: &str = "reenact.toml";

/// A loaded project file.
#[derive(Debug, Clone, Default)]
pub struct Project {
    /// Folder holding `reenact.toml` (or the current folder when there is none).
    pub root: PathBuf,
    /// Named targets.
    pub targets: BTreeMap<String, TargetDef>,
    /// Default target for `reenact run`.
    pub default_target: Option<String>,
    /// `run.backend`: where mocks run unless `--backend` says otherwise.
    pub backend: Option<BackendSetting>,
    /// `docker.ready_within`: how long a mock container may take from start to ready.
    pub docker_ready_within: Option<std::time::Duration>,
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
        let mut dir = Some(start);
        while let Some(current) = dir {
            let candidate = current.join(PROJECT_FILE);
            if candidate.is_file() {
                return Project::load(&candidate);
            }
            dir = current.parent();
        }
        Ok(Project {
            root: start.to_path_buf(),
            ..Project::default()
        })
    }

    /// Load a project file.
    pub fn load(path: &Path) -> Result<Project, ProjectError> {
        let text = std::fs::read_to_string(path).map_err(|source| ProjectError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let invalid = |message: String| ProjectError::Invalid {
            path: path.to_path_buf(),
            message,
        };
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
            targets: raw.targets,
            default_target: raw.run.target,
            backend,
            docker_ready_within,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
