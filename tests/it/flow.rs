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

/// Issue 16: value checks on a response, its headers and a list of statuses; XPath values with
/// value matchers; a request step that follows redirects; the headers a step names in its
/// snapshot. The flow talks only to a mock, as above.
const CHECKS: &str = r#"id: checks
title: value checks, response headers, redirects
mocks:
  web:
    stubs:
      - request: { method: GET, path: /export }
        response:
          status: 202
          headers: { X-Cache: HIT, Set-Cookie: "sid=sess-4e5f6a7b8c; Path=/" }
          json: { id: b-1, state: queued, note: "", owner: ana, total: 12.5, meta: { present: true } }
      - request: { method: GET, path: /start }
        response: { status: 302, headers: { Location: /middle, Set-Cookie: "hop=h-1; Path=/" } }
      - request: { method: GET, path: /middle, headers: { Cookie: { contains: hop=h-1 } } }
        response: { status: 303, headers: { Location: "/final?code=c0de-1234" } }
      - request: { method: GET, path: /final }
        response: { status: 200, json: { done: true } }
      - request: { method: GET, path: /loop }
        response: { status: 302, headers: { Location: /loop } }
      - request: { method: GET, path: /away }
        response: { status: 307, headers: { Location: "https://example.com/x" } }
      - request:
          method: POST
          path: /pain
          xpath:
            //MsgId: { regex: "^MSG-[0-9]+$" }
            //Cdtr/Nm: { one_of: [ACME, Globex] }
            //Dbtr/Nm: { not: Initech }
            //Rmt: { present: false }
        response: { status: 201 }
target: { url: "http://127.0.0.1:9" }
flow:
  - name: export
    request: { mock: web, method: GET, path: /export }
    expect:
      status: [200, 202]
      headers: { x-cache: { one_of: [HIT, STALE] }, Set-Cookie: { present: true } }
      json:
        $.id: { regex: "^b-[0-9]+$" }
        $.state: { not: failed }
        $.owner: { not: { one_of: [root, admin] } }
        $.error: { present: false }
        $.note: { not: { non_empty: true } }
        $.meta: { equals: { present: true } }
        $.total: { present: true, not: 0 }
        $.name: { not: x }
  - name: login
    request: { mock: web, method: GET, path: /start }
    follow_redirects: true
    expect: { status: 200, json: { $.done: true } }
  - name: pain
    request:
      mock: web
      method: POST
      path: /pain
      body: "<Document><MsgId>MSG-77</MsgId><Cdtr><Nm>Globex</Nm></Cdtr><Dbtr><Nm>Hooli</Nm></Dbtr></Document>"
    expect: { status: 201 }
expect:
  - name: the export came from the cache
    step: export
    status: [202]
    headers: { X-Cache: { regex: "^(HIT|STALE)$" } }
    json: { $.state: { not: { one_of: [failed, cancelled] } } }
"#;

/// Run a variant of [`CHECKS`].
async fn run_checks(yaml: &str) -> reenact::run::ScenarioRun {
    run_in_process(
        &load_scenario("checks.yaml", yaml),
        std::path::Path::new("."),
    )
    .await
}

#[tokio::test]
async fn value_checks_headers_statuses_xpath_matchers_and_redirects_pass() {
    let run = run_checks(CHECKS).await;
    assert_eq!(run.failed_step(), None, "{:#?}", run.observation.steps);
    let verdicts: Vec<(&str, bool)> = run
        .expectations
        .iter()
        .map(|result| (result.name.as_str(), result.passed))
        .collect();
    assert_eq!(verdicts, [("the export came from the cache", true)]);
    let login = &run.observation.steps[1];
    let hops: Vec<(&str, Option<u16>)> = login
        .hops
        .iter()
        .map(|hop| (hop.url.rsplit('/').next().unwrap_or_default(), hop.status))
        .collect();
    assert_eq!(
        hops,
        [
            ("start", Some(302)),
            ("middle", Some(303)),
            ("final?code=c0de-1234", Some(200))
        ]
    );
    assert_eq!(login.attempts, 3);
    assert_eq!(login.response.as_ref().map(|r| r.status), Some(200));
}

/// Each failing check stops the flow with what it expected and what it found.
#[tokio::test]
async fn a_failed_value_check_says_what_it_expected_and_found() {
    for (check, reason) in [
        (
            "$.state: { not: queued }",
            r#"expect: `$.state`: expected not `"queued"`, got `"queued"`"#,
        ),
        (
            "$.state: { one_of: [done, failed] }",
            r#"expect: `$.state`: expected one of `"done"`, `"failed"`, got `"queued"`"#,
        ),
        (
            "$.note: { non_empty: true }",
            r#"expect: `$.note`: expected non-empty, got `""`"#,
        ),
        (
            "$.error: { present: true }",
            "expect: `$.error`: selected nothing, expected present",
        ),
        (
            "$.owner: { contains: bob }",
            r#"expect: `$.owner`: expected to contain `bob`, got `"ana"`"#,
        ),
        (
            "$.id: { regex: \"^inv-\" }",
            r#"expect: `$.id`: expected to match `^inv-`, got `"b-1"`"#,
        ),
        (
            "$.meta: { equals: { present: false } }",
            r#"expect: `$.meta`: expected `{"present":false}`, got `{"present":true}`"#,
        ),
    ] {
        // The checks that pass give way to the one that fails (one JSONPath key each).
        let start = CHECKS
            .find("      json:\n        $.id")
            .expect("the export checks");
        let end = CHECKS.find("  - name: login").expect("the login step");
        let yaml = format!(
            "{}      json:\n        {check}\n{}",
            &CHECKS[..start],
            &CHECKS[end..]
        );
        let run = run_checks(&yaml).await;
        assert_eq!(run.failed_step(), Some(("export", reason)), "{check}");
    }
    for (expect, reason) in [
        (
            "      status: [200, 202]\n",
            "      status: [200, 204]\n",
            "expect: status: expected one of 200, 204, got 202",
        ),
        (
            "x-cache: { one_of: [HIT, STALE] }",
            "x-cache: { not: HIT }",
            "expect: header `x-cache`: expected not `HIT`, got `HIT`",
        ),
        (
            "Set-Cookie: { present: true }",
            "Set-Cookie: { contains: sess-0 }",
            "expect: header `set-cookie`: expected to contain `[redacted]`, got `[redacted]`",
        ),
    ]
    .map(|(from, to, reason)| ((from, to), reason))
    {
        let yaml = CHECKS.replace(expect.0, expect.1);
        let run = run_checks(&yaml).await;
        assert_eq!(run.failed_step(), Some(("export", reason)), "{}", expect.1);
    }
}

/// An XPath value matcher that does not hold misses the stub, and the near-miss names it.
#[tokio::test]
async fn an_xpath_value_matcher_that_does_not_hold_misses_the_stub() {
    let yaml = CHECKS.replace("<Nm>Hooli</Nm>", "<Nm>Initech</Nm>");
    let run = run_checks(&yaml).await;
    let (step, reason) = run.failed_step().expect("the pain step fails");
    assert_eq!(step, "pain");
    assert!(
        reason.starts_with("expect: status: expected 201, got 404"),
        "{reason}"
    );
    let body = &run.observation.steps[2].response.as_ref().unwrap().body;
    assert!(
        body.contains("xpath `//Dbtr/Nm`: expected not `Initech`, got `Initech`"),
        "{body}"
    );
}

/// Redirects are followed only to the run's own origins and at most `max_redirects` times.
#[tokio::test]
async fn a_followed_redirect_stays_within_the_run_and_its_limit() {
    for (path, max, reason) in [
        (
            "/away",
            "",
            "follow_redirects: refusing to follow `https://example.com/x`: not the target or a mock of this run",
        ),
        (
            "/loop",
            "\n    max_redirects: 2",
            "follow_redirects: more than 2 redirects (a redirect loop: ",
        ),
    ] {
        let yaml = CHECKS.replace(
            "path: /start }\n    follow_redirects: true",
            &format!("path: {path} }}\n    follow_redirects: true{max}"),
        );
        let run = run_checks(&yaml).await;
        let (step, failure) = run.failed_step().expect("the login step fails");
        assert_eq!(step, "login");
        assert!(failure.starts_with(reason), "{failure}");
    }
}

/// Without `follow_redirects` the redirect is the response; its snapshot shows `location` (its
/// code masked) and the headers the step's checks and captures name, redacted, and no other.
#[tokio::test]
async fn a_redirect_and_the_headers_a_step_names_are_in_its_snapshot_redacted() {
    let yaml = CHECKS
        .replace(
            "path: /start }\n    follow_redirects: true\n    expect: { status: 200, json: { $.done: true } }",
            "path: /middle, headers: { Cookie: hop=h-1 } }\n    expect: { status: 303 }\n    capture: { next: $.Location }",
        );
    let run = run_checks(&yaml).await;
    assert_eq!(
        run.failed_step(),
        Some((
            "login",
            "capture `next`: the response body is not JSON; the response has a `location` header: did you mean `{ header: location }`?"
        ))
    );
    let yaml = yaml.replace(
        "capture: { next: $.Location }",
        "capture: { next: { header: location } }",
    );
    let run = run_checks(&yaml).await;
    assert_eq!(run.failed_step(), None, "{:#?}", run.observation.steps);
    let document = reenact::snapshot::normalize(
        &run.observation,
        &run.expectations,
        &reenact::scenario::model::SnapshotSpec::default(),
    );
    assert_eq!(
        document["steps"][0]["response"]["headers"],
        serde_json::json!({ "set-cookie": "[redacted]", "x-cache": "HIT" })
    );
    assert_eq!(
        document["steps"][1]["response"],
        serde_json::json!({
            "status": 303,
            "headers": { "location": "/final?code=[redacted]" },
        })
    );
    let text = document.to_string();
    assert!(!text.contains("sess-4e5f6a7b8c"), "{text}");
    assert!(!text.contains("c0de-1234"), "{text}");
}
