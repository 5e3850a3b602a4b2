//! reenact reproduces customer incidents against faithful fakes of third-party systems, and proves
//! that a fix fixes them.
//!
//! A scenario file ([`scenario`]) describes the customer's environment and the failing flow; a run
//! ([`run`]) starts the mocks ([`mock`], placed in-process or in Docker by [`backend`]) and the
//! target ([`target`]), replays the flow ([`flow`]), collects an [`observe::Observation`], judges
//! it ([`verdict`]) and compares it with its accepted snapshot ([`snapshot`]). The library never prints or exits: only the binary's `cli` renders.

pub mod backend;
pub mod exit_codes;
pub mod flow;
pub mod mock;
pub mod observe;
pub mod project;
pub mod report;
pub mod run;
pub mod scenario;
pub mod snapshot;
pub mod target;
pub mod verdict;
