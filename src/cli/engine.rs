//! `reenact mock-engine` (hidden): the mock engine alone, as it runs inside a mock container.
//!
//! It serves an empty mock on the traffic port and the control API on the admin port; the runner
//! configures it through `PUT /__reenact/config`, exactly as it drives an in-process mock. Once
//! both listeners are bound it prints [`READY_LINE`] on stdout (the container's readiness signal:
//! an HTTP probe would land in the journal). SIGTERM or SIGINT stop it gracefully with exit 0,
//! so `docker stop` takes milliseconds instead of the 10 s kill timeout.

use std::net::IpAddr;

use clap::Args;
use tokio::signal::unix::{SignalKind, signal};

use reenact::backend::docker::READY_LINE;
use reenact::exit_codes;
use reenact::mock::{BindOptions, MockServer};
use reenact::scenario::model::{ClockSpec, DEFAULT_JOURNAL_LIMIT, MockSpec};

use super::Output;

/// Arguments of `mock-engine`.
#[derive(Debug, Args)]
pub struct EngineArgs {
    /// Address both listeners bind.
    #[arg(long, default_value = "0.0.0.0")]
    host: IpAddr,
    /// Traffic port.
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Admin (control API) port.
    #[arg(long, default_value_t = 8081)]
    admin_port: u16,
    /// The mock's name (until a configuration names it).
    #[arg(long, default_value = "mock")]
    name: String,
    /// Virtual clock start, RFC 3339 (default: now).
    #[arg(long)]
    clock_start: Option<String>,
}

/// Run `mock-engine` until SIGTERM or SIGINT.
pub async fn engine(args: EngineArgs, out: &Output) -> i32 {
    // Listen for signals before binding, so a stop that comes early is not lost.
    let (mut terminate, mut interrupt) = match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(terminate), Ok(interrupt)) => (terminate, interrupt),
        (Err(err), _) | (_, Err(err)) => {
            out.error_chain(&err, None);
            return exit_codes::INTERNAL;
        }
    };
    let spec = MockSpec {
        name: args.name,
        stubs: Vec::new(),
        journal_limit: DEFAULT_JOURNAL_LIMIT,
        rate_limits: Vec::new(),
        // HTTPS would need the run's TLS identity at start; the runner refuses `tls: true` mocks
        // on the docker backend until it can hand one over (see `Placement::unsupported`).
        tls: false,
        hostnames: Vec::new(),
    };
    let clock = ClockSpec {
        start: args.clock_start,
    };
    let bind = BindOptions {
        host: args.host,
        traffic_port: args.port,
        admin_port: args.admin_port,
        tls: None,
    };
    let server = match MockServer::start(spec, &clock, bind).await {
        Ok(server) => server,
        Err(err) => {
            out.error_chain(&err, None);
            return exit_codes::ENVIRONMENT;
        }
    };
    out.stdout(READY_LINE);
    tokio::select! {
        _ = terminate.recv() => {}
        _ = interrupt.recv() => {}
    }
    server.shutdown().await;
    exit_codes::SUCCESS
}
