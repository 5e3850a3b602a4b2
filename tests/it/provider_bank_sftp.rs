//! Tests of `provider: bank`'s SFTP server (`sftp:`), driven by real SFTP clients: the russh
//! client with the russh-sftp client in this process, and OpenSSH's `sftp` in batch mode. Logins
//! by password and by key (and refusals), the inbox following the virtual clock, downloads equal
//! to the HTTP ones, uploads reaching the bank's payment intake and its reports coming back in the
//! inbox, paths outside the two folders refused,
//! the journal and the state, and the listener stopping with the mock.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use russh::keys::ssh_key::private::Ed25519Keypair;
use russh::keys::{PrivateKey, PrivateKeyWithHashAlg, PublicKey, PublicKeyOrCertificate};
use russh_sftp::client::SftpSession;
use russh_sftp::protocol::StatusCode;
use serde_json::json;

use crate::support::{self, load_mock};
use reenact::scenario::model::MockSpec;

/// The raw fixture the scenarios deliver as it is.
const RAW: &str = "tests/fixtures/valid/bank/odd.sta";
/// The host key fixture (a test key made with `ssh-keygen -t ed25519 -N ''`).
const HOST_KEY: &str = "tests/fixtures/valid/bank/sftp_host_ed25519";
/// A pain.001.001.09 payment file (the demo's, judged against the ISO schema).
const PAIN001: &str = "examples/ledger-sync/testdata/pain.001.001.09-run.xml";
/// The password of user `ledger`.
const PASSWORD: &str = "s3cret-sftp-pass";

/// The key of user `ops`, from a fixed seed.
fn ops_key() -> PrivateKey {
    PrivateKey::from(Ed25519Keypair::from_seed(&[7; 32]))
}

/// A key nobody listed.
fn stranger_key() -> PrivateKey {
    PrivateKey::from(Ed25519Keypair::from_seed(&[9; 32]))
}

/// A bank mock with two statements (`a.sta` now, `b.sta` a day later) and an SFTP server with
/// a password user `ledger` and a key user `ops`; `extra` goes into `sftp:` (YAML, indented
/// eight spaces).
fn spec(extra: &str) -> MockSpec {
    let ops = ops_key()
        .public_key()
        .to_openssh()
        .expect("OpenSSH public key");
    load_mock(&format!(
        "id: bank-sftp\ntitle: bank sftp\nmocks:\n  bank:\n    provider: bank\n    with:\n      bank: {{ bic: DEUTDEFFXXX, name: Deutsche Bank AG }}\n      accounts:\n        - id: operating\n          iban: DE89 3704 0044 0532 0130 00\n          currency: EUR\n          opening: {{ date: 2026-11-02, balance: \"0\" }}\n      statements:\n        - {{ name: a.sta, file: {RAW} }}\n        - {{ name: b.sta, format: mt940, accounts: [operating], from: 2026-11-02, available_at: \"2026-11-01T23:00:00Z\" }}\n      sftp:\n        users:\n          - {{ username: ledger, password: {PASSWORD} }}\n          - {{ username: ops, public_key: \"{ops} ops@erp\" }}\n{extra}flow:\n  - request: {{ method: GET, path: / }}\n"
    ))
}

enum Sftp {}
type Harness = support::Harness<Sftp>;

/// A russh client that records the host key it was shown and trusts it.
pub(crate) struct Client {
    seen: Arc<std::sync::Mutex<Option<PublicKey>>>,
}

impl russh::client::Handler for Client {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        server_public_key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        if let PublicKeyOrCertificate::PublicKey { key, .. } = server_public_key {
            *self.seen.lock().expect("lock") = Some(key.clone());
        }
        Ok(true)
    }
}

/// An SSH connection, before or after login.
pub(crate) struct Connection {
    pub(crate) handle: russh::client::Handle<Client>,
    host_key: Arc<std::sync::Mutex<Option<PublicKey>>>,
}

impl Connection {
    pub(crate) async fn open(addr: SocketAddr) -> Connection {
        let host_key = Arc::new(std::sync::Mutex::new(None));
        let client = Client {
            seen: host_key.clone(),
        };
        let handle =
            russh::client::connect(Arc::new(russh::client::Config::default()), addr, client)
                .await
                .expect("SSH handshake");
        Connection { handle, host_key }
    }

    pub(crate) async fn password(&mut self, user: &str, password: &str) -> bool {
        self.handle
            .authenticate_password(user, password)
            .await
            .expect("the server answers")
            .success()
    }

    async fn key(&mut self, user: &str, key: PrivateKey) -> bool {
        self.handle
            .authenticate_publickey(user, PrivateKeyWithHashAlg::new(Arc::new(key), None))
            .await
            .expect("the server answers")
            .success()
    }

    pub(crate) async fn sftp(&self) -> SftpSession {
        let channel = self.handle.channel_open_session().await.expect("a channel");
        channel
            .request_subsystem(true, "sftp")
            .await
            .expect("the SFTP subsystem");
        SftpSession::new(channel.into_stream())
            .await
            .expect("SFTP session")
    }
}

impl Harness {
    fn sftp_addr(&self) -> SocketAddr {
        self.server.sftp_addr().expect("an SFTP listener")
    }

    /// A logged-in SFTP session of `ledger`, with its connection (which must outlive it).
    async fn ledger(&self) -> (Connection, SftpSession) {
        let mut connection = Connection::open(self.sftp_addr()).await;
        assert!(connection.password("ledger", PASSWORD).await);
        let sftp = connection.sftp().await;
        (connection, sftp)
    }

    async fn http_download(&self, name: &str) -> Vec<u8> {
        let response = self
            .http
            .get(format!("{}/statements/{name}", self.server.url()))
            .send()
            .await
            .expect("HTTP download");
        assert_eq!(response.status(), 200, "{name}");
        response.bytes().await.expect("bytes").to_vec()
    }
}

/// The names `/inbox` lists.
async fn inbox(sftp: &SftpSession) -> Vec<String> {
    let mut names: Vec<String> = sftp
        .read_dir("/inbox")
        .await
        .expect("listing")
        .map(|entry| entry.file_name())
        .collect();
    names.sort();
    names
}

/// The SFTP status an operation failed with.
fn status<T>(result: Result<T, russh_sftp::client::error::Error>) -> StatusCode {
    match result {
        Err(russh_sftp::client::error::Error::Status(status)) => status.status_code,
        Err(other) => panic!("expected an SFTP status, got {other:?}"),
        Ok(_) => panic!("expected an SFTP status, got success"),
    }
}

/// The journal's SFTP entries as `(method, path, status)`.
async fn sftp_journal(bank: &Harness) -> Vec<(String, String, u16)> {
    bank.journal()
        .await
        .entries
        .into_iter()
        .filter(|entry| entry.method.starts_with("SFTP-"))
        .map(|entry| (entry.method, entry.path, entry.status))
        .collect()
}

/// Password login; the inbox lists what is available now and follows the virtual clock; a
/// download is byte for byte the HTTP one; the state and journal record it with its channel.
#[tokio::test]
async fn the_inbox_follows_the_virtual_clock_and_downloads_equal_http() {
    let bank = Harness::start(spec("")).await;
    let (_connection, sftp) = bank.ledger().await;
    assert_eq!(sftp.canonicalize(".").await.expect("realpath"), "/");
    let mut root: Vec<String> = sftp
        .read_dir("/")
        .await
        .expect("root")
        .map(|entry| entry.file_name())
        .collect();
    root.sort();
    assert_eq!(root, ["inbox", "outbox"]);
    assert_eq!(inbox(&sftp).await, ["a.sta"]);
    assert_eq!(
        status(sftp.read("/inbox/b.sta").await),
        StatusCode::NoSuchFile
    );

    bank.advance_by(Duration::from_secs(86_400)).await;
    assert_eq!(inbox(&sftp).await, ["a.sta", "b.sta"]);
    for name in ["a.sta", "b.sta"] {
        let over_sftp = sftp.read(format!("/inbox/{name}")).await.expect("download");
        assert_eq!(over_sftp, bank.http_download(name).await, "{name}");
        let size = sftp
            .metadata(format!("inbox/{name}"))
            .await
            .expect("stat")
            .size;
        assert_eq!(size, Some(over_sftp.len() as u64));
    }
    assert_eq!(
        sftp.read("/inbox/a.sta").await.expect("download"),
        std::fs::read(RAW).expect("fixture")
    );

    let state = bank.state_of("bank").await;
    let downloads: Vec<(&str, &str)> = state["downloads"]
        .as_array()
        .expect("downloads")
        .iter()
        .map(|d| (d["name"].as_str().unwrap(), d["channel"].as_str().unwrap()))
        .collect();
    assert_eq!(
        downloads,
        [
            ("a.sta", "sftp"),
            ("a.sta", "http"),
            ("b.sta", "sftp"),
            ("b.sta", "http"),
            ("a.sta", "sftp"),
        ]
    );
    assert_eq!(state["downloads"][0]["at"], "2026-11-01T23:00:00Z");
    assert_eq!(state["listings"], 2, "two SFTP listings of the inbox");
    let journal = sftp_journal(&bank).await;
    let expected: Vec<(String, String, u16)> = [
        ("SFTP-LOGIN", "/", 200),
        ("SFTP-LIST", "/inbox", 200),
        ("SFTP-GET", "/inbox/b.sta", 404),
        ("SFTP-LIST", "/inbox", 200),
        ("SFTP-GET", "/inbox/a.sta", 200),
        ("SFTP-GET", "/inbox/b.sta", 200),
        ("SFTP-GET", "/inbox/a.sta", 200),
    ]
    .into_iter()
    .map(|(m, p, s)| (m.to_owned(), p.to_owned(), s))
    .collect();
    assert_eq!(journal, expected);
    let login = &bank.journal().await.entries[0];
    assert_eq!(
        login.headers,
        [
            ("sftp-user".to_owned(), "ledger".to_owned()),
            ("sftp-auth".to_owned(), "password".to_owned())
        ]
    );
    assert_eq!(
        login.matched.as_ref().map(|m| m.name.as_str()),
        Some("provider bank")
    );
    bank.stop().await;
}

/// A file written to the outbox reaches the bank's payment intake when it is closed (the state's
/// `payment_files`, the bytes in the journal), and its pain.002 reports then appear in the inbox
/// over the virtual clock; the same name twice is two files; the outbox lists nothing.
#[tokio::test]
async fn uploads_to_the_outbox_reach_the_bank_and_reports_come_back() {
    let bank = Harness::start(spec("")).await;
    let (_connection, sftp) = bank.ledger().await;
    let payment = std::fs::read(PAIN001).expect("the pain.001 fixture");
    sftp.write("/outbox/pay-1.xml", &payment)
        .await
        .expect("upload");
    bank.advance_by(Duration::from_secs(60)).await;
    let mut file = sftp.create("outbox/pay-1.xml").await.expect("create");
    tokio::io::AsyncWriteExt::write_all(&mut file, b"second")
        .await
        .expect("write");
    tokio::io::AsyncWriteExt::shutdown(&mut file)
        .await
        .expect("close");
    let state = bank.state_of("bank").await;
    let files: Vec<(&str, u64, &str)> = state["payment_files"]
        .as_array()
        .expect("payment files")
        .iter()
        .map(|f| {
            (
                f["name"].as_str().unwrap(),
                f["size"].as_u64().unwrap(),
                f["received_at"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        files,
        [
            ("pay-1.xml", payment.len() as u64, "2026-10-31T23:00:00Z"),
            ("pay-1.xml", 6, "2026-10-31T23:01:00Z"),
        ]
    );
    assert!(
        sftp.read_dir("/outbox")
            .await
            .expect("listing")
            .next()
            .is_none(),
        "the outbox is write-only"
    );
    assert_eq!(
        status(sftp.read("/outbox/pay-1.xml").await),
        StatusCode::PermissionDenied
    );
    // The reports come as the bank issues them: each file's first at once (RCVD, or the
    // schema rejection of the second), the first file's acceptance a minute later.
    let reports = |names: Vec<String>| -> Vec<String> {
        names
            .into_iter()
            .filter(|n| n.contains("pain.002"))
            .collect()
    };
    let now = reports(inbox(&sftp).await);
    assert!(now.contains(&"PMT-1-pain.002-1.xml".to_owned()), "{now:?}");
    assert!(now.contains(&"PMT-2-pain.002-1.xml".to_owned()), "{now:?}");
    bank.advance_by(Duration::from_secs(600)).await;
    let later = reports(inbox(&sftp).await);
    assert!(later.len() > now.len(), "{now:?} then {later:?}");
    let rejection = sftp
        .read("/inbox/PMT-2-pain.002-1.xml")
        .await
        .expect("download the report");
    let rejection = String::from_utf8(rejection).expect("UTF-8");
    assert!(rejection.contains("<GrpSts>RJCT</GrpSts>"), "{rejection}");
    let journal = bank.journal().await;
    let puts: Vec<(&str, &str, u16)> = journal
        .entries
        .iter()
        .filter(|e| e.method == "SFTP-PUT" || e.path.starts_with("/outbox"))
        .map(|e| (e.method.as_str(), e.path.as_str(), e.status))
        .collect();
    assert_eq!(
        puts,
        [
            ("SFTP-PUT", "/outbox/pay-1.xml", 200),
            ("SFTP-PUT", "/outbox/pay-1.xml", 200),
            ("SFTP-GET", "/outbox/pay-1.xml", 403),
        ]
    );
    let second = journal
        .entries
        .iter()
        .filter(|e| e.method == "SFTP-PUT")
        .nth(1)
        .expect("the second upload");
    assert_eq!(second.body, "second");
    bank.stop().await;
}

/// Paths outside `/inbox` and `/outbox`, `..`, writes to the inbox and every other operation
/// are refused with an SFTP status; nothing is recorded as a download.
#[tokio::test]
async fn paths_outside_the_folders_and_other_operations_are_refused() {
    let bank = Harness::start(spec("")).await;
    let (_connection, sftp) = bank.ledger().await;
    assert_eq!(
        status(sftp.read("/etc/passwd").await),
        StatusCode::PermissionDenied
    );
    assert_eq!(
        status(sftp.read("/inbox/../inbox/a.sta").await),
        StatusCode::PermissionDenied
    );
    assert_eq!(
        status(sftp.read_dir("/inbox/..").await),
        StatusCode::PermissionDenied
    );
    assert_eq!(
        status(sftp.canonicalize("..").await),
        StatusCode::PermissionDenied
    );
    assert_eq!(status(sftp.read_dir("/etc").await), StatusCode::NoSuchFile);
    assert_eq!(
        status(sftp.write("/inbox/a.sta", b"overwrite").await),
        StatusCode::PermissionDenied
    );
    assert_eq!(
        status(sftp.write("/elsewhere.xml", b"x").await),
        StatusCode::PermissionDenied
    );
    assert_eq!(
        status(sftp.remove_file("/inbox/a.sta").await),
        StatusCode::PermissionDenied
    );
    assert_eq!(
        status(sftp.rename("/inbox/a.sta", "/inbox/c.sta").await),
        StatusCode::PermissionDenied
    );
    assert_eq!(
        status(sftp.create_dir("/inbox/new").await),
        StatusCode::PermissionDenied
    );
    assert_eq!(
        status(sftp.symlink("/inbox/a.sta", "/outbox/link").await),
        StatusCode::OpUnsupported
    );
    // The inbox is unchanged, and nothing counted as a download.
    assert_eq!(
        sftp.read("/inbox/a.sta").await.expect("download"),
        std::fs::read(RAW).expect("fixture")
    );
    let state = bank.state_of("bank").await;
    assert_eq!(state["downloads"].as_array().map(Vec::len), Some(1));
    assert_eq!(state["payment_files"], json!([]));
    bank.stop().await;
}

/// Key login for the user whose key is listed; a wrong password, an unknown user, another key
/// and a password for the key user are refused (and journaled, never with the password); no
/// shell or exec is served.
#[tokio::test]
async fn logins_by_password_and_key_and_refusals() {
    let bank = Harness::start(spec("")).await;
    let addr = bank.sftp_addr();

    let mut wrong = Connection::open(addr).await;
    assert!(!wrong.password("ledger", "not-the-password").await);
    assert!(!wrong.password("nobody", PASSWORD).await);
    assert!(!wrong.key("ops", stranger_key()).await);
    assert!(!wrong.key("ledger", ops_key()).await, "ledger has no key");
    assert!(
        !wrong.password("ops", PASSWORD).await,
        "ops has no password"
    );
    assert!(
        wrong.handle.channel_open_session().await.is_err(),
        "no channel before login"
    );

    let mut ops = Connection::open(addr).await;
    assert!(ops.key("ops", ops_key()).await);
    let sftp = ops.sftp().await;
    assert_eq!(inbox(&sftp).await, ["a.sta"]);
    let channel = ops.handle.channel_open_session().await.expect("channel");
    assert!(
        channel.exec(true, "ls").await.is_ok(),
        "the request is sent"
    );
    let mut channel = channel;
    let mut refused = false;
    while let Some(message) = channel.wait().await {
        if matches!(message, russh::ChannelMsg::Failure) {
            refused = true;
            break;
        }
    }
    assert!(refused, "exec is refused");

    let journal = bank.journal().await;
    let logins: Vec<(String, String, u16)> = journal
        .entries
        .iter()
        .filter(|e| e.method == "SFTP-LOGIN")
        .map(|e| (e.headers[0].1.clone(), e.headers[1].1.clone(), e.status))
        .collect();
    let expected: Vec<(String, String, u16)> = [
        ("ledger", "password", 401),
        ("nobody", "password", 401),
        ("ops", "publickey", 401),
        ("ledger", "publickey", 401),
        ("ops", "password", 401),
        ("ops", "publickey", 200),
    ]
    .into_iter()
    .map(|(u, m, s)| (u.to_owned(), m.to_owned(), s))
    .collect();
    assert_eq!(logins, expected);
    let everything =
        serde_json::to_string(&journal).expect("JSON") + &bank.state_of("bank").await.to_string();
    assert!(!everything.contains(PASSWORD), "{everything}");
    bank.stop().await;
}

/// A connection gets a bounded number of attempts: after them the server closes it.
#[tokio::test]
async fn authentication_attempts_are_bounded() {
    let bank = Harness::start(spec("")).await;
    let mut connection = Connection::open(bank.sftp_addr()).await;
    let mut answered = 0;
    for _ in 0..20 {
        match connection
            .handle
            .authenticate_password("ledger", "wrong")
            .await
        {
            Ok(result) => {
                assert!(!result.success());
                answered += 1;
            }
            Err(_) => break,
        }
    }
    assert!(
        (1..20).contains(&answered),
        "the connection was closed after {answered} attempts"
    );
    bank.stop().await;
}

/// The host key is the scenario's file when it gives one, else a fresh Ed25519 key per start.
#[tokio::test]
async fn the_host_key_is_the_scenarios_or_fresh() {
    let fixed = Harness::start(spec(&format!("        host_key: {HOST_KEY}\n"))).await;
    let connection = Connection::open(fixed.sftp_addr()).await;
    let shown = connection.host_key.lock().expect("lock").clone();
    let expected = PublicKey::from_openssh(
        &std::fs::read_to_string(format!("{HOST_KEY}.pub")).expect("fixture"),
    )
    .expect("public key");
    assert_eq!(
        shown.as_ref().map(PublicKey::key_data),
        Some(expected.key_data())
    );
    fixed.stop().await;

    let mut seen = Vec::new();
    for _ in 0..2 {
        let bank = Harness::start(spec("")).await;
        let connection = Connection::open(bank.sftp_addr()).await;
        let key = connection
            .host_key
            .lock()
            .expect("lock")
            .clone()
            .expect("a key");
        assert!(key.algorithm().is_ed25519());
        seen.push(key.key_data().clone());
        bank.stop().await;
    }
    assert_ne!(seen[0], seen[1], "a fresh key per start");
}

/// Stopping the mock ends open sessions and closes the port; a bank without `sftp:` has no
/// SFTP listener.
#[tokio::test]
async fn the_server_stops_with_the_mock() {
    let bank = Harness::start(spec("")).await;
    let addr = bank.sftp_addr();
    let (_connection, sftp) = bank.ledger().await;
    assert_eq!(inbox(&sftp).await, ["a.sta"]);
    tokio::time::timeout(Duration::from_secs(10), bank.stop())
        .await
        .expect("the mock stops promptly with a session open");
    let after = tokio::time::timeout(Duration::from_secs(5), sftp.read_dir("/inbox")).await;
    assert!(
        matches!(after, Ok(Err(_))),
        "the session ended with the mock, so the next request fails at once"
    );
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "nothing listens on {addr} any more"
    );

    let plain = Harness::start(load_mock(&format!(
        "id: bank\ntitle: bank\nmocks:\n  bank:\n    provider: bank\n    with:\n      bank: {{ bic: DEUTDEFFXXX, name: Deutsche Bank AG }}\n      accounts:\n        - {{ id: operating, iban: DE89 3704 0044 0532 0130 00, currency: EUR, opening: {{ date: 2026-11-02, balance: \"0\" }} }}\n      statements:\n        - {{ name: a.sta, file: {RAW} }}\nflow:\n  - request: {{ method: GET, path: / }}\n"
    )))
    .await;
    assert_eq!(plain.server.sftp_addr(), None);
    plain.stop().await;
}

/// OpenSSH's `sftp` in batch mode, logging in with a key: lists, downloads (the HTTP bytes)
/// and uploads (reaching the state). Ignored by plain `cargo test`, which must not depend on an
/// OpenSSH install; `.ci/run` installs `openssh-client` and runs it with `--ignored`.
#[tokio::test]
#[ignore = "needs OpenSSH's `sftp`; .ci/run runs it: cargo test --test it -- --ignored provider_bank_sftp::openssh"]
async fn openssh_sftp_lists_downloads_and_uploads() {
    let bank = Harness::start(spec("")).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let key_file = dir.path().join("ops_ed25519");
    std::fs::write(
        &key_file,
        ops_key()
            .to_openssh(russh::keys::ssh_key::LineEnding::LF)
            .expect("OpenSSH private key")
            .as_bytes(),
    )
    .expect("key file");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600))
            .expect("key file mode");
    }
    let upload = dir.path().join("pain.001.xml");
    std::fs::write(&upload, b"<Document>from openssh</Document>").expect("upload file");
    let download = dir.path().join("a.sta");
    let batch = dir.path().join("batch");
    std::fs::write(
        &batch,
        format!(
            "ls -1 /inbox\nget /inbox/a.sta {}\nput {} /outbox/pain.001.xml\n",
            download.display(),
            upload.display()
        ),
    )
    .expect("batch file");
    let addr = bank.sftp_addr();
    let output = tokio::process::Command::new("sftp")
        .arg("-b")
        .arg(&batch)
        .arg("-i")
        .arg(&key_file)
        .args([
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "ConnectTimeout=10",
            "-F",
            "/dev/null",
            "-P",
        ])
        .arg(addr.port().to_string())
        .arg(format!("ops@{}", addr.ip()))
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(60), output)
        .await
        .expect("sftp finishes")
        .expect("sftp runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stdout.lines().any(|line| line.trim_end() == "/inbox/a.sta"),
        "{stdout}"
    );
    assert_eq!(
        std::fs::read(&download).expect("downloaded"),
        bank.http_download("a.sta").await
    );
    let state = bank.state_of("bank").await;
    assert_eq!(state["payment_files"][0]["name"], "pain.001.xml");
    assert_eq!(
        state["payment_files"][0]["size"],
        json!(b"<Document>from openssh</Document>".len())
    );
    assert_eq!(state["downloads"][0]["channel"], "sftp");
    bank.stop().await;
}
