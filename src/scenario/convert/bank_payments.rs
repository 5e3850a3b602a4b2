//! `payments:` in the `with:` of `provider: bank` → [`PaymentProfile`]: the reason codes of a
//! schema rejection and of a duplicate file, the bank's time zone (a fixed UTC offset), cut-off
//! and holidays, the timeline of its pain.002 reports and the rejections the scenario declares
//! per transaction. Every mistake is a diagnostic at its node with a hint.

use time::Date;

use super::{Cx, present};
use crate::scenario::diagnostic::Diagnostic;
use crate::scenario::model::{
    AfterCutOff, HolidayDate, PaymentOutcome, PaymentProfile, PaymentStage, PaymentTimeline,
};
use crate::scenario::yaml::Node;

pub(super) const BANK_PAYMENTS_KEYS: &[&str] = &[
    "schema_reason",
    "duplicate_reason",
    "time_zone",
    "cut_off",
    "after_cut_off",
    "holidays",
    "timeline",
    "outcomes",
];
pub(super) const BANK_TIMELINE_KEYS: &[&str] = &["accepted", "pending", "settled_at"];
pub(super) const BANK_OUTCOME_KEYS: &[&str] =
    &["end_to_end_id", "creditor_iban", "reason", "text", "stage"];

/// The most outcomes and holidays (reenact's bound).
const MAX_ITEMS: usize = 1_000;
/// The longest delay of a report (a week: reenact's bound, far past any bank's).
const MAX_DELAY_SECONDS: u64 = 7 * 24 * 3600;

impl Cx<'_> {
    /// `with.payments` of a bank.
    pub(super) fn bank_payments(&mut self, node: &Node, mock: &str) -> Option<PaymentProfile> {
        let context = format!("in `payments` of mock `{mock}`");
        let fields = self.fields(node, BANK_PAYMENTS_KEYS, "payments", &context)?;
        let defaults = PaymentProfile::default();
        let schema_reason = fields.get("schema_reason").map(|value| {
            self.choice(
                value,
                "schema_reason",
                &context,
                &[("FF01", "FF01"), ("NARR", "NARR")],
            )
            .map(str::to_owned)
        });
        let duplicate_reason = fields
            .get("duplicate_reason")
            .map(|value| self.reason_code(value, "duplicate_reason", &context));
        let offset = fields
            .get("time_zone")
            .map(|value| self.utc_offset(value, &context));
        let cut_off = fields
            .get("cut_off")
            .map(|value| self.clock_time(value, "cut_off", &context));
        let after_cut_off = fields.get("after_cut_off").map(|value| {
            self.choice(
                value,
                "after_cut_off",
                &context,
                &[
                    ("next_business_day", AfterCutOff::NextBusinessDay),
                    ("reject", AfterCutOff::Reject),
                ],
            )
        });
        let holidays = fields.get("holidays").map(|value| {
            let items = self.bounded_list(value, "holidays", &context)?;
            self.each_item(items, |cx, _, item| {
                cx.bank_date_value(item, "holidays", &context)
                    .map(HolidayDate)
            })
        });
        let timeline = fields
            .get("timeline")
            .map(|value| self.payment_timeline(value, &context));
        let outcomes = fields.get("outcomes").map(|value| {
            let items = self.bounded_list(value, "outcomes", &context)?;
            self.each_item(items, |cx, index, item| {
                cx.payment_outcome(item, &format!("in outcome {} of mock `{mock}`", index + 1))
            })
        });
        Some(PaymentProfile {
            schema_reason: present(schema_reason)?.unwrap_or(defaults.schema_reason),
            duplicate_reason: present(duplicate_reason)?.unwrap_or(defaults.duplicate_reason),
            utc_offset_seconds: present(offset)?.unwrap_or(defaults.utc_offset_seconds),
            cut_off_minutes: present(cut_off)?,
            after_cut_off: present(after_cut_off)?.unwrap_or(defaults.after_cut_off),
            holidays: present(holidays)?.unwrap_or_default(),
            timeline: present(timeline)?.unwrap_or(defaults.timeline),
            outcomes: present(outcomes)?.unwrap_or_default(),
        })
    }

    /// A list of at most [`MAX_ITEMS`].
    fn bounded_list<'n>(&mut self, node: &'n Node, key: &str, context: &str) -> Option<&'n [Node]> {
        let items = self.list(node, key, context)?;
        if let Some(extra) = items.get(MAX_ITEMS) {
            self.error(
                Diagnostic::new(
                    format!("more than {MAX_ITEMS} `{key}` {context}"),
                    Some(extra.span),
                )
                .with_label("the limit is crossed here"),
            );
            return None;
        }
        Some(items)
    }

    /// A calendar date.
    fn bank_date_value(&mut self, node: &Node, key: &str, context: &str) -> Option<Date> {
        let text = self.date(node, key, context)?;
        Date::parse(
            &text,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .ok()
    }

    /// An ISO 20022 external code: 1 to 4 capital letters or digits.
    fn reason_code(&mut self, node: &Node, key: &str, context: &str) -> Option<String> {
        let text = self.scalar_text(node, key, context)?;
        if (1..=4).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            return Some(text);
        }
        self.error(
            Diagnostic::new(format!("invalid `{key}` `{text}` {context}"), Some(node.span))
                .with_label("expected an ISO 20022 external status reason code: 1 to 4 capital letters or digits")
                .with_help("e.g. `AC01` (incorrect account number), `AM04` (insufficient funds), `DU01` (duplicate message ID)"),
        );
        None
    }

    /// `Z`, `UTC` or `±hh:mm` → seconds east of UTC.
    fn utc_offset(&mut self, node: &Node, context: &str) -> Option<i32> {
        let text = self.scalar_text(node, "time_zone", context)?;
        let parsed = match text.as_str() {
            "Z" | "UTC" | "+00:00" | "-00:00" => Some(0),
            _ => (|| {
                let b = text.as_bytes();
                if b.len() != 6 || b[3] != b':' {
                    return None;
                }
                let sign = match b[0] {
                    b'+' => 1,
                    b'-' => -1,
                    _ => return None,
                };
                let hours: i32 = text.get(1..3)?.parse().ok()?;
                let minutes: i32 = text.get(4..6)?.parse().ok()?;
                (hours <= 14 && minutes < 60).then_some(sign * (hours * 3600 + minutes * 60))
            })(),
        };
        if parsed.is_none() {
            self.error(
                Diagnostic::new(
                    format!("invalid `time_zone` `{text}` {context}"),
                    Some(node.span),
                )
                .with_label("expected a fixed offset from UTC: `Z`, `UTC` or `±hh:mm`")
                .with_help("zone names such as `Europe/Berlin` need a time zone database reenact does not carry: write the offset of the season the scenario plays in, e.g. `+01:00` (Berlin in winter) or `+02:00` (summer)"),
            );
        }
        parsed
    }

    /// `hh:mm` → minutes after midnight.
    fn clock_time(&mut self, node: &Node, key: &str, context: &str) -> Option<u16> {
        let text = self.scalar_text(node, key, context)?;
        let parsed = (|| {
            let (hours, minutes) = text.split_once(':')?;
            if hours.len() != 2 || minutes.len() != 2 {
                return None;
            }
            let hours: u16 = hours.parse().ok()?;
            let minutes: u16 = minutes.parse().ok()?;
            (hours < 24 && minutes < 60).then_some(hours * 60 + minutes)
        })();
        if parsed.is_none() {
            self.error(
                Diagnostic::new(
                    format!("invalid `{key}` `{text}` {context}"),
                    Some(node.span),
                )
                .with_label(
                    "expected a time of day `hh:mm` (24-hour clock) in the bank's `time_zone`",
                )
                .with_help("write hours 00 to 23 and minutes, quoted in YAML: `\"15:00\"`"),
            );
        }
        parsed
    }

    /// `timeline: { accepted, pending, settled_at }`.
    fn payment_timeline(&mut self, node: &Node, context: &str) -> Option<PaymentTimeline> {
        let fields = self.fields(node, BANK_TIMELINE_KEYS, "timeline", context)?;
        let defaults = PaymentTimeline::default();
        let delay = |cx: &mut Self, key: &str| -> Option<Option<u64>> {
            let Some(value) = fields.get(key) else {
                return Some(None);
            };
            let duration = cx.duration(value, key, context)?;
            let seconds = duration.as_secs();
            if seconds > MAX_DELAY_SECONDS || duration.subsec_nanos() != 0 {
                cx.error(
                    Diagnostic::new(format!("invalid `{key}` {context}"), Some(value.span))
                        .with_label("expected whole seconds, at most a week (`7d`)")
                        .with_help("e.g. `1m` or `10m`"),
                );
                return None;
            }
            Some(Some(seconds))
        };
        let accepted = delay(self, "accepted");
        let pending = delay(self, "pending");
        let settled_at = fields
            .get("settled_at")
            .map(|value| self.clock_time(value, "settled_at", context));
        let accepted = accepted?.unwrap_or(defaults.accepted_after_seconds);
        let pending = pending?.unwrap_or(defaults.pending_after_seconds);
        if pending < accepted {
            self.error(
                Diagnostic::new(
                    format!("`pending` comes before `accepted` {context}"),
                    fields
                        .get("pending")
                        .map(|node| node.span)
                        .or(Some(node.span)),
                )
                .with_label("the ACSP report cannot come before the ACTC report")
                .with_help("make `pending` at least `accepted`"),
            );
            return None;
        }
        Some(PaymentTimeline {
            accepted_after_seconds: accepted,
            pending_after_seconds: pending,
            settled_at_minutes: present(settled_at)?.unwrap_or(defaults.settled_at_minutes),
        })
    }

    /// One `outcomes` item: exactly one of `end_to_end_id` and `creditor_iban`, a reason.
    fn payment_outcome(&mut self, node: &Node, context: &str) -> Option<PaymentOutcome> {
        let fields = self.fields(node, BANK_OUTCOME_KEYS, "outcomes", context)?;
        let end_to_end_id = fields.get("end_to_end_id").map(|value| {
            let text = self.scalar_text(value, "end_to_end_id", context)?;
            if (1..=35).contains(&text.chars().count()) {
                return Some(text);
            }
            self.error(
                Diagnostic::new(
                    format!("invalid `end_to_end_id` {context}"),
                    Some(value.span),
                )
                .with_label("expected 1 to 35 characters (`Max35Text`)"),
            );
            None
        });
        let creditor_iban = fields
            .get("creditor_iban")
            .map(|value| self.bank_iban(value, "creditor_iban", context));
        let reason = self.required(&fields, "reason", context, |cx, value| {
            cx.reason_code(value, "reason", context)
        });
        let text = fields.get("text").map(|value| {
            let text = self.scalar_text(value, "text", context)?;
            if text.chars().count() <= 105 * 10 && !text.chars().any(char::is_control) {
                return Some(text);
            }
            self.error(
                Diagnostic::new(format!("invalid `text` {context}"), Some(value.span))
                    .with_label("expected at most 1050 characters (ten `AddtlInf` of `Max105Text`) without control characters"),
            );
            None
        });
        let stage = fields.get("stage").map(|value| {
            self.choice(
                value,
                "stage",
                context,
                &[
                    ("accepted", PaymentStage::Accepted),
                    ("pending", PaymentStage::Pending),
                    ("settled", PaymentStage::Settled),
                ],
            )
        });
        let matchers = fields.has("end_to_end_id") as u8 + fields.has("creditor_iban") as u8;
        if matchers != 1 {
            self.error(
                Diagnostic::new(
                    format!("an outcome needs exactly one of `end_to_end_id` and `creditor_iban` {context}"),
                    Some(node.span),
                )
                .with_label(if matchers == 0 { "neither is given" } else { "both are given" })
                .with_help("match the transaction by its `EndToEndId`, or every transaction to one creditor IBAN"),
            );
            return None;
        }
        Some(PaymentOutcome {
            end_to_end_id: present(end_to_end_id)?,
            creditor_iban: present(creditor_iban)?,
            reason: reason?,
            text: present(text)?,
            stage: present(stage)?.unwrap_or(PaymentStage::Pending),
        })
    }
}
