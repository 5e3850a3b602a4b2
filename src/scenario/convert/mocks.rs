//! `mocks` → [`MockSpec`]s: each mock's name, stubs, journal limit, TLS, extra hostnames, rate
//! limits, and its built-in `provider` with `with:` settings (dispatched to the provider's own
//! module) and route faults; a mock with `include:` is first merged over the mock definition it
//! names (see [`include`]). Also the check that a name elsewhere refers to a declared mock.

use super::{Cx, Fields, include, list_keys};
use crate::scenario::diagnostic::Diagnostic;
use crate::scenario::model::{DEFAULT_JOURNAL_LIMIT, MockSpec, ProviderSpec, TARGET_ALIAS};
use crate::scenario::suggest::did_you_mean;
use crate::scenario::yaml::{Node, NodeKind};

/// The key only a scenario's mock has: the mock definition it includes.
pub(super) const INCLUDE_KEYS: &[&str] = &["include"];

/// The keys of a mock definition (a file a mock includes), which are a mock's keys but
/// `include` ([`INCLUDE_KEYS`]): includes are one level deep.
pub(super) const DEFINITION_KEYS: &[&str] = &[
    "stubs",
    "journal_limit",
    "tls",
    "provider",
    "with",
    "faults",
    "rate_limits",
    "hostnames",
];

/// Providers `provider:` accepts.
pub(crate) const PROVIDERS: &[&str] = &[
    "bank",
    "intacct",
    "oidc",
    "quickbooks",
    "sage",
    "saml",
    "xero",
];

fn is_mock_name(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-'))
}

/// Whether `name` (lowercase) is an RFC 1123 host name reenact accepts as a mock's extra name:
/// dot-separated labels of 1 to 63 letters, digits and inner `-`, at most 253 characters, not
/// an IPv4 address (the last label has a letter) and not `localhost`.
fn check_hostname(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("a hostname cannot be empty");
    }
    if name.len() > 253 {
        return Err("a hostname has at most 253 characters");
    }
    if name.contains("://") || name.contains('/') || name.contains(':') {
        return Err("a hostname alone: no scheme, port or path");
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err("a label between dots is empty");
        }
        if label.len() > 63 {
            return Err("a label has at most 63 characters");
        }
        if !label
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err("labels hold only letters, digits and `-`");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("a label cannot start or end with `-`");
        }
    }
    if name
        .rsplit('.')
        .next()
        .is_some_and(|last| last.chars().all(|c| c.is_ascii_digit()))
    {
        return Err("an IP address is not a hostname");
    }
    if name == "localhost" {
        return Err("`localhost` always means the mock's own container");
    }
    Ok(())
}

/// The hostname the user probably meant: scheme, port, path and a trailing dot dropped, `_` and
/// spaces made `-`; `None` when that is still no valid hostname or changes nothing.
fn suggest_hostname(name: &str) -> Option<String> {
    let mut text = name.trim();
    if let Some((_, rest)) = text.split_once("://") {
        text = rest;
    }
    let text = text.split(['/', '?', '#']).next().unwrap_or_default();
    let text = text.rsplit_once('@').map_or(text, |(_, host)| host);
    let text = text.split(':').next().unwrap_or_default();
    let fixed: String = text
        .trim_end_matches('.')
        .chars()
        .map(|c| if c == '_' || c == ' ' { '-' } else { c })
        .collect();
    (fixed != name && check_hostname(&fixed).is_ok()).then_some(fixed)
}

impl Cx<'_> {
    pub(super) fn mocks(&mut self, node: &Node) -> Option<Vec<MockSpec>> {
        let NodeKind::Mapping(entries) = &node.kind else {
            self.type_error(node, "a mapping", "mocks", "at the top level");
            return None;
        };
        // Names first, so templates and expectations can refer to any mock.
        for (key, _) in entries {
            if let Some(name) = key.as_str().filter(|name| is_mock_name(name)) {
                self.mocks.push(name.to_string());
            }
        }
        let mut mocks = Some(Vec::new());
        for (key, value) in entries {
            let Some(name) = key.as_str() else {
                self.type_error(key, "a string", "mocks", "(a mock name)");
                mocks = None;
                continue;
            };
            if !is_mock_name(name) {
                self.error(
                    Diagnostic::new(format!("invalid mock name `{name}`"), Some(key.span))
                        .with_label("expected lowercase letters, digits, `_` and `-`, starting with a letter"),
                );
                mocks = None;
                continue;
            }
            if name == TARGET_ALIAS {
                self.error(
                    Diagnostic::new(format!("mock name `{name}` is reserved"), Some(key.span))
                        .with_label("a container target has this name on the run's network")
                        .with_help("rename the mock, e.g. `target-api`"),
                );
                mocks = None;
                continue;
            }
            let mock = match self.with_include(name, value) {
                Some(Some(merged)) => self.mock(name, &merged),
                Some(None) => self.mock(name, value),
                None => None,
            };
            match (&mut mocks, mock) {
                (Some(mocks), Some(mock)) => mocks.push(mock),
                _ => mocks = None,
            }
        }
        mocks
    }

    /// Mock `name`'s entry `node` merged over the definition its `include:` names: `Some(None)`
    /// when it includes nothing, `None` (reported) when the include cannot be used.
    fn with_include(&mut self, name: &str, node: &Node) -> Option<Option<Node>> {
        let NodeKind::Mapping(entries) = &node.kind else {
            return Some(None);
        };
        let Some((_, include)) = entries
            .iter()
            .find(|(key, _)| key.text() == Some("include"))
        else {
            return Some(None);
        };
        let definition = self.include(name, include)?;
        let patch = Node {
            kind: NodeKind::Mapping(
                entries
                    .iter()
                    .filter(|(key, _)| key.text() != Some("include"))
                    .cloned()
                    .collect(),
            ),
            span: node.span,
        };
        Some(Some(include::merge_patch(Some(&definition), &patch)))
    }

    /// Convert mock `name`; an `include:` in `node` is already merged (and ignored here).
    pub(super) fn mock(&mut self, name: &str, node: &Node) -> Option<MockSpec> {
        let context = format!("in mock `{name}`");
        let keys = [INCLUDE_KEYS, DEFINITION_KEYS].concat();
        let fields = self.fields(node, &keys, name, &context)?;
        let provider = match fields.get("provider") {
            Some(value) => self.provider(value, &fields, name).map(|provider| {
                self.provider_mocks
                    .push((name.to_string(), provider.collections()));
                self.providers.push((name.to_string(), provider.name()));
                match &provider {
                    ProviderSpec::Xero(settings) => self
                        .xero_mocks
                        .push((name.to_string(), settings.webhook_key.is_some())),
                    ProviderSpec::QuickBooks(settings) => self
                        .quickbooks_mocks
                        .push((name.to_string(), settings.verifier_token.is_some())),
                    _ => {}
                }
                Some(provider)
            }),
            None => {
                for key in ["with", "faults"] {
                    if let Some(key_node) = fields.key(key) {
                        let mut diagnostic = Diagnostic::new(
                            format!("`{key}` needs `provider` {context}"),
                            Some(key_node.span),
                        )
                        .with_label("only a mock with a built-in provider has this");
                        if key == "faults" {
                            diagnostic = diagnostic.with_help("put `faults` on a stub");
                        }
                        self.error(diagnostic);
                    }
                }
                (!fields.has("with") && !fields.has("faults")).then_some(None)
            }
        };
        let faults = match fields.get("faults") {
            Some(value) if fields.has("provider") => self.route_faults(value, name),
            _ => Some(Vec::new()),
        };
        let tls = match fields.get("tls") {
            Some(value) => self.boolean(value, "tls", &context),
            None => Some(false),
        };
        if tls == Some(true) {
            self.tls_mocks.push(name.to_string());
        }
        if let Some(Some(ProviderSpec::Bank(settings))) = &provider
            && settings.sftp.is_some()
        {
            self.sftp_mocks.push(name.to_string());
        }
        let journal_limit = match fields.get("journal_limit") {
            Some(value) => self
                .integer(value, "journal_limit", &context, 1..=1_000_000)
                .map(|n| n as usize),
            None => Some(DEFAULT_JOURNAL_LIMIT),
        };
        let rate_limits = match fields.get("rate_limits") {
            Some(value) => self.rate_limits(value, name),
            None => Some(Vec::new()),
        };
        let stubs = match fields.get("stubs") {
            Some(value) => self.list(value, "stubs", &context).and_then(|items| {
                self.each_item(items, |cx, index, item| {
                    cx.stub(item, &format!("in stub {} of mock `{name}`", index + 1))
                })
            }),
            None => Some(Vec::new()),
        };
        let hostnames = match fields.get("hostnames") {
            Some(value) => self.hostnames(value, name),
            None => Some(Vec::new()),
        };
        Some(MockSpec {
            name: name.to_string(),
            stubs: stubs?,
            journal_limit: journal_limit?,
            rate_limits: rate_limits?,
            tls: tls?,
            hostnames: hostnames?,
            provider: provider?,
            faults: faults?,
        })
    }

    /// `provider: NAME` with its `with:` settings.
    fn provider(&mut self, node: &Node, fields: &Fields<'_>, mock: &str) -> Option<ProviderSpec> {
        let context = format!("in mock `{mock}`");
        let text = self.string(node, "provider", &context)?;
        if !PROVIDERS.contains(&text.as_str()) {
            let mut diagnostic =
                Diagnostic::new(format!("unknown provider `{text}`"), Some(node.span))
                    .with_label(format!("expected one of {}", list_keys(PROVIDERS)));
            if let Some(suggestion) = did_you_mean(&text, PROVIDERS) {
                diagnostic = diagnostic.with_help(format!("did you mean `{suggestion}`?"));
            }
            self.error(diagnostic);
            return None;
        }
        let Some(with) = fields.get("with") else {
            self.missing(fields, "with", &context);
            return None;
        };
        match text.as_str() {
            "bank" => self
                .bank(with, mock)
                .map(|settings| ProviderSpec::Bank(Box::new(settings))),
            "intacct" => self.intacct(with, mock).map(ProviderSpec::Intacct),
            "sage" => self.sage(with, mock).map(ProviderSpec::Sage),
            "saml" => self.saml(with, mock).map(ProviderSpec::Saml),
            "quickbooks" => self.quickbooks(with, mock).map(ProviderSpec::QuickBooks),
            "oidc" => self
                .oidc(with, mock)
                .map(|settings| ProviderSpec::Oidc(Box::new(settings))),
            _ => self.xero(with, mock).map(ProviderSpec::Xero),
        }
    }

    /// `hostnames` of mock `mock`: RFC 1123 names, lowercased, unique in the scenario and
    /// distinct from every mock name (both become DNS names on the run's network).
    fn hostnames(&mut self, node: &Node, mock: &str) -> Option<Vec<String>> {
        let context = format!("in mock `{mock}`");
        let items = self.list(node, "hostnames", &context)?;
        let mut ok = true;
        let mut names = Vec::with_capacity(items.len());
        for item in items {
            let Some(text) = self.string(item, "hostnames", &context) else {
                ok = false;
                continue;
            };
            let name = text.to_ascii_lowercase();
            let problem = if let Err(reason) = check_hostname(&name) {
                let mut diagnostic =
                    Diagnostic::new(format!("invalid hostname `{text}`"), Some(item.span))
                        .with_label(reason);
                diagnostic = match suggest_hostname(&name) {
                    Some(fixed) => diagnostic.with_help(format!("did you mean `{fixed}`?")),
                    None => diagnostic.with_help(
                        "a hostname is dot-separated labels of letters, digits and `-`, such as `api.xero.com`",
                    ),
                };
                Some(diagnostic)
            } else if self.mocks.contains(&name) {
                Some(
                    Diagnostic::new(
                        format!("hostname `{text}` is also the name of a mock"),
                        Some(item.span),
                    )
                    .with_label("every mock is already reachable under its name")
                    .with_help(format!(
                        "remove it, or rename mock `{name}`: a name may belong to one mock only"
                    )),
                )
            } else if let Some((_, owner)) = self.hostnames.iter().find(|(known, _)| *known == name)
            {
                let label = if owner == mock {
                    "this mock already lists it".to_string()
                } else {
                    format!("mock `{owner}` already lists it")
                };
                Some(
                    Diagnostic::new(format!("duplicate hostname `{text}`"), Some(item.span))
                        .with_label(label)
                        .with_help("a hostname may belong to one mock only"),
                )
            } else {
                None
            };
            match problem {
                Some(diagnostic) => {
                    self.error(diagnostic);
                    ok = false;
                }
                None => {
                    self.hostnames.push((name.clone(), mock.to_string()));
                    names.push(name);
                }
            }
        }
        ok.then_some(names)
    }

    /// The name of a mock the scenario declares (flow steps and expectations refer to mocks).
    pub(super) fn mock_name(&mut self, value: &Node, context: &str) -> Option<String> {
        let name = self.string(value, "mock", context)?;
        if self.mocks.contains(&name) {
            return Some(name);
        }
        let known: Vec<&str> = self.mocks.iter().map(String::as_str).collect();
        let mut diagnostic =
            Diagnostic::new(format!("unknown mock `{name}` {context}"), Some(value.span))
                .with_label(if known.is_empty() {
                    "the scenario has no mocks".to_string()
                } else {
                    format!("the scenario has {}", list_keys(&known))
                });
        if let Some(suggestion) = did_you_mean(&name, &known) {
            diagnostic = diagnostic.with_help(format!("did you mean `{suggestion}`?"));
        }
        self.error(diagnostic);
        None
    }
}
