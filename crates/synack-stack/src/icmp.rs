//! ICMP and ICMPv6: echo (ping) answered; destination unreachable and
//! packet too big handed to the connection whose segment they quote.
//!
//! An error message quotes the IP header and at least the first 8 bytes
//! of the packet that caused it (RFC 792, RFC 4443 §2.4): for TCP the
//! ports and the sequence number. The host finds the connection by the
//! quoted 4-tuple (our address and port are the quoted *source*); the
//! engine then checks the quoted sequence number is in flight (RFC 5927
//! §4.1), so a blind attacker can neither reset a connection nor shrink
//! its segments. Errors that quote anything else are counted and dropped.
//!
//! Which errors are hard (RFC 1122 §4.2.3.9): protocol and port
//! unreachable, and the administratively-prohibited codes; they refuse a
//! connection still in SYN-SENT. Network and host unreachable are soft:
//! the connection's own timers decide. Packet too big (fragmentation
//! needed, RFC 1191; ICMPv6 type 2, RFC 8201) lowers the connection's MSS.

use crate::demux::Tuple;
use crate::host::{Host, Outgoing};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use synack_tcp::{IcmpVerdict, Instant, SeqNum};
use synack_wire::{Icmpv4Repr, Icmpv6Repr, IpProtocol, IpRepr};

/// The TCP protocol number, as quoted in an IPv4 or IPv6 header.
const TCP: u8 = 6;

/// What an ICMP error says about one of our TCP segments.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Error {
    Unreachable {
        hard: bool,
    },
    /// The path takes IP packets of at most this many bytes.
    TooBig {
        mtu: u32,
    },
}

/// The 4-tuple (from our side) and sequence number of the TCP segment an
/// ICMP error quotes, if it quotes one of ours.
fn quoted_tcp(original: &[u8], v4: bool) -> Option<(Tuple, SeqNum)> {
    let (src, dst, tcp): (IpAddr, IpAddr, &[u8]) = if v4 {
        let ihl = usize::from(original.first()? & 0x0f) * 4;
        if original.first()? >> 4 != 4 || ihl < 20 || *original.get(9)? != TCP {
            return None;
        }
        let a: [u8; 4] = original.get(12..16)?.try_into().ok()?;
        let b: [u8; 4] = original.get(16..20)?.try_into().ok()?;
        (
            Ipv4Addr::from(a).into(),
            Ipv4Addr::from(b).into(),
            original.get(ihl..)?,
        )
    } else {
        // Extension headers are not followed: TCP must come right after.
        if original.first()? >> 4 != 6 || *original.get(6)? != TCP {
            return None;
        }
        let a: [u8; 16] = original.get(8..24)?.try_into().ok()?;
        let b: [u8; 16] = original.get(24..40)?.try_into().ok()?;
        (
            Ipv6Addr::from(a).into(),
            Ipv6Addr::from(b).into(),
            original.get(40..)?,
        )
    };
    let sport = u16::from_be_bytes(tcp.get(0..2)?.try_into().ok()?);
    let dport = u16::from_be_bytes(tcp.get(2..4)?.try_into().ok()?);
    let seq = u32::from_be_bytes(tcp.get(4..8)?.try_into().ok()?);
    let tuple = Tuple {
        local: SocketAddr::new(src, sport),
        remote: SocketAddr::new(dst, dport),
    };
    Some((tuple, SeqNum(seq)))
}

impl Host {
    /// An ICMP or ICMPv6 message arrived (`ip` is its IP header).
    pub(crate) fn icmp_input(&mut self, now: Instant, ip: &IpRepr, payload: &[u8]) {
        self.counters.icmp_in_msgs += 1;
        match (ip.src(), ip.dst()) {
            (IpAddr::V4(src), IpAddr::V4(dst)) if ip.protocol() == IpProtocol::Icmp => {
                match Icmpv4Repr::parse(payload) {
                    Ok(Icmpv4Repr::EchoRequest {
                        ident,
                        seq_no,
                        data,
                    }) => {
                        self.counters.icmp_in_echos += 1;
                        let reply = Icmpv4Repr::EchoReply {
                            ident,
                            seq_no,
                            data,
                        };
                        let mut msg = vec![0u8; reply.buffer_len()];
                        reply.emit(&mut msg);
                        self.counters.icmp_out_echo_reps += 1;
                        self.push_icmp(dst.into(), src.into(), msg);
                    }
                    Ok(Icmpv4Repr::EchoReply { .. }) => {}
                    Ok(Icmpv4Repr::DstUnreachable {
                        code,
                        next_hop_mtu,
                        original,
                    }) => {
                        self.counters.icmp_in_dest_unreachs += 1;
                        let error = match code {
                            // Fragmentation needed and DF set (RFC 1191).
                            4 => Error::TooBig {
                                mtu: u32::from(next_hop_mtu),
                            },
                            // Protocol, port; communication administratively
                            // prohibited (RFC 1812): hard.
                            2 | 3 | 9 | 10 | 13 => Error::Unreachable { hard: true },
                            _ => Error::Unreachable { hard: false },
                        };
                        self.icmp_error(now, original, true, error);
                    }
                    Err(_) => self.counters.icmp_in_errors += 1,
                }
            }
            (IpAddr::V6(src), IpAddr::V6(dst)) if ip.protocol() == IpProtocol::Icmpv6 => {
                match Icmpv6Repr::parse(payload, src, dst) {
                    Ok(Icmpv6Repr::EchoRequest {
                        ident,
                        seq_no,
                        data,
                    }) => {
                        self.counters.icmp_in_echos += 1;
                        let reply = Icmpv6Repr::EchoReply {
                            ident,
                            seq_no,
                            data,
                        };
                        let mut msg = vec![0u8; reply.buffer_len()];
                        reply.emit(&mut msg, dst, src);
                        self.counters.icmp_out_echo_reps += 1;
                        self.push_icmp(dst.into(), src.into(), msg);
                    }
                    Ok(Icmpv6Repr::EchoReply { .. }) => {}
                    Ok(Icmpv6Repr::DstUnreachable { code, original }) => {
                        self.counters.icmp_in_dest_unreachs += 1;
                        // RFC 4443 §3.1: 1 administratively prohibited,
                        // 4 port unreachable: hard.
                        let hard = matches!(code, 1 | 4);
                        self.icmp_error(now, original, false, Error::Unreachable { hard });
                    }
                    Ok(Icmpv6Repr::PacketTooBig { mtu, original }) => {
                        self.icmp_error(now, original, false, Error::TooBig { mtu });
                    }
                    Err(_) => self.counters.icmp_in_errors += 1,
                }
            }
            _ => self.counters.icmp_in_errors += 1,
        }
    }

    /// Hands an ICMP error to the connection whose segment it quotes.
    fn icmp_error(&mut self, now: Instant, original: &[u8], v4: bool, error: Error) {
        let Some((tuple, seq)) = quoted_tcp(original, v4) else {
            self.counters.icmp_in_errors += 1;
            return;
        };
        let slots = &self.slots;
        let Some(h) = self
            .conns
            .get(&tuple, |h| crate::host::mapped_tuple(slots, h))
        else {
            self.counters.icmp_ignored += 1;
            return;
        };
        let Some(c) = self.conn_entry_mut(h) else {
            return;
        };
        let verdict = match error {
            Error::Unreachable { hard } => c.conn.on_icmp_unreachable(now, seq, hard),
            Error::TooBig { mtu } => {
                // RFC 1191: 0 is an old router's "unknown"; nothing to use.
                let headers = if v4 { 40 } else { 60 };
                match u16::try_from(mtu.saturating_sub(headers)) {
                    Ok(mss) if mtu > headers => c.conn.on_path_mtu(now, seq, mss),
                    _ => IcmpVerdict::Soft,
                }
            }
        };
        match verdict {
            IcmpVerdict::Ignored => self.counters.icmp_ignored += 1,
            IcmpVerdict::MssLowered => self.counters.icmp_in_pmtu += 1,
            IcmpVerdict::Soft | IcmpVerdict::Refused => {}
        }
        self.touch(h);
    }

    /// Queues an encoded ICMP message.
    fn push_icmp(&mut self, src: IpAddr, dst: IpAddr, msg: Vec<u8>) {
        if self.outbox.len() >= crate::host::MAX_OUTBOX {
            self.counters.outbox_drops += 1;
            return;
        }
        self.outbox.push_back(Outgoing::Icmp { src, dst, msg });
    }

    /// Writes a queued ICMP message as an IP packet.
    pub(crate) fn write_icmp(
        &self,
        buf: &mut [u8],
        src: IpAddr,
        dst: IpAddr,
        msg: &[u8],
    ) -> Option<usize> {
        let proto = if src.is_ipv4() {
            IpProtocol::Icmp
        } else {
            IpProtocol::Icmpv6
        };
        let ip = IpRepr::new(src, dst, proto, msg.len(), self.config.hop_limit);
        let hl = ip.header_len();
        let total = hl + msg.len();
        if buf.len() < total {
            return None;
        }
        ip.emit(&mut buf[..hl]);
        buf[hl..total].copy_from_slice(msg);
        Some(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_headers_name_our_segment() {
        let mut v4 = [0u8; 28];
        v4[0] = 0x45;
        v4[9] = TCP;
        v4[12..16].copy_from_slice(&[10, 0, 0, 1]);
        v4[16..20].copy_from_slice(&[10, 0, 0, 2]);
        v4[20..22].copy_from_slice(&5000u16.to_be_bytes());
        v4[22..24].copy_from_slice(&80u16.to_be_bytes());
        v4[24..28].copy_from_slice(&0xdead_beefu32.to_be_bytes());
        let (t, seq) = quoted_tcp(&v4, true).unwrap();
        assert_eq!(t.local, "10.0.0.1:5000".parse().unwrap());
        assert_eq!(t.remote, "10.0.0.2:80".parse().unwrap());
        assert_eq!(seq, SeqNum(0xdead_beef));
        assert!(quoted_tcp(&v4[..27], true).is_none(), "cut short");
        v4[9] = 17;
        assert!(quoted_tcp(&v4, true).is_none(), "UDP");
        assert!(quoted_tcp(&[], false).is_none());
        let mut v6 = [0u8; 48];
        v6[0] = 0x60;
        v6[6] = TCP;
        v6[23] = 1;
        v6[39] = 2;
        v6[40..42].copy_from_slice(&7u16.to_be_bytes());
        v6[42..44].copy_from_slice(&8u16.to_be_bytes());
        let (t, _) = quoted_tcp(&v6, false).unwrap();
        assert_eq!(t.local, "[::1]:7".parse().unwrap());
        assert_eq!(t.remote, "[::2]:8".parse().unwrap());
    }
}
