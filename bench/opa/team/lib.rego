# Shared helpers: the thresholds that apply to a document (an environment's override
# over the base value) and how a violation is written.
package acme.lib

import rego.v1

environment := object.get(input, ["deployment", "environment"], "development")

# setting(category, key): the override for this environment, else the base value.
setting(category, key) := data.overrides[environment][category][key]

setting(category, key) := data.thresholds.acme[category][key] if {
	not data.overrides[environment][category][key]
}

violation(code, severity, msg, details) := {"code": code, "severity": severity, "msg": msg, "details": details}
