//! Conformance tests of `provider: quickbooks` against `domain-catalog.md` §2: a mock loaded
//! from YAML as a scenario declares it, served by a real [`MockServer`] on loopback, driven by a
//! real HTTP client and, for time, through the control API's virtual clock.
//!
//! Each test names the catalog fact it checks (source tag in brackets).

use std::time::Duration;

use crate::support::{
    self, Got, hmac_sha256_base64, load_mock, load_scenario, run_in_process, serve, text,
};
use reenact::scenario::model::MockSpec;
use serde_json::{Value, json};

const REALM: &str = "9130347596783456";
const OTHER_REALM: &str = "4620816365215732";
const MINUTE: u64 = 60;
const HOUR: u64 = 3600;
const DAY: u64 = 86_400;

/// A mock `qbo` with `provider: quickbooks`, one realm, `with` (YAML lines under `with:`) and
/// `extra` (YAML lines at mock level).
fn spec(with: &str, extra: &str) -> MockSpec {
    let yaml = format!(
        "id: qbo\ntitle: qbo\nmocks:\n  qbo:\n    provider: quickbooks\n    with:\n      realms: [{{ id: \"{REALM}\", name: Acme Corp }}]\n{with}{extra}flow:\n  - request: {{ method: GET, path: / }}\n"
    );
    load_mock(&yaml)
}

impl Got {
    /// The first error of a capitalised `Fault`: `(type, code, Message)`.
    fn fault(&self) -> (String, String, String) {
        let fault = &self.json["Fault"];
        let error = &fault["Error"][0];
        (
            text(&fault["type"]),
            text(&error["code"]),
            text(&error["Message"]),
        )
    }
}

/// The QuickBooks requests of the shared harness.
enum QuickBooks {}
type Harness = support::Harness<QuickBooks>;

impl Harness {
    async fn token(&self, form: &[(&str, &str)]) -> Got {
        self.token_at("/oauth2/v1/tokens/bearer", form).await
    }

    async fn refresh(&self, refresh_token: &str) -> Got {
        self.token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ])
        .await
    }

    /// Exchange a fresh authorization code: `(access_token, refresh_token)`.
    async fn connect(&self) -> (String, String) {
        self.connect_at("/oauth2/v1/tokens/bearer").await
    }

    /// `method` on `/v3/company/{REALM}/{path}` (path may hold a query string).
    async fn api(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> Got {
        self.realm_api(REALM, method, path, token, body).await
    }

    async fn realm_api(
        &self,
        realm: &str,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Got {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let url = format!("{}/v3/company/{realm}/{path}", self.server.url());
        let mut request = self.http.request(method, url).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.send(request).await
    }

    async fn query(&self, token: &str, query: &str) -> Got {
        let encoded: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("query", query)
            .finish();
        self.api("GET", &format!("query?{encoded}"), token, None)
            .await
    }

    /// Create vendor `name`: its `Id`.
    async fn vendor(&self, token: &str, name: &str) -> String {
        let got = self
            .api(
                "POST",
                "vendor",
                token,
                Some(json!({ "DisplayName": name })),
            )
            .await;
        assert_eq!(got.status, 200, "{}", got.json);
        text(&got.json["Vendor"]["Id"])
    }

    async fn advance(&self, seconds: u64) {
        self.advance_by(Duration::from_secs(seconds)).await;
    }

    async fn provider_state(&self) -> Value {
        self.state_of("quickbooks").await
    }
}

fn bill(vendor: &str, doc_number: &str) -> Value {
    json!({
        "VendorRef": { "value": vendor },
        "DocNumber": doc_number,
        "TxnDate": "2026-10-30",
        "DueDate": "2026-11-30",
        "Line": [{ "Amount": 42.5, "DetailType": "AccountBasedExpenseLineDetail" }],
    })
}

/// [INTUIT-FAQ], [INTUIT-TOKENS-BLOG]: 3600-second access tokens on the virtual clock;
/// [FS-QBO-3200], Q-05: the 401 `fault` with lowercase keys and type `AUTHENTICATION`;
/// [NANGO-QBO]: a reused code gets `invalid_grant`.
#[tokio::test]
async fn access_tokens_last_an_hour_and_the_401_has_lowercase_keys() {
    let qbo = Harness::start(spec("", "")).await;
    let got = qbo
        .token(&[("grant_type", "authorization_code"), ("code", "code-1")])
        .await;
    assert_eq!(got.status, 200);
    assert_eq!(got.json["expires_in"], 3600);
    assert_eq!(got.json["token_type"], "bearer");
    let access = text(&got.json["access_token"]);
    assert!(got.json["refresh_token"].is_string());

    let reused = qbo
        .token(&[("grant_type", "authorization_code"), ("code", "code-1")])
        .await;
    assert_eq!(reused.status, 400);
    assert_eq!(reused.json, json!({ "error": "invalid_grant" }));

    qbo.advance(59 * MINUTE).await;
    let fresh = qbo.query(&access, "select * from Vendor").await;
    assert_eq!(fresh.status, 200, "{}", fresh.json);

    qbo.advance(MINUTE).await;
    let expired = qbo.query(&access, "select * from Vendor").await;
    assert_eq!(expired.status, 401);
    let error = &expired.json["fault"]["error"][0];
    assert_eq!(
        error["message"],
        "message=AuthenticationFailed; errorCode=003200; statusCode=401"
    );
    assert_eq!(error["code"], "3200");
    assert!(text(&error["detail"]).starts_with("Token expired: "));
    assert_eq!(expired.json["fault"]["type"], "AUTHENTICATION");
    assert!(
        expired.json.get("Fault").is_none(),
        "the 401 uses lowercase keys"
    );
    assert!(expired.header("intuit_tid").is_some());
    assert_eq!(expired.header("content-type"), Some("application/json"));
}

/// [INTUIT-FAQ], [AIRBYTE-7296]: a refresh returns a new refresh token once the one used is
/// older than `refresh_rotation`; the old one still refreshes for `refresh_lag`, then gets
/// `invalid_grant` [NANGO-QBO] (Q-03).
#[tokio::test]
async fn refresh_rotates_after_a_day_and_the_old_token_lapses_after_the_lag() {
    let qbo = Harness::start(spec("      refresh_lag: 1h\n", "")).await;
    let (_, first) = qbo.connect().await;

    qbo.advance(HOUR).await;
    let early = qbo.refresh(&first).await;
    assert_eq!(early.status, 200, "{}", early.json);
    assert_eq!(
        text(&early.json["refresh_token"]),
        first,
        "not rotated within 24 h"
    );

    qbo.advance(23 * HOUR).await;
    let rotated = qbo.refresh(&first).await;
    assert_eq!(rotated.status, 200);
    let second = text(&rotated.json["refresh_token"]);
    assert_ne!(second, first, "rotated after 24 h");

    qbo.advance(30 * MINUTE).await;
    let within_lag = qbo.refresh(&first).await;
    assert_eq!(within_lag.status, 200, "{}", within_lag.json);
    assert_eq!(text(&within_lag.json["refresh_token"]), second);

    qbo.advance(31 * MINUTE).await;
    let lapsed = qbo.refresh(&first).await;
    assert_eq!(lapsed.status, 400);
    assert_eq!(lapsed.json, json!({ "error": "invalid_grant" }));
    assert!(lapsed.header("intuit_tid").is_some());

    let latest = qbo.refresh(&second).await;
    assert_eq!(latest.status, 200, "the latest token still refreshes");
}

/// [INTUIT-TOKENS-BLOG]: refresh tokens last 100 days, extended by each use (rolling).
#[tokio::test]
async fn refresh_tokens_last_a_hundred_days_from_their_last_use() {
    let qbo = Harness::start(spec("      refresh_rotation: 1000d\n", "")).await;
    let (_, refresh) = qbo.connect().await;
    qbo.advance(99 * DAY).await;
    assert_eq!(qbo.refresh(&refresh).await.status, 200);
    qbo.advance(99 * DAY).await;
    assert_eq!(
        qbo.refresh(&refresh).await.status,
        200,
        "the use at day 99 extended it"
    );
    qbo.advance(100 * DAY).await;
    let expired = qbo.refresh(&refresh).await;
    assert_eq!(
        (expired.status, expired.json),
        (400, json!({ "error": "invalid_grant" }))
    );
}

/// [FS-QBO-REVOKE]: revocation ends the consent: its refresh and access tokens are refused.
#[tokio::test]
async fn revocation_refuses_every_token_of_the_consent() {
    let qbo = Harness::start(spec("", "")).await;
    let (access, refresh) = qbo.connect().await;
    let revoked = qbo
        .send(
            qbo.http
                .post(format!("{}/v2/oauth2/tokens/revoke", qbo.server.url()))
                .json(&json!({ "token": refresh })),
        )
        .await;
    assert_eq!(revoked.status, 200);
    assert_eq!(qbo.refresh(&refresh).await.status, 400);
    assert_eq!(qbo.query(&access, "select * from Bill").await.status, 401);
}

/// [INTUIT-CDC]: every API URL names the realm; a realm the app is not authorised for gets 403
/// 3100 `ApplicationAuthorizationFailed` in the lowercase `fault.error[]` shape with
/// `type: SERVICE` and `time` in epoch milliseconds (intuit/oauth-jsclient #2,
/// routablehq/python-quickbooks #250); [INTUIT-ECO-ERRORS]: `intuit_tid` on every answer, the
/// same on every run.
#[tokio::test]
async fn unknown_realms_are_forbidden_and_every_answer_has_an_intuit_tid() {
    let qbo = Harness::start(spec("", "")).await;
    let (access, _) = qbo.connect().await;
    let other = qbo
        .realm_api(OTHER_REALM, "GET", "bill/1", &access, None)
        .await;
    assert_eq!(other.status, 403);
    let fault = &other.json["fault"];
    assert_eq!(fault["type"], "SERVICE");
    assert_eq!(fault["error"][0]["code"], "3100");
    assert_eq!(
        fault["error"][0]["message"],
        "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403"
    );
    assert!(
        other.json.get("Fault").is_none(),
        "not the capitalised shape"
    );
    assert!(
        other.json["time"]
            .as_i64()
            .is_some_and(|ms| ms > 1_700_000_000_000),
        "epoch milliseconds: {}",
        other.json["time"]
    );
    let first_tid = other.header("intuit_tid").expect("intuit_tid").to_owned();

    qbo.control.reset().await.expect("reset");
    let stale = qbo
        .realm_api(OTHER_REALM, "GET", "bill/1", &access, None)
        .await;
    assert_eq!(stale.status, 401, "the reset forgot the token");
    qbo.control.reset().await.expect("reset");
    let (access, _) = qbo.connect().await;
    let again = qbo
        .realm_api(OTHER_REALM, "GET", "bill/1", &access, None)
        .await;
    assert_eq!(again.status, 403);
    assert_eq!(
        again.header("intuit_tid"),
        Some(first_tid.as_str()),
        "seeded: the same on every run"
    );
    let unknown = qbo.api("GET", "invoice/1", &access, None).await;
    assert_eq!(unknown.status, 404, "not a route of the fake");
    assert!(unknown.header("intuit_tid").is_some());
}

/// [DATABUZZ-SYNCTOKEN]: ids are small integers, `SyncToken` is "0" on create and goes up by one
/// per update, `MetaData` times come from the virtual clock; [INTUIT-COMMON-ERRORS],
/// [RUTTER-5010]: an update with an old `SyncToken` gets 400 Fault 5010 (Q-01).
#[tokio::test]
async fn bills_are_versioned_by_sync_token_and_a_stale_one_gets_5010() {
    let qbo = Harness::start(spec("", "")).await;
    let (access, _) = qbo.connect().await;
    let vendor = qbo.vendor(&access, "Office Supplies Ltd").await;
    assert_eq!(vendor, "1");
    let created = qbo
        .api("POST", "bill", &access, Some(bill(&vendor, "1001")))
        .await;
    assert_eq!(created.status, 200, "{}", created.json);
    let record = &created.json["Bill"];
    assert_eq!(record["Id"], "1");
    assert_eq!(record["SyncToken"], "0");
    assert_eq!(record["MetaData"]["CreateTime"], "2026-10-31T23:00:00Z");
    assert_eq!(created.json["time"], "2026-10-31T23:00:00Z");

    qbo.advance(30 * MINUTE).await;
    let update = json!({ "Id": "1", "SyncToken": "0", "sparse": true, "DueDate": "2026-12-15" });
    let updated = qbo.api("POST", "bill", &access, Some(update.clone())).await;
    assert_eq!(updated.status, 200, "{}", updated.json);
    assert_eq!(updated.json["Bill"]["SyncToken"], "1");
    assert_eq!(updated.json["Bill"]["DueDate"], "2026-12-15");
    assert_eq!(
        updated.json["Bill"]["DocNumber"], "1001",
        "sparse keeps the rest"
    );
    assert_eq!(
        updated.json["Bill"]["MetaData"]["LastUpdatedTime"],
        "2026-10-31T23:30:00Z"
    );
    assert_eq!(
        updated.json["Bill"]["MetaData"]["CreateTime"],
        "2026-10-31T23:00:00Z"
    );

    let stale = qbo.api("POST", "bill", &access, Some(update)).await;
    assert_eq!(stale.status, 400);
    assert_eq!(
        stale.fault(),
        (
            "ValidationFault".to_owned(),
            "5010".to_owned(),
            "Stale Object Error".to_owned()
        )
    );
    let error = &stale.json["Fault"]["Error"][0];
    assert!(error["Detail"].is_string() && error.get("element").is_some());
    assert!(stale.json["time"].is_string());

    let read = qbo.api("GET", "bill/1", &access, None).await;
    assert_eq!(
        read.json["Bill"]["SyncToken"], "1",
        "the stale update changed nothing"
    );
    let missing = qbo.api("GET", "bill/99", &access, None).await;
    assert_eq!(missing.status, 400);
    assert_eq!(missing.fault().1, "610");
}

/// [CLIO-6140]: a `DocNumber` already used by a bill gets 400 Fault 6140 naming the bill that
/// has it; [INTUIT-COMMON-ERRORS]: a bill dated in a closed period gets 6210.
#[tokio::test]
async fn duplicate_doc_numbers_and_closed_periods_are_refused() {
    let qbo = Harness::start(spec("      books_closed_date: 2026-09-30\n", "")).await;
    let (access, _) = qbo.connect().await;
    let vendor = qbo.vendor(&access, "Office Supplies Ltd").await;
    assert_eq!(
        qbo.api("POST", "bill", &access, Some(bill(&vendor, "1234")))
            .await
            .status,
        200
    );
    let duplicate = qbo
        .api("POST", "bill", &access, Some(bill(&vendor, "1234")))
        .await;
    assert_eq!(duplicate.status, 400);
    assert_eq!(duplicate.fault().1, "6140");
    // Intuit's words (Stack Overflow payload, Intuit's errors page).
    assert_eq!(
        duplicate.fault().2,
        "Duplicate Document Number Error",
        "not the catalog's \"Duplicate Doc Num\""
    );
    assert_eq!(
        duplicate.json["Fault"]["Error"][0]["Detail"],
        "Duplicate Document Number Error : You must specify a different number. This number has \
         already been used. DocNumber=1234 is assigned to TxnType=Bill with TxnId=1"
    );

    let mut closed = bill(&vendor, "1235");
    closed["TxnDate"] = json!("2026-09-30");
    let refused = qbo.api("POST", "bill", &access, Some(closed)).await;
    assert_eq!(refused.status, 400);
    assert_eq!(
        refused.fault(),
        (
            "ValidationFault".to_owned(),
            "6210".to_owned(),
            "Account Period Closed".to_owned()
        )
    );
    let unknown_vendor = qbo
        .api("POST", "bill", &access, Some(bill("77", "1236")))
        .await;
    assert_eq!(unknown_vendor.fault().1, "2500");
    let state = qbo.provider_state().await;
    assert_eq!(state["bills"].as_array().map(Vec::len), Some(1));
}

/// [INTUIT-REQUESTID]: a replay with the same `requestid` returns the original answer without
/// re-executing; ids are at most 50 characters.
#[tokio::test]
async fn request_ids_replay_the_first_answer() {
    let qbo = Harness::start(spec("", "")).await;
    let (access, _) = qbo.connect().await;
    let vendor = qbo.vendor(&access, "Office Supplies Ltd").await;
    let first = qbo
        .api(
            "POST",
            "bill?requestid=export-1042",
            &access,
            Some(bill(&vendor, "1042")),
        )
        .await;
    assert_eq!(first.status, 200);
    qbo.advance(30 * MINUTE).await;
    let replay = qbo
        .api(
            "POST",
            "bill?requestid=export-1042",
            &access,
            Some(bill(&vendor, "1042")),
        )
        .await;
    assert_eq!(replay.status, 200, "{}", replay.json);
    assert_eq!(
        replay.json, first.json,
        "the original answer, time included"
    );
    let without = qbo
        .api("POST", "bill", &access, Some(bill(&vendor, "1042")))
        .await;
    assert_eq!(without.fault().1, "6140", "without the id it runs again");
    let long = "x".repeat(51);
    let too_long = qbo
        .api(
            "POST",
            &format!("bill?requestid={long}"),
            &access,
            Some(bill(&vendor, "1043")),
        )
        .await;
    assert_eq!(too_long.status, 400);
    let state = qbo.provider_state().await;
    assert_eq!(state["bills"].as_array().map(Vec::len), Some(1));
}

/// Q-02 [INTUIT-REQUESTID], [CLIO-6140]: a `commit_then` fault on `POST .../bill` saves the bill
/// and loses the answer; a retry under the same `requestid` gets the original 200.
#[tokio::test]
async fn a_commit_then_fault_on_post_bill_commits_and_the_request_id_replays_it() {
    let path = format!("/v3/company/{REALM}/bill");
    let qbo = Harness::start(spec(
        "",
        &format!(
            "    faults:\n      - when: {{ method: POST, path: {path} }}\n        nth: 2\n        action: {{ commit_then: {{ status: 502, json: {{ error: gateway }} }} }}\n"
        ),
    ))
    .await;
    let (access, _) = qbo.connect().await;
    let vendor = qbo.vendor(&access, "Office Supplies Ltd").await;
    let bill_path = "bill?requestid=exp-1";
    assert_eq!(
        qbo.api("POST", "bill", &access, Some(bill(&vendor, "1")))
            .await
            .status,
        200
    );
    let lost = qbo
        .api("POST", bill_path, &access, Some(bill(&vendor, "2")))
        .await;
    assert_eq!(lost.status, 502);
    let retry = qbo
        .api("POST", bill_path, &access, Some(bill(&vendor, "2")))
        .await;
    assert_eq!(retry.status, 200, "{}", retry.json);
    assert_eq!(retry.json["Bill"]["Id"], "2");
    let state = qbo.provider_state().await;
    assert_eq!(state["bills"].as_array().map(Vec::len), Some(2));
    let journal = qbo.control.journal().await.expect("journal").entries;
    let faulted = journal
        .iter()
        .find(|e| e.fault.is_some())
        .expect("the fault is journaled");
    assert_eq!(faulted.path, path);
    assert_eq!(
        faulted.matched.as_ref().map(|m| m.name.as_str()),
        Some("provider quickbooks")
    );
}

/// Query paging with `STARTPOSITION`/`MAXRESULTS` (catalog §10) and a `where` equality.
#[tokio::test]
async fn queries_page_and_filter() {
    let qbo = Harness::start(spec("", "")).await;
    let (access, _) = qbo.connect().await;
    for name in ["A Ltd", "B Ltd", "C Ltd"] {
        qbo.vendor(&access, name).await;
    }
    let page = qbo
        .query(&access, "select * from Vendor STARTPOSITION 2 MAXRESULTS 1")
        .await;
    assert_eq!(page.status, 200, "{}", page.json);
    assert_eq!(
        page.json["QueryResponse"],
        json!({
            "Vendor": [page.json["QueryResponse"]["Vendor"][0].clone()],
            "startPosition": 2,
            "maxResults": 1,
        })
    );
    assert_eq!(
        page.json["QueryResponse"]["Vendor"][0]["DisplayName"],
        "B Ltd"
    );
    let one = qbo
        .query(&access, "SELECT * FROM vendor WHERE DisplayName = 'C Ltd'")
        .await;
    assert_eq!(one.json["QueryResponse"]["Vendor"][0]["Id"], "3");
    let none = qbo.query(&access, "select * from Bill").await;
    assert_eq!(none.json["QueryResponse"], json!({}));
    let bad = qbo.query(&access, "select Id from Vendor").await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.fault().0, "ValidationFault");
}

/// [INTUIT-BATCH], [QBO-MCP-BATCH], [INTUIT-COMMON-ERRORS]: a batch answers 200 with one
/// `BatchItemResponse` per item, a `Fault` for each failing one; more than `batch_max_items`
/// items is refused.
#[tokio::test]
async fn batches_answer_per_item_with_a_fault_for_each_failing_one() {
    let qbo = Harness::start(spec("      batch_max_items: 3\n", "")).await;
    let (access, _) = qbo.connect().await;
    let vendor = qbo.vendor(&access, "Office Supplies Ltd").await;
    let items = json!({ "BatchItemRequest": [
        { "bId": "b1", "operation": "create", "Bill": bill(&vendor, "1") },
        { "bId": "b2", "operation": "create", "Bill": bill(&vendor, "1") },
        { "bId": "b3", "Query": "select * from Vendor" },
    ]});
    let got = qbo.api("POST", "batch", &access, Some(items)).await;
    assert_eq!(got.status, 200, "{}", got.json);
    let answers = got.json["BatchItemResponse"].as_array().expect("items");
    assert_eq!(answers.len(), 3);
    assert_eq!(answers[0]["bId"], "b1");
    assert_eq!(answers[0]["Bill"]["Id"], "1");
    assert_eq!(answers[1]["bId"], "b2");
    assert_eq!(answers[1]["Fault"]["type"], "ValidationFault");
    assert_eq!(answers[1]["Fault"]["Error"][0]["code"], "6140");
    assert_eq!(answers[2]["QueryResponse"]["Vendor"][0]["Id"], vendor);

    let four = json!({ "BatchItemRequest": [
        { "bId": "1", "Query": "select * from Vendor" },
        { "bId": "2", "Query": "select * from Vendor" },
        { "bId": "3", "Query": "select * from Vendor" },
        { "bId": "4", "Query": "select * from Vendor" },
    ]});
    let refused = qbo.api("POST", "batch", &access, Some(four)).await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.fault().0, "ValidationFault");
}

/// [INTUIT-CDC]: changes since `changedSince`, at most 30 days back.
#[tokio::test]
async fn change_data_capture_returns_changes_since_and_refuses_more_than_thirty_days() {
    let qbo = Harness::start(spec("", "")).await;
    let (access, _) = qbo.connect().await;
    let vendor = qbo.vendor(&access, "Office Supplies Ltd").await;
    qbo.advance(30 * MINUTE).await;
    qbo.api("POST", "bill", &access, Some(bill(&vendor, "1")))
        .await;
    let since = qbo
        .api(
            "GET",
            "cdc?entities=Bill,Vendor&changedSince=2026-10-31T23:15:00Z",
            &access,
            None,
        )
        .await;
    assert_eq!(since.status, 200, "{}", since.json);
    let responses = &since.json["CDCResponse"][0]["QueryResponse"];
    assert_eq!(responses[0]["Bill"].as_array().map(Vec::len), Some(1));
    assert_eq!(responses[1]["Vendor"].as_array().map(Vec::len), Some(0));
    let too_old = qbo
        .api(
            "GET",
            "cdc?entities=Bill&changedSince=2026-09-30T00:00:00Z",
            &access,
            None,
        )
        .await;
    assert_eq!(too_old.status, 400);
    assert_eq!(too_old.fault().0, "ValidationFault");
}

/// [INTUIT-THROTTLE-2016], [MOBIUS-003001]: over the per-realm minute limit, 429 with
/// `ThrottleExceeded; errorCode=003001` and an `intuit_tid`, no `Retry-After`; the window
/// follows the virtual clock.
#[tokio::test]
async fn throttling_answers_429_throttle_exceeded_per_realm() {
    let qbo = Harness::start(spec("      rate_limits: { minute: 2 }\n", "")).await;
    let (access, _) = qbo.connect().await;
    for _ in 0..2 {
        assert_eq!(qbo.query(&access, "select * from Bill").await.status, 200);
    }
    let blocked = qbo.query(&access, "select * from Bill").await;
    assert_eq!(blocked.status, 429);
    assert_eq!(
        blocked.json["Fault"]["Error"][0]["Message"],
        "message=ThrottleExceeded; errorCode=003001; statusCode=429"
    );
    assert!(blocked.header("intuit_tid").is_some());
    assert!(blocked.header("retry-after").is_none());
    let token = qbo
        .token(&[("grant_type", "authorization_code"), ("code", "code-2")])
        .await;
    assert_eq!(token.status, 200, "the token endpoint is not throttled");
    qbo.advance(MINUTE).await;
    assert_eq!(qbo.query(&access, "select * from Bill").await.status, 200);
}

/// The state lists records by collection and tokens only as counts; a reset clears it and ids
/// start over.
#[tokio::test]
async fn state_holds_records_but_never_a_token() {
    let qbo = Harness::start(spec("", "")).await;
    let (access, refresh) = qbo.connect().await;
    let vendor = qbo.vendor(&access, "Office Supplies Ltd").await;
    qbo.api("POST", "bill", &access, Some(bill(&vendor, "7")))
        .await;
    let state = qbo.provider_state().await;
    assert_eq!(state["bills"][0]["DocNumber"], "7");
    assert_eq!(state["vendors"][0]["DisplayName"], "Office Supplies Ltd");
    assert_eq!(state["issued"], json!({ "access": 1, "refresh": 1 }));
    let dump = state.to_string();
    assert!(!dump.contains(&access) && !dump.contains(&refresh));

    qbo.control.reset().await.expect("reset");
    let (access, _) = qbo.connect().await;
    assert_eq!(qbo.vendor(&access, "Again").await, "1");
}

// ---------------------------------------------------------------------------------------------
// Webhooks [KESTRA-QBO-WH], [GIST-QBO-WH], [INTUIT-WEBHOOKS-MANAGE], [QBO-NET-14704]
// ---------------------------------------------------------------------------------------------

/// The verifier token of the webhook tests (a test value, not a real one).
const VERIFIER: &str = "t3stOnlyV3rifierT0ken";

/// A webhook as the receiver got it: the `intuit-signature` header and the exact body bytes.
#[derive(Clone)]
struct Hook {
    signature: Option<String>,
    body: Vec<u8>,
}

/// A receiver as the target: `GET /healthz`; `POST /webhooks/quickbooks` records the request and
/// answers 200.
async fn start_receiver() -> (String, std::sync::Arc<std::sync::Mutex<Vec<Hook>>>) {
    let hooks = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let recorded = hooks.clone();
    let url = serve(move |path, headers, bytes| {
        let recorded = recorded.clone();
        async move {
            if path == "/webhooks/quickbooks" {
                let signature = headers
                    .get("intuit-signature")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                recorded.lock().expect("hooks").push(Hook {
                    signature,
                    body: bytes.to_vec(),
                });
            }
            (200, String::new())
        }
    })
    .await;
    (url, hooks)
}

/// Run `flow` (YAML list items) in process against `target`, after steps that connect to the
/// `qbo` mock (with [`VERIFIER`]) and create a vendor and a bill in it, whose `Id` is captured
/// as `bill_id`.
async fn run_webhook_scenario(target: &str, flow: &str) -> reenact::run::ScenarioRun {
    let yaml = format!(
        r#"id: quickbooks-webhooks
title: QuickBooks webhooks end to end
clock: {{ start: 2026-10-31T23:00:00Z }}
mocks:
  qbo:
    provider: quickbooks
    with:
      realms: [{{ id: "{REALM}", name: Acme Corp }}]
      verifier_token: {VERIFIER}
target:
  url: "{target}"
  ready: {{ http: GET /healthz, within: 5s }}
flow:
  - name: connect
    request:
      mock: qbo
      method: POST
      path: /oauth2/v1/tokens/bearer
      headers: {{ content-type: application/x-www-form-urlencoded }}
      body: grant_type=authorization_code&code=c1
    capture: {{ access_token: $.access_token }}
  - name: vendor
    request:
      mock: qbo
      method: POST
      path: /v3/company/{REALM}/vendor
      headers: {{ authorization: "Bearer {{{{ access_token }}}}" }}
      json: {{ DisplayName: Office Supplies Ltd }}
    capture: {{ vendor_id: $.Vendor.Id }}
  - name: bill
    request:
      mock: qbo
      method: POST
      path: /v3/company/{REALM}/bill
      headers: {{ authorization: "Bearer {{{{ access_token }}}}" }}
      json: {{ VendorRef: {{ value: "{{{{ vendor_id }}}}" }}, DocNumber: "1042" }}
    capture: {{ bill_id: $.Bill.Id }}
{flow}"#
    );
    let scenario = load_scenario("quickbooks-webhooks.yaml", &yaml);
    run_in_process(&scenario, std::path::Path::new(".")).await
}

/// [KESTRA-QBO-WH], [GIST-QBO-WH]: `intuit-signature` is base64(HMAC-SHA256(raw body, verifier
/// token)), checked here with an independent HMAC over the exact bytes received;
/// [INTUIT-WEBHOOKS-MANAGE]: the legacy `eventNotifications` payload; [QBO-NET-14704],
/// [QBO-PHP-622]: the CloudEvents array (Q-06). The token leaks into neither snapshot nor state.
#[tokio::test]
async fn webhooks_are_signed_with_the_verifier_token_in_both_formats() {
    let (target, hooks) = start_receiver().await;
    let flow = r#"  - name: bill created
    webhook:
      mock: qbo
      path: /webhooks/quickbooks
      quickbooks: { entity: Bill, operation: Create, id: "{{ bill_id }}" }
    expect: { status: 200 }
  - name: bill created, as a CloudEvent
    webhook:
      mock: qbo
      path: /webhooks/quickbooks
      quickbooks: { entity: Bill, operation: Create, id: "{{ bill_id }}", format: cloudevents }
    expect: { status: 200 }
"#;
    let run = run_webhook_scenario(&target, flow).await;
    assert_eq!(run.failed_step(), None);
    let hooks = hooks.lock().expect("hooks").clone();
    assert_eq!(hooks.len(), 2);
    for hook in &hooks {
        assert_eq!(
            hook.signature.as_deref(),
            Some(hmac_sha256_base64(VERIFIER, &hook.body).as_str())
        );
        assert_ne!(
            hook.signature.as_deref(),
            Some(hmac_sha256_base64("another-token", &hook.body).as_str())
        );
    }
    let legacy: Value = serde_json::from_slice(&hooks[0].body).expect("JSON");
    assert_eq!(
        legacy,
        json!({ "eventNotifications": [{
            "realmId": REALM,
            "dataChangeEvent": { "entities": [{
                "name": "Bill",
                "id": "1",
                "operation": "Create",
                "lastUpdated": "2026-10-31T23:00:00Z",
            }]},
        }]})
    );
    let cloud: Value = serde_json::from_slice(&hooks[1].body).expect("JSON");
    let event = &cloud[0];
    assert_eq!(event["specversion"], "1.0");
    // .NET SDK `WebhooksCloudEvent.cs` maps `datacontenttype`; the value from a public sample.
    assert_eq!(event["datacontenttype"], "application/json");
    assert_eq!(event["type"], "qbo.bill.created.v1");
    assert_eq!(event["intuitentityid"], "1");
    assert_eq!(event["intuitaccountid"], REALM);
    assert_eq!(event["time"], "2026-10-31T23:00:00Z");
    assert!(event["id"].is_string() && event["source"].is_string() && event["data"].is_object());

    let document = reenact::snapshot::normalize(
        &run.observation,
        &run.expectations,
        &reenact::scenario::model::SnapshotSpec::default(),
    );
    let text = document.to_string();
    assert!(!text.contains(VERIFIER), "the token leaked: {text}");
    let signature = &document["steps"][3]["deliveries"][0]["headers"]["intuit-signature"];
    assert_eq!(signature, "[redacted]", "{document}");
}

/// A webhook about a record the state does not hold fails the step and sends nothing.
#[tokio::test]
async fn a_webhook_about_an_unknown_bill_fails_the_step() {
    let (target, hooks) = start_receiver().await;
    let flow = r#"  - name: bill 99 created
    webhook:
      mock: qbo
      path: /webhooks/quickbooks
      quickbooks: { entity: Bill, operation: Create, id: "99" }
"#;
    let run = run_webhook_scenario(&target, flow).await;
    let failed = run.failed_step().expect("the step fails");
    assert_eq!(failed.0, "bill 99 created", "{failed:?}");
    assert!(hooks.lock().expect("hooks").is_empty());
}

/// The token answer carries `x_refresh_token_expires_in` (oauth-jsclient `Token.js`
/// `isRefreshTokenValid()`; README example), the seconds the refresh token has left; the
/// five-year cap (Intuit blog 2025-11-12) as `x_refresh_token_hard_expires_in` only when the
/// request sends `x-include-refresh-token-hard-expires-in: true` (oauth-jsclient
/// `HardExpiresTest.js`: opt-in); past the cap, even a token used daily gets `invalid_grant`.
#[tokio::test]
async fn the_token_answer_reports_refresh_expiry_and_the_five_year_cap_holds() {
    let qbo = Harness::start(spec("", "")).await;
    let got = qbo
        .token(&[("grant_type", "authorization_code"), ("code", "code-1")])
        .await;
    assert_eq!(got.status, 200);
    assert_eq!(got.json["x_refresh_token_expires_in"], 100 * 86_400);
    assert!(
        got.json.get("x_refresh_token_hard_expires_in").is_none(),
        "opt-in only"
    );
    let mut refresh = text(&got.json["refresh_token"]);

    qbo.advance(10 * 86_400).await;
    let url = format!("{}/oauth2/v1/tokens/bearer", qbo.server.url());
    let asked = qbo
        .send(
            qbo.http
                .post(&url)
                .header("x-include-refresh-token-hard-expires-in", "true")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!("grant_type=refresh_token&refresh_token={refresh}")),
        )
        .await;
    assert_eq!(asked.status, 200, "{}", asked.json);
    assert_eq!(asked.json["x_refresh_token_expires_in"], 100 * 86_400);
    assert_eq!(
        asked.json["x_refresh_token_hard_expires_in"],
        (5 * 365 - 10) * 86_400,
        "seconds to five years after the consent"
    );
    refresh = text(&asked.json["refresh_token"]);

    // Refresh every 90 days (rotating each time) until the cap: the last one left is cut short.
    let mut days: u64 = 10;
    while days + 90 < 5 * 365 {
        qbo.advance(90 * 86_400).await;
        days += 90;
        let next = qbo.refresh(&refresh).await;
        assert_eq!(next.status, 200, "day {days}: {}", next.json);
        refresh = text(&next.json["refresh_token"]);
        let left = next.json["x_refresh_token_expires_in"]
            .as_u64()
            .expect("seconds");
        assert_eq!(
            left,
            (100 * 86_400).min((5 * 365 - days) * 86_400),
            "day {days}"
        );
    }
    qbo.advance((5 * 365 - days) * 86_400).await;
    let capped = qbo.refresh(&refresh).await;
    assert_eq!(capped.status, 400, "five years after the consent");
    assert_eq!(capped.json, json!({ "error": "invalid_grant" }));
}

/// intuit-oauth reads its endpoints from Intuit's OpenID discovery document
/// (`intuitlib/config.py` `DISCOVERY_URL`, `AuthClient.__init__`): the fake serves it, naming its
/// own token and revocation URLs on the host the request named.
#[tokio::test]
async fn the_discovery_document_names_the_fakes_endpoints() {
    let qbo = Harness::start(spec("", "")).await;
    let base = qbo.server.url();
    for path in [
        "/.well-known/openid_configuration/",
        "/.well-known/openid_configuration",
        "/.well-known/openid_sandbox_configuration/",
    ] {
        let got = qbo.send(qbo.http.get(format!("{base}{path}"))).await;
        assert_eq!(got.status, 200, "{path}");
        assert_eq!(
            got.json["token_endpoint"],
            format!("{base}/oauth2/v1/tokens/bearer")
        );
        assert_eq!(
            got.json["revocation_endpoint"],
            format!("{base}/v2/oauth2/tokens/revoke")
        );
        assert_eq!(
            got.json["issuer"],
            "https://oauth.platform.intuit.com/op/v1"
        );
        for key in ["authorization_endpoint", "jwks_uri", "userinfo_endpoint"] {
            assert!(got.json[key].is_string(), "{key}");
        }
    }
}

/// Intuit's limits page ("Recommended maximum number of payloads in a single batch request is
/// 30"), .NET SDK e9e0618e: 30 items pass by default, 31 are refused and nothing runs.
#[tokio::test]
async fn batches_hold_thirty_items_by_default() {
    let qbo = Harness::start(spec("", "")).await;
    let (access, _) = qbo.connect().await;
    let items = |n: usize| {
        let items: Vec<Value> = (0..n)
            .map(|i| json!({ "bId": format!("b{i}"), "operation": "create", "Vendor": { "DisplayName": format!("V{n}-{i}") } }))
            .collect();
        json!({ "BatchItemRequest": items })
    };
    let thirty = qbo.api("POST", "batch", &access, Some(items(30))).await;
    assert_eq!(thirty.status, 200, "{}", thirty.json);
    assert_eq!(
        thirty.json["BatchItemResponse"].as_array().map(Vec::len),
        Some(30)
    );
    assert!(thirty.json["BatchItemResponse"][29]["Vendor"]["Id"] == "30");
    let over = qbo.api("POST", "batch", &access, Some(items(31))).await;
    assert_eq!(over.status, 400);
    assert_eq!(over.fault().1, "6000");
    let count = qbo.query(&access, "SELECT COUNT(*) FROM Vendor").await;
    assert_eq!(
        count.json["QueryResponse"],
        json!({ "totalCount": 30 }),
        "the 31 did not run"
    );
}

/// Intuit "Query operations and syntax": `POST /query` with the statement as an
/// `application/text` body (python-quickbooks' way), `>=`, `ORDERBY`/`ORDER BY`,
/// `STARTPOSITION`/`MAXRESULTS`; `MAXRESULTS` over 1000 is an error, "Max allowed value is 1000"
/// (ruckus/quickbooks-ruby #24), not clamped.
#[tokio::test]
async fn posted_queries_filter_order_page_and_refuse_more_than_a_thousand() {
    let qbo = Harness::start(spec("", "")).await;
    let (access, _) = qbo.connect().await;
    for name in ["A Ltd", "B Ltd", "C Ltd", "D Ltd"] {
        qbo.vendor(&access, name).await;
    }
    let url = format!(
        "{}/v3/company/{REALM}/query?minorversion=75",
        qbo.server.url()
    );
    let post = |statement: &str| {
        qbo.send(
            qbo.http
                .post(&url)
                .bearer_auth(&access)
                .header("content-type", "application/text")
                .body(statement.to_owned()),
        )
    };
    let got = post("SELECT * FROM Vendor WHERE DisplayName >= 'B Ltd' ORDERBY DisplayName DESC STARTPOSITION 2 MAXRESULTS 2").await;
    assert_eq!(got.status, 200, "{}", got.json);
    let names: Vec<&str> = got.json["QueryResponse"]["Vendor"]
        .as_array()
        .expect("vendors")
        .iter()
        .filter_map(|v| v["DisplayName"].as_str())
        .collect();
    assert_eq!(names, ["C Ltd", "B Ltd"]);
    assert_eq!(got.json["QueryResponse"]["startPosition"], 2);
    assert_eq!(got.json["QueryResponse"]["maxResults"], 2);
    let two_words = post("SELECT * FROM Vendor ORDER BY DisplayName DESC MAXRESULTS 1").await;
    assert_eq!(
        two_words.json["QueryResponse"]["Vendor"][0]["DisplayName"],
        "D Ltd"
    );
    let too_many = post("SELECT * FROM Vendor MAXRESULTS 1001").await;
    assert_eq!(too_many.status, 400);
    assert_eq!(too_many.fault().1, "4000");
    assert_eq!(
        too_many.json["Fault"]["Error"][0]["Detail"],
        "QueryValidationError: value 1001 is too large. Max allowed value is 1000"
    );
}

/// Intuit's "Fix common errors" page and 2017 errors blog: a company whose connecting admin was
/// removed answers every call 401 Fault 120 Authorization Failure; one whose subscription ended
/// is read-only, every write 400 Fault 6190 Invalid Company Status.
#[tokio::test]
async fn company_states_answer_120_and_6190() {
    let yaml = format!(
        "id: qbo\ntitle: qbo\nmocks:\n  qbo:\n    provider: quickbooks\n    with:\n      realms:\n        - {{ id: \"{REALM}\", name: Acme Corp }}\n        - {{ id: \"111\", name: Gone Admin, status: admin_removed }}\n        - {{ id: \"222\", name: Lapsed, status: subscription_ended }}\nflow:\n  - request: {{ method: GET, path: / }}\n"
    );
    let qbo = Harness::start(load_mock(&yaml)).await;
    let (access, _) = qbo.connect().await;
    let vendor = json!({ "DisplayName": "Office Supplies Ltd" });

    let removed = qbo
        .realm_api(
            "111",
            "GET",
            "query?query=select%20*%20from%20Vendor",
            &access,
            None,
        )
        .await;
    assert_eq!(removed.status, 401);
    assert_eq!(
        removed.fault(),
        (
            "AuthorizationFault".to_owned(),
            "120".to_owned(),
            "Authorization Failure".to_owned()
        )
    );
    assert_eq!(
        removed.json["Fault"]["Error"][0]["Detail"],
        "AuthorizationFailure: -11014-You do not have access to use QuickBooks Online Plus."
    );

    let write = qbo
        .realm_api("222", "POST", "vendor", &access, Some(vendor.clone()))
        .await;
    assert_eq!(write.status, 400);
    assert_eq!(
        write.fault(),
        (
            "ValidationFault".to_owned(),
            "6190".to_owned(),
            "Invalid Company Status".to_owned()
        )
    );
    let batch = qbo
        .realm_api(
            "222",
            "POST",
            "batch",
            &access,
            Some(json!({ "BatchItemRequest": [{ "bId": "1", "operation": "create", "Vendor": vendor }] })),
        )
        .await;
    assert_eq!(batch.fault().1, "6190");
    let read = qbo
        .realm_api(
            "222",
            "GET",
            "query?query=select%20*%20from%20Vendor",
            &access,
            None,
        )
        .await;
    assert_eq!(read.status, 200, "read-only, not closed: {}", read.json);
    let state = qbo.provider_state().await;
    assert_eq!(state["vendors"], json!([]), "nothing was written");
    assert_eq!(
        qbo.api(
            "POST",
            "vendor",
            &access,
            Some(json!({ "DisplayName": "Ok" }))
        )
        .await
        .status,
        200
    );
}

/// Intuit's errors page: 610 Object Not Found in both its variants (an id never there, a
/// transaction another user deleted) and 2500 Invalid Reference Id for a vendor unknown (in the
/// words of live answers) or made inactive; the delete answer of Intuit's BillPayment reference.
#[tokio::test]
async fn deleted_bills_and_inactive_vendors_answer_610_and_2500() {
    let qbo = Harness::start(spec("", "")).await;
    let (access, _) = qbo.connect().await;
    let vendor = qbo.vendor(&access, "Office Supplies Ltd").await;
    let created = qbo
        .api("POST", "bill", &access, Some(bill(&vendor, "1")))
        .await;
    let id = text(&created.json["Bill"]["Id"]);

    let stale = qbo
        .api(
            "POST",
            "bill?operation=delete",
            &access,
            Some(json!({ "Id": id, "SyncToken": "7" })),
        )
        .await;
    assert_eq!(stale.fault().1, "5010");
    let deleted = qbo
        .api(
            "POST",
            "bill?operation=delete",
            &access,
            Some(json!({ "Id": id, "SyncToken": "0" })),
        )
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.json);
    assert_eq!(
        deleted.json["Bill"],
        json!({ "status": "Deleted", "domain": "QBO", "Id": id })
    );
    let read = qbo.api("GET", &format!("bill/{id}"), &access, None).await;
    assert_eq!(read.status, 400);
    assert_eq!(read.fault().1, "610");
    assert_eq!(
        read.json["Fault"]["Error"][0]["Detail"],
        "Object Not Found : Another user has deleted this transaction."
    );
    let never = qbo.api("GET", "bill/99", &access, None).await;
    assert_eq!(
        never.json["Fault"]["Error"][0]["Detail"],
        "Object Not Found : Something you're trying to use has been made inactive. Check the \
         fields with accounts, invoices, items, vendors or employees."
    );

    let unknown = qbo
        .api("POST", "bill", &access, Some(bill("540", "2")))
        .await;
    assert_eq!(unknown.fault().1, "2500");
    assert_eq!(
        unknown.json["Fault"]["Error"][0]["Detail"],
        "Invalid Reference Id : Names element id 540 not found"
    );
    let inactive = qbo
        .api(
            "POST",
            "vendor",
            &access,
            Some(json!({ "Id": vendor, "SyncToken": "0", "sparse": true, "Active": false })),
        )
        .await;
    assert_eq!(inactive.json["Vendor"]["Active"], false);
    let refused = qbo
        .api("POST", "bill", &access, Some(bill(&vendor, "3")))
        .await;
    assert_eq!(refused.status, 400);
    assert_eq!(
        refused.fault(),
        (
            "ValidationFault".to_owned(),
            "2500".to_owned(),
            "Invalid Reference Id".to_owned()
        )
    );
    assert!(
        text(&refused.json["Fault"]["Error"][0]["Detail"]).contains("has been made inactive"),
        "{}",
        refused.json
    );
    let vendor_delete = qbo
        .api(
            "POST",
            "vendor?operation=delete",
            &access,
            Some(json!({ "Id": vendor, "SyncToken": "1" })),
        )
        .await;
    assert_eq!(
        vendor_delete.fault().1,
        "500",
        "name lists are made inactive, not deleted"
    );
}

/// The duplicate-number rule. Intuit's Bill reference: "Throws an error when duplicate DocNumber
/// is sent in the request. … If a duplicate DocNumber needs to be supplied, add the query
/// parameter name/value pair, include=allowduplicatedocnum to the URI."; its errors page and
/// Preferences reference make the error depend on `WarnDuplicateBillNumber`. The fake: 6140 when
/// the preference is on (default) and the URI does not include `allowduplicatedocnum`.
#[tokio::test]
async fn duplicate_bill_numbers_follow_the_preference_and_the_include_parameter() {
    let qbo = Harness::start(spec("", "")).await;
    let (access, _) = qbo.connect().await;
    let vendor = qbo.vendor(&access, "Office Supplies Ltd").await;
    let prefs = qbo.api("GET", "preferences", &access, None).await;
    assert_eq!(
        prefs.json["Preferences"]["OtherPrefs"]["NameValue"],
        json!([{ "Name": "WarnDuplicateBillNumber", "Value": "true" }])
    );
    assert_eq!(
        qbo.api("POST", "bill", &access, Some(bill(&vendor, "7")))
            .await
            .status,
        200
    );
    assert_eq!(
        qbo.api("POST", "bill", &access, Some(bill(&vendor, "7")))
            .await
            .fault()
            .1,
        "6140"
    );
    let allowed = qbo
        .api(
            "POST",
            "bill?include=allowduplicatedocnum",
            &access,
            Some(bill(&vendor, "7")),
        )
        .await;
    assert_eq!(allowed.status, 200, "{}", allowed.json);
    assert_eq!(allowed.json["Bill"]["DocNumber"], "7");
    let empty = json!({ "VendorRef": { "value": vendor }, "DocNumber": "" });
    assert_eq!(
        qbo.api("POST", "bill", &access, Some(empty.clone()))
            .await
            .status,
        200
    );
    assert_eq!(
        qbo.api("POST", "bill", &access, Some(empty)).await.status,
        200,
        "an empty DocNumber (python-quickbooks' unset) is no number"
    );

    let off = Harness::start(spec("      warn_duplicate_bill_number: false\n", "")).await;
    let (access, _) = off.connect().await;
    let vendor = off.vendor(&access, "Office Supplies Ltd").await;
    let prefs = off.api("GET", "preferences", &access, None).await;
    assert_eq!(
        prefs.json["Preferences"]["OtherPrefs"]["NameValue"][0]["Value"],
        "false"
    );
    assert_eq!(
        off.api("POST", "bill", &access, Some(bill(&vendor, "7")))
            .await
            .status,
        200
    );
    assert_eq!(
        off.api("POST", "bill", &access, Some(bill(&vendor, "7")))
            .await
            .status,
        200,
        "no warning preference, no 6140"
    );
}

/// Intuit's BillPayment reference: the minimum create (`VendorRef`, `TotalAmt`, `PayType`,
/// `CheckPayment.BankAccountRef`, `Line[].LinkedTxn[]`), its answer (`PrintStatus`
/// `NeedToPrint`, `TxnDate` today), 6000 "You must set a transaction amount." (Intuit's errors
/// page), the account a pay type needs, a linked bill that must exist, and delete.
#[tokio::test]
async fn bill_payments_pay_bills_by_check_or_card() {
    let qbo = Harness::start(spec("", "")).await;
    let (access, _) = qbo.connect().await;
    let vendor = qbo.vendor(&access, "Bob's Burger Joint").await;
    let created = qbo
        .api("POST", "bill", &access, Some(bill(&vendor, "1")))
        .await;
    let bill_id = text(&created.json["Bill"]["Id"]);
    let payment = |total: Value, pay_type: &str, txn: &str| {
        json!({
            "PrivateNote": "Acct. 1JK90",
            "VendorRef": { "name": "Bob's Burger Joint", "value": vendor },
            "TotalAmt": total,
            "PayType": pay_type,
            "Line": [{ "Amount": 42.5, "LinkedTxn": [{ "TxnId": txn, "TxnType": "Bill" }] }],
            "CheckPayment": { "BankAccountRef": { "name": "Checking", "value": "35" } },
        })
    };
    let paid = qbo
        .api(
            "POST",
            "billpayment",
            &access,
            Some(payment(json!(42.5), "Check", &bill_id)),
        )
        .await;
    assert_eq!(paid.status, 200, "{}", paid.json);
    let saved = &paid.json["BillPayment"];
    assert_eq!(saved["Id"], "1");
    assert_eq!(saved["SyncToken"], "0");
    assert_eq!(saved["TxnDate"], "2026-10-31");
    assert_eq!(saved["CheckPayment"]["PrintStatus"], "NeedToPrint");
    assert_eq!(saved["Line"][0]["LinkedTxn"][0]["TxnId"], bill_id);
    let read = qbo.api("GET", "billpayment/1", &access, None).await;
    assert_eq!(&read.json["BillPayment"], saved);
    let listed = qbo
        .query(&access, "select * from BillPayment where TotalAmt >= 40")
        .await;
    assert_eq!(listed.json["QueryResponse"]["BillPayment"][0]["Id"], "1");

    let no_amount = qbo
        .api(
            "POST",
            "billpayment",
            &access,
            Some(payment(Value::Null, "Check", &bill_id)),
        )
        .await;
    assert_eq!(no_amount.fault().1, "6000");
    assert_eq!(
        no_amount.json["Fault"]["Error"][0]["Detail"],
        "Business Validation Error: You must set a transaction amount."
    );
    let negative = qbo
        .api(
            "POST",
            "billpayment",
            &access,
            Some(payment(json!(-1), "Check", &bill_id)),
        )
        .await;
    assert_eq!(negative.fault().1, "6000");
    let card = qbo
        .api(
            "POST",
            "billpayment",
            &access,
            Some(payment(json!(1), "CreditCard", &bill_id)),
        )
        .await;
    assert_eq!(card.fault().1, "2020");
    assert_eq!(
        card.json["Fault"]["Error"][0]["element"],
        "CreditCardPayment.CCAccountRef"
    );
    let unknown_bill = qbo
        .api(
            "POST",
            "billpayment",
            &access,
            Some(payment(json!(1), "Check", "99")),
        )
        .await;
    assert_eq!(unknown_bill.fault().1, "2500");

    let deleted = qbo
        .api(
            "POST",
            "billpayment?operation=delete",
            &access,
            Some(json!({ "Id": "1", "SyncToken": "0" })),
        )
        .await;
    assert_eq!(
        deleted.json["BillPayment"],
        json!({ "status": "Deleted", "domain": "QBO", "Id": "1" })
    );
    let state = qbo.provider_state().await;
    assert_eq!(state["bill_payments"], json!([]));
}
