//! [`Placement`], [`RunMocks`] and [`PlacedMock`]: the interface every backend offers the runner,
//! and [`BackendError`], why a placement failed.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::backend::docker::{DockerBackend, DockerRun};
use crate::backend::image::ImageError;
use crate::backend::inprocess::InProcessRun;
use crate::mock::tls::TlsIdentity;
use crate::mock::{ControlError, MockError};
use crate::scenario::model::{ClockSpec, MockSpec};

/// Where the mocks of every run of a suite are placed.
///
/// ```
/// use reenact::backend::Placement;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // In this process: nothing to set up. For containers: `Placement::docker().await?`.
/// let placement = Placement::InProcess;
/// assert_eq!(placement.name(), "inprocess");
/// placement.close().await;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub enum Placement {
    /// Mocks run inside the reenact process.
    InProcess,
    /// Mocks run in Docker containers built from the reenact binary.
    Docker(DockerBackend),
}

impl Placement {
    /// Connect to Docker and prepare the mock image (built on first use).
    pub async fn docker() -> Result<Placement, BackendError> {
        DockerBackend::connect().await.map(Placement::Docker)
    }

    /// As [`Placement::docker`], with `reuse` reusing engine containers across the runs of the
    /// suite (reset between runs, one run at a time each) and mock containers given
    /// `ready_within` to start (default `crate::backend::docker::READY_WITHIN`). End with
    /// [`Placement::close`].
    pub async fn docker_with(
        reuse: bool,
        ready_within: Option<std::time::Duration>,
    ) -> Result<Placement, BackendError> {
        let mut backend = DockerBackend::connect().await?;
        if let Some(within) = ready_within {
            backend = backend.with_ready_within(within);
        }
        let backend = if reuse {
            backend.with_reuse().await?
        } else {
            backend
        };
        Ok(Placement::Docker(backend))
    }

    /// Release what the placement holds beyond single runs (reused containers); call once
    /// every run has closed.
    pub async fn close(&self) {
        if let Placement::Docker(backend) = self {
            backend.close().await;
        }
    }

    /// The backend's name as the command line spells it.
    pub fn name(&self) -> &'static str {
        match self {
            Placement::InProcess => "inprocess",
            Placement::Docker(_) => "docker",
        }
    }

    /// Prepare one run (for Docker: its network). Close the result with [`RunMocks::close`].
    pub async fn open_run(&self, run_id: &str) -> Result<RunMocks, BackendError> {
        Ok(match self {
            Placement::InProcess => RunMocks::InProcess(InProcessRun::default()),
            Placement::Docker(backend) => {
                RunMocks::Docker(Box::new(backend.open_run(run_id).await?))
            }
        })
    }
}

/// The mocks of one run, wherever they are placed.
#[derive(Debug)]
pub enum RunMocks {
    /// In-process mock servers.
    InProcess(InProcessRun),
    /// Containers on the run's network (boxed: it is much larger than the in-process run).
    Docker(Box<DockerRun>),
}

impl RunMocks {
    /// Start one mock serving `spec` with its virtual clock at `clock` (HTTPS with `tls`, the
    /// identity the run's CA issued it, for `tls: true` mocks); when this returns the mock
    /// answers on [`PlacedMock::url`] with `spec`'s stubs.
    pub async fn start_mock(
        &mut self,
        spec: &MockSpec,
        clock: &ClockSpec,
        tls: Option<TlsIdentity>,
        http: &reqwest::Client,
    ) -> Result<PlacedMock, BackendError> {
        match self {
            RunMocks::InProcess(run) => run.start_mock(spec, clock, tls).await,
            RunMocks::Docker(run) => run.start_mock(spec, clock, tls.as_ref(), http).await,
        }
    }

    /// Each mock's last `lines` output lines during this run, by mock name; empty in-process.
    pub(crate) async fn log_tails(
        &self,
        lines: usize,
    ) -> std::collections::BTreeMap<String, Vec<String>> {
        match self {
            RunMocks::InProcess(_) => Default::default(),
            RunMocks::Docker(run) => run.log_tails(lines).await,
        }
    }

    /// The run's Docker network and containers, when the mocks are in containers (a container
    /// target joins them).
    pub(crate) fn docker_run(&mut self) -> Option<&mut DockerRun> {
        match self {
            RunMocks::InProcess(_) => None,
            RunMocks::Docker(run) => Some(run),
        }
    }

    /// Stop every mock of the run and release what the run holds (containers, network).
    pub async fn close(self) {
        match self {
            RunMocks::InProcess(run) => run.close().await,
            RunMocks::Docker(run) => (*run).close().await,
        }
    }
}

/// A started mock, as the runner reaches it from the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedMock {
    /// The mock's name.
    pub name: String,
    /// Base URL of the traffic listener, e.g. `http://127.0.0.1:40123` (never `localhost`).
    pub url: String,
    /// Base URL of the control API.
    pub admin_url: String,
    /// Base URL of the traffic listener as a container on the run's network reaches it, e.g.
    /// `http://xero:8080`; `None` for in-process mocks, which no container can reach.
    pub network_url: Option<String>,
    /// `HOST:PORT` of the SFTP listener as the runner reaches it, e.g. `127.0.0.1:40125`, when
    /// the mock runs one (a bank with `sftp:`).
    pub sftp_address: Option<String>,
    /// `HOST:PORT` of the SFTP listener on the run's Docker network, e.g. `bank:2222`.
    pub network_sftp_address: Option<String>,
}

/// A part of a scenario a placement cannot run yet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unsupported {
    /// A webhook step: the mock would send it from its container to a target process on the
    /// host, which it cannot reach (a container target it can).
    #[error(
        "step `{step}` sends a webhook, and a mock in a container cannot reach a target process on the host"
    )]
    Webhook {
        /// The step.
        step: String,
    },
    /// A container target (`image`) on a backend without Docker.
    #[error("target `{target}` runs as a container, which needs the `docker` backend")]
    ContainerTarget {
        /// The target's label.
        target: String,
    },
}

impl Unsupported {
    /// What the user can do about it.
    pub fn help(&self) -> &'static str {
        match self {
            Unsupported::Webhook { .. } => {
                "run the target as a container (`image` in the scenario's `target`, `image` / `image_from` in reenact.toml, or `--target-image`), or use `--backend inprocess`"
            }
            Unsupported::ContainerTarget { .. } => "run with `--backend docker`",
        }
    }
}

/// A fresh id for a run, unique among the runs of every reenact process on this machine:
/// `<pid>-<time>-<counter>`.
pub fn new_run_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{}-{nanos:x}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed) + 1
    )
}

/// Why a backend could not place a mock.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// No Docker engine answers.
    #[error("failed to reach a Docker engine at `{host}`: {reason}")]
    Unreachable {
        /// `DOCKER_HOST`, or the default socket.
        host: String,
        /// What the client said.
        reason: String,
    },
    /// The mock image could not be prepared.
    #[error("failed to prepare the mock image")]
    Image(#[source] ImageError),
    /// A Docker call failed.
    #[error("failed to {action}")]
    Docker {
        /// What reenact was doing, e.g. "create network `reenact-1-2`".
        action: String,
        /// The cause.
        #[source]
        source: testcontainers::bollard::errors::Error,
    },
    /// A container target's image is not on the engine (images are never pulled).
    #[error("no image `{image}` on the Docker engine (reenact never pulls images)")]
    NoImage {
        /// The image.
        image: String,
    },
    /// A container target exited as soon as it started.
    #[error("the target container exited with {status} as soon as it started")]
    TargetExited {
        /// Its exit status.
        status: String,
        /// Its last output lines.
        log_tail: Vec<String>,
    },
    /// The engine published no host port for a container target's port.
    #[error("the engine published no host port for port {port} of the target (image `{image}`)")]
    NotPublished {
        /// The container port.
        port: u16,
        /// The image.
        image: String,
    },
    /// Files for a container could not be packed for upload.
    #[error("failed to pack {what}")]
    Pack {
        /// What, e.g. "the run's CA for the target".
        what: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A mock container did not become ready.
    #[error("mock `{mock}` did not become ready: {reason}")]
    NotReady {
        /// The mock.
        mock: String,
        /// Why.
        reason: String,
        /// The container's last output lines.
        log_tail: Vec<String>,
    },
    /// An in-process mock could not start.
    #[error("failed to start an in-process mock")]
    Mock(#[source] MockError),
    /// The scenario needs something this backend cannot do yet.
    #[error("the `{backend}` backend cannot run this scenario")]
    Unsupported {
        /// The backend's name.
        backend: &'static str,
        /// What it cannot do.
        #[source]
        what: Unsupported,
    },
    /// reenact is stopping (Ctrl-C, SIGTERM): nothing more is created.
    #[error("reenact is stopping: {what} was not created")]
    Stopping {
        /// What was about to be created.
        what: String,
    },
    /// A started mock refused its configuration.
    #[error("failed to configure mock `{mock}`")]
    Control {
        /// The mock.
        mock: String,
        /// The cause.
        #[source]
        source: ControlError,
    },
}

impl BackendError {
    /// The last output lines of the mock involved, when there are any.
    pub(crate) fn log_tail(&self) -> &[String] {
        match self {
            BackendError::NotReady { log_tail, .. }
            | BackendError::TargetExited { log_tail, .. } => log_tail,
            _ => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_are_unique_and_docker_safe() {
        let (a, b) = (new_run_id(), new_run_id());
        assert_ne!(a, b);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    }
}
