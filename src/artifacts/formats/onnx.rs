//! ONNX models (`ModelProto`), read statically with the wire reader of [`super::protobuf`]:
//! the operator domains the model imports and uses, and where its external data lives.
//!
//! An ONNX file holds no code, but two things in it reach outside the model:
//! - an operator in a domain outside the standard ones ([`STANDARD_DOMAINS`]) runs only when
//!   the runtime has loaded a custom operator library, native code that the model names
//!   but does not carry (onnxruntime-extensions' `ai.onnx.contrib` domain even runs Python
//!   functions registered at load time): a high finding naming the domain and operators.
//!   Model-local functions (`ModelProto.functions`) are not custom operators: their nodes
//!   are checked instead.
//! - a tensor whose data is external (`external_data` key `location`) is read from a path
//!   relative to the model's folder; an absolute path, a `..` component, a drive letter or a
//!   backslash can make the runtime read any file: critical.
//!
//! Subgraphs (If/Loop/Scan bodies in attributes), training graphs and functions are walked
//! too. Weights are skipped, never read, so memory is bounded whatever the file's size.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Seek};

use super::protobuf::{Value, Wire};
use super::FormatReport;
use crate::evidence::Severity;

/// The operator domains an ONNX runtime implements itself: the ONNX standard ones and
/// onnxruntime's contrib operators.
pub const STANDARD_DOMAINS: &[&str] =
    &["", "ai.onnx", "ai.onnx.ml", "ai.onnx.training", "ai.onnx.preview.training", "com.microsoft"];

/// What the walk collects.
#[derive(Default)]
struct Model {
    ir_version: Option<u64>,
    opsets: Vec<(String, u64)>,
    /// Operator types used, per domain.
    operators: BTreeMap<String, BTreeSet<String>>,
    /// Model-local functions, as (domain, name).
    functions: BTreeSet<(String, String)>,
    /// (tensor name, every `location` it gives) of each tensor with external data; a
    /// location too long to keep is `None`.
    external: Vec<(String, Vec<Option<String>>)>,
    nodes: u64,
    has_graph: bool,
}

/// Checks an ONNX model of `len` bytes.
pub fn check_onnx(reader: impl Read + Seek, len: u64) -> FormatReport {
    let mut report = FormatReport::new("onnx");
    let mut wire = Wire::new(reader, len);
    let mut model = Model::default();
    if let Err(why) = wire.fields(len, 0, |w, field, value, depth| model_field(w, &mut model, field, value, depth)) {
        report.finding(Severity::High, None, format!("not a readable ONNX model: {why}"));
        return report;
    }
    if model.ir_version.is_none() || !model.has_graph {
        report.finding(Severity::High, None, "not an ONNX model: no ir_version or no graph");
        return report;
    }
    judge(&model, &mut report);
    report.details = serde_json::json!({
        "ir_version": model.ir_version,
        "opset_import": model.opsets.iter().map(|(d, v)| serde_json::json!({"domain": d, "version": v})).collect::<Vec<_>>(),
        "nodes": model.nodes,
        "external_data": model.external.len(),
    });
    report
}

fn judge(model: &Model, report: &mut FormatReport) {
    let local_domains: BTreeSet<&str> = model.functions.iter().map(|(domain, _)| domain.as_str()).collect();
    let standard = |domain: &str| STANDARD_DOMAINS.contains(&domain);
    for (domain, version) in &model.opsets {
        if !standard(domain) && !local_domains.contains(domain.as_str()) && !model.operators.contains_key(domain) {
            report.finding(
                Severity::High,
                None,
                format!("imports the custom operator domain {domain:?} (version {version}), which needs a custom operator library"),
            );
        }
    }
    for (domain, operators) in &model.operators {
        let custom: Vec<&str> = operators
            .iter()
            .filter(|op| !standard(domain) && !model.functions.contains(&(domain.clone(), (*op).clone())))
            .map(String::as_str)
            .collect();
        if !custom.is_empty() {
            report.finding(
                Severity::High,
                None,
                format!(
                    "uses operators of the custom domain {domain:?} ({}): they run native code from a custom operator \
                     library the runtime must load, which the model does not carry",
                    custom.join(", ")
                ),
            );
        }
    }
    for (tensor, locations) in &model.external {
        if locations.is_empty() {
            report.finding(
                Severity::High,
                None,
                format!(
                    "tensor {tensor:?} has external data without a location: where it is read from cannot be checked"
                ),
            );
        }
        // onnx keeps the last `location` entry, other readers may take another: each is judged.
        for location in locations {
            match location.as_deref() {
                None => report.finding(
                    Severity::High,
                    None,
                    format!("tensor {tensor:?} has an external-data location that cannot be read (empty or too long)"),
                ),
                Some(location) if location.contains("_ORT_MEM_ADDR_") => report.finding(
                    Severity::Critical,
                    None,
                    format!(
                        "tensor {tensor:?} gives the external-data location {location:?}, which onnxruntime reads as \
                         a memory address"
                    ),
                ),
                Some(location) if escapes(location) => report.finding(
                    Severity::Critical,
                    None,
                    format!("tensor {tensor:?} reads its external data from {location:?}, outside the model's folder"),
                ),
                Some(_) => {}
            }
        }
    }
}

/// Whether an external-data location can point outside the model's folder: absolute,
/// `..`, a Windows drive or UNC prefix, or a backslash (read as a separator on Windows).
fn escapes(location: &str) -> bool {
    location.is_empty()
        || location.starts_with('/')
        || location.contains('\\')
        || location.contains('\0')
        || location.as_bytes().get(1) == Some(&b':')
        || location.split('/').any(|part| part == "..")
}

type Visit = Result<(), String>;

fn model_field<R: Read + Seek>(w: &mut Wire<R>, model: &mut Model, field: u32, value: Value, depth: usize) -> Visit {
    match (field, value) {
        (1, Value::Varint(version)) => model.ir_version = Some(version),
        (8, v) => opset(w, model, v, depth)?,
        (7, v) => {
            model.has_graph = true;
            w.message(v, depth, |w, f, v, d| graph_field(w, model, f, v, d))?;
        }
        // TrainingInfoProto: initialization (1) and algorithm (2) graphs.
        (20, v) => w.message(v, depth, |w, f, v, d| match f {
            1 | 2 => w.message(v, d, |w, f, v, d| graph_field(w, model, f, v, d)),
            _ => Ok(()),
        })?,
        (25, v) => function(w, model, v, depth)?,
        _ => {}
    }
    Ok(())
}

fn opset<R: Read + Seek>(w: &mut Wire<R>, model: &mut Model, value: Value, depth: usize) -> Visit {
    let (mut domain, mut version) = (String::new(), 0);
    w.message(value, depth, |w, f, v, _| {
        match (f, v) {
            (1, v) => domain = w.text(v)?.unwrap_or_else(|| "(a domain name too long to keep)".into()),
            (2, Value::Varint(n)) => version = n,
            _ => {}
        }
        Ok(())
    })?;
    model.opsets.push((domain, version));
    Ok(())
}

fn function<R: Read + Seek>(w: &mut Wire<R>, model: &mut Model, value: Value, depth: usize) -> Visit {
    let (mut name, mut domain) = (String::new(), String::new());
    w.message(value, depth, |w, f, v, d| {
        match f {
            1 => name = w.text(v)?.unwrap_or_default(),
            10 => domain = w.text(v)?.unwrap_or_default(),
            7 => node(w, model, v, d)?,
            11 => attribute(w, model, v, d)?,
            _ => {}
        }
        Ok(())
    })?;
    model.functions.insert((domain, name));
    Ok(())
}

fn graph_field<R: Read + Seek>(w: &mut Wire<R>, model: &mut Model, field: u32, value: Value, depth: usize) -> Visit {
    match field {
        1 => node(w, model, value, depth),
        5 => tensor(w, model, value, depth),
        // SparseTensorProto: values (1) and indices (2) are tensors.
        15 => w.message(value, depth, |w, f, v, d| if f == 1 || f == 2 { tensor(w, model, v, d) } else { Ok(()) }),
        _ => Ok(()),
    }
}

fn node<R: Read + Seek>(w: &mut Wire<R>, model: &mut Model, value: Value, depth: usize) -> Visit {
    let (mut op_type, mut domain) = (String::new(), String::new());
    w.message(value, depth, |w, f, v, d| {
        match f {
            4 => op_type = w.text(v)?.unwrap_or_else(|| "(an operator name too long to keep)".into()),
            7 => domain = w.text(v)?.unwrap_or_else(|| "(a domain name too long to keep)".into()),
            5 => attribute(w, model, v, d)?,
            _ => {}
        }
        Ok(())
    })?;
    model.nodes += 1;
    model.operators.entry(domain).or_default().insert(op_type);
    Ok(())
}

fn attribute<R: Read + Seek>(w: &mut Wire<R>, model: &mut Model, value: Value, depth: usize) -> Visit {
    w.message(value, depth, |w, f, v, d| match f {
        5 | 10 => tensor(w, model, v, d),
        6 | 11 => w.message(v, d, |w, f, v, d| graph_field(w, model, f, v, d)),
        22 | 23 => w.message(v, d, |w, f, v, d| if f == 1 || f == 2 { tensor(w, model, v, d) } else { Ok(()) }),
        _ => Ok(()),
    })
}

fn tensor<R: Read + Seek>(w: &mut Wire<R>, model: &mut Model, value: Value, depth: usize) -> Visit {
    let mut name = String::new();
    let mut locations = Vec::new();
    let mut external = false;
    w.message(value, depth, |w, f, v, d| {
        match (f, v) {
            (8, v) => name = w.text(v)?.unwrap_or_default(),
            (14, Value::Varint(1)) => external = true,
            (13, v) => {
                let (mut key, mut text) = (None, None);
                w.message(v, d, |w, f, v, _| {
                    match f {
                        1 => key = w.text(v)?,
                        2 => text = Some(w.text(v)?),
                        _ => {}
                    }
                    Ok(())
                })?;
                if key.as_deref() == Some("location") {
                    locations.push(text.flatten());
                }
                external = true;
            }
            _ => {}
        }
        Ok(())
    })?;
    if external {
        model.external.push((name, locations));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_that_leave_the_folder() {
        for bad in ["/etc/passwd", "../weights.bin", "a/../../b", "C:\\x", "c:/x", "a\\..\\b", "", "\\\\server\\share"]
        {
            assert!(escapes(bad), "{bad}");
        }
        for good in ["weights.bin", "data/w.bin", "a..b", "..weights"] {
            assert!(!escapes(good), "{good}");
        }
    }
}
