//! reenact reproduces customer incidents against faithful fakes of third-party systems, and proves
//! that a fix fixes them.
//!
//! Most people use the `reenact` command, this crate's binary ([`main`] is all it calls). The
//! library is for programs that load, run and judge scenarios themselves. Its public API:
//!
//! - **Load and check a scenario**: [`scenario::load`] (a file) or [`scenario::load_bytes`]
//!   (text) give a validated [`scenario::Scenario`], or every problem in the file as a located
//!   [`scenario::Diagnostic`] in [`scenario::LoadError::Invalid`], which
//!   [`scenario::diagnostic::render`] shows as the command does.
//! - **Run it**: [`run::run_scenario`] runs one scenario against one [`run::TargetChoice`] (the
//!   scenario's own target, one named in `reenact.toml` ([`project::Project`]), or one given
//!   inline), with its mocks in process or in Docker ([`backend::Placement`]). The
//!   [`run::ScenarioRun`] holds everything the run saw ([`observe::Observation`]), each
//!   expectation's result and the run's [`verdict::Behaviour`].
//! - **Validate a fix**: run the build before the fix and the build after it, and
//!   [`verdict::judge`] the two behaviours: fixed, not-reproduced, still-failing, regressed or
//!   flaky ([`verdict::Verdict`]).
//! - **Serve mocks**: [`mock::MockServer`] serves one of a scenario's mocks (HTTPS with
//!   [`mock::tls::RunCa`]); [`mock::ControlClient`] drives it through its control API (journal,
//!   state, virtual clock, webhooks). [`backend::Placement::open_run`] starts a run's mocks in
//!   process or in Docker containers ([`backend::docker`]), whose objects carry the labels of
//!   [`backend::labels`]; [`backend::image`] turns a local binary into a container target.
//! - **Compare runs**: [`snapshot::normalize`] gives the redacted, stable document a snapshot
//!   stores.
//! - **Keep secrets out**: [`secrets::Secrets`] holds a run's secret values
//!   ([`observe::Observation::secrets`]); [`secrets::Secrets::redact`] masks them, and known
//!   shapes such as private keys, IBANs, card numbers and JWTs, in any text.
//! - [`exit_codes`]: what the command's exit codes mean.
//!
//! # Example: reproduce an incident, then validate its fix
//!
//! Two builds of a service stand in as reenact mocks here: `old` answers `GET /hello` with 500,
//! `new` with 200. The incident's scenario expects 200.
//!
//! ```
//! use std::path::Path;
//!
//! use reenact::backend::Placement;
//! use reenact::mock::{BindOptions, MockServer};
//! use reenact::project::TargetDef;
//! use reenact::run::{RunContext, TargetChoice, run_scenario};
//! use reenact::scenario::load_bytes;
//! use reenact::verdict::{Behaviour, Verdict, judge};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let builds = load_bytes(Path::new("builds.yaml"), Path::new("."), br#"
//! id: builds
//! title: Two builds of a service
//! mocks:
//!   old: { stubs: [{ request: { path: /hello }, response: { status: 500 } }] }
//!   new: { stubs: [{ request: { path: /hello }, response: { status: 200 } }] }
//! flow: [{ request: { method: GET, path: / } }]
//! "#)?;
//! let incident = load_bytes(Path::new("hello.yaml"), Path::new("."), br#"
//! id: hello-fails
//! title: GET /hello answers 500
//! flow:
//!   - name: say hello
//!     request: { method: GET, path: /hello }
//! expect:
//!   - step: say hello
//!     status: 200
//! "#)?;
//!
//! let http = reenact::run::http_client();
//! let ctx = RunContext { http: &http, project_root: Path::new("."), placement: &Placement::InProcess };
//! let mut behaviours = Vec::new();
//! for build in &builds.mocks {
//!     let server = MockServer::start(build.clone(), &builds.clock, BindOptions::default()).await?;
//!     let target = TargetChoice {
//!         label: build.name.clone(),
//!         def: Some(TargetDef { url: Some(server.url()), ..TargetDef::default() }),
//!     };
//!     let run = run_scenario(&incident, &target, &ctx).await?;
//!     behaviours.push(run.behaviour);
//!     server.shutdown().await;
//! }
//! assert_eq!(behaviours, [Behaviour::Fails, Behaviour::Holds]);
//! assert_eq!(judge(&behaviours[..1], &behaviours[1..]), Verdict::Fixed);
//! # Ok(())
//! # }
//! ```
//!
//! # Inside
//!
//! A run starts the mocks (`mock`, placed by `backend`) and the target (`target`), replays the
//! flow (`flow`), collects the observation (`observe`), judges it (`verdict`) and compares it
//! with its accepted snapshot (`snapshot`); `report` shapes the results and `cli` prints them:
//! the only module that prints or exits. Dependencies run one way, bottom first: neutral helpers
//! (`errors`, `exit_codes`, `json_compare`, `leftovers`, `money`, `secrets`, `timestamp`); the
//! observation's data (`observe`) and the format (`scenario`, `project`); the meaning of
//! matchers and checks (`matching`); the mock engine (`mock`); the judges (`verdict`, `snapshot`, `report`); the
//! runtime (`backend`, `target`, `flow`); the orchestrator (`run`); escalation packages
//! (`package`) and the importers (`import`); the command line (`cli`).
//! `tests/it/layers.rs` fails on a `use` that points up. Everything not listed above is private
//! to the crate.

// Items are `pub(crate)` unless the public API above needs them: a `pub` nothing outside can
// reach is a warning (an error in CI).
#![warn(unreachable_pub)]

pub mod backend;
mod cli;
pub(crate) mod errors;
pub mod exit_codes;
pub(crate) mod flow;
pub(crate) mod import;
pub(crate) mod json_compare;
pub(crate) mod leftovers;
pub(crate) mod matching;
pub mod mock;
pub(crate) mod money;
pub mod observe;
pub(crate) mod package;
pub(crate) mod pem;
pub mod project;
pub(crate) mod report;
pub mod run;
pub(crate) mod scaffold;
pub mod scenario;
pub mod secrets;
pub mod snapshot;
pub(crate) mod target;
pub(crate) mod timestamp;
pub mod verdict;

pub use cli::main;
