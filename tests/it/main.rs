//! reenact's integration tests, in one binary (`cargo test --test it`): one module per area,
//! sharing the harness in [`support`]. One binary links the dependency tree once, instead of once
//! per test file, and runs every test in one process, in parallel threads, so every test starts
//! its own mocks and targets on ports the OS picks, in temp folders of its own.
//!
//! Filter by module: `cargo test --test it -- format::`. The Docker tests are ignored unless
//! asked for: `cargo test --test it -- --ignored docker::` (`.ci/run` does).

mod support;

mod browse;
mod cli;
#[cfg(unix)]
mod corpus;
mod docker;
mod engine;
mod faults;
mod flow;
mod format;
mod import;
mod kill_trials;
mod layers;
mod new;
mod package;
mod properties;
mod provider_bank;
mod provider_bank_sftp;
mod provider_intacct;
mod provider_oidc;
mod provider_quickbooks;
mod provider_sage;
mod provider_saml;
mod provider_xero;
mod realism;
mod record;
mod report_html;
mod reports;
mod secret_audit;
mod stable_snapshots;
mod suite;
mod targets;
mod templates;
mod webhooks_https;
