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

/// The HyStart++ state of one connection.
#[derive(Clone, Debug, Default)]
pub struct HyStart {
    last_round_min: Option<Duration>,
    current_round_min: Option<Duration>,
    samples: u32,
    /// The round's minimum RTT when CSS began; `Some` while in CSS.
    css_baseline: Option<Duration>,
    css_rounds: u32,
}

impl HyStart {
    pub fn in_css(&self) -> bool {
        self.css_baseline.is_some()
    }

    /// A round trip ended. Returns true when CSS has run its rounds and
    /// slow start must end.
    pub fn on_round_end(&mut self) -> bool {
        self.last_round_min = self.current_round_min.take();
        self.samples = 0;
        if self.css_baseline.is_some() {
            self.css_rounds += 1;
            if self.css_rounds >= CSS_ROUNDS {
                self.css_baseline = None;
                self.css_rounds = 0;
                return true;
            }
        }
        false
    }

    /// An RTT sample in slow start.
    pub fn on_rtt(&mut self, rtt: Duration) {
        let cur = self.current_round_min.map_or(rtt, |m| m.min(rtt));
        self.current_round_min = Some(cur);
        self.samples += 1;
        if self.samples < N_RTT_SAMPLE {
            return;
        }
        match self.css_baseline {
            None => {
                if let Some(last) = self.last_round_min {
                    let eta = (last / MIN_RTT_DIVISOR).clamp(MIN_RTT_THRESH, MAX_RTT_THRESH);
                    if cur >= last + eta {
                        self.css_baseline = Some(cur);
                        self.css_rounds = 0;
                    }
                }
            }
            // §4.2: the RTT fell back below the baseline: a spurious exit.
            Some(base) if cur < base => self.css_baseline = None,
            Some(_) => {}
        }
    }

    /// A congestion event ends slow start for good.
    pub fn reset(&mut self) {
        *self = HyStart::default();
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
            last_round_min: Some(ms(20)),
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
