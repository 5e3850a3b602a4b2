//! Amounts as the statement formats write them: a [`Decimal`] scaled to its currency's ISO 4217
//! minor units (JPY 0, BHD 3, most others 2), with MT940's decimal comma or as BAI2's whole
//! count of minor units. Pure functions; never floats.

use rust_decimal::Decimal;

use crate::money::minor_units;

/// `amount`'s magnitude with exactly `currency`'s minor units (rounded half away from zero if
/// it had more, which the loader refuses).
fn scaled(amount: Decimal, currency: &str) -> Decimal {
    let mut magnitude = amount.abs();
    magnitude.rescale(minor_units(currency));
    magnitude
}

/// `amount`'s magnitude as SWIFT writes it (MT940 `15d`): a decimal comma always, no
/// thousands separator, the currency's minor units: `1200,50`, JPY `2700,`, BHD `12,345`.
pub(crate) fn swift(amount: Decimal, currency: &str) -> String {
    let text = scaled(amount, currency).to_string();
    if text.contains('.') {
        text.replace('.', ",")
    } else {
        text + ","
    }
}

/// `amount` (signed) as a whole number of the currency's minor units, as BAI2 writes it
/// (no decimal point; the currency implies the decimals): `-1200.50` EUR is `-120050`.
pub(crate) fn minor(amount: Decimal, currency: &str) -> i128 {
    let magnitude = scaled(amount, currency).mantissa();
    if amount.is_sign_negative() {
        -magnitude
    } else {
        magnitude
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(text: &str) -> Decimal {
        text.parse().expect("a decimal")
    }

    #[test]
    fn swift_amounts_carry_the_currencys_minor_units_after_a_comma() {
        assert_eq!(swift(dec("-1200.5"), "EUR"), "1200,50");
        assert_eq!(swift(dec("0"), "EUR"), "0,00");
        assert_eq!(swift(dec("2700"), "JPY"), "2700,");
        assert_eq!(swift(dec("12.345"), "BHD"), "12,345");
        assert_eq!(swift(dec("-7"), "KWD"), "7,000");
    }

    #[test]
    fn minor_units_are_whole_and_keep_the_sign() {
        assert_eq!(minor(dec("-1200.50"), "EUR"), -120_050);
        assert_eq!(minor(dec("2700"), "JPY"), 2700);
        assert_eq!(minor(dec("12.345"), "BHD"), 12_345);
        assert_eq!(minor(dec("0.1"), "USD"), 10);
        assert_eq!(minor(dec("-0"), "USD"), 0);
    }

    #[test]
    fn unknown_and_common_codes_have_two_decimals() {
        assert_eq!(minor_units("EUR"), 2);
        assert_eq!(minor_units("XYZ"), 2);
        assert_eq!(minor_units("JPY"), 0);
        assert_eq!(minor_units("OMR"), 3);
    }
}
