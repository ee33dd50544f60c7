//! Reading a capture: pcap and pcapng files, the link layers they carry,
//! and the IP and TCP inside.

use super::*;
use pcap_file::pcap::PcapParser;
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::{Block, PcapNgParser};
use pcap_file::{Endianness, PcapError, TsResolution};
use std::net::SocketAddr;
use synack_wire::{IpProtocol, IpRepr, TcpHeader, WireError};

/// The link types [`view`] reads, with the numbers of `LINKTYPE_*`.
pub(super) const LINK_NULL: u32 = 0;
pub(super) const LINK_ETHERNET: u32 = 1;
pub(super) const LINK_RAW_OLD: u32 = 12;
pub(super) const LINK_RAW_OLD2: u32 = 14;
pub(super) const LINK_RAW: u32 = 101;
pub(super) const LINK_LOOP: u32 = 108;
pub(super) const LINK_LINUX_SLL: u32 = 113;
pub(super) const LINK_LINUX_SLL2: u32 = 276;

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

pub(super) fn link_supported(n: u32) -> bool {
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

/// A packet as the file stores it.
pub(super) struct Captured<'a> {
    /// Capture time in nanoseconds since the capture's epoch.
    pub(super) at_ns: u128,
    pub(super) link: u32,
    pub(super) data: &'a [u8],
    /// The packet's length on the wire (more than `data` when the snap
    /// length cut it).
    pub(super) orig_len: usize,
}

/// Calls `f` with every packet of a pcap or pcapng file, in file order.
pub(super) fn for_each_packet(
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
pub(super) fn is_packet_block(rest: &[u8], parser: &PcapNgParser) -> bool {
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
pub(super) fn ticks_to_ns(ticks: u128, idb: &InterfaceDescriptionBlock) -> u128 {
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
pub(super) enum Decoded {
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
pub(super) fn ethertype(t: u16, rest: &[u8]) -> Option<&[u8]> {
    matches!(t, 0x0800 | 0x86dd).then_some(rest)
}

/// The IP packet inside a link-layer frame; `None` if it carries no IP.
pub(super) fn network_layer(link: u32, frame: &[u8]) -> Option<&[u8]> {
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
pub(super) fn decode(ip: &[u8], orig_len: usize) -> Decoded {
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
