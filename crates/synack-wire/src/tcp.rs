//! TCP segments (RFC 9293 §3.1).
//!
//! This module owns the TCP header: [`TcpFlags`], the zero-copy
//! [`TcpPacket`] view, the owned [`TcpHeader`], the decoded [`TcpRepr`]
//! (a header with its payload), and (in a submodule) the
//! option codec [`TcpOptions`] / [`SackBlock`]. Sequence-number arithmetic
//! and the connection state machine live in the engine crate, not here.

use core::fmt;
use core::ops::{BitOr, BitOrAssign};
use std::net::IpAddr;

use crate::checksum;
use crate::{be16, be32, put16, put32, WireError};

mod options;

pub use options::{
    OptionLayout, OptionList, SackBlock, SackList, TcpOption, TcpOptions, MAX_OPTIONS_LEN,
    MAX_SACK_BLOCKS,
};

/// The IP protocol number of TCP, used in the pseudo-header.
const PROTOCOL_TCP: u8 = 6;

/// Byte offsets of the TCP header fields (RFC 9293 §3.1).
mod field {
    pub const SRC_PORT: usize = 0;
    pub const DST_PORT: usize = 2;
    pub const SEQ: usize = 4;
    pub const ACK: usize = 8;
    pub const DATA_OFFSET: usize = 12;
    pub const FLAGS: usize = 13;
    pub const WINDOW: usize = 14;
    pub const CHECKSUM: usize = 16;
    pub const URGENT: usize = 18;
}

/// Length of the TCP header without options.
pub const HEADER_LEN: usize = 20;

/// The eight TCP control bits (RFC 9293 §3.1, with ECE/CWR from RFC 3168).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    /// No more data from sender.
    pub const FIN: TcpFlags = TcpFlags(0x01);
    /// Synchronize sequence numbers.
    pub const SYN: TcpFlags = TcpFlags(0x02);
    /// Reset the connection.
    pub const RST: TcpFlags = TcpFlags(0x04);
    /// Push function.
    pub const PSH: TcpFlags = TcpFlags(0x08);
    /// Acknowledgment field is significant.
    pub const ACK: TcpFlags = TcpFlags(0x10);
    /// Urgent pointer field is significant.
    pub const URG: TcpFlags = TcpFlags(0x20);
    /// ECN-Echo (RFC 3168).
    pub const ECE: TcpFlags = TcpFlags(0x40);
    /// Congestion Window Reduced (RFC 3168).
    pub const CWR: TcpFlags = TcpFlags(0x80);
    /// No flags.
    pub const NONE: TcpFlags = TcpFlags(0);

    /// `true` if every flag of `other` is set in `self`.
    pub const fn contains(self, other: TcpFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// `true` if any flag of `other` is set in `self`.
    pub const fn intersects(self, other: TcpFlags) -> bool {
        self.0 & other.0 != 0
    }

    /// `true` if no flag is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// FIN is set.
    pub fn fin(self) -> bool {
        self.contains(Self::FIN)
    }

    /// SYN is set.
    pub fn syn(self) -> bool {
        self.contains(Self::SYN)
    }

    /// RST is set.
    pub fn rst(self) -> bool {
        self.contains(Self::RST)
    }

    /// PSH is set.
    pub fn psh(self) -> bool {
        self.contains(Self::PSH)
    }

    /// ACK is set.
    pub fn ack(self) -> bool {
        self.contains(Self::ACK)
    }

    /// URG is set.
    pub fn urg(self) -> bool {
        self.contains(Self::URG)
    }

    /// ECE is set.
    pub fn ece(self) -> bool {
        self.contains(Self::ECE)
    }

    /// CWR is set.
    pub fn cwr(self) -> bool {
        self.contains(Self::CWR)
    }

    /// The flags of both.
    pub const fn union(self, other: TcpFlags) -> Self {
        TcpFlags(self.0 | other.0)
    }

    /// Clear the flags of `other`.
    pub fn remove(&mut self, other: TcpFlags) {
        self.0 &= !other.0;
    }

    /// Set the flags of `other`.
    pub fn insert(&mut self, other: TcpFlags) {
        self.0 |= other.0;
    }
}

impl BitOr for TcpFlags {
    type Output = TcpFlags;

    fn bitor(self, rhs: TcpFlags) -> TcpFlags {
        self.union(rhs)
    }
}

impl BitOrAssign for TcpFlags {
    fn bitor_assign(&mut self, rhs: TcpFlags) {
        self.insert(rhs);
    }
}

impl fmt::Display for TcpFlags {
    /// Names joined by `,` in the order SYN, FIN, RST, PSH, ACK, URG, ECE,
    /// CWR (e.g. `SYN,ACK`); `none` if empty.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [(TcpFlags, &str); 8] = [
            (TcpFlags::SYN, "SYN"),
            (TcpFlags::FIN, "FIN"),
            (TcpFlags::RST, "RST"),
            (TcpFlags::PSH, "PSH"),
            (TcpFlags::ACK, "ACK"),
            (TcpFlags::URG, "URG"),
            (TcpFlags::ECE, "ECE"),
            (TcpFlags::CWR, "CWR"),
        ];
        if self.is_empty() {
            return f.write_str("none");
        }
        let mut first = true;
        for (flag, name) in NAMES {
            if self.contains(flag) {
                if !first {
                    f.write_str(",")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        Ok(())
    }
}

/// The segment length as used in the pseudo-header. Saturates for absurd
/// (> 4 GiB) slices rather than wrapping; such a segment cannot verify.
fn pseudo_len(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

/// A zero-copy view of a TCP segment (header + payload) in a byte buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> TcpPacket<T> {
    /// Wrap a buffer without validation. Fixed-field accessors may panic if
    /// the buffer is shorter than 20 bytes; [`Self::options`] and
    /// [`Self::payload`] never panic.
    pub const fn new_unchecked(buffer: T) -> Self {
        TcpPacket { buffer }
    }

    /// Wrap a buffer after [`Self::check_len`] succeeds.
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Validate lengths: shorter than 20 bytes is `Truncated`; a data offset
    /// below 5 or pointing past the end of the buffer is `BadDataOffset`.
    pub fn check_len(&self) -> Result<(), WireError> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(WireError::Truncated);
        }
        // RFC 9293 §3.1: data offset counts 32-bit words; 5 is the minimum.
        let header_len = self.header_len();
        if header_len < HEADER_LEN || header_len > len {
            return Err(WireError::BadDataOffset);
        }
        Ok(())
    }

    /// Consume the view, returning the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Source port.
    pub fn src_port(&self) -> u16 {
        be16(self.buffer.as_ref(), field::SRC_PORT)
    }

    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        be16(self.buffer.as_ref(), field::DST_PORT)
    }

    /// Sequence number.
    pub fn seq_number(&self) -> u32 {
        be32(self.buffer.as_ref(), field::SEQ)
    }

    /// Acknowledgment number.
    pub fn ack_number(&self) -> u32 {
        be32(self.buffer.as_ref(), field::ACK)
    }

    /// Data offset in 32-bit words (the raw 4-bit field).
    pub fn data_offset(&self) -> u8 {
        self.buffer.as_ref()[field::DATA_OFFSET] >> 4
    }

    /// Header length in bytes (data offset * 4).
    pub fn header_len(&self) -> usize {
        usize::from(self.data_offset()) * 4
    }

    /// Control bits. The four reserved bits are not included.
    pub fn flags(&self) -> TcpFlags {
        TcpFlags(self.buffer.as_ref()[field::FLAGS])
    }

    /// Window, raw (unscaled).
    pub fn window_len(&self) -> u16 {
        be16(self.buffer.as_ref(), field::WINDOW)
    }

    /// Checksum as stored.
    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), field::CHECKSUM)
    }

    /// Urgent pointer.
    pub fn urgent(&self) -> u16 {
        be16(self.buffer.as_ref(), field::URGENT)
    }

    /// Raw option bytes (between the fixed header and the data offset);
    /// empty if the data offset is invalid.
    pub fn options(&self) -> &[u8] {
        let buf = self.buffer.as_ref();
        if buf.len() < HEADER_LEN {
            return &[];
        }
        buf.get(HEADER_LEN..self.header_len()).unwrap_or(&[])
    }

    /// Payload (after the data offset); empty if the data offset is invalid.
    pub fn payload(&self) -> &[u8] {
        let buf = self.buffer.as_ref();
        if buf.len() < HEADER_LEN || self.header_len() < HEADER_LEN {
            return &[];
        }
        buf.get(self.header_len()..).unwrap_or(&[])
    }

    /// `true` if the checksum over the pseudo-header of `src`/`dst` and the
    /// whole buffer verifies (the buffer must be exactly the segment).
    pub fn verify_checksum(&self, src: IpAddr, dst: IpAddr) -> bool {
        let buf = self.buffer.as_ref();
        let pseudo = checksum::pseudo_header(src, dst, PROTOCOL_TCP, pseudo_len(buf.len()));
        checksum::verify(pseudo + checksum::sum(buf))
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> TcpPacket<T> {
    /// Set the source port.
    pub fn set_src_port(&mut self, port: u16) {
        put16(self.buffer.as_mut(), field::SRC_PORT, port);
    }

    /// Set the destination port.
    pub fn set_dst_port(&mut self, port: u16) {
        put16(self.buffer.as_mut(), field::DST_PORT, port);
    }

    /// Set the sequence number.
    pub fn set_seq_number(&mut self, seq: u32) {
        put32(self.buffer.as_mut(), field::SEQ, seq);
    }

    /// Set the acknowledgment number.
    pub fn set_ack_number(&mut self, ack: u32) {
        put32(self.buffer.as_mut(), field::ACK, ack);
    }

    /// Set the data offset in 32-bit words (low 4 bits used); clears the
    /// reserved bits.
    pub fn set_data_offset(&mut self, words: u8) {
        self.buffer.as_mut()[field::DATA_OFFSET] = (words & 0x0F) << 4;
    }

    /// Set the header length in bytes (a multiple of 4, 20..=60).
    pub fn set_header_len(&mut self, len: usize) {
        self.set_data_offset((len / 4) as u8);
    }

    /// Set the control bits.
    pub fn set_flags(&mut self, flags: TcpFlags) {
        self.buffer.as_mut()[field::FLAGS] = flags.0;
    }

    /// Set the raw window.
    pub fn set_window_len(&mut self, window: u16) {
        put16(self.buffer.as_mut(), field::WINDOW, window);
    }

    /// Set the stored checksum.
    pub fn set_checksum(&mut self, value: u16) {
        put16(self.buffer.as_mut(), field::CHECKSUM, value);
    }

    /// Set the urgent pointer.
    pub fn set_urgent(&mut self, urgent: u16) {
        put16(self.buffer.as_mut(), field::URGENT, urgent);
    }

    /// Mutable option bytes (empty if the data offset is invalid).
    pub fn options_mut(&mut self) -> &mut [u8] {
        let header_len = self.header_len();
        let buf = self.buffer.as_mut();
        buf.get_mut(HEADER_LEN..header_len).unwrap_or(&mut [])
    }

    /// Mutable payload (empty if the data offset is invalid).
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let header_len = self.header_len().max(HEADER_LEN);
        let buf = self.buffer.as_mut();
        buf.get_mut(header_len..).unwrap_or(&mut [])
    }

    /// Compute and store the checksum over the pseudo-header and the whole
    /// buffer (which must be exactly the segment).
    pub fn fill_checksum(&mut self, src: IpAddr, dst: IpAddr) {
        self.set_checksum(0);
        let buf = self.buffer.as_ref();
        let pseudo = checksum::pseudo_header(src, dst, PROTOCOL_TCP, pseudo_len(buf.len()));
        let value = checksum::finish(pseudo + checksum::sum(buf));
        self.set_checksum(value);
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for TcpPacket<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// One TCP header as an owned value: what traces, tests, fuzz targets and
/// the packetdrill runner keep of a segment, and what the engine hands out
/// with each segment it sends. [`TcpRepr`] is the same header borrowed
/// together with its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpHeader {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Raw sequence number.
    pub seq: u32,
    /// Raw acknowledgment number; meaningful only if `flags.ack()`.
    pub ack: u32,
    /// Control bits.
    pub flags: TcpFlags,
    /// Raw (unscaled) window.
    pub window: u16,
    /// Urgent pointer.
    pub urgent: u16,
    /// Options.
    pub options: TcpOptions,
}

impl TcpHeader {
    /// Parse the header of `segment` (the TCP header + payload, exactly the
    /// IP payload) and return it with the payload. If `verify` is true,
    /// checks the checksum over the pseudo-header of `src`/`dst`.
    ///
    /// Errors: `Truncated` (< 20 bytes), `BadDataOffset`, `BadChecksum`.
    /// Bad options never fail the parse: they are skipped and counted in
    /// the options (see [`TcpOptions::parse`]). Reserved bits are ignored.
    #[inline]
    pub fn parse(
        segment: &[u8],
        src: IpAddr,
        dst: IpAddr,
        verify: bool,
    ) -> Result<(TcpHeader, &[u8]), WireError> {
        // The fixed header read through a fixed-size view: one length
        // check, then no bounds checks. The checks and errors are those of
        // `TcpPacket::check_len`, in its order.
        let Some((h, _)) = segment.split_first_chunk::<HEADER_LEN>() else {
            return Err(WireError::Truncated);
        };
        // RFC 9293 §3.1: data offset counts 32-bit words; 5 is the minimum.
        let header_len = usize::from(h[field::DATA_OFFSET] >> 4) * 4;
        if header_len < HEADER_LEN {
            return Err(WireError::BadDataOffset);
        }
        let Some((head, payload)) = segment.split_at_checked(header_len) else {
            return Err(WireError::BadDataOffset);
        };
        if verify && !TcpPacket::new_unchecked(segment).verify_checksum(src, dst) {
            return Err(WireError::BadChecksum);
        }
        let header = TcpHeader {
            src_port: u16::from_be_bytes([h[0], h[1]]),
            dst_port: u16::from_be_bytes([h[2], h[3]]),
            seq: u32::from_be_bytes([h[4], h[5], h[6], h[7]]),
            ack: u32::from_be_bytes([h[8], h[9], h[10], h[11]]),
            flags: TcpFlags(h[field::FLAGS]),
            window: u16::from_be_bytes([h[14], h[15]]),
            urgent: u16::from_be_bytes([h[18], h[19]]),
            options: TcpOptions::parse(&head[HEADER_LEN..]),
        };
        Ok((header, payload))
    }

    /// This header with `payload` after it.
    pub fn with_payload(self, payload: &[u8]) -> TcpRepr<'_> {
        TcpRepr {
            src_port: self.src_port,
            dst_port: self.dst_port,
            seq: self.seq,
            ack: self.ack,
            flags: self.flags,
            window: self.window,
            urgent: self.urgent,
            options: self.options,
            payload,
        }
    }

    /// Header length: 20 + `options.encoded_len()`.
    pub fn header_len(&self) -> usize {
        HEADER_LEN + self.options.encoded_len()
    }

    /// Sequence space taken by a segment with this header and
    /// `payload_len` bytes: the payload, plus one each for SYN and FIN.
    pub fn seq_space(&self, payload_len: usize) -> usize {
        payload_len + usize::from(self.flags.syn()) + usize::from(self.flags.fin())
    }

    /// Write this header, options and the payload `a` followed by `b` (a
    /// ring buffer may wrap) into `buf`, and fill in the checksum. Returns
    /// the bytes written: `header_len() + a.len() + b.len()`.
    ///
    /// Reserved bits are written as zero. SACK blocks that do not fit in the
    /// option space are dropped (see [`TcpOptions::encoded_len`]).
    ///
    /// # Panics
    ///
    /// If `buf` is shorter than the returned length.
    pub fn emit(&self, buf: &mut [u8], src: IpAddr, dst: IpAddr, a: &[u8], b: &[u8]) -> usize {
        self.emit_checksummed(buf, src, dst, a, b, true)
    }

    /// As [`emit`](Self::emit); with `checksum` false the checksum field is
    /// left zero, for a link that fills it in (checksum offload) or that
    /// cannot corrupt a packet (memory).
    pub fn emit_checksummed(
        &self,
        buf: &mut [u8],
        src: IpAddr,
        dst: IpAddr,
        a: &[u8],
        b: &[u8],
        checksum: bool,
    ) -> usize {
        self.try_emit_checksummed(buf, src, dst, a, b, checksum)
            .expect("TcpHeader::emit: buffer too short for the segment")
    }

    /// As [`emit_checksummed`](Self::emit_checksummed), but `None` (and
    /// nothing written) if `buf` cannot hold the segment: a caller learns
    /// the segment's length and writes it in one step.
    #[inline]
    pub fn try_emit_checksummed(
        &self,
        buf: &mut [u8],
        src: IpAddr,
        dst: IpAddr,
        a: &[u8],
        b: &[u8],
        checksum: bool,
    ) -> Option<usize> {
        let header_len = self.header_len();
        let total = header_len + a.len() + b.len();
        let out = buf.get_mut(..total)?;
        let (head, payload) = out.split_at_mut(header_len);
        let (fixed, options) = head.split_at_mut(HEADER_LEN);
        // The fixed header built in a fixed-size array: no bounds checks.
        let mut h = [0u8; HEADER_LEN];
        h[0..2].copy_from_slice(&self.src_port.to_be_bytes());
        h[2..4].copy_from_slice(&self.dst_port.to_be_bytes());
        h[4..8].copy_from_slice(&self.seq.to_be_bytes());
        h[8..12].copy_from_slice(&self.ack.to_be_bytes());
        // RFC 9293 §3.1: data offset in 32-bit words; header_len <= 60.
        h[field::DATA_OFFSET] = ((header_len / 4) as u8) << 4;
        h[field::FLAGS] = self.flags.0;
        h[14..16].copy_from_slice(&self.window.to_be_bytes());
        // The checksum (16..18) stays zero until it is computed.
        h[18..20].copy_from_slice(&self.urgent.to_be_bytes());
        fixed.copy_from_slice(&h);
        self.options.emit(options);
        let (a_out, b_out) = payload.split_at_mut(a.len());
        if !checksum {
            a_out.copy_from_slice(a);
            // Most segments come from one piece of the ring: no second call.
            if !b.is_empty() {
                b_out.copy_from_slice(b);
            }
            return Some(total);
        }
        // RFC 9293 §3.1: checksum over pseudo-header, header and data. The
        // payload is summed as it is copied, so each byte is read once. The
        // header is a whole number of 32-bit words, so `a` starts at an even
        // offset, and `b` at an odd one when `a` has odd length.
        let pseudo = checksum::pseudo_header(src, dst, PROTOCOL_TCP, pseudo_len(total));
        let mut data = checksum::copy_and_sum(a_out, a);
        if !b.is_empty() {
            data += checksum::shifted(checksum::copy_and_sum(b_out, b), a.len() % 2 == 1);
        }
        let value = checksum::finish(pseudo + checksum::sum(head) + data);
        head[field::CHECKSUM..field::CHECKSUM + 2].copy_from_slice(&value.to_be_bytes());
        Some(total)
    }
}

/// A decoded TCP segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpRepr<'a> {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Raw sequence number.
    pub seq: u32,
    /// Raw acknowledgment number; meaningful only if `flags.ack()`.
    pub ack: u32,
    /// Control bits.
    pub flags: TcpFlags,
    /// Raw (unscaled) window.
    pub window: u16,
    /// Urgent pointer.
    pub urgent: u16,
    /// Options.
    pub options: TcpOptions,
    /// Payload.
    pub payload: &'a [u8],
}

impl<'a> TcpRepr<'a> {
    /// Parse a segment. `segment` is the TCP header + payload (exactly the IP
    /// payload). If `verify` is true, checks the checksum over the
    /// pseudo-header of `src`/`dst`, returning `BadChecksum` on mismatch.
    ///
    /// Errors: `Truncated` (< 20 bytes), `BadDataOffset`, `BadChecksum`.
    /// Bad options never fail the parse: they are skipped and counted in
    /// the options (see [`TcpOptions::parse`]). Reserved bits are ignored.
    #[inline]
    pub fn parse(
        segment: &'a [u8],
        src: IpAddr,
        dst: IpAddr,
        verify: bool,
    ) -> Result<Self, WireError> {
        let (header, payload) = TcpHeader::parse(segment, src, dst, verify)?;
        Ok(header.with_payload(payload))
    }

    /// Parses a segment, leaving the checksum to the caller, who sums the
    /// payload in a pass it makes anyway (copying it out). Returns the
    /// segment and the partial sum of the pseudo-header and the TCP header
    /// (checksum field included): the segment is intact iff
    /// `checksum::verify(header_sum + checksum::sum(payload))`. The header
    /// is a multiple of four bytes, so the payload's sum adds unshifted.
    ///
    /// Errors: `Truncated`, `BadDataOffset`, as [`TcpRepr::parse`].
    pub fn parse_deferred(
        segment: &'a [u8],
        src: IpAddr,
        dst: IpAddr,
    ) -> Result<(Self, u32), WireError> {
        let (header, payload) = TcpHeader::parse(segment, src, dst, false)?;
        let head = &segment[..segment.len() - payload.len()];
        let pseudo = checksum::pseudo_header(src, dst, PROTOCOL_TCP, pseudo_len(segment.len()));
        Ok((header.with_payload(payload), pseudo + checksum::sum(head)))
    }

    /// The header without the payload.
    pub fn header(&self) -> TcpHeader {
        TcpHeader {
            src_port: self.src_port,
            dst_port: self.dst_port,
            seq: self.seq,
            ack: self.ack,
            flags: self.flags,
            window: self.window,
            urgent: self.urgent,
            options: self.options,
        }
    }

    /// Header length: 20 + `options.encoded_len()`.
    pub fn header_len(&self) -> usize {
        self.header().header_len()
    }

    /// Header length + payload length.
    pub fn buffer_len(&self) -> usize {
        self.header_len() + self.payload.len()
    }

    /// Sequence space consumed: payload length + SYN + FIN.
    pub fn segment_len(&self) -> usize {
        self.header().seq_space(self.payload.len())
    }

    /// Write header, options and payload into `buf[..buffer_len()]` and fill
    /// in the checksum. `buf` may be longer.
    ///
    /// # Panics
    ///
    /// If `buf` is shorter than `buffer_len()`.
    pub fn emit(&self, buf: &mut [u8], src: IpAddr, dst: IpAddr) {
        self.emit_with_payload(buf, src, dst, self.payload, &[]);
    }

    /// Like [`Self::emit`], but the payload is `a` followed by `b` (a ring
    /// buffer may wrap); `self.payload` is ignored. Returns the bytes
    /// written: `header_len() + a.len() + b.len()`.
    ///
    /// Reserved bits are written as zero. SACK blocks that do not fit in the
    /// option space are dropped (see [`TcpOptions::encoded_len`]).
    ///
    /// # Panics
    ///
    /// If `buf` is shorter than the returned length.
    pub fn emit_with_payload(
        &self,
        buf: &mut [u8],
        src: IpAddr,
        dst: IpAddr,
        a: &[u8],
        b: &[u8],
    ) -> usize {
        self.header().emit(buf, src, dst, a, b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const SRC: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    const DST: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7));

    #[test]
    fn flags_display_and_ops() {
        assert_eq!((TcpFlags::SYN | TcpFlags::ACK).to_string(), "SYN,ACK");
        assert_eq!((TcpFlags::ACK | TcpFlags::FIN).to_string(), "FIN,ACK");
        assert_eq!(TcpFlags::ACK.to_string(), "ACK");
        assert_eq!(TcpFlags::NONE.to_string(), "none");
        assert_eq!(
            TcpFlags(0xFF).to_string(),
            "SYN,FIN,RST,PSH,ACK,URG,ECE,CWR"
        );
        let mut f = TcpFlags::SYN;
        f |= TcpFlags::ECE;
        f.insert(TcpFlags::CWR);
        assert!(f.syn() && f.ece() && f.cwr() && !f.ack());
        f.remove(TcpFlags::SYN);
        assert_eq!(f, TcpFlags::ECE.union(TcpFlags::CWR));
        assert!(f.contains(TcpFlags::ECE) && !f.contains(TcpFlags::ECE | TcpFlags::FIN));
        assert!(f.intersects(TcpFlags::ECE | TcpFlags::FIN));
        let all = [
            (TcpFlags::FIN, TcpFlags::fin as fn(TcpFlags) -> bool),
            (TcpFlags::SYN, TcpFlags::syn),
            (TcpFlags::RST, TcpFlags::rst),
            (TcpFlags::PSH, TcpFlags::psh),
            (TcpFlags::ACK, TcpFlags::ack),
            (TcpFlags::URG, TcpFlags::urg),
            (TcpFlags::ECE, TcpFlags::ece),
            (TcpFlags::CWR, TcpFlags::cwr),
        ];
        for (flag, get) in all {
            assert!(get(flag));
            assert!(!get(TcpFlags(!flag.0)));
        }
    }

    #[test]
    fn segment_len_counts_syn_fin() {
        let mut repr = TcpRepr {
            src_port: 1,
            dst_port: 2,
            seq: 0,
            ack: 0,
            flags: TcpFlags::SYN | TcpFlags::FIN,
            window: 0,
            urgent: 0,
            options: TcpOptions::default(),
            payload: b"abc",
        };
        assert_eq!(repr.segment_len(), 5);
        repr.flags = TcpFlags::ACK;
        assert_eq!(repr.segment_len(), 3);
    }

    #[test]
    fn emit_with_split_payload_matches_contiguous() {
        let repr = TcpRepr {
            src_port: 4000,
            dst_port: 80,
            seq: 7,
            ack: 9,
            flags: TcpFlags::ACK | TcpFlags::PSH,
            window: 1000,
            urgent: 0,
            options: TcpOptions::default(),
            payload: b"hello world",
        };
        let mut one = [0u8; 64];
        let mut two = [0u8; 64];
        repr.emit(&mut one, SRC, DST);
        // Odd-length first part exercises checksum alignment.
        let n = repr.emit_with_payload(&mut two, SRC, DST, b"hel", b"lo world");
        assert_eq!(n, repr.buffer_len());
        assert_eq!(one, two);
        let parsed = TcpRepr::parse(&two[..n], SRC, DST, true).unwrap();
        assert_eq!(parsed, repr);
    }

    #[test]
    fn header_parse_emit_and_repr_agree() {
        let mut options = TcpOptions::default();
        options.mss = Some(1460);
        let header = TcpHeader {
            src_port: 4000,
            dst_port: 80,
            seq: u32::MAX,
            ack: 9,
            flags: TcpFlags::SYN | TcpFlags::ACK,
            window: 1000,
            urgent: 3,
            options,
        };
        let mut buf = [0u8; 64];
        let n = header.emit(&mut buf, SRC, DST, b"ab", b"c");
        assert_eq!(n, header.header_len() + 3);
        let (parsed, payload) = TcpHeader::parse(&buf[..n], SRC, DST, true).unwrap();
        assert_eq!((parsed, payload), (header, &b"abc"[..]));
        let repr = parsed.with_payload(payload);
        assert_eq!(repr.header(), header);
        assert_eq!(TcpRepr::parse(&buf[..n], SRC, DST, true), Ok(repr));
        // SYN and FIN each take one sequence number.
        assert_eq!(header.seq_space(3), 4);
        assert_eq!(repr.segment_len(), 4);
        buf[n - 1] ^= 1;
        assert_eq!(
            TcpHeader::parse(&buf[..n], SRC, DST, true),
            Err(WireError::BadChecksum)
        );
    }

    #[test]
    fn packet_setters_and_fill_checksum() {
        let mut buf = [0u8; 28];
        let mut p = TcpPacket::new_unchecked(&mut buf[..]);
        p.set_src_port(1);
        p.set_dst_port(2);
        p.set_seq_number(3);
        p.set_ack_number(4);
        p.set_header_len(24);
        p.set_flags(TcpFlags::SYN);
        p.set_window_len(5);
        p.set_urgent(6);
        p.options_mut().copy_from_slice(&[2, 4, 0x05, 0xb4]);
        p.payload_mut().copy_from_slice(b"data");
        p.fill_checksum(SRC, DST);
        assert!(p.verify_checksum(SRC, DST));
        let p = TcpPacket::new_checked(&buf[..]).unwrap();
        assert_eq!(p.data_offset(), 6);
        assert_eq!(p.options(), &[2, 4, 0x05, 0xb4]);
        assert_eq!(p.payload(), b"data");
        let repr = TcpRepr::parse(&buf, SRC, DST, true).unwrap();
        assert_eq!(repr.options.mss, Some(1460));
        assert_eq!((repr.seq, repr.ack, repr.window, repr.urgent), (3, 4, 5, 6));
    }

    #[test]
    fn unchecked_views_never_panic_on_slices() {
        let mut buf = [0u8; 20];
        buf[field::DATA_OFFSET] = 0xF0;
        let p = TcpPacket::new_unchecked(&buf[..]);
        assert!(p.options().is_empty());
        assert!(p.payload().is_empty());
        buf[field::DATA_OFFSET] = 0x10;
        let p = TcpPacket::new_unchecked(&buf[..]);
        assert!(p.options().is_empty());
        assert!(p.payload().is_empty());
        assert!(TcpPacket::new_unchecked(&[1u8][..]).payload().is_empty());
    }
}
