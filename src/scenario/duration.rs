//! Durations as scenario files write them: a number and a unit, possibly several (`200ms`, `3s`,
//! `30m`, `1h30m`, `2d`).

use std::time::Duration;

/// Why a duration string does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum DurationError {
    /// Nothing given.
    #[error("empty duration")]
    Empty,
    /// A number without a unit.
    #[error("`{0}` has no unit: write e.g. `{0}ms` or `{0}s`")]
    MissingUnit(String),
    /// An unknown unit.
    #[error("unknown unit `{unit}` in `{text}`: expected one of `ms`, `s`, `m`, `h`, `d`")]
    UnknownUnit {
        /// The unit found.
        unit: String,
        /// The whole text.
        text: String,
    },
    /// Not of the form number-unit.
    #[error("`{0}` is not a duration: write a number and a unit, e.g. `200ms`, `3s`, `30m`")]
    Malformed(String),
    /// Too large.
    #[error("`{0}` is too long")]
    Overflow(String),
}

/// Parse a duration such as `200ms`, `3s`, `1h30m`.
pub(crate) fn parse(text: &str) -> Result<Duration, DurationError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(DurationError::Empty);
    }
    let mut total: u128 = 0;
    let mut rest = trimmed;
    while !rest.is_empty() {
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        if digits == 0 {
            return Err(DurationError::Malformed(trimmed.to_string()));
        }
        let number: u128 = rest[..digits]
            .parse()
            .map_err(|_| DurationError::Overflow(trimmed.to_string()))?;
        rest = &rest[digits..];
        let unit_len = rest.chars().take_while(|c| c.is_ascii_alphabetic()).count();
        if unit_len == 0 {
            return Err(if rest.is_empty() {
                DurationError::MissingUnit(trimmed.to_string())
            } else {
                DurationError::Malformed(trimmed.to_string())
            });
        }
        let unit = &rest[..unit_len];
        let millis_per_unit: u128 = match unit {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => {
                return Err(DurationError::UnknownUnit {
                    unit: unit.to_string(),
                    text: trimmed.to_string(),
                });
            }
        };
        total = number
            .checked_mul(millis_per_unit)
            .and_then(|ms| total.checked_add(ms))
            .filter(|ms| *ms <= u128::from(u64::MAX))
            .ok_or_else(|| DurationError::Overflow(trimmed.to_string()))?;
        rest = &rest[unit_len..];
    }
    Ok(Duration::from_millis(total as u64))
}

/// Format a duration in the largest unit that represents it exactly (`1500ms`, `3s`, `30m`).
pub(crate) fn format(duration: Duration) -> String {
    let ms = duration.as_millis();
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
    ] {
        if ms >= size && ms.is_multiple_of(size) {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_compounds() {
        let cases = [
            ("200ms", 200),
            ("3s", 3_000),
            ("30m", 1_800_000),
            ("1h30m", 5_400_000),
            ("2d", 172_800_000),
            ("0s", 0),
        ];
        for (text, ms) in cases {
            assert_eq!(parse(text), Ok(Duration::from_millis(ms)), "{text}");
        }
    }

    #[test]
    fn rejects_bad_durations() {
        assert_eq!(parse(""), Err(DurationError::Empty));
        assert_eq!(parse("30"), Err(DurationError::MissingUnit("30".into())));
        assert!(matches!(parse("3 weeks"), Err(DurationError::Malformed(_))));
        assert!(matches!(
            parse("3w"),
            Err(DurationError::UnknownUnit { .. })
        ));
        assert!(matches!(parse("s"), Err(DurationError::Malformed(_))));
        assert!(matches!(
            parse("99999999999999999999999d"),
            Err(DurationError::Overflow(_))
        ));
    }

    #[test]
    fn formats_in_the_largest_exact_unit() {
        assert_eq!(format(Duration::from_millis(1500)), "1500ms");
        assert_eq!(format(Duration::from_secs(3)), "3s");
        assert_eq!(format(Duration::from_secs(1800)), "30m");
        assert_eq!(format(Duration::ZERO), "0ms");
    }
}
