//! The progress bar of a suite on a terminal ([`Progress`]): done/total, failures so far and the
//! scenarios running, on stderr, with result lines printed above it.
//!
//! It is on only for human output with stderr on a terminal, outside CI (`CI` unset or
//! `false`) and with `TERM` not `dumb`; otherwise nothing is drawn and the lines print as they
//! always do. Its text goes through [`Output`] redaction like every other line.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::Output;

/// Most running scenarios the bar names; the others are counted (`+3`).
const MAX_RUNNING_SHOWN: usize = 3;

/// The progress of a suite: a bar on a terminal, or nothing.
pub(super) struct Progress {
    /// The bar, when it is on.
    bar: Option<ProgressBar>,
    total: usize,
    done: usize,
    failed: usize,
    /// Ids of the scenarios running, in start order (one entry per running job).
    running: Vec<String>,
}

/// Whether a progress bar belongs on this terminal: human output, stderr a terminal, not in CI.
pub(super) fn wanted(human: bool, out: &Output) -> bool {
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
    human && out.stderr_is_terminal() && !ci && !dumb
}

impl Progress {
    /// Progress over `total` jobs, drawn when `on`.
    pub(super) fn new(total: usize, on: bool) -> Progress {
        let bar = on.then(|| {
            let bar = ProgressBar::with_draw_target(
                Some(total as u64),
                ProgressDrawTarget::stderr_with_hz(10),
            );
            if let Ok(style) = ProgressStyle::with_template("{spinner} {bar:24} {wide_msg}") {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Progress {
            bar,
            total,
            done: 0,
            failed: 0,
            running: Vec::new(),
        }
    }

    /// A job of scenario `id` started.
    pub(super) fn started(&mut self, id: &str, out: &Output) {
        self.running.push(id.to_owned());
        self.redraw(out);
    }

    /// A job of scenario `id` finished; `failed` counts one more failed scenario.
    pub(super) fn finished(&mut self, id: &str, failed: bool, out: &Output) {
        if let Some(at) = self.running.iter().position(|r| r == id) {
            self.running.remove(at);
        }
        self.done += 1;
        if failed {
            self.failed += 1;
        }
        self.redraw(out);
    }

    /// Print with `print` (lines through `out`) above the bar.
    pub(super) fn above(&self, print: impl FnOnce()) {
        match &self.bar {
            Some(bar) => bar.suspend(print),
            None => print(),
        }
    }

    /// Whether a bar is drawn (lines a bar replaces are then left out).
    pub(super) fn is_drawn(&self) -> bool {
        self.bar.is_some()
    }

    /// Take the bar off the screen.
    pub(super) fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }

    fn redraw(&self, out: &Output) {
        if let Some(bar) = &self.bar {
            bar.set_position(self.done as u64);
            let running: Vec<&str> = self.running.iter().map(String::as_str).collect();
            bar.set_message(out.redacted(&message(self.done, self.total, self.failed, &running)));
        }
    }
}

/// The bar's text: `3/34 done, 1 failed · running: a, b, c +2`.
pub(super) fn message(done: usize, total: usize, failed: usize, running: &[&str]) -> String {
    let mut text = format!("{done}/{total} done");
    if failed > 0 {
        text.push_str(&format!(", {failed} failed"));
    }
    let mut names: Vec<&str> = Vec::new();
    for id in running {
        if !names.contains(id) {
            names.push(id);
        }
    }
    if !names.is_empty() {
        let shown = names.len().min(MAX_RUNNING_SHOWN);
        text.push_str(&format!(" · running: {}", names[..shown].join(", ")));
        if names.len() > shown {
            text.push_str(&format!(" +{}", names.len() - shown));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_counts_and_names_the_running_scenarios() {
        let cases: [(usize, usize, usize, &[&str], &str); 5] = [
            (0, 4, 0, &[], "0/4 done"),
            (1, 4, 0, &["a"], "1/4 done · running: a"),
            (2, 4, 1, &["a", "b"], "2/4 done, 1 failed · running: a, b"),
            // Two jobs of one scenario (validate) name it once.
            (2, 8, 0, &["a", "a", "b"], "2/8 done · running: a, b"),
            (
                3,
                34,
                2,
                &["a", "b", "c", "d", "e"],
                "3/34 done, 2 failed · running: a, b, c +2",
            ),
        ];
        for (done, total, failed, running, expected) in cases {
            assert_eq!(message(done, total, failed, running), expected);
        }
    }

    #[test]
    fn off_a_terminal_nothing_is_drawn_and_lines_print_at_once() {
        let mut progress = Progress::new(2, false);
        let out = Output::new(super::super::ColorChoice::Never);
        progress.started("a", &out);
        progress.finished("a", true, &out);
        assert!(progress.bar.is_none());
        assert_eq!((progress.done, progress.failed), (1, 1));
        let mut printed = false;
        progress.above(|| printed = true);
        assert!(printed);
        progress.finish();
    }
}
