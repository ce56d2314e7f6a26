//! TensorFlow SavedModel (`saved_model.pb`): the operations its graphs would run, read
//! statically with the wire reader of [`super::protobuf`] (SavedModel → MetaGraphDef →
//! GraphDef → NodeDef `op`, and every FunctionDef of the graph's FunctionDefLibrary).
//!
//! A TensorFlow graph is a program: a few operations reach outside the tensor computation.
//! The peers flag ReadFile and WriteFile (modelscan's `unsafe_tf_operators`; TensorFlow's
//! own `saved_model_cli scan` adds PrintV2). Here, by what the operation can do:
//! - critical: operations that call back into Python ([`PYTHON_OPS`]);
//! - high: operations that read, write, list or map files, or send data out
//!   ([`IO_OPS`]), and checkpoint save/restore operations ([`CHECKPOINT_OPS`]) outside the
//!   saver that every SavedModel carries (TF2: the functions `__inference__traced_save_*`
//!   and `__inference__traced_restore_*`; TF1: the `save/` name scope of the main graph).

use std::collections::BTreeMap;
use std::io::{Read, Seek};

use super::protobuf::{Value, Wire};
use super::FormatReport;
use crate::evidence::Severity;

/// Operations that run Python functions registered by the process that loads the graph.
pub const PYTHON_OPS: &[&str] = &["PyFunc", "PyFuncStateless", "EagerPyFunc"];

/// Operations that touch the file system or send data out of the process.
pub const IO_OPS: &[&str] = &[
    "ReadFile",
    "WriteFile",
    "MatchingFiles",
    "MatchingFilesDataset",
    "PrintV2",
    "ImmutableConst",
    "WholeFileReader",
    "WholeFileReaderV2",
    "TextLineReader",
    "TextLineReaderV2",
    "FixedLengthRecordReader",
    "FixedLengthRecordReaderV2",
    "TFRecordReader",
    "TFRecordReaderV2",
    "LMDBReader",
    "TextLineDataset",
    "TFRecordDataset",
    "TFRecordDatasetV2",
    "FixedLengthRecordDataset",
    "FixedLengthRecordDatasetV2",
    "DatasetToTFRecord",
    "ExperimentalDatasetToTFRecord",
    "SaveDataset",
    "SaveDatasetV2",
    "LoadDataset",
    "CreateSummaryFileWriter",
    "WriteSummary",
    "WriteRawProtoSummary",
    "DebugIdentity",
    "DebugIdentityV2",
    "DebugIdentityV3",
    "LoadAndRemapMatrix",
    "FileSystemSetConfiguration",
];

/// Checkpoint operations: standard inside the SavedModel's own saver, file access elsewhere.
pub const CHECKPOINT_OPS: &[&str] =
    &["Save", "SaveV2", "SaveSlices", "Restore", "RestoreV2", "RestoreSlice", "MergeV2Checkpoints"];

/// Where an operation was found: the main graph or a function.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Place {
    Graph,
    Function(String),
}

#[derive(Default)]
struct Model {
    schema_version: Option<u64>,
    meta_graphs: u64,
    nodes: u64,
    functions: u64,
    /// (op, place) → node names (a few kept).
    flagged: BTreeMap<(String, Place), Vec<String>>,
}

/// Checks a `saved_model.pb` of `len` bytes.
pub fn check_savedmodel(reader: impl Read + Seek, len: u64) -> FormatReport {
    let mut report = FormatReport::new("tf-savedmodel");
    let mut wire = Wire::new(reader, len);
    let mut model = Model::default();
    let walked = wire.fields(len, 0, |w, field, value, depth| match (field, value) {
        (1, Value::Varint(version)) => {
            model.schema_version = Some(version);
            Ok(())
        }
        (2, v) => {
            model.meta_graphs += 1;
            w.message(v, depth, |w, f, v, d| match f {
                2 => w.message(v, d, |w, f, v, d| graph_def(w, &mut model, f, v, d)),
                _ => Ok(()),
            })
        }
        _ => Ok(()),
    });
    if let Err(why) = walked {
        report.finding(Severity::High, None, format!("not a readable SavedModel: {why}"));
        return report;
    }
    if model.schema_version != Some(1) || model.meta_graphs == 0 {
        report.finding(Severity::High, None, "not a SavedModel: no schema version 1 or no MetaGraphDef");
        return report;
    }
    judge(&model, &mut report);
    report.details = serde_json::json!({
        "meta_graphs": model.meta_graphs,
        "nodes": model.nodes,
        "functions": model.functions,
    });
    report
}

fn judge(model: &Model, report: &mut FormatReport) {
    for ((op, place), names) in &model.flagged {
        let where_ = match place {
            Place::Graph => "the main graph".to_string(),
            Place::Function(name) => format!("function {name:?}"),
        };
        let nodes = names.join(", ");
        if PYTHON_OPS.contains(&op.as_str()) {
            report.executable = true;
            report.finding(
                Severity::Critical,
                None,
                format!("{op} in {where_} (nodes {nodes}): runs a Python function of the loading process"),
            );
        } else if IO_OPS.contains(&op.as_str()) {
            report.finding(
                Severity::High,
                None,
                format!("{op} in {where_} (nodes {nodes}): reads, writes or lists files, or sends data out"),
            );
        } else {
            report.finding(
                Severity::High,
                None,
                format!("{op} in {where_} (nodes {nodes}): checkpoint file access outside the SavedModel's own saver"),
            );
        }
    }
}

/// Whether a checkpoint operation is the SavedModel's own saver.
fn standard_saver(place: &Place, node: &str) -> bool {
    match place {
        Place::Function(name) => {
            name.starts_with("__inference__traced_save_") || name.starts_with("__inference__traced_restore_")
        }
        Place::Graph => {
            let scope = node.split('/').next().unwrap_or("");
            node.contains('/')
                && (scope == "save"
                    || scope.strip_prefix("save_").is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit())))
        }
    }
}

fn graph_def<R: Read + Seek>(
    w: &mut Wire<R>,
    model: &mut Model,
    field: u32,
    value: Value,
    depth: usize,
) -> Result<(), String> {
    match field {
        1 => node_def(w, model, value, depth, &Place::Graph),
        // FunctionDefLibrary: function (1).
        2 => w.message(value, depth, |w, f, v, d| if f == 1 { function_def(w, model, v, d) } else { Ok(()) }),
        _ => Ok(()),
    }
}

fn function_def<R: Read + Seek>(w: &mut Wire<R>, model: &mut Model, value: Value, depth: usize) -> Result<(), String> {
    model.functions += 1;
    // The signature (OpDef, field 1) comes first in what TensorFlow writes, but the wire
    // allows any order: nodes are kept until the name is known.
    let mut name = String::new();
    let mut nodes: Vec<(String, String)> = Vec::new();
    w.message(value, depth, |w, f, v, d| match f {
        1 => w.message(v, d, |w, f, v, _| {
            if f == 1 {
                name = w.text(v)?.unwrap_or_else(|| "(a name too long to keep)".into());
            }
            Ok(())
        }),
        3 => {
            let (op, node) = read_node(w, v, d)?;
            model.nodes += 1;
            if flagged(&op) {
                nodes.push((op, node));
            }
            Ok(())
        }
        _ => Ok(()),
    })?;
    let place = Place::Function(name);
    for (op, node) in nodes {
        flag(model, op, node, &place);
    }
    Ok(())
}

fn node_def<R: Read + Seek>(
    w: &mut Wire<R>,
    model: &mut Model,
    value: Value,
    depth: usize,
    place: &Place,
) -> Result<(), String> {
    let (op, node) = read_node(w, value, depth)?;
    model.nodes += 1;
    if flagged(&op) {
        flag(model, op, node, place);
    }
    Ok(())
}

/// A NodeDef's (op, name).
fn read_node<R: Read + Seek>(w: &mut Wire<R>, value: Value, depth: usize) -> Result<(String, String), String> {
    let (mut op, mut name) = (String::new(), String::new());
    w.message(value, depth, |w, f, v, _| {
        match f {
            1 => name = w.text(v)?.unwrap_or_else(|| "(a name too long to keep)".into()),
            2 => op = w.text(v)?.unwrap_or_else(|| "(an op name too long to keep)".into()),
            _ => {}
        }
        Ok(())
    })?;
    Ok((op, name))
}

fn flagged(op: &str) -> bool {
    PYTHON_OPS.contains(&op) || IO_OPS.contains(&op) || CHECKPOINT_OPS.contains(&op)
}

fn flag(model: &mut Model, op: String, node: String, place: &Place) {
    if CHECKPOINT_OPS.contains(&op.as_str()) && standard_saver(place, &node) {
        return;
    }
    let names = model.flagged.entry((op, place.clone())).or_default();
    if names.len() < 5 {
        names.push(node);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_savers_own_checkpoint_ops_are_standard() {
        let save = Place::Function("__inference__traced_save_123".into());
        assert!(standard_saver(&save, "SaveV2"));
        assert!(standard_saver(&Place::Graph, "save/RestoreV2"));
        assert!(standard_saver(&Place::Graph, "save_1/SaveV2"));
        assert!(!standard_saver(&Place::Graph, "SaveV2"));
        assert!(!standard_saver(&Place::Graph, "saver/SaveV2"));
        assert!(!standard_saver(&Place::Function("__inference_call_5".into()), "SaveV2"));
    }
}
