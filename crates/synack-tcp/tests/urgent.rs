//! Urgent data (RFC 9293 §3.8.5, RFC 6093): `send_urgent` sets SND.UP just
//! past the urgent bytes; every segment sent while SND.UP is ahead of its
//! sequence number carries URG and the pointer as an offset from SEG.SEQ
//! (65535 at most), retransmissions and pure ACKs included, until the
//! urgent data is acknowledged; the receiver keeps the latest pointer in
//! sequence space and reports it as `urgent_pointer()`.

mod common;

use common::*;
use synack_tcp::{Duration, Instant, IsnSecret, Keepalive, SegmentKind, SendKind, SeqNum};
use synack_wire::TcpFlags;

/// The data segments `side` sent in `log`.
fn data_from(log: &[(char, Out)], side: char) -> Vec<Out> {
    log.iter()
        .filter(|(from, s)| *from == side && !s.payload.is_empty())
        .map(|(_, s)| s.clone())
        .collect()
}

/// Where a segment's urgent pointer points (SEG.SEQ + the field).
fn pointer(s: &Out) -> u32 {
    s.seq.wrapping_add(u32::from(s.urgent))
}

/// Reads everything `c` holds.
fn read_all(c: &mut synack_tcp::Connection) -> Vec<u8> {
    let mut buf = vec![0u8; 1 << 18];
    let mut got = Vec::new();
    while let Ok(n) = c.recv(&mut buf) {
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    got
}

#[test]
fn the_urgent_byte_goes_with_urg_and_a_pointer_just_past_it() {
    let mut p = Pair::new(plain(), plain());
    p.establish();
    p.a.send(b"sleep 100\r\n").unwrap();
    let normal = p.exchange(|_, _| false);
    p.a.send_urgent(&[0x03]).unwrap();
    let urgent = p.exchange(|_, _| false);

    let [first] = &data_from(&normal, 'a')[..] else {
        panic!("{normal:?}")
    };
    assert!(!first.flags.urg(), "ordinary data carries no URG");
    assert_eq!(first.urgent, 0);
    let [mark] = &data_from(&urgent, 'a')[..] else {
        panic!("{urgent:?}")
    };
    assert!(mark.flags.urg(), "{mark:?}");
    // RFC 6093 §4 (MUST-62): the pointer points to the octet following
    // the urgent data, not to its last octet (RFC 1122's reading).
    assert_eq!(mark.urgent, 1);
    assert_eq!(pointer(mark), mark.seq + 1);
    // The receiver reads the pointer the same way.
    assert_eq!(p.b.urgent_pointer(), Some(SeqNum(mark.seq + 1)));
    assert_eq!(read_all(&mut p.b), b"sleep 100\r\n\x03");
    // Acknowledged: urgent mode is over.
    assert_eq!(p.a.send_urgent_pointer(), None);
}

#[test]
fn urg_stays_on_retransmissions_until_the_urgent_data_is_acknowledged() {
    let (mut c, iss) = established(plain(), Default::default());
    c.send_urgent(b"!!").unwrap();
    let first = drain(&mut c, Instant::ZERO);
    assert_eq!(first.len(), 1);
    assert!(first[0].flags.urg());
    assert_eq!(first[0].urgent, 2);
    // Lost: the retransmission timeout resends it, URG and pointer too.
    let rto = c.poll_timeout().expect("RTO armed");
    c.handle_timeout(rto);
    let again = drain(&mut c, rto);
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].kind, Some(SegmentKind::Data(SendKind::Retransmit)));
    assert!(again[0].flags.urg(), "{:?}", again[0]);
    assert_eq!(pointer(&again[0]), iss.wrapping_add(3));
    // The ACK of it ends urgent mode.
    feed(
        &mut c,
        rto,
        &seg(PEER_ISS + 1, iss.wrapping_add(3), ACK, b""),
    );
    assert_eq!(c.send_urgent_pointer(), None);
    c.send(b"after").unwrap();
    let after = drain(&mut c, rto);
    assert!(!after[0].flags.urg(), "{:?}", after[0]);
    assert_eq!(after[0].urgent, 0);
}

#[test]
fn data_after_the_urgent_data_carries_no_urg_while_it_is_unacknowledged() {
    let (mut c, iss) = established(plain(), Default::default());
    c.set_nodelay(true);
    c.send_urgent(b"!").unwrap();
    let mark = drain(&mut c, Instant::ZERO);
    assert!(mark[0].flags.urg());
    assert_eq!(pointer(&mark[0]), iss.wrapping_add(2));
    c.send(b"tail").unwrap();
    let tail = drain(&mut c, Instant::ZERO);
    // It starts at SND.UP: the urgent data lies behind it.
    assert_eq!(tail[0].seq, iss.wrapping_add(2));
    assert!(!tail[0].flags.urg(), "{:?}", tail[0]);
    assert_eq!(tail[0].urgent, 0);
    assert_eq!(c.send_urgent_pointer(), Some(SeqNum(iss.wrapping_add(2))));
}

#[test]
fn a_keepalive_after_the_urgent_data_was_acknowledged_carries_no_urg() {
    // A keep-alive probe is sent at SND.NXT − 1: a pointer kept past its
    // acknowledgment would still be ahead of it.
    let (mut c, iss) = established(plain(), Default::default());
    c.send_urgent(b"!").unwrap();
    assert!(drain(&mut c, Instant::ZERO)[0].flags.urg());
    feed(
        &mut c,
        Instant::ZERO,
        &seg(PEER_ISS + 1, iss.wrapping_add(2), ACK, b""),
    );
    let ka = Keepalive {
        idle: Duration::from_secs(10),
        interval: Duration::from_secs(1),
        count: 3,
    };
    c.set_keepalive(Instant::ZERO, Some(ka));
    let at = c.poll_timeout().expect("keep-alive armed");
    c.handle_timeout(at);
    let probe = drain(&mut c, at);
    assert_eq!(probe.len(), 1);
    assert_eq!(probe[0].kind, Some(SegmentKind::Keepalive));
    assert_eq!(probe[0].seq, iss.wrapping_add(1), "SND.NXT − 1");
    assert!(!probe[0].flags.urg(), "{:?}", probe[0]);
}

#[test]
fn a_pure_ack_carries_urg_while_the_urgent_data_waits_for_the_window() {
    // The peer's window is closed: the urgent byte cannot go, but the
    // notification can (RFC 9293 §3.8.5: the urgent field rides every
    // segment sent while SND.UP is ahead of it).
    let (mut c, iss) = established(plain(), Default::default());
    feed(
        &mut c,
        Instant::ZERO,
        &seg(PEER_ISS + 1, iss.wrapping_add(1), ACK, b"").with_window(0),
    );
    c.send_urgent(&[0x03]).unwrap();
    assert!(drain(&mut c, Instant::ZERO).is_empty(), "window closed");
    feed(
        &mut c,
        Instant::ZERO,
        &seg(PEER_ISS + 1, iss.wrapping_add(1), ACK, b"output").with_window(0),
    );
    let out = drain(&mut c, Instant::ZERO);
    assert_eq!(out.len(), 1);
    assert!(out[0].payload.is_empty(), "{:?}", out[0]);
    assert!(out[0].flags.urg(), "{:?}", out[0]);
    assert_eq!(out[0].seq, iss.wrapping_add(1));
    assert_eq!(pointer(&out[0]), iss.wrapping_add(2));
}

#[test]
fn urgent_data_is_not_held_back_by_nagle() {
    let (mut c, _) = established(plain(), Default::default());
    c.send(b"sleep 100\r\n").unwrap();
    assert_eq!(drain(&mut c, Instant::ZERO).len(), 1);
    // Unacknowledged data in flight: Nagle holds a small ordinary write...
    let mut ordinary = c.clone();
    ordinary.send(&[0x03]).unwrap();
    assert!(drain(&mut ordinary, Instant::ZERO).is_empty());
    // ...but not urgent data.
    c.send_urgent(&[0x03]).unwrap();
    let out = drain(&mut c, Instant::ZERO);
    assert_eq!(out.len(), 1);
    assert!(out[0].flags.urg());
    assert_eq!(out[0].payload, [0x03]);
}

#[test]
fn a_write_longer_than_one_mss_points_beyond_the_first_segment() {
    // No MSS option from the peer: 536-byte segments.
    let (mut c, iss) = established(plain(), Default::default());
    c.set_nodelay(true);
    let data = pattern(800);
    assert_eq!(c.send_urgent(&data).unwrap(), 800);
    let out = drain(&mut c, Instant::ZERO);
    let lens: Vec<usize> = out.iter().map(|s| s.len()).collect();
    assert_eq!(lens, [536, 264]);
    let up = iss.wrapping_add(1 + 800);
    for s in &out {
        assert!(s.flags.urg(), "{s:?}");
        assert_eq!(pointer(s), up, "both point just past the urgent data");
    }
    // The first segment's pointer lies beyond its own data.
    assert_eq!(usize::from(out[0].urgent), 800);
    assert!(usize::from(out[0].urgent) > out[0].len());
    assert_eq!(usize::from(out[1].urgent), out[1].len());
}

#[test]
fn a_pointer_more_than_65535_ahead_is_sent_as_65535() {
    let mut p = Pair::new(plain(), plain());
    p.establish();
    let data = pattern(100_000);
    assert_eq!(p.a.send_urgent(&data).unwrap(), data.len());
    let up = p.a.send_urgent_pointer().unwrap();
    let mut got = Vec::new();
    let mut log = Vec::new();
    for _ in 0..1000 {
        if got.len() == data.len() {
            break;
        }
        log.extend(p.exchange(|_, _| false));
        got.extend(read_all(&mut p.b));
    }
    assert_eq!(got, data);
    let sent = data_from(&log, 'a');
    for s in &sent {
        assert!(s.flags.urg(), "{s:?}");
        let ahead = up.since(SeqNum(s.seq));
        assert_eq!(u32::from(s.urgent), ahead.min(65535), "{s:?}");
    }
    assert!(sent.iter().any(|s| s.urgent == 65535));
    assert!(sent.iter().any(|s| s.urgent < 65535));
    // The receiver ends with the exact pointer.
    assert_eq!(p.b.urgent_pointer(), Some(up));
}

#[test]
fn a_retransmission_far_behind_does_not_point_at_bytes_already_sent() {
    // 65535 from a retransmitted segment's start may land on a byte sent
    // since; a receiver taking the byte before the pointer out of band
    // would take an ordinary one. Such a segment goes without URG.
    let cfg = synack_tcp::Config {
        send_buffer: 4 << 20,
        recv_buffer: 4 << 20,
        window_scaling: true,
        ..plain()
    };
    let mut p = Pair::new(cfg.clone(), cfg);
    p.establish();
    let iss = p.a.info().iss.0;
    let mss = u32::from(p.a.info().mss);
    let data = pattern(4 << 20);
    assert_eq!(p.a.send_urgent(&data).unwrap(), data.len());
    let up = p.a.send_urgent_pointer().unwrap();
    // Lose one segment, once, deep in the transfer (cwnd has grown).
    let lost = iss.wrapping_add(1 + 2000 * mss);
    let mut dropped = false;
    let mut log = Vec::new();
    let mut got = Vec::new();
    for _ in 0..10_000 {
        if got.len() == data.len() {
            break;
        }
        let round = p.exchange(|side, s| {
            let drop = side == 'a' && s.seq == lost && !dropped;
            dropped |= drop;
            drop
        });
        let quiet = round.is_empty();
        log.extend(round);
        got.extend(read_all(&mut p.b));
        if quiet {
            // Only a timer can move things on.
            assert!(p.tick(), "stalled");
        }
    }
    assert!(dropped);
    assert_eq!(got, data);
    let sent = data_from(&log, 'a');
    let again = sent.iter().rposition(|s| s.seq == lost).unwrap();
    let before = sent.iter().position(|s| s.seq == lost).unwrap();
    assert!(again > before, "the lost segment went again");
    // By then SND.NXT was more than 65535 past it, the pointer further.
    let highest = sent[..again]
        .iter()
        .map(|s| s.seq.wrapping_add(s.len() as u32).wrapping_sub(lost) as i32)
        .max()
        .unwrap();
    assert!(highest >= 65535, "{highest}");
    assert!(up.since(SeqNum(lost)) > 65535);
    let retx = &sent[again];
    assert!(!retx.flags.urg(), "{retx:?}");
    assert_eq!(retx.urgent, 0);
    // Its first transmission carried 65535.
    assert!(sent[before].flags.urg());
    assert_eq!(sent[before].urgent, 65535);
}

#[test]
fn urgent_data_across_the_sequence_wrap() {
    let iss = u32::MAX - 10;
    let mut p = Pair {
        a: active_at(plain(), Instant::ZERO, IsnSecret::predictable(iss)),
        b: passive(plain()),
        now: Instant::ZERO,
    };
    p.establish();
    assert_eq!(p.a.info().iss, SeqNum(iss));
    p.a.set_nodelay(true);
    // Bytes iss+1 .. iss+4; the urgent one is iss+4, SND.UP iss+5.
    p.a.send(b"abc").unwrap();
    p.a.send_urgent(b"!").unwrap();
    p.exchange(|_, _| false);
    assert_eq!(p.b.urgent_pointer(), Some(SeqNum(iss + 5)));
    // Urgent data from iss+5 across 2^32: SND.UP = iss + 16 = 5.
    p.a.send_urgent(b"0123456789?").unwrap();
    let log = p.exchange(|_, _| false);
    let [s] = &data_from(&log, 'a')[..] else {
        panic!("{log:?}")
    };
    assert_eq!(s.seq, iss + 5);
    assert!(s.flags.urg(), "{s:?}");
    assert_eq!(s.urgent, 11);
    assert_eq!(pointer(s), 5);
    // The receiver takes the later pointer in sequence space, not the
    // larger integer.
    assert_eq!(p.b.urgent_pointer(), Some(SeqNum(5)));
    assert_eq!(read_all(&mut p.b), b"abc!0123456789?");
    assert_eq!(p.a.send_urgent_pointer(), None, "acknowledged");
}

#[test]
fn urg_on_a_syn_ack_counts_from_the_syn() {
    let mut c = active(plain());
    let iss = drain(&mut c, Instant::ZERO)[0].seq;
    let mut syn_ack = seg(
        PEER_ISS,
        iss.wrapping_add(1),
        SYN | ACK | TcpFlags::URG,
        b"x!",
    );
    // Text after the SYN's number: x at PEER_ISS+1, ! at PEER_ISS+2.
    syn_ack.urgent = 3;
    feed(&mut c, Instant::ZERO, &syn_ack);
    assert_eq!(c.urgent_pointer(), Some(SeqNum(PEER_ISS + 3)));
    assert_eq!(read_all(&mut c), b"x!");
}

#[test]
fn urgent_mode_stays_over_after_2_pow_31_more_bytes_across_the_wrap() {
    // SND.UP is kept with SND.UNA once the urgent data is acknowledged: a
    // pointer left behind would, 2^31 bytes later, look ahead of every
    // segment again (sequence numbers compare modulo 2^32). The urgent
    // byte sits just before 2^32, so keeping up must be modular too.
    let cfg = synack_tcp::Config {
        mss: 65_000,
        send_buffer: 4 << 20,
        recv_buffer: 4 << 20,
        window_scaling: true,
        ..plain()
    };
    let mut p = Pair {
        a: active_at(
            cfg.clone(),
            Instant::ZERO,
            IsnSecret::predictable(u32::MAX - 100),
        ),
        b: passive(cfg),
        now: Instant::ZERO,
    };
    p.establish();
    p.a.send_urgent(b"!").unwrap();
    p.exchange(|_, _| false);
    assert_eq!(p.a.send_urgent_pointer(), None);
    let chunk = vec![b'.'; 4 << 20];
    let total: u64 = (1 << 31) + (8 << 20);
    let (mut sent, mut got) = (0u64, 0u64);
    let mut urg = 0usize;
    let mut buf = vec![0u8; 4 << 20];
    while got < total {
        let want = (total - sent).min(chunk.len() as u64) as usize;
        if want > 0 {
            sent += p.a.send(&chunk[..want]).unwrap_or(0) as u64;
        }
        p.exchange(|side, s| {
            urg += usize::from(side == 'a' && s.flags.urg());
            false
        });
        while let Ok(n) = p.b.recv(&mut buf) {
            if n == 0 {
                break;
            }
            got += n as u64;
        }
    }
    assert_eq!(urg, 0, "segments with URG long after the urgent data");
    assert_eq!(p.a.send_urgent_pointer(), None);
}
