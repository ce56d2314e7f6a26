//! HDF5 files as the scanner reads them: the superblock found after a user block
//! (`scan.rs`), and the Keras config search with escaped keys and configs that do not parse
//! (`formats/keras.rs`). The fuzzer's bytes are placed after a 512-byte user block and also
//! read at offset 0, so both detections are reached. A verdict, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use modelgate::artifacts::formats::check_keras_h5;
use modelgate::artifacts::pickle::GlobalsPolicy;
use modelgate::artifacts::scan::{scan_bytes, ScanOptions};

fuzz_target!(|data: &[u8]| {
    let options = ScanOptions { policy: GlobalsPolicy::Allow, max_pickle_bytes: 8 << 20, max_nested_bytes: 16 << 20 };
    let mut after_block = vec![b'u'; 512];
    after_block.extend_from_slice(data);
    for bytes in [data, &after_block[..]] {
        let file = scan_bytes(bytes, "fuzz.h5", options);
        assert!(!file.safe || file.findings.iter().all(|f| f.severity < modelgate::evidence::Severity::High));
    }
    let report = check_keras_h5(&mut std::io::Cursor::new(data), data.len() as u64);
    assert!(report.findings.iter().all(|f| !f.why.is_empty()));
});
