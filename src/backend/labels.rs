//! The labels reenact puts on every container, network and image it creates, and the filters
//! that find them again. `reenact clean` removes only objects carrying [`MANAGED`]: the Docker
//! engine may be shared with other work, so nothing is ever found by name or by another tool's
//! labels.

use std::collections::HashMap;

/// Present (`true`) on every object reenact creates.
pub const MANAGED: &str = "reenact.managed";
/// The run an object belongs to (containers and networks).
pub const RUN: &str = "reenact.run";
/// The process id of the reenact process that created the object.
pub const PID: &str = "reenact.pid";
/// The host name of the machine that process ran on (a pid means nothing on another host).
pub const HOST: &str = "reenact.host";
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
    HashMap::from([
        (MANAGED.to_owned(), "true".to_owned()),
        (RUN.to_owned(), run.to_owned()),
        (PID.to_owned(), std::process::id().to_string()),
        (HOST.to_owned(), this_host()),
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

/// Whether an object with `labels` was left by a reenact process that is gone: it is reenact's,
/// was made on `host` (this machine), by a pid other than `own_pid` that `alive` says is not
/// running. Objects of other hosts, of live processes, or without these labels are never
/// leftovers (the engine may be shared).
pub(crate) fn is_leftover(
    labels: &HashMap<String, String>,
    host: &str,
    own_pid: u32,
    alive: impl Fn(u32) -> bool,
) -> bool {
    let managed = labels.get(MANAGED).is_some_and(|v| v == "true");
    let same_host = labels.get(HOST).is_some_and(|h| h == host);
    let pid = labels.get(PID).and_then(|p| p.parse::<u32>().ok());
    managed && same_host && pid.is_some_and(|pid| pid != own_pid && !alive(pid))
}

/// Whether process `pid` exists on this machine (a process we may not signal exists too).
pub(crate) fn pid_alive(pid: u32) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_dead_pids_of_this_host_are_leftovers() {
        let labels = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let alive = |pid: u32| pid == 42;
        let cases = [
            (&[(MANAGED, "true"), (HOST, "me"), (PID, "7")][..], true),
            (&[(MANAGED, "true"), (HOST, "me"), (PID, "42")], false),
            (&[(MANAGED, "true"), (HOST, "other"), (PID, "7")], false),
            (&[(MANAGED, "true"), (PID, "7")], false),
            (&[(MANAGED, "true"), (HOST, "me"), (PID, "1000")], false),
            (&[(MANAGED, "true"), (HOST, "me"), (PID, "x")], false),
            (&[(MANAGED, "false"), (HOST, "me"), (PID, "7")], false),
            (&[(HOST, "me"), (PID, "7")], false),
        ];
        for (pairs, expected) in cases {
            assert_eq!(
                is_leftover(&labels(pairs), "me", 1000, alive),
                expected,
                "{pairs:?}"
            );
        }
    }

    #[test]
    fn this_process_is_alive_and_a_reaped_child_is_not() {
        assert!(pid_alive(std::process::id()));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(!pid_alive(pid));
        assert!(!this_host().is_empty());
    }
}
