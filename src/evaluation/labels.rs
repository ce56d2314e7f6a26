//! Class labels as they appear in files: `1`, `1.0`, `true`, `True` and `approved` are
//! compared by their *canonical* form, so a label column written by pandas as floats
//! and a positive label given as `1` agree.

use std::collections::BTreeMap;

/// The canonical form of a label: numbers in their shortest form (`1.0` → `1`),
/// booleans in lower case, anything else as written (trimmed).
pub fn canonical(text: &str) -> String {
    let text = text.trim();
    if let Ok(number) = text.parse::<f64>() {
        if number.is_finite() {
            return format!("{number}");
        }
    }
    if text.eq_ignore_ascii_case("true") {
        return "true".into();
    }
    if text.eq_ignore_ascii_case("false") {
        return "false".into();
    }
    text.to_string()
}

/// The positive class of a binary model, resolved like scikit-learn: given explicitly,
/// or `1` / `true` when the labels are {0, 1}, {-1, 1} or {false, true}.
#[derive(Debug, Clone)]
pub struct BinaryLabels {
    /// Canonical positive label, when given.
    positive: Option<String>,
    /// Canonical labels seen so far, with whether each is the positive class.
    seen: BTreeMap<String, bool>,
}

/// A label that does not fit a binary model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelError {
    /// A third distinct label.
    TooMany(Vec<String>),
    /// No positive label given and the labels are not {0,1}, {-1,1} or {false,true}.
    Ambiguous(String),
}

impl BinaryLabels {
    pub fn new(positive: Option<&str>) -> BinaryLabels {
        BinaryLabels { positive: positive.map(canonical), seen: BTreeMap::new() }
    }

    /// Whether `text` is the positive class.
    pub fn classify(&mut self, text: &str) -> Result<bool, LabelError> {
        let label = canonical(text);
        if let Some(&positive) = self.seen.get(&label) {
            return Ok(positive);
        }
        let positive = match &self.positive {
            Some(positive) => label == *positive,
            None => match label.as_str() {
                "1" | "true" => true,
                "0" | "-1" | "false" => false,
                _ => return Err(LabelError::Ambiguous(label)),
            },
        };
        self.seen.insert(label, positive);
        if self.seen.len() > 2 {
            return Err(LabelError::TooMany(self.seen.keys().cloned().collect()));
        }
        Ok(positive)
    }

    /// Whether any label seen so far is the positive class.
    pub fn positive_seen(&self) -> bool {
        self.seen.values().any(|&positive| positive)
    }

    /// How many distinct labels were seen.
    pub fn seen_count(&self) -> usize {
        self.seen.len()
    }

    /// The negative and positive label names, for the confusion matrix.
    pub fn names(&self) -> (String, String) {
        let negative = self.seen.iter().find(|(_, &positive)| !positive).map(|(label, _)| label.clone());
        let positive = self.positive.clone().or_else(|| self.seen.iter().find(|(_, &p)| p).map(|(l, _)| l.clone()));
        let default_negative = match positive.as_deref() {
            Some("true") => "false",
            _ => "0",
        };
        (negative.unwrap_or_else(|| default_negative.into()), positive.unwrap_or_else(|| "1".into()))
    }
}

/// Sorts class names as numpy sorts them: numerically when every name is a number,
/// otherwise by code point.
pub fn sort_classes(classes: &mut [String]) {
    let numbers: Option<Vec<f64>> = classes.iter().map(|class| class.parse::<f64>().ok()).collect();
    if numbers.is_some() {
        classes.sort_by(|a, b| {
            let (a, b) = (a.parse::<f64>().unwrap_or(f64::NAN), b.parse::<f64>().unwrap_or(f64::NAN));
            a.total_cmp(&b)
        });
    } else {
        classes.sort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_forms_agree_across_writers() {
        assert_eq!(canonical("1.0"), "1");
        assert_eq!(canonical(" 1 "), "1");
        assert_eq!(canonical("True"), "true");
        assert_eq!(canonical("-1"), "-1");
        assert_eq!(canonical("approved"), "approved");
        assert_eq!(canonical("nan"), "nan");
    }

    #[test]
    fn infers_the_positive_label_like_scikit_learn() {
        let mut labels = BinaryLabels::new(None);
        assert_eq!(labels.classify("0"), Ok(false));
        assert_eq!(labels.classify("1.0"), Ok(true));
        assert_eq!(labels.names(), ("0".to_string(), "1".to_string()));
        let mut labels = BinaryLabels::new(None);
        assert_eq!(labels.classify("False"), Ok(false));
        assert_eq!(labels.classify("yes"), Err(LabelError::Ambiguous("yes".into())));
    }

    #[test]
    fn a_third_label_is_refused() {
        let mut labels = BinaryLabels::new(Some("approved"));
        assert_eq!(labels.classify("approved"), Ok(true));
        assert_eq!(labels.classify("denied"), Ok(false));
        assert_eq!(
            labels.classify("pending"),
            Err(LabelError::TooMany(vec!["approved".into(), "denied".into(), "pending".into()]))
        );
    }

    #[test]
    fn classes_sort_like_numpy() {
        let mut classes = vec!["10".to_string(), "2".into(), "-1".into()];
        sort_classes(&mut classes);
        assert_eq!(classes, ["-1", "2", "10"]);
        let mut classes = vec!["medium".to_string(), "high".into(), "low".into()];
        sort_classes(&mut classes);
        assert_eq!(classes, ["high", "low", "medium"]);
    }
}
