# Helpers shared by every modelgate policy package: threshold look-up with
# strictest-wins semantics, building violations, and number formatting that
# renders identically under OPA and regorus.
#
# This package gates nothing: it defines neither `deny` nor `warn`.
package modelgate.lib

import rego.v1

# The environment the model is being promoted to. Undefined when the evidence
# has no `deployment` section, in which case no environment override applies.
environment := input.deployment.environment

# The model's risk tier (`low`, `medium`, `high`, `critical`).
risk_tier := input.model.risk_tier

# Severity names in increasing order of urgency.
severity_rank := {"low": 1, "medium": 2, "high": 3, "critical": 4}

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
threshold(category, key) := _resolve(key, _candidates([category, key]))

# metric_threshold(category, key, sub_key) resolves one entry of a map-valued
# key, e.g. metric_threshold("performance", "min_metrics", "accuracy") gives
# {"value": 0.80, "source": "data.yaml: thresholds.performance.min_metrics.accuracy"}.
# The parent key's prefix decides what "strictest" means (`min_metrics`: the
# highest). Undefined when the sub-key is set nowhere.
metric_threshold(category, key, sub_key) := _resolve_scalar(key, _candidates([category, key, sub_key]))

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
evidence_required(category) if threshold(category, "require_evidence").value == true

# enabled(category, key) is true when the boolean setting resolves to true.
enabled(category, key) if threshold(category, key).value == true

# violates(key, measured, limit) is true when `measured` is on the wrong side of
# the bound named by `key`: above a `max_*`, below a `min_*`. Measured values
# are compared exactly as they appear in the evidence (no arithmetic), so OPA
# and regorus agree.
violates(key, measured, limit) if {
	startswith(key, "max_")
	is_number(measured)
	is_number(limit)
	measured > limit
}

violates(key, measured, limit) if {
	startswith(key, "min_")
	is_number(measured)
	is_number(limit)
	measured < limit
}

_candidates(path) := array.concat(array.concat(_base(path), _risk_tier_override(path)), _environment_override(path))

# data.yaml's two documents, {} when absent or empty (`overrides:` alone is null).
_thresholds := value if {
	value := data.thresholds
	is_object(value)
} else := {}

_overrides := value if {
	value := data.overrides
	is_object(value)
} else := {}

_base(path) := [candidate |
	value := object.get(_thresholds, path, null)
	value != null
	candidate := {"value": value, "path": concat(".", array.concat(["thresholds"], path)), "rank": 0}
]

_risk_tier_override(path) := [candidate |
	tier := input.model.risk_tier
	is_string(tier)
	full := array.concat(["risk_tier", tier], path)
	value := object.get(_overrides, full, null)
	value != null
	candidate := {"value": value, "path": concat(".", array.concat(["overrides"], full)), "rank": 1}
]

_environment_override(path) := [candidate |
	env := input.deployment.environment
	is_string(env)
	full := array.concat(["environment", env], path)
	value := object.get(_overrides, full, null)
	value != null
	candidate := {"value": value, "path": concat(".", array.concat(["overrides"], full)), "rank": 2}
]

_resolve(key, candidates) := {"value": value, "source": _joined_source(candidates)} if {
	count(candidates) > 0
	every candidate in candidates {
		is_object(candidate.value)
	}
	sub_keys := {sub_key | some candidate in candidates; some sub_key, _ in candidate.value}
	value := {sub_key: resolved.value |
		some sub_key in sub_keys
		resolved := _resolve_scalar(key, _sub_candidates(candidates, sub_key))
	}
} else := _resolve_scalar(key, candidates)

_sub_candidates(candidates, sub_key) := [sub |
	some candidate in candidates
	value := object.get(candidate.value, sub_key, null)
	value != null
	sub := {"value": value, "path": concat(".", [candidate.path, sub_key]), "rank": candidate.rank}
]

_resolve_scalar(key, candidates) := _pick(_kind(key, [c.value | some c in candidates]), candidates) if {
	count(candidates) > 0
}

_kind(key, values) := "list" if {
	every value in values {
		is_array(value)
	}
} else := "lowest" if {
	startswith(key, "max_")
	every value in values {
		is_number(value)
	}
} else := "highest" if {
	startswith(key, "min_")
	every value in values {
		is_number(value)
	}
} else := "lowest-severity" if {
	_bounded(key)
	every value in values {
		severity_rank[value]
	}
} else := "true-wins" if {
	startswith(key, "require_")
	every value in values {
		is_boolean(value)
	}
} else := "precedence"

_bounded(key) if startswith(key, "max_")

_bounded(key) if startswith(key, "min_")

_pick(kind, candidates) := {"value": sort([v | some v in values]), "source": _joined_source(candidates)} if {
	kind == "list"
	values := {v | some candidate in candidates; some v in candidate.value}
}

_pick(kind, candidates) := _most_specific([c | some c in candidates; c.value == lowest]) if {
	kind == "lowest"
	lowest := min([c.value | some c in candidates])
}

_pick(kind, candidates) := _most_specific([c | some c in candidates; c.value == highest]) if {
	kind == "highest"
	highest := max([c.value | some c in candidates])
}

_pick(kind, candidates) := _most_specific([c | some c in candidates; severity_rank[c.value] == lowest]) if {
	kind == "lowest-severity"
	lowest := min([severity_rank[c.value] | some c in candidates])
}

_pick(kind, candidates) := _most_specific(trues) if {
	kind == "true-wins"
	trues := [c | some c in candidates; c.value == true]
	count(trues) > 0
}

_pick(kind, candidates) := _most_specific(candidates) if {
	kind == "true-wins"
	every c in candidates {
		c.value == false
	}
}

_pick(kind, candidates) := _most_specific(candidates) if {
	kind == "precedence"
}

# The candidate from the most specific source (ranks are unique per look-up).
_most_specific(candidates) := {"value": candidate.value, "source": concat("", ["data.yaml: ", candidate.path])} if {
	top := max([c.rank | some c in candidates])
	some candidate in candidates
	candidate.rank == top
}

_joined_source(candidates) := concat("", ["data.yaml: ", concat(" + ", [c.path | some c in candidates])])

# ---------------------------------------------------------------- violations

# violation(catalog, code, msg, details) builds a violation object whose
# severity and remediation come from the package's catalog entry for `code`.
# A code missing from the catalog still produces a violation (severity `high`)
# rather than silently dropping it; the catalog tests catch the omission.
violation(catalog, code, msg, details) := {
	"code": code,
	"msg": msg,
	"remediation": object.get(object.get(catalog, code, {}), "remediation", "See the policy catalog."),
	"severity": object.get(object.get(catalog, code, {}), "severity", "high"),
	"details": details,
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
# sprintf("%v") and sprintf("%.3f") render differently under OPA (arbitrary
# precision, Go formatting: "1e-06", "%!f(int=3)") and regorus (IEEE doubles), so
# messages use this instead. Only a value whose fifth decimal is exactly a
# rounding tie (0.12345) may round differently between the two engines; the
# numbers in `details` are never rounded.
num(x) := concat("", [_sign(x, scaled), format_int(scaled / 10000, 10), _fraction(scaled % 10000)]) if {
	is_number(x)
	abs(x) < 100000000000
	scaled := round(abs(x) * 10000)
}

# Beyond 1e11 the scaled value would leave the range where doubles are exact.
num(x) := format_int(x, 10) if {
	is_number(x)
	abs(x) >= 100000000000
}

# percent(x) renders a share (0.25) as a percentage ("25%").
percent(x) := concat("", [num(x * 100), "%"])

_sign(x, scaled) := "-" if {
	x < 0
	scaled > 0
} else := ""

_fraction(fraction) := "" if {
	fraction == 0
} else := concat("", [".", trim_right(_pad4(format_int(fraction, 10)), "0")])

_pad4(digits) := concat("", [substring("0000", 0, 4 - count(digits)), digits])

# ---------------------------------------------------------------- dates

# date_ns(text) parses an RFC 3339 timestamp or a bare date (`2025-01-31`,
# taken as midnight UTC) to nanoseconds. Undefined for anything else, so a
# malformed date never raises an evaluation error: the text is validated
# (including the day of the month) before the builtin sees it, because OPA
# makes a failing builtin undefined while modelgate makes it an error.
date_ns(text) := time.parse_rfc3339_ns(concat("", [text, "T00:00:00Z"])) if {
	is_string(text)
	regex.match(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`, text)
	_valid_day(text)
}

date_ns(text) := time.parse_rfc3339_ns(text) if {
	is_string(text)
	regex.match(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$`, text)
	_valid_day(substring(text, 0, 10))
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

# A day in nanoseconds.
day_ns := 86400000000000
