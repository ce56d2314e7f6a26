# Supply-chain security of the model artifacts, from the `artifacts` section:
# serialization scan of the model files, signature verification and
# vulnerable dependencies.
package modelgate.security

import rego.v1

import data.modelgate.lib

catalog := {
	"security/unsafe-artifact": {
		"title": "Unsafe model file",
		"description": "The scanner found code that would run when the file is loaded (dangerous pickle globals or opcodes, an unexpected container).",
		"severity": "critical",
		"remediation": "Do not load the file. Re-export the model from a trusted training run in a safe format (safetensors, ONNX), and find out how the dangerous content got in.",
	},
	"security/executable-serialization": {
		"title": "Executable serialization format",
		"description": "A model file uses a format that can run code when loaded (pickle, PyTorch .pt/.bin, joblib), even though the scan found nothing dangerous in it.",
		"severity": "high",
		"remediation": "Save the weights as safetensors (`safetensors.torch.save_file`) or export to ONNX, and load them without pickle.",
	},
	"security/unscanned-file": {
		"title": "Model file not scanned",
		"description": "A file in the model folder is of no format the scanner reads (not a model format, text, an image or an archive it opens), so what loading it would run was not checked.",
		"severity": "high",
		"remediation": "Remove the file from the model folder, or store it in a format the scanner reads (safetensors, ONNX, GGUF, text, zip/tar/gzip). To accept unscanned files as warnings, set thresholds.security.require_scanned_files: false.",
	},
	"security/signature-missing": {
		"title": "Model not signed",
		"description": "The model folder has no signature, so nobody can verify that the deployed files are the ones that were reviewed.",
		"severity": "high",
		"remediation": "Sign the model in the release pipeline (`modelgate sign`, or OpenSSF model_signing with Sigstore) and keep the signature next to the model.",
	},
	"security/signature-invalid": {
		"title": "Signature does not verify",
		"description": "The model has a signature but it does not verify (wrong key or identity, corrupt signature, untrusted certificate).",
		"severity": "critical",
		"remediation": "Treat the model as tampered with until shown otherwise: check the error in the details, the signer identity and the trust root, and re-sign from a trusted build.",
	},
	"security/digest-mismatch": {
		"title": "Model file differs from the signed manifest",
		"description": "A file's digest differs from the one recorded in the signed manifest: the file was changed after signing.",
		"severity": "critical",
		"remediation": "Treat the file as tampered with: restore it from the signed release, or re-sign after reviewing why it changed.",
	},
	"security/unsigned-files": {
		"title": "Files outside the signed manifest",
		"description": "The model folder contains files that the signature does not cover, so they could have been added after signing.",
		"severity": "high",
		"remediation": "Remove the extra files, or re-sign the folder so that the manifest covers them.",
	},
	"security/vulnerable-dependency": {
		"title": "Vulnerable dependency",
		"description": "A dependency of the serving environment has a known vulnerability at or above min_vulnerability_severity. The violation's severity is the advisory's.",
		"severity": "high",
		"remediation": "Upgrade the package to the fixed version shown in the details (or remove it) and regenerate the lock file.",
	},
	"security/vulnerability-below-threshold": {
		"title": "Low-severity vulnerable dependency",
		"description": "A dependency has a known vulnerability below min_vulnerability_severity: reported, not blocking.",
		"severity": "low",
		"remediation": "Plan the upgrade to the fixed version shown in the details.",
	},
	"security/unpinned-dependency": {
		"title": "Unpinned dependency",
		"description": "A requirement of the serving environment does not pin one version (`numpy>=1.26`, no version at all, a URL or an editable install), so what will be installed, and whether it is vulnerable, cannot be known.",
		"severity": "medium",
		"remediation": "Pin every requirement to one version (`name==X.Y.Z`, e.g. with `pip-compile` or `uv pip compile`), or ship the lock file, and re-run the gate.",
	},
	"security/evidence-missing": {
		"title": "Security evidence missing",
		"description": "The evidence has no artifacts section, no scanned model files or no dependency scan, so supply-chain checks did not run.",
		"severity": "high",
		"remediation": "Point modelgate.toml [artifacts] at the model folder and the dependency lock file, and run `modelgate check` (or `modelgate scan`).",
	},
}

# The resolved thresholds, read once per evaluation: {key: value}. Their
# sources are looked up only for a violation (lib.source, _setting).
_settings := lib.settings("security")

_artifacts := section if {
	section := input.artifacts
	is_object(section)
}

_files := files if {
	files := _artifacts.files
	is_array(files)
} else := []

# ---------------------------------------------------------------- model files

deny contains violation if {
	some file in _files
	file.safe == false
	not _only_unscanned(file)
	globals := _globals(file)
	violation := lib.violation(
		catalog,
		"security/unsafe-artifact",
		sprintf("%s (%s) is unsafe to load: %s.", [file.path, file.format, _finding_summary(file, globals)]),
		{
			"measured": false,
			"threshold": true,
			"file": file.path,
			"format": file.format,
			"sha256": file.sha256,
			"globals": globals,
			"findings": [_finding(finding) | some finding in file.findings],
		},
	)
}

deny contains violation if {
	_safe_serialization_required
	some violation in _executable_files
}

warn contains violation if {
	not _safe_serialization_required
	some violation in _executable_files
}

_safe_serialization_required if _settings.require_safe_serialization == true # as lib.enabled(…)

# Unsafe only because the scanner could not read it: security/unscanned-file says so,
# under its own setting. Any other reason (or none given) is an unsafe artifact.
_only_unscanned(file) if {
	some finding in file.findings
	finding.kind == "unscanned"
	every other in file.findings {
		_unscanned_or_minor(other)
	}
}

_unscanned_or_minor(finding) if finding.kind == "unscanned"

# Safe, or unsafe only for what was not scanned: an executable format still needs its own
# rule (a PyTorch zip with an unscanned member is both).
_safe_but_for_unscanned(file) if file.safe == true

_safe_but_for_unscanned(file) if _only_unscanned(file)

_unscanned_or_minor(finding) if not finding.severity in {"high", "critical"}

deny contains violation if {
	not _unscanned_allowed
	some violation in _unscanned_files
}

warn contains violation if {
	_unscanned_allowed
	some violation in _unscanned_files
}

# Unscanned files block unless the team says otherwise, also when data.yaml does not set the key.
_unscanned_allowed if _settings.require_scanned_files == false # as lib.enabled(…)

_unscanned_files := {violation |
	some file in _files
	some finding in file.findings
	finding.kind == "unscanned"
	setting := _setting_or("require_scanned_files", true)
	violation := lib.violation(
		catalog,
		"security/unscanned-file",
		sprintf("%s (%s) was not scanned: %s.", [file.path, file.format, finding.why]),
		{
			"measured": file.format,
			"threshold": "a format the scanner reads",
			"threshold_source": setting.source,
			"blocking": setting.value,
			"file": file.path,
			"sha256": file.sha256,
		},
	)
}

# Executable formats the scanner found nothing wrong with (unsafe files are
# reported above, once per file).
_executable_files := {violation |
	some file in _files
	file.executable_serialization == true
	_safe_but_for_unscanned(file)
	setting := _setting("require_safe_serialization")
	violation := lib.violation(
		catalog,
		"security/executable-serialization",
		sprintf("%s is stored as %s, a format that can run code when loaded.", [file.path, file.format]),
		{
			"measured": file.format,
			"threshold": "a format that cannot run code (safetensors, onnx, gguf)",
			"threshold_source": setting.source,
			"blocking": setting.value,
			"file": file.path,
			"sha256": file.sha256,
			"globals": _globals(file),
		},
	)
}

# The distinct globals the scanner saw, sorted.
_globals(file) := sort({g | some finding in file.findings; g := finding.global; is_string(g)})

_finding(finding) := {
	"kind": finding.kind,
	"global": object.get(finding, "global", null),
	"severity": finding.severity,
	"why": finding.why,
}

_finding_summary(file, globals) := concat("", ["imports ", concat(", ", globals)]) if {
	count(globals) > 0
} else := file.findings[0].why if {
	count(file.findings) > 0
} else := "the scanner marked it unsafe"

# ---------------------------------------------------------------- signature

_signature := signature if {
	signature := _artifacts.signature
	is_object(signature)
}

_signed if _signature.present == true

deny contains violation if {
	_signature_required
	some violation in _signature_missing
}

warn contains violation if {
	not _signature_required
	some violation in _signature_missing
}

_signature_required if _settings.require_signature == true # as lib.enabled(…)

_signature_missing := {violation |
	_artifacts
	not _signed
	setting := _setting("require_signature")
	violation := lib.violation(
		catalog,
		"security/signature-missing",
		"The model is not signed, so its files cannot be verified.",
		{
			"measured": false,
			"threshold": true,
			"threshold_source": setting.source,
			"blocking": setting.value,
		},
	)
}

# A failed verification explained by changed files is reported per file
# (security/digest-mismatch) rather than twice.
deny contains violation if {
	_signed
	_signature.verified == false
	count(object.get(_signature, "mismatched_files", [])) == 0
	violation := lib.violation(
		catalog,
		"security/signature-invalid",
		sprintf("The model signature does not verify: %s.", [_text_or(object.get(_signature, "error", null), "no reason given")]),
		{
			"measured": false,
			"threshold": true,
			"method": object.get(_signature, "method", null),
			"signer": object.get(_signature, "signer", null),
			"error": object.get(_signature, "error", null),
		},
	)
}

deny contains violation if {
	_signed
	some path in object.get(_signature, "mismatched_files", [])
	violation := lib.violation(
		catalog,
		"security/digest-mismatch",
		sprintf("%s differs from the digest recorded in the signed manifest.", [path]),
		{
			"measured": _sha256_of(path),
			"threshold": "the digest in the signed manifest",
			"file": path,
			"signer": object.get(_signature, "signer", null),
		},
	)
}

deny contains violation if {
	_signature_required
	some violation in _unsigned
}

warn contains violation if {
	not _signature_required
	some violation in _unsigned
}

_unsigned := {violation |
	_signed
	some path in object.get(_signature, "unsigned_files", [])
	setting := _setting("require_signature")
	violation := lib.violation(
		catalog,
		"security/unsigned-files",
		sprintf("%s is not covered by the model signature.", [path]),
		{
			"measured": path,
			"threshold": "every file in the signed manifest",
			"threshold_source": setting.source,
			"blocking": setting.value,
			"file": path,
		},
	)
}

_sha256_of(path) := file.sha256 if {
	some file in _files
	file.path == path
} else := null

# ---------------------------------------------------------------- dependencies

_dependencies := dependencies if {
	dependencies := _artifacts.dependencies
	is_object(dependencies)
}

# The severity floor as set in data.yaml; its source is looked up only for a
# violation.
_severity_floor := _settings.min_vulnerability_severity

# A floor that is not a severity name reads as the strictest (every advisory
# blocks) rather than switching the check off.
_floor_rank := rank if {
	rank := lib.severity_rank_of(_severity_floor)
} else := 1 if {
	_severity_floor != null
}

_blocking(vulnerability) if {
	lib.severity_rank_of(vulnerability.severity) >= _floor_rank
}

deny contains violation if {
	some vulnerability in _dependencies.vulnerabilities
	_blocking(vulnerability)
	violation := object.union(
		_vulnerability_violation("security/vulnerable-dependency", vulnerability),
		{"severity": vulnerability.severity},
	)
}

warn contains violation if {
	_floor_rank
	some vulnerability in _dependencies.vulnerabilities
	not _blocking(vulnerability)
	violation := _vulnerability_violation("security/vulnerability-below-threshold", vulnerability)
}

_vulnerability_violation(code, vulnerability) := lib.violation(
	catalog,
	code,
	sprintf("%s %s has %s vulnerability %s%s.", [
		vulnerability.package,
		vulnerability.version,
		vulnerability.severity,
		vulnerability.id,
		_fix_hint(object.get(vulnerability, "fixed_version", null)),
	]),
	{
		"measured": vulnerability.severity,
		"threshold": _severity_floor,
		"threshold_source": lib.source("security", "min_vulnerability_severity"),
		"package": vulnerability.package,
		"version": vulnerability.version,
		"id": vulnerability.id,
		"fixed_version": object.get(vulnerability, "fixed_version", null),
		"summary": object.get(vulnerability, "summary", null),
		"source": _dependencies.source,
	},
)

deny contains violation if {
	_pinning_required
	some violation in _unpinned
}

warn contains violation if {
	not _pinning_required
	some violation in _unpinned
}

_pinning_required if _settings.require_pinned_dependencies == true # as lib.enabled(…)

_unpinned := {violation |
	some requirement in object.get(_dependencies, "unpinned", [])
	setting := _setting("require_pinned_dependencies")
	violation := lib.violation(
		catalog,
		"security/unpinned-dependency",
		sprintf("%s is not pinned to one version, so what will be installed cannot be checked.", [requirement]),
		{
			"measured": requirement,
			"threshold": "name==version",
			"threshold_source": setting.source,
			"blocking": setting.value,
			"source": _dependencies.source,
		},
	)
}

_fix_hint(version) := concat("", [" (fixed in ", version, ")"]) if {
	is_string(version)
} else := " (no fixed version yet)"

# ---------------------------------------------------------------- missing evidence

_missing contains "artifacts" if not _artifacts

_missing contains "artifacts.files" if {
	_artifacts
	count(_files) == 0
}

_missing contains "artifacts.dependencies" if {
	_artifacts
	not _dependencies
}

# A dependency list that names no package audited nothing: an empty
# requirements.txt is not a clean audit.
_missing contains "artifacts.dependencies.packages" if {
	_dependencies.packages == 0
}

deny contains violation if {
	_evidence_required
	some section in _missing
	violation := _missing_evidence(section)
}

warn contains violation if {
	not _evidence_required
	some section in _missing
	violation := _missing_evidence(section)
}

_evidence_required if _settings.require_evidence == true # as lib.evidence_required(…)

_missing_evidence(section) := lib.violation(
	catalog,
	"security/evidence-missing",
	_missing_message(section),
	{
		"measured": null,
		"section": section,
		"required": _setting("require_evidence").value,
		"threshold_source": _setting("require_evidence").source,
	},
)

_missing_message(section) := "The evidence has no artifacts section, so the model files, signature and dependencies were not checked." if {
	section == "artifacts"
} else := "No model files were scanned (artifacts.files is empty), so unsafe serialization was not checked." if {
	section == "artifacts.files"
} else := sprintf("The dependency list %s names no Python package, so no dependency was checked for vulnerabilities.", [_dependencies.source]) if {
	section == "artifacts.dependencies.packages"
} else := "The evidence has no dependency scan (artifacts.dependencies), so vulnerable dependencies were not checked."

# ---------------------------------------------------------------- helpers

# A boolean setting with where it came from; false when set nowhere.
_setting(key) := _setting_or(key, false)

_setting_or(key, default_value) := lib.threshold("security", key) if {
	lib.threshold("security", key)
} else := {"value": default_value, "source": sprintf("default (%s is not set)", [key])}

_text_or(value, fallback) := value if {
	is_string(value)
	value != ""
} else := fallback
