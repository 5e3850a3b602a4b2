//! `provider: xero`, [`Xero`]: the identity server's token and revocation endpoints,
//! `GET /connections` and the Accounting API's Contacts, Invoices, Payments and ManualJournals,
//! with their state in [`XeroState`]. Payments and journals are checked and saved in `ledger`.
//!
//! Every behaviour traces to `domain-catalog.md` §1; `docs/providers/xero.md` gives the source tag
//! of each and says where the catalog is silent and what the mock does there.

use std::collections::BTreeMap;

use base64::Engine as _;
use bytes::Bytes;
use hyper::{Response, StatusCode};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use time::{Duration, OffsetDateTime};

use super::kit::records::{Kind, PastEnd, Store, page_number};
use super::kit::tokens::{
    AnswerField, Issued, Minted, RefreshPolicy, Revocation, Rotation, TokenPolicy, Tokens,
};
use super::kit::{AuthFailure, ErrorRenderer, Fake, RecordRefusal, RecordRenderer};
use super::{
    ProviderAnswer, ProviderPayload, ProviderRequest, ProviderWebhook, ProviderWebhookError, empty,
    oauth_error,
};
use crate::mock::engine::json_response;
use crate::mock::render::seeded_uuid;
use crate::mock::webhook::SigningSettings;
use crate::money;
use crate::scenario::model::{
    LimitKey, LimitKind, PathMatcher, Pattern, RateLimit, RequestMatcher, ResponseBody,
    ResponseSpec, SignAlgorithm, SignatureEncoding, XeroRateLimits, XeroSettings,
};

mod ledger;

/// Access token lifetime: 30 minutes [XERO-RESEARCH] §1.2.
pub(crate) const ACCESS_TOKEN_LIFETIME: Duration = Duration::minutes(30);
/// How long a rotated refresh token stays usable: 30 minutes [XERO-COMM-105714701].
pub(crate) const REFRESH_GRACE: Duration = Duration::minutes(30);
/// A refresh token unused this long expires: 60 days [XERO-RESEARCH] §1.2.
pub(crate) const REFRESH_IDLE_LIMIT: Duration = Duration::days(60);
/// Records per page with `?page=N`: 100 [XERO-OAS].
pub(crate) const PAGE_SIZE: usize = 100;
/// Largest `pageSize`: 1000 [XERO-RESEARCH] §5.3.
pub(crate) const MAX_PAGE_SIZE: usize = 1000;
/// How long an `Idempotency-Key` is remembered: 6 minutes [XERO-RESEARCH] §5.4.
pub(crate) const IDEMPOTENCY_WINDOW: Duration = Duration::minutes(6);
/// Longest `Idempotency-Key`: 128 characters [XERO-OAS].
pub(crate) const MAX_IDEMPOTENCY_KEY: usize = 128;
/// Header carrying a webhook's signature [XERO-WEBHOOK-SERVER], [XERO-OAS-WH].
pub(crate) const SIGNATURE_HEADER: &str = "x-xero-signature";
/// Where an event's `resourceUrl` points: the Accounting API on Xero's host [XERO-OAS-WH].
pub(crate) const RESOURCE_URL_BASE: &str = "https://api.xero.com/api.xro/2.0/";
/// Whether each Intent to Receive payload is correctly signed, in sending order (the catalog says
/// "some correctly and some incorrectly"; the series is reenact's).
pub(crate) const INTENT_TO_RECEIVE: [bool; 4] = [true, false, true, false];
/// Prefix of the Accounting API.
pub(crate) const API_PREFIX: &str = "/api.xro/2.0/";
/// The scopes a consent grants, as the token answer's `scope` lists them (space-separated). The
/// fake sees no consent screen, so it grants this fixed set (reenact's choice); a refresh keeps
/// the token's scopes. xero-python needs the field: its refresh calls `update_token(**answer)`,
/// whose `scope` is a required argument (`api_client/oauth2.py`).
pub(crate) const SCOPE: &str =
    "offline_access accounting.transactions accounting.contacts accounting.settings";
/// `ProviderName` of the Accounting API's answer envelope: Xero writes the calling app's name
/// there [XERO-OAS] ("Provider Name Example"); the fake's app is called this.
pub(crate) const PROVIDER_NAME: &str = "reenact";
/// Record fields holding a date (not a time): answered as `/Date(ms+0000)/` with a `…String`
/// twin [XERO-OAS].
const DATE_FIELDS: [&str; 4] = [
    "Date",
    "DueDate",
    "ExpectedPaymentDate",
    "PlannedPaymentDate",
];

/// A configured Xero fake.
#[derive(Debug)]
pub(crate) struct Xero {
    mock: String,
    settings: XeroSettings,
}

/// What one Xero fake holds: tokens, connections, contacts and invoices.
#[derive(Debug)]
pub(crate) struct XeroState {
    /// Ids generated so far (seeds the next one).
    serial: u64,
    /// Codes, consents (each carrying its `authEventId`) and tokens, under [`token_policy`].
    tokens: Tokens<String>,
    /// Connected tenants, in connection order.
    connections: Vec<Value>,
    /// Tenants disconnected since, as they were listed.
    disconnected: Vec<Value>,
    /// Contacts, invoices, payments and manual journals in creation order, as the API answers
    /// them (one scope: the fake does not tell tenants' records apart).
    records: Store<Collection>,
    /// `Idempotency-Key` → the request it came with and the answer given.
    idempotency: BTreeMap<String, Remembered>,
    /// Webhook events sent so far (`firstEventSequence` of the next one is this plus one).
    event_sequence: u64,
    /// Webhook payloads written so far, handshakes included (seeds their `entropy`).
    payloads: u64,
    /// Accounting answers given so far (seeds the envelope's `Id`).
    answers: u64,
}

/// A create answered under an `Idempotency-Key`.
#[derive(Debug)]
struct Remembered {
    at: OffsetDateTime,
    /// Method, path, query and body of the first request.
    request: (String, String, String, Vec<u8>),
    status: StatusCode,
    body: Bytes,
}

/// Xero's tokens as data: access tokens live 30 minutes [XERO-RESEARCH] §1.2; refresh tokens
/// expire when unused for 60 days [XERO-RESEARCH] §1.2, and every refresh answers a new one
/// while the one used keeps working for 30 minutes [XERO-COMM-105714701]; a revocation ends the
/// refresh token named [XERO-RESEARCH] §1.4. The answer has exactly the fields of Xero's
/// (xero-python's recorded refresh answer,
/// `tests/test_api_client/cassettes/test_token_api_refresh_token.yaml`, less `id_token`, which
/// comes with the `openid` scope only): xero-python passes it to `update_token(**answer)`, which
/// refuses a missing `scope` and any extra field.
pub(crate) fn token_policy() -> TokenPolicy {
    TokenPolicy {
        access_lifetime: ACCESS_TOKEN_LIFETIME,
        access_sliding: false,
        refresh: Some(RefreshPolicy {
            lifetime: REFRESH_IDLE_LIMIT,
            sliding: true,
            cap: None,
            rotation: Rotation::Every {
                grace: Some(REFRESH_GRACE),
            },
        }),
        code_lifetime: None,
        revocation: Revocation::RefreshToken,
        answer: &[
            AnswerField::AccessToken,
            AnswerField::ExpiresIn,
            AnswerField::TokenType("Bearer"),
            AnswerField::RefreshToken,
            AnswerField::Scope(SCOPE),
        ],
    }
}

impl XeroState {
    /// `{"connections": [..], "contacts": [..], "invoices": [..], "payments": [..],
    /// "manual_journals": [..], "issued": {"access": N, "refresh": N}}`: how many tokens were
    /// issued, never a token.
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "connections": self.connections,
            "contacts": self.records.bodies(Collection::Contacts),
            "invoices": self.records.bodies(Collection::Invoices),
            "payments": self.records.bodies(Collection::Payments),
            "manual_journals": self.records.bodies(Collection::ManualJournals),
            "issued": { "access": self.tokens.counts().0, "refresh": self.tokens.counts().1 },
        })
    }

    fn next_id(&mut self, mock: &str) -> String {
        next_id(&mut self.serial, mock)
    }

    /// The bodies of the records of `collection`, in creation order.
    fn bodies(&self, collection: Collection) -> impl Iterator<Item = &Value> {
        self.records
            .live(collection, None)
            .map(|record| &record.body)
    }
}

/// The Accounting API collections the fake serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Collection {
    Contacts,
    Invoices,
    Payments,
    ManualJournals,
}

impl Collection {
    /// The collection of a path segment, which is also its body key (`Invoices`).
    fn from_key(key: &str) -> Option<Collection> {
        Some(match key {
            "Contacts" => Collection::Contacts,
            "Invoices" => Collection::Invoices,
            "Payments" => Collection::Payments,
            "ManualJournals" => Collection::ManualJournals,
            _ => return None,
        })
    }

    /// The id field of its records (`InvoiceID`).
    fn id_field(self) -> &'static str {
        match self {
            Collection::Contacts => "ContactID",
            Collection::Invoices => "InvoiceID",
            Collection::Payments => "PaymentID",
            Collection::ManualJournals => "ManualJournalID",
        }
    }
}

impl Kind for Collection {
    /// The path segment and body key, e.g. `Invoices`.
    fn name(self) -> &'static str {
        match self {
            Collection::Contacts => "Contacts",
            Collection::Invoices => "Invoices",
            Collection::Payments => "Payments",
            Collection::ManualJournals => "ManualJournals",
        }
    }

    /// Xero's ids are GUIDs, read without regard to case.
    fn same_id(self, id: &str, asked: &str) -> bool {
        id.eq_ignore_ascii_case(asked)
    }
}

/// The next generated id after `serial`.
fn next_id(serial: &mut u64, mock: &str) -> String {
    *serial += 1;
    seeded_uuid(mock, *serial, 0)
}

/// Xero's limits [XERO-FAQ-LIMITS] as engine rate limits on the Accounting API: per tenant
/// (`xero-tenant-id`) concurrent, minute and day, then per app minute. The windows slide on the
/// virtual clock (Xero's older limits page: "5000 calls in a rolling 24 hour window", quoted in
/// xero-node #262). Passing answers carry `X-MinLimit-Remaining`, `X-DayLimit-Remaining` and
/// `X-AppMinLimit-Remaining`; a blocked call gets 429 with `X-Rate-Limit-Problem` for every limit
/// (xero-node #634: "It will include an X-Rate-Limit-Problem header telling you which limit you
/// have reached"): `minute` and `day` (xero-node #634, xero-python #74), `concurrent` and
/// `appminute` (secondary sources only: `docs/providers/xero.md`), the exhausted limit's
/// `X-…Limit-Remaining: 0` (Xero-Java's `XeroApiExceptionHandler` tells the limits apart by it)
/// and, for the windows, `Retry-After`.
pub(crate) fn rate_limits(limits: &XeroRateLimits) -> Vec<RateLimit> {
    // A path regex matches the whole path.
    let api = || RequestMatcher {
        path: regex::Regex::new(r"/api\.xro/.*")
            .ok()
            .map(|regex| PathMatcher::Regex(Pattern(regex))),
        ..RequestMatcher::default()
    };
    let tenant = || LimitKey::Header("xero-tenant-id".to_owned());
    // The engine adds every limit's `X-…Limit-Remaining` (0 for the one exhausted).
    let blocked = |problem: &str, window: bool| {
        let mut headers = vec![("X-Rate-Limit-Problem".to_owned(), problem.to_owned())];
        if window {
            headers.push(("Retry-After".to_owned(), "{{ retry_after }}".to_owned()));
        }
        ResponseSpec {
            status: 429,
            headers,
            body: ResponseBody::Empty,
        }
    };
    let window = |name: &str, key, limit, per, header: &str, problem| RateLimit {
        name: name.to_owned(),
        key,
        kind: LimitKind::Window { limit, per },
        request: Some(api()),
        response: blocked(problem, true),
        remaining_header: Some(header.to_owned()),
    };
    vec![
        RateLimit {
            name: "xero concurrent".to_owned(),
            key: tenant(),
            kind: LimitKind::Concurrent(limits.concurrent),
            request: Some(api()),
            response: blocked("concurrent", false),
            remaining_header: None,
        },
        window(
            "xero minute",
            tenant(),
            limits.minute,
            std::time::Duration::from_secs(60),
            "X-MinLimit-Remaining",
            "minute",
        ),
        window(
            "xero day",
            tenant(),
            limits.day,
            std::time::Duration::from_secs(86_400),
            "X-DayLimit-Remaining",
            "day",
        ),
        window(
            "xero app minute",
            LimitKey::Global,
            limits.app_minute,
            std::time::Duration::from_secs(60),
            "X-AppMinLimit-Remaining",
            "appminute",
        ),
    ]
}

impl Xero {
    /// A fake serving as mock `mock` with `settings`.
    pub(crate) fn new(mock: &str, settings: XeroSettings) -> Xero {
        Xero {
            mock: format!("{mock}/xero"),
            settings,
        }
    }

    /// The `entropy` of the next payload: 20 upper-case letters and digits, the same on every run.
    fn entropy(&self, state: &mut XeroState) -> String {
        state.payloads += 1;
        seeded_uuid(&self.mock, state.payloads, 1)
            .replace('-', "")
            .to_ascii_uppercase()
            .chars()
            .take(20)
            .collect()
    }

    /// `POST /connect/token`: `authorization_code` and `refresh_token` grants.
    fn token(&self, state: &mut XeroState, request: &ProviderRequest<'_>) -> Response<Bytes> {
        let form = request.form();
        let now = request.now;
        match form.get("grant_type").map(String::as_str) {
            Some("authorization_code") => {
                if let Err(refused) = state.tokens.redeem_code(&form, now, None) {
                    return oauth_error(refused.code());
                }
                let auth_event = state.next_id(&self.mock);
                for tenant in &self.settings.tenants {
                    let known = state
                        .connections
                        .iter()
                        .any(|c| c["tenantId"] == tenant.id.as_str());
                    let at = identity_date(now);
                    let earlier = state
                        .disconnected
                        .iter()
                        .position(|c| c["tenantId"] == tenant.id.as_str());
                    if let (false, Some(index)) = (known, earlier) {
                        // Reconnected: created stays, updated moves [XERO-RESEARCH] §1.3.
                        let mut connection = state.disconnected.remove(index);
                        connection["authEventId"] = Value::from(auth_event.clone());
                        connection["updatedDateUtc"] = Value::from(at);
                        state.connections.push(connection);
                    } else if !known {
                        let id = state.next_id(&self.mock);
                        state.connections.push(json!({
                            "id": id,
                            "authEventId": auth_event,
                            "tenantId": tenant.id,
                            "tenantType": "ORGANISATION",
                            "tenantName": tenant.name,
                            "createdDateUtc": at,
                            "updatedDateUtc": at,
                        }));
                    }
                }
                let (serial, mock) = (&mut state.serial, &self.mock);
                let issued = state
                    .tokens
                    .consent(auth_event, now, &mut mint(serial, mock, now));
                self.answer(state, &issued)
            }
            Some("refresh_token") => {
                let token = form.get("refresh_token").map(String::as_str);
                let (serial, mock) = (&mut state.serial, &self.mock);
                let refreshed = state
                    .tokens
                    .refresh(token, now, &mut mint(serial, mock, now));
                match refreshed {
                    Ok(issued) => self.answer(state, &issued),
                    Err(refused) => oauth_error(refused.code()),
                }
            }
            _ => oauth_error("unsupported_grant_type"),
        }
    }

    /// The token answer of `issued`, with the fields of [`token_policy`].
    fn answer(&self, state: &XeroState, issued: &Issued) -> Response<Bytes> {
        let answer = issued.answer(state.tokens.policy().answer);
        json_response(StatusCode::OK, &Value::Object(answer))
    }

    /// The 401 for a bearer token the fake did not issue (`AuthenticationUnsuccessful`) or that
    /// expired on the virtual clock (`TokenExpired: token expired at MM/DD/YYYY HH:MM:SS`, the
    /// expiry in UTC, as in the real bodies quoted in xeroizer PR #509 and xero-node #741, with
    /// their `Instance` and `Extensions`); `None` when the token is good.
    fn authenticate(
        &self,
        state: &mut XeroState,
        request: &ProviderRequest<'_>,
    ) -> Option<Response<Bytes>> {
        let failure = state
            .tokens
            .authenticate(request.bearer(), request.now)
            .err()?;
        Some(self.unauthenticated(&failure, request.now))
    }

    /// `GET /api.xro/2.0/Organisation` [XERO-OAS] `getOrganisations`: the tenant the
    /// `xero-tenant-id` names, with the scenario's lock dates. The settings do not say the rest:
    /// `BaseCurrency` is the first of `with.currencies` (else `USD`), `Timezone` `UTC` (the fake
    /// dates documents by the UTC day), `Version` `GLOBAL`, `OrganisationType` `COMPANY`,
    /// `OrganisationStatus` `ACTIVE`, `Edition` `BUSINESS` (reenact's choices, each a value of
    /// the OpenAPI's enums).
    fn organisation(&self, request: &ProviderRequest<'_>) -> Response<Bytes> {
        let id = request.header("xero-tenant-id").unwrap_or_default();
        let tenant = self.settings.tenants.iter().find(|t| t.id == id);
        let name = tenant.map(|t| t.name.as_str()).unwrap_or_default();
        let currency = self
            .settings
            .currencies
            .as_ref()
            .and_then(|c| c.first())
            .map_or("USD", String::as_str);
        let mut organisation = json!({
            "OrganisationID": id,
            "Name": name,
            "LegalName": name,
            "Version": "GLOBAL",
            "OrganisationType": "COMPANY",
            "BaseCurrency": currency,
            "OrganisationStatus": "ACTIVE",
            "IsDemoCompany": false,
            "Timezone": "UTC",
            "Edition": "BUSINESS",
        });
        for (field, date) in [
            ("PeriodLockDate", &self.settings.period_lock_date),
            ("EndOfYearLockDate", &self.settings.end_of_year_lock_date),
        ] {
            if let Some(date) = date {
                organisation[field] = Value::from(date.as_str());
            }
        }
        json_response(StatusCode::OK, &json!({ "Organisations": [organisation] }))
    }

    /// A `200` answer of the Accounting API as Xero writes it [XERO-OAS]: the envelope `Id`,
    /// `Status: OK`, `ProviderName` and `DateTimeUTC` (`/Date(ms)/`, no offset) first, and every
    /// document date of the records as `/Date(ms+0000)/` with its `…String` twin
    /// (`2019-03-07T00:00:00`). Records are kept as the client sent them; only the answer is
    /// written so. Other answers pass unchanged.
    fn enveloped(
        &self,
        state: &mut XeroState,
        now: OffsetDateTime,
        response: Response<Bytes>,
    ) -> Response<Bytes> {
        if response.status() != StatusCode::OK {
            return response;
        }
        let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(response.body()) else {
            return response;
        };
        state.answers += 1;
        let millis = now.unix_timestamp_nanos() / 1_000_000;
        let mut enveloped = Map::new();
        enveloped.insert(
            "Id".to_owned(),
            Value::from(seeded_uuid(&self.mock, state.answers, 2)),
        );
        enveloped.insert("Status".to_owned(), Value::from("OK"));
        enveloped.insert("ProviderName".to_owned(), Value::from(PROVIDER_NAME));
        enveloped.insert(
            "DateTimeUTC".to_owned(),
            Value::from(format!("/Date({millis})/")),
        );
        for (key, mut value) in body {
            if !matches!(
                key.as_str(),
                "Id" | "Status" | "ProviderName" | "DateTimeUTC"
            ) {
                render_dates(&mut value, 0);
                enveloped.insert(key, value);
            }
        }
        let mut answer = json_response(StatusCode::OK, &Value::Object(enveloped));
        *answer.headers_mut() = response.headers().clone();
        answer
    }

    /// A create (or, with `id`, an invoice update) under `Idempotency-Key` [XERO-OAS],
    /// [XERO-RESEARCH] §5.4: within 6 minutes the same key and request get the first answer again
    /// (nothing is created twice); the same key with another request gets 400. Without the
    /// header, a plain create or update.
    fn create_once(
        &self,
        state: &mut XeroState,
        collection: Collection,
        id: Option<&str>,
        request: &ProviderRequest<'_>,
    ) -> Response<Bytes> {
        let write = |state: &mut XeroState| {
            let written = match id {
                Some(id) => self.update_invoice(state, id, request),
                None => self.create(state, collection, request),
            };
            self.enveloped(state, request.now, written)
        };
        let Some(key) = request.header("idempotency-key").map(str::to_owned) else {
            return write(state);
        };
        if key.chars().count() > MAX_IDEMPOTENCY_KEY {
            // The catalog gives the limit, not the answer to a longer key: an empty 400.
            return empty(StatusCode::BAD_REQUEST);
        }
        let fingerprint = (
            request.view.method.to_ascii_uppercase(),
            request.view.path.to_owned(),
            request.view.query.to_owned(),
            request.view.body.to_vec(),
        );
        let now = request.now;
        if let Some(seen) = state.idempotency.get(&key)
            && now < seen.at + IDEMPOTENCY_WINDOW
        {
            if seen.request != fingerprint {
                // The catalog says 400 but gives no body: an empty 400.
                return empty(StatusCode::BAD_REQUEST);
            }
            let mut replay = json_response(seen.status, &Value::Null);
            *replay.body_mut() = seen.body.clone();
            return replay;
        }
        let response = write(state);
        state.idempotency.insert(
            key,
            Remembered {
                at: now,
                request: fingerprint,
                status: response.status(),
                body: response.body().clone(),
            },
        );
        response
    }

    /// `POST /api.xro/2.0/Invoices/{id}` with `{"Invoices": [fields]}`: the given fields replace
    /// the invoice's, which is validated again as a whole (lock date [XERO-RESEARCH] §7.12,
    /// accounts, contact, currency), its totals recomputed [XERO-RESEARCH] §7.14 with
    /// `AmountDue` = `Total` − `AmountPaid`, and its `UpdatedDateUTC` moved to now (which
    /// `If-Modified-Since` sees, [XERO-RESEARCH] §5.3). The catalog documents no update rules:
    /// refusing a `PAID` invoice and a total below what is already paid, and the empty `404` for
    /// an unknown id, are reenact's choices.
    fn update_invoice(
        &self,
        state: &mut XeroState,
        id: &str,
        request: &ProviderRequest<'_>,
    ) -> Response<Bytes> {
        let current = match state.records.find(Collection::Invoices, "", id) {
            Ok(record) => record.body.clone(),
            Err(refusal) => return self.refused(&refusal, request.now),
        };
        let changes = match serde_json::from_slice::<Value>(request.view.body) {
            Ok(Value::Object(mut body)) => match body.remove("Invoices") {
                Some(Value::Array(mut items)) if items.len() == 1 => items.remove(0),
                _ => return validation_exception(vec![]),
            },
            _ => return validation_exception(vec![]),
        };
        let Value::Object(changes) = changes else {
            return validation_exception(vec![with_errors(
                changes,
                &["An element must be a JSON object".to_owned()],
            )]);
        };
        let Value::Object(mut fields) = current else {
            return validation_exception(vec![]);
        };
        let paid = fields
            .get("AmountPaid")
            .and_then(money::parse)
            .unwrap_or_default();
        let mut errors = Vec::new();
        if fields.get("Status").and_then(Value::as_str) == Some("PAID") {
            errors.push("A paid invoice cannot be edited".to_owned());
        }
        for (name, value) in &changes {
            // Computed and identifying fields are the fake's, not the client's.
            if !matches!(
                name.as_str(),
                "InvoiceID"
                    | "UpdatedDateUTC"
                    | "SubTotal"
                    | "TotalTax"
                    | "Total"
                    | "AmountDue"
                    | "AmountPaid"
                    | "Payments"
            ) {
                fields.insert(name.clone(), value.clone());
            }
        }
        errors.extend(validate(state, &self.settings, "Invoices", &fields));
        add_totals(&mut fields, &self.settings);
        let total = fields
            .get("Total")
            .and_then(money::parse)
            .unwrap_or_default();
        if errors.is_empty() && total < paid {
            errors.push(format!(
                "The invoice total ({}) cannot be less than the amount already paid ({})",
                money::to_json(total),
                money::to_json(paid)
            ));
        }
        if !errors.is_empty() {
            return validation_exception(vec![with_errors(Value::Object(changes), &errors)]);
        }
        fields.insert("AmountPaid".to_owned(), money::to_json(paid));
        fields.insert("AmountDue".to_owned(), money::to_json(total - paid));
        fields.insert(
            "UpdatedDateUTC".to_owned(),
            Value::from(ms_json_date(request.now)),
        );
        let saved = Value::Object(fields);
        match state
            .records
            .update(Collection::Invoices, "", id, None, request.now)
        {
            Ok(record) => record.body = saved.clone(),
            Err(refusal) => return self.refused(&refusal, request.now),
        }
        json_response(StatusCode::OK, &json!({ "Invoices": [saved] }))
    }

    /// `PUT`/`POST` on a collection: create every element of the body's array.
    fn create(
        &self,
        state: &mut XeroState,
        collection: Collection,
        request: &ProviderRequest<'_>,
    ) -> Response<Bytes> {
        let (key, id_field) = (collection.name(), collection.id_field());
        let elements = match serde_json::from_slice::<Value>(request.view.body) {
            Ok(Value::Object(mut body)) => match body.remove(key) {
                Some(Value::Array(items)) => items,
                _ => return validation_exception(vec![]),
            },
            _ => return validation_exception(vec![]),
        };
        // What earlier payments of this batch take off each invoice, so that two payments of
        // one batch cannot together pay more than is due.
        let mut pending = BTreeMap::new();
        let checked: Vec<(Value, Vec<String>)> = elements
            .into_iter()
            .map(|element| {
                let errors = match &element {
                    Value::Object(fields) => match key {
                        "Payments" => ledger::payment_errors(
                            state,
                            &self.settings,
                            fields,
                            request.now,
                            &mut pending,
                        ),
                        "ManualJournals" => {
                            ledger::journal_errors(&self.settings, fields, request.now)
                        }
                        _ => validate(state, &self.settings, key, fields),
                    },
                    _ => vec!["An element must be a JSON object".to_owned()],
                };
                (element, errors)
            })
            .collect();
        let summarize = request
            .query_param("summarizeErrors")
            .is_none_or(|v| !v.eq_ignore_ascii_case("false"));
        if summarize && checked.iter().any(|(_, errors)| !errors.is_empty()) {
            let failing = checked
                .into_iter()
                .filter(|(_, errors)| !errors.is_empty())
                .map(|(element, errors)| with_errors(element, &errors))
                .collect();
            return validation_exception(failing);
        }
        let mut answered = Vec::with_capacity(checked.len());
        for (element, errors) in checked {
            if errors.is_empty() {
                let Value::Object(mut fields) = element else {
                    unreachable!("validate refuses non-objects")
                };
                fields.insert(id_field.to_owned(), Value::from(state.next_id(&self.mock)));
                fields.insert(
                    "UpdatedDateUTC".to_owned(),
                    Value::from(ms_json_date(request.now)),
                );
                match key {
                    "Invoices" => add_totals(&mut fields, &self.settings),
                    "Payments" => ledger::apply_payment(state, &mut fields, request.now),
                    "ManualJournals" => ledger::complete_journal(&mut fields, request.now),
                    _ => {
                        // Every contact is ACTIVE unless created ARCHIVED (reenact's choice).
                        fields
                            .entry("ContactStatus")
                            .or_insert_with(|| Value::from("ACTIVE"));
                    }
                }
                let saved = Value::Object(fields);
                let mut shown = saved.clone();
                if !summarize {
                    shown["StatusAttributeString"] = Value::from("OK");
                }
                let id = saved[id_field].as_str().unwrap_or_default().to_owned();
                state.records.insert(collection, "", id, request.now, saved);
                answered.push(shown);
            } else {
                let mut shown = with_errors(element, &errors);
                shown["StatusAttributeString"] = Value::from("ERROR");
                answered.push(shown);
            }
        }
        json_response(StatusCode::OK, &json!({ key: answered }))
    }
}

/// The errors of one contact or invoice to create; empty when it is valid.
fn validate(
    state: &XeroState,
    settings: &XeroSettings,
    key: &str,
    fields: &Map<String, Value>,
) -> Vec<String> {
    let mut errors = Vec::new();
    let text = |name: &str| {
        fields
            .get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    match key {
        "Contacts" => {
            if text("Name").is_none() {
                errors.push("The contact name must be specified".to_owned());
            }
            // A contact is created ACTIVE or ARCHIVED (catalog X-08 names archived contacts;
            // the message is reenact's).
            if let Some(status) = fields.get("ContactStatus")
                && !matches!(status.as_str(), Some("ACTIVE" | "ARCHIVED"))
            {
                errors.push("ContactStatus must be ACTIVE or ARCHIVED".to_owned());
            }
            // Names are unique among active contacts; archived ones do not count (Xero-OpenAPI
            // `createContacts` 400 example). Comparing without case is reenact's choice.
            let active = |status: Option<&Value>| status.is_none_or(|s| s == "ACTIVE");
            if let Some(name) = text("Name")
                && active(fields.get("ContactStatus"))
                && state.bodies(Collection::Contacts).any(|c| {
                    active(c.get("ContactStatus"))
                        && c["Name"]
                            .as_str()
                            .is_some_and(|n| n.eq_ignore_ascii_case(name))
                })
            {
                errors.push(format!(
                    "The contact name {name} is already assigned to another contact. The contact name must be unique across all active contacts."
                ));
            }
        }
        _ => {
            if !matches!(text("Type"), Some("ACCREC" | "ACCPAY")) {
                errors.push("Invoice Type must be specified as ACCREC or ACCPAY".to_owned());
            }
            // Sales-invoice numbers are unique; bills (`ACCPAY`) may repeat theirs (Xero-OpenAPI
            // `Invoice.InvoiceNumber`: "ACCREC – Unique alpha numeric code identifying invoice";
            // the message is the getInvoice example's). An exact comparison is reenact's choice.
            if let (Some("ACCREC"), Some(number)) = (text("Type"), text("InvoiceNumber"))
                && state.bodies(Collection::Invoices).any(|other| {
                    other["Type"] == "ACCREC"
                        && other["InvoiceNumber"] == number
                        && fields.get("InvoiceID") != other.get("InvoiceID")
                })
            {
                errors.push("Invoice # must be unique.".to_owned());
            }
            for line in line_items(fields) {
                if let Some(code) = line.get("AccountCode").and_then(Value::as_str) {
                    errors.extend(account_error(settings, code));
                }
            }
            for line in line_items(fields) {
                for field in ["Quantity", "UnitAmount", "LineAmount", "TaxAmount"] {
                    if line.get(field).is_some_and(|v| money::parse(v).is_none()) {
                        errors.push(format!("{field} must be a number with at most 4 decimals"));
                    }
                }
            }
            if totals(fields, settings).is_none() {
                // reenact's message: the fake cannot hold the amount (Xero's limits are lower).
                errors.push(
                    "The invoice amounts are too large: a line amount or total exceeds 79228162514264337593543950335"
                        .to_owned(),
                );
            }
            // A currency the organisation does not subscribe to is refused [XERO-RESEARCH] §7.13.
            if let (Some(subscribed), Some(currency)) = (&settings.currencies, text("CurrencyCode"))
                && !subscribed.iter().any(|code| code == currency)
            {
                errors.push(format!(
                    "Organisation is not subscribed to currency {currency}"
                ));
            }
            if let Some(date) = fields.get("Date") {
                errors.extend(lock_date_error(settings, date));
            }
            match fields.get("Contact") {
                Some(contact) => match contact.get("ContactID").and_then(Value::as_str) {
                    Some(id) => match state
                        .bodies(Collection::Contacts)
                        .find(|c| c["ContactID"] == id)
                    {
                        None => errors.push(format!(
                            "The contact with ContactID {id} could not be found"
                        )),
                        // A document for an archived contact is refused (catalog X-08; the
                        // message is reenact's).
                        Some(found) if found["ContactStatus"] == "ARCHIVED" => {
                            errors.push(format!(
                                "The contact with ContactID {id} is archived; documents cannot be created for an archived contact"
                            ));
                        }
                        Some(_) => {}
                    },
                    None if contact.get("Name").and_then(Value::as_str).is_some() => {}
                    None => errors.push("A Contact must be specified".to_owned()),
                },
                None => errors.push("A Contact must be specified".to_owned()),
            }
        }
    }
    errors
}

/// Why a line may not book to account `code`: none when `with.accounts` is absent or names it as
/// an active account; archived accounts are refused (catalog X-08; the message texts are
/// reenact's).
fn account_error(settings: &XeroSettings, code: &str) -> Option<String> {
    let accounts = settings.accounts.as_ref()?;
    match accounts.iter().find(|account| account.code == code) {
        None => Some(format!(
            "Account code '{code}' is not a valid code for this document."
        )),
        Some(account) if account.status == "ARCHIVED" => Some(format!(
            "Account code '{code}' has been archived, or deleted. Each line item must reference a valid account."
        )),
        Some(_) => None,
    }
}

/// The refusal of a document dated `date` on or before a lock date [XERO-RESEARCH] §7.12; none
/// when it is later, or either date is unreadable.
fn lock_date_error(settings: &XeroSettings, date: &Value) -> Option<String> {
    let lock = [&settings.period_lock_date, &settings.end_of_year_lock_date]
        .into_iter()
        .flatten()
        .filter_map(|date| document_date(&Value::from(date.as_str())))
        .max()?;
    (document_date(date)? <= lock)
        .then(|| "The document date cannot be before the period lock date".to_owned())
}

/// The `LineItems` of an invoice (none when absent or not a list).
fn line_items(fields: &Map<String, Value>) -> impl Iterator<Item = &Value> {
    fields
        .get("LineItems")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// An invoice's computed amounts: each line's `LineAmount` and `TaxAmount`, the sums of the
/// lines' net amounts and taxes, and the total.
struct Totals {
    lines: Vec<(Decimal, Decimal)>,
    net: Decimal,
    tax: Decimal,
    total: Decimal,
}

/// The amounts [`add_totals`] writes, or `None` when one is beyond what a [`Decimal`] holds
/// (about 7.9 × 10^28: the product of two 20-digit amounts is): `validate` refuses such an
/// invoice instead of overflowing.
fn totals(fields: &Map<String, Value>, settings: &XeroSettings) -> Option<Totals> {
    let kind = fields
        .get("LineAmountTypes")
        .and_then(Value::as_str)
        .unwrap_or("Exclusive");
    let rate_of = |line: &Value| -> Decimal {
        let code = line.get("AccountCode").and_then(Value::as_str);
        settings
            .accounts
            .iter()
            .flatten()
            .find(|account| Some(account.code.as_str()) == code)
            .and_then(|account| account.tax_rate.as_deref())
            .and_then(money::parse_text)
            .unwrap_or_default()
    };
    let mut totals = Totals {
        lines: Vec::new(),
        net: Decimal::ZERO,
        tax: Decimal::ZERO,
        total: Decimal::ZERO,
    };
    for line in line_items(fields) {
        let quantity = line
            .get("Quantity")
            .and_then(money::parse)
            .unwrap_or(Decimal::ONE);
        let amount = match line.get("UnitAmount").and_then(money::parse) {
            Some(unit) => money::cents(quantity.checked_mul(unit)?),
            None => line
                .get("LineAmount")
                .and_then(money::parse)
                .unwrap_or_default(),
        };
        let rate = rate_of(line);
        let tax = match line.get("TaxAmount").and_then(money::parse) {
            Some(tax) => tax,
            None => match kind {
                "NoTax" => Decimal::ZERO,
                "Inclusive" => {
                    money::cents_of_quotient(amount.checked_mul(rate)?, Decimal::ONE_HUNDRED + rate)
                }
                _ => money::cents_of_quotient(amount.checked_mul(rate)?, Decimal::ONE_HUNDRED),
            },
        };
        let net = if kind == "Inclusive" {
            amount.checked_sub(tax)?
        } else {
            amount
        };
        totals.net = totals.net.checked_add(net)?;
        totals.tax = totals.tax.checked_add(tax)?;
        totals.lines.push((amount, tax));
    }
    totals.total = totals.net.checked_add(totals.tax)?;
    Some(totals)
}

/// Xero's totals of an invoice [XERO-RESEARCH] §7.14: each line's `LineAmount` (quantity × unit
/// amount, to cents) and `TaxAmount` (to cents, per line: a line's own `TaxAmount` wins, else its
/// account's `tax_rate` on the line, inclusive or exclusive as `LineAmountTypes` says, default
/// `Exclusive`), then `SubTotal`, `TotalTax` and `Total` as sums of the rounded lines, with
/// `AmountDue` = `Total`, `AmountPaid` 0 and `Status` `DRAFT` unless given.
fn add_totals(fields: &mut Map<String, Value>, settings: &XeroSettings) {
    // `validate` refused an invoice whose amounts overflow, so there are totals.
    let Some(totals) = totals(fields, settings) else {
        return;
    };
    if let Some(Value::Array(lines)) = fields.get_mut("LineItems") {
        for (line, (amount, tax)) in lines.iter_mut().zip(&totals.lines) {
            // Indexing a line that is not an object would panic.
            if let Some(line) = line.as_object_mut() {
                line.insert("LineAmount".to_owned(), money::to_json(*amount));
                line.insert("TaxAmount".to_owned(), money::to_json(*tax));
            }
        }
    }
    let Totals {
        net: net_total,
        tax: tax_total,
        total,
        ..
    } = totals;
    fields.insert("SubTotal".to_owned(), money::to_json(net_total));
    fields.insert("TotalTax".to_owned(), money::to_json(tax_total));
    fields.insert("Total".to_owned(), money::to_json(total));
    fields.insert("AmountDue".to_owned(), money::to_json(total));
    fields.insert("AmountPaid".to_owned(), money::to_json(Decimal::ZERO));
    fields
        .entry("Status")
        .or_insert_with(|| Value::from("DRAFT"));
}

fn with_errors(element: Value, errors: &[String]) -> Value {
    let mut fields = match element {
        Value::Object(fields) => fields,
        other => {
            let mut fields = Map::new();
            fields.insert("Value".to_owned(), other);
            fields
        }
    };
    let errors: Vec<Value> = errors.iter().map(|m| json!({ "Message": m })).collect();
    fields.insert("ValidationErrors".to_owned(), Value::from(errors));
    Value::Object(fields)
}

/// The 400 `ValidationException` body [XERO-OAS].
fn validation_exception(elements: Vec<Value>) -> Response<Bytes> {
    json_response(
        StatusCode::BAD_REQUEST,
        &json!({
            "ErrorNumber": 10,
            "Type": "ValidationException",
            "Message": "A validation exception occurred",
            "Elements": elements,
        }),
    )
}

/// `GET` on a collection: all records, or page `?page=N` of [`PAGE_SIZE`].
fn list(
    state: &XeroState,
    collection: Collection,
    request: &ProviderRequest<'_>,
) -> Response<Bytes> {
    let key = collection.name();
    // `InvoiceNumbers=A,B` keeps the invoices with those numbers [XERO-OAS].
    let numbers = (collection == Collection::Invoices)
        .then(|| request.query_param("InvoiceNumbers"))
        .flatten();
    let wanted: Option<Vec<&str>> = numbers
        .as_deref()
        .map(|numbers| numbers.split(',').map(str::trim).collect());
    // `If-Modified-Since` keeps the records updated after it, to the second [XERO-RESEARCH] §5.3.
    let since = request.header("if-modified-since").and_then(modified_since);
    let records: Vec<Value> = state
        .bodies(collection)
        .filter(|record| {
            wanted.as_ref().is_none_or(|wanted| {
                record["InvoiceNumber"]
                    .as_str()
                    .is_some_and(|number| wanted.contains(&number))
            })
        })
        .filter(|record| since.is_none_or(|since| updated_at(record).is_some_and(|at| at > since)))
        .cloned()
        .collect();
    let page_size = request
        .query_param("pageSize")
        .and_then(|size| size.parse::<usize>().ok())
        .map(|size| size.clamp(1, MAX_PAGE_SIZE));
    let page = request
        .query_param("page")
        .map(|page| page.parse::<usize>().unwrap_or(1).max(1));
    let shown: Vec<Value> = match (page, page_size) {
        (None, None) => records.clone(),
        _ => {
            let size = page_size.unwrap_or(PAGE_SIZE);
            let shown = page_number(records.len(), page.unwrap_or(1), size, PastEnd::Empty);
            records[shown.range].to_vec()
        }
    };
    let mut body = json!({ key: shown });
    if let Some(size) = page_size {
        body["pagination"] = json!({
            "page": page.unwrap_or(1),
            "pageSize": size,
            "pageCount": records.len().div_ceil(size),
            "itemCount": records.len(),
        });
    }
    json_response(StatusCode::OK, &body)
}

fn get_one(
    xero: &Xero,
    state: &XeroState,
    collection: Collection,
    id: &str,
    now: OffsetDateTime,
) -> Response<Bytes> {
    match state.records.find(collection, "", id) {
        Ok(record) => json_response(StatusCode::OK, &json!({ collection.name(): [record.body] })),
        Err(refusal) => xero.refused(&refusal, now),
    }
}

/// The instant an `If-Modified-Since` header names [XERO-RESEARCH] §5.3, in UTC and cut to the
/// second: an ISO date-time with its offset read (`2020-02-06T12:17:43.202-08:00`, the example
/// of Xero-OpenAPI's `ifModifiedSince`; xero-python sends `datetime.isoformat()`, e.g.
/// `2026-10-31T23:00:00+00:00`), one without an offset (UTC; a fraction is allowed), or an HTTP
/// date (`Sun, 01 Nov 2026 10:00:00 GMT`, reenact's choice). A header in any other form is
/// ignored (the whole list is answered).
fn modified_since(header: &str) -> Option<OffsetDateTime> {
    let header = header.trim();
    let http = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let with_offset = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]][offset_hour]:[offset_minute]"
    );
    let naive = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    let at = if let Ok(at) = OffsetDateTime::parse(header, with_offset) {
        at.to_offset(time::UtcOffset::UTC)
    } else {
        let header = header.strip_suffix('Z').unwrap_or(header);
        time::PrimitiveDateTime::parse(header, http)
            .or_else(|_| time::PrimitiveDateTime::parse(header, naive))
            .ok()?
            .assume_utc()
    };
    at.replace_millisecond(0).ok()
}

/// When a record was last updated: its MS-JSON `UpdatedDateUTC`, cut to the second.
fn updated_at(record: &Value) -> Option<OffsetDateTime> {
    let millis = record["UpdatedDateUTC"]
        .as_str()?
        .strip_prefix("/Date(")?
        .split(['+', '-', ')'])
        .next()?
        .parse::<i64>()
        .ok()?;
    OffsetDateTime::from_unix_timestamp(millis.div_euclid(1000)).ok()
}

/// `DELETE /connections/{id}` [XERO-RESEARCH] §1.4: the tenant is no longer connected, so its
/// API calls get the 403 of [`check_tenant`]. The catalog gives no status for the answer or for
/// an unknown id: `204` and an empty `404`.
fn disconnect(state: &mut XeroState, id: &str) -> Response<Bytes> {
    match state.connections.iter().position(|c| c["id"] == id) {
        Some(index) => {
            let connection = state.connections.remove(index);
            state.disconnected.push(connection);
            empty(StatusCode::NO_CONTENT)
        }
        None => empty(StatusCode::NOT_FOUND),
    }
}

/// The date of a document: `YYYY-MM-DD` (optionally followed by a time, which is ignored) or
/// MS-JSON `/Date(ms+0000)/` (its UTC date).
fn document_date(value: &Value) -> Option<time::Date> {
    let text = value.as_str()?;
    if let Some(millis) = text
        .strip_prefix("/Date(")
        .and_then(|rest| rest.split(['+', '-', ')']).next())
        .and_then(|ms| ms.parse::<i64>().ok())
    {
        return OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
            .ok()
            .map(OffsetDateTime::date);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text.get(..10)?, format).ok()
}

/// `createdDateUtc`/`updatedDateUtc` of a connection as Xero writes them: UTC without an offset,
/// seven fraction digits (`xero-identity.yaml`: `"createdDateUtc": "2019-12-07T18:46:19.5165400"`).
fn identity_date(at: OffsetDateTime) -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:7]"
    );
    at.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_default()
}

/// `eventDateUtc` as Xero writes it, UTC without an offset: `2026-10-31T23:00:00.000`
/// [XERO-OAS-WH] (the catalog names the field, not its format: this one is reenact's).
fn event_date(at: OffsetDateTime) -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]"
    );
    at.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_default()
}

/// `POST /connect/revocation` with `token=<refresh_token>` [XERO-RESEARCH] §1.4.
fn revoke(state: &mut XeroState, request: &ProviderRequest<'_>) -> Response<Bytes> {
    if let Some(token) = request.form().get("token") {
        state.tokens.revoke(token);
    }
    empty(StatusCode::OK)
}

/// An access token's expiry as `TokenExpired` writes it: UTC, `MM/DD/YYYY HH:MM:SS`
/// (xero-node #741: "token expired at 02/20/2025 08:32:50" for `expires_at` 1740040370).
fn expired_at(at: OffsetDateTime) -> String {
    let format = time::macros::format_description!("[month]/[day]/[year] [hour]:[minute]:[second]");
    at.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_default()
}

/// Writes the document dates of an answer's records as Xero does [XERO-OAS]: `Date` of a
/// `YYYY-MM-DD` or MS-JSON value becomes `/Date(ms+0000)/` (midnight UTC) plus `DateString`
/// `YYYY-MM-DDT00:00:00`; lock dates of an organisation too. Arrays and the records they hold
/// (`Payments` of an invoice, `Invoice` of a payment) are walked a few levels deep.
fn render_dates(value: &mut Value, depth: u8) {
    if depth > 4 {
        return;
    }
    match value {
        Value::Array(items) => {
            for item in items {
                render_dates(item, depth + 1);
            }
        }
        Value::Object(fields) => {
            for field in DATE_FIELDS
                .iter()
                .chain(&["PeriodLockDate", "EndOfYearLockDate"])
            {
                let Some(date) = fields.get(*field).and_then(document_date) else {
                    continue;
                };
                let midnight = date.midnight().assume_utc();
                fields.insert((*field).to_owned(), Value::from(ms_json_date(midnight)));
                if DATE_FIELDS.contains(field) {
                    fields.insert(
                        format!("{field}String"),
                        Value::from(format!("{date}T00:00:00")),
                    );
                }
            }
            for (_, nested) in fields.iter_mut() {
                if nested.is_array() || nested.is_object() {
                    render_dates(nested, depth + 1);
                }
            }
        }
        _ => {}
    }
}

/// The 403 for an `xero-tenant-id` that names no connected tenant [XERO-OAS], [FS-XERO-403];
/// `None` when it names one.
fn check_tenant(state: &XeroState, request: &ProviderRequest<'_>) -> Option<Response<Bytes>> {
    let connected = request
        .header("xero-tenant-id")
        .is_some_and(|id| state.connections.iter().any(|c| c["tenantId"] == id));
    if connected {
        None
    } else {
        Some(json_response(
            StatusCode::FORBIDDEN,
            &json!({ "Title": "Forbidden", "Status": 403, "Detail": "AuthenticationUnsuccessful" }),
        ))
    }
}

/// MS-JSON date `/Date(1551484292734+0000)/` [XERO-OAS].
pub(crate) fn ms_json_date(at: OffsetDateTime) -> String {
    let millis = at.unix_timestamp_nanos() / 1_000_000;
    format!("/Date({millis}+0000)/")
}

/// A JWT-shaped access token (header, claims, signature; base64url) carrying the claims the
/// catalog names: `xero_userid`, `authentication_event_id`, plus `iat`/`nbf`/`exp` on the
/// virtual clock. The signature is a deterministic digest, not a real RS256 signature.
/// Xero's tokens, minted for the token service at `now`: an access token shaped as Xero's
/// ([`access_token`], for the consent's `authEventId`), a refresh token of 32 hex digits.
fn mint<'a>(
    serial: &'a mut u64,
    mock: &'a str,
    now: OffsetDateTime,
) -> impl FnMut(Minted, &String) -> String + 'a {
    move |kind, auth_event| match kind {
        Minted::Access => {
            let user = seeded_uuid(mock, 0, 1);
            let jti = next_id(serial, mock);
            access_token(&user, auth_event, &jti, now)
        }
        Minted::Refresh => next_id(serial, mock).replace('-', ""),
    }
}

fn access_token(user: &str, event: &str, jti: &str, now: OffsetDateTime) -> String {
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let iat = now.unix_timestamp();
    let header = b64(&json!({ "alg": "RS256", "typ": "JWT" }));
    let claims = b64(&json!({
        "nbf": iat,
        "iat": iat,
        "exp": iat + ACCESS_TOKEN_LIFETIME.whole_seconds(),
        "xero_userid": user,
        "authentication_event_id": event,
        "jti": jti,
    }));
    // Unique per token (the jti is), the same on every run.
    let signature = jti.replace('-', "");
    format!("{header}.{claims}.{signature}")
}

impl ErrorRenderer for Xero {
    /// The 401 for a bearer token the fake did not issue (`AuthenticationUnsuccessful`) or that
    /// expired on the virtual clock (`TokenExpired: token expired at MM/DD/YYYY HH:MM:SS`, the
    /// expiry in UTC, as in the real bodies quoted in xeroizer PR #509 and xero-node #741, with
    /// their `Instance` and `Extensions`).
    fn unauthenticated(&self, failure: &AuthFailure, _now: OffsetDateTime) -> Response<Bytes> {
        let mut body = json!({
            "Type": null,
            "Title": "Unauthorized",
            "Status": 401,
            "Detail": "AuthenticationUnsuccessful",
        });
        if let AuthFailure::Expired { at } = failure {
            let seed = u64::try_from(at.unix_timestamp()).unwrap_or_default();
            body["Detail"] = Value::from(format!(
                "TokenExpired: token expired at {}",
                expired_at(*at)
            ));
            body["Instance"] = Value::from(seeded_uuid(&self.mock, seed, 3));
            body["Extensions"] = json!({});
        }
        json_response(StatusCode::UNAUTHORIZED, &body)
    }
}

impl RecordRenderer for Xero {
    type Refused = Response<Bytes>;

    /// Xero's answer to an id it does not hold, deleted or never there: an empty `404` (the
    /// catalog gives no body). Xero records carry no version, so a stale write cannot happen.
    fn refused(&self, _refusal: &RecordRefusal, _now: OffsetDateTime) -> Response<Bytes> {
        empty(StatusCode::NOT_FOUND)
    }
}

impl Fake for Xero {
    type State = XeroState;

    const NAME: &'static str = "xero";

    /// The state a run starts with: the contacts of `with.contacts`, in order, with generated
    /// `ContactID`s and their `ContactStatus`. They carry no `UpdatedDateUTC` (the state is made
    /// before the clock is read; a choice), so `If-Modified-Since` never lists them.
    fn fresh_state(&self) -> XeroState {
        let mut state = XeroState {
            serial: 0,
            tokens: Tokens::new(token_policy()),
            connections: Vec::new(),
            disconnected: Vec::new(),
            records: Store::default(),
            idempotency: BTreeMap::new(),
            event_sequence: 0,
            payloads: 0,
            answers: 0,
        };
        for contact in self.settings.contacts.iter().flatten() {
            let id = state.next_id(&self.mock);
            let body = json!({
                "ContactID": id,
                "Name": contact.name,
                "ContactStatus": contact.status,
            });
            // Made before the clock is read: no time of its own.
            let at = OffsetDateTime::UNIX_EPOCH;
            state.records.insert(Collection::Contacts, "", id, at, body);
        }
        state
    }

    /// Answer one request.
    fn respond(&self, state: &mut XeroState, request: &ProviderRequest<'_>) -> ProviderAnswer {
        let method = request.view.method.to_ascii_uppercase();
        let routed = ProviderAnswer::routed;
        // Identity paths are `/connections` in Xero's docs and `/Connections` in its OpenAPI
        // (`xero-identity.yaml`) and SDKs (xero-python `identity_api.py`): either case is served.
        let path = request.view.path;
        let connections = path
            .get(..12)
            .is_some_and(|head| head.eq_ignore_ascii_case("/connections"));
        match (method.as_str(), path) {
            ("POST", "/connect/token") => return routed(self.token(state, request)),
            ("POST", "/connect/revocation") => return routed(revoke(state, request)),
            ("GET", _) if connections && path.len() == 12 => {
                return routed(self.authenticate(state, request).unwrap_or_else(|| {
                    json_response(StatusCode::OK, &Value::from(state.connections.clone()))
                }));
            }
            ("DELETE", _) if connections && path.get(12..13) == Some("/") => {
                let id = &path["/connections/".len()..];
                return routed(
                    self.authenticate(state, request)
                        .unwrap_or_else(|| disconnect(state, id)),
                );
            }
            _ => {}
        }
        if method == "GET" && path == "/api.xro/2.0/Organisation" {
            if let Some(refused) = self
                .authenticate(state, request)
                .or_else(|| check_tenant(state, request))
            {
                return routed(refused);
            }
            let body = self.organisation(request);
            return routed(self.enveloped(state, request.now, body));
        }
        if let Some(rest) = request.view.path.strip_prefix(API_PREFIX) {
            let mut parts = rest.splitn(2, '/');
            let segment = parts.next().unwrap_or_default();
            let id = parts.next();
            if let Some(collection) = Collection::from_key(segment) {
                let allowed = match id {
                    // Only invoices are updated in place (`POST /Invoices/{id}`).
                    Some(_) => method == "GET" || (method == "POST" && segment == "Invoices"),
                    None => matches!(method.as_str(), "GET" | "PUT" | "POST"),
                };
                if allowed {
                    if let Some(response) = self
                        .authenticate(state, request)
                        .or_else(|| check_tenant(state, request))
                    {
                        return routed(response);
                    }
                    let response = match (method.as_str(), id) {
                        ("GET", Some(id)) => {
                            let found = get_one(self, state, collection, id, request.now);
                            self.enveloped(state, request.now, found)
                        }
                        ("GET", None) => {
                            let listed = list(state, collection, request);
                            self.enveloped(state, request.now, listed)
                        }
                        // Enveloped inside, so that a replay repeats the answer byte for byte.
                        _ => self.create_once(state, collection, id, request),
                    };
                    return routed(response);
                }
            }
        }
        ProviderAnswer::unrouted("xero", request)
    }

    /// The payloads of `webhook` at `now` [XERO-WEBHOOK-SERVER], [XERO-OAS-WH]: an event about a
    /// record of `state` (`firstEventSequence` = `lastEventSequence`, increasing per mock), or the
    /// Intent to Receive series of empty payloads, each with the status Xero requires (200 when
    /// correctly signed, 401 when not). Every payload is signed with `with.webhook_key` in
    /// `x-xero-signature`, base64 HMAC-SHA256 over the exact body bytes.
    fn webhook(
        &self,
        state: &mut XeroState,
        webhook: &ProviderWebhook,
        now: OffsetDateTime,
    ) -> Result<Vec<ProviderPayload>, ProviderWebhookError> {
        let Some(key) = &self.settings.webhook_key else {
            return Err(ProviderWebhookError::MissingSetting {
                provider: "xero",
                setting: "webhook_key",
            });
        };
        let signing = |secret: String| SigningSettings {
            secret,
            header: SIGNATURE_HEADER.to_string(),
            algorithm: SignAlgorithm::HmacSha256,
            encoding: SignatureEncoding::Base64,
            prefix: String::new(),
        };
        let headers = vec![("content-type".to_string(), "application/json".to_string())];
        match webhook {
            ProviderWebhook::XeroEvent {
                category,
                event_type,
                resource_id,
            } => {
                let collection = match category.as_str() {
                    "INVOICE" => Collection::Invoices,
                    "CONTACT" => Collection::Contacts,
                    other => {
                        return Err(ProviderWebhookError::XeroCategory {
                            category: other.to_owned(),
                        });
                    }
                };
                let route = collection.name();
                let Ok(id) = state
                    .records
                    .find(collection, "", resource_id)
                    .map(|record| record.id.clone())
                else {
                    return Err(ProviderWebhookError::XeroRecord {
                        kind: category.to_ascii_lowercase(),
                        id: resource_id.clone(),
                    });
                };
                let tenant = self.settings.tenants.first().map(|t| t.id.clone());
                state.event_sequence += 1;
                let sequence = state.event_sequence;
                let body = json!({
                    "events": [{
                        "resourceUrl": format!("{RESOURCE_URL_BASE}{route}/{id}"),
                        "resourceId": id,
                        "eventDateUtc": event_date(now),
                        "eventType": event_type,
                        "eventCategory": category,
                        "tenantId": tenant,
                        "tenantType": "ORGANISATION",
                    }],
                    "firstEventSequence": sequence,
                    "lastEventSequence": sequence,
                    "entropy": self.entropy(state),
                });
                Ok(vec![ProviderPayload {
                    headers,
                    body: body.to_string().into_bytes(),
                    sign: signing(key.0.clone()),
                    expected_status: None,
                }])
            }
            ProviderWebhook::XeroIntentToReceive => Ok(INTENT_TO_RECEIVE
                .iter()
                .map(|&correct| {
                    let body = json!({
                        "events": [],
                        "firstEventSequence": 0,
                        "lastEventSequence": 0,
                        "entropy": self.entropy(state),
                    });
                    let secret = if correct {
                        key.0.clone()
                    } else {
                        format!("not-{}", key.0)
                    };
                    ProviderPayload {
                        headers: headers.clone(),
                        body: body.to_string().into_bytes(),
                        sign: signing(secret),
                        expected_status: Some(if correct { 200 } else { 401 }),
                    }
                })
                .collect()),
            ProviderWebhook::QuickBooksEvent { .. } => Err(ProviderWebhookError::ForeignKind {
                provider: "xero",
                kind: "quickbooks",
            }),
        }
    }

    fn state_json(state: &XeroState) -> Value {
        state.to_json()
    }

    fn rate_limits(&self) -> Vec<RateLimit> {
        self.settings
            .rate_limits
            .as_ref()
            .map(rate_limits)
            .unwrap_or_default()
    }
}

/// `content-type` of a JSON answer (for tests of this module).
#[cfg(test)]
fn content_type(response: &Response<Bytes>) -> Option<&hyper::header::HeaderValue> {
    response.headers().get(hyper::header::CONTENT_TYPE)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression (issue 11): the product of two 20-digit amounts overflowed `Decimal` and
    /// panicked; now the invoice has no totals, and `validate` refuses it.
    #[test]
    fn amounts_beyond_a_decimal_have_no_totals() {
        let settings: XeroSettings = serde_json::from_value(json!({ "tenants": [] })).unwrap();
        let invoice = |quantity: &str, unit: &str| {
            let value = json!({
                "LineItems": [
                    { "Quantity": quantity, "UnitAmount": unit },
                    "not a line"
                ]
            });
            value.as_object().cloned().unwrap()
        };
        let huge = "99999999999999999999";
        assert!(totals(&invoice(huge, huge), &settings).is_none());
        let mut fields = invoice(huge, huge);
        add_totals(&mut fields, &settings);
        assert!(!fields.contains_key("Total"));
        let fits = totals(&invoice("2", "10.005"), &settings).unwrap();
        assert_eq!(fits.total.to_string(), "20.01");
        let mut fields = invoice("2", "10.005");
        add_totals(&mut fields, &settings);
        assert_eq!(fields["Total"], json!(20.01));
        assert_eq!(fields["LineItems"][1], json!("not a line"));
    }

    #[test]
    fn event_dates_are_utc_with_milliseconds_and_no_offset() {
        let at = time::macros::datetime!(2026-11-01 01:02:03.456 +02:00);
        assert_eq!(event_date(at), "2026-10-31T23:02:03.456");
    }

    #[test]
    fn ms_json_dates_are_milliseconds_with_utc_offset() {
        let at = OffsetDateTime::from_unix_timestamp(1_551_484_292).expect("valid");
        assert_eq!(
            ms_json_date(at + Duration::milliseconds(734)),
            "/Date(1551484292734+0000)/"
        );
    }

    #[test]
    fn if_modified_since_reads_http_and_iso_dates_as_utc() {
        let at = time::macros::datetime!(2026-10-31 23:00:00 UTC);
        for header in [
            "Sat, 31 Oct 2026 23:00:00 GMT",
            "2026-10-31T23:00:00",
            "2026-10-31T23:00:00Z",
            "2026-10-31T23:00:00.999",
            " 2026-10-31T23:00:00 ",
            // With an offset, read with it (xero-python sends `isoformat()`).
            "2026-10-31T23:00:00+00:00",
            "2026-11-01T01:00:00.123456+02:00",
            "2026-10-31T15:00:00.202-08:00",
            "2026-10-31T23:00:00.5Z",
        ] {
            assert_eq!(modified_since(header), Some(at), "{header:?}");
        }
        for header in ["yesterday", "2026-10-31", "31/10/2026 23:00:00", ""] {
            assert_eq!(modified_since(header), None, "{header:?}");
        }
        let record = json!({ "UpdatedDateUTC": "/Date(1793487600999+0000)/" });
        assert_eq!(updated_at(&record), Some(at), "cut to the second");
    }

    #[test]
    fn identity_dates_have_seven_digits_and_no_offset() {
        let at = time::macros::datetime!(2019-12-07 20:46:19.51654 +02:00);
        assert_eq!(identity_date(at), "2019-12-07T18:46:19.5165400");
    }

    #[test]
    fn expiries_are_written_as_token_expired_writes_them() {
        // xero-node #741: `expires_at` 1740040370 is "02/20/2025 08:32:50".
        let at = OffsetDateTime::from_unix_timestamp(1_740_040_370).expect("valid");
        assert_eq!(expired_at(at), "02/20/2025 08:32:50");
    }

    #[test]
    fn document_dates_are_rendered_as_ms_json_with_their_strings() {
        let mut answer = json!({ "Invoices": [{
            "Date": "2019-03-07",
            "DueDate": "/Date(1552435200000)/",
            "Reference": "2019-03-07",
            "Payments": [{ "Date": "2019-03-08T10:00:00" }],
        }] });
        render_dates(&mut answer, 0);
        let invoice = &answer["Invoices"][0];
        assert_eq!(invoice["Date"], "/Date(1551916800000+0000)/");
        assert_eq!(invoice["DateString"], "2019-03-07T00:00:00");
        assert_eq!(invoice["DueDate"], "/Date(1552435200000+0000)/");
        assert_eq!(invoice["DueDateString"], "2019-03-13T00:00:00");
        assert_eq!(invoice["Reference"], "2019-03-07", "not a date field");
        assert_eq!(invoice["Payments"][0]["Date"], "/Date(1552003200000+0000)/");
        let once = answer.clone();
        render_dates(&mut answer, 0);
        assert_eq!(answer, once, "rendering twice changes nothing");
    }

    #[test]
    fn invalid_grant_is_the_exact_body() {
        let response =
            oauth_error(crate::mock::providers::kit::tokens::GrantError::InvalidGrant.code());
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(response.body().as_ref(), br#"{"error":"invalid_grant"}"#);
        assert_eq!(
            content_type(&response).map(|v| v.as_bytes()),
            Some(&b"application/json"[..])
        );
    }
}
