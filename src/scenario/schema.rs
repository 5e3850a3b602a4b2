//! The JSON Schema of the scenario format, for editors (`reenact schema`).
//!
//! The schema lives in `scenario.schema.json` beside this file and is compiled into the binary.
//! It mirrors `docs/scenario-format.md`: unknown keys are rejected everywhere. It checks shapes
//! only; references between parts (mock and step names, captures, templates) and files are checked
//! by the loader.

/// The JSON Schema (draft 2020-12) of a scenario file, as pretty JSON text.
pub(crate) fn json_schema() -> &'static str {
    include_str!("scenario.schema.json")
}

#[cfg(test)]
mod tests {
    //! The schema against the loader: it accepts every valid fixture and demo scenario, and
    //! rejects the invalid fixtures whose mistakes are shapes (unknown keys, wrong types). The
    //! keys of every object are tied to the loader's tables in `convert/key_tables.rs`.

    use std::path::{Path, PathBuf};

    use super::json_schema;

    fn yaml_files(dir: &Path) -> Vec<PathBuf> {
        let mut files = Vec::new();
        let Ok(entries) = std::fs::read_dir(dir) else {
            return files;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                // Mock definitions are checked by `schema_accepts_every_mock_definition`.
                if !path.ends_with("mocks") {
                    files.extend(yaml_files(&path));
                }
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
        let schema: serde_json::Value = serde_json::from_str(json_schema()).unwrap();
        jsonschema::validator_for(&schema).unwrap()
    }

    fn as_json(path: &Path) -> serde_json::Value {
        let node = crate::scenario::yaml::parse(&std::fs::read(path).unwrap())
            .unwrap_or_else(|errors| panic!("{}: {errors:?}", path.display()));
        crate::scenario::yaml::to_json(&node).unwrap()
    }

    #[test]
    fn schema_accepts_every_valid_scenario() {
        let validator = schema_validator();
        let mut files = yaml_files(Path::new("tests/fixtures/valid"));
        files.extend(yaml_files(Path::new("scenarios")));
        assert!(files.len() >= 7);
        let mut refused = Vec::new();
        for path in files {
            let value = as_json(&path);
            let errors: Vec<String> = validator
                .iter_errors(&value)
                .map(|err| format!("{} at {}", err, err.instance_path))
                .collect();
            if !errors.is_empty() {
                refused.push(format!("{}: {errors:#?}", path.display()));
            }
        }
        assert!(refused.is_empty(), "{}", refused.join("\n"));
    }

    /// Every mock definition (`mocks/` of the project and of the valid fixtures) is a mock as
    /// the schema's `$defs/mock` describes it.
    #[test]
    fn schema_accepts_every_mock_definition() {
        let mut schema: serde_json::Value = serde_json::from_str(json_schema()).unwrap();
        let defs = schema["$defs"].take();
        let schema = serde_json::json!({
            "$schema": schema["$schema"],
            "$defs": defs,
            "$ref": "#/$defs/mock",
        });
        let validator = jsonschema::validator_for(&schema).unwrap();
        let mut files = yaml_files(Path::new("mocks"));
        files.extend(yaml_files(Path::new("tests/fixtures/valid/mocks")));
        assert!(files.len() >= 3, "{files:?}");
        let refused: Vec<String> = files
            .iter()
            .filter_map(|path| {
                let errors: Vec<String> = validator
                    .iter_errors(&as_json(path))
                    .map(|err| format!("{} at {}", err, err.instance_path))
                    .collect();
                (!errors.is_empty()).then(|| format!("{}: {errors:#?}", path.display()))
            })
            .collect();
        assert!(refused.is_empty(), "{}", refused.join("\n"));
        // A definition with a typo is refused.
        let typo = serde_json::json!({ "provider": "xero", "wiht": {} });
        assert!(!validator.is_valid(&typo));
    }

    #[test]
    fn schema_rejects_unknown_keys() {
        let validator = schema_validator();
        let mut accepted = Vec::new();
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
            "oidc_mistakes",
            "bank_mistakes",
            "state_expectation_mistakes",
            "fault_unknown_keys",
            "fault_actions",
            "fault_selectors_out_of_range",
            "fault_probability_out_of_range",
            "missing_flow",
            "status_999",
        ] {
            let value = as_json(&PathBuf::from(format!(
                "tests/fixtures/invalid/{name}.yaml"
            )));
            if validator.is_valid(&value) {
                accepted.push(name);
            }
        }
        assert!(accepted.is_empty(), "the schema accepts {accepted:?}");
    }

    #[test]
    fn schema_is_json() {
        let value: serde_json::Value = serde_json::from_str(super::json_schema()).unwrap();
        assert_eq!(
            value["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
    }
}
