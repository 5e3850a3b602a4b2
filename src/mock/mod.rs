//! Mocks: fake third-party services that a scenario starts.
//!
//! One engine serves every placement: [`server::MockServer`] listens on a traffic port (the fake
//! API) and an admin port (the control API, [`control`]), both backed by one shared
//! `engine::Engine` (stubs matched by `crate::matching`, response sequences, `journal`,
//! virtual `clock`, `fault`s that
//! the connection `edge` carries out, rate limits in `ratelimit`, scenario states and the
//! store in `state`, response templates). The runner drives a mock only through the control
//! API, in-process or in a container alike: that includes sending webhooks ([`webhook`]). HTTPS
//! mocks get their certificates from a per-run CA ([`tls`]). A mock with `provider:` answers what
//! its stubs do not match through a built-in, stateful fake (`providers`); the bank's also over
//! SFTP (`sftp`).

pub(crate) mod clock;
pub mod control;
pub(crate) mod dns_sink;
pub(crate) mod edge;
pub(crate) mod engine;
pub(crate) mod fault;
pub(crate) mod journal;
pub(crate) mod providers;
pub(crate) mod ratelimit;
pub(crate) mod render;
pub mod server;
pub(crate) mod sftp;
pub(crate) mod state;
pub mod tls;
pub mod webhook;

pub use control::{ControlClient, ControlError, RunUrls};
pub use server::{BindOptions, MockError, MockServer};
