//! What the renderers add to a trace so that a reader who has not yet met
//! a value on an arrow learns what it means, where it first appears, and
//! why TCP answered as it did where the answer is not obvious:
//!
//! - the first scaled window (a SYN's window never is, RFC 7323 §2.2);
//! - the first ACK of a SYN (a SYN consumes one sequence number);
//! - the first retransmitted SYN or SYN,ACK (its RTO, and the backoff);
//! - a new ISN where a 4-tuple is used again;
//! - a RST for a segment no listener takes ("no listener on :81 → RST");
//! - a RST for a SYN,ACK that acknowledges what this side never sent
//!   (RFC 9293 §3.5, Figure 8);
//! - a half-open connection that gives up, which is not its listener;
//! - each duplicate ACK the sender counts, numbered as it counts them.
//!
//! The first four are said once per run, the others wherever they happen.
//! Everything here is read from the trace, so a capture (`synack view`) is
//! explained the same way. The ladder, the JSON and the SVG all draw from
//! [`annotate`]: explanations are notes of their own kind
//! ([`NoteKind::Explanation`]), placed before the event they give the
//! reason for or after the one whose value they explain.

use crate::ladder::Numbering;
use crate::lang::{words, Text};
use crate::trace::{NoteKind, Owner, Trace, TraceEvent};
use std::collections::{HashMap, HashSet};
use synack_device::{Fate, Side};
use synack_tcp::{Duration, Instant, RecoveryEvent, State};
use synack_wire::TcpHeader;

/// A trace with its explanations in place, and what to mark on each event.
#[derive(Clone, Debug, Default)]
pub struct Annotated {
    /// The trace's events, with explanation notes inserted.
    pub events: Vec<TraceEvent>,
    /// One per event of `events`.
    pub marks: Vec<Mark>,
}

/// What the renderers mark on one event.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Mark {
    /// A duplicate ACK, the n-th in a row its receiver counts (RFC 5681
    /// §2: no data, the same ACK and window as before, data outstanding).
    pub dup_ack: Option<u32>,
    /// For an explanation note: the event (an index into `events`) it
    /// explains, if that is a segment.
    pub about: Option<usize>,
}

type Flow = (Side, u16, u16);

fn other(side: Side) -> Side {
    match side {
        Side::A => Side::B,
        Side::B => Side::A,
    }
}

/// `a` is after `b` in sequence space.
fn after(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

/// Where an explanation goes relative to the event it belongs to.
enum Place {
    /// The reason for the event: drawn before it.
    Before,
    /// What a value on it means: drawn after it.
    After,
}

/// Explanations `annotate` adds, in order, for one event.
type Said = Vec<(Place, Side, Text)>;

/// The trace with its explanations. `absolute`: name raw sequence numbers,
/// as the ladder shows them, rather than numbers relative to each ISN.
pub fn annotate(trace: &Trace, absolute: bool) -> Annotated {
    let dup_acks = dup_acks(trace);
    let mut x = Explainer {
        absolute,
        ..Explainer::default()
    };
    let mut out = Annotated::default();
    for (i, e) in trace.events.iter().enumerate() {
        let said = x.event(e);
        let at = e.at();
        let is_segment = matches!(e, TraceEvent::Segment { .. });
        let before = said.iter().filter(|s| matches!(s.0, Place::Before)).count();
        let own = out.events.len() + before;
        let about = is_segment.then_some(own);
        for (_, side, text) in said.iter().filter(|s| matches!(s.0, Place::Before)) {
            out.push_note(at, *side, text.clone(), about);
        }
        out.events.push(e.clone());
        out.marks.push(Mark {
            dup_ack: dup_acks.get(&i).copied(),
            about: None,
        });
        for (_, side, text) in said.into_iter().filter(|s| matches!(s.0, Place::After)) {
            out.push_note(at, side, text, about);
        }
    }
    out
}

impl Annotated {
    fn push_note(&mut self, at: Instant, side: Side, text: Text, about: Option<usize>) {
        self.events.push(TraceEvent::Note {
            at,
            side,
            text,
            kind: NoteKind::Explanation,
        });
        self.marks.push(Mark {
            dup_ack: None,
            about,
        });
    }
}

/// What has been said, and what must be remembered to say the rest.
#[derive(Default)]
struct Explainer {
    absolute: bool,
    n: Numbering,
    said_scaled: bool,
    said_syn_one: bool,
    said_syn_rto: bool,
    said_new_isn: bool,
    /// The window each direction's SYN carried.
    syn_window: HashMap<Flow, u16>,
    /// When each direction last sent its SYN.
    syn_sent: HashMap<Flow, Instant>,
    /// The 4-tuples (as the client's port, the server's port) whose
    /// connection saw a FIN or a RST: the next SYN on them is a new one.
    ended: HashSet<(u16, u16)>,
    /// The last segment without ACK each direction sent (a SYN, a bare
    /// FIN): the end of its sequence space.
    last_unacked: HashMap<Flow, u32>,
    /// The acknowledgement number of the last SYN,ACK each direction sent.
    last_syn_ack: HashMap<Flow, u32>,
}

impl Explainer {
    fn number(&self, v: u32, base: Option<u32>) -> String {
        match base {
            Some(b) if !self.absolute => (v.wrapping_sub(b) as i32).to_string(),
            _ => v.to_string(),
        }
    }

    fn event(&mut self, e: &TraceEvent) -> Said {
        match e {
            TraceEvent::Segment {
                at,
                from,
                seg,
                len,
                injected,
                ..
            } => self.segment(*at, *from, seg, *len, injected.is_some()),
            TraceEvent::State {
                side,
                transition,
                owner: Owner::HalfOpen { remote, .. },
                ..
            } if transition.to == State::Closed => vec![(
                Place::After,
                *side,
                words::explain_half_open_gave_up(*remote),
            )],
            _ => Vec::new(),
        }
    }

    fn segment(
        &mut self,
        at: Instant,
        from: Side,
        s: &TcpHeader,
        len: usize,
        injected: bool,
    ) -> Said {
        let mut said = Vec::new();
        let flow = (from, s.src_port, s.dst_port);
        let reverse = (other(from), s.dst_port, s.src_port);
        let tuple = match from {
            Side::A => (s.src_port, s.dst_port),
            Side::B => (s.dst_port, s.src_port),
        };
        // Before the numbering moves on: is this SYN a new incarnation?
        let old_isn = self.n.base(from, s);
        if s.flags.syn() && !injected {
            if let Some(old) = old_isn.filter(|&old| old != s.seq) {
                if !self.said_new_isn && self.ended.contains(&tuple) {
                    self.said_new_isn = true;
                    said.push((Place::After, from, words::explain_new_isn(s.seq, old)));
                }
                self.ended.remove(&tuple);
            }
        }
        let retx = self.n.observe(from, s, len, injected);
        if injected {
            // Made by the scenario, not by TCP: nothing to explain, but a
            // RST may answer it.
            if !s.flags.ack() && !s.flags.rst() {
                self.last_unacked
                    .insert(flow, s.seq.wrapping_add(s.seq_space(len) as u32));
            }
            return said;
        }

        // A RST's reason, drawn before it.
        if s.flags.rst() {
            if s.flags.ack() && s.seq == 0 {
                // RFC 9293 §3.10.7.1: no connection at all answers a
                // segment without ACK with <SEQ=0><ACK=SEG.SEQ+SEG.LEN>.
                if self.last_unacked.get(&reverse) == Some(&s.ack) {
                    said.push((Place::Before, from, words::explain_no_listener(s.src_port)));
                }
            } else if !s.flags.ack() && self.last_syn_ack.get(&reverse) == Some(&s.seq) {
                // RFC 9293 §3.10.7.3: in SYN-SENT, an ACK of something
                // never sent gets <SEQ=SEG.ACK><CTL=RST>.
                if let Some(iss) = self.n.base(from, s).filter(|&b| b.wrapping_add(1) != s.seq) {
                    said.push((
                        Place::Before,
                        from,
                        words::explain_bogus_syn_ack(
                            &self.number(s.seq, Some(iss)),
                            &self.number(iss, Some(iss)),
                            &self.number(iss.wrapping_add(1), Some(iss)),
                        ),
                    ));
                }
            }
            self.ended.insert(tuple);
        }
        if s.flags.fin() {
            self.ended.insert(tuple);
        }

        // Values on the arrow, explained after it, once per run.
        if s.flags.syn() {
            self.syn_window.insert(flow, s.window);
            if retx && !self.said_syn_rto {
                if let Some(&before) = self.syn_sent.get(&flow) {
                    self.said_syn_rto = true;
                    let rto = at.saturating_since(before);
                    said.push((
                        Place::After,
                        from,
                        words::explain_syn_rto(&s.flags.to_string(), rto),
                    ));
                }
            }
            self.syn_sent.insert(flow, at);
        }
        if s.flags.ack() && !s.flags.rst() && !self.said_syn_one {
            let peer_isn = self.n.base(other(from), &reversed(s));
            if let Some(isn) = peer_isn.filter(|&b| b.wrapping_add(1) == s.ack) {
                self.said_syn_one = true;
                said.push((
                    Place::After,
                    from,
                    words::explain_syn_takes_one(
                        other(from),
                        &self.number(s.ack, Some(isn)),
                        &self.number(isn, Some(isn)),
                    ),
                ));
            }
        }
        if !s.flags.syn() && !self.said_scaled {
            if let Some(shift) = self.n.shift(from, s).filter(|&sh| sh > 0) {
                self.said_scaled = true;
                said.push((
                    Place::After,
                    from,
                    words::explain_scaled_window(
                        self.n.window(from, s),
                        s.window,
                        shift,
                        self.syn_window.get(&flow).copied(),
                    ),
                ));
            }
        }

        // What a RST may answer later.
        if s.flags.syn() && s.flags.ack() {
            self.last_syn_ack.insert(flow, s.ack);
        }
        if !s.flags.ack() && !s.flags.rst() {
            self.last_unacked
                .insert(flow, s.seq.wrapping_add(s.seq_space(len) as u32));
        }
        said
    }
}

/// The header as its receiver names the flow: ports swapped.
fn reversed(s: &TcpHeader) -> TcpHeader {
    let mut r = *s;
    std::mem::swap(&mut r.src_port, &mut r.dst_port);
    r
}

/// What a sender knows about the ACKs coming back to it.
#[derive(Default)]
struct AckState {
    /// The highest ACK that reached it (SND.UNA as it sees it).
    una: Option<u32>,
    /// The window of the last ACK that reached it, as on the wire.
    window: Option<u16>,
    /// Duplicates in a row.
    count: u32,
    /// The end of what it has sent (SND.MAX).
    high: Option<u32>,
}

/// The duplicate ACKs each sender counts, by the index of the segment in
/// the trace: RFC 5681 §2's definition, as synack's sender applies it,
/// taken in the order the ACKs arrive (a lost or corrupted ACK is never
/// counted), the count reset by an ACK that advances and by a
/// retransmission timeout.
fn dup_acks(trace: &Trace) -> HashMap<usize, u32> {
    // (time, order at that time, event index): arrivals first, then
    // timeouts, then what is sent at that moment (in answer to them).
    let mut timeline: Vec<(Instant, u8, usize)> = Vec::new();
    for (i, e) in trace.events.iter().enumerate() {
        match e {
            TraceEvent::Segment { at, outcome, .. } => {
                timeline.push((*at, 2, i));
                if let (Some(a), Fate::Queued, false) =
                    (outcome.arrival, outcome.fate, outcome.corrupted)
                {
                    timeline.push((a, 0, i));
                }
            }
            TraceEvent::Recovery {
                at,
                event: RecoveryEvent::Timeout { .. },
                ..
            } => timeline.push((*at, 1, i)),
            _ => {}
        }
    }
    timeline.sort();
    // Per sender: (side, its port, the peer's port).
    let mut senders: HashMap<Flow, AckState> = HashMap::new();
    let mut out = HashMap::new();
    for (_, kind, i) in timeline {
        match (&trace.events[i], kind) {
            (
                TraceEvent::Segment {
                    from,
                    seg,
                    len,
                    injected: None,
                    ..
                },
                2,
            ) => {
                let st = senders
                    .entry((*from, seg.src_port, seg.dst_port))
                    .or_default();
                if seg.flags.syn() {
                    *st = AckState::default();
                }
                if !seg.flags.rst() {
                    let end = seg.seq.wrapping_add(seg.seq_space(*len) as u32);
                    if st.high.is_none_or(|h| after(end, h)) {
                        st.high = Some(end);
                    }
                }
            }
            (
                TraceEvent::Segment {
                    from,
                    seg,
                    len,
                    injected: None,
                    ..
                },
                0,
            ) if seg.flags.ack() && !seg.flags.rst() => {
                let st = senders
                    .entry((other(*from), seg.dst_port, seg.src_port))
                    .or_default();
                let pure = *len == 0 && !seg.flags.syn() && !seg.flags.fin();
                match st.una {
                    Some(una) if !after(seg.ack, una) => {
                        let outstanding = st.high.is_some_and(|h| after(h, seg.ack));
                        if pure
                            && seg.ack == una
                            && outstanding
                            && st.window == Some(seg.window)
                            && seg.window > 0
                        {
                            st.count += 1;
                            out.insert(i, st.count);
                        }
                        if seg.ack == una {
                            st.window = Some(seg.window);
                        }
                    }
                    _ => {
                        st.una = Some(seg.ack);
                        st.window = Some(seg.window);
                        st.count = 0;
                    }
                }
            }
            (TraceEvent::Recovery { side, .. }, 1) => {
                for (flow, st) in senders.iter_mut() {
                    if flow.0 == *side {
                        st.count = 0;
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// A duration as the explanations say it: `200 ms`, `1 s`, `1.5 s`.
pub fn duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}
