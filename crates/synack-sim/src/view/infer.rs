//! Each side's TCP state, inferred from the segments it sends and
//! receives (RFC 9293, Figure 5).

use super::*;
use crate::lang::words;
use crate::trace::{NoteKind, Owner, Trace, TraceEvent};
use std::net::SocketAddr;
use synack_device::{Fate, SendOutcome, Side};
use synack_tcp::{Cause, Instant, State, Transition};
use synack_wire::TcpHeader;

/// `a` is at or after `b` in sequence space.
pub(super) fn seq_ge(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) >= 0
}

/// Each side's state machine, driven by what it sends and receives.
pub(super) struct StateInference {
    pub(super) state: [State; 2],
    /// Each side's initial sequence number, once seen.
    pub(super) iss: [Option<u32>; 2],
    /// The sequence number of each side's FIN, once sent.
    pub(super) fin: [Option<u32>; 2],
    /// A side whose FIN crossed the peer's: it takes the peer's FIN right
    /// after sending its own.
    pub(super) crossed: Option<Side>,
    /// The client's address and the server's.
    pub(super) ends: [SocketAddr; 2],
    pub(super) events: Vec<TraceEvent>,
}

impl StateInference {
    fn set(&mut self, at: Instant, side: Side, to: State, cause: Cause) {
        let from = self.state[index(side)];
        if from == to {
            return;
        }
        self.state[index(side)] = to;
        let owner = Owner::Connection {
            local: self.ends[index(side)],
            remote: self.ends[index(other(side))],
        };
        self.events.push(TraceEvent::State {
            at,
            side,
            transition: Transition {
                at,
                from,
                to,
                cause,
            },
            owner,
        });
    }

    fn state(&self, side: Side) -> State {
        self.state[index(side)]
    }

    /// Whether `ack` acknowledges `side`'s SYN (true when its ISN is not
    /// known).
    fn acks_syn(&self, side: Side, ack: u32) -> bool {
        self.iss[index(side)].is_none_or(|iss| seq_ge(ack, iss.wrapping_add(1)))
    }

    /// Whether `ack` acknowledges `side`'s FIN.
    fn acks_fin(&self, side: Side, ack: u32) -> bool {
        self.fin[index(side)].is_some_and(|fin| seq_ge(ack, fin.wrapping_add(1)))
    }

    /// What sending `h` does to `side` (RFC 9293 §3.10: the application's
    /// calls are what send a SYN, a FIN or a RST).
    fn send(&mut self, at: Instant, side: Side, h: &TcpHeader, len: usize) {
        let f = h.flags;
        if f.rst() {
            if !matches!(self.state(side), State::Closed | State::Listen) {
                self.set(at, side, State::Closed, Cause::AppAbort);
            }
            return;
        }
        if f.syn() {
            self.iss[index(side)] = Some(h.seq);
            if !f.ack() && self.state(side) == State::Closed {
                self.set(at, side, State::SynSent, Cause::AppConnect);
            }
        }
        if f.fin() {
            let fin = h
                .seq
                .wrapping_add(len as u32)
                .wrapping_add(u32::from(f.syn()));
            self.fin[index(side)] = Some(fin);
            match self.state(side) {
                State::Established | State::SynReceived => {
                    self.set(at, side, State::FinWait1, Cause::AppClose)
                }
                // A FIN that does not acknowledge the peer's was sent
                // before the peer's arrived: they crossed on the way, and
                // the capture saw the peer's first (simultaneous close).
                State::CloseWait
                    if f.ack()
                        && !self.acks_fin(other(side), h.ack)
                        && self.unreceive_fin(side) =>
                {
                    self.set(at, side, State::FinWait1, Cause::AppClose);
                    self.crossed = Some(side);
                }
                State::CloseWait => self.set(at, side, State::LastAck, Cause::AppClose),
                _ => {}
            }
        }
    }

    /// Takes back `side`'s last change if it was taking a FIN into
    /// CLOSE-WAIT; whether it was.
    fn unreceive_fin(&mut self, side: Side) -> bool {
        let last = self
            .events
            .iter()
            .rposition(|e| matches!(e, TraceEvent::State { side: s, .. } if *s == side));
        let Some(i) = last else {
            return false;
        };
        match &self.events[i] {
            TraceEvent::State { transition, .. }
                if transition.to == State::CloseWait && transition.cause == Cause::RecvFin =>
            {
                self.state[index(side)] = transition.from;
                self.events.remove(i);
                true
            }
            _ => false,
        }
    }

    /// After a segment: the peer's FIN reaches a side whose own FIN
    /// crossed it.
    fn settle(&mut self, at: Instant) {
        if let Some(side) = self.crossed.take() {
            self.set(at, side, State::Closing, Cause::RecvFin);
        }
    }

    /// What receiving `h` does to `side` (RFC 9293 §3.10.7).
    fn receive(&mut self, at: Instant, side: Side, h: &TcpHeader) {
        let f = h.flags;
        let state = self.state(side);
        if f.rst() {
            let acceptable = match state {
                State::Closed | State::Listen => false,
                // In SYN-SENT only a RST that acknowledges the SYN counts.
                State::SynSent => f.ack() && self.acks_syn(side, h.ack),
                _ => true,
            };
            if acceptable {
                self.set(at, side, State::Closed, Cause::RecvRst);
            }
            return;
        }
        if f.syn() && !f.ack() {
            if matches!(state, State::Listen | State::SynSent) {
                self.set(at, side, State::SynReceived, Cause::RecvSyn);
            }
        } else if f.syn() {
            if matches!(state, State::SynSent | State::SynReceived) && self.acks_syn(side, h.ack) {
                self.set(at, side, State::Established, Cause::RecvSynAck);
            }
        } else if f.ack() {
            let acks_fin = self.acks_fin(side, h.ack);
            match state {
                State::SynReceived if self.acks_syn(side, h.ack) => {
                    self.set(at, side, State::Established, Cause::RecvAck)
                }
                // A FIN that also acknowledges ours is taken below.
                State::FinWait1 if acks_fin && !f.fin() => {
                    self.set(at, side, State::FinWait2, Cause::RecvAck)
                }
                State::Closing if acks_fin => self.set(at, side, State::TimeWait, Cause::RecvAck),
                State::LastAck if acks_fin => self.set(at, side, State::Closed, Cause::RecvAck),
                _ => {}
            }
        }
        if f.fin() {
            match self.state(side) {
                State::Established | State::SynReceived => {
                    self.set(at, side, State::CloseWait, Cause::RecvFin)
                }
                State::FinWait1 if f.ack() && self.acks_fin(side, h.ack) => {
                    self.set(at, side, State::TimeWait, Cause::RecvFinAck)
                }
                State::FinWait1 => self.set(at, side, State::Closing, Cause::RecvFin),
                State::FinWait2 => self.set(at, side, State::TimeWait, Cause::RecvFin),
                _ => {}
            }
        }
    }
}

/// The trace of one connection's segments, `client` as side A, and each
/// side's state before the first segment.
pub(super) fn infer(segs: &[Seg], client: SocketAddr) -> (Trace, [State; 2]) {
    let side_of = |s: &Seg| if s.src == client { Side::A } else { Side::B };
    let first = segs.first();
    let start_ns = first.map_or(0, |s| s.at_ns);
    let server = first.map_or(client, |s| if s.src == client { s.dst } else { s.src });
    let mut m = StateInference {
        state: [State::Closed; 2],
        iss: [None; 2],
        fin: [None; 2],
        crossed: None,
        ends: [client, server],
        events: Vec::new(),
    };
    let how = match first.map(|s| (side_of(s), s.header.flags)) {
        Some((_, f)) if f.syn() && !f.ack() => {
            // The server listened if its first segment answers the SYN.
            let answers = segs
                .iter()
                .find(|s| side_of(s) == Side::B)
                .is_some_and(|s| s.header.flags.syn() && s.header.flags.ack());
            if answers {
                m.state[1] = State::Listen;
            }
            None
        }
        Some((from, f)) if f.syn() => {
            m.state[index(from)] = State::SynReceived;
            m.state[index(other(from))] = State::SynSent;
            Some(words::capture_starts_after_syn())
        }
        _ => {
            m.state = [State::Established; 2];
            Some(words::capture_starts_mid_connection())
        }
    };
    if let (Some(s), Some(_)) = (first, &how) {
        // What a SYN-ACK tells of both ISNs.
        if s.header.flags.syn() {
            m.iss[index(side_of(s))] = Some(s.header.seq);
            m.iss[index(other(side_of(s)))] = Some(s.header.ack.wrapping_sub(1));
        }
    }
    let initial = m.state;
    for side in [Side::A, Side::B] {
        m.events.push(TraceEvent::Note {
            at: Instant::ZERO,
            side,
            text: words::states_inferred(how.as_ref()),
            kind: NoteKind::Explanation,
        });
    }
    let mut last_us = 0;
    for s in segs {
        // Times from the connection's first packet, never going back (a
        // clock stepped back keeps the packets' order).
        let us = ((s.at_ns.saturating_sub(start_ns)) / 1000).min(u128::from(u64::MAX)) as u64;
        last_us = last_us.max(us);
        let at = Instant::from_micros(last_us);
        let from = side_of(s);
        m.send(at, from, &s.header, s.len);
        m.events.push(TraceEvent::Segment {
            at,
            from,
            seg: s.header,
            len: s.len,
            outcome: SendOutcome {
                fate: Fate::Queued,
                duplicated: false,
                corrupted: false,
                reordered: false,
                arrival: Some(at),
            },
            injected: None,
            sender: None,
        });
        m.receive(at, other(from), &s.header);
        m.settle(at);
    }
    (Trace { events: m.events }, initial)
}
