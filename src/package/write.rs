//! Writing a package: [`Package`], the files of one escalation package, redacted as they are
//! added, written as one folder or one `.tar.gz`, atomically.
//!
//! A [`Package`] holds the run's [`Secrets`] and masks every text added to it with them (values,
//! known shapes, values after secret names); JSON is redacted as a document first. [`Package::write_folder`] builds the folder in a temporary folder next to
//! the destination and renames it into place; [`Package::write_archive`] writes the archive to a
//! temporary file next to it and renames that. On any failure the temporary goes and the
//! destination is as it was.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::secrets::Secrets;

/// Why a package could not be written.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PackageError {
    /// The destination holds something and `--force` was not given.
    #[error("`{}` already exists and is not empty", path.display())]
    Exists {
        /// The destination.
        path: PathBuf,
    },
    /// The destination is of the wrong kind (a file where a folder goes, or the other way).
    #[error("`{}` exists and is {what}", path.display())]
    WrongKind {
        /// The destination.
        path: PathBuf,
        /// What it is.
        what: &'static str,
    },
    /// A file system operation failed.
    #[error("failed to {action} `{}`", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// Where.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

impl PackageError {
    fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> PackageError {
        let path = path.to_path_buf();
        move |source| PackageError::Io {
            action,
            path,
            source,
        }
    }
}

/// The files of a package, in the order they were added; paths use `/` and are relative.
#[derive(Debug, Default)]
pub(crate) struct Package {
    files: Vec<(String, Vec<u8>)>,
    /// What every text added is masked with.
    secrets: Secrets,
}

impl Package {
    /// No files yet; what is added is masked with `secrets`.
    pub(crate) fn new(secrets: Secrets) -> Package {
        Package {
            files: Vec::new(),
            secrets,
        }
    }

    /// Add a text file, redacted (replacing a file of the same path).
    pub(crate) fn add(&mut self, path: impl Into<String>, text: &str) {
        let redacted = self.secrets.redact(text);
        self.put(path.into(), redacted.into_bytes());
    }

    /// Add a JSON file, pretty-printed: redacted as a document, then as text.
    pub(crate) fn add_json(&mut self, path: impl Into<String>, document: &serde_json::Value) {
        let document = self.redact_json(document);
        let text = serde_json::to_string_pretty(&document).unwrap_or_default();
        self.add(path, &format!("{text}\n"));
    }

    /// `document` redacted as the package's JSON files are.
    pub(crate) fn redact_json(&self, document: &serde_json::Value) -> serde_json::Value {
        let mut document = document.clone();
        self.secrets.redact_json(&mut document);
        document
    }

    /// `text` redacted as the package's files are.
    pub(crate) fn redact(&self, text: &str) -> String {
        self.secrets.redact(text)
    }

    fn put(&mut self, path: String, bytes: Vec<u8>) {
        match self.files.iter_mut().find(|(known, _)| *known == path) {
            Some(file) => file.1 = bytes,
            None => self.files.push((path, bytes)),
        }
    }

    /// Write the files into the folder `dest`: built next to it, then renamed into place. An
    /// existing `dest` must be an empty folder, or `force` replaces it.
    pub(crate) fn write_folder(&self, dest: &Path, force: bool) -> Result<(), PackageError> {
        check_destination(dest, force, false)?;
        let parent = parent_of(dest);
        let staging = tempfile::Builder::new()
            .prefix(&format!(".{}.", file_name(dest)))
            .suffix(".tmp")
            .tempdir_in(parent)
            .map_err(PackageError::io("create a folder in", parent))?;
        for (path, bytes) in &self.files {
            let file = staging.path().join(path);
            if let Some(folder) = file.parent() {
                std::fs::create_dir_all(folder)
                    .map_err(PackageError::io("create folder", folder))?;
            }
            std::fs::write(&file, bytes).map_err(PackageError::io("write", &file))?;
        }
        // What `dest` held goes aside first, so that a failed rename can put it back.
        let aside = if dest.exists() {
            let aside = tempfile::Builder::new()
                .prefix(&format!(".{}.", file_name(dest)))
                .suffix(".old")
                .tempdir_in(parent)
                .map_err(PackageError::io("create a folder in", parent))?;
            std::fs::rename(dest, aside.path()).map_err(PackageError::io("move aside", dest))?;
            Some(aside)
        } else {
            None
        };
        let built = staging.keep();
        if let Err(source) = std::fs::rename(&built, dest) {
            let _ = std::fs::remove_dir_all(&built);
            if let Some(aside) = &aside {
                let _ = std::fs::rename(aside.path(), dest);
            }
            return Err(PackageError::Io {
                action: "move into place",
                path: dest.to_path_buf(),
                source,
            });
        }
        // `aside` (the replaced package) is removed as it drops.
        Ok(())
    }

    /// Write the files as a gzip-compressed tar archive `dest`, every path under the folder
    /// `top` (what it unpacks to): written next to it, then renamed into place. An existing
    /// `dest` must be a file and `force` given.
    pub(crate) async fn write_archive(
        &self,
        dest: &Path,
        top: &str,
        force: bool,
    ) -> Result<(), PackageError> {
        check_destination(dest, force, true)?;
        let tar = self
            .tar(top)
            .await
            .map_err(PackageError::io("build the archive", dest))?;
        let parent = parent_of(dest);
        let mut file = tempfile::Builder::new()
            .prefix(&format!(".{}.", file_name(dest)))
            .suffix(".tmp")
            .tempfile_in(parent)
            .map_err(PackageError::io("create a file in", parent))?;
        // A package is for handing on: readable as any file the user writes (a temporary file
        // is private to its owner).
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = file
                .as_file()
                .set_permissions(std::fs::Permissions::from_mode(0o644));
        }
        file.write_all(&gzip(&tar))
            .and_then(|()| file.as_file().sync_all())
            .map_err(PackageError::io("write", file.path()))?;
        file.persist(dest)
            .map_err(|err| PackageError::io("move into place", dest)(err.error))?;
        Ok(())
    }

    /// The files as a tar archive (uncompressed), under `top/`.
    async fn tar(&self, top: &str) -> std::io::Result<Vec<u8>> {
        let mut builder = tokio_tar::Builder::new(Vec::new());
        let mut folders: Vec<String> = Vec::new();
        for (path, bytes) in &self.files {
            // Each folder gets its entry before its first file, as `tar` itself writes them.
            let mut prefix = String::new();
            let folder_parts = path.rsplit_once('/').map_or("", |(folder, _)| folder);
            let parts = folder_parts.split('/').filter(|part| !part.is_empty());
            for part in std::iter::once(top).chain(parts) {
                prefix = if prefix.is_empty() {
                    part.to_owned()
                } else {
                    format!("{prefix}/{part}")
                };
                if !folders.contains(&prefix) {
                    let mut header = tokio_tar::Header::new_gnu();
                    header.set_entry_type(tokio_tar::EntryType::Directory);
                    header.set_mode(0o755);
                    header.set_size(0);
                    header.set_mtime(now_unix());
                    builder
                        .append_data(&mut header, format!("{prefix}/"), &[][..])
                        .await?;
                    folders.push(prefix.clone());
                }
            }
            let mut header = tokio_tar::Header::new_gnu();
            header.set_mode(0o644);
            header.set_size(bytes.len() as u64);
            header.set_mtime(now_unix());
            builder
                .append_data(&mut header, format!("{top}/{path}"), bytes.as_slice())
                .await?;
        }
        builder.into_inner().await
    }
}

/// Whether something already at `dest` may be replaced: nothing there, an empty folder (for a
/// folder package), or anything of the right kind with `force`.
pub(crate) fn check_destination(
    dest: &Path,
    force: bool,
    archive: bool,
) -> Result<(), PackageError> {
    let metadata = match std::fs::symlink_metadata(dest) {
        Ok(metadata) => metadata,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(PackageError::io("inspect", dest)(err)),
    };
    let wrong = |what| PackageError::WrongKind {
        path: dest.to_path_buf(),
        what,
    };
    if archive {
        if !metadata.is_file() {
            return Err(wrong("not a file"));
        }
        return if force {
            Ok(())
        } else {
            Err(PackageError::Exists {
                path: dest.to_path_buf(),
            })
        };
    }
    if !metadata.is_dir() {
        return Err(wrong("not a folder"));
    }
    let empty = std::fs::read_dir(dest)
        .map_err(PackageError::io("read", dest))?
        .next()
        .is_none();
    if empty || force {
        Ok(())
    } else {
        Err(PackageError::Exists {
            path: dest.to_path_buf(),
        })
    }
}

fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || "package".to_owned(),
        |name| name.to_string_lossy().into_owned(),
    )
}

fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// `data` in the gzip format (RFC 1952): a 10-byte header, the raw deflate stream, then the
/// CRC-32 and length of `data`.
pub(crate) fn gzip(data: &[u8]) -> Vec<u8> {
    // ID1 ID2, CM = deflate, no flags, no mtime, no extra flags, OS = unknown.
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    out.extend(miniz_oxide::deflate::compress_to_vec(data, 6));
    out.extend(crc32(data).to_le_bytes());
    out.extend((data.len() as u32).to_le_bytes());
    out
}

/// CRC-32 (IEEE 802.3, reflected, as gzip uses it), bit by bit: packages are small.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for byte in data {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// `text` quoted for a POSIX shell when it needs it.
pub(crate) fn shell_quote(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c));
    if plain {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// `text` as a TOML basic string (JSON's escapes are TOML's).
pub(crate) fn toml_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_check_value() {
        // The standard check value of CRC-32/ISO-HDLC.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn gzip_inflates_back_to_its_input() {
        let data = b"reenact package, reenact package, reenact package".repeat(20);
        let packed = gzip(&data);
        assert_eq!(&packed[..3], &[0x1f, 0x8b, 8]);
        let body = &packed[10..packed.len() - 8];
        assert_eq!(miniz_oxide::inflate::decompress_to_vec(body).unwrap(), data);
        let trailer = &packed[packed.len() - 8..];
        assert_eq!(trailer[..4], crc32(&data).to_le_bytes());
        assert_eq!(trailer[4..], (data.len() as u32).to_le_bytes());
    }

    #[test]
    fn shell_quote_quotes_only_what_needs_it() {
        for (text, quoted) in [
            ("scenarios/a.yaml", "scenarios/a.yaml"),
            ("ledger-sync@1.4.2", "ledger-sync@1.4.2"),
            (
                "bin/app --port {{ target.port }}",
                "'bin/app --port {{ target.port }}'",
            ),
            ("it's", r"'it'\''s'"),
            ("", "''"),
        ] {
            assert_eq!(shell_quote(text), quoted, "{text}");
        }
    }

    #[test]
    fn a_folder_that_holds_something_is_kept_unless_forced() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("p");
        assert!(check_destination(&dest, false, false).is_ok(), "absent");
        std::fs::create_dir(&dest).unwrap();
        assert!(check_destination(&dest, false, false).is_ok(), "empty");
        std::fs::write(dest.join("x"), "x").unwrap();
        assert!(matches!(
            check_destination(&dest, false, false),
            Err(PackageError::Exists { .. })
        ));
        assert!(check_destination(&dest, true, false).is_ok());
        assert!(matches!(
            check_destination(&dest, true, true),
            Err(PackageError::WrongKind { .. })
        ));
    }

    #[test]
    fn writing_a_folder_replaces_it_whole_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("p");
        std::fs::create_dir(&dest).unwrap();
        std::fs::write(dest.join("old.txt"), "old").unwrap();
        let mut package = Package::default();
        package.add("README.md", "# hi");
        package.add("secret.txt", "refund to GB82 WEST 1234 5698 7654 32");
        package.add("scenario/a.yaml", "id: a");
        assert!(package.write_folder(&dest, false).is_err());
        assert!(dest.join("old.txt").exists(), "kept without --force");
        package.write_folder(&dest, true).unwrap();
        assert!(!dest.join("old.txt").exists());
        assert_eq!(
            std::fs::read_to_string(dest.join("scenario/a.yaml")).unwrap(),
            "id: a"
        );
        assert_eq!(
            std::fs::read_to_string(dest.join("secret.txt")).unwrap(),
            "refund to [redacted:iban]"
        );
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["p"]);
    }
}
