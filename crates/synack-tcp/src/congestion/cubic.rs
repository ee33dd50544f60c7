//! CUBIC (RFC 9438): after a congestion event the window grows along a
//! cubic curve in the time since that event, concave up to the window
//! where the loss happened (W_max), flat around it, then convex as it
//! probes beyond. A Reno-friendly estimate keeps it at least as aggressive
//! as NewReno on short, low-bandwidth paths.
//!
//! Windows are counted in segments here, as the RFC writes them, and
//! converted to bytes at the edges.

use super::AckSample;
use crate::time::Instant;

/// RFC 9438 §5.1: C = 0.4.
const C: f64 = 0.4;
/// RFC 9438 §4.6: the multiplicative decrease factor β_cubic = 0.7.
const BETA: f64 = 0.7;

/// CUBIC's state between congestion events.
#[derive(Clone, Debug)]
pub struct Cubic {
    /// W_max: the window (segments) before the last reduction.
    w_max: f64,
    /// K: seconds from the epoch start until the curve reaches W_max.
    k: f64,
    /// When the current congestion-avoidance epoch began (µs);
    /// `u64::MAX` when no epoch is running.
    epoch_start: u64,
    /// W_est: the window NewReno would have now (RFC 9438 §4.3).
    w_est: f64,
    /// Growth not yet applied, in bytes (below one byte).
    frac: f64,
}

/// No epoch running.
const NO_EPOCH: u64 = u64::MAX;

impl Default for Cubic {
    fn default() -> Self {
        Cubic {
            w_max: 0.0,
            k: 0.0,
            epoch_start: NO_EPOCH,
            w_est: 0.0,
            frac: 0.0,
        }
    }
}

impl Cubic {
    /// RFC 9438 §4.2-4.5: grow cwnd (bytes) for one ACK in congestion
    /// avoidance and return the new value. `prior` is cwnd_prior in bytes:
    /// W_est grows at NewReno's own rate once it gets there (§4.3); with
    /// fast convergence W_max is below it.
    pub(super) fn on_ack(&mut self, s: &AckSample, cwnd: u32, mss: u32, prior: u32) -> u32 {
        let mss_f = f64::from(mss);
        let cwnd_seg = f64::from(cwnd) / mss_f;
        let epoch = match self.epoch_start {
            NO_EPOCH => {
                // A new epoch: the curve starts at the current window.
                self.epoch_start = s.now.as_micros();
                self.w_est = cwnd_seg;
                self.frac = 0.0;
                if self.w_max <= cwnd_seg {
                    self.k = 0.0;
                    self.w_max = cwnd_seg;
                } else {
                    self.k = ((self.w_max - cwnd_seg) / C).cbrt();
                }
                s.now
            }
            t => Instant::from_micros(t),
        };
        // §4.2: the target is the curve one RTT ahead.
        let t = s.now.saturating_since(epoch).as_secs_f64() + s.srtt.as_secs_f64();
        let w_cubic = C * (t - self.k).powi(3) + self.w_max;
        // §4.3: the Reno-friendly region, with α_cubic = 3(1-β)/(1+β) until
        // W_est reaches cwnd_prior, 1 after.
        let alpha = if self.w_est < f64::from(prior) / mss_f {
            3.0 * (1.0 - BETA) / (1.0 + BETA)
        } else {
            1.0
        };
        self.w_est += alpha * (f64::from(s.acked) / mss_f) / cwnd_seg;
        let target = if w_cubic < self.w_est {
            self.w_est
        } else {
            // §4.4-4.5: never more than 1.5× the window per RTT.
            w_cubic.min(1.5 * cwnd_seg)
        };
        if target > cwnd_seg {
            self.frac += (target - cwnd_seg) / cwnd_seg * f64::from(s.acked);
        }
        let inc = self.frac.floor();
        self.frac -= inc;
        cwnd.saturating_add(inc.min(f64::from(u32::MAX)) as u32)
    }

    /// §4.6-4.7: a congestion event at window `cwnd`; returns the new
    /// ssthresh (bytes). Fast convergence lowers W_max when the window had
    /// not recovered to the previous W_max, releasing bandwidth to newer flows.
    pub(super) fn on_congestion_event(&mut self, _now: Instant, cwnd: u32, mss: u32) -> u32 {
        let cwnd_seg = f64::from(cwnd) / f64::from(mss);
        self.w_max = if cwnd_seg < self.w_max {
            cwnd_seg * (1.0 + BETA) / 2.0
        } else {
            cwnd_seg
        };
        self.epoch_start = NO_EPOCH;
        ((f64::from(cwnd) * BETA) as u32).max(2 * mss)
    }

    /// Slow start ended without a loss (HyStart++ or ssthresh reached):
    /// the curve restarts from here (§4.10).
    pub(super) fn on_slow_start_exit(&mut self, _now: Instant, cwnd: u32, mss: u32) {
        let cwnd_seg = f64::from(cwnd) / f64::from(mss);
        if self.w_max < cwnd_seg {
            self.w_max = cwnd_seg;
        }
        self.epoch_start = NO_EPOCH;
    }

    /// After idle, the epoch restarts so the curve does not jump ahead.
    pub(super) fn reset_epoch(&mut self) {
        self.epoch_start = NO_EPOCH;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Duration;

    #[test]
    fn w_est_keeps_the_lower_alpha_until_cwnd_prior_not_w_max() {
        // RFC 9438 §4.3: α_cubic = 3(1−β)/(1+β) until W_est reaches
        // cwnd_prior, the window when ssthresh was last set. A loss at 100
        // segments, then another at 70 (fast convergence: W_max = 59.5,
        // cwnd_prior = 70, cwnd = 49).
        let mss = 1000;
        let prior = 70 * mss;
        let mut c = Cubic::default();
        c.on_congestion_event(Instant::ZERO, 100 * mss, mss);
        c.on_congestion_event(Instant::ZERO, prior, mss);
        assert_eq!(c.w_max, 59.5);
        let ack = |acked| AckSample {
            now: Instant::ZERO,
            acked,
            rtt: None,
            srtt: Duration::from_millis(10),
            round_end: false,
            cwnd_limited: true,
        };
        // The epoch starts at cwnd = 49; put W_est between W_max and
        // cwnd_prior, where the old rule switched to α = 1 too early.
        c.on_ack(&ack(0), 49 * mss, mss, prior);
        c.w_est = 65.0;
        c.on_ack(&ack(mss), 65 * mss, mss, prior);
        let alpha = 3.0 * (1.0 - BETA) / (1.0 + BETA);
        assert!(
            (c.w_est - (65.0 + alpha / 65.0)).abs() < 1e-9,
            "{}",
            c.w_est
        );
        // From cwnd_prior on, α = 1.
        c.w_est = 70.0;
        c.on_ack(&ack(mss), 70 * mss, mss, prior);
        assert!((c.w_est - (70.0 + 1.0 / 70.0)).abs() < 1e-9, "{}", c.w_est);
    }
}
