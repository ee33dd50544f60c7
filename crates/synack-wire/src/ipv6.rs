//! IPv6 headers (RFC 8200).
//!
//! This module owns the IPv6 fixed header: the zero-copy [`Ipv6Packet`] view
//! and the validated [`Ipv6Repr`]. Parsing walks the extension-header chain,
//! skipping Hop-by-Hop Options, Routing and Destination Options headers and
//! rejecting fragments; emission writes only the fixed header.

use std::net::Ipv6Addr;

use crate::ip::IpProtocol;
use crate::{be16, be32, put16, put32, WireError};

/// Byte offsets of the IPv6 fixed header fields (RFC 8200 §3).
mod field {
    pub const VER_TC_FLOW: usize = 0;
    pub const PAYLOAD_LEN: usize = 4;
    pub const NEXT_HEADER: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC: usize = 8;
    pub const DST: usize = 24;
}

/// Extension header numbers (RFC 8200 §4).
mod ext {
    pub const HOP_BY_HOP: u8 = 0;
    pub const ROUTING: u8 = 43;
    pub const FRAGMENT: u8 = 44;
    pub const DEST_OPTIONS: u8 = 60;
}

const FLOW_LABEL_MASK: u32 = 0x000F_FFFF;

/// A zero-copy view of an IPv6 packet in a byte buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv6Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv6Packet<T> {
    /// Wrap a buffer without validation. Field accessors may panic if the
    /// buffer is shorter than 40 bytes; [`Self::payload`] never panics.
    pub const fn new_unchecked(buffer: T) -> Self {
        Ipv6Packet { buffer }
    }

    /// Wrap a buffer after [`Self::check_len`] succeeds.
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Validate the version and payload length against the buffer:
    /// shorter than 40 bytes or than `40 + payload_len` is `Truncated`, a
    /// version other than 6 is `BadVersion`. Trailing bytes are ignored.
    pub fn check_len(&self) -> Result<(), WireError> {
        let buf = self.buffer.as_ref();
        if buf.len() < Ipv6Repr::HEADER_LEN {
            return Err(WireError::Truncated);
        }
        if self.version() != 6 {
            return Err(WireError::BadVersion);
        }
        // RFC 8200 §3: payload length counts everything after the fixed
        // header, extension headers included.
        if Ipv6Repr::HEADER_LEN + self.payload_len() > buf.len() {
            return Err(WireError::Truncated);
        }
        Ok(())
    }

    /// Consume the view, returning the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn first_word(&self) -> u32 {
        be32(self.buffer.as_ref(), field::VER_TC_FLOW)
    }

    /// The version nibble.
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_TC_FLOW] >> 4
    }

    /// Traffic class (DSCP + ECN).
    pub fn traffic_class(&self) -> u8 {
        (self.first_word() >> 20) as u8
    }

    /// 20-bit flow label.
    pub fn flow_label(&self) -> u32 {
        self.first_word() & FLOW_LABEL_MASK
    }

    /// Payload length field: bytes after the fixed header, including any
    /// extension headers.
    pub fn payload_len(&self) -> usize {
        usize::from(be16(self.buffer.as_ref(), field::PAYLOAD_LEN))
    }

    /// Next header field of the fixed header (may name an extension header,
    /// reported as `IpProtocol::Other(n)`).
    pub fn next_header(&self) -> IpProtocol {
        IpProtocol::from(self.buffer.as_ref()[field::NEXT_HEADER])
    }

    /// Hop limit.
    pub fn hop_limit(&self) -> u8 {
        self.buffer.as_ref()[field::HOP_LIMIT]
    }

    /// Source address.
    pub fn src_addr(&self) -> Ipv6Addr {
        addr_at(self.buffer.as_ref(), field::SRC)
    }

    /// Destination address.
    pub fn dst_addr(&self) -> Ipv6Addr {
        addr_at(self.buffer.as_ref(), field::DST)
    }

    /// Bytes after the fixed header up to the payload length (extension
    /// headers included). Never panics: clamped to the buffer.
    pub fn payload(&self) -> &[u8] {
        let buf = self.buffer.as_ref();
        if buf.len() < Ipv6Repr::HEADER_LEN {
            return &[];
        }
        let end = (Ipv6Repr::HEADER_LEN + self.payload_len()).min(buf.len());
        &buf[Ipv6Repr::HEADER_LEN..end]
    }
}

fn addr_at(buf: &[u8], at: usize) -> Ipv6Addr {
    let mut octets = [0u8; 16];
    octets.copy_from_slice(&buf[at..at + 16]);
    Ipv6Addr::from(octets)
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv6Packet<T> {
    fn set_first_word(&mut self, word: u32) {
        put32(self.buffer.as_mut(), field::VER_TC_FLOW, word);
    }

    /// Set the version nibble.
    pub fn set_version(&mut self, version: u8) {
        let w = (self.first_word() & 0x0FFF_FFFF) | (u32::from(version & 0x0F) << 28);
        self.set_first_word(w);
    }

    /// Set the traffic class.
    pub fn set_traffic_class(&mut self, tc: u8) {
        let w = (self.first_word() & 0xF00F_FFFF) | (u32::from(tc) << 20);
        self.set_first_word(w);
    }

    /// Set the flow label (only the low 20 bits are used).
    pub fn set_flow_label(&mut self, label: u32) {
        let w = (self.first_word() & !FLOW_LABEL_MASK) | (label & FLOW_LABEL_MASK);
        self.set_first_word(w);
    }

    /// Set the payload length field.
    pub fn set_payload_len(&mut self, len: u16) {
        put16(self.buffer.as_mut(), field::PAYLOAD_LEN, len);
    }

    /// Set the next header field.
    pub fn set_next_header(&mut self, next: IpProtocol) {
        self.buffer.as_mut()[field::NEXT_HEADER] = next.into();
    }

    /// Set the hop limit.
    pub fn set_hop_limit(&mut self, hop_limit: u8) {
        self.buffer.as_mut()[field::HOP_LIMIT] = hop_limit;
    }

    /// Set the source address.
    pub fn set_src_addr(&mut self, addr: Ipv6Addr) {
        self.buffer.as_mut()[field::SRC..field::SRC + 16].copy_from_slice(&addr.octets());
    }

    /// Set the destination address.
    pub fn set_dst_addr(&mut self, addr: Ipv6Addr) {
        self.buffer.as_mut()[field::DST..field::DST + 16].copy_from_slice(&addr.octets());
    }

    /// Mutable payload (clamped like [`Ipv6Packet::payload`]).
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let payload_len = self.payload_len();
        let buf = self.buffer.as_mut();
        let end = (Ipv6Repr::HEADER_LEN + payload_len).min(buf.len());
        buf.get_mut(Ipv6Repr::HEADER_LEN..end).unwrap_or(&mut [])
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Ipv6Packet<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// A validated, decoded IPv6 header, with extension headers skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Repr {
    /// Source address.
    pub src: Ipv6Addr,
    /// Destination address.
    pub dst: Ipv6Addr,
    /// Upper-layer protocol (after any extension headers).
    pub next_header: IpProtocol,
    /// Upper-layer payload length in bytes (after any extension headers).
    pub payload_len: usize,
    /// Hop limit.
    pub hop_limit: u8,
    /// Traffic class (DSCP + ECN).
    pub traffic_class: u8,
    /// 20-bit flow label.
    pub flow_label: u32,
}

/// Walk the extension-header chain starting at `next` over `payload`.
/// Returns the upper-layer protocol number and the offset where it starts.
fn skip_extension_headers(mut next: u8, payload: &[u8]) -> Result<(u8, usize), WireError> {
    let mut offset = 0usize;
    let mut first = true;
    loop {
        match next {
            ext::HOP_BY_HOP | ext::ROUTING | ext::DEST_OPTIONS => {
                // RFC 8200 §4.3: Hop-by-Hop Options may only appear
                // immediately after the fixed header.
                if next == ext::HOP_BY_HOP && !first {
                    return Err(WireError::Unsupported);
                }
                // RFC 8200 §4.3-4.6: byte 0 is Next Header, byte 1 the length
                // in 8-octet units not counting the first 8 octets.
                let rest = payload.get(offset..).unwrap_or(&[]);
                let (nh, ext_len) = match rest {
                    [nh, len, ..] => (*nh, (usize::from(*len) + 1) * 8),
                    _ => return Err(WireError::Truncated),
                };
                if ext_len > rest.len() {
                    return Err(WireError::Truncated);
                }
                offset += ext_len;
                next = nh;
            }
            // RFC 8200 §4.5: we do not reassemble; caller counts and drops.
            ext::FRAGMENT => return Err(WireError::Fragment),
            upper => return Ok((upper, offset)),
        }
        first = false;
    }
}

impl Ipv6Repr {
    /// Length of the fixed header, the only header [`Self::emit`] writes.
    pub const HEADER_LEN: usize = 40;

    /// Decode a packet view. `next_header` and `payload_len` describe the
    /// upper layer after skipping Hop-by-Hop (0, only directly after the
    /// fixed header, else `Unsupported`), Routing (43) and Destination
    /// Options (60) headers. A Fragment header (44) yields `Fragment`; an
    /// extension header running past the payload yields `Truncated`.
    pub fn parse<T: AsRef<[u8]>>(packet: &Ipv6Packet<T>) -> Result<Self, WireError> {
        packet.check_len()?;
        let payload = packet.payload();
        let first = packet.buffer.as_ref()[field::NEXT_HEADER];
        let (upper, offset) = skip_extension_headers(first, payload)?;
        Ok(Ipv6Repr {
            src: packet.src_addr(),
            dst: packet.dst_addr(),
            next_header: IpProtocol::from(upper),
            payload_len: payload.len() - offset,
            hop_limit: packet.hop_limit(),
            traffic_class: packet.traffic_class(),
            flow_label: packet.flow_label(),
        })
    }

    /// Parse a raw packet, returning the repr and exactly the upper-layer
    /// payload (`payload_len` bytes, extension headers skipped, trailing
    /// bytes beyond the payload length dropped).
    pub fn parse_with_payload(packet: &[u8]) -> Result<(Self, &[u8]), WireError> {
        let view = Ipv6Packet::new_checked(packet)?;
        let repr = Self::parse(&view)?;
        // check_len guarantees 40 + payload_len <= packet.len(), and the
        // upper-layer payload is the tail of that range.
        let end = Ipv6Repr::HEADER_LEN + view.payload_len();
        Ok((repr, &packet[end - repr.payload_len..end]))
    }

    /// Header length in bytes of the emitted header (always 40).
    pub const fn header_len(&self) -> usize {
        Self::HEADER_LEN
    }

    /// Write the 40-byte fixed header into `buf[..40]`. The flow label is
    /// truncated to 20 bits.
    ///
    /// # Panics
    ///
    /// If `buf` is shorter than 40 bytes or `payload_len` exceeds 65 535
    /// (jumbograms are not supported).
    pub fn emit(&self, buf: &mut [u8]) {
        let payload_len = u16::try_from(self.payload_len)
            .expect("Ipv6Repr::emit: payload_len too large for IPv6");
        let header = &mut buf[..Self::HEADER_LEN];
        let word = (6u32 << 28)
            | (u32::from(self.traffic_class) << 20)
            | (self.flow_label & FLOW_LABEL_MASK);
        put32(header, field::VER_TC_FLOW, word);
        put16(header, field::PAYLOAD_LEN, payload_len);
        header[field::NEXT_HEADER] = self.next_header.into();
        header[field::HOP_LIMIT] = self.hop_limit;
        header[field::SRC..field::SRC + 16].copy_from_slice(&self.src.octets());
        header[field::DST..field::DST + 16].copy_from_slice(&self.dst.octets());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setters_and_accessors() {
        let mut buf = [0u8; 48];
        let mut p = Ipv6Packet::new_unchecked(&mut buf[..]);
        p.set_version(6);
        p.set_traffic_class(0xAB);
        p.set_flow_label(0xF_FFFF);
        p.set_payload_len(8);
        p.set_next_header(IpProtocol::Tcp);
        p.set_hop_limit(7);
        p.set_src_addr(Ipv6Addr::LOCALHOST);
        p.set_dst_addr(Ipv6Addr::UNSPECIFIED);
        p.payload_mut().copy_from_slice(&[1; 8]);
        let p = Ipv6Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(p.version(), 6);
        assert_eq!(p.traffic_class(), 0xAB);
        assert_eq!(p.flow_label(), 0xF_FFFF);
        assert_eq!(p.payload(), &[1; 8]);
        let repr = Ipv6Repr::parse(&p).unwrap();
        assert_eq!(repr.next_header, IpProtocol::Tcp);
        assert_eq!(repr.hop_limit, 7);
        assert_eq!(repr.src, Ipv6Addr::LOCALHOST);
    }

    #[test]
    fn hop_by_hop_not_first_is_rejected() {
        // Destination options (8 bytes) followed by a hop-by-hop header.
        let payload = [ext::HOP_BY_HOP, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(
            skip_extension_headers(ext::DEST_OPTIONS, &payload),
            Err(WireError::Unsupported)
        );
        assert_eq!(
            skip_extension_headers(ext::HOP_BY_HOP, &payload[8..]),
            Ok((6, 8))
        );
        assert_eq!(
            skip_extension_headers(ext::ROUTING, &payload[..1]),
            Err(WireError::Truncated)
        );
    }
}
