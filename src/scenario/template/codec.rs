//! The protocol filters of templates: encodings (`base64`, `base64url`, `deflate`, `url_encode`
//! and their inverses) and reading a value as a document (`xpath`, `jsonpath`).
//!
//! Each works on bytes, so a chain can pass binary data along (`deflate | base64`); each is
//! bounded: what it yields is at most [`MAX_RENDERED_BYTES`] (`inflate` stops there instead of
//! allocating), and an XML document is at most [`MAX_XML_BYTES`] and [`MAX_XML_DEPTH`] deep
//! before it is parsed. A failure is a [`CodecError`], which the renderer reports naming the
//! filter.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_PAD_INDIFFERENT, URL_SAFE_NO_PAD};
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use super::MAX_RENDERED_BYTES;
use crate::scenario::expression;

/// Largest XML document the `xpath` filter parses (4 MiB): a pain.001 of 1,500 transactions
/// is under 2 MiB, and the parsed tree takes several times the text.
pub(crate) const MAX_XML_BYTES: usize = 4 * 1024 * 1024;

/// Deepest nesting of elements the `xpath` filter parses: real messages nest a few dozen
/// levels; node string values are computed recursively.
pub(crate) const MAX_XML_DEPTH: usize = 256;

/// Why a protocol filter cannot use its input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum CodecError {
    /// The input is not what the filter decodes, or yields too much.
    #[error("{0}")]
    Invalid(String),
    /// The expression selected nothing (the value is missing: `default` may supply one).
    #[error("{0}")]
    Nothing(String),
}

/// Base64 (RFC 4648 §4) with padding.
pub(crate) fn base64(input: &[u8]) -> Result<Vec<u8>, CodecError> {
    bounded(encoded_len(input.len()))?;
    Ok(base64::engine::general_purpose::STANDARD
        .encode(input)
        .into_bytes())
}

/// Base64url (RFC 4648 §5) without padding, as JWTs write it.
pub(crate) fn base64url(input: &[u8]) -> Result<Vec<u8>, CodecError> {
    bounded(encoded_len(input.len()))?;
    Ok(URL_SAFE_NO_PAD.encode(input).into_bytes())
}

/// Decode base64, with or without padding; ASCII whitespace (line breaks of MIME-style
/// base64, as SAML messages often have) is skipped.
pub(crate) fn base64_decode(input: &[u8]) -> Result<Vec<u8>, CodecError> {
    decode_with(&STANDARD_PAD_INDIFFERENT, input, "base64")
}

/// Decode base64url, with or without padding; ASCII whitespace is skipped.
pub(crate) fn base64url_decode(input: &[u8]) -> Result<Vec<u8>, CodecError> {
    const URL_SAFE_INDIFFERENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    decode_with(&URL_SAFE_INDIFFERENT, input, "base64url")
}

fn decode_with(engine: &GeneralPurpose, input: &[u8], what: &str) -> Result<Vec<u8>, CodecError> {
    let compact: Vec<u8> = input
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    engine
        .decode(&compact)
        .map_err(|e| CodecError::Invalid(format!("not {what}: {e}")))
}

fn encoded_len(len: usize) -> usize {
    len.div_ceil(3).saturating_mul(4)
}

/// Raw DEFLATE (RFC 1951, no zlib or gzip header), as the SAML HTTP-Redirect binding uses.
pub(crate) fn deflate(input: &[u8]) -> Result<Vec<u8>, CodecError> {
    let out = miniz_oxide::deflate::compress_to_vec(input, 6);
    bounded(out.len())?;
    Ok(out)
}

/// Inflate raw DEFLATE, stopping at [`MAX_RENDERED_BYTES`] of output: a small input that
/// inflates to gigabytes is an error, never an allocation.
pub(crate) fn inflate(input: &[u8]) -> Result<Vec<u8>, CodecError> {
    use miniz_oxide::inflate::TINFLStatus;
    miniz_oxide::inflate::decompress_to_vec_with_limit(input, MAX_RENDERED_BYTES).map_err(|e| {
        CodecError::Invalid(match e.status {
            TINFLStatus::HasMoreOutput => {
                format!("it inflates to more than {MAX_RENDERED_BYTES} bytes (16 MiB)")
            }
            _ => "not raw DEFLATE data (RFC 1951)".to_owned(),
        })
    })
}

/// Percent-encode every byte but the unreserved characters of RFC 3986 (`A-Z a-z 0-9 - . _ ~`):
/// safe in a path segment, a query value and a form field.
pub(crate) fn url_encode(input: &[u8]) -> Result<Vec<u8>, CodecError> {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let escaped = input.iter().filter(|b| !is_unreserved(**b)).count();
    bounded(input.len().saturating_add(escaped.saturating_mul(2)))?;
    let mut out = Vec::with_capacity(input.len() + escaped * 2);
    for &byte in input {
        if is_unreserved(byte) {
            out.push(byte);
        } else {
            out.extend_from_slice(&[
                b'%',
                HEX[usize::from(byte >> 4)],
                HEX[usize::from(byte & 15)],
            ]);
        }
    }
    Ok(out)
}

fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

/// Decode `%XX` escapes and, as HTML forms encode spaces, `+` as a space. A `%` not followed
/// by two hex digits is an error.
pub(crate) fn url_decode(input: &[u8]) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::with_capacity(input.len());
    let mut at = 0;
    while at < input.len() {
        match input[at] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = |i: usize| input.get(i).and_then(|b| char::from(*b).to_digit(16));
                let (Some(high), Some(low)) = (hex(at + 1), hex(at + 2)) else {
                    return Err(CodecError::Invalid(format!(
                        "`%` at byte {at} is not followed by two hex digits"
                    )));
                };
                out.push((high * 16 + low) as u8);
                at += 2;
            }
            byte => out.push(byte),
        }
        at += 1;
    }
    Ok(out)
}

/// Why an XPath argument is refused at load time: the message and the byte offset in the
/// expression.
pub(crate) fn check_xpath(source: &str) -> Result<(), (String, usize)> {
    if let Err(error) = expression::check_xpath(source) {
        let mut message = error.to_string();
        if let Some(help) = error.help() {
            message = format!("{message} ({help})");
        }
        return Err((message, error.offset));
    }
    match sxd_xpath::Factory::new().build(source) {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(("the XPath is empty".to_owned(), 0)),
        Err(error) => Err((error.to_string(), 0)),
    }
}

/// A JSONPath argument compiled, or why it is refused (message, byte offset).
pub(crate) fn compile_jsonpath(source: &str) -> Result<serde_json_path::JsonPath, (String, usize)> {
    expression::check_jsonpath(source).map_err(|error| {
        let message = match error.help() {
            Some(help) => format!("{error} ({help})"),
            None => error.to_string(),
        };
        (message, error.offset)
    })?;
    serde_json_path::JsonPath::parse(source).map_err(|error| (error.to_string(), 0))
}

/// The string value of `source` (an XPath checked by [`check_xpath`]) on the XML document
/// `input`: a node-set's first node in document order (XPath 1.0 `string()`), or the text of a
/// string, number or boolean. An empty node-set selects nothing.
pub(crate) fn xpath(source: &str, input: &[u8]) -> Result<Vec<u8>, CodecError> {
    let text =
        std::str::from_utf8(input).map_err(|_| CodecError::Invalid("not UTF-8 text".to_owned()))?;
    within_xml_limits(text).map_err(CodecError::Invalid)?;
    let package = sxd_document::parser::parse(text)
        .map_err(|e| CodecError::Invalid(format!("not an XML document: {e}")))?;
    let document = package.as_document();
    // Checked at load time; built again here because an `XPath` is neither `Send` nor `Sync`.
    let Ok(Some(expression)) = sxd_xpath::Factory::new().build(source) else {
        return Err(CodecError::Invalid(format!("invalid XPath `{source}`")));
    };
    let value = expression
        .evaluate(&sxd_xpath::Context::new(), document.root())
        .map_err(|e| CodecError::Invalid(format!("XPath `{source}`: {e}")))?;
    match value {
        sxd_xpath::Value::Nodeset(nodes) => match nodes.document_order_first() {
            Some(node) => Ok(node.string_value().into_bytes()),
            None => Err(CodecError::Nothing(format!(
                "XPath `{source}` selected nothing"
            ))),
        },
        other => Ok(other.string().into_bytes()),
    }
}

/// The value `path` selects in the JSON document `input`: a string as it is, anything else as
/// JSON; several nodes as a JSON array. Nothing selected is missing.
pub(crate) fn jsonpath(
    path: &serde_json_path::JsonPath,
    source: &str,
    input: &[u8],
) -> Result<Vec<u8>, CodecError> {
    let document: serde_json::Value = serde_json::from_slice(input)
        .map_err(|e| CodecError::Invalid(format!("not a JSON document: {e}")))?;
    let nodes = path.query(&document).all();
    match nodes.as_slice() {
        [] => Err(CodecError::Nothing(format!(
            "JSONPath `{source}` selected nothing"
        ))),
        [serde_json::Value::String(text)] => Ok(text.clone().into_bytes()),
        [one] => Ok(one.to_string().into_bytes()),
        many => Ok(
            serde_json::Value::Array(many.iter().map(|n| (*n).clone()).collect())
                .to_string()
                .into_bytes(),
        ),
    }
}

/// Whether an XML document is small and shallow enough to parse and evaluate XPath on: at most
/// [`MAX_XML_BYTES`] and [`MAX_XML_DEPTH`] levels (the parser slows down and the string value
/// recurses with depth). What the template filter and the request matchers both check.
pub(crate) fn within_xml_limits(text: &str) -> Result<(), String> {
    if text.len() > MAX_XML_BYTES {
        return Err(format!(
            "the XML document is {} bytes, more than the limit of {MAX_XML_BYTES} (4 MiB)",
            text.len()
        ));
    }
    if xml_depth(text) > MAX_XML_DEPTH {
        return Err(format!("elements nest deeper than {MAX_XML_DEPTH} levels"));
    }
    Ok(())
}

/// How deep elements nest in `text`, in one pass that never recurses: `<name` opens (unless
/// its tag ends `/>`), `</` closes; comments, CDATA sections, processing instructions and
/// declarations are skipped, and quoted attribute values are not read as markup.
fn xml_depth(text: &str) -> usize {
    let bytes = text.as_bytes();
    let (mut depth, mut deepest, mut at) = (0usize, 0usize, 0usize);
    let skip_to = |from: usize, end: &str| {
        text[from..]
            .find(end)
            .map_or(bytes.len(), |i| from + i + end.len())
    };
    while let Some(open) = text[at..].find('<').map(|i| at + i) {
        let rest = &text[open..];
        if rest.starts_with("<!--") {
            at = skip_to(open + 4, "-->");
        } else if rest.starts_with("<![CDATA[") {
            at = skip_to(open + 9, "]]>");
        } else if rest.starts_with("<?") {
            at = skip_to(open + 2, "?>");
        } else if rest.starts_with("</") {
            depth = depth.saturating_sub(1);
            at = skip_to(open + 2, ">");
        } else {
            // An element's start tag (or a declaration): find its end outside quotes.
            let mut quote = None;
            let mut end = bytes.len();
            for (i, &byte) in bytes.iter().enumerate().skip(open + 1) {
                match (quote, byte) {
                    (Some(q), _) if byte == q => quote = None,
                    (Some(_), _) => {}
                    (None, b'"' | b'\'') => quote = Some(byte),
                    (None, b'>') => {
                        end = i;
                        break;
                    }
                    _ => {}
                }
            }
            let declaration = rest.starts_with("<!");
            let self_closing = end > open && bytes[end - 1] == b'/';
            if !declaration && !self_closing {
                depth += 1;
                deepest = deepest.max(depth);
            }
            at = (end + 1).min(bytes.len());
        }
    }
    deepest
}

/// An error when `len` bytes would be more than a template may render.
fn bounded(len: usize) -> Result<(), CodecError> {
    if len > MAX_RENDERED_BYTES {
        return Err(CodecError::Invalid(format!(
            "the result would be more than {MAX_RENDERED_BYTES} bytes (16 MiB)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bytes: Vec<u8>) -> String {
        String::from_utf8(bytes).expect("UTF-8")
    }

    #[test]
    fn base64_round_trips_and_refuses_what_is_not_base64() {
        assert_eq!(text(base64(b"hi?>").unwrap()), "aGk/Pg==");
        assert_eq!(text(base64url(b"hi?>").unwrap()), "aGk_Pg");
        assert_eq!(base64_decode(b"aGk/Pg==").unwrap(), b"hi?>");
        // Without padding, and across line breaks.
        assert_eq!(base64_decode(b"aGk/\r\nPg").unwrap(), b"hi?>");
        assert_eq!(base64url_decode(b"aGk_Pg").unwrap(), b"hi?>");
        assert_eq!(base64url_decode(b"aGk_Pg==").unwrap(), b"hi?>");
        let err = base64_decode(b"not base64!").unwrap_err();
        assert!(err.to_string().starts_with("not base64: "), "{err}");
        // The other alphabet is refused.
        assert!(base64_decode(b"aGk_Pg").is_err());
        assert!(base64url_decode(b"aGk/Pg").is_err());
    }

    #[test]
    fn deflate_round_trips_and_inflate_is_bounded() {
        let xml = b"<samlp:AuthnRequest ID=\"_a1\"/>".repeat(20);
        let packed = deflate(&xml).unwrap();
        assert!(packed.len() < xml.len());
        assert_eq!(inflate(&packed).unwrap(), xml);
        let err = inflate(b"\xff\xfe not deflate").unwrap_err();
        assert_eq!(err.to_string(), "not raw DEFLATE data (RFC 1951)");
        // 17 MiB of zeros packs into a few KiB and inflates no further than the budget.
        let bomb = deflate(&vec![0u8; MAX_RENDERED_BYTES + (1 << 20)]);
        assert!(bomb.is_ok());
        let err = inflate(&bomb.unwrap()).unwrap_err();
        assert!(err.to_string().contains("inflates to more than"), "{err}");
        // A zlib stream (with its header) is not raw DEFLATE.
        let zlib = miniz_oxide::deflate::compress_to_vec_zlib(&xml, 6);
        assert!(inflate(&zlib).is_err());
    }

    #[test]
    fn url_encoding_is_rfc_3986_and_decoding_is_form_style() {
        assert_eq!(
            text(url_encode("a b&c=d/é~".as_bytes()).unwrap()),
            "a%20b%26c%3Dd%2F%C3%A9~"
        );
        assert_eq!(text(url_decode(b"a+b%20c%2Fd%C3%A9").unwrap()), "a b c/dé");
        for bad in [&b"50%"[..], b"%2", b"%zz"] {
            let err = url_decode(bad).unwrap_err();
            assert!(err.to_string().contains("two hex digits"), "{err}");
        }
    }

    #[test]
    fn xpath_reads_the_string_value_of_xml() {
        let pain = br#"<?xml version="1.0"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03">
  <CstmrCdtTrfInitn><GrpHdr><MsgId>MSG-2026-001</MsgId><NbOfTxs>2</NbOfTxs></GrpHdr>
  <!-- </GrpHdr></CstmrCdtTrfInitn> -->
  </CstmrCdtTrfInitn>
</Document>"#;
        let read = |source: &str| xpath(source, pain).map(text);
        assert_eq!(read("//*[local-name()='MsgId']").unwrap(), "MSG-2026-001");
        assert_eq!(read("count(//*[local-name()='NbOfTxs'])").unwrap(), "1");
        assert_eq!(
            read("//*[local-name()='Nope']").unwrap_err(),
            CodecError::Nothing("XPath `//*[local-name()='Nope']` selected nothing".to_owned())
        );
        let err = xpath("/a", b"{\"json\": true}").unwrap_err();
        assert!(err.to_string().starts_with("not an XML document"), "{err}");
        let deep = format!("{}{}", "<a>".repeat(300), "</a>".repeat(300));
        let err = xpath("/a", deep.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("deeper than 256"), "{err}");
        let big = format!("<a>{}</a>", "x".repeat(MAX_XML_BYTES));
        let err = xpath("/a", big.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("more than the limit"), "{err}");
    }

    #[test]
    fn xml_depth_counts_elements_only() {
        assert_eq!(xml_depth("<a><b/><c x='/>'><d>t</d></c></a>"), 3);
        assert_eq!(xml_depth("<?xml version='1.0'?><!DOCTYPE a><a/>"), 0);
        assert_eq!(
            xml_depth("<a><![CDATA[</a></a><b><b>]]><!-- <c><c> --><b/></a>"),
            1
        );
        assert_eq!(xml_depth("<a x=\">\"><b>"), 2);
    }

    #[test]
    fn load_time_checks_locate_bad_expressions() {
        assert_eq!(check_xpath("//*[local-name()='MsgId']"), Ok(()));
        let (message, offset) = check_xpath("//a[conatins(., 'x')]").unwrap_err();
        assert!(message.contains("did you mean `contains`?"), "{message}");
        assert_eq!(offset, 4);
        assert!(check_xpath("//a[").is_err());
        assert!(compile_jsonpath("$.a[0].b").is_ok());
        assert!(compile_jsonpath("$.a[").is_err());
    }

    #[test]
    fn jsonpath_reads_strings_plain_and_the_rest_as_json() {
        let body = br#"{"a": [{"b": "x"}, {"b": 2}], "o": {"k": true}}"#;
        let read = |source: &str| {
            let path = compile_jsonpath(source).unwrap();
            jsonpath(&path, source, body).map(text)
        };
        assert_eq!(read("$.a[0].b").unwrap(), "x");
        assert_eq!(read("$.a[1].b").unwrap(), "2");
        assert_eq!(read("$.o").unwrap(), r#"{"k":true}"#);
        assert_eq!(read("$.a[*].b").unwrap(), r#"["x",2]"#);
        assert!(matches!(read("$.none"), Err(CodecError::Nothing(_))));
        let path = compile_jsonpath("$.a").unwrap();
        assert!(jsonpath(&path, "$.a", b"<xml/>").is_err());
    }
}
