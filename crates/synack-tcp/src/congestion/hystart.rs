//! HyStart++ (RFC 9406): leave slow start before it overflows the
//! bottleneck queue. Each round trip it compares the minimum RTT of the
//! round with the previous round's; a rise of more than η (an eighth of
//! the RTT, between 4 and 16 ms) moves to conservative slow start (CSS),
//! which grows four times slower and, after five rounds, ends slow start.
//! An RTT back below the baseline returns to ordinary slow start: the rise
//! was noise.

use crate::time::Duration;

/// RFC 9406 §4.3 constants.
const MIN_RTT_THRESH: Duration = Duration::from_millis(4);
const MAX_RTT_THRESH: Duration = Duration::from_millis(16);
const MIN_RTT_DIVISOR: u32 = 8;
const N_RTT_SAMPLE: u32 = 8;
pub(super) const CSS_GROWTH_DIVISOR: u32 = 4;
const CSS_ROUNDS: u32 = 5;

/// "No value" for the RTT fields below (µs).
const NONE: u32 = u32::MAX;

/// The HyStart++ state of one connection (RTTs in µs, `NONE` when unset).
#[derive(Clone, Debug)]
pub struct HyStart {
    last_round_min: u32,
    current_round_min: u32,
    samples: u32,
    /// The round's minimum RTT when CSS began; set while in CSS.
    css_baseline: u32,
    css_rounds: u32,
}

impl Default for HyStart {
    fn default() -> Self {
        HyStart {
            last_round_min: NONE,
            current_round_min: NONE,
            samples: 0,
            css_baseline: NONE,
            css_rounds: 0,
        }
    }
}

fn us(d: Duration) -> u32 {
    u32::try_from(d.as_micros())
        .unwrap_or(NONE - 1)
        .min(NONE - 1)
}

impl HyStart {
    pub fn in_css(&self) -> bool {
        self.css_baseline != NONE
    }

    /// A round trip ended. Returns true when CSS has run its rounds and
    /// slow start must end.
    pub fn on_round_end(&mut self) -> bool {
        self.last_round_min = self.current_round_min;
        self.current_round_min = NONE;
        self.samples = 0;
        if self.in_css() {
            self.css_rounds += 1;
            if self.css_rounds >= CSS_ROUNDS {
                self.css_baseline = NONE;
                self.css_rounds = 0;
                return true;
            }
        }
        false
    }

    /// An RTT sample in slow start.
    pub fn on_rtt(&mut self, rtt: Duration) {
        let cur = self.current_round_min.min(us(rtt));
        self.current_round_min = cur;
        self.samples += 1;
        if self.samples < N_RTT_SAMPLE {
            return;
        }
        if !self.in_css() {
            let last = self.last_round_min;
            if last != NONE {
                let eta = (last / MIN_RTT_DIVISOR).clamp(us(MIN_RTT_THRESH), us(MAX_RTT_THRESH));
                if cur >= last.saturating_add(eta) {
                    self.css_baseline = cur;
                    self.css_rounds = 0;
                }
            }
        } else if cur < self.css_baseline {
            // §4.2: the RTT fell back below the baseline: a spurious exit.
            self.css_baseline = NONE;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_growing_rtt_enters_css_and_five_rounds_end_slow_start() {
        let mut h = HyStart::default();
        for _ in 0..8 {
            h.on_rtt(ms(50));
        }
        assert!(!h.on_round_end());
        // η = 50/8 = 6.25 ms: 56 ms is below the threshold.
        for _ in 0..8 {
            h.on_rtt(ms(56));
        }
        assert!(!h.in_css());
        h.on_round_end();
        // Seven samples are not enough to decide; the eighth is.
        for _ in 0..7 {
            h.on_rtt(ms(70));
        }
        assert!(!h.in_css());
        h.on_rtt(ms(70));
        assert!(h.in_css(), "70 ms ≥ 56 ms + 7 ms");
        for _ in 0..4 {
            assert!(!h.on_round_end());
        }
        assert!(h.on_round_end());
        assert!(!h.in_css());
    }

    #[test]
    fn an_rtt_below_the_baseline_resumes_slow_start() {
        let mut h = HyStart {
            last_round_min: us(ms(20)),
            ..HyStart::default()
        };
        for _ in 0..8 {
            h.on_rtt(ms(30));
        }
        assert!(h.in_css());
        h.on_round_end();
        for _ in 0..8 {
            h.on_rtt(ms(25));
        }
        assert!(!h.in_css());
    }
}
