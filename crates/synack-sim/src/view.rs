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

use crate::trace::{Trace, TraceEvent};
use pcap_file::pcap::PcapParser;
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::{Block, PcapNgParser};
use pcap_file::{Endianness, PcapError, TsResolution};
use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use synack_device::{Fate, SendOutcome, Side};
use synack_tcp::{Cause, Instant, State, Transition};
use synack_wire::{IpProtocol, IpRepr, TcpHeader, WireError};

/// The link types [`view`] reads, with the numbers of `LINKTYPE_*`.
const LINK_NULL: u32 = 0;
const LINK_ETHERNET: u32 = 1;
const LINK_RAW_OLD: u32 = 12;
const LINK_RAW_OLD2: u32 = 14;
const LINK_RAW: u32 = 101;
const LINK_LOOP: u32 = 108;
const LINK_LINUX_SLL: u32 = 113;
const LINK_LINUX_SLL2: u32 = 276;

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

/// The name of a `LINKTYPE_*` number, for messages.
pub fn link_name(n: u32) -> String {
    match n {
        LINK_NULL => "NULL".into(),
        LINK_ETHERNET => "ETHERNET".into(),
        LINK_RAW | LINK_RAW_OLD | LINK_RAW_OLD2 => "RAW".into(),
        LINK_LOOP => "LOOP".into(),
        LINK_LINUX_SLL => "LINUX_SLL".into(),
        LINK_LINUX_SLL2 => "LINUX_SLL2".into(),
        n => match pcap_file::DataLink::from(n) {
            pcap_file::DataLink::Unknown(_) => "unknown".into(),
            known => format!("{known:?}"),
        },
    }
}

fn link_supported(n: u32) -> bool {
    matches!(
        n,
        LINK_NULL
            | LINK_ETHERNET
            | LINK_RAW_OLD
            | LINK_RAW_OLD2
            | LINK_RAW
            | LINK_LOOP
            | LINK_LINUX_SLL
            | LINK_LINUX_SLL2
    )
}

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
    pub client_reason: &'static str,
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
    pub fn summary(&self) -> Vec<String> {
        let path = |side| {
            self.states(side)
                .iter()
                .map(|s| s.name())
                .collect::<Vec<_>>()
                .join(" → ")
        };
        let c = &self.counts;
        let mut what = format!("{} segment{} of this connection", c.shown, plural(c.shown));
        let others = self.connections - 1;
        if others > 0 {
            what.push_str(&format!(
                "; {} in {others} other connection{}",
                c.other_connections,
                plural(others)
            ));
        }
        if c.skipped() > 0 {
            what.push_str(&format!(
                "; {} other packet{} skipped ({} not IP, {} not TCP, {} unreadable)",
                c.skipped(),
                plural(c.skipped()),
                c.not_ip,
                c.not_tcp,
                c.unreadable
            ));
        }
        vec![
            format!("client {}: {} (inferred)", self.client, path(Side::A)),
            format!("server {}: {} (inferred)", self.server, path(Side::B)),
            what,
        ]
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
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

/// A packet as the file stores it.
struct Captured<'a> {
    /// Capture time in nanoseconds since the capture's epoch.
    at_ns: u128,
    link: u32,
    data: &'a [u8],
    /// The packet's length on the wire (more than `data` when the snap
    /// length cut it).
    orig_len: usize,
}

/// Calls `f` with every packet of a pcap or pcapng file, in file order.
fn for_each_packet(
    bytes: &[u8],
    mut f: impl FnMut(Captured<'_>) -> Result<(), ViewError>,
) -> Result<Format, ViewError> {
    let head: [u8; 4] = match bytes.get(..4).and_then(|h| h.try_into().ok()) {
        Some(h) => h,
        None => return Err(ViewError::NotACapture(bytes.to_vec())),
    };
    let offset = |rest: &[u8]| bytes.len() - rest.len();
    match u32::from_be_bytes(head) {
        0xa1b2_c3d4 | 0xd4c3_b2a1 | 0xa1b2_3c4d | 0x4d3c_b2a1 => {
            let (mut rest, parser) = PcapParser::new(bytes).map_err(|e| match e {
                PcapError::IncompleteBuffer => ViewError::Malformed {
                    offset: 0,
                    what: "the file ends inside the pcap header".into(),
                },
                e => ViewError::Malformed {
                    offset: 0,
                    what: e.to_string(),
                },
            })?;
            let header = parser.header();
            let link = u32::from(header.datalink);
            if !link_supported(link) {
                return Err(ViewError::LinkType(link));
            }
            let frac_ns: u128 = match header.ts_resolution {
                TsResolution::MicroSecond => 1000,
                TsResolution::NanoSecond => 1,
            };
            let mut n = 0;
            while !rest.is_empty() {
                n += 1;
                let at = offset(rest);
                let (r, raw) = parser.next_raw_packet(rest).map_err(|e| match e {
                    PcapError::IncompleteBuffer => ViewError::Truncated {
                        packet: n,
                        offset: at,
                    },
                    e => ViewError::Malformed {
                        offset: at,
                        what: e.to_string(),
                    },
                })?;
                rest = r;
                f(Captured {
                    at_ns: u128::from(raw.ts_sec) * 1_000_000_000
                        + u128::from(raw.ts_frac) * frac_ns,
                    link,
                    data: &raw.data,
                    orig_len: raw.orig_len as usize,
                })?;
            }
            Ok(Format::Pcap)
        }
        0x0a0d_0d0a => {
            let malformed = |at: usize, e: PcapError| match e {
                PcapError::IncompleteBuffer => ViewError::Malformed {
                    offset: at,
                    what: "the file ends inside a block".into(),
                },
                e => ViewError::Malformed {
                    offset: at,
                    what: e.to_string(),
                },
            };
            let (mut rest, mut parser) = PcapNgParser::new(bytes).map_err(|e| malformed(0, e))?;
            let mut n = 0;
            // Simple packet blocks carry no time: they take the last one.
            let mut last_ns = 0u128;
            while !rest.is_empty() {
                let at = offset(rest);
                let (r, block) = parser.next_block(rest).map_err(|e| match e {
                    // A packet block cut short is a truncated packet.
                    PcapError::IncompleteBuffer if is_packet_block(rest, &parser) => {
                        ViewError::Truncated {
                            packet: n + 1,
                            offset: at,
                        }
                    }
                    e => malformed(at, e),
                })?;
                rest = r;
                let (interface, ticks, data, orig_len) = match &block {
                    Block::EnhancedPacket(p) => (
                        p.interface_id,
                        Some(p.timestamp.as_nanos()),
                        &p.data,
                        p.original_len,
                    ),
                    Block::Packet(p) => {
                        // Two 32-bit halves, high first, each in the
                        // section's byte order.
                        let ts = match parser.section().endianness {
                            Endianness::Big => p.timestamp,
                            Endianness::Little => p.timestamp.rotate_left(32),
                        };
                        (
                            u32::from(p.interface_id),
                            Some(u128::from(ts)),
                            &p.data,
                            p.original_len,
                        )
                    }
                    Block::SimplePacket(p) => (0, None, &p.data, p.original_len),
                    _ => continue,
                };
                n += 1;
                let Some(idb) = parser.interfaces().get(interface as usize) else {
                    return Err(ViewError::UnknownInterface {
                        packet: n,
                        interface,
                    });
                };
                let link = u32::from(idb.linktype);
                if !link_supported(link) {
                    return Err(ViewError::LinkType(link));
                }
                // A simple packet block holds at most the snap length.
                let data: &[u8] = match &block {
                    Block::SimplePacket(_) if idb.snaplen > 0 => {
                        &data[..data.len().min(idb.snaplen as usize)]
                    }
                    _ => data,
                };
                if let Some(t) = ticks {
                    last_ns = ticks_to_ns(t, idb);
                }
                f(Captured {
                    at_ns: last_ns,
                    link,
                    data,
                    orig_len: orig_len as usize,
                })?;
            }
            Ok(Format::PcapNg)
        }
        _ => Err(ViewError::NotACapture(head.to_vec())),
    }
}

/// Whether the next block, cut short, is a packet block.
fn is_packet_block(rest: &[u8], parser: &PcapNgParser) -> bool {
    let Some(t) = rest.get(..4).and_then(|h| <[u8; 4]>::try_from(h).ok()) else {
        return false;
    };
    let t = match parser.section().endianness {
        Endianness::Big => u32::from_be_bytes(t),
        Endianness::Little => u32::from_le_bytes(t),
    };
    matches!(t, 2 | 3 | 6)
}

/// A pcapng timestamp in nanoseconds: the interface's `if_tsresol` is
/// 10^-n (or 2^-n with the top bit set) seconds a tick, 10^-6 by default.
fn ticks_to_ns(ticks: u128, idb: &InterfaceDescriptionBlock) -> u128 {
    let resol = idb
        .options
        .iter()
        .find_map(|o| match o {
            InterfaceDescriptionOption::IfTsResol(r) => Some(*r),
            _ => None,
        })
        .unwrap_or(6);
    if resol & 0x80 != 0 {
        let shift = u32::from(resol & 0x7f);
        (ticks.saturating_mul(1_000_000_000)) >> shift.min(127)
    } else if resol <= 9 {
        ticks.saturating_mul(10u128.pow(9 - u32::from(resol)))
    } else {
        ticks / 10u128.pow(u32::from(resol).min(38) - 9)
    }
}

/// What one packet is.
enum Decoded {
    Tcp {
        src: SocketAddr,
        dst: SocketAddr,
        header: TcpHeader,
        len: usize,
    },
    NotTcp,
    Unreadable,
}

/// `rest` if EtherType `t` is IPv4 or IPv6.
fn ethertype(t: u16, rest: &[u8]) -> Option<&[u8]> {
    matches!(t, 0x0800 | 0x86dd).then_some(rest)
}

/// The IP packet inside a link-layer frame; `None` if it carries no IP.
fn network_layer(link: u32, frame: &[u8]) -> Option<&[u8]> {
    let be16 = |at: usize| -> Option<u16> {
        let b = frame.get(at..at + 2)?;
        Some(u16::from_be_bytes([b[0], b[1]]))
    };
    match link {
        LINK_RAW | LINK_RAW_OLD | LINK_RAW_OLD2 => Some(frame),
        LINK_ETHERNET => match be16(12)? {
            // One 802.1Q tag.
            0x8100 => ethertype(be16(16)?, frame.get(18..)?),
            t => ethertype(t, frame.get(14..)?),
        },
        LINK_LINUX_SLL => ethertype(be16(14)?, frame.get(16..)?),
        LINK_LINUX_SLL2 => ethertype(be16(0)?, frame.get(20..)?),
        LINK_NULL | LINK_LOOP => {
            let b = frame.get(..4)?;
            // NULL is in the capturing host's byte order, LOOP in network
            // order: a family is small, so the order that makes it small
            // is the right one.
            let be = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
            let family = if be > 0xffff { be.swap_bytes() } else { be };
            // AF_INET everywhere; AF_INET6 on Linux, the BSDs and macOS.
            matches!(family, 2 | 10 | 24 | 28 | 30).then(|| frame.get(4..))?
        }
        _ => None,
    }
}

/// Reads an IP packet. Checksums are not verified (a capture taken on the
/// sending host holds the TCP checksums the NIC had yet to fill in; some
/// systems offload the IPv4 header checksum too). A packet the snap
/// length cut short is read as long as its TCP header is whole.
fn decode(ip: &[u8], orig_len: usize) -> Decoded {
    let captured = ip.len();
    let mut packet = std::borrow::Cow::Borrowed(ip);
    if orig_len > captured {
        // Cut by the snap length: padded to the length its header gives.
        let declared = match ip.first().map(|b| b >> 4) {
            Some(4) if ip.len() >= 4 => usize::from(u16::from_be_bytes([ip[2], ip[3]])),
            Some(6) if ip.len() >= 6 => 40 + usize::from(u16::from_be_bytes([ip[4], ip[5]])),
            _ => 0,
        };
        if declared > captured {
            packet.to_mut().resize(declared, 0);
        }
    }
    if IpRepr::parse(&packet).err() == Some(WireError::BadChecksum) {
        // An IPv4 header whose checksum was left to the NIC.
        let p = packet.to_mut();
        let ihl = usize::from(p[0] & 0x0f) * 4;
        if (20..=p.len()).contains(&ihl) {
            p[10] = 0;
            p[11] = 0;
            let sum = synack_wire::checksum::checksum(&p[..ihl]);
            p[10..12].copy_from_slice(&sum.to_be_bytes());
        }
    }
    let packet: &[u8] = &packet;
    let (repr, segment) = match IpRepr::parse(packet) {
        Ok(p) => p,
        Err(_) => return Decoded::Unreadable,
    };
    if repr.protocol() != IpProtocol::Tcp {
        return Decoded::NotTcp;
    }
    let (header, payload) = match TcpHeader::parse(segment, repr.src(), repr.dst(), false) {
        Ok(p) => p,
        Err(_) => return Decoded::Unreadable,
    };
    // Where the TCP header ends in the packet (the segment is a slice of
    // it): it must have been captured.
    let start = segment.as_ptr() as usize - packet.as_ptr() as usize;
    if start + (segment.len() - payload.len()) > captured {
        return Decoded::Unreadable;
    }
    Decoded::Tcp {
        src: SocketAddr::new(repr.src(), header.src_port),
        dst: SocketAddr::new(repr.dst(), header.dst_port),
        header,
        len: payload.len(),
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
fn ends(segs: &[Seg]) -> (SocketAddr, SocketAddr, &'static str) {
    let syn = |ack: bool| {
        segs.iter()
            .find(move |s| s.header.flags.syn() && s.header.flags.ack() == ack)
    };
    match (syn(false), syn(true), segs.first()) {
        (Some(s), _, _) => (s.src, s.dst, "sent the first SYN"),
        (None, Some(s), _) => (s.dst, s.src, "received the first SYN-ACK"),
        (None, None, Some(s)) => (
            s.src,
            s.dst,
            "sent the first segment; the capture has no SYN",
        ),
        (None, None, None) => {
            let unspecified = SocketAddr::from(([0, 0, 0, 0], 0));
            (unspecified, unspecified, "")
        }
    }
}

/// `a` is at or after `b` in sequence space.
fn seq_ge(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) >= 0
}

/// Each side's state machine, driven by what it sends and receives.
struct StateInference {
    state: [State; 2],
    /// Each side's initial sequence number, once seen.
    iss: [Option<u32>; 2],
    /// The sequence number of each side's FIN, once sent.
    fin: [Option<u32>; 2],
    /// A side whose FIN crossed the peer's: it takes the peer's FIN right
    /// after sending its own.
    crossed: Option<Side>,
    events: Vec<TraceEvent>,
}

impl StateInference {
    fn set(&mut self, at: Instant, side: Side, to: State, cause: Cause) {
        let from = self.state[index(side)];
        if from == to {
            return;
        }
        self.state[index(side)] = to;
        self.events.push(TraceEvent::State {
            at,
            side,
            transition: Transition {
                at,
                from,
                to,
                cause,
            },
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
fn infer(segs: &[Seg], client: SocketAddr) -> (Trace, [State; 2]) {
    let side_of = |s: &Seg| if s.src == client { Side::A } else { Side::B };
    let first = segs.first();
    let start_ns = first.map_or(0, |s| s.at_ns);
    let mut m = StateInference {
        state: [State::Closed; 2],
        iss: [None; 2],
        fin: [None; 2],
        crossed: None,
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
            Some("the capture starts after the SYN: SYN-SENT and SYN-RECEIVED assumed")
        }
        _ => {
            m.state = [State::Established; 2];
            Some("the capture starts mid-connection: ESTABLISHED assumed")
        }
    };
    if let (Some(s), Some(_)) = (first, how) {
        // What a SYN-ACK tells of both ISNs.
        if s.header.flags.syn() {
            m.iss[index(side_of(s))] = Some(s.header.seq);
            m.iss[index(other(side_of(s)))] = Some(s.header.ack.wrapping_sub(1));
        }
    }
    let initial = m.state;
    for side in [Side::A, Side::B] {
        let mut text = String::from(
            "states inferred from the segments (capture at one point: arrows are flat)",
        );
        if let Some(how) = how {
            text.push_str("; ");
            text.push_str(how);
        }
        m.events.push(TraceEvent::Note {
            at: Instant::ZERO,
            side,
            text,
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

#[cfg(test)]
mod tests {
    use super::*;
    use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
    use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
    use pcap_file::pcapng::PcapNgWriter;
    use pcap_file::DataLink;
    use std::borrow::Cow;
    use std::time::Duration;
    use synack_device::pcap::PcapWriter as SynackPcap;
    use synack_wire::{TcpFlags, TcpOptions, TcpRepr};
    use State::*;

    const SYN: TcpFlags = TcpFlags::SYN;
    const ACK: TcpFlags = TcpFlags::ACK;
    const FIN: TcpFlags = TcpFlags::FIN;
    const RST: TcpFlags = TcpFlags::RST;
    const PSH: TcpFlags = TcpFlags::PSH;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    /// An IP packet carrying one TCP segment.
    fn packet(from: &str, to: &str, flags: TcpFlags, seq: u32, ack: u32, data: &[u8]) -> Vec<u8> {
        let (from, to) = (addr(from), addr(to));
        let tcp = TcpRepr {
            src_port: from.port(),
            dst_port: to.port(),
            seq,
            ack,
            flags,
            window: 65535,
            urgent: 0,
            options: TcpOptions::default(),
            payload: data,
        };
        let ip = IpRepr::new(from.ip(), to.ip(), IpProtocol::Tcp, tcp.buffer_len(), 64);
        let mut buf = vec![0; ip.total_len()];
        ip.emit(&mut buf);
        tcp.emit(&mut buf[ip.header_len()..], from.ip(), to.ip());
        buf
    }

    const C: &str = "10.0.0.1:40000";
    const S: &str = "10.0.0.2:80";

    /// Open, a request and a response, the server closes first, the
    /// client follows.
    fn full_exchange(c: &str, s: &str) -> Vec<Vec<u8>> {
        vec![
            packet(c, s, SYN, 100, 0, &[]),
            packet(s, c, SYN | ACK, 500, 101, &[]),
            packet(c, s, ACK, 101, 501, &[]),
            packet(c, s, PSH | ACK, 101, 501, b"GET"),
            packet(s, c, ACK, 501, 104, &[]),
            packet(s, c, PSH | ACK, 501, 104, b"hello"),
            packet(s, c, FIN | ACK, 506, 104, &[]),
            packet(c, s, ACK, 104, 507, &[]),
            packet(c, s, FIN | ACK, 104, 507, &[]),
            packet(s, c, ACK, 507, 105, &[]),
        ]
    }

    /// A raw-IP pcap written by synack's own writer, one packet a
    /// millisecond.
    fn raw_pcap(packets: &[Vec<u8>]) -> Vec<u8> {
        let mut w = SynackPcap::new(Vec::new()).unwrap();
        for (i, p) in packets.iter().enumerate() {
            w.write_packet(Instant::from_millis(1000 + i as u64), p)
                .unwrap();
        }
        w.into_inner()
    }

    /// A pcap of link type `link` with `frame` made of each packet.
    fn pcap_with(link: DataLink, frames: &[Vec<u8>]) -> Vec<u8> {
        let header = PcapHeader {
            datalink: link,
            ..PcapHeader::default()
        };
        let mut w = PcapWriter::with_header(Vec::new(), header).unwrap();
        for (i, f) in frames.iter().enumerate() {
            let ts = Duration::from_millis(5000 + i as u64);
            w.write_packet(&PcapPacket::new(ts, f.len() as u32, f))
                .unwrap();
        }
        w.into_writer()
    }

    fn ethernet(ethertype: u16, vlan: bool, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
        if vlan {
            f.extend_from_slice(&[0x81, 0x00, 0x00, 0x07]);
        }
        f.extend_from_slice(&ethertype.to_be_bytes());
        f.extend_from_slice(payload);
        f
    }

    fn states(v: &View, side: Side) -> Vec<State> {
        v.states(side)
    }

    fn causes(v: &View, side: Side) -> Vec<Cause> {
        v.trace
            .events
            .iter()
            .filter_map(|e| match e {
                TraceEvent::State {
                    side: s,
                    transition,
                    ..
                } if *s == side => Some(transition.cause),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_full_exchange_goes_through_the_rfc_states() {
        let v = view(&raw_pcap(&full_exchange(C, S)), 1).unwrap();
        assert_eq!((v.client, v.server), (addr(C), addr(S)));
        assert_eq!((v.connection, v.connections), (1, 1));
        assert_eq!(v.format, Format::Pcap);
        assert_eq!(v.link_types, [LINK_RAW]);
        assert_eq!(
            states(&v, Side::A),
            [Closed, SynSent, Established, CloseWait, LastAck, Closed]
        );
        assert_eq!(
            causes(&v, Side::A),
            [
                Cause::AppConnect,
                Cause::RecvSynAck,
                Cause::RecvFin,
                Cause::AppClose,
                Cause::RecvAck
            ]
        );
        assert_eq!(
            states(&v, Side::B),
            [
                Listen,
                SynReceived,
                Established,
                FinWait1,
                FinWait2,
                TimeWait
            ]
        );
        assert_eq!(
            causes(&v, Side::B),
            [
                Cause::RecvSyn,
                Cause::RecvAck,
                Cause::AppClose,
                Cause::RecvAck,
                Cause::RecvFin
            ]
        );
        // The trace's own reading agrees.
        assert_eq!(v.trace.states(Side::B), states(&v, Side::B));
        let c = v.counts;
        assert_eq!((c.packets, c.shown, c.skipped()), (10, 10, 0));
        // One note per side first, then the segments at their capture
        // times, arriving as they are sent.
        let notes: Vec<_> = v
            .trace
            .events
            .iter()
            .take_while(|e| matches!(e, TraceEvent::Note { .. }))
            .collect();
        assert_eq!(notes.len(), 2);
        assert!(matches!(notes[0], TraceEvent::Note { text, .. } if text.contains("inferred")));
        let times: Vec<(u64, Option<Instant>)> = v
            .trace
            .events
            .iter()
            .filter_map(|e| match e {
                TraceEvent::Segment { at, outcome, .. } => Some((at.as_micros(), outcome.arrival)),
                _ => None,
            })
            .collect();
        assert_eq!(times.len(), 10);
        for (i, (at, arrival)) in times.iter().enumerate() {
            assert_eq!(*at, i as u64 * 1000);
            assert_eq!(*arrival, Some(Instant::from_micros(*at)));
        }
    }

    #[test]
    fn simultaneous_close_and_a_fin_that_acks_a_fin() {
        let v = view(
            &raw_pcap(&[
                packet(C, S, SYN, 100, 0, &[]),
                packet(S, C, SYN | ACK, 500, 101, &[]),
                packet(C, S, ACK, 101, 501, &[]),
                packet(C, S, FIN | ACK, 101, 501, &[]),
                packet(S, C, FIN | ACK, 501, 101, &[]),
                packet(C, S, ACK, 102, 502, &[]),
                packet(S, C, ACK, 502, 102, &[]),
            ]),
            1,
        )
        .unwrap();
        assert_eq!(
            states(&v, Side::A),
            [Closed, SynSent, Established, FinWait1, Closing, TimeWait]
        );
        assert_eq!(
            states(&v, Side::B),
            [
                Listen,
                SynReceived,
                Established,
                FinWait1,
                Closing,
                TimeWait
            ]
        );
        // The client's FIN answered by a FIN that acknowledges it.
        let v = view(
            &raw_pcap(&[
                packet(C, S, SYN, 100, 0, &[]),
                packet(S, C, SYN | ACK, 500, 101, &[]),
                packet(C, S, ACK, 101, 501, &[]),
                packet(C, S, FIN | ACK, 101, 501, &[]),
                packet(S, C, FIN | ACK, 501, 102, &[]),
                packet(C, S, ACK, 102, 502, &[]),
            ]),
            1,
        )
        .unwrap();
        assert_eq!(
            states(&v, Side::A),
            [Closed, SynSent, Established, FinWait1, TimeWait]
        );
        assert_eq!(*causes(&v, Side::A).last().unwrap(), Cause::RecvFinAck);
        assert_eq!(
            states(&v, Side::B),
            [Listen, SynReceived, Established, CloseWait, LastAck, Closed]
        );
    }

    #[test]
    fn a_reset_closes_both_sides() {
        // Refused: the server has no listener and answers with a RST.
        let v = view(
            &raw_pcap(&[
                packet(C, S, SYN, 100, 0, &[]),
                packet(S, C, RST | ACK, 0, 101, &[]),
            ]),
            1,
        )
        .unwrap();
        assert_eq!(states(&v, Side::A), [Closed, SynSent, Closed]);
        assert_eq!(causes(&v, Side::A), [Cause::AppConnect, Cause::RecvRst]);
        assert_eq!(states(&v, Side::B), [Closed]);
        // Aborted once established.
        let v = view(
            &raw_pcap(&[
                packet(C, S, SYN, 100, 0, &[]),
                packet(S, C, SYN | ACK, 500, 101, &[]),
                packet(C, S, ACK, 101, 501, &[]),
                packet(S, C, RST | ACK, 501, 101, &[]),
            ]),
            1,
        )
        .unwrap();
        assert_eq!(states(&v, Side::A), [Closed, SynSent, Established, Closed]);
        assert_eq!(*causes(&v, Side::A).last().unwrap(), Cause::RecvRst);
        assert_eq!(
            states(&v, Side::B),
            [Listen, SynReceived, Established, Closed]
        );
        assert_eq!(*causes(&v, Side::B).last().unwrap(), Cause::AppAbort);
    }

    #[test]
    fn a_capture_that_starts_mid_connection_starts_established() {
        let v = view(
            &raw_pcap(&[
                packet(S, C, PSH | ACK, 7000, 3000, b"more data"),
                packet(C, S, ACK, 3000, 7009, &[]),
                packet(C, S, FIN | ACK, 3000, 7009, &[]),
                packet(S, C, FIN | ACK, 7009, 3001, &[]),
                packet(C, S, ACK, 3001, 7010, &[]),
            ]),
            1,
        )
        .unwrap();
        // No SYN: the sender of the first segment is taken as the client.
        assert_eq!((v.client, v.server), (addr(S), addr(C)));
        assert_eq!(v.initial, [Established, Established]);
        assert_eq!(states(&v, Side::B), [Established, FinWait1, TimeWait]);
        assert_eq!(
            states(&v, Side::A),
            [Established, CloseWait, LastAck, Closed]
        );
        for side in [Side::A, Side::B] {
            let note = v.trace.events.iter().find_map(|e| match e {
                TraceEvent::Note { side: s, text, .. } if *s == side => Some(text.clone()),
                _ => None,
            });
            let note = note.unwrap();
            assert!(
                note.contains("mid-connection") && note.contains("ESTABLISHED"),
                "{note}"
            );
        }
        // A capture that starts at the SYN-ACK knows who the client is.
        let v = view(
            &raw_pcap(&[
                packet(S, C, SYN | ACK, 500, 101, &[]),
                packet(C, S, ACK, 101, 501, &[]),
            ]),
            1,
        )
        .unwrap();
        assert_eq!((v.client, v.server), (addr(C), addr(S)));
        assert_eq!(states(&v, Side::A), [SynSent, Established]);
        assert_eq!(states(&v, Side::B), [SynReceived, Established]);
    }

    #[test]
    fn conn_picks_connections_in_order_of_first_appearance() {
        let c2 = "10.0.0.1:40001";
        let s2 = "10.0.0.3:443";
        let first = full_exchange(C, S);
        let second = full_exchange(c2, s2);
        // Interleaved, the second starting after the first, with a UDP
        // packet between.
        let mut packets = Vec::new();
        let udp = {
            let ip = IpRepr::new(addr(C).ip(), addr(S).ip(), IpProtocol::Udp, 8, 64);
            let mut b = vec![0; ip.total_len()];
            ip.emit(&mut b);
            b
        };
        for i in 0..10 {
            packets.push(first[i].clone());
            if i == 3 {
                packets.push(udp.clone());
            }
            if i >= 2 {
                packets.push(second[i - 2].clone());
            }
        }
        packets.extend_from_slice(&second[8..]);
        let bytes = raw_pcap(&packets);
        let v = view(&bytes, 2).unwrap();
        assert_eq!((v.connection, v.connections), (2, 2));
        assert_eq!((v.client, v.server), (addr(c2), addr(s2)));
        assert_eq!(
            states(&v, Side::A),
            [Closed, SynSent, Established, CloseWait, LastAck, Closed]
        );
        assert_eq!(
            (v.counts.shown, v.counts.other_connections, v.counts.not_tcp),
            (10, 10, 1)
        );
        // The second connection's first segment came 3 packets in; its
        // times start at zero.
        assert_eq!(v.offset_us, 3000);
        assert_eq!(v.trace.events.first().map(|e| e.at()), Some(Instant::ZERO));
        assert_eq!(view(&bytes, 1).unwrap().client, addr(C));
        for n in [0, 3] {
            let e = view(&bytes, n).unwrap_err();
            assert_eq!(
                e,
                ViewError::NoSuchConnection {
                    asked: n,
                    connections: 2
                }
            );
            assert!(e.to_string().contains("has 2 TCP connections"), "{e}");
        }
    }

    #[test]
    fn the_same_addresses_again_after_a_close_are_a_new_connection() {
        let mut packets = full_exchange(C, S);
        packets.extend(full_exchange(C, S));
        let v = view(&raw_pcap(&packets), 2).unwrap();
        assert_eq!(v.connections, 2);
        assert_eq!(v.counts.shown, 10);
        assert_eq!(v.states(Side::A).last(), Some(&Closed));
    }

    #[test]
    fn ethernet_with_a_vlan_tag_and_arp() {
        let mut frames: Vec<Vec<u8>> = full_exchange(C, S)
            .iter()
            .enumerate()
            .map(|(i, p)| ethernet(0x0800, i == 2, p))
            .collect();
        // ARP, and Ethernet's padding of short frames.
        frames.insert(0, ethernet(0x0806, false, &[0; 28]));
        for f in &mut frames {
            if f.len() < 60 {
                f.resize(60, 0);
            }
        }
        let v = view(&pcap_with(DataLink::ETHERNET, &frames), 1).unwrap();
        assert_eq!(v.link_types, [LINK_ETHERNET]);
        assert_eq!((v.counts.packets, v.counts.not_ip), (11, 1));
        assert_eq!(
            states(&v, Side::B),
            [
                Listen,
                SynReceived,
                Established,
                FinWait1,
                FinWait2,
                TimeWait
            ]
        );
        assert_eq!(v.trace.segments(Side::B).nth(2).map(|s| s.len), Some(5));
    }

    #[test]
    fn every_link_type_it_claims() {
        let syn = packet(C, S, SYN, 1, 0, &[]);
        let syn6 = packet("[fd00::1]:1234", "[fd00::2]:80", SYN, 1, 0, &[]);
        let frames = |ip: &Vec<u8>, v6: bool| -> Vec<(u32, Vec<u8>)> {
            let et: u16 = if v6 { 0x86dd } else { 0x0800 };
            // AF_INET6 is 10 on Linux, 30 on macOS, 24 on OpenBSD.
            let family = |v6_number: u32| if v6 { v6_number } else { 2u32 };
            let mut sll = vec![0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0];
            sll.extend_from_slice(&et.to_be_bytes());
            let mut sll2 = et.to_be_bytes().to_vec();
            sll2.extend_from_slice(&[0; 18]);
            let with = |mut head: Vec<u8>| {
                head.extend_from_slice(ip);
                head
            };
            vec![
                (LINK_RAW, ip.clone()),
                (LINK_RAW_OLD, ip.clone()),
                (LINK_RAW_OLD2, ip.clone()),
                (LINK_ETHERNET, ethernet(et, false, ip)),
                (LINK_LINUX_SLL, with(sll)),
                (LINK_LINUX_SLL2, with(sll2)),
                // NULL in either byte order; LOOP in network order.
                (LINK_NULL, with(family(30).to_le_bytes().to_vec())),
                (LINK_NULL, with(family(10).to_be_bytes().to_vec())),
                (LINK_LOOP, with(family(24).to_be_bytes().to_vec())),
            ]
        };
        for (ip, v6) in [(&syn, false), (&syn6, true)] {
            for (link, frame) in frames(ip, v6) {
                let bytes = pcap_with(DataLink::from(link), &[frame]);
                let v = view(&bytes, 1).unwrap_or_else(|e| panic!("link {link} v6 {v6}: {e}"));
                assert_eq!(v.states(Side::A), [Closed, SynSent], "link {link}");
                assert_eq!(v.client.is_ipv6(), v6);
            }
        }
    }

    #[test]
    fn pcapng_with_nanosecond_ticks_and_linux_cooked_frames() {
        let mut w = PcapNgWriter::new(Vec::new()).unwrap();
        w.write_pcapng_block(InterfaceDescriptionBlock {
            linktype: DataLink::LINUX_SLL2,
            snaplen: 262_144,
            options: vec![InterfaceDescriptionOption::IfTsResol(9)],
        })
        .unwrap();
        // A second interface at the default microseconds.
        w.write_pcapng_block(InterfaceDescriptionBlock {
            linktype: DataLink::RAW,
            snaplen: 262_144,
            options: vec![],
        })
        .unwrap();
        for (i, p) in full_exchange(C, S).iter().enumerate() {
            let (interface, frame, ticks) = if i % 2 == 0 {
                let mut f = vec![0x08, 0x00];
                f.extend_from_slice(&[0; 18]);
                f.extend_from_slice(p);
                // 1.5 ms a packet, in nanoseconds.
                (0, f, 7_000_000_000 + i as u64 * 1_500_000)
            } else {
                (1, p.clone(), 7_000_000 + i as u64 * 1_500)
            };
            w.write_pcapng_block(EnhancedPacketBlock {
                interface_id: interface,
                timestamp: Duration::from_nanos(ticks),
                original_len: frame.len() as u32,
                data: Cow::Borrowed(&frame),
                options: vec![],
            })
            .unwrap();
        }
        let bytes = w.into_inner();
        let v = view(&bytes, 1).unwrap();
        assert_eq!(v.format, Format::PcapNg);
        assert_eq!(v.link_types, [LINK_LINUX_SLL2, LINK_RAW]);
        assert_eq!(
            states(&v, Side::A),
            [Closed, SynSent, Established, CloseWait, LastAck, Closed]
        );
        let times: Vec<u64> = v
            .trace
            .events
            .iter()
            .filter(|e| matches!(e, TraceEvent::Segment { .. }))
            .map(|e| e.at().as_micros())
            .collect();
        assert_eq!(times, (0..10).map(|i| i * 1500).collect::<Vec<u64>>());
        // Cut inside the last packet block.
        let e = view(&bytes[..bytes.len() - 10], 1).unwrap_err();
        assert!(
            matches!(e, ViewError::Truncated { packet: 10, .. }),
            "{e:?}"
        );
    }

    #[test]
    fn a_snapped_capture_keeps_the_lengths_and_offloaded_checksums_do_not_matter() {
        let mut packets = full_exchange(C, S);
        // The response: 1000 bytes, captured to 60, its TCP checksum left
        // to the NIC (zero) and, for good measure, its IP checksum too.
        let mut big = packet(S, C, PSH | ACK, 501, 104, &[7; 1000]);
        big[10] = 0;
        big[11] = 0;
        big[36] = 0;
        big[37] = 0;
        packets[5] = big;
        let header = PcapHeader {
            datalink: DataLink::RAW,
            snaplen: 60,
            ..PcapHeader::default()
        };
        let mut w = PcapWriter::with_header(Vec::new(), header).unwrap();
        for (i, p) in packets.iter().enumerate() {
            let ts = Duration::from_millis(i as u64);
            let cut = &p[..p.len().min(60)];
            w.write_packet(&PcapPacket::new(ts, p.len() as u32, cut))
                .unwrap();
        }
        let v = view(&w.into_writer(), 1).unwrap();
        assert_eq!(v.counts.unreadable, 0);
        let lens: Vec<usize> = v.trace.segments(Side::B).map(|s| s.len).collect();
        assert_eq!(lens, [0, 0, 1000, 0, 0]);
        // Cut inside the TCP header: unreadable, counted, not a panic.
        let p = packet(C, S, SYN, 1, 0, &[]);
        let header = PcapHeader {
            datalink: DataLink::RAW,
            snaplen: 30,
            ..PcapHeader::default()
        };
        let mut w = PcapWriter::with_header(Vec::new(), header).unwrap();
        w.write_packet(&PcapPacket::new(Duration::ZERO, p.len() as u32, &p[..30]))
            .unwrap();
        assert_eq!(
            view(&w.into_writer(), 1).unwrap_err(),
            ViewError::NoTcp { packets: 1 }
        );
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        // A link type it does not read.
        let bytes = pcap_with(DataLink::IEEE802_11, &[vec![0; 40]]);
        let e = view(&bytes, 1).unwrap_err();
        assert_eq!(e, ViewError::LinkType(105));
        assert!(e.to_string().contains("link type 105"), "{e}");
        // Truncated inside the last packet.
        let bytes = raw_pcap(&full_exchange(C, S));
        let e = view(&bytes[..bytes.len() - 5], 1).unwrap_err();
        assert!(
            matches!(e, ViewError::Truncated { packet: 10, .. }),
            "{e:?}"
        );
        assert!(e.to_string().contains("cut short"), "{e}");
        // Inside the file header.
        assert!(matches!(
            view(&bytes[..10], 1).unwrap_err(),
            ViewError::Malformed { offset: 0, .. }
        ));
        // Not a capture, or empty.
        let e = view(b"<!DOCTYPE html>", 1).unwrap_err();
        assert_eq!(
            e.to_string(),
            "not a pcap or pcapng capture (it starts with 3c 21 44 4f)"
        );
        assert!(matches!(view(b"", 1), Err(ViewError::NotACapture(_))));
        // No TCP at all.
        assert_eq!(
            view(&raw_pcap(&[]), 1).unwrap_err(),
            ViewError::NoTcp { packets: 0 }
        );
        // Every prefix, and every single-byte change of the header area,
        // of a pcap and a pcapng: an answer, never a panic.
        let mut ng = PcapNgWriter::new(Vec::new()).unwrap();
        ng.write_pcapng_block(InterfaceDescriptionBlock {
            linktype: DataLink::ETHERNET,
            snaplen: 0,
            options: vec![InterfaceDescriptionOption::IfTsResol(0x83)],
        })
        .unwrap();
        for p in full_exchange(C, S).iter().take(4) {
            let f = ethernet(0x0800, false, p);
            ng.write_pcapng_block(EnhancedPacketBlock {
                interface_id: 0,
                timestamp: Duration::from_nanos(u64::MAX),
                original_len: f.len() as u32,
                data: Cow::Borrowed(&f),
                options: vec![],
            })
            .unwrap();
        }
        let ng = ng.into_inner();
        assert_eq!(view(&ng, 1).unwrap().counts.shown, 4);
        for bytes in [&bytes[..400], &ng[..]] {
            for cut in 0..bytes.len() {
                let _ = view(&bytes[..cut], 1);
            }
            for at in 0..bytes.len().min(200) {
                for x in [0x01, 0x80, 0xff] {
                    let mut b = bytes.to_vec();
                    b[at] ^= x;
                    let _ = view(&b, 1);
                }
            }
        }
    }

    #[test]
    fn the_renderers_draw_a_view() {
        let v = view(&raw_pcap(&full_exchange(C, S)), 1).unwrap();
        let text = crate::ladder::render(
            &v.trace,
            &crate::ladder::LadderOptions::default(),
            &v.client.to_string(),
            &v.server.to_string(),
        );
        assert!(text.contains("[LISTEN → SYN-RECEIVED]"), "{text}");
        assert!(text.contains("states inferred"), "{text}");
        let picture = crate::svg::render(
            &v.trace,
            &crate::ladder::LadderOptions::default(),
            &v.client.to_string(),
            &v.server.to_string(),
        );
        assert_eq!(picture.steps.len(), 10);
        let summary = v.summary();
        assert!(summary[1].contains("LISTEN → SYN-RECEIVED"), "{summary:?}");
    }
}
