//! Conversion of the spanned YAML tree into the validated [`Scenario`], collecting every error.
//!
//! The conversion is hand-written over [`Node`]s (no serde on user input) so that every problem
//! gets a precise location and wording, and so that it can keep going: a bad part is skipped and
//! reported, the rest is still validated. The main type is the private [`Cx`], which holds the
//! file being converted and the [`Diagnostic`]s found so far; the scenario is only built when
//! there are none.
//!
//! [`scenario`] holds the entry point and the top level; [`cx`] the context and its error helpers,
//! [`read`], [`files`] and [`templates`] the typed readers every part shares; each other module is
//! one area of the grammar, with the key tables it accepts, and each built-in provider's `with:`
//! settings have a module of their own.
//!
//! [`Scenario`]: crate::scenario::Scenario
//! [`Node`]: crate::scenario::yaml::Node
//! [`Diagnostic`]: crate::scenario::Diagnostic

mod bank;
mod bank_payments;
mod cx;
mod expectations;
mod faults;
mod files;
mod flow;
mod include;
mod intacct;
#[cfg(test)]
mod key_tables;
mod matchers;
mod mocks;
/// Providers `provider:` accepts (what `--provider` and `provider(..)` of a selection know).
pub(crate) use mocks::PROVIDERS;
mod oidc;
mod quickbooks;
mod rate_limits;
mod read;
mod sage;
mod saml;
mod scenario;
mod snapshot;
mod stubs;
mod target;
mod templates;
mod webhooks;
mod xero;

use cx::{Cx, Fields, list_keys, present};
use flow::is_method;
pub(crate) use scenario::{convert, convert_definition};
use templates::Scope;
