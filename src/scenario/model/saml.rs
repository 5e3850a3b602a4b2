//! `with:` settings of `provider: saml`, [`SamlSettings`] (documented in `docs/providers/saml.md`):
//! the identity provider's entity id, the one service provider it serves, the users who can log
//! in, and the knobs that bend each rule of a SAML Response (signing, lifetime, clock, audience,
//! recipient, destination, `InResponseTo`, NameID, certificate rotation, signature wrapping).

use serde::{Deserialize, Serialize};

use super::SecretText;

/// `urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress`, the default NameID format.
pub const NAME_ID_EMAIL: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";

/// `with:` settings of `provider: saml` (documented in `docs/providers/saml.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SamlSettings {
    /// The IdP's entity id: metadata `entityID` and every `<Issuer>`.
    pub entity_id: String,
    /// The IdP's own base URL for the metadata's `SingleSignOnService` locations; `None`: the
    /// request's `Host` over `http://`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// The service provider it serves.
    pub sp: SamlServiceProvider,
    /// The users who can log in; the first is the default.
    pub users: Vec<SamlUser>,
    /// Which elements are signed.
    pub sign: SamlSigning,
    /// NameID `Format` URI.
    pub name_id_format: String,
    /// Assertion lifetime in seconds: `NotOnOrAfter` of `Conditions` and of the bearer
    /// `SubjectConfirmationData` is the issue instant plus this.
    pub lifetime_seconds: i64,
    /// `Conditions NotBefore` relative to the issue instant, in seconds (negative: earlier).
    pub not_before_seconds: i64,
    /// Which clock issue instants are read from.
    pub clock: SamlClock,
    /// Seconds added to that clock (negative: behind), for skew incidents.
    pub clock_offset_seconds: i64,
    /// `<Audience>` instead of the SP's entity id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// `Recipient` instead of the ACS URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    /// The Response's `Destination` instead of the ACS URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    /// `InResponseTo` instead of the AuthnRequest's `ID` (also on unsolicited responses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_response_to: Option<String>,
    /// The key pair that signs first (1 or 2).
    pub signing_cert: u8,
    /// The scenario's own key pairs: the first replaces built-in pair 1, the second pair 2.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<SamlKeyPair>,
    /// A certificate rotation at a virtual time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation: Option<SamlRotation>,
    /// Answer the signature-wrapping variant (an attacker's assertion carrying the genuine
    /// signature, the genuine assertion wrapped after it) instead of a genuine response.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub wrapping: bool,
}

/// The service provider of `provider: saml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SamlServiceProvider {
    /// Its entity id: the AuthnRequest `Issuer` the IdP accepts and the default `Audience`.
    pub entity_id: String,
    /// Its Assertion Consumer Service URL (HTTP-POST).
    pub acs_url: String,
}

/// One user of `provider: saml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SamlUser {
    /// The NameID value.
    pub name_id: String,
    /// Attributes in order, each with one or more values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<(String, Vec<String>)>,
}

/// Which elements of a Response carry a signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SamlSigning {
    /// The `<samlp:Response>` only.
    Response,
    /// The `<saml:Assertion>` only.
    Assertion,
    /// The Assertion, then the Response around it.
    Both,
    /// Nothing.
    None,
}

/// The clock a SAML IdP reads its issue instants from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SamlClock {
    /// The run's virtual clock.
    Virtual,
    /// The machine's real clock (what a target checks against).
    Real,
}

/// A signing certificate rotation of `provider: saml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SamlRotation {
    /// The built-in key pair signing from `at` on (1 or 2, not `signing_cert`).
    pub to: u8,
    /// The virtual time the signing switches, RFC 3339.
    pub at: String,
    /// The virtual time the old certificate leaves the metadata, RFC 3339; `None`: never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retire: Option<String>,
}

/// A key pair of the scenario's own for `provider: saml`, read from its files at load time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SamlKeyPair {
    /// The RSA private key, PKCS#8 PEM (never shown by `Debug`, masked in what reenact writes).
    pub key_pem: SecretText,
    /// Its X.509 certificate, PEM.
    pub cert_pem: String,
}
