//! Templates of issue 16, end to end: mock answers that name the run's mock URLs (plain and over
//! TLS, through a whole run), the protocol filters on real requests (a pain.002 echoing the
//! pain.001's `MsgId`, a SAML HTTP-Redirect `SAMLRequest` decoded), repeated items in
//! payloads (`$repeat`), and seeded random values with the `regex` and `unix_ms` filters.

use std::path::Path;
use std::process::Command;

use base64::Engine as _;
use serde_json::Value;

use crate::support::{self, load_mock, run_in_process};

/// Load `yaml` as `dir/scenario.yaml` and run it in process.
async fn run_yaml(dir: &Path, yaml: &str) -> reenact::run::ScenarioRun {
    let path = dir.join("scenario.yaml");
    std::fs::write(&path, yaml).unwrap();
    let scenario = reenact::scenario::load(&path).unwrap_or_else(|err| panic!("{err:?}"));
    run_in_process(&scenario, dir).await
}

fn have(program: &str) -> bool {
    Command::new(program).arg("--version").output().is_ok()
}

/// Issue 16: `{{ mocks.entra.url }}` in a stub's answer was a load error, and the
/// `request.headers.host` workaround names `http` on a TLS mock. The target fetches an
/// OIDC-like discovery document whose `issuer` names the mock itself and whose `jwks_uri`
/// names another mock of the run; both are the URLs the run gave the mocks, with `https` for
/// the TLS one.
#[tokio::test]
async fn a_discovery_stub_names_its_issuer_with_the_mocks_urls() {
    if !have("python3") || !have("curl") {
        eprintln!("python3 or curl not found: skipping (they serve as the target)");
        return;
    }
    for tls in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("discovery.json");
        let ca = if tls {
            "    CA: \"{{ tls.ca_file }}\"\n"
        } else {
            ""
        };
        let yaml = format!(
            r#"
id: discovery-issuer
title: the discovery document names the mock's own URL
mocks:
  entra:
    tls: {tls}
    stubs:
      - request: {{ method: GET, path: /tenant/v2.0/.well-known/openid-configuration }}
        response:
          headers: {{ Link: "<{{{{ mocks.keys.url }}}}/discovery/keys>; rel=jwks" }}
          json:
            issuer: "{{{{ mocks.entra.url }}}}/tenant/v2.0"
            jwks_uri: "{{{{ mocks.keys.url }}}}/discovery/keys"
  keys:
    stubs:
      - request: {{ path: /discovery/keys }}
        response: {{ json: {{ keys: [] }} }}
target:
  command:
    - sh
    - -c
    - 'curl -sS ${{CA:+--cacert "$CA"}} "$ISSUER/tenant/v2.0/.well-known/openid-configuration" > "$OUT"; exec python3 -m http.server "$PORT" --bind 127.0.0.1'
  env:
{ca}    ISSUER: "{{{{ mocks.entra.url }}}}"
    PORT: "{{{{ target.port }}}}"
    OUT: "{out}"
  ready: {{ http: GET /, within: 20s }}
flow:
  - advance_clock: 1s
expect:
  - {{ mock: entra, request: {{ path: /tenant/v2.0/.well-known/openid-configuration }}, count: 1 }}
"#,
            out = out.display()
        );
        let run = run_yaml(dir.path(), &yaml).await;
        assert!(run.expectations.iter().all(|e| e.passed), "{run:?}");
        let urls = &run.observation.mock_urls;
        let scheme = if tls { "https://" } else { "http://" };
        assert!(urls["entra"].starts_with(scheme), "{urls:?}");
        let document: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap())
            .unwrap_or_else(|e| panic!("tls {tls}: {e}"));
        assert_eq!(
            document["issuer"],
            format!("{}/tenant/v2.0", urls["entra"]),
            "tls {tls}"
        );
        assert_eq!(
            document["jwks_uri"],
            format!("{}/discovery/keys", urls["keys"]),
            "tls {tls}"
        );
    }
}

/// A mock started alone (no run sent it the URLs) answers a `500` naming the variable, as for
/// any missing value; `default` supplies one.
#[tokio::test]
async fn a_mock_without_the_runs_urls_says_which_is_missing() {
    let harness = support::Harness::<()>::start(load_mock(
        r#"id: alone
title: alone
mocks:
  entra:
    stubs:
      - request: { path: /a }
        response: { body: "{{ mocks.entra.url }}" }
      - request: { path: /b }
        response: { body: "{{ mocks.entra.url | default(\"unknown\") }}" }
flow:
  - request: { method: GET, path: / }
"#,
    ))
    .await;
    let url = harness.server.url();
    let a = harness.http.get(format!("{url}/a")).send().await.unwrap();
    assert_eq!(a.status(), 500);
    let text = a.text().await.unwrap();
    assert!(
        text.contains("unknown variable `mocks.entra.url`"),
        "{text}"
    );
    let b = harness.http.get(format!("{url}/b")).send().await.unwrap();
    assert_eq!(b.text().await.unwrap(), "unknown");
    harness.stop().await;
}

const PAIN_001: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03">
  <CstmrCdtTrfInitn>
    <GrpHdr><MsgId>LEDGER-20261031-0042</MsgId><CreDtTm>2026-10-31T23:00:00</CreDtTm><NbOfTxs>3</NbOfTxs></GrpHdr>
    <PmtInf><PmtInfId>BATCH-7</PmtInfId></PmtInf>
  </CstmrCdtTrfInitn>
</Document>"#;

/// Issue 16: templates could not read an XML request body, so a pain.002 answer could not echo
/// the `MsgId` of the pain.001 it answers. The bank stub echoes it with `xpath`, and the
/// number of transactions with `count`-free XPath string values; a body that is not XML
/// answers a `500` naming the filter.
#[tokio::test]
async fn a_pain_002_answer_echoes_the_pain_001_msg_id() {
    let harness = support::Harness::<()>::start(load_mock(
        r#"id: pain
title: pain.002 echoes pain.001
mocks:
  bank:
    stubs:
      - request: { method: POST, path: /payments }
        response:
          status: 201
          headers: { content-type: application/xml, X-Batch: "{{ request.body | xpath(\"//*[local-name()='PmtInfId']\") }}" }
          body: |
            <Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"><CstmrPmtStsRpt>
              <OrgnlGrpInfAndSts><OrgnlMsgId>{{ request.body | xpath("//*[local-name()='GrpHdr']/*[local-name()='MsgId']") }}</OrgnlMsgId>
              <OrgnlNbOfTxs>{{ request.body | xpath("string(//*[local-name()='NbOfTxs'])") }}</OrgnlNbOfTxs><GrpSts>ACCP</GrpSts></OrgnlGrpInfAndSts>
            </CstmrPmtStsRpt></Document>
flow:
  - request: { method: GET, path: / }
"#,
    ))
    .await;
    let url = format!("{}/payments", harness.server.url());
    let response = harness.http.post(&url).body(PAIN_001).send().await.unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["x-batch"], "BATCH-7");
    let body = response.text().await.unwrap();
    assert!(
        body.contains("<OrgnlMsgId>LEDGER-20261031-0042</OrgnlMsgId>"),
        "{body}"
    );
    assert!(body.contains("<OrgnlNbOfTxs>3</OrgnlNbOfTxs>"), "{body}");
    let not_xml = harness.http.post(&url).body("{}").send().await.unwrap();
    assert_eq!(not_xml.status(), 500);
    let text = not_xml.text().await.unwrap();
    assert!(text.contains("filter `xpath` cannot use `{}`"), "{text}");
    assert!(text.contains("not an XML document"), "{text}");
    harness.stop().await;
}

/// The SAML HTTP-Redirect binding: `SAMLRequest` is the AuthnRequest, raw-DEFLATEd, base64 and
/// URL-encoded. A stub decodes it to answer with the request's `ID` (`InResponseTo`) and
/// `jsonpath` reads a JSON body; a request that is not base64 answers a `500` naming
/// `base64_decode`.
#[tokio::test]
async fn a_saml_redirect_request_is_decoded_with_filters() {
    let harness = support::Harness::<()>::start(load_mock(
        r#"id: saml-redirect
title: SAMLRequest decoded
mocks:
  idp:
    stubs:
      - request: { method: GET, path: /sso }
        response:
          body: "{{ request.query.SAMLRequest | base64_decode | inflate | xpath(\"/*/@ID\") }}"
      - request: { method: POST, path: /json }
        response:
          body: "{{ request.body | jsonpath(\"$.bills[1].id\") | upper }} {{ request.body | jsonpath(\"$.bills[*].id\") | base64url }} {{ request.json.bills.0.id | url_encode }}"
flow:
  - request: { method: GET, path: / }
"#,
    ))
    .await;
    let authn = r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_8e8dc5f6" Version="2.0"/>"#;
    let packed = miniz_oxide::deflate::compress_to_vec(authn.as_bytes(), 6);
    let encoded = base64::engine::general_purpose::STANDARD.encode(packed);
    let url = harness.server.url();
    let response = harness
        .http
        .get(format!(
            "{url}/sso?SAMLRequest={}",
            form_urlencoded::byte_serialize(encoded.as_bytes()).collect::<String>()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.text().await.unwrap(), "_8e8dc5f6");
    let bad = harness
        .http
        .get(format!("{url}/sso?SAMLRequest=%25%25"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 500);
    let text = bad.text().await.unwrap();
    assert!(text.contains("filter `base64_decode`"), "{text}");
    let json = harness
        .http
        .post(format!("{url}/json"))
        .body(r#"{"bills": [{"id": "b 1"}, {"id": "b-2"}]}"#)
        .send()
        .await
        .unwrap();
    let ids = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"["b 1","b-2"]"#);
    assert_eq!(json.text().await.unwrap(), format!("B-2 {ids} b%201"));
    harness.stop().await;
}

/// Issue 16: large payloads (1,500 change records) had to be generated with an outside script.
/// A flow step posts 1,500 generated bills to the target, which echoes them; a step to the
/// mock gets 1,500 generated records back (each numbered, with a field of the request); the
/// mock's journal holds the posted 1,500, and a payload file generates as YAML does, with a
/// count the request gives (`"$repeat": "{{ request.json.count }}"`).
#[tokio::test]
async fn a_flow_posts_and_a_stub_answers_1500_generated_items() {
    let target = crate::support::serve(|_, _, body| async move {
        (200, String::from_utf8(body.to_vec()).unwrap_or_default())
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("payloads")).unwrap();
    std::fs::write(
        dir.path().join("payloads/changes.json"),
        r#"{"changes": {"$repeat": "{{ request.json.count }}", "item": {"seq": "{{ number }}", "ticket": "{{ request.json.ticket }}"}}}"#,
    )
    .unwrap();
    let yaml = format!(
        r#"
id: generated-items
title: 1,500 generated items each way
mocks:
  erp:
    stubs:
      - request: {{ method: POST, path: /changes }}
        response: {{ body_file: payloads/changes.json }}
target:
  url: "{target}"
flow:
  - name: post the bills
    request:
      method: POST
      path: /bills
      json:
        batch: B-7
        bills:
          $repeat: 1500
          item: {{ id: "BILL-{{{{ number }}}}", position: "{{{{ index }}}}", lines: {{ $repeat: 2, item: {{ n: "{{{{ number }}}}" }} }} }}
    expect: {{ status: 200, json: {{ "$.bills[1499].id": BILL-1500, "$.bills[0].position": "0", "$.bills[9].lines[1].n": "2" }} }}
    capture: {{ last: "$.bills[1499].id" }}
  - name: the ERP answers its change records
    request:
      mock: erp
      method: POST
      path: /changes
      json: {{ ticket: SUP-1234, count: 1500, bills: {{ $repeat: 1500, item: "{{{{ last }}}}-{{{{ number }}}}" }} }}
    expect: {{ status: 200, json: {{ "$.changes[1499].seq": "1500", "$.changes[0].ticket": SUP-1234 }} }}
  - name: a count the request asks for
    request: {{ mock: erp, method: POST, path: /changes, json: {{ ticket: SUP-1, count: 3 }} }}
    expect: {{ status: 200, json: {{ "$.changes[2].seq": "3" }} }}
expect:
  - {{ mock: erp, request: {{ jsonpath: {{ "$.bills[1499]": BILL-1500-1500 }} }}, count: 1 }}
"#
    );
    let run = run_yaml(dir.path(), &yaml).await;
    assert!(
        run.observation.steps.iter().all(|s| s.failure.is_none()),
        "{:?}",
        run.observation.steps
    );
    assert!(
        run.expectations.iter().all(|e| e.passed),
        "{:?}",
        run.expectations
    );
    let journal = &run.observation.mocks["erp"];
    let posted: Value = serde_json::from_str(&journal.entries[0].body).unwrap();
    assert_eq!(posted["bills"].as_array().map(Vec::len), Some(1500));
    let answered: Value =
        serde_json::from_str(&run.observation.steps[2].response.as_ref().unwrap().body).unwrap();
    assert_eq!(answered["changes"].as_array().map(Vec::len), Some(3));
}

/// Issue 16 (WireMock's `randomValue`, `regexExtract` and `now format='epoch'` carried over): a
/// voucher stub answers random codes of a kind, length and case, the order number a regex finds
/// in the body (or a fallback), and its expiry on the virtual clock in milliseconds. The codes are
/// seeded: a fresh mock answers the same ones to the same requests, and every `$repeat` item and
/// every request gets its own.
#[tokio::test]
async fn a_voucher_answer_has_seeded_random_codes_a_regex_match_and_epoch_millis() {
    const VOUCHERS: &str = r#"id: vouchers
title: seeded random values
clock: { start: 2026-10-31T23:00:00Z }
mocks:
  vouchers:
    stubs:
      - request: { method: POST, path: /vouchers }
        response:
          status: 201
          headers: { X-Trace: "{{ random(\"hexadecimal\", 12) }}" }
          json:
            code: "{{ random(\"alphanumeric\", 8) | upper }}"
            pin: "{{ random(\"numeric\", 4) }}"
            symbols: "{{ random(\"alphanumeric_and_symbols\", 20) }}"
            order: "{{ request.body | regex(\"ORD-[0-9]+\") | default(\"none\") }}"
            expires: "{{ now | add(30d) | unix_ms }}"
            more: { $repeat: 3, item: "{{ random(\"alphabetic\", 6) }}" }
flow:
  - request: { method: GET, path: / }
"#;
    async fn post(harness: &support::Harness<()>, body: &str) -> (String, Value) {
        let url = format!("{}/vouchers", harness.server.url());
        let response = harness
            .http
            .post(&url)
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let trace = response.headers()["x-trace"].to_str().unwrap().to_owned();
        (trace, response.json().await.unwrap())
    }
    let only = |text: &Value, len: usize, allowed: fn(char) -> bool| {
        let text = text.as_str().unwrap_or_else(|| panic!("{text}"));
        assert_eq!(text.len(), len, "{text}");
        assert!(text.chars().all(allowed), "{text}");
    };
    let harness = support::Harness::<()>::start(load_mock(VOUCHERS)).await;
    let (trace, first) = post(&harness, "for ORD-20417, quickly").await;
    only(&Value::from(trace.clone()), 12, |c| {
        c.is_ascii_digit() || ('a'..='f').contains(&c)
    });
    only(&first["code"], 8, |c| {
        c.is_ascii_digit() || c.is_ascii_uppercase()
    });
    only(&first["pin"], 4, |c| c.is_ascii_digit());
    only(&first["symbols"], 20, |c| ('!'..='}').contains(&c));
    assert_eq!(first["order"], "ORD-20417");
    // 2026-10-31T23:00:00Z plus 30 days, in milliseconds.
    assert_eq!(first["expires"], "1796079600000");
    let more = first["more"].as_array().unwrap();
    assert_eq!(more.len(), 3);
    for item in more {
        only(item, 6, |c| c.is_ascii_alphabetic());
    }
    assert!(more[0] != more[1] && more[1] != more[2], "{more:?}");
    let (_, second) = post(&harness, "no order here").await;
    assert_eq!(second["order"], "none");
    assert_ne!(second["code"], first["code"], "a new code per request");
    harness.stop().await;

    // Seeded: a fresh mock answers the same values to the same requests.
    let again = support::Harness::<()>::start(load_mock(VOUCHERS)).await;
    let (replayed_trace, replayed) = post(&again, "for ORD-20417, quickly").await;
    assert_eq!((replayed_trace, &replayed), (trace, &first));
    again.stop().await;
}

/// `template: false`: a body holding `{{` and `}}` (a captured page of an Angular app) is sent
/// exactly as written, from `body` and from a `body_file`, `.json` ones as their bytes; the same
/// text without it is a load error.
#[tokio::test]
async fn a_response_with_template_false_is_sent_as_written() {
    const PAGE: &str = "<p>{{ user.name }} has {{ n }} bills}}</p>";
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("page.json"), "{\"a\":  \"{{ raw }}\"}").unwrap();
    // A body file that is a template: a random value and a quoted brace (both were refused in a
    // file before, as unknown variables).
    std::fs::write(
        dir.path().join("code.txt"),
        "{\"code\":{\"pin\":\"{{ random(\"numeric\", 4) }}\"}{{ \"}\" }}",
    )
    .unwrap();
    let yaml = |template: &str| {
        format!(
            r#"id: raw
title: bodies as written
mocks:
  app:
    stubs:
      - request: {{ method: GET, path: /page }}
        response: {{ body: "{PAGE}"{template} }}
      - request: {{ method: GET, path: /file }}
        response: {{ body_file: page.json, template: false }}
      - request: {{ method: GET, path: /code }}
        response: {{ body_file: code.txt }}
flow:
  - request: {{ method: GET, path: / }}
"#
        )
    };
    let path = dir.path().join("raw.yaml");
    std::fs::write(&path, yaml("")).unwrap();
    let err = format!("{:?}", reenact::scenario::load(&path).unwrap_err());
    assert!(err.contains("user.name"), "{err}");
    std::fs::write(&path, yaml(", template: false")).unwrap();
    let scenario = reenact::scenario::load(&path).unwrap_or_else(|err| panic!("{err:?}"));
    let harness = support::Harness::<()>::start(scenario.mocks[0].clone()).await;
    let get = |path: &str| {
        let url = format!("{}{path}", harness.server.url());
        let http = harness.http.clone();
        async move { http.get(url).send().await.unwrap().text().await.unwrap() }
    };
    assert_eq!(get("/page").await, PAGE);
    assert_eq!(get("/file").await, "{\"a\":  \"{{ raw }}\"}");
    let code: Value = serde_json::from_str(&get("/code").await).unwrap();
    let pin = code["code"]["pin"].as_str().unwrap();
    assert!(
        pin.len() == 4 && pin.chars().all(|c| c.is_ascii_digit()),
        "{code}"
    );
    harness.stop().await;
}
