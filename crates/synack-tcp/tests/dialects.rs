//! Choices the RFCs leave open, as settings (found running the FreeBSD
//! packetdrill corpus): no options at all, a limit on connection setup,
//! delayed ACKs without quick-ACK mode and counted in segments, BSD's
//! receiver SWS rule, the FIN repeated on ACKs. And rules every setting
//! shares: the default MSS per family (RFC 9293 §3.7.1), D-SACK for a
//! partly duplicate segment (RFC 2883 §4), a challenge ACK for any SYN
//! (RFC 5961 §4.2).

mod common;

use common::*;
use synack_tcp::{
    AckEvery, Cause, CloseReason, Config, Connection, Duration, Event, Instant, IsnSecret,
    ReceiverSws, State,
};
use synack_wire::{TcpFlags, TcpOptions};

const SYN_ACK: TcpFlags = TcpFlags(TcpFlags::SYN.0 | TcpFlags::ACK.0);
const FIN_ACK: TcpFlags = TcpFlags(TcpFlags::FIN.0 | TcpFlags::ACK.0);
const PEER_ISS: u32 = 1000;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn at(n: u64) -> Instant {
    Instant::ZERO + ms(n)
}

/// An active open answered at once by a SYN-ACK offering `peer`; returns
/// the connection and our ISS.
fn open(cfg: Config, peer: TcpOptions) -> (Connection, u32) {
    let mut c = active(cfg);
    let iss = drain(&mut c, Instant::ZERO)[0].seq;
    let mut synack = seg(PEER_ISS, iss.wrapping_add(1), SYN_ACK, b"");
    synack.options = peer;
    feed(&mut c, Instant::ZERO, &synack);
    assert_eq!(c.state(), State::Established);
    drain(&mut c, Instant::ZERO);
    (c, iss)
}

fn sack() -> Config {
    Config {
        sack: true,
        ..plain()
    }
}

fn with_sack() -> TcpOptions {
    let mut o = TcpOptions::default();
    o.mss = Some(1460);
    o.sack_permitted = true;
    o
}

/// Data from the peer at offset `from` (0 is the first byte after its SYN).
fn data(iss: u32, from: u32, len: usize) -> Out {
    seg(
        PEER_ISS + 1 + from,
        iss.wrapping_add(1),
        TcpFlags::ACK,
        &vec![7u8; len],
    )
}

fn rel_sack(out: &Out) -> Vec<(u32, u32)> {
    let base = PEER_ISS + 1;
    out.sack()
        .into_iter()
        .map(|(l, r)| (l - base, r - base))
        .collect()
}

#[test]
fn setup_timeout_ends_an_open_that_never_completes() {
    let cfg = Config {
        setup_timeout: Some(Duration::from_secs(5)),
        ..plain()
    };
    let mut c = active(cfg);
    let mut syns = drain(&mut c, Instant::ZERO).len();
    while let Some(t) = c.poll_timeout() {
        c.handle_timeout(t);
        syns += drain(&mut c, t).len();
        if c.state() == State::Closed {
            assert_eq!(t, at(5000));
            break;
        }
    }
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.close_reason(), Some(CloseReason::TimedOut));
    // SYNs at 0, 1 and 3 s; the one due at 7 s never goes.
    assert_eq!(syns, 3);
    let cause = std::iter::from_fn(|| c.poll_event())
        .filter_map(|e| match e {
            Event::StateChanged(t) if t.to == State::Closed => Some(t.cause),
            _ => None,
        })
        .last();
    assert_eq!(cause, Some(Cause::SetupTimeout));
}

#[test]
fn setup_timeout_is_gone_once_established() {
    let cfg = Config {
        setup_timeout: Some(Duration::from_secs(5)),
        ..plain()
    };
    let (mut c, _) = open(cfg, TcpOptions::default());
    assert_eq!(c.poll_timeout(), None, "no timer left after the handshake");
    c.handle_timeout(at(6000));
    assert_eq!(c.state(), State::Established);
}

#[test]
fn without_a_setup_timeout_syn_retries_decide() {
    let mut c = active(plain());
    drain(&mut c, Instant::ZERO);
    c.handle_timeout(at(5000));
    assert_eq!(c.state(), State::SynSent);
}

#[test]
fn no_mss_option_and_the_default_mss_per_family() {
    let cfg = Config {
        mss_option: false,
        ..plain()
    };
    let mut c = active(cfg);
    let syn = drain(&mut c, Instant::ZERO);
    assert_eq!(syn[0].options, TcpOptions::default(), "{syn:?}");
    // RFC 9293 §3.7.1: without the option, 536 over IPv4...
    let (c4, _) = open(plain(), TcpOptions::default());
    assert_eq!(c4.info().mss, 536);
    // ... and 1220 over IPv6.
    let mut c6 = Connection::connect(
        plain(),
        Instant::ZERO,
        addr("[fd00::1]:40000"),
        addr("[fd00::2]:80"),
        IsnSecret::from_seed(1),
    );
    let iss = drain(&mut c6, Instant::ZERO)[0].seq;
    feed(
        &mut c6,
        Instant::ZERO,
        &seg(PEER_ISS, iss.wrapping_add(1), SYN_ACK, b""),
    );
    assert_eq!(c6.info().mss, 1220);
}

#[test]
fn quick_ack_mode_acks_the_first_segment_at_once() {
    let cfg = Config {
        delayed_ack: ms(40),
        ..plain()
    };
    let (mut c, iss) = open(cfg, TcpOptions::default());
    feed(&mut c, at(10), &data(iss, 0, 1));
    assert_eq!(drain(&mut c, at(10)).len(), 1);
}

#[test]
fn freebsd_acks_every_second_segment_whatever_its_size() {
    let cfg = Config {
        delayed_ack: ms(40),
        quick_ack: false,
        ack_every: AckEvery::TwoSegments,
        ..plain()
    };
    let (mut c, iss) = open(cfg, TcpOptions::default());
    feed(&mut c, at(10), &data(iss, 0, 1));
    assert!(drain(&mut c, at(10)).is_empty(), "the first waits");
    feed(&mut c, at(10), &data(iss, 1, 2));
    let out = drain(&mut c, at(10));
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].ack, PEER_ISS + 4);
    // A third, alone, waits for the delayed-ACK timer.
    feed(&mut c, at(20), &data(iss, 3, 4));
    assert!(drain(&mut c, at(20)).is_empty());
    assert_eq!(c.poll_timeout(), Some(at(60)));
}

/// The window after 99 bytes arrive into a 65700-byte buffer (no scaling)
/// and stay unread.
fn window_after_99_bytes(sws: ReceiverSws) -> u16 {
    let cfg = Config {
        receiver_sws: sws,
        ..plain()
    };
    let (mut c, iss) = open(cfg, TcpOptions::default());
    c.set_buffer_sizes(65536, 65700);
    feed(&mut c, at(10), &data(iss, 0, 99));
    let out = drain(&mut c, at(10));
    assert_eq!(out.len(), 1, "{out:?}");
    out[0].window
}

#[test]
fn receiver_sws_rules_differ_in_small_steps_of_the_right_edge() {
    // RFC 9293 §3.8.6.2.2: the edge stays until it can move by an MSS.
    assert_eq!(window_after_99_bytes(ReceiverSws::RightEdge), 65535 - 99);
    // BSD: all the free space (65601), as much as the field holds.
    assert_eq!(window_after_99_bytes(ReceiverSws::SmallWindow), 65535);
}

#[test]
fn bsd_sws_withholds_a_sliver_of_window() {
    let cfg = Config {
        receiver_sws: ReceiverSws::SmallWindow,
        recv_buffer: 4000,
        ..plain()
    };
    let (mut c, iss) = open(cfg, TcpOptions::default());
    // 3000 of 4000 bytes queued: 1000 free is not below
    // min(4000 / 4, 1460), so it is offered.
    feed(&mut c, at(10), &data(iss, 0, 3000));
    let w = drain(&mut c, at(10)).last().map(|s| s.window);
    assert_eq!(w, Some(1000));
    // 3500 queued: 500 free is a sliver; the window stays where it was.
    feed(&mut c, at(20), &data(iss, 3000, 500));
    let out = drain(&mut c, at(20));
    assert_eq!(out.last().map(|s| s.window), Some(500), "{out:?}");
    // Reading 100 frees 600: still a sliver, still not offered beyond
    // the old edge.
    let mut buf = [0u8; 100];
    assert_eq!(c.recv(&mut buf).unwrap(), 100);
    feed(&mut c, at(30), &data(iss, 0, 1));
    let out = drain(&mut c, at(30));
    assert_eq!(out.last().map(|s| s.window), Some(500), "{out:?}");
}

/// Our FIN is out; the peer's FIN arrives without acknowledging it
/// (CLOSING). Returns what we answer.
fn answer_in_closing(fin_on_every_ack: bool) -> (u32, Vec<Out>) {
    let cfg = Config {
        fin_on_every_ack,
        ..plain()
    };
    let (mut c, iss) = open(cfg, TcpOptions::default());
    c.shutdown(at(100));
    let fin = drain(&mut c, at(100));
    assert!(fin[0].flags.fin() && fin[0].seq == iss.wrapping_add(1));
    feed(
        &mut c,
        at(200),
        &seg(PEER_ISS + 1, iss.wrapping_add(1), FIN_ACK, b""),
    );
    assert_eq!(c.state(), State::Closing);
    (iss, drain(&mut c, at(200)))
}

#[test]
fn in_closing_the_ack_is_plain_by_default() {
    let (iss, out) = answer_in_closing(false);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].flags, TcpFlags::ACK);
    assert_eq!(out[0].seq, iss.wrapping_add(2));
}

#[test]
fn bsd_repeats_its_fin_on_the_ack_but_not_on_a_challenge_ack() {
    let (iss, out) = answer_in_closing(true);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].flags, FIN_ACK);
    assert_eq!(
        (out[0].seq, out[0].ack),
        (iss.wrapping_add(1), PEER_ISS + 2)
    );
}

#[test]
fn a_challenge_ack_never_carries_the_fin() {
    let cfg = Config {
        fin_on_every_ack: true,
        ..plain()
    };
    let (mut c, iss) = open(cfg, TcpOptions::default());
    c.shutdown(at(100));
    drain(&mut c, at(100));
    feed(
        &mut c,
        at(200),
        &seg(PEER_ISS + 1, iss.wrapping_add(1), TcpFlags::SYN, b""),
    );
    let out = drain(&mut c, at(200));
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].flags, TcpFlags::ACK);
    assert_eq!(out[0].seq, iss.wrapping_add(2));
}

#[test]
fn a_syn_outside_the_window_gets_a_rate_limited_challenge_ack_rfc5961_4_2() {
    let (mut c, iss) = open(plain(), TcpOptions::default());
    let old_syn = seg(PEER_ISS - 500, iss.wrapping_add(1), TcpFlags::SYN, b"");
    let mut acks = 0;
    for i in 0..20 {
        feed(&mut c, at(100 + i), &old_syn);
        acks += drain(&mut c, at(100 + i)).len();
    }
    assert_eq!(c.state(), State::Established);
    assert_eq!(acks, 10, "at most ten challenge ACKs a second");
    assert_eq!(c.stats().challenge_acks, 10);
}

#[test]
fn dsack_for_a_segment_partly_held_out_of_order_rfc2883_4() {
    let (mut c, iss) = open(sack(), with_sack());
    feed(&mut c, at(10), &data(iss, 99, 100)); // 99..199 (RCV.NXT is 0)
    feed(&mut c, at(10), &data(iss, 299, 100)); // 299..399
    drain(&mut c, at(10));
    // 49..699 covers both: the first held part is the D-SACK, the range
    // now holding the segment comes second.
    feed(&mut c, at(20), &data(iss, 49, 650));
    let out = drain(&mut c, at(20));
    assert_eq!(rel_sack(&out[0]), vec![(99, 199), (49, 699)], "{out:?}");
    // An exact duplicate of what is held: D-SACK, then the range holding it.
    feed(&mut c, at(30), &data(iss, 299, 100));
    let out = drain(&mut c, at(30));
    assert_eq!(rel_sack(&out[0]), vec![(299, 399), (49, 699)], "{out:?}");
}

#[test]
fn dsack_for_in_order_data_over_a_held_range() {
    let (mut c, iss) = open(sack(), with_sack());
    feed(&mut c, at(10), &data(iss, 100, 100)); // 100..200
    feed(&mut c, at(10), &data(iss, 400, 100)); // 400..500
    drain(&mut c, at(10));
    // 0..300 fills the gap and repeats 100..200: reported, then the range
    // still held.
    feed(&mut c, at(20), &data(iss, 0, 300));
    let out = drain(&mut c, at(20));
    assert_eq!(out[0].ack, PEER_ISS + 1 + 300);
    assert_eq!(rel_sack(&out[0]), vec![(100, 200), (400, 500)], "{out:?}");
}

#[test]
fn the_duplicate_below_rcv_nxt_is_the_one_reported() {
    let (mut c, iss) = open(sack(), with_sack());
    feed(&mut c, at(10), &data(iss, 0, 100));
    feed(&mut c, at(10), &data(iss, 200, 100)); // 200..300 held
    drain(&mut c, at(10));
    // 50..300: 50..100 is below RCV.NXT, the lowest duplicate part.
    feed(&mut c, at(20), &data(iss, 50, 250));
    let out = drain(&mut c, at(20));
    assert_eq!(rel_sack(&out[0]), vec![(50, 100)], "{out:?}");
}
