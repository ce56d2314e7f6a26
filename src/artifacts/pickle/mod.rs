//! A static simulation of the pickle machine.
//!
//! The opcodes of every protocol (0–5, as CPython's `pickletools` lists them) are read
//! one by one and their effect on the stack, the memo and the marks is replayed with
//! symbolic values: strings and numbers as far as names need them, containers as
//! opaque values, `global X.Y` for what `find_class` would import and `result of
//! calling X` for what REDUCE/NEWOBJ/OBJ/INST would build. Nothing is imported or
//! called. Every global is resolved to its `module.name` (also when the two strings
//! come through the memo) and judged by a [`GlobalsPolicy`]; what cannot be resolved,
//! and any pickle that does not parse, is unsafe.
//!
//! Memory is bounded independently of the file's size: the bytes are read forward through
//! a 64 KiB window (`input.rs`) and what is not kept is seeked over; strings longer than
//! [`MAX_STRING`] are kept as "long string" (never as names), lengths are checked against
//! the bytes that are really there before anything is read, and the stack, the memo and
//! the finding list are capped.

mod input;
mod lists;

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::io::{Read, Seek};
use std::rc::Rc;

use crate::evidence::{ArtifactFinding, Severity};

use input::{Input, Line, Source};
use lists::Verdict;

/// Longest string kept as a value; module and attribute names are far shorter.
pub const MAX_STRING: usize = 1024;
/// Most values on the symbolic stack (and entries in the memo) before giving up.
pub const MAX_VALUES: usize = 1 << 20;
/// Most findings kept for one file.
pub const MAX_FINDINGS: usize = 1000;

/// Which globals a pickle may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GlobalsPolicy {
    /// Only the globals needed to load tensors (the gate's default); anything else is a finding.
    Allow,
    /// Only the globals on the deny list are findings.
    Deny,
}

/// What the simulation found in one file.
#[derive(Debug, Clone, PartialEq)]
pub struct PickleReport {
    /// The protocol of the first pickle: its PROTO opcode, or 0/1 from the opcodes used.
    pub protocol: Option<u8>,
    /// Every resolved `module.name`, in order of appearance, once each.
    pub globals: Vec<String>,
    pub findings: Vec<ArtifactFinding>,
    /// Pickles found back to back.
    pub pickles: usize,
    /// No finding of severity high or critical.
    pub safe: bool,
}

/// Simulates every pickle in `bytes` (several may follow each other) and judges the
/// globals they name by `policy`. Never executes anything, never panics.
pub fn analyze(bytes: &[u8], policy: GlobalsPolicy) -> PickleReport {
    analyze_stream(&mut std::io::Cursor::new(bytes), bytes.len() as u64, policy)
}

/// [`analyze`] on the `len` bytes from the reader's current position, read forward through a
/// small window: the payloads the machine does not keep (tensor bytes, long strings) are
/// seeked over, so memory does not grow with the file. A read error is a finding.
pub fn analyze_stream(reader: &mut (impl Read + Seek), len: u64, policy: GlobalsPolicy) -> PickleReport {
    let mut scan = Scan::new(policy);
    let mut protocol = None;
    let mut pickles = 0;
    let source: &mut dyn Source = reader;
    match Input::new(source, len) {
        Ok(mut input) => simulate(&mut input, &mut scan, &mut protocol, &mut pickles),
        Err(error) => scan.finding("pickle", None, 0, Severity::High, format!("cannot be read: {error}")),
    }
    if len == 0 {
        scan.finding("pickle", None, 0, Severity::High, "the file is empty: no pickle to load".into());
    }
    scan.report(protocol, pickles)
}

/// What one pickle evaluates to, as far as the simulation knows it: enough for the formats
/// whose raw data is laid out by a pickle before it (legacy PyTorch `storages`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loaded {
    Int(i64),
    /// A tuple: its items that are integers, strings or globals (others as `Other`).
    Tuple(Vec<Loaded>),
    Str(String),
    Global(String),
    Other,
}

impl Loaded {
    fn of(value: &Value, depth: u8) -> Loaded {
        match value {
            Value::Int(n) => Loaded::Int(*n),
            Value::Str(text) => Loaded::Str(text.to_string()),
            Value::Global(name) => Loaded::Global(name.to_string()),
            Value::Tuple(Some(items)) if depth == 0 => {
                Loaded::Tuple(items.iter().map(|item| Loaded::of(item, depth + 1)).collect())
            }
            _ => Loaded::Other,
        }
    }
}

/// One pickle from the reader's position (within `len` bytes): its report, and when it
/// reached its STOP, where it ended (the offset after the STOP, from the start) and the value
/// it loads. Used where raw data follows a pickle, whose size the pickle says.
pub fn analyze_one(
    reader: &mut (impl Read + Seek),
    len: u64,
    policy: GlobalsPolicy,
) -> (PickleReport, Option<(u64, Loaded)>) {
    let mut scan = Scan::new(policy);
    let source: &mut dyn Source = reader;
    let mut input = match Input::new(source, len) {
        Ok(input) => input,
        Err(error) => {
            scan.finding("pickle", None, 0, Severity::High, format!("cannot be read: {error}"));
            return (scan.report(None, 0), None);
        }
    };
    let mut machine = Machine::new(&mut input);
    let outcome = machine.run(&mut scan);
    let protocol = machine.protocol.or(Some(machine.implied_protocol));
    let loaded = machine.stack.last().map_or(Loaded::Other, |top| Loaded::of(top, 0));
    // The unpickler reads a whole frame at once: a stream it reads next resumes after the
    // last frame, even when the STOP came before its end.
    let frame_end = machine.frame_end;
    scan.absorb(&mut machine);
    let end = match outcome {
        Ok(stop) => Some(((stop + 1).max(frame_end), loaded)),
        Err(failure) => {
            scan.broken(failure);
            None
        }
    };
    let pickles = usize::from(end.is_some());
    (scan.report(protocol, pickles), end)
}

/// Runs the pickles of `input` one after the other.
fn simulate(input: &mut Input, scan: &mut Scan, protocol: &mut Option<u8>, pickles: &mut usize) {
    while input.pos() < input.len() {
        let start = input.pos();
        let first = match input.peek() {
            Ok(first) => first.unwrap_or(0),
            Err(error) => {
                scan.finding("pickle", None, start, Severity::High, format!("cannot be read: {error}"));
                return;
            }
        };
        let mut machine = Machine::new(input);
        let outcome = machine.run(scan);
        if *pickles == 0 {
            *protocol = machine.protocol.or(Some(machine.implied_protocol));
        }
        match outcome {
            Ok(_) => {
                *pickles += 1;
                if *pickles > 1 {
                    let n = *pickles;
                    scan.finding(
                        "pickle",
                        None,
                        start,
                        Severity::Medium,
                        format!(
                            "another pickle starts after the STOP of the previous one (pickle {n}); \
                             loaders that call pickle.load again run it, so it was scanned too"
                        ),
                    );
                }
            }
            // After a whole pickle, bytes whose very first byte is no opcode are data, not a
            // pickle (legacy PyTorch files keep raw storages there); anything that starts
            // like a pickle and breaks is a broken pickle.
            Err(failure) if *pickles == 0 || is_opcode(first) => {
                scan.absorb(&mut machine);
                scan.broken(failure);
                return;
            }
            Err(_) => {
                scan.finding(
                    "pickle",
                    None,
                    start,
                    Severity::Medium,
                    format!(
                        "{} bytes after the last STOP do not start with an opcode: data, not a pickle \
                         (legacy PyTorch storages look like this)",
                        input.len() - start
                    ),
                );
                return;
            }
        }
        scan.absorb(&mut machine);
    }
}

struct Scan {
    policy: GlobalsPolicy,
    globals: Vec<String>,
    /// `globals` as a set: a hostile pickle may name hundreds of thousands of globals.
    seen: HashSet<String>,
    findings: Vec<ArtifactFinding>,
    truncated_findings: bool,
}

impl Scan {
    fn new(policy: GlobalsPolicy) -> Scan {
        Scan { policy, globals: Vec::new(), seen: HashSet::new(), findings: Vec::new(), truncated_findings: false }
    }

    /// The report of what was found, with a high finding when findings were dropped.
    fn report(mut self, protocol: Option<u8>, pickles: usize) -> PickleReport {
        if self.truncated_findings {
            self.findings.push(ArtifactFinding {
                kind: "pickle".into(),
                global: None,
                offset: None,
                severity: Severity::High,
                why: format!("more than {MAX_FINDINGS} findings; the rest are not listed"),
            });
        }
        let safe = !self.findings.iter().any(|f| f.severity >= Severity::High);
        PickleReport { protocol, globals: self.globals, findings: self.findings, pickles, safe }
    }

    /// Takes over the findings of one pickle, within [`MAX_FINDINGS`].
    fn absorb(&mut self, machine: &mut Machine) {
        self.truncated_findings |= machine.dropped_findings;
        for finding in machine.pending.drain(..) {
            if self.findings.len() >= MAX_FINDINGS {
                self.truncated_findings = true;
                break;
            }
            self.findings.push(finding);
        }
    }

    /// A pickle that breaks before its STOP: unsafe, at the opcode where it broke.
    fn broken(&mut self, failure: Failure) {
        self.finding("pickle", None, failure.offset, Severity::High, format!("{}; the pickle is unsafe", failure.why));
    }

    fn finding(&mut self, kind: &str, global: Option<String>, offset: u64, severity: Severity, why: String) {
        if self.findings.len() >= MAX_FINDINGS {
            self.truncated_findings = true;
            return;
        }
        self.findings.push(ArtifactFinding { kind: kind.into(), global, offset: Some(offset), severity, why });
    }
}

/// A dict's kept items (`None` once opaque), shared by every reference to the dict.
type SharedDict = Rc<RefCell<Option<Vec<(Value, Value)>>>>;

/// A symbolic value on the stack or in the memo.
#[derive(Debug, Clone)]
enum Value {
    Str(Rc<str>),
    /// A string longer than [`MAX_STRING`], or one that is not valid text.
    OtherStr,
    Bytes,
    Number,
    /// An integer small enough to be a shape or a size (joblib array headers need them).
    Int(i64),
    None,
    /// A tuple; its items are kept when few and flat ([`kept`]), for joblib array headers.
    Tuple(Option<Rc<[Value]>>),
    List,
    /// A dict; its items are kept as for tuples, one level deeper (`None` once opaque).
    /// Shared like the pickle machine's objects: a dict fetched back from the memo is the
    /// one SETITEMS filled, not a copy of it as it was when it was stored.
    Dict(SharedDict),
    Set,
    /// `global module.name`
    Global(Rc<str>),
    /// A global that could not be resolved (already reported).
    Unresolved,
    /// The result of calling a global.
    Call(Rc<str>),
    /// `numpy.dtype(code, ...)`: the code (`f8`, `U3`, `V16`, `O8`) says the item size; the
    /// flags of its BUILD state say whether it holds objects. The flags are shared by every
    /// reference to the dtype, as the object is: scikit-learn forests store a structured
    /// dtype once, BUILD it, and fetch it back from the memo for each tree.
    Dtype(Rc<str>, Rc<Cell<Option<i64>>>),
    /// What `persistent_load` returns (PyTorch storages).
    Persistent,
    /// An out-of-band buffer.
    Buffer,
}

impl Value {
    fn dict() -> Value {
        Value::Dict(Rc::new(RefCell::new(Some(Vec::new()))))
    }

    fn opaque_dict() -> Value {
        Value::Dict(Rc::new(RefCell::new(None)))
    }

    fn describe(&self) -> String {
        match self {
            Value::Str(s) => format!("the string {s:?}"),
            Value::OtherStr => "a long or undecodable string".into(),
            Value::Bytes => "bytes".into(),
            Value::Number | Value::Int(_) => "a number".into(),
            Value::None => "None".into(),
            Value::Tuple(_) => "a tuple".into(),
            Value::List => "a list".into(),
            Value::Dict(_) => "a dict".into(),
            Value::Set => "a set".into(),
            Value::Global(g) => format!("global {g}"),
            Value::Unresolved => "an unresolvable global".into(),
            Value::Call(g) => format!("the result of calling {g}"),
            Value::Dtype(code, _) => format!("numpy dtype {code}"),
            Value::Persistent => "a persistent id".into(),
            Value::Buffer => "an out-of-band buffer".into(),
        }
    }
}

struct Failure {
    offset: u64,
    why: String,
}

struct Machine<'i, 'r> {
    input: &'i mut Input<'r>,
    /// Where the last FRAME read ends (0 without frames).
    frame_end: u64,
    /// Offset of the opcode being simulated.
    op_at: u64,
    stack: Vec<Value>,
    marks: Vec<usize>,
    memo: HashMap<u64, Value>,
    protocol: Option<u8>,
    implied_protocol: u8,
    /// Findings of this pickle, kept apart until it is known to be a pickle.
    pending: Vec<ArtifactFinding>,
    dropped_findings: bool,
    /// Reads joblib's array data after a `NumpyArrayWrapper` BUILD, as joblib's unpickler
    /// does; off in the nested pickle of an object array, which a plain unpickler reads.
    joblib: bool,
}

/// The class joblib pickles in place of each numpy array; its data follows its BUILD.
const JOBLIB_ARRAY: &str = "joblib.numpy_pickle.NumpyArrayWrapper";

/// Callables that build an instance of a class they are given (so possibly a joblib wrapper).
const INDIRECT_CONSTRUCTORS: &[&str] =
    &["copyreg._reconstructor", "copyreg.__newobj__", "copyreg.__newobj_ex__", "builtins.object", "builtins.type"];

/// Most items kept in a tuple or dict value; larger ones are opaque.
const MAX_KEPT_ITEMS: usize = 64;

type Step<T> = Result<T, Failure>;

/// Longest string argument kept (longer ones are seeked over): what [`text`] keeps.
const KEPT: u64 = MAX_STRING as u64;
/// Longest text-opcode line kept: a quoted or escaped string of [`MAX_STRING`] characters.
const KEPT_LINE: usize = 10 * MAX_STRING + 2;

impl<'i, 'r> Machine<'i, 'r> {
    fn new(input: &'i mut Input<'r>) -> Machine<'i, 'r> {
        let start = input.pos();
        Machine {
            input,
            frame_end: 0,
            op_at: start,
            stack: Vec::new(),
            marks: Vec::new(),
            memo: HashMap::new(),
            protocol: None,
            implied_protocol: 0,
            pending: Vec::new(),
            dropped_findings: false,
            joblib: true,
        }
    }

    /// Skips the array data joblib writes right after a `NumpyArrayWrapper` BUILD
    /// (joblib.numpy_pickle `write_array`): for an object dtype a whole nested pickle,
    /// which is simulated here too; otherwise an optional padding (a length byte, then
    /// that many bytes) when the state has `numpy_array_alignment_bytes`, then
    /// `prod(shape) × itemsize` raw bytes. The pickle goes on after them, so what is
    /// placed after the array data is read as opcodes. A state that does not say how many
    /// bytes follow cannot be skipped safely: the pickle is unsafe.
    fn joblib_array(&mut self, scan: &mut Scan, state: &Value) -> Step<()> {
        let Some(header) = JoblibArray::from_state(state) else {
            return self.fail(format!(
                "joblib array at offset {}: its state does not say its shape and dtype, \
                 so where its data ends is unknown",
                self.op_at
            ));
        };
        if header.object {
            let mut inner = Machine::new(&mut *self.input);
            inner.joblib = false;
            inner.run(scan)?;
            let (findings, dropped) = (std::mem::take(&mut inner.pending), inner.dropped_findings);
            for finding in findings {
                if self.pending.len() >= MAX_FINDINGS {
                    self.dropped_findings = true;
                    break;
                }
                self.pending.push(finding);
            }
            self.dropped_findings |= dropped;
            return Ok(());
        }
        if header.aligned {
            let padding = self.uint(1, "joblib array padding")?;
            self.take(padding, "joblib array padding")?;
        }
        let Some(size) = header.bytes() else {
            return self.fail(format!("joblib array at offset {}: its size overflows", self.op_at));
        };
        self.take(size, "joblib array data")?;
        Ok(())
    }

    fn fail<T>(&self, why: impl Into<String>) -> Step<T> {
        Err(Failure { offset: self.op_at, why: why.into() })
    }

    fn io<T>(&self, result: std::io::Result<T>) -> Step<T> {
        result.map_err(|error| Failure { offset: self.op_at, why: format!("cannot be read: {error}") })
    }

    /// The next `n` bytes, or `None` (and they are seeked over) when more than [`KEPT`].
    fn take(&mut self, n: u64, what: &str) -> Step<Option<Vec<u8>>> {
        let left = self.input.left();
        if n > left {
            return self
                .fail(format!("truncated: {what} at offset {} claims {n} bytes but only {left} remain", self.op_at));
        }
        if n > KEPT {
            self.input.skip(n);
            return Ok(None);
        }
        let bytes = self.input.read(n as usize);
        self.io(bytes).map(Some)
    }

    fn uint(&mut self, n: usize, what: &str) -> Step<u64> {
        let raw = self.take(n as u64, what)?.unwrap_or_default();
        Ok(raw.iter().rev().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    fn line(&mut self, what: &str) -> Step<Line> {
        let line = self.input.line(KEPT_LINE);
        match self.io(line)? {
            Some(mut line) => {
                if !line.cut && line.bytes.last() == Some(&b'\r') {
                    line.bytes.pop();
                }
                Ok(line)
            }
            None => self.fail(format!("truncated: {what} at offset {} has no end of line", self.op_at)),
        }
    }

    fn push(&mut self, value: Value) -> Step<()> {
        if self.stack.len() >= MAX_VALUES {
            return self.fail(format!("more than {MAX_VALUES} values on the stack"));
        }
        self.stack.push(value);
        Ok(())
    }

    fn pop(&mut self, opcode: &str) -> Step<Value> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return self.fail(format!("stack underflow: {opcode} at offset {} has nothing to pop", self.op_at));
        }
        Ok(self.stack.pop().unwrap_or(Value::None))
    }

    fn top(&mut self, opcode: &str) -> Step<&mut Value> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return self.fail(format!("stack underflow: {opcode} at offset {} needs a value", self.op_at));
        }
        let at = self.op_at;
        self.stack.last_mut().ok_or(Failure { offset: at, why: "stack underflow".into() })
    }

    /// Pops everything down to the last MARK, and the mark.
    fn pop_mark(&mut self, opcode: &str) -> Step<Vec<Value>> {
        match self.marks.pop() {
            Some(mark) => Ok(self.stack.split_off(mark.min(self.stack.len()))),
            None => self.fail(format!("{opcode} at offset {} without a MARK", self.op_at)),
        }
    }

    fn memo_put(&mut self, key: u64) -> Step<()> {
        let value = self.top("PUT")?.clone();
        if self.memo.len() >= MAX_VALUES && !self.memo.contains_key(&key) {
            return self.fail(format!("more than {MAX_VALUES} memo entries"));
        }
        self.memo.insert(key, value);
        Ok(())
    }

    fn memo_get(&mut self, key: u64) -> Step<()> {
        match self.memo.get(&key) {
            Some(value) => {
                let value = value.clone();
                self.push(value)
            }
            None => self.fail(format!("memo miss: GET of key {key} at offset {} that was never stored", self.op_at)),
        }
    }

    fn finding(&mut self, kind: &str, global: Option<String>, severity: Severity, why: String) {
        if self.pending.len() >= MAX_FINDINGS {
            self.dropped_findings = true;
        } else {
            self.pending.push(ArtifactFinding { kind: kind.into(), global, offset: Some(self.op_at), severity, why });
        }
    }

    /// What `find_class(module, name)` would import, judged by the policy.
    fn global(&mut self, scan: &mut Scan, module: &str, name: &str, opcode: &str) -> Value {
        // The name as written is judged too: mapping is pickle's, the deny list must hold either way.
        let written = lists::judge(module, name);
        let (module, name) = lists::python3_name(module, name);
        let qualified = format!("{module}.{name}");
        if scan.globals.len() < MAX_VALUES && scan.seen.insert(qualified.clone()) {
            scan.globals.push(qualified.clone());
        }
        if module.is_empty() || name.is_empty() || name.split('.').any(str::is_empty) {
            self.finding(
                "global",
                Some(qualified.clone()),
                Severity::Critical,
                format!("unresolvable global: {opcode} names {qualified:?}, which is not a module attribute"),
            );
            return Value::Unresolved;
        }
        let verdict = match (lists::judge(&module, &name), written) {
            (Verdict::Denied(why), _) | (_, Verdict::Denied(why)) => Verdict::Denied(why),
            (mapped, _) => mapped,
        };
        match (verdict, scan.policy) {
            (Verdict::Denied(why), _) => self.finding(
                "global",
                Some(qualified.clone()),
                Severity::Critical,
                format!("{opcode} imports {qualified}, which is on the deny list: {why}"),
            ),
            (Verdict::Unknown, GlobalsPolicy::Allow) => self.finding(
                "global",
                Some(qualified.clone()),
                Severity::High,
                format!("{opcode} imports {qualified}, which is not needed to load tensors (not on the allow list)"),
            ),
            _ => {}
        }
        Value::Global(qualified.into())
    }

    fn unresolvable(&mut self, opcode: &str, why: String) -> Value {
        self.finding("global", None, Severity::Critical, format!("unresolvable global: {opcode} {why}"));
        Value::Unresolved
    }

    /// A call of `callable` (REDUCE, NEWOBJ, OBJ): its result.
    fn call(&mut self, callable: Value, opcode: &str) -> Value {
        match callable {
            Value::Global(name) => Value::Call(name),
            Value::Unresolved => Value::Unresolved,
            other => {
                let what = other.describe();
                self.unresolvable(opcode, format!("calls {what}, not a named global"))
            }
        }
    }

    /// Runs one pickle to its STOP; returns the STOP's offset.
    fn run(&mut self, scan: &mut Scan) -> Step<u64> {
        loop {
            self.op_at = self.input.pos();
            let op = self.input.byte();
            let Some(op) = self.io(op)? else {
                return self.fail(format!("truncated: the pickle ends at offset {} without STOP", self.op_at));
            };
            match op {
                b'.' => return Ok(self.op_at),
                0x80 => {
                    let version = self.uint(1, "PROTO")? as u8;
                    if version > 5 {
                        return self.fail(format!("unsupported pickle protocol {version}"));
                    }
                    self.protocol.get_or_insert(version);
                }
                0x95 => {
                    // FRAME: a length prefix for the opcodes that follow; they are read as usual.
                    let len = self.uint(8, "FRAME")?;
                    let left = self.input.left();
                    self.frame_end = self.frame_end.max(self.input.pos().saturating_add(len.min(left)));
                    if len > left {
                        // Keep reading: what the frame does hold is still worth judging.
                        self.finding(
                            "pickle",
                            None,
                            Severity::High,
                            format!("truncated: FRAME claims {len} bytes but only {left} remain"),
                        );
                    }
                }
                // ---- numbers and constants
                b'I' => {
                    let line = self.line("INT")?;
                    let value = match &line.bytes[..] {
                        // a number too long to keep is still a number: nothing is imported by it
                        _ if line.cut => Value::Number,
                        b"00" | b"01" => Value::Number,
                        digits => number(self, digits)?,
                    };
                    self.push(value)?;
                }
                b'L' => {
                    let line = self.line("LONG")?;
                    let digits = line.bytes.strip_suffix(b"L").unwrap_or(&line.bytes);
                    let value = if line.cut { Value::Number } else { number(self, digits)? };
                    self.push(value)?;
                }
                b'F' => {
                    let line = self.line("FLOAT")?;
                    if !line.cut
                        && std::str::from_utf8(&line.bytes).ok().and_then(|s| s.trim().parse::<f64>().ok()).is_none()
                    {
                        return self.fail(format!("FLOAT at offset {} is not a number", self.op_at));
                    }
                    self.push(Value::Number)?;
                }
                b'J' => {
                    let raw = self.uint(4, "BININT")? as u32 as i32;
                    self.mark_proto(1);
                    self.push(Value::Int(raw.into()))?;
                }
                b'K' | b'M' => {
                    let (width, opcode) = if op == b'K' { (1, "BININT1") } else { (2, "BININT2") };
                    let raw = self.uint(width, opcode)?;
                    self.mark_proto(1);
                    self.push(Value::Int(raw as i64))?;
                }
                b'G' => self.fixed(8, "BINFLOAT", 1, Value::Number)?,
                0x8a => {
                    let n = self.uint(1, "LONG1")?;
                    self.take(n, "LONG1")?;
                    self.mark_proto(2);
                    self.push(Value::Number)?;
                }
                0x8b => {
                    let n = self.uint(4, "LONG4")? as u32 as i32;
                    if n < 0 {
                        return self.fail("LONG4 with a negative length");
                    }
                    self.take(n as u64, "LONG4")?;
                    self.mark_proto(2);
                    self.push(Value::Number)?;
                }
                b'N' => self.push(Value::None)?,
                0x88 | 0x89 => {
                    self.mark_proto(2);
                    self.push(Value::Number)?
                }
                // ---- strings and bytes
                b'S' => {
                    let line = self.line("STRING")?;
                    let value = if line.cut { Some(Value::OtherStr) } else { quoted_string(&line.bytes) };
                    let value = value.ok_or(Failure {
                        offset: self.op_at,
                        why: format!("STRING at offset {} is not a quoted string", self.op_at),
                    })?;
                    self.push(value)?;
                }
                b'V' => {
                    let line = self.line("UNICODE")?;
                    let value =
                        if line.cut { Value::OtherStr } else { text(raw_unicode_escape(&line.bytes).as_deref()) };
                    self.push(value)?;
                }
                b'T' => {
                    let n = self.uint(4, "BINSTRING")? as u32 as i32;
                    if n < 0 {
                        return self.fail("BINSTRING with a negative length");
                    }
                    let raw = self.take(n as u64, "BINSTRING")?;
                    self.mark_proto(1);
                    self.push(raw.as_deref().map_or(Value::OtherStr, latin1))?;
                }
                b'U' => {
                    let n = self.uint(1, "SHORT_BINSTRING")?;
                    let raw = self.take(n, "SHORT_BINSTRING")?;
                    self.mark_proto(1);
                    self.push(raw.as_deref().map_or(Value::OtherStr, latin1))?;
                }
                b'X' => self.unicode(4, "BINUNICODE", 1)?,
                0x8c => self.unicode(1, "SHORT_BINUNICODE", 4)?,
                0x8d => self.unicode(8, "BINUNICODE8", 4)?,
                b'B' => self.sized(4, "BINBYTES", 3, Value::Bytes)?,
                b'C' => self.sized(1, "SHORT_BINBYTES", 3, Value::Bytes)?,
                0x8e => self.sized(8, "BINBYTES8", 4, Value::Bytes)?,
                0x96 => self.sized(8, "BYTEARRAY8", 5, Value::Bytes)?,
                0x97 => {
                    self.mark_proto(5);
                    self.push(Value::Buffer)?
                }
                0x98 => {
                    self.mark_proto(5);
                    self.top("READONLY_BUFFER")?;
                }
                // ---- containers
                b'(' => {
                    if self.marks.len() >= MAX_VALUES {
                        return self.fail(format!("more than {MAX_VALUES} marks"));
                    }
                    self.marks.push(self.stack.len());
                }
                b')' => {
                    self.mark_proto(1);
                    self.push(Value::Tuple(Some(Rc::from([]))))?
                }
                b't' => {
                    let items = self.pop_mark("TUPLE")?;
                    self.push(tuple(items))?;
                }
                0x85..=0x87 => {
                    let mut items = Vec::with_capacity(3);
                    for _ in 0..(op - 0x84) {
                        items.push(self.pop("TUPLE1/2/3")?);
                    }
                    items.reverse();
                    self.mark_proto(2);
                    self.push(tuple(items))?;
                }
                b']' => {
                    self.mark_proto(1);
                    self.push(Value::List)?
                }
                b'l' => {
                    self.pop_mark("LIST")?;
                    self.push(Value::List)?;
                }
                b'}' => {
                    self.mark_proto(1);
                    self.push(Value::dict())?
                }
                b'd' => {
                    let items = self.pop_mark("DICT")?;
                    if items.len() % 2 == 1 {
                        return self.fail(format!("DICT at offset {} with an odd number of items", self.op_at));
                    }
                    let mut dict = Value::dict();
                    set_items(&mut dict, items);
                    self.push(dict)?;
                }
                0x8f => {
                    self.mark_proto(4);
                    self.push(Value::Set)?
                }
                0x91 => {
                    self.pop_mark("FROZENSET")?;
                    self.mark_proto(4);
                    self.push(Value::Set)?;
                }
                b'a' => {
                    self.pop("APPEND")?;
                    self.top("APPEND")?;
                }
                b'e' => {
                    self.pop_mark("APPENDS")?;
                    self.top("APPENDS")?;
                }
                b's' => {
                    let value = self.pop("SETITEM")?;
                    let key = self.pop("SETITEM")?;
                    set_items(self.top("SETITEM")?, vec![key, value]);
                }
                b'u' => {
                    let items = self.pop_mark("SETITEMS")?;
                    if items.len() % 2 == 1 {
                        return self.fail(format!("SETITEMS at offset {} with an odd number of items", self.op_at));
                    }
                    set_items(self.top("SETITEMS")?, items);
                }
                0x90 => {
                    self.pop_mark("ADDITEMS")?;
                    self.top("ADDITEMS")?;
                }
                // ---- stack
                b'0' => {
                    // POP discards the top value, or the topmost mark when nothing is above it.
                    let floor = self.marks.last().copied();
                    if floor == Some(self.stack.len()) {
                        self.marks.pop();
                    } else {
                        self.pop("POP")?;
                    }
                }
                b'1' => {
                    self.pop_mark("POP_MARK")?;
                }
                b'2' => {
                    let value = self.top("DUP")?.clone();
                    self.push(value)?;
                }
                // ---- memo
                b'p' => {
                    let line = self.line("PUT")?;
                    let key = decimal(self, &line, "PUT")?;
                    self.memo_put(key)?;
                }
                b'q' => {
                    let key = self.uint(1, "BINPUT")?;
                    self.mark_proto(1);
                    self.memo_put(key)?;
                }
                b'r' => {
                    let key = self.uint(4, "LONG_BINPUT")?;
                    self.mark_proto(1);
                    self.memo_put(key)?;
                }
                0x94 => {
                    let key = self.memo.len() as u64;
                    self.mark_proto(4);
                    self.memo_put(key)?;
                }
                b'g' => {
                    let line = self.line("GET")?;
                    let key = decimal(self, &line, "GET")?;
                    self.memo_get(key)?;
                }
                b'h' => {
                    let key = self.uint(1, "BINGET")?;
                    self.mark_proto(1);
                    self.memo_get(key)?;
                }
                b'j' => {
                    let key = self.uint(4, "LONG_BINGET")?;
                    self.mark_proto(1);
                    self.memo_get(key)?;
                }
                // ---- globals and calls
                b'c' | b'i' => {
                    let opcode = if op == b'c' { "GLOBAL" } else { "INST" };
                    let module = self.line(opcode)?;
                    let name = self.line(opcode)?;
                    let value = match (std::str::from_utf8(&module.bytes), std::str::from_utf8(&name.bytes)) {
                        _ if module.cut || name.cut => self.unresolvable(
                            opcode,
                            format!("names a module or attribute longer than the {KEPT_LINE} bytes read"),
                        ),
                        (Ok(module), Ok(name)) => self.global(scan, module, name, opcode),
                        _ => self.unresolvable(opcode, "names a module or attribute that is not UTF-8".into()),
                    };
                    if op == b'c' {
                        self.push(value)?;
                    } else {
                        self.pop_mark("INST")?;
                        let result = self.call(value, "INST");
                        self.push(result)?;
                    }
                }
                0x93 => {
                    let name = self.pop("STACK_GLOBAL")?;
                    let module = self.pop("STACK_GLOBAL")?;
                    self.mark_proto(4);
                    let value = match (&module, &name) {
                        (Value::Str(module), Value::Str(name)) => self.global(scan, module, name, "STACK_GLOBAL"),
                        _ => {
                            let why = format!(
                                "takes its module from {} and its name from {}",
                                module.describe(),
                                name.describe()
                            );
                            self.unresolvable("STACK_GLOBAL", why)
                        }
                    };
                    self.push(value)?;
                }
                0x82..=0x84 => {
                    let width = [1, 2, 4][(op - 0x82) as usize];
                    let code = self.uint(width, "EXT")?;
                    self.mark_proto(2);
                    let value = self.unresolvable(
                        "EXT",
                        format!("names extension code {code}, which copyreg's extension registry maps at load time"),
                    );
                    self.push(value)?;
                }
                b'R' => {
                    let arguments = self.pop("REDUCE")?;
                    let callable = self.pop("REDUCE")?;
                    let result = match (self.call(callable, "REDUCE"), arguments) {
                        // numpy.dtype(code, align, copy): keep the code for joblib array sizes.
                        (Value::Call(name), Value::Tuple(Some(items))) if &*name == "numpy.dtype" => {
                            match items.first() {
                                Some(Value::Str(code)) => Value::Dtype(code.clone(), Rc::new(Cell::new(None))),
                                _ => Value::Call(name),
                            }
                        }
                        (result, _) => result,
                    };
                    self.push(result)?;
                }
                0x81 => {
                    self.pop("NEWOBJ")?;
                    let class = self.pop("NEWOBJ")?;
                    self.mark_proto(2);
                    let result = self.call(class, "NEWOBJ");
                    self.push(result)?;
                }
                0x92 => {
                    self.pop("NEWOBJ_EX")?;
                    self.pop("NEWOBJ_EX")?;
                    let class = self.pop("NEWOBJ_EX")?;
                    self.mark_proto(4);
                    let result = self.call(class, "NEWOBJ_EX");
                    self.push(result)?;
                }
                b'o' => {
                    let mut items = self.pop_mark("OBJ")?.into_iter();
                    let Some(class) = items.next() else {
                        return self.fail(format!("stack underflow: OBJ at offset {} has no class", self.op_at));
                    };
                    self.mark_proto(1);
                    let result = self.call(class, "OBJ");
                    self.push(result)?;
                }
                b'b' => {
                    let state = self.pop("BUILD")?;
                    let target = self.top("BUILD")?.clone();
                    match target {
                        Value::Call(name) if self.joblib && &*name == JOBLIB_ARRAY => {
                            self.joblib_array(scan, &state)?;
                        }
                        // joblib reads array data after any BUILD whose object is a wrapper,
                        // however it was made: one made indirectly would shift where the
                        // stream resumes without the simulation knowing.
                        Value::Call(name)
                            if self.joblib
                                && INDIRECT_CONSTRUCTORS.contains(&&*name)
                                && scan.seen.contains(JOBLIB_ARRAY) =>
                        {
                            return self.fail(format!(
                                "BUILD at offset {} on an object made by {name} in a joblib stream: it may be an \
                                 array wrapper, whose data would follow",
                                self.op_at
                            ));
                        }
                        Value::Global(name) => self.finding(
                            "opcode",
                            Some(name.to_string()),
                            Severity::Critical,
                            format!("BUILD sets attributes on global {name} itself, not on an object built from it"),
                        ),
                        Value::Dtype(..) => {
                            // numpy's dtype state: (version, byteorder, subarray, names, fields,
                            // elsize, alignment, flags); flag 0x01 is NPY_ITEM_HASOBJECT.
                            let flags = match &state {
                                Value::Tuple(Some(items)) => match items.get(7) {
                                    Some(Value::Int(flags)) => Some(*flags),
                                    _ => None,
                                },
                                _ => None,
                            };
                            if let Value::Dtype(_, slot) = self.top("BUILD")? {
                                slot.set(flags);
                            }
                        }
                        Value::Call(_) | Value::Unresolved | Value::Persistent => {}
                        other => {
                            let what = other.describe();
                            self.finding(
                                "opcode",
                                None,
                                Severity::High,
                                format!("BUILD on {what}, which has no __setstate__ a tensor file needs"),
                            )
                        }
                    }
                }
                b'P' => {
                    self.line("PERSID")?;
                    self.push(Value::Persistent)?;
                }
                b'Q' => {
                    self.pop("BINPERSID")?;
                    self.mark_proto(1);
                    self.push(Value::Persistent)?;
                }
                other => return self.fail(format!("unknown opcode 0x{other:02x} at offset {}", self.op_at)),
            }
        }
    }

    fn mark_proto(&mut self, protocol: u8) {
        self.implied_protocol = self.implied_protocol.max(protocol.min(1));
    }

    fn fixed(&mut self, n: usize, opcode: &str, protocol: u8, value: Value) -> Step<()> {
        self.take(n as u64, opcode)?;
        self.mark_proto(protocol);
        self.push(value)
    }

    fn sized(&mut self, width: usize, opcode: &str, protocol: u8, value: Value) -> Step<()> {
        let n = self.uint(width, opcode)?;
        self.take(n, opcode)?;
        self.mark_proto(protocol);
        self.push(value)
    }

    fn unicode(&mut self, width: usize, opcode: &str, protocol: u8) -> Step<()> {
        let n = self.uint(width, opcode)?;
        let raw = self.take(n, opcode)?;
        self.mark_proto(protocol);
        self.push(text(raw.as_deref().and_then(|raw| std::str::from_utf8(raw).ok())))
    }
}

/// What joblib's `NumpyArrayWrapper` state says about the array data that follows.
struct JoblibArray {
    shape: Vec<u64>,
    itemsize: u64,
    object: bool,
    aligned: bool,
}

impl JoblibArray {
    fn from_state(state: &Value) -> Option<JoblibArray> {
        let Value::Dict(dict) = state else { return None };
        let dict = dict.borrow();
        let items = dict.as_ref()?;
        let get = |key: &str| items.iter().rev().find(|(k, _)| matches!(k, Value::Str(s) if &**s == key)).map(|e| &e.1);
        let Some(Value::Tuple(Some(dimensions))) = get("shape") else { return None };
        let shape = dimensions
            .iter()
            .map(|d| match d {
                Value::Int(n) => u64::try_from(*n).ok(),
                _ => None,
            })
            .collect::<Option<Vec<u64>>>()?;
        let Some(Value::Dtype(code, flags)) = get("dtype") else { return None };
        let flags = flags.get();
        // numpy's dtype reduce code: a kind letter and the item size, in bytes except for
        // `U` (UCS-4 characters): `f8`, `U3`, `V16`.
        let kind = code.chars().next()?;
        let digits: u64 = code[kind.len_utf8()..].parse().ok()?;
        let itemsize = if kind == 'U' { digits.checked_mul(4)? } else { digits };
        if !"biufcmMSUVaO".contains(kind) {
            return None;
        }
        // A structured dtype holds objects when one of its fields does: only its flags say so.
        let object = match (kind, flags) {
            ('O', _) => true,
            (_, Some(flags)) => flags & 1 != 0,
            ('V', None) => return None,
            (_, None) => false,
        };
        // joblib reads the padding byte when the attribute exists and is not None.
        let aligned = match get("numpy_array_alignment_bytes") {
            None | Some(Value::None) => false,
            Some(Value::Int(_)) => true,
            Some(_) => return None,
        };
        Some(JoblibArray { shape, itemsize, object, aligned })
    }

    /// The bytes of array data.
    fn bytes(&self) -> Option<u64> {
        self.shape.iter().try_fold(self.itemsize, |total, n| total.checked_mul(*n))
    }
}

/// A tuple value; its items are kept when few and flat, so that no value nests deeper
/// than a dict of tuples (dropping a deep nest would recurse).
/// Nested tuples and dicts inside it are kept as opaque ones.
fn tuple(items: Vec<Value>) -> Value {
    if items.len() > MAX_KEPT_ITEMS {
        return Value::Tuple(None);
    }
    let flat: Vec<Value> = items
        .into_iter()
        .map(|item| match item {
            Value::Tuple(Some(_)) => Value::Tuple(None),
            Value::Dict(_) => Value::opaque_dict(),
            other => other,
        })
        .collect();
    Value::Tuple(Some(Rc::from(flat)))
}

/// SETITEM(S) and DICT: the pairs join a kept dict while it stays small and holds no
/// dict; otherwise the dict becomes opaque.
fn set_items(target: &mut Value, items: Vec<Value>) {
    let Value::Dict(dict) = target else { return };
    let holds_a_dict = items.iter().any(|item| matches!(item, Value::Dict(inner) if inner.borrow().is_some()));
    let mut kept = dict.borrow_mut();
    let Some(entries) = kept.as_mut() else { return };
    if holds_a_dict || entries.len() + items.len() / 2 > MAX_KEPT_ITEMS {
        *kept = None;
        return;
    }
    let mut items = items.into_iter();
    while let (Some(key), Some(value)) = (items.next(), items.next()) {
        entries.push((key, value));
    }
}

/// Whether `name` is a dotted Python name (`os.system`, `numpy.core.multiarray._reconstruct`):
/// what a real pickle's GLOBAL names, and random bytes read as opcodes almost never do.
pub fn is_dotted_identifier(name: &str) -> bool {
    name.split('.').all(|part| {
        let mut chars = part.chars();
        chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// Whether `byte` is one of the opcodes of protocols 0–5.
fn is_opcode(byte: u8) -> bool {
    (0x80..=0x98).contains(&byte) || b"().012BCFGIJKLMNPQRSTUVXabcdeghijlopqrstu}]".contains(&byte)
}

fn text(s: Option<&str>) -> Value {
    match s {
        Some(s) if s.len() <= MAX_STRING => Value::Str(s.into()),
        _ => Value::OtherStr,
    }
}

/// BINSTRING/SHORT_BINSTRING: Python 3 decodes them as ASCII by default; latin-1 is a superset.
fn latin1(raw: &[u8]) -> Value {
    if raw.len() > MAX_STRING {
        return Value::OtherStr;
    }
    Value::Str(raw.iter().map(|b| *b as char).collect::<String>().into())
}

fn number(machine: &Machine, digits: &[u8]) -> Step<Value> {
    let text = std::str::from_utf8(digits).unwrap_or("");
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit()) {
        return machine.fail(format!("INT/LONG at offset {} is not an integer", machine.op_at));
    }
    Ok(text.parse::<i64>().map_or(Value::Number, Value::Int))
}

fn decimal(machine: &Machine, line: &Line, opcode: &str) -> Step<u64> {
    let key = if line.cut { None } else { std::str::from_utf8(&line.bytes).ok() };
    match key.and_then(|s| s.trim().parse::<u64>().ok()) {
        Some(key) => Ok(key),
        None => machine.fail(format!("{opcode} at offset {} has no decimal memo key", machine.op_at)),
    }
}

/// The argument of protocol 0's STRING: a Python string literal in single or double quotes.
fn quoted_string(line: &[u8]) -> Option<Value> {
    let quote = *line.first()?;
    if line.len() < 2 || !(quote == b'\'' || quote == b'"') || line[line.len() - 1] != quote {
        return None;
    }
    let body = &line[1..line.len() - 1];
    if body.len() > 4 * MAX_STRING {
        return Some(Value::OtherStr);
    }
    let mut out = String::new();
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        i += 1;
        if b != b'\\' {
            out.push(b as char);
            continue;
        }
        let Some(&e) = body.get(i) else { return Some(Value::OtherStr) };
        i += 1;
        match e {
            b'n' => out.push('\n'),
            b't' => out.push('\t'),
            b'r' => out.push('\r'),
            b'0'..=b'7' => {
                let mut v = u32::from(e - b'0');
                while i < body.len() && body[i].is_ascii_digit() && body[i] < b'8' && v < 0o40 {
                    v = v * 8 + u32::from(body[i] - b'0');
                    i += 1;
                }
                out.push(char::from_u32(v).unwrap_or('\u{fffd}'));
            }
            b'x' => {
                let hex = body.get(i..i + 2).and_then(|h| std::str::from_utf8(h).ok());
                let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) else { return Some(Value::OtherStr) };
                i += 2;
                out.push(v as char);
            }
            b'\\' | b'\'' | b'"' => out.push(e as char),
            other => {
                out.push('\\');
                out.push(other as char);
            }
        }
    }
    Some(text(Some(&out)))
}

/// The argument of protocol 0's UNICODE: raw-unicode-escape (`\uXXXX`, `\UXXXXXXXX`).
fn raw_unicode_escape(line: &[u8]) -> Option<String> {
    if line.len() > 10 * MAX_STRING {
        return None;
    }
    let mut out = String::new();
    let mut i = 0;
    while i < line.len() {
        let b = line[i];
        let width = match (b, line.get(i + 1)) {
            (b'\\', Some(b'u')) => 4,
            (b'\\', Some(b'U')) => 8,
            _ => 0,
        };
        if width == 0 {
            out.push(b as char);
            i += 1;
            continue;
        }
        let hex = std::str::from_utf8(line.get(i + 2..i + 2 + width)?).ok()?;
        out.push(char::from_u32(u32::from_str_radix(hex, 16).ok()?)?);
        i += 2 + width;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claimed_lengths_are_not_allocated() {
        // BINUNICODE8 claiming 4 GiB
        let report = analyze(b"\x80\x04\x8d\x00\x00\x00\x00\x01\x00\x00\x00abc", GlobalsPolicy::Allow);
        assert!(!report.safe);
        assert!(report.findings[0].why.contains("truncated"), "{:?}", report.findings);
    }

    #[test]
    fn memo_assembled_names_resolve() {
        // 'os' BINPUT 0, 'system' BINPUT 1, POP POP, BINGET 0, BINGET 1, STACK_GLOBAL
        let bytes = b"\x80\x04\x8c\x02os\x94\x8c\x06system\x94\x30\x30h\x00h\x01\x93)R.";
        let report = analyze(bytes, GlobalsPolicy::Deny);
        assert_eq!(report.globals, ["os.system"]);
        assert_eq!(report.findings[0].offset, Some(22));
        assert_eq!(report.findings[0].severity, Severity::Critical);
    }

    #[test]
    fn many_globals_stay_bounded() {
        let mut bytes = Vec::new();
        for i in 0..100_000 {
            bytes.extend_from_slice(format!("cm{i}\nn\n0").as_bytes());
        }
        bytes.extend_from_slice(b"N.");
        let report = analyze(&bytes, GlobalsPolicy::Allow);
        assert_eq!(report.globals.len(), 100_000);
        assert_eq!(report.findings.len(), MAX_FINDINGS + 1);
        assert!(!report.safe);
    }

    #[test]
    fn raw_data_after_the_last_pickle_is_medium() {
        let report = analyze(b"\x80\x02N.\x06\x00\x00\x00\x00\x00\x00\x00abc", GlobalsPolicy::Allow);
        assert!(report.safe);
        assert_eq!(report.findings.len(), 1);
        assert_eq!(report.findings[0].offset, Some(4));
        // but a trailing pickle that breaks is a broken pickle
        assert!(!analyze(b"\x80\x02N.cos\nsys", GlobalsPolicy::Deny).safe);
    }

    #[test]
    fn empty_and_garbage_are_unsafe() {
        assert!(!analyze(b"", GlobalsPolicy::Deny).safe);
        assert!(!analyze(b"\xff", GlobalsPolicy::Deny).safe);
        assert!(!analyze(b"\x80\x02", GlobalsPolicy::Deny).safe);
        assert!(!analyze(b"0.", GlobalsPolicy::Deny).safe);
    }

    #[test]
    fn quoted_strings_unescape() {
        assert!(matches!(quoted_string(b"'o\\x73'"), Some(Value::Str(s)) if &*s == "os"));
        assert!(matches!(quoted_string(b"\"a\\'b\""), Some(Value::Str(s)) if &*s == "a'b"));
        assert!(quoted_string(b"'x").is_none());
    }
}
