//! The detectors: the built-in list (one visible table, [`BUILTINS`]) and the ones a user
//! adds (a regex, an optional validator, optional column-name patterns), and the
//! classification of one value into the detectors it matches.
//!
//! A value matches a detector *strongly* when it has a shape that rarely occurs by
//! chance and passes the detector's validator (a formatted SSN, an IBAN, an email), and
//! *weakly* when it is a bare run of digits that passes a check a random number also
//! passes now and then (nine digits with a valid SSN structure, Luhn-valid digits).
//! Weak matches count only in a column that also matches the detector by name, or in
//! which nearly every value of that shape passes the check (a column of random 9-digit
//! ids has about 11% structurally invalid SSNs, a column of SSNs none): see
//! [`Gate`]. Values with whitespace that match nothing as a whole are searched for
//! embedded matches (free text).

use regex::{Regex, RegexBuilder, RegexSet};

use super::validators::{self, Validator};
use crate::error::{Error, ErrorKind, Result};

/// When weak matches count in a column.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Gate {
    /// Every match counts.
    None,
    /// Only when the column name matches.
    Name,
    /// When the column name matches, or at least `min_share` of the column's values of
    /// the detector's shape pass (and there are at least [`MIN_SHAPE_VALUES`] of them).
    NameOrConsistent { min_share: f64 },
    /// Dates: when the column name suggests a birth date, or at least `min_share` of the
    /// column's dates give an age of 16 to 100 years.
    NameOrAdultDates { min_share: f64 },
}

/// Fewer values of a detector's shape than this in a column: its weak matches count only
/// when the column name matches.
pub const MIN_SHAPE_VALUES: u64 = 30;

/// A built-in detector.
pub struct Builtin {
    pub name: &'static str,
    /// Column-name pattern, matched against the normalised column name ([`normalise`]).
    pub column_names: &'static str,
    /// Unanchored pattern of the detector's values inside free text, validated by
    /// `validate`, or `""` when the category is not searched for in free text.
    pub embedded: &'static str,
    pub validate: fn(&[u8]) -> bool,
    pub gate: Gate,
    /// Column-name pattern under which the detector's value matches do not count
    /// (`app_version` holds `1.2.3.4`, which is not an address), or `""`.
    pub not_in_columns: &'static str,
}

macro_rules! tokens {
    ($pattern:literal) => {
        concat!("(?:^|_)(?:", $pattern, ")(?:_|$)")
    };
}

/// The built-in detectors; their index is their bit in a [`Class`]. The category each
/// reports is its name.
pub const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "us_ssn",
        column_names: tokens!("ssn|ssns|social_security(?:_number|_no)?|socsec|ss_number|ss_no"),
        embedded: r"\b\d{3}-\d{2}-\d{4}\b",
        validate: |v| validators::us_ssn(v).is_some(),
        gate: Gate::NameOrConsistent { min_share: 0.98 },
        not_in_columns: "",
    },
    Builtin {
        name: "uk_nino",
        column_names: tokens!("nino|ni_number|ni_no|national_insurance(?:_number|_no)?|nin"),
        embedded: r"\b[A-Za-z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-Da-d]\b",
        validate: validators::uk_nino,
        gate: Gate::None,
        not_in_columns: "",
    },
    Builtin {
        name: "ca_sin",
        column_names: tokens!("sin|social_insurance(?:_number|_no)?"),
        embedded: "",
        validate: validators::ca_sin,
        gate: Gate::NameOrConsistent { min_share: 0.98 },
        not_in_columns: "",
    },
    Builtin {
        name: "nl_bsn",
        column_names: tokens!("bsn|burgerservicenummer|sofinummer|sofi_nummer"),
        embedded: "",
        validate: validators::nl_bsn,
        gate: Gate::NameOrConsistent { min_share: 0.98 },
        not_in_columns: "",
    },
    Builtin {
        name: "de_tax_id",
        column_names: tokens!("steuer_?id|steuer_?nummer|steueridentifikationsnummer|idnr|identifikationsnummer"),
        embedded: "",
        validate: validators::de_tax_id,
        gate: Gate::NameOrConsistent { min_share: 0.98 },
        not_in_columns: "",
    },
    Builtin {
        name: "in_aadhaar",
        column_names: tokens!("aadhaar|aadhar|aadhaar_number|uidai"),
        embedded: "",
        validate: validators::in_aadhaar,
        gate: Gate::NameOrConsistent { min_share: 0.98 },
        not_in_columns: "",
    },
    Builtin {
        name: "es_dni",
        column_names: tokens!("dni|nie|nif|documento_identidad"),
        embedded: r"\b[XYZxyz0-9]\d{7}-?[A-Za-z]\b",
        validate: validators::es_dni,
        gate: Gate::NameOrConsistent { min_share: 0.98 },
        not_in_columns: "",
    },
    Builtin {
        name: "fr_nir",
        column_names: tokens!("nir|insee|numero_securite_sociale|securite_sociale|num_secu"),
        embedded: "",
        validate: validators::fr_nir,
        gate: Gate::NameOrConsistent { min_share: 0.98 },
        not_in_columns: "",
    },
    Builtin {
        name: "payment_card",
        column_names: tokens!(
            "card_?number|card_?num|card_?no|credit_?card(?:_number)?|debit_?card|cc_?number|cc_?num|ccn|pan"
        ),
        embedded: r"\b\d(?:[ -]?\d){11,18}\b",
        validate: validators::payment_card,
        gate: Gate::NameOrConsistent { min_share: 0.98 },
        not_in_columns: "",
    },
    Builtin {
        name: "iban",
        column_names: tokens!("iban|bank_?account(?:_number|_no)?|account_iban"),
        embedded: r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b",
        validate: validators::iban,
        gate: Gate::None,
        not_in_columns: "",
    },
    Builtin {
        name: "email",
        column_names: tokens!("e_?mail|e_?mail_?address|mail_address"),
        embedded: r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",
        validate: validators::email,
        gate: Gate::None,
        not_in_columns: "",
    },
    Builtin {
        name: "phone",
        column_names: tokens!("phone|phone_?number|telephone|tel|mobile|mobile_?number|cell|cellphone|msisdn|fax"),
        embedded: r"\+\d(?:[ .-]?\d){7,14}\b|(?:\(\d{3}\) ?|\b\d{3}[ .-])\d{3}[ .-]\d{4}\b",
        validate: validators::phone,
        gate: Gate::Name,
        not_in_columns: "",
    },
    Builtin {
        name: "ip_address",
        column_names: tokens!("ip|ip_?address|ip_?addr|ipv4|ipv6|client_ip|remote_addr|remote_ip|source_ip"),
        embedded: r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b|\b(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{1,4}\b",
        validate: |v| validators::ipv4(v) || validators::ipv6(v),
        gate: Gate::None,
        not_in_columns: tokens!("version|versions|ver|release|build|firmware|sdk|os_version|app_version"),
    },
    Builtin {
        name: "date_of_birth",
        column_names: tokens!(
            "dob|birth|birthday|birthdate|birth_?date|date_of_birth|born|born_on|geburtsdatum|fecha_de_nacimiento|date_de_naissance"
        ),
        embedded: "",
        validate: |v| validators::date(v).is_some(),
        gate: Gate::NameOrAdultDates { min_share: 0.9 },
        not_in_columns: "",
    },
    Builtin {
        name: "geolocation",
        column_names: tokens!("lat|latitude|lon|lng|longitude|geo|geolocation|coordinates|coords|lat_?lon|lat_?lng|gps"),
        embedded: r"(?:^|[\s(])-?\d{1,2}\.\d{4,}, ?-?\d{1,3}\.\d{4,}\b",
        validate: validators::coordinate_pair,
        gate: Gate::Name,
        not_in_columns: "",
    },
];

const US_SSN: usize = 0;
const UK_NINO: usize = 1;
const CA_SIN: usize = 2;
const NL_BSN: usize = 3;
const DE_TAX_ID: usize = 4;
const IN_AADHAAR: usize = 5;
const ES_DNI: usize = 6;
const FR_NIR: usize = 7;
const PAYMENT_CARD: usize = 8;
const IBAN: usize = 9;
const EMAIL: usize = 10;
const PHONE: usize = 11;
const IP_ADDRESS: usize = 12;
const DATE_OF_BIRTH: usize = 13;
const GEOLOCATION: usize = 14;

/// Most detectors in one scan: a value's matches are a 64-bit set.
pub const MAX_DETECTORS: usize = 64;

/// A user-defined detector, as written in the configuration.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectorConfig {
    /// Unique name; a built-in detector's name replaces that detector.
    pub name: String,
    /// The category reported (default: the name).
    #[serde(default)]
    pub category: Option<String>,
    /// Regex a value (or a part of it, unless anchored with `^…$`) must match.
    #[serde(default)]
    pub pattern: Option<String>,
    /// A built-in validator each match (its first capture group, when the pattern has
    /// one) must pass: `luhn`, `mod97`, `verhoeff`, ….
    #[serde(default)]
    pub validator: Option<String>,
    /// Regexes (case-insensitive) over the normalised column name.
    #[serde(default)]
    pub column_names: Vec<String>,
}

/// What a value matched, by detector bit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Class {
    /// Matched as a whole, counts wherever it occurs.
    pub strong: u64,
    /// Matched as a whole, counts only where the detector's [`Gate`] opens.
    pub weak: u64,
    /// Has the shape of a gated detector (passing its check or not).
    pub shape: u64,
    /// Found inside longer text.
    pub embedded: u64,
    /// A date giving an age of 16 to 100 years.
    pub adult_date: bool,
}

impl Class {
    pub fn is_empty(&self) -> bool {
        self.strong == 0 && self.weak == 0 && self.shape == 0 && self.embedded == 0
    }
}

enum Kind {
    Builtin(usize),
    Pattern { regex: Option<Regex>, validator: Option<Validator> },
}

struct Detector {
    name: String,
    category: String,
    column_names: Option<Regex>,
    not_in_columns: Option<Regex>,
    kind: Kind,
}

/// The detectors of one scan, compiled.
pub struct Detectors {
    detectors: Vec<Detector>,
    /// Bit set of the enabled built-ins, by their index in [`BUILTINS`].
    builtin_bits: u64,
    /// Bit of each built-in in this scan (`None` when replaced or disabled).
    builtin_slot: [Option<u8>; BUILTINS.len()],
    embedded: Option<RegexSet>,
    /// Per pattern of `embedded`: the detector bit and its regex.
    embedded_patterns: Vec<(usize, Regex)>,
    /// Unanchored user patterns, for a first pass over a value.
    user_set: Option<RegexSet>,
    user_slots: Vec<usize>,
    /// Reference date for ages (year, day of year as a fraction).
    today: (i32, u32, u32),
}

fn config_error(source: &str, detector: &str, field: &str, message: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Config, format!("{source}: detector `{detector}`, field `{field}`: {message}"))
}

impl Detectors {
    /// The built-ins (unless `builtins` is false) and the user's detectors; `source` names
    /// where those were written, for errors.
    pub fn new(builtins: bool, user: &[DetectorConfig], source: &str, today: (i32, u32, u32)) -> Result<Detectors> {
        let mut detectors = Vec::new();
        let mut builtin_slot = [None; BUILTINS.len()];
        let mut builtin_bits = 0u64;
        if builtins {
            for (index, builtin) in BUILTINS.iter().enumerate() {
                if user.iter().any(|d| d.name == builtin.name) {
                    continue;
                }
                builtin_slot[index] = Some(detectors.len() as u8);
                builtin_bits |= 1 << index;
                detectors.push(Detector {
                    name: builtin.name.to_string(),
                    category: builtin.name.to_string(),
                    column_names: Some(name_regex(builtin.column_names).map_err(|error| {
                        Error::new(ErrorKind::Config, format!("built-in detector `{}`: {error}", builtin.name))
                    })?),
                    not_in_columns: if builtin.not_in_columns.is_empty() {
                        None
                    } else {
                        Some(name_regex(builtin.not_in_columns).map_err(|error| {
                            Error::new(ErrorKind::Config, format!("built-in detector `{}`: {error}", builtin.name))
                        })?)
                    },
                    kind: Kind::Builtin(index),
                });
            }
        }
        let mut user_patterns = Vec::new();
        let mut user_slots = Vec::new();
        for (position, config) in user.iter().enumerate() {
            let name = config.name.trim();
            if name.is_empty() {
                return Err(config_error(source, &format!("#{}", position + 1), "name", "the name is empty")
                    .hint("give every detector a unique `name`"));
            }
            if user[..position].iter().any(|other| other.name == config.name) {
                return Err(config_error(source, name, "name", "two detectors have this name")
                    .hint("give every detector a unique `name`"));
            }
            if config.pattern.is_none() && config.column_names.is_empty() {
                return Err(config_error(
                    source,
                    name,
                    "pattern",
                    "the detector has neither a pattern nor column_names",
                )
                .hint("add `pattern = \"<regex>\"` to match values, or `column_names = [\"<regex>\"]`"));
            }
            let validator = match &config.validator {
                None => None,
                Some(validator) => Some(Validator::from_name(validator).ok_or_else(|| {
                    config_error(source, name, "validator", format!("unknown validator `{validator}`"))
                        .hint(format!("use one of: {}", Validator::NAMES.join(", ")))
                })?),
            };
            if validator.is_some() && config.pattern.is_none() {
                return Err(config_error(source, name, "validator", "a validator needs a `pattern` to check")
                    .hint("add the `pattern` whose matches the validator checks"));
            }
            let regex = match &config.pattern {
                None => None,
                Some(pattern) => {
                    let regex = RegexBuilder::new(pattern).size_limit(1 << 22).build().map_err(|error| {
                        config_error(source, name, "pattern", format!("invalid regex: {}", first_line(&error)))
                            .hint("fix the regular expression (Rust `regex` syntax: no look-around or backreferences)")
                    })?;
                    user_patterns.push(pattern.clone());
                    user_slots.push(detectors.len());
                    Some(regex)
                }
            };
            let column_names = if config.column_names.is_empty() {
                None
            } else {
                let joined = config.column_names.iter().map(|p| format!("(?:{p})")).collect::<Vec<_>>().join("|");
                for pattern in &config.column_names {
                    RegexBuilder::new(pattern).build().map_err(|error| {
                        config_error(
                            source,
                            name,
                            "column_names",
                            format!("invalid regex `{pattern}`: {}", first_line(&error)),
                        )
                        .hint("fix the regular expression (Rust `regex` syntax)")
                    })?;
                }
                Some(name_regex(&joined).map_err(|error| config_error(source, name, "column_names", error))?)
            };
            detectors.push(Detector {
                name: name.to_string(),
                category: config.category.clone().unwrap_or_else(|| name.to_string()),
                column_names,
                not_in_columns: None,
                kind: Kind::Pattern { regex, validator },
            });
        }
        if detectors.len() > MAX_DETECTORS {
            return Err(Error::new(
                ErrorKind::Config,
                format!("{source}: {} detectors, at most {MAX_DETECTORS} are supported", detectors.len()),
            )
            .hint("merge detectors of the same category into one pattern (`a|b`)"));
        }
        let mut embedded_sources = Vec::new();
        let mut embedded_patterns = Vec::new();
        for (index, builtin) in BUILTINS.iter().enumerate() {
            if let (Some(slot), false) = (builtin_slot[index], builtin.embedded.is_empty()) {
                embedded_sources.push(builtin.embedded);
                // The built-in patterns are constants, tested to compile. ASCII classes and
                // word boundaries keep them on the fast (DFA) engines.
                let regex = RegexBuilder::new(builtin.embedded)
                    .unicode(false)
                    .build()
                    .map_err(|error| Error::new(ErrorKind::Config, format!("built-in pattern: {error}")))?;
                embedded_patterns.push((slot as usize, regex));
            }
        }
        let embedded = if embedded_sources.is_empty() {
            None
        } else {
            Some(
                regex::RegexSetBuilder::new(&embedded_sources)
                    .unicode(false)
                    .build()
                    .map_err(|error| Error::new(ErrorKind::Config, format!("built-in patterns: {error}")))?,
            )
        };
        let user_set = if user_patterns.is_empty() {
            None
        } else {
            Some(RegexSetBuilderSized::build(&user_patterns).map_err(|error| {
                Error::new(ErrorKind::Config, format!("{source}: the detectors' patterns together: {error}"))
                    .hint("simplify the patterns: together they exceed the size limit")
            })?)
        };
        Ok(Detectors {
            detectors,
            builtin_bits,
            builtin_slot,
            embedded,
            embedded_patterns,
            user_set,
            user_slots,
            today,
        })
    }

    pub fn len(&self) -> usize {
        self.detectors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.detectors.is_empty()
    }

    pub fn name(&self, bit: usize) -> &str {
        &self.detectors[bit].name
    }

    pub fn category(&self, bit: usize) -> &str {
        &self.detectors[bit].category
    }

    pub fn names(&self) -> Vec<String> {
        self.detectors.iter().map(|d| d.name.clone()).collect()
    }

    /// The gate of the detector with this bit.
    pub fn gate(&self, bit: usize) -> Gate {
        match self.detectors[bit].kind {
            Kind::Builtin(index) => BUILTINS[index].gate,
            Kind::Pattern { .. } => Gate::None,
        }
    }

    /// The detectors whose column-name patterns match `column`.
    pub fn match_name(&self, column: &str) -> u64 {
        let normalised = normalise(column);
        let mut bits = 0;
        for (bit, detector) in self.detectors.iter().enumerate() {
            if detector.column_names.as_ref().is_some_and(|regex| regex.is_match(&normalised)) {
                bits |= 1 << bit;
            }
        }
        bits
    }

    /// The detectors whose value matches do not count in a column called `column`.
    pub fn excluded_by_name(&self, column: &str) -> u64 {
        let normalised = normalise(column);
        let mut bits = 0;
        for (bit, detector) in self.detectors.iter().enumerate() {
            if detector.not_in_columns.as_ref().is_some_and(|regex| regex.is_match(&normalised)) {
                bits |= 1 << bit;
            }
        }
        bits
    }

    fn slot(&self, builtin: usize) -> Option<u64> {
        self.builtin_slot[builtin].map(|slot| 1u64 << slot)
    }

    /// What `value` (a cell's text) matches.
    pub fn classify(&self, value: &str) -> Class {
        let mut class = Class::default();
        let text = validators::trim(value.as_bytes());
        if text.is_empty() {
            return class;
        }
        if self.builtin_bits != 0 {
            self.classify_builtin(text, &mut class);
        }
        if let Some(set) = &self.user_set {
            if let Ok(text) = std::str::from_utf8(text) {
                for index in set.matches(text).iter() {
                    let bit = self.user_slots[index];
                    if let Kind::Pattern { regex: Some(regex), validator } = &self.detectors[bit].kind {
                        let found = match validator {
                            None => true,
                            // The validator checks the first capture group when there is one.
                            Some(validator) if regex.captures_len() > 1 => regex.captures_iter(text).any(|captures| {
                                captures.get(1).is_some_and(|group| validator.check(group.as_str().as_bytes()))
                            }),
                            Some(validator) => {
                                regex.find_iter(text).any(|found| validator.check(found.as_str().as_bytes()))
                            }
                        };
                        if found {
                            class.strong |= 1 << bit;
                        }
                    }
                }
            }
        }
        if class.strong == 0 && class.weak == 0 && text.len() >= 12 && text.contains(&b' ') {
            self.classify_embedded(text, &mut class);
        }
        class
    }

    fn classify_builtin(&self, text: &[u8], class: &mut Class) {
        let mut has_digit = false;
        let mut has_at = false;
        let mut has_colon = false;
        let mut digit_count = 0usize;
        let mut only_digits_and_groups = true;
        for &byte in text {
            match byte {
                b'0'..=b'9' => {
                    has_digit = true;
                    digit_count += 1;
                }
                b'@' => has_at = true,
                b':' => has_colon = true,
                b' ' | b'-' => {}
                _ => only_digits_and_groups = false,
            }
        }
        if has_at {
            self.mark_strong(class, EMAIL, validators::email(text));
            return;
        }
        if !has_digit && !has_colon {
            return;
        }
        let bare = only_digits_and_groups && digit_count == text.len();
        let grouped = only_digits_and_groups && !bare;
        // Digit-only identifiers: a shape shared by many, told apart by their checks.
        if only_digits_and_groups {
            if let Some(bit) = self.slot(US_SSN) {
                match validators::us_ssn(text) {
                    Some(true) => class.strong |= bit,
                    Some(false) => class.weak |= bit,
                    None => {}
                }
                if bare && digit_count == 9 {
                    class.shape |= bit;
                }
            }
            self.digit_id(class, CA_SIN, digit_count == 9, validators::ca_sin, text);
            self.digit_id(class, NL_BSN, digit_count == 9, validators::nl_bsn, text);
            self.digit_id(class, DE_TAX_ID, digit_count == 11, validators::de_tax_id, text);
            self.digit_id(class, IN_AADHAAR, digit_count == 12, validators::in_aadhaar, text);
            self.digit_id(class, FR_NIR, digit_count == 15, validators::fr_nir, text);
            if let Some(bit) = self.slot(PAYMENT_CARD) {
                if (12..=19).contains(&digit_count) {
                    let valid = validators::payment_card(text);
                    if bare {
                        class.shape |= bit;
                        if valid {
                            class.weak |= bit;
                        }
                    } else if valid && grouped {
                        class.strong |= bit;
                    }
                }
            }
        } else {
            self.mark_strong(class, UK_NINO, validators::uk_nino(text));
            if let Some(bit) = self.slot(ES_DNI) {
                if es_dni_shape(text) {
                    class.shape |= bit;
                    if validators::es_dni(text) {
                        class.weak |= bit;
                    }
                }
            }
            self.mark_strong(class, FR_NIR, validators::fr_nir(text));
            self.mark_strong(class, IBAN, validators::iban(text));
            self.mark_strong(class, IP_ADDRESS, validators::ipv4(text) || validators::ipv6(text));
            self.mark_strong(class, GEOLOCATION, validators::coordinate_pair(text));
            if let Some(bit) = self.slot(GEOLOCATION) {
                if validators::coordinate(text, 180.0, 4) {
                    class.weak |= bit;
                }
            }
        }
        self.mark_strong(class, PHONE, validators::phone(text));
        if let (Some(bit), true) = (self.slot(PHONE), bare) {
            if validators::phone_digits(text) {
                class.weak |= bit;
            }
        }
        if let Some(bit) = self.slot(DATE_OF_BIRTH) {
            if let Some(date) = validators::date(text) {
                self.mark_date(class, bit, date);
            }
        }
    }

    /// Marks a date cell: its shape always, a weak match when it could be a birth date.
    pub fn mark_date(&self, class: &mut Class, bit: u64, (year, month, day): (i32, u32, u32)) {
        class.shape |= bit;
        let (this_year, this_month, this_day) = self.today;
        let mut age = this_year - year;
        if (month, day) > (this_month, this_day) {
            age -= 1;
        }
        if (0..=120).contains(&age) {
            class.weak |= bit;
        }
        class.adult_date = (16..=100).contains(&age);
    }

    /// The class of a date given as days since 1970-01-01 (a Parquet DATE column).
    pub fn classify_days(&self, days: f64) -> Class {
        let mut class = Class::default();
        if let (Some(bit), true) = (self.slot(DATE_OF_BIRTH), days.is_finite()) {
            if let Some(date) = civil_from_days(days.floor() as i64) {
                self.mark_date(&mut class, bit, date);
            }
        }
        class
    }

    fn digit_id(&self, class: &mut Class, builtin: usize, shape: bool, validate: fn(&[u8]) -> bool, text: &[u8]) {
        if let (Some(bit), true) = (self.slot(builtin), shape) {
            class.shape |= bit;
            if validate(text) {
                class.weak |= bit;
            }
        }
    }

    fn mark_strong(&self, class: &mut Class, builtin: usize, matched: bool) {
        if let (Some(bit), true) = (self.slot(builtin), matched) {
            class.strong |= bit;
        }
    }

    fn classify_embedded(&self, text: &[u8], class: &mut Class) {
        // Every embedded pattern needs a digit or an `@`.
        if !text.iter().any(|&b| b.is_ascii_digit() || b == b'@') {
            return;
        }
        let (Some(set), Ok(text)) = (&self.embedded, std::str::from_utf8(text)) else { return };
        for index in set.matches(text).iter() {
            let (bit, regex) = &self.embedded_patterns[index];
            let found = regex.find_iter(text).any(|found| {
                let bytes = text.as_bytes();
                // `v1.2.3.4`, `1.2.3.4.5`: version strings, not addresses.
                let before = found.start().checked_sub(1).map(|i| bytes[i]);
                let after = bytes.get(found.end()).copied();
                let dotted_after = after == Some(b'.') && bytes.get(found.end() + 1).is_some_and(u8::is_ascii_digit);
                if matches!(before, Some(b'.' | b'v' | b'V' | b'-'))
                    || dotted_after
                    || after_version_word(bytes, found.start())
                {
                    return false;
                }
                let detector = &self.detectors[*bit];
                match detector.kind {
                    Kind::Builtin(builtin) => (BUILTINS[builtin].validate)(found.as_str().as_bytes()),
                    Kind::Pattern { .. } => false,
                }
            });
            if found {
                class.embedded |= 1 << bit;
            }
        }
    }
}

/// Eight digits and a letter, or X/Y/Z, seven digits and a letter (a `-` or space before
/// the letter allowed): the shape of a Spanish DNI/NIE, whose letter a random code has
/// right one time in 23.
fn es_dni_shape(text: &[u8]) -> bool {
    let Some((&letter, body)) = text.split_last() else { return false };
    let body = body.strip_suffix(b"-").or_else(|| body.strip_suffix(b" ")).unwrap_or(body);
    let digits_only = |part: &[u8]| part.len() == 7 && part.iter().all(u8::is_ascii_digit);
    letter.is_ascii_alphabetic()
        && body.len() == 8
        && (digits_only(&body[1..]) && (body[0].is_ascii_digit() || b"XYZxyz".contains(&body[0])))
}

/// Whether the text just before `start` is `version`, `release` or `build` (so
/// `version 1.2.3.4` is not read as an address).
fn after_version_word(bytes: &[u8], start: usize) -> bool {
    let before = &bytes[..start];
    let before = before.strip_suffix(b" ").unwrap_or(before);
    [&b"version"[..], b"release", b"build", b"ver", b"rev"]
        .iter()
        .any(|word| before.len() >= word.len() && before[before.len() - word.len()..].eq_ignore_ascii_case(word))
}

/// A regex set with a size limit generous enough for a few dozen user patterns.
struct RegexSetBuilderSized;

impl RegexSetBuilderSized {
    fn build(patterns: &[String]) -> std::result::Result<RegexSet, regex::Error> {
        regex::RegexSetBuilder::new(patterns).size_limit(1 << 24).build()
    }
}

fn name_regex(pattern: &str) -> std::result::Result<Regex, String> {
    RegexBuilder::new(pattern).case_insensitive(true).build().map_err(|error| first_line(&error))
}

fn first_line(error: &regex::Error) -> String {
    // The regex crate's message spans several lines with a caret under the error.
    error.to_string().lines().filter(|line| !line.trim().is_empty()).collect::<Vec<_>>().join(" ")
}

/// A column name as the name patterns see it: lower case, words split at camelCase
/// boundaries, anything not a letter or a digit replaced by `_` (`customerSSN` →
/// `customer_ssn`, `E-Mail` → `e_mail`).
pub fn normalise(column: &str) -> String {
    let mut out = String::with_capacity(column.len() + 4);
    let mut previous: Option<char> = None;
    for character in column.chars() {
        if character.is_alphanumeric() {
            if character.is_uppercase() && previous.is_some_and(|p| p.is_lowercase() || p.is_ascii_digit()) {
                out.push('_');
            }
            out.extend(character.to_lowercase());
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
        previous = Some(character);
    }
    while out.ends_with('_') {
        out.pop();
    }
    out
}

/// (year, month, day) of a count of days since 1970-01-01 (proleptic Gregorian).
pub fn civil_from_days(days: i64) -> Option<(i32, u32, u32)> {
    if days.abs() > 100_000_000 {
        return None;
    }
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    Some((year as i32, month, day))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detectors() -> Detectors {
        Detectors::new(true, &[], "test", (2026, 1, 1)).expect("built-ins compile")
    }

    #[test]
    fn builtin_patterns_compile_and_names_are_unique() {
        let detectors = detectors();
        assert_eq!(detectors.len(), BUILTINS.len());
        let mut names = detectors.names();
        names.dedup();
        assert_eq!(names.len(), BUILTINS.len());
        assert_eq!(BUILTINS[GEOLOCATION].name, "geolocation");
        assert_eq!(BUILTINS[IN_AADHAAR].name, "in_aadhaar");
    }

    #[test]
    fn names_are_matched_on_tokens() {
        let detectors = detectors();
        let category = |column: &str| -> Vec<String> {
            let bits = detectors.match_name(column);
            (0..detectors.len()).filter(|b| bits & (1 << b) != 0).map(|b| detectors.name(b).to_string()).collect()
        };
        assert_eq!(category("customerSSN"), ["us_ssn"]);
        assert_eq!(category("E-Mail"), ["email"]);
        assert_eq!(category("date_of_birth"), ["date_of_birth"]);
        assert_eq!(category("latency_ms"), Vec::<String>::new());
        assert_eq!(category("translation"), Vec::<String>::new());
        assert_eq!(category("zip"), Vec::<String>::new());
    }

    #[test]
    fn values_are_classified() {
        let detectors = detectors();
        let strong = |value: &str| detectors.classify(value).strong;
        assert_eq!(strong("123-45-6789"), 1 << US_SSN);
        assert_eq!(detectors.classify("123456789").weak & (1 << US_SSN), 1 << US_SSN);
        assert_eq!(strong("4111 1111 1111 1111"), 1 << PAYMENT_CARD);
        assert_eq!(strong("jane@example.com"), 1 << EMAIL);
        assert_eq!(strong("0.1234567"), 0);
        assert_eq!(detectors.classify("call me at jane@example.com today").embedded, 1 << EMAIL);
        assert_eq!(detectors.classify("upgraded to version 1.2.3.4 today").embedded, 0);
        assert_eq!(civil_from_days(0), Some((1970, 1, 1)));
        assert_eq!(civil_from_days(19_000), Some((2022, 1, 8)));
    }
}
