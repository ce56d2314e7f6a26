//! The ONNX and SavedModel readers (protobuf wire format) and the Keras config search on
//! arbitrary bytes: a report, never a panic, whatever lengths and nesting they claim.

#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use modelgate::artifacts::formats::{check_keras_config, check_keras_h5, check_onnx, check_savedmodel};

fuzz_target!(|data: &[u8]| {
    let len = data.len() as u64;
    for report in [
        check_onnx(Cursor::new(data), len),
        check_savedmodel(Cursor::new(data), len),
        check_keras_h5(&mut Cursor::new(data), len),
        check_keras_config(data),
    ] {
        assert!(!report.safe() || report.findings.is_empty());
    }
});
