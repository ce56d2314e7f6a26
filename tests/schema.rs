//! The evidence schema in docs/ is generated from the Rust types and must be current;
//! every evidence fixture and example must validate against it.

mod util;

use util::{modelgate, root};

fn schema() -> serde_json::Value {
    serde_json::from_str(
        &std::fs::read_to_string(root().join("docs/evidence.schema.json")).expect("docs/evidence.schema.json"),
    )
    .expect("schema is JSON")
}

#[test]
fn checked_in_schema_is_current() {
    let generated = modelgate::evidence::json_schema();
    assert_eq!(
        schema(),
        generated,
        "docs/evidence.schema.json is stale: run `cargo run -- schema > docs/evidence.schema.json`"
    );
    // The binary prints the same schema.
    let printed: serde_json::Value = modelgate(&["schema"]).json();
    assert_eq!(printed, generated);
}

#[test]
fn fixtures_and_examples_validate_against_the_schema() {
    let validator = jsonschema::validator_for(&schema()).expect("schema compiles");
    let mut checked = 0;
    for dir in ["tests/fixtures/evidence", "tests/fixtures/examples"] {
        let Ok(entries) = std::fs::read_dir(root().join(dir)) else { continue };
        for entry in entries {
            let path = entry.expect("entry").path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let document: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
            let errors: Vec<String> =
                validator.iter_errors(&document).map(|e| format!("{e} at {}", e.instance_path)).collect();
            assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
            modelgate::evidence::parse(&path.display().to_string(), &document.to_string())
                .expect("the types accept it too");
            checked += 1;
        }
    }
    assert!(checked >= 2, "no evidence fixtures found");
}

#[test]
fn invalid_fixtures_are_rejected_by_the_schema_too() {
    let validator = jsonschema::validator_for(&schema()).expect("schema compiles");
    for name in ["wrong-type.json", "unknown-field.json"] {
        let path = root().join("tests/fixtures/evidence-invalid").join(name);
        let document: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
        assert!(!validator.is_valid(&document), "{name} should not validate");
    }
}
