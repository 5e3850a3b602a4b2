//! The key tables of the conversion against the JSON Schema (`scenario.schema.json`), which
//! mirrors them by hand for editors: these tests fail when the two drift apart.
//!
//! [`KEY_TABLES`] lists every table of keys a mapping accepts; [`SCHEMA_OBJECTS`] says which
//! object of the schema mirrors which table. The tests check that each such object lists exactly
//! the table's keys as its `properties` and rejects any other (`additionalProperties: false`),
//! that every table and every schema object with `properties` is in the mapping, and that every
//! `*_KEYS` constant in the conversion's source is in [`KEY_TABLES`], so a table added without
//! being listed fails too.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use super::{
    bank, bank_payments, expectations, faults, flow, intacct, matchers, mocks, oidc, quickbooks,
    rate_limits, sage, saml, scenario, snapshot, stubs, target, webhooks, xero,
};
use crate::scenario::schema::json_schema;

/// Every key table of the conversion, by `module::NAME` (the module under `convert/`).
const KEY_TABLES: &[(&str, &[&str])] = &[
    ("scenario::TOP_KEYS", scenario::TOP_KEYS),
    ("scenario::CLOCK_KEYS", scenario::CLOCK_KEYS),
    ("snapshot::SNAPSHOT_KEYS", snapshot::SNAPSHOT_KEYS),
    ("mocks::INCLUDE_KEYS", mocks::INCLUDE_KEYS),
    ("mocks::DEFINITION_KEYS", mocks::DEFINITION_KEYS),
    ("snapshot::NORMALIZE_KEYS", snapshot::NORMALIZE_KEYS),
    ("stubs::STUB_KEYS", stubs::STUB_KEYS),
    ("stubs::RESPONSE_KEYS", stubs::RESPONSE_KEYS),
    ("stubs::STATE_KEYS", stubs::STATE_KEYS),
    ("stubs::STORE_KEYS", stubs::STORE_KEYS),
    ("matchers::MATCHER_KEYS", matchers::MATCHER_KEYS),
    ("matchers::VALUE_MATCHER_KEYS", matchers::VALUE_MATCHER_KEYS),
    ("matchers::BASIC_AUTH_KEYS", matchers::BASIC_AUTH_KEYS),
    ("matchers::JSON_LIKE_KEYS", matchers::JSON_LIKE_KEYS),
    ("matchers::PART_KEYS", matchers::PART_KEYS),
    ("faults::FAULT_KEYS", faults::FAULT_KEYS),
    ("faults::ROUTE_FAULT_KEYS", faults::ROUTE_FAULT_KEYS),
    ("faults::WHEN_KEYS", faults::WHEN_KEYS),
    ("faults::ACTION_KEYS", faults::ACTION_KEYS),
    ("faults::TRUNCATED_KEYS", faults::TRUNCATED_KEYS),
    ("faults::GARBAGE_KEYS", faults::GARBAGE_KEYS),
    ("faults::SLOW_BODY_KEYS", faults::SLOW_BODY_KEYS),
    ("faults::DELAY_KEYS", faults::DELAY_KEYS),
    ("faults::UNIFORM_KEYS", faults::UNIFORM_KEYS),
    ("faults::LOGNORMAL_KEYS", faults::LOGNORMAL_KEYS),
    ("faults::COMMIT_THEN_KEYS", faults::COMMIT_THEN_KEYS),
    ("rate_limits::RATE_LIMIT_KEYS", rate_limits::RATE_LIMIT_KEYS),
    ("target::TARGET_KEYS", target::TARGET_KEYS),
    ("target::READY_KEYS", target::READY_KEYS),
    ("flow::STEP_KEYS", flow::STEP_KEYS),
    ("flow::POLL_KEYS", flow::POLL_KEYS),
    ("flow::CAPTURE_KEYS", flow::CAPTURE_KEYS),
    ("flow::REQUEST_KEYS", flow::REQUEST_KEYS),
    ("flow::SSO_LOGIN_KEYS", flow::SSO_LOGIN_KEYS),
    ("webhooks::WEBHOOK_KEYS", webhooks::WEBHOOK_KEYS),
    ("webhooks::SIGN_KEYS", webhooks::SIGN_KEYS),
    ("webhooks::RETRY_KEYS", webhooks::RETRY_KEYS),
    ("expectations::CHECK_KEYS", expectations::CHECK_KEYS),
    (
        "expectations::STEP_EXPECT_KEYS",
        expectations::STEP_EXPECT_KEYS,
    ),
    (
        "expectations::MOCK_EXPECT_KEYS",
        expectations::MOCK_EXPECT_KEYS,
    ),
    ("expectations::COUNT_KEYS", expectations::COUNT_KEYS),
    (
        "expectations::VALUE_CHECK_KEYS",
        expectations::VALUE_CHECK_KEYS,
    ),
    ("xero::XERO_KEYS", xero::XERO_KEYS),
    ("xero::XERO_TENANT_KEYS", xero::XERO_TENANT_KEYS),
    ("xero::XERO_LIMIT_KEYS", xero::XERO_LIMIT_KEYS),
    ("xero::XERO_ACCOUNT_KEYS", xero::XERO_ACCOUNT_KEYS),
    ("xero::XERO_CONTACT_KEYS", xero::XERO_CONTACT_KEYS),
    ("xero::XERO_WEBHOOK_KEYS", xero::XERO_WEBHOOK_KEYS),
    ("quickbooks::KEYS", quickbooks::KEYS),
    ("quickbooks::REALM_KEYS", quickbooks::REALM_KEYS),
    ("quickbooks::LIMIT_KEYS", quickbooks::LIMIT_KEYS),
    ("quickbooks::WEBHOOK_KEYS", quickbooks::WEBHOOK_KEYS),
    ("oidc::OIDC_KEYS", oidc::OIDC_KEYS),
    ("oidc::OIDC_CLIENT_KEYS", oidc::OIDC_CLIENT_KEYS),
    ("oidc::OIDC_USER_KEYS", oidc::OIDC_USER_KEYS),
    ("oidc::OIDC_SIGNING_KEY_KEYS", oidc::OIDC_SIGNING_KEY_KEYS),
    ("oidc::OIDC_ROTATION_KEYS", oidc::OIDC_ROTATION_KEYS),
    ("oidc::OIDC_CLOCK_KEYS", oidc::OIDC_CLOCK_KEYS),
    ("oidc::OIDC_CLAIM_KEYS", oidc::OIDC_CLAIM_KEYS),
    ("sage::SAGE_KEYS", sage::SAGE_KEYS),
    ("sage::SAGE_BUSINESS_KEYS", sage::SAGE_BUSINESS_KEYS),
    ("sage::SAGE_THROTTLE_KEYS", sage::SAGE_THROTTLE_KEYS),
    ("saml::SAML_KEYS", saml::SAML_KEYS),
    ("saml::SAML_SP_KEYS", saml::SAML_SP_KEYS),
    ("saml::SAML_USER_KEYS", saml::SAML_USER_KEYS),
    ("saml::SAML_ROTATION_KEYS", saml::SAML_ROTATION_KEYS),
    ("saml::SAML_KEY_FILE_KEYS", saml::SAML_KEY_FILE_KEYS),
    ("bank::BANK_KEYS", bank::BANK_KEYS),
    ("bank::BANK_IDENTITY_KEYS", bank::BANK_IDENTITY_KEYS),
    ("bank::BANK_ACCOUNT_KEYS", bank::BANK_ACCOUNT_KEYS),
    ("bank::BANK_OPENING_KEYS", bank::BANK_OPENING_KEYS),
    ("bank::BANK_TRANSACTION_KEYS", bank::BANK_TRANSACTION_KEYS),
    ("bank::BANK_COUNTERPARTY_KEYS", bank::BANK_COUNTERPARTY_KEYS),
    ("bank::BANK_STATEMENT_KEYS", bank::BANK_STATEMENT_KEYS),
    ("bank::BANK_AUTH_KEYS", bank::BANK_AUTH_KEYS),
    ("bank::BANK_BASIC_KEYS", bank::BANK_BASIC_KEYS),
    ("bank::BANK_SFTP_KEYS", bank::BANK_SFTP_KEYS),
    ("bank::BANK_SFTP_USER_KEYS", bank::BANK_SFTP_USER_KEYS),
    (
        "bank_payments::BANK_PAYMENTS_KEYS",
        bank_payments::BANK_PAYMENTS_KEYS,
    ),
    (
        "bank_payments::BANK_TIMELINE_KEYS",
        bank_payments::BANK_TIMELINE_KEYS,
    ),
    (
        "bank_payments::BANK_OUTCOME_KEYS",
        bank_payments::BANK_OUTCOME_KEYS,
    ),
    ("intacct::INTACCT_KEYS", intacct::INTACCT_KEYS),
    ("intacct::SENDER_KEYS", intacct::SENDER_KEYS),
    ("intacct::COMPANY_KEYS", intacct::COMPANY_KEYS),
    ("intacct::USER_KEYS", intacct::USER_KEYS),
    ("intacct::LIMIT_KEYS", intacct::LIMIT_KEYS),
];

/// Which objects of the schema (JSON pointers) mirror which key tables: the `properties` of the
/// objects together must be the keys of the tables together.
const SCHEMA_OBJECTS: &[(&[&str], &[&str])] = &[
    (&[""], &["scenario::TOP_KEYS"]),
    (&["/properties/clock"], &["scenario::CLOCK_KEYS"]),
    (&["/properties/snapshot"], &["snapshot::SNAPSHOT_KEYS"]),
    (
        &["/properties/snapshot/properties/normalize/items"],
        &["snapshot::NORMALIZE_KEYS"],
    ),
    (&["/properties/target"], &["target::TARGET_KEYS"]),
    (
        &["/properties/target/properties/ready"],
        &["target::READY_KEYS"],
    ),
    (
        &["/$defs/mock"],
        &["mocks::INCLUDE_KEYS", "mocks::DEFINITION_KEYS"],
    ),
    (&["/$defs/mock/else"], &["mocks::DEFINITION_KEYS"]),
    (&["/$defs/stub"], &["stubs::STUB_KEYS"]),
    (&["/$defs/response"], &["stubs::RESPONSE_KEYS"]),
    (&["/$defs/stub/properties/state"], &["stubs::STATE_KEYS"]),
    (&["/$defs/stub/properties/store"], &["stubs::STORE_KEYS"]),
    (&["/$defs/requestMatcher"], &["matchers::MATCHER_KEYS"]),
    (
        &["/$defs/requestMatcher/properties/basic_auth"],
        &["matchers::BASIC_AUTH_KEYS"],
    ),
    (
        &["/$defs/requestMatcher/properties/json_like"],
        &["matchers::JSON_LIKE_KEYS"],
    ),
    (&["/$defs/multipartPart"], &["matchers::PART_KEYS"]),
    (
        &["/$defs/valueMatcher/oneOf/1"],
        &["matchers::VALUE_MATCHER_KEYS"],
    ),
    (&["/$defs/fault"], &["faults::FAULT_KEYS"]),
    (&["/$defs/routeFault"], &["faults::ROUTE_FAULT_KEYS"]),
    (
        &["/$defs/routeFault/properties/when"],
        &["faults::WHEN_KEYS"],
    ),
    (&["/$defs/faultAction"], &["faults::ACTION_KEYS"]),
    (
        &["/$defs/faultAction/properties/truncated"],
        &["faults::TRUNCATED_KEYS"],
    ),
    (
        &["/$defs/faultAction/properties/garbage"],
        &["faults::GARBAGE_KEYS"],
    ),
    (
        &["/$defs/faultAction/properties/slow_body"],
        &["faults::SLOW_BODY_KEYS"],
    ),
    (
        &["/$defs/faultAction/properties/delay/oneOf/1"],
        &["faults::DELAY_KEYS"],
    ),
    (
        &["/$defs/faultAction/properties/delay/oneOf/1/properties/uniform"],
        &["faults::UNIFORM_KEYS"],
    ),
    (
        &["/$defs/faultAction/properties/delay/oneOf/1/properties/lognormal"],
        &["faults::LOGNORMAL_KEYS"],
    ),
    (
        &["/$defs/faultAction/properties/commit_then"],
        &["faults::COMMIT_THEN_KEYS"],
    ),
    (&["/$defs/rateLimit"], &["rate_limits::RATE_LIMIT_KEYS"]),
    (&["/$defs/step"], &["flow::STEP_KEYS"]),
    (&["/$defs/step/properties/poll"], &["flow::POLL_KEYS"]),
    (&["/$defs/captureRule"], &["flow::CAPTURE_KEYS"]),
    (&["/$defs/request"], &["flow::REQUEST_KEYS"]),
    (&["/$defs/ssoLogin"], &["flow::SSO_LOGIN_KEYS"]),
    (
        &["/$defs/ssoLogin/properties/start"],
        &["flow::REQUEST_KEYS"],
    ),
    (&["/$defs/webhook"], &["webhooks::WEBHOOK_KEYS"]),
    (
        &["/$defs/webhook/properties/sign"],
        &["webhooks::SIGN_KEYS"],
    ),
    (
        &["/$defs/webhook/properties/retry"],
        &["webhooks::RETRY_KEYS"],
    ),
    (&["/$defs/responseCheck"], &["expectations::CHECK_KEYS"]),
    (&["/$defs/valueCheck"], &["expectations::VALUE_CHECK_KEYS"]),
    // One schema object for both kinds of expectation; the loader picks a table by `step`/`mock`.
    (
        &["/$defs/expectation"],
        &[
            "expectations::STEP_EXPECT_KEYS",
            "expectations::MOCK_EXPECT_KEYS",
        ],
    ),
    (&["/$defs/count/oneOf/1"], &["expectations::COUNT_KEYS"]),
    (&["/$defs/xeroSettings"], &["xero::XERO_KEYS"]),
    (
        &["/$defs/xeroSettings/properties/tenants/items"],
        &["xero::XERO_TENANT_KEYS"],
    ),
    (
        &["/$defs/xeroSettings/properties/rate_limits"],
        &["xero::XERO_LIMIT_KEYS"],
    ),
    (
        &["/$defs/xeroSettings/properties/accounts/items"],
        &["xero::XERO_ACCOUNT_KEYS"],
    ),
    (
        &["/$defs/xeroSettings/properties/contacts/items"],
        &["xero::XERO_CONTACT_KEYS"],
    ),
    // `xero:` of a webhook is an event or the handshake: one table, two alternatives.
    (
        &[
            "/$defs/webhook/properties/xero/oneOf/0",
            "/$defs/webhook/properties/xero/oneOf/1",
        ],
        &["xero::XERO_WEBHOOK_KEYS"],
    ),
    (&["/$defs/quickbooksSettings"], &["quickbooks::KEYS"]),
    (
        &["/$defs/quickbooksSettings/properties/realms/items"],
        &["quickbooks::REALM_KEYS"],
    ),
    (
        &["/$defs/quickbooksSettings/properties/rate_limits"],
        &["quickbooks::LIMIT_KEYS"],
    ),
    (
        &["/$defs/webhook/properties/quickbooks"],
        &["quickbooks::WEBHOOK_KEYS"],
    ),
    (&["/$defs/oidcSettings"], &["oidc::OIDC_KEYS"]),
    (
        &["/$defs/oidcSettings/properties/clients/items"],
        &["oidc::OIDC_CLIENT_KEYS"],
    ),
    (
        &["/$defs/oidcSettings/properties/users/items"],
        &["oidc::OIDC_USER_KEYS"],
    ),
    (
        &["/$defs/oidcSettings/properties/keys/items"],
        &["oidc::OIDC_SIGNING_KEY_KEYS"],
    ),
    (
        &["/$defs/oidcSettings/properties/rotation"],
        &["oidc::OIDC_ROTATION_KEYS"],
    ),
    (
        &["/$defs/oidcSettings/properties/clock"],
        &["oidc::OIDC_CLOCK_KEYS"],
    ),
    (
        &["/$defs/oidcSettings/properties/claims"],
        &["oidc::OIDC_CLAIM_KEYS"],
    ),
    (&["/$defs/sageSettings"], &["sage::SAGE_KEYS"]),
    (
        &["/$defs/sageSettings/properties/businesses/items"],
        &["sage::SAGE_BUSINESS_KEYS"],
    ),
    (
        &["/$defs/sageSettings/properties/throttle"],
        &["sage::SAGE_THROTTLE_KEYS"],
    ),
    (&["/$defs/samlSettings"], &["saml::SAML_KEYS"]),
    (
        &["/$defs/samlSettings/properties/sp"],
        &["saml::SAML_SP_KEYS"],
    ),
    (
        &["/$defs/samlSettings/properties/users/items"],
        &["saml::SAML_USER_KEYS"],
    ),
    (
        &["/$defs/samlSettings/properties/rotation"],
        &["saml::SAML_ROTATION_KEYS"],
    ),
    (
        &["/$defs/samlSettings/properties/keys/items"],
        &["saml::SAML_KEY_FILE_KEYS"],
    ),
    (&["/$defs/bankSettings"], &["bank::BANK_KEYS"]),
    (
        &["/$defs/bankSettings/properties/bank"],
        &["bank::BANK_IDENTITY_KEYS"],
    ),
    (
        &["/$defs/bankSettings/properties/accounts/items"],
        &["bank::BANK_ACCOUNT_KEYS"],
    ),
    (
        &["/$defs/bankSettings/properties/accounts/items/properties/opening"],
        &["bank::BANK_OPENING_KEYS"],
    ),
    (
        &["/$defs/bankSettings/properties/accounts/items/properties/transactions/items"],
        &["bank::BANK_TRANSACTION_KEYS"],
    ),
    (
        &[
            "/$defs/bankSettings/properties/accounts/items/properties/transactions/items/properties/counterparty",
        ],
        &["bank::BANK_COUNTERPARTY_KEYS"],
    ),
    (
        &["/$defs/bankSettings/properties/statements/items"],
        &["bank::BANK_STATEMENT_KEYS"],
    ),
    (
        &["/$defs/bankSettings/properties/auth"],
        &["bank::BANK_AUTH_KEYS"],
    ),
    (
        &["/$defs/bankSettings/properties/auth/properties/basic"],
        &["bank::BANK_BASIC_KEYS"],
    ),
    (
        &["/$defs/bankSettings/properties/sftp"],
        &["bank::BANK_SFTP_KEYS"],
    ),
    (
        &["/$defs/bankSettings/properties/sftp/properties/users/items"],
        &["bank::BANK_SFTP_USER_KEYS"],
    ),
    (
        &["/$defs/bankSettings/properties/payments"],
        &["bank_payments::BANK_PAYMENTS_KEYS"],
    ),
    (
        &["/$defs/bankSettings/properties/payments/properties/timeline"],
        &["bank_payments::BANK_TIMELINE_KEYS"],
    ),
    (
        &["/$defs/bankSettings/properties/payments/properties/outcomes/items"],
        &["bank_payments::BANK_OUTCOME_KEYS"],
    ),
    (&["/$defs/intacctSettings"], &["intacct::INTACCT_KEYS"]),
    (
        &["/$defs/intacctSettings/properties/sender"],
        &["intacct::SENDER_KEYS"],
    ),
    (
        &["/$defs/intacctSettings/properties/companies/items"],
        &["intacct::COMPANY_KEYS"],
    ),
    (
        &["/$defs/intacctSettings/properties/companies/items/properties/users/items"],
        &["intacct::USER_KEYS"],
    ),
    (
        &["/$defs/intacctSettings/properties/rate_limits"],
        &["intacct::LIMIT_KEYS"],
    ),
];

fn schema() -> Value {
    serde_json::from_str(json_schema()).expect("the schema is JSON")
}

fn table(name: &str) -> &'static [&'static str] {
    KEY_TABLES
        .iter()
        .find(|(known, _)| *known == name)
        .map(|(_, keys)| *keys)
        .unwrap_or_else(|| panic!("`{name}` is not in KEY_TABLES"))
}

/// The pointers of every object in `value` that has `properties`, depth first.
fn objects_with_properties(value: &Value, pointer: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if map.contains_key("properties") {
                out.push(pointer.to_string());
            }
            for (key, item) in map {
                let key = key.replace('~', "~0").replace('/', "~1");
                objects_with_properties(item, &format!("{pointer}/{key}"), out);
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                objects_with_properties(item, &format!("{pointer}/{index}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn every_schema_object_lists_exactly_the_keys_of_its_table() {
    let schema = schema();
    let mut drift = Vec::new();
    for (pointers, tables) in SCHEMA_OBJECTS {
        let mut in_schema = BTreeSet::new();
        for pointer in *pointers {
            let Some(object) = schema.pointer(pointer) else {
                drift.push(format!("`{pointer}`: no such object in the schema"));
                continue;
            };
            if object.get("additionalProperties") != Some(&Value::Bool(false)) {
                drift.push(format!(
                    "`{pointer}`: `additionalProperties` is not `false`"
                ));
            }
            match object.get("properties").and_then(Value::as_object) {
                Some(properties) => in_schema.extend(properties.keys().map(String::as_str)),
                None => drift.push(format!("`{pointer}`: no `properties`")),
            }
        }
        let in_tables: BTreeSet<&str> = tables
            .iter()
            .flat_map(|name| table(name).iter().copied())
            .collect();
        let only_schema: Vec<&str> = in_schema.difference(&in_tables).copied().collect();
        let only_tables: Vec<&str> = in_tables.difference(&in_schema).copied().collect();
        if !only_schema.is_empty() || !only_tables.is_empty() {
            drift.push(format!(
                "{pointers:?} ~ {tables:?}: only in the schema {only_schema:?}, only in the tables {only_tables:?}"
            ));
        }
    }
    assert!(
        drift.is_empty(),
        "the schema and the key tables differ:\n{}",
        drift.join("\n")
    );
}

#[test]
fn every_key_table_and_every_schema_object_is_mapped() {
    let mapped_tables: BTreeSet<&str> = SCHEMA_OBJECTS
        .iter()
        .flat_map(|(_, tables)| tables.iter().copied())
        .collect();
    let unmapped: Vec<&str> = KEY_TABLES
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| !mapped_tables.contains(name))
        .collect();
    assert!(
        unmapped.is_empty(),
        "key tables with no schema object in SCHEMA_OBJECTS: {unmapped:?}"
    );

    let mapped_objects: BTreeSet<&str> = SCHEMA_OBJECTS
        .iter()
        .flat_map(|(pointers, _)| pointers.iter().copied())
        .collect();
    let mut objects = Vec::new();
    objects_with_properties(&schema(), "", &mut objects);
    let unmapped: Vec<&String> = objects
        .iter()
        .filter(|pointer| !mapped_objects.contains(pointer.as_str()))
        .collect();
    assert!(
        unmapped.is_empty(),
        "schema objects with `properties` and no key table in SCHEMA_OBJECTS: {unmapped:?}"
    );
}

#[test]
fn every_key_table_in_the_source_is_listed() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/scenario/convert");
    let mut problems = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|ext| ext != "rs") {
            continue;
        }
        let module = path.file_stem().unwrap().to_str().unwrap().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text.lines() {
            let Some(rest) = line.trim_start().split("const ").nth(1) else {
                continue;
            };
            let Some((name, _)) = rest.split_once(": &[&str]") else {
                continue;
            };
            let qualified = format!("{module}::{name}");
            if (name == "KEYS" || name.ends_with("_KEYS"))
                && !KEY_TABLES.iter().any(|(known, _)| *known == qualified)
            {
                problems.push(format!("`{qualified}` is not in KEY_TABLES"));
            }
        }
        // A mapping read with keys written in place has a table nothing here can see.
        for (at, _) in text.match_indices(".fields(") {
            let call = &text[at..];
            let call = &call[..call.find(')').unwrap_or(call.len())];
            if call.contains("&[\"") {
                problems.push(format!(
                    "{module}: `{})` reads keys written in place: name the table and list it",
                    call.replace(char::is_whitespace, "")
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_providers_and_xero_events_match_the_schema_enums() {
    let schema = schema();
    let words = |pointer: &str| -> BTreeSet<String> {
        schema
            .pointer(pointer)
            .and_then(Value::as_array)
            .unwrap_or_else(|| panic!("no enum at `{pointer}`"))
            .iter()
            .map(|word| word.as_str().unwrap().to_string())
            .collect()
    };
    let set = |words: &[&str]| -> BTreeSet<String> {
        words.iter().map(|word| word.to_string()).collect()
    };
    assert_eq!(
        words("/$defs/mock/else/properties/provider/enum"),
        set(mocks::PROVIDERS)
    );
    assert_eq!(
        words("/$defs/webhook/properties/xero/oneOf/0/properties/event/enum"),
        set(xero::XERO_EVENTS)
    );
}
