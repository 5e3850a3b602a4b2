//! Kill trials in process (issue 11): a run interrupted with SIGINT or SIGTERM while its target
//! starts or mid-flow leaves no process, port, run folder or run record; one killed with SIGKILL
//! takes its target with it (the kernel kills the target's group leader) and leaves only what
//! the next start-up sweep or `reenact clean` removes; Ctrl-C stops a run whose output goes to a
//! closed pipe or to a pipe nobody reads. The same trials on Docker are in `docker.rs`
//! (`docker::kill_trial_*`). The harness is `support::kill`.

use std::time::{Duration, Instant};

use crate::support::kill::{self, Moment, Output, Place, Sweep};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_while_the_target_starts_leaves_nothing() {
    kill::graceful(Place::InProcess, Moment::TargetStarting, libc::SIGINT, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_flow_leaves_nothing() {
    kill::graceful(Place::InProcess, Moment::MidFlow, libc::SIGTERM, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_while_the_target_starts_the_next_run_sweeps_what_is_left() {
    kill::killed(
        Place::InProcess,
        Moment::TargetStarting,
        Sweep::NextRun,
        None,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_flow_clean_removes_what_is_left() {
    kill::killed(Place::InProcess, Moment::MidFlow, Sweep::Clean, None).await;
}

/// `reenact run … 2>&1 | head -c1`, then Ctrl-C: every write fails with EPIPE, the last message
/// and the log lines included, and the run still stops at once and cleans up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_with_output_to_a_closed_pipe_stops_the_run() {
    let trial = kill::interrupt(
        Place::InProcess,
        Moment::MidFlow,
        libc::SIGINT,
        Output::ClosedPipe,
        None,
    )
    .await;
    assert_eq!(trial.status.code(), Some(130));
    assert!(
        trial.took < Duration::from_secs(12),
        "took {:?} to exit",
        trial.took
    );
    let left = trial.leftovers(None).await;
    assert!(left.is_empty(), "left {left:?}");
}

/// Output to a pipe nobody reads: once its buffer is full every write blocks, log lines
/// included (`-vv` fills it fast). Ctrl-C must still stop reenact at once, not after the
/// watchdog's 20 seconds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_with_output_to_a_pipe_nobody_reads_stops_the_run() {
    use std::os::fd::AsRawFd;
    let tmp = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        tmp.path().join("chatty.yaml"),
        "id: chatty\ntitle: a run that logs a lot\nmocks:\n  m:\n    stubs:\n      - request: { method: GET, path: /x }\n        response: { status: 200 }\ntarget:\n  url: http://127.0.0.1:9\nflow:\n  - name: wait\n    poll:\n      request: { mock: m, method: GET, path: /x }\n      until: { status: 299 }\n      every: 1ms\n      within: 60s\n",
    )
    .expect("scenario written");
    let (reader, writer) = std::io::pipe().expect("a pipe");
    // Killed when the test fails half-way: it would block on its pipe forever.
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_reenact"));
    command.kill_on_drop(true);
    command
        .args(["run", "chatty.yaml", "-vv"])
        .current_dir(tmp.path())
        .env("TMPDIR", tmp.path())
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("RUST_LOG")
        .stdout(writer.try_clone().expect("pipe cloned"))
        .stderr(writer);
    let mut child = command.spawn().expect("reenact starts");
    drop(command);
    // Wait until the pipe is full: nearly 64 KiB queued, and no more coming (the next write
    // does not fit, and blocks).
    let full = Instant::now() + Duration::from_secs(30);
    let mut last = (0, Instant::now());
    loop {
        let mut queued: libc::c_int = 0;
        // SAFETY: FIONREAD writes the number of bytes queued into the int we own.
        unsafe { libc::ioctl(reader.as_raw_fd(), libc::FIONREAD, &mut queued) };
        if queued != last.0 {
            last = (queued, Instant::now());
        } else if queued >= 60_000 && last.1.elapsed() > Duration::from_millis(300) {
            break;
        }
        assert!(
            Instant::now() < full,
            "the pipe never filled ({queued} bytes)"
        );
        assert!(
            child.try_wait().expect("child state").is_none(),
            "reenact exited early"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pid = child.id().expect("a pid");
    // SAFETY: kill(2) on our own child's pid; no memory effects.
    unsafe {
        libc::kill(pid as i32, libc::SIGINT);
    }
    let sent = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("child state") {
            break status;
        }
        assert!(
            sent.elapsed() < Duration::from_secs(30),
            "reenact did not exit within 30 s of Ctrl-C"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let took = sent.elapsed();
    drop(reader);
    assert_eq!(status.code(), Some(130));
    assert!(took < Duration::from_secs(8), "took {took:?} to exit");
}
