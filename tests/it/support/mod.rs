//! The harness the test modules share: the repository and the demo target, a mock started from a
//! scenario snippet (or a `MockSpec`) with the clients that drive it, scenario snippets run in
//! process, a stand-in target, the HTTP client, bad inputs made at test time, kill trials
//! ([`kill`]) and the planted secrets of the secret audits ([`planted`]).

mod demo;
mod http;
mod inputs;
pub mod kill;
mod mock;
pub mod planted;
mod scenario;
mod target;

pub use demo::{demo, demo_cmd, repo};
pub use http::{
    error_chain, free_port, hmac_sha256_base64, http_client, http_client_builder, text,
};
pub use inputs::alias_bomb_bytes;
#[cfg(unix)]
pub use inputs::make_fifo;
pub use mock::{Got, Harness, START};
pub use scenario::{load_mock, load_scenario, run_in_process};
pub use target::{Answer, serve, serve_http};
