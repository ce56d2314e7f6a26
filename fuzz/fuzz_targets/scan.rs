//! `modelgate scan` on arbitrary bytes, through every format's path: compressed streams,
//! nested archives, joblib array data, ONNX, Keras, SavedModel. A verdict, never a panic,
//! and memory bounded by the small limits set here whatever the input claims.

#![no_main]

use libfuzzer_sys::fuzz_target;
use modelgate::artifacts::pickle::GlobalsPolicy;
use modelgate::artifacts::scan::{scan_bytes, ScanOptions};

fuzz_target!(|data: &[u8]| {
    let options = ScanOptions { policy: GlobalsPolicy::Allow, max_pickle_bytes: 8 << 20, max_nested_bytes: 16 << 20 };
    let file = scan_bytes(data, "fuzz", options);
    // A file called safe has no finding of severity high or critical.
    assert!(!file.safe || file.findings.iter().all(|f| f.severity < modelgate::evidence::Severity::High));
});
