//! The validated scenario: what a scenario file means once loading has checked it.
//!
//! Everything here is built once by [`crate::scenario::load`] from the spanned YAML tree and is
//! then trusted by the runner, the mock engine and the verdict logic: names are unique, references
//! resolve, durations are durations, regexes compile, templates parse and name known variables,
//! and files a scenario names are read and known to stay inside the scenario root.
//!
//! The mock configuration types ([`MockSpec`] and what it holds) also travel as JSON to a mock
//! engine through its control API, so they derive `Serialize` and `Deserialize`; that JSON is an
//! internal wire format, never user input.
//!
//! One module per area of the format, as in the conversion; every type is re-exported here, so
//! its path is `crate::scenario::model::Type` (and `crate::scenario::Type`).

mod bank;
pub mod duration_text;
mod expectations;
mod faults;
mod flow;
mod intacct;
mod matchers;
mod mocks;
mod oidc;
mod quickbooks;
mod rate_limits;
mod sage;
mod saml;
mod scenario;
mod stubs;
mod target;
mod webhooks;
mod xero;

pub use bank::*;
pub use expectations::*;
pub use faults::*;
pub use flow::*;
pub use intacct::*;
pub use matchers::*;
pub use mocks::*;
pub use oidc::*;
pub use quickbooks::*;
pub use rate_limits::*;
pub use sage::*;
pub use saml::*;
pub use scenario::*;
pub use stubs::*;
pub use target::*;
pub use webhooks::*;
pub use xero::*;
