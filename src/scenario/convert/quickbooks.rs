//! `with:` of `provider: quickbooks` into [`QuickBooksSettings`] (documented in
//! `docs/providers/quickbooks.md`): a child of the conversion, using its building blocks.

use super::read::AfterBad;
use super::{Cx, Scope, present};
use crate::scenario::diagnostic::Diagnostic;
use crate::scenario::model::{
    QuickBooksRateLimits, QuickBooksRealm, QuickBooksRealmStatus, QuickBooksSettings,
    QuickBooksWebhookSpec,
};
use crate::scenario::yaml::Node;

pub(super) const KEYS: &[&str] = &[
    "realms",
    "refresh_rotation",
    "refresh_lag",
    "books_closed_date",
    "batch_max_items",
    "warn_duplicate_bill_number",
    "rate_limits",
    "verifier_token",
];
pub(super) const REALM_KEYS: &[&str] = &["id", "name", "status"];
pub(super) const LIMIT_KEYS: &[&str] = &["minute", "concurrent", "batch_minute"];

impl Cx<'_> {
    /// `with:` of `provider: quickbooks`.
    pub(super) fn quickbooks(&mut self, node: &Node, mock: &str) -> Option<QuickBooksSettings> {
        let context = format!("in `with` of mock `{mock}`");
        let fields = self.fields(node, KEYS, "with", &context)?;
        let realms = self.required(&fields, "realms", &context, |this, value| {
            this.quickbooks_realms(value, mock, &context)
        });
        let duration = |cx: &mut Self, key: &str, default| match fields.get(key) {
            Some(value) => cx.duration(value, key, &context),
            None => Some(default),
        };
        let refresh_rotation = duration(
            self,
            "refresh_rotation",
            QuickBooksSettings::DEFAULT_REFRESH_ROTATION,
        );
        let refresh_lag = duration(self, "refresh_lag", QuickBooksSettings::DEFAULT_REFRESH_LAG);
        let books_closed_date = fields
            .get("books_closed_date")
            .map(|value| self.date(value, "books_closed_date", &context));
        let batch_max_items = match fields.get("batch_max_items") {
            Some(value) => self.integer(value, "batch_max_items", &context, 1..=1000),
            None => Some(QuickBooksSettings::DEFAULT_BATCH_MAX_ITEMS),
        };
        let warn_duplicate_bill_number = match fields.get("warn_duplicate_bill_number") {
            Some(value) => self.boolean(value, "warn_duplicate_bill_number", &context),
            None => Some(true),
        };
        let rate_limits = fields
            .get("rate_limits")
            .map(|value| self.quickbooks_rate_limits(value, mock));
        let verifier_token = fields.get("verifier_token").map(|value| {
            self.secret_setting(
                value,
                "verifier_token",
                &context,
                "expected the app's webhook verifier token: printable ASCII without spaces",
                "copy it from the app's Webhooks page, e.g. `verifier_token: 3xAmPl3t0k3n`",
            )
        });
        Some(QuickBooksSettings {
            realms: realms?,
            refresh_rotation: refresh_rotation?,
            refresh_lag: refresh_lag?,
            books_closed_date: present(books_closed_date)?,
            batch_max_items: batch_max_items?,
            warn_duplicate_bill_number: warn_duplicate_bill_number?,
            rate_limits: present(rate_limits)?,
            verifier_token: present(verifier_token)?,
        })
    }

    /// `with.realms`: at least one `{ id, name }`, ids made of digits and unique.
    fn quickbooks_realms(
        &mut self,
        node: &Node,
        mock: &str,
        context: &str,
    ) -> Option<Vec<QuickBooksRealm>> {
        let items = self.non_empty_list(
            node,
            "realms",
            context,
            "give at least one company: `{ id: \"9130347596783456\", name: Acme }`",
        )?;
        let realm_context = |index: usize| format!("in realm {} of mock `{mock}`", index + 1);
        self.unique_items(
            items,
            AfterBad::Report,
            |cx, index, item| cx.quickbooks_realm(item, &realm_context(index)),
            |realm| Some(realm.id.clone()),
            |index, _, id| {
                (
                    format!("duplicate realm id `{id}` {}", realm_context(index)),
                    "every realm id must be unique",
                )
            },
        )
    }

    fn quickbooks_realm(&mut self, node: &Node, context: &str) -> Option<QuickBooksRealm> {
        let fields = self.fields(node, REALM_KEYS, "realms", context)?;
        let id = self.required(&fields, "id", context, |this, value| {
            let id = this.scalar_text(value, "id", context)?;
            if !id.is_empty() && id.len() <= 20 && id.bytes().all(|b| b.is_ascii_digit()) {
                return Some(id);
            }
            this.error(
                Diagnostic::new(format!("invalid realm id `{id}`"), Some(value.span))
                    .with_label("a QuickBooks realm id (company id) is 1 to 20 digits")
                    .with_help("write e.g. `id: \"9130347596783456\"`"),
            );
            None
        });
        let name = self.required(&fields, "name", context, |this, value| {
            this.string(value, "name", context)
        });
        let status = match fields.get("status") {
            Some(value) => self.choice(
                value,
                "status",
                context,
                &[
                    ("active", QuickBooksRealmStatus::Active),
                    ("admin_removed", QuickBooksRealmStatus::AdminRemoved),
                    (
                        "subscription_ended",
                        QuickBooksRealmStatus::SubscriptionEnded,
                    ),
                ],
            ),
            None => Some(QuickBooksRealmStatus::Active),
        };
        Some(QuickBooksRealm {
            id: id?,
            name: name?,
            status: status?,
        })
    }

    /// `with.rate_limits` of `provider: quickbooks`: each limit optional, Intuit's by default.
    fn quickbooks_rate_limits(&mut self, node: &Node, mock: &str) -> Option<QuickBooksRateLimits> {
        let context = format!("in `rate_limits` of mock `{mock}`");
        let fields = self.fields(node, LIMIT_KEYS, "rate_limits", &context)?;
        let defaults = QuickBooksRateLimits::default();
        let limit = |cx: &mut Self, key: &str, default: u64| match fields.get(key) {
            Some(value) => cx.integer(value, key, &context, 1..=u64::MAX),
            None => Some(default),
        };
        let minute = limit(self, "minute", defaults.minute);
        let concurrent = limit(self, "concurrent", defaults.concurrent);
        let batch_minute = limit(self, "batch_minute", defaults.batch_minute);
        Some(QuickBooksRateLimits {
            minute: minute?,
            concurrent: concurrent?,
            batch_minute: batch_minute?,
        })
    }
}

pub(super) const WEBHOOK_KEYS: &[&str] = &["entity", "operation", "id", "realm", "format"];

impl Cx<'_> {
    /// `quickbooks:` of a webhook: `{ entity: Bill, operation: Create, id: ID }`, optionally
    /// with `realm` and `format: legacy | cloudevents`.
    pub(super) fn quickbooks_webhook(
        &mut self,
        node: &Node,
        context: &str,
        scope: Scope<'_>,
    ) -> Option<QuickBooksWebhookSpec> {
        let quickbooks_context = format!("in `quickbooks` of {}", &context[3..]);
        let context = quickbooks_context.as_str();
        let fields = self.fields(node, WEBHOOK_KEYS, "quickbooks", context)?;
        let entity = self.required(&fields, "entity", context, |this, value| {
            this.choice(
                value,
                "entity",
                context,
                &[
                    ("Bill", "Bill"),
                    ("Vendor", "Vendor"),
                    ("BillPayment", "BillPayment"),
                ],
            )
        });
        let operation = self.required(&fields, "operation", context, |this, value| {
            this.choice(
                value,
                "operation",
                context,
                &[("Create", "Create"), ("Update", "Update")],
            )
        });
        let id = self.required_template(&fields, "id", context, scope);
        let realm = fields
            .get("realm")
            .map(|value| self.scalar_text(value, "realm", context));
        let cloudevents = match fields.get("format") {
            Some(value) => self.choice(
                value,
                "format",
                context,
                &[("legacy", false), ("cloudevents", true)],
            ),
            None => Some(false),
        };
        Some(QuickBooksWebhookSpec {
            entity: entity?.to_owned(),
            operation: operation?.to_owned(),
            id: id?,
            realm: present(realm)?,
            cloudevents: cloudevents?,
        })
    }

    /// Whether `mock` can send a `quickbooks:` webhook: a `provider: quickbooks` mock with a
    /// `verifier_token`.
    pub(super) fn quickbooks_webhook_sender(
        &mut self,
        mock: &str,
        node: &Node,
        context: &str,
    ) -> bool {
        let label = match self.quickbooks_mocks.iter().find(|(name, _)| name == mock) {
            Some((_, true)) => return true,
            Some((_, false)) => "give the mock `with.verifier_token`: QuickBooks signs with it",
            None => "`quickbooks` webhooks are sent by a mock with `provider: quickbooks`",
        };
        self.error(
            Diagnostic::new(
                format!("mock `{mock}` cannot send `quickbooks` webhooks {context}"),
                Some(node.span),
            )
            .with_label(label),
        );
        false
    }
}
