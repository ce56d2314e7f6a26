# The training data behind the candidate model, from the `data` section:
# schema validation, prohibited-data detections, lineage and drift.
package modelgate.data

import rego.v1

import data.modelgate.lib

catalog := {
	"data/schema-violation": {
		"title": "Data schema violation",
		"description": "The training table fails a check of its declared schema (required column, type, range, uniqueness, null rate, …).",
		"severity": "high",
		"remediation": "Fix the rows or the pipeline step that produced them (see field, check and failing rows in the details), or update the schema if it is wrong, then re-run `modelgate check`.",
	},
	"data/prohibited-category": {
		"title": "Prohibited data in the training set",
		"description": "A column's values match a category of data the organisation prohibits in training data (national identifiers, payment cards, …).",
		"severity": "critical",
		"remediation": "Remove or irreversibly pseudonymise the column upstream, retrain on the cleaned data and delete copies of the raw data as your data-protection policy requires.",
	},
	"data/prohibited-category-suspected": {
		"title": "Possible prohibited data",
		"description": "A column matches a prohibited category by name, or in too few sampled values to block (at most max_prohibited_match_fraction).",
		"severity": "medium",
		"remediation": "Check the column: if it holds prohibited data, remove it; if not, rename it or record why it is safe.",
	},
	"data/required-step-missing": {
		"title": "Required preprocessing step missing",
		"description": "The training data's lineage does not include a step the organisation requires (deduplication, PII removal, …).",
		"severity": "high",
		"remediation": "Add the step to the data pipeline (DVC stage, OpenLineage job) under the required name and rebuild the training data.",
	},
	"data/lineage-stale": {
		"title": "Stale lineage",
		"description": "The recorded output of the final pipeline stage differs from the training file: the data was changed outside the pipeline or the pipeline was not re-run.",
		"severity": "medium",
		"remediation": "Re-run the pipeline (`dvc repro`) so the training file is the recorded output, and commit the updated lock file.",
	},
	"data/drift-share": {
		"title": "Too many drifted features",
		"description": "The share of features whose serving distribution drifted from training exceeds max_drifted_share.",
		"severity": "high",
		"remediation": "Investigate the upstream change (see the drifted features), then retrain on recent data or fix the serving pipeline.",
	},
	"data/feature-drift": {
		"title": "Feature drift",
		"description": "A feature's serving distribution drifted from training (by the collector's test and threshold).",
		"severity": "low",
		"remediation": "Check whether the shift is expected (seasonality, new market) or a pipeline bug; retrain if the model depends on the feature.",
	},
	"data/critical-feature-drift": {
		"title": "Drift in a critical feature",
		"description": "A feature the organisation lists in critical_features drifted from training.",
		"severity": "high",
		"remediation": "Find the cause of the shift in the critical feature and retrain or fix the pipeline before deploying.",
	},
	"data/non-finite-values": {
		"title": "NaN or infinite values",
		"description": "A column of the test predictions, the training data or the serving sample holds NaN or infinite numbers in a larger share of its rows than max_non_finite_share. Metrics and drift are computed on the finite values only, so they would look fine on what is left.",
		"severity": "high",
		"remediation": "Find the step that writes NaN or infinity into the column (a division by zero, a failed join, an overflow) and fix it, then export the table again; an empty cell, not NaN, marks a value that is truly missing.",
	},
	"data/evidence-missing": {
		"title": "Data evidence missing",
		"description": "The evidence has no data section, or lacks a data check the organisation requires (schema, prohibited, lineage, drift).",
		"severity": "high",
		"remediation": "Configure the missing check in modelgate.toml [data] (schema file, prohibited-data scan, lineage source, drift reference) and run `modelgate check`.",
	},
}

_data := section if {
	section := input.data
	is_object(section)
}

# The sub-sections that are present (maps): schema, prohibited, lineage, drift.
_sections := {name: value | some name, value in _data; is_object(value)}

# The resolved thresholds, read once per evaluation: {key: value}. Their
# sources are looked up only for a violation (lib.source, _setting).
_settings := lib.settings("data")

# A setting's value that is a list, as lib.list_threshold would have it.
_list(key) := value if {
	value := _settings[key]
	[] <= value # a list (see the performance notes in lib)
	value < {}
}

# ---------------------------------------------------------------- schema

deny contains violation if {
	schema := _sections.schema
	some item in schema.violations
	violation := lib.violation(
		catalog,
		"data/schema-violation",
		sprintf("%s fails the %s check in %s rows of %s%s", [
			_subject(item.field),
			item.check,
			lib.num(item.failing_rows),
			schema.table_path,
			_suffix(object.get(item, "message", null)),
		]),
		{
			"measured": item.failing_rows,
			"threshold": 0,
			"field": item.field,
			"check": item.check,
			"table": schema.table_path,
			"schema": object.get(schema, "schema_path", null),
			"message": object.get(item, "message", null),
		},
	)
}

# `*` names table-level checks (duplicate rows, primary key).
_subject(field) := "The table" if {
	field == "*"
} else := concat(" ", ["Column", field])

# ": message." when there is a message, "." otherwise.
_suffix(message) := concat("", [": ", message, "."]) if {
	is_string(message)
	message != ""
} else := "."

# ---------------------------------------------------------------- non-finite values

# Columns holding NaN or infinite numbers, in every table modelgate read:
# {"table", "column", "count", "rows"}. The collectors count them apart from
# missing cells (evidence `non_finite`).
_non_finite contains {"table": table.path, "column": column, "count": n, "rows": object.get(table, "rows_read", table.rows)} if {
	some table in _prediction_tables
	some column, n in table.non_finite
	n > 0
}

_non_finite contains {"table": schema.table_path, "column": field.name, "count": field.non_finite, "rows": schema.rows} if {
	schema := _sections.schema
	some field in schema.fields
	field.non_finite > 0
}

_non_finite contains {"table": _name_or(object.get(drift, path_key, null), side), "column": name, "count": n, "rows": drift[rows_key]} if {
	drift := _sections.drift
	some [side, path_key, rows_key, count_key] in [
		["the reference data", "reference_path", "reference_rows", "reference_non_finite"],
		["the serving data", "current_path", "current_rows", "current_non_finite"],
	]
	some name, stats in drift.features
	n := stats[count_key]
	n > 0
}

# The candidate's and the deployed model's predictions files.
_prediction_tables contains table if {
	table := input.evaluation.test_set
	is_object(table)
}

_prediction_tables contains table if {
	table := input.evaluation.baseline.predictions
	is_object(table)
}

deny contains violation if {
	limit := _settings.max_non_finite_share
	some item in _non_finite
	share := item.count / max([item.rows, 1])
	lib.violates("max_non_finite_share", share, limit)
	violation := lib.violation(
		catalog,
		"data/non-finite-values",
		sprintf("Column %s of %s holds %s NaN or infinite values (%s of %s rows), above the maximum of %s.", [
			item.column,
			item.table,
			lib.num(item.count),
			lib.percent(share),
			lib.num(item.rows),
			lib.percent(limit),
		]),
		{
			"measured": share,
			"threshold": limit,
			"threshold_source": lib.source("data", "max_non_finite_share"),
			"table": item.table,
			"column": item.column,
			"non_finite": item.count,
			"rows": item.rows,
		},
	)
}

# ---------------------------------------------------------------- prohibited data

_prohibited := _list("prohibited_categories")

_fraction_limit := limit if {
	limit := _settings.max_prohibited_match_fraction
} else := 0

_prohibited_detections := {detection |
	scan := _sections.prohibited
	prohibited := _prohibited
	some detection in scan.detections
	detection.category in prohibited
}

deny contains violation if {
	some detection in _prohibited_detections
	lib.violates("max_prohibited_match_fraction", detection.match_fraction, _fraction_limit)
	violation := lib.violation(
		catalog,
		"data/prohibited-category",
		sprintf("Column %s of %s contains %s data (%s of sampled values match), which is prohibited in training data.", [
			detection.column,
			_data.prohibited.table_path,
			detection.category,
			lib.percent(detection.match_fraction),
		]),
		_detection_details(detection),
	)
}

warn contains violation if {
	some detection in _prohibited_detections
	not lib.violates("max_prohibited_match_fraction", detection.match_fraction, _fraction_limit)
	violation := lib.violation(
		catalog,
		"data/prohibited-category-suspected",
		sprintf("Column %s of %s may contain %s data (matched on %s, %s of sampled values).", [
			detection.column,
			_data.prohibited.table_path,
			detection.category,
			detection.matched_on,
			lib.percent(detection.match_fraction),
		]),
		_detection_details(detection),
	)
}

_detection_details(detection) := {
	"measured": detection.match_fraction,
	"threshold": fraction.value,
	"threshold_source": fraction.source,
	"column": detection.column,
	"category": detection.category,
	"matched_on": detection.matched_on,
	"prohibited_categories": prohibited.value,
	"prohibited_categories_source": prohibited.source,
} if {
	fraction := _setting_or("max_prohibited_match_fraction", 0)
	prohibited := lib.list_threshold("data", "prohibited_categories")
}

# ---------------------------------------------------------------- lineage

_required_steps := _list("required_steps")

deny contains violation if {
	lineage := _sections.lineage
	some step in _required_steps
	not step in lineage.steps
	resolved := lib.list_threshold("data", "required_steps")
	violation := lib.violation(
		catalog,
		"data/required-step-missing",
		sprintf("The training data lineage (%s) has no %s step.", [lineage.source, step]),
		{
			"measured": lineage.steps,
			"threshold": resolved.value,
			"threshold_source": resolved.source,
			"step": step,
			"lineage_source": lineage.source,
		},
	)
}

deny contains violation if {
	_fresh_lineage_required
	some violation in _stale_lineage
}

warn contains violation if {
	not _fresh_lineage_required
	some violation in _stale_lineage
}

_fresh_lineage_required if _settings.require_fresh_lineage == true # as lib.enabled(…)

_stale_lineage := {violation |
	lineage := _sections.lineage
	lineage.stale == true
	setting := _setting("require_fresh_lineage")
	violation := lib.violation(
		catalog,
		"data/lineage-stale",
		sprintf("The training data %s is not the recorded output of its %s pipeline.", [
			_name_or(object.get(lineage, "training_data", null), "file"),
			lineage.source,
		]),
		{
			"measured": true,
			"threshold": false,
			"threshold_source": setting.source,
			"blocking": setting.value,
			"training_data": object.get(lineage, "training_data", null),
			"lineage_source": lineage.source,
		},
	)
}

# ---------------------------------------------------------------- drift

_critical_features := features if {
	features := _list("critical_features")
} else := []

# Drift thresholds are policy data: min_drift_p_values (tests that give a p-value:
# drifted when the p-value is below it, or at it for ks, as Evidently decides) and
# max_drift_distances (distances: drifted when the distance is at least it), per
# method. A method set in neither keeps the threshold the collector applied.
_p_value_limits := limits if {
	limits := _settings.min_drift_p_values
	is_object(limits)
} else := {}

_distance_limits := limits if {
	limits := _settings.max_drift_distances
	is_object(limits)
} else := {}

# A test's result carries a p-value; a distance's does not.
_is_test(stats) if is_number(stats.p_value)

_limit(stats) := limit if {
	_is_test(stats)
	limit := _p_value_limits[stats.method]
} else := limit if {
	not _is_test(stats)
	limit := _distance_limits[stats.method]
} else := stats.threshold

_drifted_by(stats, limit) if {
	_is_test(stats)
	stats.p_value < limit
}

_drifted_by(stats, limit) if {
	stats.method == "ks"
	stats.p_value == limit
}

_drifted_by(stats, limit) if {
	not _is_test(stats)
	stats.score >= limit
}

_drifted := {feature |
	drift := _sections.drift
	some feature, stats in drift.features
	_drifted_by(stats, _limit(stats))
}

_drift_share := count(_drifted) / count(_sections.drift.features)

deny contains violation if {
	drift := _sections.drift
	limit := _settings.max_drifted_share
	lib.violates("max_drifted_share", _drift_share, limit)
	violation := lib.violation(
		catalog,
		"data/drift-share",
		sprintf("%s of features drifted from training (%s), above the maximum of %s.", [
			lib.percent(_drift_share),
			concat(", ", sort([f | some f in _drifted])),
			lib.percent(limit),
		]),
		{
			"measured": _drift_share,
			"threshold": limit,
			"threshold_source": lib.source("data", "max_drifted_share"),
			"drifted_features": sort([f | some f in _drifted]),
			"reference_rows": drift.reference_rows,
			"current_rows": drift.current_rows,
		},
	)
}

deny contains violation if {
	critical := _critical_features
	some feature in _drifted
	feature in critical
	violation := lib.violation(
		catalog,
		"data/critical-feature-drift",
		sprintf("Critical feature %s drifted from training (%s).", [feature, _drift_summary(feature)]),
		_drift_details(feature),
	)
}

warn contains violation if {
	critical := _critical_features
	some feature in _drifted
	not feature in critical
	violation := lib.violation(
		catalog,
		"data/feature-drift",
		sprintf("Feature %s drifted from training (%s).", [feature, _drift_summary(feature)]),
		_drift_details(feature),
	)
}

_drift_summary(feature) := sprintf("%s p-value %s, below %s", [stats.method, lib.num(stats.p_value), lib.num(_limit(stats))]) if {
	stats := _data.drift.features[feature]
	_is_test(stats)
} else := sprintf("%s %s, threshold %s", [stats.method, lib.num(stats.score), lib.num(_limit(stats))]) if {
	stats := _data.drift.features[feature]
}

_drift_details(feature) := {
	"measured": _measured(stats),
	"threshold": _limit(stats),
	"threshold_source": _limit_source(feature, stats),
	"feature": feature,
	"method": stats.method,
	"score": stats.score,
	"p_value": object.get(stats, "p_value", null),
	"critical_features": _critical_features,
	"critical_features_source": _critical_features_source,
} if {
	stats := _data.drift.features[feature]
}

_measured(stats) := stats.p_value if {
	_is_test(stats)
} else := stats.score

_limit_source(feature, stats) := lib.metric_threshold("data", "min_drift_p_values", stats.method).source if {
	_is_test(stats)
	_p_value_limits[stats.method]
} else := lib.metric_threshold("data", "max_drift_distances", stats.method).source if {
	not _is_test(stats)
	_distance_limits[stats.method]
} else := sprintf("evidence: data.drift.features.%s.threshold", [feature])

_critical_features_source := resolved.source if {
	resolved := lib.list_threshold("data", "critical_features")
} else := "default (critical_features is not set)"

# ---------------------------------------------------------------- missing evidence

# The sub-sections that must be present: required_sections, plus lineage when
# required_steps names any step.
_required_sections contains name if {
	some name in _list("required_sections")
}

_required_sections contains "lineage" if {
	count(_required_steps) > 0
}

_missing contains "data" if not _data

_missing contains name if {
	_data
	present := _sections
	some name in _required_sections
	not present[name]
}

deny contains violation if {
	_evidence_required
	some name in _missing
	violation := _missing_evidence(name)
}

warn contains violation if {
	not _evidence_required
	some name in _missing
	violation := _missing_evidence(name)
}

_evidence_required if _settings.require_evidence == true # as lib.evidence_required(…)

_missing_evidence(name) := lib.violation(
	catalog,
	"data/evidence-missing",
	_missing_message(name),
	{
		"measured": null,
		"section": _section_path(name),
		"required": _setting("require_evidence").value,
		"threshold_source": _setting("require_evidence").source,
	},
)

_missing_message(name) := "The evidence has no data section, so the training data was not checked." if {
	name == "data"
} else := sprintf("The evidence has no %s, which is required.", [_section_path(name)])

_section_path(name) := "data" if {
	name == "data"
} else := concat(".", ["data", name])

# ---------------------------------------------------------------- helpers

# A boolean setting with where it came from; false when set nowhere.
_setting(key) := _setting_or(key, false)

# A setting with where it came from; `fallback` when set nowhere.
_setting_or(key, fallback) := lib.threshold("data", key) if {
	lib.threshold("data", key)
} else := {"value": fallback, "source": sprintf("default (%s is not set)", [key])}

_name_or(value, fallback) := value if {
	is_string(value)
} else := fallback
