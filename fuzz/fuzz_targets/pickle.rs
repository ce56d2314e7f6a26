//! The pickle machine on arbitrary bytes: a report under both policies, never a panic,
//! and never "safe" for bytes that are not a whole pickle.

#![no_main]

use libfuzzer_sys::fuzz_target;
use modelgate::artifacts::pickle::{analyze, GlobalsPolicy};

fuzz_target!(|data: &[u8]| {
    for policy in [GlobalsPolicy::Allow, GlobalsPolicy::Deny] {
        let report = analyze(data, policy);
        if report.safe {
            assert!(report.pickles > 0, "safe without a whole pickle");
        }
        assert!(report.findings.len() <= modelgate::artifacts::pickle::MAX_FINDINGS + 1);
    }
});
