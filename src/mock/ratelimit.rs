//! Rate limits of a mock, [`Limiter`]: sliding windows on the virtual clock and concurrency caps,
//! per key (a header, the bearer token, the client IP, or one global bucket).
//!
//! Every limit whose `request` matcher selects a request is checked in order; the request passes
//! only when all pass, and only then does it take a slot in each (a blocked request uses none).
//! The first limit that blocks answers. A passing request holds an [`InFlight`] guard for its
//! concurrency slots; the guard travels in the response's extensions and frees them when the
//! edge drops the response, i.e. when the answer was handed to the connection.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use hyper::header::HeaderName;

use crate::matching::{CompiledMatcher, ParsedBody, RequestView};
use crate::mock::engine::{StubError, parse_header_name};
use crate::mock::render::Responder;
use crate::scenario::model::{LimitKey, LimitKind, RateLimit};

/// The prepared rate limits of one mock.
#[derive(Debug)]
pub(crate) struct Limiter {
    limits: Vec<PreparedLimit>,
    state: Arc<Mutex<Buckets>>,
}

#[derive(Debug)]
struct PreparedLimit {
    name: String,
    key: LimitKey,
    kind: LimitKind,
    matcher: Option<CompiledMatcher>,
    response: Responder,
    remaining_header: Option<HeaderName>,
}

/// Per limit: key → arrival offsets (nanoseconds of virtual time) in the window, or in-flight
/// count.
#[derive(Debug, Default)]
struct Buckets {
    windows: Vec<HashMap<String, VecDeque<u64>>>,
    in_flight: Vec<HashMap<String, u64>>,
}

/// What the limiter decided for one request.
#[derive(Debug)]
pub(crate) enum Decision {
    /// Every limit passed.
    Pass {
        /// Headers to add to the answer: `remaining_header` → remaining count.
        remaining: Vec<(HeaderName, u64)>,
        /// Concurrency slots taken, freed when dropped.
        in_flight: Option<InFlight>,
    },
    /// A limit blocked the request.
    Blocked {
        /// Index of the limit that blocked.
        limit: usize,
        /// Its name.
        name: String,
        /// Whole seconds until its window frees a slot (0 for concurrency limits).
        retry_after: u64,
        /// What every limit that applies has left, for the limits with a `remaining_header`:
        /// vendors that count calls in headers send them on a refusal too (Xero's limits FAQ:
        /// every response carries them); 0 for the limit that blocked.
        remaining: Vec<(HeaderName, u64)>,
    },
}

/// Concurrency slots a passing request holds; dropping it frees them.
#[derive(Debug, Clone)]
pub(crate) struct InFlight {
    _slots: Arc<Slots>,
}

#[derive(Debug)]
struct Slots {
    state: Arc<Mutex<Buckets>>,
    taken: Vec<(usize, String)>,
}

impl Drop for Slots {
    fn drop(&mut self) {
        let mut buckets = lock(&self.state);
        for (limit, key) in &self.taken {
            if let Some(count) = buckets
                .in_flight
                .get_mut(*limit)
                .and_then(|m| m.get_mut(key))
            {
                *count = count.saturating_sub(1);
            }
        }
    }
}

fn lock(state: &Mutex<Buckets>) -> MutexGuard<'_, Buckets> {
    // Every update below leaves the buckets consistent, so a poisoned lock is still sound.
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Limiter {
    /// Prepare a mock's limits.
    pub(crate) fn new(limits: &[RateLimit]) -> Result<Limiter, StubError> {
        let mut prepared = Vec::with_capacity(limits.len());
        for limit in limits {
            let invalid = |reason: StubError| StubError::RateLimit {
                name: limit.name.clone(),
                reason: Box::new(reason),
            };
            let matcher = limit.request.as_ref().map(CompiledMatcher::new);
            if let Some(problem) = matcher
                .as_ref()
                .and_then(|m| m.problems().into_iter().next())
            {
                return Err(invalid(StubError::Matcher(problem)));
            }
            let remaining_header = match &limit.remaining_header {
                Some(name) => Some(parse_header_name(name).map_err(invalid)?),
                None => None,
            };
            prepared.push(PreparedLimit {
                name: limit.name.clone(),
                key: limit.key.clone(),
                kind: limit.kind.clone(),
                matcher,
                response: Responder::prepare(&limit.response).map_err(invalid)?,
                remaining_header,
            });
        }
        let buckets = Buckets {
            windows: vec![HashMap::new(); prepared.len()],
            in_flight: vec![HashMap::new(); prepared.len()],
        };
        Ok(Limiter {
            limits: prepared,
            state: Arc::new(Mutex::new(buckets)),
        })
    }

    /// Whether there is any limit at all.
    pub(crate) fn is_empty(&self) -> bool {
        self.limits.is_empty()
    }

    /// The answer template of limit `index`.
    pub(crate) fn response(&self, index: usize) -> Option<&Responder> {
        self.limits.get(index).map(|limit| &limit.response)
    }

    /// Forget every window and in-flight count.
    pub(crate) fn reset(&self) {
        let mut buckets = lock(&self.state);
        for window in &mut buckets.windows {
            window.clear();
        }
        for in_flight in &mut buckets.in_flight {
            in_flight.clear();
        }
    }

    /// Decide for one request arriving at virtual offset `now`.
    pub(crate) fn check(
        &self,
        request: &RequestView<'_>,
        body: &ParsedBody<'_>,
        peer: Option<IpAddr>,
        now: Duration,
    ) -> Decision {
        let now = u64::try_from(now.as_nanos()).unwrap_or(u64::MAX);
        let applicable: Vec<(usize, String)> = self
            .limits
            .iter()
            .enumerate()
            .filter(|(_, limit)| {
                limit
                    .matcher
                    .as_ref()
                    .is_none_or(|m| m.matches(request, body))
            })
            .map(|(index, limit)| (index, key_of(&limit.key, request, peer)))
            .collect();
        let mut buckets = lock(&self.state);
        // Phase 1: does every limit pass? The first that blocks answers.
        let mut block = None;
        for (index, key) in &applicable {
            let limit = &self.limits[*index];
            match limit.kind {
                LimitKind::Window { limit: max, per } => {
                    let per = u64::try_from(per.as_nanos()).unwrap_or(u64::MAX);
                    let Some(window) = buckets.windows[*index].get_mut(key) else {
                        if max == 0 {
                            block = Some((*index, 0));
                            break;
                        }
                        continue;
                    };
                    while window
                        .front()
                        .is_some_and(|&t| t.saturating_add(per) <= now)
                    {
                        window.pop_front();
                    }
                    if window.len() as u64 >= max {
                        let frees_at = window.front().map_or(now, |&t| t.saturating_add(per));
                        let wait = frees_at.saturating_sub(now);
                        block = Some((*index, wait.div_ceil(1_000_000_000)));
                        break;
                    }
                }
                LimitKind::Concurrent(max) => {
                    let count = buckets.in_flight[*index].get(key).copied().unwrap_or(0);
                    if count >= max {
                        block = Some((*index, 0));
                        break;
                    }
                }
            }
        }
        if let Some((index, retry_after)) = block {
            let remaining = applicable
                .iter()
                .filter_map(|(at, key)| {
                    let limit = &self.limits[*at];
                    let header = limit.remaining_header.clone()?;
                    let left = match limit.kind {
                        LimitKind::Window { limit: max, per } => {
                            let per = u64::try_from(per.as_nanos()).unwrap_or(u64::MAX);
                            let counted = buckets.windows[*at].get(key).map_or(0, |window| {
                                window
                                    .iter()
                                    .filter(|&&t| t.saturating_add(per) > now)
                                    .count()
                            });
                            max.saturating_sub(counted as u64)
                        }
                        LimitKind::Concurrent(max) => {
                            let count = buckets.in_flight[*at].get(key).copied().unwrap_or(0);
                            max.saturating_sub(count)
                        }
                    };
                    Some((header, if *at == index { 0 } else { left }))
                })
                .collect();
            return Decision::Blocked {
                limit: index,
                name: self.limits[index].name.clone(),
                retry_after,
                remaining,
            };
        }
        // Phase 2: take a slot in each.
        let mut remaining = Vec::new();
        let mut taken = Vec::new();
        for (index, key) in applicable {
            let limit = &self.limits[index];
            let left = match limit.kind {
                LimitKind::Window { limit: max, .. } => {
                    let window = buckets.windows[index].entry(key).or_default();
                    window.push_back(now);
                    max.saturating_sub(window.len() as u64)
                }
                LimitKind::Concurrent(max) => {
                    let count = buckets.in_flight[index].entry(key.clone()).or_default();
                    *count += 1;
                    let left = max.saturating_sub(*count);
                    taken.push((index, key));
                    left
                }
            };
            if let Some(header) = &limit.remaining_header {
                remaining.push((header.clone(), left));
            }
        }
        drop(buckets);
        let in_flight = (!taken.is_empty()).then(|| InFlight {
            _slots: Arc::new(Slots {
                state: self.state.clone(),
                taken,
            }),
        });
        Decision::Pass {
            remaining,
            in_flight,
        }
    }
}

/// The bucket a request falls in; requests without the header or token share the empty key.
fn key_of(key: &LimitKey, request: &RequestView<'_>, peer: Option<IpAddr>) -> String {
    let header = |name: &str| {
        request
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    match key {
        LimitKey::Header(name) => header(name).unwrap_or_default().to_owned(),
        LimitKey::Bearer => header("authorization")
            .and_then(|v| {
                let (scheme, token) = v.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .unwrap_or_default()
            .to_owned(),
        LimitKey::ClientIp => peer.map(|ip| ip.to_string()).unwrap_or_default(),
        LimitKey::Global => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::model::default_limit_response;

    fn limiter(kind: LimitKind, key: LimitKey) -> Limiter {
        Limiter::new(&[RateLimit {
            name: "minute".into(),
            key,
            kind,
            request: None,
            response: default_limit_response(),
            remaining_header: Some("x-remaining".into()),
        }])
        .expect("valid limit")
    }

    fn check(limiter: &Limiter, tenant: &str, at_secs: u64) -> Decision {
        let headers = vec![("xero-tenant-id".to_owned(), tenant.to_owned())];
        let view = RequestView {
            method: "GET",
            path: "/",
            query: "",
            headers: &headers,
            body: b"",
        };
        limiter.check(
            &view,
            &ParsedBody::new(b""),
            None,
            Duration::from_secs(at_secs),
        )
    }

    #[test]
    fn sliding_window_blocks_then_frees_per_key() {
        let limiter = limiter(
            LimitKind::Window {
                limit: 2,
                per: Duration::from_secs(60),
            },
            LimitKey::Header("xero-tenant-id".into()),
        );
        assert!(matches!(check(&limiter, "a", 0), Decision::Pass { .. }));
        assert!(matches!(check(&limiter, "a", 10), Decision::Pass { .. }));
        match check(&limiter, "a", 20) {
            Decision::Blocked { retry_after, .. } => assert_eq!(retry_after, 40),
            other => panic!("{other:?}"),
        }
        assert!(matches!(check(&limiter, "b", 20), Decision::Pass { .. }));
        assert!(matches!(check(&limiter, "a", 60), Decision::Pass { .. }));
        assert!(matches!(
            check(&limiter, "a", 61),
            Decision::Blocked { retry_after: 9, .. }
        ));
    }

    #[test]
    fn concurrency_slots_free_when_dropped() {
        let limiter = limiter(LimitKind::Concurrent(1), LimitKey::Global);
        let Decision::Pass { in_flight, .. } = check(&limiter, "a", 0) else {
            panic!("first passes");
        };
        assert!(matches!(check(&limiter, "b", 0), Decision::Blocked { .. }));
        drop(in_flight);
        assert!(matches!(check(&limiter, "b", 0), Decision::Pass { .. }));
    }
}
