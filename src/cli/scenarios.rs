//! Finding and loading the scenario files named on the command line; `reenact list`.

use std::path::{Path, PathBuf};

use clap::Args;

use crate::project::Project;
use crate::scenario::{self, LoadError, Scenario};

use super::error::{Problem, Report, render_load_error};
use super::{CliError, ErrorKind, Outcome, Output};

/// Scenario files or folders (default: `scenarios/` of the project).
#[derive(Debug, Args)]
pub(super) struct PathsArgs {
    /// Scenario files or folders (searched recursively for `.yaml` / `.yml`).
    pub paths: Vec<PathBuf>,
}

/// The scenario files under `paths` (default `<project root>/scenarios`), sorted, deduplicated.
pub(super) fn discover(paths: &[PathBuf], project: &Project) -> Result<Vec<PathBuf>, CliError> {
    let defaults = [project.root.join("scenarios")];
    let roots: &[PathBuf] = if paths.is_empty() { &defaults } else { paths };
    let mut files = Vec::new();
    for root in roots {
        if root.is_dir() {
            collect_yaml(root, &mut files).map_err(|err| {
                CliError::invalid_input(format!("failed to read folder `{}`", root.display()))
                    .with_source(err)
            })?;
        } else if root.is_file() {
            files.push(root.clone());
        } else {
            return Err(CliError::invalid_input(format!(
                "no such file or folder `{}`",
                root.display()
            )));
        }
    }
    files.sort();
    files.dedup();
    if files.is_empty() {
        return Err(CliError::invalid_input(format!(
            "no scenario files (`.yaml`, `.yml`) found in {}",
            roots
                .iter()
                .map(|r| format!("`{}`", r.display()))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(files)
}

fn collect_yaml(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_yaml(&path, files)?;
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            files.push(path);
        }
    }
    Ok(())
}

/// Load every file; every problem of every invalid file makes the error.
pub(super) fn load_all(files: &[PathBuf]) -> Result<Vec<Scenario>, CliError> {
    let mut scenarios = Vec::with_capacity(files.len());
    let mut invalid = Vec::new();
    for file in files {
        match scenario::load(file) {
            Ok(loaded) => scenarios.push(loaded),
            Err(err) => invalid.push(Problem::Scenario(err)),
        }
    }
    if !invalid.is_empty() {
        let summary = format!(
            "{} of {} scenario file(s) invalid; nothing was run",
            invalid.len(),
            files.len()
        );
        invalid.push(Problem::Error(Report::new(summary)));
        return Err(CliError::several(ErrorKind::InvalidInput, invalid));
    }
    let mut seen = std::collections::BTreeMap::new();
    for loaded in &scenarios {
        if let Some(first) = seen.insert(loaded.id.clone(), loaded.source.path.clone()) {
            return Err(CliError::invalid_input(format!(
                "scenario id `{}` is used by `{}` and `{}`",
                loaded.id,
                first.display(),
                loaded.source.path.display()
            ))
            .with_help("ids name snapshot files, so each must be unique"));
        }
    }
    Ok(scenarios)
}

/// Print a load error as a row of a report: every diagnostic with its source line.
pub(super) fn report_load_error(err: &LoadError, out: &Output) {
    out.stderr(&render_load_error(err, out.color_stderr()));
}

/// Load the project file around `cwd`.
pub(super) fn project(cwd: &Path) -> Result<Project, CliError> {
    Project::discover(cwd).map_err(|err| {
        CliError::from_error(ErrorKind::InvalidInput, err)
            .with_help("see `reenact.toml` in the README")
    })
}

/// The project around `cwd` and the scenario files `paths` name.
pub(super) fn files(paths: &[PathBuf], cwd: &Path) -> Result<(Project, Vec<PathBuf>), CliError> {
    let project = project(cwd)?;
    let files = discover(paths, &project)?;
    Ok((project, files))
}

/// The project and every scenario `paths` name, loaded and valid.
pub(super) fn suite(
    paths: &[PathBuf],
    cwd: &Path,
    out: &Output,
) -> Result<(Project, Vec<Scenario>), CliError> {
    let (project, files) = files(paths, cwd)?;
    let scenarios = load_all(&files)?;
    // What the scenarios declare secret is masked from now on, logs of their runs included.
    for scenario in &scenarios {
        out.learn(&scenario.secrets(&std::collections::BTreeMap::new()));
    }
    Ok((project, scenarios))
}

/// `reenact list`.
pub(super) fn list(args: PathsArgs, cwd: &Path, out: &Output) -> Result<Outcome, CliError> {
    let (_, scenarios) = suite(&args.paths, cwd, out)?;
    let width = scenarios.iter().map(|s| s.id.len()).max().unwrap_or(0);
    for loaded in &scenarios {
        out.stdout(&format!(
            "{:width$}  {:10}  {}",
            loaded.id,
            loaded.ticket.as_deref().unwrap_or("-"),
            loaded.title
        ));
    }
    Ok(Outcome::Success)
}
