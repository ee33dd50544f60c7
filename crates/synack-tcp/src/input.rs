//! Input: a segment arriving, or a timer firing.
//!
//! A segment goes to the handler for the connection's state: LISTEN and
//! SYN-SENT in `handshake.rs`, everything else here, through the checks of
//! RFC 9293 §3.10.7.4 in the RFC's order — PAWS (RFC 7323 §5.3) before
//! them, then sequence number, RST, SYN, ACK, URG, text, FIN — with the
//! RFC 5961 hardening of the RST, SYN and ACK checks.

use crate::conn::{Connection, Event, PendingRst, UNSPECIFIED};
use crate::error::CloseReason;
use crate::receiver::ack::AckTimer;
use crate::sender::{AckInput, TimeoutVerdict};
use crate::seq::SeqNum;
use crate::state::{Cause, State};
use crate::time::Instant;
use crate::timer::TimerKind;
use std::net::IpAddr;
use synack_wire::{checksum, TcpFlags, TcpRepr};

/// RFC 9293 §3.10.7.4, first step: the four cases of the acceptability test.
///
/// | length | window | acceptable when                                    |
/// |--------|--------|----------------------------------------------------|
/// | 0      | 0      | `SEG.SEQ = RCV.NXT`                                |
/// | 0      | >0     | `RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND`             |
/// | >0     | 0      | never                                              |
/// | >0     | >0     | the first or the last octet falls in the window    |
pub fn segment_acceptable(seq: SeqNum, seg_len: u32, rcv_nxt: SeqNum, rcv_wnd: u32) -> bool {
    match (seg_len, rcv_wnd) {
        (0, 0) => seq == rcv_nxt,
        (0, _) => seq.in_window(rcv_nxt, rcv_wnd),
        (_, 0) => false,
        _ => seq.in_window(rcv_nxt, rcv_wnd) || (seq + (seg_len - 1)).in_window(rcv_nxt, rcv_wnd),
    }
}

/// What to do with an incoming RST.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum RstVerdict {
    /// Obey it: the connection is reset.
    Reset,
    /// RFC 5961 §3.2: in the window but not exactly at RCV.NXT; answer with
    /// a challenge ACK so a genuine peer can send an exact RST.
    ChallengeAck,
    /// Ignore it.
    Drop,
}

/// RST validation (RFC 9293 §3.10.7.3-4, RFC 5961 §3, RFC 1337).
///
/// `ack` is SEG.ACK if the ACK bit is set; `snd_max` the highest sequence
/// number sent.
pub fn check_rst(
    state: State,
    seq: SeqNum,
    ack: Option<SeqNum>,
    rcv_nxt: SeqNum,
    rcv_wnd: u32,
    snd_una: SeqNum,
    snd_max: SeqNum,
) -> RstVerdict {
    match state {
        State::Closed | State::Listen => RstVerdict::Drop,
        // SYN-SENT: acceptable only if it acknowledges our SYN.
        State::SynSent => match ack {
            Some(a) if a.in_range_excl_incl(snd_una, snd_max) => RstVerdict::Reset,
            _ => RstVerdict::Drop,
        },
        // RFC 1337: a RST must not cut TIME-WAIT short (TIME-WAIT assassination).
        State::TimeWait => RstVerdict::Drop,
        _ => {
            if seq == rcv_nxt {
                RstVerdict::Reset
            } else if seq.in_window(rcv_nxt, rcv_wnd.max(1)) {
                RstVerdict::ChallengeAck
            } else {
                RstVerdict::Drop
            }
        }
    }
}

impl Connection {
    /// Feeds one incoming segment that the stack matched to this connection.
    /// `src` and `dst` are the IP addresses it travelled between (a listener
    /// learns its peer from them).
    pub fn handle_segment(&mut self, now: Instant, src: IpAddr, dst: IpAddr, seg: &TcpRepr<'_>) {
        self.stats.segs_in += 1;
        self.stats.bad_options = self
            .stats
            .bad_options
            .saturating_add(u32::from(seg.options.malformed));
        match self.state {
            // RFC 9293 §3.10.7.1: a CLOSED connection has no TCB; the stack
            // answers for it.
            State::Closed => {}
            State::Listen => self.on_listen(now, src, dst, seg),
            State::SynSent => self.on_syn_sent(now, seg),
            _ => self.on_segment(now, seg),
        }
        self.flush_notes();
    }

    /// Feeds one incoming segment whose checksum is still to be verified:
    /// `header_sum` is the partial Internet checksum of the pseudo-header
    /// and the TCP header, checksum field included (as
    /// `TcpRepr::parse_deferred` gives it). The text is summed as it is
    /// copied into the receive ring (RFC 1071's sum and the copy in one
    /// pass over the bytes), or summed alone where it cannot be placed
    /// yet. Returns `false`, having changed nothing the peer could see,
    /// if the checksum fails: the segment is dropped (RFC 9293 §3.1).
    pub fn handle_segment_summed(
        &mut self,
        now: Instant,
        src: IpAddr,
        dst: IpAddr,
        seg: &TcpRepr<'_>,
        header_sum: u32,
    ) -> bool {
        // Only once the handshake is over: until then the ring may still
        // be replaced (window scaling agreed on the SYN,ACK).
        let receiving = matches!(
            self.state,
            State::Established | State::FinWait1 | State::FinWait2
        );
        let placed = if receiving && !seg.flags.syn() {
            self.rcv.stage(SeqNum(seg.seq), seg.payload)
        } else {
            None
        };
        let text = placed.unwrap_or_else(|| checksum::sum(seg.payload));
        let intact = checksum::verify(header_sum + text);
        if intact {
            self.handle_segment(now, src, dst, seg);
        }
        // Whatever was staged and not stored is forgotten either way.
        self.rcv.unstage();
        intact
    }

    /// RFC 9293 §3.10.7.4: a segment arrives in SYN-RECEIVED or a
    /// synchronized state.
    fn on_segment(&mut self, now: Instant, seg: &TcpRepr<'_>) {
        let mut seg = *seg;
        if self.state == State::SynReceived
            && seg.flags.syn()
            && !seg.flags.rst()
            && SeqNum(seg.seq) == self.rcv.irs
        {
            // The SYN we already answered, again: either a retransmission
            // (answer it with our SYN,ACK once more) or, in a simultaneous
            // open, the peer's SYN,ACK, whose ACK completes the handshake
            // (RFC 9293 §3.5, Figure 7). Drop the SYN and look at the rest.
            seg.flags.remove(TcpFlags::SYN);
            seg.seq = seg.seq.wrapping_add(1);
            if !seg.flags.ack() {
                self.syn_due = true;
                return;
            }
        }
        let seq = SeqNum(seg.seq);
        let ts = seg.options.timestamps.filter(|_| self.opts.ts);

        // RFC 7323 §5.3 R1: PAWS, before the acceptability test. An old
        // duplicate (its timestamp is older than TS.Recent) is dropped and
        // acknowledged, unless it is a RST.
        if let Some((tsval, _)) = ts {
            if !seg.flags.rst() && self.rcv.paws_rejects(tsval, now) {
                self.stats.paws_rejected = self.stats.paws_rejected.saturating_add(1);
                self.rcv.ack.owe_now();
                return;
            }
        }

        // First: sequence number acceptability. A bare FIN needs no buffer
        // space, so at RCV.NXT it is acceptable even in a zero window.
        // Once the peer's FIN is in (CLOSE-WAIT, CLOSING, LAST-ACK,
        // TIME-WAIT) its sequence space has ended at RCV.NXT: nothing
        // beyond can legitimately arrive (RFC 9293 §3.10.7.4, seventh step:
        // text "should not occur"), so the window is closed and any
        // segment not at RCV.NXT is unacceptable and answered with an ACK,
        // as Linux and FreeBSD do in TIME-WAIT.
        let rcv_wnd = if self.state.can_receive_data() {
            self.rcv.accept_window()
        } else {
            0
        };
        let mut test_len = seg.segment_len() as u32;
        if rcv_wnd == 0 && seg.payload.is_empty() {
            test_len = u32::from(seg.flags.syn());
        }
        // A segment with no text exactly at the right edge is taken too,
        // as Linux and the BSDs do: a peer that filled our window sends its
        // pure ACKs there, and refusing them (with the window edge's own
        // ACKs refused in turn) deadlocks both directions.
        let at_edge = test_len == 0 && rcv_wnd > 0 && seq == self.rcv.nxt + rcv_wnd;
        if !at_edge && !segment_acceptable(seq, test_len, self.rcv.nxt, rcv_wnd) {
            self.stats.unacceptable = self.stats.unacceptable.saturating_add(1);
            // An unacceptable segment without text is answered at most
            // every 500 ms: two peers that each find the other's ACKs out of
            // window would otherwise trade ACKs forever (an ACK loop).
            let pure = seg.payload.is_empty() && !seg.flags.syn() && !seg.flags.fin();
            let quiet = pure && !self.oow_ack_allowed(now);
            if !seg.flags.rst() && !quiet {
                // RFC 9293 §3.10.7.4 (TIME-WAIT, eighth step): a retransmitted
                // FIN is acknowledged again and restarts the 2×MSL timer.
                if self.state == State::TimeWait && seg.flags.fin() {
                    self.timers
                        .set(TimerKind::TimeWait, now + self.config.msl * 2);
                }
                // RFC 2883: a segment we already have is reported as D-SACK.
                let end = seq + seg.payload.len() as u32;
                if !seg.payload.is_empty() && end.before_eq(self.rcv.nxt) && self.opts.sack {
                    self.rcv.ack.report_dsack(seq, end);
                }
                if seg.flags.syn() && self.state.is_synchronized() {
                    // RFC 5961 §4.2: a SYN gets a challenge ACK (counted
                    // and rate-limited as such) whatever its sequence number.
                    self.challenge_ack(now);
                } else {
                    // <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>
                    self.rcv.ack.owe_now();
                }
            }
            // "special allowance should be made to accept valid ACKs, URGs,
            // and RSTs" with a zero window: a segment right at RCV.NXT keeps
            // its control part and loses its text.
            if rcv_wnd != 0 || seq != self.rcv.nxt {
                return;
            }
            seg.payload = &[];
            seg.flags.remove(TcpFlags::FIN);
        }

        // RFC 7323 §4.3 (R3): remember the timestamp to echo.
        if let Some((tsval, _)) = ts {
            self.rcv.update_ts_recent(tsval, seq, now);
        }
        self.last_recv = now;
        self.keepalive_probes = 0;

        // Second: the RST bit.
        if seg.flags.rst() {
            let ack = seg.flags.ack().then_some(SeqNum(seg.ack));
            match check_rst(
                self.state,
                seq,
                ack,
                self.rcv.nxt,
                rcv_wnd,
                self.snd.una,
                self.snd.nxt,
            ) {
                RstVerdict::Reset => self.on_reset(now),
                RstVerdict::ChallengeAck => self.challenge_ack(now),
                RstVerdict::Drop => {}
            }
            return;
        }

        // Fourth: a SYN, whatever its sequence number (RFC 5961 §4): it is
        // checked before any trimming, so a SYN,ACK with data sent just
        // below RCV.NXT cannot slip its data in.
        if seg.flags.syn() {
            if self.state == State::SynReceived && self.passive {
                // RFC 9293 §3.10.7.4: a passive open goes back to LISTEN.
                self.return_to_listen(now, Cause::RecvSyn);
            } else {
                // RFC 5961 §4.2: a challenge ACK, never a reset.
                self.challenge_ack(now);
            }
            return;
        }

        // Fifth: the ACK field. Without it the segment is dropped.
        if !seg.flags.ack() {
            return;
        }
        let ack = SeqNum(seg.ack);
        if self.state == State::SynReceived {
            if ack.in_range_excl_incl(self.snd.una, self.snd.nxt) {
                self.ack_of_syn(now, ack, &seg);
                self.establish(now, Cause::RecvAck);
            } else {
                // <SEQ=SEG.ACK><CTL=RST>
                self.pending_rst = Some(PendingRst {
                    seq: ack,
                    ack: None,
                });
                return;
            }
        }
        // RFC 9293: an ACK of something not yet sent is answered and dropped;
        // RFC 5961 §5.2: so is one older than the largest window allows.
        if ack.after(self.snd.nxt) || ack.before(self.snd.una - self.snd.max_wnd.max(1)) {
            self.challenge_ack(now);
            return;
        }
        let input = AckInput {
            ack,
            seq,
            window: u32::from(seg.window) << self.snd.wscale,
            sack: seg.options.sack_blocks(),
            tsecr: ts.map(|(_, ecr)| ecr),
            ts_now: self.ts_now(now),
            pure: seg.payload.is_empty() && !seg.flags.fin(),
        };
        let out = self.snd.on_ack(now, &input, &mut self.timers);
        if out.writable {
            self.push_event(Event::Writable);
        }
        let fin_acked = self.snd.fin_acked();
        match self.state {
            State::Closing if fin_acked => {
                self.set_state(now, State::TimeWait, Cause::RecvAck);
            }
            State::LastAck if fin_acked => {
                self.terminate(now, CloseReason::Normal, Cause::RecvAck);
                return;
            }
            _ => {}
        }

        // Sixth: the urgent pointer, from the segment's own sequence number
        // (RFC 6093: it points just past the urgent data).
        if seg.flags.urg() && self.state.can_receive_data() {
            self.rcv.on_urgent(seq, seg.urgent);
        }

        // Seventh and eighth: the text and the FIN.
        self.process_text(now, &seg);

        // Our FIN was acknowledged and no FIN came with it: FIN-WAIT-2.
        if self.state == State::FinWait1 && self.snd.fin_acked() {
            self.set_state(now, State::FinWait2, Cause::RecvAck);
        }
    }

    /// Steps seven and eight: the payload and the FIN, while the peer may
    /// still send (in CLOSE-WAIT and after, its FIN has arrived: anything
    /// more is ignored, a second FIN included).
    pub(crate) fn process_text(&mut self, now: Instant, seg: &TcpRepr<'_>) {
        if !self.state.can_receive_data() {
            return;
        }
        let seq = SeqNum(seg.seq);
        if self.app_closed
            && !seg.payload.is_empty()
            && (seq + seg.payload.len() as u32).after(self.rcv.nxt)
        {
            self.reset_orphan(now);
            return;
        }
        let was_empty = self.rcv.queued() == 0;
        let out = self.rcv.on_text(seq, seg.payload, seg.flags.fin());
        if out.timer == Some(AckTimer::Arm) {
            self.timers
                .set_earliest(TimerKind::DelayedAck, now + self.rcv.ack.delay());
        }
        if out.delivered > 0 && was_empty {
            self.push_event(Event::Readable);
        }
        if out.fin {
            self.on_fin(now);
        }
    }

    /// At most one ACK every 500 ms in answer to out-of-window segments
    /// without text (Linux's tcp_invalid_ratelimit).
    fn oow_ack_allowed(&mut self, now: Instant) -> bool {
        const GAP: crate::time::Duration = crate::time::Duration::from_millis(500);
        let last = self.last_oow_ack;
        if last != u64::MAX && now.saturating_since(Instant::from_micros(last)) < GAP {
            return false;
        }
        self.last_oow_ack = now.as_micros();
        true
    }

    /// An acceptable RST arrived (RFC 9293 §3.10.7.4, second step).
    fn on_reset(&mut self, now: Instant) {
        match self.state {
            State::SynReceived if self.passive => self.return_to_listen(now, Cause::RecvRst),
            // An active open that met a RST in SYN-RECEIVED: refused.
            State::SynReceived => self.terminate(now, CloseReason::Refused, Cause::RecvRst),
            // TIME-WAIT never gets here: `rst_verdict` drops every RST in
            // it (RFC 1337).
            _ => self.terminate(now, CloseReason::Reset, Cause::RecvRst),
        }
    }

    /// A half-open passive connection goes back to LISTEN and forgets its peer.
    pub(crate) fn return_to_listen(&mut self, now: Instant, cause: Cause) {
        let mut fresh = Connection::blank(
            self.config.clone(),
            self.local,
            UNSPECIFIED,
            self.secret,
            SeqNum(0),
        );
        fresh.passive = true;
        fresh.state = self.state;
        fresh.events = std::mem::take(&mut self.events);
        fresh.stats = self.stats;
        *self = fresh;
        self.set_state(now, State::Listen, cause);
    }

    /// One timer fired.
    pub(crate) fn on_timer(&mut self, now: Instant, kind: TimerKind) {
        match kind {
            TimerKind::Rto => match self.state {
                State::SynSent | State::SynReceived => self.on_syn_timeout(now),
                State::Closed | State::Listen | State::TimeWait => {}
                _ => {
                    if self.snd.on_rto(now, &mut self.timers) == TimeoutVerdict::GiveUp {
                        self.terminate(now, CloseReason::TimedOut, Cause::RetransmitLimit);
                    }
                }
            },
            TimerKind::Tlp => self.snd.on_tlp_timeout(now, &mut self.timers),
            TimerKind::Reorder => self.snd.on_reorder_timeout(now, &mut self.timers),
            TimerKind::Persist => {
                if !self.snd.on_persist_timeout(now, &mut self.timers) {
                    self.terminate(now, CloseReason::TimedOut, Cause::PersistLimit);
                }
            }
            TimerKind::DelayedAck => self.rcv.ack.on_timer(),
            TimerKind::Keepalive => self.on_keepalive_timeout(now),
            TimerKind::FinWait2 => self.on_fin_wait2_timeout(now),
            TimerKind::TimeWait => {
                if self.state == State::TimeWait {
                    self.terminate(now, CloseReason::Normal, Cause::TimeWaitExpired);
                }
            }
        }
    }

    /// RFC 9293 §3.8.4: after `idle` with nothing heard, probe; after
    /// `count` unanswered probes, give up.
    fn on_keepalive_timeout(&mut self, now: Instant) {
        if matches!(self.state, State::SynSent | State::SynReceived) {
            // Before ESTABLISHED the timer holds the setup deadline.
            self.terminate(now, CloseReason::TimedOut, Cause::SetupTimeout);
            return;
        }
        let Some(k) = self.keepalive else {
            return;
        };
        if !self.state.is_synchronized() || self.state == State::TimeWait {
            return;
        }
        let quiet_until = self.last_recv + k.idle();
        if self.keepalive_probes == 0 && now < quiet_until {
            // Something arrived since the timer was armed.
            self.timers.set(TimerKind::Keepalive, quiet_until);
            return;
        }
        if self.snd.flight() > 0 || self.snd.unsent() > 0 {
            // Data is outstanding: the retransmission timer watches the peer.
            self.keepalive_probes = 0;
            self.timers.set(TimerKind::Keepalive, now + k.idle());
            return;
        }
        if self.keepalive_probes >= k.count() {
            self.terminate(now, CloseReason::TimedOut, Cause::KeepaliveLimit);
            return;
        }
        self.keepalive_probes += 1;
        self.keepalive_due = true;
        self.stats.keepalive_probes = self.stats.keepalive_probes.saturating_add(1);
        self.timers.set(TimerKind::Keepalive, now + k.interval());
    }
}
