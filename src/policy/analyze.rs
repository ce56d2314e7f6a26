//! Static checks over the parsed Rego, before anything is evaluated: Rego that cannot
//! mean what it says is refused at load, as OPA refuses it.
//!
//! regorus only notices a call to a builtin it lacks when the rule happens to run, so a
//! policy whose broken branch is not reached on today's evidence would pass in silence.
//! Likewise a reference to an evidence field that does not exist is merely undefined, and
//! a rule body that reads it never fires. So every expression of every module is walked
//! once, and:
//! - each call must resolve to a user function or a builtin ([`check_calls`]);
//! - each static reference into `input` must name a field the evidence schema has
//!   ([`check_input_references`]), like `opa check --schema` without annotations;
//! - a rule may have one `default` across all files ([`Outline::of`]);
//! - a package under `modelgate.*` must gate (`deny`/`warn`) or be used by one that does
//!   ([`check_packages`]).

use std::collections::{BTreeMap, BTreeSet};

use regorus::unstable::{Expr, Literal, Module, Query, Rule, RuleHead, BUILTINS};
use regorus::Value;

use crate::error::{Error, ErrorKind, Result};

/// What the modules define, by package.
#[derive(Debug, Default, Clone)]
pub struct Outline {
    /// Package path (without `data.`) to the names of the rules it defines.
    pub packages: BTreeMap<String, BTreeSet<String>>,
    /// Full paths (`modelgate.lib.threshold`) of user-defined functions.
    pub functions: BTreeSet<String>,
    /// Test rules: (package, rule name, file).
    pub tests: Vec<TestRule>,
    /// Package path to the files of its modules that are not tests.
    pub files: BTreeMap<String, BTreeSet<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestRule {
    pub package: String,
    pub name: String,
    pub file: String,
    pub line: u32,
}

impl Outline {
    pub fn of(modules: &[regorus::unstable::Ref<Module>]) -> Result<Outline> {
        let mut outline = Outline::default();
        // Where each rule's `default` is, to refuse a second one in another file: regorus
        // would keep the first file's, so renaming a file could flip a decision.
        let mut defaults: BTreeMap<String, (String, u32)> = BTreeMap::new();
        for module in modules {
            let package = path_of(&module.package.refr).map(|path| strip_data(&path).to_string());
            let Some(package) = package else {
                let span = module.package.refr.span();
                return Err(Error::new(
                    ErrorKind::PolicyParse,
                    format!("{}:{}: unsupported package name", span.source.file(), span.line),
                ));
            };
            if !is_test_module(module) {
                let file = module.package.refr.span().source.file().to_string();
                outline.files.entry(package.clone()).or_default().insert(file);
            }
            let rules = outline.packages.entry(package.clone()).or_default();
            let mut seen_tests = BTreeSet::new();
            for rule in &module.policy {
                let (refr, is_function) = match rule.as_ref() {
                    Rule::Spec { head: RuleHead::Func { refr, .. }, .. } => (refr, true),
                    Rule::Spec { head: RuleHead::Compr { refr, .. } | RuleHead::Set { refr, .. }, .. } => (refr, false),
                    Rule::Default { refr, args, .. } => (refr, !args.is_empty()),
                };
                let Some(name) = rule_name(refr) else { continue };
                if let Rule::Default { span, .. } = rule.as_ref() {
                    let here = (span.source.file().to_string(), span.line);
                    if let Some((file, line)) = defaults.insert(format!("{package}.{name}"), here.clone()) {
                        let text = span.source.line(span.line.saturating_sub(1)).trim_end();
                        return Err(Error::new(
                            ErrorKind::PolicyParse,
                            format!(
                                "{}:{}: a second `default {name}` for data.{package}.{name} (the first is at {file}:{line})\n  {} | {text}",
                                here.0, here.1, here.1
                            ),
                        )
                        .hint("a rule has at most one default (OPA refuses this bundle: multiple default rules); which one applied would depend on file names: keep one"));
                    }
                }
                if is_function {
                    outline.functions.insert(format!("{package}.{name}"));
                }
                if (name.starts_with("test_") || name.starts_with("todo_")) && seen_tests.insert(name.clone()) {
                    let span = rule.span();
                    outline.tests.push(TestRule {
                        package: package.clone(),
                        name: name.clone(),
                        file: span.source.file().to_string(),
                        line: span.line,
                    });
                }
                rules.insert(name);
            }
        }
        Ok(outline)
    }
}

/// Checks that every call names a user function or a builtin this engine has.
pub fn check_calls(modules: &[regorus::unstable::Ref<Module>], outline: &Outline) -> Result<()> {
    for module in modules {
        let package = path_of(&module.package.refr).map(|path| strip_data(&path).to_string()).unwrap_or_default();
        let aliases = aliases(module);
        let checker = CallChecker { package: &package, aliases: &aliases, outline };
        for rule in &module.policy {
            walk_rule(rule, &mut |expr| match expr {
                Expr::Call { span, fcn, .. } => checker.call(span, fcn),
                _ => Ok(()),
            })?;
        }
    }
    Ok(())
}

/// Builtins whose result is not fixed by their arguments: a rule that calls one is never
/// taken as a constant.
const IMPURE_BUILTINS: &[&str] =
    &["time.now_ns", "rand.intn", "uuid.rfc4122", "http.send", "net.lookup_ip_addr", "opa.runtime", "trace"];

/// What a rule or function reads of the evidence: the static paths into `input` it reads
/// (`deployment.environment`, the whole subtree under each), or `None` when that cannot be
/// told: the whole input or a computed path into it, `with`, a builtin whose result
/// varies (the time, randomness, the network) or that this engine lacks.
type Reads = Option<BTreeSet<String>>;

/// Every rule and function of the non-test modules (`package.name`), with what it reads of
/// the evidence itself and the rules it reaches, followed to a fixed point: each rule's
/// `reads` holds what it reads through everything it reaches. The analysis is
/// conservative: a reference it cannot resolve (`data.modelgate[name]`) counts as reaching
/// every rule under it, and a name that is both a local variable and a rule counts as the
/// rule.
struct RuleGraph {
    /// Rule to what it reads, through everything it reaches.
    reads: BTreeMap<String, Reads>,
    /// Rule to the rules its own text reaches (directly).
    reaches: BTreeMap<String, BTreeSet<String>>,
    /// Whether any rule uses `with`.
    uses_with: bool,
}

impl RuleGraph {
    /// `None` when a rule's name cannot be read: it could be reached by any reference.
    fn of(modules: &[regorus::unstable::Ref<Module>], outline: &Outline) -> Option<RuleGraph> {
        let mut own: BTreeMap<String, Reads> = BTreeMap::new();
        let mut uses_with = false;
        // References as written (data paths without `data.`; "" for `data` itself).
        let mut references: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let modules: Vec<&regorus::unstable::Ref<Module>> =
            modules.iter().filter(|module| !is_test_module(module)).collect();
        let package_of = |module: &Module| {
            path_of(&module.package.refr).map(|path| strip_data(&path).to_string()).unwrap_or_default()
        };
        // regorus shares the imports of every file of a package: an alias one file declares
        // is seen by the others. One that two files point at different things is not followed.
        let mut imports: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
        for module in &modules {
            let package = imports.entry(package_of(module)).or_default();
            for (alias, target) in aliases(module) {
                package.entry(alias).or_default().insert(target);
            }
        }
        for module in &modules {
            let package = package_of(module);
            let shared = imports.get(&package);
            let aliases: BTreeMap<String, String> = shared
                .into_iter()
                .flatten()
                .filter(|(_, targets)| targets.len() == 1)
                .filter_map(|(alias, targets)| Some((alias.clone(), targets.first()?.clone())))
                .collect();
            let ambiguous =
                |name: &str| shared.and_then(|shared| shared.get(name)).is_some_and(|targets| targets.len() > 1);
            // A rule `limits.max := …` is reached as `limits`, `limits.max` or below.
            let local = |root: &str| {
                outline.packages.get(&package).is_some_and(|rules| {
                    rules
                        .iter()
                        .any(|rule| rule == root || rule.strip_prefix(root).is_some_and(|rest| rest.starts_with('.')))
                })
            };
            for rule in &module.policy {
                let refr = match rule.as_ref() {
                    Rule::Spec {
                        head: RuleHead::Func { refr, .. } | RuleHead::Compr { refr, .. } | RuleHead::Set { refr, .. },
                        ..
                    }
                    | Rule::Default { refr, .. } => refr,
                };
                let name = rule_name(refr)?;
                let node = format!("{package}.{name}");
                // `with` replaces input or data for what the rule evaluates: not followed.
                let mut unknown = mentions_with(rule.span().text());
                uses_with |= unknown;
                // The longest reference starting at each place (`data.a.b` before `data.a`),
                // into data and into the input.
                let mut data: BTreeMap<u32, String> = BTreeMap::new();
                let mut input: BTreeMap<u32, String> = BTreeMap::new();
                let mut calls = BTreeSet::new();
                // The visitor never fails, so neither does the walk.
                let _ = walk_rule(rule, &mut |expr| {
                    if let Expr::Call { fcn, params, .. } = expr {
                        let Some(path) = path_of(fcn) else {
                            unknown = true;
                            return Ok(());
                        };
                        let head = path.split('.').next().unwrap_or(&path);
                        if ambiguous(head) || (aliases.contains_key(head) && local(head)) {
                            unknown = true;
                            return Ok(());
                        }
                        match resolve(&path, &package, &aliases, outline) {
                            Some(target) => {
                                calls.insert(target);
                            }
                            None => {
                                unknown |=
                                    IMPURE_BUILTINS.contains(&path.as_str()) || !BUILTINS.contains_key(path.as_str());
                                if path == "object.get" {
                                    object_get_path(params, &mut input);
                                }
                            }
                        }
                        return Ok(());
                    }
                    let Some((root, segments)) = chain_of(expr) else { return Ok(()) };
                    // regorus reads a name that is both an import alias and a rule of the
                    // package as the rule; which one is meant is not followed.
                    if ambiguous(&root) || (aliases.contains_key(&root) && local(&root)) {
                        unknown = true;
                        return Ok(());
                    }
                    let base = match aliases.get(&root) {
                        _ if root == "input" => root,
                        Some(target) => target.clone(),
                        None if root == "data" => root,
                        None if local(&root) => format!("data.{package}.{root}"),
                        None => return Ok(()),
                    };
                    if base == "input" || base.starts_with("input.") {
                        // A key with a dot (`classes["1.0"]`) would read as two steps.
                        if segments.iter().any(|segment| matches!(segment, Segment::Field(name) if name.contains('.')))
                        {
                            unknown = true;
                            return Ok(());
                        }
                        keep_longest(&mut input, expr, base, segments);
                    } else {
                        keep_longest(&mut data, expr, base, segments);
                    }
                    Ok(())
                });
                let read: Reads = match unknown {
                    true => None,
                    false => Some(input.into_values().map(|path| input_field(&path)).collect()),
                };
                let entry = own.entry(node.clone()).or_insert_with(|| Some(BTreeSet::new()));
                *entry = union(entry.take(), read);
                let reached = references.entry(node).or_default();
                reached.extend(data.into_values().map(|path| {
                    if path == "data" {
                        String::new()
                    } else {
                        strip_data(&path).to_string()
                    }
                }));
                reached.extend(calls);
            }
        }
        // Each reference as the rules it reaches.
        let rules: Vec<String> = own.keys().cloned().collect();
        let reaches: BTreeMap<String, BTreeSet<String>> = references
            .into_iter()
            .map(|(node, references)| {
                let reached = rules
                    .iter()
                    .filter(|rule| references.iter().any(|reference| overlaps(reference, rule)))
                    .cloned()
                    .collect();
                (node, reached)
            })
            .collect();
        // What a rule reaches reads, it reads too, until nothing changes.
        let mut reads = own;
        loop {
            let mut changed = false;
            for (node, reached) in &reaches {
                let mut total = reads[node].clone();
                for other in reached {
                    if total.is_none() {
                        break;
                    }
                    total = union(total, reads[other].clone());
                }
                if total != reads[node] {
                    reads.insert(node.clone(), total);
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        Some(RuleGraph { reads, reaches, uses_with })
    }
}

/// Whether Rego text uses the `with` keyword: the word outside strings and comments.
fn mentions_with(text: &str) -> bool {
    let mut code = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
                code.push(' ');
            }
            '`' => {
                chars.by_ref().find(|&c| c == '`');
                code.push(' ');
            }
            '#' => {
                chars.by_ref().find(|&c| c == '\n');
                code.push(' ');
            }
            c => code.push(c),
        }
    }
    code.split(|c: char| !c.is_alphanumeric() && c != '_').any(|word| word == "with")
}

/// Whether a reference (`modelgate.lib`, "" for all of data) reaches a rule
/// (`modelgate.lib.threshold`): one is the other or lies under it.
fn overlaps(reference: &str, rule: &str) -> bool {
    reference.is_empty()
        || reference == rule
        || rule.strip_prefix(reference).is_some_and(|rest| rest.starts_with('.'))
        || reference.strip_prefix(rule).is_some_and(|rest| rest.starts_with('.'))
}

fn union(a: Reads, b: Reads) -> Reads {
    let (mut a, b) = (a?, b?);
    a.extend(b);
    Some(a)
}

/// `deployment.environment` for `input.deployment.environment`; "" for `input` itself.
fn input_field(path: &str) -> String {
    path.strip_prefix("input").map(|rest| rest.trim_start_matches('.')).unwrap_or_default().to_string()
}

/// `object.get(input, ["a", "b"], default)` reads `input.a.b`: recorded as the longest
/// reference at the first argument, so that `input` alone does not count. Only literal
/// keys (a string or an array of strings, without dots) are followed.
fn object_get_path(params: &[regorus::unstable::Ref<Expr>], input: &mut BTreeMap<u32, String>) {
    let [object, keys, _] = params else { return };
    // Only `input` itself: on any other object, object.get raises where the object is not
    // one, which the value at the longer path does not tell.
    let Some((root, segments)) = chain_of(object) else { return };
    if root != "input" || !segments.is_empty() {
        return;
    }
    let literal = |expr: &Expr| match expr {
        Expr::String { value: Value::String(name), .. } | Expr::RawString { value: Value::String(name), .. }
            if !name.contains('.') =>
        {
            Some(Segment::Field(name.to_string()))
        }
        _ => None,
    };
    let tail: Option<Vec<Segment>> = match keys.as_ref() {
        Expr::Array { items, .. } => items.iter().map(|item| literal(item)).collect(),
        other => literal(other).map(|segment| vec![segment]),
    };
    let Some(tail) = tail else { return };
    keep_longest(input, object, root, tail);
}

/// The gating packages whose `deny` and `warn` are the same for every evidence document, so
/// that they can be evaluated once per bundle: nothing they reach, through rules and
/// functions of any package, reads `input`, calls a builtin whose result varies (the
/// time, randomness, the network), or uses `with` ([`RuleGraph`]).
pub fn constant_packages(modules: &[regorus::unstable::Ref<Module>], outline: &Outline) -> BTreeSet<String> {
    let Some(graph) = RuleGraph::of(modules, outline) else { return BTreeSet::new() };
    let constant =
        |rule: &str| graph.reads.get(rule).is_none_or(|reads| reads.as_ref().is_some_and(BTreeSet::is_empty));
    outline
        .packages
        .iter()
        .filter(|(_, rules)| rules.contains("deny") || rules.contains("warn"))
        .filter(|(package, _)| ["deny", "warn"].iter().all(|name| constant(&format!("{package}.{name}"))))
        .map(|(package, _)| package.clone())
        .collect()
}

/// Rules worth computing once per value of the few evidence fields they read, rather than
/// once per document: each rule that `roots` need evaluated, directly or through rules and
/// functions that are not themselves such a rule, whose value is fixed by at most
/// [`MEMO_FIELDS`] static paths into the evidence that are `scalar` (a string or a boolean:
/// an environment, a risk tier), or by none (a constant). In the
/// built-in library these are the thresholds resolved for an environment and a risk tier,
/// and each package's catalog. Functions and rules with dotted names are not taken. Empty
/// when more than [`MEMO_RULES`] would be, and when a rule uses `with`: a rule given its
/// value keeps it under a `with` that changes the input it was computed from.
pub fn memo_rules(
    modules: &[regorus::unstable::Ref<Module>],
    outline: &Outline,
    roots: &[String],
    scalar: &dyn Fn(&str) -> bool,
) -> Vec<(String, BTreeSet<String>)> {
    let Some(graph) = RuleGraph::of(modules, outline).filter(|graph| !graph.uses_with) else { return Vec::new() };
    let memoisable = |rule: &str| {
        !outline.functions.contains(rule)
            && outline.packages.iter().any(|(package, names)| {
                rule.strip_prefix(package.as_str())
                    .and_then(|rest| rest.strip_prefix('.'))
                    .is_some_and(|name| !name.contains('.') && names.contains(name))
            })
            && !graph.reads.keys().any(|other| other.strip_prefix(rule).is_some_and(|rest| rest.starts_with('.')))
            && graph.reads.get(rule).is_some_and(|reads| {
                reads.as_ref().is_some_and(|paths| paths.len() <= MEMO_FIELDS && paths.iter().all(|path| scalar(path)))
            })
    };
    let mut frontier = BTreeSet::new();
    let mut seen = BTreeSet::new();
    let mut pending: Vec<&str> = roots.iter().map(String::as_str).collect();
    while let Some(rule) = pending.pop() {
        if !seen.insert(rule) {
            continue;
        }
        if memoisable(rule) {
            frontier.insert(rule.to_string());
            continue;
        }
        pending.extend(graph.reaches.get(rule).into_iter().flatten().map(String::as_str));
    }
    if frontier.len() > MEMO_RULES {
        return Vec::new();
    }
    frontier
        .into_iter()
        .map(|rule| {
            let reads = graph.reads.get(&rule).cloned().flatten().unwrap_or_default();
            (rule, reads)
        })
        .collect()
}

/// At most this many evidence fields fix a rule [`memo_rules`] takes.
pub const MEMO_FIELDS: usize = 4;
/// At most this many rules are computed once per value of their fields.
pub const MEMO_RULES: usize = 64;

/// Records the reference `expr` makes (`base` and its static fields, up to the first
/// computed one) unless a longer one starts at the same place: the walk visits `data.a.b`
/// before `data.a` and `data`, and only the whole reference says what is used.
fn keep_longest(references: &mut BTreeMap<u32, String>, expr: &Expr, base: String, segments: Vec<Segment>) {
    let mut path = base;
    for segment in segments {
        let Segment::Field(name) = segment else { break };
        path.push('.');
        path.push_str(&name);
    }
    let start = expr.span().start;
    if references.get(&start).is_none_or(|known| known.len() < path.len()) {
        references.insert(start, path);
    }
}

/// The rule a call names (`package.name`), or `None` for a builtin.
fn resolve(path: &str, package: &str, aliases: &BTreeMap<String, String>, outline: &Outline) -> Option<String> {
    if let Some(rest) = path.strip_prefix("data.") {
        return Some(rest.to_string());
    }
    let (head, tail) = path.split_once('.').map_or((path, None), |(head, tail)| (head, Some(tail)));
    if let Some(target) = aliases.get(head) {
        let full = match tail {
            Some(tail) => format!("{target}.{tail}"),
            None => target.clone(),
        };
        return full.strip_prefix("data.").map(str::to_string);
    }
    let local = format!("{package}.{path}");
    outline.functions.contains(&local).then_some(local)
}

/// Refuses what would silently drop a check from a package under `modelgate.*`:
/// - a rule named one edit away from `deny` or `warn` (`denny contains v if …`);
/// - a partial set (`name contains v if …`) that nothing reads: modelgate reads `deny`
///   and `warn`, so a set under another name (`denies`, `violations`) is never evaluated;
/// - a package that defines neither `deny` nor `warn` and that no other package uses.
pub fn check_packages(modules: &[regorus::unstable::Ref<Module>], outline: &Outline, prefix: &str) -> Result<()> {
    // (user package, full data path) of every reference to data, and of every import.
    let mut used: Vec<(String, String)> = Vec::new();
    let mut imported: Vec<(String, String)> = Vec::new();
    // Per package: how often each name appears in its modules' expressions, and its
    // partial sets with how often each is defined and where first.
    let mut mentions: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut sets: BTreeMap<String, BTreeMap<String, (usize, String)>> = BTreeMap::new();
    for module in modules.iter().filter(|module| !is_test_module(module)) {
        let package = path_of(&module.package.refr).map(|path| strip_data(&path).to_string()).unwrap_or_default();
        let aliases = aliases(module);
        imported.extend(aliases.values().map(|target| (package.clone(), target.clone())));
        // Every reference, keyed by where it starts: the walk visits `data.a.b` before
        // `data.a` and `data`, and only the whole reference says what is used.
        let mut references: BTreeMap<u32, String> = BTreeMap::new();
        let names = mentions.entry(package.clone()).or_default();
        for rule in &module.policy {
            if let Rule::Spec { head: RuleHead::Set { refr, .. }, span, .. } = rule.as_ref() {
                if let Some(name) = rule_name(refr) {
                    let at = format!("{}:{}", span.source.file(), span.line);
                    let entry = sets.entry(package.clone()).or_default().entry(name).or_insert((0, at));
                    entry.0 += 1;
                }
            }
            walk_rule(rule, &mut |expr| {
                if let Expr::Var { span, .. } = expr {
                    *names.entry(span.text().to_string()).or_default() += 1;
                }
                if let Some((root, segments)) = chain_of(expr) {
                    let base = match aliases.get(&root) {
                        Some(target) => target.clone(),
                        None => root,
                    };
                    if base == "data" || base.starts_with("data.") {
                        keep_longest(&mut references, expr, base, segments);
                    }
                }
                Ok(())
            })?;
        }
        used.extend(references.into_values().map(|path| (package.clone(), path)));
    }
    // A rule another package reads by its full path is read.
    for (_, path) in &used {
        let Some(rest) = path.strip_prefix("data.") else { continue };
        for package in outline.packages.keys() {
            if let Some(name) = rest.strip_prefix(package.as_str()).and_then(|tail| tail.strip_prefix('.')) {
                let name = name.split('.').next().unwrap_or(name);
                let count = mentions.entry(package.clone()).or_default().entry(name.to_string()).or_default();
                *count = count.saturating_add(usize::MAX / 2);
            }
        }
    }
    for (package, rules) in &outline.packages {
        let Some(files) = outline.files.get(package) else { continue };
        if !package.starts_with(prefix) {
            continue;
        }
        let files: Vec<&str> = files.iter().map(String::as_str).collect();
        // `denny contains v if …` beside a `warn`: the package still gates, but its denials
        // are gone. A rule named one edit away from `deny` or `warn` is taken as that typo
        // (`_`-prefixed names are helpers by convention).
        let typo = rules
            .iter()
            .filter(|rule| !rule.starts_with('_'))
            .find_map(|rule| crate::suggest::nearest(rule, ["deny", "warn"]).map(|meant| (rule.clone(), meant)));
        if let Some((rule, meant)) = typo {
            return Err(Error::new(
                ErrorKind::PolicyNoDeny,
                format!(
                    "{}: package {package} defines `{rule}`, which modelgate never evaluates: did you mean `{meant}`?",
                    files.join(", ")
                ),
            )
            .hint(format!("rename the rule to `{meant}` (`{meant} contains v if {{ … }}`), or give a helper a name that cannot be mistaken for it")));
        }
        let names = mentions.get(package);
        for (rule, (definitions, at)) in sets.get(package).into_iter().flatten() {
            if rule == "deny" || rule == "warn" {
                continue;
            }
            let read = names.and_then(|names| names.get(rule)).copied().unwrap_or(0) > *definitions;
            if !read {
                return Err(Error::new(
                    ErrorKind::PolicyNoDeny,
                    format!(
                        "{at}: `{rule} contains …` in package {package} is a set that no rule reads, so it is never evaluated"
                    ),
                )
                .hint(format!("a set of violations is named `deny` (blocks) or `warn` (reports); if `{rule}` is a helper, read it from the rule it helps, or remove it")));
            }
        }
        if rules.contains("deny") || rules.contains("warn") {
            continue;
        }
        let full = format!("data.{package}");
        let under = |path: &String| path == &full || path.starts_with(&format!("{full}."));
        // A reference above the package (`data.modelgate[name]`) may reach it; an import
        // only counts when it is the package or inside it (an unused `import data.modelgate`
        // uses nothing).
        let is_used =
            used.iter().any(|(user, path)| user != package && (under(path) || full.starts_with(&format!("{path}."))))
                || imported.iter().any(|(user, target)| user != package && under(target));
        if is_used {
            continue;
        }
        return Err(Error::new(
            ErrorKind::PolicyNoDeny,
            format!(
                "{}: package {package} defines neither `deny` nor `warn`, and no other package uses it, so it would never be evaluated",
                files.join(", ")
            ),
        )
        .hint("name the gating rules `deny contains v if { … }` and `warn contains v if { … }`; a package of helpers is one that other packages import"));
    }
    Ok(())
}

/// Refuses a static reference into `input` (`input.evaluation.metrics.acuracy`) that the
/// evidence document's JSON Schema says can never exist, naming the file, the line and the
/// nearest real field. References through a name bound to part of the input are followed
/// too: a local `ev := input.evaluation` (or `some item in input.artifacts.files`), and a
/// package rule `_evaluation := input.evaluation`. Test modules are not checked: they
/// build the inputs they test with.
pub fn check_input_references(modules: &[regorus::unstable::Ref<Module>], schema: &serde_json::Value) -> Result<()> {
    let checked: Vec<&regorus::unstable::Ref<Module>> =
        modules.iter().filter(|module| !is_test_module(module)).collect();
    // Package rules that name a part of the input, per package; twice, so that a rule
    // built on another (`_b := _a.x`) is found whatever their order.
    let mut named: BTreeMap<String, BTreeMap<String, Vec<Segment>>> = BTreeMap::new();
    for _ in 0..2 {
        for module in &checked {
            let package = path_of(&module.package.refr).map(|path| strip_data(&path).to_string()).unwrap_or_default();
            let imports = aliases(module);
            for rule in &module.policy {
                let Rule::Spec { head: RuleHead::Compr { refr, assign: Some(assign), .. }, bodies, .. } = rule.as_ref()
                else {
                    continue;
                };
                let (Some(name), Expr::Var { .. }) = (rule_name(refr), refr.as_ref()) else { continue };
                let known = named.get(&package).cloned().unwrap_or_default();
                let locals = bound_names(bodies, &imports, &known);
                if let Some(path) = input_path(&assign.value, &imports, &known, &locals) {
                    named.entry(package.clone()).or_default().insert(name, path);
                }
            }
        }
    }
    for module in &checked {
        let package = path_of(&module.package.refr).map(|path| strip_data(&path).to_string()).unwrap_or_default();
        let imports = aliases(module);
        let known = named.get(&package).cloned().unwrap_or_default();
        for rule in &module.policy {
            let locals = match rule.as_ref() {
                Rule::Spec { bodies, .. } => bound_names(bodies, &imports, &known),
                Rule::Default { .. } => BTreeMap::new(),
            };
            walk_rule(rule, &mut |expr| {
                let Some(path) = input_path(expr, &imports, &known, &locals) else { return Ok(()) };
                match super::evidence_schema::follow(schema, &path) {
                    Ok(()) => Ok(()),
                    Err(missing) => {
                        let span = expr.span();
                        let text = span.source.line(span.line.saturating_sub(1)).trim_end();
                        let guess = missing
                            .nearest
                            .as_deref()
                            .map(|name| format!("; did you mean `{name}`?"))
                            .unwrap_or_default();
                        Err(Error::new(
                            ErrorKind::PolicyParse,
                            format!(
                                "{}:{}: `{}` can never exist in the evidence: {}{guess}\n  {} | {text}",
                                span.source.file(),
                                span.line,
                                missing.reference,
                                missing.reason,
                                span.line
                            ),
                        )
                        .hint("fix the reference: `modelgate schema` prints the evidence document's JSON Schema and docs/evidence.md describes it; organisation-specific evidence goes under `input.extensions`, which is free-form"))
                    }
                }
            })?;
        }
    }
    Ok(())
}

/// The path after `input` that `expr` reads, when it is a reference rooted at `input`, at
/// an import of part of it, at a package rule naming part of it, or at a local bound to
/// part of it.
fn input_path(
    expr: &Expr,
    imports: &BTreeMap<String, String>,
    named: &BTreeMap<String, Vec<Segment>>,
    locals: &BTreeMap<String, Vec<Segment>>,
) -> Option<Vec<Segment>> {
    let (root, segments) = chain_of(expr)?;
    let mut path: Vec<Segment> = if root == "input" && !imports.contains_key(&root) {
        Vec::new()
    } else if let Some(base) = locals.get(&root).or_else(|| named.get(&root)) {
        base.clone()
    } else if let Some(target) = imports.get(&root).filter(|target| *target == "input" || target.starts_with("input."))
    {
        target.split('.').skip(1).map(|name| Segment::Field(name.to_string())).collect()
    } else {
        return None;
    };
    path.extend(segments);
    Some(path)
}

/// Locals of a rule's bodies bound to a part of the input: `v := input.a.b` (or `=`), and
/// `some v in input.a` (an element) or `some k, v in …`. A name bound to two different
/// parts (in two bodies) is left out.
fn bound_names(
    bodies: &[regorus::unstable::RuleBody],
    imports: &BTreeMap<String, String>,
    named: &BTreeMap<String, Vec<Segment>>,
) -> BTreeMap<String, Vec<Segment>> {
    let mut bound: BTreeMap<String, Option<Vec<Segment>>> = BTreeMap::new();
    fn bind(bound: &mut BTreeMap<String, Option<Vec<Segment>>>, name: String, path: Vec<Segment>) {
        let entry = bound.entry(name).or_insert_with(|| Some(path.clone()));
        if entry.as_ref() != Some(&path) {
            *entry = None;
        }
    }
    for body in bodies {
        // Twice, for a local built on a later one.
        for _ in 0..2 {
            let current: BTreeMap<String, Vec<Segment>> =
                bound.iter().filter_map(|(name, path)| Some((name.clone(), path.clone()?))).collect();
            for statement in &body.query.stmts {
                match &statement.literal {
                    Literal::Expr { expr, .. } => {
                        if let Expr::AssignExpr { lhs, rhs, .. } = expr.as_ref() {
                            if let (Expr::Var { span, .. }, Some(path)) =
                                (lhs.as_ref(), input_path(rhs, imports, named, &current))
                            {
                                bind(&mut bound, span.text().to_string(), path);
                            }
                        }
                    }
                    Literal::SomeIn { value, collection, .. } => {
                        if let (Expr::Var { span, .. }, Some(mut path)) =
                            (value.as_ref(), input_path(collection, imports, named, &current))
                        {
                            path.push(Segment::Dynamic);
                            bind(&mut bound, span.text().to_string(), path);
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    bound.into_iter().filter_map(|(name, path)| Some((name, path?))).collect()
}

/// One step of a reference after its root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// `.name` or `["name"]`
    Field(String),
    /// `[0]`
    Index,
    /// `[x]`, computed
    Dynamic,
}

/// `input.a["b"][0][x]` as (`input`, [a, b, Index, Dynamic]); `None` for anything that is
/// not a reference rooted at a variable.
fn chain_of(expr: &Expr) -> Option<(String, Vec<Segment>)> {
    match expr {
        Expr::Var { span, .. } => Some((span.text().to_string(), Vec::new())),
        Expr::RefDot { refr, field, .. } => {
            let (root, mut segments) = chain_of(refr)?;
            let name = match &field.1 {
                Value::String(name) => name.to_string(),
                _ => field.0.text().to_string(),
            };
            segments.push(Segment::Field(name));
            Some((root, segments))
        }
        Expr::RefBrack { refr, index, .. } => {
            let (root, mut segments) = chain_of(refr)?;
            segments.push(match index.as_ref() {
                Expr::String { value: Value::String(name), .. }
                | Expr::RawString { value: Value::String(name), .. } => Segment::Field(name.to_string()),
                Expr::Number { .. } => Segment::Index,
                _ => Segment::Dynamic,
            });
            Some((root, segments))
        }
        _ => None,
    }
}

/// Import aliases of a module: `lib` for `import data.modelgate.lib`, `m` for
/// `import input.evaluation.metrics as m`.
fn aliases(module: &Module) -> BTreeMap<String, String> {
    let mut aliases = BTreeMap::new();
    for import in &module.imports {
        let Some(target) = path_of(&import.refr) else { continue };
        let alias = match &import.r#as {
            Some(span) => span.text().to_string(),
            None => target.rsplit('.').next().unwrap_or_default().to_string(),
        };
        aliases.insert(alias, target);
    }
    aliases
}

/// Whether a module is a test file (`*_test.rego`), which may build any input it likes.
pub fn is_test_module(module: &Module) -> bool {
    module.package.refr.span().source.file().ends_with("_test.rego")
}

/// Visits every expression of a rule, outer before inner; stops at the first error.
fn walk_rule(rule: &Rule, visit: &mut dyn FnMut(&Expr) -> Result<()>) -> Result<()> {
    match rule {
        Rule::Spec { head, bodies, .. } => {
            match head {
                RuleHead::Compr { refr, assign, .. } => {
                    walk_expr(refr, visit)?;
                    if let Some(assign) = assign {
                        walk_expr(&assign.value, visit)?;
                    }
                }
                RuleHead::Set { refr, key, .. } => {
                    walk_expr(refr, visit)?;
                    if let Some(key) = key {
                        walk_expr(key, visit)?;
                    }
                }
                RuleHead::Func { args, assign, .. } => {
                    for arg in args {
                        walk_expr(arg, visit)?;
                    }
                    if let Some(assign) = assign {
                        walk_expr(&assign.value, visit)?;
                    }
                }
            }
            for body in bodies {
                if let Some(assign) = &body.assign {
                    walk_expr(&assign.value, visit)?;
                }
                walk_query(&body.query, visit)?;
            }
            Ok(())
        }
        Rule::Default { value, .. } => walk_expr(value, visit),
    }
}

fn walk_query(query: &Query, visit: &mut dyn FnMut(&Expr) -> Result<()>) -> Result<()> {
    for statement in &query.stmts {
        match &statement.literal {
            Literal::SomeVars { .. } => {}
            Literal::SomeIn { key, value, collection, .. } => {
                if let Some(key) = key {
                    walk_expr(key, visit)?;
                }
                walk_expr(value, visit)?;
                walk_expr(collection, visit)?;
            }
            Literal::Expr { expr, .. } | Literal::NotExpr { expr, .. } => walk_expr(expr, visit)?,
            Literal::Every { domain, query, .. } => {
                walk_expr(domain, visit)?;
                walk_query(query, visit)?;
            }
        }
        for modifier in &statement.with_mods {
            walk_expr(&modifier.r#as, visit)?;
        }
    }
    Ok(())
}

fn walk_expr(expr: &Expr, visit: &mut dyn FnMut(&Expr) -> Result<()>) -> Result<()> {
    visit(expr)?;
    match expr {
        Expr::String { .. }
        | Expr::RawString { .. }
        | Expr::Number { .. }
        | Expr::Bool { .. }
        | Expr::Null { .. }
        | Expr::Var { .. } => Ok(()),
        Expr::Array { items, .. } | Expr::Set { items, .. } => items.iter().try_for_each(|item| walk_expr(item, visit)),
        Expr::Object { fields, .. } => fields.iter().try_for_each(|(_, key, value)| {
            walk_expr(key, visit)?;
            walk_expr(value, visit)
        }),
        Expr::ArrayCompr { term, query, .. } | Expr::SetCompr { term, query, .. } => {
            walk_expr(term, visit)?;
            walk_query(query, visit)
        }
        Expr::ObjectCompr { key, value, query, .. } => {
            walk_expr(key, visit)?;
            walk_expr(value, visit)?;
            walk_query(query, visit)
        }
        Expr::Call { fcn, params, .. } => {
            // The function's name is not a reference to data or input.
            if path_of(fcn).is_none() {
                walk_expr(fcn, visit)?;
            }
            params.iter().try_for_each(|param| walk_expr(param, visit))
        }
        Expr::UnaryExpr { expr, .. } => walk_expr(expr, visit),
        Expr::RefDot { refr, .. } => walk_expr(refr, visit),
        Expr::RefBrack { refr, index, .. } => {
            walk_expr(refr, visit)?;
            walk_expr(index, visit)
        }
        Expr::BinExpr { lhs, rhs, .. }
        | Expr::BoolExpr { lhs, rhs, .. }
        | Expr::ArithExpr { lhs, rhs, .. }
        | Expr::AssignExpr { lhs, rhs, .. } => {
            walk_expr(lhs, visit)?;
            walk_expr(rhs, visit)
        }
        Expr::Membership { key, value, collection, .. } => {
            if let Some(key) = key {
                walk_expr(key, visit)?;
            }
            walk_expr(value, visit)?;
            walk_expr(collection, visit)
        }
    }
}

struct CallChecker<'a> {
    package: &'a str,
    aliases: &'a BTreeMap<String, String>,
    outline: &'a Outline,
}

impl CallChecker<'_> {
    fn call(&self, span: &regorus::unstable::Span, fcn: &Expr) -> Result<()> {
        let Some(path) = path_of(fcn) else {
            return Ok(());
        };
        if self.resolves(&path) {
            return Ok(());
        }
        let line = span.source.line(span.line.saturating_sub(1)).trim_end();
        Err(Error::new(
            ErrorKind::PolicyUnknownBuiltin,
            format!(
                "{}:{}: call to unknown function `{path}`\n  {} | {line}",
                span.source.file(),
                span.line,
                span.line
            ),
        )
        .hint(format!(
            "`{path}` is neither a function defined in the bundle nor a builtin modelgate's engine (regorus) implements; \
             fix the name or its import, or rewrite the rule with supported builtins (docs/policy-authoring.md)"
        )))
    }

    fn resolves(&self, path: &str) -> bool {
        if path == "print" {
            return true;
        }
        if let Some(rest) = path.strip_prefix("data.") {
            return self.outline.functions.contains(rest);
        }
        let (head, tail) = path.split_once('.').map_or((path, None), |(head, tail)| (head, Some(tail)));
        if let Some(target) = self.aliases.get(head) {
            let full = match tail {
                Some(tail) => format!("{target}.{tail}"),
                None => target.clone(),
            };
            return match full.strip_prefix("data.") {
                Some(rest) => self.outline.functions.contains(rest),
                None => BUILTINS.contains_key(full.as_str()),
            };
        }
        self.outline.functions.contains(&format!("{}.{path}", self.package)) || BUILTINS.contains_key(path)
    }
}

/// `a.b["c"]` as `a.b.c`; `None` for references with computed parts.
fn path_of(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Var { span, .. } => Some(span.text().to_string()),
        Expr::RefDot { refr, field, .. } => {
            let base = path_of(refr)?;
            let name = match &field.1 {
                Value::String(name) => name.to_string(),
                _ => field.0.text().to_string(),
            };
            Some(format!("{base}.{name}"))
        }
        Expr::RefBrack { refr, index, .. } => {
            let base = path_of(refr)?;
            match index.as_ref() {
                Expr::String { value: Value::String(name), .. } => Some(format!("{base}.{name}")),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The name of a rule from its head reference: `deny`, or `a.b` for a ref head.
fn rule_name(refr: &Expr) -> Option<String> {
    path_of(refr).or_else(|| match refr {
        // `deny[x]` (old partial set syntax) names `deny`.
        Expr::RefBrack { refr, .. } => path_of(refr),
        _ => None,
    })
}

fn strip_data(path: &str) -> &str {
    path.strip_prefix("data.").unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(files: &[(&str, &str)]) -> Result<Outline> {
        let mut engine = regorus::Engine::new();
        for (name, text) in files {
            engine.add_policy((*name).to_string(), (*text).to_string()).expect("parses");
        }
        let outline = Outline::of(engine.get_modules())?;
        check_calls(engine.get_modules(), &outline)?;
        Ok(outline)
    }

    const LIB: &str = "package modelgate.lib\n\ndouble(x) := x * 2\n";

    #[test]
    fn resolves_builtins_local_imported_and_data_functions() {
        let gate = r#"package modelgate.demo
import data.modelgate.lib
import data.modelgate.lib as helpers

local(x) := count(x)

deny contains "a" if { lib.double(1) == 2 }
deny contains "b" if { helpers.double(1) == 2 }
deny contains "c" if { data.modelgate.lib.double(1) == 2 }
deny contains "d" if { local([1]) == 1; startswith("ab", "a"); print("ok") }
test_x if { time.now_ns() > 0 }
"#;
        let outline = check(&[("lib.rego", LIB), ("demo.rego", gate)]).expect("all calls resolve");
        assert!(outline.functions.contains("modelgate.lib.double"));
        assert!(outline.functions.contains("modelgate.demo.local"));
        assert_eq!(outline.tests.len(), 1);
        assert!(outline.packages["modelgate.demo"].contains("deny"));
    }

    #[test]
    fn unknown_builtin_in_a_comprehension_is_found() {
        let gate = "package modelgate.demo\n\ndeny contains v if {\n\txs := [y | some y in input.xs; y == io.jwt.decode_verify(y, {})]\n\tv := count(xs)\n}\n";
        let error = check(&[("demo.rego", gate)]).expect_err("unknown builtin");
        assert_eq!(error.kind, ErrorKind::PolicyUnknownBuiltin);
        assert!(error.message.contains("demo.rego:4"), "{}", error.message);
        assert!(error.message.contains("io.jwt.decode_verify"), "{}", error.message);
    }

    #[test]
    fn a_function_of_another_package_needs_its_full_path() {
        let gate = "package modelgate.demo\n\ndeny contains v if { v := double(1) }\n";
        let error = check(&[("lib.rego", LIB), ("demo.rego", gate)]).expect_err("double is not local");
        assert!(error.message.contains("`double`"), "{}", error.message);
        let missing = "package modelgate.demo\n\ndeny contains v if { v := data.modelgate.lib.triple(1) }\n";
        assert!(check(&[("lib.rego", LIB), ("demo.rego", missing)]).is_err());
    }

    #[test]
    fn a_helper_read_many_times_by_full_path_is_read() {
        let gate = "package modelgate.demo\nimport data.modelgate.lib\n\ndeny contains v if { v := lib.double(1) }\n\
                    deny contains v if { v := lib.double(2) }\nwarn contains v if { v := lib.double(3) }\n";
        let mut engine = regorus::Engine::new();
        engine.add_policy("lib.rego".into(), LIB.into()).expect("parses");
        engine.add_policy("demo.rego".into(), gate.into()).expect("parses");
        let outline = Outline::of(engine.get_modules()).expect("outline");
        check_packages(engine.get_modules(), &outline, "modelgate.").expect("three reads of one helper are fine");
    }

    fn constants(files: &[(&str, &str)]) -> BTreeSet<String> {
        let mut engine = regorus::Engine::new();
        for (name, text) in files {
            engine.add_policy((*name).to_string(), (*text).to_string()).expect("parses");
        }
        let outline = Outline::of(engine.get_modules()).expect("outline");
        constant_packages(engine.get_modules(), &outline)
    }

    #[test]
    fn only_packages_that_reach_nothing_varying_are_constant() {
        let lib = "package modelgate.lib\nimport rego.v1\n\nenv := input.deployment.environment\n\
                   limit := data.thresholds.x\nlabel(x) := concat(\"\", [\"x\", x])\nnow := time.now_ns()\n\
                   shaped(x) := {\"env\": env, \"x\": x}\n";
        let cases = [
            ("deny contains v if { v := data.thresholds.y }", true),
            ("deny contains v if { v := lib.label(\"a\") }", true),
            ("deny contains v if { v := lib.limit }", true),
            ("deny contains v if { v := input.model.name }", false),
            ("deny contains v if { v := lib.env }", false),
            ("deny contains v if { v := lib.shaped(1) }", false),
            ("deny contains v if { v := lib.now }", false),
            ("deny contains v if { v := time.now_ns() }", false),
            ("deny contains v if { v := data.modelgate.lib[\"env\"] }", false),
            ("deny contains v if { some name; v := data.modelgate.lib[name] }", false),
            ("deny contains v if { v := data }", false),
            ("deny contains v if { v := _x }\n_x := input.a", false),
            ("deny contains v if { v := _x }\n_x := 1", true),
            ("deny contains v if { v := lib.env with input as {} }", false),
            ("deny contains v if { v := 1 }\nwarn contains v if { v := input.a }", false),
        ];
        for (rules, constant) in cases {
            let gate = format!("package modelgate.demo\nimport rego.v1\nimport data.modelgate.lib\n\n{rules}\n");
            let found = constants(&[("lib.rego", lib), ("demo.rego", &gate)]);
            assert_eq!(found.contains("modelgate.demo"), constant, "{rules}");
        }
        let alias =
            "package modelgate.demo\nimport rego.v1\nimport input.model as m\n\ndeny contains v if { v := m.name }\n";
        assert!(constants(&[("demo.rego", alias)]).is_empty(), "an alias of input reads input");
        // The imports of one file of a package are seen by its other files.
        let first = "package modelgate.demo\nimport rego.v1\nimport input.model as m\n\n_x := 1\n";
        let second = "package modelgate.demo\nimport rego.v1\n\ndeny contains v if { v := m.name }\n";
        assert!(constants(&[("a.rego", first), ("b.rego", second)]).is_empty(), "an alias from another file");
        let lib_alias = "package modelgate.demo\nimport rego.v1\nimport data.modelgate.lib\n\n_x := 1\n";
        let uses = "package modelgate.demo\nimport rego.v1\n\ndeny contains v if { v := lib.env }\n";
        assert!(constants(&[("lib.rego", lib), ("a.rego", lib_alias), ("b.rego", uses)]).is_empty());
        // Two files that give one alias different targets: not followed.
        let other = "package modelgate.demo\nimport rego.v1\nimport data.thresholds as lib\n\n_y := 1\n";
        let calls = "package modelgate.demo\nimport rego.v1\n\ndeny contains v if { v := lib.label(\"a\") }\n";
        assert!(constants(&[("lib.rego", lib), ("a.rego", lib_alias), ("c.rego", other), ("b.rego", calls)]).is_empty());
        // A rule with a dotted name, read by its first part.
        let dotted = "package modelgate.demo\nimport rego.v1\n\nlimits.max := input.a\n\
                      deny contains \"low\" if limits.max < 0.9\n";
        assert!(constants(&[("demo.rego", dotted)]).is_empty(), "a ref-head rule that reads input");
        let dotted =
            "package modelgate.demo\nimport rego.v1\n\nlimits.max := 1\ndeny contains \"low\" if limits.max < 0.9\n";
        assert_eq!(constants(&[("demo.rego", dotted)]).len(), 1, "a ref-head rule that reads nothing");
    }

    #[test]
    fn the_built_in_library_has_one_constant_package() {
        let bundle =
            crate::policy::bundle::Bundle::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies"))
                .expect("library");
        let mut engine = regorus::Engine::new();
        for file in bundle.files.iter().filter(|file| file.kind == crate::policy::bundle::FileKind::Rego) {
            engine.add_policy(file.path.clone(), file.contents.clone()).expect("parses");
        }
        let outline = Outline::of(engine.get_modules()).expect("outline");
        let found: Vec<String> = constant_packages(engine.get_modules(), &outline).into_iter().collect();
        assert_eq!(found, ["modelgate.config"], "data.yaml's own checks read no evidence");
    }

    fn remembered(files: &[(&str, &str)]) -> Vec<(String, Vec<String>)> {
        let mut engine = regorus::Engine::new();
        for (name, text) in files {
            engine.add_policy((*name).to_string(), (*text).to_string()).expect("parses");
        }
        let outline = Outline::of(engine.get_modules()).expect("outline");
        let schema = crate::evidence::json_schema();
        let scalar =
            |path: &str| crate::policy::evidence_schema::is_scalar(&schema, &path.split('.').collect::<Vec<_>>());
        let roots: Vec<String> = outline
            .packages
            .iter()
            .filter(|(package, _)| package.starts_with("modelgate.") && package.as_str() != "modelgate.lib")
            .flat_map(|(package, rules)| {
                ["deny", "warn"]
                    .into_iter()
                    .filter(|rule| rules.contains(*rule))
                    .map(move |rule| format!("{package}.{rule}"))
            })
            .collect();
        memo_rules(engine.get_modules(), &outline, &roots, &scalar)
            .into_iter()
            .map(|(rule, reads)| (rule, reads.into_iter().collect()))
            .collect()
    }

    #[test]
    fn rules_fixed_by_a_few_scalar_fields_are_remembered() {
        let gate = "package modelgate.demo\nimport rego.v1\n\n\
                    env := input.deployment.environment\n\
                    tier := object.get(input, [\"model\", \"risk_tier\"], \"low\")\n\
                    limit := data.thresholds[env]\n\
                    metrics := input.evaluation.metrics\n\
                    now := time.now_ns()\n\
                    late if now > 1\n\
                    labels := {\"with\": \"# with\"} # with\n\
                    deny contains v if { some v, m in metrics; m > limit; tier == \"high\"; late; labels }\n";
        let found = remembered(&[("demo.rego", gate)]);
        let expected: Vec<(String, Vec<String>)> = vec![
            ("modelgate.demo.labels".into(), vec![]),
            ("modelgate.demo.limit".into(), vec!["deployment.environment".into()]),
            ("modelgate.demo.tier".into(), vec!["model.risk_tier".into()]),
        ];
        // `metrics` reads an object, `late` the clock: evaluated per document. A `with` in a
        // string or a comment is not one.
        assert_eq!(found, expected);
        // A rule that changes the input with `with` would see a remembered value computed
        // from the input as it was: nothing is remembered.
        let swapped = format!("{gate}swapped := x if {{ x := env with input.deployment.environment as \"a\" }}\n");
        assert_eq!(remembered(&[("demo.rego", &swapped)]), Vec::new());
    }

    #[test]
    fn what_cannot_be_told_apart_by_its_fields_is_not_remembered() {
        let cases = [
            // A key with a dot is one step, not two.
            "positive := input.evaluation.fairness[\"1.0\"]\ndeny contains v if { v := positive }\n",
            // object.get on a part of the input raises where that part is not an object.
            "dropped := object.get(input.deployment, \"environment\", \"x\")\ndeny contains v if { v := dropped }\n",
            // An alias and a rule of one name: regorus reads the rule.
            "import data.thresholds.demo as limits\nlimits := input.evaluation.metrics\n\
             floor := limits.accuracy\ndeny contains v if { some v in input.evaluation.metrics; v < floor }\n",
            // A rule with rules under its name.
            "limits := {\"a\": 1}\nlimits.b := input.evaluation.metrics\ndeny contains v if { v := limits }\n",
            // A number is a measurement: not a key.
            "low := input.evaluation.metrics.accuracy < 0.9\ndeny contains v if { low; v := 1 }\n",
        ];
        for case in cases {
            let text = format!("package modelgate.demo\nimport rego.v1\n\n{case}");
            let found = remembered(&[("demo.rego", &text)]);
            assert_eq!(found, Vec::new(), "{case}");
        }
    }

    #[test]
    fn the_built_in_library_remembers_its_thresholds_and_catalogs() {
        let bundle =
            crate::policy::bundle::Bundle::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies"))
                .expect("library");
        let files: Vec<(&str, &str)> = bundle
            .files
            .iter()
            .filter(|file| file.kind == crate::policy::bundle::FileKind::Rego)
            .map(|file| (file.path.as_str(), file.contents.as_str()))
            .collect();
        let found = remembered(&files);
        let reads = |rule: &str| found.iter().find(|(name, _)| name == rule).map(|(_, reads)| reads.clone());
        let by_tier = Some(vec!["deployment.environment".to_string(), "model.risk_tier".to_string()]);
        assert_eq!(reads("modelgate.lib._values"), by_tier);
        assert_eq!(reads("modelgate.lib._layered"), by_tier);
        assert_eq!(reads("modelgate.fairness._settings"), by_tier);
        for package in ["data", "documentation", "fairness", "performance", "security"] {
            assert_eq!(reads(&format!("modelgate.{package}.catalog")), Some(vec![]), "{package}");
        }
        assert!(found.len() <= MEMO_RULES);
    }
}
