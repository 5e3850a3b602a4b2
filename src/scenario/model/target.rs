//! The system under test, [`TargetSpec`]: how it is launched ([`Launch`]), which backend runs it
//! ([`BackendChoice`]) and how its readiness is probed ([`ReadySpec`]).

use std::time::Duration;

use serde::Serialize;

use super::duration_text;
use crate::scenario::template::Template;

/// How the system under test runs. Everything is optional in a scenario: a target named on the
/// command line or in `reenact.toml` supplies `launch`, and the scenario adds env and readiness.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TargetSpec {
    /// How to start or reach it, when the scenario says.
    pub launch: Option<Launch>,
    /// Environment for a command target; values are templates.
    pub env: Vec<(String, Template)>,
    /// Readiness probe.
    pub ready: Option<ReadySpec>,
    /// The origin (`scheme://host[:port]`, no trailing `/`) at which the target's users reach
    /// it, as behind a proxy: what it registers at an identity provider as its redirect URI or
    /// ACS URL. A browsed login (`sso_login`) follows URLs of this origin to the target.
    pub public_url: Option<String>,
    /// Where this scenario's mocks (and a container target) run, when the scenario says;
    /// `--backend` wins over it, and it wins over `run.backend` in `reenact.toml`.
    pub backend: Option<BackendChoice>,
}

/// A backend a scenario names in `target.backend`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BackendChoice {
    /// Mocks in the reenact process.
    Inprocess,
    /// Mocks (and a container target) in Docker containers.
    Docker,
}

/// Start a process, start a container, or use a URL already serving.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Launch {
    /// Program and arguments (templates: `{{ target.port }}` gives the port to listen on).
    Command(Vec<Template>),
    /// Base URL of a running target.
    Url(Template),
    /// A container of a local image on the run's Docker network.
    Image(ImageLaunch),
}

/// A target that runs as a container (`target.image`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImageLaunch {
    /// The local image, e.g. `reenact-target-ledger-sync:0a1b2c3d4e5f6a7b`.
    pub image: String,
    /// Arguments to the image's entrypoint, replacing its `CMD` (as docker-compose's `command`
    /// does); `None` keeps the image's own.
    pub args: Option<Vec<Template>>,
    /// The port the target listens on inside its container (`{{ target.port }}`).
    pub port: u16,
}

/// The port a container target listens on unless the scenario says otherwise.
pub const DEFAULT_TARGET_PORT: u16 = 8080;

/// The name a container target has on the run's network (so mocks reach it as
/// `http://reenact-target:PORT`); no mock may take it.
pub const TARGET_ALIAS: &str = "reenact-target";

/// Readiness probe: an HTTP request that must answer 2xx within a deadline.
#[derive(Debug, Clone, Serialize)]
pub struct ReadySpec {
    /// Method of the probe.
    pub method: String,
    /// Path of the probe.
    pub path: String,
    /// Deadline from process start.
    #[serde(with = "duration_text")]
    pub within: Duration,
}

/// Default readiness deadline.
pub const DEFAULT_READY_WITHIN: Duration = Duration::from_secs(10);
