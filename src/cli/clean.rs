//! `reenact clean`: remove what reenact processes that are gone left behind: Docker containers
//! and networks carrying reenact's labels, target processes and run folders named in their run
//! records, and image lock files no build holds. With `--all`, live runs' objects too (and with
//! `--images`, reenact's images). Nothing without reenact's labels or records is touched.

use clap::Args;

use crate::backend::{docker, image};
use crate::leftovers::{self, Scope};

use super::output::Style;
use super::{CliError, ErrorKind, Outcome, Output};

/// Arguments of `clean`.
#[derive(Debug, Args)]
pub(super) struct CleanArgs {
    /// Remove what live reenact runs use too (their containers, networks, target processes and
    /// run folders): those runs fail.
    #[arg(long)]
    all: bool,
    /// Remove reenact's images too (they are rebuilt on the next Docker run).
    #[arg(long)]
    images: bool,
}

/// Run `clean`.
pub(super) async fn clean(args: CleanArgs, out: &Output) -> Result<Outcome, CliError> {
    if args.all {
        out.stderr(&format!(
            "{}: --all removes what live reenact runs use too; they will fail",
            out.paint_err(Style::Yellow, "warning")
        ));
    }
    let local = leftovers::sweep(if args.all { Scope::All } else { Scope::Dead });
    let locks = image::sweep_lock_files();
    let report = match super::connect_docker().await {
        Ok(engine) => Some(
            docker::clean(&engine, args.all, args.images)
                .await
                .map_err(|err| CliError::from_error(ErrorKind::Environment, err))?,
        ),
        // Images live only in an engine: asked for, an unreachable one is an error.
        Err(err) if args.images => return Err(err),
        Err(_) => {
            out.stderr(&format!(
                "note: no Docker engine answers at `{}`: containers and networks were not looked for",
                docker::docker_host()
            ));
            None
        }
    };
    let report = report.unwrap_or_default();
    for name in report.containers.iter().chain(&report.networks) {
        out.stderr(&format!("  removed `{name}`"));
    }
    for name in &report.images {
        out.stderr(&format!("  removed image `{name}`"));
    }
    for pid in &local.processes {
        out.stderr(&format!("  killed target process {pid}"));
    }
    for path in local.folders.iter().chain(&locks) {
        out.stderr(&format!("  removed `{}`", path.display()));
    }
    let mut summary = format!(
        "removed {} container(s), {} network(s)",
        report.containers.len(),
        report.networks.len()
    );
    if args.images {
        summary.push_str(&format!(", {} image(s)", report.images.len()));
    }
    summary.push_str(&format!(
        ", {} target process(es), {} run folder(s)",
        local.processes.len(),
        local.folders.len()
    ));
    out.stdout(&summary);
    let mut kept = Vec::new();
    if !report.kept.is_empty() {
        kept.push(format!("{} container(s) or network(s)", report.kept.len()));
    }
    if local.live_runs > 0 {
        kept.push(format!(
            "the processes and folders of {} run(s)",
            local.live_runs
        ));
    }
    if !kept.is_empty() {
        out.stderr(&format!(
            "kept {}, whose reenact process still runs (or ran on another machine or before a reboot); `reenact clean --all` removes them too",
            kept.join(" and ")
        ));
    }
    let failed: Vec<String> = report.failed.into_iter().chain(local.failed).collect();
    if failed.is_empty() {
        Ok(Outcome::Success)
    } else {
        Err(
            CliError::environment(format!("failed to remove {} object(s)", failed.len()))
                .with_detail(Some(failed.join("\n")))
                .with_help(CLEAN_HELP),
        )
    }
}

/// What to do when something would not go.
const CLEAN_HELP: &str =
    "run with -v for details; `docker ps -a` and `docker network ls` show what is left";
