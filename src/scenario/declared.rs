//! The secrets a scenario declares, [`Scenario::secrets`]: the values it puts where a secret goes
//! (`snapshot.secrets`, provider keys and passwords, webhook signing keys, secret-named headers,
//! query parameters, form fields, JSON keys and environment variables), known before or after
//! its flow runs. The run adds what secret-named fields carried (`Observation::secrets_seen`).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::scenario::model::{
    BankAuth, BodyMatcher, Check, ProviderSpec, RequestBody, RequestMatcher, RequestSpec,
    ResponseBody, ResponseCheck, ResponseSpec, Scenario, SftpCredential, StepAction, ValueMatcher,
    WebhookBody,
};
use crate::scenario::template::{Template, Vars};
use crate::secrets::{Secrets, is_secret_name, is_secret_param};

impl Scenario {
    /// Every value this scenario declares secret, with `{{ env.NAME }}` read from reenact's
    /// environment (as a run renders it) and the flow's `captures` so far (none before a run;
    /// a template naming a capture not known yet is left out).
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use std::path::Path;
    ///
    /// let scenario = reenact::scenario::load_bytes(Path::new("s.yaml"), Path::new("."), br#"
    /// id: s
    /// title: a declared secret
    /// flow: [{ request: { method: GET, path: /, headers: { X-Api-Key: key-0123456789 } } }]
    /// snapshot: { secrets: [cust-ref-8c7b6a5d] }
    /// "#).unwrap();
    /// let secrets = scenario.secrets(&BTreeMap::new());
    /// assert_eq!(
    ///     secrets.redact("key-0123456789 and cust-ref-8c7b6a5d"),
    ///     "[redacted] and [redacted]"
    /// );
    /// ```
    pub fn secrets(&self, captures: &BTreeMap<String, String>) -> Secrets {
        let mut collect = Collector {
            secrets: Secrets::new(),
            captures,
        };
        for template in &self.snapshot.secrets {
            collect.template(template, true);
        }
        for (name, value) in &self.target.env {
            collect.template(value, is_secret_name(name));
        }
        for mock in &self.mocks {
            for stub in &mock.stubs {
                collect.matcher(&stub.request);
                for response in &stub.responses.responses {
                    collect.response(response);
                }
            }
            for limit in &mock.rate_limits {
                if let Some(matcher) = &limit.request {
                    collect.matcher(matcher);
                }
                collect.response(&limit.response);
            }
            collect.provider(mock.provider.as_ref());
        }
        for step in &self.flow {
            match &step.action {
                StepAction::Request {
                    request, expect, ..
                } => {
                    collect.request(request);
                    expect
                        .iter()
                        .for_each(|check| collect.response_check(check));
                }
                StepAction::Poll { request, until, .. } => {
                    collect.request(request);
                    collect.response_check(until);
                }
                StepAction::SsoLogin { login, expect, .. } => {
                    expect
                        .iter()
                        .for_each(|check| collect.response_check(check));
                    collect.request(&login.start);
                    if let Some(user) = &login.user {
                        collect.template(&user.value, false);
                    }
                }
                StepAction::Webhook { webhook, expect } => {
                    expect
                        .iter()
                        .for_each(|check| collect.response_check(check));
                    collect.template(&webhook.path, false);
                    for (name, value) in &webhook.headers {
                        collect.header(name, value);
                    }
                    match &webhook.body {
                        Some(WebhookBody::Json(value)) => collect.json_templates(value, false),
                        Some(WebhookBody::Text(text)) => collect.text_template(text),
                        Some(WebhookBody::Bytes(_)) | None => {}
                    }
                    if let Some(sign) = &webhook.sign {
                        collect.template(&sign.secret, true);
                    }
                }
                StepAction::AdvanceClock { .. } => {}
            }
        }
        for expectation in &self.expect {
            match &expectation.check {
                Check::Step { check, .. } => collect.response_check(check),
                Check::MockCount { request, .. } => collect.matcher(request),
                Check::MockOrder { order, .. } => order.iter().for_each(|m| collect.matcher(m)),
                Check::Unmatched { .. } | Check::MockState { .. } => {}
            }
        }
        collect.secrets
    }
}

/// Walks a scenario, adding what it declares secret.
struct Collector<'c> {
    secrets: Secrets,
    captures: &'c BTreeMap<String, String>,
}

impl Vars for Collector<'_> {
    fn lookup(&self, path: &[String]) -> Option<String> {
        match path {
            [scope, name] if scope == "env" => std::env::var(name).ok(),
            [name] => self.captures.get(name).cloned(),
            _ => None,
        }
    }
}

impl Collector<'_> {
    /// A template: rendered and added when it sits where a secret goes (`secret`); the value
    /// of every `{{ env.NAME }}` it names is added when it is secret or NAME is a secret name.
    fn template(&mut self, template: &Template, secret: bool) {
        let env: Vec<String> = template
            .vars()
            .filter_map(|var| match var.path.as_slice() {
                [scope, name] if scope == "env" && (secret || is_secret_name(name)) => {
                    std::env::var(name).ok()
                }
                _ => None,
            })
            .collect();
        for value in env {
            self.secrets.add(&value);
        }
        if secret && let Ok(value) = template.render(&*self) {
            self.secrets.add(&value);
        }
    }

    /// A header's template: as [`Collector::template`], and a secret header's credentials on
    /// their own (`Bearer T` → `T` too).
    fn header(&mut self, name: &str, template: &Template) {
        self.template(template, is_secret_name(name));
        if let Ok(value) = template.render(&*self) {
            self.secrets.add_header(name, &value);
        }
    }

    /// A text body template: its literal text's secret pairs, and its secret `env` values.
    fn text_template(&mut self, template: &Template) {
        self.template(template, false);
        if template.is_literal() {
            self.secrets.add_text(template.source());
        }
    }

    /// The string leaves of a JSON body, which are templates: secret under a secret-named key.
    fn json_templates(&mut self, value: &Value, secret: bool) {
        match value {
            Value::Object(map) => {
                for (key, item) in map {
                    self.json_templates(item, secret || is_secret_name(key));
                }
            }
            Value::Array(items) => {
                for item in items {
                    self.json_templates(item, secret);
                }
            }
            Value::String(text) => {
                if let Ok(template) = Template::parse(text) {
                    self.template(&template, secret);
                }
            }
            Value::Number(number) if secret => self.secrets.add(&number.to_string()),
            _ => {}
        }
    }

    fn request(&mut self, request: &RequestSpec) {
        self.template(&request.path, false);
        if request.path.is_literal()
            && let Some((_, query)) = request.path.source().split_once('?')
        {
            self.secrets.add_form(query);
        }
        for (name, value) in &request.query {
            self.template(value, is_secret_param(name));
        }
        for (name, value) in &request.headers {
            self.header(name, value);
        }
        match &request.body {
            Some(RequestBody::Json(value)) => self.json_templates(value, false),
            Some(RequestBody::Text(text)) => self.text_template(text),
            None => {}
        }
    }

    /// What a check on the target's responses expects under secret names: a secret-named
    /// header's values (a `Set-Cookie` session, an `Authorization` echo) and the JSON subset's
    /// values under secret keys.
    fn response_check(&mut self, check: &ResponseCheck) {
        for (name, value) in &check.headers {
            if is_secret_name(name) {
                for text in expected(value) {
                    // The whole text (a `contains` fragment), and its credential or cookie value.
                    self.secrets.add(&text);
                    self.secrets.add_header(name, &text);
                }
            }
        }
        if let Some(json) = &check.json {
            self.secrets.add_json(json);
        }
    }

    /// What a stub expects under secret names: header, query, form and part-header values it
    /// compares with, every cookie value (the `Cookie` header is secret as a whole), and secret
    /// keys of the JSON it expects, a multipart part's included.
    fn matcher(&mut self, matcher: &RequestMatcher) {
        let mut found: Vec<String> = Vec::new();
        for (name, value) in &matcher.headers {
            if is_secret_name(name) {
                found.extend(expected(value));
            }
        }
        for (_, value) in &matcher.cookies {
            found.extend(expected(value));
        }
        for (name, value) in &matcher.query {
            if is_secret_param(name) {
                found.extend(expected(value));
            }
        }
        self.body_conditions(&matcher.body, &mut found);
        for value in found {
            self.secrets.add(&value);
        }
    }

    /// What body conditions expect under secret names, into `found` (JSON keys go straight to
    /// the secrets).
    fn body_conditions(&mut self, conditions: &[BodyMatcher], found: &mut Vec<String>) {
        for condition in conditions {
            match condition {
                BodyMatcher::Form { fields } => {
                    for (name, value) in fields {
                        if is_secret_param(name) {
                            found.extend(expected(value));
                        }
                    }
                }
                BodyMatcher::JsonEquals { value }
                | BodyMatcher::JsonPartial { value }
                | BodyMatcher::JsonLike { value, .. } => {
                    self.secrets.add_json(value);
                }
                BodyMatcher::JsonPath {
                    value: Some(value), ..
                } => self.secrets.add_json(value),
                BodyMatcher::Multipart {
                    headers, content, ..
                } => {
                    for (name, value) in headers {
                        if is_secret_name(name) {
                            found.extend(expected(value));
                        }
                    }
                    self.body_conditions(content, found);
                }
                BodyMatcher::JsonPath { value: None, .. }
                | BodyMatcher::XPath { .. }
                | BodyMatcher::Contains { .. } => {}
            }
        }
    }

    /// What a stub answers under secret names (a `Set-Cookie`, a token in its JSON).
    fn response(&mut self, response: &ResponseSpec) {
        for (name, value) in &response.headers {
            self.secrets.add_header(name, value);
        }
        match &response.body {
            ResponseBody::Json(value) => self.secrets.add_json(value),
            ResponseBody::Text(text) | ResponseBody::Raw(text) => self.secrets.add_text(text),
            ResponseBody::Empty => {}
        }
    }

    /// A provider's secret settings: webhook keys, verifier tokens, passwords.
    fn provider(&mut self, provider: Option<&ProviderSpec>) {
        let secrets = match provider {
            Some(ProviderSpec::Xero(settings)) => settings.webhook_key.iter().collect(),
            Some(ProviderSpec::QuickBooks(settings)) => settings.verifier_token.iter().collect(),
            Some(ProviderSpec::Intacct(settings)) => std::iter::once(&settings.sender.password)
                .chain(
                    settings
                        .companies
                        .iter()
                        .flat_map(|company| company.users.iter().map(|user| &user.password)),
                )
                .collect(),
            Some(ProviderSpec::Saml(settings)) => {
                settings.keys.iter().map(|pair| &pair.key_pem).collect()
            }
            Some(ProviderSpec::Oidc(settings)) => settings
                .clients
                .iter()
                .filter_map(|client| client.client_secret.as_ref())
                .chain(settings.keys.iter().map(|key| &key.pem))
                .collect(),
            Some(ProviderSpec::Bank(settings)) => {
                let auth = match &settings.auth {
                    Some(BankAuth::Basic { password, .. }) => Some(password),
                    Some(BankAuth::Bearer { token }) => Some(token),
                    None => None,
                };
                let sftp = settings.sftp.iter().flat_map(|sftp| {
                    sftp.users
                        .iter()
                        .filter_map(|user| match &user.credential {
                            SftpCredential::Password(password) => Some(password),
                            SftpCredential::PublicKey(_) => None,
                        })
                        .chain(sftp.host_key.as_ref())
                });
                auth.into_iter().chain(sftp).collect()
            }
            Some(ProviderSpec::Sage(_)) | None => Vec::new(),
        };
        for secret in secrets {
            self.secrets.add(&secret.0);
        }
    }
}

/// The values a value matcher compares with, which are secret under a secret name.
fn expected(value: &ValueMatcher) -> Vec<String> {
    match value {
        ValueMatcher::Equals(text) | ValueMatcher::Contains(text) => vec![text.clone()],
        ValueMatcher::OneOf(texts) => texts.clone(),
        // A value that must not be sent (a revoked token) is a secret all the same.
        ValueMatcher::Not(inner) => expected(inner),
        ValueMatcher::Regex(_) | ValueMatcher::Present(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn declared_secrets_are_collected_from_every_place_a_secret_goes() {
        // SAFETY: the variable name is unique to this test; nothing else reads it.
        unsafe { std::env::set_var("REENACT_TEST_DECLARED_TOKEN", "env-token-0123456789") };
        let yaml = r#"
id: declared
title: declared secrets
mocks:
  partner:
    stubs:
      - request:
          method: POST
          path: /token
          headers: { X-Api-Key: expected-key-000 }
          query: { key: query-key-0123 }
          form: { client_secret: form-secret-0123, grant_type: client_credentials }
        response:
          headers: { Set-Cookie: "sid=cookie-sid-0123; Path=/" }
          json: { access_token: stub-token-0123, expires_in: 3600 }
      - request:
          method: POST
          path: /upload
          cookies: { lang: cookie-lang-0123 }
          multipart:
            - headers: { X-Upload-Token: part-token-0123, Content-Type: text/plain-0123 }
              json_partial: { password: part-password-0123 }
        response: { status: 201 }
  xero:
    provider: xero
    with:
      tenants: [{ id: 8d2e4c6a-1f3b-4a5c-8e7d-9f0a1b2c3d4e, name: Planted Ltd }]
      webhook_key: xero-webhook-key-0123
target:
  url: "{{ mocks.partner.url }}"
  env:
    WEBHOOK_SIGNING_KEY: env-signing-key-0123
    LOG_LEVEL: debug-verbose-0123
flow:
  - name: log in
    request:
      method: POST
      path: /login?sig=path-sig-0123
      headers: { Authorization: "Bearer {{ env.REENACT_TEST_DECLARED_TOKEN }}" }
      json: { user: ana, password: json-password-0123 }
    capture: { at: $.at }
    expect:
      headers: { set-cookie: { contains: check-session-0123 }, x-trace: trace-0123 }
      json: { refresh_token: check-refresh-0123 }
  - webhook:
      mock: partner
      path: /hook
      body: "secret=body-secret-0123"
      sign: { secret: sign-secret-0123, header: x-signature }
expect:
  - mock: partner
    count: 1
    request: { headers: { Authorization: { one_of: [count-bearer-0123] } } }
snapshot:
  secrets: [declared-literal-0123, "{{ at }}"]
"#;
        let scenario = crate::scenario::load_bytes(
            Path::new("declared.yaml"),
            Path::new("."),
            yaml.as_bytes(),
        )
        .expect("valid scenario");
        let before = scenario.secrets(&BTreeMap::new());
        let expected = [
            "expected-key-000",
            "query-key-0123",
            "form-secret-0123",
            "cookie-sid-0123",
            "stub-token-0123",
            "xero-webhook-key-0123",
            "env-signing-key-0123",
            "path-sig-0123",
            "env-token-0123456789",
            "Bearer env-token-0123456789",
            "json-password-0123",
            "body-secret-0123",
            "sign-secret-0123",
            "declared-literal-0123",
            "check-session-0123",
            "check-refresh-0123",
            "count-bearer-0123",
            // Issue 16: every cookie a stub expects (the `Cookie` header is secret as a whole),
            // a part's secret-named header and a secret key of a part's JSON.
            "cookie-lang-0123",
            "part-token-0123",
            "part-password-0123",
        ];
        for value in expected {
            assert_eq!(
                before.redact(value),
                "[redacted]",
                "`{value}` not collected"
            );
        }
        for value in [
            "debug-verbose-0123",
            "text/plain-0123",
            "client_credentials",
            "8d2e4c6a-1f3b-4a5c-8e7d-9f0a1b2c3d4e",
            "trace-0123",
        ] {
            assert_eq!(before.redact(value), value, "`{value}` is not secret");
        }
        assert_eq!(before.len(), expected.len(), "{before:?}");
        // After the flow, a declared template over a capture is known too.
        let captures = BTreeMap::from([("at".to_owned(), "captured-token-0123".to_owned())]);
        let after = scenario.secrets(&captures);
        assert_eq!(after.redact("captured-token-0123"), "[redacted]");
    }

    /// `provider: bank`'s password or bearer token is a declared secret; the user name is not.
    #[test]
    fn the_bank_credentials_are_declared_secrets() {
        for (auth, secret, plain) in [
            (
                "{ basic: { username: acme-user, password: bank-pw-0123 } }",
                "bank-pw-0123",
                Some("acme-user"),
            ),
            ("{ bearer: bank-token-0123 }", "bank-token-0123", None),
        ] {
            let yaml = format!(
                "id: bank\ntitle: bank\nmocks:\n  bank:\n    provider: bank\n    with:\n      bank: {{ bic: DEUTDEFF, name: Bank }}\n      auth: {auth}\n      accounts: [{{ id: a, number: \"1\", currency: EUR, opening: {{ date: 2026-11-02, balance: \"0\" }} }}]\n      statements: []\nflow:\n  - request: {{ mock: bank, method: GET, path: /statements }}\n"
            );
            let scenario = crate::scenario::load_bytes(
                Path::new("bank.yaml"),
                Path::new("."),
                yaml.as_bytes(),
            )
            .expect("valid scenario");
            let secrets = scenario.secrets(&BTreeMap::new());
            assert_eq!(secrets.redact(secret), "[redacted]", "{auth}");
            assert_eq!(secrets.len(), 1, "{auth}");
            if let Some(plain) = plain {
                assert_eq!(secrets.redact(plain), plain);
            }
        }
    }
}
