//! Zip containers on arbitrary bytes: the directory, the local-header checks and the
//! bounded inflation of every member must give findings or errors, never a panic.

#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use modelgate::artifacts::container::{read_member, read_zip};

fuzz_target!(|data: &[u8]| {
    let mut cursor = Cursor::new(data);
    let report = read_zip(&mut cursor, data.len() as u64);
    for member in &report.members {
        let _ = read_member(&mut cursor, member, 1 << 20);
    }
});
