//! Images built locally from a binary on this machine: no registry, no base image.
//!
//! One recipe (`ImageRecipe`) serves both kinds reenact builds: the image holds the binary
//! (stripped when `objcopy` exists), the shared libraries `ldd` lists for it, the dynamic loader
//! and this machine's CA bundle (TLS clients such as reqwest's refuse to build without root
//! certificates, even for plain HTTP), `FROM scratch`, with the recipe's entrypoint, and carries reenact's [`labels`] (so
//! `reenact clean --images` finds it). `ensure_mock_image` gives the mock image
//! `reenact-mock:<content hash>` (the running reenact binary, entrypoint `reenact mock-engine`);
//! [`ensure_target_image`] images any local binary as a target, `reenact-target-<file stem>:<content
//! hash>` by default, entrypoint the binary itself (what `reenact image` and `image_from` use).
//!
//! The content hash covers the recipe and every byte that goes in, and is also stored as the
//! [`labels::CONTENT`] label: an image whose tag exists but whose label differs (a tag chosen by
//! the user, reused for a newer build) is rebuilt, one whose label matches is reused. A file lock
//! keeps concurrent reenact processes from building the same image twice; its holder removes the
//! file before letting go (a waiter that then holds a lock on a removed file starts over), so no
//! lock file stays after a build, and `sweep_lock_files` removes one a killed build left. The
//! Dockerfile never has a `# syntax=` line: BuildKit would pull an image for it, and no registry
//! is reachable.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use testcontainers::GenericBuildableImage;
use testcontainers::bollard::Docker;
use testcontainers::core::BuildImageOptions;
use testcontainers::runners::AsyncBuilder;

use crate::backend::labels;

/// Repository name of the mock image.
pub(crate) const MOCK_IMAGE_NAME: &str = "reenact-mock";

/// Prefix of the repository name of a target image (`reenact-target-<file stem>`).
pub(crate) const TARGET_IMAGE_PREFIX: &str = "reenact-target-";

/// Traffic port the engine listens on inside its container.
pub(crate) const CONTAINER_TRAFFIC_PORT: u16 = 8080;

/// Admin (control API) port the engine listens on inside its container.
pub(crate) const CONTAINER_ADMIN_PORT: u16 = 8081;

/// SFTP port the engine listens on inside its container (a bank with `sftp:` serves there).
pub(crate) const CONTAINER_SFTP_PORT: u16 = 2222;

/// Bump when the recipe below changes, so old images are not reused for a new layout.
const RECIPE_VERSION: &str = "4";

/// Why an image could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// The binary or one of its libraries could not be read.
    #[error("failed to read `{path}` for the image")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The build context could not be written to a temporary folder.
    #[error("failed to prepare the build context in `{path}`")]
    Context {
        /// The folder or file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The image build lock could not be taken.
    #[error("failed to lock `{path}` while building the image")]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The engine refused or failed the build.
    #[error("failed to build the image `{tag}`")]
    Build {
        /// The image tag.
        tag: String,
        /// The cause.
        #[source]
        source: testcontainers::TestcontainersError,
    },
    /// A tag given by the user is not a valid `name[:tag]`.
    #[error(
        "invalid image tag `{tag}`: expected `name[:tag]` in lowercase letters, digits, `.`, `_`, `-` and `/`"
    )]
    InvalidTag {
        /// The tag.
        tag: String,
    },
}

/// How to image one binary: what it is called inside, how it starts, what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ImageRecipe {
    /// The binary on this machine.
    pub binary: PathBuf,
    /// The repository name when no tag is given (the content hash becomes the tag).
    pub name: String,
    /// A full `name:tag` chosen by the user, instead of `name:<content hash>`.
    pub tag: Option<String>,
    /// The binary's path inside the image, e.g. `/reenact`.
    pub path_inside: String,
    /// Arguments after the binary in the entrypoint (`["mock-engine"]` for the mock image).
    pub entrypoint_args: Vec<String>,
    /// The default arguments (`CMD`) after the entrypoint.
    pub cmd: Vec<String>,
    /// Ports the image documents (`EXPOSE`).
    pub expose: Vec<u16>,
    /// The [`labels::KIND`] label: `mock-image` or `target-image`.
    pub kind: &'static str,
}

impl ImageRecipe {
    /// The mock image of the reenact executable `engine`.
    pub(crate) fn mock(engine: &Path) -> ImageRecipe {
        ImageRecipe {
            binary: engine.to_path_buf(),
            name: MOCK_IMAGE_NAME.to_owned(),
            tag: None,
            path_inside: "/reenact".to_owned(),
            entrypoint_args: vec!["mock-engine".to_owned()],
            cmd: [
                "--host",
                "0.0.0.0",
                "--port",
                &CONTAINER_TRAFFIC_PORT.to_string(),
                "--admin-port",
                &CONTAINER_ADMIN_PORT.to_string(),
                "--sftp-port",
                &CONTAINER_SFTP_PORT.to_string(),
            ]
            .map(str::to_owned)
            .to_vec(),
            expose: vec![
                CONTAINER_TRAFFIC_PORT,
                CONTAINER_ADMIN_PORT,
                CONTAINER_SFTP_PORT,
            ],
            kind: "mock-image",
        }
    }

    /// A target image of `binary`: entrypoint the binary, no default arguments, tagged `tag` or
    /// `reenact-target-<file stem>:<content hash>`.
    pub(crate) fn target(binary: &Path, tag: Option<&str>) -> ImageRecipe {
        let file = binary
            .file_name()
            .map(|name| safe_name(&name.to_string_lossy()))
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| "target".to_owned());
        let stem = binary
            .file_stem()
            .map(|stem| safe_name(&stem.to_string_lossy()))
            .filter(|stem| !stem.is_empty())
            .unwrap_or_else(|| "target".to_owned());
        ImageRecipe {
            binary: binary.to_path_buf(),
            name: format!("{TARGET_IMAGE_PREFIX}{stem}"),
            tag: tag.map(str::to_owned),
            path_inside: format!("/{file}"),
            entrypoint_args: Vec::new(),
            cmd: Vec::new(),
            expose: Vec::new(),
            kind: "target-image",
        }
    }

    /// The Dockerfile, with the content hash as a label.
    fn dockerfile(&self, hash: &str) -> String {
        let quoted = |items: &[String]| {
            items
                .iter()
                .map(|item| serde_json::Value::String(item.clone()).to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut entrypoint = vec![self.path_inside.clone()];
        entrypoint.extend(self.entrypoint_args.iter().cloned());
        let mut text = format!(
            "FROM scratch\n\
             COPY rootfs/ /\n\
             LABEL {managed}=\"true\" {kind}=\"{kind_value}\" {content}=\"{hash}\"\n",
            managed = labels::MANAGED,
            kind = labels::KIND,
            kind_value = self.kind,
            content = labels::CONTENT,
        );
        if !self.expose.is_empty() {
            let ports: Vec<String> = self.expose.iter().map(u16::to_string).collect();
            text.push_str(&format!("EXPOSE {}\n", ports.join(" ")));
        }
        text.push_str("STOPSIGNAL SIGTERM\n");
        text.push_str(&format!("ENTRYPOINT [{}]\n", quoted(&entrypoint)));
        if !self.cmd.is_empty() {
            text.push_str(&format!("CMD [{}]\n", quoted(&self.cmd)));
        }
        text
    }
}

/// The CA bundles copied into every image when this machine has them (Debian's, then
/// Fedora's), at the same path.
const CA_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
];

/// What goes into the image: the binary and the files it needs at run time.
#[derive(Debug)]
struct Contents {
    /// Absolute paths, copied to the same path in the image: the libraries as the dynamic
    /// loader will look them up (the loader included), then the CA bundle.
    libs: Vec<PathBuf>,
    /// The content hash (16 hex digits).
    hash: String,
    /// The full tag.
    tag: String,
}

/// Make sure the mock image of the reenact executable `engine` exists; returns its tag
/// (`reenact-mock:<hash>`). `engine` is normally the running binary
/// (`std::env::current_exe()`); it must be a reenact binary, since the image runs its
/// `mock-engine` subcommand.
pub(crate) async fn ensure_mock_image(
    docker: &Docker,
    engine: &Path,
) -> Result<String, ImageError> {
    ensure_image(docker, &ImageRecipe::mock(engine)).await
}

/// Make sure a target image of `binary` exists; returns its tag (`tag`, or
/// `reenact-target-<file stem>:<hash>`). The image's entrypoint is the binary; a target's
/// `command` gives its arguments.
pub async fn ensure_target_image(
    docker: &Docker,
    binary: &Path,
    tag: Option<&str>,
) -> Result<String, ImageError> {
    if let Some(tag) = tag
        && !is_valid_tag(tag)
    {
        return Err(ImageError::InvalidTag {
            tag: tag.to_owned(),
        });
    }
    ensure_image(docker, &ImageRecipe::target(binary, tag)).await
}

/// Make sure the image of `recipe` exists with the current content; returns its tag.
///
/// Cheap when it exists (one hash of the binary and one inspect call); otherwise builds it under
/// a file lock shared by every reenact process on this machine.
pub(crate) async fn ensure_image(
    docker: &Docker,
    recipe: &ImageRecipe,
) -> Result<String, ImageError> {
    let contents = tokio::task::spawn_blocking({
        let recipe = recipe.clone();
        move || collect_contents(&recipe)
    })
    .await
    .map_err(|e| ImageError::Read {
        path: recipe.binary.clone(),
        source: std::io::Error::other(e.to_string()),
    })??;
    if is_current(docker, &contents).await {
        return Ok(contents.tag);
    }
    let lock_path = std::env::temp_dir().join(format!(
        "{LOCK_PREFIX}{}{LOCK_SUFFIX}",
        contents.tag.replace([':', '/'], "-")
    ));
    let lock = tokio::task::spawn_blocking({
        let lock_path = lock_path.clone();
        move || lock_file(&lock_path)
    })
    .await
    .map_err(|e| ImageError::Lock {
        path: lock_path.clone(),
        source: std::io::Error::other(e.to_string()),
    })?
    .map_err(|source| ImageError::Lock {
        path: lock_path.clone(),
        source,
    })?;
    // Another process may have built it while this one waited for the lock.
    let result = if is_current(docker, &contents).await {
        Ok(())
    } else {
        build(recipe, &contents).await
    };
    unlock_and_remove(&lock_path, lock);
    result.map(|()| contents.tag)
}

/// Lock files are `reenact-image-<tag>.lock` in the temp folder.
const LOCK_PREFIX: &str = "reenact-image-";
const LOCK_SUFFIX: &str = ".lock";

/// Take the lock file at `path`, waiting for its holder. A holder removes the file before it
/// lets go, so a lock taken on a file that is no longer at `path` guards nothing: start over.
fn lock_file(path: &Path) -> std::io::Result<File> {
    loop {
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)?;
        file.lock()?;
        if same_file(&file, path) {
            return Ok(file);
        }
    }
}

/// Whether `file` is still the file at `path`.
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(held), Ok(there)) => held.dev() == there.dev() && held.ino() == there.ino(),
        _ => false,
    }
}

/// Remove the lock file at `path` while still holding it, then let go.
fn unlock_and_remove(path: &Path, lock: File) {
    if let Err(err) = std::fs::remove_file(path) {
        tracing::debug!(path = %path.display(), error = %err, "failed to remove the image lock file");
    }
    drop(lock);
}

/// Remove the image lock files no build holds (a build killed with SIGKILL leaves its file):
/// each is taken without waiting, checked, and removed while held. Returns the files removed.
pub(crate) fn sweep_lock_files() -> Vec<PathBuf> {
    sweep_lock_files_in(&std::env::temp_dir())
}

fn sweep_lock_files_in(dir: &Path) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return removed;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let is_lock = path
            .file_name()
            .and_then(|name| name.to_str())
            .is_some_and(|name| name.starts_with(LOCK_PREFIX) && name.ends_with(LOCK_SUFFIX));
        if !is_lock {
            continue;
        }
        let Ok(file) = File::options().write(true).open(&path) else {
            continue;
        };
        // Held: a build is going on.
        if file.try_lock().is_err() || !same_file(&file, &path) {
            continue;
        }
        if std::fs::remove_file(&path).is_ok() {
            removed.push(path);
        }
    }
    removed
}

/// Whether the image tagged `contents.tag` exists and holds exactly `contents`.
async fn is_current(docker: &Docker, contents: &Contents) -> bool {
    docker
        .inspect_image(&contents.tag)
        .await
        .is_ok_and(|image| {
            image
                .config
                .and_then(|config| config.labels)
                .and_then(|labels| labels.get(labels::CONTENT).cloned())
                .is_some_and(|hash| hash == contents.hash)
        })
}

fn collect_contents(recipe: &ImageRecipe) -> Result<Contents, ImageError> {
    let mut libs = shared_libraries(&recipe.binary);
    libs.extend(
        CA_BUNDLES
            .iter()
            .map(PathBuf::from)
            .filter(|bundle| bundle.is_file())
            .take(1),
    );
    let mut hasher = Sha256::new();
    hasher.update(RECIPE_VERSION.as_bytes());
    // The recipe without the hash label (which it would contain).
    hasher.update(recipe.dockerfile("").as_bytes());
    hash_file(&mut hasher, &recipe.binary)?;
    for lib in &libs {
        hasher.update(lib.as_os_str().as_encoded_bytes());
        hash_file(&mut hasher, lib)?;
    }
    let digest = hasher.finalize();
    let hash: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    let tag = match &recipe.tag {
        Some(tag)
            if tag
                .rsplit('/')
                .next()
                .is_some_and(|last| last.contains(':')) =>
        {
            tag.clone()
        }
        Some(name) => format!("{name}:latest"),
        None => format!("{}:{hash}", recipe.name),
    };
    Ok(Contents { libs, hash, tag })
}
fn hash_file(hasher: &mut Sha256, path: &Path) -> Result<(), ImageError> {
    let read_error = |source| ImageError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(read_error)?;
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buffer).map_err(read_error)?;
        if n == 0 {
            return Ok(());
        }
        hasher.update(&buffer[..n]);
    }
}

/// The libraries (and loader) `ldd` lists for `exe`; none for a static binary or without `ldd`.
fn shared_libraries(exe: &Path) -> Vec<PathBuf> {
    match std::process::Command::new("ldd").arg(exe).output() {
        Ok(output) if output.status.success() => {
            parse_ldd(&String::from_utf8_lossy(&output.stdout))
        }
        _ => Vec::new(),
    }
}

/// Parse `ldd` output: `libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)` and
/// `/lib64/ld-linux-x86-64.so.2 (0x…)`; virtual objects such as `linux-vdso.so.1` have no path.
fn parse_ldd(output: &str) -> Vec<PathBuf> {
    let mut libs = Vec::new();
    for line in output.lines() {
        let line = line.trim();
        let path = match line.split_once("=>") {
            Some((_, right)) => right.trim(),
            None => line,
        };
        let path = path.split(" (").next().unwrap_or("").trim();
        if path.starts_with('/') && !libs.iter().any(|l: &PathBuf| l == Path::new(path)) {
            libs.push(PathBuf::from(path));
        }
    }
    libs
}

async fn build(recipe: &ImageRecipe, contents: &Contents) -> Result<(), ImageError> {
    let staging = std::env::temp_dir().join(format!(
        "reenact-image-context-{}-{}",
        std::process::id(),
        contents.hash
    ));
    let binary = staging.join("binary");
    let prepared = tokio::task::spawn_blocking({
        let exe = recipe.binary.clone();
        let staging = staging.clone();
        let binary = binary.clone();
        move || stage_binary(&exe, &staging, &binary)
    })
    .await
    .map_err(|e| ImageError::Context {
        path: staging.clone(),
        source: std::io::Error::other(e.to_string()),
    })?;
    let result = match prepared {
        Ok(()) => {
            let (name, tag) = split_tag(&contents.tag);
            let mut image = GenericBuildableImage::new(name, tag)
                .with_dockerfile_string(recipe.dockerfile(&contents.hash))
                .with_file(&binary, format!("rootfs{}", recipe.path_inside));
            for lib in &contents.libs {
                let relative = lib.to_string_lossy();
                image = image.with_file(lib, format!("rootfs{relative}"));
            }
            image
                // Not skip-if-exists: a tag that exists with other content is rebuilt.
                .build_image_with(BuildImageOptions::new().with_skip_if_exists(false))
                .await
                .map(drop)
                .map_err(|source| ImageError::Build {
                    tag: contents.tag.clone(),
                    source,
                })
        }
        Err(err) => Err(err),
    };
    let _ = std::fs::remove_dir_all(&staging);
    result
}

/// Copy the executable into the build context, without debug info and symbols when `objcopy`
/// can strip them (nothing in the container needs them; the context is tarred in memory).
fn stage_binary(exe: &Path, staging: &Path, binary: &Path) -> Result<(), ImageError> {
    let context_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ImageError::Context { path, source }
    };
    std::fs::create_dir_all(staging).map_err(context_error(staging))?;
    let stripped = std::process::Command::new("objcopy")
        .arg("--strip-all")
        .arg(exe)
        .arg(binary)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !stripped {
        std::fs::copy(exe, binary).map_err(context_error(binary))?;
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(binary, std::fs::Permissions::from_mode(0o755))
        .map_err(context_error(binary))?;
    Ok(())
}

/// `name:tag` split at the last `:` after the last `/` (a registry port is not a tag).
fn split_tag(full: &str) -> (&str, &str) {
    let slash = full.rfind('/').map_or(0, |i| i + 1);
    match full[slash..].rfind(':') {
        Some(colon) => (&full[..slash + colon], &full[slash + colon + 1..]),
        None => (full, "latest"),
    }
}

/// A file name as a Docker repository name part: lowercase letters, digits, `.`, `_`, `-`.
fn safe_name(name: &str) -> String {
    name.chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect::<String>()
        .trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_owned()
}

/// Whether `tag` is a plausible Docker `name[:tag]` (checked before any build is attempted).
fn is_valid_tag(tag: &str) -> bool {
    let (name, version) = split_tag(tag);
    let name_ok = !name.is_empty()
        && name.split('/').all(|part| {
            !part.is_empty()
                && part.chars().all(|c| {
                    c.is_ascii_lowercase()
                        || c.is_ascii_digit()
                        || matches!(c, '.' | '_' | '-' | ':')
                })
        });
    let version_ok = !version.is_empty()
        && version.len() <= 128
        && version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    name_ok && version_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_lock_file_stays_after_builds_that_waited_for_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("reenact-image-mock-1.lock");
        let first = lock_file(&path).unwrap();
        let waiter = std::thread::spawn({
            let path = path.clone();
            move || {
                // Blocks until the first lets go, then finds its file removed and starts over.
                let second = lock_file(&path).unwrap();
                assert!(same_file(&second, &path));
                unlock_and_remove(&path, second);
            }
        });
        std::thread::sleep(std::time::Duration::from_millis(100));
        unlock_and_remove(&path, first);
        waiter.join().unwrap();
        assert!(!path.exists());
    }

    #[test]
    fn the_sweep_removes_lock_files_nobody_holds_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let stale = dir.path().join("reenact-image-old.lock");
        std::fs::write(&stale, "").unwrap();
        let held_path = dir.path().join("reenact-image-building.lock");
        let held = lock_file(&held_path).unwrap();
        let other = dir.path().join("reenact-image-notes.txt");
        std::fs::write(&other, "").unwrap();
        assert_eq!(
            sweep_lock_files_in(dir.path()),
            std::slice::from_ref(&stale)
        );
        assert!(!stale.exists() && held_path.exists() && other.exists());
        unlock_and_remove(&held_path, held);
    }

    #[test]
    fn ldd_output_gives_library_and_loader_paths() {
        let output = "\tlinux-vdso.so.1 (0x00007ffd)\n\
            \tlibgcc_s.so.1 => /lib/x86_64-linux-gnu/libgcc_s.so.1 (0x00007f1)\n\
            \tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f2)\n\
            \t/lib64/ld-linux-x86-64.so.2 (0x00007f3)\n\
            \tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f2)\n";
        assert_eq!(
            parse_ldd(output),
            vec![
                PathBuf::from("/lib/x86_64-linux-gnu/libgcc_s.so.1"),
                PathBuf::from("/lib/x86_64-linux-gnu/libc.so.6"),
                PathBuf::from("/lib64/ld-linux-x86-64.so.2"),
            ]
        );
        assert!(parse_ldd("\tnot a dynamic executable\n").is_empty());
    }

    #[test]
    fn dockerfile_pulls_nothing() {
        let text = ImageRecipe::mock(Path::new("/x/reenact")).dockerfile("abc");
        assert!(text.starts_with("FROM scratch\n"));
        assert!(!text.contains("# syntax"));
        assert!(text.contains("ENTRYPOINT [\"/reenact\", \"mock-engine\"]"));
        assert!(text.contains("reenact.kind=\"mock-image\" reenact.content=\"abc\""));
        assert!(text.contains("CMD [\"--host\", \"0.0.0.0\", \"--port\", \"8080\""));
    }

    #[test]
    fn a_target_image_runs_the_binary_itself() {
        let recipe = ImageRecipe::target(Path::new("target/release/examples/ledger-sync"), None);
        assert_eq!(recipe.name, "reenact-target-ledger-sync");
        let text = recipe.dockerfile("abc");
        assert!(text.starts_with("FROM scratch\n"), "{text}");
        assert!(text.contains("reenact.managed=\"true\" reenact.kind=\"target-image\""));
        assert!(text.contains("ENTRYPOINT [\"/ledger-sync\"]\n"), "{text}");
        assert!(!text.contains("CMD"), "{text}");
        assert!(!text.contains("EXPOSE"), "{text}");
        let odd = ImageRecipe::target(Path::new("/opt/My App.bin"), Some("me/app:1"));
        assert_eq!(odd.name, "reenact-target-my-app");
        assert_eq!(odd.path_inside, "/my-app.bin");
    }

    #[test]
    fn tags_split_and_validate() {
        assert_eq!(split_tag("reenact-mock:abc"), ("reenact-mock", "abc"));
        assert_eq!(
            split_tag("localhost:5000/app"),
            ("localhost:5000/app", "latest")
        );
        assert_eq!(
            split_tag("localhost:5000/app:2"),
            ("localhost:5000/app", "2")
        );
        for good in [
            "app",
            "app:1.4.2",
            "me/app:v1",
            "reenact-target-ledger-sync:0a1b",
        ] {
            assert!(is_valid_tag(good), "{good}");
        }
        for bad in ["", "App:1", "app:", "app:a b", "/app", "app//x"] {
            assert!(!is_valid_tag(bad), "{bad}");
        }
    }
}
