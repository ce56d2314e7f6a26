//! The pickle machine on real pickles written by tests/fixtures/pickle/generate.py:
//! every fixture's verdict under both policies, the globals it names, and the byte
//! offset (from pickletools) of the opcode each finding points at.

use std::collections::BTreeMap;
use std::path::PathBuf;

use modelgate::artifacts::pickle::{analyze, GlobalsPolicy, PickleReport};
use modelgate::evidence::Severity;
use serde::Deserialize;

#[derive(Deserialize)]
struct Expected {
    safe_allow: bool,
    safe_deny: bool,
    pickles: usize,
    globals: Vec<GlobalOp>,
}

#[derive(Deserialize)]
struct GlobalOp {
    /// `None` where the opcode cannot be resolved statically.
    name: Option<String>,
    opcode: String,
    offset: u64,
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pickle")
}

fn expected() -> BTreeMap<String, Expected> {
    let text = std::fs::read_to_string(fixtures().join("expected.json")).expect("expected.json");
    serde_json::from_str(&text).expect("expected.json parses")
}

fn scan(name: &str, policy: GlobalsPolicy) -> PickleReport {
    analyze(&std::fs::read(fixtures().join(name)).expect("fixture"), policy)
}

const BENIGN: &[&str] = &[
    "numpy-dict-p2.pkl",
    "numpy-dict-p4.pkl",
    "numpy-dict-p5.pkl",
    "plain-data-p0.pkl",
    "plain-data-p5.pkl",
    "ordereddict-state-dict.pkl",
    "torch-state-dict.pkl",
];

#[test]
fn every_fixture_is_listed_and_checked() {
    let expected = expected();
    assert!(expected.len() >= 30, "{} fixtures", expected.len());
    for name in BENIGN {
        assert!(expected[*name].safe_allow, "{name}");
    }
}

#[test]
fn benign_files_are_safe_with_no_findings_under_the_allow_policy() {
    for name in BENIGN {
        let report = scan(name, GlobalsPolicy::Allow);
        assert!(report.safe, "{name}: {:#?}", report.findings);
        assert!(report.findings.is_empty(), "{name}: {:#?}", report.findings);
        assert_eq!(report.pickles, 1, "{name}");
    }
}

#[test]
fn verdicts_match_under_both_policies() {
    for (name, want) in expected() {
        let allow = scan(&name, GlobalsPolicy::Allow);
        let deny = scan(&name, GlobalsPolicy::Deny);
        assert_eq!(allow.safe, want.safe_allow, "{name} (allow): {:#?}", allow.findings);
        assert_eq!(deny.safe, want.safe_deny, "{name} (deny): {:#?}", deny.findings);
        if !matches!(name.as_str(), "truncated.pkl" | "unknown-opcode.pkl" | "memo-miss.pkl") {
            assert_eq!(allow.pickles, want.pickles, "{name}");
        }
    }
}

#[test]
fn globals_are_resolved_in_order_with_their_offsets() {
    for (name, want) in expected() {
        let report = scan(&name, GlobalsPolicy::Allow);
        let mut names: Vec<String> = Vec::new();
        for op in &want.globals {
            if let Some(n) = &op.name {
                if !names.contains(n) {
                    names.push(n.clone());
                }
            }
        }
        assert_eq!(report.globals, names, "{name}");
        for op in &want.globals {
            match &op.name {
                // every global the allow list does not cover has a finding at its opcode
                Some(global) if !report.safe => {
                    let on_list =
                        BENIGN.iter().any(|b| expected()[*b].globals.iter().any(|g| g.name.as_ref() == Some(global)));
                    if !on_list {
                        assert!(
                            report
                                .findings
                                .iter()
                                .any(|f| f.global.as_ref() == Some(global) && f.offset == Some(op.offset)),
                            "{name}: no finding for {global} ({}) at {}: {:#?}",
                            op.opcode,
                            op.offset,
                            report.findings
                        );
                    }
                }
                Some(_) => {}
                None => assert!(
                    report.findings.iter().any(|f| f.offset == Some(op.offset)
                        && f.severity == Severity::Critical
                        && f.why.starts_with("unresolvable global")),
                    "{name}: no unresolvable finding at {}: {:#?}",
                    op.offset,
                    report.findings
                ),
            }
        }
    }
}

fn critical(report: &PickleReport, global: &str) -> bool {
    report.findings.iter().any(|f| f.global.as_deref() == Some(global) && f.severity == Severity::Critical)
}

#[test]
fn denied_globals_are_critical_under_both_policies() {
    let cases = [
        ("os-system-reduce.pkl", "posix.system"),
        ("eval-inst-p0.pkl", "builtins.eval"),
        ("eval-obj-p1.pkl", "builtins.eval"),
        ("getattr-chain.pkl", "builtins.getattr"),
        ("getattr-chain.pkl", "builtins.__import__"),
        ("stack-global-memo.pkl", "os.system"),
        ("newobj-popen.pkl", "subprocess.Popen"),
        ("benign-then-malicious.pkl", "posix.system"),
        ("hidden-after-stop.pkl", "os.system"),
        ("pip-main.pkl", "pip.main"),
        ("torch-hub-load.pkl", "torch.hub.load"),
        ("runpy.pkl", "runpy._run_code"),
        ("asyncio-subprocess.pkl", "asyncio.subprocess.create_subprocess_shell"),
        ("io-open.pkl", "_io.open"),
        ("numpy-runstring.pkl", "numpy.testing._private.utils.runstring"),
        ("methodcaller.pkl", "operator.methodcaller"),
        ("functools-partial.pkl", "functools.partial"),
        ("functools-partial.pkl", "posix.system"),
        ("builtin-exec-p0.pkl", "builtins.exec"),
        ("memo-mixed-put-memoize.pkl", "os.system"),
        ("memo-out-of-order.pkl", "os.system"),
        ("build-setattr-global.pkl", "numpy.prod"),
    ];
    for (name, global) in cases {
        for policy in [GlobalsPolicy::Allow, GlobalsPolicy::Deny] {
            let report = scan(name, policy);
            assert!(critical(&report, global), "{name} {policy:?}: {global} not critical: {:#?}", report.findings);
        }
    }
}

#[test]
fn unknown_globals_are_high_only_under_the_allow_policy() {
    let allow = scan("unknown-global.pkl", GlobalsPolicy::Allow);
    assert_eq!(allow.findings.len(), 1, "{:#?}", allow.findings);
    assert_eq!(allow.findings[0].severity, Severity::High);
    assert_eq!(allow.findings[0].global.as_deref(), Some("collections.Counter"));
    assert!(scan("unknown-global.pkl", GlobalsPolicy::Deny).findings.is_empty());
}

#[test]
fn a_second_pickle_is_scanned_and_its_offset_noted() {
    let report = scan("hidden-after-stop.pkl", GlobalsPolicy::Deny);
    assert_eq!(report.pickles, 2);
    assert_eq!(report.protocol, Some(4));
    let second = expected()["hidden-after-stop.pkl"].globals.last().expect("a global").offset;
    assert!(report
        .findings
        .iter()
        .any(|f| f.kind == "pickle" && f.offset == Some(second) && f.why.contains("another pickle")));
}

#[test]
fn calling_a_call_result_is_unresolvable() {
    // operator.methodcaller('system', 'id') is itself called: what it calls is not a named global
    let report = scan("methodcaller.pkl", GlobalsPolicy::Deny);
    assert!(report
        .findings
        .iter()
        .any(|f| f.why.starts_with("unresolvable global: REDUCE calls the result of calling")));
    let report = scan("getattr-chain.pkl", GlobalsPolicy::Deny);
    assert!(report.findings.iter().any(|f| f.why.contains("calls the result of calling builtins.getattr")));
}

#[test]
fn broken_pickles_are_unsafe_with_the_reason() {
    for (name, reason) in
        [("truncated.pkl", "truncated"), ("unknown-opcode.pkl", "unknown opcode 0xff"), ("memo-miss.pkl", "memo miss")]
    {
        for policy in [GlobalsPolicy::Allow, GlobalsPolicy::Deny] {
            let report = scan(name, policy);
            assert!(!report.safe, "{name}");
            assert!(
                report
                    .findings
                    .iter()
                    .any(|f| f.kind == "pickle" && f.severity >= Severity::High && f.why.contains(reason)),
                "{name}: {:#?}",
                report.findings
            );
        }
    }
}

#[test]
fn protocols_are_reported() {
    assert_eq!(scan("plain-data-p0.pkl", GlobalsPolicy::Allow).protocol, Some(0));
    assert_eq!(scan("eval-obj-p1.pkl", GlobalsPolicy::Allow).protocol, Some(1));
    assert_eq!(scan("numpy-dict-p2.pkl", GlobalsPolicy::Allow).protocol, Some(2));
    assert_eq!(scan("numpy-dict-p5.pkl", GlobalsPolicy::Allow).protocol, Some(5));
}

#[test]
fn every_prefix_of_every_fixture_is_judged_without_panicking() {
    for (name, want) in expected() {
        let bytes = std::fs::read(fixtures().join(&name)).expect("fixture");
        for end in 0..bytes.len() {
            let report = analyze(&bytes[..end], GlobalsPolicy::Allow);
            if end > 0 && bytes[end - 1] == b'.' && report.pickles > 0 {
                continue; // cut right after a STOP: a whole pickle
            }
            if want.safe_allow && report.pickles == want.pickles {
                continue; // every pickle is whole; the cut is in the raw data after them
            }
            assert!(!report.safe, "{name}[..{end}] is not a whole pickle but was judged safe");
        }
    }
}

#[test]
fn legacy_torch_files_are_five_pickles_and_raw_storages() {
    let report = scan("legacy-torch.pt", GlobalsPolicy::Allow);
    assert!(report.safe, "{:#?}", report.findings);
    assert_eq!(report.pickles, 5);
    assert_eq!(report.globals, ["collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch.FloatStorage"]);
    // four "another pickle" notes and the raw storage bytes, all medium
    assert_eq!(report.findings.len(), 5, "{:#?}", report.findings);
    assert!(report.findings.iter().all(|f| f.severity == Severity::Medium));
    assert!(report.findings.last().is_some_and(|f| f.why.contains("not a pickle")));
}

#[test]
fn every_single_byte_mutation_is_judged_without_panicking() {
    for name in ["os-system-reduce.pkl", "stack-global-memo.pkl", "eval-inst-p0.pkl", "plain-data-p5.pkl"] {
        let bytes = std::fs::read(fixtures().join(name)).expect("fixture");
        for at in 0..bytes.len() {
            let mut mutated = bytes.clone();
            for value in 0..=255u8 {
                mutated[at] = value;
                for policy in [GlobalsPolicy::Allow, GlobalsPolicy::Deny] {
                    let report = analyze(&mutated, policy);
                    assert!(!report.safe || report.pickles > 0, "{name} byte {at} = {value}");
                }
            }
        }
    }
}

#[test]
fn build_on_a_global_itself_is_critical() {
    let report = scan("build-setattr-global.pkl", GlobalsPolicy::Deny);
    let builds: Vec<_> = report.findings.iter().filter(|f| f.kind == "opcode" && f.why.starts_with("BUILD")).collect();
    assert_eq!(builds.len(), 2, "{:#?}", report.findings);
    assert!(builds.iter().all(|f| f.severity == Severity::Critical && f.global.as_deref() == Some("numpy.prod")));
}
