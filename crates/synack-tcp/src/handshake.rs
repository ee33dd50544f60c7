//! Opening a connection (RFC 9293 §3.5): segments arriving in LISTEN and
//! SYN-SENT, the SYN and SYN-ACK we send (and send again), and the options
//! they negotiate: MSS (RFC 9293 §3.7.1), window scale (RFC 7323 §2), SACK
//! (RFC 2018 §2) and timestamps (RFC 7323 §3).
//!
//! An option is in use only if both SYNs carry it. The SYN-ACK offers only
//! what the peer's SYN offered.

use crate::config::Config;
use crate::conn::{Connection, PendingRst, SegmentKind, Transmit};
use crate::error::CloseReason;
use crate::isn::IsnSecret;
use crate::receiver::Receiver;
use crate::sender::{default_mss, Sender};
use crate::seq::SeqNum;
use crate::state::{Cause, State};
use crate::time::Instant;
use crate::timer::TimerKind;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use synack_wire::{TcpFlags, TcpHeader, TcpOptions, TcpRepr};

/// RFC 7323 §3.2: bytes the timestamp option takes in every segment
/// (with its two NOPs).
pub(crate) const TS_OPTION_LEN: u16 = 12;

/// What a stack's listener learned in a handshake it carried out itself
/// (from its SYN queue, or decoded from a SYN cookie): enough to build the
/// connection when the final ACK arrives.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Handshake {
    /// Our initial sequence number (the SYN-ACK's).
    pub iss: SeqNum,
    /// The peer's initial sequence number.
    pub irs: SeqNum,
    /// What the peer's SYN offered (MSS, window scale, SACK-permitted,
    /// timestamps); for a cookie, what the cookie kept of it.
    pub peer: TcpOptions,
    /// SEG.WND of the peer's SYN (never scaled); 0 if unknown (a cookie).
    pub peer_window: u16,
    /// How often the SYN-ACK went out.
    pub synack_xmits: u8,
    /// When the SYN-ACK first went out, if known (not for a cookie): the
    /// handshake's RTT sample, when it was sent once.
    pub synack_sent_at: Option<Instant>,
}

/// Our timestamp clock for the connection `local`–`remote` at `now`
/// (RFC 7323 §5.4: milliseconds from a per-connection offset).
pub fn timestamp_clock(
    secret: &IsnSecret,
    local: SocketAddr,
    remote: SocketAddr,
    now: Instant,
) -> u32 {
    (now.as_millis() as u32).wrapping_add(secret.ts_offset(local, remote))
}

/// The options of a SYN-ACK answering a SYN that offered `peer`, under
/// `config`: only what both sides support. `tsval` is our timestamp clock.
pub fn syn_ack_options(config: &Config, peer: &TcpOptions, tsval: u32) -> TcpOptions {
    let mut o = TcpOptions::with_layout(config.option_layout);
    o.mss = config.mss_option.then_some(config.mss);
    if peer.window_scale.is_some() && config.window_scaling {
        o.window_scale = Some(config.rcv_wscale());
    }
    o.sack_permitted = peer.sack_permitted && config.sack;
    if let (Some((peer_tsval, _)), true) = (peer.timestamps, config.timestamps) {
        o.timestamps = Some((tsval, peer_tsval));
    }
    o
}

/// The largest segment the peer may send us: the MSS our SYN announces, or
/// without the option the default it must assume (RFC 9293 §3.7.1).
fn announced_mss(config: &Config, remote: IpAddr) -> u16 {
    if config.mss_option {
        config.mss
    } else {
        default_mss(remote).min(config.mss)
    }
}

impl Connection {
    /// A connection in SYN-RECEIVED built from a handshake a stack's
    /// listener carried out (RFC 9293 §3.10.7.2 done outside the engine,
    /// so that half-open connections cost a small record, not a TCB). Feed
    /// it the final ACK with `handle_segment`; it then goes to ESTABLISHED
    /// as any passive open does. No event marks its creation: the listener
    /// reported LISTEN → SYN-RECEIVED when the SYN came.
    pub fn from_handshake(
        config: impl Into<Arc<Config>>,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        secret: IsnSecret,
        hs: &Handshake,
    ) -> Connection {
        let mut c = Connection::blank(config.into(), local, remote, secret, hs.iss);
        c.passive = true;
        c.state = State::SynReceived;
        c.opts.ts_offset = secret.ts_offset(local, remote);
        c.rcv.start(hs.irs);
        c.negotiate(now, &hs.peer);
        // The right edge the SYN-ACK advertised (what `syn_window` gave).
        c.rcv.syn_window_field();
        c.snd.wnd = u32::from(hs.peer_window);
        c.snd.max_wnd = c.snd.wnd;
        c.snd.wl1 = hs.irs;
        c.snd.wl2 = hs.iss;
        c.snd.nxt = hs.iss + 1;
        match hs.synack_sent_at {
            Some(at) => {
                c.syn_xmits = hs.synack_xmits.max(1);
                c.syn_sent_at = at;
            }
            // No RTT sample from the handshake (syn_xmits 0 means unknown).
            None => c.syn_xmits = 0,
        }
        // A SYN-ACK sent more than once was lost (RFC 5681 §3.1, RFC 6298 §5.7).
        c.snd.retries = u32::from(hs.synack_xmits.saturating_sub(1));
        c
    }

    /// RFC 9293 §3.10.7.2: a segment arrives for a connection in LISTEN.
    pub(crate) fn on_listen(&mut self, now: Instant, src: IpAddr, dst: IpAddr, seg: &TcpRepr<'_>) {
        let peer = SocketAddr::new(src, seg.src_port);
        // First: an incoming RST is ignored.
        if seg.flags.rst() {
            return;
        }
        // Second: any ACK is bad in LISTEN; answer <SEQ=SEG.ACK><CTL=RST>
        // (to the segment's sender: the listener holds it until then).
        if seg.flags.ack() {
            self.remote = peer;
            self.pending_rst = Some(PendingRst {
                seq: SeqNum(seg.ack),
                ack: None,
            });
            return;
        }
        // Third: a SYN starts a connection. A SYN with FIN is nonsense (no
        // stack sends it; scanners do) and is dropped, as Linux does.
        if !seg.flags.syn() || seg.flags.fin() {
            return;
        }
        self.remote = peer;
        if self.local.ip().is_unspecified() {
            self.local = SocketAddr::new(dst, self.local.port());
        }
        let iss = SeqNum(self.secret.isn(now, self.local, self.remote));
        self.snd = Sender::new(&self.config, iss);
        self.rcv = Receiver::new(&self.config);
        self.opts.ts_offset = self.secret.ts_offset(self.local, self.remote);
        self.rcv.start(SeqNum(seg.seq));
        self.negotiate(now, &seg.options);
        // The window in a SYN is never scaled (RFC 7323 §2.2).
        self.snd.wnd = u32::from(seg.window);
        self.snd.max_wnd = self.snd.wnd;
        self.snd.wl1 = SeqNum(seg.seq);
        self.snd.wl2 = iss;
        self.syn_due = true;
        // Data carried on the SYN is not accepted before the handshake
        // completes; the peer retransmits it (RFC 9293 §3.10.7.2 allows
        // either queuing or dropping it).
        self.set_state(now, State::SynReceived, Cause::RecvSyn);
    }

    /// RFC 9293 §3.10.7.3: a segment arrives in SYN-SENT.
    pub(crate) fn on_syn_sent(&mut self, now: Instant, seg: &TcpRepr<'_>) {
        let ack = SeqNum(seg.ack);
        let iss = self.snd.iss;
        // First: check the ACK. One that does not cover exactly our SYN is
        // answered with <SEQ=SEG.ACK><CTL=RST> (unless it is itself a RST).
        let mut ack_ok = false;
        if seg.flags.ack() {
            if ack.before_eq(iss) || ack.after(self.snd.nxt) {
                if !seg.flags.rst() {
                    self.pending_rst = Some(PendingRst {
                        seq: ack,
                        ack: None,
                    });
                }
                return;
            }
            ack_ok = ack.in_range_excl_incl(self.snd.una, self.snd.nxt);
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
        self.rcv.start(SeqNum(seg.seq));
        self.negotiate(now, &seg.options);
        self.snd.wnd = u32::from(seg.window);
        self.snd.max_wnd = self.snd.wnd;
        self.snd.wl1 = SeqNum(seg.seq);
        self.snd.wl2 = ack;
        if ack_ok {
            // Our SYN is acknowledged: ESTABLISHED, and ACK their SYN.
            self.ack_of_syn(now, ack, seg);
            self.rcv.ack.owe_now();
            self.establish(now, Cause::RecvSynAck);
            // URG, data or FIN on the SYN-ACK: continue at the sixth step
            // (the urgent pointer, counted from SEG.SEQ, the SYN's own
            // number), then the text with the SYN taken off.
            if !seg.payload.is_empty() || seg.flags.fin() || seg.flags.urg() {
                if seg.flags.urg() {
                    self.rcv.on_urgent(SeqNum(seg.seq), seg.urgent);
                }
                let mut rest = *seg;
                rest.seq = seg.seq.wrapping_add(1);
                rest.flags.remove(TcpFlags::SYN);
                self.process_text(now, &rest);
            }
        } else {
            // Simultaneous open: answer with SYN,ACK <SEQ=ISS><ACK=RCV.NXT>.
            self.syn_due = true;
            self.syn_xmits = 0;
            self.timers.clear(TimerKind::Rto);
            self.set_state(now, State::SynReceived, Cause::RecvSyn);
        }
    }

    /// Our SYN was acknowledged by `ack`: SND.UNA moves past it, and its RTT
    /// is measured if it was sent once (Karn's rule) or carried a timestamp.
    pub(crate) fn ack_of_syn(&mut self, now: Instant, ack: SeqNum, seg: &TcpRepr<'_>) {
        self.snd.una = ack;
        if self.snd.nxt.before(ack) {
            self.snd.nxt = ack;
        }
        let ts_echo = seg
            .options
            .timestamps
            .filter(|&(_, ecr)| self.opts.ts && ecr != 0)
            .map(|(_, ecr)| self.ts_now(now).wrapping_sub(ecr))
            .filter(|&ms| ecr_sane(ms));
        if self.syn_xmits == 1 {
            self.snd.rtt.sample(now.saturating_since(self.syn_sent_at));
        } else if self.syn_xmits == 0 {
            // A handshake from a SYN cookie: nothing to time it by (its
            // timestamp carries the cookie's options, not a clock).
        } else if let Some(ms) = ts_echo {
            self.snd
                .rtt
                .sample(crate::time::Duration::from_millis(u64::from(ms)));
        }
        self.timers.clear(TimerKind::Rto);
    }

    /// Both SYNs are acknowledged: ESTABLISHED (and on to FIN-WAIT-1 if the
    /// application already closed).
    pub(crate) fn establish(&mut self, now: Instant, cause: Cause) {
        let lost = self.snd.retries > 0;
        let payload_mss = self.payload_mss();
        self.snd.on_established(&self.config, payload_mss, lost);
        self.timers.clear(TimerKind::Rto);
        self.set_state(now, State::Established, cause);
        if self.snd.fin_queued() {
            let cause = if self.app_closed {
                Cause::AppClose
            } else {
                Cause::AppShutdown
            };
            self.set_state(now, State::FinWait1, cause);
        }
    }

    /// Payload bytes in a full segment: the MSS less the options every
    /// segment carries (timestamps).
    pub(crate) fn payload_mss(&self) -> u16 {
        let ts = if self.opts.ts { TS_OPTION_LEN } else { 0 };
        self.snd.mss.saturating_sub(ts).max(1)
    }

    /// Records what the peer's SYN (or SYN-ACK) offered and settles what
    /// both sides use.
    fn negotiate(&mut self, now: Instant, peer: &TcpOptions) {
        // RFC 9293 §3.7.1: 536 (IPv4) or 1220 (IPv6) without the option.
        // An absurdly small MSS (a peer could announce 1) is raised to 64,
        // as Linux does.
        let peer_mss = peer.mss.unwrap_or(default_mss(self.remote.ip())).max(64);
        self.snd.mss = peer_mss.min(self.config.mss);
        // RFC 7323 §2.2: scaling is on only if both SYNs carry the option;
        // shifts above 14 are treated as 14 (§2.3).
        match (peer.window_scale, self.config.window_scaling) {
            (Some(shift), true) => {
                self.opts.wscale = true;
                self.snd.wscale = shift.min(14);
                self.rcv.set_wscale(self.config.rcv_wscale());
            }
            _ => {
                self.opts.wscale = false;
                self.snd.wscale = 0;
                self.rcv.set_wscale(0);
            }
        }
        // In SYN-SENT we offered what the config says; in LISTEN we answer
        // with what the peer offered, if we allow it.
        self.opts.sack = peer.sack_permitted && self.config.sack;
        self.snd.sack_ok = self.opts.sack;
        self.opts.ts = peer.timestamps.is_some() && self.config.timestamps;
        if let (true, Some((tsval, _))) = (self.opts.ts, peer.timestamps) {
            self.rcv.set_ts_recent(tsval, now);
        }
        // A full-sized segment from the peer carries the MSS we announced
        // (or the default it must assume without one) less the options it
        // puts on every segment (timestamps).
        let ts = if self.opts.ts { TS_OPTION_LEN } else { 0 };
        let ours = announced_mss(&self.config, self.remote.ip());
        self.rcv.mss = u32::from(ours.saturating_sub(ts).max(1));
    }

    /// The options of our SYN (SYN-SENT) or SYN-ACK (SYN-RECEIVED).
    fn syn_options(&self, now: Instant) -> TcpOptions {
        let mut o = TcpOptions::with_layout(self.config.option_layout);
        o.mss = self.config.mss_option.then_some(self.config.mss);
        let active = self.state == State::SynSent;
        let (ws, sack, ts) = if active {
            (
                self.config.window_scaling,
                self.config.sack,
                self.config.timestamps,
            )
        } else {
            (self.opts.wscale, self.opts.sack, self.opts.ts)
        };
        if ws {
            o.window_scale = Some(self.config.rcv_wscale());
        }
        o.sack_permitted = sack;
        if ts {
            let ecr = if active {
                0
            } else {
                self.rcv.ts_recent.unwrap_or(0)
            };
            o.timestamps = Some((self.ts_now(now), ecr));
        }
        o
    }

    /// Sends (or sends again) our SYN in SYN-SENT, or SYN,ACK in SYN-RECEIVED.
    pub(crate) fn transmit_syn(&mut self, now: Instant) -> Option<Transmit<'static>> {
        let synrcvd = self.state == State::SynReceived;
        if !(self.syn_due || synrcvd && self.rcv.ack.due()) {
            return None;
        }
        let iss = self.snd.iss;
        let (flags, ack) = if synrcvd {
            (TcpFlags::SYN | TcpFlags::ACK, self.rcv.nxt.0)
        } else {
            (TcpFlags::SYN, 0)
        };
        let options = self.syn_options(now);
        let window = self.rcv.syn_window_field();
        if synrcvd {
            self.rcv.ack.on_sent();
        }
        let retransmission = self.syn_xmits > 0;
        if !retransmission {
            self.syn_sent_at = now;
        } else {
            crate::sender::bump(&mut self.snd.stats.retransmits);
        }
        self.syn_xmits = self.syn_xmits.saturating_add(1);
        self.syn_due = false;
        self.snd.nxt = iss + 1;
        if !self.timers.is_armed(TimerKind::Rto) {
            self.timers.set(TimerKind::Rto, now + self.snd.rtt.rto());
        }
        self.stats.segs_out += 1;
        Some(Transmit {
            local: self.local,
            remote: self.remote,
            header: TcpHeader {
                src_port: self.local.port(),
                dst_port: self.remote.port(),
                seq: iss.0,
                ack,
                flags,
                window,
                urgent: 0,
                options,
            },
            payload: [&[], &[]],
            kind: SegmentKind::Syn { retransmission },
        })
    }

    /// RFC 6298 §5.4-5.5 in SYN-SENT / SYN-RECEIVED: send the SYN again
    /// with a doubled timeout, or give up.
    pub(crate) fn on_syn_timeout(&mut self, now: Instant) {
        let limit = if self.state == State::SynSent {
            self.config.syn_retries
        } else {
            self.config.synack_retries
        };
        crate::sender::bump(&mut self.snd.stats.rto_expirations);
        if self.snd.retries >= limit {
            self.terminate(now, CloseReason::TimedOut, Cause::RetransmitLimit);
            return;
        }
        self.snd.retries += 1;
        self.snd.rtt.back_off();
        self.syn_due = true;
        self.timers.set(TimerKind::Rto, now + self.snd.rtt.rto());
    }
}

/// A timestamp echo yields an RTT only if it is not absurdly old (or from
/// the future, which wraps to a huge value).
pub(crate) fn ecr_sane(ms: u32) -> bool {
    ms < (1 << 30)
}

#[cfg(test)]
mod tests {
    use super::ecr_sane;

    #[test]
    fn an_echo_older_than_2_to_the_30_ms_is_no_sample() {
        assert!(ecr_sane(0));
        assert!(ecr_sane((1 << 30) - 1));
        assert!(!ecr_sane(1 << 30));
        // An echo "from the future" wraps to a huge age.
        assert!(!ecr_sane(u32::MAX));
    }
}
