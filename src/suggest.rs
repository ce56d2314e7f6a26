//! "Did you mean …?": the nearest of the names that exist, for messages about a name that
//! does not (an environment, an evidence field, a rule).

/// The candidate closest to `name` when it is close enough to be the name meant: the same
/// letters in another case, or at most one edit in four characters (at least one, at most three).
pub fn nearest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    nearest_within(name, candidates, (name.chars().count() / 4).clamp(1, 3))
}

/// [`nearest`] with an explicit number of edits allowed.
pub fn nearest_within<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>, limit: usize) -> Option<&'a str> {
    let lower = name.to_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        if candidate == name {
            continue;
        }
        let distance = if candidate.to_lowercase() == lower { 0 } else { distance(&lower, &candidate.to_lowercase()) };
        if distance <= limit && best.is_none_or(|(best_distance, _)| distance < best_distance) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// Whether `name` is one edit (or a change of case) from one of `candidates`, and long
/// enough (six characters) for that to be a typo rather than another name (`rmsle` is a
/// metric of its own, `acuracy` is not).
pub fn is_near_miss<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> bool {
    name.chars().count() >= 6 && nearest_within(name, candidates, 1).is_some()
}

/// Levenshtein distance, with a transposition counted as one edit (`acuracy`, `recal`, `rceall`).
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1).min(rows[i][j - 1] + 1).min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

/// `the one`, `a or b`, `a, b or c`: a list of names for a message, in backticks.
pub fn list(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
    match quoted.len() {
        0 => "none".to_string(),
        1 => quoted[0].clone(),
        n => format!("{} or {}", quoted[..n - 1].join(", "), quoted[n - 1]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_typos_not_other_names() {
        let environments = ["development", "staging", "production"];
        assert_eq!(nearest("prodution", environments), Some("production"));
        assert_eq!(nearest("Production", environments), Some("production"));
        assert_eq!(nearest("prod", environments), None);
        assert_eq!(nearest("production", environments), None);
        assert_eq!(nearest("acuracy", ["accuracy", "recall"]), Some("accuracy"));
        assert_eq!(nearest("denny", ["deny", "warn", "catalog"]), Some("deny"));
        assert_eq!(nearest("my_custom_score", ["accuracy", "f1"]), None);
        assert_eq!(list(&["a", "b", "c"]), "`a`, `b` or `c`");
    }
}
