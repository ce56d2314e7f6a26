//! Binary classification: weighted confusion counts, the rates built from them, and the
//! score-based metrics (ROC AUC, average precision, log loss, Brier score).
//!
//! Definitions follow scikit-learn and fairlearn; where their answer is a division by
//! zero (recall of a group with no positives, …) the metric is `None` with a reason
//! instead of the `0.0` scikit-learn's `zero_division` default returns.

use super::Metric;

/// Weighted confusion counts of one population (the whole test set or one group).
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Counts {
    pub tp: f64,
    pub fp: f64,
    pub tn: f64,
    pub fn_: f64,
    pub rows: u64,
    pub positives: u64,
}

impl Counts {
    #[inline]
    pub fn add(&mut self, truth: bool, predicted: bool, weight: f64) {
        match (truth, predicted) {
            (true, true) => self.tp += weight,
            (false, true) => self.fp += weight,
            (false, false) => self.tn += weight,
            (true, false) => self.fn_ += weight,
        }
        self.rows += 1;
        self.positives += u64::from(truth);
    }

    pub fn weight(&self) -> f64 {
        self.tp + self.fp + self.tn + self.fn_
    }

    pub fn negatives(&self) -> u64 {
        self.rows - self.positives
    }

    /// The rate-based metrics, in a fixed order.
    pub fn metrics(&self) -> Vec<Metric> {
        let Counts { tp, fp, tn, fn_, .. } = *self;
        let actual_positive = tp + fn_;
        let actual_negative = fp + tn;
        let predicted_positive = tp + fp;
        let total = self.weight();
        let no_rows = "no rows";
        let no_positives = "no rows with the positive label";
        let no_negatives = "no rows with the negative label";
        let tpr = ratio(tp, actual_positive, no_positives);
        let tnr = ratio(tn, actual_negative, no_negatives);
        let balanced = match (tpr.value, tnr.value) {
            (Some(tpr), Some(tnr)) => Metric::value("balanced_accuracy", (tpr + tnr) / 2.0),
            _ => Metric::missing("balanced_accuracy", "needs rows with both labels"),
        };
        vec![
            ratio(tp + tn, total, no_rows).named("accuracy"),
            ratio(tp, predicted_positive, "no positive predictions").named("precision"),
            tpr.clone().named("recall"),
            ratio(2.0 * tp, 2.0 * tp + fp + fn_, "no positive labels and no positive predictions").named("f1"),
            ratio(predicted_positive, total, no_rows).named("selection_rate"),
            tpr.named("tpr"),
            ratio(fp, actual_negative, no_negatives).named("fpr"),
            ratio(fn_, actual_positive, no_positives).named("fnr"),
            tnr.named("tnr"),
            balanced,
        ]
    }
}

fn ratio(numerator: f64, denominator: f64, reason: &str) -> Metric {
    if denominator == 0.0 {
        Metric::missing("", &format!("{reason} (0/0)"))
    } else {
        Metric::value("", numerator / denominator)
    }
}

/// Scores kept for the exact ranking metrics: a score and a weight per row (16 bytes),
/// positives and negatives apart so the curve is one merge of two sorted lists.
#[derive(Debug, Default, Clone)]
pub struct Scores {
    positive: Vec<(f64, f64)>,
    negative: Vec<(f64, f64)>,
    log_loss: f64,
    brier: f64,
    weight: f64,
}

impl Scores {
    #[inline]
    pub fn add(&mut self, truth: bool, score: f64, weight: f64) {
        if truth {
            self.positive.push((score, weight));
        } else {
            self.negative.push((score, weight));
        }
        let target = if truth { 1.0 } else { 0.0 };
        let p = if truth { score } else { 1.0 - score };
        self.log_loss -= weight * p.clamp(f64::EPSILON, 1.0 - f64::EPSILON).ln();
        self.brier += weight * (target - score) * (target - score);
        self.weight += weight;
    }

    /// ROC AUC, average precision (`pr_auc`), log loss and Brier score.
    /// `probabilities` is false for decision scores, which have no log loss or Brier score.
    pub fn metrics(mut self, probabilities: bool) -> Vec<Metric> {
        let mut metrics = Vec::new();
        if probabilities {
            if self.weight > 0.0 {
                metrics.push(Metric::value("log_loss", self.log_loss / self.weight));
                metrics.push(Metric::value("brier", self.brier / self.weight));
            } else {
                metrics.push(Metric::missing("log_loss", "no rows"));
                metrics.push(Metric::missing("brier", "no rows"));
            }
        }
        let descending = |a: &(f64, f64), b: &(f64, f64)| b.0.total_cmp(&a.0);
        // The two lists sort on two cores.
        let (positive, negative) = (&mut self.positive, &mut self.negative);
        std::thread::scope(|scope| {
            scope.spawn(|| positive.sort_unstable_by(descending));
            negative.sort_unstable_by(descending);
        });
        let curve = curve(&self.positive, &self.negative);
        metrics.push(roc_auc(&curve));
        metrics.push(average_precision(&curve));
        metrics
    }
}

/// Cumulative (false positives, true positives) at each distinct score, highest first,
/// as scikit-learn's `_binary_clf_curve` computes them.
fn curve(positive: &[(f64, f64)], negative: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut points = Vec::new();
    let (mut i, mut j) = (0, 0);
    let (mut fps, mut tps) = (0.0, 0.0);
    while i < positive.len() || j < negative.len() {
        let threshold = match (positive.get(i), negative.get(j)) {
            (Some(p), Some(n)) => p.0.max(n.0),
            (Some(p), None) => p.0,
            (None, Some(n)) => n.0,
            (None, None) => break,
        };
        while let Some(&(_, weight)) = positive.get(i).filter(|(score, _)| *score == threshold) {
            tps += weight;
            i += 1;
        }
        while let Some(&(_, weight)) = negative.get(j).filter(|(score, _)| *score == threshold) {
            fps += weight;
            j += 1;
        }
        points.push((fps, tps));
    }
    points
}

fn roc_auc(curve: &[(f64, f64)]) -> Metric {
    let Some(&(total_fp, total_tp)) = curve.last() else {
        return Metric::missing("roc_auc", "no rows");
    };
    if total_tp <= 0.0 || total_fp <= 0.0 {
        return Metric::missing("roc_auc", "needs rows with both labels (only one class in the test set)");
    }
    let mut area = 0.0;
    let (mut x0, mut y0) = (0.0, 0.0);
    for &(fp, tp) in curve {
        let (x1, y1) = (fp / total_fp, tp / total_tp);
        area += (x1 - x0) * (y1 + y0) / 2.0;
        (x0, y0) = (x1, y1);
    }
    Metric::value("roc_auc", area)
}

/// Average precision: the sum over thresholds of (recall increase) × precision, the
/// step-wise area under the precision-recall curve (scikit-learn's `average_precision_score`).
fn average_precision(curve: &[(f64, f64)]) -> Metric {
    let Some(&(_, total_tp)) = curve.last() else {
        return Metric::missing("pr_auc", "no rows");
    };
    if total_tp <= 0.0 {
        return Metric::missing("pr_auc", "no rows with the positive label");
    }
    let mut area = 0.0;
    let mut previous_recall = 0.0;
    for &(fp, tp) in curve {
        let recall = tp / total_tp;
        let precision = if tp + fp > 0.0 { tp / (tp + fp) } else { 0.0 };
        area += (recall - previous_recall) * precision;
        previous_recall = recall;
    }
    Metric::value("pr_auc", area)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(metrics: &[Metric], name: &str) -> Option<f64> {
        metrics.iter().find(|m| m.name == name).and_then(|m| m.value)
    }

    #[test]
    fn rates_and_zero_denominators() {
        let mut counts = Counts::default();
        counts.add(false, false, 1.0);
        counts.add(false, true, 1.0);
        let metrics = counts.metrics();
        assert_eq!(get(&metrics, "accuracy"), Some(0.5));
        assert_eq!(get(&metrics, "fpr"), Some(0.5));
        let tpr = metrics.iter().find(|m| m.name == "tpr").expect("tpr");
        assert_eq!(tpr.value, None);
        assert!(tpr.reason.as_deref().unwrap_or("").contains("no rows with the positive label"));
    }

    #[test]
    fn auc_of_a_perfect_and_a_tied_ranking() {
        let mut scores = Scores::default();
        for (truth, score) in [(true, 0.9), (true, 0.8), (false, 0.3), (false, 0.1)] {
            scores.add(truth, score, 1.0);
        }
        assert_eq!(get(&scores.metrics(true), "roc_auc"), Some(1.0));
        let mut scores = Scores::default();
        for (truth, score) in [(true, 0.5), (false, 0.5)] {
            scores.add(truth, score, 1.0);
        }
        let metrics = scores.metrics(true);
        assert_eq!(get(&metrics, "roc_auc"), Some(0.5));
        assert_eq!(get(&metrics, "pr_auc"), Some(0.5));
    }
}
