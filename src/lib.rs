//! reenact reproduces customer incidents against faithful fakes of third-party systems, and proves
//! that a fix fixes them.
//!
//! A scenario file ([`scenario`]) describes the customer's environment and the failing flow; a run
//! ([`run`]) starts the mocks ([`mock`], placed in-process or in Docker by [`backend`]) and the
//! target ([`target`]), replays the flow ([`flow`]), collects an [`observe::Observation`], judges
//! it ([`verdict`]) and compares it with its accepted snapshot ([`snapshot`]). The library never
//! prints or exits: only the binary's `cli` renders.
//!
//! Dependencies run one way, bottom first: neutral helpers ([`errors`], [`exit_codes`],
//! [`json_compare`], [`money`], [`timestamp`]); the observation's data ([`observe`]) and the
//! format ([`scenario`], [`project`]); the meaning of matchers and checks ([`matching`]); the mock
//! engine ([`mock`]); the judges ([`verdict`], [`snapshot`], [`report`]); the runtime
//! ([`backend`], [`target`], [`flow`]); the orchestrator ([`run`]). `tests/it/layers.rs` fails on a
//! `use` that points up.

pub mod backend;
pub mod errors;
pub mod exit_codes;
pub mod flow;
pub mod json_compare;
pub mod matching;
pub mod mock;
pub mod money;
pub mod observe;
pub mod project;
pub mod report;
pub mod run;
pub mod scenario;
pub mod snapshot;
pub mod target;
pub mod timestamp;
pub mod verdict;
