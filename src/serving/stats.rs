//! Latency statistics: percentiles with numpy's default (linear) definition, and the summary
//! that becomes the evidence's `latency_ms`.

use crate::evidence::Latency;

/// The `q`-th percentile (0–100) of `sorted` (ascending), or `None` when it is empty.
///
/// Linear interpolation between the closest ranks, exactly as `numpy.percentile(x, q)` with its
/// default `method="linear"`: with `n` values, the virtual index is `h = (n - 1) * q / 100`, and
/// the result is `x[floor(h)] + (h - floor(h)) * (x[floor(h) + 1] - x[floor(h)])`. The arithmetic
/// follows numpy's own order of operations (numpy 2.x `_quantile` and `_lerp`).
pub fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    // numpy: `q = true_divide(q, 100)`, then the linear method's virtual index `(n - 1) * q`.
    let virtual_index = last as f64 * (q / 100.0);
    let below = virtual_index.floor().clamp(0.0, last as f64);
    let lower = below as usize;
    let upper = (lower + 1).min(last);
    let gamma = virtual_index - below;
    Some(lerp(sorted[lower], sorted[upper], gamma))
}

/// numpy's `_lerp`: `a + (b - a) * t`, computed from the nearer end so that `t = 1` gives `b` exactly.
fn lerp(a: f64, b: f64, t: f64) -> f64 {
    let difference = b - a;
    if t >= 0.5 {
        b - difference * (1.0 - t)
    } else {
        a + difference * t
    }
}

/// p50/p90/p95/p99, mean and max of `latencies_ms` (sorted in place); all `None` when it is empty.
pub fn summarize(latencies_ms: &mut [f64]) -> Latency {
    latencies_ms.sort_by(f64::total_cmp);
    let mean =
        if latencies_ms.is_empty() { None } else { Some(latencies_ms.iter().sum::<f64>() / latencies_ms.len() as f64) };
    Latency {
        p50: percentile(latencies_ms, 50.0),
        p90: percentile(latencies_ms, 90.0),
        p95: percentile(latencies_ms, 95.0),
        p99: percentile(latencies_ms, 99.0),
        mean,
        max: latencies_ms.last().copied(),
    }
}

/// Rounds to three decimals (a microsecond, for milliseconds): finer digits are measurement noise.
pub fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: Option<f64>, expected: f64) {
        let actual = actual.unwrap_or(f64::NAN);
        assert!((actual - expected).abs() < 1e-12, "{actual} != {expected}");
    }

    #[test]
    fn empty_has_no_percentiles() {
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(summarize(&mut []), Latency { p50: None, p90: None, p95: None, p99: None, mean: None, max: None });
    }

    #[test]
    fn single_value_is_every_percentile() {
        for q in [0.0, 50.0, 99.0, 100.0] {
            close(percentile(&[7.5], q), 7.5);
        }
    }

    // By hand from numpy's definition, h = (n - 1) * q / 100:
    // [1, 2, 3, 4]: p50 → h = 1.5 → 2 + 0.5 * 1 = 2.5; p90 → h = 2.7 → 3 + 0.7 = 3.7;
    // p95 → h = 2.85 → 3.85; p99 → h = 2.97 → 3.97; p0 → 1; p100 → 4.
    #[test]
    fn four_values_by_hand() {
        let values = [1.0, 2.0, 3.0, 4.0];
        close(percentile(&values, 50.0), 2.5);
        close(percentile(&values, 90.0), 3.7);
        close(percentile(&values, 95.0), 3.85);
        close(percentile(&values, 99.0), 3.97);
        close(percentile(&values, 0.0), 1.0);
        close(percentile(&values, 100.0), 4.0);
    }

    // [10, 20, 30, 40, 50, 60, 70, 80, 90, 1000]: n = 10.
    // p50 → h = 4.5 → 50 + 0.5 * 10 = 55; p90 → h = 8.1 → 90 + 0.1 * 910 = 181;
    // p95 → h = 8.55 → 90 + 0.55 * 910 = 590.5; p99 → h = 8.91 → 90 + 0.91 * 910 = 918.1.
    #[test]
    fn outlier_by_hand() {
        let values = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 1000.0];
        close(percentile(&values, 50.0), 55.0);
        let p90 = percentile(&values, 90.0).unwrap_or(f64::NAN);
        assert!((p90 - 181.0).abs() < 1e-9, "{p90}");
        let p95 = percentile(&values, 95.0).unwrap_or(f64::NAN);
        assert!((p95 - 590.5).abs() < 1e-9, "{p95}");
        let p99 = percentile(&values, 99.0).unwrap_or(f64::NAN);
        assert!((p99 - 918.1).abs() < 1e-9, "{p99}");
    }

    #[test]
    fn summarize_sorts_and_reports_mean_and_max() {
        let mut values = [3.0, 1.0, 4.0, 2.0];
        let latency = summarize(&mut values);
        close(latency.p50, 2.5);
        close(latency.mean, 2.5);
        close(latency.max, 4.0);
        assert_eq!(values, [1.0, 2.0, 3.0, 4.0]);
    }

    #[test]
    fn rounds_to_microseconds() {
        assert_eq!(round3(12.345_678), 12.346);
        assert_eq!(round3(0.0004), 0.0);
    }
}
