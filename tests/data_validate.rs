//! `modelgate data validate` and `data::schema::validate`: the errors found on fixture
//! tables with seeded errors agree with the Python `frictionless` validator's
//! (tests/fixtures/schema/generate.py), and every bad input fails closed (exit 2, the file
//! and the field named, a hint).

mod util;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use modelgate::data::schema::{validate, ExtraColumns, ValidateSpec};
use modelgate::evidence::SchemaCheck;
use util::{assert_fails_closed, fixture, modelgate};

fn case(name: &str, file: &str) -> PathBuf {
    fixture(&format!("schema/cases/{name}/{file}"))
}

/// Every failing row, not only the first five.
fn check_all(schema: &Path, table: &Path) -> SchemaCheck {
    let mut spec = ValidateSpec::new(schema, table);
    spec.max_examples = usize::MAX;
    validate(&spec).unwrap_or_else(|error| panic!("{}: {}", table.display(), error.message))
}

/// One error as frictionless reports it: type, field, row number (the header is row 1),
/// constraint name for a constraint error.
type Reported = (String, Option<String>, Option<u64>, Option<String>);

/// Our violations as the errors frictionless would report for them.
fn as_frictionless(check: &SchemaCheck) -> BTreeMap<Reported, usize> {
    let mut errors = BTreeMap::new();
    for violation in &check.violations {
        let field = Some(violation.field.clone());
        let (kind, field, constraint) = match violation.check.as_str() {
            "type" => ("type-error", field, None),
            "unique" => ("unique-error", field, None),
            "primary-key" => ("primary-key", None, None),
            "duplicate-row" => ("duplicate-row", None, None),
            // One header error per column; frictionless leaves an extra label's field empty.
            "missing-column" => {
                *errors.entry(("missing-label".into(), field, None, None)).or_insert(0) += 1;
                continue;
            }
            "extra-column" => {
                *errors.entry(("extra-label".into(), Some(String::new()), None, None)).or_insert(0) += 1;
                continue;
            }
            constraint => ("constraint-error", field, Some(constraint.to_string())),
        };
        assert_eq!(violation.examples.len() as u64, violation.failing_rows, "{violation:?}");
        for example in &violation.examples {
            let key = (kind.to_string(), field.clone(), Some(example.row + 1), constraint.clone());
            *errors.entry(key).or_insert(0) += 1;
        }
    }
    errors
}

fn reference(name: &str) -> BTreeMap<Reported, usize> {
    let text = std::fs::read_to_string(case(name, "frictionless.json")).expect("reference (run generate.py)");
    let json: serde_json::Value = serde_json::from_str(&text).expect("reference is JSON");
    let mut errors = BTreeMap::new();
    for error in json["errors"].as_array().expect("errors") {
        let text = |key: &str| error[key].as_str().map(String::from);
        let key = (text("type").expect("type"), text("field"), error["row"].as_u64(), text("constraint"));
        *errors.entry(key).or_insert(0) += 1;
    }
    errors
}

fn assert_agrees(name: &str, table: &str) {
    let ours = as_frictionless(&check_all(&case(name, "schema.json"), &case(name, table)));
    let theirs = reference(name);
    let only_ours: Vec<_> = ours.iter().filter(|(k, n)| theirs.get(*k) != Some(n)).collect();
    let only_theirs: Vec<_> = theirs.iter().filter(|(k, n)| ours.get(*k) != Some(n)).collect();
    assert!(
        only_ours.is_empty() && only_theirs.is_empty(),
        "{name}/{table}: ours only {only_ours:#?}\nfrictionless only {only_theirs:#?}"
    );
    assert!(!theirs.is_empty(), "the fixture has seeded errors");
}

#[test]
fn every_constraint_agrees_with_frictionless() {
    assert_agrees("people", "table.csv");
}

#[test]
fn gzip_csv_agrees_with_frictionless() {
    assert_agrees("people", "table.csv.gz");
}

#[test]
fn types_formats_and_options_agree_with_frictionless() {
    assert_agrees("formats", "table.csv");
}

#[test]
fn missing_and_extra_columns_agree_with_frictionless() {
    assert_agrees("columns", "table.csv");
}

#[test]
fn parquet_values_agree_with_frictionless_on_the_same_data() {
    assert_agrees("typed", "table.csv");
    assert_agrees("typed", "table.parquet");
}

// ---------------------------------------------------------------- the command

fn validate_cli(schema: &Path, table: &Path, extra: &[&str]) -> util::Run {
    let (schema, table) = (schema.display().to_string(), table.display().to_string());
    let mut args = vec!["data", "validate", "--schema", schema.as_str(), table.as_str()];
    args.extend_from_slice(extra);
    modelgate(&args)
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path
}

#[test]
fn violations_exit_1_with_counts_examples_and_per_field_report() {
    let run = validate_cli(&case("people", "schema.json"), &case("people", "table.csv"), &["--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["rows"], 403);
    assert_eq!(json["source"], "table-schema");
    let age_minimum = json["violations"]
        .as_array()
        .expect("violations")
        .iter()
        .find(|v| v["field"] == "age" && v["check"] == "minimum")
        .expect("age minimum");
    assert_eq!(age_minimum["failing_rows"], 2);
    assert_eq!(age_minimum["examples"], serde_json::json!([{"row": 80, "value": "-1"}, {"row": 94, "value": "-3"}]));
    let age = json["fields"].as_array().expect("fields").iter().find(|f| f["name"] == "age").expect("age");
    assert_eq!(age["type"], "integer");
    assert_eq!(age["checks"], serde_json::json!(["present", "type", "required", "minimum", "maximum"]));
    assert_eq!(age["failed"], serde_json::json!(["type", "required", "minimum", "maximum"]));
    assert_eq!(age["nulls"], 1);
    // At most five examples however many rows fail.
    assert!(json["violations"]
        .as_array()
        .expect("present")
        .iter()
        .all(|v| v["examples"].as_array().map_or(0, Vec::len) <= 5));
}

#[test]
fn text_report_names_field_check_and_rows() {
    let run = validate_cli(&case("people", "schema.json"), &case("people", "table.csv"), &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.contains("age [minimum] 2 rows: below the minimum 0"), "{}", run.stdout);
    assert!(run.stdout.contains("* [duplicate-row] 3 rows: repeat an earlier row"), "{}", run.stdout);
}

#[test]
fn a_valid_table_exits_0() {
    let dir = tempfile::tempdir().expect("tempdir");
    let schema = write(dir.path(), "schema.json", r#"{"fields": [{"name": "a", "type": "integer"}, {"name": "b"}]}"#);
    let table = write(dir.path(), "table.csv", "a,b\n1,x\n2,\n");
    let run = validate_cli(&schema, &table, &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("Valid: no violations."), "{}", run.stdout);
}

#[test]
fn sensitive_columns_are_redacted() {
    let run = validate_cli(
        &case("people", "schema.json"),
        &case("people", "table.csv"),
        &["--format", "json", "--sensitive", "email,age"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let json = run.json();
    for violation in json["violations"].as_array().expect("violations") {
        if violation["field"] == "email" || violation["field"] == "age" {
            for example in violation["examples"].as_array().expect("examples") {
                assert_eq!(example["value"], "<redacted>", "{violation}");
            }
        }
    }
    assert!(!run.stdout.contains("bob@"), "a sensitive value leaked");
}

#[test]
fn extra_columns_can_be_allowed() {
    let schema = case("columns", "schema.json");
    let table = case("columns", "table.csv");
    let denied = validate_cli(&schema, &table, &["--format", "json"]).json();
    assert!(denied["violations"].as_array().expect("present").iter().any(|v| v["check"] == "extra-column"));
    let allowed = validate_cli(&schema, &table, &["--format", "json", "--extra-columns", "allow"]).json();
    let checks: Vec<&str> =
        allowed["violations"].as_array().expect("present").iter().filter_map(|v| v["check"].as_str()).collect();
    assert_eq!(checks, ["missing-column"]);
}

#[test]
fn null_rate_ceiling_with_per_column_override() {
    let dir = tempfile::tempdir().expect("tempdir");
    let schema = write(dir.path(), "schema.json", r#"{"fields": [{"name": "a"}, {"name": "b"}]}"#);
    let table = write(dir.path(), "table.csv", "a,b\n1,\n2,\n3,x\n,x\n");
    let run = validate_cli(&schema, &table, &["--format", "json", "--max-null-rate", "0.3"]);
    assert_eq!(run.code, 1);
    let json = run.json();
    let failing: Vec<(&str, u64)> = json["violations"]
        .as_array()
        .expect("present")
        .iter()
        .map(|v| (v["field"].as_str().expect("present"), v["failing_rows"].as_u64().expect("present")))
        .collect();
    assert_eq!(failing, [("b", 2)]);
    assert_eq!(json["fields"][1]["null_rate"], 0.5);
    let run = validate_cli(&schema, &table, &["--max-null-rate", "0.3", "--null-rate", "b=0.5"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let run = validate_cli(&schema, &table, &["--max-null-rate", "1.5"]);
    assert_fails_closed(&run, &["max_null_rate = 1.5"]);
}

#[test]
fn a_parquet_file_can_be_the_expected_schema() {
    let expected = case("typed", "table.parquet");
    let run = validate_cli(&expected, &case("typed", "table.parquet"), &["--format", "json"]);
    // Same file: every type matches; the nullable columns are not required.
    assert_eq!(run.code, 1, "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["source"], "parquet");
    let checks: Vec<&str> =
        json["violations"].as_array().expect("present").iter().filter_map(|v| v["check"].as_str()).collect();
    assert_eq!(checks, ["duplicate-row"]);
    let run = validate_cli(&expected, &case("typed", "table.parquet"), &["--allow-duplicate-rows"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
}

#[test]
fn a_parquet_column_of_an_incompatible_type_is_a_type_violation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let schema = write(
        dir.path(),
        "schema.json",
        r#"{"fields": [{"name": "id", "type": "integer"}, {"name": "age", "type": "integer"},
            {"name": "income", "type": "integer"}, {"name": "segment", "type": "date"},
            {"name": "member", "type": "boolean"}, {"name": "joined", "type": "date"}]}"#,
    );
    let run = validate_cli(&schema, &case("typed", "table.parquet"), &["--format", "json", "--allow-duplicate-rows"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let json = run.json();
    let types: Vec<&str> = json["violations"]
        .as_array()
        .expect("present")
        .iter()
        .filter(|v| v["check"] == "type")
        .map(|v| v["field"].as_str().expect("present"))
        .collect();
    assert_eq!(types, ["income", "segment"]);
    let message = json["violations"][0]["message"].as_str().expect("present");
    assert!(message.contains("floating-point"), "{message}");
}

#[test]
fn yaml_schemas_are_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let schema =
        write(dir.path(), "schema.yaml", "fields:\n  - name: a\n    type: integer\n    constraints: {maximum: 2}\n");
    let table = write(dir.path(), "table.csv", "a\n1\n3\n");
    let run = validate_cli(&schema, &table, &["--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.json()["violations"][0]["check"], "maximum");
}

// ---------------------------------------------------------------- bad input

#[test]
fn an_unknown_type_names_its_json_pointer_and_the_valid_types() {
    let dir = tempfile::tempdir().expect("tempdir");
    let schema = write(
        dir.path(),
        "schema.json",
        r#"{"fields": [{"name": "a"}, {"name": "b"}, {"name": "c"}, {"name": "d", "type": "integr"}]}"#,
    );
    let run = validate_cli(&schema, &case("columns", "table.csv"), &[]);
    assert_fails_closed(&run, &["schema.json: /fields/3/type: unknown type \"integr\"", "string, number, integer"]);
}

#[test]
fn invalid_json_names_the_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let schema = write(dir.path(), "schema.json", "{\"fields\": [\n  {\"name\": \"a\",}\n]}");
    let run = validate_cli(&schema, &case("columns", "table.csv"), &[]);
    assert_fails_closed(&run, &["schema.json:2:", "not valid JSON"]);
}

#[test]
fn an_invalid_pattern_names_its_pointer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let schema = write(dir.path(), "schema.json", r#"{"fields": [{"name": "b", "constraints": {"pattern": "[a-z"}}]}"#);
    let run = validate_cli(&schema, &case("columns", "table.csv"), &[]);
    assert_fails_closed(&run, &["/fields/0/constraints/pattern", "not a valid regular expression"]);
}

#[test]
fn other_invalid_schemas_name_their_pointer() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (text, needle) in [
        (r#"[]"#, "/: a Table Schema is an object"),
        (r#"{"fields": [{"type": "integer"}]}"#, "/fields/0/name: missing"),
        (r#"{"fields": [{"name": "a", "format": "emial"}]}"#, "/fields/0/format: unknown format \"emial\""),
        (r#"{"fields": [{"name": "a", "constraints": {"minimum": 1}}]}"#, "/fields/0/constraints/minimum"),
        (
            r#"{"fields": [{"name": "a", "type": "integer", "constraints": {"minimum": "x"}}]}"#,
            "x is not a valid integer",
        ),
        (r#"{"fields": [{"name": "a"}], "primaryKey": "b"}"#, "/primaryKey"),
        (r#"{"fields": [{"name": "a"}, {"name": "a"}]}"#, "/fields/1/name"),
        (r#"{"fields": [{"name": "a", "constraints": {"required": "yes"}}]}"#, "/fields/0/constraints/required"),
        (r#"{"fields": [{"name": "a", "type": "date", "format": "%Q"}]}"#, "/fields/0/format"),
    ] {
        let schema = write(dir.path(), "schema.json", text);
        let run = validate_cli(&schema, &case("columns", "table.csv"), &[]);
        assert_fails_closed(&run, &[needle]);
    }
}

#[test]
fn a_schema_field_absent_from_the_table_is_a_missing_column_violation() {
    let run = validate_cli(&case("columns", "schema.json"), &case("columns", "table.csv"), &["--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let json = run.json();
    let missing = json["violations"]
        .as_array()
        .expect("present")
        .iter()
        .find(|v| v["check"] == "missing-column")
        .expect("missing");
    assert_eq!(missing["field"], "gone");
    assert_eq!(missing["failing_rows"], 20);
    assert!(missing["message"].as_str().expect("present").contains("the table does not have"));
    let gone = json["fields"].as_array().expect("present").iter().find(|f| f["name"] == "gone").expect("present");
    assert_eq!(gone["present"], false);
}

#[test]
fn a_truncated_gzip_table_fails_closed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = std::fs::read(case("people", "table.csv.gz")).expect("fixture");
    let table = dir.path().join("truncated.csv.gz");
    std::fs::write(&table, &bytes[..bytes.len() / 2]).expect("write");
    let run = validate_cli(&case("people", "schema.json"), &table, &[]);
    assert_fails_closed(&run, &["truncated.csv.gz"]);
}

#[test]
fn a_truncated_parquet_table_fails_closed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = std::fs::read(case("typed", "table.parquet")).expect("fixture");
    let table = dir.path().join("truncated.parquet");
    std::fs::write(&table, &bytes[..bytes.len() - 100]).expect("write");
    let run = validate_cli(&case("typed", "schema.json"), &table, &[]);
    assert_fails_closed(&run, &["truncated.parquet", "Parquet"]);
}

#[test]
fn an_unreadable_table_fails_closed() {
    let run = validate_cli(&case("people", "schema.json"), Path::new("no/such/table.csv"), &[]);
    assert_fails_closed(&run, &["no/such/table.csv"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let ragged = write(dir.path(), "ragged.csv", "a,b\n1,2\n3\n");
    let run = validate_cli(&case("columns", "schema.json"), &ragged, &[]);
    assert_fails_closed(&run, &["ragged.csv", "line 3"]);
}

#[test]
fn the_config_table_rejects_unknown_keys() {
    let config: Result<modelgate::data::schema::SchemaConfig, _> =
        toml::from_str("path = \"schema.json\"\nextra_columns = \"allow\"\nmax_null_rate = 0.1\n");
    let config = config.expect("valid config");
    assert_eq!(config.extra_columns, ExtraColumns::Allow);
    assert!(config.duplicate_rows);
    let wrong: Result<modelgate::data::schema::SchemaConfig, _> =
        toml::from_str("path = \"s.json\"\nmax_nul_rate = 1\n");
    assert!(wrong.expect_err("an error").to_string().contains("max_nul_rate"));
}

#[test]
fn checks_carry_across_batches() {
    // More rows than one batch (64k): keys, duplicates and examples across batch boundaries.
    let dir = tempfile::tempdir().expect("tempdir");
    let schema = write(
        dir.path(),
        "schema.json",
        r#"{"fields": [{"name": "id", "type": "integer"}, {"name": "v", "type": "integer", "constraints": {"minimum": 0}},
                       {"name": "s", "constraints": {"unique": true}}],
            "primaryKey": "id"}"#,
    );
    let mut text = String::from("id,v,s\n");
    for row in 1..=150_000u64 {
        let (id, v, s) = match row {
            70_000 => (row, -1, format!("s{row}")),
            140_000 => (5, 5, format!("s{row}")),
            149_999 => (3, 3, "s3".to_string()),
            _ => (row, (row % 7) as i64, format!("s{row}")),
        };
        text.push_str(&format!("{id},{v},{s}\n"));
    }
    let table = write(dir.path(), "table.csv", &text);
    let check = check_all(&schema, &table);
    assert_eq!(check.rows, 150_000);
    let rows = |check_name: &str| -> Vec<u64> {
        check
            .violations
            .iter()
            .filter(|v| v.check == check_name)
            .flat_map(|v| v.examples.iter().map(|e| e.row))
            .collect()
    };
    assert_eq!(rows("minimum"), [70_000]);
    assert_eq!(rows("primary-key"), [140_000, 149_999]);
    assert_eq!(rows("unique"), [149_999]);
    assert_eq!(rows("duplicate-row"), [149_999]);
}

#[test]
fn a_parquet_list_column_is_present_for_any_and_the_wrong_type_otherwise() {
    let table = case("nested", "table.parquet");
    let run = validate_cli(&case("nested", "schema.json"), &table, &["--format", "json"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let dir = tempfile::tempdir().expect("tempdir");
    let schema =
        write(dir.path(), "schema.json", r#"{"fields": [{"name": "id", "type": "integer"}, {"name": "tags"}]}"#);
    let run = validate_cli(&schema, &table, &["--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["violations"][0]["field"], "tags");
    assert_eq!(json["violations"][0]["check"], "type");
    assert!(json["violations"][0]["message"].as_str().expect("message").contains("nested"));
}
