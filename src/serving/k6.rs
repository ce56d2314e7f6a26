//! k6 end-of-test summaries, in the three JSON shapes k6 writes, mapped onto [`Serving`].
//!
//! Read from k6's source (`internal/js/summary-wrapper.js`, `internal/js/summary.go`,
//! `internal/lib/summary/machine_readable.go`) at v0.45.0, v1.0.0, v1.5.0, v2.0.0 and v2.2.0:
//!
//! - **summary export** (`k6 run --summary-export FILE`): `metrics.<name>` holds the values flat
//!   (`med`, `p(95)`, …); a rate metric's rate is called `value`; thresholds are `{source: failed}`.
//! - **handleSummary data** (`JSON.stringify(data)` in `handleSummary`): `metrics.<name>` is
//!   `{type, contains, values: {…}, thresholds?}`, plus `state.testRunDurationMs`.
//! - **machine-readable summary** (k6 ≥ 1.5 with `--new-machine-readable-summary`, for both the
//!   export and `handleSummary`): `{version: "1.0.0", config: {duration}, results: {metrics: [{name,
//!   type, contains, values}]}}`, with trend keys `p90`/`p95` (no `p99`) and rate keys
//!   `matches`/`total`/`rate`.
//!
//! Time trends are in milliseconds in all three. Latency comes from the
//! `http_req_duration{expected_response:true}` submetric (successful responses only, k6's default
//! since v0.31) when present, else from `http_req_duration`.

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, ErrorKind, Result};
use crate::evidence::{Latency, Serving};

/// The latency metric of all HTTP requests.
pub const DURATION: &str = "http_req_duration";
/// The latency submetric of successful responses, preferred when present.
pub const DURATION_EXPECTED: &str = "http_req_duration{expected_response:true}";

/// Which k6 shape a document is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    SummaryExport,
    HandleSummary,
    MachineReadable,
}

/// Recognises a k6 summary by its structure, or returns `None`.
pub fn detect(document: &Value) -> Option<Shape> {
    let results_metrics = document.pointer("/results/metrics");
    if results_metrics.is_some_and(Value::is_array) && document.get("version").is_some() {
        return Some(Shape::MachineReadable);
    }
    let metrics = document.get("metrics")?.as_object()?;
    let sample =
        metrics.get(DURATION).or_else(|| metrics.get(DURATION_EXPECTED)).or_else(|| metrics.values().next())?;
    let wrapped = sample.as_object().is_some_and(|sample| sample.contains_key("values") && sample.contains_key("type"));
    if wrapped {
        Some(Shape::HandleSummary)
    } else {
        Some(Shape::SummaryExport)
    }
}

/// A trend's statistics (k6 writes only those in `summaryTrendStats`).
#[derive(Debug, Default, Deserialize)]
struct Trend {
    #[serde(default)]
    med: Option<f64>,
    #[serde(default, rename = "p(90)", alias = "p90")]
    p90: Option<f64>,
    #[serde(default, rename = "p(95)", alias = "p95")]
    p95: Option<f64>,
    #[serde(default, rename = "p(99)", alias = "p99")]
    p99: Option<f64>,
    #[serde(default)]
    avg: Option<f64>,
    #[serde(default)]
    max: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
struct Counter {
    #[serde(default)]
    count: Option<f64>,
    #[serde(default)]
    rate: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
struct Gauge {
    #[serde(default)]
    max: Option<f64>,
    #[serde(default)]
    value: Option<f64>,
}

/// A rate metric; the summary export calls the rate `value`.
#[derive(Debug, Default, Deserialize)]
struct Rate {
    #[serde(default, alias = "value")]
    rate: Option<f64>,
}

/// What modelgate takes from any k6 summary.
#[derive(Debug, Default)]
struct Figures {
    latency: Trend,
    /// `http_reqs.count`, with the field path for errors.
    requests: Option<(f64, String)>,
    requests_per_second: Option<f64>,
    /// `http_req_failed`'s rate: the share of failed requests.
    failed: Option<f64>,
    /// `vus_max`, with the field path for errors.
    virtual_users: Option<(f64, String)>,
    duration_s: Option<f64>,
}

/// Maps a k6 summary of the given shape onto [`Serving`]; `source` names the file in errors.
pub fn parse(source: &str, shape: Shape, document: Value) -> Result<Serving> {
    let figures = match shape {
        Shape::SummaryExport => summary_export(source, document)?,
        Shape::HandleSummary => handle_summary(source, document)?,
        Shape::MachineReadable => machine_readable(source, document)?,
    };
    into_serving(source, figures)
}

fn summary_export(source: &str, document: Value) -> Result<Figures> {
    let metrics = metrics_object(source, &document, "metrics")?;
    let latency_name = latency_metric(source, metrics.keys().map(String::as_str))?;
    let count_path = "metrics.http_reqs.count".to_string();
    let counter: Counter = metric(source, metrics.get("http_reqs"), "metrics.http_reqs")?.unwrap_or_default();
    let vus: Option<Gauge> = metric(source, metrics.get("vus_max"), "metrics.vus_max")?;
    let requests = counter.count.map(|count| (count, count_path));
    // The export drops `state`; k6 computes a counter's rate as count / test-run seconds.
    let duration_s = match (&requests, counter.rate) {
        (Some((count, _)), Some(rate)) if rate > 0.0 => Some(count / rate),
        _ => None,
    };
    Ok(Figures {
        latency: metric(source, metrics.get(latency_name), &format!("metrics.{latency_name}"))?.unwrap_or_default(),
        requests,
        requests_per_second: counter.rate,
        failed: metric::<Rate>(source, metrics.get("http_req_failed"), "metrics.http_req_failed")?
            .and_then(|rate| rate.rate),
        virtual_users: vus.and_then(|gauge| gauge.max.or(gauge.value)).map(|max| (max, "metrics.vus_max.max".into())),
        duration_s,
    })
}

fn handle_summary(source: &str, document: Value) -> Result<Figures> {
    let metrics = metrics_object(source, &document, "metrics")?;
    let latency_name = latency_metric(source, metrics.keys().map(String::as_str))?;
    let values = |name: &str| metrics.get(name).and_then(|metric| metric.get("values"));
    let counter: Counter = metric(source, values("http_reqs"), "metrics.http_reqs.values")?.unwrap_or_default();
    let vus: Option<Gauge> = metric(source, values("vus_max"), "metrics.vus_max.values")?;
    let duration_ms: Option<f64> =
        metric(source, document.pointer("/state/testRunDurationMs"), "state.testRunDurationMs")?;
    Ok(Figures {
        latency: metric(source, values(latency_name), &format!("metrics.{latency_name}.values"))?.unwrap_or_default(),
        requests: counter.count.map(|count| (count, "metrics.http_reqs.values.count".into())),
        requests_per_second: counter.rate,
        failed: metric::<Rate>(source, values("http_req_failed"), "metrics.http_req_failed.values")?
            .and_then(|rate| rate.rate),
        virtual_users: vus
            .and_then(|gauge| gauge.max.or(gauge.value))
            .map(|max| (max, "metrics.vus_max.values.max".into())),
        duration_s: duration_ms.map(|milliseconds| milliseconds / 1000.0),
    })
}

#[derive(Deserialize)]
struct NamedMetric {
    name: String,
    #[serde(default)]
    values: Value,
}

fn machine_readable(source: &str, document: Value) -> Result<Figures> {
    let listed: Vec<NamedMetric> =
        metric(source, document.pointer("/results/metrics"), "results.metrics")?.unwrap_or_default();
    let latency_name = latency_metric(source, listed.iter().map(|metric| metric.name.as_str()))?;
    let latency: Option<(Trend, String)> = listed_metric(source, &listed, latency_name)?;
    let counter: Option<(Counter, String)> = listed_metric(source, &listed, "http_reqs")?;
    let failed: Option<(Rate, String)> = listed_metric(source, &listed, "http_req_failed")?;
    let vus: Option<(Gauge, String)> = listed_metric(source, &listed, "vus_max")?;
    let duration_s: Option<f64> = metric(source, document.pointer("/config/duration"), "config.duration")?;
    let requests = counter.and_then(|(counter, path)| counter.count.map(|count| (count, format!("{path}.count"))));
    // This shape has no counter rates: the rate is the count over the test-run duration.
    let requests_per_second = match (&requests, duration_s) {
        (Some((count, _)), Some(seconds)) if seconds > 0.0 => Some(count / seconds),
        _ => None,
    };
    Ok(Figures {
        latency: latency.map(|(trend, _)| trend).unwrap_or_default(),
        requests,
        requests_per_second,
        failed: failed.and_then(|(rate, _)| rate.rate),
        virtual_users: vus.and_then(|(gauge, path)| gauge.max.or(gauge.value).map(|max| (max, format!("{path}.max")))),
        duration_s,
    })
}

/// The values of the metric called `name` in the machine-readable list, with their field path.
fn listed_metric<T: DeserializeOwned>(source: &str, listed: &[NamedMetric], name: &str) -> Result<Option<(T, String)>> {
    let Some(index) = listed.iter().position(|metric| metric.name == name) else { return Ok(None) };
    let path = format!("results.metrics[{index}].values");
    Ok(metric(source, listed.get(index).map(|metric| &metric.values), &path)?.map(|values| (values, path)))
}

fn metrics_object<'a>(source: &str, document: &'a Value, path: &str) -> Result<&'a serde_json::Map<String, Value>> {
    document.get(path).and_then(Value::as_object).ok_or_else(|| {
        Error::new(ErrorKind::Serving, format!("{source}: `{path}` is not an object"))
            .hint("pass the JSON file k6 wrote, unchanged")
    })
}

/// The latency metric to read: the successful-responses submetric when k6 wrote it.
fn latency_metric<'a>(source: &str, mut names: impl Iterator<Item = &'a str> + Clone) -> Result<&'static str> {
    if names.clone().any(|name| name == DURATION_EXPECTED) {
        Ok(DURATION_EXPECTED)
    } else if names.any(|name| name == DURATION) {
        Ok(DURATION)
    } else {
        Err(Error::new(ErrorKind::Serving, format!("{source}: the k6 summary has no `{DURATION}` metric"))
            .hint("modelgate reads latency from k6's HTTP metrics: load-test the model's HTTP endpoint with k6/http"))
    }
}

/// Deserializes one metric's values (or `None` when absent), naming the field on failure.
fn metric<T: DeserializeOwned>(source: &str, value: Option<&Value>, path: &str) -> Result<Option<T>> {
    let Some(value) = value.filter(|value| !value.is_null()) else { return Ok(None) };
    serde_path_to_error::deserialize(value).map(Some).map_err(|error| {
        let inner = error.path().to_string();
        let field = if inner == "." { path.to_string() } else { format!("{path}.{inner}") };
        Error::new(
            ErrorKind::Serving,
            format!("{source}: k6 summary field `{field}` is not what k6 writes: {}", error.into_inner()),
        )
        .hint("pass the JSON file k6 wrote, unchanged; see docs/serving.md for the fields modelgate reads")
    })
}

fn into_serving(source: &str, figures: Figures) -> Result<Serving> {
    let requests = figures.requests.map(|(count, path)| whole(source, count, &path)).transpose()?;
    let concurrency = figures.virtual_users.map(|(users, path)| whole(source, users, &path)).transpose()?;
    // Successful requests per second, the same definition as `modelgate loadtest`.
    let throughput_rps = figures.requests_per_second.map(|rate| rate * (1.0 - figures.failed.unwrap_or(0.0)));
    let trend = figures.latency;
    Ok(Serving {
        latency_ms: Latency {
            p50: trend.med,
            p90: trend.p90,
            p95: trend.p95,
            p99: trend.p99,
            mean: trend.avg,
            max: trend.max,
        },
        throughput_rps,
        error_rate: figures.failed,
        requests,
        duration_s: figures.duration_s,
        concurrency,
        source: Some(source.to_string()),
    })
}

fn whole(source: &str, value: f64, path: &str) -> Result<u64> {
    if value >= 0.0 && value.fract() == 0.0 && value <= u64::MAX as f64 {
        Ok(value as u64)
    } else {
        Err(Error::new(ErrorKind::Serving, format!("{source}: k6 summary field `{path}` is {value}, not a count"))
            .hint("pass the JSON file k6 wrote, unchanged"))
    }
}
