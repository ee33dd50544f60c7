//! Opening a connection (RFC 9293 §3.5): segments arriving in LISTEN and
//! SYN-SENT, the SYN and SYN-ACK we send, and the options they negotiate
//! (MSS, RFC 9293 §3.7.1; window scale, RFC 7323 §2).

use crate::congestion::{Algorithm, Congestion};
use crate::conn::{Connection, PendingRst};
use crate::error::CloseReason;
use crate::seq::SeqNum;
use crate::state::{Cause, State};
use crate::time::Instant;
use crate::timer::TimerKind;
use std::net::{IpAddr, SocketAddr};
use synack_wire::{TcpFlags, TcpOptions, TcpRepr};

/// RFC 9293 §3.7.1: the MSS to assume when the peer sends no MSS option.
pub const DEFAULT_MSS: u16 = 536;

impl Connection {
    /// RFC 9293 §3.10.7.2: a segment arrives for a connection in LISTEN.
    pub(crate) fn on_listen(&mut self, now: Instant, src: IpAddr, dst: IpAddr, seg: &TcpRepr<'_>) {
        let peer = SocketAddr::new(src, seg.src_port);
        // First: an incoming RST is ignored.
        if seg.flags.rst() {
            return;
        }
        // Second: any ACK is bad in LISTEN; answer <SEQ=SEG.ACK><CTL=RST>.
        if seg.flags.ack() {
            self.pending_rst = Some(PendingRst {
                remote: peer,
                seq: SeqNum(seg.ack),
                ack: None,
            });
            return;
        }
        // Third: a SYN starts a connection.
        if !seg.flags.syn() {
            return;
        }
        self.remote = peer;
        if self.local.ip().is_unspecified() {
            self.local = SocketAddr::new(dst, self.local.port());
        }
        self.irs = SeqNum(seg.seq);
        self.rcv_nxt = self.irs + 1;
        self.negotiate_options(&seg.options);
        let iss = self.secret.isn(now, self.local, self.remote);
        self.set_iss(iss);
        // The window in a SYN is not scaled (RFC 7323 §2.2).
        self.snd_wnd = u32::from(seg.window);
        self.max_snd_wnd = self.snd_wnd;
        self.snd_wl1 = self.irs;
        self.snd_wl2 = self.iss;
        self.retries = 0;
        // Data carried on the SYN is not accepted before the handshake
        // completes; the peer retransmits it (RFC 9293 §3.10.7.2 allows
        // either queuing or dropping it).
        self.set_state(now, State::SynReceived, Cause::RecvSyn);
    }

    /// RFC 9293 §3.10.7.3: a segment arrives in SYN-SENT.
    pub(crate) fn on_syn_sent(&mut self, now: Instant, seg: &TcpRepr<'_>) {
        let ack = SeqNum(seg.ack);
        // First: check the ACK. One that does not cover exactly our SYN is
        // answered with <SEQ=SEG.ACK><CTL=RST> (unless it is itself a RST).
        let mut ack_ok = false;
        if seg.flags.ack() {
            if ack.before_eq(self.iss) || ack.after(self.snd_max) {
                if !seg.flags.rst() {
                    self.pending_rst = Some(PendingRst {
                        remote: self.remote,
                        seq: ack,
                        ack: None,
                    });
                }
                return;
            }
            ack_ok = ack.in_range_excl_incl(self.snd_una, self.snd_max);
        }
        // Second: a RST is acceptable only with an acceptable ACK; then the
        // port is closed: "connection refused".
        if seg.flags.rst() {
            if ack_ok {
                self.terminate(now, CloseReason::Refused, Cause::RecvRst);
            }
            return;
        }
        // Fourth: the SYN.
        if !seg.flags.syn() {
            return;
        }
        self.irs = SeqNum(seg.seq);
        self.rcv_nxt = self.irs + 1;
        self.negotiate_options(&seg.options);
        self.snd_wnd = u32::from(seg.window);
        self.max_snd_wnd = self.snd_wnd;
        self.snd_wl1 = self.irs;
        self.snd_wl2 = ack;
        if ack_ok {
            // Our SYN is acknowledged: ESTABLISHED, and ACK their SYN.
            self.ack_of_syn(now, ack);
            self.set_state(now, State::Established, Cause::RecvSynAck);
            self.ack_pending = true;
            // Data or FIN on the SYN-ACK: continue at the sixth step with the
            // SYN stripped off.
            if !seg.payload.is_empty() || seg.flags.fin() {
                let mut rest = *seg;
                rest.seq = seg.seq.wrapping_add(1);
                rest.flags.remove(TcpFlags::SYN);
                self.process_text(now, &rest, false);
            }
        } else {
            // Simultaneous open: answer with SYN,ACK <SEQ=ISS><ACK=RCV.NXT>.
            self.snd_nxt = self.iss;
            self.timers.clear(TimerKind::Retransmit);
            self.set_state(now, State::SynReceived, Cause::RecvSyn);
        }
    }

    /// Our SYN was acknowledged by `ack`: take its RTT sample (Karn's rule:
    /// only if the SYN was not retransmitted) and size the congestion window.
    pub(crate) fn ack_of_syn(&mut self, now: Instant, ack: SeqNum) {
        self.snd_una = ack;
        if self.snd_nxt.before(ack) {
            self.snd_nxt = ack;
        }
        if let Some((end, sent)) = self.rtt_probe.take() {
            if ack.after_eq(end) {
                self.rtt.sample(now.saturating_since(sent));
            }
        }
        self.retries = 0;
        self.timers.clear(TimerKind::Retransmit);
        self.cc = Congestion::new(
            Algorithm::Reno,
            u32::from(self.snd_mss),
            self.config.initial_window,
        );
    }

    /// Records what the peer's SYN announced.
    fn negotiate_options(&mut self, opts: &TcpOptions) {
        let peer_mss = opts.mss.unwrap_or(DEFAULT_MSS).max(64);
        self.snd_mss = peer_mss.min(self.config.mss);
        // RFC 7323 §2.2: scaling is on only if both SYNs carry the option;
        // shifts above 14 are treated as 14 (§2.3).
        match (opts.window_scale, self.config.window_scaling) {
            (Some(shift), true) => {
                self.wscale_ok = true;
                self.snd_wscale = shift.min(14);
                self.rcv_wscale = self.config.rcv_wscale();
            }
            _ => {
                self.wscale_ok = false;
                self.snd_wscale = 0;
                self.rcv_wscale = 0;
            }
        }
    }

    /// Sends (or re-sends) our SYN in SYN-SENT, or SYN,ACK in SYN-RECEIVED.
    pub(crate) fn transmit_syn(&mut self, now: Instant) -> Option<TcpRepr<'static>> {
        if self.snd_nxt != self.iss && !(self.ack_pending && self.state == State::SynReceived) {
            return None;
        }
        let mut flags = TcpFlags::SYN;
        if self.state == State::SynReceived {
            flags |= TcpFlags::ACK;
        }
        let mut repr = self.header(self.iss, flags);
        repr.options.mss = Some(self.config.mss);
        // Offer window scaling in a SYN; in a SYN,ACK only if the peer did.
        let offer_ws = match self.state {
            State::SynSent => self.config.window_scaling,
            _ => self.wscale_ok,
        };
        if offer_ws {
            repr.options.window_scale = Some(self.config.rcv_wscale());
        }
        if self.snd_max != self.iss {
            self.stats.retransmits += 1;
        } else {
            self.rtt_probe = Some((self.iss + 1, now));
        }
        self.snd_nxt = self.iss + 1;
        self.snd_max = self.snd_nxt;
        if !self.timers.is_armed(TimerKind::Retransmit) {
            self.timers.set(TimerKind::Retransmit, now + self.rtt.rto());
        }
        Some(repr)
    }
}
