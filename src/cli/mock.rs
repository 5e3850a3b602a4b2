//! `reenact mock serve`: start a scenario's mocks on their own, print their URLs, serve until
//! SIGINT or SIGTERM, then shut them down gracefully.
//!
//! [`MockArgs`] holds the `mock` subcommands; [`serve`] is the only one so far. It is what an
//! analyst points a staging deployment at by hand, and what the benchmark in
//! `benches/mock-engine.sh` loads. Scripts wait for the line `ready` on stdout: every URL above
//! it is listening by then.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use clap::{Args, Subcommand};
use tokio::signal::unix::{self, SignalKind, signal};
use tokio::task::JoinSet;

use crate::mock::{BindOptions, MockError, MockServer};
use crate::scenario::model::MockSpec;
use crate::scenario::suggest::did_you_mean;

use super::error::Signal;
use super::output::Style;
use super::{CliError, ErrorKind, Outcome, Output};

/// Arguments of `mock`.
#[derive(Debug, Args)]
pub(super) struct MockArgs {
    #[command(subcommand)]
    command: MockCommand,
}

#[derive(Debug, Subcommand)]
enum MockCommand {
    /// Start a scenario's mocks, print their URLs, serve until Ctrl-C (or SIGTERM).
    #[command(
        after_help = "Prints one line per mock, `NAME  URL  admin ADMIN_URL`, then `ready` once every mock\nlistens. With `tls: true` mocks it first prints `ca  PATH`: the CA certificate to trust. Stops gracefully on Ctrl-C or SIGTERM and exits 0; a second Ctrl-C stops at once.\n\nExamples:\n  reenact mock serve scenarios/vendor-sync-stops-at-first-page.yaml\n  reenact mock serve scenarios/accounting-429-retry-after-ignored.yaml --mock accounting --port 8080\n  curl http://127.0.0.1:8080/api/bills     # a request to the mock\n  curl http://127.0.0.1:ADMIN_PORT/__reenact/journal   # what it received"
    )]
    Serve(ServeArgs),
}

/// Arguments of `mock serve`.
#[derive(Debug, Args)]
pub(super) struct ServeArgs {
    /// The scenario file whose mocks to start.
    scenario: PathBuf,
    /// Start only this mock (default: every mock of the scenario).
    #[arg(long, value_name = "NAME")]
    mock: Option<String>,
    /// Address to listen on. Anything but loopback exposes the mocks to the network.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    host: IpAddr,
    /// Traffic port (default: a free one); only with a single mock.
    #[arg(long, value_name = "N")]
    port: Option<u16>,
    /// Admin (control API) port (default: a free one); only with a single mock.
    #[arg(long, value_name = "N")]
    admin_port: Option<u16>,
}

impl MockArgs {
    /// Whether this command handles SIGINT and SIGTERM itself (instead of the global handlers).
    pub(super) fn handles_signals(&self) -> bool {
        matches!(self.command, MockCommand::Serve(_))
    }
}

/// Run a `mock` subcommand.
pub(super) async fn mock(args: MockArgs, out: &Output) -> Result<Outcome, CliError> {
    match args.command {
        MockCommand::Serve(args) => serve(args, out).await,
    }
}

/// `reenact mock serve`.
pub(super) async fn serve(args: ServeArgs, out: &Output) -> Result<Outcome, CliError> {
    // Listen for signals before anything is bound: from the moment `ready` is printed a signal
    // must mean a graceful stop, never the default "die at once".
    let signals = Signals::new().map_err(|err| {
        CliError::new(ErrorKind::Internal, "failed to listen for signals").with_source(err)
    })?;
    let loaded = crate::scenario::load(&args.scenario).map_err(CliError::scenario)?;
    out.learn(&loaded.secrets(&std::collections::BTreeMap::new()));
    let mocks = select(&loaded.mocks, &args)?;
    if !args.host.is_loopback() {
        out.stderr(&format!(
            "{}: the mocks listen on {}: anyone who can reach this machine can call them and \
             their control API, without authentication",
            out.paint_err(Style::Yellow, "warning"),
            args.host
        ));
    }
    // HTTPS mocks get certificates from a CA that lives as long as this command.
    let environment = |err| CliError::from_error(ErrorKind::Environment, err);
    // Its folder is recorded, for the sweep after a `kill -9`; the record goes after the folder.
    let record = mocks
        .iter()
        .any(|spec| spec.tls)
        .then(|| crate::leftovers::RunRecord::create(&crate::backend::new_run_id()));
    let folder = if let Some(record) = &record {
        let folder = crate::run::RunFolder::create(record).map_err(environment)?;
        out.stdout(&format!("ca  {}", folder.ca_file().display()));
        Some(folder)
    } else {
        None
    };
    let mut servers = Vec::with_capacity(mocks.len());
    for spec in mocks {
        let name = spec.name.clone();
        let tls = match (&folder, spec.tls) {
            (Some(folder), true) => match folder.ca().issue_with_names(&name, &spec.hostnames) {
                Ok(identity) => Some(identity),
                Err(err) => {
                    shutdown_all(servers).await;
                    return Err(CliError::from_error(ErrorKind::Environment, err));
                }
            },
            _ => None,
        };
        let bind = BindOptions {
            host: args.host,
            traffic_port: args.port.unwrap_or(0),
            admin_port: args.admin_port.unwrap_or(0),
            tls,
            sftp_port: None,
        };
        match MockServer::start(spec, &loaded.clock, bind).await {
            Ok(server) => servers.push((name, server)),
            Err(err) => {
                let kind = match err {
                    MockError::Bind { .. } | MockError::Tls(_) | MockError::HostKey => {
                        ErrorKind::Environment
                    }
                    MockError::Clock(_)
                    | MockError::Config(_)
                    | MockError::NoCertificate { .. } => ErrorKind::InvalidInput,
                };
                shutdown_all(servers).await;
                return Err(
                    CliError::new(kind, format!("failed to start mock `{name}`")).with_source(err),
                );
            }
        }
    }
    let width = servers
        .iter()
        .map(|(name, _)| name.len())
        .max()
        .unwrap_or(0);
    let mut listing = String::new();
    for (name, server) in &servers {
        listing.push_str(&format!(
            "{name:width$}  {}  admin {}",
            server.url(),
            server.admin_url()
        ));
        if let Some(sftp) = server.sftp_url() {
            listing.push_str(&format!("  sftp {sftp}"));
        }
        listing.push('\n');
    }
    listing.push_str("ready");
    out.stdout(&listing);

    let mut signals = signals;
    let received = signals.next().await;
    out.stderr(&format!(
        "reenact: {}; stopping the mocks (again to stop at once)",
        received.name()
    ));
    let stopping = shutdown_all(servers);
    Ok(tokio::select! {
        () = stopping => Outcome::Success,
        received = signals.next() => {
            out.stderr(&format!("reenact: {} again; stopping at once", received.name()));
            Outcome::Stopped(received)
        }
    })
}

/// The mocks to start: all of the scenario's, or the one `--mock` names; checks that the ports
/// asked for fit.
fn select(mocks: &[MockSpec], args: &ServeArgs) -> Result<Vec<MockSpec>, CliError> {
    let chosen: Vec<MockSpec> = match &args.mock {
        None => mocks.to_vec(),
        Some(wanted) => match mocks.iter().find(|m| &m.name == wanted) {
            Some(found) => vec![found.clone()],
            None => {
                let names: Vec<&str> = mocks.iter().map(|m| m.name.as_str()).collect();
                let help = match did_you_mean(wanted, &names) {
                    Some(name) => format!("did you mean `{name}`?"),
                    None if names.is_empty() => "the scenario declares no mocks".to_owned(),
                    None => format!("its mocks are `{}`", names.join("`, `")),
                };
                return Err(CliError::invalid_input(format!(
                    "the scenario has no mock `{wanted}`"
                ))
                .with_help(help));
            }
        },
    };
    if chosen.is_empty() {
        return Err(CliError::invalid_input(format!(
            "`{}` declares no mocks; there is nothing to serve",
            args.scenario.display()
        )));
    }
    if chosen.len() > 1 && (args.port.is_some() || args.admin_port.is_some()) {
        return Err(
            CliError::invalid_input("`--port` and `--admin-port` need a single mock")
                .with_help("pick one with `--mock NAME`"),
        );
    }
    if let (Some(port), Some(admin)) = (args.port, args.admin_port)
        && port == admin
        && port != 0
    {
        return Err(CliError::invalid_input(
            "`--port` and `--admin-port` must differ",
        ));
    }
    Ok(chosen)
}

/// Stop every server at once (each drains its connections for a grace period).
async fn shutdown_all(servers: Vec<(String, MockServer)>) {
    let mut stopping = JoinSet::new();
    for (_, server) in servers {
        stopping.spawn(server.shutdown());
    }
    while let Some(result) = stopping.join_next().await {
        if let Err(err) = result {
            tracing::warn!(error = %err, "a mock failed to shut down");
        }
    }
}

/// SIGINT and SIGTERM, as one stream.
pub(super) struct Signals {
    interrupt: unix::Signal,
    terminate: unix::Signal,
}

impl Signals {
    pub(super) fn new() -> std::io::Result<Signals> {
        Ok(Signals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    /// The next signal received.
    pub(super) async fn next(&mut self) -> Signal {
        tokio::select! {
            _ = self.interrupt.recv() => Signal::Interrupt,
            _ = self.terminate.recv() => Signal::Terminate,
        }
    }
}
