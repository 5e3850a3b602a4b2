//! Format tests: every fixture under `tests/fixtures/valid` loads and snapshots its parsed
//! scenario; every fixture under `tests/fixtures/invalid` fails to load and snapshots its rendered
//! errors; the JSON Schema accepts every valid scenario and rejects unknown keys.

use std::path::{Path, PathBuf};

use reenact::scenario::{self, LoadError, diagnostic, yaml};

const VALID: &str = "tests/fixtures/valid";
const INVALID: &str = "tests/fixtures/invalid";

/// Load `bytes` as the scenario `path` inside `root`; render the errors as the CLI would.
fn load(path: &Path, root: &Path, bytes: &[u8]) -> Result<scenario::Scenario, String> {
    match scenario::load_bytes(path, root, bytes) {
        Ok(scenario) => Ok(scenario),
        Err(LoadError::Invalid {
            path,
            source_text,
            diagnostics,
        }) => {
            assert!(
                !diagnostics.is_empty(),
                "an invalid scenario without errors"
            );
            Err(diagnostic::render(&path, &source_text, &diagnostics, false))
        }
        Err(err) => panic!("unexpected error: {err}"),
    }
}

fn valid(name: &str) {
    let path = PathBuf::from(format!("{VALID}/{name}.yaml"));
    let bytes = std::fs::read(&path).unwrap();
    match load(&path, Path::new(VALID), &bytes) {
        Ok(scenario) => insta::assert_debug_snapshot!(format!("valid__{name}"), scenario),
        Err(rendered) => panic!("{name} should be valid:\n{rendered}"),
    }
}

fn invalid_bytes(name: &str, bytes: &[u8]) -> String {
    let path = PathBuf::from(format!("{INVALID}/{name}.yaml"));
    let rendered = load(&path, Path::new(INVALID), bytes)
        .err()
        .unwrap_or_else(|| panic!("{name} should be invalid"));
    assert!(
        rendered.contains(&format!("--> {INVALID}/{name}.yaml")),
        "{rendered}"
    );
    rendered
}

fn invalid(name: &str) {
    let bytes = std::fs::read(format!("{INVALID}/{name}.yaml")).unwrap();
    let rendered = invalid_bytes(name, &bytes);
    insta::assert_snapshot!(format!("invalid__{name}"), rendered);
}

macro_rules! fixtures {
    ($check:ident: $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                $check(stringify!($name));
            }
        )*
    };
}

mod valid {
    use super::valid;

    pub const NAMES: &[&str] = &[
        "anchors_and_block_scalars",
        "container_target",
        "minimal",
        "mock_hostnames",
        "payloads_from_files",
        "provider_intacct",
        "provider_quickbooks",
        "provider_sage",
        "provider_xero",
        "rate_limits",
        "request_matchers",
        "stateful_stubs_and_templates",
        "stub_fault_selectors",
        "stub_faults_every_action",
        "target_url_and_checks",
        "webhooks_and_https",
        "xero_duplicate_bill_after_timeout",
        "xero_webhooks",
        "yaml_core_schema_values",
    ];

    fixtures!(valid:
        anchors_and_block_scalars,
        container_target,
        minimal,
        mock_hostnames,
        payloads_from_files,
        provider_intacct,
        provider_quickbooks,
        provider_sage,
        provider_xero,
        rate_limits,
        request_matchers,
        stateful_stubs_and_templates,
        stub_fault_selectors,
        stub_faults_every_action,
        target_url_and_checks,
        webhooks_and_https,
        xero_duplicate_bill_after_timeout,
        xero_webhooks,
        yaml_core_schema_values,
    );
}

mod invalid {
    use super::invalid;

    pub const NAMES: &[&str] = &[
        "absolute_path",
        "alias_bomb",
        "bad_clock_start",
        "bad_durations",
        "bad_hostnames",
        "bad_jsonpath",
        "bad_rate_limits",
        "bad_regex",
        "bad_state_and_store",
        "bad_template_filter",
        "bad_xpath",
        "capture_used_before_its_step",
        "custom_tag",
        "customers_not_a_list",
        "duplicate_keys",
        "duplicate_step_names",
        "empty",
        "fault_actions",
        "fault_bad_durations",
        "fault_probability_out_of_range",
        "fault_selectors_out_of_range",
        "fault_unknown_keys",
        "image_with_command_and_url",
        "intacct_mistakes",
        "invalid_id",
        "json_file_not_json",
        "missing_files",
        "missing_flow",
        "mock_named_reenact_target",
        "multiple_documents",
        "multiple_errors",
        "path_escape_dotdot",
        "port_without_image",
        "provider_mistakes",
        "quickbooks_mistakes",
        "request_path_without_slash",
        "response_and_responses",
        "sage_mistakes",
        "state_expectation_mistakes",
        "status_999",
        "status_is_a_string",
        "tabs_in_line",
        "target_variables_in_wrong_place",
        "tls_ca_file_without_tls_mock",
        "unclosed_template",
        "unknown_backend",
        "unknown_capture",
        "unknown_field_in_expectation",
        "unknown_field_in_step_request",
        "unknown_field_in_stub",
        "unknown_field_in_value_matcher",
        "unknown_mock_in_expectation",
        "unknown_response_variable",
        "unknown_step_in_expectation",
        "unknown_template_variable",
        "unknown_top_level_field",
        "webhook_mistakes",
        "wrong_shapes",
        "xero_webhook_mistakes",
        "yaml_syntax_error",
    ];

    fixtures!(invalid:
        absolute_path,
        alias_bomb,
        bad_clock_start,
        bad_durations,
        bad_hostnames,
        bad_jsonpath,
        bad_rate_limits,
        bad_regex,
        bad_state_and_store,
        bad_template_filter,
        bad_xpath,
        capture_used_before_its_step,
        custom_tag,
        customers_not_a_list,
        duplicate_keys,
        duplicate_step_names,
        empty,
        fault_actions,
        fault_bad_durations,
        fault_probability_out_of_range,
        fault_selectors_out_of_range,
        fault_unknown_keys,
        image_with_command_and_url,
        intacct_mistakes,
        invalid_id,
        json_file_not_json,
        missing_files,
        missing_flow,
        mock_named_reenact_target,
        multiple_documents,
        multiple_errors,
        path_escape_dotdot,
        port_without_image,
        provider_mistakes,
        quickbooks_mistakes,
        response_and_responses,
        sage_mistakes,
        state_expectation_mistakes,
        status_999,
        status_is_a_string,
        tabs_in_line,
        target_variables_in_wrong_place,
        tls_ca_file_without_tls_mock,
        unclosed_template,
        unknown_backend,
        unknown_capture,
        unknown_field_in_expectation,
        unknown_field_in_step_request,
        unknown_field_in_stub,
        unknown_field_in_value_matcher,
        unknown_mock_in_expectation,
        unknown_response_variable,
        unknown_step_in_expectation,
        unknown_template_variable,
        unknown_top_level_field,
        webhook_mistakes,
        request_path_without_slash,
        wrong_shapes,
        xero_webhook_mistakes,
        yaml_syntax_error,
    );
}

/// Every fixture file has a test above, so a new fixture cannot go unchecked.
#[test]
fn every_fixture_has_a_test() {
    for (dir, names) in [(VALID, valid::NAMES), (INVALID, invalid::NAMES)] {
        let mut found: Vec<String> = yaml_files(Path::new(dir))
            .iter()
            .map(|path| path.file_stem().unwrap().to_string_lossy().into_owned())
            .collect();
        found.sort();
        assert_eq!(found, names, "fixtures in {dir}");
    }
}

#[test]
fn invalid_deeply_nested() {
    let depth = 200;
    let text = format!(
        "id: deep\ntitle: deep\nflow:\n  - request: {{ method: GET, path: /, json: {}{} }}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let rendered = invalid_bytes("deeply_nested", text.as_bytes());
    insta::assert_snapshot!("invalid__deeply_nested", rendered);
}

#[test]
fn invalid_not_utf8() {
    let bytes = b"id: latin1\ntitle: caf\xe9 cr\xe8me\nflow: []\n";
    let rendered = invalid_bytes("not_utf8", bytes);
    insta::assert_snapshot!("invalid__not_utf8", rendered);
}

#[test]
fn invalid_too_large() {
    let mut bytes = b"id: big\ntitle: big\n".to_vec();
    bytes.resize(yaml::MAX_INPUT_BYTES + 1, b'#');
    let rendered = invalid_bytes("too_large", &bytes);
    insta::assert_snapshot!("invalid__too_large", rendered);
}

#[cfg(unix)]
#[test]
fn invalid_symlink_escape() {
    let project = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.json"), "{\"token\": 1}").unwrap();
    std::fs::write(project.path().join("reenact.toml"), "").unwrap();
    std::fs::create_dir(project.path().join("scenarios")).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("secret.json"),
        project.path().join("scenarios/payload.json"),
    )
    .unwrap();
    let scenario = project.path().join("scenarios/symlink_escape.yaml");
    std::fs::write(
        &scenario,
        "id: symlink\ntitle: a payload that links outside\nflow:\n  - request: { method: POST, path: /x, json_file: payload.json }\n",
    )
    .unwrap();
    // `load` finds the root through `reenact.toml`, as the CLI does.
    let Err(LoadError::Invalid {
        source_text,
        diagnostics,
        ..
    }) = scenario::load(&scenario)
    else {
        panic!("a symlink out of the root must be an error")
    };
    let rendered = diagnostic::render(
        Path::new("scenarios/symlink_escape.yaml"),
        &source_text,
        &diagnostics,
        false,
    );
    let root = regex_escape(&project.path().display().to_string());
    insta::with_settings!({ filters => vec![(root.as_str(), "[ROOT]")] }, {
        insta::assert_snapshot!("invalid__symlink_escape", rendered);
    });
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let special = "\\.+*?()|[]{}^$#&-~".contains(c);
            special.then_some('\\').into_iter().chain([c])
        })
        .collect()
}

/// The multiple-errors fixture reports each of its problems, not only the first.
#[test]
fn all_errors_of_a_file_are_reported() {
    let path = PathBuf::from(format!("{INVALID}/multiple_errors.yaml"));
    let bytes = std::fs::read(&path).unwrap();
    let Err(LoadError::Invalid { diagnostics, .. }) =
        scenario::load_bytes(&path, Path::new(INVALID), &bytes)
    else {
        panic!("multiple_errors.yaml must be invalid")
    };
    let lines: Vec<usize> = diagnostics
        .iter()
        .map(|d| d.span.expect("located").line)
        .collect();
    assert_eq!(lines, [1, 3, 8, 11, 12, 14, 14, 16, 17], "{diagnostics:#?}");
}

// ---------------------------------------------------------------------------------------------
// JSON Schema
// ---------------------------------------------------------------------------------------------

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return files;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(yaml_files(&path));
        } else if path
            .extension()
            .is_some_and(|ext| ext == "yaml" || ext == "yml")
        {
            files.push(path);
        }
    }
    files.sort();
    files
}

fn schema_validator() -> jsonschema::Validator {
    let schema: serde_json::Value =
        serde_json::from_str(reenact::scenario::schema::json_schema()).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

fn as_json(path: &Path) -> serde_json::Value {
    let node = yaml::parse(&std::fs::read(path).unwrap())
        .unwrap_or_else(|errors| panic!("{}: {errors:?}", path.display()));
    yaml::to_json(&node).unwrap()
}

#[test]
fn schema_accepts_every_valid_scenario() {
    let validator = schema_validator();
    let mut files = yaml_files(Path::new(VALID));
    files.extend(yaml_files(Path::new("scenarios")));
    assert!(files.len() >= 7);
    for path in files {
        let value = as_json(&path);
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|err| format!("{} at {}", err, err.instance_path))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
    }
}

#[test]
fn schema_rejects_unknown_keys() {
    let validator = schema_validator();
    for name in [
        "unknown_field_in_stub",
        "unknown_top_level_field",
        "unknown_field_in_step_request",
        "unknown_field_in_expectation",
        "unknown_field_in_value_matcher",
        "provider_mistakes",
        "intacct_mistakes",
        "quickbooks_mistakes",
        "sage_mistakes",
        "state_expectation_mistakes",
        "fault_unknown_keys",
        "fault_actions",
        "fault_selectors_out_of_range",
        "fault_probability_out_of_range",
        "missing_flow",
        "status_999",
    ] {
        let value = as_json(&PathBuf::from(format!("{INVALID}/{name}.yaml")));
        assert!(!validator.is_valid(&value), "the schema accepts {name}");
    }
}
