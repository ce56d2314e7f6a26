//! YAML and JSON values of documents (read by [`crate::strict`]): described by type for
//! messages, and checked for real content.

use chrono::NaiveDate;
use serde_json::Value;

use super::text::{self, Missing};

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
