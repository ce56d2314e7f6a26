package modelgate.documentation_test

import rego.v1

import data.modelgate.documentation

# 2025-06-15T15:06:40Z
now := 1750000000000000000

populated(names) := {name: {"populated": true} | some name in names}

model_card := {
	"present": true,
	"path": "MODEL_CARD.md",
	"format": "huggingface",
	"fields": populated(["intended_use", "out_of_scope_use", "limitations", "training_data", "evaluation", "ethical_considerations"]),
	"last_updated": "2025-05-16",
	"age_days": 30,
	"model_version": "2.3.0",
}

datasheet := {
	"present": true,
	"path": "docs/datasheet.md",
	"format": "markdown",
	"fields": populated(["motivation", "composition", "collection_process", "preprocessing", "uses"]),
	"age_days": 90,
}

risk_assessment := {
	"present": true,
	"path": "docs/risk.yaml",
	"format": "yaml",
	"fields": populated(["intended_purpose", "risks", "mitigations", "risk_owners", "human_oversight", "reviewer", "next_review_due"]),
	"age_days": 60,
	"model_version": "2.3.0",
	"next_review_due": "2025-12-31",
}

# A compliant medium-risk model on its way to staging, with all three documents.
base := {
	"schema_version": "1",
	"collected_at": "2025-06-15T15:06:40Z",
	"collector": {"name": "modelgate", "version": "0.1.0"},
	"model": {"name": "credit-scoring", "version": "2.3.0", "risk_tier": "medium", "task": "binary_classification", "digest": "sha256:aa"},
	"deployment": {"environment": "staging"},
	"documentation": {"model_card": model_card, "datasheet": datasheet, "risk_assessment": risk_assessment},
}

promoted(doc, environment, tier) := object.union(doc, {
	"deployment": {"environment": environment},
	"model": {"risk_tier": tier},
})

with_document(name, patch) := object.union(base, {"documentation": {name: patch}})

# replace a document's fields (object.union would merge them)
with_fields(name, fields) := object.union(with_document(name, {"fields": null}), {"documentation": {name: {"fields": fields}}})

codes(violations) := {v.code | some v in violations}

deny_at(doc) := denied if {
	denied := documentation.deny with input as doc with time.now_ns as now
}

warn_at(doc) := warned if {
	warned := documentation.warn with input as doc with time.now_ns as now
}

# ---------------------------------------------------------------- compliant

test_compliant_documentation_has_no_findings if {
	count(deny_at(base)) == 0
	count(warn_at(base)) == 0
}

test_compliant_documentation_passes_production_and_high_tier if {
	count(deny_at(promoted(base, "production", "high"))) == 0
	count(warn_at(promoted(base, "production", "high"))) == 0
}

# ---------------------------------------------------------------- missing documents

test_missing_model_card_is_denied if {
	doc := with_document("model_card", {"present": false, "fields": {}})
	denied := deny_at(doc)
	count(denied) == 1
	some v in denied
	v.code == "documentation/model-card-missing"
	v.details.document == "model_card"
	v.details.threshold_source == "data.yaml: thresholds.documentation.required_documents"
	v.msg == "The model card is missing; it is required here."
}

test_null_model_card_is_missing if {
	"documentation/model-card-missing" in codes(deny_at(object.union(base, {"documentation": {"model_card": null}})))
}

test_datasheet_required_in_production_only if {
	doc := object.union(base, {"documentation": {"datasheet": null}})
	count(deny_at(doc)) == 0
	some v in deny_at(promoted(doc, "production", "low"))
	v.code == "documentation/datasheet-missing"
	v.details.required_documents == ["datasheet", "model_card"]
	v.details.threshold_source == "data.yaml: thresholds.documentation.required_documents + overrides.environment.production.documentation.required_documents"
}

test_risk_assessment_required_for_high_risk if {
	doc := with_document("risk_assessment", {"present": false})
	count(deny_at(doc)) == 0
	count(deny_at(promoted(doc, "production", "low"))) == 0
	some v in deny_at(promoted(doc, "staging", "high"))
	v.code == "documentation/risk-assessment-missing"
	v.severity == "high"
}

# ---------------------------------------------------------------- required fields

test_placeholder_field_in_required_document_is_denied if {
	doc := with_document("model_card", {"fields": {"limitations": {"populated": false, "reason": "placeholder"}}})
	denied := deny_at(doc)
	count(denied) == 1
	some v in denied
	v.code == "documentation/required-field-missing"
	v.details.document == "model_card"
	v.details.field == "limitations"
	v.details.measured == "placeholder"
	v.details.threshold_source == "data.yaml: thresholds.documentation.required_fields.model_card"
	v.details.blocking == true
	v.msg == "The model card's limitations field is missing (placeholder)."
}

test_absent_field_is_missing if {
	doc := with_fields("model_card", populated(["intended_use", "limitations", "training_data", "evaluation"]))
	some v in deny_at(doc)
	v.code == "documentation/required-field-missing"
	v.details.field == "ethical_considerations"
	v.details.measured == "absent"
}

test_field_of_optional_document_is_a_warning if {
	doc := with_document("datasheet", {"fields": {"composition": {"populated": false, "reason": "empty"}}})
	count(deny_at(doc)) == 0
	some v in warn_at(doc)
	v.code == "documentation/required-field-missing"
	v.details.document == "datasheet"
	v.details.blocking == false
	some w in deny_at(promoted(doc, "production", "low"))
	w.details.field == "composition"
}

test_required_fields_are_data if {
	count(deny_at(base)) == 0
	denied := documentation.deny with input as base
		with time.now_ns as now
		with data.thresholds.documentation.required_fields.model_card as ["intended_use", "carbon_footprint"]
	some v in denied
	v.details.field == "carbon_footprint"
}

# ---------------------------------------------------------------- stale

test_stale_required_document_is_denied if {
	doc := with_document("model_card", {"age_days": 400})
	some v in deny_at(doc)
	v.code == "documentation/stale"
	v.details.measured == 400
	v.details.threshold == 365
	v.msg == "The model card was last updated 400 days ago, more than the maximum of 365 days."
}

test_document_at_max_age_passes if {
	count(deny_at(with_document("model_card", {"age_days": 365}))) == 0
}

test_production_max_age_is_stricter if {
	doc := with_document("model_card", {"age_days": 200})
	count(deny_at(doc)) == 0
	some v in deny_at(promoted(doc, "production", "low"))
	v.code == "documentation/stale"
	v.details.threshold == 180
}

test_stale_optional_document_is_a_warning if {
	doc := with_document("datasheet", {"age_days": 500})
	count(deny_at(doc)) == 0
	some v in warn_at(doc)
	v.code == "documentation/stale"
	v.details.document == "datasheet"
}

test_unknown_age_is_not_stale if {
	count(deny_at(with_document("model_card", {"age_days": null}))) == 0
}

# ---------------------------------------------------------------- version

test_version_mismatch_warns_in_staging_denies_in_production if {
	doc := with_document("model_card", {"model_version": "2.2.0"})
	count(deny_at(doc)) == 0
	some v in warn_at(doc)
	v.code == "documentation/version-mismatch"
	v.details.measured == "2.2.0"
	v.details.threshold == "2.3.0"
	v.msg == "The model card describes model version 2.2.0, but version 2.3.0 is being deployed."
	some w in deny_at(promoted(doc, "production", "low"))
	w.code == "documentation/version-mismatch"
	w.details.threshold_source == "data.yaml: overrides.environment.production.documentation.require_document_version_match"
}

test_document_without_version_passes if {
	doc := with_document("model_card", {"model_version": null})
	count(deny_at(promoted(doc, "production", "low"))) == 0
	count(warn_at(promoted(doc, "production", "low"))) == 0
}

# ---------------------------------------------------------------- risk review

test_overdue_review_is_denied_when_risk_assessment_required if {
	doc := promoted(with_document("risk_assessment", {"next_review_due": "2025-06-01"}), "staging", "high")
	some v in deny_at(doc)
	v.code == "documentation/risk-review-overdue"
	v.details.measured == "2025-06-01"
	v.details.days_overdue == 13
	v.msg == "The risk assessment review was due on 2025-06-01 and is overdue."
}

test_overdue_review_of_optional_assessment_is_a_warning if {
	doc := with_document("risk_assessment", {"next_review_due": "2025-06-01"})
	count(deny_at(doc)) == 0
	"documentation/risk-review-overdue" in codes(warn_at(doc))
}

test_review_due_today_is_not_overdue if {
	doc := promoted(with_document("risk_assessment", {"next_review_due": "2025-06-15"}), "staging", "high")
	count(deny_at(doc)) == 0
	next_day := object.union(doc, {"collected_at": "2025-06-16T00:00:00Z"})
	"documentation/risk-review-overdue" in codes(deny_at(next_day))
}

# The review date is judged as of the evidence's collection, not the clock of
# whoever re-evaluates it; evidence without a time falls back to the clock.
test_review_is_judged_at_collection_time if {
	doc := promoted(with_document("risk_assessment", {"next_review_due": "2025-06-20"}), "staging", "high")
	count(deny_at(doc)) == 0
	count(documentation.deny) == 0 with input as doc with time.now_ns as 1760000000000000000
	untimed := json.remove(doc, ["collected_at"])
	"documentation/risk-review-overdue" in codes(documentation.deny) with input as untimed with time.now_ns as 1760000000000000000
	bad := object.union(doc, {"collected_at": "yesterday"})
	count(documentation.deny) == 0 with input as bad with time.now_ns as now
}

test_review_timestamp_in_the_past_is_overdue if {
	doc := promoted(with_document("risk_assessment", {"next_review_due": "2025-06-15T15:00:00Z"}), "staging", "high")
	"documentation/risk-review-overdue" in codes(deny_at(doc))
}

test_unreadable_review_date_is_reported if {
	doc := with_document("risk_assessment", {"next_review_due": "Q3"})
	count(deny_at(doc)) == 0
	some v in warn_at(doc)
	v.code == "documentation/review-date-invalid"
	v.details.measured == "Q3"
}

test_impossible_review_date_is_reported_not_an_error if {
	doc := promoted(with_document("risk_assessment", {"next_review_due": "2025-02-30"}), "staging", "high")
	count(deny_at(doc)) == 0
	some v in warn_at(doc)
	v.code == "documentation/review-date-invalid"
}

test_incomplete_field_names_what_is_missing if {
	doc := with_fields("risk_assessment", object.union(risk_assessment.fields, {"risk_owners": {"populated": false, "reason": "incomplete", "detail": "no owner for R2, R3"}}))
	some v in deny_at(promoted(doc, "staging", "high"))
	v.code == "documentation/required-field-missing"
	v.details.measured == "incomplete: no owner for R2, R3"
	v.msg == "The risk assessment's risk_owners field is missing (incomplete: no owner for R2, R3)."
}

test_missing_field_says_where_it_was_looked_at if {
	fields := object.union(model_card.fields, {"limitations": {"populated": false, "reason": "placeholder", "source": "section", "heading": "Bias, Risks, and Limitations", "line": 36}, "evaluation": {"populated": false, "reason": "empty", "source": "front_matter", "heading": "model-index"}})
	denied := {v.msg | some v in deny_at(with_fields("model_card", fields)); v.code == "documentation/required-field-missing"}
	denied == {
		"The model card's limitations field is missing (placeholder) under \"Bias, Risks, and Limitations\" (line 36).",
		"The model card's evaluation field is missing (empty) at `model-index`.",
	}
}

# Which fields are required is data, per risk tier: a critical model's card must
# also say who answers for it.
test_required_fields_follow_the_risk_tier if {
	high := promoted(base, "staging", "high")
	count(deny_at(high)) == 0
	critical := promoted(base, "staging", "critical")
	missing := {v.details.field | some v in deny_at(critical); v.code == "documentation/required-field-missing"; v.details.document == "model_card"}
	missing == {"model_description", "contact"}
}

# ---------------------------------------------------------------- claims

claim(metric, claimed, measured) := {
	"metric": metric,
	"claimed": claimed,
	"measured": measured,
	"difference": abs(claimed - measured),
	"source": "model-index[0].results[0].metrics[0]",
}

test_claim_contradicting_the_measurement_is_denied if {
	doc := with_document("model_card", {"claims": [claim("accuracy", 0.93, 0.88), claim("roc_auc", 0.912, 0.915)]})
	denied := [v | some v in deny_at(doc); v.code == "documentation/metric-claim-mismatch"]
	count(denied) == 1
	v := denied[0]
	v.details.metric == "accuracy"
	v.details.claimed == 0.93
	v.details.measured_value == 0.88
	v.details.measured == abs(0.93 - 0.88)
	v.details.threshold == 0.01
	v.details.threshold_source == "data.yaml: thresholds.documentation.max_metric_claim_difference"
	v.msg == "The model card claims accuracy = 0.93, but the gate measured 0.88 on the test set (difference 0.05, tolerance 0.01)."
}

test_claims_not_compared_raise_nothing if {
	doc := with_document("model_card", {"claims": [{"metric": "bleu", "claimed": 0.4, "measured": null, "difference": null, "source": "x", "not_compared": "the gate does not measure bleu"}]})
	count(deny_at(doc)) == 0
	count(warn_at(doc)) == 0
}

test_claim_in_an_optional_document_is_a_warning if {
	doc := with_document("datasheet", {"claims": [claim("accuracy", 0.93, 0.88)]})
	count(deny_at(doc)) == 0
	"documentation/metric-claim-mismatch" in codes(warn_at(doc))
}

# ---------------------------------------------------------------- datasets, digest, content, dates

test_dataset_missing_from_lineage_warns_unless_required if {
	doc := with_document("model_card", {"datasets": [{"name": "s3://other/loans.csv", "source": "front_matter:datasets", "in_lineage": false}, {"name": "data/train.parquet", "source": "front_matter:datasets", "in_lineage": true}]})
	count(deny_at(doc)) == 0
	warned := [v | some v in warn_at(doc); v.code == "documentation/dataset-not-in-lineage"]
	count(warned) == 1
	warned[0].details.measured == "s3://other/loans.csv"
	strict := object.union(doc, {"data": {"lineage": {"path": "dvc.lock"}}})
	"documentation/dataset-not-in-lineage" in codes(documentation.deny) with input as strict with data.thresholds.documentation.require_dataset_match as true with time.now_ns as now
}

test_unknown_lineage_is_no_finding if {
	doc := with_document("model_card", {"datasets": [{"name": "internal/loans", "source": "front_matter:datasets", "in_lineage": null}]})
	count(warn_at(doc)) == 0
}

test_digest_mismatch_is_reported if {
	doc := with_document("model_card", {"model_digest": "sha256:bb"})
	"documentation/digest-mismatch" in codes(warn_at(doc))
	same := with_document("model_card", {"model_digest": "sha256:aa"})
	count(warn_at(same)) == 0
	production := promoted(doc, "production", "medium")
	"documentation/digest-mismatch" in codes(deny_at(production))
}

test_unusable_content_is_reported if {
	doc := with_document("model_card", {"problems": ["front matter `license` (line 2): expected a string or a list of strings, found a list of numbers"]})
	some v in deny_at(doc)
	v.code == "documentation/invalid-content"
	v.msg == "The model card (MODEL_CARD.md): front matter `license` (line 2): expected a string or a list of strings, found a list of numbers."
	optional := with_document("datasheet", {"problems": ["`motivation`: x"]})
	"documentation/invalid-content" in codes(warn_at(optional))
}

test_undated_document_is_a_warning if {
	doc := with_document("risk_assessment", {"age_days": null})
	count(deny_at(doc)) == 0
	some v in warn_at(doc)
	v.code == "documentation/undated"
	v.details.document == "risk_assessment"
}

# ---------------------------------------------------------------- missing evidence

test_missing_documentation_warns_in_staging if {
	doc := object.union(base, {"documentation": null})
	count(deny_at(doc)) == 0
	warned := warn_at(doc)
	count(warned) == 1
	some v in warned
	v.code == "documentation/evidence-missing"
	v.details.required == false
}

test_missing_documentation_denies_in_production if {
	doc := promoted(object.union(base, {"documentation": null}), "production", "low")
	denied := deny_at(doc)
	count(denied) == 1
	some v in denied
	v.code == "documentation/evidence-missing"
	v.details.required == true
	v.details.required_documents == ["datasheet", "model_card"]
}

# ---------------------------------------------------------------- catalog

everything_wrong := object.union(base, {"documentation": {
	"model_card": {
		"fields": {"limitations": {"populated": false}}, "age_days": 999, "model_version": "1.0.0",
		"model_digest": "sha256:bb", "claims": [claim("accuracy", 0.93, 0.88)],
		"datasets": [{"name": "elsewhere", "source": "front_matter:datasets", "in_lineage": false}],
		"problems": ["`date`: `31/02/2026` is not a date; write YYYY-MM-DD"],
	},
	"datasheet": {"present": false},
	"risk_assessment": {"next_review_due": "2020-01-01", "age_days": null},
}})

emitted_at(doc) := codes(deny_at(doc)) | codes(warn_at(doc))

test_every_catalog_code_is_emitted_by_some_case if {
	found := (((emitted_at(promoted(everything_wrong, "production", "low")) | emitted_at(object.union(base, {"documentation": {"model_card": null, "risk_assessment": null}}))) | emitted_at(promoted(object.union(base, {"documentation": {"risk_assessment": null}}), "staging", "high"))) | emitted_at(with_document("risk_assessment", {"next_review_due": "soon"}))) | emitted_at(object.union(base, {"documentation": null}))
	found == {code | some code, _ in documentation.catalog}
}

test_every_emitted_code_is_in_the_catalog if {
	docs := [everything_wrong, promoted(everything_wrong, "production", "critical"), object.union(base, {"documentation": null})]
	every doc in docs {
		every code in emitted_at(doc) {
			documentation.catalog[code]
		}
	}
}

test_catalog_entries_are_complete if {
	every code, entry in documentation.catalog {
		startswith(code, "documentation/")
		regex.match(`^[a-z]+/[a-z0-9]+(-[a-z0-9]+)*$`, code)
		entry.severity in {"low", "medium", "high", "critical"}
		count(entry.title) > 0
		count(entry.description) > 0
		count(entry.remediation) > 0
	}
}

test_violations_have_the_contract_shape if {
	denied := deny_at(everything_wrong)
	warned := warn_at(everything_wrong)
	count(denied) > 0
	count(warned) > 0
	every v in denied | warned {
		is_string(v.code)
		is_string(v.msg)
		is_string(v.remediation)
		v.severity == documentation.catalog[v.code].severity
		is_object(v.details)
	}
}
