package modelgate.acme.performance

import data.acme.lib
import rego.v1

metrics := object.get(input, ["evaluation", "metrics"], {})

# 1. every required metric reaches its floor
deny contains lib.violation("acme-performance/metric-below-floor", "high",
	sprintf("%s is below the floor set for %s", [name, lib.environment]),
	{"metric": name, "measured": value, "threshold": floor}) if {
	some name, floor in lib.setting("performance", "min_metrics")
	value := metrics[name]
	value != null
	value < floor
}

# 2. every required metric was measured
deny contains lib.violation("acme-performance/metric-missing", "high",
	sprintf("%s was not measured", [name]), {"metric": name}) if {
	some name, _ in lib.setting("performance", "min_metrics")
	object.get(metrics, name, null) == null
}

# 3. no regression against the deployed model
deny contains lib.violation("acme-performance/accuracy-regression", "high",
	"accuracy dropped against the deployed model",
	{"delta": delta, "threshold": limit}) if {
	delta := input.evaluation.baseline.deltas.accuracy
	limit := lib.setting("performance", "max_accuracy_drop")
	delta < 0 - limit
}

# 4. calibration
warn contains lib.violation("acme-performance/poor-calibration", "medium",
	"the Brier score is above the limit", {"measured": brier, "threshold": limit}) if {
	brier := metrics.brier
	limit := lib.setting("performance", "max_calibration_brier")
	brier > limit
}

serving := input.evaluation.serving

# 5. latency p95
deny contains lib.violation("acme-performance/latency-p95", "high",
	sprintf("p95 latency is above the limit for %s", [lib.environment]),
	{"measured": serving.latency_ms.p95, "threshold": limit}) if {
	limit := lib.setting("performance", "max_latency_p95_ms")
	serving.latency_ms.p95 > limit
}

# 6. latency p99
deny contains lib.violation("acme-performance/latency-p99", "medium",
	"p99 latency is above the limit", {"measured": serving.latency_ms.p99, "threshold": limit}) if {
	limit := lib.setting("performance", "max_latency_p99_ms")
	serving.latency_ms.p99 > limit
}

# 7. throughput
deny contains lib.violation("acme-performance/throughput", "medium",
	"throughput is below the floor", {"measured": serving.throughput_rps, "threshold": floor}) if {
	floor := lib.setting("performance", "min_throughput_rps")
	serving.throughput_rps < floor
}

# 8. serving errors
deny contains lib.violation("acme-performance/error-rate", "high",
	"the load test saw too many errors", {"measured": serving.error_rate, "threshold": limit}) if {
	limit := lib.setting("performance", "max_error_rate")
	serving.error_rate > limit
}

# 9. no load test at all
warn contains lib.violation("acme-performance/not-load-tested", "low",
	"the model was not load tested", {}) if {
	not input.evaluation.serving
}
