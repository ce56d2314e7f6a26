package modelgate.config_test

import rego.v1

import data.modelgate.config

codes(violations) := {v.code | some v in violations}

test_shipped_data_yaml_is_valid if {
	count(config.deny) == 0
}

test_quoted_number_is_invalid if {
	denied := config.deny with data.thresholds.fairness.max_demographic_parity_difference as "0.1"
	some v in denied
	v.code == "config/invalid-setting"
	v.severity == "critical"
	v.details.setting == "thresholds.fairness.max_demographic_parity_difference"
	v.details.measured == "0.1"
	v.msg == `data.yaml: thresholds.fairness.max_demographic_parity_difference is "0.1", but it must be a number, a severity name or a map of numbers; the check it controls cannot run.`

	# the overrides, numbers, no longer match the base value's type either
	{w.details.setting | some w in denied} == {
		"thresholds.fairness.max_demographic_parity_difference",
		"overrides.environment.production.fairness.max_demographic_parity_difference",
		"overrides.risk_tier.high.fairness.max_demographic_parity_difference",
		"overrides.risk_tier.critical.fairness.max_demographic_parity_difference",
	}
}

test_map_with_a_string_entry_is_invalid if {
	some v in config.deny with data.overrides.environment.production.performance.min_metrics as {"accuracy": "high-ish"}
	v.details.setting == "overrides.environment.production.performance.min_metrics"
}

test_require_must_be_boolean if {
	some v in config.deny with data.overrides.risk_tier.high.data.require_evidence as "yes"
	v.code == "config/invalid-setting"
	v.details.setting == "overrides.risk_tier.high.data.require_evidence"
	v.details.threshold == "true or false"
}

test_judge_confidence_bound_must_be_boolean if {
	some v in config.deny with data.thresholds.fairness.judge_confidence_bound as "upper"
	v.code == "config/invalid-setting"
	v.details.setting == "thresholds.fairness.judge_confidence_bound"
	v.details.threshold == "true or false"
	count(config.deny) == 0 with data.thresholds.fairness.judge_confidence_bound as true
}

test_override_of_another_type_is_invalid if {
	denied := config.deny with data.overrides.environment.production.data.prohibited_categories as "email"
	count(denied) == 1
	some v in denied
	v.code == "config/invalid-setting"
	v.details.setting == "overrides.environment.production.data.prohibited_categories"
	v.details.threshold == "a list like thresholds.data.prohibited_categories"
}

test_valid_values_pass if {
	count(config.deny) == 0 with data.thresholds as {
		"x": {
			"max_a": 1,
			"min_b": 0.5,
			"min_severity": "medium",
			"min_metrics": {"accuracy": 0.8, "f1": null},
			"max_unset": null,
			"require_c": false,
			"other": "anything",
			"labels": ["a"],
		},
		"empty": null,
	}
}

test_invalid_override_is_reported_once if {
	# invalid, and of another type than the base value: reported as invalid only
	denied := config.deny with data.overrides.environment.production.fairness.max_demographic_parity_difference as true
	count(denied) == 1
	some v in denied
	v.details.setting == "overrides.environment.production.fairness.max_demographic_parity_difference"
	v.details.threshold == "a number, a severity name or a map of numbers"
}

test_override_names_with_dots if {
	# the base value is looked up under the path's fourth part, as it always was:
	# for overrides.environment.eu.prod.fairness.<key> that is thresholds.prod.<key>
	count(config.deny) == 0 with data.overrides.environment["eu.prod"] as {"fairness": {"max_demographic_parity_difference": "low"}}
	denied := config.deny with data.overrides.environment["eu.prod"] as {"fairness": {"max_demographic_parity_difference": "low"}}
		with data.thresholds.prod as {"max_demographic_parity_difference": 0.1}
	some v in denied
	v.details.setting == "overrides.environment.eu.prod.fairness.max_demographic_parity_difference"
	v.details.threshold == "a number like thresholds.prod.max_demographic_parity_difference"
}

test_unknown_risk_tier_is_denied if {
	denied := config.deny with data.overrides.risk_tier.hgih as {"fairness": {"max_demographic_parity_difference": 0.01}}
	some v in denied
	v.code == "config/unknown-risk-tier"
	v.details.measured == "hgih"
}

test_empty_overrides_are_fine if {
	count(config.deny) == 0 with data.overrides as {"environment": {"production": null}, "risk_tier": null}
	count(config.deny) == 0 with data.overrides as null
}

test_every_catalog_code_is_emitted_by_some_case if {
	bad_setting := codes(config.deny) with data.thresholds.fairness.min_group_size as "30"
	bad_tier := codes(config.deny) with data.overrides.risk_tier.severe as {}
	bad_setting | bad_tier == {code | some code, _ in config.catalog}
}

test_catalog_entries_are_complete if {
	every code, entry in config.catalog {
		startswith(code, "config/")
		regex.match(`^[a-z]+/[a-z0-9]+(-[a-z0-9]+)*$`, code)
		entry.severity in {"low", "medium", "high", "critical"}
		count(entry.title) > 0
		count(entry.description) > 0
		count(entry.remediation) > 0
	}
}
