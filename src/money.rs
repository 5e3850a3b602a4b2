//! Money without floats, for the format (tax rates in `with:`) and the providers: amounts,
//! quantities and rates as exact decimals ([`Decimal`], from `rust_decimal`), read from texts
//! with at most 4 decimals, and rounded to cents as vendors round (half away from zero).
//!
//! A sum of parsed amounts always fits a [`Decimal`] (20 digits before the point, 28 held); a
//! product of two need not (20 + 20 digits), so callers multiply with `checked_mul` and refuse
//! what overflows (the Xero fake's `totals`) instead of letting `*` panic.

use std::ops::RangeInclusive;

use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::Value;

/// The most decimals an amount may have (Xero takes up to 4 with `unitdp=4`).
const MAX_DECIMALS: usize = 4;

/// The most digits before the decimal point: with 4 decimals, 24 digits, within the 28 that a
/// [`Decimal`] holds exactly.
const MAX_WHOLE_DIGITS: usize = 20;

/// The tax rates a percentage may be: 0 to 100, bounds included.
pub(crate) const PERCENTAGES: RangeInclusive<Decimal> = Decimal::ZERO..=Decimal::ONE_HUNDRED;

/// The currencies of ISO 4217 (List One, as published by SIX, the maintenance agency) whose minor
/// unit is not 2, with theirs. Every other code has 2.
const MINOR_UNITS: &[(&str, u32)] = &[
    ("BHD", 3),
    ("BIF", 0),
    ("CLF", 4),
    ("CLP", 0),
    ("DJF", 0),
    ("GNF", 0),
    ("IQD", 3),
    ("ISK", 0),
    ("JOD", 3),
    ("JPY", 0),
    ("KMF", 0),
    ("KRW", 0),
    ("KWD", 3),
    ("LYD", 3),
    ("OMR", 3),
    ("PYG", 0),
    ("RWF", 0),
    ("TND", 3),
    ("UGX", 0),
    ("UYI", 0),
    ("UYW", 4),
    ("VND", 0),
    ("VUV", 0),
    ("XAF", 0),
    ("XOF", 0),
    ("XPF", 0),
];

/// The decimals `currency` (an ISO 4217 code) is written with: its minor unit, 2 unless
/// [`MINOR_UNITS`] says other (the bank fake's loader and its statement formats both ask).
pub(crate) fn minor_units(currency: &str) -> u32 {
    MINOR_UNITS
        .iter()
        .find(|(code, _)| *code == currency)
        .map_or(2, |(_, units)| *units)
}

/// A decimal string with at most 4 decimals (`"12.5"`, `"-3"`, `"0.0001"`), exactly.
///
/// Only an optional `-`, 1 to 20 digits and optionally a `.` with 1 to 4 digits: no `+`, `_`,
/// spaces, exponent, `.5` or `1.` (rust_decimal's own parser would take some of those).
pub(crate) fn parse_text(text: &str) -> Option<Decimal> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || whole.len() > MAX_WHOLE_DIGITS || !all_digits(whole) {
        return None;
    }
    if fraction.len() > MAX_DECIMALS || !all_digits(fraction) {
        return None;
    }
    if digits.contains('.') && fraction.is_empty() {
        return None;
    }
    Decimal::from_str_exact(text).ok()
}

/// A JSON number or decimal string as a [`Decimal`]; numbers are read from their JSON text.
pub(crate) fn parse(value: &Value) -> Option<Decimal> {
    match value {
        Value::Number(number) => parse_text(&number.to_string()),
        Value::String(text) => parse_text(text),
        _ => None,
    }
}

/// `value` rounded to cents, halves away from zero (`0.005` → `0.01`, `-0.005` → `-0.01`).
///
/// Round an exact value only, and only once: rounding 0.5 × 0.0099 = 0.00495 first to 4
/// decimals and then to cents would give 0.01 instead of 0.00.
pub(crate) fn cents(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// `numerator / denominator` rounded **once** to cents, halves away from zero.
///
/// A quotient such as 100 × 20 / 120 has no exact decimal, and `/` rounds it to 28 significant
/// digits, which leave few decimals when the whole part is large: rounding that to cents would
/// round twice. So the whole part is divided exactly, and only the remainder's share (less than
/// 1, so good to 28 decimals) is rounded to cents.
pub(crate) fn cents_of_quotient(numerator: Decimal, denominator: Decimal) -> Decimal {
    let remainder = numerator % denominator;
    let whole = (numerator - remainder) / denominator;
    whole + cents(remainder / denominator)
}

/// An amount (at most 4 decimals) as the JSON number its shortest text reads as (`12.3400` →
/// `12.34`, `-0` → `0`), read by serde_json like any number of a body.
pub(crate) fn to_json(amount: Decimal) -> Value {
    serde_json::from_str(&amount.normalize().to_string()).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    //! Table tests pinning what the fixed-point implementation this module replaced answered
    //! (commit 26333c4 and before): which texts parse, the JSON of each amount, and every
    //! rounding, including the double rounding 26333c4 fixed.

    use super::*;

    /// ISO 4217 List One: JPY 0, BHD 3, EUR (and anything unlisted) 2.
    #[test]
    fn minor_units_follow_iso_4217() {
        assert_eq!(minor_units("JPY"), 0);
        assert_eq!(minor_units("KRW"), 0);
        assert_eq!(minor_units("BHD"), 3);
        assert_eq!(minor_units("TND"), 3);
        assert_eq!(minor_units("EUR"), 2);
        assert_eq!(minor_units("USD"), 2);
    }
    use serde_json::json;

    /// The JSON text of the amount `text` parses to, or `None`.
    fn shown(text: &str) -> Option<String> {
        parse_text(text).map(|amount| to_json(amount).to_string())
    }

    #[test]
    fn decimals_with_at_most_4_places_parse_and_nothing_else_does() {
        let cases = [
            ("12.5", Some("12.5")),
            ("12.50", Some("12.5")),
            ("-3", Some("-3")),
            ("0.0001", Some("0.0001")),
            ("189.10", Some("189.1")),
            ("-12.3400", Some("-12.34")),
            ("00012.5000", Some("12.5")),
            ("0", Some("0")),
            ("-0", Some("0")),
            ("-0.0000", Some("0")),
            // The largest accepted; JSON has no exact number this large, as before.
            ("99999999999999999999.9999", Some("1e+20")),
            ("-99999999999999999999.9999", Some("-1e+20")),
            ("18446744073709551615", Some("18446744073709551615")),
            ("18446744073709551616", Some("1.8446744073709552e+19")),
            ("-9223372036854775808", Some("-9223372036854775808")),
            ("-9223372036854775809", Some("-9.223372036854776e+18")),
            ("12345678901234567.89", Some("1.2345678901234568e+16")),
            ("123456789012345678901", None),
            ("1.23456", None),
            ("1.", None),
            (".5", None),
            ("-.5", None),
            ("1e3", None),
            ("", None),
            ("-", None),
            ("--1", None),
            ("+1", None),
            ("1_000", None),
            (" 1", None),
            ("1 ", None),
            ("1,5", None),
            ("0x10", None),
        ];
        for (text, expected) in cases {
            assert_eq!(shown(text).as_deref(), expected, "{text:?}");
        }
    }

    #[test]
    fn json_numbers_parse_from_their_text() {
        let cases = [
            (json!(19.99), Some("19.99")),
            (json!(100), Some("100")),
            (json!(-0.5), Some("-0.5")),
            (json!(12.0), Some("12")),
            (json!(-0.0), Some("0")),
            (json!(0.0015), Some("0.0015")),
            (json!(0.00001), None),
            (json!(1e21), None),
            (
                json!(18446744073709551615_u64),
                Some("18446744073709551615"),
            ),
            (
                json!(-9223372036854775808_i64),
                Some("-9223372036854775808"),
            ),
            (json!("12.5"), Some("12.5")),
            (json!(true), None),
            (json!(null), None),
            (json!(["1"]), None),
        ];
        for (value, expected) in cases {
            let shown = parse(&value).map(|amount| to_json(amount).to_string());
            assert_eq!(shown.as_deref(), expected, "{value}");
        }
    }

    #[test]
    fn quantity_times_unit_amount_rounds_once_to_cents_halves_away_from_zero() {
        let cases = [
            // 26333c4: 0.00495 is 0.00, not 0.0050 and then 0.01.
            ("0.5", "0.0099", "0"),
            ("0.5", "0.0101", "0.01"),
            ("1", "0.005", "0.01"),
            ("-1", "0.005", "-0.01"),
            ("1", "0.0050", "0.01"),
            ("1", "-0.0049", "0"),
            ("3", "0.335", "1.01"),
            ("3", "0.35", "1.05"),
            ("2.5", "1.23", "3.08"),
            ("-2.5", "1.23", "-3.08"),
            ("-2.5", "-1.23", "3.08"),
            ("0.3333", "0.015", "0"),
            ("1.0001", "9999.9999", "10001"),
            ("0.0001", "0.0001", "0"),
            ("0", "12.34", "0"),
            ("-0", "12.34", "0"),
            // Near the largest product that is exact (see `docs/decisions.md`, "Money").
            ("9999999999.9999", "9999999999.9999", "9.9999999999998e+19"),
            (
                "-9999999999.9999",
                "9999999999.9999",
                "-9.9999999999998e+19",
            ),
            ("79228162514", "1000000000", "7.922816251399999e+19"),
            ("1", "99999999999999999999.9999", "1e+20"),
        ];
        for (quantity, unit, expected) in cases {
            let quantity = parse_text(quantity).unwrap();
            let unit = parse_text(unit).unwrap();
            let amount = cents(quantity * unit);
            assert_eq!(to_json(amount).to_string(), expected, "{quantity} × {unit}");
        }
    }

    #[test]
    fn tax_rounds_once_to_cents_inclusive_and_exclusive() {
        let hundred = Decimal::ONE_HUNDRED;
        // (line amount, rate in percent, inclusive, tax)
        let cases = [
            ("0.35", "15", false, "0.05"),
            ("10.05", "10", false, "1.01"),
            ("-10.05", "10", false, "-1.01"),
            // The 26333c4 case as tax: 0.00495 is 0.00.
            ("0.0099", "50", false, "0"),
            ("0.01", "100", false, "0.01"),
            ("0.005", "100", false, "0.01"),
            ("12.345", "12.3456", false, "1.52"),
            ("7.95", "0", false, "0"),
            ("100", "20", true, "16.67"),
            ("115", "15", true, "15"),
            ("1.1", "100", true, "0.55"),
            ("0.01", "100", true, "0.01"),
            ("-0.01", "100", true, "-0.01"),
            ("12.345", "12.3456", true, "1.36"),
            ("7.95", "0", true, "0"),
            ("0.0001", "0.0001", true, "0"),
            ("20.1", "0.5", true, "0.1"),
            ("100.1", "0.1", true, "0.1"),
            ("1000000.01", "17.5", true, "148936.17"),
            ("1234.5678", "99.9999", true, "617.28"),
            ("-1234.5678", "99.9999", true, "-617.28"),
            // Near the largest amount × rate that is exact.
            (
                "7000000000000000000",
                "99.9999",
                true,
                "3.499998249999125e+18",
            ),
            (
                "-7000000000000000000",
                "99.9999",
                false,
                "-6999993000000000000",
            ),
        ];
        for (amount, rate, inclusive, expected) in cases {
            let amount = parse_text(amount).unwrap();
            let rate = parse_text(rate).unwrap();
            let base = if inclusive { hundred + rate } else { hundred };
            let tax = cents_of_quotient(amount * rate, base);
            assert_eq!(to_json(tax).to_string(), expected, "{amount} at {rate}%");
        }
        // Three lines of 0.35 at 15% carry 0.15 of tax, not 0.16 (docs/providers/xero.md).
        let line = cents_of_quotient(parse_text("0.35").unwrap() * Decimal::from(15), hundred);
        assert_eq!(to_json(line + line + line).to_string(), "0.15");
    }

    #[test]
    fn sums_are_exact_and_zero_has_no_sign() {
        let cases: [(&[&str], &str); 5] = [
            (&["1250.10", "-1250.10"], "0"),
            (&["0.1", "0.2", "-0.3"], "0"),
            (&["100", "-0.01"], "99.99"),
            (&["-0.0001"], "-0.0001"),
            (
                &["99999999999999999999.9999", "-99999999999999999999.9998"],
                "0.0001",
            ),
        ];
        for (amounts, expected) in cases {
            let sum: Decimal = amounts.iter().map(|text| parse_text(text).unwrap()).sum();
            assert_eq!(to_json(sum).to_string(), expected, "{amounts:?}");
        }
    }

    #[test]
    fn percentages_run_from_0_to_100() {
        for (rate, expected) in [
            ("0", true),
            ("-0", true),
            ("100.0000", true),
            ("12.5", true),
        ] {
            assert_eq!(
                PERCENTAGES.contains(&parse_text(rate).unwrap()),
                expected,
                "{rate}"
            );
        }
        for rate in ["-0.0001", "100.0001"] {
            assert!(!PERCENTAGES.contains(&parse_text(rate).unwrap()), "{rate}");
        }
    }
}
