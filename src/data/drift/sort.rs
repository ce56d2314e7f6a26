//! Sorting numbers for KS, Wasserstein and the quantiles: an LSD radix sort on the bits of
//! the floats (six 11-bit digits, so each histogram stays in cache; passes where every value
//! has the same digit are skipped), several times faster than a comparison sort on a million
//! values.

/// Below this, a comparison sort is faster than six passes.
const RADIX_MIN: usize = 1 << 12;

const BITS: u32 = 11;
const BUCKETS: usize = 1 << BITS;
const DIGITS: usize = 64_usize.div_ceil(BITS as usize);

/// Sorts finite numbers ascending (−0.0 before 0.0).
pub fn sort(values: &mut [f64]) {
    if values.len() < RADIX_MIN {
        values.sort_unstable_by(f64::total_cmp);
        return;
    }
    let mut keys: Vec<u64> = Vec::with_capacity(values.len());
    // One histogram per digit, counted in the same pass that makes the keys.
    let mut counts = vec![0usize; DIGITS * BUCKETS];
    for &value in values.iter() {
        let key = key(value);
        keys.push(key);
        for digit in 0..DIGITS {
            counts[digit * BUCKETS + ((key >> (BITS as usize * digit)) as usize & (BUCKETS - 1))] += 1;
        }
    }
    let mut buffer = vec![0u64; keys.len()];
    for (digit, count) in counts.chunks_exact_mut(BUCKETS).enumerate() {
        if count.contains(&keys.len()) {
            continue;
        }
        let mut offset = 0;
        for slot in count.iter_mut() {
            let size = *slot;
            *slot = offset;
            offset += size;
        }
        let shift = BITS as usize * digit;
        for &key in &keys {
            let bucket = (key >> shift) as usize & (BUCKETS - 1);
            buffer[count[bucket]] = key;
            count[bucket] += 1;
        }
        std::mem::swap(&mut keys, &mut buffer);
    }
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
        // A deterministic mix of signs, magnitudes, ties and zeros, large enough for the radix path.
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
