package modelgate.acme.release

import data.acme.lib
import rego.v1

# 27. an owner from an approved domain
deny contains lib.violation("acme-release/owner", "medium",
	"the model's owner is not an approved team address", {"owner": owner}) if {
	owner := object.get(input, ["model", "owner"], "")
	domain := split(owner, "@")[1]
	not domain in lib.setting("release", "allowed_owner_domains")
}

deny contains lib.violation("acme-release/owner", "medium", "the model names no owner", {"owner": owner}) if {
	owner := object.get(input, ["model", "owner"], "")
	not contains(owner, "@")
}

# 28. a semantic version
deny contains lib.violation("acme-release/version", "low",
	sprintf("version %s is not semantic (MAJOR.MINOR.PATCH)", [input.model.version]), {}) if {
	not regex.match(`^[0-9]+\.[0-9]+\.[0-9]+$`, input.model.version)
}

# 29. a model card
deny contains lib.violation("acme-release/model-card", "medium", "the model has no model card", {}) if {
	not input.documentation.model_card.present
}

# 30. high-risk models have a current risk review
deny contains lib.violation("acme-release/risk-review", "high",
	"a high-risk model has no current risk assessment", {"risk_tier": input.model.risk_tier}) if {
	input.model.risk_tier in {"high", "critical"}
	not _reviewed
}

_reviewed if {
	input.documentation.risk_assessment.present == true
	input.documentation.risk_assessment.review_overdue != true
}
