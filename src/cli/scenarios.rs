//! Finding and loading the scenario files named on the command line; `reenact list`.

use std::path::{Path, PathBuf};

use clap::Args;

use reenact::exit_codes;
use reenact::project::Project;
use reenact::scenario::{self, LoadError, Scenario};

use super::Output;

/// Scenario files or folders (default: `scenarios/` of the project).
#[derive(Debug, Args)]
pub struct PathsArgs {
    /// Scenario files or folders (searched recursively for `.yaml` / `.yml`).
    pub paths: Vec<PathBuf>,
}

/// The scenario files under `paths` (default `<project root>/scenarios`), sorted, deduplicated.
pub fn discover(paths: &[PathBuf], project: &Project) -> Result<Vec<PathBuf>, String> {
    let defaults = [project.root.join("scenarios")];
    let roots: &[PathBuf] = if paths.is_empty() { &defaults } else { paths };
    let mut files = Vec::new();
    for root in roots {
        if root.is_dir() {
            collect_yaml(root, &mut files)
                .map_err(|err| format!("failed to read folder `{}`: {err}", root.display()))?;
        } else if root.is_file() {
            files.push(root.clone());
        } else {
            return Err(format!("no such file or folder `{}`", root.display()));
        }
    }
    files.sort();
    files.dedup();
    if files.is_empty() {
        return Err(format!(
            "no scenario files (`.yaml`, `.yml`) found in {}",
            roots
                .iter()
                .map(|r| format!("`{}`", r.display()))
                .collect::<Vec<_>>()
                .join(", ")
        ));
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

/// Load every file; print every problem of every invalid file. `Err` carries the exit code.
pub fn load_all(files: &[PathBuf], out: &Output) -> Result<Vec<Scenario>, i32> {
    let mut scenarios = Vec::with_capacity(files.len());
    let mut invalid = 0;
    for file in files {
        match scenario::load(file) {
            Ok(loaded) => scenarios.push(loaded),
            Err(err) => {
                invalid += 1;
                report_load_error(&err, out);
            }
        }
    }
    if invalid > 0 {
        out.stderr(&format!(
            "{}: {invalid} of {} scenario file(s) invalid; nothing was run",
            out.paint_err(super::output::Style::Red, "error"),
            files.len()
        ));
        return Err(exit_codes::INVALID_INPUT);
    }
    let mut seen = std::collections::BTreeMap::new();
    for loaded in &scenarios {
        if let Some(first) = seen.insert(loaded.id.clone(), loaded.source.path.clone()) {
            out.error(
                &format!(
                    "scenario id `{}` is used by `{}` and `{}`",
                    loaded.id,
                    first.display(),
                    loaded.source.path.display()
                ),
                Some("ids name snapshot files, so each must be unique"),
            );
            return Err(exit_codes::INVALID_INPUT);
        }
    }
    Ok(scenarios)
}

/// Print a load error: every diagnostic with its source line.
pub fn report_load_error(err: &LoadError, out: &Output) {
    match err {
        LoadError::Invalid {
            path,
            source_text,
            diagnostics,
        } => out.stderr(&scenario::diagnostic::render(
            path,
            source_text,
            diagnostics,
            out.color_stderr(),
        )),
        LoadError::Io { .. } => out.error_chain(err, None),
    }
}

/// Load the project file around `cwd`, printing the error.
pub fn project(cwd: &Path, out: &Output) -> Result<Project, i32> {
    Project::discover(cwd).map_err(|err| {
        out.error_chain(&err, Some("see `reenact.toml` in the README"));
        exit_codes::INVALID_INPUT
    })
}

/// The project around `cwd` and the scenario files `paths` name; problems are printed and
/// become the exit code.
pub fn files(paths: &[PathBuf], cwd: &Path, out: &Output) -> Result<(Project, Vec<PathBuf>), i32> {
    let project = project(cwd, out)?;
    let files = discover(paths, &project).map_err(|message| {
        out.error(&message, None);
        exit_codes::INVALID_INPUT
    })?;
    Ok((project, files))
}

/// The project and every scenario `paths` name, loaded and valid.
pub fn suite(paths: &[PathBuf], cwd: &Path, out: &Output) -> Result<(Project, Vec<Scenario>), i32> {
    let (project, files) = files(paths, cwd, out)?;
    let scenarios = load_all(&files, out)?;
    Ok((project, scenarios))
}

/// `reenact list`.
pub fn list(args: PathsArgs, cwd: &Path, out: &Output) -> i32 {
    let scenarios = match suite(&args.paths, cwd, out) {
        Ok((_, scenarios)) => scenarios,
        Err(code) => return code,
    };
    let width = scenarios.iter().map(|s| s.id.len()).max().unwrap_or(0);
    for loaded in &scenarios {
        out.stdout(&format!(
            "{:width$}  {:10}  {}",
            loaded.id,
            loaded.ticket.as_deref().unwrap_or("-"),
            loaded.title
        ));
    }
    exit_codes::SUCCESS
}
