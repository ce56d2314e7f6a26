//! GGUF chat templates analysed as Jinja (`formats/jinja.rs`): minijinja's parser, the
//! constant folding and the walk, on arbitrary text. Findings or none, never a panic, a
//! stack overflow or a blow-up of folded values.

#![no_main]

use libfuzzer_sys::fuzz_target;
use modelgate::artifacts::formats::jinja::analyze;

fuzz_target!(|data: &[u8]| {
    let template = String::from_utf8_lossy(data);
    for finding in analyze(&template) {
        assert!(!finding.why.is_empty());
    }
});
