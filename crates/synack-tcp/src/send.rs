//! Sending in the synchronized states: processing acknowledgments and
//! window updates (RFC 9293 §3.10.7.4, fifth step), building data and FIN
//! segments within the send and congestion windows, retransmission on the
//! RFC 6298 timer, and zero-window probing (RFC 9293 §3.8.6.1).

use crate::conn::Connection;
use crate::error::CloseReason;
use crate::seq::SeqNum;
use crate::state::{Cause, State};
use crate::time::Instant;
use crate::timer::TimerKind;
use synack_wire::{TcpFlags, TcpRepr};

impl Connection {
    /// Sequence number of the first data byte in the send buffer.
    fn data_start(&self) -> SeqNum {
        // Until our SYN is acknowledged it occupies ISS.
        if self.snd_una == self.iss {
            self.iss + 1
        } else {
            self.snd_una
        }
    }

    /// Sequence number our FIN occupies, once the application has closed.
    pub(crate) fn fin_seq(&self) -> Option<SeqNum> {
        if !self.fin_queued {
            None
        } else if self.fin_acked {
            Some(self.snd_una - 1)
        } else {
            Some(self.data_start() + self.send_buf.len() as u32)
        }
    }

    /// Our FIN has been sent and acknowledged.
    pub(crate) fn fin_acked(&self) -> bool {
        self.fin_acked
    }

    /// The ACK field of a segment in a synchronized state. Returns false if
    /// the segment must be dropped here.
    pub(crate) fn process_ack(
        &mut self,
        now: Instant,
        seg: &TcpRepr<'_>,
        fin_in_order: bool,
    ) -> bool {
        let ack = SeqNum(seg.ack);
        let seq = SeqNum(seg.seq);
        // RFC 9293: an ACK for something not yet sent is answered and dropped.
        if ack.after(self.snd_max) {
            self.challenge_ack(now);
            return false;
        }
        // RFC 5961 §5.2: an ACK too far in the past is answered and dropped.
        if ack.before(self.snd_una - self.max_snd_wnd.max(1)) {
            self.challenge_ack(now);
            return false;
        }
        if ack.after(self.snd_una) {
            self.on_new_ack(now, ack);
        }
        // Window update: only from a segment at least as new as the last one
        // that updated it (SND.WL1 < SEG.SEQ, or equal and SND.WL2 =< SEG.ACK).
        if self.snd_wl1.before(seq) || (self.snd_wl1 == seq && self.snd_wl2.before_eq(ack)) {
            self.snd_wnd = u32::from(seg.window) << self.snd_wscale;
            self.max_snd_wnd = self.max_snd_wnd.max(self.snd_wnd);
            self.snd_wl1 = seq;
            self.snd_wl2 = ack;
            if self.snd_wnd > 0 {
                self.timers.clear(TimerKind::Persist);
                self.persist_backoff = 0;
            }
        }
        let fin_acked = self.fin_acked();
        match self.state {
            // With a FIN in the same segment we go straight to TIME-WAIT.
            State::FinWait1 if fin_acked && !fin_in_order => {
                self.set_state(now, State::FinWait2, Cause::RecvAck)
            }
            State::Closing if fin_acked => self.set_state(now, State::TimeWait, Cause::RecvAck),
            State::LastAck if fin_acked => {
                self.terminate(now, CloseReason::Normal, Cause::RecvAck);
                return false;
            }
            _ => {}
        }
        true
    }

    /// SND.UNA < SEG.ACK =< SND.MAX: data (and maybe our FIN) acknowledged.
    fn on_new_ack(&mut self, now: Instant, ack: SeqNum) {
        let start = self.data_start();
        if self.fin_seq().is_some_and(|f| ack.after(f)) {
            self.fin_acked = true;
        }
        let acked_data = (ack.since(start) as usize).min(self.send_buf.len());
        self.send_buf.consume(acked_data);
        self.snd_una = ack;
        if self.snd_nxt.before(ack) {
            self.snd_nxt = ack;
        }
        // Karn's rule: the probe is cleared whenever we retransmit, so a
        // sample here always times a segment sent once.
        if let Some((end, sent)) = self.rtt_probe {
            if ack.after_eq(end) {
                self.rtt.sample(now.saturating_since(sent));
                self.rtt_probe = None;
            }
        }
        self.cc.on_ack(acked_data as u32);
        self.retries = 0;
        // RFC 6298 §5.2-5.3: stop the timer when all is acknowledged,
        // otherwise restart it.
        if self.snd_una == self.snd_max {
            self.timers.clear(TimerKind::Retransmit);
        } else {
            self.timers.set(TimerKind::Retransmit, now + self.rtt.rto());
        }
    }

    /// The next data, FIN or pure ACK segment in a synchronized state.
    pub(crate) fn transmit_data(&mut self, now: Instant) -> Option<TcpRepr<'_>> {
        if self.state == State::SynReceived {
            return None;
        }
        let buffered = self.send_buf.len();
        let data_off = self.snd_nxt.since(self.data_start()) as usize;
        let avail = buffered.saturating_sub(data_off);
        let fin_seq = self.fin_seq();
        let fin_unsent = fin_seq.is_some_and(|f| !self.snd_nxt.after(f));
        let in_flight = self.snd_nxt.since(self.snd_una);
        let wnd = self.snd_wnd.min(self.cc.cwnd());
        let usable = wnd.saturating_sub(in_flight) as usize;
        let mss = usize::from(self.snd_mss);

        let mut len = avail.min(mss).min(usable);
        // RFC 9293 §3.8.6.2.1 (sender SWS avoidance): do not send a small
        // segment the window forced on us while earlier data is unacknowledged.
        if len < avail && len < mss && in_flight > 0 {
            len = 0;
        }
        let mut probe = false;
        if len == 0 && avail > 0 && self.probe_due {
            // RFC 9293 §3.8.6.1: one byte past a zero window.
            len = 1;
            probe = true;
        }
        self.probe_due = false;
        let payload_len = self.send_buf.contiguous_at(data_off, len).len();
        // A zero-window probe is data only; the FIN waits for a real send.
        let fin = !probe && fin_unsent && data_off + payload_len == buffered;

        if payload_len == 0 && !fin {
            if avail > 0
                && self.snd_wnd == 0
                && in_flight == 0
                && !self.timers.is_armed(TimerKind::Persist)
            {
                let shift = self.persist_backoff.min(10);
                let wait = (self.rtt.rto() * (1 << shift)).min(self.config.max_rto);
                self.timers.set(TimerKind::Persist, now + wait);
            }
            if !self.ack_pending {
                return None;
            }
            return Some(self.header(self.snd_nxt, TcpFlags::ACK));
        }

        let seq = self.snd_nxt;
        let mut flags = TcpFlags::ACK;
        if payload_len > 0 && data_off + payload_len == buffered {
            flags |= TcpFlags::PSH;
        }
        if fin {
            flags |= TcpFlags::FIN;
        }
        let end = seq + (payload_len + usize::from(fin)) as u32;
        if probe {
            // The probe byte does not advance SND.NXT: it is not "in flight"
            // and is not retransmitted, the persist timer repeats it.
            self.stats.zero_window_probes += 1;
            self.persist_backoff = self.persist_backoff.saturating_add(1);
            self.snd_max = self.snd_max.max(end);
        } else {
            if seq.before(self.snd_max) {
                self.stats.retransmits += 1;
            } else if self.rtt_probe.is_none() {
                self.rtt_probe = Some((end, now));
            }
            self.snd_nxt = end;
            self.snd_max = self.snd_max.max(end);
            if !self.timers.is_armed(TimerKind::Retransmit) {
                self.timers.set(TimerKind::Retransmit, now + self.rtt.rto());
            }
        }
        self.stats.bytes_sent += payload_len as u64;
        let mut repr = self.header(seq, flags);
        repr.payload = self.send_buf.contiguous_at(data_off, payload_len);
        Some(repr)
    }

    /// RFC 6298 §5.4-5.7: the retransmission timer expired.
    pub(crate) fn on_retransmit_timeout(&mut self, now: Instant) {
        let limit = match self.state {
            State::SynSent => self.config.syn_retries,
            State::SynReceived => self.config.synack_retries,
            State::Closed | State::Listen | State::TimeWait => return,
            _ => {
                if self.snd_una == self.snd_max {
                    return;
                }
                self.config.max_retries
            }
        };
        self.stats.rto_expirations += 1;
        if self.retries >= limit {
            self.terminate(now, CloseReason::TimedOut, Cause::RetransmitLimit);
            return;
        }
        self.retries += 1;
        self.rtt.back_off();
        self.rtt_probe = None;
        if self.state.is_synchronized() {
            let flight = self.snd_max.since(self.snd_una);
            self.cc.on_rto(flight);
        }
        // Go back to the oldest unacknowledged byte (or the SYN).
        self.snd_nxt = self.snd_una;
    }

    /// The persist timer expired: send a zero-window probe.
    pub(crate) fn on_persist_timeout(&mut self, _now: Instant) {
        if self.snd_wnd == 0 && self.send_buf.len() > self.snd_nxt.since(self.data_start()) as usize
        {
            self.probe_due = true;
        }
    }
}
