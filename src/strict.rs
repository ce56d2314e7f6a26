//! A JSON value read from untrusted JSON or YAML that refuses what a plain `Value` would
//! smooth over: a key written twice at any depth (serde_json and YAML keep the last one
//! silently, so two readers could see different things), and nesting deeper than
//! [`MAX_DEPTH`] (bounded stack).

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Deepest nesting accepted.
pub const MAX_DEPTH: usize = 64;

/// Deserialize into this instead of `serde_json::Value`.
pub struct StrictValue(pub Value);

impl<'de> serde::Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<StrictValue, D::Error> {
        deserializer.deserialize_any(StrictVisitor(0)).map(StrictValue)
    }
}

struct StrictSeed(usize);

impl<'de> DeserializeSeed<'de> for StrictSeed {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
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
    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }
    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::from(value))
    }
    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::from(value))
    }
    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        // YAML's .inf and .nan have no JSON form; kept as text so nothing is lost.
        Ok(Number::from_f64(value).map_or_else(|| Value::String(value.to_string()), Value::Number))
    }
    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_string()))
    }
    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        if self.0 >= MAX_DEPTH {
            return Err(de::Error::custom("nesting too deep"));
        }
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(StrictSeed(self.0 + 1))? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_duplicates_and_deep_nesting() {
        let parse = |text: &str| serde_json::from_str::<StrictValue>(text).map(|StrictValue(value)| value);
        assert_eq!(parse(r#"{"a": [1, {"b": 2}]}"#).expect("valid"), serde_json::json!({"a": [1, {"b": 2}]}));
        assert!(parse(r#"{"a": {"b": 1, "b": 2}}"#).expect_err("duplicate").to_string().contains("duplicate key `b`"));
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(parse(&deep).expect_err("deep").to_string().contains("nesting too deep"));
        let yaml: StrictValue = yaml_serde::from_str("2024: x\nn: .inf\n").expect("yaml");
        assert_eq!(yaml.0, serde_json::json!({"2024": "x", "n": "inf"}));
    }
}
