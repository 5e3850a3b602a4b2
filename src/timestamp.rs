//! Timestamps as reenact writes them: RFC 3339, for journals, provider records and templates.
//!
//! A neutral helper: the format (`scenario::template`'s `now` with an offset), the engine (the
//! virtual clock, provider records) and the runner all write instants the same way.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Format an instant as RFC 3339; instants outside the representable years fall back to the
/// `Display` form rather than failing a request.
pub(crate) fn format_rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
}

/// An instant in UTC to the whole second, `YYYY-MM-DDTHH:MM:SS`, for the formats that add their
/// own zone designator (`Z` in SAML, `+00:00` in Intacct's authentication block).
pub(crate) fn format_utc_seconds(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}
