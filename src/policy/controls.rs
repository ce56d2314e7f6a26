//! Which controls of which regulations and standards each rule supports: the policy
//! repository's `controls.yaml` (docs/regulations.md), and the `controls` a catalog entry
//! may list itself.
//!
//! A control is named `FRAMEWORK:ID` (`eu-ai-act:Art. 10(2)(f)`, `nist-ai-rmf:MEASURE
//! 2.11`, `iso-42001:A.7.4`). Every name is checked when the bundle loads: an undeclared
//! framework or control, an id not of its framework's form, or a rule code that no package
//! catalogues stops the load (exit 2), so a typo cannot drop a rule from an evidence
//! package silently.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::bundle::{Bundle, FileKind};
use crate::error::{Error, ErrorKind, Result};
use crate::strict::{self, Source, Syntax};
use crate::suggest;

/// The file, at the top of the policy repository.
pub const CONTROLS_FILE: &str = "controls.yaml";

/// The forms of the control ids of the frameworks modelgate knows.
pub const KNOWN_FRAMEWORKS: &[(&str, &str)] = &[
    ("eu-ai-act", r"^(Art\. [1-9][0-9]*(\([1-9][0-9]*\))?(\([a-z]\))?|Annex [IVX]+)$"),
    ("nist-ai-rmf", r"^(GOVERN|MAP|MEASURE|MANAGE) [1-9][0-9]*\.[1-9][0-9]*$"),
    ("iso-42001", r"^A\.[1-9][0-9]*(\.[1-9][0-9]*)*$"),
];

/// The form of a framework's name, and of a control id in a framework modelgate does not
/// know (a team's own catalogue): printable, no colon, no surrounding space.
const FRAMEWORK_NAME: &str = r"^[a-z0-9][a-z0-9-]*$";
const OTHER_CONTROL: &str = r"^[A-Za-z0-9]([A-Za-z0-9 .()/_-]*[A-Za-z0-9.)_-])?$";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    frameworks: BTreeMap<String, RawFramework>,
    #[serde(default)]
    rules: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFramework {
    title: String,
    controls: BTreeMap<String, String>,
}

/// A framework and its controls (id → short title).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Framework {
    pub title: String,
    pub controls: BTreeMap<String, String>,
}

/// The checked mapping of a bundle.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Controls {
    pub frameworks: BTreeMap<String, Framework>,
    /// Rule code → the controls it supports, `FRAMEWORK:ID`, in the order written.
    pub rules: BTreeMap<String, Vec<String>>,
}

impl Controls {
    /// The controls rule `code` supports (none when it is not mapped).
    pub fn of(&self, code: &str) -> &[String] {
        self.rules.get(code).map(Vec::as_slice).unwrap_or_default()
    }

    /// The title of `control` (`FRAMEWORK:ID`).
    pub fn title(&self, control: &str) -> Option<&str> {
        let (framework, id) = control.split_once(':')?;
        self.frameworks.get(framework)?.controls.get(id).map(String::as_str)
    }
}

/// Reads the bundle's `controls.yaml` (none is fine) and the `controls` of its catalog
/// entries, and checks every name against the frameworks and the `catalogs` (package,
/// code → entry).
pub fn load<'a>(
    bundle: &Bundle,
    catalogs: impl Iterator<Item = (&'a str, &'a serde_json::Map<String, serde_json::Value>)> + Clone,
) -> Result<Controls> {
    let file = bundle.files_of(FileKind::Controls).next();
    let path = PathBuf::from(super::bundle::display_path(&bundle.root.join(CONTROLS_FILE)));
    let raw = match file {
        Some(file) => {
            let source =
                Source::new(&path, "the controls file", ErrorKind::PolicyControls).documented_in("docs/regulations.md");
            let value = strict::parse(&file.contents, Syntax::Yaml, &source)?;
            if value.is_null() {
                RawFile { frameworks: BTreeMap::new(), rules: BTreeMap::new() }
            } else {
                strict::deserialize(value, &file.contents, &source)?
            }
        }
        None => RawFile { frameworks: BTreeMap::new(), rules: BTreeMap::new() },
    };
    let at = path.display().to_string();
    let invalid = |message: String, hint: String| Error::new(ErrorKind::PolicyControls, message).hint(hint);
    let name_form = regex::Regex::new(FRAMEWORK_NAME).map_err(|error| invalid(error.to_string(), String::new()))?;
    let mut frameworks = BTreeMap::new();
    for (name, framework) in raw.frameworks {
        if !name_form.is_match(&name) {
            return Err(invalid(
                format!("{at}: frameworks.{name}: a framework's name is lower case letters, digits and `-`"),
                "name it like eu-ai-act, nist-ai-rmf, iso-42001 or acme-controls".to_string(),
            ));
        }
        if framework.title.trim().is_empty() {
            return Err(invalid(
                format!("{at}: frameworks.{name}.title is empty"),
                "give the framework's full name".to_string(),
            ));
        }
        if framework.controls.is_empty() {
            return Err(invalid(
                format!("{at}: frameworks.{name}.controls is empty"),
                "declare the framework's controls, each with its title".to_string(),
            ));
        }
        let form = id_form(&name)?;
        for (id, title) in &framework.controls {
            if !form.is_match(id) {
                return Err(invalid(
                    format!("{at}: frameworks.{name}.controls: `{id}` is not a well-formed {name} control id"),
                    format!("{name} ids look like {}", example(&name)),
                ));
            }
            if title.trim().is_empty() {
                return Err(invalid(
                    format!("{at}: frameworks.{name}.controls.{id} has no title"),
                    "give each control its short title".to_string(),
                ));
            }
        }
        frameworks.insert(name, Framework { title: framework.title, controls: framework.controls });
    }
    let mut controls = Controls { frameworks, rules: BTreeMap::new() };
    let codes: Vec<&str> = catalogs.clone().flat_map(|(_, catalog)| catalog.keys().map(String::as_str)).collect();
    for (code, listed) in raw.rules {
        if !codes.contains(&code.as_str()) {
            let guess = suggest::nearest(&code, codes.iter().copied())
                .map(|near| format!("did you mean `{near}`? "))
                .unwrap_or_default();
            return Err(invalid(
                format!("{at}: rules.{code}: no package catalogues the rule {code}"),
                format!("{guess}map the codes of the packages' catalogs (`modelgate policy test` lists them)"),
            ));
        }
        if listed.is_empty() {
            return Err(invalid(
                format!("{at}: rules.{code} lists no control"),
                "list the controls the rule supports, or leave the rule out".to_string(),
            ));
        }
        for control in &listed {
            check_control(&controls, control, &format!("{at}: rules.{code}"))?;
        }
        controls.rules.entry(code).or_default().extend(listed);
    }
    for (package, catalog) in catalogs {
        for (code, entry) in catalog {
            let Some(listed) = entry.get("controls") else { continue };
            let where_ = format!("data.{package}.catalog[\"{code}\"].controls");
            let listed: Vec<String> = serde_json::from_value(listed.clone()).map_err(|_| {
                invalid(
                    format!("{where_} is not a list of control names"),
                    "list them as strings: [\"eu-ai-act:Art. 9\"]".to_string(),
                )
            })?;
            for control in &listed {
                check_control(&controls, control, &where_)?;
            }
            controls.rules.entry(code.clone()).or_default().extend(listed);
        }
    }
    for listed in controls.rules.values_mut() {
        // In the order written, each once.
        let mut seen = std::collections::HashSet::new();
        listed.retain(|control| seen.insert(control.clone()));
    }
    Ok(controls)
}

/// `control` is `FRAMEWORK:ID` with both declared.
fn check_control(controls: &Controls, control: &str, at: &str) -> Result<()> {
    let invalid = |message: String, hint: String| Err(Error::new(ErrorKind::PolicyControls, message).hint(hint));
    let Some((name, id)) = control.split_once(':') else {
        return invalid(
            format!("{at}: `{control}` is not FRAMEWORK:ID"),
            "name a control with its framework, e.g. eu-ai-act:Art. 10(2)(f)".to_string(),
        );
    };
    let Some(framework) = controls.frameworks.get(name) else {
        let declared: Vec<&str> = controls.frameworks.keys().map(String::as_str).collect();
        let guess = suggest::nearest(name, declared.iter().copied())
            .map(|near| format!("did you mean `{near}`? "))
            .unwrap_or_default();
        return invalid(
            format!(
                "{at}: `{control}` names the framework {name}, which controls.yaml does not declare ({})",
                suggest::list(&declared)
            ),
            format!("{guess}declare it under frameworks: with its title and controls"),
        );
    };
    if !framework.controls.contains_key(id) {
        let guess = suggest::nearest(id, framework.controls.keys().map(String::as_str))
            .map(|near| format!("did you mean `{name}:{near}`? "))
            .unwrap_or_default();
        return invalid(
            format!("{at}: `{control}`: {name} declares no control `{id}`"),
            format!("{guess}add it under frameworks.{name}.controls with its title"),
        );
    }
    Ok(())
}

/// The form a framework's control ids must have.
fn id_form(name: &str) -> Result<regex::Regex> {
    let pattern = KNOWN_FRAMEWORKS.iter().find(|(known, _)| *known == name).map_or(OTHER_CONTROL, |(_, form)| form);
    regex::Regex::new(pattern).map_err(|error| Error::new(ErrorKind::PolicyControls, error.to_string()))
}

fn example(name: &str) -> &'static str {
    match name {
        "eu-ai-act" => "`Art. 9`, `Art. 10(2)(f)` or `Annex IV`",
        "nist-ai-rmf" => "`MEASURE 2.11` (FUNCTION CATEGORY.SUBCATEGORY)",
        "iso-42001" => "`A.7.4` (the Annex A control number)",
        _ => "letters, digits, spaces and . ( ) / _ - (no colon)",
    }
}

/// Whether `control` (`FRAMEWORK:ID`) is well-formed for its framework: for the tests of a
/// policy repository's mapping.
pub fn well_formed(control: &str) -> bool {
    let Some((name, id)) = control.split_once(':') else { return false };
    let name_ok = regex::Regex::new(FRAMEWORK_NAME).is_ok_and(|form| form.is_match(name));
    name_ok && id_form(name).is_ok_and(|form| form.is_match(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle(controls: &str) -> Bundle {
        let files = vec![super::super::bundle::BundleFile {
            path: CONTROLS_FILE.to_string(),
            contents: controls.to_string(),
            kind: FileKind::Controls,
        }];
        Bundle::from_files("policies", None, files)
    }

    fn catalog() -> serde_json::Map<String, serde_json::Value> {
        serde_json::from_value(serde_json::json!({"fairness/demographic-parity-difference": {"title": "DP"}}))
            .expect("map")
    }

    fn load_text(controls: &str) -> Result<Controls> {
        let catalog = catalog();
        load(&bundle(controls), std::iter::once(("modelgate.fairness", &catalog)))
    }

    const FRAMEWORKS: &str =
        "frameworks:\n  eu-ai-act:\n    title: EU AI Act\n    controls:\n      \"Art. 10(2)(f)\": Bias examination\n";

    #[test]
    fn every_name_is_checked() {
        let ok = load_text(&format!(
            "{FRAMEWORKS}rules:\n  fairness/demographic-parity-difference: [\"eu-ai-act:Art. 10(2)(f)\"]\n"
        ))
        .expect("loads");
        assert_eq!(ok.of("fairness/demographic-parity-difference"), ["eu-ai-act:Art. 10(2)(f)"]);
        assert_eq!(ok.title("eu-ai-act:Art. 10(2)(f)"), Some("Bias examination"));
        for (rules, needle) in [
            (
                "  fairness/demographic-parity-diference: [\"eu-ai-act:Art. 10(2)(f)\"]",
                "did you mean `fairness/demographic-parity-difference`",
            ),
            ("  fairness/demographic-parity-difference: [\"eu-ai-akt:Art. 10(2)(f)\"]", "did you mean `eu-ai-act`"),
            (
                "  fairness/demographic-parity-difference: [\"eu-ai-act:Art. 10(2)(g)\"]",
                "declares no control `Art. 10(2)(g)`",
            ),
            ("  fairness/demographic-parity-difference: [\"Art. 10\"]", "is not FRAMEWORK:ID"),
        ] {
            let error = load_text(&format!("{FRAMEWORKS}rules:\n{rules}\n")).expect_err(rules);
            let text = format!("{} {}", error.message, error.hint.unwrap_or_default());
            assert!(text.contains(needle), "{rules}: {text}");
        }
        let malformed =
            load_text("frameworks:\n  eu-ai-act:\n    title: EU AI Act\n    controls:\n      \"Article 10\": x\n")
                .expect_err("malformed id");
        assert!(malformed.message.contains("not a well-formed eu-ai-act control id"), "{}", malformed.message);
        let duplicate = load_text(&format!("{FRAMEWORKS}{FRAMEWORKS}")).expect_err("duplicate key");
        assert!(duplicate.message.contains("frameworks"), "{}", duplicate.message);
    }

    #[test]
    fn ids_have_their_frameworks_form() {
        for good in [
            "eu-ai-act:Art. 9",
            "eu-ai-act:Art. 10(2)(f)",
            "eu-ai-act:Annex IV",
            "nist-ai-rmf:MEASURE 2.11",
            "iso-42001:A.6.2.4",
            "acme:SEC-4.1",
        ] {
            assert!(well_formed(good), "{good}");
        }
        for bad in [
            "eu-ai-act:Article 9",
            "eu-ai-act:Art.9",
            "nist-ai-rmf:Measure 2.11",
            "nist-ai-rmf:MEASURE 2",
            "iso-42001:7.4",
            "EU:Art. 9",
            "acme: x",
            "nothing",
        ] {
            assert!(!well_formed(bad), "{bad}");
        }
    }
}
