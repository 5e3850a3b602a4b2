//! The control API of a mock (admin port) and its client, which the runner uses in every placement.
//!
//! Endpoints (all JSON): `GET /__reenact/health`, `POST /__reenact/reset`,
//! `GET /__reenact/journal`, `GET /__reenact/state`, `GET /__reenact/clock`,
//! `POST /__reenact/clock/advance` with `{"millis": N}`, `PUT /__reenact/config` with a `MockSpec`.

use std::time::Duration;

use crate::mock::journal::Journal;

/// Why a control call failed.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// The request failed or the answer was not what the API promises.
    #[error("control call `{call}` to `{url}` failed")]
    Call {
        /// Which call.
        call: &'static str,
        /// The admin URL.
        url: String,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// Client of one mock's control API.
#[derive(Debug, Clone)]
pub struct ControlClient {
    admin_url: String,
    http: reqwest::Client,
}

impl ControlClient {
    /// A client for the admin listener at `admin_url`.
    pub fn new(admin_url: impl Into<String>, http: reqwest::Client) -> Self {
        ControlClient {
            admin_url: admin_url.into(),
            http,
        }
    }

    /// Fetch the journal.
    pub async fn journal(&self) -> Result<Journal, ControlError> {
        let _ = &self.http;
        unimplemented!("built by the mock-engine work: {}", self.admin_url)
    }

    /// Move the virtual clock forward.
    pub async fn advance_clock(&self, by: Duration) -> Result<(), ControlError> {
        let _ = by;
        unimplemented!()
    }

    /// Clear journal, sequence positions and clock offset.
    pub async fn reset(&self) -> Result<(), ControlError> {
        unimplemented!()
    }

    /// Provider and stub state as JSON.
    pub async fn state(&self) -> Result<serde_json::Value, ControlError> {
        unimplemented!()
    }
}
