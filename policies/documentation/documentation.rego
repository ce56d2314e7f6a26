# Model documentation, from the `documentation` section: the model card,
# the datasheet of the training data and the risk assessment.
#
# Problems with a document listed in required_documents block; the same
# problems with a document that is present but not required are warnings.
package modelgate.documentation

import rego.v1

import data.modelgate.lib

catalog := {
	"documentation/model-card-missing": {
		"title": "Model card missing",
		"description": "The model has no model card describing its intended use, limitations, training data and evaluation.",
		"severity": "high",
		"remediation": "Write a model card (e.g. the Hugging Face template) next to the model and point modelgate.toml [documentation] model_card at it.",
	},
	"documentation/datasheet-missing": {
		"title": "Datasheet missing",
		"description": "The training data has no datasheet describing its motivation, composition and collection process.",
		"severity": "high",
		"remediation": "Write a datasheet for the training data (Gebru et al., 'Datasheets for Datasets') and point modelgate.toml [documentation] datasheet at it.",
	},
	"documentation/risk-assessment-missing": {
		"title": "Risk assessment missing",
		"description": "The model has no risk assessment, which the organisation requires for this environment or risk tier.",
		"severity": "high",
		"remediation": "Complete the risk assessment with the risk team and point modelgate.toml [documentation] risk_assessment at it.",
	},
	"documentation/required-field-missing": {
		"title": "Required documentation field missing",
		"description": "A required field or section of a document is absent, empty or still a template placeholder.",
		"severity": "medium",
		"remediation": "Fill in the field named in the details with real content (template text such as '[More Information Needed]' counts as missing).",
	},
	"documentation/stale": {
		"title": "Document out of date",
		"description": "A document has not been updated for longer than max_age_days.",
		"severity": "medium",
		"remediation": "Review the document against the current model and data, update it, and commit the change.",
	},
	"documentation/version-mismatch": {
		"title": "Document describes another model version",
		"description": "A document names a model version other than the one being deployed.",
		"severity": "medium",
		"remediation": "Update the document for this model version (at least its version field and any changed results).",
	},
	"documentation/risk-review-overdue": {
		"title": "Risk assessment review overdue",
		"description": "The risk assessment's next review date has passed.",
		"severity": "high",
		"remediation": "Hold the scheduled risk review, record its outcome in the risk assessment and set the next review date.",
	},
	"documentation/review-date-invalid": {
		"title": "Risk review date unreadable",
		"description": "The risk assessment's next review date is not an RFC 3339 date, so whether the review is overdue could not be checked.",
		"severity": "medium",
		"remediation": "Write the next review date as YYYY-MM-DD (or a full RFC 3339 timestamp).",
	},
	"documentation/metric-claim-mismatch": {
		"title": "Documented metric contradicts the measured one",
		"description": "A metric value the document claims (model-index results, quantitative analysis) differs from what the gate measured on the held-out test set by more than max_metric_claim_difference.",
		"severity": "high",
		"remediation": "Update the claimed value to the measured one (or re-run the evaluation the card reports), so the card tells users what this model really does.",
	},
	"documentation/dataset-not-in-lineage": {
		"title": "Documented training data not in the lineage",
		"description": "The document names training data that the lineage of the training file does not contain.",
		"severity": "medium",
		"remediation": "Name the training data the lineage records (the training file or a source a step read), or fix the lineage if the card is right.",
	},
	"documentation/digest-mismatch": {
		"title": "Document describes another model artifact",
		"description": "The document names a model digest other than the one being deployed.",
		"severity": "medium",
		"remediation": "Update the digest in the document to the digest of the model being deployed.",
	},
	"documentation/invalid-content": {
		"title": "Document content unusable",
		"description": "A document holds a value of the wrong type or a date that does not parse, so it could not be checked as written.",
		"severity": "medium",
		"remediation": "Fix the value named in the message (docs/documentation.md shows the expected shape of each document).",
	},
	"documentation/undated": {
		"title": "Document has no date",
		"description": "No last-updated date was found in the document (front matter, its own date field, or git history), so its age could not be checked.",
		"severity": "low",
		"remediation": "Add `last_updated: YYYY-MM-DD` to the document's front matter (or keep it in a git checkout).",
	},
	"documentation/evidence-missing": {
		"title": "Documentation evidence missing",
		"description": "The evidence has no documentation section, so no documentation check ran.",
		"severity": "high",
		"remediation": "Configure modelgate.toml [documentation] with the paths of the model card, datasheet and risk assessment, and run `modelgate check` (or `modelgate docs`).",
	},
}

# The documents modelgate knows, with the code for a missing one.
documents := {
	"model_card": {"label": "model card", "missing": "documentation/model-card-missing"},
	"datasheet": {"label": "datasheet", "missing": "documentation/datasheet-missing"},
	"risk_assessment": {"label": "risk assessment", "missing": "documentation/risk-assessment-missing"},
}

_documentation := section if {
	section := input.documentation
	is_object(section)
}

# The resolved thresholds, read once per evaluation: {key: value}. Their
# sources are looked up only for a violation (lib.source, _setting).
_settings := lib.settings("documentation")

_required_documents := documents if {
	documents := _settings.required_documents
	[] <= documents # a list (see the performance notes in lib)
	documents < {}
} else := []

_required := lib.list_threshold("documentation", "required_documents") if {
	lib.list_threshold("documentation", "required_documents")
} else := {"value": [], "source": "default (required_documents is not set)"}

_is_required(name) if name in _required_documents

# true/false rather than undefined, for use inside objects.
_required_flag(name) := true if {
	_is_required(name)
} else := false

# Present documents by name.
_present := {name: document |
	some name, _ in documents
	document := _documentation[name]
	is_object(document)
	document.present == true
}

# ---------------------------------------------------------------- missing documents

deny contains violation if {
	_documentation
	present := _present
	some name in _required_documents
	spec := documents[name]
	not present[name]
	violation := lib.violation(
		catalog,
		spec.missing,
		sprintf("The %s is missing; it is required here.", [spec.label]),
		{
			"measured": false,
			"threshold": true,
			"threshold_source": _required.source,
			"document": name,
			"required_documents": _required_documents,
		},
	)
}

# ---------------------------------------------------------------- required fields

# [name, field, reason] for every required field of a present document that
# is absent or not populated.
_field_problems := {[name, field, "absent"] |
	required := _settings.required_fields
	some name, document in _present
	fields := required[name]
	[] <= fields # a list (see the performance notes in lib)
	fields < {}
	entries := object.get(document, "fields", {})
	some field in fields
	not entries[field]
} | {[name, field, reason] |
	required := _settings.required_fields
	some name, document in _present
	fields := required[name]
	[] <= fields # a list
	fields < {}
	entries := object.get(document, "fields", {})
	some field in fields
	entry := entries[field]
	entry.populated == false
	reason := _reason(entry)
}

# Why a field is missing, with what is missing when the evidence says
# ("incomplete: no owner for R2").
_reason(entry) := concat(": ", [_text_or(object.get(entry, "reason", null), "not populated"), entry.detail]) if {
	is_string(entry.detail)
	entry.detail != ""
} else := _text_or(object.get(entry, "reason", null), "not populated")

deny contains violation if {
	some [name, field, reason] in _field_problems
	_is_required(name)
	violation := _field_violation(name, field, reason)
}

warn contains violation if {
	some [name, field, reason] in _field_problems
	not _is_required(name)
	violation := _field_violation(name, field, reason)
}

_field_violation(name, field, reason) := lib.violation(
	catalog,
	"documentation/required-field-missing",
	sprintf("The %s's %s field is missing (%s)%s.", [documents[name].label, field, reason, _where(entry)]),
	{
		"measured": reason,
		"threshold": resolved.value,
		"threshold_source": resolved.source,
		"document": name,
		"field": field,
		"path": object.get(_present[name], "path", null),
		"heading": object.get(entry, "heading", null),
		"line": object.get(entry, "line", null),
		"blocking": _required_flag(name),
	},
) if {
	resolved := lib.metric_threshold("documentation", "required_fields", name)
	entry := object.get(object.get(_present[name], "fields", {}), field, {})
}

# Where the field was looked at: ` under "Uses" (line 34)`, or nothing.
_where(entry) := sprintf(" under \"%s\" (line %d)", [entry.heading, entry.line]) if {
	is_string(entry.heading)
	is_number(entry.line)
} else := sprintf(" at `%s`", [entry.heading]) if {
	is_string(entry.heading)
} else := ""

# ---------------------------------------------------------------- stale documents

deny contains violation if {
	some violation in _stale
	violation.details.blocking
}

warn contains violation if {
	some violation in _stale
	not violation.details.blocking
}

_stale := {violation |
	limit := _settings.max_age_days
	true < limit # a number
	limit < ""
	some name, document in _present
	age := object.get(document, "age_days", null)
	true < age # a number
	age < ""
	age > limit
	violation := lib.violation(
		catalog,
		"documentation/stale",
		sprintf("The %s was last updated %s days ago, more than the maximum of %s days.", [
			documents[name].label,
			lib.num(age),
			lib.num(limit),
		]),
		{
			"measured": age,
			"threshold": limit,
			"threshold_source": lib.source("documentation", "max_age_days"),
			"document": name,
			"last_updated": object.get(document, "last_updated", null),
			"path": object.get(document, "path", null),
			"blocking": _required_flag(name),
		},
	)
}

# ---------------------------------------------------------------- version

deny contains violation if {
	some violation in _version_mismatch
	violation.details.blocking
}

warn contains violation if {
	some violation in _version_mismatch
	not violation.details.blocking
}

_version_mismatch := {violation |
	some name, document in _present
	named := object.get(document, "model_version", null)
	is_string(named)
	named != input.model.version
	setting := _setting("require_document_version_match")
	violation := lib.violation(
		catalog,
		"documentation/version-mismatch",
		sprintf("The %s describes model version %s, but version %s is being deployed.", [
			documents[name].label,
			named,
			input.model.version,
		]),
		{
			"measured": named,
			"threshold": input.model.version,
			"threshold_source": setting.source,
			"document": name,
			"path": object.get(document, "path", null),
			"blocking": _blocking_version_mismatch(name, setting.value),
		},
	)
}

_blocking_version_mismatch(name, setting) := _blocking_setting(name, setting)

# Blocks when the setting is on and the document is required.
_blocking_setting(name, setting) := true if {
	setting == true
	_is_required(name)
} else := false

# ---------------------------------------------------------------- risk review

_review_due := due if {
	due := _present.risk_assessment.next_review_due
	is_string(due)
}

# The end of the due date: a bare date is due by the end of that day (UTC).
_review_deadline_ns := _review_date_ns + lib.days(1) if {
	count(_review_due) == 10 # a bare date (a timestamp that parses is longer)
} else := _review_date_ns

# Computed once: both the overdue and the unreadable-date checks need it.
_review_date_ns := lib.date_ns(_review_due)

deny contains violation if {
	some violation in _review_overdue
	violation.details.blocking
}

warn contains violation if {
	some violation in _review_overdue
	not violation.details.blocking
}

# Dates are judged as of the evidence's collection, so that a decision replays the
# same from the audit store; evidence without a usable time uses the clock.
_now_ns := lib.date_ns(input.collected_at) if {
	lib.date_ns(input.collected_at)
} else := time.now_ns()

_review_overdue := {violation |
	now := _now_ns
	now >= _review_deadline_ns
	days := floor((now - _review_deadline_ns) / lib.days(1))
	violation := lib.violation(
		catalog,
		"documentation/risk-review-overdue",
		sprintf("The risk assessment review was due on %s and is overdue.", [_review_due]),
		{
			"measured": _review_due,
			"threshold": "a next review date in the future",
			"days_overdue": days,
			"path": object.get(_present.risk_assessment, "path", null),
			"blocking": _required_flag("risk_assessment"),
		},
	)
}

warn contains violation if {
	_review_due
	not _review_date_ns
	violation := lib.violation(
		catalog,
		"documentation/review-date-invalid",
		sprintf("The risk assessment's next review date %s is not a date, so the review schedule was not checked.", [_review_due]),
		{
			"measured": _review_due,
			"threshold": "an RFC 3339 date (YYYY-MM-DD)",
			"path": object.get(_present.risk_assessment, "path", null),
		},
	)
}

# ---------------------------------------------------------------- claims against measurements

deny contains violation if {
	some violation in _claim_mismatch
	violation.details.blocking
}

warn contains violation if {
	some violation in _claim_mismatch
	not violation.details.blocking
}

_claim_mismatch := {violation |
	tolerance := lib.threshold("documentation", "max_metric_claim_difference")
	true < tolerance.value # a number
	tolerance.value < ""
	some name, document in _present
	some claim in object.get(document, "claims", [])
	difference := claim.difference
	true < difference # a number (null when not compared)
	difference < ""
	difference > tolerance.value
	violation := lib.violation(
		catalog,
		"documentation/metric-claim-mismatch",
		sprintf("The %s claims %s = %s, but the gate measured %s on the test set (difference %s, tolerance %s).", [
			documents[name].label,
			claim.metric,
			lib.num(claim.claimed),
			lib.num(claim.measured),
			lib.num(difference),
			lib.num(tolerance.value),
		]),
		{
			"measured": difference,
			"claimed": claim.claimed,
			"measured_value": claim.measured,
			"threshold": tolerance.value,
			"threshold_source": tolerance.source,
			"metric": claim.metric,
			"document": name,
			"source": claim.source,
			"path": object.get(document, "path", null),
			"blocking": _required_flag(name),
		},
	)
}

# ---------------------------------------------------------------- datasets against lineage

deny contains violation if {
	some violation in _dataset_mismatch
	violation.details.blocking
}

warn contains violation if {
	some violation in _dataset_mismatch
	not violation.details.blocking
}

_dataset_mismatch := {violation |
	setting := _setting("require_dataset_match")
	some name, document in _present
	some dataset in object.get(document, "datasets", [])
	dataset.in_lineage == false
	violation := lib.violation(
		catalog,
		"documentation/dataset-not-in-lineage",
		sprintf("The %s names %s as training data, but the lineage of the training file does not contain it.", [
			documents[name].label,
			dataset.name,
		]),
		{
			"measured": dataset.name,
			"threshold": "a dataset the lineage names",
			"threshold_source": setting.source,
			"document": name,
			"source": dataset.source,
			"lineage": object.get(input, ["data", "lineage", "path"], null),
			"path": object.get(document, "path", null),
			"blocking": _blocking_setting(name, setting.value),
		},
	)
}

# ---------------------------------------------------------------- digest

deny contains violation if {
	some violation in _digest_mismatch
	violation.details.blocking
}

warn contains violation if {
	some violation in _digest_mismatch
	not violation.details.blocking
}

_digest_mismatch := {violation |
	deployed := input.model.digest
	is_string(deployed)
	some name, document in _present
	named := object.get(document, "model_digest", null)
	is_string(named)
	named != deployed
	setting := _setting("require_document_version_match")
	violation := lib.violation(
		catalog,
		"documentation/digest-mismatch",
		sprintf("The %s names model digest %s, but %s is being deployed.", [documents[name].label, named, deployed]),
		{
			"measured": named,
			"threshold": deployed,
			"threshold_source": setting.source,
			"document": name,
			"path": object.get(document, "path", null),
			"blocking": _blocking_setting(name, setting.value),
		},
	)
}

# ---------------------------------------------------------------- unusable content, no date

deny contains violation if {
	some violation in _invalid_content
	violation.details.blocking
}

warn contains violation if {
	some violation in _invalid_content
	not violation.details.blocking
}

_invalid_content := {violation |
	some name, document in _present
	some problem in object.get(document, "problems", [])
	violation := lib.violation(
		catalog,
		"documentation/invalid-content",
		sprintf("The %s (%s): %s.", [documents[name].label, _text_or(object.get(document, "path", null), name), problem]),
		{
			"measured": problem,
			"threshold": "content of the documented shape",
			"document": name,
			"path": object.get(document, "path", null),
			"blocking": _required_flag(name),
		},
	)
}

warn contains violation if {
	limit := _settings.max_age_days
	true < limit # a number: only when ages are checked
	limit < ""
	some name, document in _present
	object.get(document, "last_updated", null) == null
	object.get(document, "age_days", null) == null
	violation := lib.violation(
		catalog,
		"documentation/undated",
		sprintf("The %s has no last-updated date, so whether it is current (at most %s days old) was not checked.", [
			documents[name].label,
			lib.num(limit),
		]),
		{
			"measured": null,
			"threshold": limit,
			"threshold_source": lib.source("documentation", "max_age_days"),
			"document": name,
			"path": object.get(document, "path", null),
		},
	)
}

# ---------------------------------------------------------------- missing evidence

deny contains _missing_evidence if {
	not _documentation
	lib.evidence_required("documentation")
}

warn contains _missing_evidence if {
	not _documentation
	not lib.evidence_required("documentation")
}

_missing_evidence := lib.violation(
	catalog,
	"documentation/evidence-missing",
	"The evidence has no documentation section, so the model card, datasheet and risk assessment were not checked.",
	{
		"measured": null,
		"section": "documentation",
		"required": _setting("require_evidence").value,
		"threshold_source": _setting("require_evidence").source,
		"required_documents": _required_documents,
	},
)

# ---------------------------------------------------------------- helpers

# A boolean setting with where it came from; false when set nowhere.
_setting(key) := lib.threshold("documentation", key) if {
	lib.threshold("documentation", key)
} else := {"value": false, "source": sprintf("default (%s is not set)", [key])}

_text_or(value, fallback) := value if {
	is_string(value)
	value != ""
} else := fallback
