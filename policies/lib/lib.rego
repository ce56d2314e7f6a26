# Helpers shared by every modelgate policy package: threshold look-up with
# strictest-wins semantics, building violations, and number formatting that
# renders identically under OPA and regorus.
#
# This package gates nothing: it defines neither `deny` nor `warn`.
#
# Performance notes (modelgate evaluates with regorus, a tree-walking
# interpreter; the same holds in spirit for OPA): a rule is computed once per
# evaluation and then read from a cache, while a function is evaluated afresh
# on every call; a builtin or function call costs about as much as ten
# comparisons; and an index into an index (`a[x][y]`, or into a call's result)
# is slow, so such values are bound to a variable first. The library therefore
# resolves every threshold once (see settings), and the hot paths below use
# comparisons where a builtin would do: Rego orders values of different types
# as null < booleans < numbers < strings < arrays < objects, and strings
# bytewise, so `true < x; x < ""` says x is a number, `[] <= x; x < {}` a list,
# `{} <= x` a map, and `"max_" <= key; key < "max`"` (backtick follows "_")
# that key starts with "max_".
package modelgate.lib

import rego.v1

# The environment the model is being promoted to. Undefined when the evidence
# has no `deployment` section, in which case no environment override applies.
environment := input.deployment.environment

# The model's risk tier (`low`, `medium`, `high`, `critical`).
risk_tier := input.model.risk_tier

# Severity names in increasing order of urgency.
severity_rank := {"low": 1, "medium": 2, "high": 3, "critical": 4}

# severity_rank_of(name) is severity_rank[name]. Policies use this rather
# than the rule: see "Reading lib's rules" below.
severity_rank_of(name) := severity_rank[name]

# ---------------------------------------------------------------- thresholds

# threshold(category, key) is the value of `key` that applies to this evidence,
# with where it came from:
#
#   {"value": 0.05, "source": "data.yaml: overrides.environment.production.fairness.max_demographic_parity_difference"}
#
# Candidates are the base value `data.thresholds.<category>.<key>`, the risk-tier
# override `data.overrides.risk_tier.<input.model.risk_tier>.<category>.<key>` and
# the environment override `data.overrides.environment.<input.deployment.environment>.<category>.<key>`.
# A candidate that is absent or null does not count. Among the rest the
# strictest wins:
#
#   - lists (any key): the union, as a sorted array; the source names every
#     contributing path joined with " + ";
#   - objects (any key, e.g. `min_metrics`): resolved per sub-key with the rules
#     below, applying the parent key's `max_`/`min_` prefix (see metric_threshold);
#   - `max_*` numbers: the lowest; `min_*` numbers: the highest;
#   - `max_*`/`min_*` severity names (`low` … `critical`): the lowest severity,
#     because a lower severity floor flags more findings;
#   - `require_*` booleans: `true` over `false`;
#   - anything else (or mixed types): environment override, then risk-tier
#     override, then base value.
#
# On a tie the most specific source is named (environment, then risk tier, then
# base).
#
# When the key is set nowhere, threshold(...) is UNDEFINED, so a rule that
# looks up its threshold does not fire: removing a key from data.yaml switches
# its check off. (Rules about missing evidence use `evidence_required`, which
# is false when `require_evidence` is unset.)
threshold(category, key) := {"value": resolved[key], "source": source(category, key)} if {
	resolved := _values[category]
}

# settings(category) is every resolved value of a category, {key: value}, and
# source(category, key) where one came from: threshold(category, key) is
# {"value": settings(category)[key], "source": source(category, key)}. A
# policy that checks several thresholds reads settings(...) once into a rule
# of its own (`_settings := lib.settings("fairness")`) and asks for the source
# only when it reports a violation: reading a rule is cheap, a function call
# is not, and the source strings are only built once one is asked for.
settings(category) := _values[category]

source(category, key) := _layered_source(category, key, entry) if {
	# a key an override sets
	layered := _layered[category]
	entry := layered[key]
} else := concat("", ["data.yaml: thresholds.", category, ".", key]) if {
	values := _values[category]
	values[key] != null
}

# metric_threshold(category, key, sub_key) resolves one entry of a map-valued
# key, e.g. metric_threshold("performance", "min_metrics", "accuracy") gives
# {"value": 0.80, "source": "data.yaml: thresholds.performance.min_metrics.accuracy"}.
# The parent key's prefix decides what "strictest" means (`min_metrics`: the
# highest). Undefined when the sub-key is set nowhere.
metric_threshold(category, key, sub_key) := entry if {
	# a map an override sets: resolved from all of its candidates
	layered := _layered[category]
	resolved := layered[key]
	entries := resolved.entries
	entry := entries[sub_key]
} else := {"value": value, "source": concat("", ["data.yaml: thresholds.", category, ".", key, ".", sub_key])} if {
	# a map only the base values set
	values := _base_values[category]
	map := values[key]
	{} <= map # a map
	value := map[sub_key]
}

# list_threshold(category, key) is threshold(category, key) when its value is
# a list, undefined otherwise, so a policy can iterate it safely (iterating a
# non-collection is an error in regorus). modelgate.config reports the
# misconfiguration.
list_threshold(category, key) := resolved if {
	resolved := threshold(category, key)
	is_array(resolved.value)
}

# evidence_required(category) is true when `require_evidence` resolves to true
# for this evidence. Missing evidence is then a `deny`, otherwise a `warn`.
evidence_required(category) if _values[category].require_evidence == true

# enabled(category, key) is true when the boolean setting resolves to true.
enabled(category, key) if {
	resolved := _values[category]
	resolved[key] == true
}

# violates(key, measured, limit) is true when `measured` is on the wrong side of
# the bound named by `key`: above a `max_*`, below a `min_*`. Measured values
# are compared exactly as they appear in the evidence (no arithmetic), so OPA
# and regorus agree. Both must be numbers.
violates(key, measured, limit) if {
	"max_" <= key # startswith(key, "max_")
	key < "max`"
	true < measured # numbers
	measured < ""
	true < limit
	limit < ""
	measured > limit
} else := true if {
	"min_" <= key # startswith(key, "min_")
	key < "min`"
	true < measured
	measured < ""
	true < limit
	limit < ""
	measured < limit
}

# ---------------------------------------------------------------- resolution

# Reading lib's rules: policies reach the resolved thresholds only through
# the functions above. A rule of this package read through the `lib.` import
# makes regorus compute every rule of the package, while through functions
# each rule below is computed once, when first needed.
#
# How: the base values are taken in bulk, whole documents at a time (only
# nulls, lists and maps among them are looked at one by one). For a key an
# override sets, the most specific candidate usually wins (overrides are
# there to tighten); that is checked with a few comparisons per key against
# the less specific candidates (`fast` below). Otherwise numbers, booleans and
# severity names take the min or max of the candidates (`settled`), and maps
# or candidates of mixed kinds go through _resolve, the general form of the
# rules, which names every candidate's path.

# {category: {key: value}}
_values := _base_values if {
	count(_layered) == 0 # no override applies
} else := object.union(
	json.remove(_base_values, [[category, key] | some category, keys in _layered; some key, _ in keys]),
	{category: {key: entry.value | some key, entry in keys} | some category, keys in _layered},
)

# The base values ({category: {key: value}}, maps only) and the overrides that
# apply to this evidence, in the same shape, with their paths.
_base := {name: values | some name, values in _thresholds; {} <= values}

_tier := _override("risk_tier", object.get(input, ["model", "risk_tier"], null))

_environment := _override("environment", object.get(input, ["deployment", "environment"], null))

_override(kind, name) := {"path": concat(".", ["overrides", kind, name]), "values": {category: values |
	some category, values in overrides
	{} <= values # a map
}} if {
	is_string(name)
	names := _overrides[kind]
	overrides := names[name]
	is_object(overrides)
} else := {"path": "", "values": {}}

# data.yaml's two documents, {} when absent or empty (`overrides:` alone is null).
_thresholds := value if {
	value := data.thresholds
	is_object(value)
} else := {}

_overrides := value if {
	value := data.overrides
	is_object(value)
} else := {}

# The base values as they resolve when no override sets the key: null is
# unset, a list is sorted and without duplicates, a map is resolved per
# entry, anything else is itself. Only nulls, lists and maps are looked at
# one by one.
_base_values := object.union(json.remove(_base, [[category, key] | some category, keys in special; some key in keys]), {category: object.union(
	{key: sort({v | some v in value}) | some key in keys; value := values[key]; [] <= value; value < {}},
	{key: _normalised_map(value) | some key in keys; value := values[key]; {} <= value},
) |
	some category, keys in special
	values := _base[category]
}) if {
	special := {category: [key | some key, value in values; [null < value, value < []] != [true, true]] | some category, values in _base} # null, list or map
}

# A map's entries resolved on their own: null is unset, a list is sorted and
# without duplicates.
_normalised_map(map) := object.union(
	{sub_key: value | some sub_key, value in map; value != null; [[] <= value, value < {}] != [true, true]},
	{sub_key: sort({v | some v in value}) | some sub_key, value in map; [] <= value; value < {}},
)

# The keys of each category that an override sets, resolved: {category: {key:
# entry}}, an entry being {"value"}, {"value", "lists": true} (a union) or,
# from _resolve, {"value", "source", "entries"?}.
_layered := {category: object.union_n([fast, settled, {key: _resolve(candidates) |
	some key, _ in rest
	not settled[key]
	candidates := _candidates(category, key)
	count(candidates) > 0 # not only nulls
}]) |
	some category in {name | some layer in [_tier.values, _environment.values]; some name, _ in layer}
	tier := object.get(_tier.values, category, {})
	uppers := object.union(tier, object.get(_environment.values, category, {})) # the most specific candidates

	# Each key's base and risk-tier candidates, where a layer does not set the
	# key a copy of its most specific candidate (which changes no comparison
	# below and keeps every operand defined: OPA and regorus differ on `not x < y`
	# when x is undefined).
	lower := object.union(uppers, object.get(_base, category, {}))
	middle := object.union(uppers, tier)

	# The usual case: the most specific candidate is the strictest.
	fast := object.union_n([
		# max_* numbers: no other candidate is lower
		{key: {"value": upper} |
			some key, upper in uppers
			"max_" <= key
			key < "max`"
			true < upper # a number
			upper < ""
			b := lower[key]
			t := middle[key]
			not b < upper # and so are the others, not lower
			not "" <= b
			not t < upper
			not "" <= t
		},
		# min_* numbers: no other candidate is higher
		{key: {"value": upper} |
			some key, upper in uppers
			"min_" <= key
			key < "min`"
			true < upper # a number
			upper < ""
			b := lower[key]
			t := middle[key]
			not b > upper # and so are the others, not higher
			not b <= true
			not t > upper
			not t <= true
		},
		# require_* booleans: no other candidate is true where it is false
		{key: {"value": upper} |
			some key, upper in uppers
			"require_" <= key
			key < "require`"
			null < upper # a boolean
			upper <= true
			b := lower[key]
			t := middle[key]
			not b > upper # and so are the others, not truer
			not b < false
			not t > upper
			not t < false
		},
		# lists: the union
		{key: {"value": sort({v | some values in [b, t, upper]; some v in values}), "lists": true} |
			some key, upper in uppers
			[] <= upper # a list
			upper < {}
			b := lower[key]
			t := middle[key]
			not b < [] # and so are the others
			not {} <= b
			not t < []
			not {} <= t
		},
	])

	# The rest: a less specific candidate is stricter, the values are severity
	# names, or their kinds differ.
	rest := {key: [lower[key], middle[key], upper] | some key, upper in uppers; not fast[key]}
	settled := object.union_n([
		{key: {"value": min(candidates)} |
			some key, candidates in rest
			"max_" <= key
			key < "max`"
			true < min(candidates) # numbers
			max(candidates) < ""
		},
		{key: {"value": max(candidates)} |
			some key, candidates in rest
			"min_" <= key
			key < "min`"
			true < min(candidates) # numbers
			max(candidates) < ""
		},
		{key: {"value": max(candidates)} |
			some key, candidates in rest
			"require_" <= key
			key < "require`"
			null < min(candidates) # booleans
			max(candidates) <= true
		},
		{key: {"value": name} |
			some key, candidates in rest
			_bounded(key)
			"" <= min(candidates) # strings
			max(candidates) < []
			count([c | some c in candidates; severity_rank[c]]) == 3
			lowest := min([severity_rank[c] | some c in candidates])
			some name, rank in severity_rank
			rank == lowest
		},
	])
}

# Where a value an override sets came from: the most specific layer that sets
# it to the resolved value (or each that sets a list, for a union).
_layered_source(category, key, entry) := entry.source if {
	entry.source
} else := concat("", ["data.yaml: ", concat(" + ", [concat(".", [layer.path, category, key]) |
	some layer in [{"path": "thresholds", "values": _base}, _tier, _environment]
	values := layer.values[category]
	[] <= values[key] # a list
])]) if {
	entry.lists
} else := concat("", ["data.yaml: ", _environment.path, ".", category, ".", key]) if {
	values := _environment.values[category]
	values[key] == entry.value
} else := concat("", ["data.yaml: ", _tier.path, ".", category, ".", key]) if {
	values := _tier.values[category]
	values[key] == entry.value
} else := concat("", ["data.yaml: thresholds.", category, ".", key])

_bounded(key) if {
	"max_" <= key # startswith(key, "max_")
	key < "max`"
}

_bounded(key) if {
	"min_" <= key # startswith(key, "min_")
	key < "min`"
}

# ---------------------------------------------------------------- resolution from all candidates

# The non-null values of `key`, least specific layer first:
# [{"value": 0.05, "path": ["overrides.environment.production", "fairness", "max_gap"]}, …].
_candidates(category, key) := [{"value": value, "path": [layer.path, category, key]} |
	some layer in [{"path": "thresholds", "values": _base}, _tier, _environment]
	values := layer.values[category]
	value := values[key]
	value != null
]

# A key from all of its candidates: maps per entry, anything else by
# _resolve_scalar.
_resolve(candidates) := {
	"value": {sub_key: entry.value | some sub_key, entry in entries},
	"source": _joined_source(candidates),
	"entries": entries,
} if {
	every candidate in candidates {
		is_object(candidate.value)
	}
	entries := _resolve_entries(candidates)
} else := object.union(_resolve_scalar(candidates), {"entries": _resolve_entries(candidates)}) if {
	# a map in some layers only: its entries still resolve for metric_threshold
	some candidate in candidates
	is_object(candidate.value)
} else := _resolve_scalar(candidates)

# {sub_key: {"value", "source"}} for the entries of the map-valued candidates.
_resolve_entries(candidates) := {sub_key: _resolve_scalar(sub_candidates) |
	some sub_key in {name | some candidate in candidates; is_object(candidate.value); some name, value in candidate.value; value != null}
	sub_candidates := [{"value": value, "path": array.concat(candidate.path, [sub_key])} |
		some candidate in candidates
		is_object(candidate.value)
		value := candidate.value[sub_key]
		value != null
	]
}

# The strictest of one or more candidates [{"value", "path"}], least specific
# first, so that of equal values the last is the most specific. The key is
# the last element of the first candidate's path, or the one before it for a
# map entry.
_resolve_scalar(candidates) := _named(candidates, count(candidates) - 1) if {
	# one candidate, not a list
	count(candidates) == 1
	not is_array(candidates[0].value)
} else := {"value": sort({v | some candidate in candidates; some v in candidate.value}), "source": _joined_source(candidates)} if {
	every candidate in candidates {
		is_array(candidate.value)
	}
} else := _named(candidates, max([i | some i, c in candidates; c.value == lowest])) if {
	startswith(_key(candidates), "max_")
	every candidate in candidates {
		is_number(candidate.value)
	}
	lowest := min([c.value | some c in candidates])
} else := _named(candidates, max([i | some i, c in candidates; c.value == highest])) if {
	startswith(_key(candidates), "min_")
	every candidate in candidates {
		is_number(candidate.value)
	}
	highest := max([c.value | some c in candidates])
} else := _named(candidates, max([i | some i, c in candidates; severity_rank[c.value] == lowest])) if {
	_bounded(_key(candidates))
	every candidate in candidates {
		severity_rank[candidate.value]
	}
	lowest := min([severity_rank[c.value] | some c in candidates])
} else := _named(candidates, max([i | some i, c in candidates; c.value == true])) if {
	# true over false
	startswith(_key(candidates), "require_")
	every candidate in candidates {
		is_boolean(candidate.value)
	}
	some candidate in candidates
	candidate.value == true
} else := _named(candidates, count(candidates) - 1)

# The threshold key of candidates: the third element of their path (the
# fourth is a map entry's sub-key).
_key(candidates) := path[2] if {
	path := candidates[0].path
}

_named(candidates, i) := {"value": candidate.value, "source": concat("", ["data.yaml: ", concat(".", candidate.path)])} if {
	candidate := candidates[i]
}

_joined_source(candidates) := concat("", ["data.yaml: ", concat(" + ", [concat(".", c.path) | some c in candidates])])

# ---------------------------------------------------------------- violations

# violation(catalog, code, msg, details) builds a violation object whose
# severity and remediation come from the package's catalog entry for `code`.
# A code missing from the catalog still produces a violation (severity `high`)
# rather than silently dropping it; the catalog tests catch the omission.
violation(catalog, code, msg, details) := {
	"code": code,
	"msg": msg,
	"remediation": remediation,
	"severity": severity,
	"details": details,
} if {
	# the usual case, without builtin calls
	entry := catalog[code]
	remediation := entry.remediation
	severity := entry.severity
} else := {
	"code": code,
	"msg": msg,
	"remediation": object.get(entry, "remediation", "See the policy catalog."),
	"severity": object.get(entry, "severity", "high"),
	"details": details,
} if {
	entry := object.get(catalog, code, {})
}

# threshold_details(measured, resolved) is the `details` object of a threshold
# violation: the measured value, the threshold value and where it was set.
threshold_details(measured, resolved) := {
	"measured": measured,
	"threshold": resolved.value,
	"threshold_source": resolved.source,
}

# ---------------------------------------------------------------- formatting

# num(x) renders a number for a message with at most four decimals and no
# trailing zeros: 0.23 -> "0.23", 3 -> "3", 0.000001 -> "0", 1234.56789 -> "1234.5679".
# sprintf("%v") and sprintf("%.3f") render differently under OPA (big.Float
# rounded to a 64-bit mantissa, Go formatting: "1e-06", "%!f(int=3)") and
# regorus (IEEE doubles), so
# messages use this instead. Only a value whose fifth decimal is exactly a
# rounding tie (0.12345) may round differently between the two engines; the
# numbers in `details` are never rounded.
#
# x is scaled to an integer number of ten-thousandths; the decimals are the
# last four digits of 10000 + the remainder, without trailing zeros.
num(x) := concat("", [format_int(scaled / 10000, 10), ".", substring(trim_right(format_int(10000 + (scaled % 10000), 10), "0"), 1, 4)]) if {
	true < x # a number
	x < ""
	0 <= x
	x < 100000000000
	scaled := round(x * 10000)
	scaled % 10000 != 0 # with decimals
} else := format_int(scaled / 10000, 10) if {
	true < x
	x < ""
	0 <= x
	x < 100000000000
	scaled := round(x * 10000)
} else := concat("", ["-", format_int(scaled / 10000, 10), trim_right(concat("", [".", substring(format_int(10000 + (scaled % 10000), 10), 1, 4)]), ".0")]) if {
	# negative, and not rounding to zero
	true < x
	x < 0
	x > -100000000000
	scaled := round(0 - x * 10000)
	scaled > 0
} else := "0" if {
	true < x
	x < 0
	x > -100000000000
} else := format_int(x, 10) if {
	# beyond 1e11 the scaled value would leave the range where doubles are exact
	true < x
	x < ""
}

# percent(x) renders a share (0.25) as a percentage ("25%").
percent(x) := concat("", [num(x * 100), "%"])

# ---------------------------------------------------------------- dates

# date_ns(text) parses an RFC 3339 timestamp or a bare date (`2025-01-31`,
# taken as midnight UTC) to nanoseconds. Undefined for anything else, so a
# malformed date never raises an evaluation error: the text is validated
# (including the day of the month) before the builtin sees it, because OPA
# makes a failing builtin undefined while modelgate makes it an error.
date_ns(text) := time.parse_rfc3339_ns(concat("", [text, "T00:00:00Z"])) if {
	is_string(text)
	[year, month, day] := split(text, "-") # is_date(text), inlined
	count(year) == 4
	count(month) == 2
	count(day) == 2
	trim(concat("", [year, month, day]), "0123456789") == ""
	day >= "01" # a real day (no 2025-02-29, no 2025-04-31)
	day <= _last_day(to_number(year), month)
} else := time.parse_rfc3339_ns(text) if {
	is_string(text)
	count(text) >= 20 # the shortest timestamp the pattern allows; spares the regex
	regex.match(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$`, text)
	_valid_day(substring(text, 0, 10))
}

# is_date(text) is true for a bare date `YYYY-MM-DD` (digits, not checked
# against the calendar): what `^[0-9]{4}-[0-9]{2}-[0-9]{2}$` matches, tested
# without a regex because regorus compiles a pattern afresh on every call,
# which costs as much as some forty builtin calls.
is_date(text) if {
	is_string(text)
	[year, month, day] := split(text, "-")
	count(year) == 4
	count(month) == 2
	count(day) == 2
	trim(concat("", [year, month, day]), "0123456789") == ""
}

# `YYYY-MM-DD` names a real day (no 2025-02-29, no 2025-04-31).
_valid_day(text) if {
	parts := split(text, "-")
	last := _last_day(to_number(parts[0]), parts[1])
	parts[2] >= "01"
	parts[2] <= last
}

_month_days := {
	"01": "31", "02": "28", "03": "31", "04": "30", "05": "31", "06": "30",
	"07": "31", "08": "31", "09": "30", "10": "31", "11": "30", "12": "31",
}

_last_day(year, month) := "29" if {
	month == "02"
	_leap(year)
} else := _month_days[month]

_leap(year) if {
	year % 400 == 0
}

_leap(year) if {
	year % 4 == 0
	year % 100 != 0
}

# A day in nanoseconds, and days(n) n of them (for policies, see
# severity_rank_of).
day_ns := 86400000000000

days(n) := n * day_ns
