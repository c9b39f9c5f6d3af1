//! Report inputs: JSON round trip, loading bare result files, merging, schema versions.

mod common;

use burnish_report::{ReportError, ReportInput};
use common::{fixture, temp_dir};

#[test]
fn report_input_round_trips_through_json() {
    let input = fixture();
    let again = ReportInput::from_json_str(&input.to_json().unwrap()).unwrap();
    assert_eq!(again, input);
}

#[test]
fn load_all_accepts_report_inputs_and_bare_result_files() {
    let input = fixture();
    let dir = temp_dir("input");
    let bench = dir.join("bench.json");
    input.results[0].save(&bench).unwrap();
    let full = dir.join("input.json");
    input.save(&full).unwrap();

    let merged = ReportInput::load_all(&[&full, &bench]).unwrap();
    assert_eq!(merged.results.len(), 2);
    assert_eq!(merged.results[1], input.results[0]);
    assert_eq!(merged.variants, input.variants);
    assert_eq!(merged.title, input.title);
    assert!(merged.drift.is_some() && merged.optimization.is_some());

    let bare = ReportInput::load(&bench).unwrap();
    assert_eq!(bare.results.len(), 1);
    assert!(bare.variants.is_empty() && bare.title.is_none());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn other_schema_versions_are_refused() {
    let mut json: serde_json::Value = serde_json::from_str(&fixture().to_json().unwrap()).unwrap();
    json["schema_version"] = 99.into();
    let err = ReportInput::from_json_str(&json.to_string()).unwrap_err();
    assert!(
        matches!(err, ReportError::SchemaVersion { found: 99, .. }),
        "{err}"
    );
}

#[test]
fn missing_files_name_the_path() {
    let err = ReportInput::load(std::path::Path::new("/nonexistent/results.json")).unwrap_err();
    assert!(
        err.to_string().contains("/nonexistent/results.json"),
        "{err}"
    );
}
