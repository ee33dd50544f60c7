//! Congestion control: the window the network allows.
//!
//! [`Congestion`] holds what every algorithm shares — cwnd, ssthresh, slow
//! start with appropriate byte counting (RFC 3465), the initial and restart
//! windows (RFC 6928, RFC 5681 §4.1) and HyStart++ (RFC 9406) — and
//! dispatches the rest to the chosen algorithm over an enum, so the hot path
//! has no virtual calls. An algorithm decides two things: how cwnd grows in
//! congestion avoidance, and how far it falls on a congestion event. BBR,
//! which also paces, would be a third variant.
//!
//! The sender calls in this order: [`Congestion::on_ack`] for each ACK that
//! delivered new data outside recovery; [`Congestion::on_congestion_event`]
//! when fast recovery starts; [`Congestion::on_recovery_end`] when it ends;
//! [`Congestion::on_rto`] when the retransmission timer fires.

mod cubic;
mod hystart;
mod newreno;

pub use cubic::Cubic;
pub use hystart::HyStart;
pub use newreno::NewReno;

use crate::time::{Duration, Instant};

/// The congestion control algorithms a connection can use.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Algorithm {
    /// RFC 5681 slow start and congestion avoidance with RFC 6582 recovery.
    NewReno,
    /// RFC 9438: a cubic window growth function (the Linux default).
    Cubic,
}

impl Algorithm {
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::NewReno => "newreno",
            Algorithm::Cubic => "cubic",
        }
    }
}

impl std::str::FromStr for Algorithm {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "newreno" | "reno" => Ok(Algorithm::NewReno),
            "cubic" => Ok(Algorithm::Cubic),
            _ => Err(format!("unknown congestion control '{s}' (newreno, cubic)")),
        }
    }
}

/// The per-algorithm state, dispatched by `match`.
#[derive(Clone, Debug)]
enum Controller {
    NewReno(NewReno),
    Cubic(Cubic),
}

/// RFC 3465 §2.2: in slow start cwnd grows by at most L·SMSS per ACK.
const ABC_LIMIT: u32 = 2;

/// What an ACK tells the congestion controller.
#[derive(Copy, Clone, Debug)]
pub struct AckSample {
    pub now: Instant,
    /// Bytes newly delivered (cumulatively acknowledged or SACKed).
    pub acked: u32,
    /// An RTT measured from this ACK, if any.
    pub rtt: Option<Duration>,
    /// The smoothed RTT (or the latest measurement if none yet).
    pub srtt: Duration,
    /// This ACK ended a round trip (it acknowledged what was the highest
    /// sequence number sent when the previous round ended).
    pub round_end: bool,
    /// The sender used all of cwnd recently; growing it is meaningful
    /// (RFC 7661: an application-limited sender must not inflate cwnd).
    pub cwnd_limited: bool,
}

/// The congestion state of one connection.
#[derive(Clone, Debug)]
pub struct Congestion {
    ctl: Controller,
    mss: u32,
    cwnd: u32,
    ssthresh: u32,
    initial_window: u32,
    /// Bytes acknowledged towards the next cwnd increase (avoidance).
    ca_acked: u32,
    /// cwnd_prior (RFC 9438 §4.3): the window, in bytes, when ssthresh was
    /// last set (a congestion event, or leaving slow start). Kept here
    /// rather than in `Cubic` because it fills padding: the TCB stays
    /// within 1 KiB.
    prior: u32,
    hystart: Option<HyStart>,
}

impl Congestion {
    /// A controller for `algo` with an initial window of `iw` segments of
    /// `mss` bytes, bounded as RFC 6928 §2 says.
    pub fn new(algo: Algorithm, mss: u32, iw: u32, hystart: bool) -> Self {
        let mss = mss.max(1);
        let initial_window = initial_window(mss, iw);
        Congestion {
            ctl: match algo {
                Algorithm::NewReno => Controller::NewReno(NewReno),
                Algorithm::Cubic => Controller::Cubic(Cubic::default()),
            },
            mss,
            cwnd: initial_window,
            ssthresh: u32::MAX,
            initial_window,
            ca_acked: 0,
            prior: 0,
            hystart: hystart.then(HyStart::default),
        }
    }

    pub fn algorithm(&self) -> Algorithm {
        match self.ctl {
            Controller::NewReno(_) => Algorithm::NewReno,
            Controller::Cubic(_) => Algorithm::Cubic,
        }
    }

    pub fn cwnd(&self) -> u32 {
        self.cwnd
    }

    pub fn ssthresh(&self) -> u32 {
        self.ssthresh
    }

    pub fn mss(&self) -> u32 {
        self.mss
    }

    pub fn in_slow_start(&self) -> bool {
        self.cwnd < self.ssthresh
    }

    /// HyStart++ has moved to conservative slow start.
    pub fn in_css(&self) -> bool {
        self.hystart.as_ref().is_some_and(|h| h.in_css())
    }

    /// The segment size changed (path MTU discovery).
    pub fn set_mss(&mut self, mss: u32) {
        self.mss = mss.max(1);
        self.cwnd = self.cwnd.max(self.mss);
    }

    /// RFC 5681 §3.1: after a lost SYN or SYN-ACK the initial window is one
    /// segment.
    pub fn set_loss_window(&mut self) {
        self.cwnd = self.mss;
    }

    /// New data was delivered outside loss recovery.
    pub fn on_ack(&mut self, s: &AckSample) {
        if self.cwnd < self.ssthresh {
            let mut css_done = false;
            if let Some(h) = self.hystart.as_mut() {
                // RFC 9406 §4.2: CSS_ROUNDS of conservative growth end slow start.
                css_done = s.round_end && h.on_round_end();
                if let Some(rtt) = s.rtt {
                    h.on_rtt(rtt);
                }
            }
            if css_done {
                self.ssthresh = self.cwnd;
                self.exit_slow_start(s.now);
            }
        }
        if !s.cwnd_limited {
            return;
        }
        if self.cwnd < self.ssthresh {
            // RFC 3465 §2.2: appropriate byte counting, at most L·SMSS per ACK.
            let mut inc = s.acked.min(ABC_LIMIT * self.mss);
            if self.in_css() {
                // RFC 9406 §4.2: conservative slow start grows 4× slower.
                inc /= hystart::CSS_GROWTH_DIVISOR;
            }
            self.cwnd = self.cwnd.saturating_add(inc);
            if self.cwnd >= self.ssthresh {
                self.exit_slow_start(s.now);
            }
            return;
        }
        match &mut self.ctl {
            Controller::NewReno(_) => {
                // RFC 5681 §3.1 (eq. 3), counted in bytes: +1 SMSS per cwnd acked.
                self.ca_acked = self.ca_acked.saturating_add(s.acked);
                if self.ca_acked >= self.cwnd {
                    self.ca_acked -= self.cwnd;
                    self.cwnd = self.cwnd.saturating_add(self.mss);
                }
            }
            Controller::Cubic(c) => {
                self.cwnd = c.on_ack(s, self.cwnd, self.mss, self.prior);
            }
        }
    }

    fn exit_slow_start(&mut self, now: Instant) {
        self.prior = self.cwnd;
        if let Controller::Cubic(c) = &mut self.ctl {
            c.on_slow_start_exit(now, self.cwnd, self.mss);
        }
    }

    /// Fast recovery begins (RFC 5681 §3.2 step 2, RFC 9438 §4.6).
    /// `flight` is the data outstanding when the loss was detected.
    pub fn on_congestion_event(&mut self, now: Instant, flight: u32) {
        self.prior = self.cwnd;
        self.ssthresh = match &mut self.ctl {
            // ssthresh = max(FlightSize / 2, 2*SMSS)
            Controller::NewReno(_) => (flight / 2).max(2 * self.mss),
            Controller::Cubic(c) => c.on_congestion_event(now, self.cwnd, self.mss),
        };
        self.cwnd = self.ssthresh;
        self.ca_acked = 0;
        self.end_hystart();
    }

    /// Fast recovery is over: continue in congestion avoidance from ssthresh
    /// (RFC 6582 §3.2 step 3, "deflate the window").
    pub fn on_recovery_end(&mut self) {
        self.cwnd = self.cwnd.min(self.ssthresh.max(self.mss));
    }

    /// RFC 5681 §3.1 (eq. 4): the retransmission timer fired; cwnd falls to
    /// the loss window of one segment.
    pub fn on_rto(&mut self, now: Instant, flight: u32) {
        self.prior = self.cwnd;
        self.ssthresh = match &mut self.ctl {
            Controller::NewReno(_) => (flight / 2).max(2 * self.mss),
            Controller::Cubic(c) => c.on_congestion_event(now, self.cwnd, self.mss),
        };
        self.cwnd = self.mss;
        self.ca_acked = 0;
        self.end_hystart();
    }

    /// RFC 9406 §4.2: HyStart++ is for the initial slow start, while
    /// ssthresh is still arbitrarily high; once a loss has set ssthresh,
    /// later slow starts are standard ones that stop at that ssthresh.
    fn end_hystart(&mut self) {
        self.hystart = None;
    }

    /// RFC 5681 §4.1: after an idle period longer than the RTO, restart
    /// from at most the initial window.
    pub fn on_idle_restart(&mut self) {
        self.cwnd = self.cwnd.min(self.initial_window);
        if let Controller::Cubic(c) = &mut self.ctl {
            c.reset_epoch();
        }
    }
}

/// RFC 6928 §2: min(iw·MSS, max(2·MSS, 14600)), but never below one MSS.
fn initial_window(mss: u32, iw: u32) -> u32 {
    let cap = (2 * mss).max(14600);
    iw.saturating_mul(mss).min(cap).max(mss)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ack(now_ms: u64, acked: u32) -> AckSample {
        AckSample {
            now: Instant::from_millis(now_ms),
            acked,
            rtt: Some(Duration::from_millis(50)),
            srtt: Duration::from_millis(50),
            round_end: false,
            cwnd_limited: true,
        }
    }

    #[test]
    fn initial_window_follows_rfc_6928() {
        assert_eq!(initial_window(1460, 10), 14600);
        assert_eq!(initial_window(536, 10), 5360);
        // A jumbo MSS: 2 segments, not 10.
        assert_eq!(initial_window(8960, 10), 17920);
        assert_eq!(initial_window(1460, 0), 1460);
    }

    #[test]
    fn newreno_slow_start_then_avoidance_then_rto() {
        let mut c = Congestion::new(Algorithm::NewReno, 1000, 10, false);
        assert_eq!(c.cwnd(), 10_000);
        c.on_ack(&ack(0, 1000));
        assert_eq!(c.cwnd(), 11_000);
        c.on_rto(Instant::ZERO, 20_000);
        assert_eq!((c.cwnd(), c.ssthresh()), (1000, 10_000));
        for _ in 0..9 {
            c.on_ack(&ack(0, 1000));
        }
        assert_eq!(c.cwnd(), 10_000);
        for _ in 0..10 {
            c.on_ack(&ack(0, 1000));
        }
        assert_eq!(c.cwnd(), 11_000);
    }

    #[test]
    fn slow_start_counts_bytes_up_to_two_segments_per_ack() {
        // RFC 3465: a delayed ACK covering two segments grows cwnd by two;
        // a stretch ACK covering ten grows it by two as well.
        let mut c = Congestion::new(Algorithm::NewReno, 1000, 10, false);
        c.on_ack(&ack(0, 2000));
        assert_eq!(c.cwnd(), 12_000);
        c.on_ack(&ack(0, 10_000));
        assert_eq!(c.cwnd(), 14_000);
    }

    #[test]
    fn an_application_limited_sender_does_not_grow_cwnd() {
        let mut c = Congestion::new(Algorithm::Cubic, 1000, 10, false);
        let mut s = ack(0, 1000);
        s.cwnd_limited = false;
        c.on_ack(&s);
        assert_eq!(c.cwnd(), 10_000);
    }

    #[test]
    fn newreno_halves_flight_on_a_congestion_event() {
        let mut c = Congestion::new(Algorithm::NewReno, 1000, 10, false);
        c.on_congestion_event(Instant::ZERO, 30_000);
        assert_eq!((c.cwnd(), c.ssthresh()), (15_000, 15_000));
        c.on_congestion_event(Instant::ZERO, 1000);
        assert_eq!(c.ssthresh(), 2000);
    }

    #[test]
    fn cubic_reduces_by_beta_and_regrows_towards_w_max() {
        // 1000 segments before the loss, 50 ms RTT: the cubic region
        // (at 100 segments NewReno's growth would win: §4.3's Reno-friendly
        // region, checked below).
        let mut c = Congestion::new(Algorithm::Cubic, 1000, 10, false);
        c.cwnd = 1_000_000;
        c.on_congestion_event(Instant::ZERO, 1_000_000);
        assert_eq!((c.cwnd(), c.ssthresh()), (700_000, 700_000));
        // K = cbrt(300 / 0.4) ≈ 9.09 s.
        let mut cwnd_at = Vec::new();
        let mut t = 0;
        while t <= 14_000 {
            for _ in 0..(c.cwnd() / 1000) {
                c.on_ack(&ack(t, 1000));
            }
            cwnd_at.push(c.cwnd());
            t += 50;
        }
        let at = |ms: usize| cwnd_at[ms / 50];
        assert!(at(9100).abs_diff(1_000_000) < 10_000, "{}", at(9100));
        // Concave, then flat around W_max, then convex beyond it.
        assert!(at(1000) - at(0) > at(9600) - at(8600));
        // W(14 s) = 1000 + 0.4·(14.05 − 9.09)³ ≈ 1049 segments.
        assert!(at(14_000).abs_diff(1_049_000) < 5_000, "{}", at(14_000));
    }

    #[test]
    fn cubic_is_reno_friendly_on_short_paths() {
        // 100 segments, 5 ms RTT: NewReno would gain one segment per RTT
        // (after α = 0.53 up to W_max), 200 RTTs a second; the cubic curve
        // is still below W_max at 1 s. cwnd follows W_est (§4.3).
        let mut c = Congestion::new(Algorithm::Cubic, 1000, 10, false);
        c.cwnd = 100_000;
        c.on_congestion_event(Instant::ZERO, 100_000);
        let mut t = 0;
        while t < 1000 {
            for _ in 0..(c.cwnd() / 1000) {
                c.on_ack(&AckSample {
                    srtt: Duration::from_millis(5),
                    ..ack(t, 1000)
                });
            }
            t += 5;
        }
        assert!(c.cwnd() > 200_000, "{}", c.cwnd());
    }
}
