//! What a killed run leaves behind on this machine, and how it is found again: its targets'
//! processes and its run folder would outlive a reenact process killed with SIGKILL, so every run
//! records them, and the next start-up sweep or `reenact clean` removes what dead runs recorded,
//! and nothing else. (Docker objects are found by their labels instead: `backend::labels`.)
//!
//! Every run keeps a [`RunRecord`]: one file in the [`state_dir`] naming its owner (the boot,
//! the pid and the time that pid started) and, as they appear, its run folder and each target
//! process it started (pid and start time). The record goes when the run ends. [`sweep`] reads
//! the records: one whose owner no longer runs belongs to a dead run, and its target process
//! groups are killed and its folders removed. A pid is only judged together with its start time
//! (`/proc/PID/stat`), so a recycled pid never makes a dead run look alive, nor a stranger's
//! process look like a target: a process is killed only when it is the recorded target itself
//! (same pid, same start time), or started after the run's owner and carrying the run's
//! [`RUN_ENV`] marker (its unique id) in its environment, in the target's process group or not:
//! a target forked in the instant before its owner was killed has no record yet, but what it
//! spawned carries the marker.
//!
//! Only Linux has `/proc`; elsewhere nothing can be verified, and the sweep removes folders of
//! dead runs but kills nothing.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The environment variable every target process gets: the id of its run. Inherited by what the
/// target spawns, it tells the sweep which members of a dead target's process group are the
/// run's.
pub(crate) const RUN_ENV: &str = "REENACT_RUN";

/// The prefix of every run folder's name (see `run::RunFolder`): the sweep removes nothing else.
pub(crate) const FOLDER_PREFIX: &str = "reenact-run-";

/// The first line of every record: the format and its version.
const HEADER: &str = "reenact-run-record 1";

/// A process, told apart from a later one that got the same pid by the time it started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ProcessId {
    /// The pid.
    pub(crate) pid: u32,
    /// When it started, in clock ticks since boot (`/proc/PID/stat`, field 22); 0 where unknown.
    pub(crate) start: u64,
}

impl ProcessId {
    /// This process.
    pub(crate) fn current() -> ProcessId {
        static CURRENT: OnceLock<ProcessId> = OnceLock::new();
        *CURRENT.get_or_init(|| {
            let pid = std::process::id();
            ProcessId {
                pid,
                start: proc_stat(pid).map_or(0, |stat| stat.start),
            }
        })
    }

    /// Process `pid` as it runs now, `None` when no process has that pid (or it is a zombie).
    pub(crate) fn of(pid: u32) -> Option<ProcessId> {
        match proc_stat(pid) {
            Some(stat) if stat.state != 'Z' => Some(ProcessId {
                pid,
                start: stat.start,
            }),
            Some(_) => None,
            None if cfg!(target_os = "linux") => None,
            // No /proc: existence is all that can be known.
            None => signal_zero(pid).then_some(ProcessId { pid, start: 0 }),
        }
    }

    /// Whether this very process still runs: its pid exists and started at the same time.
    pub(crate) fn is_running(&self) -> bool {
        ProcessId::of(self.pid).is_some_and(|now| now.start == self.start)
    }
}

/// Whether a process `pid` exists (one we may not signal exists too).
fn signal_zero(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 only checks for existence and permission; nothing is sent.
    let status = unsafe { libc::kill(pid, 0) };
    status == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// This machine's boot id: it changes at every boot, so pids recorded under another one mean
/// nothing now (`unknown` when it cannot be read).
pub(crate) fn boot_id() -> &'static str {
    static BOOT: OnceLock<String> = OnceLock::new();
    BOOT.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
            .map(|id| id.trim().to_owned())
            .ok()
            .filter(|id| !id.is_empty())
            .unwrap_or_else(|| "unknown".to_owned())
    })
}

/// What `/proc/PID/stat` says about a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ProcStat {
    state: char,
    pgrp: u32,
    start: u64,
}

fn proc_stat(pid: u32) -> Option<ProcStat> {
    parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// Read state, process group and start time from the text of `/proc/PID/stat` (the command
/// name, in parentheses, may hold spaces and parentheses itself).
fn parse_stat(stat: &str) -> Option<ProcStat> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(ProcStat {
        state: fields.first()?.chars().next()?,
        pgrp: fields.get(2)?.parse().ok()?,
        start: fields.get(19)?.parse().ok()?,
    })
}

/// Where run records live: `$XDG_RUNTIME_DIR/reenact`, else `reenact-runs-UID` in the temp
/// folder (`TMPDIR`). Private to the user: a folder that is not (not a folder, another owner,
/// open to others) is not used.
pub(crate) fn state_dir() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => dir.join("reenact"),
        _ => {
            // SAFETY: getuid has no preconditions and cannot fail.
            let uid = unsafe { libc::getuid() };
            std::env::temp_dir().join(format!("reenact-runs-{uid}"))
        }
    }
}

/// Folder `dir`, created private to the user when missing; an error when it exists but is not a
/// private folder of this user.
fn ensure_private(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(err) => return Err(err),
    }
    let meta = std::fs::symlink_metadata(dir)?;
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    if !meta.is_dir() || meta.uid() != uid || meta.mode() & 0o077 != 0 {
        return Err(std::io::Error::other(format!(
            "`{}` is not a folder private to this user",
            dir.display()
        )));
    }
    Ok(())
}

/// The record of one run: created when the run starts, removed when it ends (and when the value
/// is dropped, on every other path). Without a usable state folder the run goes on unrecorded,
/// with a warning: the registry only matters if the process is killed.
#[derive(Debug)]
pub(crate) struct RunRecord {
    run_id: String,
    file: Option<PathBuf>,
}

impl RunRecord {
    /// Start the record of run `run_id`, owned by this process, in the [`state_dir`].
    pub(crate) fn create(run_id: &str) -> RunRecord {
        RunRecord::create_in(&state_dir(), run_id)
    }

    /// Start the record of run `run_id` in folder `dir`.
    fn create_in(dir: &Path, run_id: &str) -> RunRecord {
        let owner = ProcessId::current();
        let header = format!(
            "{HEADER}\nowner {} {} {}\n",
            boot_id(),
            owner.pid,
            owner.start
        );
        let file = ensure_private(dir).and_then(|()| {
            let path = dir.join(format!("{run_id}.run"));
            std::fs::write(&path, header)?;
            Ok(path)
        });
        let file = match file {
            Ok(path) => Some(path),
            Err(err) => {
                tracing::warn!(error = %err, "failed to record the run: if reenact is killed, `reenact clean` will not find what it leaves");
                None
            }
        };
        RunRecord {
            run_id: run_id.to_owned(),
            file,
        }
    }

    /// The run's id (the value of [`RUN_ENV`] for its targets).
    pub(crate) fn run_id(&self) -> &str {
        &self.run_id
    }

    /// Record the run's folder.
    pub(crate) fn folder(&self, path: &Path) {
        self.append(&format!("folder {}\n", path.display()));
    }

    /// Record a target process the run started (the leader of its own process group).
    pub(crate) fn process(&self, pid: u32) {
        if let Some(process) = ProcessId::of(pid) {
            self.append(&format!("process {} {}\n", process.pid, process.start));
        }
    }

    fn append(&self, line: &str) {
        let Some(path) = &self.file else {
            return;
        };
        let written = std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .and_then(|mut file| file.write_all(line.as_bytes()));
        if let Err(err) = written {
            tracing::warn!(path = %path.display(), error = %err, "failed to update the run record");
        }
    }
}

impl Drop for RunRecord {
    fn drop(&mut self) {
        if let Some(path) = self.file.take()
            && let Err(err) = std::fs::remove_file(&path)
            && err.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %path.display(), error = %err, "failed to remove the run record");
        }
    }
}

/// A record as read back from its file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Record {
    run_id: String,
    boot: String,
    owner: ProcessId,
    folders: Vec<PathBuf>,
    processes: Vec<ProcessId>,
}

/// Parse a record file's text; `None` when it is not one (its header or owner line is missing
/// or malformed). Lines that do not parse are skipped.
fn parse_record(run_id: &str, text: &str) -> Option<Record> {
    let mut lines = text.lines();
    if lines.next()? != HEADER {
        return None;
    }
    let owner: Vec<&str> = lines.next()?.strip_prefix("owner ")?.split(' ').collect();
    let [boot, pid, start] = owner[..] else {
        return None;
    };
    let mut record = Record {
        run_id: run_id.to_owned(),
        boot: boot.to_owned(),
        owner: ProcessId {
            pid: pid.parse().ok()?,
            start: start.parse().ok()?,
        },
        folders: Vec::new(),
        processes: Vec::new(),
    };
    for line in lines {
        if let Some(path) = line.strip_prefix("folder ") {
            record.folders.push(PathBuf::from(path));
        } else if let Some(process) = line.strip_prefix("process ") {
            let mut parts = process.split(' ').map(str::parse::<u64>);
            if let (Some(Ok(pid)), Some(Ok(start))) = (parts.next(), parts.next())
                && let Ok(pid) = u32::try_from(pid)
            {
                record.processes.push(ProcessId { pid, start });
            }
        }
    }
    Some(record)
}

/// Which records a [`sweep`] handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// Records whose owner no longer runs (the start-up sweep, `reenact clean`).
    Dead,
    /// This process's own records (its Ctrl-C / SIGTERM path, before it exits).
    Own,
    /// Every record, live runs' too (`reenact clean --all`).
    All,
}

/// What a [`sweep`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SweepReport {
    /// Processes killed (target processes and what they spawned).
    pub(crate) processes: Vec<u32>,
    /// Run folders removed.
    pub(crate) folders: Vec<PathBuf>,
    /// What could not be removed, one line each.
    pub(crate) failed: Vec<String>,
    /// Records of runs that are still going, left alone.
    pub(crate) live_runs: usize,
}

/// Kill the target processes and remove the folders of the runs `scope` selects, and their
/// records, in the [`state_dir`]. Records of live runs (other than with [`Scope::All`]) are left
/// alone.
pub(crate) fn sweep(scope: Scope) -> SweepReport {
    sweep_in(&state_dir(), scope)
}

fn sweep_in(dir: &Path, scope: Scope) -> SweepReport {
    let mut report = SweepReport::default();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return report;
    };
    // A folder that is not private to this user is not ours to act on.
    if ensure_private(dir).is_err() {
        report.failed.push(format!(
            "`{}` is not a folder private to this user: its records were not read",
            dir.display()
        ));
        return report;
    }
    let me = ProcessId::current();
    let processes = ProcessTable::read();
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(run_id) = path
            .file_name()
            .and_then(|name| name.to_str())
            .and_then(|name| name.strip_suffix(".run"))
        else {
            continue;
        };
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let Some(record) = parse_record(run_id, &text) else {
            continue;
        };
        let same_boot = record.boot == boot_id();
        let own = same_boot && record.owner == me;
        let live = own || same_boot && record.owner.is_running();
        let selected = match scope {
            Scope::Own => own,
            Scope::Dead => !live,
            Scope::All => true,
        };
        if !selected {
            if live && !own {
                report.live_runs += 1;
            }
            continue;
        }
        // Pids of another boot name other processes now: those runs' processes died with it.
        if same_boot {
            let mut pids: Vec<u32> = record
                .processes
                .iter()
                .flat_map(|target| processes.of_target(&record.run_id, *target))
                .collect();
            // A target forked just before the owner died may have no record yet: what it
            // spawned still carries the run's marker.
            pids.extend(processes.marked(&record.run_id, record.owner.start));
            pids.sort_unstable();
            pids.dedup();
            for pid in pids {
                if kill(pid) {
                    report.processes.push(pid);
                }
            }
        }
        for folder in &record.folders {
            match remove_folder(folder) {
                Ok(true) => report.folders.push(folder.clone()),
                Ok(false) => {}
                Err(err) => report
                    .failed
                    .push(format!("folder `{}`: {err}", folder.display())),
            }
        }
        if let Err(err) = std::fs::remove_file(&path)
            && err.kind() != std::io::ErrorKind::NotFound
        {
            report
                .failed
                .push(format!("record `{}`: {err}", path.display()));
        }
    }
    report
}

/// Remove a run folder: only a real folder (not a symlink) named like one; `Ok(false)` when it
/// is already gone or not a run folder.
fn remove_folder(folder: &Path) -> std::io::Result<bool> {
    let named_like_one = folder
        .file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| name.starts_with(FOLDER_PREFIX));
    match std::fs::symlink_metadata(folder) {
        Ok(meta) if meta.is_dir() && named_like_one => {
            std::fs::remove_dir_all(folder)?;
            Ok(true)
        }
        Ok(_) => Ok(false),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(err) => Err(err),
    }
}

/// SIGKILL to `pid`; whether it was delivered.
fn kill(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: kill(2) has no memory effects; the pid was checked against its start time.
    unsafe { libc::kill(pid, libc::SIGKILL) == 0 }
}

/// The processes running now, by pid: their process group and start time.
struct ProcessTable {
    by_pid: BTreeMap<u32, ProcStat>,
}

impl ProcessTable {
    fn read() -> ProcessTable {
        let mut by_pid = BTreeMap::new();
        if let Ok(entries) = std::fs::read_dir("/proc") {
            for entry in entries.flatten() {
                let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
                    continue;
                };
                if let Some(stat) = proc_stat(pid).filter(|stat| stat.state != 'Z') {
                    by_pid.insert(pid, stat);
                }
            }
        }
        ProcessTable { by_pid }
    }

    /// The processes of target `target` of run `run_id` still running: the target itself (same
    /// pid and start time) and the members of its process group that started after it and carry
    /// the run's [`RUN_ENV`] marker.
    fn of_target(&self, run_id: &str, target: ProcessId) -> Vec<u32> {
        let marker = format!("{RUN_ENV}={run_id}");
        self.by_pid
            .iter()
            .filter(|(pid, stat)| {
                if **pid == target.pid {
                    return stat.start == target.start;
                }
                stat.pgrp == target.pid && stat.start >= target.start && environ_has(**pid, &marker)
            })
            .map(|(pid, _)| *pid)
            .collect()
    }
}

impl ProcessTable {
    /// The processes started since `since` (clock ticks since boot: the run's owner started
    /// then) whose environment carries run `run_id`'s [`RUN_ENV`] marker, whichever process
    /// group they are in.
    fn marked(&self, run_id: &str, since: u64) -> Vec<u32> {
        let marker = format!("{RUN_ENV}={run_id}");
        self.by_pid
            .iter()
            .filter(|(pid, stat)| stat.start >= since && environ_has(**pid, &marker))
            .map(|(pid, _)| *pid)
            .collect()
    }
}

/// Whether process `pid`'s environment holds the entry `marker` (`NAME=value`).
fn environ_has(pid: u32, marker: &str) -> bool {
    std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|environ| {
        environ
            .split(|&b| b == 0)
            .any(|entry| entry == marker.as_bytes())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_give_state_group_and_start_even_with_odd_names() {
        let stat = "4242 (a (weird) name) S 1 4240 4240 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10";
        assert_eq!(
            parse_stat(stat),
            Some(ProcStat {
                state: 'S',
                pgrp: 4240,
                start: 987_654
            })
        );
        assert_eq!(parse_stat("4242 (short) S 1"), None);
        assert_eq!(parse_stat("no parenthesis"), None);
    }

    #[test]
    fn this_process_runs_and_a_reaped_child_or_a_recycled_pid_does_not() {
        let me = ProcessId::current();
        assert!(me.is_running());
        assert!(me.start > 0, "start time read from /proc");
        // The same pid with another start time is another process.
        let recycled = ProcessId {
            pid: me.pid,
            start: me.start + 1,
        };
        assert!(!recycled.is_running());
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(ProcessId::of(pid).is_none());
        assert_ne!(boot_id(), "unknown");
    }

    #[test]
    fn records_read_back_and_bad_ones_are_not_records() {
        let text = format!(
            "{HEADER}\nowner b00t 42 1000\nfolder /tmp/reenact-run-x y\nprocess 43 1001\nprocess nonsense\nfuture 1 2\n"
        );
        assert_eq!(
            parse_record("42-1-1", &text),
            Some(Record {
                run_id: "42-1-1".into(),
                boot: "b00t".into(),
                owner: ProcessId {
                    pid: 42,
                    start: 1000
                },
                folders: vec![PathBuf::from("/tmp/reenact-run-x y")],
                processes: vec![ProcessId {
                    pid: 43,
                    start: 1001
                }],
            })
        );
        assert_eq!(parse_record("x", "something else\nowner b 1 2\n"), None);
        assert_eq!(parse_record("x", &format!("{HEADER}\nowner b 1\n")), None);
        assert_eq!(parse_record("x", &format!("{HEADER}\n")), None);
    }

    #[test]
    fn only_real_run_folders_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("reenact-run-abc");
        std::fs::create_dir(&run).unwrap();
        std::fs::write(run.join("ca.pem"), "PEM").unwrap();
        let other = dir.path().join("precious");
        std::fs::create_dir(&other).unwrap();
        let link = dir.path().join("reenact-run-link");
        std::os::unix::fs::symlink(&other, &link).unwrap();
        assert!(remove_folder(&run).unwrap());
        assert!(!run.exists());
        assert!(!remove_folder(&run).unwrap(), "already gone");
        assert!(!remove_folder(&other).unwrap());
        assert!(!remove_folder(&link).unwrap());
        assert!(other.exists() && link.exists());
    }

    /// A target as `target.rs` starts one: `sh` leading its own process group, with a child of
    /// its own (`sleep`), both carrying the run's marker.
    fn start_target_tree(run_id: &str) -> std::process::Child {
        use std::os::unix::process::CommandExt;
        let child = std::process::Command::new("sh")
            .args(["-c", "sleep 300 & wait"])
            .env(RUN_ENV, run_id)
            .process_group(0)
            .spawn()
            .unwrap();
        // Until `sleep` runs, the group has one member.
        for _ in 0..200 {
            if ProcessTable::read()
                .of_target(run_id, ProcessId::of(child.id()).unwrap())
                .len()
                == 2
            {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        child
    }

    #[test]
    fn a_dead_runs_targets_and_folder_go_and_a_live_runs_stay() {
        let state = tempfile::tempdir().unwrap();
        let dir = state.path().join("state");
        let tmp = tempfile::tempdir().unwrap();
        // A dead owner: a pid with a start time that is not its own.
        let mut gone = std::process::Command::new("true").spawn().unwrap();
        let dead_owner = gone.id();
        gone.wait().unwrap();
        // A live owner that is not this process.
        let mut live_owner = std::process::Command::new("sleep")
            .arg("300")
            .spawn()
            .unwrap();
        let live = ProcessId::of(live_owner.id()).unwrap();
        let mut target = start_target_tree("dead-run");
        let leader = ProcessId::of(target.id()).unwrap();
        let tree = ProcessTable::read().of_target("dead-run", leader);
        assert_eq!(tree.len(), 2, "sh and its sleep: {tree:?}");
        let folder = tmp.path().join("reenact-run-dead");
        std::fs::create_dir(&folder).unwrap();
        std::fs::write(folder.join("ca.pem"), "PEM").unwrap();
        let live_folder = tmp.path().join("reenact-run-live");
        std::fs::create_dir(&live_folder).unwrap();
        ensure_private(&dir).unwrap();
        std::fs::write(
            dir.join("dead-run.run"),
            format!(
                "{HEADER}\nowner {} {dead_owner} 1\nfolder {}\nprocess {} {}\n",
                boot_id(),
                folder.display(),
                leader.pid,
                leader.start
            ),
        )
        .unwrap();
        std::fs::write(
            dir.join("live-run.run"),
            format!(
                "{HEADER}\nowner {} {} {}\nfolder {}\n",
                boot_id(),
                live.pid,
                live.start,
                live_folder.display()
            ),
        )
        .unwrap();
        let report = sweep_in(&dir, Scope::Dead);
        target.wait().unwrap();
        let mut killed = report.processes.clone();
        killed.sort_unstable();
        assert_eq!(killed, tree);
        for pid in &tree {
            // SIGKILL is delivered at once, but the process may take a moment to go.
            let gone = (0..200).any(|_| {
                std::thread::sleep(std::time::Duration::from_millis(10));
                ProcessId::of(*pid).is_none()
            });
            assert!(gone, "process {pid} still runs");
        }
        assert_eq!(report.folders, std::slice::from_ref(&folder));
        assert!(!folder.exists());
        assert_eq!(report.live_runs, 1);
        assert!(report.failed.is_empty(), "{:?}", report.failed);
        assert!(!dir.join("dead-run.run").exists());
        assert!(dir.join("live-run.run").exists() && live_folder.exists());
        // `--all` takes the live run's too.
        let all = sweep_in(&dir, Scope::All);
        assert_eq!(all.folders, std::slice::from_ref(&live_folder));
        assert!(!dir.join("live-run.run").exists());
        live_owner.kill().unwrap();
        live_owner.wait().unwrap();
    }

    /// A target forked in the instant before its owner was killed has no `process` line: what
    /// carries the run's marker goes all the same, and a process with another run's marker stays.
    #[test]
    fn a_dead_runs_marked_processes_go_without_a_target_record() {
        let state = tempfile::tempdir().unwrap();
        let dir = state.path().join("state");
        let mut gone = std::process::Command::new("true").spawn().unwrap();
        let dead_owner = gone.id();
        gone.wait().unwrap();
        let mut unrecorded = start_target_tree("unrecorded-run");
        let mut other = start_target_tree("another-run");
        let leader = ProcessId::of(unrecorded.id()).unwrap();
        let tree = ProcessTable::read().of_target("unrecorded-run", leader);
        assert_eq!(tree.len(), 2, "sh and its sleep: {tree:?}");
        let other_tree =
            ProcessTable::read().of_target("another-run", ProcessId::of(other.id()).unwrap());
        ensure_private(&dir).unwrap();
        std::fs::write(
            dir.join("unrecorded-run.run"),
            format!("{HEADER}\nowner {} {dead_owner} 1\n", boot_id()),
        )
        .unwrap();
        let report = sweep_in(&dir, Scope::Dead);
        unrecorded.wait().unwrap();
        let mut killed = report.processes.clone();
        killed.sort_unstable();
        assert_eq!(killed, tree);
        assert!(other_tree.iter().all(|pid| ProcessId::of(*pid).is_some()));
        other.kill().unwrap();
        other.wait().unwrap();
        for pid in other_tree {
            // SAFETY: kill(2) has no memory effects; the sleep of the other tree is ours.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
        }
    }

    #[test]
    fn a_record_lives_as_long_as_its_value() {
        let state = tempfile::tempdir().unwrap();
        let dir = state.path().join("state");
        let record = RunRecord::create_in(&dir, "1-2-3");
        record.folder(Path::new("/tmp/reenact-run-q"));
        record.process(std::process::id());
        let text = std::fs::read_to_string(dir.join("1-2-3.run")).unwrap();
        let read = parse_record("1-2-3", &text).unwrap();
        assert_eq!(read.owner, ProcessId::current());
        assert_eq!(read.folders, [PathBuf::from("/tmp/reenact-run-q")]);
        assert_eq!(read.processes, [ProcessId::current()]);
        // Its own record is not a dead run's.
        assert_eq!(sweep_in(&dir, Scope::Dead), SweepReport::default());
        drop(record);
        assert!(!dir.join("1-2-3.run").exists());
    }

    #[test]
    fn a_state_folder_open_to_others_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let state = tempfile::tempdir().unwrap();
        let dir = state.path().join("state");
        ensure_private(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(ensure_private(&dir).is_err());
        let report = sweep_in(&dir, Scope::Dead);
        assert_eq!(report.failed.len(), 1, "{report:?}");
    }

    #[test]
    fn a_target_group_is_its_leader_and_marked_members_started_after_it() {
        let leader = ProcessId {
            pid: 100,
            start: 5000,
        };
        let stat = |pgrp, start| ProcStat {
            state: 'S',
            pgrp,
            start,
        };
        let table = ProcessTable {
            by_pid: BTreeMap::from([
                (100, stat(100, 5000)),
                // Members of the group: marked or not, started after the leader or before.
                (101, stat(100, 5001)),
                (102, stat(100, 4999)),
                // Another group.
                (103, stat(7, 6000)),
            ]),
        };
        // No process here carries the marker (these pids are not real), so only the leader is
        // the target's; a recycled leader pid is not.
        assert_eq!(table.of_target("run-1", leader), [100]);
        let recycled = ProcessId {
            pid: 100,
            start: 4000,
        };
        assert!(table.of_target("run-1", recycled).is_empty());
    }
}
