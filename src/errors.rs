//! Errors as text: an error and its causes on one line, for the places where an error becomes
//! data (a step's failure in the observation, a webhook delivery's error, a report row).
//!
//! A neutral helper: the engine, the runner and the reports all record errors the same way. The
//! terminal renders errors itself, one `caused by:` line per cause (`cli`).

/// An error with its sources on one line, `a: b: c`; a source whose text the line already holds
/// is left out.
pub(crate) fn one_line(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
