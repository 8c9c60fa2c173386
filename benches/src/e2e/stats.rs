//! Medians, percentiles and the formats the tables print them in.

use std::time::Duration;

/// The median of `samples` (the mean of the middle two for an even count); `None` if empty.
pub(crate) fn median(samples: &[Duration]) -> Option<Duration> {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2),
    }
}

/// The `p`-th percentile (0 < p <= 100) of `samples`, by nearest rank; `None` if empty.
pub(crate) fn percentile(samples: &[Duration], p: f64) -> Option<Duration> {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len().max(1)) - 1).copied()
}

/// Seconds with three decimals: `2.315 s`.
pub(crate) fn seconds(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

/// Milliseconds with two decimals: `3.41 ms`.
pub(crate) fn millis(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// Whole microseconds: `41 us`.
pub(crate) fn micros(d: Duration) -> String {
    format!("{} us", d.as_micros())
}

/// A signed difference in whole microseconds: `+12 us`, `-3 us`.
pub(crate) fn micros_delta(a: Duration, b: Duration) -> String {
    let delta = a.as_micros() as i128 - b.as_micros() as i128;
    format!("{delta:+} us")
}

/// `a / b` as a ratio: `1.42x`.
pub(crate) fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 { format!("{:.2}x", a / b) } else { "-".into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(values: &[u64]) -> Vec<Duration> {
        values.iter().map(|&v| Duration::from_millis(v)).collect()
    }

    #[test]
    fn median_takes_the_middle_or_the_mean_of_the_middle_two() {
        assert_eq!(median(&ms(&[3, 1, 2])), Some(Duration::from_millis(2)));
        assert_eq!(median(&ms(&[4, 1, 3, 2])), Some(Duration::from_micros(2500)));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn p99_of_a_hundred_samples_is_the_99th() {
        let samples = ms(&(1..=100).rev().collect::<Vec<_>>());
        assert_eq!(percentile(&samples, 99.0), Some(Duration::from_millis(99)));
        assert_eq!(percentile(&ms(&[7]), 99.0), Some(Duration::from_millis(7)));
        assert_eq!(percentile(&[], 99.0), None);
    }
}
