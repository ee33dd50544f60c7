//! Loss recovery: deciding that data was lost, and how fast to resend it.
//!
//! A connection is in one of three phases (Linux calls them CA states):
//!
//! * **Open** — nothing known lost. Losses are detected three ways: three
//!   duplicate ACKs (RFC 5681 §3.2, for peers without SACK), more than
//!   DupThresh−1 segments SACKed above the first hole (RFC 6675 §5), or
//!   RACK's timing rule (RFC 8985 §6). Any of them starts fast recovery.
//! * **Recovery** — fast recovery (RFC 6675 with RFC 6582's recovery point).
//!   cwnd is cut once (by the congestion controller) and Proportional Rate
//!   Reduction (RFC 6937) paces the sending during the episode, so the
//!   flight shrinks smoothly to ssthresh instead of stopping and bursting.
//!   Lost segments are resent before any new data. Without SACK, a partial
//!   ACK marks the next hole lost (NewReno, RFC 6582 §3.2 step 4).
//! * **Loss** — after a retransmission timeout: everything not SACKed is
//!   lost, cwnd is one segment, and slow start resends it in order (never
//!   what the receiver already SACKed).
//!
//! Both recoveries end when SND.UNA passes the recovery point, SND.NXT at
//! the start of the episode.

pub mod rack;

use crate::seq::SeqNum;
pub use rack::{Rack, Tlp};

/// RFC 5681 §3.2 / RFC 6675: DupThresh.
pub const DUP_THRESH: u32 = 3;

/// The loss-recovery phase of a connection.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Phase {
    Open,
    Recovery,
    Loss,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Open => "open",
            Phase::Recovery => "recovery",
            Phase::Loss => "loss",
        }
    }
}

/// Why recovery started or ended; reported as events for traces.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum RecoveryEvent {
    /// The third duplicate ACK (RFC 5681 §3.2): fast retransmit.
    FastRetransmit { dupacks: u32 },
    /// More than DupThresh−1 segments SACKed above the first hole (RFC 6675).
    SackLoss,
    /// RACK declared segments lost by time (RFC 8985 §6).
    RackLoss,
    /// A tail loss probe went out (RFC 8985 §7.3).
    TailLossProbe,
    /// The probe repaired a real loss; cwnd is reduced as for fast
    /// recovery (RFC 8985 §7.4.2).
    TlpRecovered,
    /// The retransmission timer fired (RFC 6298 §5.5); the RTO is now
    /// backed off this many times.
    Timeout { backoff: u32 },
    /// SND.UNA passed the recovery point: the episode is over.
    Done,
}

impl RecoveryEvent {
    pub fn describe(self) -> String {
        match self {
            RecoveryEvent::FastRetransmit { dupacks } => {
                format!("{dupacks} duplicate ACKs: fast retransmit, fast recovery")
            }
            RecoveryEvent::SackLoss => "SACKs show a hole: fast recovery".to_string(),
            RecoveryEvent::RackLoss => "RACK: lost by time, fast recovery".to_string(),
            RecoveryEvent::TailLossProbe => "tail loss probe".to_string(),
            RecoveryEvent::TlpRecovered => "the probe repaired a loss: cwnd reduced".to_string(),
            RecoveryEvent::Timeout { backoff } => {
                format!(
                    "retransmission timeout (RTO backed off ×{})",
                    1u64 << backoff.min(63)
                )
            }
            RecoveryEvent::Done => "recovery done".to_string(),
        }
    }
}

/// RFC 6937 Proportional Rate Reduction.
#[derive(Copy, Clone, Debug, Default)]
pub struct Prr {
    /// prr_delivered: data delivered since recovery began.
    pub delivered: u32,
    /// prr_out: data sent since recovery began.
    pub out: u32,
    /// RecoverFS: the pipe when recovery began.
    pub recover_fs: u32,
}

impl Prr {
    pub fn start(pipe: u32) -> Prr {
        Prr {
            delivered: 0,
            out: 0,
            recover_fs: pipe.max(1),
        }
    }

    /// RFC 6937 §3.1, on each ACK in recovery: how much may be sent now
    /// (`sndcnt`), given the data this ACK delivered, the pipe after it,
    /// ssthresh and the MSS. Uses the slow-start reduction bound (PRR-SSRB).
    pub fn sndcnt(&mut self, delivered: u32, pipe: u32, ssthresh: u32, mss: u32) -> u32 {
        self.delivered = self.delivered.saturating_add(delivered);
        if pipe > ssthresh {
            // Proportional part: send ssthresh/RecoverFS of what was delivered.
            let target = (u64::from(self.delivered) * u64::from(ssthresh))
                .div_ceil(u64::from(self.recover_fs));
            (target as u32).saturating_sub(self.out)
        } else {
            // Slow-start reduction bound: grow back towards ssthresh, at most
            // one MSS faster than the data being delivered.
            let limit = self
                .delivered
                .saturating_sub(self.out)
                .max(delivered)
                .saturating_add(mss);
            (ssthresh - pipe).min(limit)
        }
    }
}

/// The loss-recovery state of a sender.
#[derive(Clone, Debug)]
pub struct Recovery {
    pub phase: Phase,
    /// RFC 6582 `recover`: SND.NXT when the episode began.
    pub point: SeqNum,
    /// Duplicate ACKs in a row (RFC 5681 §2).
    pub dupacks: u32,
    /// Without SACK: bytes that duplicate ACKs say have left the network
    /// (each one is a segment the receiver holds, as in Linux's Reno
    /// emulation of SACK), so `pipe` stays right in NewReno recovery.
    pub reno_sacked: u32,
    pub prr: Prr,
    /// The sending allowance PRR granted for the current ACK.
    pub prr_allow: u32,
    pub rack: Rack,
    pub tlp: Tlp,
}

impl Recovery {
    pub fn new(iss: SeqNum) -> Recovery {
        Recovery {
            phase: Phase::Open,
            point: iss,
            dupacks: 0,
            reno_sacked: 0,
            prr: Prr::default(),
            prr_allow: 0,
            rack: Rack::new(iss),
            tlp: Tlp::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prr_sends_in_proportion_then_bounds_the_regrowth() {
        // RFC 6937 Appendix A's shape: 20 segments in flight, one lost,
        // ssthresh 10 segments: about one segment sent per two delivered.
        let mss = 1000;
        let mut prr = Prr::start(20 * mss);
        let mut sent = 0;
        let mut pipe = 19 * mss;
        for _ in 0..10 {
            pipe -= mss; // one delivered
            let n = prr.sndcnt(mss, pipe, 10 * mss, mss);
            let segs = n / mss;
            prr.out += segs * mss;
            pipe += segs * mss;
            sent += segs;
        }
        assert_eq!(sent, 5);
        // Pipe below ssthresh: back up, at most one MSS beyond delivered.
        let n = prr.sndcnt(mss, 5 * mss, 10 * mss, mss);
        assert!(n <= 5 * mss && n >= mss);
    }
}
