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
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::task::JoinSet;

use reenact::exit_codes;
use reenact::mock::{BindOptions, MockError, MockServer};
use reenact::scenario::model::MockSpec;
use reenact::scenario::suggest::did_you_mean;

use super::Output;
use super::output::Style;
use super::scenarios::report_load_error;

/// Arguments of `mock`.
#[derive(Debug, Args)]
pub struct MockArgs {
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
pub struct ServeArgs {
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
    pub fn handles_signals(&self) -> bool {
        matches!(self.command, MockCommand::Serve(_))
    }
}

/// Run a `mock` subcommand; returns the exit code.
pub async fn mock(args: MockArgs, out: &Output) -> i32 {
    match args.command {
        MockCommand::Serve(args) => serve(args, out).await,
    }
}

/// `reenact mock serve`.
pub async fn serve(args: ServeArgs, out: &Output) -> i32 {
    // Listen for signals before anything is bound: from the moment `ready` is printed a signal
    // must mean a graceful stop, never the default "die at once".
    let signals = match Signals::new() {
        Ok(signals) => signals,
        Err(err) => {
            out.error(&format!("failed to listen for signals: {err}"), None);
            return exit_codes::INTERNAL;
        }
    };
    let loaded = match reenact::scenario::load(&args.scenario) {
        Ok(loaded) => loaded,
        Err(err) => {
            report_load_error(&err, out);
            return exit_codes::INVALID_INPUT;
        }
    };
    let mocks = match select(&loaded.mocks, &args, out) {
        Ok(mocks) => mocks,
        Err(code) => return code,
    };
    if !args.host.is_loopback() {
        out.stderr(&format!(
            "{}: the mocks listen on {}: anyone who can reach this machine can call them and \
             their control API, without authentication",
            out.paint_err(Style::Yellow, "warning"),
            args.host
        ));
    }
    // HTTPS mocks get certificates from a CA that lives as long as this command.
    let folder = if mocks.iter().any(|spec| spec.tls) {
        match reenact::run::RunFolder::create() {
            Ok(folder) => {
                out.stdout(&format!("ca  {}", folder.ca_file().display()));
                Some(folder)
            }
            Err(err) => {
                out.error_chain(&err, None);
                return exit_codes::ENVIRONMENT;
            }
        }
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
                    out.error_chain(&err, None);
                    shutdown_all(servers).await;
                    return exit_codes::ENVIRONMENT;
                }
            },
            _ => None,
        };
        let bind = BindOptions {
            host: args.host,
            traffic_port: args.port.unwrap_or(0),
            admin_port: args.admin_port.unwrap_or(0),
            tls,
        };
        match MockServer::start(spec, &loaded.clock, bind).await {
            Ok(server) => servers.push((name, server)),
            Err(err) => {
                let code = match err {
                    MockError::Bind { .. } => exit_codes::ENVIRONMENT,
                    MockError::Clock(_)
                    | MockError::Config(_)
                    | MockError::NoCertificate { .. } => exit_codes::INVALID_INPUT,
                    MockError::Tls(_) => exit_codes::ENVIRONMENT,
                };
                out.error_chain(&err, None);
                out.error(&format!("failed to start mock `{name}`"), None);
                shutdown_all(servers).await;
                return code;
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
            "{name:width$}  {}  admin {}\n",
            server.url(),
            server.admin_url()
        ));
    }
    listing.push_str("ready");
    out.stdout(&listing);

    let mut signals = signals;
    let received = signals.next().await;
    out.stderr(&format!(
        "reenact: {received}; stopping the mocks (again to stop at once)"
    ));
    let stopping = shutdown_all(servers);
    tokio::select! {
        () = stopping => exit_codes::SUCCESS,
        received = signals.next() => {
            out.stderr(&format!("reenact: {received} again; stopping at once"));
            if received == "SIGINT" { 130 } else { 143 }
        }
    }
}

/// The mocks to start: all of the scenario's, or the one `--mock` names; checks that the ports
/// asked for fit.
fn select(mocks: &[MockSpec], args: &ServeArgs, out: &Output) -> Result<Vec<MockSpec>, i32> {
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
                out.error(&format!("the scenario has no mock `{wanted}`"), Some(&help));
                return Err(exit_codes::INVALID_INPUT);
            }
        },
    };
    if chosen.is_empty() {
        out.error(
            &format!(
                "`{}` declares no mocks; there is nothing to serve",
                args.scenario.display()
            ),
            None,
        );
        return Err(exit_codes::INVALID_INPUT);
    }
    if chosen.len() > 1 && (args.port.is_some() || args.admin_port.is_some()) {
        out.error(
            "`--port` and `--admin-port` need a single mock",
            Some("pick one with `--mock NAME`"),
        );
        return Err(exit_codes::INVALID_INPUT);
    }
    if let (Some(port), Some(admin)) = (args.port, args.admin_port)
        && port == admin
        && port != 0
    {
        out.error("`--port` and `--admin-port` must differ", None);
        return Err(exit_codes::INVALID_INPUT);
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
struct Signals {
    interrupt: Signal,
    terminate: Signal,
}

impl Signals {
    fn new() -> std::io::Result<Signals> {
        Ok(Signals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    /// The name of the next signal received.
    async fn next(&mut self) -> &'static str {
        tokio::select! {
            _ = self.interrupt.recv() => "SIGINT",
            _ = self.terminate.recv() => "SIGTERM",
        }
    }
}
