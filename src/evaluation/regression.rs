//! Regression: weighted error sums per population, streamed in one pass. The spread of
//! the true values (for R²) uses West's weighted update of the mean and the sum of
//! squares, which keeps full precision where `Σy² − (Σy)²/n` would cancel.

use super::Metric;

#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Errors {
    pub rows: u64,
    weight: f64,
    absolute: f64,
    squared: f64,
    signed: f64,
    mean_truth: f64,
    spread_truth: f64,
}

impl Errors {
    #[inline]
    pub fn add(&mut self, truth: f64, predicted: f64, weight: f64) {
        let error = predicted - truth;
        self.rows += 1;
        self.absolute += weight * error.abs();
        self.squared += weight * error * error;
        self.signed += weight * error;
        if weight != 0.0 {
            let total = self.weight + weight;
            let delta = truth - self.mean_truth;
            let share = weight / total;
            self.mean_truth += delta * share;
            self.spread_truth += weight * delta * (truth - self.mean_truth);
            self.weight = total;
        }
    }

    pub fn weight(&self) -> f64 {
        self.weight
    }

    /// `mae`, `mse`, `rmse`, `mean_error` (prediction minus truth) and, overall, `r2`.
    pub fn metrics(&self, with_r2: bool) -> Vec<Metric> {
        if self.weight == 0.0 {
            let mut metrics: Vec<Metric> =
                ["mae", "mse", "rmse", "mean_error"].iter().map(|name| Metric::missing(name, "no rows")).collect();
            if with_r2 {
                metrics.push(Metric::missing("r2", "no rows"));
            }
            return metrics;
        }
        let mse = self.squared / self.weight;
        let mut metrics = vec![
            Metric::value("mae", self.absolute / self.weight),
            Metric::value("mse", mse),
            Metric::value("rmse", mse.sqrt()),
            Metric::value("mean_error", self.signed / self.weight),
        ];
        if with_r2 {
            metrics.push(if self.spread_truth > 0.0 {
                Metric::value("r2", 1.0 - self.squared / self.spread_truth)
            } else {
                Metric::missing(
                    "r2",
                    "every true value is the same, so R² is undefined (scikit-learn reports 1.0 or 0.0)",
                )
            });
        }
        metrics
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r2_matches_the_textbook_formula() {
        let mut errors = Errors::default();
        let truth = [3.0, -0.5, 2.0, 7.0];
        let predicted = [2.5, 0.0, 2.0, 8.0];
        for (t, p) in truth.iter().zip(predicted) {
            errors.add(*t, p, 1.0);
        }
        let metrics = errors.metrics(true);
        let r2 = metrics.iter().find(|m| m.name == "r2").and_then(|m| m.value).unwrap_or(f64::NAN);
        // scikit-learn's documented example: r2_score([3, -0.5, 2, 7], [2.5, 0.0, 2, 8]) = 0.948...
        assert!((r2 - 0.9486081370449679).abs() < 1e-12, "{r2}");
    }
}
