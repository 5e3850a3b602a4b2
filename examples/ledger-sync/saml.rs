//! Sign-in by SAML 2.0 (Web Browser SSO, SP-initiated): the service provider of ledger-sync.
//! Configured by `SAML_IDP_METADATA_URL` (the IdP's metadata), `SAML_SP_ENTITY_ID` (default
//! `{PUBLIC_URL}/saml/metadata`) and, from 1.4.3 on, `SAML_SP_LEGACY_ENTITY_IDS`; the ACS is
//! `{PUBLIC_URL}/saml/acs`.
//!
//! `GET /login/saml` reads the IdP's metadata (its entity id, the HTTP-Redirect
//! `SingleSignOnService` and the signing certificates), writes an `AuthnRequest`, deflates and
//! base64-encodes it (SAML Bindings §3.4.4.1) and sends the browser to the IdP; the request's ID
//! is remembered (at most [`MAX_PENDING`], for [`PENDING_TTL`]). `POST /saml/acs` takes the
//! posted `SAMLResponse` (Bindings §3.5.4) and checks it as SAML Profiles §4.1.4.3 asks: status
//! Success, `Destination`, `InResponseTo` (one of ours, once), the issuer, exactly one
//! assertion, an RSA-SHA256 signature by a certificate of the metadata that covers that
//! assertion (on it, or on the Response around it), `Conditions` against this machine's clock,
//! the audience and the bearer `SubjectConfirmationData`. The user signed in is the `NameID`.
//!
//! **The demo's shortcut in XML signatures.** A real service provider verifies with an XML-DSig
//! library that canonicalizes (exclusive c14n) the signed element. reenact's IdP writes signed
//! elements canonical by construction (`docs/providers/saml.md`, "Signatures"), so here the
//! digest is over the signed element's bytes as received without its own
//! `<ds:Signature>…</ds:Signature>` (the enveloped-signature transform), and the RSA signature is
//! over the `<ds:SignedInfo>` bytes with `xmlns:ds` added to its start tag (how exclusive c14n
//! renders it alone). A document in any other form (comments, processing instructions, CDATA,
//! another prefix) fails verification and is refused, never accepted. The signature itself is
//! checked for real with `ring`, under the RSA key of a certificate that must be byte-equal to
//! one of the metadata.
//!
//! Incidents (README "Sign-in (SAML)"): SUP-5122, 1.4.2 reads the metadata once and trusts only
//! its first signing certificate, so an IdP's certificate rotation locks everyone out; SUP-5129,
//! 1.4.2 refuses an IdP that still sends ledger-sync's old entity id as the audience with a bare
//! "invalid SAML response"; SUP-5136, 1.4.2 has no clock-skew tolerance, so an IdP whose clock
//! runs a little ahead issues assertions that are "not valid yet".

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine as _;
use sxd_document::dom::Element;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::Mutex;

use crate::release::Release;
use crate::sso::{SsoSettings, random_token};

/// The SAML 2.0 protocol namespace (`samlp:`), SAML Core §1.2.
const NS_PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
/// The SAML 2.0 assertion namespace (`saml:`), SAML Core §1.2.
const NS_ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
/// The SAML 2.0 metadata namespace (`md:`), SAML Metadata §2.
const NS_METADATA: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
/// XML Signature (`ds:`).
const NS_DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";
/// Exclusive XML Canonicalization 1.0 without comments.
const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
/// The enveloped-signature transform (XML Signature §6.6.4).
const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
/// RSA-SHA256 (RFC 6931 §2.3.2).
const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
/// SHA-256 digests (XML Encryption §5.7.2).
const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
/// HTTP-Redirect binding (SAML Bindings §3.4).
const BINDING_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
/// HTTP-POST binding (SAML Bindings §3.5).
const BINDING_POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
/// The Success status code (SAML Core §3.2.2.2).
const STATUS_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
/// The bearer subject confirmation method (SAML Profiles §3.3).
const CM_BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";

/// Largest metadata document or decoded `SAMLResponse` read.
const MAX_XML_BYTES: usize = 1024 * 1024;
/// Most AuthnRequests waiting for their Response.
const MAX_PENDING: usize = 1000;
/// How long an AuthnRequest waits for its Response.
const PENDING_TTL: Duration = Duration::from_secs(10 * 60);
/// 1.4.3 re-reads the metadata for a certificate it does not know at most this often.
const REFRESH_PER_CERTIFICATE: Duration = Duration::from_secs(5 * 60);
/// Most unknown certificates whose last re-read is remembered.
const MAX_REFRESH_RECORDS: usize = 100;
/// Most elements and nesting of a Response whose signature is checked.
const MAX_ELEMENTS: usize = 10_000;
const MAX_DEPTH: usize = 64;
/// Most attributes (namespace declarations included) of one element parsed.
const MAX_ATTRIBUTES: usize = 64;

/// The clock skew 1.4.3 tolerates on `NotBefore` and `NotOnOrAfter` (SUP-5136): python3-saml's
/// `ALLOWED_CLOCK_DRIFT` of 300 s (`onelogin/saml2/constants.py`).
const MAX_CLOCK_SKEW: time::Duration = time::Duration::seconds(300);

/// The refusal 1.4.2 shows for an audience it does not accept (SUP-5129).
const BARE_REFUSAL: &str = "invalid SAML response";

/// What ledger-sync knows of the IdP from its metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
struct IdpMetadata {
    /// `EntityDescriptor entityID`: the issuer of its Responses.
    entity_id: String,
    /// The HTTP-Redirect `SingleSignOnService Location`.
    sso_url: String,
    /// The DER of each signing certificate trusted.
    certificates: Vec<Vec<u8>>,
}

/// AuthnRequest IDs waiting for their Response, with when they were sent.
#[derive(Default)]
struct Pending {
    sent: HashMap<String, Instant>,
}

impl Pending {
    /// Remembers `id`, dropping expired requests and, when still full, the oldest.
    fn insert(&mut self, id: String, now: Instant) {
        self.sent
            .retain(|_, at| now.saturating_duration_since(*at) < PENDING_TTL);
        if self.sent.len() >= MAX_PENDING {
            let oldest = self
                .sent
                .iter()
                .min_by_key(|(_, at)| **at)
                .map(|(id, _)| id.clone());
            if let Some(oldest) = oldest {
                self.sent.remove(&oldest);
            }
        }
        self.sent.insert(id, now);
    }

    /// Whether `id` was ours and still waiting; it is used up either way.
    fn take(&mut self, id: &str, now: Instant) -> bool {
        self.sent
            .remove(id)
            .is_some_and(|at| now.saturating_duration_since(at) < PENDING_TTL)
    }
}

/// The SAML login of one process.
pub struct SamlLogin {
    settings: SsoSettings,
    metadata_url: String,
    /// ledger-sync's entity id (`SAML_SP_ENTITY_ID`).
    entity_id: String,
    /// The entity ids ledger-sync had before, accepted as audiences by 1.4.3 (SUP-5129).
    legacy_entity_ids: Vec<String>,
    /// `{PUBLIC_URL}/saml/acs`.
    acs_url: String,
    http: reqwest::Client,
    metadata: Mutex<Option<IdpMetadata>>,
    pending: Mutex<Pending>,
    /// SHA-256 of an unknown certificate → when 1.4.3 last re-read the metadata for it.
    refreshed: Mutex<HashMap<Vec<u8>, Instant>>,
}

/// Why a signature was not accepted.
#[derive(Debug, PartialEq, Eq)]
enum SignatureError {
    /// Signed by a certificate (DER) that is not a trusted one.
    UnknownCertificate(Vec<u8>),
    /// Anything else, said in words.
    Invalid(String),
}

impl SignatureError {
    fn message(&self) -> String {
        match self {
            SignatureError::UnknownCertificate(_) => {
                "the Response is signed by a certificate the IdP metadata does not list".to_owned()
            }
            SignatureError::Invalid(reason) => reason.clone(),
        }
    }
}

fn invalid(reason: impl Into<String>) -> SignatureError {
    SignatureError::Invalid(reason.into())
}

impl SamlLogin {
    /// The login `SAML_*` configures, `None` when `SAML_IDP_METADATA_URL` is not set.
    pub fn from_env(settings: &SsoSettings) -> Result<Option<SamlLogin>, String> {
        let Some(metadata_url) = std::env::var("SAML_IDP_METADATA_URL")
            .ok()
            .map(|url| url.trim().to_owned())
            .filter(|url| !url.is_empty())
        else {
            return Ok(None);
        };
        let entity_id = std::env::var("SAML_SP_ENTITY_ID")
            .ok()
            .map(|id| id.trim().to_owned())
            .filter(|id| !id.is_empty())
            .unwrap_or_else(|| format!("{}/saml/metadata", settings.public_url));
        let legacy_entity_ids = std::env::var("SAML_SP_LEGACY_ENTITY_IDS")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .map(str::to_owned)
            .collect();
        Ok(Some(SamlLogin::new(
            settings,
            metadata_url,
            entity_id,
            legacy_entity_ids,
        )?))
    }

    fn new(
        settings: &SsoSettings,
        metadata_url: String,
        entity_id: String,
        legacy_entity_ids: Vec<String>,
    ) -> Result<SamlLogin, String> {
        Ok(SamlLogin {
            acs_url: format!("{}/saml/acs", settings.public_url),
            settings: settings.clone(),
            metadata_url,
            entity_id,
            legacy_entity_ids,
            http: crate::connector::http_client(settings.timeout)?,
            metadata: Mutex::new(None),
            pending: Mutex::new(Pending::default()),
            refreshed: Mutex::new(HashMap::new()),
        })
    }

    /// `GET /login/saml`: where to send the browser (the IdP's SSO URL with a `SAMLRequest`).
    pub async fn start(&self) -> Result<String, String> {
        let metadata = self.metadata().await?;
        let id = format!("_{}", random_token("SAML request id")?);
        let xml = authn_request(
            &id,
            &saml_time(OffsetDateTime::now_utc()),
            &metadata.sso_url,
            &self.acs_url,
            &self.entity_id,
        );
        let deflated = miniz_oxide::deflate::compress_to_vec(xml.as_bytes(), 6);
        let encoded = base64::engine::general_purpose::STANDARD.encode(deflated);
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("SAMLRequest", &encoded)
            .append_pair("RelayState", "/home")
            .finish();
        let separator = if metadata.sso_url.contains('?') {
            '&'
        } else {
            '?'
        };
        self.pending.lock().await.insert(id.clone(), Instant::now());
        crate::log(format!(
            "sign-in: SAML AuthnRequest {id} sent to {}",
            metadata.sso_url
        ));
        Ok(format!("{}{separator}{query}", metadata.sso_url))
    }

    /// `POST /saml/acs` with the form `body`: who signed in, or why not.
    pub async fn acs(&self, body: &[u8]) -> Result<String, String> {
        let encoded = form_urlencoded::parse(body)
            .find(|(name, _)| name == "SAMLResponse")
            .map(|(_, value)| value.into_owned())
            .filter(|value| !value.is_empty())
            .ok_or("the form has no SAMLResponse")?;
        let xml = decode_response(&encoded)?;
        // Whose request this answers is settled first, once: a refused Response uses it up.
        let request_id = answered_request(&xml)?;
        let request_id = request_id.as_str();
        if !self.pending.lock().await.take(request_id, Instant::now()) {
            return Err(format!(
                "the Response answers {request_id}, not a pending AuthnRequest of ours"
            ));
        }
        let metadata = self.metadata().await?;
        let checked = match self.check(&xml, request_id, &metadata) {
            Err(Refusal::Signature(SignatureError::UnknownCertificate(certificate)))
                if self.settings.release == Release::V1_4_3 =>
            {
                // SUP-5122 (fix): the IdP may have rotated its signing certificate: read the
                // metadata again (at most once per unknown certificate per 5 minutes).
                let Some(metadata) = self.refresh_for(&certificate).await? else {
                    return Err(SignatureError::UnknownCertificate(certificate).message());
                };
                self.check(&xml, request_id, &metadata)
            }
            other => other,
        };
        checked.map_err(|refusal| refusal.message())
    }

    /// The metadata, read at the first login and kept.
    async fn metadata(&self) -> Result<IdpMetadata, String> {
        let mut cached = self.metadata.lock().await;
        if let Some(metadata) = cached.as_ref() {
            return Ok(metadata.clone());
        }
        let metadata = self.read_metadata().await?;
        *cached = Some(metadata.clone());
        Ok(metadata)
    }

    /// SUP-5122 (fix): the metadata read again because a Response was signed by `certificate`,
    /// unless it was already re-read for that certificate in the last 5 minutes (`None` then).
    async fn refresh_for(&self, certificate: &[u8]) -> Result<Option<IdpMetadata>, String> {
        let key = ring::digest::digest(&ring::digest::SHA256, certificate)
            .as_ref()
            .to_vec();
        let now = Instant::now();
        {
            let mut refreshed = self.refreshed.lock().await;
            refreshed.retain(|_, at| now.saturating_duration_since(*at) < REFRESH_PER_CERTIFICATE);
            if refreshed.contains_key(&key) {
                crate::log(
                    "sign-in: SAML metadata already re-read for this certificate in the last 5 minutes",
                );
                return Ok(None);
            }
            if refreshed.len() >= MAX_REFRESH_RECORDS {
                return Ok(None);
            }
            refreshed.insert(key, now);
        }
        crate::log(
            "sign-in: SAML Response signed by an unknown certificate: re-reading the metadata",
        );
        let metadata = self.read_metadata().await?;
        *self.metadata.lock().await = Some(metadata.clone());
        Ok(Some(metadata))
    }

    /// `GET SAML_IDP_METADATA_URL`, read and parsed.
    async fn read_metadata(&self) -> Result<IdpMetadata, String> {
        let failed = |reason: String| format!("reading the IdP metadata failed: {reason}");
        let mut response = self
            .http
            .get(&self.metadata_url)
            .send()
            .await
            .map_err(|error| failed(unreachable(&error)))?;
        let status = response.status();
        crate::log(format!(
            "sign-in: SAML GET {} -> {}",
            self.metadata_url,
            status.as_u16()
        ));
        if !status.is_success() {
            return Err(failed(crate::connector::status_line(status)));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| failed(unreachable(&error)))?
        {
            if body.len() + chunk.len() > MAX_XML_BYTES {
                return Err(failed(format!("larger than {MAX_XML_BYTES} bytes")));
            }
            body.extend_from_slice(&chunk);
        }
        let text = String::from_utf8(body).map_err(|_| failed("not UTF-8".to_owned()))?;
        let metadata = parse_metadata(&text, self.settings.release).map_err(failed)?;
        crate::log(format!(
            "sign-in: SAML metadata of {}: {} signing certificate(s) trusted",
            metadata.entity_id,
            metadata.certificates.len()
        ));
        Ok(metadata)
    }

    /// Every check of a Response to `request_id` (already ours) but the request itself: the
    /// NameID of its assertion, or why it is refused.
    fn check(
        &self,
        xml: &str,
        request_id: &str,
        metadata: &IdpMetadata,
    ) -> Result<String, Refusal> {
        let refuse = |reason: String| Err(Refusal::Other(reason));
        let package = parse_xml(xml, "the SAMLResponse").map_err(Refusal::Other)?;
        let document = package.as_document();
        let response = document_element(&document)
            .ok_or_else(|| Refusal::Other("the SAMLResponse is empty".to_owned()))?;
        if !is(response, NS_PROTOCOL, "Response") {
            return refuse("the SAMLResponse is not a samlp:Response".to_owned());
        }
        let status = child(response, NS_PROTOCOL, "Status")
            .and_then(|status| child(status, NS_PROTOCOL, "StatusCode"))
            .and_then(|code| code.attribute_value("Value"));
        if status != Some(STATUS_SUCCESS) {
            return refuse(format!(
                "the IdP answered status {}",
                status.unwrap_or("(none)")
            ));
        }
        let destination = response.attribute_value("Destination").unwrap_or("(none)");
        if destination != self.acs_url {
            return refuse(format!(
                "the Response is for {destination}, not this ACS ({})",
                self.acs_url
            ));
        }
        if let Some(issuer) = child(response, NS_ASSERTION, "Issuer") {
            let issuer = text(issuer);
            if issuer != metadata.entity_id {
                return refuse(format!(
                    "the Response is issued by {issuer}, not the IdP ({})",
                    metadata.entity_id
                ));
            }
        }
        let all_assertions = descendants(response)
            .into_iter()
            .filter(|element| {
                is(*element, NS_ASSERTION, "Assertion")
                    || is(*element, NS_ASSERTION, "EncryptedAssertion")
            })
            .count();
        let assertions = children(response, NS_ASSERTION, "Assertion");
        let [assertion] = assertions.as_slice() else {
            return refuse(format!(
                "the Response must hold exactly one assertion (it holds {all_assertions})"
            ));
        };
        if all_assertions != 1 {
            return refuse(format!(
                "the Response must hold exactly one assertion (it holds {all_assertions})"
            ));
        }
        let assertion = *assertion;
        let issuer = child(assertion, NS_ASSERTION, "Issuer").map(text);
        if issuer.as_deref() != Some(metadata.entity_id.as_str()) {
            return refuse(format!(
                "the assertion is issued by {}, not the IdP ({})",
                issuer.as_deref().unwrap_or("(nobody)"),
                metadata.entity_id
            ));
        }
        verify_signatures(xml, response, assertion, &metadata.certificates)
            .map_err(Refusal::Signature)?;
        let now = OffsetDateTime::now_utc();
        self.check_conditions(assertion, now)
            .map_err(Refusal::Other)?;
        self.check_subject(assertion, request_id, now)
            .map_err(Refusal::Other)
    }

    /// How far the IdP's clock may be from this one.
    fn clock_skew(&self) -> time::Duration {
        match self.settings.release {
            // SUP-5136 (bug): none, so an IdP a few seconds ahead is "not valid yet".
            Release::V1_4_2 => time::Duration::ZERO,
            // SUP-5136 (fix): python3-saml's ALLOWED_CLOCK_DRIFT, on every time condition.
            Release::V1_4_3 => MAX_CLOCK_SKEW,
        }
    }

    /// `Conditions`: the validity window against this machine's clock and the audience.
    fn check_conditions(&self, assertion: Element<'_>, now: OffsetDateTime) -> Result<(), String> {
        let conditions = child(assertion, NS_ASSERTION, "Conditions")
            .ok_or("the assertion has no Conditions")?;
        let skew = self.clock_skew();
        if let Some(not_before) = time_attribute(conditions, "NotBefore")? {
            if now + skew < not_before {
                log_clocks("NotBefore", not_before, now);
                return Err(format!(
                    "the assertion is not valid yet (its NotBefore is ahead of this clock, tolerance {} s)",
                    skew.whole_seconds()
                ));
            }
            if now < not_before {
                crate::log(format!(
                    "sign-in: SAML NotBefore {} is ahead of this clock ({}): within the {} s tolerance",
                    saml_time(not_before),
                    saml_time(now),
                    skew.whole_seconds()
                ));
            }
        }
        if let Some(not_on_or_after) = time_attribute(conditions, "NotOnOrAfter")?
            && now - skew >= not_on_or_after
        {
            log_clocks("NotOnOrAfter", not_on_or_after, now);
            return Err(format!(
                "the assertion has expired (its NotOnOrAfter has passed on this clock, tolerance {} s)",
                skew.whole_seconds()
            ));
        }
        let restrictions = children(conditions, NS_ASSERTION, "AudienceRestriction");
        if restrictions.is_empty() {
            return Err("the assertion has no AudienceRestriction".to_owned());
        }
        // Each AudienceRestriction must name us (SAML Core §2.5.1.4).
        for restriction in restrictions {
            let audiences: Vec<String> = children(restriction, NS_ASSERTION, "Audience")
                .into_iter()
                .map(text)
                .collect();
            self.check_audience(&audiences)?;
        }
        Ok(())
    }

    /// One `AudienceRestriction`'s audiences must include ledger-sync.
    fn check_audience(&self, audiences: &[String]) -> Result<(), String> {
        match self.settings.release {
            // SUP-5129 (bug): only the current entity id, and a refusal that says nothing.
            Release::V1_4_2 => {
                if audiences.contains(&self.entity_id) {
                    Ok(())
                } else {
                    crate::log(format!(
                        "sign-in: SAML audience {} is not {}",
                        audiences.join(", "),
                        self.entity_id
                    ));
                    Err(BARE_REFUSAL.to_owned())
                }
            }
            // SUP-5129 (fix): the legacy entity ids are accepted too, and a refusal says which
            // audience was expected and which came.
            Release::V1_4_3 => {
                let accepted = |audience: &String| {
                    *audience == self.entity_id || self.legacy_entity_ids.contains(audience)
                };
                if audiences.iter().any(accepted) {
                    return Ok(());
                }
                let mut expected = self.entity_id.clone();
                if !self.legacy_entity_ids.is_empty() {
                    expected.push_str(&format!(
                        " (or legacy {})",
                        self.legacy_entity_ids.join(", ")
                    ));
                }
                let actual = if audiences.is_empty() {
                    "none".to_owned()
                } else {
                    audiences.join(", ")
                };
                Err(format!(
                    "AudienceRestriction validation failed: expected audience {expected}, got {actual}"
                ))
            }
        }
    }

    /// The bearer `SubjectConfirmation` (Profiles §4.1.4.2) and the NameID.
    fn check_subject(
        &self,
        assertion: Element<'_>,
        request_id: &str,
        now: OffsetDateTime,
    ) -> Result<String, String> {
        let subject =
            child(assertion, NS_ASSERTION, "Subject").ok_or("the assertion has no Subject")?;
        let mut reasons = Vec::new();
        let mut confirmed = false;
        for confirmation in children(subject, NS_ASSERTION, "SubjectConfirmation") {
            if confirmation.attribute_value("Method") != Some(CM_BEARER) {
                continue;
            }
            let Some(data) = child(confirmation, NS_ASSERTION, "SubjectConfirmationData") else {
                reasons.push("a bearer confirmation without SubjectConfirmationData".to_owned());
                continue;
            };
            let recipient = data.attribute_value("Recipient").unwrap_or("(none)");
            if recipient != self.acs_url {
                reasons.push(format!(
                    "Recipient {recipient} is not this ACS ({})",
                    self.acs_url
                ));
                continue;
            }
            match data.attribute_value("InResponseTo") {
                Some(answers) if answers != request_id => {
                    reasons.push(format!("it answers {answers}, not {request_id}"));
                    continue;
                }
                _ => {}
            }
            match time_attribute(data, "NotOnOrAfter")? {
                None => {
                    reasons.push("a bearer confirmation without NotOnOrAfter".to_owned());
                    continue;
                }
                Some(expiry) if now - self.clock_skew() >= expiry => {
                    log_clocks("SubjectConfirmationData NotOnOrAfter", expiry, now);
                    reasons.push(format!(
                        "the bearer confirmation has expired (tolerance {} s)",
                        self.clock_skew().whole_seconds()
                    ));
                    continue;
                }
                Some(_) => {}
            }
            confirmed = true;
            break;
        }
        if !confirmed {
            return Err(if reasons.is_empty() {
                "the assertion has no bearer SubjectConfirmation".to_owned()
            } else {
                format!(
                    "no valid bearer SubjectConfirmation: {}",
                    reasons.join("; ")
                )
            });
        }
        let name_id = child(subject, NS_ASSERTION, "NameID")
            .map(text)
            .filter(|name| !name.is_empty())
            .ok_or("the assertion has no NameID")?;
        Ok(name_id)
    }
}

/// Why `check` refused a Response.
enum Refusal {
    Signature(SignatureError),
    Other(String),
}

impl Refusal {
    fn message(self) -> String {
        match self {
            Refusal::Signature(error) => error.message(),
            Refusal::Other(reason) => reason,
        }
    }
}

/// An `AuthnRequest` (SAML Core §3.4.1) from ledger-sync, asking for a Response by HTTP-POST.
fn authn_request(id: &str, issued: &str, destination: &str, acs_url: &str, issuer: &str) -> String {
    format!(
        "<samlp:AuthnRequest xmlns:samlp=\"{NS_PROTOCOL}\" xmlns:saml=\"{NS_ASSERTION}\" \
         ID=\"{id}\" Version=\"2.0\" IssueInstant=\"{issued}\" Destination=\"{destination}\" \
         AssertionConsumerServiceURL=\"{acs_url}\" ProtocolBinding=\"{BINDING_POST}\">\
         <saml:Issuer>{issuer}</saml:Issuer></samlp:AuthnRequest>",
        id = escape(id),
        destination = escape(destination),
        acs_url = escape(acs_url),
        issuer = escape(issuer),
    )
}

/// The XML text of a posted `SAMLResponse` (base64, Bindings §3.5.4).
fn decode_response(encoded: &str) -> Result<String, String> {
    if encoded.len() > MAX_XML_BYTES * 4 / 3 + 4 {
        return Err(format!(
            "the SAMLResponse is larger than {MAX_XML_BYTES} bytes"
        ));
    }
    let compact: String = encoded.split_whitespace().collect();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|_| "the SAMLResponse is not base64")?;
    String::from_utf8(raw).map_err(|_| "the SAMLResponse is not UTF-8".to_owned())
}

/// Why a call to the IdP got no answer: timed out, or reqwest's error and its causes (its own
/// message names only the URL; "connection refused" is in the chain).
fn unreachable(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        return "the IdP did not answer in time".to_owned();
    }
    let mut causes = vec![error.to_string()];
    let mut cause = std::error::Error::source(error);
    while let Some(current) = cause {
        causes.push(current.to_string());
        cause = current.source();
    }
    format!("the IdP is unreachable: {}", causes.join(": "))
}

/// The `InResponseTo` of the Response `xml`: the AuthnRequest it answers.
fn answered_request(xml: &str) -> Result<String, String> {
    let package = parse_xml(xml, "the SAMLResponse")?;
    let document = package.as_document();
    document_element(&document)
        .and_then(|response| response.attribute_value("InResponseTo"))
        .map(str::to_owned)
        .ok_or_else(|| "the Response answers no AuthnRequest (no InResponseTo)".to_owned())
}

/// `xml` parsed; a document type declaration is refused (no entity is ever expanded).
pub fn parse_xml(xml: &str, what: &str) -> Result<sxd_document::Package, String> {
    if xml.len() > MAX_XML_BYTES {
        return Err(format!("{what} is larger than {MAX_XML_BYTES} bytes"));
    }
    if xml.to_ascii_uppercase().contains("<!DOCTYPE") {
        return Err(format!("{what} has a DOCTYPE, which is refused"));
    }
    // The XML parser slows quadratically with nesting and with attributes per element: a
    // document past these bounds is refused before it is parsed.
    if !shape_within(xml, MAX_DEPTH, MAX_ATTRIBUTES) {
        return Err(format!(
            "{what} nests deeper than {MAX_DEPTH} elements or has an element with more than \
             {MAX_ATTRIBUTES} attributes"
        ));
    }
    sxd_document::parser::parse(xml).map_err(|_| format!("{what} is not XML"))
}

/// Whether the elements of `xml` nest at most `depth` deep and each has at most `attributes`
/// attributes: one pass over the text (comments, CDATA, processing instructions skipped; quoted
/// attribute values respected); anything malformed is left for the parser to refuse.
fn shape_within(xml: &str, depth: usize, attributes: usize) -> bool {
    let bytes = xml.as_bytes();
    let mut open = 0usize;
    let mut at = 0;
    while let Some(offset) = xml[at..].find('<') {
        let start = at + offset;
        let rest = &xml[start..];
        let skip_to = |end: &str| rest.find(end).map_or(xml.len(), |e| start + e + end.len());
        if rest.starts_with("<!--") {
            at = skip_to("-->");
            continue;
        }
        if rest.starts_with("<![CDATA[") {
            at = skip_to("]]>");
            continue;
        }
        if rest.starts_with("<?") || rest.starts_with("<!") {
            at = skip_to(">");
            continue;
        }
        let mut quote = None;
        let mut count = 0usize;
        let mut end = xml.len();
        for (index, &byte) in bytes[start..].iter().enumerate() {
            match (quote, byte) {
                (None, b'"' | b'\'') => quote = Some(byte),
                (Some(q), b) if q == b => quote = None,
                (None, b'=') => count += 1,
                (None, b'>') => {
                    end = start + index + 1;
                    break;
                }
                _ => {}
            }
        }
        if count > attributes {
            return false;
        }
        if rest.starts_with("</") {
            open = open.saturating_sub(1);
        } else if !xml[..end].ends_with("/>") {
            open += 1;
            if open > depth {
                return false;
            }
        }
        at = end;
    }
    true
}

/// What the metadata `xml` says; SUP-5122: 1.4.2 keeps only the first signing certificate.
fn parse_metadata(xml: &str, release: Release) -> Result<IdpMetadata, String> {
    let package = parse_xml(xml, "the metadata")?;
    let document = package.as_document();
    let root = document_element(&document).ok_or("the metadata is empty")?;
    if !is(root, NS_METADATA, "EntityDescriptor") {
        return Err("the metadata is not an md:EntityDescriptor".to_owned());
    }
    let entity_id = root
        .attribute_value("entityID")
        .filter(|id| !id.is_empty())
        .ok_or("the metadata has no entityID")?
        .to_owned();
    let idp = child(root, NS_METADATA, "IDPSSODescriptor")
        .ok_or("the metadata has no IDPSSODescriptor")?;
    let sso_url = children(idp, NS_METADATA, "SingleSignOnService")
        .into_iter()
        .find(|service| service.attribute_value("Binding") == Some(BINDING_REDIRECT))
        .and_then(|service| service.attribute_value("Location"))
        .filter(|location| location.starts_with("http://") || location.starts_with("https://"))
        .ok_or("the metadata has no HTTP-Redirect SingleSignOnService")?
        .to_owned();
    let mut certificates = Vec::new();
    for descriptor in children(idp, NS_METADATA, "KeyDescriptor") {
        // A KeyDescriptor without `use` serves both signing and encryption (Metadata §2.4.1.1).
        if descriptor
            .attribute_value("use")
            .is_some_and(|usage| usage != "signing")
        {
            continue;
        }
        let certificate = child(descriptor, NS_DSIG, "KeyInfo")
            .and_then(|info| child(info, NS_DSIG, "X509Data"))
            .and_then(|data| child(data, NS_DSIG, "X509Certificate"))
            .map(text)
            .ok_or("a signing KeyDescriptor has no X509Certificate")?;
        let der = decode_base64(&certificate)
            .filter(|der| rsa_public_key(der).is_some())
            .ok_or("a signing certificate of the metadata is not an RSA X.509 certificate")?;
        certificates.push(der);
        // SUP-5122 (bug): only the first signing certificate is trusted.
        if release == Release::V1_4_2 {
            break;
        }
        // SUP-5122 (fix): every signing certificate is trusted (two during a rollover).
    }
    if certificates.is_empty() {
        return Err("the metadata has no signing certificate".to_owned());
    }
    Ok(IdpMetadata {
        entity_id,
        sso_url,
        certificates,
    })
}

/// The signatures of a Response: every one on the Response or its `assertion` must verify, and
/// at least one of them must cover the assertion. A signature counts only for the element it is
/// in and whose `ID` its `Reference` names, so a signature moved next to another element
/// (signature wrapping) covers nothing.
fn verify_signatures(
    xml: &str,
    response: Element<'_>,
    assertion: Element<'_>,
    trusted: &[Vec<u8>],
) -> Result<(), SignatureError> {
    let signed = |element: Element<'_>| child(element, NS_DSIG, "Signature").is_some();
    let (response_signed, assertion_signed) = (signed(response), signed(assertion));
    if !response_signed && !assertion_signed {
        return Err(invalid("the Response and its assertion are not signed"));
    }
    let raw = scan(xml).map_err(|reason| invalid(format!("signature not verified: {reason}")))?;
    for (element, is_signed) in [(assertion, assertion_signed), (response, response_signed)] {
        if !is_signed {
            continue;
        }
        let id = element
            .attribute_value("ID")
            .ok_or_else(|| invalid("a signed element has no ID"))?;
        verify_element(xml, &raw, id, trusted)?;
    }
    Ok(())
}

/// One element of a document as received: where it is and what its start tag says.
#[derive(Debug)]
struct RawElement {
    /// The qualified name as written.
    name: String,
    /// Its `ID` attribute as written.
    id: Option<String>,
    /// Byte offsets: `<` of the start tag, after its `>`, `<` of the end tag, after its `>`.
    start: usize,
    content: usize,
    close: usize,
    end: usize,
    /// Indexes of its child elements.
    children: Vec<usize>,
}

/// The elements of `xml` in document order, with byte offsets; only the plain form reenact's IdP
/// writes (an XML declaration at most, elements, attributes, text) is read.
fn scan(xml: &str) -> Result<Vec<RawElement>, String> {
    let bytes = xml.as_bytes();
    let mut elements: Vec<RawElement> = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    let mut at = 0;
    while let Some(offset) = xml[at..].find('<') {
        let start = at + offset;
        let rest = &xml[start..];
        if rest.starts_with("<?") {
            if start != 0 {
                return Err("a processing instruction".to_owned());
            }
            at = start + rest.find("?>").ok_or("an unclosed XML declaration")? + 2;
            continue;
        }
        if rest.starts_with("<!") {
            return Err("a comment, CDATA section or declaration".to_owned());
        }
        // The end of the tag: the first `>` outside quotes.
        let mut quote = None;
        let mut tag_end = None;
        for (index, &byte) in bytes[start..].iter().enumerate() {
            match (quote, byte) {
                (None, b'"' | b'\'') => quote = Some(byte),
                (Some(q), b) if q == b => quote = None,
                (None, b'>') => {
                    tag_end = Some(start + index + 1);
                    break;
                }
                _ => {}
            }
        }
        let tag_end = tag_end.ok_or("an unclosed tag")?;
        let tag = &xml[start + 1..tag_end - 1];
        if let Some(name) = tag.strip_prefix('/') {
            let index = open.pop().ok_or("an end tag without a start")?;
            if elements[index].name != name.trim() {
                return Err("mismatched tags".to_owned());
            }
            elements[index].close = start;
            elements[index].end = tag_end;
        } else {
            let empty = tag.ends_with('/');
            let tag = tag.strip_suffix('/').unwrap_or(tag);
            let name_end = tag
                .find(|c: char| c.is_ascii_whitespace())
                .unwrap_or(tag.len());
            if elements.len() >= MAX_ELEMENTS || open.len() >= MAX_DEPTH {
                return Err("too many or too deeply nested elements".to_owned());
            }
            let index = elements.len();
            if let Some(&parent) = open.last() {
                elements[parent].children.push(index);
            } else if !elements.is_empty() {
                return Err("more than one document element".to_owned());
            }
            elements.push(RawElement {
                name: tag[..name_end].to_owned(),
                id: attribute(&tag[name_end..], "ID"),
                start,
                content: tag_end,
                close: tag_end,
                end: tag_end,
                children: Vec::new(),
            });
            if !empty {
                open.push(index);
            }
        }
        at = tag_end;
    }
    if !open.is_empty() || elements.is_empty() {
        return Err("an unclosed element".to_owned());
    }
    Ok(elements)
}

/// The value of attribute `name` in the attribute text of a start tag, as written.
fn attribute(mut attributes: &str, name: &str) -> Option<String> {
    loop {
        attributes = attributes.trim_start();
        let equals = attributes.find('=')?;
        let key = attributes[..equals].trim();
        let after = attributes[equals + 1..].trim_start();
        let quote = after.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let value_end = after[1..].find(quote)? + 1;
        if key == name {
            return Some(after[1..value_end].to_owned());
        }
        attributes = &after[value_end + 1..];
    }
}

/// The direct child of raw element `parent` named `name`, if there is exactly one.
fn raw_child<'a>(raw: &'a [RawElement], parent: &RawElement, name: &str) -> Option<&'a RawElement> {
    let mut found = parent
        .children
        .iter()
        .map(|&index| &raw[index])
        .filter(|element| element.name == name);
    let first = found.next()?;
    found.next().is_none().then_some(first)
}

/// Verifies the enveloped signature of the element whose `ID` is `id` (see the module doc for
/// the canonical-form shortcut).
fn verify_element(
    xml: &str,
    raw: &[RawElement],
    id: &str,
    trusted: &[Vec<u8>],
) -> Result<(), SignatureError> {
    if id.contains('&') {
        return Err(invalid("a signed element's ID is escaped"));
    }
    let mut with_id = raw
        .iter()
        .filter(|element| element.id.as_deref() == Some(id));
    let element = with_id
        .next()
        .ok_or_else(|| invalid(format!("no element has the ID {id}")))?;
    if with_id.next().is_some() {
        return Err(invalid(format!("the ID {id} is not unique")));
    }
    let signature = raw_child(raw, element, "ds:Signature")
        .ok_or_else(|| invalid(format!("the element {id} has no single ds:Signature")))?;
    let signed_info = raw_child(raw, signature, "ds:SignedInfo")
        .ok_or_else(|| invalid("the signature has no ds:SignedInfo"))?;
    if &xml[signed_info.start..signed_info.content] != "<ds:SignedInfo>" {
        return Err(invalid("ds:SignedInfo is not in the canonical form"));
    }
    // SignedInfo as exclusive c14n renders it alone: with its `xmlns:ds`.
    let canonical_signed_info = format!(
        "<ds:SignedInfo xmlns:ds=\"{NS_DSIG}\">{}",
        &xml[signed_info.content..signed_info.end]
    );
    // What the signature says comes from what it signs: SignedInfo as canonicalized.
    let info_package = sxd_document::parser::parse(&canonical_signed_info)
        .map_err(|_| invalid("ds:SignedInfo is not XML"))?;
    let info_document = info_package.as_document();
    let info = document_element(&info_document).ok_or_else(|| invalid("empty ds:SignedInfo"))?;
    let algorithm = |element: Option<Element<'_>>| {
        element.and_then(|element| element.attribute_value("Algorithm").map(str::to_owned))
    };
    if algorithm(child(info, NS_DSIG, "CanonicalizationMethod")).as_deref() != Some(EXC_C14N) {
        return Err(invalid(
            "the signature's canonicalization is not exclusive c14n",
        ));
    }
    if algorithm(child(info, NS_DSIG, "SignatureMethod")).as_deref() != Some(RSA_SHA256) {
        return Err(invalid("the signature is not RSA-SHA256"));
    }
    let references = children(info, NS_DSIG, "Reference");
    let [reference] = references.as_slice() else {
        return Err(invalid("the signature must have exactly one Reference"));
    };
    let uri = reference.attribute_value("URI").unwrap_or("");
    if uri.strip_prefix('#') != Some(id) {
        return Err(invalid(format!(
            "the signature in {id} references {uri}, not the element it is in"
        )));
    }
    let transforms: Vec<String> = child(*reference, NS_DSIG, "Transforms")
        .map(|transforms| {
            children(transforms, NS_DSIG, "Transform")
                .into_iter()
                .filter_map(|transform| algorithm(Some(transform)))
                .collect()
        })
        .unwrap_or_default();
    if transforms != [ENVELOPED, EXC_C14N] && transforms != [ENVELOPED] {
        return Err(invalid(
            "the signature's transforms are not enveloped + exclusive c14n",
        ));
    }
    if algorithm(child(*reference, NS_DSIG, "DigestMethod")).as_deref() != Some(SHA256) {
        return Err(invalid("the digest is not SHA-256"));
    }
    let digest_value = child(*reference, NS_DSIG, "DigestValue")
        .map(text)
        .and_then(|value| decode_base64(&value))
        .ok_or_else(|| invalid("the DigestValue is not base64"))?;
    let signature_value = raw_child(raw, signature, "ds:SignatureValue")
        .and_then(|value| decode_base64(&xml[value.content..value.close]))
        .ok_or_else(|| invalid("the SignatureValue is not base64"))?;
    let certificate = raw_child(raw, signature, "ds:KeyInfo")
        .and_then(|info| raw_child(raw, info, "ds:X509Data"))
        .and_then(|data| raw_child(raw, data, "ds:X509Certificate"))
        .and_then(|cert| decode_base64(&xml[cert.content..cert.close]))
        .ok_or_else(|| invalid("the signature carries no X509Certificate"))?;
    if !trusted.contains(&certificate) {
        return Err(SignatureError::UnknownCertificate(certificate));
    }
    // The enveloped-signature transform: the element without its signature.
    let mut signed_bytes = Vec::with_capacity(element.end - element.start);
    signed_bytes.extend_from_slice(&xml.as_bytes()[element.start..signature.start]);
    signed_bytes.extend_from_slice(&xml.as_bytes()[signature.end..element.end]);
    let digest = ring::digest::digest(&ring::digest::SHA256, &signed_bytes);
    if digest.as_ref() != digest_value.as_slice() {
        return Err(invalid(format!(
            "the digest of {id} does not match: it was changed after signing"
        )));
    }
    let key = rsa_public_key(&certificate)
        .ok_or_else(|| invalid("the signing certificate holds no RSA key"))?;
    ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, key)
        .verify(canonical_signed_info.as_bytes(), &signature_value)
        .map_err(|_| invalid(format!("the signature of {id} does not verify")))
}

/// One DER element of `input`: its tag, its contents and what follows (definite lengths up to
/// 4 bytes, one-byte tags; `None` for anything else or anything truncated).
fn der(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    if tag & 0x1f == 0x1f {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (length, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let length = rest[..count]
            .iter()
            .fold(0usize, |length, &byte| (length << 8) | usize::from(byte));
        (length, &rest[count..])
    };
    (rest.len() >= length).then(|| (tag, &rest[..length], &rest[length..]))
}

/// The DER of the `RSAPublicKey` (PKCS #1) in an X.509 certificate: Certificate →
/// tbsCertificate → subjectPublicKeyInfo (algorithm rsaEncryption) → BIT STRING (RFC 5280
/// §4.1). `None` for anything else.
fn rsa_public_key(certificate: &[u8]) -> Option<&[u8]> {
    /// OID 1.2.840.113549.1.1.1, rsaEncryption (RFC 8017 Appendix C).
    const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
    const SEQUENCE: u8 = 0x30;
    let (SEQUENCE, certificate, _) = der(certificate)? else {
        return None;
    };
    let (SEQUENCE, tbs, _) = der(certificate)? else {
        return None;
    };
    let mut rest = tbs;
    // [0] EXPLICIT version, when present.
    if rest.first() == Some(&0xa0) {
        rest = der(rest)?.2;
    }
    // serialNumber, signature, issuer, validity, subject.
    for expected in [0x02, SEQUENCE, SEQUENCE, SEQUENCE, SEQUENCE] {
        let (tag, _, next) = der(rest)?;
        if tag != expected {
            return None;
        }
        rest = next;
    }
    let (SEQUENCE, key_info, _) = der(rest)? else {
        return None;
    };
    let (SEQUENCE, algorithm, after) = der(key_info)? else {
        return None;
    };
    let (0x06, oid, _) = der(algorithm)? else {
        return None;
    };
    if oid != RSA_ENCRYPTION {
        return None;
    }
    let (0x03, bits, _) = der(after)? else {
        return None;
    };
    let (&0, key) = bits.split_first()? else {
        return None;
    };
    let (SEQUENCE, _, _) = der(key)? else {
        return None;
    };
    Some(key)
}

/// `text` as base64 (whitespace ignored), if it is.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let compact: String = text.split_whitespace().collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()
}

/// The time of attribute `name`, `None` when absent, an error when it is not an `xs:dateTime`.
fn time_attribute(element: Element<'_>, name: &str) -> Result<Option<OffsetDateTime>, String> {
    element
        .attribute_value(name)
        .map(|value| {
            OffsetDateTime::parse(value, &Rfc3339)
                .map_err(|_| format!("{name} {value} is not a time"))
        })
        .transpose()
}

/// Logs a time condition that failed with both clocks: the IdP's time and this one's. (The page
/// says which condition failed; the times are in the log, where support compares them.)
fn log_clocks(condition: &str, at: OffsetDateTime, now: OffsetDateTime) {
    crate::log(format!(
        "sign-in: SAML {condition} {} (IdP clock), now {} (this clock)",
        saml_time(at),
        saml_time(now)
    ));
}

/// `at` as SAML writes times: UTC in whole seconds with `Z` (SAML Core §1.3.3).
fn saml_time(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
        ))
        .unwrap_or_else(|_| at.to_string())
}

/// `text` escaped for XML character data and attribute values.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The document element.
pub fn document_element<'d>(document: &sxd_document::dom::Document<'d>) -> Option<Element<'d>> {
    document
        .root()
        .children()
        .into_iter()
        .find_map(|child| child.element())
}

/// Whether `element` is `{namespace}local`.
fn is(element: Element<'_>, namespace: &str, local: &str) -> bool {
    element.name().local_part() == local && element.name().namespace_uri() == Some(namespace)
}

/// The child elements of `parent` named `{namespace}local`.
fn children<'d>(parent: Element<'d>, namespace: &str, local: &str) -> Vec<Element<'d>> {
    parent
        .children()
        .into_iter()
        .filter_map(|child| child.element())
        .filter(|element| is(*element, namespace, local))
        .collect()
}

/// The first child element of `parent` named `{namespace}local`.
fn child<'d>(parent: Element<'d>, namespace: &str, local: &str) -> Option<Element<'d>> {
    children(parent, namespace, local).into_iter().next()
}

/// Every element below `element`, bounded in depth.
fn descendants(element: Element<'_>) -> Vec<Element<'_>> {
    let mut found = Vec::new();
    let mut stack = vec![(element, 0usize)];
    while let Some((parent, depth)) = stack.pop() {
        if depth >= MAX_DEPTH {
            continue;
        }
        for child in parent.children().into_iter().filter_map(|c| c.element()) {
            found.push(child);
            stack.push((child, depth + 1));
        }
    }
    found
}

/// The text content of `element` (its text children), trimmed.
fn text(element: Element<'_>) -> String {
    element
        .children()
        .into_iter()
        .filter_map(|child| child.text().map(|text| text.text().to_owned()))
        .collect::<String>()
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    //! Tests of the SAML service provider: the DER walk, metadata, the AuthnRequest, signatures
    //! (genuine, untrusted, tampered, wrapped) and each check of a Response, on both releases
    //! where they differ. Responses are written here the way reenact's IdP writes them (see the
    //! module doc), signed with its committed test key pairs.

    use super::*;

    const KEY_1: &str = include_str!("../../src/mock/providers/keys/saml-idp-1.key.pem");
    const CERT_1: &str = include_str!("../../src/mock/providers/keys/saml-idp-1.crt.pem");
    const KEY_2: &str = include_str!("../../src/mock/providers/keys/saml-idp-2.key.pem");
    const CERT_2: &str = include_str!("../../src/mock/providers/keys/saml-idp-2.crt.pem");
    const PUBLIC_URL: &str = "https://ledger.acme.test";
    const ACS: &str = "https://ledger.acme.test/saml/acs";
    const SP: &str = "https://ledger.acme.test/saml/metadata";
    const LEGACY_SP: &str = "https://ledger-sync.example/sp";
    const IDP: &str = "https://idp.acme.test/saml";
    const REQUEST: &str = "_req1";

    /// The base64 body of the PEM block of `pem`.
    fn pem_base64(pem: &str) -> String {
        pem.lines()
            .skip_while(|line| !line.starts_with("-----BEGIN"))
            .skip(1)
            .take_while(|line| !line.starts_with("-----END"))
            .collect()
    }

    fn der_of(pem: &str) -> Vec<u8> {
        decode_base64(&pem_base64(pem)).expect("PEM base64")
    }

    fn key_pair(pem: &str) -> ring::signature::RsaKeyPair {
        ring::signature::RsaKeyPair::from_pkcs8(&der_of(pem)).expect("a PKCS#8 RSA key")
    }

    /// Which elements a test Response signs.
    #[derive(Clone, Copy, PartialEq)]
    enum Sign {
        Assertion,
        Response,
        Both,
    }

    /// A Response as reenact's IdP writes it, with every value a test may bend.
    struct Doc {
        audience: String,
        destination: String,
        recipient: String,
        issuer: String,
        not_before: i64,
        lifetime: i64,
        sign: Sign,
        key: (&'static str, &'static str),
        name_id: String,
        in_response_to: String,
    }

    impl Default for Doc {
        fn default() -> Doc {
            Doc {
                audience: SP.to_owned(),
                destination: ACS.to_owned(),
                recipient: ACS.to_owned(),
                issuer: IDP.to_owned(),
                not_before: 0,
                lifetime: 300,
                sign: Sign::Both,
                key: (KEY_1, CERT_1),
                name_id: "alice@acme.test".to_owned(),
                in_response_to: REQUEST.to_owned(),
            }
        }
    }

    /// An enveloped signature of the canonical element `unsigned` with `id`.
    fn signature(id: &str, unsigned: &str, (key, cert): (&str, &str)) -> String {
        let digest = base64::engine::general_purpose::STANDARD.encode(ring::digest::digest(
            &ring::digest::SHA256,
            unsigned.as_bytes(),
        ));
        let body = format!(
            "<ds:CanonicalizationMethod Algorithm=\"{EXC_C14N}\"></ds:CanonicalizationMethod>\
             <ds:SignatureMethod Algorithm=\"{RSA_SHA256}\"></ds:SignatureMethod>\
             <ds:Reference URI=\"#{id}\"><ds:Transforms>\
             <ds:Transform Algorithm=\"{ENVELOPED}\"></ds:Transform>\
             <ds:Transform Algorithm=\"{EXC_C14N}\"></ds:Transform></ds:Transforms>\
             <ds:DigestMethod Algorithm=\"{SHA256}\"></ds:DigestMethod>\
             <ds:DigestValue>{digest}</ds:DigestValue></ds:Reference>"
        );
        let canonical = format!("<ds:SignedInfo xmlns:ds=\"{NS_DSIG}\">{body}</ds:SignedInfo>");
        let pair = key_pair(key);
        let mut value = vec![0; pair.public().modulus_len()];
        pair.sign(
            &ring::signature::RSA_PKCS1_SHA256,
            &ring::rand::SystemRandom::new(),
            canonical.as_bytes(),
            &mut value,
        )
        .expect("signing");
        format!(
            "<ds:Signature xmlns:ds=\"{NS_DSIG}\"><ds:SignedInfo>{body}</ds:SignedInfo>\
             <ds:SignatureValue>{}</ds:SignatureValue><ds:KeyInfo><ds:X509Data>\
             <ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>",
            base64::engine::general_purpose::STANDARD.encode(value),
            pem_base64(cert)
        )
    }

    /// `start` + `issuer` + (signature) + `rest` + `end`, signed when `sign`.
    fn element(id: &str, parts: [&str; 4], sign: bool, key: (&str, &str)) -> String {
        let [start, issuer, rest, end] = parts;
        let unsigned = format!("{start}{issuer}{rest}{end}");
        if !sign {
            return unsigned;
        }
        format!(
            "{start}{issuer}{}{rest}{end}",
            signature(id, &unsigned, key)
        )
    }

    impl Doc {
        fn assertion(&self, id: &str, name_id: &str, now: OffsetDateTime) -> [String; 4] {
            let issued = saml_time(now);
            let not_before = saml_time(now + time::Duration::seconds(self.not_before));
            let expires = saml_time(now + time::Duration::seconds(self.lifetime));
            [
                format!(
                    "<saml:Assertion xmlns:saml=\"{NS_ASSERTION}\" ID=\"{id}\" IssueInstant=\"{issued}\" Version=\"2.0\">"
                ),
                format!("<saml:Issuer>{}</saml:Issuer>", self.issuer),
                format!(
                    "<saml:Subject><saml:NameID Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress\">{name_id}</saml:NameID>\
                     <saml:SubjectConfirmation Method=\"{CM_BEARER}\">\
                     <saml:SubjectConfirmationData InResponseTo=\"{}\" NotOnOrAfter=\"{expires}\" Recipient=\"{}\">\
                     </saml:SubjectConfirmationData></saml:SubjectConfirmation></saml:Subject>\
                     <saml:Conditions NotBefore=\"{not_before}\" NotOnOrAfter=\"{expires}\"><saml:AudienceRestriction>\
                     <saml:Audience>{}</saml:Audience></saml:AudienceRestriction></saml:Conditions>",
                    self.in_response_to, self.recipient, self.audience
                ),
                "</saml:Assertion>".to_owned(),
            ]
        }

        fn response_parts(&self, rest: &str, now: OffsetDateTime) -> [String; 4] {
            [
                format!(
                    "<samlp:Response xmlns:samlp=\"{NS_PROTOCOL}\" Destination=\"{}\" ID=\"_resp1\" InResponseTo=\"{}\" IssueInstant=\"{}\" Version=\"2.0\">",
                    self.destination,
                    self.in_response_to,
                    saml_time(now)
                ),
                format!(
                    "<saml:Issuer xmlns:saml=\"{NS_ASSERTION}\">{}</saml:Issuer>",
                    self.issuer
                ),
                format!(
                    "<samlp:Status><samlp:StatusCode Value=\"{STATUS_SUCCESS}\"></samlp:StatusCode></samlp:Status>{rest}"
                ),
                "</samlp:Response>".to_owned(),
            ]
        }

        /// The Response XML, issued now.
        fn xml(&self) -> String {
            let now = OffsetDateTime::now_utc();
            let parts = self.assertion("_assert1", &self.name_id, now);
            let assertion = element(
                "_assert1",
                parts.each_ref().map(String::as_str),
                matches!(self.sign, Sign::Assertion | Sign::Both),
                self.key,
            );
            let parts = self.response_parts(&assertion, now);
            element(
                "_resp1",
                parts.each_ref().map(String::as_str),
                matches!(self.sign, Sign::Response | Sign::Both),
                self.key,
            )
        }

        /// python3-saml's `signature_wrapping_attack2` shape: the attacker's assertion carries
        /// the genuine assertion's signature, the genuine one follows in an unknown element.
        fn wrapped(&self) -> String {
            let now = OffsetDateTime::now_utc();
            let genuine = self.assertion("_assert1", &self.name_id, now);
            let genuine = element(
                "_assert1",
                genuine.each_ref().map(String::as_str),
                true,
                self.key,
            );
            let start = genuine.find("<ds:Signature").expect("signed");
            let end = genuine.find("</ds:Signature>").expect("signed") + "</ds:Signature>".len();
            let [a_start, a_issuer, a_rest, a_end] =
                self.assertion("_assert1-spoofed", "attacker@evil.example", now);
            let spoofed = format!("{a_start}{a_issuer}{}{a_rest}{a_end}", &genuine[start..end]);
            let parts =
                self.response_parts(&format!("{spoofed}<XSW_ATTACK>{genuine}</XSW_ATTACK>"), now);
            parts.concat()
        }
    }

    fn metadata(certificates: &[&str]) -> IdpMetadata {
        IdpMetadata {
            entity_id: IDP.to_owned(),
            sso_url: "https://idp.acme.test/sso".to_owned(),
            certificates: certificates.iter().map(|pem| der_of(pem)).collect(),
        }
    }

    fn login(release: Release, legacy: &[&str]) -> SamlLogin {
        let settings = SsoSettings {
            public_url: PUBLIC_URL.to_owned(),
            timeout: Duration::from_secs(1),
            release,
        };
        SamlLogin::new(
            &settings,
            "http://127.0.0.1:9/metadata".to_owned(),
            SP.to_owned(),
            legacy.iter().map(|id| (*id).to_owned()).collect(),
        )
        .expect("a login")
    }

    /// The user or the refusal of `xml` on `release`, trusting certificate 1.
    fn check(release: Release, xml: &str) -> Result<String, String> {
        login(release, &[])
            .check(xml, REQUEST, &metadata(&[CERT_1]))
            .map_err(Refusal::message)
    }

    fn both(xml: &str) -> [Result<String, String>; 2] {
        Release::ALL.map(|release| check(release, xml))
    }

    #[test]
    fn the_der_walk_finds_the_rsa_key_of_a_certificate() {
        let certificate = der_of(CERT_1);
        let key = rsa_public_key(&certificate).expect("an RSA key");
        // It is the key of the pair: a signature by the private key verifies under it.
        let pair = key_pair(KEY_1);
        assert_eq!(key, pair.public().as_ref());
    }

    #[test]
    fn the_der_walk_never_panics_on_truncated_or_garbage_input() {
        let certificate = der_of(CERT_1);
        for length in 0..certificate.len() {
            assert_eq!(
                rsa_public_key(&certificate[..length]),
                None,
                "cut at {length}"
            );
        }
        let mut garbage = certificate.clone();
        for index in (0..garbage.len()).step_by(7) {
            garbage[index] ^= 0xff;
            let _ = rsa_public_key(&garbage);
        }
        for input in [
            &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff][..],
            &[0x30, 0x85, 1, 1, 1, 1, 1],
            &[0x1f, 0],
            &[0x30, 0x80],
        ] {
            assert_eq!(rsa_public_key(input), None);
        }
        // A well-formed DER that is not a certificate.
        assert_eq!(rsa_public_key(&[0x30, 0x03, 0x02, 0x01, 0x05]), None);
    }

    /// Metadata with both certificates, as the IdP publishes them during a rollover.
    fn rollover_metadata() -> String {
        let descriptor = |cert: &str| {
            format!(
                "<md:KeyDescriptor use=\"signing\"><ds:KeyInfo xmlns:ds=\"{NS_DSIG}\"><ds:X509Data>\
                 <ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>",
                pem_base64(cert)
            )
        };
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<md:EntityDescriptor xmlns:md=\"{NS_METADATA}\" entityID=\"{IDP}\">\
             <md:IDPSSODescriptor protocolSupportEnumeration=\"{NS_PROTOCOL}\">{}{}\
             <md:KeyDescriptor use=\"encryption\"><ds:KeyInfo xmlns:ds=\"{NS_DSIG}\"><ds:X509Data><ds:X509Certificate>AAAA</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>\
             <md:SingleSignOnService Binding=\"{BINDING_POST}\" Location=\"https://idp.acme.test/post\"/>\
             <md:SingleSignOnService Binding=\"{BINDING_REDIRECT}\" Location=\"https://idp.acme.test/sso\"/>\
             </md:IDPSSODescriptor></md:EntityDescriptor>",
            descriptor(CERT_1),
            descriptor(CERT_2)
        )
    }

    #[test]
    fn metadata_gives_the_issuer_the_sso_url_and_the_signing_certificates() {
        let xml = rollover_metadata();
        // SUP-5122: 1.4.2 keeps the first signing certificate only, 1.4.3 every one.
        assert_eq!(
            parse_metadata(&xml, Release::V1_4_2),
            Ok(metadata(&[CERT_1]))
        );
        assert_eq!(
            parse_metadata(&xml, Release::V1_4_3),
            Ok(metadata(&[CERT_1, CERT_2]))
        );
        let doctype = format!("<!DOCTYPE x [<!ENTITY e \"v\">]>{}", &xml[39..]);
        assert_eq!(
            parse_metadata(&doctype, Release::V1_4_3),
            Err("the metadata has a DOCTYPE, which is refused".to_owned())
        );
        let no_redirect = xml.replace(BINDING_REDIRECT, "urn:other");
        assert_eq!(
            parse_metadata(&no_redirect, Release::V1_4_3),
            Err("the metadata has no HTTP-Redirect SingleSignOnService".to_owned())
        );
        assert!(parse_metadata("<a>", Release::V1_4_3).is_err());
    }

    #[test]
    fn the_authn_request_deflates_to_what_the_idp_reads() {
        let xml = authn_request(
            REQUEST,
            "2026-12-03T18:00:00Z",
            "https://idp.acme.test/sso",
            ACS,
            SP,
        );
        let deflated = miniz_oxide::deflate::compress_to_vec(xml.as_bytes(), 6);
        let inflated = miniz_oxide::inflate::decompress_to_vec(&deflated).expect("raw DEFLATE");
        assert_eq!(inflated, xml.as_bytes());
        let package = sxd_document::parser::parse(&xml).expect("XML");
        let document = package.as_document();
        let root = document_element(&document).expect("a root");
        assert!(is(root, NS_PROTOCOL, "AuthnRequest"));
        assert_eq!(root.attribute_value("ID"), Some(REQUEST));
        assert_eq!(
            root.attribute_value("AssertionConsumerServiceURL"),
            Some(ACS)
        );
        assert_eq!(root.attribute_value("ProtocolBinding"), Some(BINDING_POST));
        assert_eq!(
            root.attribute_value("Destination"),
            Some("https://idp.acme.test/sso")
        );
        assert_eq!(
            child(root, NS_ASSERTION, "Issuer").map(text).as_deref(),
            Some(SP)
        );
    }

    #[test]
    fn pending_requests_are_single_use_and_bounded() {
        let mut pending = Pending::default();
        let now = Instant::now();
        pending.insert(REQUEST.to_owned(), now);
        assert!(!pending.take("_other", now));
        assert!(pending.take(REQUEST, now));
        assert!(!pending.take(REQUEST, now), "used once");
        pending.insert("_old".to_owned(), now);
        assert!(!pending.take("_old", now + PENDING_TTL), "expired");
        for serial in 0..MAX_PENDING + 5 {
            pending.insert(
                format!("_{serial}"),
                now + Duration::from_millis(serial as u64),
            );
        }
        assert_eq!(pending.sent.len(), MAX_PENDING);
        assert!(!pending.take("_0", now), "the oldest went first");
    }

    #[test]
    fn a_genuine_response_signs_alice_in_whatever_is_signed() {
        for sign in [Sign::Assertion, Sign::Response, Sign::Both] {
            let xml = Doc {
                sign,
                ..Doc::default()
            }
            .xml();
            assert_eq!(
                both(&xml),
                [
                    Ok("alice@acme.test".to_owned()),
                    Ok("alice@acme.test".to_owned())
                ]
            );
        }
        // The XML declaration the IdP may put first is fine.
        let xml = format!("<?xml version=\"1.0\"?>\n{}", Doc::default().xml());
        assert_eq!(
            check(Release::V1_4_2, &xml),
            Ok("alice@acme.test".to_owned())
        );
    }

    #[test]
    fn a_response_signed_by_another_certificate_is_refused() {
        let xml = Doc {
            key: (KEY_2, CERT_2),
            ..Doc::default()
        }
        .xml();
        let refused = login(Release::V1_4_3, &[]).check(&xml, REQUEST, &metadata(&[CERT_1]));
        assert!(matches!(
            refused,
            Err(Refusal::Signature(SignatureError::UnknownCertificate(ref der))) if *der == der_of(CERT_2)
        ));
        // Trusted once the metadata lists it (what 1.4.3 re-reads the metadata for).
        assert_eq!(
            login(Release::V1_4_3, &[])
                .check(&xml, REQUEST, &metadata(&[CERT_1, CERT_2]))
                .map_err(Refusal::message),
            Ok("alice@acme.test".to_owned())
        );
        // The key of certificate 2 with certificate 1 in KeyInfo: the signature does not verify.
        let forged = Doc {
            key: (KEY_2, CERT_1),
            ..Doc::default()
        }
        .xml();
        assert_eq!(
            check(Release::V1_4_3, &forged),
            Err("the signature of _assert1 does not verify".to_owned())
        );
    }

    #[test]
    fn a_tampered_assertion_is_refused() {
        for sign in [Sign::Assertion, Sign::Response, Sign::Both] {
            let xml = Doc {
                sign,
                ..Doc::default()
            }
            .xml()
            .replace(">alice@acme.test<", ">mallory@acme.test<");
            let refusal = check(Release::V1_4_3, &xml).expect_err("tampered");
            assert!(refusal.starts_with("the digest of _"), "{refusal}");
        }
        // A changed SignatureValue: the RSA signature fails.
        let xml = Doc {
            sign: Sign::Assertion,
            ..Doc::default()
        }
        .xml();
        let value_at =
            xml.find("<ds:SignatureValue>").expect("a value") + "<ds:SignatureValue>".len();
        let mut bent = xml.clone();
        let replacement = if &xml[value_at..value_at + 4] == "AAAA" {
            "BBBB"
        } else {
            "AAAA"
        };
        bent.replace_range(value_at..value_at + 4, replacement);
        assert_eq!(
            check(Release::V1_4_3, &bent),
            Err("the signature of _assert1 does not verify".to_owned())
        );
        // Unsigned, and in a form the shortcut does not read: refused, never accepted.
        let unsigned = Doc::default()
            .xml()
            .replace("<ds:Signature", "<ds:Sig")
            .replace("</ds:Signature>", "</ds:Sig>");
        assert!(check(Release::V1_4_3, &unsigned).is_err());
        let commented = Doc::default()
            .xml()
            .replace("<saml:Subject>", "<!-- x --><saml:Subject>");
        assert_eq!(
            check(Release::V1_4_3, &commented),
            Err("signature not verified: a comment, CDATA section or declaration".to_owned())
        );
    }

    #[test]
    fn a_wrapped_assertion_is_refused() {
        let xml = Doc {
            sign: Sign::Assertion,
            ..Doc::default()
        }
        .wrapped();
        assert_eq!(
            both(&xml),
            [
                Err("the Response must hold exactly one assertion (it holds 2)".to_owned()),
                Err("the Response must hold exactly one assertion (it holds 2)".to_owned())
            ]
        );
        // Past the count, the signature check alone refuses it too: the signature inside the
        // attacker's assertion names the genuine ID, not the element it is in.
        let package = sxd_document::parser::parse(&xml).expect("XML");
        let document = package.as_document();
        let response = document_element(&document).expect("a root");
        let spoofed = children(response, NS_ASSERTION, "Assertion")[0];
        assert_eq!(spoofed.attribute_value("ID"), Some("_assert1-spoofed"));
        assert_eq!(
            verify_signatures(&xml, response, spoofed, &[der_of(CERT_1)]),
            Err(invalid(
                "the signature in _assert1-spoofed references #_assert1, not the element it is in"
            ))
        );
        // A duplicated ID is refused.
        let genuine = Doc {
            sign: Sign::Assertion,
            ..Doc::default()
        }
        .xml();
        let raw = scan(&format!("<w>{genuine}{genuine}</w>")).expect("scanned");
        assert_eq!(
            verify_element(
                &format!("<w>{genuine}{genuine}</w>"),
                &raw,
                "_assert1",
                &[der_of(CERT_1)]
            ),
            Err(invalid("the ID _assert1 is not unique"))
        );
    }

    #[test]
    fn destination_issuer_recipient_and_status_are_checked() {
        let cases = [
            (
                Doc {
                    destination: "https://other.example/acs".to_owned(),
                    ..Doc::default()
                }
                .xml(),
                "the Response is for https://other.example/acs, not this ACS (https://ledger.acme.test/saml/acs)",
            ),
            (
                Doc {
                    issuer: "https://evil.example/idp".to_owned(),
                    ..Doc::default()
                }
                .xml(),
                "the Response is issued by https://evil.example/idp, not the IdP (https://idp.acme.test/saml)",
            ),
            (
                Doc {
                    recipient: "https://other.example/acs".to_owned(),
                    ..Doc::default()
                }
                .xml(),
                "no valid bearer SubjectConfirmation: Recipient https://other.example/acs is not this ACS (https://ledger.acme.test/saml/acs)",
            ),
            (
                Doc::default().xml().replace(
                    STATUS_SUCCESS,
                    "urn:oasis:names:tc:SAML:2.0:status:Requester",
                ),
                "the IdP answered status urn:oasis:names:tc:SAML:2.0:status:Requester",
            ),
        ];
        for (xml, reason) in cases {
            assert_eq!(both(&xml), [Err(reason.to_owned()), Err(reason.to_owned())]);
        }
        let other_request =
            login(Release::V1_4_3, &[]).check(&Doc::default().xml(), "_req2", &metadata(&[CERT_1]));
        assert_eq!(
            other_request.map_err(Refusal::message),
            Err("no valid bearer SubjectConfirmation: it answers _req1, not _req2".to_owned())
        );
    }

    #[test]
    fn the_validity_window_is_checked_against_this_clock() {
        let expired = Doc {
            not_before: -900,
            lifetime: -600,
            ..Doc::default()
        }
        .xml();
        for refusal in both(&expired) {
            let refusal = refusal.expect_err("expired");
            assert!(
                refusal.starts_with("the assertion has expired"),
                "{refusal}"
            );
        }
        let early = Doc {
            not_before: 600,
            lifetime: 900,
            ..Doc::default()
        }
        .xml();
        for refusal in both(&early) {
            let refusal = refusal.expect_err("not yet valid");
            assert!(
                refusal.starts_with("the assertion is not valid yet"),
                "{refusal}"
            );
        }
    }

    /// SUP-5136: an IdP 90 s ahead (NotBefore in this clock's future) or a little behind
    /// (NotOnOrAfter just passed): 1.4.2 has no tolerance, 1.4.3 allows 300 s.
    #[test]
    fn a_small_clock_skew_is_refused_by_1_4_2_and_tolerated_by_1_4_3() {
        let ahead = Doc {
            not_before: 90,
            lifetime: 390,
            ..Doc::default()
        }
        .xml();
        let [old, new] = both(&ahead);
        let refusal = old.expect_err("1.4.2 refuses");
        assert!(
            refusal.starts_with("the assertion is not valid yet")
                && refusal.ends_with("tolerance 0 s)"),
            "{refusal}"
        );
        assert_eq!(new, Ok("alice@acme.test".to_owned()));
        let behind = Doc {
            not_before: -400,
            lifetime: -60,
            ..Doc::default()
        }
        .xml();
        let [old, new] = both(&behind);
        let refusal = old.expect_err("1.4.2 refuses");
        assert!(
            refusal.starts_with("the assertion has expired"),
            "{refusal}"
        );
        assert_eq!(new, Ok("alice@acme.test".to_owned()));
        // The tolerance is bounded: 6 minutes ahead is refused by both.
        let far = Doc {
            not_before: 360,
            lifetime: 660,
            ..Doc::default()
        }
        .xml();
        let [old, new] = both(&far);
        assert!(old.is_err());
        let refusal = new.expect_err("1.4.3 refuses too");
        assert!(refusal.ends_with("tolerance 300 s)"), "{refusal}");
    }

    #[test]
    fn a_legacy_audience_is_refused_bare_by_1_4_2_and_accepted_by_1_4_3() {
        let xml = Doc {
            audience: LEGACY_SP.to_owned(),
            ..Doc::default()
        }
        .xml();
        let metadata = metadata(&[CERT_1]);
        let on = |release, legacy: &[&str]| {
            login(release, legacy)
                .check(&xml, REQUEST, &metadata)
                .map_err(Refusal::message)
        };
        // SUP-5129 (bug): the allow-list is not read, and the refusal says nothing.
        assert_eq!(
            on(Release::V1_4_2, &[LEGACY_SP]),
            Err(BARE_REFUSAL.to_owned())
        );
        // SUP-5129 (fix).
        assert_eq!(
            on(Release::V1_4_3, &[LEGACY_SP]),
            Ok("alice@acme.test".to_owned())
        );
        assert_eq!(
            on(Release::V1_4_3, &[]),
            Err(format!(
                "AudienceRestriction validation failed: expected audience {SP}, got {LEGACY_SP}"
            ))
        );
        let stranger = Doc {
            audience: "https://stranger.example".to_owned(),
            ..Doc::default()
        }
        .xml();
        assert_eq!(
            login(Release::V1_4_3, &[LEGACY_SP])
                .check(&stranger, REQUEST, &metadata)
                .map_err(Refusal::message),
            Err(format!(
                "AudienceRestriction validation failed: expected audience {SP} (or legacy {LEGACY_SP}), got https://stranger.example"
            ))
        );
    }

    #[test]
    fn responses_that_cannot_be_read_say_why() {
        assert_eq!(
            decode_response("***"),
            Err("the SAMLResponse is not base64".to_owned())
        );
        let doctype = "<!DOCTYPE r [<!ENTITY x \"y\">]><r/>";
        assert_eq!(
            answered_request(doctype),
            Err("the SAMLResponse has a DOCTYPE, which is refused".to_owned())
        );
        assert_eq!(
            answered_request(
                "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\"/>"
            ),
            Err("the Response answers no AuthnRequest (no InResponseTo)".to_owned())
        );
        // Shapes the XML parser is slow on are refused before it runs.
        let deep = format!("{}{}", "<a>".repeat(100_000), "</a>".repeat(100_000));
        let wide = format!(
            "<r {}/>",
            (0..30_000)
                .map(|i| format!("a{i}=\"x\""))
                .collect::<Vec<_>>()
                .join(" ")
        );
        let started = Instant::now();
        for (xml, name) in [(deep, "deep"), (wide, "wide")] {
            assert_eq!(
                answered_request(&xml),
                Err(format!(
                    "the SAMLResponse nests deeper than {MAX_DEPTH} elements or has an element with more than {MAX_ATTRIBUTES} attributes"
                )),
                "{name}"
            );
        }
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(shape_within(
            "<a x='>'><!-- <b><b><b> --><c/><d>t</d></a>",
            2,
            1
        ));
        assert!(!shape_within("<a><b><c></c></b></a>", 2, 1));
        for broken in ["", "<", "<a><b></a>", "<a></a><b></b>", "<a x=\"1></a>"] {
            assert!(scan(broken).is_err(), "{broken}");
        }
    }

    /// A metadata server on loopback: serves `metadata` (changeable) and counts the reads.
    async fn metadata_server(
        metadata: std::sync::Arc<std::sync::Mutex<String>>,
        reads: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    ) -> String {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!(
            "http://{}/metadata",
            listener.local_addr().expect("address")
        );
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut request = Vec::new();
                let mut buffer = [0; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let body = metadata.lock().expect("metadata").clone();
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/samlmetadata+xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
            }
        });
        url
    }

    /// The ID of the AuthnRequest in the `SAMLRequest` of `location`.
    fn request_id(location: &str) -> String {
        let query = location.split_once('?').expect("a query").1;
        let encoded = form_urlencoded::parse(query.as_bytes())
            .find(|(name, _)| name == "SAMLRequest")
            .expect("SAMLRequest")
            .1
            .into_owned();
        let deflated = decode_base64(&encoded).expect("base64");
        let xml = miniz_oxide::inflate::decompress_to_vec(&deflated).expect("raw DEFLATE");
        let xml = String::from_utf8(xml).expect("UTF-8");
        let package = sxd_document::parser::parse(&xml).expect("XML");
        let document = package.as_document();
        let root = document_element(&document).expect("a root");
        root.attribute_value("ID").expect("an ID").to_owned()
    }

    /// The ACS form posting a Response to the AuthnRequest of `location`, signed by key 2.
    fn form_signed_by_2(location: &str) -> String {
        let xml = Doc {
            key: (KEY_2, CERT_2),
            in_response_to: request_id(location),
            ..Doc::default()
        }
        .xml();
        form_urlencoded::Serializer::new(String::new())
            .append_pair(
                "SAMLResponse",
                &base64::engine::general_purpose::STANDARD.encode(&xml),
            )
            .finish()
    }

    /// SUP-5122 end to end over HTTP: an IdP whose metadata gains its new certificate only at the
    /// switch. 1.4.2 keeps the metadata it read at the first login and refuses; 1.4.3 reads it
    /// again for the unknown certificate and signs alice in. A certificate still unknown after
    /// the re-read is not re-read for again within 5 minutes.
    #[tokio::test]
    async fn a_response_signed_by_an_unknown_certificate_makes_1_4_3_reread_the_metadata() {
        let only_old = rollover_metadata().replacen(
            &format!(
                "<md:KeyDescriptor use=\"signing\"><ds:KeyInfo xmlns:ds=\"{NS_DSIG}\"><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>",
                pem_base64(CERT_2)
            ),
            "",
            1,
        );
        assert_ne!(only_old, rollover_metadata(), "certificate 2 removed");
        for (release, rotated, expected, expected_reads) in [
            (
                Release::V1_4_2,
                true,
                Err(SignatureError::UnknownCertificate(der_of(CERT_2)).message()),
                1,
            ),
            (Release::V1_4_3, true, Ok("alice@acme.test".to_owned()), 2),
            (
                Release::V1_4_3,
                false,
                Err(SignatureError::UnknownCertificate(der_of(CERT_2)).message()),
                2,
            ),
        ] {
            let metadata = std::sync::Arc::new(std::sync::Mutex::new(only_old.clone()));
            let reads = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let url = metadata_server(metadata.clone(), reads.clone()).await;
            let settings = SsoSettings {
                public_url: PUBLIC_URL.to_owned(),
                timeout: Duration::from_secs(5),
                release,
            };
            let login = SamlLogin::new(&settings, url, SP.to_owned(), Vec::new()).expect("a login");
            let location = login.start().await.expect("the login starts");
            assert!(
                location.starts_with("https://idp.acme.test/sso?SAMLRequest="),
                "{location}"
            );
            assert!(location.ends_with("&RelayState=%2Fhome"), "{location}");
            if rotated {
                *metadata.lock().expect("metadata") = rollover_metadata();
            }
            let body = form_signed_by_2(&location);
            assert_eq!(
                login.acs(body.as_bytes()).await,
                expected,
                "{release} rotated={rotated}"
            );
            assert_eq!(
                reads.load(std::sync::atomic::Ordering::SeqCst),
                expected_reads,
                "{release} rotated={rotated}"
            );
            // The request is used up.
            assert_eq!(
                login.acs(body.as_bytes()).await,
                Err(format!(
                    "the Response answers {}, not a pending AuthnRequest of ours",
                    request_id(&location)
                ))
            );
            if !rotated {
                // Another login signed by the same unknown certificate: no second re-read.
                let location = login.start().await.expect("the login starts");
                let body = form_signed_by_2(&location);
                assert_eq!(login.acs(body.as_bytes()).await, expected);
                assert_eq!(
                    reads.load(std::sync::atomic::Ordering::SeqCst),
                    2,
                    "not re-read within 5 minutes"
                );
            }
        }
    }

    #[tokio::test]
    async fn an_idp_that_cannot_be_reached_is_named_in_the_refusal() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!(
            "http://{}/metadata",
            listener.local_addr().expect("address")
        );
        drop(listener);
        let settings = SsoSettings {
            public_url: PUBLIC_URL.to_owned(),
            timeout: Duration::from_secs(2),
            release: Release::V1_4_3,
        };
        let login = SamlLogin::new(&settings, url, SP.to_owned(), Vec::new()).expect("a login");
        let refusal = login.start().await.expect_err("no IdP");
        assert!(
            refusal.starts_with("reading the IdP metadata failed: the IdP is unreachable: "),
            "{refusal}"
        );
    }
}
