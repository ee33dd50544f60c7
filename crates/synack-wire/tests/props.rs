//! Property tests: emit/parse round trips and "parsing never panics".

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::collection::vec;
use proptest::prelude::*;
use synack_wire::{
    Icmpv4Repr, Icmpv6Repr, IpProtocol, IpRepr, Ipv4Packet, Ipv4Repr, Ipv6Packet, Ipv6Repr,
    OptionLayout, SackBlock, TcpFlags, TcpOptions, TcpPacket, TcpRepr,
};

fn ipv4() -> impl Strategy<Value = Ipv4Addr> {
    any::<[u8; 4]>().prop_map(Ipv4Addr::from)
}

fn ipv6() -> impl Strategy<Value = Ipv6Addr> {
    any::<[u8; 16]>().prop_map(Ipv6Addr::from)
}

/// Source/destination pairs: both IPv4, both IPv6, or mixed.
fn addr_pair() -> impl Strategy<Value = (IpAddr, IpAddr)> {
    prop_oneof![
        (ipv4(), ipv4()).prop_map(|(a, b)| (a.into(), b.into())),
        (ipv6(), ipv6()).prop_map(|(a, b)| (a.into(), b.into())),
        (ipv4(), ipv6()).prop_map(|(a, b)| (a.into(), b.into())),
    ]
}

fn tcp_options() -> impl Strategy<Value = TcpOptions> {
    (
        any::<Option<u16>>(),
        any::<Option<u8>>(),
        any::<bool>(),
        any::<Option<(u32, u32)>>(),
        vec(any::<(u32, u32)>(), 0..=4),
        any::<bool>(),
    )
        .prop_map(
            |(mss, window_scale, sack_permitted, timestamps, blocks, freebsd)| {
                let mut o = TcpOptions::default();
                if freebsd {
                    o.layout = OptionLayout::FreeBsd;
                }
                o.mss = mss;
                o.window_scale = window_scale;
                o.sack_permitted = sack_permitted;
                o.timestamps = timestamps;
                for (left, right) in blocks {
                    assert!(o.push_sack_block(SackBlock { left, right }));
                }
                o
            },
        )
}

prop_compose! {
    fn tcp_fields()(
        ports in any::<(u16, u16)>(),
        seq in any::<u32>(),
        ack in any::<u32>(),
        flags in any::<u8>(),
        window in any::<u16>(),
        urgent in any::<u16>(),
        options in tcp_options(),
    ) -> (u16, u16, u32, u32, TcpFlags, u16, u16, TcpOptions) {
        (ports.0, ports.1, seq, ack, TcpFlags(flags), window, urgent, options)
    }
}

fn icmp_kind() -> impl Strategy<Value = (u8, u16, u16, u32)> {
    (0u8..4, any::<u16>(), any::<u16>(), any::<u32>())
}

/// A valid IPv4 TCP SYN with options and a little data, used as the seed
/// for mutation tests.
fn seed_packet() -> Vec<u8> {
    let src = Ipv4Addr::new(10, 0, 0, 1);
    let dst = Ipv4Addr::new(10, 0, 0, 2);
    let mut options = TcpOptions::default();
    options.mss = Some(1460);
    options.window_scale = Some(7);
    options.sack_permitted = true;
    options.timestamps = Some((1, 2));
    let tcp = TcpRepr {
        src_port: 1,
        dst_port: 2,
        seq: 3,
        ack: 4,
        flags: TcpFlags::SYN | TcpFlags::ACK,
        window: 5,
        urgent: 0,
        options,
        payload: b"hello",
    };
    let ip = IpRepr::new(
        src.into(),
        dst.into(),
        IpProtocol::Tcp,
        tcp.buffer_len(),
        64,
    );
    let mut buf = vec![0u8; ip.total_len()];
    ip.emit(&mut buf);
    tcp.emit(&mut buf[ip.header_len()..], src.into(), dst.into());
    buf
}

/// Run every parser over `data` as an IP packet and its payload; must not
/// panic. Re-emits whatever parses and checks the round trip.
fn parse_everything(data: &[u8]) {
    let Ok((ip, payload)) = IpRepr::parse(data) else {
        return;
    };
    let (src, dst) = (ip.src(), ip.dst());
    for verify in [false, true] {
        if let Ok(tcp) = TcpRepr::parse(payload, src, dst, verify) {
            let mut out = vec![0u8; tcp.buffer_len()];
            tcp.emit(&mut out, src, dst);
            let mut expected = tcp;
            expected.options = tcp.options.truncated_to_fit();
            assert_eq!(TcpRepr::parse(&out, src, dst, true), Ok(expected));
        }
    }
    let _ = Icmpv4Repr::parse(payload);
    if let (IpAddr::V6(s), IpAddr::V6(d)) = (src, dst) {
        let _ = Icmpv6Repr::parse(payload, s, d);
    }
}

proptest! {
    #[test]
    fn tcp_roundtrip(
        fields in tcp_fields(),
        payload in vec(any::<u8>(), 0..200),
        (src, dst) in addr_pair(),
        slack in 0usize..8,
    ) {
        let (src_port, dst_port, seq, ack, flags, window, urgent, options) = fields;
        let repr = TcpRepr {
            src_port, dst_port, seq, ack, flags, window, urgent, options,
            payload: &payload,
        };
        let encoded = options.encoded_len();
        prop_assert!(encoded <= 40 && encoded % 4 == 0);
        prop_assert_eq!(repr.header_len(), 20 + encoded);
        prop_assert_eq!(repr.buffer_len(), 20 + encoded + payload.len());

        let mut buf = vec![0xEEu8; repr.buffer_len() + slack];
        repr.emit(&mut buf, src, dst);
        prop_assert!(buf[repr.buffer_len()..].iter().all(|&b| b == 0xEE));
        let segment = &buf[..repr.buffer_len()];
        prop_assert!(TcpPacket::new_checked(segment).unwrap().verify_checksum(src, dst));

        let parsed = TcpRepr::parse(segment, src, dst, true).unwrap();
        let mut expected = repr;
        expected.options = options.truncated_to_fit();
        prop_assert_eq!(parsed, expected);
        let kept = options.emitted_sack_blocks();
        prop_assert_eq!(parsed.options.sack_blocks(), &options.sack_blocks()[..kept]);
        // Independent model of the Linux layout: SACK blocks are dropped
        // exactly when the full option set would exceed 40 bytes. FreeBSD's
        // packs tighter; there, only what was kept is checked.
        let base = 4 * usize::from(options.mss.is_some())
            + 4 * usize::from(options.window_scale.is_some())
            + match (options.sack_permitted, options.timestamps.is_some()) {
                (_, true) => 12,
                (true, false) => 4,
                (false, false) => 0,
            };
        let n = options.sack_blocks().len();
        let fits = match options.layout {
            OptionLayout::Linux => n == 0 || base + 4 + 8 * n <= 40,
            OptionLayout::FreeBsd => kept == n,
        };
        let mut as_parsed = options;
        as_parsed.layout = OptionLayout::Linux;
        prop_assert_eq!(parsed.options == as_parsed, fits);
    }

    #[test]
    fn tcp_split_payload_equals_contiguous(
        fields in tcp_fields(),
        payload in vec(any::<u8>(), 0..200),
        cut in any::<prop::sample::Index>(),
        (src, dst) in addr_pair(),
    ) {
        let (src_port, dst_port, seq, ack, flags, window, urgent, options) = fields;
        let repr = TcpRepr {
            src_port, dst_port, seq, ack, flags, window, urgent, options,
            payload: &payload,
        };
        let cut = cut.index(payload.len() + 1);
        let mut one = vec![0u8; repr.buffer_len()];
        let mut two = vec![0u8; repr.buffer_len()];
        repr.emit(&mut one, src, dst);
        let n = repr.emit_with_payload(&mut two, src, dst, &payload[..cut], &payload[cut..]);
        prop_assert_eq!(n, repr.buffer_len());
        prop_assert_eq!(one, two);
    }

    #[test]
    fn ipv4_roundtrip(
        (src, dst) in (ipv4(), ipv4()),
        protocol in any::<u8>(),
        payload_len in 0usize..2000,
        ttl in any::<u8>(),
        ident in any::<u16>(),
        dont_fragment in any::<bool>(),
        tos in any::<u8>(),
        trailing in 0usize..4,
    ) {
        let repr = Ipv4Repr {
            src, dst, protocol: IpProtocol::from(protocol), payload_len, ttl, ident,
            dont_fragment, tos,
        };
        let mut buf = vec![0u8; repr.total_len() + trailing];
        repr.emit(&mut buf);
        prop_assert!(Ipv4Packet::new_checked(&buf[..]).unwrap().verify_checksum());
        let (parsed, payload) = Ipv4Repr::parse_with_payload(&buf).unwrap();
        prop_assert_eq!(parsed, repr);
        prop_assert_eq!(payload.len(), payload_len);
        prop_assert_eq!(IpRepr::parse(&buf).unwrap().0, IpRepr::V4(repr));
    }

    #[test]
    fn ipv6_roundtrip(
        (src, dst) in (ipv6(), ipv6()),
        next in any::<u8>().prop_filter("not an extension header", |n| ![0, 43, 44, 60].contains(n)),
        payload_len in 0usize..2000,
        hop_limit in any::<u8>(),
        traffic_class in any::<u8>(),
        flow_label in 0u32..(1 << 20),
        trailing in 0usize..4,
    ) {
        let repr = Ipv6Repr {
            src, dst, next_header: IpProtocol::from(next), payload_len, hop_limit,
            traffic_class, flow_label,
        };
        let mut buf = vec![0u8; 40 + payload_len + trailing];
        repr.emit(&mut buf);
        let view = Ipv6Packet::new_checked(&buf[..]).unwrap();
        prop_assert_eq!(Ipv6Repr::parse(&view).unwrap(), repr);
        let (parsed, payload) = Ipv6Repr::parse_with_payload(&buf).unwrap();
        prop_assert_eq!(parsed, repr);
        prop_assert_eq!(payload.len(), payload_len);
        prop_assert_eq!(IpRepr::parse(&buf).unwrap().0, IpRepr::V6(repr));
    }

    #[test]
    fn ip_repr_new_roundtrip(
        (src, dst) in addr_pair(),
        protocol in prop_oneof![Just(IpProtocol::Tcp), Just(IpProtocol::Udp),
                                Just(IpProtocol::Icmp), Just(IpProtocol::Icmpv6)],
        payload in vec(any::<u8>(), 0..200),
        hop_limit in any::<u8>(),
    ) {
        let repr = IpRepr::new(src, dst, protocol, payload.len(), hop_limit);
        let mut buf = vec![0u8; repr.total_len()];
        repr.emit(&mut buf);
        buf[repr.header_len()..].copy_from_slice(&payload);
        let (parsed, parsed_payload) = IpRepr::parse(&buf).unwrap();
        prop_assert_eq!(parsed, repr);
        prop_assert_eq!(parsed_payload, &payload[..]);
        prop_assert_eq!(parsed.protocol(), protocol);
        prop_assert_eq!(parsed.hop_limit(), hop_limit);
        let same_family = src.is_ipv4() == dst.is_ipv4();
        prop_assert_eq!(parsed.src() == src, same_family || src.is_ipv6());
    }

    #[test]
    fn icmpv4_roundtrip(
        (kind, a, b, _) in icmp_kind(),
        code in any::<u8>(),
        data in vec(any::<u8>(), 0..200),
    ) {
        let repr = match kind {
            0 => Icmpv4Repr::EchoRequest { ident: a, seq_no: b, data: &data },
            1 => Icmpv4Repr::EchoReply { ident: a, seq_no: b, data: &data },
            _ => Icmpv4Repr::DstUnreachable { code, next_hop_mtu: a, original: &data },
        };
        let mut buf = vec![0u8; repr.buffer_len()];
        repr.emit(&mut buf);
        prop_assert_eq!(Icmpv4Repr::parse(&buf), Ok(repr));
    }

    #[test]
    fn icmpv6_roundtrip(
        (kind, a, b, mtu) in icmp_kind(),
        code in any::<u8>(),
        data in vec(any::<u8>(), 0..200),
        (src, dst) in (ipv6(), ipv6()),
    ) {
        let repr = match kind {
            0 => Icmpv6Repr::EchoRequest { ident: a, seq_no: b, data: &data },
            1 => Icmpv6Repr::EchoReply { ident: a, seq_no: b, data: &data },
            2 => Icmpv6Repr::DstUnreachable { code, original: &data },
            _ => Icmpv6Repr::PacketTooBig { mtu, original: &data },
        };
        let mut buf = vec![0u8; repr.buffer_len()];
        repr.emit(&mut buf, src, dst);
        prop_assert_eq!(Icmpv6Repr::parse(&buf, src, dst), Ok(repr));
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        data in vec(any::<u8>(), 0..200),
        (src, dst) in addr_pair(),
        (s6, d6) in (ipv6(), ipv6()),
    ) {
        let _ = IpRepr::parse(&data);
        let _ = Ipv4Repr::parse_with_payload(&data);
        let _ = Ipv6Repr::parse_with_payload(&data);
        let _ = TcpRepr::parse(&data, src, dst, true);
        let _ = TcpRepr::parse(&data, src, dst, false);
        let _ = TcpOptions::parse(&data);
        let _ = Icmpv4Repr::parse(&data);
        let _ = Icmpv6Repr::parse(&data, s6, d6);
        // Unchecked views: the slice accessors never panic either.
        let _ = Ipv4Packet::new_unchecked(&data[..]).payload();
        let _ = Ipv6Packet::new_unchecked(&data[..]).payload();
        let tcp = TcpPacket::new_unchecked(&data[..]);
        let _ = (tcp.options(), tcp.payload());
        parse_everything(&data);
    }

    #[test]
    fn ip_version_prefixed_bytes_never_panic(
        version in prop_oneof![Just(0x40u8), Just(0x60u8)],
        data in vec(any::<u8>(), 0..200),
    ) {
        let mut data = data;
        if let Some(first) = data.first_mut() {
            *first = version | (*first & 0x0F);
        }
        parse_everything(&data);
    }

    #[test]
    fn tcp_with_random_options_never_panics(
        offset in 5u8..=15,
        body in vec(any::<u8>(), 0..80),
        (src, dst) in addr_pair(),
    ) {
        let mut seg = vec![0u8; 20];
        seg[12] = offset << 4;
        seg.extend_from_slice(&body);
        if let Ok(repr) = TcpRepr::parse(&seg, src, dst, false) {
            let mut out = vec![0u8; repr.buffer_len()];
            repr.emit(&mut out, src, dst);
            let mut expected = repr;
            expected.options = repr.options.truncated_to_fit();
            prop_assert_eq!(TcpRepr::parse(&out, src, dst, true), Ok(expected));
        }
    }

    #[test]
    fn mutated_valid_packet_never_panics(
        edits in vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut packet = seed_packet();
        for (at, value) in edits {
            let i = at.index(packet.len());
            packet[i] = value;
        }
        if truncate {
            packet.truncate(cut.index(packet.len() + 1));
        }
        parse_everything(&packet);
    }
}

#[test]
fn seed_packet_parses() {
    let packet = seed_packet();
    let (ip, payload) = IpRepr::parse(&packet).unwrap();
    let tcp = TcpRepr::parse(payload, ip.src(), ip.dst(), true).unwrap();
    assert_eq!(tcp.payload, b"hello");
    assert_eq!(tcp.options.timestamps, Some((1, 2)));
}
