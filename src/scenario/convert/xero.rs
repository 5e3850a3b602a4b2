//! `with:` of `provider: xero` → [`XeroSettings`]: the tenants (organisations), their rate
//! limits, lock dates, webhook key, currencies, chart of accounts and contacts; and the `xero:`
//! webhook a `provider: xero` mock writes and signs → [`XeroWebhookSpec`].

use super::read::AfterBad;
use super::{Cx, Scope, list_keys, present};
use crate::scenario::diagnostic::Diagnostic;
use crate::scenario::model::{
    SecretText, XeroAccount, XeroContact, XeroRateLimits, XeroSettings, XeroTenant, XeroWebhookSpec,
};
use crate::scenario::suggest::did_you_mean;
use crate::scenario::yaml::{Node, Scalar};

pub(super) const XERO_KEYS: &[&str] = &[
    "tenants",
    "rate_limits",
    "period_lock_date",
    "end_of_year_lock_date",
    "webhook_key",
    "currencies",
    "accounts",
    "contacts",
];
pub(super) const XERO_ACCOUNT_KEYS: &[&str] = &["code", "name", "status", "tax_rate"];
pub(super) const XERO_CONTACT_KEYS: &[&str] = &["name", "status"];
pub(super) const XERO_LIMIT_KEYS: &[&str] = &["concurrent", "minute", "day", "app_minute"];
pub(super) const XERO_TENANT_KEYS: &[&str] = &["id", "name"];
pub(super) const XERO_WEBHOOK_KEYS: &[&str] = &["event", "resource", "intent_to_receive"];

/// `event` values of a webhook's `xero:`: the categories of the provider's state, and the types
/// Xero sends [XERO-OAS-WH].
pub(super) const XERO_EVENTS: &[&str] = &[
    "contact.create",
    "contact.update",
    "invoice.create",
    "invoice.update",
];

/// Whether `text` is a UUID in its 8-4-4-4-12 hex form.
fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.bytes().all(|b| b.is_ascii_hexdigit()))
}

impl Cx<'_> {
    /// `with:` of `provider: xero`.
    pub(super) fn xero(&mut self, node: &Node, mock: &str) -> Option<XeroSettings> {
        let context = format!("in `with` of mock `{mock}`");
        let fields = self.fields(node, XERO_KEYS, "with", &context)?;
        let Some(tenants) = fields.get("tenants") else {
            self.missing(&fields, "tenants", &context);
            return None;
        };
        let items = self.non_empty_list(
            tenants,
            "tenants",
            &context,
            "give at least one organisation: `{ id: <uuid>, name: Acme }`",
        )?;
        let tenant_context = |index: usize| format!("in tenant {} of mock `{mock}`", index + 1);
        let tenants = self.unique_items(
            items,
            AfterBad::Report,
            |cx, index, item| cx.xero_tenant(item, &tenant_context(index)),
            |tenant| Some(tenant.id.clone()),
            |index, _, id| {
                (
                    format!("duplicate tenant id `{id}` {}", tenant_context(index)),
                    "every tenant id must be unique",
                )
            },
        );
        let rate_limits = fields
            .get("rate_limits")
            .map(|value| self.xero_rate_limits(value, mock));
        let lock_date =
            |cx: &mut Self, key: &str| fields.get(key).map(|value| cx.date(value, key, &context));
        let period_lock_date = lock_date(self, "period_lock_date");
        let end_of_year_lock_date = lock_date(self, "end_of_year_lock_date");
        let webhook_key = fields
            .get("webhook_key")
            .map(|value| self.xero_webhook_key(value, &context));
        let currencies = fields
            .get("currencies")
            .map(|value| self.currencies(value, &context));
        let accounts = fields
            .get("accounts")
            .map(|value| self.xero_accounts(value, mock));
        let contacts = fields
            .get("contacts")
            .map(|value| self.xero_contacts(value, mock));
        Some(XeroSettings {
            tenants: tenants?,
            rate_limits: present(rate_limits)?,
            period_lock_date: present(period_lock_date)?,
            end_of_year_lock_date: present(end_of_year_lock_date)?,
            webhook_key: present(webhook_key)?,
            currencies: present(currencies)?,
            accounts: present(accounts)?,
            contacts: present(contacts)?,
        })
    }

    /// `with.accounts` of `provider: xero`: `{ code, name, status?, tax_rate? }`, codes unique.
    fn xero_accounts(&mut self, node: &Node, mock: &str) -> Option<Vec<XeroAccount>> {
        let items = self.list(node, "accounts", &format!("in `with` of mock `{mock}`"))?;
        let context = |index: usize| format!("in account {} of mock `{mock}`", index + 1);
        self.unique_items(
            items,
            AfterBad::Ignore,
            |cx, index, item| cx.xero_account(item, &context(index)),
            |account| Some(account.code.clone()),
            |index, _, code| {
                (
                    format!("duplicate account code `{code}` {}", context(index)),
                    "every account code must be unique",
                )
            },
        )
    }

    fn xero_account(&mut self, node: &Node, context: &str) -> Option<XeroAccount> {
        let fields = self.fields(node, XERO_ACCOUNT_KEYS, "accounts", context)?;
        let code = self.required(&fields, "code", context, |this, value| {
            this.scalar_text(value, "code", context)
        });
        let name = self.required(&fields, "name", context, |this, value| {
            this.string(value, "name", context)
        });
        let status = self.xero_status(fields.get("status"), context);
        let tax_rate = fields.get("tax_rate").map(|value| {
            let text = self.scalar_text(value, "tax_rate", context)?;
            if crate::money::parse_text(&text)
                .is_some_and(|rate| crate::money::PERCENTAGES.contains(&rate))
            {
                return Some(text);
            }
            self.error(
                Diagnostic::new(format!("invalid `tax_rate` `{text}` {context}"), Some(value.span))
                    .with_label("expected a percentage from 0 to 100 with at most 4 decimals, e.g. `\"20\"` or `\"12.5\"`"),
            );
            None
        });
        Some(XeroAccount {
            code: code?,
            name: name?,
            status: status?,
            tax_rate: present(tax_rate)?,
        })
    }

    /// A list of ISO 4217 currency codes (three capital letters), such as `with.currencies`.
    fn currencies(&mut self, node: &Node, context: &str) -> Option<Vec<String>> {
        let items = self.list(node, "currencies", context)?;
        self.each_item(items, |cx, _, item| {
            let code = cx.scalar_text(item, "currencies", context)?;
            if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
                return Some(code);
            }
            cx.error(
                Diagnostic::new(
                    format!("invalid currency `{code}` {context}"),
                    Some(item.span),
                )
                .with_label("expected an ISO 4217 code such as `GBP` or `NZD`"),
            );
            None
        })
    }

    /// `with.webhook_key` of `provider: xero`: the key Xero shows for the app's webhooks, text
    /// without spaces (the errors never quote it: it is a secret).
    fn xero_webhook_key(&mut self, node: &Node, context: &str) -> Option<SecretText> {
        self.secret_setting(
            node,
            "webhook_key",
            context,
            "expected the app's webhook key: printable ASCII without spaces",
            "copy it from the app's Webhooks page, e.g. `webhook_key: 3xAmPl3k3y`",
        )
    }

    /// `with.rate_limits` of `provider: xero`: each limit optional, Xero's value by default.
    fn xero_rate_limits(&mut self, node: &Node, mock: &str) -> Option<XeroRateLimits> {
        let context = format!("in `rate_limits` of mock `{mock}`");
        let fields = self.fields(node, XERO_LIMIT_KEYS, "rate_limits", &context)?;
        let defaults = XeroRateLimits::default();
        let limit = |cx: &mut Self, key: &str, default: u64| match fields.get(key) {
            Some(value) => cx.integer(value, key, &context, 1..=u64::MAX),
            None => Some(default),
        };
        let concurrent = limit(self, "concurrent", defaults.concurrent);
        let minute = limit(self, "minute", defaults.minute);
        let day = limit(self, "day", defaults.day);
        let app_minute = limit(self, "app_minute", defaults.app_minute);
        Some(XeroRateLimits {
            concurrent: concurrent?,
            minute: minute?,
            day: day?,
            app_minute: app_minute?,
        })
    }

    fn xero_tenant(&mut self, node: &Node, context: &str) -> Option<XeroTenant> {
        let fields = self.fields(node, XERO_TENANT_KEYS, "tenants", context)?;
        let id = match fields.get("id") {
            Some(value) => self.string(value, "id", context).and_then(|id| {
                if is_uuid(&id) {
                    Some(id.to_ascii_lowercase())
                } else {
                    self.error(
                        Diagnostic::new(format!("invalid tenant id `{id}`"), Some(value.span))
                            .with_label("a Xero tenant id is a UUID")
                            .with_help("write e.g. `0b9c6a52-6f0e-4c2e-9a51-3f2f1d7e8a10`"),
                    );
                    None
                }
            }),
            None => {
                self.missing(&fields, "id", context);
                None
            }
        };
        let name = self.required(&fields, "name", context, |this, value| {
            this.string(value, "name", context)
        });
        Some(XeroTenant {
            id: id?,
            name: name?,
        })
    }

    /// `with.contacts`: `[{ name, status? }]`, names unique, `status` `ACTIVE` (default) or
    /// `ARCHIVED`.
    pub(super) fn xero_contacts(&mut self, node: &Node, mock: &str) -> Option<Vec<XeroContact>> {
        let items = self.list(node, "contacts", &format!("in `with` of mock `{mock}`"))?;
        let context = |index: usize| format!("in contact {} of mock `{mock}`", index + 1);
        // A contact's name is taken even when its status is invalid: the two are read apart.
        let contacts = self.unique_items(
            items,
            AfterBad::Report,
            |cx, index, item| {
                let context = context(index);
                let fields = cx.fields(item, XERO_CONTACT_KEYS, "contacts", &context)?;
                let name = cx.required(&fields, "name", &context, |cx, value| {
                    cx.string(value, "name", &context)
                });
                let status = cx.xero_status(fields.get("status"), &context);
                Some((name, status))
            },
            |(name, _)| name.clone(),
            |index, _, name| {
                (
                    format!("duplicate contact name `{name}` {}", context(index)),
                    "every contact name must be unique",
                )
            },
        )?;
        contacts
            .into_iter()
            .map(|(name, status)| {
                Some(XeroContact {
                    name: name?,
                    status: status?,
                })
            })
            .collect()
    }

    /// A `status` of an account or contact: `ACTIVE` (also when absent) or `ARCHIVED`.
    pub(super) fn xero_status(&mut self, value: Option<&Node>, context: &str) -> Option<String> {
        match value {
            Some(value) => self
                .choice(
                    value,
                    "status",
                    context,
                    &[("ACTIVE", "ACTIVE"), ("ARCHIVED", "ARCHIVED")],
                )
                .map(str::to_owned),
            None => Some("ACTIVE".to_owned()),
        }
    }
}

impl Cx<'_> {
    /// `xero:` of a webhook: `{ event: CATEGORY.TYPE, resource: ID }` or
    /// `{ intent_to_receive: true }`.
    pub(super) fn xero_webhook(
        &mut self,
        node: &Node,
        context: &str,
        scope: Scope<'_>,
    ) -> Option<XeroWebhookSpec> {
        let xero_context = format!("in `xero` of {}", &context[3..]);
        let context = xero_context.as_str();
        let fields = self.fields(node, XERO_WEBHOOK_KEYS, "xero", context)?;
        if let Some(value) = fields.get("intent_to_receive") {
            for key in ["event", "resource"] {
                if let Some(key_node) = fields.key(key) {
                    self.error(
                        Diagnostic::new(
                            format!("`{key}` with `intent_to_receive` {context}"),
                            Some(key_node.span),
                        )
                        .with_label("the handshake sends empty payloads: no event, no resource"),
                    );
                }
            }
            if value.scalar() != Some(Scalar::Bool(true)) {
                self.error(
                    Diagnostic::new(
                        format!("invalid `intent_to_receive` {context}"),
                        Some(value.span),
                    )
                    .with_label("expected `true`"),
                );
                return None;
            }
            if fields.key("event").is_some() || fields.key("resource").is_some() {
                return None;
            }
            return Some(XeroWebhookSpec::IntentToReceive);
        }
        let event = match fields.get("event") {
            Some(value) => self.string(value, "event", context).and_then(|event| {
                if XERO_EVENTS.contains(&event.as_str()) {
                    return Some(event);
                }
                let mut diagnostic = Diagnostic::new(
                    format!("unknown Xero event `{event}` {context}"),
                    Some(value.span),
                )
                .with_label(format!("expected one of {}", list_keys(XERO_EVENTS)));
                if let Some(suggestion) = did_you_mean(&event, XERO_EVENTS) {
                    diagnostic = diagnostic.with_help(format!("did you mean `{suggestion}`?"));
                }
                self.error(diagnostic);
                None
            }),
            None => {
                self.missing(&fields, "event", context);
                None
            }
        };
        let resource = self.required_template(&fields, "resource", context, scope);
        let event = event?;
        let (category, event_type) = event.split_once('.')?;
        Some(XeroWebhookSpec::Event {
            category: category.to_ascii_uppercase(),
            event_type: event_type.to_ascii_uppercase(),
            resource: resource?,
        })
    }

    /// Whether `mock` can send a `xero:` webhook: a `provider: xero` mock with a `webhook_key`.
    pub(super) fn xero_webhook_sender(&mut self, mock: &str, node: &Node, context: &str) -> bool {
        let label = match self.xero_mocks.iter().find(|(name, _)| name == mock) {
            Some((_, true)) => return true,
            Some((_, false)) => "give the mock `with.webhook_key`: Xero signs with it",
            None => "`xero` webhooks are sent by a mock with `provider: xero`",
        };
        self.error(
            Diagnostic::new(
                format!("mock `{mock}` cannot send `xero` webhooks {context}"),
                Some(node.span),
            )
            .with_label(label),
        );
        false
    }
}
