//! A scenario that did not complete: why (the world stopped, or one of its
//! checks did not hold), and what happened in TCP terms, read from the
//! trace rather than told by the scenario, so that any scenario under any
//! loss says it the same way.

use crate::ladder::Numbering;
use crate::lang::{failure, Lang, Text};
use crate::trace::{Trace, TraceEvent};
use crate::world::WorldError;
use std::fmt;
use synack_device::{Fate, Side};
use synack_tcp::{Cause, Instant, State};

/// Why a scenario did not show what it set out to show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The world stopped before the scenario's next step could happen:
    /// nothing was left to happen, or it did not settle in its step bound.
    World(WorldError),
    /// One of the scenario's checks did not hold, in plain words.
    Check(Text),
}

impl Failure {
    /// What failed, in every language.
    pub fn text(&self) -> Text {
        match self {
            Failure::World(e) => {
                failure::world_stopped(e.seed, &e.at.to_string(), e.idle(), &e.what)
            }
            Failure::Check(t) => t.clone(),
        }
    }

    /// The world went idle while the scenario still waited: what happened
    /// on the wire says more than that.
    pub fn is_idle(&self) -> bool {
        matches!(self, Failure::World(e) if e.idle())
    }
}

/// In English (tests, logs); [`Failure::text`] has every language.
impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text().get(Lang::En))
    }
}

impl From<WorldError> for Failure {
    fn from(e: WorldError) -> Failure {
        Failure::World(e)
    }
}

impl From<Text> for Failure {
    fn from(t: Text) -> Failure {
        Failure::Check(t)
    }
}

/// A check's message kept in English only.
impl From<String> for Failure {
    fn from(s: String) -> Failure {
        Failure::Check(Text::same(s))
    }
}

impl From<&'static str> for Failure {
    fn from(s: &'static str) -> Failure {
        Failure::Check(Text::same(s))
    }
}

/// One segment that occupies sequence space (SYN, FIN, data), and every
/// copy of it that was sent.
struct Sent {
    flow: (Side, u16, u16),
    what: failure::Segment,
    start: u32,
    end: u32,
    copies: usize,
    last: Instant,
    acked: bool,
}

/// Whether `a` is at or after `b` in sequence space.
fn at_or_after(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) >= 0
}

/// What happened in TCP terms, in one sentence, for a run that failed
/// with `failure`; `None` when the trace shows nothing that went wrong on
/// the wire (the failure's own words then say it). In order:
/// - a segment retransmitted and never acknowledged (the one sent most,
///   the later on a tie), and how its connection ended;
/// - RSTs that were all lost, leaving the peer's connection open;
/// - for a run that merely stopped, a connection that gave up (a retry
///   or probe limit) or was reset.
pub fn headline(trace: &Trace, failure: &Failure) -> Option<Text> {
    unacknowledged(trace)
        .or_else(|| rst_lost(trace))
        .or_else(|| failure.is_idle().then(|| gave_up(trace)).flatten())
}

/// Every RST one side sent was lost, and the other side's connection is
/// not closed at the end.
fn rst_lost(trace: &Trace) -> Option<Text> {
    [Side::A, Side::B].into_iter().find_map(|side| {
        let mut rsts = trace
            .segments(side)
            .filter(|p| p.seg.flags.rst())
            .peekable();
        rsts.peek()?;
        if rsts.any(|p| p.outcome.fate == Fate::Queued) {
            return None;
        }
        let other = *trace.states(side.other()).last()?;
        (other != State::Closed && other != State::Listen).then(|| failure::rst_lost(side, other))
    })
}

/// The first connection that gave up (a retry or probe limit) or was
/// reset.
fn gave_up(trace: &Trace) -> Option<Text> {
    trace.events.iter().find_map(|e| match e {
        TraceEvent::State {
            side, transition, ..
        } if transition.to == State::Closed
            && matches!(
                transition.cause,
                Cause::RetransmitLimit
                    | Cause::KeepaliveLimit
                    | Cause::PersistLimit
                    | Cause::SetupTimeout
                    | Cause::FinWait2Timeout
                    | Cause::RecvRst
            ) =>
        {
            Some(failure::closed_by(*side, *transition))
        }
        _ => None,
    })
}

/// The segment that was retransmitted most (the later one on a tie) and
/// that no ACK reaching its sender ever covered, and how its sender's
/// connection ended.
fn unacknowledged(trace: &Trace) -> Option<Text> {
    let mut numbers = Numbering::default();
    let mut sent: Vec<Sent> = Vec::new();
    for e in &trace.events {
        let TraceEvent::Segment {
            at,
            from,
            seg,
            len,
            outcome,
            injected,
            ..
        } = e
        else {
            continue;
        };
        // The ladder's own test for "retransmission".
        let retx = numbers.observe(*from, seg, *len, injected.is_some());
        if injected.is_some() {
            continue;
        }
        let reached = outcome.fate == Fate::Queued && (!outcome.corrupted || outcome.duplicated);
        if seg.flags.ack() && !seg.flags.rst() && reached {
            let theirs = (from.other(), seg.dst_port, seg.src_port);
            for s in sent.iter_mut().filter(|s| s.flow == theirs) {
                if at_or_after(seg.ack, s.end) {
                    s.acked = true;
                }
            }
        }
        let space = seg.seq_space(*len) as u32;
        if space == 0 || seg.flags.rst() {
            continue;
        }
        let flow = (*from, seg.src_port, seg.dst_port);
        let end = seg.seq.wrapping_add(space);
        let earlier = retx
            .then(|| {
                sent.iter_mut().rev().find(|s| {
                    s.flow == flow && at_or_after(seg.seq, s.start) && !at_or_after(seg.seq, s.end)
                })
            })
            .flatten();
        match earlier {
            Some(s) => {
                s.copies += 1;
                s.last = *at;
            }
            None => sent.push(Sent {
                flow,
                what: match (seg.flags.syn(), seg.flags.ack(), *len) {
                    (true, false, _) => failure::Segment::Syn,
                    (true, true, _) => failure::Segment::SynAck,
                    (false, _, 0) => failure::Segment::Fin,
                    (false, _, len) => failure::Segment::Data {
                        seq: numbers.rel_seq(*from, seg, false),
                        len,
                    },
                },
                start: seg.seq,
                end,
                copies: 1,
                last: *at,
                acked: false,
            }),
        }
    }
    let worst = sent
        .iter()
        .filter(|s| s.copies > 1 && !s.acked)
        .max_by_key(|s| (s.copies, s.last))?;
    let side = worst.flow.0;
    // How that connection ended: the first close after the last copy, on
    // that side, from a state that sends such a segment (a side may hold
    // other connections; a trace's state changes do not name theirs).
    let sends_it = |from: State| match worst.what {
        failure::Segment::Syn => matches!(from, State::SynSent | State::SynReceived),
        failure::Segment::SynAck => from == State::SynReceived,
        failure::Segment::Fin => {
            matches!(from, State::FinWait1 | State::Closing | State::LastAck)
        }
        failure::Segment::Data { .. } => matches!(
            from,
            State::SynReceived
                | State::Established
                | State::CloseWait
                | State::FinWait1
                | State::Closing
                | State::LastAck
        ),
    };
    let end = trace.events.iter().find_map(|e| match e {
        TraceEvent::State {
            at,
            side: s,
            transition,
            ..
        } if *s == side
            && *at >= worst.last
            && transition.to == State::Closed
            && sends_it(transition.from) =>
        {
            Some(*transition)
        }
        _ => None,
    });
    Some(failure::never_acknowledged(
        side,
        &worst.what,
        worst.copies - 1,
        end,
    ))
}
