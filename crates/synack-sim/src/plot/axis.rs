//! Plot frames: the mapping from time and bytes to the page, ticks at
//! round numbers, and their labels (milliseconds; B, kB, MB).

use crate::svg::xml;
use std::fmt::Write as _;

/// A plot area and the ranges it shows: time in microseconds across,
/// bytes up.
#[derive(Copy, Clone, Debug, PartialEq)]
pub(crate) struct Frame {
    pub left: f64,
    pub right: f64,
    pub top: f64,
    pub bottom: f64,
    pub t0: f64,
    pub t1: f64,
    pub v0: f64,
    pub v1: f64,
}

impl Frame {
    pub(crate) fn x(&self, t_us: f64) -> f64 {
        self.left + (self.right - self.left) * (t_us - self.t0) / (self.t1 - self.t0)
    }

    pub(crate) fn y(&self, v: f64) -> f64 {
        self.bottom - (self.bottom - self.top) * (v - self.v0) / (self.v1 - self.v0)
    }

    /// The frame, grid lines and labelled ticks on both axes.
    pub(crate) fn axes(&self, out: &mut String, y_label: &str) {
        let (l, r, t, b) = (self.left, self.right, self.top, self.bottom);
        let tstep = step(self.t1 - self.t0, 10);
        for tick in ticks(self.t0, self.t1, tstep) {
            let x = self.x(tick);
            let _ = writeln!(
                out,
                "<line x1=\"{x:.1}\" y1=\"{t:.1}\" x2=\"{x:.1}\" y2=\"{b:.1}\" stroke=\"#eee\"/>\
                 <line x1=\"{x:.1}\" y1=\"{b:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#666\"/>\
                 <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" class=\"tick\">{}</text>",
                b + 4.0,
                b + 16.0,
                ms_label(tick, tstep)
            );
        }
        let vstep = step(self.v1 - self.v0, 6);
        for tick in ticks(self.v0, self.v1, vstep) {
            let y = self.y(tick);
            let _ = writeln!(
                out,
                "<line x1=\"{l:.1}\" y1=\"{y:.1}\" x2=\"{r:.1}\" y2=\"{y:.1}\" stroke=\"#eee\"/>\
                 <line x1=\"{:.1}\" y1=\"{y:.1}\" x2=\"{l:.1}\" y2=\"{y:.1}\" stroke=\"#666\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" class=\"tick\">{}</text>",
                l - 4.0,
                l - 7.0,
                y + 4.0,
                bytes_label(tick, vstep, self.v1)
            );
        }
        let _ = writeln!(
            out,
            "<rect x=\"{l:.1}\" y=\"{t:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"none\" stroke=\"#666\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" class=\"axis\">time (ms)</text>\
             <text x=\"14\" y=\"{:.1}\" text-anchor=\"middle\" transform=\"rotate(-90 14 {:.1})\" class=\"axis\">{}</text>",
            r - l,
            b - t,
            (l + r) / 2.0,
            b + 34.0,
            (t + b) / 2.0,
            (t + b) / 2.0,
            xml(y_label)
        );
    }
}

/// A round step (1, 2 or 5 times a power of ten) that cuts `range` into
/// about `parts` pieces.
pub(crate) fn step(range: f64, parts: usize) -> f64 {
    let raw = (range / parts as f64).max(f64::MIN_POSITIVE);
    let power = 10f64.powf(raw.log10().floor());
    let m = raw / power;
    let nice = if m <= 1.0 {
        1.0
    } else if m <= 2.0 {
        2.0
    } else if m <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * power
}

/// The multiples of `step` from `lo` to `hi`, both included.
pub(crate) fn ticks(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

/// Decimals enough to tell ticks `step` apart.
fn decimals(step: f64) -> usize {
    (-step.log10().floor()).clamp(0.0, 6.0) as usize
}

/// A time tick (µs) in milliseconds.
pub(crate) fn ms_label(us: f64, step_us: f64) -> String {
    format!("{:.*}", decimals(step_us / 1000.0), us / 1000.0)
}

/// A byte count in the unit that suits `max`: B, kB or MB.
pub(crate) fn bytes_label(v: f64, step: f64, max: f64) -> String {
    if v == 0.0 {
        return "0".to_string();
    }
    let (unit, name) = if max >= 1e6 {
        (1e6, "MB")
    } else if max >= 1e3 {
        (1e3, "kB")
    } else {
        (1.0, "B")
    };
    format!("{:.*} {name}", decimals(step / unit), v / unit)
}

/// A byte count in words for a note: `1 048 576 bytes` reads worse than
/// `1.05 MB`.
pub(crate) fn bytes_words(v: f64) -> String {
    bytes_label(v, v.abs().max(1.0) / 100.0, v.abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_round_numbers() {
        assert_eq!(step(1000.0, 10), 100.0);
        assert_eq!(step(3300.0, 10), 500.0);
        assert_eq!(step(1_048_576.0, 6), 200_000.0);
        assert_eq!(step(14_480.0, 6), 5000.0);
        assert_eq!(step(7.0, 6), 2.0);
        assert_eq!(
            ticks(50.0, 1000.0, 200.0),
            [200.0, 400.0, 600.0, 800.0, 1000.0]
        );
    }

    #[test]
    fn labels_carry_units() {
        assert_eq!(ms_label(3_300_000.0, 500_000.0), "3300");
        assert_eq!(ms_label(1500.0, 500.0), "1.5");
        assert_eq!(bytes_label(200_000.0, 200_000.0, 1_048_576.0), "0.2 MB");
        assert_eq!(bytes_label(10_000.0, 5000.0, 14_480.0), "10 kB");
        assert_eq!(bytes_label(12_500.0, 500.0, 14_480.0), "12.5 kB");
        assert_eq!(bytes_label(4.0, 2.0, 7.0), "4 B");
        assert_eq!(bytes_label(0.0, 2.0, 7.0), "0");
        assert_eq!(bytes_words(1_048_576.0), "1.05 MB");
        assert_eq!(bytes_words(65_535.0), "65.5 kB");
    }

    #[test]
    fn the_frame_maps_time_across_and_bytes_up() {
        let f = Frame {
            left: 100.0,
            right: 200.0,
            top: 10.0,
            bottom: 110.0,
            t0: 0.0,
            t1: 1000.0,
            v0: 0.0,
            v1: 50.0,
        };
        assert_eq!(f.x(500.0), 150.0);
        assert_eq!(f.y(0.0), 110.0);
        assert_eq!(f.y(50.0), 10.0);
    }
}
