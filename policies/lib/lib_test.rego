# Tests of modelgate.lib: strictest-wins threshold resolution, source strings,
# number formatting and date parsing.
package modelgate.lib_test

import rego.v1

import data.modelgate.lib

thresholds := {
	"fairness": {
		"max_gap": 0.10,
		"min_ratio": 0.80,
		"require_evidence": false,
		"labels": ["b", "a"],
		"mode": "base",
		"min_severity": "high",
	},
	"performance": {"min_metrics": {"accuracy": 0.80, "f1": 0.70}},
}

overrides := {
	"environment": {
		"production": {
			"fairness": {
				"max_gap": 0.05,
				"min_ratio": 0.75,
				"require_evidence": true,
				"labels": ["c", "a"],
				"mode": "production",
			},
			"performance": {"min_metrics": {"accuracy": 0.85, "f1": 0.60}},
		},
		"staging": {"fairness": {"require_evidence": false, "min_severity": "critical"}},
	},
	"risk_tier": {
		"high": {
			"fairness": {
				"max_gap": 0.05,
				"min_ratio": 0.90,
				"labels": ["d"],
				"mode": "high",
				"min_severity": "medium",
			},
			"performance": {"min_metrics": {"roc_auc": 0.90, "accuracy": 0.82}},
		},
		"low": {"fairness": {"require_evidence": true}},
	},
}

evidence(environment, tier) := {
	"model": {"name": "m", "version": "1", "risk_tier": tier},
	"deployment": {"environment": environment},
}

resolve(category, key, environment, tier) := result if {
	result := lib.threshold(category, key) with input as evidence(environment, tier)
		with data.thresholds as thresholds
		with data.overrides as overrides
}

# ---------------------------------------------------------------- threshold

test_base_value_when_no_override_applies if {
	resolve("fairness", "max_gap", "dev", "medium") == {"value": 0.10, "source": "data.yaml: thresholds.fairness.max_gap"}
}

test_max_takes_lowest_environment_override if {
	result := resolve("fairness", "max_gap", "production", "medium")
	result.value == 0.05
	result.source == "data.yaml: overrides.environment.production.fairness.max_gap"
}

test_max_takes_lowest_risk_tier_override if {
	result := resolve("fairness", "max_gap", "dev", "high")
	result.value == 0.05
	result.source == "data.yaml: overrides.risk_tier.high.fairness.max_gap"
}

test_max_tie_names_the_environment if {
	result := resolve("fairness", "max_gap", "production", "high")
	result.value == 0.05
	result.source == "data.yaml: overrides.environment.production.fairness.max_gap"
}

test_max_ignores_a_looser_override if {
	result := lib.threshold("fairness", "max_gap") with input as evidence("production", "low")
		with data.thresholds as thresholds
		with data.overrides as {"environment": {"production": {"fairness": {"max_gap": 0.5}}}}
	result == {"value": 0.10, "source": "data.yaml: thresholds.fairness.max_gap"}
}

test_min_takes_highest if {
	# production says 0.75 (looser than the base 0.80) and is ignored; high says 0.90.
	resolve("fairness", "min_ratio", "production", "low") == {"value": 0.80, "source": "data.yaml: thresholds.fairness.min_ratio"}
	resolve("fairness", "min_ratio", "production", "high") == {"value": 0.90, "source": "data.yaml: overrides.risk_tier.high.fairness.min_ratio"}
}

test_require_true_wins_over_false if {
	resolve("fairness", "require_evidence", "dev", "medium").value == false
	resolve("fairness", "require_evidence", "production", "medium") == {"value": true, "source": "data.yaml: overrides.environment.production.fairness.require_evidence"}

	# the environment says false, the tier says true: true wins
	resolve("fairness", "require_evidence", "staging", "low") == {"value": true, "source": "data.yaml: overrides.risk_tier.low.fairness.require_evidence"}
}

test_require_all_false_names_most_specific if {
	resolve("fairness", "require_evidence", "staging", "medium") == {"value": false, "source": "data.yaml: overrides.environment.staging.fairness.require_evidence"}
}

test_lists_are_unioned_and_sorted if {
	result := resolve("fairness", "labels", "production", "high")
	result.value == ["a", "b", "c", "d"]
	result.source == "data.yaml: thresholds.fairness.labels + overrides.risk_tier.high.fairness.labels + overrides.environment.production.fairness.labels"
}

test_list_base_only_is_sorted if {
	resolve("fairness", "labels", "dev", "low") == {"value": ["a", "b"], "source": "data.yaml: thresholds.fairness.labels"}
}

test_other_keys_environment_beats_tier_beats_base if {
	resolve("fairness", "mode", "production", "high").value == "production"
	resolve("fairness", "mode", "dev", "high") == {"value": "high", "source": "data.yaml: overrides.risk_tier.high.fairness.mode"}
	resolve("fairness", "mode", "dev", "low").value == "base"
}

test_severity_floor_takes_lowest_severity if {
	# staging says critical (looser), high says medium (stricter): medium wins
	resolve("fairness", "min_severity", "staging", "high") == {"value": "medium", "source": "data.yaml: overrides.risk_tier.high.fairness.min_severity"}
	resolve("fairness", "min_severity", "staging", "low").value == "high"
}

test_object_resolved_per_sub_key if {
	result := resolve("performance", "min_metrics", "production", "high")
	result.value == {"accuracy": 0.85, "f1": 0.70, "roc_auc": 0.90}
	result.source == "data.yaml: thresholds.performance.min_metrics + overrides.risk_tier.high.performance.min_metrics + overrides.environment.production.performance.min_metrics"
}

test_metric_threshold_source_names_the_sub_key if {
	result := lib.metric_threshold("performance", "min_metrics", "accuracy") with input as evidence("production", "high")
		with data.thresholds as thresholds
		with data.overrides as overrides
	result == {"value": 0.85, "source": "data.yaml: overrides.environment.production.performance.min_metrics.accuracy"}
}

test_metric_threshold_min_prefix_ignores_looser_sub_key if {
	# production lowers f1 to 0.60; the base 0.70 is stricter and wins
	result := lib.metric_threshold("performance", "min_metrics", "f1") with input as evidence("production", "low")
		with data.thresholds as thresholds
		with data.overrides as overrides
	result == {"value": 0.70, "source": "data.yaml: thresholds.performance.min_metrics.f1"}
}

test_metric_threshold_only_in_override if {
	result := lib.metric_threshold("performance", "min_metrics", "roc_auc") with input as evidence("dev", "high")
		with data.thresholds as thresholds
		with data.overrides as overrides
	result.value == 0.90
	not lib.metric_threshold("performance", "min_metrics", "roc_auc") with input as evidence("dev", "low")
		with data.thresholds as thresholds
		with data.overrides as overrides
}

test_unknown_key_is_undefined if {
	not lib.threshold("fairness", "max_unknown") with input as evidence("production", "high")
		with data.thresholds as thresholds
		with data.overrides as overrides
	not lib.threshold("nonexistent", "max_gap") with input as evidence("production", "high")
		with data.thresholds as thresholds
		with data.overrides as overrides
}

test_null_value_counts_as_unset if {
	result := lib.threshold("fairness", "max_gap") with input as evidence("production", "low")
		with data.thresholds as {"fairness": {"max_gap": 0.10}}
		with data.overrides as {"environment": {"production": {"fairness": {"max_gap": null}}}}
	result.source == "data.yaml: thresholds.fairness.max_gap"
}

test_no_deployment_section_uses_tier_and_base if {
	result := lib.threshold("fairness", "max_gap") with input as {"model": {"name": "m", "version": "1", "risk_tier": "low"}, "deployment": null}
		with data.thresholds as thresholds
		with data.overrides as overrides
	result == {"value": 0.10, "source": "data.yaml: thresholds.fairness.max_gap"}
}

test_no_overrides_document if {
	result := lib.threshold("fairness", "max_gap") with input as evidence("production", "high")
		with data.thresholds as thresholds
		with data.overrides as {}
	result.value == 0.10
}

test_empty_data_documents_are_tolerated if {
	result := lib.threshold("fairness", "max_gap") with input as evidence("production", "high")
		with data.thresholds as thresholds
		with data.overrides as null
	result.value == 0.10
	not lib.threshold("fairness", "max_gap") with input as evidence("production", "high")
		with data.thresholds as null
		with data.overrides as null
}

test_evidence_required if {
	lib.evidence_required("fairness") with input as evidence("production", "medium")
		with data.thresholds as thresholds
		with data.overrides as overrides
	not lib.evidence_required("fairness") with input as evidence("dev", "medium")
		with data.thresholds as thresholds
		with data.overrides as overrides
	not lib.evidence_required("performance") with input as evidence("dev", "medium")
		with data.thresholds as thresholds
		with data.overrides as overrides
}

test_shipped_data_yaml_production_is_stricter if {
	result := lib.threshold("fairness", "max_demographic_parity_difference") with input as evidence("production", "low")
	result == {"value": 0.05, "source": "data.yaml: overrides.environment.production.fairness.max_demographic_parity_difference"}
	base := lib.threshold("fairness", "max_demographic_parity_difference") with input as evidence("staging", "low")
	base == {"value": 0.10, "source": "data.yaml: thresholds.fairness.max_demographic_parity_difference"}
}

test_shipped_data_yaml_high_tier_is_stricter if {
	result := lib.threshold("fairness", "min_demographic_parity_ratio") with input as evidence("staging", "high")
	result == {"value": 0.85, "source": "data.yaml: overrides.risk_tier.high.fairness.min_demographic_parity_ratio"}
}

test_environment_and_risk_tier_name_the_evidence if {
	lib.environment == "production" with input as evidence("production", "high")
	lib.risk_tier == "high" with input as evidence("production", "high")
}

test_settings_and_source_agree_with_threshold if {
	lib.settings("fairness").max_gap == 0.05 with input as evidence("production", "high")
		with data.thresholds as thresholds
		with data.overrides as overrides
	lib.source("fairness", "max_gap") == "data.yaml: overrides.environment.production.fairness.max_gap" with input as evidence("production", "high")
		with data.thresholds as thresholds
		with data.overrides as overrides
	lib.source("fairness", "mode") == "data.yaml: thresholds.fairness.mode" with input as evidence("dev", "medium")
		with data.thresholds as thresholds
		with data.overrides as overrides
	not lib.source("fairness", "max_unknown") with input as evidence("production", "high")
		with data.thresholds as thresholds
		with data.overrides as overrides
}

test_enabled if {
	lib.enabled("fairness", "require_evidence") with input as evidence("production", "medium")
		with data.thresholds as thresholds
		with data.overrides as overrides
	not lib.enabled("fairness", "require_evidence") with input as evidence("dev", "medium")
		with data.thresholds as thresholds
		with data.overrides as overrides
}

# Candidates of different kinds, or maps in several layers, are resolved from
# all of them at once, by the same rules.
mixed := {
	"fairness": {
		"max_gap": "0.1",
		"min_severity": "high",
		"require_evidence": false,
		"max_map": {"a": 0.5, "b": 0.2},
		"require_map": {"a": false},
		"min_severities": {"a": "high"},
	},
	"performance": {"min_metrics": {"accuracy": 0.80}},
}

mixed_overrides := {
	"environment": {"production": {"fairness": {
		"max_gap": 0.05,
		"min_severity": "low",
		"require_evidence": false,
		"max_map": {"a": 0.3, "b": 0.4},
		"require_map": {"a": true},
		"min_severities": {"a": "low"},
	}}},
	"risk_tier": {"high": {"fairness": {
		"max_gap": 0.01,
		"min_severity": "medium",
		"require_evidence": true,
		"max_map": {"a": 0.4},
		"require_map": {"a": false},
	}}},
}

mixed_resolve(category, key) := result if {
	result := lib.threshold(category, key) with input as evidence("production", "high")
		with data.thresholds as mixed
		with data.overrides as mixed_overrides
}

mixed_entry(category, key, sub_key) := result if {
	result := lib.metric_threshold(category, key, sub_key) with input as evidence("production", "high")
		with data.thresholds as mixed
		with data.overrides as mixed_overrides
}

test_mixed_kinds_fall_back_to_precedence if {
	# a string base and number overrides: not all numbers, so the most specific
	mixed_resolve("fairness", "max_gap") == {"value": 0.05, "source": "data.yaml: overrides.environment.production.fairness.max_gap"}
}

test_three_severities_take_the_lowest if {
	mixed_resolve("fairness", "min_severity") == {"value": "low", "source": "data.yaml: overrides.environment.production.fairness.min_severity"}
}

test_three_booleans_true_wins if {
	mixed_resolve("fairness", "require_evidence") == {"value": true, "source": "data.yaml: overrides.risk_tier.high.fairness.require_evidence"}
}

test_maps_in_three_layers_resolve_per_entry if {
	result := mixed_resolve("fairness", "max_map")
	result.value == {"a": 0.3, "b": 0.2}
	result.source == "data.yaml: thresholds.fairness.max_map + overrides.risk_tier.high.fairness.max_map + overrides.environment.production.fairness.max_map"
	mixed_entry("fairness", "max_map", "a") == {"value": 0.3, "source": "data.yaml: overrides.environment.production.fairness.max_map.a"}
	mixed_entry("fairness", "max_map", "b") == {"value": 0.2, "source": "data.yaml: thresholds.fairness.max_map.b"}
	mixed_entry("fairness", "require_map", "a") == {"value": true, "source": "data.yaml: overrides.environment.production.fairness.require_map.a"}
	mixed_entry("fairness", "min_severities", "a") == {"value": "low", "source": "data.yaml: overrides.environment.production.fairness.min_severities.a"}
}

# ---------------------------------------------------------------- violates

test_violates_max_and_min if {
	lib.violates("max_gap", 0.11, 0.10)
	not lib.violates("max_gap", 0.10, 0.10)
	lib.violates("min_ratio", 0.79, 0.80)
	not lib.violates("min_ratio", 0.80, 0.80)
	not lib.violates("mode", 5, 1)
	not lib.violates("max_gap", null, 0.10)
}

# ---------------------------------------------------------------- violation

test_violation_takes_severity_and_remediation_from_catalog if {
	catalog := {"x/y": {"title": "t", "description": "d", "severity": "medium", "remediation": "fix it"}}
	v := lib.violation(catalog, "x/y", "message", {"measured": 1})
	v == {"code": "x/y", "msg": "message", "remediation": "fix it", "severity": "medium", "details": {"measured": 1}}
}

test_violation_with_unknown_code_still_fires if {
	v := lib.violation({}, "x/unknown", "message", {})
	v.severity == "high"
	v.code == "x/unknown"
}

test_threshold_details if {
	lib.threshold_details(0.2, {"value": 0.1, "source": "s"}) == {"measured": 0.2, "threshold": 0.1, "threshold_source": "s"}
}

# ---------------------------------------------------------------- num

test_num_renders_like_a_person_would if {
	lib.num(0.23) == "0.23"
	lib.num(3) == "3"
	lib.num(3.0) == "3"
	lib.num(0.1) == "0.1"
	lib.num(0.05) == "0.05"
	lib.num(0.000001) == "0"
	lib.num(0.00005) == "0.0001"
	lib.num(1234.56789) == "1234.5679"
	lib.num(-0.5) == "-0.5"
	lib.num(-0.00001) == "0"
	lib.num(250) == "250"
	lib.num(0.8) == "0.8"
	lib.num(123456789012) == "123456789012"
}

test_num_hides_floating_point_noise if {
	# 0.86 - 0.76 is 0.09999999999999998 in IEEE doubles and 0.1 in OPA
	lib.num(0.86 - 0.76) == "0.1"
	lib.num(0.1 + 0.2) == "0.3"
}

test_percent if {
	lib.percent(0.25) == "25%"
	lib.percent(0.123) == "12.3%"
}

# ---------------------------------------------------------------- dates

test_date_ns_accepts_dates_and_timestamps if {
	lib.date_ns("2025-01-31") == 1738281600000000000
	lib.date_ns("2025-01-31T00:00:00Z") == 1738281600000000000
	lib.date_ns("2025-01-31T02:00:00+02:00") == 1738281600000000000
}

test_is_date if {
	lib.is_date("2025-01-31")
	lib.is_date("2025-02-31") # digits in the right places; date_ns checks the calendar
	not lib.is_date("2025-1-31")
	not lib.is_date("2025-01-3x")
	not lib.is_date("2025-01-31T00:00:00Z")
	not lib.is_date(20250131)
}

test_date_ns_is_undefined_for_garbage if {
	not lib.date_ns("next tuesday")
	not lib.date_ns("2025-1-31")
	not lib.date_ns(20250131)
	not lib.date_ns(null)
}

test_date_ns_rejects_days_that_do_not_exist if {
	# validated before time.parse_rfc3339_ns sees them: that builtin would
	# fail, which OPA turns into undefined and modelgate into an error
	not lib.date_ns("2025-02-29")
	not lib.date_ns("1900-02-29")
	not lib.date_ns("2025-04-31")
	not lib.date_ns("2025-13-01")
	not lib.date_ns("2025-00-10")
	not lib.date_ns("2025-06-00")
	not lib.date_ns("2025-06-15T24:00:00Z")
	not lib.date_ns("2025-06-15T12:60:00Z")
	not lib.date_ns("2025-02-30T12:00:00Z")
	lib.date_ns("2024-02-29") == 1709164800000000000
	lib.date_ns("2000-02-29") == 951782400000000000
	lib.date_ns("2025-12-31T23:59:59.5Z") == 1767225599500000000
}
