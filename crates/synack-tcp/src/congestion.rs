//! Congestion control: the window the network allows (RFC 5681).
//!
//! This is the plug-in point for congestion algorithms; it dispatches over an
//! enum so the hot path has no virtual calls. For now it holds slow start,
//! congestion avoidance and the RTO response of RFC 5681 §3.1; fast
//! retransmit/recovery, NewReno and CUBIC arrive with the loss-recovery work.

/// The congestion state of one connection.
#[derive(Clone, Debug)]
pub struct Congestion {
    algo: Algorithm,
    mss: u32,
    cwnd: u32,
    ssthresh: u32,
    /// Bytes acknowledged towards the next +1 MSS in congestion avoidance.
    acked_accum: u32,
}

/// Which algorithm drives the window.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Algorithm {
    /// RFC 5681 slow start and congestion avoidance.
    Reno,
}

impl Congestion {
    pub fn new(algo: Algorithm, mss: u32, initial_window: u32) -> Self {
        Congestion {
            algo,
            mss,
            cwnd: initial_window.max(1).saturating_mul(mss),
            ssthresh: u32::MAX,
            acked_accum: 0,
        }
    }

    pub fn cwnd(&self) -> u32 {
        self.cwnd
    }

    pub fn ssthresh(&self) -> u32 {
        self.ssthresh
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algo
    }

    /// New data was acknowledged.
    pub fn on_ack(&mut self, acked: u32) {
        match self.algo {
            Algorithm::Reno => {
                if self.cwnd < self.ssthresh {
                    // RFC 5681 §3.1 (eq. 2): grow by at most one MSS per ACK.
                    self.cwnd = self.cwnd.saturating_add(acked.min(self.mss));
                } else {
                    // RFC 5681 §3.1 (eq. 3), counted in bytes acked.
                    self.acked_accum = self.acked_accum.saturating_add(acked);
                    if self.acked_accum >= self.cwnd {
                        self.acked_accum -= self.cwnd;
                        self.cwnd = self.cwnd.saturating_add(self.mss);
                    }
                }
            }
        }
    }

    /// The retransmission timer fired.
    pub fn on_rto(&mut self, flight_size: u32) {
        // RFC 5681 §3.1 (eq. 4) and the loss window of one segment.
        self.ssthresh = (flight_size / 2).max(2 * self.mss);
        self.cwnd = self.mss;
        self.acked_accum = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_start_then_avoidance_then_rto() {
        let mut c = Congestion::new(Algorithm::Reno, 1000, 10);
        assert_eq!(c.cwnd(), 10_000);
        c.on_ack(1000);
        assert_eq!(c.cwnd(), 11_000);
        c.on_rto(20_000);
        assert_eq!((c.cwnd(), c.ssthresh()), (1000, 10_000));
        for _ in 0..9 {
            c.on_ack(1000);
        }
        assert_eq!(c.cwnd(), 10_000);
        for _ in 0..10 {
            c.on_ack(1000);
        }
        assert_eq!(c.cwnd(), 11_000);
    }
}
