//! `reenact review`: accept or reject pending snapshots, one by one on a terminal or all at once.

use std::io::{BufRead, IsTerminal};
use std::path::Path;

use clap::Args;

use crate::snapshot::{self, Pending};

use super::output::Style;
use super::run::indent_diff;
use super::scenarios::project;
use super::{CliError, ErrorKind, Outcome, Output};

/// Arguments of `review`.
#[derive(Debug, Args)]
pub(super) struct ReviewArgs {
    /// Accept every pending snapshot without asking.
    #[arg(long, conflicts_with = "reject_all")]
    accept_all: bool,
    /// Reject (delete) every pending snapshot without asking.
    #[arg(long)]
    reject_all: bool,
    /// Folder of snapshots (default: `snapshots/` of the project).
    #[arg(long)]
    snapshots: Option<std::path::PathBuf>,
}

/// Run `review`.
pub(super) fn review(args: ReviewArgs, cwd: &Path, out: &Output) -> Result<Outcome, CliError> {
    let project = project(cwd)?;
    let dir = args
        .snapshots
        .clone()
        .unwrap_or_else(|| project.root.join("snapshots"));
    let environment = |err| CliError::from_error(ErrorKind::Environment, err);
    let pending = snapshot::find_pending(&dir).map_err(environment)?;
    if pending.is_empty() {
        out.stdout(&format!("no pending snapshots in `{}`", dir.display()));
        return Ok(Outcome::Success);
    }
    let interactive = !args.accept_all && !args.reject_all;
    if interactive && !std::io::stdin().is_terminal() {
        return Err(CliError::invalid_input(format!(
            "{} pending snapshot(s), and no terminal to ask on",
            pending.len()
        ))
        .with_help("pass `--accept-all` or `--reject-all`"));
    }
    let (mut accepted, mut rejected, mut skipped) = (0, 0, 0);
    let stdin = std::io::stdin();
    let mut answers = stdin.lock().lines();
    for item in &pending {
        let decision = if args.accept_all {
            'a'
        } else if args.reject_all {
            'r'
        } else {
            show(item, out);
            out.stdout("accept (a), reject (r), skip (s)? ");
            match answers.next() {
                Some(Ok(line)) => line.trim().chars().next().unwrap_or('s'),
                _ => 's',
            }
        };
        let result = match decision {
            'a' | 'A' => snapshot::accept_pending(item).map(|()| accepted += 1),
            'r' | 'R' => snapshot::reject_pending(item).map(|()| rejected += 1),
            _ => {
                skipped += 1;
                Ok(())
            }
        };
        result.map_err(environment)?;
    }
    out.stdout(&format!(
        "{accepted} accepted, {rejected} rejected, {skipped} skipped"
    ));
    Ok(Outcome::Success)
}

fn show(item: &Pending, out: &Output) {
    out.stdout(&format!(
        "\n{} {}",
        out.paint(Style::Bold, "snapshot"),
        item.accepted.display()
    ));
    let new = snapshot::read_contents(&item.pending).unwrap_or_default();
    let old = snapshot::read_contents(&item.accepted).unwrap_or_default();
    if old.is_empty() {
        out.stdout("  (new snapshot)");
    }
    out.stdout(&indent_diff(
        &snapshot::diff(&old, &new, "accepted", "pending"),
        out,
    ));
}
