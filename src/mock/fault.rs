//! Faults a stub injects, prepared for serving: `PreparedFault` decides whether it fires on a
//! request and says what the engine and the edge must do when it does.
//!
//! Selection is a pure function of the stub's 1-based match count, the virtual clock's offset and
//! the fault's seed, so the same scenario faults the same requests on every run, whatever the
//! thread interleaving. The PRNG is a splitmix64 of `seed` and the count: stateless, so it needs
//! no lock and a reset of the engine rewinds it for free.

use std::time::Duration;

use bytes::Bytes;

use crate::mock::engine::StubError;
use crate::scenario::model::{
    CommitThen, DelayDraw, Fault, FaultAction, FaultSelector, MAX_TIMEOUT_HOLD, RandomDelay,
    ResponseSpec,
};

/// What the edge does with a response beyond writing it, decided by a fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EdgeAction {
    /// Write the response after this wall-clock delay.
    Delay(Duration),
    /// Write nothing; hold the connection until the client goes away, the mock shuts down or
    /// [`crate::scenario::model::MAX_TIMEOUT_HOLD`] passes, then close it.
    Timeout,
    /// Close with a TCP reset (RST) before any byte of the response.
    Reset,
    /// Close (FIN) before any byte of the response.
    Empty,
    /// Write these bytes instead of the response, then close.
    Garbage(Bytes),
    /// Write the head of the response and this many body bytes, then close.
    Truncated {
        /// Body bytes written.
        body_bytes: usize,
    },
    /// Write the head, then the body `chunk` bytes at a time, `every` apart; with `pauses`, only
    /// that many chunks are paced, and the last of them takes the rest of the body.
    SlowBody {
        /// Bytes per write.
        chunk: usize,
        /// Pause before each chunk.
        every: Duration,
        /// How many chunks in all (`None`: as many as the body needs).
        pauses: Option<usize>,
    },
}

/// A fault ready to serve: its selector, its action with responses prepared, its description.
#[derive(Debug)]
pub(crate) struct PreparedFault<R> {
    /// Shown in the journal: the name and the action, e.g. `lost create (commit_then reset)`.
    pub description: String,
    selector: FaultSelector,
    /// What to do.
    pub action: PreparedAction<R>,
}

/// A [`FaultAction`] with its responses prepared as `R`.
#[derive(Debug)]
pub(crate) enum PreparedAction<R> {
    /// Answer this instead; the stub takes no effect.
    Respond(R),
    /// The stub takes effect; the edge does this with its response.
    Effect(EdgeAction),
    /// The stub takes effect, then its response is cut to this many body bytes (`None`: half).
    Truncated(Option<u64>),
    /// The stub takes no effect; the edge does this.
    NoEffect(EdgeAction),
    /// The stub takes effect; the client gets this response instead.
    CommitRespond(R),
    /// The stub takes effect; its response is sent this late, drawn per request.
    RandomDelay(RandomDelay),
    /// The stub takes effect; its body is dribbled in this many writes over this long.
    Dribble {
        /// Writes.
        chunks: u64,
        /// The whole body's duration.
        over: Duration,
    },
}

impl<R> PreparedFault<R> {
    /// Prepare `fault`, turning its responses into `R` with `prepare`.
    pub(crate) fn new(
        fault: &Fault,
        prepare: impl Fn(&ResponseSpec) -> Result<R, StubError>,
    ) -> Result<Self, StubError> {
        let action = match &fault.action {
            FaultAction::Respond(spec) => PreparedAction::Respond(prepare(spec)?),
            FaultAction::Delay(by) => PreparedAction::Effect(EdgeAction::Delay(*by)),
            FaultAction::Timeout => PreparedAction::NoEffect(EdgeAction::Timeout),
            FaultAction::Reset => PreparedAction::NoEffect(EdgeAction::Reset),
            FaultAction::Empty => PreparedAction::NoEffect(EdgeAction::Empty),
            FaultAction::MalformedChunk => {
                let seed = fault.selector.probability.map_or(0, |p| p.seed);
                PreparedAction::NoEffect(EdgeAction::Garbage(malformed_chunk(seed)))
            }
            FaultAction::Truncated { bytes } => PreparedAction::Truncated(*bytes),
            FaultAction::Garbage { bytes } => {
                let seed = fault.selector.probability.map_or(0, |p| p.seed);
                PreparedAction::NoEffect(EdgeAction::Garbage(garbage(*bytes, seed)))
            }
            FaultAction::SlowBody { chunk, every } => {
                PreparedAction::Effect(EdgeAction::SlowBody {
                    chunk: usize::try_from(*chunk).unwrap_or(usize::MAX).max(1),
                    every: *every,
                    pauses: None,
                })
            }
            FaultAction::RandomDelay(delay) => PreparedAction::RandomDelay(delay.clone()),
            FaultAction::Dribble { chunks, over } => PreparedAction::Dribble {
                chunks: (*chunks).max(1),
                over: *over,
            },
            FaultAction::CommitThen(CommitThen::Delay(by)) => {
                PreparedAction::Effect(EdgeAction::Delay(*by))
            }
            FaultAction::CommitThen(CommitThen::Reset) => PreparedAction::Effect(EdgeAction::Reset),
            FaultAction::CommitThen(CommitThen::Respond(spec)) => {
                PreparedAction::CommitRespond(prepare(spec)?)
            }
        };
        if let Some(p) = fault.selector.probability
            && !(0.0..=1.0).contains(&p.chance)
        {
            return Err(StubError::Probability(p.chance));
        }
        if fault.selector.nth.contains(&0)
            || fault.selector.times == Some(0)
            || fault.selector.every == Some(0)
        {
            return Err(StubError::SelectorFromZero);
        }
        let what = describe(&fault.action);
        Ok(PreparedFault {
            description: match &fault.name {
                Some(name) => format!("{name} ({what})"),
                None => what,
            },
            selector: fault.selector.clone(),
            action,
        })
    }

    /// Whether the fault fires on the stub's `n`th match (1-based) at clock offset `elapsed`.
    pub(crate) fn fires(&self, n: u64, elapsed: Duration) -> bool {
        let s = &self.selector;
        (s.nth.is_empty() || s.nth.contains(&n))
            && s.times.is_none_or(|times| n <= times)
            && s.every.is_none_or(|every| n.is_multiple_of(every))
            && s.after.is_none_or(|after| elapsed >= after)
            && s.probability
                .is_none_or(|p| unit_interval(p.seed, n) < p.chance)
    }
}

/// The action as the journal shows it: `reset`, `delay 3s`, `commit_then respond 502`.
fn describe(action: &FaultAction) -> String {
    let text = crate::scenario::duration::format;
    match action {
        FaultAction::Respond(spec) => format!("respond {}", spec.status),
        FaultAction::Delay(by) => format!("delay {}", text(*by)),
        FaultAction::Timeout => "timeout".to_owned(),
        FaultAction::Reset => "reset".to_owned(),
        FaultAction::Empty => "empty".to_owned(),
        FaultAction::MalformedChunk => "malformed_chunk".to_owned(),
        FaultAction::Truncated { bytes: Some(n) } => format!("truncated after {n} body bytes"),
        FaultAction::Truncated { bytes: None } => "truncated after half the body".to_owned(),
        FaultAction::Garbage { bytes } => format!("garbage {bytes} bytes"),
        FaultAction::SlowBody { chunk, every } => {
            format!("slow_body {chunk} bytes every {}", text(*every))
        }
        FaultAction::RandomDelay(delay) => {
            let fixed = if delay.fixed.is_zero() {
                String::new()
            } else {
                format!("{} + ", text(delay.fixed))
            };
            match &delay.draw {
                DelayDraw::Uniform { lower, upper } => {
                    format!("delay {fixed}uniform {} to {}", text(*lower), text(*upper))
                }
                DelayDraw::LogNormal { median, sigma, .. } => {
                    format!(
                        "delay {fixed}lognormal median {} sigma {sigma}",
                        text(*median)
                    )
                }
            }
        }
        FaultAction::Dribble { chunks, over } => {
            format!("slow_body {chunks} chunks over {}", text(*over))
        }
        FaultAction::CommitThen(CommitThen::Delay(by)) => {
            format!("commit_then delay {}", text(*by))
        }
        FaultAction::CommitThen(CommitThen::Reset) => "commit_then reset".to_owned(),
        FaultAction::CommitThen(CommitThen::Respond(spec)) => {
            format!("commit_then respond {}", spec.status)
        }
    }
}

/// The delay `delay` draws for the stub's `n`th request: the same on every run.
pub(crate) fn draw_delay(delay: &RandomDelay, n: u64) -> Duration {
    let drawn = match &delay.draw {
        DelayDraw::Uniform { lower, upper } => {
            let span = upper.saturating_sub(*lower).as_secs_f64();
            *lower + Duration::from_secs_f64(span * unit_interval(delay.seed, n))
        }
        DelayDraw::LogNormal { median, sigma, max } => {
            // As WireMock's `LogNormal`: a draw over `max` is drawn again, up to 10 times, then
            // cut to `max`. Each attempt has its own stream of the seed.
            let mut attempt = 0;
            loop {
                let z = standard_normal(delay.seed ^ splitmix64(attempt), n);
                let seconds = median.as_secs_f64() * (z * sigma).exp();
                let drawn = Duration::try_from_secs_f64(seconds).unwrap_or(MAX_TIMEOUT_HOLD);
                match max {
                    Some(max) if drawn > *max && attempt < 10 => attempt += 1,
                    Some(max) => break drawn.min(*max),
                    None => break drawn,
                }
            }
        }
    };
    (delay.fixed + drawn.min(MAX_TIMEOUT_HOLD)).min(MAX_TIMEOUT_HOLD)
}

/// A standard normal draw for the `n`th request under `seed` (Box–Muller over two uniform
/// draws of independent streams).
fn standard_normal(seed: u64, n: u64) -> f64 {
    let u1 = 1.0 - unit_interval(seed, n); // in (0, 1]: its logarithm is finite
    let u2 = unit_interval(splitmix64(seed ^ 0x5DEE_CE66_D1CE_4E5B), n);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// How a dribble of `chunks` writes over `over` paces a body of `len` bytes, as WireMock's
/// `BodyChunker`: at most one write per byte, `len / chunks` bytes per write with the remainder
/// in the last, and `over / chunks` before each write. `None` for an empty body, which WireMock
/// sends at once.
pub(crate) fn dribble(chunks: u64, over: Duration, len: usize) -> Option<EdgeAction> {
    let chunks = usize::try_from(chunks)
        .unwrap_or(usize::MAX)
        .clamp(1, len.max(1));
    (len > 0).then(|| EdgeAction::SlowBody {
        chunk: len / chunks,
        every: over / u32::try_from(chunks).unwrap_or(u32::MAX),
        pauses: Some(chunks),
    })
}

/// splitmix64's output function: a well-mixed 64-bit value from any input.
fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A uniform draw in `[0, 1)` for the `n`th request under `seed`.
fn unit_interval(seed: u64, n: u64) -> f64 {
    let mixed = splitmix64(splitmix64(seed) ^ n);
    // The top 53 bits fill an f64 mantissa exactly.
    (mixed >> 11) as f64 / (1u64 << 53) as f64
}

/// `len` seeded bytes that no HTTP client reads as a status line (the first is never `H`).
/// A `200` head announcing a chunked body, then `z` and 64 seeded bytes: a chunk starts with its
/// size in hex digits, so no client can read it.
fn malformed_chunk(seed: u64) -> Bytes {
    let mut bytes = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nz".to_vec();
    bytes.extend_from_slice(&garbage(64, seed));
    Bytes::from(bytes)
}

fn garbage(len: u64, seed: u64) -> Bytes {
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    let mut out = Vec::with_capacity(len);
    let mut state = seed;
    while out.len() < len {
        state = state.wrapping_add(1);
        out.extend_from_slice(&splitmix64(state).to_le_bytes());
    }
    out.truncate(len);
    if out.first() == Some(&b'H') {
        out[0] = b'\x00';
    }
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::model::Probability;

    fn fault(selector: FaultSelector) -> PreparedFault<()> {
        let fault = Fault {
            name: None,
            selector,
            action: FaultAction::Reset,
        };
        PreparedFault::new(&fault, |_| Ok(())).expect("valid fault")
    }

    fn fired(fault: &PreparedFault<()>, elapsed: Duration) -> Vec<u64> {
        (1..=12).filter(|&n| fault.fires(n, elapsed)).collect()
    }

    #[test]
    fn selectors_all_must_hold() {
        let zero = Duration::ZERO;
        let table: &[(FaultSelector, Vec<u64>)] = &[
            (FaultSelector::default(), (1..=12).collect()),
            (
                FaultSelector {
                    nth: vec![2, 5],
                    ..FaultSelector::default()
                },
                vec![2, 5],
            ),
            (
                FaultSelector {
                    times: Some(3),
                    ..FaultSelector::default()
                },
                vec![1, 2, 3],
            ),
            (
                FaultSelector {
                    every: Some(4),
                    ..FaultSelector::default()
                },
                vec![4, 8, 12],
            ),
            (
                FaultSelector {
                    every: Some(2),
                    times: Some(5),
                    ..FaultSelector::default()
                },
                vec![2, 4],
            ),
        ];
        for (selector, expected) in table {
            assert_eq!(
                &fired(&fault(selector.clone()), zero),
                expected,
                "{selector:?}"
            );
        }
    }

    #[test]
    fn after_follows_the_clock_offset() {
        let late = fault(FaultSelector {
            after: Some(Duration::from_secs(600)),
            ..FaultSelector::default()
        });
        assert!(!late.fires(1, Duration::from_secs(599)));
        assert!(late.fires(1, Duration::from_secs(600)));
    }

    #[test]
    fn probability_is_seeded_and_roughly_fair() {
        let with = |chance, seed| {
            fault(FaultSelector {
                probability: Some(Probability { chance, seed }),
                ..FaultSelector::default()
            })
        };
        let draws =
            |f: &PreparedFault<()>| (1..=1000).filter(|&n| f.fires(n, Duration::ZERO)).count();
        let a = with(0.3, 7);
        assert_eq!(
            fired(&a, Duration::ZERO),
            fired(&with(0.3, 7), Duration::ZERO)
        );
        assert_ne!(
            fired(&a, Duration::ZERO),
            fired(&with(0.3, 8), Duration::ZERO)
        );
        assert!((250..350).contains(&draws(&a)), "{}", draws(&a));
        assert_eq!(draws(&with(0.0, 1)), 0);
        assert_eq!(draws(&with(1.0, 1)), 1000);
    }

    #[test]
    fn a_malformed_chunk_follows_a_chunked_200_head() {
        let bytes = malformed_chunk(7);
        let head = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n";
        assert!(bytes.starts_with(head));
        // A chunk starts with its size in hex digits: this one cannot be read.
        assert!(!bytes[head.len()].is_ascii_hexdigit());
        assert_eq!(bytes.len(), head.len() + 1 + 64);
        assert_eq!(malformed_chunk(7), bytes, "seeded");
    }

    #[test]
    fn garbage_is_seeded_and_never_a_status_line() {
        assert_eq!(garbage(64, 3), garbage(64, 3));
        assert_ne!(garbage(64, 3), garbage(64, 4));
        assert_eq!(garbage(5, 0).len(), 5);
        for seed in 0..200 {
            assert_ne!(garbage(1, seed)[0], b'H');
        }
    }

    /// The control API answers a refused fault with this text: it is pinned here.
    #[test]
    fn faults_that_cannot_be_prepared_say_why() {
        let cases = [
            (
                FaultSelector {
                    probability: Some(Probability {
                        chance: 1.5,
                        seed: 0,
                    }),
                    ..FaultSelector::default()
                },
                "probability `1.5` is not between 0 and 1",
            ),
            (
                FaultSelector {
                    nth: vec![0],
                    ..FaultSelector::default()
                },
                "fault selectors count requests from 1",
            ),
        ];
        for (selector, expected) in cases {
            let fault = Fault {
                name: None,
                selector,
                action: FaultAction::Reset,
            };
            let err = PreparedFault::new(&fault, |_| Ok(())).unwrap_err();
            assert_eq!(err.to_string(), expected);
        }
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_uniform_delay_stays_in_its_bounds_and_is_the_same_on_every_run() {
        let delay = |seed| RandomDelay {
            fixed: ms(50),
            draw: DelayDraw::Uniform {
                lower: ms(100),
                upper: ms(300),
            },
            seed,
        };
        let draws: Vec<Duration> = (1..=2000).map(|n| draw_delay(&delay(7), n)).collect();
        assert!(draws.iter().all(|d| (ms(150)..=ms(350)).contains(d)));
        // Spread over the range, not stuck at one end.
        assert!(draws.iter().any(|d| *d < ms(170)) && draws.iter().any(|d| *d > ms(330)));
        let again: Vec<Duration> = (1..=2000).map(|n| draw_delay(&delay(7), n)).collect();
        assert_eq!(draws, again, "seeded by the seed and n");
        let other: Vec<Duration> = (1..=2000).map(|n| draw_delay(&delay(8), n)).collect();
        assert_ne!(draws, other, "another seed draws otherwise");
    }

    #[test]
    fn a_lognormal_delay_has_its_median_and_respects_max() {
        let delay = |max| RandomDelay {
            fixed: Duration::ZERO,
            draw: DelayDraw::LogNormal {
                median: ms(100),
                sigma: 0.5,
                max,
            },
            seed: 3,
        };
        let mut draws: Vec<Duration> = (1..=4001).map(|n| draw_delay(&delay(None), n)).collect();
        draws.sort();
        let median = draws[2000];
        assert!((ms(90)..=ms(110)).contains(&median), "median {median:?}");
        // e^(0.5 × 1.645) ≈ 2.28: about 5% of draws lie above 228 ms.
        let above = draws.iter().filter(|d| **d > ms(228)).count();
        assert!(
            (120..=280).contains(&above),
            "{above} draws above the 95th percentile"
        );
        let capped: Vec<Duration> = (1..=4001)
            .map(|n| draw_delay(&delay(Some(ms(150))), n))
            .collect();
        assert!(capped.iter().all(|d| *d <= ms(150)));
        // Drawn again rather than cut: few draws sit exactly at `max`.
        assert!(capped.iter().filter(|d| **d == ms(150)).count() < 10);
    }

    #[test]
    fn a_drawn_delay_never_passes_the_hold_cap() {
        let huge = RandomDelay {
            fixed: MAX_TIMEOUT_HOLD,
            draw: DelayDraw::LogNormal {
                median: Duration::from_secs(3600),
                sigma: 10.0,
                max: None,
            },
            seed: 0,
        };
        assert!((1..=100).all(|n| draw_delay(&huge, n) == MAX_TIMEOUT_HOLD));
    }

    #[test]
    fn a_dribble_paces_the_body_as_wiremock_chunks_it() {
        let pace = |chunks, len| match dribble(chunks, ms(1000), len) {
            Some(EdgeAction::SlowBody {
                chunk,
                every,
                pauses,
            }) => (chunk, every, pauses),
            other => panic!("{other:?}"),
        };
        // 10 bytes in 3 writes: 3, 3 and the last 4, a third of a second apart.
        assert_eq!(pace(3, 10), (3, Duration::from_nanos(333_333_333), Some(3)));
        // More chunks than bytes: one byte per write.
        assert_eq!(pace(50, 4), (1, ms(250), Some(4)));
        assert_eq!(dribble(5, ms(1000), 0), None, "an empty body goes at once");
    }
}
