//! `reenact mock-engine` (hidden): the mock engine alone, as it runs inside a mock container.
//!
//! It serves an empty mock on the traffic port, the control API on the admin port and the bank's
//! SFTP server on the SFTP port (idle until a configuration sets `sftp:`); the runner
//! configures it through `PUT /__reenact/config`, exactly as it drives an in-process mock. Once
//! both listeners are bound it prints [`READY_LINE`] on stdout (the container's readiness signal:
//! an HTTP probe would land in the journal). SIGTERM or SIGINT stop it gracefully with exit 0,
//! so `docker stop` takes milliseconds instead of the 10 s kill timeout.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use clap::Args;
use tokio::signal::unix::{SignalKind, signal};

use crate::backend::docker::READY_LINE;
use crate::mock::dns_sink;
use crate::mock::tls::TlsIdentity;
use crate::mock::{BindOptions, MockServer};
use crate::scenario::model::{ClockSpec, MockSpec};

use super::{CliError, ErrorKind, Outcome, Output};

/// Arguments of `mock-engine`.
#[derive(Debug, Args)]
pub(super) struct EngineArgs {
    /// Address both listeners bind.
    #[arg(long, default_value = "0.0.0.0")]
    host: IpAddr,
    /// Traffic port.
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Admin (control API) port.
    #[arg(long, default_value_t = 8081)]
    admin_port: u16,
    /// SFTP port (served while the configuration is a bank with `sftp:`; connections are
    /// closed at once otherwise).
    #[arg(long, default_value_t = 2222)]
    sftp_port: u16,
    /// The mock's name (until a configuration names it).
    #[arg(long, default_value = "mock")]
    name: String,
    /// Virtual clock start, RFC 3339 (default: now).
    #[arg(long)]
    clock_start: Option<String>,
    /// Serve HTTPS on the traffic port with this certificate chain (PEM, leaf first).
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key (PEM, PKCS#8) of `--tls-cert`.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Answer DNS on 127.0.0.1:53 with "no such name" for every query (the container's DNS
    /// points here, so names no mock declares fail at once; see `crate::mock::dns_sink`).
    #[arg(long)]
    dns_sink: bool,
}

/// The identity `--tls-cert` and `--tls-key` name, if given.
fn tls_identity(args: &EngineArgs) -> Result<Option<TlsIdentity>, CliError> {
    let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) else {
        return Ok(None);
    };
    let read = |path: &PathBuf| {
        std::fs::read(path).map_err(|err| {
            CliError::environment(format!("failed to read `{}`", path.display())).with_source(err)
        })
    };
    TlsIdentity::from_pem(&read(cert)?, &read(key)?)
        .map(Some)
        .map_err(|err| CliError::from_error(ErrorKind::Environment, err))
}

/// Run `mock-engine` until SIGTERM or SIGINT.
pub(super) async fn engine(args: EngineArgs, out: &Output) -> Result<Outcome, CliError> {
    // Listen for signals before binding, so a stop that comes early is not lost.
    let (mut terminate, mut interrupt) = match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(terminate), Ok(interrupt)) => (terminate, interrupt),
        (Err(err), _) | (_, Err(err)) => {
            return Err(CliError::from_error(ErrorKind::Internal, err));
        }
    };
    let tls = tls_identity(&args)?;
    // Bound before the readiness line, so no query can come before the sink answers. Failing
    // to bind (no right to port 53) leaves unknown names to time out instead: still unresolved.
    let _dns_sink = if args.dns_sink {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, 53));
        match dns_sink::serve(addr).await {
            Ok(task) => Some(task),
            Err(err) => {
                out.stderr(&format!("warning: failed to answer DNS on {addr}: {err}"));
                None
            }
        }
    } else {
        None
    };
    // The configuration the runner sends says what the mock serves (and whether over HTTPS;
    // the listener serves HTTPS whenever an identity was given).
    let spec = MockSpec::new(args.name);
    let clock = ClockSpec {
        start: args.clock_start,
    };
    let bind = BindOptions {
        host: args.host,
        traffic_port: args.port,
        admin_port: args.admin_port,
        tls,
        sftp_port: Some(args.sftp_port),
    };
    let server = MockServer::start(spec, &clock, bind)
        .await
        .map_err(|err| CliError::from_error(ErrorKind::Environment, err))?;
    out.stdout(READY_LINE);
    tokio::select! {
        _ = terminate.recv() => {}
        _ = interrupt.recv() => {}
    }
    server.shutdown().await;
    Ok(Outcome::Success)
}
