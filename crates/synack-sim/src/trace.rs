//! What happened during a simulated run, in order: segments put on the
//! link (and their fate), state changes on either side (each a
//! connection's, a listener's or a half-open connection's), loss-recovery
//! events, and notes: what an application did, what the network did, why
//! TCP did what it did. The ladder diagram and the JSON output read this.

use crate::lang::{words, Lang, Text};
use std::fmt::Write as _;
use std::net::SocketAddr;
use synack_device::{Fate, SendOutcome, Side};
use synack_tcp::{Duration, Instant, RecoveryEvent, State, Transition};
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

/// Who a note is about, which decides how it is drawn.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum NoteKind {
    /// What an application did or saw (`connect()`, `read 5 bytes`):
    /// `» …` beside the client, `… «` beside the server.
    #[default]
    Application,
    /// What the network was made to do (a black hole, a packet held
    /// back, a host losing power): a line of its own between the two
    /// sides, `~ … ~`, for it is neither side's doing.
    Network,
    /// Why TCP did what it did, or what a value on an arrow means (the
    /// renderers add these, see `explain`; a scenario may too): `(…)` on
    /// the side it concerns.
    Explanation,
}

impl NoteKind {
    /// `application`, `network` or `explanation`, as `--json` spells it.
    pub fn name(self) -> &'static str {
        match self {
            NoteKind::Application => "application",
            NoteKind::Network => "network",
            NoteKind::Explanation => "explanation",
        }
    }
}

/// Whose state changed: a host keeps a listener apart from the
/// connections it spawns, and so does the trace.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Owner {
    /// A connection, between its own address and its peer's.
    Connection {
        local: SocketAddr,
        remote: SocketAddr,
    },
    /// A listener (its own CLOSED → LISTEN, and back when it closes).
    Listener { local: SocketAddr },
    /// A listener's half-open connection: a SYN from `remote` received,
    /// no connection of its own yet (LISTEN → SYN-RECEIVED, back to
    /// LISTEN on a RST, on to CLOSED when its SYN-ACKs go unanswered).
    HalfOpen {
        local: SocketAddr,
        remote: SocketAddr,
    },
}

impl Owner {
    /// The local and remote address of a connection or a half-open one.
    pub fn tuple(self) -> Option<(SocketAddr, SocketAddr)> {
        match self {
            Owner::Connection { local, remote } | Owner::HalfOpen { local, remote } => {
                Some((local, remote))
            }
            Owner::Listener { .. } => None,
        }
    }

    /// `connection`, `listener` or `half-open`, as `--json` spells it.
    pub fn name(self) -> &'static str {
        match self {
            Owner::Connection { .. } => "connection",
            Owner::Listener { .. } => "listener",
            Owner::HalfOpen { .. } => "half-open",
        }
    }
}

/// One owner's run of states on one side, for a summary: a listener's,
/// or one incarnation of a connection (from its half-open beginnings on).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chain {
    pub side: Side,
    pub owner: ChainOwner,
    /// The states in order, starting with the first `from`.
    pub states: Vec<State>,
}

/// Whose chain it is.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ChainOwner {
    Listener(SocketAddr),
    /// A connection to or from `remote` (`accepted`: a listener's, which
    /// began half-open).
    Connection {
        remote: SocketAddr,
        accepted: bool,
    },
    /// A half-open connection that never became one.
    HalfOpen(SocketAddr),
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
        /// For a retransmission timeout: the RTO that expired (the timer
        /// restarts with it doubled, RFC 6298 §5.5).
        rto: Option<Duration>,
    },
    /// A state change on `side`, of a connection, a listener or a
    /// half-open connection.
    State {
        at: Instant,
        side: Side,
        transition: Transition,
        owner: Owner,
    },
    /// Something the application did or saw (e.g. `connect()`, `read 5
    /// bytes`), something the network did, or why TCP did what it did,
    /// in every language the ladder speaks.
    Note {
        at: Instant,
        side: Side,
        text: Text,
        kind: NoteKind,
    },
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

    /// The runs of states on `side`, one per owner, in order of first
    /// appearance: each listener's, and each incarnation of each
    /// connection, from its half-open beginnings (LISTEN → SYN-RECEIVED)
    /// on. A run ends at CLOSED, or, for a half-open one, back in LISTEN;
    /// a transition that does not start where its connection's run ended
    /// (a TIME-WAIT entry reused, say) starts another.
    pub fn chains(&self, side: Side) -> Vec<Chain> {
        let mut chains: Vec<Chain> = Vec::new();
        // The open run of each listener and each 4-tuple.
        let mut open: Vec<(Owner, usize)> = Vec::new();
        for e in &self.events {
            let TraceEvent::State {
                side: s,
                transition: t,
                owner,
                ..
            } = e
            else {
                continue;
            };
            if *s != side {
                continue;
            }
            let same = |o: &Owner| match (o, owner) {
                (Owner::Listener { local: a }, Owner::Listener { local: b }) => a == b,
                (Owner::Listener { .. }, _) | (_, Owner::Listener { .. }) => false,
                // A listener's half-open connection knows the address it
                // listens on, which may be any of the host's: the port and
                // the peer make the 4-tuple.
                (a, b) => {
                    let key = |o: &Owner| o.tuple().map(|(l, r)| (l.port(), r));
                    key(a) == key(b)
                }
            };
            let found = open
                .iter()
                .position(|(o, i)| same(o) && chains[*i].states.last() == Some(&t.from));
            let i = match found {
                Some(k) => open[k].1,
                None => {
                    open.retain(|(o, _)| !same(o));
                    let who = match *owner {
                        Owner::Listener { local } => ChainOwner::Listener(local),
                        Owner::HalfOpen { remote, .. } => ChainOwner::HalfOpen(remote),
                        Owner::Connection { remote, .. } => ChainOwner::Connection {
                            remote,
                            accepted: t.from != State::Closed,
                        },
                    };
                    chains.push(Chain {
                        side,
                        owner: who,
                        states: vec![t.from],
                    });
                    open.push((*owner, chains.len() - 1));
                    chains.len() - 1
                }
            };
            let chain = &mut chains[i];
            chain.states.push(t.to);
            if let (ChainOwner::HalfOpen(remote), Owner::Connection { .. }) = (chain.owner, owner) {
                chain.owner = ChainOwner::Connection {
                    remote,
                    accepted: true,
                };
            }
            let ended = t.to == State::Closed
                || (t.to == State::Listen && matches!(owner, Owner::HalfOpen { .. }));
            if ended {
                open.retain(|(_, k)| *k != i);
            }
        }
        chains
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

    /// One JSON object per line, for tools (`synack demo --json`), with
    /// the explanations the ladder draws (notes of kind `explanation`);
    /// notes in English whatever the ladder's language.
    pub fn to_json_lines(&self) -> String {
        let mut out = String::new();
        let mut numbers = crate::ladder::Numbering::default();
        let annotated = crate::explain::annotate(self, false);
        for (e, mark) in annotated.events.iter().zip(&annotated.marks) {
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
                    // agreed), the retransmission mark, the duplicate ACK
                    // count, when it arrived.
                    let retx = numbers.observe(*from, seg, *len, injected.is_some());
                    let ladder = format!(
                        ",\"rel_seq\":{},\"rel_ack\":{},\"rel_urg\":{},\"window_bytes\":{},\"retransmission\":{},\"dup_ack\":{},\"arrival_us\":{},\"injected\":{}",
                        numbers.rel_seq(*from, seg, false),
                        numbers.rel_ack(*from, seg, false),
                        numbers
                            .urgent(*from, seg, false)
                            .map_or("null".to_string(), |(up, _)| up.to_string()),
                        numbers.window(*from, seg),
                        retx,
                        mark.dup_ack.map_or("null".to_string(), |n| n.to_string()),
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
                    owner,
                } => {
                    let (local, remote) = match *owner {
                        Owner::Connection { local, remote } | Owner::HalfOpen { local, remote } => {
                            (local, Some(remote))
                        }
                        Owner::Listener { local } => (local, None),
                    };
                    let _ = writeln!(
                        out,
                        "{{\"type\":\"state\",\"t_us\":{},\"side\":\"{}\",\"from\":\"{}\",\"to\":\"{}\",\"cause\":\"{}\",\"owner\":\"{}\",\"local\":\"{}\",\"remote\":{}}}",
                        at.as_micros(),
                        side_name(*side),
                        transition.from,
                        transition.to,
                        transition.cause,
                        owner.name(),
                        local,
                        remote.map_or("null".to_string(), |r| format!("\"{r}\""))
                    );
                }
                TraceEvent::Recovery {
                    at,
                    side,
                    event,
                    cwnd,
                    ssthresh,
                    rto,
                } => {
                    let _ = writeln!(
                        out,
                        "{{\"type\":\"recovery\",\"t_us\":{},\"side\":\"{}\",\"event\":\"{}\",\"cwnd\":{},\"ssthresh\":{},\"rto_us\":{}}}",
                        at.as_micros(),
                        side_name(*side),
                        json_escape(&words::recovery(Lang::En, *event, *rto)),
                        cwnd,
                        ssthresh,
                        rto.map_or("null".to_string(), |r| r.as_micros().to_string())
                    );
                }
                TraceEvent::Note {
                    at,
                    side,
                    text,
                    kind,
                } => {
                    let _ = writeln!(
                        out,
                        "{{\"type\":\"note\",\"t_us\":{},\"side\":\"{}\",\"kind\":\"{}\",\"text\":\"{}\"}}",
                        at.as_micros(),
                        side_name(*side),
                        kind.name(),
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
