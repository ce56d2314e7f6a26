//! The regulatory control mapping of the built-in library (policies/controls.yaml): every
//! rule supports at least one control, every control id is well-formed and declared, and
//! docs/regulations.md lists the mapping as the file has it.

mod util;

use modelgate::policy::{engine::DEFAULT_TIMEOUT, Gate};
use util::root;

/// The form of each framework's control ids, written here from the frameworks' own
/// numbering (not taken from the loader, so a loader that grew lax is caught).
const FORMS: &[(&str, &str)] = &[
    (
        "eu-ai-act",
        r"^(Art\. [1-9][0-9]*(\([1-9][0-9]*\))?(\([a-z]\))?|Annex (I|II|III|IV|V|VI|VII|VIII|IX|X|XI|XII|XIII))$",
    ),
    ("nist-ai-rmf", r"^(GOVERN|MAP|MEASURE|MANAGE) [1-6]\.[1-9][0-9]?$"),
    ("iso-42001", r"^A\.(2|3|4|5|6|7|8|9|10)(\.[1-9][0-9]?){1,2}$"),
];

fn well_formed(control: &str) -> bool {
    let Some((framework, id)) = control.split_once(':') else { return false };
    FORMS.iter().any(|(name, form)| *name == framework && regex::Regex::new(form).expect("form").is_match(id))
}

fn library() -> Gate {
    Gate::load(&root().join("policies"), DEFAULT_TIMEOUT).expect("the built-in library loads")
}

#[test]
fn every_rule_of_the_library_supports_a_well_formed_control() {
    let mut gate = library();
    let evidence = modelgate::evidence::read(&root().join("tests/fixtures/examples/credit-scoring-blocked.json"))
        .expect("evidence");
    let report = gate.report(&evidence, None);
    assert!(report.rules.len() > 50, "{} rules", report.rules.len());
    for rule in &report.rules {
        assert!(!rule.controls.is_empty(), "{} supports no control", rule.code);
        for control in &rule.controls {
            assert!(well_formed(control), "{}: `{control}` is not well-formed", rule.code);
            assert!(gate.controls.title(control).is_some(), "{}: `{control}` is not declared", rule.code);
        }
        let frameworks: Vec<&str> =
            rule.controls.iter().filter_map(|control| control.split_once(':')).map(|(f, _)| f).collect();
        for framework in FORMS.iter().map(|(name, _)| *name) {
            assert!(frameworks.contains(&framework), "{} names no {framework} control", rule.code);
        }
    }
    // Every mapped code is a rule of the library (the load refuses others) and every
    // declared control id has its framework's form.
    for (name, framework) in &gate.controls.frameworks {
        for id in framework.controls.keys() {
            assert!(well_formed(&format!("{name}:{id}")), "{name}:{id}");
        }
    }
}

#[test]
fn the_documented_table_is_the_mapping() {
    let gate = library();
    let docs = std::fs::read_to_string(root().join("docs/regulations.md")).expect("docs/regulations.md");
    for (code, listed) in &gate.controls.rules {
        let row = docs
            .lines()
            .find(|line| line.starts_with(&format!("| `{code}` |")))
            .unwrap_or_else(|| panic!("docs/regulations.md has no row for {code}"));
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        for control in listed {
            let (framework, id) = control.split_once(':').expect("FRAMEWORK:ID");
            let column = match framework {
                "eu-ai-act" => 2,
                "nist-ai-rmf" => 3,
                "iso-42001" => 4,
                other => panic!("a framework the table has no column for: {other}"),
            };
            assert!(cells[column].split("<br>").any(|cell| cell == id), "{code}: {control} missing from {row}");
        }
    }
}
