//! The interface: addresses, routes, the MTU and what follows from it, and
//! writing IP packets.
//!
//! IP input checks versions, lengths and checksums (in synack-wire), and
//! here TTL / hop limit: a packet that arrives with 0 is counted as a
//! header error. Fragments are counted and dropped: this host does not
//! reassemble (TCP never needs it — the MSS keeps segments within the MTU,
//! and a too-big packet is answered by ICMP, which lowers the MSS).

use std::net::{IpAddr, SocketAddr};
use synack_wire::{IpProtocol, IpRepr, Ipv4Repr, TcpHeader, TcpRepr};

/// IPv4 header without options, IPv6 fixed header, TCP header.
const IPV4_HEADER: usize = 20;
const IPV6_HEADER: usize = 40;
const TCP_HEADER: usize = 20;

/// Addresses, routes and the link MTU of a host.
#[derive(Clone, Debug)]
pub(crate) struct Interface {
    pub addresses: Vec<(IpAddr, u8)>,
    pub default_v4: bool,
    pub default_v6: bool,
    pub mtu: usize,
}

fn prefix_match(a: IpAddr, b: IpAddr, len: u8) -> bool {
    match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let len = u32::from(len.min(32));
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            u32::from(a) & mask == u32::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let len = u32::from(len.min(128));
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - len)
            };
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}

impl Interface {
    /// This host owns `ip`.
    pub fn has(&self, ip: IpAddr) -> bool {
        self.addresses.iter().any(|&(a, _)| a == ip)
    }

    /// The source address for a packet to `dst`: one on the same network
    /// (an on-link route), else any of the family if it has a default
    /// route; `None` if `dst` is unreachable.
    pub fn source_for(&self, dst: IpAddr) -> Option<IpAddr> {
        if let Some(&(a, _)) = self
            .addresses
            .iter()
            .find(|&&(a, len)| prefix_match(a, dst, len))
        {
            return Some(a);
        }
        let default = if dst.is_ipv4() {
            self.default_v4
        } else {
            self.default_v6
        };
        if !default {
            return None;
        }
        self.addresses
            .iter()
            .find(|&&(a, _)| a.is_ipv4() == dst.is_ipv4())
            .map(|&(a, _)| a)
    }

    /// The MSS for the family: MTU − IP header − TCP header (RFC 9293
    /// §3.7.1), at least the 536 every host must take.
    pub fn mss(&self, v4: bool) -> u16 {
        let ip = if v4 { IPV4_HEADER } else { IPV6_HEADER };
        let mss = self.mtu.saturating_sub(ip + TCP_HEADER);
        mss.clamp(536, 65535) as u16
    }
}

/// Writes an IP header and a TCP segment (header and payload in up to two
/// pieces) into `buf`; `None` if it does not fit. With `tcp_checksum`
/// false the TCP checksum is left to the link (`HostConfig::checksum_offload`).
pub(crate) fn write_tcp(
    buf: &mut [u8],
    src: IpAddr,
    dst: IpAddr,
    hop_limit: u8,
    header: &TcpHeader,
    payload: [&[u8]; 2],
    tcp_checksum: bool,
) -> Option<usize> {
    // The TCP segment first, behind the room for the IP header: its
    // length (options included) is worked out once, there, and the IP
    // header then carries it.
    let v4 = match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => Some((s, d)),
        _ => None,
    };
    let hl = if v4.is_some() {
        IPV4_HEADER
    } else {
        IPV6_HEADER
    };
    let (ip_buf, tcp_buf) = buf.split_at_mut_checked(hl)?;
    let seg_len =
        header.try_emit_checksummed(tcp_buf, src, dst, payload[0], payload[1], tcp_checksum)?;
    match v4 {
        Some((src, dst)) => Ipv4Repr {
            src,
            dst,
            protocol: IpProtocol::Tcp,
            payload_len: seg_len,
            ttl: hop_limit,
            ident: 0,
            dont_fragment: true,
            tos: 0,
        }
        .emit(ip_buf),
        None => IpRepr::new(src, dst, IpProtocol::Tcp, seg_len, hop_limit).emit(ip_buf),
    }
    Some(hl + seg_len)
}

/// Writes an IP header and the TCP segment `repr` (with its payload) into
/// `buf` with the default hop limit; `None` if it does not fit. For tools
/// and tests that build packets by hand.
pub fn write_packet(buf: &mut [u8], src: IpAddr, dst: IpAddr, repr: &TcpRepr<'_>) -> Option<usize> {
    write_tcp(buf, src, dst, 64, &repr.header(), [repr.payload, &[]], true)
}

/// The local and remote socket addresses of a TCP segment that arrived.
pub(crate) fn endpoints(src: IpAddr, dst: IpAddr, seg: &TcpRepr<'_>) -> (SocketAddr, SocketAddr) {
    (
        SocketAddr::new(dst, seg.dst_port),
        SocketAddr::new(src, seg.src_port),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_choose_the_source_and_mss_follows_the_mtu() {
        let iface = Interface {
            addresses: vec![
                ("10.0.0.1".parse().unwrap(), 24),
                ("192.168.7.1".parse().unwrap(), 24),
                ("fd00::1".parse().unwrap(), 64),
            ],
            default_v4: true,
            default_v6: false,
            mtu: 1500,
        };
        let s = |d: &str| iface.source_for(d.parse().unwrap());
        assert_eq!(s("192.168.7.9"), Some("192.168.7.1".parse().unwrap()));
        assert_eq!(s("8.8.8.8"), Some("10.0.0.1".parse().unwrap()));
        assert_eq!(s("fd00::9"), Some("fd00::1".parse().unwrap()));
        assert_eq!(s("2001:db8::1"), None, "no IPv6 default route");
        assert_eq!(iface.mss(true), 1460);
        assert_eq!(iface.mss(false), 1440);
    }
}
