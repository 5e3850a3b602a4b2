//! `reenact validate`: judge a fix by running each scenario on the build before and after it.

use std::path::Path;
use std::sync::Arc;

use clap::Args;

use crate::report::{
    BuildSummary, FailedStep, REPORT_VERSION, ValidateItem, ValidateReport, behaviour_diff,
};
use crate::run::{self, Job, RunError, ScenarioRun, TargetChoice};
use crate::scenario::Scenario;
use crate::snapshot;
use crate::verdict::{Behaviour, Verdict, judge};

use super::output::Style;
use super::run::{
    TargetFlags, build, choose_target, image, indent_diff, relative, report_run_error,
};
use super::scenarios::PathsArgs;
use super::{CliError, ErrorKind, Format, Outcome, Output, RunnerArgs};

/// Arguments of `validate`.
#[derive(Debug, Args)]
pub(super) struct ValidateArgs {
    #[command(flatten)]
    paths: PathsArgs,
    /// The build with the bug: a target named in reenact.toml.
    #[arg(long, required_unless_present_any = ["before_cmd", "before_url", "before_image"], conflicts_with_all = ["before_cmd", "before_url", "before_image"])]
    before: Option<String>,
    /// The build with the bug, as an inline command.
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
    /// The build with the fix, as an inline command.
    #[arg(long, conflicts_with_all = ["after_url", "after_image"])]
    after_cmd: Option<String>,
    /// The build with the fix, already running at this URL.
    #[arg(long, conflicts_with = "after_image")]
    after_url: Option<String>,
    /// The build with the fix, as a local Docker image listening on port 8080 in its container
    /// (needs `--backend docker`).
    #[arg(long)]
    after_image: Option<String>,
    /// Runs of each build per scenario; runs that disagree make the verdict `flaky`, and fields
    /// that differ between them are ignored as noise in the diff.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=20))]
    runs: u32,
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
    let (project, scenarios) = super::scenarios::suite(&args.paths.paths, cwd, out)?;
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
    let human = args.runner.format == Format::Human;
    let runs = args.runs as usize;
    if human {
        out.stderr(&format!(
            "validating {} scenario(s): before `{}`, after `{}`, {runs} run(s) each",
            scenarios.len(),
            before.label,
            after.label
        ));
    }
    // Jobs: for each scenario, `runs` on before then `runs` on after.
    let scenarios: Vec<Arc<Scenario>> = scenarios.into_iter().map(Arc::new).collect();
    let mut jobs = Vec::with_capacity(scenarios.len() * runs * 2);
    for (index, scenario) in scenarios.iter().enumerate() {
        for (side, target) in [&before, &after].into_iter().enumerate() {
            for _ in 0..runs {
                jobs.push(Job {
                    scenario: scenario.clone(),
                    target: target.clone(),
                    placement: backends.placement(index, side),
                });
            }
        }
    }
    let per_scenario = runs * 2;
    let mut finished = vec![0usize; scenarios.len()];
    let total_jobs = jobs.len();
    let mut done_jobs = 0;
    let started = std::time::Instant::now();
    let results = run::run_jobs(
        jobs,
        run::http_client(),
        project.root.clone(),
        args.runner.jobs(),
        |index, result| {
            if let Ok(run) = result {
                out.learn(&run.observation.secrets);
            }
            done_jobs += 1;
            let scenario = index / per_scenario;
            finished[scenario] += 1;
            if human && finished[scenario] == per_scenario {
                out.stderr(&format!(
                    "  [{done_jobs}/{total_jobs} runs] {} done",
                    scenarios[scenario].id
                ));
            }
        },
    )
    .await;
    let mut items = Vec::with_capacity(scenarios.len());
    let mut errors = Vec::new();
    for (index, scenario) in scenarios.iter().enumerate() {
        let runs_of = &results[index * per_scenario..(index + 1) * per_scenario];
        let (before_runs, after_runs) = runs_of.split_at(runs);
        let (item, error) = judge_scenario(scenario, before_runs, after_runs, &project.root);
        if let Some(error) = error {
            errors.push((scenario.id.clone(), error));
        }
        items.push(item);
    }
    let report = ValidateReport {
        version: REPORT_VERSION,
        command: "validate",
        before: before.label.clone(),
        after: after.label.clone(),
        runs: args.runs,
        scenarios: items,
    };
    match args.runner.format {
        Format::Json => out.stdout(&serde_json::to_string_pretty(&report).unwrap_or_default()),
        Format::Human => {
            print_table(&report, out, args.diff);
            for (id, error) in &errors {
                out.stderr(&format!("scenario `{id}` could not run:"));
                report_run_error(error, out);
            }
            out.stdout(&format!(
                "\n{} ({:.1}s)",
                summary(&report),
                started.elapsed().as_secs_f64()
            ));
        }
    }
    Ok(if !errors.is_empty() {
        Outcome::ErrorsInReport(ErrorKind::Environment)
    } else if report
        .scenarios
        .iter()
        .all(|item| item.verdict == Some(Verdict::Fixed))
    {
        Outcome::Success
    } else {
        Outcome::Failed
    })
}

fn judge_scenario<'a>(
    scenario: &Scenario,
    before: &'a [Result<ScenarioRun, RunError>],
    after: &'a [Result<ScenarioRun, RunError>],
    root: &Path,
) -> (ValidateItem, Option<&'a RunError>) {
    let mut item = ValidateItem {
        id: scenario.id.clone(),
        title: scenario.title.clone(),
        ticket: scenario.ticket.clone(),
        file: relative(&scenario.source.path, root),
        verdict: None,
        error: None,
        before: None,
        after: None,
        diff: None,
    };
    let mut ok_before = Vec::new();
    let mut ok_after = Vec::new();
    for (runs, ok) in [(before, &mut ok_before), (after, &mut ok_after)] {
        for result in runs {
            match result {
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
    };
    let normalized = |runs: &[&ScenarioRun]| -> Vec<serde_json::Value> {
        runs.iter()
            .map(|r| snapshot::normalize(&r.observation, &r.expectations, &scenario.snapshot))
            .collect()
    };
    let before_summary = summarize(&ok_before);
    let after_summary = summarize(&ok_after);
    item.verdict = Some(judge(&before_summary.behaviours, &after_summary.behaviours));
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
        for (mock, changes) in &diff.calls {
            for change in changes {
                lines.push(format!("  mock `{mock}`: {change}"));
            }
        }
        if !diff.noise.is_empty() {
            lines.push(format!(
                "  {} field(s) differed between runs of the same build and were ignored",
                diff.noise.len()
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

fn summary(report: &ValidateReport) -> String {
    let count = |verdict: Verdict| {
        report
            .scenarios
            .iter()
            .filter(|s| s.verdict == Some(verdict))
            .count()
    };
    let errors = report
        .scenarios
        .iter()
        .filter(|s| s.verdict.is_none())
        .count();
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
    text
}
