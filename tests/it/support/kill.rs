//! Kill trials: a `reenact run` interrupted at a chosen moment (while its mocks start, while its
//! target starts, mid-flow) with SIGINT, SIGTERM or SIGKILL, and everything a run can leave
//! behind looked for afterwards: target processes, containers, networks, listening ports, run
//! folders, run records, image lock files.
//!
//! The run is real: the `reenact` binary, an HTTPS mock (so the run has a folder holding its
//! CA), a mock whose one stub answers after a minute (the flow waits there), and the demo
//! target started through `sh`, which first leaves a `sleep` running in the target's process
//! group (a target that spawns something) and sleeps a second before it becomes the demo (a
//! target that takes time to start). Every process of the target carries a marker of the trial
//! in its environment, so it is found whatever its parent; Docker objects are found by the
//! `reenact.pid` label of the interrupted process. Each trial has a temp folder of its own as
//! `TMPDIR` (run folders, run records and lock files land there) and leaves nothing in it.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use reenact::backend::labels;
use testcontainers::bollard::Docker;
use testcontainers::bollard::query_parameters::{
    ListContainersOptionsBuilder, ListNetworksOptionsBuilder,
};

use super::demo;

/// Where the run's mocks and target are.
#[derive(Debug, Clone)]
pub enum Place {
    /// Mocks in process, the target a process.
    InProcess,
    /// Mocks in containers, the target a process.
    DockerProcess,
    /// Mocks and the target (this image of the demo) in containers.
    DockerContainer(String),
}

/// When the signal lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moment {
    /// A mock container exists, the target does not yet (Docker only: in process, mocks start
    /// in microseconds).
    MocksStarting,
    /// The target exists and is not ready yet.
    TargetStarting,
    /// The target is ready and the flow waits for the slow mock.
    MidFlow,
}

/// What removes a SIGKILLed run's leftovers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sweep {
    /// `reenact clean`.
    Clean,
    /// The start-up sweep of the next `reenact run` on the same backend.
    NextRun,
}

/// What a run left behind.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Leftovers {
    /// Processes of the target (pid, command name).
    pub processes: Vec<(u32, String)>,
    /// Containers (names).
    pub containers: Vec<String>,
    /// Networks (names).
    pub networks: Vec<String>,
    /// Ports the run listened on that something of the run still listens on.
    pub ports: Vec<u16>,
    /// Files and folders in the trial's temp folder.
    pub files: Vec<String>,
}

impl Leftovers {
    /// Whether nothing is left.
    pub fn is_empty(&self) -> bool {
        *self == Leftovers::default()
    }
}

/// Where the run writes its output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// stderr is read (and kept for the assertions), stdout discarded.
    Read,
    /// Both go to a pipe whose reader read one byte and closed it (`| head -c1`): every later
    /// write fails with EPIPE.
    ClosedPipe,
}

/// A run that was interrupted, and what to look for after it.
pub struct Interrupted {
    /// The reenact process's pid.
    pub pid: u32,
    /// How it exited.
    pub status: std::process::ExitStatus,
    /// What it printed on stderr.
    pub stderr: String,
    /// How long it took to exit after the signal.
    pub took: Duration,
    /// The target's process group leaders seen before the signal (none for a container target).
    pub leaders: Vec<u32>,
    place: Place,
    tmp: tempfile::TempDir,
    marker: String,
    ports: Vec<u16>,
}

/// Run the trial scenario at `place`, send `signal` at `moment`, and wait for reenact to exit.
pub async fn interrupt(
    place: Place,
    moment: Moment,
    signal: i32,
    output: Output,
    docker: Option<&Docker>,
) -> Interrupted {
    let tmp = tempfile::tempdir().expect("temp dir");
    let work = tmp.path().join("work");
    std::fs::create_dir(&work).expect("work folder");
    std::fs::write(work.join("kill-trial.yaml"), trial_scenario()).expect("scenario written");
    let marker = format!(
        "{}-{}",
        std::process::id(),
        tmp.path().file_name().unwrap().to_string_lossy()
    );
    let mut command = reenact(tmp.path());
    command
        .args(["run", "kill-trial.yaml", "-v"])
        .env("KILL_TRIAL", &marker);
    let closed = match output {
        Output::Read => {
            command.stdout(Stdio::null()).stderr(Stdio::piped());
            None
        }
        Output::ClosedPipe => {
            let (reader, writer) = std::io::pipe().expect("a pipe");
            command
                .stdout(writer.try_clone().expect("pipe cloned"))
                .stderr(writer);
            Some(reader)
        }
    };
    match &place {
        Place::InProcess => {
            command.args(["--backend", "inprocess"]);
        }
        Place::DockerProcess => {
            command.args(["--backend", "docker"]);
        }
        Place::DockerContainer(image) => {
            std::fs::write(
                work.join("reenact.toml"),
                format!(
                    "[targets.demo]\nimage = \"{image}\"\ncommand = [\"--release\", \"1.4.3\", \"--host\", \"0.0.0.0\", \"--port\", \"{{{{ target.port }}}}\"]\n"
                ),
            )
            .expect("project file written");
            command.args(["--backend", "docker", "--target", "demo"]);
        }
    }
    let mut child = command.spawn().expect("reenact starts");
    // The writing ends are the child's alone now: with the reader gone, its writes fail.
    drop(command);
    let pid = child.id().expect("a pid");
    if let Some(mut reader) = closed {
        tokio::task::spawn_blocking(move || {
            let mut byte = [0u8; 1];
            let _ = std::io::Read::read(&mut reader, &mut byte);
        })
        .await
        .expect("one byte read");
    }
    let stderr = child.stderr.take();
    let stderr = tokio::spawn(async move {
        let mut text = String::new();
        if let Some(mut stderr) = stderr {
            let _ = tokio::io::AsyncReadExt::read_to_string(&mut stderr, &mut text).await;
        }
        text
    });
    let mut leaders = Vec::new();
    let mut ports = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let targets = marked_processes(&marker);
        let kinds = match docker {
            Some(docker) => {
                let (kinds, published) = container_kinds(docker, pid).await;
                ports.extend(published);
                kinds
            }
            None => Vec::new(),
        };
        ports.extend(targets.iter().filter_map(|(pid, _)| target_port(*pid)));
        leaders.extend(
            targets
                .iter()
                .map(|(pid, _)| *pid)
                .filter(|pid| process_group(*pid) == Some(*pid)),
        );
        let demo_up = targets.iter().any(|(_, name)| name == "ledger-sync");
        let reached = match moment {
            Moment::MocksStarting => {
                kinds.iter().any(|k| k == "mock")
                    && targets.is_empty()
                    && !kinds.iter().any(|k| k == "target")
            }
            Moment::TargetStarting => match place {
                Place::DockerContainer(_) => kinds.iter().any(|k| k == "target") && !demo_up,
                _ => !targets.is_empty() && !demo_up,
            },
            Moment::MidFlow => demo_up,
        };
        if reached {
            break;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "reenact exited ({status}) before {moment:?}:\n{}",
                stderr.await.unwrap_or_default()
            );
        }
        assert!(
            Instant::now() < deadline,
            "{moment:?} never came; stderr so far is in the child"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    if moment == Moment::MidFlow {
        // The demo is up: let the probe pass and the flow reach the slow mock.
        tokio::time::sleep(Duration::from_millis(500)).await;
        if let Some(docker) = docker {
            ports.extend(container_kinds(docker, pid).await.1);
        }
    }
    // SAFETY: kill(2) on our own child's pid; no memory effects.
    unsafe {
        libc::kill(pid as i32, signal);
    }
    let sent = Instant::now();
    let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
        .await
        .unwrap_or_else(|_| {
            let _ = child.start_kill();
            panic!("reenact did not exit within 60 s of signal {signal} at {moment:?}")
        })
        .expect("reenact exits");
    let took = sent.elapsed();
    ports.sort_unstable();
    ports.dedup();
    leaders.sort_unstable();
    leaders.dedup();
    Interrupted {
        pid,
        status,
        stderr: stderr.await.unwrap_or_default(),
        took,
        leaders,
        place,
        tmp,
        marker,
        ports,
    }
}

impl Interrupted {
    /// What the run left, once the dust settled (a killed process takes a moment to go; up to
    /// three seconds are given for the count to reach zero).
    pub async fn leftovers(&self, docker: Option<&Docker>) -> Leftovers {
        let until = Instant::now() + Duration::from_secs(3);
        loop {
            let left = self.look(docker).await;
            if left.is_empty() || Instant::now() >= until {
                return left;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn look(&self, docker: Option<&Docker>) -> Leftovers {
        let processes = marked_processes(&self.marker);
        let (containers, networks) = match docker {
            Some(docker) => owned_objects(docker, self.pid).await,
            None => (Vec::new(), Vec::new()),
        };
        let owners: Vec<u32> = processes.iter().map(|(pid, _)| *pid).collect();
        let ports = self
            .ports
            .iter()
            .copied()
            .filter(|port| listened_on_by(*port, &owners))
            .collect();
        Leftovers {
            processes,
            containers,
            networks,
            ports,
            files: files_in(self.tmp.path()),
        }
    }

    /// The processes of the target still running (pid, command name).
    pub fn target_processes(&self) -> Vec<(u32, String)> {
        marked_processes(&self.marker)
    }

    /// Files and folders left in the trial's temp folder (run folders, run records, lock files).
    pub fn files(&self) -> Vec<String> {
        files_in(self.tmp.path())
    }

    /// Run what removes a dead run's leftovers: `reenact clean` or another run (whose start-up
    /// sweep does it), with the trial's temp folder. In process, `clean` is kept away from the
    /// Docker engine: it would sweep the dead runs of every test that runs on it.
    pub async fn sweep(&self, how: Sweep) -> std::process::Output {
        let work = self.tmp.path().join("work");
        let mut command = reenact(self.tmp.path());
        match how {
            Sweep::Clean => {
                command.arg("clean");
                if matches!(self.place, Place::InProcess) {
                    command.env("DOCKER_HOST", "unix:///nonexistent/docker.sock");
                }
            }
            Sweep::NextRun => {
                std::fs::write(work.join("quick.yaml"), QUICK).expect("scenario written");
                let backend = match self.place {
                    Place::InProcess => "inprocess",
                    _ => "docker",
                };
                command.args(["run", "quick.yaml", "--backend", backend]);
            }
        }
        command.output().await.expect("reenact runs")
    }
}

/// A `reenact` command in the trial's work folder, with its own temp folder and state folder.
fn reenact(tmp: &Path) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_reenact"));
    command
        .current_dir(tmp.join("work"))
        .env("TMPDIR", tmp)
        .env("NO_COLOR", "1")
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("RUST_LOG")
        .kill_on_drop(true);
    command
}

fn trial_scenario() -> String {
    format!(
        r#"id: kill-trial
title: a run to interrupt
mocks:
  vendor:
    tls: true
    stubs:
      - request: {{ method: GET, path: /ping }}
        response: {{ status: 200 }}
  erp:
    stubs:
      - request: {{ method: GET, path: /slow }}
        response: {{ status: 200, json: {{ ok: true }} }}
        faults:
          - action: {{ delay: 60s }}
target:
  command: [sh, -c, "sleep 600 & sleep 1; exec {demo} --release 1.4.3 --port {{{{ target.port }}}}"]
  env:
    KILL_TRIAL_TARGET: "{{{{ env.KILL_TRIAL }}}}"
  ready: {{ http: GET /healthz, within: 30s }}
flow:
  - name: a slow answer
    request: {{ mock: erp, method: GET, path: /slow }}
"#,
        demo = demo().display()
    )
}

/// A run with nothing to wait for: its start-up sweep is the point.
const QUICK: &str = r#"id: quick
title: a run that sweeps
mocks:
  m:
    stubs:
      - request: { method: GET, path: /x }
        response: { status: 200 }
target:
  url: http://127.0.0.1:9
flow:
  - request: { mock: m, method: GET, path: /x }
"#;

/// Running (not zombie) processes whose environment carries the trial's marker: (pid, name).
fn marked_processes(marker: &str) -> Vec<(u32, String)> {
    let needle = format!("KILL_TRIAL_TARGET={marker}");
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut found: Vec<(u32, String)> = entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let environ = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
            if !environ
                .split(|&b| b == 0)
                .any(|entry| entry == needle.as_bytes())
            {
                return None;
            }
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let (open, close) = (stat.find('(')?, stat.rfind(')')?);
            let state = stat[close + 1..].split_whitespace().next()?;
            (state != "Z").then(|| (pid, stat[open + 1..close].to_owned()))
        })
        .collect();
    found.sort();
    found
}

/// The process group of `pid`.
fn process_group(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat[stat.rfind(')')? + 1..]
        .split_whitespace()
        .nth(2)?
        .parse()
        .ok()
}

/// The port a target process was told to listen on (`--port N` in its command line).
fn target_port(pid: u32) -> Option<u16> {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let text = String::from_utf8_lossy(&cmdline).replace('\0', " ");
    let after = text.split("--port ").nth(1)?;
    after.split_whitespace().next()?.parse().ok()
}

/// Whether something of the run listens on TCP `port`: one of `owners` (the target's processes)
/// or Docker's proxy for a published port. A socket of an unrelated process that happens to get
/// the port later is not the run's.
fn listened_on_by(port: u16, owners: &[u32]) -> bool {
    let inodes = listening_inodes(port);
    if inodes.is_empty() {
        return false;
    }
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            owners.contains(pid)
                || std::fs::read_to_string(format!("/proc/{pid}/comm"))
                    .is_ok_and(|comm| comm.trim() == "docker-proxy")
        })
        .any(|pid| {
            let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
                return false;
            };
            fds.filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
                .any(|link| {
                    inodes
                        .iter()
                        .any(|inode| link == Path::new(&format!("socket:[{inode}]")))
                })
        })
}

/// The inodes of sockets listening on TCP `port` (IPv4 and IPv6).
fn listening_inodes(port: u16) -> Vec<String> {
    let mut inodes = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // local_address is ADDR:PORT in hex; state 0A is LISTEN; the inode is field 9.
            let listening = fields.get(3) == Some(&"0A");
            let on_port = fields
                .get(1)
                .and_then(|local| local.rsplit(':').next())
                .and_then(|hex| u16::from_str_radix(hex, 16).ok())
                == Some(port);
            if listening
                && on_port
                && let Some(inode) = fields.get(9)
            {
                inodes.push((*inode).to_owned());
            }
        }
    }
    inodes
}

/// What is in the trial's temp folder besides the work folder: a run folder, a run record, a
/// lock file would all be leftovers. (The state folder itself may stay, empty.)
fn files_in(tmp: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack: Vec<PathBuf> = vec![tmp.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let relative = path.strip_prefix(tmp).unwrap_or(&path).to_path_buf();
            let name = relative.to_string_lossy().into_owned();
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            if name == "work" {
                continue;
            }
            if is_dir && name.starts_with("reenact-runs-") {
                stack.push(path);
                continue;
            }
            found.push(name);
        }
    }
    found.sort();
    found
}

/// The `reenact.kind` of every container reenact process `pid` has, and their published ports.
async fn container_kinds(docker: &Docker, pid: u32) -> (Vec<String>, Vec<u16>) {
    let containers = docker
        .list_containers(Some(
            ListContainersOptionsBuilder::default()
                .all(true)
                .filters(&labels::filter(labels::PID, &pid.to_string()))
                .build(),
        ))
        .await
        .unwrap_or_default();
    let mut kinds = Vec::new();
    let mut ports = Vec::new();
    for container in containers {
        if let Some(kind) = container.labels.and_then(|l| l.get(labels::KIND).cloned()) {
            kinds.push(kind);
        }
        ports.extend(
            container
                .ports
                .unwrap_or_default()
                .into_iter()
                .filter_map(|p| p.public_port),
        );
    }
    (kinds, ports)
}

/// Names of the containers and networks labelled with reenact process `pid`.
async fn owned_objects(docker: &Docker, pid: u32) -> (Vec<String>, Vec<String>) {
    let filters = labels::filter(labels::PID, &pid.to_string());
    let containers = docker
        .list_containers(Some(
            ListContainersOptionsBuilder::default()
                .all(true)
                .filters(&filters)
                .build(),
        ))
        .await
        .expect("containers list")
        .into_iter()
        .filter_map(|c| c.names?.into_iter().next())
        .collect();
    let networks = docker
        .list_networks(Some(
            ListNetworksOptionsBuilder::default()
                .filters(&filters)
                .build(),
        ))
        .await
        .expect("networks list")
        .into_iter()
        .filter_map(|n| n.name)
        .collect();
    (containers, networks)
}

/// A graceful trial: interrupt with `signal` (SIGINT or SIGTERM) at `moment` and check that
/// reenact exits with 128 + `signal` within seconds, says it stopped everything, and leaves
/// nothing behind.
pub async fn graceful(place: Place, moment: Moment, signal: i32, docker: Option<&Docker>) {
    let what = format!("{place:?}, signal {signal} at {moment:?}");
    let trial = interrupt(place, moment, signal, Output::Read, docker).await;
    assert_eq!(
        trial.status.code(),
        Some(128 + signal),
        "{what}: {}",
        trial.stderr
    );
    assert!(
        trial
            .stderr
            .contains("stopped every target and mock it had started"),
        "{what}: {}",
        trial.stderr
    );
    let left = trial.leftovers(docker).await;
    assert!(left.is_empty(), "{what}: left {left:?}\n{}", trial.stderr);
    // The teardown's deadline is 15 s and the watchdog's 20 s: well under either.
    assert!(
        trial.took < Duration::from_secs(12),
        "{what}: took {:?} to exit",
        trial.took
    );
}

/// A SIGKILL trial: kill reenact at `moment`; a target process dies with it (its process group
/// leader at once, through the kernel); what it leaves is recorded, and `how` removes all of it.
pub async fn killed(place: Place, moment: Moment, how: Sweep, docker: Option<&Docker>) {
    let what = format!("{place:?}, SIGKILL at {moment:?}, then {how:?}");
    let process_target = !matches!(place, Place::DockerContainer(_));
    let trial = interrupt(place, moment, libc::SIGKILL, Output::Read, docker).await;
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&trial.status),
        Some(libc::SIGKILL),
        "{what}"
    );
    if process_target {
        assert!(
            !trial.leaders.is_empty(),
            "{what}: no target process was seen"
        );
        let until = Instant::now() + Duration::from_secs(3);
        let leaders_alive = || {
            let running = trial.target_processes();
            trial
                .leaders
                .iter()
                .filter(|leader| running.iter().any(|(pid, _)| pid == *leader))
                .count()
        };
        while leaders_alive() > 0 && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(
            leaders_alive(),
            0,
            "{what}: the target outlived reenact: {:?}",
            trial.target_processes()
        );
    }
    // The run's record is what the sweep goes by.
    assert!(
        trial.files().iter().any(|f| f.ends_with(".run")),
        "{what}: no run record left to sweep by: {:?}",
        trial.files()
    );
    let swept = trial.sweep(how).await;
    if how == Sweep::Clean {
        assert_eq!(
            swept.status.code(),
            Some(0),
            "{what}: {}",
            String::from_utf8_lossy(&swept.stderr)
        );
    }
    let left = trial.leftovers(docker).await;
    assert!(
        left.is_empty(),
        "{what}: left {left:?}\n{}",
        String::from_utf8_lossy(&swept.stderr)
    );
}
