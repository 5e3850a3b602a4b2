//! Multipart bodies, [`parse`]: the parts of a `multipart/*` request body (RFC 2046 §5.1,
//! `multipart/form-data` of RFC 7578), each with its headers and its body, for the
//! `multipart` request matcher.
//!
//! The boundary comes from the `Content-Type` header; a part's headers end at the first empty
//! line. Budgets keep a request from costing more than its size: [`MAX_BODY_BYTES`],
//! [`MAX_PARTS`], [`MAX_PART_HEADER_BYTES`] and [`MAX_PART_HEADERS`]; over any of them, or
//! malformed, the body is not read as multipart and no multipart condition holds.

use aho_corasick::AhoCorasick;

/// The largest body read as multipart (the mock reads no larger request body).
pub(crate) const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// The most parts read from one body.
pub(crate) const MAX_PARTS: usize = 1_000;

/// The largest header block of one part.
pub(crate) const MAX_PART_HEADER_BYTES: usize = 16 * 1024;

/// The most header lines of one part.
pub(crate) const MAX_PART_HEADERS: usize = 64;

/// The longest boundary RFC 2046 §5.1.1 allows.
const MAX_BOUNDARY_BYTES: usize = 70;

/// One part of a multipart body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Part<'a> {
    /// Headers in order, names as sent.
    pub headers: Vec<(String, String)>,
    /// The part's body, between its headers and the next delimiter.
    pub body: &'a [u8],
}

#[cfg(test)]
impl Part<'_> {
    /// The first value of header `name` (case-insensitive).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// Why a body is not read as multipart, as a miss shows it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum NotMultipart {
    /// No `Content-Type`, or not `multipart/*`.
    #[error("body is not multipart: the content type is {0}")]
    ContentType(String),
    /// The content type names no usable boundary.
    #[error("body is not multipart: the content type has no boundary of 1 to 70 characters")]
    NoBoundary,
    /// Over a budget.
    #[error("body is not read as multipart: {0}")]
    OverLimits(String),
    /// Not the form RFC 2046 gives.
    #[error("body is not multipart: {0}")]
    Malformed(&'static str),
}

/// Whether a `Content-Type` value is `multipart/*`, as WireMock decides it (case-insensitive,
/// leading spaces allowed).
pub(crate) fn is_multipart(content_type: &str) -> bool {
    let value = content_type.trim_start().as_bytes();
    value.len() >= 10 && value[..10].eq_ignore_ascii_case(b"multipart/")
}

/// The `boundary` parameter of a `multipart/*` content type, unquoted.
fn boundary(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|parameter| {
        let (name, value) = parameter.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("boundary") {
            return None;
        }
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        (!value.is_empty() && value.len() <= MAX_BOUNDARY_BYTES).then_some(value)
    })
}

/// The parts of `body`, sent with `content_type` (`None`: no `Content-Type` header).
pub(crate) fn parse<'a>(
    content_type: Option<&str>,
    body: &'a [u8],
) -> Result<Vec<Part<'a>>, NotMultipart> {
    let content_type = match content_type {
        Some(value) if is_multipart(value) => value,
        Some(value) => {
            let shown: String = value.chars().take(100).collect();
            return Err(NotMultipart::ContentType(format!("`{shown}`")));
        }
        None => return Err(NotMultipart::ContentType("missing".into())),
    };
    let boundary = boundary(content_type).ok_or(NotMultipart::NoBoundary)?;
    if body.len() > MAX_BODY_BYTES {
        return Err(NotMultipart::OverLimits(format!(
            "larger than {MAX_BODY_BYTES} bytes"
        )));
    }
    let dash_boundary = format!("--{boundary}");
    let delimiter = format!("\r\n{dash_boundary}");
    let finder = AhoCorasick::new([delimiter.as_bytes()])
        .map_err(|_| NotMultipart::Malformed("the boundary cannot be searched for"))?;
    // The first boundary opens the body, or follows a preamble and its line break.
    let mut at = if body.starts_with(dash_boundary.as_bytes()) {
        dash_boundary.len()
    } else {
        finder
            .find(body)
            .ok_or(NotMultipart::Malformed("no opening boundary"))?
            .end()
    };
    let mut parts = Vec::new();
    loop {
        let rest = &body[at..];
        if rest.starts_with(b"--") {
            return Ok(parts);
        }
        // Transport padding (RFC 2046 §5.1.1), then the line break that ends the boundary.
        let padding = rest
            .iter()
            .take_while(|byte| **byte == b' ' || **byte == b'\t')
            .count();
        if !rest[padding..].starts_with(b"\r\n") {
            return Err(NotMultipart::Malformed(
                "a boundary line does not end with CRLF",
            ));
        }
        let start = at + padding + 2;
        let found = finder
            .find(&body[start..])
            .ok_or(NotMultipart::Malformed("no closing boundary"))?;
        if parts.len() == MAX_PARTS {
            return Err(NotMultipart::OverLimits(format!(
                "more than {MAX_PARTS} parts"
            )));
        }
        parts.push(part(&body[start..start + found.start()])?);
        at = start + found.end();
    }
}

/// One part: its header lines up to the first empty line, then its body.
fn part(raw: &[u8]) -> Result<Part<'_>, NotMultipart> {
    let (head, body) = if let Some(body) = raw.strip_prefix(b"\r\n") {
        (&raw[..0], body)
    } else {
        let end = raw
            .windows(4)
            .take(MAX_PART_HEADER_BYTES + 1)
            .position(|window| window == b"\r\n\r\n")
            .ok_or_else(|| {
                if raw.len() > MAX_PART_HEADER_BYTES {
                    NotMultipart::OverLimits(format!(
                        "a part's headers pass {MAX_PART_HEADER_BYTES} bytes"
                    ))
                } else {
                    NotMultipart::Malformed("a part's headers do not end with an empty line")
                }
            })?;
        (&raw[..end], &raw[end + 4..])
    };
    let head = String::from_utf8_lossy(head);
    let mut headers = Vec::new();
    for line in head.split("\r\n").filter(|line| !line.is_empty()) {
        if headers.len() == MAX_PART_HEADERS {
            return Err(NotMultipart::OverLimits(format!(
                "a part has more than {MAX_PART_HEADERS} headers"
            )));
        }
        let (name, value) = line
            .split_once(':')
            .ok_or(NotMultipart::Malformed("a part's header line has no `:`"))?;
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    Ok(Part { headers, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORM: &str = "multipart/form-data; boundary=XyZ";

    fn body(text: &str) -> Vec<u8> {
        text.replace('\n', "\r\n").into_bytes()
    }

    #[test]
    fn parts_have_their_headers_and_bodies() {
        let raw = body(
            "preamble\n--XyZ\nContent-Disposition: form-data; name=\"a\"\n\nalpha\n--XyZ  \n\
             Content-Disposition: form-data; name=\"f\"; filename=\"x.json\"\nContent-Type: \
             application/json\n\n{\"k\": 1}\n\n--XyZ--\nepilogue",
        );
        let parts = parse(Some(FORM), &raw).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(
            parts[0].header("content-disposition"),
            Some("form-data; name=\"a\"")
        );
        assert_eq!(parts[0].body, b"alpha");
        assert_eq!(parts[1].header("Content-Type"), Some("application/json"));
        assert_eq!(parts[1].body, b"{\"k\": 1}\r\n");
        let bare = body("--a b\n\nbare\n--a b--");
        let no_headers = parse(Some("Multipart/Mixed; boundary=\"a b\""), &bare).unwrap();
        assert_eq!(no_headers[0].headers, []);
        assert_eq!(no_headers[0].body, b"bare");
        assert_eq!(parse(Some(FORM), b"--XyZ--").unwrap(), []);
    }

    #[test]
    fn what_is_not_multipart_says_why() {
        let cases: Vec<(Option<&str>, &[u8], NotMultipart)> = vec![
            (
                None,
                b"--XyZ--",
                NotMultipart::ContentType("missing".into()),
            ),
            (
                Some("application/json"),
                b"{}",
                NotMultipart::ContentType("`application/json`".into()),
            ),
            (
                Some("multipart/form-data"),
                b"--XyZ--",
                NotMultipart::NoBoundary,
            ),
            (
                Some("multipart/form-data; boundary=\"\""),
                b"--XyZ--",
                NotMultipart::NoBoundary,
            ),
            (
                Some(FORM),
                b"no boundary here",
                NotMultipart::Malformed("no opening boundary"),
            ),
            (
                Some(FORM),
                b"--XyZ\r\nA: b\r\n\r\nnever closed",
                NotMultipart::Malformed("no closing boundary"),
            ),
            (
                Some(FORM),
                b"--XyZ junk\r\n\r\nx\r\n--XyZ--",
                NotMultipart::Malformed("a boundary line does not end with CRLF"),
            ),
            (
                Some(FORM),
                b"--XyZ\r\nno colon\r\n\r\nx\r\n--XyZ--",
                NotMultipart::Malformed("a part's header line has no `:`"),
            ),
        ];
        for (content_type, raw, why) in cases {
            assert_eq!(parse(content_type, raw), Err(why), "{content_type:?}");
        }
        let long = format!("multipart/form-data; boundary={}", "b".repeat(71));
        assert_eq!(parse(Some(&long), b""), Err(NotMultipart::NoBoundary));
    }

    #[test]
    fn budgets_bound_parts_headers_and_size() {
        let many = format!("{}--XyZ--", "--XyZ\r\n\r\nx\r\n".repeat(MAX_PARTS + 1));
        assert_eq!(
            parse(Some(FORM), many.as_bytes()),
            Err(NotMultipart::OverLimits(format!(
                "more than {MAX_PARTS} parts"
            )))
        );
        let enough = format!("{}--XyZ--", "--XyZ\r\n\r\nx\r\n".repeat(MAX_PARTS));
        assert_eq!(
            parse(Some(FORM), enough.as_bytes()).unwrap().len(),
            MAX_PARTS
        );
        let lines = format!(
            "--XyZ\r\n{}\r\nx\r\n--XyZ--",
            "A: b\r\n".repeat(MAX_PART_HEADERS + 1)
        );
        assert!(matches!(
            parse(Some(FORM), lines.as_bytes()),
            Err(NotMultipart::OverLimits(_))
        ));
        let wide = format!(
            "--XyZ\r\nA: {}\r\n\r\nx\r\n--XyZ--",
            "b".repeat(MAX_PART_HEADER_BYTES)
        );
        assert!(matches!(
            parse(Some(FORM), wide.as_bytes()),
            Err(NotMultipart::OverLimits(_))
        ));
        let large = vec![b'x'; MAX_BODY_BYTES + 1];
        assert!(matches!(
            parse(Some(FORM), &large),
            Err(NotMultipart::OverLimits(_))
        ));
    }

    proptest::proptest! {
        /// Any body, made of the pieces a multipart body has, parses or says why, without a
        /// panic; every part it reads lies inside the body.
        #[test]
        fn any_body_parses_or_says_why(
            pieces in proptest::collection::vec(
                "(--XyZ|--XyZ--|\r\n|\r|\n|A: b|Content-Type: x|: |[a-z ]{0,6}|\t|é)",
                0..60,
            ),
        ) {
            let raw = pieces.concat();
            if let Ok(parts) = parse(Some(FORM), raw.as_bytes()) {
                let range = raw.as_bytes().as_ptr_range();
                for part in &parts {
                    let inner = part.body.as_ptr_range();
                    proptest::prop_assert!(range.start <= inner.start && inner.end <= range.end);
                }
            }
        }
    }
}
