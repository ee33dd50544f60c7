//! Receive-side edges found running the FreeBSD packetdrill corpus: text
//! on a SYN-ACK, segments beyond the peer's FIN in TIME-WAIT, and window
//! updates that cannot move the right edge.

mod common;

use common::*;
use synack_tcp::{Config, Duration, Instant, State};
use synack_wire::TcpFlags;

const SYN_ACK: TcpFlags = TcpFlags(TcpFlags::SYN.0 | TcpFlags::ACK.0);
const FIN_ACK: TcpFlags = TcpFlags(TcpFlags::FIN.0 | TcpFlags::ACK.0);

/// An active open answered by a SYN-ACK (peer ISS 1000) carrying `text`;
/// returns the connection, our ISS, and the segments sent in reply.
fn open_with(cfg: Config, text: &[u8]) -> (synack_tcp::Connection, u32, Vec<Out>) {
    let mut c = active(cfg);
    let syn = drain(&mut c, Instant::ZERO);
    let iss = syn[0].seq;
    feed(
        &mut c,
        Instant::ZERO,
        &seg(1000, iss.wrapping_add(1), SYN_ACK, text),
    );
    let out = drain(&mut c, Instant::ZERO);
    (c, iss, out)
}

#[test]
fn text_on_a_syn_ack_is_received_rfc9293_3_10_7_3() {
    let (c, _, out) = open_with(plain(), b"abc");
    assert_eq!(c.state(), State::Established);
    assert_eq!(out.last().map(|s| s.ack), Some(1004), "{out:?}");
    assert_eq!(c.recv_queue(), 3);
}

#[test]
fn time_wait_answers_a_segment_beyond_the_peers_fin() {
    let (mut c, iss, _) = open_with(plain(), b"");
    let t = Instant::ZERO + Duration::from_millis(100);
    c.shutdown(t);
    assert!(drain(&mut c, t).iter().any(|s| s.flags.fin()));
    feed(&mut c, t, &seg(1001, iss.wrapping_add(2), FIN_ACK, b""));
    assert_eq!(c.state(), State::TimeWait);
    assert_eq!(drain(&mut c, t).len(), 1);
    // Sequence space ended at 1002: a bare ACK at 1003 is not acceptable.
    let t = t + Duration::from_millis(100);
    feed(
        &mut c,
        t,
        &seg(1003, iss.wrapping_add(2), TcpFlags::ACK, b""),
    );
    let out = drain(&mut c, t);
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(out[0].is_pure_ack() && out[0].ack == 1002);
    // A duplicate ACK exactly at RCV.NXT needs no answer.
    feed(
        &mut c,
        t,
        &seg(1002, iss.wrapping_add(2), TcpFlags::ACK, b""),
    );
    assert!(drain(&mut c, t).is_empty());
}

#[test]
fn no_window_update_when_the_field_cannot_grow() {
    // A 2 MiB buffer without window scaling: the field stays at 65535.
    let cfg = Config {
        recv_buffer: 2 << 20,
        ..plain()
    };
    let (mut c, iss, _) = open_with(cfg, b"");
    feed(
        &mut c,
        Instant::ZERO,
        &seg(1001, iss.wrapping_add(1), TcpFlags::ACK, b"xyz"),
    );
    let out = drain(&mut c, Instant::ZERO);
    assert_eq!(out.last().map(|s| (s.ack, s.window)), Some((1004, 65535)));
    let mut buf = [0u8; 8];
    assert_eq!(c.recv(&mut buf).unwrap(), 3);
    let out = drain(&mut c, Instant::ZERO);
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn a_pure_ack_at_the_right_edge_is_taken() {
    let (mut c, iss, _) = open_with(plain(), b"");
    let t = Instant::ZERO + Duration::from_millis(10);
    c.send(b"hello").unwrap();
    assert_eq!(drain(&mut c, t).len(), 1);
    // The peer filled our window; its ACK of our data sits exactly at
    // RCV.NXT + RCV.WND.
    let wnd = c.info().rcv_wnd;
    let edge = 1001u32.wrapping_add(wnd);
    feed(
        &mut c,
        t,
        &seg(edge, iss.wrapping_add(6), TcpFlags::ACK, b""),
    );
    assert_eq!(c.info().snd_una.0, iss.wrapping_add(6), "the ACK was used");
    drain(&mut c, t);
    // One byte further it is out of the window: answered, not used.
    c.send(b"!").unwrap();
    drain(&mut c, t);
    feed(
        &mut c,
        t,
        &seg(
            edge.wrapping_add(1),
            iss.wrapping_add(7),
            TcpFlags::ACK,
            b"",
        ),
    );
    assert_eq!(c.info().snd_una.0, iss.wrapping_add(6), "not used");
    assert_eq!(drain(&mut c, t).len(), 1, "answered");
}

#[test]
fn a_closed_connection_ignores_what_still_arrives() {
    let (mut c, iss, _) = open_with(plain(), b"");
    let t = Instant::ZERO + Duration::from_millis(10);
    c.abort(t);
    assert!(drain(&mut c, t).iter().any(|s| s.flags.rst()));
    assert_eq!(c.state(), State::Closed);
    feed(
        &mut c,
        t,
        &seg(1001, iss.wrapping_add(1), TcpFlags::ACK, b"late"),
    );
    assert!(drain(&mut c, t).is_empty());
    assert_eq!(c.recv_queue(), 0);
    // There is no TCB to test it against (RFC 9293 §3.10.7.1).
    assert_eq!(c.stats().unacceptable, 0);
}
