//! `with:` settings of `provider: oidc`, [`OidcSettings`] (documented in
//! `docs/providers/oidc.md`): the vendor profile and issuer, the registered clients, the users and
//! groups, the signing algorithm and key rotation, the IdP's clock, and per-claim overrides.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::SecretText;

/// `with:` settings of `provider: oidc` (documented in `docs/providers/oidc.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcSettings {
    /// Whose issuer format, lifetimes and error words the fake takes.
    pub profile: OidcProfile,
    /// The issuer the discovery document names (default: the profile's, else the mock's own
    /// `http://HOST` from the request's `Host`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The real tenant (`profile: entra`): tokens carry it in `iss` and `tid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// The Okta org's domain (`profile: okta`), e.g. `acme.okta.com`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// The registered clients (relying parties).
    pub clients: Vec<OidcClient>,
    /// The users who can sign in.
    pub users: Vec<OidcUser>,
    /// The groups users may belong to (a user's `groups` name only these).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// The `sub` of the user who signs in when the authorization request names none
    /// (`login_hint`); default: the first user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login: Option<String>,
    /// The signature algorithm of ID and access tokens.
    pub alg: SigningAlg,
    /// A signing-key rotation at a virtual time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation: Option<KeyRotation>,
    /// The IdP's clock: what its tokens' times are counted from.
    pub clock: IdpClock,
    /// Per-claim overrides and faults of the tokens signed.
    pub claims: ClaimOverrides,
    /// How long an access token lives (default 1 hour).
    pub access_lifetime: Duration,
    /// How long a refresh token lives unused (default: the profile's).
    pub refresh_lifetime: Duration,
    /// `Cache-Control: max-age` of the JWKS answer.
    pub jwks_max_age: Duration,
    /// The scenario's own signing keys (current, then next) instead of the built-in ones.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<OidcKey>,
}

/// A signing key a scenario supplies (`with.keys`): its `kid` and its PKCS#8 PEM, read from a
/// file inside the scenario root when the scenario is loaded. The PEM is a [`SecretText`], so a
/// log line or a parsed-scenario dump never shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcKey {
    /// The key's `kid` in the JWKS and in tokens' headers.
    pub kid: String,
    /// The private key, PEM `PRIVATE KEY` (PKCS#8).
    pub pem: SecretText,
}

/// A vendor whose formats the fake takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OidcProfile {
    /// A plain OpenID Provider: the issuer is the mock's own URL.
    Generic,
    /// Microsoft Entra ID (v2.0 endpoints, multi-tenant `{tenantid}` discovery issuer).
    Entra,
    /// Okta's default custom authorization server.
    Okta,
    /// Google's `https://accounts.google.com`.
    Google,
}

/// The JWS algorithm tokens are signed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SigningAlg {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// ECDSA P-256 with SHA-256.
    ES256,
}

/// One registered client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcClient {
    /// `client_id`.
    pub client_id: String,
    /// `client_secret`; a client without one is public (PKCE, no client authentication).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<SecretText>,
    /// The redirect URIs registered for it (exact match).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redirect_uris: Vec<String>,
    /// A single-page app: its refresh tokens end 24 hours after the sign-in.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub spa: bool,
}

/// One user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcUser {
    /// `sub`.
    pub sub: String,
    /// `email`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// `name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `groups`: declared groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// Extra claims of the user's ID token and userinfo.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub claims: Map<String, Value>,
}

/// `with.rotation`: the signing key changes at a virtual time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRotation {
    /// When tokens start being signed with the next key (RFC 3339, virtual clock).
    pub at: String,
    /// When the JWKS starts listing the next key (RFC 3339, virtual clock); default: always.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish_next_at: Option<String>,
}

/// `with.clock`: what the IdP's issuing time is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdpClock {
    /// The virtual clock of the run (default) or the machine's real clock.
    pub anchor: ClockAnchor,
    /// Seconds added to it (negative: the IdP is behind).
    pub offset_seconds: i64,
}

/// The clock an IdP's issuing time is anchored to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClockAnchor {
    /// The run's virtual clock.
    Virtual,
    /// The machine's real clock.
    Real,
}

/// `with.claims`: overrides of what the signed tokens say, each bending one rule.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimOverrides {
    /// `iss` of the tokens instead of the issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// `aud` of the ID token instead of the client id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    /// How long an ID token lives (`exp - iat`; default 1 hour).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifetime: Option<Duration>,
    /// Seconds `nbf` is after the issuing time (negative: before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf_offset_seconds: Option<i64>,
    /// Seconds `iat` is after the issuing time (negative: before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat_offset_seconds: Option<i64>,
    /// `tid` of the tokens instead of the tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tid: Option<String>,
    /// `nonce` of the ID token instead of the one the client sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// The JWS header's `kid` instead of the signing key's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// Sign with a key the JWKS never lists, under the signing key's `kid` (a bad signature).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub wrong_key: bool,
    /// Extra claims of every ID token.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}
