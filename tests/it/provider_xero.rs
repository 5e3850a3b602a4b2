//! Conformance tests of `provider: xero` against `domain-catalog.md` §1: a mock loaded from YAML
//! as a scenario declares it, served by a real mock server on loopback, driven by a real HTTP
//! client and, for time, through the control API's virtual clock.
//!
//! Each test names the catalog fact it checks (source tag in brackets).

use std::path::Path;
use std::time::Duration;

use crate::support::{
    self, Got, hmac_sha256_base64, load_mock, load_scenario, run_in_process, serve, text,
};
use reenact::scenario::model::MockSpec;
use serde_json::{Value, json};

const TENANT: &str = "0b9c6a52-6f0e-4c2e-9a51-3f2f1d7e8a10";
const OTHER_TENANT: &str = "1c9c6a52-6f0e-4c2e-9a51-3f2f1d7e8a11";

/// A mock `xero` with `provider: xero` and one tenant, plus `extra` (YAML lines at mock level).
fn spec(extra: &str) -> MockSpec {
    spec_with("", extra)
}

/// [`spec`] with more `with:` settings (YAML lines under `with:`).
fn spec_with(with: &str, extra: &str) -> MockSpec {
    load_mock(&format!(
        "id: xero\ntitle: xero\nmocks:\n  xero:\n    provider: xero\n    with:\n      tenants: [{{ id: {TENANT}, name: Acme Corp }}]\n{with}{extra}flow:\n  - request: {{ method: GET, path: / }}\n"
    ))
}

/// The Xero requests of the shared harness.
enum Xero {}
type Harness = support::Harness<Xero>;

impl Harness {
    async fn token(&self, form: &[(&str, &str)]) -> Got {
        self.token_at("/connect/token", form).await
    }

    /// Exchange a fresh authorization code: `(access_token, refresh_token)`.
    async fn connect(&self) -> (String, String) {
        self.connect_at("/connect/token").await
    }

    async fn api(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> Got {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.server.url()))
            .bearer_auth(token)
            .header("xero-tenant-id", TENANT);
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.send(request).await
    }

    /// `GET /connections` with `token`.
    async fn connections(&self, token: &str) -> Got {
        let url = format!("{}/connections", self.server.url());
        self.send(self.http.get(url).bearer_auth(token)).await
    }

    /// `PUT /api.xro/2.0/{key}` with `{key: elements}`.
    async fn put(&self, key: &str, token: &str, elements: Value) -> Got {
        let path = format!("/api.xro/2.0/{key}");
        self.api("PUT", &path, token, Some(json!({ key: elements })))
            .await
    }

    async fn advance(&self, minutes: u64) {
        self.advance_by(Duration::from_secs(minutes * 60)).await;
    }

    /// How many records the provider's state holds in `collection` (`None`: no such list).
    async fn stored(&self, collection: &str) -> Option<usize> {
        self.provider_state().await[collection]
            .as_array()
            .map(Vec::len)
    }

    async fn provider_state(&self) -> Value {
        self.state_of("xero").await
    }
}

const UNAUTHORIZED: &str =
    r#"{"Type":null,"Title":"Unauthorized","Status":401,"Detail":"AuthenticationUnsuccessful"}"#;
const FORBIDDEN: &str =
    r#"{"Title":"Forbidden","Status":403,"Detail":"AuthenticationUnsuccessful"}"#;

/// [XERO-RESEARCH] §1.2: 30-minute access tokens; [NANGO-XERO]: the 401 body;
/// auth codes are single use ([XERO-RESEARCH] §1.2) and a reused one gets `invalid_grant`.
#[tokio::test]
async fn access_tokens_last_thirty_minutes_on_the_virtual_clock() {
    let xero = Harness::start(spec("")).await;
    let got = xero
        .token(&[("grant_type", "authorization_code"), ("code", "code-1")])
        .await;
    assert_eq!(got.status, 200);
    assert_eq!(got.json["expires_in"], 1800);
    assert_eq!(got.json["token_type"], "Bearer");
    let access = text(&got.json["access_token"]);
    assert_eq!(access.split('.').count(), 3, "a JWT-shaped token: {access}");

    let reused = xero
        .token(&[("grant_type", "authorization_code"), ("code", "code-1")])
        .await;
    assert_eq!(reused.status, 400);
    assert_eq!(reused.json, json!({ "error": "invalid_grant" }));

    xero.advance(29).await;
    let fresh = xero
        .api("GET", "/api.xro/2.0/Invoices", &access, None)
        .await;
    assert_eq!(fresh.status, 200, "{}", fresh.json);

    xero.advance(1).await;
    let expired = xero
        .api("GET", "/api.xro/2.0/Invoices", &access, None)
        .await;
    assert_eq!(expired.status, 401);
    // xeroizer PR #509, xero-node #741: the expiry in UTC, `MM/DD/YYYY HH:MM:SS`.
    let instance = text(&expired.json["Instance"]);
    assert_eq!(instance.len(), 36, "a UUID: {instance}");
    assert_eq!(
        expired.json,
        json!({
            "Type": null,
            "Title": "Unauthorized",
            "Status": 401,
            "Detail": "TokenExpired: token expired at 10/31/2026 23:30:00",
            "Instance": instance,
            "Extensions": {},
        })
    );
    // A token the fake never issued is not expired: `AuthenticationUnsuccessful`.
    let forged = xero
        .api("GET", "/api.xro/2.0/Invoices", "not-a-token", None)
        .await;
    assert_eq!(forged.status, 401);
    assert_eq!(
        forged.json,
        serde_json::from_str::<Value>(UNAUTHORIZED).unwrap()
    );
    assert_eq!(
        expired.headers.get("content-type").map(|v| v.as_bytes()),
        Some(&b"application/json"[..])
    );
}

/// [XERO-RESEARCH] §1.2, [XERO-COMM-127920775]: every refresh rotates both tokens;
/// [XERO-COMM-105714701]: the previous refresh token works for 30 more minutes, then
/// `invalid_grant`.
#[tokio::test]
async fn refresh_rotates_and_the_old_token_has_thirty_minutes_of_grace() {
    let xero = Harness::start(spec("")).await;
    let (access, first) = xero.connect().await;
    let got = xero
        .token(&[("grant_type", "refresh_token"), ("refresh_token", &first)])
        .await;
    assert_eq!(got.status, 200, "{}", got.json);
    let second = text(&got.json["refresh_token"]);
    assert_ne!(second, first, "the refresh token rotates");
    assert_ne!(
        text(&got.json["access_token"]),
        access,
        "so does the access token"
    );

    xero.advance(29).await;
    let lost_response_retry = xero
        .token(&[("grant_type", "refresh_token"), ("refresh_token", &first)])
        .await;
    assert_eq!(lost_response_retry.status, 200, "within the grace period");

    xero.advance(2).await;
    let stale = xero
        .token(&[("grant_type", "refresh_token"), ("refresh_token", &first)])
        .await;
    assert_eq!(stale.status, 400);
    assert_eq!(stale.json, json!({ "error": "invalid_grant" }));

    let latest = xero
        .token(&[("grant_type", "refresh_token"), ("refresh_token", &second)])
        .await;
    assert_eq!(latest.status, 200, "the saved token still refreshes");
}

/// [XERO-RESEARCH] §1.4: a revoked refresh token no longer refreshes.
#[tokio::test]
async fn a_revoked_refresh_token_gets_invalid_grant() {
    let xero = Harness::start(spec("")).await;
    let (_, refresh) = xero.connect().await;
    let revoked = xero
        .send(
            xero.http
                .post(format!("{}/connect/revocation", xero.server.url()))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!("token={refresh}")),
        )
        .await;
    assert_eq!(revoked.status, 200);
    let got = xero
        .token(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
        .await;
    assert_eq!(
        (got.status, got.json),
        (400, json!({ "error": "invalid_grant" }))
    );
}

/// [XERO-RESEARCH] §1.3: `/connections` lists the consented tenants with their fields;
/// [XERO-OAS], [FS-XERO-403]: a missing or unconnected `xero-tenant-id` gets 403.
#[tokio::test]
async fn connections_list_the_tenants_and_other_tenants_are_forbidden() {
    let xero = Harness::start(spec("")).await;
    let (access, _) = xero.connect().await;
    let got = xero.connections(&access).await;
    assert_eq!(got.status, 200);
    let connections = got.json.as_array().expect("a list");
    assert_eq!(connections.len(), 1);
    let connection = &connections[0];
    assert_eq!(connection["tenantId"], TENANT);
    assert_eq!(connection["tenantName"], "Acme Corp");
    assert_eq!(connection["tenantType"], "ORGANISATION");
    for field in ["id", "authEventId", "createdDateUtc", "updatedDateUtc"] {
        assert!(connection[field].is_string(), "{field} in {connection}");
    }
    // [XERO-RESEARCH] §1.2: the access token is a JWT naming the consent's auth event.
    use base64::Engine as _;
    let claims = access.split('.').nth(1).expect("claims");
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(claims)
            .expect("base64url"),
    )
    .expect("JSON claims");
    assert_eq!(claims["authentication_event_id"], connection["authEventId"]);
    assert_eq!(
        claims["exp"]
            .as_i64()
            .zip(claims["iat"].as_i64())
            .map(|(e, i)| e - i),
        Some(1800)
    );

    let unauthenticated = xero
        .send(xero.http.get(format!("{}/connections", xero.server.url())))
        .await;
    assert_eq!(unauthenticated.status, 401);

    let forbidden: Value = serde_json::from_str(FORBIDDEN).unwrap();
    let url = format!("{}/api.xro/2.0/Contacts", xero.server.url());
    let missing = xero.send(xero.http.get(&url).bearer_auth(&access)).await;
    assert_eq!((missing.status, &missing.json), (403, &forbidden));
    let other = xero
        .send(
            xero.http
                .get(&url)
                .bearer_auth(&access)
                .header("xero-tenant-id", OTHER_TENANT),
        )
        .await;
    assert_eq!((other.status, &other.json), (403, &forbidden));

    // [XERO-RESEARCH] §1.4, [FS-XERO-403]: a disconnected tenant is forbidden ("tenant drift").
    let id = text(&connection["id"]);
    let disconnect = |id: &str| {
        xero.http
            .delete(format!("{}/connections/{id}", xero.server.url()))
            .bearer_auth(&access)
    };
    assert_eq!(xero.send(disconnect(&id)).await.status, 204);
    assert_eq!(xero.send(disconnect(&id)).await.status, 404);
    let drifted = xero
        .api("GET", "/api.xro/2.0/Contacts", &access, None)
        .await;
    assert_eq!((drifted.status, &drifted.json), (403, &forbidden));

    // [XERO-RESEARCH] §1.3: reconnected later, created != updated.
    xero.advance(5).await;
    xero.token(&[("grant_type", "authorization_code"), ("code", "code-2")])
        .await;
    let listed = xero.connections(&access).await;
    let again = &listed.json[0];
    assert_eq!(again["id"], connection["id"]);
    assert_eq!(again["createdDateUtc"], connection["createdDateUtc"]);
    // `xero-identity.yaml`: no offset, seven fraction digits.
    assert_eq!(again["updatedDateUtc"], "2026-10-31T23:05:00.0000000");
    assert_ne!(again["authEventId"], connection["authEventId"]);
}

/// Contacts and Invoices: create (PUT and POST), get by id, list; ids and MS-JSON
/// `UpdatedDateUTC` on the virtual clock [XERO-OAS]; state through the control API; reset clears it.
#[tokio::test]
async fn invoices_are_created_read_back_and_kept_in_state_until_reset() {
    let xero = Harness::start(spec("")).await;
    let (access, _) = xero.connect().await;
    let contact = xero
        .put(
            "Contacts",
            &access,
            json!([{ "Name": "Office Supplies Ltd" }]),
        )
        .await;
    assert_eq!(contact.status, 200, "{}", contact.json);
    let contact_id = text(&contact.json["Contacts"][0]["ContactID"]);

    let created = xero
        .api(
            "POST",
            "/api.xro/2.0/Invoices",
            &access,
            Some(json!({ "Invoices": [{ "Type": "ACCPAY", "Contact": { "ContactID": contact_id } }] })),
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.json);
    let invoice = &created.json["Invoices"][0];
    // 2026-10-31T23:00:00Z, the clock's start.
    assert_eq!(invoice["UpdatedDateUTC"], "/Date(1793487600000+0000)/");
    assert!(invoice.get("StatusAttributeString").is_none());
    let id = text(&invoice["InvoiceID"]);

    let read = xero
        .api("GET", &format!("/api.xro/2.0/Invoices/{id}"), &access, None)
        .await;
    assert_eq!(read.status, 200);
    assert_eq!(&read.json["Invoices"][0], invoice);
    let unknown = xero
        .api(
            "GET",
            "/api.xro/2.0/Invoices/00000000-0000-4000-8000-000000000000",
            &access,
            None,
        )
        .await;
    assert_eq!(unknown.status, 404);

    let state = xero.provider_state().await;
    assert_eq!(state["invoices"], json!([invoice]));
    assert_eq!(state["contacts"].as_array().map(Vec::len), Some(1));
    assert_eq!(state["issued"], json!({ "access": 1, "refresh": 1 }));
    assert!(
        !state.to_string().contains(&access),
        "no token in the state"
    );

    xero.control.reset().await.expect("reset");
    let state = xero.provider_state().await;
    assert_eq!(state["invoices"], json!([]));
    assert_eq!(state["connections"], json!([]));
}

/// Ids are seeded per run: the same requests after a reset give the same ids.
#[tokio::test]
async fn generated_ids_repeat_after_a_reset() {
    let xero = Harness::start(spec("")).await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let (access, _) = xero.connect().await;
        let created = xero
            .put("Contacts", &access, json!([{ "Name": "A" }]))
            .await;
        ids.push((access, text(&created.json["Contacts"][0]["ContactID"])));
        xero.control.reset().await.expect("reset");
    }
    assert_eq!(ids[0], ids[1]);
}

/// [XERO-OAS]: `?page=N` pages by 100.
#[tokio::test]
async fn lists_page_by_one_hundred() {
    let xero = Harness::start(spec("")).await;
    let (access, _) = xero.connect().await;
    let contacts: Vec<Value> = (0..150)
        .map(|i| json!({ "Name": format!("c{i}") }))
        .collect();
    let created = xero.put("Contacts", &access, json!(contacts)).await;
    assert_eq!(created.status, 200);
    let count = |got: &Got| got.json["Contacts"].as_array().map(Vec::len);
    let all = xero
        .api("GET", "/api.xro/2.0/Contacts", &access, None)
        .await;
    assert_eq!(count(&all), Some(150));
    let first = xero
        .api("GET", "/api.xro/2.0/Contacts?page=1", &access, None)
        .await;
    assert_eq!(count(&first), Some(100));
    let second = xero
        .api("GET", "/api.xro/2.0/Contacts?page=2", &access, None)
        .await;
    assert_eq!(count(&second), Some(50));
    assert_eq!(second.json["Contacts"][0]["Name"], "c100");
    assert!(second.json.get("pagination").is_none());

    // [XERO-RESEARCH] §5.3: `pageSize` (up to 1000) and the `pagination` object.
    let sized = xero
        .api(
            "GET",
            "/api.xro/2.0/Contacts?page=2&pageSize=40",
            &access,
            None,
        )
        .await;
    assert_eq!(count(&sized), Some(40));
    assert_eq!(sized.json["Contacts"][0]["Name"], "c40");
    assert_eq!(
        sized.json["pagination"],
        json!({ "page": 2, "pageSize": 40, "pageCount": 4, "itemCount": 150 })
    );
}

/// [XERO-OAS], [XERO-RESEARCH] §5.4: an `Idempotency-Key` is remembered for 6 minutes: the same
/// key and request get the first answer and create nothing; the same key with another request
/// gets 400; after 6 minutes the key is new again. With a `commit_then` fault on the first
/// create, the retry under the same key does not duplicate the bill.
#[tokio::test]
async fn idempotency_keys_replay_the_first_answer_for_six_minutes() {
    let xero = Harness::start(spec(
        "    faults:\n      - when: { method: PUT, path: /api.xro/2.0/Invoices }\n        nth: 1\n        action: { commit_then: { status: 504 } }\n",
    ))
    .await;
    let (access, _) = xero.connect().await;
    let put = |key: &str, reference: &str| {
        xero.http
            .put(format!("{}/api.xro/2.0/Invoices", xero.server.url()))
            .bearer_auth(&access)
            .header("xero-tenant-id", TENANT)
            .header("idempotency-key", key)
            .json(&json!({ "Invoices": [{
                "Type": "ACCPAY", "Reference": reference, "Contact": { "Name": "A" },
            }] }))
    };
    let lost = xero.send(put("export-1042", "EXP-1042")).await;
    assert_eq!(lost.status, 504, "the answer was lost");
    let retry = xero.send(put("export-1042", "EXP-1042")).await;
    assert_eq!(retry.status, 200);
    let again = xero.send(put("export-1042", "EXP-1042")).await;
    assert_eq!(again.json, retry.json, "the same answer");
    let invoices = xero.provider_state().await["invoices"].clone();
    assert_eq!(invoices.as_array().map(Vec::len), Some(1), "no duplicate");
    assert_eq!(retry.json["Invoices"][0], invoices[0]);

    let other = xero.send(put("export-1042", "EXP-7")).await;
    assert_eq!((other.status, other.json), (400, Value::Null));

    xero.advance(6).await;
    let later = xero.send(put("export-1042", "EXP-7")).await;
    assert_eq!(later.status, 200, "the key expired");
    let long = xero.send(put(&"k".repeat(129), "EXP-8")).await;
    assert_eq!(long.status, 400);
    assert_eq!(xero.stored("invoices").await, Some(2));
}

/// [XERO-OAS]: the `ValidationException` body; by default the whole batch fails with 400 and
/// nothing is saved; [XERO-RESEARCH] §5.2: with `summarizeErrors=false`, 200 and a status per
/// element, the valid ones saved.
#[tokio::test]
async fn validation_errors_fail_the_batch_unless_summarize_errors_is_false() {
    let xero = Harness::start(spec("")).await;
    let (access, _) = xero.connect().await;
    let batch = json!({ "Invoices": [
        { "Type": "ACCPAY", "Contact": { "Name": "Office Supplies Ltd" } },
        { "Type": "BILL", "Contact": { "Name": "Office Supplies Ltd" } },
    ] });
    let failed = xero
        .api("PUT", "/api.xro/2.0/Invoices", &access, Some(batch.clone()))
        .await;
    assert_eq!(failed.status, 400);
    assert_eq!(failed.json["ErrorNumber"], 10);
    assert_eq!(failed.json["Type"], "ValidationException");
    assert_eq!(failed.json["Message"], "A validation exception occurred");
    let elements = failed.json["Elements"].as_array().expect("Elements");
    assert_eq!(elements.len(), 1);
    assert_eq!(elements[0]["Type"], "BILL");
    assert!(elements[0]["ValidationErrors"][0]["Message"].is_string());
    assert_eq!(xero.provider_state().await["invoices"], json!([]));

    let partial = xero
        .api(
            "PUT",
            "/api.xro/2.0/Invoices?summarizeErrors=false",
            &access,
            Some(batch),
        )
        .await;
    assert_eq!(partial.status, 200);
    let statuses: Vec<&Value> = partial.json["Invoices"]
        .as_array()
        .expect("Invoices")
        .iter()
        .map(|e| &e["StatusAttributeString"])
        .collect();
    assert_eq!(statuses, [&json!("OK"), &json!("ERROR")]);
    assert!(partial.json["Invoices"][1]["ValidationErrors"].is_array());
    assert_eq!(xero.stored("invoices").await, Some(1));
}

/// Mock-level faults reuse the stub fault actions on provider routes: `commit_then` saves the
/// invoice and answers the fault's response instead (the duplicate-after-timeout incident).
#[tokio::test]
async fn a_commit_then_fault_on_post_invoices_saves_and_answers_the_fault() {
    let xero = Harness::start(spec(
        "    faults:\n      - when: { method: POST, path: /api.xro/2.0/Invoices }\n        nth: 1\n        action: { commit_then: { status: 503, json: { error: down } } }\n",
    ))
    .await;
    let (access, _) = xero.connect().await;
    let body = json!({ "Invoices": [{ "Type": "ACCPAY", "Contact": { "Name": "A" } }] });
    let first = xero
        .api("POST", "/api.xro/2.0/Invoices", &access, Some(body.clone()))
        .await;
    assert_eq!(
        (first.status, first.json),
        (503, json!({ "error": "down" }))
    );
    // The fault selects POST only: a PUT to the same path is not counted.
    let put = xero
        .api("PUT", "/api.xro/2.0/Invoices", &access, Some(body.clone()))
        .await;
    assert_eq!(put.status, 200);
    let retry = xero
        .api("POST", "/api.xro/2.0/Invoices", &access, Some(body))
        .await;
    assert_eq!(retry.status, 200);
    assert_eq!(
        xero.stored("invoices").await,
        Some(3),
        "the faulted request committed"
    );
    let journal = xero.control.journal().await.expect("journal").entries;
    let faulted = journal
        .iter()
        .find(|e| e.method == "POST" && e.path == "/api.xro/2.0/Invoices")
        .expect("journaled");
    assert_eq!(
        faulted.status, 200,
        "the status the provider would have sent"
    );
    assert!(faulted.fault.is_some());
    assert_eq!(
        faulted.matched.as_ref().map(|m| m.name.as_str()),
        Some("provider xero")
    );
}

/// Stubs come first: a stub overrides the provider's route; what no stub matches reaches it.
#[tokio::test]
async fn stubs_override_provider_routes() {
    let xero = Harness::start(spec(
        "    stubs:\n      - request: { method: GET, path: /connections }\n        response: { status: 500, json: { stubbed: true } }\n",
    ))
    .await;
    let (access, _) = xero.connect().await;
    let got = xero.connections(&access).await;
    assert_eq!((got.status, got.json), (500, json!({ "stubbed": true })));
    xero.assert_unrouted("/api.xro/2.0/Nope").await;
}

/// What a test target does first: exchange a code at `xero`; the access token.
async fn target_connects(http: &reqwest::Client, xero: &str) -> String {
    let token: Value = http
        .post(format!("{xero}/connect/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=authorization_code&code=abc")
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("token JSON");
    text(&token["access_token"])
}

/// Run scenario `id` in process: a `xero` mock with one tenant and `with` (YAML lines under
/// `with:`), the already running `target`, and `rest` (the scenario's `flow:` and `expect:`).
async fn run_yaml(id: &str, with: &str, target: &str, rest: &str) -> reenact::run::ScenarioRun {
    let yaml = format!(
        r#"id: {id}
title: {id} end to end
clock: {{ start: 2026-10-31T23:00:00Z }}
mocks:
  xero:
    provider: xero
    with:
      tenants: [{{ id: {TENANT}, name: Acme Corp }}]
{with}target:
  url: "{target}"
  ready: {{ http: GET /healthz, within: 5s }}
{rest}"#
    );
    let scenario = load_scenario(&format!("{id}.yaml"), &yaml);
    run_in_process(&scenario, Path::new(".")).await
}

/// A tiny target for the end-to-end test: `GET /healthz`, and `POST /export` with
/// `{"xero": URL, "reference": R, "times": N}`, which connects to Xero and creates N bills with
/// reference R (a retry bug in miniature).
async fn start_target() -> String {
    async fn export(body: Value) -> u16 {
        let http = reenact::run::http_client();
        let xero = text(&body["xero"]);
        let access = target_connects(&http, &xero).await;
        for _ in 0..body["times"].as_u64().unwrap_or(1) {
            let bill = json!({ "Invoices": [{
                "Type": "ACCPAY",
                "Reference": body["reference"],
                "Contact": { "Name": "Office Supplies Ltd" },
            }] });
            http.put(format!("{xero}/api.xro/2.0/Invoices"))
                .bearer_auth(&access)
                .header("xero-tenant-id", TENANT)
                .json(&bill)
                .send()
                .await
                .expect("bill");
        }
        200
    }

    serve(|path, _, body| async move {
        if path == "/export" {
            let status = export(serde_json::from_slice(&body).unwrap_or(Value::Null)).await;
            (status, String::new())
        } else {
            (200, String::new())
        }
    })
    .await
}

/// End to end through the runner: a scenario's target talks to the provider (the target is the
/// tiny server above, already running), `state:` expectations are judged on the provider state the
/// runner fetched through the control API, and the normalized snapshot holds that state with
/// no token in it.
#[tokio::test]
async fn state_expectations_are_judged_on_the_state_the_runner_collects() {
    let target = start_target().await;
    let rest = r#"flow:
  - name: export
    request:
      method: POST
      path: /export
      json: { xero: "{{ mocks.xero.url }}", reference: EXP-1042, times: 2 }
    expect: { status: 200 }
expect:
  - name: two bills
    mock: xero
    state: invoices
    where: { Contact.Name: Office Supplies Ltd }
    count: 2
  - name: one bill per expense
    mock: xero
    state: invoices
    unique_by: Reference
"#;
    let run = run_yaml("xero-state", "", &target, rest).await;
    assert_eq!(run.failed_step(), None);
    let results: Vec<(&str, bool, &str)> = run
        .expectations
        .iter()
        .map(|r| (r.name.as_str(), r.passed, r.detail.as_str()))
        .collect();
    assert_eq!(
        results,
        [
            ("two bills", true, "2 records, expected exactly 2"),
            (
                "one bill per expense",
                false,
                "`Reference` repeats: \"EXP-1042\""
            ),
        ]
    );
    let document = reenact::snapshot::normalize(
        &run.observation,
        &run.expectations,
        &reenact::scenario::model::SnapshotSpec::default(),
    );
    let state = &document["mocks"]["xero"]["state"];
    assert_eq!(state["invoices"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        state["invoices"][0]["UpdatedDateUTC"],
        "/Date(1793487600000+0000)/"
    );
    let journal = &document["mocks"]["xero"]["requests"];
    assert_eq!(
        journal[1]["headers"]["authorization"], "[redacted]",
        "{journal}"
    );
}

/// The Docker placement configures its mock-engine container with the `MockSpec` as JSON
/// (`PUT /__reenact/config`): a mock started without a provider and configured that way serves
/// the provider, its mock-level faults and its state exactly as one started with it.
#[tokio::test]
async fn the_configuration_put_through_the_control_api_carries_provider_and_faults() {
    let with_fault = spec(
        "    faults:\n      - when: { method: PUT, path: /api.xro/2.0/Contacts }\n        nth: 1\n        action: { respond: { status: 503 } }\n",
    );
    let mut plain = with_fault.clone();
    plain.provider = None;
    plain.faults.clear();
    let xero = Harness::start(plain).await;
    let before = xero
        .token(&[("grant_type", "authorization_code"), ("code", "a")])
        .await;
    assert_eq!(before.status, 404, "no provider yet");

    xero.control
        .configure(&with_fault)
        .await
        .expect("configure");
    let (access, _) = xero.connect().await;
    let contacts = json!([{ "Name": "A" }]);
    let faulted = xero.put("Contacts", &access, contacts.clone()).await;
    assert_eq!(faulted.status, 503);
    let created = xero.put("Contacts", &access, contacts).await;
    assert_eq!(created.status, 200);
    let state = xero.provider_state().await;
    assert_eq!(state["contacts"].as_array().map(Vec::len), Some(1));
}

/// [XERO-FAQ-LIMITS]: per-tenant minute and day limits and their `X-*Limit-Remaining` headers on
/// every answer; [XERO-RESEARCH] §5.1, [TAP-XERO]: over a limit, 429 with `Retry-After` and
/// `X-Rate-Limit-Problem: minute`; the window follows the virtual clock; other tenants and the
/// identity server are not limited.
#[tokio::test]
async fn rate_limits_answer_429_with_the_problem_and_retry_after() {
    let xero = Harness::start(spec_with("      rate_limits: { minute: 2, day: 3 }\n", "")).await;
    let (access, _) = xero.connect().await;
    let first = xero
        .api("GET", "/api.xro/2.0/Invoices", &access, None)
        .await;
    assert_eq!(first.status, 200);
    let header = |got: &Got, name: &str| {
        got.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(header(&first, "x-minlimit-remaining").as_deref(), Some("1"));
    assert_eq!(header(&first, "x-daylimit-remaining").as_deref(), Some("2"));
    assert_eq!(
        header(&first, "x-appminlimit-remaining").as_deref(),
        Some("9999")
    );
    xero.api("GET", "/api.xro/2.0/Invoices", &access, None)
        .await;
    let blocked = xero
        .api("GET", "/api.xro/2.0/Invoices", &access, None)
        .await;
    assert_eq!(blocked.status, 429);
    assert_eq!(
        header(&blocked, "x-rate-limit-problem").as_deref(),
        Some("minute")
    );
    // Xero-Java's `XeroApiExceptionHandler` tells the limits apart by the exhausted `…-Remaining`.
    assert_eq!(
        header(&blocked, "x-minlimit-remaining").as_deref(),
        Some("0")
    );
    // The other limits' headers come on the 429 too, as they stand (a blocked call does not
    // count): Xero's limits FAQ says every response carries them.
    assert_eq!(
        header(&blocked, "x-daylimit-remaining").as_deref(),
        Some("1")
    );
    assert_eq!(
        header(&blocked, "x-appminlimit-remaining").as_deref(),
        Some("9998")
    );
    let retry: u64 = header(&blocked, "retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry), "Retry-After {retry}");

    // Token calls are not Accounting API calls.
    let again = xero
        .token(&[("grant_type", "authorization_code"), ("code", "code-2")])
        .await;
    assert_eq!(again.status, 200);

    xero.advance(1).await;
    let next_minute = xero
        .api("GET", "/api.xro/2.0/Invoices", &access, None)
        .await;
    assert_eq!(next_minute.status, 200, "a new minute");
    let day = xero
        .api("GET", "/api.xro/2.0/Invoices", &access, None)
        .await;
    assert_eq!(day.status, 429);
    assert_eq!(header(&day, "x-rate-limit-problem").as_deref(), Some("day"));
    assert_eq!(header(&day, "x-daylimit-remaining").as_deref(), Some("0"));
    assert_eq!(header(&day, "x-minlimit-remaining").as_deref(), Some("1"));
    // The day window slides (Xero's older limits page: "a rolling 24 hour window"): the first
    // call of the day frees its slot 24 hours after it, not at a midnight.
    let day_retry: u64 = header(&day, "retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert_eq!(day_retry, 86_400 - 60, "the oldest call was a minute ago");
}

/// xero-node #634: every 429 names its limit in `X-Rate-Limit-Problem`, the app-minute limit
/// included (`appminute`, a secondary source: `docs/providers/xero.md`).
#[tokio::test]
async fn the_app_minute_limit_answers_429_with_appminute() {
    let xero = Harness::start(spec_with("      rate_limits: { app_minute: 1 }\n", "")).await;
    let (access, _) = xero.connect().await;
    let first = xero
        .api("GET", "/api.xro/2.0/Invoices", &access, None)
        .await;
    assert_eq!(first.status, 200);
    let blocked = xero
        .api("GET", "/api.xro/2.0/Invoices", &access, None)
        .await;
    assert_eq!(blocked.status, 429);
    let header = |name: &str| {
        blocked
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(header("x-rate-limit-problem").as_deref(), Some("appminute"));
    assert_eq!(header("x-appminlimit-remaining").as_deref(), Some("0"));
    // The tenant's limits' headers come with it, as they stand (Xero's limits FAQ).
    assert_eq!(header("x-minlimit-remaining").as_deref(), Some("59"));
    assert_eq!(header("x-daylimit-remaining").as_deref(), Some("4999"));
    assert!(header("retry-after").is_some());
}

/// [XERO-RESEARCH] §7.12: an invoice dated on or before the period lock date gets the 400
/// `ValidationException`; a later date is saved. MS-JSON dates count by their UTC date.
#[tokio::test]
async fn invoices_on_or_before_the_lock_date_are_refused() {
    let xero = Harness::start(spec_with("      period_lock_date: 2026-09-30\n", "")).await;
    let (access, _) = xero.connect().await;
    let bill = |date: &str| json!([{ "Type": "ACCPAY", "Date": date, "Contact": { "Name": "A" } }]);
    for date in [
        "2026-09-30",
        "2026-09-30T23:59:59",
        "/Date(1790812799000+0000)/",
    ] {
        let refused = xero.put("Invoices", &access, bill(date)).await;
        assert_eq!(refused.status, 400, "{date}");
        assert_eq!(refused.json["Type"], "ValidationException");
        assert_eq!(
            refused.json["Elements"][0]["ValidationErrors"][0]["Message"],
            "The document date cannot be before the period lock date",
            "{date}"
        );
    }
    // 2026-10-01T00:00:00Z.
    for date in ["2026-10-01", "/Date(1790812800000+0000)/"] {
        let saved = xero.put("Invoices", &access, bill(date)).await;
        assert_eq!(saved.status, 200, "{date}");
    }
}

/// [XERO-RESEARCH] §7.13: a document in a currency the organisation does not subscribe to is
/// refused with "Organisation is not subscribed to currency EUR".
#[tokio::test]
async fn invoices_in_a_currency_the_organisation_lacks_are_refused() {
    let xero = Harness::start(spec_with("      currencies: [GBP, USD]\n", "")).await;
    let (access, _) = xero.connect().await;
    let bill = |currency: &str| json!([{ "Type": "ACCPAY", "CurrencyCode": currency, "Contact": { "Name": "A" } }]);
    let refused = xero.put("Invoices", &access, bill("EUR")).await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.json["Type"], "ValidationException");
    assert_eq!(
        refused.json["Elements"][0]["ValidationErrors"][0]["Message"],
        "Organisation is not subscribed to currency EUR"
    );
    for currency in ["GBP", "USD"] {
        assert_eq!(
            xero.put("Invoices", &access, bill(currency)).await.status,
            200
        );
    }
    assert_eq!(xero.stored("invoices").await.unwrap(), 2);
}

/// [XERO-RESEARCH] §7.14: tax is computed per line and rounded to 2 dp, then summed, so three
/// lines of 0.35 at 15% carry 0.05 each (0.15 in all), not 15% of 1.05 (0.16).
#[tokio::test]
async fn totals_round_tax_per_line_then_sum() {
    let accounts =
        "      accounts:\n        - { code: \"429\", name: General Expenses, tax_rate: \"15\" }\n";
    let xero = Harness::start(spec_with(accounts, "")).await;
    let (access, _) = xero.connect().await;
    let line = |amount: &str| json!({ "Quantity": 1, "UnitAmount": amount, "AccountCode": "429" });
    let exclusive = json!({
        "Type": "ACCPAY", "Contact": { "Name": "A" }, "LineAmountTypes": "Exclusive",
        "LineItems": [line("0.35"), line("0.35"), line("0.35")],
    });
    let inclusive = json!({
        "Type": "ACCPAY", "Contact": { "Name": "A" }, "LineAmountTypes": "Inclusive",
        "LineItems": [line("10.00")],
    });
    let saved = xero
        .put("Invoices", &access, json!([exclusive, inclusive]))
        .await;
    assert_eq!(saved.status, 200, "{}", saved.json);
    let first = &saved.json["Invoices"][0];
    assert_eq!(first["LineItems"][0]["TaxAmount"], json!(0.05));
    assert_eq!(first["SubTotal"], json!(1.05));
    assert_eq!(first["TotalTax"], json!(0.15));
    assert_eq!(first["Total"], json!(1.2));
    assert_eq!(first["AmountDue"], json!(1.2));
    assert_eq!(first["Status"], "DRAFT");
    // 10.00 including 15%: tax 10 × 15 / 115 = 1.304… → 1.30.
    let second = &saved.json["Invoices"][1];
    assert_eq!(second["TotalTax"], json!(1.3));
    assert_eq!(second["SubTotal"], json!(8.7));
    assert_eq!(second["Total"], json!(10));
    let stored = xero.provider_state().await;
    assert_eq!(stored["invoices"][0]["TotalTax"], json!(0.15));
}

/// Catalog X-08: a line booked to an archived account (or one the chart lacks) is refused, and with
/// `summarizeErrors=false` only that element fails.
#[tokio::test]
async fn lines_on_archived_or_unknown_accounts_are_refused() {
    let accounts = "      accounts:\n        - { code: \"493\", name: Travel }\n        - { code: \"310\", name: Old Supplies, status: ARCHIVED }\n";
    let xero = Harness::start(spec_with(accounts, "")).await;
    let (access, _) = xero.connect().await;
    let bill = |code: &str| {
        json!({ "Type": "ACCPAY", "Contact": { "Name": "A" },
                "LineItems": [{ "UnitAmount": 10, "AccountCode": code }] })
    };
    let answer = xero
        .api(
            "PUT",
            "/api.xro/2.0/Invoices?summarizeErrors=false",
            &access,
            Some(json!({ "Invoices": [bill("493"), bill("310"), bill("999")] })),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    let statuses: Vec<String> = answer.json["Invoices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|invoice| text(&invoice["StatusAttributeString"]))
        .collect();
    assert_eq!(statuses, ["OK", "ERROR", "ERROR"]);
    assert_eq!(
        answer.json["Invoices"][1]["ValidationErrors"][0]["Message"],
        "Account code '310' has been archived, or deleted. Each line item must reference a valid account."
    );
    assert_eq!(
        answer.json["Invoices"][2]["ValidationErrors"][0]["Message"],
        "Account code '999' is not a valid code for this document."
    );
    assert_eq!(xero.stored("invoices").await.unwrap(), 1);
}

/// [XERO-OAS]: `GET Invoices?InvoiceNumbers=A,B` lists the invoices with those numbers only.
#[tokio::test]
async fn invoices_are_filtered_by_invoice_numbers() {
    let xero = Harness::start(spec("")).await;
    let (access, _) = xero.connect().await;
    let bill = |number: &str| json!({ "Type": "ACCPAY", "InvoiceNumber": number, "Contact": { "Name": "A" } });
    let saved = xero
        .put(
            "Invoices",
            &access,
            json!([bill("EXP-1"), bill("EXP-10"), bill("EXP-2")]),
        )
        .await;
    assert_eq!(saved.status, 200, "{}", saved.json);
    let numbers = |got: &Got| -> Vec<String> {
        got.json["Invoices"]
            .as_array()
            .expect("an Invoices list")
            .iter()
            .map(|invoice| text(&invoice["InvoiceNumber"]))
            .collect()
    };
    let one = xero
        .api(
            "GET",
            "/api.xro/2.0/Invoices?InvoiceNumbers=EXP-1",
            &access,
            None,
        )
        .await;
    assert_eq!(numbers(&one), ["EXP-1"]);
    let two = xero
        .api(
            "GET",
            "/api.xro/2.0/Invoices?InvoiceNumbers=EXP-2,EXP-1",
            &access,
            None,
        )
        .await;
    assert_eq!(numbers(&two), ["EXP-1", "EXP-2"]);
    let none = xero
        .api(
            "GET",
            "/api.xro/2.0/Invoices?InvoiceNumbers=EXP-3",
            &access,
            None,
        )
        .await;
    assert_eq!(none.status, 200);
    assert!(numbers(&none).is_empty());
}

// ---------------------------------------------------------------------------------------------
// Webhooks [XERO-WEBHOOK-SERVER], [XERO-OAS-WH]
// ---------------------------------------------------------------------------------------------

/// The webhook key of the webhook tests (a test key, not a real one).
const WEBHOOK_KEY: &str = "q9Fz+TestOnly/WebhookKey==";

/// A webhook as the receiver got it: the `x-xero-signature` header and the exact body bytes.
#[derive(Clone)]
struct Hook {
    signature: Option<String>,
    body: Vec<u8>,
}

/// A small webhook receiver as the target: `GET /healthz`; `POST /setup` with `{"xero": URL}`
/// connects to Xero, creates one invoice and answers `{"id": InvoiceID}`; `POST /webhooks/xero`
/// records the request and answers 503 to the first `fail_first` webhooks, then 200 when `verify`
/// is off, else 200 for a body whose signature verifies under [`WEBHOOK_KEY`] and 401 for any
/// other.
async fn start_receiver(
    verify: bool,
    fail_first: usize,
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<Hook>>>) {
    async fn setup(body: Value) -> Value {
        let http = reenact::run::http_client();
        let xero = text(&body["xero"]);
        let access = target_connects(&http, &xero).await;
        let created: Value = http
            .put(format!("{xero}/api.xro/2.0/Invoices"))
            .bearer_auth(access)
            .header("xero-tenant-id", TENANT)
            .json(&json!({ "Invoices": [{ "Type": "ACCREC", "Contact": { "Name": "Globex" } }] }))
            .send()
            .await
            .expect("invoice")
            .json()
            .await
            .expect("invoice JSON");
        json!({ "id": created["Invoices"][0]["InvoiceID"] })
    }

    let hooks = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let recorded = hooks.clone();
    let url = serve(move |path, headers, bytes| {
        let recorded = recorded.clone();
        async move {
            let signature = headers
                .get("x-xero-signature")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            match path.as_str() {
                "/setup" => {
                    let answer = setup(serde_json::from_slice(&bytes).unwrap_or(Value::Null)).await;
                    (200, answer.to_string())
                }
                "/webhooks/xero" => {
                    let good = signature.as_deref()
                        == Some(hmac_sha256_base64(WEBHOOK_KEY, &bytes).as_str());
                    let mut recorded = recorded.lock().expect("hooks");
                    recorded.push(Hook {
                        signature,
                        body: bytes.to_vec(),
                    });
                    let status = if recorded.len() <= fail_first {
                        503
                    } else if good || !verify {
                        200
                    } else {
                        401
                    };
                    (status, String::new())
                }
                _ => (200, String::new()),
            }
        }
    })
    .await;
    (url, hooks)
}

/// A first flow step: the receiver creates an invoice in the mock; its id is `invoice_id`.
const SETUP: &str = r#"  - name: setup
    request:
      method: POST
      path: /setup
      json: { xero: "{{ mocks.xero.url }}" }
    capture: { invoice_id: $.id }
"#;

/// Run `flow` (YAML list items) against `target` with a `xero` mock that has [`WEBHOOK_KEY`].
async fn run_webhook_scenario(target: &str, flow: &str) -> reenact::run::ScenarioRun {
    let with = format!("      webhook_key: \"{WEBHOOK_KEY}\"\n");
    run_yaml("xero-webhooks", &with, target, &format!("flow:\n{flow}")).await
}

/// [XERO-WEBHOOK-SERVER], [XERO-OAS-WH]: an event about an invoice of the provider's state is
/// signed with the webhook key over the exact bytes the receiver got (checked here with an
/// independent HMAC), carries the event fields, and sequences increase per mock; the key appears
/// in neither the snapshot nor the state.
#[tokio::test]
async fn webhook_events_are_signed_with_the_webhook_key_over_the_exact_bytes() {
    let (target, hooks) = start_receiver(true, 0).await;
    let flow = r#"  - name: invoice updated
    webhook:
      mock: xero
      path: /webhooks/xero
      xero: { event: invoice.update, resource: "{{ invoice_id }}" }
    expect: { status: 200 }
  - name: invoice updated again
    webhook:
      mock: xero
      path: /webhooks/xero
      xero: { event: invoice.update, resource: "{{ invoice_id }}" }
    expect: { status: 200 }
"#;
    let run = run_webhook_scenario(&target, &format!("{SETUP}{flow}")).await;
    assert_eq!(run.failed_step(), None);
    let invoice_id = run.observation.steps[0].captures["invoice_id"].clone();
    let hooks = hooks.lock().expect("hooks").clone();
    assert_eq!(hooks.len(), 2);
    for (index, hook) in hooks.iter().enumerate() {
        assert_eq!(
            hook.signature.as_deref(),
            Some(hmac_sha256_base64(WEBHOOK_KEY, &hook.body).as_str())
        );
        let body: Value = serde_json::from_slice(&hook.body).expect("a JSON body");
        let sequence = index as u64 + 1;
        assert_eq!(body["firstEventSequence"], sequence, "{body}");
        assert_eq!(body["lastEventSequence"], sequence, "{body}");
        assert!(body["entropy"].as_str().is_some_and(|e| !e.is_empty()));
        assert_eq!(
            body["events"],
            json!([{
                "resourceUrl": format!("https://api.xero.com/api.xro/2.0/Invoices/{invoice_id}"),
                "resourceId": invoice_id,
                "eventDateUtc": "2026-10-31T23:00:00.000",
                "eventType": "UPDATE",
                "eventCategory": "INVOICE",
                "tenantId": TENANT,
                "tenantType": "ORGANISATION",
            }])
        );
    }
    assert_ne!(hooks[0].body, hooks[1].body, "the entropy differs");
    let document = reenact::snapshot::normalize(
        &run.observation,
        &run.expectations,
        &reenact::scenario::model::SnapshotSpec::default(),
    );
    let text = document.to_string();
    assert!(!text.contains(WEBHOOK_KEY), "the key leaked: {text}");
    let signature = &document["steps"][1]["deliveries"][0]["headers"]["x-xero-signature"];
    assert_eq!(signature, "[redacted]", "{document}");
}

/// [XERO-WEBHOOK-SERVER] retries: an event the target does not accept is delivered again, the
/// same signed bytes each time, after the backoff on the virtual clock.
#[tokio::test]
async fn webhook_events_are_redelivered_on_the_virtual_clock_with_the_same_bytes() {
    let (target, hooks) = start_receiver(true, 2).await;
    let flow = r#"  - name: invoice created
    webhook:
      mock: xero
      path: /webhooks/xero
      xero: { event: invoice.create, resource: "{{ invoice_id }}" }
      retry: { attempts: 3, backoff: 5m, timeout: 5s }
    expect: { status: 200 }
"#;
    let run = run_webhook_scenario(&target, &format!("{SETUP}{flow}")).await;
    assert_eq!(run.failed_step(), None);
    let deliveries = &run.observation.steps[1].deliveries;
    let attempts: Vec<(u32, &str, Option<u16>)> = deliveries
        .iter()
        .map(|d| {
            (
                d.attempt,
                d.at.as_str(),
                d.response.as_ref().map(|r| r.status),
            )
        })
        .collect();
    assert_eq!(
        attempts,
        [
            (1, "2026-10-31T23:00:00Z", Some(503)),
            (2, "2026-10-31T23:05:00Z", Some(503)),
            (3, "2026-10-31T23:10:00Z", Some(200)),
        ]
    );
    let hooks = hooks.lock().expect("hooks").clone();
    assert_eq!(hooks.len(), 3);
    for hook in &hooks {
        assert_eq!(hook.body, hooks[0].body);
        assert_eq!(
            hook.signature.as_deref(),
            Some(hmac_sha256_base64(WEBHOOK_KEY, &hook.body).as_str())
        );
    }
    let body: Value = serde_json::from_slice(&hooks[0].body).expect("a JSON body");
    assert_eq!(body["events"][0]["eventType"], "CREATE", "{body}");
    assert_eq!(body["firstEventSequence"], 1, "{body}");
}

/// An event about a record the provider does not hold fails the step with the reason, and
/// nothing is sent.
#[tokio::test]
async fn a_webhook_event_about_an_unknown_invoice_fails_the_step() {
    let (target, hooks) = start_receiver(true, 0).await;
    let flow = r#"  - name: invoice updated
    webhook:
      mock: xero
      path: /webhooks/xero
      xero: { event: invoice.update, resource: 5a0e4ae4-0000-4000-8000-000000000000 }
"#;
    let run = run_webhook_scenario(&target, flow).await;
    let (step, failure) = run.failed_step().expect("the step fails");
    assert_eq!(step, "invoice updated");
    assert!(
        failure.contains("no invoice `5a0e4ae4-0000-4000-8000-000000000000`"),
        "{failure}"
    );
    assert!(hooks.lock().expect("hooks").is_empty());
}

const INTENT_TO_RECEIVE: &str = r#"  - name: intent to receive
    webhook:
      mock: xero
      path: /webhooks/xero
      xero: { intent_to_receive: true }
"#;

/// [XERO-WEBHOOK-SERVER] Intent to Receive: empty payloads, some correctly and some incorrectly
/// signed; a receiver that verifies signatures answers 200 and 401 as Xero requires, and the
/// step passes.
#[tokio::test]
async fn intent_to_receive_passes_a_receiver_that_verifies_signatures() {
    let (target, hooks) = start_receiver(true, 0).await;
    let run = run_webhook_scenario(&target, INTENT_TO_RECEIVE).await;
    assert_eq!(run.failed_step(), None);
    let deliveries = &run.observation.steps[0].deliveries;
    let answers: Vec<(u32, Option<u16>, Option<u16>)> = deliveries
        .iter()
        .map(|d| {
            (
                d.attempt,
                d.response.as_ref().map(|r| r.status),
                d.expected_status,
            )
        })
        .collect();
    assert_eq!(
        answers,
        [
            (1, Some(200), Some(200)),
            (2, Some(401), Some(401)),
            (3, Some(200), Some(200)),
            (4, Some(401), Some(401)),
        ]
    );
    let hooks = hooks.lock().expect("hooks").clone();
    assert_eq!(hooks.len(), 4);
    for (hook, correct) in hooks.iter().zip([true, false, true, false]) {
        let body: Value = serde_json::from_slice(&hook.body).expect("a JSON body");
        assert_eq!(body["events"], json!([]), "{body}");
        assert_eq!(body["firstEventSequence"], 0, "{body}");
        assert_eq!(body["lastEventSequence"], 0, "{body}");
        let verifies =
            hook.signature.as_deref() == Some(hmac_sha256_base64(WEBHOOK_KEY, &hook.body).as_str());
        assert_eq!(verifies, correct);
    }
}

/// [XERO-WEBHOOK-SERVER] Intent to Receive: a receiver that answers 200 whatever the signature
/// fails the handshake, and the step says which attempts got the wrong answer.
#[tokio::test]
async fn intent_to_receive_fails_a_receiver_that_always_answers_200() {
    let (target, _) = start_receiver(false, 0).await;
    let run = run_webhook_scenario(&target, INTENT_TO_RECEIVE).await;
    let (step, failure) = run.failed_step().expect("the handshake fails");
    assert_eq!(step, "intent to receive");
    assert!(
        failure.contains(
            "attempt 2 (incorrectly signed) got 200, 401 required; \
             attempt 4 (incorrectly signed) got 200, 401 required"
        ),
        "{failure}"
    );
    assert_eq!(run.observation.steps[0].deliveries.len(), 4);
}

/// A contact and an `AUTHORISED` bill of 100.00 (no tax) for it: the bill's `InvoiceID`.
async fn authorised_bill(xero: &Harness, access: &str, status: &str) -> String {
    let bill = json!([{ "Type": "ACCPAY", "Status": status, "Date": "2026-10-20",
        "InvoiceNumber": format!("BILL-{status}"), "Contact": { "Name": "Office Supplies Ltd" },
        "LineItems": [{ "UnitAmount": "100.00", "AccountCode": "429" }] }]);
    let created = xero.put("Invoices", access, bill).await;
    assert_eq!(created.status, 200, "{}", created.json);
    text(&created.json["Invoices"][0]["InvoiceID"])
}

fn payment(invoice: &str, amount: &str, date: &str) -> Value {
    json!({ "Invoice": { "InvoiceID": invoice }, "Account": { "Code": "090" },
            "Date": date, "Amount": amount })
}

/// Payments (the catalog is silent on their rules; see docs/providers/xero.md): a payment takes
/// its amount off the invoice's `AmountDue` and adds it to `AmountPaid`, exactly in decimals;
/// the invoice is `PAID` when nothing is due; payments are listed, read one by one and kept in
/// the `payments` collection of the state.
#[tokio::test]
async fn payments_reduce_the_amount_due_until_the_invoice_is_paid() {
    let xero = Harness::start(spec("")).await;
    let (access, _) = xero.connect().await;
    let invoice = authorised_bill(&xero, &access, "AUTHORISED").await;

    let first = xero
        .put(
            "Payments",
            &access,
            json!([payment(&invoice, "33.33", "2026-11-01")]),
        )
        .await;
    assert_eq!(first.status, 200, "{}", first.json);
    let paid = &first.json["Payments"][0];
    assert_eq!(paid["Amount"], json!(33.33));
    assert_eq!(paid["Status"], "AUTHORISED");
    assert_eq!(paid["PaymentType"], "ACCPAYPAYMENT");
    assert_eq!(
        paid["Invoice"],
        json!({ "InvoiceID": invoice, "InvoiceNumber": "BILL-AUTHORISED" })
    );
    let first_id = text(&paid["PaymentID"]);

    let read = xero
        .api(
            "GET",
            &format!("/api.xro/2.0/Invoices/{invoice}"),
            &access,
            None,
        )
        .await;
    let bill = &read.json["Invoices"][0];
    assert_eq!(bill["AmountDue"], json!(66.67));
    assert_eq!(bill["AmountPaid"], json!(33.33));
    assert_eq!(bill["Status"], "AUTHORISED");

    // By number this time; the rest is due, so the bill is paid.
    let rest = json!([{ "Invoice": { "InvoiceNumber": "BILL-AUTHORISED" },
                        "Account": { "Code": "090" }, "Amount": 66.67 }]);
    let second = xero.put("Payments", &access, rest).await;
    assert_eq!(second.status, 200, "{}", second.json);
    // No `Date`: the virtual clock's UTC day (it starts 2026-10-31T23:00:00Z).
    // Answered as MS-JSON with its `DateString` [XERO-OAS]; kept as given in the state.
    assert_eq!(
        second.json["Payments"][0]["Date"],
        "/Date(1793404800000+0000)/"
    );
    assert_eq!(
        second.json["Payments"][0]["DateString"],
        "2026-10-31T00:00:00"
    );
    assert_eq!(
        xero.provider_state().await["payments"][1]["Date"],
        "2026-10-31"
    );
    let bill = &xero
        .api(
            "GET",
            &format!("/api.xro/2.0/Invoices/{invoice}"),
            &access,
            None,
        )
        .await
        .json["Invoices"][0];
    assert_eq!(bill["AmountDue"], json!(0));
    assert_eq!(bill["AmountPaid"], json!(100));
    assert_eq!(bill["Status"], "PAID");
    assert_eq!(bill["Payments"].as_array().map(Vec::len), Some(2));

    let list = xero
        .api("GET", "/api.xro/2.0/Payments", &access, None)
        .await;
    assert_eq!(list.status, 200);
    assert_eq!(list.json["Payments"].as_array().map(Vec::len), Some(2));
    let one = xero
        .api(
            "GET",
            &format!("/api.xro/2.0/Payments/{first_id}"),
            &access,
            None,
        )
        .await;
    assert_eq!(one.status, 200);
    assert_eq!(one.json["Payments"][0], *paid);
    let state = xero.provider_state().await;
    assert_eq!(state["payments"].as_array().map(Vec::len), Some(2));
    // The state keeps the date as sent; the answer writes it as MS-JSON [XERO-OAS].
    let mut kept = paid.clone();
    assert_eq!(kept["Date"], "/Date(1793491200000+0000)/");
    kept["Date"] = json!("2026-11-01");
    kept.as_object_mut()
        .map(|fields| fields.remove("DateString"));
    assert_eq!(state["payments"][0], kept);
}

/// Refused payments get the 400 `ValidationException` [XERO-OAS] and change nothing: more than
/// is due (also by two payments of one batch together), a DRAFT or already PAID invoice, an
/// unknown invoice (reenact's rules, the catalog is silent), and a date on or before the lock
/// date [XERO-RESEARCH] §7.12.
#[tokio::test]
async fn payments_over_the_amount_due_on_drafts_unknown_invoices_or_locked_dates_are_refused() {
    let xero = Harness::start(spec_with("      period_lock_date: 2026-09-30\n", "")).await;
    let (access, _) = xero.connect().await;
    let authorised = authorised_bill(&xero, &access, "AUTHORISED").await;
    let draft = authorised_bill(&xero, &access, "DRAFT").await;
    let unknown = "00000000-0000-4000-8000-000000000000";
    let cases = [
        (
            json!([payment(&authorised, "100.01", "2026-11-01")]),
            "The payment amount (100.01) exceeds the amount due on the invoice (100)",
        ),
        (
            json!([
                payment(&authorised, "60", "2026-11-01"),
                payment(&authorised, "40.01", "2026-11-01")
            ]),
            "The payment amount (40.01) exceeds the amount due on the invoice (40)",
        ),
        (
            json!([payment(&draft, "10", "2026-11-01")]),
            "Payments can only be made against AUTHORISED invoices",
        ),
        (
            json!([payment(unknown, "10", "2026-11-01")]),
            "The Invoice with InvoiceID 00000000-0000-4000-8000-000000000000 could not be found",
        ),
        (
            json!([payment(&authorised, "10", "2026-09-30")]),
            "The document date cannot be before the period lock date",
        ),
        (
            json!([payment(&authorised, "0", "2026-11-01")]),
            "Payment amount must be greater than zero",
        ),
    ];
    for (batch, message) in cases {
        let refused = xero.put("Payments", &access, batch.clone()).await;
        assert_eq!(refused.status, 400, "{batch}");
        assert_eq!(refused.json["Type"], "ValidationException");
        let elements = refused.json["Elements"].as_array().expect("Elements");
        let last = elements.last().expect("a failing element");
        assert_eq!(last["ValidationErrors"][0]["Message"], message, "{batch}");
    }
    let state = xero.provider_state().await;
    assert_eq!(state["payments"], json!([]));
    assert_eq!(state["invoices"][0]["AmountDue"], json!(100));

    // Once paid in full, the invoice takes no more payments.
    let full = xero
        .put(
            "Payments",
            &access,
            json!([payment(&authorised, "100", "2026-11-01")]),
        )
        .await;
    assert_eq!(full.status, 200, "{}", full.json);
    let again = xero
        .put(
            "Payments",
            &access,
            json!([payment(&authorised, "1", "2026-11-01")]),
        )
        .await;
    assert_eq!(again.status, 400);
    assert_eq!(
        again.json["Elements"][0]["ValidationErrors"][0]["Message"],
        "Payments can only be made against AUTHORISED invoices"
    );
}

/// Manual journals (rules are reenact's but the lock date [XERO-RESEARCH] §7.12 and the account
/// check, catalog X-08): balanced lines are saved as `DRAFT` in `manual_journals`; unbalanced
/// lines, a single line, an archived account and a locked date are refused.
#[tokio::test]
async fn manual_journals_must_balance_on_active_accounts_after_the_lock_date() {
    let with = "      period_lock_date: 2026-09-30\n      accounts:\n        - { code: \"400\", name: Advertising }\n        - { code: \"800\", name: Accruals }\n        - { code: \"310\", name: Old Supplies, status: ARCHIVED }\n";
    let xero = Harness::start(spec_with(with, "")).await;
    let (access, _) = xero.connect().await;
    let journal = |date: &str, lines: Value| json!([{ "Narration": "October accrual", "Date": date, "JournalLines": lines }]);
    let balanced = json!([
        { "LineAmount": "1250.10", "AccountCode": "400" },
        { "LineAmount": -1250.1, "AccountCode": "800" },
    ]);
    let saved = xero
        .put(
            "ManualJournals",
            &access,
            journal("2026-10-31", balanced.clone()),
        )
        .await;
    assert_eq!(saved.status, 200, "{}", saved.json);
    let record = &saved.json["ManualJournals"][0];
    assert_eq!(record["Status"], "DRAFT");
    assert_eq!(record["JournalLines"][0]["LineAmount"], json!(1250.1));
    assert!(record["ManualJournalID"].is_string());
    assert_eq!(record["Date"], "/Date(1793404800000+0000)/");
    assert_eq!(record["DateString"], "2026-10-31T00:00:00");
    let mut kept = record.clone();
    kept["Date"] = json!("2026-10-31");
    kept.as_object_mut()
        .map(|fields| fields.remove("DateString"));
    assert_eq!(
        xero.provider_state().await["manual_journals"],
        json!([kept])
    );

    let cases = [
        (
            journal(
                "2026-10-31",
                json!([
                    { "LineAmount": "100", "AccountCode": "400" },
                    { "LineAmount": "-99.99", "AccountCode": "800" },
                ]),
            ),
            "The journal lines must sum to zero (debits equal to credits); they sum to 0.01",
        ),
        (
            journal(
                "2026-10-31",
                json!([{ "LineAmount": "0", "AccountCode": "400" }]),
            ),
            "A manual journal must have at least two JournalLines",
        ),
        (
            journal(
                "2026-10-31",
                json!([
                    { "LineAmount": "5", "AccountCode": "310" },
                    { "LineAmount": "-5", "AccountCode": "800" },
                ]),
            ),
            "Account code '310' has been archived, or deleted. Each line item must reference a valid account.",
        ),
        (
            journal("2026-09-30", balanced),
            "The document date cannot be before the period lock date",
        ),
    ];
    for (batch, message) in cases {
        let refused = xero.put("ManualJournals", &access, batch.clone()).await;
        assert_eq!(refused.status, 400, "{batch}");
        assert_eq!(refused.json["Type"], "ValidationException");
        assert_eq!(
            refused.json["Elements"][0]["ValidationErrors"][0]["Message"], message,
            "{batch}"
        );
    }
    assert_eq!(xero.stored("manual_journals").await, Some(1));
}

/// Catalog X-08 (archived contacts): a contact created `ARCHIVED` stays so, contacts are
/// `ACTIVE` otherwise, and an invoice naming an archived contact by `ContactID` is refused (the
/// message is reenact's).
#[tokio::test]
async fn invoices_for_archived_contacts_are_refused() {
    let xero = Harness::start(spec("")).await;
    let (access, _) = xero.connect().await;
    let contacts = xero
        .put(
            "Contacts",
            &access,
            json!([{ "Name": "Gone Ltd", "ContactStatus": "ARCHIVED" }, { "Name": "Here Ltd" }]),
        )
        .await;
    assert_eq!(contacts.status, 200, "{}", contacts.json);
    assert_eq!(contacts.json["Contacts"][0]["ContactStatus"], "ARCHIVED");
    assert_eq!(contacts.json["Contacts"][1]["ContactStatus"], "ACTIVE");
    let archived = text(&contacts.json["Contacts"][0]["ContactID"]);
    let active = text(&contacts.json["Contacts"][1]["ContactID"]);
    let bill = |id: &str| json!([{ "Type": "ACCPAY", "Contact": { "ContactID": id } }]);

    let refused = xero.put("Invoices", &access, bill(&archived)).await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.json["Type"], "ValidationException");
    assert_eq!(
        refused.json["Elements"][0]["ValidationErrors"][0]["Message"],
        format!(
            "The contact with ContactID {archived} is archived; documents cannot be created for an archived contact"
        )
    );
    assert_eq!(
        xero.put("Invoices", &access, bill(&active)).await.status,
        200
    );

    let bad = xero
        .put(
            "Contacts",
            &access,
            json!([{ "Name": "X", "ContactStatus": "GDPRREQUEST" }]),
        )
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(
        bad.json["Elements"][0]["ValidationErrors"][0]["Message"],
        "ContactStatus must be ACTIVE or ARCHIVED"
    );
}

/// `GET` a list with `If-Modified-Since` [XERO-RESEARCH] §5.3.
async fn list_since(xero: &Harness, path: &str, token: &str, since: &str) -> Got {
    let url = format!("{}{path}", xero.server.url());
    let request = xero
        .http
        .get(url)
        .bearer_auth(token)
        .header("xero-tenant-id", TENANT)
        .header("If-Modified-Since", since);
    xero.send(request).await
}

/// [XERO-RESEARCH] §5.3: `If-Modified-Since` (UTC, to the second) lists only the records whose
/// `UpdatedDateUTC` is after it; a payment updates its invoice, so the invoice shows again.
#[tokio::test]
async fn if_modified_since_lists_only_records_updated_after_it() {
    let xero = Harness::start(spec("")).await;
    let (access, _) = xero.connect().await;
    // 2026-10-31T23:00:00Z.
    let early = authorised_bill(&xero, &access, "AUTHORISED").await;
    xero.advance(10).await;
    // 2026-10-31T23:10:00Z.
    let late = authorised_bill(&xero, &access, "SUBMITTED").await;
    let ids = |got: &Got| -> Vec<String> {
        got.json["Invoices"]
            .as_array()
            .expect("Invoices")
            .iter()
            .map(|invoice| text(&invoice["InvoiceID"]))
            .collect()
    };
    let invoices = "/api.xro/2.0/Invoices";
    for since in ["2026-10-31T23:00:00", "Sat, 31 Oct 2026 23:00:00 GMT"] {
        let got = list_since(&xero, invoices, &access, since).await;
        assert_eq!(got.status, 200, "{since}");
        assert_eq!(ids(&got), std::slice::from_ref(&late), "{since}");
    }
    // To the second: a record updated at the header's second is not after it.
    let same = list_since(&xero, invoices, &access, "2026-10-31T23:10:00").await;
    assert_eq!(ids(&same), Vec::<String>::new());
    let before = list_since(&xero, invoices, &access, "2026-10-31T22:59:59").await;
    assert_eq!(ids(&before), [early.clone(), late.clone()]);

    xero.advance(5).await;
    let paid = xero
        .put(
            "Payments",
            &access,
            json!([payment(&early, "1", "2026-11-01")]),
        )
        .await;
    assert_eq!(paid.status, 200, "{}", paid.json);
    let after_payment = list_since(&xero, invoices, &access, "2026-10-31T23:10:00").await;
    assert_eq!(ids(&after_payment), [early]);
    let payments = list_since(
        &xero,
        "/api.xro/2.0/Payments",
        &access,
        "2026-10-31T23:10:00",
    )
    .await;
    assert_eq!(payments.json["Payments"].as_array().map(Vec::len), Some(1));
}

/// `POST /Invoices/{id}` updates an invoice (the catalog documents no update rules; see
/// docs/providers/xero.md): given fields replace the invoice's, totals are recomputed
/// [XERO-RESEARCH] §7.14 with what is paid kept, `UpdatedDateUTC` moves (so
/// `If-Modified-Since` sees it, §5.3), the lock date still applies (§7.12), and a paid invoice,
/// a total below what is paid and an unknown id are refused.
#[tokio::test]
async fn invoices_are_updated_in_place_and_their_totals_recomputed() {
    let xero = Harness::start(spec_with("      period_lock_date: 2026-09-30\n", "")).await;
    let (access, _) = xero.connect().await;
    let invoice = authorised_bill(&xero, &access, "AUTHORISED").await;
    let path = format!("/api.xro/2.0/Invoices/{invoice}");
    let update = |fields: Value| Some(json!({ "Invoices": [fields] }));
    xero.advance(5).await;

    let due = xero
        .api(
            "POST",
            &path,
            &access,
            update(json!({ "DueDate": "2026-12-01" })),
        )
        .await;
    assert_eq!(due.status, 200, "{}", due.json);
    let updated = &due.json["Invoices"][0];
    assert_eq!(updated["DueDate"], "/Date(1796083200000+0000)/");
    assert_eq!(updated["DueDateString"], "2026-12-01T00:00:00");
    assert_eq!(updated["InvoiceNumber"], "BILL-AUTHORISED");
    // 2026-10-31T23:05:00Z.
    assert_eq!(updated["UpdatedDateUTC"], "/Date(1793487900000+0000)/");
    let kept = &xero.provider_state().await["invoices"][0];
    assert_eq!(kept["DueDate"], "2026-12-01");
    assert_eq!(kept["UpdatedDateUTC"], updated["UpdatedDateUTC"]);
    assert_eq!(kept["Total"], updated["Total"]);
    let since = list_since(
        &xero,
        "/api.xro/2.0/Invoices",
        &access,
        "2026-10-31T23:04:59",
    )
    .await;
    assert_eq!(since.json["Invoices"].as_array().map(Vec::len), Some(1));

    let paid = xero
        .put(
            "Payments",
            &access,
            json!([payment(&invoice, "30", "2026-11-01")]),
        )
        .await;
    assert_eq!(paid.status, 200, "{}", paid.json);
    let lines =
        |amount: &str| json!({ "LineItems": [{ "UnitAmount": amount, "AccountCode": "429" }] });
    let smaller = xero.api("POST", &path, &access, update(lines("50"))).await;
    assert_eq!(smaller.status, 200, "{}", smaller.json);
    assert_eq!(smaller.json["Invoices"][0]["Total"], json!(50));
    assert_eq!(smaller.json["Invoices"][0]["AmountPaid"], json!(30));
    assert_eq!(smaller.json["Invoices"][0]["AmountDue"], json!(20));

    let refusals = [
        (
            lines("29.99"),
            "The invoice total (29.99) cannot be less than the amount already paid (30)",
        ),
        (
            json!({ "Date": "2026-09-30" }),
            "The document date cannot be before the period lock date",
        ),
    ];
    for (fields, message) in refusals {
        let refused = xero
            .api("POST", &path, &access, update(fields.clone()))
            .await;
        assert_eq!(refused.status, 400, "{fields}");
        assert_eq!(refused.json["Type"], "ValidationException");
        assert_eq!(
            refused.json["Elements"][0]["ValidationErrors"][0]["Message"], message,
            "{fields}"
        );
    }
    assert_eq!(
        xero.provider_state().await["invoices"][0]["Total"],
        json!(50)
    );

    let rest = xero
        .put(
            "Payments",
            &access,
            json!([payment(&invoice, "20", "2026-11-01")]),
        )
        .await;
    assert_eq!(rest.status, 200, "{}", rest.json);
    let locked = xero
        .api("POST", &path, &access, update(json!({ "Reference": "x" })))
        .await;
    assert_eq!(locked.status, 400);
    assert_eq!(
        locked.json["Elements"][0]["ValidationErrors"][0]["Message"],
        "A paid invoice cannot be edited"
    );
    let unknown = xero
        .api(
            "POST",
            "/api.xro/2.0/Invoices/00000000-0000-4000-8000-000000000000",
            &access,
            update(json!({ "Reference": "x" })),
        )
        .await;
    assert_eq!(unknown.status, 404);
}

/// `with.contacts` seeds the organisation's contacts (reenact's setting): they are listed with
/// generated ids, an archived one refuses invoices (catalog X-08) and a reset seeds them again
/// with the same ids.
#[tokio::test]
async fn seeded_contacts_are_there_from_the_start_and_after_a_reset() {
    let contacts = "      contacts:\n        - { name: Office Supplies Ltd }\n        - { name: Defunct Traders, status: ARCHIVED }\n";
    let xero = Harness::start(spec_with(contacts, "")).await;
    let seeded = xero.provider_state().await["contacts"].clone();
    let names: Vec<(String, String)> = seeded
        .as_array()
        .expect("contacts")
        .iter()
        .map(|c| (text(&c["Name"]), text(&c["ContactStatus"])))
        .collect();
    assert_eq!(
        names,
        [
            ("Office Supplies Ltd".to_owned(), "ACTIVE".to_owned()),
            ("Defunct Traders".to_owned(), "ARCHIVED".to_owned())
        ]
    );
    let (access, _) = xero.connect().await;
    let listed = xero
        .api("GET", "/api.xro/2.0/Contacts", &access, None)
        .await;
    assert_eq!(listed.json["Contacts"], seeded);
    let archived = text(&seeded[1]["ContactID"]);
    let refused = xero
        .put(
            "Invoices",
            &access,
            json!([{ "Type": "ACCPAY", "Contact": { "ContactID": archived } }]),
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.json);
    xero.control.reset().await.expect("reset");
    assert_eq!(xero.provider_state().await["contacts"], seeded);
}

/// A payment whose answer is lost (a `commit_then` fault on `PUT /Payments`) and retried under
/// the same `Idempotency-Key` within 6 minutes [XERO-RESEARCH] §5.4 pays once; retried under a
/// new key, the second payment is refused as more than is due (reenact's rule), so the invoice
/// is never paid twice.
#[tokio::test]
async fn a_lost_payment_answer_retried_under_its_key_pays_once() {
    let xero = Harness::start(spec(
        "    faults:\n      - when: { method: PUT, path: /api.xro/2.0/Payments }\n        nth: 1\n        action: { commit_then: { status: 504 } }\n",
    ))
    .await;
    let (access, _) = xero.connect().await;
    let invoice = authorised_bill(&xero, &access, "AUTHORISED").await;
    let pay = |key: &str| {
        xero.http
            .put(format!("{}/api.xro/2.0/Payments", xero.server.url()))
            .bearer_auth(&access)
            .header("xero-tenant-id", TENANT)
            .header("Idempotency-Key", key)
            .json(&json!({ "Payments": [payment(&invoice, "100", "2026-11-01")] }))
    };
    let lost = xero.send(pay("pay-bill-1")).await;
    assert_eq!(lost.status, 504);
    let replayed = xero.send(pay("pay-bill-1")).await;
    assert_eq!(replayed.status, 200, "{}", replayed.json);
    let state = xero.provider_state().await;
    assert_eq!(state["payments"].as_array().map(Vec::len), Some(1));
    let mut answered = replayed.json["Payments"][0].clone();
    assert_eq!(answered["Date"], "/Date(1793491200000+0000)/");
    answered["Date"] = json!("2026-11-01");
    answered
        .as_object_mut()
        .map(|fields| fields.remove("DateString"));
    assert_eq!(answered, state["payments"][0]);
    assert_eq!(state["invoices"][0]["Status"], "PAID");

    let new_key = xero.send(pay("pay-bill-2")).await;
    assert_eq!(new_key.status, 400);
    assert_eq!(xero.stored("payments").await, Some(1));
}

/// xero-python's refresh passes the token answer to `update_token(**answer)`: `scope` is required
/// and no other field is allowed (xero-python's recorded refresh answer). The identity paths are
/// served as `/Connections` too (`xero-identity.yaml`, xero-python `identity_api.py`).
#[tokio::test]
async fn token_answers_carry_scope_and_connections_has_a_capital_c() {
    let xero = Harness::start(spec("")).await;
    let got = xero
        .token(&[("grant_type", "authorization_code"), ("code", "code-1")])
        .await;
    assert_eq!(got.status, 200);
    let mut fields: Vec<&str> = got
        .json
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "access_token",
            "expires_in",
            "refresh_token",
            "scope",
            "token_type"
        ]
    );
    let scope = "offline_access accounting.transactions accounting.contacts accounting.settings";
    assert_eq!(got.json["scope"], scope);
    let refresh = text(&got.json["refresh_token"]);
    let refreshed = xero
        .token(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
        .await;
    assert_eq!(refreshed.status, 200);
    assert_eq!(refreshed.json["scope"], scope);

    let access = text(&refreshed.json["access_token"]);
    let url = format!("{}/Connections", xero.server.url());
    let listed = xero.send(xero.http.get(url).bearer_auth(&access)).await;
    assert_eq!(listed.status, 200, "{}", listed.json);
    assert_eq!(listed.json[0]["tenantId"], TENANT);
    let id = text(&listed.json[0]["id"]);
    let url = format!("{}/Connections/{id}", xero.server.url());
    let gone = xero.send(xero.http.delete(url).bearer_auth(&access)).await;
    assert_eq!(gone.status, 204);
    assert_eq!(xero.connections(&access).await.json, json!([]));
}

/// Xero-OpenAPI `getInvoice` example: the envelope `Id`, `Status: OK`, `ProviderName` and
/// `DateTimeUTC` (`/Date(ms)/`, no offset); `Date`/`DueDate` as `/Date(ms+0000)/` with
/// `DateString`/`DueDateString`, whether the client sent `YYYY-MM-DD` or MS-JSON without an
/// offset (as xero-python does).
#[tokio::test]
async fn answers_have_the_envelope_and_ms_json_dates_with_their_strings() {
    let xero = Harness::start(spec("")).await;
    let (access, _) = xero.connect().await;
    let invoice = json!([{ "Type": "ACCREC", "Contact": { "Name": "A" },
        "Date": "/Date(1793577600000)/", "DueDate": "2026-11-30" }]);
    let made = xero.put("Invoices", &access, invoice).await;
    assert_eq!(made.status, 200, "{}", made.json);
    let id = text(&made.json["Invoices"][0]["InvoiceID"]);
    let got = xero
        .api("GET", &format!("/api.xro/2.0/Invoices/{id}"), &access, None)
        .await;
    assert_eq!(got.status, 200);
    assert_eq!(text(&got.json["Id"]).len(), 36);
    assert_ne!(got.json["Id"], made.json["Id"], "one Id per answer");
    assert_eq!(got.json["Status"], "OK");
    assert_eq!(got.json["ProviderName"], "reenact");
    // 2026-10-31T23:00:00Z, the virtual clock.
    assert_eq!(got.json["DateTimeUTC"], "/Date(1793487600000)/");
    let record = &got.json["Invoices"][0];
    assert_eq!(record["Date"], "/Date(1793577600000+0000)/");
    assert_eq!(record["DateString"], "2026-11-02T00:00:00");
    assert_eq!(record["DueDate"], "/Date(1795996800000+0000)/");
    assert_eq!(record["DueDateString"], "2026-11-30T00:00:00");
    let listed = xero
        .api("GET", "/api.xro/2.0/Invoices", &access, None)
        .await;
    assert_eq!(listed.json["Status"], "OK");
    assert_eq!(listed.json["Invoices"][0]["Date"], record["Date"]);
}

/// xero-python sends `If-Modified-Since` as `datetime.isoformat()`, with its offset (and
/// Xero-OpenAPI's `ifModifiedSince` example is `2020-02-06T12:17:43.202-08:00`): the offset is
/// read, not cut off.
#[tokio::test]
async fn if_modified_since_is_read_with_its_offset() {
    let xero = Harness::start(spec("")).await;
    let (access, _) = xero.connect().await;
    let made = xero
        .put(
            "Contacts",
            &access,
            json!([{ "Name": "Made at 23:00 UTC" }]),
        )
        .await;
    assert_eq!(made.status, 200);
    let listed = |since: &'static str| {
        let xero = &xero;
        let access = access.clone();
        async move {
            let url = format!("{}/api.xro/2.0/Contacts", xero.server.url());
            let request = xero
                .http
                .get(url)
                .bearer_auth(&access)
                .header("xero-tenant-id", TENANT)
                .header("If-Modified-Since", since);
            xero.send(request).await.json["Contacts"]
                .as_array()
                .map(Vec::len)
        }
    };
    // 00:30 at +02:00 is 22:30 UTC: before the contact.
    assert_eq!(listed("2026-11-01T00:30:00+02:00").await, Some(1));
    assert_eq!(listed("2026-11-01T00:30:00.123456+02:00").await, Some(1));
    // 16:00 at -08:00 is 00:00 UTC the next day: after it.
    assert_eq!(listed("2026-10-31T16:00:00-08:00").await, Some(0));
    assert_eq!(listed("2026-10-31T22:59:59+00:00").await, Some(1));
    assert_eq!(listed("2026-10-31T23:00:00Z").await, Some(0));
}

/// Xero-OpenAPI `getOrganisations`: `GET /Organisation` answers the tenant's organisation with
/// its lock dates as MS-JSON, a base currency and a time zone of the OpenAPI's enums.
#[tokio::test]
async fn organisation_names_the_tenant_and_its_lock_dates() {
    let xero = Harness::start(spec_with(
        "      period_lock_date: 2026-09-30\n      currencies: [NZD, GBP]\n",
        "",
    ))
    .await;
    let (access, _) = xero.connect().await;
    let got = xero
        .api("GET", "/api.xro/2.0/Organisation", &access, None)
        .await;
    assert_eq!(got.status, 200, "{}", got.json);
    assert_eq!(got.json["Status"], "OK");
    let organisation = &got.json["Organisations"][0];
    assert_eq!(organisation["OrganisationID"], TENANT);
    assert_eq!(organisation["Name"], "Acme Corp");
    assert_eq!(organisation["BaseCurrency"], "NZD");
    assert_eq!(organisation["Timezone"], "UTC");
    assert_eq!(organisation["PeriodLockDate"], "/Date(1790726400000+0000)/");
    assert!(organisation.get("EndOfYearLockDate").is_none());
    let unauthorised = xero
        .api("GET", "/api.xro/2.0/Organisation", "forged", None)
        .await;
    assert_eq!(unauthorised.status, 401);
}

/// Xero-OpenAPI: "Invoice # must be unique." for a sales invoice (`ACCREC`: "Unique alpha numeric
/// code identifying invoice"); bills (`ACCPAY`) may repeat a number (xeroizer #125); an update
/// keeps its own number.
#[tokio::test]
async fn sales_invoice_numbers_are_unique_and_bill_numbers_are_not() {
    let xero = Harness::start(spec("")).await;
    let (access, _) = xero.connect().await;
    let invoice = |kind: &str| json!([{ "Type": kind, "InvoiceNumber": "INV-1", "Contact": { "Name": "A" } }]);
    let first = xero.put("Invoices", &access, invoice("ACCREC")).await;
    assert_eq!(first.status, 200);
    let again = xero.put("Invoices", &access, invoice("ACCREC")).await;
    assert_eq!(again.status, 400);
    assert_eq!(again.json["Type"], "ValidationException");
    assert_eq!(
        again.json["Elements"][0]["ValidationErrors"][0]["Message"],
        "Invoice # must be unique."
    );
    for _ in 0..2 {
        let bill = xero.put("Invoices", &access, invoice("ACCPAY")).await;
        assert_eq!(bill.status, 200, "{}", bill.json);
    }
    let id = text(&first.json["Invoices"][0]["InvoiceID"]);
    let update = json!({ "Invoices": [{ "InvoiceNumber": "INV-1", "Reference": "R" }] });
    let updated = xero
        .api(
            "POST",
            &format!("/api.xro/2.0/Invoices/{id}"),
            &access,
            Some(update),
        )
        .await;
    assert_eq!(updated.status, 200, "{}", updated.json);
    assert_eq!(xero.stored("invoices").await, Some(3));
}

/// Xero-OpenAPI `createContacts` 400: a name already held by an active contact is refused with
/// Xero's message; an archived contact's name may be taken again.
#[tokio::test]
async fn contact_names_are_unique_among_active_contacts() {
    let xero = Harness::start(spec_with(
        "      contacts:\n        - { name: Buzz Lightyear }\n        - { name: Woody, status: ARCHIVED }\n",
        "",
    ))
    .await;
    let (access, _) = xero.connect().await;
    let taken = xero
        .put("Contacts", &access, json!([{ "Name": "Buzz Lightyear" }]))
        .await;
    assert_eq!(taken.status, 400);
    assert_eq!(taken.json["ErrorNumber"], 10);
    assert_eq!(
        taken.json["Elements"][0]["ValidationErrors"][0]["Message"],
        "The contact name Buzz Lightyear is already assigned to another contact. The contact name must be unique across all active contacts."
    );
    let archived_name = xero
        .put("Contacts", &access, json!([{ "Name": "Woody" }]))
        .await;
    assert_eq!(archived_name.status, 200, "{}", archived_name.json);
    assert_eq!(xero.stored("contacts").await, Some(3));
}
