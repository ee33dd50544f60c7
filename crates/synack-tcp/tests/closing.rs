//! The application's close in every state it can come in, and what an
//! orphan does: the rules cargo-mutants found no engine test guarding.

mod common;

use common::*;
use synack_tcp::{CloseReason, Config, Duration, Instant, State};
use synack_wire::TcpFlags;

fn config() -> Config {
    Config {
        fin_timeout: Duration::from_secs(3),
        msl: Duration::from_secs(10),
        ..plain()
    }
}

fn established() -> Pair {
    let mut p = Pair::new(config(), config());
    p.establish();
    p
}

#[test]
fn close_with_unread_data_resets_rfc2525() {
    let mut p = established();
    p.b.send(b"never read").unwrap();
    p.exchange(|_, _| false);
    assert_eq!(p.a.recv_queue(), 10);
    let now = p.now;
    p.a.close(now);
    let out = drain(&mut p.a, now);
    assert!(
        out.iter().any(|s| s.flags.rst()) && !out.iter().any(|s| s.flags.fin()),
        "a RST, not a FIN: {out:?}"
    );
    assert_eq!(p.a.state(), State::Closed);
    assert_eq!(p.a.close_reason(), Some(CloseReason::Aborted));
}

#[test]
fn close_with_everything_read_sends_a_fin() {
    let mut p = established();
    p.b.send(b"read").unwrap();
    p.exchange(|_, _| false);
    let mut buf = [0u8; 8];
    assert_eq!(p.a.recv(&mut buf).unwrap(), 4);
    let now = p.now;
    p.a.close(now);
    assert_eq!(p.a.state(), State::FinWait1);
    let out = drain(&mut p.a, now);
    assert!(out.iter().any(|s| s.flags.fin()) && !out.iter().any(|s| s.flags.rst()));
}

#[test]
fn close_in_fin_wait_2_starts_the_fin_timeout() {
    let mut p = established();
    let now = p.now;
    p.a.shutdown(now);
    p.exchange(|_, _| false);
    assert_eq!(p.a.state(), State::FinWait2);
    // Half-closed but still the application's: no timeout.
    assert_eq!(
        p.a.poll_timeout(),
        None,
        "a half-close waits as long as it takes"
    );
    let now = p.now;
    p.a.close(now);
    assert_eq!(p.a.poll_timeout(), Some(now + Duration::from_secs(3)));
    p.now = now + Duration::from_secs(3);
    p.a.handle_timeout(p.now);
    assert_eq!(p.a.state(), State::Closed);
    assert_eq!(p.a.close_reason(), Some(CloseReason::TimedOut));
}

#[test]
fn the_fin_timeout_does_not_cut_time_wait_short() {
    let mut p = established();
    let now = p.now;
    p.a.close(now);
    p.exchange(|_, _| false);
    assert_eq!(p.a.state(), State::FinWait2);
    // The peer's FIN comes before fin_timeout: TIME-WAIT for its 2×MSL.
    p.now = now + Duration::from_secs(1);
    let later = p.now;
    p.b.close(later);
    p.exchange(|_, _| false);
    assert_eq!(p.a.state(), State::TimeWait);
    let tw = p.a.time_wait_state().expect("in TIME-WAIT");
    assert_eq!(tw.deadline, later + Duration::from_secs(20));
    for t in [4, 10, 20] {
        p.now = now + Duration::from_secs(t);
        p.a.handle_timeout(p.now);
        assert_eq!(p.a.state(), State::TimeWait, "at {t} s");
    }
    p.now = later + Duration::from_secs(20);
    p.a.handle_timeout(p.now);
    assert_eq!(p.a.state(), State::Closed);
    assert_eq!(p.a.close_reason(), Some(CloseReason::Normal));
}

#[test]
fn time_wait_state_is_only_for_time_wait_and_carries_the_sequence_state() {
    let mut p = established();
    assert!(p.a.time_wait_state().is_none());
    p.a.send(b"abc").unwrap();
    let now = p.now;
    p.a.shutdown(now);
    p.exchange(|_, _| false);
    let mut buf = [0u8; 4];
    p.b.recv(&mut buf).unwrap();
    p.b.close(now);
    p.exchange(|_, _| false);
    assert_eq!(p.a.state(), State::TimeWait);
    let i = p.a.info();
    let tw = p.a.time_wait_state().expect("in TIME-WAIT");
    assert_eq!((tw.snd_nxt, tw.rcv_nxt), (i.snd_nxt, i.rcv_nxt));
    assert_eq!(tw.snd_nxt, i.iss + 1 + 3 + 1, "SYN, 3 bytes, FIN");
    assert_eq!((tw.local, tw.remote), (p.a.local(), p.a.remote()));
    assert!(
        p.b.time_wait_state().is_none(),
        "LAST-ACK → CLOSED, no TIME-WAIT"
    );
}

#[test]
fn close_in_syn_sent_ends_at_once() {
    let mut c = active(config());
    let _syn = drain(&mut c, Instant::ZERO);
    assert_eq!(c.state(), State::SynSent);
    c.close(Instant::ZERO);
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.poll_timeout(), None, "no SYN retransmission after close");
    assert!(drain(&mut c, Instant::ZERO).is_empty());
}

#[test]
fn a_fin_asked_for_in_syn_received_follows_the_handshake() {
    let mut l = passive(config());
    let now = Instant::ZERO;
    feed(&mut l, now, &seg(5000, 0, TcpFlags::SYN, b""));
    let out = drain(&mut l, now);
    let synack = out.iter().find(|s| s.flags.syn()).expect("SYN-ACK");
    assert_eq!(l.state(), State::SynReceived);
    l.shutdown(now);
    assert_eq!(
        l.state(),
        State::SynReceived,
        "the FIN waits (RFC 9293 §3.10.4)"
    );
    assert!(
        !drain(&mut l, now).iter().any(|s| s.flags.fin()),
        "no FIN before the handshake completes"
    );
    feed(
        &mut l,
        now,
        &seg(5001, synack.seq.wrapping_add(1), TcpFlags::ACK, b""),
    );
    let out = drain(&mut l, now);
    assert!(
        out.iter().any(|s| s.flags.fin()),
        "the FIN goes now: {out:?}"
    );
    assert_eq!(l.state(), State::FinWait1);
}

#[test]
fn data_for_an_application_that_closed_is_answered_with_a_rst() {
    let mut p = established();
    let now = p.now;
    p.a.close(now);
    let out = drain(&mut p.a, now);
    let fin = out.iter().find(|s| s.flags.fin()).expect("FIN");
    // The peer has not seen the FIN yet and sends data.
    let i = p.a.info();
    feed(
        &mut p.a,
        now,
        &seg(i.rcv_nxt.0, fin.seq, TcpFlags::ACK | TcpFlags::PSH, b"late"),
    );
    let out = drain(&mut p.a, now);
    assert!(out.iter().any(|s| s.flags.rst()), "a RST: {out:?}");
    assert_eq!(p.a.state(), State::Closed);
    assert_eq!(p.a.close_reason(), Some(CloseReason::Aborted));
}
