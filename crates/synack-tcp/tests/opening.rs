//! The opening handshake's finer rules, one connection driven by hand: what
//! rides on a SYN-ACK, how the SYN's round trip is timed (RFC 6298 §3,
//! Karn's rule and RFC 7323 §4), a SYN that arrives again in SYN-RECEIVED,
//! and a simultaneous open finished by the peer's SYN-ACK (RFC 9293 §3.5).

mod common;

use common::*;
use synack_tcp::{timestamp_clock, Duration, IsnSecret, State};
use synack_wire::TcpFlags;

const SYN_ACK: TcpFlags = TcpFlags(TcpFlags::SYN.0 | TcpFlags::ACK.0);

#[test]
fn a_fin_on_the_syn_ack_closes_the_peers_half_rfc9293_3_10_7_3() {
    let mut c = active(plain());
    let iss = drain(&mut c, at_ms(0))[0].seq;
    let fin = SYN_ACK | TcpFlags::FIN;
    feed(
        &mut c,
        at_ms(10),
        &seg(PEER_ISS, iss.wrapping_add(1), fin, b""),
    );
    assert_eq!(c.state(), State::CloseWait);
    let out = drain(&mut c, at_ms(10));
    assert_eq!(
        out.last().map(|s| s.ack),
        Some(PEER_ISS + 2),
        "the ACK covers the SYN and the FIN: {out:?}"
    );
}

#[test]
fn a_syn_sent_once_times_the_round_trip() {
    let mut c = active(plain());
    let iss = drain(&mut c, at_ms(0))[0].seq;
    assert_eq!(c.stats().segs_out, 1, "the SYN is a segment out");
    feed(
        &mut c,
        at_ms(100),
        &seg(PEER_ISS, iss.wrapping_add(1), SYN_ACK, b""),
    );
    assert_eq!(c.info().srtt, Some(Duration::from_millis(100)));
    assert_eq!(c.stats().segs_in, 1);
}

#[test]
fn a_resent_syn_is_timed_only_by_its_timestamp_echo() {
    let mut c = active(modern());
    drain(&mut c, at_ms(0));
    c.handle_timeout(at_ms(1000));
    let again = drain(&mut c, at_ms(1000));
    assert_eq!(again.len(), 1, "{again:?}");
    assert_eq!(c.stats().segs_out, 2, "the resent SYN counts too");
    let (iss, (tsval, _)) = (again[0].seq, again[0].options.timestamps.unwrap());
    // The SYN-ACK echoes the second SYN's TSval 50 ms later: that is the
    // round trip, not the 1050 ms since the first SYN (Karn's rule alone
    // would give no sample at all).
    let answer = seg(PEER_ISS, iss.wrapping_add(1), SYN_ACK, b"").with_ts(7, tsval);
    feed(&mut c, at_ms(1050), &answer);
    assert_eq!(c.state(), State::Established);
    assert_eq!(c.info().srtt, Some(Duration::from_millis(50)));
}

#[test]
fn a_timestamp_echo_times_nothing_when_timestamps_are_off() {
    let mut c = active(plain());
    let iss = drain(&mut c, at_ms(0))[0].seq;
    c.handle_timeout(at_ms(1000));
    assert_eq!(drain(&mut c, at_ms(1000)).len(), 1);
    // The peer sends timestamps we never offered; its echo means nothing,
    // even one that reads as a plausible 50 ms on our clock.
    let echo = timestamp_clock(
        &IsnSecret::from_seed(1),
        addr(CLIENT),
        addr(SERVER),
        at_ms(1000),
    );
    let answer = seg(PEER_ISS, iss.wrapping_add(1), SYN_ACK, b"").with_ts(7, echo);
    feed(&mut c, at_ms(1050), &answer);
    assert_eq!(c.state(), State::Established);
    assert_eq!(c.info().srtt, None, "a resent SYN gives no sample");
}

#[test]
fn a_syn_again_in_syn_received_gets_the_syn_ack_again_at_once() {
    let mut c = passive(plain());
    feed(&mut c, at_ms(0), &seg(PEER_ISS, 0, TcpFlags::SYN, b""));
    let first = drain(&mut c, at_ms(0));
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].flags, SYN_ACK);
    // The peer did not hear it and sends its SYN again, long before our
    // own retransmission timer.
    feed(&mut c, at_ms(200), &seg(PEER_ISS, 0, TcpFlags::SYN, b""));
    let again = drain(&mut c, at_ms(200));
    assert_eq!(again.len(), 1, "{again:?}");
    assert_eq!(
        (again[0].flags, again[0].seq, again[0].ack),
        (SYN_ACK, first[0].seq, PEER_ISS + 1)
    );
    assert_eq!(c.state(), State::SynReceived);
    assert_eq!(c.stats().unacceptable, 0, "a resent SYN is expected");
}

#[test]
fn a_syn_at_another_number_sends_a_passive_open_back_to_listen() {
    let mut c = passive(plain());
    feed(&mut c, at_ms(0), &seg(PEER_ISS, 0, TcpFlags::SYN, b""));
    drain(&mut c, at_ms(0));
    // A SYN inside the window but not at IRS is not the SYN we answered:
    // RFC 9293 §3.10.7.4 (fourth step) returns a passive open to LISTEN,
    // with nothing sent.
    feed(
        &mut c,
        at_ms(200),
        &seg(PEER_ISS + 5, 0, TcpFlags::SYN, b""),
    );
    let out = drain(&mut c, at_ms(200));
    assert!(out.is_empty(), "{out:?}");
    assert_eq!(c.state(), State::Listen);
}

#[test]
fn a_simultaneous_open_ends_with_the_peers_syn_ack_rfc9293_figure_7() {
    let mut c = active(plain());
    let iss = drain(&mut c, at_ms(0))[0].seq;
    // The SYNs cross: ours is answered by the peer's own SYN.
    feed(&mut c, at_ms(10), &seg(PEER_ISS, 0, TcpFlags::SYN, b""));
    assert_eq!(c.state(), State::SynReceived);
    let ours = drain(&mut c, at_ms(10));
    assert_eq!(
        (ours[0].flags, ours[0].seq, ours[0].ack),
        (SYN_ACK, iss, PEER_ISS + 1)
    );
    // The peer's SYN-ACK repeats its SYN and acknowledges ours.
    feed(
        &mut c,
        at_ms(20),
        &seg(PEER_ISS, iss.wrapping_add(1), SYN_ACK, b""),
    );
    assert_eq!(c.state(), State::Established);
}
