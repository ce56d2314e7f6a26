//! The safetensors structural check (and content detection) on arbitrary bytes: a report, never a
//! panic, and never an unbounded allocation whatever the header claims.

#![no_main]

use libfuzzer_sys::fuzz_target;
use modelgate::artifacts::formats;

fuzz_target!(|data: &[u8]| {
    let _ = formats::detect(data, data.len() as u64);
    let report = formats::check_safetensors(&mut &data[..], data.len() as u64);
    // Whatever it is, a report that calls itself safe must have no finding.
    assert!(!report.safe() || report.findings.is_empty());
});
