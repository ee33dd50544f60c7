//! Table tests for malformed, truncated and unusual-but-valid packets.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use synack_wire::checksum;
use synack_wire::{
    Icmpv4Repr, Icmpv6Repr, IpProtocol, IpRepr, Ipv4Packet, Ipv6Packet, Ipv6Repr, TcpOptions,
    TcpRepr, WireError,
};

/// A table row: name, input packet, expected parse result.
type Case<'a, T> = (&'a str, Vec<u8>, Result<T, WireError>);

const SRC4: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
const DST4: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));

/// A 20-byte TCP header with the given data offset word count, followed by
/// `opts` and `payload`, with a valid checksum over SRC4/DST4.
fn tcp_segment(data_offset: u8, opts: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut seg = vec![0u8; 20];
    seg[0..2].copy_from_slice(&1234u16.to_be_bytes());
    seg[2..4].copy_from_slice(&80u16.to_be_bytes());
    seg[12] = data_offset << 4;
    seg[13] = 0x10; // ACK
    seg[14..16].copy_from_slice(&512u16.to_be_bytes());
    seg.extend_from_slice(opts);
    seg.extend_from_slice(payload);
    let pseudo = checksum::pseudo_header(SRC4, DST4, 6, seg.len() as u32);
    let c = checksum::finish(pseudo + checksum::sum(&seg));
    seg[16..18].copy_from_slice(&c.to_be_bytes());
    seg
}

fn parse_tcp(seg: &[u8]) -> Result<TcpRepr<'_>, WireError> {
    let unverified = TcpRepr::parse(seg, SRC4, DST4, false);
    let verified = TcpRepr::parse(seg, SRC4, DST4, true);
    assert_eq!(unverified, verified, "checksums are valid in these tables");
    verified
}

#[test]
fn tcp_bad_data_offset_table() {
    let cases: &[(&str, Vec<u8>, WireError)] = &[
        (
            "offset 0",
            tcp_segment(0, &[], &[]),
            WireError::BadDataOffset,
        ),
        (
            "offset 4",
            tcp_segment(4, &[], &[]),
            WireError::BadDataOffset,
        ),
        (
            "offset 6, 20 bytes",
            tcp_segment(6, &[], &[]),
            WireError::BadDataOffset,
        ),
        (
            "offset 15, 59 bytes",
            tcp_segment(15, &[1; 36], &[]),
            WireError::BadDataOffset,
        ),
        (
            "19 bytes",
            tcp_segment(5, &[], &[])[..19].to_vec(),
            WireError::Truncated,
        ),
        ("empty", Vec::new(), WireError::Truncated),
    ];
    for (name, seg, err) in cases {
        assert_eq!(parse_tcp(seg), Err(*err), "{name}");
    }
    // Offset 15 with exactly 60 bytes (40 bytes of NOPs) is fine.
    let ok = tcp_segment(15, &[1; 40], b"x");
    let repr = parse_tcp(&ok).unwrap();
    assert_eq!(repr.options, TcpOptions::default());
    assert_eq!(repr.payload, b"x");
}

#[test]
fn tcp_malformed_options_are_skipped_and_counted() {
    // (name, option bytes, options still understood, malformed count)
    let mss = |v| {
        let mut o = TcpOptions::default();
        o.mss = Some(v);
        o
    };
    let none = TcpOptions::default();
    let cases: &[(&str, &[u8], TcpOptions, u8)] = &[
        // A length below 2 or past the end stops parsing.
        ("length 0", &[2, 0, 0, 0], none, 1),
        ("length 1", &[2, 1, 0, 0], none, 1),
        ("unknown kind, length 1", &[99, 1, 1, 1], none, 1),
        ("missing length byte", &[1, 1, 1, 8], none, 1),
        ("timestamps overrun", &[8, 10, 0, 0], none, 1),
        ("unknown kind overrun", &[1, 1, 99, 3], none, 1),
        // A known option with the wrong length is skipped; parsing goes on.
        ("MSS length 3", &[2, 3, 5, 1], none, 1),
        (
            "MSS length 5, then NOPs",
            &[2, 5, 5, 180, 0, 1, 1, 1],
            none,
            1,
        ),
        ("window scale length 4", &[3, 4, 7, 0], none, 1),
        ("window scale length 2, then NOPs", &[3, 2, 1, 1], none, 1),
        ("SACK-permitted length 3, then NOP", &[4, 3, 0, 1], none, 1),
        ("SACK-permitted length 4", &[4, 4, 0, 0], none, 1),
        ("SACK no blocks, then NOPs", &[5, 2, 1, 1], none, 1),
        (
            "SACK 9 bytes, then a bad MSS",
            &[5, 9, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1],
            none,
            2,
        ),
        ("timestamps length 8", &[8, 8, 0, 0, 0, 1, 0, 0], none, 1),
        (
            "timestamps length 12",
            &[8, 12, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0],
            none,
            1,
        ),
        (
            "bad window scale, then a good MSS",
            &[3, 4, 7, 0, 2, 4, 5, 180],
            mss(1460),
            1,
        ),
    ];
    for (name, opts, want, malformed) in cases {
        assert_eq!(opts.len() % 4, 0, "{name}: test bug");
        let seg = tcp_segment(5 + opts.len() as u8 / 4, opts, b"payload");
        let parsed = parse_tcp(&seg).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(parsed.payload, b"payload", "{name}");
        let o = TcpOptions::parse(opts);
        assert_eq!(o.malformed, *malformed, "{name}");
        assert_eq!(o.mss, want.mss, "{name}");
        assert_eq!(o.window_scale, None, "{name}");
        assert!(
            o.sack_blocks().is_empty() && o.timestamps.is_none(),
            "{name}"
        );
    }

    // Five SACK blocks cannot fit (42 > 40) and overrun the option space.
    let mut five = vec![5u8, 42];
    five.extend_from_slice(&[0; 40]);
    assert_eq!(TcpOptions::parse(&five).malformed, 1);
    // Unknown kinds are skipped by their length and counted apart.
    let o = TcpOptions::parse(&[30, 4, 0, 0, 2, 4, 5, 180]);
    assert_eq!((o.unknown, o.malformed, o.mss), (1, 0, Some(1460)));
}

#[test]
fn tcp_valid_option_lists_table() {
    let mss = |v| {
        let mut o = TcpOptions::default();
        o.mss = Some(v);
        o
    };
    let mut ws200 = TcpOptions::default();
    ws200.window_scale = Some(200);
    let cases: &[(&str, &[u8], TcpOptions)] = &[
        ("empty", &[], TcpOptions::default()),
        ("all NOP", &[1, 1, 1, 1], TcpOptions::default()),
        ("EOL then garbage", &[0, 2, 0, 0], TcpOptions::default()),
        ("MSS then EOL", &[2, 4, 5, 180, 0, 0, 0, 0], mss(1460)),
        (
            "unknown kind skipped",
            &[30, 6, 9, 9, 9, 9, 2, 4, 5, 180, 1, 1],
            mss(1460),
        ),
        (
            "unknown kind length 2",
            &[254, 2, 2, 4, 5, 180, 0, 0],
            mss(1460),
        ),
        ("MSS twice, last wins", &[2, 4, 0, 1, 2, 4, 0, 2], mss(2)),
        ("window scale raw 200 kept", &[1, 3, 3, 200], ws200),
    ];
    for (name, opts, expected) in cases {
        assert_eq!(opts.len() % 4, 0, "{name}: test bug");
        let seg = tcp_segment(5 + opts.len() as u8 / 4, opts, &[]);
        let mut got = parse_tcp(&seg).unwrap().options;
        got.unknown = 0;
        assert_eq!(got, *expected, "{name}");
    }

    let sack = [
        1, 1, 5, 34, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5, 0, 0, 0, 6, 0, 0,
        0, 7, 0, 0, 0, 8,
    ];
    let parsed = TcpOptions::parse(&sack);
    assert_eq!(parsed.sack_blocks().len(), 4);
    assert_eq!(parsed.sack_blocks()[3].left, 7);
    assert_eq!(parsed.sack_blocks()[3].right, 8);
}

/// An IPv4 header of `ihl` words (options zero-filled = EOL), total length
/// `total_len`, followed by `payload`, with a valid header checksum.
fn ipv4_packet(ihl: u8, total_len: u16, flags_frag: u16, payload: &[u8]) -> Vec<u8> {
    let header_len = usize::from(ihl) * 4;
    let mut p = vec![0u8; header_len.max(20)];
    p[0] = 0x40 | ihl;
    p[2..4].copy_from_slice(&total_len.to_be_bytes());
    p[6..8].copy_from_slice(&flags_frag.to_be_bytes());
    p[8] = 64;
    p[9] = 6;
    p[12..16].copy_from_slice(&[10, 0, 0, 1]);
    p[16..20].copy_from_slice(&[10, 0, 0, 2]);
    let c = checksum::checksum(&p[..header_len.clamp(20, p.len())]);
    p[10..12].copy_from_slice(&c.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

#[test]
fn ipv4_table() {
    let data = [0xAA; 8];
    let cases: &[Case<&[u8]>] = &[
        ("plain", ipv4_packet(5, 28, 0, &data), Ok(&data)),
        ("DF is fine", ipv4_packet(5, 28, 0x4000, &data), Ok(&data)),
        (
            "IHL 6 options skipped",
            ipv4_packet(6, 32, 0, &data),
            Ok(&data),
        ),
        (
            "IHL 15 options skipped",
            ipv4_packet(15, 68, 0, &data),
            Ok(&data),
        ),
        (
            "trailing bytes ignored",
            ipv4_packet(5, 24, 0, &data),
            Ok(&data[..4]),
        ),
        ("empty payload", ipv4_packet(5, 20, 0, &data), Ok(&[])),
        (
            "MF set",
            ipv4_packet(5, 28, 0x2000, &data),
            Err(WireError::Fragment),
        ),
        (
            "offset set",
            ipv4_packet(5, 28, 0x0001, &data),
            Err(WireError::Fragment),
        ),
        (
            "DF+MF",
            ipv4_packet(5, 28, 0x6000, &data),
            Err(WireError::Fragment),
        ),
        (
            "total < IHL",
            ipv4_packet(6, 20, 0, &data),
            Err(WireError::BadLength),
        ),
        (
            "total < 20",
            ipv4_packet(5, 4, 0, &data),
            Err(WireError::BadLength),
        ),
        (
            "total > buffer",
            ipv4_packet(5, 29, 0, &data),
            Err(WireError::Truncated),
        ),
        (
            "IHL 4",
            ipv4_packet(4, 28, 0, &data),
            Err(WireError::BadHeaderLen),
        ),
        (
            "IHL 0",
            ipv4_packet(0, 28, 0, &data),
            Err(WireError::BadHeaderLen),
        ),
        (
            "IHL past buffer",
            ipv4_packet(15, 60, 0, &[])[..40].to_vec(),
            Err(WireError::Truncated),
        ),
        (
            "19 bytes",
            ipv4_packet(5, 20, 0, &[])[..19].to_vec(),
            Err(WireError::Truncated),
        ),
    ];
    for (name, packet, expected) in cases {
        let got = IpRepr::parse(packet).map(|(_, payload)| payload);
        assert_eq!(got, *expected, "{name}");
        if let Ok(payload) = expected {
            let (repr, _) = IpRepr::parse(packet).unwrap();
            assert_eq!(repr.payload_len(), payload.len(), "{name}");
            assert_eq!(repr.protocol(), IpProtocol::Tcp, "{name}");
        }
    }

    let mut bad_sum = ipv4_packet(5, 28, 0, &data);
    bad_sum[8] = 63;
    assert_eq!(IpRepr::parse(&bad_sum), Err(WireError::BadChecksum));
    // A corrupted fragment reports the checksum, not the fragment.
    let mut bad_frag = ipv4_packet(5, 28, 0x2000, &data);
    bad_frag[8] = 63;
    assert_eq!(IpRepr::parse(&bad_frag), Err(WireError::BadChecksum));

    let mut v6 = ipv4_packet(5, 28, 0, &data);
    v6[0] = 0x65;
    assert_eq!(
        Ipv4Packet::new_checked(&v6[..]).err(),
        Some(WireError::BadVersion)
    );
    v6[0] = 0x75;
    assert_eq!(IpRepr::parse(&v6), Err(WireError::BadVersion));
}

/// An IPv6 packet whose payload is `payload` (extension headers included)
/// and whose fixed-header next header is `next`.
fn ipv6_packet(next: u8, payload_len: u16, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0u8; 40];
    p[0] = 0x60;
    p[4..6].copy_from_slice(&payload_len.to_be_bytes());
    p[6] = next;
    p[7] = 64;
    p[8..24].copy_from_slice(&Ipv6Addr::LOCALHOST.octets());
    p[24..40].copy_from_slice(&Ipv6Addr::LOCALHOST.octets());
    p.extend_from_slice(payload);
    p
}

/// An extension header: next header, length in 8-octet units beyond the
/// first 8, and padding.
fn ext(next: u8, hdr_ext_len: u8) -> Vec<u8> {
    let mut h = vec![0u8; (usize::from(hdr_ext_len) + 1) * 8];
    h[0] = next;
    h[1] = hdr_ext_len;
    h
}

#[test]
fn ipv6_table() {
    let upper = [0x55u8; 12];
    let cat = |parts: &[&[u8]]| parts.concat();
    let hbh_dst = cat(&[&ext(60, 0), &ext(6, 1), &upper]);
    let routing = cat(&[&ext(43, 0)[..], &ext(6, 2), &upper]);
    let frag_after_hbh = cat(&[&ext(44, 0), &[6, 0, 0, 0, 0, 0, 0, 0], &upper]);
    let overrun = cat(&[&ext(6, 3)[..8]]);
    let hbh_second = cat(&[&ext(0, 0), &ext(6, 0), &upper]);

    let len = |v: &[u8]| v.len() as u16;
    let cases: Vec<Case<(u8, &[u8])>> = vec![
        ("plain TCP", ipv6_packet(6, 12, &upper), Ok((6, &upper))),
        (
            "trailing bytes",
            ipv6_packet(6, 4, &upper),
            Ok((6, &upper[..4])),
        ),
        ("empty", ipv6_packet(6, 0, &[]), Ok((6, &[]))),
        (
            "hop-by-hop + dest opts",
            ipv6_packet(0, len(&hbh_dst), &hbh_dst),
            Ok((6, &upper)),
        ),
        (
            "dest opts + routing",
            ipv6_packet(60, len(&routing), &routing),
            Ok((6, &upper)),
        ),
        (
            "no next header",
            ipv6_packet(59, 4, &upper),
            Ok((59, &upper[..4])),
        ),
        (
            "fragment",
            ipv6_packet(44, 12, &upper),
            Err(WireError::Fragment),
        ),
        (
            "fragment after hop-by-hop",
            ipv6_packet(0, len(&frag_after_hbh), &frag_after_hbh),
            Err(WireError::Fragment),
        ),
        (
            "ext header overruns",
            ipv6_packet(60, 8, &overrun),
            Err(WireError::Truncated),
        ),
        (
            "ext header 1 byte",
            ipv6_packet(60, 1, &[6]),
            Err(WireError::Truncated),
        ),
        (
            "ext header, no bytes",
            ipv6_packet(0, 0, &upper),
            Err(WireError::Truncated),
        ),
        (
            "hop-by-hop not first",
            ipv6_packet(60, len(&hbh_second), &hbh_second),
            Err(WireError::Unsupported),
        ),
        (
            "payload_len > buffer",
            ipv6_packet(6, 13, &upper),
            Err(WireError::Truncated),
        ),
        (
            "39 bytes",
            ipv6_packet(6, 0, &[])[..39].to_vec(),
            Err(WireError::Truncated),
        ),
    ];
    for (name, packet, expected) in cases {
        let got = IpRepr::parse(&packet).map(|(repr, payload)| {
            assert_eq!(repr.payload_len(), payload.len(), "{name}");
            (u8::from(repr.protocol()), payload)
        });
        assert_eq!(got, expected, "{name}");
    }

    let mut v4 = ipv6_packet(6, 12, &upper);
    v4[0] = 0x45;
    assert_eq!(
        Ipv6Packet::new_checked(&v4[..]).err(),
        Some(WireError::BadVersion)
    );
    let view = Ipv6Packet::new_checked(&hbh_dst_packet()[..]).map(|p| p.next_header());
    assert_eq!(view, Ok(IpProtocol::Other(0)));
    let (repr, _) = Ipv6Repr::parse_with_payload(&hbh_dst_packet()).unwrap();
    assert_eq!(repr.next_header, IpProtocol::Tcp);
    assert_eq!(repr.payload_len, 12);
}

fn hbh_dst_packet() -> Vec<u8> {
    let payload = [&ext(60, 0)[..], &ext(6, 1), &[0x55; 12]].concat();
    ipv6_packet(0, payload.len() as u16, &payload)
}

#[test]
fn icmp_table() {
    let with_sum = |mut m: Vec<u8>| {
        let c = checksum::checksum(&m);
        m[2..4].copy_from_slice(&c.to_be_bytes());
        m
    };
    // Destination unreachable, fragmentation needed, next-hop MTU 1400.
    let frag_needed = with_sum(vec![3, 4, 0, 0, 0, 0, 0x05, 0x78, 0x45, 0, 0, 20]);
    assert_eq!(
        Icmpv4Repr::parse(&frag_needed),
        Ok(Icmpv4Repr::DstUnreachable {
            code: 4,
            next_hop_mtu: 1400,
            original: &[0x45, 0, 0, 20],
        })
    );
    assert_eq!(Icmpv4Repr::parse(&[8, 0, 0]), Err(WireError::Truncated));
    assert_eq!(Icmpv4Repr::parse(&[]), Err(WireError::Truncated));
    assert_eq!(
        Icmpv4Repr::parse(&with_sum(vec![5, 0, 0, 0, 1, 2, 3, 4])),
        Err(WireError::Unsupported)
    );
    assert_eq!(
        Icmpv4Repr::parse(&[8, 0, 0, 0, 0, 0, 0, 0]),
        Err(WireError::BadChecksum)
    );

    let src = Ipv6Addr::LOCALHOST;
    let dst: Ipv6Addr = "ff02::1".parse().unwrap();
    let v6_sum = |mut m: Vec<u8>| {
        let pseudo = checksum::pseudo_header_v6(src, dst, 58, m.len() as u32);
        let c = checksum::finish(pseudo + checksum::sum(&m));
        m[2..4].copy_from_slice(&c.to_be_bytes());
        m
    };
    let unreach = v6_sum(vec![1, 4, 0, 0, 0, 0, 0, 0, 0x60]);
    assert_eq!(
        Icmpv6Repr::parse(&unreach, src, dst),
        Ok(Icmpv6Repr::DstUnreachable {
            code: 4,
            original: &[0x60],
        })
    );
    let ptb = v6_sum(vec![2, 0, 0, 0, 0, 0, 0x05, 0x00]);
    assert_eq!(
        Icmpv6Repr::parse(&ptb, src, dst),
        Ok(Icmpv6Repr::PacketTooBig {
            mtu: 1280,
            original: &[],
        })
    );
    // Router solicitation (133) is not handled here.
    let rs = v6_sum(vec![133, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(
        Icmpv6Repr::parse(&rs, src, dst),
        Err(WireError::Unsupported)
    );
    // The IPv4-style checksum (no pseudo-header) does not verify for ICMPv6.
    let no_pseudo = with_sum(vec![128, 0, 0, 0, 0, 1, 0, 1]);
    assert_eq!(
        Icmpv6Repr::parse(&no_pseudo, src, dst),
        Err(WireError::BadChecksum)
    );
    assert_eq!(
        Icmpv6Repr::parse(&[128; 7], src, dst),
        Err(WireError::Truncated)
    );
}
