//! Conformance tests of `provider: saml` against SAML Profiles §4.1 and Bindings §3.4–3.5: a mock
//! loaded from YAML as a scenario declares it, served on loopback, driven by a real HTTP client
//! and, for rotation, through the control API's virtual clock. Signatures are checked by
//! `xmlsec1` and `@node-saml/node-saml` in `conformance/saml/`; these tests check the structure,
//! the knobs and the state.

use base64::Engine as _;

use crate::support::{self, load_mock};
use reenact::scenario::model::MockSpec;
use serde_json::Value;

const ACS: &str = "https://app.acme.test/saml/acs";
const SP: &str = "https://app.acme.test/saml/metadata";

/// A mock `idp` with `provider: saml`, users alice (with attributes) and bob, plus `with` (YAML
/// lines under `with:`, indented six spaces).
fn spec(with: &str) -> MockSpec {
    load_mock(&format!(
        "id: saml\ntitle: saml\nmocks:\n  idp:\n    provider: saml\n    with:\n      entity_id: https://idp.acme.test/saml\n      sp: {{ entity_id: {SP}, acs_url: {ACS} }}\n      users:\n        - name_id: alice@acme.test\n          attributes: {{ email: alice@acme.test, groups: [admins, \"R&D <lab>\"] }}\n        - name_id: bob@acme.test\n{with}flow:\n  - request: {{ method: GET, path: / }}\n"
    ))
}

enum Saml {}
type Harness = support::Harness<Saml>;

impl Harness {
    /// `GET path_and_query`: status and body text.
    async fn get_text(&self, path_and_query: &str) -> (u16, String) {
        let response = self
            .http
            .get(format!("{}{path_and_query}", self.server.url()))
            .send()
            .await
            .expect("request reaches the mock");
        let status = response.status().as_u16();
        (status, response.text().await.expect("text body"))
    }

    /// The form of a login page: (action, SAMLResponse XML, RelayState).
    async fn login(&self, path_and_query: &str) -> (String, String, Option<String>) {
        let (status, html) = self.get_text(path_and_query).await;
        assert_eq!(status, 200, "{html}");
        form_of(&html)
    }
}

fn attr<'a>(html: &'a str, before: &str) -> Option<&'a str> {
    let start = html.find(before)? + before.len();
    let end = start + html[start..].find('"')?;
    Some(&html[start..end])
}

fn form_of(html: &str) -> (String, String, Option<String>) {
    let action = attr(html, "<form method=\"POST\" action=\"")
        .expect("a form")
        .to_owned();
    let encoded = attr(html, "name=\"SAMLResponse\" value=\"").expect("SAMLResponse");
    let xml = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .expect("base64");
    let relay = attr(html, "name=\"RelayState\" value=\"").map(str::to_owned);
    (action, String::from_utf8(xml).expect("UTF-8"), relay)
}

/// An AuthnRequest as an SP sends it by HTTP-Redirect: raw DEFLATE, base64, URL-encoded.
fn redirect_query(id: &str, issuer: &str, acs: &str, relay: &str, user: Option<&str>) -> String {
    let xml = format!(
        "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"{id}\" Version=\"2.0\" IssueInstant=\"2026-10-31T23:00:00Z\" AssertionConsumerServiceURL=\"{acs}\" ProtocolBinding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\"><saml:Issuer>{issuer}</saml:Issuer></samlp:AuthnRequest>"
    );
    let deflated = miniz_oxide::deflate::compress_to_vec(xml.as_bytes(), 6);
    let encoded = base64::engine::general_purpose::STANDARD.encode(deflated);
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("SAMLRequest", &encoded);
    query.append_pair("RelayState", relay);
    if let Some(user) = user {
        query.append_pair("user", user);
    }
    format!("/sso?{}", query.finish())
}

/// The value of attribute `name` on the first element whose start tag begins with `tag`.
fn attribute(xml: &str, tag: &str, name: &str) -> Option<String> {
    let start = xml.find(tag)?;
    let end = start + xml[start..].find('>')?;
    attr(&xml[start..end], &format!(" {name}=\"")).map(str::to_owned)
}

/// Profiles §4.1.4.2 and Bindings §3.4/§3.5.4: an SP-initiated login by HTTP-Redirect answers a
/// form posting to the ACS with the RelayState, and a Response answering the request's ID,
/// with Issuer, Success, a bearer SubjectConfirmationData (Recipient, NotOnOrAfter,
/// InResponseTo, no NotBefore), Conditions with the SP's Audience, AuthnStatement with a
/// SessionIndex and the user's attributes, both elements signed.
#[tokio::test]
async fn sp_initiated_login_answers_the_request_with_a_profile_response() {
    let idp = Harness::start(spec("")).await;
    let query = redirect_query("_req1", SP, ACS, "relay&42", None);
    let (action, xml, relay) = idp.login(&query).await;
    assert_eq!(action, ACS);
    assert_eq!(relay.as_deref(), Some("relay&amp;42"));
    assert!(xml.starts_with("<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" Destination=\"https://app.acme.test/saml/acs\" ID=\"_"), "{xml}");
    assert_eq!(
        attribute(&xml, "<samlp:Response", "InResponseTo").as_deref(),
        Some("_req1")
    );
    assert_eq!(
        attribute(&xml, "<samlp:Response", "IssueInstant").as_deref(),
        Some("2026-10-31T23:00:00Z")
    );
    assert!(xml.contains(
        "<samlp:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:Success\"></samlp:StatusCode>"
    ));
    assert!(xml.contains("<saml:NameID Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress\">alice@acme.test</saml:NameID>"));
    assert!(xml.contains("<saml:SubjectConfirmationData InResponseTo=\"_req1\" NotOnOrAfter=\"2026-10-31T23:05:00Z\" Recipient=\"https://app.acme.test/saml/acs\"></saml:SubjectConfirmationData>"), "{xml}");
    assert!(xml.contains("<saml:Conditions NotBefore=\"2026-10-31T23:00:00Z\" NotOnOrAfter=\"2026-10-31T23:05:00Z\"><saml:AudienceRestriction><saml:Audience>https://app.acme.test/saml/metadata</saml:Audience>"));
    assert!(
        attribute(&xml, "<saml:AuthnStatement", "SessionIndex").is_some_and(|s| s.starts_with('_'))
    );
    assert!(xml.contains("<saml:AttributeValue>R&amp;D &lt;lab&gt;</saml:AttributeValue>"));
    assert_eq!(xml.matches("<ds:Signature ").count(), 2);
    assert!(xml.contains("<ds:SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256\"></ds:SignatureMethod>"));

    let state = idp.state_of("saml").await;
    assert_eq!(state["authn_requests"][0]["id"], "_req1");
    assert_eq!(state["authn_requests"][0]["issuer"], SP);
    assert_eq!(state["authn_requests"][0]["binding"], "HTTP-Redirect");
    assert_eq!(state["responses"][0]["in_response_to"], "_req1");
    assert_eq!(state["responses"][0]["signed"], "both");
    assert_eq!(state["logins"][0]["name_id"], "alice@acme.test");
    assert_eq!(state["logins"][0]["sp_initiated"], true);
    assert!(!state.to_string().contains("SignatureValue"));
}

/// Profiles §4.1.5: an IdP-initiated response is unsolicited, without InResponseTo; `user=`
/// picks the user.
#[tokio::test]
async fn idp_initiated_login_is_unsolicited() {
    let idp = Harness::start(spec("")).await;
    let (action, xml, relay) = idp.login("/idp-initiated?user=bob%40acme.test").await;
    assert_eq!(action, ACS);
    assert_eq!(relay, None);
    assert!(!xml.contains("InResponseTo"), "{xml}");
    assert!(xml.contains(">bob@acme.test</saml:NameID>"));
    assert!(!xml.contains("AttributeStatement"));
    let (status, page) = idp
        .get_text("/idp-initiated?user=mallory%40acme.test")
        .await;
    assert_eq!(status, 403);
    assert!(page.contains("No user mallory@acme.test"), "{page}");
}

/// Signing is a setting: the Response, the Assertion, both, or neither.
#[tokio::test]
async fn signing_covers_the_elements_the_setting_names() {
    for (sign, response_signed, assertion_signed) in [
        ("response", true, false),
        ("assertion", false, true),
        ("none", false, false),
    ] {
        let idp = Harness::start(spec(&format!("      sign: {sign}\n"))).await;
        let (_, xml, _) = idp.login("/idp-initiated").await;
        let assertion_at = xml.find("<saml:Assertion").expect("an assertion");
        assert_eq!(
            xml[..assertion_at].contains("<ds:Signature "),
            response_signed,
            "{sign}"
        );
        assert_eq!(
            xml[assertion_at..].contains("<ds:Signature "),
            assertion_signed,
            "{sign}"
        );
        assert_eq!(idp.state_of("saml").await["responses"][0]["signed"], sign);
    }
}

/// The knobs bend their own rule and nothing else.
#[tokio::test]
async fn knobs_bend_audience_recipient_destination_in_response_to_time_and_name_id() {
    let idp = Harness::start(spec(
        "      audience: https://other.example/sp\n      recipient: https://other.example/acs\n      destination: https://other.example/dest\n      in_response_to: _forged\n      clock_offset: -10m\n      lifetime: 2m\n      not_before: -30s\n      name_id_format: persistent\n",
    ))
    .await;
    let (action, xml, _) = idp
        .login(&redirect_query("_req9", SP, ACS, "r", None))
        .await;
    assert_eq!(action, ACS);
    assert_eq!(
        attribute(&xml, "<samlp:Response", "Destination").as_deref(),
        Some("https://other.example/dest")
    );
    assert_eq!(
        attribute(&xml, "<samlp:Response", "InResponseTo").as_deref(),
        Some("_forged")
    );
    assert_eq!(
        attribute(&xml, "<samlp:Response", "IssueInstant").as_deref(),
        Some("2026-10-31T22:50:00Z")
    );
    assert!(xml.contains("<saml:SubjectConfirmationData InResponseTo=\"_forged\" NotOnOrAfter=\"2026-10-31T22:52:00Z\" Recipient=\"https://other.example/acs\">"), "{xml}");
    assert!(xml.contains(
        "<saml:Conditions NotBefore=\"2026-10-31T22:49:30Z\" NotOnOrAfter=\"2026-10-31T22:52:00Z\">"
    ));
    assert!(xml.contains("<saml:Audience>https://other.example/sp</saml:Audience>"));
    assert!(xml.contains("Format=\"urn:oasis:names:tc:SAML:2.0:nameid-format:persistent\""));
}

/// SAML Metadata §2.4.1.1: two signing KeyDescriptors during a rollover; the signing key
/// switches at the rotation's virtual time and the old certificate leaves at `retire`.
#[tokio::test]
async fn certificate_rotation_follows_the_virtual_clock() {
    let idp = Harness::start(spec(
        "      rotation: { to: 2, at: \"2026-10-31T23:10:00Z\", retire: \"2026-10-31T23:20:00Z\" }\n",
    ))
    .await;
    let certs = |xml: &str| -> Vec<String> {
        xml.split("<ds:X509Certificate>")
            .skip(1)
            .map(|rest| rest.split('<').next().unwrap_or_default().to_owned())
            .collect()
    };
    let (status, metadata) = idp.get_text("/metadata").await;
    assert_eq!(status, 200);
    assert!(metadata.contains("entityID=\"https://idp.acme.test/saml\""));
    assert!(metadata.contains("<md:SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" Location=\"http://127.0.0.1:"));
    assert!(metadata.contains("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"));
    assert!(metadata.contains(
        "<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>"
    ));
    let before = certs(&metadata);
    assert_eq!(before.len(), 2);
    let (_, xml, _) = idp.login("/idp-initiated").await;
    assert!(certs(&xml).iter().all(|c| *c == before[0]));

    idp.advance_by(std::time::Duration::from_secs(600)).await;
    let during = certs(&idp.get_text("/metadata").await.1);
    assert_eq!(during, vec![before[1].clone(), before[0].clone()]);
    let (_, xml, _) = idp.login("/idp-initiated").await;
    assert!(certs(&xml).iter().all(|c| *c == before[1]));
    assert_eq!(
        idp.state_of("saml").await["responses"][1]["signing_cert"],
        2
    );

    idp.advance_by(std::time::Duration::from_secs(600)).await;
    assert_eq!(
        certs(&idp.get_text("/metadata").await.1),
        vec![before[1].clone()]
    );
}

/// python3-saml's `signature_wrapping_attack2` shape: the attacker's assertion carries the
/// genuine signature and the genuine assertion follows inside `<XSW_ATTACK>`.
#[tokio::test]
async fn the_wrapping_variant_has_the_attack_shape() {
    let idp = Harness::start(spec("      wrapping: true\n")).await;
    let (_, xml, _) = idp.login("/idp-initiated").await;
    let spoofed = xml.find("-spoofed\"").expect("a spoofed assertion");
    let wrapped = xml
        .find("<XSW_ATTACK><saml:Assertion ")
        .expect("the wrapped assertion");
    assert!(spoofed < wrapped);
    assert!(xml[..wrapped].contains(">attacker@evil.example</saml:NameID>"));
    assert!(xml[wrapped..].contains(">alice@acme.test</saml:NameID>"));
    assert_eq!(
        xml.matches("<ds:Signature ").count(),
        2,
        "the genuine signature, twice"
    );
    assert_eq!(idp.state_of("saml").await["responses"][0]["wrapping"], true);
}

/// A real IdP refuses an AuthnRequest it cannot read, from an unknown SP, or naming an ACS URL
/// other than the registered one (the page's words are reenact's).
#[tokio::test]
async fn bad_authn_requests_get_an_error_page() {
    let idp = Harness::start(spec("")).await;
    for (query, words) in [
        ("/sso".to_owned(), "`SAMLRequest` is missing"),
        ("/sso?SAMLRequest=%%%".to_owned(), "not base64"),
        ("/sso?SAMLRequest=aGVsbG8%3D".to_owned(), "not raw DEFLATE"),
        (
            redirect_query("_r", "https://stranger.example", ACS, "x", None),
            "Unknown service provider https://stranger.example",
        ),
        (
            redirect_query("_r", SP, "https://app.acme.test/other", "x", None),
            "AssertionConsumerServiceURL does not match",
        ),
        (
            redirect_query("_r", SP, ACS, "x", Some("nobody@acme.test")),
            "No user nobody@acme.test",
        ),
    ] {
        let (status, page) = idp.get_text(&query).await;
        assert!(status == 400 || status == 403, "{query}: {status}");
        assert!(page.contains(words), "{query}: {page}");
    }
    idp.assert_unrouted("/nope").await;
}

/// HTTP-POST binding for the AuthnRequest (Bindings §3.5): base64 without DEFLATE.
#[tokio::test]
async fn authn_requests_by_http_post_are_read_too() {
    let idp = Harness::start(spec("")).await;
    let xml = format!(
        "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" ID=\"_post1\" Version=\"2.0\" IssueInstant=\"2026-10-31T23:00:00Z\"><saml:Issuer xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\">{SP}</saml:Issuer></samlp:AuthnRequest>"
    );
    let encoded = base64::engine::general_purpose::STANDARD.encode(xml);
    let response = idp
        .http
        .post(format!("{}/sso", idp.server.url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs([("SAMLRequest", encoded.as_str()), ("RelayState", "p")])
                .finish(),
        )
        .send()
        .await
        .expect("reaches the mock");
    assert_eq!(response.status().as_u16(), 200);
    let (_, xml, relay) = form_of(&response.text().await.expect("text"));
    assert_eq!(relay.as_deref(), Some("p"));
    assert_eq!(
        attribute(&xml, "<samlp:Response", "InResponseTo").as_deref(),
        Some("_post1")
    );
    let state: Value = idp.state_of("saml").await;
    assert_eq!(state["authn_requests"][0]["binding"], "HTTP-POST");
}

/// `clock: real` issues on the machine's clock (what a target checks against), plus the offset;
/// the virtual clock (at `START`) is not used.
#[tokio::test]
async fn the_real_clock_with_an_offset_sets_the_issue_instant() {
    let idp = Harness::start(spec("      clock: real\n      clock_offset: +1h\n")).await;
    let before = time::OffsetDateTime::now_utc();
    let (_, xml, _) = idp.login("/idp-initiated").await;
    let after = time::OffsetDateTime::now_utc();
    let issued = attribute(&xml, "<samlp:Response", "IssueInstant").expect("IssueInstant");
    let issued =
        time::OffsetDateTime::parse(&issued, &time::format_description::well_known::Rfc3339)
            .expect("an xs:dateTime");
    let hour = time::Duration::hours(1);
    assert!(
        issued >= (before + hour).replace_nanosecond(0).expect("valid") && issued <= after + hour,
        "{issued}"
    );
}

/// A scenario's own key pair (`keys`, files in the scenario folder) replaces built-in pair 1:
/// the metadata and the signatures carry its certificate; pair 2 stays the built-in one.
#[tokio::test]
async fn a_scenario_signs_with_its_own_key_pair() {
    let path = std::path::Path::new("tests/fixtures/valid/provider_saml.yaml");
    let mut scenario = reenact::scenario::load(path).expect("the fixture loads");
    let idp = Harness::start(scenario.mocks.remove(0)).await;
    let pem = std::fs::read_to_string("tests/fixtures/valid/saml/idp.crt.pem").expect("cert");
    let own: String = pem
        .split("-----BEGIN CERTIFICATE-----")
        .nth(1)
        .and_then(|rest| rest.split("-----END CERTIFICATE-----").next())
        .expect("a PEM block")
        .split_whitespace()
        .collect();
    let (_, metadata) = idp.get_text("/metadata").await;
    assert!(metadata.contains(&format!("<ds:X509Certificate>{own}</ds:X509Certificate>")));
    assert_eq!(
        metadata
            .matches("<md:KeyDescriptor use=\"signing\">")
            .count(),
        2
    );
    assert!(metadata.contains("Location=\"https://login.acme.test/sso\""));
    let (_, xml, _) = idp.login("/idp-initiated").await;
    assert!(
        xml.contains(&format!("<ds:X509Certificate>{own}</ds:X509Certificate>")),
        "{xml}"
    );
}
