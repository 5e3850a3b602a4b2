//! `with:` of `provider: intacct` → [`IntacctSettings`]: the sender, the companies with their
//! users and entities, the session lifetime and the gateway limits, each mistake reported with
//! its place, a label and (where one helps) a hint.

use super::read::AfterBad;
use super::{Cx, present};
use crate::scenario::diagnostic::Diagnostic;
use crate::scenario::model::{
    DEFAULT_SESSION_LIFETIME, IntacctCompany, IntacctRateLimits, IntacctSender, IntacctSettings,
    IntacctUser, SecretText,
};
use crate::scenario::yaml::Node;

pub(super) const INTACCT_KEYS: &[&str] =
    &["sender", "companies", "session_lifetime", "rate_limits"];
pub(super) const SENDER_KEYS: &[&str] = &["id", "password"];
pub(super) const COMPANY_KEYS: &[&str] =
    &["id", "users", "entities", "sender_authorized", "endpoint"];
pub(super) const USER_KEYS: &[&str] = &["id", "password"];
pub(super) const LIMIT_KEYS: &[&str] = &["minute", "concurrent"];

impl Cx<'_> {
    /// `with:` of `provider: intacct`.
    pub(super) fn intacct(&mut self, node: &Node, mock: &str) -> Option<IntacctSettings> {
        let context = format!("in `with` of mock `{mock}`");
        let fields = self.fields(node, INTACCT_KEYS, "with", &context)?;
        let sender = self.required(&fields, "sender", &context, |cx, value| {
            cx.intacct_sender(value, mock)
        });
        let companies = self.required(&fields, "companies", &context, |cx, value| {
            cx.intacct_companies(value, mock)
        });
        let session_lifetime = match fields.get("session_lifetime") {
            Some(value) => {
                self.duration(value, "session_lifetime", &context)
                    .and_then(|lifetime| {
                        if lifetime.is_zero() {
                            self.error(
                                Diagnostic::new(
                                    format!(
                                        "`session_lifetime` {context} must be longer than zero"
                                    ),
                                    Some(value.span),
                                )
                                .with_label("a session that never lives cannot be used")
                                .with_help("leave it out for one hour, or write e.g. `30m`"),
                            );
                            return None;
                        }
                        Some(lifetime)
                    })
            }
            None => Some(DEFAULT_SESSION_LIFETIME),
        };
        let rate_limits = fields
            .get("rate_limits")
            .map(|value| self.intacct_rate_limits(value, mock));
        Some(IntacctSettings {
            sender: sender?,
            companies: companies?,
            session_lifetime: session_lifetime?,
            rate_limits: present(rate_limits)?,
        })
    }

    fn intacct_sender(&mut self, node: &Node, mock: &str) -> Option<IntacctSender> {
        let context = format!("in `sender` of mock `{mock}`");
        let fields = self.fields(node, SENDER_KEYS, "sender", &context)?;
        let id = self.required(&fields, "id", &context, |cx, value| {
            cx.intacct_id(
                value,
                "id",
                &context,
                "the sender id Sage issued, e.g. `acme-sender`",
            )
        });
        let password = self.required(&fields, "password", &context, |cx, value| {
            cx.intacct_password(value, &context)
        });
        Some(IntacctSender {
            id: id?,
            password: password?,
        })
    }

    fn intacct_companies(&mut self, node: &Node, mock: &str) -> Option<Vec<IntacctCompany>> {
        let context = format!("in `with` of mock `{mock}`");
        let items = self.non_empty_list(
            node,
            "companies",
            &context,
            "give at least one company: `{ id: acme-ltd, users: [{ id: .., password: .. }] }`",
        )?;
        let company_context = |index: usize| format!("in company {} of mock `{mock}`", index + 1);
        self.unique_items(
            items,
            AfterBad::Report,
            |cx, index, item| cx.intacct_company(item, &company_context(index)),
            // Intacct company ids are typed in any case: two that differ only in case clash.
            |company| Some(company.id.to_ascii_lowercase()),
            |index, company, _| {
                (
                    format!(
                        "duplicate company id `{}` {}",
                        company.id,
                        company_context(index)
                    ),
                    "every company id must be unique (case does not count)",
                )
            },
        )
    }

    fn intacct_company(&mut self, node: &Node, context: &str) -> Option<IntacctCompany> {
        let fields = self.fields(node, COMPANY_KEYS, "companies", context)?;
        let id = self.required(&fields, "id", context, |cx, value| {
            cx.intacct_id(
                value,
                "id",
                context,
                "the company id users sign in to, e.g. `acme-ltd`",
            )
        });
        let users = self.required(&fields, "users", context, |cx, value| {
            cx.intacct_users(value, context)
        });
        let entities = match fields.get("entities") {
            Some(value) => self.intacct_entities(value, context),
            None => Some(Vec::new()),
        };
        let sender_authorized = match fields.get("sender_authorized") {
            Some(value) => self.boolean(value, "sender_authorized", context),
            None => Some(true),
        };
        let endpoint = fields
            .get("endpoint")
            .map(|value| self.intacct_endpoint(value, context));
        Some(IntacctCompany {
            id: id?,
            users: users?,
            entities: entities?,
            sender_authorized: sender_authorized?,
            endpoint: present(endpoint)?,
        })
    }

    /// A company's `endpoint`: an `http://` or `https://` URL with a host and no spaces.
    fn intacct_endpoint(&mut self, node: &Node, context: &str) -> Option<String> {
        let url = self.string(node, "endpoint", context)?;
        let host = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_default();
        if !host.is_empty() && url.chars().all(|c| c.is_ascii_graphic()) {
            return Some(url);
        }
        self.error(
            Diagnostic::new(
                format!("invalid `endpoint` `{url}` {context}"),
                Some(node.span),
            )
            .with_label("expected an http:// or https:// URL")
            .with_help("write e.g. `https://acme.intacct.com/ia/xml/xmlgw.phtml`, or leave it out for the mock's own URL"),
        );
        None
    }

    fn intacct_users(&mut self, node: &Node, context: &str) -> Option<Vec<IntacctUser>> {
        let items = self.non_empty_list(
            node,
            "users",
            context,
            "give at least one user: `{ id: ws-user, password: .. }`",
        )?;
        self.unique_items(
            items,
            AfterBad::Ignore,
            |cx, index, item| cx.intacct_user(item, &format!("in user {} {context}", index + 1)),
            |user| Some(user.id.clone()),
            |_, _, id| {
                (
                    format!("duplicate user id `{id}` {context}"),
                    "every user id of a company must be unique",
                )
            },
        )
    }

    fn intacct_user(&mut self, node: &Node, context: &str) -> Option<IntacctUser> {
        let fields = self.fields(node, USER_KEYS, "users", context)?;
        let id = self.required(&fields, "id", context, |cx, value| {
            cx.intacct_id(
                value,
                "id",
                context,
                "the Web Services user id, e.g. `ws-export`",
            )
        });
        let password = self.required(&fields, "password", context, |cx, value| {
            cx.intacct_password(value, context)
        });
        Some(IntacctUser {
            id: id?,
            password: password?,
        })
    }

    fn intacct_entities(&mut self, node: &Node, context: &str) -> Option<Vec<String>> {
        let items = self.list(node, "entities", context)?;
        self.unique_items(
            items,
            AfterBad::Ignore,
            |cx, _, item| cx.intacct_id(item, "entities", context, "an entity id, e.g. `US-EAST`"),
            |entity| Some(entity.clone()),
            |_, _, entity| {
                (
                    format!("duplicate entity `{entity}` {context}"),
                    "every entity of a company must be unique",
                )
            },
        )
    }

    /// An id: a non-empty string without spaces or control characters.
    fn intacct_id(&mut self, node: &Node, key: &str, context: &str, hint: &str) -> Option<String> {
        let id = self.string(node, key, context)?;
        if !id.is_empty() && id.chars().all(|c| c.is_ascii_graphic()) {
            return Some(id);
        }
        self.error(
            Diagnostic::new(format!("invalid `{key}` `{id}` {context}"), Some(node.span))
                .with_label("expected printable ASCII without spaces")
                .with_help(format!("write {hint}")),
        );
        None
    }

    /// A password: a non-empty string (the errors never quote it: it is a secret).
    fn intacct_password(&mut self, node: &Node, context: &str) -> Option<SecretText> {
        let password = self.string(node, "password", context)?;
        if password.is_empty() {
            self.error(
                Diagnostic::new(format!("`password` {context} is empty"), Some(node.span))
                    .with_label("expected the password the target sends (a test value)"),
            );
            return None;
        }
        Some(SecretText(password))
    }

    /// `with.rate_limits` of `provider: intacct`: `minute` and/or `concurrent`.
    fn intacct_rate_limits(&mut self, node: &Node, mock: &str) -> Option<IntacctRateLimits> {
        let context = format!("in `rate_limits` of mock `{mock}`");
        let fields = self.fields(node, LIMIT_KEYS, "rate_limits", &context)?;
        let limit = |cx: &mut Self, key: &str| {
            fields
                .get(key)
                .map(|value| cx.integer(value, key, &context, 1..=u64::MAX))
        };
        let minute = limit(self, "minute");
        let concurrent = limit(self, "concurrent");
        if minute.is_none() && concurrent.is_none() && fields.unknown.is_empty() {
            self.error(
                Diagnostic::new(
                    format!("`rate_limits` in `with` of mock `{mock}` sets no limit"),
                    Some(node.span),
                )
                .with_label("the catalog gives no Intacct numbers, so there are no defaults")
                .with_help("write e.g. `rate_limits: { minute: 60, concurrent: 2 }`"),
            );
            return None;
        }
        Some(IntacctRateLimits {
            minute: present(minute)?,
            concurrent: present(concurrent)?,
        })
    }
}
