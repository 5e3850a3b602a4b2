//! `reenact validate`: judge a fix by running each scenario on the build before and after it.

use std::path::Path;
use std::sync::Arc;

use clap::Args;

use crate::report::{
    BuildSummary, FailedStep, REENACT_VERSION, REPORT_VERSION, ValidateItem, ValidateReport,
    behaviour_diff, log_tail, now_utc, timeline::timeline,
};
use crate::run::{self, Control, Job, JobEvent, RunError, ScenarioRun, TargetChoice};
use crate::scenario::Scenario;
use crate::scenario::select::severity_name;
use crate::snapshot;
use crate::verdict::{Behaviour, Verdict, disagreements, judge};

use super::output::Style;
use super::progress::Progress;
use super::run::{
    TargetFlags, build, choose_target, image, indent_diff, relative, report_run_error,
};
use super::scenarios::PathsArgs;
use super::select::SelectArgs;
use super::{CliError, ErrorKind, Outcome, Output, ReportFormat, RunnerArgs};

/// Arguments of `validate`.
#[derive(Debug, Args)]
pub(super) struct ValidateArgs {
    #[command(flatten)]
    paths: PathsArgs,
    #[command(flatten)]
    select: SelectArgs,
    /// The build with the bug: a target named in reenact.toml.
    #[arg(long, required_unless_present_any = ["before_cmd", "before_url", "before_image"], conflicts_with_all = ["before_cmd", "before_url", "before_image"])]
    before: Option<String>,
    /// The build with the bug, as an inline command (no shell: quotes and leading `NAME=value`
    /// variables are read as a shell would, nothing is expanded).
    #[arg(long, conflicts_with_all = ["before_url", "before_image"])]
    before_cmd: Option<String>,
    /// The build with the bug, already running at this URL.
    #[arg(long, conflicts_with = "before_image")]
    before_url: Option<String>,
    /// The build with the bug, as a local Docker image listening on port 8080 in its container
    /// (needs `--backend docker`).
    #[arg(long)]
    before_image: Option<String>,
    /// The build with the fix: a target named in reenact.toml.
    #[arg(long, required_unless_present_any = ["after_cmd", "after_url", "after_image"], conflicts_with_all = ["after_cmd", "after_url", "after_image"])]
    after: Option<String>,
    /// The build with the fix, as an inline command (no shell: quotes and leading `NAME=value`
    /// variables are read as a shell would, nothing is expanded).
    #[arg(long, conflicts_with_all = ["after_url", "after_image"])]
    after_cmd: Option<String>,
    /// The build with the fix, already running at this URL.
    #[arg(long, conflicts_with = "after_image")]
    after_url: Option<String>,
    /// The build with the fix, as a local Docker image listening on port 8080 in its container
    /// (needs `--backend docker`).
    #[arg(long)]
    after_image: Option<String>,
    /// Runs of each build per scenario [default: 2 of the build before the fix, 1 after it].
    /// Runs of one build whose expectations disagree make the verdict `flaky`; fields that
    /// differ between them are noise, masked in the diff and listed as such.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=20))]
    runs: Option<u32>,
    /// Show the full before/after diff of every scenario.
    #[arg(long)]
    diff: bool,
    #[command(flatten)]
    runner: RunnerArgs,
}

/// Run `validate`.
pub(super) async fn validate(
    args: ValidateArgs,
    cwd: &Path,
    out: &Output,
) -> Result<Outcome, CliError> {
    let report_files = args.runner.reports.check(cwd)?;
    let (project, selection) =
        super::scenarios::selected_suite(&args.paths.paths, &args.select, cwd, out)?;
    if args.runner.format == ReportFormat::Human
        && let Some(line) = selection.left_out_line()
    {
        out.stderr(&line);
    }
    let scenarios = selection.scenarios;
    let before_flags = TargetFlags {
        name: args.before.as_deref(),
        cmd: args.before_cmd.as_deref(),
        url: args.before_url.as_deref(),
        image: args.before_image.as_deref(),
        flag: "before",
    };
    let after_flags = TargetFlags {
        name: args.after.as_deref(),
        cmd: args.after_cmd.as_deref(),
        url: args.after_url.as_deref(),
        image: args.after_image.as_deref(),
        flag: "after",
    };
    let (mut before, mut after) = match (
        choose_target(&before_flags, &project, None),
        choose_target(&after_flags, &project, None),
    ) {
        (Ok(before), Ok(after)) => (before, after),
        (Err(before), Err(after)) => return Err(before.followed_by(after)),
        (Err(err), _) | (_, Err(err)) => return Err(err),
    };
    let backends = args
        .runner
        .backends(&project, &scenarios, &[&before, &after])
        .await?;
    let build_of = |choice: &TargetChoice| choice.def.as_ref().and_then(|d| d.build.clone());
    build(&before, &project, args.runner.format, out)?;
    // The two releases often come from one build command: run it once.
    if build_of(&after) != build_of(&before) {
        build(&after, &project, args.runner.format, out)?;
    }
    for choice in [&mut before, &mut after] {
        image(choice, &project, backends.docker_or_inprocess()).await?;
    }
    let (before, after) = (Arc::new(before), Arc::new(after));
    let human = args.runner.format == ReportFormat::Human;
    let runs = Runs::of(args.runs);
    if human {
        out.stderr(&format!(
            "validating {} scenario(s): before `{}` ({}), after `{}` ({})",
            scenarios.len(),
            before.label,
            runs_text(runs.before),
            after.label,
            runs_text(runs.after)
        ));
    }
    // Jobs: for each scenario, its runs on before then its runs on after.
    let scenarios: Vec<Arc<Scenario>> = scenarios.into_iter().map(Arc::new).collect();
    let per_scenario = runs.before + runs.after;
    let mut jobs = Vec::with_capacity(scenarios.len() * per_scenario);
    for (index, scenario) in scenarios.iter().enumerate() {
        for (side, target) in [&before, &after].into_iter().enumerate() {
            for _ in 0..[runs.before, runs.after][side] {
                jobs.push(Job {
                    scenario: scenario.clone(),
                    target: target.clone(),
                    placement: backends.placement(index, side),
                });
            }
        }
    }
    let mut finished = vec![0usize; scenarios.len()];
    let mut failed_already = vec![false; scenarios.len()];
    // Behaviours so far, per scenario: before runs, then after runs; `None` once a run erred.
    let mut behaviours: Vec<Option<(Vec<Behaviour>, Vec<Behaviour>)>> =
        vec![Some((Vec::new(), Vec::new())); scenarios.len()];
    let total_jobs = jobs.len();
    let mut done_jobs = 0;
    let mut progress = Progress::new(total_jobs, super::progress::wanted(human, out));
    let mut first_failure: Option<String> = None;
    let started = std::time::Instant::now();
    let results = run::run_jobs_watched(
        jobs,
        run::http_client(),
        project.root.clone(),
        args.runner.jobs(),
        |event| {
            let (index, result) = match event {
                JobEvent::Started(index) => {
                    progress.started(&scenarios[index / per_scenario].id, out);
                    return Control::Continue;
                }
                JobEvent::Finished(index, result) => (index, result),
            };
            done_jobs += 1;
            let scenario = index / per_scenario;
            let id = &scenarios[scenario].id;
            let slot = &mut behaviours[scenario];
            match result {
                Ok(run) => {
                    out.learn(&run.observation.secrets);
                    if let Some((before, after)) = slot {
                        let side = if index % per_scenario < runs.before {
                            before
                        } else {
                            after
                        };
                        side.push(run.behaviour);
                    }
                }
                Err(_) => *slot = None,
            }
            finished[scenario] += 1;
            // A run that erred fails its scenario at once; otherwise its last run decides.
            let failed = match slot {
                None => true,
                Some((before, after)) if finished[scenario] == per_scenario => {
                    judge(before, after) != Verdict::Fixed
                }
                Some(_) => false,
            };
            // Counted once, when first known.
            let newly_failed = failed && !failed_already[scenario];
            failed_already[scenario] |= failed;
            progress.finished(id, newly_failed, out);
            if human && finished[scenario] == per_scenario && !progress.is_drawn() {
                out.stderr(&format!("  [{done_jobs}/{total_jobs} runs] {id} done"));
            }
            if newly_failed && args.runner.fail_fast {
                first_failure.get_or_insert_with(|| id.clone());
                return Control::Stop;
            }
            Control::Continue
        },
    )
    .await;
    progress.finish();
    let mut items = Vec::with_capacity(scenarios.len());
    let mut errors = Vec::new();
    for (index, scenario) in scenarios.iter().enumerate() {
        let runs_of = &results[index * per_scenario..(index + 1) * per_scenario];
        let complete: Option<Vec<&Result<ScenarioRun, RunError>>> =
            runs_of.iter().map(Option::as_ref).collect();
        let erred = runs_of.iter().flatten().find_map(|r| r.as_ref().err());
        let item = match (complete, erred) {
            (Some(all), _) => {
                let (before_runs, after_runs) = all.split_at(runs.before);
                let (item, error) =
                    judge_scenario(scenario, before_runs, after_runs, &project.root);
                if let Some(error) = error {
                    errors.push((scenario.id.clone(), error));
                }
                item
            }
            // Some runs of it did not run (`--fail-fast`), one of the others erred: the error.
            (None, Some(error)) => {
                let mut item = empty_item(scenario, &project.root);
                item.error = Some(crate::errors::one_line(error));
                errors.push((scenario.id.clone(), error));
                item
            }
            (None, None) => {
                let mut item = empty_item(scenario, &project.root);
                item.error = Some(super::run::not_run_reason(first_failure.as_deref()));
                item
            }
        };
        items.push(item);
    }
    let report = ValidateReport {
        version: REPORT_VERSION,
        command: "validate",
        reenact: REENACT_VERSION,
        date: now_utc(),
        before: before.label.clone(),
        after: after.label.clone(),
        runs: runs.before as u32,
        after_runs: runs.after as u32,
        scenarios: items,
    };
    if human {
        print_table(&report, out, args.diff);
        for (id, error) in &errors {
            out.stderr(&format!("scenario `{id}` could not run:"));
            report_run_error(error, Some(&project.source), out);
        }
        out.stdout(&format!(
            "\n{} ({:.1}s)",
            summary(&report),
            started.elapsed().as_secs_f64()
        ));
    }
    let all_fixed = report
        .scenarios
        .iter()
        .all(|item| item.verdict == Some(Verdict::Fixed));
    let json = serde_json::to_value(&report).map_err(|err| {
        CliError::new(ErrorKind::Internal, "failed to make the report").with_source(err)
    })?;
    super::report::emit(args.runner.format, &report_files, &json, out)?;
    Ok(if !errors.is_empty() {
        Outcome::ErrorsInReport(ErrorKind::Environment)
    } else if all_fixed {
        Outcome::Success
    } else {
        Outcome::Failed
    })
}

/// How many times each build runs per scenario.
#[derive(Debug, Clone, Copy)]
struct Runs {
    before: usize,
    after: usize,
}

impl Runs {
    /// `--runs N` runs both builds N times. Without it the build before the fix runs twice: a
    /// reproduction that holds once and not twice is flaky, and what differs between the two
    /// runs is noise, masked in the comparison with the build after the fix.
    fn of(runs: Option<u32>) -> Runs {
        match runs {
            Some(n) => Runs {
                before: n as usize,
                after: n as usize,
            },
            None => Runs {
                before: 2,
                after: 1,
            },
        }
    }
}

fn runs_text(n: usize) -> String {
    if n == 1 {
        "1 run".into()
    } else {
        format!("{n} runs")
    }
}

/// The item of a scenario with no verdict (yet): identity only.
fn empty_item(scenario: &Scenario, root: &Path) -> ValidateItem {
    ValidateItem {
        id: scenario.id.clone(),
        title: scenario.title.clone(),
        ticket: scenario.ticket.clone(),
        severity: scenario.severity.map(severity_name),
        tags: scenario.tags.clone(),
        file: relative(&scenario.source.path, root),
        verdict: None,
        error: None,
        before: None,
        after: None,
        diff: None,
    }
}

fn judge_scenario<'a>(
    scenario: &Scenario,
    before: &[&'a Result<ScenarioRun, RunError>],
    after: &[&'a Result<ScenarioRun, RunError>],
    root: &Path,
) -> (ValidateItem, Option<&'a RunError>) {
    let mut item = empty_item(scenario, root);
    let mut ok_before = Vec::new();
    let mut ok_after = Vec::new();
    for (runs, ok) in [(before, &mut ok_before), (after, &mut ok_after)] {
        for result in runs {
            match *result {
                Ok(run) => ok.push(run),
                Err(err) => {
                    item.error = Some(crate::errors::one_line(err));
                    return (item, Some(err));
                }
            }
        }
    }
    let summarize = |runs: &[&ScenarioRun]| BuildSummary {
        behaviours: runs.iter().map(|r| r.behaviour).collect(),
        expectations: runs[0].expectations.clone(),
        failed_step: runs[0].failed_step().map(|(name, reason)| FailedStep {
            name: name.to_string(),
            reason: runs[0].observation.secrets.redact(reason),
        }),
        disagreements: disagreements(
            &runs
                .iter()
                .map(|r| {
                    (
                        r.expectations.as_slice(),
                        r.failed_step().map(|(name, _)| name),
                    )
                })
                .collect::<Vec<_>>(),
        ),
        timeline: timeline(&runs[0].observation, &runs[0].observation.secrets),
        target_log: log_tail(
            &runs[0].observation.target_log,
            &runs[0].observation.secrets,
        ),
    };
    let normalized = |runs: &[&ScenarioRun]| -> Vec<serde_json::Value> {
        runs.iter()
            .map(|r| snapshot::normalize(&r.observation, &r.expectations, &scenario.snapshot))
            .collect()
    };
    let before_summary = summarize(&ok_before);
    let after_summary = summarize(&ok_after);
    let unstable =
        !before_summary.disagreements.is_empty() || !after_summary.disagreements.is_empty();
    item.verdict = Some(if unstable {
        Verdict::Flaky
    } else {
        judge(&before_summary.behaviours, &after_summary.behaviours)
    });
    item.diff = Some(behaviour_diff(
        &normalized(&ok_before),
        &normalized(&ok_after),
    ));
    item.before = Some(before_summary);
    item.after = Some(after_summary);
    (item, None)
}

fn behaviour_text(summary: &Option<BuildSummary>) -> String {
    let Some(summary) = summary else {
        return "-".into();
    };
    let holds = summary
        .behaviours
        .iter()
        .filter(|b| **b == Behaviour::Holds)
        .count();
    let total = summary.behaviours.len();
    match (holds, total) {
        (h, t) if h == t => "holds".into(),
        (0, _) => {
            let failed = summary.expectations.iter().filter(|e| !e.passed).count();
            let step = if summary.failed_step.is_some() {
                "step + "
            } else {
                ""
            };
            format!(
                "fails ({step}{failed}/{} checks)",
                summary.expectations.len()
            )
        }
        (h, t) => format!("holds {h}/{t}"),
    }
}

fn print_table(report: &ValidateReport, out: &Output, full_diff: bool) {
    let width = report
        .scenarios
        .iter()
        .map(|s| s.id.len())
        .max()
        .unwrap_or(8)
        .max(8);
    out.stdout(&format!(
        "{:15} {:width$}  {:28} {}",
        "VERDICT", "SCENARIO", "BEFORE", "AFTER"
    ));
    for item in &report.scenarios {
        let (text, style) = match item.verdict {
            Some(Verdict::Fixed) => ("fixed", Style::Green),
            Some(Verdict::NotReproduced) => ("not-reproduced", Style::Yellow),
            Some(Verdict::Flaky) => ("flaky", Style::Yellow),
            Some(Verdict::StillFailing) => ("still-failing", Style::Red),
            Some(Verdict::Regressed) => ("regressed", Style::Red),
            None if is_not_run(item) => ("not-run", Style::Yellow),
            None => ("error", Style::Red),
        };
        out.stdout(&format!(
            "{} {:width$}  {:28} {}",
            out.paint(style, &format!("{text:15}")),
            item.id,
            behaviour_text(&item.before),
            behaviour_text(&item.after)
        ));
    }
    for item in &report.scenarios {
        let Some(diff) = &item.diff else { continue };
        let mut lines = Vec::new();
        if let (Some(before), Some(after)) = (&item.before, &item.after) {
            for (b, a) in before.expectations.iter().zip(&after.expectations) {
                if b.passed != a.passed {
                    let mark = |p: bool| if p { "holds" } else { "fails" };
                    lines.push(format!(
                        "  expectation `{}`: {} → {}",
                        b.name,
                        mark(b.passed),
                        mark(a.passed)
                    ));
                    if !b.passed {
                        lines.push(format!("      before: {}", b.detail));
                    }
                    if !a.passed {
                        lines.push(format!("      after: {}", a.detail));
                    }
                }
            }
            if let Some(step) = &before.failed_step {
                lines.push(format!(
                    "  before: step `{}` failed: {}",
                    step.name, step.reason
                ));
            }
            if let Some(step) = &after.failed_step {
                lines.push(format!(
                    "  after: step `{}` failed: {}",
                    step.name, step.reason
                ));
            }
        }
        if let (Some(before), Some(after)) = (&item.before, &item.after) {
            for (build, summary) in [("before", before), ("after", after)] {
                for disagreement in &summary.disagreements {
                    lines.push(format!("  {build}, runs disagree: {disagreement}"));
                }
            }
        }
        for (mock, changes) in &diff.call_summary {
            for change in changes {
                lines.push(format!("  mock `{mock}`: {change}"));
            }
        }
        if !diff.noise.is_empty() {
            lines.push(format!(
                "  noise (differed between runs of one build, ignored): {}",
                noise_text(&diff.noise)
            ));
        }
        if full_diff && !diff.text.is_empty() {
            lines.push(indent_diff(&diff.text, out));
        }
        if !lines.is_empty() {
            out.stdout(&format!("\n{}:", out.paint(Style::Bold, &item.id)));
            out.stdout(&lines.join("\n"));
        }
    }
}

/// The noise fields, at most five named.
fn noise_text(noise: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut text = noise
        .iter()
        .take(SHOWN)
        .map(|pointer| format!("`{pointer}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if noise.len() > SHOWN {
        text.push_str(&format!(
            " and {} more (`--format json` lists all)",
            noise.len() - SHOWN
        ));
    }
    text
}

fn summary(report: &ValidateReport) -> String {
    let count = |verdict: Verdict| {
        report
            .scenarios
            .iter()
            .filter(|s| s.verdict == Some(verdict))
            .count()
    };
    let not_run = report.scenarios.iter().filter(|s| is_not_run(s)).count();
    let errors = report
        .scenarios
        .iter()
        .filter(|s| s.verdict.is_none())
        .count()
        - not_run;
    let mut text = format!(
        "{} fixed, {} not-reproduced, {} still-failing, {} regressed, {} flaky",
        count(Verdict::Fixed),
        count(Verdict::NotReproduced),
        count(Verdict::StillFailing),
        count(Verdict::Regressed),
        count(Verdict::Flaky)
    );
    if errors > 0 {
        text.push_str(&format!(", {errors} could not run"));
    }
    if not_run > 0 {
        text.push_str(&format!(", {not_run} not run (--fail-fast)"));
    }
    text
}

/// Whether `--fail-fast` kept the scenario of `item` from running (all its runs or some).
fn is_not_run(item: &ValidateItem) -> bool {
    item.verdict.is_none()
        && item
            .error
            .as_deref()
            .is_some_and(|e| e.starts_with("not run:"))
}
