//! The timeline of one run, for reports: its steps, webhook deliveries, mock calls and faults as
//! one bounded, redacted list of [`TimelineEntry`].
//!
//! Order: the flow's steps in the order they ran, each followed by the webhook delivery attempts
//! it made; then every request the mocks received, across mocks by virtual time of arrival (ties
//! by mock name, then arrival number). The runner does not read the virtual clock at each step
//! (that would be a control call per step), and the clock stands still between `advance_clock`
//! steps, so virtual time alone cannot place a mock call inside a step: steps have `at: null`.

use serde::Serialize;

use crate::observe::{JournalEntry, Observation, StepObservation};
use crate::secrets::Secrets;

/// At most this many entries per run; the last one then says how many were left out.
pub(crate) const TIMELINE_LIMIT: usize = 500;

/// What a timeline entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum TimelineKind {
    /// A flow step.
    Step,
    /// A request a mock received.
    Call,
    /// A request a mock received on which a fault fired.
    Fault,
    /// A webhook delivery attempt from a mock to the target.
    Delivery,
}

/// One entry of a run's timeline.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct TimelineEntry {
    /// Virtual time, RFC 3339, where known (mock calls, deliveries); `null` for steps.
    pub at: Option<String>,
    /// What it is.
    pub kind: TimelineKind,
    /// The step's name, or `METHOD path` of a call or delivery.
    pub name: String,
    /// One line on what happened.
    pub detail: String,
    /// The mock that received the call, sent the delivery, or that a step's request went to.
    pub mock: Option<String>,
    /// The status answered, when there was one.
    pub status: Option<u16>,
    /// Whether this went wrong: a failed step, a fault, a rate limit, a 5xx or no answer, a
    /// delivery the target did not accept as the vendor requires.
    pub failed: bool,
}

/// The timeline of a run, redacted with `secrets`, at most [`TIMELINE_LIMIT`] entries.
pub(crate) fn timeline(observation: &Observation, secrets: &Secrets) -> Vec<TimelineEntry> {
    let mut entries = Vec::new();
    for step in &observation.steps {
        entries.push(step_entry(step));
        entries.extend(delivery_entries(step));
    }
    let mut calls: Vec<(&String, &JournalEntry)> = observation
        .mocks
        .iter()
        .flat_map(|(mock, journal)| journal.entries.iter().map(move |entry| (mock, entry)))
        .collect();
    calls.sort_by(|(m1, e1), (m2, e2)| (&e1.at, *m1, e1.seq).cmp(&(&e2.at, *m2, e2.seq)));
    entries.extend(
        calls
            .into_iter()
            .map(|(mock, entry)| call_entry(mock, entry)),
    );
    for entry in &mut entries {
        entry.name = secrets.redact(&entry.name);
        entry.detail = secrets.redact(&entry.detail);
    }
    bound(entries, TIMELINE_LIMIT)
}

/// Keep at most `limit` entries: the first `limit - 1` and one saying how many were left out.
fn bound(mut entries: Vec<TimelineEntry>, limit: usize) -> Vec<TimelineEntry> {
    if entries.len() <= limit {
        return entries;
    }
    let left_out = entries.len() - (limit - 1);
    entries.truncate(limit - 1);
    entries.push(TimelineEntry {
        at: None,
        kind: TimelineKind::Step,
        name: "timeline truncated".into(),
        detail: format!("{left_out} more entries left out (at most {limit} per run)"),
        mock: None,
        status: None,
        failed: false,
    });
    entries
}

fn step_entry(step: &StepObservation) -> TimelineEntry {
    let status = step.response.as_ref().map(|response| response.status);
    let detail = match (&step.failure, &step.request) {
        (Some(failure), _) => failure.clone(),
        (None, Some(request)) => {
            let answer = status.map_or_else(|| "no answer".to_owned(), |s| s.to_string());
            let mut text = format!("{} {} → {answer}", request.method, path_only(&request.path));
            if step.attempts > 1 {
                text.push_str(&format!(" ({} attempts)", step.attempts));
            }
            text
        }
        (None, None) => step.kind.replace('_', " "),
    };
    TimelineEntry {
        at: None,
        kind: TimelineKind::Step,
        name: step.name.clone(),
        detail,
        mock: step.request.as_ref().and_then(|r| r.mock.clone()),
        status,
        failed: step.failure.is_some(),
    }
}

fn delivery_entries(step: &StepObservation) -> impl Iterator<Item = TimelineEntry> + '_ {
    let mock = step.request.as_ref().and_then(|r| r.mock.clone());
    step.deliveries.iter().map(move |delivery| {
        let status = delivery.response.as_ref().map(|r| r.status);
        let wrong = delivery.wrong_answer();
        let failed = match delivery.expected_status {
            Some(_) => wrong.is_some(),
            None => !delivery.accepted(),
        };
        let detail = wrong.unwrap_or_else(|| match (status, &delivery.error) {
            (Some(status), _) => {
                format!("attempt {}: the target answered {status}", delivery.attempt)
            }
            (None, error) => format!(
                "attempt {}: no answer ({})",
                delivery.attempt,
                error.as_deref().unwrap_or("unknown error")
            ),
        });
        TimelineEntry {
            at: Some(delivery.at.clone()),
            kind: TimelineKind::Delivery,
            name: format!("{} {}", delivery.method, url_path(&delivery.url)),
            detail,
            mock: mock.clone(),
            status,
            failed,
        }
    })
}

fn call_entry(mock: &str, entry: &JournalEntry) -> TimelineEntry {
    let detail = if let Some(fault) = &entry.fault {
        format!("fault: {fault}")
    } else if let Some(limit) = &entry.rate_limited {
        format!("rate limited: {limit}")
    } else if let Some(stub) = &entry.matched {
        format!("answered by `{}`", stub.name)
    } else {
        "answered".to_owned()
    };
    TimelineEntry {
        at: Some(entry.at.clone()),
        kind: if entry.fault.is_some() {
            TimelineKind::Fault
        } else {
            TimelineKind::Call
        },
        name: format!("{} {}", entry.method, entry.path),
        detail,
        mock: Some(mock.to_owned()),
        status: (entry.status != 0).then_some(entry.status),
        failed: entry.fault.is_some()
            || entry.rate_limited.is_some()
            || entry.status == 0
            || entry.status >= 500,
    }
}

/// A path without its query (which may carry credentials the timeline has no use for).
fn path_only(path: &str) -> &str {
    path.split_once('?').map_or(path, |(path, _)| path)
}

/// The path of a URL, without scheme, host or query.
fn url_path(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    path_only(rest.find('/').map_or("/", |slash| &rest[slash..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::{Delivery, Journal, ReceivedResponse, SentRequest};

    fn call(seq: u64, at: &str, path: &str, status: u16, fault: Option<&str>) -> JournalEntry {
        JournalEntry {
            seq,
            at: at.into(),
            method: "POST".into(),
            path: path.into(),
            query: String::new(),
            headers: Vec::new(),
            body: String::new(),
            matched: None,
            status,
            rate_limited: None,
            fault: fault.map(str::to_owned),
        }
    }

    #[test]
    fn steps_then_deliveries_then_calls_by_virtual_time() {
        let observation = Observation {
            steps: vec![
                StepObservation {
                    name: "export".into(),
                    kind: "request".into(),
                    request: Some(SentRequest {
                        method: "POST".into(),
                        path: "/exports?token=abc".into(),
                        ..SentRequest::default()
                    }),
                    response: Some(ReceivedResponse {
                        status: 202,
                        ..ReceivedResponse::default()
                    }),
                    attempts: 1,
                    ..StepObservation::default()
                },
                StepObservation {
                    name: "hook".into(),
                    kind: "webhook".into(),
                    failure: Some("the target refused sk-planted-0042".into()),
                    deliveries: vec![Delivery {
                        attempt: 1,
                        at: "2026-01-01T00:00:05Z".into(),
                        method: "POST".into(),
                        url: "http://127.0.0.1:4000/hooks/xero?sig=1".into(),
                        error: Some("connection refused".into()),
                        ..Delivery::default()
                    }],
                    ..StepObservation::default()
                },
            ],
            mocks: [
                (
                    "b".to_owned(),
                    Journal {
                        entries: vec![call(1, "2026-01-01T00:00:00Z", "/late", 200, None)],
                        dropped: 0,
                    },
                ),
                (
                    "a".to_owned(),
                    Journal {
                        entries: vec![
                            call(1, "2026-01-01T00:00:00Z", "/bills", 0, Some("timeout")),
                            call(2, "2026-01-01T00:00:00Z", "/bills", 200, None),
                        ],
                        dropped: 0,
                    },
                ),
            ]
            .into(),
            ..Observation::default()
        };
        let mut secrets = Secrets::new();
        secrets.add("sk-planted-0042");
        let entries = timeline(&observation, &secrets);
        let summary: Vec<(TimelineKind, &str, Option<&str>, bool)> = entries
            .iter()
            .map(|e| (e.kind, e.name.as_str(), e.mock.as_deref(), e.failed))
            .collect();
        assert_eq!(
            summary,
            [
                (TimelineKind::Step, "export", None, false),
                (TimelineKind::Step, "hook", None, true),
                (TimelineKind::Delivery, "POST /hooks/xero", None, true),
                (TimelineKind::Fault, "POST /bills", Some("a"), true),
                (TimelineKind::Call, "POST /bills", Some("a"), false),
                (TimelineKind::Call, "POST /late", Some("b"), false),
            ]
        );
        assert_eq!(entries[0].detail, "POST /exports → 202");
        assert_eq!(entries[1].detail, "the target refused [redacted]");
        assert_eq!(entries[3].status, None);
        assert_eq!(entries[3].detail, "fault: timeout");
    }

    #[test]
    fn a_long_timeline_ends_with_how_much_was_left_out() {
        let entry = |n: usize| TimelineEntry {
            at: None,
            kind: TimelineKind::Call,
            name: format!("GET /{n}"),
            detail: String::new(),
            mock: None,
            status: Some(200),
            failed: false,
        };
        let bounded = bound((0..1200).map(entry).collect(), 500);
        assert_eq!(bounded.len(), 500);
        assert_eq!(bounded[498].name, "GET /498");
        assert_eq!(
            bounded[499].detail,
            "701 more entries left out (at most 500 per run)"
        );
        assert_eq!(bound((0..500).map(entry).collect(), 500).len(), 500);
    }
}
