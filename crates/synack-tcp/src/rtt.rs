//! The retransmission timeout estimator of RFC 6298.

use crate::time::Duration;

/// SRTT / RTTVAR / RTO as RFC 6298 §2 computes them, with exponential backoff.
///
/// Kept in microseconds as `u32` (up to 71 minutes, far beyond any RTO),
/// so the estimator takes 32 bytes of the connection, not 120.
#[derive(Clone, Debug)]
pub struct RttEstimator {
    /// SRTT, or `NONE` before the first measurement.
    srtt: u32,
    rttvar: u32,
    /// The RTO before backoff.
    rto: u32,
    min_rto: u32,
    max_rto: u32,
    /// The smallest RTT measured (RFC 8985's RACK.min_RTT), or `NONE`.
    min_rtt: u32,
    /// The most recent measurement, or `NONE`.
    latest: u32,
    backoff: u8,
}

const NONE: u32 = u32::MAX;

/// RFC 6298 §2: clock granularity G, 1 ms; we count in microseconds.
const GRANULARITY: u32 = 1000;

fn us(d: Duration) -> u32 {
    u32::try_from(d.as_micros())
        .unwrap_or(NONE - 1)
        .min(NONE - 1)
}

fn dur(us: u32) -> Duration {
    Duration::from_micros(u64::from(us))
}

fn opt(us: u32) -> Option<Duration> {
    (us != NONE).then(|| dur(us))
}

impl RttEstimator {
    pub fn new(initial_rto: Duration, min_rto: Duration, max_rto: Duration) -> Self {
        // At least 1 µs: a zero RTO would arm timers at `now`, and one
        // `handle_timeout` would fire them again and again.
        let (min_rto, max_rto) = (us(min_rto).max(1), us(max_rto).max(1));
        RttEstimator {
            srtt: NONE,
            rttvar: 0,
            rto: us(initial_rto).clamp(min_rto, max_rto.max(min_rto)),
            min_rto,
            max_rto,
            min_rtt: NONE,
            latest: NONE,
            backoff: 0,
        }
    }

    /// Feeds one RTT measurement (never from a retransmitted segment: Karn's
    /// rule is the caller's job) and resets the backoff.
    pub fn sample(&mut self, r: Duration) {
        let r = us(r);
        self.latest = r;
        self.min_rtt = self.min_rtt.min(r);
        if self.srtt == NONE {
            // RFC 6298 §2.2: the first measurement.
            self.srtt = r;
            self.rttvar = r / 2;
        } else {
            // RFC 6298 §2.3: alpha = 1/8, beta = 1/4 (in u64: no overflow).
            let (srtt, var) = (u64::from(self.srtt), u64::from(self.rttvar));
            let diff = srtt.abs_diff(u64::from(r));
            self.rttvar = ((var * 3 + diff) / 4) as u32;
            self.srtt = ((srtt * 7 + u64::from(r)) / 8) as u32;
        }
        let rto =
            u64::from(self.srtt) + u64::from((self.rttvar.saturating_mul(4)).max(GRANULARITY));
        // RFC 6298 §2.4-2.5: a lower bound (configurable) and an upper bound.
        self.rto = rto.clamp(
            u64::from(self.min_rto),
            u64::from(self.max_rto.max(self.min_rto)),
        ) as u32;
        self.backoff = 0;
    }

    /// RFC 6298 §5.5: double the RTO after a retransmission timeout.
    pub fn back_off(&mut self) {
        self.backoff = self.backoff.saturating_add(1);
    }

    /// A new round of progress: the backoff ends (RFC 6298 §5.7 and the
    /// note after §5.7: the RTO is recomputed, not kept doubled).
    pub fn reset_backoff(&mut self) {
        self.backoff = 0;
    }

    /// RFC 6298 §5.7: when the SYN (or SYN-ACK) timed out and no RTT has
    /// been measured, data transfer starts with an RTO of at least 3 s.
    pub fn handshake_timed_out(&mut self) {
        if self.srtt == NONE {
            self.rto = self.rto.max(3_000_000).min(self.max_rto.max(self.min_rto));
        }
    }

    /// The timeout to arm now, including backoff.
    pub fn rto(&self) -> Duration {
        let shift = u32::from(self.backoff.min(16));
        let rto = u64::from(self.rto) << shift;
        dur(rto.min(u64::from(self.max_rto.max(self.min_rto))) as u32)
    }

    pub fn srtt(&self) -> Option<Duration> {
        opt(self.srtt)
    }

    /// SRTT in microseconds, as it is kept.
    pub fn srtt_micros(&self) -> Option<u64> {
        (self.srtt != NONE).then_some(u64::from(self.srtt))
    }

    pub fn rttvar(&self) -> Duration {
        dur(self.rttvar)
    }

    pub fn backoffs(&self) -> u32 {
        u32::from(self.backoff)
    }

    pub fn min_rtt(&self) -> Option<Duration> {
        opt(self.min_rtt)
    }

    pub fn latest(&self) -> Option<Duration> {
        opt(self.latest)
    }

    /// The largest RTO allowed.
    pub fn max_rto(&self) -> Duration {
        dur(self.max_rto.max(self.min_rto))
    }

    /// SRTT if measured, else the RTO before backoff (a conservative guess).
    pub fn srtt_or_rto(&self) -> Duration {
        opt(self.srtt).unwrap_or(dur(self.rto))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn first_sample_then_smoothing() {
        let mut e = RttEstimator::new(ms(1000), ms(200), ms(60_000));
        assert_eq!(e.rto(), ms(1000));
        e.sample(ms(100));
        assert_eq!(e.srtt(), Some(ms(100)));
        assert_eq!(e.rttvar(), ms(50));
        assert_eq!(e.rto(), ms(300));
        e.sample(ms(100));
        // rttvar = 3/4*50 + 1/4*0 = 37.5 ms; rto = 100 + 150 = 250 ms.
        assert_eq!(e.rttvar(), Duration::from_micros(37_500));
        assert_eq!(e.rto(), ms(250));
    }

    #[test]
    fn min_rto_and_backoff() {
        let mut e = RttEstimator::new(ms(1000), ms(200), ms(60_000));
        e.sample(ms(1));
        assert_eq!(e.rto(), ms(200));
        e.back_off();
        e.back_off();
        assert_eq!(e.rto(), ms(800));
        for _ in 0..40 {
            e.back_off();
        }
        assert_eq!(e.rto(), ms(60_000));
        e.sample(ms(1));
        assert_eq!(e.rto(), ms(200));
        assert_eq!(e.min_rtt(), Some(ms(1)));
    }

    #[test]
    fn a_timed_out_handshake_starts_data_with_three_seconds() {
        let mut e = RttEstimator::new(ms(1000), ms(200), ms(60_000));
        e.back_off();
        e.handshake_timed_out();
        e.reset_backoff();
        assert_eq!(e.rto(), ms(3000));
        // With a measurement (e.g. from timestamps) the measurement rules.
        let mut e = RttEstimator::new(ms(1000), ms(200), ms(60_000));
        e.sample(ms(100));
        e.handshake_timed_out();
        assert_eq!(e.rto(), ms(300));
    }
}

#[cfg(test)]
mod mutant_tests {
    use super::*;

    /// The ceiling the persist timer is bounded by. Here, in the library's
    /// own tests (which run first), so that a broken ceiling fails fast
    /// instead of spinning the zero-window tests.
    #[test]
    fn max_rto_is_the_configured_ceiling_or_min_rto_if_that_is_larger() {
        let ms = Duration::from_millis;
        assert_eq!(
            RttEstimator::new(ms(1000), ms(200), ms(60_000)).max_rto(),
            ms(60_000)
        );
        assert_eq!(
            RttEstimator::new(ms(1000), ms(2000), ms(1000)).max_rto(),
            ms(2000)
        );
    }
}
