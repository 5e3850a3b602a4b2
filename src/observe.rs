//! The observation: everything one run of one scenario saw.
//!
//! It is plain data, serializable, built by [`crate::run`] and read by [`crate::verdict`] (to
//! judge), `crate::snapshot` (to normalize and compare) and the reports. The parts a mock
//! records itself ([`Journal`], and a webhook's [`Delivery`]) are defined here too, so the engine
//! writes the observation's types and nothing below the runner depends on the runner. It also
//! carries the run's [`Secrets`] (never serialized), which everything that writes it masks.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::secrets::{Secrets, is_secret_name};

/// What one run saw.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// One entry per flow step that ran, in order.
    pub steps: Vec<StepObservation>,
    /// Each mock's journal, by mock name.
    pub mocks: BTreeMap<String, Journal>,
    /// Base URLs of the mocks during the run, by name (for normalization).
    pub mock_urls: BTreeMap<String, String>,
    /// Base URLs of the mocks as the run's Docker network reaches them, by name (none
    /// in-process; for normalization).
    #[serde(default)]
    pub mock_network_urls: BTreeMap<String, String>,
    /// Base URL of the target during the run.
    pub target_url: String,
    /// Base URL of the target as the mocks reach it, when that differs from `target_url` (a
    /// container target: `http://reenact-target:PORT`).
    #[serde(default)]
    pub target_network_url: Option<String>,
    /// The target's last output lines.
    pub target_log: Vec<String>,
    /// Each mock container's last output lines during the run, by mock name (empty for
    /// in-process mocks, which write no log of their own). Never part of a snapshot: both
    /// backends must give identical snapshots.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub mock_logs: BTreeMap<String, Vec<String>>,
    /// The provider state of each mock with a provider at the end of the run, by mock name:
    /// collections by name (`{"invoices": [..], ..}`), as `GET /__reenact/state` gives them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub mock_states: BTreeMap<String, serde_json::Value>,
    /// The run's secret values: what the scenario declares and what secret-named fields carried
    /// ([`Observation::secrets_seen`]). Snapshots and reports mask them; never serialized.
    #[serde(skip)]
    pub secrets: Secrets,
}

impl Observation {
    /// Every value a secret-named header, query parameter, form field or JSON key carried in
    /// what the run saw: the flow's requests and responses, its captures, webhook deliveries,
    /// what each mock received and each mock's state; and what secret names announce in free
    /// text (`Bearer …`, `password=…`, `<sessionid>…`) there and in the target's log.
    pub fn secrets_seen(&self) -> Secrets {
        let mut secrets = Secrets::new();
        for step in &self.steps {
            if let Some(request) = &step.request {
                if let Some((_, query)) = request.path.split_once('?') {
                    secrets.add_form(query);
                }
                add_message(
                    &mut secrets,
                    &request.headers,
                    request.body.as_deref().unwrap_or_default(),
                );
            }
            if let Some(response) = &step.response {
                add_message(&mut secrets, &response.headers, &response.body);
            }
            for (name, value) in &step.captures {
                if is_secret_name(name) {
                    secrets.add(value);
                }
            }
            // What a browsed login saw on its hops (cookies, form posts, codes in redirects) is
            // not all kept in the observation; the flow gathered its secrets.
            secrets.extend(&step.secrets);
            for hop in &step.hops {
                for url in std::iter::once(&hop.url).chain(&hop.location) {
                    if let Some((_, query)) = url.split_once('?') {
                        secrets.add_form(query);
                    }
                }
            }
            for delivery in &step.deliveries {
                if let Some((_, query)) = delivery.url.split_once('?') {
                    secrets.add_form(query);
                }
                add_message(&mut secrets, &delivery.headers, &delivery.body);
                if let Some(response) = &delivery.response {
                    add_message(&mut secrets, &response.headers, &response.body);
                }
            }
        }
        for journal in self.mocks.values() {
            for entry in &journal.entries {
                secrets.add_form(&entry.query);
                add_message(&mut secrets, &entry.headers, &entry.body);
            }
        }
        for state in self.mock_states.values() {
            secrets.add_json(state);
        }
        // Mock containers' logs are left out: both backends must find the same secrets, and so
        // write the same snapshot.
        for line in &self.target_log {
            secrets.add_text(line);
        }
        secrets
    }
}

/// What a request or response carries under secret names: its headers and its body (JSON keys,
/// form fields, free text).
fn add_message(secrets: &mut Secrets, headers: &[(String, String)], body: &str) {
    for (name, value) in headers {
        secrets.add_header(name, value);
    }
    if body.is_empty() {
        return;
    }
    if let Ok(json) = serde_json::from_str::<serde_json::Value>(body) {
        secrets.add_json(&json);
        return;
    }
    let form = headers.iter().any(|(name, value)| {
        name.eq_ignore_ascii_case("content-type")
            && value.starts_with("application/x-www-form-urlencoded")
    });
    if form {
        secrets.add_form(body);
    }
    secrets.add_text(body);
}

/// What one step did and saw.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StepObservation {
    /// Step name.
    pub name: String,
    /// Kind: `request`, `poll`, `webhook`, `sso_login` or `advance_clock`.
    pub kind: String,
    /// The (last) request sent, if the step sends requests.
    pub request: Option<SentRequest>,
    /// The (last) response received.
    pub response: Option<ReceivedResponse>,
    /// Number of requests sent (polls send several).
    pub attempts: u32,
    /// Why the step failed, if it did (transport error, failed check, poll deadline, template).
    pub failure: Option<String>,
    /// Values captured, by variable name.
    pub captures: BTreeMap<String, String>,
    /// Webhook delivery attempts, in order (webhook steps only).
    #[serde(default)]
    pub deliveries: Vec<Delivery>,
    /// The requests of a browsed login or of a request that followed its redirects, in order,
    /// the start first (`sso_login` steps, and `request` steps with `follow_redirects`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hops: Vec<Hop>,
    /// The names (lower case) of the response's headers its snapshot shows: a redirect's
    /// `location`, and the headers the step's checks or captures name. Other headers stay out
    /// of snapshots, which must not change when a server adds one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shown_headers: Vec<String>,
    /// Secret values the step saw but does not keep (a browsed login's cookies, form posts and
    /// redirect codes), for [`Observation::secrets_seen`]; never serialized.
    #[serde(skip)]
    pub secrets: Secrets,
}

/// One request of a browsed login (`sso_login`) and where its answer sent the browser next.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Hop {
    /// Method.
    pub method: String,
    /// Full URL requested, query included (the user-selection parameter too).
    pub url: String,
    /// Status answered; absent when no answer came (see `error`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The redirect's `Location`, resolved against `url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The URL an auto-submitting HTML form of the answer posts to, resolved against `url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form_post: Option<String>,
    /// Why no answer came (connection refused, timeout, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One attempt of a mock to deliver a webhook to the target, and what came of it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    /// 1-based attempt number.
    pub attempt: u32,
    /// The sending mock's virtual time when the attempt was made, RFC 3339.
    pub at: String,
    /// Method.
    pub method: String,
    /// Full URL on the target.
    pub url: String,
    /// Headers sent, signature included, in order.
    pub headers: Vec<(String, String)>,
    /// Body sent, as text (lossy UTF-8; the exact bytes are what the signature covers).
    pub body: String,
    /// The target's answer, if it answered in time.
    pub response: Option<ReceivedResponse>,
    /// Why there is no answer (connection refused, no answer within the timeout, …).
    pub error: Option<String>,
    /// The answer the vendor requires to this attempt, when it checks one: Xero's Intent to
    /// Receive wants 200 for a correctly signed payload and 401 for an incorrectly signed one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_status: Option<u16>,
}

impl Delivery {
    /// Why this attempt did not get the answer the vendor requires (`None` when it did, or when
    /// no answer is required).
    pub fn wrong_answer(&self) -> Option<String> {
        let expected = self.expected_status?;
        let got = match &self.response {
            Some(response) if response.status == expected => return None,
            Some(response) => format!("got {}", response.status),
            None => format!(
                "got no answer ({})",
                self.error.as_deref().unwrap_or("unknown error")
            ),
        };
        let signed = if expected == 401 {
            "incorrectly"
        } else {
            "correctly"
        };
        Some(format!(
            "attempt {} ({signed} signed) {got}, {expected} required",
            self.attempt
        ))
    }

    /// Whether the target accepted this attempt (answered 2xx in time).
    pub fn accepted(&self) -> bool {
        self.response
            .as_ref()
            .is_some_and(|response| (200..300).contains(&response.status))
    }
}

/// A request the runner sent to the target.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SentRequest {
    /// The mock it went to (`mock:`); absent for the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mock: Option<String>,
    /// Method.
    pub method: String,
    /// Path and query, relative to the base URL of the target (or of the mock).
    pub path: String,
    /// Headers set by the scenario.
    pub headers: Vec<(String, String)>,
    /// Body as text.
    pub body: Option<String>,
}

/// A response the target gave.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReceivedResponse {
    /// Status code.
    pub status: u16,
    /// Headers, names lower case, in order.
    pub headers: Vec<(String, String)>,
    /// Body as text (lossy UTF-8).
    pub body: String,
}

impl ReceivedResponse {
    /// The body as JSON, if it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.body).ok()
    }
}

/// What a mock received, as the control API returns it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Journal {
    /// Stored requests, oldest first.
    pub entries: Vec<JournalEntry>,
    /// Requests received after the bound was reached (not stored).
    pub dropped: u64,
}

/// One request a mock received and what it answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// 1-based arrival number at this mock since the last reset.
    pub seq: u64,
    /// Virtual time of arrival, RFC 3339.
    pub at: String,
    /// Method, upper case.
    pub method: String,
    /// Path without the query string.
    pub path: String,
    /// Raw query string without `?` (empty when none).
    pub query: String,
    /// Headers in arrival order, names lower case.
    pub headers: Vec<(String, String)>,
    /// Body as UTF-8 (invalid bytes replaced).
    pub body: String,
    /// The stub the request matched, if any (also when a fault kept it from taking effect).
    pub matched: Option<MatchedStub>,
    /// Status code answered; for a `commit_then` fault the status the stub would have sent; `0`
    /// when a connection fault (`timeout`, `reset`, `empty`, `garbage`) sent no status line.
    pub status: u16,
    /// The rate limit that blocked the request, if one did (then `matched` is `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limited: Option<String>,
    /// The fault that fired on this request, described, e.g. `reset` or `first create lost
    /// (commit_then reset)`.
    #[serde(default)]
    pub fault: Option<String>,
}

/// The stub that answered a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchedStub {
    /// 0-based index in the mock's stub list.
    pub index: usize,
    /// The stub's name, or `stub N` (1-based).
    pub name: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each place a run sees a value under a secret name, and one place it does not count: a
    /// mock container's log (both backends must find the same secrets).
    #[test]
    fn secrets_seen_come_from_every_part_of_the_observation() {
        let entry = JournalEntry {
            seq: 1,
            at: String::new(),
            method: "POST".into(),
            path: "/token".into(),
            query: "key=journal-query-key".into(),
            headers: vec![
                ("authorization".into(), "Bearer journal-bearer-1".into()),
                (
                    "content-type".into(),
                    "application/x-www-form-urlencoded".into(),
                ),
            ],
            body: "client_secret=journal-form-secret&grant_type=client_credentials".into(),
            matched: None,
            status: 200,
            rate_limited: None,
            fault: None,
        };
        let observation = Observation {
            steps: vec![StepObservation {
                request: Some(SentRequest {
                    path: "/geo?sig=step-path-signature".into(),
                    headers: vec![("X-Api-Key".into(), "step-header-key".into())],
                    body: Some(r#"{"user":"ana","password":"step-json-password"}"#.into()),
                    ..SentRequest::default()
                }),
                response: Some(ReceivedResponse {
                    status: 200,
                    headers: vec![("set-cookie".into(), "sid=response-cookie-1; Path=/".into())],
                    body: "<auth><sessionid>response-xml-session</sessionid></auth>".into(),
                }),
                captures: BTreeMap::from([
                    ("refresh_token".into(), "captured-refresh-1".into()),
                    ("invoice_id".into(), "captured-invoice-1".into()),
                ]),
                hops: vec![Hop {
                    url: "http://idp/sso?sig=hop-url-signature".into(),
                    location: Some("http://sp/acs?token=hop-location-token".into()),
                    ..Hop::default()
                }],
                secrets: {
                    let mut seen = Secrets::new();
                    seen.add("browsed-cookie-1");
                    seen
                },
                deliveries: vec![Delivery {
                    url: "http://target/hook?token=delivery-url-token".into(),
                    headers: vec![("x-signature".into(), "delivery-signature-1".into())],
                    ..Delivery::default()
                }],
                ..StepObservation::default()
            }],
            mocks: BTreeMap::from([(
                "erp".to_owned(),
                Journal {
                    entries: vec![entry],
                    dropped: 0,
                },
            )]),
            mock_states: BTreeMap::from([(
                "erp".to_owned(),
                serde_json::json!({ "connections": [{ "access_token": "state-access-token" }] }),
            )]),
            target_log: vec!["starting with api_key=target-log-key".into()],
            mock_logs: BTreeMap::from([(
                "erp".to_owned(),
                vec!["password=container-log-password".to_owned()],
            )]),
            ..Observation::default()
        };
        let seen = observation.secrets_seen();
        for value in [
            "journal-query-key",
            "journal-bearer-1",
            "journal-form-secret",
            "step-path-signature",
            "step-header-key",
            "step-json-password",
            "response-cookie-1",
            "response-xml-session",
            "captured-refresh-1",
            "delivery-url-token",
            "delivery-signature-1",
            "hop-url-signature",
            "hop-location-token",
            "browsed-cookie-1",
            "state-access-token",
            "target-log-key",
        ] {
            assert_eq!(seen.redact(value), "[redacted]", "`{value}` not seen");
        }
        for value in [
            "captured-invoice-1",
            "client_credentials",
            "container-log-password",
        ] {
            assert_eq!(seen.redact(value), value, "`{value}` is not secret here");
        }
    }
}
