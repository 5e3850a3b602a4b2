//! ISO 20022 camt.053 (BankToCustomerStatement) rendered from the ledger, versions
//! `camt.053.001.02` and `camt.053.001.08`: [`render`] writes one `Document` per message (one,
//! or one per page with `page_size`), each element in the order of its XSD sequence.
//!
//! Shape (both versions, catalog §6.3; element order from the XSDs `camt.053.001.02.xsd` and
//! `camt.053.001.08.xsd`): `GrpHdr` (`MsgId`, `CreDtTm`, `MsgPgntn`), then one `Stmt` per account
//! on the page (`Id`, v08 `StmtPgntn`, `ElctrncSeqNb`, `CreDtTm`, `FrToDt`, `Acct` with `IBAN` or
//! `Othr/Id`, `Ccy`, `Ownr/Nm` and `Svcr` with the bank's BIC, `Bal` opening and closing,
//! `TxsSummry`, `Ntry`*). Amounts are always positive with `CdtDbtInd` (an overdrawn balance is
//! `DBIT`) and carry the currency's ISO 4217 minor units (`JPY` `2700`, `EUR` `250.00`, `BHD`
//! `1.500`); an amount with more decimals keeps them (never rounded away).
//!
//! Versions differ where the XSDs do: v02 `<Sts>BOOK</Sts>`, v08 `<Sts><Cd>BOOK</Cd></Sts>`; v02
//! parties `Dbtr/Nm`, v08 `Dbtr/Pty/Nm`; v02 agents `FinInstnId/BIC`, v08 `FinInstnId/BICFI`;
//! v08 adds `StmtPgntn`, `TxDtls/Amt`+`CdtDbtInd` and `Refs/AcctOwnrTxId` (the customer
//! reference, which v02 has no element for); v02 `TtlNetNtryAmt`, v08 `TtlNetNtry/Amt`.
//!
//! Pagination (`page_size` entries per message, like MT940's `:28C:n/m` pages): accounts are laid
//! out in file order and their entries fill pages of `page_size`; a statement cut by a page break
//! closes that page with an interim booked balance `ITBD` and opens the next one with the same
//! `ITBD` (as paginated statements do, Finnish Banks' ISO 20022 Account Statement Guide §4.5.18);
//! only its first page has `OPBD` and only its last `CLBD`. `MsgPgntn/PgNb` counts messages
//! (`LastPgInd` on the last), v08 `StmtPgntn` counts one statement's pages. At most 99 999 pages
//! (`PgNb` is `Max5NumericText`): a longer file gets larger pages.

use std::fmt::Write as _;
use std::ops::Range;

use rust_decimal::Decimal;
use time::{
    Date, OffsetDateTime, format_description::BorrowedFormatItem, macros::format_description,
};

use crate::mock::providers::saml::{escape_attr, escape_text};
use crate::money::minor_units;
use crate::scenario::model::{
    BankAccount, BankIdentity, BankTransaction, CamtOptions, CamtVersion, RenderedStatement,
};

/// The most messages one file may be split into: `PgNb` is `Max5NumericText`.
const MAX_PAGES: usize = 99_999;

/// `ISODate`: `2026-11-02`.
const DATE: &[BorrowedFormatItem<'static>] = format_description!("[year]-[month]-[day]");
/// `ISODateTime` with the offset: `2026-11-03T05:55:00+00:00`.
const DATE_TIME: &[BorrowedFormatItem<'static>] = format_description!(
    "[year]-[month]-[day]T[hour]:[minute]:[second][offset_hour sign:mandatory]:[offset_minute]"
);
/// The creation time in `MsgId`: `20261103055500`.
const COMPACT: &[BorrowedFormatItem<'static>] =
    format_description!("[year][month][day][hour][minute][second]");

/// The messages of the file `statement` describes (one, or one per page with
/// `options.page_size`), for `accounts` (in `statement.accounts` order), written by `bank` at
/// `created_at`.
pub(crate) fn render(
    statement: &RenderedStatement,
    options: &CamtOptions,
    accounts: &[&BankAccount],
    bank: &BankIdentity,
    created_at: OffsetDateTime,
) -> Vec<Vec<u8>> {
    let ledgers: Vec<Ledger<'_>> = accounts
        .iter()
        .map(|account| Ledger {
            account,
            entries: account
                .booked_between(statement.from, statement.to)
                .collect(),
        })
        .collect();
    let pages = paginate(&ledgers, statement.from, options.page_size);
    let writer = Writer {
        version: options.version,
        statement,
        bank,
        created_at,
        paginated: pages.len() > 1,
    };
    let count = pages.len();
    pages
        .iter()
        .enumerate()
        .map(|(index, parts)| writer.message(&ledgers, parts, index + 1, index + 1 == count))
        .collect()
}

/// One account's entries in the statement's period.
struct Ledger<'a> {
    account: &'a BankAccount,
    entries: Vec<&'a BankTransaction>,
}

/// The share of one account's statement that one message holds.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Part {
    /// Index of the account in the file.
    ledger: usize,
    /// Its entries on this page.
    entries: Range<usize>,
    /// Which page of this account's statement (from 1).
    page: usize,
    /// The statement's first page (opens with `OPBD`, else `ITBD`).
    first: bool,
    /// The statement's last page (closes with `CLBD`, else `ITBD`).
    last: bool,
    /// The booked balance before the page's entries, and its date.
    opening: (Decimal, Date),
}

/// The pages of a file: each a list of statement parts holding `page_size` entries at most
/// (`None` or 0: one page). An account without entries goes on the page in course.
fn paginate(ledgers: &[Ledger<'_>], from: Date, page_size: Option<u32>) -> Vec<Vec<Part>> {
    let total: usize = ledgers.iter().map(|ledger| ledger.entries.len()).sum();
    let size = match page_size.and_then(|size| usize::try_from(size).ok()) {
        Some(size) if size > 0 => size.max(total.div_ceil(MAX_PAGES)),
        _ => usize::MAX,
    };
    let mut pages: Vec<Vec<Part>> = Vec::new();
    let mut used = 0;
    for (index, ledger) in ledgers.iter().enumerate() {
        let mut balance = ledger.account.balance_before(from);
        let mut date = from;
        let mut start = 0;
        let mut page = 1;
        loop {
            let remaining = ledger.entries.len() - start;
            if pages.is_empty() || (used == size && remaining > 0) {
                pages.push(Vec::new());
                used = 0;
            }
            let end = start + remaining.min(size - used);
            let part = Part {
                ledger: index,
                entries: start..end,
                page,
                first: start == 0,
                last: end == ledger.entries.len(),
                opening: (balance, date),
            };
            for entry in &ledger.entries[start..end] {
                balance += entry.amount;
                date = entry.booked;
            }
            let last = part.last;
            if let Some(current) = pages.last_mut() {
                current.push(part);
            }
            used += end - start;
            start = end;
            page += 1;
            if last {
                break;
            }
        }
    }
    pages
}

/// What every message of one file shares.
struct Writer<'a> {
    version: CamtVersion,
    statement: &'a RenderedStatement,
    bank: &'a BankIdentity,
    created_at: OffsetDateTime,
    paginated: bool,
}

impl Writer<'_> {
    fn v08(&self) -> bool {
        self.version == CamtVersion::V08
    }

    /// One `Document`: page `page` of the file, holding `parts`.
    fn message(&self, ledgers: &[Ledger<'_>], parts: &[Part], page: usize, last: bool) -> Vec<u8> {
        let namespace = match self.version {
            CamtVersion::V02 => "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02",
            CamtVersion::V08 => "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08",
        };
        let mut xml = Xml::default();
        xml.out
            .push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        xml.out
            .push_str(&format!("<Document xmlns=\"{namespace}\">\n"));
        xml.depth = 1;
        xml.open("BkToCstmrStmt");
        xml.open("GrpHdr");
        let mut message_id = format!(
            "STMT{}-{}",
            self.created_at.format(COMPACT).unwrap_or_default(),
            self.statement.sequence
        );
        if self.paginated {
            let _ = write!(message_id, "-{page}");
        }
        xml.text("MsgId", &message_id, 35);
        xml.leaf("CreDtTm", &date_time(self.created_at));
        pagination(&mut xml, "MsgPgntn", page, last);
        xml.close();
        for part in parts {
            if let Some(ledger) = ledgers.get(part.ledger) {
                self.statement(&mut xml, ledger, part);
            }
        }
        xml.close();
        xml.out.push_str("</Document>\n");
        xml.out.into_bytes()
    }

    /// One `Stmt`: `part` of `ledger`'s statement.
    fn statement(&self, xml: &mut Xml, ledger: &Ledger<'_>, part: &Part) {
        let account = ledger.account;
        let currency = account.currency.as_str();
        let entries = ledger.entries.get(part.entries.clone()).unwrap_or_default();
        xml.open("Stmt");
        let id = format!(
            "{}-{}-{}",
            self.statement
                .to
                .format(DATE)
                .unwrap_or_default()
                .replace('-', ""),
            self.statement.sequence,
            part.ledger + 1
        );
        xml.text("Id", &id, 35);
        if self.v08() {
            pagination(xml, "StmtPgntn", part.page, part.last);
        }
        xml.leaf("ElctrncSeqNb", &self.statement.sequence.to_string());
        xml.leaf("CreDtTm", &date_time(self.created_at));
        xml.open("FrToDt");
        let offset = self.created_at.offset();
        let from = self.statement.from.midnight().assume_offset(offset);
        let to = self
            .statement
            .to
            .with_hms(23, 59, 59)
            .map(|to| to.assume_offset(offset))
            .unwrap_or(from);
        xml.leaf("FrDtTm", &date_time(from));
        xml.leaf("ToDtTm", &date_time(to));
        xml.close();
        self.account(xml, account);

        let (opening, opening_date) = part.opening;
        let closing = opening + entries.iter().map(|entry| entry.amount).sum::<Decimal>();
        let closing_date = match (part.last, entries.last()) {
            (true, _) | (false, None) => self.statement.to,
            (false, Some(entry)) => entry.booked,
        };
        let (opening_code, opening_date) = if part.first {
            ("OPBD", self.statement.from)
        } else {
            ("ITBD", opening_date)
        };
        balance(xml, opening_code, opening, currency, opening_date);
        let closing_code = if part.last { "CLBD" } else { "ITBD" };
        balance(xml, closing_code, closing, currency, closing_date);

        if !entries.is_empty() {
            self.summary(xml, entries, currency);
        }
        for entry in entries {
            self.entry(xml, entry, currency);
        }
        xml.close();
    }

    /// `Acct`: the account's identifier, currency, owner and the bank that keeps it.
    fn account(&self, xml: &mut Xml, account: &BankAccount) {
        xml.open("Acct");
        account_id(xml, account.identifier());
        xml.leaf("Ccy", &account.currency);
        if let Some(owner) = account.owner.as_deref().and_then(|name| clean(name, 140)) {
            xml.open("Ownr");
            xml.leaf("Nm", &owner);
            xml.close();
        }
        xml.open("Svcr");
        xml.open("FinInstnId");
        xml.text(self.bic_element(), &self.bank.bic, 11);
        xml.text("Nm", &self.bank.name, 140);
        xml.close();
        xml.close();
        xml.close();
    }

    fn bic_element(&self) -> &'static str {
        if self.v08() { "BICFI" } else { "BIC" }
    }

    /// `TxsSummry`: how many entries, their sum, their net amount, and the same per direction.
    fn summary(&self, xml: &mut Xml, entries: &[&BankTransaction], currency: &str) {
        // How many of the entries whose debit-ness is `debit` (`None`: all), and their sum.
        let tally = |debit: Option<bool>| {
            let picked = entries
                .iter()
                .filter(|entry| debit.is_none_or(|debit| is_debit(entry.amount) == debit));
            (
                picked.clone().count(),
                picked.map(|entry| entry.amount.abs()).sum::<Decimal>(),
            )
        };
        let (count, total) = tally(None);
        let net: Decimal = entries.iter().map(|entry| entry.amount).sum();
        xml.open("TxsSummry");
        xml.open("TtlNtries");
        xml.leaf("NbOfNtries", &count.to_string());
        xml.leaf("Sum", &amount(total, currency));
        if self.v08() {
            xml.open("TtlNetNtry");
            xml.leaf("Amt", &amount(net, currency));
            xml.leaf("CdtDbtInd", direction(net));
            xml.close();
        } else {
            xml.leaf("TtlNetNtryAmt", &amount(net, currency));
            xml.leaf("CdtDbtInd", direction(net));
        }
        xml.close();
        // Per direction, for the directions the statement has entries in.
        for (element, debit) in [("TtlCdtNtries", false), ("TtlDbtNtries", true)] {
            let (count, total) = tally(Some(debit));
            if count > 0 {
                xml.open(element);
                xml.leaf("NbOfNtries", &count.to_string());
                xml.leaf("Sum", &amount(total, currency));
                xml.close();
            }
        }
        xml.close();
    }

    /// One `Ntry`.
    fn entry(&self, xml: &mut Xml, entry: &BankTransaction, currency: &str) {
        xml.open("Ntry");
        xml.amount("Amt", entry.amount, currency);
        xml.leaf("CdtDbtInd", direction(entry.amount));
        if entry.reversal {
            xml.leaf("RvslInd", "true");
        }
        if self.v08() {
            xml.open("Sts");
            xml.leaf("Cd", "BOOK");
            xml.close();
        } else {
            xml.leaf("Sts", "BOOK");
        }
        date(xml, "BookgDt", entry.booked);
        date(xml, "ValDt", entry.value);
        if let Some(reference) = &entry.bank_ref {
            xml.text("AcctSvcrRef", reference, 35);
        }
        bank_transaction_code(xml, entry);
        self.details(xml, entry, currency);
        xml.close();
    }

    /// `NtryDtls/TxDtls`: references, the other party and its bank, the remittance text (left
    /// out when the ledger gives none of them).
    fn details(&self, xml: &mut Xml, entry: &BankTransaction, currency: &str) {
        let end_to_end = entry.end_to_end_id.as_deref().and_then(|id| clean(id, 35));
        let own_reference = if self.v08() {
            entry.customer_ref.as_deref().and_then(|id| clean(id, 35))
        } else {
            None
        };
        let purpose = entry
            .purpose
            .as_deref()
            .and_then(|text| clean(text, usize::MAX));
        let party = entry.counterparty.as_ref();
        if end_to_end.is_none() && own_reference.is_none() && purpose.is_none() && party.is_none() {
            return;
        }
        xml.open("NtryDtls");
        xml.open("TxDtls");
        if end_to_end.is_some() || own_reference.is_some() {
            xml.open("Refs");
            if let Some(id) = &end_to_end {
                xml.leaf("EndToEndId", id);
            }
            if let Some(id) = &own_reference {
                xml.leaf("AcctOwnrTxId", id);
            }
            xml.close();
        }
        if self.v08() {
            xml.amount("Amt", entry.amount, currency);
            xml.leaf("CdtDbtInd", direction(entry.amount));
        }
        if let Some(party) = party {
            // The counterparty paid a credit (it is the debtor) and was paid by a debit (the
            // creditor); a reversal keeps the roles of the entry it reverses, whose direction
            // was the opposite of its own.
            let credit = !is_debit(entry.amount);
            let (role, role_account, agent) = if credit != entry.reversal {
                ("Dbtr", "DbtrAcct", "DbtrAgt")
            } else {
                ("Cdtr", "CdtrAcct", "CdtrAgt")
            };
            xml.open("RltdPties");
            xml.open(role);
            if self.v08() {
                xml.open("Pty");
            }
            xml.text("Nm", &party.name, 140);
            if self.v08() {
                xml.close();
            }
            xml.close();
            if let Some(iban) = &party.iban {
                xml.open(role_account);
                account_id(xml, &compact(iban));
                xml.close();
            }
            xml.close();
            if let Some(bic) = &party.bic {
                xml.open("RltdAgts");
                xml.open(agent);
                xml.open("FinInstnId");
                xml.text(self.bic_element(), bic, 11);
                xml.close();
                xml.close();
                xml.close();
            }
        }
        if let Some(purpose) = purpose {
            xml.open("RmtInf");
            // `Ustrd` is Max140Text, repeated: a longer text continues in the next one.
            let characters: Vec<char> = purpose.chars().collect();
            for chunk in characters.chunks(140) {
                xml.leaf("Ustrd", &chunk.iter().collect::<String>());
            }
            xml.close();
        }
        xml.close();
        xml.close();
    }
}

/// `MsgPgntn` or `StmtPgntn`.
fn pagination(xml: &mut Xml, element: &'static str, page: usize, last: bool) {
    xml.open(element);
    xml.leaf("PgNb", &page.to_string());
    xml.leaf("LastPgInd", if last { "true" } else { "false" });
    xml.close();
}

/// `Bal` of type `code`: the amount as a positive number and its direction.
fn balance(xml: &mut Xml, code: &str, value: Decimal, currency: &str, day: Date) {
    xml.open("Bal");
    xml.open("Tp");
    xml.open("CdOrPrtry");
    xml.leaf("Cd", code);
    xml.close();
    xml.close();
    xml.amount("Amt", value, currency);
    xml.leaf("CdtDbtInd", direction(value));
    date(xml, "Dt", day);
    xml.close();
}

/// `ELEMENT/Dt`.
fn date(xml: &mut Xml, element: &'static str, day: Date) {
    xml.open(element);
    xml.leaf("Dt", &day.format(DATE).unwrap_or_default());
    xml.close();
}

/// `Id/IBAN` when `identifier` has an IBAN's shape (`IBAN2007Identifier`), else `Id/Othr/Id`.
fn account_id(xml: &mut Xml, identifier: &str) {
    xml.open("Id");
    if is_iban(identifier) {
        xml.leaf("IBAN", identifier);
    } else {
        xml.open("Othr");
        xml.text("Id", identifier, 34);
        xml.close();
    }
    xml.close();
}

/// The XSDs' IBAN pattern `[A-Z]{2,2}[0-9]{2,2}[a-zA-Z0-9]{1,30}`.
fn is_iban(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() >= 5
        && bytes.len() <= 34
        && bytes[..2].iter().all(u8::is_ascii_uppercase)
        && bytes[2..4].iter().all(u8::is_ascii_digit)
        && bytes[4..].iter().all(u8::is_ascii_alphanumeric)
}

/// An IBAN as written for people (`DE89 3704 …`) compacted and upper-cased.
fn compact(iban: &str) -> String {
    iban.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase()
}

/// `BkTxCd`: a code `DOMN/FMLY/SUBF` (ISO 20022 bank transaction codes, 1 to 4 characters
/// each) as `Domn`, any other code as `Prtry/Cd`; without one, by direction: a received credit
/// transfer `PMNT/RCDT/ESCT` or an issued one `PMNT/ICDT/ESCT`, and their reversals `RRTN`.
fn bank_transaction_code(xml: &mut Xml, entry: &BankTransaction) {
    let given = entry.code.as_deref().filter(|code| !code.trim().is_empty());
    fn structured(code: &str) -> Option<Vec<&str>> {
        let parts: Vec<&str> = code.split('/').collect();
        (parts.len() == 3
            && parts.iter().all(|part| {
                (1..=4).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_alphanumeric())
            }))
        .then_some(parts)
    }
    xml.open("BkTxCd");
    match given {
        Some(code) if structured(code).is_none() => {
            xml.open("Prtry");
            xml.text("Cd", code, 35);
            xml.close();
        }
        _ => {
            // The entry's original direction names the family: money in is a received credit
            // transfer, money out an issued one (a reversal inverts the entry's own direction).
            let received = is_debit(entry.amount) == entry.reversal;
            let default = match (received, entry.reversal) {
                (true, false) => "PMNT/RCDT/ESCT",
                (false, false) => "PMNT/ICDT/ESCT",
                (true, true) => "PMNT/RCDT/RRTN",
                (false, true) => "PMNT/ICDT/RRTN",
            };
            let parts = given
                .and_then(structured)
                .unwrap_or_else(|| default.split('/').collect());
            xml.open("Domn");
            xml.leaf("Cd", parts[0]);
            xml.open("Fmly");
            xml.leaf("Cd", parts[1]);
            xml.leaf("SubFmlyCd", parts[2]);
            xml.close();
            xml.close();
        }
    }
    xml.close();
}

/// Below zero (`-0` is not).
fn is_debit(value: Decimal) -> bool {
    value < Decimal::ZERO
}

/// `CRDT` for an amount of zero or more, `DBIT` below zero.
fn direction(value: Decimal) -> &'static str {
    if is_debit(value) { "DBIT" } else { "CRDT" }
}

/// `value` without its sign, with the currency's minor units (`250` EUR → `250.00`, `2700` JPY
/// → `2700`), or more decimals when it has them.
fn amount(value: Decimal, currency: &str) -> String {
    let mut value = value.abs().normalize();
    let scale = value.scale().max(minor_units(currency));
    value.rescale(scale);
    value.to_string()
}

/// An ISO date-time with the offset (`2026-11-03T05:55:00+00:00`).
fn date_time(instant: OffsetDateTime) -> String {
    instant.format(DATE_TIME).unwrap_or_default()
}

/// `text` without the characters XML 1.0 cannot carry and cut to `max` characters; `None` when
/// nothing is left (the XSDs' texts have at least one character).
fn clean(text: &str, max: usize) -> Option<String> {
    let kept: String = text
        .chars()
        .filter(|c| {
            matches!(c, '\t' | '\n' | '\r') || (*c >= ' ' && !matches!(c, '\u{FFFE}' | '\u{FFFF}'))
        })
        .take(max)
        .collect();
    (!kept.is_empty()).then_some(kept)
}

/// An indented XML writer: elements opened are closed in turn, texts escaped.
#[derive(Default)]
struct Xml {
    out: String,
    depth: usize,
    open: Vec<&'static str>,
}

impl Xml {
    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }

    fn open(&mut self, name: &'static str) {
        self.indent();
        let _ = writeln!(self.out, "<{name}>");
        self.open.push(name);
        self.depth += 1;
    }

    fn close(&mut self) {
        if let Some(name) = self.open.pop() {
            self.depth = self.depth.saturating_sub(1);
            self.indent();
            let _ = writeln!(self.out, "</{name}>");
        }
    }

    /// `<name>text</name>`, `text` escaped.
    fn leaf(&mut self, name: &str, text: &str) {
        self.indent();
        let _ = writeln!(self.out, "<{name}>{}</{name}>", escape_text(text));
    }

    /// A leaf of a text type at most `max` characters long, left out when empty.
    fn text(&mut self, name: &str, text: &str, max: usize) {
        if let Some(text) = clean(text, max) {
            self.leaf(name, &text);
        }
    }

    /// `<name Ccy="…">amount</name>`.
    fn amount(&mut self, name: &str, value: Decimal, currency: &str) {
        self.indent();
        let _ = writeln!(
            self.out,
            "<{name} Ccy=\"{}\">{}</{name}>",
            escape_attr(currency),
            amount(value, currency)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::model::{Counterparty, StatementFormat};
    use time::macros::{date, datetime};

    fn bank() -> BankIdentity {
        BankIdentity {
            bic: "DEUTDEFFXXX".into(),
            name: "Deutsche Bank AG".into(),
            routing: "021000021".into(),
        }
    }

    fn tx(booked: Date, amount: &str) -> BankTransaction {
        BankTransaction {
            booked,
            value: booked,
            amount: amount.parse().expect("an amount"),
            reversal: false,
            code: None,
            counterparty: None,
            end_to_end_id: None,
            bank_ref: None,
            customer_ref: None,
            purpose: None,
        }
    }

    /// An overdrawn EUR account: a debit to Lumen Lab with every detail, a credit, then the
    /// debit reversed (a credit entry); it closes overdrawn at -200.50.
    fn operating() -> BankAccount {
        let day = date!(2026 - 11 - 02);
        BankAccount {
            id: "operating".into(),
            iban: Some("DE89370400440532013000".into()),
            number: None,
            currency: "EUR".into(),
            owner: Some("Acme Robotics GmbH".into()),
            opening_balance: "-1200.50".parse().expect("an amount"),
            opening_date: day,
            transactions: vec![
                BankTransaction {
                    value: date!(2026 - 11 - 03),
                    code: Some("NTRF".into()),
                    counterparty: Some(Counterparty {
                        name: "Lumen Lab".into(),
                        iban: Some("DE02 1203 0000 0000 2020 51".into()),
                        bic: Some("BYLADEM1001".into()),
                    }),
                    end_to_end_id: Some("E2E-4711".into()),
                    bank_ref: Some("B26110200001".into()),
                    customer_ref: Some("INV-42".into()),
                    purpose: Some("Invoice 42 & <co>".into()),
                    ..tx(day, "-250")
                },
                BankTransaction {
                    counterparty: Some(Counterparty {
                        name: "Orbit GmbH".into(),
                        iban: None,
                        bic: None,
                    }),
                    ..tx(day, "1000.00")
                },
                BankTransaction {
                    reversal: true,
                    counterparty: Some(Counterparty {
                        name: "Lumen Lab".into(),
                        iban: None,
                        bic: None,
                    }),
                    ..tx(day, "250.00")
                },
                tx(date!(2026 - 11 - 05), "-1.00"),
            ],
        }
    }

    /// A JPY account without an IBAN: amounts without decimals.
    fn yen() -> BankAccount {
        BankAccount {
            id: "tokyo".into(),
            iban: None,
            number: Some("1234567".into()),
            currency: "JPY".into(),
            owner: None,
            opening_balance: "5000".parse().expect("an amount"),
            opening_date: date!(2026 - 11 - 01),
            transactions: vec![BankTransaction {
                code: Some("PMNT/RCDT/DMCT".into()),
                ..tx(date!(2026 - 11 - 02), "2700")
            }],
        }
    }

    fn statement(version: CamtVersion, page_size: Option<u32>) -> (RenderedStatement, CamtOptions) {
        let options = CamtOptions { version, page_size };
        let statement = RenderedStatement {
            accounts: vec!["operating".into(), "tokyo".into()],
            from: date!(2026 - 11 - 02),
            to: date!(2026 - 11 - 02),
            sequence: 7,
            format: StatementFormat::Camt053(options.clone()),
        };
        (statement, options)
    }

    fn render_texts(version: CamtVersion, page_size: Option<u32>) -> Vec<String> {
        let (statement, options) = statement(version, page_size);
        let (operating, yen) = (operating(), yen());
        render(
            &statement,
            &options,
            &[&operating, &yen],
            &bank(),
            datetime!(2026-11-03 05:55:00 UTC),
        )
        .into_iter()
        .map(|bytes| String::from_utf8(bytes).expect("UTF-8"))
        .collect()
    }

    /// `(type, amount, direction)` of every `Bal` of `text`, in order.
    fn balances(text: &str) -> Vec<(String, String, String)> {
        let pattern = regex::Regex::new(
            r"<Cd>(\w+)</Cd>\s*</CdOrPrtry>\s*</Tp>\s*<Amt Ccy=.\w+.>([0-9.]+)</Amt>\s*<CdtDbtInd>(\w+)</CdtDbtInd>",
        )
        .expect("a pattern");
        pattern
            .captures_iter(text)
            .map(|c| (c[1].to_owned(), c[2].to_owned(), c[3].to_owned()))
            .collect()
    }

    fn owned(rows: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
        rows.iter()
            .map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), (*c).to_owned()))
            .collect()
    }

    #[test]
    fn a_v02_file_has_the_shape_of_its_golden_file() {
        // Debit with every detail, credit, reversal of the debit (a credit entry with
        // `RvslInd`), an overdrawn opening and closing balance (`DBIT`), JPY without decimals,
        // an account by number (`Othr/Id`), and a transaction outside the period left out.
        assert_eq!(
            render_texts(CamtVersion::V02, None),
            [include_str!("testdata/camt.053.001.02.xml")]
        );
    }

    #[test]
    fn a_v08_file_has_the_shape_of_its_golden_file() {
        // The same ledger: `Sts/Cd`, `Pty`, `BICFI`, `StmtPgntn`, `TxDtls/Amt`, `AcctOwnrTxId`.
        assert_eq!(
            render_texts(CamtVersion::V08, None),
            [include_str!("testdata/camt.053.001.08.xml")]
        );
    }

    #[test]
    fn an_overdrawn_account_opens_and_closes_as_debit_balances() {
        let text = &render_texts(CamtVersion::V02, None)[0];
        assert_eq!(
            balances(text),
            owned(&[
                ("OPBD", "1200.50", "DBIT"),
                ("CLBD", "200.50", "DBIT"),
                ("OPBD", "5000", "CRDT"),
                ("CLBD", "7700", "CRDT"),
            ])
        );
    }

    #[test]
    fn pages_of_two_entries_split_a_statement_with_interim_balances() {
        for version in [CamtVersion::V02, CamtVersion::V08] {
            let pages = render_texts(version, Some(2));
            assert_eq!(pages.len(), 2, "{version:?}");
            // Page 1: the first two entries of `operating`, closing on an interim balance.
            assert!(pages[0].contains("<MsgId>STMT20261103055500-7-1</MsgId>"));
            assert!(pages[0].contains(
                "<MsgPgntn>\n        <PgNb>1</PgNb>\n        <LastPgInd>false</LastPgInd>"
            ));
            assert_eq!(pages[0].matches("<Stmt>").count(), 1);
            assert_eq!(pages[0].matches("<Ntry>").count(), 2);
            assert_eq!(
                balances(&pages[0]),
                owned(&[("OPBD", "1200.50", "DBIT"), ("ITBD", "450.50", "DBIT")])
            );
            // Page 2: the reversal, then the whole `tokyo` statement.
            assert!(pages[1].contains("<MsgId>STMT20261103055500-7-2</MsgId>"));
            assert!(pages[1].contains(
                "<MsgPgntn>\n        <PgNb>2</PgNb>\n        <LastPgInd>true</LastPgInd>"
            ));
            assert_eq!(pages[1].matches("<Stmt>").count(), 2);
            assert_eq!(pages[1].matches("<Ntry>").count(), 2);
            assert_eq!(
                balances(&pages[1]),
                owned(&[
                    ("ITBD", "450.50", "DBIT"),
                    ("CLBD", "200.50", "DBIT"),
                    ("OPBD", "5000", "CRDT"),
                    ("CLBD", "7700", "CRDT"),
                ])
            );
            // Both pages of `operating` are one statement: same Id and sequence number.
            for page in &pages {
                assert!(page.contains("<Id>20261102-7-1</Id>"));
                assert!(page.contains("<ElctrncSeqNb>7</ElctrncSeqNb>"));
            }
            let statement_pages = pages[1].matches("<StmtPgntn>").count();
            if version == CamtVersion::V08 {
                assert!(pages[0].contains(
                    "<StmtPgntn>\n        <PgNb>1</PgNb>\n        <LastPgInd>false</LastPgInd>"
                ));
                assert!(pages[1].contains(
                    "<StmtPgntn>\n        <PgNb>2</PgNb>\n        <LastPgInd>true</LastPgInd>"
                ));
                assert_eq!(statement_pages, 2);
            } else {
                assert_eq!(statement_pages, 0, "v02 has no StmtPgntn");
            }
        }
    }

    #[test]
    fn a_page_size_of_zero_or_more_than_the_entries_makes_one_message() {
        for size in [None, Some(0), Some(4), Some(u32::MAX)] {
            let pages = render_texts(CamtVersion::V08, size);
            assert_eq!(pages.len(), 1, "{size:?}");
            assert!(
                pages[0].contains("<MsgId>STMT20261103055500-7</MsgId>"),
                "{size:?}"
            );
        }
    }

    #[test]
    fn an_account_without_entries_goes_on_the_page_in_course() {
        let empty = BankAccount {
            transactions: Vec::new(),
            ..yen()
        };
        let operating = operating();
        let ledgers = [&operating, &empty].map(|account| Ledger {
            account,
            entries: account
                .booked_between(date!(2026 - 11 - 02), date!(2026 - 11 - 02))
                .collect(),
        });
        let pages = paginate(&ledgers, date!(2026 - 11 - 02), Some(3));
        assert_eq!(pages.len(), 1);
        assert_eq!(pages[0].len(), 2);
        assert_eq!(pages[0][1].entries, 0..0);
        assert!(pages[0][1].first && pages[0][1].last);
    }

    #[test]
    fn a_file_never_has_more_than_99999_pages() {
        let many = BankAccount {
            transactions: vec![tx(date!(2026 - 11 - 02), "1"); 100_001],
            ..yen()
        };
        let ledgers = [Ledger {
            account: &many,
            entries: many.transactions.iter().collect(),
        }];
        let pages = paginate(&ledgers, date!(2026 - 11 - 02), Some(1));
        assert_eq!(pages.len(), 50_001, "pages of 2 entries");
        let last = pages.last().and_then(|page| page.last()).expect("a part");
        assert_eq!((last.page, last.last), (50_001, true));
    }

    #[test]
    fn amounts_carry_the_currency_minor_units_and_never_lose_decimals() {
        let cases = [
            ("2700", "JPY", "2700"),
            ("-250", "EUR", "250.00"),
            ("1.5", "BHD", "1.500"),
            ("0.0001", "EUR", "0.0001"),
            ("12.3400", "USD", "12.34"),
            ("-0", "EUR", "0.00"),
            ("1.25", "JPY", "1.25"),
        ];
        for (value, currency, expected) in cases {
            let value: Decimal = value.parse().expect("an amount");
            assert_eq!(amount(value, currency), expected, "{value} {currency}");
        }
        assert_eq!(direction("-0".parse().expect("an amount")), "CRDT");
    }

    #[test]
    fn texts_lose_what_xml_cannot_carry_and_are_cut_to_their_type_length() {
        assert_eq!(clean("a\u{1}b\u{FFFF}c\td", 35).as_deref(), Some("abc\td"));
        assert_eq!(clean("\u{0}\u{8}", 35), None);
        assert_eq!(
            clean(&"é".repeat(40), 35).map(|t| t.chars().count()),
            Some(35)
        );
        let mut xml = Xml::default();
        xml.text("Nm", "a&b<c>\"d\"\r\u{1}", 140);
        xml.amount("Amt", Decimal::ONE, "E\"R");
        assert_eq!(
            xml.out,
            "<Nm>a&amp;b&lt;c&gt;\"d\"&#xD;</Nm>\n<Amt Ccy=\"E&quot;R\">1.00</Amt>\n"
        );
    }

    #[test]
    fn a_long_purpose_continues_in_more_ustrd_elements() {
        let mut xml = Xml::default();
        let (statement, options) = statement(CamtVersion::V02, None);
        let bank = bank();
        let writer = Writer {
            version: options.version,
            statement: &statement,
            bank: &bank,
            created_at: datetime!(2026-11-03 05:55:00 UTC),
            paginated: false,
        };
        let entry = BankTransaction {
            purpose: Some("x".repeat(300)),
            ..tx(date!(2026 - 11 - 02), "1")
        };
        writer.details(&mut xml, &entry, "EUR");
        let lengths: Vec<usize> = regex::Regex::new("<Ustrd>(x*)</Ustrd>")
            .expect("a pattern")
            .captures_iter(&xml.out)
            .map(|c| c[1].len())
            .collect();
        assert_eq!(lengths, [140, 140, 20]);
    }

    #[test]
    fn bank_transaction_codes_are_structured_proprietary_or_by_direction() {
        let cases = [
            (Some("PMNT/RCDT/DMCT"), "1", false, "<Domn>/PMNT/RCDT/DMCT"),
            (Some("NTRF"), "1", false, "<Prtry>/NTRF"),
            (Some("NTRF+166+00931"), "1", false, "<Prtry>/NTRF+166+00931"),
            (Some("PMNT/RCDT"), "1", false, "<Prtry>/PMNT/RCDT"),
            (
                Some("PMNT/RCDT/TOOLONG"),
                "1",
                false,
                "<Prtry>/PMNT/RCDT/TOOLONG",
            ),
            (Some(" "), "1", false, "<Domn>/PMNT/RCDT/ESCT"),
            (None, "1", false, "<Domn>/PMNT/RCDT/ESCT"),
            (None, "-1", false, "<Domn>/PMNT/ICDT/ESCT"),
            (None, "1", true, "<Domn>/PMNT/ICDT/RRTN"),
            (None, "-1", true, "<Domn>/PMNT/RCDT/RRTN"),
        ];
        // What remains of the element once the closing tags and the inner opening tags are
        // taken out: `<Domn>/PMNT/RCDT/DMCT` or `<Prtry>/NTRF`.
        let tags = regex::Regex::new(r"\s*<(?:/?(?:BkTxCd|Fmly|Cd|SubFmlyCd)|/Domn|/Prtry)>\s*")
            .expect("a pattern");
        for (code, value, reversal, expected) in cases {
            let entry = BankTransaction {
                code: code.map(str::to_owned),
                reversal,
                ..tx(date!(2026 - 11 - 02), value)
            };
            let mut xml = Xml::default();
            bank_transaction_code(&mut xml, &entry);
            let parts: Vec<&str> = tags.split(&xml.out).filter(|p| !p.is_empty()).collect();
            assert_eq!(parts.join("/"), expected, "{code:?}");
        }
    }

    #[test]
    fn a_reversed_credit_keeps_the_payer_as_debtor() {
        let entry = BankTransaction {
            reversal: true,
            counterparty: Some(Counterparty {
                name: "Payer".into(),
                iban: Some("DE02120300000000202051".into()),
                bic: Some("BYLADEM1001".into()),
            }),
            ..tx(date!(2026 - 11 - 02), "-10")
        };
        let (statement, _) = statement(CamtVersion::V08, None);
        let bank = bank();
        let writer = Writer {
            version: CamtVersion::V08,
            statement: &statement,
            bank: &bank,
            created_at: datetime!(2026-11-03 05:55:00 UTC),
            paginated: false,
        };
        let mut xml = Xml::default();
        writer.entry(&mut xml, &entry, "EUR");
        let text = xml.out;
        assert!(text.contains("<CdtDbtInd>DBIT</CdtDbtInd>\n  <RvslInd>true</RvslInd>"));
        assert!(text.contains("<Dbtr>\n          <Pty>\n            <Nm>Payer</Nm>"));
        assert!(text.contains("<DbtrAcct>") && text.contains("<DbtrAgt>"));
        assert!(!text.contains("<Cdtr"));
    }
}
