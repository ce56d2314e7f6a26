//! A policy repository's structured files on arbitrary text: data.yaml (read strictly,
//! checked against the built-in library's data.schema.json and its declared
//! environments), exceptions.yaml (with its limits), and the strict reader itself on
//! JSON and YAML. Each gives a value or an error naming the file and the key, never a
//! panic, a hang or unbounded memory (deep nesting is refused before the YAML parser
//! runs).

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use modelgate::error::ErrorKind;
use modelgate::policy::bundle::{Bundle, BundleFile, FileKind, DATA_SCHEMA_FILE};
use modelgate::policy::data::PolicyData;
use modelgate::strict::{self, Source, Syntax};

const SCHEMA: &str = include_str!("../../policies/data.schema.json");

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let source = Source::new(Path::new("fuzz"), "the input", ErrorKind::Config);
    let _ = strict::parse(text, Syntax::Json, &source);
    let _ = strict::parse(text, Syntax::Yaml, &source);
    let files = vec![
        BundleFile { path: "data.yaml".into(), contents: text.into(), kind: FileKind::Data },
        BundleFile { path: DATA_SCHEMA_FILE.into(), contents: SCHEMA.into(), kind: FileKind::DataSchema },
    ];
    let bundle = Bundle::from_files("fuzz", None, files);
    let environments = match PolicyData::load(&bundle) {
        Ok(data) => data.environments,
        Err(_) => vec!["production".to_string()],
    };
    let _ = modelgate::policy::exceptions::parse(text, Path::new("exceptions.yaml"), &environments);
});
