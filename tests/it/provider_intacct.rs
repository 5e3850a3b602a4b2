//! Conformance tests of `provider: intacct` against `domain-catalog.md` §3.1–3.2: a mock loaded
//! from YAML as a scenario declares it, served by a real [`MockServer`] on loopback, driven by a
//! real HTTP client with XML request envelopes; answers are read with an XML parser and XPath
//! (not by searching text), and time moves through the control API's virtual clock.
//!
//! Each test names the catalog fact it checks (source tag in brackets).

use std::time::Duration;

use crate::support::{self, load_mock};
use reenact::scenario::model::MockSpec;
use serde_json::Value;

const PATH: &str = "/ia/xml/xmlgw.phtml";
const LOGIN: &str = "<login><userid>ws-export</userid><companyid>acme-ltd</companyid><password>user-pass</password></login>";

/// A mock `intacct` with one sender and company, plus `with` (YAML lines under `with:`) and
/// `extra` (YAML lines at mock level).
fn spec(with: &str, extra: &str) -> MockSpec {
    load_mock(&format!(
        "id: intacct\ntitle: intacct\nmocks:\n  intacct:\n    provider: intacct\n    with:\n      sender: {{ id: acme-sender, password: sender-pass }}\n      companies:\n        - id: acme-ltd\n          users: [{{ id: ws-export, password: user-pass }}]\n          entities: [US-EAST]\n{with}{extra}flow:\n  - request: {{ method: GET, path: / }}\n"
    ))
}

/// What a request got: status, content type, body text.
struct Got {
    status: u16,
    content_type: String,
    body: String,
}

impl Got {
    /// The string value of XPath `path` over the body (which must be XML).
    fn x(&self, path: &str) -> String {
        let package = sxd_document::parser::parse(&self.body)
            .unwrap_or_else(|e| panic!("not XML ({e}):\n{}", self.body));
        let document = package.as_document();
        sxd_xpath::evaluate_xpath(&document, path)
            .unwrap_or_else(|e| panic!("xpath {path}: {e:?}"))
            .string()
    }

    /// `count(path)`.
    fn count(&self, path: &str) -> usize {
        self.x(&format!("count({path})")).parse().expect("a count")
    }
}

/// A `<request>` envelope: `control` is extra `<control>` children, `auth` the inside of
/// `<authentication>`, `functions` the inside of `<content>`.
fn envelope(control: &str, transaction: bool, auth: &str, functions: &str) -> String {
    let transaction = if transaction {
        " transaction=\"true\""
    } else {
        ""
    };
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<request>
  <control><senderid>acme-sender</senderid><password>sender-pass</password><controlid>req-1</controlid>{control}<dtdversion>3.0</dtdversion></control>
  <operation{transaction}><authentication>{auth}</authentication><content>{functions}</content></operation>
</request>"#
    )
}

fn vendor(controlid: &str, id: &str) -> String {
    format!(
        "<function controlid=\"{controlid}\"><create><VENDOR><VENDORID>{id}</VENDORID><NAME>Vendor {id}</NAME></VENDOR></create></function>"
    )
}

fn bill(controlid: &str, vendor: &str) -> String {
    format!(
        "<function controlid=\"{controlid}\"><create><APBILL><VENDORID>{vendor}</VENDORID><RECORDID>INV-{controlid}</RECORDID><APBILLITEMS><APBILLITEM><ACCOUNTNO>6000</ACCOUNTNO><TRX_AMOUNT>12.50</TRX_AMOUNT></APBILLITEM></APBILLITEMS></APBILL></create></function>"
    )
}

/// The Intacct requests of the shared harness.
enum Intacct {}
type Harness = support::Harness<Intacct>;

impl Harness {
    async fn post_as(&self, content_type: &str, body: String) -> Got {
        let response = self
            .http
            .post(format!("{}{PATH}", self.server.url()))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("request reaches the mock");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().expect("ascii").to_owned())
            .unwrap_or_default();
        let body = response.text().await.expect("body");
        Got {
            status,
            content_type,
            body,
        }
    }

    async fn post(&self, body: String) -> Got {
        self.post_as("x-intacct-xml-request", body).await
    }

    async fn login(&self, functions: &str) -> Got {
        self.post(envelope("", false, LOGIN, functions)).await
    }

    async fn advance(&self, minutes: u64) {
        self.advance_by(Duration::from_secs(minutes * 60)).await;
    }

    async fn provider_state(&self) -> Value {
        self.state_of("intacct").await
    }
}

/// [INTACCT-REQUESTS], [INTACCT-SDK-PHP] `ResultExceptionTest`: a request with a `<login>` runs
/// its function; the answer echoes the control block, says who signed in, and has one `<result>`
/// per function with `status`, `function`, `controlid` and `data`.
#[tokio::test]
async fn a_login_request_answers_every_layer_with_success() {
    let intacct = Harness::start(spec("", "")).await;
    let got = intacct.login(&vendor("f-1", "V-100")).await;
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(got.content_type, "text/xml; charset=UTF-8");
    assert_eq!(got.x("/response/control/status"), "success");
    assert_eq!(got.x("/response/control/senderid"), "acme-sender");
    assert_eq!(got.x("/response/control/controlid"), "req-1");
    assert_eq!(got.x("/response/control/uniqueid"), "false");
    assert_eq!(got.x("/response/control/dtdversion"), "3.0");
    assert_eq!(got.count("/response/errormessage"), 0);
    let auth = "/response/operation/authentication";
    assert_eq!(got.x(&format!("{auth}/status")), "success");
    assert_eq!(got.x(&format!("{auth}/userid")), "ws-export");
    assert_eq!(got.x(&format!("{auth}/companyid")), "acme-ltd");
    // The SDKs' fixtures: `locationid`, then timestamps with an offset, `sessiontimeout` the
    // time plus the session lifetime (default 1h).
    assert_eq!(got.x(&format!("{auth}/locationid")), "");
    assert_eq!(got.count(&format!("{auth}/locationid")), 1);
    assert_eq!(
        got.x(&format!("{auth}/sessiontimestamp")),
        "2026-10-31T23:00:00+00:00"
    );
    assert_eq!(
        got.x(&format!("{auth}/sessiontimeout")),
        "2026-11-01T00:00:00+00:00"
    );
    assert_eq!(got.count("/response/operation/result"), 1);
    let result = "/response/operation/result";
    assert_eq!(got.x(&format!("{result}/status")), "success");
    assert_eq!(got.x(&format!("{result}/function")), "create");
    assert_eq!(got.x(&format!("{result}/controlid")), "f-1");
    assert_eq!(got.x(&format!("{result}/data/vendor/RECORDNO")), "1");
    assert_eq!(got.x(&format!("{result}/data/vendor/VENDORID")), "V-100");
    // The password of the sender never comes back.
    assert_eq!(got.count("//password"), 0);

    let state = intacct.provider_state().await;
    let vendors = state["vendors"].as_array().expect("vendors");
    assert_eq!(vendors.len(), 1);
    assert_eq!(vendors[0]["VENDORID"], "V-100");
    assert_eq!(vendors[0]["RECORDNO"], "1");
    assert_eq!(vendors[0]["company"], "acme-ltd");
    // "Parameter Formats": timestamps as MM/DD/YYYY HH:MM:SS.
    assert_eq!(vendors[0]["WHENCREATED"], "10/31/2026 23:00:00");
    assert_eq!(vendors[0]["WHENMODIFIED"], "10/31/2026 23:00:00");
}

/// [INTACCT-SDK-PHP] `RequestHandlerTest`: `getAPISession` returns a `<sessionid>` and the
/// `<endpoint>` to use; a session authenticates later requests until it lapses on the virtual
/// clock (lifetime from the settings, counted from last use: reenact's choice), then the
/// authentication layer fails and no function runs [INTACCT-ERRORS].
#[tokio::test]
async fn api_sessions_carry_an_endpoint_and_lapse_on_the_virtual_clock() {
    let intacct = Harness::start(spec("      session_lifetime: 30m\n", "")).await;
    let got = intacct
        .login("<function controlid=\"s\"><getAPISession/></function>")
        .await;
    assert_eq!(got.x("/response/operation/result/status"), "success");
    let session = got.x("/response/operation/result/data/api/sessionid");
    assert!(!session.is_empty(), "{}", got.body);
    assert_eq!(
        got.x("/response/operation/result/data/api/endpoint"),
        format!("{}{PATH}", intacct.server.url())
    );
    let with_session = |functions: &str| {
        envelope(
            "",
            false,
            &format!("<sessionid>{session}</sessionid>"),
            functions,
        )
    };

    intacct.advance(29).await;
    let used = intacct.post(with_session(&vendor("f", "V-1"))).await;
    assert_eq!(
        used.x("/response/operation/authentication/status"),
        "success"
    );
    assert_eq!(used.x("/response/operation/result/status"), "success");

    // 29 more minutes since its last use: still alive; then 31 minutes of idleness end it.
    intacct.advance(29).await;
    let again = intacct.post(with_session(&vendor("f", "V-2"))).await;
    assert_eq!(again.x("/response/operation/result/status"), "success");
    intacct.advance(31).await;
    let lapsed = intacct.post(with_session(&vendor("f", "V-3"))).await;
    assert_eq!(lapsed.status, 200);
    assert_eq!(lapsed.x("/response/control/status"), "success");
    assert_eq!(
        lapsed.x("/response/operation/authentication/status"),
        "failure"
    );
    assert_eq!(lapsed.count("/response/operation/result"), 0);
    assert_eq!(
        lapsed.x("/response/operation/errormessage/error/errorno"),
        "REENACT-SIGN-IN"
    );

    let state = intacct.provider_state().await;
    assert_eq!(state["sessions"], serde_json::json!({ "issued": 1 }));
    assert_eq!(state["vendors"].as_array().map(Vec::len), Some(2));
    assert!(
        !state.to_string().contains(&session),
        "the state shows no session id"
    );
}

/// [INTACCT-ERRORS] layer 3, catalog I-01: without `transaction="true"` only the failing function
/// fails; the others are saved, and the control status stays `success`.
#[tokio::test]
async fn functions_fail_alone_without_a_transaction() {
    let intacct = Harness::start(spec("", "")).await;
    let functions = format!(
        "{}{}{}",
        vendor("vendor", "V-1"),
        bill("bill-bad", "V-404"),
        bill("bill-ok", "V-1")
    );
    let got = intacct.login(&functions).await;
    assert_eq!(got.x("/response/control/status"), "success");
    assert_eq!(got.count("/response/operation/result"), 3);
    let result = |n: usize, part: &str| got.x(&format!("/response/operation/result[{n}]/{part}"));
    assert_eq!(result(1, "status"), "success");
    assert_eq!(result(2, "status"), "failure");
    assert_eq!(result(2, "controlid"), "bill-bad");
    assert_eq!(result(2, "function"), "create");
    assert_eq!(result(2, "errormessage/error/errorno"), "REENACT-NOT-FOUND");
    assert!(!result(2, "errormessage/error/description2").is_empty());
    assert_eq!(got.count("/response/operation/result[2]/data"), 0);
    for part in ["description", "description2", "correction"] {
        assert_eq!(
            got.count(&format!(
                "/response/operation/result[2]/errormessage/error/{part}"
            )),
            1,
            "{part}"
        );
    }
    assert_eq!(result(3, "status"), "success");
    assert_eq!(result(3, "data/apbill/RECORDNO"), "1");

    let state = intacct.provider_state().await;
    assert_eq!(state["vendors"].as_array().map(Vec::len), Some(1));
    let bills = state["bills"].as_array().expect("bills");
    assert_eq!(bills.len(), 1);
    assert_eq!(bills[0]["RECORDID"], "INV-bill-ok");
    assert_eq!(
        bills[0]["APBILLITEMS"]["APBILLITEM"]["TRX_AMOUNT"], "12.50",
        "nested fields are kept"
    );
}

/// [INTACCT-SDK-PHP] `OperationBlockTest`: `transaction="true"` is all-or-nothing. The failing
/// function says `failure` with its own error then `XL03000009`; the others say `aborted` with
/// `XL03000009` alone (intacct-sdk-php `OnlineClientTest::testExecuteBatchTransactionResultException`).
#[tokio::test]
async fn a_transaction_rolls_back_every_function_when_one_fails() {
    let intacct = Harness::start(spec("", "")).await;
    let functions = format!(
        "{}{}{}",
        vendor("vendor", "V-1"),
        bill("bill-bad", "V-404"),
        bill("bill-ok", "V-1")
    );
    let got = intacct.post(envelope("", true, LOGIN, &functions)).await;
    assert_eq!(got.x("/response/control/status"), "success");
    let errorno = |n: usize| {
        got.x(&format!(
            "/response/operation/result[{n}]/errormessage/error/errorno"
        ))
    };
    let status = |n: usize| got.x(&format!("/response/operation/result[{n}]/status"));
    assert_eq!(
        [status(1), status(2), status(3)],
        ["aborted", "failure", "aborted"]
    );
    let errors = |n: usize| {
        got.count(&format!(
            "/response/operation/result[{n}]/errormessage/error"
        ))
    };
    assert_eq!([errors(1), errors(2), errors(3)], [1, 2, 1]);
    assert_eq!(errorno(1), "XL03000009");
    assert_eq!(errorno(2), "REENACT-NOT-FOUND");
    assert_eq!(
        got.x("/response/operation/result[2]/errormessage/error[2]/errorno"),
        "XL03000009"
    );
    assert_eq!(
        got.x("/response/operation/result[3]/errormessage/error/description2"),
        "The entire transaction in this operation has been rolled back due to an error."
    );
    assert_eq!(
        got.x("/response/operation/result[3]/errormessage/error/description"),
        ""
    );
    let state = intacct.provider_state().await;
    assert_eq!(state["vendors"], serde_json::json!([]));
    assert_eq!(state["bills"], serde_json::json!([]));

    // The same functions in a transaction that succeeds are all saved.
    let ok = format!("{}{}", vendor("vendor", "V-1"), bill("bill-ok", "V-1"));
    let got = intacct.post(envelope("", true, LOGIN, &ok)).await;
    assert_eq!(got.count("/response/operation/result[status='success']"), 2);
    let state = intacct.provider_state().await;
    assert_eq!(state["bills"].as_array().map(Vec::len), Some(1));
}

/// [INTACCT-ERRORS] layer 1: a body that is not XML, or not the envelope, fails at control level
/// with `XL03000003` "XML Parse schema error … [Support ID: …]"; nothing runs.
#[tokio::test]
async fn xml_errors_fail_at_control_level_with_xl03000003() {
    let intacct = Harness::start(spec("", "")).await;
    let broken = intacct.post("<request><control>".to_owned()).await;
    assert_eq!(broken.status, 200);
    assert_eq!(broken.x("/response/control/status"), "failure");
    assert_eq!(
        broken.x("/response/errormessage/error/errorno"),
        "XL03000003"
    );
    // Intacct's "Error handling" page: empty description, the text in description2.
    assert_eq!(broken.x("/response/errormessage/error/description"), "");
    let text = broken.x("/response/errormessage/error/description2");
    assert!(
        text.starts_with("XML Parse schema error: the body is not XML: ")
            && text.contains(" [Support ID: ")
            && text.ends_with(']'),
        "{}",
        broken.body
    );
    assert_eq!(broken.x("/response/errormessage/error/correction"), "");
    assert_eq!(broken.count("/response/operation"), 0);

    let old_dtd = envelope("", false, LOGIN, &vendor("f", "V-1")).replace("3.0", "2.1");
    let got = intacct.post(old_dtd).await;
    assert_eq!(got.x("/response/control/status"), "failure");
    assert_eq!(got.x("/response/control/controlid"), "req-1");
    assert_eq!(got.x("/response/errormessage/error/errorno"), "XL03000003");

    let no_controlid = envelope("", false, LOGIN, "<function><create/></function>");
    let got = intacct.post(no_controlid).await;
    assert_eq!(got.x("/response/errormessage/error/errorno"), "XL03000003");
    let state = intacct.provider_state().await;
    assert_eq!(state["vendors"], serde_json::json!([]));
}

/// A wrong sender password fails every call at control level with `XL03000006` "Incorrect
/// Intacct XML Partner ID or password. [Support ID: …]" (a real answer quoted by dmconsultant.co);
/// a company that has not authorised the sender fails its sign-in with `XL03000006` and the
/// texts of [INTACCT-FAQ], `userid` and `companyid` echoed.
#[tokio::test]
async fn unauthorised_senders_get_xl03000006() {
    let intacct = Harness::start(spec("", "")).await;
    let wrong = envelope("", false, LOGIN, &vendor("f", "V-1")).replace("sender-pass", "nope");
    let got = intacct.post(wrong).await;
    assert_eq!(got.x("/response/control/status"), "failure");
    assert_eq!(got.x("/response/errormessage/error/errorno"), "XL03000006");
    assert_eq!(got.x("/response/errormessage/error/description"), "");
    let text = got.x("/response/errormessage/error/description2");
    assert!(
        text.starts_with("Incorrect Intacct XML Partner ID or password. [Support ID: ")
            && text.ends_with(']'),
        "{text}"
    );
    assert_eq!(got.count("/response/operation"), 0);

    let closed = Harness::start(spec(
        "        - id: closed-co\n          users: [{ id: ws-export, password: user-pass }]\n          sender_authorized: false\n",
        "",
    ))
    .await;
    let login = LOGIN.replace("acme-ltd", "closed-co");
    let got = closed
        .post(envelope("", false, &login, &vendor("f", "V-1")))
        .await;
    assert_eq!(got.x("/response/control/status"), "success");
    assert_eq!(
        got.x("/response/operation/authentication/status"),
        "failure"
    );
    assert_eq!(
        got.x("/response/operation/errormessage/error/errorno"),
        "XL03000006"
    );
    let error = "/response/operation/errormessage/error";
    assert_eq!(
        got.x(&format!("{error}/description")),
        "Invalid Web Services Authorization"
    );
    assert_eq!(
        got.x(&format!("{error}/description2")),
        "The sender ID 'acme-sender' is not authorized to make Web Services requests to company ID 'closed-co'."
    );
    assert_eq!(
        got.x(&format!("{error}/correction")),
        "Contact the company administrator to grant Web Services authorization to this sender ID."
    );
    assert_eq!(
        got.x("/response/operation/authentication/companyid"),
        "closed-co"
    );
    assert_eq!(got.count("/response/operation/result"), 0);
}

/// Wrong user credentials fail the authentication layer with `XL03000006` "Sign-in information is
/// incorrect", `userid`/`companyid` echoed and an empty `locationid`; no function runs
/// [INTACCT-ERRORS], intacct-sdk-php `OnlineResponseTest::testAuthenticationFailure`.
#[tokio::test]
async fn a_wrong_password_fails_authentication_and_runs_nothing() {
    let intacct = Harness::start(spec("", "")).await;
    let login = LOGIN.replace("user-pass", "guess");
    let got = intacct
        .post(envelope("", false, &login, &vendor("f", "V-1")))
        .await;
    assert_eq!(
        got.x("/response/operation/authentication/status"),
        "failure"
    );
    assert_eq!(
        got.x("/response/operation/authentication/userid"),
        "ws-export"
    );
    assert_eq!(
        got.x("/response/operation/authentication/companyid"),
        "acme-ltd"
    );
    assert_eq!(
        got.count("/response/operation/authentication/locationid"),
        1
    );
    let error = "/response/operation/errormessage/error";
    assert_eq!(got.x(&format!("{error}/errorno")), "XL03000006");
    assert_eq!(got.x(&format!("{error}/description")), "");
    assert_eq!(
        got.x(&format!("{error}/description2")),
        "Sign-in information is incorrect"
    );
    assert_eq!(got.count("/response/operation/result"), 0);
    assert_eq!(
        intacct.provider_state().await["vendors"],
        serde_json::json!([])
    );
}

/// [INTACCT-REQUESTS]: with `uniqueid=true` a re-submitted control id fails instead of running
/// twice (at control level; the errorno is reenact's); with `false` it runs again.
#[tokio::test]
async fn uniqueid_refuses_a_resubmitted_control_id() {
    let intacct = Harness::start(spec("", "")).await;
    let once = envelope("<uniqueid>true</uniqueid>", false, LOGIN, &bill("b", "V-1"));
    let setup = intacct.login(&vendor("v", "V-1")).await;
    assert_eq!(setup.x("/response/operation/result/status"), "success");
    let first = intacct.post(once.clone()).await;
    assert_eq!(first.x("/response/control/uniqueid"), "true");
    assert_eq!(first.x("/response/operation/result/status"), "success");
    let replay = intacct.post(once).await;
    assert_eq!(replay.x("/response/control/status"), "failure");
    assert_eq!(
        replay.x("/response/errormessage/error/errorno"),
        "REENACT-CONTROLID-REUSED"
    );
    assert_eq!(replay.count("/response/operation"), 0);
    let state = intacct.provider_state().await;
    assert_eq!(state["bills"].as_array().map(Vec::len), Some(1));

    // Without uniqueid the same control id runs again (the setup's `req-1` is reused here).
    let again = intacct.login(&bill("b", "V-1")).await;
    assert_eq!(again.x("/response/operation/result/status"), "success");
    let state = intacct.provider_state().await;
    assert_eq!(state["bills"].as_array().map(Vec::len), Some(2));
}

/// Business rules at function level [INTACCT-ERRORS]: a duplicate `VENDORID` fails with
/// `BL34000061` "Another Vendor with the given value(s) … already exists [Support ID: …]", "Use a
/// unique value instead.", then `BL01001973` "Could not create vendor record!" (raw Intacct XML
/// in public code; Support ID per intacct-sdk-js issue #86).
#[tokio::test]
async fn a_duplicate_vendor_id_fails_its_function() {
    let intacct = Harness::start(spec("", "")).await;
    let got = intacct
        .login(&format!("{}{}", vendor("a", "V-1"), vendor("b", "V-1")))
        .await;
    assert_eq!(got.x("/response/operation/result[1]/status"), "success");
    assert_eq!(got.x("/response/operation/result[2]/status"), "failure");
    let error = |n: usize, part: &str| {
        got.x(&format!(
            "/response/operation/result[2]/errormessage/error[{n}]/{part}"
        ))
    };
    assert_eq!(error(1, "errorno"), "BL34000061");
    assert_eq!(error(1, "description"), "");
    let text = error(1, "description2");
    let support = text
        .strip_prefix("Another Vendor with the given value(s) V-1 already exists [Support ID: ")
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or_else(|| panic!("{text}"));
    // An opaque URL-encoded token like `BHF%401EB034%7EYhVWlP0o213-8KQW5T4tIQAAAB4`.
    assert_eq!(support.len(), 3 + 3 + 6 + 3 + 27, "{support}");
    assert_eq!(&support[3..6], "%40");
    assert_eq!(&support[12..15], "%7E");
    assert_eq!(error(1, "correction"), "Use a unique value instead.");
    assert_eq!(error(2, "errorno"), "BL01001973");
    assert_eq!(error(2, "description2"), "Could not create vendor record!");
}

/// `read` by `RECORDNO`; `readByQuery` with a field query and `pagesize` (1 to 1000, default
/// 100), paged by `readMore` with the answer's `resultId` until `numremaining="0"`; no `offset`
/// (Intacct API reference `readByQuery`; "Queries").
#[tokio::test]
async fn read_and_read_by_query_page_through_records() {
    let intacct = Harness::start(spec("", "")).await;
    let vendors: String = (1..=3).map(|n| vendor("v", &format!("V-{n}"))).collect();
    intacct.login(&vendors).await;

    let query = |inside: &str| {
        format!(
            "<function controlid=\"q\"><readByQuery><object>VENDOR</object><fields>*</fields>{inside}</readByQuery></function>"
        )
    };
    let first = intacct
        .login(&query("<query></query><pagesize>2</pagesize>"))
        .await;
    let data = "/response/operation/result/data";
    assert_eq!(first.x(&format!("{data}/@listtype")), "vendor");
    assert_eq!(first.x(&format!("{data}/@count")), "2");
    assert_eq!(first.x(&format!("{data}/@totalcount")), "3");
    assert_eq!(first.x(&format!("{data}/@numremaining")), "1");
    assert_eq!(first.x(&format!("{data}/vendor[2]/VENDORID")), "V-2");
    let result_id = first.x(&format!("{data}/@resultId"));
    assert!(!result_id.is_empty(), "{}", first.body);

    let more = format!(
        "<function controlid=\"m\"><readMore><resultId>{result_id}</resultId></readMore></function>"
    );
    let rest = intacct.login(&more).await;
    assert_eq!(rest.x("/response/operation/result/function"), "readMore");
    assert_eq!(rest.x(&format!("{data}/@count")), "1");
    assert_eq!(rest.x(&format!("{data}/@totalcount")), "3");
    assert_eq!(rest.x(&format!("{data}/@numremaining")), "0");
    assert_eq!(rest.x(&format!("{data}/vendor/VENDORID")), "V-3");
    // Read to its end, the result ID is gone.
    let gone = intacct.login(&more).await;
    assert_eq!(gone.x("/response/operation/result/status"), "failure");

    let offset = intacct
        .login(&query("<query/><pagesize>2</pagesize><offset>2</offset>"))
        .await;
    assert_eq!(offset.x("/response/operation/result/status"), "failure");
    let default = intacct.login(&query("<query/>")).await;
    assert_eq!(default.x(&format!("{data}/@count")), "3");
    assert_eq!(default.count(&format!("{data}/@resultId")), 0);

    let one = intacct
        .login(&query("<query>VENDORID = 'V-2'</query>"))
        .await;
    assert_eq!(one.x(&format!("{data}/@count")), "1");
    assert_eq!(one.x(&format!("{data}/vendor/NAME")), "Vendor V-2");

    for bad in ["1001", "0", "ten"] {
        let got = intacct
            .login(&query(&format!("<query/><pagesize>{bad}</pagesize>")))
            .await;
        assert_eq!(
            got.x("/response/operation/result/status"),
            "failure",
            "{bad}"
        );
        assert!(
            got.x("/response/operation/result/errormessage/error/description2")
                .contains("between 1 and 1000"),
            "{bad}"
        );
    }
    let most = intacct
        .login(&query("<query/><pagesize>1000</pagesize>"))
        .await;
    assert_eq!(most.x(&format!("{data}/@count")), "3");

    let read = intacct
        .login("<function controlid=\"r\"><read><object>VENDOR</object><keys>1,3</keys><fields>VENDORID</fields></read></function>")
        .await;
    assert_eq!(read.x(&format!("{data}/@count")), "2");
    assert_eq!(read.x(&format!("{data}/vendor[2]/VENDORID")), "V-3");
    assert_eq!(read.count(&format!("{data}/vendor[1]/NAME")), 0);
}

/// `update` of a bill by `RECORDNO` moves `WHENMODIFIED` on the virtual clock; `APPYMT` needs
/// existing bills.
#[tokio::test]
async fn updates_and_payments_follow_the_records() {
    let intacct = Harness::start(spec("", "")).await;
    intacct
        .login(&format!("{}{}", vendor("v", "V-1"), bill("b", "V-1")))
        .await;
    intacct.advance(90).await;
    let got = intacct
        .login("<function controlid=\"u\"><update><APBILL><RECORDNO>1</RECORDNO><WHENDUE>12/31/2026</WHENDUE></APBILL></update></function>")
        .await;
    assert_eq!(got.x("/response/operation/result/status"), "success");
    let payment = |key: &str| {
        format!(
            "<function controlid=\"p\"><create><APPYMT><VENDORID>V-1</VENDORID><APPYMTDETAILS><APPYMTDETAIL><RECORDKEY>{key}</RECORDKEY><TRX_PAYMENTAMOUNT>12.50</TRX_PAYMENTAMOUNT></APPYMTDETAIL></APPYMTDETAILS></APPYMT></create></function>"
        )
    };
    let paid = intacct.login(&payment("1")).await;
    assert_eq!(
        paid.x("/response/operation/result/data/appymt/RECORDNO"),
        "1"
    );
    let unknown = intacct.login(&payment("7")).await;
    assert_eq!(
        unknown.x("/response/operation/result/errormessage/error/errorno"),
        "REENACT-NOT-FOUND"
    );
    let state = intacct.provider_state().await;
    assert_eq!(state["bills"][0]["WHENDUE"], "12/31/2026");
    assert_eq!(state["bills"][0]["WHENCREATED"], "10/31/2026 23:00:00");
    assert_eq!(state["bills"][0]["WHENMODIFIED"], "11/01/2026 00:30:00");
    assert_eq!(state["payments"].as_array().map(Vec::len), Some(1));
}

/// [INTACCT-ERRORS] layer 2, [DMC-GW0010]: over the rate limit the gateway answers HTTP 429 with
/// `GW-0010`; an unknown content type is `GW-0011` "Invalid Request" (400: reenact's choice).
#[tokio::test]
async fn the_gateway_answers_gw_0010_with_429_and_gw_0011_for_other_content() {
    let intacct = Harness::start(spec("      rate_limits: { minute: 1 }\n", "")).await;
    let plain = intacct
        .post_as(
            "text/plain",
            envelope("", false, LOGIN, &vendor("f", "V-1")),
        )
        .await;
    assert_eq!(plain.status, 400);
    assert_eq!(plain.x("/response/errormessage/error/errorno"), "GW-0011");

    let xml = intacct
        .post_as(
            "application/xml; charset=UTF-8",
            envelope("", false, LOGIN, &vendor("f", "V-1")),
        )
        .await;
    assert_eq!(xml.status, 429, "the limit counted the first request");
    assert_eq!(xml.x("/response/errormessage/error/errorno"), "GW-0010");
    assert_eq!(xml.content_type, "text/xml; charset=UTF-8");
    intacct.advance(1).await;
    let later = intacct.login(&vendor("f", "V-1")).await;
    assert_eq!(later.status, 200);
    assert_eq!(later.x("/response/operation/result/status"), "success");
}

/// [INTACCT-ERRORS] layer 4, catalog I-02: a mock-level `commit_then` fault on the gateway path
/// runs the request (the vendor is saved) and answers HTTP 524 instead.
#[tokio::test]
async fn a_commit_then_524_saves_and_answers_the_gateway_error() {
    let intacct = Harness::start(spec(
        "",
        "    faults:\n      - when: { method: POST, path: /ia/xml/xmlgw.phtml }\n        nth: 1\n        action: { commit_then: { status: 524 } }\n",
    ))
    .await;
    let lost = intacct.login(&vendor("f", "V-1")).await;
    assert_eq!(lost.status, 524);
    let state = intacct.provider_state().await;
    assert_eq!(state["vendors"].as_array().map(Vec::len), Some(1));
    let retry = intacct.login(&vendor("f", "V-1")).await;
    assert_eq!(
        retry.x("/response/operation/result/errormessage/error/errorno"),
        "BL34000061"
    );
}

/// A `create GLBATCH` function: journal `GJ`, reference `reference`, and `lines` of
/// `(ACCOUNTNO, TR_TYPE, amount element, amount)`.
fn journal(controlid: &str, reference: &str, lines: &[(&str, &str, &str, &str)]) -> String {
    let entries: String = lines
        .iter()
        .map(|(account, side, element, amount)| {
            format!(
                "<GLENTRY><ACCOUNTNO>{account}</ACCOUNTNO><TR_TYPE>{side}</TR_TYPE><{element}>{amount}</{element}></GLENTRY>"
            )
        })
        .collect();
    format!(
        "<function controlid=\"{controlid}\"><create><GLBATCH><JOURNAL>GJ</JOURNAL><BATCH_DATE>11/30/2026</BATCH_DATE><BATCH_TITLE>Accrual {reference}</BATCH_TITLE><REFERENCENO>{reference}</REFERENCENO><ENTRIES>{entries}</ENTRIES></GLBATCH></create></function>"
    )
}

/// Balanced accrual lines: 1,234.50 + 0.05 debited, 1,234.55 credited.
const ACCRUAL: &[(&str, &str, &str, &str)] = &[
    ("6420", "1", "TRX_AMOUNT", "1234.50"),
    ("6430", "1", "AMOUNT", "0.05"),
    ("2100", "-1", "TRX_AMOUNT", "1234.55"),
];

/// Journal entries (`GLBATCH`, element names of the SDKs' journal entry create; the rules are
/// reenact's): a balanced entry is saved with `RECORDNO` and `WHENCREATED` on the virtual clock,
/// its lines as sent, and `read`/`readByQuery` return it.
#[tokio::test]
async fn a_balanced_journal_entry_is_saved_and_read_back() {
    let intacct = Harness::start(spec("", "")).await;
    let got = intacct.login(&journal("j-1", "ACCR-11", ACCRUAL)).await;
    assert_eq!(
        got.x("/response/operation/result/status"),
        "success",
        "{}",
        got.body
    );
    let data = "/response/operation/result/data";
    assert_eq!(got.x(&format!("{data}/glbatch/RECORDNO")), "1");
    intacct.login(&journal("j-2", "ACCR-12", ACCRUAL)).await;

    let state = intacct.provider_state().await;
    let journals = state["journals"].as_array().expect("journals");
    assert_eq!(journals.len(), 2);
    assert_eq!(journals[0]["RECORDNO"], "1");
    assert_eq!(journals[0]["JOURNAL"], "GJ");
    assert_eq!(journals[0]["BATCH_DATE"], "11/30/2026");
    assert_eq!(journals[0]["WHENCREATED"], "10/31/2026 23:00:00");
    assert_eq!(journals[0]["company"], "acme-ltd");
    assert_eq!(journals[0]["ENTRIES"]["GLENTRY"][2]["TR_TYPE"], "-1");
    assert_eq!(
        journals[0]["ENTRIES"]["GLENTRY"][2]["TRX_AMOUNT"],
        "1234.55"
    );

    let read = intacct
        .login("<function controlid=\"r\"><read><object>GLBATCH</object><keys>2</keys><fields>*</fields></read></function>")
        .await;
    assert_eq!(read.x(&format!("{data}/@listtype")), "glbatch");
    assert_eq!(read.x(&format!("{data}/glbatch/REFERENCENO")), "ACCR-12");
    assert_eq!(
        read.count(&format!("{data}/glbatch/ENTRIES/GLENTRY")),
        3,
        "{}",
        read.body
    );
    let query = intacct
        .login("<function controlid=\"q\"><readByQuery><object>GLBATCH</object><fields>RECORDNO</fields><query>REFERENCENO = 'ACCR-11'</query></readByQuery></function>")
        .await;
    assert_eq!(query.x(&format!("{data}/@totalcount")), "1");
    assert_eq!(query.x(&format!("{data}/glbatch/RECORDNO")), "1");
}

/// An entry whose debits and credits differ fails its function (content level
/// [INTACCT-ERRORS]; errorno and texts reenact's), amounts compared exactly (no float rounding:
/// 0.10 + 0.20 debited balances 0.30 credited, 0.01 off does not); bad lines fail as invalid;
/// nothing is saved; the other functions of the request still run.
#[tokio::test]
async fn an_unbalanced_or_malformed_journal_entry_fails_its_function() {
    let intacct = Harness::start(spec("", "")).await;
    let exact = &[
        ("6420", "1", "TRX_AMOUNT", "0.10"),
        ("6430", "1", "TRX_AMOUNT", "0.20"),
        ("2100", "-1", "TRX_AMOUNT", "0.30"),
    ];
    let off = &[
        ("6420", "1", "TRX_AMOUNT", "100.00"),
        ("2100", "-1", "TRX_AMOUNT", "99.99"),
    ];
    let got = intacct
        .login(&format!(
            "{}{}{}",
            journal("exact", "A", exact),
            journal("off", "B", off),
            vendor("v", "V-1")
        ))
        .await;
    let result = |n: usize, path: &str| got.x(&format!("/response/operation/result[{n}]/{path}"));
    assert_eq!(got.x("/response/control/status"), "success");
    assert_eq!(result(1, "status"), "success", "{}", got.body);
    assert_eq!(result(2, "status"), "failure");
    assert_eq!(result(2, "controlid"), "off");
    assert_eq!(
        result(2, "errormessage/error/errorno"),
        "REENACT-UNBALANCED"
    );
    assert_eq!(
        result(2, "errormessage/error/description2"),
        "Debits total 100.00 and credits total 99.99"
    );
    assert_eq!(result(3, "status"), "success");

    let bad_lines: &[&[(&str, &str, &str, &str)]] = &[
        &[("6420", "2", "TRX_AMOUNT", "1.00")],
        &[("6420", "1", "TRX_AMOUNT", "1.005")],
        &[("6420", "1", "TRX_AMOUNT", "-1.00")],
        &[("6420", "1", "TRX_AMOUNT", "1,00")],
        &[("", "1", "TRX_AMOUNT", "1.00")],
        &[("6420", "1", "MEMO", "1.00")],
        &[],
    ];
    for lines in bad_lines {
        let got = intacct.login(&journal("bad", "C", lines)).await;
        assert_eq!(
            got.x("/response/operation/result/errormessage/error/errorno"),
            "REENACT-INVALID",
            "{lines:?}: {}",
            got.body
        );
    }
    let no_date = intacct
        .login("<function controlid=\"nd\"><create><GLBATCH><JOURNAL>GJ</JOURNAL><ENTRIES><GLENTRY><ACCOUNTNO>1</ACCOUNTNO><TR_TYPE>1</TR_TYPE><TRX_AMOUNT>0</TRX_AMOUNT></GLENTRY></ENTRIES></GLBATCH></create></function>")
        .await;
    assert_eq!(
        no_date.x("/response/operation/result/errormessage/error/description2"),
        "GLBATCH requires BATCH_DATE"
    );
    let update = intacct
        .login("<function controlid=\"u\"><update><GLBATCH><RECORDNO>1</RECORDNO><BATCH_TITLE>x</BATCH_TITLE></GLBATCH></update></function>")
        .await;
    assert_eq!(
        update.x("/response/operation/result/errormessage/error/errorno"),
        "REENACT-UNSUPPORTED"
    );
    let state = intacct.provider_state().await;
    assert_eq!(state["journals"].as_array().map(Vec::len), Some(1));
    assert_eq!(state["journals"][0]["REFERENCENO"], "A");
}

/// Catalog I-02 at the provider: the gateway posts the journal, then the CDN cuts the
/// connection (`commit_then` 524, [INTACCT-SDK-PHP] `testMockDefaultNo524Retry`). Re-sent as a
/// new request (`uniqueid` false) the journal is posted twice; re-sent under the same control id
/// with `uniqueid=true` it is refused [INTACCT-REQUESTS] and a query finds the one entry.
#[tokio::test]
async fn a_journal_resent_after_a_524_is_posted_twice_unless_uniqueid_refuses_it() {
    let faults = "    faults:\n      - when: { method: POST, path: /ia/xml/xmlgw.phtml }\n        nth: 1\n        action: { commit_then: { status: 524 } }\n";
    let blind = Harness::start(spec("", faults)).await;
    let lost = blind.login(&journal("j", "ACCR-11", ACCRUAL)).await;
    assert_eq!(lost.status, 524);
    assert_eq!(lost.body, "");
    let again = blind.login(&journal("j", "ACCR-11", ACCRUAL)).await;
    assert_eq!(again.x("/response/operation/result/status"), "success");
    let state = blind.provider_state().await;
    assert_eq!(state["journals"].as_array().map(Vec::len), Some(2));

    let careful = Harness::start(spec("", faults)).await;
    let unique = envelope(
        "<uniqueid>true</uniqueid>",
        false,
        LOGIN,
        &journal("j", "ACCR-11", ACCRUAL),
    );
    assert_eq!(careful.post(unique.clone()).await.status, 524);
    let replay = careful.post(unique).await;
    assert_eq!(replay.x("/response/control/status"), "failure");
    assert_eq!(
        replay.x("/response/errormessage/error/errorno"),
        "REENACT-CONTROLID-REUSED"
    );
    let found = careful
        .login("<function controlid=\"q\"><readByQuery><object>GLBATCH</object><fields>RECORDNO</fields><query>REFERENCENO = 'ACCR-11'</query></readByQuery></function>")
        .await;
    assert_eq!(found.x("/response/operation/result/data/@totalcount"), "1");
    let state = careful.provider_state().await;
    assert_eq!(state["journals"].as_array().map(Vec::len), Some(1));
}

/// Other paths are not the provider's: `404`, journaled as unmatched.
#[tokio::test]
async fn other_paths_are_unmatched() {
    let intacct = Harness::start(spec("", "")).await;
    intacct.assert_unrouted(PATH).await;
}

/// Incremental syncs: `WHENMODIFIED` compared with `>`, `>=`, `<` as `MM/DD/YYYY HH:MM:SS`
/// ("Queries": operators `<, >, >=, <=, =`, spaces around them required; "Parameter Formats").
#[tokio::test]
async fn queries_compare_timestamps_for_incremental_syncs() {
    let intacct = Harness::start(spec("", "")).await;
    intacct.login(&vendor("v", "V-1")).await;
    intacct.advance(90).await;
    intacct.login(&vendor("v", "V-2")).await;
    let ids = |query: &'static str| {
        let intacct = &intacct;
        async move {
            let got = intacct
                .login(&format!(
                    "<function controlid=\"q\"><readByQuery><object>VENDOR</object><fields>VENDORID</fields><query>{}</query></readByQuery></function>",
                    query.replace('<', "&lt;")
                ))
                .await;
            assert_eq!(
                got.x("/response/operation/result/status"),
                "success",
                "{}",
                got.body
            );
            let n = got.count("/response/operation/result/data/vendor");
            (1..=n)
                .map(|i| {
                    got.x(&format!(
                        "/response/operation/result/data/vendor[{i}]/VENDORID"
                    ))
                })
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(ids("WHENMODIFIED > '10/31/2026 23:00:00'").await, ["V-2"]);
    assert_eq!(
        ids("WHENMODIFIED >= '10/31/2026 23:00:00'").await,
        ["V-1", "V-2"]
    );
    assert_eq!(ids("WHENCREATED < '11/01/2026 00:30:00'").await, ["V-1"]);
    assert_eq!(
        ids("WHENCREATED >= '11/01/2026 00:00:00' AND VENDORID = 'V-2'").await,
        ["V-2"]
    );
    // Without the spaces around the operator the query is refused.
    let got = intacct
        .login("<function controlid=\"q\"><readByQuery><object>VENDOR</object><query>VENDORID='V-1'</query></readByQuery></function>")
        .await;
    assert_eq!(got.x("/response/operation/result/status"), "failure");
}

/// Entity-level sessions see their entity's records and the top level's, not other entities';
/// the top level sees all (Intacct help "Multi-entity company overview"). The authentication
/// block names the entity in `locationid`.
#[tokio::test]
async fn entity_sessions_see_only_their_entity_and_the_top_level() {
    let intacct = Harness::start(load_mock(
        "id: intacct\ntitle: intacct\nmocks:\n  intacct:\n    provider: intacct\n    with:\n      sender: { id: acme-sender, password: sender-pass }\n      companies:\n        - id: acme-ltd\n          users: [{ id: ws-export, password: user-pass }]\n          entities: [US-EAST, US-WEST]\nflow:\n  - request: { method: GET, path: / }\n",
    ))
    .await;
    let at = |entity: &str| {
        LOGIN.replace(
            "</login>",
            &format!("<locationid>{entity}</locationid></login>"),
        )
    };
    intacct.login(&vendor("top", "V-TOP")).await;
    let east = intacct
        .post(envelope("", false, &at("US-EAST"), &vendor("e", "V-EAST")))
        .await;
    assert_eq!(
        east.x("/response/operation/authentication/locationid"),
        "US-EAST"
    );
    let list = "<function controlid=\"q\"><readByQuery><object>VENDOR</object><fields>VENDORID</fields><query/></readByQuery></function>";
    let ids = |got: &Got| {
        let n = got.count("/response/operation/result/data/vendor");
        (1..=n)
            .map(|i| {
                got.x(&format!(
                    "/response/operation/result/data/vendor[{i}]/VENDORID"
                ))
            })
            .collect::<Vec<_>>()
    };
    let west = intacct
        .post(envelope("", false, &at("US-WEST"), list))
        .await;
    assert_eq!(ids(&west), ["V-TOP"]);
    let east = intacct
        .post(envelope("", false, &at("US-EAST"), list))
        .await;
    assert_eq!(ids(&east), ["V-TOP", "V-EAST"]);
    let top = intacct.login(list).await;
    assert_eq!(ids(&top), ["V-TOP", "V-EAST"]);
    // A read by key from another entity finds nothing.
    let read = intacct
        .post(envelope(
            "",
            false,
            &at("US-WEST"),
            "<function controlid=\"r\"><read><object>VENDOR</object><keys>2</keys><fields>*</fields></read></function>",
        ))
        .await;
    assert_eq!(read.x("/response/operation/result/data/@count"), "0");
}

/// `getAPISession` answers the company's `endpoint` setting (a session is "tied to a company ID,
/// user ID, possibly an entity (via location ID), and an endpoint URL", Intacct "API Sessions");
/// without it, the mock's own URL.
#[tokio::test]
async fn get_api_session_answers_the_company_endpoint_setting() {
    let intacct = Harness::start(spec(
        "        - id: initech\n          users: [{ id: ws-export, password: user-pass }]\n          endpoint: https://initech.intacct.com/ia/xml/xmlgw.phtml\n",
        "",
    ))
    .await;
    let login = LOGIN.replace("acme-ltd", "initech");
    let got = intacct
        .post(envelope(
            "",
            false,
            &login,
            "<function controlid=\"s\"><getAPISession/></function>",
        ))
        .await;
    assert_eq!(
        got.x("/response/operation/result/data/api/endpoint"),
        "https://initech.intacct.com/ia/xml/xmlgw.phtml"
    );
    assert_eq!(
        got.count("/response/operation/result/data/api/locationid"),
        1
    );
}

/// From an entity-level login, `getAPISession` without `<locationid>` keeps the entity, with
/// `<locationid>US-EAST</locationid>` picks one, and with an empty one gives a top-level session
/// (Intacct "API Sessions").
#[tokio::test]
async fn get_api_session_with_an_empty_locationid_is_top_level() {
    let intacct = Harness::start(spec("", "")).await;
    let login = LOGIN.replace("</login>", "<locationid>US-EAST</locationid></login>");
    let session = |inside: &str| {
        let body = envelope(
            "",
            false,
            &login,
            &format!(
                "<function controlid=\"s\"><getAPISession>{inside}</getAPISession></function>"
            ),
        );
        let intacct = &intacct;
        async move {
            let got = intacct.post(body).await;
            assert_eq!(
                got.x("/response/operation/result/status"),
                "success",
                "{}",
                got.body
            );
            assert_eq!(
                got.count("/response/operation/result/data/api/locationid"),
                1
            );
            got.x("/response/operation/result/data/api/locationid")
        }
    };
    assert_eq!(session("").await, "US-EAST");
    assert_eq!(session("<locationid>US-EAST</locationid>").await, "US-EAST");
    assert_eq!(session("<locationid></locationid>").await, "");
    assert_eq!(session("<locationid/>").await, "");
}

/// Without `<pagesize>`, `readByQuery` gives 100 records ("(Default: 100)", Intacct API reference
/// `readByQuery`) and a `resultId` for the rest.
#[tokio::test]
async fn read_by_query_pages_by_100_by_default() {
    let intacct = Harness::start(spec("", "")).await;
    let records: String = (1..=101)
        .map(|n| format!("<VENDOR><VENDORID>V-{n}</VENDORID><NAME>Vendor {n}</NAME></VENDOR>"))
        .collect();
    let created = intacct
        .login(&format!(
            "<function controlid=\"c\"><create>{records}</create></function>"
        ))
        .await;
    assert_eq!(
        created.x("/response/operation/result/data/@count"),
        "101",
        "{}",
        created.body
    );
    let got = intacct
        .login("<function controlid=\"q\"><readByQuery><object>VENDOR</object><fields>VENDORID</fields><query/></readByQuery></function>")
        .await;
    let data = "/response/operation/result/data";
    assert_eq!(got.x(&format!("{data}/@count")), "100");
    assert_eq!(got.count(&format!("{data}/vendor")), 100);
    assert_eq!(got.x(&format!("{data}/@totalcount")), "101");
    assert_eq!(got.x(&format!("{data}/@numremaining")), "1");
    assert!(!got.x(&format!("{data}/@resultId")).is_empty());
}
