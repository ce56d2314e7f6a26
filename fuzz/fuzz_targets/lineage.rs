//! The lineage readers (dvc.lock, OpenLineage events, the manifest) on arbitrary
//! text: a lineage or an error, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use modelgate::data::lineage::{self, LineageSpec, SourceFormat};

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let path = common::scratch("lineage", data);
    let training = common::scratch("train.csv", b"a\n1\n");
    for format in [None, Some(SourceFormat::Dvc), Some(SourceFormat::Openlineage), Some(SourceFormat::Manifest)] {
        let spec = LineageSpec {
            path: path.clone(),
            format,
            training: training.clone(),
            training_display: "train.csv".into(),
        };
        let _ = lineage::trace(&spec);
    }
});
