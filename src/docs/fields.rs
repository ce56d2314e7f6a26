//! The fields of each kind of document and the headings that name them.
//!
//! A heading names a field when, after the rules below, it equals one of the field's
//! titles. The rule that was needed is reported (docs/documentation.md):
//!
//! - `exact`: the heading as written equals the field's first title, letter case aside
//!   ("Training data", "Training Data", "TRAINING DATA");
//! - `loose`: equal once punctuation (`&`, `/`, `:`, `,`, `-`), the words "and" and "the",
//!   and Markdown emphasis are also set aside ("Training data:", "Preprocessing / cleaning");
//! - `numbering`: equal once a leading section number (`1.`, `2)`, `3.1`, `A.`, `IV.`) is
//!   also removed;
//! - `synonym`: equal to another of the field's titles (the Hugging Face template's
//!   "Direct Use" for `intended_use`), by any of the rules above.

use std::sync::LazyLock;

use super::Kind;

/// One field: its evidence name and the headings (first: the canonical title) that name it.
pub struct FieldSpec {
    pub name: &'static str,
    pub titles: &'static [&'static str],
}

const fn field(name: &'static str, titles: &'static [&'static str]) -> FieldSpec {
    FieldSpec { name, titles }
}

pub const MODEL_CARD: &[FieldSpec] = &[
    field(
        "model_description",
        &["Model description", "Model details", "Model summary", "Model overview", "Overview", "Description"],
    ),
    field(
        "intended_use",
        &[
            "Intended use",
            "Intended uses",
            "Uses",
            "Direct use",
            "Intended uses & limitations",
            "Intended purpose",
            "Use cases",
            "Primary intended uses",
            "How to use",
        ],
    ),
    field(
        "out_of_scope_use",
        &["Out-of-scope use", "Out-of-scope uses", "Out of scope", "Misuse and out-of-scope use", "Misuse"],
    ),
    field(
        "limitations",
        &[
            "Limitations",
            "Bias, risks, and limitations",
            "Risks and limitations",
            "Known limitations",
            "Intended uses & limitations",
            "Caveats and recommendations",
            "Limitations and bias",
            "Recommendations",
        ],
    ),
    field(
        "training_data",
        &["Training data", "Training and evaluation data", "Training details", "Data", "Datasets", "Training dataset"],
    ),
    field(
        "evaluation",
        &[
            "Evaluation",
            "Evaluation results",
            "Results",
            "Testing data, factors & metrics",
            "Training results",
            "Performance",
            "Quantitative analyses",
            "Metrics",
            "Evaluation data",
        ],
    ),
    field(
        "ethical_considerations",
        &[
            "Ethical considerations",
            "Ethics",
            "Bias, risks, and limitations",
            "Limitations and bias",
            "Bias",
            "Fairness",
            "Ethical considerations and limitations",
        ],
    ),
    field("training_procedure", &["Training procedure", "Training hyperparameters"]),
    field("contact", &["Model card contact", "Contact", "Model card authors", "Authors", "Owners", "Maintainers"]),
    field("license", &["License", "Licence", "Licensing"]),
];

pub const DATASHEET: &[FieldSpec] = &[
    field("motivation", &["Motivation", "Curation rationale", "Dataset summary", "Purpose"]),
    field("composition", &["Composition", "Dataset structure", "Data fields", "Data instances", "Dataset description"]),
    field(
        "collection_process",
        &[
            "Collection process",
            "Data collection",
            "Source data",
            "Initial data collection and normalization",
            "Data collection and processing",
            "Collection",
        ],
    ),
    field(
        "preprocessing",
        &[
            "Preprocessing/cleaning/labeling",
            "Preprocessing",
            "Preprocessing, cleaning and labeling",
            "Cleaning",
            "Labeling",
            "Annotations",
            "Annotation process",
            "Data processing",
        ],
    ),
    field("uses", &["Uses", "Direct use", "Considerations for using the data", "Intended uses", "Intended use"]),
    field("distribution", &["Distribution", "Licensing information", "License", "Licence"]),
    field("maintenance", &["Maintenance", "Dataset curators", "Maintainers", "Dataset card contact", "Contact"]),
];

pub const RISK_ASSESSMENT: &[FieldSpec] = &[
    field("intended_purpose", &["Intended purpose", "Purpose", "Intended use", "Intended uses"]),
    field("risk_tier", &["Risk tier", "Risk level", "Risk classification", "Risk category"]),
    field("risks", &["Risks", "Identified risks", "Risk register"]),
    field("mitigations", &["Mitigations", "Risk mitigations", "Mitigation"]),
    field("risk_owners", &["Risk owners", "Owners"]),
    field("human_oversight", &["Human oversight", "Oversight", "Human oversight measures"]),
    field("reviewer", &["Reviewer", "Reviewed by", "Reviewers"]),
    field("review_date", &["Review date", "Reviewed on", "Date of review"]),
    field("next_review_due", &["Next review due", "Next review", "Next review date"]),
];

pub fn specs(kind: Kind) -> &'static [FieldSpec] {
    match kind {
        Kind::ModelCard => MODEL_CARD,
        Kind::Datasheet => DATASHEET,
        Kind::RiskAssessment => RISK_ASSESSMENT,
    }
}

/// The fields a heading names (one heading may serve two: "Intended uses & limitations"),
/// each with the rule that matched.
pub fn match_heading(kind: Kind, heading: &str) -> Vec<(&'static str, &'static str)> {
    // The Hugging Face template marks headings "[optional]"; that is not part of the name.
    let trimmed = heading.trim();
    let heading = trimmed.strip_suffix("[optional]").map_or(trimmed, str::trim_end);
    let lower = heading.to_lowercase();
    let loose = normalise(heading);
    let unnumbered = normalise(strip_numbering(heading));
    let mut found = Vec::new();
    for (spec, titles) in specs(kind).iter().zip(titles(kind)) {
        let matched = titles.iter().enumerate().find_map(|(index, title)| {
            let rule = if index == 0 && lower == title.lower {
                "exact"
            } else if loose == title.loose {
                "loose"
            } else if unnumbered == title.loose && !unnumbered.is_empty() {
                "numbering"
            } else {
                return None;
            };
            Some(if index == 0 { rule } else { "synonym" })
        });
        if let Some(rule) = matched {
            found.push((spec.name, rule));
        }
    }
    found
}

/// A key of a YAML/JSON document names a field when it equals the field's name or, loosely,
/// one of its titles (`collection-process`, `Collection process`).
pub fn match_key(kind: Kind, key: &str) -> Option<&'static str> {
    let loose = normalise(&key.replace(['_', '-'], " "));
    specs(kind)
        .iter()
        .zip(titles(kind))
        .find(|(spec, titles)| spec.name == key || titles.iter().any(|title| title.loose == loose))
        .map(|(spec, _)| spec.name)
}

/// A title in the two forms headings are compared with, computed once per process.
struct Title {
    lower: String,
    loose: String,
}

/// The titles of every field of `kind`, in [`specs`] order.
fn titles(kind: Kind) -> &'static [Vec<Title>] {
    static TITLES: LazyLock<[Vec<Vec<Title>>; 3]> = LazyLock::new(|| {
        Kind::ALL.map(|kind| {
            specs(kind)
                .iter()
                .map(|spec| {
                    spec.titles
                        .iter()
                        .map(|title| Title { lower: title.to_lowercase(), loose: normalise(title) })
                        .collect()
                })
                .collect()
        })
    });
    let index = Kind::ALL.iter().position(|&k| k == kind).unwrap_or_default();
    &TITLES[index]
}

/// Lowercase words, punctuation and emphasis dropped, "and" and "the" left out.
fn normalise(text: &str) -> String {
    let lower = text.to_lowercase();
    let words =
        lower.split(|c: char| !c.is_alphanumeric()).filter(|word| !word.is_empty() && *word != "and" && *word != "the");
    words.collect::<Vec<_>>().join(" ")
}

/// `1.`, `2)`, `3.1`, `3.1.`, `A.`, `IV.`, `Section 2:`, `§2` at the start of a heading.
fn strip_numbering(heading: &str) -> &str {
    let text = heading.trim_start();
    let text = text.strip_prefix("Section ").or_else(|| text.strip_prefix("section ")).unwrap_or(text);
    let text = text.trim_start_matches('§');
    let token_end = text.find(char::is_whitespace).unwrap_or(text.len());
    let token = &text[..token_end];
    let bare = token.trim_end_matches(['.', ')', ':', '-', '—', '–']);
    let numeric = !bare.is_empty() && bare.chars().all(|c| c.is_ascii_digit() || c == '.');
    let letter = bare.len() == 1 && bare.chars().all(|c| c.is_ascii_alphabetic()) && bare.len() < token.len();
    let roman =
        !bare.is_empty() && bare.len() < token.len() && bare.chars().all(|c| matches!(c, 'I' | 'V' | 'X' | 'L'));
    if numeric || letter || roman {
        text[token_end..].trim_start().trim_start_matches(['—', '–', '-', ':', '.']).trim_start()
    } else {
        heading
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_match_by_documented_rules() {
        let card = |heading| match_heading(Kind::ModelCard, heading);
        assert_eq!(card("Intended use"), vec![("intended_use", "exact")]);
        assert_eq!(card("Intended Use"), vec![("intended_use", "exact")]);
        assert_eq!(card("INTENDED USE"), vec![("intended_use", "exact")]);
        assert_eq!(card("Training data:"), vec![("training_data", "loose")]);
        assert_eq!(card("1. Intended Use"), vec![("intended_use", "numbering")]);
        assert_eq!(card("2 — Limitations"), vec![("limitations", "numbering")]);
        assert_eq!(card("3.1) Evaluation"), vec![("evaluation", "numbering")]);
        assert_eq!(card("IV. Ethical considerations"), vec![("ethical_considerations", "numbering")]);
        assert_eq!(card("Direct Use"), vec![("intended_use", "synonym")]);
        assert_eq!(card("Intended uses & limitations"), vec![("intended_use", "synonym"), ("limitations", "synonym")]);
        assert_eq!(
            card("Bias, Risks, and Limitations"),
            vec![("limitations", "synonym"), ("ethical_considerations", "synonym")]
        );
        assert!(card("Environmental Impact").is_empty());
        assert_eq!(card("Model Card Contact"), vec![("contact", "exact")]);
        assert_eq!(card("Model Card Authors [optional]"), vec![("contact", "synonym")]);
        let sheet = |heading| match_heading(Kind::Datasheet, heading);
        assert_eq!(sheet("Preprocessing/cleaning/labeling"), vec![("preprocessing", "exact")]);
        assert_eq!(sheet("Preprocessing / Cleaning / Labeling"), vec![("preprocessing", "loose")]);
        assert_eq!(match_key(Kind::Datasheet, "collection-process"), Some("collection_process"));
        assert_eq!(match_key(Kind::RiskAssessment, "next_review_due"), Some("next_review_due"));
    }
}
