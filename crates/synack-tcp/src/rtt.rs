//! The retransmission timeout estimator of RFC 6298.

use crate::time::Duration;

/// SRTT / RTTVAR / RTO as RFC 6298 §2 computes them, with exponential backoff.
#[derive(Clone, Debug)]
pub struct RttEstimator {
    srtt: Option<Duration>,
    rttvar: Duration,
    rto: Duration,
    min_rto: Duration,
    max_rto: Duration,
    backoff: u32,
    /// The smallest RTT measured (RFC 8985's RACK.min_RTT).
    min_rtt: Option<Duration>,
    /// The most recent measurement.
    latest: Option<Duration>,
}

/// RFC 6298 §2: clock granularity G; we count in microseconds.
const GRANULARITY: Duration = Duration::from_millis(1);

impl RttEstimator {
    pub fn new(initial_rto: Duration, min_rto: Duration, max_rto: Duration) -> Self {
        RttEstimator {
            srtt: None,
            rttvar: Duration::ZERO,
            rto: initial_rto.clamp(min_rto, max_rto),
            min_rto,
            max_rto,
            backoff: 0,
            min_rtt: None,
            latest: None,
        }
    }

    /// Feeds one RTT measurement (never from a retransmitted segment: Karn's
    /// rule is the caller's job) and resets the backoff.
    pub fn sample(&mut self, r: Duration) {
        self.latest = Some(r);
        self.min_rtt = Some(self.min_rtt.map_or(r, |m| m.min(r)));
        match self.srtt {
            // RFC 6298 §2.2: the first measurement.
            None => {
                self.srtt = Some(r);
                self.rttvar = r / 2;
            }
            // RFC 6298 §2.3: alpha = 1/8, beta = 1/4.
            Some(srtt) => {
                let diff = srtt.abs_diff(r);
                self.rttvar = (self.rttvar * 3 + diff) / 4;
                self.srtt = Some((srtt * 7 + r) / 8);
            }
        }
        let srtt = self.srtt.unwrap_or(r);
        let rto = srtt + (self.rttvar * 4).max(GRANULARITY);
        // RFC 6298 §2.4-2.5: a lower bound (configurable) and an upper bound.
        self.rto = rto.clamp(self.min_rto, self.max_rto);
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
        if self.srtt.is_none() {
            self.rto = self.rto.max(Duration::from_secs(3)).min(self.max_rto);
        }
    }

    /// The timeout to arm now, including backoff.
    pub fn rto(&self) -> Duration {
        let shift = self.backoff.min(16);
        self.rto.saturating_mul(1 << shift).min(self.max_rto)
    }

    pub fn srtt(&self) -> Option<Duration> {
        self.srtt
    }

    pub fn rttvar(&self) -> Duration {
        self.rttvar
    }

    pub fn backoffs(&self) -> u32 {
        self.backoff
    }

    pub fn min_rtt(&self) -> Option<Duration> {
        self.min_rtt
    }

    pub fn latest(&self) -> Option<Duration> {
        self.latest
    }

    /// SRTT if measured, else the RTO before backoff (a conservative guess).
    pub fn srtt_or_rto(&self) -> Duration {
        self.srtt.unwrap_or(self.rto)
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
