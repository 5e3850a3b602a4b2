//! `reenact run`: run scenarios against one build; expectations and snapshots decide.

use std::path::Path;
use std::sync::Arc;

use clap::Args;

use crate::backend::{BackendError, Placement};
use crate::project::{Project, ProjectSource, TargetDef};
use crate::report::{
    FailedStep, Outcome, REENACT_VERSION, REPORT_VERSION, RunItem, RunReport, log_tail, now_utc,
};
use crate::run::{self, Control, Job, JobEvent, RunError, ScenarioRun, TargetChoice};
use crate::scenario::Scenario;
use crate::scenario::select::severity_name;
use crate::snapshot::{self, Comparison};
use crate::target::TargetError;

use super::output::Style;
use super::progress::Progress;
use super::scenarios::PathsArgs;
use super::select::SelectArgs;
use super::{CliError, ErrorKind, Output, ReportFormat, RunnerArgs};

/// Arguments of `run`.
#[derive(Debug, Args)]
pub(super) struct RunArgs {
    #[command(flatten)]
    paths: PathsArgs,
    #[command(flatten)]
    select: SelectArgs,
    #[command(flatten)]
    target: TargetArgs,
    /// Store the observations as the accepted snapshots.
    #[arg(long)]
    accept: bool,
    #[command(flatten)]
    runner: RunnerArgs,
}

/// The flags that choose one target (`run`, `package`).
#[derive(Debug, Args)]
pub(super) struct TargetArgs {
    /// Target named in reenact.toml (default: `run.target` there, else the scenario's own).
    #[arg(long, conflicts_with_all = ["target_cmd", "target_url", "target_image"])]
    pub target: Option<String>,
    /// Target command given inline, e.g. "bin/app --port {{ target.port }}" (no shell runs it:
    /// quotes and leading `NAME=value` variables are read as a shell would, nothing is expanded).
    #[arg(long, conflicts_with_all = ["target_url", "target_image"])]
    pub target_cmd: Option<String>,
    /// URL of a target already running.
    #[arg(long, conflicts_with = "target_image")]
    pub target_url: Option<String>,
    /// A local Docker image to run as the target, listening on port 8080 in its container
    /// (needs `--backend docker`; `reenact image BINARY` makes one).
    #[arg(long)]
    pub target_image: Option<String>,
}

impl TargetArgs {
    /// The flags, for [`choose_target`].
    pub(super) fn flags(&self) -> TargetFlags<'_> {
        TargetFlags {
            name: self.target.as_deref(),
            cmd: self.target_cmd.as_deref(),
            url: self.target_url.as_deref(),
            image: self.target_image.as_deref(),
            flag: "target",
        }
    }
}

/// Which target the user chose, by flag.
pub(super) struct TargetFlags<'a> {
    /// `--X` (a name from reenact.toml).
    pub name: Option<&'a str>,
    /// `--X-cmd`.
    pub cmd: Option<&'a str>,
    /// `--X-url`.
    pub url: Option<&'a str>,
    /// `--X-image`.
    pub image: Option<&'a str>,
    /// Flag prefix for messages (`target`, `before`, `after`).
    pub flag: &'a str,
}

/// Turn flags into a target choice; `None` flags fall back to `fallback`.
pub(super) fn choose_target(
    flags: &TargetFlags<'_>,
    project: &Project,
    fallback: Option<&str>,
) -> Result<TargetChoice, CliError> {
    if let Some(cmd) = flags.cmd {
        let mut command = run::split_command(cmd).map_err(|err| {
            CliError::invalid_input(format!("invalid `--{}-cmd`", flags.flag)).with_source(err)
        })?;
        // No shell runs the command: leading `NAME=value` words are taken as a shell would.
        let env = run::take_env_assignments(&mut command);
        if command.is_empty() {
            return Err(CliError::invalid_input(format!(
                "invalid `--{}-cmd`: it sets variables but names no program",
                flags.flag
            ))
            .with_help(format!(
                "e.g. `--{}-cmd \"ACME_RELEASE=2.3.0 python3 app.py --port {{{{ target.port }}}}\"`",
                flags.flag
            )));
        }
        return Ok(TargetChoice {
            label: cmd.to_string(),
            def: Some(TargetDef {
                command: Some(command),
                env,
                ..TargetDef::default()
            }),
        });
    }
    if let Some(url) = flags.url {
        return Ok(TargetChoice {
            label: url.to_string(),
            def: Some(TargetDef {
                url: Some(url.to_string()),
                ..TargetDef::default()
            }),
        });
    }
    if let Some(image) = flags.image {
        return Ok(TargetChoice {
            label: image.to_string(),
            def: Some(TargetDef {
                image: Some(image.to_string()),
                ..TargetDef::default()
            }),
        });
    }
    match flags.name.or(fallback) {
        Some(name) => TargetChoice::named(project, name).map_err(|err| {
            let names: Vec<&str> = project.targets.keys().map(String::as_str).collect();
            let help = crate::scenario::suggest::did_you_mean(name, &names)
                .map(|s| format!("did you mean `{s}`?"));
            CliError::from_error(ErrorKind::InvalidInput, err).with_optional_help(help)
        }),
        None => Ok(TargetChoice::from_scenario()),
    }
}

/// Build a target (when it has a `build` command), saying so on stderr.
pub(super) fn build(
    choice: &TargetChoice,
    project: &Project,
    format: ReportFormat,
    out: &Output,
) -> Result<(), CliError> {
    if choice.def.as_ref().and_then(|d| d.build.as_ref()).is_some() && format == ReportFormat::Human
    {
        out.stderr(&format!("building target `{}` …", choice.label));
    }
    run::build_target(choice, &project.root, format == ReportFormat::Human).map_err(run_error)
}

/// Image an `image_from` target's binary (after its build), as `reenact image` does.
pub(super) async fn image(
    choice: &mut TargetChoice,
    project: &Project,
    placement: &Placement,
) -> Result<(), CliError> {
    run::image_target(choice, &project.root, placement)
        .await
        .map_err(run_error)
}

/// A run error that stops the command: an environment failure, with help and the target's
/// last lines.
pub(super) fn run_error(err: RunError) -> CliError {
    let (help, detail) = (help_for(&err, None), last_lines(&err));
    CliError::from_error(ErrorKind::Environment, err)
        .with_optional_help(help)
        .with_detail(detail)
}

/// Print the error of one scenario's run, with help (naming the project file read, when
/// `project` is given) and the target's last lines.
pub(super) fn report_run_error(err: &RunError, project: Option<&ProjectSource>, out: &Output) {
    out.error_of(
        err,
        help_for(err, project).as_deref(),
        last_lines(err).as_deref(),
    );
}

/// The target's last output lines an error holds, redacted and indented, if any.
fn last_lines(err: &RunError) -> Option<String> {
    let tail: &[String] = match err {
        RunError::Target { source, .. } => source.log_tail(),
        RunError::Build { log_tail, .. } => log_tail,
        RunError::Mock { source, .. } => source.log_tail(),
        _ => &[],
    };
    if tail.is_empty() {
        return None;
    }
    let shown = &tail[tail.len().saturating_sub(15)..];
    Some(format!(
        "  last output lines:\n{}",
        shown
            .iter()
            .map(|line| format!("  | {}", crate::secrets::redact_text(line)))
            .collect::<Vec<_>>()
            .join("\n")
    ))
}

fn help_for(err: &RunError, project: Option<&ProjectSource>) -> Option<String> {
    if let RunError::Target { source, .. } = err
        && let Some(port) = source.wrong_port()
    {
        return Some(format!(
            "it was told to listen on port {port}: is its port set from `{{{{ target.port }}}}` (e.g. `--port {{{{ target.port }}}}` in its command)?"
        ));
    }
    let help = match err {
        RunError::Target { source, .. } => Some(match &**source {
            TargetError::Container(inner) if matches!(**inner, BackendError::NoImage { .. }) => {
                "make it with `reenact image BINARY` (or `image_from` in reenact.toml); `docker image ls` lists the local images"
            }
            TargetError::Container(_) => {
                "run with -v for details; `reenact clean` removes what a run left behind"
            }
            _ => "check the target's command and its `ready` probe; run with -v for details",
        }),
        RunError::NoTarget { .. } => {
            let example = "e.g. `reenact run scenarios/ --target NAME`";
            return Some(match project {
                Some(source @ ProjectSource::File(_)) => {
                    format!("{example} ({source} sets no `run.target`)")
                }
                Some(source @ ProjectSource::NotFound(_)) => format!("{example} ({source})"),
                None => example.to_owned(),
            });
        }
        _ => None,
    };
    help.map(str::to_owned)
}

/// Run `run`.
pub(super) async fn run(
    args: RunArgs,
    cwd: &Path,
    out: &Output,
) -> Result<super::Outcome, CliError> {
    let report_files = args.runner.reports.check(cwd)?;
    let (project, selection) =
        super::scenarios::selected_suite(&args.paths.paths, &args.select, cwd, out)?;
    let human = args.runner.format == ReportFormat::Human;
    if human && let Some(line) = selection.left_out_line() {
        out.stderr(&line);
    }
    let scenarios = selection.scenarios;
    let mut choice = choose_target(
        &args.target.flags(),
        &project,
        project.default_target.as_deref(),
    )?;
    let backends = args
        .runner
        .backends(&project, &scenarios, &[&choice])
        .await?;
    build(&choice, &project, args.runner.format, out)?;
    image(&mut choice, &project, backends.docker_or_inprocess()).await?;
    let choice = Arc::new(choice);
    let scenarios: Vec<Arc<Scenario>> = scenarios.into_iter().map(Arc::new).collect();
    let jobs = scenarios
        .iter()
        .enumerate()
        .map(|(index, scenario)| Job {
            scenario: scenario.clone(),
            target: choice.clone(),
            placement: backends.placement(index, 0),
        })
        .collect();
    let snapshots = project.root.join("snapshots");
    let mut items: Vec<Option<RunItem>> = vec![None; scenarios.len()];
    let mut progress = Progress::new(scenarios.len(), super::progress::wanted(human, out));
    let mut first_failure: Option<String> = None;
    let started = std::time::Instant::now();
    // When each run started: a run that could not be carried out reports the time it took too.
    let mut run_started: Vec<Option<std::time::Instant>> = vec![None; scenarios.len()];
    run::run_jobs_watched(
        jobs,
        run::http_client(),
        project.root.clone(),
        args.runner.jobs(),
        |event| {
            let (index, result) = match event {
                JobEvent::Started(index) => {
                    run_started[index] = Some(std::time::Instant::now());
                    progress.started(&scenarios[index].id, out);
                    return Control::Continue;
                }
                JobEvent::Finished(index, result) => (index, result),
            };
            let scenario = &scenarios[index];
            if let Ok(run) = result {
                out.learn(&run.observation.secrets);
            }
            let mut item = judge(scenario, result, &snapshots, &project, &choice, args.accept);
            if let (Err(_), Some(at)) = (result, run_started[index]) {
                item.duration_ms = at.elapsed().as_millis() as u64;
            }
            let failed = item.outcome != Outcome::Passed;
            progress.finished(&scenario.id, failed, out);
            if human {
                progress.above(|| print_item(&item, result.as_ref().err(), &project.source, out));
            }
            items[index] = Some(item);
            if failed && args.runner.fail_fast {
                first_failure.get_or_insert_with(|| scenario.id.clone());
                return Control::Stop;
            }
            Control::Continue
        },
    )
    .await;
    progress.finish();
    let items: Vec<RunItem> = items
        .into_iter()
        .zip(&scenarios)
        .map(|(item, scenario)| {
            item.unwrap_or_else(|| not_run(scenario, &project, first_failure.as_deref()))
        })
        .collect();
    let count = |outcome| items.iter().filter(|i| i.outcome == outcome).count();
    let (passed, failed, errors, not_run) = (
        count(Outcome::Passed),
        count(Outcome::Failed),
        count(Outcome::Error),
        count(Outcome::NotRun),
    );
    if human {
        for item in items.iter().filter(|i| i.outcome == Outcome::NotRun) {
            print_item(item, None, &project.source, out);
        }
        let mut summary = format!(
            "\n{} scenario(s) against `{}`: {passed} passed, {failed} failed",
            items.len(),
            choice.label
        );
        if errors > 0 {
            summary.push_str(&format!(", {errors} could not run"));
        }
        if not_run > 0 {
            summary.push_str(&format!(", {not_run} not run (--fail-fast)"));
        }
        summary.push_str(&format!(" ({:.1}s)", started.elapsed().as_secs_f64()));
        out.stdout(&summary);
        if failed > 0 && !args.accept {
            out.stdout("pending snapshots: `reenact review` to accept or reject them");
        }
    }
    let report = serde_json::to_value(run_report(&choice.label, items)).map_err(|err| {
        CliError::new(ErrorKind::Internal, "failed to make the report").with_source(err)
    })?;
    super::report::emit(args.runner.format, &report_files, &report, out)?;
    Ok(if errors > 0 {
        super::Outcome::ErrorsInReport(ErrorKind::Environment)
    } else if failed > 0 {
        super::Outcome::Failed
    } else {
        super::Outcome::Success
    })
}

/// The report of a run of `items` against the target labelled `target` (`run --format json`,
/// a package's `report.json`).
pub(super) fn run_report(target: &str, items: Vec<RunItem>) -> RunReport {
    RunReport {
        version: REPORT_VERSION,
        command: "run",
        reenact: REENACT_VERSION,
        date: now_utc(),
        target: target.to_owned(),
        scenarios: items,
    }
}

/// Why a scenario `--fail-fast` kept from running was not run.
pub(super) fn not_run_reason(first_failure: Option<&str>) -> String {
    match first_failure {
        Some(id) => format!("not run: `--fail-fast` stopped the suite after `{id}` failed"),
        None => "not run: `--fail-fast` stopped the suite".to_owned(),
    }
}

/// The report item of a scenario that `--fail-fast` kept from running.
fn not_run(scenario: &Scenario, project: &Project, first_failure: Option<&str>) -> RunItem {
    RunItem {
        id: scenario.id.clone(),
        title: scenario.title.clone(),
        ticket: scenario.ticket.clone(),
        severity: scenario.severity.map(severity_name),
        tags: scenario.tags.clone(),
        file: relative(&scenario.source.path, &project.root),
        outcome: Outcome::NotRun,
        expectations: Vec::new(),
        failed_step: None,
        snapshot: "skipped".into(),
        snapshot_diff: None,
        snapshot_scenario_changed: false,
        error: Some(not_run_reason(first_failure)),
        journal_dropped: Default::default(),
        target_log: Vec::new(),
        mock_logs: Default::default(),
        timeline: Vec::new(),
        duration_ms: 0,
    }
}

/// The report item of a scenario's run: its expectations, failed step and logs, and its
/// snapshot compared with the accepted one in `snapshots` (stored there with `accept`).
pub(super) fn judge(
    scenario: &Scenario,
    result: &Result<ScenarioRun, RunError>,
    snapshots: &Path,
    project: &Project,
    target: &TargetChoice,
    accept: bool,
) -> RunItem {
    let file = relative(&scenario.source.path, &project.root);
    let mut item = RunItem {
        id: scenario.id.clone(),
        title: scenario.title.clone(),
        ticket: scenario.ticket.clone(),
        severity: scenario.severity.map(severity_name),
        tags: scenario.tags.clone(),
        file: file.clone(),
        outcome: Outcome::Error,
        expectations: Vec::new(),
        failed_step: None,
        snapshot: "skipped".into(),
        snapshot_diff: None,
        snapshot_scenario_changed: false,
        error: None,
        journal_dropped: Default::default(),
        target_log: Vec::new(),
        mock_logs: Default::default(),
        timeline: Vec::new(),
        duration_ms: 0,
    };
    let run = match result {
        Ok(run) => run,
        Err(err) => {
            item.error = Some(crate::errors::one_line(err));
            return item;
        }
    };
    item.duration_ms = run.duration.as_millis() as u64;
    item.journal_dropped = run
        .observation
        .mocks
        .iter()
        .filter(|(_, journal)| journal.dropped > 0)
        .map(|(name, journal)| (name.clone(), journal.dropped))
        .collect();
    let secrets = &run.observation.secrets;
    item.target_log = log_tail(&run.observation.target_log, secrets);
    item.mock_logs = run
        .observation
        .mock_logs
        .iter()
        .map(|(mock, lines)| (mock.clone(), log_tail(lines, secrets)))
        .collect();
    item.timeline = crate::report::timeline::timeline(&run.observation, secrets);
    item.expectations = run.expectations.clone();
    item.failed_step = run.failed_step().map(|(name, reason)| FailedStep {
        name: name.to_string(),
        reason: secrets.redact(reason),
    });
    let snapshot_ok = if scenario.snapshot.disabled {
        item.snapshot = "off".into();
        true
    } else {
        match compare_snapshot(scenario, run, snapshots, project, target, accept, &mut item) {
            Ok(ok) => ok,
            Err(err) => {
                item.error = Some(crate::errors::one_line(&err));
                return item;
            }
        }
    };
    let holds = run.behaviour == crate::verdict::Behaviour::Holds;
    item.outcome = if holds && snapshot_ok {
        Outcome::Passed
    } else {
        Outcome::Failed
    };
    item
}

/// Compare a run's snapshot with the accepted one (storing it with `accept`), recording on `item`
/// how it compared and whether the scenario changed since the accepted one; whether it passes.
fn compare_snapshot(
    scenario: &Scenario,
    run: &ScenarioRun,
    snapshots: &Path,
    project: &Project,
    target: &TargetChoice,
    accept: bool,
    item: &mut RunItem,
) -> Result<bool, snapshot::SnapshotError> {
    let content = snapshot::content(&run.observation, &run.expectations, &scenario.snapshot);
    let image = target.def.as_ref().and_then(|def| def.image.as_deref());
    let provenance =
        snapshot::Provenance::new(&scenario.source.hash, &target.label, image, &project.root);
    let recorded =
        snapshot::recorded_scenario_hash(&snapshot::snapshot_path(snapshots, &scenario.id));
    let header = snapshot::Header {
        source: &item.file,
        title: &scenario.title,
        provenance: Some(&provenance),
    };
    let comparison = snapshot::compare(snapshots, &scenario.id, &header, &content, accept)?;
    // With `--accept` the file now records this scenario, whatever the comparison.
    item.snapshot_scenario_changed =
        !accept && recorded.is_some_and(|hash| hash != scenario.source.hash);
    Ok(match comparison {
        Comparison::Matches => {
            item.snapshot = "matches".into();
            true
        }
        Comparison::Accepted(_) => {
            item.snapshot = "accepted".into();
            true
        }
        Comparison::New(_) => {
            item.snapshot = "new".into();
            false
        }
        Comparison::Differs { diff, .. } => {
            item.snapshot = "differs".into();
            // The accepted side may come from a reenact that masked less.
            item.snapshot_diff = Some(run.observation.secrets.redact(&diff));
            false
        }
    })
}

/// A path relative to the project root when it is inside it.
pub(super) fn relative(path: &Path, root: &Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let root = std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf());
    absolute
        .strip_prefix(&root)
        .unwrap_or(path)
        .display()
        .to_string()
}

fn print_item(item: &RunItem, error: Option<&RunError>, project: &ProjectSource, out: &Output) {
    let (label, style) = match item.outcome {
        Outcome::Passed => ("PASS ", Style::Green),
        Outcome::Failed => ("FAIL ", Style::Red),
        Outcome::Error => ("ERROR", Style::Red),
        Outcome::NotRun => ("SKIP ", Style::Yellow),
    };
    out.stdout(&format!(
        "{}  {}  {}",
        out.paint(style, label),
        out.paint(Style::Bold, &item.id),
        out.paint(
            Style::Dim,
            &if item.outcome == Outcome::NotRun {
                "(not run)".to_owned()
            } else {
                format!("({} ms)", item.duration_ms)
            }
        )
    ));
    if item.outcome == Outcome::NotRun {
        return;
    }
    if let Some(err) = error {
        report_run_error(err, Some(project), out);
        return;
    }
    if let Some(message) = &item.error {
        out.stdout(&format!("       {message}"));
    }
    for (mock, dropped) in &item.journal_dropped {
        out.stdout(&format!(
            "       {}: mock `{mock}` received {dropped} request(s) after its journal limit; they are not in the observation",
            out.paint(Style::Yellow, "warning")
        ));
    }
    if let Some(step) = &item.failed_step {
        out.stdout(&format!(
            "       step `{}` failed: {}",
            step.name, step.reason
        ));
    }
    for expectation in item.expectations.iter().filter(|e| !e.passed) {
        out.stdout(&format!(
            "       expectation `{}` failed: {}",
            expectation.name, expectation.detail
        ));
    }
    if item.snapshot_scenario_changed {
        out.stdout(&format!(
            "       {}: the scenario changed since `snapshots/{}.snap` was accepted (`--accept` records the new one)",
            out.paint(Style::Yellow, "note"),
            item.id
        ));
    }
    match item.snapshot.as_str() {
        "new" => out.stdout(&format!(
            "       snapshot: new, written to `snapshots/{}.snap.new`",
            item.id
        )),
        "differs" => {
            out.stdout(&format!(
                "       snapshot: differs from `snapshots/{}.snap` (new one in `.snap.new`):",
                item.id
            ));
            if let Some(diff) = &item.snapshot_diff {
                out.stdout(&indent_diff(diff, out));
            }
        }
        "accepted" => out.stdout(&format!(
            "       snapshot: accepted into `snapshots/{}.snap`",
            item.id
        )),
        _ => {}
    }
}

/// Indent a unified diff and color its lines.
pub(super) fn indent_diff(diff: &str, out: &Output) -> String {
    diff.lines()
        .map(|line| {
            let painted = if line.starts_with('+') && !line.starts_with("+++") {
                out.paint(Style::Green, line)
            } else if line.starts_with('-') && !line.starts_with("---") {
                out.paint(Style::Red, line)
            } else {
                line.to_string()
            };
            format!("         {painted}")
        })
        .collect::<Vec<_>>()
        .join("\n")
}
