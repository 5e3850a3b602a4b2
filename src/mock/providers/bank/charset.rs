//! Text as the statement formats may carry it: the SWIFT X character set of MT940
//! (`a-z A-Z 0-9 / - ? : ( ) . , ' +` and space) and the ASCII of BAI2. A letter with a
//! diacritic loses it (`ä` → `a`, `é` → `e`), `ß` becomes `ss`, ligatures spell out (`Æ` →
//! `AE`); any other character becomes `.`, as the `to_swift_charset` sanitizer of
//! svenstaro/mt940-rs (`src/sanitizers.rs`) does.

/// The ASCII a Latin letter with a diacritic (Latin-1 Supplement, Latin Extended-A) is
/// written as; `None` for anything else.
fn latin_letter(c: char) -> Option<&'static str> {
    Some(match c {
        'À'..='Å' | 'Ā' | 'Ă' | 'Ą' => "A",
        'à'..='å' | 'ā' | 'ă' | 'ą' | 'ª' => "a",
        'Æ' => "AE",
        'æ' => "ae",
        'Ç' | 'Ć' | 'Ĉ' | 'Ċ' | 'Č' => "C",
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => "c",
        'Ð' | 'Ď' | 'Đ' => "D",
        'ð' | 'ď' | 'đ' => "d",
        'È'..='Ë' | 'Ē' | 'Ĕ' | 'Ė' | 'Ę' | 'Ě' => "E",
        'è'..='ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => "e",
        'Ĝ' | 'Ğ' | 'Ġ' | 'Ģ' => "G",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => "g",
        'Ĥ' | 'Ħ' => "H",
        'ĥ' | 'ħ' => "h",
        'Ì'..='Ï' | 'Ĩ' | 'Ī' | 'Ĭ' | 'Į' | 'İ' => "I",
        'ì'..='ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => "i",
        'Ĳ' => "IJ",
        'ĳ' => "ij",
        'Ĵ' => "J",
        'ĵ' => "j",
        'Ķ' => "K",
        'ķ' | 'ĸ' => "k",
        'Ĺ' | 'Ļ' | 'Ľ' | 'Ŀ' | 'Ł' => "L",
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => "l",
        'Ñ' | 'Ń' | 'Ņ' | 'Ň' | 'Ŋ' => "N",
        'ñ' | 'ń' | 'ņ' | 'ň' | 'ŉ' | 'ŋ' => "n",
        'Ò'..='Ö' | 'Ø' | 'Ō' | 'Ŏ' | 'Ő' => "O",
        'ò'..='ö' | 'ø' | 'ō' | 'ŏ' | 'ő' | 'º' => "o",
        'Œ' => "OE",
        'œ' => "oe",
        'Ŕ' | 'Ŗ' | 'Ř' => "R",
        'ŕ' | 'ŗ' | 'ř' => "r",
        'Ś' | 'Ŝ' | 'Ş' | 'Š' => "S",
        'ś' | 'ŝ' | 'ş' | 'š' | 'ſ' => "s",
        'ß' => "ss",
        'Ţ' | 'Ť' | 'Ŧ' => "T",
        'ţ' | 'ť' | 'ŧ' => "t",
        'Þ' => "TH",
        'þ' => "th",
        'Ù'..='Ü' | 'Ũ' | 'Ū' | 'Ŭ' | 'Ů' | 'Ű' | 'Ų' => "U",
        'ù'..='ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => "u",
        'Ŵ' => "W",
        'ŵ' => "w",
        'Ý' | 'Ŷ' | 'Ÿ' => "Y",
        'ý' | 'ÿ' | 'ŷ' => "y",
        'Ź' | 'Ż' | 'Ž' => "Z",
        'ź' | 'ż' | 'ž' => "z",
        _ => return None,
    })
}

/// Whether SWIFT's X character set holds `c`.
fn is_swift_x(c: char) -> bool {
    c.is_ascii_alphanumeric() || "/-?:().,'+ ".contains(c)
}

/// `text` in the SWIFT X character set, on one line (line breaks and tabs become spaces).
pub(crate) fn swift_x(text: &str) -> String {
    transliterate(text, is_swift_x)
}

/// `text` in printable ASCII, on one line (line breaks and tabs become spaces).
pub(crate) fn ascii(text: &str) -> String {
    transliterate(text, |c| c.is_ascii_graphic() || c == ' ')
}

fn transliterate(text: &str, allowed: impl Fn(char) -> bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if allowed(c) {
            out.push(c);
        } else if c.is_whitespace() {
            out.push(' ');
        } else if let Some(letters) = latin_letter(c) {
            out.push_str(letters);
        } else {
            out.push('.');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_lose_their_diacritics_and_the_rest_becomes_a_dot() {
        assert_eq!(swift_x("Müller & Söhne GmbH"), "Muller . Sohne GmbH");
        assert_eq!(swift_x("Straße 1\r\nÆrø"), "Strasse 1  AEro");
        assert_eq!(swift_x("a=b!_€"), "a.b...");
        assert_eq!(swift_x("INV-42/2026 (x) 'y'+z?"), "INV-42/2026 (x) 'y'+z?");
    }

    #[test]
    fn ascii_keeps_every_printable_ascii_character() {
        assert_eq!(ascii("a=b!_&#\tç€"), "a=b!_&# c.");
    }
}
