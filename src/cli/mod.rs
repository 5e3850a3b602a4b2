//! The command line: clap types, one module per subcommand, and all terminal output. The only
//! module of the crate that prints or exits; [`main`] is all the `reenact` binary calls.

mod check;
mod clean;
mod engine;
mod error;
mod image;
mod import;
mod mock;
mod new;
mod output;
mod package;
mod progress;
mod record;
mod report;
mod report_html;
mod review;
mod run;
mod scenarios;
mod select;
mod signals;
mod validate;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::backend::{BackendError, Placement, Unsupported};
use crate::run::TargetChoice;
use crate::scenario::Scenario;

pub(crate) use error::{CliError, ErrorKind, Outcome};
pub(crate) use output::Output;

use error::{Problem, Report};

/// Reproduce customer incidents against faithful fakes of third-party systems, and prove that a
/// fix fixes them.
#[derive(Debug, Parser)]
#[command(
    name = "reenact",
    version,
    after_help = "Examples:\n  reenact validate scenarios/ --before ledger-sync@1.4.2 --after ledger-sync@1.4.3\n  reenact run scenarios/ --target ledger-sync@1.4.3\n  reenact check scenarios/\n\nExit codes: 0 all good, 1 a verdict or snapshot failed, 2 invalid usage or scenario (or a\nscenario the chosen backend cannot run), 3 environment failure (target would not start, port\nin use, Docker unreachable), 4 the selection holds no scenario, 101 internal error."
)]
pub(crate) struct Cli {
    /// More log output on stderr (-v debug, -vv trace); `RUST_LOG` works too.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// When to color output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,
    #[command(subcommand)]
    command: Command,
}

/// When to use colors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorChoice {
    /// On a terminal, unless `NO_COLOR` is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run scenarios against one build and judge them: expectations and snapshots.
    #[command(
        after_help = "Examples:\n  reenact run scenarios/\n  reenact run scenarios/vendor-sync-stops-at-first-page.yaml --target ledger-sync@1.4.3\n  reenact run scenarios/ --accept          # store new snapshots\n  reenact run scenarios/ --format json > report.json\n  reenact run --tag xero --severity sev1..sev2 --fail-fast\n  reenact run --filter 'provider(bank) and not tag(sftp)' -j 4\n  reenact run --partition slice:2/4 --format json   # shard 2 of 4 of a CI matrix\n  reenact run --report junit=reports/junit.xml --report json=reports/run.json\n  reenact run --format markdown >> \"$GITHUB_STEP_SUMMARY\"\n\nSelection: flags of one kind are alternatives, different kinds and --filter all apply; then\n--partition takes one shard. `reenact list` with the same flags shows what would run. Exit\ncode 4 when the selection holds no scenario."
    )]
    Run(run::RunArgs),
    /// Judge a fix: run scenarios on the build before and after it and give a verdict each.
    #[command(
        after_help = "Examples:\n  reenact validate scenarios/ --before ledger-sync@1.4.2 --after ledger-sync@1.4.3\n  reenact validate scenarios/ \\\n      --before-cmd \"bin/app-old --port {{ target.port }}\" \\\n      --after-cmd \"bin/app --port {{ target.port }}\"\n  reenact validate scenarios/ --before ledger-sync@1.4.2 --after ledger-sync@1.4.3 \\\n      --runs 3 --format json\n  reenact validate --tag sso --before ledger-sync@1.4.2 --after ledger-sync@1.4.3 --fail-fast\n  reenact validate scenarios/ --before ledger-sync@1.4.2 --after ledger-sync@1.4.3 \\\n      --format markdown --report junit=validate.xml\n\nVerdicts: fixed, not-reproduced, still-failing, regressed, flaky.\nExit code 0 only when every scenario is fixed."
    )]
    Validate(validate::ValidateArgs),
    /// Load and validate scenarios and mock definitions without running them.
    #[command(
        after_help = "Examples:\n  reenact check scenarios/\n  reenact check scenarios/xero-duplicate-bill.yaml\n  reenact check mocks/ scenarios/\n\nFiles in the project's `mocks/` folder are mock definitions that scenarios include\n(`include: mocks/acme-xero.yaml`): each is checked on its own as a mock named after the file."
    )]
    Check(check::CheckArgs),
    /// Start a scenario for a ticket: the providers' mocks, a flow and expectations to fill in.
    #[command(
        after_help = "Examples:\n  reenact new --ticket SUP-1234 --provider xero --provider oidc\n  reenact new --ticket SUP-1234 --title \"Bills exported twice\" --provider quickbooks -o scenarios/\n  reenact new --ticket SUP-88 --provider stubs --customer \"Acme Corp\" --severity sev2 --force\n  reenact new      # on a terminal: asks for what the flags do not say\n\nProviders: xero, quickbooks, intacct, sage, oidc, saml, bank, and stubs (a plain mock for any other\nHTTP API). The file is named from the ticket and title (`sup-1234-bills-exported-twice.yaml`) in\nthe current folder, or in the folder `-o` names; an existing file is replaced only with `--force`.\nThe scenario's target comes from reenact.toml (`--target NAME` when it runs)."
    )]
    New(new::NewArgs),
    /// Accept or reject pending snapshots (`.snap.new` files).
    #[command(
        after_help = "Examples:\n  reenact review                 # one by one, on a terminal\n  reenact review --accept-all    # in scripts\n  reenact review --reject-all"
    )]
    Review(review::ReviewArgs),
    /// Print a JSON Schema: of the scenario format (for editors), or of run and validate reports.
    #[command(
        after_help = "Examples:\n  reenact schema > scenario.schema.json\n  reenact schema report > report.schema.json"
    )]
    Schema(SchemaArgs),
    /// List the scenarios a selection holds: id, ticket, severity, tags, providers, file.
    #[command(
        after_help = "Examples:\n  reenact list\n  reenact list scenarios/ --tag xero --severity sev1..sev2\n  reenact list --filter 'provider(bank) and not tag(sftp)'\n  reenact list --partition hash:1/4 --format json\n\nThe selection flags are those of `run` and `validate`: what `list` shows is what they would run.\nExit code 4 when the selection holds no scenario."
    )]
    List(scenarios::ListArgs),
    /// Serve a scenario's mocks on their own, e.g. for a staging deployment to call.
    #[command(
        after_help = "Example:\n  reenact mock serve scenarios/vendor-sync-stops-at-first-page.yaml"
    )]
    Mock(mock::MockArgs),
    /// Remove what killed reenact runs left behind: containers, networks, processes, folders.
    #[command(
        after_help = "Examples:\n  reenact clean               # what runs of reenact processes that are gone left\n  reenact clean --all         # live runs' too (they fail)\n  reenact clean --images      # reenact's images too\n\nOnly objects labelled `reenact.managed=true` are removed, and by default only those whose owner\n(the reenact process named by their labels: host, boot, pid and its start time) is gone; target\nprocesses and run folders are found through the run records in $XDG_RUNTIME_DIR/reenact (or\n$TMPDIR/reenact-runs-UID). Every Docker run and every `run` / `validate` does the same sweep at\nstart-up."
    )]
    Clean(clean::CleanArgs),
    /// Work with saved JSON reports of `run` and `validate`: merge shards, render a page.
    #[command(subcommand)]
    Report(report::ReportCommand),
    /// Run one scenario once and write an escalation package for Engineering: a folder or a
    /// `.tar.gz` with the scenario, a README, the failing exchange, logs and reports, redacted.
    #[command(
        after_help = "Examples:\n  reenact package scenarios/accounting-429-retry-after-ignored.yaml --target ledger-sync@1.4.2\n  reenact package scenarios/xero-lock-date-utc-day.yaml --target ledger-sync@1.4.2 --archive\n  reenact package scenarios/xero-lock-date-utc-day.yaml -o /tmp/SUP-4821 --force\n\nThe package holds `scenario/` (the scenario, every file it reads and a reenact.toml), README.md\n(ticket, customers, severity, outcome, the command that reproduces it), failing-exchange.md and\n.json, observation.json, target.log, report.json, report.html and versions.txt. Secrets are\nredacted everywhere. Exit code 0 once the package is written, whatever the scenario's outcome; see\ndocs/package.md."
    )]
    Package(package::PackageArgs),
    /// Write a scenario or a mock from what you already have: a HAR capture, WireMock mappings.
    #[command(subcommand)]
    Import(import::ImportCommand),
    /// Record a vendor sandbox through a proxy: the target talks to reenact, reenact forwards to
    /// the URL you name, and on Ctrl-C writes a mock definition of what the sandbox answered.
    #[command(
        after_help = "Examples:\n  reenact record --upstream vendor=https://sandbox.vendor.test/api\n  VENDOR_URL=http://127.0.0.1:PORT bin/app     # point the target at the printed URL\n  reenact record --upstream xero=https://api.xero.com --upstream xero-identity=https://identity.xero.com\n  reenact record --upstream erp=https://erp-sandbox.corp.test --ca corp-root.pem\n\nPrints `NAME  PROXY_URL  -> UPSTREAM` per upstream, then `ready`. Only paths are forwarded, to\nthe named URL and nowhere else: a proxy-style request (`GET http://other/…`) or CONNECT gets\n403. Redirects are passed back, not followed. On Ctrl-C or SIGTERM each upstream becomes\n`mocks/NAME.yaml` (a mock definition for `include:`) with a stub per method, path and query, and\nits bodies in `mocks/payloads/NAME/`, redacted as snapshots are. See docs/import.md."
    )]
    Record(record::RecordArgs),
    /// Turn a local binary into a Docker image (no registry), to run it as a container target.
    #[command(
        after_help = "Examples:\n  cargo build --release --example ledger-sync\n  reenact image target/release/examples/ledger-sync\n  reenact image target/release/examples/ledger-sync --tag ledger-sync:dev\n\nThe image is FROM scratch: the binary, the libraries `ldd` lists and the loader, with the\nbinary as entrypoint. The tag (printed on stdout) defaults to\n`reenact-target-<file stem>:<content hash>`; `reenact clean --images` removes it."
    )]
    Image(image::ImageArgs),
    /// Serve one mock engine configured over its control API (what a mock container runs).
    #[command(name = "mock-engine", hide = true)]
    MockEngine(engine::EngineArgs),
}

/// Arguments of `schema`.
#[derive(Debug, Args)]
struct SchemaArgs {
    /// Which schema.
    #[arg(value_enum, value_name = "WHAT", default_value_t = SchemaOf::Scenario)]
    of: SchemaOf,
}

/// What `schema` prints the JSON Schema of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SchemaOf {
    /// Scenario files.
    Scenario,
    /// The JSON reports of `run` and `validate` (`--format json`, `--report json=PATH`).
    Report,
}

/// Output format of `check` and `list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// For people.
    Human,
    /// One JSON document on stdout (see docs/reports.md).
    Json,
}

/// Output format of `run`, `validate` and `report merge` on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ReportFormat {
    /// For people.
    Human,
    /// One JSON document (see docs/reports.md, `reenact schema report`).
    Json,
    /// JUnit XML, for CI systems.
    Junit,
    /// A Markdown summary, for a CI step summary or a ticket comment.
    Markdown,
}

impl ReportFormat {
    /// The report kind printed, or `None` for the human output.
    pub(crate) fn kind(self) -> Option<crate::report::ReportKind> {
        use crate::report::ReportKind;
        match self {
            ReportFormat::Human => None,
            ReportFormat::Json => Some(ReportKind::Json),
            ReportFormat::Junit => Some(ReportKind::Junit),
            ReportFormat::Markdown => Some(ReportKind::Markdown),
        }
    }
}

/// Where mocks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Backend {
    /// In the reenact process.
    Inprocess,
    /// In Docker containers.
    Docker,
}

/// Options shared by commands that run scenarios.
#[derive(Debug, Args)]
pub(crate) struct RunnerArgs {
    /// Where mocks run [default: `run.backend` in reenact.toml, else docker for a target that
    /// runs in a container, else inprocess].
    #[arg(long, value_enum)]
    pub backend: Option<Backend>,
    /// Runs at once (each has its own mocks and target) [default: the number of CPUs, at most 8].
    #[arg(short = 'j', long, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: Option<u16>,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    pub format: ReportFormat,
    #[command(flatten)]
    pub reports: report::ReportFiles,
    /// Reuse one mock container per mock across the scenarios of a docker suite, reset between
    /// them [default: on when more than one scenario runs on docker].
    #[arg(long, overrides_with = "no_reuse")]
    pub reuse: bool,
    /// Give every run fresh mock containers.
    #[arg(long, overrides_with = "reuse")]
    pub no_reuse: bool,
    /// After the first failure, start no new scenario: the running ones finish and tear down,
    /// the rest are reported as not run (`run`: outcome failed or error; `validate`: any
    /// verdict but fixed).
    #[arg(long)]
    pub fail_fast: bool,
}

impl RunnerArgs {
    /// How many runs go at once.
    fn jobs(&self) -> usize {
        self.jobs
            .map(usize::from)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get().min(8)))
    }

    /// The backend of `scenario` against `target`: `--backend`, else the scenario's
    /// `target.backend`, else `run.backend` in reenact.toml, else `docker` when the target runs
    /// in a container (its mocks must share its network), else `inprocess`.
    fn backend_of(
        &self,
        project: &crate::project::Project,
        scenario: &Scenario,
        target: &TargetChoice,
    ) -> Backend {
        use crate::project::BackendSetting;
        use crate::scenario::model::BackendChoice;
        self.backend
            .or(scenario.target.backend.map(|choice| match choice {
                BackendChoice::Inprocess => Backend::Inprocess,
                BackendChoice::Docker => Backend::Docker,
            }))
            .or(project.backend.map(|setting| match setting {
                BackendSetting::InProcess => Backend::Inprocess,
                BackendSetting::Docker => Backend::Docker,
            }))
            .unwrap_or(if target.is_container(scenario) {
                Backend::Docker
            } else {
                Backend::Inprocess
            })
    }

    /// Decide the backend of every (scenario, target) pair ([`RunnerArgs::backend_of`]) and
    /// prepare Docker when any pair needs it: reach the engine and build the mock image if it is
    /// missing. An unreachable engine is an environment failure.
    ///
    /// What a pair's backend cannot run ([`crate::run::unsupported`]: webhooks from mocks in
    /// containers to a target process, a container target without Docker) is invalid input:
    /// every case is reported, with what to do, before anything starts.
    async fn backends(
        &self,
        project: &crate::project::Project,
        scenarios: &[Scenario],
        targets: &[&TargetChoice],
    ) -> Result<Backends, CliError> {
        let mut docker_at = Vec::with_capacity(scenarios.len() * targets.len());
        let mut refused: Vec<UnsupportedHere> = Vec::new();
        for scenario in scenarios {
            for target in targets {
                let docker = self.backend_of(project, scenario, target) == Backend::Docker;
                docker_at.push(docker);
                let backend = if docker { "docker" } else { "inprocess" };
                for what in crate::run::unsupported(scenario, target, docker) {
                    let here = UnsupportedHere {
                        scenario: scenario.id.clone(),
                        backend,
                        what,
                    };
                    if !refused.contains(&here) {
                        refused.push(here);
                    }
                }
            }
        }
        if !refused.is_empty() {
            let mut problems: Vec<Problem> = refused
                .into_iter()
                .map(|err| {
                    let help = err.what.help();
                    Problem::Error(Report::from_error(err).with_help(help))
                })
                .collect();
            problems.push(Problem::Note("nothing was run".to_owned()));
            return Err(CliError::several(ErrorKind::InvalidInput, problems));
        }
        sweep_dead_runs();
        let on_docker = docker_at.iter().filter(|docker| **docker).count();
        let docker = if on_docker == 0 {
            None
        } else {
            let reuse = self.reuse || (!self.no_reuse && on_docker > 1);
            let placement = Placement::docker_with(reuse, project.docker_ready_within)
                .await
                .map_err(|err| {
                    let help = match &err {
                        BackendError::Unreachable { .. } => DOCKER_HELP,
                        _ => "run with -v for details; `reenact clean` removes what a run left behind",
                    };
                    CliError::from_error(ErrorKind::Environment, err).with_help(help)
                })?;
            Some(placement)
        };
        Ok(Backends {
            docker_at,
            targets: targets.len(),
            docker,
        })
    }
}

/// The backend of every (scenario, target) pair of a suite, decided once before it runs.
pub(crate) struct Backends {
    /// Whether each pair runs on Docker, scenario-major.
    docker_at: Vec<bool>,
    /// How many targets each scenario runs against.
    targets: usize,
    /// The Docker backend, when any pair uses it.
    docker: Option<Placement>,
}

impl Backends {
    /// Where scenario `scenario` runs against target `target` (indexes as given to
    /// [`RunnerArgs::backends`]).
    pub(crate) fn placement(&self, scenario: usize, target: usize) -> Placement {
        match &self.docker {
            Some(docker) if self.docker_at[scenario * self.targets + target] => docker.clone(),
            _ => Placement::InProcess,
        }
    }

    /// The Docker backend, or in-process when no pair uses Docker (to image a target with).
    pub(crate) fn docker_or_inprocess(&self) -> &Placement {
        self.docker.as_ref().unwrap_or(&Placement::InProcess)
    }
}

/// A scenario part the chosen backend cannot run, as reported before a run.
#[derive(Debug, PartialEq, thiserror::Error)]
#[error("scenario `{scenario}` cannot run on the `{backend}` backend")]
struct UnsupportedHere {
    scenario: String,
    backend: &'static str,
    #[source]
    what: Unsupported,
}

/// The start-up sweep of what runs of reenact processes that are gone left on this machine:
/// target processes and run folders (their Docker objects go when the Docker backend
/// connects). Never fails a command: what it cannot do, it logs.
fn sweep_dead_runs() {
    let swept = crate::leftovers::sweep(crate::leftovers::Scope::Dead);
    if !swept.processes.is_empty() || !swept.folders.is_empty() {
        tracing::info!(
            processes = ?swept.processes,
            folders = ?swept.folders,
            "removed what reenact runs that are gone left behind"
        );
    }
    for failed in swept.failed {
        tracing::warn!(
            what = failed,
            "the start-up sweep failed to remove something"
        );
    }
}

/// How to get a Docker engine, shown when none answers.
const DOCKER_HELP: &str = "start an engine (`sudo dockerd &` or `sudo systemctl start docker`; on Debian `apt-get install docker.io`), or set `DOCKER_HOST` to one that runs (e.g. `unix:///var/run/docker.sock`)";

/// Reach the Docker engine; none answering is an environment failure, with how to get one.
async fn connect_docker() -> Result<testcontainers::bollard::Docker, CliError> {
    crate::backend::docker::connect_engine()
        .await
        .map_err(|err| CliError::from_error(ErrorKind::Environment, err).with_help(DOCKER_HELP))
}

/// The `reenact` command line with the process's arguments: parse them, run the subcommand,
/// render what stopped it, and give the exit code ([`crate::exit_codes`]).
pub fn main() -> ExitCode {
    let args = Cli::parse();
    let out = Output::new(args.color);
    init_logging(args.verbose, out.log_writer());
    let ended = runtime().and_then(|runtime| runtime.block_on(dispatch(args, &out)));
    let code = match ended {
        Ok(outcome) => outcome.exit_code(),
        Err(err) => {
            out.error(&err);
            err.exit_code()
        }
    };
    ExitCode::from(u8::try_from(code).unwrap_or(u8::MAX))
}

/// Set up logging to stderr from `RUST_LOG` and `-v`, through `writer` (which redacts).
pub(crate) fn init_logging(verbose: u8, writer: output::LogWriter) {
    let default = match verbose {
        0 => "warn",
        1 => "reenact=debug,info",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // A log line that cannot be written (stderr is a closed pipe) is dropped: the subscriber's
    // own report of it would go to stderr with `eprintln!`, which panics there.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .log_internal_errors(false)
        .with_writer(writer)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

impl Cli {
    /// Whether the process-wide Ctrl-C / SIGTERM handlers apply; `mock-engine` and `mock serve`
    /// handle both themselves and shut down gracefully.
    pub(crate) fn wants_signal_handlers(&self) -> bool {
        match &self.command {
            Command::MockEngine(_) => false,
            Command::Mock(args) => !args.handles_signals(),
            Command::Record(_) => false,
            _ => true,
        }
    }
}

/// The async runtime every subcommand runs on.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| {
            CliError::new(ErrorKind::Internal, "failed to start the async runtime").with_source(err)
        })
}

/// Run the chosen subcommand (with the process-wide signal handlers when it wants them): how it
/// ended, or the error that stopped it, for the caller to render.
pub(crate) async fn dispatch(cli: Cli, out: &Output) -> Result<Outcome, CliError> {
    if cli.wants_signal_handlers() {
        signals::install();
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let result = run_command(cli.command, &cwd, out).await;
    if signals::INTERRUPTED.load(std::sync::atomic::Ordering::SeqCst) {
        // A run that failed because its mocks were being torn down must not exit before the
        // signal handler has finished removing them; the handler exits with 130 / 143.
        std::future::pending::<()>().await;
    }
    result
}

async fn run_command(
    command: Command,
    cwd: &std::path::Path,
    out: &Output,
) -> Result<Outcome, CliError> {
    match command {
        Command::Run(args) => run::run(args, cwd, out).await,
        Command::Validate(args) => validate::validate(args, cwd, out).await,
        Command::Check(args) => check::check(args, cwd, out),
        Command::Review(args) => review::review(args, cwd, out),
        Command::New(args) => new::new(args, cwd, out),
        Command::Schema(args) => {
            out.stdout_static(match args.of {
                SchemaOf::Scenario => crate::scenario::schema::json_schema(),
                SchemaOf::Report => crate::report::REPORT_SCHEMA,
            });
            Ok(Outcome::Success)
        }
        Command::List(args) => scenarios::list(args, cwd, out),
        Command::Mock(args) => mock::mock(args, out).await,
        Command::Clean(args) => clean::clean(args, out).await,
        Command::Report(command) => report::report(command, cwd, out),
        Command::Image(args) => image::image(args, cwd, out).await,
        Command::Package(args) => package::package(args, cwd, out).await,
        Command::Import(command) => import::import(command, cwd, out),
        Command::Record(args) => record::record(args, cwd, out).await,
        Command::MockEngine(args) => engine::engine(args, out).await,
    }
}
