//! Version-independent IP types.
//!
//! This module owns [`IpProtocol`] (the protocol / next-header number) and
//! [`IpRepr`], which dispatches between IPv4 and IPv6 on the version nibble
//! so the rest of the stack can handle both families uniformly.

use std::net::IpAddr;

use crate::checksum::to_v6;
use crate::ipv4::Ipv4Repr;
use crate::ipv6::Ipv6Repr;
use crate::WireError;

/// An IP protocol number (IPv4 protocol field / IPv6 next header).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IpProtocol {
    /// TCP (6).
    Tcp,
    /// UDP (17).
    Udp,
    /// ICMP for IPv4 (1).
    Icmp,
    /// ICMP for IPv6 (58).
    Icmpv6,
    /// Any other protocol number. Never holds 1, 6, 17 or 58 when produced
    /// by `From<u8>`.
    Other(u8),
}

impl From<u8> for IpProtocol {
    fn from(value: u8) -> Self {
        match value {
            1 => IpProtocol::Icmp,
            6 => IpProtocol::Tcp,
            17 => IpProtocol::Udp,
            58 => IpProtocol::Icmpv6,
            other => IpProtocol::Other(other),
        }
    }
}

impl From<IpProtocol> for u8 {
    fn from(value: IpProtocol) -> Self {
        match value {
            IpProtocol::Icmp => 1,
            IpProtocol::Tcp => 6,
            IpProtocol::Udp => 17,
            IpProtocol::Icmpv6 => 58,
            IpProtocol::Other(other) => other,
        }
    }
}

/// A decoded IPv4 or IPv6 header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpRepr {
    /// IPv4.
    V4(Ipv4Repr),
    /// IPv6.
    V6(Ipv6Repr),
}

impl IpRepr {
    /// Parse an IPv4 or IPv6 packet (version nibble decides), verifying the
    /// IPv4 header checksum.
    ///
    /// Returns the repr and the upper-layer payload slice (exactly
    /// `payload_len` bytes; IPv4 options and IPv6 extension headers skipped,
    /// trailing bytes dropped). An empty buffer is `Truncated`; a version
    /// other than 4 or 6 is `BadVersion`.
    #[inline]
    pub fn parse(packet: &[u8]) -> Result<(IpRepr, &[u8]), WireError> {
        match packet.first().map(|b| b >> 4) {
            None => Err(WireError::Truncated),
            Some(4) => {
                let (repr, payload) = Ipv4Repr::parse_with_payload(packet)?;
                Ok((IpRepr::V4(repr), payload))
            }
            Some(6) => {
                let (repr, payload) = Ipv6Repr::parse_with_payload(packet)?;
                Ok((IpRepr::V6(repr), payload))
            }
            Some(_) => Err(WireError::BadVersion),
        }
    }

    /// Build a header for an outgoing packet.
    ///
    /// If both addresses are IPv4 the result is `V4` with DF set, ident 0,
    /// TOS 0 and TTL `hop_limit`. Otherwise the result is `V6` (traffic class
    /// and flow label 0); if the families are mixed, the IPv4 address is
    /// converted to its IPv4-mapped IPv6 form (`::ffff:a.b.c.d`), consistent
    /// with [`crate::checksum::pseudo_header`]. Never panics.
    pub fn new(
        src: IpAddr,
        dst: IpAddr,
        protocol: IpProtocol,
        payload_len: usize,
        hop_limit: u8,
    ) -> IpRepr {
        match (src, dst) {
            (IpAddr::V4(src), IpAddr::V4(dst)) => IpRepr::V4(Ipv4Repr {
                src,
                dst,
                protocol,
                payload_len,
                ttl: hop_limit,
                ident: 0,
                dont_fragment: true,
                tos: 0,
            }),
            _ => IpRepr::V6(Ipv6Repr {
                src: to_v6(src),
                dst: to_v6(dst),
                next_header: protocol,
                payload_len,
                hop_limit,
                traffic_class: 0,
                flow_label: 0,
            }),
        }
    }

    /// Source address.
    pub fn src(&self) -> IpAddr {
        match self {
            IpRepr::V4(r) => r.src.into(),
            IpRepr::V6(r) => r.src.into(),
        }
    }

    /// Destination address.
    pub fn dst(&self) -> IpAddr {
        match self {
            IpRepr::V4(r) => r.dst.into(),
            IpRepr::V6(r) => r.dst.into(),
        }
    }

    /// Upper-layer protocol.
    pub fn protocol(&self) -> IpProtocol {
        match self {
            IpRepr::V4(r) => r.protocol,
            IpRepr::V6(r) => r.next_header,
        }
    }

    /// Upper-layer payload length in bytes.
    pub fn payload_len(&self) -> usize {
        match self {
            IpRepr::V4(r) => r.payload_len,
            IpRepr::V6(r) => r.payload_len,
        }
    }

    /// Set the upper-layer payload length.
    pub fn set_payload_len(&mut self, len: usize) {
        match self {
            IpRepr::V4(r) => r.payload_len = len,
            IpRepr::V6(r) => r.payload_len = len,
        }
    }

    /// TTL (IPv4) or hop limit (IPv6).
    pub fn hop_limit(&self) -> u8 {
        match self {
            IpRepr::V4(r) => r.ttl,
            IpRepr::V6(r) => r.hop_limit,
        }
    }

    /// Length of the emitted header: 20 (IPv4) or 40 (IPv6). Emission never
    /// writes IPv4 options or IPv6 extension headers.
    pub fn header_len(&self) -> usize {
        match self {
            IpRepr::V4(_) => Ipv4Repr::HEADER_LEN,
            IpRepr::V6(_) => Ipv6Repr::HEADER_LEN,
        }
    }

    /// Header plus payload length.
    pub fn total_len(&self) -> usize {
        self.header_len() + self.payload_len()
    }

    /// Write the header only into `buf[..header_len()]`, computing the IPv4
    /// header checksum.
    ///
    /// # Panics
    ///
    /// If `buf` is shorter than `header_len()` or the payload length does
    /// not fit the length field (this is our own output; callers size it).
    pub fn emit(&self, buf: &mut [u8]) {
        match self {
            IpRepr::V4(r) => r.emit(buf),
            IpRepr::V6(r) => r.emit(buf),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn protocol_numbers() {
        for (n, p) in [
            (1u8, IpProtocol::Icmp),
            (6, IpProtocol::Tcp),
            (17, IpProtocol::Udp),
            (58, IpProtocol::Icmpv6),
            (99, IpProtocol::Other(99)),
        ] {
            assert_eq!(IpProtocol::from(n), p);
            assert_eq!(u8::from(p), n);
        }
        for n in 0..=255u8 {
            assert_eq!(u8::from(IpProtocol::from(n)), n);
        }
    }

    #[test]
    fn new_picks_family() {
        let a4: IpAddr = Ipv4Addr::new(1, 2, 3, 4).into();
        let b4: IpAddr = Ipv4Addr::new(5, 6, 7, 8).into();
        let a6: IpAddr = Ipv6Addr::LOCALHOST.into();
        let v4 = IpRepr::new(a4, b4, IpProtocol::Tcp, 10, 64);
        match v4 {
            IpRepr::V4(r) => {
                assert!(r.dont_fragment);
                assert_eq!((r.ident, r.ttl, r.tos), (0, 64, 0));
            }
            IpRepr::V6(_) => panic!("expected v4"),
        }
        assert_eq!(v4.header_len(), 20);
        assert_eq!(v4.total_len(), 30);
        let mixed = IpRepr::new(a4, a6, IpProtocol::Tcp, 10, 64);
        assert_eq!(mixed.header_len(), 40);
        assert_eq!(
            mixed.src(),
            IpAddr::V6(Ipv4Addr::new(1, 2, 3, 4).to_ipv6_mapped())
        );
        assert_eq!(mixed.dst(), a6);
        assert_eq!(mixed.hop_limit(), 64);
    }

    #[test]
    fn parse_rejects_empty_and_bad_version() {
        assert_eq!(IpRepr::parse(&[]), Err(WireError::Truncated));
        assert_eq!(IpRepr::parse(&[0x55; 40]), Err(WireError::BadVersion));
    }
}
