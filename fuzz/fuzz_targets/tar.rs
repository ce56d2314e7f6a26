//! Tar archives as the scanner reads them (`scan.rs`, the `tar` crate): members scanned as
//! zip members are, links and special entries, names that leave the folder, members nested
//! in gzip. Mutated headers would fail their checksum and stop being tars, so the target
//! rewrites the checksum of each header it can find before scanning: the fuzzer explores
//! what lies behind the checksum. A verdict, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use modelgate::artifacts::pickle::GlobalsPolicy;
use modelgate::artifacts::scan::{scan_bytes, ScanOptions};

/// Rewrites the octal checksum of every header block found by walking the sizes.
fn fix_checksums(data: &mut [u8]) {
    let mut at = 0usize;
    while at + 512 <= data.len() {
        let block = &mut data[at..at + 512];
        if block.iter().all(|b| *b == 0) {
            break;
        }
        block[148..156].fill(b' ');
        let sum: u32 = block.iter().map(|b| u32::from(*b)).sum();
        let field = format!("{sum:06o}\0 ");
        block[148..156].copy_from_slice(field.as_bytes());
        let size = std::str::from_utf8(&block[124..136])
            .ok()
            .and_then(|s| u64::from_str_radix(s.trim_matches(|c: char| c == '\0' || c == ' '), 8).ok())
            .unwrap_or(0);
        let Some(next) = usize::try_from(size.div_ceil(512).saturating_mul(512)).ok().and_then(|n| at.checked_add(512 + n))
        else {
            break;
        };
        at = next;
    }
}

fuzz_target!(|data: &[u8]| {
    let mut data = data.to_vec();
    fix_checksums(&mut data);
    let options = ScanOptions { policy: GlobalsPolicy::Deny, max_pickle_bytes: 8 << 20, max_nested_bytes: 16 << 20 };
    let file = scan_bytes(&data, "fuzz.tar", options);
    assert!(!file.safe || file.findings.iter().all(|f| f.severity < modelgate::evidence::Severity::High));
});
