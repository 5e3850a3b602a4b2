//! The JSON Schema of the scenario format, for editors (`reenact schema`).
//!
//! The schema lives in `scenario.schema.json` beside this file and is compiled into the binary.
//! It mirrors `docs/scenario-format.md`: unknown keys are rejected everywhere. It checks shapes
//! only; references between parts (mock and step names, captures, templates) and files are checked
//! by the loader.

/// The JSON Schema (draft 2020-12) of a scenario file, as pretty JSON text.
pub fn json_schema() -> &'static str {
    include_str!("scenario.schema.json")
}

#[cfg(test)]
mod tests {
    #[test]
    fn schema_is_json() {
        let value: serde_json::Value = serde_json::from_str(super::json_schema()).unwrap();
        assert_eq!(
            value["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
    }
}
