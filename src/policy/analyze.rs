//! Static checks over the parsed Rego, before anything is evaluated.
//!
//! regorus only notices a call to a builtin it lacks when the rule happens to run, so
//! a policy whose broken branch is not reached on today's evidence would pass in
//! silence. This walks every expression of every module once and resolves each call
//! to a user function or a builtin; anything else is an error.

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
        for module in modules {
            let package = path_of(&module.package.refr).map(|path| strip_data(&path).to_string());
            let Some(package) = package else {
                let span = module.package.refr.span();
                return Err(Error::new(
                    ErrorKind::PolicyParse,
                    format!("{}:{}: unsupported package name", span.source.file(), span.line),
                ));
            };
            let rules = outline.packages.entry(package.clone()).or_default();
            let mut seen_tests = BTreeSet::new();
            for rule in &module.policy {
                let (refr, is_function) = match rule.as_ref() {
                    Rule::Spec { head: RuleHead::Func { refr, .. }, .. } => (refr, true),
                    Rule::Spec { head: RuleHead::Compr { refr, .. } | RuleHead::Set { refr, .. }, .. } => (refr, false),
                    Rule::Default { refr, args, .. } => (refr, !args.is_empty()),
                };
                let Some(name) = rule_name(refr) else { continue };
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
        let mut aliases = BTreeMap::new();
        for import in &module.imports {
            let Some(target) = path_of(&import.refr) else { continue };
            let alias = match &import.r#as {
                Some(span) => span.text().to_string(),
                None => target.rsplit('.').next().unwrap_or_default().to_string(),
            };
            aliases.insert(alias, target);
        }
        let checker = CallChecker { package: &package, aliases: &aliases, outline };
        for rule in &module.policy {
            checker.rule(rule)?;
        }
    }
    Ok(())
}

struct CallChecker<'a> {
    package: &'a str,
    aliases: &'a BTreeMap<String, String>,
    outline: &'a Outline,
}

impl CallChecker<'_> {
    fn rule(&self, rule: &Rule) -> Result<()> {
        match rule {
            Rule::Spec { head, bodies, .. } => {
                match head {
                    RuleHead::Compr { refr, assign, .. } => {
                        self.expr(refr)?;
                        if let Some(assign) = assign {
                            self.expr(&assign.value)?;
                        }
                    }
                    RuleHead::Set { refr, key, .. } => {
                        self.expr(refr)?;
                        if let Some(key) = key {
                            self.expr(key)?;
                        }
                    }
                    RuleHead::Func { args, assign, .. } => {
                        for arg in args {
                            self.expr(arg)?;
                        }
                        if let Some(assign) = assign {
                            self.expr(&assign.value)?;
                        }
                    }
                }
                for body in bodies {
                    if let Some(assign) = &body.assign {
                        self.expr(&assign.value)?;
                    }
                    self.query(&body.query)?;
                }
                Ok(())
            }
            Rule::Default { value, .. } => self.expr(value),
        }
    }

    fn query(&self, query: &Query) -> Result<()> {
        for statement in &query.stmts {
            match &statement.literal {
                Literal::SomeVars { .. } => {}
                Literal::SomeIn { key, value, collection, .. } => {
                    if let Some(key) = key {
                        self.expr(key)?;
                    }
                    self.expr(value)?;
                    self.expr(collection)?;
                }
                Literal::Expr { expr, .. } | Literal::NotExpr { expr, .. } => self.expr(expr)?,
                Literal::Every { domain, query, .. } => {
                    self.expr(domain)?;
                    self.query(query)?;
                }
            }
            for modifier in &statement.with_mods {
                self.expr(&modifier.r#as)?;
            }
        }
        Ok(())
    }

    fn expr(&self, expr: &Expr) -> Result<()> {
        match expr {
            Expr::String { .. }
            | Expr::RawString { .. }
            | Expr::Number { .. }
            | Expr::Bool { .. }
            | Expr::Null { .. }
            | Expr::Var { .. } => Ok(()),
            Expr::Array { items, .. } | Expr::Set { items, .. } => items.iter().try_for_each(|item| self.expr(item)),
            Expr::Object { fields, .. } => fields.iter().try_for_each(|(_, key, value)| {
                self.expr(key)?;
                self.expr(value)
            }),
            Expr::ArrayCompr { term, query, .. } | Expr::SetCompr { term, query, .. } => {
                self.expr(term)?;
                self.query(query)
            }
            Expr::ObjectCompr { key, value, query, .. } => {
                self.expr(key)?;
                self.expr(value)?;
                self.query(query)
            }
            Expr::Call { span, fcn, params, .. } => {
                self.call(span, fcn)?;
                params.iter().try_for_each(|param| self.expr(param))
            }
            Expr::UnaryExpr { expr, .. } => self.expr(expr),
            Expr::RefDot { refr, .. } => self.expr(refr),
            Expr::RefBrack { refr, index, .. } => {
                self.expr(refr)?;
                self.expr(index)
            }
            Expr::BinExpr { lhs, rhs, .. }
            | Expr::BoolExpr { lhs, rhs, .. }
            | Expr::ArithExpr { lhs, rhs, .. }
            | Expr::AssignExpr { lhs, rhs, .. } => {
                self.expr(lhs)?;
                self.expr(rhs)
            }
            Expr::Membership { key, value, collection, .. } => {
                if let Some(key) = key {
                    self.expr(key)?;
                }
                self.expr(value)?;
                self.expr(collection)
            }
        }
    }

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
}
