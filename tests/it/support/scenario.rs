//! Scenario snippets: YAML written in a test, loaded as the CLI would load a file, and run in
//! process.

use std::path::Path;

use reenact::backend::Placement;
use reenact::run::{RunContext, ScenarioRun, TargetChoice};
use reenact::scenario::model::MockSpec;
use reenact::scenario::{self, LoadError, Scenario, diagnostic};

/// The scenario `yaml`, loaded as if it were the file `name` in the current folder; the test fails
/// with the rendered errors if it is invalid.
pub fn load_scenario(name: &str, yaml: &str) -> Scenario {
    match scenario::load_bytes(Path::new(name), Path::new("."), yaml.as_bytes()) {
        Ok(scenario) => scenario,
        Err(LoadError::Invalid {
            path,
            source_text,
            diagnostics,
        }) => panic!(
            "invalid test scenario:\n{}",
            diagnostic::render(&path, &source_text, &diagnostics, false)
        ),
        Err(err) => panic!("test scenario not loaded: {err}\n{yaml}"),
    }
}

/// The first mock of the scenario `yaml` (which must be valid).
pub fn load_mock(yaml: &str) -> MockSpec {
    load_scenario("scenario.yaml", yaml).mocks.remove(0)
}

/// Run `scenario` in process against its own `target:`, files relative to `root`, as
/// `reenact run` would.
pub async fn run_in_process(scenario: &Scenario, root: &Path) -> ScenarioRun {
    let http = reenact::run::http_client();
    let ctx = RunContext {
        http: &http,
        project_root: root,
        placement: &Placement::InProcess,
    };
    reenact::run::run_scenario(scenario, &TargetChoice::from_scenario(), &ctx)
        .await
        .expect("the run completes")
}
