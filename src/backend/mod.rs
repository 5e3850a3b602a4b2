//! Backends: where the mocks of a run are placed, behind one interface.
//!
//! [`Placement`] is the user's choice (`--backend inprocess|docker`); `Placement::open_run`
//! gives a `RunMocks` that starts one mock at a time and returns its `PlacedMock` URLs, and
//! `RunMocks::close` stops them all. Either way the runner then talks to each mock only through
//! the control API on its admin URL, so the rest of a run is one code path.

pub mod docker;
pub mod image;
pub mod inprocess;
pub mod labels;
mod placement;

pub use placement::{BackendError, PlacedMock, Placement, RunMocks, Unsupported, new_run_id};
