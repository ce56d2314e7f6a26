//! YAML and JSON values of documents: parsed strictly (a key written twice is an error,
//! with its line), described by type for messages, and checked for real content.

use std::path::Path;

use chrono::NaiveDate;
use serde_json::Value;

use super::text::{self, Missing};
use crate::error::{Error, ErrorKind, Result};
use crate::strict::StrictValue;

/// Parses YAML (a whole file, or front matter starting at `first_line` of `path`).
pub fn parse_yaml(text: &str, path: &Path, first_line: usize, what: &str) -> Result<Value> {
    let deserializer = yaml_serde::Deserializer::from_str(text);
    match <StrictValue as serde::Deserialize>::deserialize(deserializer) {
        Ok(StrictValue(value)) => Ok(value),
        Err(error) => {
            let message = error.to_string();
            // A duplicate is reported at its mapping; the second occurrence is what to fix.
            let duplicate = if message.contains("duplicate key") { duplicate_line(text, &message) } else { None };
            let (line, column) = match (duplicate, error.location()) {
                (Some(line), _) => (line, 1),
                (None, Some(location)) => (location.line(), location.column()),
                (None, None) => (0, 0),
            };
            let at = if line > 0 {
                format!("{}:{}:{}", path.display(), first_line + line - 1, column)
            } else {
                path.display().to_string()
            };
            let reason = message.split(" at line ").next().unwrap_or(&message).to_string();
            let hint = if reason.contains("duplicate key") {
                "write each key once: YAML keeps only one of the values, so the other would be silently lost"
                    .to_string()
            } else {
                format!("fix the {what} so it is valid YAML (quote values that contain `: ` or start with `[`, `{{`, `*`, `&`, `!`, `%` or `@`)")
            };
            Err(Error::new(ErrorKind::DocumentInvalid, format!("{at}: {what} is not valid YAML: {reason}")).hint(hint))
        }
    }
}

/// Parses JSON, refusing duplicate keys.
pub fn parse_json(text: &str, path: &Path) -> Result<Value> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let parsed = <StrictValue as serde::Deserialize>::deserialize(&mut deserializer).and_then(|value| {
        deserializer.end()?;
        Ok(value)
    });
    parsed.map(|StrictValue(value)| value).map_err(|error| {
        let (line, column) = (error.line(), error.column());
        let reason = error.to_string();
        let reason = reason.strip_suffix(&format!(" at line {line} column {column}")).unwrap_or(&reason).to_string();
        Error::new(ErrorKind::DocumentInvalid, format!("{}:{line}:{column}: not valid JSON: {reason}", path.display()))
            .hint("fix the JSON (a key written twice is refused: only one of its values would be kept)")
    })
}

/// The line of the second occurrence of a duplicated top-level-or-nested key, when the
/// parser gives no position.
fn duplicate_line(text: &str, message: &str) -> Option<usize> {
    let key = message.split('`').nth(1)?;
    let mut seen = 0;
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim_start().trim_start_matches("- ");
        let bare = trimmed.trim_start_matches(['"', '\'']);
        if bare.starts_with(key) && bare[key.len()..].trim_start_matches(['"', '\'']).starts_with(':') {
            seen += 1;
            if seen == 2 {
                return Some(index + 1);
            }
        }
    }
    None
}

/// "a string", "a list of numbers", … for messages about wrong types.
pub fn describe(value: &Value) -> String {
    match value {
        Value::Null => "nothing".into(),
        Value::Bool(_) => "a boolean".into(),
        Value::Number(_) => "a number".into(),
        Value::String(_) => "a string".into(),
        Value::Object(_) => "a mapping".into(),
        Value::Array(items) => {
            let kinds: std::collections::BTreeSet<&str> = items
                .iter()
                .map(|item| match item {
                    Value::Null => "nulls",
                    Value::Bool(_) => "booleans",
                    Value::Number(_) => "numbers",
                    Value::String(_) => "strings",
                    Value::Object(_) => "mappings",
                    Value::Array(_) => "lists",
                })
                .collect();
            match kinds.len() {
                0 => "an empty list".into(),
                1 => format!("a list of {}", kinds.iter().next().copied().unwrap_or_default()),
                _ => format!("a list of {}", kinds.into_iter().collect::<Vec<_>>().join(" and ")),
            }
        }
    }
}

/// Whether a value holds real content: text is checked like prose, a list or mapping
/// needs one filled-in entry. `None`: filled in.
pub fn missing(value: &Value) -> Option<Missing> {
    match value {
        Value::Null => Some(Missing::Empty),
        Value::Bool(_) | Value::Number(_) => None,
        Value::String(text) => text::check(text),
        Value::Array(items) => first_missing(items.iter()),
        Value::Object(map) => first_missing(map.values()),
    }
}

fn first_missing<'a>(mut values: impl Iterator<Item = &'a Value>) -> Option<Missing> {
    let mut reason = Missing::Empty;
    for value in values.by_ref() {
        match missing(value) {
            None => return None,
            Some(Missing::Empty) => {}
            Some(other) => reason = other,
        }
    }
    Some(reason)
}

/// A string, or a list of strings (as Hugging Face allows for `license`, `language`, …).
pub fn text_list(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::String(text) => Some(vec![text.clone()]),
        Value::Array(items) => items.iter().map(|item| item.as_str().map(str::to_string)).collect(),
        _ => None,
    }
}

/// A scalar as text (`2.4` written unquoted is a number in YAML, still a version).
pub fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.trim().to_string()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// `YYYY-MM-DD`, an RFC 3339 timestamp, or `YYYY-MM-DD HH:MM[:SS]`.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some(date);
    }
    if let Ok(stamp) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(stamp.with_timezone(&chrono::Utc).date_naive());
    }
    for format in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(stamp) = chrono::NaiveDateTime::parse_from_str(text, format) {
            return Some(stamp.date());
        }
    }
    None
}

/// The 1-based line of `key:` in a YAML text (top level first), for messages.
pub fn key_line(text: &str, key: &str) -> Option<usize> {
    let matches = |line: &str| {
        let bare = line.trim_start_matches(['"', '\'']);
        bare.starts_with(key) && bare[key.len()..].trim_start_matches(['"', '\'']).trim_start().starts_with(':')
    };
    let lines: Vec<&str> = text.lines().collect();
    lines
        .iter()
        .position(|line| matches(line))
        .or_else(|| lines.iter().position(|line| matches(line.trim_start())))
        .map(|index| index + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_refused_with_their_line() {
        let error =
            parse_yaml("license: mit\ntags: [a]\nlicense: apache-2.0\n", Path::new("card.md"), 2, "front matter")
                .expect_err("duplicate");
        assert!(error.message.contains("duplicate key `license`"), "{}", error.message);
        assert!(error.message.starts_with("card.md:4:"), "{}", error.message);
        let error = parse_json(r#"{"a": 1, "a": 2}"#, Path::new("card.json")).expect_err("duplicate");
        assert!(error.message.contains("duplicate key `a`"), "{}", error.message);
    }

    #[test]
    fn yaml_errors_name_the_line_in_the_file() {
        let error =
            parse_yaml("license: mit\ntags: [a, b\n", Path::new("card.md"), 2, "front matter").expect_err("syntax");
        assert!(error.message.starts_with("card.md:"), "{}", error.message);
        assert!(error.hint.is_some());
    }

    #[test]
    fn describes_types_and_dates() {
        assert_eq!(describe(&serde_json::json!([1, 2])), "a list of numbers");
        assert_eq!(describe(&serde_json::json!(["a", 2])), "a list of numbers and strings");
        assert_eq!(parse_date("2026-10-02"), NaiveDate::from_ymd_opt(2026, 10, 2));
        assert_eq!(parse_date("2026-10-02T23:30:00-02:00"), NaiveDate::from_ymd_opt(2026, 10, 3));
        assert_eq!(parse_date("31/02/2026"), None);
        assert_eq!(parse_date("2026-02-31"), None);
        assert_eq!(missing(&serde_json::json!([])), Some(Missing::Empty));
        assert_eq!(missing(&serde_json::json!(["TBD"])), Some(Missing::Placeholder));
        assert_eq!(missing(&serde_json::json!({"a": "", "b": "real text"})), None);
    }
}
