//! SWIFT MT940 (customer statement message) rendered from the ledger: one statement per
//! account, in pages when `page_size` asks for them, each page a block of fields ended by a
//! `-` line, as German banks' FinTS exports are (no SWIFT `{1:}{2:}{4:` envelope).
//!
//! Per page: `:20:` the statement reference (creation date `YYMMDD-` sequence), `:25:` the
//! IBAN or number, `:28C:` sequence`/`page, `:60F:` the opening balance (`:60M:` on a later
//! page), a `:61:` line per transaction with its `:86:`, `:62M:` the intermediate balance on
//! every page but the last, and `:62F:` plus `:64:` (closing available = booked) on the last.
//! Balances are `D` when negative (overdrawn); `:60F:` is dated the day before `from`, `:62F:`
//! `to`, an intermediate balance the booking day of its page's last transaction.
//!
//! `:61:` is `YYMMDD` value date, `MMDD` entry (booking) date, the mark (`C`, `D`, and for a
//! reversal `RD`, a reversed debit, money in, or `RC`, a reversed credit, money out), the
//! amount with a decimal comma and the currency's minor units, the type (`code` when it is a
//! SWIFT type such as `NTRF`, `N` + `code` for three characters, else `NTRF`), the customer
//! reference (16 characters; `NONREF` when there is none) and `//` the bank reference (16).
//! `:86:` is free text (purpose, counterparty name, IBAN, BIC), cut into at most 6 lines of 65
//! characters, or with `details: structured` the German ZKA subfields: `GVC` (166 for money
//! in, 116 for money out), `?00` posting text, `?20`–`?29` remittance of 27 characters each
//! (`EREF+` end-to-end id, `SVWZ+` purpose), `?30` BIC, `?31` IBAN, `?32`/`?33` name.
//! Text is written in the SWIFT X character set ([`super::charset`]); what it lacks is
//! transliterated, and `?` inside a structured subfield becomes `.`.
//! Sources: SWIFT MT942 field 61 and the field formats in the regexes of wolph/mt940
//! (`mt940/tags.py`), its `DETAIL_KEYS`/`GVC_KEYS` (`mt940/processors.py`), domain catalog §6.1.

use std::fmt::Write as _;

use rust_decimal::Decimal;
use time::{Date, OffsetDateTime};

use super::{amounts, charset};
use crate::scenario::model::{
    BankAccount, BankIdentity, BankTransaction, Mt940Options, RenderedStatement,
};

/// Characters per line of a multi-line field (`65x`).
const LINE: usize = 65;
/// Lines of a free-text `:86:` (`6*65x`).
const FREE_LINES: usize = 6;
/// Characters of a reference in `:61:` (`16x`).
const REFERENCE: usize = 16;
/// Characters of a ZKA subfield (`?20`…`?29`, `?32`, `?33`).
const SUBFIELD: usize = 27;
/// Remittance subfields `?20`…`?29`.
const REMITTANCE_FIELDS: usize = 10;

/// The bytes of the file `statement` describes, for `accounts` (in `statement.accounts`
/// order), written at `created_at`. The bank is not named in the file: the FinTS layout has no
/// SWIFT header block to carry its BIC.
pub(crate) fn render(
    statement: &RenderedStatement,
    options: &Mt940Options,
    accounts: &[&BankAccount],
    _bank: &BankIdentity,
    created_at: OffsetDateTime,
) -> Vec<u8> {
    let mut out = Lines {
        text: String::new(),
        eol: if options.crlf { "\r\n" } else { "\n" },
    };
    let reference = format!("{}-{}", yymmdd(created_at.date()), statement.sequence);
    let reference: String = reference.chars().take(REFERENCE).collect();
    for account in accounts {
        write_statement(&mut out, &reference, statement, options, account);
    }
    out.text.into_bytes()
}

/// The file's text and its line ending.
struct Lines {
    text: String,
    eol: &'static str,
}

impl Lines {
    fn line(&mut self, line: &str) {
        self.text.push_str(line);
        self.text.push_str(self.eol);
    }
}

/// One account's statement: its pages, in order.
fn write_statement(
    out: &mut Lines,
    reference: &str,
    statement: &RenderedStatement,
    options: &Mt940Options,
    account: &BankAccount,
) {
    let currency = charset::swift_x(&account.currency);
    let transactions: Vec<&BankTransaction> = account
        .booked_between(statement.from, statement.to)
        .collect();
    let page_size = options.page_size.map_or(usize::MAX, |size| {
        usize::try_from(size.max(1)).unwrap_or(usize::MAX)
    });
    let pages: Vec<&[&BankTransaction]> = if transactions.is_empty() {
        vec![&[]]
    } else {
        transactions.chunks(page_size).collect()
    };
    let mut balance = account.balance_before(statement.from);
    let mut balance_date = statement.from.previous_day().unwrap_or(statement.from);
    let identifier: String = charset::swift_x(account.identifier())
        .chars()
        .take(35)
        .collect();
    for (index, page) in pages.iter().enumerate() {
        let first = index == 0;
        let last = index + 1 == pages.len();
        out.line(&format!(":20:{reference}"));
        out.line(&format!(":25:{identifier}"));
        out.line(&format!(":28C:{}/{}", statement.sequence, index + 1));
        let tag = if first { "60F" } else { "60M" };
        out.line(&balance_field(tag, balance, balance_date, &currency));
        for transaction in page.iter() {
            out.line(&statement_line(transaction, &currency));
            let details = if options.structured_details {
                structured_details(transaction)
            } else {
                free_details(transaction)
            };
            if let Some(details) = details {
                out.line(&details.join(out.eol));
            }
            balance += transaction.amount;
        }
        if last {
            out.line(&balance_field("62F", balance, statement.to, &currency));
            out.line(&balance_field("64", balance, statement.to, &currency));
        } else {
            balance_date = page.last().map_or(balance_date, |last| last.booked);
            out.line(&balance_field("62M", balance, balance_date, &currency));
        }
        out.line("-");
    }
}

/// `:TAG:` mark, `YYMMDD`, currency, amount (`1!a6!n3!a15d`): `D` for a negative balance.
fn balance_field(tag: &str, balance: Decimal, date: Date, currency: &str) -> String {
    let mark = if balance.is_sign_negative() && !balance.is_zero() {
        'D'
    } else {
        'C'
    };
    format!(
        ":{tag}:{mark}{}{currency}{}",
        yymmdd(date),
        amounts::swift(balance, currency)
    )
}

/// The `:61:` line of `transaction`.
fn statement_line(transaction: &BankTransaction, currency: &str) -> String {
    let debit = transaction.amount.is_sign_negative() && !transaction.amount.is_zero();
    let mark = match (transaction.reversal, debit) {
        (true, true) => "RC",
        (true, false) => "RD",
        (false, true) => "D",
        (false, false) => "C",
    };
    let customer = transaction
        .customer_ref
        .as_deref()
        .map(reference)
        .filter(|text| !text.is_empty())
        .unwrap_or_else(|| "NONREF".to_owned());
    let mut line = format!(
        ":61:{}{:02}{:02}{mark}{}{}{customer}",
        yymmdd(transaction.value),
        u8::from(transaction.booked.month()),
        transaction.booked.day(),
        amounts::swift(transaction.amount, currency),
        transaction_type(transaction.code.as_deref()),
    );
    if let Some(bank) = transaction.bank_ref.as_deref().map(reference)
        && !bank.is_empty()
    {
        let _ = write!(line, "//{bank}");
    }
    line
}

/// The `:61:` transaction type: `code` when it is one (`S`, `N` or `F` and three letters or
/// digits), `N` + `code` when `code` is three of them, else `NTRF` (a transfer).
fn transaction_type(code: Option<&str>) -> String {
    let code = code.unwrap_or_default().to_ascii_uppercase();
    let alphanumeric = code.chars().all(|c| c.is_ascii_alphanumeric());
    match code.len() {
        4 if alphanumeric && code.starts_with(['S', 'N', 'F']) => code,
        3 if alphanumeric => format!("N{code}"),
        _ => "NTRF".to_owned(),
    }
}

/// A `:61:` reference: SWIFT X, at most 16 characters, no `//` and no `/` at either end (its
/// slashes become `-` otherwise).
fn reference(text: &str) -> String {
    let text: String = charset::swift_x(text)
        .trim()
        .chars()
        .take(REFERENCE)
        .collect();
    if text.contains("//") || text.starts_with('/') || text.ends_with('/') {
        text.replace('/', "-")
    } else {
        text
    }
}

/// Free-text `:86:`: purpose, counterparty name, IBAN and BIC, at most 6 lines of 65.
fn free_details(transaction: &BankTransaction) -> Option<Vec<String>> {
    let counterparty = transaction.counterparty.as_ref();
    let parts: Vec<&str> = [
        transaction.purpose.as_deref(),
        counterparty.map(|party| party.name.as_str()),
        counterparty.and_then(|party| party.iban.as_deref()),
        counterparty.and_then(|party| party.bic.as_deref()),
    ]
    .into_iter()
    .flatten()
    .map(str::trim)
    .filter(|part| !part.is_empty())
    .collect();
    if parts.is_empty() {
        return None;
    }
    let mut lines = wrap(&format!(":86:{}", charset::swift_x(&parts.join(" "))));
    lines.truncate(FREE_LINES);
    Some(lines)
}

/// Structured `:86:` (German ZKA subfields), wrapped at 65 characters.
fn structured_details(transaction: &BankTransaction) -> Option<Vec<String>> {
    let credit = !transaction.amount.is_sign_negative() || transaction.amount.is_zero();
    let (gvc, posting) = if credit {
        ("166", "SEPA-GUTSCHRIFT")
    } else {
        ("116", "SEPA-UEBERWEISUNG")
    };
    let mut text = format!(":86:{gvc}?00{posting}");
    let mut remittance: Vec<String> = Vec::new();
    for (keyword, value) in [
        ("EREF+", transaction.end_to_end_id.as_deref()),
        ("SVWZ+", transaction.purpose.as_deref()),
    ] {
        if let Some(value) = value.map(subfield_text).filter(|v| !v.is_empty()) {
            remittance.extend(chunks(&format!("{keyword}{value}"), SUBFIELD));
        }
    }
    for (index, field) in remittance.iter().take(REMITTANCE_FIELDS).enumerate() {
        let _ = write!(text, "?2{index}{field}");
    }
    if let Some(party) = &transaction.counterparty {
        if let Some(bic) = party.bic.as_deref().map(subfield_text) {
            let _ = write!(text, "?30{}", take(&bic, 11));
        }
        if let Some(iban) = party.iban.as_deref().map(subfield_text) {
            let _ = write!(text, "?31{}", take(&iban, 34));
        }
        let name = subfield_text(&party.name);
        for (index, part) in chunks(&name, SUBFIELD).iter().take(2).enumerate() {
            let _ = write!(text, "?3{}{part}", index + 2);
        }
    }
    Some(wrap(&text))
}

/// `text` for a ZKA subfield: SWIFT X without `?` (the subfield marker).
fn subfield_text(text: &str) -> String {
    charset::swift_x(text.trim()).replace('?', ".")
}

/// The first `count` characters of `text`.
fn take(text: &str, count: usize) -> String {
    text.chars().take(count).collect()
}

/// `text` cut into pieces of `size` characters.
fn chunks(text: &str, size: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars
        .chunks(size)
        .map(|piece| piece.iter().collect())
        .collect()
}

/// `text` (one field, starting with its tag) cut into lines of at most 65 characters, none of
/// which starts with `:` or `-` (they would read as a new field or the end of the message) or
/// ends with a space (readers strip it, as mt-940 does): such a line ends up to half a line
/// earlier. Joined without separators the lines are `text`, but where no cut in that half serves
/// (a run of such characters): there a line that would start with `:` or `-` starts with a
/// space instead.
fn wrap(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let bad = |end: usize| chars[end - 1] == ' ' || matches!(chars[end], ':' | '-');
    let mut lines = Vec::new();
    let mut start = 0;
    let mut pad = false;
    while start < chars.len() {
        let room = if pad { LINE - 1 } else { LINE };
        let longest = (start + room).min(chars.len());
        let mut end = longest;
        while end < chars.len() && end > start + LINE / 2 && bad(end) {
            end -= 1;
        }
        if end < chars.len() && bad(end) {
            end = longest;
        }
        let mut line = String::with_capacity(LINE);
        if pad {
            line.push(' ');
        }
        line.extend(&chars[start..end]);
        lines.push(line);
        start = end;
        pad = start < chars.len() && matches!(chars[start], ':' | '-');
    }
    lines
}

/// `date` as `YYMMDD`.
pub(super) fn yymmdd(date: Date) -> String {
    format!(
        "{:02}{:02}{:02}",
        date.year().rem_euclid(100),
        u8::from(date.month()),
        date.day()
    )
}

#[cfg(test)]
pub(super) mod tests {
    use rust_decimal::Decimal;
    use time::macros::{date, datetime};

    use super::*;
    use crate::scenario::model::{
        BankIdentity, Counterparty, Mt940Options, RenderedStatement, StatementFormat,
    };

    fn dec(text: &str) -> Decimal {
        text.parse().expect("a decimal")
    }

    pub(in super::super) fn bank() -> BankIdentity {
        BankIdentity {
            bic: "DEUTDEFFXXX".to_owned(),
            name: "Deutsche Bank AG".to_owned(),
            routing: "021000021".to_owned(),
        }
    }

    pub(in super::super) fn transaction(booked: Date, amount: &str) -> BankTransaction {
        BankTransaction {
            booked,
            value: booked,
            amount: dec(amount),
            reversal: false,
            code: None,
            counterparty: None,
            end_to_end_id: None,
            bank_ref: None,
            customer_ref: None,
            purpose: None,
        }
    }

    /// An overdrawn EUR account with a debit, a reversed credit and a credit over two days.
    pub(in super::super) fn operating() -> BankAccount {
        BankAccount {
            id: "operating".to_owned(),
            iban: Some("DE89370400440532013000".to_owned()),
            number: None,
            currency: "EUR".to_owned(),
            owner: Some("Acme Robotics GmbH".to_owned()),
            opening_balance: dec("-1200.50"),
            opening_date: date!(2026 - 11 - 02),
            transactions: vec![
                BankTransaction {
                    value: date!(2026 - 11 - 03),
                    code: Some("NTRF".to_owned()),
                    counterparty: Some(Counterparty {
                        name: "Lumen Läb".to_owned(),
                        iban: Some("DE02120300000000202051".to_owned()),
                        bic: Some("BYLADEM1001".to_owned()),
                    }),
                    end_to_end_id: Some("E2E-4711".to_owned()),
                    bank_ref: Some("B26110200001".to_owned()),
                    customer_ref: Some("INV-42".to_owned()),
                    purpose: Some("Invoice 42".to_owned()),
                    ..transaction(date!(2026 - 11 - 02), "-250.00")
                },
                BankTransaction {
                    reversal: true,
                    purpose: Some("Return of payment 17".to_owned()),
                    ..transaction(date!(2026 - 11 - 02), "-99.9")
                },
                BankTransaction {
                    purpose: Some("Deposit".to_owned()),
                    ..transaction(date!(2026 - 11 - 03), "2000")
                },
            ],
        }
    }

    pub(in super::super) fn statement(format: StatementFormat) -> RenderedStatement {
        RenderedStatement {
            accounts: vec!["operating".to_owned()],
            from: date!(2026 - 11 - 02),
            to: date!(2026 - 11 - 03),
            sequence: 7,
            format,
        }
    }

    fn options(page_size: Option<u32>, crlf: bool, structured_details: bool) -> Mt940Options {
        Mt940Options {
            page_size,
            crlf,
            structured_details,
        }
    }

    fn rendered(options: &Mt940Options) -> String {
        let statement = statement(StatementFormat::Mt940(options.clone()));
        let bytes = render(
            &statement,
            options,
            &[&operating()],
            &bank(),
            datetime!(2026-11-04 06:00 UTC),
        );
        String::from_utf8(bytes).expect("UTF-8")
    }

    #[test]
    fn one_page_with_free_details() {
        assert_eq!(
            rendered(&options(None, false, false)),
            include_str!("testdata/mt940-one-page.sta")
        );
    }

    #[test]
    fn pages_carry_intermediate_balances_and_structured_details_with_crlf() {
        assert_eq!(
            rendered(&options(Some(2), true, true)),
            include_str!("testdata/mt940-pages-structured-crlf.sta")
        );
    }

    #[test]
    fn free_details_stop_at_six_lines_and_no_line_starts_a_field() {
        let long = format!("{}:x{} y", "a".repeat(60), "-b".repeat(300));
        let lines = wrap(&format!(":86:{long}"));
        assert!(lines.len() > FREE_LINES);
        assert!(lines.iter().all(|line| line.chars().count() <= LINE));
        assert!(lines[1..].iter().all(|line| !line.starts_with([':', '-'])));
        assert!(lines.iter().all(|line| !line.ends_with(' ')));
        let colons = wrap(&format!(":86:{}", ":".repeat(100)));
        assert_eq!(colons.len(), 2);
        assert_eq!(colons[1], format!(" {}", ":".repeat(39)));
        let spaced = wrap(&format!(":86:{}", "ab ".repeat(40)));
        assert!(
            spaced[..spaced.len() - 1]
                .iter()
                .all(|line| !line.ends_with(' '))
        );
        assert_eq!(lines.concat(), format!(":86:{long}"));
        let mut tx = transaction(date!(2026 - 11 - 02), "1");
        tx.purpose = Some(long);
        let details = free_details(&tx).expect("details");
        assert_eq!(details.len(), FREE_LINES);
    }

    #[test]
    fn marks_types_and_references_follow_the_field_61_rules() {
        let mut tx = transaction(date!(2026 - 12 - 31), "12");
        tx.value = date!(2027 - 01 - 02);
        tx.reversal = true;
        tx.code = Some("chg".to_owned());
        tx.customer_ref = Some("A//very long customer reference".to_owned());
        tx.bank_ref = Some("/bank/".to_owned());
        assert_eq!(
            statement_line(&tx, "JPY"),
            ":61:2701021231RD12,NCHGA--very long cus//-bank-"
        );
        tx.amount = dec("-0.125");
        tx.code = Some("PMNT/RCDT/ESCT".to_owned());
        assert_eq!(
            statement_line(&tx, "BHD"),
            ":61:2701021231RC0,125NTRFA--very long cus//-bank-"
        );
    }

    #[test]
    fn an_empty_statement_still_has_its_balances() {
        let mut account = operating();
        account.transactions.clear();
        let options = options(Some(1), false, false);
        let bytes = render(
            &statement(StatementFormat::Mt940(options.clone())),
            &options,
            &[&account],
            &bank(),
            datetime!(2026-11-04 06:00 UTC),
        );
        assert_eq!(
            String::from_utf8(bytes).expect("UTF-8"),
            ":20:261104-7\n:25:DE89370400440532013000\n:28C:7/1\n:60F:D261101EUR1200,50\n\
             :62F:D261103EUR1200,50\n:64:D261103EUR1200,50\n-\n"
        );
    }
}
