//! Wire formats for the synack userspace TCP/IP stack.
//!
//! This crate owns everything that touches raw bytes on the wire: parsing and
//! emitting IPv4 (RFC 791), IPv6 (RFC 8200), TCP (RFC 9293 and its option
//! RFCs 7323 / 2018), ICMPv4 (RFC 792) and ICMPv6 (RFC 4443) headers, and the
//! Internet checksum (RFC 1071) including the IPv4/IPv6 pseudo-headers.
//!
//! Two layers are provided for each protocol:
//!
//! * zero-copy *packet views* (`Ipv4Packet`, `Ipv6Packet`, `TcpPacket`) that
//!   read and write header fields in place in a byte buffer, and
//! * high-level *reprs* (`Ipv4Repr`, `Ipv6Repr`, `IpRepr`, `TcpRepr`,
//!   `Icmpv4Repr`, `Icmpv6Repr`) that hold the decoded, validated contents.
//!
//! # Robustness
//!
//! Every parsing entry point (`new_checked`, `*Repr::parse`) validates lengths
//! before reading and never panics, whatever the input. Views created with
//! `new_unchecked` skip validation; their fixed-offset field accessors may
//! panic if the buffer is shorter than the fixed header.
//!
//! Emission (`emit`) writes our own output; callers must supply a buffer of
//! at least the advertised length (`header_len()` / `buffer_len()`), otherwise
//! emission panics.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod checksum;
mod error;
pub mod icmp;
pub mod ip;
pub mod ipv4;
pub mod ipv6;
pub mod tcp;

pub use error::WireError;
pub use icmp::{Icmpv4Repr, Icmpv6Repr};
pub use ip::{IpProtocol, IpRepr};
pub use ipv4::{Ipv4Packet, Ipv4Repr};
pub use ipv6::{Ipv6Packet, Ipv6Repr};
pub use tcp::{
    OptionLayout, OptionList, SackBlock, TcpFlags, TcpHeader, TcpOption, TcpOptions, TcpPacket,
    TcpRepr,
};

/// Read a big-endian `u16` at `at`. Callers must have checked the length.
#[inline]
pub(crate) fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// Read a big-endian `u32` at `at`. Callers must have checked the length.
#[inline]
pub(crate) fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Write a big-endian `u16` at `at`.
#[inline]
pub(crate) fn put16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

/// Write a big-endian `u32` at `at`.
#[inline]
pub(crate) fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_be_bytes());
}
