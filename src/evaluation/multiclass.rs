//! Multiclass classification: a weighted confusion matrix per population, and the
//! scikit-learn metrics built from it (accuracy, macro/weighted precision, recall and F1,
//! per-class precision, recall and F1).

use super::Metric;

/// A weighted confusion matrix over classes numbered in order of first appearance.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Confusion {
    /// `cells[truth * classes + predicted]`.
    cells: Vec<f64>,
    classes: usize,
    pub rows: u64,
}

impl Confusion {
    #[inline]
    pub fn add(&mut self, truth: usize, predicted: usize, weight: f64) {
        let needed = truth.max(predicted) + 1;
        if needed > self.classes {
            self.grow(needed);
        }
        self.cells[truth * self.classes + predicted] += weight;
        self.rows += 1;
    }

    fn grow(&mut self, classes: usize) {
        let mut cells = vec![0.0; classes * classes];
        for t in 0..self.classes {
            for p in 0..self.classes {
                cells[t * classes + p] = self.cells[t * self.classes + p];
            }
        }
        self.cells = cells;
        self.classes = classes;
    }

    pub fn get(&self, truth: usize, predicted: usize) -> f64 {
        if truth < self.classes && predicted < self.classes {
            self.cells[truth * self.classes + predicted]
        } else {
            0.0
        }
    }

    pub fn weight(&self) -> f64 {
        self.cells.iter().sum()
    }

    /// The matrix with classes in `order` (indices in first-appearance numbering).
    pub fn matrix(&self, order: &[usize]) -> Vec<Vec<f64>> {
        order.iter().map(|&t| order.iter().map(|&p| self.get(t, p)).collect()).collect()
    }

    /// Accuracy and the averaged metrics over `order` (every class seen in the test set,
    /// in label or prediction, like scikit-learn's default `labels`).
    pub fn metrics(&self, order: &[usize]) -> Vec<Metric> {
        let total = self.weight();
        let mut metrics = Vec::new();
        if total == 0.0 {
            return vec![Metric::missing("accuracy", "no rows")];
        }
        let correct: f64 = order.iter().map(|&c| self.get(c, c)).sum();
        metrics.push(Metric::value("accuracy", correct / total));
        // Like scikit-learn, the classes present in these labels or predictions.
        let per_class: Vec<ClassScores> =
            order.iter().map(|&c| self.class_scores(c)).filter(|s| s.support + s.predicted > 0.0).collect();
        for (name, pick) in [
            ("precision", (|s: &ClassScores| s.precision) as fn(&ClassScores) -> f64),
            ("recall", |s: &ClassScores| s.recall),
            ("f1", |s: &ClassScores| s.f1),
        ] {
            let macro_avg = per_class.iter().map(pick).sum::<f64>() / per_class.len().max(1) as f64;
            let weighted = per_class.iter().map(|s| pick(s) * s.support).sum::<f64>() / total;
            metrics.push(Metric::value(&format!("{name}_macro"), macro_avg));
            metrics.push(Metric::value(&format!("{name}_weighted"), weighted));
        }
        metrics
    }

    /// Precision, recall, F1 and support of one class; 0/0 is 0 as in scikit-learn's
    /// averages (the per-class tables report it as `null` with a reason).
    pub fn class_scores(&self, class: usize) -> ClassScores {
        let tp = self.get(class, class);
        let predicted: f64 = (0..self.classes).map(|t| self.get(t, class)).sum();
        let support: f64 = (0..self.classes).map(|p| self.get(class, p)).sum();
        let precision = if predicted > 0.0 { tp / predicted } else { 0.0 };
        let recall = if support > 0.0 { tp / support } else { 0.0 };
        let f1 = if predicted + support > 0.0 { 2.0 * tp / (predicted + support) } else { 0.0 };
        ClassScores { precision, recall, f1, support, predicted }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct ClassScores {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Weight of rows whose true label is the class.
    pub support: f64,
    /// Weight of rows predicted as the class.
    pub predicted: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macro_and_weighted_averages() {
        let mut confusion = Confusion::default();
        for (t, p) in [(0, 0), (0, 1), (1, 1), (2, 2), (2, 2), (2, 0)] {
            confusion.add(t, p, 1.0);
        }
        let metrics = confusion.metrics(&[0, 1, 2]);
        let get = |name: &str| metrics.iter().find(|m| m.name == name).and_then(|m| m.value);
        assert_eq!(get("accuracy"), Some(4.0 / 6.0));
        // recall: 1/2, 1/1, 2/3
        assert!((get("recall_macro").unwrap_or(0.0) - (0.5 + 1.0 + 2.0 / 3.0) / 3.0).abs() < 1e-15);
        assert_eq!(confusion.matrix(&[2, 0]), vec![vec![2.0, 1.0], vec![0.0, 1.0]]);
    }
}
