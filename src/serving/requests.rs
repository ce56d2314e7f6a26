//! The requests file of `modelgate loadtest`: one JSON request body per line (JSON Lines), turned
//! into the exact bytes sent for the chosen protocol.

use std::path::Path;

use serde_json::{json, Map, Value};

use crate::error::{Error, ErrorKind, Result};

/// How each line of the requests file is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Protocol {
    /// POST the line to the URL as it is.
    Json,
    /// Open Inference Protocol (KServe v2): POST to `{url}/v2/models/{model}/infer`, wrapping
    /// feature values into a v2 inference request.
    V2,
}

/// The name of the tensor a line of bare feature values (a JSON array) is sent as.
pub const V2_INPUT_NAME: &str = "input-0";

/// The v2 datatype of JSON numbers in wrapped feature values.
pub const V2_NUMBER_DATATYPE: &str = "FP32";

const LINES_HINT: &str = "the requests file has one JSON request body per line (JSON Lines); blank lines are skipped";

const V2_HINT: &str = "write a v2 inference request object with `inputs` on the line, or an array of feature values \
     (one row, or an array of equal-length rows), or an object of named features (docs/serving.md)";

/// Reads the requests file and returns the body of each request, in file order.
pub fn read_requests(path: &Path, protocol: Protocol) -> Result<Vec<Vec<u8>>> {
    let text = crate::input::read_text(path, crate::input::MAX_TEXT_BYTES.saturating_mul(16), "a requests file")?;
    parse_requests(&path.display().to_string(), &text, protocol)
}

/// Parses requests-file text; `source` names the file in errors.
pub fn parse_requests(source: &str, text: &str, protocol: Protocol) -> Result<Vec<Vec<u8>>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut bodies = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        bodies.push(prepare_line(source, index + 1, line, protocol)?);
    }
    if bodies.is_empty() {
        return Err(Error::new(ErrorKind::Serving, format!("{source}: no requests in the file")).hint(LINES_HINT));
    }
    Ok(bodies)
}

fn prepare_line(source: &str, number: usize, line: &str, protocol: Protocol) -> Result<Vec<u8>> {
    let value: Value = crate::strict::json_value(line.as_bytes()).map_err(|error| {
        Error::new(ErrorKind::Serving, format!("{source}:{number}: not valid JSON: {error}")).hint(LINES_HINT)
    })?;
    match protocol {
        Protocol::Json => Ok(line.as_bytes().to_vec()),
        Protocol::V2 if is_v2_request(&value) => match value.get("inputs") {
            Some(Value::Array(_)) => Ok(line.as_bytes().to_vec()),
            _ => Err(v2_error(source, number, "`inputs` must be an array of input tensors")),
        },
        Protocol::V2 => {
            let request = wrap_v2(&value).map_err(|reason| v2_error(source, number, &reason))?;
            Ok(request.to_string().into_bytes())
        }
    }
}

fn is_v2_request(value: &Value) -> bool {
    value.as_object().is_some_and(|object| object.contains_key("inputs"))
}

fn v2_error(source: &str, number: usize, reason: &str) -> Error {
    Error::new(ErrorKind::Serving, format!("{source}:{number}: cannot make a v2 inference request: {reason}"))
        .hint(V2_HINT)
}

/// Wraps feature values into a v2 inference request.
///
/// - `[x1, …, xn]` (one row) becomes one tensor `input-0` of shape `[1, n]`;
/// - `[[…], …]` (m rows of n values) becomes one tensor `input-0` of shape `[m, n]`, data flattened
///   row-major;
/// - `{"name": x, "other": [x1, …, xk]}` becomes one tensor per key, sorted by name, of shape `[1]`
///   for a single value or `[k]` for an array.
///
/// Numbers are `FP32`, booleans `BOOL`, strings `BYTES`; one tensor holds one kind of value.
pub fn wrap_v2(value: &Value) -> std::result::Result<Value, String> {
    let inputs = match value {
        Value::Array(items) => vec![array_tensor(items)?],
        Value::Object(features) => named_tensors(features)?,
        _ => return Err("expected an array of feature values or an object of named features".to_string()),
    };
    Ok(json!({ "inputs": inputs }))
}

fn array_tensor(items: &[Value]) -> std::result::Result<Value, String> {
    if items.is_empty() {
        return Err("the array of feature values is empty".to_string());
    }
    let (shape, data) =
        if items.iter().all(Value::is_array) { rows(items)? } else { (vec![1, items.len()], items.to_vec()) };
    tensor(V2_INPUT_NAME, shape, data)
}

fn rows(items: &[Value]) -> std::result::Result<(Vec<usize>, Vec<Value>), String> {
    let width = items.first().and_then(Value::as_array).map_or(0, Vec::len);
    if width == 0 {
        return Err("the first row of feature values is empty".to_string());
    }
    let mut data = Vec::with_capacity(items.len() * width);
    for (index, row) in items.iter().enumerate() {
        let row = row.as_array().map(Vec::as_slice).unwrap_or_default();
        if row.len() != width {
            return Err(format!("row {} has {} values, the first row has {width}", index + 1, row.len()));
        }
        data.extend(row.iter().cloned());
    }
    Ok((vec![items.len(), width], data))
}

fn named_tensors(features: &Map<String, Value>) -> std::result::Result<Vec<Value>, String> {
    if features.is_empty() {
        return Err("the object of named features is empty".to_string());
    }
    let mut names: Vec<&String> = features.keys().collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let (shape, data) = match &features[name.as_str()] {
                Value::Array(items) if items.is_empty() => return Err(format!("feature `{name}` is an empty array")),
                Value::Array(items) => (vec![items.len()], items.clone()),
                scalar => (vec![1], vec![scalar.clone()]),
            };
            tensor(name, shape, data).map_err(|reason| format!("feature `{name}`: {reason}"))
        })
        .collect()
}

fn tensor(name: &str, shape: Vec<usize>, data: Vec<Value>) -> std::result::Result<Value, String> {
    let datatype = datatype(&data)?;
    Ok(json!({ "name": name, "shape": shape, "datatype": datatype, "data": data }))
}

/// The one v2 datatype of `data`, or why there is none.
fn datatype(data: &[Value]) -> std::result::Result<&'static str, String> {
    let mut found: Option<&'static str> = None;
    for value in data {
        let this = match value {
            Value::Number(_) => V2_NUMBER_DATATYPE,
            Value::Bool(_) => "BOOL",
            Value::String(_) => "BYTES",
            Value::Null => return Err("null has no v2 datatype".to_string()),
            Value::Array(_) | Value::Object(_) => {
                return Err("values must be numbers, booleans or strings (at most one level of rows)".to_string())
            }
        };
        match found {
            Some(previous) if previous != this => {
                return Err(format!("mixes {previous} and {this} values; one tensor holds one kind of value"))
            }
            _ => found = Some(this),
        }
    }
    found.ok_or_else(|| "no values".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, protocol: Protocol) -> Result<Vec<String>> {
        parse_requests("requests.jsonl", text, protocol)
            .map(|bodies| bodies.into_iter().map(|body| String::from_utf8_lossy(&body).into_owned()).collect())
    }

    fn wrapped(line: &str) -> Value {
        let value: Value = serde_json::from_str(line).unwrap_or(Value::Null);
        wrap_v2(&value).unwrap_or_else(|reason| panic!("{line}: {reason}"))
    }

    #[test]
    fn json_lines_are_sent_as_they_are_and_blank_lines_skipped() {
        let bodies = parse("{\"a\": 1}\n\n   \n[1, 2]\r\n", Protocol::Json).unwrap_or_default();
        assert_eq!(bodies, vec!["{\"a\": 1}".to_string(), "[1, 2]".to_string()]);
    }

    #[test]
    fn a_bad_line_is_named_by_number() {
        let error = parse("{\"a\": 1}\n\n{not json}\n", Protocol::Json).err().map(|error| error.message);
        assert!(error.as_deref().is_some_and(|message| message.starts_with("requests.jsonl:3: not valid JSON")));
    }

    #[test]
    fn an_empty_file_is_an_error() {
        assert!(parse("\n  \n", Protocol::Json).is_err());
    }

    #[test]
    fn v2_requests_are_sent_as_they_are() {
        let line = r#"{"id": "1", "inputs": [{"name": "x", "shape": [1], "datatype": "INT64", "data": [3]}]}"#;
        assert_eq!(parse(line, Protocol::V2).unwrap_or_default(), vec![line.to_string()]);
        assert!(parse(r#"{"inputs": 3}"#, Protocol::V2).is_err());
    }

    #[test]
    fn one_row_becomes_a_1_by_n_tensor() {
        assert_eq!(
            wrapped("[5.1, 3.5, 1.4, 0.2]"),
            json!({"inputs": [{"name": "input-0", "shape": [1, 4], "datatype": "FP32", "data": [5.1, 3.5, 1.4, 0.2]}]})
        );
    }

    #[test]
    fn rows_become_a_batch_flattened_row_major() {
        assert_eq!(
            wrapped("[[1, 2, 3], [4, 5, 6]]"),
            json!({"inputs": [{"name": "input-0", "shape": [2, 3], "datatype": "FP32", "data": [1, 2, 3, 4, 5, 6]}]})
        );
    }

    #[test]
    fn named_features_become_one_tensor_each_sorted_by_name() {
        assert_eq!(
            wrapped(r#"{"text": "hello", "age": 42, "flags": [true, false]}"#),
            json!({"inputs": [
                {"name": "age", "shape": [1], "datatype": "FP32", "data": [42]},
                {"name": "flags", "shape": [2], "datatype": "BOOL", "data": [true, false]},
                {"name": "text", "shape": [1], "datatype": "BYTES", "data": ["hello"]},
            ]})
        );
    }

    #[test]
    fn unwrappable_values_are_refused() {
        for line in ["3", "[]", "[[1, 2], [3]]", "[1, \"a\"]", "[null]", "[[[1]]]", "{}", "{\"a\": {\"b\": 1}}"] {
            let value: Value = serde_json::from_str(line).unwrap_or(Value::Null);
            assert!(wrap_v2(&value).is_err(), "{line} was wrapped");
        }
    }

    #[test]
    fn a_bad_v2_line_is_named_by_number() {
        let error = parse("[1, 2]\n[1, \"a\"]\n", Protocol::V2).err().map(|error| error.message);
        assert!(error.as_deref().is_some_and(|message| message.starts_with("requests.jsonl:2: cannot make a v2")));
    }
}
