//! BAI2 (BTRS, the Bank Administration Institute's Cash Management Balance Reporting
//! Specifications, version 2) rendered from the ledger: a file (`01` … `99`) with one group
//! (`02` … `98`) per as-of date from `from` to `to`, and in each group one account (`03` …
//! `49`) per account of the statement, in order.
//!
//! - `01`: sender (the bank's `routing`), receiver (the first account's owner, else its
//!   identifier), creation date `YYMMDD` and time `HHMM` of `created_at`, file id (the
//!   statement's `sequence`), `record_length` (empty: variable), block size (empty), version `2`.
//! - `02`: ultimate receiver (as `01`), originator (`routing`), status `1` (update), as-of date,
//!   as-of time (`created_at`'s `HHMM`, or `9999`, end of day, with `as_of_time: end_of_day`),
//!   the first account's currency, no as-of-date modifier.
//! - `03`: the IBAN or number, its currency, then the summary groups `010` opening ledger and
//!   `015` closing ledger (signed: `-` when overdrawn; item count and funds type empty), `100`
//!   total credits and `400` total debits with their item counts and funds type `Z`.
//! - `16`: type code (`code` when it is three digits, else `195` incoming money transfer or
//!   `495` outgoing money transfer by the amount's sign; a reversal is booked in its own
//!   direction), the amount's magnitude, funds type `Z`, bank reference, customer reference,
//!   and the text last (purpose and counterparty name) without a closing `/` (a `16` without
//!   text ends `,/`).
//! - `49`/`98`/`99`: the control total (the algebraic sum of every amount of the account's
//!   `03` and `16` records; of the group's `49` totals; of the file's `98` totals) and the
//!   number of records including the `88` continuations and the section's own header and
//!   trailer; `98` also counts the accounts, `99` the groups.
//!
//! Amounts are whole minor units of the currency (ISO 4217: JPY 0, BHD 3, else mostly 2), no
//! decimal point. Fields are ASCII; `,` and `/` (delimiters) become `.` outside the text, a
//! text does not start with either and its runs of white space become one space. With
//! `record_length`, a longer logical record continues in `88` records, cut between fields (an
//! `03` between summary groups), each ended by `/`, or inside the text at a space, which the
//! cut replaces, without `/`; records are not padded to the length.
//!
//! Sources: Oracle JD Edwards "Mapping BAI2 Fields" (delimiters, implied decimals, `16`
//! continuation) and "Record 49"; JD Edwards BAI2 type codes; the BAI2 format summary on
//! Scribd (`9999`); the Informatica BAI library sample (`88` continuations); the checks of
//! ministryofjustice/bai2 (`bai2/parsers.py`); domain catalog §6.2.

use rust_decimal::Decimal;
use time::{Date, OffsetDateTime};

use super::mt940::yymmdd;
use super::{amounts, charset};
use crate::scenario::model::{
    Bai2Options, BankAccount, BankIdentity, BankTransaction, RenderedStatement,
};

/// Groups at most in a file: one per as-of date, so a year and a day (the loader keeps
/// statements shorter).
const MAX_GROUPS: usize = 367;

/// The bytes of the file `statement` describes, for `accounts` (in `statement.accounts`
/// order), written by `bank` at `created_at`.
pub(crate) fn render(
    statement: &RenderedStatement,
    options: &Bai2Options,
    accounts: &[&BankAccount],
    bank: &BankIdentity,
    created_at: OffsetDateTime,
) -> Vec<u8> {
    let mut file = Records {
        lines: Vec::new(),
        record_length: options
            .record_length
            .and_then(|length| usize::try_from(length).ok()),
    };
    let sender = field(&bank.routing);
    let receiver = accounts
        .first()
        .map(|account| field(account.owner.as_deref().unwrap_or(account.identifier())))
        .unwrap_or_default();
    let created = hhmm(created_at);
    let as_of_time = if options.end_of_day_time {
        "9999".to_owned()
    } else {
        created.clone()
    };
    let currency = accounts
        .first()
        .map(|account| field(&account.currency))
        .unwrap_or_default();
    let mut file_records = file.record(
        "01",
        &[
            sender.clone(),
            receiver.clone(),
            yymmdd(created_at.date()),
            created,
            statement.sequence.to_string(),
            options
                .record_length
                .map(|length| length.to_string())
                .unwrap_or_default(),
            String::new(),
            "2".to_owned(),
        ],
    );
    let mut file_total: i128 = 0;
    let mut groups = 0_usize;
    let mut day = Some(statement.from);
    while let Some(as_of) = day.filter(|day| *day <= statement.to && groups < MAX_GROUPS) {
        let mut group_records = file.record(
            "02",
            &[
                receiver.clone(),
                sender.clone(),
                "1".to_owned(),
                yymmdd(as_of),
                as_of_time.clone(),
                currency.clone(),
                String::new(),
            ],
        );
        let mut group_total: i128 = 0;
        for account in accounts {
            let (records, total) = write_account(&mut file, account, as_of);
            group_records += records;
            group_total += total;
        }
        group_records += 1;
        file.record(
            "98",
            &[
                group_total.to_string(),
                accounts.len().to_string(),
                group_records.to_string(),
            ],
        );
        file_records += group_records;
        file_total += group_total;
        groups += 1;
        day = as_of.next_day();
    }
    file_records += 1;
    file.record(
        "99",
        &[
            file_total.to_string(),
            groups.to_string(),
            file_records.to_string(),
        ],
    );
    let mut bytes = file.lines.join("\n").into_bytes();
    bytes.push(b'\n');
    bytes
}

/// One account's `03`, `16`s and `49` for `day`: the records written and the control total.
fn write_account(file: &mut Records, account: &BankAccount, day: Date) -> (usize, i128) {
    let currency = &account.currency;
    let opening = account.balance_before(day);
    let transactions: Vec<&BankTransaction> = account.booked_between(day, day).collect();
    let closing = opening + transactions.iter().map(|tx| tx.amount).sum::<Decimal>();
    let (credits, debits): (Vec<&BankTransaction>, Vec<&BankTransaction>) =
        transactions.iter().partition(|tx| !is_debit(tx.amount));
    let credit_total: i128 = credits
        .iter()
        .map(|tx| amounts::minor(tx.amount, currency).abs())
        .sum();
    let debit_total: i128 = debits
        .iter()
        .map(|tx| amounts::minor(tx.amount, currency).abs())
        .sum();
    let opening_minor = amounts::minor(opening, currency);
    let closing_minor = amounts::minor(closing, currency);
    let mut total = opening_minor + closing_minor + credit_total + debit_total;
    let mut records = file.record(
        "03",
        &[
            format!("{},{}", field(account.identifier()), field(currency)),
            format!("010,{opening_minor},,"),
            format!("015,{closing_minor},,"),
            format!("100,{credit_total},{},Z", credits.len()),
            format!("400,{debit_total},{},Z", debits.len()),
        ],
    );
    for transaction in transactions {
        let amount = amounts::minor(transaction.amount, currency).abs();
        total += amount;
        let units = [
            type_code(transaction),
            amount.to_string(),
            "Z".to_owned(),
            transaction
                .bank_ref
                .as_deref()
                .map(field)
                .unwrap_or_default(),
            transaction
                .customer_ref
                .as_deref()
                .map(field)
                .unwrap_or_default(),
        ];
        records += file.detail(&units, &text(transaction));
    }
    records += 1;
    file.record("49", &[total.to_string(), records.to_string()]);
    (records, total)
}

/// Whether `amount` debits the account.
fn is_debit(amount: Decimal) -> bool {
    amount.is_sign_negative() && !amount.is_zero()
}

/// The `16` type code: `code` when it is three digits, else 195 (incoming money transfer) or
/// 495 (outgoing money transfer).
fn type_code(transaction: &BankTransaction) -> String {
    match transaction.code.as_deref() {
        Some(code) if code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit()) => {
            code.to_owned()
        }
        _ if is_debit(transaction.amount) => "495".to_owned(),
        _ => "195".to_owned(),
    }
}

/// The `16` text: purpose and counterparty name, ASCII, single spaces, not starting with a
/// delimiter.
fn text(transaction: &BankTransaction) -> String {
    let parts = [
        transaction.purpose.as_deref(),
        transaction
            .counterparty
            .as_ref()
            .map(|party| party.name.as_str()),
    ];
    let joined = parts.into_iter().flatten().collect::<Vec<_>>().join(" ");
    let words: Vec<String> = charset::ascii(&joined)
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    words
        .join(" ")
        .trim_start_matches([',', '/', ' '])
        .to_owned()
}

/// A field other than the text: ASCII without the delimiters `,` and `/`.
fn field(text: &str) -> String {
    charset::ascii(text.trim()).replace([',', '/'], ".")
}

/// The physical records of a file, and the length they keep to.
struct Records {
    lines: Vec<String>,
    record_length: Option<usize>,
}

impl Records {
    /// A record ended by `/`, of `units` (one or more fields each, never cut) after `code`:
    /// the number of physical records written.
    fn record(&mut self, code: &str, units: &[String]) -> usize {
        let mut line = format!("{code},");
        let written = self.fields(&mut line, units);
        line.push('/');
        self.lines.push(line);
        written + 1
    }

    /// `units` appended to `line`, comma-separated; a unit that does not fit (with the `,` or
    /// `/` after it) ends the physical record with `/` and starts an `88`: the number of
    /// physical records finished.
    fn fields(&mut self, line: &mut String, units: &[String]) -> usize {
        let mut written = 0;
        for (index, unit) in units.iter().enumerate() {
            if index > 0 {
                if self.fits(line, unit.len() + 2) {
                    line.push(',');
                } else {
                    written += self.continue_record(line, "/");
                }
            }
            line.push_str(unit);
        }
        written
    }

    /// `line` ended by `end` and written; `line` becomes a new `88`: one record written.
    fn continue_record(&mut self, line: &mut String, end: &str) -> usize {
        line.push_str(end);
        self.lines.push(std::mem::replace(line, "88,".to_owned()));
        1
    }

    /// A `16` record of `units` and `text` (last, not ended by `/`; `,/` when empty): the number
    /// of physical records written.
    fn detail(&mut self, units: &[String], text: &str) -> usize {
        let mut line = "16,".to_owned();
        let mut written = self.fields(&mut line, units);
        if text.is_empty() {
            line.push_str(",/");
            self.lines.push(line);
            return written + 1;
        }
        let mut rest = text;
        let first_word = rest.split(' ').next().map_or(0, str::len);
        if self.fits(&line, 1 + first_word) {
            line.push(',');
        } else {
            written += self.continue_record(&mut line, "/");
        }
        loop {
            let room = self
                .record_length
                .map_or(usize::MAX, |length| length.saturating_sub(line.len()));
            if rest.len() <= room {
                line.push_str(rest);
                self.lines.push(line);
                return written + 1;
            }
            // Cut at the last space that fits (dropping it), else after `room` characters
            // (the text is ASCII), and at least one character so that the text shrinks.
            let cut = rest[..=room.min(rest.len() - 1)]
                .rfind(' ')
                .filter(|at| *at > 0)
                .map_or((room.max(1), room.max(1)), |at| (at, at + 1));
            line.push_str(&rest[..cut.0]);
            rest = &rest[cut.1..];
            written += self.continue_record(&mut line, "");
        }
    }

    /// Whether `extra` more characters fit on `line`.
    fn fits(&self, line: &str, extra: usize) -> bool {
        self.record_length
            .is_none_or(|length| line.len() + extra <= length)
    }
}

/// `at`'s time as `HHMM`.
fn hhmm(at: OffsetDateTime) -> String {
    format!("{:02}{:02}", at.hour(), at.minute())
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::mock::providers::bank::mt940::tests::{bank, operating, statement};
    use crate::scenario::model::StatementFormat;

    fn rendered(options: &Bai2Options, accounts: &[&BankAccount]) -> String {
        let bytes = render(
            &statement(StatementFormat::Bai2(options.clone())),
            options,
            accounts,
            &bank(),
            datetime!(2026-11-04 05:55 UTC),
        );
        String::from_utf8(bytes).expect("UTF-8")
    }

    #[test]
    fn a_group_per_day_with_control_totals_and_counts() {
        let options = Bai2Options {
            record_length: None,
            end_of_day_time: false,
        };
        assert_eq!(
            rendered(&options, &[&operating()]),
            include_str!("testdata/bai2-variable.bai")
        );
    }

    #[test]
    fn long_records_continue_in_88_and_end_of_day_is_9999() {
        let options = Bai2Options {
            record_length: Some(30),
            end_of_day_time: true,
        };
        let file = rendered(&options, &[&operating()]);
        assert!(file.lines().all(|line| line.len() <= 30), "{file}");
        assert_eq!(file, include_str!("testdata/bai2-record-length-30.bai"));
    }

    #[test]
    fn amounts_take_each_currencys_minor_units_and_codes_are_kept() {
        let tokyo = BankAccount {
            id: "tokyo".to_owned(),
            iban: None,
            number: Some("1234567".to_owned()),
            currency: "JPY".to_owned(),
            owner: None,
            opening_balance: "5000".parse().expect("decimal"),
            opening_date: time::macros::date!(2026 - 11 - 01),
            transactions: vec![BankTransaction {
                code: Some("142".to_owned()),
                customer_ref: Some("a,b/c".to_owned()),
                purpose: Some("/lead  slash, and\ttabs".to_owned()),
                ..crate::mock::providers::bank::mt940::tests::transaction(
                    time::macros::date!(2026 - 11 - 03),
                    "2700",
                )
            }],
        };
        let manama = BankAccount {
            id: "manama".to_owned(),
            number: Some("BH-9".to_owned()),
            currency: "BHD".to_owned(),
            opening_balance: "-0.5".parse().expect("decimal"),
            transactions: Vec::new(),
            ..tokyo.clone()
        };
        let options = Bai2Options {
            record_length: None,
            end_of_day_time: false,
        };
        let file = rendered(&options, &[&tokyo, &manama]);
        let day2: Vec<&str> = file.lines().skip(7).take(7).collect();
        assert_eq!(
            day2,
            [
                "02,1234567,021000021,1,261103,0555,JPY,/",
                "03,1234567,JPY,010,5000,,,015,7700,,,100,2700,1,Z,400,0,0,Z/",
                "16,142,2700,Z,,a.b.c,lead slash, and tabs",
                "49,18100,3/",
                "03,BH-9,BHD,010,-500,,,015,-500,,,100,0,0,Z,400,0,0,Z/",
                "49,-1000,2/",
                "98,17100,2,7/",
            ]
        );
        assert_eq!(file.lines().last(), Some("99,26100,2,15/"));
    }

    #[test]
    fn a_text_whose_first_word_does_not_fit_starts_in_the_88() {
        let mut file = Records {
            lines: Vec::new(),
            record_length: Some(30),
        };
        let units = [
            "195".to_owned(),
            "100".to_owned(),
            "Z".to_owned(),
            String::new(),
            String::new(),
        ];
        assert_eq!(
            file.detail(&units, "Supercalifragilistic word and more words"),
            3
        );
        assert_eq!(
            file.lines,
            [
                "16,195,100,Z,,/",
                "88,Supercalifragilistic word",
                "88,and more words"
            ]
        );
        assert_eq!(file.detail(&units, ""), 1);
        assert_eq!(
            file.lines.last().map(String::as_str),
            Some("16,195,100,Z,,,/")
        );
    }
}
