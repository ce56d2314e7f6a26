# Checks of data.yaml itself. A threshold of the wrong type (a quoted number,
# "yes" for a boolean) or an override for a risk tier that does not exist
# would silently switch a check off; this package blocks every deployment
# until data.yaml is fixed, so a configuration mistake fails closed.
package modelgate.config

import rego.v1

import data.modelgate.lib

catalog := {
	"config/invalid-setting": {
		"title": "Invalid setting in data.yaml",
		"description": "A max_*/min_* setting is not a number (or a severity name, or a map of numbers), or a require_* setting is not true or false, so the check it controls could not run.",
		"severity": "critical",
		"remediation": "Fix the value in the policy repository's data.yaml (numbers unquoted, booleans as true/false) and run `modelgate policy test`.",
	},
	"config/unknown-risk-tier": {
		"title": "Override for an unknown risk tier",
		"description": "data.yaml has overrides for a risk tier other than low, medium, high or critical, so they never apply.",
		"severity": "high",
		"remediation": "Rename the override to one of the risk tiers low, medium, high or critical.",
	},
}

risk_tiers := {"low", "medium", "high", "critical"}

# [path, key, value] of every setting in data.yaml.
_settings contains [concat(".", ["thresholds", category, key]), key, value] if {
	is_object(data.thresholds)
	some category, settings in data.thresholds
	is_object(settings)
	some key, value in settings
}

_settings contains [concat(".", ["overrides", kind, name, category, key]), key, value] if {
	is_object(data.overrides)
	some kind in ["environment", "risk_tier"]
	scopes := object.get(data.overrides, kind, {})
	is_object(scopes)
	some name, categories in scopes
	is_object(categories)
	some category, settings in categories
	is_object(settings)
	some key, value in settings
}

deny contains violation if {
	some [path, key, value] in _settings
	expected := _problem(key, value)
	violation := lib.violation(
		catalog,
		"config/invalid-setting",
		sprintf("data.yaml: %s is %s, but it must be %s; the check it controls cannot run.", [path, json.marshal(value), expected]),
		{
			"measured": value,
			"threshold": expected,
			"threshold_source": concat("", ["data.yaml: ", path]),
			"setting": path,
		},
	)
}

# An override must have the type of the base value it overrides (a list for
# a list, a number for a number): policies skip values of an unexpected type.
deny contains violation if {
	some [path, key, value] in _settings
	startswith(path, "overrides.")
	not _problem(key, value)
	value != null
	parts := split(path, ".")
	base := object.get(data.thresholds, [parts[3], key], null)
	base != null
	type_name(value) != type_name(base)
	expected := sprintf("a %s like thresholds.%s.%s", [_type_label(base), parts[3], key])
	violation := lib.violation(
		catalog,
		"config/invalid-setting",
		sprintf("data.yaml: %s is %s, but it must be %s; the check it controls cannot run.", [path, json.marshal(value), expected]),
		{
			"measured": value,
			"threshold": expected,
			"threshold_source": concat("", ["data.yaml: ", path]),
			"setting": path,
		},
	)
}

_type_label(value) := "list" if {
	is_array(value)
} else := "map" if {
	is_object(value)
} else := type_name(value)

deny contains violation if {
	is_object(data.overrides)
	tiers := object.get(data.overrides, "risk_tier", {})
	is_object(tiers)
	some tier, _ in tiers
	not tier in risk_tiers
	violation := lib.violation(
		catalog,
		"config/unknown-risk-tier",
		sprintf("data.yaml: overrides.risk_tier.%s names no risk tier (low, medium, high, critical), so it never applies.", [tier]),
		{
			"measured": tier,
			"threshold": ["critical", "high", "low", "medium"],
			"threshold_source": concat("", ["data.yaml: overrides.risk_tier.", tier]),
		},
	)
}

_problem(key, value) := "a number, a severity name or a map of numbers" if {
	_bounded(key)
	not _valid_bound(value)
} else := "true or false" if {
	startswith(key, "require_")
	not is_boolean(value)
	value != null
}

_bounded(key) if startswith(key, "max_")

_bounded(key) if startswith(key, "min_")

_valid_bound(value) if is_number(value)

_valid_bound(value) if value == null

_valid_bound(value) if lib.severity_rank[value]

_valid_bound(value) if {
	is_object(value)
	every _, entry in value {
		_valid_entry(entry)
	}
}

_valid_entry(entry) if is_number(entry)

_valid_entry(entry) if entry == null
