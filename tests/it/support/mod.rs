//! The harness the test modules share: the repository and the demo target, a mock started from a
//! scenario snippet with the clients that drive it, a stand-in target, and HTTP helpers.

mod demo;
mod http;
mod mock;
mod target;

pub use demo::{demo, demo_cmd, repo};
pub use http::{hmac_sha256_base64, text};
pub use mock::{Got, Harness, load_mock};
pub use target::serve;
