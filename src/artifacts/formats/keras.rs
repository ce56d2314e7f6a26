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
    "operator",
    "functools",
    "ctypes",
    "pty",
    "webbrowser",
    "socket",
    "urllib",
    "http",
    "requests",
    "io",
    "pathlib",
    "tempfile",
    "multiprocessing",
    "asyncio",
    "timeit",
    "pdb",
    "dill",
    "cloudpickle",
    "joblib",
    "yaml",
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
    let mut names_a_config = false;
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
        for (start, keras_key) in candidates(window) {
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
                    configs += usize::from(has_class_name(&config));
                    judge(&config, &mut report, Some(offset));
                }
                Ok(None) => {}
                // Only text that starts like a Keras object is one: other `{"` in binary data
                // often do not parse.
                Err(why) if keras_key => report.finding(Severity::High, Some(offset), why),
                Err(_) => {}
            }
        }
        filtered_heap |= has_filtered_fractal_heap(window);
        names_a_config |= window.windows(CONFIG_ATTRIBUTE.len()).any(|bytes| bytes == CONFIG_ATTRIBUTE);
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
    if configs == 0 && names_a_config {
        report.finding(
            Severity::High,
            None,
            "an attribute named `model_config` but no Keras model config readable in the file: what loading it \
             builds cannot be checked",
        );
    } else if configs == 0 {
        // No Keras config and no attribute that would hold one: an h5py data file, which
        // Keras cannot load as a model and h5py reads without deserializing anything.
        report.format = "hdf5";
    }
    report.details = serde_json::json!({ "configs": configs });
    report
}

/// The name of the root attribute Keras' legacy loader reads the architecture from.
const CONFIG_ATTRIBUTE: &[u8] = b"model_config";

const CHUNK: usize = 8 << 20;
/// Most places that look like the start of a config that are parsed.
const MAX_CANDIDATES: usize = 100_000;
const OVERLAP: usize = 64;

fn read_chunk(reader: &mut (impl Read + Seek), at: u64, chunk: &mut [u8], len: u64) -> std::io::Result<usize> {
    reader.seek(SeekFrom::Start(at))?;
    let want = (len - at).min(chunk.len() as u64) as usize;
    reader.read_exact(&mut chunk[..want])?;
    Ok(want)
}

/// Offsets in `window` where a JSON object may start: a `{`, any whitespace, and a first key
/// that is a whole JSON string. Python's json takes keys in any order, so a Keras object may
/// start with any key (`{"config": …, "class_name": "Lambda"}`); with each offset, whether
/// its first key, once its escapes are decoded, is one only Keras objects start with
/// (`{"\u0063lass_name"` is `class_name`): text there that does not parse is a finding.
fn candidates(window: &[u8]) -> Vec<(usize, bool)> {
    const KEYS: [&str; 4] = ["class_name", "module", "registered_name", "config"];
    let mut found = Vec::new();
    for (start, _) in window.iter().enumerate().filter(|(_, b)| **b == b'{') {
        let rest = &window[start + 1..];
        let Some(quote) = rest.iter().position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r')) else {
            continue;
        };
        if rest[quote] != b'"' {
            continue;
        }
        let key = &rest[quote..];
        // The key's closing quote: the first `"` not escaped.
        let mut end = None;
        let mut escaped = false;
        for (i, b) in key.iter().enumerate().skip(1).take(MAX_KEY) {
            match (escaped, b) {
                (false, b'\\') => escaped = true,
                (false, b'"') => {
                    end = Some(i);
                    break;
                }
                _ => escaped = false,
            }
        }
        let Some(end) = end else { continue };
        if let Ok(key) = serde_json::from_slice::<String>(&key[..=end]) {
            found.push((start, KEYS.contains(&key.as_str())));
        }
    }
    found
}

/// The longest first key a candidate object is read with.
const MAX_KEY: usize = 4096;

/// Whether a JSON value holds a serialized Keras object (a `class_name`) at any depth.
fn has_class_name(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Object(object) => object.contains_key("class_name") || object.values().any(has_class_name),
        serde_json::Value::Array(items) => items.iter().any(has_class_name),
        _ => false,
    }
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
        // It starts like a config (its first key is one) but is not strict JSON: Python's
        // json also reads NaN, Infinity and lone surrogates, so Keras may read it.
        Some(Err(error)) if !error.is_eof() => Err(format!(
            "text at byte {offset} starts like a Keras config but does not parse as JSON ({error}); Python's json \
             may still read it, so it cannot be checked"
        )),
        _ => Ok(None),
    }
}

/// A fractal heap header ("FRHP", version 0) whose I/O filter length is not zero.
fn has_filtered_fractal_heap(window: &[u8]) -> bool {
    window.windows(9).any(|bytes| bytes.starts_with(b"FRHP") && bytes[4] == 0 && (bytes[7] != 0 || bytes[8] != 0))
}

/// Module roots Keras itself resolves (Keras 3.9+ imports nothing else; tf-keras files
/// name `tf_keras`): a class from them is no custom code, though the rules below on what
/// the class or function does still apply.
const KERAS_ROOTS: &[&str] = &["keras", "keras_hub", "keras_cv", "keras_nlp", "tf_keras"];

/// Keras functions a config can name (as a Lambda's function, an activation, a class
/// path) that load files, other models or switch safe mode off: CVE-2025-8747 (`get_file`),
/// CVE-2025-9906 (`enable_unsafe_deserialization`, `set_global_attribute`), and the
/// loading and writing APIs Keras 3.15 refuses (`NON_MODELING_APIS`).
const GADGETS: &[&str] = &[
    "get_file",
    "enable_unsafe_deserialization",
    "set_global_attribute",
    "load_model",
    "load_weights",
    "model_from_json",
    "model_from_config",
    "model_from_yaml",
    "deserialize_keras_object",
    "save_model",
    "save_weights",
    "load_img",
    "save_img",
    "image_dataset_from_directory",
    "text_dataset_from_directory",
    "audio_dataset_from_directory",
    "register_keras_serializable",
    "plot_model",
    "plot_image_gallery",
    "clear_session",
];

/// Python builtins that run code or reach the interpreter, named as a Keras function.
const CODE_BUILTINS: &[&str] = &[
    "exec",
    "eval",
    "compile",
    "__import__",
    "open",
    "getattr",
    "setattr",
    "delattr",
    "globals",
    "vars",
    "breakpoint",
    "input",
    "exit",
    "quit",
    "help",
];

/// Walks a config: every object with a `class_name` (any spelling Keras accepts: a bare
/// name, a dotted path, a `registered_name`) is a serialized Keras object, and every value
/// is walked, because Keras deserializes the values of plain dicts too.
fn judge(value: &serde_json::Value, report: &mut FormatReport, offset: Option<u64>) {
    match value {
        serde_json::Value::Array(items) => items.iter().for_each(|item| judge(item, report, offset)),
        serde_json::Value::Object(object) => {
            judge_object(object, report, offset);
            object.values().for_each(|item| judge(item, report, offset));
        }
        _ => {}
    }
}

fn judge_object(object: &serde_json::Map<String, serde_json::Value>, report: &mut FormatReport, offset: Option<u64>) {
    let text = |key: &str| object.get(key).and_then(|v| v.as_str());
    let Some(class) = text("class_name") else { return };
    let config = object.get("config");
    let layer = config.and_then(|c| c.get("name")).and_then(|n| n.as_str()).unwrap_or("(unnamed)");
    let registered = text("registered_name");
    // `keras.layers.Lambda` and `Custom>Lambda` name the class as `Lambda` does.
    let last = |name: &str| name.rsplit(['.', '>']).next().unwrap_or(name).to_string();
    let class_last = last(class);
    let is = |name: &str| class_last == name || registered.is_some_and(|r| last(r) == name);
    // A function reference: `{"class_name": "function", "config": "get_file"}` or the
    // class-path spelling `{"module": "keras.utils", "class_name": "get_file"}`.
    let function =
        if class == "function" { config.and_then(|c| c.as_str()).map(last) } else { Some(class_last.clone()) };
    if is("Lambda") {
        report.executable = true;
        report.finding(
            Severity::Critical,
            offset,
            format!(
                "Lambda layer {layer:?}: its function is Python code (marshalled bytecode) or a named function that \
                 loading runs (CVE-2024-3660, CVE-2025-9905)"
            ),
        );
    } else if class == "__lambda__" {
        report.executable = true;
        report.finding(
            Severity::Critical,
            offset,
            "a serialized Python lambda (`__lambda__`, e.g. as an activation): its marshalled bytecode runs when the \
             model is loaded with safe_mode off (CVE-2024-3660)"
                .to_string(),
        );
    }
    if is("TFSMLayer") || function.as_deref() == Some("TFSMLayer") {
        let path = config.and_then(|c| c.get("filepath")).and_then(|p| p.as_str()).unwrap_or("(no path)");
        report.executable = true;
        report.finding(
            Severity::Critical,
            offset,
            format!("TFSMLayer {layer:?} loads the external SavedModel {path:?}, whose graph runs at inference (CVE-2026-1462)"),
        );
    }
    if is("TorchModuleWrapper") {
        report.executable = true;
        report.finding(
            Severity::Critical,
            offset,
            format!(
                "TorchModuleWrapper {layer:?} carries a pickled torch module that loading unpickles (CVE-2025-49655)"
            ),
        );
    }
    if ["StringLookup", "IntegerLookup", "TextVectorization", "IndexLookup"].iter().any(|name| is(name)) {
        if let Some(path) = config.and_then(|c| c.get("vocabulary")).and_then(|v| v.as_str()) {
            report.finding(
                Severity::High,
                offset,
                format!(
                    "{class_last} {layer:?} reads its vocabulary from the path {path:?} when built (CVE-2025-12058)"
                ),
            );
        }
    }
    if let Some(name) = function.as_deref().filter(|name| GADGETS.contains(name)) {
        report.executable = true;
        report.finding(
            Severity::Critical,
            offset,
            format!(
                "names keras function {name}, which downloads or loads files and models or switches safe mode off \
                 (CVE-2025-8747, CVE-2025-9906)"
            ),
        );
    }
    let Some(module) = text("module") else { return };
    let root = module.split('.').next().unwrap_or(module);
    if KERAS_ROOTS.contains(&root) {
        return;
    }
    let called = config.and_then(|c| c.as_str()).unwrap_or(class);
    let severity = if root == "builtins" && class == "function" {
        // Keras 3 writes a registered custom function as builtins.function with the
        // registry key `package>name`; a bare builtin name is Python's own (CVE-2025-1550).
        if called.contains('>') {
            Severity::High
        } else if CODE_BUILTINS.contains(&called) {
            Severity::Critical
        } else {
            Severity::High
        }
    } else if CODE_MODULES.contains(&root) {
        Severity::Critical
    } else {
        Severity::High
    };
    report.executable = true;
    report.finding(
        severity,
        offset,
        format!(
            "custom object {module}.{class} (registered name {}): loading imports module {module:?} and runs its code \
             (CVE-2025-1550)",
            registered.unwrap_or("none")
        ),
    );
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
        let data = b"\x89HDF\r\n\x1a\n no config here".to_vec();
        let report = check_keras_h5(&mut std::io::Cursor::new(&data), data.len() as u64);
        assert!(report.findings.is_empty() && report.format == "hdf5", "{report:?}");
        let hidden = b"\x89HDF\r\n\x1a\n model_config \x01\x02".to_vec();
        let report = check_keras_h5(&mut std::io::Cursor::new(&hidden), hidden.len() as u64);
        assert!(report.findings[0].why.starts_with("an attribute named `model_config`"), "{report:?}");
    }
}
