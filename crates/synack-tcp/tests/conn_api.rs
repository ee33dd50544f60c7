//! The `Connection` API as an application and a driver see it: what
//! `send` and `recv` return when there is nothing to do (RFC 9293 §3.10.2,
//! §3.10.3), `Writable` after SO_SNDBUF grows, keep-alive switched on by
//! the application and its probe count (RFC 9293 §3.8.4), what a stack
//! reads (`is_passive`, `is_finished`, `is_orphan`, `peer_closed`,
//! `config`), and a `Transmit` as the driver puts it on the wire.

mod common;

use common::*;
use synack_tcp::{
    CloseReason, Config, Connection, Duration, Error, Event, Instant, Keepalive, SegmentKind, State,
};
use synack_wire::{TcpFlags, TcpOptions, TcpRepr};

/// Options that offer an MSS of 1460 and nothing else.
fn mss_1460() -> TcpOptions {
    let mut o = TcpOptions::default();
    o.mss = Some(1460);
    o
}

/// Runs `c`'s timers up to `end` with a silent peer; returns what it
/// sent, each with the time it went.
fn run_timers(c: &mut Connection, end: Instant) -> Vec<(Instant, Out)> {
    let mut sent = Vec::new();
    while let Some(deadline) = c.poll_timeout().filter(|&d| d <= end) {
        c.handle_timeout(deadline);
        sent.extend(drain(c, deadline).into_iter().map(|s| (deadline, s)));
    }
    sent
}

// ---- recv -----------------------------------------------------------------

#[test]
fn a_listener_has_nothing_to_read() {
    // RFC 9293 §3.10.3 would queue a RECEIVE made in LISTEN until the
    // connection opens; sockets answer it with ENOTCONN, and so do we. A
    // stack that serves many clients never reads from its listener.
    let mut l = passive(plain());
    let mut buf = [0u8; 16];
    assert_eq!(l.recv(&mut buf), Err(Error::NotConnected));
}

#[test]
fn recv_with_nothing_queued_would_block_until_the_peer_closes() {
    // RFC 9293 §3.10.3: a RECEIVE with nothing queued waits; in CLOSE-WAIT,
    // with the peer's FIN in and its data read, it reports the end.
    let (mut c, iss) = established(plain(), TcpOptions::default());
    let mut buf = [0u8; 16];
    assert_eq!(c.recv(&mut buf), Err(Error::WouldBlock));
    assert!(!c.peer_closed());
    let our = iss.wrapping_add(1);
    feed(
        &mut c,
        at_ms(10),
        &seg(PEER_ISS + 1, our, TcpFlags::ACK, b"hi"),
    );
    assert_eq!(c.recv(&mut buf), Ok(2));
    assert_eq!(c.recv(&mut buf), Err(Error::WouldBlock), "read dry");
    let fin = seg(PEER_ISS + 3, our, TcpFlags::FIN | TcpFlags::ACK, b"");
    feed(&mut c, at_ms(20), &fin);
    assert_eq!(c.state(), State::CloseWait);
    assert!(c.peer_closed());
    assert_eq!(c.recv(&mut buf), Ok(0), "end of stream");
}

// ---- send and the send buffer --------------------------------------------

#[test]
fn a_send_into_a_full_buffer_would_block_and_an_empty_send_takes_nothing() {
    // RFC 9293 §3.10.2: with no room to remember the data the SEND fails
    // ("insufficient resources"); the socket form of that is EWOULDBLOCK.
    let cfg = Config {
        send_buffer: 1000,
        ..plain()
    };
    let (mut c, _) = established(cfg, TcpOptions::default());
    assert_eq!(c.send(b""), Ok(0), "nothing asked, nothing refused");
    assert_eq!(c.send(&[1; 1500]), Ok(1000));
    assert_eq!(c.send(&[1; 10]), Err(Error::WouldBlock));
    assert_eq!(c.send(b""), Ok(0));
}

#[test]
fn growing_the_send_buffer_after_a_short_send_reports_writable_once() {
    let cfg = Config {
        send_buffer: 1000,
        ..plain()
    };
    let (mut c, _) = established(cfg, TcpOptions::default());
    let recv = c.buffer_sizes().1;
    events(&mut c);
    assert_eq!(c.send(&[1; 1500]), Ok(1000));
    // The same size again frees nothing.
    assert_eq!(c.set_buffer_sizes(1000, recv), (1000, recv));
    assert!(events(&mut c).is_empty());
    // Room at last: the application that was refused hears of it.
    assert_eq!(c.set_buffer_sizes(2000, recv), (2000, recv));
    assert_eq!(events(&mut c), [Event::Writable]);
    assert_eq!(c.set_buffer_sizes(3000, recv), (3000, recv));
    assert!(events(&mut c).is_empty(), "once per short send");
}

#[test]
fn growing_the_send_buffer_without_a_short_send_reports_nothing() {
    let cfg = Config {
        send_buffer: 1000,
        ..plain()
    };
    let (mut c, _) = established(cfg, TcpOptions::default());
    let recv = c.buffer_sizes().1;
    events(&mut c);
    assert_eq!(c.send(&[1; 500]), Ok(500));
    c.set_buffer_sizes(2000, recv);
    assert!(events(&mut c).is_empty(), "nobody is waiting for room");
}

// ---- keep-alive ----------------------------------------------------------

#[test]
fn keepalive_gives_up_after_exactly_count_unanswered_probes() {
    // RFC 9293 §3.8.4; Linux's tcp_keepalive_probes.
    let cfg = Config {
        keepalive: Some(Keepalive {
            idle: Duration::from_secs(10),
            interval: Duration::from_secs(1),
            count: 3,
        }),
        ..plain()
    };
    let (mut c, _) = established(cfg, TcpOptions::default());
    let sent = run_timers(&mut c, at_ms(60_000));
    let probes: Vec<Instant> = sent
        .iter()
        .filter(|(_, s)| s.kind == Some(SegmentKind::Keepalive))
        .map(|&(t, _)| t)
        .collect();
    assert_eq!(probes, [at_ms(10_000), at_ms(11_000), at_ms(12_000)]);
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.close_reason(), Some(CloseReason::TimedOut));
    assert_eq!(c.stats().keepalive_probes, 3);
}

#[test]
fn set_keepalive_turns_probing_on_and_off_for_an_open_connection() {
    let (mut c, _) = established(plain(), TcpOptions::default());
    assert_eq!(c.poll_timeout(), None, "keep-alive is off by default");
    let ka = Keepalive {
        idle: Duration::from_secs(10),
        interval: Duration::from_secs(1),
        count: 2,
    };
    c.set_keepalive(at_ms(500), Some(ka));
    assert_eq!(
        c.poll_timeout(),
        Some(at_ms(10_500)),
        "idle counted from now"
    );
    c.handle_timeout(at_ms(10_500));
    let out = drain(&mut c, at_ms(10_500));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].kind, Some(SegmentKind::Keepalive));
    c.set_keepalive(at_ms(10_600), None);
    assert_eq!(c.poll_timeout(), None);
}

// ---- what a stack reads --------------------------------------------------

#[test]
fn only_a_listen_opens_a_passive_connection() {
    assert!(passive(plain()).is_passive());
    assert!(!active(plain()).is_passive());
    // The listener's child stays passive (a RST in SYN-RECEIVED returns it
    // to LISTEN, RFC 9293 §3.10.7.3).
    let mut p = Pair::new(plain(), plain());
    p.establish();
    assert!(p.b.is_passive() && !p.a.is_passive());
}

#[test]
fn a_connection_is_finished_once_closed_with_its_rst_sent() {
    let (mut c, _) = established(plain(), TcpOptions::default());
    assert!(!c.is_finished(), "open");
    // RFC 9293 §3.10.5 ABORT in ESTABLISHED: a RST goes to the peer.
    c.abort(at_ms(10));
    assert_eq!(c.state(), State::Closed);
    assert!(!c.is_finished(), "CLOSED, but the RST is still to be sent");
    let out = drain(&mut c, at_ms(10));
    assert!(out.len() == 1 && out[0].flags.rst(), "{out:?}");
    assert!(c.is_finished());
}

#[test]
fn only_a_close_makes_an_orphan() {
    // A half-close (shutdown) leaves the application reading; a close
    // hands the connection over to the stack to finish on its own.
    let (mut c, _) = established(plain(), TcpOptions::default());
    assert!(!c.is_orphan());
    c.shutdown(at_ms(10));
    assert_eq!(c.state(), State::FinWait1);
    assert!(!c.is_orphan());
    c.close(at_ms(20));
    assert!(c.is_orphan());
}

#[test]
fn a_connection_reports_the_config_it_was_made_with() {
    let cfg = Config {
        mss: 1000,
        send_buffer: 12_345,
        ..plain()
    };
    let c = active(cfg.clone());
    assert_eq!(c.config(), &cfg);
    assert_eq!(passive(cfg.clone()).config(), &cfg);
}

// ---- Transmit ------------------------------------------------------------

#[test]
fn a_transmit_counts_both_payload_pieces_and_emits_a_checksummed_segment() {
    // A 1000-byte send ring: 700 bytes sent and acknowledged move its head
    // to 700, so the next 800 lie in two pieces, 300 at the end and 500
    // at the start.
    let cfg = Config {
        send_buffer: 1000,
        nodelay: true,
        ..plain()
    };
    let (mut c, iss) = established(cfg, mss_1460());
    let data = pattern(1500);
    assert_eq!(c.send(&data[..700]), Ok(700));
    assert_eq!(drain(&mut c, at_ms(10)).len(), 1);
    let our = iss.wrapping_add(1);
    feed(
        &mut c,
        at_ms(20),
        &seg(PEER_ISS + 1, our.wrapping_add(700), TcpFlags::ACK, b""),
    );
    assert_eq!(c.send(&data[700..]), Ok(800));

    let t = c.poll_transmit(at_ms(20)).expect("the 800 bytes go");
    assert_eq!((t.payload[0].len(), t.payload[1].len()), (300, 500));
    assert_eq!(t.payload_len(), 800);
    assert_eq!(t.segment_len(), t.header.header_len() + 800);
    let mut buf = vec![0u8; t.segment_len()];
    assert_eq!(t.emit(&mut buf), t.segment_len());
    let (src, dst) = (t.local.ip(), t.remote.ip());
    let r = TcpRepr::parse(&buf, src, dst, true).expect("a valid checksum");
    assert_eq!(r.seq, our.wrapping_add(700));
    assert_eq!(r.payload, &data[700..]);
}

#[test]
fn a_reset_flushes_what_was_in_flight() {
    // RFC 9293 §3.10.7.4: a RST in ESTABLISHED flushes the segment queues;
    // a closed connection has nothing in flight (what `ss` shows).
    let (mut c, iss) = established(plain(), mss_1460());
    assert_eq!(c.send(&[7; 500]), Ok(500));
    drain(&mut c, at_ms(1));
    assert_eq!(c.info().in_flight, 500);
    feed(
        &mut c,
        at_ms(2),
        &seg(PEER_ISS + 1, iss.wrapping_add(1), TcpFlags::RST, b""),
    );
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.info().in_flight, 0);
    assert!(c.poll_timeout().is_none(), "nothing left to retransmit");
}
