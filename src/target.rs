//! The system under test: start it, wait until it is ready, capture its output, stop it.
//!
//! A command target runs in its own process group so that stopping it also stops whatever it
//! spawned. Every started group is registered in [`live_process_groups`] until it is stopped, so
//! the CLI's Ctrl-C handler can kill what is still running before it exits; `Drop` kills the group
//! too, as a safety net only: runs stop targets explicitly with [`RunningTarget::stop`].

use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};

use crate::scenario::model::ReadySpec;

/// Lines of target output kept for the observation and error messages.
pub const LOG_TAIL_LINES: usize = 200;

/// How to start or reach a target, with every template already rendered.
#[derive(Debug, Clone)]
pub enum Launch {
    /// Run a program.
    Command {
        /// Program path (relative paths resolve against `cwd`).
        program: String,
        /// Arguments.
        args: Vec<String>,
        /// Extra environment.
        env: Vec<(String, String)>,
        /// Working folder.
        cwd: PathBuf,
        /// The port the target was told to listen on.
        port: u16,
    },
    /// A running target at this base URL.
    Url(String),
}

/// Why the target could not be started or reached.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// The program could not be spawned.
    #[error("failed to start target `{program}`")]
    Spawn {
        /// The program.
        program: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The program exited before it became ready.
    #[error("target `{program}` exited with {status} before it was ready")]
    Exited {
        /// The program.
        program: String,
        /// Its exit status.
        status: String,
        /// Its last output lines.
        log_tail: Vec<String>,
    },
    /// The readiness probe did not pass in time.
    #[error("target did not answer `{probe}` with 2xx within {within}: {last_error}")]
    NotReady {
        /// The probe, e.g. `GET http://127.0.0.1:4000/healthz`.
        probe: String,
        /// The deadline.
        within: String,
        /// What the last attempt saw.
        last_error: String,
        /// The last output lines.
        log_tail: Vec<String>,
    },
}

impl TargetError {
    /// The target's last output lines, when the error has them.
    pub fn log_tail(&self) -> &[String] {
        match self {
            TargetError::Exited { log_tail, .. } | TargetError::NotReady { log_tail, .. } => {
                log_tail
            }
            TargetError::Spawn { .. } => &[],
        }
    }
}

type LogBuffer = Arc<Mutex<VecDeque<String>>>;

/// A started (or reached) target.
pub struct RunningTarget {
    base_url: String,
    program: String,
    child: Option<Child>,
    pgid: Option<i32>,
    logs: LogBuffer,
    readers: Vec<tokio::task::JoinHandle<()>>,
}

impl RunningTarget {
    /// Start the target and wait for readiness.
    pub async fn start(
        launch: &Launch,
        ready: Option<&ReadySpec>,
        http: &reqwest::Client,
    ) -> Result<RunningTarget, TargetError> {
        let mut target = match launch {
            Launch::Url(url) => RunningTarget {
                base_url: url.trim_end_matches('/').to_string(),
                program: url.clone(),
                child: None,
                pgid: None,
                logs: LogBuffer::default(),
                readers: Vec::new(),
            },
            Launch::Command {
                program,
                args,
                env,
                cwd,
                port,
            } => spawn(program, args, env, cwd, *port)?,
        };
        if let Some(ready) = ready
            && let Err(err) = target.wait_ready(ready, http).await
        {
            target.stop().await;
            return Err(err);
        }
        Ok(target)
    }

    /// Base URL, e.g. `http://127.0.0.1:40123`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The last lines the target printed (stdout and stderr interleaved as they arrived).
    pub fn log_tail(&self) -> Vec<String> {
        lock(&self.logs).iter().cloned().collect()
    }

    async fn wait_ready(
        &mut self,
        ready: &ReadySpec,
        http: &reqwest::Client,
    ) -> Result<(), TargetError> {
        let url = format!("{}{}", self.base_url, ready.path);
        let probe = format!("{} {url}", ready.method);
        let method =
            reqwest::Method::from_bytes(ready.method.as_bytes()).unwrap_or(reqwest::Method::GET);
        let deadline = Instant::now() + ready.within;
        let mut last_error;
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                self.drain_readers().await;
                return Err(TargetError::Exited {
                    program: self.program.clone(),
                    status: status.to_string(),
                    log_tail: self.log_tail(),
                });
            }
            let attempt = http
                .request(method.clone(), &url)
                .timeout(Duration::from_secs(2))
                .send()
                .await;
            match attempt {
                Ok(response) if response.status().is_success() => return Ok(()),
                Ok(response) => last_error = format!("answered {}", response.status()),
                Err(err) => last_error = error_chain(&err),
            }
            if Instant::now() >= deadline {
                return Err(TargetError::NotReady {
                    probe,
                    within: crate::scenario::duration::format(ready.within),
                    last_error,
                    log_tail: self.log_tail(),
                });
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Stop the target: SIGTERM to its process group, SIGKILL after 3 seconds; then collect the
    /// rest of its output. Idempotent.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            if let Some(pgid) = self.pgid {
                signal_group(pgid, libc::SIGTERM);
                if tokio::time::timeout(Duration::from_secs(3), child.wait())
                    .await
                    .is_err()
                {
                    signal_group(pgid, libc::SIGKILL);
                    let _ = child.wait().await;
                }
                // Whatever the target spawned into its group goes too.
                signal_group(pgid, libc::SIGKILL);
                unregister(pgid);
            }
            self.pgid = None;
        }
        self.drain_readers().await;
    }

    async fn drain_readers(&mut self) {
        for reader in self.readers.drain(..) {
            let _ = tokio::time::timeout(Duration::from_secs(1), reader).await;
        }
    }
}

impl Drop for RunningTarget {
    fn drop(&mut self) {
        if let Some(pgid) = self.pgid.take() {
            signal_group(pgid, libc::SIGKILL);
            unregister(pgid);
        }
    }
}

fn spawn(
    program: &str,
    args: &[String],
    env: &[(String, String)],
    cwd: &PathBuf,
    port: u16,
) -> Result<RunningTarget, TargetError> {
    let resolved = if program.contains('/') {
        cwd.join(program)
    } else {
        PathBuf::from(program)
    };
    let mut command = Command::new(&resolved);
    command
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = command.spawn().map_err(|source| TargetError::Spawn {
        program: program.to_string(),
        source,
    })?;
    let pgid = child.id().map(|id| id as i32);
    if let Some(pgid) = pgid {
        register(pgid);
    }
    let logs = LogBuffer::default();
    let mut readers = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        readers.push(tokio::spawn(collect_lines(stdout, logs.clone())));
    }
    if let Some(stderr) = child.stderr.take() {
        readers.push(tokio::spawn(collect_lines(stderr, logs.clone())));
    }
    Ok(RunningTarget {
        base_url: format!("http://127.0.0.1:{port}"),
        program: program.to_string(),
        child: Some(child),
        pgid,
        logs,
        readers,
    })
}

async fn collect_lines(stream: impl AsyncRead + Unpin, logs: LogBuffer) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let mut buffer = lock(&logs);
        if buffer.len() == LOG_TAIL_LINES {
            buffer.pop_front();
        }
        buffer.push_back(line);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Format an error with its sources: `a: b: c`.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Pick a free loopback port for a target to listen on.
pub fn free_port() -> std::io::Result<u16> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
    Ok(listener.local_addr()?.port())
}

static LIVE_GROUPS: Mutex<Vec<i32>> = Mutex::new(Vec::new());

fn register(pgid: i32) {
    lock(&LIVE_GROUPS).push(pgid);
}

fn unregister(pgid: i32) {
    lock(&LIVE_GROUPS).retain(|g| *g != pgid);
}

/// Process groups of targets started and not yet stopped.
pub fn live_process_groups() -> Vec<i32> {
    lock(&LIVE_GROUPS).clone()
}

/// Kill every target process group still running (for the Ctrl-C path, before exiting).
pub fn kill_all_targets() {
    for pgid in live_process_groups() {
        signal_group(pgid, libc::SIGKILL);
        unregister(pgid);
    }
}

fn signal_group(pgid: i32, signal: i32) {
    // SAFETY: kill(2) with a negative pid signals a process group; it has no memory effects.
    unsafe {
        libc::kill(-pgid, signal);
    }
}
