//! CVSS v3 base scores against the `cvss` package on every v3.1 base vector and 200
//! v3.0 ones (tests/fixtures/cvss/generate.py).

mod util;

use modelgate::artifacts::cvss::base_score_v3;

#[test]
fn every_base_vector_scores_as_the_reference_implementation() {
    let text = std::fs::read_to_string(util::fixture("cvss/scores.json")).expect("fixture");
    let scores: std::collections::BTreeMap<String, f64> = serde_json::from_str(&text).expect("json");
    assert_eq!(scores.len(), 2792);
    for (vector, expected) in scores {
        let ours = base_score_v3(&vector).map(|score| score.base);
        assert_eq!(ours, Some(expected), "{vector}");
    }
}
