//! Known-answer tests against hand-checked byte sequences.
//!
//! Expected checksums were computed independently (a straightforward
//! RFC 1071 implementation outside this crate) and are cross-checked here
//! against a slow reference sum.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use synack_wire::checksum;
use synack_wire::{
    Icmpv4Repr, Icmpv6Repr, IpProtocol, IpRepr, Ipv4Packet, Ipv4Repr, Ipv6Repr, TcpFlags,
    TcpOptions, TcpPacket, TcpRepr,
};

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Slow, obviously-correct RFC 1071 checksum over the concatenation of parts.
fn slow_checksum(parts: &[&[u8]]) -> u16 {
    let bytes: Vec<u8> = parts.iter().flat_map(|p| p.iter().copied()).collect();
    let mut acc: u64 = 0;
    for pair in bytes.chunks(2) {
        let hi = u64::from(pair[0]) << 8;
        let lo = pair.get(1).copied().map_or(0, u64::from);
        acc += hi | lo;
    }
    while acc > 0xFFFF {
        acc = (acc & 0xFFFF) + (acc >> 16);
    }
    !(acc as u16)
}

/// The classic IPv4 header checksum example: 4500 0073 0000 4000 4011 [b861]
/// c0a8 0001 c0a8 00c7.
#[test]
fn ipv4_header_checksum_classic_example() {
    let header = hex("4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7");
    let mut packet = header.clone();
    packet.resize(0x73, 0);

    let view = Ipv4Packet::new_checked(&packet[..]).unwrap();
    assert_eq!(view.checksum(), 0xb861);
    assert!(view.verify_checksum());
    assert_eq!(view.total_len(), 0x73);
    assert!(view.dont_fragment());
    assert_eq!(view.protocol(), IpProtocol::Udp);

    let (repr, payload) = IpRepr::parse(&packet).unwrap();
    let expected = Ipv4Repr {
        src: Ipv4Addr::new(192, 168, 0, 1),
        dst: Ipv4Addr::new(192, 168, 0, 199),
        protocol: IpProtocol::Udp,
        payload_len: 0x73 - 20,
        ttl: 64,
        ident: 0,
        dont_fragment: true,
        tos: 0,
    };
    assert_eq!(repr, IpRepr::V4(expected));
    assert_eq!(payload.len(), 0x73 - 20);

    // Emitting the same repr reproduces the header byte for byte.
    let mut out = [0u8; 20];
    expected.emit(&mut out);
    assert_eq!(&out[..], &header[..]);

    // Checksum computed from scratch agrees with the reference.
    let mut zeroed = header.clone();
    zeroed[10] = 0;
    zeroed[11] = 0;
    assert_eq!(checksum::checksum(&zeroed), 0xb861);
    assert_eq!(slow_checksum(&[&zeroed]), 0xb861);
}

/// A complete IPv4 TCP SYN with the Linux option layout
/// (MSS 1460, SACK-permitted, timestamps, NOP, window scale 7).
const SYN: &str = "4500003c1c4640004006b1e6ac100a63ac100a0c\
                   80e800501234567800000000a002faf0e0820000\
                   020405b40402080a0a0b0c0d0000000001030307";

#[test]
fn tcp_syn_known_answer() {
    let packet = hex(SYN);
    let (ip, segment) = IpRepr::parse(&packet).unwrap();
    assert_eq!(ip.protocol(), IpProtocol::Tcp);
    assert_eq!(ip.src(), IpAddr::V4(Ipv4Addr::new(172, 16, 10, 99)));
    assert_eq!(ip.dst(), IpAddr::V4(Ipv4Addr::new(172, 16, 10, 12)));
    assert_eq!(segment.len(), 40);

    let view = TcpPacket::new_checked(segment).unwrap();
    assert_eq!(view.checksum(), 0xe082);
    assert_eq!(view.data_offset(), 10);
    assert!(view.verify_checksum(ip.src(), ip.dst()));

    let tcp = TcpRepr::parse(segment, ip.src(), ip.dst(), true).unwrap();
    let mut options = TcpOptions::default();
    options.mss = Some(1460);
    options.window_scale = Some(7);
    options.sack_permitted = true;
    options.timestamps = Some((0x0a0b_0c0d, 0));
    let expected = TcpRepr {
        src_port: 33000,
        dst_port: 80,
        seq: 0x1234_5678,
        ack: 0,
        flags: TcpFlags::SYN,
        window: 64240,
        urgent: 0,
        options,
        payload: &[],
    };
    assert_eq!(tcp, expected);
    assert_eq!(tcp.flags.to_string(), "SYN");
    assert_eq!(tcp.segment_len(), 1);

    // Re-emitting the IP header and segment reproduces the capture exactly.
    let mut out = vec![0u8; packet.len()];
    let ip_out = IpRepr::V4(Ipv4Repr {
        ident: 0x1c46,
        ..match ip {
            IpRepr::V4(r) => r,
            IpRepr::V6(_) => unreachable!(),
        }
    });
    ip_out.emit(&mut out);
    tcp.emit(&mut out[20..], ip.src(), ip.dst());
    assert_eq!(out, packet);

    // Any single-bit corruption of the segment is caught by the checksum.
    let mut bad = segment.to_vec();
    bad[30] ^= 0x01;
    assert_eq!(
        TcpRepr::parse(&bad, ip.src(), ip.dst(), true),
        Err(synack_wire::WireError::BadChecksum)
    );
    assert!(TcpRepr::parse(&bad, ip.src(), ip.dst(), false).is_ok());
}

#[test]
fn tcp_checksum_matches_slow_reference_v4_and_v6() {
    let mut options = TcpOptions::default();
    options.timestamps = Some((1, 2));
    options.push_sack_block(synack_wire::SackBlock {
        left: 100,
        right: 200,
    });
    let payload: Vec<u8> = (0..=254u8).collect(); // odd length
    let repr = TcpRepr {
        src_port: 443,
        dst_port: 51000,
        seq: 0xFFFF_FFF0,
        ack: 0x8000_0001,
        flags: TcpFlags::ACK | TcpFlags::PSH | TcpFlags::ECE,
        window: 0xFFFF,
        urgent: 0,
        options,
        payload: &payload,
    };
    let pairs: [(IpAddr, IpAddr); 2] = [
        (
            Ipv4Addr::new(10, 255, 0, 1).into(),
            Ipv4Addr::new(203, 0, 113, 250).into(),
        ),
        (
            "2001:db8::dead:beef".parse::<Ipv6Addr>().unwrap().into(),
            "fe80::ffff:1".parse::<Ipv6Addr>().unwrap().into(),
        ),
    ];
    for (src, dst) in pairs {
        let mut buf = vec![0u8; repr.buffer_len()];
        repr.emit(&mut buf, src, dst);
        let stored = u16::from_be_bytes([buf[16], buf[17]]);

        let mut zeroed = buf.clone();
        zeroed[16] = 0;
        zeroed[17] = 0;
        let len = buf.len() as u32;
        let pseudo: Vec<u8> = match (src, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => [
                &s.octets()[..],
                &d.octets()[..],
                &[0, 6],
                &(len as u16).to_be_bytes()[..],
            ]
            .concat(),
            (IpAddr::V6(s), IpAddr::V6(d)) => [
                &s.octets()[..],
                &d.octets()[..],
                &len.to_be_bytes()[..],
                &[0, 0, 0, 6],
            ]
            .concat(),
            _ => unreachable!(),
        };
        assert_eq!(stored, slow_checksum(&[&pseudo, &zeroed]));
        assert_eq!(TcpRepr::parse(&buf, src, dst, true).unwrap(), repr);
    }
}

#[test]
fn icmp_known_checksums() {
    let v4 = Icmpv4Repr::EchoRequest {
        ident: 0x1234,
        seq_no: 1,
        data: b"abcde",
    };
    let mut buf = [0u8; 13];
    v4.emit(&mut buf);
    assert_eq!(u16::from_be_bytes([buf[2], buf[3]]), 0xbc03);
    assert_eq!(&buf[..], &hex("0800 bc03 1234 0001 6162636465")[..]);
    assert_eq!(Icmpv4Repr::parse(&buf), Ok(v4));

    let src: Ipv6Addr = "2001:db8::1".parse().unwrap();
    let dst: Ipv6Addr = "2001:db8::2".parse().unwrap();
    let v6 = Icmpv6Repr::EchoRequest {
        ident: 0x1234,
        seq_no: 1,
        data: b"abcde",
    };
    v6.emit(&mut buf, src, dst);
    assert_eq!(&buf[..], &hex("8000 e846 1234 0001 6162636465")[..]);
    assert_eq!(Icmpv6Repr::parse(&buf, src, dst), Ok(v6));
}

#[test]
fn ipv6_fixed_header_known_bytes() {
    let repr = Ipv6Repr {
        src: "2001:db8::1".parse().unwrap(),
        dst: "2001:db8::2".parse().unwrap(),
        next_header: IpProtocol::Tcp,
        payload_len: 20,
        hop_limit: 64,
        traffic_class: 0xb8,
        flow_label: 0x12345,
    };
    let mut buf = [0u8; 60];
    repr.emit(&mut buf);
    assert_eq!(
        &buf[..8],
        &hex("6b8 12345 0014 06 40")[..],
        "version/tc/flow, payload length, next header, hop limit"
    );
    let (parsed, payload) = Ipv6Repr::parse_with_payload(&buf).unwrap();
    assert_eq!(parsed, repr);
    assert_eq!(payload.len(), 20);
}
