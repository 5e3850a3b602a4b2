//! One run of one scenario against one target: start the mocks, start the target with its
//! environment templated from the mock URLs, replay the flow, collect what every mock received,
//! stop everything, and judge the expectations. The orchestrator; it owns no protocol logic.
//!
//! A run with HTTPS mocks also owns a temporary folder holding the run's CA certificate
//! (`{{ tls.ca_file }}` for the target); it is removed when the run ends, on every path. Each run
//! keeps a record of its folder and target processes (`leftovers::RunRecord`) while it
//! lasts, so that what a `kill -9` leaves is found again by the next sweep.
//!
//! A container target (`image`) joins the mocks on the run's Docker network: its templates see
//! the mocks' in-network URLs (`http://NAME:8080`), its own port inside the container and the CA
//! copied into it, and webhooks reach it at `http://reenact-target:PORT`. `unsupported` is the
//! one place that decides what a backend cannot run with a given target.

use std::collections::BTreeMap;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::backend::docker::CONTAINER_CA_FILE;
use crate::backend::docker::ContainerLaunch;
use crate::backend::image::ImageError;
use crate::backend::{BackendError, PlacedMock, Placement, RunMocks, Unsupported, new_run_id};
use crate::flow::{self, FlowContext};
use crate::leftovers::RunRecord;
use crate::mock::control::{ControlClient, ControlError, RunUrls};
use crate::mock::render::names_mock_urls;
use crate::mock::tls::{RunCa, TlsError};
use crate::observe::Observation;
use crate::project::{Project, ProjectSource, TargetDef};
use crate::scenario::model::{DEFAULT_TARGET_PORT, Launch as ScenarioLaunch, Scenario};
use crate::scenario::template::{Template, TemplateSyntaxError};
use crate::secrets::{Secrets, is_secret_name};
pub use crate::target::TargetError;
use crate::target::{self, Launch, RunningTarget};
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

    /// Whether `scenario` runs this target as a container: the chosen target has `image` /
    /// `image_from`, or (choosing none) the scenario's `target.image`.
    pub fn is_container(&self, scenario: &Scenario) -> bool {
        match &self.def {
            Some(def) => def.is_container(),
            None => matches!(scenario.target.launch, Some(ScenarioLaunch::Image(_))),
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
                project: project.source.clone(),
            }),
        }
    }
}

/// What stops `scenario` from running against `choice` with mocks in Docker (`docker`) or in
/// process, before anything starts: the one check behind both `run_scenario` and the CLI's
/// refusal. A container target needs Docker; in Docker, HTTPS mocks are not supported yet, and
/// webhook steps only reach a target that is a container on the run's network.
pub fn unsupported(scenario: &Scenario, choice: &TargetChoice, docker: bool) -> Vec<Unsupported> {
    let container = choice.is_container(scenario);
    if docker {
        crate::backend::docker::unsupported(scenario, container)
    } else if container {
        vec![Unsupported::ContainerTarget {
            target: choice.label.clone(),
        }]
    } else {
        Vec::new()
    }
}

/// Image an `image_from` target's binary (after its `build`), as `reenact image` does, and
/// make the target use that image. Nothing to do for other targets.
pub(crate) async fn image_target(
    choice: &mut TargetChoice,
    root: &Path,
    placement: &Placement,
) -> Result<(), RunError> {
    let Some(def) = choice.def.as_mut() else {
        return Ok(());
    };
    let Some(binary) = def.image_from.clone() else {
        return Ok(());
    };
    let Placement::Docker(backend) = placement else {
        return Err(RunError::Backend {
            backend: placement.name(),
            source: Box::new(BackendError::Unsupported {
                backend: placement.name(),
                what: Unsupported::ContainerTarget {
                    target: choice.label.clone(),
                },
            }),
        });
    };
    let tag =
        crate::backend::image::ensure_target_image(backend.docker(), &root.join(&binary), None)
            .await
            .map_err(|source| RunError::Image {
                label: choice.label.clone(),
                binary,
                source: Box::new(source),
            })?;
    def.image = Some(tag);
    def.image_from = None;
    Ok(())
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
        source: Box<TargetError>,
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
    #[error("unknown target `{name}` ({})", known_targets(known, project))]
    UnknownTarget {
        /// The name given.
        name: String,
        /// The names `reenact.toml` defines.
        known: Vec<String>,
        /// Which `reenact.toml` was read, or where none was found.
        project: ProjectSource,
    },
    /// A template of the target definition names an unknown variable or is malformed.
    #[error("target `{label}`: {message}")]
    Template {
        /// The target label.
        label: String,
        /// What is wrong.
        message: String,
    },
    /// An `image_from` target's binary could not be imaged.
    #[error("failed to image `{}` for target `{label}`", binary.display())]
    Image {
        /// The target label.
        label: String,
        /// The binary.
        binary: PathBuf,
        /// The cause.
        #[source]
        source: Box<ImageError>,
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
/// folder, so every exit path (errors, panics) cleans up; the run's record names it, for the
/// sweep after a `kill -9`.
pub(crate) struct RunFolder {
    dir: tempfile::TempDir,
    ca: RunCa,
    ca_file: PathBuf,
}

impl RunFolder {
    /// A fresh folder holding a fresh CA as `ca.pem`, written into `record`.
    pub(crate) fn create(record: &RunRecord) -> Result<RunFolder, RunError> {
        let dir = tempfile::Builder::new()
            .prefix(crate::leftovers::FOLDER_PREFIX)
            .tempdir()
            .map_err(|source| RunError::RunFolder {
                path: std::env::temp_dir(),
                source,
            })?;
        record.folder(dir.path());
        let ca = RunCa::generate()?;
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, ca.ca_pem()).map_err(|source| RunError::RunFolder {
            path: dir.path().to_path_buf(),
            source,
        })?;
        Ok(RunFolder { dir, ca, ca_file })
    }

    /// The CA that issues the HTTPS mocks' certificates.
    pub(crate) fn ca(&self) -> &RunCa {
        &self.ca
    }

    /// The CA certificate (PEM) for clients to trust.
    pub(crate) fn ca_file(&self) -> &Path {
        &self.ca_file
    }

    /// Remove the folder now, reporting (not failing on) a folder that will not go.
    pub(crate) fn remove(self) {
        let path = self.dir.path().to_path_buf();
        if let Err(err) = self.dir.close() {
            tracing::warn!(path = %path.display(), error = %err, "failed to remove the run folder");
        }
    }
}

/// What the project file `source` offers instead of an unknown target.
fn known_targets(known: &[String], source: &ProjectSource) -> String {
    match source {
        ProjectSource::NotFound(_) => source.to_string(),
        ProjectSource::File(_) if known.is_empty() => format!("{source} defines no targets"),
        ProjectSource::File(_) => format!("{source} defines: {}", known.join(", ")),
    }
}

/// Run a target's `build` command, if it has one, in the project root. With `show_progress`
/// its output goes to reenact's stderr as it comes (a cold cargo build takes minutes, and the
/// user should see it move); otherwise it is captured and shown only when the build fails.
pub(crate) fn build_target(
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
    // `output()` waits on this thread, so the build dies with reenact, Ctrl-C or `kill -9`.
    target::die_with_parent(&mut process);
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
    let docker = matches!(ctx.placement, Placement::Docker(_));
    if let Some(what) = unsupported(scenario, choice, docker).into_iter().next() {
        let backend = ctx.placement.name();
        return Err(RunError::Backend {
            backend,
            source: Box::new(BackendError::Unsupported { backend, what }),
        });
    }
    let run_id = new_run_id();
    // Dropped last, after the folder and the target: the record outlives what it names.
    let record = RunRecord::create(&run_id);
    let folder = if scenario.mocks.iter().any(|mock| mock.tls) {
        Some(RunFolder::create(&record)?)
    } else {
        None
    };
    let mut placed = ctx
        .placement
        .open_run(&run_id)
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
    if let Err(err) = share_mock_urls(scenario, &servers, ctx.http).await {
        placed.close().await;
        return Err(err);
    }
    let ca_file = folder.as_ref().map(|folder| folder.ca_file.as_path());
    let mut result = run_with_mocks(
        scenario,
        choice,
        ctx,
        &mut placed,
        &servers,
        ca_file,
        &record,
    )
    .await;
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

/// Send every mock whose responses name `{{ mocks.NAME.url }}` the URLs of the run's mocks,
/// now that all of them listen (their ports were not known before).
async fn share_mock_urls(
    scenario: &Scenario,
    servers: &[PlacedMock],
    http: &reqwest::Client,
) -> Result<(), RunError> {
    let urls = RunUrls {
        host: servers
            .iter()
            .map(|server| (server.name.clone(), server.url.clone()))
            .collect(),
        network: servers
            .iter()
            .filter_map(|server| Some((server.name.clone(), server.network_url.clone()?)))
            .collect(),
    };
    for (spec, server) in scenario.mocks.iter().zip(servers) {
        if names_mock_urls(spec) {
            ControlClient::new(server.admin_url.clone(), http.clone())
                .set_urls(&urls)
                .await
                .map_err(|source| RunError::Control {
                    mock: spec.name.clone(),
                    source,
                })?;
        }
    }
    Ok(())
}

async fn run_with_mocks(
    scenario: &Scenario,
    choice: &TargetChoice,
    ctx: &RunContext<'_>,
    placed: &mut RunMocks,
    servers: &[PlacedMock],
    ca_file: Option<&Path>,
    record: &RunRecord,
) -> Result<(Observation, Vec<ExpectationResult>), RunError> {
    let mock_urls: BTreeMap<String, String> = servers
        .iter()
        .map(|server| (server.name.clone(), server.url.clone()))
        .collect();
    let mock_network_urls: BTreeMap<String, String> = servers
        .iter()
        .filter_map(|server| Some((server.name.clone(), server.network_url.clone()?)))
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
    let sftp_addresses: BTreeMap<String, String> = servers
        .iter()
        .filter_map(|server| Some((server.name.clone(), server.sftp_address.clone()?)))
        .collect();
    let network_sftp_addresses: BTreeMap<String, String> = servers
        .iter()
        .filter_map(|server| Some((server.name.clone(), server.network_sftp_address.clone()?)))
        .collect();
    let urls = MockUrls {
        host: &mock_urls,
        network: &mock_network_urls,
        host_sftp: &sftp_addresses,
        network_sftp: &network_sftp_addresses,
    };
    let launch = resolve_launch(scenario, choice, &urls, ca_file, ctx.project_root)?;
    let ready = scenario.target.ready.as_ref();
    let started = match (&launch, placed.docker_run()) {
        (Launch::Container(container), Some(run)) => {
            RunningTarget::start_container(run, container, ready, ctx.http).await
        }
        _ => RunningTarget::start(&launch, ready, ctx.http, record).await,
    };
    let mut running = started.map_err(|source| RunError::Target {
        label: choice.label.clone(),
        source: Box::new(source),
    })?;
    let clients: Vec<ControlClient> = controls.iter().map(|(_, c)| c.clone()).collect();
    let by_name: BTreeMap<String, ControlClient> = controls.iter().cloned().collect();
    let steps = flow::replay(
        &scenario.flow,
        &FlowContext {
            http: ctx.http,
            target_url: running.base_url(),
            webhook_target_url: running.network_url(),
            mock_urls: &mock_urls,
            mocks: &clients,
            mocks_by_name: &by_name,
            mock_aliases: &mock_aliases(scenario, servers),
            target_public_url: scenario.target.public_url.as_deref(),
        },
    )
    .await;
    let target_url = running.base_url().to_string();
    let target_network_url =
        Some(running.network_url().to_string()).filter(|url| *url != target_url);
    // Let in-flight work settle is the scenario's business (a poll step); collect now.
    let mut mocks = BTreeMap::new();
    let mut mock_states = BTreeMap::new();
    let mut control_error = None;
    for (name, client) in &controls {
        let collected = match client.journal().await {
            Ok(journal) => {
                mocks.insert(name.clone(), journal);
                // A mock with a provider reports its state too; others have none to report.
                client.state().await
            }
            Err(source) => Err(source),
        };
        match collected {
            Ok(mut state) => {
                if let Some(provider) = state.get_mut("provider") {
                    mock_states.insert(name.clone(), provider["state"].take());
                }
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
    let mut observation = Observation {
        steps,
        mocks,
        mock_urls,
        mock_network_urls,
        target_url,
        target_network_url,
        target_log: running.log_tail(),
        mock_logs: BTreeMap::new(),
        mock_states,
        secrets: Secrets::new(),
    };
    observation.secrets = run_secrets(scenario, &launch, &observation);
    // Details quote response bodies and requests; they reach terminals and reports, so secrets
    // go now, once, for every consumer.
    let expectations = evaluate_expectations(&scenario.expect, &observation)
        .into_iter()
        .map(|mut result| {
            result.detail = observation.secrets.redact(&result.detail);
            result
        })
        .collect();
    Ok((observation, expectations))
}

/// The run's secrets: what the scenario declares (with the flow's captures known), the target's
/// environment under secret names as it was rendered, and what secret-named fields carried.
fn run_secrets(scenario: &Scenario, launch: &Launch, observation: &Observation) -> Secrets {
    let captures: BTreeMap<String, String> = observation
        .steps
        .iter()
        .flat_map(|step| step.captures.clone())
        .collect();
    let mut secrets = scenario.secrets(&captures);
    let env: &[(String, String)] = match launch {
        Launch::Command { env, .. } => env,
        Launch::Container(container) => &container.env,
        Launch::Url(_) => &[],
    };
    for (name, value) in env {
        if is_secret_name(name) {
            secrets.add(value);
        }
    }
    secrets.extend(&observation.secrets_seen());
    secrets
}

/// The mocks' base URLs, as the host and as the run's network reach them (none in-process), and
/// the `HOST:PORT` of the SFTP listeners of banks with `sftp:`, likewise.
struct MockUrls<'a> {
    host: &'a BTreeMap<String, String>,
    network: &'a BTreeMap<String, String>,
    host_sftp: &'a BTreeMap<String, String>,
    network_sftp: &'a BTreeMap<String, String>,
}

/// Work out the concrete launch: the chosen target's command, URL or image (else the
/// scenario's), with every template rendered. A container target's templates see the mocks'
/// in-network URLs, its port inside the container and the CA's path inside it.
fn resolve_launch(
    scenario: &Scenario,
    choice: &TargetChoice,
    mock_urls: &MockUrls<'_>,
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
    let parse_all = |items: &[String]| -> Result<Vec<Template>, RunError> {
        items.iter().map(|item| parse(item)).collect()
    };
    enum Plan {
        Command(Vec<Template>),
        Url(Template),
        Image(String, Option<Vec<Template>>, u16),
    }
    let mut env: Vec<(String, Template)> = scenario.target.env.clone();
    let no_target = || RunError::NoTarget {
        scenario: scenario.id.clone(),
    };
    let plan = match &choice.def {
        Some(def) => {
            for (name, value) in &def.env {
                env.push((name.clone(), parse(value)?));
            }
            match (&def.image, &def.command, &def.url) {
                (Some(image), args, _) => Plan::Image(
                    image.clone(),
                    args.as_deref().map(parse_all).transpose()?,
                    def.port.unwrap_or(DEFAULT_TARGET_PORT),
                ),
                (None, _, _) if def.image_from.is_some() => {
                    return Err(template_error(
                        "`image_from` was not imaged before the run (see `run::image_target`)"
                            .to_owned(),
                    ));
                }
                (None, Some(command), _) => Plan::Command(parse_all(command)?),
                (None, None, Some(url)) => Plan::Url(parse(url)?),
                (None, None, None) => return Err(no_target()),
            }
        }
        None => match &scenario.target.launch {
            Some(ScenarioLaunch::Command(argv)) => Plan::Command(argv.clone()),
            Some(ScenarioLaunch::Url(url)) => Plan::Url(url.clone()),
            Some(ScenarioLaunch::Image(launch)) => {
                Plan::Image(launch.image.clone(), launch.args.clone(), launch.port)
            }
            None => return Err(no_target()),
        },
    };
    let render_all = |items: &[Template], vars: &dyn Fn(&[String]) -> Option<String>| {
        items
            .iter()
            .map(|item| {
                item.render(&vars)
                    .map_err(|err| template_error(err.to_string()))
            })
            .collect::<Result<Vec<String>, RunError>>()
    };
    let render_env = |vars: &dyn Fn(&[String]) -> Option<String>| {
        env.iter()
            .map(|(name, value)| {
                value
                    .render(&vars)
                    .map(|value| (name.clone(), value))
                    .map_err(|err| template_error(format!("env `{name}`: {err}")))
            })
            .collect::<Result<Vec<_>, RunError>>()
    };
    let host_ca = ca_file.map(|file| file.display().to_string());
    match plan {
        Plan::Url(url) => {
            let vars = |path: &[String]| {
                template_var(
                    path,
                    (mock_urls.host, mock_urls.host_sftp),
                    host_ca.as_deref(),
                    None,
                )
            };
            let url = url
                .render(&vars)
                .map_err(|err| template_error(err.to_string()))?;
            Ok(Launch::Url(url))
        }
        Plan::Command(argv) => {
            let port = target::free_port().map_err(RunError::Port)?;
            let vars = |path: &[String]| {
                template_var(
                    path,
                    (mock_urls.host, mock_urls.host_sftp),
                    host_ca.as_deref(),
                    Some(port),
                )
            };
            let mut parts = render_all(&argv, &vars)?.into_iter();
            let program = parts.next().ok_or_else(no_target)?;
            Ok(Launch::Command {
                program,
                args: parts.collect(),
                env: render_env(&vars)?,
                cwd: PathBuf::from(project_root),
                port,
            })
        }
        Plan::Image(image, args, port) => {
            let ca = ca_file.map(|_| CONTAINER_CA_FILE);
            let vars = |path: &[String]| {
                template_var(
                    path,
                    (mock_urls.network, mock_urls.network_sftp),
                    ca,
                    Some(port),
                )
            };
            let ca_pem = match ca_file {
                Some(file) => Some(std::fs::read(file).map_err(|source| RunError::RunFolder {
                    path: file.to_path_buf(),
                    source,
                })?),
                None => None,
            };
            Ok(Launch::Container(ContainerLaunch {
                image,
                args: args.map(|args| render_all(&args, &vars)).transpose()?,
                env: render_env(&vars)?,
                port,
                ca_pem,
            }))
        }
    }
}

/// The value of a target template's variable `path`: `mocks` are `(base URLs, SFTP HOST:PORT)`
/// by mock name, as the target reaches them.
fn template_var(
    path: &[String],
    mocks: (&BTreeMap<String, String>, &BTreeMap<String, String>),
    ca_file: Option<&str>,
    port: Option<u16>,
) -> Option<String> {
    let (mock_urls, sftp) = mocks;
    match path {
        [scope, field] if scope == "tls" && field == "ca_file" => ca_file.map(str::to_owned),
        [scope, name] if scope == "env" => std::env::var(name).ok(),
        [scope, field] if scope == "target" && field == "port" => port.map(|p| p.to_string()),
        [scope, name, field] if scope == "mocks" && field == "url" => mock_urls.get(name).cloned(),
        [scope, name, field] if scope == "mocks" && field.starts_with("sftp_") => {
            let address = sftp.get(name)?;
            let (host, port) = address.rsplit_once(':')?;
            match field.as_str() {
                "sftp_url" => Some(format!("sftp://{address}")),
                "sftp_host" => Some(host.to_owned()),
                "sftp_port" => Some(port.to_owned()),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Why an inline command (`--target-cmd`, `--before-cmd`, `--after-cmd`) does not split into
/// words (`split_command`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// A `{{` placeholder has no `}}`.
    #[error("unclosed `{{{{` placeholder")]
    UnclosedPlaceholder,
    /// A `'` has no partner.
    #[error("unclosed single quote")]
    UnclosedSingleQuote,
    /// A `"` has no partner.
    #[error("unclosed double quote")]
    UnclosedDoubleQuote,
    /// The command ends with a `\` that escapes nothing.
    #[error("trailing backslash")]
    TrailingBackslash,
    /// No word at all.
    #[error("empty command")]
    Empty,
    /// A word is not a valid template.
    #[error("malformed template in `{word}`")]
    Template {
        /// The word.
        word: String,
        /// What is wrong with it.
        #[source]
        source: TemplateSyntaxError,
    },
}

/// Take the leading `NAME=value` words off an inline command, as a POSIX shell takes variable
/// assignments before the program name (`ACME_RELEASE=2.3.0 python3 app.py`): the variables go
/// into the target's environment. `NAME` is a letter or `_` then letters, digits or `_`.
pub(crate) fn take_env_assignments(words: &mut Vec<String>) -> BTreeMap<String, String> {
    let is_assignment = |word: &String| {
        word.split_once('=').is_some_and(|(name, _)| {
            let mut chars = name.chars();
            chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
    };
    let count = words.iter().take_while(|word| is_assignment(word)).count();
    words
        .drain(..count)
        .filter_map(|word| {
            word.split_once('=')
                .map(|(name, value)| (name.to_owned(), value.to_owned()))
        })
        .collect()
}

/// Split an inline command (`--after-cmd "bin/app --release 1.4.3"`) into words, honouring
/// single quotes, double quotes and backslash escapes as a POSIX shell does (no expansions). A
/// `{{ … }}` placeholder stays in one word, spaces and all. Every word must be a valid template.
pub(crate) fn split_command(text: &str) -> Result<Vec<String>, CommandError> {
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
                        None => return Err(CommandError::UnclosedPlaceholder),
                    }
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(other) => current.push(other),
                        None => return Err(CommandError::UnclosedSingleQuote),
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
                            None => return Err(CommandError::TrailingBackslash),
                        },
                        Some(other) => current.push(other),
                        None => return Err(CommandError::UnclosedDoubleQuote),
                    }
                }
            }
            '\\' => match chars.next() {
                Some(escaped) => {
                    in_word = true;
                    current.push(escaped);
                }
                None => return Err(CommandError::TrailingBackslash),
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
        return Err(CommandError::Empty);
    }
    for word in &words {
        Template::parse(word).map_err(|source| CommandError::Template {
            word: word.clone(),
            source,
        })?;
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONTAINER_SCENARIO: &str = r#"
id: container-templates
title: templates of a container target
mocks:
  accounting:
    tls: true
    stubs: []
target:
  image: app:1
  command: [--port, "{{ target.port }}", --upstream, "{{ mocks.accounting.url }}"]
  port: 9090
  env:
    ACCOUNTING_API_URL: "{{ mocks.accounting.url }}/api"
    SSL_CERT_FILE: "{{ tls.ca_file }}"
flow:
  - request: { method: GET, path: / }
"#;

    /// `mocks.NAME.sftp_url`, `sftp_host` and `sftp_port` render the bank's SFTP listener as
    /// the target reaches it: on the host for a process, on the run's network for a container.
    #[test]
    fn the_sftp_variables_name_the_listener_as_the_target_reaches_it() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let yaml = |target: &str| {
            format!(
                "id: s\ntitle: sftp\nmocks:\n  bank:\n    provider: bank\n    with:\n      bank: {{ bic: DEUTDEFFXXX, name: Bank }}\n      accounts: [{{ id: a, number: \"1\", currency: EUR, opening: {{ date: 2026-11-02, balance: \"0\" }} }}]\n      statements: []\n      sftp: {{ users: [{{ username: u, password: pw-1 }}] }}\ntarget:\n  {target}\n  env:\n    BANK_SFTP_URL: \"sftp://u@{{{{ mocks.bank.sftp_host }}}}:{{{{ mocks.bank.sftp_port }}}}\"\n    PLAIN: \"{{{{ mocks.bank.sftp_url }}}}\"\nflow:\n  - request: {{ method: GET, path: / }}\n"
            )
        };
        let host = BTreeMap::from([("bank".to_owned(), "http://127.0.0.1:4001".to_owned())]);
        let network = BTreeMap::from([("bank".to_owned(), "http://bank:8080".to_owned())]);
        let host_sftp = BTreeMap::from([("bank".to_owned(), "127.0.0.1:4003".to_owned())]);
        let network_sftp = BTreeMap::from([("bank".to_owned(), "bank:2222".to_owned())]);
        let urls = MockUrls {
            host: &host,
            network: &network,
            host_sftp: &host_sftp,
            network_sftp: &network_sftp,
        };
        let env = |target: &str| {
            let scenario =
                crate::scenario::load_bytes(&root.join("s.yaml"), root, yaml(target).as_bytes())
                    .expect("valid scenario");
            match resolve_launch(&scenario, &TargetChoice::from_scenario(), &urls, None, root) {
                Ok(Launch::Command { env, .. }) => env,
                Ok(Launch::Container(container)) => container.env,
                other => panic!("unexpected launch {other:?}"),
            }
        };
        let pairs = |url: &str, plain: &str| {
            vec![
                ("BANK_SFTP_URL".to_owned(), url.to_owned()),
                ("PLAIN".to_owned(), plain.to_owned()),
            ]
        };
        assert_eq!(
            env("command: [./app]"),
            pairs("sftp://u@127.0.0.1:4003", "sftp://127.0.0.1:4003")
        );
        assert_eq!(
            env("image: app:1"),
            pairs("sftp://u@bank:2222", "sftp://bank:2222")
        );
    }

    #[test]
    fn a_container_target_sees_network_urls_its_own_port_and_the_ca_inside() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let scenario = crate::scenario::load_bytes(
            &root.join("container.yaml"),
            root,
            CONTAINER_SCENARIO.as_bytes(),
        )
        .expect("valid scenario");
        let dir = tempfile::tempdir().unwrap();
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, "PEM").unwrap();
        let host = BTreeMap::from([("accounting".to_owned(), "https://127.0.0.1:4001".to_owned())]);
        let network = BTreeMap::from([(
            "accounting".to_owned(),
            "https://accounting:8080".to_owned(),
        )]);
        let no_sftp = BTreeMap::new();
        let urls = MockUrls {
            host: &host,
            network: &network,
            host_sftp: &no_sftp,
            network_sftp: &no_sftp,
        };
        let choice = TargetChoice::from_scenario();
        assert!(choice.is_container(&scenario));
        let launch = resolve_launch(&scenario, &choice, &urls, Some(&ca_file), root).unwrap();
        let Launch::Container(container) = launch else {
            panic!("expected a container launch, got {launch:?}");
        };
        assert_eq!(
            container,
            ContainerLaunch {
                image: "app:1".into(),
                args: Some(
                    ["--port", "9090", "--upstream", "https://accounting:8080"]
                        .map(str::to_owned)
                        .to_vec()
                ),
                env: vec![
                    (
                        "ACCOUNTING_API_URL".into(),
                        "https://accounting:8080/api".into()
                    ),
                    ("SSL_CERT_FILE".into(), CONTAINER_CA_FILE.into()),
                ],
                port: 9090,
                ca_pem: Some(b"PEM".to_vec()),
            }
        );
        // The same scenario against a process target sees the host side of everything.
        let process = TargetChoice {
            label: "app".into(),
            def: Some(crate::project::TargetDef {
                command: Some(vec![
                    "bin/app".into(),
                    "--port".into(),
                    "{{ target.port }}".into(),
                ]),
                ..Default::default()
            }),
        };
        assert!(!process.is_container(&scenario));
        let Launch::Command {
            args, env, port, ..
        } = resolve_launch(&scenario, &process, &urls, Some(&ca_file), root).unwrap()
        else {
            panic!("expected a command launch");
        };
        assert_eq!(args, ["--port".to_owned(), port.to_string()]);
        assert_eq!(env[0].1, "https://127.0.0.1:4001/api");
        assert_eq!(env[1].1, ca_file.display().to_string());
        // A container target needs Docker; on Docker its webhooks are not refused.
        assert_eq!(
            unsupported(&scenario, &choice, false),
            [Unsupported::ContainerTarget {
                target: "scenario target".into()
            }]
        );
        assert!(unsupported(&scenario, &process, false).is_empty());
    }

    #[test]
    fn leading_assignments_become_the_environment() {
        let mut words: Vec<String> = ["ACME_RELEASE=2.3.0", "_X1=a=b", "python3", "app.py", "Y=1"]
            .map(String::from)
            .into();
        let env = take_env_assignments(&mut words);
        assert_eq!(
            env.into_iter().collect::<Vec<_>>(),
            [
                ("ACME_RELEASE".to_owned(), "2.3.0".to_owned()),
                ("_X1".to_owned(), "a=b".to_owned())
            ]
        );
        assert_eq!(words, ["python3", "app.py", "Y=1"]);
        for not_a_name in ["1A=b", "A-B=c", "=x", "app"] {
            let mut words = vec![not_a_name.to_owned()];
            assert!(take_env_assignments(&mut words).is_empty(), "{not_a_name}");
            assert_eq!(words, [not_a_name]);
        }
    }

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
        let bad = [
            ("", CommandError::Empty),
            ("'open", CommandError::UnclosedSingleQuote),
            ("\"open", CommandError::UnclosedDoubleQuote),
            ("x\\", CommandError::TrailingBackslash),
            ("\"x\\", CommandError::TrailingBackslash),
            ("a {{ b", CommandError::UnclosedPlaceholder),
        ];
        for (text, expected) in bad {
            assert_eq!(split_command(text), Err(expected), "{text}");
        }
        let err = split_command("a }}").unwrap_err();
        assert!(
            matches!(&err, CommandError::Template { word, .. } if word == "}}"),
            "{err:?}"
        );
        assert_eq!(err.to_string(), "malformed template in `}}`");
        assert!(std::error::Error::source(&err).is_some());
    }
}

/// One scenario to run against one target, as part of a suite.
#[derive(Debug, Clone)]
pub struct Job {
    /// The scenario.
    pub scenario: std::sync::Arc<Scenario>,
    /// The target.
    pub target: std::sync::Arc<TargetChoice>,
    /// Where its mocks (and a container target) run. Jobs on Docker share one backend (clones
    /// of one [`Placement::Docker`]), and with it the suite's pool of reused containers.
    pub placement: Placement,
}

/// Run many jobs, at most `jobs_at_once` at a time (each run has its own mocks and target port,
/// so runs do not interfere), then close their Docker backend. `on_done` is called as each
/// finishes, with its index; the results come back in job order.
pub async fn run_jobs(
    jobs: Vec<Job>,
    http: reqwest::Client,
    project_root: PathBuf,
    jobs_at_once: usize,
    mut on_done: impl FnMut(usize, &Result<ScenarioRun, RunError>),
) -> Vec<Result<ScenarioRun, RunError>> {
    run_jobs_watched(jobs, http, project_root, jobs_at_once, |event| {
        if let JobEvent::Finished(index, result) = event {
            on_done(index, result);
        }
        Control::Continue
    })
    .await
    .into_iter()
    .map(|result| result.expect("no job is left out when the suite never stops"))
    .collect()
}

/// What happened to a job of [`run_jobs_watched`].
#[derive(Debug)]
pub enum JobEvent<'a> {
    /// The job (by index) got its slot and starts.
    Started(usize),
    /// The job (by index) finished, with its result.
    Finished(usize, &'a Result<ScenarioRun, RunError>),
}

/// What [`run_jobs_watched`] does after an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Go on.
    Continue,
    /// Start no further job (`--fail-fast`); the running ones finish and tear down as usual.
    Stop,
}

/// [`run_jobs`], watched: `on_event` hears each job start and finish, in the order they happen,
/// and may stop the suite ([`Control::Stop`]): no job starts after that, the running ones
/// finish (and tear down) as usual, and the jobs that never started come back as `None`.
///
/// A finished job keeps its slot until `on_event` has heard of it, so a stop decided on its
/// result comes before any other job could take the slot.
pub async fn run_jobs_watched(
    jobs: Vec<Job>,
    http: reqwest::Client,
    project_root: PathBuf,
    jobs_at_once: usize,
    mut on_event: impl FnMut(JobEvent<'_>) -> Control,
) -> Vec<Option<Result<ScenarioRun, RunError>>> {
    let docker = jobs
        .iter()
        .find(|job| matches!(job.placement, Placement::Docker(_)))
        .map(|job| job.placement.clone());
    // Jobs start in order: a slot is taken here, then the job is spawned with it, so `-j 1`
    // runs the suite in file order (the runtime polls spawned tasks in no fixed order).
    let semaphore = std::sync::Arc::new(tokio::sync::Semaphore::new(jobs_at_once.max(1)));
    let mut set = tokio::task::JoinSet::new();
    let total = jobs.len();
    let mut waiting = jobs.into_iter().enumerate();
    let mut next = waiting.next();
    let mut stopped = false;
    let mut results: Vec<Option<Result<ScenarioRun, RunError>>> =
        (0..total).map(|_| None).collect();
    loop {
        let can_start = !stopped && next.is_some();
        tokio::select! {
            // A finished run is judged before another starts: a stop it asks for holds.
            biased;
            joined = set.join_next(), if !set.is_empty() => match joined {
                Some(Ok((index, result, permit))) => {
                    let result: Result<ScenarioRun, RunError> = result;
                    stopped |= on_event(JobEvent::Finished(index, &result)) == Control::Stop;
                    results[index] = Some(result);
                    // The slot frees only now, after a stop this result asked for.
                    drop(permit);
                }
                // A panicking run is a bug in reenact: surface it as such.
                Some(Err(join_error)) => std::panic::resume_unwind(join_error.into_panic()),
                None => {}
            },
            permit = semaphore.clone().acquire_owned(), if can_start => {
                let Some((index, job)) = next.take() else { continue };
                next = waiting.next();
                stopped |= on_event(JobEvent::Started(index)) == Control::Stop;
                let http = http.clone();
                let root = project_root.clone();
                set.spawn(async move {
                    let ctx = RunContext {
                        http: &http,
                        project_root: &root,
                        placement: &job.placement,
                    };
                    let result = run_scenario(&job.scenario, &job.target, &ctx).await;
                    (index, result, permit)
                });
            }
            else => break,
        }
    }
    // Every run has closed: reused mock containers can go.
    if let Some(docker) = docker {
        docker.close().await;
    }
    results
}

/// Each mock's other base URLs on the run's Docker network (its name, and each of its
/// `hostnames` on the same scheme and port), with the base URL the runner reaches it at: where a
/// browsed login (`sso_login`) follows a container target's redirects.
fn mock_aliases(scenario: &Scenario, servers: &[PlacedMock]) -> Vec<(String, String)> {
    let mut aliases = Vec::new();
    for server in servers {
        let Some(network) = &server.network_url else {
            continue;
        };
        aliases.push((network.clone(), server.url.clone()));
        let hostnames = scenario
            .mocks
            .iter()
            .filter(|spec| spec.name == server.name)
            .flat_map(|spec| &spec.hostnames);
        for hostname in hostnames {
            if let Ok(mut url) = reqwest::Url::parse(network)
                && url.set_host(Some(hostname)).is_ok()
            {
                aliases.push((
                    url.as_str().trim_end_matches('/').to_string(),
                    server.url.clone(),
                ));
            }
        }
    }
    aliases
}

/// The HTTP client runs use: no proxy (mocks and targets are local), no redirects followed.
pub fn http_client() -> reqwest::Client {
    client_builder().build().unwrap_or_default()
}

/// Like [`http_client`], also trusting a run's CA (DER), to talk HTTPS to `tls: true` mocks.
pub fn http_client_trusting(ca_der: &[u8]) -> Result<reqwest::Client, reqwest::Error> {
    http_client_with_roots(vec![reqwest::Certificate::from_der(ca_der)?])
}

/// Like [`http_client`], also trusting `roots` besides the system's (`record --ca`).
pub fn http_client_with_roots(
    roots: Vec<reqwest::Certificate>,
) -> Result<reqwest::Client, reqwest::Error> {
    roots
        .into_iter()
        .fold(
            client_builder(),
            reqwest::ClientBuilder::add_root_certificate,
        )
        .build()
}

fn client_builder() -> reqwest::ClientBuilder {
    crate::mock::tls::install_crypto_provider();
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
}
