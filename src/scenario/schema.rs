//! The JSON Schema of the scenario format, for editors (`reenact schema`).

/// The JSON Schema (draft 2020-12) of a scenario file, as pretty JSON text.
pub fn json_schema() -> &'static str {
    unimplemented!("built by the scenario-loader work")
}
