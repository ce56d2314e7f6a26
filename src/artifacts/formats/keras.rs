//! Keras models: the architecture JSON of a `.keras` zip (`config.json`) and of a legacy
//! `.h5` file (the root group's `model_config` attribute), judged for what loading them
//! can run.
//!
//! - A `Lambda` layer carries its function as marshalled Python bytecode (or names one):
//!   loading the model with `safe_mode=False`, or any legacy `.h5` load, runs it. Critical,
//!   naming the layer.
//! - A serialized object whose `module` is not Keras' own (`keras`, `keras.*`, `keras_hub`…
//!   are not trusted either: only `keras` and its submodules) makes the loader import that
//!   module and fetch the named attribute: custom layers run their package's code, and a
//!   `builtins`/`os`/`subprocess` function is the known bypass of `safe_mode`
//!   (CVE-2025-1550, CVE-2025-8747). High, or critical for modules that run commands or code.
//!
//! HDF5 is read without an HDF5 implementation: attribute values are stored uncompressed
//! (in the object header, or in the global heap for variable-length strings), so the JSON
//! text is found by searching the file for `{"class_name"` and `{"module"` and parsing a
//! JSON object at each hit that is not inside one already parsed. Every config found is
//! judged, so a decoy config cannot hide the real one. Limits, each of which makes the file
//! unsafe rather than passing it: no config found (weights-only files are reported as
//! such only inside a `.keras` zip); a config longer than [`MAX_CONFIG`]; dense attribute
//! storage in a fractal heap with I/O filters (which could compress the real config out of
//! sight) — see `docs/model-formats.md`.

use std::io::{Read, Seek, SeekFrom};

use super::FormatReport;
use crate::evidence::Severity;

/// The longest architecture JSON read.
pub const MAX_CONFIG: u64 = 64 << 20;

/// Modules whose functions run commands or code: a serialized reference to one is critical.
const CODE_MODULES: &[&str] = &[
    "builtins",
    "os",
    "posix",
    "nt",
    "subprocess",
    "sys",
    "runpy",
    "importlib",
    "shutil",
    "pickle",
    "marshal",
    "code",
];

/// Judges the architecture JSON of a `.keras` zip (`config.json`).
pub fn check_keras_config(json: &[u8]) -> FormatReport {
    let mut report = FormatReport::new("keras");
    match serde_json::from_slice::<serde_json::Value>(json) {
        Ok(config) => judge(&config, &mut report, None),
        Err(error) => report.finding(Severity::High, None, format!("config.json is not JSON: {error}")),
    }
    report
}

/// Judges a legacy Keras HDF5 file: every model config found in it.
pub fn check_keras_h5(reader: &mut (impl Read + Seek), len: u64) -> FormatReport {
    let mut report = FormatReport::new("keras-h5");
    let mut configs = 0;
    let mut covered_until = 0u64;
    let mut at = 0u64;
    let mut chunk = vec![0u8; CHUNK];
    let mut filtered_heap = false;
    let mut tried = 0;
    while at < len {
        let read = match read_chunk(reader, at, &mut chunk, len) {
            Ok(read) => read,
            Err(error) => {
                report.finding(Severity::High, Some(at), format!("cannot be read: {error}"));
                return report;
            }
        };
        let window = &chunk[..read];
        for start in candidates(window) {
            let offset = at + start as u64;
            if offset < covered_until {
                continue;
            }
            tried += 1;
            if tried > MAX_CANDIDATES {
                report.finding(
                    Severity::High,
                    Some(offset),
                    format!("more than {MAX_CANDIDATES} places that start like a Keras config: not all were read"),
                );
                return report;
            }
            match config_at(reader, offset, len) {
                Ok(Some((config, consumed))) => {
                    covered_until = offset + consumed;
                    configs += 1;
                    judge(&config, &mut report, Some(offset));
                }
                Ok(None) => {}
                Err(why) => report.finding(Severity::High, Some(offset), why),
            }
        }
        filtered_heap |= has_filtered_fractal_heap(window);
        if at + read as u64 >= len {
            break;
        }
        // Overlap the chunks so that a marker across the boundary is found.
        at += (read - OVERLAP) as u64;
    }
    if filtered_heap {
        report.finding(
            Severity::High,
            None,
            "dense attribute storage with I/O filters (a compressed fractal heap): attributes in it cannot be read \
             without decompressing HDF5 structures, so a model config could hide there",
        );
    }
    if configs == 0 {
        report.finding(
            Severity::High,
            None,
            "no Keras model config found (no `model_config` JSON): what loading this HDF5 file builds cannot be checked",
        );
    }
    report.details = serde_json::json!({ "configs": configs });
    report
}

const CHUNK: usize = 8 << 20;
/// Most places that look like the start of a config that are parsed.
const MAX_CANDIDATES: usize = 10_000;
const OVERLAP: usize = 64;

fn read_chunk(reader: &mut (impl Read + Seek), at: u64, chunk: &mut [u8], len: u64) -> std::io::Result<usize> {
    reader.seek(SeekFrom::Start(at))?;
    let want = (len - at).min(chunk.len() as u64) as usize;
    reader.read_exact(&mut chunk[..want])?;
    Ok(want)
}

/// Offsets in `window` where a Keras config object may start.
fn candidates(window: &[u8]) -> Vec<usize> {
    const MARKERS: [&[u8]; 2] = [b"{\"class_name\"", b"{\"module\""];
    let mut found: Vec<usize> = window
        .windows(MARKERS[0].len().min(MARKERS[1].len()))
        .enumerate()
        .filter(|(_, bytes)| bytes[0] == b'{')
        .map(|(start, _)| start)
        .filter(|&start| MARKERS.iter().any(|marker| window[start..].starts_with(marker)))
        .collect();
    found.dedup();
    found
}

/// Parses the JSON object at `offset`: the config and how many bytes it spans, or `None`
/// when the text there is not a JSON object after all.
fn config_at(
    reader: &mut (impl Read + Seek),
    offset: u64,
    len: u64,
) -> Result<Option<(serde_json::Value, u64)>, String> {
    let want = (len - offset).min(MAX_CONFIG);
    reader.seek(SeekFrom::Start(offset)).map_err(|error| format!("cannot be read: {error}"))?;
    // Read as far as the parser needs: text that is not JSON stops it within a few bytes.
    let text = std::io::BufReader::new(reader.by_ref().take(want));
    let mut stream = serde_json::Deserializer::from_reader(text).into_iter::<serde_json::Value>();
    match stream.next() {
        Some(Ok(value)) if value.is_object() => Ok(Some((value, stream.byte_offset() as u64))),
        Some(Err(error)) if error.is_eof() && want == MAX_CONFIG => Err(format!(
            "a Keras config at byte {offset} is longer than the {MAX_CONFIG} bytes read, so it cannot be checked"
        )),
        _ => Ok(None),
    }
}

/// A fractal heap header ("FRHP", version 0) whose I/O filter length is not zero.
fn has_filtered_fractal_heap(window: &[u8]) -> bool {
    window.windows(9).any(|bytes| bytes.starts_with(b"FRHP") && bytes[4] == 0 && (bytes[7] != 0 || bytes[8] != 0))
}

/// Walks a config: every object with a `class_name` is a serialized Keras object.
fn judge(value: &serde_json::Value, report: &mut FormatReport, offset: Option<u64>) {
    match value {
        serde_json::Value::Array(items) => items.iter().for_each(|item| judge(item, report, offset)),
        serde_json::Value::Object(object) => {
            let class = object.get("class_name").and_then(|c| c.as_str());
            let config = object.get("config");
            let layer = config.and_then(|c| c.get("name")).and_then(|n| n.as_str()).unwrap_or("(unnamed)");
            if class == Some("Lambda") {
                report.executable = true;
                report.finding(
                    Severity::Critical,
                    offset,
                    format!("Lambda layer {layer:?}: its function is Python code (marshalled bytecode or a named function) that loading runs"),
                );
            }
            if let (Some(class), Some(module)) = (class, object.get("module").and_then(|m| m.as_str())) {
                let root = module.split('.').next().unwrap_or(module);
                if root != "keras" {
                    report.executable = true;
                    let registered = object.get("registered_name").and_then(|r| r.as_str()).unwrap_or("none");
                    let severity = if CODE_MODULES.contains(&root) { Severity::Critical } else { Severity::High };
                    report.finding(
                        severity,
                        offset,
                        format!(
                            "custom object {module}.{class} (registered name {registered}): loading imports module \
                             {module:?} and runs its code"
                        ),
                    );
                }
            }
            object.values().for_each(|item| judge(item, report, offset));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_and_foreign_modules_are_found() {
        let config = br#"{"module": "keras", "class_name": "Sequential", "config": {"layers": [
            {"module": "keras.layers", "class_name": "Dense", "config": {"name": "d"}, "registered_name": null},
            {"module": "keras.layers", "class_name": "Lambda", "config": {"name": "double"}},
            {"module": "builtins", "class_name": "function", "config": "exec", "registered_name": "function"},
            {"module": "my_package.layers", "class_name": "Mine", "config": {"name": "m"}, "registered_name": "Custom>Mine"}
        ]}}"#;
        let report = check_keras_config(config);
        let whys: Vec<(&str, Severity)> = report.findings.iter().map(|f| (f.why.as_str(), f.severity)).collect();
        assert_eq!(whys.len(), 3, "{whys:#?}");
        assert!(whys[0].0.starts_with("Lambda layer \"double\"") && whys[0].1 == Severity::Critical);
        assert!(whys[1].0.starts_with("custom object builtins.function") && whys[1].1 == Severity::Critical);
        assert!(whys[2].0.starts_with("custom object my_package.layers.Mine") && whys[2].1 == Severity::High);
    }

    #[test]
    fn h5_configs_are_found_in_the_bytes_and_decoys_do_not_hide_others() {
        let mut file = b"\x89HDF\r\n\x1a\n....".to_vec();
        file.extend_from_slice(br#"{"class_name": "Sequential", "config": {"layers": []}}"#);
        file.extend_from_slice(b"\0\0 padding \0");
        file.extend_from_slice(br#"{"class_name": "Lambda", "config": {"name": "x"}}"#);
        let report = check_keras_h5(&mut std::io::Cursor::new(&file), file.len() as u64);
        assert_eq!(report.details["configs"], 2);
        assert_eq!(report.findings.len(), 1, "{:#?}", report.findings);
        let none = b"\x89HDF\r\n\x1a\n no config here".to_vec();
        let report = check_keras_h5(&mut std::io::Cursor::new(&none), none.len() as u64);
        assert!(report.findings[0].why.starts_with("no Keras model config found"));
    }
}
