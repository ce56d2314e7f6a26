# Predictive and serving performance of the candidate model, from
# evaluation.metrics, evaluation.serving and evaluation.baseline (the model
# currently deployed).
package modelgate.performance

import rego.v1

import data.modelgate.lib

catalog := {
	"performance/metric-below-minimum": {
		"title": "Metric below its minimum",
		"description": "An overall metric listed in min_metrics (accuracy, roc_auc, f1, …) is below its minimum on the test set.",
		"severity": "high",
		"remediation": "Improve the model (features, data, tuning) until the metric reaches the minimum on the same test set, or have the governance team review the minimum.",
	},
	"performance/metric-above-maximum": {
		"title": "Metric above its maximum",
		"description": "An overall lower-is-better metric listed in max_metrics (rmse, log_loss, calibration error, …) is above its maximum.",
		"severity": "high",
		"remediation": "Improve the model until the metric is at or below the maximum on the same test set.",
	},
	"performance/metric-not-measured": {
		"title": "Required metric not measured",
		"description": "A metric with a minimum or maximum is absent or null in the evidence, so the threshold could not be checked.",
		"severity": "high",
		"remediation": "Compute the metric in the evaluation step (modelgate.toml [evaluation] metrics) on a test set where it is defined, e.g. with both classes present for roc_auc.",
	},
	"performance/regression-absolute": {
		"title": "Regression against the deployed model",
		"description": "A metric dropped by more than max_regression_absolute points compared with the model currently deployed, on the same test set.",
		"severity": "high",
		"remediation": "Compare the candidate with the deployed model on the shared test set and fix the cause of the drop before promoting it.",
	},
	"performance/regression-relative": {
		"title": "Relative regression against the deployed model",
		"description": "A metric dropped by more than max_regression_relative (a fraction of the deployed model's value) on the same test set.",
		"severity": "high",
		"remediation": "Compare the candidate with the deployed model on the shared test set and fix the cause of the drop before promoting it.",
	},
	"performance/baseline-mismatch": {
		"title": "Baseline measured on another test set",
		"description": "The deployed model's figures come from a different test set (digest) than the candidate's, so regression was not checked.",
		"severity": "medium",
		"remediation": "Re-evaluate the deployed model on the candidate's test set (or pin the test set) so the two can be compared.",
	},
	"performance/latency-p95": {
		"title": "p95 latency above its ceiling",
		"description": "The 95th percentile serving latency exceeds max_latency_p95_ms.",
		"severity": "high",
		"remediation": "Profile inference (batching, model size, hardware, serialization) and re-run the load test until p95 latency is under the ceiling.",
	},
	"performance/latency-p99": {
		"title": "p99 latency above its ceiling",
		"description": "The 99th percentile serving latency exceeds max_latency_p99_ms.",
		"severity": "high",
		"remediation": "Look for tail-latency causes (cold starts, garbage collection, oversized inputs) and re-run the load test until p99 latency is under the ceiling.",
	},
	"performance/throughput": {
		"title": "Throughput below its floor",
		"description": "Sustained serving throughput is below min_throughput_rps.",
		"severity": "high",
		"remediation": "Scale or optimise the serving path (batching, replicas, quantization) and re-run the load test.",
	},
	"performance/serving-not-measured": {
		"title": "Serving figure not measured",
		"description": "A latency or throughput figure with a threshold is missing from evaluation.serving, so the threshold could not be checked.",
		"severity": "medium",
		"remediation": "Run a load test against the candidate and record it (modelgate.toml [evaluation.serving] report, or `modelgate loadtest`).",
	},
	"performance/evidence-missing": {
		"title": "Evaluation evidence missing",
		"description": "The evidence has no evaluation section, so no performance check ran.",
		"severity": "high",
		"remediation": "Configure the evaluation step in modelgate.toml [evaluation] (predictions and labels, or a metrics file) and run `modelgate check`.",
	},
}

# Whether a metric is higher-is-better (min_metrics) or lower-is-better (max_metrics).
metric_bounds := {
	"min_metrics": {"code": "performance/metric-below-minimum", "side": "below", "bound": "minimum"},
	"max_metrics": {"code": "performance/metric-above-maximum", "side": "above", "bound": "maximum"},
}

# Serving figures: where they are in the evidence and their threshold key.
serving_checks := {
	"latency_p95_ms": {"key": "max_latency_p95_ms", "code": "performance/latency-p95", "label": "p95 latency", "unit": " ms", "side": "above", "bound": "ceiling"},
	"latency_p99_ms": {"key": "max_latency_p99_ms", "code": "performance/latency-p99", "label": "p99 latency", "unit": " ms", "side": "above", "bound": "ceiling"},
	"throughput_rps": {"key": "min_throughput_rps", "code": "performance/throughput", "label": "Throughput", "unit": " requests/s", "side": "below", "bound": "floor"},
}

_evaluation := evaluation if {
	evaluation := input.evaluation
	is_object(evaluation)
}

_metrics := metrics if {
	metrics := _evaluation.metrics
	is_object(metrics)
} else := {}

_reasons := reasons if {
	reasons := _evaluation.reasons
	is_object(reasons)
} else := {}

# The resolved thresholds, read once per evaluation: {key: value}. Their
# sources are looked up only for a violation. Comparisons stand in for
# is_number() where it would run per metric (`true < x; x < ""`: a number, see
# the performance notes in lib).
_settings := lib.settings("performance")

# The metrics each bound applies to, for this model's task, with their
# threshold: {[bound_key, metric, limit]}.
_checked := {[bound_key, metric, limit] |
	settings := _settings
	skipped := _not_applicable
	some bound_key, _ in metric_bounds
	configured := settings[bound_key]
	{} <= configured # a map
	some metric, limit in configured
	not metric in skipped
}

# The metrics that do not apply to this model's task.
_not_applicable := {metric | some metric in _skipped_metrics}

_skipped_metrics := skipped if {
	per_task := _settings.metrics_not_applicable # as lib.metric_threshold(…, input.model.task)
	skipped := per_task[input.model.task]
	is_array(skipped)
} else := []

# ---------------------------------------------------------------- minimum / maximum metrics

deny contains violation if {
	_evaluation
	metrics := _metrics
	some [bound_key, metric, limit] in _checked
	bound_key == "min_metrics"
	measured := metrics[metric]
	true < measured # numbers
	measured < ""
	true < limit
	limit < ""
	measured < limit
	violation := _metric_violation(bound_key, metric, measured, limit)
}

deny contains violation if {
	_evaluation
	metrics := _metrics
	some [bound_key, metric, limit] in _checked
	bound_key == "max_metrics"
	measured := metrics[metric]
	true < measured # numbers
	measured < ""
	true < limit
	limit < ""
	measured > limit
	violation := _metric_violation(bound_key, metric, measured, limit)
}

_metric_violation(bound_key, metric, measured, limit) := lib.violation(
	catalog,
	spec.code,
	sprintf("%s is %s, %s the %s of %s.", [metric, lib.num(measured), spec.side, spec.bound, lib.num(limit)]),
	{
		"measured": measured,
		"threshold": limit,
		"threshold_source": lib.metric_threshold("performance", bound_key, metric).source,
		"metric": metric,
	},
) if {
	spec := metric_bounds[bound_key]
}

deny contains violation if {
	_evidence_required
	some violation in _not_measured
}

warn contains violation if {
	not _evidence_required
	some violation in _not_measured
}

_evidence_required if _settings.require_evidence == true # as lib.evidence_required(…)

_not_measured := {violation |
	_evaluation
	metrics := _metrics
	some [bound_key, metric, limit] in _checked
	object.get(metrics, metric, null) == null # absent or null
	reason := object.get(_reasons, metric, "absent from the evidence")
	violation := lib.violation(
		catalog,
		"performance/metric-not-measured",
		sprintf("%s was not measured (%s), so its %s of %s could not be checked.", [
			metric,
			reason,
			metric_bounds[bound_key].bound,
			lib.num(limit),
		]),
		{
			"measured": null,
			"threshold": limit,
			"threshold_source": lib.metric_threshold("performance", bound_key, metric).source,
			"metric": metric,
			"reason": reason,
		},
	)
}

# ---------------------------------------------------------------- regression against the baseline

_baseline := baseline if {
	baseline := _evaluation.baseline
	is_object(baseline)
}

_candidate_digest := input.evaluation.test_set.digest

_baseline_digest := _baseline.test_set.digest

# Both test sets are named and they differ: the figures are not comparable.
_test_sets_differ if _candidate_digest != _baseline_digest

warn contains violation if {
	_test_sets_differ
	violation := lib.violation(
		catalog,
		"performance/baseline-mismatch",
		sprintf("The deployed model's figures were measured on another test set (%s, not %s), so regression was not checked.", [
			_baseline_digest,
			_candidate_digest,
		]),
		{
			"measured": _candidate_digest,
			"baseline_digest": _baseline_digest,
			"baseline_version": object.get(_baseline, "model_version", null),
		},
	)
}

# [metric, candidate, baseline, drop in millionths] for every min_metrics metric
# measured on both sides. Differences are computed on values scaled to integer
# millionths: IEEE doubles (regorus) and OPA's arbitrary-precision numbers then
# give the same drop for any figure with at most six decimals (0.86 - 0.76 is
# exactly 0.1 in both, not 0.09999999999999998).
_drops := {[metric, candidate, reference, round(reference * 1000000) - round(candidate * 1000000)] |
	_baseline
	not _test_sets_differ
	metrics := _metrics
	references := object.get(_baseline, "metrics", {})
	some [bound_key, metric, _] in _checked
	bound_key == "min_metrics"
	candidate := metrics[metric]
	true < candidate # a number
	candidate < ""
	reference := references[metric]
	true < reference # a number
	reference < ""
}

deny contains violation if {
	limit := _settings.max_regression_absolute
	true < limit # a number
	limit < ""
	limit_micro := round(limit * 1000000)
	some [metric, candidate, reference, drop] in _drops
	drop > limit_micro
	measured := drop / 1000000
	violation := lib.violation(
		catalog,
		"performance/regression-absolute",
		sprintf("%s dropped by %s (from %s for the deployed model to %s), more than the maximum regression of %s.", [
			metric,
			lib.num(measured),
			lib.num(reference),
			lib.num(candidate),
			lib.num(limit),
		]),
		{
			"measured": measured,
			"threshold": limit,
			"threshold_source": lib.source("performance", "max_regression_absolute"),
			"metric": metric,
			"candidate": candidate,
			"baseline": reference,
			"baseline_version": object.get(_baseline, "model_version", null),
		},
	)
}

deny contains violation if {
	limit := _settings.max_regression_relative
	true < limit # a number
	limit < ""
	limit_micro := round(limit * 1000000)
	some [metric, candidate, reference, drop] in _drops
	reference_micro := round(reference * 1000000)
	reference_micro > 0

	# drop / reference > limit, cross-multiplied to stay in integers
	drop * 1000000 > limit_micro * reference_micro
	measured := round((drop * 1000000) / reference_micro) / 1000000
	violation := lib.violation(
		catalog,
		"performance/regression-relative",
		sprintf("%s dropped by %s of the deployed model's %s (to %s), more than the maximum relative regression of %s.", [
			metric,
			lib.percent(measured),
			lib.num(reference),
			lib.num(candidate),
			lib.percent(limit),
		]),
		{
			"measured": measured,
			"threshold": limit,
			"threshold_source": lib.source("performance", "max_regression_relative"),
			"metric": metric,
			"candidate": candidate,
			"baseline": reference,
			"baseline_version": object.get(_baseline, "model_version", null),
		},
	)
}

# ---------------------------------------------------------------- serving

_serving := serving if {
	serving := _evaluation.serving
	is_object(serving)
} else := {}

_serving_values := {
	"latency_p95_ms": object.get(_serving, ["latency_ms", "p95"], null),
	"latency_p99_ms": object.get(_serving, ["latency_ms", "p99"], null),
	"throughput_rps": object.get(_serving, "throughput_rps", null),
}

deny contains violation if {
	settings := _settings
	figures := _serving_values
	some figure, spec in serving_checks
	limit := settings[spec.key]
	measured := figures[figure]
	true < measured # numbers
	measured < ""
	true < limit
	limit < ""
	_wrong_side(spec.side, measured, limit)
	violation := lib.violation(
		catalog,
		spec.code,
		sprintf("%s is %s%s, %s the %s of %s%s.", [
			spec.label,
			lib.num(measured),
			spec.unit,
			spec.side,
			spec.bound,
			lib.num(limit),
			spec.unit,
		]),
		{
			"measured": measured,
			"threshold": limit,
			"threshold_source": lib.source("performance", spec.key),
			"metric": figure,
			"report": object.get(_serving, "source", null),
		},
	)
}

_wrong_side("above", measured, limit) if measured > limit

_wrong_side("below", measured, limit) if measured < limit

deny contains violation if {
	_serving_evidence_required
	some violation in _serving_not_measured
}

warn contains violation if {
	not _serving_evidence_required
	some violation in _serving_not_measured
}

_serving_evidence_required if _settings.require_serving_evidence == true # as lib.enabled(…)

_serving_not_measured := {violation |
	_evaluation
	settings := _settings
	figures := _serving_values
	some figure, spec in serving_checks
	limit := settings[spec.key]
	figures[figure] == null
	violation := lib.violation(
		catalog,
		"performance/serving-not-measured",
		sprintf("%s was not measured, so its %s of %s%s could not be checked.", [
			spec.label,
			spec.bound,
			lib.num(limit),
			spec.unit,
		]),
		{
			"measured": null,
			"threshold": limit,
			"threshold_source": lib.source("performance", spec.key),
			"metric": figure,
		},
	)
}

# ---------------------------------------------------------------- missing evidence

deny contains _missing_evidence if {
	not _evaluation
	lib.evidence_required("performance")
}

warn contains _missing_evidence if {
	not _evaluation
	not lib.evidence_required("performance")
}

_missing_evidence := lib.violation(
	catalog,
	"performance/evidence-missing",
	"The evidence has no evaluation results, so model performance was not checked.",
	{
		"measured": null,
		"section": "evaluation",
		"required": _required_setting.value,
		"threshold_source": _required_setting.source,
	},
)

_required_setting := lib.threshold("performance", "require_evidence") if {
	lib.threshold("performance", "require_evidence")
} else := {"value": false, "source": "default (require_evidence is not set)"}
