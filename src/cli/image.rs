//! `reenact image BINARY [--tag TAG]`: turn a local binary into a Docker image without a
//! registry (the recipe of [`reenact::backend::image`]), e.g. the demo target, so a scenario or
//! `reenact.toml` can run it as a container target. Prints the tag on stdout.

use std::path::{Path, PathBuf};

use clap::Args;

use reenact::backend::{docker, image};
use reenact::exit_codes;

use super::Output;

/// Arguments of `image`.
#[derive(Debug, Args)]
pub struct ImageArgs {
    /// The binary to image (its shared libraries and loader come with it).
    binary: PathBuf,
    /// The image tag [default: `reenact-target-<file stem>:<content hash>`].
    #[arg(long)]
    tag: Option<String>,
}

/// Run `image`.
pub async fn image(args: ImageArgs, cwd: &Path, out: &Output) -> i32 {
    let binary = cwd.join(&args.binary);
    if !binary.is_file() {
        out.error(
            &format!("no file at `{}`", args.binary.display()),
            Some("give the path of a built binary, e.g. `cargo build --release --example ledger-sync && reenact image target/release/examples/ledger-sync`"),
        );
        return exit_codes::INVALID_INPUT;
    }
    let engine = match docker::connect_engine().await {
        Ok(engine) => engine,
        Err(err) => {
            out.error_chain(&err, Some(super::DOCKER_HELP));
            return exit_codes::ENVIRONMENT;
        }
    };
    match image::ensure_target_image(&engine, &binary, args.tag.as_deref()).await {
        Ok(tag) => {
            out.stdout(&tag);
            exit_codes::SUCCESS
        }
        Err(err @ image::ImageError::InvalidTag { .. }) => {
            out.error_chain(&err, Some("e.g. `--tag ledger-sync:1.4.3`"));
            exit_codes::INVALID_INPUT
        }
        Err(err) => {
            out.error_chain(&err, Some("run with -v for details"));
            exit_codes::ENVIRONMENT
        }
    }
}
