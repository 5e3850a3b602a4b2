//! Flow captures beyond the JSON body: a redirect's `Location` (with a regex), a cookie a
//! `Set-Cookie` sets, and a regex on an HTML body — what a login flow needs — taken from real
//! responses of a mock and used by the next step (the flow talks only to the mock; the target is
//! never called).

use crate::support::{load_scenario, run_in_process};

const SCENARIO: &str = r#"id: captures
title: captures from headers, cookies and bodies
mocks:
  idp:
    stubs:
      - request: { method: GET, path: /authorize }
        response:
          status: 302
          headers:
            Location: "https://app.test/callback?code=c-123&state=s1"
            Set-Cookie: "sid=abc.def.ghi; Path=/; HttpOnly"
      - request: { method: GET, path: /page }
        response:
          status: 200
          headers: { Content-Type: text/html }
          body: "<html><input name=\"SAMLResponse\" value=\"PHNhbWw+\"/></html>"
      - request:
          method: POST
          path: /token
          body_contains: "code=c-123&session=abc.def.ghi&saml=PHNhbWw+"
        response: { status: 200, json: { ok: true } }
target: { url: "http://127.0.0.1:9" }
flow:
  - name: authorize
    request: { mock: idp, method: GET, path: /authorize }
    expect: { status: 302 }
    capture:
      code: { header: Location, regex: "code=([^&]+)" }
      location: { header: location }
      sid: { cookie: sid }
  - name: page
    request: { mock: idp, method: GET, path: /page }
    capture:
      saml: { regex: "name=\"SAMLResponse\" value=\"([^\"]+)\"" }
  - name: exchange
    request:
      mock: idp
      method: POST
      path: /token
      body: "code={{ code }}&session={{ sid }}&saml={{ saml }}"
    expect: { status: 200, json: { ok: true } }
"#;

#[tokio::test]
async fn captures_come_from_headers_cookies_and_body_regexes() {
    let scenario = load_scenario("captures.yaml", SCENARIO);
    let run = run_in_process(&scenario, std::path::Path::new(".")).await;
    assert_eq!(run.failed_step(), None, "{:#?}", run.observation.steps);
    let first = &run.observation.steps[0].captures;
    assert_eq!(first["code"], "c-123");
    assert_eq!(
        first["location"],
        "https://app.test/callback?code=c-123&state=s1"
    );
    assert_eq!(first["sid"], "abc.def.ghi");
    assert_eq!(run.observation.steps[1].captures["saml"], "PHNhbWw+");
}

#[tokio::test]
async fn a_missing_header_or_cookie_fails_the_step_naming_it() {
    for (capture, reason) in [
        (
            "{ header: x-nope }",
            "capture `v`: the response has no `x-nope` header",
        ),
        (
            "{ cookie: nope }",
            "capture `v`: no `Set-Cookie` header sets cookie `nope`",
        ),
        (
            "{ header: location, regex: \"token=(\\\\w+)\" }",
            "capture `v`: `token=(\\w+)` does not match",
        ),
    ] {
        let yaml = SCENARIO.replace(
            "      sid: { cookie: sid }\n",
            &format!("      sid: {{ cookie: sid }}\n      v: {capture}\n"),
        );
        let run = run_in_process(
            &load_scenario("captures.yaml", &yaml),
            std::path::Path::new("."),
        )
        .await;
        assert_eq!(run.failed_step(), Some(("authorize", reason)), "{capture}");
    }
}
