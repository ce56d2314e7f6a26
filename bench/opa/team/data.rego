package modelgate.acme.data

import data.acme.lib
import rego.v1

drift := input.data.drift

# 16. share of drifted features
deny contains lib.violation("acme-data/drift-share", "high",
	"too many features drifted since training", {"measured": share, "threshold": limit}) if {
	limit := lib.setting("data", "max_drifted_share")
	share := drift.drifted_share
	share > limit
}

# 17. a protected feature drifted
deny contains lib.violation("acme-data/protected-feature-drift", "high",
	sprintf("the protected feature %s drifted", [name]), {"feature": name}) if {
	some name in lib.setting("data", "protected_features")
	drift.features[name].drifted == true
}

# 18. any other drifted feature
warn contains lib.violation("acme-data/feature-drift", "low",
	sprintf("the feature %s drifted", [name]), {"feature": name}) if {
	some name, stats in drift.features
	stats.drifted == true
	not name in lib.setting("data", "protected_features")
}

# 19. forbidden personal data in the training table
deny contains lib.violation("acme-data/forbidden-category", "critical",
	sprintf("column %s holds %s data", [detection.column, detection.category]),
	{"column": detection.column, "category": detection.category, "fraction": detection.match_fraction}) if {
	some detection in input.data.prohibited.detections
	detection.category in lib.setting("data", "forbidden_categories")
	detection.match_fraction > lib.setting("data", "max_detection_fraction")
}

# 20. lineage is current
deny contains lib.violation("acme-data/stale-lineage", "medium",
	"the training data does not match its recorded lineage", {"training_data": input.data.lineage.training_data}) if {
	input.data.lineage.stale == true
}

# 21. required pipeline steps ran
deny contains lib.violation("acme-data/step-missing", "medium",
	sprintf("the pipeline step %s did not run", [step]), {"step": step}) if {
	input.data.lineage
	some step in lib.setting("data", "required_steps")
	not step in input.data.lineage.steps
}
