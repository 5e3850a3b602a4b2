//! The mock server: a traffic listener serving stubs and an admin listener serving the control API.
//!
//! [`MockServer`] is the edge layer: it binds both listeners, runs HTTP/1.1 (keep-alive) on
//! `hyper`, reads each request in full (bodies over `MAX_BODY_BYTES` get a `413`) and hands it to
//! the shared `Engine`. With a [`TlsIdentity`] the traffic listener speaks HTTPS: the TLS
//! handshake wraps the connection, and the same connection handling serves it. Every connection,
//! plain or TLS, runs over a `FaultIo`, which carries out the connection-level faults the engine
//! decides (on TLS it acts on the plaintext inside the session, and a reset on the TCP socket
//! underneath; see `crate::mock::edge`). Shutdown is
//! graceful: stop accepting, let in-flight requests finish, close idle keep-alive connections,
//! and wait for every connection task.
//!
//! A mock whose `provider: bank` sets `sftp:` (or any mock given [`BindOptions::sftp_port`], as a
//! mock-engine container is) also runs an SFTP listener (`crate::mock::sftp`) on the same
//! host, over the same engine, stopped with the others.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming as IncomingBody;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use crate::mock::clock::{ClockError, VirtualClock};
use crate::mock::control;
use crate::mock::edge::{ConnControl, FaultIo, Transport};
use crate::mock::engine::{ConfigError, Engine, Incoming};
use crate::mock::fault::EdgeAction;
use crate::mock::providers::bank::Bank;
use crate::mock::sftp;
use crate::mock::tls::{TlsError, TlsIdentity};
use crate::scenario::model::{ClockSpec, MAX_TIMEOUT_HOLD, MockSpec};

/// Largest request body a mock reads; larger ones are answered `413`.
pub(crate) const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// How long [`MockServer::shutdown`] waits for open connections before cutting them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// How long a client has to finish the TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a mock listens.
#[derive(Debug, Clone)]
pub struct BindOptions {
    /// Address for both listeners; loopback unless told otherwise.
    pub host: IpAddr,
    /// Traffic port; 0 picks a free one.
    pub traffic_port: u16,
    /// Admin port; 0 picks a free one.
    pub admin_port: u16,
    /// Serve HTTPS with this identity on the traffic port (the admin port stays plain HTTP).
    pub tls: Option<TlsIdentity>,
    /// SFTP port: `Some` listens there whatever the mock serves (0 picks a free one; a
    /// connection is closed at once while the mock has no bank with `sftp:`); `None` listens
    /// on a free port only when the mock's bank sets `sftp:`.
    pub sftp_port: Option<u16>,
}

impl Default for BindOptions {
    fn default() -> Self {
        BindOptions {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            traffic_port: 0,
            admin_port: 0,
            tls: None,
            sftp_port: None,
        }
    }
}

/// Why a mock could not start.
#[derive(Debug, thiserror::Error)]
pub enum MockError {
    /// A listener could not bind.
    #[error("failed to listen on {addr}")]
    Bind {
        /// The address.
        addr: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The clock settings are invalid.
    #[error("failed to set up the virtual clock")]
    Clock(#[from] ClockError),
    /// The mock configuration is invalid.
    #[error("failed to prepare the stubs")]
    Config(#[from] ConfigError),
    /// The TLS identity cannot be served.
    #[error("failed to serve HTTPS")]
    Tls(#[from] TlsError),
    /// The SFTP listener has no host key: the system gave no randomness to make one.
    #[error("failed to generate the SFTP host key: the system has no randomness to give")]
    HostKey,
    /// The mock asks for `tls: true` but was given no certificate.
    #[error("mock `{mock}` has `tls: true` but no certificate was given to serve")]
    NoCertificate {
        /// The mock's name.
        mock: String,
    },
}

/// A running mock.
///
/// ```
/// use reenact::mock::{BindOptions, MockServer};
/// use reenact::scenario::model::{ClockSpec, MockSpec};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let spec = MockSpec {
///     journal_limit: 100,
///     ..MockSpec::new("erp")
/// };
/// let server = MockServer::start(spec, &ClockSpec::default(), BindOptions::default()).await?;
/// assert!(server.url().starts_with("http://127.0.0.1:"));
/// assert_ne!(server.url(), server.admin_url());
/// server.shutdown().await;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct MockServer {
    traffic_addr: SocketAddr,
    admin_addr: SocketAddr,
    sftp_addr: Option<SocketAddr>,
    tls: bool,
    shutdown: watch::Sender<bool>,
    listeners: Vec<JoinHandle<()>>,
}

/// Which API a listener serves.
#[derive(Debug, Clone, Copy)]
enum Role {
    Traffic,
    Admin,
}

impl MockServer {
    /// Start serving `spec` with a virtual clock starting per `clock`.
    ///
    /// Both listeners are bound when this returns, so the URLs are ready to use.
    pub async fn start(
        spec: MockSpec,
        clock: &ClockSpec,
        bind: BindOptions,
    ) -> Result<MockServer, MockError> {
        if spec.tls && bind.tls.is_none() {
            return Err(MockError::NoCertificate { mock: spec.name });
        }
        let engine = Arc::new(Engine::new(&spec, VirtualClock::from_spec(clock)?)?);
        MockServer::serve(engine, bind).await
    }

    /// Serve an engine built elsewhere (e.g. by `reenact mock serve`).
    pub(crate) async fn serve(
        engine: Arc<Engine>,
        bind: BindOptions,
    ) -> Result<MockServer, MockError> {
        let acceptor = match &bind.tls {
            Some(identity) => Some(tokio_rustls::TlsAcceptor::from(identity.server_config()?)),
            None => None,
        };
        let tls = acceptor.is_some();
        let traffic = listen(SocketAddr::new(bind.host, bind.traffic_port)).await?;
        let admin = listen(SocketAddr::new(bind.host, bind.admin_port)).await?;
        let traffic_addr = local_addr(&traffic)?;
        let admin_addr = local_addr(&admin)?;
        let wants_sftp = bind.sftp_port.is_some()
            || engine
                .with_provider::<Bank, _>(|bank, _, _| bank.sftp().is_some())
                .unwrap_or(false);
        let sftp = if wants_sftp {
            let host_key = sftp::generated_host_key().ok_or(MockError::HostKey)?;
            let listener = listen(SocketAddr::new(bind.host, bind.sftp_port.unwrap_or(0))).await?;
            let addr = local_addr(&listener)?;
            Some((listener, addr, Arc::new(host_key)))
        } else {
            None
        };
        let sftp_addr = sftp.as_ref().map(|(_, addr, _)| *addr);
        let (shutdown, signal) = watch::channel(false);
        let mut listeners = vec![
            tokio::spawn(accept_loop(
                traffic,
                Role::Traffic,
                acceptor,
                engine.clone(),
                signal.clone(),
            )),
            tokio::spawn(accept_loop(
                admin,
                Role::Admin,
                None,
                engine.clone(),
                signal.clone(),
            )),
        ];
        if let Some((listener, _, host_key)) = sftp {
            listeners.push(tokio::spawn(sftp::accept_loop(
                listener, engine, host_key, signal,
            )));
        }
        tracing::debug!(%traffic_addr, %admin_addr, ?sftp_addr, "mock listening");
        Ok(MockServer {
            traffic_addr,
            admin_addr,
            sftp_addr,
            tls,
            shutdown,
            listeners,
        })
    }

    /// Base URL of the traffic listener, e.g. `http://127.0.0.1:40123` (`https://` with TLS).
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.traffic_addr)
    }

    /// Base URL of the admin listener.
    pub fn admin_url(&self) -> String {
        format!("http://{}", self.admin_addr)
    }

    /// Address of the traffic listener.
    pub fn traffic_addr(&self) -> SocketAddr {
        self.traffic_addr
    }

    /// Address of the admin listener.
    pub fn admin_addr(&self) -> SocketAddr {
        self.admin_addr
    }

    /// Address of the SFTP listener, when the mock runs one.
    pub fn sftp_addr(&self) -> Option<SocketAddr> {
        self.sftp_addr
    }

    /// URL of the SFTP listener, e.g. `sftp://127.0.0.1:40125`, when the mock runs one.
    pub fn sftp_url(&self) -> Option<String> {
        self.sftp_addr.map(|addr| format!("sftp://{addr}"))
    }

    /// Stop every listener and wait for them to close.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        for listener in self.listeners {
            if let Err(e) = listener.await {
                tracing::warn!(error = %e, "mock listener task failed");
            }
        }
    }
}

async fn listen(addr: SocketAddr) -> Result<TcpListener, MockError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| MockError::Bind {
            addr: addr.to_string(),
            source,
        })
}

fn local_addr(listener: &TcpListener) -> Result<SocketAddr, MockError> {
    listener.local_addr().map_err(|source| MockError::Bind {
        addr: "a bound listener".to_owned(),
        source,
    })
}

/// Resolves once shutdown was asked for or the [`MockServer`] was dropped.
pub(crate) async fn shutdown_requested(signal: &mut watch::Receiver<bool>) {
    let _ = signal.wait_for(|stop| *stop).await;
}

async fn accept_loop(
    listener: TcpListener,
    role: Role,
    tls: Option<tokio_rustls::TlsAcceptor>,
    engine: Arc<Engine>,
    mut signal: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        // Reap finished connections so the set does not grow with every client.
        while connections.try_join_next().is_some() {}
        tokio::select! {
            () = shutdown_requested(&mut signal) => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    connections.spawn(accept_connection(stream, peer, role, tls.clone(), engine.clone(), signal.clone()));
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "mock failed to accept a connection");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
        }
    }
    drop(listener);
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!("mock connections still open after the grace period; closing them");
        connections.shutdown().await;
    }
}

/// Set up one accepted connection (TLS handshake when the listener has an acceptor), then serve
/// it with the one connection handler.
async fn accept_connection(
    stream: TcpStream,
    peer: SocketAddr,
    role: Role,
    tls: Option<tokio_rustls::TlsAcceptor>,
    engine: Arc<Engine>,
    signal: watch::Receiver<bool>,
) {
    // Small request/response exchanges on keep-alive connections must not wait for Nagle.
    if let Err(e) = stream.set_nodelay(true) {
        tracing::debug!(error = %e, "failed to set TCP_NODELAY");
    }
    let Some(acceptor) = tls else {
        return serve_connection(stream, peer, role, false, engine, signal).await;
    };
    match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
        Ok(Ok(stream)) => serve_connection(stream, peer, role, true, engine, signal).await,
        Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake with a mock client failed"),
        Err(_) => tracing::debug!("TLS handshake with a mock client timed out"),
    }
}

/// Serve HTTP/1.1 on one connection, plain or TLS, over a [`FaultIo`] so that connection-level
/// faults work the same on both (`tls` says which, for the mock's own URL).
async fn serve_connection<S: Transport>(
    stream: S,
    peer: SocketAddr,
    role: Role,
    tls: bool,
    engine: Arc<Engine>,
    mut signal: watch::Receiver<bool>,
) {
    let conn = ConnControl::new();
    let io = FaultIo::new(stream, conn.clone());
    let service_signal = signal.clone();
    let service = service_fn(move |request: Request<IncomingBody>| {
        let engine = engine.clone();
        let conn = conn.clone();
        let signal = service_signal.clone();
        async move {
            let response = match role {
                Role::Traffic => handle_traffic(&engine, request, peer, tls, &conn, signal).await,
                Role::Admin => control::handle(&engine, request).await,
            };
            Ok::<_, Infallible>(response.map(Full::new))
        }
    });
    let connection = http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(io), service);
    tokio::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        () = shutdown_requested(&mut signal) => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(error = %e, "mock connection ended with an error");
    }
}

/// Why a request body could not be read.
pub(crate) enum BodyError {
    /// Over [`MAX_BODY_BYTES`].
    TooLarge,
    /// The client went away or sent a malformed body.
    Broken(String),
}

/// Read a whole request body, at most [`MAX_BODY_BYTES`].
pub(crate) async fn read_body(body: IncomingBody) -> Result<Bytes, BodyError> {
    match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(BodyError::TooLarge),
        Err(e) => Err(BodyError::Broken(e.to_string())),
    }
}

/// Answer one traffic request, carrying out the fault that fired on it, if any: HTTP-level
/// faults here (delay, timeout), connection-level ones by arming `conn` for the edge.
async fn handle_traffic(
    engine: &Engine,
    request: Request<IncomingBody>,
    peer: SocketAddr,
    tls: bool,
    conn: &ConnControl,
    mut signal: watch::Receiver<bool>,
) -> Response<Bytes> {
    let (parts, body) = request.into_parts();
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let too_large = parts
        .headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|len| len > MAX_BODY_BYTES as u64);
    let body = if too_large {
        Err(BodyError::TooLarge)
    } else {
        read_body(body).await
    };
    let (body, refusal) = match body {
        Ok(body) => (body, None),
        Err(BodyError::TooLarge) => (
            Bytes::new(),
            Some((
                StatusCode::PAYLOAD_TOO_LARGE,
                "request body is larger than 10 MiB".to_owned(),
            )),
        ),
        Err(BodyError::Broken(e)) => (
            Bytes::new(),
            Some((
                StatusCode::BAD_REQUEST,
                format!("failed to read the request body: {e}"),
            )),
        ),
    };
    let incoming = Incoming {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        headers,
        body,
        peer: Some(peer.ip()),
        tls,
    };
    let answer = match refusal {
        None => engine.respond(incoming),
        Some((status, error)) => return engine.reject(incoming, status, &error),
    };
    match answer.edge {
        None => {}
        Some(EdgeAction::Delay(by)) => {
            // A shutdown cuts the delay short so that `MockServer::shutdown` stays prompt.
            tokio::select! {
                () = tokio::time::sleep(by) => {}
                () = shutdown_requested(&mut signal) => {}
            }
        }
        Some(EdgeAction::Timeout) => {
            // hyper notices a client that goes away and drops this future; otherwise hold until
            // the cap or a shutdown, then close without an answer.
            tokio::select! {
                () = tokio::time::sleep(MAX_TIMEOUT_HOLD) => {}
                () = shutdown_requested(&mut signal) => {}
            }
            conn.arm(EdgeAction::Empty);
        }
        Some(action) => conn.arm(action),
    }
    answer.response
}
