//! The virtual clock of a mock: a start instant plus an offset the runner advances.
//!
//! [`VirtualClock`] does not follow the wall clock: it stands still at its start (the scenario's
//! `clock.start`, or the moment the mock started) until the runner advances it, so journals and
//! time-dependent answers are the same on every run, and a 30-minute token expiry passes in one
//! control call.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::scenario::model::ClockSpec;
use crate::timestamp::format_rfc3339;

/// Why a clock could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ClockError {
    /// `clock.start` is not an RFC 3339 instant.
    #[error(
        "invalid clock start `{start}`: expected an RFC 3339 instant such as `2026-10-31T23:00:00Z`"
    )]
    InvalidStart {
        /// The text given.
        start: String,
        /// The parser's complaint.
        #[source]
        source: time::error::Parse,
    },
}

/// A thread-safe virtual clock: `now = start + offset`.
#[derive(Debug)]
pub(crate) struct VirtualClock {
    /// Only [`VirtualClock::restart`] changes it (a reused mock container between scenarios).
    start: Mutex<OffsetDateTime>,
    /// Offset in nanoseconds; an atomic so that reading the time on the request path never waits.
    offset_nanos: AtomicU64,
}

impl VirtualClock {
    /// A clock standing at `start`.
    pub(crate) fn new(start: OffsetDateTime) -> Self {
        VirtualClock {
            start: Mutex::new(start),
            offset_nanos: AtomicU64::new(0),
        }
    }

    /// A clock per the scenario's settings: at `spec.start`, or at the current wall-clock time.
    pub(crate) fn from_spec(spec: &ClockSpec) -> Result<Self, ClockError> {
        let start = match &spec.start {
            Some(text) => OffsetDateTime::parse(text, &Rfc3339).map_err(|source| {
                ClockError::InvalidStart {
                    start: text.clone(),
                    source,
                }
            })?,
            None => OffsetDateTime::now_utc(),
        };
        Ok(VirtualClock::new(start))
    }

    /// The instant the clock started at.
    pub(crate) fn start(&self) -> OffsetDateTime {
        *self.start.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Start over at `spec`'s start (or now), as a fresh clock would: what a reused mock
    /// container gets before its next scenario.
    pub(crate) fn restart(&self, spec: &ClockSpec) -> Result<(), ClockError> {
        let fresh = VirtualClock::from_spec(spec)?;
        *self.start.lock().unwrap_or_else(PoisonError::into_inner) = fresh.start();
        self.reset();
        Ok(())
    }

    /// How far the clock has been advanced since it started or was last reset.
    pub(crate) fn offset(&self) -> Duration {
        Duration::from_nanos(self.offset_nanos.load(Ordering::Acquire))
    }

    /// The current virtual time.
    pub(crate) fn now(&self) -> OffsetDateTime {
        let offset = self.offset();
        let start = self.start();
        time::Duration::try_from(offset)
            .ok()
            .and_then(|offset| start.checked_add(offset))
            .unwrap_or(start)
    }

    /// The current virtual time as RFC 3339 text.
    pub(crate) fn now_rfc3339(&self) -> String {
        format_rfc3339(self.now())
    }

    /// Move the clock forward by `by` (saturating at about 584 years).
    pub(crate) fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        // The closure never returns `None`, so the update cannot fail.
        let _ = self
            .offset_nanos
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |offset| {
                Some(offset.saturating_add(by))
            });
    }

    /// Put the clock back at its start.
    pub(crate) fn reset(&self) {
        self.offset_nanos.store(0, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_at_the_spec_instant_and_stands_still() {
        let spec = ClockSpec {
            start: Some("2026-10-31T23:00:00Z".to_owned()),
        };
        let clock = VirtualClock::from_spec(&spec).expect("valid start");
        assert_eq!(clock.now_rfc3339(), "2026-10-31T23:00:00Z");
        assert_eq!(clock.now_rfc3339(), "2026-10-31T23:00:00Z");
    }

    #[test]
    fn advance_and_reset() {
        let clock = VirtualClock::from_spec(&ClockSpec {
            start: Some("2026-10-31T23:00:00+00:00".to_owned()),
        })
        .expect("valid start");
        clock.advance(Duration::from_secs(30 * 60));
        clock.advance(Duration::from_millis(1500));
        assert_eq!(clock.now_rfc3339(), "2026-10-31T23:30:01.5Z");
        assert_eq!(clock.offset(), Duration::from_millis(30 * 60 * 1000 + 1500));
        clock.reset();
        assert_eq!(clock.now_rfc3339(), "2026-10-31T23:00:00Z");
    }

    #[test]
    fn invalid_start_is_an_error_naming_the_value() {
        let err = VirtualClock::from_spec(&ClockSpec {
            start: Some("yesterday".to_owned()),
        })
        .expect_err("invalid start");
        assert!(err.to_string().contains("`yesterday`"), "{err}");
    }

    #[test]
    fn huge_advances_saturate_instead_of_panicking() {
        let clock = VirtualClock::new(OffsetDateTime::UNIX_EPOCH);
        clock.advance(Duration::MAX);
        clock.advance(Duration::MAX);
        let _ = clock.now_rfc3339();
    }
}
