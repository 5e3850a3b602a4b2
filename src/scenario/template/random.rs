//! Random values in mock responses: the `random("KIND", LENGTH)` function of a placeholder
//! ([`RandomValue`]), and the seeded generator ([`Seeded`]) that makes it and `uuid`
//! reproducible: the same mock, request number and occurrence give the same text on every run.
//!
//! The kinds are the alphabets of WireMock's `randomValue` helper (`RandomValueHelper`), so
//! that its imports keep their shape: `alphanumeric` (`0-9A-Za-z`), `alphabetic` (`A-Za-z`),
//! `numeric` (`0-9`), `hexadecimal` (`0-9a-f`) and `alphanumeric_and_symbols` (ASCII `!` to `}`,
//! 33 to 125: WireMock's range ends before `~`). A length is at most [`MAX_RANDOM_LENGTH`].

use super::TemplateSyntaxError;

/// Longest random text one placeholder makes.
pub(crate) const MAX_RANDOM_LENGTH: usize = 4096;

/// Names of the kinds, as written in `random("…", N)`.
pub(crate) const RANDOM_KINDS: &[&str] = &[
    "alphanumeric",
    "alphabetic",
    "numeric",
    "hexadecimal",
    "alphanumeric_and_symbols",
];

/// Which characters a random value is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RandomKind {
    /// `0-9A-Za-z`.
    Alphanumeric,
    /// `A-Za-z`.
    Alphabetic,
    /// `0-9`.
    Numeric,
    /// `0-9a-f`.
    Hexadecimal,
    /// ASCII 33 (`!`) to 125 (`}`).
    AlphanumericAndSymbols,
}

impl RandomKind {
    fn from_name(name: &str) -> Option<RandomKind> {
        Some(match name {
            "alphanumeric" => RandomKind::Alphanumeric,
            "alphabetic" => RandomKind::Alphabetic,
            "numeric" => RandomKind::Numeric,
            "hexadecimal" => RandomKind::Hexadecimal,
            "alphanumeric_and_symbols" => RandomKind::AlphanumericAndSymbols,
            _ => return None,
        })
    }

    /// The characters, each equally likely.
    pub(crate) fn alphabet(self) -> Vec<u8> {
        match self {
            RandomKind::Alphanumeric => (b'0'..=b'9')
                .chain(b'A'..=b'Z')
                .chain(b'a'..=b'z')
                .collect(),
            RandomKind::Alphabetic => (b'A'..=b'Z').chain(b'a'..=b'z').collect(),
            RandomKind::Numeric => (b'0'..=b'9').collect(),
            RandomKind::Hexadecimal => (b'0'..=b'9').chain(b'a'..=b'f').collect(),
            RandomKind::AlphanumericAndSymbols => (b'!'..=b'}').collect(),
        }
    }
}

/// `random("alphanumeric", 12)`: a random text of a kind and a length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RandomValue {
    /// Its characters.
    pub kind: RandomKind,
    /// How many.
    pub length: usize,
}

/// Parse the call `random("KIND", LENGTH)`; `offset` is where `text` starts in the template.
pub(crate) fn parse_call(text: &str, offset: usize) -> Result<RandomValue, TemplateSyntaxError> {
    let open = text.find('(').unwrap_or(text.len());
    let name = text[..open].trim_end();
    if name != "random" {
        let mut error = TemplateSyntaxError::new(
            format!("unknown function `{name}`: the only function is `random(\"KIND\", LENGTH)`"),
            offset,
        );
        if crate::scenario::suggest::did_you_mean(name, &["random"]).is_some() {
            error.help = Some("did you mean `random`?".to_owned());
        }
        return Err(error);
    }
    let usage = |message: String, at: usize| {
        let mut error = TemplateSyntaxError::new(message, at);
        error.help = Some(format!(
            "write e.g. `random(\"alphanumeric\", 12)`; the kinds are {}",
            kinds()
        ));
        error
    };
    let Some(inner) = text[open + 1..].strip_suffix(')') else {
        return Err(usage(
            "unclosed `(` in `random(`: expected `)`".to_owned(),
            offset + open,
        ));
    };
    let args_offset = offset + open + 1;
    let Some((kind_arg, length)) = inner.split_once(',') else {
        return Err(usage(
            "`random` needs a kind and a length".to_owned(),
            args_offset,
        ));
    };
    let kind_text = kind_arg.trim();
    let kind_offset = args_offset + (kind_arg.len() - kind_arg.trim_start().len());
    let kind = kind_text
        .strip_prefix('"')
        .and_then(|k| k.strip_suffix('"'))
        .and_then(RandomKind::from_name)
        .ok_or_else(|| {
            let mut error = usage(
                format!(
                    "unknown random kind {kind_text}: expected one of {}",
                    kinds()
                ),
                kind_offset,
            );
            let bare = kind_text.trim_matches('"');
            if let Some(suggestion) = crate::scenario::suggest::did_you_mean(bare, RANDOM_KINDS) {
                error.help = Some(format!("did you mean `\"{suggestion}\"`?"));
            }
            error
        })?;
    let length_text = length.trim();
    let length_offset =
        args_offset + kind_arg.len() + 1 + (length.len() - length.trim_start().len());
    let length = length_text
        .parse::<usize>()
        .ok()
        .filter(|n| *n <= MAX_RANDOM_LENGTH)
        .ok_or_else(|| {
            usage(
                format!(
                    "invalid length `{length_text}`: expected a whole number from 0 to {MAX_RANDOM_LENGTH}"
                ),
                length_offset,
            )
        })?;
    Ok(RandomValue { kind, length })
}

fn kinds() -> String {
    RANDOM_KINDS
        .iter()
        .map(|k| format!("`\"{k}\"`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A stream of pseudo-random numbers seeded by a mock's name, a request number and an
/// occurrence (FNV-1a over the name, then splitmix64 steps): stable across platforms and
/// releases, different for every mock, request and placeholder.
pub(crate) struct Seeded(u64);

impl Seeded {
    /// The stream of `mock`'s request `number`, `occurrence`th value.
    pub(crate) fn new(mock: &str, number: u64, occurrence: u64) -> Seeded {
        let mut seed: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in mock.bytes() {
            seed = (seed ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
        seed ^= number.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        seed ^= occurrence.wrapping_mul(0xbf58_476d_1ce4_e5b9);
        Seeded(seed)
    }

    /// The next number.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A text of `value`'s kind and length.
    pub(crate) fn text(&mut self, value: RandomValue) -> String {
        let alphabet = value.kind.alphabet();
        let n = alphabet.len() as u64;
        // Rejection sampling keeps every character equally likely.
        let zone = u64::MAX - u64::MAX % n;
        let mut out = String::with_capacity(value.length);
        while out.len() < value.length {
            let x = self.next_u64();
            if x < zone {
                out.push(char::from(alphabet[(x % n) as usize]));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_parse_with_a_kind_and_a_bounded_length() {
        assert_eq!(
            parse_call("random(\"hexadecimal\", 8)", 3),
            Ok(RandomValue {
                kind: RandomKind::Hexadecimal,
                length: 8
            })
        );
        assert_eq!(
            parse_call("random( \"numeric\" ,0 )", 0).map(|v| v.length),
            Ok(0)
        );
        let cases = [
            ("rand(\"numeric\", 1)", 3, "unknown function `rand`"),
            ("random(\"numeric\")", 10, "needs a kind and a length"),
            ("random(\"hex\", 1)", 10, "unknown random kind \"hex\""),
            ("random(numeric, 1)", 10, "unknown random kind numeric"),
            ("random(\"numeric\", -1)", 21, "invalid length `-1`"),
            ("random(\"numeric\", 4097)", 21, "invalid length `4097`"),
            ("random(\"numeric\", 1", 9, "unclosed `(`"),
        ];
        for (text, offset, needle) in cases {
            let err = parse_call(text, 3).unwrap_err();
            assert_eq!(err.offset, offset, "{text}: {}", err.message);
            assert!(err.message.contains(needle), "{text}: {}", err.message);
        }
        let err = parse_call("random(\"alphanumerc\", 1)", 0).unwrap_err();
        assert_eq!(
            err.help.as_deref(),
            Some("did you mean `\"alphanumeric\"`?")
        );
        let err = parse_call("randm(\"numeric\", 1)", 0).unwrap_err();
        assert_eq!(err.help.as_deref(), Some("did you mean `random`?"));
    }

    #[test]
    fn texts_are_seeded_and_keep_to_their_alphabet() {
        for kind in [
            RandomKind::Alphanumeric,
            RandomKind::Alphabetic,
            RandomKind::Numeric,
            RandomKind::Hexadecimal,
            RandomKind::AlphanumericAndSymbols,
        ] {
            let value = RandomValue { kind, length: 2000 };
            let text = Seeded::new("erp", 1, 0).text(value);
            assert_eq!(text.len(), 2000);
            let alphabet = kind.alphabet();
            assert!(
                text.bytes().all(|b| alphabet.contains(&b)),
                "{kind:?}: {text}"
            );
            // 2,000 draws reach every character of an alphabet of at most 93.
            assert!(
                alphabet.iter().all(|c| text.as_bytes().contains(c)),
                "{kind:?}"
            );
            assert_eq!(text, Seeded::new("erp", 1, 0).text(value));
            assert_ne!(text, Seeded::new("erp", 1, 1).text(value));
            assert_ne!(text, Seeded::new("erp", 2, 0).text(value));
        }
        let symbols = RandomKind::AlphanumericAndSymbols.alphabet();
        assert_eq!((symbols[0], symbols[symbols.len() - 1]), (b'!', b'}'));
    }
}
