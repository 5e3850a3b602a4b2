//! `provider: oidc`, [`Oidc`]: an OpenID Provider and OAuth 2.0 authorization server that signs
//! for real: discovery, a JWKS of several keys with `kid` rotation at a virtual time, the
//! authorization endpoint (code flow with PKCE), the token endpoint (`authorization_code`,
//! `refresh_token`, `client_credentials`; `client_secret_basic` and `client_secret_post`),
//! userinfo, and ID and access tokens signed RS256 or ES256, with every claim the scenario may
//! bend ([`crate::scenario::model::ClaimOverrides`]) and the Entra, Okta and Google issuer
//! formats and error words. Its state ([`OidcState`]) counts codes and tokens and lists logins.
//!
//! Behaviours trace to OpenID Connect Core 1.0, Discovery 1.0, RFC 6749, RFC 7636, RFC 7517/7518
//! and the catalog's §5 and §9 (O-01, O-03); `docs/providers/oidc.md` gives the source of each in
//! its fidelity table and says where the choice is reenact's.

mod jws;

use std::collections::BTreeMap;

use bytes::Bytes;
use hyper::header::{CACHE_CONTROL, HeaderValue, LOCATION, WWW_AUTHENTICATE};
use hyper::{Response, StatusCode};
use serde_json::{Map, Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use super::kit::Fake;
use super::kit::tokens::{
    AnswerField, GrantError, Minted, RefreshPolicy, Revocation, Rotation, TokenPolicy, Tokens,
};
use super::{ProviderAnswer, ProviderRequest, empty};
use crate::mock::engine::json_response;
use crate::mock::render::seeded_uuid;
use crate::scenario::model::{ClockAnchor, OidcClient, OidcProfile, OidcSettings};
use crate::timestamp::format_rfc3339;
pub(crate) use jws::KeySet;
use jws::{SigningKey, b64url, sign_jwt};

/// An authorization code is redeemable for 10 minutes ("A maximum authorization code lifetime of
/// 10 minutes is RECOMMENDED", RFC 6749 §4.1.2).
pub(crate) const CODE_LIFETIME: Duration = Duration::minutes(10);
/// An ID token lives an hour unless `claims.lifetime` says otherwise (Entra's, Okta's and
/// Google's documented default).
pub(crate) const ID_TOKEN_LIFETIME: Duration = Duration::hours(1);
/// The templated issuer of Entra's multi-tenant (`common`) discovery [AZUREAD-1731].
pub(crate) const ENTRA_TEMPLATE: &str = "https://login.microsoftonline.com/{tenantid}/v2.0";
/// An SPA's refresh tokens end 24 hours after the sign-in, whatever their use (Entra: "a fixed,
/// limited lifetime of 1.00:00:00, which cannot be extended",
/// `AzureAD/microsoft-authentication-library-for-js#6765`; non-sliding, #3421).
pub(crate) const SPA_REFRESH_LIFETIME: Duration = Duration::hours(24);
/// Google's issuer.
pub(crate) const GOOGLE_ISSUER: &str = "https://accounts.google.com";
/// The tenants of Entra's discovery paths that are not a tenant: their issuer is the template.
const ENTRA_MULTI: &[&str] = &["common", "organizations", "consumers"];

/// A configured OpenID Provider fake.
#[derive(Debug)]
pub(crate) struct Oidc {
    mock: String,
    settings: OidcSettings,
    keys: Option<KeySet>,
}

/// What one run of the provider holds: codes, consents and tokens, and the logins.
#[derive(Debug)]
pub(crate) struct OidcState {
    serial: u64,
    tokens: Tokens<Session>,
    /// Codes the authorization endpoint issued, with what they were issued for.
    codes: BTreeMap<String, CodeGrant>,
    /// Refresh tokens issued: their client and when they were issued or last used.
    refresh_tokens: BTreeMap<String, (String, OffsetDateTime, usize)>,
    /// Consents revoked through `POST …/revoke`.
    revoked: Vec<usize>,
    /// When each consent of a code exchange was given (virtual clock): an SPA's refresh tokens
    /// end 24 hours after it.
    started: BTreeMap<usize, OffsetDateTime>,
    codes_redeemed: u64,
    id_tokens: u64,
    /// `{sub, client_id, at}` of every sign-in, in order.
    logins: Vec<Value>,
}

/// What a consent carries: who signed in to which client.
#[derive(Debug, Clone)]
struct Session {
    client_id: String,
    /// The user's index, `None` for a client-credentials grant.
    user: Option<usize>,
    scope: String,
    /// When the user authenticated (IdP clock, seconds since the epoch).
    auth_time: i64,
}

/// What an issued authorization code stands for.
#[derive(Debug, Clone)]
struct CodeGrant {
    client_id: String,
    user: usize,
    nonce: Option<String>,
    /// `code_challenge` and its method (`S256` or `plain`).
    challenge: Option<(String, String)>,
    scope: String,
    auth_time: i64,
}

/// Why the token endpoint refuses, so each profile can word it as its vendor does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    MissingParameter(&'static str),
    TwoAuthMethods,
    UnknownClient,
    BadSecret,
    PublicClientCredentials,
    BadCode,
    CodeOfAnotherClient,
    Pkce,
    BadRefresh,
    /// A refresh token unused for longer than its lifetime (O-03).
    IdleRefresh,
    /// A refresh token whose grant was revoked (`POST …/revoke`).
    RevokedRefresh,
    /// An SPA client's refresh token past its fixed 24 hours (Entra `AADSTS700084`).
    SpaRefreshExpired,
    UnsupportedGrant,
}

impl Refusal {
    /// The RFC 6749 §5.2 `error`.
    fn error(self) -> &'static str {
        match self {
            Refusal::MissingParameter(_) | Refusal::TwoAuthMethods => "invalid_request",
            Refusal::UnknownClient | Refusal::BadSecret => "invalid_client",
            Refusal::PublicClientCredentials => "unauthorized_client",
            Refusal::UnsupportedGrant => "unsupported_grant_type",
            _ => GrantError::InvalidGrant.code(),
        }
    }
}

/// The fake's token policy: access tokens of `access`, single-use refresh tokens living
/// `refresh` from their issue (a refresh answers a new one: an idle limit), codes 10 minutes.
fn token_policy(access: Duration, refresh: Duration) -> TokenPolicy {
    TokenPolicy {
        access_lifetime: access,
        access_sliding: false,
        refresh: Some(RefreshPolicy {
            lifetime: refresh,
            sliding: false,
            cap: None,
            rotation: Rotation::Every { grace: None },
        }),
        code_lifetime: Some(CODE_LIFETIME),
        revocation: Revocation::Consent,
        answer: &[
            AnswerField::TokenType("Bearer"),
            AnswerField::ExpiresIn,
            AnswerField::AccessToken,
            AnswerField::RefreshToken,
        ],
    }
}

fn duration_of(std: std::time::Duration) -> Duration {
    Duration::try_from(std).unwrap_or(Duration::MAX)
}

fn parse_time(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

fn redirect(location: &str) -> Response<Bytes> {
    let mut response = empty(StatusCode::FOUND);
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, value);
    }
    response
}

/// `uri` with `pairs` appended to its query.
fn with_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        query.append_pair(name, value);
    }
    let separator = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{separator}{}", query.finish())
}

impl Oidc {
    /// A fake serving as mock `mock` with `settings`.
    pub(crate) fn new(mock: &str, settings: OidcSettings) -> Oidc {
        Oidc {
            mock: format!("{mock}/oidc"),
            keys: KeySet::with_scenario_keys(settings.alg, &settings.keys),
            settings,
        }
    }

    /// The tenant tokens carry (`profile: entra`): `tenant_id`, else one seeded by the mock.
    fn tenant(&self) -> String {
        self.settings
            .tenant_id
            .clone()
            .unwrap_or_else(|| seeded_uuid(&self.mock, 0, 7))
    }

    /// The issuer discovery names: `issuer`, else the profile's (Entra: the `{tenantid}`
    /// template, or the tenant of a single-tenant discovery path), else the mock's base URL.
    fn discovery_issuer(&self, request: &ProviderRequest<'_>) -> String {
        let template = self.issuer_template(request);
        if self.settings.profile != OidcProfile::Entra {
            return template;
        }
        let tenant = request.view.path.trim_start_matches('/').split('/').next();
        match tenant {
            Some(tenant)
                if !tenant.is_empty()
                    && !ENTRA_MULTI.contains(&tenant)
                    && tenant != "v2.0"
                    && !tenant.starts_with('.') =>
            {
                template.replace("{tenantid}", tenant)
            }
            _ => template,
        }
    }

    fn issuer_template(&self, request: &ProviderRequest<'_>) -> String {
        if let Some(issuer) = &self.settings.issuer {
            return issuer.clone();
        }
        match self.settings.profile {
            OidcProfile::Generic => request.self_url(),
            OidcProfile::Entra => ENTRA_TEMPLATE.to_owned(),
            OidcProfile::Okta => {
                let domain =
                    self.settings.domain.clone().unwrap_or_else(|| {
                        request.header("host").unwrap_or("localhost").to_owned()
                    });
                format!("https://{domain}/oauth2/default")
            }
            OidcProfile::Google => GOOGLE_ISSUER.to_owned(),
        }
    }

    /// The `iss` of tokens: `claims.iss`, else the issuer with the real tenant in place of
    /// `{tenantid}`.
    fn token_issuer(&self, request: &ProviderRequest<'_>) -> String {
        match &self.settings.claims.iss {
            Some(iss) => iss.clone(),
            None => self
                .issuer_template(request)
                .replace("{tenantid}", &self.tenant()),
        }
    }

    /// The IdP's time: the virtual clock (or the real one) plus the clock offset.
    fn idp_now(&self, request: &ProviderRequest<'_>) -> OffsetDateTime {
        let anchor = match self.settings.clock.anchor {
            ClockAnchor::Virtual => request.now,
            ClockAnchor::Real => OffsetDateTime::now_utc(),
        };
        let offset = Duration::seconds(self.settings.clock.offset_seconds);
        anchor.checked_add(offset).unwrap_or(anchor)
    }

    /// Whether the rotation moved signing to the next key at virtual time `now`.
    fn rotated(&self, now: OffsetDateTime) -> bool {
        self.settings
            .rotation
            .as_ref()
            .and_then(|rotation| parse_time(&rotation.at))
            .is_some_and(|at| now >= at)
    }

    /// The key that signs at virtual time `now`.
    fn signing_key(&self, now: OffsetDateTime) -> Option<&SigningKey> {
        let keys = self.keys.as_ref()?;
        Some(if self.rotated(now) {
            &keys.next
        } else {
            &keys.current
        })
    }

    /// Sign `claims` as the IdP does at virtual time `now`, bent by `claims.kid` and
    /// `claims.wrong_key`.
    fn sign(&self, now: OffsetDateTime, claims: &Value) -> String {
        let Some(key) = self.signing_key(now) else {
            return String::new();
        };
        let kid = self.settings.claims.kid.as_deref().unwrap_or(key.kid());
        match (&self.keys, self.settings.claims.wrong_key) {
            (Some(keys), true) => sign_jwt(&keys.unpublished, kid, claims),
            _ => sign_jwt(key, kid, claims),
        }
    }

    /// `iat`, `nbf` and `exp` of a token issued at IdP time `at` living `lifetime`.
    fn times(&self, at: OffsetDateTime, lifetime: Duration) -> (i64, i64, i64) {
        let claims = &self.settings.claims;
        let issued = at.unix_timestamp();
        let iat = issued.saturating_add(claims.iat_offset_seconds.unwrap_or(0));
        let nbf = issued.saturating_add(claims.nbf_offset_seconds.unwrap_or(0));
        (iat, nbf, issued.saturating_add(lifetime.whole_seconds()))
    }

    /// The user's own claims: `email`, `name`, `groups` and their extra claims.
    fn user_claims(&self, user: usize) -> Map<String, Value> {
        let mut out = Map::new();
        let Some(user) = self.settings.users.get(user) else {
            return out;
        };
        out.insert("sub".to_owned(), Value::from(user.sub.clone()));
        if let Some(email) = &user.email {
            out.insert("email".to_owned(), Value::from(email.clone()));
        }
        if let Some(name) = &user.name {
            out.insert("name".to_owned(), Value::from(name.clone()));
        }
        if !user.groups.is_empty() {
            out.insert("groups".to_owned(), json!(user.groups));
        }
        out.extend(user.claims.clone());
        out
    }

    /// The `tid` tokens carry: `claims.tid`, else the tenant under `profile: entra`.
    fn tid(&self) -> Option<String> {
        self.settings.claims.tid.clone().or_else(|| {
            (self.settings.profile == OidcProfile::Entra || self.settings.tenant_id.is_some())
                .then(|| self.tenant())
        })
    }

    /// An ID token for `session` (OpenID Connect Core §2): `iss`, `sub`, `aud`, `exp`, `iat`,
    /// `nbf`, `auth_time`, `nonce` when given, `tid`, the user's claims and `claims.extra`.
    fn id_token(
        &self,
        request: &ProviderRequest<'_>,
        session: &Session,
        nonce: Option<&str>,
    ) -> String {
        let claims = &self.settings.claims;
        let lifetime = claims.lifetime.map_or(ID_TOKEN_LIFETIME, duration_of);
        let (iat, nbf, exp) = self.times(self.idp_now(request), lifetime);
        let mut body = Map::new();
        body.insert("iss".to_owned(), Value::from(self.token_issuer(request)));
        if let Some(user) = session.user {
            body.extend(self.user_claims(user));
        }
        let aud = claims
            .aud
            .clone()
            .unwrap_or_else(|| session.client_id.clone());
        body.insert("aud".to_owned(), Value::from(aud));
        body.insert("exp".to_owned(), Value::from(exp));
        body.insert("iat".to_owned(), Value::from(iat));
        body.insert("nbf".to_owned(), Value::from(nbf));
        body.insert("auth_time".to_owned(), Value::from(session.auth_time));
        let nonce = claims.nonce.as_deref().or(nonce);
        if let Some(nonce) = nonce {
            body.insert("nonce".to_owned(), Value::from(nonce));
        }
        if let Some(tid) = self.tid() {
            body.insert("tid".to_owned(), Value::from(tid));
        }
        body.extend(claims.extra.clone());
        self.sign(request.now, &Value::Object(body))
    }

    /// An access token (a JWT, RFC 9068's claims): `iss`, `sub` (the user or the client),
    /// `aud` (the client), `client_id`, `scope`, `jti`, `exp`, `iat`, `nbf`, `tid`.
    fn access_token(&self, request: &ProviderRequest<'_>, session: &Session, jti: &str) -> String {
        let lifetime = duration_of(self.settings.access_lifetime);
        let (iat, nbf, exp) = self.times(self.idp_now(request), lifetime);
        let sub = session
            .user
            .and_then(|user| self.settings.users.get(user))
            .map_or_else(|| session.client_id.clone(), |user| user.sub.clone());
        let mut body = json!({
            "iss": self.token_issuer(request),
            "sub": sub,
            "aud": session.client_id,
            "client_id": session.client_id,
            "scope": session.scope,
            "jti": jti,
            "exp": exp,
            "iat": iat,
            "nbf": nbf,
        });
        if let (Some(tid), Value::Object(fields)) = (self.tid(), &mut body) {
            fields.insert("tid".to_owned(), Value::from(tid));
        }
        self.sign(request.now, &body)
    }

    fn client(&self, id: &str) -> Option<&OidcClient> {
        self.settings.clients.iter().find(|c| c.client_id == id)
    }

    /// Endpoint paths under the mock's base URL, as each vendor lays them out.
    fn endpoints(&self, request: &ProviderRequest<'_>) -> [(&'static str, String); 4] {
        let base = request.self_url();
        let tenant = request
            .view
            .path
            .trim_start_matches('/')
            .split('/')
            .next()
            .filter(|t| !t.is_empty() && !t.starts_with('.'))
            .unwrap_or("common");
        let [authorize, token, keys, userinfo] = match self.settings.profile {
            OidcProfile::Generic => {
                ["/authorize", "/token", "/jwks", "/userinfo"].map(String::from)
            }
            OidcProfile::Entra => [
                format!("/{tenant}/oauth2/v2.0/authorize"),
                format!("/{tenant}/oauth2/v2.0/token"),
                format!("/{tenant}/discovery/v2.0/keys"),
                "/oidc/userinfo".to_owned(),
            ],
            OidcProfile::Okta => [
                "/oauth2/default/v1/authorize",
                "/oauth2/default/v1/token",
                "/oauth2/default/v1/keys",
                "/oauth2/default/v1/userinfo",
            ]
            .map(String::from),
            OidcProfile::Google => [
                "/o/oauth2/v2/auth",
                "/token",
                "/oauth2/v3/certs",
                "/v1/userinfo",
            ]
            .map(String::from),
        };
        [
            ("authorization_endpoint", format!("{base}{authorize}")),
            ("token_endpoint", format!("{base}{token}")),
            ("jwks_uri", format!("{base}{keys}")),
            ("userinfo_endpoint", format!("{base}{userinfo}")),
        ]
    }

    /// `GET …/.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §3).
    fn discovery(&self, request: &ProviderRequest<'_>) -> Response<Bytes> {
        let mut body = Map::new();
        body.insert(
            "issuer".to_owned(),
            Value::from(self.discovery_issuer(request)),
        );
        for (name, url) in self.endpoints(request) {
            body.insert(name.to_owned(), Value::from(url));
        }
        // RFC 8414 §2 / RFC 7009: Okta and Google publish a revocation endpoint; Entra has none
        // (the fake's `…/revoke` there stands for a password reset or an admin's revocation).
        let revoke = match self.settings.profile {
            OidcProfile::Generic | OidcProfile::Google => Some("/revoke"),
            OidcProfile::Okta => Some("/oauth2/default/v1/revoke"),
            OidcProfile::Entra => None,
        };
        if let Some(path) = revoke {
            let url = format!("{}{path}", request.self_url());
            body.insert("revocation_endpoint".to_owned(), Value::from(url));
        }
        let alg = match self.settings.alg {
            crate::scenario::model::SigningAlg::RS256 => "RS256",
            crate::scenario::model::SigningAlg::ES256 => "ES256",
        };
        let rest = json!({
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [alg],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "code_challenge_methods_supported": ["S256", "plain"],
            "claims_supported": ["iss", "sub", "aud", "exp", "iat", "nbf", "auth_time", "nonce", "email", "name", "groups", "tid"],
        });
        if let Value::Object(rest) = rest {
            body.extend(rest);
        }
        json_response(StatusCode::OK, &Value::Object(body))
    }

    /// `GET …/jwks`: the current key and the next one (from `rotation.publish_next_at` on the
    /// virtual clock, else always), with `Cache-Control: public, max-age=…`.
    fn jwks(&self, request: &ProviderRequest<'_>) -> Response<Bytes> {
        let mut keys = Vec::new();
        if let Some(set) = &self.keys {
            keys.push(set.current.jwk().clone());
            let published = self.rotated(request.now)
                || self
                    .settings
                    .rotation
                    .as_ref()
                    .and_then(|r| r.publish_next_at.as_deref())
                    .and_then(parse_time)
                    .is_none_or(|at| request.now >= at);
            if published {
                keys.push(set.next.jwk().clone());
            }
        }
        let mut response = json_response(StatusCode::OK, &json!({ "keys": keys }));
        let cache = format!("public, max-age={}", self.settings.jwks_max_age.as_secs());
        if let Ok(value) = HeaderValue::from_str(&cache) {
            response.headers_mut().insert(CACHE_CONTROL, value);
        }
        response
    }

    /// `GET …/authorize` (RFC 6749 §4.1.1, OIDC Core §3.1.2): an unknown `client_id` or a
    /// `redirect_uri` the client did not register gets `400` and no redirect (§4.1.2.1);
    /// otherwise errors go back to the redirect URI with `error` and `state`, and a success
    /// issues a code (bound to the redirect URI, `nonce` and the PKCE challenge) and answers
    /// `302` to the redirect URI with `code` and `state`. There is no login page: the user is
    /// `login_hint` (a `sub` or an `email`), else `with.login`, else the first user.
    fn authorize(&self, state: &mut OidcState, request: &ProviderRequest<'_>) -> Response<Bytes> {
        let param = |name| request.query_param(name).filter(|v| !v.is_empty());
        let Some(client) = param("client_id").and_then(|id| self.client(&id)) else {
            return self.error_body(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "unknown or missing client_id",
                0,
                request.now,
            );
        };
        let Some(redirect_uri) = param("redirect_uri").filter(|uri| {
            client
                .redirect_uris
                .iter()
                .any(|registered| registered == uri)
        }) else {
            return self.error_body(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "redirect_uri is missing or not registered for the client",
                9_002_313,
                request.now,
            );
        };
        let client_state = param("state");
        let fail = |error: &str| {
            let mut pairs = vec![("error", error)];
            if let Some(s) = &client_state {
                pairs.push(("state", s));
            }
            redirect(&with_query(&redirect_uri, &pairs))
        };
        if param("response_type").as_deref() != Some("code") {
            return fail("unsupported_response_type");
        }
        let challenge = match (param("code_challenge"), param("code_challenge_method")) {
            (None, None) => None,
            (Some(challenge), method) => {
                let method = method.unwrap_or_else(|| "plain".to_owned());
                if method != "S256" && method != "plain" {
                    return fail("invalid_request");
                }
                Some((challenge, method))
            }
            (None, Some(_)) => return fail("invalid_request"),
        };
        let user = match param("login_hint") {
            Some(hint) => self
                .settings
                .users
                .iter()
                .position(|u| u.sub == hint || u.email.as_deref() == Some(hint.as_str())),
            None => match &self.settings.login {
                Some(sub) => self.settings.users.iter().position(|u| &u.sub == sub),
                None => Some(0),
            },
        };
        let Some(user) = user.filter(|u| *u < self.settings.users.len()) else {
            return fail("login_required");
        };
        let code = next_id(&mut state.serial, &self.mock);
        state
            .tokens
            .issue_code(code.clone(), request.now, redirect_uri.clone());
        state.codes.insert(
            code.clone(),
            CodeGrant {
                client_id: client.client_id.clone(),
                user,
                nonce: param("nonce"),
                challenge,
                scope: param("scope").unwrap_or_default(),
                auth_time: self.idp_now(request).unix_timestamp(),
            },
        );
        state.logins.push(json!({
            "sub": self.settings.users[user].sub,
            "client_id": client.client_id,
            "at": format_rfc3339(request.now),
        }));
        let mut pairs = vec![("code", code.as_str())];
        if let Some(s) = &client_state {
            pairs.push(("state", s));
        }
        redirect(&with_query(&redirect_uri, &pairs))
    }

    /// The client of a token request (RFC 6749 §2.3.1): HTTP Basic (`client_secret_basic`), or
    /// `client_id` and `client_secret` in the form (`client_secret_post`), or a public client's
    /// `client_id` alone; and whether the `Authorization` header was used.
    fn authenticate_client(
        &self,
        request: &ProviderRequest<'_>,
        form: &BTreeMap<String, String>,
    ) -> (Result<String, Refusal>, bool) {
        if request.credentials("Basic").is_some() {
            if form.contains_key("client_secret") {
                return (Err(Refusal::TwoAuthMethods), true);
            }
            let Some((id, secret)) = request.basic() else {
                return (Err(Refusal::UnknownClient), true);
            };
            // RFC 6749 §2.3.1: both are form-urlencoded before they are joined.
            let decode = |text: &str| -> String {
                form_urlencoded::parse(format!("x={text}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            };
            return (
                self.check_secret(&decode(&id), Some(&decode(&secret))),
                true,
            );
        }
        let Some(id) = form.get("client_id") else {
            return (Err(Refusal::UnknownClient), false);
        };
        (
            self.check_secret(id, form.get("client_secret").map(String::as_str)),
            false,
        )
    }

    fn check_secret(&self, id: &str, secret: Option<&str>) -> Result<String, Refusal> {
        let client = self.client(id).ok_or(Refusal::UnknownClient)?;
        match (&client.client_secret, secret) {
            (Some(expected), Some(given)) if expected.0 == given => Ok(id.to_owned()),
            (None, None) => Ok(id.to_owned()),
            _ => Err(Refusal::BadSecret),
        }
    }

    /// The answer of a refused token request: RFC 6749 §5.2's JSON with the profile's
    /// `error_description`. `invalid_client` is `401` with `WWW-Authenticate: Basic` after HTTP
    /// Basic (§5.2 "MUST"); without the header it is `400` (the RFC's default) for the generic
    /// profile and `401` for Entra, Okta and Google, as their token endpoints answer.
    fn refuse(
        &self,
        refusal: Refusal,
        header_used: bool,
        issued: Option<OffsetDateTime>,
        now: OffsetDateTime,
        client: &str,
    ) -> Response<Bytes> {
        let (description, code) = self.describe(refusal, issued, client);
        let vendor = self.settings.profile != OidcProfile::Generic;
        let status = if refusal.error() == "invalid_client" && (header_used || vendor) {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::BAD_REQUEST
        };
        let mut response = self.error_body(status, refusal.error(), &description, code, now);
        if status == StatusCode::UNAUTHORIZED && header_used {
            response.headers_mut().insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"oidc\""),
            );
        }
        response
    }

    /// `{"error", "error_description"}`; under `profile: entra` Entra's body: the description
    /// `AADSTS{code}: …` followed by `\r\nTrace ID`, `\r\nCorrelation ID` and
    /// `\r\nTimestamp` lines, then `error_codes`, `timestamp`, `trace_id`, `correlation_id`
    /// and `error_uri` (the shape of Entra answers quoted in public issues, e.g.
    /// `OfficeDev/microsoft-365-agents-toolkit#8621`), the ids seeded, the time virtual.
    fn error_body(
        &self,
        status: StatusCode,
        error: &str,
        description: &str,
        code: u32,
        now: OffsetDateTime,
    ) -> Response<Bytes> {
        if self.settings.profile != OidcProfile::Entra || code == 0 {
            let body = json!({ "error": error, "error_description": description });
            return json_response(status, &body);
        }
        let trace = seeded_uuid(&self.mock, 0, 8);
        let correlation = seeded_uuid(&self.mock, 0, 9);
        let format =
            time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]Z");
        let timestamp = now.format(&format).unwrap_or_default();
        let body = json!({
            "error": error,
            "error_description": format!(
                "AADSTS{code}: {description}\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}\r\nTimestamp: {timestamp}"
            ),
            "error_codes": [code],
            "timestamp": timestamp,
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
        });
        json_response(status, &body)
    }

    /// The `client_id` a token request names (HTTP Basic or the form), authenticated or not.
    fn attempted_client(request: &ProviderRequest<'_>, form: &BTreeMap<String, String>) -> String {
        request
            .basic()
            .map(|(id, _)| id)
            .or_else(|| form.get("client_id").cloned())
            .unwrap_or_default()
    }

    /// The `error_description` (and Entra's `AADSTS` number) of `refusal` under the profile.
    fn describe(
        &self,
        refusal: Refusal,
        issued: Option<OffsetDateTime>,
        client: &str,
    ) -> (String, u32) {
        let profile = self.settings.profile;
        let text = |s: &str| s.to_owned();
        match (profile, refusal) {
            (OidcProfile::Entra, Refusal::IdleRefresh) => {
                let issued = issued.map(format_rfc3339).unwrap_or_default();
                let days = self.settings.refresh_lifetime.as_secs() / 86_400;
                (
                    format!(
                        "The refresh token has expired due to inactivity. The token was issued on {issued} and was inactive for {days}.00:00:00."
                    ),
                    700_082,
                )
            }
            (
                OidcProfile::Entra,
                Refusal::BadRefresh | Refusal::BadCode | Refusal::CodeOfAnotherClient,
            ) => (
                text(
                    "The provided value for the input parameter is not valid: the grant is invalid, expired or revoked.",
                ),
                70_000,
            ),
            (OidcProfile::Entra, Refusal::Pkce) => (
                text(
                    "The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.",
                ),
                50_148,
            ),
            (OidcProfile::Entra, Refusal::BadSecret) => (
                format!(
                    "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client}'."
                ),
                7_000_215,
            ),
            (OidcProfile::Entra, Refusal::RevokedRefresh) => (
                text(
                    "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.",
                ),
                50_173,
            ),
            (OidcProfile::Entra, Refusal::UnknownClient) => {
                (text("Application was not found in the directory."), 700_016)
            }
            (OidcProfile::Entra, Refusal::MissingParameter(name)) => (
                format!("The request body must contain the following parameter: '{name}'."),
                900_144,
            ),
            (OidcProfile::Okta, Refusal::BadCode | Refusal::CodeOfAnotherClient) => {
                (text("The authorization code is invalid or has expired."), 0)
            }
            (
                OidcProfile::Okta,
                Refusal::BadRefresh | Refusal::IdleRefresh | Refusal::RevokedRefresh,
            ) => (text("The refresh token is invalid or expired."), 0),
            (OidcProfile::Okta, Refusal::Pkce) => (text("PKCE verification failed."), 0),
            (OidcProfile::Okta, Refusal::BadSecret | Refusal::UnknownClient) => (
                text("The client secret supplied for a confidential client is invalid."),
                0,
            ),
            (
                OidcProfile::Google,
                Refusal::BadRefresh | Refusal::IdleRefresh | Refusal::RevokedRefresh,
            ) => (text("Token has been expired or revoked."), 0),
            (
                OidcProfile::Google,
                Refusal::BadCode | Refusal::CodeOfAnotherClient | Refusal::Pkce,
            ) => (text("Bad Request"), 0),
            (OidcProfile::Google, Refusal::UnknownClient) => {
                (text("The OAuth client was not found."), 0)
            }
            (OidcProfile::Google, Refusal::BadSecret) => (text("Unauthorized"), 0),
            (_, Refusal::MissingParameter(name)) => (format!("missing parameter `{name}`"), 0),
            (_, Refusal::TwoAuthMethods) => (text("more than one client authentication method"), 0),
            (_, Refusal::UnknownClient) => (text("unknown client"), 0),
            (_, Refusal::BadSecret) => (text("client authentication failed"), 0),
            (_, Refusal::PublicClientCredentials) => (
                text("a public client cannot use the client_credentials grant"),
                0,
            ),
            (_, Refusal::BadCode) => (
                text(
                    "the authorization code is invalid, expired, used or issued for another redirect_uri",
                ),
                0,
            ),
            (_, Refusal::CodeOfAnotherClient) => (
                text("the authorization code was issued to another client"),
                0,
            ),
            (_, Refusal::Pkce) => (text("code_verifier does not match the code_challenge"), 0),
            (_, Refusal::BadRefresh) => (
                text("the refresh token is invalid, used, revoked or issued to another client"),
                0,
            ),
            (_, Refusal::IdleRefresh) => (
                text("the refresh token expired after its lifetime unused"),
                0,
            ),
            (_, Refusal::RevokedRefresh) => (text("the grant of the refresh token was revoked"), 0),
            (OidcProfile::Entra, Refusal::SpaRefreshExpired) => {
                let issued = issued.map(format_rfc3339).unwrap_or_default();
                (
                    format!(
                        "The refresh token was issued to a single page app (SPA), and therefore has a fixed, limited lifetime of 1.00:00:00, which cannot be extended. It is now expired and a new sign in request must be sent by the SPA to the sign in page. The token was issued on {issued}."
                    ),
                    700_084,
                )
            }
            (_, Refusal::SpaRefreshExpired) => (
                text("the refresh token of a single-page app expired 24 hours after the sign-in"),
                0,
            ),
            (_, Refusal::UnsupportedGrant) => (text("unsupported grant_type"), 0),
        }
    }

    /// `POST …/token` (RFC 6749 §3.2, §4.1.3, §4.4, §6; OIDC Core §3.1.3, §12).
    fn token(&self, state: &mut OidcState, request: &ProviderRequest<'_>) -> Response<Bytes> {
        let form = request.form();
        let (client, header_used) = self.authenticate_client(request, &form);
        let attempted = Self::attempted_client(request, &form);
        let refuse =
            |refusal, issued| self.refuse(refusal, header_used, issued, request.now, &attempted);
        let client_id = match client {
            Ok(client) => client,
            Err(refusal) => return refuse(refusal, None),
        };
        let now = request.now;
        let OidcState {
            serial,
            tokens,
            codes,
            refresh_tokens,
            revoked,
            started,
            codes_redeemed,
            id_tokens,
            ..
        } = state;
        let mock = &self.mock;
        let mut mint = |kind: Minted, session: &Session| {
            let jti = next_id(serial, mock);
            match kind {
                Minted::Access => self.access_token(request, session, &jti),
                Minted::Refresh => jti,
            }
        };
        let (issued, nonce) = match form.get("grant_type").map(String::as_str) {
            None => return refuse(Refusal::MissingParameter("grant_type"), None),
            Some("authorization_code") => {
                let Some(grant) = form.get("code").and_then(|code| codes.get(code)).cloned() else {
                    return refuse(Refusal::BadCode, None);
                };
                if grant.client_id != client_id {
                    return refuse(Refusal::CodeOfAnotherClient, None);
                }
                if let Some((challenge, method)) = &grant.challenge {
                    let verifier = form.get("code_verifier").map(String::as_str).unwrap_or("");
                    let derived = if method == "S256" {
                        b64url(
                            ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes())
                                .as_ref(),
                        )
                    } else {
                        verifier.to_owned()
                    };
                    if verifier.is_empty() || &derived != challenge {
                        return refuse(Refusal::Pkce, None);
                    }
                }
                if tokens.redeem_code(&form, now, None).is_err() {
                    return refuse(Refusal::BadCode, None);
                }
                *codes_redeemed += 1;
                let session = Session {
                    client_id: client_id.clone(),
                    user: Some(grant.user),
                    scope: grant.scope.clone(),
                    auth_time: grant.auth_time,
                };
                let issued = tokens.consent(session, now, &mut mint);
                started.insert(issued.consent, now);
                (issued, grant.nonce)
            }
            Some("refresh_token") => {
                let token = form.get("refresh_token").map(String::as_str);
                let known = token.and_then(|t| refresh_tokens.get(t)).cloned();
                match &known {
                    Some((owner, _, _)) if *owner == client_id => {}
                    _ => return refuse(Refusal::BadRefresh, None),
                }
                let spa = self.client(&client_id).is_some_and(|c| c.spa);
                let signed_in = known.as_ref().and_then(|(_, _, c)| started.get(c)).copied();
                if let Some(at) = signed_in.filter(|at| {
                    spa && at
                        .checked_add(SPA_REFRESH_LIFETIME)
                        .is_none_or(|end| now >= end)
                }) {
                    return refuse(Refusal::SpaRefreshExpired, Some(at));
                }
                match tokens.refresh(token, now, &mut mint) {
                    Ok(issued) => (issued, None),
                    Err(_) => {
                        let lifetime = duration_of(self.settings.refresh_lifetime);
                        let issued_at = known.as_ref().map(|(_, at, _)| *at);
                        let idle = issued_at
                            .and_then(|at| at.checked_add(lifetime))
                            .is_some_and(|end| now >= end);
                        let revoked = known.is_some_and(|(_, _, c)| revoked.contains(&c));
                        let refusal = if revoked {
                            Refusal::RevokedRefresh
                        } else if idle {
                            Refusal::IdleRefresh
                        } else {
                            Refusal::BadRefresh
                        };
                        return refuse(refusal, issued_at);
                    }
                }
            }
            Some("client_credentials") => {
                if self
                    .client(&client_id)
                    .is_some_and(|c| c.client_secret.is_none())
                {
                    return refuse(Refusal::PublicClientCredentials, None);
                }
                let session = Session {
                    client_id: client_id.clone(),
                    user: None,
                    scope: form.get("scope").cloned().unwrap_or_default(),
                    auth_time: self.idp_now(request).unix_timestamp(),
                };
                (
                    tokens.consent_without_refresh(session, now, &mut mint),
                    None,
                )
            }
            Some(_) => return refuse(Refusal::UnsupportedGrant, None),
        };
        if let Some((refresh, _)) = &issued.refresh {
            refresh_tokens.insert(refresh.clone(), (client_id.clone(), now, issued.consent));
        }
        let session = tokens.data(issued.consent).cloned();
        let mut answer = issued.answer(tokens.policy().answer);
        if let Some(session) = session {
            answer.insert("scope".to_owned(), Value::from(session.scope.clone()));
            let openid = session.scope.split(' ').any(|s| s == "openid");
            if openid && session.user.is_some() {
                *id_tokens += 1;
                answer.insert(
                    "id_token".to_owned(),
                    Value::from(self.id_token(request, &session, nonce.as_deref())),
                );
            }
        }
        json_response(StatusCode::OK, &Value::Object(answer))
    }

    /// `POST …/revoke` (RFC 7009 §2): the authenticated client revokes a refresh or access
    /// token it holds, and with it the whole grant (every token of the sign-in, the
    /// [`Revocation::Consent`] policy: what a password reset does at Entra, AADSTS50173);
    /// `200` with no body, for an unknown token too (§2.2).
    fn revoke(&self, state: &mut OidcState, request: &ProviderRequest<'_>) -> Response<Bytes> {
        let form = request.form();
        let (client, header_used) = self.authenticate_client(request, &form);
        let attempted = Self::attempted_client(request, &form);
        if let Err(refusal) = client {
            return self.refuse(refusal, header_used, None, request.now, &attempted);
        }
        let Some(token) = form.get("token").filter(|t| !t.is_empty()) else {
            let refusal = Refusal::MissingParameter("token");
            return self.refuse(refusal, header_used, None, request.now, &attempted);
        };
        if let Some((owner, _, consent)) = state.refresh_tokens.get(token)
            && *owner == attempted
        {
            state.revoked.push(*consent);
        }
        state.tokens.revoke(token);
        empty(StatusCode::OK)
    }

    /// `GET`/`POST …/userinfo` (OIDC Core §5.3): the signed-in user's claims for a valid bearer
    /// access token; else `401` with `WWW-Authenticate: Bearer error="invalid_token"`
    /// (RFC 6750 §3.1).
    fn userinfo(&self, state: &mut OidcState, request: &ProviderRequest<'_>) -> Response<Bytes> {
        let user = match state.tokens.authenticate(request.bearer(), request.now) {
            Ok((_, session)) => session.user,
            Err(_) => None,
        };
        match user {
            Some(user) => json_response(StatusCode::OK, &Value::Object(self.user_claims(user))),
            None => {
                let mut response = empty(StatusCode::UNAUTHORIZED);
                response.headers_mut().insert(
                    WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer error=\"invalid_token\""),
                );
                response
            }
        }
    }
}

/// The next generated id after `serial`: a seeded UUID (reenact's form).
fn next_id(serial: &mut u64, mock: &str) -> String {
    *serial += 1;
    seeded_uuid(mock, *serial, 0)
}

impl Fake for Oidc {
    type State = OidcState;

    const NAME: &'static str = "oidc";

    fn fresh_state(&self) -> OidcState {
        OidcState {
            serial: 0,
            tokens: Tokens::new(token_policy(
                duration_of(self.settings.access_lifetime),
                duration_of(self.settings.refresh_lifetime),
            )),
            codes: BTreeMap::new(),
            refresh_tokens: BTreeMap::new(),
            revoked: Vec::new(),
            started: BTreeMap::new(),
            codes_redeemed: 0,
            id_tokens: 0,
            logins: Vec::new(),
        }
    }

    /// Routes are matched on the path's end, so the vendors' layouts (Entra's
    /// `/{tenant}/oauth2/v2.0/token`, Okta's `/oauth2/default/v1/keys`) and an issuer with a
    /// path (discovery at `{issuer}/.well-known/openid-configuration`) all reach them.
    fn respond(&self, state: &mut OidcState, request: &ProviderRequest<'_>) -> ProviderAnswer {
        let method = request.view.method.to_ascii_uppercase();
        let path = request.view.path;
        let last = path.rsplit('/').next().unwrap_or("");
        let routed = ProviderAnswer::routed;
        match (method.as_str(), last) {
            ("GET", "openid-configuration")
                if path.ends_with("/.well-known/openid-configuration") =>
            {
                routed(self.discovery(request))
            }
            ("GET", "jwks" | "keys" | "certs" | "jwks.json") => routed(self.jwks(request)),
            ("GET", "authorize" | "auth") => routed(self.authorize(state, request)),
            ("POST", "token") => routed(self.token(state, request)),
            ("GET" | "POST", "userinfo") => routed(self.userinfo(state, request)),
            ("POST", "revoke") => routed(self.revoke(state, request)),
            _ => ProviderAnswer::unrouted(Self::NAME, request),
        }
    }

    /// `{"codes": {"issued", "redeemed"}, "tokens": {"id", "access", "refresh"}, "logins": [..]}`:
    /// counts only, never a token.
    fn state_json(state: &OidcState) -> Value {
        let (access, refresh) = state.tokens.counts();
        json!({
            "codes": { "issued": state.codes.len(), "redeemed": state.codes_redeemed },
            "tokens": { "id": state.id_tokens, "access": access, "refresh": refresh },
            "logins": state.logins,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::model::{
        ClaimOverrides, ClockAnchor, IdpClock, OidcClient, OidcUser, SigningAlg,
    };

    fn fake(profile: OidcProfile) -> Oidc {
        Oidc::new(
            "idp",
            OidcSettings {
                profile,
                issuer: None,
                tenant_id: None,
                domain: None,
                clients: vec![OidcClient {
                    client_id: "app".into(),
                    client_secret: None,
                    redirect_uris: Vec::new(),
                    spa: false,
                }],
                users: vec![OidcUser {
                    sub: "alice".into(),
                    email: None,
                    name: None,
                    groups: Vec::new(),
                    claims: Map::new(),
                }],
                groups: Vec::new(),
                login: None,
                alg: SigningAlg::RS256,
                rotation: None,
                clock: IdpClock {
                    anchor: ClockAnchor::Virtual,
                    offset_seconds: 0,
                },
                claims: ClaimOverrides::default(),
                access_lifetime: std::time::Duration::from_secs(3600),
                refresh_lifetime: std::time::Duration::from_secs(90 * 86_400),
                jwks_max_age: std::time::Duration::from_secs(60),
                keys: Vec::new(),
            },
        )
    }

    /// Every refusal has its RFC 6749 §5.2 code, and each profile words the common ones as the
    /// fidelity table of `docs/providers/oidc.md` says (Entra with its `AADSTS` number).
    #[test]
    fn refusals_map_to_rfc_6749_codes_and_each_profiles_words() {
        let codes = [
            (Refusal::MissingParameter("code"), "invalid_request"),
            (Refusal::TwoAuthMethods, "invalid_request"),
            (Refusal::UnknownClient, "invalid_client"),
            (Refusal::BadSecret, "invalid_client"),
            (Refusal::PublicClientCredentials, "unauthorized_client"),
            (Refusal::BadCode, "invalid_grant"),
            (Refusal::CodeOfAnotherClient, "invalid_grant"),
            (Refusal::Pkce, "invalid_grant"),
            (Refusal::BadRefresh, "invalid_grant"),
            (Refusal::IdleRefresh, "invalid_grant"),
            (Refusal::RevokedRefresh, "invalid_grant"),
            (Refusal::SpaRefreshExpired, "invalid_grant"),
            (Refusal::UnsupportedGrant, "unsupported_grant_type"),
        ];
        for (refusal, code) in codes {
            assert_eq!(refusal.error(), code, "{refusal:?}");
        }
        let words = [
            (OidcProfile::Entra, Refusal::RevokedRefresh, 50_173),
            (OidcProfile::Entra, Refusal::BadSecret, 7_000_215),
            (OidcProfile::Entra, Refusal::IdleRefresh, 700_082),
            (OidcProfile::Entra, Refusal::SpaRefreshExpired, 700_084),
            (OidcProfile::Entra, Refusal::BadCode, 70_000),
            (OidcProfile::Okta, Refusal::BadRefresh, 0),
            (OidcProfile::Google, Refusal::UnknownClient, 0),
        ];
        for (profile, refusal, number) in words {
            let (text, code) = fake(profile).describe(refusal, None, "app");
            assert_eq!(code, number, "{profile:?} {refusal:?}: {text}");
            assert!(!text.is_empty());
        }
        let okta = fake(OidcProfile::Okta).describe(Refusal::BadRefresh, None, "app");
        assert_eq!(okta.0, "The refresh token is invalid or expired.");
        let google = fake(OidcProfile::Google).describe(Refusal::IdleRefresh, None, "app");
        assert_eq!(google.0, "Token has been expired or revoked.");
    }

    /// A redirect keeps the URI's own query and encodes what it adds.
    #[test]
    fn redirect_queries_are_appended_and_encoded() {
        assert_eq!(
            with_query("https://rp.test/cb", &[("code", "a b"), ("state", "x&y")]),
            "https://rp.test/cb?code=a+b&state=x%26y"
        );
        assert_eq!(
            with_query("https://rp.test/cb?tenant=1", &[("code", "c")]),
            "https://rp.test/cb?tenant=1&code=c"
        );
    }

    /// Token times saturate instead of overflowing, whatever the offsets.
    #[test]
    fn token_times_saturate() {
        let mut oidc = fake(OidcProfile::Generic);
        oidc.settings.claims.iat_offset_seconds = Some(i64::MAX);
        let (iat, nbf, exp) = oidc.times(OffsetDateTime::UNIX_EPOCH, Duration::MAX);
        assert_eq!((iat, nbf, exp), (i64::MAX, 0, i64::MAX));
    }
}
