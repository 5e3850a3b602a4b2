//! `provider: saml`, [`Saml`]: a SAML 2.0 identity provider for the Web Browser SSO profile
//! (SAML Profiles §4.1): metadata with one or two signing certificates, SP-initiated login (an
//! `AuthnRequest` by HTTP-Redirect or HTTP-POST, answered by an auto-submitting HTML form that
//! posts the `SAMLResponse` to the ACS) and IdP-initiated login (an unsolicited Response), with
//! its state in [`SamlState`].
//!
//! Responses follow Profiles §4.1.4.2 and are signed with RSA-SHA256, exclusive c14n and an
//! enveloped signature on the Response, the Assertion, both, or neither. The signed elements are
//! written already in their exclusive-c14n form (namespace declarations where exclusive c14n
//! renders them, attributes in canonical order, no empty-element tags, canonical escaping), so
//! the digest is over exactly the bytes sent; `xmlsec1 --verify` and `@node-saml/node-saml`
//! judge that in `conformance/saml/`. Every knob that bends a rule (lifetime, clock and offset,
//! audience, recipient, destination, `InResponseTo`, NameID, certificate rotation, signature
//! wrapping) and its source is in `docs/providers/saml.md`.

use base64::Engine as _;
use bytes::Bytes;
use hyper::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use hyper::{Response, StatusCode};
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use super::kit::Fake;
use super::{ProviderAnswer, ProviderRequest};
use crate::mock::render::seeded_uuid;
use crate::scenario::model::{SamlClock, SamlSettings, SamlSigning, SamlUser};

/// The SAML 2.0 protocol namespace (`samlp:`), SAML Core §1.2.
pub(crate) const NS_PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
/// The SAML 2.0 assertion namespace (`saml:`), SAML Core §1.2.
pub(crate) const NS_ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
/// The SAML 2.0 metadata namespace (`md:`), SAML Metadata §2.
pub(crate) const NS_METADATA: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
/// XML Signature (`ds:`).
pub(crate) const NS_DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";
/// Exclusive XML Canonicalization 1.0 without comments.
pub(crate) const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
/// RSA-SHA256 (RFC 6931 §2.3.2).
pub(crate) const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
/// SHA-256 digests (XML Encryption §5.7.2).
pub(crate) const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
/// The enveloped-signature transform (XML Signature §6.6.4).
pub(crate) const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
/// HTTP-Redirect binding (SAML Bindings §3.4).
pub(crate) const BINDING_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
/// HTTP-POST binding (SAML Bindings §3.5).
pub(crate) const BINDING_POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
/// Largest `SAMLRequest` accepted, encoded or inflated (reenact's limit).
const MAX_REQUEST_BYTES: usize = 64 * 1024;

/// The fake IdP's built-in key pairs and certificates: public TEST material, not secrets,
/// committed so signatures and snapshots are the same on every run.
const KEYS: [(&str, &str); 2] = [
    (
        include_str!("keys/saml-idp-1.key.pem"),
        include_str!("keys/saml-idp-1.crt.pem"),
    ),
    (
        include_str!("keys/saml-idp-2.key.pem"),
        include_str!("keys/saml-idp-2.crt.pem"),
    ),
];

/// One built-in signing key: the key pair and its certificate (base64 DER).
#[derive(Debug)]
struct SigningKey {
    pair: RsaKeyPair,
    certificate: String,
}

/// The RSA key pair of a PKCS#8 PEM text, if it holds one `ring` can load.
fn rsa_key_from_pem(pem: &str) -> Option<RsaKeyPair> {
    RsaKeyPair::from_pkcs8(&crate::pem::block(pem, "PRIVATE KEY")?).ok()
}

/// The base64 DER of the first certificate of a PEM text, if it holds one (an X.509
/// certificate is a DER SEQUENCE).
fn certificate_from_pem(pem: &str) -> Option<String> {
    let der = crate::pem::block(pem, "CERTIFICATE")?;
    (der.first() == Some(&0x30)).then(|| crate::pem::block_base64(pem, "CERTIFICATE"))?
}

fn load_pair(key: &str, cert: &str) -> Option<SigningKey> {
    Some(SigningKey {
        pair: rsa_key_from_pem(key)?,
        certificate: certificate_from_pem(cert)?,
    })
}

/// Built-in key pair `number` (1 or 2).
fn load_key(number: u8) -> Option<SigningKey> {
    let (key, cert) = KEYS.get(usize::from(number).checked_sub(1)?)?;
    load_pair(key, cert)
}

/// A configured SAML IdP fake.
#[derive(Debug)]
pub(crate) struct Saml {
    mock: String,
    settings: SamlSettings,
    /// Built-in keys 1 and 2 (`None` only if a committed key failed to load).
    keys: [Option<SigningKey>; 2],
    /// The rotation's switch and retirement times, parsed.
    rotation: Option<(u8, OffsetDateTime, Option<OffsetDateTime>)>,
}

/// What one SAML IdP fake holds: the requests it read, the responses it issued, the logins.
#[derive(Debug, Default)]
pub(crate) struct SamlState {
    serial: u64,
    authn_requests: Vec<Value>,
    responses: Vec<Value>,
    logins: Vec<Value>,
}

/// An `AuthnRequest` as the IdP read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AuthnRequest {
    /// Its `ID`.
    pub id: String,
    /// Its `<Issuer>`, the SP's entity id.
    pub issuer: Option<String>,
    /// Its `AssertionConsumerServiceURL`.
    pub acs_url: Option<String>,
}

/// Why a `SAMLRequest` could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum RequestError {
    #[error("`SAMLRequest` is missing")]
    Missing,
    #[error("`SAMLRequest` is longer than {MAX_REQUEST_BYTES} bytes")]
    TooLong,
    #[error("`SAMLRequest` is not base64")]
    NotBase64,
    #[error("`SAMLRequest` is not raw DEFLATE (SAML Bindings 3.4.4.1)")]
    NotDeflate,
    #[error("`SAMLRequest` is not UTF-8 XML")]
    NotXml,
    #[error("`SAMLRequest` is not a samlp:AuthnRequest")]
    NotAuthnRequest,
    #[error("the AuthnRequest has no `ID`")]
    NoId,
}

/// Read an AuthnRequest from its base64 form, inflating it first for HTTP-Redirect.
pub(crate) fn read_authn_request(
    encoded: Option<&str>,
    deflated: bool,
) -> Result<AuthnRequest, RequestError> {
    let encoded = encoded
        .filter(|e| !e.is_empty())
        .ok_or(RequestError::Missing)?;
    if encoded.len() > MAX_REQUEST_BYTES {
        return Err(RequestError::TooLong);
    }
    let compact: String = encoded.split_whitespace().collect();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|_| RequestError::NotBase64)?;
    let xml = if deflated {
        miniz_oxide::inflate::decompress_to_vec_with_limit(&raw, MAX_REQUEST_BYTES)
            .map_err(|_| RequestError::NotDeflate)?
    } else {
        raw
    };
    let text = String::from_utf8(xml).map_err(|_| RequestError::NotXml)?;
    let package = sxd_document::parser::parse(&text).map_err(|_| RequestError::NotXml)?;
    let document = package.as_document();
    let root = document
        .root()
        .children()
        .into_iter()
        .find_map(|child| child.element())
        .ok_or(RequestError::NotXml)?;
    if root.name().local_part() != "AuthnRequest"
        || root.name().namespace_uri() != Some(NS_PROTOCOL)
    {
        return Err(RequestError::NotAuthnRequest);
    }
    let id = root
        .attribute_value("ID")
        .filter(|id| !id.is_empty())
        .ok_or(RequestError::NoId)?;
    let issuer = root
        .children()
        .into_iter()
        .filter_map(|child| child.element())
        .find(|e| {
            e.name().local_part() == "Issuer" && e.name().namespace_uri() == Some(NS_ASSERTION)
        })
        .map(|e| {
            e.children()
                .into_iter()
                .filter_map(|c| c.text().map(|t| t.text().to_owned()))
                .collect::<String>()
                .trim()
                .to_owned()
        });
    Ok(AuthnRequest {
        id: id.to_owned(),
        issuer,
        acs_url: root
            .attribute_value("AssertionConsumerServiceURL")
            .map(str::to_owned),
    })
}

/// `text` escaped as exclusive c14n writes character data (`&`, `<`, `>`, CR).
pub(crate) fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
    out
}

/// `value` escaped as exclusive c14n writes attribute values (`&`, `<`, `"`, TAB, LF, CR).
pub(crate) fn escape_attr(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
    out
}

/// `value` escaped for an HTML attribute.
fn escape_html(value: &str) -> String {
    escape_attr(value)
        .replace('>', "&gt;")
        .replace('\'', "&#39;")
}

/// `at` as SAML writes times: UTC `xs:dateTime` in whole seconds with `Z` (SAML Core §1.3.3).
pub(crate) fn saml_time(at: OffsetDateTime) -> String {
    format!("{}Z", crate::timestamp::format_utc_seconds(at))
}

/// The base64 SHA-256 of `bytes`.
fn digest(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD
        .encode(ring::digest::digest(&ring::digest::SHA256, bytes))
}

/// An element written canonically: its start tag, its children (where a signature goes after
/// the first, the `<Issuer>`, as Profiles §4.1.4.2 and XML-DSig's schema place it) and its
/// end tag.
struct Signable {
    id: String,
    start: String,
    issuer: String,
    rest: String,
    end: String,
}

impl Signable {
    /// The element without a signature.
    fn unsigned(&self) -> String {
        [&self.start, &self.issuer, &self.rest, &self.end]
            .into_iter()
            .map(String::as_str)
            .collect()
    }

    /// The element with an enveloped signature by `key` after its `<Issuer>`: the digest is over
    /// the unsigned element, which is already its exclusive-c14n form (the enveloped-signature
    /// transform removes exactly the signature).
    fn signed(&self, key: &SigningKey) -> Option<String> {
        let signature = signature(&self.id, &digest(self.unsigned().as_bytes()), key)?;
        Some(
            [&self.start, &self.issuer, &signature, &self.rest, &self.end]
                .into_iter()
                .map(String::as_str)
                .collect(),
        )
    }
}

/// A `<ds:Signature>` over the element `id` with `digest_value`, signed by `key`.
fn signature(id: &str, digest_value: &str, key: &SigningKey) -> Option<String> {
    let signed_info_body = format!(
        "<ds:CanonicalizationMethod Algorithm=\"{EXC_C14N}\"></ds:CanonicalizationMethod>\
         <ds:SignatureMethod Algorithm=\"{RSA_SHA256}\"></ds:SignatureMethod>\
         <ds:Reference URI=\"#{id}\"><ds:Transforms>\
         <ds:Transform Algorithm=\"{ENVELOPED}\"></ds:Transform>\
         <ds:Transform Algorithm=\"{EXC_C14N}\"></ds:Transform></ds:Transforms>\
         <ds:DigestMethod Algorithm=\"{SHA256}\"></ds:DigestMethod>\
         <ds:DigestValue>{digest_value}</ds:DigestValue></ds:Reference>",
        id = escape_attr(id)
    );
    // Exclusive c14n of SignedInfo alone renders `xmlns:ds` on it (visibly used, no rendered
    // ancestor); in the document it inherits the declaration from `<ds:Signature>`.
    let canonical =
        format!("<ds:SignedInfo xmlns:ds=\"{NS_DSIG}\">{signed_info_body}</ds:SignedInfo>");
    let mut value = vec![0; key.pair.public().modulus_len()];
    key.pair
        .sign(
            &RSA_PKCS1_SHA256,
            &ring::rand::SystemRandom::new(),
            canonical.as_bytes(),
            &mut value,
        )
        .ok()?;
    let value = base64::engine::general_purpose::STANDARD.encode(value);
    Some(format!(
        "<ds:Signature xmlns:ds=\"{NS_DSIG}\"><ds:SignedInfo>{signed_info_body}</ds:SignedInfo>\
         <ds:SignatureValue>{value}</ds:SignatureValue><ds:KeyInfo><ds:X509Data>\
         <ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>",
        cert = key.certificate
    ))
}

/// What a login answers for: the request it answers (if any), where it goes, who logs in.
struct Login<'a> {
    request: Option<&'a AuthnRequest>,
    acs_url: String,
    user: &'a SamlUser,
    relay_state: Option<String>,
}

impl Saml {
    /// A fake serving as mock `mock` with `settings`.
    pub(crate) fn new(mock: &str, settings: SamlSettings) -> Saml {
        let rotation = settings.rotation.as_ref().and_then(|rotation| {
            let at = OffsetDateTime::parse(&rotation.at, &Rfc3339).ok()?;
            let retire = rotation
                .retire
                .as_deref()
                .and_then(|r| OffsetDateTime::parse(r, &Rfc3339).ok());
            Some((rotation.to, at, retire))
        });
        // The scenario's own pairs replace the built-in ones of the same number.
        let keys = [1, 2].map(
            |number: u8| match settings.keys.get(usize::from(number - 1)) {
                Some(own) => load_pair(&own.key_pem.0, &own.cert_pem),
                None => load_key(number),
            },
        );
        Saml {
            mock: format!("{mock}/saml"),
            settings,
            keys,
            rotation,
        }
    }

    fn key(&self, number: u8) -> Option<&SigningKey> {
        self.keys
            .get(usize::from(number).checked_sub(1)?)
            .and_then(Option::as_ref)
    }

    /// The key that signs at virtual time `now`: `rotation.to` from `rotation.at` on.
    pub(crate) fn signing_cert_at(&self, now: OffsetDateTime) -> u8 {
        match self.rotation {
            Some((to, at, _)) if now >= at => to,
            _ => self.settings.signing_cert,
        }
    }

    /// The certificates the metadata lists at virtual time `now`, signing one first: both during
    /// a rollover (from the start until `retire`), SAML Metadata §2.4.1.1 allowing several
    /// `<KeyDescriptor use="signing">`.
    pub(crate) fn published_keys_at(&self, now: OffsetDateTime) -> Vec<u8> {
        let from = self.settings.signing_cert;
        match self.rotation {
            None => vec![from],
            Some((to, at, _)) if now < at => vec![from, to],
            Some((to, _, Some(retire))) if now >= retire => vec![to],
            Some((to, _, _)) => vec![to, from],
        }
    }

    /// The issuing clock: the virtual or the real clock, plus the offset.
    fn issue_instant(&self, request: &ProviderRequest<'_>) -> OffsetDateTime {
        let base = match self.settings.clock {
            SamlClock::Virtual => request.now,
            SamlClock::Real => OffsetDateTime::now_utc(),
        };
        let at = base
            .checked_add(Duration::seconds(self.settings.clock_offset_seconds))
            .unwrap_or(base);
        at.replace_nanosecond(0).unwrap_or(at)
    }

    /// The base URL of the SSO endpoints: `base_url`, else the IdP's own URL as the client
    /// reached it ([`ProviderRequest::self_url`]: `https` on a TLS mock).
    fn base_url(&self, request: &ProviderRequest<'_>) -> String {
        match &self.settings.base_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => request.self_url(),
        }
    }

    /// `GET /metadata`: the IdP's `EntityDescriptor` (SAML Metadata §2.3.2, §2.4.3).
    fn metadata(&self, request: &ProviderRequest<'_>) -> Response<Bytes> {
        let base = self.base_url(request);
        let mut xml = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<md:EntityDescriptor xmlns:md=\"{NS_METADATA}\" \
             entityID=\"{}\"><md:IDPSSODescriptor WantAuthnRequestsSigned=\"false\" \
             protocolSupportEnumeration=\"{NS_PROTOCOL}\">",
            escape_attr(&self.settings.entity_id)
        );
        for number in self.published_keys_at(request.now) {
            if let Some(key) = self.key(number) {
                xml.push_str(&format!(
                    "<md:KeyDescriptor use=\"signing\"><ds:KeyInfo xmlns:ds=\"{NS_DSIG}\"><ds:X509Data>\
                     <ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>",
                    key.certificate
                ));
            }
        }
        xml.push_str(&format!(
            "<md:NameIDFormat>{}</md:NameIDFormat>",
            escape_text(&self.settings.name_id_format)
        ));
        for binding in [BINDING_REDIRECT, BINDING_POST] {
            xml.push_str(&format!(
                "<md:SingleSignOnService Binding=\"{binding}\" Location=\"{}/sso\"/>",
                escape_attr(&base)
            ));
        }
        xml.push_str("</md:IDPSSODescriptor></md:EntityDescriptor>\n");
        let mut response = text_response(StatusCode::OK, "application/samlmetadata+xml", xml);
        response
            .headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }

    /// The user a login is for: `user=` of the query or form, else the first user; the `403`
    /// page when there is no such user.
    fn user(&self, name: Option<String>) -> Result<&SamlUser, Box<Response<Bytes>>> {
        let found = match &name {
            Some(name) if !name.is_empty() => {
                self.settings.users.iter().find(|u| u.name_id == *name)
            }
            _ => self.settings.users.first(),
        };
        found.ok_or_else(|| {
            let who = name.unwrap_or_default();
            Box::new(page(
                StatusCode::FORBIDDEN,
                &format!("No user {who} at this identity provider."),
            ))
        })
    }

    /// `GET /sso` (HTTP-Redirect, SAML Bindings §3.4) or `POST /sso` (HTTP-POST, §3.5): read the
    /// AuthnRequest, check its issuer and ACS URL against `sp`, and answer the login's form.
    fn sso(
        &self,
        state: &mut SamlState,
        request: &ProviderRequest<'_>,
        redirect: bool,
    ) -> Response<Bytes> {
        let form = request.form();
        let param = |name: &str| {
            if redirect {
                request.query_param(name)
            } else {
                form.get(name).cloned()
            }
        };
        let authn = match read_authn_request(param("SAMLRequest").as_deref(), redirect) {
            Ok(authn) => authn,
            Err(err) => {
                return page(
                    StatusCode::BAD_REQUEST,
                    &format!("Invalid SAML request: {err}."),
                );
            }
        };
        let relay_state = param("RelayState");
        state.authn_requests.push(json!({
            "id": authn.id,
            "issuer": authn.issuer,
            "acs_url": authn.acs_url,
            "binding": if redirect { "HTTP-Redirect" } else { "HTTP-POST" },
            "relay_state": relay_state,
        }));
        let sp = &self.settings.sp;
        if authn.issuer.as_deref() != Some(sp.entity_id.as_str()) {
            return page(
                StatusCode::BAD_REQUEST,
                &format!(
                    "Unknown service provider {}.",
                    authn.issuer.as_deref().unwrap_or("(no Issuer)")
                ),
            );
        }
        if authn
            .acs_url
            .as_deref()
            .is_some_and(|acs| acs != sp.acs_url)
        {
            return page(
                StatusCode::BAD_REQUEST,
                "The AssertionConsumerServiceURL does not match the one registered for the service provider.",
            );
        }
        let user = match self.user(param("user")) {
            Ok(user) => user,
            Err(response) => return *response,
        };
        let login = Login {
            request: Some(&authn),
            acs_url: sp.acs_url.clone(),
            user,
            relay_state,
        };
        self.answer(state, request, &login)
    }

    /// `GET /idp-initiated?user=..&RelayState=..`: an unsolicited Response (Profiles §4.1.5).
    fn idp_initiated(
        &self,
        state: &mut SamlState,
        request: &ProviderRequest<'_>,
    ) -> Response<Bytes> {
        let user = match self.user(request.query_param("user")) {
            Ok(user) => user,
            Err(response) => return *response,
        };
        let login = Login {
            request: None,
            acs_url: self.settings.sp.acs_url.clone(),
            user,
            relay_state: request.query_param("RelayState"),
        };
        self.answer(state, request, &login)
    }

    /// The HTML page with the form that posts the Response to the ACS (SAML Bindings §3.5.4).
    fn answer(
        &self,
        state: &mut SamlState,
        request: &ProviderRequest<'_>,
        login: &Login<'_>,
    ) -> Response<Bytes> {
        let Some(xml) = self.response_xml(state, request, login) else {
            return page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The identity provider could not sign.",
            );
        };
        let encoded = base64::engine::general_purpose::STANDARD.encode(xml);
        let mut html = format!(
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Working...</title></head>\
             <body onload=\"document.forms[0].submit()\"><noscript><p>Script is disabled. Click Submit to continue.</p></noscript>\
             <form method=\"POST\" action=\"{}\"><input type=\"hidden\" name=\"SAMLResponse\" value=\"{encoded}\">",
            escape_html(&login.acs_url)
        );
        if let Some(relay) = &login.relay_state {
            html.push_str(&format!(
                "<input type=\"hidden\" name=\"RelayState\" value=\"{}\">",
                escape_html(relay)
            ));
        }
        html.push_str(
            "<noscript><input type=\"submit\" value=\"Submit\"></noscript></form></body></html>\n",
        );
        text_response(StatusCode::OK, "text/html; charset=utf-8", html)
    }

    /// The Response of `login` (Profiles §4.1.4.2), signed as `sign` says, recorded in `state`.
    fn response_xml(
        &self,
        state: &mut SamlState,
        request: &ProviderRequest<'_>,
        login: &Login<'_>,
    ) -> Option<String> {
        let s = &self.settings;
        let now = self.issue_instant(request);
        let issued = saml_time(now);
        let expires = saml_time(
            now.checked_add(Duration::seconds(s.lifetime_seconds))
                .unwrap_or(now),
        );
        let not_before = saml_time(
            now.checked_add(Duration::seconds(s.not_before_seconds))
                .unwrap_or(now),
        );
        let response_id = self.next_id(state);
        let assertion_id = self.next_id(state);
        let session_index = self.next_id(state);
        let in_response_to = s
            .in_response_to
            .clone()
            .or_else(|| login.request.map(|r| r.id.clone()));
        let destination = s
            .destination
            .clone()
            .unwrap_or_else(|| login.acs_url.clone());
        let recipient = s.recipient.clone().unwrap_or_else(|| login.acs_url.clone());
        let audience = s.audience.clone().unwrap_or_else(|| s.sp.entity_id.clone());
        let irt_attr = |irt: &Option<String>| {
            irt.as_ref()
                .map(|v| format!(" InResponseTo=\"{}\"", escape_attr(v)))
                .unwrap_or_default()
        };
        let issuer = format!(
            "<saml:Issuer xmlns:saml=\"{NS_ASSERTION}\">{}</saml:Issuer>",
            escape_text(&s.entity_id)
        );
        let assertion_body = |name_id: &str| {
            let mut body = format!(
                "<saml:Subject><saml:NameID Format=\"{format}\">{name_id}</saml:NameID>\
                 <saml:SubjectConfirmation Method=\"urn:oasis:names:tc:SAML:2.0:cm:bearer\">\
                 <saml:SubjectConfirmationData{irt} NotOnOrAfter=\"{expires}\" Recipient=\"{recipient}\">\
                 </saml:SubjectConfirmationData></saml:SubjectConfirmation></saml:Subject>\
                 <saml:Conditions NotBefore=\"{not_before}\" NotOnOrAfter=\"{expires}\"><saml:AudienceRestriction>\
                 <saml:Audience>{audience}</saml:Audience></saml:AudienceRestriction></saml:Conditions>\
                 <saml:AuthnStatement AuthnInstant=\"{issued}\" SessionIndex=\"{session_index}\"><saml:AuthnContext>\
                 <saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef>\
                 </saml:AuthnContext></saml:AuthnStatement>",
                format = escape_attr(&s.name_id_format),
                name_id = escape_text(name_id),
                irt = irt_attr(&in_response_to),
                recipient = escape_attr(&recipient),
                audience = escape_text(&audience),
            );
            if !login.user.attributes.is_empty() {
                body.push_str("<saml:AttributeStatement>");
                for (name, values) in &login.user.attributes {
                    body.push_str(&format!(
                        "<saml:Attribute Name=\"{}\" NameFormat=\"urn:oasis:names:tc:SAML:2.0:attrname-format:basic\">",
                        escape_attr(name)
                    ));
                    for value in values {
                        body.push_str(&format!(
                            "<saml:AttributeValue>{}</saml:AttributeValue>",
                            escape_text(value)
                        ));
                    }
                    body.push_str("</saml:Attribute>");
                }
                body.push_str("</saml:AttributeStatement>");
            }
            body
        };
        let assertion = |id: &str, name_id: &str| Signable {
            id: id.to_owned(),
            start: format!(
                "<saml:Assertion xmlns:saml=\"{NS_ASSERTION}\" ID=\"{id}\" IssueInstant=\"{issued}\" Version=\"2.0\">"
            ),
            issuer: format!("<saml:Issuer>{}</saml:Issuer>", escape_text(&s.entity_id)),
            rest: assertion_body(name_id),
            end: "</saml:Assertion>".to_owned(),
        };
        let key_number = self.signing_cert_at(request.now);
        let key = self.key(key_number)?;
        let genuine = assertion(&assertion_id, &login.user.name_id);
        let sign_assertion =
            matches!(s.sign, SamlSigning::Assertion | SamlSigning::Both) || s.wrapping;
        let sign_response =
            matches!(s.sign, SamlSigning::Response | SamlSigning::Both) && !s.wrapping;
        let assertion_xml = if sign_assertion {
            genuine.signed(key)?
        } else {
            genuine.unsigned()
        };
        let status = "<samlp:Status><samlp:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:Success\"></samlp:StatusCode></samlp:Status>";
        let rest = if s.wrapping {
            // python3-saml's `signature_wrapping_attack2` shape: an attacker's assertion carries
            // the genuine assertion's signature (which still names the genuine ID), and the
            // genuine signed assertion follows, wrapped in an unknown element.
            let spoofed = assertion(&format!("{assertion_id}-spoofed"), WRAPPING_NAME_ID);
            let genuine_signature_start = assertion_xml.find("<ds:Signature")?;
            let genuine_signature_end =
                assertion_xml.find("</ds:Signature>")? + "</ds:Signature>".len();
            let genuine_signature = &assertion_xml[genuine_signature_start..genuine_signature_end];
            format!(
                "{status}{}{}{genuine_signature}{}{}<XSW_ATTACK>{assertion_xml}</XSW_ATTACK>",
                spoofed.start, spoofed.issuer, spoofed.rest, spoofed.end
            )
        } else {
            format!("{status}{assertion_xml}")
        };
        let response = Signable {
            id: response_id.clone(),
            start: format!(
                "<samlp:Response xmlns:samlp=\"{NS_PROTOCOL}\" Destination=\"{}\" ID=\"{response_id}\"{} IssueInstant=\"{issued}\" Version=\"2.0\">",
                escape_attr(&destination),
                irt_attr(&in_response_to),
            ),
            issuer,
            rest,
            end: "</samlp:Response>".to_owned(),
        };
        let xml = if sign_response {
            response.signed(key)?
        } else {
            response.unsigned()
        };
        let signed = match (sign_response, sign_assertion) {
            (true, true) => "both",
            (true, false) => "response",
            (false, true) => "assertion",
            (false, false) => "none",
        };
        state.responses.push(json!({
            "id": response_id,
            "assertion_id": assertion_id,
            "in_response_to": in_response_to,
            "name_id": login.user.name_id,
            "destination": destination,
            "recipient": recipient,
            "audience": audience,
            "issue_instant": issued,
            "not_before": not_before,
            "not_on_or_after": expires,
            "signed": signed,
            "signing_cert": key_number,
            "wrapping": s.wrapping,
        }));
        state.logins.push(json!({
            "name_id": login.user.name_id,
            "session_index": session_index,
            "sp_initiated": login.request.is_some(),
        }));
        Some(xml)
    }

    /// The next generated id: `_` and 32 hex digits (an `xs:ID` must start with a letter or `_`).
    fn next_id(&self, state: &mut SamlState) -> String {
        state.serial += 1;
        format!(
            "_{}",
            seeded_uuid(&self.mock, state.serial, 0).replace('-', "")
        )
    }
}

/// The NameID of the attacker's assertion in the signature-wrapping variant.
pub(crate) const WRAPPING_NAME_ID: &str = "attacker@evil.example";

/// A response with `body` of `content_type`.
fn text_response(status: StatusCode, content_type: &'static str, body: String) -> Response<Bytes> {
    let mut response = Response::new(Bytes::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// An HTML error page saying `message` (the IdP's words are reenact's: IdPs show a page).
fn page(status: StatusCode, message: &str) -> Response<Bytes> {
    text_response(
        status,
        "text/html; charset=utf-8",
        format!(
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Sign-in error</title></head><body><p>{}</p></body></html>\n",
            escape_html(message)
        ),
    )
}

impl Fake for Saml {
    type State = SamlState;
    const NAME: &'static str = "saml";

    fn fresh_state(&self) -> SamlState {
        SamlState::default()
    }

    fn respond(&self, state: &mut SamlState, request: &ProviderRequest<'_>) -> ProviderAnswer {
        let response = match (request.view.method, request.view.path) {
            ("GET", "/metadata") => self.metadata(request),
            ("GET", "/sso") => self.sso(state, request, true),
            ("POST", "/sso") => self.sso(state, request, false),
            ("GET", "/idp-initiated") => self.idp_initiated(state, request),
            _ => return ProviderAnswer::unrouted(Self::NAME, request),
        };
        ProviderAnswer::routed(response)
    }

    /// `{"authn_requests": [..], "responses": [..], "logins": [..]}`: what was read and issued,
    /// never a signature or key.
    fn state_json(state: &SamlState) -> Value {
        json!({
            "authn_requests": state.authn_requests,
            "responses": state.responses,
            "logins": state.logins,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::model::{SamlRotation, SamlServiceProvider};

    fn settings() -> SamlSettings {
        SamlSettings {
            entity_id: "https://idp.acme.test/saml".into(),
            base_url: None,
            sp: SamlServiceProvider {
                entity_id: "https://app.acme.test/sp".into(),
                acs_url: "https://app.acme.test/acs".into(),
            },
            users: vec![SamlUser {
                name_id: "alice@acme.test".into(),
                attributes: Vec::new(),
            }],
            sign: SamlSigning::Both,
            name_id_format: crate::scenario::model::NAME_ID_EMAIL.into(),
            lifetime_seconds: 300,
            not_before_seconds: 0,
            clock: SamlClock::Virtual,
            clock_offset_seconds: 0,
            audience: None,
            recipient: None,
            destination: None,
            in_response_to: None,
            signing_cert: 1,
            keys: Vec::new(),
            rotation: None,
            wrapping: false,
        }
    }

    /// The committed test keys load: a key that failed would make every login a `500`.
    #[test]
    fn both_built_in_keys_load() {
        for number in [1, 2] {
            let key = load_key(number).expect("a built-in key");
            assert_eq!(key.pair.public().modulus_len(), 256);
            assert!(key.certificate.starts_with("MII"));
        }
        assert!(load_key(0).is_none());
        assert!(load_key(3).is_none());
    }

    /// Exclusive c14n escapes (W3C Exclusive XML Canonicalization 1.0, after C14N 1.0 §2.3).
    #[test]
    fn escaping_is_canonical() {
        assert_eq!(escape_text("a&b<c>d\re\"f'"), "a&amp;b&lt;c&gt;d&#xD;e\"f'");
        assert_eq!(
            escape_attr("a&b<c>d\"e\tf\ng\r"),
            "a&amp;b&lt;c>d&quot;e&#x9;f&#xA;g&#xD;"
        );
    }

    /// SAML Core §1.3.3: UTC, `Z`, no fraction here.
    #[test]
    fn times_are_utc_whole_seconds() {
        let at = OffsetDateTime::parse("2026-11-02T10:00:00.75+01:00", &Rfc3339).expect("time");
        assert_eq!(saml_time(at), "2026-11-02T09:00:00Z");
    }

    /// The signature verifies by recomputation: the digest of the unsigned element is the
    /// `DigestValue`, and the `SignatureValue` is RSA-SHA256 over the canonical `SignedInfo`
    /// (with `xmlns:ds`) under the certificate's public key.
    #[test]
    fn a_signature_verifies_over_the_canonical_signed_info() {
        let key = load_key(1).expect("key");
        let element = Signable {
            id: "_a1".into(),
            start: format!("<saml:Assertion xmlns:saml=\"{NS_ASSERTION}\" ID=\"_a1\">"),
            issuer: "<saml:Issuer>idp</saml:Issuer>".into(),
            rest: "<saml:Subject></saml:Subject>".into(),
            end: "</saml:Assertion>".into(),
        };
        let signed = element.signed(&key).expect("signed");
        let unsigned = element.unsigned();
        let digest_value = digest(unsigned.as_bytes());
        assert!(signed.contains(&format!("<ds:DigestValue>{digest_value}</ds:DigestValue>")));
        let signed_info_start = signed.find("<ds:SignedInfo>").expect("SignedInfo");
        let signed_info_end =
            signed.find("</ds:SignedInfo>").expect("end") + "</ds:SignedInfo>".len();
        let canonical = signed[signed_info_start..signed_info_end].replacen(
            "<ds:SignedInfo>",
            &format!("<ds:SignedInfo xmlns:ds=\"{NS_DSIG}\">"),
            1,
        );
        let value = signed
            .split("<ds:SignatureValue>")
            .nth(1)
            .and_then(|rest| rest.split('<').next())
            .expect("SignatureValue");
        let value = base64::engine::general_purpose::STANDARD
            .decode(value)
            .expect("base64");
        let public = ring::signature::UnparsedPublicKey::new(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            key.pair.public().as_ref(),
        );
        assert!(public.verify(canonical.as_bytes(), &value).is_ok());
        assert!(public.verify(b"<other/>", &value).is_err());
        // Removing the signature gives back the digested bytes (the enveloped transform).
        let start = signed.find("<ds:Signature ").expect("Signature");
        let end = signed.find("</ds:Signature>").expect("end") + "</ds:Signature>".len();
        assert_eq!(format!("{}{}", &signed[..start], &signed[end..]), unsigned);
    }

    #[test]
    fn authn_requests_that_cannot_be_read_say_why() {
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
        let deflate = |text: &str| b64(&miniz_oxide::deflate::compress_to_vec(text.as_bytes(), 6));
        assert_eq!(read_authn_request(None, true), Err(RequestError::Missing));
        assert_eq!(
            read_authn_request(Some(""), true),
            Err(RequestError::Missing)
        );
        let long = "A".repeat(MAX_REQUEST_BYTES + 1);
        assert_eq!(
            read_authn_request(Some(&long), true),
            Err(RequestError::TooLong)
        );
        assert_eq!(
            read_authn_request(Some("%%"), true),
            Err(RequestError::NotBase64)
        );
        assert_eq!(
            read_authn_request(Some(&b64(b"plain")), true),
            Err(RequestError::NotDeflate)
        );
        assert_eq!(
            read_authn_request(Some(&deflate("<a")), true),
            Err(RequestError::NotXml)
        );
        assert_eq!(
            read_authn_request(
                Some(&deflate(
                    "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\"/>"
                )),
                true
            ),
            Err(RequestError::NotAuthnRequest)
        );
        assert_eq!(
            read_authn_request(Some(&deflate("<AuthnRequest ID=\"x\"/>")), true),
            Err(RequestError::NotAuthnRequest)
        );
        assert_eq!(
            read_authn_request(
                Some(&deflate(
                    "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\"/>"
                )),
                true
            ),
            Err(RequestError::NoId)
        );
        let xml = "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" ID=\"_r\" AssertionConsumerServiceURL=\"https://a/acs\"><saml:Issuer xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\"> sp </saml:Issuer></samlp:AuthnRequest>";
        let expected = AuthnRequest {
            id: "_r".into(),
            issuer: Some("sp".into()),
            acs_url: Some("https://a/acs".into()),
        };
        assert_eq!(
            read_authn_request(Some(&deflate(xml)), true),
            Ok(expected.clone())
        );
        assert_eq!(
            read_authn_request(Some(&b64(xml.as_bytes())), false),
            Ok(expected)
        );
        // A DTD (entity expansion) is not read.
        let dtd = "<!DOCTYPE a [<!ENTITY x \"y\">]><samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" ID=\"&x;\"/>";
        assert!(read_authn_request(Some(&deflate(dtd)), true).is_err());
    }

    /// Rollover: both certificates from the start, the new one first after `at`, only the new
    /// one after `retire`; signing switches at `at`, on the virtual clock.
    #[test]
    fn rotation_publishes_both_keys_and_switches_at_its_time() {
        let mut s = settings();
        s.rotation = Some(SamlRotation {
            to: 2,
            at: "2026-11-02T09:00:00Z".into(),
            retire: Some("2026-11-03T09:00:00Z".into()),
        });
        let saml = Saml::new("idp", s);
        let t = |text: &str| OffsetDateTime::parse(text, &Rfc3339).expect("time");
        assert_eq!(
            saml.published_keys_at(t("2026-11-02T08:59:59Z")),
            vec![1, 2]
        );
        assert_eq!(saml.signing_cert_at(t("2026-11-02T08:59:59Z")), 1);
        assert_eq!(
            saml.published_keys_at(t("2026-11-02T09:00:00Z")),
            vec![2, 1]
        );
        assert_eq!(saml.signing_cert_at(t("2026-11-02T09:00:00Z")), 2);
        assert_eq!(saml.published_keys_at(t("2026-11-03T09:00:00Z")), vec![2]);
        let plain = Saml::new("idp", settings());
        assert_eq!(plain.published_keys_at(t("2026-11-03T09:00:00Z")), vec![1]);
        assert_eq!(plain.signing_cert_at(t("2026-11-03T09:00:00Z")), 1);
    }
}
