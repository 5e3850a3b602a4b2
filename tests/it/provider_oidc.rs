//! Conformance tests of `provider: oidc` against OpenID Connect Core/Discovery, RFC 6749, RFC 7636
//! and `domain-catalog.md` §5 and §9 (O-01, O-03): a mock loaded from YAML as a scenario declares
//! it, served on loopback, driven by a real HTTP client, its clock moved by the control API.
//!
//! Every signature is verified for real: the token's `kid` picks a key of the JWKS the fake
//! serves, and `ring` checks the signature with that public key alone.

use std::time::Duration;

use base64::Engine as _;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents, UnparsedPublicKey,
};
use serde_json::{Value, json};

use crate::support::{self, Got, load_mock, text};
use reenact::scenario::model::MockSpec;

const CALLBACK: &str = "https://app.acme.test/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mJ92K27uhbUJU1p1r_wW1gFWFOEjXk";
/// `BASE64URL(SHA256(VERIFIER))` (RFC 7636 §4.2), computed outside reenact with Python's
/// `hashlib` and `base64.urlsafe_b64encode`, padding stripped.
const CHALLENGE: &str = "ngF5GsXcbwljx6u133FFr3Xht9xooA_DuaX_3QwODtc";

/// A mock `idp` with `provider: oidc`, a confidential client `app`, a public client `spa`, two
/// users and a group, plus `with` (YAML lines under `with:`).
fn spec(with: &str) -> MockSpec {
    load_mock(&format!(
        "id: oidc\ntitle: oidc\nmocks:\n  idp:\n    provider: oidc\n    with:\n      clients:\n        - {{ client_id: app, client_secret: s3cret, redirect_uris: [\"{CALLBACK}\"] }}\n        - {{ client_id: spa, redirect_uris: [\"{CALLBACK}\"] }}\n      groups: [admins]\n      users:\n        - {{ sub: alice, email: alice@acme.test, name: Alice, groups: [admins], claims: {{ department: finance }} }}\n        - {{ sub: bob, email: bob@acme.test }}\n{with}flow:\n  - request: {{ method: GET, path: / }}\n"
    ))
}

enum Oidc {}
type Harness = support::Harness<Oidc>;

fn b64d(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .expect("base64url")
}

/// A JWT's header and claims, unverified.
fn parts(token: &str) -> (Value, Value) {
    let mut it = token.split('.');
    let header = serde_json::from_slice(&b64d(it.next().unwrap())).unwrap();
    let claims = serde_json::from_slice(&b64d(it.next().unwrap())).unwrap();
    (header, claims)
}

/// Whether `token`'s signature verifies with the key of `jwks` its `kid` names (none: false).
fn verifies(token: &str, jwks: &Value) -> bool {
    let (header, _) = parts(token);
    let Some((input, signature)) = token.rsplit_once('.') else {
        return false;
    };
    let Some(jwk) = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == header["kid"])
    else {
        return false;
    };
    let signature = b64d(signature);
    match header["alg"].as_str() {
        Some("RS256") => RsaPublicKeyComponents {
            n: b64d(&text(&jwk["n"])),
            e: b64d(&text(&jwk["e"])),
        }
        .verify(&RSA_PKCS1_2048_8192_SHA256, input.as_bytes(), &signature)
        .is_ok(),
        Some("ES256") => {
            let mut point = vec![4];
            point.extend(b64d(&text(&jwk["x"])));
            point.extend(b64d(&text(&jwk["y"])));
            UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
                .verify(input.as_bytes(), &signature)
                .is_ok()
        }
        _ => false,
    }
}

fn query_of(location: &str) -> Vec<(String, String)> {
    let (_, query) = location.split_once('?').expect("a query");
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

impl Harness {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url())
    }

    async fn get(&self, path: &str) -> Got {
        self.send(self.http.get(self.url(path))).await
    }

    async fn jwks(&self) -> Value {
        self.get("/jwks").await.json
    }

    /// `GET /authorize` with `params` (as the browser): the answer.
    async fn authorize_with(&self, params: &[(&str, &str)]) -> Got {
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        self.get(&format!("/authorize?{query}")).await
    }

    /// A successful code flow's code for `client`, with PKCE S256 and `nonce`.
    async fn code(&self, client: &str) -> String {
        let got = self
            .authorize_with(&[
                ("response_type", "code"),
                ("client_id", client),
                ("redirect_uri", CALLBACK),
                ("scope", "openid email offline_access"),
                ("state", "st-1"),
                ("nonce", "n-1"),
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
            ])
            .await;
        assert_eq!(got.status, 302);
        let location = got.header("location").unwrap().to_owned();
        assert!(location.starts_with(CALLBACK), "{location}");
        let params = query_of(&location);
        assert_eq!(params[1], ("state".into(), "st-1".into()));
        params[0].1.clone()
    }

    /// `POST /token` with `form`, as `app` with HTTP Basic.
    async fn token_basic(&self, form: &[(&str, &str)]) -> Got {
        self.token_as("app", "s3cret", form).await
    }

    async fn token_as(&self, id: &str, secret: &str, form: &[(&str, &str)]) -> Got {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let request = self
            .http
            .post(self.url("/token"))
            .basic_auth(id, Some(secret))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(request).await
    }

    /// The full code flow as `app`: the token answer.
    async fn sign_in(&self) -> Got {
        let code = self.code("app").await;
        let got = self
            .token_basic(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", CALLBACK),
                ("code_verifier", VERIFIER),
            ])
            .await;
        assert_eq!(got.status, 200, "{}", got.json);
        got
    }

    async fn state(&self) -> Value {
        self.state_of("oidc").await
    }
}

/// OIDC Discovery §3 and §4.3: the issuer and the endpoints; the JWKS lists several keys with
/// distinct `kid`s and `Cache-Control` [OKTA-KEYROT], [MS-KEYROLLOVER], [AUTH0-JWKS].
#[tokio::test]
async fn discovery_names_the_issuer_and_the_jwks_lists_several_keys_with_cache_control() {
    let idp = Harness::start(spec("")).await;
    let base = idp.server.url().trim_end_matches('/').to_owned();
    let got = idp.get("/.well-known/openid-configuration").await;
    assert_eq!(got.status, 200);
    assert_eq!(got.json["issuer"], base);
    assert_eq!(got.json["jwks_uri"], format!("{base}/jwks"));
    assert_eq!(got.json["token_endpoint"], format!("{base}/token"));
    assert_eq!(
        got.json["authorization_endpoint"],
        format!("{base}/authorize")
    );
    assert_eq!(
        got.json["id_token_signing_alg_values_supported"],
        json!(["RS256"])
    );
    assert_eq!(
        got.json["token_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "client_secret_post", "none"])
    );
    let jwks = idp.get("/jwks").await;
    assert_eq!(jwks.header("cache-control"), Some("public, max-age=86400"));
    let kids: Vec<&str> = jwks.json["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, ["reenact-rs256-1", "reenact-rs256-2"]);
    for key in jwks.json["keys"].as_array().unwrap() {
        assert_eq!(key["kty"], "RSA");
        assert!(key.get("d").is_none(), "no private part");
    }
}

/// RFC 6749 §4.1, RFC 7636 §4.6, OIDC Core §3.1.3.7: the code flow with PKCE S256 answers an
/// ID token whose signature verifies with the JWKS key and whose claims are the user's, the
/// client's and the request's; userinfo answers the user; the state counts and lists logins.
#[tokio::test]
async fn the_code_flow_with_pkce_answers_a_verified_id_token_and_userinfo() {
    let idp = Harness::start(spec("      claims: { extra: { ver: \"2.0\" } }\n")).await;
    let got = idp.sign_in().await;
    assert_eq!(got.json["token_type"], "Bearer");
    assert_eq!(got.json["expires_in"], 3600);
    assert!(got.json["refresh_token"].is_string());
    let id_token = text(&got.json["id_token"]);
    let jwks = idp.jwks().await;
    assert!(verifies(&id_token, &jwks), "the ID token verifies");
    assert!(
        verifies(&text(&got.json["access_token"]), &jwks),
        "so does the access token"
    );
    let (header, claims) = parts(&id_token);
    assert_eq!(
        header,
        json!({ "alg": "RS256", "typ": "JWT", "kid": "reenact-rs256-1" })
    );
    let start = time::OffsetDateTime::parse(
        support::START,
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap()
    .unix_timestamp();
    assert_eq!(claims["iss"], idp.server.url().trim_end_matches('/'));
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["aud"], "app");
    assert_eq!(claims["nonce"], "n-1");
    assert_eq!(claims["email"], "alice@acme.test");
    assert_eq!(claims["groups"], json!(["admins"]));
    assert_eq!(claims["department"], "finance");
    assert_eq!(claims["ver"], "2.0");
    assert_eq!(claims["iat"], start, "issued on the virtual clock");
    assert_eq!(claims["nbf"], start);
    assert_eq!(claims["auth_time"], start);
    assert_eq!(claims["exp"], start + 3600);
    assert!(claims.get("tid").is_none());

    let access = text(&got.json["access_token"]);
    let me = idp
        .send(idp.http.get(idp.url("/userinfo")).bearer_auth(&access))
        .await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json["sub"], "alice");
    assert_eq!(me.json["name"], "Alice");
    let anonymous = idp.get("/userinfo").await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(
        anonymous.header("www-authenticate"),
        Some("Bearer error=\"invalid_token\"")
    );

    let state = idp.state().await;
    assert_eq!(state["codes"], json!({ "issued": 1, "redeemed": 1 }));
    assert_eq!(
        state["tokens"],
        json!({ "id": 1, "access": 1, "refresh": 1 })
    );
    assert_eq!(
        state["logins"],
        json!([{ "sub": "alice", "client_id": "app", "at": support::START }])
    );
    assert!(
        !state.to_string().contains(&access),
        "no token in the state"
    );
}

/// RFC 7636 §4.6: a wrong or missing verifier is `invalid_grant`; `plain` compares as is; a code
/// is single use and bound to its client and redirect URI (RFC 6749 §4.1.3).
#[tokio::test]
async fn pkce_and_the_code_binding_are_checked_at_the_token_endpoint() {
    let idp = Harness::start(spec("")).await;
    let code = idp.code("app").await;
    let exchange = |verifier: &'static str| {
        [
            ("grant_type", "authorization_code"),
            ("redirect_uri", CALLBACK),
            ("code_verifier", verifier),
        ]
    };
    let mut wrong = exchange("not-the-verifier").to_vec();
    wrong.push(("code", &code));
    let got = idp.token_basic(&wrong).await;
    assert_eq!(
        (got.status, &got.json["error"]),
        (400, &json!("invalid_grant"))
    );

    // A public client proves itself by PKCE alone (`plain` here), once.
    let got = idp
        .authorize_with(&[
            ("response_type", "code"),
            ("client_id", "spa"),
            ("redirect_uri", CALLBACK),
            ("scope", "openid"),
            (
                "code_challenge",
                "plain-verifier-0123456789-0123456789-0123456789",
            ),
        ])
        .await;
    let spa_code = query_of(got.header("location").unwrap())[0].1.clone();
    let form = [
        ("grant_type", "authorization_code"),
        ("client_id", "spa"),
        ("code", spa_code.as_str()),
        ("redirect_uri", CALLBACK),
        (
            "code_verifier",
            "plain-verifier-0123456789-0123456789-0123456789",
        ),
    ];
    let got = idp.post_form("/token", &form).await;
    assert_eq!(got.status, 200, "{}", got.json);
    let again = idp.post_form("/token", &form).await;
    assert_eq!(
        (again.status, &again.json["error"]),
        (400, &json!("invalid_grant"))
    );

    // Another client's code, and a code for another redirect URI.
    let code = idp.code("spa").await;
    let got = idp
        .token_basic(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CALLBACK),
            ("code_verifier", VERIFIER),
        ])
        .await;
    assert_eq!(got.json["error"], "invalid_grant");
    let code = idp.code("app").await;
    let got = idp
        .token_basic(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "https://app.acme.test/other"),
            ("code_verifier", VERIFIER),
        ])
        .await;
    assert_eq!(got.json["error"], "invalid_grant");
}

/// RFC 6749 §4.1.2.1: an unregistered redirect URI gets no redirect; other errors go to the
/// redirect URI with `error` and `state`.
#[tokio::test]
async fn the_authorization_endpoint_checks_the_redirect_uri_and_the_response_type() {
    let idp = Harness::start(spec("")).await;
    let got = idp
        .authorize_with(&[
            ("response_type", "code"),
            ("client_id", "app"),
            ("redirect_uri", "https://evil.test/cb"),
        ])
        .await;
    assert_eq!(got.status, 400);
    assert!(got.header("location").is_none());
    assert_eq!(got.json["error"], "invalid_request");
    let got = idp
        .authorize_with(&[
            ("response_type", "token"),
            ("client_id", "app"),
            ("redirect_uri", CALLBACK),
            ("state", "s"),
        ])
        .await;
    assert_eq!(got.status, 302);
    assert_eq!(
        query_of(got.header("location").unwrap()),
        [
            ("error".to_owned(), "unsupported_response_type".to_owned()),
            ("state".to_owned(), "s".to_owned())
        ]
    );
    // The user is chosen by `login_hint` (a sub or an email) since there is no login page.
    let got = idp
        .authorize_with(&[
            ("response_type", "code"),
            ("client_id", "app"),
            ("redirect_uri", CALLBACK),
            ("login_hint", "bob@acme.test"),
        ])
        .await;
    assert_eq!(got.status, 302);
    assert_eq!(idp.state().await["logins"][0]["sub"], "bob");
}

/// RFC 6749 §2.3.1 and §5.2: `client_secret_post` works as Basic does; a bad secret by HTTP
/// Basic is `401 invalid_client` with `WWW-Authenticate`, by the form `400` without it.
#[tokio::test]
async fn client_authentication_errors_follow_rfc_6749() {
    let idp = Harness::start(spec("")).await;
    let post = idp
        .post_form(
            "/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "app"),
                ("client_secret", "s3cret"),
                ("scope", "api.read"),
            ],
        )
        .await;
    assert_eq!(post.status, 200, "{}", post.json);
    assert!(post.json.get("refresh_token").is_none(), "RFC 6749 §4.4.3");
    assert!(post.json.get("id_token").is_none());
    let (_, claims) = parts(&text(&post.json["access_token"]));
    assert_eq!(
        (&claims["sub"], &claims["scope"]),
        (&json!("app"), &json!("api.read"))
    );

    let basic = idp
        .token_as("app", "wrong", &[("grant_type", "client_credentials")])
        .await;
    assert_eq!(basic.status, 401);
    assert_eq!(basic.json["error"], "invalid_client");
    assert_eq!(
        basic.header("www-authenticate"),
        Some("Basic realm=\"oidc\"")
    );
    let form = idp
        .post_form(
            "/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "app"),
                ("client_secret", "wrong"),
            ],
        )
        .await;
    assert_eq!(
        (form.status, &form.json["error"]),
        (400, &json!("invalid_client"))
    );
    assert!(form.header("www-authenticate").is_none());
    let public = idp
        .post_form(
            "/token",
            &[("grant_type", "client_credentials"), ("client_id", "spa")],
        )
        .await;
    assert_eq!(public.json["error"], "unauthorized_client");
    let unknown = idp.token_basic(&[("grant_type", "password")]).await;
    assert_eq!(unknown.json["error"], "unsupported_grant_type");
}

/// RFC 6749 §6 and OIDC Core §12.2: a refresh answers new tokens (and a new ID token); the
/// refresh token is single use.
#[tokio::test]
async fn a_refresh_rotates_the_refresh_token_and_answers_a_new_id_token() {
    let idp = Harness::start(spec("")).await;
    let first = idp.sign_in().await;
    let refresh = text(&first.json["refresh_token"]);
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
    ];
    let got = idp.token_basic(&form).await;
    assert_eq!(got.status, 200, "{}", got.json);
    assert_ne!(text(&got.json["refresh_token"]), refresh);
    let (_, claims) = parts(&text(&got.json["id_token"]));
    assert_eq!(claims["sub"], "alice");
    assert!(claims.get("nonce").is_none(), "no nonce on a refresh");
    let again = idp.token_basic(&form).await;
    assert_eq!(
        (again.status, &again.json["error"]),
        (400, &json!("invalid_grant"))
    );
    assert_eq!(idp.state().await["tokens"]["id"], 2);
}

/// ES256 by setting: the ID token verifies with the P-256 JWK.
#[tokio::test]
async fn es256_tokens_verify_with_the_p256_jwk() {
    let idp = Harness::start(spec("      alg: ES256\n")).await;
    let got = idp.sign_in().await;
    let id_token = text(&got.json["id_token"]);
    let jwks = idp.jwks().await;
    assert_eq!(jwks["keys"][0]["crv"], "P-256");
    assert_eq!(parts(&id_token).0["alg"], "ES256");
    assert!(verifies(&id_token, &jwks));
}

/// O-01 [OKTA-KEYROT], [AUTH0-JWKS]: the next key appears in the JWKS at `publish_next_at` and
/// signs from `at`, both on the virtual clock.
#[tokio::test]
async fn kid_rotation_publishes_then_signs_with_the_next_key_at_virtual_times() {
    let idp = Harness::start(spec(
        "      rotation: { publish_next_at: \"2026-11-01T00:00:00Z\", at: \"2026-11-01T01:00:00Z\" }\n",
    ))
    .await;
    let kids = |jwks: &Value| -> Vec<String> {
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| text(&k["kid"]))
            .collect()
    };
    let before = idp.jwks().await;
    assert_eq!(kids(&before), ["reenact-rs256-1"]);
    idp.advance_by(Duration::from_secs(3600)).await;
    assert_eq!(
        kids(&idp.jwks().await),
        ["reenact-rs256-1", "reenact-rs256-2"]
    );
    let old = text(&idp.sign_in().await.json["id_token"]);
    assert_eq!(parts(&old).0["kid"], "reenact-rs256-1");
    idp.advance_by(Duration::from_secs(3600)).await;
    let new = text(&idp.sign_in().await.json["id_token"]);
    assert_eq!(parts(&new).0["kid"], "reenact-rs256-2");
    assert!(
        !verifies(&new, &before),
        "a JWKS cached before the rotation has no such key"
    );
    assert!(verifies(&new, &idp.jwks().await));
}

/// Clock: the IdP's time is the virtual clock plus an offset by default, or the real clock.
#[tokio::test]
async fn the_idp_clock_is_virtual_or_real_plus_an_offset() {
    let idp = Harness::start(spec("      clock: { offset: -2h }\n")).await;
    let (_, claims) = parts(&text(&idp.sign_in().await.json["id_token"]));
    let start = time::OffsetDateTime::parse(
        support::START,
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap()
    .unix_timestamp();
    assert_eq!(claims["iat"], start - 7200);
    assert_eq!(claims["exp"], start - 3600, "expired when issued");

    let idp = Harness::start(spec("      clock: { anchor: real, offset: 90s }\n")).await;
    let before = time::OffsetDateTime::now_utc().unix_timestamp();
    let (_, claims) = parts(&text(&idp.sign_in().await.json["id_token"]));
    let after = time::OffsetDateTime::now_utc().unix_timestamp();
    let iat = claims["iat"].as_i64().unwrap();
    assert!(
        (before + 90..=after + 90).contains(&iat),
        "{iat} vs {before}"
    );
}

/// Per-claim overrides bend exactly one rule each, and a bad signature fails verification.
#[tokio::test]
async fn claim_overrides_bend_one_rule_each() {
    let idp = Harness::start(spec(
        "      claims: { iss: \"https://old.idp.test\", aud: other-app, nonce: stale, lifetime: 5m, nbf_offset: 30s, iat_offset: -10s, tid: t-9 }\n",
    ))
    .await;
    let got = idp.sign_in().await;
    let id_token = text(&got.json["id_token"]);
    assert!(verifies(&id_token, &idp.jwks().await));
    let (_, c) = parts(&id_token);
    assert_eq!(
        (&c["iss"], &c["aud"], &c["nonce"], &c["tid"]),
        (
            &json!("https://old.idp.test"),
            &json!("other-app"),
            &json!("stale"),
            &json!("t-9")
        )
    );
    let issued = c["exp"].as_i64().unwrap() - 300;
    assert_eq!(c["nbf"].as_i64().unwrap(), issued + 30);
    assert_eq!(c["iat"].as_i64().unwrap(), issued - 10);

    let idp = Harness::start(spec("      claims: { wrong_key: true }\n")).await;
    let id_token = text(&idp.sign_in().await.json["id_token"]);
    assert_eq!(parts(&id_token).0["kid"], "reenact-rs256-1");
    assert!(
        !verifies(&id_token, &idp.jwks().await),
        "signed by an unpublished key"
    );

    let idp = Harness::start(spec("      claims: { kid: retired-key }\n")).await;
    let id_token = text(&idp.sign_in().await.json["id_token"]);
    assert!(
        !verifies(&id_token, &idp.jwks().await),
        "no such kid in the JWKS"
    );
}

/// Entra [AZUREAD-1731]: multi-tenant discovery names the `{tenantid}` template while tokens
/// carry the real tenant in `iss` and `tid`; O-03 [MS-QA-700082]: a refresh token idle for 90
/// days gets `invalid_grant` with `AADSTS700082` in `error_description`.
#[tokio::test]
async fn entra_templates_the_issuer_and_refuses_a_dormant_refresh_token_with_aadsts700082() {
    let tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    let idp = Harness::start(spec(&format!(
        "      profile: entra\n      tenant_id: {tenant}\n"
    )))
    .await;
    let common = idp
        .get("/common/v2.0/.well-known/openid-configuration")
        .await;
    assert_eq!(
        common.json["issuer"],
        "https://login.microsoftonline.com/{tenantid}/v2.0"
    );
    let base = idp.server.url().trim_end_matches('/').to_owned();
    assert_eq!(
        common.json["jwks_uri"],
        format!("{base}/common/discovery/v2.0/keys")
    );
    let own = idp
        .get(&format!("/{tenant}/v2.0/.well-known/openid-configuration"))
        .await;
    assert_eq!(
        own.json["issuer"],
        format!("https://login.microsoftonline.com/{tenant}/v2.0")
    );
    let got = idp.sign_in().await;
    let (_, claims) = parts(&text(&got.json["id_token"]));
    assert_eq!(
        claims["iss"],
        format!("https://login.microsoftonline.com/{tenant}/v2.0")
    );
    assert_eq!(claims["tid"], tenant);

    let refresh = text(&got.json["refresh_token"]);
    idp.advance_by(Duration::from_secs(91 * 86_400)).await;
    let got = idp
        .token_basic(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
        .await;
    assert_eq!(got.status, 400);
    assert_eq!(got.json["error"], "invalid_grant");
    assert_eq!(got.json["error_codes"], json!([700082]));
    let description = text(&got.json["error_description"]);
    assert!(
        description.starts_with("AADSTS700082: The refresh token has expired due to inactivity. The token was issued on 2026-10-31T23:00:00Z and was inactive for 90.00:00:00."),
        "{description}"
    );
}

/// RFC 7009 §2 and the catalog's AADSTS50173: revoking a token ends its grant; Entra answers the
/// refresh with `invalid_grant` and `AADSTS50173`. Entra's `invalid_client` is `401` by the form
/// too, with `AADSTS7000215` and Entra's body (trace and correlation ids, timestamp, error URI;
/// as quoted in `OfficeDev/microsoft-365-agents-toolkit#8621`).
#[tokio::test]
async fn entra_answers_a_revoked_grant_with_aadsts50173_and_a_bad_secret_with_aadsts7000215() {
    let idp = Harness::start(spec("      profile: entra\n")).await;
    let discovery = idp
        .get("/common/v2.0/.well-known/openid-configuration")
        .await;
    assert!(
        discovery.json.get("revocation_endpoint").is_none(),
        "Entra has none"
    );
    let got = idp.sign_in().await;
    let refresh = text(&got.json["refresh_token"]);
    let no_grant = idp.token_as("app", "s3cret", &[]).await;
    assert_eq!(no_grant.json["error"], "invalid_request", "no grant_type");
    let request = idp
        .http
        .post(idp.url("/common/oauth2/v2.0/revoke"))
        .basic_auth("app", Some("s3cret"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={refresh}"));
    let answer = idp.send(request).await;
    assert_eq!(answer.status, 200);
    let got = idp
        .token_basic(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
        .await;
    assert_eq!(
        (got.status, &got.json["error"]),
        (400, &json!("invalid_grant"))
    );
    assert_eq!(got.json["error_codes"], json!([50173]));
    assert!(
        text(&got.json["error_description"])
            .starts_with("AADSTS50173: The provided grant has expired due to it being revoked"),
        "{}",
        got.json
    );

    let bad = idp
        .post_form(
            "/common/oauth2/v2.0/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "app"),
                ("client_secret", "expired-secret"),
            ],
        )
        .await;
    assert_eq!(
        (bad.status, &bad.json["error"]),
        (401, &json!("invalid_client"))
    );
    assert!(
        bad.header("www-authenticate").is_none(),
        "no Authorization header was used"
    );
    let keys: Vec<&String> = bad.json.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "error",
            "error_description",
            "error_codes",
            "timestamp",
            "trace_id",
            "correlation_id",
            "error_uri"
        ]
    );
    assert_eq!(
        bad.json["timestamp"], "2026-10-31 23:00:00Z",
        "the virtual clock"
    );
    assert_eq!(
        bad.json["error_uri"],
        "https://login.microsoftonline.com/error?code=7000215"
    );
    let description = text(&bad.json["error_description"]);
    assert!(
        description.starts_with("AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app 'app'.\r\nTrace ID: "),
        "{description}"
    );
    assert!(
        description.ends_with("\r\nTimestamp: 2026-10-31 23:00:00Z"),
        "{description}"
    );
}

/// Okta's and Google's words for a used refresh token (`okta/okta-react-native#109`,
/// `GeneralTask/task-manager#997`), and Google's `invalid_client` at `401`
/// (`Edujugon/laravel-google-ads#17`).
#[tokio::test]
async fn okta_and_google_word_their_refusals_as_their_token_endpoints_do() {
    let okta = Harness::start(spec("      profile: okta\n      domain: acme.okta.com\n")).await;
    let discovery = okta
        .get("/oauth2/default/.well-known/openid-configuration")
        .await;
    assert_eq!(
        discovery.json["issuer"],
        "https://acme.okta.com/oauth2/default"
    );
    let base = okta.server.url().trim_end_matches('/').to_owned();
    assert_eq!(
        discovery.json["jwks_uri"],
        format!("{base}/oauth2/default/v1/keys")
    );
    let refresh = text(&okta.sign_in().await.json["refresh_token"]);
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
    ];
    assert_eq!(okta.token_basic(&form).await.status, 200);
    let used = okta.token_basic(&form).await;
    assert_eq!(
        used.json,
        json!({ "error": "invalid_grant", "error_description": "The refresh token is invalid or expired." })
    );

    let google = Harness::start(spec("      profile: google\n")).await;
    let refresh = text(&google.sign_in().await.json["refresh_token"]);
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
    ];
    assert_eq!(google.token_basic(&form).await.status, 200);
    let used = google.token_basic(&form).await;
    assert_eq!(
        used.json,
        json!({ "error": "invalid_grant", "error_description": "Token has been expired or revoked." })
    );
    let unknown = google
        .post_form(
            "/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "nobody"),
            ],
        )
        .await;
    assert_eq!(unknown.status, 401);
    assert_eq!(
        unknown.json,
        json!({ "error": "invalid_client", "error_description": "The OAuth client was not found." })
    );
}

/// The catalog's AADSTS700084: an SPA's refresh tokens live 24 hours from the sign-in, however
/// often they are used (`AzureAD/microsoft-authentication-library-for-js#6765` for the text,
/// #3421: "non-sliding").
#[tokio::test]
async fn an_entra_spa_refresh_token_ends_24_hours_after_the_sign_in_with_aadsts700084() {
    let idp = Harness::start(load_mock(&format!(
        "id: oidc\ntitle: oidc\nmocks:\n  idp:\n    provider: oidc\n    with:\n      profile: entra\n      clients:\n        - {{ client_id: spa, redirect_uris: [\"{CALLBACK}\"], spa: true }}\n      users: [{{ sub: alice }}]\nflow:\n  - request: {{ method: GET, path: / }}\n"
    )))
    .await;
    let code = idp.code("spa").await;
    let got = idp
        .post_form(
            "/common/oauth2/v2.0/token",
            &[
                ("grant_type", "authorization_code"),
                ("client_id", "spa"),
                ("code", &code),
                ("redirect_uri", CALLBACK),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;
    assert_eq!(got.status, 200, "{}", got.json);
    let mut refresh = text(&got.json["refresh_token"]);
    // Used every 8 hours, it still ends at hour 24.
    for _ in 0..2 {
        idp.advance_by(Duration::from_secs(8 * 3600)).await;
        let got = idp
            .post_form(
                "/token",
                &[
                    ("grant_type", "refresh_token"),
                    ("client_id", "spa"),
                    ("refresh_token", &refresh),
                ],
            )
            .await;
        assert_eq!(got.status, 200, "{}", got.json);
        refresh = text(&got.json["refresh_token"]);
    }
    idp.advance_by(Duration::from_secs(8 * 3600)).await;
    let got = idp
        .post_form(
            "/token",
            &[
                ("grant_type", "refresh_token"),
                ("client_id", "spa"),
                ("refresh_token", &refresh),
            ],
        )
        .await;
    assert_eq!(
        (got.status, &got.json["error"]),
        (400, &json!("invalid_grant"))
    );
    assert_eq!(got.json["error_codes"], json!([700084]));
    assert!(
        text(&got.json["error_description"]).starts_with("AADSTS700084: The refresh token was issued to a single page app (SPA), and therefore has a fixed, limited lifetime of 1.00:00:00, which cannot be extended. It is now expired and a new sign in request must be sent by the SPA to the sign in page. The token was issued on 2026-10-31T23:00:00Z."),
        "{}",
        got.json
    );
}

/// A scenario's own key (`with.keys`, a PEM file in the scenario root) signs, under its `kid`,
/// and the JWKS publishes its public half: the modulus below was read from the file with
/// `openssl rsa -modulus`, outside reenact.
#[tokio::test]
async fn a_scenario_key_signs_under_its_kid_and_the_jwks_publishes_its_modulus() {
    const MODULUS: &str = "mX1cwk1IlZjhn5KFrtXtObQhk60Ro3xaeuoiH092N7TT1lnNYXRXFi4FrBqqyrGN6Llcx-FVuhVMl1lXnEkx9HdGfERcGINhskpZ9jVOLLfOMy08jU0FpxPnn3zc1YIBZZHQCAk8xQP1FFSvob7V-aP_KrSTB_gHQpPB6Pfwqg0HrPxg3JN9HNrksYDgwh8KPE4qlYcLe0-Ietvr4viwASVte9KDGdXyn9WFtcCoE5ZePChIG_i9Hq4PS_-6wIPcPNvdwzTfV5-TTUZP5SjvxgkHrsEyLJTwE2ufztHo0dt8luJrIHdS8UUsQ6fsgOt_AZY_x5EQvhsXttq1HfGFHQ";
    let idp = Harness::start(spec(
        "      keys: [{ file: tests/fixtures/invalid/oidc/acme-rs256.pem, kid: acme-2026 }]\n",
    ))
    .await;
    let jwks = idp.jwks().await;
    assert_eq!(jwks["keys"][0]["kid"], "acme-2026");
    assert_eq!(jwks["keys"][0]["n"], MODULUS);
    assert_eq!(
        jwks["keys"][1]["kid"], "reenact-rs256-2",
        "the next key stays built in"
    );
    let id_token = text(&idp.sign_in().await.json["id_token"]);
    assert_eq!(parts(&id_token).0["kid"], "acme-2026");
    assert!(verifies(&id_token, &jwks));
}
