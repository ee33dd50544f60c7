//! ICMPv4 (RFC 792, RFC 1191) and ICMPv6 (RFC 4443) messages.
//!
//! This module owns the subset of ICMP the stack needs: echo request/reply
//! (for ping) and the error messages that feed path-MTU discovery and
//! connection errors (destination unreachable, IPv6 packet too big). Other
//! message types parse as [`WireError::Unsupported`].
//!
//! Every message here has the same 8-byte header layout: type, code,
//! checksum, then 4 type-specific bytes, followed by the body.

use std::net::Ipv6Addr;

use crate::checksum;
use crate::{be16, be32, put16, put32, WireError};

/// Length of the common ICMP header (type, code, checksum, 4 bytes).
pub const HEADER_LEN: usize = 8;

/// ICMPv4 message types (RFC 792).
mod v4type {
    pub const ECHO_REPLY: u8 = 0;
    pub const DST_UNREACHABLE: u8 = 3;
    pub const ECHO_REQUEST: u8 = 8;
}

/// ICMPv6 message types (RFC 4443 §2.1).
mod v6type {
    pub const DST_UNREACHABLE: u8 = 1;
    pub const PACKET_TOO_BIG: u8 = 2;
    pub const ECHO_REQUEST: u8 = 128;
    pub const ECHO_REPLY: u8 = 129;
}

/// The IPv6 next-header number of ICMPv6, used in the pseudo-header.
const PROTOCOL_ICMPV6: u8 = 58;

/// The common 8-byte ICMP header, split out of a message, plus the body.
struct Header<'a> {
    ty: u8,
    code: u8,
    /// Header bytes 4..8 (type-specific).
    rest: &'a [u8],
    body: &'a [u8],
}

/// Split a message after checking it holds at least the 8-byte header.
fn split_header(msg: &[u8]) -> Result<Header<'_>, WireError> {
    if msg.len() < HEADER_LEN {
        return Err(WireError::Truncated);
    }
    Ok(Header {
        ty: msg[0],
        code: msg[1],
        rest: &msg[4..HEADER_LEN],
        body: &msg[HEADER_LEN..],
    })
}

/// Write type, code, a zero checksum and the 4 type-specific bytes, then the
/// body, into `buf[..8 + body.len()]`; returns that sub-slice.
fn write_message<'b>(
    buf: &'b mut [u8],
    ty: u8,
    code: u8,
    rest: [u8; 4],
    body: &[u8],
) -> &'b mut [u8] {
    let out = &mut buf[..HEADER_LEN + body.len()];
    out[0] = ty;
    out[1] = code;
    put16(out, 2, 0);
    out[4..HEADER_LEN].copy_from_slice(&rest);
    out[HEADER_LEN..].copy_from_slice(body);
    out
}

/// The 4 header bytes of an echo message: identifier and sequence number.
fn echo_rest(ident: u16, seq_no: u16) -> [u8; 4] {
    let mut rest = [0u8; 4];
    put16(&mut rest, 0, ident);
    put16(&mut rest, 2, seq_no);
    rest
}

/// A decoded ICMPv4 message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Icmpv4Repr<'a> {
    /// Echo request (type 8).
    EchoRequest {
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq_no: u16,
        /// Echo data.
        data: &'a [u8],
    },
    /// Echo reply (type 0).
    EchoReply {
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq_no: u16,
        /// Echo data.
        data: &'a [u8],
    },
    /// Destination unreachable (type 3).
    DstUnreachable {
        /// Reason code (4 = fragmentation needed and DF set).
        code: u8,
        /// Next-hop MTU (RFC 1191 §4; meaningful for code 4, else 0).
        next_hop_mtu: u16,
        /// The quoted IP header + first 8 data bytes (not validated).
        original: &'a [u8],
    },
}

impl<'a> Icmpv4Repr<'a> {
    /// Parse an ICMPv4 message (the whole IPv4 payload), verifying its
    /// checksum. Errors: `Truncated` (< 8 bytes), `BadChecksum`,
    /// `Unsupported` (any other type). The code of echo messages is ignored.
    pub fn parse(msg: &'a [u8]) -> Result<Self, WireError> {
        let Header {
            ty,
            code,
            rest,
            body,
        } = split_header(msg)?;
        // RFC 792: the checksum covers the ICMP message, no pseudo-header.
        if !checksum::verify(checksum::sum(msg)) {
            return Err(WireError::BadChecksum);
        }
        match ty {
            v4type::ECHO_REQUEST => Ok(Icmpv4Repr::EchoRequest {
                ident: be16(rest, 0),
                seq_no: be16(rest, 2),
                data: body,
            }),
            v4type::ECHO_REPLY => Ok(Icmpv4Repr::EchoReply {
                ident: be16(rest, 0),
                seq_no: be16(rest, 2),
                data: body,
            }),
            // RFC 1191 §4: bytes 4-5 unused, 6-7 carry the next-hop MTU.
            v4type::DST_UNREACHABLE => Ok(Icmpv4Repr::DstUnreachable {
                code,
                next_hop_mtu: be16(rest, 2),
                original: body,
            }),
            _ => Err(WireError::Unsupported),
        }
    }

    /// Length of the emitted message: 8 + body length.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN
            + match self {
                Icmpv4Repr::EchoRequest { data, .. } | Icmpv4Repr::EchoReply { data, .. } => {
                    data.len()
                }
                Icmpv4Repr::DstUnreachable { original, .. } => original.len(),
            }
    }

    /// Write the message into `buf[..buffer_len()]` with its checksum.
    ///
    /// # Panics
    ///
    /// If `buf` is shorter than `buffer_len()`.
    pub fn emit(&self, buf: &mut [u8]) {
        let out = match *self {
            Icmpv4Repr::EchoRequest {
                ident,
                seq_no,
                data,
            } => write_message(buf, v4type::ECHO_REQUEST, 0, echo_rest(ident, seq_no), data),
            Icmpv4Repr::EchoReply {
                ident,
                seq_no,
                data,
            } => write_message(buf, v4type::ECHO_REPLY, 0, echo_rest(ident, seq_no), data),
            Icmpv4Repr::DstUnreachable {
                code,
                next_hop_mtu,
                original,
            } => {
                let mut rest = [0u8; 4];
                put16(&mut rest, 2, next_hop_mtu);
                write_message(buf, v4type::DST_UNREACHABLE, code, rest, original)
            }
        };
        let value = checksum::checksum(out);
        put16(out, 2, value);
    }
}

/// A decoded ICMPv6 message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Icmpv6Repr<'a> {
    /// Echo request (type 128).
    EchoRequest {
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq_no: u16,
        /// Echo data.
        data: &'a [u8],
    },
    /// Echo reply (type 129).
    EchoReply {
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq_no: u16,
        /// Echo data.
        data: &'a [u8],
    },
    /// Destination unreachable (type 1).
    DstUnreachable {
        /// Reason code (RFC 4443 §3.1).
        code: u8,
        /// As much of the invoking packet as fits (not validated).
        original: &'a [u8],
    },
    /// Packet too big (type 2).
    PacketTooBig {
        /// MTU of the next-hop link (RFC 4443 §3.2).
        mtu: u32,
        /// As much of the invoking packet as fits (not validated).
        original: &'a [u8],
    },
}

/// ICMPv6 pseudo-header partial sum for a message of `len` bytes.
fn icmpv6_pseudo(src: Ipv6Addr, dst: Ipv6Addr, len: usize) -> u32 {
    let len = u32::try_from(len).unwrap_or(u32::MAX);
    checksum::pseudo_header_v6(src, dst, PROTOCOL_ICMPV6, len)
}

impl<'a> Icmpv6Repr<'a> {
    /// Parse an ICMPv6 message (the whole upper-layer payload), verifying
    /// its checksum over the IPv6 pseudo-header of `src`/`dst` (RFC 4443
    /// §2.3). Errors: `Truncated` (< 8 bytes), `BadChecksum`, `Unsupported`
    /// (any other type). The code of echo and packet-too-big is ignored.
    pub fn parse(msg: &'a [u8], src: Ipv6Addr, dst: Ipv6Addr) -> Result<Self, WireError> {
        let Header {
            ty,
            code,
            rest,
            body,
        } = split_header(msg)?;
        if !checksum::verify(icmpv6_pseudo(src, dst, msg.len()) + checksum::sum(msg)) {
            return Err(WireError::BadChecksum);
        }
        match ty {
            v6type::ECHO_REQUEST => Ok(Icmpv6Repr::EchoRequest {
                ident: be16(rest, 0),
                seq_no: be16(rest, 2),
                data: body,
            }),
            v6type::ECHO_REPLY => Ok(Icmpv6Repr::EchoReply {
                ident: be16(rest, 0),
                seq_no: be16(rest, 2),
                data: body,
            }),
            // RFC 4443 §3.1: the 4 header bytes are unused.
            v6type::DST_UNREACHABLE => Ok(Icmpv6Repr::DstUnreachable {
                code,
                original: body,
            }),
            // RFC 4443 §3.2: code is set to 0 and ignored by the receiver.
            v6type::PACKET_TOO_BIG => Ok(Icmpv6Repr::PacketTooBig {
                mtu: be32(rest, 0),
                original: body,
            }),
            _ => Err(WireError::Unsupported),
        }
    }

    /// Length of the emitted message: 8 + body length.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN
            + match self {
                Icmpv6Repr::EchoRequest { data, .. } | Icmpv6Repr::EchoReply { data, .. } => {
                    data.len()
                }
                Icmpv6Repr::DstUnreachable { original, .. }
                | Icmpv6Repr::PacketTooBig { original, .. } => original.len(),
            }
    }

    /// Write the message into `buf[..buffer_len()]` with its checksum over
    /// the IPv6 pseudo-header of `src`/`dst`.
    ///
    /// # Panics
    ///
    /// If `buf` is shorter than `buffer_len()`.
    pub fn emit(&self, buf: &mut [u8], src: Ipv6Addr, dst: Ipv6Addr) {
        let out = match *self {
            Icmpv6Repr::EchoRequest {
                ident,
                seq_no,
                data,
            } => write_message(buf, v6type::ECHO_REQUEST, 0, echo_rest(ident, seq_no), data),
            Icmpv6Repr::EchoReply {
                ident,
                seq_no,
                data,
            } => write_message(buf, v6type::ECHO_REPLY, 0, echo_rest(ident, seq_no), data),
            Icmpv6Repr::DstUnreachable { code, original } => {
                write_message(buf, v6type::DST_UNREACHABLE, code, [0; 4], original)
            }
            Icmpv6Repr::PacketTooBig { mtu, original } => {
                let mut rest = [0u8; 4];
                put32(&mut rest, 0, mtu);
                write_message(buf, v6type::PACKET_TOO_BIG, 0, rest, original)
            }
        };
        let value = checksum::finish(icmpv6_pseudo(src, dst, out.len()) + checksum::sum(out));
        put16(out, 2, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v4_echo_roundtrip_and_errors() {
        let repr = Icmpv4Repr::EchoRequest {
            ident: 0x1234,
            seq_no: 1,
            data: b"ping",
        };
        let mut buf = [0u8; 12];
        repr.emit(&mut buf);
        assert_eq!(Icmpv4Repr::parse(&buf), Ok(repr));
        assert_eq!(Icmpv4Repr::parse(&buf[..7]), Err(WireError::Truncated));
        buf[11] ^= 1;
        assert_eq!(Icmpv4Repr::parse(&buf), Err(WireError::BadChecksum));
        // Timestamp request (13) with a valid checksum is unsupported.
        let mut ts = [13u8, 0, 0, 0, 0, 0, 0, 0];
        let c = checksum::checksum(&ts);
        ts[2..4].copy_from_slice(&c.to_be_bytes());
        assert_eq!(Icmpv4Repr::parse(&ts), Err(WireError::Unsupported));
    }

    #[test]
    fn v6_checksum_depends_on_pseudo_header() {
        let src: Ipv6Addr = "fe80::1".parse().unwrap();
        let dst: Ipv6Addr = "fe80::2".parse().unwrap();
        let repr = Icmpv6Repr::PacketTooBig {
            mtu: 1280,
            original: &[0x60, 0, 0, 0],
        };
        let mut buf = [0u8; 12];
        repr.emit(&mut buf, src, dst);
        assert_eq!(Icmpv6Repr::parse(&buf, src, dst), Ok(repr));
        assert_eq!(
            Icmpv6Repr::parse(&buf, dst, "fe80::3".parse().unwrap()),
            Err(WireError::BadChecksum)
        );
    }
}
