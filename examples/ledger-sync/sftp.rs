//! The ledger-sync demo's SFTP channel to the bank ([`SftpChannel`], `BANK_SFTP_URL`): one SSH
//! connection per import or upload, logged in with `BANK_SFTP_PASSWORD` or the OpenSSH private
//! key in `BANK_SFTP_KEY_FILE`, speaking SFTP only (russh and russh-sftp, the clients of the
//! crates the bank mock serves with).
//!
//! Nothing the bank sends can hang or exhaust the demo: every step (connect, login, each SFTP
//! request) has the configured timeout, a listing at most `MAX_LISTED` names, a download at
//! most the caller's byte limit. The server's host key is checked against `BANK_SFTP_HOST_KEY`
//! (an OpenSSH public key line) when it is set; without it any key is accepted and said so in
//! the log (the bank mock makes a fresh key per run). The password and the key never reach
//! `Debug` or the log.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use russh::keys::{PrivateKey, PrivateKeyWithHashAlg, PublicKey, PublicKeyOrCertificate};
use russh_sftp::client::SftpSession;
use russh_sftp::protocol::OpenFlags;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::log;

/// The most names one folder listing may hold.
const MAX_LISTED: usize = 1000;
/// The SSH port when the URL names none.
const SSH_PORT: u16 = 22;
/// How an error of a step that ran out of time ends.
pub const TIMED_OUT: &str = "the bank did not answer in time";

/// How the demo logs in.
enum SftpAuth {
    Password(String),
    Key(Arc<PrivateKey>),
}

impl fmt::Debug for SftpAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SftpAuth::Password(_) => f.write_str("Password([redacted])"),
            SftpAuth::Key(_) => f.write_str("Key([redacted])"),
        }
    }
}

/// The bank's SFTP server as `BANK_SFTP_URL` and its companions configure it.
#[derive(Debug)]
pub struct SftpChannel {
    host: String,
    port: u16,
    username: String,
    auth: SftpAuth,
    host_key: Option<PublicKey>,
    /// The folder the bank delivers to (statements, status reports).
    pub inbox: String,
    /// The folder payment files are uploaded to.
    pub outbox: String,
    timeout: Duration,
}

/// What `url` names: (user, host, port), or why it is not an SFTP URL with a user.
pub fn parse_url(url: &str) -> Result<(String, String, u16), String> {
    let parsed = reqwest::Url::parse(url.trim())
        .map_err(|_| "BANK_SFTP_URL is not a URL (sftp://USER@HOST:PORT)".to_owned())?;
    if parsed.scheme() != "sftp" {
        return Err("BANK_SFTP_URL must start with sftp://".into());
    }
    let user = parsed.username();
    if user.is_empty() {
        return Err("BANK_SFTP_URL names no user (sftp://USER@HOST:PORT)".into());
    }
    if parsed.password().is_some() {
        return Err("BANK_SFTP_URL must not hold the password: set BANK_SFTP_PASSWORD".into());
    }
    let host = parsed
        .host_str()
        .filter(|host| !host.is_empty())
        .ok_or("BANK_SFTP_URL names no host")?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Ok((
        user.to_owned(),
        host.to_owned(),
        parsed.port().unwrap_or(SSH_PORT),
    ))
}

/// `folder` as an absolute path without a trailing `/`.
fn folder(text: &str) -> String {
    format!("/{}", text.trim().trim_matches('/'))
}

impl SftpChannel {
    /// The channel `BANK_SFTP_URL` configures (with `BANK_SFTP_PASSWORD` or `BANK_SFTP_KEY_FILE`,
    /// optionally `BANK_SFTP_HOST_KEY`, `BANK_SFTP_INBOX`, `BANK_SFTP_OUTBOX`), `None` without
    /// the URL.
    pub fn from_env(timeout: Duration) -> Result<Option<SftpChannel>, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let Some(url) = var("BANK_SFTP_URL") else {
            return Ok(None);
        };
        let (username, host, port) = parse_url(&url)?;
        let auth = match (var("BANK_SFTP_PASSWORD"), var("BANK_SFTP_KEY_FILE")) {
            (Some(password), None) => SftpAuth::Password(password),
            (None, Some(file)) => {
                let text = std::fs::read_to_string(&file)
                    .map_err(|e| format!("BANK_SFTP_KEY_FILE `{file}` cannot be read: {e}"))?;
                let key = PrivateKey::from_openssh(&text).map_err(|_| {
                    format!("BANK_SFTP_KEY_FILE `{file}` is not an OpenSSH private key")
                })?;
                if key.is_encrypted() {
                    return Err(format!(
                        "BANK_SFTP_KEY_FILE `{file}` is encrypted; give an unencrypted key"
                    ));
                }
                SftpAuth::Key(Arc::new(key))
            }
            (Some(_), Some(_)) => {
                return Err("set BANK_SFTP_PASSWORD or BANK_SFTP_KEY_FILE, not both".into());
            }
            (None, None) => {
                return Err("BANK_SFTP_URL needs BANK_SFTP_PASSWORD or BANK_SFTP_KEY_FILE".into());
            }
        };
        let host_key = var("BANK_SFTP_HOST_KEY")
            .map(|line| {
                PublicKey::from_openssh(line.trim())
                    .map_err(|_| "BANK_SFTP_HOST_KEY is not an OpenSSH public key line".to_owned())
            })
            .transpose()?;
        Ok(Some(SftpChannel {
            host,
            port,
            username,
            auth,
            host_key,
            inbox: folder(&var("BANK_SFTP_INBOX").unwrap_or_else(|| "inbox".into())),
            outbox: folder(&var("BANK_SFTP_OUTBOX").unwrap_or_else(|| "outbox".into())),
            timeout,
        }))
    }

    /// `step` within the timeout, its error said with `what`.
    async fn timed<T, E: fmt::Display>(
        &self,
        what: &str,
        step: impl Future<Output = Result<T, E>>,
    ) -> Result<T, String> {
        match tokio::time::timeout(self.timeout, step).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(format!("{what}: {error}")),
            Err(_) => Err(format!("{what}: {TIMED_OUT}")),
        }
    }

    /// Connect, log in and start SFTP.
    pub async fn connect(&self) -> Result<SftpConnection<'_>, String> {
        let config = Arc::new(russh::client::Config {
            inactivity_timeout: Some(self.timeout * 4),
            ..Default::default()
        });
        let checker = HostKeyCheck {
            expected: self.host_key.clone(),
        };
        let mut handle = self
            .timed(
                "the bank's SFTP server is unreachable",
                russh::client::connect(config, (self.host.as_str(), self.port), checker),
            )
            .await?;
        let result = match &self.auth {
            SftpAuth::Password(password) => {
                self.timed(
                    "the SFTP login failed",
                    handle.authenticate_password(self.username.clone(), password.clone()),
                )
                .await?
            }
            SftpAuth::Key(key) => {
                let key = PrivateKeyWithHashAlg::new(key.clone(), None);
                self.timed(
                    "the SFTP login failed",
                    handle.authenticate_publickey(self.username.clone(), key),
                )
                .await?
            }
        };
        if !result.success() {
            return Err(format!(
                "the bank refused the SFTP login of `{}`",
                self.username
            ));
        }
        log(format!("bank sftp: logged in as {}", self.username));
        let channel = self
            .timed("the SFTP channel", handle.channel_open_session())
            .await?;
        self.timed(
            "the SFTP subsystem",
            channel.request_subsystem(true, "sftp"),
        )
        .await?;
        let sftp = self
            .timed("the SFTP session", SftpSession::new(channel.into_stream()))
            .await?;
        sftp.set_timeout(self.timeout.as_secs().max(1));
        Ok(SftpConnection {
            channel: self,
            handle,
            sftp,
        })
    }
}

/// Checks the server's host key against `BANK_SFTP_HOST_KEY`, when set.
struct HostKeyCheck {
    expected: Option<PublicKey>,
}

impl russh::client::Handler for HostKeyCheck {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        server_public_key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let PublicKeyOrCertificate::PublicKey { key, .. } = server_public_key else {
            log("bank sftp: the server offered a certificate; refused");
            return Ok(false);
        };
        match &self.expected {
            Some(expected) if expected.key_data() == key.key_data() => Ok(true),
            Some(_) => {
                log("bank sftp: the server's host key is not BANK_SFTP_HOST_KEY; refused");
                Ok(false)
            }
            None => {
                log("bank sftp: host key not pinned (BANK_SFTP_HOST_KEY unset); accepted");
                Ok(true)
            }
        }
    }
}

/// A logged-in SFTP session.
pub struct SftpConnection<'c> {
    channel: &'c SftpChannel,
    handle: russh::client::Handle<HostKeyCheck>,
    sftp: SftpSession,
}

impl SftpConnection<'_> {
    /// The regular files of `folder`, by name, sorted.
    pub async fn list(&self, folder: &str) -> Result<Vec<String>, String> {
        let entries = self
            .channel
            .timed(
                &format!("listing {folder} failed"),
                self.sftp.read_dir(folder),
            )
            .await?;
        let mut names = Vec::new();
        for entry in entries {
            if entry.metadata().is_dir() {
                continue;
            }
            if names.len() >= MAX_LISTED {
                return Err(format!("{folder} holds more than {MAX_LISTED} files"));
            }
            names.push(entry.file_name());
        }
        names.sort();
        log(format!("bank sftp: {folder}: {} file(s)", names.len()));
        Ok(names)
    }

    /// The bytes of `path`, at most `limit`.
    pub async fn download(&self, path: &str, limit: usize) -> Result<Bytes, String> {
        let channel = self.channel;
        let read = async {
            let file = self.sftp.open(path).await.map_err(|e| e.to_string())?;
            let mut bytes = Vec::new();
            // One byte over the limit tells a file that is too large.
            let limit_plus_one = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
            file.take(limit_plus_one)
                .read_to_end(&mut bytes)
                .await
                .map_err(|e| e.to_string())?;
            if bytes.len() > limit {
                return Err(format!("larger than {limit} bytes"));
            }
            Ok::<_, String>(bytes)
        };
        let bytes = channel
            .timed(&format!("downloading {path} failed"), read)
            .await?;
        log(format!("bank sftp: GET {path} ({} bytes)", bytes.len()));
        Ok(Bytes::from(bytes))
    }

    /// Write `bytes` to `path` (created or truncated) and close it: the bank takes the file
    /// when it is closed.
    pub async fn upload(&self, path: &str, bytes: &[u8]) -> Result<(), String> {
        let write = async {
            let mut file = self
                .sftp
                .open_with_flags(
                    path,
                    OpenFlags::CREATE | OpenFlags::TRUNCATE | OpenFlags::WRITE,
                )
                .await
                .map_err(|e| e.to_string())?;
            file.write_all(bytes).await.map_err(|e| e.to_string())?;
            file.shutdown().await.map_err(|e| e.to_string())?;
            Ok::<_, String>(())
        };
        self.channel
            .timed(&format!("uploading {path} failed"), write)
            .await?;
        log(format!("bank sftp: PUT {path} ({} bytes)", bytes.len()));
        Ok(())
    }

    /// End the session and the connection.
    pub async fn close(self) {
        let _ = tokio::time::timeout(self.channel.timeout, self.sftp.close()).await;
        let _ = tokio::time::timeout(
            self.channel.timeout,
            self.handle
                .disconnect(russh::Disconnect::ByApplication, "done", "en"),
        )
        .await;
    }
}

#[cfg(test)]
mod tests {
    //! The URL and the settings; the channel itself is driven against the bank mock by the
    //! SFTP scenarios (`scenarios/*-sftp.yaml`).

    use super::*;

    #[test]
    fn urls_name_a_user_a_host_and_a_port() {
        assert_eq!(
            parse_url("sftp://ledger@127.0.0.1:2222"),
            Ok(("ledger".into(), "127.0.0.1".into(), 2222))
        );
        assert_eq!(
            parse_url(" sftp://ops@bank.example "),
            Ok(("ops".into(), "bank.example".into(), 22))
        );
        assert_eq!(
            parse_url("sftp://ops@[::1]:2200"),
            Ok(("ops".into(), "::1".into(), 2200))
        );
        assert!(parse_url("sftp://127.0.0.1:2222").is_err(), "no user");
        assert!(parse_url("http://ops@127.0.0.1").is_err(), "not sftp");
        assert!(
            parse_url("sftp://ops:pw@127.0.0.1").is_err(),
            "password in the URL"
        );
        assert!(parse_url("not a url").is_err());
    }

    #[test]
    fn folders_are_absolute_without_a_trailing_slash() {
        assert_eq!(folder("inbox"), "/inbox");
        assert_eq!(folder("/outbox/"), "/outbox");
        assert_eq!(folder(" output "), "/output");
    }

    #[test]
    fn credentials_never_show_in_debug() {
        let auth = SftpAuth::Password("s3cret-pass".into());
        assert!(!format!("{auth:?}").contains("s3cret"));
    }
}
