//! Rules of what a connection sends, at their edges: PSH only where the
//! application's data ends (RFC 9293 §3.9.1), the keep-alive probe's
//! sequence number (§3.8.4), no SACK blocks unless agreed (RFC 2018 §4),
//! nothing at all once CLOSED, the RST a listener sends for a stray ACK,
//! and the segment counters.

mod common;

use common::*;
use std::net::SocketAddr;
use synack_tcp::{Config, Duration, Keepalive, SegmentKind, State};
use synack_wire::{TcpFlags, TcpOptions};

#[test]
fn psh_marks_only_the_segment_that_ends_the_write() {
    let (mut c, iss) = established(plain(), TcpOptions::default());
    // Full segments only, so that Nagle holds nothing back.
    let mss = c.info().mss as usize;
    assert_eq!(c.send(&vec![1; 3 * mss]), Ok(3 * mss));
    let out = drain(&mut c, at_ms(10));
    let psh: Vec<(usize, bool)> = out.iter().map(|s| (s.len(), s.flags.psh())).collect();
    assert_eq!(psh, [(mss, false), (mss, false), (mss, true)]);
    // Data and FIN together end the stream: PSH stays.
    let data_end = iss.wrapping_add(1 + 3 * mss as u32);
    feed(
        &mut c,
        at_ms(20),
        &seg(PEER_ISS + 1, data_end, TcpFlags::ACK, b""),
    );
    assert_eq!(c.send(b"last"), Ok(4));
    c.shutdown(at_ms(30));
    let out = drain(&mut c, at_ms(30));
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(
        out[0].flags,
        TcpFlags::ACK | TcpFlags::PSH | TcpFlags::FIN,
        "{out:?}"
    );
    // A bare FIN carries no data to push.
    let (mut c, _) = established(plain(), TcpOptions::default());
    c.shutdown(at_ms(10));
    let out = drain(&mut c, at_ms(10));
    assert_eq!(out[0].flags, TcpFlags::ACK | TcpFlags::FIN);
}

#[test]
fn a_keepalive_probe_carries_snd_nxt_minus_one() {
    let cfg = Config {
        keepalive: Some(Keepalive {
            idle: Duration::from_secs(60),
            interval: Duration::from_secs(10),
            count: 3,
        }),
        ..plain()
    };
    let (mut c, iss) = established(cfg, TcpOptions::default());
    let deadline = c.poll_timeout().expect("the keep-alive timer runs");
    assert_eq!(deadline, at_ms(60_000));
    c.handle_timeout(deadline);
    let out = drain(&mut c, deadline);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].kind, Some(SegmentKind::Keepalive));
    assert_eq!(
        (out[0].seq, out[0].ack, out[0].len()),
        (iss, PEER_ISS + 1, 0),
        "one below SND.NXT, so a live peer must answer"
    );
}

#[test]
fn no_sack_blocks_unless_both_sides_agreed() {
    let cfg = Config {
        sack: true,
        ..plain()
    };
    // The peer did not offer SACK: a gap is reported by the ACK alone.
    let (mut c, iss) = established(cfg, TcpOptions::default());
    let ahead = seg(
        PEER_ISS + 101,
        iss.wrapping_add(1),
        TcpFlags::ACK,
        &[7; 100],
    );
    feed(&mut c, at_ms(10), &ahead);
    let out = drain(&mut c, at_ms(10));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].ack, PEER_ISS + 1);
    assert!(out[0].sack().is_empty(), "{out:?}");
}

#[test]
fn a_reset_connection_sends_not_even_the_ack_it_owed() {
    let cfg = Config {
        delayed_ack: Duration::from_millis(40),
        quick_ack: false,
        ..plain()
    };
    let (mut c, iss) = established(cfg, TcpOptions::default());
    let our = iss.wrapping_add(1);
    feed(
        &mut c,
        at_ms(10),
        &seg(PEER_ISS + 1, our, TcpFlags::ACK, b"abc"),
    );
    assert!(drain(&mut c, at_ms(10)).is_empty(), "the ACK is delayed");
    feed(
        &mut c,
        at_ms(20),
        &seg(PEER_ISS + 4, our, TcpFlags::RST, b""),
    );
    assert_eq!(c.state(), State::Closed);
    assert!(drain(&mut c, at_ms(20)).is_empty());
    c.handle_timeout(at_ms(100));
    assert!(drain(&mut c, at_ms(100)).is_empty(), "CLOSED sends nothing");
}

#[test]
fn a_listener_resets_a_stray_ack_and_forgets_its_sender() {
    let mut l = passive(plain());
    assert_eq!(l.stats().segs_out, 0);
    feed(&mut l, at_ms(0), &seg(5000, 7000, TcpFlags::ACK, b""));
    let out = drain(&mut l, at_ms(0));
    assert_eq!(out.len(), 1);
    // RFC 9293 §3.10.7.2: <SEQ=SEG.ACK><CTL=RST>.
    assert_eq!((out[0].flags, out[0].seq), (TcpFlags::RST, 7000));
    assert_eq!(l.state(), State::Listen);
    assert!(
        l.remote().ip().is_unspecified(),
        "still listening for anyone"
    );
    assert_eq!(l.stats().segs_out, 1, "a RST is a segment out");
}

#[test]
fn an_aborted_connection_keeps_its_peer_and_counts_its_rst() {
    let (mut c, _) = established(plain(), TcpOptions::default());
    let before = c.stats().segs_out;
    c.abort(at_ms(10));
    let out = drain(&mut c, at_ms(10));
    assert!(out[0].flags.rst());
    assert_eq!(c.stats().segs_out, before + 1);
    let peer: SocketAddr = addr(SERVER);
    assert_eq!(c.remote(), peer);
}

#[test]
fn every_segment_sent_is_counted() {
    let (mut c, _) = established(plain(), TcpOptions::default());
    // The SYN and the ACK of the SYN-ACK.
    assert_eq!(c.stats().segs_out, 2);
    assert_eq!(c.send(b"hello"), Ok(5));
    assert_eq!(drain(&mut c, at_ms(10)).len(), 1);
    assert_eq!(c.stats().segs_out, 3);
}
