//! Matching: the meaning of a scenario's request matchers ([`evaluate`], [`CompiledMatcher`]) and
//! response checks ([`check_response`]), as pure functions of the scenario's model and what was
//! sent or received.
//!
//! The engine routes requests to stubs with it, the runner checks each step's answer with it,
//! and the verdict counts journal entries and judges step expectations with it: one rule for all
//! three, below each of them.

mod multipart;
mod request;
mod response;

pub(crate) use request::{CompiledMatcher, MatchResult, ParsedBody, RequestView, evaluate};
pub(crate) use response::check_response;
