//! `reenact package`: run one scenario once against a target and put what Engineering needs into
//! one folder or `.tar.gz` ([`crate::package`]), every file redacted.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;

use crate::backend::Placement;
use crate::package::contents::{self, Facts, Reproduce};
use crate::package::{Package, PackageError};
use crate::project::{Project, TargetDef};
use crate::report::RunItem;
use crate::run::{self, Job, RunError, ScenarioRun, TargetChoice};
use crate::scenario::Scenario;
use crate::secrets::{REDACTED, is_secret_name};
use crate::snapshot;

use super::run::{TargetArgs, choose_target};
use super::{Backend, CliError, ErrorKind, Output, ReportFormat, RunnerArgs};

/// Arguments of `package`.
#[derive(Debug, Args)]
pub(super) struct PackageArgs {
    /// The scenario file to package.
    scenario: PathBuf,
    #[command(flatten)]
    target: TargetArgs,
    /// Where mocks run (as for `run`).
    #[arg(long, value_enum)]
    backend: Option<Backend>,
    /// The folder to write [default: `./<scenario id>-package`], or with `--archive` the file
    /// [default: `./<scenario id>-package.tar.gz`].
    #[arg(short, long, value_name = "PATH")]
    output: Option<PathBuf>,
    /// Write one `.tar.gz` instead of a folder.
    #[arg(long)]
    archive: bool,
    /// Replace what is at the destination (a folder that is not empty, an archive).
    #[arg(long)]
    force: bool,
}

/// Run `package`.
pub(super) async fn package(
    args: PackageArgs,
    cwd: &Path,
    out: &Output,
) -> Result<super::Outcome, CliError> {
    let path = cwd.join(&args.scenario);
    if !path.is_file() {
        let what = if path.is_dir() {
            "is a folder"
        } else {
            "does not exist"
        };
        return Err(CliError::invalid_input(format!(
            "`{}` {what}: a package holds one scenario file",
            args.scenario.display()
        ))
        .with_help("name one scenario file, e.g. `reenact package scenarios/NAME.yaml`; `reenact list` shows them"));
    }
    let (project, mut scenarios) = super::scenarios::suite(&[path], cwd, out)?;
    let scenario = match scenarios.pop() {
        Some(scenario) if scenarios.is_empty() => scenario,
        _ => {
            return Err(CliError::invalid_input(
                "a package holds exactly one scenario",
            ));
        }
    };
    let default_name = format!(
        "{}-package{}",
        scenario.id,
        if args.archive { ".tar.gz" } else { "" }
    );
    let dest = cwd.join(
        args.output
            .clone()
            .unwrap_or_else(|| PathBuf::from(&default_name)),
    );
    crate::package::write::check_destination(&dest, args.force, args.archive)
        .map_err(destination_error)?;
    refuse_enclosing(&dest, &[&project.root, &scenario.source.path, cwd])?;
    let folder = dest.parent().unwrap_or(cwd);
    if !folder.is_dir() {
        return Err(CliError::invalid_input(format!(
            "the folder `{}` to write the package in does not exist",
            folder.display()
        ))
        .with_help("create it first, or choose another place with `-o PATH`"));
    }

    let mut choice = choose_target(
        &args.target.flags(),
        &project,
        project.default_target.as_deref(),
    )?;
    let runner = RunnerArgs {
        backend: args.backend,
        jobs: Some(1),
        format: ReportFormat::Human,
        reports: Default::default(),
        reuse: false,
        no_reuse: true,
        fail_fast: false,
    };
    let scenarios = [scenario];
    let backends = runner.backends(&project, &scenarios, &[&choice]).await?;
    super::run::build(&choice, &project, ReportFormat::Human, out)?;
    super::run::image(&mut choice, &project, backends.docker_or_inprocess()).await?;
    let [scenario] = scenarios;
    let scenario = Arc::new(scenario);
    let choice = Arc::new(choice);
    out.stderr(&format!(
        "running `{}` against `{}` …",
        scenario.id, choice.label
    ));
    let placement = backends.placement(0, 0);
    let (run, item) = run_and_judge(
        &scenario,
        &choice,
        placement,
        &project,
        &args.scenario,
        folder,
    )
    .await?;
    out.learn(&run.observation.secrets);

    let mut secrets = scenario.secrets(&BTreeMap::new());
    secrets.extend(&run.observation.secrets);
    let mut package = Package::new(secrets);
    assemble(
        &mut package,
        &scenario,
        &run,
        &item,
        &choice,
        &project,
        &args,
    )?;
    let written = if args.archive {
        package
            .write_archive(&dest, default_name.trim_end_matches(".tar.gz"), args.force)
            .await
    } else {
        package.write_folder(&dest, args.force)
    };
    written.map_err(destination_error)?;
    let shown = args.output.unwrap_or_else(|| PathBuf::from(default_name));
    out.stdout(&format!(
        "wrote {}; the scenario {} against `{}`",
        shown.display(),
        contents::outcome_word(item.outcome),
        choice.label
    ));
    Ok(super::Outcome::Success)
}

/// Run `scenario` once against `choice`, and judge the run as `run` does, against a copy of the
/// accepted snapshot so that nothing is written into the project. A run that could not be
/// carried out is the command's error.
async fn run_and_judge(
    scenario: &Arc<Scenario>,
    choice: &Arc<TargetChoice>,
    placement: Placement,
    project: &Project,
    file: &Path,
    scratch_in: &Path,
) -> Result<(ScenarioRun, RunItem), CliError> {
    let job = Job {
        scenario: scenario.clone(),
        target: choice.clone(),
        placement,
    };
    let result = run::run_jobs(
        vec![job],
        run::http_client(),
        project.root.clone(),
        1,
        |_, _| {},
    )
    .await
    .pop()
    .ok_or_else(|| CliError::new(ErrorKind::Internal, "the run gave no result"))?;
    if let Err(err) = result {
        let no_target = matches!(err, RunError::NoTarget { .. });
        let error = super::run::run_error(err);
        return Err(if no_target {
            error.with_help(format!(
                "e.g. `reenact package {} --target NAME` (a target of reenact.toml), or `--target-cmd`",
                file.display()
            ))
        } else {
            error
        });
    }
    // Next to the package, like its own temporary: nothing goes where the user did not point.
    let scratch = tempfile::Builder::new()
        .prefix(".reenact-package-")
        .tempdir_in(scratch_in)
        .map_err(|err| {
            CliError::environment(format!(
                "failed to create a temporary folder in `{}`",
                scratch_in.display()
            ))
            .with_source(err)
        })?;
    let accepted = snapshot::snapshot_path(&project.root.join("snapshots"), &scenario.id);
    if accepted.is_file() {
        std::fs::copy(
            &accepted,
            snapshot::snapshot_path(scratch.path(), &scenario.id),
        )
        .map_err(|err| {
            CliError::environment(format!("failed to read `{}`", accepted.display()))
                .with_source(err)
        })?;
    }
    let item = super::run::judge(scenario, &result, scratch.path(), project, choice, false);
    match result {
        Ok(run) => Ok((run, item)),
        Err(_) => Err(CliError::new(ErrorKind::Internal, "the run was lost")),
    }
}

/// Refuse a destination that is, or holds, one of `kept` (the project, the scenario, the current
/// folder): `--force` would replace it with the package.
fn refuse_enclosing(dest: &Path, kept: &[&Path]) -> Result<(), CliError> {
    let Ok(dest) = std::fs::canonicalize(dest) else {
        // Nothing there yet: it holds nothing.
        return Ok(());
    };
    for path in kept {
        if std::fs::canonicalize(path).is_ok_and(|path| path.starts_with(&dest)) {
            return Err(CliError::invalid_input(format!(
                "`{}` holds `{}`: a package does not replace it",
                dest.display(),
                path.display()
            ))
            .with_help("choose a new folder with `-o PATH`, e.g. `-o ../SUP-4821`"));
        }
    }
    Ok(())
}

pub(super) fn destination_error(err: PackageError) -> CliError {
    match &err {
        PackageError::Exists { .. } => CliError::from_error(ErrorKind::InvalidInput, err)
            .with_help("choose another place with `-o PATH`, or replace it with `--force`"),
        PackageError::WrongKind { .. } => CliError::from_error(ErrorKind::InvalidInput, err)
            .with_help("choose another place with `-o PATH`"),
        PackageError::Io { .. } => CliError::from_error(ErrorKind::Environment, err)
            .with_help("check that the destination's folder exists and is writable"),
    }
}

/// Add every file of the package: the scenario's, then what the run produced, then the README
/// that indexes them all.
fn assemble(
    package: &mut Package,
    scenario: &Scenario,
    run: &ScenarioRun,
    item: &RunItem,
    choice: &TargetChoice,
    project: &Project,
    args: &PackageArgs,
) -> Result<(), CliError> {
    let mut index: Vec<(String, String)> = vec![("README.md".into(), "this file".into())];
    let root = &scenario.source.root;
    let scenario_file = in_root(&scenario.source.path, root);
    let mut redacted_files = Vec::new();
    let mut left_out = Vec::new();
    for (file, what) in std::iter::once((&scenario.source.path, "the scenario")).chain(
        scenario
            .source
            .files
            .iter()
            .map(|file| (file, "a file the scenario reads")),
    ) {
        let name = in_root(file, root);
        // Read again as loading read it: a regular file, bounded (it may have changed since).
        let bytes =
            crate::scenario::paths::read_regular(file, crate::scenario::paths::MAX_FILE_BYTES)
                .map_err(|err| {
                    CliError::environment(format!("failed to read `{}`", file.display()))
                        .with_source(err)
                })?;
        if bytes.len() > crate::scenario::paths::MAX_FILE_BYTES {
            return Err(CliError::environment(format!(
                "`{}` grew past {} MiB since the scenario was loaded",
                file.display(),
                crate::scenario::paths::MAX_FILE_BYTES / (1024 * 1024)
            ))
            .with_help("package the scenario again once its files stop changing"));
        }
        let Ok(text) = String::from_utf8(bytes) else {
            left_out.push(name);
            continue;
        };
        let path = format!("scenario/{name}");
        if package.redact(&text) != text {
            redacted_files.push(path.clone());
        }
        package.add(path.clone(), &text);
        index.push((path, what.to_owned()));
    }
    let accepted = snapshot::snapshot_path(&project.root.join("snapshots"), &scenario.id);
    let accepted_bytes =
        crate::scenario::paths::read_regular(&accepted, crate::scenario::paths::MAX_FILE_BYTES)
            .ok()
            .filter(|bytes| bytes.len() <= crate::scenario::paths::MAX_FILE_BYTES);
    if let Some(text) = accepted_bytes.and_then(|bytes| String::from_utf8(bytes).ok()) {
        let path = format!("scenario/snapshots/{}.snap", scenario.id);
        package.add(path.clone(), &text);
        index.push((
            path,
            "the accepted snapshot, compared by `reenact run`".into(),
        ));
    }
    let (toml, reproduce, toml_redacted) = project_file(choice, project, &scenario_file, args);
    if toml_redacted || package.redact(&toml) != toml {
        redacted_files.push("scenario/reenact.toml".to_owned());
    }
    package.add("scenario/reenact.toml", &toml);
    index.push((
        "scenario/reenact.toml".into(),
        "the project file `reenact run` reads there".into(),
    ));

    let exchange = contents::failing_exchange(&item.id, &run.observation, &run.expectations);
    package.add_json("failing-exchange.json", &exchange);
    // The Markdown is made from the redacted document, and redacted again as it is added.
    package.add(
        "failing-exchange.md",
        &contents::failing_exchange_markdown(&package.redact_json(&exchange)),
    );
    index.push((
        "failing-exchange.md".into(),
        "the failed step's request and response, and every request each mock received".into(),
    ));
    index.push(("failing-exchange.json".into(), "the same, as JSON".into()));
    let observation = snapshot::content(&run.observation, &run.expectations, &scenario.snapshot);
    package.add("observation.json", observation.as_str());
    index.push((
        "observation.json".into(),
        "the observation, normalized as snapshots hold it".into(),
    ));
    package.add("target.log", &lines(&run.observation.target_log));
    index.push(("target.log".into(), "what the target printed".into()));
    for (mock, log) in &run.observation.mock_logs {
        let path = format!("mocks/{mock}.log");
        package.add(path.clone(), &lines(log));
        index.push((path, format!("what mock `{mock}`'s container printed")));
    }
    let report = serde_json::to_value(super::run::run_report(&choice.label, vec![item.clone()]))
        .unwrap_or_default();
    package.add_json("report.json", &report);
    index.push((
        "report.json".into(),
        "the run report, as `reenact run --format json` prints it".into(),
    ));
    package.add(
        "report.html",
        &crate::report::html::render(&package.redact_json(&report)),
    );
    index.push((
        "report.html".into(),
        "the run report as one self-contained page (open it in a browser, offline)".into(),
    ));
    package.add(
        "versions.txt",
        &contents::versions(choice, &contents::os_description()),
    );
    index.push((
        "versions.txt".into(),
        "reenact, target and operating system versions".into(),
    ));
    let date = now_rfc3339();
    let readme = contents::readme(&Facts {
        scenario,
        item,
        target: choice,
        reproduce: &reproduce,
        date: &date,
        redacted_files: &redacted_files,
        left_out: &left_out,
        index: &index,
    });
    package.add("README.md", &readme);
    Ok(())
}

fn lines(lines: &[String]) -> String {
    let mut text = lines.join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    text
}

/// `path` relative to the scenario's root, with `/` (its file name when outside it).
fn in_root(path: &Path, root: &Path) -> String {
    let absolute = |path: &Path| std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let path = absolute(path);
    let relative = match path.strip_prefix(absolute(root)) {
        Ok(relative) => relative.to_path_buf(),
        Err(_) => PathBuf::from(path.file_name().unwrap_or_default()),
    };
    relative
        .components()
        .map(|part| part.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// The package's `reenact.toml` and the command that runs the scenario again from the
/// package's top folder, with what the user must supply.
fn project_file(
    choice: &TargetChoice,
    project: &Project,
    scenario_file: &str,
    args: &PackageArgs,
) -> (String, Reproduce, bool) {
    let mut toml =
        String::from("# reenact project file of an escalation package (see ../README.md).\n");
    let quote = crate::package::write::shell_quote;
    let mut command = format!("cd scenario && reenact run {}", quote(scenario_file));
    let mut notes = Vec::new();
    let mut redacted = false;
    if let Some(backend) = args.backend {
        command.push_str(match backend {
            Backend::Inprocess => " --backend inprocess",
            Backend::Docker => " --backend docker",
        });
    }
    if let Some(setting) = project.backend {
        toml.push_str(match setting {
            crate::project::BackendSetting::InProcess => "\n[run]\nbackend = \"inprocess\"\n",
            crate::project::BackendSetting::Docker => "\n[run]\nbackend = \"docker\"\n",
        });
    }
    if let Some(cmd) = &args.target.target_cmd {
        command.push_str(&format!(" --target-cmd {}", quote(cmd)));
        notes.push(
            "`--target-cmd` is the command the package was made with: its program must exist on this machine (or give your own build's command)".to_owned(),
        );
    } else if let Some(url) = &args.target.target_url {
        command.push_str(&format!(" --target-url {}", quote(url)));
        notes.push(format!(
            "the target must be running at `{url}` first (or give the URL of your own build with `--target-url`)"
        ));
    } else if let Some(image) = &args.target.target_image {
        command.push_str(&format!(" --target-image {}", quote(image)));
        notes.push(format!(
            "needs a Docker engine and the local image `{image}` (`reenact image BINARY` makes one from the target's binary)"
        ));
    } else if let Some(def) = &choice.def {
        // A target of reenact.toml, named or the default.
        command.push_str(&format!(" --target {}", quote(&choice.label)));
        let (table, secret_env) = target_table(&choice.label, def, &project.root);
        toml.push_str(&table);
        redacted |= secret_env;
        if let Some(build) = &def.build {
            notes.push(format!(
                "the target's `build` (`{}`) ran in the original project and is left out here: build the target there first",
                build.join(" ")
            ));
        }
        if def.is_container() {
            notes.push("the target runs as a container: it needs a Docker engine".to_owned());
        }
    }
    (toml, Reproduce { command, notes }, redacted)
}

/// A `[targets."NAME"]` table for the package's `reenact.toml`: the definition of the target
/// the package ran against, without its `build`, with paths of the original project made
/// absolute and secret-named environment values redacted (and whether there was one).
fn target_table(label: &str, def: &TargetDef, root: &Path) -> (String, bool) {
    use crate::package::write::toml_string;
    let absolute = |path: &str| {
        let in_project = root.join(path);
        if !Path::new(path).is_absolute() && path.contains('/') && in_project.exists() {
            std::path::absolute(&in_project)
                .unwrap_or(in_project)
                .display()
                .to_string()
        } else {
            path.to_owned()
        }
    };
    let list = |items: &[String]| {
        items
            .iter()
            .map(|item| toml_string(item))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut table = format!("\n[targets.{}]\n", toml_string(label));
    if let Some(command) = &def.command {
        let mut command = command.clone();
        // The program of a command target; an image's command holds only arguments.
        if !def.is_container()
            && let Some(program) = command.first_mut()
        {
            *program = absolute(program);
        }
        table.push_str(&format!("command = [{}]\n", list(&command)));
    }
    if let Some(url) = &def.url {
        table.push_str(&format!("url = {}\n", toml_string(url)));
    }
    if let Some(image) = &def.image {
        table.push_str(&format!("image = {}\n", toml_string(image)));
    } else if let Some(binary) = &def.image_from {
        let binary = absolute(&binary.to_string_lossy());
        table.push_str(&format!("image_from = {}\n", toml_string(&binary)));
    }
    if let Some(port) = def.port {
        table.push_str(&format!("port = {port}\n"));
    }
    let mut redacted = false;
    if !def.env.is_empty() {
        table.push_str("[targets.");
        table.push_str(&toml_string(label));
        table.push_str(".env]\n");
        for (name, value) in &def.env {
            let value = if is_secret_name(name) {
                redacted = true;
                REDACTED
            } else {
                value
            };
            table.push_str(&format!("{} = {}\n", toml_string(name), toml_string(value)));
        }
    }
    (table, redacted)
}

/// Now, RFC 3339 UTC to the second.
fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    now.replace_nanosecond(0)
        .unwrap_or(now)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_named_target_is_copied_runnable_and_redacted() {
        let def = TargetDef {
            build: Some(vec!["cargo".into(), "build".into()]),
            command: Some(vec![
                "/opt/app".into(),
                "--port".into(),
                "{{ target.port }}".into(),
            ]),
            env: [
                ("API_TOKEN".to_owned(), "tok-123456789".to_owned()),
                ("MODE".to_owned(), "strict".to_owned()),
            ]
            .into_iter()
            .collect(),
            ..TargetDef::default()
        };
        let (table, redacted) = target_table("app@1.2", &def, Path::new("/nowhere"));
        assert!(redacted);
        assert_eq!(
            table,
            "\n[targets.\"app@1.2\"]\ncommand = [\"/opt/app\", \"--port\", \"{{ target.port }}\"]\n\
             [targets.\"app@1.2\".env]\n\"API_TOKEN\" = \"[redacted]\"\n\"MODE\" = \"strict\"\n"
        );
        let parsed: toml::Table = toml::from_str(&table).unwrap();
        assert!(parsed["targets"]["app@1.2"].get("build").is_none());
    }

    #[test]
    fn paths_in_the_package_are_relative_to_the_scenario_root() {
        assert_eq!(
            in_root(Path::new("/p/scenarios/a.yaml"), Path::new("/p")),
            "scenarios/a.yaml"
        );
        assert_eq!(in_root(Path::new("/q/b.yaml"), Path::new("/p")), "b.yaml");
    }
}
