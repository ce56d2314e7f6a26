//! Loading the expected schema: a Frictionless Table Schema (JSON or YAML), checked
//! property by property so that a mistake is reported at its JSON pointer, or the
//! footer of a Parquet file (column names, types and nullability).

use std::path::Path;

use regex::Regex;
use serde_json::{Map, Value as Json};

use super::types::{self, FieldType, Format, Reader, Value, TYPE_NAMES};
use crate::error::{Error, ErrorKind, Result};
use crate::table::{self, ColumnKind, TableFormat};

/// Where the expected schema came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaSource {
    TableSchema,
    Parquet,
}

impl SchemaSource {
    pub fn as_str(self) -> &'static str {
        match self {
            SchemaSource::TableSchema => "table-schema",
            SchemaSource::Parquet => "parquet",
        }
    }
}

/// A schema ready to check a table against.
#[derive(Debug, Clone)]
pub struct Schema {
    pub fields: Vec<Field>,
    pub primary_key: Vec<String>,
    pub missing_values: Vec<String>,
    pub source: SchemaSource,
}

#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub reader: Reader,
    pub constraints: Constraints,
}

/// A bound (`minimum`, …) as written and as read by the field's type.
#[derive(Debug, Clone)]
pub struct Bound {
    pub text: String,
    pub value: Value,
}

#[derive(Debug, Clone, Default)]
pub struct Constraints {
    pub required: bool,
    pub unique: bool,
    pub minimum: Option<Bound>,
    pub maximum: Option<Bound>,
    pub exclusive_minimum: Option<Bound>,
    pub exclusive_maximum: Option<Bound>,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    /// As written, and compiled to match the whole value.
    pub pattern: Option<(String, Regex)>,
    /// The keys ([`Value::key`]) of the allowed values, and the values as written.
    pub enumeration: Option<(Vec<String>, String)>,
}

/// The constraint names of Table Schema v1.
const CONSTRAINTS: &[&str] = &[
    "required",
    "unique",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "enum",
];

/// Loads the schema at `path`: a Parquet file's own schema, else a Table Schema in JSON
/// (or YAML, by the `.yaml`/`.yml` extension).
pub fn load(path: &Path) -> Result<Schema> {
    if table::detect(path).ok() == Some(TableFormat::Parquet) {
        return from_parquet(path);
    }
    let text = crate::input::read_text(path, crate::input::MAX_TEXT_BYTES, "a Table Schema")?;
    let source = crate::strict::Source::new(path, "the Table Schema", ErrorKind::DataInvalid);
    let descriptor: Json = crate::strict::parse(&text, crate::strict::Syntax::of(path), &source)?;
    parse(path, &descriptor)
}

/// An error at a JSON pointer of the schema document.
fn at(path: &Path, pointer: &str, message: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::DataInvalid, format!("{}: {pointer}: {message}", path.display()))
}

fn kind_of(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

/// Reads a Table Schema descriptor.
pub fn parse(path: &Path, descriptor: &Json) -> Result<Schema> {
    let Json::Object(root) = descriptor else {
        return Err(at(path, "/", format!("a Table Schema is an object, not {}", kind_of(descriptor)))
            .hint("write {\"fields\": [{\"name\": \"age\", \"type\": \"integer\"}, …]}"));
    };
    let fields_json = match root.get("fields") {
        Some(Json::Array(fields)) => fields,
        Some(other) => {
            return Err(at(path, "/fields", format!("must be an array of fields, not {}", kind_of(other)))
                .hint("list the table's columns: \"fields\": [{\"name\": \"age\", \"type\": \"integer\"}, …]"));
        }
        None => {
            return Err(at(path, "/fields", "missing: a Table Schema lists its fields")
                .hint("add \"fields\": [{\"name\": \"age\", \"type\": \"integer\"}, …]"));
        }
    };
    let missing_values = match root.get("missingValues") {
        None => vec![String::new()],
        Some(Json::Array(values)) => values
            .iter()
            .enumerate()
            .map(|(index, value)| match value {
                Json::String(text) => Ok(text.clone()),
                other => Err(at(
                    path,
                    &format!("/missingValues/{index}"),
                    format!("must be a string, not {}", kind_of(other)),
                )
                .hint("missingValues lists the cell texts that mean \"no value\", e.g. [\"\", \"NA\"]")),
            })
            .collect::<Result<Vec<_>>>()?,
        Some(other) => {
            return Err(at(path, "/missingValues", format!("must be an array of strings, not {}", kind_of(other)))
                .hint("missingValues lists the cell texts that mean \"no value\", e.g. [\"\", \"NA\"]"));
        }
    };
    let mut fields: Vec<Field> = Vec::with_capacity(fields_json.len());
    for (index, field) in fields_json.iter().enumerate() {
        let field = parse_field(path, index, field)?;
        if fields.iter().any(|other| other.name == field.name) {
            return Err(at(
                path,
                &format!("/fields/{index}/name"),
                format!("field name {:?} is used twice", field.name),
            )
            .hint("each field names one column; rename or remove the duplicate"));
        }
        fields.push(field);
    }
    let primary_key = match root.get("primaryKey") {
        None => Vec::new(),
        Some(Json::String(name)) => vec![check_key(path, "/primaryKey", name, &fields)?],
        Some(Json::Array(names)) => names
            .iter()
            .enumerate()
            .map(|(index, name)| {
                let pointer = format!("/primaryKey/{index}");
                match name {
                    Json::String(name) => check_key(path, &pointer, name, &fields),
                    other => Err(at(path, &pointer, format!("must be a field name, not {}", kind_of(other)))
                        .hint("primaryKey is a field name or a list of field names")),
                }
            })
            .collect::<Result<Vec<_>>>()?,
        Some(other) => {
            return Err(at(
                path,
                "/primaryKey",
                format!("must be a field name or a list of them, not {}", kind_of(other)),
            )
            .hint("primaryKey is a field name or a list of field names"));
        }
    };
    Ok(Schema { fields, primary_key, missing_values, source: SchemaSource::TableSchema })
}

fn check_key(path: &Path, pointer: &str, name: &str, fields: &[Field]) -> Result<String> {
    if fields.iter().any(|field| field.name == name) {
        Ok(name.to_string())
    } else {
        Err(at(path, pointer, format!("{name:?} is not one of the schema's fields")).hint(format!(
            "primaryKey names fields declared in `fields`: {}",
            fields.iter().map(|field| field.name.as_str()).collect::<Vec<_>>().join(", ")
        )))
    }
}

fn parse_field(path: &Path, index: usize, field: &Json) -> Result<Field> {
    let pointer = format!("/fields/{index}");
    let Json::Object(object) = field else {
        return Err(at(path, &pointer, format!("a field is an object, not {}", kind_of(field)))
            .hint("write {\"name\": \"age\", \"type\": \"integer\"}"));
    };
    let name = match object.get("name") {
        Some(Json::String(name)) if !name.is_empty() => name.clone(),
        Some(Json::String(_)) => {
            return Err(at(path, &format!("{pointer}/name"), "is empty").hint("name the column the field describes"))
        }
        Some(other) => {
            return Err(at(path, &format!("{pointer}/name"), format!("must be a string, not {}", kind_of(other)))
                .hint("name the column the field describes"))
        }
        None => {
            return Err(at(path, &format!("{pointer}/name"), "missing").hint("every field needs a `name`: its column"))
        }
    };
    let field_type = match object.get("type") {
        None => FieldType::String,
        Some(Json::String(type_name)) => FieldType::parse(type_name).ok_or_else(|| {
            at(path, &format!("{pointer}/type"), format!("unknown type {type_name:?}"))
                .hint(format!("the Table Schema types are: {}", TYPE_NAMES.join(", ")))
        })?,
        Some(other) => {
            return Err(at(path, &format!("{pointer}/type"), format!("must be a string, not {}", kind_of(other)))
                .hint(format!("the Table Schema types are: {}", TYPE_NAMES.join(", "))))
        }
    };
    let format = parse_format(path, &pointer, field_type, object.get("format"))?;
    let mut reader = Reader::new(field_type, format);
    for (key, target) in [("trueValues", &mut reader.true_values), ("falseValues", &mut reader.false_values)] {
        if let Some(value) = object.get(key) {
            *target = string_list(path, &format!("{pointer}/{key}"), value)?;
        }
    }
    for (key, target) in [("decimalChar", &mut reader.decimal_char), ("groupChar", &mut reader.group_char)] {
        match object.get(key) {
            None => {}
            Some(Json::String(text)) => {
                *target = text.clone();
                reader.number_options = true;
            }
            Some(other) => {
                return Err(at(path, &format!("{pointer}/{key}"), format!("must be a string, not {}", kind_of(other)))
                    .hint("write the character itself, e.g. \",\""))
            }
        }
    }
    if reader.decimal_char.is_empty() {
        return Err(at(path, &format!("{pointer}/decimalChar"), "is empty").hint("the decimal character, e.g. \",\""));
    }
    match object.get("bareNumber") {
        None => {}
        Some(Json::Bool(bare)) => {
            reader.bare_number = *bare;
            reader.number_options = true;
        }
        Some(other) => {
            return Err(at(
                path,
                &format!("{pointer}/bareNumber"),
                format!("must be true or false, not {}", kind_of(other)),
            )
            .hint("bareNumber: false lets numbers carry text around them (\"95%\", \"$12\")"))
        }
    }
    let constraints = match object.get("constraints") {
        None => Constraints::default(),
        Some(Json::Object(constraints)) => {
            parse_constraints(path, &format!("{pointer}/constraints"), &reader, constraints)?
        }
        Some(other) => {
            return Err(at(
                path,
                &format!("{pointer}/constraints"),
                format!("must be an object, not {}", kind_of(other)),
            )
            .hint("write \"constraints\": {\"required\": true, \"minimum\": 0}"))
        }
    };
    Ok(Field { name, reader, constraints })
}

fn string_list(path: &Path, pointer: &str, value: &Json) -> Result<Vec<String>> {
    let hint = "write a list of strings, e.g. [\"yes\", \"Y\"]";
    match value {
        Json::Array(items) => items
            .iter()
            .enumerate()
            .map(|(index, item)| match item {
                Json::String(text) => Ok(text.clone()),
                other => {
                    Err(at(path, &format!("{pointer}/{index}"), format!("must be a string, not {}", kind_of(other)))
                        .hint(hint))
                }
            })
            .collect(),
        other => Err(at(path, pointer, format!("must be an array of strings, not {}", kind_of(other))).hint(hint)),
    }
}

fn parse_format(path: &Path, pointer: &str, field_type: FieldType, value: Option<&Json>) -> Result<Format> {
    let pointer = format!("{pointer}/format");
    let hint = || format!("the formats of type {} are: {}", field_type.as_str(), field_type.formats().join(", "));
    let text = match value {
        None => return Ok(Format::Default),
        Some(Json::String(text)) => text.as_str(),
        Some(other) => return Err(at(path, &pointer, format!("must be a string, not {}", kind_of(other))).hint(hint())),
    };
    if text == "default" {
        return Ok(Format::Default);
    }
    let format = match (field_type, text) {
        (FieldType::String, "email") => Format::Email,
        (FieldType::String, "uri") => Format::Uri,
        (FieldType::String, "uuid") => Format::Uuid,
        (FieldType::String, "binary") => Format::Binary,
        (FieldType::Date | FieldType::Datetime | FieldType::Time, "any") => Format::Any,
        (FieldType::Date | FieldType::Datetime | FieldType::Time, pattern) if pattern.contains('%') => {
            // Table Schema v0 wrote patterns as `fmt:%d/%m/%Y`.
            let pattern = pattern.strip_prefix("fmt:").unwrap_or(pattern);
            let broken =
                chrono::format::StrftimeItems::new(pattern).any(|item| matches!(item, chrono::format::Item::Error));
            if broken {
                return Err(at(path, &pointer, format!("{pattern:?} is not a valid strptime pattern"))
                    .hint("use strptime directives such as %Y-%m-%d, %d/%m/%Y %H:%M"));
            }
            Format::Pattern(pattern.to_string())
        }
        (FieldType::Geopoint, "array") => Format::Array,
        (FieldType::Geopoint, "object") => Format::Object,
        (FieldType::Geojson, "topojson") => Format::Topojson,
        _ => {
            return Err(
                at(path, &pointer, format!("unknown format {text:?} for type {}", field_type.as_str())).hint(hint())
            )
        }
    };
    Ok(format)
}

fn parse_constraints(path: &Path, pointer: &str, reader: &Reader, object: &Map<String, Json>) -> Result<Constraints> {
    let mut constraints = Constraints::default();
    let supported = reader.field_type.constraints();
    for (key, value) in object {
        let here = format!("{pointer}/{key}");
        if !CONSTRAINTS.contains(&key.as_str()) {
            return Err(at(path, &here, format!("unknown constraint {key:?}"))
                .hint(format!("the Table Schema constraints are: {}", CONSTRAINTS.join(", "))));
        }
        if !supported.contains(&key.as_str()) {
            return Err(at(
                path,
                &here,
                format!("constraint {key:?} does not apply to type {}", reader.field_type.as_str()),
            )
            .hint(format!("type {} supports: {}", reader.field_type.as_str(), supported.join(", "))));
        }
        match key.as_str() {
            "required" | "unique" => {
                let Json::Bool(flag) = value else {
                    return Err(at(path, &here, format!("must be true or false, not {}", kind_of(value)))
                        .hint(format!("write \"{key}\": true")));
                };
                if key == "required" {
                    constraints.required = *flag;
                } else {
                    constraints.unique = *flag;
                }
            }
            "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" => {
                let bound = Some(parse_bound(path, &here, reader, value)?);
                match key.as_str() {
                    "minimum" => constraints.minimum = bound,
                    "maximum" => constraints.maximum = bound,
                    "exclusiveMinimum" => constraints.exclusive_minimum = bound,
                    _ => constraints.exclusive_maximum = bound,
                }
            }
            "minLength" | "maxLength" => {
                let Some(length) = value.as_u64() else {
                    return Err(at(path, &here, format!("must be a non-negative integer, not {value}"))
                        .hint(format!("write \"{key}\": 3")));
                };
                if key == "minLength" {
                    constraints.min_length = Some(length);
                } else {
                    constraints.max_length = Some(length);
                }
            }
            "pattern" => {
                let Json::String(pattern) = value else {
                    return Err(at(
                        path,
                        &here,
                        format!("must be a regular expression string, not {}", kind_of(value)),
                    )
                    .hint("write \"pattern\": \"[A-Z]{2}[0-9]+\""));
                };
                let regex = Regex::new(&format!("^(?:{pattern})$")).map_err(|error| {
                    let detail = error.to_string();
                    let detail = detail.lines().last().unwrap_or_default().trim().to_string();
                    at(path, &here, format!("{pattern:?} is not a valid regular expression: {detail}")).hint(
                        "the pattern must match the whole value; modelgate uses Rust regex syntax, \
                         which has no look-around or backreferences",
                    )
                })?;
                constraints.pattern = Some((pattern.clone(), regex));
            }
            _ => {
                let Json::Array(items) = value else {
                    return Err(at(path, &here, format!("must be an array of allowed values, not {}", kind_of(value)))
                        .hint("write \"enum\": [\"a\", \"b\"]"));
                };
                let keys = items
                    .iter()
                    .enumerate()
                    .map(|(index, item)| {
                        parse_bound(path, &format!("{here}/{index}"), reader, item).map(|b| b.value.key())
                    })
                    .collect::<Result<Vec<_>>>()?;
                let shown = items.iter().map(json_text).collect::<Vec<_>>().join(", ");
                constraints.enumeration = Some((keys, shown));
            }
        }
    }
    Ok(constraints)
}

fn json_text(value: &Json) -> String {
    match value {
        Json::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A constraint value read as the field's type.
fn parse_bound(path: &Path, pointer: &str, reader: &Reader, value: &Json) -> Result<Bound> {
    let text = json_text(value);
    let read = match (value, reader.field_type) {
        (Json::Bool(flag), FieldType::Boolean) => Some(Value::Boolean(*flag)),
        (Json::Number(number), FieldType::Integer) => number
            .as_i64()
            .map(|n| Value::Integer(n.into()))
            .or_else(|| number.as_f64().filter(|n| n.fract() == 0.0).map(|n| Value::Integer(n as i128))),
        (Json::Number(number), FieldType::Number) => number.as_f64().map(Value::Number),
        (
            Json::Array(_) | Json::Object(_),
            FieldType::Object | FieldType::Array | FieldType::Geojson | FieldType::Any,
        ) => types::read(reader, &text),
        (Json::String(_) | Json::Number(_), _) => types::read(reader, &text),
        _ => None,
    };
    let value = read.ok_or_else(|| {
        at(path, pointer, format!("{text} is not a valid {} value", reader.field_type.as_str()))
            .hint(format!("write the value as the field's cells are written (format {})", reader.format.describe()))
    })?;
    Ok(Bound { text, value })
}

/// The schema of a Parquet file: its columns as fields, a non-nullable column `required`.
pub fn from_parquet(path: &Path) -> Result<Schema> {
    let info = table::describe(path)?;
    let mut roots: Vec<String> = Vec::new();
    let fields = info
        .columns
        .iter()
        .filter_map(|column| {
            // A nested column (list, map, struct) is one field named by its root.
            let name = if column.kind == ColumnKind::Nested {
                let root = column.name.split('.').next().unwrap_or_default().to_string();
                if roots.contains(&root) {
                    return None;
                }
                roots.push(root.clone());
                root
            } else {
                column.name.clone()
            };
            let (field_type, format) = match column.kind {
                ColumnKind::Boolean => (FieldType::Boolean, Format::Default),
                ColumnKind::Integer => (FieldType::Integer, Format::Default),
                ColumnKind::Number | ColumnKind::Decimal => (FieldType::Number, Format::Default),
                ColumnKind::String | ColumnKind::Text => (FieldType::String, Format::Default),
                ColumnKind::Binary => (FieldType::String, Format::Binary),
                ColumnKind::Date => (FieldType::Date, Format::Default),
                ColumnKind::Time => (FieldType::Time, Format::Default),
                ColumnKind::Timestamp => (FieldType::Datetime, Format::Default),
                ColumnKind::Nested => (FieldType::Any, Format::Default),
            };
            Some(Field {
                name,
                reader: Reader::new(field_type, format),
                constraints: Constraints { required: !column.nullable, ..Constraints::default() },
            })
        })
        .collect();
    Ok(Schema { fields, primary_key: Vec::new(), missing_values: vec![String::new()], source: SchemaSource::Parquet })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> Result<Schema> {
        parse(Path::new("schema.json"), &serde_json::from_str(text).expect("present"))
    }

    #[test]
    fn reads_fields_constraints_and_keys() {
        let schema = parse_text(
            r#"{"fields": [{"name": "id", "type": "integer", "constraints": {"minimum": 1, "enum": [1, "2"]}},
                           {"name": "day", "type": "date", "format": "%d/%m/%Y"}],
                "primaryKey": "id", "missingValues": ["", "NA"]}"#,
        )
        .expect("present");
        assert_eq!(schema.primary_key, ["id"]);
        assert_eq!(schema.missing_values, ["", "NA"]);
        let id = &schema.fields[0].constraints;
        assert_eq!(id.minimum.as_ref().expect("present").value, Value::Integer(1));
        assert_eq!(id.enumeration.as_ref().expect("present").0, ["i1", "i2"]);
        assert_eq!(schema.fields[1].reader.format, Format::Pattern("%d/%m/%Y".into()));
    }

    #[test]
    fn errors_name_the_json_pointer() {
        let message = |text: &str| parse_text(text).expect_err("an error").message;
        assert!(message(r#"{"fields": [{"name": "a"}, {"name": "b", "type": "integr"}]}"#)
            .contains("/fields/1/type: unknown type \"integr\""));
        assert!(message(r#"{"fields": [{"name": "a", "constraints": {"pattern": "(a"}}]}"#)
            .contains("/fields/0/constraints/pattern"));
        assert!(message(r#"{"fields": [{"name": "a", "type": "integer", "constraints": {"pattern": "a"}}]}"#)
            .contains("does not apply to type integer"));
        assert!(message(r#"{"fields": [{"name": "a"}], "primaryKey": ["b"]}"#).contains("/primaryKey/0"));
        assert!(message(r#"{"fields": [{"name": "a", "type": "integer", "constraints": {"minimum": "x"}}]}"#)
            .contains("/fields/0/constraints/minimum"));
        assert!(message(r#"{"field": []}"#).contains("/fields: missing"));
        assert!(message(r#"{"fields": [{"name": "a", "format": "emial"}]}"#).contains("/fields/0/format"));
    }
}
