//! Faults, [`Fault`]: which of a stub's requests fail ([`FaultSelector`]) and how
//! ([`FaultAction`], [`CommitThen`]); and a provider mock's route faults, [`RouteFault`].

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::ResponseSpec;

/// A mock-level fault: a stub fault that fires on the requests `when` selects among those the
/// provider answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteFault {
    /// Method, if given, compared case-insensitively.
    pub method: Option<String>,
    /// Exact path (no query string).
    pub path: String,
    /// Selector and action, as on a stub.
    pub fault: Fault,
}

/// A deliberate failure a stub injects instead of (or on top of) its normal answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    /// Optional name, shown in the journal entry of each request it fired on.
    pub name: Option<String>,
    /// Which requests it fires on.
    pub selector: FaultSelector,
    /// What the client sees.
    pub action: FaultAction,
}

/// Which of a stub's requests a fault fires on. Every condition present must hold; none present
/// means every request. `n` below is the 1-based count of requests the stub matched.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FaultSelector {
    /// `n` is one of these (empty: any).
    pub nth: Vec<u64>,
    /// `n <= times`: the first `times` requests.
    pub times: Option<u64>,
    /// `n` is a multiple of `every`.
    pub every: Option<u64>,
    /// The virtual clock has advanced at least this far since its start.
    pub after: Option<Duration>,
    /// Fires at random with this chance, from a PRNG seeded per fault.
    pub probability: Option<Probability>,
}

/// A seeded chance: the same seed gives the same faults on every run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Probability {
    /// Chance per request, `0.0 ..= 1.0`.
    pub chance: f64,
    /// PRNG seed (default 0).
    pub seed: u64,
}

/// Default number of garbage bytes sent by [`FaultAction::Garbage`].
pub const DEFAULT_GARBAGE_BYTES: u64 = 64;

/// Default chunk size of [`FaultAction::SlowBody`].
pub const DEFAULT_SLOW_CHUNK: u64 = 16;

/// Default pause between chunks of [`FaultAction::SlowBody`].
pub const DEFAULT_SLOW_EVERY: Duration = Duration::from_millis(100);

/// Longest a [`FaultAction::Timeout`] holds a connection.
pub const MAX_TIMEOUT_HOLD: Duration = Duration::from_secs(600);

/// What the client sees when a fault fires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum FaultAction {
    /// This response instead of the stub's; the stub takes no effect.
    Respond(ResponseSpec),
    /// The stub's response, sent this much (wall-clock) time late; the stub takes effect.
    Delay(Duration),
    /// The stub's response, sent late by a delay drawn per request; the stub takes effect.
    RandomDelay(RandomDelay),
    /// Nothing until the client gives up (at most [`MAX_TIMEOUT_HOLD`]); no effect.
    Timeout,
    /// A TCP reset (RST) before any byte; no effect.
    Reset,
    /// The connection closed (FIN) without a byte; no effect.
    Empty,
    /// The stub's headers with the full `content-length`, then `bytes` body bytes (default:
    /// half the body), then close; the stub takes effect.
    Truncated {
        /// Body bytes sent before the close.
        bytes: Option<u64>,
    },
    /// A `200` status line with `Transfer-Encoding: chunked`, then bytes that are not a chunk,
    /// then close (WireMock's `MALFORMED_RESPONSE_CHUNK`); no effect.
    MalformedChunk,
    /// `bytes` bytes that are not HTTP (from a seeded PRNG), then close; no effect.
    Garbage {
        /// How many bytes.
        bytes: u64,
    },
    /// The stub's response with its body sent `chunk` bytes at a time, `every` apart; the stub
    /// takes effect.
    SlowBody {
        /// Bytes per write.
        chunk: u64,
        /// Pause before each chunk.
        every: Duration,
    },
    /// The stub's response with its body cut into `chunks` equal writes (the last takes the
    /// remainder; fewer when the body is shorter), each after `over / chunks` (WireMock's
    /// `chunkedDribbleDelay`); the stub takes effect.
    Dribble {
        /// How many writes, at least 1.
        chunks: u64,
        /// The whole body's duration.
        over: Duration,
    },
    /// The stub takes effect (its sequence advances, its store writes and state transition apply,
    /// the journal records it as matched with the status it would have sent), then the client
    /// does not learn it.
    CommitThen(CommitThen),
}

/// A delay drawn per request: `fixed` plus a draw from `draw`, from a PRNG seeded with `seed` and
/// the stub's match count, so the same scenario delays the same requests alike on every run.
/// Draws are capped at [`MAX_TIMEOUT_HOLD`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RandomDelay {
    /// Added to every draw.
    pub fixed: Duration,
    /// The distribution.
    pub draw: DelayDraw,
    /// PRNG seed (default 0).
    pub seed: u64,
}

/// The distribution of a [`RandomDelay`] (WireMock's `delayDistribution`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DelayDraw {
    /// Uniform between `lower` and `upper`, both included.
    Uniform {
        /// Shortest draw.
        lower: Duration,
        /// Longest draw.
        upper: Duration,
    },
    /// Log-normal: `median × e^(σ·Z)` for a standard normal `Z`; a draw over `max` is drawn
    /// again (up to 10 times), then cut to `max`.
    LogNormal {
        /// The 50th percentile.
        median: Duration,
        /// σ of the underlying normal distribution, 0 … 10.
        sigma: f64,
        /// Longest draw, if any (at least `median`).
        max: Option<Duration>,
    },
}

/// What the client sees after a `commit_then` fault committed the stub's effect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum CommitThen {
    /// The stub's response, this much late.
    Delay(Duration),
    /// A TCP reset.
    Reset,
    /// This response instead.
    Respond(ResponseSpec),
}
