//! Receiving in the synchronized states (RFC 9293 §3.10.7.4): the
//! acceptability test, RST and SYN checks (with RFC 5961's challenge ACKs),
//! in-order delivery and a bounded reassembly queue for out-of-order data.
//!
//! The order of the checks follows the RFC's "first" .. "eighth" steps.

use crate::conn::{Connection, PendingRst, UNSPECIFIED};
use crate::error::CloseReason;
use crate::seq::SeqNum;
use crate::state::{Cause, State};
use crate::time::Instant;
use crate::timer::TimerKind;
use synack_wire::{TcpFlags, TcpRepr};

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
/// `ack` is SEG.ACK if the ACK bit is set.
pub fn check_rst(
    state: State,
    seq: SeqNum,
    ack: Option<SeqNum>,
    rcv_nxt: SeqNum,
    rcv_wnd: u32,
    snd_una: SeqNum,
    snd_nxt: SeqNum,
) -> RstVerdict {
    match state {
        State::Closed | State::Listen => RstVerdict::Drop,
        // SYN-SENT: acceptable only if it acknowledges our SYN.
        State::SynSent => match ack {
            Some(a) if a.in_range_excl_incl(snd_una, snd_nxt) => RstVerdict::Reset,
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

/// Out-of-order ranges `[start, end)` waiting for the gap before them to
/// fill, sorted, disjoint and bounded in number. The bytes themselves sit in
/// the receive ring at their final offsets.
#[derive(Clone, Debug)]
pub struct Reassembly {
    ranges: Vec<(SeqNum, SeqNum)>,
    max: usize,
}

impl Reassembly {
    pub fn new(max: usize) -> Self {
        Reassembly {
            ranges: Vec::with_capacity(max),
            max,
        }
    }

    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    pub fn ranges(&self) -> &[(SeqNum, SeqNum)] {
        &self.ranges
    }

    /// Records `[start, end)` (all after `base`, the current RCV.NXT),
    /// merging with neighbours. Returns false if it would exceed the bound.
    pub fn insert(&mut self, base: SeqNum, start: SeqNum, end: SeqNum) -> bool {
        let key = |s: SeqNum| s.since(base);
        let (mut start, mut end) = (start, end);
        // First range that ends at or after our start: candidates to merge.
        let mut i = 0;
        while i < self.ranges.len() && key(self.ranges[i].1) < key(start) {
            i += 1;
        }
        let mut j = i;
        while j < self.ranges.len() && key(self.ranges[j].0) <= key(end) {
            start = start.min(self.ranges[j].0);
            end = end.max(self.ranges[j].1);
            j += 1;
        }
        if i == j && self.ranges.len() >= self.max {
            return false;
        }
        self.ranges.drain(i..j);
        self.ranges.insert(i, (start, end));
        true
    }

    /// If the first range now touches `rcv_nxt`, removes it and returns its end.
    pub fn pop_ready(&mut self, rcv_nxt: SeqNum) -> Option<SeqNum> {
        let &(start, end) = self.ranges.first()?;
        if start.before_eq(rcv_nxt) {
            self.ranges.remove(0);
            Some(end.max(rcv_nxt))
        } else {
            None
        }
    }

    pub fn clear(&mut self) {
        self.ranges.clear();
    }
}

impl Connection {
    /// RFC 9293 §3.10.7.4: a segment arrives in SYN-RECEIVED or a
    /// synchronized state.
    pub(crate) fn on_segment(&mut self, now: Instant, seg: &TcpRepr<'_>) {
        let handshake_cause = if seg.flags.syn() {
            Cause::RecvSynAck
        } else {
            Cause::RecvAck
        };
        let mut seg = *seg;
        if self.state == State::SynReceived && seg.flags.syn() && SeqNum(seg.seq) == self.irs {
            // The SYN we already answered, again: either a retransmission
            // (answer it with our SYN,ACK once more) or, in a simultaneous
            // open, the peer's SYN,ACK, whose ACK completes the handshake
            // (RFC 9293 §3.5, Figure 7). Drop the SYN and look at the rest.
            seg.flags.remove(TcpFlags::SYN);
            seg.seq = seg.seq.wrapping_add(1);
            if !seg.flags.ack() {
                self.ack_pending = true;
                return;
            }
        }
        let seq = SeqNum(seg.seq);
        let rcv_wnd = self.rcv_wnd();
        let seg_len = seg.segment_len() as u32;

        // First: sequence number acceptability.
        if !segment_acceptable(seq, seg_len, self.rcv_nxt, rcv_wnd) {
            self.stats.unacceptable += 1;
            if !seg.flags.rst() {
                // RFC 9293 §3.10.7.4 (TIME-WAIT, eighth step): a retransmitted
                // FIN is acknowledged again and restarts the 2×MSL timer.
                if self.state == State::TimeWait && seg.flags.fin() {
                    self.timers
                        .set(TimerKind::TimeWait, now + self.config.msl * 2);
                }
                // <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>
                self.ack_pending = true;
            }
            // RFC 9293 §3.10.7.4: with a zero window no text is acceptable,
            // "but special allowance should be made to accept valid ACKs,
            // URGs, and RSTs": a segment right at RCV.NXT keeps its control
            // part and loses its text.
            if rcv_wnd != 0 || seq != self.rcv_nxt {
                return;
            }
            seg.payload = &[];
            seg.flags.remove(TcpFlags::FIN);
        }

        // Second: the RST bit.
        if seg.flags.rst() {
            let ack = seg.flags.ack().then_some(SeqNum(seg.ack));
            match check_rst(
                self.state,
                seq,
                ack,
                self.rcv_nxt,
                rcv_wnd,
                self.snd_una,
                self.snd_max,
            ) {
                RstVerdict::Reset => self.on_reset(now),
                RstVerdict::ChallengeAck => self.challenge_ack(now),
                RstVerdict::Drop => {}
            }
            return;
        }

        // Trim the segment to the window: drop what we already have and what
        // does not fit (RFC 9293 §3.10.7.4, "segments with higher beginning
        // sequence numbers ... trimmed").
        if seq.before(self.rcv_nxt) {
            let mut dup = self.rcv_nxt.since(seq);
            if seg.flags.syn() {
                seg.flags.remove(TcpFlags::SYN);
                dup -= 1;
            }
            let cut = (dup as usize).min(seg.payload.len());
            seg.payload = &seg.payload[cut..];
            if (dup as usize) > cut {
                seg.flags.remove(TcpFlags::FIN);
            }
            seg.seq = self.rcv_nxt.0;
        }
        let room = rcv_wnd.saturating_sub(SeqNum(seg.seq).since(self.rcv_nxt)) as usize;
        if seg.payload.len() > room {
            seg.payload = &seg.payload[..room];
            seg.flags.remove(TcpFlags::FIN);
        }

        // Fourth: a SYN in the window.
        if seg.flags.syn() {
            if self.state == State::SynReceived && self.passive {
                // RFC 9293 §3.10.7.4: a passive open goes back to LISTEN.
                self.return_to_listen(now, Cause::RecvSyn);
            } else {
                // RFC 5961 §4: challenge ACK, never a reset.
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
            if ack.in_range_excl_incl(self.snd_una, self.snd_max) {
                self.ack_of_syn(now, ack);
                self.snd_wnd = u32::from(seg.window) << self.snd_wscale;
                self.max_snd_wnd = self.max_snd_wnd.max(self.snd_wnd);
                self.snd_wl1 = SeqNum(seg.seq);
                self.snd_wl2 = ack;
                self.set_state(now, State::Established, handshake_cause);
                if self.fin_queued {
                    self.set_state(now, State::FinWait1, Cause::AppClose);
                }
            } else {
                // <SEQ=SEG.ACK><CTL=RST>
                self.pending_rst = Some(PendingRst {
                    remote: self.remote,
                    seq: ack,
                    ack: None,
                });
                return;
            }
        }
        let fin_in_order = seg.flags.fin() && SeqNum(seg.seq) == self.rcv_nxt;
        if !self.process_ack(now, &seg, fin_in_order) {
            return;
        }

        // Sixth to eighth: URG, text and FIN.
        self.process_text(now, &seg, true);
        // Our FIN was acknowledged but the segment's FIN could not be taken
        // after all (e.g. its text did not fit): FIN-WAIT-2 it is.
        if self.state == State::FinWait1 && self.fin_acked() {
            self.set_state(now, State::FinWait2, Cause::RecvAck);
        }
    }

    /// Steps six to eight: the urgent pointer, the payload and the FIN.
    /// `trimmed`: the segment already lies within the receive window.
    pub(crate) fn process_text(&mut self, now: Instant, seg: &TcpRepr<'_>, trimmed: bool) {
        let seq = SeqNum(seg.seq);
        // Sixth: RFC 6093 — the urgent pointer points just past the urgent data.
        if seg.flags.urg() && self.state.can_receive_data() {
            let up = seq + u32::from(seg.urgent);
            self.rcv_up = Some(self.rcv_up.map_or(up, |old| old.max(up)));
        }
        let mut payload = seg.payload;
        if !trimmed {
            let room = self.rcv_wnd().saturating_sub(seq.since(self.rcv_nxt)) as usize;
            payload = &payload[..payload.len().min(room)];
        }
        let mut fin = seg.flags.fin() && payload.len() == seg.payload.len();

        // Seventh: the segment text, only while the peer may still send.
        if !payload.is_empty() && self.state.can_receive_data() {
            self.ack_pending = true;
            if seq == self.rcv_nxt {
                let n = self.recv_buf.push(payload);
                self.rcv_nxt += n as u32;
                self.stats.bytes_received += n as u64;
                if fin {
                    // Nothing can follow a FIN: out-of-order data "beyond"
                    // it came from a confused peer and is discarded.
                    self.reasm.clear();
                } else {
                    self.deliver_reassembled();
                }
            } else {
                self.stats.ooo_segments += 1;
                let end = seq + payload.len() as u32;
                let offset = self.recv_buf.len() + seq.since(self.rcv_nxt) as usize;
                if self.reasm.insert(self.rcv_nxt, seq, end) {
                    self.recv_buf.write_at(offset, payload);
                } else {
                    self.stats.ooo_dropped += 1;
                }
                // A FIN after a gap must wait; the peer will retransmit it.
                fin = false;
            }
        }

        // Eighth: the FIN, once everything before it has arrived.
        if fin && seq + payload.len() as u32 == self.rcv_nxt {
            self.on_fin(now);
        }
    }

    /// Moves out-of-order data that the last in-order segment reached into
    /// the readable part of the ring.
    fn deliver_reassembled(&mut self) {
        while let Some(end) = self.reasm.pop_ready(self.rcv_nxt) {
            let extra = end.since(self.rcv_nxt);
            self.recv_buf.extend(extra as usize);
            self.stats.bytes_received += u64::from(extra);
            self.rcv_nxt = end;
        }
    }

    /// An acceptable RST arrived (RFC 9293 §3.10.7.4, second step).
    fn on_reset(&mut self, now: Instant) {
        match self.state {
            State::SynReceived if self.passive => self.return_to_listen(now, Cause::RecvRst),
            // An active open that met a RST in SYN-RECEIVED: refused.
            State::SynReceived => self.terminate(now, CloseReason::Refused, Cause::RecvRst),
            State::TimeWait => {}
            _ => self.terminate(now, CloseReason::Reset, Cause::RecvRst),
        }
    }

    /// A half-open passive connection goes back to LISTEN and forgets its peer.
    pub(crate) fn return_to_listen(&mut self, now: Instant, cause: Cause) {
        let mut fresh =
            Connection::blank(self.config.clone(), self.local, UNSPECIFIED, self.secret);
        fresh.passive = true;
        fresh.state = self.state;
        fresh.events = std::mem::take(&mut self.events);
        fresh.stats = self.stats;
        *self = fresh;
        self.set_state(now, State::Listen, cause);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reassembly_merges_and_bounds() {
        let base = SeqNum(u32::MAX - 100);
        let mut r = Reassembly::new(2);
        assert!(r.insert(base, base + 50, base + 60));
        assert!(r.insert(base, base + 200, base + 210)); // across 2^32
        assert!(!r.insert(base, base + 100, base + 110)); // a third range: over the bound
        assert!(r.insert(base, base + 55, base + 205)); // bridges both
        assert_eq!(r.ranges(), &[(base + 50, base + 210)]);
        assert_eq!(r.pop_ready(base), None);
        assert_eq!(r.pop_ready(base + 50), Some(base + 210));
        assert!(r.is_empty());
    }
}
