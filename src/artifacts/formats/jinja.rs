//! GGUF chat templates, analysed as Jinja programs: parsed with minijinja's parser (the
//! `unstable_machinery` API, pinned exactly), constant strings folded through what a
//! template can build them with (`+`, `~`, `%`, `|format`, `|join`, `|reverse`, slices,
//! `|replace`, `dict(k=…)`, `{% set %}` bindings), and flagged where jinja2's sandbox would
//! refuse or a sandbox escape starts:
//!
//! - critical: an attribute or key name that folds to a private name (`_…`, `mro`, frame and
//!   code attributes), through `.name`, `[key]`, `|attr`, `map(attribute=)`, `selectattr`…;
//!   the escape globals (`lipsum`, `cycler`, `joiner`, `namespace`, `range`, `dict`,
//!   `raise_exception`, `strftime_now`) used as objects rather than called or tested;
//!   `self` and `__…` names; a `str.format` pattern reaching private attributes;
//! - high: a key or attribute name the template computes and that does not fold (to an
//!   empty or private prefix), `|attr` with a name not known before rendering, web-framework
//!   globals (`config`, `request`), `include`/`import`/`extends`, and a template that cannot
//!   be parsed or is too large or too deep to analyse;
//! - medium: a call of a name loaders do not provide (`eval(…)`).
//!
//! Text outside the tags, and words inside string constants, are never matched: prose such
//! as "the user's last request. Use…" is not code. Sources: jinja2 3.1.6 `sandbox.py`,
//! CVE-2024-34359 (llama-cpp-python), CVE-2026-5760 (SGLang), CVE-2025-27516.

use std::collections::{BTreeMap, BTreeSet};

use minijinja::machinery::ast::{self, CallArg, Expr, Stmt};
use minijinja::machinery::parse;
use minijinja::syntax::SyntaxConfig;
use minijinja::value::ValueKind;
use minijinja::Value;

use crate::evidence::Severity;

/// The longest template analysed; real chat templates are under 20 KB.
pub const MAX_TEMPLATE: usize = 1 << 20;

/// How deep the walk goes into the syntax tree before the template is refused.
const MAX_NESTING: usize = 256;

/// The parse, the walk and the drop of a template's tree recurse as deep as its longest
/// chain (`a~a~a…`): they run on a thread with this stack, which holds a [`MAX_TEMPLATE`]
/// template of one chain.
const STACK: usize = 64 << 20;

/// One thing a template does that a sandboxed loader would refuse or should not see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateFinding {
    pub severity: Severity,
    pub why: String,
}

/// Analyses a chat template. Never panics; a template that cannot be analysed is a finding.
pub fn analyze(template: &str) -> Vec<TemplateFinding> {
    let finding = |severity, why: String| vec![TemplateFinding { severity, why }];
    if template.len() > MAX_TEMPLATE {
        return finding(
            Severity::High,
            format!("is {} bytes, more than the {MAX_TEMPLATE} analysed: it cannot be checked", template.len()),
        );
    }
    let source = template.to_string();
    let analysed = std::thread::Builder::new().stack_size(STACK).spawn(move || analyse(&source));
    match analysed.map(|handle| handle.join()) {
        Ok(Ok(Ok(findings))) => findings.into_iter().map(|(severity, why)| TemplateFinding { severity, why }).collect(),
        Ok(Ok(Err(error))) => finding(
            Severity::High,
            format!("cannot be parsed as Jinja ({error}): it cannot be analysed, and a Python loader may still run it"),
        ),
        Ok(Err(_)) | Err(_) => finding(Severity::High, "could not be analysed".into()),
    }
}

/// Abstract value of an expression.
#[derive(Clone, Debug, PartialEq)]
enum K {
    /// Folded to a constant.
    C(Value),
    /// A string the template computes that did not fold; `prefix` is what is known of its start.
    Built(String),
    /// Anything else (input data, numbers from loops, objects).
    Other,
}

const ESCAPE_GLOBALS: &[&str] =
    &["lipsum", "cycler", "joiner", "namespace", "range", "dict", "raise_exception", "strftime_now"];
const INTERNAL: &[&str] = &[
    "mro",
    "gi_frame",
    "gi_code",
    "cr_frame",
    "cr_code",
    "ag_code",
    "ag_frame",
    "func_globals",
    "func_code",
    "func_closure",
    "func_defaults",
    "func_dict",
    "im_class",
    "im_func",
    "im_self",
    "f_globals",
    "f_locals",
    "f_builtins",
    "tb_frame",
    "co_code",
];

fn bad_name(s: &str) -> bool {
    s.starts_with('_') || INTERNAL.contains(&s)
}

struct An {
    /// name (or `ns.attr`) -> abstract values bound by set/for/macro args.
    env: BTreeMap<String, Vec<K>>,
    /// macro name -> param names
    macros: BTreeMap<String, Vec<String>>,
    findings: BTreeSet<(Severity, String)>,
    collecting: bool,
    /// How deep the walk is in the tree, against [`MAX_NESTING`].
    depth: usize,
    too_deep: bool,
    /// names bound by an enclosing macro/caller parameter, for target or with (always bound there)
    shadow: Vec<String>,
}

fn s(v: &Value) -> Option<String> {
    v.as_str().map(str::to_owned)
}

fn py_printf(fmt: &str, args: &[Value]) -> Option<String> {
    let mut out = String::new();
    let mut it = fmt.chars().peekable();
    let mut i = 0;
    while let Some(c) = it.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let spec = it.next()?;
        match spec {
            '%' => out.push('%'),
            'c' => {
                let a = args.get(i)?;
                i += 1;
                match a.as_i64() {
                    Some(n) => out.push(char::from_u32(n as u32)?),
                    None => out.push_str(a.as_str()?),
                }
            }
            's' | 'r' => {
                out.push_str(&args.get(i)?.to_string());
                i += 1;
            }
            'd' | 'i' => {
                out.push_str(&args.get(i)?.as_i64()?.to_string());
                i += 1;
            }
            _ => return None,
        }
    }
    Some(out)
}

/// Python-only escapes minijinja leaves as text (`\U0000005f`; `\N{…}` is handled by the caller).
fn py_escapes(v: &str) -> Option<String> {
    if !v.contains("\\U") {
        return None;
    }
    let mut out = String::new();
    let mut rest = v;
    while let Some(p) = rest.find('\\') {
        out.push_str(&rest[..p]);
        let r = &rest[p..];
        if let Some(hex) = r.strip_prefix("\\U").and_then(|h| h.get(..8)) {
            if let Some(c) = u32::from_str_radix(hex, 16).ok().and_then(char::from_u32) {
                out.push(c);
                rest = &r[10..];
                continue;
            }
        }
        out.push('\\');
        rest = &r[1..];
    }
    out.push_str(rest);
    Some(out)
}

fn prefix_of(k: &K) -> String {
    match k {
        K::C(v) => s(v).unwrap_or_default(),
        K::Built(p) => p.clone(),
        K::Other => String::new(),
    }
}

/// A string, number, boolean or none: what `~` renders without walking a structure.
fn scalar(v: &Value) -> bool {
    !matches!(v.kind(), ValueKind::Seq | ValueKind::Map | ValueKind::Iterable | ValueKind::Plain)
}

fn is_stringy(k: &K) -> bool {
    matches!(k, K::Built(_)) || matches!(k, K::C(v) if v.kind() == ValueKind::String)
}

fn items(v: &Value) -> Option<Vec<Value>> {
    match v.kind() {
        ValueKind::String => Some(v.as_str()?.chars().map(|c| Value::from(c.to_string())).collect()),
        ValueKind::Seq | ValueKind::Map => Some(v.try_iter().ok()?.collect()),
        _ => None,
    }
}

fn slice(v: &Value, start: Option<i64>, stop: Option<i64>, step: Option<i64>) -> Option<Value> {
    let it = items(v)?;
    let n = it.len() as i64;
    let step = step.unwrap_or(1);
    if step == 0 {
        return None;
    }
    let norm = |x: i64| if x < 0 { (x + n).max(if step < 0 { -1 } else { 0 }) } else { x.min(n) };
    let mut idx = vec![];
    if step > 0 {
        let (mut i, e) = (start.map(norm).unwrap_or(0), stop.map(norm).unwrap_or(n));
        while i < e {
            idx.push(i);
            let Some(next) = i.checked_add(step) else { break };
            i = next;
        }
    } else {
        let (mut i, e) = (start.map(norm).map(|x| x.min(n - 1)).unwrap_or(n - 1), stop.map(norm).unwrap_or(-1));
        while i > e {
            idx.push(i);
            let Some(next) = i.checked_add(step) else { break };
            i = next;
        }
    }
    let picked: Vec<Value> =
        idx.into_iter().map(|i| usize::try_from(i).ok().and_then(|i| it.get(i).cloned())).collect::<Option<_>>()?;
    Some(if v.kind() == ValueKind::String {
        Value::from(picked.iter().map(|c| c.to_string()).collect::<String>())
    } else {
        Value::from(picked)
    })
}

/// Apply a string-ish filter or method to constants.
fn apply(name: &str, recv: &Value, args: &[Value]) -> Option<Value> {
    let st = || recv.as_str().map(str::to_owned);
    Some(match name {
        "string" => Value::from(recv.to_string()),
        "lower" => Value::from(st()?.to_lowercase()),
        "upper" => Value::from(st()?.to_uppercase()),
        "trim" | "strip" => Value::from(st()?.trim().to_owned()),
        "replace" => Value::from(st()?.replace(args.first()?.as_str()?, args.get(1)?.as_str()?)),
        "format" => Value::from(py_printf(&st()?, args)?),
        "reverse" => slice(recv, None, None, Some(-1))?,
        "list" => Value::from(items(recv)?),
        "first" => items(recv)?.into_iter().next()?,
        "last" => items(recv)?.into_iter().last()?,
        "join" => {
            let sep = args.first().and_then(|a| a.as_str()).unwrap_or("").to_owned();
            Value::from(items(recv)?.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(&sep))
        }
        _ => return None,
    })
}

impl An {
    fn flag(&mut self, severity: Severity, why: String) {
        if !self.collecting {
            self.findings.insert((severity, why));
        }
    }

    fn bind(&mut self, name: String, k: K) {
        let e = self.env.entry(name).or_default();
        if e.contains(&k) {
            return;
        }
        if e.len() < 16 {
            e.push(k);
        } else if let Some(last) = e.last_mut() {
            // Too many values to follow: the name may hold one that was dropped, so it is a
            // string of unknown start, which a computed key is flagged for.
            *last = K::Built(String::new());
        }
    }

    /// Check a name that will be looked up as an attribute (possibly dotted, as in attribute=).
    fn check_name(&mut self, ks: &[K], what: &str, dotted: bool) {
        for k in ks {
            match k {
                K::C(v) => {
                    if let Some(n) = v.as_str() {
                        let n = py_escapes(n).unwrap_or_else(|| n.to_owned());
                        let parts: Vec<&str> = if dotted { n.split('.').collect() } else { vec![&n] };
                        if parts.iter().any(|p| bad_name(p)) {
                            self.flag(Severity::Critical, format!("{what} `{n}` (refused by jinja2's sandbox)"));
                        }
                    }
                }
                K::Built(p) if p.is_empty() || bad_name(p) => {
                    self.flag(Severity::High, format!("{what} computed in the template, not foldable (prefix `{p}`)"))
                }
                _ => {}
            }
        }
    }

    fn var(&self, id: &str) -> Vec<K> {
        let mut v = self.env.get(id).cloned().unwrap_or_default();
        v.push(K::Other);
        v
    }

    /// Fold an expression into its possible abstract values (and run checks on the way).
    fn ev(&mut self, e: &Expr) -> Vec<K> {
        if self.depth >= MAX_NESTING {
            self.too_deep = true;
            return vec![K::Other];
        }
        self.depth += 1;
        let values = self.fold(e);
        self.depth -= 1;
        values
    }

    fn fold(&mut self, e: &Expr) -> Vec<K> {
        let one = |k: K| vec![bounded(k)];
        match e {
            Expr::Var(v) => {
                if v.id.starts_with("__") || v.id == "self" {
                    self.flag(Severity::Critical, format!("uses the global `{}`", v.id));
                }
                if ESCAPE_GLOBALS.contains(&v.id) && !self.shadow.iter().any(|n| n == v.id) {
                    // any use other than calling it (handled in Call) or testing it (`is defined`)
                    self.flag(
                        Severity::Critical,
                        format!("uses the global `{}` as an object, not by calling it", v.id),
                    );
                }
                self.var(v.id)
            }
            Expr::Const(c) if c.value.as_str().is_some_and(format_field_private) => {
                self.flag(
                    Severity::Critical,
                    format!("string `{}` is a str.format pattern reaching private attributes", c.value),
                );
                one(K::C(c.value.clone()))
            }
            // Python reads `\N{...}` names in any case and by alias: what follows one is not
            // known here, so the string is one of unknown continuation.
            Expr::Const(c) if c.value.as_str().is_some_and(|text| text.contains("\\N{")) => {
                let text = c.value.as_str().unwrap_or_default();
                let known = &text[..text.find("\\N{").unwrap_or(0)];
                one(K::Built(py_escapes(known).unwrap_or_else(|| known.to_string())))
            }
            Expr::Const(c) => match c.value.as_str().and_then(py_escapes) {
                Some(d) => one(K::C(Value::from(d))),
                None => one(K::C(c.value.clone())),
            },
            Expr::List(l) => self.seq(&l.items),
            Expr::Tuple(t) => self.seq(&t.items),
            Expr::Map(m) => {
                let keys: Vec<Vec<K>> = m.keys.iter().map(|k| self.ev(k)).collect();
                for v in &m.values {
                    self.ev(v);
                }
                match keys
                    .iter()
                    .map(|k| match k.as_slice() {
                        [K::C(v)] => Some(v.clone()),
                        _ => None,
                    })
                    .collect::<Option<Vec<_>>>()
                {
                    Some(ks) => one(K::C(Value::from(ks))), // a map iterates as its keys
                    None => one(K::Other),
                }
            }
            Expr::UnaryOp(u) => {
                let v = self.ev(&u.expr);
                match (&u.op, v.as_slice()) {
                    (ast::UnaryOpKind::Neg, [K::C(x)]) => match x.as_i64() {
                        Some(n) => one(K::C(Value::from(n.wrapping_neg()))),
                        None => one(K::Other),
                    },
                    _ => one(K::Other),
                }
            }
            Expr::BinOp(b) => {
                let l = self.ev(&b.left);
                let r = self.ev(&b.right);
                let mut out = vec![];
                for a in &l {
                    for c in &r {
                        out.push(self.binop(&b.op, a, c));
                    }
                }
                cap(out)
            }
            Expr::Compare(c) => {
                self.ev(&c.expr);
                for o in &c.ops {
                    self.ev(&o.expr);
                }
                one(K::Other)
            }
            Expr::IfExpr(i) => {
                self.ev(&i.test_expr);
                let mut v = self.ev(&i.true_expr);
                match &i.false_expr {
                    Some(f) => v.extend(self.ev(f)),
                    None => v.push(K::Other),
                }
                cap(v)
            }
            Expr::Test(t) => {
                if !matches!(&t.expr, Expr::Var(_)) {
                    self.ev(&t.expr);
                }
                self.args(&t.args);
                one(K::Other)
            }
            Expr::Slice(sl) => {
                let base = self.ev(&sl.expr);
                let f = |a: &mut Self, x: &Option<Expr>| -> Option<Option<i64>> {
                    match x {
                        None => Some(None),
                        Some(x) => match a.ev(x).as_slice() {
                            [K::C(v)] => v.as_i64().map(Some),
                            _ => None,
                        },
                    }
                };
                let (st, sp, se) = (f(self, &sl.start), f(self, &sl.stop), f(self, &sl.step));
                cap(base
                    .iter()
                    .map(|b| match (b, st, sp, se) {
                        (K::C(v), Some(a), Some(c), Some(d)) => slice(v, a, c, d).map(K::C).unwrap_or(K::Other),
                        (k, ..) if is_stringy(k) => K::Built(String::new()),
                        _ => K::Other,
                    })
                    .collect())
            }
            Expr::GetAttr(g) => {
                if bad_name(g.name) {
                    self.flag(Severity::Critical, format!("attribute `.{}` (refused by jinja2's sandbox)", g.name));
                }
                self.check_global_base(&g.expr, &format!(".{}", g.name));
                let b = self.ev(&g.expr);
                let mut v = vec![K::Other];
                if let Expr::Var(base) = &g.expr {
                    if let Some(bs) = self.env.get(&format!("{}.{}", base.id, g.name)) {
                        v.extend(bs.clone());
                    }
                }
                let _ = b;
                cap(v)
            }
            Expr::GetItem(g) => {
                let key = self.ev(&g.subscript_expr);
                self.check_name(&key, "subscript", false);
                self.check_global_base(&g.expr, "[…]");
                let base = self.ev(&g.expr);
                let mut out = vec![];
                for b in &base {
                    for k in &key {
                        out.push(match (b, k) {
                            (K::C(bv), K::C(kv)) => match (bv.kind(), kv.as_i64()) {
                                (ValueKind::String | ValueKind::Seq, Some(i)) => {
                                    let it = items(bv).unwrap_or_default();
                                    let i = if i < 0 { i + it.len() as i64 } else { i };
                                    it.get(i as usize).cloned().map(K::C).unwrap_or(K::Other)
                                }
                                _ => K::Other,
                            },
                            (b, _) if is_stringy(b) => K::Built(String::new()),
                            _ => K::Other,
                        });
                    }
                }
                cap(out)
            }
            Expr::Filter(f) => {
                let recv = match &f.expr {
                    Some(x) => self.ev(x),
                    None => vec![K::Other],
                };
                let args = self.args(&f.args);
                self.filter_checks(f.name, &f.args, &args);
                self.fold_call(f.name, &recv, &args)
            }
            Expr::Call(c) => {
                let args = self.args(&c.args);
                match &c.expr {
                    Expr::Var(v) => {
                        // calling a global (namespace(), range(), cycler()) is fine; a macro call binds its params
                        if v.id.starts_with("__") || v.id == "self" {
                            self.flag(Severity::Critical, format!("calls `{}`", v.id));
                        }
                        if let Some(params) = self.macros.get(v.id).cloned() {
                            for (i, (p, a)) in params.iter().zip(c.args.iter()).enumerate() {
                                if let CallArg::Pos(_) = a {
                                    for k in args[i].clone() {
                                        self.bind(p.clone(), k);
                                    }
                                }
                            }
                            for (i, a) in c.args.iter().enumerate() {
                                if let CallArg::Kwarg(n, _) = a {
                                    for k in args[i].clone() {
                                        self.bind(n.to_string(), k);
                                    }
                                }
                            }
                        }
                        if v.id == "dict" {
                            // dict(__cla=1, ss__=1) iterates as its keyword names
                            let keys: Vec<Value> = c
                                .args
                                .iter()
                                .filter_map(|a| if let CallArg::Kwarg(n, _) = a { Some(Value::from(*n)) } else { None })
                                .collect();
                            for k in &keys {
                                if k.as_str().is_some_and(bad_name) {
                                    self.flag(Severity::High, format!("dict() keyword `{k}` spells a private name"));
                                }
                            }
                            return vec![bounded(K::C(Value::from(keys)))];
                        }
                        let provided = ESCAPE_GLOBALS.contains(&v.id)
                            || self.macros.contains_key(v.id)
                            || self.shadow.iter().any(|n| n == v.id)
                            || ["caller", "loop", "super", "varargs", "kwargs"].contains(&v.id);
                        if !provided {
                            self.flag(
                                Severity::Medium,
                                format!("calls `{}`, which chat-template loaders do not provide", v.id),
                            );
                        }
                        // A macro's output is text the template wrote.
                        if self.macros.contains_key(v.id) {
                            return vec![K::Built(String::new())];
                        }
                        vec![K::Other]
                    }
                    Expr::GetAttr(g) => {
                        // method call: fold string methods on constants
                        let recv = self.ev(&g.expr);
                        if bad_name(g.name) {
                            self.flag(Severity::Critical, format!("calls `.{}`", g.name));
                        }
                        self.check_global_base(&g.expr, &format!(".{}()", g.name));
                        if g.name == "format" || g.name == "format_map" {
                            for r in &recv {
                                let p = prefix_of(r);
                                if p.contains("{") && (p.contains("._") || p.contains("[_")) || matches!(r, K::Built(_))
                                {
                                    self.flag(
                                        Severity::Critical,
                                        format!("str.{} with a field reaching private attributes", g.name),
                                    );
                                }
                            }
                        }
                        let name = match g.name {
                            "strip" => "trim",
                            "format" => "pyformat",
                            n => n,
                        };
                        if name == "join" {
                            // sep.join(list)
                            let mut out = vec![];
                            for r in &recv {
                                for a in args.first().cloned().unwrap_or_default() {
                                    out.push(match (r, &a) {
                                        (K::C(sep), K::C(l)) => {
                                            apply("join", l, std::slice::from_ref(sep)).map(K::C).unwrap_or(K::Other)
                                        }
                                        (r, a) if is_stringy(r) || is_stringy(a) => K::Built(String::new()),
                                        _ => K::Other,
                                    });
                                }
                            }
                            return cap(out);
                        }
                        self.fold_call(name, &recv, &args)
                    }
                    other => {
                        self.ev(other);
                        vec![K::Other]
                    }
                }
            }
        }
    }

    /// Reaching into a global object itself (not calling it): `lipsum.x`, `cycler[k]`.
    fn check_global_base(&mut self, base: &Expr, how: &str) {
        if let Expr::Var(v) = base {
            if ESCAPE_GLOBALS.contains(&v.id) && !self.shadow.iter().any(|n| n == v.id) {
                self.flag(Severity::Critical, format!("reaches into the global `{}` (`{}{how}`)", v.id, v.id));
            }
            if ["config", "request", "self", "g", "url_for", "get_flashed_messages"].contains(&v.id)
                && !self.env.contains_key(v.id)
            {
                self.flag(Severity::High, format!("reaches into the web-framework global `{}{how}`", v.id));
            }
        }
    }

    fn filter_checks(&mut self, name: &str, raw: &[CallArg], args: &[Vec<K>]) {
        let pos: Vec<usize> =
            raw.iter().enumerate().filter(|(_, a)| matches!(a, CallArg::Pos(_))).map(|(i, _)| i).collect();
        let kw = |n: &str| raw.iter().position(|a| matches!(a, CallArg::Kwarg(k, _) if *k == n));
        let pos_k = |i: usize| pos.get(i).map(|&j| args[j].clone());
        match name {
            "attr" => {
                if let Some(k) = pos_k(0) {
                    self.check_name(&k, "attr filter name", false);
                    if k.iter().any(|x| !matches!(x, K::C(_))) {
                        self.flag(Severity::High, "attr filter with a name not known before rendering".into());
                    }
                }
            }
            "map" | "select" | "reject" => {
                if let Some(i) = kw("attribute") {
                    let k = args[i].clone();
                    self.check_name(&k, "map(attribute=)", true);
                }
                if let Some(f) = pos_k(0) {
                    if f.iter().any(|x| !matches!(x, K::C(_))) {
                        self.flag(
                            Severity::High,
                            format!("{name}() with a filter/test name not known before rendering"),
                        );
                    }
                    if f.iter().any(|x| matches!(x, K::C(v) if v.as_str() == Some("attr"))) {
                        if let Some(k) = pos_k(1) {
                            self.check_name(&k, "map('attr', …) name", false);
                        }
                    }
                }
            }
            "selectattr" | "rejectattr" | "groupby" => {
                if let Some(k) = pos_k(0).or_else(|| kw("attribute").map(|i| args[i].clone())) {
                    self.check_name(&k, &format!("{name} attribute"), true);
                }
            }
            "sort" | "unique" | "min" | "max" | "sum" | "join" => {
                let slot = match name {
                    "sort" => 2,
                    "sum" => 0,
                    "join" => 1,
                    _ => 1,
                };
                if let Some(k) = kw("attribute").map(|i| args[i].clone()).or_else(|| pos_k(slot)) {
                    self.check_name(&k, &format!("{name}(attribute=)"), true);
                }
            }
            _ => {}
        }
    }

    fn fold_call(&mut self, name: &str, recv: &[K], args: &[Vec<K>]) -> Vec<K> {
        const STRINGY: &[&str] = &[
            "string",
            "lower",
            "upper",
            "trim",
            "replace",
            "format",
            "pyformat",
            "reverse",
            "list",
            "first",
            "last",
            "join",
            "capitalize",
            "title",
            "center",
            "safe",
            "e",
            "escape",
            "lstrip",
            "rstrip",
            "swapcase",
        ];
        let consts: Option<Vec<Value>> = args
            .iter()
            .map(|a| match a.as_slice() {
                [K::C(v)] => Some(v.clone()),
                _ => None,
            })
            .collect();
        let mut out = vec![];
        for r in recv {
            out.push(match (r, &consts) {
                // A filter or method not folded here, on the template's own strings or lists
                // (`['__class__']|min`, `|sort|first`), may still give one of those strings.
                (K::C(v), Some(a)) => match apply(name, v, a) {
                    Some(x) => K::C(x),
                    None => K::Built(String::new()),
                },
                (r, _) if STRINGY.contains(&name) && (is_stringy(r) || args.iter().flatten().any(is_stringy)) => {
                    // `'%c'|format(x)`: known prefix is the text before the first `%`
                    let p = prefix_of(r);
                    let keep = match name {
                        "format" => p.split('%').next().unwrap_or("").to_owned(),
                        "pyformat" => p.split('{').next().unwrap_or("").to_owned(),
                        "trim" | "string" | "safe" | "e" | "escape" => p.trim_start().to_owned(),
                        _ => String::new(),
                    };
                    K::Built(keep)
                }
                _ => K::Other,
            });
        }
        cap(out)
    }

    fn binop(&mut self, op: &ast::BinOpKind, a: &K, b: &K) -> K {
        use ast::BinOpKind::*;
        match (op, a, b) {
            (Concat, K::C(x), K::C(y)) if scalar(x) && scalar(y) => K::C(Value::from(format!("{x}{y}"))),
            (Add, K::C(x), K::C(y)) if x.kind() == ValueKind::String && y.kind() == ValueKind::String => {
                K::C(Value::from(format!("{x}{y}")))
            }
            (Add, K::C(x), K::C(y)) if x.kind() == ValueKind::Seq && y.kind() == ValueKind::Seq => {
                match (items(x), items(y)) {
                    (Some(mut v), Some(w)) => {
                        v.extend(w);
                        K::C(Value::from(v))
                    }
                    _ => K::Other,
                }
            }
            (Add | Sub | Mul, K::C(x), K::C(y)) if x.as_i64().is_some() && y.as_i64().is_some() => {
                let (x, y) = (x.as_i64().unwrap_or(0), y.as_i64().unwrap_or(0));
                K::C(Value::from(match op {
                    Add => x.wrapping_add(y),
                    Sub => x.wrapping_sub(y),
                    _ => x.wrapping_mul(y),
                }))
            }
            (Mul, K::C(x), K::C(y)) if x.kind() == ValueKind::String => match (x.as_str(), y.as_i64()) {
                (Some(text), Some(n)) if (0..64).contains(&n) => K::C(Value::from(text.repeat(n as usize))),
                _ => K::Built(String::new()),
            },
            (Rem, K::C(x), K::C(y)) if x.kind() == ValueKind::String => {
                let args = items(y).filter(|_| y.kind() == ValueKind::Seq).unwrap_or_else(|| vec![y.clone()]);
                x.as_str()
                    .and_then(|pattern| py_printf(pattern, &args))
                    .map(|s| K::C(Value::from(s)))
                    .unwrap_or(K::Built(String::new()))
            }
            (Concat, a, _) => K::Built(prefix_of(a)),
            (Add, a, b) if is_stringy(a) || is_stringy(b) => K::Built(prefix_of(a)),
            (Rem, a, _) if is_stringy(a) => K::Built(prefix_of(a).split('%').next().unwrap_or("").to_owned()),
            (Mul, a, b) if is_stringy(a) || is_stringy(b) => K::Built(String::new()),
            _ => K::Other,
        }
    }

    fn seq(&mut self, items: &[Expr]) -> Vec<K> {
        let vs: Vec<Vec<K>> = items.iter().map(|i| self.ev(i)).collect();
        match vs
            .iter()
            .map(|k| match k.as_slice() {
                [K::C(v)] => Some(v.clone()),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()
        {
            Some(c) => vec![bounded(K::C(Value::from(c)))],
            None if vs.iter().flatten().any(is_stringy) => vec![K::Built(String::new())],
            None => vec![K::Other],
        }
    }

    fn args(&mut self, args: &[CallArg]) -> Vec<Vec<K>> {
        args.iter()
            .map(|a| match a {
                CallArg::Pos(e) | CallArg::Kwarg(_, e) | CallArg::PosSplat(e) | CallArg::KwargSplat(e) => self.ev(e),
            })
            .collect()
    }

    fn assign(&mut self, target: &Expr, vals: Vec<K>) {
        match target {
            Expr::Var(v) => {
                for k in vals {
                    self.bind(v.id.to_string(), k)
                }
            }
            Expr::GetAttr(g) => {
                if bad_name(g.name) {
                    self.flag(Severity::Critical, format!("assigns attribute `.{}`", g.name));
                }
                if let Expr::Var(b) = &g.expr {
                    for k in vals {
                        self.bind(format!("{}.{}", b.id, g.name), k)
                    }
                }
            }
            Expr::Tuple(t) => {
                for i in &t.items {
                    self.assign(i, vec![K::Other]);
                }
            }
            _ => {}
        }
    }

    fn stmts(&mut self, b: &[Stmt]) {
        for s in b {
            self.stmt(s);
        }
    }

    fn stmt(&mut self, st: &Stmt) {
        if self.depth >= MAX_NESTING {
            self.too_deep = true;
            return;
        }
        self.depth += 1;
        self.statement(st);
        self.depth -= 1;
    }

    fn statement(&mut self, st: &Stmt) {
        match st {
            Stmt::Template(t) => self.stmts(&t.children),
            Stmt::EmitExpr(e) => {
                self.ev(&e.expr);
            }
            Stmt::EmitRaw(_) => {}
            Stmt::ForLoop(f) => {
                let it = self.ev(&f.iter);
                let mut el = vec![];
                for k in it {
                    match k {
                        K::C(v) => el.extend(items(&v).unwrap_or_default().into_iter().map(K::C)),
                        K::Built(_) => el.push(K::Built(String::new())),
                        K::Other => el.push(K::Other),
                    }
                }
                self.assign(&f.target, cap(el));
                if let Some(x) = &f.filter_expr {
                    self.ev(x);
                }
                let n = self.shadow.len();
                fn names(e: &Expr, out: &mut Vec<String>) {
                    match e {
                        Expr::Var(v) => out.push(v.id.to_string()),
                        Expr::Tuple(t) => t.items.iter().for_each(|i| names(i, out)),
                        Expr::List(t) => t.items.iter().for_each(|i| names(i, out)),
                        _ => {}
                    }
                }
                let mut ns = vec![];
                names(&f.target, &mut ns);
                self.shadow.extend(ns);
                self.stmts(&f.body);
                self.shadow.truncate(n);
                self.stmts(&f.else_body);
            }
            Stmt::IfCond(i) => {
                self.ev(&i.expr);
                self.stmts(&i.true_body);
                self.stmts(&i.false_body);
            }
            Stmt::WithBlock(w) => {
                for (t, e) in &w.assignments {
                    let v = self.ev(e);
                    self.assign(t, v);
                }
                self.stmts(&w.body);
            }
            Stmt::Set(s) => {
                if let (Expr::Var(t), Expr::Call(c)) = (&s.target, &s.expr) {
                    if matches!(&c.expr, Expr::Var(f) if f.id == "namespace") {
                        for a in &c.args {
                            if let CallArg::Kwarg(n, e) = a {
                                let v = self.ev(e);
                                for k in v {
                                    self.bind(format!("{}.{n}", t.id), k);
                                }
                            }
                        }
                    }
                }
                let v = self.ev(&s.expr);
                self.assign(&s.target, v);
            }
            Stmt::SetBlock(s) => {
                // {% set x %}raw{% endset %}: fold a body made only of raw text
                let raw: Option<String> =
                    s.body.iter().map(|b| if let Stmt::EmitRaw(r) = b { Some(r.raw) } else { None }).collect();
                self.stmts(&s.body);
                let mut v = vec![bounded(raw.map(|r| K::C(Value::from(r))).unwrap_or(K::Built(String::new())))];
                if let Some(f) = &s.filter {
                    self.ev(f);
                    v = vec![K::Built(String::new())];
                }
                self.assign(&s.target, v);
            }
            Stmt::AutoEscape(a) => {
                self.ev(&a.enabled);
                self.stmts(&a.body);
            }
            Stmt::FilterBlock(f) => {
                self.ev(&f.filter);
                self.stmts(&f.body);
            }
            Stmt::Block(b) => self.stmts(&b.body),
            Stmt::Import(i) => {
                self.flag(Severity::High, "imports another template".into());
                self.ev(&i.expr);
            }
            Stmt::FromImport(i) => {
                self.flag(Severity::High, "imports from another template".into());
                self.ev(&i.expr);
            }
            Stmt::Extends(e) => {
                self.flag(Severity::High, "extends another template".into());
                self.ev(&e.name);
            }
            Stmt::Include(i) => {
                self.flag(Severity::High, "includes another template".into());
                self.ev(&i.name);
            }
            Stmt::Macro(m) => {
                let params: Vec<String> = m
                    .args
                    .iter()
                    .filter_map(|a| if let Expr::Var(v) = a { Some(v.id.to_string()) } else { None })
                    .collect();
                self.macros.insert(m.name.to_string(), params.clone());
                for (p, d) in params.iter().rev().zip(m.defaults.iter().rev()) {
                    let v = self.ev(d);
                    for k in v {
                        self.bind(p.clone(), k);
                    }
                }
                let n = self.shadow.len();
                self.shadow.extend(params.iter().cloned());
                self.stmts(&m.body);
                self.shadow.truncate(n);
            }
            Stmt::CallBlock(c) => {
                self.args(&c.call.args);
                self.ev(&c.call.expr);
                let n = self.shadow.len();
                self.shadow.extend(c.macro_decl.args.iter().filter_map(|a| {
                    if let Expr::Var(v) = a {
                        Some(v.id.to_string())
                    } else {
                        None
                    }
                }));
                self.stmts(&c.macro_decl.body);
                self.shadow.truncate(n);
            }
            Stmt::Continue(_) | Stmt::Break(_) => {}
            Stmt::Do(d) => {
                self.args(&d.call.args);
                self.ev(&d.call.expr);
            }
        }
    }
}

/// The longest string kept folded; longer ones keep only their known start.
const MAX_FOLDED: usize = 1024;
/// The most items a folded list or map keeps (of strings and numbers only).
const MAX_FOLDED_ITEMS: usize = 256;

/// Keeps a folded value small: a long string becomes its known start, a large or nested
/// list a string of unknown start. Templates can double a value per statement
/// (`{% set x = x ~ x %}`), so every folded value passes through here.
fn bounded(k: K) -> K {
    let K::C(v) = &k else { return k };
    match v.kind() {
        ValueKind::String => match v.as_str() {
            Some(text) if text.len() > MAX_FOLDED => {
                let mut end = MAX_FOLDED;
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                K::Built(text[..end].to_string())
            }
            _ => k,
        },
        ValueKind::Seq | ValueKind::Map => {
            let small = v.len().is_some_and(|n| n <= MAX_FOLDED_ITEMS)
                && v.try_iter().is_ok_and(|mut items| {
                    items.all(|item| {
                        !matches!(item.kind(), ValueKind::Seq | ValueKind::Map)
                            && item.as_str().is_none_or(|text| text.len() <= MAX_FOLDED)
                    })
                });
            if small {
                k
            } else {
                K::Built(String::new())
            }
        }
        _ => k,
    }
}

fn cap(v: Vec<K>) -> Vec<K> {
    let mut v: Vec<K> = v.into_iter().map(bounded).collect();
    v.dedup();
    if v.len() > 16 {
        // The values dropped are a string of unknown start, as far as the checks know.
        v.truncate(15);
        v.push(K::Built(String::new()));
    }
    if v.is_empty() {
        v.push(K::Other)
    }
    v
}

fn analyse(src: &str) -> Result<Vec<(Severity, String)>, String> {
    let src = &blank_generation_tags(src);
    let tree = parse(src, "<chat_template>", SyntaxConfig::default()).map_err(|e| format!("{e}"))?;
    let mut a = An {
        env: BTreeMap::new(),
        macros: BTreeMap::new(),
        findings: BTreeSet::new(),
        collecting: true,
        depth: 0,
        too_deep: false,
        shadow: vec![],
    };
    // Two passes collect the set/for/macro bindings, a third reports.
    a.stmt(&tree);
    a.stmt(&tree);
    a.collecting = false;
    a.stmt(&tree);
    if a.too_deep {
        a.findings
            .insert((Severity::High, format!("nests expressions more than {MAX_NESTING} deep: it cannot be analysed")));
    }
    // The most severe first.
    let mut findings: Vec<(Severity, String)> = a.findings.into_iter().collect();
    findings.sort_by(|x, y| y.0.cmp(&x.0).then_with(|| x.1.cmp(&y.1)));
    Ok(findings)
}

/// transformers' `{% generation %}` / `{% endgeneration %}` (AssistantTracker) carry no expression:
/// blank them out (same length, so error offsets stay right) before parsing.
fn blank_generation_tags(src: &str) -> String {
    let mut out = src.to_owned();
    let b = src.as_bytes();
    let mut i = 0;
    while let Some(p) = src[i..].find("{%") {
        let st = i + p;
        let Some(e) = src[st + 2..].find("%}") else { break };
        let en = st + 2 + e + 2;
        let inner = src[st + 2..en - 2].trim_matches(|c: char| c == '-' || c == '+' || c.is_whitespace());
        if inner == "generation" || inner == "endgeneration" {
            out.replace_range(st..en, &" ".repeat(en - st));
        }
        let _ = b;
        i = en;
    }
    out
}

/// `{0.__init__}`, `{x[__y]}`, `{.__class__}`: a str.format replacement field whose path has a
/// `.attr` or `[key]` part starting with `_` (SandboxedFormatter refuses these; a plain format does not).
fn format_field_private(t: &str) -> bool {
    let mut rest = t;
    while let Some(o) = rest.find('{') {
        let after = &rest[o + 1..];
        if let Some(escaped) = after.strip_prefix('{') {
            rest = escaped;
            continue;
        }
        let end = after.find(['}', '!', ':', '{']).unwrap_or(after.len());
        let field = &after[..end];
        let path_start = field.find(['.', '[']);
        if let Some(p) = path_start {
            let head = &field[..p];
            if head.chars().all(|c| c.is_alphanumeric() || c == '_') {
                for part in field[p..].split(['.', '[', ']']) {
                    if part.starts_with('_') {
                        return true;
                    }
                }
            }
        }
        rest = after;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_of_one_long_chain_is_refused_without_overflowing_the_stack() {
        // Parsing, walking and dropping a chain recurses as deep as the chain is long.
        let chain = format!("{{{{ a{} }}}}", " ~ a".repeat((MAX_TEMPLATE - 16) / 4));
        assert!(chain.len() <= MAX_TEMPLATE);
        let findings = analyze(&chain);
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].severity, Severity::High);
        let too_large = "x".repeat(MAX_TEMPLATE + 1);
        assert!(analyze(&too_large)[0].why.contains("more than the"));
    }

    #[test]
    fn doubling_a_value_per_statement_stays_bounded() {
        let template = format!("{{% set x = '_' %}}{}{{{{ y[x] }}}}", "{% set x = x ~ x %}".repeat(64));
        let findings = analyze(&template);
        assert!(findings.iter().any(|f| f.severity == Severity::Critical), "{findings:?}");
    }

    #[test]
    fn python_only_escapes_and_generation_tags() {
        assert!(!analyze("{{ x['\\U0000005f\\U0000005fclass\\U0000005f\\U0000005f'] }}").is_empty());
        assert_eq!(analyze("{% generation %}{{ m.content }}{% endgeneration %}"), vec![]);
        // a `{%}` never makes the tag search go backwards
        assert!(!analyze("{%}{% generation %}").is_empty());
    }
}
