//! Tests of `provider: bank`'s HTTP delivery: a mock loaded from YAML as a scenario declares it,
//! served on loopback and driven by a real HTTP client and the control API's virtual clock. The
//! listing and download routes, availability on the virtual clock, the credentials `auth` sets
//! and the state; the bytes of rendered files are the renderers' (judged in
//! `conformance/bank/`), so here a raw `file:` statement stands for them where bytes matter.

use std::time::Duration;

use base64::Engine as _;

use crate::support::{self, load_mock};
use reenact::scenario::model::MockSpec;
use serde_json::{Value, json};

/// The raw fixture the scenarios deliver as it is.
const RAW: &str = "tests/fixtures/valid/bank/odd.sta";

/// A mock `bank` with one EUR account and these statements and extra `with` lines (YAML, each
/// indented six spaces).
fn spec(statements: &str, extra: &str) -> MockSpec {
    load_mock(&format!(
        "id: bank\ntitle: bank\nmocks:\n  bank:\n    provider: bank\n    with:\n      bank: {{ bic: DEUTDEFFXXX, name: Deutsche Bank AG }}\n      accounts:\n        - id: operating\n          iban: DE89 3704 0044 0532 0130 00\n          currency: EUR\n          opening: {{ date: 2026-11-02, balance: \"-1200.50\" }}\n          transactions:\n            - {{ booked: 2026-11-02, amount: \"-250.00\" }}\n      statements:\n{statements}{extra}flow:\n  - request: {{ method: GET, path: / }}\n"
    ))
}

enum Bank {}
type Harness = support::Harness<Bank>;

/// What a download got: status, headers, bytes.
struct Downloaded {
    status: u16,
    headers: reqwest::header::HeaderMap,
    bytes: Vec<u8>,
}

impl Downloaded {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Harness {
    /// `GET /statements`, with `authorization` if given: status, `WWW-Authenticate`, JSON.
    async fn listing(&self, authorization: Option<&str>) -> (u16, Option<String>, Value) {
        let mut request = self.http.get(format!("{}/statements", self.server.url()));
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        let got = self.send(request).await;
        let challenge = got.header("www-authenticate").map(str::to_owned);
        (got.status, challenge, got.json)
    }

    /// The names the listing holds now (no credentials).
    async fn names(&self) -> Vec<String> {
        let (status, _, json) = self.listing(None).await;
        assert_eq!(status, 200, "{json}");
        json["statements"]
            .as_array()
            .expect("a list")
            .iter()
            .map(|entry| entry["name"].as_str().expect("a name").to_owned())
            .collect()
    }

    /// `GET /statements/{segment}` (already percent-encoded), with `authorization` if given.
    async fn download(&self, segment: &str, authorization: Option<&str>) -> Downloaded {
        let mut request = self
            .http
            .get(format!("{}/statements/{segment}", self.server.url()));
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        let response = request.send().await.expect("request reaches the mock");
        Downloaded {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            bytes: response.bytes().await.expect("body").to_vec(),
        }
    }
}

/// Files appear at their `available_at` on the virtual clock (the harness starts at
/// 2026-10-31T23:00:00Z), in file order; a rendered file is listed with its format and the size of
/// the bytes a download gets; a file not yet available is a `404` like an unknown one.
#[tokio::test]
async fn files_appear_at_their_time_on_the_virtual_clock() {
    let bank = Harness::start(spec(
        &format!(
            "        - {{ name: early.sta, format: mt940, accounts: [operating], from: 2026-11-02 }}\n        - {{ name: later.sta, file: {RAW}, available_at: \"2026-11-01T06:00:00Z\" }}\n        - {{ name: stmt.xml, format: camt.053.001.08, accounts: [operating], from: 2026-11-02, available_at: \"2026-11-03T06:00:00Z\" }}\n"
        ),
        "",
    ))
    .await;
    assert_eq!(bank.names().await, ["early.sta"]);
    let before = bank.download("later.sta", None).await;
    assert_eq!(before.status, 404);
    let unknown = bank.download("nothing.sta", None).await;
    assert_eq!(unknown.status, 404);
    let error = |got: &Downloaded| -> Value {
        serde_json::from_slice::<Value>(&got.bytes).expect("a JSON body")["error"].clone()
    };
    assert_eq!(error(&before), error(&unknown));

    bank.advance_by(Duration::from_secs(7 * 3600)).await; // 2026-11-01T06:00:00Z
    assert_eq!(bank.names().await, ["early.sta", "later.sta"]);
    bank.advance_by(Duration::from_secs(2 * 86_400)).await;
    let (status, _, listing) = bank.listing(None).await;
    assert_eq!(status, 200);
    let entries = listing["statements"].as_array().expect("a list");
    assert_eq!(entries.len(), 3, "{listing}");
    assert_eq!(entries[0]["format"], "mt940");
    assert!(entries[0].get("available_at").is_none(), "{listing}");
    assert_eq!(entries[1]["format"], "raw");
    assert_eq!(entries[1]["available_at"], "2026-11-01T06:00:00Z");
    assert_eq!(entries[2]["name"], "stmt.xml");
    assert_eq!(entries[2]["format"], "camt.053.001.08");
    assert_eq!(entries[2]["available_at"], "2026-11-03T06:00:00Z");
    for entry in entries {
        let name = entry["name"].as_str().expect("name");
        let got = bank.download(name, None).await;
        assert_eq!(got.status, 200, "{name}");
        assert_eq!(entry["size"], json!(got.bytes.len()), "{name}");
    }
    let camt = bank.download("stmt.xml", None).await;
    assert_eq!(camt.header("content-type"), Some("application/xml"));
    let mt940 = bank.download("early.sta", None).await;
    assert!(
        mt940
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/plain; charset=")),
        "{:?}",
        mt940.headers
    );
    bank.stop().await;
}

/// A raw file is delivered byte for byte, as an attachment under its name; the state records
/// each download (name and virtual time) and counts the listings.
#[tokio::test]
async fn a_raw_file_is_delivered_byte_for_byte_and_recorded() {
    let bank = Harness::start(spec(
        &format!("        - {{ name: odd bank.sta, file: {RAW} }}\n"),
        "",
    ))
    .await;
    assert_eq!(bank.names().await, ["odd bank.sta"]);
    let got = bank.download("odd%20bank.sta", None).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.bytes, std::fs::read(RAW).expect("the fixture"));
    assert_eq!(got.header("content-type"), Some("application/octet-stream"));
    assert_eq!(
        got.header("content-disposition"),
        Some("attachment; filename=\"odd bank.sta\"")
    );
    bank.advance_by(Duration::from_secs(60)).await;
    assert_eq!(bank.download("odd%20bank.sta", None).await.status, 200);
    assert_eq!(bank.download("odd%2", None).await.status, 404);

    let state = bank.state_of("bank").await;
    assert_eq!(
        state,
        json!({
            "downloads": [
                { "name": "odd bank.sta", "at": "2026-10-31T23:00:00Z", "channel": "http" },
                { "name": "odd bank.sta", "at": "2026-10-31T23:01:00Z", "channel": "http" },
            ],
            "listings": 1,
            "payment_files": [],
            "payments": [],
        })
    );
    bank.stop().await;
}

/// Unknown names are a `404` JSON naming the file; other methods a `405` with `Allow: GET`;
/// paths outside `/statements` are not the provider's.
#[tokio::test]
async fn unknown_files_methods_and_paths_are_refused() {
    let bank = Harness::start(spec(
        &format!("        - {{ name: a.sta, file: {RAW} }}\n"),
        "",
    ))
    .await;
    let got = bank
        .send(
            bank.http
                .get(format!("{}/statements/b.sta", bank.server.url())),
        )
        .await;
    assert_eq!(got.status, 404);
    assert_eq!(got.json["name"], "b.sta");
    let post = bank
        .send(bank.http.post(format!("{}/statements", bank.server.url())))
        .await;
    assert_eq!(post.status, 405);
    assert_eq!(post.header("allow"), Some("GET"));
    bank.assert_unrouted("/statements/a.sta/more").await;
    bank.assert_unrouted("/statement").await;
    bank.assert_unrouted("/").await;
    let state = bank.state_of("bank").await;
    assert_eq!(state["downloads"], json!([]));
    bank.stop().await;
}

/// `auth: { basic }`: without credentials a `401` with an RFC 7617 challenge, wrong ones a `401`,
/// the right ones the files; the password never reaches the state.
#[tokio::test]
async fn basic_auth_guards_both_routes() {
    let bank = Harness::start(spec(
        &format!("        - {{ name: a.sta, file: {RAW} }}\n"),
        "      auth: { basic: { username: acme, password: s3cret-statements } }\n",
    ))
    .await;
    let basic = |user: &str, password: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        )
    };
    let (status, challenge, _) = bank.listing(None).await;
    assert_eq!(status, 401);
    assert_eq!(
        challenge.as_deref(),
        Some("Basic realm=\"bank\", charset=\"UTF-8\"")
    );
    let (status, _, _) = bank.listing(Some(&basic("acme", "wrong"))).await;
    assert_eq!(status, 401);
    let (status, _, _) = bank
        .listing(Some(&basic("other", "s3cret-statements")))
        .await;
    assert_eq!(status, 401);
    assert_eq!(bank.download("a.sta", None).await.status, 401);
    let right = basic("acme", "s3cret-statements");
    let (status, _, listing) = bank.listing(Some(&right)).await;
    assert_eq!(status, 200);
    assert_eq!(listing["statements"][0]["name"], "a.sta");
    assert_eq!(bank.download("a.sta", Some(&right)).await.status, 200);
    let state = bank.state_of("bank").await;
    assert_eq!(state["listings"], 1, "refused requests are not counted");
    assert_eq!(state["downloads"].as_array().map(Vec::len), Some(1));
    assert!(!state.to_string().contains("s3cret"));
    bank.stop().await;
}

/// `auth: { bearer }`: RFC 6750 §3.1 challenges, `invalid_token` only when a token came.
#[tokio::test]
async fn bearer_auth_challenges_as_rfc_6750_says() {
    let bank = Harness::start(spec(
        &format!("        - {{ name: a.sta, file: {RAW} }}\n"),
        "      auth: { bearer: tok-123 }\n",
    ))
    .await;
    let (status, challenge, _) = bank.listing(None).await;
    assert_eq!(status, 401);
    assert_eq!(challenge.as_deref(), Some("Bearer realm=\"bank\""));
    let (status, challenge, _) = bank.listing(Some("Bearer tok-999")).await;
    assert_eq!(status, 401);
    assert_eq!(
        challenge.as_deref(),
        Some("Bearer realm=\"bank\", error=\"invalid_token\"")
    );
    let (status, _, _) = bank.listing(Some("bearer tok-123")).await;
    assert_eq!(status, 200);
    let got = bank.download("a.sta", Some("Bearer tok-123")).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.bytes, std::fs::read(RAW).expect("the fixture"));
    bank.stop().await;
}

/// End to end through the runner: flow steps download from the bank with the bearer token,
/// `state: downloads` expectations are judged on the state the runner collects, and the
/// normalized snapshot never holds the token.
#[tokio::test]
async fn state_expectations_count_the_downloads_the_runner_collects() {
    let yaml = format!(
        "id: bank-state\ntitle: bank state\nclock: {{ start: 2026-11-03T07:00:00Z }}\nmocks:\n  bank:\n    provider: bank\n    with:\n      bank: {{ bic: DEUTDEFFXXX, name: Deutsche Bank AG }}\n      auth: {{ bearer: tok-statements-123 }}\n      accounts:\n        - {{ id: operating, iban: DE89 3704 0044 0532 0130 00, currency: EUR, opening: {{ date: 2026-11-02, balance: \"0\" }} }}\n      statements:\n        - {{ name: a.sta, file: {RAW} }}\n        - {{ name: b.sta, file: {RAW}, available_at: \"2026-11-04T06:00:00Z\" }}\ntarget: {{ url: \"http://127.0.0.1:9\" }}\nflow:\n  - name: list\n    request: {{ mock: bank, method: GET, path: /statements, headers: {{ Authorization: Bearer tok-statements-123 }} }}\n    expect: {{ status: 200 }}\n  - name: download\n    request: {{ mock: bank, method: GET, path: /statements/a.sta, headers: {{ Authorization: Bearer tok-statements-123 }} }}\n    expect: {{ status: 200 }}\n  - name: too early\n    request: {{ mock: bank, method: GET, path: /statements/b.sta, headers: {{ Authorization: Bearer tok-statements-123 }} }}\n    expect: {{ status: 404 }}\nexpect:\n  - {{ name: a once, mock: bank, state: downloads, where: {{ name: a.sta }}, count: 1 }}\n  - {{ name: b never, mock: bank, state: downloads, where: {{ name: b.sta }}, count: 0 }}\n"
    );
    let scenario = support::load_scenario("bank-state.yaml", &yaml);
    let run = support::run_in_process(&scenario, std::path::Path::new(".")).await;
    assert_eq!(run.failed_step(), None, "{:#?}", run.observation.steps);
    let results: Vec<(&str, bool)> = run
        .expectations
        .iter()
        .map(|r| (r.name.as_str(), r.passed))
        .collect();
    assert_eq!(results, [("a once", true), ("b never", true)]);
    let document = reenact::snapshot::normalize(
        &run.observation,
        &run.expectations,
        &reenact::scenario::model::SnapshotSpec::default(),
    );
    let state = &document["mocks"]["bank"]["state"];
    assert_eq!(state["downloads"][0]["name"], "a.sta", "{state}");
    assert_eq!(state["downloads"][0]["at"], "2026-11-03T07:00:00Z");
    assert_eq!(state["listings"], 1);
    assert!(!document.to_string().contains("tok-statements-123"));
}

/// A pain.001.001.03 with one `PmtInf` for `date` and `txs` (end-to-end id, amount), its group
/// `CtrlSum` `ctrl_sum`.
fn pain001(msg_id: &str, ctrl_sum: &str, date: &str, txs: &[(&str, &str)]) -> String {
    let body: String = txs
        .iter()
        .map(|(e2e, amount)| {
            format!(
                "<CdtTrfTxInf><PmtId><EndToEndId>{e2e}</EndToEndId></PmtId><Amt><InstdAmt Ccy=\"EUR\">{amount}</InstdAmt></Amt><Cdtr><Nm>Lumen Lab</Nm></Cdtr><CdtrAcct><Id><IBAN>DE02120300000000202051</IBAN></Id></CdtrAcct></CdtTrfTxInf>"
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001.03\"><CstmrCdtTrfInitn><GrpHdr><MsgId>{msg_id}</MsgId><CreDtTm>2026-10-31T22:00:00</CreDtTm><NbOfTxs>{n}</NbOfTxs><CtrlSum>{ctrl_sum}</CtrlSum><InitgPty><Nm>Acme</Nm></InitgPty></GrpHdr><PmtInf><PmtInfId>P1</PmtInfId><PmtMtd>TRF</PmtMtd><ReqdExctnDt>{date}</ReqdExctnDt><Dbtr><Nm>Acme</Nm></Dbtr><DbtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id></DbtrAcct><DbtrAgt><FinInstnId><BIC>DEUTDEFF</BIC></FinInstnId></DbtrAgt>{body}</PmtInf></CstmrCdtTrfInitn></Document>",
        n = txs.len()
    )
}

impl Harness {
    /// `POST /payments` with `body` (and `authorization` if given).
    async fn post_payment(&self, body: String, authorization: Option<&str>) -> support::Got {
        let mut request = self
            .http
            .post(format!("{}/payments", self.server.url()))
            .header("content-type", "application/xml")
            .body(body);
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        self.send(request).await
    }

    /// `GET /payments/{id}` as JSON.
    async fn payment(&self, id: &str) -> Value {
        let got = self
            .send(
                self.http
                    .get(format!("{}/payments/{id}", self.server.url())),
            )
            .await;
        assert_eq!(got.status, 200, "{}", got.json);
        got.json
    }

    /// `id`'s group status and each transaction's (end-to-end id, status, reason).
    async fn statuses(&self, id: &str) -> (String, Vec<(String, String, Value)>) {
        let json = self.payment(id).await;
        let txs = json["transactions"]
            .as_array()
            .expect("a list")
            .iter()
            .map(|tx| {
                (
                    tx["end_to_end_id"].as_str().unwrap_or_default().to_owned(),
                    tx["status"].as_str().unwrap_or_default().to_owned(),
                    tx["reason"].clone(),
                )
            })
            .collect();
        (
            json["group_status"].as_str().unwrap_or_default().to_owned(),
            txs,
        )
    }
}

/// A payments-only bank (no ledger) with these `payments:` lines (each indented eight spaces).
fn payments_spec(payments: &str) -> MockSpec {
    load_mock(&format!(
        "id: bank\ntitle: bank\nmocks:\n  bank:\n    provider: bank\n    with:\n      bank: {{ bic: DEUTDEFFXXX, name: Deutsche Bank AG }}\n      payments:\n        time_zone: \"+01:00\"\n{payments}flow:\n  - request: {{ method: GET, path: / }}\n"
    ))
}

/// A good file's life on the virtual clock (the harness starts Saturday 2026-10-31 23:00Z):
/// `RCVD` at receipt, `ACTC` a minute later, `ACSP` after ten, `ACSC` at 06:00 in the bank's
/// zone on the execution date; one pain.002 per step, each listed and downloadable once issued
/// and not before; the state tells the same.
#[tokio::test]
async fn a_payment_file_runs_rcvd_actc_acsp_acsc_on_the_virtual_clock() {
    let bank = Harness::start(payments_spec("        outcomes: []\n")).await;
    let body = pain001(
        "RUN-1",
        "30.50",
        "2026-11-03",
        &[("E1", "10.50"), ("E2", "20")],
    );
    let size = body.len();
    let got = bank.post_payment(body, None).await;
    assert_eq!(got.status, 202, "{}", got.json);
    assert_eq!(got.header("location"), Some("/payments/PMT-1"));
    assert_eq!(
        got.json,
        json!({ "id": "PMT-1", "msg_id": "RUN-1", "received_at": "2026-11-01T00:00:00+01:00" })
    );
    let step = |group: &str, tx: &str| {
        (
            group.to_owned(),
            vec![
                ("E1".to_owned(), tx.to_owned(), Value::Null),
                ("E2".to_owned(), tx.to_owned(), Value::Null),
            ],
        )
    };
    assert_eq!(bank.statuses("PMT-1").await, step("RCVD", "RCVD"));
    bank.advance_by(Duration::from_secs(59)).await;
    assert_eq!(bank.statuses("PMT-1").await.0, "RCVD");
    bank.advance_by(Duration::from_secs(1)).await;
    assert_eq!(bank.statuses("PMT-1").await, step("ACTC", "ACTC"));
    bank.advance_by(Duration::from_secs(540)).await;
    assert_eq!(bank.statuses("PMT-1").await, step("ACSP", "ACSP"));
    let reports = bank
        .send(
            bank.http
                .get(format!("{}/payments/PMT-1/reports", bank.server.url())),
        )
        .await;
    assert_eq!(reports.json["reports"].as_array().map(Vec::len), Some(3));
    let not_yet = bank
        .send(bank.http.get(format!(
            "{}/payments/PMT-1/reports/PMT-1-pain.002-4.xml",
            bank.server.url()
        )))
        .await;
    assert_eq!(not_yet.status, 404);
    // 2026-11-03T06:00+01:00 = 05:00Z, 54 hours after the start.
    bank.advance_by(Duration::from_secs(54 * 3600 - 600 - 1))
        .await;
    assert_eq!(bank.statuses("PMT-1").await.0, "ACSP");
    bank.advance_by(Duration::from_secs(1)).await;
    assert_eq!(bank.statuses("PMT-1").await, step("ACSC", "ACSC"));
    let report = bank
        .http
        .get(format!(
            "{}/payments/PMT-1/reports/PMT-1-pain.002-4.xml",
            bank.server.url()
        ))
        .send()
        .await
        .expect("the report");
    assert_eq!(report.status(), 200);
    assert_eq!(
        report
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/xml")
    );
    let text = report.text().await.expect("text");
    assert!(text.contains("<MsgId>PMT-1-4</MsgId>"), "{text}");
    assert!(
        text.contains("<CreDtTm>2026-11-03T06:00:00+01:00</CreDtTm>"),
        "{text}"
    );
    assert!(text.contains("<OrgnlMsgId>RUN-1</OrgnlMsgId>"), "{text}");
    assert!(text.contains("<GrpSts>ACSC</GrpSts>"), "{text}");
    assert_eq!(text.matches("<TxSts>ACSC</TxSts>").count(), 2, "{text}");
    let state = bank.state_of("bank").await;
    assert_eq!(
        state["payment_files"],
        json!([{ "id": "PMT-1", "name": "PMT-1.xml", "size": size, "msg_id": "RUN-1",
                 "received_at": "2026-11-01T00:00:00+01:00", "group_status": "ACSC" }])
    );
    assert_eq!(state["payments"][1]["amount"], "20");
    assert_eq!(state["payments"][1]["status"], "ACSC");
    assert_eq!(
        state["payments"][1]["creditor_iban"],
        "DE02120300000000202051"
    );
    bank.stop().await;
}

/// Rejections: a declared AC01 makes the group `PART` in the ACSP report; a comma decimal (B-14)
/// is `RJCT` `FF01` at receipt with the validator's words; a control-sum mismatch (B-15) is
/// `RJCT` `AM10` at ACTC; a second file with an accepted file's `MsgId` (B-17) is `RJCT` `DU01`.
#[tokio::test]
async fn rejections_part_schema_control_sum_and_duplicate() {
    let bank = Harness::start(payments_spec(
        "        outcomes:\n          - { end_to_end_id: E2, reason: AC01, text: \"Account identifier incorrect\" }\n",
    ))
    .await;
    let part = bank
        .post_payment(
            pain001("M-PART", "30", "2026-11-03", &[("E1", "10"), ("E2", "20")]),
            None,
        )
        .await;
    let comma = bank
        .post_payment(
            pain001("M-COMMA", "4847,37", "2026-11-03", &[("E1", "4847,37")]),
            None,
        )
        .await;
    let sum = bank
        .post_payment(
            pain001("M-SUM", "31", "2026-11-03", &[("E1", "10"), ("E2", "20")]),
            None,
        )
        .await;
    let again = bank
        .post_payment(
            pain001("M-PART", "30", "2026-11-03", &[("E1", "10"), ("E2", "20")]),
            None,
        )
        .await;
    for got in [&part, &comma, &sum, &again] {
        assert_eq!(got.status, 202, "{}", got.json);
    }
    let schema = bank.payment("PMT-2").await;
    assert_eq!(schema["group_status"], "RJCT");
    assert_eq!(schema["reason"], "FF01");
    assert_eq!(
        schema["reason_text"],
        "cvc-datatype-valid.1.2.1: '4847,37' is not a valid value for 'decimal'."
    );
    bank.advance_by(Duration::from_secs(600)).await;
    assert_eq!(
        bank.statuses("PMT-1").await,
        (
            "PART".to_owned(),
            vec![
                ("E1".to_owned(), "ACSP".to_owned(), Value::Null),
                ("E2".to_owned(), "RJCT".to_owned(), json!("AC01")),
            ]
        )
    );
    let control = bank.payment("PMT-3").await;
    assert_eq!(
        (&control["group_status"], &control["reason"]),
        (&json!("RJCT"), &json!("AM10"))
    );
    let duplicate = bank.payment("PMT-4").await;
    assert_eq!(
        (&duplicate["group_status"], &duplicate["reason"]),
        (&json!("RJCT"), &json!("DU01"))
    );
    let state = bank.state_of("bank").await;
    let statuses: Vec<&str> = state["payment_files"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|f| f["group_status"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(statuses, ["PART", "RJCT", "RJCT", "RJCT"]);
    bank.stop().await;
}

/// The calendar: in the bank's zone (`+01:00`) the harness's start is Sunday 2026-11-01 00:00; a
/// file for today past a `00:00` cut-off is `RJCT` `TM01` with `after_cut_off: reject`; a file
/// for a past day is `RJCT` `DT01`.
#[tokio::test]
async fn cut_off_and_past_dates_reject_as_the_profile_says() {
    let bank = Harness::start(payments_spec(
        "        cut_off: \"00:00\"\n        after_cut_off: reject\n",
    ))
    .await;
    bank.post_payment(pain001("M-LATE", "10", "2026-11-01", &[("E1", "10")]), None)
        .await;
    bank.post_payment(pain001("M-PAST", "10", "2026-10-30", &[("E1", "10")]), None)
        .await;
    bank.advance_by(Duration::from_secs(60)).await;
    let late = bank.statuses("PMT-1").await;
    assert_eq!(
        late,
        (
            "RJCT".to_owned(),
            vec![("E1".to_owned(), "RJCT".to_owned(), json!("TM01"))]
        )
    );
    let past = bank.statuses("PMT-2").await;
    assert_eq!(
        past,
        (
            "RJCT".to_owned(),
            vec![("E1".to_owned(), "RJCT".to_owned(), json!("DT01"))]
        )
    );
    bank.stop().await;
}

/// The payment routes' refusals: other methods `405` with `Allow`, an unknown file or report
/// `404`, other paths unrouted, and `auth` guards them like the statements.
#[tokio::test]
async fn payment_routes_refuse_methods_unknown_ids_and_missing_credentials() {
    let bank = Harness::start(spec(
        &format!("        - {{ name: a.sta, file: {RAW} }}\n"),
        "      auth: { bearer: tok-pay-1 }\n",
    ))
    .await;
    let put = bank
        .send(bank.http.put(format!("{}/payments", bank.server.url())))
        .await;
    assert_eq!(put.status, 405);
    assert_eq!(put.header("allow"), Some("GET, POST"));
    let post = bank
        .send(
            bank.http
                .post(format!("{}/payments/PMT-1", bank.server.url())),
        )
        .await;
    assert_eq!((post.status, post.header("allow")), (405, Some("GET")));
    let anonymous = bank
        .post_payment(pain001("M", "1", "2026-11-03", &[("E", "1")]), None)
        .await;
    assert_eq!(anonymous.status, 401);
    let got = bank
        .post_payment(
            pain001("M", "1", "2026-11-03", &[("E", "1")]),
            Some("Bearer tok-pay-1"),
        )
        .await;
    assert_eq!(got.status, 202);
    let unknown = bank
        .send(
            bank.http
                .get(format!("{}/payments/PMT-9", bank.server.url()))
                .header("authorization", "Bearer tok-pay-1"),
        )
        .await;
    assert_eq!(unknown.status, 404);
    bank.assert_unrouted("/payments/PMT-1/other").await;
    bank.assert_unrouted("/paymentsx").await;
    let state = bank.state_of("bank").await;
    assert_eq!(state["payment_files"].as_array().map(Vec::len), Some(1));
    bank.stop().await;
}
