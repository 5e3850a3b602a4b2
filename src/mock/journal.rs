//! The journal of a mock: every request it received, in order, bounded.
//!
//! [`Recorder`] keeps the entries; what it records ([`Journal`], [`JournalEntry`]) is part of the
//! observation and lives in [`crate::observe`]. When the bound is reached further requests are
//! not stored but counted in [`Journal::dropped`], so an observation always says how much it is
//! missing.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::observe::{Journal, JournalEntry};

/// The bounded, thread-safe recorder behind a mock's [`Journal`].
///
/// The lock is held only to number and store one entry (or count it as dropped), never while a
/// request is matched or answered.
#[derive(Debug)]
pub(crate) struct Recorder {
    limit: AtomicUsize,
    journal: Mutex<Journal>,
}

impl Recorder {
    /// An empty recorder keeping at most `limit` entries.
    pub(crate) fn new(limit: usize) -> Self {
        Recorder {
            limit: AtomicUsize::new(limit),
            journal: Mutex::new(Journal::default()),
        }
    }

    /// Record one request. `entry.seq` is ignored and replaced by the arrival number; returns
    /// that number.
    pub(crate) fn record(&self, mut entry: JournalEntry) -> u64 {
        let mut journal = self.lock();
        // Read under the lock so a concurrent `reset_with_limit` is seen whole.
        let limit = self.limit.load(Ordering::Relaxed);
        let seq = journal.entries.len() as u64 + journal.dropped + 1;
        if journal.entries.len() < limit {
            entry.seq = seq;
            journal.entries.push(entry);
        } else {
            journal.dropped += 1;
        }
        seq
    }

    /// Record one request whose entry is built only when the journal will keep it: past the
    /// bound a request is only counted, so the hot path under sustained load allocates nothing
    /// for it. Returns the arrival number.
    pub(crate) fn record_with(&self, build: impl FnOnce() -> JournalEntry) -> u64 {
        {
            let mut journal = self.lock();
            if journal.entries.len() >= self.limit.load(Ordering::Relaxed) {
                journal.dropped += 1;
                return journal.entries.len() as u64 + journal.dropped;
            }
        }
        // Built outside the lock; `record` re-checks the bound, so a race only means a drop.
        self.record(build())
    }

    /// A copy of what was recorded so far.
    pub(crate) fn snapshot(&self) -> Journal {
        self.lock().clone()
    }

    /// Forget every entry and the dropped count; arrival numbers start again at 1.
    pub(crate) fn clear(&self) {
        let mut journal = self.lock();
        journal.entries = Vec::new();
        journal.dropped = 0;
    }

    /// Clear and keep at most `limit` entries from now on.
    pub(crate) fn reset_with_limit(&self, limit: usize) {
        let mut journal = self.lock();
        self.limit.store(limit, Ordering::Relaxed);
        journal.entries = Vec::new();
        journal.dropped = 0;
    }

    fn lock(&self) -> MutexGuard<'_, Journal> {
        // A panic while holding the lock cannot leave a half-written entry behind (a push is
        // all-or-nothing), so a poisoned journal is still sound.
        self.journal.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str) -> JournalEntry {
        JournalEntry {
            seq: 0,
            at: "2026-10-31T23:00:00Z".to_owned(),
            method: "GET".to_owned(),
            path: path.to_owned(),
            query: String::new(),
            headers: Vec::new(),
            body: String::new(),
            matched: None,
            status: 404,
            rate_limited: None,
            fault: None,
        }
    }

    #[test]
    fn keeps_up_to_the_limit_then_counts_drops() {
        let recorder = Recorder::new(2);
        let seqs: Vec<u64> = ["/a", "/b", "/c", "/d"]
            .iter()
            .map(|p| recorder.record(entry(p)))
            .collect();
        assert_eq!(seqs, [1, 2, 3, 4]);
        let journal = recorder.snapshot();
        assert_eq!(journal.dropped, 2);
        let paths: Vec<&str> = journal.entries.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["/a", "/b"]);
        assert_eq!(journal.entries[1].seq, 2);
    }

    #[test]
    fn record_with_builds_only_entries_it_keeps() {
        let recorder = Recorder::new(1);
        let mut built = 0;
        let seqs: Vec<u64> = ["/a", "/b", "/c"]
            .iter()
            .map(|p| {
                recorder.record_with(|| {
                    built += 1;
                    entry(p)
                })
            })
            .collect();
        assert_eq!(seqs, [1, 2, 3]);
        assert_eq!(built, 1, "entries past the bound are counted, not built");
        let journal = recorder.snapshot();
        assert_eq!((journal.entries.len(), journal.dropped), (1, 2));
    }

    #[test]
    fn clear_restarts_numbering() {
        let recorder = Recorder::new(1);
        recorder.record(entry("/a"));
        recorder.record(entry("/b"));
        recorder.clear();
        assert_eq!(recorder.snapshot(), Journal::default());
        assert_eq!(recorder.record(entry("/c")), 1);
        recorder.reset_with_limit(0);
        recorder.record(entry("/d"));
        assert_eq!(recorder.snapshot().dropped, 1);
    }
}
