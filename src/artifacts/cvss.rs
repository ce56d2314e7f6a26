//! CVSS v3.0 / v3.1 base scores computed from a vector string, for advisories that give
//! only the vector (OSV `severity: [{type: CVSS_V3, score: "CVSS:3.1/AV:N/…"}]`).
//!
//! The formulas and metric weights are those of the FIRST specification (v3.1, section
//! 7, and its "Roundup" definition in appendix A, which v3.0 vectors are scored with as
//! well, as the NVD does).

/// The base score and its qualitative rating.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score {
    pub base: f64,
    pub severity: &'static str,
}

/// Scores a `CVSS:3.x/AV:…/AC:…/PR:…/UI:…/S:…/C:…/I:…/A:…` vector; temporal and
/// environmental metrics may follow and are ignored (the base score is what advisories
/// rate). `None` when the vector is not a complete, valid v3 base vector.
pub fn base_score_v3(vector: &str) -> Option<Score> {
    let mut parts = vector.split('/');
    let version = parts.next()?;
    if version != "CVSS:3.0" && version != "CVSS:3.1" {
        return None;
    }
    let mut metrics: [Option<&str>; 8] = [None; 8];
    const NAMES: [&str; 8] = ["AV", "AC", "PR", "UI", "S", "C", "I", "A"];
    for part in parts {
        let (name, value) = part.split_once(':')?;
        if let Some(slot) = NAMES.iter().position(|&known| known == name) {
            if metrics[slot].replace(value).is_some() {
                return None; // a metric given twice
            }
        }
    }
    let [av, ac, pr, ui, s, c, i, a] = metrics;
    let changed = match s? {
        "U" => false,
        "C" => true,
        _ => return None,
    };
    let attack_vector = match av? {
        "N" => 0.85,
        "A" => 0.62,
        "L" => 0.55,
        "P" => 0.2,
        _ => return None,
    };
    let complexity = match ac? {
        "L" => 0.77,
        "H" => 0.44,
        _ => return None,
    };
    let privileges = match (pr?, changed) {
        ("N", _) => 0.85,
        ("L", false) => 0.62,
        ("L", true) => 0.68,
        ("H", false) => 0.27,
        ("H", true) => 0.5,
        _ => return None,
    };
    let interaction = match ui? {
        "N" => 0.85,
        "R" => 0.62,
        _ => return None,
    };
    let impact_of = |value: Option<&str>| match value? {
        "H" => Some(0.56),
        "L" => Some(0.22),
        "N" => Some(0.0),
        _ => None,
    };
    let (c, i, a) = (impact_of(c)?, impact_of(i)?, impact_of(a)?);
    let iss = 1.0 - (1.0 - c) * (1.0 - i) * (1.0 - a);
    let impact = if changed { 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02_f64).powi(15) } else { 6.42 * iss };
    let exploitability = 8.22 * attack_vector * complexity * privileges * interaction;
    let base = if impact <= 0.0 {
        0.0
    } else if changed {
        roundup((1.08 * (impact + exploitability)).min(10.0))
    } else {
        roundup((impact + exploitability).min(10.0))
    };
    Some(Score { base, severity: severity(base) })
}

/// The specification's Roundup: the smallest number with one decimal that is at least
/// `value`, computed on hundred-thousandths as the specification does, so that
/// floating-point noise (4.000000000001) does not round 4.0 up to 4.1.
fn roundup(value: f64) -> f64 {
    let scaled = (value * 100_000.0).round() as i64;
    if scaled % 10_000 == 0 {
        scaled as f64 / 100_000.0
    } else {
        ((scaled / 10_000) + 1) as f64 / 10.0
    }
}

/// The qualitative rating of a base score.
pub fn severity(base: f64) -> &'static str {
    if base == 0.0 {
        "none"
    } else if base < 4.0 {
        "low"
    } else if base < 7.0 {
        "medium"
    } else if base < 9.0 {
        "high"
    } else {
        "critical"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        for (vector, base) in [
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
            ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9),
            ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N", 5.5),
            ("CVSS:3.0/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", 3.1),
            ("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N", 0.0),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O", 9.8),
        ] {
            assert_eq!(base_score_v3(vector).map(|score| score.base), Some(base), "{vector}");
        }
        assert_eq!(base_score_v3("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").map(|s| s.severity), Some("critical"));
        for bad in [
            "",
            "CVSS:2.0/AV:N",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",
            "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        ] {
            assert!(base_score_v3(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn roundup_is_exact_on_one_decimal() {
        assert_eq!(roundup(4.0), 4.0);
        assert_eq!(roundup(4.000_000_000_001), 4.0);
        assert_eq!(roundup(4.000_01), 4.1);
        assert_eq!(roundup(4.02), 4.1);
        assert_eq!(roundup(9.999), 10.0);
    }
}
