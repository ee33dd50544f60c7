//! Output: building the next segment.
//!
//! In order of precedence: a RST the rules call for; a SYN or SYN-ACK; what
//! the sender wants to send (retransmissions before new data, probes when
//! a timer asked for them), carrying the ACK; a pure ACK the receiver
//! owes; a keep-alive probe. Every segment in a synchronized state carries
//! the current ACK, window, timestamps and SACK blocks.

use crate::conn::{Connection, SegmentKind, Transmit};
use crate::receiver::ack::AckTimer;
use crate::sender::Plan;
use crate::seq::SeqNum;
use crate::state::State;
use crate::time::Instant;
use crate::timer::TimerKind;
use synack_wire::{SackBlock, TcpFlags, TcpHeader, TcpOptions};

impl Connection {
    /// The next segment to send, if any. Call until it returns `None`.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Transmit<'_>> {
        if let Some(rst) = self.pending_rst.take() {
            self.stats.segs_out += 1;
            let remote = self.remote;
            if self.state == State::Listen {
                // A listener answers a stray ACK and forgets the peer.
                self.remote = crate::conn::UNSPECIFIED;
            }
            let (ack, flags) = match rst.ack {
                Some(a) => (a.0, TcpFlags::RST | TcpFlags::ACK),
                None => (0, TcpFlags::RST),
            };
            return Some(Transmit {
                local: self.local,
                remote,
                header: TcpHeader {
                    src_port: self.local.port(),
                    dst_port: remote.port(),
                    seq: rst.seq.0,
                    ack,
                    flags,
                    window: 0,
                    urgent: 0,
                    options: TcpOptions::default(),
                },
                payload: [&[], &[]],
                kind: SegmentKind::Rst,
            });
        }
        match self.state {
            State::Closed | State::Listen => None,
            State::SynSent | State::SynReceived => self.transmit_syn(now),
            _ => self.transmit_synchronized(now),
        }
    }

    /// The options of a segment in a synchronized state: timestamps on
    /// every one (RFC 7323 §3.2), SACK blocks while there is something to
    /// report (RFC 2018 §4).
    fn segment_options(&self, now: Instant) -> TcpOptions {
        let mut o = TcpOptions::with_layout(self.config.option_layout);
        if self.opts.ts {
            o.timestamps = Some((self.ts_now(now), self.rcv.ts_recent.unwrap_or(0)));
        }
        if self.opts.sack && self.rcv.ack.has_blocks() {
            self.push_sack_blocks(&mut o);
        }
        o
    }

    /// The SACK blocks the receiver has to report: as many as the option
    /// space holds, 4, or 3 beside timestamps (RFC 2018 §3).
    fn push_sack_blocks(&self, o: &mut TcpOptions) {
        let room = if self.opts.ts { 3 } else { 4 };
        for (l, r) in self.rcv.ack.blocks().take(room) {
            o.push_sack_block(SackBlock {
                left: l.0,
                right: r.0,
            });
        }
    }

    /// With `Config::fin_on_every_ack`: the sequence number of our FIN, to
    /// go out again on this ACK, while it is unacknowledged and nothing
    /// after it was sent (SND.NXT is just past it).
    fn fin_to_repeat(&self) -> Option<SeqNum> {
        let fin = self.snd.fin_seq()?;
        let repeat = self.config.fin_on_every_ack
            && self.snd.fin_sent()
            && !self.snd.fin_acked()
            && self.snd.nxt == fin + 1;
        repeat.then_some(fin)
    }

    /// The length [`Self::segment_options`] will take on the wire, without
    /// building them in the usual case: timestamps alone are 12 bytes in
    /// every layout (nothing at all without them); only SACK blocks need
    /// the options themselves.
    fn segment_options_len(&self, now: Instant) -> u32 {
        if self.opts.sack && self.rcv.ack.has_blocks() {
            return self.segment_options(now).encoded_len() as u32;
        }
        if self.opts.ts {
            12
        } else {
            0
        }
    }

    fn transmit_synchronized(&mut self, now: Instant) -> Option<Transmit<'_>> {
        // Room for payload: the MSS counts from a bare 20-byte header.
        let opt_len = self.segment_options_len(now);
        let max_payload = u32::from(self.snd.mss).saturating_sub(opt_len).max(1);
        let can_fin = matches!(
            self.state,
            State::FinWait1 | State::Closing | State::LastAck
        );
        let plan = if self.state == State::TimeWait {
            None
        } else {
            self.snd
                .next_segment(now, max_payload, can_fin, &mut self.timers)
        };
        // A tail loss probe is reported now, before anything that happens
        // after it (the ACK it brings back, a state change).
        self.flush_notes();
        let (seq, kind, mut flags, plan) = match plan {
            Some(p) => {
                // The segment carries the ACK a challenge asked for.
                self.challenge_pending = false;
                let mut flags = TcpFlags::ACK;
                if p.fin {
                    flags |= TcpFlags::FIN;
                }
                // PSH on the segment that ends what the application queued
                // (RFC 9293 §3.9.1), sent for the first time or again; a
                // retransmission from the middle of a write carries none.
                if p.len > 0 && p.seq + p.len == self.snd.data_end() {
                    flags |= TcpFlags::PSH;
                }
                (p.seq, SegmentKind::Data(p.kind), flags, Some(p))
            }
            None if self.rcv.ack.due() => {
                let kind = if std::mem::take(&mut self.challenge_pending) {
                    SegmentKind::ChallengeAck
                } else {
                    SegmentKind::Ack
                };
                // A challenge ACK is built on its own (BSD's tcp_respond)
                // and carries no FIN.
                match self.fin_to_repeat() {
                    Some(fin) if kind == SegmentKind::Ack => {
                        (fin, kind, TcpFlags::ACK | TcpFlags::FIN, None)
                    }
                    _ => (self.snd.nxt, kind, TcpFlags::ACK, None),
                }
            }
            None if self.keepalive_due => {
                // RFC 9293 §3.8.4 / Linux: SEG.SEQ = SND.NXT − 1 with no data
                // draws an ACK from a live peer.
                self.keepalive_due = false;
                (
                    self.snd.nxt - 1,
                    SegmentKind::Keepalive,
                    TcpFlags::ACK,
                    None,
                )
            }
            None => return None,
        };
        // RFC 9293 §3.8.5: URG and the pointer while SND.UP is ahead.
        let urgent = self.snd.urgent_field(seq);
        if urgent.is_some() {
            flags |= TcpFlags::URG;
        }
        // The options once the segment is decided (nothing on the receive
        // side has changed since their length was worked out), and before
        // the ACK policy hears the segment went (that forgets a D-SACK
        // block). Usually just the timestamps, built in place below: a
        // `TcpOptions` is 56 bytes, not worth copying on every segment.
        let timestamps = self
            .opts
            .ts
            .then(|| (self.ts_now(now), self.rcv.ts_recent.unwrap_or(0)));
        let with_sack =
            (self.opts.sack && self.rcv.ack.has_blocks()).then(|| self.segment_options(now));
        let window = self.rcv.window_field();
        if self.rcv.ack.on_sent() == AckTimer::Disarm {
            self.timers.clear(TimerKind::DelayedAck);
        }
        self.stats.segs_out += 1;
        let (a, b) = match plan {
            Some(Plan { seq, len, .. }) if len > 0 => self.snd.payload(seq, len),
            _ => (&[][..], &[][..]),
        };
        Some(Transmit {
            local: self.local,
            remote: self.remote,
            header: TcpHeader {
                src_port: self.local.port(),
                dst_port: self.remote.port(),
                seq: seq.0,
                ack: self.rcv.nxt.0,
                flags,
                window,
                urgent: urgent.unwrap_or(0),
                options: match with_sack {
                    Some(o) => o,
                    None => TcpOptions::with_timestamps(self.config.option_layout, timestamps),
                },
            },
            payload: [a, b],
            kind,
        })
    }
}
