//! Replay of a scenario's flow against the target: requests, polls, webhooks, clock advances,
//! captures.
//!
//! A webhook step renders the request here (templates, exact body bytes) and has the sending mock
//! deliver it through its control API; every attempt lands in the step's observation. A webhook
//! with `xero:` or `quickbooks:` leaves the body and signature to the sending mock's provider,
//! and fails when an attempt did not get the answer the vendor requires (Xero's Intent to
//! Receive).
//!
//! An `sso_login` step acts as a browser (`browse`): it follows redirects and auto-submitting
//! HTML forms with a cookie jar, only to the target and the run's mocks. A `request` step with
//! `follow_redirects` follows redirects the same way.
//!
//! Each step names the response headers its snapshot shows ([`shown_headers`]): a redirect's
//! `location` and what its checks and captures read.
//!
//! The flow stops at the first failed step (a transport error, a failed step `expect`, a poll
//! that never passed, a capture that selected nothing); the observation records why.

mod browse;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::errors;
use crate::matching::check_response;
use crate::mock::control::ControlClient;
use crate::mock::providers::ProviderWebhook;
use crate::mock::webhook::{RetryPolicy, SigningSettings, WebhookRequest};
use crate::observe::{ReceivedResponse, SentRequest, StepObservation};
use crate::scenario::model::{
    Capture, CaptureSource, RequestBody, RequestSpec, ResponseCheck, Step, StepAction, WebhookBody,
    WebhookSpec, XeroWebhookSpec,
};
use crate::scenario::template::{self, RenderError, Template};

/// What the flow needs from the run around it.
pub(crate) struct FlowContext<'a> {
    /// Client for requests to the target.
    pub http: &'a reqwest::Client,
    /// Base URL of the target.
    pub target_url: &'a str,
    /// Base URL of the target as the mocks reach it, for webhooks: the same as `target_url`
    /// unless the target is a container on the mocks' network (`http://reenact-target:PORT`).
    pub webhook_target_url: &'a str,
    /// Base URLs of the mocks, by name.
    pub mock_urls: &'a BTreeMap<String, String>,
    /// Control clients of the mocks (for `advance_clock`).
    pub mocks: &'a [ControlClient],
    /// Control clients of the mocks by name (for webhooks, which one mock sends).
    pub mocks_by_name: &'a BTreeMap<String, ControlClient>,
    /// Other base URLs of the mocks, each with the base URL the runner reaches it at: on the
    /// Docker backend its URL on the run's network and one per `hostnames` entry (none
    /// in-process). A browsed login follows them to the second.
    pub mock_aliases: &'a [(String, String)],
    /// The origin the target's users reach it at (`target.public_url`), which a browsed login
    /// follows to `target_url`.
    pub target_public_url: Option<&'a str>,
}

/// Replay `steps` in order; returns one observation per step that ran.
pub(crate) async fn replay(steps: &[Step], ctx: &FlowContext<'_>) -> Vec<StepObservation> {
    let mut captures: BTreeMap<String, String> = BTreeMap::new();
    let mut observed = Vec::with_capacity(steps.len());
    for step in steps {
        let observation = run_step(step, ctx, &mut captures).await;
        let failed = observation.failure.is_some();
        observed.push(observation);
        if failed {
            break;
        }
    }
    observed
}

async fn run_step(
    step: &Step,
    ctx: &FlowContext<'_>,
    captures: &mut BTreeMap<String, String>,
) -> StepObservation {
    let mut observation = StepObservation {
        name: step.name.clone(),
        ..StepObservation::default()
    };
    match &step.action {
        StepAction::Request {
            request,
            expect,
            capture,
            follow_redirects: Some(max_redirects),
        } => {
            observation.kind = "request".into();
            let followed =
                browse::follow_redirects(request, *max_redirects, ctx, captures, &mut observation)
                    .await;
            Checked::browsed(
                followed,
                expect.as_ref(),
                capture,
                captures,
                &mut observation,
            );
        }
        StepAction::Request {
            request,
            expect,
            capture,
            follow_redirects: None,
        } => {
            observation.kind = "request".into();
            match send(request, ctx, captures).await {
                Ok((sent, response)) => {
                    observation.attempts = 1;
                    observation.request = Some(sent);
                    let checked = Checked {
                        expect: expect.as_ref(),
                        capture,
                        jar: &[],
                    };
                    checked.apply(response, captures, &mut observation);
                }
                Err(failure) => {
                    observation.attempts = 1;
                    observation.request = failure.sent;
                    observation.failure = Some(failure.reason);
                }
            }
        }
        StepAction::Poll {
            request,
            until,
            every,
            within,
            capture,
        } => {
            observation.kind = "poll".into();
            poll(
                request,
                until,
                *every,
                *within,
                ctx,
                captures,
                &mut observation,
            )
            .await;
            if observation.failure.is_none()
                && let Some(response) = observation.response.clone()
            {
                take_captures(capture, &response, captures, &mut observation);
            }
        }
        StepAction::Webhook { webhook, expect } => {
            observation.kind = "webhook".into();
            send_webhook(webhook, expect.as_ref(), ctx, captures, &mut observation).await;
        }
        StepAction::SsoLogin {
            login,
            expect,
            capture,
        } => {
            observation.kind = "sso_login".into();
            let browsed = browse::login(login, ctx, captures, &mut observation).await;
            Checked::browsed(
                browsed,
                expect.as_ref(),
                capture,
                captures,
                &mut observation,
            );
        }
        StepAction::AdvanceClock { by } => {
            observation.kind = "advance_clock".into();
            for mock in ctx.mocks {
                if let Err(err) = mock.advance_clock(*by).await {
                    observation.failure = Some(errors::one_line(&err));
                    break;
                }
            }
        }
    }
    observation.shown_headers = shown_headers(&step.action, &observation);
    observation
}

/// The response headers a step's snapshot shows: a redirect's `location`, and the headers its
/// checks (`expect.headers`, a poll's `until.headers`) and header captures name; each only when
/// the response has it.
fn shown_headers(action: &StepAction, observation: &StepObservation) -> Vec<String> {
    let Some(response) = &observation.response else {
        return Vec::new();
    };
    let (check, capture): (Option<&ResponseCheck>, &[Capture]) = match action {
        StepAction::Request {
            expect, capture, ..
        }
        | StepAction::SsoLogin {
            expect, capture, ..
        } => (expect.as_ref(), capture),
        StepAction::Poll { until, capture, .. } => (Some(until), capture),
        StepAction::Webhook { expect, .. } => (expect.as_ref(), &[]),
        StepAction::AdvanceClock { .. } => (None, &[]),
    };
    let mut names: Vec<String> = Vec::new();
    if (300..400).contains(&response.status) {
        names.push("location".to_owned());
    }
    names.extend(
        check
            .iter()
            .flat_map(|check| check.headers.iter().map(|(name, _)| name.clone())),
    );
    names.extend(capture.iter().filter_map(|item| match &item.from {
        CaptureSource::Header(name) => Some(name.clone()),
        _ => None,
    }));
    let mut shown: Vec<String> = Vec::new();
    for name in names {
        if !shown.contains(&name) && response.headers.iter().any(|(n, _)| *n == name) {
            shown.push(name);
        }
    }
    shown
}

/// A step's `expect` and `capture`, applied to its (final) response.
struct Checked<'a> {
    expect: Option<&'a ResponseCheck>,
    capture: &'a [Capture],
    /// Cookies a `cookie:` capture falls back to (a browsed login's jar).
    jar: &'a [(String, String)],
}

impl Checked<'_> {
    /// Apply `expect` and `capture` to the final response of a browse (a login, or a request
    /// that followed its redirects), with its cookie jar; nothing when the browse failed.
    fn browsed(
        browsed: Option<(ReceivedResponse, Vec<(String, String)>)>,
        expect: Option<&ResponseCheck>,
        capture: &[Capture],
        captures: &mut BTreeMap<String, String>,
        observation: &mut StepObservation,
    ) {
        if let Some((response, jar)) = browsed {
            let checked = Checked {
                expect,
                capture,
                jar: &jar,
            };
            checked.apply(response, captures, observation);
        }
    }

    /// Check `response`, take the captures when the checks pass, and record the response.
    fn apply(
        &self,
        response: ReceivedResponse,
        captures: &mut BTreeMap<String, String>,
        observation: &mut StepObservation,
    ) {
        let failures = self
            .expect
            .map(|check| check_response(check, &response))
            .unwrap_or_default();
        if !failures.is_empty() {
            observation.failure = Some(format!("expect: {}", failures.join("; ")));
        } else {
            take_captures_with_jar(self.capture, &response, self.jar, captures, observation);
        }
        observation.response = Some(response);
    }
}

async fn poll(
    request: &RequestSpec,
    until: &ResponseCheck,
    every: Duration,
    within: Duration,
    ctx: &FlowContext<'_>,
    captures: &BTreeMap<String, String>,
    observation: &mut StepObservation,
) {
    let deadline = Instant::now() + within;
    loop {
        observation.attempts += 1;
        let last_failure = match send(request, ctx, captures).await {
            Ok((sent, response)) => {
                let failures = check_response(until, &response);
                observation.request = Some(sent);
                observation.response = Some(response);
                if failures.is_empty() {
                    return;
                }
                failures.join("; ")
            }
            Err(failure) => {
                if failure.fatal {
                    observation.request = failure.sent;
                    observation.failure = Some(failure.reason);
                    return;
                }
                failure.reason
            }
        };
        if Instant::now() + every > deadline {
            observation.failure = Some(format!(
                "poll: condition not met within {} after {} attempt(s); last: {last_failure}",
                crate::scenario::duration::format(within),
                observation.attempts
            ));
            return;
        }
        tokio::time::sleep(every).await;
    }
}

/// Render a webhook, have its mock deliver it, record every attempt and check the last answer.
async fn send_webhook(
    webhook: &WebhookSpec,
    expect: Option<&ResponseCheck>,
    ctx: &FlowContext<'_>,
    captures: &BTreeMap<String, String>,
    observation: &mut StepObservation,
) {
    let request = match render_webhook(webhook, ctx, captures) {
        Ok(request) => request,
        Err(err) => {
            observation.failure = Some(err.to_string());
            return;
        }
    };
    let Some(sender) = ctx.mocks_by_name.get(&webhook.mock) else {
        observation.failure = Some(format!("webhook: no running mock `{}`", webhook.mock));
        return;
    };
    let report = match sender.send_webhook(&request).await {
        Ok(report) => report,
        Err(err) => {
            observation.failure = Some(format!("webhook: {}", errors::one_line(&err)));
            return;
        }
    };
    observation.attempts = u32::try_from(report.deliveries.len()).unwrap_or(u32::MAX);
    // The sender's clock moved by the backoffs; the mocks share one clock, so the others follow.
    // A handshake's payloads (those requiring an answer) are sent once each, without backoff.
    let retried = report
        .deliveries
        .iter()
        .filter(|delivery| delivery.expected_status.is_none())
        .count()
        .saturating_sub(1);
    let waited = webhook
        .retry
        .backoff
        .saturating_mul(u32::try_from(retried).unwrap_or(u32::MAX));
    if !waited.is_zero() {
        for (name, mock) in ctx.mocks_by_name {
            if *name == webhook.mock {
                continue;
            }
            if let Err(err) = mock.advance_clock(waited).await {
                observation.failure = Some(errors::one_line(&err));
            }
        }
    }
    let last = report.deliveries.last().cloned();
    let wrong: Vec<String> = report
        .deliveries
        .iter()
        .filter_map(|delivery| delivery.wrong_answer())
        .collect();
    observation.deliveries = report.deliveries;
    if !wrong.is_empty() && observation.failure.is_none() {
        observation.failure = Some(format!(
            "webhook: the target did not answer as the vendor requires: {}",
            wrong.join("; ")
        ));
    }
    let Some(last) = last else {
        observation.failure = Some("webhook: the mock made no attempt".to_string());
        return;
    };
    observation.response = last.response.clone();
    if observation.failure.is_some() {
        return;
    }
    let Some(check) = expect else {
        return;
    };
    match &last.response {
        Some(response) => {
            let failures = check_response(check, response);
            if !failures.is_empty() {
                observation.failure = Some(format!("expect: {}", failures.join("; ")));
            }
        }
        None => {
            observation.failure = Some(format!(
                "expect: no answer to attempt {}: {}",
                last.attempt,
                last.error.as_deref().unwrap_or("unknown error")
            ));
        }
    }
}

fn render_webhook(
    webhook: &WebhookSpec,
    ctx: &FlowContext<'_>,
    captures: &BTreeMap<String, String>,
) -> Result<WebhookRequest, RenderError> {
    let vars = |path: &[String]| lookup(path, ctx, captures);
    let path = webhook.path.render(&vars)?;
    let mut headers = Vec::with_capacity(webhook.headers.len() + 1);
    for (name, value) in &webhook.headers {
        headers.push((name.clone(), value.render(&vars)?));
    }
    let body = match &webhook.body {
        None => Vec::new(),
        Some(WebhookBody::Json(value)) => {
            if !headers
                .iter()
                .any(|(name, _)| name.eq_ignore_ascii_case("content-type"))
            {
                headers.push(("content-type".into(), "application/json".into()));
            }
            template::render_json(value, &vars)?
                .to_string()
                .into_bytes()
        }
        Some(WebhookBody::Text(text)) => text.render(&vars)?.into_bytes(),
        Some(WebhookBody::Bytes(bytes)) => bytes.clone(),
    };
    let sign = match &webhook.sign {
        Some(sign) => Some(SigningSettings {
            secret: sign.secret.render(&vars)?,
            header: sign.header.clone(),
            algorithm: sign.algorithm,
            encoding: sign.encoding,
            prefix: sign.prefix.clone(),
        }),
        None => None,
    };
    let provider = match &webhook.xero {
        None => None,
        Some(XeroWebhookSpec::IntentToReceive) => Some(ProviderWebhook::XeroIntentToReceive),
        Some(XeroWebhookSpec::Event {
            category,
            event_type,
            resource,
        }) => Some(ProviderWebhook::XeroEvent {
            category: category.clone(),
            event_type: event_type.clone(),
            resource_id: resource.render(&vars)?,
        }),
    };
    let provider = match (&webhook.quickbooks, provider) {
        (Some(event), _) => Some(ProviderWebhook::QuickBooksEvent {
            entity: event.entity.clone(),
            operation: event.operation.clone(),
            id: event.id.render(&vars)?,
            realm: event.realm.clone(),
            cloudevents: event.cloudevents,
        }),
        (None, provider) => provider,
    };
    let millis = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    Ok(WebhookRequest {
        url: format!("{}{path}", ctx.webhook_target_url.trim_end_matches('/')),
        method: webhook.method.clone(),
        headers,
        body,
        sign,
        retry: RetryPolicy {
            attempts: webhook.retry.attempts,
            backoff_millis: millis(webhook.retry.backoff),
            timeout_millis: millis(webhook.retry.timeout),
        },
        provider,
    })
}

struct SendFailure {
    sent: Option<SentRequest>,
    reason: String,
    /// A failure that retrying cannot fix (template error).
    fatal: bool,
}

/// A flow request rendered: what the observation records, and what goes on the wire.
struct Rendered {
    sent: SentRequest,
    /// Full URL: the base URL of the target (or the mock) and the rendered path and query.
    url: String,
    /// `content-type` to add unless the headers name one (JSON bodies).
    content_type: Option<&'static str>,
}

/// Render `request`'s templates and find its base URL.
fn render(
    request: &RequestSpec,
    ctx: &FlowContext<'_>,
    captures: &BTreeMap<String, String>,
) -> Result<Rendered, Box<SendFailure>> {
    let vars = |path: &[String]| lookup(path, ctx, captures);
    let template_failure = |err: RenderError| {
        Box::new(SendFailure {
            sent: None,
            reason: err.to_string(),
            fatal: true,
        })
    };
    let render = |t: &Template| t.render(&vars).map_err(template_failure);
    let mut path = render(&request.path)?;
    if !request.query.is_empty() {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in &request.query {
            query.append_pair(name, &render(value)?);
        }
        path.push(if path.contains('?') { '&' } else { '?' });
        path.push_str(&query.finish());
    }
    let mut headers = Vec::with_capacity(request.headers.len());
    for (name, value) in &request.headers {
        headers.push((name.clone(), render(value)?));
    }
    let (body, content_type) = match &request.body {
        None => (None, None),
        Some(RequestBody::Json(value)) => {
            let rendered = template::render_json(value, &vars).map_err(template_failure)?;
            (Some(rendered.to_string()), Some("application/json"))
        }
        Some(RequestBody::Text(text)) => (Some(render(text)?), None),
    };
    let base_url = match &request.mock {
        None => ctx.target_url,
        Some(mock) => ctx.mock_urls.get(mock).map(String::as_str).ok_or_else(|| {
            Box::new(SendFailure {
                sent: None,
                reason: format!("mock `{mock}` has no URL in this run"),
                fatal: true,
            })
        })?,
    };
    let url = format!("{}{}", base_url.trim_end_matches('/'), path);
    Ok(Rendered {
        sent: SentRequest {
            mock: request.mock.clone(),
            method: request.method.clone(),
            path,
            headers,
            body,
        },
        url,
        content_type,
    })
}

async fn send(
    request: &RequestSpec,
    ctx: &FlowContext<'_>,
    captures: &BTreeMap<String, String>,
) -> Result<(SentRequest, ReceivedResponse), Box<SendFailure>> {
    let Rendered {
        sent,
        url,
        content_type,
    } = render(request, ctx, captures)?;
    let method = reqwest::Method::from_bytes(request.method.as_bytes()).map_err(|_| {
        Box::new(SendFailure {
            sent: Some(sent.clone()),
            reason: format!("invalid method `{}`", request.method),
            fatal: true,
        })
    })?;
    let mut builder = ctx.http.request(method, url).timeout(request.timeout);
    if let Some(content_type) = content_type
        && !sent
            .headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("content-type"))
    {
        builder = builder.header("content-type", content_type);
    }
    for (name, value) in &sent.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    if let Some(body) = &sent.body {
        builder = builder.body(body.clone());
    }
    let transport_failure = |err: reqwest::Error| {
        Box::new(SendFailure {
            sent: Some(sent.clone()),
            reason: format!("request failed: {}", errors::one_line(&err)),
            fatal: false,
        })
    };
    let response = builder.send().await.map_err(transport_failure)?;
    let response = receive(response).await.map_err(transport_failure)?;
    Ok((sent.clone(), response))
}

/// A response read whole: status, headers (names lower case) and the body as text.
async fn receive(response: reqwest::Response) -> Result<ReceivedResponse, reqwest::Error> {
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let bytes = response.bytes().await?;
    Ok(ReceivedResponse {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    })
}

fn lookup(
    path: &[String],
    ctx: &FlowContext<'_>,
    captures: &BTreeMap<String, String>,
) -> Option<String> {
    match path {
        [name] => captures.get(name).cloned(),
        [scope, name] if scope == "env" => std::env::var(name).ok(),
        [scope, field] if scope == "target" && field == "url" => Some(ctx.target_url.to_string()),
        [scope, name, field] if scope == "mocks" && field == "url" => {
            ctx.mock_urls.get(name).cloned()
        }
        _ => None,
    }
}

fn take_captures(
    capture: &[Capture],
    response: &ReceivedResponse,
    captures: &mut BTreeMap<String, String>,
    observation: &mut StepObservation,
) {
    take_captures_with_jar(capture, response, &[], captures, observation);
}

/// [`take_captures`], where a `cookie:` capture that no `Set-Cookie` of the response sets falls
/// back to `jar` (name, value): the cookies a browsed login holds.
fn take_captures_with_jar(
    capture: &[Capture],
    response: &ReceivedResponse,
    jar: &[(String, String)],
    captures: &mut BTreeMap<String, String>,
    observation: &mut StepObservation,
) {
    let mut json = None;
    for item in capture {
        match capture_from(item, response, jar, &mut json) {
            Ok(value) => {
                captures.insert(item.name.clone(), value.clone());
                observation.captures.insert(item.name.clone(), value);
            }
            Err(reason) => {
                observation.failure = Some(format!("capture `{}`: {reason}", item.name));
                return;
            }
        }
    }
}

/// The value `item` takes from `response` (its body parsed as JSON once, into `json`).
fn capture_from(
    item: &Capture,
    response: &ReceivedResponse,
    jar: &[(String, String)],
    json: &mut Option<serde_json::Value>,
) -> Result<String, CaptureError> {
    let text = match &item.from {
        CaptureSource::Json(path) => {
            let mut take = || {
                if json.is_none() {
                    *json = Some(response.json().ok_or(CaptureError::NotJson)?);
                }
                capture_one(path, json.as_ref().unwrap_or(&serde_json::Value::Null))
            };
            take().map_err(|error| header_hint(error, path, response))?
        }
        CaptureSource::Header(name) => response
            .headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, value)| value.clone())
            .ok_or_else(|| CaptureError::NoHeader { name: name.clone() })?,
        CaptureSource::Cookie(name) => set_cookie(&response.headers, name)
            .or_else(|| {
                jar.iter()
                    .find(|(cookie, _)| cookie == name)
                    .map(|(_, value)| value.clone())
            })
            .ok_or_else(|| CaptureError::NoCookie { name: name.clone() })?,
        CaptureSource::Body => response.body.clone(),
    };
    match &item.regex {
        None => Ok(text),
        Some(regex) => {
            let found = regex
                .0
                .captures(&text)
                .ok_or_else(|| CaptureError::NoMatch {
                    regex: regex.0.as_str().to_owned(),
                })?;
            let value = found.get(1).or_else(|| found.get(0));
            Ok(value.map(|m| m.as_str().to_owned()).unwrap_or_default())
        }
    }
}

/// `error` of a JSONPath capture that found nothing, with a hint when the response has a header
/// of (nearly) the name the path ends in: `$.Location` on a redirect means `{ header: location }`.
fn header_hint(error: CaptureError, path: &str, response: &ReceivedResponse) -> CaptureError {
    if !matches!(error, CaptureError::NotJson | CaptureError::Nothing { .. }) {
        return error;
    }
    let last = path
        .rsplit(['.', '['])
        .next()
        .unwrap_or_default()
        .trim_matches(|c| matches!(c, '\'' | '"' | ']' | ' '))
        .to_ascii_lowercase()
        .replace('_', "-");
    if last.is_empty() || last == "$" {
        return error;
    }
    let names: Vec<&str> = response
        .headers
        .iter()
        .map(|(name, _)| name.as_str())
        .collect();
    let header = names
        .iter()
        .find(|name| **name == last)
        .copied()
        .or_else(|| crate::scenario::suggest::did_you_mean(&last, &names));
    match header {
        Some(header) => CaptureError::HeaderHint {
            error: Box::new(error),
            header: header.to_owned(),
        },
        None => error,
    }
}

/// The value the last `Set-Cookie` header naming cookie `name` sets (RFC 6265 §4.1:
/// `name=value` before the first `;`, optionally double-quoted).
fn set_cookie(headers: &[(String, String)], name: &str) -> Option<String> {
    headers
        .iter()
        .filter(|(n, _)| n == "set-cookie")
        .filter_map(|(_, value)| {
            let pair = value.split(';').next()?;
            let (cookie, value) = pair.split_once('=')?;
            (cookie.trim() == name).then(|| value.trim().trim_matches('"').to_owned())
        })
        .next_back()
}

/// Why a capture took no value from a response.
#[derive(Debug, thiserror::Error)]
enum CaptureError {
    /// A JSONPath capture, and the body is not JSON.
    #[error("the response body is not JSON")]
    NotJson,
    /// No response header of that name.
    #[error("the response has no `{name}` header")]
    NoHeader {
        /// The header's name.
        name: String,
    },
    /// No `Set-Cookie` sets that cookie.
    #[error("no `Set-Cookie` header sets cookie `{name}`")]
    NoCookie {
        /// The cookie's name.
        name: String,
    },
    /// The regex did not match.
    #[error("`{regex}` does not match")]
    NoMatch {
        /// The regex.
        regex: String,
    },
    /// The JSONPath does not parse.
    #[error(transparent)]
    Path(#[from] serde_json_path::ParseError),
    /// It selected no value.
    #[error("`{path}` selected nothing")]
    Nothing {
        /// The JSONPath, as parsed.
        path: String,
    },
    /// A JSONPath found nothing, and the response has a header of (nearly) the name it ends in.
    #[error(
        "{error}; the response has a `{header}` header: did you mean `{{ header: {header} }}`?"
    )]
    HeaderHint {
        /// What the JSONPath found.
        error: Box<CaptureError>,
        /// The header's name.
        header: String,
    },
    /// It selected more than one value.
    #[error("`{path}` selected {count} values, expected exactly one")]
    Many {
        /// The JSONPath, as parsed.
        path: String,
        /// How many it selected.
        count: usize,
    },
}

/// The one value `path` selects in `json`, as text (a string as it is, anything else as JSON).
fn capture_one(path: &str, json: &serde_json::Value) -> Result<String, CaptureError> {
    let path = serde_json_path::JsonPath::parse(path)?;
    let nodes = path.query(json).all();
    match nodes.as_slice() {
        [serde_json::Value::String(text)] => Ok(text.clone()),
        [value] => Ok(value.to_string()),
        [] => Err(CaptureError::Nothing {
            path: path.to_string(),
        }),
        many => Err(CaptureError::Many {
            path: path.to_string(),
            count: many.len(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Issue 16: `capture: { location: $.Location }` on a redirect points at the header.
    #[test]
    fn a_jsonpath_capture_that_finds_nothing_points_at_a_header_of_that_name() {
        let redirect = ReceivedResponse {
            status: 302,
            headers: vec![
                ("location".into(), "/next".into()),
                ("x-request-id".into(), "r-1".into()),
            ],
            body: String::new(),
        };
        let json_body = ReceivedResponse {
            body: r#"{"id":1}"#.into(),
            ..redirect.clone()
        };
        let capture = |path: &str, response: &ReceivedResponse| {
            let item = Capture {
                name: "v".into(),
                from: CaptureSource::Json(path.into()),
                regex: None,
            };
            capture_from(&item, response, &[], &mut None)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            capture("$.Location", &redirect),
            "the response body is not JSON; the response has a `location` header: did you mean `{ header: location }`?"
        );
        assert_eq!(
            capture("$['x_request_id']", &json_body),
            "`$['x_request_id']` selected nothing; the response has a `x-request-id` header: did you mean `{ header: x-request-id }`?"
        );
        assert_eq!(
            capture("$.locaton", &json_body),
            "`$.locaton` selected nothing; the response has a `location` header: did you mean `{ header: location }`?"
        );
        assert_eq!(capture("$.total", &json_body), "`$.total` selected nothing");
        assert_eq!(capture("$", &redirect), "the response body is not JSON");
    }

    /// The reasons land in the observation (and its snapshot): their text is pinned here.
    #[test]
    fn capture_takes_exactly_one_value_or_says_why_not() {
        let document = json!({ "id": "b-1", "lines": [1, 2], "total": 12.5 });
        for (path, expected) in [("$.id", "b-1"), ("$.total", "12.5"), ("$.lines", "[1,2]")] {
            assert_eq!(capture_one(path, &document).unwrap(), expected, "{path}");
        }
        for (path, reason) in [
            ("$.missing", "`$.missing` selected nothing"),
            (
                "$.lines[*]",
                "`$.lines[*]` selected 2 values, expected exactly one",
            ),
        ] {
            let err = capture_one(path, &document).unwrap_err();
            assert_eq!(err.to_string(), reason, "{path}");
        }
        let err = capture_one("$[", &document).unwrap_err();
        assert!(matches!(err, CaptureError::Path(_)), "{err:?}");
        assert_eq!(
            err.to_string(),
            serde_json_path::JsonPath::parse("$[")
                .unwrap_err()
                .to_string()
        );
    }
}
