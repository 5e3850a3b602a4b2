//! The system under test: start it, wait until it is ready, capture its output, stop it.
//!
//! A container target ([`Launch::Container`]) runs on the run's Docker network
//! ([`RunningTarget::start_container`]); its output (stdout and stderr) is followed into the same
//! log tail as a process's, and stopping it stops the container (the run removes it).
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

use futures_util::StreamExt;
use testcontainers::bollard::container::LogOutput;
use testcontainers::bollard::errors::Error as DockerError;
use testcontainers::bollard::query_parameters::{LogsOptionsBuilder, StopContainerOptionsBuilder};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};

use crate::backend::BackendError;
use crate::backend::docker::{ContainerLaunch, DockerRun, StartedTarget};
use crate::errors;
use crate::scenario::model::ReadySpec;

/// Lines of target output kept for the observation and error messages.
pub(crate) const LOG_TAIL_LINES: usize = 200;

/// How to start or reach a target, with every template already rendered.
#[derive(Debug, Clone)]
pub(crate) enum Launch {
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
    /// A container on the run's Docker network.
    Container(ContainerLaunch),
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
    /// The container could not be created or started.
    #[error("failed to start the target container")]
    Container(#[source] Box<BackendError>),
    /// A container target on a run whose mocks are not in Docker.
    #[error("a container target needs the `docker` backend")]
    NeedsDocker,
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
            TargetError::Spawn { .. } | TargetError::Container(_) | TargetError::NeedsDocker => &[],
        }
    }
}

type LogBuffer = Arc<Mutex<VecDeque<String>>>;

/// A started (or reached) target.
pub(crate) struct RunningTarget {
    base_url: String,
    /// The URL the mocks deliver webhooks to (differs from `base_url` for a container target).
    network_url: String,
    program: String,
    child: Option<Child>,
    pgid: Option<i32>,
    container: Option<StartedTarget>,
    logs: LogBuffer,
    readers: Vec<tokio::task::JoinHandle<()>>,
}

impl RunningTarget {
    /// Start the target and wait for readiness.
    pub(crate) async fn start(
        launch: &Launch,
        ready: Option<&ReadySpec>,
        http: &reqwest::Client,
    ) -> Result<RunningTarget, TargetError> {
        let target = match launch {
            Launch::Url(url) => {
                let url = url.trim_end_matches('/').to_string();
                RunningTarget {
                    base_url: url.clone(),
                    network_url: url.clone(),
                    program: url,
                    child: None,
                    pgid: None,
                    container: None,
                    logs: LogBuffer::default(),
                    readers: Vec::new(),
                }
            }
            Launch::Command {
                program,
                args,
                env,
                cwd,
                port,
            } => spawn(program, args, env, cwd, *port)?,
            Launch::Container(_) => return Err(TargetError::NeedsDocker),
        };
        target.ready(ready, http).await
    }

    /// Start a container target on `run`'s network, follow its output and wait for readiness
    /// (through its published port). The container belongs to `run`, which removes it.
    pub(crate) async fn start_container(
        run: &mut DockerRun,
        launch: &ContainerLaunch,
        ready: Option<&ReadySpec>,
        http: &reqwest::Client,
    ) -> Result<RunningTarget, TargetError> {
        let started = run.start_target(launch).await.map_err(|err| match err {
            BackendError::TargetExited { status, log_tail } => TargetError::Exited {
                program: launch.image.clone(),
                status,
                log_tail,
            },
            other => TargetError::Container(Box::new(other)),
        })?;
        let logs = LogBuffer::default();
        let options = LogsOptionsBuilder::default()
            .follow(true)
            .stdout(true)
            .stderr(true)
            .build();
        let stream = started.docker.logs(&started.id, Some(options));
        let reader = tokio::spawn(collect_container_lines(stream, logs.clone()));
        let target = RunningTarget {
            base_url: started.url.clone(),
            network_url: started.network_url.clone(),
            program: launch.image.clone(),
            child: None,
            pgid: None,
            container: Some(started),
            logs,
            readers: vec![reader],
        };
        target.ready(ready, http).await
    }

    /// Wait for `ready` (when given); a target that does not become ready is stopped.
    async fn ready(
        mut self,
        ready: Option<&ReadySpec>,
        http: &reqwest::Client,
    ) -> Result<RunningTarget, TargetError> {
        if let Some(ready) = ready
            && let Err(err) = self.wait_ready(ready, http).await
        {
            self.stop().await;
            return Err(err);
        }
        Ok(self)
    }

    /// Base URL as the mocks reach it: the same as [`RunningTarget::base_url`] for a process or
    /// URL target, `http://reenact-target:PORT` for a container target.
    pub(crate) fn network_url(&self) -> &str {
        &self.network_url
    }

    /// Whether the target has exited: `Some(status)` once it has.
    async fn exited(&mut self) -> Option<String> {
        if let Some(child) = self.child.as_mut()
            && let Ok(Some(status)) = child.try_wait()
        {
            return Some(status.to_string());
        }
        let container = self.container.as_ref()?;
        let state = container
            .docker
            .inspect_container(&container.id, None)
            .await
            .ok()?
            .state?;
        if state.running == Some(true) {
            return None;
        }
        Some(match state.exit_code {
            Some(code) => format!("exit code {code}"),
            None => "no exit code".to_owned(),
        })
    }

    /// Base URL, e.g. `http://127.0.0.1:40123`.
    pub(crate) fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The last lines the target printed (stdout and stderr interleaved as they arrived).
    pub(crate) fn log_tail(&self) -> Vec<String> {
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
            if let Some(status) = self.exited().await {
                self.drain_readers().await;
                return Err(TargetError::Exited {
                    program: self.program.clone(),
                    status,
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
                Err(err) => last_error = errors::one_line(&err),
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
    pub(crate) async fn stop(&mut self) {
        if let Some(container) = self.container.take() {
            // SIGTERM, then SIGKILL after the grace period; the run removes the container.
            let options = StopContainerOptionsBuilder::default().t(3).build();
            if let Err(err) = container
                .docker
                .stop_container(&container.id, Some(options))
                .await
            {
                tracing::debug!(error = %err, "stopping the target container failed");
            }
        }
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
    let base_url = format!("http://127.0.0.1:{port}");
    Ok(RunningTarget {
        network_url: base_url.clone(),
        base_url,
        program: program.to_string(),
        child: Some(child),
        pgid,
        container: None,
        logs,
        readers,
    })
}

async fn collect_lines(stream: impl AsyncRead + Unpin, logs: LogBuffer) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        push_line(&logs, line);
    }
}

/// Follow a container's output into `logs`, line by line: chunks need not end at line ends, so
/// stdout and stderr each keep their unfinished line until it ends (or the stream does).
async fn collect_container_lines(
    mut stream: impl futures_util::Stream<Item = Result<LogOutput, DockerError>> + Unpin,
    logs: LogBuffer,
) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    while let Some(Ok(chunk)) = stream.next().await {
        let pending = match &chunk {
            LogOutput::StdErr { .. } => &mut err,
            _ => &mut out,
        };
        pending.extend_from_slice(&chunk.into_bytes());
        while let Some(end) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            push_line(&logs, finish_line(&line));
        }
    }
    for rest in [out, err] {
        if !rest.is_empty() {
            push_line(&logs, finish_line(&rest));
        }
    }
}

/// A line of output as text, without its line end.
fn finish_line(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .trim_end_matches(['\n', '\r'])
        .to_owned()
}

fn push_line(logs: &LogBuffer, line: String) {
    let mut buffer = lock(logs);
    if buffer.len() == LOG_TAIL_LINES {
        buffer.pop_front();
    }
    buffer.push_back(line);
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Pick a free loopback port for a target to listen on.
pub(crate) fn free_port() -> std::io::Result<u16> {
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
pub(crate) fn live_process_groups() -> Vec<i32> {
    lock(&LIVE_GROUPS).clone()
}

/// Kill every target process group still running (for the Ctrl-C path, before exiting).
pub(crate) fn kill_all_targets() {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn container_output_becomes_lines_whatever_the_chunks() {
        let chunk = |text: &str, err: bool| {
            let message = bytes::Bytes::from(text.to_owned());
            Ok(if err {
                LogOutput::StdErr { message }
            } else {
                LogOutput::StdOut { message }
            })
        };
        let stream = futures_util::stream::iter(vec![
            chunk("ledger-sync 1.4.3 list", false),
            chunk("oops\r\n", true),
            chunk("ening on 0.0.0.0:8080\nexport ", false),
            chunk("done\nno newline at the end", false),
        ]);
        let logs = LogBuffer::default();
        collect_container_lines(stream, logs.clone()).await;
        let lines: Vec<String> = lock(&logs).iter().cloned().collect();
        assert_eq!(
            lines,
            [
                "oops",
                "ledger-sync 1.4.3 listening on 0.0.0.0:8080",
                "export done",
                "no newline at the end"
            ]
        );
    }
}
