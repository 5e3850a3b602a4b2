//! PEM text (RFC 7468): the DER of a labelled block, for the keys and certificates a scenario
//! names or the built-in providers carry.
//!
//! A neutral helper: the loader checks key files with it and the providers load keys with it, so
//! that what `reenact check` accepts is exactly what a provider can sign with.

use base64::Engine as _;

/// The DER bytes of the first `-----BEGIN {label}-----` block of `pem` (`PRIVATE KEY`,
/// `CERTIFICATE`); text around the block, such as comments, is ignored.
pub(crate) fn block(pem: &str, label: &str) -> Option<Vec<u8>> {
    let body = block_base64(pem, label)?;
    base64::engine::general_purpose::STANDARD.decode(body).ok()
}

/// The base64 body of the first `label` block of `pem`, on one line.
pub(crate) fn block_base64(pem: &str, label: &str) -> Option<String> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin)? + begin.len();
    let stop = start + pem[start..].find(&end)?;
    Some(pem[start..stop].split_whitespace().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_labelled_block_is_read_whatever_surrounds_it() {
        let pem =
            "# a comment\n-----BEGIN CERTIFICATE-----\nAQID\nBA==\n-----END CERTIFICATE-----\n";
        assert_eq!(block(pem, "CERTIFICATE"), Some(vec![1, 2, 3, 4]));
        assert_eq!(
            block_base64(pem, "CERTIFICATE").as_deref(),
            Some("AQIDBA==")
        );
        assert_eq!(block(pem, "PRIVATE KEY"), None);
        assert_eq!(
            block("-----BEGIN CERTIFICATE-----\nAQID", "CERTIFICATE"),
            None
        );
        assert_eq!(
            block(
                "-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----",
                "CERTIFICATE"
            ),
            None
        );
    }
}
