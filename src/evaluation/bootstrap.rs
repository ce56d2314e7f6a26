//! Bootstrap confidence intervals for the headline metrics of a binary model, computed in
//! the same single pass as the metrics: every row enters each replicate with a Poisson(1)
//! weight (the "Poisson bootstrap", the streaming form of resampling with replacement;
//! Hanley & MacGibbon 2006, Chamandy et al. 2012). Seeded: the same file and seed give
//! the same intervals. Percentile intervals, linear interpolation between order statistics.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::binary::Counts;
use super::fairness::{self, GroupValue};
use super::{grow, Metric};
use crate::evidence::{Interval, Intervals};

/// `[evaluation.bootstrap]` in modelgate.toml, or `--bootstrap N --seed S --level L`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BootstrapSpec {
    #[serde(default = "default_replicates")]
    pub replicates: u32,
    /// Confidence level, e.g. 0.95 for a 95% interval.
    #[serde(default = "default_level")]
    pub level: f64,
    #[serde(default)]
    pub seed: u64,
}

fn default_replicates() -> u32 {
    200
}

fn default_level() -> f64 {
    0.95
}

/// Overall metrics that get an interval.
const METRICS: &[&str] = &["accuracy", "precision", "recall", "f1", "selection_rate", "tpr", "fpr"];

struct Replicate {
    rng: u64,
    overall: Counts,
    groups: Vec<Vec<Counts>>,
}

pub struct Bootstrap {
    spec: BootstrapSpec,
    replicates: Vec<Replicate>,
}

impl Bootstrap {
    pub fn new(spec: &BootstrapSpec, specs: usize) -> Bootstrap {
        let replicates = (0..spec.replicates)
            .map(|r| Replicate {
                rng: spec.seed ^ (u64::from(r) + 1).wrapping_mul(0xd1b5_4a32_d192_ed03),
                overall: Counts::default(),
                groups: vec![Vec::new(); specs],
            })
            .collect();
        Bootstrap { spec: spec.clone(), replicates }
    }

    #[inline]
    pub fn add(&mut self, truth: bool, predicted: bool, weight: f64, group_ids: &[u32]) {
        for replicate in &mut self.replicates {
            let draws = poisson_one(&mut replicate.rng);
            if draws == 0 {
                continue;
            }
            let weight = weight * f64::from(draws);
            replicate.overall.add(truth, predicted, weight);
            for (groups, &id) in replicate.groups.iter_mut().zip(group_ids) {
                grow(groups, id).add(truth, predicted, weight);
            }
        }
    }

    /// The intervals, for the overall metrics and each sensitive spec (in `keys` order).
    pub fn intervals(self, keys: &[String]) -> Intervals {
        let mut samples: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        let mut fairness_samples: Vec<BTreeMap<&'static str, Vec<f64>>> = vec![BTreeMap::new(); keys.len()];
        for replicate in &self.replicates {
            for metric in replicate.overall.metrics() {
                if let (true, Some(value)) = (METRICS.contains(&metric.name.as_str()), metric.value) {
                    samples.entry(metric.name).or_default().push(value);
                }
            }
            for (groups, out) in replicate.groups.iter().zip(&mut fairness_samples) {
                for (name, value) in replicate_disparities(groups) {
                    if let Some(value) = value {
                        out.entry(name).or_default().push(value);
                    }
                }
            }
        }
        let level = self.spec.level;
        let interval = |values: &mut Vec<f64>| interval(values, level);
        Intervals {
            method: "poisson-bootstrap".into(),
            replicates: self.spec.replicates,
            level,
            seed: self.spec.seed,
            metrics: samples.into_iter().map(|(name, mut values)| (name, interval(&mut values))).collect(),
            fairness: keys
                .iter()
                .zip(fairness_samples)
                .map(|(key, samples)| {
                    let intervals = samples
                        .into_iter()
                        .map(|(name, mut values)| (name.to_string(), interval(&mut values)))
                        .collect();
                    (key.clone(), intervals)
                })
                .collect(),
        }
    }
}

/// The headline disparities of one replicate's groups.
fn replicate_disparities(groups: &[Counts]) -> Vec<(&'static str, Option<f64>)> {
    let names: Vec<String> = (0..groups.len()).map(|i| i.to_string()).collect();
    let metrics: Vec<Vec<Metric>> = groups.iter().filter(|g| g.rows > 0).map(Counts::metrics).collect();
    let values = |metric: &str| -> Vec<GroupValue> {
        metrics
            .iter()
            .zip(&names)
            .map(|(metrics, group)| GroupValue {
                group,
                value: metrics.iter().find(|m| m.name == metric).and_then(|m| m.value),
            })
            .collect()
    };
    let (selection, tpr, fpr) = (values("selection_rate"), values("tpr"), values("fpr"));
    let (tpr_difference, fpr_difference) = (fairness::difference("tpr", &tpr), fairness::difference("fpr", &fpr));
    let (tpr_ratio, fpr_ratio) = (fairness::ratio("tpr", &tpr), fairness::ratio("fpr", &fpr));
    vec![
        ("demographic_parity_difference", fairness::difference("selection_rate", &selection).value),
        ("demographic_parity_ratio", fairness::ratio("selection_rate", &selection).value),
        ("equalized_odds_difference", fairness::equalized_odds(&tpr_difference, &fpr_difference, true, false).value),
        ("equalized_odds_ratio", fairness::equalized_odds(&tpr_ratio, &fpr_ratio, false, false).value),
        ("equal_opportunity_difference", tpr_difference.value),
        ("equal_opportunity_ratio", tpr_ratio.value),
    ]
}

/// The central `level` interval of `values` (percentile method).
fn interval(values: &mut [f64], level: f64) -> Interval {
    if values.is_empty() {
        return Interval { lower: None, upper: None };
    }
    values.sort_by(f64::total_cmp);
    let tail = (1.0 - level) / 2.0;
    Interval { lower: Some(quantile(values, tail)), upper: Some(quantile(values, 1.0 - tail)) }
}

/// Linear interpolation between order statistics (numpy's default `percentile`).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    let position = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let below = position.floor() as usize;
    let above = position.ceil() as usize;
    let fraction = position - below as f64;
    sorted[below] + (sorted[above] - sorted[below]) * fraction
}

/// A Poisson(1) draw from a splitmix64 stream.
#[inline]
fn poisson_one(state: &mut u64) -> u32 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    let uniform = (z >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
    // Inverse CDF: P(k) = e⁻¹ / k!.
    let mut probability = std::f64::consts::E.recip();
    let mut cumulative = probability;
    let mut k = 0;
    while uniform > cumulative && k < 20 {
        k += 1;
        probability /= f64::from(k);
        cumulative += probability;
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poisson_draws_have_mean_and_variance_one() {
        let mut state = 7;
        let draws: Vec<f64> = (0..200_000).map(|_| f64::from(poisson_one(&mut state))).collect();
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        let variance = draws.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / draws.len() as f64;
        assert!((mean - 1.0).abs() < 0.01, "{mean}");
        assert!((variance - 1.0).abs() < 0.02, "{variance}");
    }

    #[test]
    fn quantiles_interpolate_like_numpy() {
        // numpy.percentile([1, 2, 3, 4], [2.5, 50, 97.5]) = [1.075, 2.5, 3.925]
        let sorted = [1.0, 2.0, 3.0, 4.0];
        assert!((quantile(&sorted, 0.025) - 1.075).abs() < 1e-12);
        assert_eq!(quantile(&sorted, 0.5), 2.5);
        assert!((quantile(&sorted, 0.975) - 3.925).abs() < 1e-12);
    }
}
