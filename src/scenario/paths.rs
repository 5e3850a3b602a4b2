//! Resolution of files a scenario names: relative to the scenario, never outside its root.
//!
//! [`scenario_root`] finds the folder a scenario's files must stay inside; [`resolve`] turns a
//! name written in the scenario into a path, rejecting absolute names, `..` that leaves the root
//! and symlinks that point out of it, and returns a [`PathError`] saying which.

use std::io;
use std::path::{Component, Path, PathBuf};

/// The project marker file that makes a folder a scenario root.
const PROJECT_FILE: &str = "reenact.toml";

/// Why a file named by a scenario cannot be used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PathError {
    /// Nothing was named.
    #[error("empty file name")]
    Empty,
    /// The name is absolute.
    #[error("`{}` is an absolute path: name files relative to the scenario", name.display())]
    Absolute {
        /// The name as written.
        name: PathBuf,
    },
    /// The name leaves the scenario root through `..`.
    #[error("`{}` leaves the scenario root `{}`", name.display(), root.display())]
    OutsideRoot {
        /// The name as written.
        name: PathBuf,
        /// The scenario root.
        root: PathBuf,
    },
    /// The name is (or passes through) a symlink that points outside the scenario root.
    #[error("`{}` is a symlink that points outside the scenario root `{}`", name.display(), root.display())]
    SymlinkOutsideRoot {
        /// The name as written.
        name: PathBuf,
        /// The scenario root.
        root: PathBuf,
    },
    /// The file does not exist.
    #[error("`{}` does not exist", name.display())]
    Missing {
        /// The name as written.
        name: PathBuf,
    },
    /// The file or the root could not be inspected.
    #[error("failed to inspect `{}`", name.display())]
    Io {
        /// The name as written.
        name: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

/// The folder a scenario's files must stay inside: the nearest ancestor folder holding a
/// `reenact.toml`, else the scenario's own folder.
///
/// The result stays relative when the scenario path is relative and the marker is found below
/// the current directory, so paths in messages stay short.
pub(crate) fn scenario_root(scenario: &Path) -> PathBuf {
    let dir = parent_dir(scenario);
    for ancestor in dir.ancestors() {
        if ancestor.join(PROJECT_FILE).is_file() {
            return non_empty(ancestor);
        }
    }
    if dir.is_relative()
        && let Ok(cwd) = std::env::current_dir()
    {
        for ancestor in cwd.ancestors().skip(1) {
            if ancestor.join(PROJECT_FILE).is_file() {
                return ancestor.to_path_buf();
            }
        }
    }
    dir
}

/// Resolve `name`, written in `scenario_file`, to a file inside `root`.
///
/// `name` is taken relative to the scenario's folder. Absolute names, names whose normalized form
/// leaves `root`, names that resolve through a symlink to somewhere outside `root`, and missing
/// files are errors.
pub(crate) fn resolve(scenario_file: &Path, root: &Path, name: &str) -> Result<PathBuf, PathError> {
    if name.is_empty() {
        return Err(PathError::Empty);
    }
    let written = PathBuf::from(name);
    if written.has_root() || written.is_absolute() {
        return Err(PathError::Absolute { name: written });
    }
    let joined = normalize(&parent_dir(scenario_file).join(&written));
    // Compare absolute forms: a relative root such as `.` is not a textual prefix of
    // `scenarios/payloads/x.json`, yet contains it.
    let absolute = |path: &Path| {
        std::path::absolute(path)
            .map(|p| normalize(&p))
            .map_err(|source| PathError::Io {
                name: written.clone(),
                source,
            })
    };
    let inside = absolute(root)?;
    let candidate = absolute(&joined)?;
    if !candidate.starts_with(&inside) {
        return Err(PathError::OutsideRoot {
            name: written,
            root: root.to_path_buf(),
        });
    }
    if std::fs::symlink_metadata(&joined).is_err() {
        return Err(PathError::Missing { name: written });
    }
    let real = match std::fs::canonicalize(&joined) {
        Ok(real) => real,
        // A dangling symlink: it exists but its target does not.
        Err(source) if source.kind() == io::ErrorKind::NotFound => {
            return Err(PathError::Missing { name: written });
        }
        Err(source) => {
            return Err(PathError::Io {
                name: written,
                source,
            });
        }
    };
    let real_root = std::fs::canonicalize(root).map_err(|source| PathError::Io {
        name: written.clone(),
        source,
    })?;
    if !real.starts_with(&real_root) {
        return Err(PathError::SymlinkOutsideRoot {
            name: written,
            root: root.to_path_buf(),
        });
    }
    Ok(joined)
}

/// The folder of a file path, `.` when it has none.
fn parent_dir(file: &Path) -> PathBuf {
    non_empty(file.parent().unwrap_or(Path::new("")))
}

fn non_empty(dir: &Path) -> PathBuf {
    if dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        dir.to_path_buf()
    }
}

/// Remove `.` and resolve `..` lexically. A `..` that climbs above the start is kept, so the
/// result then no longer starts with the root it is compared with.
fn normalize(path: &Path) -> PathBuf {
    let mut parts: Vec<Component<'_>> = Vec::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match parts.last() {
                Some(Component::Normal(_)) => {
                    parts.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => parts.push(component),
            },
            other => parts.push(other),
        }
    }
    if parts.is_empty() {
        return PathBuf::from(".");
    }
    parts.iter().collect()
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    fn project() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("scenarios/payloads")).unwrap();
        fs::write(dir.path().join("scenarios/payloads/a.json"), "{}").unwrap();
        fs::write(dir.path().join("scenarios/s.yaml"), "").unwrap();
        dir
    }

    /// Regression: `reenact validate scenarios/` from the project root gives the relative root
    /// `.`, which is no textual prefix of `scenarios/payloads/…` yet contains it. (Unit tests run
    /// in the package root, which holds `reenact.toml` and the demo scenarios.)
    #[test]
    fn relative_root_dot_contains_relative_scenario_files() {
        let scenario = Path::new("scenarios/accounting-429-retry-after-ignored.yaml");
        assert_eq!(scenario_root(scenario), PathBuf::from("."));
        let resolved = resolve(
            scenario,
            Path::new("."),
            "payloads/expense-hotel-harrogate.json",
        )
        .expect("a payload beside the scenario is inside the root");
        assert_eq!(
            resolved,
            PathBuf::from("scenarios/payloads/expense-hotel-harrogate.json")
        );
        assert!(matches!(
            resolve(scenario, Path::new("."), "../../etc/passwd"),
            Err(PathError::OutsideRoot { .. })
        ));
    }

    #[test]
    fn normalizes_lexically() {
        let cases = [
            ("a/./b/../c", "a/c"),
            ("./a", "a"),
            ("a/..", "."),
            ("../a", "../a"),
            ("a/../../b", "../b"),
            ("/x/../y", "/y"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                normalize(Path::new(input)),
                PathBuf::from(expected),
                "{input}"
            );
        }
    }

    #[test]
    fn root_is_the_nearest_folder_with_reenact_toml() {
        let dir = project();
        let scenario = dir.path().join("scenarios/s.yaml");
        assert_eq!(scenario_root(&scenario), dir.path().join("scenarios"));
        fs::write(dir.path().join("reenact.toml"), "").unwrap();
        assert_eq!(scenario_root(&scenario), dir.path());
    }

    #[test]
    fn resolves_files_inside_the_root() {
        let dir = project();
        let scenario = dir.path().join("scenarios/s.yaml");
        let root = scenario_root(&scenario);
        let path = resolve(&scenario, &root, "payloads/a.json").unwrap();
        assert_eq!(path, dir.path().join("scenarios/payloads/a.json"));
        let path = resolve(&scenario, &root, "payloads/../payloads/./a.json").unwrap();
        assert_eq!(path, dir.path().join("scenarios/payloads/a.json"));
    }

    #[test]
    fn rejects_escapes_absolute_and_missing() {
        let dir = project();
        fs::write(dir.path().join("secret.json"), "{}").unwrap();
        let scenario = dir.path().join("scenarios/s.yaml");
        let root = scenario_root(&scenario);
        assert!(matches!(
            resolve(&scenario, &root, "../secret.json"),
            Err(PathError::OutsideRoot { .. })
        ));
        assert!(matches!(
            resolve(&scenario, &root, "/etc/passwd"),
            Err(PathError::Absolute { .. })
        ));
        assert!(matches!(
            resolve(&scenario, &root, "payloads/b.json"),
            Err(PathError::Missing { .. })
        ));
        assert!(matches!(
            resolve(&scenario, &root, ""),
            Err(PathError::Empty)
        ));
    }

    #[cfg(unix)]
    #[test]
    fn rejects_symlinks_that_point_out() {
        let dir = project();
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("secret.json"), "{}").unwrap();
        let scenario = dir.path().join("scenarios/s.yaml");
        let root = scenario_root(&scenario);
        std::os::unix::fs::symlink(
            outside.path().join("secret.json"),
            dir.path().join("scenarios/payloads/link.json"),
        )
        .unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("scenarios/linkdir")).unwrap();
        std::os::unix::fs::symlink(
            dir.path().join("scenarios/payloads/a.json"),
            dir.path().join("scenarios/inside.json"),
        )
        .unwrap();
        assert!(matches!(
            resolve(&scenario, &root, "payloads/link.json"),
            Err(PathError::SymlinkOutsideRoot { .. })
        ));
        assert!(matches!(
            resolve(&scenario, &root, "linkdir/secret.json"),
            Err(PathError::SymlinkOutsideRoot { .. })
        ));
        assert!(resolve(&scenario, &root, "inside.json").is_ok());
    }
}
