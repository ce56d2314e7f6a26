//! A policy repository's data: its `data.yaml` read strictly, checked against the
//! repository's own `data.schema.json`, and the environments it declares.
//!
//! Thresholds are data, so a mistake in data.yaml is a mistake in the policies: an empty
//! or truncated file, a key written twice, a threshold of the wrong type or a `.nan` would
//! otherwise switch checks off in silence. Every one of them is refused here, before
//! anything is evaluated, in every command that loads a bundle.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::bundle::{display_path, Bundle, BundleFile, FileKind, DATA_SCHEMA_FILE};
use crate::error::{Error, ErrorKind, Result};
use crate::evidence::RiskTier;
use crate::strict::{self, Source, Syntax};
use crate::suggest;

/// The key of data.yaml that lists the environments a model may be deployed to.
pub const ENVIRONMENTS_KEY: &str = "environments";

/// The bundle's data, checked.
#[derive(Debug, Clone)]
pub struct PolicyData {
    /// Every data file, nested under its folder as `opa eval -d` and OPA bundles nest it,
    /// and merged: `data` as the policies see it.
    pub merged: Value,
    /// The environments the repository declares, in the order written.
    pub environments: Vec<String>,
    /// Where they are declared, for messages (`policies/data.yaml`).
    pub declared_in: String,
}

impl PolicyData {
    /// Reads and checks every data file of `bundle`: the root data file must exist, satisfy
    /// the root `data.schema.json` and declare its environments; every data file is read
    /// strictly.
    pub fn load(bundle: &Bundle) -> Result<PolicyData> {
        let shown = |file: &BundleFile| PathBuf::from(display_path(&bundle.root.join(&file.path)));
        let roots: Vec<&BundleFile> = bundle.files_of(FileKind::Data).filter(|file| !file.path.contains('/')).collect();
        let root = match roots.as_slice() {
            [one] => *one,
            [] => {
                return Err(Error::new(
                    ErrorKind::PolicyData,
                    format!("{}: the policy repository has no data.yaml", bundle.root.display()),
                )
                .hint(
                    "a policy repository holds its thresholds and its environments in data.yaml at its top; \
                     `modelgate policy init DIR` writes one to start from (docs/policy-authoring.md)",
                ))
            }
            several => {
                let names: Vec<&str> = several.iter().map(|file| file.path.as_str()).collect();
                return Err(Error::new(
                    ErrorKind::PolicyData,
                    format!(
                        "{}: {} are all data files at the top: which one holds the thresholds is ambiguous",
                        bundle.root.display(),
                        suggest::list(&names)
                    ),
                )
                .hint("keep one data file at the top of the policy repository"));
            }
        };
        // Every data file, merged as `data` will hold them: a file in a sub-folder
        // (`overrides/environment/production/data.yaml`) is checked as part of the whole.
        let mut merged = Value::Object(serde_json::Map::new());
        for file in bundle.files_of(FileKind::Data) {
            let path = shown(file);
            let source = Source::new(&path, "policy data", ErrorKind::PolicyData);
            let syntax = if file.path.ends_with(".json") { Syntax::Json } else { Syntax::Yaml };
            let value = strict::parse(&file.contents, syntax, &source)?;
            let value =
                match value {
                    Value::Object(object) if !object.is_empty() => Value::Object(object),
                    Value::Object(_) | Value::Null => {
                        return Err(Error::new(
                            ErrorKind::PolicyData,
                            format!("{}: the policy data is empty", path.display()),
                        )
                        .hint("an empty data file would switch every threshold check off: restore its content"))
                    }
                    other => return Err(Error::new(
                        ErrorKind::PolicyData,
                        format!(
                            "{}: the policy data is {}, but it must be a mapping",
                            path.display(),
                            strict::kind_of(&other)
                        ),
                    )
                    .hint(
                        "data files hold a YAML or JSON mapping of thresholds and settings (docs/policy-authoring.md)",
                    )),
                };
            let nested = nest(&file.path, value);
            merge(&mut merged, &nested, &mut Vec::new()).map_err(|at| {
                Error::new(
                    ErrorKind::PolicyData,
                    format!("{}: `{}` is also set by another data file", path.display(), at.join(".")),
                )
                .hint(
                    "set each value in one data file: which of the two applies would depend on the order they are read",
                )
            })?;
        }
        let root_path = shown(root);
        // modelgate's own rules first (their messages suggest the name meant), then the
        // repository's schema.
        let environments = declared_environments(&root_path, &root.contents, &merged)?;
        check_overrides(&root_path, &root.contents, &merged, &environments)?;
        check_schema(bundle, &root_path, &root.contents, &merged)?;
        Ok(PolicyData { merged, environments, declared_in: root_path.display().to_string() })
    }

    /// Refuses data that sits where a package's rules are (`data.modelgate.fairness.deny`
    /// in a data file): regorus would let the data win over the rules, OPA refuses the
    /// bundle. `packages` are the Rego packages' paths (`modelgate.fairness`).
    pub fn check_packages<'a>(&self, packages: impl IntoIterator<Item = &'a str>) -> Result<()> {
        for package in packages {
            let mut node = &self.merged;
            let mut walked: Vec<&str> = Vec::new();
            for segment in package.split('.') {
                let Some(next) = node.as_object().and_then(|object| object.get(segment)) else { break };
                walked.push(segment);
                node = next;
                let whole = walked.len() == package.split('.').count();
                if whole || !node.is_object() {
                    return Err(Error::new(
                        ErrorKind::PolicyData,
                        format!(
                            "policy data sets `data.{}`, where the rules of package {package} are",
                            walked.join(".")
                        ),
                    )
                    .hint("move the data elsewhere (thresholds live under `thresholds.<category>` in data.yaml): data at a package's path would replace its rules"));
                }
            }
        }
        Ok(())
    }

    /// Refuses an environment the repository does not declare, listing those it does.
    pub fn check_environment(&self, environment: &str) -> Result<()> {
        if self.environments.iter().any(|declared| declared == environment) {
            return Ok(());
        }
        Err(unknown_environment(environment, &self.environments, &self.declared_in))
    }
}

/// The environment a model project targets (`--environment`, else `[deployment]
/// environment`), checked against the policy repository its modelgate.toml names. No
/// environment, or no policy repository named: nothing to check here (evaluation checks).
pub fn check_project_environment(config: &crate::config::LoadedConfig, environment: Option<&str>) -> Result<()> {
    let Some(environment) = environment.or(config.config.deployment.environment.as_deref()) else { return Ok(()) };
    let Some(policies) = &config.config.policies.path else { return Ok(()) };
    let bundle = Bundle::load(&config.resolve(policies))?;
    PolicyData::load(&bundle)?.check_environment(environment)
}

/// The error for an environment nobody declared.
pub fn unknown_environment(environment: &str, declared: &[String], declared_in: &str) -> Error {
    let names: Vec<&str> = declared.iter().map(String::as_str).collect();
    let guess = suggest::nearest(environment, names.iter().copied())
        .map(|name| format!("did you mean `{name}`? "))
        .unwrap_or_default();
    Error::new(
        ErrorKind::UnknownEnvironment,
        format!("environment `{environment}` is not declared ({declared_in} declares {})", suggest::list(&names)),
    )
    .hint(format!(
        "{guess}an undeclared environment would be judged by no override and recorded where nobody looks; \
         use a declared name, or add it under `{ENVIRONMENTS_KEY}:` in {declared_in}"
    ))
}

/// Merges `value` into `into`; `Err` with the path of a value both set (mappings merge,
/// anything else may be set once).
fn merge(into: &mut Value, value: &Value, at: &mut Vec<String>) -> std::result::Result<(), Vec<String>> {
    let (Value::Object(target), Value::Object(source)) = (&mut *into, value) else {
        return Err(at.clone());
    };
    for (key, value) in source {
        at.push(key.clone());
        match target.get_mut(key) {
            Some(existing) => merge(existing, value, at)?,
            None => {
                target.insert(key.clone(), value.clone());
            }
        }
        at.pop();
    }
    Ok(())
}

/// Nests a data file's value under its folder (`a/b/data.yaml` at `data.a.b`).
fn nest(path: &str, value: Value) -> Value {
    let folders: Vec<&str> = path.split('/').collect();
    let mut nested = value;
    for folder in folders[..folders.len() - 1].iter().rev() {
        let mut wrapper = serde_json::Map::new();
        wrapper.insert((*folder).to_string(), nested);
        nested = Value::Object(wrapper);
    }
    nested
}

/// Validates the root data against the repository's `data.schema.json`.
fn check_schema(bundle: &Bundle, data_path: &Path, text: &str, data: &Value) -> Result<()> {
    let schema_path = PathBuf::from(display_path(&bundle.root.join(DATA_SCHEMA_FILE)));
    let Some(schema_file) = bundle.files_of(FileKind::DataSchema).next() else {
        return Err(Error::new(
            ErrorKind::PolicyData,
            format!("{}: the policy repository has no {DATA_SCHEMA_FILE}", bundle.root.display()),
        )
        .hint(format!(
            "a policy repository declares the shape of its data.yaml in {DATA_SCHEMA_FILE} (a JSON Schema), so that a \
             missing or mistyped threshold is refused instead of switching a check off; `modelgate policy init DIR` \
             writes the built-in library's (docs/policy-authoring.md)"
        )));
    };
    let source = Source::new(&schema_path, "the data schema", ErrorKind::PolicyData);
    let schema = strict::parse(&schema_file.contents, Syntax::Json, &source)?;
    let validator = jsonschema::validator_for(&schema).map_err(|error| {
        Error::new(ErrorKind::PolicyData, format!("{}: not a valid JSON Schema: {error}", schema_path.display()))
            .hint("fix the schema (JSON Schema, draft 7 unless its `$schema` names another; references to other files or URLs are not followed)")
    })?;
    if validator.is_valid(&Value::Object(serde_json::Map::new())) {
        return Err(Error::new(
            ErrorKind::PolicyData,
            format!("{}: the schema accepts an empty data.yaml, so it declares nothing", schema_path.display()),
        )
        .hint("require at least `environments` and the keys the policies read (`\"required\": [\"environments\", \"thresholds\"]`)"));
    }
    let problems: Vec<String> = validator
        .iter_errors(data)
        .take(10)
        .map(|error| {
            let segments: Vec<String> = error
                .instance_path
                .as_str()
                .split('/')
                .skip(1)
                .map(|part| part.replace("~1", "/").replace("~0", "~"))
                .collect();
            let line = strict::line_of(text, &segments).map(|line| format!(":{line}")).unwrap_or_default();
            let key =
                if segments.is_empty() { "the top level".to_string() } else { format!("`{}`", segments.join(".")) };
            format!("{}{line}: {key}: {error}", data_path.display())
        })
        .collect();
    if problems.is_empty() {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::PolicyData,
        format!("the policy data does not match {}:\n  {}", schema_path.display(), problems.join("\n  ")),
    )
    .hint(format!(
        "fix data.yaml at the lines shown (a missing key, a quoted number or a value of the wrong type would \
             switch a check off); if the policies changed on purpose, change {DATA_SCHEMA_FILE} with them"
    )))
}

/// The environments data.yaml declares: a non-empty list of distinct names.
fn declared_environments(path: &Path, text: &str, data: &Value) -> Result<Vec<String>> {
    let at = |key: &[&str]| {
        let segments: Vec<String> = key.iter().map(|part| part.to_string()).collect();
        strict::line_of(text, &segments)
            .map(|line| format!("{}:{line}", path.display()))
            .unwrap_or_else(|| path.display().to_string())
    };
    let hint = format!(
        "declare the environments models are deployed to, e.g. `{ENVIRONMENTS_KEY}: [development, staging, production]`"
    );
    let Some(value) = data.get(ENVIRONMENTS_KEY) else {
        return Err(Error::new(ErrorKind::PolicyData, format!("{}: `{ENVIRONMENTS_KEY}` is missing", path.display()))
            .hint(hint));
    };
    let invalid = |message: String| {
        Error::new(ErrorKind::PolicyData, format!("{}: `{ENVIRONMENTS_KEY}` {message}", at(&[ENVIRONMENTS_KEY])))
            .hint(hint.clone())
    };
    let Value::Array(items) = value else {
        return Err(invalid(format!("is {}, but it must be a list of names", strict::kind_of(value))));
    };
    if items.is_empty() {
        return Err(invalid("is empty".to_string()));
    }
    let mut names: Vec<String> = Vec::new();
    for item in items {
        let name = item.as_str().filter(|name| valid_name(name));
        let Some(name) = name else {
            return Err(invalid(format!("holds {item}, which is not a name (letters, digits, `-`, `_`, `.`)")));
        };
        if names.iter().any(|known| known == name) {
            return Err(invalid(format!("lists `{name}` twice")));
        }
        names.push(name.to_string());
    }
    Ok(names)
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Overrides apply to a declared environment or a known risk tier, or never apply.
fn check_overrides(path: &Path, text: &str, data: &Value, environments: &[String]) -> Result<()> {
    let Some(overrides) = data.get("overrides").and_then(Value::as_object) else {
        return Ok(());
    };
    let tiers: Vec<&str> =
        [RiskTier::Low, RiskTier::Medium, RiskTier::High, RiskTier::Critical].map(RiskTier::as_str).to_vec();
    let declared: Vec<&str> = environments.iter().map(String::as_str).collect();
    for (kind, known, what) in [("environment", &declared, "environment"), ("risk_tier", &tiers, "risk tier")] {
        let Some(scopes) = overrides.get(kind).and_then(Value::as_object) else { continue };
        for name in scopes.keys() {
            if known.contains(&name.as_str()) {
                continue;
            }
            let segments = ["overrides".to_string(), kind.to_string(), name.clone()];
            let line = strict::line_of(text, &segments).map(|line| format!(":{line}")).unwrap_or_default();
            let guess = suggest::nearest(name, known.iter().copied())
                .map(|name| format!("did you mean `{name}`? "))
                .unwrap_or_default();
            let source = if kind == "environment" {
                format!("add it under `{ENVIRONMENTS_KEY}:` if it is a new environment")
            } else {
                "risk tiers are low, medium, high and critical".to_string()
            };
            return Err(Error::new(
                ErrorKind::PolicyData,
                format!(
                    "{}{line}: `overrides.{kind}.{name}` names no declared {what} ({}), so it would never apply",
                    path.display(),
                    suggest::list(known)
                ),
            )
            .hint(format!("{guess}rename the override, or {source}")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::bundle::Bundle;

    const SCHEMA: &str = r#"{"type": "object", "required": ["environments", "thresholds"],
        "properties": {"thresholds": {"type": "object", "required": ["max_gap"],
            "properties": {"max_gap": {"type": "number"}}, "additionalProperties": false}}}"#;

    fn bundle(data: &str) -> Bundle {
        let files = vec![
            BundleFile { path: "data.yaml".into(), contents: data.into(), kind: FileKind::Data },
            BundleFile { path: DATA_SCHEMA_FILE.into(), contents: SCHEMA.into(), kind: FileKind::DataSchema },
        ];
        Bundle::from_files("p", None, files)
    }

    #[test]
    fn valid_data_declares_environments() {
        let data = PolicyData::load(&bundle("environments: [staging, production]\nthresholds:\n  max_gap: 0.1\n"))
            .expect("valid");
        assert_eq!(data.environments, ["staging", "production"]);
        assert!(data.check_environment("production").is_ok());
        let error = data.check_environment("prodution").expect_err("typo");
        assert_eq!(error.kind, ErrorKind::UnknownEnvironment);
        assert!(error.message.contains("`staging` or `production`"), "{}", error.message);
        assert!(error.hint.as_deref().is_some_and(|hint| hint.contains("did you mean `production`")));
    }

    #[test]
    fn empty_missing_and_mistyped_data_are_refused() {
        for text in ["", "# only a comment\n", "{}", "thresholds: null\nenvironments: [a]\n"] {
            assert!(PolicyData::load(&bundle(text)).is_err(), "{text:?}");
        }
        let error =
            PolicyData::load(&bundle("environments: [a]\nthresholds:\n  max_gap: \"0.1\"\n")).expect_err("type");
        assert!(error.message.contains("data.yaml:3: `thresholds.max_gap`"), "{}", error.message);
        let error = PolicyData::load(&bundle("environments: [a]\nthresholds:\n  max_gap: .inf\n")).expect_err("inf");
        assert!(error.message.contains("not finite"), "{}", error.message);
        let error = PolicyData::load(&bundle("environments: [a]\nthresholds:\n  max_gap: 0.1\nthresholds: {}\n"))
            .expect_err("dup");
        assert!(error.message.contains("duplicate key `thresholds`"), "{}", error.message);
        let error = PolicyData::load(&bundle("thresholds:\n  max_gap: 0.1\n")).expect_err("no environments");
        assert!(error.message.contains("environments"), "{}", error.message);
    }

    #[test]
    fn overrides_must_name_declared_environments_and_tiers() {
        let text =
            "environments: [production]\nthresholds:\n  max_gap: 0.1\noverrides:\n  environment:\n    prodution: {}\n";
        let error = PolicyData::load(&bundle(text)).expect_err("typo");
        assert!(error.message.contains("data.yaml:6: `overrides.environment.prodution`"), "{}", error.message);
        let text =
            "environments: [production]\nthresholds:\n  max_gap: 0.1\noverrides:\n  risk_tier:\n    extreme: {}\n";
        assert!(PolicyData::load(&bundle(text)).is_err());
    }

    /// The built-in library's data.yaml, cut short after any line that holds a value, is
    /// refused: its schema requires every base threshold and every shipped override.
    #[test]
    fn the_library_data_cut_anywhere_is_refused() {
        let library = crate::policy::library::files();
        let file = |name: &str| {
            library.iter().find(|(path, _)| path == name).map(|(_, text)| text.to_string()).expect("in the library")
        };
        let (data, schema) = (file("data.yaml"), file(DATA_SCHEMA_FILE));
        let bundle_of = |text: &str| {
            Bundle::from_files(
                "policies",
                None,
                vec![
                    BundleFile { path: "data.yaml".into(), contents: text.into(), kind: FileKind::Data },
                    BundleFile { path: DATA_SCHEMA_FILE.into(), contents: schema.clone(), kind: FileKind::DataSchema },
                ],
            )
        };
        assert!(PolicyData::load(&bundle_of(&data)).is_ok(), "the library's own data.yaml");
        let lines: Vec<&str> = data.lines().collect();
        let last_value = lines.iter().rposition(|line| !line.trim().is_empty() && !line.trim_start().starts_with('#'));
        let last_value = last_value.expect("values");
        for cut in 0..last_value {
            let truncated = lines[..=cut].join("\n") + "\n";
            assert!(PolicyData::load(&bundle_of(&truncated)).is_err(), "data.yaml cut after line {} passed", cut + 1);
        }
    }
}
