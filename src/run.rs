//! One run of one scenario against one target: start the mocks, start the target with its
//! environment templated from the mock URLs, replay the flow, collect what every mock received,
//! stop everything, and judge the expectations. The orchestrator; it owns no protocol logic.
//!
//! A run with HTTPS mocks also owns a temporary folder holding the run's CA certificate
//! (`{{ tls.ca_file }}` for the target); it is removed when the run ends, on every path.

use std::collections::BTreeMap;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::backend::{BackendError, PlacedMock, Placement, new_run_id};
use crate::flow::{self, FlowContext};
use crate::mock::control::{ControlClient, ControlError};
use crate::mock::tls::{RunCa, TlsError};
use crate::observe::Observation;
use crate::project::{Project, TargetDef};
use crate::scenario::model::{Launch as ScenarioLaunch, Scenario};
use crate::scenario::template::{Template, TemplateSyntaxError};
use crate::target::{self, Launch, RunningTarget, TargetError};
use crate::verdict::{Behaviour, ExpectationResult, evaluate_expectations};

/// A target to run scenarios against: named in `reenact.toml`, given inline, or the scenario's own.
#[derive(Debug, Clone)]
pub struct TargetChoice {
    /// Label for reports, e.g. `ledger-sync@1.4.2`.
    pub label: String,
    /// The definition; `None` means "use the scenario's own `target.command` / `target.url`".
    pub def: Option<TargetDef>,
}

impl TargetChoice {
    /// The scenario's own target.
    pub fn from_scenario() -> Self {
        TargetChoice {
            label: "scenario target".into(),
            def: None,
        }
    }

    /// Resolve a name from `reenact.toml`.
    pub fn named(project: &Project, name: &str) -> Result<Self, RunError> {
        match project.targets.get(name) {
            Some(def) => Ok(TargetChoice {
                label: name.to_string(),
                def: Some(def.clone()),
            }),
            None => Err(RunError::UnknownTarget {
                name: name.to_string(),
                known: project.targets.keys().cloned().collect(),
            }),
        }
    }
}

/// What one run produced.
#[derive(Debug, Clone)]
pub struct ScenarioRun {
    /// Everything seen.
    pub observation: Observation,
    /// The expectation results.
    pub expectations: Vec<ExpectationResult>,
    /// Whether the flow and the expectations all passed.
    pub behaviour: Behaviour,
    /// Wall-clock duration of the run.
    pub duration: Duration,
}

impl ScenarioRun {
    /// The first failed step, if any: (step name, reason).
    pub fn failed_step(&self) -> Option<(&str, &str)> {
        self.observation
            .steps
            .iter()
            .find_map(|step| step.failure.as_deref().map(|f| (step.name.as_str(), f)))
    }
}

/// Why a run could not be carried out (as opposed to a run whose expectations failed).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A mock could not start.
    #[error("failed to start mock `{mock}`")]
    Mock {
        /// The mock.
        mock: String,
        /// The cause.
        #[source]
        source: Box<BackendError>,
    },
    /// The backend could not prepare the run (e.g. its Docker network).
    #[error("failed to prepare the `{backend}` backend for the run")]
    Backend {
        /// The backend's name.
        backend: &'static str,
        /// The cause.
        #[source]
        source: Box<BackendError>,
    },
    /// The control API of a mock failed.
    #[error("failed to talk to mock `{mock}`")]
    Control {
        /// The mock.
        mock: String,
        /// The cause.
        #[source]
        source: ControlError,
    },
    /// The target could not be started or did not become ready.
    #[error("target `{label}` failed")]
    Target {
        /// The target label.
        label: String,
        /// The cause.
        #[source]
        source: TargetError,
    },
    /// The target's build command failed.
    #[error("failed to build target `{label}`: `{command}` {outcome}")]
    Build {
        /// The target label.
        label: String,
        /// The command.
        command: String,
        /// What happened (`exited with …` / `could not start: …`).
        outcome: String,
        /// Its last output lines.
        log_tail: Vec<String>,
    },
    /// Neither the scenario nor the command line nor `reenact.toml` says what to run.
    #[error(
        "scenario `{scenario}` has no target: add `target.command` or `target.url`, pass `--target`, or set `run.target` in reenact.toml"
    )]
    NoTarget {
        /// The scenario id.
        scenario: String,
    },
    /// `--target NAME` names no target of `reenact.toml`.
    #[error("unknown target `{name}`{}", known_targets(known))]
    UnknownTarget {
        /// The name given.
        name: String,
        /// The names `reenact.toml` defines.
        known: Vec<String>,
    },
    /// A template of the target definition names an unknown variable or is malformed.
    #[error("target `{label}`: {message}")]
    Template {
        /// The target label.
        label: String,
        /// What is wrong.
        message: String,
    },
    /// No free port for the target.
    #[error("failed to find a free port for the target")]
    Port(#[source] std::io::Error),
    /// The run's CA or a mock's certificate could not be made.
    #[error("failed to prepare HTTPS for the mocks")]
    Tls(#[from] TlsError),
    /// The run's temporary folder could not be made or written.
    #[error("failed to prepare the run folder `{path}`")]
    RunFolder {
        /// The folder (or its parent, when creating it failed).
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// What a run keeps on disk while it lasts: the CA of its HTTPS mocks. Dropping it removes the
/// folder, so every exit path (errors, panics) cleans up.
pub struct RunFolder {
    dir: tempfile::TempDir,
    ca: RunCa,
    ca_file: PathBuf,
}

impl RunFolder {
    /// A fresh folder holding a fresh CA as `ca.pem`.
    pub fn create() -> Result<RunFolder, RunError> {
        let dir = tempfile::Builder::new()
            .prefix("reenact-run-")
            .tempdir()
            .map_err(|source| RunError::RunFolder {
                path: std::env::temp_dir(),
                source,
            })?;
        let ca = RunCa::generate()?;
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, ca.ca_pem()).map_err(|source| RunError::RunFolder {
            path: dir.path().to_path_buf(),
            source,
        })?;
        Ok(RunFolder { dir, ca, ca_file })
    }

    /// The CA that issues the HTTPS mocks' certificates.
    pub fn ca(&self) -> &RunCa {
        &self.ca
    }

    /// The CA certificate (PEM) for clients to trust.
    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }

    /// Remove the folder now, reporting (not failing on) a folder that will not go.
    pub fn remove(self) {
        let path = self.dir.path().to_path_buf();
        if let Err(err) = self.dir.close() {
            tracing::warn!(path = %path.display(), error = %err, "failed to remove the run folder");
        }
    }
}

fn known_targets(known: &[String]) -> String {
    if known.is_empty() {
        " (reenact.toml defines no targets)".to_string()
    } else {
        format!(" (reenact.toml defines: {})", known.join(", "))
    }
}

/// Run a target's `build` command, if it has one, in the project root. With `show_progress`
/// its output goes to reenact's stderr as it comes (a cold cargo build takes minutes, and the
/// user should see it move); otherwise it is captured and shown only when the build fails.
pub fn build_target(
    choice: &TargetChoice,
    root: &Path,
    show_progress: bool,
) -> Result<(), RunError> {
    let Some(build) = choice.def.as_ref().and_then(|def| def.build.as_ref()) else {
        return Ok(());
    };
    let Some((program, args)) = build.split_first() else {
        return Ok(());
    };
    let command = build.join(" ");
    let failure = |outcome: String, output: &[u8]| RunError::Build {
        label: choice.label.clone(),
        command: command.clone(),
        outcome,
        log_tail: tail_lines(output, 20),
    };
    let mut process = std::process::Command::new(program);
    process
        .args(args)
        .current_dir(root)
        .stdin(std::process::Stdio::null());
    if show_progress {
        // The build's stdout goes to stderr too: stdout belongs to reenact's report.
        let stderr = std::io::stderr()
            .as_fd()
            .try_clone_to_owned()
            .map_err(|err| failure(format!("could not start: {err}"), &[]))?;
        process
            .stdout(std::process::Stdio::from(stderr))
            .stderr(std::process::Stdio::inherit());
    }
    let output = process
        .output()
        .map_err(|err| failure(format!("could not start: {err}"), &[]))?;
    if output.status.success() {
        Ok(())
    } else {
        let mut all = output.stdout;
        all.extend_from_slice(&output.stderr);
        Err(failure(format!("exited with {}", output.status), &all))
    }
}

fn tail_lines(output: &[u8], n: usize) -> Vec<String> {
    let text = String::from_utf8_lossy(output);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..]
        .iter()
        .map(|line| line.to_string())
        .collect()
}

/// Everything a run needs from around it.
pub struct RunContext<'a> {
    /// HTTP client for the target and the mocks' control APIs.
    pub http: &'a reqwest::Client,
    /// Folder relative program paths of targets resolve against (where `reenact.toml` is).
    pub project_root: &'a Path,
    /// Where the mocks run.
    pub placement: &'a Placement,
}

/// Run one scenario against one target.
pub async fn run_scenario(
    scenario: &Scenario,
    choice: &TargetChoice,
    ctx: &RunContext<'_>,
) -> Result<ScenarioRun, RunError> {
    let started = Instant::now();
    // Refuse before starting anything: a docker run must not silently serve HTTP for HTTPS.
    if let Some(what) = ctx.placement.unsupported(scenario).into_iter().next() {
        let backend = ctx.placement.name();
        return Err(RunError::Backend {
            backend,
            source: Box::new(BackendError::Unsupported { backend, what }),
        });
    }
    let folder = if scenario.mocks.iter().any(|mock| mock.tls) {
        Some(RunFolder::create()?)
    } else {
        None
    };
    let mut placed = ctx
        .placement
        .open_run(&new_run_id())
        .await
        .map_err(|source| RunError::Backend {
            backend: ctx.placement.name(),
            source: Box::new(source),
        })?;
    let mut servers = Vec::with_capacity(scenario.mocks.len());
    for spec in &scenario.mocks {
        let tls = match folder.as_ref().filter(|_| spec.tls) {
            Some(folder) => match folder.ca.issue_with_names(&spec.name, &spec.hostnames) {
                Ok(identity) => Some(identity),
                Err(err) => {
                    placed.close().await;
                    return Err(err.into());
                }
            },
            None => None,
        };
        match placed
            .start_mock(spec, &scenario.clock, tls, ctx.http)
            .await
        {
            Ok(server) => servers.push(server),
            Err(source) => {
                placed.close().await;
                return Err(RunError::Mock {
                    mock: spec.name.clone(),
                    source: Box::new(source),
                });
            }
        }
    }
    let ca_file = folder.as_ref().map(|folder| folder.ca_file.as_path());
    let mut result = run_with_mocks(scenario, choice, ctx, &servers, ca_file).await;
    if let Ok((observation, _)) = &mut result {
        observation.mock_logs = placed.log_tails(20).await;
    }
    placed.close().await;
    if let Some(folder) = folder {
        folder.remove();
    }
    let (observation, expectations) = result?;
    let behaviour = if observation.steps.iter().all(|s| s.failure.is_none())
        && observation.steps.len() == scenario.flow.len()
        && expectations.iter().all(|e| e.passed)
    {
        Behaviour::Holds
    } else {
        Behaviour::Fails
    };
    Ok(ScenarioRun {
        observation,
        expectations,
        behaviour,
        duration: started.elapsed(),
    })
}

async fn run_with_mocks(
    scenario: &Scenario,
    choice: &TargetChoice,
    ctx: &RunContext<'_>,
    servers: &[PlacedMock],
    ca_file: Option<&Path>,
) -> Result<(Observation, Vec<ExpectationResult>), RunError> {
    let mock_urls: BTreeMap<String, String> = servers
        .iter()
        .map(|server| (server.name.clone(), server.url.clone()))
        .collect();
    let controls: Vec<(String, ControlClient)> = servers
        .iter()
        .map(|server| {
            (
                server.name.clone(),
                ControlClient::new(server.admin_url.clone(), ctx.http.clone()),
            )
        })
        .collect();
    let launch = resolve_launch(scenario, choice, &mock_urls, ca_file, ctx.project_root)?;
    let mut running = RunningTarget::start(&launch, scenario.target.ready.as_ref(), ctx.http)
        .await
        .map_err(|source| RunError::Target {
            label: choice.label.clone(),
            source,
        })?;
    let clients: Vec<ControlClient> = controls.iter().map(|(_, c)| c.clone()).collect();
    let by_name: BTreeMap<String, ControlClient> = controls.iter().cloned().collect();
    let steps = flow::replay(
        &scenario.flow,
        &FlowContext {
            http: ctx.http,
            target_url: running.base_url(),
            mock_urls: &mock_urls,
            mocks: &clients,
            mocks_by_name: &by_name,
        },
    )
    .await;
    let target_url = running.base_url().to_string();
    // Let in-flight work settle is the scenario's business (a poll step); collect now.
    let mut mocks = BTreeMap::new();
    let mut control_error = None;
    for (name, client) in &controls {
        match client.journal().await {
            Ok(journal) => {
                mocks.insert(name.clone(), journal);
            }
            Err(source) => {
                control_error = Some(RunError::Control {
                    mock: name.clone(),
                    source,
                });
                break;
            }
        }
    }
    running.stop().await;
    if let Some(err) = control_error {
        return Err(err);
    }
    let observation = Observation {
        steps,
        mocks,
        mock_urls,
        target_url,
        target_log: running.log_tail(),
        mock_logs: BTreeMap::new(),
    };
    // Details quote response bodies and requests; they reach terminals and reports, so secrets
    // go now, once, for every consumer.
    let expectations = evaluate_expectations(&scenario.expect, &observation)
        .into_iter()
        .map(|mut result| {
            result.detail = crate::snapshot::redact_text(&result.detail);
            result
        })
        .collect();
    Ok((observation, expectations))
}

/// Work out the concrete launch: the chosen target's command or URL (else the scenario's), with
/// every template rendered.
fn resolve_launch(
    scenario: &Scenario,
    choice: &TargetChoice,
    mock_urls: &BTreeMap<String, String>,
    ca_file: Option<&Path>,
    project_root: &Path,
) -> Result<Launch, RunError> {
    let template_error = |message: String| RunError::Template {
        label: choice.label.clone(),
        message,
    };
    let parse = |text: &str| -> Result<Template, RunError> {
        Template::parse(text).map_err(|err: TemplateSyntaxError| {
            template_error(format!("malformed template `{text}`: {err}"))
        })
    };
    enum Plan {
        Command(Vec<Template>, Vec<(String, Template)>),
        Url(Template),
    }
    let mut env: Vec<(String, Template)> = scenario.target.env.clone();
    let plan = match &choice.def {
        Some(def) => {
            for (name, value) in &def.env {
                env.push((name.clone(), parse(value)?));
            }
            match (&def.command, &def.url) {
                (Some(command), _) => Plan::Command(
                    command
                        .iter()
                        .map(|arg| parse(arg))
                        .collect::<Result<_, _>>()?,
                    env,
                ),
                (None, Some(url)) => Plan::Url(parse(url)?),
                (None, None) => {
                    return Err(RunError::NoTarget {
                        scenario: scenario.id.clone(),
                    });
                }
            }
        }
        None => match &scenario.target.launch {
            Some(ScenarioLaunch::Command(argv)) => Plan::Command(argv.clone(), env),
            Some(ScenarioLaunch::Url(url)) => Plan::Url(url.clone()),
            None => {
                return Err(RunError::NoTarget {
                    scenario: scenario.id.clone(),
                });
            }
        },
    };
    match plan {
        Plan::Url(url) => {
            let vars = |path: &[String]| template_var(path, mock_urls, ca_file, None);
            let url = url
                .render(&vars)
                .map_err(|err| template_error(err.to_string()))?;
            Ok(Launch::Url(url))
        }
        Plan::Command(argv, env) => {
            let port = target::free_port().map_err(RunError::Port)?;
            let vars = |path: &[String]| template_var(path, mock_urls, ca_file, Some(port));
            let mut rendered = Vec::with_capacity(argv.len());
            for arg in &argv {
                rendered.push(
                    arg.render(&vars)
                        .map_err(|err| template_error(err.to_string()))?,
                );
            }
            let mut rendered_env = Vec::with_capacity(env.len());
            for (name, value) in &env {
                rendered_env.push((
                    name.clone(),
                    value
                        .render(&vars)
                        .map_err(|err| template_error(format!("env `{name}`: {err}")))?,
                ));
            }
            let mut parts = rendered.into_iter();
            let program = parts.next().ok_or_else(|| RunError::NoTarget {
                scenario: scenario.id.clone(),
            })?;
            Ok(Launch::Command {
                program,
                args: parts.collect(),
                env: rendered_env,
                cwd: PathBuf::from(project_root),
                port,
            })
        }
    }
}

fn template_var(
    path: &[String],
    mock_urls: &BTreeMap<String, String>,
    ca_file: Option<&Path>,
    port: Option<u16>,
) -> Option<String> {
    match path {
        [scope, field] if scope == "tls" && field == "ca_file" => {
            ca_file.map(|file| file.display().to_string())
        }
        [scope, name] if scope == "env" => std::env::var(name).ok(),
        [scope, field] if scope == "target" && field == "port" => port.map(|p| p.to_string()),
        [scope, name, field] if scope == "mocks" && field == "url" => mock_urls.get(name).cloned(),
        _ => None,
    }
}

/// Split an inline command (`--after-cmd "bin/app --release 1.4.3"`) into words, honouring
/// single quotes, double quotes and backslash escapes as a POSIX shell does (no expansions). A
/// `{{ … }}` placeholder stays in one word, spaces and all. Every word must be a valid template.
pub fn split_command(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut in_word = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                in_word = true;
                current.push_str("{{");
                chars.next();
                loop {
                    match chars.next() {
                        Some('}') if chars.peek() == Some(&'}') => {
                            chars.next();
                            current.push_str("}}");
                            break;
                        }
                        Some(other) => current.push(other),
                        None => return Err("unclosed `{{` placeholder".into()),
                    }
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(other) => current.push(other),
                        None => return Err("unclosed single quote".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(escaped) => current.push(escaped),
                            None => return Err("trailing backslash".into()),
                        },
                        Some(other) => current.push(other),
                        None => return Err("unclosed double quote".into()),
                    }
                }
            }
            '\\' => match chars.next() {
                Some(escaped) => {
                    in_word = true;
                    current.push(escaped);
                }
                None => return Err("trailing backslash".into()),
            },
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                current.push(c);
            }
        }
    }
    if in_word {
        words.push(current);
    }
    if words.is_empty() {
        return Err("empty command".into());
    }
    for word in &words {
        Template::parse(word).map_err(|err| format!("malformed template in `{word}`: {err}"))?;
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_commands_like_a_shell() {
        let cases: &[(&str, &[&str])] = &[
            (
                "bin/app --release 1.4.3",
                &["bin/app", "--release", "1.4.3"],
            ),
            ("'my app' \"a b\" c\\ d", &["my app", "a b", "c d"]),
            ("  x  ", &["x"]),
            ("a \"\" b", &["a", "", "b"]),
            (
                "bin/app --port {{ target.port }} --x=\"{{ env.A }}\"",
                &["bin/app", "--port", "{{ target.port }}", "--x={{ env.A }}"],
            ),
        ];
        for (text, words) in cases {
            assert_eq!(split_command(text).unwrap(), *words, "{text}");
        }
        for bad in ["", "'open", "\"open", "x\\", "a {{ b", "a }}"] {
            assert!(split_command(bad).is_err(), "{bad}");
        }
    }
}

/// One scenario to run against one target, as part of a suite.
#[derive(Debug, Clone)]
pub struct Job {
    /// The scenario.
    pub scenario: std::sync::Arc<Scenario>,
    /// The target.
    pub target: std::sync::Arc<TargetChoice>,
}

/// Run many jobs, at most `jobs_at_once` at a time (each run has its own mocks and target port,
/// so runs do not interfere), then close `placement`. `on_done` is called as each finishes,
/// with its index; the results come back in job order.
pub async fn run_jobs(
    jobs: Vec<Job>,
    http: reqwest::Client,
    project_root: PathBuf,
    placement: Placement,
    jobs_at_once: usize,
    mut on_done: impl FnMut(usize, &Result<ScenarioRun, RunError>),
) -> Vec<Result<ScenarioRun, RunError>> {
    let semaphore = std::sync::Arc::new(tokio::sync::Semaphore::new(jobs_at_once.max(1)));
    let mut set = tokio::task::JoinSet::new();
    let total = jobs.len();
    for (index, job) in jobs.into_iter().enumerate() {
        let semaphore = semaphore.clone();
        let http = http.clone();
        let root = project_root.clone();
        let run_placement = placement.clone();
        set.spawn(async move {
            let _permit = semaphore.acquire_owned().await;
            let ctx = RunContext {
                http: &http,
                project_root: &root,
                placement: &run_placement,
            };
            (index, run_scenario(&job.scenario, &job.target, &ctx).await)
        });
    }
    let mut results: Vec<Option<Result<ScenarioRun, RunError>>> =
        (0..total).map(|_| None).collect();
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((index, result)) => {
                on_done(index, &result);
                results[index] = Some(result);
            }
            // A panicking run is a bug in reenact: surface it as such.
            Err(join_error) => std::panic::resume_unwind(join_error.into_panic()),
        }
    }
    // Every run has closed: reused mock containers can go.
    placement.close().await;
    results
        .into_iter()
        .map(|result| result.expect("every job reports exactly once"))
        .collect()
}

/// The HTTP client runs use: no proxy (mocks and targets are local), no redirects followed.
pub fn http_client() -> reqwest::Client {
    crate::mock::tls::install_crypto_provider();
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
}

/// Like [`http_client`], also trusting a run's CA (DER), to talk HTTPS to `tls: true` mocks.
pub fn http_client_trusting(ca_der: &[u8]) -> Result<reqwest::Client, reqwest::Error> {
    crate::mock::tls::install_crypto_provider();
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .add_root_certificate(reqwest::Certificate::from_der(ca_der)?)
        .build()
}
