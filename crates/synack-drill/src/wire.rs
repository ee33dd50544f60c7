//! Packets on the script's side of the wire: inbound segments are built
//! byte by byte so their options appear exactly in the script's order
//! (`TcpRepr` would lay them out its own way), and outbound packets are
//! decoded with their options as a list, in wire order.

use crate::script::Opt;
use std::net::IpAddr;
use synack_wire::tcp::HEADER_LEN;
use synack_wire::{IpProtocol, IpRepr, OptionList, TcpHeader, TcpOption, TcpPacket};

/// A segment to inject, with absolute numbers.
#[derive(Clone, Debug)]
pub struct Inbound<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub window: u16,
    pub urgent: u16,
    pub options: &'a [Opt],
    pub payload_len: usize,
}

/// Encodes options in order; pads with EOL to a multiple of 4.
pub fn encode_options(opts: &[Opt]) -> Vec<u8> {
    let mut out = Vec::new();
    for o in opts {
        match o {
            Opt::Eol => out.push(0),
            Opt::Nop => out.push(1),
            Opt::Mss(m) => {
                out.extend_from_slice(&[2, 4]);
                out.extend_from_slice(&m.to_be_bytes());
            }
            Opt::Wscale(w) => out.extend_from_slice(&[3, 3, *w]),
            Opt::SackOk => out.extend_from_slice(&[4, 2]),
            Opt::Sack(blocks) => {
                out.extend_from_slice(&[5, 2 + 8 * blocks.len() as u8]);
                for (l, r) in blocks {
                    out.extend_from_slice(&l.to_be_bytes());
                    out.extend_from_slice(&r.to_be_bytes());
                }
            }
            Opt::Ts { val, ecr } => {
                out.extend_from_slice(&[8, 10]);
                out.extend_from_slice(&val.to_be_bytes());
                out.extend_from_slice(&ecr.to_be_bytes());
            }
        }
    }
    while out.len() % 4 != 0 {
        out.push(0);
    }
    out
}

/// Builds the whole IP packet.
pub fn build(p: &Inbound<'_>) -> Vec<u8> {
    let opts = encode_options(p.options);
    let hlen = 20 + opts.len();
    let tcp_len = hlen + p.payload_len;
    let ip = IpRepr::new(p.src, p.dst, IpProtocol::Tcp, tcp_len, 64);
    let ip_len = ip.header_len();
    let mut buf = vec![0u8; ip_len + tcp_len];
    ip.emit(&mut buf[..ip_len]);
    let mut tcp = TcpPacket::new_unchecked(&mut buf[ip_len..]);
    tcp.set_src_port(p.src_port);
    tcp.set_dst_port(p.dst_port);
    tcp.set_seq_number(p.seq);
    tcp.set_ack_number(p.ack);
    tcp.set_header_len(hlen);
    tcp.set_flags(synack_wire::tcp::TcpFlags(p.flags));
    tcp.set_window_len(p.window);
    tcp.set_urgent(p.urgent);
    tcp.options_mut()[..opts.len()].copy_from_slice(&opts);
    tcp.fill_checksum(p.src, p.dst);
    buf
}

/// A TCP segment the host sent, decoded: the shared header, and its options
/// again as a list in wire order (a script compares them in order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outbound {
    pub header: TcpHeader,
    pub options: Vec<Opt>,
    pub payload_len: usize,
}

/// Decodes an IP packet; `Err` describes a packet that is not TCP.
pub fn decode(packet: &[u8]) -> Result<Outbound, String> {
    let (ip, payload) = IpRepr::parse(packet).map_err(|e| format!("bad IP packet: {e:?}"))?;
    if ip.protocol() != IpProtocol::Tcp {
        return Err(format!("a non-TCP packet ({:?})", ip.protocol()));
    }
    let (header, data) = TcpHeader::parse(payload, ip.src(), ip.dst(), false)
        .map_err(|e| format!("bad TCP header: {e:?}"))?;
    // The option bytes lie between the fixed header and the payload.
    let option_bytes = &payload[HEADER_LEN..payload.len() - data.len()];
    Ok(Outbound {
        header,
        options: decode_options(option_bytes),
        payload_len: data.len(),
    })
}

/// Decodes an option list kind by kind, keeping padding and every EOL, as
/// a script writes them; options this runner has no words for are left
/// out.
pub fn decode_options(b: &[u8]) -> Vec<Opt> {
    OptionList::new(b)
        .filter_map(|o| match o {
            TcpOption::Eol => Some(Opt::Eol),
            TcpOption::Nop => Some(Opt::Nop),
            TcpOption::Mss(m) => Some(Opt::Mss(m)),
            TcpOption::WindowScale(w) => Some(Opt::Wscale(w)),
            TcpOption::SackPermitted => Some(Opt::SackOk),
            TcpOption::Timestamps(val, ecr) => Some(Opt::Ts { val, ecr }),
            TcpOption::Sack(blocks) => Some(Opt::Sack(
                blocks.iter().map(|b| (b.left, b.right)).collect(),
            )),
            TcpOption::Unknown { .. } | TcpOption::Malformed { .. } => None,
        })
        .collect()
}
