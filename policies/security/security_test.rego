package modelgate.security_test

import rego.v1

import data.modelgate.security

safetensors := {
	"path": "model/model.safetensors",
	"size": 438000000,
	"sha256": "5f2b8c1e0d4a",
	"format": "safetensors",
	"executable_serialization": false,
	"safe": true,
	"findings": [],
}

# A compliant medium-risk model on its way to staging.
base := {
	"schema_version": "1",
	"collected_at": "2025-06-01T12:00:00Z",
	"collector": {"name": "modelgate", "version": "0.1.0"},
	"model": {"name": "credit-scoring", "version": "2.3.0", "risk_tier": "medium", "task": "binary_classification"},
	"deployment": {"environment": "staging"},
	"artifacts": {
		"files": [safetensors],
		"signature": {
			"present": true,
			"verified": true,
			"method": "sigstore",
			"signer": "release-bot@example.com",
			"unsigned_files": [],
			"mismatched_files": [],
		},
		"dependencies": {"source": "requirements.txt", "packages": 42, "vulnerabilities": []},
	},
}

promoted(doc, environment, tier) := object.union(doc, {
	"deployment": {"environment": environment},
	"model": {"risk_tier": tier},
})

with_files(files) := object.union(base, {"artifacts": {"files": files}})

with_signature(signature) := object.union(base, {"artifacts": {"signature": signature}})

with_vulnerabilities(vulnerabilities) := object.union(base, {"artifacts": {"dependencies": {"vulnerabilities": vulnerabilities}}})

pickle_file(safe, findings) := {
	"path": "model/model.pkl",
	"size": 1200,
	"sha256": "aa11",
	"format": "pickle",
	"executable_serialization": true,
	"safe": safe,
	"findings": findings,
}

vulnerability(id, severity) := {
	"package": "torch",
	"version": "2.0.0",
	"id": id,
	"severity": severity,
	"fixed_version": "2.2.0",
}

codes(violations) := {v.code | some v in violations}

# ---------------------------------------------------------------- compliant

test_compliant_artifacts_have_no_findings if {
	count(security.deny) == 0 with input as base
	count(security.warn) == 0 with input as base
}

test_compliant_artifacts_pass_production_and_critical if {
	count(security.deny) == 0 with input as promoted(base, "production", "critical")
	count(security.warn) == 0 with input as promoted(base, "production", "critical")
}

# ---------------------------------------------------------------- model files

test_unsafe_pickle_is_denied_once_with_its_globals if {
	doc := with_files([safetensors, pickle_file(false, [
		{"kind": "global", "global": "os.system", "offset": 120, "severity": "critical", "why": "runs a shell command"},
		{"kind": "global", "global": "builtins.exec", "offset": 88, "severity": "critical", "why": "executes code"},
		{"kind": "opcode", "severity": "high", "why": "REDUCE on an untrusted callable"},
	])])
	denied := security.deny with input as doc
	count(denied) == 1
	some v in denied
	v.code == "security/unsafe-artifact"
	v.severity == "critical"
	v.details.file == "model/model.pkl"
	v.details.globals == ["builtins.exec", "os.system"]
	count(v.details.findings) == 3
	v.msg == "model/model.pkl (pickle) is unsafe to load: imports builtins.exec, os.system."
}

test_unsafe_file_without_globals_explains_why if {
	doc := with_files([pickle_file(false, [{"kind": "container", "severity": "high", "why": "zip entry outside the archive"}])])
	some v in security.deny with input as doc
	v.code == "security/unsafe-artifact"
	v.details.globals == []
	v.msg == "model/model.pkl (pickle) is unsafe to load: zip entry outside the archive."
}

test_safe_pickle_is_denied_by_default if {
	doc := with_files([pickle_file(true, [{"kind": "global", "global": "collections.OrderedDict", "severity": "low", "why": "allowed"}])])
	some v in security.deny with input as doc
	v.code == "security/executable-serialization"
	v.details.file == "model/model.pkl"
	v.details.measured == "pickle"
	v.details.globals == ["collections.OrderedDict"]
	v.details.threshold_source == "data.yaml: thresholds.security.require_safe_serialization"
	not "security/unsafe-artifact" in codes(security.deny) with input as doc
}

test_safe_pickle_is_a_warning_when_allowed if {
	doc := with_files([pickle_file(true, [])])
	count(security.deny) == 0 with input as doc with data.thresholds.security.require_safe_serialization as false
	some v in security.warn with input as doc with data.thresholds.security.require_safe_serialization as false
	v.code == "security/executable-serialization"
	v.details.blocking == false
}

unscanned_file := {
	"path": "model/weights.bin",
	"format": "unknown",
	"sha256": "00",
	"size": 10,
	"executable_serialization": false,
	"safe": false,
	"findings": [{"kind": "unscanned", "severity": "high", "why": "of no format the scanner knows"}],
}

test_an_unscanned_file_blocks_by_default_and_is_not_an_unsafe_artifact if {
	doc := with_files([unscanned_file])
	some v in security.deny with input as doc
	v.code == "security/unscanned-file"
	v.details.file == "model/weights.bin"
	v.details.blocking == true
	not "security/unsafe-artifact" in codes(security.deny) with input as doc
}

test_an_unscanned_file_blocks_when_data_yaml_does_not_say if {
	doc := with_files([unscanned_file])
	without := json.remove(data.thresholds.security, ["require_scanned_files"])
	some v in security.deny with input as doc with data.thresholds.security as without
	v.code == "security/unscanned-file"
	v.details.blocking == true
}

test_an_unscanned_file_is_a_warning_when_allowed if {
	doc := with_files([unscanned_file])
	count(security.deny) == 0 with input as doc with data.thresholds.security.require_scanned_files as false
	some v in security.warn with input as doc with data.thresholds.security.require_scanned_files as false
	v.code == "security/unscanned-file"
}

test_an_unscanned_file_with_a_dangerous_finding_is_unsafe if {
	file := object.union(unscanned_file, {"findings": array.concat(
		unscanned_file.findings,
		[{"kind": "global", "global": "os.system", "severity": "critical", "why": "deny list"}],
	)})
	some v in security.deny with input as object.union(with_files([file]), {}) with data.thresholds.security.require_scanned_files as false
	v.code == "security/unsafe-artifact"
}

test_an_executable_file_with_an_unscanned_member_is_still_executable if {
	file := object.union(unscanned_file, {"format": "pytorch-zip", "executable_serialization": true})
	some v in security.deny with input as with_files([file]) with data.thresholds.security.require_scanned_files as false
	v.code == "security/executable-serialization"
}

test_an_unsafe_file_without_findings_is_still_unsafe if {
	file := object.union(unscanned_file, {"findings": []})
	some v in security.deny with input as with_files([file])
	v.code == "security/unsafe-artifact"
}

test_no_scanned_files_is_missing_evidence if {
	doc := object.union(object.union(base, {"artifacts": {"files": null}}), {"artifacts": {"files": []}})
	some v in security.warn with input as doc
	v.code == "security/evidence-missing"
	v.details.section == "artifacts.files"
}

# ---------------------------------------------------------------- signature

test_missing_signature_warns_in_staging_denies_in_production if {
	doc := object.union(base, {"artifacts": {"signature": null}})
	count(security.deny) == 0 with input as doc
	some v in security.warn with input as doc
	v.code == "security/signature-missing"
	v.details.blocking == false
	some w in security.deny with input as promoted(doc, "production", "low")
	w.code == "security/signature-missing"
	w.details.threshold_source == "data.yaml: overrides.environment.production.security.require_signature"
}

test_signature_not_present_is_missing if {
	doc := with_signature({"present": false, "verified": false})
	"security/signature-missing" in codes(security.deny) with input as promoted(doc, "staging", "high")
	not "security/signature-invalid" in codes(security.deny) with input as doc
}

test_signature_that_does_not_verify_is_denied if {
	doc := with_signature({"verified": false, "error": "certificate identity does not match"})
	some v in security.deny with input as doc
	v.code == "security/signature-invalid"
	v.severity == "critical"
	v.details.error == "certificate identity does not match"
	v.details.signer == "release-bot@example.com"
	v.msg == "The model signature does not verify: certificate identity does not match."
}

test_digest_mismatch_is_critical_per_file if {
	doc := with_signature({"verified": false, "mismatched_files": ["model/model.safetensors", "model/tokenizer.json"]})
	denied := security.deny with input as doc
	{v.details.file | some v in denied; v.code == "security/digest-mismatch"} == {"model/model.safetensors", "model/tokenizer.json"}
	some v in denied
	v.code == "security/digest-mismatch"
	v.details.file == "model/model.safetensors"
	v.severity == "critical"
	v.details.measured == "5f2b8c1e0d4a"

	# explained by the changed files: not reported as a bad signature as well
	not "security/signature-invalid" in codes(denied)
}

test_unsigned_files_warn_in_staging_deny_for_high_risk if {
	doc := with_signature({"unsigned_files": ["model/extra.bin"]})
	count(security.deny) == 0 with input as doc
	some v in security.warn with input as doc
	v.code == "security/unsigned-files"
	v.details.file == "model/extra.bin"
	some w in security.deny with input as promoted(doc, "staging", "high")
	w.code == "security/unsigned-files"
	w.details.blocking == true
}

# ---------------------------------------------------------------- dependencies

test_high_vulnerability_is_denied_with_its_severity if {
	doc := with_vulnerabilities([vulnerability("GHSA-aaaa", "critical")])
	some v in security.deny with input as doc
	v.code == "security/vulnerable-dependency"
	v.severity == "critical"
	v.details.id == "GHSA-aaaa"
	v.details.measured == "critical"
	v.details.threshold == "high"
	v.details.fixed_version == "2.2.0"
	v.msg == "torch 2.0.0 has critical vulnerability GHSA-aaaa (fixed in 2.2.0)."
}

test_vulnerability_at_threshold_is_denied if {
	doc := with_vulnerabilities([vulnerability("GHSA-bbbb", "high")])
	some v in security.deny with input as doc
	v.code == "security/vulnerable-dependency"
	v.severity == "high"
}

test_vulnerability_below_threshold_is_a_warning if {
	doc := with_vulnerabilities([object.union(vulnerability("GHSA-cccc", "medium"), {"fixed_version": null})])
	count(security.deny) == 0 with input as doc
	some v in security.warn with input as doc
	v.code == "security/vulnerability-below-threshold"
	v.severity == "low"
	v.msg == "torch 2.0.0 has medium vulnerability GHSA-cccc (no fixed version yet)."
}

test_high_risk_tier_blocks_medium_vulnerabilities if {
	doc := with_vulnerabilities([vulnerability("GHSA-cccc", "medium")])
	some v in security.deny with input as promoted(doc, "staging", "high")
	v.code == "security/vulnerable-dependency"
	v.details.threshold == "medium"
	v.details.threshold_source == "data.yaml: overrides.risk_tier.high.security.min_vulnerability_severity"
}

test_unknown_severity_floor_blocks_everything if {
	doc := with_vulnerabilities([vulnerability("GHSA-dddd", "low")])
	some v in security.deny with input as doc with data.thresholds.security.min_vulnerability_severity as "severe"
	v.code == "security/vulnerable-dependency"
	v.details.threshold == "severe"
}

test_unset_severity_floor_switches_the_check_off if {
	doc := with_vulnerabilities([vulnerability("GHSA-eeee", "critical")])
	count(security.deny) == 0 with input as doc with data.thresholds.security.min_vulnerability_severity as null
	count(security.warn) == 0 with input as doc with data.thresholds.security.min_vulnerability_severity as null
}

with_unpinned(requirements) := object.union(base, {"artifacts": {"dependencies": {"unpinned": requirements}}})

test_unpinned_requirement_warns_by_default if {
	doc := with_unpinned(["numpy >=1.26"])
	count(security.deny) == 0 with input as doc
	some v in security.warn with input as doc
	v.code == "security/unpinned-dependency"
	v.msg == "numpy >=1.26 is not pinned to one version, so what will be installed cannot be checked."
	v.details.blocking == false
}

test_unpinned_requirement_blocks_in_production if {
	doc := with_unpinned(["torch (any version)"])
	some v in security.deny with input as promoted(doc, "production", "low")
	v.code == "security/unpinned-dependency"
	v.details.measured == "torch (any version)"
	v.details.threshold_source == "data.yaml: overrides.environment.production.security.require_pinned_dependencies"
}

test_missing_dependency_scan_is_reported if {
	doc := object.union(base, {"artifacts": {"dependencies": null}})
	some v in security.warn with input as doc
	v.code == "security/evidence-missing"
	v.details.section == "artifacts.dependencies"
	some w in security.deny with input as promoted(doc, "production", "low")
	w.details.section == "artifacts.dependencies"
}

test_an_empty_dependency_list_is_no_audit if {
	doc := object.union(base, {"artifacts": {"dependencies": {"packages": 0}}})
	some v in security.warn with input as doc
	v.code == "security/evidence-missing"
	v.details.section == "artifacts.dependencies.packages"
	v.msg == "The dependency list requirements.txt names no Python package, so no dependency was checked for vulnerabilities."
	some w in security.deny with input as promoted(doc, "production", "low")
	w.details.section == "artifacts.dependencies.packages"
}

# ---------------------------------------------------------------- missing evidence

test_missing_artifacts_warns_in_staging if {
	doc := object.union(base, {"artifacts": null})
	count(security.deny) == 0 with input as doc
	warned := security.warn with input as doc
	count(warned) == 1
	some v in warned
	v.code == "security/evidence-missing"
	v.details.section == "artifacts"
	v.details.required == false
}

test_missing_artifacts_denies_for_critical_risk if {
	doc := promoted(object.union(base, {"artifacts": null}), "staging", "critical")
	denied := security.deny with input as doc
	count(denied) == 1
	some v in denied
	v.code == "security/evidence-missing"
	v.details.required == true
	v.details.threshold_source == "data.yaml: overrides.risk_tier.critical.security.require_evidence"
}

# ---------------------------------------------------------------- catalog

everything_wrong := object.union(base, {"artifacts": {
	"files": [
		pickle_file(false, [{"kind": "global", "global": "os.system", "severity": "critical", "why": "shell"}]),
		object.union(pickle_file(true, []), {"path": "model/weights.pt", "format": "pytorch-zip"}),
		unscanned_file,
	],
	"signature": {"verified": false, "mismatched_files": ["model/model.pkl"], "unsigned_files": ["model/extra.bin"]},
	"dependencies": {
		"vulnerabilities": [vulnerability("GHSA-1", "critical"), vulnerability("GHSA-2", "low")],
		"unpinned": ["numpy >=1.26"],
	},
}})

bad_signature := with_signature({"verified": false, "error": "bad"})

unsigned := object.union(base, {"artifacts": {"signature": null, "dependencies": null}})

emitted := codes(security.deny) | codes(security.warn)

test_every_catalog_code_is_emitted_by_some_case if {
	from_wrong := emitted with input as everything_wrong
	from_bad_signature := emitted with input as bad_signature
	from_unsigned := emitted with input as unsigned
	found := (from_wrong | from_bad_signature) | from_unsigned
	found == {code | some code, _ in security.catalog}
}

test_every_emitted_code_is_in_the_catalog if {
	docs := [everything_wrong, bad_signature, unsigned, object.union(base, {"artifacts": null}), promoted(everything_wrong, "production", "critical")]
	every doc in docs {
		found := emitted with input as doc
		every code in found {
			security.catalog[code]
		}
	}
}

test_catalog_entries_are_complete if {
	every code, entry in security.catalog {
		startswith(code, "security/")
		regex.match(`^[a-z]+/[a-z0-9]+(-[a-z0-9]+)*$`, code)
		entry.severity in {"low", "medium", "high", "critical"}
		count(entry.title) > 0
		count(entry.description) > 0
		count(entry.remediation) > 0
	}
}

test_violations_have_the_contract_shape if {
	denied := security.deny with input as everything_wrong
	warned := security.warn with input as everything_wrong
	count(denied) > 0
	count(warned) > 0
	every v in denied | warned {
		is_string(v.code)
		is_string(v.msg)
		is_string(v.remediation)
		v.severity in {"low", "medium", "high", "critical"}
		is_object(v.details)
	}
}
