//! Every exit code reenact returns, in one place. Tests assert them by name.
//!
//! | code | name | meaning |
//! | --- | --- | --- |
//! | 0 | [`SUCCESS`] | everything passed (`run`), every scenario fixed (`validate`), all files valid (`check`) |
//! | 1 | [`FAILED`] | a verdict or snapshot failed |
//! | 2 | [`INVALID_INPUT`] | invalid usage, invalid scenario or invalid `reenact.toml`, or a scenario the chosen backend cannot run with its target (`--backend docker` with HTTPS mocks, or webhook steps to a target process; a container target without `--backend docker`) |
//! | 3 | [`ENVIRONMENT`] | the environment failed: target would not start, port in use, Docker unreachable |
//! | 4 | [`NO_SCENARIOS`] | the selection (`--tag`, `--filter`, `--partition`, …) left no scenario to run or list |
//! | 101 | [`INTERNAL`] | a bug in reenact |
//! | 130 | [`INTERRUPTED`] | stopped by SIGINT (Ctrl-C): 128 + its number, as shells report it |
//! | 143 | [`TERMINATED`] | stopped by SIGTERM: 128 + its number |

/// Everything passed.
pub const SUCCESS: i32 = 0;
/// A verdict or snapshot failed.
pub const FAILED: i32 = 1;
/// Invalid usage, scenario or project file, or a scenario the chosen backend cannot run.
pub const INVALID_INPUT: i32 = 2;
/// The environment failed (target start, ports, Docker).
pub const ENVIRONMENT: i32 = 3;
/// The selection left no scenario (as cargo-nextest's `NO_TESTS_RUN`, also 4): a CI shard
/// that runs nothing is more likely a mistyped filter than a pass.
pub const NO_SCENARIOS: i32 = 4;
/// An internal error (a bug).
pub const INTERNAL: i32 = 101;
/// Stopped by SIGINT (Ctrl-C).
pub const INTERRUPTED: i32 = 130;
/// Stopped by SIGTERM.
pub const TERMINATED: i32 = 143;
