//! `reenact clean`: remove the Docker containers and networks (and with `--images`, the images)
//! that carry reenact's labels, e.g. what a killed run left behind. Nothing else is touched.

use clap::Args;

use crate::backend::docker;

use super::{CliError, ErrorKind, Outcome, Output};

/// Arguments of `clean`.
#[derive(Debug, Args)]
pub(super) struct CleanArgs {
    /// Remove reenact's mock images too (they are rebuilt on the next Docker run).
    #[arg(long)]
    images: bool,
}

/// Run `clean`.
pub(super) async fn clean(args: CleanArgs, out: &Output) -> Result<Outcome, CliError> {
    let docker = super::connect_docker().await?;
    let report = docker::clean(&docker, args.images)
        .await
        .map_err(|err| CliError::from_error(ErrorKind::Environment, err))?;
    let mut summary = format!(
        "removed {} container(s), {} network(s)",
        report.containers.len(),
        report.networks.len()
    );
    if args.images {
        summary.push_str(&format!(", {} image(s)", report.images.len()));
    }
    for name in report
        .containers
        .iter()
        .chain(&report.networks)
        .chain(&report.images)
    {
        out.stderr(&format!("  removed `{name}`"));
    }
    out.stdout(&summary);
    Ok(Outcome::Success)
}
