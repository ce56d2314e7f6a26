//! Reading a load-test report file into [`Serving`], whichever accepted shape it is in.

use std::path::Path;

use serde_json::Value;

use crate::error::{Error, ErrorKind, Result};
use crate::evidence::Serving;

use super::k6;

/// The shapes [`read_report`] accepts, for error hints.
pub const ACCEPTED_SHAPES: &str = "modelgate's serving JSON (`latency_ms`, `throughput_rps`, …, as written by \
     `modelgate loadtest --format json`), k6 `--summary-export` JSON, k6 handleSummary() data \
     (`JSON.stringify(data)`), or k6's machine-readable summary (`--new-machine-readable-summary`); \
     see docs/serving.md";

/// Reads a load-test report, detecting its format by content; `source` becomes the report path.
pub fn read_report(path: &Path) -> Result<Serving> {
    let text = crate::input::read_text(path, crate::input::MAX_TEXT_BYTES, "a load-test report")?;
    parse_report(&path.display().to_string(), &text)
}

/// Parses report text; `source` names the file in errors and becomes the evidence's `source`.
pub fn parse_report(source: &str, text: &str) -> Result<Serving> {
    // Strictly: a `p(99)` written twice must not let the faster of two figures through.
    let path = std::path::Path::new(source);
    let document: Value = crate::strict::parse(
        text,
        crate::strict::Syntax::Json,
        &crate::strict::Source::new(path, "the load-test report", ErrorKind::Serving),
    )?;
    let serving = if document.get("latency_ms").is_some() {
        own_shape(source, document)?
    } else if let Some(shape) = k6::detect(&document) {
        k6::parse(source, shape, document)?
    } else {
        return Err(Error::new(ErrorKind::Serving, format!("{source}: not a load-test report modelgate can read"))
            .hint(format!("accepted: {ACCEPTED_SHAPES}")));
    };
    validate(source, &serving)?;
    Ok(serving)
}

fn own_shape(source: &str, document: Value) -> Result<Serving> {
    let mut serving: Serving = serde_path_to_error::deserialize(document).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        let hint = if inner.to_string().contains("unknown field") {
            "remove or rename the field; the serving report has exactly the fields of `evaluation.serving` (docs/serving.md)"
        } else {
            "fix the field to match `evaluation.serving` in docs/evidence.schema.json (docs/serving.md)"
        };
        Error::new(ErrorKind::Serving, format!("{source}: serving report field `{path}`: {inner}")).hint(hint)
    })?;
    serving.source = Some(source.to_string());
    Ok(serving)
}

/// Refuses figures no load test can produce, naming the field.
fn validate(source: &str, serving: &Serving) -> Result<()> {
    let latency = &serving.latency_ms;
    let non_negative = [
        ("latency_ms.p50", latency.p50),
        ("latency_ms.p90", latency.p90),
        ("latency_ms.p95", latency.p95),
        ("latency_ms.p99", latency.p99),
        ("latency_ms.mean", latency.mean),
        ("latency_ms.max", latency.max),
        ("throughput_rps", serving.throughput_rps),
        ("duration_s", serving.duration_s),
    ];
    for (field, value) in non_negative {
        if let Some(value) = value.filter(|value| *value < 0.0) {
            return Err(out_of_range(source, field, value, "0 or more"));
        }
    }
    if let Some(rate) = serving.error_rate.filter(|rate| !(0.0..=1.0).contains(rate)) {
        return Err(out_of_range(source, "error_rate", rate, "between 0 and 1"));
    }
    Ok(())
}

fn out_of_range(source: &str, field: &str, value: f64, expected: &str) -> Error {
    Error::new(ErrorKind::Serving, format!("{source}: `{field}` is {value}; it must be {expected}"))
        .hint("error_rate is a share (0.02 for 2%), latencies are milliseconds, throughput is requests per second")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(text: &str) -> String {
        parse_report("report.json", text).err().map(|error| error.message).unwrap_or_default()
    }

    #[test]
    fn own_shape_round_trips_and_source_is_the_path() {
        let text = r#"{"latency_ms": {"p50": 10.5, "p95": 30}, "throughput_rps": 120, "error_rate": 0.01,
            "requests": 1000, "source": "elsewhere"}"#;
        let serving = parse_report("report.json", text).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(serving.latency_ms.p50, Some(10.5));
        assert_eq!(serving.latency_ms.p99, None);
        assert_eq!(serving.source.as_deref(), Some("report.json"));
    }

    #[test]
    fn wrong_fields_are_named() {
        assert!(message(r#"{"latency_ms": {"p95": "fast"}}"#).contains("`latency_ms.p95`"));
        assert!(message(r#"{"latency_ms": {}, "latency": 3}"#).contains("unknown field `latency`"));
        assert!(message(r#"{"latency_ms": {}, "error_rate": 2}"#).contains("`error_rate` is 2"));
        assert!(message(r#"{"latency_ms": {"p50": -1}}"#).contains("`latency_ms.p50` is -1"));
    }

    #[test]
    fn syntax_errors_have_a_position() {
        assert!(message("{\n  \"latency_ms\": \n").starts_with("report.json:3:"));
    }

    #[test]
    fn unknown_shapes_are_refused() {
        for text in ["[]", "{}", r#"{"p95": 3}"#, r#"{"metrics": {}}"#] {
            assert!(message(text).contains("not a load-test report"), "{text}: {}", message(text));
        }
    }

    #[test]
    fn k6_without_http_metrics_is_refused() {
        let text = r#"{"metrics": {"iterations": {"count": 3, "rate": 1.5}}}"#;
        assert!(message(text).contains("no `http_req_duration` metric"));
    }
}
