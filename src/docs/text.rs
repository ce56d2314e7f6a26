//! Whether a piece of text is really filled in: empty text, template placeholders
//! (`[More Information Needed]`, TODO, TBD, lorem ipsum, `{{ jinja }}`), a template's own
//! prompt left in place, and a heading with nothing under it all count as missing.

use std::sync::LazyLock;

use regex::Regex;

/// Why text counts as missing; `None` from [`check`] means it is filled in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// Nothing at all (a value, not a section).
    Empty,
    /// Only placeholder tokens.
    Placeholder,
    /// Only the template's prompt (or questions nobody answered).
    TemplatePrompt,
    /// A section with nothing but its heading (and comments).
    HeadingOnly,
    /// There, but of the wrong type or not a date.
    Invalid,
    /// Not in the document.
    Absent,
    /// A list whose entries lack a part (a risk without an owner).
    Incomplete,
}

impl Missing {
    pub fn as_str(self) -> &'static str {
        match self {
            Missing::Empty => "empty",
            Missing::Placeholder => "placeholder",
            Missing::TemplatePrompt => "template-prompt",
            Missing::HeadingOnly => "heading-only",
            Missing::Invalid => "invalid",
            Missing::Absent => "absent",
            Missing::Incomplete => "incomplete",
        }
    }
}

/// Placeholder tokens, matched case-insensitively and removed before looking for content.
static PLACEHOLDER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)\[\s*more information needed\s*\]|more information needed|",
        r"\[\s*(?:insert|add|describe|fill(?: in)?|your|enter|tbd|todo|placeholder)\b[^\]]*\]|",
        r"\{\{[^}]*\}\}|<(?:insert|fill|tbd|todo)[^>]*>|",
        r"\b(?:todo|tbd|tba|fixme|xxx+)\b(?:\([^)]*\))?:?|",
        r"\bn/?a\b\.?|\bnone yet\b|",
        r"\bto be (?:determined|decided|completed|added|written|confirmed|defined)\b|\bcoming soon\b|",
        r"\bplaceholder\b",
    ))
    .expect("placeholder pattern")
});

/// A line that is a to-do note rather than content.
static TODO_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?im)^[\s>*+-]*(?:\*\*|__)?(?:todo|fixme|tbd|xxx)\b.*$").expect("to-do line pattern")
});

/// A label whose value was a placeholder (`Developed by:` once `[More Information Needed]`
/// is gone), or a bare label line.
static LABEL_ONLY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^[ \t>*+_-]*[^:\n]{1,60}:[ \t*_]*$").expect("label pattern"));

/// Lines the Hugging Face templates fill in from the front matter (`Language(s) (NLP): en`,
/// `License: apache-2.0`): an echo of metadata, not prose.
static ECHO_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^[ \t*+-]*(?:language\(s\)(?: \(nlp\))?|license):[^\n]{0,60}$").expect("echo pattern")
});

static LOREM: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)\blorem\s+ipsum\b").expect("lorem pattern"));

/// Sentences the Hugging Face model and dataset card templates print outside comments.
/// Text made only of these is the template's prompt, not an answer.
const TEMPLATE_PROMPTS: &[&str] = &[
    "use the code below to get started with the model.",
    "users (both direct and downstream) should be made aware of the risks, biases and limitations of the model. more information needed for further recommendations.",
    "carbon emissions can be estimated using the machine learning impact calculator presented in lacoste et al. (2019).",
];

/// Checks prose (a section's text, a string value). `None`: filled in.
pub fn check(text: &str) -> Option<Missing> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Some(Missing::Empty);
    }
    if LOREM.is_match(trimmed) {
        return Some(Missing::Placeholder);
    }
    // The template's own prompts first (one of them contains "more information needed").
    let mut rest = trimmed.to_lowercase();
    let mut had_prompt = false;
    for prompt in TEMPLATE_PROMPTS {
        if rest.contains(prompt) {
            rest = rest.replace(prompt, " ");
            had_prompt = true;
        }
    }
    let echo = ECHO_LINE.replace_all(&rest, " ");
    had_prompt |= echo.len() != rest.len();
    let without_todo = TODO_LINE.replace_all(&echo, " ");
    let without_placeholders = PLACEHOLDER.replace_all(&without_todo, " ");
    let had_placeholders = without_placeholders.len() != echo.len();
    // What a placeholder leaves behind: `Developed by:` with nothing after it.
    let rest = LABEL_ONLY.replace_all(&without_placeholders, " ").into_owned();
    if !has_words(&rest) {
        return Some(if had_prompt {
            Missing::TemplatePrompt
        } else if had_placeholders || rest.len() != without_placeholders.len() {
            Missing::Placeholder
        } else {
            Missing::Empty
        });
    }
    // Questions nobody answered (a datasheet's or a card's prompts kept as the text).
    let lines: Vec<&str> = rest.lines().map(str::trim).filter(|line| has_words(line)).collect();
    if !lines.is_empty() && lines.iter().all(|line| line.ends_with('?')) {
        return Some(Missing::TemplatePrompt);
    }
    None
}

/// Checks a section's text: nothing under the heading is `heading-only`.
pub fn check_section(text: &str) -> Option<Missing> {
    match check(text) {
        Some(Missing::Empty) => Some(Missing::HeadingOnly),
        other => other,
    }
}

fn has_words(text: &str) -> bool {
    text.chars().any(char::is_alphanumeric)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_and_prompts_are_missing() {
        for (text, expected) in [
            ("", Some(Missing::Empty)),
            ("   \n\t", Some(Missing::Empty)),
            ("[More Information Needed]", Some(Missing::Placeholder)),
            ("- **Developed by:** [More Information Needed]", Some(Missing::Placeholder)),
            ("- **Language(s) (NLP):** en\n- **License:** apache-2.0", Some(Missing::TemplatePrompt)),
            ("- **Developed by:** Northwind Bank credit risk team", None),
            ("More information needed", Some(Missing::Placeholder)),
            ("TODO", Some(Missing::Placeholder)),
            ("TODO(alice): describe the data", Some(Missing::Placeholder)),
            ("TBD.", Some(Missing::Placeholder)),
            ("FIXME", Some(Missing::Placeholder)),
            ("N/A", Some(Missing::Placeholder)),
            ("n/a", Some(Missing::Placeholder)),
            ("Lorem ipsum dolor sit amet, consectetur adipiscing elit.", Some(Missing::Placeholder)),
            ("{{ model_summary | default(\"\", true) }}", Some(Missing::Placeholder)),
            ("[Describe the intended users here]", Some(Missing::Placeholder)),
            ("To be determined", Some(Missing::Placeholder)),
            (
                "Use the code below to get started with the model.\n\n[More Information Needed]",
                Some(Missing::TemplatePrompt),
            ),
            ("For what purpose was the dataset created?\nWho created it?", Some(Missing::TemplatePrompt)),
            ("For what purpose was the dataset created?\nTo train the credit model.", None),
            ("Ranking applications for manual review.", None),
            ("None: the model has no known out-of-scope uses.", None),
        ] {
            assert_eq!(check(text), expected, "{text:?}");
        }
        assert_eq!(check_section("  "), Some(Missing::HeadingOnly));
    }
}
