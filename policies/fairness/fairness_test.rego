package modelgate.fairness_test

import rego.v1

import data.modelgate.fairness

# A compliant medium-risk model on its way to staging.
base := {
	"schema_version": "1",
	"collected_at": "2025-06-01T12:00:00Z",
	"collector": {"name": "modelgate", "version": "0.1.0"},
	"model": {"name": "credit-scoring", "version": "2.3.0", "risk_tier": "medium", "task": "binary_classification"},
	"deployment": {"environment": "staging"},
	"evaluation": {
		"metrics": {"accuracy": 0.91},
		"fairness": {"sex": {
			"attributes": ["sex"],
			"groups": {
				"female": {"count": 420, "metrics": {"selection_rate": 0.31}},
				"male": {"count": 580, "metrics": {"selection_rate": 0.33}},
			},
			"demographic_parity_difference": 0.02,
			"demographic_parity_ratio": 0.94,
			"equalized_odds_difference": 0.03,
			"equalized_odds_ratio": 0.91,
			"equal_opportunity_difference": 0.02,
			"equal_opportunity_ratio": 0.96,
			"four_fifths_ratio": 0.94,
		}},
	},
}

# base with fields of the "sex" entry replaced
with_sex(patch) := object.union(base, {"evaluation": {"fairness": {"sex": patch}}})

# base promoted to another environment / risk tier
promoted(doc, environment, tier) := object.union(doc, {
	"deployment": {"environment": environment},
	"model": {"risk_tier": tier},
})

codes(violations) := {v.code | some v in violations}

# ---------------------------------------------------------------- compliant

test_compliant_model_has_no_findings if {
	count(fairness.deny) == 0 with input as base
	count(fairness.warn) == 0 with input as base
}

test_compliant_model_passes_production_and_high_tier if {
	count(fairness.deny) == 0 with input as promoted(base, "production", "high")
	count(fairness.warn) == 0 with input as promoted(base, "production", "high")
}

# ---------------------------------------------------------------- demographic parity difference

test_dpd_above_maximum_is_denied if {
	some v in fairness.deny with input as with_sex({"demographic_parity_difference": 0.23})
	v.code == "fairness/demographic-parity-difference"
	v.severity == "high"
	v.details.measured == 0.23
	v.details.threshold == 0.10
	v.details.threshold_source == "data.yaml: thresholds.fairness.max_demographic_parity_difference"
	v.details.attribute == "sex"
	v.details.groups == {"female": 420, "male": 580}
	v.msg == "Demographic parity difference for sex is 0.23, above the maximum of 0.1."
}

test_dpd_at_maximum_passes if {
	count(fairness.deny) == 0 with input as with_sex({"demographic_parity_difference": 0.10})
}

test_dpd_production_override_is_stricter if {
	doc := with_sex({"demographic_parity_difference": 0.07})
	count(fairness.deny) == 0 with input as doc
	some v in fairness.deny with input as promoted(doc, "production", "low")
	v.code == "fairness/demographic-parity-difference"
	v.details.threshold == 0.05
	v.details.threshold_source == "data.yaml: overrides.environment.production.fairness.max_demographic_parity_difference"
}

test_dpd_null_is_reported_as_unavailable if {
	doc := with_sex({
		"demographic_parity_difference": null,
		"reasons": {"demographic_parity_difference": "group other has no rows"},
	})
	count(fairness.deny) == 0 with input as doc
	some v in fairness.warn with input as doc
	v.code == "fairness/metric-unavailable"
	v.details.metric == "demographic_parity_difference"
	v.details.reason == "group other has no rows"
	v.details.threshold == 0.10
	v.details.attribute == "sex"
}

test_null_without_reason_says_so if {
	some v in fairness.warn with input as with_sex({"equal_opportunity_difference": null})
	v.code == "fairness/metric-unavailable"
	v.details.metric == "equal_opportunity_difference"
	v.details.reason == "no reason given"
}

test_threshold_removed_switches_the_check_off if {
	doc := with_sex({"demographic_parity_difference": 0.5})
	not "fairness/demographic-parity-difference" in codes(fairness.deny) with input as doc
		with data.thresholds.fairness.max_demographic_parity_difference as null
	not "fairness/metric-unavailable" in codes(fairness.warn) with input as with_sex({"demographic_parity_difference": null})
		with data.thresholds.fairness.max_demographic_parity_difference as null
}

# ---------------------------------------------------------------- demographic parity ratio

test_dp_ratio_below_minimum_is_denied if {
	some v in fairness.deny with input as with_sex({"demographic_parity_ratio": 0.72})
	v.code == "fairness/demographic-parity-ratio"
	v.details.measured == 0.72
	v.details.threshold == 0.80
	v.msg == "Demographic parity ratio for sex is 0.72, below the minimum of 0.8."
}

test_dp_ratio_high_tier_is_stricter if {
	doc := with_sex({"demographic_parity_ratio": 0.82})
	count(fairness.deny) == 0 with input as doc
	some v in fairness.deny with input as promoted(doc, "staging", "high")
	v.code == "fairness/demographic-parity-ratio"
	v.details.threshold == 0.85
	v.details.threshold_source == "data.yaml: overrides.risk_tier.high.fairness.min_demographic_parity_ratio"
}

test_dp_ratio_null_is_reported if {
	some v in fairness.warn with input as with_sex({"demographic_parity_ratio": null})
	v.code == "fairness/metric-unavailable"
	v.details.metric == "demographic_parity_ratio"
}

# ---------------------------------------------------------------- equalized odds

test_eod_above_maximum_is_denied if {
	some v in fairness.deny with input as with_sex({"equalized_odds_difference": 0.15})
	v.code == "fairness/equalized-odds-difference"
	v.details.measured == 0.15
	v.details.threshold == 0.10
}

test_eod_passes_below_maximum if {
	not "fairness/equalized-odds-difference" in codes(fairness.deny) with input as with_sex({"equalized_odds_difference": 0.099})
}

test_eod_null_is_reported if {
	some v in fairness.warn with input as with_sex({"equalized_odds_difference": null})
	v.details.metric == "equalized_odds_difference"
}

test_eo_ratio_below_minimum_is_denied if {
	some v in fairness.deny with input as with_sex({"equalized_odds_ratio": 0.5})
	v.code == "fairness/equalized-odds-ratio"
	v.details.measured == 0.5
	v.details.threshold == 0.80
}

test_eo_ratio_passes_at_minimum if {
	not "fairness/equalized-odds-ratio" in codes(fairness.deny) with input as with_sex({"equalized_odds_ratio": 0.8})
}

test_eo_ratio_null_is_reported if {
	some v in fairness.warn with input as with_sex({"equalized_odds_ratio": null})
	v.details.metric == "equalized_odds_ratio"
}

# ---------------------------------------------------------------- equal opportunity

test_eopp_above_maximum_is_denied if {
	some v in fairness.deny with input as with_sex({"equal_opportunity_difference": 0.12})
	v.code == "fairness/equal-opportunity-difference"
	v.details.measured == 0.12
	v.details.threshold == 0.10
}

test_eopp_production_threshold if {
	doc := promoted(with_sex({"equal_opportunity_difference": 0.06}), "production", "medium")
	some v in fairness.deny with input as doc
	v.code == "fairness/equal-opportunity-difference"
	v.details.threshold == 0.05
}

test_eopp_passes_below_maximum if {
	not "fairness/equal-opportunity-difference" in codes(fairness.deny) with input as with_sex({"equal_opportunity_difference": 0.05})
}

# ---------------------------------------------------------------- intersections

test_intersection_entry_is_checked if {
	doc := object.union(base, {"evaluation": {"fairness": {"race,sex": {
		"attributes": ["race", "sex"],
		"groups": {"black,female": {"count": 35}, "white,male": {"count": 300}},
		"demographic_parity_difference": 0.14,
	}}}})
	some v in fairness.deny with input as doc
	v.code == "fairness/demographic-parity-difference"
	v.details.attribute == "race,sex"
	v.details.measured == 0.14
}

# ---------------------------------------------------------------- groups left out

test_excluded_group_is_reported if {
	doc := with_sex({"excluded": {"equal_opportunity_difference": ["nonbinary", "unknown"], "demographic_parity_ratio": []}})
	count(fairness.deny) == 0 with input as doc
	found := [v | some v in fairness.warn with input as doc; v.code == "fairness/group-excluded"]
	count(found) == 1
	v := found[0]
	v.details.measured == ["nonbinary", "unknown"]
	v.details.metric == "equal_opportunity_difference"
	v.details.threshold == 0.10
	v.msg == "Equal opportunity difference for sex was computed without nonbinary, unknown: their rate is undefined on the test set, so the maximum of 0.1 does not cover them."
}

test_excluded_group_of_an_unchecked_aggregate_is_not_reported if {
	doc := with_sex({"excluded": {"equal_opportunity_ratio": ["nonbinary"]}})
	count(fairness.warn) == 0 with input as doc
}

# ---------------------------------------------------------------- confidence bounds

# doc with bootstrap intervals for the "sex" aggregates
with_intervals(doc, intervals) := object.union(doc, {"evaluation": {"intervals": {
	"method": "poisson-bootstrap",
	"replicates": 200,
	"level": 0.95,
	"seed": 0,
	"metrics": {},
	"fairness": {"sex": intervals},
}}})

test_upper_bound_is_judged_when_asked if {
	doc := with_intervals(base, {"demographic_parity_difference": {"lower": 0.01, "upper": 0.12}})
	count(fairness.deny) == 0 with input as doc
	some v in fairness.deny with input as doc with data.thresholds.fairness.judge_confidence_bound as true
	v.code == "fairness/demographic-parity-difference"
	v.details.measured == 0.12
	v.details.point_estimate == 0.02
	v.details.judged_on == "upper end of the 95% bootstrap interval"
	v.msg == "Demographic parity difference for sex is 0.12 (upper end of the 95% bootstrap interval; point estimate 0.02), above the maximum of 0.1."
}

test_lower_bound_is_judged_against_a_minimum if {
	doc := with_intervals(base, {"demographic_parity_ratio": {"lower": 0.75, "upper": 0.99}})
	some v in fairness.deny with input as doc with data.thresholds.fairness.judge_confidence_bound as true
	v.code == "fairness/demographic-parity-ratio"
	v.details.measured == 0.75
	v.details.judged_on == "lower end of the 95% bootstrap interval"
}

test_point_estimate_is_judged_without_an_interval if {
	doc := with_sex({"demographic_parity_difference": 0.23})
	some v in fairness.deny with input as doc with data.thresholds.fairness.judge_confidence_bound as true
	v.details.measured == 0.23
	not v.details.judged_on
}

# ---------------------------------------------------------------- small groups

test_small_group_is_reported_not_skipped if {
	doc := with_sex({"groups": {"nonbinary": {"count": 12}}})
	some v in fairness.warn with input as doc
	v.code == "fairness/small-group"
	v.details.group == "nonbinary"
	v.details.attribute == "sex"
	v.details.measured == 12
	v.details.threshold == 30
	v.msg == "Group nonbinary of sex has 12 test rows, below the minimum group size of 30; its rates are unreliable."
	count([w | some w in fairness.warn with input as doc; w.code == "fairness/small-group"]) == 1
}

test_group_at_minimum_size_passes if {
	count(fairness.warn) == 0 with input as with_sex({"groups": {"nonbinary": {"count": 30}}})
}

test_small_group_high_tier_minimum if {
	doc := promoted(with_sex({"groups": {"nonbinary": {"count": 40}}}), "staging", "high")
	some v in fairness.warn with input as doc
	v.code == "fairness/small-group"
	v.details.threshold == 50
	v.details.threshold_source == "data.yaml: overrides.risk_tier.high.fairness.min_group_size"
}

# ---------------------------------------------------------------- missing evidence

test_missing_evaluation_warns_in_staging if {
	doc := object.union(base, {"evaluation": null})
	count(fairness.deny) == 0 with input as doc
	some v in fairness.warn with input as doc
	v.code == "fairness/evidence-missing"
	v.details.required == false
}

test_missing_fairness_denies_in_production if {
	doc := promoted(object.union(base, {"evaluation": {"fairness": null}}), "production", "low")
	some v in fairness.deny with input as doc
	v.code == "fairness/evidence-missing"
	v.details.required == true
	v.details.threshold_source == "data.yaml: overrides.environment.production.fairness.require_evidence"
	count(fairness.warn) == 0 with input as doc
}

test_missing_fairness_denies_for_high_risk if {
	doc := promoted(object.union(base, {"evaluation": null}), "staging", "high")
	"fairness/evidence-missing" in codes(fairness.deny) with input as doc
}

test_empty_fairness_counts_as_missing if {
	# object.union merges objects recursively: clear the section first
	doc := object.union(object.union(base, {"evaluation": {"fairness": null}}), {"evaluation": {"fairness": {}}})
	count(doc.evaluation.fairness) == 0
	"fairness/evidence-missing" in codes(fairness.warn) with input as doc
}

# ---------------------------------------------------------------- catalog

# Every rule fires at least once on this document.
everything_wrong := object.union(base, {"evaluation": {"fairness": {
	"sex": {
		"groups": {"nonbinary": {"count": 3}},
		"demographic_parity_difference": 0.3,
		"demographic_parity_ratio": 0.5,
		"equalized_odds_difference": 0.3,
		"equalized_odds_ratio": 0.5,
		"equal_opportunity_difference": 0.3,
	},
	"age": {
		"attributes": ["age"],
		"groups": {"18-25": {"count": 100}, "26+": {"count": 900}},
		"demographic_parity_difference": null,
		"excluded": {"equal_opportunity_difference": ["18-25"]},
	},
}}})

emitted := codes(fairness.deny) | codes(fairness.warn)

test_every_catalog_code_is_emitted_by_some_case if {
	from_wrong := emitted with input as everything_wrong
	from_missing := emitted with input as object.union(base, {"evaluation": null})
	from_wrong | from_missing == {code | some code, _ in fairness.catalog}
}

test_every_emitted_code_is_in_the_catalog if {
	docs := [everything_wrong, object.union(base, {"evaluation": null}), promoted(base, "production", "critical")]
	every doc in docs {
		found := emitted with input as doc
		every code in found {
			fairness.catalog[code]
		}
	}
}

test_catalog_entries_are_complete if {
	every code, entry in fairness.catalog {
		startswith(code, "fairness/")
		regex.match(`^[a-z]+/[a-z0-9]+(-[a-z0-9]+)*$`, code)
		entry.severity in {"low", "medium", "high", "critical"}
		count(entry.title) > 0
		count(entry.description) > 0
		count(entry.remediation) > 0
	}
}

test_violations_have_the_contract_shape if {
	denied := fairness.deny with input as everything_wrong
	warned := fairness.warn with input as everything_wrong
	count(denied) > 0
	count(warned) > 0
	every v in denied | warned {
		is_string(v.code)
		is_string(v.msg)
		is_string(v.remediation)
		v.severity == fairness.catalog[v.code].severity
		is_object(v.details)
	}
}
