package modelgate.data_test

import rego.v1

import data.modelgate.data as checks

# A compliant medium-risk model on its way to staging.
base := {
	"schema_version": "1",
	"collected_at": "2025-06-01T12:00:00Z",
	"collector": {"name": "modelgate", "version": "0.1.0"},
	"model": {"name": "credit-scoring", "version": "2.3.0", "risk_tier": "medium", "task": "binary_classification"},
	"deployment": {"environment": "staging"},
	"data": {
		"schema": {"schema_path": "schema.yaml", "table_path": "data/train.parquet", "rows": 20000, "violations": []},
		"prohibited": {"table_path": "data/train.parquet", "sampled_rows": 10000, "detections": [
			# email is not prohibited in the base thresholds
			{"column": "contact", "category": "email", "match_fraction": 0.98, "matched_on": "values"},
		]},
		"lineage": {
			"source": "dvc",
			"steps": ["ingest", "deduplicate", "remove_pii", "featurize"],
			"stale": false,
			"training_data": "data/train.parquet",
		},
		"drift": {
			"reference_rows": 20000,
			"current_rows": 5000,
			"features": {
				"income": {"method": "ks", "score": 0.04, "p_value": 0.31, "threshold": 0.05, "drifted": false},
				"age": {"method": "ks", "score": 0.02, "p_value": 0.77, "threshold": 0.05, "drifted": false},
			},
			"drifted_share": 0.0,
		},
	},
}

promoted(doc, environment, tier) := object.union(doc, {
	"deployment": {"environment": environment},
	"model": {"risk_tier": tier},
})

with_detections(detections) := object.union(base, {"data": {"prohibited": {"detections": detections}}})

with_features(features, share) := object.union(object.union(base, {"data": {"drift": {"features": null}}}), {"data": {"drift": {"features": features, "drifted_share": share}}})

drifted(score) := {"method": "psi", "score": score, "p_value": null, "threshold": 0.2, "drifted": true}

steady := {"method": "psi", "score": 0.01, "threshold": 0.2, "drifted": false}

codes(violations) := {v.code | some v in violations}

# ---------------------------------------------------------------- compliant

test_compliant_data_has_no_findings if {
	count(checks.deny) == 0 with input as base
	count(checks.warn) == 0 with input as base
}

test_production_prohibits_email if {
	# compliant in staging, but production adds email to the prohibited categories
	some v in checks.deny with input as promoted(base, "production", "low")
	v.code == "data/prohibited-category"
	v.details.category == "email"
	v.details.prohibited_categories == ["date_of_birth", "email", "iban", "payment_card", "phone", "us_ssn"]
}

# ---------------------------------------------------------------- schema

test_schema_violation_is_denied if {
	doc := object.union(base, {"data": {"schema": {"violations": [
		{"field": "age", "check": "minimum", "failing_rows": 17, "message": "value below 18"},
		{"field": "*", "check": "unique", "failing_rows": 4},
	]}}})
	denied := checks.deny with input as doc
	count(denied) == 2
	some v in denied
	v.code == "data/schema-violation"
	v.details.field == "age"
	v.details.check == "minimum"
	v.details.measured == 17
	v.details.table == "data/train.parquet"
	v.msg == "Column age fails the minimum check in 17 rows of data/train.parquet: value below 18."
	some w in denied
	w.details.field == "*"
	w.msg == "The table fails the unique check in 4 rows of data/train.parquet."
}

test_missing_schema_section_is_reported if {
	doc := object.union(base, {"data": {"schema": null}})
	some v in checks.warn with input as doc
	v.code == "data/evidence-missing"
	v.details.section == "data.schema"
	some w in checks.deny with input as promoted(doc, "production", "low")
	w.code == "data/evidence-missing"
	w.details.section == "data.schema"
}

# ---------------------------------------------------------------- prohibited data

test_prohibited_category_is_denied if {
	doc := with_detections([{"column": "ssn", "category": "us_ssn", "match_fraction": 0.97, "matched_on": "both"}])
	some v in checks.deny with input as doc
	v.code == "data/prohibited-category"
	v.severity == "critical"
	v.details.column == "ssn"
	v.details.measured == 0.97
	v.details.threshold == 0.01
	v.details.threshold_source == "data.yaml: thresholds.data.max_prohibited_match_fraction"
	v.msg == "Column ssn of data/train.parquet contains us_ssn data (97% of sampled values match), which is prohibited in training data."
}

test_name_only_match_is_a_warning if {
	doc := with_detections([{"column": "ssn_hash", "category": "us_ssn", "match_fraction": 0, "matched_on": "name"}])
	count(checks.deny) == 0 with input as doc
	some v in checks.warn with input as doc
	v.code == "data/prohibited-category-suspected"
	v.details.column == "ssn_hash"
	v.details.matched_on == "name"
}

test_rare_match_blocks_in_production_only if {
	doc := with_detections([{"column": "notes", "category": "payment_card", "match_fraction": 0.004, "matched_on": "values"}])
	count(checks.deny) == 0 with input as doc
	"data/prohibited-category-suspected" in codes(checks.warn) with input as doc
	some v in checks.deny with input as promoted(doc, "production", "low")
	v.code == "data/prohibited-category"
	v.details.threshold == 0
}

test_prohibited_list_is_data if {
	doc := with_detections([{"column": "ip", "category": "ip_address", "match_fraction": 0.9, "matched_on": "values"}])
	count(checks.deny) == 0 with input as doc
	"data/prohibited-category" in codes(checks.deny) with input as promoted(doc, "staging", "high")
	"data/prohibited-category" in codes(checks.deny) with input as doc
		with data.thresholds.data.prohibited_categories as ["ip_address"]
}

test_missing_prohibited_scan_is_reported if {
	doc := object.union(base, {"data": {"prohibited": null}})
	some v in checks.warn with input as doc
	v.code == "data/evidence-missing"
	v.details.section == "data.prohibited"
}

# ---------------------------------------------------------------- lineage

test_required_step_missing_is_denied if {
	doc := object.union(base, {"data": {"lineage": {"steps": ["ingest", "featurize"]}}})
	denied := checks.deny with input as doc with data.thresholds.data.required_steps as ["deduplicate", "remove_pii"]
	{v.details.step | some v in denied; v.code == "data/required-step-missing"} == {"deduplicate", "remove_pii"}
	some v in denied
	v.details.step == "remove_pii"
	v.details.measured == ["ingest", "featurize"]
	v.details.threshold == ["deduplicate", "remove_pii"]
	v.msg == "The training data lineage (dvc) has no remove_pii step."
}

test_required_steps_present_pass if {
	count(checks.deny) == 0 with input as base with data.thresholds.data.required_steps as ["deduplicate", "remove_pii"]
}

test_required_steps_make_lineage_required if {
	doc := object.union(base, {"data": {"lineage": null}})
	count(checks.warn) == 0 with input as doc
	some v in checks.warn with input as doc with data.thresholds.data.required_steps as ["deduplicate"]
	v.code == "data/evidence-missing"
	v.details.section == "data.lineage"
}

test_stale_lineage_warns_in_staging_and_denies_in_production if {
	doc := object.union(base, {"data": {"lineage": {"stale": true}}})
	count(checks.deny) == 0 with input as doc
	some v in checks.warn with input as doc
	v.code == "data/lineage-stale"
	v.details.blocking == false
	v.msg == "The training data data/train.parquet is not the recorded output of its dvc pipeline."
	some w in checks.deny with input as promoted(doc, "production", "low")
	w.code == "data/lineage-stale"
	w.details.blocking == true
	w.details.threshold_source == "data.yaml: overrides.environment.production.data.require_fresh_lineage"
}

# ---------------------------------------------------------------- drift

test_drifted_share_above_maximum_is_denied if {
	doc := with_features({"a": drifted(0.3), "b": drifted(0.25), "c": steady, "d": steady, "e": drifted(0.5)}, 0.6)
	some v in checks.deny with input as doc
	v.code == "data/drift-share"
	v.details.measured == 0.6
	v.details.threshold == 0.30
	v.details.drifted_features == ["a", "b", "e"]
	v.msg == "60% of features drifted from training (a, b, e), above the maximum of 30%."
}

test_drifted_share_at_maximum_passes if {
	features := {"a": drifted(0.3), "b": drifted(0.3), "c": drifted(0.3), "d": steady, "e": steady, "f": steady, "g": steady, "h": steady, "i": steady, "j": steady}
	count(checks.deny) == 0 with input as with_features(features, 0.30)
}

# The share is that of the features drifted by the policy's thresholds, not the
# collector's.
test_drifted_share_is_recomputed_from_the_features if {
	doc := with_features({"a": drifted(0.3), "b": steady, "c": steady}, 0.0)
	some v in checks.deny with input as doc
	v.code == "data/drift-share"
	v.details.drifted_features == ["a"]
	v.msg == "33.3333% of features drifted from training (a), above the maximum of 30%."
}

ks(p_value) := {"method": "ks", "score": 0.2, "p_value": p_value, "threshold": 0.05, "drifted": p_value < 0.05}

test_p_value_below_the_threshold_is_drift if {
	doc := with_features({"income": ks(0.01), "b": steady, "c": steady, "d": steady, "e": steady}, 0.2)
	some v in checks.warn with input as doc
	v.code == "data/feature-drift"
	v.details.measured == 0.01
	v.details.threshold == 0.05
	v.details.score == 0.2
	v.details.threshold_source == "data.yaml: thresholds.data.min_drift_p_values.ks"
	v.msg == "Feature income drifted from training (ks p-value 0.01, below 0.05)."
}

# As Evidently: ks drifts at a p-value equal to the threshold, the other tests only below it.
test_p_value_at_the_threshold_is_drift_for_ks_only if {
	at_ks := with_features({"income": ks(0.05), "b": steady, "c": steady, "d": steady, "e": steady}, 0.2)
	some v in checks.warn with input as at_ks
	v.details.feature == "income"
	at_chisquare := with_features({"income": object.union(ks(0.05), {"method": "chisquare"}), "b": steady}, 0.0)
	count(checks.warn) == 0 with input as at_chisquare
}

test_a_method_the_policy_does_not_list_keeps_the_collector_threshold if {
	anderson := object.union(ks(0.02), {"method": "anderson", "threshold": 0.025})
	some v in checks.warn with input as with_features({"income": anderson, "b": steady}, 0.0)
	v.details.threshold == 0.025
	v.details.threshold_source == "evidence: data.drift.features.income.threshold"
}

test_policy_p_value_threshold_overrides_the_collector if {
	doc := with_features({"income": ks(0.01), "b": steady, "c": steady, "d": steady, "e": steady}, 0.2)
	count(checks.warn) == 0 with input as doc with data.thresholds.data.min_drift_p_values as {"ks": 0.001}
	some v in checks.warn with input as with_features({"income": ks(0.08), "b": steady}, 0.0)
		with data.thresholds.data.min_drift_p_values as {"ks": 0.1}
	v.details.threshold == 0.1
	v.details.threshold_source == "data.yaml: thresholds.data.min_drift_p_values.ks"
}

test_policy_distance_threshold_overrides_the_collector if {
	doc := with_features({"income": drifted(0.31), "b": steady, "c": steady, "d": steady, "e": steady}, 0.2)
	count(checks.warn) == 0 with input as doc with data.thresholds.data.max_drift_distances as {"psi": 0.4}
	some v in checks.warn with input as doc with data.thresholds.data.max_drift_distances as {"psi": 0.31}
	v.details.threshold == 0.31
	v.details.threshold_source == "data.yaml: thresholds.data.max_drift_distances.psi"
}

test_drifted_share_high_tier if {
	doc := with_features({"a": drifted(0.3), "b": steady, "c": steady, "d": steady, "e": steady}, 0.2)
	count(checks.deny) == 0 with input as doc
	some v in checks.deny with input as promoted(doc, "staging", "high")
	v.code == "data/drift-share"
	v.details.threshold == 0.10
}

test_drifted_feature_is_a_warning if {
	doc := with_features({"income": drifted(0.31), "b": steady, "c": steady, "d": steady, "e": steady}, 0.2)
	some v in checks.warn with input as doc
	v.code == "data/feature-drift"
	v.details.feature == "income"
	v.details.measured == 0.31
	v.details.threshold == 0.1
	v.details.threshold_source == "data.yaml: thresholds.data.max_drift_distances.psi"
	v.details.method == "psi"
	v.msg == "Feature income drifted from training (psi 0.31, threshold 0.1)."
	count(checks.deny) == 0 with input as doc
}

test_drifted_critical_feature_is_denied if {
	doc := with_features({"income": drifted(0.31), "b": steady, "c": steady, "d": steady, "e": steady}, 0.2)
	denied := checks.deny with input as doc with data.thresholds.data.critical_features as ["income"]
	warned := checks.warn with input as doc with data.thresholds.data.critical_features as ["income"]
	some v in denied
	v.code == "data/critical-feature-drift"
	v.details.feature == "income"
	v.details.critical_features == ["income"]
	not "data/feature-drift" in codes(warned)
}

test_missing_drift_is_fine_unless_required if {
	doc := object.union(base, {"data": {"drift": null}})
	count(checks.deny) == 0 with input as doc
	count(checks.warn) == 0 with input as doc
	some v in checks.deny with input as promoted(doc, "staging", "critical")
	v.code == "data/evidence-missing"
	v.details.section == "data.drift"
}

# ---------------------------------------------------------------- missing evidence

test_missing_data_section_warns_in_staging if {
	doc := object.union(base, {"data": null})
	count(checks.deny) == 0 with input as doc
	warned := checks.warn with input as doc
	count(warned) == 1
	some v in warned
	v.code == "data/evidence-missing"
	v.details.section == "data"
	v.details.required == false
}

test_missing_data_section_denies_in_production if {
	doc := promoted(object.union(base, {"data": null}), "production", "medium")
	some v in checks.deny with input as doc
	v.code == "data/evidence-missing"
	v.details.section == "data"
	v.details.required == true
	v.msg == "The evidence has no data section, so the training data was not checked."
}

# ---------------------------------------------------------------- catalog

everything_wrong := object.union(base, {"data": {
	"schema": {"violations": [{"field": "age", "check": "type", "failing_rows": 3}]},
	"prohibited": {"detections": [
		{"column": "ssn", "category": "us_ssn", "match_fraction": 0.9, "matched_on": "values"},
		{"column": "card_hash", "category": "payment_card", "match_fraction": 0, "matched_on": "name"},
	]},
	"lineage": {"steps": ["ingest"], "stale": true},
	"drift": {"features": {"income": object.union(drifted(0.5), {"current_non_finite": 4000}), "zip": drifted(0.4)}, "drifted_share": 1.0},
}})

missing_lineage := object.union(base, {"data": {"lineage": null}})

emitted := codes(checks.deny) | codes(checks.warn)

test_every_catalog_code_is_emitted_by_some_case if {
	from_wrong := emitted with input as everything_wrong
		with data.thresholds.data.required_steps as ["deduplicate"]
		with data.thresholds.data.critical_features as ["income"]
	from_missing := emitted with input as missing_lineage with data.thresholds.data.required_steps as ["deduplicate"]
	from_wrong | from_missing == {code | some code, _ in checks.catalog}
}

test_every_emitted_code_is_in_the_catalog if {
	docs := [everything_wrong, missing_lineage, object.union(base, {"data": null}), promoted(everything_wrong, "production", "critical")]
	every doc in docs {
		found := emitted with input as doc with data.thresholds.data.required_steps as ["deduplicate"]
		every code in found {
			checks.catalog[code]
		}
	}
}

test_catalog_entries_are_complete if {
	every code, entry in checks.catalog {
		startswith(code, "data/")
		regex.match(`^[a-z]+/[a-z0-9]+(-[a-z0-9]+)*$`, code)
		entry.severity in {"low", "medium", "high", "critical"}
		count(entry.title) > 0
		count(entry.description) > 0
		count(entry.remediation) > 0
	}
}

test_violations_have_the_contract_shape if {
	denied := checks.deny with input as everything_wrong
	warned := checks.warn with input as everything_wrong
	count(denied) > 0
	count(warned) > 0
	every v in denied | warned {
		is_string(v.code)
		is_string(v.msg)
		is_string(v.remediation)
		v.severity == checks.catalog[v.code].severity
		is_object(v.details)
	}
}

# ---------------------------------------------------------------- non-finite values

with_serving_infinities(n) := object.union(base, {"data": {"drift": {"features": {"income": {"current_non_finite": n}}}}})

test_serving_infinities_above_the_share_are_denied if {
	violations := checks.deny with input as with_serving_infinities(4500)
	some v in violations
	v.code == "data/non-finite-values"
	v.details.column == "income"
	v.details.rows == 5000
	v.details.measured == 0.9
	v.details.threshold == 0.01
	v.details.threshold_source == "data.yaml: thresholds.data.max_non_finite_share"
}

test_a_few_infinities_pass_in_staging_but_not_in_production if {
	doc := with_serving_infinities(10)
	not "data/non-finite-values" in codes(checks.deny) with input as doc
	"data/non-finite-values" in codes(checks.deny) with input as promoted(doc, "production", "medium")
}

test_nan_in_predictions_and_training_are_counted if {
	doc := object.union(base, {
		"evaluation": {"test_set": {"path": "p.csv", "digest": "sha256:x", "rows": 90, "rows_read": 100, "non_finite": {"score": 10}}},
		"data": {"schema": {"fields": [{"name": "age", "type": "number", "present": true, "non_finite": 300}]}},
	})
	found := {[v.details.table, v.details.column] | some v in checks.deny with input as doc; v.code == "data/non-finite-values"}
	found == {["p.csv", "score"], ["data/train.parquet", "age"]}
}
