//! The drift measures on one column, each computed the way its peer computes it (scipy for
//! the tests and distances, Evidently for the binning in front of them), from sorted numbers
//! or from aligned per-category counts.

use super::kolmogorov;

/// Walks the distinct values of two sorted samples in ascending order, calling `visit` with
/// each value and how many values of each sample are at or below it.
pub fn walk(reference: &[f64], current: &[f64], mut visit: impl FnMut(f64, usize, usize)) {
    let (mut i, mut j) = (0, 0);
    while i < reference.len() || j < current.len() {
        let value = match (reference.get(i), current.get(j)) {
            (Some(&a), Some(&b)) => a.min(b),
            (Some(&a), None) => a,
            (None, Some(&b)) => b,
            (None, None) => break,
        };
        while i < reference.len() && reference[i] == value {
            i += 1;
        }
        while j < current.len() && current[j] == value {
            j += 1;
        }
        visit(value, i, j);
    }
}

/// Two-sample Kolmogorov–Smirnov test on sorted samples: (statistic, p-value), as
/// `scipy.stats.ks_2samp(reference, current)`; and the distinct values of both, seen on the way.
pub fn ks(reference: &[f64], current: &[f64]) -> ((f64, f64), usize) {
    let (n1, n2) = (reference.len() as f64, current.len() as f64);
    let (mut d, mut distinct) = (0.0f64, 0);
    walk(reference, current, |_, i, j| {
        d = d.max((i as f64 / n1 - j as f64 / n2).abs());
        distinct += 1;
    });
    (kolmogorov::two_sample(reference.len(), current.len(), d.min(1.0)), distinct)
}

/// First Wasserstein distance between the samples divided by the reference's standard
/// deviation (at least 0.001), as Evidently's `wasserstein` (scipy's `wasserstein_distance`);
/// and the distinct values of both, seen on the way.
pub fn wasserstein_normed(reference: &[f64], current: &[f64]) -> (f64, usize) {
    let (n1, n2) = (reference.len() as f64, current.len() as f64);
    let (mut distance, mut distinct) = (0.0, 0);
    let mut previous: Option<(f64, f64)> = None;
    walk(reference, current, |value, i, j| {
        // Between the previous value and this one both CDFs hold their previous levels.
        if let Some((previous_value, gap)) = previous {
            distance += gap * (value - previous_value);
        }
        previous = Some((value, (i as f64 / n1 - j as f64 / n2).abs()));
        distinct += 1;
    });
    (distance / standard_deviation(reference).max(0.001), distinct)
}

/// Population standard deviation (numpy's `std`, ddof 0).
fn standard_deviation(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    (values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n).sqrt()
}

/// Chi-square goodness of fit of the current counts against the reference proportions
/// scaled to the current total (Evidently's `chisquare`): (statistic, p-value). A category
/// seen only in current has expected count 0: statistic ∞, p-value 0 (as scipy). A single
/// category has no degree of freedom: statistic 0, p-value 1 (scipy answers NaN).
pub fn chisquare(reference: &[u64], current: &[u64]) -> (f64, f64) {
    let n_reference: u64 = reference.iter().sum();
    let n_current: u64 = current.iter().sum();
    let scale = n_current as f64 / n_reference as f64;
    let mut statistic = 0.0;
    for (&expected, &observed) in reference.iter().zip(current) {
        let expected = expected as f64 * scale;
        let difference = observed as f64 - expected;
        statistic += difference * difference / expected;
    }
    if reference.len() < 2 {
        return (0.0, 1.0);
    }
    if statistic.is_nan() {
        statistic = f64::INFINITY;
    }
    let degrees = (reference.len() - 1) as f64;
    (statistic, gamma_q(degrees / 2.0, statistic / 2.0))
}

/// Two-proportion z-test on the share of the first category (Evidently's `z`):
/// (|z|, p-value); 1 when both samples hold the same single value.
pub fn z_test(reference: &[u64], current: &[u64]) -> (f64, f64) {
    let reference_present = reference.iter().filter(|&&count| count > 0).count();
    let current_present = current.iter().filter(|&&count| count > 0).count();
    let same_single =
        reference_present == 1 && current_present == 1 && reference.iter().zip(current).any(|(&r, &c)| r > 0 && c > 0);
    if same_single || reference.is_empty() {
        return (0.0, 1.0);
    }
    let n1: u64 = reference.iter().sum();
    let n2: u64 = current.iter().sum();
    let (n1, n2) = (n1 as f64, n2 as f64);
    // Evidently codes the first (sorted) category 0 and every other 1.
    let p1 = (n1 - reference[0] as f64) / n1;
    let p2 = (n2 - current[0] as f64) / n2;
    let pooled = (p1 * n1 + p2 * n2) / (n1 + n2);
    let z = (p1 - p2) / (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)).sqrt();
    if !z.is_finite() {
        return (0.0, 1.0);
    }
    let z = z.abs();
    // 2·(1 − Φ(|z|)) as scipy evaluates it, Φ(z) = 1 − erfc(z/√2)/2.
    let cdf = 1.0 - 0.5 * erfc(z / std::f64::consts::SQRT_2);
    (z, 2.0 * (1.0 - cdf))
}

/// Jensen–Shannon distance (natural logarithm) of two weight vectors, each normalised to
/// sum 1 first, as `scipy.spatial.distance.jensenshannon`.
pub fn jensenshannon(p: &[f64], q: &[f64]) -> f64 {
    let (sum_p, sum_q) = (p.iter().sum::<f64>(), q.iter().sum::<f64>());
    let (mut left, mut right) = (0.0, 0.0);
    for (&p, &q) in p.iter().zip(q) {
        let (p, q) = (p / sum_p, q / sum_q);
        let m = (p + q) / 2.0;
        left += relative_entropy(p, m);
        right += relative_entropy(q, m);
    }
    ((left + right) / 2.0).max(0.0).sqrt()
}

/// Kullback–Leibler divergence D(p‖q), both normalised to sum 1, as `scipy.stats.entropy(p, q)`.
pub fn kl(p: &[f64], q: &[f64]) -> f64 {
    let (sum_p, sum_q) = (p.iter().sum::<f64>(), q.iter().sum::<f64>());
    p.iter().zip(q).map(|(&p, &q)| relative_entropy(p / sum_p, q / sum_q)).sum()
}

/// Population stability index Σ (current − reference)·ln(current / reference) over bins
/// whose empty shares were replaced by [`PSI_EPSILON`].
pub fn psi(reference: &[f64], current: &[f64]) -> f64 {
    reference
        .iter()
        .zip(current)
        .map(|(&r, &c)| {
            let (r, c) = (r.max(PSI_EPSILON), c.max(PSI_EPSILON));
            (c - r) * (c / r).ln()
        })
        .sum()
}

/// The share given to an empty PSI bin.
pub const PSI_EPSILON: f64 = 1e-4;

/// Bins for PSI on numbers: the reference's deciles (numpy's default linear interpolation),
/// duplicates removed; bin k holds the values with k edges at or below them, so the outer
/// bins are open (−∞, q10) and [q90, +∞). A constant reference c gets the bins (−∞, c),
/// [c, c] and (c, +∞). Returns the shares of reference and current.
pub fn decile_shares(reference: &[f64], current: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let mut edges: Vec<f64> = (1..10).map(|k| quantile(reference, k as f64 / 10.0)).collect();
    edges.dedup();
    if reference[0] == reference[reference.len() - 1] {
        // A constant reference c: three bins, below, at and above c, so a move either way shows.
        let constant = reference[0];
        let shares = |values: &[f64]| {
            let below = values.partition_point(|&v| v < constant);
            let at_or_below = values.partition_point(|&v| v <= constant);
            let n = values.len() as f64;
            vec![below as f64 / n, (at_or_below - below) as f64 / n, (values.len() - at_or_below) as f64 / n]
        };
        return (shares(reference), shares(current));
    }
    let shares = |values: &[f64]| {
        let mut previous = 0;
        let mut shares = Vec::with_capacity(edges.len() + 1);
        for &edge in &edges {
            let below = values.partition_point(|&v| v < edge);
            shares.push((below - previous) as f64 / values.len() as f64);
            previous = below;
        }
        shares.push((values.len() - previous) as f64 / values.len() as f64);
        shares
    };
    (shares(reference), shares(current))
}

/// numpy's `quantile(sorted, q)` with the default (linear) method.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len() as f64;
    // numpy: n·q + (alpha + q·(1 − alpha − beta)) − 1 with alpha = beta = 1.
    let virtual_index = n * q + (1.0 - q) - 1.0;
    let previous = virtual_index.floor();
    let gamma = virtual_index - previous;
    let last = sorted.len() - 1;
    let below = sorted[(previous.max(0.0) as usize).min(last)];
    let above = sorted[((previous + 1.0).max(0.0) as usize).min(last)];
    let difference = above - below;
    if gamma >= 0.5 {
        above - difference * (1.0 - gamma)
    } else {
        below + difference * gamma
    }
}

/// Evidently's histogram for numbers (`get_binned_data` with more than 20 distinct reference
/// values): Sturges' rule on reference and current together, equal-width bins over their
/// range, the last bin closed. Returns the shares of reference and current.
pub fn sturges_shares(reference: &[f64], current: &[f64], integer: bool) -> (Vec<f64>, Vec<f64>) {
    let first = reference[0].min(current[0]);
    let last = reference[reference.len() - 1].max(current[current.len() - 1]);
    let size = (reference.len() + current.len()) as f64;
    let (first_edge, last_edge) = if first == last { (first - 0.5, last + 0.5) } else { (first, last) };
    let mut width = (last - first) / (size.log2() + 1.0);
    let bins = if width != 0.0 {
        if integer && width < 1.0 {
            width = 1.0;
        }
        ((last_edge - first_edge) / width).ceil() as usize
    } else {
        1
    };
    let step = (last_edge - first_edge) / bins as f64;
    let edges: Vec<f64> =
        (0..=bins).map(|i| if i == bins { last_edge } else { i as f64 * step + first_edge }).collect();
    let shares = |values: &[f64]| {
        let mut shares = Vec::with_capacity(bins);
        let mut previous = values.partition_point(|&v| v < edges[0]);
        for (index, &edge) in edges.iter().enumerate().skip(1) {
            let upto = if index == bins {
                values.partition_point(|&v| v <= edge)
            } else {
                values.partition_point(|&v| v < edge)
            };
            shares.push((upto - previous) as f64 / values.len() as f64);
            previous = upto;
        }
        shares
    };
    (shares(reference), shares(current))
}

/// Evidently's `feel_zeroes`: empty shares become the smallest non-empty share / 10⁶ when
/// that is at most 0.0001, else 0.0001.
pub fn fill_zeroes(shares: &mut [f64]) {
    let smallest = shares.iter().copied().filter(|&s| s != 0.0).fold(f64::INFINITY, f64::min);
    if !smallest.is_finite() {
        return;
    }
    let fill = if smallest <= 0.0001 { smallest / 1e6 } else { 0.0001 };
    shares.iter_mut().filter(|s| **s == 0.0).for_each(|s| *s = fill);
}

/// scipy's `rel_entr`.
fn relative_entropy(x: f64, y: f64) -> f64 {
    if x > 0.0 && y > 0.0 {
        x * (x / y).ln()
    } else if x == 0.0 && y >= 0.0 {
        0.0
    } else {
        f64::INFINITY
    }
}

/// Complementary error function, erfc(x) = Q(1/2, x²) for x ≥ 0.
pub fn erfc(x: f64) -> f64 {
    if x < 0.0 {
        2.0 - erfc(-x)
    } else {
        gamma_q(0.5, x * x)
    }
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; relative error about 1e-15).
fn ln_gamma(x: f64) -> f64 {
    const COEFFICIENTS: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = COEFFICIENTS[0];
    for (i, c) in COEFFICIENTS.iter().enumerate().skip(1) {
        sum += c / (x + i as f64);
    }
    let t = x + 7.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

/// Regularised upper incomplete gamma Q(a, x) (the chi-square survival function is
/// Q(k/2, x/2)): the series for P below a + 1, Lentz's continued fraction above.
pub fn gamma_q(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    if x.is_infinite() {
        return 0.0;
    }
    let log_prefix = -x + a * x.ln() - ln_gamma(a);
    if x < a + 1.0 {
        let (mut term, mut sum, mut denominator) = (1.0 / a, 1.0 / a, a);
        for _ in 0..10_000 {
            denominator += 1.0;
            term *= x / denominator;
            sum += term;
            if term.abs() < sum.abs() * 1e-17 {
                break;
            }
        }
        return (1.0 - sum * log_prefix.exp()).clamp(0.0, 1.0);
    }
    let tiny = 1e-300;
    let mut b = x + 1.0 - a;
    let mut c = 1.0 / tiny;
    let mut d = 1.0 / b;
    let mut h = d;
    for i in 1..10_000 {
        let an = -(i as f64) * (i as f64 - a);
        b += 2.0;
        d = an * d + b;
        if d.abs() < tiny {
            d = tiny;
        }
        c = b + an / c;
        if c.abs() < tiny {
            c = tiny;
        }
        d = 1.0 / d;
        let delta = d * c;
        h *= delta;
        if (delta - 1.0).abs() < 1e-16 {
            break;
        }
    }
    (log_prefix.exp() * h).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference values from scipy 1.17.1.
    #[test]
    fn chi_square_survival() {
        // scipy.stats.chi2.sf(x, k)
        for (x, k, expected) in [
            (3.0, 2.0, 0.22313016014842982),
            (10.0, 4.0, 0.04042768199451279),
            (0.5, 1.0, 0.47950012218695337),
            (150.0, 120.0, 0.03307348091130466),
        ] {
            let p = gamma_q(k / 2.0, x / 2.0);
            assert!((p - expected).abs() < 1e-12, "chi2.sf({x}, {k}) = {p}, scipy {expected}");
        }
    }

    #[test]
    fn erfc_matches() {
        // scipy.special.erfc
        for (x, expected) in [(0.1, 0.8875370839817152), (1.0, 0.15729920705028516), (3.0, 2.2090496998585445e-05)] {
            assert!((erfc(x) - expected).abs() < 1e-15, "erfc({x}) = {}", erfc(x));
        }
    }
}
