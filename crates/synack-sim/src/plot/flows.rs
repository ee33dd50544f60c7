//! A trace read as transfers: for each direction of each connection, the
//! data segments it sent, the ACKs, windows and SACK blocks it received,
//! its sender's congestion state and its loss-recovery events. The plots
//! draw these; nothing here draws.
//!
//! Times are the sender's: a segment counts when it was sent, an ACK when
//! it reached the sender (a lost ACK never did). In a capture both are the
//! moment the segment was captured.

use crate::ladder::Numbering;
use crate::trace::{SenderState, Trace, TraceEvent};
use std::collections::HashMap;
use synack_device::{Fate, Side};
use synack_tcp::{Instant, RecoveryEvent};

/// Sequence numbers of one direction as offsets from its base (the ISN, or
/// the first number seen), unwrapped past 2^32: each number is taken as the
/// offset nearest the previous one.
#[derive(Copy, Clone, Debug)]
pub(crate) struct Unwrap {
    base: u32,
    last: i64,
}

impl Unwrap {
    pub(crate) fn new(base: u32) -> Unwrap {
        Unwrap { base, last: 0 }
    }

    pub(crate) fn offset(&mut self, seq: u32) -> i64 {
        let last_raw = self.base.wrapping_add(self.last as u32);
        self.last += i64::from(seq.wrapping_sub(last_raw) as i32);
        self.last
    }
}

/// A data segment: bytes `[start, end)` relative to the base.
#[derive(Copy, Clone, Debug, PartialEq)]
pub(crate) struct Bar {
    pub at: Instant,
    pub start: i64,
    pub end: i64,
    /// It re-sent sequence space (as the ladder marks it).
    pub retx: bool,
    /// The link lost it (known in a simulation only).
    pub lost: bool,
}

/// An ACK the sender received: the cumulative ACK and the right edge of
/// the window it offered (ACK + window in bytes).
#[derive(Copy, Clone, Debug, PartialEq)]
pub(crate) struct Ack {
    pub at: Instant,
    pub ack: i64,
    pub right: i64,
}

/// A SACK block the sender received: `[left, right)`.
#[derive(Copy, Clone, Debug, PartialEq)]
pub(crate) struct Sack {
    pub at: Instant,
    pub left: i64,
    pub right: i64,
}

/// The congestion state after a recovery event.
#[derive(Copy, Clone, Debug)]
pub(crate) struct Recovery {
    pub at: Instant,
    pub event: RecoveryEvent,
    pub cwnd: u32,
    pub ssthresh: u32,
}

/// One direction of one connection.
#[derive(Clone, Debug)]
pub(crate) struct Flow {
    pub from: Side,
    pub src_port: u16,
    pub dst_port: u16,
    /// The base is the ISN (the capture or trace saw the SYN); otherwise
    /// it is the first sequence number seen.
    pub isn_known: bool,
    /// When the connection's first segment was sent.
    pub conn_start: Instant,
    pub bars: Vec<Bar>,
    pub acks: Vec<Ack>,
    pub sacks: Vec<Sack>,
    /// The sender's state after each segment it sent (none in a capture).
    pub sender: Vec<(Instant, SenderState)>,
    pub recovery: Vec<Recovery>,
    seq: Unwrap,
    ack: Unwrap,
}

impl Flow {
    fn new(from: Side, src_port: u16, dst_port: u16, base: Option<u32>, fallback: u32) -> Flow {
        let b = base.unwrap_or(fallback);
        Flow {
            from,
            src_port,
            dst_port,
            isn_known: base.is_some(),
            conn_start: Instant::ZERO,
            bars: Vec::new(),
            acks: Vec::new(),
            sacks: Vec::new(),
            sender: Vec::new(),
            recovery: Vec::new(),
            seq: Unwrap::new(b),
            ack: Unwrap::new(b),
        }
    }

    /// The highest byte sent, relative to the base.
    pub(crate) fn high(&self) -> i64 {
        self.bars.iter().map(|b| b.end).max().unwrap_or(0)
    }
}

/// A connection: the ISN of each direction once seen, and its flows.
struct Conn {
    start: Instant,
    isn: [Option<u32>; 2],
    flows: [Option<usize>; 2],
}

fn index(side: Side) -> usize {
    match side {
        Side::A => 0,
        Side::B => 1,
    }
}

fn other(side: Side) -> Side {
    match side {
        Side::A => Side::B,
        Side::B => Side::A,
    }
}

/// Every direction of every connection in `trace` that carried data, in
/// order of first appearance. Segments a scenario injected are not any
/// host's transfer and are left out.
pub(crate) fn read(trace: &Trace) -> Vec<Flow> {
    let mut events: Vec<&TraceEvent> = trace.events.iter().collect();
    events.sort_by_key(|e| e.at());
    let mut numbering = Numbering::default();
    let mut flows: Vec<Flow> = Vec::new();
    let mut conns: Vec<Conn> = Vec::new();
    // (client port, server port) → the connection on them now.
    let mut current: HashMap<(u16, u16), usize> = HashMap::new();
    let mut recoveries: Vec<(Side, Recovery)> = Vec::new();
    for e in events {
        let (at, from, seg, len, outcome, injected, sender) = match e {
            TraceEvent::Segment {
                at,
                from,
                seg,
                len,
                outcome,
                injected,
                sender,
            } => (*at, *from, seg, *len, outcome, injected, sender),
            TraceEvent::Recovery {
                at,
                side,
                event,
                cwnd,
                ssthresh,
                ..
            } => {
                recoveries.push((
                    *side,
                    Recovery {
                        at: *at,
                        event: *event,
                        cwnd: *cwnd,
                        ssthresh: *ssthresh,
                    },
                ));
                continue;
            }
            _ => continue,
        };
        let retx = numbering.observe(from, seg, len, injected.is_some());
        if injected.is_some() || seg.flags.rst() {
            continue;
        }
        let d = index(from);
        let key = match from {
            Side::A => (seg.src_port, seg.dst_port),
            Side::B => (seg.dst_port, seg.src_port),
        };
        // A SYN with another ISN on the same ports is the next incarnation.
        let ci = match current.get(&key) {
            Some(&i) if !(seg.flags.syn() && conns[i].isn[d].is_some_and(|n| n != seg.seq)) => i,
            _ => {
                conns.push(Conn {
                    start: at,
                    isn: [None, None],
                    flows: [None, None],
                });
                current.insert(key, conns.len() - 1);
                conns.len() - 1
            }
        };
        if seg.flags.syn() && conns[ci].isn[d].is_none() {
            conns[ci].isn[d] = Some(seg.seq);
        }
        let mut flow_of = |side: Side, fallback: u32, ports: (u16, u16)| {
            let c = &mut conns[ci];
            let k = index(side);
            *c.flows[k].get_or_insert_with(|| {
                let mut f = Flow::new(side, ports.0, ports.1, c.isn[k], fallback);
                f.conn_start = c.start;
                flows.push(f);
                flows.len() - 1
            })
        };
        let fi = flow_of(from, seg.seq, (seg.src_port, seg.dst_port));
        let fe = seg
            .flags
            .ack()
            .then(|| flow_of(other(from), seg.ack, (seg.dst_port, seg.src_port)));
        let f = &mut flows[fi];
        if len > 0 {
            // Data on a SYN starts after the SYN's sequence number.
            let start = f.seq.offset(seg.seq) + i64::from(seg.flags.syn());
            f.bars.push(Bar {
                at,
                start,
                end: start + len as i64,
                retx,
                lost: outcome.fate != Fate::Queued,
            });
        }
        if let (Some(s), false) = (sender, seg.flags.syn()) {
            // A SYN's state is from before the handshake settled the MSS.
            f.sender.push((at, *s));
        }
        // The ACK counts for the other direction when it reaches it.
        let arrived = match outcome.arrival {
            Some(a) if outcome.fate == Fate::Queued && !outcome.corrupted => Some(a),
            _ => None,
        };
        if let (Some(fe), Some(arrival)) = (fe, arrived) {
            let window = i64::from(numbering.window(from, seg));
            let f = &mut flows[fe];
            let ack = f.ack.offset(seg.ack);
            f.acks.push(Ack {
                at: arrival,
                ack,
                right: ack + window,
            });
            for b in seg.options.sack_blocks() {
                let left = f.ack.offset(b.left);
                let right = f.ack.offset(b.right);
                f.sacks.push(Sack {
                    at: arrival,
                    left,
                    right,
                });
            }
        }
    }
    // A side's recovery events belong to the transfer it was making: the
    // data-carrying flow of that side on the latest connection opened by
    // then.
    for (side, r) in recoveries {
        let owner = flows
            .iter_mut()
            .filter(|f| f.from == side && !f.bars.is_empty() && f.conn_start <= r.at)
            .max_by_key(|f| f.conn_start);
        if let Some(f) = owner {
            f.recovery.push(r);
        }
    }
    flows.retain(|f| !f.bars.is_empty());
    for f in &mut flows {
        f.acks.sort_by_key(|a| a.at);
        f.sacks.sort_by_key(|s| s.at);
    }
    flows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_unwrap_across_two_to_the_thirty_two() {
        let mut u = Unwrap::new(u32::MAX - 100);
        assert_eq!(u.offset(u32::MAX - 100), 0);
        assert_eq!(u.offset(u32::MAX), 100);
        assert_eq!(u.offset(10), 111, "past 2^32 the offset keeps growing");
        assert_eq!(u.offset(u32::MAX - 50), 50, "an old number is behind");
        let mut u = Unwrap::new(5);
        let mut seq = 5u32;
        let mut total = 0i64;
        for _ in 0..5 {
            seq = seq.wrapping_add(1 << 30);
            total += 1 << 30;
            assert_eq!(u.offset(seq), total);
        }
    }
}
