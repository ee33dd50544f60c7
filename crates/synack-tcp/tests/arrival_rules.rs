//! Rules of SEGMENT ARRIVES (RFC 9293 §3.10.7.4) that show only at their
//! edges: how an unacceptable segment is answered (an ACK, rate-limited
//! when it carries nothing; a D-SACK when it repeats data, RFC 2883; never
//! a challenge ACK unless it is a SYN, RFC 5961), that nothing else in it
//! is used, what a SYN does to a passive connection, which segments count
//! as duplicate ACKs (RFC 5681 §2), and the urgent pointer.

mod common;

use common::*;
use synack_tcp::{Config, Connection, Duration, SeqNum, State};
use synack_wire::{TcpFlags, TcpOptions};

const FIN_ACK: TcpFlags = TcpFlags(TcpFlags::FIN.0 | TcpFlags::ACK.0);
/// Far beyond any receive window these tests open.
const BEYOND: u32 = PEER_ISS + 1 + 500_000;

/// We close first, the peer's FIN follows at 20 ms: TIME-WAIT.
fn time_wait() -> (Connection, u32) {
    let (mut c, iss) = established(plain(), TcpOptions::default());
    c.shutdown(at_ms(10));
    drain(&mut c, at_ms(10));
    let fin = seg(PEER_ISS + 1, iss.wrapping_add(2), FIN_ACK, b"");
    feed(&mut c, at_ms(20), &fin);
    drain(&mut c, at_ms(20));
    assert_eq!(c.state(), State::TimeWait);
    (c, iss)
}

#[test]
fn an_unacceptable_bare_ack_is_answered_at_most_every_500_ms_a_fin_always() {
    let (mut c, iss) = established(plain(), TcpOptions::default());
    let our = iss.wrapping_add(1);
    feed(&mut c, at_ms(10), &seg(BEYOND, our, TcpFlags::ACK, b""));
    assert_eq!(drain(&mut c, at_ms(10)).len(), 1, "the first is answered");
    feed(&mut c, at_ms(110), &seg(BEYOND, our, TcpFlags::ACK, b""));
    assert!(
        drain(&mut c, at_ms(110)).is_empty(),
        "a second within 500 ms is not: two such peers would trade ACKs forever"
    );
    // A FIN is not a bare ACK: it is answered whenever it comes.
    feed(&mut c, at_ms(120), &seg(BEYOND, our, FIN_ACK, b""));
    assert_eq!(drain(&mut c, at_ms(120)).len(), 1);
    assert_eq!(c.stats().unacceptable, 3);
}

#[test]
fn time_wait_restarts_its_2msl_only_for_a_fin() {
    let (mut c, iss) = time_wait();
    let deadline = c.poll_timeout();
    // An old duplicate with data is answered but ends nothing early or late.
    feed(
        &mut c,
        at_ms(500),
        &seg(PEER_ISS + 1, iss.wrapping_add(2), TcpFlags::ACK, b"x"),
    );
    assert_eq!(drain(&mut c, at_ms(500)).len(), 1);
    assert_eq!(c.poll_timeout(), deadline);
    // The peer's FIN again: acknowledged, and 2×MSL starts over.
    feed(
        &mut c,
        at_ms(600),
        &seg(PEER_ISS + 1, iss.wrapping_add(2), FIN_ACK, b""),
    );
    assert_eq!(drain(&mut c, at_ms(600)).len(), 1);
    assert_eq!(c.poll_timeout(), Some(at_ms(600) + Duration::from_secs(2)));
}

#[test]
fn a_repeated_segment_is_reported_as_a_dsack_rfc2883() {
    let (mut c, iss) = established(with_sack(), sack_ok());
    let our = iss.wrapping_add(1);
    let data = seg(PEER_ISS + 1, our, TcpFlags::ACK, &[7; 100]);
    feed(&mut c, at_ms(10), &data);
    drain(&mut c, at_ms(10));
    feed(&mut c, at_ms(20), &data);
    let out = drain(&mut c, at_ms(20));
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].ack, PEER_ISS + 101);
    assert_eq!(out[0].sack(), [(PEER_ISS + 1, PEER_ISS + 101)]);
}

#[test]
fn no_dsack_without_sack_or_for_data_beyond_the_window() {
    // SACK not agreed (the peer did not offer it): the repeat is
    // acknowledged, without blocks.
    let (mut c, iss) = established(with_sack(), TcpOptions::default());
    let data = seg(PEER_ISS + 1, iss.wrapping_add(1), TcpFlags::ACK, &[7; 100]);
    feed(&mut c, at_ms(10), &data);
    drain(&mut c, at_ms(10));
    feed(&mut c, at_ms(20), &data);
    let out = drain(&mut c, at_ms(20));
    assert_eq!(out.len(), 1);
    assert!(out[0].sack().is_empty(), "{out:?}");
    // SACK agreed, but the data lies beyond the window: not a duplicate.
    let (mut c, iss) = established(with_sack(), sack_ok());
    feed(
        &mut c,
        at_ms(10),
        &seg(BEYOND, iss.wrapping_add(1), TcpFlags::ACK, &[7; 100]),
    );
    let out = drain(&mut c, at_ms(10));
    assert_eq!(out.len(), 1);
    assert!(out[0].sack().is_empty(), "{out:?}");
}

#[test]
fn an_unacceptable_data_segment_gets_a_plain_ack_not_a_challenge() {
    let (mut c, iss) = established(plain(), TcpOptions::default());
    feed(
        &mut c,
        at_ms(10),
        &seg(BEYOND, iss.wrapping_add(1), TcpFlags::ACK, b"x"),
    );
    assert_eq!(drain(&mut c, at_ms(10)).len(), 1);
    assert_eq!(c.stats().challenge_acks, 0);
}

#[test]
fn nothing_of_an_unacceptable_segment_is_used_in_a_zero_window() {
    let cfg = Config {
        recv_buffer: 100,
        ..plain()
    };
    let (mut c, iss) = established(cfg, TcpOptions::default());
    let our = iss.wrapping_add(1);
    assert_eq!(c.send(&[1; 50]), Ok(50));
    drain(&mut c, at_ms(10));
    // The peer fills our window; we do not read.
    feed(
        &mut c,
        at_ms(20),
        &seg(PEER_ISS + 1, our, TcpFlags::ACK, &[7; 100]),
    );
    let out = drain(&mut c, at_ms(20));
    assert_eq!(out.last().map(|s| s.window), Some(0), "{out:?}");
    // Not at RCV.NXT in a zero window: unacceptable, so its ACK of our
    // 50 bytes must not be used (only a segment at RCV.NXT keeps its
    // control part).
    feed(
        &mut c,
        at_ms(30),
        &seg(PEER_ISS + 105, our + 50, TcpFlags::ACK, b""),
    );
    assert_eq!(c.info().snd_una, SeqNum(our));
    // At RCV.NXT its ACK counts, though its text does not fit.
    feed(
        &mut c,
        at_ms(40),
        &seg(PEER_ISS + 101, our + 50, TcpFlags::ACK, b"y"),
    );
    assert_eq!(c.info().snd_una, SeqNum(our + 50));
    assert_eq!(c.recv_queue(), 100);
}

#[test]
fn a_syn_on_an_established_passive_connection_is_challenged_rfc5961_4() {
    let mut c = passive(plain());
    feed(&mut c, at_ms(0), &seg(PEER_ISS, 0, TcpFlags::SYN, b""));
    let iss = drain(&mut c, at_ms(0))[0].seq;
    feed(
        &mut c,
        at_ms(10),
        &seg(PEER_ISS + 1, iss.wrapping_add(1), TcpFlags::ACK, b""),
    );
    assert_eq!(c.state(), State::Established);
    // Only SYN-RECEIVED goes back to LISTEN; a synchronized connection,
    // passive or not, answers with a challenge ACK and stays.
    feed(&mut c, at_ms(20), &seg(PEER_ISS + 1, 0, TcpFlags::SYN, b""));
    let out = drain(&mut c, at_ms(20));
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!((out[0].flags, out[0].ack), (TcpFlags::ACK, PEER_ISS + 1));
    assert_eq!(c.state(), State::Established);
    assert_eq!(c.stats().challenge_acks, 1);
}

#[test]
fn data_carrying_the_same_ack_is_no_duplicate_ack_rfc5681_2() {
    let (mut c, iss) = established(plain(), TcpOptions::default());
    let our = iss.wrapping_add(1);
    assert_eq!(c.send(&[1; 4000]), Ok(4000));
    let sent = drain(&mut c, at_ms(10));
    assert!(sent.len() >= 3, "{sent:?}");
    // The peer sends its own data, each segment acknowledging only what
    // it had before: these are not duplicate ACKs, so no fast retransmit.
    for i in 0..4 {
        let s = seg(PEER_ISS + 1 + 10 * i, our, TcpFlags::ACK, &[7; 10]);
        feed(&mut c, at_ms(20), &s);
    }
    let out = drain(&mut c, at_ms(20));
    assert!(
        out.iter().all(|s| s.payload.is_empty()),
        "nothing resent: {out:?}"
    );
}

#[test]
fn a_segment_without_urg_sets_no_urgent_pointer() {
    let (mut c, iss) = established(plain(), TcpOptions::default());
    let our = iss.wrapping_add(1);
    feed(
        &mut c,
        at_ms(10),
        &seg(PEER_ISS + 1, our, TcpFlags::ACK, b"abc"),
    );
    assert_eq!(c.urgent_pointer(), None);
    let mut urgent = seg(PEER_ISS + 4, our, TcpFlags::ACK | TcpFlags::URG, b"d");
    urgent.urgent = 1;
    feed(&mut c, at_ms(20), &urgent);
    assert_eq!(c.urgent_pointer(), Some(SeqNum(PEER_ISS + 5)));
}

#[test]
fn readable_is_signalled_when_the_queue_stops_being_empty() {
    let (mut c, iss) = established(plain(), TcpOptions::default());
    let our = iss.wrapping_add(1);
    events(&mut c);
    let readable = |c: &mut Connection| {
        events(c)
            .iter()
            .filter(|e| matches!(e, synack_tcp::Event::Readable))
            .count()
    };
    feed(
        &mut c,
        at_ms(10),
        &seg(PEER_ISS + 1, our, TcpFlags::ACK, b""),
    );
    assert_eq!(readable(&mut c), 0, "an ACK delivers nothing");
    feed(
        &mut c,
        at_ms(20),
        &seg(PEER_ISS + 1, our, TcpFlags::ACK, b"abc"),
    );
    assert_eq!(readable(&mut c), 1);
    feed(
        &mut c,
        at_ms(30),
        &seg(PEER_ISS + 4, our, TcpFlags::ACK, b"def"),
    );
    assert_eq!(readable(&mut c), 0, "still unread: no second signal");
    let mut buf = [0u8; 16];
    assert_eq!(c.recv(&mut buf), Ok(6));
    feed(
        &mut c,
        at_ms(40),
        &seg(PEER_ISS + 7, our, TcpFlags::ACK, b"g"),
    );
    assert_eq!(readable(&mut c), 1, "read dry, then new data");
}

#[test]
fn a_delayed_ack_waits_for_its_timer() {
    let cfg = Config {
        delayed_ack: Duration::from_millis(40),
        quick_ack: false,
        ..plain()
    };
    let (mut c, iss) = established(cfg, TcpOptions::default());
    feed(
        &mut c,
        at_ms(10),
        &seg(PEER_ISS + 1, iss.wrapping_add(1), TcpFlags::ACK, b"abc"),
    );
    assert!(
        drain(&mut c, at_ms(10)).is_empty(),
        "one small segment waits"
    );
    assert_eq!(c.poll_timeout(), Some(at_ms(50)));
    c.handle_timeout(at_ms(50));
    let out = drain(&mut c, at_ms(50));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].ack, PEER_ISS + 4);
}

#[test]
fn the_500_ms_quiet_time_for_bare_acks_ends_on_the_dot() {
    let (mut c, iss) = established(plain(), TcpOptions::default());
    let our = iss.wrapping_add(1);
    feed(&mut c, at_ms(10), &seg(BEYOND, our, TcpFlags::ACK, b""));
    assert_eq!(drain(&mut c, at_ms(10)).len(), 1);
    feed(&mut c, at_ms(510), &seg(BEYOND, our, TcpFlags::ACK, b""));
    assert_eq!(
        drain(&mut c, at_ms(510)).len(),
        1,
        "500 ms later it is answered"
    );
}

#[test]
fn a_reset_in_syn_received_refuses_an_active_open_and_requeues_a_passive_one() {
    // Passive: back to LISTEN (RFC 9293 §3.10.7.4, second step).
    let mut l = passive(plain());
    feed(&mut l, at_ms(0), &seg(PEER_ISS, 0, TcpFlags::SYN, b""));
    drain(&mut l, at_ms(0));
    feed(&mut l, at_ms(10), &seg(PEER_ISS + 1, 0, TcpFlags::RST, b""));
    assert_eq!(l.state(), State::Listen);
    // Active, after a simultaneous open: the connection is refused.
    let mut c = active(plain());
    drain(&mut c, at_ms(0));
    feed(&mut c, at_ms(10), &seg(PEER_ISS, 0, TcpFlags::SYN, b""));
    assert_eq!(c.state(), State::SynReceived);
    drain(&mut c, at_ms(10));
    feed(&mut c, at_ms(20), &seg(PEER_ISS + 1, 0, TcpFlags::RST, b""));
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.close_reason(), Some(synack_tcp::CloseReason::Refused));
}

#[test]
fn a_reset_does_not_end_time_wait_rfc1337() {
    let (mut c, _) = time_wait();
    feed(&mut c, at_ms(30), &seg(PEER_ISS + 2, 0, TcpFlags::RST, b""));
    assert_eq!(c.state(), State::TimeWait, "no TIME-WAIT assassination");
}
