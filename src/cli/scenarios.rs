//! Finding, loading and selecting the scenario files named on the command line; `reenact list`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use clap::Args;

use crate::project::Project;
use crate::scenario::{self, LoadError, Scenario};

use super::error::{Problem, Report, render_load_error};
use super::select::{SelectArgs, Selection};
use super::{CliError, ErrorKind, Format, Outcome, Output};
use crate::scenario::select::{providers, severity_name};
use serde::Serialize;

/// Scenario files or folders (default: `scenarios/` of the project).
#[derive(Debug, Args)]
pub(super) struct PathsArgs {
    /// Scenario files or folders (searched recursively for `.yaml` / `.yml`).
    pub paths: Vec<PathBuf>,
}

/// The scenario files under `paths` (default `<project root>/scenarios`), each once, sorted.
///
/// A folder is walked for `*.yaml` / `*.yml` entries that are not folders, but for the project's
/// `mocks/` folder of mock definitions, entered only when named itself; symlinks are
/// followed, but a folder already walked (a symlink cycle, or two links to one folder) is not
/// walked again, and a file reached twice (named twice, named and inside a named folder, or
/// through two links) is listed once, by the path it was first reached through. A `*.yaml`
/// entry that is not a regular file (a FIFO, a device, a socket) is listed all the same, so that
/// loading reports what it is; it is never opened for reading.
pub(super) fn discover(paths: &[PathBuf], project: &Project) -> Result<Vec<PathBuf>, CliError> {
    let defaults = [project.root.join("scenarios")];
    let roots: &[PathBuf] = if paths.is_empty() { &defaults } else { paths };
    let mut walk = Walk {
        // Mock definitions are not scenarios: a walk passes the project's `mocks/` by (naming
        // the folder itself still lists its files, and loading says what they are).
        mocks: std::fs::canonicalize(project.root.join("mocks")).ok(),
        ..Walk::default()
    };
    for root in roots {
        let metadata = match std::fs::metadata(root) {
            Ok(metadata) => metadata,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Err(CliError::invalid_input(format!(
                    "no such file or folder `{}`",
                    root.display()
                )));
            }
            Err(err) => {
                return Err(CliError::invalid_input(format!(
                    "failed to inspect `{}`",
                    root.display()
                ))
                .with_source(err));
            }
        };
        if metadata.is_dir() {
            walk.folder(root).map_err(|err| {
                CliError::invalid_input(format!("failed to read folder `{}`", root.display()))
                    .with_source(err)
            })?;
        } else {
            // A file named on the command line is checked whatever its name; loading refuses
            // what is not a regular file, saying what it is.
            walk.file(root);
        }
    }
    let mut files = walk.files;
    files.sort();
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

/// The state of a folder walk: the files found, and what was already seen, by real path.
#[derive(Default)]
struct Walk {
    files: Vec<PathBuf>,
    seen_files: HashSet<PathBuf>,
    seen_folders: HashSet<PathBuf>,
    /// The project's `mocks/` folder (real path), which a walk does not enter.
    mocks: Option<PathBuf>,
}

impl Walk {
    /// List `path` unless the file it is was already listed.
    fn file(&mut self, path: &Path) {
        // A path that cannot be resolved is listed as given: loading says why it fails.
        let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if self.seen_files.insert(real) {
            self.files.push(path.to_path_buf());
        }
    }

    /// Walk the folder `dir` unless it was already walked.
    fn folder(&mut self, dir: &Path) -> std::io::Result<()> {
        if !self.seen_folders.insert(std::fs::canonicalize(dir)?) {
            return Ok(());
        }
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
            .map(|entry| entry.map(|entry| entry.path()))
            .collect::<Result<_, _>>()?;
        entries.sort();
        for path in entries {
            // `metadata` follows a symlink; a dangling one is no folder.
            let is_dir = std::fs::metadata(&path).is_ok_and(|m| m.is_dir());
            if is_dir {
                if self.mocks.is_some()
                    && std::fs::canonicalize(&path).ok().as_ref() == self.mocks.as_ref()
                {
                    continue;
                }
                self.folder(&path)?;
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml")
            ) {
                self.file(&path);
            }
        }
        Ok(())
    }
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
    let loaded: Vec<&Scenario> = scenarios.iter().collect();
    let mut duplicates: Vec<Problem> = scenario::duplicate_ids(&loaded)
        .into_iter()
        .map(Problem::Scenario)
        .collect();
    if !duplicates.is_empty() {
        let summary = format!(
            "{} of {} scenario file(s) reuse an id; nothing was run",
            duplicates.len(),
            files.len()
        );
        duplicates.push(Problem::Error(Report::new(summary)));
        return Err(CliError::several(ErrorKind::InvalidInput, duplicates));
    }
    Ok(scenarios)
}

/// Print a load error as a row of a report: every diagnostic with its source line.
pub(super) fn report_load_error(err: &LoadError, out: &Output) {
    out.stderr(&render_load_error(err, out.color_stderr()));
}

/// Load the project file around `cwd`.
pub(super) fn project(cwd: &Path) -> Result<Project, CliError> {
    project_for(&[], cwd)
}

/// Load the project file of the scenarios `paths` name: from their folder upward, else from
/// `cwd` upward ([`Project::discover_for`]); `-v` says which file was read.
fn project_for(paths: &[PathBuf], cwd: &Path) -> Result<Project, CliError> {
    let project = Project::discover_for(paths, cwd).map_err(|err| {
        CliError::from_error(ErrorKind::InvalidInput, err)
            .with_help("see `reenact.toml` in the README")
    })?;
    match project.source.file() {
        Some(file) => tracing::info!(file = %file.display(), "read the project file"),
        None => tracing::info!("{}", project.source),
    }
    Ok(project)
}

/// The project of the scenario files `paths` name (see [`project_for`]) and those files.
pub(super) fn files(paths: &[PathBuf], cwd: &Path) -> Result<(Project, Vec<PathBuf>), CliError> {
    let project = project_for(paths, cwd)?;
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

/// The project and the scenarios `paths` name that the selection keeps (see
/// [`super::select::select`]).
pub(super) fn selected_suite(
    paths: &[PathBuf],
    select: &SelectArgs,
    cwd: &Path,
    out: &Output,
) -> Result<(Project, Selection), CliError> {
    let (project, scenarios) = suite(paths, cwd, out)?;
    let selection = super::select::select(scenarios, select, &project.root)?;
    Ok((project, selection))
}

/// Arguments of `list`.
#[derive(Debug, Args)]
pub(super) struct ListArgs {
    #[command(flatten)]
    paths: PathsArgs,
    #[command(flatten)]
    select: SelectArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

/// One scenario in `reenact list --format json`.
#[derive(Debug, Serialize)]
struct ListItem<'a> {
    id: &'a str,
    title: &'a str,
    ticket: Option<&'a str>,
    severity: Option<&'static str>,
    tags: &'a [String],
    providers: Vec<&'static str>,
    file: String,
}

/// `reenact list`: what `run` / `validate` with the same paths and selection would run.
pub(super) fn list(args: ListArgs, cwd: &Path, out: &Output) -> Result<Outcome, CliError> {
    let (project, selection) = selected_suite(&args.paths.paths, &args.select, cwd, out)?;
    let items: Vec<ListItem<'_>> = selection
        .scenarios
        .iter()
        .map(|s| ListItem {
            id: &s.id,
            title: &s.title,
            ticket: s.ticket.as_deref(),
            severity: s.severity.map(severity_name),
            tags: &s.tags,
            providers: providers(s),
            file: super::run::relative(&s.source.path, &project.root),
        })
        .collect();
    match args.format {
        Format::Json => {
            let report = serde_json::json!({
                "version": 1,
                "command": "list",
                "found": selection.found,
                "left_out": {
                    "selection": selection.filtered_out,
                    "partition": selection.partitioned_out,
                },
                "partition": selection.partition.map(|p| p.to_string()),
                "scenarios": items,
            });
            out.stdout(&serde_json::to_string_pretty(&report).unwrap_or_default());
        }
        Format::Human => {
            let rows: Vec<[String; 6]> = items
                .iter()
                .map(|item| {
                    [
                        item.id.to_owned(),
                        item.ticket.unwrap_or("-").to_owned(),
                        item.severity.unwrap_or("-").to_owned(),
                        join_or_dash(item.tags.iter().map(String::as_str)),
                        join_or_dash(item.providers.iter().copied()),
                        item.file.clone(),
                    ]
                })
                .collect();
            out.stdout(&table(
                ["ID", "TICKET", "SEVERITY", "TAGS", "PROVIDERS", "FILE"],
                &rows,
            ));
            let summary = selection
                .left_out_line()
                .unwrap_or_else(|| format!("{} scenario(s)", selection.scenarios.len()));
            out.stdout(&format!("\n{summary}"));
        }
    }
    Ok(Outcome::Success)
}

fn join_or_dash<'a>(values: impl Iterator<Item = &'a str>) -> String {
    let joined = values.collect::<Vec<_>>().join(",");
    if joined.is_empty() {
        "-".to_owned()
    } else {
        joined
    }
}

/// Rows under a header, each column as wide as its widest cell, two spaces apart; the last
/// column is not padded.
fn table<const N: usize>(header: [&str; N], rows: &[[String; N]]) -> String {
    let mut widths = header.map(str::len);
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut text = String::new();
        for (index, cell) in cells.iter().enumerate() {
            if index + 1 == N {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:width$}  ", width = widths[index]));
            }
        }
        text.trim_end().to_owned()
    };
    let mut lines = vec![line(header.to_vec())];
    lines.extend(
        rows.iter()
            .map(|row| line(row.iter().map(String::as_str).collect())),
    );
    lines.join("\n")
}
