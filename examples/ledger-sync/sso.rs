//! Single sign-on to ledger-sync: people sign in through their company's identity provider,
//! by OpenID Connect (`oidc.rs`) or SAML 2.0 (`saml.rs`), and get a session cookie.
//!
//! [`Sso`] holds what both share: the URL people reach ledger-sync at (`PUBLIC_URL`, what the
//! identity provider redirects back to), the sessions, and the pages a browser sees. The login
//! protocols live in their modules; each answers "where to send the browser" to start and "who
//! signed in, or why not" at the end. Sign-in routes:
//!
//! - `GET /login/oidc` → `302` to the OpenID Provider; `GET /auth/callback?code&state` → `303` to
//!   `/home` with a session cookie, or `401` with the reason;
//! - `GET /login/saml` → `302` to the SAML IdP (HTTP-Redirect binding); `POST /saml/acs` (the
//!   HTTP-POST binding) → `303` to `/home` with a session cookie, or `401` with the reason;
//! - `GET /home` → `200` "Welcome, USER" with a session, else `401`.

use std::collections::HashMap;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{CONTENT_TYPE, HeaderValue, LOCATION, SET_COOKIE};
use hyper::{Response, StatusCode};
use tokio::sync::Mutex;

use crate::oidc::OidcLogin;
use crate::release::Release;
use crate::saml::SamlLogin;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "ledger_session";
/// The most sessions kept; the oldest go first (a demo, not a session store).
const MAX_SESSIONS: usize = 10_000;

type HttpResponse = Response<Full<Bytes>>;

/// What both login protocols are built from.
#[derive(Clone, Debug)]
pub struct SsoSettings {
    /// Where people reach ledger-sync (`PUBLIC_URL`), without a trailing `/`: the base of the
    /// OIDC redirect URI and the SAML ACS URL.
    pub public_url: String,
    /// Timeout of each call to the identity provider (`HTTP_TIMEOUT_MS`).
    pub timeout: std::time::Duration,
    /// The release whose behaviour to show.
    pub release: Release,
}

/// Sign-in: the configured protocols and the sessions they open.
pub struct Sso {
    pub oidc: Option<OidcLogin>,
    pub saml: Option<SamlLogin>,
    sessions: Mutex<Sessions>,
}

/// Session id → who signed in, oldest first.
#[derive(Default)]
struct Sessions {
    by_id: HashMap<String, String>,
    order: Vec<String>,
}

/// 128 random bits from the operating system (`ring`'s `SystemRandom`), as 32 hex digits: session
/// ids, OAuth `state`/`nonce`/PKCE verifiers and SAML request ids must be unguessable. Without
/// the OS's randomness the sign-in fails, naming `purpose`, rather than use a guessable value.
pub fn random_token(purpose: &str) -> Result<String, String> {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| format!("no system randomness for the {purpose}"))?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

impl Sso {
    pub fn new(oidc: Option<OidcLogin>, saml: Option<SamlLogin>) -> Sso {
        Sso {
            oidc,
            saml,
            sessions: Mutex::new(Sessions::default()),
        }
    }

    /// A session for `user`: `303` to `/home` with its cookie.
    async fn signed_in(&self, protocol: &str, user: &str) -> HttpResponse {
        let id = match random_token("session id") {
            Ok(id) => id,
            Err(reason) => return refused(protocol, &reason),
        };
        let mut sessions = self.sessions.lock().await;
        if sessions.order.len() >= MAX_SESSIONS {
            let oldest = sessions.order.remove(0);
            sessions.by_id.remove(&oldest);
        }
        sessions.by_id.insert(id.clone(), user.to_owned());
        sessions.order.push(id.clone());
        crate::log(format!("sign-in: {user} signed in"));
        let mut response = page(StatusCode::SEE_OTHER, "Signed in", "Signed in.");
        response
            .headers_mut()
            .insert(LOCATION, HeaderValue::from_static("/home"));
        if let Ok(cookie) = HeaderValue::from_str(&format!(
            "{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax"
        )) {
            response.headers_mut().insert(SET_COOKIE, cookie);
        }
        response
    }

    /// The end of a sign-in: a session for the user, or `401` with the reason.
    pub async fn finished(&self, protocol: &str, outcome: Result<String, String>) -> HttpResponse {
        match outcome {
            Ok(user) => self.signed_in(protocol, &user).await,
            Err(reason) => refused(protocol, &reason),
        }
    }

    /// `GET /home`: who is signed in, by the session cookie of `cookies` (a `Cookie` header).
    pub async fn home(&self, cookies: Option<&str>) -> HttpResponse {
        let id = cookies
            .into_iter()
            .flat_map(|header| header.split(';'))
            .find_map(|pair| {
                let (name, value) = pair.trim().split_once('=')?;
                (name == SESSION_COOKIE).then(|| value.to_owned())
            });
        let user = match id {
            Some(id) => self.sessions.lock().await.by_id.get(&id).cloned(),
            None => None,
        };
        match user {
            Some(user) => page(StatusCode::OK, "ledger-sync", &format!("Welcome, {user}")),
            None => page(StatusCode::UNAUTHORIZED, "Not signed in", "Not signed in."),
        }
    }
}

/// The start of a sign-in: `302` to where the browser signs in, or `401` with the reason.
pub fn started(protocol: &str, outcome: Result<String, String>) -> HttpResponse {
    match outcome {
        Ok(location) => redirect(&location),
        Err(reason) => refused(protocol, &reason),
    }
}

/// `302` to `location`, where the browser goes to sign in.
fn redirect(location: &str) -> HttpResponse {
    let mut response = page(StatusCode::FOUND, "Signing in", "Signing in…");
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, value);
    }
    response
}

/// A failed sign-in: `401` with the reason on the page (and in the log).
fn refused(protocol: &str, reason: &str) -> HttpResponse {
    crate::log(format!("sign-in: {protocol} login refused: {reason}"));
    page(
        StatusCode::UNAUTHORIZED,
        "Sign-in failed",
        &format!("Sign-in failed: {reason}"),
    )
}

/// A small HTML page with `message` (escaped).
pub fn page(status: StatusCode, title: &str, message: &str) -> HttpResponse {
    let body = format!(
        "<!DOCTYPE html><html><head><title>{}</title></head><body><p>{}</p></body></html>",
        escape(title),
        escape(message)
    );
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

/// `text` with the five HTML special characters escaped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}
