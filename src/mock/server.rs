//! The mock server: a traffic listener serving stubs and an admin listener serving the control API.

use std::net::{IpAddr, Ipv4Addr};

use crate::scenario::model::{ClockSpec, MockSpec};

/// Where a mock listens.
#[derive(Debug, Clone)]
pub struct BindOptions {
    /// Address for both listeners; loopback unless told otherwise.
    pub host: IpAddr,
    /// Traffic port; 0 picks a free one.
    pub traffic_port: u16,
    /// Admin port; 0 picks a free one.
    pub admin_port: u16,
}

impl Default for BindOptions {
    fn default() -> Self {
        BindOptions {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            traffic_port: 0,
            admin_port: 0,
        }
    }
}

/// Why a mock could not start.
#[derive(Debug, thiserror::Error)]
pub enum MockError {
    /// A listener could not bind.
    #[error("failed to listen on {addr}")]
    Bind {
        /// The address.
        addr: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// A running mock.
pub struct MockServer {}

impl MockServer {
    /// Start serving `spec` with a virtual clock starting per `clock`.
    pub async fn start(
        spec: MockSpec,
        clock: &ClockSpec,
        bind: BindOptions,
    ) -> Result<MockServer, MockError> {
        let _ = (spec, clock, bind);
        unimplemented!("built by the mock-engine work")
    }

    /// Base URL of the traffic listener, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> String {
        unimplemented!()
    }

    /// Base URL of the admin listener.
    pub fn admin_url(&self) -> String {
        unimplemented!()
    }

    /// Stop both listeners and wait for them to close.
    pub async fn shutdown(self) {
        unimplemented!()
    }
}
