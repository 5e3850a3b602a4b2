//! Payments and manual journals of `provider: xero`: the checks before one is saved and what
//! saving it writes, for `PUT /api.xro/2.0/Payments` and `PUT /api.xro/2.0/ManualJournals`.
//!
//! The catalog documents lock dates ([XERO-RESEARCH] §7.12) and the 400 `ValidationException`
//! shape ([XERO-OAS]); it is silent on every other rule of payments and journals, so each rule
//! below is reenact's choice, modelled on how a ledger behaves, and `docs/providers/xero.md`
//! says so.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use super::{Collection, XeroState, account_error, lock_date_error};
use crate::money;
use crate::scenario::model::XeroSettings;

/// The errors of one payment; empty when it can be saved. `pending` holds, per invoice id, what
/// earlier payments of the same batch already take off its `AmountDue`, and gains this one's
/// amount when it is valid.
///
/// Rules (all reenact's choices but the lock date): the invoice must exist (by `InvoiceID`, or
/// `InvoiceNumber`) and be `AUTHORISED`; an `Account` with a `Code` or `AccountID` is required,
/// and its code must be an active account when `with.accounts` is given; `Amount` must be a
/// positive number of at most 4 decimals no greater than the amount still due; a `Date` on or
/// before a lock date is refused [XERO-RESEARCH] §7.12 (no `Date` means the virtual clock's day).
pub(super) fn payment_errors(
    state: &XeroState,
    settings: &XeroSettings,
    fields: &Map<String, Value>,
    now: OffsetDateTime,
    pending: &mut BTreeMap<String, Decimal>,
) -> Vec<String> {
    let mut errors = Vec::new();
    let invoice = match fields.get("Invoice") {
        Some(reference) => match find_invoice(state, reference) {
            Some(invoice) => Some(invoice),
            None => {
                errors.push(format!(
                    "The Invoice {} could not be found",
                    describe(reference)
                ));
                None
            }
        },
        None => {
            errors.push("An Invoice must be specified".to_owned());
            None
        }
    };
    let account = fields.get("Account");
    let code = account
        .and_then(|account| account.get("Code"))
        .and_then(Value::as_str);
    let has_id = account
        .and_then(|account| account.get("AccountID"))
        .and_then(Value::as_str)
        .is_some();
    match code {
        Some(code) => errors.extend(account_error(settings, code)),
        None if has_id => {}
        None => errors.push("An Account must be specified with a Code or AccountID".to_owned()),
    }
    errors.extend(lock_date_error(settings, &date_or_today(fields, now)));
    let amount = fields.get("Amount").and_then(money::parse);
    match amount {
        None => errors.push("Amount must be a number with at most 4 decimals".to_owned()),
        Some(amount) if amount <= Decimal::ZERO => {
            errors.push("Payment amount must be greater than zero".to_owned());
        }
        Some(_) => {}
    }
    if let Some(invoice) = invoice {
        if invoice["Status"] != "AUTHORISED" {
            errors.push("Payments can only be made against AUTHORISED invoices".to_owned());
        }
        let id = invoice["InvoiceID"].as_str().unwrap_or_default().to_owned();
        let due = invoice
            .get("AmountDue")
            .and_then(money::parse)
            .unwrap_or_default()
            - pending.get(&id).copied().unwrap_or_default();
        if let Some(amount) = amount
            && amount > due
        {
            errors.push(format!(
                "The payment amount ({}) exceeds the amount due on the invoice ({})",
                money::to_json(amount),
                money::to_json(due)
            ));
        }
        if errors.is_empty()
            && let Some(amount) = amount
        {
            *pending.entry(id).or_default() += amount;
        }
    }
    errors
}

/// Save a valid payment: its `Invoice` becomes `{InvoiceID, InvoiceNumber?}`, it gains `Date`
/// (when absent), `Amount` (as a number), `PaymentType` (`ACCPAYPAYMENT` for a bill,
/// `ACCRECPAYMENT` for a sales invoice) and `Status` `AUTHORISED`; the invoice's `AmountPaid`
/// rises and `AmountDue` falls by the amount, its `Status` becomes `PAID` when nothing is due,
/// it lists the payment under `Payments` and its `UpdatedDateUTC` moves to `now` (reenact's
/// choices: the catalog documents no payment answer).
pub(super) fn apply_payment(
    state: &mut XeroState,
    fields: &mut Map<String, Value>,
    now: OffsetDateTime,
) {
    let date = date_or_today(fields, now);
    let amount = fields
        .get("Amount")
        .and_then(money::parse)
        .unwrap_or_default();
    let Some(reference) = fields.get("Invoice").cloned() else {
        return;
    };
    let Some(invoice) = state
        .records
        .live_mut(Collection::Invoices, None)
        .map(|record| &mut record.body)
        .find(|invoice| matches_invoice(invoice, &reference))
    else {
        return;
    };
    let paid = invoice
        .get("AmountPaid")
        .and_then(money::parse)
        .unwrap_or_default()
        + amount;
    let due = invoice
        .get("AmountDue")
        .and_then(money::parse)
        .unwrap_or_default()
        - amount;
    invoice["AmountPaid"] = money::to_json(paid);
    invoice["AmountDue"] = money::to_json(due);
    if due.is_zero() {
        invoice["Status"] = Value::from("PAID");
    }
    invoice["UpdatedDateUTC"] = Value::from(super::ms_json_date(now));
    let mut shown = json!({ "InvoiceID": invoice["InvoiceID"] });
    if let Some(number) = invoice.get("InvoiceNumber") {
        shown["InvoiceNumber"] = number.clone();
    }
    let payment_type = if invoice["Type"] == "ACCREC" {
        "ACCRECPAYMENT"
    } else {
        "ACCPAYPAYMENT"
    };
    let line = json!({
        "PaymentID": fields.get("PaymentID"),
        "Date": date,
        "Amount": money::to_json(amount),
    });
    match invoice.get_mut("Payments").and_then(Value::as_array_mut) {
        Some(payments) => payments.push(line),
        None => invoice["Payments"] = json!([line]),
    }
    fields.insert("Invoice".to_owned(), shown);
    fields.insert("Date".to_owned(), date);
    fields.insert("Amount".to_owned(), money::to_json(amount));
    fields.insert("PaymentType".to_owned(), Value::from(payment_type));
    fields.insert("Status".to_owned(), Value::from("AUTHORISED"));
}

/// The errors of one manual journal; empty when it can be saved.
///
/// Rules (reenact's choices but the lock date and account checks, which are the invoice's): a
/// `Narration` is required; `JournalLines` must hold at least two lines, each with a `LineAmount`
/// (at most 4 decimals; debits positive, credits negative) and an `AccountCode`, which must be an
/// active account when `with.accounts` is given (catalog X-08, as for invoice lines); the line
/// amounts must sum to zero; a `Date` on or before a lock date is refused [XERO-RESEARCH] §7.12
/// (no `Date` means the virtual clock's day); `Status`, when given, is `DRAFT` or `POSTED`.
pub(super) fn journal_errors(
    settings: &XeroSettings,
    fields: &Map<String, Value>,
    now: OffsetDateTime,
) -> Vec<String> {
    let mut errors = Vec::new();
    if fields
        .get("Narration")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        errors.push("Narration must be specified".to_owned());
    }
    let lines = fields
        .get("JournalLines")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    if lines.len() < 2 {
        errors.push("A manual journal must have at least two JournalLines".to_owned());
    }
    let mut sum = Decimal::ZERO;
    for line in lines {
        match line.get("LineAmount").and_then(money::parse) {
            Some(amount) => sum += amount,
            None => errors.push("LineAmount must be a number with at most 4 decimals".to_owned()),
        }
        match line.get("AccountCode").and_then(Value::as_str) {
            Some(code) => errors.extend(account_error(settings, code)),
            None => errors.push("Each journal line must have an AccountCode".to_owned()),
        }
    }
    if !sum.is_zero() {
        errors.push(format!(
            "The journal lines must sum to zero (debits equal to credits); they sum to {}",
            money::to_json(sum)
        ));
    }
    if let Some(status) = fields.get("Status")
        && !matches!(status.as_str(), Some("DRAFT" | "POSTED"))
    {
        errors.push("Status must be DRAFT or POSTED".to_owned());
    }
    errors.extend(lock_date_error(settings, &date_or_today(fields, now)));
    errors
}

/// Save a valid journal: `Date` when absent, `Status` `DRAFT` when absent, every `LineAmount` as
/// a number (reenact's choices).
pub(super) fn complete_journal(fields: &mut Map<String, Value>, now: OffsetDateTime) {
    let date = date_or_today(fields, now);
    fields.insert("Date".to_owned(), date);
    fields
        .entry("Status")
        .or_insert_with(|| Value::from("DRAFT"));
    if let Some(Value::Array(lines)) = fields.get_mut("JournalLines") {
        for line in lines {
            if let Some(amount) = line.get("LineAmount").and_then(money::parse) {
                line["LineAmount"] = money::to_json(amount);
            }
        }
    }
}

/// The invoice a payment's `Invoice` names, by `InvoiceID` or else `InvoiceNumber`.
fn find_invoice<'a>(state: &'a XeroState, reference: &Value) -> Option<&'a Value> {
    state
        .bodies(Collection::Invoices)
        .find(|invoice| matches_invoice(invoice, reference))
}

fn matches_invoice(invoice: &Value, reference: &Value) -> bool {
    match (
        reference.get("InvoiceID").and_then(Value::as_str),
        reference.get("InvoiceNumber").and_then(Value::as_str),
    ) {
        (Some(id), _) => invoice["InvoiceID"]
            .as_str()
            .is_some_and(|own| own.eq_ignore_ascii_case(id)),
        (None, Some(number)) => invoice["InvoiceNumber"] == number,
        (None, None) => false,
    }
}

/// How an error names the invoice a payment refers to.
fn describe(reference: &Value) -> String {
    match (
        reference.get("InvoiceID").and_then(Value::as_str),
        reference.get("InvoiceNumber").and_then(Value::as_str),
    ) {
        (Some(id), _) => format!("with InvoiceID {id}"),
        (None, Some(number)) => format!("with InvoiceNumber {number}"),
        (None, None) => "without an InvoiceID or InvoiceNumber".to_owned(),
    }
}

/// A record's `Date`, or the virtual clock's UTC day as `YYYY-MM-DD` when it has none.
fn date_or_today(fields: &Map<String, Value>, now: OffsetDateTime) -> Value {
    match fields.get("Date") {
        Some(date) => date.clone(),
        None => {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            Value::from(
                now.to_offset(time::UtcOffset::UTC)
                    .date()
                    .format(&format)
                    .unwrap_or_default(),
            )
        }
    }
}
