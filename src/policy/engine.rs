//! The regorus engine, loaded once with a bundle, evaluated once per evidence document.

use std::num::NonZeroU32;
use std::time::Duration;

use regorus::utils::limits::ExecutionTimerConfig;
use regorus::{Engine, Value};

use super::analyze::{check_calls, check_input_references, check_packages, constant_packages, memo_rules, Outline};
use super::bundle::{Bundle, FileKind};
use super::data::PolicyData;
use crate::error::{Error, ErrorKind, Result};

/// Packages under this prefix gate a deployment.
pub const PACKAGE_PREFIX: &str = "modelgate.";
/// The entry module modelgate adds to evaluate every gating rule in one pass.
const ENTRY_PACKAGE: &str = "modelgate_entry__";
const ENTRY_RULE: &str = "data.modelgate_entry__.result";
/// At most this many combinations of field values are remembered per engine.
const MEMO_CAPACITY: usize = 256;
/// At most this many sets of defined memoised rules get an entry rule of their own.
const MEMO_VARIANTS: usize = 16;

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Turns off backtraces of `anyhow` errors unless RUST_LIB_BACKTRACE asks for them. regorus
/// builds such errors on paths of ordinary evaluation and drops them; with RUST_BACKTRACE=1
/// in the environment (common in CI) each captured one: a batch of 2,000 documents took
/// 9.6 s instead of 4.1 s. Panics still print theirs (RUST_BACKTRACE). Call first thing in
/// a process, before any thread starts (the binary's `main`, the benchmarks).
pub fn quiet_error_backtraces() {
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        std::env::set_var("RUST_LIB_BACKTRACE", "0");
    }
}

/// The evidence document's JSON Schema, that references into `input` are checked against.
static EVIDENCE_SCHEMA: std::sync::LazyLock<serde_json::Value> = std::sync::LazyLock::new(crate::evidence::json_schema);

/// A gating package and the rules modelgate reads from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatingPackage {
    /// `modelgate.fairness`
    pub path: String,
    pub has_deny: bool,
    pub has_warn: bool,
    pub has_catalog: bool,
}

impl GatingPackage {
    /// `fairness` for `modelgate.fairness`; `acme.privacy` for `modelgate.acme.privacy`.
    pub fn category(&self) -> &str {
        self.path.strip_prefix(PACKAGE_PREFIX).unwrap_or(&self.path)
    }
}

/// What one package produced for one evidence document, as plain JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct PackageResult {
    pub package: String,
    pub deny: Vec<serde_json::Value>,
    pub warn: Vec<serde_json::Value>,
    pub catalog: serde_json::Map<String, serde_json::Value>,
}

/// A bundle compiled into a ready engine.
///
/// Evaluation runs on regorus's tree-walking interpreter. Its bytecode VM (RVM) was
/// measured at about three times the speed on the built-in library, but it returned
/// `undefined` where a builtin raised an error (`to_number("2.4.0")`), which would turn
/// a broken rule into an allow; see `tests/cli.rs::evaluation_error_fails_closed`.
/// Measured again on regorus 0.14.1 with strict builtin errors (issue 19): the library
/// does not compile for it as written (`modelgate.lib`'s `_layered` needs more than the
/// VM's 255 registers); with `_layered` split into two functions it compiled and ran 5 to
/// 7 times faster (the blocked example: 1.3 ms against 8.0 ms), but on 5 of the 8
/// evidence fixtures it lost warnings and found thresholds unset that the interpreter
/// (and OPA) find: it would fail open, so it is not used. (The split itself made the
/// interpreter about 10% slower, so the library keeps one rule.)
#[derive(Clone)]
pub struct PolicyEngine {
    engine: Engine,
    pub packages: Vec<GatingPackage>,
    pub outline: Outline,
    /// Each package's catalog, evaluated once at load: catalogs are constants.
    catalogs: Vec<serde_json::Map<String, serde_json::Value>>,
    /// The `deny` and `warn` of each package that reads nothing of the evidence (and
    /// nothing that varies), evaluated once at load ([`constant_packages`]); `None` for
    /// the packages evaluated per document.
    constants: Vec<Option<(Vec<serde_json::Value>, Vec<serde_json::Value>)>>,
    /// The bundle's data, checked against its schema, and the environments it declares.
    pub data: std::sync::Arc<PolicyData>,
    /// Rules computed once per value of the evidence fields they read.
    memo: Option<Memo>,
}

/// Rules whose value is fixed by a few scalar fields of the evidence ([`memo_rules`]):
/// in the built-in library the thresholds that apply to an environment and a risk tier,
/// and the catalogs. They are computed once per combination of those fields' values and
/// given to every later document with the same values through `with` (as OPA allows:
/// `with data.p.r as v` replaces a rule's value), so each document evaluates only what
/// depends on the rest of it. The rules are grouped by the fields they read, each group
/// with its own remembered values. A rule undefined for some values cannot be given one:
/// it is evaluated as before ([`PolicyEngine::memo_entry`]). A group whose rules raise an
/// error, or whose fields hold more than a scalar, sends the document to the full
/// evaluation, which meets the same error.
#[derive(Clone)]
struct Memo {
    /// The rules (`modelgate.lib._values`), named `r0`, `r1`, … in `input.memo`.
    rules: Vec<String>,
    groups: Vec<MemoGroup>,
    /// The entry rule for each set of defined rules met so far ([`PolicyEngine::memo_entry`]).
    entries: std::collections::BTreeMap<Vec<usize>, String>,
    /// How many documents were evaluated with remembered values.
    used: usize,
    /// How many documents this engine was asked to evaluate.
    seen: usize,
}

/// Memoised rules that read the same evidence fields.
#[derive(Clone)]
struct MemoGroup {
    /// The fields, as the keys under `input`.
    fields: Vec<Vec<String>>,
    /// `data.modelgate_entry__.memo_values_g0`: the rules' values for the current input.
    rule: String,
    /// The values of the group's defined rules (`{"r0": …}`) by the fields' values. At
    /// most [`MEMO_CAPACITY`]: then forgotten and computed again.
    values: std::collections::BTreeMap<Vec<Value>, Value>,
}

impl MemoGroup {
    /// The fields' values in `input`, when each is a scalar or absent, and absent because a
    /// step on its way is (not because a step is null or not an object, which a rule may
    /// tell apart).
    fn key(&self, input: &Value) -> Option<Vec<Value>> {
        self.fields
            .iter()
            .map(|path| {
                let mut value = input;
                for key in path {
                    if !matches!(value, Value::Object(_) | Value::Undefined) {
                        return None;
                    }
                    value = &value[key.as_str()];
                }
                match value {
                    Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) | Value::Undefined => {
                        Some(value.clone())
                    }
                    _ => None,
                }
            })
            .collect()
    }
}

fn timer(timeout: Duration) -> ExecutionTimerConfig {
    ExecutionTimerConfig { limit: timeout, check_interval: NonZeroU32::new(64).unwrap_or(NonZeroU32::MIN) }
}

/// How to build the engine.
#[derive(Debug, Clone, Copy)]
pub struct EngineOptions {
    pub timeout: Duration,
    /// Load `*_test.rego` files too (for `policy test`).
    pub include_tests: bool,
    /// Compute the rules that read only a few scalar fields of the evidence once per
    /// value of those fields ([`Memo`]); off only to check that it changes nothing.
    pub memoise: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions { timeout: DEFAULT_TIMEOUT, include_tests: false, memoise: true }
    }
}

impl PolicyEngine {
    /// Parses and checks every module and loads the bundle's data. Fails closed on
    /// parse errors, unknown builtins, misplaced `deny` rules and a bundle with no `deny`.
    pub fn compile(bundle: &Bundle, options: EngineOptions) -> Result<PolicyEngine> {
        let data = PolicyData::load(bundle)?;
        let mut engine = base_engine(bundle, options, &data)?;
        let outline = Outline::of(engine.get_modules())?;
        data.check_packages(outline.packages.keys().map(String::as_str).chain([ENTRY_PACKAGE]))?;
        check_calls(engine.get_modules(), &outline)?;
        check_input_references(engine.get_modules(), &EVIDENCE_SCHEMA)?;
        let packages = gating_packages(&outline)?;
        check_packages(engine.get_modules(), &outline, PACKAGE_PREFIX)?;
        let mut catalogs = Vec::new();
        let mut constants = Vec::new();
        let mut memo = None;
        if !options.include_tests {
            let constant = constant_packages(engine.get_modules(), &outline);
            for package in &packages {
                catalogs.push(catalog(&mut engine, package)?);
                constants.push(match constant.contains(&package.path) {
                    true => Some(constant_sets(&mut engine, package)?),
                    false => None,
                });
            }
            let evaluated: Vec<GatingPackage> = packages
                .iter()
                .zip(&constants)
                .filter(|(_, constant)| constant.is_none())
                .map(|(package, _)| package.clone())
                .collect();
            let roots: Vec<String> = evaluated
                .iter()
                .flat_map(|package| {
                    [(package.has_deny, "deny"), (package.has_warn, "warn")]
                        .into_iter()
                        .filter(|(defined, _)| *defined)
                        .map(|(_, rule)| format!("{}.{rule}", package.path))
                })
                .collect();
            let scalar =
                |path: &str| super::evidence_schema::is_scalar(&EVIDENCE_SCHEMA, &path.split('.').collect::<Vec<_>>());
            let memoised = match options.memoise {
                true => memo_rules(engine.get_modules(), &outline, &roots, &scalar),
                false => Vec::new(),
            };
            engine
                .add_policy(format!("<{ENTRY_PACKAGE}>"), entry_module(&evaluated, &memoised))
                .map_err(|error| Error::new(ErrorKind::PolicyParse, format!("internal entry module: {error}")))?;
            if !memoised.is_empty() {
                let groups = memo_groups(&memoised)
                    .into_iter()
                    .enumerate()
                    .map(|(group, (fields, _))| MemoGroup {
                        fields: fields.iter().map(|path| path.split('.').map(str::to_string).collect()).collect(),
                        rule: format!("data.{ENTRY_PACKAGE}.memo_values_g{group}"),
                        values: std::collections::BTreeMap::new(),
                    })
                    .collect();
                let rules = memoised.iter().map(|(rule, _)| rule.clone()).collect();
                memo = Some(Memo { rules, groups, entries: std::collections::BTreeMap::new(), used: 0, seen: 0 });
            }
        }
        Ok(PolicyEngine { engine, packages, outline, catalogs, constants, data: std::sync::Arc::new(data), memo })
    }

    /// Each gating package's path and its catalog (code → entry).
    pub fn catalogs(&self) -> impl Iterator<Item = (&str, &serde_json::Map<String, serde_json::Value>)> + Clone {
        self.packages.iter().map(|package| package.path.as_str()).zip(&self.catalogs)
    }

    /// Evaluates every gating rule against `input_json` (the evidence document).
    pub fn evaluate(&mut self, input_json: &str) -> Result<Vec<PackageResult>> {
        let input = Value::from_json_str(input_json)
            .map_err(|error| Error::new(ErrorKind::EvidenceInvalid, format!("evidence is not JSON: {error}")))?;
        if let Some((memoised, rule)) = self.memoised(&input).and_then(|memoised| {
            let rule = self.memo_entry(&memoised)?;
            Some((memoised, rule))
        }) {
            let wrapped: std::collections::BTreeMap<Value, Value> =
                [(Value::from("doc"), input.clone()), (Value::from("memo"), memoised)].into_iter().collect();
            self.engine.set_input(Value::from(wrapped));
            let result = self.engine.eval_rule(rule).map_err(evaluation_error)?;
            if result != Value::Undefined {
                if let Some(memo) = self.memo.as_mut() {
                    memo.used += 1;
                }
                return self.results(&result);
            }
        }
        self.engine.set_input(input);
        let result = self.engine.eval_rule(ENTRY_RULE.to_string()).map_err(evaluation_error)?;
        self.results(&result)
    }

    /// The memoised rules' values for `input`'s fields (`{"r0": …}`, the rules that are
    /// defined), each group's computed with `input` the first time its fields' values are
    /// seen; `None` to evaluate in full.
    fn memoised(&mut self, input: &Value) -> Option<Value> {
        let memo = self.memo.as_mut()?;
        // An engine's first document is evaluated in full: a single `eval` would only pay
        // for remembering (the values, an entry rule and the engine prepared again).
        memo.seen += 1;
        if memo.seen == 1 {
            return None;
        }
        let mut all = std::collections::BTreeMap::new();
        let mut input_set = false;
        for group in &mut memo.groups {
            let key = group.key(input)?;
            let known = match group.values.get(&key) {
                Some(known) => known.clone(),
                None => {
                    if !input_set {
                        self.engine.set_input(input.clone());
                        input_set = true;
                    }
                    // An error (or the time limit) is not remembered: the full evaluation
                    // meets it again.
                    let values = self.engine.eval_rule(group.rule.clone()).ok()?;
                    values.as_object().ok()?;
                    if group.values.len() >= MEMO_CAPACITY {
                        group.values.clear();
                    }
                    group.values.insert(key, values.clone());
                    values
                }
            };
            for (name, value) in known.as_object().ok()?.iter() {
                all.insert(name.clone(), value.clone());
            }
        }
        Some(Value::from(all))
    }

    /// The entry rule that gives the rules of `memoised` (`{"r0": …}`) their values: one per
    /// set of defined rules (an undefined rule cannot be given a value, so it is evaluated),
    /// added to the engine the first time that set is met. `None` past [`MEMO_VARIANTS`]
    /// sets.
    fn memo_entry(&mut self, memoised: &Value) -> Option<String> {
        let memo = self.memo.as_mut()?;
        let defined: Vec<usize> = memoised
            .as_object()
            .ok()?
            .keys()
            .filter_map(|name| name.as_string().ok()?.strip_prefix('r')?.parse().ok())
            .collect();
        if let Some(rule) = memo.entries.get(&defined) {
            return Some(rule.clone());
        }
        if memo.entries.len() >= MEMO_VARIANTS {
            // The rules are defined for too many different sets of values to pay: evaluate
            // in full from now on rather than compute them twice.
            self.memo = None;
            return None;
        }
        let number = memo.entries.len();
        // One modifier a line: regorus refuses lines over 1,024 columns.
        let overrides: String = defined
            .iter()
            .filter_map(|index| Some(format!("\n    with data.{} as input.memo.r{index}", memo.rules.get(*index)?)))
            .collect();
        let text = format!(
            "package {ENTRY_PACKAGE}\n\nmemo_result_{number} := r if {{\n  r := result\n    with input as input.doc{overrides}\n}}\n"
        );
        self.engine.add_policy(format!("<{ENTRY_PACKAGE}memo_{number}>"), text).ok()?;
        let rule = format!("data.{ENTRY_PACKAGE}.memo_result_{number}");
        memo.entries.insert(defined, rule.clone());
        Some(rule)
    }

    fn results(&self, result: &Value) -> Result<Vec<PackageResult>> {
        let result = serde_json::to_value(result)
            .map_err(|error| Error::new(ErrorKind::PolicyResult, format!("policy result is not JSON: {error}")))?;
        let mut results = Vec::with_capacity(self.packages.len());
        for ((package, catalog), constant) in self.packages.iter().zip(&self.catalogs).zip(&self.constants) {
            if let Some((deny, warn)) = constant {
                results.push(PackageResult {
                    package: package.path.clone(),
                    deny: deny.clone(),
                    warn: warn.clone(),
                    catalog: catalog.clone(),
                });
                continue;
            }
            let entry = result.get(&package.path).ok_or_else(|| {
                Error::new(
                    ErrorKind::PolicyResult,
                    format!("package {} produced no result (a rule head is undefined)", package.path),
                )
                .hint("deny and warn must always be defined: use partial sets (`deny contains v if { … }`)")
            })?;
            results.push(PackageResult {
                package: package.path.clone(),
                deny: set_items(entry, "deny", &package.path)?,
                warn: set_items(entry, "warn", &package.path)?,
                catalog: catalog.clone(),
            });
        }
        Ok(results)
    }

    /// The underlying engine, for the test runner.
    pub fn engine_mut(&mut self) -> &mut Engine {
        &mut self.engine
    }
}

/// The `deny` and `warn` of a package that reads nothing of the evidence, evaluated once
/// with an empty input. An error here fails the load: every document would get it.
fn constant_sets(
    engine: &mut Engine,
    package: &GatingPackage,
) -> Result<(Vec<serde_json::Value>, Vec<serde_json::Value>)> {
    engine.set_input(Value::new_object());
    let mut sets = serde_json::Map::new();
    for (rule, defined) in [("deny", package.has_deny), ("warn", package.has_warn)] {
        if defined {
            let value = engine.eval_rule(format!("data.{}.{rule}", package.path)).map_err(evaluation_error)?;
            if value == Value::Undefined {
                return Err(Error::new(
                    ErrorKind::PolicyResult,
                    format!("package {} produced no {rule} (a rule head is undefined)", package.path),
                )
                .hint("deny and warn must always be defined: use partial sets (`deny contains v if { … }`)"));
            }
            let value = serde_json::to_value(&value)
                .map_err(|error| Error::new(ErrorKind::PolicyResult, format!("policy result is not JSON: {error}")))?;
            sets.insert(rule.to_string(), value);
        }
    }
    let entry = serde_json::Value::Object(sets);
    Ok((set_items(&entry, "deny", &package.path)?, set_items(&entry, "warn", &package.path)?))
}

/// A package's catalog, evaluated once with an empty input (catalogs are constants).
fn catalog(engine: &mut Engine, package: &GatingPackage) -> Result<serde_json::Map<String, serde_json::Value>> {
    if !package.has_catalog {
        return Ok(serde_json::Map::new());
    }
    engine.set_input(Value::new_object());
    let value = engine.eval_rule(format!("data.{}.catalog", package.path)).map_err(evaluation_error)?;
    match serde_json::to_value(&value) {
        Ok(serde_json::Value::Object(catalog)) => {
            if let Some(code) = catalog.keys().find(|code| !super::decide::is_code(code)) {
                return Err(Error::new(
                    ErrorKind::PolicyResult,
                    format!("data.{}.catalog: `{code}` is not a kebab-case `category/name` code", package.path),
                )
                .hint("codes are stable identifiers like `fairness/demographic-parity-difference`: reports, waivers and the audit trail name violations by them"));
            }
            Ok(catalog)
        }
        Ok(other) => Err(Error::new(
            ErrorKind::PolicyResult,
            format!("data.{}.catalog must be an object, found {}", package.path, kind_of(&other)),
        )
        .hint("catalog is a constant object mapping each code to {title, description, severity, remediation}")),
        Err(error) => {
            Err(Error::new(ErrorKind::PolicyResult, format!("data.{}.catalog is not JSON: {error}", package.path)))
        }
    }
}

fn base_engine(bundle: &Bundle, options: EngineOptions, data: &PolicyData) -> Result<Engine> {
    let mut engine = Engine::new();
    engine.set_rego_v0(false);
    // Builtin errors (a type mismatch, a bad regex) are errors, not undefined: fail closed.
    engine.set_strict_builtin_errors(true);
    engine.set_execution_timer_config(timer(options.timeout));
    for file in &bundle.files {
        let load = match file.kind {
            FileKind::Rego => true,
            FileKind::RegoTest => options.include_tests,
            FileKind::Data | FileKind::Exceptions | FileKind::DataSchema | FileKind::Controls => false,
        };
        if load {
            engine.add_policy(file.path.clone(), file.contents.clone()).map_err(|error| {
                Error::new(ErrorKind::PolicyParse, format!("policy does not parse: {error}"))
                    .hint("fix the Rego syntax at the line shown (modelgate reads Rego v1: `deny contains v if { … }`)")
            })?;
        }
    }
    // The data files, merged and checked by PolicyData::load (two files setting one value
    // are refused there).
    engine.add_data(Value::from(data.merged.clone())).map_err(|error| {
        Error::new(ErrorKind::PolicyData, format!("{}: policy data cannot be loaded: {error}", data.declared_in))
            .hint("the data files must form one mapping of thresholds and settings (docs/policy-authoring.md)")
    })?;
    Ok(engine)
}

/// Finds the packages that gate and refuses bundles that would pass in silence.
fn gating_packages(outline: &Outline) -> Result<Vec<GatingPackage>> {
    let mut packages = Vec::new();
    for (path, rules) in &outline.packages {
        let has_deny = rules.contains("deny");
        let has_warn = rules.contains("warn");
        if !path.starts_with(PACKAGE_PREFIX) {
            if has_deny || has_warn {
                return Err(Error::new(
                    ErrorKind::PolicyPackage,
                    format!(
                        "package {path} defines deny/warn rules outside modelgate.*; they would never be evaluated"
                    ),
                )
                .hint(format!(
                    "rename it to `package modelgate.{}` (gating packages live under modelgate.<category>)",
                    path.rsplit('.').next().unwrap_or(path)
                )));
            }
            continue;
        }
        if has_deny || has_warn {
            packages.push(GatingPackage {
                path: path.clone(),
                has_deny,
                has_warn,
                has_catalog: rules.contains("catalog"),
            });
        }
    }
    if !packages.iter().any(|package| package.has_deny) {
        return Err(Error::new(
            ErrorKind::PolicyNoDeny,
            "no `deny` rule found in any package under modelgate.*: nothing could ever block a deployment",
        )
        .hint("check the package names (`package modelgate.fairness`) and that rules are named `deny`/`warn`"));
    }
    Ok(packages)
}

/// The memoised rules grouped by the evidence fields they read: (fields, indices into
/// `memoised`), in the order of their fields.
fn memo_groups(memoised: &[(String, std::collections::BTreeSet<String>)]) -> Vec<(Vec<String>, Vec<usize>)> {
    let mut groups: std::collections::BTreeMap<Vec<String>, Vec<usize>> = std::collections::BTreeMap::new();
    for (index, (_, reads)) in memoised.iter().enumerate() {
        groups.entry(reads.iter().cloned().collect()).or_default().push(index);
    }
    groups.into_iter().collect()
}

/// One rule that gathers every gating package's results, so one evaluation computes
/// shared helper rules once; and, per group of `memoised` rules, `memo_values_gN`, their
/// values for the current input. The entry rules that give them those values
/// (`memo_result_N`) are added when first needed ([`PolicyEngine::memo_entry`]).
fn entry_module(packages: &[GatingPackage], memoised: &[(String, std::collections::BTreeSet<String>)]) -> String {
    let mut results = String::from("{\n");
    for package in packages {
        let mut fields = Vec::new();
        if package.has_deny {
            fields.push(format!("\"deny\": data.{}.deny", package.path));
        }
        if package.has_warn {
            fields.push(format!("\"warn\": data.{}.warn", package.path));
        }
        results.push_str(&format!("  \"{}\": {{{}}},\n", package.path, fields.join(", ")));
    }
    results.push('}');
    let mut text = format!("package {ENTRY_PACKAGE}\n\nresult := {results}\n");
    if !memoised.is_empty() {
        // Each group's values: {"r0": value} for each rule that is defined.
        for (group, (_, rules)) in memo_groups(memoised).iter().enumerate() {
            let parts: Vec<String> = rules
                .iter()
                .map(|index| format!("  {{\"r{index}\": value | value := data.{}}},\n", memoised[*index].0))
                .collect();
            text.push_str(&format!("\nmemo_values_g{group} := object.union_n([\n{}])\n", parts.concat()));
        }
    }
    text
}

fn set_items(entry: &serde_json::Value, rule: &str, package: &str) -> Result<Vec<serde_json::Value>> {
    match entry.get(rule) {
        None => Ok(Vec::new()),
        Some(serde_json::Value::Array(items)) => Ok(items.clone()),
        Some(other) => Err(Error::new(
            ErrorKind::PolicyResult,
            format!("data.{package}.{rule} must be a set, found {}", kind_of(other)),
        )
        .hint(format!("write `{rule} contains v if {{ … }}` so that {rule} is a set of violations"))),
    }
}

fn kind_of(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

fn evaluation_error(error: anyhow::Error) -> Error {
    if let Some(regorus::LimitError::TimeLimitExceeded { limit, .. }) = error.downcast_ref::<regorus::LimitError>() {
        return Error::new(
            ErrorKind::PolicyTimeout,
            format!("policy evaluation exceeded the time limit of {} ms", limit.as_millis()),
        )
        .hint("look for unbounded iteration in recent policy changes, or raise [policies] timeout_ms / --timeout-ms");
    }
    let text = format!("{error:#}");
    if text.contains("exceeded") && text.contains("time limit") {
        return Error::new(ErrorKind::PolicyTimeout, format!("policy evaluation timed out: {text}")).hint(
            "look for unbounded iteration in recent policy changes, or raise [policies] timeout_ms / --timeout-ms",
        );
    }
    Error::new(ErrorKind::PolicyEvaluation, format!("policy evaluation failed: {text}"))
        .hint("the rule at the location shown raised an error; fix the policy or the evidence it reads")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> &'static std::path::Path {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
    }

    fn engine(policies: &std::path::Path, memoise: bool) -> PolicyEngine {
        let bundle = Bundle::load(policies).expect("bundle");
        PolicyEngine::compile(&bundle, EngineOptions { memoise, ..EngineOptions::default() }).expect("compiles")
    }

    /// Every evidence fixture, and each again in every environment and risk tier (so that
    /// each combination is met once, then again from what was remembered).
    fn documents() -> Vec<serde_json::Value> {
        let mut documents: Vec<serde_json::Value> = Vec::new();
        for dir in ["tests/fixtures/evidence", "tests/fixtures/examples"] {
            let mut paths: Vec<_> = std::fs::read_dir(root().join(dir))
                .expect("fixtures")
                .map(|entry| entry.expect("entry").path())
                .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
                .collect();
            paths.sort();
            for path in paths {
                let text = std::fs::read_to_string(&path).expect("fixture");
                documents.push(serde_json::from_str(&text).expect("json"));
            }
        }
        let mut varied = Vec::new();
        for _ in 0..2 {
            for document in &documents {
                for environment in ["development", "staging", "production"] {
                    for tier in ["low", "medium", "high", "critical"] {
                        let mut document: serde_json::Value = document.clone();
                        if let Some(deployment) = document.get_mut("deployment").and_then(|d| d.as_object_mut()) {
                            deployment.insert("environment".into(), environment.into());
                        }
                        if let Some(model) = document.get_mut("model").and_then(|m| m.as_object_mut()) {
                            model.insert("risk_tier".into(), tier.into());
                        }
                        varied.push(document);
                    }
                }
            }
        }
        documents.extend(varied);
        documents
    }

    #[test]
    fn remembered_rules_change_no_result() {
        let policies = root().join("policies");
        let mut remembered = engine(&policies, true);
        let mut full = engine(&policies, false);
        assert!(
            remembered.memo.as_ref().is_some_and(|memo| memo.rules.len() > 10),
            "the library's thresholds are remembered"
        );
        assert!(full.memo.is_none());
        let documents = documents();
        assert!(documents.len() > 100);
        for document in &documents {
            let text = document.to_string();
            let expected = full.evaluate(&text).map_err(|error| error.to_string());
            let found = remembered.evaluate(&text).map_err(|error| error.to_string());
            assert_eq!(found, expected, "{}", &text[..text.len().min(300)]);
        }
        let memo = remembered.memo.as_ref().expect("memo");
        // The (environment, risk tier) group met every combination, and more than one set
        // of defined rules got an entry of its own.
        assert!(memo.groups.iter().any(|group| group.values.len() >= 12));
        assert!(!memo.entries.is_empty());
        // Not all: a document whose remembered fields sit under a section that is null is
        // evaluated in full.
        assert!(
            memo.used * 10 >= documents.len() * 8,
            "{} of {} evaluated with remembered values",
            memo.used,
            documents.len()
        );
    }

    #[test]
    fn a_remembered_rule_that_raises_is_an_error_every_time() {
        let dir = tempfile::tempdir().expect("tempdir");
        for file in ["data.yaml", "data.schema.json"] {
            std::fs::copy(root().join("tests/fixtures/policies/minimal").join(file), dir.path().join(file))
                .expect("copy");
        }
        // `_limit` reads only the environment (a scalar): remembered per environment. It
        // raises for "production" (not a number) and not for "1".
        std::fs::write(
            dir.path().join("broken.rego"),
            "package modelgate.broken\n\n_limit := to_number(input.deployment.environment)\n\ndeny contains name if {\n\tsome name, value in input.evaluation.metrics\n\tvalue > _limit\n}\n",
        )
        .expect("write");
        let mut engine = engine(dir.path(), true);
        assert_eq!(
            engine.memo.as_ref().map(|memo| memo.rules.clone()),
            Some(vec!["modelgate.broken._limit".to_string()])
        );
        let text =
            std::fs::read_to_string(root().join("tests/fixtures/examples/credit-scoring.json")).expect("fixture");
        let mut document: serde_json::Value = serde_json::from_str(&text).expect("json");
        for _ in 0..3 {
            let error = engine.evaluate(&document.to_string()).expect_err("to_number(\"production\") raises");
            assert!(error.to_string().contains("could not parse string as number"), "{error}");
        }
        document["deployment"]["environment"] = "0.5".into();
        for _ in 0..2 {
            let results = engine.evaluate(&document.to_string()).expect("evaluates");
            assert!(!results[0].deny.is_empty(), "metrics above 0.5 are denied");
        }
        document["deployment"]["environment"] = "staging".into();
        assert!(engine.evaluate(&document.to_string()).is_err(), "still raises for another name");
    }
}
