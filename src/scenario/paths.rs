//! Resolution of files a scenario names: relative to the scenario, never outside its root; and
//! the one way reenact reads a scenario or a file it names.
//!
//! [`scenario_root`] finds the folder a scenario's files must stay inside; [`resolve`] turns a
//! name written in the scenario into a path, rejecting absolute names, `..` that leaves the root
//! and symlinks that point out of it, and returns a [`PathError`] saying which. [`read_regular`]
//! reads regular files only (a FIFO would block, `/dev/zero` never ends) and at most one byte
//! past a size limit, whatever the file's metadata says.

use std::fs::{FileType, Metadata};
use std::io::{self, Read};
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

/// Largest file a scenario may name (`body_file`, `json_file`), in bytes (8 MiB).
pub(crate) const MAX_FILE_BYTES: usize = 8 * 1024 * 1024;

/// Most bytes the files a scenario names may add up to, each counted every time it is named
/// (64 MiB): each use keeps its own copy.
pub(crate) const MAX_FILES_TOTAL_BYTES: usize = 64 * 1024 * 1024;

/// Why a file could not be read by [`read_regular`].
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadError {
    /// The path is something other than a regular file.
    #[error("`{}` is {kind}, not a regular file", path.display())]
    NotRegular {
        /// The path.
        path: PathBuf,
        /// What it is: `a FIFO (named pipe)`, `a folder`, `a character device`, ...
        kind: &'static str,
    },
    /// The file could not be inspected, opened or read.
    #[error("failed to read `{}`", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

/// What a file type is, for messages.
pub(crate) fn describe(file_type: FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if file_type.is_socket() {
            return "a socket";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
    }
    if file_type.is_dir() {
        "a folder"
    } else if file_type.is_symlink() {
        "a symlink"
    } else if file_type.is_file() {
        "a regular file"
    } else {
        "a special file"
    }
}

/// Read the regular file `path` (symlinks followed), at most `limit + 1` bytes: a result longer
/// than `limit` means the file is larger, and the caller says so.
///
/// Anything but a regular file is refused before it is opened (a FIFO would block until a
/// writer came, a device such as `/dev/zero` never ends), and what was opened is checked again
/// (opened non-blocking), in case the path changed in between. The size is never taken from
/// the metadata alone: the read itself stops past the limit.
pub(crate) fn read_regular(path: &Path, limit: usize) -> Result<Vec<u8>, ReadError> {
    let io_error = |source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let regular = |metadata: &Metadata| {
        if metadata.is_file() {
            Ok(())
        } else {
            Err(ReadError::NotRegular {
                path: path.to_path_buf(),
                kind: describe(metadata.file_type()),
            })
        }
    };
    regular(&std::fs::metadata(path).map_err(io_error)?)?;
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = options.open(path).map_err(io_error)?;
    let metadata = file.metadata().map_err(io_error)?;
    regular(&metadata)?;
    let capacity = usize::try_from(metadata.len()).unwrap_or(usize::MAX);
    let mut bytes = Vec::with_capacity(capacity.min(limit.saturating_add(1)));
    file.take(u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io_error)?;
    Ok(bytes)
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

/// The folder of a scenario root that holds mock definitions (`include: mocks/acme.yaml`).
pub(crate) const MOCKS_FOLDER: &str = "mocks";

/// Whether `path` is a mock definition: a file inside the [`MOCKS_FOLDER`] of its scenario root
/// (compared as absolute, normalized paths).
pub(crate) fn is_mock_definition(path: &Path) -> bool {
    let mocks = scenario_root(path).join(MOCKS_FOLDER);
    match (std::path::absolute(path), std::path::absolute(&mocks)) {
        (Ok(path), Ok(mocks)) => normalize(&path).starts_with(normalize(&mocks)),
        _ => false,
    }
}

/// How `path` is named relative to its scenario root (what `include:` takes); `path` itself when
/// it is not inside the root.
pub(crate) fn name_in_root(path: &Path) -> PathBuf {
    let root = scenario_root(path);
    match (std::path::absolute(path), std::path::absolute(&root)) {
        (Ok(path_abs), Ok(root_abs)) => normalize(&path_abs)
            .strip_prefix(normalize(&root_abs))
            .map_or_else(|_| path.to_path_buf(), Path::to_path_buf),
        _ => path.to_path_buf(),
    }
}

/// Resolve `name`, written in `scenario_file`, to a file inside `root`.
///
/// `name` is taken relative to the scenario's folder. Absolute names, names whose normalized form
/// leaves `root`, names that resolve through a symlink to somewhere outside `root`, and missing
/// files are errors.
pub(crate) fn resolve(scenario_file: &Path, root: &Path, name: &str) -> Result<PathBuf, PathError> {
    resolve_from(&parent_dir(scenario_file), root, name)
}

/// Resolve `name`, taken relative to `root` itself, to a file inside `root`, by the rules of
/// [`resolve`]: how a scenario names a mock definition (`include: mocks/acme.yaml`).
pub(crate) fn resolve_in_root(root: &Path, name: &str) -> Result<PathBuf, PathError> {
    resolve_from(root, root, name)
}

/// Resolve `name`, taken relative to the folder `dir`, to a file inside `root`.
fn resolve_from(dir: &Path, root: &Path, name: &str) -> Result<PathBuf, PathError> {
    if name.is_empty() {
        return Err(PathError::Empty);
    }
    let written = PathBuf::from(name);
    if written.has_root() || written.is_absolute() {
        return Err(PathError::Absolute { name: written });
    }
    let joined = normalize(&dir.join(&written));
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
    // Only "not found" is missing: a file that exists but cannot be inspected says why.
    match std::fs::symlink_metadata(&joined) {
        Ok(_) => {}
        Err(source) if source.kind() == io::ErrorKind::NotFound => {
            return Err(PathError::Missing { name: written });
        }
        Err(source) => {
            return Err(PathError::Io {
                name: written,
                source,
            });
        }
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
    fn reads_regular_files_only_and_stops_past_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("x.json");
        let c_path = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path; mkfifo only creates a file.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        let err = read_regular(&fifo, 10).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("x.json` is a FIFO (named pipe), not a regular file"),
            "{err}"
        );
        let err = read_regular(dir.path(), 10).unwrap_err();
        assert!(err.to_string().contains("is a folder"), "{err}");
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero")).unwrap();
        let err = read_regular(&dir.path().join("zero"), 10).unwrap_err();
        assert!(err.to_string().contains("is a character device"), "{err}");
        fs::write(dir.path().join("big"), vec![b'x'; 100]).unwrap();
        assert_eq!(read_regular(&dir.path().join("big"), 10).unwrap().len(), 11);
        assert_eq!(
            read_regular(&dir.path().join("big"), 100).unwrap().len(),
            100
        );
        let err = read_regular(&dir.path().join("none"), 10).unwrap_err();
        assert!(matches!(err, ReadError::Io { .. }), "{err}");
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
