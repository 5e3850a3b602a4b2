//! `reenact image BINARY [--tag TAG]`: turn a local binary into a Docker image without a
//! registry (the recipe of [`crate::backend::image`]), e.g. the demo target, so a scenario or
//! `reenact.toml` can run it as a container target. Prints the tag on stdout.

use std::path::{Path, PathBuf};

use clap::Args;

use crate::backend::image;

use super::{CliError, ErrorKind, Outcome, Output};

/// Arguments of `image`.
#[derive(Debug, Args)]
pub(super) struct ImageArgs {
    /// The binary to image (its shared libraries and loader come with it).
    binary: PathBuf,
    /// The image tag [default: `reenact-target-<file stem>:<content hash>`].
    #[arg(long)]
    tag: Option<String>,
}

/// Run `image`.
pub(super) async fn image(args: ImageArgs, cwd: &Path, out: &Output) -> Result<Outcome, CliError> {
    let binary = cwd.join(&args.binary);
    if !binary.is_file() {
        return Err(CliError::invalid_input(format!("no file at `{}`", args.binary.display()))
            .with_help("give the path of a built binary, e.g. `cargo build --release --example ledger-sync && reenact image target/release/examples/ledger-sync`"));
    }
    let engine = super::connect_docker().await?;
    let tag = image::ensure_target_image(&engine, &binary, args.tag.as_deref())
        .await
        .map_err(|err| match err {
            image::ImageError::InvalidTag { .. } => {
                CliError::from_error(ErrorKind::InvalidInput, err)
                    .with_help("e.g. `--tag ledger-sync:1.4.3`")
            }
            _ => CliError::from_error(ErrorKind::Environment, err)
                .with_help("run with -v for details"),
        })?;
    out.stdout(&tag);
    Ok(Outcome::Success)
}
