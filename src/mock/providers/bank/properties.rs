//! Property tests of the MT940 and BAI2 renderers: any ledger (any text, any amount the
//! currency's minor units allow, any switches) renders without a panic into a file that keeps
//! its format's rules: SWIFT X text, 65-character `:86:` lines, one `:61:` per transaction;
//! ASCII BAI2 whose trailers count every record and total every amount, within the record length.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use rust_decimal::Decimal;
use time::macros::{date, datetime};

use super::mt940::tests::bank;
use super::{bai2, mt940};
use crate::scenario::model::{
    Bai2Options, BankAccount, BankTransaction, Counterparty, Mt940Options, RenderedStatement,
    StatementFormat,
};

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(64);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

/// Text of any characters, with the delimiters of both formats and line breaks overrepresented.
fn text(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            any::<char>().prop_map(String::from),
            proptest::sample::select(
                &[":", "-", "/", "//", ",", "?", " ", "  ", "\r\n", "ü", "ß"][..]
            )
            .prop_map(str::to_owned),
            "[a-zA-Z0-9]{1,12}",
        ],
        0..max,
    )
    .prop_map(|parts| parts.concat())
}

fn transaction(currency_units: u32) -> impl Strategy<Value = BankTransaction> {
    (
        (0_i64..3, -10_i64.pow(15)..10_i64.pow(15), any::<bool>()),
        proptest::option::of(proptest::sample::select(
            &["NTRF", "475", "chg", "PMNT/RCDT/ESCT", "", "x"][..],
        )),
        (
            proptest::option::of(text(8)),
            proptest::option::of(text(8)),
            proptest::option::of(text(8)),
        ),
        proptest::option::of(text(40)),
        proptest::option::of((text(10), proptest::option::of(text(6)))),
    )
        .prop_map(
            move |(
                (day, minor, reversal),
                code,
                (end_to_end, bank_ref, customer_ref),
                purpose,
                party,
            )| {
                let booked = date!(2026 - 11 - 02) + time::Duration::days(day);
                BankTransaction {
                    booked,
                    value: booked,
                    amount: Decimal::new(minor, currency_units),
                    reversal,
                    code: code.map(str::to_owned),
                    counterparty: party.map(|(name, iban)| Counterparty {
                        name,
                        iban,
                        bic: None,
                    }),
                    end_to_end_id: end_to_end,
                    bank_ref,
                    customer_ref,
                    purpose,
                }
            },
        )
}

fn account() -> impl Strategy<Value = BankAccount> {
    proptest::sample::select(&[("EUR", 2_u32), ("JPY", 0), ("BHD", 3)][..]).prop_flat_map(
        |(currency, units)| {
            (
                -10_i64.pow(15)..10_i64.pow(15),
                proptest::collection::vec(transaction(units), 0..12),
                proptest::option::of(text(6)),
            )
                .prop_map(move |(opening, mut transactions, owner)| {
                    transactions.sort_by_key(|tx| tx.booked);
                    BankAccount {
                        id: "a".to_owned(),
                        iban: Some("DE89370400440532013000".to_owned()),
                        number: None,
                        currency: currency.to_owned(),
                        owner,
                        opening_balance: Decimal::new(opening, units),
                        opening_date: date!(2026 - 11 - 01),
                        transactions,
                    }
                })
        },
    )
}

fn statement(format: StatementFormat) -> RenderedStatement {
    RenderedStatement {
        accounts: vec!["a".to_owned()],
        from: date!(2026 - 11 - 02),
        to: date!(2026 - 11 - 04),
        sequence: 3,
        format,
    }
}

#[test]
fn any_ledger_renders_as_mt940_within_the_swift_rules() {
    let strategy = (
        proptest::collection::vec(account(), 1..3),
        proptest::option::of(0_u32..4),
        any::<bool>(),
        any::<bool>(),
    );
    TestRunner::new(config())
        .run(
            &strategy,
            |(accounts, page_size, crlf, structured_details)| {
                let options = Mt940Options {
                    page_size,
                    crlf,
                    structured_details,
                };
                let refs: Vec<&BankAccount> = accounts.iter().collect();
                let bytes = mt940::render(
                    &statement(StatementFormat::Mt940(options.clone())),
                    &options,
                    &refs,
                    &bank(),
                    datetime!(2026-11-05 06:00 UTC),
                );
                let text = String::from_utf8(bytes).expect("UTF-8");
                let eol = if crlf { "\r\n" } else { "\n" };
                prop_assert!(text.ends_with(eol));
                let lines: Vec<&str> = text[..text.len() - eol.len()].split(eol).collect();
                for line in &lines {
                    prop_assert!(
                        line.chars()
                            .all(|c| c.is_ascii_alphanumeric() || "/-?:().,'+ ".contains(c)),
                        "{line:?}"
                    );
                    if !line.starts_with(':') || line.starts_with(":86:") {
                        prop_assert!(line.chars().count() <= 65, "{line:?}");
                    }
                    if !line.starts_with(':') && *line != "-" {
                        prop_assert!(!line.starts_with('-'), "{line:?}");
                    }
                }
                let booked: usize = accounts
                    .iter()
                    .map(|account| {
                        account
                            .booked_between(date!(2026 - 11 - 02), date!(2026 - 11 - 04))
                            .count()
                    })
                    .sum();
                let statement_lines = lines.iter().filter(|line| line.starts_with(":61:")).count();
                prop_assert_eq!(statement_lines, booked);
                Ok(())
            },
        )
        .expect("the MT940 property holds");
}

#[test]
fn any_ledger_renders_as_bai2_whose_trailers_add_up() {
    let strategy = (
        proptest::collection::vec(account(), 1..3),
        proptest::option::of(100_u32..140),
        any::<bool>(),
    );
    TestRunner::new(config())
        .run(&strategy, |(accounts, record_length, end_of_day_time)| {
            let options = Bai2Options {
                record_length,
                end_of_day_time,
            };
            let refs: Vec<&BankAccount> = accounts.iter().collect();
            let bytes = bai2::render(
                &statement(StatementFormat::Bai2(options.clone())),
                &options,
                &refs,
                &bank(),
                datetime!(2026-11-05 06:00 UTC),
            );
            prop_assert!(
                bytes
                    .iter()
                    .all(|b| b.is_ascii() && (*b == b'\n' || !b.is_ascii_control()))
            );
            let text = String::from_utf8(bytes).expect("ASCII");
            let lines: Vec<&str> = text.lines().collect();
            if let Some(length) = record_length {
                let length = usize::try_from(length).expect("small");
                prop_assert!(lines.iter().all(|line| line.len() <= length));
            }
            // Every section's trailer counts its records; 49s total their 03 and 16 amounts
            // (the amounts read back only where no 88 splits a record: without a length).
            let mut account_start = 0;
            let mut group_start = 0;
            for (index, line) in lines.iter().enumerate() {
                let fields: Vec<&str> = line.trim_end_matches('/').split(',').collect();
                match fields[0] {
                    "02" => group_start = index,
                    "03" => account_start = index,
                    "49" => prop_assert_eq!(fields[2], (index - account_start + 1).to_string()),
                    "98" => prop_assert_eq!(fields[3], (index - group_start + 1).to_string()),
                    "99" => prop_assert_eq!(fields[3], lines.len().to_string()),
                    _ => {}
                }
                if record_length.is_none() && fields[0] == "49" {
                    let mut total: i128 = 0;
                    for record in &lines[account_start..index] {
                        let fields: Vec<&str> = record.trim_end_matches('/').split(',').collect();
                        if fields[0] == "03" {
                            for group in fields[3..].chunks(4) {
                                total += group[1].parse::<i128>().expect("an amount");
                            }
                        } else {
                            total += fields[2].parse::<i128>().expect("an amount");
                        }
                    }
                    prop_assert_eq!(fields[1], total.to_string());
                }
            }
            Ok(())
        })
        .expect("the BAI2 property holds");
}
