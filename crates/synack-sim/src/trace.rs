//! What happened during a simulated run, in order: segments put on the
//! link (and their fate), state changes on either side, and notes about
//! application calls. The ladder diagram and the JSON output read this.

use crate::lang::{Lang, Text};
use std::fmt::Write as _;
use synack_device::{Fate, SendOutcome, Side};
use synack_tcp::{Instant, RecoveryEvent, Transition};
use synack_wire::{IpRepr, TcpHeader};

/// The header of an IP packet carrying TCP and the length of its payload;
/// `None` for anything else.
pub fn tcp_header_of(packet: &[u8]) -> Option<(TcpHeader, usize)> {
    let (ip, payload) = IpRepr::parse(packet).ok()?;
    let (header, data) = TcpHeader::parse(payload, ip.src(), ip.dst(), false).ok()?;
    Some((header, data.len()))
}

/// The sending connection's congestion state right after it sent a segment.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct SenderState {
    pub cwnd: u32,
    pub ssthresh: u32,
    /// RFC 6675 pipe: bytes believed in the network.
    pub in_flight: u32,
}

/// A segment one side sent, from [`Trace::segments`].
#[derive(Copy, Clone, Debug)]
pub struct SentSegment<'a> {
    pub at: Instant,
    pub seg: &'a TcpHeader,
    /// Payload bytes.
    pub len: usize,
    pub outcome: &'a SendOutcome,
}

/// One entry of the trace.
#[derive(Clone, Debug, PartialEq)]
pub enum TraceEvent {
    /// A segment handed to the link by `from`.
    /// `injected`: made by the scenario, not by a host's TCP, and what the
    /// diagram calls it ("old duplicate", "spoofed", "nmap probe").
    Segment {
        at: Instant,
        from: Side,
        seg: TcpHeader,
        /// Payload bytes.
        len: usize,
        outcome: SendOutcome,
        injected: Option<Text>,
        sender: Option<SenderState>,
    },
    /// Loss recovery began, ended, probed or timed out on `side`.
    Recovery {
        at: Instant,
        side: Side,
        event: RecoveryEvent,
        cwnd: u32,
        ssthresh: u32,
    },
    /// A state change on `side`.
    State {
        at: Instant,
        side: Side,
        transition: Transition,
    },
    /// Something the application did or saw (e.g. `connect()`, `read 5 bytes`),
    /// in every language the ladder speaks.
    Note { at: Instant, side: Side, text: Text },
}

impl TraceEvent {
    pub fn at(&self) -> Instant {
        match self {
            TraceEvent::Segment { at, .. }
            | TraceEvent::State { at, .. }
            | TraceEvent::Recovery { at, .. }
            | TraceEvent::Note { at, .. } => *at,
        }
    }
}

/// The ordered record of a run.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    pub events: Vec<TraceEvent>,
}

impl Trace {
    /// The state sequence of one side, starting with the first `from`:
    /// e.g. `[CLOSED, SYN-SENT, ESTABLISHED, ...]`.
    pub fn states(&self, side: Side) -> Vec<synack_tcp::State> {
        let mut out = Vec::new();
        for e in &self.events {
            if let TraceEvent::State {
                side: s,
                transition,
                ..
            } = e
            {
                if *s == side {
                    if out.is_empty() {
                        out.push(transition.from);
                    }
                    out.push(transition.to);
                }
            }
        }
        out
    }

    /// Segments sent by `side`.
    pub fn segments(&self, side: Side) -> impl Iterator<Item = SentSegment<'_>> {
        self.events.iter().filter_map(move |e| match e {
            TraceEvent::Segment {
                at,
                from,
                seg,
                len,
                outcome,
                ..
            } if *from == side => Some(SentSegment {
                at: *at,
                seg,
                len: *len,
                outcome,
            }),
            _ => None,
        })
    }

    /// One JSON object per line, for tools (`synack demo --json`); notes
    /// in English whatever the ladder's language.
    pub fn to_json_lines(&self) -> String {
        let mut out = String::new();
        let mut numbers = crate::ladder::Numbering::default();
        for e in &self.events {
            match e {
                TraceEvent::Segment {
                    at,
                    from,
                    seg,
                    len,
                    outcome,
                    sender,
                    injected,
                } => {
                    // What the ladder shows beside the raw fields: numbers
                    // relative to each ISN (the urgent pointer's too, with
                    // URG), the window in bytes (scaled once both SYNs
                    // agreed), the retransmission mark, when it arrived.
                    let retx = numbers.observe(*from, seg, *len, injected.is_some());
                    let ladder = format!(
                        ",\"rel_seq\":{},\"rel_ack\":{},\"rel_urg\":{},\"window_bytes\":{},\"retransmission\":{},\"arrival_us\":{},\"injected\":{}",
                        numbers.rel_seq(*from, seg, false),
                        numbers.rel_ack(*from, seg, false),
                        numbers
                            .urgent(*from, seg, false)
                            .map_or("null".to_string(), |(up, _)| up.to_string()),
                        numbers.window(*from, seg),
                        retx,
                        outcome
                            .arrival
                            .map_or("null".to_string(), |a| a.as_micros().to_string()),
                        injected.as_ref().map_or("null".to_string(), |i| format!("\"{}\"", json_escape(i.get(Lang::En))))
                    );
                    let cc = match sender {
                        Some(s) => format!(
                            ",\"cwnd\":{},\"ssthresh\":{},\"in_flight\":{}",
                            s.cwnd,
                            if s.ssthresh == u32::MAX {
                                -1
                            } else {
                                i64::from(s.ssthresh)
                            },
                            s.in_flight
                        ),
                        None => String::new(),
                    };
                    let _ = writeln!(
                        out,
                        "{{\"type\":\"segment\",\"t_us\":{},\"from\":\"{}\",\"src_port\":{},\"dst_port\":{},\"flags\":\"{}\",\"seq\":{},\"ack\":{},\"len\":{},\"win\":{},\"urgent\":{},\"options\":\"{}\",\"fate\":\"{}\"{}{}}}",
                        at.as_micros(),
                        side_name(*from),
                        seg.src_port,
                        seg.dst_port,
                        seg.flags,
                        seg.seq,
                        seg.ack,
                        len,
                        seg.window,
                        seg.urgent,
                        seg.options,
                        fate_name(outcome),
                        ladder,
                        cc
                    );
                }
                TraceEvent::State {
                    at,
                    side,
                    transition,
                } => {
                    let _ = writeln!(
                        out,
                        "{{\"type\":\"state\",\"t_us\":{},\"side\":\"{}\",\"from\":\"{}\",\"to\":\"{}\",\"cause\":\"{}\"}}",
                        at.as_micros(),
                        side_name(*side),
                        transition.from,
                        transition.to,
                        transition.cause
                    );
                }
                TraceEvent::Recovery {
                    at,
                    side,
                    event,
                    cwnd,
                    ssthresh,
                } => {
                    let _ = writeln!(
                        out,
                        "{{\"type\":\"recovery\",\"t_us\":{},\"side\":\"{}\",\"event\":\"{}\",\"cwnd\":{},\"ssthresh\":{}}}",
                        at.as_micros(),
                        side_name(*side),
                        json_escape(&event.describe()),
                        cwnd,
                        ssthresh
                    );
                }
                TraceEvent::Note { at, side, text } => {
                    let _ = writeln!(
                        out,
                        "{{\"type\":\"note\",\"t_us\":{},\"side\":\"{}\",\"text\":\"{}\"}}",
                        at.as_micros(),
                        side_name(*side),
                        json_escape(text.get(Lang::En))
                    );
                }
            }
        }
        out
    }
}

/// `client` for side A, `server` for side B.
pub fn side_name(side: Side) -> &'static str {
    match side {
        Side::A => "client",
        Side::B => "server",
    }
}

/// A one-word fate: `delivered`, `lost`, `corrupted`, `duplicated`, ...
pub fn fate_name(o: &SendOutcome) -> &'static str {
    match o.fate {
        Fate::Lost => "lost",
        Fate::QueueFull => "queue-full",
        Fate::TooBig => "too-big",
        Fate::Queued if o.corrupted => "corrupted",
        Fate::Queued if o.duplicated => "duplicated",
        Fate::Queued if o.reordered => "delayed",
        Fate::Queued => "delivered",
    }
}

/// `s` as the inside of a JSON string.
pub fn json_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}
