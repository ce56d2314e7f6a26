//! Disparity between groups, as fairlearn's `MetricFrame.difference()` and `.ratio()`
//! compute it (`method="between_groups"` and `method="to_overall"`), and the binary
//! fairness aggregates built on them (demographic parity, equalized odds, equal
//! opportunity, the four-fifths rule).
//!
//! Where fairlearn would silently use a misleading number, we say so instead: a group
//! whose rate is undefined (TPR of a group with no positives) is left out of the
//! aggregate and listed in `excluded`; an aggregate with nothing to compare, or a 0/0
//! ratio, is `None` with a reason.

use std::collections::BTreeMap;

use crate::evidence::{FairnessAttribute, MetricMap};

/// One group's value of one metric.
#[derive(Debug, Clone)]
pub struct GroupValue<'a> {
    pub group: &'a str,
    pub value: Option<f64>,
}

/// A difference or ratio, or why there is none, and the groups left out of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Disparity {
    pub value: Option<f64>,
    pub reason: Option<String>,
    pub excluded: Vec<String>,
}

impl Disparity {
    fn none(reason: impl Into<String>, excluded: Vec<String>) -> Disparity {
        Disparity { value: None, reason: Some(reason.into()), excluded }
    }
}

/// The defined values, and the names of the groups whose value is undefined.
fn defined<'a>(groups: &'a [GroupValue<'a>]) -> (Vec<f64>, Vec<String>) {
    let mut values = Vec::with_capacity(groups.len());
    let mut excluded = Vec::new();
    for group in groups {
        match group.value {
            Some(value) if !value.is_nan() => values.push(value),
            _ => excluded.push(group.group.to_string()),
        }
    }
    (values, excluded)
}

fn min_max(values: &[f64]) -> (f64, f64) {
    values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)))
}

/// Largest minus smallest group value.
pub fn difference(metric: &str, groups: &[GroupValue]) -> Disparity {
    let (values, excluded) = defined(groups);
    if values.is_empty() {
        return Disparity::none(format!("no group has a defined {metric}"), excluded);
    }
    let (lo, hi) = min_max(&values);
    Disparity { value: Some(hi - lo), reason: None, excluded }
}

/// Smallest over largest group value.
pub fn ratio(metric: &str, groups: &[GroupValue]) -> Disparity {
    let (values, excluded) = defined(groups);
    if values.is_empty() {
        return Disparity::none(format!("no group has a defined {metric}"), excluded);
    }
    let (lo, hi) = min_max(&values);
    if hi == 0.0 {
        return Disparity::none(format!("every group's {metric} is 0, so the ratio is 0/0"), excluded);
    }
    Disparity { value: Some(lo / hi), reason: None, excluded }
}

/// Largest absolute difference between a group's value and the overall value.
pub fn difference_to_overall(metric: &str, groups: &[GroupValue], overall: Option<f64>) -> Disparity {
    let (values, excluded) = defined(groups);
    let Some(overall) = overall else {
        return Disparity::none(format!("the overall {metric} is undefined"), excluded);
    };
    if values.is_empty() {
        return Disparity::none(format!("no group has a defined {metric}"), excluded);
    }
    let value = values.iter().map(|v| (v - overall).abs()).fold(f64::NEG_INFINITY, f64::max);
    Disparity { value: Some(value), reason: None, excluded }
}

/// Smallest ratio between a group's value and the overall value, each ratio taken
/// with the smaller of the two on top (so it is at most 1).
pub fn ratio_to_overall(metric: &str, groups: &[GroupValue], overall: Option<f64>) -> Disparity {
    let (values, excluded) = defined(groups);
    let Some(overall) = overall else {
        return Disparity::none(format!("the overall {metric} is undefined"), excluded);
    };
    if values.is_empty() {
        return Disparity::none(format!("no group has a defined {metric}"), excluded);
    }
    // fairlearn: r(g / o) with r(x) = 1/x when x > 1; a 0/0 term is skipped.
    let mut smallest = f64::INFINITY;
    for &value in &values {
        let quotient = value / overall;
        let ratio = if quotient > 1.0 { 1.0 / quotient } else { quotient };
        if !ratio.is_nan() {
            smallest = smallest.min(ratio);
        }
    }
    if smallest == f64::INFINITY {
        return Disparity::none(
            format!("every group's {metric} and the overall one are 0, so the ratio is 0/0"),
            excluded,
        );
    }
    Disparity { value: Some(smallest), reason: None, excluded }
}

/// Where the aggregates of one attribute go.
pub struct Aggregates<'a> {
    pub entry: &'a mut FairnessAttribute,
    pub to_overall: Option<MetricMap>,
}

impl Aggregates<'_> {
    /// Records `disparity` under `name`: in a named field, the `metrics` map, or `to_overall`.
    pub fn record(&mut self, name: &str, disparity: &Disparity, overall: bool) {
        if overall {
            let map = self.to_overall.get_or_insert_with(BTreeMap::new);
            map.insert(name.to_string(), disparity.value);
            if let Some(reason) = &disparity.reason {
                self.entry.reasons.insert(format!("to_overall.{name}"), reason.clone());
            }
            return;
        }
        let entry = &mut *self.entry;
        let slot = match name {
            "demographic_parity_difference" => Some(&mut entry.demographic_parity_difference),
            "demographic_parity_ratio" => Some(&mut entry.demographic_parity_ratio),
            "equalized_odds_difference" => Some(&mut entry.equalized_odds_difference),
            "equalized_odds_difference_mean" => Some(&mut entry.equalized_odds_difference_mean),
            "equalized_odds_ratio" => Some(&mut entry.equalized_odds_ratio),
            "equalized_odds_ratio_mean" => Some(&mut entry.equalized_odds_ratio_mean),
            "equal_opportunity_difference" => Some(&mut entry.equal_opportunity_difference),
            "equal_opportunity_ratio" => Some(&mut entry.equal_opportunity_ratio),
            "four_fifths_ratio" => Some(&mut entry.four_fifths_ratio),
            _ => None,
        };
        match slot {
            Some(slot) => *slot = disparity.value,
            None => {
                entry.metrics.insert(name.to_string(), disparity.value);
            }
        }
        if let Some(reason) = &disparity.reason {
            entry.reasons.insert(name.to_string(), reason.clone());
        }
        if !disparity.excluded.is_empty() {
            entry.excluded.insert(name.to_string(), disparity.excluded.clone());
        }
    }
}

/// Combines the TPR and FPR disparities into an equalized-odds aggregate: the worse of
/// the two (`worst_case`: the larger difference, the smaller ratio) or their mean.
pub fn equalized_odds(tpr: &Disparity, fpr: &Disparity, worst_is_max: bool, mean: bool) -> Disparity {
    let mut excluded = tpr.excluded.clone();
    for group in &fpr.excluded {
        if !excluded.contains(group) {
            excluded.push(group.clone());
        }
    }
    match (tpr.value, fpr.value) {
        (Some(a), Some(b)) => {
            let value = if mean {
                (a + b) / 2.0
            } else if worst_is_max {
                a.max(b)
            } else {
                a.min(b)
            };
            Disparity { value: Some(value), reason: None, excluded }
        }
        _ => {
            let reason = [("true-positive rate", tpr), ("false-positive rate", fpr)]
                .iter()
                .filter_map(|(what, d)| d.reason.as_ref().map(|r| format!("{what}: {r}")))
                .collect::<Vec<_>>()
                .join("; ");
            Disparity::none(reason, excluded)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(values: &[(&'static str, Option<f64>)]) -> Vec<GroupValue<'static>> {
        values.iter().map(|&(group, value)| GroupValue { group, value }).collect()
    }

    #[test]
    fn between_groups_skips_undefined_groups_and_names_them() {
        let g = groups(&[("a", Some(0.2)), ("b", Some(0.5)), ("c", None)]);
        let d = difference("tpr", &g);
        assert_eq!(d.value, Some(0.3));
        assert_eq!(d.excluded, ["c"]);
        assert_eq!(ratio("tpr", &g).value, Some(0.4));
    }

    #[test]
    fn zero_over_zero_ratio_is_none_with_a_reason() {
        let g = groups(&[("a", Some(0.0)), ("b", Some(0.0))]);
        let r = ratio("selection_rate", &g);
        assert_eq!(r.value, None);
        assert!(r.reason.as_deref().unwrap_or("").contains("0/0"));
        assert_eq!(difference("selection_rate", &g).value, Some(0.0));
    }

    #[test]
    fn to_overall_takes_the_worst_group() {
        let g = groups(&[("a", Some(0.2)), ("b", Some(0.5))]);
        assert_eq!(difference_to_overall("x", &g, Some(0.4)).value, Some(0.2));
        assert_eq!(ratio_to_overall("x", &g, Some(0.4)).value, Some(0.5));
    }
}
