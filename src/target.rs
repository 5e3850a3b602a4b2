//! The system under test: start it, wait until it is ready, capture its output, stop it.
//!
//! A container target ([`Launch::Container`]) runs on the run's Docker network
//! ([`RunningTarget::start_container`]); its output (stdout and stderr) is followed into the same
//! log tail as a process's, and stopping it stops the container (the run removes it).
//!
//! A command target runs in its own process group so that stopping it also stops whatever it
//! spawned. Every started group is registered until it is stopped, so the CLI's Ctrl-C handler
//! can kill what is still running before it exits ([`kill_all_targets`], which also refuses any
//! later start); `Drop` kills the group too, as a safety net only: runs stop targets explicitly
//! with [`RunningTarget::stop`].
//!
//! A target must not outlive reenact even when reenact is killed with SIGKILL, which no handler
//! sees. On Linux the target asks the kernel for SIGKILL when its parent goes
//! (`PR_SET_PDEATHSIG`). The kernel sends it when the *thread* that forked the target ends, not
//! the process, and tokio's threads come and go, so every target is forked by one thread that
//! lives as long as the process ([`Spawner`]). What the target itself spawned survives that;
//! the run's record ([`crate::leftovers`]) names the target and every process inherits the
//! [`RUN_ENV`] marker, so the next sweep finds and kills them.

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
use crate::leftovers::{RUN_ENV, RunRecord};
use crate::scenario::model::ReadySpec;

mod listening;

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
    /// reenact is stopping (Ctrl-C, SIGTERM): no target starts any more.
    #[error("reenact is stopping: target `{program}` was not started")]
    Stopping {
        /// The program.
        program: String,
    },
    /// The readiness probe did not pass in time.
    #[error(
        "target did not answer `{probe}` with 2xx within {within} (gave up after {:.1}s): {last_error}{}",
        waited.as_secs_f64(),
        listening_clause(listening.as_deref())
    )]
    NotReady {
        /// The probe, e.g. `GET http://127.0.0.1:4000/healthz`.
        probe: String,
        /// The deadline.
        within: String,
        /// How long the probe tried, from the target's start to giving up.
        waited: Duration,
        /// What the last attempt saw.
        last_error: String,
        /// The port the target was told to listen on (`{{ target.port }}`), for a process.
        port: Option<u16>,
        /// The TCP addresses the target's processes listened on when the probe gave up; `None`
        /// when that cannot be seen (a URL or container target, a system without `/proc`).
        listening: Option<Vec<std::net::SocketAddr>>,
        /// The last output lines.
        log_tail: Vec<String>,
    },
}

/// What a target that never became ready listens on, for its error: nothing when unknown.
fn listening_clause(listening: Option<&[std::net::SocketAddr]>) -> String {
    match listening {
        None => String::new(),
        Some([]) => "; its processes listen on no TCP port".to_owned(),
        Some(addresses) => format!(
            "; it listens on {}",
            addresses
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

impl TargetError {
    /// For a target that never became ready but listens on other ports than the one it was
    /// told: that port (the likely mistake is a port not taken from `{{ target.port }}`).
    pub fn wrong_port(&self) -> Option<u16> {
        match self {
            TargetError::NotReady {
                port: Some(port),
                listening: Some(listening),
                ..
            } if !listening.is_empty() && listening.iter().all(|a| a.port() != *port) => {
                Some(*port)
            }
            _ => None,
        }
    }

    /// The target's last output lines, when the error has them.
    pub fn log_tail(&self) -> &[String] {
        match self {
            TargetError::Exited { log_tail, .. } | TargetError::NotReady { log_tail, .. } => {
                log_tail
            }
            TargetError::Spawn { .. }
            | TargetError::Container(_)
            | TargetError::NeedsDocker
            | TargetError::Stopping { .. } => &[],
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
    /// The port a process target was told to listen on.
    port: Option<u16>,
    child: Option<Child>,
    pgid: Option<i32>,
    container: Option<StartedTarget>,
    logs: LogBuffer,
    readers: Vec<tokio::task::JoinHandle<()>>,
}

impl RunningTarget {
    /// Start the target and wait for readiness. A started process is written into `record`.
    pub(crate) async fn start(
        launch: &Launch,
        ready: Option<&ReadySpec>,
        http: &reqwest::Client,
        record: &RunRecord,
    ) -> Result<RunningTarget, TargetError> {
        let target = match launch {
            Launch::Url(url) => {
                let url = url.trim_end_matches('/').to_string();
                RunningTarget {
                    base_url: url.clone(),
                    network_url: url.clone(),
                    program: url,
                    port: None,
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
            } => spawn(program, args, env, cwd, *port, record).await?,
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
            port: None,
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
        let started = Instant::now();
        let deadline = started + ready.within;
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
                    waited: started.elapsed(),
                    last_error,
                    port: self.port,
                    // What it listens on now, at the deadline: a port opened late counts too.
                    listening: self.pgid.and_then(listening::listening),
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

async fn spawn(
    program: &str,
    args: &[String],
    env: &[(String, String)],
    cwd: &PathBuf,
    port: u16,
    record: &RunRecord,
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
        .env(RUN_ENV, record.run_id())
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    die_with_parent(command.as_std_mut());
    let mut child = Spawner::spawn(command)
        .await
        .map_err(|failure| match failure {
            SpawnFailure::Stopping => TargetError::Stopping {
                program: program.to_string(),
            },
            SpawnFailure::Io(source) => TargetError::Spawn {
                program: program.to_string(),
                source,
            },
        })?;
    let pgid = child.id().map(|id| id as i32);
    if let Some(pid) = child.id() {
        record.process(pid);
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
        port: Some(port),
        child: Some(child),
        pgid,
        container: None,
        logs,
        readers,
    })
}

/// Have the kernel SIGKILL the child `command` starts when the thread that forked it ends
/// (Linux; nothing elsewhere). For a target, that thread is the [`Spawner`]'s, which lives as long
/// as reenact, so the target dies with reenact, even with a SIGKILL no handler sees; a command
/// waited for on the thread that starts it (a target's `build`) is covered the same way. A child
/// whose parent is already gone when it gets there does not start.
pub(crate) fn die_with_parent(command: &mut std::process::Command) {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: getpid has no preconditions.
        let parent = unsafe { libc::getpid() };
        // SAFETY: the closure runs in the child between fork and exec and calls only prctl and
        // getppid, which are async-signal-safe, and allocates nothing.
        unsafe {
            command.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // reenact died before the request took effect: the signal will never come.
                if libc::getppid() != parent {
                    return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
                }
                Ok(())
            });
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = command;
}

/// Why a target process was not spawned.
enum SpawnFailure {
    /// reenact is stopping.
    Stopping,
    /// The operating system refused.
    Io(std::io::Error),
}

/// The one thread that forks every target process (see [`die_with_parent`]), for as long as the
/// process lives. A spawn goes through the registry of live process groups under its lock, so
/// that [`kill_all_targets`] either sees a target or prevents its start.
struct Spawner;

type SpawnJob = Box<dyn FnOnce() + Send>;

impl Spawner {
    /// Spawn `command` on the spawner thread, in the caller's tokio runtime (which reaps it).
    async fn spawn(mut command: Command) -> Result<Child, SpawnFailure> {
        static JOBS: std::sync::OnceLock<Mutex<std::sync::mpsc::Sender<SpawnJob>>> =
            std::sync::OnceLock::new();
        let jobs = JOBS.get_or_init(|| {
            let (sender, receiver) = std::sync::mpsc::channel::<SpawnJob>();
            let started = std::thread::Builder::new()
                .name("reenact-spawner".to_owned())
                .spawn(move || {
                    while let Ok(job) = receiver.recv() {
                        job();
                    }
                });
            if let Err(err) = started {
                tracing::warn!(error = %err, "failed to start the thread that spawns targets");
            }
            Mutex::new(sender)
        });
        let runtime = tokio::runtime::Handle::current();
        let (done, spawned) = tokio::sync::oneshot::channel();
        let job: SpawnJob = Box::new(move || {
            let _runtime = runtime.enter();
            let mut live = lock(&LIVE_GROUPS);
            let result = if live.stopping {
                Err(SpawnFailure::Stopping)
            } else {
                command.spawn().map_err(SpawnFailure::Io)
            };
            if let Ok(child) = &result
                && let Some(pid) = child.id()
            {
                live.groups.push(pid as i32);
            }
            drop(live);
            // A caller that went away (its run was cancelled) leaves a child nobody stops.
            if let Err(Ok(child)) = done.send(result)
                && let Some(pid) = child.id()
            {
                signal_group(pid as i32, libc::SIGKILL);
                unregister(pid as i32);
            }
        });
        let sent = lock(jobs).send(job);
        if sent.is_err() {
            return Err(SpawnFailure::Io(std::io::Error::other(
                "the thread that spawns targets is gone",
            )));
        }
        spawned.await.unwrap_or_else(|_| {
            Err(SpawnFailure::Io(std::io::Error::other(
                "the thread that spawns targets is gone",
            )))
        })
    }
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

/// Process groups of targets started and not yet stopped, and whether reenact is stopping.
struct LiveGroups {
    groups: Vec<i32>,
    stopping: bool,
}

static LIVE_GROUPS: Mutex<LiveGroups> = Mutex::new(LiveGroups {
    groups: Vec::new(),
    stopping: false,
});

fn unregister(pgid: i32) {
    lock(&LIVE_GROUPS).groups.retain(|g| *g != pgid);
}

/// Kill every target process group still running and refuse every later start (for the Ctrl-C
/// path, before exiting): a target being spawned right now is either killed here or never
/// starts.
pub(crate) fn kill_all_targets() {
    let mut live = lock(&LIVE_GROUPS);
    live.stopping = true;
    for pgid in live.groups.drain(..) {
        signal_group(pgid, libc::SIGKILL);
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
