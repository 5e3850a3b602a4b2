//! `provider: quickbooks`, [`QuickBooks`]: Intuit's OAuth 2.0 token and revocation endpoints and
//! the QuickBooks Online Accounting API's Vendor and Bill entities per realm (create, read,
//! update with `SyncToken`, query, batch, change data capture), with their state in
//! [`QuickBooksState`].
//!
//! Every behaviour traces to `domain-catalog.md` §2 and its incidents Q-01..Q-06;
//! `docs/providers/quickbooks.md` gives the source tag of each and says where the catalog is
//! silent and what the fake does there.

use std::collections::BTreeMap;

use bytes::Bytes;
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Response, StatusCode};
use serde_json::{Map, Value, json};
use time::{Duration, OffsetDateTime};

use super::kit::records::{Kind, Record, Status, Store, offset};
use super::kit::tokens::{
    AnswerField, Issued, RefreshPolicy, Revocation, Rotation, TokenPolicy, Tokens,
};
use super::kit::{AuthFailure, ErrorRenderer, Fake, RecordRefusal, RecordRenderer};
use super::{
    ProviderAnswer, ProviderPayload, ProviderRequest, ProviderWebhook, ProviderWebhookError, empty,
    oauth_error,
};
use crate::mock::engine::json_response;
use crate::mock::render::seeded_uuid;
use crate::mock::webhook::SigningSettings;
use crate::scenario::model::{
    LimitKey, LimitKind, PathMatcher, Pattern, QuickBooksRealmStatus, QuickBooksSettings,
    RateLimit, RequestMatcher, ResponseBody, ResponseSpec, SignAlgorithm, SignatureEncoding,
};
use crate::timestamp::format_rfc3339;

/// Access token lifetime: 3600 s [INTUIT-FAQ], [INTUIT-TOKENS-BLOG].
pub(crate) const ACCESS_TOKEN_LIFETIME: Duration = Duration::hours(1);
/// Refresh token lifetime, extended by every use (rolling): 100 days [INTUIT-TOKENS-BLOG].
pub(crate) const REFRESH_TOKEN_LIFETIME: Duration = Duration::days(100);
/// The token endpoint [NANGO-QBO], [KESTRA-QBO].
pub(crate) const TOKEN_PATH: &str = "/oauth2/v1/tokens/bearer";
/// The revocation endpoint [FS-QBO-REVOKE] (secondary).
pub(crate) const REVOKE_PATH: &str = "/v2/oauth2/tokens/revoke";
/// The OpenID discovery documents, production and sandbox (intuit-oauth `intuitlib/config.py`
/// `DISCOVERY_URL`: `https://developer.intuit.com/.well-known/openid_configuration/` and
/// `.../openid_sandbox_configuration/`); served with or without the final `/`.
pub(crate) const DISCOVERY_PATHS: [&str; 2] = [
    "/.well-known/openid_configuration",
    "/.well-known/openid_sandbox_configuration",
];
/// Seconds a refresh token has left, as the token answer's `x_refresh_token_expires_in`
/// reports it (oauth-jsclient `Token.js` `isRefreshTokenValid()`).
pub(crate) const REFRESH_EXPIRES_FIELD: &str = "x_refresh_token_expires_in";
/// The five-year cap on a consent's refresh tokens (Intuit blog 2025-11-12, "a maximum validity
/// period of five years"): 5 × 365 days.
pub(crate) const REFRESH_TOKEN_HARD_LIFETIME: Duration = Duration::days(5 * 365);
/// The request header that asks for `x_refresh_token_hard_expires_in` (oauth-jsclient
/// `test/HardExpiresTest.js`: "OMITTED by default (opt-in only)").
pub(crate) const HARD_EXPIRES_HEADER: &str = "x-include-refresh-token-hard-expires-in";
/// The seconds to the consent's five-year cap ([`Issued::cap_left`]) in the token answer, only
/// when [`HARD_EXPIRES_HEADER`] asks for them (oauth-jsclient `HardExpiresTest.js`).
const HARD_EXPIRES_FIELD: AnswerField =
    AnswerField::CapExpiresIn("x_refresh_token_hard_expires_in");
/// Every API URL is `/v3/company/<realmId>/...` [INTUIT-CDC].
pub(crate) const API_PREFIX: &str = "/v3/company/";
/// Longest `requestid`: 50 characters, 36 on a batch [INTUIT-REQUESTID].
pub(crate) const MAX_REQUEST_ID: usize = 50;
/// Longest `requestid` of a batch request [INTUIT-REQUESTID].
pub(crate) const MAX_BATCH_REQUEST_ID: usize = 36;
/// How far back `changedSince` may reach: 30 days [INTUIT-CDC].
pub(crate) const CDC_LOOK_BACK: Duration = Duration::days(30);
/// Most objects one CDC answer holds: 1000 [INTUIT-CDC].
pub(crate) const CDC_MAX_OBJECTS: usize = 1000;
/// `MAXRESULTS` when a query gives none (the catalog is silent: reenact's choice).
pub(crate) const DEFAULT_MAX_RESULTS: usize = 100;
/// Largest `MAXRESULTS`: 1000; more is an error, "Max allowed value is 1000"
/// (ruckus/quickbooks-ruby #24, #263).
pub(crate) const MAX_MAX_RESULTS: usize = 1000;
/// The transaction id header on every answer [INTUIT-ECO-ERRORS].
pub(crate) const TID_HEADER: &str = "intuit_tid";
/// Header carrying a webhook's signature [KESTRA-QBO-WH], [GIST-QBO-WH].
pub(crate) const SIGNATURE_HEADER: &str = "intuit-signature";
/// Code of the fake's own validation answers where the catalog names none: 6000, "business
/// validation error" [INTUIT-COMMON-ERRORS].
const BUSINESS_VALIDATION: &str = "6000";

/// A configured QuickBooks Online fake.
#[derive(Debug)]
pub(crate) struct QuickBooks {
    mock: String,
    settings: QuickBooksSettings,
}

/// The entities the fake keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Entity {
    /// A bill (accounts payable transaction).
    Bill,
    /// A vendor (supplier).
    Vendor,
    /// A payment of bills to a vendor (Intuit's BillPayment reference).
    BillPayment,
}

impl Entity {
    /// Every entity, in the order of the state's collections.
    pub(crate) const ALL: [Entity; 3] = [Entity::Bill, Entity::Vendor, Entity::BillPayment];

    /// Its collection in the state, e.g. `bills`.
    pub(crate) fn collection(self) -> &'static str {
        match self {
            Entity::Bill => "bills",
            Entity::Vendor => "vendors",
            Entity::BillPayment => "bill_payments",
        }
    }

    /// Whether it is a transaction: dated (`TxnDate`, today when not sent), deletable.
    pub(crate) fn is_transaction(self) -> bool {
        self != Entity::Vendor
    }

    /// The status of a record of the entity with `body`: a name-list entity (a vendor) sent
    /// with `"Active": false` is kept inactive; a transaction is active until deleted.
    fn status(self, body: &Value) -> Status {
        if !self.is_transaction() && body.get("Active") == Some(&Value::Bool(false)) {
            Status::Inactive
        } else {
            Status::Active
        }
    }

    /// The entity a path segment or query names, case-insensitively (`bill`, `Bill`).
    pub(crate) fn parse(text: &str) -> Option<Entity> {
        Entity::ALL
            .into_iter()
            .find(|entity| entity.name().eq_ignore_ascii_case(text))
    }
}

/// What one QuickBooks fake holds: tokens, entities per realm, remembered request ids.
#[derive(Debug)]
pub(crate) struct QuickBooksState {
    /// Tokens generated so far (seeds the next one).
    serial: u64,
    /// Answers given so far (seeds the next `intuit_tid`).
    tids: u64,
    /// CloudEvents written so far (seeds their `id`).
    webhooks: u64,
    /// Codes, consents (one per code exchange) and tokens, under [`token_policy`].
    tokens: Tokens<()>,
    /// Every entity of every realm (the scope), in creation order: `Id` from
    /// [`Store::next_number`], `SyncToken` the version, deleted transactions kept as such.
    records: Store<Entity>,
    /// Whether the request being answered carries `include=allowduplicatedocnum` (set per
    /// request by `api`).
    allow_duplicate_doc_number: bool,
    /// (realm, `requestid`) → the first answer.
    request_ids: BTreeMap<(String, String), (StatusCode, Bytes)>,
}

/// Intuit's tokens as data, the rotation from `settings`: access tokens live an hour
/// [INTUIT-FAQ], [INTUIT-TOKENS-BLOG]; refresh tokens 100 days, and every use moves that to 100
/// days later [INTUIT-TOKENS-BLOG], never past the consent's five-year cap (Intuit blog
/// 2025-11-12); a refresh answers a new refresh token once the one used is older than
/// `with.refresh_rotation` [INTUIT-FAQ], [AIRBYTE-7296], and the one replaced keeps answering its
/// replacement for `with.refresh_lag`, then gets `invalid_grant` [NANGO-QBO]; revoking an access
/// or refresh token ends the whole consent [FS-QBO-REVOKE]. The answer has `token_type`,
/// `access_token`, `expires_in`, `refresh_token` and `x_refresh_token_expires_in` (oauth-jsclient
/// `Token.js`, README example); [`QuickBooks::token`] adds `x_refresh_token_hard_expires_in`
/// when asked (oauth-jsclient `HardExpiresTest.js`).
pub(crate) fn token_policy(settings: &QuickBooksSettings) -> TokenPolicy {
    TokenPolicy {
        access_lifetime: ACCESS_TOKEN_LIFETIME,
        access_sliding: false,
        refresh: Some(RefreshPolicy {
            lifetime: REFRESH_TOKEN_LIFETIME,
            sliding: true,
            cap: Some(REFRESH_TOKEN_HARD_LIFETIME),
            rotation: Rotation::AfterAge {
                age: Duration::try_from(settings.refresh_rotation).unwrap_or(Duration::MAX),
                lag: Duration::try_from(settings.refresh_lag).unwrap_or(Duration::ZERO),
            },
        }),
        code_lifetime: None,
        revocation: Revocation::Consent,
        answer: &[
            AnswerField::TokenType("bearer"),
            AnswerField::AccessToken,
            AnswerField::ExpiresIn,
            AnswerField::RefreshToken,
            AnswerField::RefreshExpiresIn(REFRESH_EXPIRES_FIELD),
        ],
    }
}

/// The next token after `serial`: 64 hex digits, two seeded UUIDs without their dashes.
fn next_token(serial: &mut u64, mock: &str) -> String {
    *serial += 1;
    let a = seeded_uuid(mock, *serial, 3).replace('-', "");
    let b = seeded_uuid(mock, *serial, 4).replace('-', "");
    format!("{a}{b}")
}

impl Kind for Entity {
    /// The entity's name in bodies and queries, e.g. `Bill`.
    fn name(self) -> &'static str {
        match self {
            Entity::Bill => "Bill",
            Entity::Vendor => "Vendor",
            Entity::BillPayment => "BillPayment",
        }
    }
}

impl QuickBooksState {
    /// `{"bills": [..], "vendors": [..], "issued": {"access": N, "refresh": N}}`: records of
    /// every realm in creation order, exactly as the API returns them; tokens only as counts.
    pub(crate) fn to_json(&self) -> Value {
        let mut out = Map::new();
        for entity in Entity::ALL {
            let records = self.records.bodies(entity);
            out.insert(entity.collection().to_owned(), Value::from(records));
        }
        out.insert(
            "issued".to_owned(),
            json!({ "access": self.tokens.counts().0, "refresh": self.tokens.counts().1 }),
        );
        Value::Object(out)
    }
}

/// One error of a QuickBooks `Fault` [INTUIT-COMMON-ERRORS]: HTTP status, `Fault.type`, `code`,
/// `Message`, `Detail` and `element`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Fault {
    status: StatusCode,
    kind: &'static str,
    code: &'static str,
    message: String,
    detail: String,
    element: String,
}

impl Fault {
    /// A 400 `ValidationFault`.
    fn validation(code: &'static str, message: &str, detail: String, element: &str) -> Fault {
        Fault {
            status: StatusCode::BAD_REQUEST,
            kind: "ValidationFault",
            code,
            message: message.to_owned(),
            detail,
            element: element.to_owned(),
        }
    }

    /// 2020 Required Param Missing, naming `element`.
    fn required(element: &str) -> Fault {
        Fault::validation(
            "2020",
            "Required Param Missing",
            format!("Required parameter {element} is missing in the request"),
            element,
        )
    }

    /// 6000, for the fake's own checks where the catalog names no code.
    fn business(detail: String, element: &str) -> Fault {
        Fault::validation(
            BUSINESS_VALIDATION,
            "A business validation error has occurred while processing your request",
            detail,
            element,
        )
    }

    /// 610 Object Not Found.
    /// 610 Object Not Found for an id the realm never had, with the `Detail` of a live body
    /// (a Go client's comment quoting a 2018 answer; Intuit's errors page, variant 1).
    fn not_found() -> Fault {
        Fault::validation(
            "610",
            "Object Not Found",
            "Object Not Found : Something you're trying to use has been made inactive. Check the \
             fields with accounts, invoices, items, vendors or employees."
                .to_owned(),
            "",
        )
    }

    /// 610 Object Not Found for a deleted transaction (Intuit's errors page, variant 2).
    fn deleted() -> Fault {
        Fault::validation(
            "610",
            "Object Not Found",
            "Object Not Found : Another user has deleted this transaction.".to_owned(),
            "",
        )
    }

    /// 5010 Stale Object Error [INTUIT-COMMON-ERRORS], [RUTTER-5010].
    fn stale() -> Fault {
        Fault::validation(
            "5010",
            "Stale Object Error",
            "Stale Object Error : You and another user were working on this at the same time. \
             The other user finished before you did, so your work was not saved."
                .to_owned(),
            "",
        )
    }

    /// The fault of a refusal of the record store: 610 for an id the realm never had or a
    /// deleted transaction, 5010 for a stale `SyncToken`.
    fn refused(refusal: &RecordRefusal) -> Fault {
        match refusal {
            RecordRefusal::NotFound { .. } => Fault::not_found(),
            RecordRefusal::Deleted { .. } => Fault::deleted(),
            RecordRefusal::Stale { .. } => Fault::stale(),
        }
    }

    /// 120 Authorization Failure, HTTP 401: the admin who connected the app was removed
    /// (Intuit's "Fix common errors" page; the 2017 errors blog gives the 401). The sources give
    /// no `type`: `AuthorizationFault` is reenact's.
    fn admin_removed() -> Fault {
        Fault {
            status: StatusCode::UNAUTHORIZED,
            kind: "AuthorizationFault",
            code: "120",
            message: "Authorization Failure".to_owned(),
            detail: "AuthorizationFailure: -11014-You do not have access to use QuickBooks \
                     Online Plus."
                .to_owned(),
            element: String::new(),
        }
    }

    /// 6190 Invalid Company Status, HTTP 400, on a write to a company whose subscription ended
    /// (Intuit's "Fix common errors" page: "it can only do read-only operations").
    fn subscription_ended() -> Fault {
        Fault::validation(
            "6190",
            "Invalid Company Status",
            "Subscription period has ended or canceled or there was a billing problem : You \
             can't add data to QuickBooks Online Plus because your trial or subscription period \
             ended."
                .to_owned(),
            "",
        )
    }

    /// The `Fault` object: `{"Error": [{"Message","Detail","code","element"}], "type"}`.
    fn to_json(&self) -> Value {
        json!({
            "Error": [{
                "Message": self.message,
                "Detail": self.detail,
                "code": self.code,
                "element": self.element,
            }],
            "type": self.kind,
        })
    }

    /// `{"Fault": .., "time": ..}` with the fault's status.
    fn response(&self, now: OffsetDateTime) -> Response<Bytes> {
        json_response(
            self.status,
            &json!({ "Fault": self.to_json(), "time": format_rfc3339(now) }),
        )
    }
}

impl From<RecordRefusal> for Fault {
    /// [`Fault::refused`].
    fn from(refusal: RecordRefusal) -> Fault {
        Fault::refused(&refusal)
    }
}

/// The routes under `/v3/company/<realmId>/`.
#[derive(Debug, Clone, Copy)]
enum ApiRoute<'a> {
    /// `POST /<entity>`: create, or update when the body has `Id`.
    Write(Entity),
    /// `GET /<entity>/<id>`.
    Read(Entity, &'a str),
    /// `GET /query?query=..` (or `POST /query` with the query as the body).
    Query,
    /// `POST /batch`.
    Batch,
    /// `GET /preferences`.
    Preferences,
    /// `GET /cdc?entities=..&changedSince=..`.
    Cdc,
}

impl<'a> ApiRoute<'a> {
    fn parse(method: &str, segments: &[&'a str]) -> Option<ApiRoute<'a>> {
        match (method, segments) {
            ("GET" | "POST", ["query"]) => Some(ApiRoute::Query),
            ("POST", ["batch"]) => Some(ApiRoute::Batch),
            ("GET", ["preferences"]) => Some(ApiRoute::Preferences),
            ("GET", ["cdc"]) => Some(ApiRoute::Cdc),
            ("POST", [entity]) => Entity::parse(entity).map(ApiRoute::Write),
            ("GET", [entity, id]) if !id.is_empty() => {
                Entity::parse(entity).map(|entity| ApiRoute::Read(entity, id))
            }
            _ => None,
        }
    }
}

/// QuickBooks' throttling [INTUIT-THROTTLE-2016] as engine rate limits, per realm of
/// `with.realms`: requests per minute (batches included), requests in flight, and batch requests
/// per minute [INTUIT-BATCH]. A blocked call gets 429 with the `Fault` whose message integrators
/// see, `message=ThrottleExceeded; errorCode=003001; statusCode=429` [MOBIUS-003001], and an
/// `intuit_tid`; no `Retry-After` (unverified in the catalog).
pub(crate) fn rate_limits(settings: &QuickBooksSettings) -> Vec<RateLimit> {
    let Some(limits) = &settings.rate_limits else {
        return Vec::new();
    };
    let blocked = || ResponseSpec {
        status: 429,
        headers: vec![(TID_HEADER.to_owned(), "{{ uuid }}".to_owned())],
        body: ResponseBody::Json(json!({
            "Fault": {
                "Error": [{
                    "Message": "message=ThrottleExceeded; errorCode=003001; statusCode=429",
                    "Detail": "ThrottleExceeded",
                    "code": "3001",
                    "element": "",
                }],
                "type": "SystemFault",
            },
            "time": "{{ now }}",
        })),
    };
    let mut out = Vec::new();
    for realm in &settings.realms {
        // A path regex matches the whole path.
        let paths = |suffix: &str| RequestMatcher {
            path: regex::Regex::new(&format!(
                "{}{}/{suffix}",
                regex::escape(API_PREFIX),
                regex::escape(&realm.id)
            ))
            .ok()
            .map(|regex| PathMatcher::Regex(Pattern(regex))),
            ..RequestMatcher::default()
        };
        let limit = |name: &str, kind, suffix: &str| RateLimit {
            name: format!("quickbooks {} {name}", realm.id),
            key: LimitKey::Global,
            kind,
            request: Some(paths(suffix)),
            response: blocked(),
            remaining_header: None,
        };
        let minute = std::time::Duration::from_secs(60);
        out.push(limit(
            "concurrent",
            LimitKind::Concurrent(limits.concurrent),
            ".*",
        ));
        out.push(limit(
            "minute",
            LimitKind::Window {
                limit: limits.minute,
                per: minute,
            },
            ".*",
        ));
        out.push(limit(
            "batch minute",
            LimitKind::Window {
                limit: limits.batch_minute,
                per: minute,
            },
            "batch",
        ));
    }
    out
}

impl QuickBooks {
    /// A fake serving as mock `mock` with `settings`.
    pub(crate) fn new(mock: &str, settings: QuickBooksSettings) -> QuickBooks {
        QuickBooks {
            mock: format!("{mock}/quickbooks"),
            settings,
        }
    }

    fn route(&self, state: &mut QuickBooksState, request: &ProviderRequest<'_>) -> ProviderAnswer {
        let method = request.view.method.to_ascii_uppercase();
        let routed = |response| ProviderAnswer {
            response,
            routed: true,
        };
        match (method.as_str(), request.view.path) {
            ("POST", TOKEN_PATH) => return routed(self.token(state, request)),
            ("POST", REVOKE_PATH) => return routed(revoke(state, request)),
            _ => {}
        }
        if method == "GET" && DISCOVERY_PATHS.contains(&request.view.path.trim_end_matches('/')) {
            return routed(discovery(request));
        }
        let Some(rest) = request.view.path.strip_prefix(API_PREFIX) else {
            return ProviderAnswer::unrouted("quickbooks", request);
        };
        let segments: Vec<&str> = rest.split('/').collect();
        let (realm, route) = match segments.split_first() {
            Some((realm, tail)) if !realm.is_empty() => (*realm, ApiRoute::parse(&method, tail)),
            _ => ("", None),
        };
        let Some(route) = route else {
            return ProviderAnswer::unrouted("quickbooks", request);
        };
        if let Err(failure) = state.tokens.authenticate(request.bearer(), request.now) {
            return routed(self.unauthenticated(&failure, request.now));
        }
        let Some(company) = self.settings.realms.iter().find(|r| r.id == realm) else {
            return routed(forbidden(request.now));
        };
        let writes = matches!(route, ApiRoute::Write(_) | ApiRoute::Batch);
        match company.status {
            QuickBooksRealmStatus::AdminRemoved => {
                return routed(Fault::admin_removed().response(request.now));
            }
            QuickBooksRealmStatus::SubscriptionEnded if writes => {
                return routed(Fault::subscription_ended().response(request.now));
            }
            _ => {}
        }
        routed(self.api(state, realm, route, request))
    }

    fn api(
        &self,
        state: &mut QuickBooksState,
        realm: &str,
        route: ApiRoute<'_>,
        request: &ProviderRequest<'_>,
    ) -> Response<Bytes> {
        let now = request.now;
        state.allow_duplicate_doc_number = request.query_param("include").is_some_and(|include| {
            include
                .split(',')
                .any(|v| v.trim().eq_ignore_ascii_case("allowduplicatedocnum"))
        });
        let answer = |result: Result<Value, Fault>| match result {
            Ok(mut body) => {
                body["time"] = Value::from(format_rfc3339(now));
                json_response(StatusCode::OK, &body)
            }
            Err(fault) => fault.response(now),
        };
        match route {
            ApiRoute::Write(entity) => self.once(state, realm, request, MAX_REQUEST_ID, |state| {
                let body = serde_json::from_slice(request.view.body).unwrap_or(Value::Null);
                let written = if request.query_param("operation").as_deref() == Some("delete") {
                    delete(state, realm, entity, &body, now)
                } else {
                    self.write(state, realm, entity, body, now)
                };
                answer(written.map(|record| json!({ entity.name(): record })))
            }),
            ApiRoute::Batch => self.once(state, realm, request, MAX_BATCH_REQUEST_ID, |state| {
                answer(self.batch(state, realm, request))
            }),
            ApiRoute::Read(entity, id) => match state.records.find(entity, realm, id) {
                Ok(record) => answer(Ok(json!({ entity.name(): record.body }))),
                Err(refusal) => self.refused(&refusal, now),
            },
            ApiRoute::Query => {
                let text = request
                    .query_param("query")
                    .unwrap_or_else(|| String::from_utf8_lossy(request.view.body).into_owned());
                answer(query(state, realm, &text).map(|found| json!({ "QueryResponse": found })))
            }
            ApiRoute::Cdc => answer(cdc(state, realm, request)),
            ApiRoute::Preferences => answer(Ok(json!({
                "Preferences": self.preferences(),
            }))),
        }
    }

    /// A write under `?requestid=` [INTUIT-REQUESTID]: a replay of a request id the realm has
    /// seen gets the first answer (status and body) again, and nothing runs a second time. An
    /// empty id or one over `max` characters gets a 400 `ValidationFault` (the catalog gives
    /// the limit, not the answer). Without `requestid`, `run` runs.
    fn once(
        &self,
        state: &mut QuickBooksState,
        realm: &str,
        request: &ProviderRequest<'_>,
        max: usize,
        run: impl FnOnce(&mut QuickBooksState) -> Response<Bytes>,
    ) -> Response<Bytes> {
        let Some(id) = request.query_param("requestid") else {
            return run(state);
        };
        if id.is_empty() || id.chars().count() > max {
            return Fault::business(
                format!("requestid must be 1 to {max} characters"),
                "requestid",
            )
            .response(request.now);
        }
        let key = (realm.to_owned(), id);
        if let Some((status, body)) = state.request_ids.get(&key) {
            let mut replay = json_response(*status, &Value::Null);
            *replay.body_mut() = body.clone();
            return replay;
        }
        let response = run(state);
        state
            .request_ids
            .insert(key, (response.status(), response.body().clone()));
        response
    }

    /// The company's preferences, as far as the fake models them: `OtherPrefs.NameValue` with
    /// `WarnDuplicateBillNumber` (Intuit's Preferences reference, `OtherPrefs`).
    fn preferences(&self) -> Value {
        json!({
            "OtherPrefs": {
                "NameValue": [{
                    "Name": "WarnDuplicateBillNumber",
                    "Value": self.settings.warn_duplicate_bill_number.to_string(),
                }],
            },
            "domain": "QBO",
            "sparse": false,
            "Id": "1",
            "SyncToken": "0",
        })
    }

    /// `POST /<entity>`: an update when the body has `Id`, else a create.
    fn write(
        &self,
        state: &mut QuickBooksState,
        realm: &str,
        entity: Entity,
        body: Value,
        now: OffsetDateTime,
    ) -> Result<Value, Fault> {
        let Value::Object(fields) = body else {
            return Err(Fault::required(entity.name()));
        };
        if fields.contains_key("Id") {
            self.update(state, realm, entity, fields, now)
        } else {
            self.create(state, realm, entity, fields, now)
        }
    }

    /// A create: the fields sent, validated, plus `Id` (the realm's next small integer for the
    /// entity), `SyncToken` `"0"` and `MetaData` on the virtual clock [DATABUZZ-SYNCTOKEN]. A
    /// bill without `TxnDate` is dated today (virtual clock, UTC).
    fn create(
        &self,
        state: &mut QuickBooksState,
        realm: &str,
        entity: Entity,
        mut fields: Map<String, Value>,
        now: OffsetDateTime,
    ) -> Result<Value, Fault> {
        fields.retain(|key, value| !is_system_field(key) && !is_unset(value));
        if entity.is_transaction() && !fields.contains_key("TxnDate") {
            fields.insert("TxnDate".to_owned(), Value::from(date_text(now.date())));
        }
        // Intuit's BillPayment reference: a check payment created without a print status
        // answers `"PrintStatus": "NeedToPrint"`.
        if entity == Entity::BillPayment
            && fields.get("PayType").and_then(Value::as_str) == Some("Check")
            && let Some(Value::Object(check)) = fields.get_mut("CheckPayment")
            && !check.contains_key("PrintStatus")
        {
            check.insert("PrintStatus".to_owned(), Value::from("NeedToPrint"));
        }
        self.validate(state, realm, entity, &fields, None)?;
        let id = state.records.next_number(realm, entity).to_string();
        let saved = state
            .records
            .insert(entity, realm, id.clone(), now, Value::Null);
        let stamp = format_rfc3339(saved.updated);
        let mut record = Map::new();
        record.insert("Id".to_owned(), Value::from(id));
        record.insert(
            "SyncToken".to_owned(),
            Value::from(saved.version.to_string()),
        );
        record.insert(
            "MetaData".to_owned(),
            json!({ "CreateTime": stamp, "LastUpdatedTime": stamp }),
        );
        record.extend(fields);
        saved.body = Value::Object(record);
        saved.status = entity.status(&saved.body);
        Ok(saved.body.clone())
    }

    /// An update [DATABUZZ-SYNCTOKEN]: the body's `SyncToken` must be the record's current one,
    /// else 400 Fault 5010 Stale Object Error [INTUIT-COMMON-ERRORS], [RUTTER-5010]. A full
    /// update replaces the fields, `"sparse": true` changes only those sent. `SyncToken` goes up
    /// by one, `MetaData.LastUpdatedTime` moves to now.
    fn update(
        &self,
        state: &mut QuickBooksState,
        realm: &str,
        entity: Entity,
        fields: Map<String, Value>,
        now: OffsetDateTime,
    ) -> Result<Value, Fault> {
        let id = fields.get("Id").map(text_of).unwrap_or_default();
        state.records.find(entity, realm, &id)?;
        let Some(sync_token) = fields.get("SyncToken").map(text_of) else {
            return Err(Fault::required("SyncToken"));
        };
        let version = version_of(&sync_token);
        let found = state.records.writable(entity, realm, &id, Some(version))?;
        let Value::Object(old) = found.body.clone() else {
            unreachable!("records are objects")
        };
        let sparse = fields.get("sparse") == Some(&Value::Bool(true));
        let kept = if sparse { old.clone() } else { Map::new() };
        let mut next: Map<String, Value> = kept
            .into_iter()
            .chain(fields)
            .filter(|(key, value)| !is_system_field(key) && !is_unset(value))
            .collect();
        if entity.is_transaction() && !next.contains_key("TxnDate") {
            next.insert("TxnDate".to_owned(), old["TxnDate"].clone());
        }
        // Moving a bill out of a closed period is as refused as moving one into it.
        if let Some(fault) = self.closed_books(old.get("TxnDate")) {
            return Err(fault);
        }
        self.validate(state, realm, entity, &next, Some(&id))?;
        let saved = state
            .records
            .update(entity, realm, &id, Some(version), now)?;
        let mut record = Map::new();
        record.insert("Id".to_owned(), Value::from(id));
        record.insert(
            "SyncToken".to_owned(),
            Value::from(saved.version.to_string()),
        );
        record.insert(
            "MetaData".to_owned(),
            json!({
                "CreateTime": old["MetaData"]["CreateTime"],
                "LastUpdatedTime": format_rfc3339(saved.updated),
            }),
        );
        record.extend(next);
        saved.body = Value::Object(record);
        saved.status = entity.status(&saved.body);
        Ok(saved.body.clone())
    }

    /// The checks of a record about to be saved (`own` is its id on an update).
    fn validate(
        &self,
        state: &QuickBooksState,
        realm: &str,
        entity: Entity,
        fields: &Map<String, Value>,
        own: Option<&str>,
    ) -> Result<(), Fault> {
        let others = || {
            state
                .records
                .live(entity, Some(realm))
                .filter(move |r| own.is_none_or(|id| r.id != id))
        };
        match entity {
            Entity::Vendor => {
                let Some(name) = fields
                    .get("DisplayName")
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                else {
                    return Err(Fault::required("DisplayName"));
                };
                // 6240 Duplicate Name Exists Error (Intuit's errors page; live payloads quote
                // `Detail` as "The name supplied already exists. : Id=<id>").
                if let Some(taken) = others().find(|r| r.body["DisplayName"] == name) {
                    return Err(Fault::validation(
                        "6240",
                        "Duplicate Name Exists Error",
                        format!(
                            "The name supplied already exists. : Id={}",
                            text_of(&taken.body["Id"])
                        ),
                        "",
                    ));
                }
            }
            Entity::BillPayment => {
                vendor_ref(state, realm, fields)?;
                bill_payment(state, realm, fields)?;
                if let Some(fault) = self.closed_books(fields.get("TxnDate")) {
                    return Err(fault);
                }
            }
            Entity::Bill => {
                vendor_ref(state, realm, fields)?;
                if let Some(fault) = self.closed_books(fields.get("TxnDate")) {
                    return Err(fault);
                }
                // 6140 Duplicate Document Number Error: the same DocNumber for the same txn type
                // (Stack Overflow payload, Intuit's errors page), when the company's
                // `WarnDuplicateBillNumber` preference is on and the request does not say
                // `include=allowduplicatedocnum` (Intuit's Bill and Preferences references). An
                // empty DocNumber is none.
                if self.settings.warn_duplicate_bill_number
                    && !state.allow_duplicate_doc_number
                    && let Some(number) = fields
                        .get("DocNumber")
                        .map(text_of)
                        .filter(|s| !s.is_empty())
                    && let Some(taken) = others().find(|r| {
                        r.body.get("DocNumber").map(text_of).as_deref() == Some(number.as_str())
                    })
                {
                    return Err(Fault::validation(
                        "6140",
                        "Duplicate Document Number Error",
                        format!(
                            "Duplicate Document Number Error : You must specify a different \
                             number. This number has already been used. DocNumber={number} is \
                             assigned to TxnType=Bill with TxnId={}",
                            text_of(&taken.body["Id"])
                        ),
                        "",
                    ));
                }
            }
        }
        Ok(())
    }

    /// 6210 Account Period Closed [INTUIT-COMMON-ERRORS] for a `TxnDate` (`YYYY-MM-DD`) on or
    /// before `with.books_closed_date`.
    fn closed_books(&self, txn_date: Option<&Value>) -> Option<Fault> {
        let closed = parse_date(self.settings.books_closed_date.as_deref()?)?;
        let date = parse_date(txn_date?.as_str()?)?;
        (date <= closed).then(|| {
            Fault::validation(
                "6210",
                "Account Period Closed",
                format!(
                    "Account Period Closed : the books are closed through {}",
                    date_text(closed)
                ),
                "TxnDate",
            )
        })
    }

    /// `POST /batch` [INTUIT-BATCH], [QBO-MCP-BATCH]: `{"BatchItemRequest": [{"bId",
    /// "operation": "create"|"update", "<Entity>": {..}} | {"bId", "Query": ".."}]}` answers
    /// `200 {"BatchItemResponse": [{"bId", "<Entity>"|"QueryResponse"|"Fault"}]}`, one per item,
    /// in request order; a failing item gets its own `Fault` and the others still run. More
    /// than `with.batch_max_items` items: a 400 `ValidationFault`, nothing runs.
    fn batch(
        &self,
        state: &mut QuickBooksState,
        realm: &str,
        request: &ProviderRequest<'_>,
    ) -> Result<Value, Fault> {
        let items = match serde_json::from_slice::<Value>(request.view.body) {
            Ok(Value::Object(mut body)) => match body.remove("BatchItemRequest") {
                Some(Value::Array(items)) => items,
                _ => return Err(Fault::required("BatchItemRequest")),
            },
            _ => return Err(Fault::required("BatchItemRequest")),
        };
        let max = self.settings.batch_max_items;
        if items.len() as u64 > max {
            return Err(Fault::business(
                format!(
                    "a batch holds at most {max} items; this one holds {}",
                    items.len()
                ),
                "BatchItemRequest",
            ));
        }
        let mut answered = Vec::with_capacity(items.len());
        for item in items {
            let b_id = item.get("bId").cloned().unwrap_or(Value::Null);
            let result = self.batch_item(state, realm, item, request.now);
            let mut shown = Map::new();
            shown.insert("bId".to_owned(), b_id);
            match result {
                Ok((key, value)) => shown.insert(key, value),
                Err(fault) => shown.insert("Fault".to_owned(), fault.to_json()),
            };
            answered.push(Value::Object(shown));
        }
        Ok(json!({ "BatchItemResponse": answered }))
    }

    /// One batch item: the key of its answer (`Bill`, `QueryResponse`) and the answer.
    fn batch_item(
        &self,
        state: &mut QuickBooksState,
        realm: &str,
        mut item: Value,
        now: OffsetDateTime,
    ) -> Result<(String, Value), Fault> {
        if item.get("bId").is_none() {
            return Err(Fault::required("bId"));
        }
        if let Some(text) = item.get("Query").and_then(Value::as_str) {
            return query(state, realm, text).map(|found| ("QueryResponse".to_owned(), found));
        }
        let Some(entity) = Entity::ALL
            .into_iter()
            .find(|entity| item.get(entity.name()).is_some())
        else {
            return Err(Fault::required("Bill"));
        };
        let Value::Object(fields) = item[entity.name()].take() else {
            return Err(Fault::required(entity.name()));
        };
        let saved = match item.get("operation").and_then(Value::as_str) {
            Some("create") => self.create(state, realm, entity, fields, now),
            Some("update") if fields.contains_key("Id") => {
                self.update(state, realm, entity, fields, now)
            }
            Some("update") => Err(Fault::required("Id")),
            Some("delete") => delete(state, realm, entity, &Value::Object(fields), now),
            Some(other) => Err(Fault::validation(
                "500",
                "Unsupported Operation",
                format!("Operation {other} is not supported by the fake"),
                "operation",
            )),
            None => Err(Fault::required("operation")),
        };
        saved.map(|record| (entity.name().to_owned(), record))
    }
}

/// A parsed query, Intuit's grammar ("Query operations and syntax"): `SELECT * | COUNT(*) FROM
/// <Entity> [WHERE <cond> [AND <cond>]..] [ORDERBY <Field> [ASC|DESC], ..] [STARTPOSITION n]
/// [MAXRESULTS m]`, keywords in any case, `ORDER BY` in two words as well (Intuit's own sample,
/// and python-quickbooks' `all()`).
#[derive(Debug, PartialEq)]
struct Query {
    entity: Entity,
    /// `SELECT COUNT(*)`: answer `totalCount` only.
    count: bool,
    /// Conditions, all of which hold (`AND`; Intuit: "The OR operation isn't supported").
    filters: Vec<Condition>,
    /// Sort keys, `true` for descending.
    order: Vec<(String, bool)>,
    start: usize,
    max: usize,
}

/// One `WHERE` condition: a field (dotted path), an operator and its value(s) as text.
#[derive(Debug, PartialEq)]
struct Condition {
    field: String,
    op: Op,
    values: Vec<String>,
}

/// Intuit's operators: `IN, =, <, >, <=, >=, LIKE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Lt,
    Gt,
    Le,
    Ge,
    In,
    Like,
}

#[derive(Debug, PartialEq)]
enum Token {
    Word(String),
    Quoted(String),
    Op(Op),
    Open,
    Close,
    Comma,
}

/// Why a query is not in the language the fake parses; the fault says `QueryParserError: ` (or
/// `QueryValidationError: ` for a value out of range) and the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum QueryError {
    /// A `'` string has no end.
    #[error("unterminated string")]
    UnterminatedString,
    /// A name was expected (after `from`).
    #[error("expected a name")]
    ExpectedName,
    /// This keyword was expected.
    #[error("expected `{0}`")]
    Expected(&'static str),
    /// Not an entity the fake knows.
    #[error("unknown entity `{0}`")]
    UnknownEntity(String),
    /// `STARTPOSITION` or `MAXRESULTS` without a positive number.
    #[error("`{0}` takes a positive number")]
    NotPositive(&'static str),
    /// `MAXRESULTS` over 1000: the words of Intuit's answer (ruckus/quickbooks-ruby #24).
    #[error("value {0} is too large. Max allowed value is 1000")]
    TooLarge(usize),
    /// Something other than a keyword after the entity.
    #[error("expected `where`, `orderby`, `STARTPOSITION` or `MAXRESULTS`")]
    ExpectedClause,
    /// A condition that is not `<Field> <op> <value>`.
    #[error("expected `<Field> <operator> <value>` in `where`")]
    ExpectedFilter,
    /// A keyword the fake does not support (or a second `where`).
    #[error("unsupported `{0}`")]
    Unsupported(String),
}

fn tokens(text: &str) -> Result<Vec<Token>, QueryError> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let single = match c {
            '=' => Some(Token::Op(Op::Eq)),
            '(' => Some(Token::Open),
            ')' => Some(Token::Close),
            ',' => Some(Token::Comma),
            _ => None,
        };
        if let Some(token) = single {
            chars.next();
            out.push(token);
        } else if c == '<' || c == '>' {
            chars.next();
            let or_equal = chars.next_if_eq(&'=').is_some();
            out.push(Token::Op(match (c, or_equal) {
                ('<', false) => Op::Lt,
                ('<', true) => Op::Le,
                (_, false) => Op::Gt,
                (_, true) => Op::Ge,
            }));
        } else if c == '\'' {
            chars.next();
            let mut value = String::new();
            loop {
                match chars.next() {
                    Some('\\') => value.extend(chars.next()),
                    Some('\'') => break,
                    Some(c) => value.push(c),
                    None => return Err(QueryError::UnterminatedString),
                }
            }
            out.push(Token::Quoted(value));
        } else {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || "=<>'(),".contains(c) {
                    break;
                }
                word.push(c);
                chars.next();
            }
            out.push(Token::Word(word));
        }
    }
    Ok(out)
}

fn is_word(token: Option<&Token>, keyword: &str) -> bool {
    matches!(token, Some(Token::Word(w)) if w.eq_ignore_ascii_case(keyword))
}

fn parse_query(text: &str) -> Result<Query, QueryError> {
    let mut tokens = tokens(text)?.into_iter().peekable();
    let word = |tokens: &mut std::iter::Peekable<std::vec::IntoIter<Token>>,
                expected: &'static str| match tokens.next() {
        Some(Token::Word(w)) if expected.is_empty() || w.eq_ignore_ascii_case(expected) => Ok(w),
        _ if expected.is_empty() => Err(QueryError::ExpectedName),
        _ => Err(QueryError::Expected(expected)),
    };
    word(&mut tokens, "select")?;
    let count = if is_word(tokens.peek(), "count") {
        tokens.next();
        let star = (tokens.next(), tokens.next(), tokens.next());
        if !matches!(star, (Some(Token::Open), Some(Token::Word(ref w)), Some(Token::Close)) if w == "*")
        {
            return Err(QueryError::Expected("count(*)"));
        }
        true
    } else {
        word(&mut tokens, "*")?;
        false
    };
    word(&mut tokens, "from")?;
    let name = word(&mut tokens, "")?;
    let entity = Entity::parse(&name).ok_or_else(|| QueryError::UnknownEntity(name.clone()))?;
    let mut query = Query {
        entity,
        count,
        filters: Vec::new(),
        order: Vec::new(),
        start: 1,
        max: DEFAULT_MAX_RESULTS,
    };
    let number = |token: Option<Token>, keyword: &'static str| match token {
        Some(Token::Word(n)) => n
            .parse::<usize>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or(QueryError::NotPositive(keyword)),
        _ => Err(QueryError::NotPositive(keyword)),
    };
    let mut seen_where = false;
    while let Some(token) = tokens.next() {
        let Token::Word(keyword) = token else {
            return Err(QueryError::ExpectedClause);
        };
        match keyword.to_ascii_lowercase().as_str() {
            "where" if !seen_where => {
                seen_where = true;
                loop {
                    query.filters.push(condition(&mut tokens)?);
                    if !is_word(tokens.peek(), "and") {
                        break;
                    }
                    tokens.next();
                }
            }
            "order" if is_word(tokens.peek(), "by") => {
                tokens.next();
                query.order = order_by(&mut tokens)?;
            }
            "orderby" => query.order = order_by(&mut tokens)?,
            "startposition" => query.start = number(tokens.next(), "STARTPOSITION")?,
            "maxresults" => {
                let max = number(tokens.next(), "MAXRESULTS")?;
                if max > MAX_MAX_RESULTS {
                    return Err(QueryError::TooLarge(max));
                }
                query.max = max;
            }
            other => return Err(QueryError::Unsupported(other.to_owned())),
        }
    }
    Ok(query)
}

/// `<Field> <op> <value>`, `<Field> IN (<value>, ..)`; a value is quoted text or a bare word
/// (`5`, `true`, `False` as python-quickbooks writes a Python bool).
fn condition(
    tokens: &mut std::iter::Peekable<std::vec::IntoIter<Token>>,
) -> Result<Condition, QueryError> {
    let Some(Token::Word(field)) = tokens.next() else {
        return Err(QueryError::ExpectedFilter);
    };
    let value = |token: Option<Token>| match token {
        Some(Token::Quoted(v) | Token::Word(v)) => Ok(v),
        _ => Err(QueryError::ExpectedFilter),
    };
    let op = match tokens.next() {
        Some(Token::Op(op)) => op,
        Some(Token::Word(w)) if w.eq_ignore_ascii_case("like") => Op::Like,
        Some(Token::Word(w)) if w.eq_ignore_ascii_case("in") => Op::In,
        _ => return Err(QueryError::ExpectedFilter),
    };
    let values = if op == Op::In {
        if tokens.next() != Some(Token::Open) {
            return Err(QueryError::ExpectedFilter);
        }
        let mut values = vec![value(tokens.next())?];
        loop {
            match tokens.next() {
                Some(Token::Comma) => values.push(value(tokens.next())?),
                Some(Token::Close) => break,
                _ => return Err(QueryError::ExpectedFilter),
            }
        }
        values
    } else {
        vec![value(tokens.next())?]
    };
    Ok(Condition { field, op, values })
}

/// `<Field> [ASC|DESC] [, <Field> [ASC|DESC]]..`.
fn order_by(
    tokens: &mut std::iter::Peekable<std::vec::IntoIter<Token>>,
) -> Result<Vec<(String, bool)>, QueryError> {
    let mut keys = Vec::new();
    loop {
        let Some(Token::Word(field)) = tokens.next() else {
            return Err(QueryError::Expected("orderby <Field>"));
        };
        let descending = if is_word(tokens.peek(), "desc") {
            tokens.next();
            true
        } else {
            if is_word(tokens.peek(), "asc") {
                tokens.next();
            }
            false
        };
        keys.push((field, descending));
        if tokens.peek() != Some(&Token::Comma) {
            return Ok(keys);
        }
        tokens.next();
    }
}

/// A field of a record by a dotted path, case-insensitively per step (`MetaData.LastUpdatedTime`,
/// `Metadata.LastUpdatedTime` in Intuit's sample).
fn field_of<'a>(record: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(record, |value, key| {
        value.get(key).or_else(|| {
            value
                .as_object()?
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v)
        })
    })
}

/// Two values' order: as instants when both are RFC 3339 date-times, as numbers when both are
/// numbers, as dates (`YYYY-MM-DD`) when both are, else as text.
fn compare(left: &str, right: &str) -> std::cmp::Ordering {
    let rfc3339 = &time::format_description::well_known::Rfc3339;
    if let (Ok(a), Ok(b)) = (
        OffsetDateTime::parse(left, rfc3339),
        OffsetDateTime::parse(right, rfc3339),
    ) {
        return a.cmp(&b);
    }
    if let (Ok(a), Ok(b)) = (left.parse::<f64>(), right.parse::<f64>()) {
        return a.total_cmp(&b);
    }
    left.cmp(right)
}

impl Condition {
    fn holds(&self, record: &Value) -> bool {
        let Some(found) = field_of(record, &self.field).map(text_of) else {
            return false;
        };
        let value = self.values[0].as_str();
        let order = || compare(&found, value);
        match self.op {
            Op::Eq => found == value || (is_bool(value) && found.eq_ignore_ascii_case(value)),
            Op::Lt => order().is_lt(),
            Op::Gt => order().is_gt(),
            Op::Le => order().is_le(),
            Op::Ge => order().is_ge(),
            Op::In => self.values.contains(&found),
            Op::Like => like(&found, value),
        }
    }
}

fn is_bool(text: &str) -> bool {
    text.eq_ignore_ascii_case("true") || text.eq_ignore_ascii_case("false")
}

/// `LIKE` with `%` for any run of characters, case-insensitively.
fn like(text: &str, pattern: &str) -> bool {
    let text = text.to_lowercase();
    let pattern = pattern.to_lowercase();
    let parts: Vec<&str> = pattern.split('%').collect();
    let (first, rest) = parts.split_first().unwrap_or((&"", &[]));
    let Some(mut left) = text.strip_prefix(first) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return left.is_empty();
    };
    for part in middle {
        match left.find(part) {
            Some(at) => left = &left[at + part.len()..],
            None => return false,
        }
    }
    left.ends_with(last)
}

/// A query (Intuit "Query operations and syntax"): the realm's records of the entity that meet
/// every `WHERE` condition, in creation order or as `ORDERBY` says, from the 1-based
/// `STARTPOSITION`, at most `MAXRESULTS` (default 100, more than 1000 an error). Answers the
/// `QueryResponse` object: `{"<Entity>": [..], "startPosition", "maxResults"}` (`maxResults`
/// is the number returned), `{}` when nothing matched, `{"totalCount": n}` for `COUNT(*)`.
fn query(state: &QuickBooksState, realm: &str, text: &str) -> Result<Value, Fault> {
    let query = parse_query(text).map_err(|reason| {
        let kind = if matches!(reason, QueryError::TooLarge(_)) {
            "QueryValidationError"
        } else {
            "QueryParserError"
        };
        Fault::validation(
            "4000",
            "Error parsing query",
            format!("{kind}: {reason}"),
            "",
        )
    })?;
    let mut found: Vec<&Value> = state
        .records
        .live(query.entity, Some(realm))
        .map(|r| &r.body)
        .filter(|body| query.filters.iter().all(|c| c.holds(body)))
        .collect();
    if query.count {
        return Ok(json!({ "totalCount": found.len() }));
    }
    if !query.order.is_empty() {
        found.sort_by(|a, b| {
            query
                .order
                .iter()
                .map(|(field, descending)| {
                    let text = |v: &Value| field_of(v, field).map(text_of).unwrap_or_default();
                    let order = compare(&text(a), &text(b));
                    if *descending { order.reverse() } else { order }
                })
                .find(|order| order.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
        });
    }
    let found: Vec<Value> = found[offset(found.len(), query.start, query.max)]
        .iter()
        .map(|body| (*body).clone())
        .collect();
    if found.is_empty() {
        return Ok(json!({}));
    }
    Ok(json!({
        query.entity.name(): found,
        "startPosition": query.start,
        "maxResults": found.len(),
    }))
}

/// `GET /cdc?entities=Bill,Vendor&changedSince=<RFC 3339>` [INTUIT-CDC], [GLAMA-QBO-CDC]: per
/// entity, in the order named, the realm's records last updated at or after `changedSince`,
/// oldest change first, at most 1000 objects in all. A `changedSince` more than 30 days back
/// gets a 400 `ValidationFault`.
fn cdc(
    state: &QuickBooksState,
    realm: &str,
    request: &ProviderRequest<'_>,
) -> Result<Value, Fault> {
    let entities = request
        .query_param("entities")
        .ok_or_else(|| Fault::required("entities"))?;
    let since_text = request
        .query_param("changedSince")
        .ok_or_else(|| Fault::required("changedSince"))?;
    let since = OffsetDateTime::parse(&since_text, &time::format_description::well_known::Rfc3339)
        .map_err(|_| {
            Fault::business(
                format!(
                    "changedSince `{since_text}` is not a date-time such as 2026-10-31T23:00:00Z"
                ),
                "changedSince",
            )
        })?;
    if since < request.now - CDC_LOOK_BACK {
        return Err(Fault::business(
            "changedSince must be within the last 30 days".to_owned(),
            "changedSince",
        ));
    }
    let mut left = CDC_MAX_OBJECTS;
    let mut responses = Vec::new();
    for name in entities.split(',').map(str::trim) {
        let entity = Entity::parse(name).ok_or_else(|| {
            Fault::business(format!("unknown entity `{name}` in entities"), "entities")
        })?;
        let mut changed: Vec<&Record<Entity>> = state
            .records
            .live(entity, Some(realm))
            .filter(|r| r.updated >= since)
            .collect();
        changed.sort_by_key(|r| r.updated);
        let changed: Vec<Value> = changed
            .into_iter()
            .take(left)
            .map(|r| r.body.clone())
            .collect();
        left -= changed.len();
        let count = changed.len();
        responses.push(json!({
            entity.name(): changed,
            "startPosition": 1,
            "maxResults": count,
            "totalCount": count,
        }));
    }
    Ok(json!({ "CDCResponse": [{ "QueryResponse": responses }] }))
}

impl QuickBooks {
    /// `POST /oauth2/v1/tokens/bearer` [NANGO-QBO]: `authorization_code` (any non-empty code,
    /// once) and `refresh_token` grants under [`token_policy`]; a refused grant gets
    /// `400 {"error":"invalid_grant"}` [NANGO-QBO].
    fn token(&self, state: &mut QuickBooksState, request: &ProviderRequest<'_>) -> Response<Bytes> {
        let form = request.form();
        let now = request.now;
        let (serial, mock) = (&mut state.serial, &self.mock);
        let mut mint = |_, _: &()| next_token(serial, mock);
        let issued = match form.get("grant_type").map(String::as_str) {
            Some("authorization_code") => state
                .tokens
                .redeem_code(&form, now, None)
                .map(|()| state.tokens.consent((), now, &mut mint)),
            Some("refresh_token") => {
                let token = form.get("refresh_token").map(String::as_str);
                state.tokens.refresh(token, now, &mut mint)
            }
            _ => return oauth_error("unsupported_grant_type"),
        };
        match issued {
            Ok(issued) => self.answer(state, &issued, request),
            Err(refused) => oauth_error(refused.code()),
        }
    }

    /// The token answer of `issued`, with the fields of [`token_policy`]; and, only when the
    /// request asks with `x-include-refresh-token-hard-expires-in: true`, the seconds to the
    /// five-year cap, `x_refresh_token_hard_expires_in` (oauth-jsclient `HardExpiresTest.js`).
    fn answer(
        &self,
        state: &QuickBooksState,
        issued: &Issued,
        request: &ProviderRequest<'_>,
    ) -> Response<Bytes> {
        let mut answer = issued.answer(state.tokens.policy().answer);
        if request
            .header(HARD_EXPIRES_HEADER)
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
        {
            answer.extend(issued.answer(&[HARD_EXPIRES_FIELD]));
        }
        json_response(StatusCode::OK, &Value::Object(answer))
    }
}

/// `POST /v2/oauth2/tokens/revoke` [FS-QBO-REVOKE] with `{"token": ..}` (JSON) or `token=..`
/// (form), an access or refresh token: the whole consent is revoked, every token of it refused
/// from then on. Answers `200` with no body, also for a token it does not know.
fn revoke(state: &mut QuickBooksState, request: &ProviderRequest<'_>) -> Response<Bytes> {
    let token = serde_json::from_slice::<Value>(request.view.body)
        .ok()
        .and_then(|body| body.get("token").and_then(Value::as_str).map(str::to_owned))
        .or_else(|| {
            form_urlencoded::parse(request.view.body)
                .find(|(n, _)| n == "token")
                .map(|(_, v)| v.into_owned())
        });
    if let Some(token) = token {
        state.tokens.revoke(&token);
    }
    empty(StatusCode::OK)
}

/// The OpenID discovery document (`GET /.well-known/openid_configuration/`), which Intuit's
/// OAuth clients read for their endpoints (intuit-oauth `AuthClient.__init__` reads
/// `authorization_endpoint`, `token_endpoint`, `revocation_endpoint`, `issuer`, `jwks_uri`,
/// `userinfo_endpoint`). Keys and the `issuer` value are Intuit's (as copied in public code);
/// the endpoint URLs are the fake's own, on the host the request named, so a client configured
/// with this document talks to the fake. Only the token and revocation endpoints are served.
fn discovery(request: &ProviderRequest<'_>) -> Response<Bytes> {
    let base = request.self_url();
    json_response(
        StatusCode::OK,
        &json!({
            "issuer": "https://oauth.platform.intuit.com/op/v1",
            "authorization_endpoint": format!("{base}/connect/oauth2"),
            "token_endpoint": format!("{base}{TOKEN_PATH}"),
            "userinfo_endpoint": format!("{base}/v1/openid_connect/userinfo"),
            "revocation_endpoint": format!("{base}{REVOKE_PATH}"),
            "jwks_uri": format!("{base}/op/v1/jwks"),
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile", "address", "phone"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "claims_supported": ["aud", "exp", "iat", "iss", "realmid", "sub"],
        }),
    )
}

/// The 403 for a realm that is not in `with.realms`: the app is not authorised for it, 3100
/// `ApplicationAuthorizationFailed`, in the same lowercase shape as the 401 with `type: SERVICE`
/// (intuit/oauth-jsclient #2; routablehq/python-quickbooks #250; the message as logged since).
fn forbidden(now: OffsetDateTime) -> Response<Bytes> {
    gateway_fault(
        StatusCode::FORBIDDEN,
        "SERVICE",
        "3100",
        "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403",
        Value::Null,
        now,
    )
}

/// The gateway's error answer, **lowercase** `fault.error[]` with the empty sibling keys and
/// `time` in epoch milliseconds, as quoted from live 401 and 403 bodies (intuit/oauth-jsclient
/// #2, routablehq/python-quickbooks #250): `{"warnings":null,"intuitObject":null,"fault":{"error":
/// [{"message","detail","code","element":null}],"type"},"report":null,..,"time":1543012192555}`.
fn gateway_fault(
    status: StatusCode,
    kind: &str,
    code: &str,
    message: &str,
    detail: Value,
    now: OffsetDateTime,
) -> Response<Bytes> {
    let millis = i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
    json_response(
        status,
        &json!({
            "warnings": null,
            "intuitObject": null,
            "fault": {
                "error": [{
                    "message": message,
                    "detail": detail,
                    "code": code,
                    "element": null,
                }],
                "type": kind,
            },
            "report": null,
            "queryResponse": null,
            "batchItemResponse": [],
            "attachableResponse": [],
            "syncErrorResponse": null,
            "requestId": null,
            "time": millis,
            "status": null,
            "cdcresponse": [],
        }),
    )
}

/// Fields the fake writes itself (and `sparse`, which is an instruction, not a field).
fn is_system_field(key: &str) -> bool {
    matches!(key, "Id" | "SyncToken" | "MetaData" | "sparse")
}

/// The `VendorRef` of a bill or bill payment: required (2020), a vendor of the realm that is
/// active (2500).
fn vendor_ref(
    state: &QuickBooksState,
    realm: &str,
    fields: &Map<String, Value>,
) -> Result<(), Fault> {
    let Some(vendor) = fields
        .get("VendorRef")
        .and_then(|r| r.get("value"))
        .map(text_of)
        .filter(|s| !s.is_empty())
    else {
        return Err(Fault::required("VendorRef"));
    };
    // 2500 Invalid Reference Id: an unknown vendor in the words of live answers
    // ("Invalid Reference Id : Names element id 540123582 not found"), an inactive
    // one in those of Intuit's errors page.
    match state.records.find(Entity::Vendor, realm, &vendor) {
        Err(_) => {
            return Err(Fault::validation(
                "2500",
                "Invalid Reference Id",
                format!("Invalid Reference Id : Names element id {vendor} not found"),
                "",
            ));
        }
        Ok(found) if found.status == Status::Inactive => {
            return Err(Fault::validation(
                "2500",
                "Invalid Reference Id",
                "Invalid Reference Id : Something you're trying to use has been made \
                 inactive. Check the fields with accounts."
                    .to_owned(),
                "",
            ));
        }
        Ok(_) => {}
    }
    Ok(())
}

/// The checks of Intuit's BillPayment reference: `TotalAmt` set (6000 "You must set a
/// transaction amount.", Intuit's errors page) and not negative; `PayType` `Check` with
/// `CheckPayment.BankAccountRef` or `CreditCard` with `CreditCardPayment.CCAccountRef` (2020
/// otherwise); every `Line[].LinkedTxn[]` of type `Bill` names a bill of the realm (2500, a
/// `Detail` of reenact's: no source gives this answer).
fn bill_payment(
    state: &QuickBooksState,
    realm: &str,
    fields: &Map<String, Value>,
) -> Result<(), Fault> {
    let Some(total) = fields
        .get("TotalAmt")
        .and_then(|v| text_of(v).parse::<f64>().ok())
    else {
        return Err(Fault::business(
            "Business Validation Error: You must set a transaction amount.".to_owned(),
            "TotalAmt",
        ));
    };
    if total < 0.0 {
        return Err(Fault::business(
            "Business Validation Error: The total amount cannot be negative.".to_owned(),
            "TotalAmt",
        ));
    }
    let account = |payment: &str, account: &str| {
        fields
            .get(payment)
            .and_then(|p| p.get(account))
            .and_then(|r| r.get("value"))
            .map(text_of)
            .is_some_and(|v| !v.is_empty())
    };
    match fields.get("PayType").and_then(Value::as_str) {
        Some("Check") if account("CheckPayment", "BankAccountRef") => {}
        Some("Check") => return Err(Fault::required("CheckPayment.BankAccountRef")),
        Some("CreditCard") if account("CreditCardPayment", "CCAccountRef") => {}
        Some("CreditCard") => return Err(Fault::required("CreditCardPayment.CCAccountRef")),
        _ => return Err(Fault::required("PayType")),
    }
    let linked = fields
        .get("Line")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|line| line.get("LinkedTxn").and_then(Value::as_array))
        .flatten();
    for txn in linked {
        if txn.get("TxnType").and_then(Value::as_str) != Some("Bill") {
            continue;
        }
        let id = txn.get("TxnId").map(text_of).unwrap_or_default();
        if state.records.find(Entity::Bill, realm, &id).is_err() {
            return Err(Fault::validation(
                "2500",
                "Invalid Reference Id",
                format!("Invalid Reference Id : Bill element id {id} not found"),
                "",
            ));
        }
    }
    Ok(())
}

/// `POST /<entity>?operation=delete` with `{"Id", "SyncToken"}` (Intuit's BillPayment reference;
/// python-quickbooks `DeleteMixin`): a transaction (a bill) is deleted, answered
/// `{"status": "Deleted", "domain": "QBO", "Id"}`; a later read or update of it gets 610
/// "Another user has deleted this transaction.". A stale `SyncToken` gets 5010. Name-list
/// entities (vendors) cannot be deleted, only made inactive (`Active: false`): 500.
fn delete(
    state: &mut QuickBooksState,
    realm: &str,
    entity: Entity,
    body: &Value,
    now: OffsetDateTime,
) -> Result<Value, Fault> {
    if entity == Entity::Vendor {
        return Err(Fault::validation(
            "500",
            "Unsupported Operation",
            "Operation Delete is not supported for Vendor: make it inactive (Active: false)"
                .to_owned(),
            "",
        ));
    }
    let id = body.get("Id").map(text_of).unwrap_or_default();
    if id.is_empty() {
        return Err(Fault::required("Id"));
    }
    state.records.find(entity, realm, &id)?;
    let Some(sync_token) = body.get("SyncToken").map(text_of) else {
        return Err(Fault::required("SyncToken"));
    };
    let version = version_of(&sync_token);
    state.records.writable(entity, realm, &id, Some(version))?;
    state.records.delete(entity, realm, &id, now)?;
    Ok(json!({ "status": "Deleted", "domain": "QBO", "Id": id }))
}

/// A top-level field a client sent empty (`""` or `null`): unset. python-quickbooks sends every
/// field its model has, `"DocNumber": ""` and `"TxnDate": ""` included, for fields not given.
fn is_unset(value: &Value) -> bool {
    value.is_null() || value.as_str() == Some("")
}

/// The version a `SyncToken` names: the number the fake writes (`"0"`, `"1"`, ..). Any other
/// text (`"abc"`, `"01"`) names no version of a record, so it is `u64::MAX`, which no record
/// reaches: the store finds it stale, as Intuit answers a `SyncToken` that is not the record's.
fn version_of(sync_token: &str) -> u64 {
    sync_token
        .parse::<u64>()
        .ok()
        .filter(|version| version.to_string() == sync_token)
        .unwrap_or(u64::MAX)
}

/// The text of a JSON scalar as a client may send ids and tokens: `"3"` and `3` alike.
fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn parse_date(text: &str) -> Option<time::Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text.get(..10)?, format).ok()
}

fn date_text(date: time::Date) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    date.format(format).unwrap_or_default()
}

impl ErrorRenderer for QuickBooks {
    /// The 401 for a bearer token that is missing, unknown, revoked or expired on the virtual
    /// clock [FS-QBO-3200] (secondary): the `fault` with **lowercase** keys,
    /// `message=AuthenticationFailed; errorCode=003200; statusCode=401`, code `3200`, type
    /// `AUTHENTICATION` (catalog Q-05).
    fn unauthenticated(&self, failure: &AuthFailure, now: OffsetDateTime) -> Response<Bytes> {
        let detail = match failure {
            AuthFailure::Revoked => "Token revoked".to_owned(),
            AuthFailure::Expired { at } => format!(
                "Token expired: the access token expired at {}",
                format_rfc3339(*at)
            ),
            AuthFailure::Unknown => "Token invalid: no such access token".to_owned(),
        };
        gateway_fault(
            StatusCode::UNAUTHORIZED,
            "AUTHENTICATION",
            "3200",
            "message=AuthenticationFailed; errorCode=003200; statusCode=401",
            Value::from(detail),
            now,
        )
    }
}

impl RecordRenderer for QuickBooks {
    type Refused = Response<Bytes>;

    /// The `Fault` of [`Fault::refused`], with its status.
    fn refused(&self, refusal: &RecordRefusal, now: OffsetDateTime) -> Response<Bytes> {
        Fault::refused(refusal).response(now)
    }
}

impl Fake for QuickBooks {
    type State = QuickBooksState;

    const NAME: &'static str = "quickbooks";

    /// Answer one request; every answer carries an `intuit_tid` header [INTUIT-ECO-ERRORS],
    /// seeded by the mock's name and the answer's number, so the same on every run.
    fn respond(
        &self,
        state: &mut QuickBooksState,
        request: &ProviderRequest<'_>,
    ) -> ProviderAnswer {
        let mut answer = self.route(state, request);
        state.tids += 1;
        let tid = seeded_uuid(&self.mock, state.tids, 2);
        if let Ok(value) = HeaderValue::from_str(&tid) {
            answer
                .response
                .headers_mut()
                .insert(HeaderName::from_static(TID_HEADER), value);
        }
        answer
    }

    /// The payload of `webhook` at `now`: one change event about a record of `state`, signed
    /// with `with.verifier_token` in `intuit-signature`, base64 HMAC-SHA256 over the exact body
    /// bytes [KESTRA-QBO-WH], [GIST-QBO-WH]. The legacy payload is
    /// `{"eventNotifications":[{"realmId","dataChangeEvent":{"entities":[{"name","id",
    /// "operation","lastUpdated"}]}}]}` [INTUIT-WEBHOOKS-MANAGE]; the CloudEvents one an array
    /// of one `{"specversion","id","source","type":"qbo.bill.created.v1","time",
    /// "intuitentityid","intuitaccountid","data"}` [QBO-NET-14704], [QBO-PHP-622],
    /// [LOOKSLIKE-QBO-WH].
    fn webhook(
        &self,
        state: &mut QuickBooksState,
        webhook: &ProviderWebhook,
        now: OffsetDateTime,
    ) -> Result<Vec<ProviderPayload>, ProviderWebhookError> {
        let ProviderWebhook::QuickBooksEvent {
            entity,
            operation,
            id,
            realm,
            cloudevents,
        } = webhook
        else {
            return Err(ProviderWebhookError::OnlyOwnKind {
                provider: "quickbooks",
            });
        };
        let Some(token) = &self.settings.verifier_token else {
            return Err(ProviderWebhookError::MissingSetting {
                provider: "quickbooks",
                setting: "verifier_token",
            });
        };
        let realm = realm
            .clone()
            .or_else(|| self.settings.realms.first().map(|r| r.id.clone()))
            .unwrap_or_default();
        let kind = Entity::parse(entity).ok_or_else(|| ProviderWebhookError::QuickBooksEntity {
            entity: entity.clone(),
        })?;
        let record = state.records.find(kind, &realm, id).map_err(|_| {
            ProviderWebhookError::QuickBooksRecord {
                entity: kind.name(),
                id: id.clone(),
                realm: realm.clone(),
            }
        })?;
        let last_updated = Value::from(format_rfc3339(record.updated));
        let body = if *cloudevents {
            state.webhooks += 1;
            let past = if operation == "Create" {
                "created"
            } else {
                "updated"
            };
            json!([{
                "specversion": "1.0",
                "id": seeded_uuid(&self.mock, state.webhooks, 5),
                "source": "intuit.quickbooks",
                "type": format!("qbo.{}.{past}.v1", kind.name().to_ascii_lowercase()),
                "datacontenttype": "application/json",
                "time": format_rfc3339(now),
                "intuitentityid": id,
                "intuitaccountid": realm,
                "data": {},
            }])
        } else {
            json!({
                "eventNotifications": [{
                    "realmId": realm,
                    "dataChangeEvent": {
                        "entities": [{
                            "name": kind.name(),
                            "id": id,
                            "operation": operation,
                            "lastUpdated": last_updated,
                        }],
                    },
                }],
            })
        };
        Ok(vec![ProviderPayload {
            headers: vec![("content-type".to_string(), "application/json".to_string())],
            body: body.to_string().into_bytes(),
            sign: SigningSettings {
                secret: token.0.clone(),
                header: SIGNATURE_HEADER.to_string(),
                algorithm: SignAlgorithm::HmacSha256,
                encoding: SignatureEncoding::Base64,
                prefix: String::new(),
            },
            expected_status: None,
        }])
    }

    fn fresh_state(&self) -> QuickBooksState {
        QuickBooksState {
            serial: 0,
            tids: 0,
            webhooks: 0,
            tokens: Tokens::new(token_policy(&self.settings)),
            records: Store::default(),
            allow_duplicate_doc_number: false,
            request_ids: BTreeMap::new(),
        }
    }

    fn state_json(state: &QuickBooksState) -> Value {
        state.to_json()
    }

    fn rate_limits(&self) -> Vec<RateLimit> {
        rate_limits(&self.settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_parse_intuits_grammar_as_python_quickbooks_writes_it() {
        assert_eq!(
            parse_query("select * from Vendor STARTPOSITION 3 MAXRESULTS 2"),
            Ok(Query {
                entity: Entity::Vendor,
                count: false,
                filters: Vec::new(),
                order: Vec::new(),
                start: 3,
                max: 2,
            })
        );
        assert_eq!(
            parse_query("SELECT * FROM bill WHERE DocNumber = 'A \\'1\\''"),
            Ok(Query {
                entity: Entity::Bill,
                count: false,
                filters: vec![Condition {
                    field: "DocNumber".to_owned(),
                    op: Op::Eq,
                    values: vec!["A '1'".to_owned()],
                }],
                order: Vec::new(),
                start: 1,
                max: DEFAULT_MAX_RESULTS,
            })
        );
        // python-quickbooks `where()`: a double space without WHERE, `ORDERBY` in one word;
        // `all()`: `ORDER BY` in two; Intuit's sample `Order By`.
        let ordered =
            parse_query("SELECT * FROM Vendor  ORDERBY DisplayName DESC, Id MAXRESULTS 5")
                .expect("parses");
        assert_eq!(
            ordered.order,
            vec![("DisplayName".to_owned(), true), ("Id".to_owned(), false)]
        );
        assert_eq!(ordered.max, 5);
        // Intuit's BillPayment sample query, verbatim.
        let two_words = parse_query(
            "select * from billpayment Where Metadata.LastUpdatedTime>'2014-12-12T14:50:22-08:00' \
             Order By Metadata.LastUpdatedTime",
        )
        .expect("parses");
        assert_eq!(two_words.entity, Entity::BillPayment);
        assert_eq!(two_words.filters[0].op, Op::Gt);
        assert_eq!(
            two_words.filters[0].values,
            vec!["2014-12-12T14:50:22-08:00".to_owned()]
        );
        assert_eq!(
            two_words.order,
            vec![("Metadata.LastUpdatedTime".to_owned(), false)]
        );
        let dated = parse_query(
            "select * from Bill Where Metadata.LastUpdatedTime>='2014-12-12T14:50:22-08:00' \
             AND Active = False Order By Metadata.LastUpdatedTime asc",
        )
        .expect("parses");
        assert_eq!(dated.filters.len(), 2);
        assert_eq!(dated.filters[0].op, Op::Ge);
        assert_eq!(dated.filters[1].values, vec!["False".to_owned()]);
        assert_eq!(
            dated.order,
            vec![("Metadata.LastUpdatedTime".to_owned(), false)]
        );
        let counted = parse_query("SELECT COUNT(*) FROM Bill ").expect("parses");
        assert!(counted.count);
        let chosen =
            parse_query("SELECT * FROM Vendor WHERE DisplayName in ('a', 'b')").expect("parses");
        assert_eq!(chosen.filters[0].op, Op::In);
        assert_eq!(
            chosen.filters[0].values,
            vec!["a".to_owned(), "b".to_owned()]
        );
        assert_eq!(
            parse_query("select * from Vendor maxresults 1000").map(|q| q.max),
            Ok(MAX_MAX_RESULTS)
        );
        // The fault's message carries the text: it is pinned here.
        for (bad, reason) in [
            (
                "select * from Vendor maxresults 1500",
                "value 1500 is too large. Max allowed value is 1000",
            ),
            ("select Id from Vendor", "expected `*`"),
            ("select count(Id) from Vendor", "expected `count(*)`"),
            ("select * from Invoice", "unknown entity `Invoice`"),
            (
                "select * from Vendor where DisplayName = 'x",
                "unterminated string",
            ),
            (
                "select * from Vendor STARTPOSITION 0",
                "`STARTPOSITION` takes a positive number",
            ),
            (
                "select * from Vendor where DisplayName = 'x' or Id = '1'",
                "unsupported `or`",
            ),
            (
                "select * from Vendor where DisplayName 'x'",
                "expected `<Field> <operator> <value>` in `where`",
            ),
            ("select * from", "expected a name"),
            (
                "select * from Vendor = 'x'",
                "expected `where`, `orderby`, `STARTPOSITION` or `MAXRESULTS`",
            ),
        ] {
            let err = parse_query(bad).unwrap_err();
            assert_eq!(err.to_string(), reason, "{bad}");
        }
    }

    #[test]
    fn conditions_compare_instants_numbers_and_text() {
        let record = json!({
            "DisplayName": "Vendor C",
            "Balance": 10,
            "Active": true,
            "MetaData": { "LastUpdatedTime": "2026-11-02T15:00:00Z" },
        });
        let holds = |text: &str| {
            let query = parse_query(&format!("select * from Vendor where {text}")).expect(text);
            query.filters.iter().all(|c| c.holds(&record))
        };
        assert!(holds("DisplayName >= 'Vendor C'"));
        assert!(!holds("DisplayName > 'Vendor C'"));
        assert!(holds("DisplayName < 'Vendor D'"));
        assert!(holds("Balance > 9"), "10 > 9 as numbers, not as text");
        assert!(holds("Balance <= 10"));
        assert!(holds("Active = True"), "Python's bool text");
        assert!(!holds("Active = false"));
        assert!(holds("DisplayName LIKE 'vendor%'"));
        assert!(holds("DisplayName LIKE '%dor C'"));
        assert!(!holds("DisplayName LIKE 'C%'"));
        assert!(holds("DisplayName IN ('Vendor B', 'Vendor C')"));
        // An instant with an offset is compared as an instant: 07:00-08:00 is 15:00Z.
        assert!(holds(
            "Metadata.LastUpdatedTime >= '2026-11-02T07:00:00-08:00'"
        ));
        assert!(!holds(
            "MetaData.LastUpdatedTime > '2026-11-02T07:00:00-08:00'"
        ));
        assert!(!holds("Missing = 'x'"));
    }

    #[test]
    fn gateway_faults_are_lowercase_with_epoch_milliseconds() {
        let at = time::macros::datetime!(2026-10-31 23:00 UTC);
        let response = forbidden(at);
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        let body: Value = serde_json::from_slice(response.body()).unwrap();
        assert_eq!(body["fault"]["type"], "SERVICE");
        assert_eq!(body["fault"]["error"][0]["code"], "3100");
        assert_eq!(
            body["fault"]["error"][0]["message"],
            "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403"
        );
        assert_eq!(body["fault"]["error"][0]["detail"], Value::Null);
        assert_eq!(body["time"], json!(at.unix_timestamp() * 1000));
        assert_eq!(body["batchItemResponse"], json!([]));
        assert!(body.get("Fault").is_none());
    }

    /// A `SyncToken` names a version only as the fake writes it; anything else is stale.
    #[test]
    fn sync_tokens_name_versions_only_as_the_fake_writes_them() {
        assert_eq!(version_of("0"), 0);
        assert_eq!(version_of("12"), 12);
        for other in ["01", "+1", "abc", "", "1.0"] {
            assert_eq!(version_of(other), u64::MAX, "{other:?}");
        }
    }

    #[test]
    fn ids_and_sync_tokens_compare_as_text() {
        assert_eq!(text_of(&json!(3)), "3");
        assert_eq!(text_of(&json!("3")), "3");
        assert_eq!(text_of(&Value::Null), "");
    }

    #[test]
    fn faults_have_the_documented_shape() {
        let at = time::macros::datetime!(2026-10-31 23:00 UTC);
        let response = Fault::required("VendorRef").response(at);
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let body: Value = serde_json::from_slice(response.body()).unwrap();
        assert_eq!(
            body,
            json!({
                "Fault": {
                    "Error": [{
                        "Message": "Required Param Missing",
                        "Detail": "Required parameter VendorRef is missing in the request",
                        "code": "2020",
                        "element": "VendorRef",
                    }],
                    "type": "ValidationFault",
                },
                "time": "2026-10-31T23:00:00Z",
            })
        );
    }
}
