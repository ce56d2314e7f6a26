package modelgate.performance_test

import rego.v1

import data.modelgate.performance

shared_test_set := {"path": "data/test.parquet", "digest": "sha256:1111", "rows": 5000}

# A compliant medium-risk classifier on its way to staging, with the deployed
# model's figures on the same test set.
base := {
	"schema_version": "1",
	"collected_at": "2025-06-01T12:00:00Z",
	"collector": {"name": "modelgate", "version": "0.1.0"},
	"model": {"name": "credit-scoring", "version": "2.3.0", "risk_tier": "medium", "task": "binary_classification"},
	"deployment": {"environment": "staging"},
	"evaluation": {
		"test_set": shared_test_set,
		"metrics": {"accuracy": 0.91, "roc_auc": 0.94, "f1": 0.86, "precision": 0.88, "recall": 0.84},
		"fairness": null,
		"serving": {"latency_ms": {"p50": 40, "p95": 120, "p99": 210}, "throughput_rps": 180, "source": "loadtest.json"},
		"baseline": {
			"model_version": "2.2.0",
			"test_set": shared_test_set,
			"metrics": {"accuracy": 0.905, "roc_auc": 0.935, "f1": 0.86},
		},
	},
}

promoted(doc, environment, tier) := object.union(doc, {
	"deployment": {"environment": environment},
	"model": {"risk_tier": tier},
})

# base with its metrics replaced (not merged)
with_metrics(metrics) := object.union(object.union(base, {"evaluation": {"metrics": null}}), {"evaluation": {"metrics": metrics}})

without_baseline(doc) := object.union(doc, {"evaluation": {"baseline": null}})

with_baseline_metrics(doc, metrics) := object.union(object.union(doc, {"evaluation": {"baseline": {"metrics": null}}}), {"evaluation": {"baseline": {"metrics": metrics}}})

codes(violations) := {v.code | some v in violations}

# ---------------------------------------------------------------- compliant

test_compliant_model_has_no_findings if {
	count(performance.deny) == 0 with input as base
	count(performance.warn) == 0 with input as base
}

test_compliant_model_passes_production_and_critical if {
	doc := promoted(base, "production", "critical")
	count(performance.deny) == 0 with input as doc
	count(performance.warn) == 0 with input as doc
}

# ---------------------------------------------------------------- minimum metrics

test_metric_below_minimum_is_denied if {
	doc := without_baseline(object.union(base, {"evaluation": {"metrics": {"accuracy": 0.72}}}))
	denied := performance.deny with input as doc
	count(denied) == 1
	some v in denied
	v.code == "performance/metric-below-minimum"
	v.details.metric == "accuracy"
	v.details.measured == 0.72
	v.details.threshold == 0.80
	v.details.threshold_source == "data.yaml: thresholds.performance.min_metrics.accuracy"
	v.msg == "accuracy is 0.72, below the minimum of 0.8."
}

test_metric_at_minimum_passes if {
	doc := without_baseline(object.union(base, {"evaluation": {"metrics": {"accuracy": 0.80}}}))
	count(performance.deny) == 0 with input as doc
}

test_minimum_from_an_override_is_applied if {
	doc := without_baseline(object.union(base, {"evaluation": {"metrics": {"accuracy": 0.84}}}))
	count(performance.deny) == 0 with input as doc
	some v in performance.deny with input as doc
		with data.overrides.risk_tier.medium.performance.min_metrics as {"accuracy": 0.85}
	v.code == "performance/metric-below-minimum"
	v.details.threshold == 0.85
	v.details.threshold_source == "data.yaml: overrides.risk_tier.medium.performance.min_metrics.accuracy"
}

test_null_metric_is_not_measured if {
	doc := object.union(base, {"evaluation": {
		"metrics": {"roc_auc": null},
		"reasons": {"roc_auc": "only one class in y_true"},
	}})
	some v in performance.deny with input as doc
	v.code == "performance/metric-not-measured"
	v.details.metric == "roc_auc"
	v.details.measured == null
	v.details.threshold == 0.75
	v.details.reason == "only one class in y_true"
	v.msg == "roc_auc was not measured (only one class in y_true), so its minimum of 0.75 could not be checked."
}

test_absent_metric_is_not_measured if {
	doc := without_baseline(with_metrics({"accuracy": 0.9, "roc_auc": 0.9}))
	some v in performance.deny with input as doc
	v.code == "performance/metric-not-measured"
	v.details.metric == "f1"
	v.details.reason == "absent from the evidence"
}

test_not_measured_is_a_warning_when_evidence_is_optional if {
	doc := without_baseline(with_metrics({"accuracy": 0.9, "roc_auc": 0.9}))
	count(performance.deny) == 0 with input as doc with data.thresholds.performance.require_evidence as false
	some v in performance.warn with input as doc with data.thresholds.performance.require_evidence as false
	v.code == "performance/metric-not-measured"
}

test_classification_metrics_do_not_apply_to_regression if {
	doc := object.union(without_baseline(with_metrics({"rmse": 3.2})), {"model": {"task": "regression"}})
	count(performance.deny) == 0 with input as doc
	count(performance.warn) == 0 with input as doc
}

test_metric_above_maximum_is_denied if {
	doc := object.union(without_baseline(with_metrics({"rmse": 3.2})), {"model": {"task": "regression"}})
	some v in performance.deny with input as doc with data.thresholds.performance.max_metrics as {"rmse": 3.0}
	v.code == "performance/metric-above-maximum"
	v.details.measured == 3.2
	v.details.threshold == 3.0
	v.msg == "rmse is 3.2, above the maximum of 3."
	count(performance.deny) == 0 with input as doc with data.thresholds.performance.max_metrics as {"rmse": 3.5}
}

# ---------------------------------------------------------------- regression

test_absolute_regression_is_denied if {
	doc := with_baseline_metrics(base, {"accuracy": 0.94})
	some v in performance.deny with input as doc
	v.code == "performance/regression-absolute"
	v.details.metric == "accuracy"
	v.details.measured == 0.03
	v.details.threshold == 0.02
	v.details.candidate == 0.91
	v.details.baseline == 0.94
	v.details.baseline_version == "2.2.0"
	v.msg == "accuracy dropped by 0.03 (from 0.94 for the deployed model to 0.91), more than the maximum regression of 0.02."
}

test_regression_on_the_threshold_passes_in_both_engines if {
	# 0.86 - 0.76 > 0.1 is true with IEEE doubles if computed naively; the
	# policy computes in integer millionths, so the drop is exactly 0.1.
	doc := object.union(with_baseline_metrics(base, {"accuracy": 0.86}), {"evaluation": {"metrics": {"accuracy": 0.76}}})
	denied := performance.deny with input as doc with data.thresholds.performance.max_regression_absolute as 0.1
	not "performance/regression-absolute" in codes(denied)
	denied_tighter := performance.deny with input as doc with data.thresholds.performance.max_regression_absolute as 0.099999
	"performance/regression-absolute" in codes(denied_tighter)
}

test_small_regression_passes_staging_but_not_production if {
	doc := with_baseline_metrics(base, {"accuracy": 0.925})
	count(performance.deny) == 0 with input as doc
	some v in performance.deny with input as promoted(doc, "production", "low")
	v.code == "performance/regression-absolute"
	v.details.measured == 0.015
	v.details.threshold == 0.01
	v.details.threshold_source == "data.yaml: overrides.environment.production.performance.max_regression_absolute"
}

test_relative_regression_is_denied if {
	doc := object.union(with_baseline_metrics(base, {"roc_auc": 0.95}), {"evaluation": {"metrics": {"roc_auc": 0.90}}})
	denied := performance.deny with input as doc with data.thresholds.performance.max_regression_absolute as 0.1
	not "performance/regression-absolute" in codes(denied)
	some v in denied
	v.code == "performance/regression-relative"
	v.details.metric == "roc_auc"
	v.details.measured == 0.052632
	v.details.threshold == 0.05
	v.msg == "roc_auc dropped by 5.2632% of the deployed model's 0.95 (to 0.9), more than the maximum relative regression of 5%."
}

test_relative_regression_within_limit_passes if {
	doc := object.union(with_baseline_metrics(base, {"roc_auc": 0.95}), {"evaluation": {"metrics": {"roc_auc": 0.91}}})
	count(performance.deny) == 0 with input as doc with data.thresholds.performance.max_regression_absolute as 0.1
}

test_baseline_on_another_test_set_is_not_compared if {
	doc := object.union(with_baseline_metrics(base, {"accuracy": 0.99}), {"evaluation": {"baseline": {"test_set": {"digest": "sha256:2222"}}}})
	count(performance.deny) == 0 with input as doc
	some v in performance.warn with input as doc
	v.code == "performance/baseline-mismatch"
	v.details.measured == "sha256:1111"
	v.details.baseline_digest == "sha256:2222"
	v.details.baseline_version == "2.2.0"
}

test_baseline_without_test_set_is_compared if {
	doc := object.union(with_baseline_metrics(base, {"accuracy": 0.99}), {"evaluation": {"baseline": {"test_set": null}}})
	"performance/regression-absolute" in codes(performance.deny) with input as doc
	count(performance.warn) == 0 with input as doc
}

test_no_baseline_no_regression_check if {
	doc := object.union(without_baseline(base), {"evaluation": {"metrics": {"accuracy": 0.81}}})
	count(performance.deny) == 0 with input as doc
	count(performance.warn) == 0 with input as doc
}

# ---------------------------------------------------------------- serving

test_p95_latency_above_ceiling_is_denied if {
	doc := object.union(base, {"evaluation": {"serving": {"latency_ms": {"p95": 300}}}})
	some v in performance.deny with input as doc
	v.code == "performance/latency-p95"
	v.details.measured == 300
	v.details.threshold == 250
	v.details.report == "loadtest.json"
	v.msg == "p95 latency is 300 ms, above the ceiling of 250 ms."
}

test_p95_latency_production_ceiling if {
	doc := object.union(base, {"evaluation": {"serving": {"latency_ms": {"p95": 220}}}})
	count(performance.deny) == 0 with input as doc
	some v in performance.deny with input as promoted(doc, "production", "medium")
	v.code == "performance/latency-p95"
	v.details.threshold == 200
	v.details.threshold_source == "data.yaml: overrides.environment.production.performance.max_latency_p95_ms"
}

test_p99_latency_above_ceiling_is_denied if {
	doc := object.union(base, {"evaluation": {"serving": {"latency_ms": {"p99": 612.5}}}})
	some v in performance.deny with input as doc
	v.code == "performance/latency-p99"
	v.details.measured == 612.5
	v.msg == "p99 latency is 612.5 ms, above the ceiling of 500 ms."
}

test_p99_at_ceiling_passes if {
	doc := object.union(base, {"evaluation": {"serving": {"latency_ms": {"p99": 500}}}})
	count(performance.deny) == 0 with input as doc
}

test_throughput_below_floor_is_denied if {
	doc := object.union(base, {"evaluation": {"serving": {"throughput_rps": 20}}})
	some v in performance.deny with input as doc
	v.code == "performance/throughput"
	v.details.measured == 20
	v.details.threshold == 50
	v.msg == "Throughput is 20 requests/s, below the floor of 50 requests/s."
}

test_missing_serving_warns_in_staging_and_denies_in_production if {
	doc := object.union(base, {"evaluation": {"serving": null}})
	count(performance.deny) == 0 with input as doc
	warned := performance.warn with input as doc
	{v.details.metric | some v in warned; v.code == "performance/serving-not-measured"} == {"latency_p95_ms", "latency_p99_ms", "throughput_rps"}
	denied := performance.deny with input as promoted(doc, "production", "low")
	{v.details.metric | some v in denied; v.code == "performance/serving-not-measured"} == {"latency_p95_ms", "latency_p99_ms", "throughput_rps"}
}

test_null_percentile_is_not_measured if {
	doc := object.union(base, {"evaluation": {"serving": {"latency_ms": {"p99": null}}}})
	some v in performance.warn with input as doc
	v.code == "performance/serving-not-measured"
	v.details.metric == "latency_p99_ms"
	v.details.threshold == 500
}

# ---------------------------------------------------------------- missing evidence

test_missing_evaluation_is_denied_by_default if {
	doc := object.union(base, {"evaluation": null})
	denied := performance.deny with input as doc
	count(denied) == 1
	some v in denied
	v.code == "performance/evidence-missing"
	v.details.required == true
	v.details.threshold_source == "data.yaml: thresholds.performance.require_evidence"
}

test_missing_evaluation_warns_when_optional if {
	doc := object.union(base, {"evaluation": null})
	count(performance.deny) == 0 with input as doc with data.thresholds.performance.require_evidence as false
	some v in performance.warn with input as doc with data.thresholds.performance.require_evidence as false
	v.code == "performance/evidence-missing"
}

# ---------------------------------------------------------------- catalog

everything_wrong := object.union(with_metrics({"accuracy": 0.5, "roc_auc": null, "rmse": 9}), {"evaluation": {
	"baseline": {"metrics": {"accuracy": 0.9}},
	"serving": {"latency_ms": {"p95": 999, "p99": null}, "throughput_rps": 1},
}})

slow_tail := object.union(base, {"evaluation": {"serving": {"latency_ms": {"p99": 2000}}}})

mismatched := object.union(base, {"evaluation": {"baseline": {"test_set": {"digest": "sha256:9999"}}}})

emitted := codes(performance.deny) | codes(performance.warn)

test_every_catalog_code_is_emitted_by_some_case if {
	from_wrong := emitted with input as everything_wrong with data.thresholds.performance.max_metrics as {"rmse": 1}
	from_slow_tail := emitted with input as slow_tail
	from_mismatch := emitted with input as mismatched
	from_missing := emitted with input as object.union(base, {"evaluation": null})
	# (a line must not start with "(": regorus would read it as a call of the previous line's last name)
	found := ((from_wrong | from_slow_tail) | from_mismatch) | from_missing
	found == {code | some code, _ in performance.catalog}
}

test_every_emitted_code_is_in_the_catalog if {
	docs := [everything_wrong, slow_tail, mismatched, object.union(base, {"evaluation": null}), promoted(everything_wrong, "production", "critical")]
	every doc in docs {
		found := emitted with input as doc
		every code in found {
			performance.catalog[code]
		}
	}
}

test_catalog_entries_are_complete if {
	every code, entry in performance.catalog {
		startswith(code, "performance/")
		regex.match(`^[a-z]+/[a-z0-9]+(-[a-z0-9]+)*$`, code)
		entry.severity in {"low", "medium", "high", "critical"}
		count(entry.title) > 0
		count(entry.description) > 0
		count(entry.remediation) > 0
	}
}

test_violations_have_the_contract_shape if {
	denied := performance.deny with input as everything_wrong
	warned := performance.warn with input as everything_wrong
	count(denied) > 0
	count(warned) > 0
	every v in denied | warned {
		is_string(v.code)
		is_string(v.msg)
		is_string(v.remediation)
		v.severity == performance.catalog[v.code].severity
		is_object(v.details)
	}
}
