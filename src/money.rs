//! Money without floats, for the format (tax rates in `with:`) and the providers: amounts,
//! quantities and rates as integers of ten-thousandths ([`ONE`] is 1), and rounding to cents as
//! vendors round (half away from zero).

use serde_json::Value;

/// 1 in ten-thousandths: the scale of every amount here (Xero takes up to 4 decimals with
/// `unitdp=4`).
pub const ONE: i128 = 10_000;

/// A decimal string with at most 4 decimals (`"12.5"`, `"-3"`, `"0.0001"`) in ten-thousandths.
pub fn parse_text(text: &str) -> Option<i128> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || whole.len() > 20 || fraction.len() > 4 || !all_digits(whole) {
        return None;
    }
    if !all_digits(fraction) || (digits.contains('.') && fraction.is_empty()) {
        return None;
    }
    let whole: i128 = whole.parse().ok()?;
    let fraction: i128 = format!("{fraction:0<4}").parse().ok()?;
    let value = whole * ONE + fraction;
    Some(if negative { -value } else { value })
}

/// A JSON number or decimal string in ten-thousandths; numbers are read from their JSON text.
pub fn parse(value: &Value) -> Option<i128> {
    match value {
        Value::Number(number) => parse_text(&number.to_string()),
        Value::String(text) => parse_text(text),
        _ => None,
    }
}

/// `numerator / denominator` rounded to the nearest integer, halves away from zero.
pub fn divide_rounded(numerator: i128, denominator: i128) -> i128 {
    let quotient = numerator / denominator;
    let remainder = numerator % denominator;
    if 2 * remainder.abs() >= denominator.abs() {
        quotient + numerator.signum() * denominator.signum()
    } else {
        quotient
    }
}

/// `numerator / denominator`, a value in ten-thousandths, rounded **once** to cents (still in
/// ten-thousandths). Rounding first to ten-thousandths and then to cents would round some
/// values twice: 0.5 × 0.0099 = 0.00495 would become 0.0050 and then 0.01 instead of 0.00.
pub fn cents(numerator: i128, denominator: i128) -> i128 {
    divide_rounded(numerator, denominator * 100) * 100
}

/// An amount in ten-thousandths as a JSON number with its decimals (`12.3400` → `12.34`).
pub fn to_json(amount: i128) -> Value {
    let sign = if amount < 0 { "-" } else { "" };
    let whole = amount.abs() / ONE;
    let fraction = format!("{:04}", amount.abs() % ONE);
    let fraction = fraction.trim_end_matches('0');
    let text = if fraction.is_empty() {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{fraction}")
    };
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    //! Table tests for parsing and rounding.

    use super::*;

    #[test]
    fn decimals_parse_to_ten_thousandths_and_nothing_else_parses() {
        let cases = [
            ("12.5", Some(125_000)),
            ("-3", Some(-30_000)),
            ("0.0001", Some(1)),
            ("189.10", Some(1_891_000)),
            ("1.23456", None),
            ("1.", None),
            (".5", None),
            ("1e3", None),
            ("", None),
            ("--1", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_text(text), expected, "{text:?}");
        }
        assert_eq!(parse(&serde_json::json!(19.99)), Some(199_900));
        assert_eq!(parse(&serde_json::json!(true)), None);
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        let cases = [
            (5, 10, 1),
            (4, 10, 0),
            (-5, 10, -1),
            (-4, 10, 0),
            (15, 10, 2),
        ];
        for (numerator, denominator, expected) in cases {
            assert_eq!(divide_rounded(numerator, denominator), expected);
        }
        assert_eq!(cents(123_450, 1), 123_500);
        assert_eq!(cents(123_449, 1), 123_400);
        // 0.5 × 0.0099 = 0.00495 (in ten-thousandths squared): rounded once, 0.00.
        assert_eq!(cents(5_000 * 99, ONE), 0);
        assert_eq!(cents(5_000 * 101, ONE), 100);
        assert_eq!(to_json(123_400).to_string(), "12.34");
        assert_eq!(to_json(-50_000).to_string(), "-5");
    }
}
