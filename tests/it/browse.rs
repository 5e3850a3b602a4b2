//! The `sso_login` step end to end (issue 13, "Driving a login without a browser"): a real
//! SP-initiated SAML login against `provider: saml` and a tiny service provider started here,
//! an OIDC code-flow login against `provider: oidc` and a tiny relying party, both through the
//! runner in process; and the browser's limits: a redirect to an outside origin is
//! refused, `max_hops` is enforced, a redirect loop stops, a hop that never answers times out.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;

use crate::support::{Answer, load_scenario, run_in_process, serve_http};

const SP_ENTITY: &str = "https://app.acme.test/saml/metadata";

/// The authorization code the stubbed OAuth server of one test hands out.
const OAUTH_CODE: &str = "c0de-7Hq2xLm9Pw4Rv8";

/// What the service provider handed out and received, for the assertions.
#[derive(Default)]
struct SpSeen {
    /// Session cookie value → the user it belongs to.
    sessions: BTreeMap<String, String>,
    /// Every `SAMLResponse` the ACS received (base64, as posted).
    saml_responses: Vec<String>,
}

/// The value of the XML element `<saml:NameID …>VALUE</saml:NameID>`.
fn name_id(xml: &str) -> Option<String> {
    let start = xml.find("<saml:NameID")?;
    let start = start + xml[start..].find('>')? + 1;
    let end = start + xml[start..].find("</saml:NameID>")?;
    Some(xml[start..end].to_string())
}

/// The tiny SP: `GET /login?idp=URL` redirects to the IdP's `/sso` with an AuthnRequest
/// (HTTP-Redirect binding), `POST /acs` takes the Response, sets a session cookie and redirects
/// to the RelayState, `GET /home` answers 200 only with that cookie. The limits' routes:
/// `/away` (to an outside origin), `/chain/N` (to `/chain/N+1`, forever), `/loop` (to itself),
/// `/slow` (to `/hang`, which never answers in time).
async fn start_sp(seen: Arc<Mutex<SpSeen>>) -> String {
    serve_http(move |parts: hyper::http::request::Parts, body| {
        let seen = seen.clone();
        async move {
            let header = |name: &str| {
                parts
                    .headers
                    .get(name)
                    .and_then(|value| value.to_str().ok())
                    .unwrap_or_default()
                    .to_owned()
            };
            let request = SpRequest {
                own: format!("http://{}", header("host")),
                method: parts.method.to_string(),
                path: parts.uri.path().to_owned(),
                query: parts.uri.query().unwrap_or_default().to_owned(),
                cookie: header("cookie"),
            };
            sp_answer(&seen, &request, &body).await
        }
    })
    .await
}

/// What the SP reads of a request.
struct SpRequest {
    /// Its own base URL, from `Host`.
    own: String,
    method: String,
    path: String,
    query: String,
    cookie: String,
}

fn redirect(to: &str) -> Answer {
    (302, vec![("location".into(), to.into())], String::new())
}

async fn sp_answer(seen: &Mutex<SpSeen>, request: &SpRequest, body: &[u8]) -> Answer {
    let SpRequest {
        own,
        method,
        path,
        query,
        cookie,
    } = request;
    let params: BTreeMap<String, String> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    match (method.as_str(), path.as_str()) {
        ("GET", "/login") => {
            let idp = params.get("idp").cloned().unwrap_or_default();
            // Where users reach the SP: its own URL, or the public URL it is told.
            let own = params.get("public").unwrap_or(own);
            let xml = format!(
                "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"_req-1\" Version=\"2.0\" IssueInstant=\"2026-10-31T23:00:00Z\" AssertionConsumerServiceURL=\"{own}/acs\" ProtocolBinding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\"><saml:Issuer>{SP_ENTITY}</saml:Issuer></samlp:AuthnRequest>"
            );
            let deflated = miniz_oxide::deflate::compress_to_vec(xml.as_bytes(), 6);
            let mut query = form_urlencoded::Serializer::new(String::new());
            query.append_pair(
                "SAMLRequest",
                &base64::engine::general_purpose::STANDARD.encode(deflated),
            );
            query.append_pair("RelayState", "/home");
            redirect(&format!("{idp}/sso?{}", query.finish()))
        }
        ("POST", "/acs") => {
            let form: BTreeMap<String, String> =
                form_urlencoded::parse(body).into_owned().collect();
            let encoded = form.get("SAMLResponse").cloned().unwrap_or_default();
            let xml = base64::engine::general_purpose::STANDARD
                .decode(&encoded)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .unwrap_or_default();
            let Some(user) = name_id(&xml) else {
                return (400, Vec::new(), "no NameID".into());
            };
            let mut seen = seen.lock().expect("not poisoned");
            seen.saml_responses.push(encoded);
            let session = format!("sess-{:016x}-{}", seen.sessions.len() + 1, xml.len());
            seen.sessions.insert(session.clone(), user);
            let relay = form.get("RelayState").cloned().unwrap_or("/".into());
            (
                303,
                vec![
                    (
                        "set-cookie".into(),
                        format!("session={session}; Path=/; HttpOnly"),
                    ),
                    ("location".into(), relay),
                ],
                String::new(),
            )
        }
        ("GET", "/home") => {
            let session = cookie
                .split(';')
                .filter_map(|pair| pair.trim().strip_prefix("session="))
                .next()
                .unwrap_or_default();
            match seen.lock().expect("not poisoned").sessions.get(session) {
                Some(user) => (
                    200,
                    vec![("content-type".into(), "text/plain".into())],
                    format!("Welcome, {user}"),
                ),
                None => (401, Vec::new(), "log in first".into()),
            }
        }
        ("GET", "/oauth") => {
            let idp = params.get("idp").cloned().unwrap_or_default();
            redirect(&format!("{idp}/authorize?client_id=app&state=s1"))
        }
        ("GET", "/callback") => match params.get("code").map(String::as_str) {
            Some(OAUTH_CODE) => (200, Vec::new(), "code accepted".into()),
            _ => (400, Vec::new(), "bad code".into()),
        },
        ("GET", "/away") => redirect("https://sso.real-vendor.example/login?client=acme"),
        ("GET", "/loop") => redirect("/loop"),
        ("GET", "/slow") => redirect("/hang"),
        ("GET", "/hang") => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            (200, Vec::new(), String::new())
        }
        ("GET", path) if path.starts_with("/chain/") => {
            let n: u32 = path["/chain/".len()..].parse().unwrap_or(0);
            redirect(&format!("/chain/{}", n + 1))
        }
        _ => (404, Vec::new(), String::new()),
    }
}

/// A scenario with the SAML IdP `idp` serving the SP at `sp`, and `flow`.
fn scenario(id: &str, sp: &str, flow: &str) -> reenact::scenario::Scenario {
    let yaml = format!(
        r#"id: {id}
title: {id}
mocks:
  idp:
    provider: saml
    with:
      entity_id: https://idp.acme.test/saml
      sp: {{ entity_id: "{SP_ENTITY}", acs_url: "{sp}/acs" }}
      users:
        - name_id: alice@acme.test
        - name_id: bob@acme.test
target:
  url: "{sp}"
flow:
{flow}"#
    );
    load_scenario(&format!("{id}.yaml"), &yaml)
}

/// Run with a deadline: following redirects must never hang.
async fn run(scenario: &reenact::scenario::Scenario) -> reenact::run::ScenarioRun {
    tokio::time::timeout(
        Duration::from_secs(60),
        run_in_process(scenario, Path::new(".")),
    )
    .await
    .expect("the run ends within a minute")
}

/// The whole SP-initiated login: the SP's redirect to the IdP (with `user=bob` added, since
/// `user:` names bob, not the IdP's default alice), the IdP's auto-submitting form posted to the
/// ACS, the session cookie set there sent to `/home`. Each hop is recorded; `expect` and
/// `capture` work on the final response and the jar; the snapshot holds neither the cookie nor
/// the SAML Response.
#[tokio::test]
async fn a_saml_login_is_driven_through_the_idp_form_to_the_home_page() {
    let seen = Arc::new(Mutex::new(SpSeen::default()));
    let sp = start_sp(seen.clone()).await;
    let scenario = scenario(
        "browse-saml",
        &sp,
        r#"  - name: bob logs in
    sso_login:
      start: { path: "/login?idp={{ mocks.idp.url }}" }
      idp: idp
      user: bob@acme.test
    expect: { status: 200, body_contains: "Welcome, bob@acme.test" }
    capture:
      session: { cookie: session }
      greeting: { regex: "Welcome, (.+)" }
"#,
    );
    let run = run(&scenario).await;
    assert_eq!(run.failed_step(), None);
    let step = &run.observation.steps[0];
    assert_eq!(step.kind, "sso_login");
    let idp = &run.observation.mock_urls["idp"];
    let hops: Vec<(&str, String, Option<u16>)> = step
        .hops
        .iter()
        .map(|hop| {
            let url = hop.url.split('?').next().unwrap_or_default().to_string();
            (hop.method.as_str(), url, hop.status)
        })
        .collect();
    assert_eq!(
        hops,
        vec![
            ("GET", format!("{sp}/login"), Some(302)),
            ("GET", format!("{idp}/sso"), Some(200)),
            ("POST", format!("{sp}/acs"), Some(303)),
            ("GET", format!("{sp}/home"), Some(200)),
        ]
    );
    assert!(
        step.hops[0]
            .location
            .as_deref()
            .is_some_and(|location| location.starts_with(&format!("{idp}/sso?SAMLRequest="))),
        "{:?}",
        step.hops[0]
    );
    assert!(
        step.hops[1].url.ends_with("&user=bob%40acme.test"),
        "the user goes to the IdP: {}",
        step.hops[1].url
    );
    assert_eq!(step.hops[1].form_post, Some(format!("{sp}/acs")));
    assert_eq!(step.hops[2].location, Some(format!("{sp}/home")));
    assert_eq!(step.attempts, 4);
    let response = step.response.as_ref().expect("the final response");
    assert_eq!(
        (response.status, response.body.as_str()),
        (200, "Welcome, bob@acme.test")
    );

    let seen = seen.lock().expect("not poisoned");
    assert_eq!(seen.saml_responses.len(), 1, "one form post to the ACS");
    let (session, user) = seen.sessions.iter().next().expect("a session");
    assert_eq!(user, "bob@acme.test");
    assert_eq!(
        step.captures["session"], *session,
        "the cookie, from the jar"
    );
    assert_eq!(step.captures["greeting"], "bob@acme.test");

    let document = reenact::snapshot::normalize(
        &run.observation,
        &run.expectations,
        &reenact::scenario::model::SnapshotSpec::default(),
    );
    let text = document.to_string();
    for secret in [session.as_str(), seen.saml_responses[0].as_str()] {
        assert!(!text.contains(secret), "a secret in the snapshot: {text}");
    }
    let encoded: String =
        form_urlencoded::byte_serialize(seen.saml_responses[0].as_bytes()).collect();
    assert!(
        !text.contains(&encoded),
        "a URL-encoded SAMLResponse in the snapshot"
    );
    let hops = &document["steps"][0]["hops"];
    assert_eq!(
        hops[0]["url"],
        "{{ target.url }}/login?idp={{ mocks.idp.url }}"
    );
    assert_eq!(hops[1]["form_post"], "{{ target.url }}/acs");
    assert_eq!(hops[2]["location"], "{{ target.url }}/home");
    assert_eq!(document["steps"][0]["captures"]["session"], "[redacted]");
}

/// A target behind a public URL (`target.public_url`): the IdP posts to the ACS under that
/// origin and the ACS redirects to it; the browser follows both to the target, keeps the session
/// cookie, and the SAML request's one-time values are masked in the snapshot.
#[tokio::test]
async fn a_login_follows_the_targets_public_url_to_the_target() {
    let seen = Arc::new(Mutex::new(SpSeen::default()));
    let sp = start_sp(seen.clone()).await;
    let yaml = format!(
        r#"id: browse-public
title: browse-public
mocks:
  idp:
    provider: saml
    with:
      entity_id: https://idp.acme.test/saml
      sp: {{ entity_id: "{SP_ENTITY}", acs_url: "https://app.acme.test/acs" }}
      users: [{{ name_id: alice@acme.test }}]
target:
  url: "{sp}"
  public_url: https://app.acme.test
flow:
  - sso_login:
      start: {{ path: "/login?idp={{{{ mocks.idp.url }}}}&public=https://app.acme.test" }}
    expect: {{ status: 200, body_contains: "Welcome, alice@acme.test" }}
"#
    );
    let run = run(&load_scenario("browse-public.yaml", &yaml)).await;
    assert_eq!(run.failed_step(), None);
    let hops = &run.observation.steps[0].hops;
    let sent: Vec<String> = hops
        .iter()
        .map(|hop| {
            format!(
                "{} {}",
                hop.method,
                hop.url.split('?').next().unwrap_or_default()
            )
        })
        .collect();
    let idp = &run.observation.mock_urls["idp"];
    assert_eq!(
        sent,
        vec![
            format!("GET {sp}/login"),
            format!("GET {idp}/sso"),
            format!("POST {sp}/acs"),
            format!("GET {sp}/home"),
        ],
        "the public origin is followed at the target's URL"
    );
    assert_eq!(
        hops[1].form_post.as_deref(),
        Some("https://app.acme.test/acs")
    );
    assert_eq!(seen.lock().expect("not poisoned").sessions.len(), 1);
    let document = reenact::snapshot::normalize(
        &run.observation,
        &run.expectations,
        &reenact::scenario::model::SnapshotSpec::default(),
    );
    let location = document["steps"][0]["hops"][0]["location"]
        .as_str()
        .unwrap();
    assert_eq!(
        location,
        "{{ mocks.idp.url }}/sso?SAMLRequest=[redacted]&RelayState=[redacted]"
    );
}

/// An OAuth authorization code in a redirect (here from a stubbed authorization server) is a
/// credential: the snapshot shows the hops with the code masked, nowhere the code itself.
#[tokio::test]
async fn an_oauth_code_in_a_redirect_is_masked_in_the_snapshot() {
    let sp = start_sp(Arc::default()).await;
    let yaml = format!(
        r#"id: browse-oauth
title: browse-oauth
mocks:
  auth:
    stubs:
      - request: {{ method: GET, path: /authorize }}
        response: {{ status: 302, headers: {{ location: "{sp}/callback?code={OAUTH_CODE}&state=s1" }} }}
target:
  url: "{sp}"
flow:
  - sso_login: {{ start: {{ path: "/oauth?idp={{{{ mocks.auth.url }}}}" }} }}
    expect: {{ status: 200, body_contains: code accepted }}
"#
    );
    let run = run(&load_scenario("browse-oauth.yaml", &yaml)).await;
    assert_eq!(run.failed_step(), None);
    let document = reenact::snapshot::normalize(
        &run.observation,
        &run.expectations,
        &reenact::scenario::model::SnapshotSpec::default(),
    );
    assert_eq!(
        document["steps"][0]["hops"][1]["location"],
        "{{ target.url }}/callback?code=[redacted]&state=[redacted]"
    );
    let text = document.to_string();
    assert!(!text.contains(OAUTH_CODE), "{text}");
}

/// Run `flow` (one step) against a fresh SP: the step's failure and its hops.
async fn failing(id: &str, flow: &str) -> (String, String, Vec<reenact::observe::Hop>) {
    let sp = start_sp(Arc::default()).await;
    let run = run(&scenario(id, &sp, flow)).await;
    let failure = run.failed_step().expect("the step fails").1.to_owned();
    let hops = run.observation.steps[0].hops.clone();
    (sp, failure, hops)
}

/// Safety: a redirect to a host that is neither the target nor a mock of the run is not
/// followed, and the step says which URL it refused.
#[tokio::test]
async fn a_redirect_to_an_outside_origin_is_refused() {
    let (_, failure, hops) =
        failing("browse-away", "  - sso_login: { start: { path: /away } }\n").await;
    assert_eq!(
        failure,
        "sso_login: refusing to follow `https://sso.real-vendor.example/login?client=acme`: not the target or a mock of this run"
    );
    assert_eq!(hops.len(), 1, "only the start was sent");
}

/// `max_hops` bounds the redirects followed after the start, and the failure names the hops.
#[tokio::test]
async fn max_hops_is_enforced() {
    let (sp, failure, hops) = failing(
        "browse-chain",
        "  - sso_login: { start: { path: /chain/0 }, max_hops: 3 }\n",
    )
    .await;
    assert_eq!(
        failure,
        format!(
            "sso_login: more than 3 hops: GET {sp}/chain/0 → 302, GET {sp}/chain/1 → 302, GET {sp}/chain/2 → 302, GET {sp}/chain/3 → 302"
        )
    );
    assert_eq!(hops.len(), 4);
}

/// A redirect to itself stops at the default limit (20 hops after the start), named a loop.
#[tokio::test]
async fn a_redirect_loop_stops() {
    let (sp, failure, hops) =
        failing("browse-loop", "  - sso_login: { start: { path: /loop } }\n").await;
    assert!(
        failure.starts_with(&format!(
            "sso_login: more than 20 hops (a redirect loop: `GET {sp}/loop` was requested 21 times): "
        )),
        "{failure}"
    );
    assert_eq!(hops.len(), 21);
}

/// Every hop has the start's timeout: a hop that never answers fails the step in time.
#[tokio::test]
async fn a_hop_that_never_answers_times_out() {
    let started = std::time::Instant::now();
    let (sp, failure, hops) = failing(
        "browse-slow",
        "  - sso_login: { start: { path: /slow, timeout: 1s } }\n",
    )
    .await;
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(
        failure.starts_with(&format!(
            "sso_login: hop 2 (`GET {sp}/hang`): request failed: "
        )),
        "{failure}"
    );
    assert_eq!((hops[1].status, hops[1].error.is_some()), (None, true));
}

/// What the OIDC relying party of [`start_rp`] learned: the IdP's URL (from `/login`) and the
/// `sub` of each session it opened.
#[derive(Default)]
struct RpSeen {
    idp: String,
    sessions: BTreeMap<String, String>,
}

/// A tiny OIDC relying party: `GET /login?idp=URL` redirects to the IdP's `/authorize` (code
/// flow), `GET /callback` redeems the code at the IdP's `/token` with its client secret, reads
/// the ID token's `sub` (the signature is the provider tests' business), sets a session cookie
/// and redirects to `/home`, which greets the session's user.
async fn start_rp(seen: Arc<Mutex<RpSeen>>) -> String {
    serve_http(move |parts: hyper::http::request::Parts, _body| {
        let seen = seen.clone();
        async move {
            let own = format!(
                "http://{}",
                parts
                    .headers
                    .get("host")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
            );
            let params: BTreeMap<String, String> =
                form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes())
                    .into_owned()
                    .collect();
            match parts.uri.path() {
                "/login" => {
                    let idp = params.get("idp").cloned().unwrap_or_default();
                    seen.lock().expect("not poisoned").idp = idp.clone();
                    let mut query = form_urlencoded::Serializer::new(String::new());
                    query
                        .append_pair("response_type", "code")
                        .append_pair("client_id", "ledger")
                        .append_pair("redirect_uri", &format!("{own}/callback"))
                        .append_pair("scope", "openid")
                        .append_pair("state", "st-1");
                    redirect(&format!("{idp}/authorize?{}", query.finish()))
                }
                "/callback" => {
                    let idp = seen.lock().expect("not poisoned").idp.clone();
                    let code = params.get("code").cloned().unwrap_or_default();
                    let form = form_urlencoded::Serializer::new(String::new())
                        .append_pair("grant_type", "authorization_code")
                        .append_pair("code", &code)
                        .append_pair("redirect_uri", &format!("{own}/callback"))
                        .append_pair("client_id", "ledger")
                        .append_pair("client_secret", "rp-secret-0123456789")
                        .finish();
                    let answer: serde_json::Value = reenact::run::http_client()
                        .post(format!("{idp}/token"))
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body(form)
                        .send()
                        .await
                        .expect("the token endpoint answers")
                        .json()
                        .await
                        .expect("a JSON token answer");
                    let Some(id_token) = answer["id_token"].as_str() else {
                        return (400, Vec::new(), format!("no id_token: {answer}"));
                    };
                    let claims: serde_json::Value = id_token
                        .split('.')
                        .nth(1)
                        .and_then(|part| {
                            base64::engine::general_purpose::URL_SAFE_NO_PAD
                                .decode(part)
                                .ok()
                        })
                        .and_then(|bytes: Vec<u8>| serde_json::from_slice(&bytes).ok())
                        .unwrap_or_default();
                    let sub = claims["sub"].as_str().unwrap_or_default().to_owned();
                    let mut seen = seen.lock().expect("not poisoned");
                    let session = format!("rp-session-{:08}", seen.sessions.len() + 1);
                    seen.sessions.insert(session.clone(), sub);
                    (
                        302,
                        vec![
                            ("set-cookie".into(), format!("sid={session}; Path=/")),
                            ("location".into(), "/home".into()),
                        ],
                        String::new(),
                    )
                }
                "/home" => {
                    let cookie = parts
                        .headers
                        .get("cookie")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default();
                    let session = cookie
                        .split(';')
                        .find_map(|pair| pair.trim().strip_prefix("sid="))
                        .unwrap_or_default();
                    match seen.lock().expect("not poisoned").sessions.get(session) {
                        Some(sub) => (200, Vec::new(), format!("Welcome, {sub}")),
                        None => (401, Vec::new(), "log in first".into()),
                    }
                }
                _ => (404, Vec::new(), String::new()),
            }
        }
    })
    .await
}

/// The OIDC code flow driven by `sso_login` against `provider: oidc`: `user: bob` reaches the
/// authorization endpoint as `login_hint=bob` (the IdP's default user is alice), the IdP's
/// redirect carries the code back to the RP, which redeems it for an ID token of bob.
#[tokio::test]
async fn an_oidc_login_picks_the_user_by_login_hint() {
    let seen = Arc::new(Mutex::new(RpSeen::default()));
    let rp = start_rp(seen.clone()).await;
    let yaml = format!(
        r#"id: browse-oidc
title: browse-oidc
mocks:
  idp:
    provider: oidc
    with:
      clients:
        - client_id: ledger
          client_secret: rp-secret-0123456789
          redirect_uris: ["{rp}/callback"]
      users:
        - {{ sub: alice, email: alice@acme.test }}
        - {{ sub: bob, email: bob@acme.test }}
target:
  url: "{rp}"
flow:
  - name: bob logs in
    sso_login:
      start: {{ path: "/login?idp={{{{ mocks.idp.url }}}}" }}
      idp: idp
      user: bob
    expect: {{ status: 200, body_contains: "Welcome, bob" }}
"#
    );
    let run = run(&load_scenario("browse-oidc.yaml", &yaml)).await;
    assert_eq!(run.failed_step(), None);
    let step = &run.observation.steps[0];
    let idp = &run.observation.mock_urls["idp"];
    let hops: Vec<(String, Option<u16>)> = step
        .hops
        .iter()
        .map(|hop| {
            (
                hop.url.split('?').next().unwrap_or_default().to_owned(),
                hop.status,
            )
        })
        .collect();
    assert_eq!(
        hops,
        vec![
            (format!("{rp}/login"), Some(302)),
            (format!("{idp}/authorize"), Some(302)),
            (format!("{rp}/callback"), Some(302)),
            (format!("{rp}/home"), Some(200)),
        ]
    );
    assert!(
        step.hops[1].url.contains("login_hint=bob"),
        "{:?}",
        step.hops[1]
    );
    let sessions = &seen.lock().expect("not poisoned").sessions;
    assert_eq!(sessions.values().collect::<Vec<_>>(), ["bob"]);
}
