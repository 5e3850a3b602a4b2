//! Ctrl-C and SIGTERM for the commands that run scenarios: on the first one, kill every target,
//! remove every container and network this process created and its run folders, say truthfully
//! what is left (if anything), and exit 130 / 143.
//!
//! All of it happens on a thread of its own, with a runtime of its own and its own Docker
//! connection: the runs' runtime may be busy or blocked (on a write to a full pipe, say), and
//! nothing there may delay the exit. Writes in this path never block it either: the thread logs
//! nothing, the last message is written by a helper thread given a second, errors ignored
//! (stderr may be a closed pipe), and a watchdog exits regardless when the teardown overruns
//! its deadline.

use std::io::Write;
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};

use super::error::{Outcome, Signal};
use crate::leftovers::{self, Scope};

/// How long the teardown may take before reenact reports what it could not remove.
const TEARDOWN_WITHIN: Duration = Duration::from_secs(15);

/// How much longer the watchdog waits before it exits without further ado.
const WATCHDOG_GRACE: Duration = Duration::from_secs(5);

/// How long the last message may take to write.
const MESSAGE_WITHIN: Duration = Duration::from_secs(1);

/// Set once a signal has started the teardown; the signal thread then exits the process.
pub(super) static INTERRUPTED: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// Listen for SIGINT and SIGTERM on a thread of their own; returns once both are registered (a
/// signal from then on is handled, never the default "die at once").
pub(super) fn install() {
    let (registered, wait) = std::sync::mpsc::channel::<Result<(), std::io::Error>>();
    let thread = std::thread::Builder::new()
        .name("reenact-signals".to_owned())
        .spawn(move || {
            // Log lines are written to stderr as they come, blocking on a pipe nobody reads:
            // none come from this thread, whose work must end in an exit.
            let _quiet =
                tracing::subscriber::set_default(tracing::subscriber::NoSubscriber::default());
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(err) => {
                    let _ = registered.send(Err(err));
                    return;
                }
            };
            runtime.block_on(async move {
                let (mut interrupt, mut terminate) = match (
                    signal(SignalKind::interrupt()),
                    signal(SignalKind::terminate()),
                ) {
                    (Ok(interrupt), Ok(terminate)) => (interrupt, terminate),
                    (Err(err), _) | (_, Err(err)) => {
                        let _ = registered.send(Err(err));
                        return;
                    }
                };
                let _ = registered.send(Ok(()));
                let stop = tokio::select! {
                    _ = interrupt.recv() => Signal::Interrupt,
                    _ = terminate.recv() => Signal::Terminate,
                };
                stop_everything(stop).await;
            });
        });
    let outcome = match thread {
        Ok(_) => wait
            .recv()
            .unwrap_or_else(|_| Err(std::io::Error::other("the signal thread ended"))),
        Err(err) => Err(err),
    };
    if let Err(err) = outcome {
        tracing::warn!(error = %err, "failed to listen for Ctrl-C and SIGTERM: they stop reenact at once, without cleaning up");
    }
}

/// Kill the targets, remove this process's containers, networks and run folders, report what
/// is left, exit.
async fn stop_everything(stop: Signal) -> ! {
    INTERRUPTED.store(true, std::sync::atomic::Ordering::SeqCst);
    let code = Outcome::Stopped(stop).exit_code();
    watchdog(code, TEARDOWN_WITHIN + WATCHDOG_GRACE);
    crate::target::kill_all_targets();
    let docker = crate::backend::docker::teardown_own(TEARDOWN_WITHIN).await;
    let local = leftovers::sweep(Scope::Own);
    let left: Vec<String> = docker.left.into_iter().chain(local.failed).collect();
    write_stderr_within(&stopped_message(stop, &left), MESSAGE_WITHIN);
    std::process::exit(code)
}

/// What reenact says as it exits on `stop`, with what it could not remove.
fn stopped_message(stop: Signal, left: &[String]) -> String {
    let what = match stop {
        Signal::Interrupt => "interrupted",
        Signal::Terminate => "terminated",
    };
    if left.is_empty() {
        format!("reenact: {what}; stopped every target and mock it had started\n")
    } else {
        format!(
            "reenact: {what}; stopped every target, but failed to remove: {}; `reenact clean` removes them\n",
            left.join(", ")
        )
    }
}

/// Exit with `code` after `after`, whatever the teardown is doing by then.
fn watchdog(code: i32, after: Duration) {
    let started = std::thread::Builder::new()
        .name("reenact-watchdog".to_owned())
        .spawn(move || {
            std::thread::sleep(after);
            // SAFETY: _exit ends the process at once; it runs no handlers and touches no locks,
            // which is the point: something in the teardown is stuck.
            unsafe { libc::_exit(code) }
        });
    if started.is_err() {
        tracing::debug!("failed to start the exit watchdog");
    }
}

/// Write `text` to stderr, giving up after `within`: stderr may be a pipe nobody reads any
/// more, full or closed, or held by a thread that is stuck writing.
fn write_stderr_within(text: &str, within: Duration) {
    let text = text.to_owned();
    let (done, wait) = std::sync::mpsc::channel();
    let writer = std::thread::Builder::new()
        .name("reenact-last-words".to_owned())
        .spawn(move || {
            let mut stderr = std::io::stderr().lock();
            let _ = stderr.write_all(text.as_bytes());
            let _ = stderr.flush();
            let _ = done.send(());
        });
    if writer.is_ok() {
        let _ = wait.recv_timeout(within);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_message_is_truthful_about_what_is_left() {
        assert_eq!(
            stopped_message(Signal::Interrupt, &[]),
            "reenact: interrupted; stopped every target and mock it had started\n"
        );
        assert_eq!(
            stopped_message(
                Signal::Terminate,
                &[
                    "network `reenact-1-2`".to_owned(),
                    "container `x`".to_owned()
                ]
            ),
            "reenact: terminated; stopped every target, but failed to remove: network `reenact-1-2`, container `x`; `reenact clean` removes them\n"
        );
    }
}
