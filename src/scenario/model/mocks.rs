//! The mocks of a scenario, [`MockSpec`]: a fake third-party service with stubs, rate limits,
//! TLS, extra hostnames and optionally a built-in provider ([`ProviderSpec`]); and
//! [`SecretText`], how a provider's secret setting is held.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{
    BankSettings, IntacctSettings, OidcSettings, QuickBooksSettings, RateLimit, RouteFault,
    SageSettings, SamlSettings, Stub, XeroSettings,
};

/// Default number of requests a mock journal keeps before it starts counting drops.
pub const DEFAULT_JOURNAL_LIMIT: usize = 10_000;

/// One fake third-party service.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MockSpec {
    /// Name, unique in the scenario; used in templates (`{{ mocks.NAME.url }}`) and expectations.
    pub name: String,
    /// Stubs in file order. Matching picks the highest priority (lowest number), then file order.
    pub stubs: Vec<Stub>,
    /// Journal bound: requests kept before further ones are only counted as dropped.
    pub journal_limit: usize,
    /// Rate limits, checked in order before any stub; all must pass.
    #[serde(default)]
    pub rate_limits: Vec<RateLimit>,
    /// Serve HTTPS on the traffic port with a certificate from the run's CA (`tls: true`).
    #[serde(default)]
    pub tls: bool,
    /// Extra DNS names of the mock (`hostnames: [api.xero.com]`), lowercase RFC 1123 names,
    /// unique in the scenario: on the `docker` backend, network aliases a container target
    /// reaches the mock under; on HTTPS mocks, names its certificate carries. In-process they
    /// change nothing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hostnames: Vec<String>,
    /// The built-in provider this mock fakes (`provider:` with its `with:` settings), answering
    /// every request no stub matched: stubs come first, as overrides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<ProviderSpec>,
    /// Mock-level faults (`faults: [{ when, .. }]`) on the provider's routes, in file order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<RouteFault>,
}

impl MockSpec {
    /// A mock called `name` with nothing configured yet: no stubs, no provider, plain HTTP, the
    /// default journal bound. Set what a test or a tool needs with struct update syntax.
    pub fn new(name: impl Into<String>) -> MockSpec {
        MockSpec {
            name: name.into(),
            stubs: Vec::new(),
            journal_limit: DEFAULT_JOURNAL_LIMIT,
            rate_limits: Vec::new(),
            tls: false,
            hostnames: Vec::new(),
            provider: None,
            faults: Vec::new(),
        }
    }
}

/// A built-in provider and its settings; travels in the configuration the runner sends a mock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum ProviderSpec {
    /// The Xero Accounting API, its OAuth 2.0 identity server and `/connections`.
    Xero(XeroSettings),
    /// Sage Intacct's XML Web Services gateway (`/ia/xml/xmlgw.phtml`).
    Intacct(IntacctSettings),
    /// Sage Business Cloud Accounting (v3.1), its OAuth 2.0 token endpoint and `X-Business`.
    Sage(SageSettings),
    /// The QuickBooks Online Accounting API and Intuit's OAuth 2.0 endpoints.
    #[serde(rename = "quickbooks")]
    QuickBooks(QuickBooksSettings),
    /// A SAML 2.0 identity provider: metadata, SP- and IdP-initiated Web Browser SSO.
    Saml(SamlSettings),
    /// An OpenID Connect / OAuth 2.0 provider: discovery, JWKS, authorization, token, userinfo.
    Oidc(Box<OidcSettings>),
    /// A bank delivering statement files (MT940, BAI2, camt.053) rendered from a ledger.
    Bank(Box<BankSettings>),
}

impl ProviderSpec {
    /// The name written after `provider:`.
    pub fn name(&self) -> &'static str {
        match self {
            ProviderSpec::Xero(_) => "xero",
            ProviderSpec::Intacct(_) => "intacct",
            ProviderSpec::Sage(_) => "sage",
            ProviderSpec::QuickBooks(_) => "quickbooks",
            ProviderSpec::Saml(_) => "saml",
            ProviderSpec::Oidc(_) => "oidc",
            ProviderSpec::Bank(_) => "bank",
        }
    }

    /// The collections of its state that `state:` expectations can name.
    pub fn collections(&self) -> &'static [&'static str] {
        match self {
            ProviderSpec::Xero(_) => &[
                "connections",
                "contacts",
                "invoices",
                "payments",
                "manual_journals",
            ],
            ProviderSpec::Intacct(_) => &["vendors", "bills", "payments", "journals"],
            ProviderSpec::Sage(_) => &[
                "businesses",
                "contacts",
                "purchase_invoices",
                "ledger_accounts",
            ],
            ProviderSpec::QuickBooks(_) => &["bills", "vendors"],
            ProviderSpec::Saml(_) => &["authn_requests", "responses", "logins"],
            ProviderSpec::Oidc(_) => &["logins"],
            ProviderSpec::Bank(_) => &["downloads", "payment_files", "payments"],
        }
    }
}

/// A secret setting, such as a webhook key: its `Debug` form never shows it, so neither does a
/// log line or a parsed-scenario dump. It travels as plain text in the configuration the runner
/// sends a mock, which needs it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretText(pub String);

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretText([redacted])")
    }
}
