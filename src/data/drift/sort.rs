//! Sorting numbers for KS, Wasserstein and the quantiles: the floats mapped to unsigned
//! integers in the same order and sorted as integers (pattern-defeating quicksort). Measured
//! on a million values of this machine: 14 ms, against 20–27 ms for a float comparison sort
//! and 21–30 ms for LSD radix sorts with 8-, 11- or 16-bit digits (memory-bound scatters).

/// Sorts finite numbers ascending (−0.0 before 0.0).
pub fn sort(values: &mut [f64]) {
    let mut keys: Vec<u64> = values.iter().map(|&value| key(value)).collect();
    keys.sort_unstable();
    for (value, &key) in values.iter_mut().zip(&keys) {
        *value = from_key(key);
    }
}

/// The bits of `value` as an unsigned integer ordered as the numbers are.
fn key(value: f64) -> u64 {
    let bits = value.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

fn from_key(key: u64) -> f64 {
    if key >> 63 == 1 {
        f64::from_bits(key & !(1 << 63))
    } else {
        f64::from_bits(!key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_like_a_comparison_sort() {
        // A deterministic mix of signs, magnitudes, ties and zeros.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut values: Vec<f64> = (0..50_000)
            .map(|i| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                match i % 5 {
                    0 => (state % 1000) as f64 - 500.0,
                    1 => f64::from_bits(state >> 2) * if state & 1 == 0 { 1.0 } else { -1.0 },
                    2 => 0.0,
                    3 => -0.0,
                    _ => (state as f64 / u64::MAX as f64 - 0.5) * 1e-300,
                }
            })
            .filter(|value: &f64| value.is_finite())
            .collect();
        let mut expected = values.clone();
        expected.sort_by(f64::total_cmp);
        sort(&mut values);
        let bits = |values: &[f64]| values.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&values), bits(&expected));
    }
}
