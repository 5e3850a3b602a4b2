//! The `inprocess` placement: every mock of a run is a [`MockServer`] inside the reenact process,
//! listening on loopback ports chosen by the system.

use crate::backend::placement::{BackendError, PlacedMock};
use crate::mock::tls::TlsIdentity;
use crate::mock::{BindOptions, MockServer};
use crate::scenario::model::{ClockSpec, MockSpec};

/// One run's in-process mocks.
#[derive(Debug, Default)]
pub struct InProcessRun {
    servers: Vec<MockServer>,
}

impl InProcessRun {
    /// Start `spec` on free loopback ports (HTTPS with `tls`); its stubs are served as soon as
    /// this returns.
    pub(crate) async fn start_mock(
        &mut self,
        spec: &MockSpec,
        clock: &ClockSpec,
        tls: Option<TlsIdentity>,
    ) -> Result<PlacedMock, BackendError> {
        let bind = BindOptions {
            tls,
            ..BindOptions::default()
        };
        let server = MockServer::start(spec.clone(), clock, bind)
            .await
            .map_err(BackendError::Mock)?;
        let placed = PlacedMock {
            name: spec.name.clone(),
            url: server.url(),
            admin_url: server.admin_url(),
            network_url: None,
            sftp_address: server.sftp_addr().map(|addr| addr.to_string()),
            network_sftp_address: None,
        };
        self.servers.push(server);
        Ok(placed)
    }

    /// Stop every mock and wait for their listeners to close.
    pub async fn close(self) {
        for server in self.servers {
            server.shutdown().await;
        }
    }
}
