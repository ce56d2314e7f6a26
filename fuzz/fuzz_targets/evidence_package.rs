//! Evidence packages on arbitrary bytes (`src/run/package.rs`): the bounded zip reading,
//! the strict manifest, the entry, the chain segment, the checkpoint and the attestation
//! checks must give a verification (passed or not) or an error, never a panic; and
//! arbitrary bytes must never verify.

#![no_main]

use libfuzzer_sys::fuzz_target;
use modelgate::run::package::verify_bytes;

fuzz_target!(|data: &[u8]| {
    if let Ok(verification) = verify_bytes("fuzz.zip", data, None, None) {
        // Without a key or an anchor nothing vouches for a package.
        assert!(!verification.ok(), "arbitrary bytes verified");
    }
});
