//! `reenact new`'s scaffold: the text of a commented starting scenario for a ticket and the
//! providers it involves ([`Scaffold::render`]), and the file name it goes to.
//!
//! The scenario passes `reenact check` as written: each provider gets a mock with its `provider:`
//! key and the settings users most need (with the optional ones commented out and a pointer to
//! its page under `docs/providers/`), the target section takes its command from `reenact.toml`,
//! and the flow and the expectations are one-step skeletons marked `TODO`. Values the user typed
//! (ticket, title, customer) go into the YAML as JSON strings, a subset of YAML's double-quoted
//! scalars, so no input can change the document's structure; they never go into comments.

/// Longest ticket accepted (characters).
pub(crate) const MAX_TICKET: usize = 64;
/// Longest title or customer name accepted (characters).
pub(crate) const MAX_TEXT: usize = 200;
/// Longest slug of the title in the scenario id and file name (characters).
const MAX_TITLE_SLUG: usize = 48;

/// What a scaffold can start a mock as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Provider {
    /// `provider: bank`: statement files, payment files, SFTP.
    Bank,
    /// `provider: intacct`: Sage Intacct's XML gateway.
    Intacct,
    /// `provider: oidc`: an OpenID Connect provider (Entra, Okta, Google, generic).
    Oidc,
    /// `provider: quickbooks`: QuickBooks Online.
    QuickBooks,
    /// `provider: sage`: Sage Business Cloud Accounting.
    Sage,
    /// `provider: saml`: a SAML 2.0 identity provider.
    Saml,
    /// A plain mock of stubs, for any HTTP API.
    Stubs,
    /// `provider: xero`: Xero's Accounting API and identity server.
    Xero,
}

impl Provider {
    /// Every provider, in the order of the numbered list the interactive mode shows.
    pub(crate) const ALL: [Provider; 8] = [
        Provider::Xero,
        Provider::QuickBooks,
        Provider::Intacct,
        Provider::Sage,
        Provider::Oidc,
        Provider::Saml,
        Provider::Bank,
        Provider::Stubs,
    ];

    /// The name `--provider` takes (and `provider:` in the scenario, but for `stubs`).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Provider::Bank => "bank",
            Provider::Intacct => "intacct",
            Provider::Oidc => "oidc",
            Provider::QuickBooks => "quickbooks",
            Provider::Sage => "sage",
            Provider::Saml => "saml",
            Provider::Stubs => "stubs",
            Provider::Xero => "xero",
        }
    }

    /// What it fakes, in a few words.
    pub(crate) fn summary(self) -> &'static str {
        match self {
            Provider::Bank => "a bank: statement files (MT940, BAI2, camt.053), payments, SFTP",
            Provider::Intacct => "Sage Intacct's XML gateway",
            Provider::Oidc => "an OpenID Connect provider (Entra, Okta, Google, generic)",
            Provider::QuickBooks => "QuickBooks Online",
            Provider::Sage => "Sage Business Cloud Accounting",
            Provider::Saml => "a SAML 2.0 identity provider",
            Provider::Stubs => "any HTTP API, as stubs you write",
            Provider::Xero => "Xero's Accounting API and identity server",
        }
    }

    /// The provider `name` names (as `--provider` takes it, any case).
    pub(crate) fn parse(name: &str) -> Result<Provider, ScaffoldError> {
        let wanted = name.trim().to_ascii_lowercase();
        Provider::ALL
            .into_iter()
            .find(|provider| provider.name() == wanted)
            .ok_or_else(|| ScaffoldError::UnknownProvider {
                name: name.to_owned(),
                suggestion: crate::scenario::suggest::did_you_mean(&wanted, &Provider::names()),
            })
    }

    /// Every name `--provider` takes.
    pub(crate) fn names() -> Vec<&'static str> {
        Provider::ALL.into_iter().map(Provider::name).collect()
    }

    /// The mock's name in the scenario.
    fn mock(self) -> &'static str {
        match self {
            Provider::Stubs => "api",
            other => other.name(),
        }
    }

    /// The environment variable the target reads the mock's URL from, in the skeleton.
    fn env_var(self) -> &'static str {
        match self {
            Provider::Bank => "BANK_URL",
            Provider::Intacct => "INTACCT_URL",
            Provider::Oidc => "OIDC_ISSUER_URL",
            Provider::QuickBooks => "QUICKBOOKS_URL",
            Provider::Sage => "SAGE_URL",
            Provider::Saml => "SAML_IDP_URL",
            Provider::Stubs => "API_URL",
            Provider::Xero => "XERO_URL",
        }
    }

    /// The mock's settings, indented for its place under `mocks.NAME:`.
    fn settings(self) -> &'static str {
        match self {
            Provider::Xero => {
                "    # Xero's Accounting API and identity server: docs/providers/xero.md
    provider: xero
    with:
      tenants:                         # the organisations a consent connects (id: a UUID)
        - { id: 0b9c6a52-6f0e-4c2e-9a51-3f2f1d7e8a10, name: Acme Corp }
      # period_lock_date: 2026-10-31   # refuse documents dated on or before it
      # currencies: [GBP, USD]         # refuse invoices in other currencies
    # faults:                          # e.g. the bill is saved, then answered too late
    #   - name: the first bill is saved, then answered after the client gave up
    #     when: { method: PUT, path: /api.xro/2.0/Invoices }
    #     nth: 1
    #     action: { commit_then: { delay: 3s } }
"
            }
            Provider::QuickBooks => {
                "    # QuickBooks Online and Intuit's OAuth 2.0: docs/providers/quickbooks.md
    provider: quickbooks
    with:
      realms:                          # the companies (realm ids)
        - { id: \"9130347596783456\", name: Acme Corp }
      # books_closed_date: 2026-09-30  # refuse changes on or before it
      # refresh_rotation: 24h          # how often the refresh token rotates
    # faults:                          # e.g. the bill is saved, the answer lost
    #   - name: the bill is saved, the connection drops
    #     when: { method: POST, path: /v3/company/9130347596783456/bill }
    #     nth: 1
    #     action: { commit_then: { reset: true } }
"
            }
            Provider::Intacct => {
                "    # Sage Intacct's XML Web Services gateway: docs/providers/intacct.md
    provider: intacct
    with:
      sender: { id: acme-sender, password: sender-test-pass }   # test values, not real ones
      companies:
        - id: acme-ltd
          users: [{ id: ws-export, password: user-test-pass }]
          # entities: [US-EAST, US-WEST]
      # session_lifetime: 30m
      # rate_limits: { minute: 60, concurrent: 2 }
"
            }
            Provider::Sage => {
                "    # Sage Business Cloud Accounting: docs/providers/sage.md
    provider: sage
    with:
      businesses:                      # exactly one is the lead business
        - { id: 8a1f0c7e5b2d4e6f9a3c1b0d2e4f6a8c, name: Acme Ltd, lead: true }
      # redirect_uri: https://app.example.com/sage/callback
      # read_only: [contacts]          # collections the user may only read
"
            }
            Provider::Oidc => {
                "    # An OpenID Connect provider that signs for real: docs/providers/oidc.md
    provider: oidc
    with:
      # profile: entra                 # generic (default) | entra | okta | google
      clients:
        - client_id: my-service
          client_secret: test-client-secret   # a test value; omit for a public client
          redirect_uris: [\"https://app.acme.test/auth/callback\"]
      users:
        - { sub: alice, email: alice@acme.test, name: Alice }
      # clock: { anchor: real, offset: 90s }   # an IdP whose clock is ahead
"
            }
            Provider::Saml => {
                "    # A SAML 2.0 identity provider that signs for real: docs/providers/saml.md
    provider: saml
    with:
      entity_id: https://idp.acme.test/saml
      sp:                              # the service provider it serves: your service
        entity_id: https://app.acme.test/saml/metadata
        acs_url: https://app.acme.test/saml/acs
      users:
        - name_id: alice@acme.test
          attributes: { email: alice@acme.test }
      # sign: both                     # response | assertion | both (default) | none
      # clock_offset: -10m             # an IdP whose clock is behind
"
            }
            Provider::Bank => {
                "    # A bank: statement files, payment files, SFTP: docs/providers/bank.md
    provider: bank
    with:
      bank: { bic: DEUTDEFFXXX, name: Deutsche Bank AG }
      # auth: { bearer: test-bank-token }   # default: open
      accounts:
        - id: operating
          iban: DE89 3704 0044 0532 0130 00
          currency: EUR
          owner: Acme Robotics GmbH
          opening: { date: 2026-11-02, balance: \"1200.50\" }
          transactions:
            - { booked: 2026-11-02, amount: \"-250.00\", purpose: Invoice 42 }
      statements:
        - { name: operating-2026-11-02.sta, format: mt940, accounts: [operating], from: 2026-11-02 }
"
            }
            Provider::Stubs => {
                "    # A plain mock: stubs answer what they match; see \"Mocks\" in docs/scenario-format.md
    stubs:
      - name: TODO the call your service makes
        request: { method: GET, path: /v1/status }
        response: { status: 200, json: { status: ok } }
"
            }
        }
    }

    /// A commented example of an expectation on what the mock saw or holds.
    fn example_expectation(self) -> &'static str {
        match self {
            Provider::Xero => "state: invoices\n  #   count: 1",
            Provider::QuickBooks => "state: bills\n  #   unique_by: DocNumber",
            Provider::Intacct => "state: bills\n  #   unique_by: RECORDID",
            Provider::Sage => "state: purchase_invoices\n  #   count: 1",
            Provider::Oidc => "request: { method: POST, path: /token }\n  #   count: 1",
            Provider::Saml => "state: logins\n  #   count: 1",
            Provider::Bank => "state: downloads\n  #   count: 1",
            Provider::Stubs => "request: { method: GET, path: /v1/status }\n  #   count: 1",
        }
    }
}

/// The four severities, worst first.
pub(crate) const SEVERITIES: [&str; 4] = ["sev1", "sev2", "sev3", "sev4"];

/// What to scaffold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Scaffold {
    /// The support ticket, e.g. `SUP-1234`.
    pub(crate) ticket: String,
    /// The one-line title, if known.
    pub(crate) title: Option<String>,
    /// The providers, each once, in the order given.
    pub(crate) providers: Vec<Provider>,
    /// The customer affected, if known.
    pub(crate) customer: Option<String>,
    /// `sev1` … `sev4`, if known.
    pub(crate) severity: Option<String>,
}

/// Why the inputs make no scaffold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ScaffoldError {
    /// `--provider` names no provider.
    #[error("unknown provider `{name}`")]
    UnknownProvider {
        /// The name given.
        name: String,
        /// The closest provider name, if one is close.
        suggestion: Option<&'static str>,
    },
    /// No provider at all.
    #[error("no provider given")]
    NoProvider,
    /// The ticket has no letter or digit.
    #[error("ticket `{0}` has no letter or digit to name the scenario by")]
    Ticket(String),
    /// A value is longer than its budget.
    #[error("the {what} is {length} characters long, more than {max}")]
    TooLong {
        /// `ticket`, `title` or `customer`.
        what: &'static str,
        /// Its length.
        length: usize,
        /// The budget.
        max: usize,
    },
    /// A value holds a line break or another control character.
    #[error("the {0} holds a line break or another control character")]
    Control(&'static str),
    /// Not `sev1` … `sev4`.
    #[error("unknown severity `{value}`")]
    Severity {
        /// The value given.
        value: String,
        /// The closest severity, if one is close.
        suggestion: Option<&'static str>,
    },
}

impl ScaffoldError {
    /// What to do about it, as a `help:` line.
    pub(crate) fn help(&self) -> String {
        match self {
            ScaffoldError::UnknownProvider { suggestion, .. } => {
                let list = Provider::names().join(", ");
                match suggestion {
                    Some(name) => format!("did you mean `{name}`? providers: {list}"),
                    None => format!("providers: {list}"),
                }
            }
            ScaffoldError::NoProvider => format!(
                "name at least one with `--provider`: {}",
                Provider::names().join(", ")
            ),
            ScaffoldError::Ticket(_) => "e.g. `--ticket SUP-1234`".to_owned(),
            ScaffoldError::TooLong { what, .. } => format!("shorten the {what}"),
            ScaffoldError::Control(what) => format!("give the {what} on one line"),
            ScaffoldError::Severity { suggestion, .. } => match suggestion {
                Some(name) => format!("did you mean `{name}`? severities: sev1 (worst) … sev4"),
                None => "severities: sev1 (worst) … sev4".to_owned(),
            },
        }
    }
}

/// `value` trimmed, checked against its budget and for control characters; `None` when empty.
pub(crate) fn clean_text(
    what: &'static str,
    value: &str,
    max: usize,
) -> Result<Option<String>, ScaffoldError> {
    let value = value.trim();
    let length = value.chars().count();
    if length > max {
        return Err(ScaffoldError::TooLong { what, length, max });
    }
    if value.chars().any(char::is_control) {
        return Err(ScaffoldError::Control(what));
    }
    Ok((!value.is_empty()).then(|| value.to_owned()))
}

/// `ticket` trimmed, if it can name a scenario: within its budget, on one line, with a letter or
/// digit.
pub(crate) fn check_ticket(ticket: &str) -> Result<String, ScaffoldError> {
    let ticket = clean_text("ticket", ticket, MAX_TICKET)?.unwrap_or_default();
    if slug(&ticket, MAX_TICKET).is_empty() {
        return Err(ScaffoldError::Ticket(ticket));
    }
    Ok(ticket)
}

/// The severity `value` names (`sev2`, `SEV2`, `2`).
pub(crate) fn parse_severity(value: &str) -> Result<&'static str, ScaffoldError> {
    let wanted = value.trim().to_ascii_lowercase();
    let wanted = if wanted.len() == 1 {
        format!("sev{wanted}")
    } else {
        wanted
    };
    SEVERITIES
        .into_iter()
        .find(|severity| *severity == wanted)
        .ok_or_else(|| ScaffoldError::Severity {
            value: value.to_owned(),
            // `sev5` is no typo of `sev1`: the list says what there is.
            suggestion: (!wanted.starts_with("sev"))
                .then(|| crate::scenario::suggest::did_you_mean(&wanted, &SEVERITIES))
                .flatten(),
        })
}

/// Lowercase ASCII letters and digits of `text`, every other run of characters one `-`, at
/// most `max` characters, cut at a `-` when it must be cut.
fn slug(text: &str, max: usize) -> String {
    let mut slug = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    if slug.len() > max {
        slug.truncate(max);
        if let Some(cut) = slug.rfind('-') {
            slug.truncate(cut);
        }
    }
    slug.trim_end_matches('-').to_owned()
}

/// A JSON string: a YAML double-quoted scalar that holds `text` whatever it is.
fn quoted(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

impl Scaffold {
    /// Check and gather the inputs: the ticket names the scenario; providers repeated count once.
    pub(crate) fn new(
        ticket: &str,
        title: Option<&str>,
        providers: &[Provider],
        customer: Option<&str>,
        severity: Option<&str>,
    ) -> Result<Scaffold, ScaffoldError> {
        let ticket = check_ticket(ticket)?;
        if providers.is_empty() {
            return Err(ScaffoldError::NoProvider);
        }
        let mut unique = Vec::with_capacity(providers.len());
        for provider in providers {
            if !unique.contains(provider) {
                unique.push(*provider);
            }
        }
        Ok(Scaffold {
            ticket,
            title: title
                .map(|title| clean_text("title", title, MAX_TEXT))
                .transpose()?
                .flatten(),
            providers: unique,
            customer: customer
                .map(|customer| clean_text("customer", customer, MAX_TEXT))
                .transpose()?
                .flatten(),
            severity: severity.map(parse_severity).transpose()?.map(str::to_owned),
        })
    }

    /// The scenario id: the ticket's slug, then the title's (`sup-1234-bills-exported-twice`).
    pub(crate) fn id(&self) -> String {
        let ticket = slug(&self.ticket, MAX_TICKET);
        match self
            .title
            .as_deref()
            .map(|title| slug(title, MAX_TITLE_SLUG))
        {
            Some(title) if !title.is_empty() => format!("{ticket}-{title}"),
            _ => ticket,
        }
    }

    /// The default file name: the id, `.yaml`.
    pub(crate) fn file_name(&self) -> String {
        format!("{}.yaml", self.id())
    }

    /// The scenario's text.
    pub(crate) fn render(&self) -> String {
        let mut text = String::new();
        let file = self.file_name();
        text.push_str(&format!(
            "# Written by `reenact new`: fill in the TODOs, then `reenact check {file}` and\n\
             # `reenact run {file} --target NAME`. Every key: docs/scenario-format.md.\n"
        ));
        text.push_str(&format!("id: {}\n", self.id()));
        let title = self
            .title
            .as_deref()
            .unwrap_or("TODO what the customer saw, in one line");
        text.push_str(&format!("title: {}\n", quoted(title)));
        text.push_str(&format!("ticket: {}\n", quoted(&self.ticket)));
        match &self.customer {
            Some(customer) => text.push_str(&format!("customers: [{}]\n", quoted(customer))),
            None => text.push_str("# customers: [TODO]\n"),
        }
        match &self.severity {
            Some(severity) => text.push_str(&format!(
                "severity: {severity}                   # sev1 (worst) … sev4\n"
            )),
            None => text.push_str("# severity: sev3               # sev1 (worst) … sev4\n"),
        }
        let tags: Vec<&str> = self.providers.iter().map(|p| p.name()).collect();
        text.push_str(&format!("tags: [{}]\n", tags.join(", ")));
        text.push_str(
            "# impact: TODO what the incident does to the customer, in a sentence or two\n\
             # root_cause: unknown          # product-defect | configuration | data | external-dependency | unknown\n\
             # clock: { start: 2026-11-02T09:00:00Z }   # the mocks' virtual clock (default: now)\n",
        );
        text.push_str("\nmocks:\n");
        for provider in &self.providers {
            text.push_str(&format!("  {}:\n{}", provider.mock(), provider.settings()));
        }
        text.push_str(
            "\ntarget:\n\
             \x20 # The command that starts your service comes from reenact.toml (`[targets.\"NAME\"]`),\n\
             \x20 # read from this file's folder or the nearest folder above it: choose one with\n\
             \x20 # `--target NAME` or `run.target` there (see \"The project file\" in docs/scenario-format.md).\n\
             \x20 env:                             # TODO the variables your service reads\n",
        );
        for provider in &self.providers {
            text.push_str(&format!(
                "    {}: \"{{{{ mocks.{}.url }}}}\"\n",
                provider.env_var(),
                provider.mock()
            ));
        }
        text.push_str(
            "  ready: { http: GET /healthz, within: 10s }   # TODO your service's health check\n",
        );
        text.push_str(
            "\nflow:\n\
             \x20 # TODO the requests that reproduce the incident, in order (see \"Flow\" in\n\
             \x20 # docs/scenario-format.md): `request`, `poll`, `webhook`, `sso_login`, `advance_clock`.\n\
             \x20 - name: the service is up\n\
             \x20   request: { method: GET, path: /healthz }\n\
             \x20   expect: { status: 200 }\n",
        );
        text.push_str(
            "\nexpect:\n\
             \x20 # TODO what holds once the incident is fixed (see \"Expectations\" in\n\
             \x20 # docs/scenario-format.md).\n",
        );
        for provider in &self.providers {
            let mock = provider.mock();
            text.push_str(&format!(
                "  - name: every request to `{mock}` reached a route or stub it knows\n\
                 \x20   mock: {mock}\n\
                 \x20   unmatched: 0\n\
                 \x20 # - name: TODO what `{mock}` must have seen or hold\n\
                 \x20 #   mock: {mock}\n\
                 \x20 #   {}\n",
                provider.example_expectation()
            ));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_provider_of_the_format_can_be_scaffolded() {
        for name in crate::scenario::PROVIDERS {
            assert_eq!(Provider::parse(name).map(Provider::name), Ok(*name));
        }
        assert_eq!(Provider::parse("Stubs"), Ok(Provider::Stubs));
    }

    #[test]
    fn an_unknown_provider_gets_a_did_you_mean_and_the_list() {
        let err = Provider::parse("quickbook").unwrap_err();
        assert_eq!(err.to_string(), "unknown provider `quickbook`");
        assert!(
            err.help()
                .starts_with("did you mean `quickbooks`? providers: xero, ")
        );
        let err = Provider::parse("netsuite").unwrap_err();
        assert!(
            err.help().starts_with("providers: xero, quickbooks"),
            "{}",
            err.help()
        );
    }

    #[test]
    fn the_id_and_file_come_from_ticket_and_title() {
        let scaffold = |ticket: &str, title: Option<&str>| {
            Scaffold::new(ticket, title, &[Provider::Xero], None, None).unwrap()
        };
        assert_eq!(scaffold("SUP-1234", None).file_name(), "sup-1234.yaml");
        assert_eq!(
            scaffold(" SUP-1234 ", Some("Bills exported twice!")).id(),
            "sup-1234-bills-exported-twice"
        );
        assert_eq!(
            scaffold("SUP 7", Some("Kōwhai: morning purchases refused")).id(),
            "sup-7-k-whai-morning-purchases-refused"
        );
        let long = scaffold("T-1", Some(&"word ".repeat(30))).id();
        assert!(long.len() <= "t-1-".len() + MAX_TITLE_SLUG, "{long}");
        assert!(long.ends_with("word"), "{long}");
    }

    #[test]
    fn bad_inputs_are_refused() {
        let new = |ticket: &str, title: Option<&str>, severity: Option<&str>| {
            Scaffold::new(ticket, title, &[Provider::Xero], None, severity).unwrap_err()
        };
        assert_eq!(new("###", None, None), ScaffoldError::Ticket("###".into()));
        assert_eq!(new("", None, None), ScaffoldError::Ticket(String::new()));
        assert!(matches!(
            new(&"x".repeat(65), None, None),
            ScaffoldError::TooLong { what: "ticket", .. }
        ));
        assert_eq!(
            new("SUP-1", Some("two\nlines"), None),
            ScaffoldError::Control("title")
        );
        assert_eq!(
            new("SUP-1", None, Some("sev5")).help(),
            "severities: sev1 (worst) … sev4"
        );
        assert_eq!(
            new("SUP-1", None, Some("sve2")).help(),
            "did you mean `sev2`? severities: sev1 (worst) … sev4"
        );
        assert_eq!(
            Scaffold::new("SUP-1", None, &[], None, None),
            Err(ScaffoldError::NoProvider)
        );
        assert_eq!(parse_severity("2"), Ok("sev2"));
        assert_eq!(parse_severity("SEV4"), Ok("sev4"));
    }

    #[test]
    fn typed_values_cannot_change_the_yaml() {
        let scaffold = Scaffold::new(
            "SUP-1",
            Some("a: b # c \" d"),
            &[Provider::Stubs, Provider::Stubs],
            Some("O'Neil & Co: [x]"),
            Some("sev2"),
        )
        .unwrap();
        assert_eq!(scaffold.providers, [Provider::Stubs]);
        let dir = tempfile::tempdir().unwrap();
        let loaded = crate::scenario::load_bytes(
            &dir.path().join(scaffold.file_name()),
            dir.path(),
            scaffold.render().as_bytes(),
        )
        .unwrap();
        assert_eq!(loaded.title, "a: b # c \" d");
        assert_eq!(loaded.customers, ["O'Neil & Co: [x]"]);
        assert_eq!(loaded.id, "sup-1-a-b-c-d");
    }

    /// The scaffold with every commented-out setting, fault and expectation put back: what a
    /// user gets by uncommenting them.
    fn uncommented(text: &str) -> String {
        let key = regex::Regex::new(r"^(\s*)# ((- )?[a-z_]+:.*|\s+(- )?[a-z_]+:.*)$").unwrap();
        text.lines()
            .map(|line| key.replace(line, "$1$2").into_owned())
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn the_commented_settings_are_valid_when_uncommented() {
        let dir = tempfile::tempdir().unwrap();
        for provider in Provider::ALL {
            let text = Scaffold::new("SUP-1", None, &[provider], None, None)
                .unwrap()
                .render();
            let full = uncommented(&text);
            let put_back = text
                .lines()
                .zip(full.lines())
                .filter(|(before, after)| before != after)
                .count();
            // At least the top level's five and the expectation's four.
            assert!(
                put_back >= 9,
                "{}: only {put_back} lines put back",
                provider.name()
            );
            let loaded = crate::scenario::load_bytes(
                &dir.path().join("sup-1.yaml"),
                dir.path(),
                full.as_bytes(),
            );
            assert!(
                loaded.is_ok(),
                "{}: {:?}\n{full}",
                provider.name(),
                loaded.err()
            );
        }
    }

    /// An editor checking the file against `reenact schema` finds nothing wrong either, with
    /// the commented parts or without.
    #[test]
    fn every_scaffold_holds_to_the_json_schema() {
        let schema: serde_json::Value =
            serde_json::from_str(crate::scenario::schema::json_schema()).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let all = Scaffold::new("SUP-1", Some("t"), &Provider::ALL, Some("c"), Some("sev1"))
            .unwrap()
            .render();
        for text in [uncommented(&all), all] {
            let node = crate::scenario::yaml::parse(text.as_bytes()).unwrap();
            let value = crate::scenario::yaml::to_json(&node).unwrap();
            let errors: Vec<String> = validator
                .iter_errors(&value)
                .map(|err| format!("{err} at {}", err.instance_path))
                .collect();
            assert!(errors.is_empty(), "{errors:#?}");
        }
    }

    #[test]
    fn every_scaffold_loads_as_a_valid_scenario() {
        let dir = tempfile::tempdir().unwrap();
        for provider in Provider::ALL {
            let scaffold =
                Scaffold::new("SUP-1234", Some("title"), &[provider], None, None).unwrap();
            let path = dir.path().join(scaffold.file_name());
            let loaded =
                crate::scenario::load_bytes(&path, dir.path(), scaffold.render().as_bytes());
            assert!(loaded.is_ok(), "{}: {:?}", provider.name(), loaded.err());
        }
        let all = Scaffold::new("SUP-1", None, &Provider::ALL, Some("Acme"), Some("sev1"))
            .unwrap()
            .render();
        let loaded =
            crate::scenario::load_bytes(&dir.path().join("all.yaml"), dir.path(), all.as_bytes());
        assert!(loaded.is_ok(), "{:?}", loaded.err());
    }
}
