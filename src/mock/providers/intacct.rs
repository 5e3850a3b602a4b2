//! `provider: intacct`, [`Intacct`]: Sage Intacct's XML Web Services gateway, one endpoint
//! (`POST /ia/xml/xmlgw.phtml`) that reads a `<request>` envelope and answers a `<response>` with
//! its layered statuses, over vendors, AP bills, AP payments and journal entries (`GLBATCH`)
//! kept in [`IntacctState`].
//!
//! Every behaviour traces to `domain-catalog.md` §3.1–3.2 or to a public source (Sage's SDKs and
//! their tests, Intacct's developer pages); `docs/providers/intacct.md` gives the source of each
//! in its fidelity table and says where the sources are silent and what the fake does there.
//! Sage's own `@intacct/intacct-sdk` drives this fake in `conformance/intacct/`. The XML
//! this module reads and writes goes through [`Element`], a small tree of names, attributes, text
//! and children.

use std::collections::BTreeSet;

use bytes::Bytes;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Response, StatusCode};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use super::kit::records::{Kind, Record, ResultSet, ResultSets, Store};
use super::kit::tokens::{Minted, Revocation, TokenPolicy, Tokens};
use super::kit::{AuthFailure, ErrorRenderer, Fake, RecordRefusal, RecordRenderer};
use super::{ProviderAnswer, ProviderRequest};
use crate::mock::render::seeded_uuid;
use crate::money;
use crate::scenario::model::{
    IntacctCompany, IntacctRateLimits, IntacctSettings, LimitKey, LimitKind, PathMatcher,
    RateLimit, RequestMatcher, ResponseBody, ResponseSpec,
};

/// The one gateway path [APIDECK-INTACCT], [INTACCT-SDK-PHP] `RequestHandler`.
pub(crate) const ENDPOINT_PATH: &str = "/ia/xml/xmlgw.phtml";
/// Request content types the gateway reads: the SDKs' own [INTACCT-SDK-PHP] and the XML ones.
pub(crate) const CONTENT_TYPES: &[&str] = &["x-intacct-xml-request", "application/xml", "text/xml"];
/// The only `<dtdversion>` served [INTACCT-REQUESTS].
pub(crate) const DTD_VERSION: &str = "3.0";
/// Most records one `readByQuery` page holds: "Custom page size between 1 and 1000 items"
/// (Intacct API reference, `readByQuery`).
pub(crate) const MAX_PAGE_SIZE: usize = 1000;
/// Records one `readByQuery` page holds without `<pagesize>`: "(Default: 100)" (same page).
pub(crate) const DEFAULT_PAGE_SIZE: usize = 100;
/// Content type of every answer (catalog silent: reenact's choice).
pub(crate) const RESPONSE_CONTENT_TYPE: &str = "text/xml; charset=UTF-8";

/// XML parse or schema error, at control level [INTACCT-ERRORS].
pub(crate) const XML_SCHEMA_ERROR: &str = "XL03000003";
/// Sender not authorised [INTACCT-FAQ], wrong sender password and wrong user credentials
/// (intacct-sdk-php `OnlineResponseTest::testAuthenticationFailure`).
pub(crate) const INVALID_AUTHORIZATION: &str = "XL03000006";
/// The other functions of a failed `transaction="true"` operation (intacct-sdk-php
/// `OnlineClientTest::testExecuteBatchTransactionResultException`).
pub(crate) const ROLLED_BACK: &str = "XL03000009";
/// A record with the same key exists: "Another Class with the given value(s) … already exists"
/// (raw Intacct XML quoted in public code; see `docs/providers/intacct.md`).
pub(crate) const DUPLICATE: &str = "BL34000061";
/// The generic business failure that follows a specific one: "Could not create … record!"
/// (intacct/intacct-sdk-js issue #86 and the same raw XML).
pub(crate) const COULD_NOT_CREATE: &str = "BL01001973";
/// Gateway rate limiting, HTTP 429 [INTACCT-ERRORS], [DMC-GW0010].
pub(crate) const RATE_LIMITED: &str = "GW-0010";
/// Gateway "Invalid Request" [INTACCT-ERRORS].
pub(crate) const INVALID_REQUEST: &str = "GW-0011";
/// The errornos below are reenact's: the catalog names the cases but not their numbers. Targets
/// should not compare them.
///
/// An unknown or expired session id.
pub(crate) const SIGN_IN_FAILED: &str = "REENACT-SIGN-IN";
/// A `uniqueid=true` request whose `<controlid>` was already executed.
pub(crate) const CONTROL_ID_REUSED: &str = "REENACT-CONTROLID-REUSED";
/// A required field is missing or a value is not allowed.
pub(crate) const INVALID_FIELD: &str = "REENACT-INVALID";
/// A referenced record does not exist.
pub(crate) const NOT_FOUND: &str = "REENACT-NOT-FOUND";
/// A function or object the fake does not serve.
pub(crate) const UNSUPPORTED: &str = "REENACT-UNSUPPORTED";
/// Too many operations in progress for the company [SAGE-CONCURRENCY], [VENA-INTACCT].
pub(crate) const TOO_MANY_OPERATIONS: &str = "REENACT-TOO-MANY-OPERATIONS";
/// A journal entry whose debits and credits differ.
pub(crate) const UNBALANCED: &str = "REENACT-UNBALANCED";

/// The objects the fake stores: the object, its list type in answers, its key field besides
/// `RECORDNO`.
const OBJECTS: &[(Object, &str, Option<&str>)] = &[
    (Object::Vendor, "vendor", Some("VENDORID")),
    (Object::Bill, "apbill", None),
    (Object::Payment, "appymt", None),
    (Object::Journal, "glbatch", None),
];

/// An object the fake stores, the kind of its records in the [`Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Object {
    /// `VENDOR`.
    Vendor,
    /// `APBILL`.
    Bill,
    /// `APPYMT`.
    Payment,
    /// `GLBATCH`, a journal entry.
    Journal,
}

impl Kind for Object {
    fn name(self) -> &'static str {
        match self {
            Object::Vendor => "VENDOR",
            Object::Bill => "APBILL",
            Object::Payment => "APPYMT",
            Object::Journal => "GLBATCH",
        }
    }
}

/// A configured Intacct fake.
#[derive(Debug)]
pub(crate) struct Intacct {
    mock: String,
    settings: IntacctSettings,
}

/// What one Intacct fake holds: sessions, executed control ids and the companies' records.
#[derive(Debug)]
pub(crate) struct IntacctState {
    /// Session ids, result ids and Support IDs made so far (seeds the next one).
    serial: u64,
    /// The API sessions, each its own consent carrying who signed in, under [`token_policy`].
    sessions: Tokens<SignedIn>,
    /// `(senderid, controlid)` of every `uniqueid=true` request that ran.
    executed: BTreeSet<(String, String)>,
    /// The records of every company: scoped by company, with the entity (if any) of the
    /// session that created them, the body their fields as `read` returns them. Cloned before
    /// a `transaction="true"` operation so a failure can put them back.
    records: Store<Object>,
    /// `resultId` → the rest of a `readByQuery`'s records, for `readMore` (a snapshot: records
    /// created since do not join it).
    result_sets: ResultSets<Record<Object>, Query>,
}

/// What `readMore` needs of a `readByQuery` besides its records.
#[derive(Debug, Clone)]
struct Query {
    /// The company of the session that ran it: only the same company and entity read more.
    company: String,
    /// The entity of that session.
    entity: Option<String>,
    /// The list type of the answer.
    list: &'static str,
    /// The `<fields>` asked for (`None`: all).
    fields: Option<Vec<String>>,
}

/// Why a login failed: the `userid` and `companyid` to echo, and the error.
type Refusal = (String, String, Failure);

/// Why a request's credentials did not sign in.
#[derive(Debug)]
enum NotSignedIn {
    /// Its session id is unknown or lapsed ([`Tokens::authenticate`]).
    Session(AuthFailure),
    /// Its login is wrong, or its sender is not authorised by the company.
    Refused(Box<Refusal>),
}

/// Who a request acts as, once authenticated.
#[derive(Debug, Clone)]
struct SignedIn {
    company: String,
    user: String,
    entity: Option<String>,
}

/// One `<error>` of an `<errormessage>` [INTACCT-ERRORS], and the errors written after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    errorno: &'static str,
    description: String,
    description2: String,
    correction: String,
    /// Further `<error>`s of the same `<errormessage>`, in order (a specific BL error is followed
    /// by the generic [`COULD_NOT_CREATE`]; a function of a failed transaction by
    /// [`ROLLED_BACK`]).
    then: Vec<Failure>,
}

impl Failure {
    fn new(errorno: &'static str, description: &str, description2: impl Into<String>) -> Failure {
        Failure {
            errorno,
            description: description.to_owned(),
            description2: description2.into(),
            correction: String::new(),
            then: Vec::new(),
        }
    }

    /// This error followed by `next` in the same `<errormessage>`.
    fn then(mut self, next: Failure) -> Failure {
        self.then.push(next);
        self
    }

    /// This error and those after it, in document order.
    fn flatten(&self) -> Vec<&Failure> {
        let mut out = vec![self];
        for next in &self.then {
            out.extend(next.flatten());
        }
        out
    }

    fn correction(mut self, correction: &str) -> Failure {
        self.correction = correction.to_owned();
        self
    }
}

/// The parts of `<control>` [INTACCT-REQUESTS].
#[derive(Debug, Default)]
struct Control {
    senderid: String,
    password: String,
    controlid: String,
    uniqueid: bool,
    dtdversion: String,
}

/// `<authentication>`: a `<login>` or a `<sessionid>`.
#[derive(Debug)]
enum Credentials {
    Login {
        userid: String,
        companyid: String,
        password: String,
        locationid: Option<String>,
    },
    Session(String),
}

/// Intacct's API sessions as data: a session id lives `session_lifetime` after its last use
/// (the setting, [`IntacctSettings::session_lifetime`]; the catalog gives no lifetime), and every
/// request it authenticates moves its expiry ("An API session is a temporary unique identifier
/// tied to a company ID, user ID, possibly an entity (via location ID), and an endpoint URL",
/// Intacct "API Sessions"; [INTACCT-SDK-PHP] `RequestHandlerTest` for `getAPISession`). There are
/// no refresh tokens and no codes, nothing revokes a session (what `revocation` names is never
/// used), and the answer is Intacct's XML `<api>` block written by [`Intacct::api_session`],
/// not a token answer.
pub(crate) fn token_policy(session_lifetime: std::time::Duration) -> TokenPolicy {
    TokenPolicy {
        access_lifetime: time::Duration::try_from(session_lifetime).unwrap_or(time::Duration::MAX),
        access_sliding: true,
        refresh: None,
        code_lifetime: None,
        revocation: Revocation::Consent,
        answer: &[],
    }
}

impl IntacctState {
    /// `{"vendors": [..], "bills": [..], "payments": [..], "journals": [..], "sessions":
    /// {"issued": N}}`: records
    /// as `read` returns them plus `company` (and `entity` when a session had one); how many
    /// sessions were issued, never a session id.
    pub(crate) fn to_json(&self) -> Value {
        let shown = |object: Object| -> Vec<Value> {
            self.records
                .live(object, None)
                .map(|record| {
                    let mut shown = record.body.clone();
                    if let Value::Object(fields) = &mut shown {
                        fields.insert("company".to_owned(), Value::from(record.scope.clone()));
                        if let Some(entity) = &record.entity {
                            fields.insert("entity".to_owned(), Value::from(entity.clone()));
                        }
                    }
                    shown
                })
                .collect()
        };
        json!({
            "vendors": shown(Object::Vendor),
            "bills": shown(Object::Bill),
            "payments": shown(Object::Payment),
            "journals": shown(Object::Journal),
            "sessions": { "issued": self.sessions.counts().0 },
        })
    }
}

/// The records of `object` a session of `signed` sees, in creation order: its company's, and
/// for an entity-level session only records of that entity or of the top level ("Entities have
/// no visibility into other entities"; top-level records are shared; Intacct's multi-entity
/// help).
fn visible<'a>(
    records: &'a Store<Object>,
    signed: &'a SignedIn,
    object: Object,
) -> impl Iterator<Item = &'a Record<Object>> + 'a {
    records
        .live(object, Some(&signed.company))
        .filter(|record| {
            signed.entity.is_none() || record.entity.is_none() || record.entity == signed.entity
        })
}

/// The first record of `object` whose `field` is `value` that `signed` sees.
fn find<'a>(
    records: &'a Store<Object>,
    signed: &'a SignedIn,
    object: Object,
    field: &str,
    value: &str,
) -> Option<&'a Record<Object>> {
    visible(records, signed, object)
        .find(|record| record.body.get(field).and_then(Value::as_str) == Some(value))
}

/// The gateway's limits [INTACCT-ERRORS] as engine rate limits on `POST /ia/xml/xmlgw.phtml`,
/// one bucket for the mock: over `minute` requests a minute, HTTP 429 with `GW-0010`
/// [DMC-GW0010]; over `concurrent` requests in progress, the "too many operations running"
/// failure [SAGE-CONCURRENCY], [VENA-INTACCT]. The bodies are fixed (a blocked request is not
/// read, so they echo no control id).
pub(crate) fn rate_limits(limits: &IntacctRateLimits) -> Vec<RateLimit> {
    let request = || RequestMatcher {
        method: Some("POST".to_owned()),
        path: Some(PathMatcher::Exact(ENDPOINT_PATH.to_owned())),
        ..RequestMatcher::default()
    };
    let answer = |status: u16, failure: Failure| ResponseSpec {
        status,
        headers: vec![("Content-Type".to_owned(), RESPONSE_CONTENT_TYPE.to_owned())],
        body: ResponseBody::Text(document(&control_failure(None, &[failure]))),
    };
    let mut out = Vec::new();
    if let Some(concurrent) = limits.concurrent {
        out.push(RateLimit {
            name: "intacct concurrent".to_owned(),
            key: LimitKey::Global,
            kind: LimitKind::Concurrent(concurrent),
            request: Some(request()),
            response: answer(
                200,
                Failure::new(
                    TOO_MANY_OPERATIONS,
                    "There are too many operations running for this company",
                    "",
                )
                .correction("Wait for the running operations to finish, then retry"),
            ),
            remaining_header: None,
        });
    }
    if let Some(minute) = limits.minute {
        out.push(RateLimit {
            name: "intacct minute".to_owned(),
            key: LimitKey::Global,
            kind: LimitKind::Window {
                limit: minute,
                per: std::time::Duration::from_secs(60),
            },
            request: Some(request()),
            response: answer(
                429,
                Failure::new(RATE_LIMITED, "Rate limit exceeded", "")
                    .correction("Slow down and retry later"),
            ),
            remaining_header: None,
        });
    }
    out
}

impl Intacct {
    /// A fake serving as mock `mock` with `settings`.
    pub(crate) fn new(mock: &str, settings: IntacctSettings) -> Intacct {
        Intacct {
            mock: format!("{mock}/intacct"),
            settings,
        }
    }

    /// The layers of [INTACCT-ERRORS] in order: gateway (content type), XML validation, control
    /// (sender, `uniqueid`), authentication, then each function.
    fn gateway(&self, state: &mut IntacctState, request: &ProviderRequest<'_>) -> Response<Bytes> {
        let content_type = request
            .header("content-type")
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase());
        if !content_type.is_some_and(|t| CONTENT_TYPES.contains(&t.as_str())) {
            // Intacct's "Error handling" page: GW-0011 with the description "Invalid Request"
            // (and a Request ID the fake does not make up).
            let failure = Failure::new(INVALID_REQUEST, "Invalid Request", "");
            return xml_response(StatusCode::BAD_REQUEST, &control_failure(None, &[failure]));
        }
        let root = match Element::parse(request.view.body) {
            Ok(root) if root.name == "request" => root,
            Ok(other) => {
                let reason = SchemaError::Root(other.name);
                return schema_error(None, &reason, self.support_id(state));
            }
            Err(reason) => return schema_error(None, &reason.into(), self.support_id(state)),
        };
        let control = match read_control(&root) {
            Ok(control) => control,
            Err(refusal) => {
                let (control, reason) = *refusal;
                return schema_error(Some(&control), &reason, self.support_id(state));
            }
        };
        let (operation, credentials, functions) = match read_operation(&root) {
            Ok(parts) => parts,
            Err(reason) => return schema_error(Some(&control), &reason, self.support_id(state)),
        };
        let sender = &self.settings.sender;
        if control.senderid != sender.id || control.password != sender.password.0 {
            // Control level, "Incorrect Intacct XML Partner ID or password." with a Support ID
            // (a real answer quoted on dmconsultant.co; secondary source).
            let failure = Failure::new(
                INVALID_AUTHORIZATION,
                "",
                format!(
                    "Incorrect Intacct XML Partner ID or password. [Support ID: {}]",
                    self.support_id(state)
                ),
            );
            return xml_response(StatusCode::OK, &control_failure(Some(&control), &[failure]));
        }
        let executed = (control.senderid.clone(), control.controlid.clone());
        if control.uniqueid && state.executed.contains(&executed) {
            let failure = Failure::new(
                CONTROL_ID_REUSED,
                "This request was already executed",
                format!(
                    "A request with control ID `{}` and uniqueid true already ran; it is not run again",
                    control.controlid
                ),
            )
            .correction("Use a new control ID for a new request");
            return xml_response(StatusCode::OK, &control_failure(Some(&control), &[failure]));
        }
        let signed = match self.authenticate(state, &credentials, request.now) {
            Ok(signed) => signed,
            Err(NotSignedIn::Session(failure)) => {
                return Reply { control: &control }.unauthenticated(&failure, request.now);
            }
            Err(NotSignedIn::Refused(refusal)) => {
                let (userid, companyid, failure) = *refusal;
                let locationid = match &credentials {
                    Credentials::Login { locationid, .. } => locationid.clone().unwrap_or_default(),
                    Credentials::Session(_) => String::new(),
                };
                return auth_failure(&control, &userid, &companyid, &locationid, failure);
            }
        };
        if control.uniqueid {
            state.executed.insert(executed);
        }
        let transaction = operation.attr_value("transaction") == Some("true");
        let saved = transaction.then(|| state.records.clone());
        let base = request.self_url();
        let mut results: Vec<(String, String, Result<Element, Failure>)> = functions
            .iter()
            .map(|function| {
                let controlid = function
                    .attr_value("controlid")
                    .unwrap_or_default()
                    .to_owned();
                let call = &function.children[0];
                let mut outcome = self.run(state, &signed, call, request.now, &base);
                // A business (BL) error carries a Support ID at the end of its description2
                // (intacct-sdk-js issue #86).
                if let Err(failure) = &mut outcome
                    && failure.errorno.starts_with("BL")
                {
                    let support = self.support_id(state);
                    failure.description2 =
                        format!("{} [Support ID: {support}]", failure.description2);
                }
                (call.name.clone(), controlid, outcome)
            })
            .collect();
        let rolled_back = || {
            Failure::new(
                ROLLED_BACK,
                "",
                "The entire transaction in this operation has been rolled back due to an error.",
            )
        };
        // Per function: `success`, `failure` or `aborted`.
        let mut statuses: Vec<&str> = results
            .iter()
            .map(|(_, _, outcome)| {
                if outcome.is_ok() {
                    "success"
                } else {
                    "failure"
                }
            })
            .collect();
        if let Some(saved) = saved
            && results.iter().any(|(_, _, outcome)| outcome.is_err())
        {
            // All or nothing [INTACCT-SDK-PHP] `OperationBlockTest`: the records go back as they
            // were. The failing function says `failure` with its own errors then XL03000009;
            // every other one says `aborted` with XL03000009 alone (intacct-sdk-php
            // `OnlineClientTest::testExecuteBatchTransactionResultException`).
            state.records = saved;
            for ((_, _, outcome), status) in results.iter_mut().zip(statuses.iter_mut()) {
                match outcome {
                    Ok(_) => {
                        *outcome = Err(rolled_back());
                        *status = "aborted";
                    }
                    Err(failure) => failure.then.push(rolled_back()),
                }
            }
        }
        let lifetime = state.sessions.policy().access_lifetime;
        let mut operation = Element::new("operation").with(
            Element::new("authentication")
                .with(Element::leaf("status", "success"))
                .with(Element::leaf("userid", &signed.user))
                .with(Element::leaf("companyid", &signed.company))
                .with(Element::leaf(
                    "locationid",
                    signed.entity.as_deref().unwrap_or_default(),
                ))
                .with(Element::leaf("sessiontimestamp", &offset_time(request.now)))
                .with(Element::leaf(
                    "sessiontimeout",
                    &offset_time(request.now + lifetime),
                )),
        );
        for ((function, controlid, outcome), status) in results.into_iter().zip(statuses) {
            let result = Element::new("result")
                .with(Element::leaf("status", status))
                .with(Element::leaf("function", &function))
                .with(Element::leaf("controlid", &controlid));
            operation = operation.with(match outcome {
                Ok(data) => result.with(data),
                Err(failure) => result.with(errormessage(&[failure])),
            });
        }
        xml_response(
            StatusCode::OK,
            &Element::new("response")
                .with(control_element(&control, "success"))
                .with(operation),
        )
    }

    /// A deterministic `[Support ID: …]`: Intacct's is an opaque URL-encoded token such as
    /// `BHF%401EB034%7EYhVWlP0o213-8KQW5T4tIQAAAB4` (intacct-sdk-js issue #86); this one has the
    /// same shape (3 + `%40` + 6 + `%7E` + 27 characters), drawn from the mock's seed.
    fn support_id(&self, state: &mut IntacctState) -> String {
        state.serial += 1;
        let hex = |occurrence| seeded_uuid(&self.mock, state.serial, occurrence).replace('-', "");
        let (head, tail) = (hex(4).to_ascii_uppercase(), hex(5));
        format!("{}%40{}%7E{}AAAAB", &head[..3], &head[3..9], &tail[..22])
    }

    /// Who the credentials sign in as, or why they do not. A session lives
    /// [`IntacctSettings::session_lifetime`] after its last use ([`token_policy`]).
    fn authenticate(
        &self,
        state: &mut IntacctState,
        credentials: &Credentials,
        now: OffsetDateTime,
    ) -> Result<SignedIn, NotSignedIn> {
        let signed = match credentials {
            Credentials::Login {
                userid,
                companyid,
                password,
                locationid,
            } => {
                let company = self.company(companyid);
                let user = company.and_then(|c| c.users.iter().find(|u| &u.id == userid));
                let (Some(company), Some(user)) = (company, user) else {
                    return Err(NotSignedIn::Refused(sign_in_failed(userid, companyid)));
                };
                if user.password.0 != *password {
                    return Err(NotSignedIn::Refused(sign_in_failed(userid, companyid)));
                }
                if let Some(entity) = locationid
                    && !company.entities.contains(entity)
                {
                    return Err(NotSignedIn::Refused(sign_in_failed(userid, companyid)));
                }
                SignedIn {
                    company: company.id.clone(),
                    user: user.id.clone(),
                    entity: locationid.clone(),
                }
            }
            Credentials::Session(id) => match state.sessions.authenticate(Some(id), now) {
                Ok((_, signed)) => signed.clone(),
                Err(failure) => return Err(NotSignedIn::Session(failure)),
            },
        };
        // The sender must be authorised by the company [INTACCT-FAQ].
        if self
            .company(&signed.company)
            .is_some_and(|company| !company.sender_authorized)
        {
            let failure = Failure::new(
                INVALID_AUTHORIZATION,
                "Invalid Web Services Authorization",
                format!(
                    "The sender ID '{}' is not authorized to make Web Services requests to company ID '{}'.",
                    self.settings.sender.id, signed.company
                ),
            )
            .correction(
                "Contact the company administrator to grant Web Services authorization to this sender ID.",
            );
            return Err(NotSignedIn::Refused(Box::new((
                signed.user,
                signed.company,
                failure,
            ))));
        }
        Ok(signed)
    }

    /// The company whose id is `id`, compared without case.
    fn company(&self, id: &str) -> Option<&IntacctCompany> {
        self.settings
            .companies
            .iter()
            .find(|c| c.id.eq_ignore_ascii_case(id))
    }

    /// Run one function: its `<data>` or why it failed (content level: other functions of the
    /// request still run [INTACCT-ERRORS]).
    fn run(
        &self,
        state: &mut IntacctState,
        signed: &SignedIn,
        call: &Element,
        now: OffsetDateTime,
        base: &str,
    ) -> Result<Element, Failure> {
        match call.name.as_str() {
            "getAPISession" => self.api_session(state, signed, call, now, base),
            "create" => create(&mut state.records, signed, call, now),
            "update" => update(self, &mut state.records, signed, call, now),
            "read" => read(&state.records, signed, call),
            "readByQuery" => self.read_by_query(state, signed, call),
            "readMore" => read_more(state, signed, call),
            other => Err(Failure::new(
                UNSUPPORTED,
                "Unsupported function",
                format!(
                    "The fake serves getAPISession, create, update, read, readByQuery and readMore, not `{other}`"
                ),
            )),
        }
    }

    /// `getAPISession` [INTACCT-SDK-PHP] `RequestHandlerTest`: a new session for the signed-in
    /// user (and entity, from `<locationid>` when given) and the endpoint to call with it: the
    /// company's `endpoint` setting ("An API session is a temporary unique identifier tied to a
    /// company ID, user ID, possibly an entity (via location ID), and an endpoint URL", Intacct
    /// "API Sessions"), by default the mock's own URL from the request's `Host`.
    fn api_session(
        &self,
        state: &mut IntacctState,
        signed: &SignedIn,
        call: &Element,
        now: OffsetDateTime,
        base: &str,
    ) -> Result<Element, Failure> {
        // No <locationid>: the entity of the credentials. An empty one: a top-level session
        // ("From an entity-level session, you can provide an empty location ID to get a new
        // top-level session", Intacct "API Sessions").
        let entity = match call.text_of("locationid") {
            Some("") => None,
            Some(entity) => {
                let known = self
                    .company(&signed.company)
                    .is_some_and(|c| c.entities.iter().any(|e| e == entity));
                if !known {
                    return Err(Failure::new(
                        INVALID_FIELD,
                        "Invalid entity",
                        format!(
                            "Entity `{entity}` is not an entity of company `{}`",
                            signed.company
                        ),
                    ));
                }
                Some(entity.to_owned())
            }
            None => signed.entity.clone(),
        };
        let (serial, mock) = (&mut state.serial, &self.mock);
        // A session id: 32 hex digits then `..` (reenact's form, from the mock's seed).
        let mut mint = |_: Minted, _: &SignedIn| {
            *serial += 1;
            format!("{}..", seeded_uuid(mock, *serial, 2).replace('-', ""))
        };
        let session = SignedIn {
            company: signed.company.clone(),
            user: signed.user.clone(),
            entity: entity.clone(),
        };
        let id = state.sessions.consent(session, now, &mut mint).access;
        let endpoint = self
            .company(&signed.company)
            .and_then(|c| c.endpoint.clone())
            .unwrap_or_else(|| format!("{base}{ENDPOINT_PATH}"));
        let api = Element::new("api")
            .with(Element::leaf("sessionid", &id))
            .with(Element::leaf("endpoint", &endpoint))
            .with(Element::leaf(
                "locationid",
                entity.as_deref().unwrap_or_default(),
            ));
        Ok(Element::new("data").with(api))
    }
}

/// Wrong user credentials: `XL03000006` "Sign-in information is incorrect", the `userid` and
/// `companyid` echoed (intacct-sdk-php `OnlineResponseTest::testAuthenticationFailure`).
fn sign_in_failed(userid: &str, companyid: &str) -> Box<Refusal> {
    let failure = Failure::new(
        INVALID_AUTHORIZATION,
        "",
        "Sign-in information is incorrect",
    );
    Box::new((userid.to_owned(), companyid.to_owned(), failure))
}

/// The answer to a request whose credentials did not sign in: `<control>` succeeded, the
/// `<authentication>` block failed, echoing `userid`, `companyid` and `locationid`, with the
/// error; no function ran (intacct-sdk-php `OnlineResponseTest::testAuthenticationFailure`).
fn auth_failure(
    control: &Control,
    userid: &str,
    companyid: &str,
    locationid: &str,
    failure: Failure,
) -> Response<Bytes> {
    let authentication = Element::new("authentication")
        .with(Element::leaf("status", "failure"))
        .with(Element::leaf("userid", userid))
        .with(Element::leaf("companyid", companyid))
        .with(Element::leaf("locationid", locationid));
    let operation = Element::new("operation")
        .with(authentication)
        .with(errormessage(&[failure]));
    xml_response(
        StatusCode::OK,
        &Element::new("response")
            .with(control_element(control, "success"))
            .with(operation),
    )
}

/// The gateway's answers to one request whose `<control>` it read and accepted: every answer
/// echoes that control block, so the kit's refusals are rendered with it.
#[derive(Debug)]
struct Reply<'a> {
    /// The request's `<control>`.
    control: &'a Control,
}

impl ErrorRenderer for Reply<'_> {
    /// A session id that is unknown or lapsed ([`token_policy`]), whatever the kit's reason:
    /// "Invalid session" in the failed authentication block, nothing echoed (the catalog names
    /// the case, not its number: [`SIGN_IN_FAILED`] is reenact's).
    fn unauthenticated(&self, _failure: &AuthFailure, _now: OffsetDateTime) -> Response<Bytes> {
        let failure = Failure::new(
            SIGN_IN_FAILED,
            "Invalid session",
            "The session ID is unknown or has expired",
        )
        .correction("Request a new session with getAPISession");
        auth_failure(self.control, "", "", "", failure)
    }
}

impl RecordRenderer for Intacct {
    /// Intacct has no whole answer for a record refusal: it is the error of the function that
    /// met it, in that function's `<result>`, among the other functions' results (content level
    /// [INTACCT-ERRORS]).
    type Refused = Failure;

    /// The refusal of a record named by its `RECORDNO` ([`refusal_failure`]).
    fn refused(&self, refusal: &RecordRefusal, _now: OffsetDateTime) -> Failure {
        refusal_failure(refusal, "RECORDNO")
    }
}

/// `at` as the authentication block writes it: `2015-10-25T10:08:34-07:00` (the SDKs' fixtures),
/// here always in UTC, `+00:00`.
fn offset_time(at: OffsetDateTime) -> String {
    format!("{}+00:00", crate::timestamp::format_utc_seconds(at))
}

/// `at` as Intacct writes a timestamp field such as `WHENCREATED`: `MM/DD/YYYY HH:MM:SS`
/// ("Parameter Formats"; `<WHENCREATED>07/24/2017 15:19:46</WHENCREATED>` in intacct-sdk-js
/// `ResultTest`). Intacct's dates carry no time zone; the fake's are UTC.
fn intacct_time(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:02}/{:02}/{:04} {:02}:{:02}:{:02}",
        u8::from(at.month()),
        at.day(),
        at.year(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// The object named `name`: `(object, list type, key field)`.
fn object(name: &str) -> Result<(Object, &'static str, Option<&'static str>), Failure> {
    OBJECTS
        .iter()
        .find(|(object, _, _)| object.name().eq_ignore_ascii_case(name))
        .copied()
        .ok_or_else(|| {
            Failure::new(
                UNSUPPORTED,
                "Unsupported object",
                format!("The fake stores VENDOR, APBILL, APPYMT and GLBATCH, not `{name}`"),
            )
        })
}

/// `create` of one or more records: all of them, or none when one is invalid.
fn create(
    records: &mut Store<Object>,
    signed: &SignedIn,
    call: &Element,
    now: OffsetDateTime,
) -> Result<Element, Failure> {
    if call.children.is_empty() {
        return Err(Failure::new(
            INVALID_FIELD,
            "Nothing to create",
            "The create holds no record",
        ));
    }
    // Records may refer to those before them in the same call: work on a copy.
    let mut draft = records.clone();
    let mut data = Element::new("data")
        .attr("listtype", "objects")
        .attr("count", &call.children.len().to_string());
    for element in &call.children {
        let (object, list, key) = object(&element.name)?;
        let Value::Object(mut fields) = element.to_json() else {
            return Err(Failure::new(
                INVALID_FIELD,
                "Empty record",
                format!("The {} has no fields", object.name()),
            ));
        };
        validate(&draft, signed, object, &fields)?;
        // One sequence of RECORDNOs per object for the whole gateway, every company's records
        // numbered in turn (the store's numbering scope is empty, not the company).
        let record_no = draft.next_number("", object).to_string();
        let stamp = Value::from(intacct_time(now));
        let mut saved = Map::new();
        saved.insert("RECORDNO".to_owned(), Value::from(record_no.clone()));
        saved.append(&mut fields);
        saved.entry("WHENCREATED").or_insert(stamp.clone());
        saved.insert("WHENMODIFIED".to_owned(), stamp);
        let mut shown = Element::new(list).with(Element::leaf("RECORDNO", &record_no));
        if let Some(key) = key
            && let Some(value) = saved.get(key).and_then(Value::as_str)
        {
            shown = shown.with(Element::leaf(key, value));
        }
        data = data.with(shown);
        draft
            .insert(
                object,
                &signed.company,
                record_no,
                now,
                Value::Object(saved),
            )
            .entity = signed.entity.clone();
    }
    *records = draft;
    Ok(data)
}

/// The business rules of a new record (content level [INTACCT-ERRORS]; the rules and texts are
/// reenact's): a vendor needs a `VENDORID` not yet used in the company and a `NAME`; a bill or a
/// payment needs the `VENDORID` of an existing vendor; a payment's `APPYMTDETAIL`s must name
/// existing bills by `RECORDKEY`; a journal entry is checked by [`validate_journal`].
fn validate(
    records: &Store<Object>,
    signed: &SignedIn,
    object: Object,
    fields: &Map<String, Value>,
) -> Result<(), Failure> {
    if object == Object::Journal {
        return validate_journal(fields);
    }
    let text = |name: &str| {
        fields
            .get(name)
            .and_then(Value::as_str)
            .filter(|v| !v.trim().is_empty())
    };
    let required = |name: &str| {
        text(name).ok_or_else(|| {
            Failure::new(
                INVALID_FIELD,
                "Required field missing",
                format!("{} requires {name}", object.name()),
            )
        })
    };
    let vendor_id = required("VENDORID")?;
    let vendor = find(records, signed, Object::Vendor, "VENDORID", vendor_id);
    match object {
        Object::Vendor => {
            required("NAME")?;
            // A VENDORID is unique in the company, whichever entity holds it.
            let taken = records
                .live(Object::Vendor, Some(&signed.company))
                .any(|r| r.body.get("VENDORID").and_then(Value::as_str) == Some(vendor_id));
            if taken {
                // The shape of Intacct's duplicate-key answer (raw XML quoted in public code:
                // "Another Class with the given value(s) UT01 already exists", "Use a unique
                // value instead.", then BL01001973 "Could not create class record!").
                return Err(Failure::new(
                    DUPLICATE,
                    "",
                    format!("Another Vendor with the given value(s) {vendor_id} already exists"),
                )
                .correction("Use a unique value instead.")
                .then(Failure::new(
                    COULD_NOT_CREATE,
                    "",
                    "Could not create vendor record!",
                )));
            }
        }
        _ => {
            if vendor.is_none() {
                return Err(Failure::new(
                    NOT_FOUND,
                    "Invalid vendor",
                    format!("Vendor `{vendor_id}` does not exist"),
                )
                .correction("Create the vendor first"));
            }
            if object == Object::Payment {
                let details = fields
                    .get("APPYMTDETAILS")
                    .and_then(|d| d.get("APPYMTDETAIL"));
                let details: Vec<&Value> = match details {
                    Some(Value::Array(items)) => items.iter().collect(),
                    Some(one) => vec![one],
                    None => Vec::new(),
                };
                for detail in details {
                    let key = detail
                        .get("RECORDKEY")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    if find(records, signed, Object::Bill, "RECORDNO", key).is_none() {
                        return Err(Failure::new(
                            NOT_FOUND,
                            "Invalid bill",
                            format!("Bill `{key}` does not exist"),
                        ));
                    }
                }
            }
        }
    }
    Ok(())
}

/// A journal entry, `GLBATCH`, with the element names the journal entry create of the
/// `intacct/intacct-sdk-php` repository writes (the repository the catalog cites as
/// [INTACCT-SDK-PHP]; the catalog itself names journals only in incident I-02 and lists none of
/// these elements, so the shape is a choice following those names; the rules and texts are
/// reenact's): `JOURNAL` and `BATCH_DATE` are required (the date is kept as sent, not
/// parsed); `ENTRIES` holds one or more `GLENTRY` lines, each with an `ACCOUNTNO`, a `TR_TYPE`
/// of `1` (debit) or `-1` (credit) and an amount in `TRX_AMOUNT` (or `AMOUNT`): a decimal of at
/// most two places, not negative (the side is `TR_TYPE`). Amounts are added as exact decimals
/// ([`crate::money`]), never floats, and the entry must balance: debits equal credits, else
/// [`UNBALANCED`] fails the function (content level [INTACCT-ERRORS]).
fn validate_journal(fields: &Map<String, Value>) -> Result<(), Failure> {
    let invalid = |detail: String| Failure::new(INVALID_FIELD, "Invalid journal entry", detail);
    for name in ["JOURNAL", "BATCH_DATE"] {
        if fields
            .get(name)
            .and_then(Value::as_str)
            .is_none_or(|v| v.trim().is_empty())
        {
            return Err(Failure::new(
                INVALID_FIELD,
                "Required field missing",
                format!("GLBATCH requires {name}"),
            ));
        }
    }
    let lines: Vec<&Value> = match fields.get("ENTRIES").and_then(|e| e.get("GLENTRY")) {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one) => vec![one],
        None => Vec::new(),
    };
    if lines.is_empty() {
        return Err(invalid(
            "GLBATCH requires ENTRIES with at least one GLENTRY".to_owned(),
        ));
    }
    let (mut debits, mut credits) = (Decimal::ZERO, Decimal::ZERO);
    for (n, line) in lines.iter().enumerate() {
        let n = n + 1;
        let text = |name: &str| {
            line.get(name)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        if text("ACCOUNTNO").is_none() {
            return Err(invalid(format!("GLENTRY {n} requires ACCOUNTNO")));
        }
        let amount_text = text("TRX_AMOUNT")
            .or_else(|| text("AMOUNT"))
            .ok_or_else(|| invalid(format!("GLENTRY {n} requires TRX_AMOUNT or AMOUNT")))?;
        let amount = money::parse_text(amount_text)
            .filter(|a| *a >= Decimal::ZERO && money::cents(*a) == *a)
            .ok_or_else(|| {
                invalid(format!(
                    "GLENTRY {n}: the amount `{amount_text}` is not a decimal of at most two places at or above zero"
                ))
            })?;
        match text("TR_TYPE") {
            Some("1") => debits += amount,
            Some("-1") => credits += amount,
            other => {
                return Err(invalid(format!(
                    "GLENTRY {n}: TR_TYPE must be 1 (debit) or -1 (credit), not `{}`",
                    other.unwrap_or_default()
                )));
            }
        }
    }
    if debits != credits {
        return Err(Failure::new(
            UNBALANCED,
            "Journal entry is out of balance",
            format!(
                "Debits total {} and credits total {}",
                cents(debits),
                cents(credits)
            ),
        )
        .correction("Make the debits equal the credits"));
    }
    Ok(())
}

/// A non-negative amount of at most two decimals, shown with two: `123.45`, `100.00`.
fn cents(amount: Decimal) -> String {
    let mut amount = amount.normalize();
    amount.rescale(2);
    amount.to_string()
}

/// `update` of records named by `RECORDNO` (or `VENDORID` for a vendor): the given fields replace
/// theirs; `WHENMODIFIED` moves. Journal entries are not updated (their lines must stay
/// balanced; reenact's choice).
fn update(
    intacct: &Intacct,
    records: &mut Store<Object>,
    signed: &SignedIn,
    call: &Element,
    now: OffsetDateTime,
) -> Result<Element, Failure> {
    let mut draft = records.clone();
    let mut data = Element::new("data")
        .attr("listtype", "objects")
        .attr("count", &call.children.len().to_string());
    for element in &call.children {
        let (object, list, key) = object(&element.name)?;
        if object == Object::Journal {
            return Err(Failure::new(
                UNSUPPORTED,
                "Unsupported function",
                "The fake does not update GLBATCH: post a new journal entry",
            ));
        }
        let Value::Object(fields) = element.to_json() else {
            return Err(Failure::new(
                INVALID_FIELD,
                "Empty record",
                format!("The {} has no fields", object.name()),
            ));
        };
        let by = ["RECORDNO"].into_iter().chain(key).find_map(|field| {
            fields
                .get(field)
                .and_then(Value::as_str)
                .map(|value| (field, value.to_owned()))
        });
        let Some((field, value)) = by else {
            return Err(Failure::new(
                INVALID_FIELD,
                "Required field missing",
                format!(
                    "An update of {} names the record by RECORDNO",
                    object.name()
                ),
            ));
        };
        let id = find(&draft, signed, object, field, &value)
            .map(|record| record.id.clone())
            .ok_or_else(|| {
                let kind = object.name();
                refusal_failure(&RecordRefusal::NotFound { kind, id: value }, field)
            })?;
        let record = draft
            .update(object, &signed.company, &id, None, now)
            .map_err(|refusal| intacct.refused(&refusal, now))?;
        if let Value::Object(body) = &mut record.body {
            for (name, value) in fields {
                if name != "RECORDNO" {
                    body.insert(name, value);
                }
            }
            body.insert("WHENMODIFIED".to_owned(), Value::from(intacct_time(now)));
        }
        let record_no = record.body["RECORDNO"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        data = data.with(Element::new(list).with(Element::leaf("RECORDNO", &record_no)));
    }
    *records = draft;
    Ok(data)
}

/// A refusal of the record store as the error of the function that met it, naming the `field`
/// the record was looked up by: a record that is not there (never, or deleted; the fake deletes
/// none) is [`NOT_FOUND`] "Record not found" (the catalog names the case, not its words: they
/// are reenact's). No write names a version, so a stale one cannot happen; it would be an
/// [`INVALID_FIELD`] naming both versions.
fn refusal_failure(refusal: &RecordRefusal, field: &str) -> Failure {
    match refusal {
        RecordRefusal::NotFound { kind, id } | RecordRefusal::Deleted { kind, id } => Failure::new(
            NOT_FOUND,
            "Record not found",
            format!("No {kind} with {field} `{id}`"),
        ),
        RecordRefusal::Stale {
            kind,
            id,
            given,
            current,
        } => Failure::new(
            INVALID_FIELD,
            "Record changed",
            format!("The {kind} with {field} `{id}` is at version {current}, not {given}"),
        ),
    }
}

/// `read` of `<keys>` (comma-separated `RECORDNO`s; unknown ones are left out) with `<fields>`.
fn read(records: &Store<Object>, signed: &SignedIn, call: &Element) -> Result<Element, Failure> {
    let (object, list, _) = object(call.text_of("object").unwrap_or_default())?;
    let keys: Vec<&str> = call
        .text_of("keys")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .collect();
    let fields = field_list(call);
    let found: Vec<&Record<Object>> = keys
        .iter()
        .filter_map(|key| find(records, signed, object, "RECORDNO", key))
        .collect();
    let mut data = Element::new("data")
        .attr("listtype", list)
        .attr("count", &found.len().to_string());
    for record in found {
        data = data.with(record_element(list, record, fields.as_deref()));
    }
    Ok(data)
}

/// The next page of a result set: `<data listtype count totalcount numremaining [resultId]>`
/// with its records; `resultId` only while records remain.
fn page(set: &mut ResultSet<Record<Object>, Query>, result_id: Option<&str>) -> Element {
    let taken = set.next_page();
    let list = set.meta.list;
    let mut data = Element::new("data")
        .attr("listtype", list)
        .attr("count", &taken.len().to_string())
        .attr("totalcount", &set.total.to_string())
        .attr("numremaining", &set.rest.len().to_string());
    if let Some(id) = result_id
        && !set.rest.is_empty()
    {
        data = data.attr("resultId", id);
    }
    for record in &taken {
        data = data.with(record_element(list, record, set.meta.fields.as_deref()));
    }
    data
}

impl Intacct {
    /// `readByQuery` ("Query and List … (Legacy)" in the Intacct API reference): `<object>`,
    /// `<query>` ([`parse_query`]), `<fields>`, `<pagesize>` between 1 and [`MAX_PAGE_SIZE`]
    /// (default [`DEFAULT_PAGE_SIZE`]). It has no offset: when records remain, the answer carries
    /// a `resultId` that `readMore` pages on ("Queries").
    fn read_by_query(
        &self,
        state: &mut IntacctState,
        signed: &SignedIn,
        call: &Element,
    ) -> Result<Element, Failure> {
        let (object, list, _) = object(call.text_of("object").unwrap_or_default())?;
        let conditions = parse_query(call.text_of("query").unwrap_or_default())?;
        if call.child("offset").is_some() {
            // The DTD of readByQuery has no offset (the newer `query` function has one); what
            // Intacct answers to one is not documented: failing the function is reenact's choice,
            // so a client that pages by offset does not silently get page one again.
            return Err(Failure::new(
                INVALID_FIELD,
                "Invalid element",
                "readByQuery has no <offset>: page with readMore and the resultId of the answer",
            ));
        }
        let page_size = match call.text_of("pagesize").filter(|v| !v.is_empty()) {
            None => DEFAULT_PAGE_SIZE,
            Some(text) => match text.parse::<usize>() {
                Ok(size) if (1..=MAX_PAGE_SIZE).contains(&size) => size,
                // Over 1000: the reference gives the range, not the answer; an error naming the
                // range is reenact's choice.
                _ => {
                    return Err(Failure::new(
                        INVALID_FIELD,
                        "Invalid pagesize",
                        format!(
                            "<pagesize> must be a whole number between 1 and {MAX_PAGE_SIZE}, not `{text}`"
                        ),
                    ));
                }
            },
        };
        let found: Vec<Record<Object>> = visible(&state.records, signed, object)
            .filter(|r| {
                r.body
                    .as_object()
                    .is_some_and(|fields| conditions.iter().all(|c| c.holds(fields)))
            })
            .cloned()
            .collect();
        let total = found.len();
        let result_id = (total > page_size).then(|| {
            state.serial += 1;
            format!(
                "{}WU1hh8CoA4QAA",
                seeded_uuid(&self.mock, state.serial, 6).replace('-', "")
            )
        });
        let query = Query {
            company: signed.company.clone(),
            entity: signed.entity.clone(),
            list,
            fields: field_list(call),
        };
        let mut set = ResultSet::new(query, page_size, found);
        let data = page(&mut set, result_id.as_deref());
        if let Some(id) = result_id {
            state.result_sets.keep(id, set);
        }
        Ok(data)
    }
}

/// `readMore` by `<resultId>` ("Queries": "Provide either the object name or the result ID (from
/// the readByQuery response)"): the next page of that query, until `numremaining="0"`. A result
/// ID that is unknown, read to its end, or another company's or entity's fails the function
/// (Intacct's errorno for it is not documented: reenact's choice).
fn read_more(
    state: &mut IntacctState,
    signed: &SignedIn,
    call: &Element,
) -> Result<Element, Failure> {
    let id = call.text_of("resultId").unwrap_or_default().to_owned();
    let owns = |query: &Query| query.company == signed.company && query.entity == signed.entity;
    let Some(mut set) = state.result_sets.take(&id, owns) else {
        return Err(Failure::new(
            INVALID_FIELD,
            "Invalid resultId",
            format!("No results remain for resultId `{id}`"),
        )
        .correction("Run the readByQuery again"));
    };
    let data = page(&mut set, Some(&id));
    state.result_sets.keep(id, set);
    Ok(data)
}

/// A comparison operator of a query ("Queries": `<`, `>`, `>=`, `<=`, `=`; `!=` also read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// One `FIELD op 'value'` condition of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Condition {
    field: String,
    op: Op,
    value: String,
}

impl Condition {
    /// Whether a record's fields meet the condition. Values compare as Intacct timestamps
    /// (`MM/DD/YYYY[ HH:MM:SS]`) when both sides are ones, as numbers when both are, else as
    /// case-sensitive text ("String operands are case-sensitive."). A missing field meets none.
    fn holds(&self, fields: &Map<String, Value>) -> bool {
        let Some(have) = fields.get(&self.field).and_then(Value::as_str) else {
            return false;
        };
        let order = match (sortable_time(have), sortable_time(&self.value)) {
            (Some(a), Some(b)) => a.cmp(&b),
            _ => match (have.parse::<Decimal>(), self.value.parse::<Decimal>()) {
                (Ok(a), Ok(b)) => a.cmp(&b),
                _ => have.cmp(self.value.as_str()),
            },
        };
        match self.op {
            Op::Eq => order.is_eq(),
            Op::Ne => order.is_ne(),
            Op::Lt => order.is_lt(),
            Op::Le => order.is_le(),
            Op::Gt => order.is_gt(),
            Op::Ge => order.is_ge(),
        }
    }
}

/// `MM/DD/YYYY` or `MM/DD/YYYY HH:MM:SS` as `(year, month, day, hour, minute, second)`.
fn sortable_time(text: &str) -> Option<(u32, u32, u32, u32, u32, u32)> {
    let (date, time) = match text.trim().split_once(' ') {
        Some((date, time)) => (date, Some(time)),
        None => (text.trim(), None),
    };
    let numbers = |text: &str, sep: char, widths: &[usize]| -> Option<Vec<u32>> {
        let parts: Vec<&str> = text.split(sep).collect();
        (parts.len() == widths.len()
            && parts
                .iter()
                .zip(widths)
                .all(|(p, w)| p.len() == *w && p.chars().all(|c| c.is_ascii_digit())))
        .then(|| parts.iter().filter_map(|p| p.parse().ok()).collect())
    };
    let d = numbers(date, '/', &[2, 2, 4])?;
    let t = match time {
        Some(time) => numbers(time, ':', &[2, 2, 2])?,
        None => vec![0, 0, 0],
    };
    Some((d[2], d[0], d[1], t[0], t[1], t[2]))
}

/// `FIELD op 'value'` conditions joined by ` AND ` ("Queries": the spaces around the operator
/// are required); an empty query selects everything. `OR`, `like`, `in` and `IS NULL` are not
/// read (the function fails naming what it reads).
fn parse_query(query: &str) -> Result<Vec<Condition>, Failure> {
    let query = query.trim();
    if query.is_empty() {
        return Ok(Vec::new());
    }
    query
        .split(" AND ")
        .map(|condition| {
            let condition = condition.trim();
            let (field, rest) = condition
                .split_once(' ')
                .ok_or_else(|| bad_query(condition))?;
            let (op, value) = rest
                .trim_start()
                .split_once(' ')
                .ok_or_else(|| bad_query(condition))?;
            let op = match op {
                "=" => Op::Eq,
                "!=" | "<>" => Op::Ne,
                "<" => Op::Lt,
                "<=" => Op::Le,
                ">" => Op::Gt,
                ">=" => Op::Ge,
                _ => return Err(bad_query(condition)),
            };
            let value = value.trim();
            let value = value
                .strip_prefix('\'')
                .and_then(|v| v.strip_suffix('\''))
                .unwrap_or(value);
            if field.is_empty() || !field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(bad_query(condition));
            }
            Ok(Condition {
                field: field.to_ascii_uppercase(),
                op,
                value: value.to_owned(),
            })
        })
        .collect()
}

fn bad_query(condition: &str) -> Failure {
    Failure::new(
        INVALID_FIELD,
        "Invalid query",
        format!(
            "The fake reads `FIELD op 'value'` conditions (op one of =, !=, <, <=, >, >=, with a space on each side) joined by AND, not `{}`",
            condition.trim()
        ),
    )
}

/// `<fields>`: `None` for all (`*` or absent), else the names.
fn field_list(call: &Element) -> Option<Vec<String>> {
    let text = call.text_of("fields").unwrap_or("*").trim();
    if text.is_empty() || text == "*" {
        return None;
    }
    Some(
        text.split(',')
            .map(|f| f.trim().to_ascii_uppercase())
            .collect(),
    )
}

/// A record as `read` shows it: `<vendor><RECORDNO>..</RECORDNO>..</vendor>`.
fn record_element(list: &str, record: &Record<Object>, fields: Option<&[String]>) -> Element {
    let mut element = Element::new(list);
    for (name, value) in record.body.as_object().into_iter().flatten() {
        if fields.is_none_or(|wanted| wanted.contains(name)) {
            element = element.with(Element::from_json(name, value));
        }
    }
    element
}

/// What breaks the Intacct DTD in a request: the reason of an `XL03000003` failure.
#[derive(Debug, thiserror::Error)]
enum SchemaError {
    /// The body is not an XML document.
    #[error(transparent)]
    Xml(#[from] XmlError),
    /// The root element is not `<request>`.
    #[error("the root element is <{0}>, not <request>")]
    Root(String),
    /// An element lacks a child it must have.
    #[error("<{parent}> has no <{child}>")]
    Missing {
        /// The element.
        parent: &'static str,
        /// The child it lacks.
        child: &'static str,
    },
    /// `<uniqueid>` is neither `true` nor `false`.
    #[error("<uniqueid> must be true or false, not `{0}`")]
    UniqueId(String),
    /// `<dtdversion>` is not the one the fake speaks.
    #[error("<dtdversion> must be {DTD_VERSION}, not `{found}`", DTD_VERSION = DTD_VERSION)]
    DtdVersion {
        /// The version the request names.
        found: String,
    },
    /// `<authentication>` holds no credentials.
    #[error("<authentication> has neither <login> nor <sessionid>")]
    NoCredentials,
    /// `<content>` holds something other than `<function>`.
    #[error("<content> holds <{0}>, not <function>")]
    NotFunction(String),
    /// A `<function>` without its `controlid`.
    #[error("a <function> has no controlid attribute")]
    NoControlId,
    /// A `<function>` with no call or several.
    #[error("a <function> must hold exactly one call")]
    NotOneCall,
    /// `<content>` is empty.
    #[error("<content> holds no <function>")]
    NoFunction,
}

/// `parent` has no `child`.
fn missing(parent: &'static str, child: &'static str) -> SchemaError {
    SchemaError::Missing { parent, child }
}

/// Read `<control>`: on a schema error, what was read (to echo) and why.
fn read_control(root: &Element) -> Result<Control, Box<(Control, SchemaError)>> {
    let Some(control) = root.child("control") else {
        return Err(Box::new((
            Control::default(),
            missing("request", "control"),
        )));
    };
    let text = |name: &str| control.text_of(name).unwrap_or_default().to_owned();
    let read = Control {
        senderid: text("senderid"),
        password: text("password"),
        controlid: text("controlid"),
        uniqueid: control.text_of("uniqueid") == Some("true"),
        dtdversion: text("dtdversion"),
    };
    for name in ["senderid", "password", "controlid", "dtdversion"] {
        if control.child(name).is_none() {
            return Err(Box::new((read, missing("control", name))));
        }
    }
    if let Some(unique) = control.text_of("uniqueid")
        && !matches!(unique, "true" | "false")
    {
        let reason = SchemaError::UniqueId(unique.to_owned());
        return Err(Box::new((read, reason)));
    }
    if read.dtdversion != DTD_VERSION {
        let reason = SchemaError::DtdVersion {
            found: read.dtdversion.clone(),
        };
        return Err(Box::new((read, reason)));
    }
    Ok(read)
}

/// Read `<operation>`: the element, the credentials and the functions, each with a `controlid`
/// and exactly one call inside.
fn read_operation(root: &Element) -> Result<(&Element, Credentials, Vec<&Element>), SchemaError> {
    let operation = root
        .child("operation")
        .ok_or(missing("request", "operation"))?;
    let authentication = operation
        .child("authentication")
        .ok_or(missing("operation", "authentication"))?;
    let credentials = if let Some(login) = authentication.child("login") {
        let text = |name: &'static str| {
            login
                .text_of(name)
                .map(str::to_owned)
                .ok_or(missing("login", name))
        };
        Credentials::Login {
            userid: text("userid")?,
            companyid: text("companyid")?,
            password: text("password")?,
            locationid: login
                .text_of("locationid")
                .filter(|l| !l.is_empty())
                .map(str::to_owned),
        }
    } else if let Some(session) = authentication.text_of("sessionid") {
        Credentials::Session(session.to_owned())
    } else {
        return Err(SchemaError::NoCredentials);
    };
    let content = operation
        .child("content")
        .ok_or(missing("operation", "content"))?;
    let mut functions = Vec::new();
    for function in &content.children {
        if function.name != "function" {
            return Err(SchemaError::NotFunction(function.name.clone()));
        }
        if function.attr_value("controlid").is_none_or(str::is_empty) {
            return Err(SchemaError::NoControlId);
        }
        if function.children.len() != 1 {
            return Err(SchemaError::NotOneCall);
        }
        functions.push(function);
    }
    if functions.is_empty() {
        return Err(SchemaError::NoFunction);
    }
    Ok((operation, credentials, functions))
}

/// The `XL03000003` control-level failure [INTACCT-ERRORS]: nothing runs. Its shape is the
/// example of Intacct's "Error handling" page: empty `description` and `correction`,
/// `description2` "XML Parse schema error: … [Support ID: …]".
fn schema_error(
    control: Option<&Control>,
    reason: &SchemaError,
    support: String,
) -> Response<Bytes> {
    let failure = Failure::new(
        XML_SCHEMA_ERROR,
        "",
        format!("XML Parse schema error: {reason} [Support ID: {support}]"),
    );
    xml_response(StatusCode::OK, &control_failure(control, &[failure]))
}

/// `<response>` with a failed `<control>` and its `<errormessage>`, no `<operation>`.
fn control_failure(control: Option<&Control>, failures: &[Failure]) -> Element {
    let control = match control {
        Some(control) => control_element(control, "failure"),
        None => Element::new("control").with(Element::leaf("status", "failure")),
    };
    Element::new("response")
        .with(control)
        .with(errormessage(failures))
}

/// `<control>` echoing the request's [INTACCT-SDK-PHP] `ResultExceptionTest`.
fn control_element(control: &Control, status: &str) -> Element {
    Element::new("control")
        .with(Element::leaf("status", status))
        .with(Element::leaf("senderid", &control.senderid))
        .with(Element::leaf("controlid", &control.controlid))
        .with(Element::leaf(
            "uniqueid",
            if control.uniqueid { "true" } else { "false" },
        ))
        .with(Element::leaf("dtdversion", &control.dtdversion))
}

/// `<errormessage><error><errorno/><description/><description2/><correction/></error>…`
/// [INTACCT-ERRORS].
fn errormessage(failures: &[Failure]) -> Element {
    failures
        .iter()
        .flat_map(Failure::flatten)
        .fold(Element::new("errormessage"), |out, f| {
            out.with(
                Element::new("error")
                    .with(Element::leaf("errorno", f.errorno))
                    .with(Element::leaf("description", &f.description))
                    .with(Element::leaf("description2", &f.description2))
                    .with(Element::leaf("correction", &f.correction)),
            )
        })
}

fn xml_response(status: StatusCode, root: &Element) -> Response<Bytes> {
    let mut response = Response::new(Bytes::from(document(root)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static(RESPONSE_CONTENT_TYPE),
    );
    response
}

/// `root` as a document: the XML declaration, then the element indented by two spaces.
fn document(root: &Element) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    root.write(&mut out, 0);
    out
}

/// Why a body is not an XML document ([`Element::parse`]).
#[derive(Debug, thiserror::Error)]
pub(crate) enum XmlError {
    /// Not UTF-8 text.
    #[error("the body is not UTF-8")]
    NotUtf8(#[source] std::str::Utf8Error),
    /// Not well-formed XML.
    #[error("the body is not XML: {0}")]
    NotXml(sxd_document::parser::Error),
    /// No element at the top.
    #[error("the body has no root element")]
    NoRoot,
}

/// An XML element as the fake reads and writes it: mixed content is not kept (text of an element
/// with children is dropped), which no Intacct request or answer uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Element {
    /// Local name.
    pub name: String,
    /// Attributes in document order.
    pub attrs: Vec<(String, String)>,
    /// Text content of a leaf.
    pub text: String,
    /// Child elements in order.
    pub children: Vec<Element>,
}

impl Element {
    /// An element without content.
    pub(crate) fn new(name: &str) -> Element {
        Element {
            name: name.to_owned(),
            ..Element::default()
        }
    }

    /// An element holding `text`.
    pub(crate) fn leaf(name: &str, text: &str) -> Element {
        Element {
            text: text.to_owned(),
            ..Element::new(name)
        }
    }

    /// This element with `child` appended.
    pub(crate) fn with(mut self, child: Element) -> Element {
        self.children.push(child);
        self
    }

    /// This element with attribute `name` set.
    pub(crate) fn attr(mut self, name: &str, value: &str) -> Element {
        self.attrs.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Parse a document's root element, or say why it is not XML.
    pub(crate) fn parse(body: &[u8]) -> Result<Element, XmlError> {
        let text = std::str::from_utf8(body).map_err(XmlError::NotUtf8)?;
        let package = sxd_document::parser::parse(text).map_err(XmlError::NotXml)?;
        let document = package.as_document();
        document
            .root()
            .children()
            .into_iter()
            .find_map(|child| child.element())
            .map(from_dom)
            .ok_or(XmlError::NoRoot)
    }

    /// The first child called `name`.
    pub(crate) fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The trimmed text of the first child called `name`.
    pub(crate) fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.trim())
    }

    /// The value of attribute `name`.
    pub(crate) fn attr_value(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Record fields as JSON: a leaf is its text; children become an object, a repeated name an
    /// array.
    fn to_json(&self) -> Value {
        if self.children.is_empty() {
            return Value::from(self.text.trim());
        }
        let mut fields = Map::new();
        for child in &self.children {
            let value = child.to_json();
            match fields.get_mut(&child.name) {
                Some(Value::Array(items)) => items.push(value),
                Some(existing) => *existing = Value::Array(vec![existing.take(), value]),
                None => {
                    fields.insert(child.name.clone(), value);
                }
            }
        }
        Value::Object(fields)
    }

    /// The inverse of [`Element::to_json`] for a field `name`.
    fn from_json(name: &str, value: &Value) -> Element {
        match value {
            Value::Object(fields) => {
                fields
                    .iter()
                    .fold(Element::new(name), |out, (n, v)| match v {
                        Value::Array(items) => items
                            .iter()
                            .fold(out, |out, item| out.with(Element::from_json(n, item))),
                        _ => out.with(Element::from_json(n, v)),
                    })
            }
            Value::String(text) => Element::leaf(name, text),
            Value::Null => Element::new(name),
            other => Element::leaf(name, &other.to_string()),
        }
    }

    fn write(&self, out: &mut String, depth: usize) {
        let indent = "  ".repeat(depth);
        out.push_str(&indent);
        out.push('<');
        out.push_str(&self.name);
        for (name, value) in &self.attrs {
            out.push_str(&format!(" {name}=\"{}\"", escape(value)));
        }
        if self.children.is_empty() {
            if self.text.is_empty() {
                out.push_str("/>\n");
            } else {
                out.push_str(&format!(">{}</{}>\n", escape(&self.text), self.name));
            }
            return;
        }
        out.push_str(">\n");
        for child in &self.children {
            child.write(out, depth + 1);
        }
        out.push_str(&format!("{indent}</{}>\n", self.name));
    }
}

fn from_dom(element: sxd_document::dom::Element<'_>) -> Element {
    let mut out = Element::new(element.name().local_part());
    out.attrs = element
        .attributes()
        .iter()
        .map(|a| (a.name().local_part().to_owned(), a.value().to_owned()))
        .collect();
    for child in element.children() {
        match child {
            sxd_document::dom::ChildOfElement::Element(e) => out.children.push(from_dom(e)),
            sxd_document::dom::ChildOfElement::Text(t) => out.text.push_str(t.text()),
            _ => {}
        }
    }
    if !out.children.is_empty() {
        out.text.clear();
    }
    out
}

/// `text` with `&`, `<`, `>` and `"` escaped.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl Fake for Intacct {
    type State = IntacctState;

    const NAME: &'static str = "intacct";

    /// Answer one request: the gateway path, or an unmatched 404 for any other.
    fn respond(&self, state: &mut IntacctState, request: &ProviderRequest<'_>) -> ProviderAnswer {
        if request.view.method.eq_ignore_ascii_case("POST") && request.view.path == ENDPOINT_PATH {
            return ProviderAnswer {
                response: self.gateway(state, request),
                routed: true,
            };
        }
        ProviderAnswer::unrouted("intacct", request)
    }

    fn fresh_state(&self) -> IntacctState {
        IntacctState {
            serial: 0,
            sessions: Tokens::new(token_policy(self.settings.session_lifetime)),
            executed: BTreeSet::new(),
            records: Store::default(),
            result_sets: ResultSets::default(),
        }
    }

    fn state_json(state: &IntacctState) -> Value {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_round_trip_through_text_with_escapes() {
        let tree = Element::new("a")
            .attr("k", "x\"y")
            .with(Element::leaf("b", "1 < 2 & 3"))
            .with(Element::new("c"));
        let parsed = Element::parse(document(&tree).as_bytes()).expect("XML");
        assert_eq!(parsed, tree);
    }

    #[test]
    fn records_keep_repeated_children_as_arrays() {
        let bill = Element::new("APBILL")
            .with(Element::leaf("VENDORID", "V1"))
            .with(
                Element::new("APBILLITEMS")
                    .with(Element::new("APBILLITEM").with(Element::leaf("TRX_AMOUNT", "1")))
                    .with(Element::new("APBILLITEM").with(Element::leaf("TRX_AMOUNT", "2"))),
            );
        let json = bill.to_json();
        assert_eq!(json["APBILLITEMS"]["APBILLITEM"][1]["TRX_AMOUNT"], "2");
        assert_eq!(Element::from_json("APBILL", &json), bill);
    }

    #[test]
    fn queries_are_field_op_value_conditions_with_spaces() {
        let cond = |field: &str, op, value: &str| Condition {
            field: field.to_owned(),
            op,
            value: value.to_owned(),
        };
        assert_eq!(
            parse_query("VENDORID = 'V-1' AND name >= 'Acme'").expect("valid"),
            vec![
                cond("VENDORID", Op::Eq, "V-1"),
                cond("NAME", Op::Ge, "Acme")
            ]
        );
        assert!(parse_query("").expect("valid").is_empty());
        assert_eq!(
            parse_query("VENDORID > 3").expect("valid"),
            vec![cond("VENDORID", Op::Gt, "3")]
        );
        for bad in ["VENDORID='V-1'", "VENDORID like 'V%'", "VENDORID"] {
            assert_eq!(
                parse_query(bad).unwrap_err().errorno,
                INVALID_FIELD,
                "{bad}"
            );
        }
    }

    #[test]
    fn conditions_compare_timestamps_numbers_then_text() {
        let record: Map<String, Value> = serde_json::from_value(json!({
            "WHENCREATED": "02/01/2026 00:00:00", "TOTAL": "9.5", "NAME": "acme"
        }))
        .expect("object");
        let holds = |query: &str| parse_query(query).expect("valid")[0].holds(&record);
        // 02/01/2026 is after 12/31/2025 though it sorts before it as text.
        assert!(holds("WHENCREATED > '12/31/2025 23:59:59'"));
        assert!(holds("WHENCREATED >= '02/01/2026'"));
        assert!(!holds("WHENCREATED < '02/01/2026 00:00:00'"));
        assert!(holds("TOTAL < 10"), "9.5 < 10 as numbers");
        assert!(!holds("NAME = 'Acme'"), "strings are case-sensitive");
        assert!(!holds("MISSING = 'x'"));
    }

    #[test]
    fn timestamps_are_written_as_intacct_and_offset_forms() {
        let at = time::macros::datetime!(2017-07-24 15:19:46 UTC);
        assert_eq!(intacct_time(at), "07/24/2017 15:19:46");
        assert_eq!(offset_time(at), "2017-07-24T15:19:46+00:00");
    }

    /// An `XL03000003` failure's description carries the reason: the texts are pinned here.
    #[test]
    fn schema_errors_read_as_before() {
        let not_xml = sxd_document::parser::parse("<a").unwrap_err();
        let cases = [
            (
                Element::parse(b"\xff").unwrap_err().into(),
                "the body is not UTF-8".to_owned(),
            ),
            (
                Element::parse(b"<a").unwrap_err().into(),
                format!("the body is not XML: {not_xml}"),
            ),
            (
                SchemaError::Root("req".into()),
                "the root element is <req>, not <request>".to_owned(),
            ),
            (
                missing("login", "userid"),
                "<login> has no <userid>".to_owned(),
            ),
            (
                SchemaError::UniqueId("yes".into()),
                "<uniqueid> must be true or false, not `yes`".to_owned(),
            ),
            (
                SchemaError::DtdVersion {
                    found: "2.1".into(),
                },
                "<dtdversion> must be 3.0, not `2.1`".to_owned(),
            ),
            (
                SchemaError::NoCredentials,
                "<authentication> has neither <login> nor <sessionid>".to_owned(),
            ),
            (
                SchemaError::NotFunction("call".into()),
                "<content> holds <call>, not <function>".to_owned(),
            ),
            (
                SchemaError::NoControlId,
                "a <function> has no controlid attribute".to_owned(),
            ),
            (
                SchemaError::NotOneCall,
                "a <function> must hold exactly one call".to_owned(),
            ),
            (
                SchemaError::NoFunction,
                "<content> holds no <function>".to_owned(),
            ),
        ];
        for (err, text) in cases {
            assert_eq!(err.to_string(), text, "{err:?}");
        }
    }
}
