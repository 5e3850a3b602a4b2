//! The labels reenact puts on every container, network and image it creates, the filters that
//! find them again, and who owns a labelled object (`Judge`). `reenact clean` removes only
//! objects carrying [`MANAGED`], and by default only those whose owner (the process named by
//! [`HOST`], [`BOOT`], [`PID`] and [`PID_START`]) is gone: the Docker engine may be shared with
//! other work and other runs, so nothing is ever found by name or by another tool's labels.

use std::collections::HashMap;

use crate::leftovers::{ProcessId, boot_id};

/// Present (`true`) on every object reenact creates.
pub const MANAGED: &str = "reenact.managed";
/// The run an object belongs to (containers and networks).
pub const RUN: &str = "reenact.run";
/// The process id of the reenact process that created the object.
pub const PID: &str = "reenact.pid";
/// When that process started, in clock ticks since boot: with it, a pid that was reused by
/// another process is not taken for the owner.
pub const PID_START: &str = "reenact.pid.start";
/// The host name of the machine that process ran on (a pid means nothing on another host).
pub const HOST: &str = "reenact.host";
/// The boot id of the machine that process ran on (a pid means nothing after a reboot either).
pub const BOOT: &str = "reenact.boot";
/// Unix time (seconds) when the object was created.
pub(crate) const STARTED: &str = "reenact.started";
/// The mock a container serves.
pub(crate) const MOCK: &str = "reenact.mock";
/// What the object is: `mock`, `target`, `network`, `mock-image` or `target-image`.
pub const KIND: &str = "reenact.kind";
/// On images: the content hash of what the image was built from (see
/// [`crate::backend::image`]).
pub const CONTENT: &str = "reenact.content";

/// The labels of one object of run `run`.
pub fn for_run(run: &str, kind: &str) -> HashMap<String, String> {
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let me = ProcessId::current();
    HashMap::from([
        (MANAGED.to_owned(), "true".to_owned()),
        (RUN.to_owned(), run.to_owned()),
        (PID.to_owned(), me.pid.to_string()),
        (PID_START.to_owned(), me.start.to_string()),
        (HOST.to_owned(), this_host()),
        (BOOT.to_owned(), boot_id().to_owned()),
        (STARTED.to_owned(), started.to_string()),
        (KIND.to_owned(), kind.to_owned()),
    ])
}

/// A Docker list filter selecting objects that carry `label=value`.
pub fn filter(label: &str, value: &str) -> HashMap<String, Vec<String>> {
    HashMap::from([("label".to_owned(), vec![format!("{label}={value}")])])
}

/// A Docker list filter selecting every object reenact created.
pub(crate) fn managed_filter() -> HashMap<String, Vec<String>> {
    filter(MANAGED, "true")
}

/// This machine's host name (`unknown` when it cannot be read).
pub fn this_host() -> String {
    let mut buffer = [0u8; 256];
    // SAFETY: gethostname writes at most `len` bytes into the buffer we own.
    let status = unsafe { libc::gethostname(buffer.as_mut_ptr().cast(), buffer.len()) };
    if status != 0 {
        return "unknown".to_owned();
    }
    let end = buffer.iter().position(|&b| b == 0).unwrap_or(buffer.len());
    String::from_utf8_lossy(&buffer[..end]).into_owned()
}

/// Who owns a labelled object, as far as this process can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
    /// This very process.
    This,
    /// Another reenact process of this machine and boot, still running.
    Live,
    /// A reenact process of this machine and boot that is gone: the object is a leftover.
    Dead,
    /// Cannot be told: not reenact's, made on another host or before a reboot, or by a reenact
    /// that did not label its pid.
    Unknown,
}

/// The machine and process that judge ownership: this one, or one a test makes up.
#[derive(Debug, Clone)]
pub(crate) struct Judge {
    /// Host name.
    pub(crate) host: String,
    /// Boot id.
    pub(crate) boot: String,
    /// The judging process.
    pub(crate) me: ProcessId,
}

impl Judge {
    /// This process, on this machine.
    pub(crate) fn here() -> Judge {
        Judge {
            host: this_host(),
            boot: boot_id().to_owned(),
            me: ProcessId::current(),
        }
    }

    /// Who owns an object with `labels`; `running(pid, start)` says whether the process with
    /// that pid (and start time, when labelled) runs. Objects of other hosts or boots, or
    /// without a pid, are never judged dead: the engine may be shared, and a pid means nothing
    /// there.
    pub(crate) fn owner(
        &self,
        labels: &HashMap<String, String>,
        running: impl Fn(u32, Option<u64>) -> bool,
    ) -> Owner {
        let managed = labels.get(MANAGED).is_some_and(|v| v == "true");
        let same_host = labels.get(HOST).is_some_and(|h| *h == self.host);
        // An object labelled before boot ids were: its boot cannot be told, only its pid.
        let same_boot = labels.get(BOOT).is_none_or(|b| *b == self.boot);
        let pid = labels.get(PID).and_then(|p| p.parse::<u32>().ok());
        let start = labels.get(PID_START).and_then(|s| s.parse::<u64>().ok());
        let (true, true, true, Some(pid)) = (managed, same_host, same_boot, pid) else {
            return Owner::Unknown;
        };
        if pid == self.me.pid && start.is_none_or(|start| start == self.me.start) {
            Owner::This
        } else if running(pid, start) {
            Owner::Live
        } else {
            Owner::Dead
        }
    }
}

/// Whether the process `pid` runs on this machine and, when `start` is given, started then.
pub(crate) fn process_running(pid: u32, start: Option<u64>) -> bool {
    match start {
        Some(start) => ProcessId { pid, start }.is_running(),
        None => ProcessId::of(pid).is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_are_judged_by_host_boot_pid_and_start_time() {
        let labels = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let judge = Judge {
            host: "me".into(),
            boot: "b1".into(),
            me: ProcessId {
                pid: 1000,
                start: 77,
            },
        };
        // pid 42 runs, started at tick 5.
        let running = |pid: u32, start: Option<u64>| pid == 42 && start.is_none_or(|s| s == 5);
        let m = (MANAGED, "true");
        let cases = [
            (&[m, (HOST, "me"), (PID, "7")][..], Owner::Dead),
            (
                &[m, (HOST, "me"), (BOOT, "b1"), (PID, "7"), (PID_START, "3")],
                Owner::Dead,
            ),
            (&[m, (HOST, "me"), (PID, "42")], Owner::Live),
            (
                &[m, (HOST, "me"), (BOOT, "b1"), (PID, "42"), (PID_START, "5")],
                Owner::Live,
            ),
            // pid 42 was reused: the owner started at another time.
            (
                &[m, (HOST, "me"), (BOOT, "b1"), (PID, "42"), (PID_START, "4")],
                Owner::Dead,
            ),
            (&[m, (HOST, "me"), (PID, "1000")], Owner::This),
            (
                &[
                    m,
                    (HOST, "me"),
                    (BOOT, "b1"),
                    (PID, "1000"),
                    (PID_START, "77"),
                ],
                Owner::This,
            ),
            // A process before this one had this pid.
            (
                &[
                    m,
                    (HOST, "me"),
                    (BOOT, "b1"),
                    (PID, "1000"),
                    (PID_START, "70"),
                ],
                Owner::Dead,
            ),
            (&[m, (HOST, "me"), (BOOT, "b0"), (PID, "7")], Owner::Unknown),
            (&[m, (HOST, "other"), (PID, "7")], Owner::Unknown),
            (&[m, (PID, "7")], Owner::Unknown),
            (&[m, (HOST, "me"), (PID, "x")], Owner::Unknown),
            (&[m, (HOST, "me")], Owner::Unknown),
            (
                &[(MANAGED, "false"), (HOST, "me"), (PID, "7")],
                Owner::Unknown,
            ),
            (&[(HOST, "me"), (PID, "7")], Owner::Unknown),
        ];
        for (pairs, expected) in cases {
            assert_eq!(judge.owner(&labels(pairs), running), expected, "{pairs:?}");
        }
    }

    #[test]
    fn this_process_owns_what_it_labels_and_a_reaped_child_runs_no_more() {
        let judge = Judge::here();
        let mine = for_run("run-1", "mock");
        assert_eq!(judge.owner(&mine, process_running), Owner::This);
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        let mut dead = mine.clone();
        dead.insert(PID.to_owned(), pid.to_string());
        assert_eq!(judge.owner(&dead, process_running), Owner::Dead);
        assert!(!this_host().is_empty());
    }
}
