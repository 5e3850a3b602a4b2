//! ledger-sync: the demo target of reenact, a small spend-management service.
//!
//! It exports card expenses as bills to an accounting system (`ACCOUNTING_PROVIDER`, reached at
//! `ACCOUNTING_API_URL`), imports that system's vendors, receives its webhooks and signs people in
//! by OpenID Connect or SAML (`sso.rs`), and imports bank statements from `BANK_URL`
//! (`statements.rs`). It can run as release 1.4.2, which carries the customer
//! incidents, or as release 1.4.3, which fixes them; `release.rs` lists the incidents, and the
//! scenarios under `scenarios/` reproduce each against reenact's fake of that provider.
//!
//! This file reads the command line, serves HTTP on 127.0.0.1 (or `--host`, e.g. `0.0.0.0` in a
//! container) and stops on SIGTERM or SIGINT; `service.rs` holds the endpoints. Every notable
//! event is one line on stdout, which reenact keeps as the target log.

mod bank;
mod connector;
mod intacct;
mod oidc;
mod pain002;
mod payments;
mod quickbooks;
mod release;
mod sage;
mod saml;
mod service;
mod sftp;
mod sso;
mod statements;
mod webhook;
mod xero;

use std::fmt::Display;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};

use crate::connector::{Connector, PROVIDERS, Settings};
use crate::oidc::OidcLogin;
use crate::release::Release;
use crate::saml::SamlLogin;
use crate::service::App;
use crate::sso::{Sso, SsoSettings};
use crate::statements::Statements;

/// The exit code for a bad command line or environment.
const EXIT_USAGE: u8 = 2;
/// The accounting API timeout when `HTTP_TIMEOUT_MS` is not set.
const DEFAULT_TIMEOUT_MS: u64 = 5000;

const USAGE: &str = "\
usage: ledger-sync --release 1.4.2|1.4.3 --port N [--host ADDRESS]

options:
  --release VERSION   release to run (env LEDGER_SYNC_RELEASE)
  --port N            port to listen on (env PORT)
  --host ADDRESS      address to listen on (env HOST; default 127.0.0.1; 0.0.0.0 in a container)

environment:
  ACCOUNTING_PROVIDER     xero (default), quickbooks, intacct or sage
  ACCOUNTING_API_URL      base URL of the accounting system (required for exports and syncs)
  HTTP_TIMEOUT_MS         timeout of accounting calls in milliseconds (default 5000)
  ACCOUNTING_WEBHOOK_KEY  key of the accounting system's webhook signatures (required for webhooks)
  XERO_TENANT_ID          Xero: the organisation to use (default: the first connected)
  QUICKBOOKS_REALM_ID     QuickBooks: the company (realm) id (required with quickbooks)
  INTACCT_SENDER_ID       Intacct: the Web Services sender id (required for intacct)
  INTACCT_SENDER_PASSWORD Intacct: the sender's password (required for intacct)
  INTACCT_COMPANY_ID      Intacct: the company to sign in to (required for intacct)
  INTACCT_USER_ID         Intacct: the Web Services user (required for intacct)
  INTACCT_USER_PASSWORD   Intacct: the user's password (required for intacct)
  SAGE_BUSINESS_ID        Sage: the business to use (default: the user's lead business)
  SAGE_REDIRECT_URI       Sage: the redirect URI sent with the authorization code (optional)
  PUBLIC_URL              where people reach ledger-sync (default http://HOST:PORT): the base of
                          the OIDC redirect URI and the SAML ACS URL
  OIDC_ISSUER             OpenID Connect sign-in: the issuer (enables /login/oidc)
  OIDC_DISCOVERY_URL      OpenID Connect: the discovery document (default
                          OIDC_ISSUER/.well-known/openid-configuration)
  OIDC_CLIENT_ID          OpenID Connect: the client id
  OIDC_CLIENT_SECRET      OpenID Connect: the client secret (client_secret_basic)
  SAML_IDP_METADATA_URL   SAML sign-in: the IdP's metadata URL (enables /login/saml)
  SAML_SP_ENTITY_ID       SAML: ledger-sync's entity id (default PUBLIC_URL/saml/metadata)
  SAML_SP_LEGACY_ENTITY_IDS
                          SAML (1.4.3): comma-separated former entity ids accepted as audience
  BANK_URL                the bank's HTTP API (enables /bank/import and /payment-runs)
  BANK_USERNAME, BANK_PASSWORD
                          the bank: HTTP Basic credentials (or BANK_TOKEN, a bearer token)
  BANK_SFTP_URL           the bank's SFTP server, sftp://USER@HOST:PORT (instead of BANK_URL)
  BANK_SFTP_PASSWORD      its password (or BANK_SFTP_KEY_FILE, an OpenSSH private key file);
                          BANK_SFTP_HOST_KEY pins its host key, BANK_SFTP_INBOX and
                          BANK_SFTP_OUTBOX name its folders (default inbox, outbox)";

/// What the command line and environment asked for.
struct Config {
    release: Release,
    host: IpAddr,
    port: u16,
    provider: String,
    accounting_url: Option<String>,
    timeout: Duration,
    webhook_key: Option<Vec<u8>>,
}

/// Writes one line to stdout and flushes it, so the target log is complete even if we are killed.
pub fn log(line: impl Display) {
    let mut stdout = std::io::stdout().lock();
    // A closed stdout must not take the service down, so write errors are ignored.
    let _ = writeln!(stdout, "{line}");
    let _ = stdout.flush();
}

/// Writes an error to stderr; like [`log`], a closed stream is ignored rather than a panic.
fn log_error(message: impl Display) {
    let _ = writeln!(std::io::stderr().lock(), "ledger-sync: error: {message}");
}

#[tokio::main]
async fn main() -> ExitCode {
    let config = match parse_config(std::env::args().skip(1)) {
        Ok(Some(config)) => config,
        Ok(None) => {
            log(USAGE);
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            // The reason last, on one line, with where to look: a supervisor's log tail shows it.
            log_error(format_args!(
                "{message} (`ledger-sync --help` lists the options and variables)"
            ));
            return ExitCode::from(EXIT_USAGE);
        }
    };
    // A sign-in variable that is missing or wrong is a usage error too, found before listening.
    let sso = match sso_from_env(&config) {
        Ok(sso) => sso,
        Err(message) => {
            log_error(format_args!(
                "{message} (`ledger-sync --help` lists the options and variables)"
            ));
            return ExitCode::from(EXIT_USAGE);
        }
    };
    // So is a bank variable (a credential without its pair, a bad URL).
    let channels = bank::BankHttp::from_env(config.timeout).and_then(|http| {
        Ok((
            http,
            sftp::SftpChannel::from_env(config.timeout)?.map(Arc::new),
        ))
    });
    let (bank, payments) = match channels {
        Ok((http, sftp)) => (
            Statements::new(config.release, http.clone(), sftp.clone()),
            payments::Payments::new(config.release, http, sftp),
        ),
        Err(message) => {
            log_error(format_args!(
                "{message} (`ledger-sync --help` lists the options and variables)"
            ));
            return ExitCode::from(EXIT_USAGE);
        }
    };
    match serve(config, sso, bank, payments).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            log_error(message);
            ExitCode::FAILURE
        }
    }
}

/// Reads the arguments and environment; `Ok(None)` means `--help`.
fn parse_config(mut args: impl Iterator<Item = String>) -> Result<Option<Config>, String> {
    let mut release = std::env::var("LEDGER_SYNC_RELEASE").ok();
    let mut port = std::env::var("PORT").ok();
    let mut host = std::env::var("HOST").ok();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag.to_owned(), Some(value.to_owned())),
            None => (arg, None),
        };
        let slot = match flag.as_str() {
            "--release" => &mut release,
            "--port" => &mut port,
            "--host" => &mut host,
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown argument `{other}`")),
        };
        *slot = Some(
            inline
                .or_else(|| args.next())
                .ok_or_else(|| format!("`{flag}` needs a value"))?,
        );
    }
    let release = release.ok_or("no release given: pass `--release` or set LEDGER_SYNC_RELEASE")?;
    let release = Release::parse(&release).ok_or_else(|| {
        let known: Vec<&str> = Release::ALL
            .iter()
            .map(|release| release.as_str())
            .collect();
        format!("unknown release `{release}` (known: {})", known.join(", "))
    })?;
    let port = port.ok_or("no port given: pass `--port` or set PORT")?;
    let port = port
        .trim()
        .parse::<u16>()
        .map_err(|_| format!("invalid port `{port}`"))?;
    let host = match host {
        Some(text) => text
            .trim()
            .parse::<IpAddr>()
            .map_err(|_| format!("invalid host `{text}`: expected an IP address"))?,
        None => IpAddr::V4(Ipv4Addr::LOCALHOST),
    };
    let timeout_ms = match std::env::var("HTTP_TIMEOUT_MS") {
        Ok(text) => text
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|ms| *ms > 0)
            .ok_or_else(|| format!("invalid HTTP_TIMEOUT_MS `{text}`"))?,
        Err(_) => DEFAULT_TIMEOUT_MS,
    };
    let provider = std::env::var("ACCOUNTING_PROVIDER")
        .ok()
        .filter(|name| !name.trim().is_empty())
        .unwrap_or_else(|| "xero".to_owned());
    if !PROVIDERS.contains(&provider.trim()) {
        return Err(format!(
            "unknown ACCOUNTING_PROVIDER `{provider}` (known: {})",
            PROVIDERS.join(", ")
        ));
    }
    let accounting_url = std::env::var("ACCOUNTING_API_URL")
        .ok()
        .filter(|url| !url.trim().is_empty());
    let webhook_key = std::env::var("ACCOUNTING_WEBHOOK_KEY")
        .ok()
        .filter(|key| !key.is_empty())
        .map(String::into_bytes);
    Ok(Some(Config {
        release,
        host,
        port,
        provider: provider.trim().to_owned(),
        accounting_url,
        timeout: Duration::from_millis(timeout_ms),
        webhook_key,
    }))
}

/// The sign-in `PUBLIC_URL`, `OIDC_*` and `SAML_*` configure.
fn sso_from_env(config: &Config) -> Result<Sso, String> {
    let public_url = std::env::var("PUBLIC_URL")
        .ok()
        .filter(|url| !url.trim().is_empty())
        .unwrap_or_else(|| format!("http://{}:{}", config.host, config.port));
    let sso_settings = SsoSettings {
        public_url: public_url.trim().trim_end_matches('/').to_owned(),
        timeout: config.timeout,
        release: config.release,
    };
    Ok(Sso::new(
        OidcLogin::from_env(&sso_settings)?,
        SamlLogin::from_env(&sso_settings)?,
    ))
}

/// Serves HTTP until SIGTERM or SIGINT.
async fn serve(
    config: Config,
    sso: Sso,
    bank: Option<Statements>,
    payments: payments::Payments,
) -> Result<(), String> {
    let accounting = config
        .accounting_url
        .map(|url| {
            Connector::from_env(
                &config.provider,
                Settings {
                    base_url: url.trim_end_matches('/').to_owned(),
                    timeout: config.timeout,
                    release: config.release,
                },
            )
        })
        .transpose()?;
    let app = Arc::new(
        App::new(
            config.release,
            accounting,
            config.webhook_key,
            sso,
            payments,
        )
        .with_bank(bank),
    );
    let address = SocketAddr::from((config.host, config.port));
    let listener = TcpListener::bind(address)
        .await
        .map_err(|error| format!("failed to listen on {address}: {error}"))?;
    let local = listener
        .local_addr()
        .map_err(|error| format!("failed to read the listening address: {error}"))?;
    let mut terminate = signal(SignalKind::terminate())
        .map_err(|error| format!("failed to watch SIGTERM: {error}"))?;
    let mut interrupt = signal(SignalKind::interrupt())
        .map_err(|error| format!("failed to watch SIGINT: {error}"))?;
    log(format!(
        "ledger-sync {} listening on {local}",
        config.release
    ));
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    log(format!("accept failed: {error}"));
                    continue;
                }
            },
            _ = terminate.recv() => {
                log("received SIGTERM, shutting down");
                return Ok(());
            }
            _ = interrupt.recv() => {
                log("received SIGINT, shutting down");
                return Ok(());
            }
        };
        let app = Arc::clone(&app);
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let app = Arc::clone(&app);
                async move { Ok::<_, std::convert::Infallible>(app.handle(request).await) }
            });
            if let Err(error) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                log(format!("connection error: {error}"));
            }
        });
    }
}
