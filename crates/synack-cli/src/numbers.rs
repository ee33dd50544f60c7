//! The parsers of every numeric option: a value out of range, negative or
//! not a number at all gets one line that says what would do ("must be a
//! whole number from 0 to 10000", "must be between 0 and 0.9"), never
//! clap's "unexpected argument '-1'" (each numeric option also sets
//! `allow_negative_numbers`, so that `-1` reaches these parsers).

use std::ops::RangeInclusive;

/// A whole number in `range`, as `T` (u16, u32, u64, usize).
pub fn whole<T>(range: RangeInclusive<u64>) -> impl Fn(&str) -> Result<T, String> + Clone
where
    T: TryFrom<u64>,
{
    move |s: &str| {
        let (lo, hi) = (*range.start(), *range.end());
        s.trim()
            .parse::<u64>()
            .ok()
            .filter(|n| range.contains(n))
            .and_then(|n| T::try_from(n).ok())
            .ok_or_else(|| format!("must be a whole number from {lo} to {hi}"))
    }
}

/// A number between `lo` and `hi`, both included (a probability, a
/// fraction).
pub fn between(lo: f64, hi: f64) -> impl Fn(&str) -> Result<f64, String> + Clone {
    move |s: &str| {
        s.trim()
            .parse::<f64>()
            .ok()
            .filter(|p| (lo..=hi).contains(p))
            .ok_or_else(|| format!("must be between {lo} and {hi}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_say_their_range_for_anything_else() {
        let p = whole::<u16>(1..=65535);
        assert_eq!(p("80"), Ok(80));
        for bad in [
            "-1",
            "0",
            "65536",
            "1e3",
            "x",
            "",
            "99999999999999999999999",
        ] {
            assert_eq!(p(bad), Err("must be a whole number from 1 to 65535".into()));
        }
        assert_eq!(
            whole::<u64>(0..=u64::MAX)("18446744073709551615"),
            Ok(u64::MAX)
        );
    }

    #[test]
    fn fractions_say_their_range_for_anything_else() {
        let p = between(0.0, 0.9);
        assert_eq!(p("0.9"), Ok(0.9));
        assert_eq!(p("0"), Ok(0.0));
        for bad in ["-0.1", "-1", "0.91", "NaN", "inf", "x"] {
            assert_eq!(p(bad), Err("must be between 0 and 0.9".into()));
        }
    }
}
