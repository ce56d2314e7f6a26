# Cross-package checks of the violation catalogs: every code is unique across
# packages and belongs to the category of the package that emits it.
package modelgate.catalog_test

import rego.v1

# Add a package here when you add a category.
catalogs := {
	"fairness": data.modelgate.fairness.catalog,
	"performance": data.modelgate.performance.catalog,
	"data": data.modelgate.data.catalog,
	"security": data.modelgate.security.catalog,
	"documentation": data.modelgate.documentation.catalog,
	"config": data.modelgate.config.catalog,
}

all_codes := [code | some _, catalog in catalogs; some code, _ in catalog]

test_codes_are_unique_across_packages if {
	count(all_codes) == count({code | some code in all_codes})
}

test_codes_are_prefixed_with_their_category if {
	every category, catalog in catalogs {
		every code, _ in catalog {
			startswith(code, concat("", [category, "/"]))
		}
	}
}

test_every_category_has_an_evidence_missing_rule if {
	every category, catalog in object.remove(catalogs, ["config"]) {
		catalog[concat("", [category, "/evidence-missing"])]
	}
}
