//! The mock image, built locally from the running reenact binary: no registry, no base image.
//!
//! [`ensure_mock_image`] returns the tag `reenact-mock:<content hash>` of an image holding the
//! executable that is running now (stripped when `objcopy` exists), the shared
//! libraries `ldd` lists for it and the dynamic loader, `FROM scratch`, with the entrypoint
//! `reenact mock-engine`. The tag is a hash of those bytes, so a later run of the same build finds
//! the image and skips the build; a file lock keeps concurrent reenact processes from building the
//! same image twice. The Dockerfile never has a `# syntax=` line: BuildKit would pull an image for
//! it, and no registry is reachable.

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
pub const MOCK_IMAGE_NAME: &str = "reenact-mock";

/// Traffic port the engine listens on inside its container.
pub const CONTAINER_TRAFFIC_PORT: u16 = 8080;

/// Admin (control API) port the engine listens on inside its container.
pub const CONTAINER_ADMIN_PORT: u16 = 8081;

/// Bump when the recipe below changes, so old images are not reused for a new layout.
const RECIPE_VERSION: &str = "1";

/// Why the mock image could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// The running executable or one of its libraries could not be read.
    #[error("failed to read `{path}` for the mock image")]
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
    #[error("failed to lock `{path}` while building the mock image")]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The engine refused or failed the build.
    #[error("failed to build the mock image `{tag}`")]
    Build {
        /// The image tag.
        tag: String,
        /// The cause.
        #[source]
        source: testcontainers::TestcontainersError,
    },
}

/// What goes into the image: the executable and the libraries it loads.
#[derive(Debug)]
struct Contents {
    exe: PathBuf,
    /// Absolute paths as the dynamic loader will look them up (the loader included).
    libs: Vec<PathBuf>,
    tag: String,
}

/// Make sure the mock image of the reenact executable `engine` exists; returns its tag
/// (`name:hash`). `engine` is normally the running binary (`std::env::current_exe()`); it must be
/// a reenact binary, since the image runs its `mock-engine` subcommand.
///
/// Cheap when it exists (one hash of the binary and one inspect call); otherwise builds it under
/// a file lock shared by every reenact process on this machine.
pub async fn ensure_mock_image(docker: &Docker, engine: &Path) -> Result<String, ImageError> {
    let engine = engine.to_path_buf();
    let contents = tokio::task::spawn_blocking(move || collect_contents(engine))
        .await
        .map_err(|e| ImageError::Read {
            path: PathBuf::from("the running executable"),
            source: std::io::Error::other(e.to_string()),
        })??;
    if docker.inspect_image(&contents.tag).await.is_ok() {
        return Ok(contents.tag);
    }
    let lock_path = std::env::temp_dir().join(format!(
        "reenact-image-{}.lock",
        contents.tag.replace([':', '/'], "-")
    ));
    let lock = tokio::task::spawn_blocking({
        let lock_path = lock_path.clone();
        move || -> Result<File, std::io::Error> {
            let file = File::create(&lock_path)?;
            file.lock()?;
            Ok(file)
        }
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
    // Another process may have built it while this one waited for the lock; skip-if-exists
    // checks again under the lock.
    let result = build(&contents).await;
    drop(lock);
    result.map(|()| contents.tag)
}

fn collect_contents(exe: PathBuf) -> Result<Contents, ImageError> {
    let libs = shared_libraries(&exe);
    let mut hasher = Sha256::new();
    hasher.update(RECIPE_VERSION.as_bytes());
    hash_file(&mut hasher, &exe)?;
    for lib in &libs {
        hasher.update(lib.as_os_str().as_encoded_bytes());
        hash_file(&mut hasher, lib)?;
    }
    let digest = hasher.finalize();
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    Ok(Contents {
        exe,
        libs,
        tag: format!("{MOCK_IMAGE_NAME}:{hex}"),
    })
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

/// The Dockerfile of the mock image.
fn dockerfile() -> String {
    format!(
        "FROM scratch\n\
         COPY rootfs/ /\n\
         LABEL {managed}=\"true\" {kind}=\"mock-image\"\n\
         EXPOSE {CONTAINER_TRAFFIC_PORT} {CONTAINER_ADMIN_PORT}\n\
         STOPSIGNAL SIGTERM\n\
         ENTRYPOINT [\"/reenact\", \"mock-engine\"]\n\
         CMD [\"--host\", \"0.0.0.0\", \"--port\", \"{CONTAINER_TRAFFIC_PORT}\", \"--admin-port\", \"{CONTAINER_ADMIN_PORT}\"]\n",
        managed = labels::MANAGED,
        kind = labels::KIND,
    )
}

async fn build(contents: &Contents) -> Result<(), ImageError> {
    let staging = std::env::temp_dir().join(format!(
        "reenact-image-context-{}-{}",
        std::process::id(),
        contents.tag.rsplit(':').next().unwrap_or("mock")
    ));
    let binary = staging.join("reenact");
    let prepared = tokio::task::spawn_blocking({
        let exe = contents.exe.clone();
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
            let mut image = GenericBuildableImage::new(
                MOCK_IMAGE_NAME,
                contents.tag.rsplit(':').next().unwrap_or("latest"),
            )
            .with_dockerfile_string(dockerfile())
            .with_file(&binary, "rootfs/reenact");
            for lib in &contents.libs {
                let relative = lib.to_string_lossy();
                image = image.with_file(lib, format!("rootfs{relative}"));
            }
            image
                .build_image_with(BuildImageOptions::new().with_skip_if_exists(true))
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

#[cfg(test)]
mod tests {
    use super::*;

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
        let text = dockerfile();
        assert!(text.starts_with("FROM scratch\n"));
        assert!(!text.contains("# syntax"));
        assert!(text.contains("ENTRYPOINT [\"/reenact\", \"mock-engine\"]"));
    }
}
