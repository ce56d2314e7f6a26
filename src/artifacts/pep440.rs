//! Python package versions as PEP 440 defines them: parsing with every alternative
//! spelling the specification normalises (`1.0-alpha.1`, `v1.0`, `1.0-1`, `1.0.DEV`),
//! and the total order it defines (epochs, pre-, post- and development releases, local
//! versions), which vulnerability ranges are compared in.

use std::cmp::Ordering;
use std::sync::OnceLock;

use regex::Regex;

/// A parsed version; equal versions compare equal whatever their spelling
/// (`1.0` == `1.0.0`, `1.0a1` == `1.0.alpha-1`).
#[derive(Debug, Clone)]
pub struct Version {
    pub epoch: u64,
    pub release: Vec<u64>,
    pub pre: Option<(Pre, u64)>,
    pub post: Option<u64>,
    pub dev: Option<u64>,
    pub local: Vec<Local>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Pre {
    Alpha,
    Beta,
    Rc,
}

/// A segment of a local version label: numbers sort after strings, and by value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Local {
    Text(String),
    Number(u64),
}

impl PartialOrd for Local {
    fn partial_cmp(&self, other: &Local) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Local {
    fn cmp(&self, other: &Local) -> Ordering {
        match (self, other) {
            (Local::Number(a), Local::Number(b)) => a.cmp(b),
            (Local::Text(a), Local::Text(b)) => a.cmp(b),
            (Local::Number(_), Local::Text(_)) => Ordering::Greater,
            (Local::Text(_), Local::Number(_)) => Ordering::Less,
        }
    }
}

/// The pattern of PEP 440's appendix B, case-insensitive, whole string.
fn pattern() -> &'static Regex {
    static PATTERN: OnceLock<Regex> = OnceLock::new();
    PATTERN.get_or_init(|| {
        Regex::new(
            r"(?ix)^\s*v?
            (?:(?P<epoch>[0-9]+)!)?
            (?P<release>[0-9]+(?:\.[0-9]+)*)
            (?:[-_.]?(?P<pre_l>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?P<pre_n>[0-9]+)?)?
            (?:(?:-(?P<post_n1>[0-9]+))|(?:[-_.]?(?P<post_l>post|rev|r)[-_.]?(?P<post_n2>[0-9]+)?))?
            (?:[-_.]?(?P<dev_l>dev)[-_.]?(?P<dev_n>[0-9]+)?)?
            (?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?
            \s*$",
        )
        .expect("the PEP 440 pattern compiles")
    })
}

impl Version {
    /// Parses `text`; `None` when it is not a PEP 440 version (or a number in it does
    /// not fit 64 bits).
    pub fn parse(text: &str) -> Option<Version> {
        let captures = pattern().captures(text)?;
        let number = |name: &str| captures.name(name).map(|m| m.as_str().parse::<u64>());
        let epoch = number("epoch").transpose().ok()?.unwrap_or(0);
        let release = captures
            .name("release")?
            .as_str()
            .split('.')
            .map(|part| part.parse::<u64>().ok())
            .collect::<Option<Vec<_>>>()?;
        let pre = match captures.name("pre_l") {
            Some(label) => {
                let kind = match label.as_str().to_ascii_lowercase().as_str() {
                    "a" | "alpha" => Pre::Alpha,
                    "b" | "beta" => Pre::Beta,
                    _ => Pre::Rc,
                };
                Some((kind, number("pre_n").transpose().ok()?.unwrap_or(0)))
            }
            None => None,
        };
        let post = match (number("post_n1").transpose().ok()?, captures.name("post_l")) {
            (Some(n), _) => Some(n),
            (None, Some(_)) => Some(number("post_n2").transpose().ok()?.unwrap_or(0)),
            (None, None) => None,
        };
        let dev = match captures.name("dev_l") {
            Some(_) => Some(number("dev_n").transpose().ok()?.unwrap_or(0)),
            None => None,
        };
        let local = captures
            .name("local")
            .map(|local| {
                local
                    .as_str()
                    .split(['.', '-', '_'])
                    .map(|part| match part.parse::<u64>() {
                        Ok(n) if part.bytes().all(|b| b.is_ascii_digit()) => Local::Number(n),
                        _ => Local::Text(part.to_ascii_lowercase()),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Some(Version { epoch, release, pre, post, dev, local })
    }

    /// A pre-release or development release (`1.0a1`, `1.0.dev0`).
    pub fn is_prerelease(&self) -> bool {
        self.pre.is_some() || self.dev.is_some()
    }

    /// The release numbers without trailing zeros: `1.0.0` and `1` are the same release.
    fn release_key(&self) -> &[u64] {
        let end = self.release.iter().rposition(|&n| n != 0).map_or(0, |i| i + 1);
        &self.release[..end]
    }

    /// Where the version stands among the releases of its release number: a development
    /// release of the final release sorts before its pre-releases, a final release after
    /// them (as in PEP 440 and `packaging`).
    fn pre_key(&self) -> (u8, Option<(Pre, u64)>) {
        match (self.pre, self.post, self.dev) {
            (None, None, Some(_)) => (0, None),
            (Some(pre), _, _) => (1, Some(pre)),
            (None, _, _) => (2, None),
        }
    }
}

impl std::fmt::Display for Version {
    /// The normalised form.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.epoch != 0 {
            write!(f, "{}!", self.epoch)?;
        }
        let release: Vec<String> = self.release.iter().map(u64::to_string).collect();
        write!(f, "{}", release.join("."))?;
        if let Some((kind, n)) = self.pre {
            let label = match kind {
                Pre::Alpha => "a",
                Pre::Beta => "b",
                Pre::Rc => "rc",
            };
            write!(f, "{label}{n}")?;
        }
        if let Some(n) = self.post {
            write!(f, ".post{n}")?;
        }
        if let Some(n) = self.dev {
            write!(f, ".dev{n}")?;
        }
        if !self.local.is_empty() {
            let local: Vec<String> = self
                .local
                .iter()
                .map(|part| match part {
                    Local::Text(text) => text.clone(),
                    Local::Number(n) => n.to_string(),
                })
                .collect();
            write!(f, "+{}", local.join("."))?;
        }
        Ok(())
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Version) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| self.release_key().cmp(other.release_key()))
            .then_with(|| self.pre_key().cmp(&other.pre_key()))
            // No post-release sorts before any post-release.
            .then_with(|| self.post.map(|n| n + 1).cmp(&other.post.map(|n| n + 1)))
            // No development release sorts after any development release.
            .then_with(|| self.dev.map_or(u128::MAX, u128::from).cmp(&other.dev.map_or(u128::MAX, u128::from)))
            .then_with(|| self.local.cmp(&other.local))
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Version) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Version) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Version {
        Version::parse(text).unwrap_or_else(|| panic!("{text} parses"))
    }

    #[test]
    fn normalises_alternative_spellings() {
        for (text, normal) in [
            ("1.0", "1.0"),
            ("v1.0", "1.0"),
            ("1.0-alpha.1", "1.0a1"),
            ("1.0.ALPHA", "1.0a0"),
            ("1.0c2", "1.0rc2"),
            ("1.0-preview-3", "1.0rc3"),
            ("1.0-1", "1.0.post1"),
            ("1.0.rev", "1.0.post0"),
            ("1.0_r4", "1.0.post4"),
            ("1.0-dev", "1.0.dev0"),
            ("2!1.0+Ubuntu-1_2", "2!1.0+ubuntu.1.2"),
            ("  1.2.3.post4.dev5  ", "1.2.3.post4.dev5"),
        ] {
            assert_eq!(v(text).to_string(), normal, "{text}");
        }
        for bad in ["", "1.0.", "a1", "1.0+", "1.0+-x", "1..0", "1.0 beta", "99999999999999999999999"] {
            assert!(Version::parse(bad).is_none(), "{bad} is not a version");
        }
    }

    #[test]
    fn orders_as_the_specification_says() {
        // PEP 440's own example order, plus epochs and locals.
        let ordered = [
            "1.0.dev456",
            "1.0a1",
            "1.0a2.dev456",
            "1.0a12.dev456",
            "1.0a12",
            "1.0b1.dev456",
            "1.0b2",
            "1.0b2.post345.dev456",
            "1.0b2.post345",
            "1.0rc1.dev456",
            "1.0rc1",
            "1.0",
            "1.0+abc.5",
            "1.0+abc.7",
            "1.0+5",
            "1.0.post456.dev34",
            "1.0.post456",
            "1.0.15",
            "1.1.dev1",
            "1!0.1",
        ];
        for pair in ordered.windows(2) {
            assert!(v(pair[0]) < v(pair[1]), "{} < {}", pair[0], pair[1]);
        }
        assert_eq!(v("1.0"), v("1.0.0"));
        assert_eq!(v("1.0a1"), v("1.0.alpha-1"));
        assert!(v("1.0a1").is_prerelease() && v("1.0.dev0").is_prerelease() && !v("1.0.post1").is_prerelease());
    }
}
