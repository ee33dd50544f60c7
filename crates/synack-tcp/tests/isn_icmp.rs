//! What the secret makes of a 4-tuple, and what an ICMP error may do to a
//! connection.
//!
//! RFC 6528 §3: ISN = M + F(localip, localport, remoteip, remoteport,
//! secretkey), M a clock ticking every 4 µs; RFC 7323 §5.4: each
//! connection's timestamp clock starts at its own offset, from "the same
//! function with a different secret key". RFC 5927 §4.1: an ICMP error is
//! taken only if the sequence number it quotes is in flight; RFC 1122
//! §4.2.3.9, RFC 5927 §4.2 and RFC 9293 §3.9.2.2: a hard error (port or
//! protocol unreachable) refuses a connection still in SYN-SENT, and is
//! soft once the connection is synchronized; a soft error never ends one.

mod common;

use common::*;
use std::net::SocketAddr;
use synack_tcp::isn::siphash24;
use synack_tcp::{CloseReason, Event, IcmpVerdict, Instant, IsnSecret, SeqNum, State};

const KEY: [u8; 16] = [
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
];

/// A 4-tuple and, for each of its four parts, the same tuple with only that
/// part changed (an address in its first and in its last byte, a port in
/// its low byte).
fn tuple_and_neighbours(local: &str, remote: &str) -> Vec<(&'static str, SocketAddr, SocketAddr)> {
    let (l, r) = (addr(local), addr(remote));
    let flip = |a: SocketAddr, byte: usize| {
        let mut a = a;
        a.set_ip(match a.ip() {
            std::net::IpAddr::V4(v) => {
                let mut o = v.octets();
                let i = if byte == 0 { 0 } else { o.len() - 1 };
                o[i] ^= 1;
                o.into()
            }
            std::net::IpAddr::V6(v) => {
                let mut o = v.octets();
                let i = if byte == 0 { 0 } else { o.len() - 1 };
                o[i] ^= 1;
                o.into()
            }
        });
        a
    };
    let port = |a: SocketAddr| {
        let mut a = a;
        a.set_port(a.port() ^ 1);
        a
    };
    vec![
        ("the tuple", l, r),
        ("local address, first byte", flip(l, 0), r),
        ("local address, last byte", flip(l, 1), r),
        ("local port", port(l), r),
        ("remote address, first byte", l, flip(r, 0)),
        ("remote address, last byte", l, flip(r, 1)),
        ("remote port", l, port(r)),
    ]
}

/// Asserts that `f` gives seven different values for the tuple and its
/// six neighbours.
fn assert_every_part_counts(what: &str, f: impl Fn(SocketAddr, SocketAddr) -> u32) {
    for (local, remote) in [
        (CLIENT, SERVER),
        ("[2001:db8::1]:40000", "[2001:db8::2]:80"),
    ] {
        let seen: Vec<(&str, u32)> = tuple_and_neighbours(local, remote)
            .into_iter()
            .map(|(name, l, r)| (name, f(l, r)))
            .collect();
        for (i, (a, va)) in seen.iter().enumerate() {
            for (b, vb) in &seen[i + 1..] {
                assert_ne!(
                    va, vb,
                    "{what} for {local} → {remote}: changing the {b} gives what {a} gives"
                );
            }
        }
    }
}

#[test]
fn the_isn_depends_on_every_part_of_the_4_tuple_rfc6528() {
    let s = IsnSecret::new(KEY);
    assert_every_part_counts("the ISN", |l, r| s.isn(Instant::ZERO, l, r));
}

#[test]
fn the_isn_depends_on_the_secret_and_advances_one_per_4_microseconds_rfc6528() {
    let (l, r) = (addr(CLIENT), addr(SERVER));
    let s = IsnSecret::new(KEY);
    let t0 = s.isn(Instant::ZERO, l, r);
    let mut other = KEY;
    other[15] ^= 1;
    assert_ne!(IsnSecret::new(other).isn(Instant::ZERO, l, r), t0);
    assert_eq!(s.isn(Instant::from_micros(3), l, r), t0, "within one tick");
    assert_eq!(s.isn(Instant::from_micros(4), l, r), t0.wrapping_add(1));
    assert_eq!(
        s.isn(Instant::from_micros(4 << 32), l, r),
        t0,
        "M wraps at 2^32 ticks"
    );
}

#[test]
fn the_timestamp_offset_depends_on_every_part_of_the_4_tuple_rfc7323() {
    let s = IsnSecret::new(KEY);
    assert_every_part_counts("the timestamp offset", |l, r| s.ts_offset(l, r));
}

#[test]
fn the_timestamp_offset_is_not_drawn_from_the_isn_hash_rfc7323() {
    // F is SipHash-2-4 of local address, local port, remote address,
    // remote port (ports in network order); the timestamp offset must come
    // from the same function keyed apart (RFC 7323 §5.4), so that neither
    // half of that one hash serves as both.
    let s = IsnSecret::new(KEY);
    for (local, remote, msg) in [
        (
            CLIENT,
            SERVER,
            [&[10, 0, 0, 1][..], &[0x9c, 0x40], &[10, 0, 0, 2], &[0, 80]].concat(),
        ),
        (
            "[2001:db8::1]:40000",
            "[2001:db8::2]:80",
            [
                &[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1][..],
                &[0x9c, 0x40],
                &[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2],
                &[0, 80],
            ]
            .concat(),
        ),
    ] {
        let (l, r) = (addr(local), addr(remote));
        let hash = siphash24(&KEY, &msg);
        assert_eq!(
            s.isn(Instant::ZERO, l, r),
            hash as u32,
            "F for {local} → {remote}"
        );
        let offset = s.ts_offset(l, r);
        assert_ne!(offset, (hash >> 32) as u32, "the ISN hash's other half");
        assert_ne!(offset, hash as u32, "the ISN hash itself");
    }
}

/// A client in SYN-SENT with its SYN sent; returns it and its ISS.
fn syn_sent() -> (synack_tcp::Connection, u32) {
    let mut c = active(plain());
    let iss = drain(&mut c, Instant::ZERO)[0].seq;
    assert_eq!(c.state(), State::SynSent);
    (c, iss)
}

#[test]
fn a_port_unreachable_for_the_syn_refuses_the_connection() {
    let (mut c, iss) = syn_sent();
    let now = at_ms(10);
    assert_eq!(
        c.on_icmp_unreachable(now, SeqNum(iss), true),
        IcmpVerdict::Refused
    );
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.close_reason(), Some(CloseReason::Refused));
    let events: Vec<Event> = std::iter::from_fn(|| c.poll_event()).collect();
    assert!(events.contains(&Event::Closed(CloseReason::Refused)));
    assert!(
        drain(&mut c, now).is_empty(),
        "no RST answers an ICMP error"
    );
}

#[test]
fn a_soft_unreachable_in_syn_sent_leaves_the_syn_to_its_timer() {
    let (mut c, iss) = syn_sent();
    assert_eq!(
        c.on_icmp_unreachable(at_ms(10), SeqNum(iss), false),
        IcmpVerdict::Soft
    );
    assert_eq!(c.state(), State::SynSent);
    assert_eq!(c.close_reason(), None);
}

#[test]
fn an_unreachable_quoting_a_sequence_number_not_in_flight_is_ignored_rfc5927() {
    let (mut c, iss) = syn_sent();
    // SND.UNA = ISS, SND.NXT = ISS + 1: only ISS is in flight.
    for quoted in [iss.wrapping_add(1), iss.wrapping_sub(1), iss ^ 0x8000_0000] {
        assert_eq!(
            c.on_icmp_unreachable(at_ms(10), SeqNum(quoted), true),
            IcmpVerdict::Ignored,
            "quoted {quoted}, ISS {iss}"
        );
        assert_eq!(c.state(), State::SynSent);
    }
    let (mut c, iss) = established(plain(), Default::default());
    assert_eq!(c.send(&[7; 100]), Ok(100));
    drain(&mut c, at_ms(1));
    // In flight: ISS + 1 ..= ISS + 100.
    for quoted in [iss, iss.wrapping_add(101)] {
        assert_eq!(
            c.on_icmp_unreachable(at_ms(2), SeqNum(quoted), false),
            IcmpVerdict::Ignored,
            "quoted {quoted}, ISS {iss}"
        );
    }
}

#[test]
fn a_hard_unreachable_does_not_end_a_synchronized_connection_rfc5927() {
    let (mut c, iss) = established(plain(), Default::default());
    assert_eq!(c.send(&[7; 100]), Ok(100));
    drain(&mut c, at_ms(1));
    for quoted in [iss.wrapping_add(1), iss.wrapping_add(100)] {
        assert_eq!(
            c.on_icmp_unreachable(at_ms(2), SeqNum(quoted), true),
            IcmpVerdict::Soft
        );
        assert_eq!(c.state(), State::Established);
    }
    assert_eq!(c.close_reason(), None);
}
