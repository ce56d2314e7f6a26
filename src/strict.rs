//! The one reader of untrusted JSON and YAML: every structured file a policy repository,
//! a model project or a pipeline hands modelgate goes through [`parse`] (and [`read`] for
//! typed files), never through `serde_json::from_str` or `yaml_serde::from_str`.
//!
//! It refuses what a plain `Value` would smooth over, because two readers of the same file
//! must never see different things:
//! - a key written twice at any depth (serde_json and YAML keep the last one silently:
//!   appending `overrides: {}` to a data.yaml would drop every override);
//! - nesting deeper than [`MAX_DEPTH`] (bounded stack), checked on the text before the
//!   YAML parser runs, so a 200 KB file of 100,000 nested lists is refused at once;
//! - numbers that are not finite (YAML's `.nan`, `.inf`): no JSON form, no comparison;
//! - anything after the document (a second YAML document, trailing JSON).
//!
//! Errors name the file, the line and column, and carry a `hint:`.

use std::fmt;
use std::path::Path;

use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::error::{Error, ErrorKind, Result};

/// Deepest nesting accepted.
pub const MAX_DEPTH: usize = 64;

/// How deep the text may look before the YAML parser is even started. Looser than
/// [`MAX_DEPTH`] (indented text inside a block scalar looks like nesting to the pre-check);
/// the exact bound is enforced while reading.
const MAX_TEXT_DEPTH: usize = 4 * MAX_DEPTH;

/// How deep brackets may nest when quotes are not told apart (see [`too_deep`]): far
/// above anything a real file holds in a string, far below what makes the parser slow.
const MAX_BRACKETS: usize = 1024;

/// The two syntaxes of structured files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    Json,
    Yaml,
}

impl Syntax {
    /// YAML for `.yaml` and `.yml` files, JSON for anything else.
    pub fn of(path: &Path) -> Syntax {
        match path.extension().and_then(|extension| extension.to_str()) {
            Some(extension) if extension.eq_ignore_ascii_case("yaml") || extension.eq_ignore_ascii_case("yml") => {
                Syntax::Yaml
            }
            _ => Syntax::Json,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Syntax::Json => "JSON",
            Syntax::Yaml => "YAML",
        }
    }
}

/// Which file is being read and how its errors are reported.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    pub path: &'a Path,
    /// What the file is, for messages: "data.yaml", "the k6 report", "front matter".
    pub what: &'a str,
    /// The kind of error a broken file is.
    pub kind: ErrorKind,
    /// The line of `path` the text starts at (front matter starts below its `---`).
    pub first_line: usize,
    /// Where the file's keys are documented, for hints (`docs/notifications.md`).
    pub docs: Option<&'a str>,
    /// Where the file's value sits in a larger document (`evaluation` for an evidence
    /// section), put before the fields [`deserialize`] names.
    pub within: Option<&'a str>,
}

impl<'a> Source<'a> {
    pub fn new(path: &'a Path, what: &'a str, kind: ErrorKind) -> Source<'a> {
        Source { path, what, kind, first_line: 1, docs: None, within: None }
    }

    pub fn within(self, within: &'a str) -> Source<'a> {
        Source { within: Some(within), ..self }
    }

    pub fn documented_in(self, docs: &'a str) -> Source<'a> {
        Source { docs: Some(docs), ..self }
    }

    pub fn starting_at(self, first_line: usize) -> Source<'a> {
        Source { first_line, ..self }
    }

    /// `path:line:column` (or less, when the position is unknown).
    fn at(&self, line: usize, column: usize) -> String {
        match (line, column) {
            (0, _) => self.path.display().to_string(),
            (line, 0) => format!("{}:{}", self.path.display(), self.first_line + line - 1),
            (line, column) => format!("{}:{}:{column}", self.path.display(), self.first_line + line - 1),
        }
    }
}

/// Parses untrusted JSON or YAML strictly (see the module documentation). An empty YAML
/// text is `null`; what that means is the caller's to say.
pub fn parse(text: &str, syntax: Syntax, source: &Source) -> Result<Value> {
    match syntax {
        Syntax::Json => parse_json(text, source),
        Syntax::Yaml => parse_yaml(text, source),
    }
}

/// [`parse`], then the value as `T`, naming the field (and its line) that does not fit.
pub fn read<T: DeserializeOwned>(text: &str, syntax: Syntax, source: &Source) -> Result<T> {
    deserialize(parse(text, syntax, source)?, text, source)
}

/// A value already read with [`parse`] as `T`, naming the field and its line in `text`
/// when it does not fit.
pub fn deserialize<T: DeserializeOwned>(value: Value, text: &str, source: &Source) -> Result<T> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let segments: Vec<String> = error.path().iter().map(|segment| segment.to_string()).collect();
        let field = error.path().to_string();
        let message = crate::error::shorten_quoted(&error.into_inner().to_string());
        let line = line_of(text, &segments).unwrap_or(0);
        let at = source.at(line, 0);
        let docs = source.docs.unwrap_or("the documentation of this file");
        let hint = if message.contains("unknown field") {
            format!("remove or rename the key; {docs} lists the accepted keys")
        } else if message.contains("missing field") {
            format!("add the key; {docs} shows a complete file")
        } else if message.contains("unknown variant") {
            "use one of the values listed".to_string()
        } else {
            format!("fix the value's type; {docs} lists each key with its type")
        };
        let whole = field.is_empty() || field == ".";
        let field = match (source.within, whole) {
            (None, true) => String::new(),
            (None, false) => format!(" at `{field}`"),
            (Some(within), true) => format!(" at `{within}`"),
            (Some(within), false) => format!(" at `{within}.{field}`"),
        };
        Error::new(source.kind, format!("{at}: {}{field}: {message}", source.what)).hint(hint)
    })
}

/// Strict JSON from bytes, with only the reason on failure, for readers that word their
/// own messages (a signature, a statement inside one).
pub fn json_value(bytes: &[u8]) -> std::result::Result<Value, String> {
    strict_json(bytes).map_err(|error| error.to_string())
}

/// One JSON document, strictly, and nothing after it.
fn strict_json(bytes: &[u8]) -> serde_json::Result<Value> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let StrictValue(value) = serde::Deserialize::deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(value)
}

fn parse_json(text: &str, source: &Source) -> Result<Value> {
    strict_json(text.as_bytes()).map_err(|error| {
        let (line, column) = (error.line(), error.column());
        let reason = error.to_string();
        let reason = reason.strip_suffix(&format!(" at line {line} column {column}")).unwrap_or(&reason).to_string();
        Error::new(source.kind, format!("{}: {} is not valid JSON: {reason}", source.at(line, column), source.what))
            .hint(hint_for(&reason, Syntax::Json))
    })
}

fn parse_yaml(text: &str, source: &Source) -> Result<Value> {
    if let Some(line) = too_deep(text) {
        return Err(Error::new(
            source.kind,
            format!("{}: {} is nested more than {MAX_DEPTH} levels deep", source.at(line, 0), source.what),
        )
        .hint("no modelgate file needs that much nesting: this is not the file it should be"));
    }
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
            let reason = message.split(" at line ").next().unwrap_or(&message).to_string();
            Err(Error::new(
                source.kind,
                format!("{}: {} is not valid YAML: {reason}", source.at(line, column), source.what),
            )
            .hint(hint_for(&reason, Syntax::Yaml)))
        }
    }
}

fn hint_for(reason: &str, syntax: Syntax) -> String {
    if reason.contains("duplicate key") {
        "write each key once: a reader keeps only one of the values, so the other would be silently lost".into()
    } else if reason.contains("not finite") {
        "write a finite number: .nan and .inf have no JSON form and compare with nothing".into()
    } else if reason.contains("nesting too deep") {
        format!("no modelgate file nests more than {MAX_DEPTH} levels")
    } else if syntax == Syntax::Yaml {
        "fix the YAML (quote values that contain `: ` or start with `[`, `{`, `*`, `&`, `!`, `%` or `@`; one document per file)".into()
    } else {
        format!("fix the {} at that line and column (one document per file)", syntax.name())
    }
}

/// The line of the second occurrence of a duplicated key, when the parser gives no position.
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

/// The first line at which the text nests deeper than [`MAX_TEXT_DEPTH`]: flow brackets
/// outside quotes and comments, plus block nesting (indentation levels and `- ` items).
/// An over-estimate is fine; the reader checks the exact depth. So that no reading of
/// quotes the parser would not share can hide brackets from the estimate, brackets are
/// also counted with quotes ignored, against the looser [`MAX_BRACKETS`].
fn too_deep(text: &str) -> Option<usize> {
    let mut indents: Vec<usize> = Vec::new();
    let mut flow = 0usize;
    let mut brackets = 0usize;
    for (index, line) in text.lines().enumerate() {
        for character in line.chars() {
            match character {
                '[' | '{' => {
                    brackets += 1;
                    if brackets > MAX_BRACKETS {
                        return Some(index + 1);
                    }
                }
                ']' | '}' => brackets = brackets.saturating_sub(1),
                _ => {}
            }
        }
        let content = line.trim_start_matches(' ');
        if flow == 0 && !content.is_empty() && !content.starts_with('#') {
            let indent = line.len() - content.len();
            while indents.last().is_some_and(|&top| top > indent) {
                indents.pop();
            }
            if indents.last() != Some(&indent) {
                indents.push(indent);
            }
        }
        let mut items = 0;
        let mut rest = content;
        while let Some(after) = rest.strip_prefix("- ").or_else(|| rest.strip_prefix("-\t")) {
            items += 1;
            rest = after.trim_start();
        }
        let mut quote: Option<char> = None;
        let mut previous = ' ';
        // The last character outside quotes that was not a space: a quote opens a
        // quoted scalar only where a scalar may start (`x 'y` is a plain scalar).
        let mut last: Option<char> = None;
        let mut peak = flow;
        for character in rest.chars() {
            match quote {
                Some('"') if character == '"' && previous != '\\' => quote = None,
                Some('\'') if character == '\'' => quote = None,
                Some(_) => {}
                None => match character {
                    '"' | '\'' if last.is_none_or(|last| matches!(last, '[' | '{' | ',' | ':' | '-' | '?')) => {
                        quote = Some(character)
                    }
                    '#' if previous == ' ' || previous == '\t' => break,
                    '[' | '{' => {
                        flow += 1;
                        peak = peak.max(flow);
                    }
                    ']' | '}' => flow = flow.saturating_sub(1),
                    _ => {}
                },
            }
            if quote.is_none() && !character.is_whitespace() {
                last = Some(character);
            }
            previous = character;
        }
        if indents.len() + items + peak > MAX_TEXT_DEPTH {
            return Some(index + 1);
        }
    }
    None
}

/// The 1-based line of the value at `path` (mapping keys; list indexes are skipped) in a
/// JSON or block YAML text, found by following the keys forward through the text.
/// `None` when a key is not found as written.
pub fn line_of(text: &str, path: &[String]) -> Option<usize> {
    let mut offset = 0;
    let mut found = false;
    for segment in path {
        if segment.parse::<usize>().is_ok() || segment.starts_with('[') {
            continue;
        }
        let key = segment.trim_matches(['"', '\'']);
        offset = find_key(text, offset, key)?;
        found = true;
    }
    found.then(|| text[..offset].matches('\n').count() + 1)
}

/// The offset of `key` written as a mapping key (`key:`, `"key":`, `- key:`, `{key: …`)
/// at or after `from`.
fn find_key(text: &str, from: usize, key: &str) -> Option<usize> {
    if key.is_empty() {
        return None;
    }
    let mut start = from;
    while let Some(position) = text.get(start..)?.find(key) {
        let at = start + position;
        let before = text[..at].trim_end_matches(['"', '\'']);
        let opens = before.is_empty()
            || before.ends_with(['\n', ' ', '\t', '{', ','])
            || before.ends_with("- ")
            || before.ends_with('-');
        let after = text[at + key.len()..].trim_start_matches(['"', '\'']).trim_start_matches([' ', '\t']);
        if opens && after.starts_with(':') {
            return Some(at);
        }
        start = at + key.len();
    }
    None
}

/// Deserialize into this instead of `serde_json::Value`.
pub struct StrictValue(pub Value);

impl<'de> serde::Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<StrictValue, D::Error> {
        deserializer.deserialize_any(StrictVisitor(0)).map(StrictValue)
    }
}

struct StrictSeed(usize);

impl<'de> DeserializeSeed<'de> for StrictSeed {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> std::result::Result<Value, D::Error> {
        deserializer.deserialize_any(StrictVisitor(self.0))
    }
}

/// Visits one value at the given depth.
struct StrictVisitor(usize);

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a JSON or YAML value")
    }
    fn visit_bool<E>(self, value: bool) -> std::result::Result<Value, E> {
        Ok(Value::Bool(value))
    }
    fn visit_i64<E>(self, value: i64) -> std::result::Result<Value, E> {
        Ok(Value::from(value))
    }
    fn visit_u64<E>(self, value: u64) -> std::result::Result<Value, E> {
        Ok(Value::from(value))
    }
    fn visit_f64<E: de::Error>(self, value: f64) -> std::result::Result<Value, E> {
        Number::from_f64(value)
            .map(Value::Number)
            .ok_or_else(|| E::custom(format_args!("the number {value} is not finite")))
    }
    fn visit_str<E>(self, value: &str) -> std::result::Result<Value, E> {
        Ok(Value::String(value.to_string()))
    }
    fn visit_string<E>(self, value: String) -> std::result::Result<Value, E> {
        Ok(Value::String(value))
    }
    fn visit_unit<E>(self) -> std::result::Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> std::result::Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> std::result::Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Value, A::Error> {
        if self.0 >= MAX_DEPTH {
            return Err(de::Error::custom("nesting too deep"));
        }
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(StrictSeed(self.0 + 1))? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Value, A::Error> {
        if self.0 >= MAX_DEPTH {
            return Err(de::Error::custom("nesting too deep"));
        }
        let mut object = Map::new();
        while let Some(key) = map.next_key_seed(StrictSeed(self.0 + 1))? {
            // JSON keys are strings; a YAML key may be any scalar (`2024: …`).
            let key = match key {
                Value::String(key) => key,
                other => other.to_string(),
            };
            let value = map.next_value_seed(StrictSeed(self.0 + 1))?;
            if object.contains_key(&key) {
                return Err(de::Error::custom(format_args!("duplicate key `{key}`")));
            }
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// The kind name of a value for messages: "a string", "a mapping", "nothing".
pub fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source() -> Source<'static> {
        Source::new(Path::new("f.yaml"), "the file", ErrorKind::Config)
    }

    #[test]
    fn refuses_duplicates_and_deep_nesting() {
        let json = |text: &str| parse(text, Syntax::Json, &source());
        assert_eq!(json(r#"{"a": [1, {"b": 2}]}"#).expect("valid"), serde_json::json!({"a": [1, {"b": 2}]}));
        assert!(json(r#"{"a": {"b": 1, "b": 2}}"#).expect_err("duplicate").message.contains("duplicate key `b`"));
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(json(&deep).expect_err("deep").message.contains("nesting too deep"));
        assert!(json("{} {}").expect_err("trailing").message.contains("trailing"));
        let yaml = parse("2024: x\nn: 1.5\n", Syntax::Yaml, &source()).expect("yaml");
        assert_eq!(yaml, serde_json::json!({"2024": "x", "n": 1.5}));
    }

    #[test]
    fn yaml_errors_name_the_line() {
        let error = parse("license: mit\ntags: [a]\nlicense: apache-2.0\n", Syntax::Yaml, &source().starting_at(2))
            .expect_err("duplicate");
        assert!(error.message.contains("duplicate key `license`"), "{}", error.message);
        assert!(error.message.starts_with("f.yaml:4:"), "{}", error.message);
        let error = parse("a: 1\nb: .nan\n", Syntax::Yaml, &source()).expect_err("nan");
        assert!(error.message.contains("not finite"), "{}", error.message);
        assert!(error.hint.as_deref().is_some_and(|hint| hint.contains("finite")));
        let error = parse("a: 1\n---\nb: 2\n", Syntax::Yaml, &source()).expect_err("two documents");
        assert!(error.message.starts_with("f.yaml"), "{}", error.message);
    }

    #[test]
    fn deep_yaml_is_refused_before_parsing() {
        let started = std::time::Instant::now();
        let flow = format!("a: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse(&flow, Syntax::Yaml, &source()).expect_err("deep").message.contains("nested more than"));
        let block = format!("a:\n  {}x\n", "- ".repeat(100_000));
        assert!(parse(&block, Syntax::Yaml, &source()).expect_err("deep").message.contains("nested more than"));
        // A quote inside a plain scalar opens nothing, whatever follows.
        let hidden = format!("cmd: [x 'y, {}\n", "[".repeat(100_000));
        assert!(parse(&hidden, Syntax::Yaml, &source()).expect_err("deep").message.contains("nested more than"));
        let quoted = format!("cmd: ['{}\n", "[".repeat(100_000));
        assert!(parse(&quoted, Syntax::Yaml, &source()).expect_err("deep").message.contains("nested more than"));
        // No timing assertion: the point is that the parser never sees the text.
        let _ = started.elapsed();
        let fine = "a:\n  b:\n    - [1, 2, {c: 'x # [not a bracket'}]\n    - d: \"[[[[\"\n";
        assert!(parse(fine, Syntax::Yaml, &source()).is_ok());
    }

    #[test]
    fn typed_errors_name_field_and_line() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct File {
            items: Vec<Item>,
        }
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Item {
            size: u32,
        }
        let text = "items:\n  - size: 1\n  - size: big\n";
        let error = read::<File>(text, Syntax::Yaml, &source()).expect_err("type");
        assert!(error.message.contains("`items[1].size`"), "{}", error.message);
        assert!(error.message.starts_with("f.yaml:"), "{}", error.message);
        assert_eq!(line_of("a:\n  b:\n    c: 1\n", &["a".into(), "b".into(), "c".into()]), Some(3));
        assert_eq!(line_of("{\"a\": {\n \"c\": 1}}", &["a".into(), "c".into()]), Some(2));
    }
}
