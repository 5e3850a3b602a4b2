//! `with:` of `provider: sage` → [`SageSettings`]: the user's businesses (exactly one lead), the
//! app's optional redirect URI, the subscription, the user's read-only collections and an
//! optional throttle. Every mistake is a diagnostic at the offending node.

use super::read::AfterBad;
use super::{Cx, present};
use crate::scenario::diagnostic::Diagnostic;
use crate::scenario::model::{SageBusiness, SageSettings, SageThrottle};
use crate::scenario::yaml::Node;

pub(super) const SAGE_KEYS: &[&str] = &[
    "businesses",
    "redirect_uri",
    "subscription_active",
    "read_only",
    "throttle",
];
pub(super) const SAGE_BUSINESS_KEYS: &[&str] = &["id", "name", "lead"];
pub(super) const SAGE_THROTTLE_KEYS: &[&str] = &["limit", "per"];
/// The collections `read_only` may name (the provider's collections).
pub(super) const SAGE_COLLECTIONS: &[&str] = &["contacts", "purchase_invoices", "ledger_accounts"];
/// Longest business id accepted (Sage's are 32 hex digits; room for readable test ids).
const MAX_BUSINESS_ID: usize = 64;

impl Cx<'_> {
    /// `with:` of `provider: sage`.
    pub(super) fn sage(&mut self, node: &Node, mock: &str) -> Option<SageSettings> {
        let context = format!("in `with` of mock `{mock}`");
        let fields = self.fields(node, SAGE_KEYS, "with", &context)?;
        let businesses = self.required(&fields, "businesses", &context, |cx, value| {
            cx.sage_businesses(value, mock)
        });
        let redirect_uri = fields.get("redirect_uri").map(|value| {
            let uri = self.string(value, "redirect_uri", &context)?;
            if (uri.starts_with("https://") || uri.starts_with("http://"))
                && !uri.contains(char::is_whitespace)
            {
                return Some(uri);
            }
            self.error(
                Diagnostic::new(format!("invalid `redirect_uri` `{uri}`"), Some(value.span))
                    .with_label("expected an absolute `http://` or `https://` URI")
                    .with_help("write the callback URL registered for the app, e.g. `https://app.example.com/callback`"),
            );
            None
        });
        let subscription_active = match fields.get("subscription_active") {
            Some(value) => self.boolean(value, "subscription_active", &context),
            None => Some(true),
        };
        let read_only = match fields.get("read_only") {
            Some(value) => self.sage_read_only(value, &context),
            None => Some(Vec::new()),
        };
        let throttle = fields
            .get("throttle")
            .map(|value| self.sage_throttle(value, mock));
        Some(SageSettings {
            businesses: businesses?,
            redirect_uri: present(redirect_uri)?,
            subscription_active: subscription_active?,
            read_only: read_only?,
            throttle: present(throttle)?,
        })
    }

    /// `with.read_only`: a list of the provider's collections.
    fn sage_read_only(&mut self, node: &Node, context: &str) -> Option<Vec<String>> {
        let items = self.list(node, "read_only", context)?;
        self.each_item(items, |cx, _, item| {
            let name = cx.string(item, "read_only", context)?;
            if SAGE_COLLECTIONS.contains(&name.as_str()) {
                return Some(name);
            }
            cx.error(
                Diagnostic::new(
                    format!("unknown collection `{name}` in `read_only` {context}"),
                    Some(item.span),
                )
                .with_label(format!("expected one of {}", SAGE_COLLECTIONS.join(", "))),
            );
            None
        })
    }

    /// `with.throttle`: `{ limit: N, per: 60s }`.
    fn sage_throttle(&mut self, node: &Node, mock: &str) -> Option<SageThrottle> {
        let context = format!("in `throttle` of mock `{mock}`");
        let fields = self.fields(node, SAGE_THROTTLE_KEYS, "throttle", &context)?;
        let limit = self.required(&fields, "limit", &context, |cx, value| {
            cx.integer(value, "limit", &context, 1..=u64::MAX)
        });
        let per = self.required(&fields, "per", &context, |cx, value| {
            let per = cx.duration(value, "per", &context)?;
            if !per.is_zero() {
                return Some(per);
            }
            cx.error(
                Diagnostic::new(
                    format!("`per` {context} must be longer than zero"),
                    Some(value.span),
                )
                .with_label("a window of no time"),
            );
            None
        });
        Some(SageThrottle {
            limit: limit?,
            per: per?,
        })
    }

    /// `with.businesses`: at least one, unique ids, exactly one `lead: true`.
    fn sage_businesses(&mut self, node: &Node, mock: &str) -> Option<Vec<SageBusiness>> {
        let context = format!("in `with` of mock `{mock}`");
        let items = self.non_empty_list(
            node,
            "businesses",
            &context,
            "give at least one business: `{ id: 8a1f…, name: Acme, lead: true }`",
        )?;
        let business_context = |index: usize| format!("in business {} of mock `{mock}`", index + 1);
        let businesses = self.unique_items(
            items,
            AfterBad::Report,
            |cx, index, item| cx.sage_business(item, &business_context(index)),
            |business| Some(business.id.clone()),
            |index, _, id| {
                (
                    format!("duplicate business id `{id}` {}", business_context(index)),
                    "every business id must be unique",
                )
            },
        )?;
        // Every item was read into a business, in order: nothing was skipped.
        let leads: Vec<&Node> = items
            .iter()
            .zip(&businesses)
            .filter(|(_, business)| business.lead)
            .map(|(item, _)| item)
            .collect();
        match leads.as_slice() {
            [_] => Some(businesses),
            [] => {
                self.error(
                    Diagnostic::new(format!("no lead business {context}"), Some(node.span))
                        .with_label("mark exactly one business `lead: true`")
                        .with_help("Sage serves a request without `X-Business` from the user's lead business"),
                );
                None
            }
            [_, second, ..] => {
                self.error(
                    Diagnostic::new(
                        format!("more than one lead business {context}"),
                        Some(second.span),
                    )
                    .with_label("a user has exactly one lead business"),
                );
                None
            }
        }
    }

    fn sage_business(&mut self, node: &Node, context: &str) -> Option<SageBusiness> {
        let fields = self.fields(node, SAGE_BUSINESS_KEYS, "businesses", context)?;
        let id = self.required(&fields, "id", context, |cx, value| {
            let id = cx.scalar_text(value, "id", context)?;
            let valid = !id.is_empty()
                && id.len() <= MAX_BUSINESS_ID
                && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            if valid {
                return Some(id);
            }
            cx.error(
                Diagnostic::new(format!("invalid business id `{id}`"), Some(value.span))
                    .with_label(format!(
                        "expected 1 to {MAX_BUSINESS_ID} letters, digits and `-`"
                    ))
                    .with_help("Sage business ids look like `8a1f0c7e5b2d4e6f9a3c1b0d2e4f6a8c`"),
            );
            None
        });
        let name = self.required(&fields, "name", context, |cx, value| {
            cx.string(value, "name", context)
        });
        let lead = match fields.get("lead") {
            Some(value) => self.boolean(value, "lead", context),
            None => Some(false),
        };
        Some(SageBusiness {
            id: id?,
            name: name?,
            lead: lead?,
        })
    }
}
