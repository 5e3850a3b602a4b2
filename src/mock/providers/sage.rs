//! `provider: sage`, [`Sage`]: Sage Business Cloud Accounting's OAuth 2.0 token endpoint, the
//! user's businesses (`X-Business`, the lead business when it is missing) and the v3.1 REST
//! collections `contacts`, `purchase_invoices` and `ledger_accounts`, with their state in
//! [`SageState`].
//!
//! Behaviours trace to `domain-catalog.md` §3.3 and incident S-01 (§9) and, since issue 12, to
//! Sage's public developer guides and samples (token answer, refresh-token lifetime, paging past
//! the end, attributes, the documented `401`/`403` bodies, the `429` status);
//! `docs/providers/sage.md` gives the source of each, its fidelity table, and says where the
//! sources are silent and what the mock does there. Sage has no webhooks [SAGE-BCA-SDK]: clients poll with
//! `updated_or_created_since`.

use bytes::Bytes;
use hyper::header::{HeaderValue, LOCATION};
use hyper::{Response, StatusCode};
use serde_json::{Map, Value, json};
use time::{Duration, OffsetDateTime};

use super::kit::records::{Kind, Page, PastEnd, Store, neighbour_link, page_number};
use super::kit::tokens::{AnswerField, RefreshPolicy, Revocation, Rotation, TokenPolicy, Tokens};
use super::kit::{AuthFailure, ErrorRenderer, Fake, RecordRefusal, RecordRenderer};
use super::{ProviderAnswer, ProviderRequest, empty, oauth_error};
use crate::mock::engine::json_response;
use crate::mock::render::seeded_uuid;
use crate::scenario::model::{
    LimitKey, LimitKind, RateLimit, ResponseBody, ResponseSpec, SageBusiness, SageSettings,
};
use crate::timestamp::format_rfc3339;

/// An authorization code is valid for 60 seconds [SAGE-BCA-ERRORS].
pub(crate) const CODE_LIFETIME: Duration = Duration::seconds(60);
/// Access tokens expire after 5 minutes [TRUTO-SAGE], [SAGE-BCA-SDK].
pub(crate) const ACCESS_TOKEN_LIFETIME: Duration = Duration::minutes(5);
/// Refresh tokens expire after 31 days (API v3.1; Sage staff in
/// `Sage/sageone_api_php_sample#39`), answered as `refresh_token_expires_in: 2678400`.
pub(crate) const REFRESH_TOKEN_LIFETIME: Duration = Duration::days(31);
/// The token answer's `scope` (the value public samples of Sage's token answer show).
pub(crate) const SCOPE: &str = "full_access";
/// Largest `items_per_page` [SAGE-BCA-PAGING].
pub(crate) const MAX_ITEMS_PER_PAGE: usize = 200;
/// `items_per_page` when a list request gives none (the catalog is silent: reenact's choice).
pub(crate) const DEFAULT_ITEMS_PER_PAGE: usize = 20;
/// `$items_per_page` of `GET /businesses` without `items_per_page`: every business on one page
/// (Sage's "Best Practices" guide shows `"$items_per_page": 2147483647`).
pub(crate) const BUSINESSES_PER_PAGE: usize = 2_147_483_647;
/// The header selecting the business a request works in [SAGE-BCA-AUTH].
pub(crate) const BUSINESS_HEADER: &str = "x-business";

/// A configured Sage Business Cloud Accounting fake.
#[derive(Debug)]
pub(crate) struct Sage {
    mock: String,
    settings: SageSettings,
}

/// What one Sage fake holds: codes and tokens, the businesses, contacts and purchase invoices.
#[derive(Debug)]
pub(crate) struct SageState {
    /// Ids generated so far (seeds the next one).
    serial: u64,
    /// The user's businesses as `GET /businesses` lists them (from the settings).
    businesses: Vec<Value>,
    /// Codes, consents and tokens, under [`token_policy`].
    tokens: Tokens<()>,
    /// Contacts, purchase invoices and ledger accounts in creation order, each in the scope of
    /// its business, as the API answers them.
    records: Store<Collection>,
}

/// Sage's tokens as data: access tokens live 5 minutes, refresh tokens 31 days from their issue
/// and are single use (every refresh rotates both), codes 60 seconds; the answer has the fields
/// and order of public samples of Sage's token answer (`requested_by_id` is added by
/// [`Sage::token`]).
pub(crate) fn token_policy() -> TokenPolicy {
    TokenPolicy {
        access_lifetime: ACCESS_TOKEN_LIFETIME,
        access_sliding: false,
        refresh: Some(RefreshPolicy {
            lifetime: REFRESH_TOKEN_LIFETIME,
            sliding: false,
            cap: None,
            rotation: Rotation::Every { grace: None },
        }),
        code_lifetime: Some(CODE_LIFETIME),
        revocation: Revocation::RefreshToken,
        answer: &[
            AnswerField::AccessToken,
            AnswerField::Scope(SCOPE),
            AnswerField::TokenType("bearer"),
            AnswerField::ExpiresIn,
            AnswerField::RefreshToken,
            AnswerField::RefreshExpiresIn("refresh_token_expires_in"),
        ],
    }
}

impl SageState {
    /// `{"businesses": [..], "contacts": [..], "purchase_invoices": [..], "ledger_accounts": [..],
    /// "issued": {"access": N, "refresh": N}}`: records carry their `business_id`; tokens only
    /// as counts.
    pub(crate) fn to_json(&self) -> Value {
        let records = |collection| {
            let records = self.records.live(collection, None).map(|record| {
                let mut body = record.body.clone();
                if let Value::Object(fields) = &mut body {
                    fields.insert("business_id".to_owned(), Value::from(record.scope.clone()));
                }
                body
            });
            Value::Array(records.collect())
        };
        json!({
            "businesses": self.businesses,
            "contacts": records(Collection::Contacts),
            "purchase_invoices": records(Collection::PurchaseInvoices),
            "ledger_accounts": records(Collection::LedgerAccounts),
            "issued": { "access": self.tokens.counts().0, "refresh": self.tokens.counts().1 },
        })
    }

    /// The next generated id ([`next_id`]).
    fn next_id(&mut self, mock: &str) -> String {
        next_id(&mut self.serial, mock)
    }
}

/// The next generated id after `serial`: 32 lower-case hex digits, as Sage writes ids
/// (reenact's choice of form; the catalog is silent).
fn next_id(serial: &mut u64, mock: &str) -> String {
    *serial += 1;
    seeded_uuid(mock, *serial, 0).replace('-', "")
}

/// The REST collections the fake serves (Sage Accounting v3.1 names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Collection {
    Contacts,
    PurchaseInvoices,
    LedgerAccounts,
}

impl Kind for Collection {
    /// The name of one record, e.g. `purchase_invoice`.
    fn name(self) -> &'static str {
        self.body_key()
    }
}

impl Collection {
    fn from_segment(segment: &str) -> Option<Collection> {
        match segment {
            "contacts" => Some(Collection::Contacts),
            "purchase_invoices" => Some(Collection::PurchaseInvoices),
            "ledger_accounts" => Some(Collection::LedgerAccounts),
            _ => None,
        }
    }

    /// The path segment, e.g. `purchase_invoices`.
    fn segment(self) -> &'static str {
        match self {
            Collection::Contacts => "contacts",
            Collection::PurchaseInvoices => "purchase_invoices",
            Collection::LedgerAccounts => "ledger_accounts",
        }
    }

    /// The key wrapping one record in a request body, e.g. `{"purchase_invoice": {..}}`.
    fn body_key(self) -> &'static str {
        match self {
            Collection::Contacts => "contact",
            Collection::PurchaseInvoices => "purchase_invoice",
            Collection::LedgerAccounts => "ledger_account",
        }
    }
}

/// Fields the fake writes on a record and a client cannot set.
const SYSTEM_FIELDS: &[&str] = &[
    "id",
    "displayed_as",
    "$path",
    "created_at",
    "updated_at",
    "business_id",
];

impl Sage {
    /// A fake serving as mock `mock` with `settings`.
    pub(crate) fn new(mock: &str, settings: SageSettings) -> Sage {
        Sage {
            mock: format!("{mock}/sage"),
            settings,
        }
    }

    /// The business a request works in: the one `X-Business` names or, without the header, the
    /// user's lead business [SAGE-BCA-AUTH] (the wrong-business incident, S-01). A header naming
    /// none of the user's businesses gets `403` (the catalog is silent: reenact's choice).
    fn business(&self, request: &ProviderRequest<'_>) -> Result<&SageBusiness, ApiError> {
        let businesses = &self.settings.businesses;
        let found = match request.header(BUSINESS_HEADER) {
            None => businesses.iter().find(|b| b.lead),
            Some(id) => businesses.iter().find(|b| b.id == id),
        };
        found.ok_or_else(|| {
            sage_error(
                StatusCode::FORBIDDEN,
                "BusinessNotFound",
                "The business given in X-Business is not one of the user's businesses",
                "X-Business",
            )
        })
    }

    /// `GET /authorize?redirect_uri=..&state=..`: issues a code valid for [`CODE_LIFETIME`] on the
    /// virtual clock [SAGE-BCA-ERRORS] and redirects (`302`) to `redirect_uri` with `code` and
    /// `state`, as the user's consent would. The route and its checks are reenact's (the
    /// catalog gives no authorize endpoint): a missing `redirect_uri`, or one other than
    /// `with.redirect_uri`, gets `400 {"error":"invalid_request"}`.
    fn authorize(&self, state: &mut SageState, request: &ProviderRequest<'_>) -> Response<Bytes> {
        let Some(redirect_uri) = request
            .query_param("redirect_uri")
            .filter(|u| !u.is_empty())
        else {
            return oauth_error("invalid_request");
        };
        if self
            .settings
            .redirect_uri
            .as_ref()
            .is_some_and(|registered| *registered != redirect_uri)
        {
            return oauth_error("invalid_request");
        }
        let code = state.next_id(&self.mock);
        state
            .tokens
            .issue_code(code.clone(), request.now, redirect_uri.clone());
        let mut query = form_urlencoded::Serializer::new(String::new());
        query.append_pair("code", &code);
        if let Some(client_state) = request.query_param("state") {
            query.append_pair("state", &client_state);
        }
        let separator = if redirect_uri.contains('?') { '&' } else { '?' };
        let location = format!("{redirect_uri}{separator}{}", query.finish());
        let mut response = empty(StatusCode::FOUND);
        if let Ok(value) = HeaderValue::from_str(&location) {
            response.headers_mut().insert(LOCATION, value);
        }
        response
    }

    /// `POST /token` (form): the `authorization_code` and `refresh_token` grants.
    ///
    /// A code is single use and, when `GET /authorize` issued it, valid for 60 seconds and bound
    /// to the `redirect_uri` it was issued for; with `with.redirect_uri`, the exchange must name
    /// that URI. Otherwise `400 {"error":"invalid_grant"}` [SAGE-BCA-ERRORS]. A refresh rotates
    /// both tokens and the refresh token used is dead at once: using it again gets
    /// `invalid_grant` [TRUTO-SAGE], [SAGE-BCA-SDK]; so does one older than 31 days
    /// ([`REFRESH_TOKEN_LIFETIME`]).
    fn token(&self, state: &mut SageState, request: &ProviderRequest<'_>) -> Response<Bytes> {
        let form = request.form();
        let now = request.now;
        let (serial, mock) = (&mut state.serial, &self.mock);
        let mut mint = |_, _: &()| next_id(serial, mock);
        let issued = match form.get("grant_type").map(String::as_str) {
            Some("authorization_code") => state
                .tokens
                .redeem_code(&form, now, self.settings.redirect_uri.as_deref())
                .map(|()| state.tokens.consent((), now, &mut mint)),
            Some("refresh_token") => {
                let token = form.get("refresh_token").map(String::as_str);
                state.tokens.refresh(token, now, &mut mint)
            }
            _ => return oauth_error("unsupported_grant_type"),
        };
        match issued {
            Ok(issued) => {
                let mut answer = issued.answer(state.tokens.policy().answer);
                answer.insert(
                    "requested_by_id".to_owned(),
                    Value::from(seeded_uuid(&self.mock, 0, 1)),
                );
                json_response(StatusCode::OK, &Value::Object(answer))
            }
            Err(refused) => oauth_error(refused.code()),
        }
    }

    /// The `401` for a bearer token the fake did not issue or that expired on the virtual clock
    /// (5 minutes [TRUTO-SAGE]; body reenact's choice, see [`ApiError`]); then, with
    /// `subscription_active: false`, Sage's documented `401 AuthorizationFailure` "No active
    /// subscription. (MSE)" (Sage's "Frequently Raised Errors"); `None` when the call may go on.
    fn authenticate(
        &self,
        state: &mut SageState,
        request: &ProviderRequest<'_>,
    ) -> Option<Response<Bytes>> {
        if let Err(failure) = state.tokens.authenticate(request.bearer(), request.now) {
            return Some(self.unauthenticated(&failure, request.now));
        }
        if !self.settings.subscription_active {
            return Some(
                sage_error(
                    StatusCode::UNAUTHORIZED,
                    "AuthorizationFailure",
                    "No active subscription. (MSE)",
                    "",
                )
                .response(),
            );
        }
        None
    }

    /// `POST /contacts` (and `/purchase_invoices`, `/ledger_accounts`) with `{"contact": {..}}`
    /// (`{"purchase_invoice": {..}}`, `{"ledger_account": {..}}`): saved in the request's business with a generated `id`, `displayed_as`, `$path`,
    /// `created_at` and `updated_at` on the virtual clock; `201` with the record.
    fn create(
        &self,
        state: &mut SageState,
        collection: Collection,
        business: &str,
        request: &ProviderRequest<'_>,
    ) -> Response<Bytes> {
        let fields = match body_fields(collection, request) {
            Ok(fields) => fields,
            Err(error) => return error.response(),
        };
        if let Err(error) = validate(state, collection, business, &fields) {
            return error.response();
        }
        let id = state.next_id(&self.mock);
        let at = format_rfc3339(request.now);
        let mut record = Map::new();
        record.insert("id".to_owned(), Value::from(id.clone()));
        record.insert("displayed_as".to_owned(), Value::Null);
        record.insert(
            "$path".to_owned(),
            Value::from(format!("/{}/{id}", collection.segment())),
        );
        record.extend(fields);
        record.insert("created_at".to_owned(), Value::from(at.clone()));
        record.insert("updated_at".to_owned(), Value::from(at));
        record["displayed_as"] = displayed_as(collection, &record);
        let record = Value::Object(record);
        let answer = json_response(StatusCode::CREATED, &record);
        state
            .records
            .insert(collection, business, id, request.now, record);
        answer
    }

    /// `PUT /contacts/{id}` (and the other collections): the body's fields replace the record's,
    /// `updated_at` moves to the virtual now; `200` with the record. Only records of the
    /// request's business are found.
    fn update(
        &self,
        state: &mut SageState,
        collection: Collection,
        business: &str,
        id: &str,
        request: &ProviderRequest<'_>,
    ) -> Response<Bytes> {
        let mut merged = match state.records.find(collection, business, id) {
            Ok(record) => match &record.body {
                Value::Object(record) => record.clone(),
                _ => Map::new(),
            },
            Err(refusal) => return self.refused(&refusal, request.now),
        };
        let fields = match body_fields(collection, request) {
            Ok(fields) => fields,
            Err(error) => return error.response(),
        };
        merged.extend(fields);
        if let Err(error) = validate(state, collection, business, &merged) {
            return error.response();
        }
        merged.insert(
            "updated_at".to_owned(),
            Value::from(format_rfc3339(request.now)),
        );
        merged["displayed_as"] = displayed_as(collection, &merged);
        match state
            .records
            .update(collection, business, id, None, request.now)
        {
            Ok(record) => {
                record.body = Value::Object(merged);
                json_response(StatusCode::OK, &record.body)
            }
            Err(refusal) => self.refused(&refusal, request.now),
        }
    }
}

/// A business as `GET /businesses` lists it and the state holds it.
fn business_json(business: &SageBusiness) -> Value {
    json!({
        "id": business.id,
        "displayed_as": business.name,
        "$path": format!("/businesses/{}", business.id),
        "name": business.name,
        "lead": business.lead,
    })
}

/// `displayed_as`: a contact's or ledger account's `name`, a purchase invoice's
/// `vendor_reference` (else its id).
fn displayed_as(collection: Collection, record: &Map<String, Value>) -> Value {
    let field = match collection {
        Collection::Contacts | Collection::LedgerAccounts => "name",
        Collection::PurchaseInvoices => "vendor_reference",
    };
    record
        .get(field)
        .filter(|v| v.is_string())
        .or_else(|| record.get("id"))
        .cloned()
        .unwrap_or(Value::Null)
}

/// The fields of the body's `{"<key>": {..}}` object, less those the fake writes itself; `422`
/// when the body has no such object.
fn body_fields(
    collection: Collection,
    request: &ProviderRequest<'_>,
) -> Result<Map<String, Value>, ApiError> {
    let key = collection.body_key();
    let fields = serde_json::from_slice::<Value>(request.view.body)
        .ok()
        .and_then(|mut body| body.get_mut(key).map(Value::take));
    match fields {
        Some(Value::Object(mut fields)) => {
            fields.retain(|name, _| !SYSTEM_FIELDS.contains(&name.as_str()));
            Ok(fields)
        }
        _ => Err(unprocessable(
            "RecordInvalid",
            &format!("The body must be a JSON object with a `{key}` object"),
            key,
        )),
    }
}

/// The `422` for the first invalid field of a record, if any: a contact needs a `name`; a
/// purchase invoice a `contact_id` naming a contact of the same business, and a `date`
/// (`YYYY-MM-DD`; `due_date` too when given); a ledger account a `name` and a `nominal_code`
/// (an integer from 1 to 99999999) no other account of the business has. The rules and texts
/// are reenact's (the catalog gives none); a target should not compare the texts.
fn validate(
    state: &SageState,
    collection: Collection,
    business: &str,
    fields: &Map<String, Value>,
) -> Result<(), ApiError> {
    let text = |name: &str| {
        fields
            .get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let is_date = |name: &str| {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        text(name).is_some_and(|date| time::Date::parse(date, format).is_ok())
    };
    let problem = match collection {
        Collection::Contacts => text("name")
            .is_none()
            .then_some(("name", "Name can't be blank")),
        Collection::PurchaseInvoices => {
            let contact_found = text("contact_id").is_some_and(|id| {
                state
                    .records
                    .find(Collection::Contacts, business, id)
                    .is_ok()
            });
            if !contact_found {
                Some(("contact_id", "Contact is not a contact of this business"))
            } else if !is_date("date") {
                Some(("date", "Date must be a date YYYY-MM-DD"))
            } else if fields.contains_key("due_date") && !is_date("due_date") {
                Some(("due_date", "Due date must be a date YYYY-MM-DD"))
            } else {
                None
            }
        }
        Collection::LedgerAccounts => {
            let code = fields.get("nominal_code").and_then(Value::as_u64);
            let taken = |code: u64| {
                state
                    .records
                    .live(Collection::LedgerAccounts, Some(business))
                    .any(|account| {
                        account.body["nominal_code"] == code
                            && Some(&account.body["id"]) != fields.get("id")
                    })
            };
            match code {
                _ if text("name").is_none() => Some(("name", "Name can't be blank")),
                Some(code) if (1..=99_999_999).contains(&code) && !taken(code) => None,
                Some(code) if taken(code) => {
                    Some(("nominal_code", "Nominal code is already in use"))
                }
                _ => Some((
                    "nominal_code",
                    "Nominal code must be a whole number from 1 to 99999999",
                )),
            }
        }
    };
    match problem {
        Some((source, message)) => Err(unprocessable("RecordInvalid", message, source)),
        None => Ok(()),
    }
}

/// `GET /contacts/{id}` (and the other collections): the record, if it is in the request's
/// business; else `404`. A singular resource has every attribute unless `attributes=` names
/// some ("attributes=all is the default when requesting singular resources", Sage's
/// "Attributes" guide).
fn get_one(
    sage: &Sage,
    state: &SageState,
    collection: Collection,
    business: &str,
    id: &str,
    request: &ProviderRequest<'_>,
) -> Response<Bytes> {
    match state.records.find(collection, business, id) {
        Ok(record) => {
            let attributes = request
                .query_param("attributes")
                .unwrap_or_else(|| "all".to_owned());
            json_response(StatusCode::OK, &select(&record.body, &attributes))
        }
        Err(refusal) => sage.refused(&refusal, request.now),
    }
}

/// The fields of `record` that `attributes` asks for: every field for `all`, else `id`,
/// `displayed_as` and `$path` ("always returned and cannot be controlled by the client", Sage's
/// "Attributes" guide) plus the comma-separated names given that the record has.
fn select(record: &Value, attributes: &str) -> Value {
    if attributes.split(',').any(|name| name.trim() == "all") {
        return record.clone();
    }
    let wanted: Vec<&str> = attributes.split(',').map(str::trim).collect();
    let Value::Object(fields) = record else {
        return record.clone();
    };
    let selected: Map<String, Value> = fields
        .iter()
        .filter(|(name, _)| {
            ALWAYS_RETURNED.contains(&name.as_str()) || wanted.contains(&name.as_str())
        })
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    Value::Object(selected)
}

/// The attributes every answer has, whatever `attributes=` says (Sage's "Attributes" guide).
const ALWAYS_RETURNED: &[&str] = &["id", "displayed_as", "$path"];

/// `GET /contacts` (and the other collections): the business's records in creation order, those
/// created or updated at or after `updated_or_created_since` (RFC 3339) when given
/// [SAGE-BCA-SDK], paged by [`page`].
fn list(
    state: &SageState,
    collection: Collection,
    business: &str,
    request: &ProviderRequest<'_>,
) -> Response<Bytes> {
    let since = match request.query_param("updated_or_created_since") {
        None => None,
        Some(text) => match rfc3339(&text) {
            Some(since) => Some(since),
            None => {
                return unprocessable(
                    "InvalidParameter",
                    "updated_or_created_since must be an ISO 8601 date and time",
                    "updated_or_created_since",
                )
                .response();
            }
        },
    };
    let changed = |record: &Value| {
        since.is_none_or(|since| {
            ["created_at", "updated_at"].iter().any(|field| {
                record[*field]
                    .as_str()
                    .and_then(rfc3339)
                    .is_some_and(|at| at >= since)
            })
        })
    };
    let records: Vec<Value> = state
        .records
        .live(collection, Some(business))
        .filter(|r| changed(&r.body))
        .map(|r| r.body.clone())
        .collect();
    page(
        &records,
        &format!("/{}", collection.segment()),
        Envelope::Collection,
        request,
    )
}

fn rfc3339(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
}

/// How a list names its page size: `$itemsPerPage` on the collections (Sage's "Pagination"
/// and "Attributes" guides), `$items_per_page` on `/businesses`, whose default page holds every
/// business ([`BUSINESSES_PER_PAGE`], Sage's "Best Practices" guide; an explicit
/// `items_per_page` is served as on the collections, reenact's choice).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Envelope {
    Collection,
    Businesses,
}

/// One page of `records` [SAGE-BCA-PAGING]: `items_per_page` (default
/// [`DEFAULT_ITEMS_PER_PAGE`], at most [`MAX_ITEMS_PER_PAGE`]; larger values are served as 200)
/// and `page` (from 1), answered as `{"$total", "$page", "$next", "$back", "$itemsPerPage",
/// "$items"}` where `$next`/`$back` are the path and query of the next/previous page, or `null`.
///
/// A `page` past the last is served the last page ("If the value for page is greater than the
/// actual number of pages, the last page will be returned automatically", Sage's "Pagination"
/// guide), and `$page` then says the last page's number (the guide does not say which number it
/// shows: reenact's choice, so that `$page`, `$next` and `$back` agree). Items are summaries,
/// `{id, displayed_as, $path}`, plus the attributes `attributes=` names (`all`: every one), as
/// Sage's "Attributes" guide shows.
fn page(
    records: &[Value],
    path: &str,
    envelope: Envelope,
    request: &ProviderRequest<'_>,
) -> Response<Bytes> {
    let default = match envelope {
        Envelope::Collection => DEFAULT_ITEMS_PER_PAGE,
        Envelope::Businesses => BUSINESSES_PER_PAGE,
    };
    let size = request
        .query_param("items_per_page")
        .and_then(|n| n.parse::<usize>().ok())
        .map_or(default, |n| n.clamp(1, MAX_ITEMS_PER_PAGE));
    let asked = request
        .query_param("page")
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(1);
    let Page {
        range,
        number,
        count: last,
    } = page_number(records.len(), asked, size, PastEnd::Last);
    let attributes = request.query_param("attributes").unwrap_or_default();
    let items: Vec<Value> = records[range]
        .iter()
        .map(|record| select(record, &attributes))
        .collect();
    let link = |to: usize| {
        let query = request.view.query;
        Value::from(neighbour_link(
            path,
            query,
            ("page", "items_per_page"),
            to,
            size,
        ))
    };
    let next = if number < last {
        link(number + 1)
    } else {
        Value::Null
    };
    let back = if number > 1 {
        link(number - 1)
    } else {
        Value::Null
    };
    let size_key = match envelope {
        Envelope::Collection => "$itemsPerPage",
        Envelope::Businesses => "$items_per_page",
    };
    let mut body = Map::new();
    body.insert("$total".to_owned(), Value::from(records.len()));
    body.insert("$page".to_owned(), Value::from(number));
    body.insert("$next".to_owned(), next);
    body.insert("$back".to_owned(), back);
    body.insert(size_key.to_owned(), Value::from(size));
    body.insert("$items".to_owned(), Value::Array(items));
    json_response(StatusCode::OK, &Value::Object(body))
}

/// Sage's documented `403` for a user without the permission a request needs, e.g. a `POST` by
/// a user with read-only access to contacts (Sage's "Frequently Raised Errors").
fn access_denied() -> ApiError {
    sage_error(
        StatusCode::FORBIDDEN,
        "MultiUserAccessDenied",
        "The current user is not allowed to access that resource with that method.",
        "",
    )
}

/// The `$dataCode` of the fake's `429` (reenact's: Sage documents the status, not the body).
pub(crate) const THROTTLED_CODE: &str = "TooManyRequests";
/// The `$message` of the fake's `429`: the text Sage's "Response Codes" page gives the status.
pub(crate) const THROTTLED_MESSAGE: &str =
    "Too many requests have been made against the API. This prompts a throttling error.";

/// The provider's rate limit from `with.throttle`: at most `limit` requests per `X-Business`
/// value in any window of `per` (requests without the header share one bucket), answered `429`
/// in Sage's error list shape. Sage documents the status ("Response Codes"); the body, the key
/// and the limit are reenact's (v3.0's docs gave "200 calls in any 60 second period (per
/// Accounting business)"; v3.1's give no figure), so there is none by default.
pub(crate) fn rate_limits(settings: &SageSettings) -> Vec<RateLimit> {
    let Some(throttle) = &settings.throttle else {
        return Vec::new();
    };
    vec![RateLimit {
        name: "sage throttle".to_owned(),
        key: LimitKey::Header(BUSINESS_HEADER.to_owned()),
        kind: LimitKind::Window {
            limit: throttle.limit,
            per: throttle.per,
        },
        request: None,
        response: ResponseSpec {
            status: 429,
            headers: Vec::new(),
            body: ResponseBody::Json(json!([{
                "$severity": "error",
                "$dataCode": THROTTLED_CODE,
                "$message": THROTTLED_MESSAGE,
                "$source": "",
            }])),
        },
        remaining_header: None,
    }]
}

fn unprocessable(code: &'static str, message: &str, source: &'static str) -> ApiError {
    sage_error(StatusCode::UNPROCESSABLE_ENTITY, code, message, source)
}

fn sage_error(
    status: StatusCode,
    code: &'static str,
    message: &str,
    source: &'static str,
) -> ApiError {
    ApiError {
        status,
        code,
        message: message.to_owned(),
        source,
    }
}

/// An API error, answered as `[{"$severity":"error","$dataCode":..,"$message":..,"$source":..}]`.
/// The catalog gives no Sage error body; this is the shape Sage's own API reference shows,
/// chosen by reenact (statuses, codes and messages are reenact's too).
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    /// `$dataCode`.
    code: &'static str,
    /// `$message`.
    message: String,
    /// `$source`: the field or header at fault, or empty.
    source: &'static str,
}

impl ApiError {
    fn response(&self) -> Response<Bytes> {
        json_response(
            self.status,
            &json!([{
                "$severity": "error",
                "$dataCode": self.code,
                "$message": self.message,
                "$source": self.source,
            }]),
        )
    }
}

impl ErrorRenderer for Sage {
    /// The `401` for a bearer token the fake did not issue or that expired on the virtual clock
    /// (5 minutes [TRUTO-SAGE]; the body is reenact's choice in Sage's error shape, see
    /// [`ApiError`]).
    fn unauthenticated(&self, _failure: &AuthFailure, _now: OffsetDateTime) -> Response<Bytes> {
        sage_error(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "The access token is missing, invalid or expired",
            "",
        )
        .response()
    }
}

impl RecordRenderer for Sage {
    type Refused = Response<Bytes>;

    /// A record the request's business does not hold: `404 RecordNotFound` (reenact's words in
    /// Sage's error shape). Sage records are not deleted nor versioned by the fake, so only
    /// not-found happens.
    fn refused(&self, refusal: &RecordRefusal, _now: OffsetDateTime) -> Response<Bytes> {
        let (RecordRefusal::NotFound { kind, id }
        | RecordRefusal::Deleted { kind, id }
        | RecordRefusal::Stale { kind, id, .. }) = refusal;
        sage_error(
            StatusCode::NOT_FOUND,
            "RecordNotFound",
            &format!("No {kind} with id {id} in this business"),
            "id",
        )
        .response()
    }
}

impl Fake for Sage {
    type State = SageState;

    const NAME: &'static str = "sage";

    /// The state a run starts with: the businesses of the settings, nothing else.
    fn fresh_state(&self) -> SageState {
        SageState {
            serial: 0,
            businesses: self.settings.businesses.iter().map(business_json).collect(),
            tokens: Tokens::new(token_policy()),
            records: Store::default(),
        }
    }

    /// Answer one request.
    fn respond(&self, state: &mut SageState, request: &ProviderRequest<'_>) -> ProviderAnswer {
        let method = request.view.method.to_ascii_uppercase();
        let routed = ProviderAnswer::routed;
        match (method.as_str(), request.view.path) {
            ("GET", "/authorize") => return routed(self.authorize(state, request)),
            ("POST", "/token") => return routed(self.token(state, request)),
            ("GET", "/businesses") => {
                return routed(self.authenticate(state, request).unwrap_or_else(|| {
                    page(
                        &state.businesses,
                        "/businesses",
                        Envelope::Businesses,
                        request,
                    )
                }));
            }
            _ => {}
        }
        let mut parts = request.view.path.trim_start_matches('/').splitn(2, '/');
        let collection = parts.next().and_then(Collection::from_segment);
        let id = parts.next();
        let allowed = match id {
            Some(id) => {
                !id.is_empty() && !id.contains('/') && matches!(method.as_str(), "GET" | "PUT")
            }
            None => matches!(method.as_str(), "GET" | "POST"),
        };
        let Some(collection) = collection.filter(|_| allowed) else {
            return ProviderAnswer::unrouted("sage", request);
        };
        if let Some(response) = self.authenticate(state, request) {
            return routed(response);
        }
        let business = match self.business(request) {
            Ok(business) => business.id.clone(),
            Err(error) => return routed(error.response()),
        };
        let writes = matches!(method.as_str(), "POST" | "PUT");
        if writes
            && self
                .settings
                .read_only
                .iter()
                .any(|name| name == collection.segment())
        {
            return routed(access_denied().response());
        }
        let response = match (method.as_str(), id) {
            ("GET", Some(id)) => get_one(self, state, collection, &business, id, request),
            ("PUT", Some(id)) => self.update(state, collection, &business, id, request),
            ("GET", None) => list(state, collection, &business, request),
            _ => self.create(state, collection, &business, request),
        };
        routed(response)
    }

    fn state_json(state: &SageState) -> Value {
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
    fn errors_are_a_list_of_one_sage_message() {
        let response = sage_error(
            StatusCode::FORBIDDEN,
            "BusinessNotFound",
            "no",
            "X-Business",
        )
        .response();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            response.body().as_ref(),
            br#"[{"$severity":"error","$dataCode":"BusinessNotFound","$message":"no","$source":"X-Business"}]"#
        );
    }

    /// Sage's "Attributes" guide: `id`, `displayed_as` and `$path` always; `all` gives every one.
    #[test]
    fn attributes_select_the_summary_plus_the_names_given() {
        let record = json!({
            "id": "abc", "displayed_as": "Timber Co", "$path": "/contacts/abc",
            "name": "Timber Co", "email": "a@b.c", "created_at": "2026-11-02T09:00:00Z",
        });
        assert_eq!(
            select(&record, ""),
            json!({ "id": "abc", "displayed_as": "Timber Co", "$path": "/contacts/abc" })
        );
        assert_eq!(
            select(&record, "email, nope"),
            json!({ "id": "abc", "displayed_as": "Timber Co", "$path": "/contacts/abc", "email": "a@b.c" })
        );
        assert_eq!(select(&record, "all"), record);
        assert_eq!(select(&record, "email,all"), record);
    }

    /// No throttle unless the settings give one; then a window per `X-Business`.
    #[test]
    fn the_throttle_is_a_window_per_business_only_when_set() {
        let mut settings = SageSettings {
            businesses: Vec::new(),
            redirect_uri: None,
            subscription_active: true,
            read_only: Vec::new(),
            throttle: None,
        };
        assert!(rate_limits(&settings).is_empty());
        settings.throttle = Some(crate::scenario::model::SageThrottle {
            limit: 200,
            per: std::time::Duration::from_secs(60),
        });
        let limits = rate_limits(&settings);
        assert_eq!(limits.len(), 1);
        assert_eq!(limits[0].key, LimitKey::Header("x-business".to_owned()));
        assert_eq!(
            limits[0].kind,
            LimitKind::Window {
                limit: 200,
                per: std::time::Duration::from_secs(60)
            }
        );
        assert_eq!(limits[0].response.status, 429);
        assert_eq!(
            limits[0].response.body,
            ResponseBody::Json(json!([{
                "$severity": "error",
                "$dataCode": "TooManyRequests",
                "$message": THROTTLED_MESSAGE,
                "$source": "",
            }]))
        );
    }

    #[test]
    fn displayed_as_falls_back_to_the_id() {
        let mut record = Map::new();
        record.insert("id".to_owned(), Value::from("abc"));
        assert_eq!(
            displayed_as(Collection::PurchaseInvoices, &record),
            Value::from("abc")
        );
        record.insert("vendor_reference".to_owned(), Value::from("INV-7"));
        assert_eq!(
            displayed_as(Collection::PurchaseInvoices, &record),
            Value::from("INV-7")
        );
    }
}
