//! Structural and check-digit validators of identifiers, and the value parsers of the
//! built-in detectors (emails, phone numbers, IP addresses, dates, coordinates).
//!
//! Every function takes the value's bytes and allocates nothing: they run once per
//! distinct sampled value. Definitions follow the issuing bodies (SSA, HMRC, ISO 13616,
//! ISO 7064, …); python-stdnum agrees with them on the fixture (tests/prohibited.rs).

/// A check a user-defined detector can apply to each regex match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validator {
    /// The Luhn (mod 10) check over the digits of the match.
    Luhn,
    /// ISO 7064 mod 97-10 over the match as an IBAN (letters as 10..35, first four moved last).
    Mod97,
    /// The Verhoeff check over the digits of the match.
    Verhoeff,
    /// The Dutch 11-proof (elfproef) over 9 digits.
    ElevenProof,
    /// ISO 7064 mod 11,10 over the digits (German tax id).
    Mod11_10,
    UsSsn,
    UkNino,
    CaSin,
    NlBsn,
    DeTaxId,
    InAadhaar,
    EsDni,
    FrNir,
    PaymentCard,
    Iban,
    Email,
    Phone,
    Ipv4,
    Ipv6,
}

impl Validator {
    pub const NAMES: &'static [&'static str] = &[
        "luhn",
        "mod97",
        "verhoeff",
        "eleven_proof",
        "mod11_10",
        "us_ssn",
        "uk_nino",
        "ca_sin",
        "nl_bsn",
        "de_tax_id",
        "in_aadhaar",
        "es_dni",
        "fr_nir",
        "payment_card",
        "iban",
        "email",
        "phone",
        "ipv4",
        "ipv6",
    ];

    const ALL: &'static [Validator] = &[
        Validator::Luhn,
        Validator::Mod97,
        Validator::Verhoeff,
        Validator::ElevenProof,
        Validator::Mod11_10,
        Validator::UsSsn,
        Validator::UkNino,
        Validator::CaSin,
        Validator::NlBsn,
        Validator::DeTaxId,
        Validator::InAadhaar,
        Validator::EsDni,
        Validator::FrNir,
        Validator::PaymentCard,
        Validator::Iban,
        Validator::Email,
        Validator::Phone,
        Validator::Ipv4,
        Validator::Ipv6,
    ];

    /// The validator called `name` (`luhn`, `mod97`, …).
    pub fn from_name(name: &str) -> Option<Validator> {
        Validator::NAMES.iter().position(|known| *known == name).map(|index| Validator::ALL[index])
    }

    pub fn check(self, value: &[u8]) -> bool {
        let mut buffer = [0u8; 64];
        match self {
            Validator::Luhn => digits(value, &mut buffer).is_some_and(|d| d.len() >= 2 && luhn(d)),
            Validator::Mod97 | Validator::Iban => iban(value),
            Validator::Verhoeff => digits(value, &mut buffer).is_some_and(|d| d.len() >= 2 && verhoeff(d)),
            Validator::ElevenProof | Validator::NlBsn => nl_bsn(value),
            Validator::Mod11_10 => digits(value, &mut buffer).is_some_and(|d| d.len() >= 2 && mod11_10(d)),
            Validator::UsSsn => us_ssn(value).is_some(),
            Validator::UkNino => uk_nino(value),
            Validator::CaSin => ca_sin(value),
            Validator::DeTaxId => de_tax_id(value),
            Validator::InAadhaar => in_aadhaar(value),
            Validator::EsDni => es_dni(value),
            Validator::FrNir => fr_nir(value),
            Validator::PaymentCard => payment_card(value),
            Validator::Email => email(value),
            Validator::Phone => phone(value),
            Validator::Ipv4 => ipv4(value),
            Validator::Ipv6 => ipv6(value),
        }
    }
}

/// The digit values of `value` once the group separators (space, `-`) are removed,
/// or `None` when it holds anything else or more digits than `buffer` has room for.
pub fn digits<'a>(value: &[u8], buffer: &'a mut [u8; 64]) -> Option<&'a [u8]> {
    let mut length = 0;
    for &byte in value {
        match byte {
            b'0'..=b'9' => {
                *buffer.get_mut(length)? = byte - b'0';
                length += 1;
            }
            b' ' | b'-' => {}
            _ => return None,
        }
    }
    Some(&buffer[..length])
}

fn all_digits(value: &[u8]) -> bool {
    !value.is_empty() && value.iter().all(u8::is_ascii_digit)
}

fn number(digits: &[u8]) -> u32 {
    digits.iter().fold(0, |acc, &d| acc * 10 + u32::from(d))
}

/// Luhn over digit values (0..=9), check digit last.
pub fn luhn(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (position, &digit) in digits.iter().rev().enumerate() {
        let mut d = u32::from(digit);
        if position % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum % 10 == 0
}

const VERHOEFF_D: [[u8; 10]; 10] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
const VERHOEFF_P: [[u8; 10]; 8] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
    [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
    [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
    [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
    [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];

/// Verhoeff over digit values, check digit last.
pub fn verhoeff(digits: &[u8]) -> bool {
    let mut check = 0u8;
    for (position, &digit) in digits.iter().rev().enumerate() {
        check = VERHOEFF_D[check as usize][VERHOEFF_P[position % 8][digit as usize] as usize];
    }
    check == 0
}

/// ISO 7064 mod 11,10 over digit values, check digit last.
pub fn mod11_10(digits: &[u8]) -> bool {
    let mut check = 5u32;
    for &digit in digits {
        let carried = if check == 0 { 10 } else { check };
        check = ((carried * 2) % 11 + u32::from(digit)) % 10;
    }
    check == 1
}

/// US Social Security number: `AAA-GG-SSSS`, `AAA GG SSSS` or nine bare digits. Area 000,
/// 666 and 900–999, group 00 and serial 0000 were never issued, nor were the numbers
/// that appeared in advertising (078-05-1120, 219-09-9999,
/// 457-55-5462). Returns whether the value
/// was formatted (with separators) when valid.
pub fn us_ssn(value: &[u8]) -> Option<bool> {
    let (area, group, serial, formatted) = match value.len() {
        9 if all_digits(value) => (&value[0..3], &value[3..5], &value[5..9], false),
        11 if (value[3] == b'-' && value[6] == b'-') || (value[3] == b' ' && value[6] == b' ') => {
            let (area, group, serial) = (&value[0..3], &value[4..6], &value[7..11]);
            if !(all_digits(area) && all_digits(group) && all_digits(serial)) {
                return None;
            }
            (area, group, serial, true)
        }
        _ => return None,
    };
    let area_number = number_text(area);
    if area_number == 0 || area_number == 666 || area_number >= 900 {
        return None;
    }
    if group == b"00" || serial == b"0000" {
        return None;
    }
    let advertised: [(&[u8], &[u8], &[u8]); 3] =
        [(b"078", b"05", b"1120"), (b"219", b"09", b"9999"), (b"457", b"55", b"5462")];
    if advertised.iter().any(|&(a, g, s)| area == a && group == g && serial == s) {
        return None;
    }
    Some(formatted)
}

fn number_text(text: &[u8]) -> u32 {
    text.iter().fold(0, |acc, &b| acc * 10 + u32::from(b - b'0'))
}

/// UK National Insurance number: two prefix letters (neither D, F, I, Q, U nor V, the
/// second not O; not BG, GB, KN, NK, NT, TN or ZZ), six digits, a suffix A–D; spaces
/// between the pairs are allowed.
pub fn uk_nino(value: &[u8]) -> bool {
    let mut compact = [0u8; 9];
    let mut length = 0;
    for &byte in value {
        if byte == b' ' {
            continue;
        }
        if length == 9 {
            return false;
        }
        compact[length] = byte.to_ascii_uppercase();
        length += 1;
    }
    if length != 9 {
        return false;
    }
    let (first, second) = (compact[0], compact[1]);
    let bad_first = b"DFIQUV";
    let bad_second = b"DFIOQUV";
    if !first.is_ascii_uppercase() || !second.is_ascii_uppercase() {
        return false;
    }
    if bad_first.contains(&first) || bad_second.contains(&second) {
        return false;
    }
    if [b"BG", b"GB", b"KN", b"NK", b"NT", b"TN", b"ZZ"].iter().any(|p| p[..] == compact[..2]) {
        return false;
    }
    compact[2..8].iter().all(u8::is_ascii_digit) && (b'A'..=b'D').contains(&compact[8])
}

/// Canadian Social Insurance number: nine digits (optionally grouped 3-3-3), Luhn, not
/// starting with 0 or 8.
pub fn ca_sin(value: &[u8]) -> bool {
    let mut buffer = [0u8; 64];
    let Some(d) = digits(value, &mut buffer) else { return false };
    d.len() == 9 && d[0] != 0 && d[0] != 8 && luhn(d)
}

/// Dutch citizen service number (BSN): nine digits, 11-proof (weights 9..2, the last -1).
pub fn nl_bsn(value: &[u8]) -> bool {
    let mut buffer = [0u8; 64];
    let Some(d) = digits(value, &mut buffer) else { return false };
    if d.len() != 9 || d.iter().all(|&x| x == 0) {
        return false;
    }
    let mut sum: i32 = 0;
    for (i, &digit) in d[..8].iter().enumerate() {
        sum += (9 - i as i32) * i32::from(digit);
    }
    sum -= i32::from(d[8]);
    sum % 11 == 0
}

/// German tax identification number (IdNr): eleven digits, not starting with 0, in the
/// first ten one digit occurs two or three times and no other more than once, ISO 7064
/// mod 11,10 check digit.
pub fn de_tax_id(value: &[u8]) -> bool {
    let mut buffer = [0u8; 64];
    let Some(d) = digits(value, &mut buffer) else { return false };
    if d.len() != 11 || d[0] == 0 {
        return false;
    }
    let mut counts = [0u8; 10];
    for &digit in &d[..10] {
        counts[digit as usize] += 1;
    }
    let repeated = counts.iter().filter(|&&c| c > 1).count();
    let too_many = counts.iter().any(|&c| c > 3);
    repeated == 1 && !too_many && mod11_10(d)
}

/// Indian Aadhaar number: twelve digits (optionally grouped 4-4-4), not starting with 0
/// or 1, not a palindrome, Verhoeff check digit.
pub fn in_aadhaar(value: &[u8]) -> bool {
    let mut buffer = [0u8; 64];
    let Some(d) = digits(value, &mut buffer) else { return false };
    if d.len() != 12 || d[0] < 2 {
        return false;
    }
    let palindrome = d.iter().eq(d.iter().rev());
    !palindrome && verhoeff(d)
}

const DNI_LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";

/// Spanish DNI (eight digits and a check letter) or NIE (X, Y or Z, seven digits and a
/// check letter), optionally with a `-` or space before the letter.
pub fn es_dni(value: &[u8]) -> bool {
    let mut compact = [0u8; 9];
    let mut length = 0;
    for &byte in value {
        if byte == b'-' || byte == b' ' {
            continue;
        }
        if length == 9 {
            return false;
        }
        compact[length] = byte.to_ascii_uppercase();
        length += 1;
    }
    if length != 9 {
        return false;
    }
    let lead = match compact[0] {
        b'X' => 0,
        b'Y' => 1,
        b'Z' => 2,
        b'0'..=b'9' => u32::from(compact[0] - b'0'),
        _ => return false,
    };
    if !compact[1..8].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let body = compact[1..8].iter().fold(lead, |acc, &b| acc * 10 + u32::from(b - b'0'));
    DNI_LETTERS[(body % 23) as usize] == compact[8]
}

/// French social security number (NIR): fifteen characters, sex digit 1, 2, 3, 4, 7 or
/// 8, month 01–12 or 20–99, department digits (2A and 2B for Corsica), key =
/// 97 − (number mod 97). Spaces between groups are allowed.
pub fn fr_nir(value: &[u8]) -> bool {
    let mut compact = [0u8; 15];
    let mut length = 0;
    for &byte in value {
        if byte == b' ' {
            continue;
        }
        if length == 15 {
            return false;
        }
        compact[length] = byte.to_ascii_uppercase();
        length += 1;
    }
    if length != 15 || !b"123478".contains(&compact[0]) {
        return false;
    }
    let corsica = match &compact[5..7] {
        b"2A" => Some(19u64),
        b"2B" => Some(18u64),
        _ => None,
    };
    let digit_positions = compact.iter().enumerate().all(|(i, b)| b.is_ascii_digit() || (corsica.is_some() && i == 6));
    if !digit_positions {
        return false;
    }
    let month = number_text(&compact[3..5]);
    if month == 0 || (13..20).contains(&month) {
        return false;
    }
    let mut body: u64 = 0;
    for (i, &byte) in compact[..13].iter().enumerate() {
        if i == 5 && corsica.is_some() {
            continue;
        }
        if i == 6 {
            if let Some(code) = corsica {
                body = body * 100 + code;
                continue;
            }
        }
        body = body * 10 + u64::from(byte - b'0');
    }
    let key = u64::from(number_text(&compact[13..15]));
    97 - body % 97 == key
}

/// A payment card number: 12–19 digits (separators allowed in groups), an issuer
/// identification prefix with a length its network issues, and the Luhn check.
pub fn payment_card(value: &[u8]) -> bool {
    let mut buffer = [0u8; 64];
    let Some(d) = digits(value, &mut buffer) else { return false };
    card_prefix(d) && luhn(d)
}

fn card_prefix(d: &[u8]) -> bool {
    let length = d.len();
    if !(12..=19).contains(&length) {
        return false;
    }
    let prefix = |n: usize| number(&d[..n]);
    let (p1, p2, p3, p4, p6) = (prefix(1), prefix(2), prefix(3), prefix(4), prefix(6));
    // Visa
    (p1 == 4 && matches!(length, 13 | 16 | 19))
        // Mastercard
        || ((51..=55).contains(&p2) || (2221..=2720).contains(&p4)) && length == 16
        // American Express
        || matches!(p2, 34 | 37) && length == 15
        // Discover
        || (p4 == 6011 || (644..=649).contains(&p3) || p2 == 65 || (622126..=622925).contains(&p6))
            && (16..=19).contains(&length)
        // JCB (3528–3589; test generators such as Faker use all of 35xx)
        || p2 == 35 && (16..=19).contains(&length)
        // Diners Club
        || ((300..=305).contains(&p3) || matches!(p2, 36 | 38 | 39)) && (14..=19).contains(&length)
        // UnionPay
        || p2 == 62 && (16..=19).contains(&length)
        // Maestro
        || (matches!(p4, 5018 | 5020 | 5038 | 5893 | 6304 | 6759 | 6761..=6763)) && (12..=19).contains(&length)
}

/// IBAN lengths by country (SWIFT IBAN registry).
const IBAN_LENGTHS: &[(&[u8; 2], u8)] = &[
    (b"AD", 24),
    (b"AE", 23),
    (b"AL", 28),
    (b"AT", 20),
    (b"AZ", 28),
    (b"BA", 20),
    (b"BE", 16),
    (b"BG", 22),
    (b"BH", 22),
    (b"BI", 27),
    (b"BR", 29),
    (b"BY", 28),
    (b"CH", 21),
    (b"CR", 22),
    (b"CY", 28),
    (b"CZ", 24),
    (b"DE", 22),
    (b"DJ", 27),
    (b"DK", 18),
    (b"DO", 28),
    (b"EE", 20),
    (b"EG", 29),
    (b"ES", 24),
    (b"FI", 18),
    (b"FK", 18),
    (b"FO", 18),
    (b"FR", 27),
    (b"GB", 22),
    (b"GE", 22),
    (b"GI", 23),
    (b"GL", 18),
    (b"GR", 27),
    (b"GT", 28),
    (b"HN", 28),
    (b"HR", 21),
    (b"HU", 28),
    (b"IE", 22),
    (b"IL", 23),
    (b"IQ", 23),
    (b"IS", 26),
    (b"IT", 27),
    (b"JO", 30),
    (b"KW", 30),
    (b"KZ", 20),
    (b"LB", 28),
    (b"LC", 32),
    (b"LI", 21),
    (b"LT", 20),
    (b"LU", 20),
    (b"LV", 21),
    (b"LY", 25),
    (b"MC", 27),
    (b"MD", 24),
    (b"ME", 22),
    (b"MK", 19),
    (b"MN", 20),
    (b"MR", 27),
    (b"MT", 31),
    (b"MU", 30),
    (b"NI", 28),
    (b"NL", 18),
    (b"NO", 15),
    (b"OM", 23),
    (b"PK", 24),
    (b"PL", 28),
    (b"PS", 29),
    (b"PT", 25),
    (b"QA", 29),
    (b"RO", 24),
    (b"RS", 22),
    (b"RU", 33),
    (b"SA", 24),
    (b"SC", 31),
    (b"SD", 18),
    (b"SE", 24),
    (b"SI", 19),
    (b"SK", 24),
    (b"SM", 27),
    (b"SO", 23),
    (b"ST", 25),
    (b"SV", 28),
    (b"TL", 23),
    (b"TN", 24),
    (b"TR", 26),
    (b"UA", 29),
    (b"VA", 22),
    (b"VG", 24),
    (b"XK", 20),
    (b"YE", 30),
];

/// IBAN: a country with its registered length, two check digits, an alphanumeric
/// account number, and ISO 7064 mod 97-10 of the rearranged number equal to 1. Spaces
/// between groups are allowed; letters may be lower case.
pub fn iban(value: &[u8]) -> bool {
    let mut compact = [0u8; 34];
    let mut length = 0;
    for &byte in value {
        if byte == b' ' {
            continue;
        }
        if length == 34 || !byte.is_ascii_alphanumeric() {
            return false;
        }
        compact[length] = byte.to_ascii_uppercase();
        length += 1;
    }
    if length < 15 {
        return false;
    }
    let compact = &compact[..length];
    let country = [compact[0], compact[1]];
    let Some(&(_, expected)) = IBAN_LENGTHS.iter().find(|(code, _)| **code == country) else { return false };
    if usize::from(expected) != length || !compact[2].is_ascii_digit() || !compact[3].is_ascii_digit() {
        return false;
    }
    let mut remainder: u32 = 0;
    for &byte in compact[4..].iter().chain(&compact[..4]) {
        if byte.is_ascii_digit() {
            remainder = (remainder * 10 + u32::from(byte - b'0')) % 97;
        } else {
            remainder = (remainder * 100 + u32::from(byte - b'A' + 10)) % 97;
        }
    }
    remainder == 1
}

/// An email address: a dot-atom local part, `@`, and a domain of at least two labels
/// whose last (the top-level domain) is alphabetic and at least two letters long.
pub fn email(value: &[u8]) -> bool {
    let Some(at) = value.iter().position(|&b| b == b'@') else { return false };
    let (local, domain) = (&value[..at], &value[at + 1..]);
    if local.is_empty() || local.len() > 64 || domain.len() > 253 {
        return false;
    }
    let local_ok = local.iter().all(|&b| b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~.-".contains(&b));
    if !local_ok || local[0] == b'.' || local[local.len() - 1] == b'.' || local.windows(2).any(|w| w == b"..") {
        return false;
    }
    let mut labels = 0;
    let mut last: &[u8] = &[];
    for label in domain.split(|&b| b == b'.') {
        if label.is_empty() || label.len() > 63 || label[0] == b'-' || label[label.len() - 1] == b'-' {
            return false;
        }
        if !label.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-') {
            return false;
        }
        labels += 1;
        last = label;
    }
    labels >= 2 && last.len() >= 2 && last.iter().all(u8::is_ascii_alphabetic)
}

/// A phone number in E.164 (`+` or `00` and 8–15 digits, separators allowed) or a
/// national form with separators: North American `(NXX) NXX-XXXX`, `NXX-NXX-XXXX`,
/// `NXX.NXX.XXXX`, `1-NXX-NXX-XXXX`, or a trunk-prefixed `0…` number of 10–11 digits
/// written in groups. An extension (`x123`, ` ext. 123`) is ignored. Bare runs of
/// digits are [`phone_digits`].
pub fn phone(value: &[u8]) -> bool {
    let value = strip_extension(value);
    // `+44…` or `0044…`: an international number.
    let plus = value.first() == Some(&b'+') || (value.starts_with(b"00") && value.get(2).is_some_and(|&b| b != b'0'));
    let body = if value.first() == Some(&b'+') {
        &value[1..]
    } else if plus {
        &value[2..]
    } else {
        value
    };
    // Digit runs (groups), their sizes and first digits; separators are single spaces,
    // dashes or dots, and at most one pair of parentheses.
    let mut runs = [0usize; 8];
    let mut firsts = [0u8; 8];
    let mut run_count = 0;
    let mut in_run = false;
    let mut length = 0;
    let (mut open, mut close) = (0, 0);
    let mut previous_separator = true;
    let mut position = 0;
    while position < body.len() {
        let byte = body[position];
        position += 1;
        // `+44 (0)20 …`: the trunk prefix written after the country code is not dialled.
        if plus && byte == b'(' && body[position..].starts_with(b"0)") && run_count == 1 {
            position += 2;
            in_run = false;
            previous_separator = body.get(position) == Some(&b' ');
            if previous_separator {
                position += 1;
            }
            continue;
        }
        match byte {
            b'0'..=b'9' => {
                if !in_run {
                    if run_count == runs.len() {
                        return false;
                    }
                    firsts[run_count] = byte - b'0';
                    run_count += 1;
                    in_run = true;
                }
                runs[run_count - 1] += 1;
                length += 1;
                previous_separator = false;
            }
            b' ' | b'-' | b'.' => {
                if previous_separator && !(byte == b' ' && close == 1 && !in_run) {
                    return false;
                }
                in_run = false;
                previous_separator = true;
            }
            b'(' if open == 0 && run_count <= 1 && previous_separator => {
                open += 1;
                in_run = false;
            }
            b')' if open == 1 && close == 0 && in_run => {
                close += 1;
                in_run = false;
                previous_separator = false;
            }
            _ => return false,
        }
    }
    if previous_separator || open != close || length == 0 {
        return false;
    }
    let runs = &runs[..run_count];
    if plus {
        return (8..=15).contains(&length) && firsts[0] != 0;
    }
    // National forms must be written in groups: a bare run of digits is an id, not a phone.
    if run_count < 2 {
        return false;
    }
    // North American: (NXX) NXX-XXXX, NXX-NXX-XXXX, 1-NXX-NXX-XXXX.
    if runs == [3, 3, 4] {
        return true;
    }
    if runs == [1, 3, 3, 4] {
        return firsts[0] == 1;
    }
    // Trunk-prefixed national numbers (UK, Germany, France, …): 0 then 9–10 digits in groups.
    let second_digit_ok = runs[0] > 1 || firsts[1] != 0;
    firsts[0] == 0 && second_digit_ok && (10..=11).contains(&length) && run_count <= 5 && runs.iter().all(|&r| r >= 2)
}

/// A phone number written as a bare run of 8–15 digits (national or international
/// without the `+`, an MSISDN). Ids look the same, so these count only in a column
/// named like a phone number.
pub fn phone_digits(value: &[u8]) -> bool {
    let value = strip_extension(value);
    all_digits(value) && (8..=15).contains(&value.len())
}

/// `value` without a trailing extension (`x123`, ` ext. 123`, ` ext 123`).
fn strip_extension(value: &[u8]) -> &[u8] {
    let digits_at_end = value.iter().rev().take_while(|b| b.is_ascii_digit()).count();
    if digits_at_end == 0 || digits_at_end > 6 {
        return value;
    }
    let head = &value[..value.len() - digits_at_end];
    for marker in [&b"x"[..], b" x", b" ext. ", b" ext ", b" ext.", b" ext"] {
        if let Some(stripped) = head.strip_suffix(marker) {
            if stripped.last().is_some_and(u8::is_ascii_digit) {
                return stripped;
            }
        }
    }
    value
}

/// A dotted-quad IPv4 address (no leading zeros, each part 0–255), not in 0.0.0.0/8
/// (which also leaves out version strings such as `0.9.1.2`).
pub fn ipv4(value: &[u8]) -> bool {
    let mut parts = 0;
    let mut first = 0;
    for part in value.split(|&b| b == b'.') {
        if part.is_empty() || part.len() > 3 || !all_digits(part) || (part.len() > 1 && part[0] == b'0') {
            return false;
        }
        let n = number_text(part);
        if n > 255 {
            return false;
        }
        if parts == 0 {
            first = n;
        }
        parts += 1;
    }
    parts == 4 && first != 0
}

/// An IPv6 address in any of its textual forms (RFC 4291 section 2.2), with at least one
/// `::` or seven `:` so that times (`12:30`) and MAC-like strings do not pass.
pub fn ipv6(value: &[u8]) -> bool {
    if value.len() < 3 || value.len() > 45 || !value.contains(&b':') {
        return false;
    }
    let Ok(text) = std::str::from_utf8(value) else { return false };
    let colons = value.iter().filter(|&&b| b == b':').count();
    (colons == 7 || text.contains("::")) && text.parse::<std::net::Ipv6Addr>().is_ok()
}

/// A calendar date written `YYYY-MM-DD`, `YYYY/MM/DD`, `DD/MM/YYYY`, `MM/DD/YYYY` or
/// `DD.MM.YYYY`, optionally followed by a time (`T…` or ` …`), as (year, month, day).
/// Day-first and month-first readings that are both valid give the day-first one (the
/// year, which is what the birth-date test uses, is the same).
pub fn date(value: &[u8]) -> Option<(i32, u32, u32)> {
    let date_part = match value.iter().position(|&b| b == b'T' || b == b' ') {
        Some(10) => &value[..10],
        Some(_) => return None,
        None => value,
    };
    if date_part.len() != 10 {
        return None;
    }
    let d = date_part;
    let (year, month, day) = if d[4] == d[7] && (d[4] == b'-' || d[4] == b'/') {
        if !(all_digits(&d[..4]) && all_digits(&d[5..7]) && all_digits(&d[8..10])) {
            return None;
        }
        (number_text(&d[..4]), number_text(&d[5..7]), number_text(&d[8..10]))
    } else if d[2] == d[5] && (d[2] == b'/' || d[2] == b'.' || d[2] == b'-') {
        if !(all_digits(&d[..2]) && all_digits(&d[3..5]) && all_digits(&d[6..10])) {
            return None;
        }
        let (first, second, year) = (number_text(&d[..2]), number_text(&d[3..5]), number_text(&d[6..10]));
        if valid_date(year, second, first) {
            (year, second, first)
        } else {
            (year, first, second)
        }
    } else {
        return None;
    };
    valid_date(year, month, day).then_some((year as i32, month, day))
}

fn valid_date(year: u32, month: u32, day: u32) -> bool {
    if !(1800..=2200).contains(&year) || !(1..=12).contains(&month) || day == 0 {
        return false;
    }
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    day <= days
}

/// A decimal number with at least `min_decimals` digits after the point, within
/// `-limit..=limit`.
pub fn coordinate(value: &[u8], limit: f64, min_decimals: usize) -> bool {
    let Some(point) = value.iter().position(|&b| b == b'.') else { return false };
    let decimals = &value[point + 1..];
    let integer = value[..point].strip_prefix(b"-").or_else(|| value[..point].strip_prefix(b"+"));
    let integer = integer.unwrap_or(&value[..point]);
    if integer.is_empty() || integer.len() > 3 || !all_digits(integer) {
        return false;
    }
    if decimals.len() < min_decimals || !all_digits(decimals) {
        return false;
    }
    std::str::from_utf8(value).ok().and_then(|t| t.parse::<f64>().ok()).is_some_and(|v| v.abs() <= limit)
}

/// A `latitude, longitude` pair (comma, semicolon or space separated, parentheses
/// allowed), both with at least four decimals (about 11 m).
pub fn coordinate_pair(value: &[u8]) -> bool {
    let value = trim(value);
    let inner = value.strip_prefix(b"(").unwrap_or(value);
    let inner = inner.strip_suffix(b")").unwrap_or(inner);
    let Some(split) = inner.iter().position(|&b| b == b',' || b == b';' || b == b' ') else { return false };
    let latitude = trim(&inner[..split]);
    let longitude = trim(inner[split + 1..].strip_prefix(b" ").unwrap_or(&inner[split + 1..]));
    coordinate(latitude, 90.0, 4) && coordinate(longitude, 180.0, 4)
}

pub fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(start, |i| i + 1);
    &bytes[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssn_structure() {
        assert_eq!(us_ssn(b"123-45-6789"), Some(true));
        assert_eq!(us_ssn(b"123456789"), Some(false));
        for bad in ["000-12-3456", "666-12-3456", "912-34-5678", "123-00-4567", "123-45-0000", "078-05-1120"] {
            assert_eq!(us_ssn(bad.as_bytes()), None, "{bad}");
        }
        assert_eq!(us_ssn(b"123-456-789"), None);
    }

    #[test]
    fn check_digits() {
        assert!(payment_card(b"4111 1111 1111 1111"));
        assert!(!payment_card(b"4111 1111 1111 1112"));
        assert!(payment_card(b"378282246310005"));
        assert!(iban(b"GB82 WEST 1234 5698 7654 32"));
        assert!(!iban(b"GB83 WEST 1234 5698 7654 32"));
        assert!(iban(b"DE89370400440532013000"));
        assert!(in_aadhaar(b"2341 2341 2346"));
        assert!(!in_aadhaar(b"2341 2341 2345"));
        assert!(nl_bsn(b"111222333"));
        assert!(!nl_bsn(b"111222334"));
        assert!(ca_sin(b"130 692 544"));
        assert!(!ca_sin(b"130 692 545"));
        assert!(!ca_sin(b"046 454 286"));
        assert!(de_tax_id(b"36574261809"));
        assert!(!de_tax_id(b"36574261808"));
        assert!(es_dni(b"12345678Z"));
        assert!(es_dni(b"X1234567L"));
        assert!(!es_dni(b"12345678A"));
        assert!(fr_nir(b"2 95 10 99 126 111 93"));
        assert!(!fr_nir(b"2 95 10 99 126 111 94"));
        assert!(uk_nino(b"AB 12 34 56 C"));
        assert!(!uk_nino(b"QQ 12 34 56 C"));
        assert!(!uk_nino(b"GB123456A"));
    }

    #[test]
    fn contact_and_network_values() {
        assert!(email(b"jane.doe+news@example.co.uk"));
        assert!(!email(b"jane..doe@example.com"));
        assert!(!email(b"@example.com"));
        assert!(phone(b"+44 20 7946 0958"));
        assert!(phone(b"(212) 555-0147"));
        assert!(phone(b"212-555-0147"));
        assert!(phone(b"020 7946 0958"));
        assert!(phone(b"206.269.0743x9150"));
        assert!(phone(b"+44(0)115 4960914"));
        assert!(phone(b"+33 (0)1 41 63 60 83"));
        assert!(!phone(b"2125550147"));
        assert!(!phone(b"123-45-6789"));
        assert!(!phone(b"2023-01-15"));
        assert!(ipv4(b"192.168.1.20"));
        assert!(!ipv4(b"0.9.1.2"));
        assert!(!ipv4(b"192.168.01.1"));
        assert!(!ipv4(b"1.2.3"));
        assert!(ipv6(b"2001:db8::8a2e:370:7334"));
        assert!(!ipv6(b"12:30:00"));
        assert_eq!(date(b"1984-02-29"), Some((1984, 2, 29)));
        assert_eq!(date(b"31/12/1999"), Some((1999, 12, 31)));
        assert_eq!(date(b"1983-02-29"), None);
        assert!(coordinate_pair(b"52.5200, 13.4050"));
        assert!(!coordinate_pair(b"52.52, 13.40"));
        assert!(!coordinate_pair(b"152.5200, 13.4050"));
    }
}
