//! The bank's SFTP server: a second listener of a mock whose `provider: bank` sets `sftp:`,
//! serving SSH (`russh`) with the SFTP subsystem only (`russh-sftp`, protocol version 3,
//! draft-ietf-secsh-filexfer-02) over the provider's own state and virtual clock.
//!
//! - Every connection reads the bank's settings as the engine holds them now (a reconfigure
//!   through the control API changes users, folders and host key for the next connection), and
//!   is closed at once when the mock has no bank with `sftp:` (a mock-engine container always
//!   listens).
//! - Authentication: `password` (compared in constant time, as SHA-256 digests) and `publickey`
//!   (the keys the scenario lists); nothing else. A rejection takes [`AUTH_REJECTION`]; a client
//!   gets [`MAX_AUTH_ATTEMPTS`] attempts per connection.
//! - The file system: `/` holds two folders, `/INBOX` (read-only: [`Bank::inbox`] at the
//!   virtual now) and `/OUTBOX` (write-only: a file written there is handed to
//!   [`Bank::receive_payment_file`] when the client closes it; at most [`MAX_UPLOAD_BYTES`]).
//!   Listing, `stat`, `open`, `read`, `write`, `close` and `realpath`; `..` is refused, and so is
//!   every other operation, each with its SFTP status.
//! - The journal records logins (`SFTP-LOGIN /`), listings (`SFTP-LIST /inbox`), downloads
//!   (`SFTP-GET /inbox/NAME`, at open) and uploads (`SFTP-PUT /outbox/NAME`, at close, the bytes
//!   as the body), each with an HTTP status of the same meaning; never a password.
//! - Shutdown: the listener stops accepting, every session is told to disconnect and awaited (its
//!   SFTP task ends with its channel).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use russh::keys::ssh_key::private::Ed25519Keypair;
use russh::keys::{PrivateKey, PublicKey};
use russh::server::{Auth, ChannelOpenHandle, Msg, PublicKeyOffer, Session, VerifiedPublicKey};
use russh::{Channel, ChannelId, Disconnect, MethodKind, MethodSet};
use russh_sftp::protocol::{
    Attrs, Data, File, FileAttributes, Handle, Name, OpenFlags, Status, StatusCode, Version,
};
use russh_sftp::server::StatusReply;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::mock::engine::{Engine, Operation};
use crate::mock::providers::bank::Bank;
use crate::scenario::model::{BankSftp, SftpCredential};

/// How long a refused authentication takes (russh pads every rejection to it, so a wrong
/// password and an unknown user take as long).
const AUTH_REJECTION: Duration = Duration::from_millis(150);
/// Authentication attempts a connection gets before it is closed.
const MAX_AUTH_ATTEMPTS: usize = 6;
/// A connection silent this long is closed.
const INACTIVITY: Duration = Duration::from_secs(120);
/// Connections served at once; more are closed at once.
const MAX_CONNECTIONS: usize = 64;
/// Session channels one connection may open.
const MAX_CHANNELS: usize = 4;
/// Files and folders one SFTP session may hold open.
const MAX_HANDLES: usize = 64;
/// The largest file accepted in the outbox (as the HTTP listener's body limit).
pub(crate) const MAX_UPLOAD_BYTES: usize = crate::mock::server::MAX_BODY_BYTES;
/// The longest SFTP packet a client may send (russh-sftp's default, 256 KiB).
const MAX_PACKET: u32 = 256 * 1024;
/// How long shutdown waits for a session to end after telling it to disconnect.
const DISCONNECT_GRACE: Duration = Duration::from_secs(2);
/// What the server names itself in the SSH identification string.
const SERVER_ID: &str = "SSH-2.0-reenact_bank_sftp";

/// A fresh Ed25519 host key from the system's randomness, or `None` when there is none to
/// draw (the listener then does not start).
pub(crate) fn generated_host_key() -> Option<PrivateKey> {
    use ring::rand::SecureRandom as _;
    let mut seed = [0u8; 32];
    ring::rand::SystemRandom::new().fill(&mut seed).ok()?;
    Some(PrivateKey::from(Ed25519Keypair::from_seed(&seed)))
}

/// Whether `a` and `b` are the same secret, in time independent of where they differ (and of
/// their lengths: their SHA-256 digests are compared).
fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    let difference = a
        .iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(difference) == 0
}

/// Accept SFTP connections on `listener` until `signal` says stop, then end every session.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    engine: Arc<Engine>,
    generated: Arc<PrivateKey>,
    mut signal: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        tokio::select! {
            () = crate::mock::server::shutdown_requested(&mut signal) => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    if connections.len() >= MAX_CONNECTIONS {
                        tracing::debug!(%peer, "too many SFTP connections; closing this one");
                        continue;
                    }
                    connections.spawn(serve_connection(
                        stream,
                        peer,
                        engine.clone(),
                        generated.clone(),
                        signal.clone(),
                    ));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "SFTP listener failed to accept a connection");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
        }
    }
    drop(listener);
    // Every session was told to disconnect; give them a moment, then cut what is left.
    let drained = tokio::time::timeout(DISCONNECT_GRACE * 2, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        connections.shutdown().await;
    }
}

/// The SSH server configuration for one connection: the bank's host key (else `generated`),
/// password and public-key authentication only.
fn server_config(settings: &BankSftp, generated: &PrivateKey) -> russh::server::Config {
    let key = settings
        .host_key
        .as_ref()
        .and_then(|pem| PrivateKey::from_openssh(&pem.0).ok())
        .unwrap_or_else(|| generated.clone());
    russh::server::Config {
        server_id: russh::SshId::Standard(SERVER_ID.into()),
        methods: MethodSet::from(&[MethodKind::Password, MethodKind::PublicKey][..]),
        auth_rejection_time: AUTH_REJECTION,
        // OpenSSH probes with `none` first: no need to wait on that.
        auth_rejection_time_initial: Some(Duration::ZERO),
        keys: vec![key],
        max_auth_attempts: MAX_AUTH_ATTEMPTS,
        inactivity_timeout: Some(INACTIVITY),
        nodelay: true,
        ..Default::default()
    }
}

/// Serve one connection until it ends or the mock stops.
async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    engine: Arc<Engine>,
    generated: Arc<PrivateKey>,
    mut signal: watch::Receiver<bool>,
) {
    let Some(settings) = engine
        .with_provider::<Bank, _>(|bank, _, _| bank.sftp().cloned())
        .flatten()
    else {
        tracing::debug!(%peer, "SFTP connection to a mock without `sftp:`; closing it");
        return;
    };
    let config = Arc::new(server_config(&settings, &generated));
    let handler = SshSession {
        engine,
        settings: Arc::new(settings),
        user: None,
        channels: HashMap::new(),
    };
    let started = tokio::select! {
        started = russh::server::run_stream(config, stream, handler) => started,
        () = crate::mock::server::shutdown_requested(&mut signal) => return,
    };
    let mut session = match started {
        Ok(session) => session,
        Err(e) => {
            tracing::debug!(%peer, error = %e, "SFTP connection failed before its session");
            return;
        }
    };
    let handle = session.handle();
    let ended = tokio::select! {
        ended = &mut session => Some(ended),
        () = crate::mock::server::shutdown_requested(&mut signal) => None,
    };
    match ended {
        Some(Err(e)) => tracing::debug!(%peer, error = %e, "SFTP session ended with an error"),
        Some(Ok(())) => {}
        None => {
            let bye = handle.disconnect(
                Disconnect::ByApplication,
                "the mock is stopping".to_owned(),
                "en".to_owned(),
            );
            let _ = tokio::time::timeout(DISCONNECT_GRACE, bye).await;
            let _ = tokio::time::timeout(DISCONNECT_GRACE, session).await;
        }
    }
}

/// One SSH connection: who logged in, and the session channels opened.
struct SshSession {
    engine: Arc<Engine>,
    settings: Arc<BankSftp>,
    /// The user, once authenticated.
    user: Option<String>,
    channels: HashMap<ChannelId, Channel<Msg>>,
}

impl SshSession {
    /// Journal a login attempt of `user` by `method`.
    fn journal_login(&self, user: &str, method: &str, accepted: bool) {
        self.engine.record_operation(Operation {
            method: "SFTP-LOGIN",
            path: "/".to_owned(),
            headers: vec![
                ("sftp-user".to_owned(), user.to_owned()),
                ("sftp-auth".to_owned(), method.to_owned()),
            ],
            body: String::new(),
            status: if accepted { 200 } else { 401 },
            routed: true,
        });
    }

    fn has_key(&self, user: &str, key: &PublicKey) -> bool {
        self.settings.users.iter().any(|known| {
            known.username == user
                && match &known.credential {
                    SftpCredential::PublicKey(line) => PublicKey::from_openssh(line)
                        .is_ok_and(|listed| listed.key_data() == key.key_data()),
                    SftpCredential::Password(_) => false,
                }
        })
    }

    fn decide(&mut self, user: &str, method: &str, accepted: bool) -> Auth {
        self.journal_login(user, method, accepted);
        if accepted {
            self.user = Some(user.to_owned());
            Auth::Accept
        } else {
            Auth::Reject {
                proceed_with_methods: None,
                partial_success: false,
            }
        }
    }
}

impl russh::server::Handler for SshSession {
    type Error = russh::Error;

    async fn auth_password(&mut self, user: &str, password: &str) -> Result<Auth, Self::Error> {
        // Every user is compared, so the time does not tell which names exist.
        let mut accepted = false;
        for known in &self.settings.users {
            if let SftpCredential::Password(expected) = &known.credential {
                accepted |= same_secret(&known.username, user) & same_secret(&expected.0, password);
            }
        }
        Ok(self.decide(user, "password", accepted))
    }

    async fn auth_publickey_offered(
        &mut self,
        user: &str,
        offer: PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        if self.has_key(user, offer.public_key) {
            return Ok(Auth::Accept);
        }
        Ok(self.decide(user, "publickey", false))
    }

    async fn auth_publickey(
        &mut self,
        user: &str,
        key: VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        let accepted = self.has_key(user, key.public_key);
        Ok(self.decide(user, "publickey", accepted))
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if self.user.is_none() || self.channels.len() >= MAX_CHANNELS {
            reply
                .reject(russh::ChannelOpenFailure::AdministrativelyProhibited)
                .await;
            return Ok(());
        }
        self.channels.insert(channel.id(), channel);
        reply.accept().await;
        Ok(())
    }

    async fn channel_eof(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.close(channel)
    }

    async fn subsystem_request(
        &mut self,
        channel_id: ChannelId,
        name: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let (Some(user), true) = (&self.user, name == "sftp") else {
            return session.channel_failure(channel_id);
        };
        let Some(channel) = self.channels.remove(&channel_id) else {
            return session.channel_failure(channel_id);
        };
        session.channel_success(channel_id)?;
        let sftp = SftpSession {
            engine: self.engine.clone(),
            settings: self.settings.clone(),
            user: user.clone(),
            handles: HashMap::new(),
            next_handle: 0,
            initialized: false,
        };
        let config = russh_sftp::server::Config {
            max_client_packet_len: MAX_PACKET,
        };
        russh_sftp::server::run_with_config(channel.into_stream(), sftp, config).await;
        Ok(())
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_failure(channel)
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        _data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_failure(channel)
    }

    async fn pty_request(
        &mut self,
        channel: ChannelId,
        _term: &str,
        _col_width: u32,
        _row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        _modes: &[(russh::Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_failure(channel)
    }

    async fn env_request(
        &mut self,
        channel: ChannelId,
        _variable_name: &str,
        _variable_value: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_failure(channel)
    }
}

/// Where a path leads in the bank's file system.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Place {
    /// `/`.
    Root,
    /// The inbox folder.
    Inbox,
    /// The outbox folder.
    Outbox,
    /// A file in the inbox.
    InboxFile(String),
    /// A file in the outbox.
    OutboxFile(String),
    /// Anything else (a deeper path, an unknown folder).
    Elsewhere,
}

/// Why a path is refused before it is looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PathRefusal {
    /// It holds a `..` segment.
    Parent,
    /// It is not valid: too long, or a control character.
    Invalid,
}

/// The longest path read.
const MAX_PATH: usize = 4096;

/// `path`'s segments from the root (the session starts in `/`; `.` and empty segments are
/// dropped), or why it is refused.
fn segments(path: &str) -> Result<Vec<&str>, PathRefusal> {
    if path.len() > MAX_PATH || path.chars().any(char::is_control) {
        return Err(PathRefusal::Invalid);
    }
    let mut out = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => return Err(PathRefusal::Parent),
            other => out.push(other),
        }
    }
    Ok(out)
}

/// Where `path` leads with these folder names.
fn place(path: &str, settings: &BankSftp) -> Result<Place, PathRefusal> {
    let segments = segments(path)?;
    Ok(match segments.as_slice() {
        [] => Place::Root,
        [folder] if *folder == settings.inbox => Place::Inbox,
        [folder] if *folder == settings.outbox => Place::Outbox,
        [folder, name] if *folder == settings.inbox => Place::InboxFile((*name).to_owned()),
        [folder, name] if *folder == settings.outbox => Place::OutboxFile((*name).to_owned()),
        _ => Place::Elsewhere,
    })
}

/// The canonical form of `path`: `/` and its segments.
fn canonical(path: &str) -> Result<String, PathRefusal> {
    Ok(format!("/{}", segments(path)?.join("/")))
}

/// An open file or folder of one SFTP session.
enum Open {
    /// A file of the inbox, its bytes as they were when it was opened.
    Read { bytes: Bytes },
    /// A file being written to the outbox.
    Write {
        name: String,
        bytes: Vec<u8>,
        too_large: bool,
    },
    /// A folder's listing, `None` once it was sent.
    Dir { entries: Option<Vec<File>> },
}

/// One SFTP subsystem session of a logged-in user.
struct SftpSession {
    engine: Arc<Engine>,
    settings: Arc<BankSftp>,
    user: String,
    handles: HashMap<String, Open>,
    next_handle: u64,
    initialized: bool,
}

/// A refusal with its status and a message saying why.
fn refuse(code: StatusCode, message: &str) -> StatusReply {
    code.with_message(message)
}

fn refusal_reply(refusal: &PathRefusal) -> StatusReply {
    match refusal {
        PathRefusal::Parent => refuse(
            StatusCode::PermissionDenied,
            "`..` is not allowed: the bank serves `/inbox` and `/outbox` only",
        ),
        PathRefusal::Invalid => refuse(StatusCode::BadMessage, "invalid path"),
    }
}

/// Attributes of a folder (`drwxr-xr-x` for the inbox and root, `d-wx-wx-wx`-like for the
/// outbox: listable but empty).
fn folder_attrs() -> FileAttributes {
    let mut attrs = FileAttributes {
        size: Some(0),
        uid: Some(0),
        gid: Some(0),
        permissions: Some(0o755),
        atime: Some(0),
        mtime: Some(0),
        ..Default::default()
    };
    attrs.set_dir(true);
    attrs
}

/// Attributes of an inbox file of `size` bytes at `now`.
fn file_attrs(size: u64, now: OffsetDateTime, writable: bool) -> FileAttributes {
    let time = u32::try_from(now.unix_timestamp()).unwrap_or(0);
    let mut attrs = FileAttributes {
        size: Some(size),
        uid: Some(0),
        gid: Some(0),
        permissions: Some(if writable { 0o200 } else { 0o444 }),
        atime: Some(time),
        mtime: Some(time),
        ..Default::default()
    };
    attrs.set_regular(true);
    attrs
}

impl SftpSession {
    fn journal(&self, method: &'static str, path: String, body: String, status: u16) {
        self.engine.record_operation(Operation {
            method,
            path,
            headers: vec![("sftp-user".to_owned(), self.user.clone())],
            body,
            status,
            routed: true,
        });
    }

    /// The bank's inbox at the virtual now; `counted` counts a listing in the state.
    fn inbox(
        &self,
        counted: bool,
    ) -> (Vec<crate::mock::providers::bank::InboxFile>, OffsetDateTime) {
        self.engine
            .with_provider::<Bank, _>(|bank, state, now| {
                if counted {
                    bank.record_listing(state);
                }
                (bank.inbox(state, now), now)
            })
            .unwrap_or_else(|| (Vec::new(), self.engine.clock().now()))
    }

    fn new_handle(&mut self, open: Open) -> Result<String, StatusReply> {
        if self.handles.len() >= MAX_HANDLES {
            return Err(refuse(
                StatusCode::Failure,
                "too many open files: close some first",
            ));
        }
        self.next_handle += 1;
        let handle = self.next_handle.to_string();
        self.handles.insert(handle.clone(), open);
        Ok(handle)
    }

    fn attrs_of(&self, place: &Place) -> Result<FileAttributes, StatusReply> {
        match place {
            Place::Root | Place::Inbox | Place::Outbox => Ok(folder_attrs()),
            Place::InboxFile(name) => {
                let (files, now) = self.inbox(false);
                files
                    .iter()
                    .find(|file| &file.name == name)
                    .map(|file| file_attrs(file.bytes.len() as u64, now, false))
                    .ok_or_else(|| refuse(StatusCode::NoSuchFile, "no such file"))
            }
            Place::OutboxFile(_) => Err(refuse(
                StatusCode::NoSuchFile,
                "the outbox is write-only: uploaded files are not listed",
            )),
            Place::Elsewhere => Err(refuse(StatusCode::NoSuchFile, "no such file or folder")),
        }
    }

    fn stat_path(&self, id: u32, path: &str) -> Result<Attrs, StatusReply> {
        let place = place(path, &self.settings).map_err(|r| refusal_reply(&r))?;
        Ok(Attrs {
            id,
            attrs: self.attrs_of(&place)?,
        })
    }
}

fn ok_status(id: u32) -> Status {
    Status {
        id,
        status_code: StatusCode::Ok,
        error_message: "Ok".to_owned(),
        language_tag: "en-US".to_owned(),
    }
}

impl russh_sftp::server::Handler for SftpSession {
    type Error = StatusReply;

    fn unimplemented(&self) -> Self::Error {
        refuse(
            StatusCode::OpUnsupported,
            "the bank's SFTP server lists, reads and writes files only",
        )
    }

    async fn init(
        &mut self,
        _version: u32,
        _extensions: HashMap<String, String>,
    ) -> Result<Version, Self::Error> {
        if self.initialized {
            return Err(refuse(
                StatusCode::BadMessage,
                "SSH_FXP_INIT was already sent",
            ));
        }
        self.initialized = true;
        Ok(Version::new())
    }

    async fn realpath(&mut self, id: u32, path: String) -> Result<Name, Self::Error> {
        let path = canonical(&path).map_err(|r| refusal_reply(&r))?;
        Ok(Name {
            id,
            files: vec![File::dummy(path)],
        })
    }

    async fn stat(&mut self, id: u32, path: String) -> Result<Attrs, Self::Error> {
        self.stat_path(id, &path)
    }

    async fn lstat(&mut self, id: u32, path: String) -> Result<Attrs, Self::Error> {
        self.stat_path(id, &path)
    }

    async fn fstat(&mut self, id: u32, handle: String) -> Result<Attrs, Self::Error> {
        let now = self.engine.clock().now();
        let attrs = match self.handles.get(&handle) {
            Some(Open::Read { bytes }) => file_attrs(bytes.len() as u64, now, false),
            Some(Open::Write { bytes, .. }) => file_attrs(bytes.len() as u64, now, true),
            Some(Open::Dir { .. }) => folder_attrs(),
            None => return Err(refuse(StatusCode::Failure, "no such handle")),
        };
        Ok(Attrs { id, attrs })
    }

    async fn opendir(&mut self, id: u32, path: String) -> Result<Handle, Self::Error> {
        let place = place(&path, &self.settings).map_err(|r| refusal_reply(&r))?;
        let entries = match place {
            Place::Root => vec![
                File::new(self.settings.inbox.clone(), folder_attrs()),
                File::new(self.settings.outbox.clone(), folder_attrs()),
            ],
            Place::Inbox => {
                let (files, now) = self.inbox(true);
                self.journal(
                    "SFTP-LIST",
                    format!("/{}", self.settings.inbox),
                    String::new(),
                    200,
                );
                files
                    .into_iter()
                    .map(|file| {
                        File::new(file.name, file_attrs(file.bytes.len() as u64, now, false))
                    })
                    .collect()
            }
            // Write-only: what was uploaded is not shown.
            Place::Outbox => Vec::new(),
            Place::InboxFile(_) | Place::OutboxFile(_) => {
                return Err(refuse(StatusCode::Failure, "not a folder"));
            }
            Place::Elsewhere => {
                return Err(refuse(StatusCode::NoSuchFile, "no such folder"));
            }
        };
        let handle = self.new_handle(Open::Dir {
            entries: Some(entries),
        })?;
        Ok(Handle { id, handle })
    }

    async fn readdir(&mut self, id: u32, handle: String) -> Result<Name, Self::Error> {
        match self.handles.get_mut(&handle) {
            Some(Open::Dir { entries }) => match entries.take() {
                Some(files) if !files.is_empty() => Ok(Name { id, files }),
                _ => Err(refuse(StatusCode::Eof, "end of the listing")),
            },
            _ => Err(refuse(StatusCode::Failure, "not a folder handle")),
        }
    }

    async fn open(
        &mut self,
        id: u32,
        filename: String,
        pflags: OpenFlags,
        _attrs: FileAttributes,
    ) -> Result<Handle, Self::Error> {
        let place = match place(&filename, &self.settings) {
            Ok(place) => place,
            Err(refusal) => {
                self.journal("SFTP-GET", filename.clone(), String::new(), 403);
                return Err(refusal_reply(&refusal));
            }
        };
        let writing = pflags.intersects(OpenFlags::WRITE | OpenFlags::APPEND);
        let reading = pflags.contains(OpenFlags::READ);
        let path = canonical(&filename).unwrap_or(filename);
        let method = if writing { "SFTP-PUT" } else { "SFTP-GET" };
        match place {
            Place::InboxFile(name) if reading && !writing => {
                let found = self
                    .engine
                    .with_provider::<Bank, _>(|bank, state, now| {
                        let file = bank
                            .inbox(state, now)
                            .into_iter()
                            .find(|f| f.name == name)?;
                        bank.record_download(state, &file.name, now, "sftp");
                        Some(file.bytes)
                    })
                    .flatten();
                let Some(bytes) = found else {
                    self.journal("SFTP-GET", path, String::new(), 404);
                    return Err(refuse(StatusCode::NoSuchFile, "no such file"));
                };
                self.journal("SFTP-GET", path, String::new(), 200);
                let handle = self.new_handle(Open::Read { bytes })?;
                Ok(Handle { id, handle })
            }
            Place::OutboxFile(name) if writing && !reading => {
                let handle = self.new_handle(Open::Write {
                    name,
                    bytes: Vec::new(),
                    too_large: false,
                })?;
                Ok(Handle { id, handle })
            }
            Place::InboxFile(_) => {
                self.journal(method, path, String::new(), 403);
                Err(refuse(
                    StatusCode::PermissionDenied,
                    "the inbox is read-only",
                ))
            }
            Place::OutboxFile(_) => {
                self.journal(method, path, String::new(), 403);
                Err(refuse(
                    StatusCode::PermissionDenied,
                    "the outbox is write-only: open files there for writing only",
                ))
            }
            Place::Root | Place::Inbox | Place::Outbox => Err(refuse(
                StatusCode::Failure,
                "a folder cannot be opened as a file",
            )),
            Place::Elsewhere => {
                self.journal(method, path, String::new(), 403);
                Err(refuse(
                    StatusCode::PermissionDenied,
                    "the bank serves files in `/inbox` and `/outbox` only",
                ))
            }
        }
    }

    async fn read(
        &mut self,
        id: u32,
        handle: String,
        offset: u64,
        len: u32,
    ) -> Result<Data, Self::Error> {
        let Some(Open::Read { bytes }) = self.handles.get(&handle) else {
            return Err(refuse(StatusCode::Failure, "not a handle open for reading"));
        };
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        if start >= bytes.len() {
            return Err(refuse(StatusCode::Eof, "end of file"));
        }
        // Bounded by the packet size a reply may have.
        let len = (len as usize).min(MAX_PACKET as usize - 1024);
        let end = start.saturating_add(len).min(bytes.len());
        Ok(Data {
            id,
            data: bytes.slice(start..end).to_vec(),
        })
    }

    async fn write(
        &mut self,
        id: u32,
        handle: String,
        offset: u64,
        data: Vec<u8>,
    ) -> Result<Status, Self::Error> {
        let Some(Open::Write {
            bytes, too_large, ..
        }) = self.handles.get_mut(&handle)
        else {
            return Err(refuse(StatusCode::Failure, "not a handle open for writing"));
        };
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        let end = start.saturating_add(data.len());
        if *too_large || end > MAX_UPLOAD_BYTES {
            *too_large = true;
            bytes.clear();
            return Err(refuse(
                StatusCode::Failure,
                "the file is larger than the bank takes (10 MiB)",
            ));
        }
        if bytes.len() < end {
            bytes.resize(end, 0);
        }
        bytes[start..end].copy_from_slice(&data);
        Ok(ok_status(id))
    }

    async fn close(&mut self, id: u32, handle: String) -> Result<Status, Self::Error> {
        let Some(open) = self.handles.remove(&handle) else {
            return Err(refuse(StatusCode::Failure, "no such handle"));
        };
        let Open::Write {
            name,
            bytes,
            too_large,
        } = open
        else {
            return Ok(ok_status(id));
        };
        let path = format!("/{}/{name}", self.settings.outbox);
        if too_large {
            self.journal("SFTP-PUT", path, String::new(), 413);
            return Err(refuse(
                StatusCode::Failure,
                "the file is larger than the bank takes (10 MiB); it was not delivered",
            ));
        }
        let received = self.engine.with_provider::<Bank, _>(|bank, state, now| {
            bank.receive_payment_file(state, &name, &bytes, now)
        });
        let body = String::from_utf8_lossy(&bytes).into_owned();
        match received {
            Some(Ok(_)) => {
                self.journal("SFTP-PUT", path, body, 200);
                Ok(ok_status(id))
            }
            Some(Err(refusal)) => {
                self.journal("SFTP-PUT", path, body, 503);
                Err(refuse(StatusCode::Failure, &refusal.to_string()))
            }
            None => Err(refuse(StatusCode::Failure, "the mock has no bank now")),
        }
    }

    async fn remove(&mut self, _id: u32, _filename: String) -> Result<Status, Self::Error> {
        Err(refuse(
            StatusCode::PermissionDenied,
            "files cannot be removed: the inbox is read-only, the outbox write-only",
        ))
    }

    async fn rename(
        &mut self,
        _id: u32,
        _oldpath: String,
        _newpath: String,
    ) -> Result<Status, Self::Error> {
        Err(refuse(
            StatusCode::PermissionDenied,
            "files cannot be renamed: the inbox is read-only, the outbox write-only",
        ))
    }

    async fn mkdir(
        &mut self,
        _id: u32,
        _path: String,
        _attrs: FileAttributes,
    ) -> Result<Status, Self::Error> {
        Err(refuse(
            StatusCode::PermissionDenied,
            "folders cannot be made: the bank serves `/inbox` and `/outbox`",
        ))
    }

    async fn rmdir(&mut self, _id: u32, _path: String) -> Result<Status, Self::Error> {
        Err(refuse(
            StatusCode::PermissionDenied,
            "folders cannot be removed: the bank serves `/inbox` and `/outbox`",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::model::{SecretText, SftpUser};

    fn settings() -> BankSftp {
        BankSftp {
            users: vec![SftpUser {
                username: "ledger".into(),
                credential: SftpCredential::Password(SecretText("pw".into())),
            }],
            inbox: "inbox".into(),
            outbox: "outbox".into(),
            host_key: None,
        }
    }

    #[test]
    fn paths_lead_to_the_two_folders_and_nowhere_else() {
        let s = settings();
        assert_eq!(place("/", &s), Ok(Place::Root));
        assert_eq!(place(".", &s), Ok(Place::Root));
        assert_eq!(place("", &s), Ok(Place::Root));
        assert_eq!(place("inbox", &s), Ok(Place::Inbox));
        assert_eq!(place("/inbox/", &s), Ok(Place::Inbox));
        assert_eq!(
            place("./inbox/./a.sta", &s),
            Ok(Place::InboxFile("a.sta".into()))
        );
        assert_eq!(
            place("//outbox//p.xml", &s),
            Ok(Place::OutboxFile("p.xml".into()))
        );
        assert_eq!(place("/etc/passwd", &s), Ok(Place::Elsewhere));
        assert_eq!(place("/inbox/a/b", &s), Ok(Place::Elsewhere));
        assert_eq!(place("/inbox/../etc", &s), Err(PathRefusal::Parent));
        assert_eq!(place("..", &s), Err(PathRefusal::Parent));
        assert_eq!(place("/inbox/a\nb", &s), Err(PathRefusal::Invalid));
        assert_eq!(place(&"a/".repeat(3000), &s), Err(PathRefusal::Invalid));
        assert_eq!(canonical("./inbox//a.sta").as_deref(), Ok("/inbox/a.sta"));
        assert_eq!(canonical(".").as_deref(), Ok("/"));
    }

    #[test]
    fn secrets_compare_equal_only_when_equal() {
        assert!(same_secret("s3cret", "s3cret"));
        assert!(!same_secret("s3cret", "s3creT"));
        assert!(!same_secret("s3cret", "s3cret "));
        assert!(!same_secret("", "x"));
        assert!(same_secret("", ""));
    }

    #[test]
    fn a_generated_host_key_is_ed25519_and_fresh() {
        let a = generated_host_key().expect("randomness");
        let b = generated_host_key().expect("randomness");
        assert!(a.algorithm().is_ed25519());
        assert_ne!(a.public_key().key_data(), b.public_key().key_data());
    }
}
