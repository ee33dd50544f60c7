//! Packets on the script's side of the wire: inbound segments are built
//! byte by byte so their options appear exactly in the script's order
//! (`TcpRepr` would lay them out its own way), and outbound packets are
//! decoded with their options as a list, in wire order.

use crate::script::Opt;
use std::net::IpAddr;
use synack_wire::{IpProtocol, IpRepr, TcpPacket};

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

/// A TCP segment the host sent, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outbound {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub window: u16,
    pub urgent: u16,
    pub options: Vec<Opt>,
    pub payload_len: usize,
}

/// Decodes an IP packet; `Err` describes a packet that is not TCP.
pub fn decode(packet: &[u8]) -> Result<Outbound, String> {
    let (ip, payload) = IpRepr::parse(packet).map_err(|e| format!("bad IP packet: {e:?}"))?;
    if ip.protocol() != IpProtocol::Tcp {
        return Err(format!("a non-TCP packet ({:?})", ip.protocol()));
    }
    let tcp = TcpPacket::new_checked(payload).map_err(|e| format!("bad TCP header: {e:?}"))?;
    Ok(Outbound {
        src: ip.src(),
        dst: ip.dst(),
        src_port: tcp.src_port(),
        dst_port: tcp.dst_port(),
        seq: tcp.seq_number(),
        ack: tcp.ack_number(),
        flags: tcp.flags().0,
        window: tcp.window_len(),
        urgent: tcp.urgent(),
        options: decode_options(tcp.options()),
        payload_len: tcp.payload().len(),
    })
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// Decodes an option list kind by kind, keeping padding; trailing EOL
/// bytes after the first EOL are kept as EOLs, as a script writes them.
pub fn decode_options(mut b: &[u8]) -> Vec<Opt> {
    let mut out = Vec::new();
    while let Some(&kind) = b.first() {
        match kind {
            0 => {
                out.push(Opt::Eol);
                b = &b[1..];
                continue;
            }
            1 => {
                out.push(Opt::Nop);
                b = &b[1..];
                continue;
            }
            _ => {}
        }
        let Some(&len) = b.get(1) else { break };
        let len = usize::from(len);
        if len < 2 || len > b.len() {
            break;
        }
        let body = &b[2..len];
        match (kind, body.len()) {
            (2, 2) => out.push(Opt::Mss(u16::from_be_bytes([body[0], body[1]]))),
            (3, 1) => out.push(Opt::Wscale(body[0])),
            (4, 0) => out.push(Opt::SackOk),
            (8, 8) => out.push(Opt::Ts {
                val: be32(&body[..4]),
                ecr: be32(&body[4..]),
            }),
            (5, n) if n % 8 == 0 => out.push(Opt::Sack(
                body.chunks(8)
                    .map(|c| (be32(&c[..4]), be32(&c[4..])))
                    .collect(),
            )),
            _ => {}
        }
        b = &b[len..];
    }
    out
}
