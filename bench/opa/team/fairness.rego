package modelgate.acme.fairness

import data.acme.lib
import rego.v1

fairness := object.get(input, ["evaluation", "fairness"], {})

# 10. demographic parity difference
deny contains lib.violation("acme-fairness/parity-difference", "critical",
	sprintf("selection rates differ too much across %s", [attribute]),
	{"attribute": attribute, "measured": value, "threshold": limit}) if {
	limit := lib.setting("fairness", "max_demographic_parity_difference")
	some attribute, figures in fairness
	value := figures.demographic_parity_difference
	value > limit
}

# 11. disparate impact (four-fifths rule)
deny contains lib.violation("acme-fairness/disparate-impact", "high",
	sprintf("the disparate impact ratio across %s is below the floor", [attribute]),
	{"attribute": attribute, "measured": value, "threshold": floor}) if {
	floor := lib.setting("fairness", "min_disparate_impact_ratio")
	some attribute, figures in fairness
	value := figures.demographic_parity_ratio
	value < floor
}

# 12. equalized odds
deny contains lib.violation("acme-fairness/equalized-odds", "high",
	sprintf("error rates differ too much across %s", [attribute]),
	{"attribute": attribute, "measured": value, "threshold": limit}) if {
	limit := lib.setting("fairness", "max_equalized_odds_difference")
	some attribute, figures in fairness
	value := figures.equalized_odds_difference
	value > limit
}

# 13. equal opportunity
warn contains lib.violation("acme-fairness/equal-opportunity", "medium",
	sprintf("true positive rates differ across %s", [attribute]),
	{"attribute": attribute, "measured": value, "threshold": limit}) if {
	limit := lib.setting("fairness", "max_equal_opportunity_difference")
	some attribute, figures in fairness
	value := figures.equal_opportunity_difference
	value > limit
}

# 14. every protected attribute was assessed
deny contains lib.violation("acme-fairness/attribute-not-assessed", "high",
	sprintf("fairness was not assessed across %s", [attribute]), {"attribute": attribute}) if {
	some attribute in lib.setting("fairness", "required_attributes")
	not fairness[attribute]
}

# 15. high-risk models are assessed on intersections too
warn contains lib.violation("acme-fairness/no-intersection", "low",
	"a high-risk model has no intersectional fairness assessment", {}) if {
	input.model.risk_tier in {"high", "critical"}
	count([attribute | some attribute, _ in fairness; contains(attribute, ",")]) == 0
}
