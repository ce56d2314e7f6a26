//! OSV matching against osv.dev's own enumeration: PyPA's advisory records list the
//! affected versions that osv.dev computed from their ranges; evaluating the ranges alone,
//! modelgate must find every listed version affected and every fixing version not
//! (367 real records of the packages ML projects ship with, tests/fixtures/osv/).

mod util;

use modelgate::artifacts::osv;
use modelgate::artifacts::pep440::Version;

#[test]
fn ranges_agree_with_the_versions_osv_dev_enumerated() {
    let database = osv::load(&util::fixture("osv/pypa")).expect("load");
    let (mut records, mut listed, mut fixes) = (0, 0, 0);
    for (package, package_records) in &database {
        for record in package_records {
            records += 1;
            // The ranges alone: the enumerated versions are the reference.
            let mut ranges_only = record.clone();
            ranges_only.affected.iter_mut().for_each(|affected| affected.versions.clear());
            for affected in record.affected.iter().filter(|a| a.package.as_ref().is_some_and(|p| p.ecosystem == "PyPI"))
            {
                let has_ecosystem_range = affected.ranges.iter().any(|range| range.kind == "ECOSYSTEM");
                if !has_ecosystem_range || record.withdrawn.is_some() {
                    continue;
                }
                for text in &affected.versions {
                    let Some(version) = Version::parse(text) else { continue };
                    listed += 1;
                    assert!(
                        ranges_only.affects(package, &version).expect("judged"),
                        "{}: {package} {text} is listed as affected",
                        record.id
                    );
                }
                let events = affected.ranges.iter().filter(|range| range.kind == "ECOSYSTEM").flat_map(|r| &r.events);
                for fixed in events.filter_map(|event| event.fixed.as_deref()) {
                    let version = Version::parse(fixed).expect("a fixing version is PEP 440");
                    if affected.versions.iter().any(|text| Version::parse(text).is_some_and(|v| v == version)) {
                        continue; // fixed in one range, affected by another
                    }
                    fixes += 1;
                    assert!(
                        !ranges_only.affects(package, &version).expect("judged"),
                        "{}: {package} {fixed} fixes it",
                        record.id
                    );
                }
            }
        }
    }
    assert!(records >= 300 && listed > 10_000 && fixes >= 300, "{records} records, {listed} listed, {fixes} fixes");
}
