//! The `docker` placement: each mock of a run in its own container, on a Docker network of its
//! own, running the reenact binary in `mock-engine` mode ([`crate::backend::image`]).
//!
//! [`DockerBackend`] holds the engine connection and the mock image; [`DockerRun`] is one run's
//! network and containers. When the target runs in a container, the run's network is created and
//! every mock container joins it under the mock's name (so the target reaches `http://NAME:8080`,
//! and a bank's SFTP server at `NAME:2222`); a run whose target is a process or a URL has no use
//! for it and creates none (two Docker calls fewer each way, most of a reused run's cost). A mock
//! publishes its traffic, admin and SFTP ports on `127.0.0.1` only, is ready when the engine prints its readiness line (an HTTP probe would land
//! in the journal), and is then configured through the control API like an in-process mock.
//!
//! Containers are created with bollard (through testcontainers' client, which reads `DOCKER_HOST`
//! and testcontainers' settings) rather than `ContainerAsync`: the network alias must be set at
//! creation (testcontainers has no alias API), and teardown is explicit and awaited. Every object
//! carries reenact's [`labels`]; [`DockerRun::close`] removes them on every path, `Drop` is only a
//! safety net, and `teardown_own` serves the Ctrl-C path.
//!
//! Removal is ordered and retried: containers first, then each network, disconnecting whatever
//! is still attached to it, until a deadline; what still exists afterwards is reported by name,
//! never passed over. On Ctrl-C / SIGTERM, `teardown_own` first stops new creations and waits
//! for those in flight (a container being created when the signal lands is not yet known to its
//! run), then removes everything carrying this process's labels.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use futures_util::StreamExt;
use testcontainers::bollard::Docker;
use testcontainers::bollard::container::LogOutput;
use testcontainers::bollard::models::{
    ContainerCreateBody, EndpointSettings, HostConfig, NetworkConnectRequest, NetworkCreateRequest,
    NetworkDisconnectRequest, PortBinding, PortMap,
};
use testcontainers::bollard::query_parameters::{
    CreateContainerOptionsBuilder, ListContainersOptionsBuilder, ListImagesOptionsBuilder,
    ListNetworksOptionsBuilder, LogsOptionsBuilder, RemoveContainerOptionsBuilder,
    RemoveImageOptionsBuilder, StopContainerOptionsBuilder, UploadToContainerOptionsBuilder,
};

use crate::backend::image::{
    self, CONTAINER_ADMIN_PORT, CONTAINER_SFTP_PORT, CONTAINER_TRAFFIC_PORT,
};
use crate::backend::labels;
use crate::backend::placement::{BackendError, PlacedMock, Unsupported};
use crate::mock::ControlClient;
use crate::mock::tls::TlsIdentity;
use crate::scenario::Scenario;
use crate::scenario::model::{ClockSpec, MockSpec, ProviderSpec, StepAction, TARGET_ALIAS};

/// Where the run's CA is put in a target container (what `{{ tls.ca_file }}` renders to there).
pub(crate) const CONTAINER_CA_FILE: &str = "/reenact/ca.pem";

/// The line the engine prints on stdout once both listeners are bound.
pub const READY_LINE: &str = "reenact mock-engine ready";

/// How long a mock container may take from start to its readiness line, unless
/// `[docker] ready_within` in `reenact.toml` says otherwise.
pub(crate) const READY_WITHIN: Duration = Duration::from_secs(30);

/// Seconds a container gets to stop on SIGTERM before it is killed.
const STOP_GRACE_SECS: i32 = 5;

/// The Docker engine reenact talks to, as configured by `DOCKER_HOST` (or the default socket).
pub(crate) fn docker_host() -> String {
    std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".to_owned())
}

/// A connection to a Docker engine and the mock image built for it.
#[derive(Debug, Clone)]
pub struct DockerBackend {
    docker: Docker,
    image: String,
    /// Idle engine containers shared by the runs of a suite (`--reuse`).
    pool: Option<Arc<Pool>>,
    /// Start-up deadline of a mock container.
    ready_within: Duration,
}

impl DockerBackend {
    /// Connect to the engine (failing fast when none answers) and build the mock image of the
    /// running reenact binary if it is missing.
    pub async fn connect() -> Result<DockerBackend, BackendError> {
        let engine = std::env::current_exe().map_err(|source| {
            BackendError::Image(image::ImageError::Read {
                path: "the running executable".into(),
                source,
            })
        })?;
        DockerBackend::connect_with_engine(&engine).await
    }

    /// As [`DockerBackend::connect`], with the mock image built from the reenact binary at
    /// `engine` (for programs that embed the library, such as tests).
    pub async fn connect_with_engine(engine: &Path) -> Result<DockerBackend, BackendError> {
        let docker = connect_engine().await?;
        match sweep_dead_runs(&docker).await {
            Ok(swept) if swept.containers.len() + swept.networks.len() > 0 => {
                tracing::info!(
                    containers = ?swept.containers,
                    networks = ?swept.networks,
                    "removed what reenact runs that are gone left behind"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "the start-up sweep failed"),
        }
        let locks = image::sweep_lock_files();
        if !locks.is_empty() {
            tracing::info!(files = ?locks, "removed image lock files no build holds");
        }
        let image = image::ensure_mock_image(&docker, engine)
            .await
            .map_err(BackendError::Image)?;
        Ok(DockerBackend {
            docker,
            image,
            pool: None,
            ready_within: READY_WITHIN,
        })
    }

    /// Reuse engine containers across the runs of this backend (see [`Pool`]); end with
    /// [`DockerBackend::close`].
    pub async fn with_reuse(mut self) -> Result<DockerBackend, BackendError> {
        self.pool = Some(Arc::new(Pool::create(&self.docker).await?));
        Ok(self)
    }

    /// Give mock containers `within` from start to ready (default `READY_WITHIN`).
    pub fn with_ready_within(mut self, within: Duration) -> DockerBackend {
        self.ready_within = within;
        self
    }

    /// The pool of reused containers, with reuse on.
    pub fn pool(&self) -> Option<&Pool> {
        self.pool.as_deref()
    }

    /// Remove what the backend holds beyond its runs (the pool's containers and network).
    pub async fn close(&self) {
        if let Some(pool) = &self.pool {
            pool.close(&self.docker).await;
        }
    }

    /// The engine connection.
    pub fn docker(&self) -> &Docker {
        &self.docker
    }

    /// The tag of the mock image.
    pub fn image(&self) -> &str {
        &self.image
    }

    /// Open run `run_id`: mocks are started for it with `DockerRun::start_mock`, and its network
    /// is made when a target container needs it (`DockerRun::start_target`).
    ///
    /// The run's network is `internal` (no route out of it); a second network, for the mocks
    /// only, carries their published ports, with no traffic between its containers and no
    /// masquerading out of it (see `docs/decisions.md`, "Run network isolation"): the run's own
    /// with its first fresh container, the pool's for reused ones.
    pub async fn open_run(&self, run_id: &str) -> Result<DockerRun, BackendError> {
        Ok(DockerRun {
            docker: self.docker.clone(),
            image: self.image.clone(),
            run_id: run_id.to_owned(),
            network: format!("reenact-{run_id}"),
            network_created: false,
            unjoined: Vec::new(),
            ports_network: format!("reenact-{run_id}-ports"),
            ports_network_created: false,
            containers: Vec::new(),
            pool: self.pool.clone(),
            pooled: Vec::new(),
            http: None,
            ready_within: self.ready_within,
            closed: false,
        })
    }
}

async fn create_network(
    docker: &Docker,
    run_id: &str,
    name: &str,
    internal: bool,
    options: HashMap<String, String>,
) -> Result<(), BackendError> {
    let _creating = creating(&format!("network `{name}`"))?;
    docker
        .create_network(NetworkCreateRequest {
            name: name.to_owned(),
            driver: Some("bridge".to_owned()),
            internal: Some(internal),
            options: Some(options),
            labels: Some(labels::for_run(run_id, "network")),
            ..Default::default()
        })
        .await
        .map(drop)
        .map_err(|source| BackendError::Docker {
            action: format!("create network `{name}`"),
            source,
        })
}

/// Bridge options of the network that carries the mocks' published ports: containers on it
/// cannot talk to each other, and nothing leaves it through the host's masquerading.
fn ports_network_options() -> HashMap<String, String> {
    HashMap::from([
        (
            "com.docker.network.bridge.enable_icc".to_owned(),
            "false".to_owned(),
        ),
        (
            "com.docker.network.bridge.enable_ip_masquerade".to_owned(),
            "false".to_owned(),
        ),
    ])
}

/// The DNS server a mock container is given: its own loopback, where `mock-engine --dns-sink`
/// answers "no such name" to whatever Docker's embedded resolver forwards (every name the run's
/// network does not know). A server the container names itself is reached from inside the
/// container, never through the host's resolver.
pub(crate) const ISOLATED_DNS: &str = "127.0.0.1";

/// Where the TLS identity of an HTTPS mock is put in its container.
const TLS_DIR: &str = "/reenact-tls";

/// Connect to the engine named by `DOCKER_HOST` (or testcontainers' settings) and check it answers.
pub async fn connect_engine() -> Result<Docker, BackendError> {
    let unreachable = |reason: String| BackendError::Unreachable {
        host: docker_host(),
        reason,
    };
    let docker = testcontainers::core::client::docker_client_instance()
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    match tokio::time::timeout(Duration::from_secs(10), docker.ping()).await {
        Ok(Ok(_)) => Ok(docker),
        Ok(Err(e)) => Err(unreachable(e.to_string())),
        Err(_) => Err(unreachable("no answer within 10s".to_owned())),
    }
}

/// One run's network and mock containers.
#[derive(Debug)]
pub struct DockerRun {
    docker: Docker,
    image: String,
    run_id: String,
    /// The run's network, on which a target container reaches the mocks by name.
    network: String,
    /// Whether the run's network was made (only when a target container starts).
    network_created: bool,
    /// (mock name, container id, aliases) of the mock containers not on the run's network yet.
    unjoined: Vec<(String, String, Vec<String>)>,
    /// The network that carries the published ports of the run's own containers (created
    /// with the first one: pooled containers have the pool's).
    ports_network: String,
    ports_network_created: bool,
    /// (mock name, container id) of the run's own containers, in start order.
    containers: Vec<(String, String)>,
    /// The suite's pool, with reuse on.
    pool: Option<Arc<Pool>>,
    /// (mock name, container, time of its last log line before this run) checked out of the
    /// pool: its log tail for this run is what it printed after that line.
    pooled: Vec<(String, EngineContainer, Option<OffsetDateTime>)>,
    /// The client the mocks were configured with (to reset pooled ones).
    http: Option<reqwest::Client>,
    ready_within: Duration,
    closed: bool,
}

impl DockerRun {
    /// The engine connection.
    pub fn docker(&self) -> &Docker {
        &self.docker
    }

    /// The run's id (part of every object name and label).
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// Record a container the run created outside `DockerRun::start_mock` (e.g. the target),
    /// so that [`DockerRun::close`], `Drop` and the Ctrl-C path remove it too.
    pub fn adopt_container(&mut self, what: &str, id: &str) {
        self.containers.push((what.to_owned(), id.to_owned()));
    }

    /// The run's network name (mocks are reachable on it as `http://NAME:8080` once a target
    /// container started; before that it may not exist).
    pub fn network(&self) -> &str {
        &self.network
    }

    /// The networks of the run that were made, the run's own first.
    fn networks(&self) -> Vec<String> {
        let mut networks = Vec::new();
        if self.network_created {
            networks.push(self.network.clone());
        }
        if self.ports_network_created {
            networks.push(self.ports_network.clone());
        }
        networks
    }

    /// Create the run's network unless it exists, and join every mock container to it (as the
    /// start of a target container does; mocks started later join at once).
    pub async fn open_network(&mut self) -> Result<(), BackendError> {
        if !self.network_created {
            // Marked before creating: a half-made network is still looked for at the end.
            self.network_created = true;
            create_network(
                &self.docker,
                &self.run_id,
                &self.network,
                true,
                HashMap::new(),
            )
            .await?;
        }
        for (mock, id, aliases) in std::mem::take(&mut self.unjoined) {
            self.join_run_network(&mock, &id, aliases).await?;
        }
        Ok(())
    }

    /// Create the run's ports network unless it exists.
    async fn ensure_ports_network(&mut self) -> Result<(), BackendError> {
        if !self.ports_network_created {
            // Marked before creating: a half-made network is still looked for at the end.
            self.ports_network_created = true;
            create_network(
                &self.docker,
                &self.run_id,
                &self.ports_network,
                false,
                ports_network_options(),
            )
            .await?;
        }
        Ok(())
    }

    /// Start `spec` in a container (serving HTTPS with `tls`), wait for its readiness line,
    /// configure it over the control API and return its host-side URLs. With reuse on, a
    /// plain-HTTP mock gets an idle engine container of the suite's pool instead of a new one.
    pub(crate) async fn start_mock(
        &mut self,
        spec: &MockSpec,
        clock: &ClockSpec,
        tls: Option<&TlsIdentity>,
        http: &reqwest::Client,
    ) -> Result<PlacedMock, BackendError> {
        self.http = Some(http.clone());
        let mock = spec.name.clone();
        let engine = match (&self.pool, tls) {
            (Some(pool), None) => {
                let engine = pool
                    .checkout(&self.docker, &self.image, self.ready_within)
                    .await?;
                let logged_before = last_log_time(&self.docker, &engine.id).await;
                self.pooled
                    .push((mock.clone(), engine.clone(), logged_before));
                self.join_later(spec, &engine.id).await?;
                engine
            }
            _ => {
                self.ensure_ports_network().await?;
                let mut labels = labels::for_run(&self.run_id, "mock");
                labels.insert(labels::MOCK.to_owned(), mock.clone());
                let creating = creating(&format!("the container of mock `{mock}`"))?;
                let id = create_engine(
                    &self.docker,
                    &self.image,
                    &container_name(&self.run_id, &mock),
                    &self.ports_network,
                    labels,
                    tls.is_some(),
                )
                .await
                .map_err(|source| BackendError::Docker {
                    action: format!("create container for mock `{mock}`"),
                    source,
                })?;
                // Recorded before starting: a failed start leaves a created container to remove.
                self.containers.push((mock.clone(), id.clone()));
                drop(creating);
                self.join_later(spec, &id).await?;
                if let Some(identity) = tls {
                    upload_tls(&self.docker, &mock, &id, identity).await?;
                }
                start_engine(&self.docker, &mock, &id, self.ready_within).await?
            }
        };
        let scheme = if tls.is_some() { "https" } else { "http" };
        let placed = PlacedMock {
            name: mock.clone(),
            url: format!("{scheme}://127.0.0.1:{}", engine.traffic_port),
            admin_url: format!("http://127.0.0.1:{}", engine.admin_port),
            network_url: Some(format!("{scheme}://{mock}:{CONTAINER_TRAFFIC_PORT}")),
            sftp_address: serves_sftp(spec).then(|| format!("127.0.0.1:{}", engine.sftp_port)),
            network_sftp_address: serves_sftp(spec)
                .then(|| format!("{mock}:{CONTAINER_SFTP_PORT}")),
        };
        let control = ControlClient::new(placed.admin_url.clone(), http.clone());
        let configured = match control.restart_clock(clock).await {
            Ok(()) => control.configure(spec).await,
            Err(e) => Err(e),
        };
        configured.map_err(|source| BackendError::Control {
            mock: mock.clone(),
            source,
        })?;
        Ok(placed)
    }

    /// Each mock container's last `lines` output lines during this run, by mock name: all of a
    /// fresh container's, and what a reused one printed after its last line of the run before
    /// (compared by the engine's own timestamps, so no clock skew and no lines of that run).
    pub async fn log_tails(&self, lines: usize) -> BTreeMap<String, Vec<String>> {
        // The target's container is the run's too; its output is the target log, and no mock
        // may take its name.
        let containers = self
            .containers
            .iter()
            .filter(|(what, _)| what != TARGET_ALIAS)
            .map(|(mock, id)| (mock, id, None))
            .chain(
                self.pooled
                    .iter()
                    .map(|(mock, engine, before)| (mock, &engine.id, *before)),
            );
        let mut tails = BTreeMap::new();
        for (mock, id, after) in containers {
            let tail = container_log_tail(&self.docker, id, lines, after).await;
            tails.insert(mock.clone(), tail);
        }
        tails
    }

    /// Start the target as a container of `launch.image` on the run's network, under the name
    /// [`TARGET_ALIAS`], with its port published on `127.0.0.1` and (when `launch.ca_pem` is
    /// given) the run's CA at `CONTAINER_CA_FILE`, copied in before it starts. The container
    /// is the run's: [`DockerRun::close`] removes it. Readiness is the caller's (the target's
    /// `ready` probe).
    pub async fn start_target(
        &mut self,
        launch: &ContainerLaunch,
    ) -> Result<StartedTarget, BackendError> {
        let docker_error = |action: &str, source| BackendError::Docker {
            action: format!("{action} of the target (image `{}`)", launch.image),
            source,
        };
        self.ensure_ports_network().await?;
        self.open_network().await?;
        let body = target_body(
            launch,
            labels::for_run(&self.run_id, "target"),
            &self.ports_network,
        );
        let creating = creating("the target container")?;
        let created = self
            .docker
            .create_container(
                Some(
                    CreateContainerOptionsBuilder::default()
                        .name(&container_name(&self.run_id, TARGET_ALIAS))
                        .build(),
                ),
                body,
            )
            .await;
        let id = match created.map(|created| created.id) {
            Ok(id) => id,
            Err(testcontainers::bollard::errors::Error::DockerResponseServerError {
                status_code: 404,
                ..
            }) => {
                return Err(BackendError::NoImage {
                    image: launch.image.clone(),
                });
            }
            Err(e) => return Err(docker_error("create the container", e)),
        };
        // Recorded before anything else: a failed start leaves a created container to remove.
        self.adopt_container(TARGET_ALIAS, &id);
        drop(creating);
        self.docker
            .connect_network(
                &self.network,
                NetworkConnectRequest {
                    container: id.clone(),
                    endpoint_config: Some(EndpointSettings {
                        aliases: Some(vec![TARGET_ALIAS.to_owned()]),
                        ..Default::default()
                    }),
                },
            )
            .await
            .map_err(|e| docker_error("join the run's network", e))?;
        if let Some(ca_pem) = &launch.ca_pem {
            let (dir, file) = CONTAINER_CA_FILE.rsplit_once('/').unwrap_or(("", ""));
            let archive =
                archive(dir, &[(file, ca_pem, 0o644)])
                    .await
                    .map_err(|e| BackendError::Pack {
                        what: "the run's CA for the target".to_owned(),
                        source: e,
                    })?;
            self.docker
                .upload_to_container(
                    &id,
                    Some(UploadToContainerOptionsBuilder::default().path("/").build()),
                    testcontainers::bollard::body_full(archive.into()),
                )
                .await
                .map_err(|e| docker_error("copy the run's CA into the container", e))?;
        }
        self.docker
            .start_container(&id, None)
            .await
            .map_err(|e| docker_error("start the container", e))?;
        let details = self
            .docker
            .inspect_container(&id, None)
            .await
            .map_err(|e| docker_error("inspect the container", e))?;
        let ports = details
            .network_settings
            .and_then(|settings| settings.ports)
            .unwrap_or_default();
        let Some(host_port) = published_port(&ports, launch.port) else {
            // A container that exited at once has no ports left to read: say that, with what
            // it printed, rather than blame the publishing.
            let state = details.state.unwrap_or_default();
            if state.running != Some(true) {
                return Err(BackendError::TargetExited {
                    status: match state.exit_code {
                        Some(code) => format!("exit code {code}"),
                        None => "no exit code".to_owned(),
                    },
                    log_tail: container_log_tail(&self.docker, &id, 20, None).await,
                });
            }
            return Err(BackendError::NotPublished {
                port: launch.port,
                image: launch.image.clone(),
            });
        };
        Ok(StartedTarget {
            docker: self.docker.clone(),
            id,
            url: format!("http://127.0.0.1:{host_port}"),
            network_url: format!("http://{TARGET_ALIAS}:{}", launch.port),
        })
    }

    /// Join mock container `id` to the run's network under `spec`'s name and hostnames: now
    /// when the network exists, else when it is made.
    async fn join_later(&mut self, spec: &MockSpec, id: &str) -> Result<(), BackendError> {
        if self.network_created {
            self.join_run_network(&spec.name, id, aliases(spec)).await
        } else {
            self.unjoined
                .push((spec.name.clone(), id.to_owned(), aliases(spec)));
            Ok(())
        }
    }

    /// Join container `id` to the run's network under `aliases`.
    async fn join_run_network(
        &self,
        mock: &str,
        id: &str,
        aliases: Vec<String>,
    ) -> Result<(), BackendError> {
        self.docker
            .connect_network(
                &self.network,
                NetworkConnectRequest {
                    container: id.to_owned(),
                    endpoint_config: Some(EndpointSettings {
                        aliases: Some(aliases),
                        ..Default::default()
                    }),
                },
            )
            .await
            .map_err(|source| BackendError::Docker {
                action: format!("join mock `{mock}` to the run's network"),
                source,
            })
    }
}

/// Follow the container's output until the readiness line, the container's end, or the
/// deadline.
async fn wait_ready(
    docker: &Docker,
    mock: &str,
    id: &str,
    within: Duration,
) -> Result<(), BackendError> {
    {
        let options = LogsOptionsBuilder::default()
            .follow(true)
            .stdout(true)
            .stderr(true)
            .build();
        let mut stream = docker.logs(id, Some(options));
        let mut seen = String::new();
        let outcome = tokio::time::timeout(within, async {
            while let Some(chunk) = stream.next().await {
                match chunk {
                    Ok(LogOutput::StdOut { message }) => {
                        seen.push_str(&String::from_utf8_lossy(&message));
                        if seen.lines().any(|line| line.trim() == READY_LINE) {
                            return Ok(());
                        }
                    }
                    Ok(other) => seen.push_str(&String::from_utf8_lossy(&other.into_bytes())),
                    Err(e) => return Err(format!("reading its output failed: {e}")),
                }
            }
            Err("the container stopped before it was ready".to_owned())
        })
        .await;
        let reason = match outcome {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(reason)) => reason,
            Err(_) => format!(
                "no readiness line within {} (`[docker] ready_within` in reenact.toml sets it)",
                crate::scenario::duration::format(within)
            ),
        };
        let lines: Vec<String> = seen.lines().map(str::to_owned).collect();
        Err(BackendError::NotReady {
            mock: mock.to_owned(),
            reason,
            log_tail: lines[lines.len().saturating_sub(20)..].to_vec(),
        })
    }
}

/// A started engine container and its published ports.
#[derive(Debug, Clone)]
struct EngineContainer {
    id: String,
    traffic_port: String,
    admin_port: String,
    sftp_port: String,
}

/// Whether `spec` is a bank running an SFTP server (every engine listens; only such a mock's
/// address is given to templates).
fn serves_sftp(spec: &MockSpec) -> bool {
    matches!(&spec.provider, Some(ProviderSpec::Bank(settings)) if settings.sftp.is_some())
}

/// What a target container is created with: the image, its arguments and the environment the
/// scenario gave (as given: the target's configuration is its own, see `docs/decisions.md`,
/// "The target's environment is the user's"), reenact's labels, its port published on loopback
/// through `network`.
fn target_body(
    launch: &ContainerLaunch,
    container_labels: HashMap<String, String>,
    network: &str,
) -> ContainerCreateBody {
    let env = launch
        .env
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    let port = format!("{}/tcp", launch.port);
    ContainerCreateBody {
        image: Some(launch.image.clone()),
        cmd: launch.args.clone(),
        env: Some(env),
        labels: Some(container_labels),
        exposed_ports: Some(vec![port.clone()]),
        stop_timeout: Some(i64::from(STOP_GRACE_SECS)),
        host_config: Some(HostConfig {
            // As for a mock: the port is published through the ports network, the run's own
            // (internal) network is joined under the target's alias.
            network_mode: Some(network.to_owned()),
            port_bindings: Some(HashMap::from([(port, loopback_binding())])),
            dns: Some(vec![ISOLATED_DNS.to_owned()]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Create (not start) an engine container on `network` (which carries its published ports),
/// with reenact's DNS sink, serving HTTPS from an uploaded identity with `tls`.
async fn create_engine(
    docker: &Docker,
    image: &str,
    name: &str,
    network: &str,
    container_labels: HashMap<String, String>,
    tls: bool,
) -> Result<String, testcontainers::bollard::errors::Error> {
    let body = engine_body(image, network, container_labels, tls);
    docker
        .create_container(
            Some(CreateContainerOptionsBuilder::default().name(name).build()),
            body,
        )
        .await
        .map(|created| created.id)
}

/// What an engine container is created with: flags only. Its configuration, secrets included
/// (a stub's expected key, a provider's webhook key), goes over the control API once it runs,
/// never into its environment, command or labels, which `docker inspect` shows.
fn engine_body(
    image: &str,
    network: &str,
    container_labels: HashMap<String, String>,
    tls: bool,
) -> ContainerCreateBody {
    let traffic = format!("{CONTAINER_TRAFFIC_PORT}/tcp");
    let admin = format!("{CONTAINER_ADMIN_PORT}/tcp");
    let sftp = format!("{CONTAINER_SFTP_PORT}/tcp");
    let mut cmd = vec![
        "--host".to_owned(),
        "0.0.0.0".to_owned(),
        "--port".to_owned(),
        CONTAINER_TRAFFIC_PORT.to_string(),
        "--admin-port".to_owned(),
        CONTAINER_ADMIN_PORT.to_string(),
        "--sftp-port".to_owned(),
        CONTAINER_SFTP_PORT.to_string(),
        "--dns-sink".to_owned(),
    ];
    if tls {
        cmd.extend([
            "--tls-cert".to_owned(),
            format!("{TLS_DIR}/chain.pem"),
            "--tls-key".to_owned(),
            format!("{TLS_DIR}/key.pem"),
        ]);
    }
    ContainerCreateBody {
        image: Some(image.to_owned()),
        cmd: Some(cmd),
        labels: Some(container_labels),
        exposed_ports: Some(vec![traffic.clone(), admin.clone(), sftp.clone()]),
        stop_timeout: Some(i64::from(STOP_GRACE_SECS)),
        host_config: Some(HostConfig {
            // Ports are published only on a network that is not `internal`; the run's network
            // is joined separately.
            network_mode: Some(network.to_owned()),
            port_bindings: Some(HashMap::from([
                (traffic, loopback_binding()),
                (admin, loopback_binding()),
                (sftp, loopback_binding()),
            ])),
            dns: Some(vec![ISOLATED_DNS.to_owned()]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Put `identity` into container `id` (created, not started) for `--tls-cert`/`--tls-key`.
async fn upload_tls(
    docker: &Docker,
    mock: &str,
    id: &str,
    identity: &TlsIdentity,
) -> Result<(), BackendError> {
    let archive = tls_archive(identity)
        .await
        .map_err(|source| BackendError::Pack {
            what: format!("the certificate of mock `{mock}`"),
            source,
        })?;
    docker
        .upload_to_container(
            id,
            Some(UploadToContainerOptionsBuilder::default().path("/").build()),
            testcontainers::bollard::body_full(archive.into()),
        )
        .await
        .map_err(|source| BackendError::Docker {
            action: format!("put the certificate into the container of mock `{mock}`"),
            source,
        })
}

/// Start container `id`, wait for its readiness line and read its published ports.
async fn start_engine(
    docker: &Docker,
    mock: &str,
    id: &str,
    within: Duration,
) -> Result<EngineContainer, BackendError> {
    let docker_error = |action: &str, source| BackendError::Docker {
        action: format!("{action} for mock `{mock}`"),
        source,
    };
    docker
        .start_container(id, None)
        .await
        .map_err(|e| docker_error("start container", e))?;
    wait_ready(docker, mock, id, within).await?;
    let details = docker
        .inspect_container(id, None)
        .await
        .map_err(|e| docker_error("inspect container", e))?;
    let ports = details
        .network_settings
        .and_then(|settings| settings.ports)
        .unwrap_or_default();
    let host_port = |port: u16| -> Result<String, BackendError> {
        let port = format!("{port}/tcp");
        ports
            .get(&port)
            .and_then(|bindings| bindings.as_ref())
            .and_then(|bindings| {
                bindings
                    .iter()
                    .find_map(|b| b.host_port.clone().filter(|p| !p.is_empty()))
            })
            .ok_or_else(|| BackendError::NotReady {
                mock: mock.to_owned(),
                reason: format!("the engine published no host port for `{port}`"),
                log_tail: Vec::new(),
            })
    };
    Ok(EngineContainer {
        id: id.to_owned(),
        traffic_port: host_port(CONTAINER_TRAFFIC_PORT)?,
        admin_port: host_port(CONTAINER_ADMIN_PORT)?,
        sftp_port: host_port(CONTAINER_SFTP_PORT)?,
    })
}

/// The idle engine containers of a suite (`--reuse`): a run checks one out per plain-HTTP mock,
/// joins it to its network under the mock's names and configures it; closing the run resets it,
/// takes it off the network and puts it back. A container serves one run at a time, so a suite
/// with `-j N` holds at most N containers per mock it runs at once.
#[derive(Debug)]
pub struct Pool {
    /// Label `reenact.run` of the pool's objects, and its key in the Ctrl-C registry.
    id: String,
    /// The network carrying the pool containers' published ports.
    network: String,
    idle: Mutex<Vec<EngineContainer>>,
    /// Every container the pool created and has not removed.
    all: Mutex<Vec<String>>,
    /// How many containers the pool has created in all.
    created: std::sync::atomic::AtomicUsize,
}

impl Pool {
    async fn create(docker: &Docker) -> Result<Pool, BackendError> {
        let id = format!("pool-{}", crate::backend::new_run_id());
        let network = format!("reenact-{id}");
        let creating = creating(&format!("network `{network}`"))?;
        docker
            .create_network(NetworkCreateRequest {
                name: network.clone(),
                driver: Some("bridge".to_owned()),
                options: Some(ports_network_options()),
                labels: Some(labels::for_run(&id, "network")),
                ..Default::default()
            })
            .await
            .map_err(|source| BackendError::Docker {
                action: format!("create network `{network}`"),
                source,
            })?;
        drop(creating);
        Ok(Pool {
            id,
            network,
            idle: Mutex::new(Vec::new()),
            all: Mutex::new(Vec::new()),
            created: std::sync::atomic::AtomicUsize::new(0),
        })
    }

    /// How many containers the pool has created since it was made (removed ones included).
    pub fn created(&self) -> usize {
        self.created.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// An idle container, or a new one when none is idle.
    async fn checkout(
        &self,
        docker: &Docker,
        image: &str,
        within: Duration,
    ) -> Result<EngineContainer, BackendError> {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        if let Some(engine) = idle {
            return Ok(engine);
        }
        let number = self
            .created
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        let name = format!("reenact-{}-{number}", self.id);
        let creating = creating(&format!("pool container `{name}`"))?;
        let id = create_engine(
            docker,
            image,
            &name,
            &self.network,
            labels::for_run(&self.id, "mock"),
            false,
        )
        .await
        .map_err(|source| BackendError::Docker {
            action: format!("create pool container `{name}`"),
            source,
        })?;
        self.all
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(id.clone());
        drop(creating);
        match start_engine(docker, &name, &id, within).await {
            Ok(engine) => Ok(engine),
            Err(e) => {
                self.discard(docker, &name, &id).await;
                Err(e)
            }
        }
    }

    /// Reset `engine` and take it off the run's `network` (when the run made one); back to the
    /// idle list when both worked, removed otherwise (a container in an unknown state never
    /// serves another run).
    async fn give_back(
        &self,
        docker: &Docker,
        http: Option<&reqwest::Client>,
        network: Option<&str>,
        mock: &str,
        engine: EngineContainer,
    ) {
        let reset = match http {
            Some(http) => ControlClient::new(
                format!("http://127.0.0.1:{}", engine.admin_port),
                http.clone(),
            )
            .reset()
            .await
            .map_err(|e| e.to_string()),
            None => Err("no HTTP client".to_owned()),
        };
        let disconnected = match network {
            Some(network) => docker
                .disconnect_network(
                    network,
                    NetworkDisconnectRequest {
                        container: engine.id.clone(),
                        force: Some(true),
                    },
                )
                .await
                .map_err(|e| e.to_string()),
            None => Ok(()),
        };
        match reset.and(disconnected) {
            Ok(()) => self
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(engine),
            Err(e) => {
                tracing::warn!(mock, error = %e, "a pool container could not be reset; removing it");
                self.discard(docker, mock, &engine.id).await;
            }
        }
    }

    async fn discard(&self, docker: &Docker, what: &str, id: &str) {
        if let Err(left) = remove_container(docker, what, id, removal_deadline()).await {
            report_left(vec![left]);
        }
        self.all
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|c| c != id);
    }

    /// Remove every container of the pool and its network.
    async fn close(&self, docker: &Docker) {
        let all = std::mem::take(&mut *self.all.lock().unwrap_or_else(PoisonError::into_inner));
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        let containers = all.into_iter().map(|id| ("pool".to_owned(), id)).collect();
        report_left(remove_run(docker, std::slice::from_ref(&self.network), containers).await);
    }
}

impl DockerRun {
    /// Give pooled containers back (reset and off the run's network), stop and remove every
    /// other container of the run, then its networks (retried until a deadline). What could not
    /// be removed is logged by name: a leftover is found again by `reenact clean` (or the next
    /// start-up sweep) through its labels.
    pub async fn close(mut self) {
        self.closed = true;
        let pooled = std::mem::take(&mut self.pooled);
        if let Some(pool) = &self.pool {
            for (mock, engine, _) in pooled {
                pool.give_back(
                    &self.docker,
                    self.http.as_ref(),
                    self.network_created.then_some(self.network.as_str()),
                    &mock,
                    engine,
                )
                .await;
            }
        }
        let containers = std::mem::take(&mut self.containers);
        report_left(remove_run(&self.docker, &self.networks(), containers).await);
    }
}

impl Drop for DockerRun {
    fn drop(&mut self) {
        if self.closed {
            return;
        }
        // A panic or a cancelled run: remove the run's objects on a thread of its own, since the
        // runtime this value lived on may be unwinding.
        let networks = self.networks();
        let mut containers = std::mem::take(&mut self.containers);
        // Pooled containers in an unknown state are not given back: they go too.
        containers.extend(
            std::mem::take(&mut self.pooled)
                .into_iter()
                .map(|(mock, engine, _)| (mock, engine.id)),
        );
        let cleanup = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                if let Ok(docker) = Docker::connect_with_defaults() {
                    report_left(remove_run(&docker, &networks, containers).await);
                }
            });
        });
        let _ = cleanup.join();
    }
}

/// The names a mock answers to on the run's network: its own, then its `hostnames`.
fn aliases(spec: &MockSpec) -> Vec<String> {
    std::iter::once(spec.name.clone())
        .chain(spec.hostnames.iter().cloned())
        .collect()
}

fn container_name(run_id: &str, mock: &str) -> String {
    let safe: String = mock
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("reenact-{run_id}-{safe}")
}

/// A tar archive holding `identity` as `TLS_DIR/chain.pem` and `TLS_DIR/key.pem` (the key
/// readable by the container's user only), for `upload_to_container`.
async fn tls_archive(identity: &TlsIdentity) -> std::io::Result<Vec<u8>> {
    let (chain, key) = identity.to_pem();
    archive(
        TLS_DIR,
        &[
            ("chain.pem", chain.as_bytes(), 0o644),
            ("key.pem", key.as_bytes(), 0o600),
        ],
    )
    .await
}

/// A tar archive that puts each `(name, bytes, mode)` of `files` in folder `dir` (absolute)
/// when extracted at `/`, for `upload_to_container` before a container starts.
async fn archive(dir: &str, files: &[(&str, &[u8], u32)]) -> std::io::Result<Vec<u8>> {
    let mut archive = tokio_tar::Builder::new(Vec::new());
    for (name, data, mode) in files {
        let mut header = tokio_tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(*mode);
        header.set_mtime(0);
        header.set_cksum();
        let path = format!("{}/{name}", dir.trim_start_matches('/'));
        archive.append_data(&mut header, path, *data).await?;
    }
    archive.into_inner().await
}

/// The last `lines` lines container `id` printed (stdout and stderr); with `after`, only those
/// the engine stamped later than it. Empty when the engine will not say.
async fn container_log_tail(
    docker: &Docker,
    id: &str,
    lines: usize,
    after: Option<OffsetDateTime>,
) -> Vec<String> {
    let mut options = LogsOptionsBuilder::default()
        .stdout(true)
        .stderr(true)
        .timestamps(after.is_some())
        .tail(&lines.to_string());
    if let Some(after) = after {
        // `since` counts whole seconds: the timestamps below do the exact cut.
        options = options.since(i32::try_from(after.unix_timestamp()).unwrap_or(i32::MAX));
    }
    let text = read_logs(docker, id, options.build()).await;
    let all: Vec<String> = match after {
        None => text.lines().map(str::to_owned).collect(),
        Some(after) => text
            .lines()
            .filter_map(|line| {
                let (stamp, message) = split_timestamp(line)?;
                (stamp > after).then(|| message.to_owned())
            })
            .collect(),
    };
    all[all.len().saturating_sub(lines)..].to_vec()
}

/// When container `id` printed its last line, by the engine's clock (`None` when it printed
/// nothing).
async fn last_log_time(docker: &Docker, id: &str) -> Option<OffsetDateTime> {
    let options = LogsOptionsBuilder::default()
        .stdout(true)
        .stderr(true)
        .timestamps(true)
        .tail("1")
        .build();
    let text = read_logs(docker, id, options).await;
    text.lines()
        .filter_map(|line| split_timestamp(line).map(|(stamp, _)| stamp))
        .max()
}

async fn read_logs(
    docker: &Docker,
    id: &str,
    options: testcontainers::bollard::query_parameters::LogsOptions,
) -> String {
    let mut stream = docker.logs(id, Some(options));
    let mut text = String::new();
    while let Some(Ok(chunk)) = stream.next().await {
        text.push_str(&String::from_utf8_lossy(&chunk.into_bytes()));
    }
    text
}

/// A log line the engine stamped (`2026-11-23T02:56:12.123456789Z message`): its time and
/// message.
fn split_timestamp(line: &str) -> Option<(OffsetDateTime, &str)> {
    let (stamp, message) = line.split_once(' ').unwrap_or((line, ""));
    let stamp =
        OffsetDateTime::parse(stamp, &time::format_description::well_known::Rfc3339).ok()?;
    Some((stamp, message))
}

/// A port binding on `127.0.0.1` at a port the host chooses: nothing reenact starts listens
/// beyond loopback.
fn loopback_binding() -> Option<Vec<PortBinding>> {
    Some(vec![PortBinding {
        host_ip: Some("127.0.0.1".to_owned()),
        host_port: Some(String::new()),
    }])
}

/// The host port the engine published for container port `port`.
fn published_port(ports: &PortMap, port: u16) -> Option<u16> {
    ports
        .get(&format!("{port}/tcp"))
        .and_then(|bindings| bindings.as_ref())
        .and_then(|bindings| {
            bindings
                .iter()
                .find_map(|b| b.host_port.as_deref().and_then(|p| p.parse().ok()))
        })
}

/// A container target, rendered: what [`DockerRun::start_target`] starts. The target module
/// launches it (`crate::target::Launch::Container`); it lives here, with [`StartedTarget`], so
/// that the dependency runs one way: target → backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerLaunch {
    /// The local image.
    pub image: String,
    /// Arguments replacing the image's `CMD`; `None` keeps it.
    pub args: Option<Vec<String>>,
    /// Environment.
    pub env: Vec<(String, String)>,
    /// The port it listens on inside its container.
    pub port: u16,
    /// The run's CA (PEM), copied into the container at
    /// `CONTAINER_CA_FILE` when the run has HTTPS mocks.
    pub ca_pem: Option<Vec<u8>>,
}

/// A target container started by [`DockerRun::start_target`].
#[derive(Debug, Clone)]
pub struct StartedTarget {
    /// The engine connection (to follow its logs, watch it and stop it).
    pub docker: Docker,
    /// The container id.
    pub id: String,
    /// Its port as the runner reaches it: `http://127.0.0.1:HOSTPORT`.
    pub url: String,
    /// Its port as the mocks reach it on the run's network: `http://reenact-target:PORT`.
    pub network_url: String,
}

/// How long a run's teardown keeps retrying before it reports what is left.
const REMOVAL_WITHIN: Duration = Duration::from_secs(30);

fn removal_deadline() -> Instant {
    Instant::now() + REMOVAL_WITHIN
}

/// Stop and remove `containers` (mock name or role, id), then remove `networks`, disconnecting
/// whatever is still attached to them; retried until a deadline. Returns what is still there,
/// one description each (empty when everything went).
async fn remove_run(
    docker: &Docker,
    networks: &[String],
    containers: Vec<(String, String)>,
) -> Vec<String> {
    let deadline = removal_deadline();
    let removals = containers
        .iter()
        .map(|(what, id)| remove_container(docker, what, id, deadline));
    let mut left: Vec<String> = futures_util::future::join_all(removals)
        .await
        .into_iter()
        .filter_map(Result::err)
        .collect();
    for network in networks {
        if let Err(still) = remove_network(docker, network, deadline).await {
            left.push(still);
        }
    }
    left
}

/// Log what a teardown could not remove, by name, and how to remove it later.
fn report_left(left: Vec<String>) {
    if !left.is_empty() {
        tracing::warn!(
            left = ?left,
            "failed to remove what the run created; `reenact clean` removes it once this process has ended"
        );
    }
}

/// Stop container `id` (SIGTERM, then SIGKILL after the grace period) and remove it, until it
/// is gone or `deadline` passes: then `Err` describes it.
async fn remove_container(
    docker: &Docker,
    what: &str,
    id: &str,
    deadline: Instant,
) -> Result<(), String> {
    let stop = StopContainerOptionsBuilder::default()
        .t(STOP_GRACE_SECS)
        .build();
    if let Err(e) = docker.stop_container(id, Some(stop)).await {
        tracing::debug!(container = what, error = %e, "stopping the container failed");
    }
    force_remove_container(docker, what, id, deadline).await
}

/// Remove container `id` at once (killing it if it runs), retried until it is gone or
/// `deadline` passes.
async fn force_remove_container(
    docker: &Docker,
    what: &str,
    id: &str,
    deadline: Instant,
) -> Result<(), String> {
    let remove = RemoveContainerOptionsBuilder::default()
        .force(true)
        .v(true)
        .build();
    loop {
        let error = match docker.remove_container(id, Some(remove.clone())).await {
            Ok(()) => return Ok(()),
            Err(e) if not_found(&e) => return Ok(()),
            // 409: being removed already (e.g. by the run's own teardown): wait for it.
            Err(e) => e,
        };
        if Instant::now() >= deadline {
            return Err(format!("container `{what}` ({id}): {error}"));
        }
        tracing::debug!(container = what, error = %error, "removing the container failed; retrying");
        tokio::time::sleep(RETRY_EVERY).await;
    }
}

/// Remove network `name`, disconnecting whatever is still attached to it, until it is gone or
/// `deadline` passes: then `Err` describes it. (An attached endpoint is the usual reason a
/// removal fails: a container still being removed, or one the run did not know about.)
async fn remove_network(docker: &Docker, name: &str, deadline: Instant) -> Result<(), String> {
    loop {
        let error = match docker.remove_network(name).await {
            Ok(()) => return Ok(()),
            Err(e) if not_found(&e) => return Ok(()),
            Err(e) => e,
        };
        if Instant::now() >= deadline {
            return Err(format!("network `{name}`: {error}"));
        }
        tracing::debug!(network = name, error = %error, "removing the network failed; disconnecting what is attached");
        if let Ok(network) = docker.inspect_network(name, None).await {
            for container in network.containers.unwrap_or_default().into_keys() {
                let request = NetworkDisconnectRequest {
                    container,
                    force: Some(true),
                };
                if let Err(e) = docker.disconnect_network(name, request).await {
                    tracing::debug!(network = name, error = %e, "disconnecting failed");
                }
            }
        }
        tokio::time::sleep(RETRY_EVERY).await;
    }
}

/// The pause between two attempts at removing something.
const RETRY_EVERY: Duration = Duration::from_millis(200);

/// Whether the engine said the object does not exist.
fn not_found(error: &testcontainers::bollard::errors::Error) -> bool {
    matches!(
        error,
        testcontainers::bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

/// What in `scenario` mocks in containers cannot run: unless the target is a container on the
/// run's network too (`target_in_network`), webhook steps. The mock sends them from its
/// container, and a target process listens on the host's loopback, which a container does not
/// reach.
pub fn unsupported(scenario: &Scenario, target_in_network: bool) -> Vec<Unsupported> {
    if target_in_network {
        return Vec::new();
    }
    scenario
        .flow
        .iter()
        .filter(|step| matches!(step.action, StepAction::Webhook { .. }))
        .map(|step| Unsupported::Webhook {
            step: step.name.clone(),
        })
        .collect()
}

/// What [`clean`] or a sweep removed, and what it left.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CleanReport {
    /// Container names removed.
    pub containers: Vec<String>,
    /// Network names removed.
    pub networks: Vec<String>,
    /// Image tags (or ids) removed.
    pub images: Vec<String>,
    /// Objects reenact's that were kept: their owner still runs, or cannot be told (another
    /// host or boot), one description each.
    pub kept: Vec<String>,
    /// What could not be removed, one description each.
    pub failed: Vec<String>,
}

/// Remove the containers and networks reenact processes left behind: by default those whose
/// owner is gone (as the start-up sweep does); with `all`, every object carrying
/// [`labels::MANAGED`], live runs' included. With `images`, reenact's images too. Objects
/// without [`labels::MANAGED`] are never touched.
pub(crate) async fn clean(
    docker: &Docker,
    all: bool,
    images: bool,
) -> Result<CleanReport, BackendError> {
    let judge = labels::Judge::here();
    let mut report = remove_labelled(docker, &labels::managed_filter(), |found| {
        all || found.is_some_and(|l| judge.owner(l, labels::process_running) == labels::Owner::Dead)
    })
    .await?;
    if images {
        let found = docker
            .list_images(Some(
                ListImagesOptionsBuilder::default()
                    .filters(&labels::managed_filter())
                    .build(),
            ))
            .await
            .map_err(|source| BackendError::Docker {
                action: "list images".to_owned(),
                source,
            })?;
        for image in found {
            let name = image
                .repo_tags
                .first()
                .cloned()
                .unwrap_or_else(|| image.id.clone());
            let options = RemoveImageOptionsBuilder::default().force(true).build();
            match docker.remove_image(&image.id, Some(options), None).await {
                Ok(_) => report.images.push(name),
                Err(e) => report.failed.push(format!("image `{name}`: {e}")),
            }
        }
    }
    Ok(report)
}

/// Remove the containers and networks that reenact processes of this machine left behind and
/// that are no longer running ([`labels::Owner::Dead`]): what a `kill -9` leaves. Objects of
/// other hosts and of live processes are never touched, so this is safe on a shared engine.
pub(crate) async fn sweep_dead_runs(docker: &Docker) -> Result<CleanReport, BackendError> {
    let judge = labels::Judge::here();
    remove_labelled(
        docker,
        &labels::filter(labels::HOST, &judge.host),
        |found| {
            found.is_some_and(|l| judge.owner(l, labels::process_running) == labels::Owner::Dead)
        },
    )
    .await
}

/// Remove the containers, then the networks, that `filters` lists and `select` picks by their
/// labels (what is already gone is not an error); note the others in [`CleanReport::kept`].
async fn remove_labelled(
    docker: &Docker,
    filters: &HashMap<String, Vec<String>>,
    select: impl Fn(Option<&HashMap<String, String>>) -> bool,
) -> Result<CleanReport, BackendError> {
    let (containers, networks) = list_labelled(docker, filters).await?;
    let mut report = CleanReport::default();
    let deadline = removal_deadline();
    let mut removals = Vec::new();
    for (name, id, found) in containers {
        if select(found.as_ref()) {
            removals.push(async move {
                let removed = remove_container(docker, &name, &id, deadline).await;
                (name, removed)
            });
        } else {
            report.kept.push(format!("container `{name}`"));
        }
    }
    for (name, removed) in futures_util::future::join_all(removals).await {
        match removed {
            Ok(()) => report.containers.push(name),
            Err(e) => report.failed.push(e),
        }
    }
    for (name, found) in networks {
        if !select(found.as_ref()) {
            report.kept.push(format!("network `{name}`"));
            continue;
        }
        match remove_network(docker, &name, deadline).await {
            Ok(()) => report.networks.push(name),
            Err(e) => report.failed.push(e),
        }
    }
    Ok(report)
}

/// A container as listed: its name (or id), id and labels.
type Listed = (String, String, Option<HashMap<String, String>>);

/// The containers and networks `filters` selects, with their labels.
async fn list_labelled(
    docker: &Docker,
    filters: &HashMap<String, Vec<String>>,
) -> Result<(Vec<Listed>, Vec<(String, Option<HashMap<String, String>>)>), BackendError> {
    let list_error = |what: &str, source| BackendError::Docker {
        action: format!("list {what}"),
        source,
    };
    let containers = docker
        .list_containers(Some(
            ListContainersOptionsBuilder::default()
                .all(true)
                .filters(filters)
                .build(),
        ))
        .await
        .map_err(|e| list_error("containers", e))?
        .into_iter()
        .filter_map(|container| {
            let id = container.id?;
            let name = container
                .names
                .and_then(|names| names.into_iter().next())
                .map(|n| n.trim_start_matches('/').to_owned())
                .unwrap_or_else(|| id.clone());
            Some((name, id, container.labels))
        })
        .collect();
    let networks = docker
        .list_networks(Some(
            ListNetworksOptionsBuilder::default()
                .filters(filters)
                .build(),
        ))
        .await
        .map_err(|e| list_error("networks", e))?
        .into_iter()
        .filter_map(|network| Some((network.name?, network.labels)))
        .collect();
    Ok((containers, networks))
}

/// Docker objects being created right now, whether any ever was, and whether the Ctrl-C path
/// has closed creation.
struct Creations {
    in_flight: usize,
    any: bool,
    closed: bool,
}

static CREATIONS: Mutex<Creations> = Mutex::new(Creations {
    in_flight: 0,
    any: false,
    closed: false,
});

/// A creation in flight; dropping it ends it.
struct Creating;

impl Drop for Creating {
    fn drop(&mut self) {
        CREATIONS
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .in_flight -= 1;
    }
}

/// Begin creating `what` (an object carrying this process's labels), unless the Ctrl-C path has
/// closed creation: then nothing more is created.
fn creating(what: &str) -> Result<Creating, BackendError> {
    let mut creations = CREATIONS.lock().unwrap_or_else(PoisonError::into_inner);
    if creations.closed {
        return Err(BackendError::Stopping {
            what: what.to_owned(),
        });
    }
    creations.in_flight += 1;
    creations.any = true;
    Ok(Creating)
}

/// What [`teardown_own`] could not remove.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Teardown {
    /// Containers and networks still there, one description each, or why the engine could not
    /// be asked.
    pub(crate) left: Vec<String>,
}

/// Remove every container and network this process created (the Ctrl-C / SIGTERM path, before
/// the process exits), within `within`: close creation and wait for the creations in flight
/// (an object being created is not yet known to its run), then remove, containers first, all
/// that carries this process's labels, until nothing is left or time is up. Does nothing when
/// this process never created a Docker object. Uses a connection of its own: the caller may run
/// on another runtime than the runs.
pub(crate) async fn teardown_own(within: Duration) -> Teardown {
    let deadline = Instant::now() + within;
    let any = loop {
        let (in_flight, any) = {
            let mut creations = CREATIONS.lock().unwrap_or_else(PoisonError::into_inner);
            creations.closed = true;
            (creations.in_flight, creations.any)
        };
        if in_flight == 0 || Instant::now() >= deadline {
            break any;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    if !any {
        return Teardown::default();
    }
    let docker = match Docker::connect_with_defaults() {
        Ok(docker) => docker,
        Err(e) => {
            return Teardown {
                left: vec![format!("failed to reach the Docker engine: {e}")],
            };
        }
    };
    let judge = labels::Judge::here();
    let filters = labels::filter(labels::PID, &judge.me.pid.to_string());
    let mine = |found: &Option<HashMap<String, String>>| {
        found
            .as_ref()
            .is_some_and(|l| judge.owner(l, labels::process_running) == labels::Owner::This)
    };
    loop {
        let listed = list_labelled(&docker, &filters).await;
        let (containers, networks) = match listed {
            Ok(listed) => listed,
            Err(e) if Instant::now() >= deadline => {
                return Teardown {
                    left: vec![crate::errors::one_line(&e)],
                };
            }
            Err(_) => {
                tokio::time::sleep(RETRY_EVERY).await;
                continue;
            }
        };
        let containers: Vec<Listed> = containers.into_iter().filter(|(_, _, l)| mine(l)).collect();
        let networks: Vec<String> = networks
            .into_iter()
            .filter(|(_, l)| mine(l))
            .map(|(name, _)| name)
            .collect();
        if containers.is_empty() && networks.is_empty() {
            return Teardown::default();
        }
        if Instant::now() >= deadline {
            let left = containers
                .iter()
                .map(|(name, _, _)| format!("container `{name}`"))
                .chain(networks.iter().map(|name| format!("network `{name}`")))
                .collect();
            return Teardown { left };
        }
        // Stopping: no grace period for the containers.
        let removals = containers
            .iter()
            .map(|(name, id, _)| force_remove_container(&docker, name, id, deadline));
        futures_util::future::join_all(removals).await;
        for network in &networks {
            let _ = remove_network(&docker, network, deadline).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_ports_are_read_from_the_bindings() {
        let ports: PortMap = HashMap::from([
            (
                "8080/tcp".to_owned(),
                Some(vec![PortBinding {
                    host_ip: Some("127.0.0.1".to_owned()),
                    host_port: Some("40123".to_owned()),
                }]),
            ),
            ("9000/tcp".to_owned(), None),
        ]);
        assert_eq!(published_port(&ports, 8080), Some(40123));
        assert_eq!(published_port(&ports, 9000), None);
        assert_eq!(published_port(&ports, 1), None);
    }

    #[test]
    fn log_lines_are_split_at_the_engine_timestamp() {
        let (stamp, message) =
            split_timestamp("2026-11-23T02:56:12.123456789Z reenact mock-engine ready").unwrap();
        assert_eq!(message, "reenact mock-engine ready");
        assert_eq!(stamp.nanosecond(), 123_456_789);
        assert_eq!(stamp.unix_timestamp(), 1_795_402_572);
        assert!(split_timestamp("no timestamp here").is_none());
    }

    /// What `docker inspect` shows of a run: a secret reaches a container only in the target's
    /// environment, where the scenario put it; an engine container holds no configuration.
    #[test]
    fn secrets_reach_a_container_only_in_the_target_env_the_scenario_gave() {
        let key = "whsec-PLANTED-5f4e3d2c1b0a";
        let launch = ContainerLaunch {
            image: "app:1".into(),
            args: Some(vec!["--port".into(), "8080".into()]),
            env: vec![
                ("WEBHOOK_SIGNING_KEY".into(), key.into()),
                ("PARTNER_URL".into(), "http://partner:8080".into()),
            ],
            port: 8080,
            ca_pem: None,
        };
        let mut body = target_body(&launch, labels::for_run("run-1", "target"), "ports");
        assert_eq!(
            body.env.take(),
            Some(vec![
                format!("WEBHOOK_SIGNING_KEY={key}"),
                "PARTNER_URL=http://partner:8080".to_owned()
            ])
        );
        let rest = serde_json::to_string(&body).unwrap();
        assert!(!rest.contains(key), "{rest}");
        assert!(!container_name("run-1", TARGET_ALIAS).contains(key));

        let mut labels = labels::for_run("run-1", "mock");
        labels.insert(labels::MOCK.to_owned(), "partner".to_owned());
        let engine = engine_body("reenact-mock:0a1b", "ports", labels.clone(), true);
        assert_eq!(engine.env, None);
        assert_eq!(engine.labels, Some(labels));
        let flags = engine.cmd.unwrap_or_default();
        assert!(
            flags.iter().all(|arg| arg.starts_with("--")
                || arg.parse::<u16>().is_ok()
                || arg.starts_with('/')
                || arg == "0.0.0.0"),
            "{flags:?}"
        );
    }

    #[test]
    fn container_names_are_docker_safe() {
        assert_eq!(container_name("1-2", "xero"), "reenact-1-2-xero");
        assert_eq!(container_name("1-2", "my mock/ä"), "reenact-1-2-my-mock--");
    }
}
