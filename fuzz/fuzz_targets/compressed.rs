//! Every decoder of compressed streams on arbitrary bytes: decompressed within the bound,
//! or refused with a reason; never a panic, never more output than the bound.

#![no_main]

use libfuzzer_sys::fuzz_target;
use modelgate::artifacts::formats::compressed::decompress;

fuzz_target!(|data: &[u8]| {
    for codec in ["zlib", "gzip", "bz2", "xz", "lzma", "lz4", "zstd"] {
        if let Ok(out) = decompress(codec, data, data.len() as u64, 1 << 20) {
            assert!(out.bytes.len() <= 1 << 20);
        }
    }
});
