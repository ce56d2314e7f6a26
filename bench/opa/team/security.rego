package modelgate.acme.security

import data.acme.lib
import rego.v1

artifacts := object.get(input, "artifacts", {})

# 22. no unsafe model files
deny contains lib.violation("acme-security/unsafe-file", "critical",
	sprintf("%s would run code when loaded", [file.path]), {"path": file.path, "format": file.format}) if {
	some file in artifacts.files
	file.safe == false
}

# 23. only approved formats
warn contains lib.violation("acme-security/format-not-approved", "low",
	sprintf("%s is in the format %s, which is not on the approved list", [file.path, file.format]),
	{"path": file.path, "format": file.format}) if {
	some file in artifacts.files
	not file.format in lib.setting("security", "allowed_formats")
}

# 24. signed
deny contains lib.violation("acme-security/not-signed", "high", "the model folder is not signed", {}) if {
	artifacts.signature.present == false
}

# 25. signature verified and complete
deny contains lib.violation("acme-security/signature-incomplete", "high",
	sprintf("%d files are not covered by the signature", [count(artifacts.signature.unsigned_files)]),
	{"files": artifacts.signature.unsigned_files}) if {
	count(artifacts.signature.unsigned_files) > 0
}

# 26. no blocked vulnerabilities
deny contains lib.violation("acme-security/vulnerability", "high",
	sprintf("%s %s has %s (%s)", [vulnerability.package, vulnerability.version, vulnerability.id, vulnerability.severity]),
	{"package": vulnerability.package, "id": vulnerability.id, "fixed_version": vulnerability.fixed_version}) if {
	some vulnerability in artifacts.dependencies.vulnerabilities
	vulnerability.severity in lib.setting("security", "blocked_severities")
}
