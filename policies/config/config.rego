# Checks of data.yaml itself. A threshold of the wrong type (a quoted number,
# "yes" for a boolean) or an override for a risk tier that does not exist
# would silently switch a check off; this package blocks every deployment
# until data.yaml is fixed, so a configuration mistake fails closed.
#
# modelgate refuses such a data.yaml before evaluating anything (it checks
# data.yaml against data.schema.json and the declared environments); these
# rules keep the same mistakes from passing where the library runs under OPA
# itself.
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

# Performance: these checks run on every evaluation, over every setting, so
# each is one pass over data.yaml that rejects a valid setting with a few
# comparisons; only a setting that fails them is looked at closely and turned
# into a path and a message. Comparisons stand in for startswith() and the
# is_*() builtins, which regorus (modelgate's engine) charges as much as
# thirty comparisons: strings compare bytewise ("`" follows "_", so `"max_" <=
# key; key < "max`"` is startswith(key, "max_")), and values of different
# types compare as null < booleans < numbers < strings < arrays < objects.

# The documents of settings in data.yaml: the base values and each override,
# as {"path": "thresholds" or "overrides.<kind>.<name>", "categories": {…}}.
_scopes := array.concat(_base_scope, _override_scopes)

_base_scope := [{"path": "thresholds", "categories": _base_scope_values}] if {
	_base_scope_values
} else := []

_base_scope_values := thresholds if {
	thresholds := data.thresholds
	is_object(thresholds)
}

_override_scopes := [{"path": concat(".", ["overrides", kind, name]), "name": name, "categories": categories} |
	is_object(data.overrides)
	some kind in ["environment", "risk_tier"]
	scopes := object.get(data.overrides, kind, {})
	is_object(scopes)
	some name, categories in scopes
	is_object(categories)
]

# max_*/min_* settings that are not numbers: invalid unless null, a severity
# name or a map of numbers.
deny contains _invalid(concat(".", [scope.path, category, key]), value, _bound_expected) if {
	some scope in _scopes
	some category, settings in scope.categories
	{} <= settings # a map
	some key, value in settings
	[true < value, value < ""] != [true, true] # not a number
	"max_" <= key # max_* or min_*: from "max_" up to "min`", except from
	key < "min`" # "max`" up to "min_"
	["max`" <= key, key < "min_"] != [true, true]
	not _valid_bound(value)
}

# require_* settings that are neither booleans nor null.
deny contains _invalid(concat(".", [scope.path, category, key]), value, "true or false") if {
	some scope in _scopes
	some category, settings in scope.categories
	{} <= settings # a map
	some key, value in settings
	true < value # not null or a boolean
	"require_" <= key # startswith(key, "require_")
	key < "require`"
}

# fairness.judge_confidence_bound, anywhere, that is not a boolean or null.
deny contains _invalid(concat(".", [scope.path, "fairness.judge_confidence_bound"]), value, "true or false") if {
	some scope in _scopes
	value := scope.categories.fairness.judge_confidence_bound
	true < value # not null or a boolean
}

_bound_expected := "a number, a severity name or a map of numbers"

_invalid(path, value, expected) := lib.violation(
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

# An override must have the type of the base value it overrides (a list for
# a list, a number for a number): policies skip values of an unexpected type.
# The type is compared with the boundaries between types, after a quicker
# test for the usual pair of numbers.
deny contains _invalid(concat(".", [scope.path, category, key]), value, sprintf("a %s like thresholds.%s.%s", [_type_label(base), category, key])) if {
	not _unusual
	thresholds := _base_scope_values
	some scope in _override_scopes
	some category, settings in scope.categories
	bases := thresholds[category]
	{} <= bases # a map
	{} <= settings
	some key, value in settings
	base := bases[key]
	base != null
	value != null
	[true < value, value < "", true < base, base < ""] != [true, true, true, true] # not two numbers
	[null < value, true < value, "" <= value, [] <= value, {} <= value] != [null < base, true < base, "" <= base, [] <= base, {} <= base]
	not _problem(key, value)
}

# The same check as first written, for the unusual data.yaml whose override
# names or categories contain a dot (which shifts the category read from the
# setting's path) or whose thresholds document is not a map (an error, as it
# was).
deny contains _invalid(path, value, expected) if {
	_unusual
	some scope in _override_scopes
	some category, settings in scope.categories
	is_object(settings)
	some key, value in settings
	path := concat(".", [scope.path, category, key])
	not _problem(key, value)
	value != null
	parts := split(path, ".")
	base := object.get(data.thresholds, [parts[3], key], null)
	base != null
	type_name(value) != type_name(base)
	expected := sprintf("a %s like thresholds.%s.%s", [_type_label(base), parts[3], key])
}

_unusual if contains(concat(",", array.concat(
	[scope.name | some scope in _override_scopes],
	[category | some scope in _override_scopes; some category, _ in scope.categories],
)), ".")

_unusual if {
	thresholds := data.thresholds
	not is_object(thresholds)
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

_problem(key, value) := _bound_expected if {
	_bounded(key)
	not _valid_bound(value)
} else := "true or false" if {
	startswith(key, "require_")
	not is_boolean(value)
	value != null
}

_bounded(key) if startswith(key, "max_")

_bounded(key) if startswith(key, "min_")

_valid_bound(value) if {
	is_number(value)
} else if {
	value == null
} else if {
	lib.severity_rank_of(value)
} else if {
	is_object(value)
	every _, entry in value {
		_valid_entry(entry)
	}
}

_valid_entry(entry) if is_number(entry)

_valid_entry(entry) if entry == null
