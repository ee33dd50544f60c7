//! Any capture file drawn like a demo: `synack view` reads a pcap or pcapng
//! file (tcpdump's, Wireshark's, synack's own), picks one TCP connection
//! out of it and turns it into a [`Trace`], which the ladder, the SVG and
//! the HTML page draw as they draw a simulated run.
//!
//! A capture is taken at one point of the path, so each segment has one
//! time: it is drawn as sent and arrived at that moment (a flat arrow).
//! A capture holds no states either: each side's state is inferred from
//! the segments it sends and receives, following RFC 9293's state machine
//! (Figure 5), and the trace says so in a note on each side.

use crate::lang::{words, Text};
use crate::trace::{Trace, TraceEvent};
use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use synack_device::Side;
use synack_tcp::State;
use synack_wire::TcpHeader;

mod capture;
mod infer;
#[cfg(test)]
mod tests;

pub use capture::link_name;
use capture::*;
use infer::*;

/// The format of a capture file.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Format {
    Pcap,
    PcapNg,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Pcap => "pcap",
            Format::PcapNg => "pcapng",
        })
    }
}

/// Why a capture could not be viewed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ViewError {
    /// Neither pcap nor pcapng: the first bytes of the file.
    NotACapture(Vec<u8>),
    /// The file ends inside packet `packet` (1-based), which starts at
    /// byte `offset`.
    Truncated { packet: usize, offset: usize },
    /// The capture's structure is broken at byte `offset`.
    Malformed { offset: usize, what: String },
    /// A link type this reader does not decode.
    LinkType(u32),
    /// A pcapng packet names an interface the file does not describe.
    UnknownInterface { packet: usize, interface: u32 },
    /// Not one TCP segment in the capture.
    NoTcp { packets: usize },
    /// `--conn` beyond the number of connections.
    NoSuchConnection { asked: usize, connections: usize },
}

impl fmt::Display for ViewError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ViewError::NotACapture(head) if head.is_empty() => {
                write!(f, "not a pcap or pcapng capture: the file is empty")
            }
            ViewError::NotACapture(head) => {
                let hex: Vec<String> = head.iter().map(|b| format!("{b:02x}")).collect();
                write!(
                    f,
                    "not a pcap or pcapng capture (it starts with {})",
                    hex.join(" ")
                )
            }
            ViewError::Truncated { packet, offset } => write!(
                f,
                "the capture is cut short: packet {packet} (at byte {offset}) is incomplete"
            ),
            ViewError::Malformed { offset, what } => {
                write!(f, "malformed capture at byte {offset}: {what}")
            }
            ViewError::LinkType(n) => write!(
                f,
                "link type {n} ({}) is not supported; synack view reads raw IP (101, 12, 14), \
                 Ethernet (1), Linux cooked (113, 276) and BSD loopback (0, 108) captures",
                link_name(*n)
            ),
            ViewError::UnknownInterface { packet, interface } => write!(
                f,
                "packet {packet} names interface {interface}, which the capture does not describe"
            ),
            ViewError::NoTcp { packets } => write!(
                f,
                "no TCP segments in the capture ({packets} packet{} in all)",
                if *packets == 1 { "" } else { "s" }
            ),
            ViewError::NoSuchConnection { asked, connections } => write!(
                f,
                "there is no connection {asked}: the capture has {connections} TCP connection{}",
                if *connections == 1 { "" } else { "s" }
            ),
        }
    }
}

impl std::error::Error for ViewError {}

/// What the capture held, packet by packet.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Packet records in the file.
    pub packets: usize,
    /// TCP segments of the connection shown.
    pub shown: usize,
    /// TCP segments of the other connections.
    pub other_connections: usize,
    /// Packets that are not IP (ARP, LLDP, ...).
    pub not_ip: usize,
    /// IP packets that are not TCP (UDP, ICMP, ...).
    pub not_tcp: usize,
    /// IP packets that could not be read: fragments, broken headers, TCP
    /// headers cut short by the snap length.
    pub unreadable: usize,
}

impl Counts {
    /// Packets that are no TCP segment of any connection.
    pub fn skipped(&self) -> usize {
        self.not_ip + self.not_tcp + self.unreadable
    }
}

/// One connection of a capture, as a trace.
#[derive(Clone, Debug)]
pub struct View {
    pub trace: Trace,
    /// Side A: the end that sent the first SYN.
    pub client: SocketAddr,
    /// Side B.
    pub server: SocketAddr,
    /// How the client was told: "sent the first SYN", ...
    pub client_reason: Text,
    /// Which connection this is (1-based, in order of first appearance).
    pub connection: usize,
    /// How many connections the capture holds.
    pub connections: usize,
    pub format: Format,
    /// The link types of the packets read, in order of appearance.
    pub link_types: Vec<u32>,
    pub counts: Counts,
    /// When the connection's first packet was captured, from the
    /// capture's first packet (the trace's times start at the former).
    pub offset_us: u64,
    /// Each side's state before the first segment: `[client, server]`.
    pub initial: [State; 2],
}

impl View {
    /// The inferred state sequence of `side`, starting with its state
    /// before the first segment (so never empty).
    pub fn states(&self, side: Side) -> Vec<State> {
        let mut out = vec![self.initial[index(side)]];
        for e in &self.trace.events {
            if let TraceEvent::State {
                side: s,
                transition,
                ..
            } = e
            {
                if *s == side {
                    out.push(transition.to);
                }
            }
        }
        out
    }

    /// Lines for a summary: each side's states, and what else the capture
    /// held.
    pub fn summary(&self) -> Vec<Text> {
        let c = &self.counts;
        vec![
            words::inferred_states(Side::A, self.client, &self.states(Side::A)),
            words::inferred_states(Side::B, self.server, &self.states(Side::B)),
            words::capture_counts(c, self.connections - 1),
        ]
    }
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

/// A TCP segment of the capture.
struct Seg {
    at_ns: u128,
    src: SocketAddr,
    dst: SocketAddr,
    header: TcpHeader,
    len: usize,
}

/// Connections in order of first appearance, and their segments.
#[derive(Default)]
struct Connections {
    list: Vec<Conn>,
    /// The connection each address pair is on now.
    current: HashMap<(SocketAddr, SocketAddr), usize>,
}

struct Conn {
    segs: Vec<Seg>,
    /// Saw a RST, or a FIN from each end: a new SYN starts a new
    /// connection on the same addresses.
    ended: bool,
    fin_from: [Option<SocketAddr>; 2],
}

impl Connections {
    fn add(&mut self, seg: Seg) {
        let key = if seg.src <= seg.dst {
            (seg.src, seg.dst)
        } else {
            (seg.dst, seg.src)
        };
        let f = seg.header.flags;
        let reuse = match self.current.get(&key) {
            Some(&i) => !(f.syn() && !f.ack() && self.list[i].ended),
            None => false,
        };
        let i = match self.current.get(&key) {
            Some(&i) if reuse => i,
            _ => {
                self.list.push(Conn {
                    segs: Vec::new(),
                    ended: false,
                    fin_from: [None, None],
                });
                self.current.insert(key, self.list.len() - 1);
                self.list.len() - 1
            }
        };
        let conn = &mut self.list[i];
        if f.rst() {
            conn.ended = true;
        }
        if f.fin() {
            let src = Some(seg.src);
            if conn.fin_from[0].is_none() || conn.fin_from[0] == src {
                conn.fin_from[0] = src;
            } else {
                conn.fin_from[1] = src;
                conn.ended = true;
            }
        }
        conn.segs.push(seg);
    }
}

/// Reads `capture` (the bytes of a pcap or pcapng file) and returns its
/// connection number `connection` (1-based, in order of first appearance)
/// as a trace with inferred states.
pub fn view(capture: &[u8], connection: usize) -> Result<View, ViewError> {
    let mut counts = Counts::default();
    let mut link_types = Vec::new();
    let mut conns = Connections::default();
    let mut first_ns = None;
    let format = for_each_packet(capture, |p| {
        counts.packets += 1;
        first_ns.get_or_insert(p.at_ns);
        if !link_types.contains(&p.link) {
            link_types.push(p.link);
        }
        let Some(ip) = network_layer(p.link, p.data) else {
            counts.not_ip += 1;
            return Ok(());
        };
        // The link header is not part of the IP packet's original length.
        let orig = p.orig_len.saturating_sub(p.data.len() - ip.len());
        match decode(ip, orig) {
            Decoded::Tcp {
                src,
                dst,
                header,
                len,
            } => conns.add(Seg {
                at_ns: p.at_ns,
                src,
                dst,
                header,
                len,
            }),
            Decoded::NotTcp => counts.not_tcp += 1,
            Decoded::Unreadable => counts.unreadable += 1,
        }
        Ok(())
    })?;
    let connections = conns.list.len();
    if connections == 0 {
        return Err(ViewError::NoTcp {
            packets: counts.packets,
        });
    }
    let Some(conn) = connection.checked_sub(1).and_then(|i| conns.list.get(i)) else {
        return Err(ViewError::NoSuchConnection {
            asked: connection,
            connections,
        });
    };
    counts.shown = conn.segs.len();
    counts.other_connections =
        conns.list.iter().map(|c| c.segs.len()).sum::<usize>() - counts.shown;
    let (client, server, client_reason) = ends(&conn.segs);
    let conn_start = conn.segs.first().map_or(0, |s| s.at_ns);
    let offset_us = (conn_start.saturating_sub(first_ns.unwrap_or(0)) / 1000) as u64;
    let (trace, initial) = infer(&conn.segs, client);
    Ok(View {
        trace,
        client,
        server,
        client_reason,
        connection,
        connections,
        format,
        link_types,
        counts,
        offset_us,
        initial,
    })
}

/// The client, the server, and how the client was told: it sent the
/// first SYN; without one, it received the first SYN-ACK; without that, it
/// sent the first segment.
fn ends(segs: &[Seg]) -> (SocketAddr, SocketAddr, Text) {
    let syn = |ack: bool| {
        segs.iter()
            .find(move |s| s.header.flags.syn() && s.header.flags.ack() == ack)
    };
    match (syn(false), syn(true), segs.first()) {
        (Some(s), _, _) => (s.src, s.dst, words::client_sent_first_syn()),
        (None, Some(s), _) => (s.dst, s.src, words::client_received_first_syn_ack()),
        (None, None, Some(s)) => (s.src, s.dst, words::client_sent_first_segment()),
        (None, None, None) => {
            let unspecified = SocketAddr::from(([0, 0, 0, 0], 0));
            (unspecified, unspecified, Text::same(""))
        }
    }
}
