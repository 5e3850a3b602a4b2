//! Sign-in by OpenID Connect (authorization code flow with PKCE): the relying party of
//! ledger-sync. Configured by `OIDC_ISSUER`, `OIDC_DISCOVERY_URL` (default
//! `{OIDC_ISSUER}/.well-known/openid-configuration`), `OIDC_CLIENT_ID` and `OIDC_CLIENT_SECRET`;
//! the redirect URI is `{PUBLIC_URL}/auth/callback`.
//!
//! [`OidcLogin::start`] reads the provider's discovery document (once it has one, it keeps it),
//! keeps a pending login under a random `state` with its `nonce` and PKCE verifier (at most
//! [`MAX_PENDING`], each for [`PENDING_TTL`]) and sends the browser to the authorization
//! endpoint. [`OidcLogin::callback`] redeems the code at the token endpoint with
//! `client_secret_basic` (RFC 6749 §2.3.1) and the PKCE verifier (RFC 7636), then validates the
//! ID token as OpenID Connect Core §3.1.3.7 asks: a JWS signed RS256 or ES256 (verified with
//! `ring` against the JWKS key of its `kid`), `iss` equal to `OIDC_ISSUER`, `aud` naming the
//! client (and `azp` when there are several audiences), `exp`, `nbf`, `iat`, and the `nonce` of
//! the login. The user signed in is the token's `email`, else its `sub`.
//!
//! These incidents of release 1.4.2 live here, each beside its 1.4.3 fix and selected only by
//! [`Release`]:
//!
//! - SUP-5101: 1.4.2 fetches the JWKS once and keeps it forever, so after the provider rotates
//!   its signing key every login fails "no signing key `KID`"; 1.4.3 honours the JWKS's
//!   `Cache-Control: max-age` and refetches the JWKS when a token names an unknown `kid` (at most
//!   once per `kid` per [`KID_REFETCH_INTERVAL`]).
//! - SUP-5108: 1.4.2 takes every failed token request for a passing fault and sends it again, 20
//!   times back to back, before showing "try again later"; 1.4.3 retries only timeouts, `429` and
//!   `5xx` (three attempts, with backoff) and shows a refusal (`invalid_client`, `invalid_grant`,
//!   …) at once with what to do, e.g. that `OIDC_CLIENT_SECRET` must be updated.
//! - SUP-5115: 1.4.2 checks `exp`, `nbf` and `iat` with no leeway, so an identity provider whose
//!   clock is a little ahead issues tokens "not valid yet"; 1.4.3 allows [`CLOCK_SKEW_SECONDS`]
//!   (Microsoft.IdentityModel's default `ClockSkew`) and logs both clocks.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use serde_json::{Map, Value};
use tokio::sync::Mutex;

use crate::connector::http_client;
use crate::log;
use crate::release::Release;
use crate::sso::{SsoSettings, random_token};

/// The largest body read from the identity provider (discovery, JWKS, token answer).
const MAX_BODY_BYTES: usize = 1024 * 1024;
/// The most logins waiting for their callback; the oldest is dropped to make room.
const MAX_PENDING: usize = 1000;
/// How long a login may wait for its callback (the lifetime RFC 6749 §4.1.2 recommends for a code).
const PENDING_TTL: Duration = Duration::from_secs(10 * 60);
/// The scopes asked for.
const SCOPE: &str = "openid email profile";
/// The longest ID token read (Microsoft.IdentityModel's default limit is 250 KB; the demo's is
/// smaller: its tokens carry a handful of claims).
const MAX_ID_TOKEN_BYTES: usize = 64 * 1024;
/// SUP-5115 (fix): the clock skew 1.4.3 allows on `exp`, `nbf` and `iat`: 300 seconds, the
/// default `ClockSkew` of Microsoft.IdentityModel's `TokenValidationParameters`.
const CLOCK_SKEW_SECONDS: i64 = 300;
/// SUP-5101 (fix): a `kid` the JWKS does not list makes 1.4.3 refetch the JWKS at most once per
/// this interval, so tokens naming keys that do not exist cannot make it hammer the provider.
const KID_REFETCH_INTERVAL: Duration = Duration::from_secs(5 * 60);
/// The most unknown `kid`s whose last refetch is remembered; when full, a new one waits.
const MAX_REFETCHED_KIDS: usize = 100;
/// How long 1.4.3 keeps a JWKS whose answer has no `Cache-Control: max-age` (the demo's choice).
const DEFAULT_JWKS_MAX_AGE: Duration = Duration::from_secs(60 * 60);
/// The longest 1.4.3 keeps a JWKS, whatever its `max-age` says.
const MAX_JWKS_MAX_AGE: Duration = Duration::from_secs(24 * 60 * 60);
/// SUP-5108 (bug): how many times 1.4.2 sends a failed token request, back to back.
const BUGGY_TOKEN_ATTEMPTS: u32 = 20;
/// SUP-5108 (fix): how many times 1.4.3 sends a token request that timed out or got a `5xx`.
const TOKEN_ATTEMPTS: u32 = 3;
/// SUP-5108 (fix): the wait before 1.4.3's first retry; it doubles for each further retry.
const TOKEN_BACKOFF: Duration = Duration::from_millis(250);
/// The message users see when 1.4.2 gives up on the token endpoint.
const TRY_AGAIN_LATER: &str = "try again later";

/// The OpenID Connect login of one process.
pub struct OidcLogin {
    settings: SsoSettings,
    /// `OIDC_ISSUER`: what discovery's `issuer` and the ID token's `iss` must equal.
    issuer: String,
    /// Where the discovery document is.
    discovery_url: String,
    client_id: String,
    client_secret: String,
    /// `{PUBLIC_URL}/auth/callback`.
    redirect_uri: String,
    http: reqwest::Client,
    /// The provider's endpoints, once discovery was read.
    endpoints: Mutex<Option<Endpoints>>,
    /// The signing keys, with when they were fetched.
    keys: Mutex<KeyCache>,
    /// Logins waiting for their callback, by `state`.
    pending: Mutex<Pending>,
}

/// The endpoints of the provider's discovery document.
#[derive(Clone, Debug)]
struct Endpoints {
    authorization: String,
    token: String,
    jwks: String,
}

/// A login between `start` and `callback`.
#[derive(Clone, Debug)]
struct PendingLogin {
    nonce: String,
    /// The PKCE `code_verifier` (RFC 7636 §4.1).
    verifier: String,
    started: Instant,
}

/// The logins waiting for their callback, by `state`; bounded in number and age.
#[derive(Default)]
struct Pending {
    by_state: HashMap<String, PendingLogin>,
}

impl Pending {
    /// Keeps `login` under `state`, first dropping expired logins and, when full, the oldest.
    fn insert(&mut self, state: String, login: PendingLogin, now: Instant) {
        self.by_state
            .retain(|_, kept| now.saturating_duration_since(kept.started) < PENDING_TTL);
        while self.by_state.len() >= MAX_PENDING {
            let oldest = self
                .by_state
                .iter()
                .min_by_key(|(_, kept)| kept.started)
                .map(|(state, _)| state.clone());
            match oldest {
                Some(oldest) => self.by_state.remove(&oldest),
                None => break,
            };
        }
        self.by_state.insert(state, login);
    }

    /// The login of `state`, once: `None` when unknown, already used or expired.
    fn take(&mut self, state: &str, now: Instant) -> Option<PendingLogin> {
        let login = self.by_state.remove(state)?;
        (now.saturating_duration_since(login.started) < PENDING_TTL).then_some(login)
    }
}

/// A public key of the JWKS.
#[derive(Clone, Debug, PartialEq, Eq)]
enum PublicKey {
    /// RSA: the modulus and exponent, big-endian (JWK `n`, `e`; RFC 7518 §6.3.1).
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// P-256: the uncompressed point `04 || x || y` (JWK `x`, `y`; RFC 7518 §6.2.1).
    P256 { point: Vec<u8> },
}

/// One usable key of a JWKS.
#[derive(Clone, Debug)]
struct Jwk {
    kid: Option<String>,
    key: PublicKey,
}

/// A JWKS as fetched.
#[derive(Clone, Debug)]
struct Jwks {
    keys: Vec<Jwk>,
    fetched: Instant,
    /// How long the answer may be kept (`Cache-Control: max-age`, else the default).
    max_age: Duration,
}

impl Jwks {
    fn key(&self, kid: &str) -> Option<&PublicKey> {
        self.keys
            .iter()
            .find(|jwk| jwk.kid.as_deref() == Some(kid))
            .map(|jwk| &jwk.key)
    }
}

/// The JWKS in use and when each unknown `kid` last made 1.4.3 refetch it.
#[derive(Default)]
struct KeyCache {
    jwks: Option<Jwks>,
    refetched: HashMap<String, Instant>,
}

impl KeyCache {
    /// Whether the JWKS must be fetched before looking up `kid`, as `release` decides; the
    /// reason, for the log. Records a refetch for an unknown `kid`.
    fn fetch_needed(&mut self, kid: &str, now: Instant, release: Release) -> Option<String> {
        let Some(jwks) = &self.jwks else {
            return Some("no keys yet".to_owned());
        };
        match release {
            // SUP-5101 (bug): 1.4.2 fetched the JWKS once and keeps it for the life of the
            // process: after the provider rotates its signing key, every token names a `kid`
            // it does not have, until someone restarts ledger-sync.
            Release::V1_4_2 => None,
            // SUP-5101 (fix): 1.4.3 keeps the JWKS only as long as its `Cache-Control: max-age`
            // allows, and refetches it for a `kid` it does not list, at most once per `kid` per
            // `KID_REFETCH_INTERVAL` (no window shared by all `kid`s: a rotation right after a
            // fetch is picked up at once).
            Release::V1_4_3 => {
                let age = now.saturating_duration_since(jwks.fetched);
                if age >= jwks.max_age {
                    return Some(format!(
                        "the keys are {}s old, past their max-age of {}s",
                        age.as_secs(),
                        jwks.max_age.as_secs()
                    ));
                }
                if jwks.key(kid).is_some() {
                    return None;
                }
                self.refetched
                    .retain(|_, at| now.saturating_duration_since(*at) < KID_REFETCH_INTERVAL);
                if self.refetched.contains_key(kid) {
                    log(format!(
                        "sign-in: unknown signing key `{}`: the keys were refetched for it less than {}s ago",
                        clip(kid),
                        KID_REFETCH_INTERVAL.as_secs()
                    ));
                    return None;
                }
                if self.refetched.len() >= MAX_REFETCHED_KIDS {
                    log(format!(
                        "sign-in: unknown signing key `{}`: {MAX_REFETCHED_KIDS} unknown keys were refetched for recently, not refetching",
                        clip(kid)
                    ));
                    return None;
                }
                self.refetched.insert(kid.to_owned(), now);
                Some(format!(
                    "the token names the unknown signing key `{}`",
                    clip(kid)
                ))
            }
        }
    }
}

/// What the token endpoint's failure was.
#[derive(Debug, PartialEq, Eq)]
enum TokenFailure {
    /// No answer: a timeout or a connection failure.
    Unreachable(String),
    /// An error answer, with the RFC 6749 §5.2 `error` and `error_description` when it had them.
    Refused {
        status: u16,
        error: Option<String>,
        description: Option<String>,
    },
    /// A success answer without a usable ID token.
    Unusable(String),
}

impl TokenFailure {
    /// SUP-5108 (fix): whether sending the same request again may succeed: a timeout, a
    /// connection failure, `429` or a `5xx`. An RFC 6749 §5.2 error (`invalid_client`,
    /// `invalid_grant`, …) says the request itself is wrong, and so does an unusable answer.
    fn is_transient(&self) -> bool {
        match self {
            TokenFailure::Unreachable(_) => true,
            TokenFailure::Refused { status, .. } => *status == 429 || *status >= 500,
            TokenFailure::Unusable(_) => false,
        }
    }

    /// One line for the log.
    fn describe(&self) -> String {
        match self {
            TokenFailure::Unreachable(reason) => reason.clone(),
            TokenFailure::Refused {
                status,
                error,
                description,
            } => {
                let mut line = status.to_string();
                if let Some(error) = error {
                    line.push(' ');
                    line.push_str(error);
                }
                if let Some(description) = description {
                    line.push_str(": ");
                    line.push_str(description);
                }
                line
            }
            TokenFailure::Unusable(reason) => reason.clone(),
        }
    }

    /// SUP-5108 (fix): what 1.4.3 shows, naming the provider's error and what to do.
    fn user_message(&self) -> String {
        match self {
            TokenFailure::Refused {
                error: Some(error),
                description,
                ..
            } => {
                let said = match description {
                    Some(description) => format!("{error}: {description}"),
                    None => error.clone(),
                };
                match error.as_str() {
                    "invalid_client" => format!(
                        "the identity provider refused ledger-sync's client credentials ({said}): OIDC_CLIENT_SECRET must be updated to the application's current client secret"
                    ),
                    "invalid_grant" => format!(
                        "the identity provider refused the sign-in code ({said}): start the sign-in again"
                    ),
                    _ => format!("the identity provider refused the token request ({said})"),
                }
            }
            TokenFailure::Refused { status, .. } => {
                format!("the identity provider's token endpoint answered {status}")
            }
            TokenFailure::Unreachable(reason) => {
                format!("the identity provider did not answer ({reason}): try again later")
            }
            TokenFailure::Unusable(reason) => reason.clone(),
        }
    }
}

/// What the ID token's claims must say.
struct Expected<'a> {
    issuer: &'a str,
    client_id: &'a str,
    nonce: &'a str,
}

/// A JWS in compact serialization, decoded but not yet verified.
#[derive(Debug)]
struct Jws {
    alg: Alg,
    kid: String,
    /// `BASE64URL(header) || '.' || BASE64URL(payload)`, what the signature covers.
    signing_input: String,
    signature: Vec<u8>,
    claims: Map<String, Value>,
}

/// The signature algorithms accepted (`alg: none`, HMAC and the rest are refused).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Alg {
    RS256,
    ES256,
}

impl OidcLogin {
    /// The login `OIDC_*` configures, `None` when `OIDC_ISSUER` is not set; a missing or
    /// invalid variable is an error.
    pub fn from_env(settings: &SsoSettings) -> Result<Option<OidcLogin>, String> {
        let var = |name: &str| {
            std::env::var(name)
                .ok()
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty())
        };
        let Some(issuer) = var("OIDC_ISSUER") else {
            return Ok(None);
        };
        check_url("OIDC_ISSUER", &issuer)?;
        let discovery_url = match var("OIDC_DISCOVERY_URL") {
            Some(url) => url,
            None => format!(
                "{}/.well-known/openid-configuration",
                issuer.trim_end_matches('/')
            ),
        };
        check_url("OIDC_DISCOVERY_URL", &discovery_url)?;
        let client_id =
            var("OIDC_CLIENT_ID").ok_or("OIDC_ISSUER is set but OIDC_CLIENT_ID is not")?;
        let client_secret = std::env::var("OIDC_CLIENT_SECRET")
            .ok()
            .filter(|secret| !secret.is_empty())
            .ok_or("OIDC_ISSUER is set but OIDC_CLIENT_SECRET is not")?;
        check_url("PUBLIC_URL", &settings.public_url)?;
        Ok(Some(OidcLogin {
            redirect_uri: format!("{}/auth/callback", settings.public_url),
            http: http_client(settings.timeout)?,
            settings: settings.clone(),
            issuer,
            discovery_url,
            client_id,
            client_secret,
            endpoints: Mutex::new(None),
            keys: Mutex::new(KeyCache::default()),
            pending: Mutex::new(Pending::default()),
        }))
    }

    /// `GET /login/oidc`: where to send the browser (the authorization endpoint with the
    /// request of OpenID Connect Core §3.1.2.1 and the PKCE challenge of RFC 7636 §4.3).
    pub async fn start(&self) -> Result<String, String> {
        let endpoints = self.endpoints().await?;
        let state = random_token("OAuth state")?;
        let nonce = random_token("OpenID Connect nonce")?;
        // 64 characters of [0-9a-f]: within RFC 7636 §4.1's 43 to 128 unreserved characters.
        let verifier = format!(
            "{}{}",
            random_token("PKCE verifier")?,
            random_token("PKCE verifier")?
        );
        let challenge = URL_SAFE_NO_PAD.encode(ring::digest::digest(
            &ring::digest::SHA256,
            verifier.as_bytes(),
        ));
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.client_id)
            .append_pair("redirect_uri", &self.redirect_uri)
            .append_pair("scope", SCOPE)
            .append_pair("state", &state)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256")
            .finish();
        self.pending.lock().await.insert(
            state,
            PendingLogin {
                nonce,
                verifier,
                started: Instant::now(),
            },
            Instant::now(),
        );
        let separator = if endpoints.authorization.contains('?') {
            '&'
        } else {
            '?'
        };
        log(format!(
            "sign-in: OpenID Connect login started, to {}",
            endpoints.authorization
        ));
        Ok(format!("{}{separator}{query}", endpoints.authorization))
    }

    /// `GET /auth/callback?QUERY`: who signed in, or why not.
    pub async fn callback(&self, query: &str) -> Result<String, String> {
        let params: HashMap<String, String> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let state = params
            .get("state")
            .ok_or("the identity provider's answer has no `state`")?;
        let login = self
            .pending
            .lock()
            .await
            .take(state, Instant::now())
            .ok_or("unknown or expired sign-in (`state` is not one of a login started in the last 10 minutes): start the sign-in again")?;
        if let Some(error) = params.get("error") {
            return Err(match params.get("error_description") {
                Some(description) => format!(
                    "the identity provider answered {}: {}",
                    clip(error),
                    clip(description)
                ),
                None => format!("the identity provider answered {}", clip(error)),
            });
        }
        let code = params
            .get("code")
            .filter(|code| !code.is_empty())
            .ok_or("the identity provider's answer has no `code`")?;
        let endpoints = self.endpoints().await?;
        let id_token = self.redeem(&endpoints, code, &login.verifier).await?;
        let jws = parse_jws(&id_token)?;
        let key = self.signing_key(&endpoints, &jws.kid).await?;
        verify_signature(&jws, &key)?;
        let expected = Expected {
            issuer: &self.issuer,
            client_id: &self.client_id,
            nonce: &login.nonce,
        };
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        check_claims(&jws.claims, &expected, now, self.settings.release)
    }

    /// The endpoints of the discovery document, fetched the first time they are needed
    /// (OpenID Connect Discovery 1.0 §4; its `issuer` must be `OIDC_ISSUER`, §4.3).
    async fn endpoints(&self) -> Result<Endpoints, String> {
        let mut endpoints = self.endpoints.lock().await;
        if let Some(known) = endpoints.as_ref() {
            return Ok(known.clone());
        }
        let (status, body, _) = self.get(&self.discovery_url).await?;
        log(format!(
            "sign-in: GET {} -> {}",
            self.discovery_url,
            status.as_u16()
        ));
        if !status.is_success() {
            return Err(format!(
                "the identity provider's discovery document answered {}",
                status.as_u16()
            ));
        }
        let document: Value = serde_json::from_slice(&body)
            .map_err(|_| "the identity provider's discovery document is not JSON".to_owned())?;
        let field = |name: &str| -> Result<String, String> {
            let value = document
                .get(name)
                .and_then(Value::as_str)
                .ok_or_else(|| format!("the discovery document has no `{name}`"))?;
            Ok(value.to_owned())
        };
        let issuer = field("issuer")?;
        if issuer != self.issuer {
            return Err(format!(
                "the discovery document names the issuer `{}`, not OIDC_ISSUER `{}`",
                clip(&issuer),
                self.issuer
            ));
        }
        let found = Endpoints {
            authorization: field("authorization_endpoint")?,
            token: field("token_endpoint")?,
            jwks: field("jwks_uri")?,
        };
        for (name, url) in [
            ("authorization_endpoint", &found.authorization),
            ("token_endpoint", &found.token),
            ("jwks_uri", &found.jwks),
        ] {
            check_url(name, url)
                .map_err(|reason| format!("the discovery document's {}", clip(&reason)))?;
        }
        *endpoints = Some(found.clone());
        Ok(found)
    }

    /// The public key of `kid`, from the JWKS as the release keeps it (SUP-5101).
    async fn signing_key(&self, endpoints: &Endpoints, kid: &str) -> Result<PublicKey, String> {
        let mut cache = self.keys.lock().await;
        let now = Instant::now();
        if let Some(reason) = cache.fetch_needed(kid, now, self.settings.release) {
            log(format!("sign-in: fetching the signing keys: {reason}"));
            cache.jwks = Some(self.fetch_jwks(&endpoints.jwks).await?);
        }
        cache
            .jwks
            .as_ref()
            .and_then(|jwks| jwks.key(kid))
            .cloned()
            .ok_or_else(|| {
                format!(
                    "no signing key `{}` in the identity provider's keys",
                    clip(kid)
                )
            })
    }

    /// `GET jwks_uri`: the usable keys and how long they may be kept.
    async fn fetch_jwks(&self, url: &str) -> Result<Jwks, String> {
        let (status, body, cache_control) = self.get(url).await?;
        log(format!("sign-in: GET {url} -> {}", status.as_u16()));
        if !status.is_success() {
            return Err(format!(
                "the identity provider's keys answered {}",
                status.as_u16()
            ));
        }
        let keys = parse_jwks(&body)?;
        let max_age = cache_control
            .as_deref()
            .and_then(max_age)
            .unwrap_or(DEFAULT_JWKS_MAX_AGE)
            .min(MAX_JWKS_MAX_AGE);
        let kids: Vec<&str> = keys.iter().filter_map(|jwk| jwk.kid.as_deref()).collect();
        log(format!(
            "sign-in: signing keys [{}], kept up to {}s",
            clip(&kids.join(", ")),
            max_age.as_secs()
        ));
        Ok(Jwks {
            keys,
            fetched: Instant::now(),
            max_age,
        })
    }

    /// The authorization code exchanged for the ID token, with the release's retries (SUP-5108).
    async fn redeem(
        &self,
        endpoints: &Endpoints,
        code: &str,
        verifier: &str,
    ) -> Result<String, String> {
        let attempts = match self.settings.release {
            Release::V1_4_2 => BUGGY_TOKEN_ATTEMPTS,
            Release::V1_4_3 => TOKEN_ATTEMPTS,
        };
        let mut backoff = TOKEN_BACKOFF;
        for attempt in 1..=attempts {
            let failure = match self.token_request(endpoints, code, verifier).await {
                Ok(id_token) => return Ok(id_token),
                Err(failure) => failure,
            };
            log(format!(
                "sign-in: token request failed: {} (attempt {attempt} of {attempts})",
                failure.describe()
            ));
            match self.settings.release {
                // SUP-5108 (bug): 1.4.2 takes every failure for a passing one and sends the
                // same request again at once; a rotated client secret gets `invalid_client`
                // twenty times and the user "try again later", which never helps.
                Release::V1_4_2 => {
                    if attempt == attempts {
                        return Err(TRY_AGAIN_LATER.to_owned());
                    }
                }
                // SUP-5108 (fix): 1.4.3 retries only what may pass (a timeout, `429`, `5xx`),
                // with backoff, and shows a refusal at once with the provider's error.
                Release::V1_4_3 => {
                    if !failure.is_transient() || attempt == attempts {
                        return Err(failure.user_message());
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = backoff.saturating_mul(2);
                }
            }
        }
        Err(TRY_AGAIN_LATER.to_owned())
    }

    /// One `authorization_code` token request (RFC 6749 §4.1.3, RFC 7636 §4.5) with
    /// `client_secret_basic`: the ID token of a success.
    async fn token_request(
        &self,
        endpoints: &Endpoints,
        code: &str,
        verifier: &str,
    ) -> Result<String, TokenFailure> {
        let form = form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "authorization_code")
            .append_pair("code", code)
            .append_pair("redirect_uri", &self.redirect_uri)
            .append_pair("code_verifier", verifier)
            .finish();
        let authorization =
            HeaderValue::from_str(&basic_authorization(&self.client_id, &self.client_secret))
                .map_err(|_| {
                    TokenFailure::Unusable("the client credentials cannot be sent".to_owned())
                })?;
        let response = self
            .http
            .post(&endpoints.token)
            .header(AUTHORIZATION, authorization)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .map_err(|error| TokenFailure::Unreachable(transport_message(&error)))?;
        let status = response.status();
        let body = read_limited(response)
            .await
            .map_err(TokenFailure::Unreachable)?;
        log(format!(
            "sign-in: POST {} -> {}",
            endpoints.token,
            status.as_u16()
        ));
        let json: Option<Value> = serde_json::from_slice(&body).ok();
        if !status.is_success() {
            let text = |name: &str| {
                json.as_ref()
                    .and_then(|json| json.get(name))
                    .and_then(Value::as_str)
                    .map(first_line)
            };
            return Err(TokenFailure::Refused {
                status: status.as_u16(),
                error: text("error"),
                description: text("error_description"),
            });
        }
        json.as_ref()
            .and_then(|json| json.get("id_token"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| {
                TokenFailure::Unusable("the token endpoint's answer has no `id_token`".to_owned())
            })
    }

    /// `GET url`: the status, the body (at most [`MAX_BODY_BYTES`]) and `Cache-Control`.
    async fn get(&self, url: &str) -> Result<(StatusCode, bytes::Bytes, Option<String>), String> {
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|error| format!("GET {url} failed: {}", transport_message(&error)))?;
        let status = response.status();
        let cache_control = response
            .headers()
            .get(CACHE_CONTROL)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let body = read_limited(response)
            .await
            .map_err(|reason| format!("GET {url} failed: {reason}"))?;
        Ok((status, body, cache_control))
    }
}

/// `name` must be an absolute `http` or `https` URL.
fn check_url(name: &str, url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(rest)
            if !rest.is_empty()
                && !rest.starts_with('/')
                && !url.contains(|ch: char| ch.is_whitespace() || ch.is_control()) =>
        {
            Ok(())
        }
        _ => Err(format!(
            "{name} `{}` is not an http:// or https:// URL",
            clip(url)
        )),
    }
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))`: RFC 6749 §2.3.1 form-encodes both
/// before Basic authentication (a secret with `:` or `+` would otherwise be misread).
fn basic_authorization(client_id: &str, client_secret: &str) -> String {
    let encode = |text: &str| form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", encode(client_id), encode(client_secret)))
    )
}

/// `max-age=N` of a `Cache-Control` value; `no-store`/`no-cache` mean zero.
fn max_age(cache_control: &str) -> Option<Duration> {
    let directives: Vec<String> = cache_control
        .split(',')
        .map(|directive| directive.trim().to_ascii_lowercase())
        .collect();
    if directives
        .iter()
        .any(|directive| directive == "no-store" || directive == "no-cache")
    {
        return Some(Duration::ZERO);
    }
    directives.iter().find_map(|directive| {
        let seconds = directive.strip_prefix("max-age=")?;
        seconds
            .trim_matches('"')
            .parse::<u64>()
            .ok()
            .map(Duration::from_secs)
    })
}

/// The keys of a JWKS (RFC 7517 §5) this login can use: RSA and P-256 signing keys. Others
/// (encryption keys, other curves, malformed members) are skipped.
fn parse_jwks(body: &[u8]) -> Result<Vec<Jwk>, String> {
    let document: Value = serde_json::from_slice(body)
        .map_err(|_| "the identity provider's keys are not JSON".to_owned())?;
    let keys = document
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("the identity provider's keys have no `keys` array")?;
    Ok(keys.iter().filter_map(parse_jwk).collect())
}

/// One JWK, if it is a usable signing key.
fn parse_jwk(jwk: &Value) -> Option<Jwk> {
    let text = |name: &str| jwk.get(name).and_then(Value::as_str);
    let bytes = |name: &str| text(name).and_then(|value| URL_SAFE_NO_PAD.decode(value).ok());
    if text("use").is_some_and(|usage| usage != "sig") {
        return None;
    }
    let key = match (text("kty")?, text("alg")) {
        ("RSA", None | Some("RS256")) => PublicKey::Rsa {
            n: bytes("n")?,
            e: bytes("e")?,
        },
        ("EC", None | Some("ES256")) if text("crv") == Some("P-256") => {
            let (x, y) = (bytes("x")?, bytes("y")?);
            if x.len() != 32 || y.len() != 32 {
                return None;
            }
            let mut point = Vec::with_capacity(65);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            PublicKey::P256 { point }
        }
        _ => return None,
    };
    Some(Jwk {
        kid: text("kid").map(str::to_owned),
        key,
    })
}

/// Decodes a compact JWS (RFC 7515 §7.1) whose header names `RS256` or `ES256` and a `kid`.
fn parse_jws(token: &str) -> Result<Jws, String> {
    if token.len() > MAX_ID_TOKEN_BYTES {
        return Err(format!(
            "the ID token is longer than {MAX_ID_TOKEN_BYTES} bytes"
        ));
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("the ID token is not a JWS (three parts separated by `.`)".to_owned());
    };
    let decode_json = |part: &str, what: &str| -> Result<Map<String, Value>, String> {
        let bytes = URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| format!("the ID token's {what} is not base64url"))?;
        match serde_json::from_slice(&bytes) {
            Ok(Value::Object(object)) => Ok(object),
            _ => Err(format!("the ID token's {what} is not a JSON object")),
        }
    };
    let header_json = decode_json(header, "header")?;
    let alg = match header_json.get("alg").and_then(Value::as_str) {
        Some("RS256") => Alg::RS256,
        Some("ES256") => Alg::ES256,
        Some(other) => {
            return Err(format!(
                "the ID token is signed with `{}`: only RS256 and ES256 are accepted",
                clip(other)
            ));
        }
        None => return Err("the ID token's header has no `alg`".to_owned()),
    };
    let kid = header_json
        .get("kid")
        .and_then(Value::as_str)
        .ok_or("the ID token's header has no `kid`")?
        .to_owned();
    let claims = decode_json(payload, "payload")?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| "the ID token's signature is not base64url".to_owned())?;
    Ok(Jws {
        alg,
        kid,
        signing_input: format!("{header}.{payload}"),
        signature,
        claims,
    })
}

/// Verifies the JWS signature with `key` (RFC 7518 §3.3 RS256, §3.4 ES256 as `r || s`).
fn verify_signature(jws: &Jws, key: &PublicKey) -> Result<(), String> {
    let message = jws.signing_input.as_bytes();
    let verified = match (jws.alg, key) {
        (Alg::RS256, PublicKey::Rsa { n, e }) => ring::signature::RsaPublicKeyComponents { n, e }
            .verify(
                &ring::signature::RSA_PKCS1_2048_8192_SHA256,
                message,
                &jws.signature,
            ),
        (Alg::ES256, PublicKey::P256 { point }) => ring::signature::UnparsedPublicKey::new(
            &ring::signature::ECDSA_P256_SHA256_FIXED,
            point,
        )
        .verify(message, &jws.signature),
        _ => {
            return Err(format!(
                "the ID token's alg {:?} does not match the type of key `{}`",
                jws.alg,
                clip(&jws.kid)
            ));
        }
    };
    verified.map_err(|_| {
        format!(
            "the ID token's signature does not verify with key `{}`",
            clip(&jws.kid)
        )
    })
}

/// Checks the ID token's claims (OpenID Connect Core §3.1.3.7) at `now` (Unix seconds, this
/// server's clock) with the release's leeway (SUP-5115); the user: `email`, else `sub`.
fn check_claims(
    claims: &Map<String, Value>,
    expected: &Expected<'_>,
    now: i64,
    release: Release,
) -> Result<String, String> {
    let iss = claims.get("iss").and_then(Value::as_str).unwrap_or("");
    if iss != expected.issuer {
        return Err(format!(
            "the ID token's issuer `{}` is not OIDC_ISSUER `{}`",
            clip(iss),
            expected.issuer
        ));
    }
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(aud)) => vec![aud.as_str()],
        Some(Value::Array(auds)) => auds.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !audiences.contains(&expected.client_id) {
        return Err(format!(
            "the ID token's audience {:?} does not name the client `{}`",
            audiences.iter().map(|aud| clip(aud)).collect::<Vec<_>>(),
            expected.client_id
        ));
    }
    if audiences.len() > 1 && claims.get("azp").and_then(Value::as_str) != Some(expected.client_id)
    {
        return Err(format!(
            "the ID token has several audiences and its `azp` is not the client `{}`",
            expected.client_id
        ));
    }
    let time = |name: &str| claims.get(name).and_then(Value::as_f64).map(|at| at as i64);
    let exp = time("exp").ok_or("the ID token has no `exp`")?;
    let iat = time("iat").ok_or("the ID token has no `iat`")?;
    let nbf = time("nbf");
    let leeway = match release {
        // SUP-5115 (bug): 1.4.2 compares the token's times with its own clock exactly, so an
        // identity provider whose clock runs ahead issues tokens that are "not valid yet".
        Release::V1_4_2 => 0,
        // SUP-5115 (fix): 1.4.3 allows a bounded skew either way and logs both clocks.
        Release::V1_4_3 => {
            log(format!(
                "sign-in: ID token issued at {} by the identity provider's clock, {} by ours (skew {:+}s, {CLOCK_SKEW_SECONDS}s allowed)",
                format_time(iat),
                format_time(now),
                iat.saturating_sub(now)
            ));
            CLOCK_SKEW_SECONDS
        }
    };
    // The page names the claim and the leeway; the times (which differ on every login) go to
    // the log with both clocks.
    let refuse_time = |claim: &str, at: i64, reason: &str| {
        log(format!(
            "sign-in: ID token {claim} {} against our clock {} ({:+}s, {leeway}s allowed)",
            format_time(at),
            format_time(now),
            at.saturating_sub(now)
        ));
        Err(format!(
            "the ID token {reason} this server's clock ({leeway}s of clock skew allowed)"
        ))
    };
    if now >= exp.saturating_add(leeway) {
        return refuse_time("exp", exp, "has expired: its `exp` is behind");
    }
    if let Some(nbf) = nbf
        && now.saturating_add(leeway) < nbf
    {
        return refuse_time("nbf", nbf, "is not valid yet: its `nbf` is ahead of");
    }
    if now.saturating_add(leeway) < iat {
        return refuse_time("iat", iat, "is issued in the future: its `iat` is ahead of");
    }
    if claims.get("nonce").and_then(Value::as_str) != Some(expected.nonce) {
        return Err("the ID token's `nonce` is not the one of this sign-in".to_owned());
    }
    let user = ["email", "sub"]
        .iter()
        .find_map(|name| claims.get(*name).and_then(Value::as_str))
        .filter(|user| !user.trim().is_empty())
        .ok_or("the ID token has neither `email` nor `sub`")?;
    Ok(clip(user))
}

/// Unix seconds as RFC 3339, for messages (the number itself when out of range).
fn format_time(seconds: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|at| {
            at.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| seconds.to_string())
}

/// The first line of a provider's text (Entra appends trace and correlation ids on more lines).
fn first_line(text: &str) -> String {
    clip(text.lines().next().unwrap_or_default().trim())
}

/// `text` on one line (control characters as spaces), cut to 300 characters: what a provider
/// or a token says goes on a page and in the log, one line per event.
fn clip(text: &str) -> String {
    const MAX_CHARS: usize = 300;
    let line: String = text
        .chars()
        .map(|ch| if ch.is_control() { ' ' } else { ch })
        .collect();
    match line.char_indices().nth(MAX_CHARS) {
        Some((end, _)) => format!("{}…", &line[..end]),
        None => line,
    }
}

/// Why a request got no answer: a timeout or the error's chain of causes.
fn transport_message(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        return "no answer in time".to_owned();
    }
    let mut message = "unreachable".to_owned();
    let mut cause: Option<&dyn std::error::Error> = Some(error);
    while let Some(current) = cause {
        message.push_str(": ");
        message.push_str(&current.to_string());
        cause = current.source();
    }
    message
}

/// The response body, at most [`MAX_BODY_BYTES`].
async fn read_limited(mut response: reqwest::Response) -> Result<bytes::Bytes, String> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|error| transport_message(&error))?
    {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(format!("the answer is larger than {MAX_BODY_BYTES} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(bytes::Bytes::from(body))
}

#[cfg(test)]
mod tests {
    //! Tests of the relying party's checks: JWS signatures (RS256 with the fake provider's
    //! built-in test key, ES256 with a generated one), the ID token's claims on both releases,
    //! the key cache's refetches (SUP-5101) and the token endpoint's retry classification
    //! (SUP-5108).

    use super::*;
    use ring::rand::SystemRandom;
    use ring::signature::{EcdsaKeyPair, KeyPair as _, RsaKeyPair};
    use serde_json::json;

    /// The fake provider's built-in test keys (public on purpose, not secrets).
    const RSA_1: &str = include_str!("../../src/mock/providers/keys/oidc-rsa-1.pem");
    const RSA_2: &str = include_str!("../../src/mock/providers/keys/oidc-rsa-2.pem");

    /// The DER of a PEM `PRIVATE KEY` block.
    fn pkcs8(pem: &str) -> Vec<u8> {
        let body: String = pem
            .lines()
            .skip_while(|line| !line.starts_with("-----BEGIN PRIVATE KEY-----"))
            .skip(1)
            .take_while(|line| !line.starts_with("-----END"))
            .collect();
        STANDARD.decode(body).expect("a PEM body")
    }

    fn rsa(pem: &str) -> RsaKeyPair {
        RsaKeyPair::from_pkcs8(&pkcs8(pem)).expect("an RSA PKCS#8 key")
    }

    fn rsa_public(key: &RsaKeyPair) -> PublicKey {
        let public = ring::rsa::PublicKeyComponents::<Vec<u8>>::from(key.public());
        PublicKey::Rsa {
            n: public.n,
            e: public.e,
        }
    }

    fn b64(json: &Value) -> String {
        URL_SAFE_NO_PAD.encode(json.to_string())
    }

    fn signed_rs256(key: &RsaKeyPair, kid: &str, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            b64(&json!({"alg": "RS256", "typ": "JWT", "kid": kid})),
            b64(claims)
        );
        let mut signature = vec![0; key.public().modulus_len()];
        key.sign(
            &ring::signature::RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            input.as_bytes(),
            &mut signature,
        )
        .expect("signs");
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    fn claims_at(iat: i64) -> Value {
        json!({
            "iss": "https://acme.okta.com/oauth2/default",
            "aud": "ledger-sync",
            "sub": "alice",
            "email": "alice@acme.test",
            "iat": iat,
            "nbf": iat,
            "exp": iat + 3600,
            "nonce": "n-1",
        })
    }

    const EXPECTED: Expected<'static> = Expected {
        issuer: "https://acme.okta.com/oauth2/default",
        client_id: "ledger-sync",
        nonce: "n-1",
    };

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(object) => object,
            _ => panic!("an object"),
        }
    }

    #[test]
    fn rs256_verifies_with_its_key_and_not_with_another() {
        let (key_1, key_2) = (rsa(RSA_1), rsa(RSA_2));
        let token = signed_rs256(&key_1, "reenact-rs256-1", &claims_at(1_800_000_000));
        let jws = parse_jws(&token).expect("a JWS");
        assert_eq!((jws.alg, jws.kid.as_str()), (Alg::RS256, "reenact-rs256-1"));
        assert_eq!(verify_signature(&jws, &rsa_public(&key_1)), Ok(()));
        assert_eq!(
            verify_signature(&jws, &rsa_public(&key_2)),
            Err("the ID token's signature does not verify with key `reenact-rs256-1`".to_owned())
        );
        // A claim changed after signing breaks the signature.
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut claims = claims_at(1_800_000_000);
        claims["email"] = json!("mallory@acme.test");
        parts[1] = b64(&claims);
        let tampered = parse_jws(&parts.join(".")).expect("still a JWS");
        assert!(verify_signature(&tampered, &rsa_public(&key_1)).is_err());
    }

    #[test]
    fn es256_verifies_through_its_jwk_coordinates() {
        let random = SystemRandom::new();
        let signing = &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING;
        let document = EcdsaKeyPair::generate_pkcs8(signing, &random).expect("a P-256 key");
        let key = EcdsaKeyPair::from_pkcs8(signing, document.as_ref(), &random).expect("parses");
        let point = key.public_key().as_ref();
        let jwk = json!({
            "kty": "EC", "crv": "P-256", "kid": "ec-1", "use": "sig", "alg": "ES256",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..]),
        });
        let keys = parse_jwks(json!({ "keys": [jwk] }).to_string().as_bytes()).expect("a JWKS");
        assert_eq!(keys.len(), 1);
        let input = format!(
            "{}.{}",
            b64(&json!({"alg": "ES256", "kid": "ec-1"})),
            b64(&claims_at(1_800_000_000))
        );
        let signature = key.sign(&random, input.as_bytes()).expect("signs");
        let token = format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()));
        let jws = parse_jws(&token).expect("a JWS");
        assert_eq!(verify_signature(&jws, &keys[0].key), Ok(()));
        // An RSA key under that kid is refused as the wrong type, not tried.
        assert!(verify_signature(&jws, &rsa_public(&rsa(RSA_1))).is_err());
    }

    #[test]
    fn alg_none_and_hmac_are_refused_before_any_key_is_looked_up() {
        for alg in ["none", "HS256", "RS512"] {
            let token = format!(
                "{}.{}.",
                b64(&json!({"alg": alg, "kid": "reenact-rs256-1"})),
                b64(&claims_at(1_800_000_000))
            );
            let error = parse_jws(&token).expect_err("refused");
            assert!(error.contains(&format!("`{alg}`")), "{error}");
        }
        assert!(parse_jws("a.b").is_err());
        assert!(parse_jws("!!.??.xx").is_err());
        let no_kid = format!("{}.{}.", b64(&json!({"alg": "RS256"})), b64(&json!({})));
        assert_eq!(
            parse_jws(&no_kid).map(|_| ()),
            Err("the ID token's header has no `kid`".to_owned())
        );
    }

    #[test]
    fn jwks_keys_are_found_by_kid_and_unusable_ones_skipped() {
        let key = rsa(RSA_1);
        let PublicKey::Rsa { n, e } = rsa_public(&key) else {
            panic!("RSA");
        };
        let body = json!({ "keys": [
            { "kty": "RSA", "kid": "reenact-rs256-1", "use": "sig", "alg": "RS256",
              "n": URL_SAFE_NO_PAD.encode(&n), "e": URL_SAFE_NO_PAD.encode(&e) },
            { "kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB" },
            { "kty": "oct", "kid": "hmac", "k": "c2VjcmV0" },
            { "kty": "EC", "kid": "short", "crv": "P-256", "x": "AQAB", "y": "AQAB" },
        ]});
        let jwks = Jwks {
            keys: parse_jwks(body.to_string().as_bytes()).expect("a JWKS"),
            fetched: Instant::now(),
            max_age: DEFAULT_JWKS_MAX_AGE,
        };
        assert_eq!(jwks.keys.len(), 1);
        assert_eq!(jwks.key("reenact-rs256-1"), Some(&rsa_public(&key)));
        assert_eq!(jwks.key("reenact-rs256-2"), None);
        assert!(parse_jwks(b"[]").is_err());
        assert!(parse_jwks(b"not json").is_err());
    }

    #[test]
    fn sup_5101_only_1_4_3_refetches_for_an_unknown_kid_once_per_interval() {
        let start = Instant::now();
        let cache = |max_age| KeyCache {
            jwks: Some(Jwks {
                keys: vec![Jwk {
                    kid: Some("reenact-rs256-1".to_owned()),
                    key: PublicKey::P256 { point: vec![4] },
                }],
                fetched: start,
                max_age,
            }),
            refetched: HashMap::new(),
        };
        let day = Duration::from_secs(86_400);
        let mut old = cache(day);
        assert_eq!(
            old.fetch_needed("reenact-rs256-2", start, Release::V1_4_2),
            None
        );
        assert_eq!(
            old.fetch_needed("reenact-rs256-2", start + 2 * day, Release::V1_4_2),
            None,
            "1.4.2 keeps its keys forever"
        );
        let mut new = cache(day);
        assert_eq!(
            new.fetch_needed("reenact-rs256-1", start, Release::V1_4_3),
            None
        );
        assert!(
            new.fetch_needed("reenact-rs256-2", start, Release::V1_4_3)
                .is_some()
        );
        let later = start + Duration::from_secs(60);
        assert_eq!(
            new.fetch_needed("reenact-rs256-2", later, Release::V1_4_3),
            None,
            "one refetch per kid per interval"
        );
        assert!(new.fetch_needed("other", later, Release::V1_4_3).is_some());
        let after = start + KID_REFETCH_INTERVAL + Duration::from_secs(1);
        assert!(
            new.fetch_needed("reenact-rs256-2", after, Release::V1_4_3)
                .is_some()
        );
        // max-age: a known kid is refetched once the keys are older than it.
        let mut short = cache(Duration::from_secs(30));
        let stale = start + Duration::from_secs(31);
        assert!(
            short
                .fetch_needed("reenact-rs256-1", stale, Release::V1_4_3)
                .is_some()
        );
        assert_eq!(
            short.fetch_needed("reenact-rs256-1", stale, Release::V1_4_2),
            None
        );
        let mut empty = KeyCache::default();
        assert!(empty.fetch_needed("any", start, Release::V1_4_2).is_some());
    }

    #[test]
    fn cache_control_max_age_is_read() {
        let cases = [
            ("public, max-age=86400", Some(86_400)),
            ("max-age=300, must-revalidate", Some(300)),
            ("no-store", Some(0)),
            ("public", None),
            ("max-age=soon", None),
        ];
        for (header, expected) in cases {
            assert_eq!(
                max_age(header),
                expected.map(Duration::from_secs),
                "{header}"
            );
        }
    }

    #[test]
    fn sup_5115_1_4_2_refuses_a_token_from_a_clock_90s_ahead_and_1_4_3_allows_5_minutes() {
        let now = 1_800_000_000;
        let ahead = object(claims_at(now + 90));
        let error = check_claims(&ahead, &EXPECTED, now, Release::V1_4_2).expect_err("refused");
        assert_eq!(
            error,
            "the ID token is not valid yet: its `nbf` is ahead of this server's clock (0s of clock skew allowed)"
        );
        assert_eq!(
            check_claims(&ahead, &EXPECTED, now, Release::V1_4_3),
            Ok("alice@acme.test".to_owned())
        );
        let far = object(claims_at(now + 301));
        assert!(check_claims(&far, &EXPECTED, now, Release::V1_4_3).is_err());
        let mut late_iat = claims_at(now);
        late_iat["iat"] = json!(now + 10);
        let late_iat = object(late_iat);
        assert!(
            check_claims(&late_iat, &EXPECTED, now, Release::V1_4_2)
                .expect_err("iat in the future")
                .contains("issued in the future")
        );
        // Expired: refused from exp on with no leeway, from exp + 300s with it.
        let expired = object(claims_at(now - 3600));
        assert!(check_claims(&expired, &EXPECTED, now, Release::V1_4_2).is_err());
        assert!(check_claims(&expired, &EXPECTED, now, Release::V1_4_3).is_ok());
        let expired = object(claims_at(now - 3600 - 300));
        assert!(
            check_claims(&expired, &EXPECTED, now, Release::V1_4_3)
                .expect_err("expired")
                .starts_with("the ID token has expired")
        );
    }

    #[test]
    fn issuer_audience_nonce_and_user_are_checked_on_both_releases() {
        let now = 1_800_000_000;
        let bent = |change: &dyn Fn(&mut Value)| {
            let mut claims = claims_at(now);
            change(&mut claims);
            object(claims)
        };
        let refusals = [
            bent(&|claims| claims["iss"] = json!("https://evil.test")),
            bent(&|claims| claims["aud"] = json!("another-app")),
            bent(&|claims| claims["aud"] = json!(["ledger-sync", "another-app"])),
            bent(&|claims| claims["nonce"] = json!("n-2")),
            bent(&|claims| {
                claims.as_object_mut().map(|claims| claims.remove("nonce"));
            }),
            bent(&|claims| {
                claims.as_object_mut().map(|claims| claims.remove("exp"));
            }),
            bent(&|claims| claims["exp"] = json!("tomorrow")),
        ];
        for release in Release::ALL {
            for claims in &refusals {
                assert!(
                    check_claims(claims, &EXPECTED, now, release).is_err(),
                    "{release}: {claims:?}"
                );
            }
            let with_azp = bent(&|claims| {
                claims["aud"] = json!(["ledger-sync", "another-app"]);
                claims["azp"] = json!("ledger-sync");
            });
            assert!(check_claims(&with_azp, &EXPECTED, now, release).is_ok());
            let no_email = bent(&|claims| {
                claims.as_object_mut().map(|claims| claims.remove("email"));
            });
            assert_eq!(
                check_claims(&no_email, &EXPECTED, now, release),
                Ok("alice".to_owned())
            );
        }
    }

    #[test]
    fn sup_5108_only_timeouts_429_and_5xx_are_worth_retrying() {
        let refused = |status: u16, error: Option<&str>| TokenFailure::Refused {
            status,
            error: error.map(str::to_owned),
            description: None,
        };
        assert!(TokenFailure::Unreachable("no answer in time".to_owned()).is_transient());
        assert!(refused(503, None).is_transient());
        assert!(refused(500, Some("server_error")).is_transient());
        assert!(refused(429, None).is_transient());
        assert!(!refused(401, Some("invalid_client")).is_transient());
        assert!(!refused(400, Some("invalid_grant")).is_transient());
        assert!(!refused(400, Some("invalid_request")).is_transient());
        assert!(!TokenFailure::Unusable("no id_token".to_owned()).is_transient());
        let rotated = TokenFailure::Refused {
            status: 401,
            error: Some("invalid_client".to_owned()),
            description: Some(first_line(
                "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 1\r\nCorrelation ID: 2",
            )),
        };
        assert_eq!(
            rotated.user_message(),
            "the identity provider refused ledger-sync's client credentials (invalid_client: AADSTS7000215: Invalid client secret provided.): OIDC_CLIENT_SECRET must be updated to the application's current client secret"
        );
        assert_eq!(
            rotated.describe(),
            "401 invalid_client: AADSTS7000215: Invalid client secret provided."
        );
    }

    #[test]
    fn client_secret_basic_form_encodes_before_base64() {
        // RFC 6749 §2.3.1: `a b:c+d` is sent as `a+b%3Ac%2Bd`.
        let header = basic_authorization("ledger sync", "s3:cr+t");
        let encoded = header.strip_prefix("Basic ").expect("Basic");
        let decoded = STANDARD.decode(encoded).expect("base64");
        assert_eq!(decoded, b"ledger+sync:s3%3Acr%2Bt");
    }

    #[test]
    fn pending_logins_are_single_use_bounded_and_expire() {
        let start = Instant::now();
        let login = |started| PendingLogin {
            nonce: "n".to_owned(),
            verifier: "v".to_owned(),
            started,
        };
        let mut pending = Pending::default();
        pending.insert("s-1".to_owned(), login(start), start);
        assert!(pending.take("s-1", start).is_some());
        assert!(pending.take("s-1", start).is_none(), "single use");
        pending.insert("s-2".to_owned(), login(start), start);
        assert!(
            pending.take("s-2", start + PENDING_TTL).is_none(),
            "expired"
        );
        for n in 0..MAX_PENDING + 5 {
            let at = start + Duration::from_millis(n as u64);
            pending.insert(format!("s-{n}"), login(at), at);
        }
        assert_eq!(pending.by_state.len(), MAX_PENDING);
        assert!(
            pending
                .by_state
                .contains_key(&format!("s-{}", MAX_PENDING + 4))
        );
        assert!(
            !pending.by_state.contains_key("s-0"),
            "the oldest went first"
        );
    }

    #[test]
    fn what_a_provider_says_is_kept_to_one_short_line() {
        assert_eq!(clip("bad\r\nsign-in: forged"), "bad  sign-in: forged");
        assert_eq!(clip(&"é".repeat(301)), format!("{}…", "é".repeat(300)));
        assert_eq!(first_line("AADSTS1: x\r\nTrace ID: 2"), "AADSTS1: x");
    }

    #[test]
    fn urls_must_be_absolute_http() {
        assert!(check_url("OIDC_ISSUER", "https://acme.okta.com/oauth2/default").is_ok());
        assert!(check_url("OIDC_ISSUER", "http://127.0.0.1:8080").is_ok());
        for bad in [
            "acme.okta.com",
            "ftp://x",
            "https://",
            "https:///path",
            "https://a b",
            "https://a\u{1b}b",
        ] {
            assert!(check_url("OIDC_ISSUER", bad).is_err(), "{bad}");
        }
    }
}
