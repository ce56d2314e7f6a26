//! PEP 440 versions against `packaging` (pip's implementation): the normalised form of
//! 6,531 spellings (or the refusal), and the order of the valid ones
//! (tests/fixtures/pep440/generate.py).

mod util;

use std::cmp::Ordering;

use modelgate::artifacts::pep440::Version;

#[test]
fn parses_and_orders_as_packaging_does() {
    let text = std::fs::read_to_string(util::fixture("pep440/versions.json")).expect("fixture");
    let fixture: serde_json::Value = serde_json::from_str(&text).expect("json");
    let normalised = fixture["normalised"].as_object().expect("normalised");
    assert!(normalised.len() > 6000);
    for (input, expected) in normalised {
        let ours = Version::parse(input).map(|version| version.to_string());
        assert_eq!(ours.as_deref(), expected.as_str(), "{input:?}");
    }
    let sorted: Vec<Version> = fixture["sorted"]
        .as_array()
        .expect("sorted")
        .iter()
        .map(|text| Version::parse(text.as_str().expect("string")).expect("valid"))
        .collect();
    let equal = fixture["equal_to_next"].as_array().expect("equal_to_next");
    for (index, pair) in sorted.windows(2).enumerate() {
        let expected = if equal[index] == true { Ordering::Equal } else { Ordering::Less };
        assert_eq!(pair[0].cmp(&pair[1]), expected, "{} vs {}", pair[0], pair[1]);
    }
}
