//! Hostile and broken peers at the host: blind RSTs, SYNs and old ACKs
//! (RFC 5961), the challenge-ACK budget (RFC 5961 §7, CVE-2016-5696),
//! and ICMP: ping, unreachables, packet too big (RFC 1122 §4.2.3.9,
//! RFC 1191, RFC 5927).

mod common;

use common::*;
use std::net::{IpAddr, SocketAddr};
use synack_device::{LinkConfig, Side};
use synack_stack::Handle;
use synack_tcp::{CloseReason, Duration, State};
use synack_wire::{Icmpv4Repr, Icmpv6Repr, IpProtocol, IpRepr, TcpFlags, TcpOptions};

/// An established pair; returns (client, server, client addr, server addr).
fn established() -> (Net, Handle, Handle, SocketAddr, SocketAddr) {
    let mut net = Net::pair();
    let (c, s, _) = net.open(80);
    net.run_for(Duration::from_millis(10));
    let conn = net.a.conn(c).unwrap();
    let (ca, sa) = (conn.local(), conn.remote());
    (net, c, s, ca, sa)
}

/// (SND.NXT, RCV.NXT, RCV.WND) of the server, which the tests attack.
fn server_seq(net: &Net, s: Handle) -> (u32, u32, u32) {
    let i = net.b.conn(s).unwrap().info();
    (i.snd_nxt.0, i.rcv_nxt.0, i.rcv_wnd)
}

fn no_timestamps() -> Net {
    let mut a = config(A);
    a.tcp.timestamps = false;
    let mut b = config(B);
    b.tcp.timestamps = false;
    Net::new(
        LinkConfig::ideal().with_delay(Duration::from_millis(1)),
        a,
        b,
    )
}

#[test]
fn a_blind_in_window_rst_gets_a_challenge_ack_and_an_exact_one_resets() {
    let (mut net, _, s, ca, sa) = established();
    let (snd_nxt, rcv_nxt, wnd) = server_seq(&net, s);
    assert!(wnd > 1000);
    // In the window but not RCV.NXT: a challenge ACK, the connection lives.
    let rst = packet(
        ca,
        sa,
        rcv_nxt.wrapping_add(500),
        0,
        TcpFlags::RST,
        0,
        TcpOptions::default(),
        &[],
    );
    net.inject(Side::A, &rst);
    let replies = net.segments_to(Side::A, Duration::from_millis(5));
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert_eq!(
        (replies[0].0, replies[0].1, replies[0].2),
        (TcpFlags::ACK, snd_nxt, rcv_nxt),
        "the challenge ACK says where we are"
    );
    assert_eq!(net.b.conn(s).unwrap().state(), State::Established);
    assert_eq!(net.b.counters().challenge_acks, 1);
    // Outside the window (which the challenge ACK may have opened wider):
    // silently dropped.
    let (_, _, wnd) = server_seq(&net, s);
    let far = packet(
        ca,
        sa,
        rcv_nxt.wrapping_add(wnd + 10),
        0,
        TcpFlags::RST,
        0,
        TcpOptions::default(),
        &[],
    );
    net.inject(Side::A, &far);
    assert!(net
        .segments_to(Side::A, Duration::from_millis(5))
        .is_empty());
    assert_eq!(net.b.conn(s).unwrap().state(), State::Established);
    // Exactly RCV.NXT: reset.
    let exact = packet(
        ca,
        sa,
        rcv_nxt,
        0,
        TcpFlags::RST,
        0,
        TcpOptions::default(),
        &[],
    );
    net.inject(Side::A, &exact);
    net.run_for(Duration::from_millis(5));
    let conn = net.b.conn(s).unwrap();
    assert_eq!(conn.state(), State::Closed);
    assert_eq!(conn.close_reason(), Some(CloseReason::Reset));
    assert_eq!(net.b.counters().tcp_estab_resets, 1);
}

#[test]
fn a_blind_syn_gets_a_challenge_ack() {
    let (mut net, _, s, ca, sa) = established();
    let (snd_nxt, rcv_nxt, _) = server_seq(&net, s);
    for seq in [
        rcv_nxt,
        rcv_nxt.wrapping_add(100),
        rcv_nxt.wrapping_sub(100_000),
    ] {
        let syn = packet(
            ca,
            sa,
            seq,
            0,
            TcpFlags::SYN,
            1000,
            TcpOptions::default(),
            &[],
        );
        net.inject(Side::A, &syn);
        let replies = net.segments_to(Side::A, Duration::from_millis(5));
        assert_eq!(
            replies,
            [(TcpFlags::ACK, snd_nxt, rcv_nxt, 0)],
            "RFC 5961 §4.2: a SYN at {seq} is challenged, never reset"
        );
        assert_eq!(net.b.conn(s).unwrap().state(), State::Established);
    }
}

#[test]
fn data_with_an_old_ack_is_dropped() {
    let mut net = no_timestamps();
    let (c, s, _) = net.open(80);
    // Some traffic so that SND.UNA has moved well past the ISS.
    transfer(&mut net, (Side::B, s), (Side::A, c), 300_000);
    net.run_for(Duration::from_millis(10));
    let (ca, sa) = {
        let conn = net.a.conn(c).unwrap();
        (conn.local(), conn.remote())
    };
    let (snd_nxt, rcv_nxt, _) = server_seq(&net, s);
    // RFC 5961 §5.2: SEG.ACK below SND.UNA − MAX.SND.WND is not acceptable
    // (the largest window the peer offered is far below 2^30).
    let old_ack = snd_nxt.wrapping_sub(1 << 30);
    let data = packet(
        ca,
        sa,
        rcv_nxt,
        old_ack,
        TcpFlags::ACK | TcpFlags::PSH,
        1000,
        TcpOptions::default(),
        b"forged",
    );
    net.inject(Side::A, &data);
    let replies = net.segments_to(Side::A, Duration::from_millis(5));
    assert_eq!(replies.len(), 1, "an ACK in answer: {replies:?}");
    assert_eq!(
        net.b.conn(s).unwrap().recv_queue(),
        0,
        "the data was dropped"
    );
    assert_eq!(server_seq(&net, s).1, rcv_nxt, "RCV.NXT did not move");
    // The same data with a good ACK is taken.
    let good = packet(
        ca,
        sa,
        rcv_nxt,
        snd_nxt,
        TcpFlags::ACK | TcpFlags::PSH,
        1000,
        TcpOptions::default(),
        b"honest",
    );
    net.b.handle_packet(net.now, &good);
    assert_eq!(net.b.conn(s).unwrap().recv_queue(), 6);
}

#[test]
fn challenge_acks_are_limited_per_connection_and_per_host_with_a_random_budget() {
    let mut b = config(B);
    b.challenge_ack_limit = 100;
    let mut net = Net::new(
        LinkConfig::ideal().with_delay(Duration::from_millis(1)),
        config(A),
        b,
    );
    let now = net.now;
    let l = net.b.listen(now, 80).unwrap();
    let to = SocketAddr::new(ip(B), 80);
    let clients: Vec<_> = (0..50).map(|_| net.a.connect(now, to).unwrap()).collect();
    net.run_until(Duration::from_secs(5), |n| {
        n.b.listener_queues(l) == Some((50, 0))
    });
    let servers: Vec<_> = (0..50).map(|_| net.b.accept(l).unwrap()).collect();
    net.run_for(Duration::from_millis(500));
    let targets: Vec<_> = clients
        .iter()
        .zip(&servers)
        .map(|(&c, &s)| {
            let conn = net.a.conn(c).unwrap();
            (conn.local(), conn.remote(), server_seq(&net, s).1)
        })
        .collect();
    // Each second for 5 s: 30 blind RSTs at each of 50 connections. Per
    // connection at most 10 challenge ACKs a second; for the host a budget
    // drawn each second between 50 and 150.
    let mut per_second = Vec::new();
    for second in 0..5u32 {
        // Each round fills one of the host's budget seconds.
        let next_second = (net.now.as_micros() / 1_000_000 + 1) * 1_000_000;
        net.run_for(Duration::from_micros(next_second - net.now.as_micros()));
        let before = net.b.counters().challenge_acks;
        for k in 0..30u32 {
            for &(ca, sa, rcv_nxt) in &targets {
                let seq = rcv_nxt.wrapping_add(1000 + k + second * 100);
                net.inject(
                    Side::A,
                    &packet(ca, sa, seq, 0, TcpFlags::RST, 0, TcpOptions::default(), &[]),
                );
            }
            net.run_for(Duration::from_millis(30));
        }
        per_second.push(net.b.counters().challenge_acks - before);
    }
    println!(
        "challenge ACKs per second: {per_second:?}, held back {}",
        net.b.counters().challenge_acks_dropped
    );
    for &n in &per_second {
        assert!((50..=150).contains(&n), "{per_second:?}");
    }
    assert!(
        per_second.windows(2).any(|w| w[0] != w[1]),
        "the budget varies: {per_second:?}"
    );
    assert!(net.b.counters().challenge_acks_dropped > 0);
    for &s in &servers {
        assert_eq!(net.b.conn(s).unwrap().state(), State::Established);
        assert!(net.b.conn(s).unwrap().stats().challenge_acks <= 10 * 5);
    }
}

/// An ICMPv4 destination unreachable from `router` about the TCP segment
/// `quoted` (our own segment's IP header and first 8 bytes).
fn icmp4_unreachable(router: IpAddr, to: IpAddr, code: u8, mtu: u16, quoted: &[u8]) -> Vec<u8> {
    let msg = Icmpv4Repr::DstUnreachable {
        code,
        next_hop_mtu: mtu,
        original: quoted,
    };
    let mut body = vec![0u8; msg.buffer_len()];
    msg.emit(&mut body);
    with_ip(router, to, IpProtocol::Icmp, &body)
}

fn with_ip(src: IpAddr, dst: IpAddr, proto: IpProtocol, body: &[u8]) -> Vec<u8> {
    let ip = IpRepr::new(src, dst, proto, body.len(), 64);
    let mut p = vec![0u8; ip.header_len() + body.len()];
    ip.emit(&mut p[..ip.header_len()]);
    p[ip.header_len()..].copy_from_slice(body);
    p
}

/// The first 28 (IPv4) or 48 (IPv6) bytes of a segment we sent.
fn quote(local: SocketAddr, remote: SocketAddr, seq: u32) -> Vec<u8> {
    let mut p = packet(
        local,
        remote,
        seq,
        0,
        TcpFlags::ACK,
        0,
        TcpOptions::default(),
        &[],
    );
    p.truncate(if local.is_ipv4() { 28 } else { 48 });
    p
}

#[test]
fn port_unreachable_refuses_a_connection_in_syn_sent() {
    let mut net = Net::pair();
    let now = net.now;
    // Nobody at 10.77.0.3: the SYN goes nowhere (B is not it).
    let remote = sa("10.77.0.3:80");
    let c = net.a.connect(now, remote).unwrap();
    net.run_for(Duration::from_millis(1));
    let (local, iss) = {
        let i = net.a.conn(c).unwrap().info();
        (i.local, i.iss.0)
    };
    let router = ip("10.77.0.254");
    // A quoted sequence number that is not in flight: ignored (RFC 5927).
    let wrong = icmp4_unreachable(
        router,
        local.ip(),
        3,
        0,
        &quote(local, remote, iss.wrapping_add(7)),
    );
    net.a.handle_packet(net.now, &wrong);
    assert_eq!(net.a.counters().icmp_ignored, 1);
    // Network unreachable is soft: the connection keeps trying.
    let soft = icmp4_unreachable(router, local.ip(), 0, 0, &quote(local, remote, iss));
    net.a.handle_packet(net.now, &soft);
    assert_eq!(net.a.conn(c).unwrap().state(), State::SynSent);
    // Port unreachable for our SYN: refused.
    let hard = icmp4_unreachable(router, local.ip(), 3, 0, &quote(local, remote, iss));
    net.a.handle_packet(net.now, &hard);
    net.run_for(Duration::from_millis(1));
    let conn = net.a.conn(c).unwrap();
    assert_eq!(conn.state(), State::Closed);
    assert_eq!(conn.close_reason(), Some(CloseReason::Refused));
    assert_eq!(net.a.counters().icmp_in_dest_unreachs, 3);
    assert_eq!(net.a.counters().tcp_attempt_fails, 1);
}

#[test]
fn packet_too_big_makes_segments_smaller() {
    let mut net = Net::new(
        LinkConfig::ideal()
            .with_delay(Duration::from_millis(5))
            .with_mtu(1500),
        config(A),
        config(B),
    );
    let (c, s, _) = net.open(80);
    let (local, remote) = {
        let conn = net.a.conn(c).unwrap();
        (conn.local(), conn.remote())
    };
    // A first flight goes out; then a router further along says it
    // carries 1000-byte packets at most.
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 253) as u8).collect();
    assert_eq!(net.a.conn_mut(c).unwrap().send(&data), Ok(data.len()));
    net.run_for(Duration::from_millis(1));
    let info = net.a.conn(c).unwrap().info();
    let first_flight = info.snd_nxt.since(info.snd_una);
    let una = info.snd_una.0;
    let ptb = icmp4_unreachable(
        ip("10.77.0.254"),
        local.ip(),
        4,
        1000,
        &quote(local, remote, una),
    );
    net.a.handle_packet(net.now, &ptb);
    assert_eq!(net.a.counters().icmp_in_pmtu, 1);
    assert_eq!(net.a.conn(c).unwrap().info().mss, 960, "1000 − 20 − 20");
    let segs = net.segments_to(Side::B, Duration::from_secs(5));
    let big = segs.iter().take_while(|s| s.3 > 948).count();
    assert_eq!(
        big as u32 * 1448,
        first_flight,
        "only the first flight, sent before the ICMP, is larger"
    );
    assert!(
        segs[big..].iter().all(|s| s.3 <= 948),
        "960 less timestamps"
    );
    let mut got = vec![0u8; data.len() + 1];
    let n = net.b.conn_mut(s).unwrap().recv(&mut got).unwrap();
    assert_eq!(&got[..n], &data[..]);
}

#[test]
fn ping_is_answered_on_both_families() {
    for (a, b) in [(A, B), ("fd00::1", "fd00::2")] {
        let mut net = Net::new(
            LinkConfig::ideal().with_delay(Duration::from_millis(1)),
            config(a),
            config(b),
        );
        let (src, dst) = (ip(a), ip(b));
        let request = match (src, dst) {
            (IpAddr::V4(_), IpAddr::V4(_)) => {
                let m = Icmpv4Repr::EchoRequest {
                    ident: 0x77,
                    seq_no: 3,
                    data: b"synack ping",
                };
                let mut body = vec![0u8; m.buffer_len()];
                m.emit(&mut body);
                with_ip(src, dst, IpProtocol::Icmp, &body)
            }
            (IpAddr::V6(s6), IpAddr::V6(d6)) => {
                let m = Icmpv6Repr::EchoRequest {
                    ident: 0x77,
                    seq_no: 3,
                    data: b"synack ping",
                };
                let mut body = vec![0u8; m.buffer_len()];
                m.emit(&mut body, s6, d6);
                with_ip(src, dst, IpProtocol::Icmpv6, &body)
            }
            _ => unreachable!(),
        };
        net.inject(Side::A, &request);
        net.run_for(Duration::from_millis(1));
        let t = net.now + Duration::from_millis(1);
        let reply = net.link.poll_deliver_to(t, Side::A).expect("a reply");
        let (ip_hdr, payload) = IpRepr::parse(&reply.data).unwrap();
        assert_eq!((ip_hdr.src(), ip_hdr.dst()), (dst, src));
        match (ip_hdr.src(), ip_hdr.dst()) {
            (IpAddr::V6(s6), IpAddr::V6(d6)) => assert_eq!(
                Icmpv6Repr::parse(payload, s6, d6).unwrap(),
                Icmpv6Repr::EchoReply {
                    ident: 0x77,
                    seq_no: 3,
                    data: b"synack ping"
                }
            ),
            _ => assert_eq!(
                Icmpv4Repr::parse(payload).unwrap(),
                Icmpv4Repr::EchoReply {
                    ident: 0x77,
                    seq_no: 3,
                    data: b"synack ping"
                }
            ),
        }
        assert_eq!(net.b.counters().icmp_in_echos, 1);
        assert_eq!(net.b.counters().icmp_out_echo_reps, 1);
    }
}

#[test]
fn bad_ip_is_counted_not_answered() {
    let mut net = Net::pair();
    let (src, dst) = (sa("10.77.0.1:4000"), sa("10.77.0.2:80"));
    let good = packet(
        src,
        dst,
        1,
        0,
        TcpFlags::SYN,
        1000,
        TcpOptions::default(),
        &[],
    );
    // TTL 0.
    let mut ttl0 = good.clone();
    ttl0[8] = 0;
    let sum = synack_wire_checksum(&ttl0[..20]);
    ttl0[10..12].copy_from_slice(&sum.to_be_bytes());
    net.b.handle_packet(net.now, &ttl0);
    assert_eq!(net.b.counters().ip_in_hdr_errors, 1);
    // A flipped header bit.
    let mut bad_sum = good.clone();
    bad_sum[15] ^= 1;
    net.b.handle_packet(net.now, &bad_sum);
    // Not ours.
    let other = packet(
        src,
        sa("10.77.0.9:80"),
        1,
        0,
        TcpFlags::SYN,
        1000,
        TcpOptions::default(),
        &[],
    );
    net.b.handle_packet(net.now, &other);
    assert_eq!(net.b.counters().ip_in_addr_errors, 1);
    // Truncated.
    net.b.handle_packet(net.now, &good[..30]);
    // A bad TCP checksum.
    let mut bad_tcp = good.clone();
    bad_tcp[30] ^= 0x40;
    net.b.handle_packet(net.now, &bad_tcp);
    assert_eq!(net.b.counters().tcp_in_csum_errors, 1);
    let c = net.b.counters();
    assert_eq!(c.ip_in_receives, 5);
    assert_eq!(c.ip_in_csum_errors + c.ip_in_hdr_errors, 3, "{c:?}");
    assert!(net
        .segments_to(Side::A, Duration::from_millis(5))
        .is_empty());
}

/// The Internet checksum of an IPv4 header (its checksum field zeroed).
fn synack_wire_checksum(header: &[u8]) -> u16 {
    let mut h = header.to_vec();
    h[10] = 0;
    h[11] = 0;
    let mut sum: u32 = 0;
    for w in h.chunks(2) {
        sum += u32::from(u16::from_be_bytes([w[0], w[1]]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// `checksum_offload`: segments leave with a zero TCP checksum and
/// arriving ones are not checked; without it, the same segment is dropped
/// and counted.
#[test]
fn checksum_offload_leaves_tcp_checksums_to_the_link() {
    use synack_stack::{Host, HostConfig};
    use synack_tcp::Instant;
    let (a_ip, b_ip): (IpAddr, IpAddr) =
        ("10.77.0.1".parse().unwrap(), "10.77.0.2".parse().unwrap());
    let host = |ip, offload| {
        let mut cfg = HostConfig::new(ip);
        cfg.checksum_offload = offload;
        Host::new(cfg, [9; 32])
    };
    let now = Instant::ZERO;
    let mut a = host(a_ip, true);
    a.connect(now, SocketAddr::new(b_ip, 80)).unwrap();
    let mut buf = vec![0u8; 1500];
    let n = a.poll_transmit(now, &mut buf).unwrap().unwrap();
    let syn = buf[..n].to_vec();
    assert_eq!(&syn[36..38], &[0, 0], "TCP checksum left zero");
    // A host that checks drops it; one that trusts its link answers.
    let mut strict = host(b_ip, false);
    strict.listen(now, 80).unwrap();
    strict.handle_packet(now, &syn);
    assert_eq!(strict.counters().tcp_in_csum_errors, 1);
    assert!(strict.poll_transmit(now, &mut buf).unwrap().is_none());
    let mut trusting = host(b_ip, true);
    trusting.listen(now, 80).unwrap();
    trusting.handle_packet(now, &syn);
    assert_eq!(trusting.counters().tcp_in_csum_errors, 0);
    let n = trusting.poll_transmit(now, &mut buf).unwrap().unwrap();
    assert!(n >= 40);
    assert_eq!(buf[33] & 0x12, 0x12, "a SYN-ACK");
    assert_eq!(&buf[36..38], &[0, 0], "sent with no checksum either");
}

/// A segment's checksum is verified as its text is copied into the
/// receive ring, one pass over the bytes. A corrupt segment must still
/// leave no trace: not in RCV.NXT, not in the bytes read later, and not in
/// out-of-order data already held beyond RCV.NXT.
#[test]
fn a_corrupt_segment_leaves_nothing_in_the_receive_ring() {
    let mut net = no_timestamps();
    let (c, s, _) = net.open(80);
    net.run_for(Duration::from_millis(10));
    let (ca, sa) = {
        let conn = net.a.conn(c).unwrap();
        (conn.local(), conn.remote())
    };
    let (snd_nxt, rcv_nxt, _) = server_seq(&net, s);
    let seg = |seq: u32, text: &[u8]| {
        packet(
            ca,
            sa,
            seq,
            snd_nxt,
            TcpFlags::ACK | TcpFlags::PSH,
            1000,
            TcpOptions::default(),
            text,
        )
    };
    let corrupt = |mut p: Vec<u8>| {
        let last = p.len() - 1;
        p[last] ^= 0x20;
        p
    };
    let read = |net: &mut Net| {
        let mut buf = [0u8; 64];
        let n = net.b.conn_mut(s).unwrap().recv(&mut buf).unwrap_or(0);
        buf[..n].to_vec()
    };
    // In order, into an empty ring: dropped, counted, nothing readable.
    net.b
        .handle_packet(net.now, &corrupt(seg(rcv_nxt, b"bad bytes!")));
    assert_eq!(net.b.counters().tcp_in_csum_errors, 1);
    assert_eq!(server_seq(&net, s).1, rcv_nxt, "RCV.NXT did not move");
    assert_eq!(net.b.conn(s).unwrap().recv_queue(), 0);
    // A shorter good segment at the same place: only its own bytes.
    net.b.handle_packet(net.now, &seg(rcv_nxt, b"good"));
    assert_eq!(read(&mut net), b"good");
    let rcv_nxt = rcv_nxt.wrapping_add(4);
    // Out-of-order data held beyond RCV.NXT, then a corrupt segment that
    // overlaps it: the held bytes stay as they arrived.
    net.b
        .handle_packet(net.now, &seg(rcv_nxt.wrapping_add(6), b"WORLD!"));
    net.b
        .handle_packet(net.now, &corrupt(seg(rcv_nxt, b"hello world?")));
    assert_eq!(net.b.counters().tcp_in_csum_errors, 2);
    assert_eq!(server_seq(&net, s).1, rcv_nxt);
    net.b.handle_packet(net.now, &seg(rcv_nxt, b"hello "));
    assert_eq!(read(&mut net), b"hello WORLD!");
    // The same segment intact is taken whole, and so is the next one.
    let rcv_nxt = rcv_nxt.wrapping_add(12);
    net.b.handle_packet(net.now, &seg(rcv_nxt, b"and more"));
    assert_eq!(read(&mut net), b"and more");
    assert_eq!(net.b.counters().tcp_in_csum_errors, 2);
}
