//! IPv4 headers (RFC 791).
//!
//! This module owns the IPv4 header: the zero-copy [`Ipv4Packet`] view and
//! the validated [`Ipv4Repr`]. Options are skipped on parse and never
//! emitted; fragments are rejected with [`WireError::Fragment`] because the
//! stack does not reassemble.

use std::net::Ipv4Addr;

use crate::checksum;
use crate::ip::IpProtocol;
use crate::{be16, put16, WireError};

/// Byte offsets of the fixed IPv4 header fields (RFC 791 §3.1).
mod field {
    pub const VER_IHL: usize = 0;
    pub const TOS: usize = 1;
    pub const TOTAL_LEN: usize = 2;
    pub const IDENT: usize = 4;
    pub const FLAGS_FRAG: usize = 6;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: usize = 10;
    pub const SRC: usize = 12;
    pub const DST: usize = 16;
}

/// Flag bits in the 16-bit flags/fragment-offset word.
const FLAG_DF: u16 = 0x4000;
const FLAG_MF: u16 = 0x2000;
const FRAG_OFFSET_MASK: u16 = 0x1FFF;

/// The partial sum (folded to 16 bits) of a header held as big-endian
/// 32-bit words: each word is two 16-bit ones, and 2^16 ≡ 1 modulo 0xFFFF.
#[inline]
fn sum_words(words: &[u32; 5]) -> u32 {
    let total: u64 = words.iter().map(|&w| u64::from(w)).sum();
    // Below 2^35: two folds bring it under 2^17, and `fold` does the rest.
    let total = (total & 0xFFFF) + (total >> 16);
    u32::from(checksum::fold(((total & 0xFFFF) + (total >> 16)) as u32))
}

/// A zero-copy view of an IPv4 packet in a byte buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    /// Wrap a buffer without validation. Field accessors may panic if the
    /// buffer is shorter than 20 bytes; [`Self::payload`] never panics.
    pub const fn new_unchecked(buffer: T) -> Self {
        Ipv4Packet { buffer }
    }

    /// Wrap a buffer after [`Self::check_len`] succeeds.
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Validate the version and the length fields against the buffer.
    ///
    /// * buffer shorter than 20 bytes, or than IHL*4: `Truncated`
    /// * version nibble not 4: `BadVersion`
    /// * IHL < 5: `BadHeaderLen`
    /// * total length < IHL*4: `BadLength`
    /// * total length > buffer length: `Truncated`
    ///
    /// Bytes beyond the total length (e.g. Ethernet padding) are ignored.
    pub fn check_len(&self) -> Result<(), WireError> {
        let buf = self.buffer.as_ref();
        if buf.len() < Ipv4Repr::HEADER_LEN {
            return Err(WireError::Truncated);
        }
        if self.version() != 4 {
            return Err(WireError::BadVersion);
        }
        // RFC 791 §3.1: IHL counts 32-bit words; 5 is the minimum.
        let header_len = self.header_len();
        if header_len < Ipv4Repr::HEADER_LEN {
            return Err(WireError::BadHeaderLen);
        }
        if header_len > buf.len() {
            return Err(WireError::Truncated);
        }
        // RFC 791 §3.1: total length covers header and data.
        let total_len = self.total_len();
        if total_len < header_len {
            return Err(WireError::BadLength);
        }
        if total_len > buf.len() {
            return Err(WireError::Truncated);
        }
        Ok(())
    }

    /// Consume the view, returning the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The version nibble.
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_IHL] >> 4
    }

    /// Header length in bytes (IHL * 4), including options.
    pub fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[field::VER_IHL] & 0x0F) * 4
    }

    /// Type of service / DSCP+ECN byte.
    pub fn tos(&self) -> u8 {
        self.buffer.as_ref()[field::TOS]
    }

    /// Total length (header + data) in bytes.
    pub fn total_len(&self) -> usize {
        usize::from(be16(self.buffer.as_ref(), field::TOTAL_LEN))
    }

    /// Identification field.
    pub fn ident(&self) -> u16 {
        be16(self.buffer.as_ref(), field::IDENT)
    }

    /// Don't Fragment flag.
    pub fn dont_fragment(&self) -> bool {
        be16(self.buffer.as_ref(), field::FLAGS_FRAG) & FLAG_DF != 0
    }

    /// More Fragments flag.
    pub fn more_fragments(&self) -> bool {
        be16(self.buffer.as_ref(), field::FLAGS_FRAG) & FLAG_MF != 0
    }

    /// Fragment offset in bytes (the wire field counts 8-byte units).
    pub fn frag_offset(&self) -> u16 {
        (be16(self.buffer.as_ref(), field::FLAGS_FRAG) & FRAG_OFFSET_MASK) * 8
    }

    /// `true` if this packet is a fragment (MF set or non-zero offset).
    pub fn is_fragment(&self) -> bool {
        self.more_fragments() || self.frag_offset() != 0
    }

    /// Time to live.
    pub fn ttl(&self) -> u8 {
        self.buffer.as_ref()[field::TTL]
    }

    /// Upper-layer protocol.
    pub fn protocol(&self) -> IpProtocol {
        IpProtocol::from(self.buffer.as_ref()[field::PROTOCOL])
    }

    /// Header checksum as stored.
    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), field::CHECKSUM)
    }

    /// Source address.
    pub fn src_addr(&self) -> Ipv4Addr {
        let b = self.buffer.as_ref();
        Ipv4Addr::new(
            b[field::SRC],
            b[field::SRC + 1],
            b[field::SRC + 2],
            b[field::SRC + 3],
        )
    }

    /// Destination address.
    pub fn dst_addr(&self) -> Ipv4Addr {
        let b = self.buffer.as_ref();
        Ipv4Addr::new(
            b[field::DST],
            b[field::DST + 1],
            b[field::DST + 2],
            b[field::DST + 3],
        )
    }

    /// `true` if the header checksum (over IHL*4 bytes) verifies.
    /// Returns `false` if the buffer is shorter than the header.
    pub fn verify_checksum(&self) -> bool {
        let buf = self.buffer.as_ref();
        match buf.get(..self.header_len()) {
            Some(header) => checksum::verify(checksum::sum(header)),
            None => false,
        }
    }

    /// The payload: bytes from the end of the header to the total length.
    /// Never panics: inconsistent lengths yield a clamped (possibly empty)
    /// slice.
    pub fn payload(&self) -> &[u8] {
        let buf = self.buffer.as_ref();
        if buf.len() < Ipv4Repr::HEADER_LEN {
            return &[];
        }
        let end = self.total_len().min(buf.len());
        buf.get(self.header_len()..end).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv4Packet<T> {
    /// Set the version nibble.
    pub fn set_version(&mut self, version: u8) {
        let b = &mut self.buffer.as_mut()[field::VER_IHL];
        *b = (*b & 0x0F) | (version << 4);
    }

    /// Set the header length in bytes (must be a multiple of 4, 20..=60).
    pub fn set_header_len(&mut self, len: usize) {
        let b = &mut self.buffer.as_mut()[field::VER_IHL];
        *b = (*b & 0xF0) | ((len / 4) as u8 & 0x0F);
    }

    /// Set the type-of-service byte.
    pub fn set_tos(&mut self, tos: u8) {
        self.buffer.as_mut()[field::TOS] = tos;
    }

    /// Set the total length field.
    pub fn set_total_len(&mut self, len: u16) {
        put16(self.buffer.as_mut(), field::TOTAL_LEN, len);
    }

    /// Set the identification field.
    pub fn set_ident(&mut self, ident: u16) {
        put16(self.buffer.as_mut(), field::IDENT, ident);
    }

    fn set_flags_frag(&mut self, value: u16) {
        put16(self.buffer.as_mut(), field::FLAGS_FRAG, value);
    }

    fn flags_frag(&self) -> u16 {
        be16(self.buffer.as_ref(), field::FLAGS_FRAG)
    }

    /// Set or clear the Don't Fragment flag.
    pub fn set_dont_fragment(&mut self, df: bool) {
        let v = self.flags_frag() & !FLAG_DF;
        self.set_flags_frag(if df { v | FLAG_DF } else { v });
    }

    /// Set or clear the More Fragments flag.
    pub fn set_more_fragments(&mut self, mf: bool) {
        let v = self.flags_frag() & !FLAG_MF;
        self.set_flags_frag(if mf { v | FLAG_MF } else { v });
    }

    /// Set the fragment offset in bytes (rounded down to 8-byte units).
    pub fn set_frag_offset(&mut self, offset: u16) {
        let v = self.flags_frag() & !FRAG_OFFSET_MASK;
        self.set_flags_frag(v | ((offset / 8) & FRAG_OFFSET_MASK));
    }

    /// Set the time to live.
    pub fn set_ttl(&mut self, ttl: u8) {
        self.buffer.as_mut()[field::TTL] = ttl;
    }

    /// Set the upper-layer protocol.
    pub fn set_protocol(&mut self, protocol: IpProtocol) {
        self.buffer.as_mut()[field::PROTOCOL] = protocol.into();
    }

    /// Set the stored header checksum.
    pub fn set_checksum(&mut self, value: u16) {
        put16(self.buffer.as_mut(), field::CHECKSUM, value);
    }

    /// Set the source address.
    pub fn set_src_addr(&mut self, addr: Ipv4Addr) {
        self.buffer.as_mut()[field::SRC..field::SRC + 4].copy_from_slice(&addr.octets());
    }

    /// Set the destination address.
    pub fn set_dst_addr(&mut self, addr: Ipv4Addr) {
        self.buffer.as_mut()[field::DST..field::DST + 4].copy_from_slice(&addr.octets());
    }

    /// Compute and store the header checksum over IHL*4 bytes.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let header_len = self.header_len();
        let value = checksum::checksum(&self.buffer.as_ref()[..header_len]);
        self.set_checksum(value);
    }

    /// Mutable payload (clamped like [`Ipv4Packet::payload`]).
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let header_len = self.header_len();
        let total_len = self.total_len();
        let buf = self.buffer.as_mut();
        let end = total_len.min(buf.len());
        buf.get_mut(header_len..end).unwrap_or(&mut [])
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Ipv4Packet<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// A validated, decoded IPv4 header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Repr {
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// Upper-layer protocol.
    pub protocol: IpProtocol,
    /// Upper-layer payload length in bytes (total length - header length).
    pub payload_len: usize,
    /// Time to live.
    pub ttl: u8,
    /// Identification field.
    pub ident: u16,
    /// Don't Fragment flag.
    pub dont_fragment: bool,
    /// Type of service / DSCP+ECN byte.
    pub tos: u8,
}

impl Ipv4Repr {
    /// Length of the header emitted by [`Self::emit`] (no options).
    pub const HEADER_LEN: usize = 20;

    /// Decode a packet view: validates lengths, verifies the header checksum
    /// (`BadChecksum`) and rejects fragments (`Fragment`). Options are
    /// skipped.
    pub fn parse<T: AsRef<[u8]>>(packet: &Ipv4Packet<T>) -> Result<Self, WireError> {
        packet.check_len()?;
        // RFC 791 §3.1: the checksum covers the header only.
        if !packet.verify_checksum() {
            return Err(WireError::BadChecksum);
        }
        // RFC 791 §3.2: a fragment has MF set or a non-zero offset. We do not
        // reassemble; the caller counts and drops these.
        if packet.is_fragment() {
            return Err(WireError::Fragment);
        }
        Ok(Ipv4Repr {
            src: packet.src_addr(),
            dst: packet.dst_addr(),
            protocol: packet.protocol(),
            payload_len: packet.total_len() - packet.header_len(),
            ttl: packet.ttl(),
            ident: packet.ident(),
            dont_fragment: packet.dont_fragment(),
            tos: packet.tos(),
        })
    }

    /// Parse a raw packet, returning the repr and exactly `payload_len`
    /// payload bytes (trailing bytes beyond the total length are dropped).
    #[inline]
    pub fn parse_with_payload(packet: &[u8]) -> Result<(Self, &[u8]), WireError> {
        if let Some((h, _)) = packet.split_first_chunk::<{ Self::HEADER_LEN }>() {
            if h[field::VER_IHL] == 0x45 {
                return Self::parse_plain(h, packet);
            }
        }
        let view = Ipv4Packet::new_checked(packet)?;
        let repr = Self::parse(&view)?;
        // check_len guarantees header_len <= total_len <= packet.len().
        Ok((repr, &packet[view.header_len()..view.total_len()]))
    }

    /// [`Self::parse_with_payload`] for what nearly every packet is:
    /// version 4 and a 20-byte header without options. The fields are read
    /// from a fixed-size view, and the checks and errors are the general
    /// path's, in its order.
    #[inline]
    fn parse_plain<'a>(
        h: &[u8; Self::HEADER_LEN],
        packet: &'a [u8],
    ) -> Result<(Self, &'a [u8]), WireError> {
        // RFC 791 §3.1: total length covers header and data.
        let total_len = usize::from(u16::from_be_bytes([h[2], h[3]]));
        if total_len < Self::HEADER_LEN {
            return Err(WireError::BadLength);
        }
        let Some(payload) = packet.get(Self::HEADER_LEN..total_len) else {
            return Err(WireError::Truncated);
        };
        let words: [u32; 5] = core::array::from_fn(|i| {
            u32::from_be_bytes([h[4 * i], h[4 * i + 1], h[4 * i + 2], h[4 * i + 3]])
        });
        if !checksum::verify(sum_words(&words)) {
            return Err(WireError::BadChecksum);
        }
        let flags_frag = words[1] as u16;
        if flags_frag & (FLAG_MF | FRAG_OFFSET_MASK) != 0 {
            return Err(WireError::Fragment);
        }
        let repr = Ipv4Repr {
            src: Ipv4Addr::from(words[3]),
            dst: Ipv4Addr::from(words[4]),
            protocol: IpProtocol::from(h[field::PROTOCOL]),
            payload_len: total_len - Self::HEADER_LEN,
            ttl: h[field::TTL],
            ident: (words[1] >> 16) as u16,
            dont_fragment: flags_frag & FLAG_DF != 0,
            tos: h[field::TOS],
        };
        Ok((repr, payload))
    }

    /// Header length in bytes of the emitted header (always 20).
    pub const fn header_len(&self) -> usize {
        Self::HEADER_LEN
    }

    /// Header plus payload length.
    pub const fn total_len(&self) -> usize {
        Self::HEADER_LEN + self.payload_len
    }

    /// Write a 20-byte header (no options, MF clear, offset 0) into
    /// `buf[..20]` and fill in its checksum.
    ///
    /// # Panics
    ///
    /// If `buf` is shorter than 20 bytes, or if `20 + payload_len` exceeds
    /// 65 535 (it cannot be represented in the total-length field).
    #[inline]
    pub fn emit(&self, buf: &mut [u8]) {
        let total_len = u16::try_from(self.total_len())
            .expect("Ipv4Repr::emit: payload_len too large for IPv4");
        let Some((header, _)) = buf.split_first_chunk_mut::<{ Self::HEADER_LEN }>() else {
            panic!("Ipv4Repr::emit: buffer shorter than the header");
        };
        // Built as five 32-bit words: no bounds checks, and the checksum
        // comes from the words (2^16 ≡ 1 modulo 0xFFFF, RFC 1071 §2(C), so
        // adding 32-bit words and folding is adding the 16-bit ones).
        let frag = if self.dont_fragment { FLAG_DF } else { 0 };
        let mut words = [
            0x4500_0000 | u32::from(self.tos) << 16 | u32::from(total_len),
            u32::from(self.ident) << 16 | u32::from(frag),
            u32::from(self.ttl) << 24 | u32::from(u8::from(self.protocol)) << 16,
            u32::from(self.src),
            u32::from(self.dst),
        ];
        words[2] |= u32::from(checksum::finish(sum_words(&words)));
        for (out, w) in header.chunks_exact_mut(4).zip(words) {
            out.copy_from_slice(&w.to_be_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Ipv4Repr {
        Ipv4Repr {
            src: Ipv4Addr::new(10, 0, 0, 1),
            dst: Ipv4Addr::new(10, 0, 0, 2),
            protocol: IpProtocol::Tcp,
            payload_len: 4,
            ttl: 64,
            ident: 0x1234,
            dont_fragment: true,
            tos: 0x10,
        }
    }

    #[test]
    fn emit_parse_roundtrip_with_setters() {
        let repr = sample();
        let mut buf = [0u8; 24];
        repr.emit(&mut buf);
        let (parsed, payload) = Ipv4Repr::parse_with_payload(&buf).unwrap();
        assert_eq!(parsed, repr);
        assert_eq!(payload.len(), 4);

        let mut p = Ipv4Packet::new_unchecked(&mut buf[..]);
        p.set_ttl(1);
        p.set_dont_fragment(false);
        p.set_more_fragments(true);
        p.set_frag_offset(16);
        assert!(!p.verify_checksum());
        p.fill_checksum();
        assert!(p.verify_checksum());
        assert_eq!(p.frag_offset(), 16);
        assert!(p.more_fragments() && !p.dont_fragment());
        assert_eq!(Ipv4Repr::parse(&p), Err(WireError::Fragment));
        p.set_more_fragments(false);
        p.set_frag_offset(0);
        p.fill_checksum();
        assert_eq!(Ipv4Repr::parse(&p).unwrap().ttl, 1);
    }

    #[test]
    fn unchecked_payload_never_panics() {
        let short = Ipv4Packet::new_unchecked(&[0x4F_u8][..]);
        assert!(short.payload().is_empty());
        let mut bad = [0u8; 20];
        bad[0] = 0x4F; // IHL 60 > buffer
        assert!(Ipv4Packet::new_unchecked(&bad[..]).payload().is_empty());
        assert!(!Ipv4Packet::new_unchecked(&bad[..]).verify_checksum());
    }
    /// The general path, as it stood before the 20-byte fast path.
    fn parse_general(packet: &[u8]) -> Result<(Ipv4Repr, &[u8]), WireError> {
        let view = Ipv4Packet::new_checked(packet)?;
        let repr = Ipv4Repr::parse(&view)?;
        Ok((repr, &packet[view.header_len()..view.total_len()]))
    }

    proptest::proptest! {
        /// The fast path for plain headers agrees with the general one on
        /// anything: valid headers, wrong lengths, checksums, fragments.
        #[test]
        fn plain_headers_parse_as_the_general_path_does(
            fields in proptest::array::uniform20(proptest::prelude::any::<u8>()),
            extra in 0usize..40,
            total in proptest::option::of(0u16..80),
            fix_checksum in proptest::prelude::any::<bool>(),
            frag in proptest::sample::select(vec![0u16, FLAG_DF, FLAG_MF, 8, FLAG_DF | 1]),
        ) {
            let mut buf = fields.to_vec();
            buf.resize(20 + extra, 0xAB);
            buf[0] = 0x45;
            buf[6..8].copy_from_slice(&frag.to_be_bytes());
            if let Some(t) = total {
                buf[2..4].copy_from_slice(&t.to_be_bytes());
            }
            if fix_checksum {
                Ipv4Packet::new_unchecked(&mut buf[..]).fill_checksum();
            }
            proptest::prop_assert_eq!(Ipv4Repr::parse_with_payload(&buf), parse_general(&buf));
            let mut emitted = [0u8; 20];
            if let Ok((repr, _)) = parse_general(&buf) {
                repr.emit(&mut emitted);
                let mut expect = buf[..20].to_vec();
                // Emission writes DF or nothing in the flags.
                expect[6..8].copy_from_slice(&(frag & FLAG_DF).to_be_bytes());
                Ipv4Packet::new_unchecked(&mut expect[..]).fill_checksum();
                proptest::prop_assert_eq!(&emitted[..], &expect[..]);
            }
        }
    }
}
