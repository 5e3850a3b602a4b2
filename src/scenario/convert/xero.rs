//! `with.contacts` of `provider: xero` → [`XeroContact`]s: contacts the organisation already
//! has when a run starts, each `ACTIVE` or `ARCHIVED`. The rest of Xero's `with:` is converted in
//! the parent module.

use super::Cx;
use crate::scenario::diagnostic::Diagnostic;
use crate::scenario::model::XeroContact;
use crate::scenario::yaml::Node;

const XERO_CONTACT_KEYS: &[&str] = &["name", "status"];

impl Cx<'_> {
    /// `with.contacts`: `[{ name, status? }]`, names unique, `status` `ACTIVE` (default) or
    /// `ARCHIVED`.
    pub(super) fn xero_contacts(&mut self, node: &Node, mock: &str) -> Option<Vec<XeroContact>> {
        let items = self.list(node, "contacts", &format!("in `with` of mock `{mock}`"))?;
        let mut out = Some(Vec::with_capacity(items.len()));
        let mut seen: Vec<String> = Vec::new();
        for (index, item) in items.iter().enumerate() {
            let context = format!("in contact {} of mock `{mock}`", index + 1);
            let Some(fields) = self.fields(item, XERO_CONTACT_KEYS, "contacts", &context) else {
                out = None;
                continue;
            };
            let name = self.required(&fields, "name", &context, |cx, value| {
                cx.string(value, "name", &context)
            });
            let status = self.xero_status(fields.get("status"), &context);
            if let Some(name) = &name
                && seen.contains(name)
            {
                self.error(
                    Diagnostic::new(
                        format!("duplicate contact name `{name}` {context}"),
                        Some(item.span),
                    )
                    .with_label("every contact name must be unique"),
                );
                out = None;
                continue;
            }
            seen.extend(name.clone());
            match (&mut out, name, status) {
                (Some(out), Some(name), Some(status)) => out.push(XeroContact { name, status }),
                _ => out = None,
            }
        }
        out
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
