//! Following a reference into `input` through the evidence document's JSON Schema
//! (generated from the [`crate::evidence`] types), to tell a field that can exist from one
//! that never can.
//!
//! The schema is read as `schemars` writes it: `$ref` into `$defs`, `anyOf` for optional
//! sections, `properties` with `additionalProperties: false` for the document's own
//! objects, `additionalProperties: <schema>` for maps keyed by name (groups, features),
//! and `true` where anything goes (`extensions`). A map whose usual keys are listed as
//! `properties` next to an open `additionalProperties` (the metrics) accepts any other
//! key except a near miss of a listed one: `acuracy` is a typo, `my_score` a metric of
//! the team's own.

use serde_json::Value;

use super::analyze::Segment;

/// A reference that can never resolve, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    /// The reference as far as it goes wrong: `input.evaluation.metrics.acuracy`.
    pub reference: String,
    pub reason: String,
    pub nearest: Option<String>,
}

/// What an unresolvable `$ref` or a schema nested without end stands for: anything.
static OPEN: Value = Value::Bool(true);

/// Where a step of the walk can be.
enum Step<'s> {
    /// Somewhere in these schemas.
    Known(Vec<&'s Value>),
    /// Anywhere: nothing more can be said.
    Open,
    /// Nowhere: the field does not exist; the names that do.
    Missing(Vec<String>),
    /// The value there is not an object or a list (a number, a string, null).
    Scalar,
}

/// Follows `path` (after `input`) through `schema`; `Err` names the first step that can
/// never exist.
pub fn follow(schema: &Value, path: &[Segment]) -> Result<(), Missing> {
    let mut current: Vec<&Value> = vec![schema];
    let mut walked = String::from("input");
    for segment in path {
        let step = match segment {
            Segment::Field(name) => field(schema, &current, name),
            Segment::Index | Segment::Dynamic => element(schema, &current, segment == &Segment::Dynamic),
        };
        let shown = match segment {
            Segment::Field(name) if is_identifier(name) => format!(".{name}"),
            Segment::Field(name) => format!("[{name:?}]"),
            Segment::Index => "[…]".to_string(),
            Segment::Dynamic => "[_]".to_string(),
        };
        let parent = walked.strip_prefix("input.").unwrap_or("the evidence document");
        let parent = if walked == "input" { "the evidence document" } else { parent };
        match step {
            Step::Known(next) => current = next,
            Step::Open => return Ok(()),
            Step::Missing(names) => {
                let Segment::Field(name) = segment else { return Ok(()) };
                let nearest = crate::suggest::nearest(name, names.iter().map(String::as_str)).map(str::to_string);
                return Err(Missing {
                    reference: format!("{walked}{shown}"),
                    reason: format!("`{parent}` has no field `{name}`"),
                    nearest,
                });
            }
            Step::Scalar => {
                return Err(Missing {
                    reference: format!("{walked}{shown}"),
                    reason: format!("`{parent}` is never an object or a list"),
                    nearest: None,
                })
            }
        }
        walked.push_str(&shown);
    }
    Ok(())
}

/// Whether the value at `path` (`deployment.environment`) is, whenever present, a string or
/// a boolean (or one of a list of such): every alternative the schema allows there says so.
/// Numbers are left out: they are measurements, different in every document.
pub fn is_scalar(schema: &Value, path: &[&str]) -> bool {
    let mut current: Vec<&Value> = vec![schema];
    for name in path {
        match field(schema, &current, name) {
            Step::Known(next) => current = next,
            Step::Open | Step::Missing(_) | Step::Scalar => return false,
        }
    }
    let options = expand(schema, &current);
    !options.is_empty()
        && options.iter().all(|option| {
            let kinds = types(option);
            let scalar_enum = option
                .get("enum")
                .and_then(Value::as_array)
                .is_some_and(|values| values.iter().all(|value| matches!(value, Value::String(_) | Value::Bool(_))));
            scalar_enum
                || (!kinds.is_empty() && kinds.iter().all(|kind| matches!(*kind, "string" | "boolean" | "null")))
        })
}

fn is_identifier(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The alternatives a schema node stands for: `$ref` and `anyOf`/`oneOf` expanded, `null`
/// dropped (a reference into null is undefined today, fine tomorrow).
fn alternatives<'s>(root: &'s Value, node: &'s Value, into: &mut Vec<&'s Value>, depth: usize) {
    if depth > 32 {
        into.push(&OPEN);
        return;
    }
    if let Some(reference) = node.get("$ref").and_then(Value::as_str) {
        match resolve(root, reference) {
            Some(target) => alternatives(root, target, into, depth + 1),
            None => into.push(&OPEN),
        }
        return;
    }
    let union = node.get("anyOf").or_else(|| node.get("oneOf")).and_then(Value::as_array);
    if let Some(union) = union {
        for option in union {
            alternatives(root, option, into, depth + 1);
        }
        return;
    }
    if node.get("type").and_then(Value::as_str) == Some("null") {
        return;
    }
    into.push(node);
}

/// Every alternative of every node.
fn expand<'s>(root: &'s Value, current: &[&'s Value]) -> Vec<&'s Value> {
    let mut options = Vec::new();
    for node in current {
        alternatives(root, node, &mut options, 0);
    }
    options
}

fn resolve<'s>(root: &'s Value, reference: &str) -> Option<&'s Value> {
    let pointer = reference.strip_prefix('#')?;
    root.pointer(pointer)
}

fn types(node: &Value) -> Vec<&str> {
    match node.get("type") {
        Some(Value::String(kind)) => vec![kind.as_str()],
        Some(Value::Array(kinds)) => kinds.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Whether a node says nothing about its shape (`true`, `{}`, or only words).
fn is_open(node: &Value) -> bool {
    match node {
        Value::Bool(value) => *value,
        Value::Object(object) => {
            types(node).is_empty()
                && !object.contains_key("properties")
                && !object.contains_key("additionalProperties")
                && !object.contains_key("items")
                && !object.contains_key("enum")
                && !object.contains_key("const")
        }
        _ => true,
    }
}

fn field<'s>(root: &'s Value, current: &[&'s Value], name: &str) -> Step<'s> {
    let mut known = Vec::new();
    let mut names = Vec::new();
    let mut missing = false;
    for option in expand(root, current) {
        if is_open(option) {
            return Step::Open;
        }
        let kinds = types(option);
        let object_like = kinds.is_empty() || kinds.contains(&"object");
        if !object_like {
            continue;
        }
        let properties = option.get("properties").and_then(Value::as_object);
        if let Some(property) = properties.and_then(|properties| properties.get(name)) {
            known.push(property);
            continue;
        }
        let listed: Vec<String> = properties.map(|properties| properties.keys().cloned().collect()).unwrap_or_default();
        match option.get("additionalProperties") {
            Some(Value::Bool(false)) => {
                missing = true;
                names.extend(listed);
            }
            Some(extra @ Value::Object(_)) => {
                // A map: any key, unless it is a near miss of a key it usually has.
                let near = crate::suggest::is_near_miss(name, listed.iter().map(String::as_str));
                if near {
                    missing = true;
                    names.extend(listed);
                } else {
                    known.push(extra);
                }
            }
            _ => return Step::Open,
        }
    }
    if !known.is_empty() {
        Step::Known(known)
    } else if missing {
        names.sort();
        names.dedup();
        Step::Missing(names)
    } else {
        Step::Scalar
    }
}

/// An element of a list, or (computed key) a value of a map.
fn element<'s>(root: &'s Value, current: &[&'s Value], computed: bool) -> Step<'s> {
    let mut known = Vec::new();
    for option in expand(root, current) {
        if is_open(option) {
            return Step::Open;
        }
        let kinds = types(option);
        if kinds.contains(&"array") {
            match option.get("items") {
                Some(items) => known.push(items),
                None => return Step::Open,
            }
        } else if kinds.is_empty() || kinds.contains(&"object") {
            if !computed {
                return Step::Open;
            }
            match option.get("additionalProperties") {
                Some(extra @ Value::Object(_)) if option.get("properties").is_none() => known.push(extra),
                // A computed key into an object with named fields: any of them.
                _ => return Step::Open,
            }
        }
    }
    if known.is_empty() {
        Step::Scalar
    } else {
        Step::Known(known)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(text: &str) -> Vec<Segment> {
        text.split('.')
            .map(|part| if part == "_" { Segment::Dynamic } else { Segment::Field(part.to_string()) })
            .collect()
    }

    #[test]
    fn real_fields_resolve_and_typos_do_not() {
        let schema = crate::evidence::json_schema();
        for good in [
            "evaluation.metrics.accuracy",
            "evaluation.metrics.my_custom_score",
            "evaluation.metrics.f1_micro",
            "evaluation.metrics.rmsle",
            "evaluation.fairness._.demographic_parity_difference",
            "evaluation.fairness.sex.groups._.metrics.selection_rate",
            "artifacts.files._.findings._.global",
            "extensions.anything.at.all",
            "model.risk_tier",
            "deployment.environment",
        ] {
            assert_eq!(follow(&schema, &path(good)), Ok(()), "{good}");
        }
        let missing = follow(&schema, &path("evaluation.metrics.acuracy")).expect_err("typo");
        assert_eq!(missing.reference, "input.evaluation.metrics.acuracy");
        assert_eq!(missing.nearest.as_deref(), Some("accuracy"));
        let missing = follow(&schema, &path("evaluaton.metrics")).expect_err("typo");
        assert_eq!(missing.nearest.as_deref(), Some("evaluation"));
        assert!(follow(&schema, &path("model.name.first")).is_err(), "a string has no fields");
        assert!(follow(&schema, &path("evaluation.test_set.rowz")).is_err());
    }
}
