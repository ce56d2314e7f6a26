# Group fairness of the candidate model, from evaluation.fairness: one entry
# per sensitive attribute ("sex") or intersection ("race,sex"), each with
# per-group counts and fairlearn-style aggregates.
package modelgate.fairness

import rego.v1

import data.modelgate.lib

catalog := {
	"fairness/demographic-parity-difference": {
		"title": "Demographic parity difference",
		"description": "The largest gap in selection rate (share of positive predictions) between groups of a sensitive attribute exceeds the maximum.",
		"severity": "high",
		"remediation": "Rebalance or reweight the training data for the disadvantaged group, or apply a fairness-constrained training or post-processing method (fairlearn ExponentiatedGradient, ThresholdOptimizer), then re-evaluate.",
	},
	"fairness/demographic-parity-ratio": {
		"title": "Demographic parity ratio",
		"description": "The lowest group selection rate divided by the highest is below the minimum (the four-fifths rule at 0.8).",
		"severity": "high",
		"remediation": "Raise the selection rate of the lowest group (reweighting, group-aware thresholds) or lower that of the highest, then re-evaluate.",
	},
	"fairness/equalized-odds-difference": {
		"title": "Equalized odds difference",
		"description": "The largest gap in true- or false-positive rate between groups exceeds the maximum.",
		"severity": "high",
		"remediation": "Check the error rates per group in the fairness report; collect more labelled data for the group with the worst rates or post-process with an equalized-odds constraint.",
	},
	"fairness/equalized-odds-ratio": {
		"title": "Equalized odds ratio",
		"description": "The smallest ratio of true- or false-positive rates between groups is below the minimum.",
		"severity": "high",
		"remediation": "Check the error rates per group in the fairness report; collect more labelled data for the group with the worst rates or post-process with an equalized-odds constraint.",
	},
	"fairness/equal-opportunity-difference": {
		"title": "Equal opportunity difference",
		"description": "The largest gap in true-positive rate (recall) between groups exceeds the maximum.",
		"severity": "high",
		"remediation": "Improve recall for the group with the lowest true-positive rate (more positive examples, group-aware thresholds), then re-evaluate.",
	},
	"fairness/small-group": {
		"title": "Group below the minimum size",
		"description": "A group has fewer test rows than the minimum group size, so its rates and the aggregates that use them are unreliable.",
		"severity": "medium",
		"remediation": "Evaluate on a larger or stratified test set so every group reaches the minimum size, or merge the group with a documented justification.",
	},
	"fairness/metric-unavailable": {
		"title": "Fairness metric could not be computed",
		"description": "A fairness aggregate with a configured threshold is null in the evidence (for example a rate over a group with no positives), so the check could not run.",
		"severity": "medium",
		"remediation": "See the reason in the details; usually the test set lacks positives or members of a group. Use a test set where every group has both labels.",
	},
	"fairness/group-excluded": {
		"title": "Group left out of a fairness check",
		"description": "A group's rate is undefined on the test set (for example a true-positive rate for a group with no positive labels), so an aggregate with a threshold was computed without that group and the check does not cover it.",
		"severity": "medium",
		"remediation": "Evaluate on a test set where every group has both labels (stratify by group and label), so every group's rates are defined and checked.",
	},
	"fairness/evidence-missing": {
		"title": "Fairness evidence missing",
		"description": "The evidence has no fairness section (evaluation.fairness is null or empty), so no fairness check ran.",
		"severity": "high",
		"remediation": "Declare the sensitive attributes in modelgate.toml [fairness] and run `modelgate check` (or `modelgate fairness`) on a test set that contains them.",
	},
}

# The aggregates checked per fairness entry, with their threshold key and code.
aggregates := {
	"demographic_parity_difference": {"key": "max_demographic_parity_difference", "code": "fairness/demographic-parity-difference", "label": "Demographic parity difference"},
	"demographic_parity_ratio": {"key": "min_demographic_parity_ratio", "code": "fairness/demographic-parity-ratio", "label": "Demographic parity ratio"},
	"equalized_odds_difference": {"key": "max_equalized_odds_difference", "code": "fairness/equalized-odds-difference", "label": "Equalized odds difference"},
	"equalized_odds_ratio": {"key": "min_equalized_odds_ratio", "code": "fairness/equalized-odds-ratio", "label": "Equalized odds ratio"},
	"equal_opportunity_difference": {"key": "max_equal_opportunity_difference", "code": "fairness/equal-opportunity-difference", "label": "Equal opportunity difference"},
}

# The fairness entries, {} when the section is missing.
_entries := entries if {
	entries := input.evaluation.fairness
	is_object(entries)
} else := {}

_has_evidence if count(_entries) > 0

# The resolved thresholds, read once per evaluation: {key: value}. Their
# sources are looked up only for a violation (lib.source).
_settings := lib.settings("fairness")

# ---------------------------------------------------------------- aggregates
#
# The checks below compare with `<` and `>` directly, as lib.violates does:
# `true < x; x < ""` says x is a number (see the performance notes in lib).

deny contains violation if {
	settings := _settings
	sides := _sides
	some attribute, entry in _entries
	some field, spec in aggregates
	point := entry[field]
	limit := settings[spec.key]
	true < point # numbers
	point < ""
	true < limit
	limit < ""
	side := sides[field]
	judged := _judged(attribute, field, point, side)
	measured := judged.value
	side.sign * measured > side.sign * limit # above a maximum; below a minimum, as -x > -limit
	violation := lib.violation(
		catalog,
		spec.code,
		sprintf("%s for %s is %s%s, %s of %s.", [spec.label, attribute, lib.num(measured), judged.note, side.words, lib.num(limit)]),
		object.union(judged.details, {
			"measured": measured,
			"threshold": limit,
			"threshold_source": lib.source("fairness", spec.key),
			"attribute": attribute,
			"groups": _group_summaries[attribute],
		}),
	)
}

# The value an aggregate is judged on: its point estimate or, with
# judge_confidence_bound, the pessimistic end of its bootstrap interval (the
# upper end for a maximum, the lower end for a minimum) when the evidence has one.
_judged(attribute, field, point, side) := judged if {
	_settings.judge_confidence_bound == true
	intervals := input.evaluation.intervals
	bound := intervals.fairness[attribute][field][side.end]
	true < bound # a number
	bound < ""
	on := sprintf("%s end of the %s bootstrap interval", [side.end, lib.percent(intervals.level)])
	judged := {
		"value": bound,
		"details": {"judged_on": on, "point_estimate": point},
		"note": sprintf(" (%s; point estimate %s)", [on, lib.num(point)]),
	}
} else := {"value": point, "details": {}, "note": ""}

_sides := {field: side |
	some field, spec in aggregates
	side := _side(spec.key)
}

_side(key) := {"sign": 1, "words": "above the maximum", "end": "upper"} if {
	"max_" <= key # startswith(key, "max_")
	key < "max`"
} else := {"sign": -1, "words": "below the minimum", "end": "lower"} if {
	"min_" <= key
	key < "min`"
}

# A null aggregate with a configured threshold is reported, never passed in silence.
warn contains violation if {
	settings := _settings
	checks := aggregates
	some attribute, entry in _entries
	some field, spec in checks
	object.get(entry, field, null) == null # absent or null
	limit := settings[spec.key]
	reason := object.get(object.get(entry, "reasons", {}), field, "no reason given")
	violation := lib.violation(
		catalog,
		"fairness/metric-unavailable",
		sprintf("%s for %s could not be computed (%s), so it was not checked against the %s of %s.", [
			spec.label,
			attribute,
			reason,
			_bound(spec.key),
			lib.num(limit),
		]),
		{
			"measured": null,
			"threshold": limit,
			"threshold_source": lib.source("fairness", spec.key),
			"attribute": attribute,
			"metric": field,
			"reason": reason,
		},
	)
}

# ---------------------------------------------------------------- group size

# An aggregate with a threshold that left groups out (their rate is undefined).
warn contains violation if {
	settings := _settings
	some attribute, entry in _entries
	excluded := entry.excluded
	{} <= excluded # a map
	some field, groups in excluded
	count(groups) > 0
	spec := aggregates[field]
	limit := settings[spec.key]
	violation := lib.violation(
		catalog,
		"fairness/group-excluded",
		sprintf("%s for %s was computed without %s: their rate is undefined on the test set, so the %s of %s does not cover them.", [
			spec.label,
			attribute,
			concat(", ", groups),
			_bound(spec.key),
			lib.num(limit),
		]),
		{
			"measured": groups,
			"threshold": limit,
			"threshold_source": lib.source("fairness", spec.key),
			"attribute": attribute,
			"metric": field,
		},
	)
}

warn contains violation if {
	limit := _settings.min_group_size
	true < limit # a number
	limit < ""
	some attribute, entry in _entries
	groups := entry.groups
	{} <= groups # a map
	some group, stats in groups
	measured := stats.count
	true < measured # a number
	measured < ""
	measured < limit
	violation := lib.violation(
		catalog,
		"fairness/small-group",
		sprintf("Group %s of %s has %s test rows, below the minimum group size of %s; its rates are unreliable.", [
			group,
			attribute,
			lib.num(measured),
			lib.num(limit),
		]),
		{
			"measured": measured,
			"threshold": limit,
			"threshold_source": lib.source("fairness", "min_group_size"),
			"attribute": attribute,
			"group": group,
		},
	)
}

# ---------------------------------------------------------------- missing evidence

deny contains _missing_evidence if {
	not _has_evidence
	lib.evidence_required("fairness")
}

warn contains _missing_evidence if {
	not _has_evidence
	not lib.evidence_required("fairness")
}

_missing_evidence := lib.violation(
	catalog,
	"fairness/evidence-missing",
	"The evidence has no fairness results (evaluation.fairness is missing), so group fairness was not checked.",
	{
		"measured": null,
		"section": "evaluation.fairness",
		"required": _required_setting.value,
		"threshold_source": _required_setting.source,
	},
)

_required_setting := lib.threshold("fairness", "require_evidence") if {
	lib.threshold("fairness", "require_evidence")
} else := {"value": false, "source": "default (require_evidence is not set)"}

# ---------------------------------------------------------------- helpers

_bound(key) := "maximum" if {
	"max_" <= key # startswith(key, "max_")
	key < "max`"
} else := "minimum" if {
	"min_" <= key
	key < "min`"
}

# {attribute: {group: count}}, so a report shows which groups the aggregate
# compares; computed once, when a violation first needs it.
_group_summaries := {attribute: {group: stats.count | some group, stats in entry.groups} | some attribute, entry in _entries}
