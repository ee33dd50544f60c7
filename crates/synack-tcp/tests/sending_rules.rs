//! Rules of what a connection sends, at their edges: PSH only where the
//! application's data ends (RFC 9293 §3.9.1), the keep-alive probe's
//! sequence number (§3.8.4), no SACK blocks unless agreed (RFC 2018 §4),
//! nothing at all once CLOSED, the RST a listener sends for a stray ACK,
//! and the segment counters.

mod common;

use common::*;
use std::net::SocketAddr;
use synack_tcp::{Config, Connection, Duration, Instant, Keepalive, SegmentKind, State};
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

/// Keep-alive every 100 ms, two probes.
fn eager_keepalive() -> Keepalive {
    Keepalive {
        idle: Duration::from_millis(100),
        interval: Duration::from_millis(100),
        count: 2,
    }
}

/// Runs `c`'s timers up to `end` with a silent peer; returns what it sent.
fn run_timers(c: &mut Connection, end: Instant) -> Vec<Out> {
    let mut sent = Vec::new();
    while let Some(deadline) = c.poll_timeout().filter(|&d| d <= end) {
        c.handle_timeout(deadline);
        sent.extend(drain(c, deadline));
    }
    sent
}

#[test]
fn keepalive_leaves_a_peer_that_owes_an_ack_to_the_retransmission_timer() {
    let cfg = Config {
        keepalive: Some(eager_keepalive()),
        ..plain()
    };
    // Data in flight, never acknowledged.
    let (mut c, _) = established(cfg.clone(), TcpOptions::default());
    assert_eq!(c.send(b"unanswered"), Ok(10));
    assert_eq!(drain(&mut c, at_ms(0)).len(), 1);
    let sent = run_timers(&mut c, at_ms(2_000));
    assert!(
        sent.iter().all(|s| s.kind != Some(SegmentKind::Keepalive)),
        "{sent:?}"
    );
    assert!(sent
        .iter()
        .any(|s| s.kind.is_some_and(|k| k.is_retransmission())));
    assert_eq!(c.state(), State::Established);

    // Data held back by a zero window, none in flight: the persist timer
    // watches the peer instead.
    let (mut c, iss) = established(cfg, TcpOptions::default());
    let shut = seg(PEER_ISS + 1, iss.wrapping_add(1), TcpFlags::ACK, b"").with_window(0);
    feed(&mut c, at_ms(0), &shut);
    assert_eq!(c.send(b"held back"), Ok(9));
    assert!(drain(&mut c, at_ms(0)).is_empty());
    let sent = run_timers(&mut c, at_ms(2_000));
    assert!(
        sent.iter().all(|s| s.kind != Some(SegmentKind::Keepalive)),
        "{sent:?}"
    );
    assert_eq!(c.state(), State::Established);
}

#[test]
fn keepalive_turned_on_in_time_wait_probes_nothing() {
    let (mut c, iss) = established(plain(), TcpOptions::default());
    c.shutdown(at_ms(10));
    drain(&mut c, at_ms(10));
    let fin = seg(
        PEER_ISS + 1,
        iss.wrapping_add(2),
        TcpFlags::FIN | TcpFlags::ACK,
        b"",
    );
    feed(&mut c, at_ms(20), &fin);
    drain(&mut c, at_ms(20));
    assert_eq!(c.state(), State::TimeWait);
    c.set_keepalive(at_ms(30), Some(eager_keepalive()));
    // Ten keep-alive intervals pass inside the 2 s of TIME-WAIT.
    assert!(run_timers(&mut c, at_ms(1_000)).is_empty());
    assert_eq!(c.state(), State::TimeWait);
}

#[test]
fn zero_rto_settings_cannot_make_a_timer_fire_forever() {
    // min, max and initial RTO of zero: the persist timer used to be armed
    // at `now` itself, and one `handle_timeout` fired it without end. The
    // RTO is at least 1 µs, so each call fires it once.
    let cfg = Config {
        initial_rto: Duration::ZERO,
        min_rto: Duration::ZERO,
        max_rto: Duration::ZERO,
        ..plain()
    };
    let (mut c, iss) = established(cfg, TcpOptions::default());
    let shut = seg(PEER_ISS + 1, iss.wrapping_add(1), TcpFlags::ACK, b"").with_window(0);
    feed(&mut c, at_ms(0), &shut);
    assert_eq!(c.send(b"held back"), Ok(9));
    drain(&mut c, at_ms(0));
    for step in 1..=5 {
        let now = at_ms(step);
        c.handle_timeout(now);
        drain(&mut c, now);
        if let Some(next) = c.poll_timeout() {
            assert!(next > now, "a timer due at {next:?} when it is {now:?}");
        }
    }
}
