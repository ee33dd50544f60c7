//! Rules of the sending side (`sender/`) that show only at their edges:
//!
//! * the send buffer as the application sees it: the bytes queued, the
//!   room left and SO_SNDBUF (`send_queue`, `send_capacity`,
//!   `set_buffer_sizes`, `buffer_sizes`), `bytes_sent`, and `Writable`
//!   only when an ACK frees bytes after a `send` that did not fit;
//! * a path MTU drop (RFC 8201 / RFC 1191): exactly the segments in flight
//!   larger than the new payload size go again, in pieces;
//! * SACK input (RFC 2018, RFC 2883 §4): a first block at or below the
//!   ACK, or inside the second block, is a D-SACK and counted; a block
//!   beyond SND.NXT is ignored; bytes SACKed by several blocks all count
//!   as delivered; a D-SACK ends a tail loss probe only when the probe was
//!   a retransmission (RFC 8985 §7.4.1);
//! * RTT sampling (RFC 6298 §3, Karn's rule; RFC 7323 §4): a segment sent
//!   once is timed by its ACK, a retransmitted one only by a timestamp
//!   echo, an echo of zero or of 2^30 ms or more ago is no sample, and of
//!   what one ACK delivers the latest transmission is timed;
//! * duplicate ACKs without SACK (RFC 5681 §2, RFC 6675 `pipe`): each one
//!   takes one segment out of the pipe, and during fast recovery it is the
//!   data delivered that PRR (RFC 6937 §3.1) sends against;
//! * cwnd growth: slow start by the bytes an ACK covers (RFC 3465), only
//!   while cwnd-limited (the round's largest pipe at least half of cwnd,
//!   or cwnd held data back; not Nagle, a zero window or a FIN), the round
//!   ending only when SND.UNA passes it; a window update acknowledges
//!   nothing and does not start CUBIC's epoch (RFC 9438 §4.2); the restart
//!   window after an idle RTO, and only when nothing is in flight (RFC
//!   5681 §4.1);
//! * the window update rule (RFC 9293 §3.10.7.4, SND.WL1/SND.WL2): an ACK
//!   below SND.UNA or a segment older than SND.WL1 does not move SND.WND;
//! * the end of a recovery episode: fast recovery and the RTO's loss phase
//!   end when SND.UNA reaches the recovery point; the ending ACK does not
//!   grow cwnd and the loss phase is not deflated to ssthresh;
//! * loss detection: RFC 6675 IsLost (more than 2·SMSS SACKed, or
//!   DupThresh duplicates), NewReno's partial-ACK rule (RFC 6582 §3.2
//!   step 4) only without SACK and only in recovery, RACK's reordering
//!   window (RFC 8985 §6.2 steps 3-4) and its reorder timer (§6.3);
//! * tail loss probes (RFC 8985 §7): only in the open phase with data in
//!   flight; new data if the receive window allows, else the last bytes
//!   of the last segment that fit; a probe that resent data and repaired a
//!   loss is a congestion event, a probe of new data is not;
//! * the retransmission timer (RFC 6298 §5): not restarted by duplicate
//!   ACKs or a fast retransmit; the give-up after `max_retries`; ssthresh
//!   held over timeouts in a row, lowered again after progress (as Linux);
//!   retransmissions clocked by cwnd, a lost FIN counting its sequence
//!   number, and a lost segment sent with nothing in flight;
//! * zero-window probing (RFC 9293 §3.8.6.1): probes back off from one RTO,
//!   an open window ends probing and resets the backoff, probe data the
//!   reopened window did not take goes again, and the persist timer, not
//!   the RTO, guards a resent probe;
//! * the FIN (a bare FIN waits for room in cwnd) and sender SWS avoidance
//!   (RFC 9293 §3.8.6.2.1: a window-cut segment of at least half the
//!   largest window goes; a window that never exceeds one byte is probed);
//! * `Sender::check`, the invariant checker.

mod common;

use common::*;
use synack_tcp::sender::{AckInput, Sender};
use synack_tcp::timer::{TimerKind, Timers};
use synack_tcp::{
    Algorithm, Config, Connection, Duration, Event, Instant, IsnSecret, Phase, RecoveryEvent,
    SegmentKind, SendKind, SeqNum, State,
};
use synack_wire::{SackBlock, TcpFlags, TcpOptions};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// `plain()` with SACK (and so RACK-TLP) on.
fn with_sack() -> Config {
    Config {
        sack: true,
        ..plain()
    }
}

/// An active open with `cfg` whose SYN-ACK (with `options`, window 65535)
/// arrives `rtt_ms` after the SYN: SRTT = `rtt_ms`, RTTVAR = `rtt_ms`/2,
/// so RTO = 3·`rtt_ms` (300 ms for 100 ms, above the 200 ms minimum).
fn opened(cfg: Config, options: TcpOptions, rtt_ms: u64) -> (Connection, u32) {
    let mut c = active_at(cfg, Instant::ZERO, IsnSecret::from_seed(2));
    let iss = drain(&mut c, Instant::ZERO)[0].seq;
    let mut syn_ack = seg(
        PEER_ISS,
        iss.wrapping_add(1),
        TcpFlags::SYN | TcpFlags::ACK,
        b"",
    );
    syn_ack.options = options;
    feed(&mut c, at_ms(rtt_ms), &syn_ack);
    drain(&mut c, at_ms(rtt_ms));
    assert_eq!(c.state(), State::Established);
    assert_eq!(c.info().srtt, Some(ms(rtt_ms)));
    (c, iss)
}

/// `plain()` with NewReno and no HyStart++: cwnd moves by RFC 5681 alone.
fn newreno() -> Config {
    Config {
        congestion: Algorithm::NewReno,
        hystart: false,
        ..plain()
    }
}

fn sack_ok() -> TcpOptions {
    let mut o = TcpOptions::default();
    o.sack_permitted = true;
    o
}

/// A pure ACK of `ack` carrying these SACK blocks.
fn sack_ack(ack: u32, blocks: &[(u32, u32)]) -> Out {
    let mut a = seg(PEER_ISS + 1, ack, TcpFlags::ACK, b"");
    for &(left, right) in blocks {
        assert!(a.options.push_sack_block(SackBlock { left, right }));
    }
    a
}

/// A pure ACK of `ack` from the peer (window 65535).
fn ack(ack: u32) -> Out {
    seg(PEER_ISS + 1, ack, TcpFlags::ACK, b"")
}

fn data_segments(out: &[Out]) -> Vec<(u32, usize, Option<SegmentKind>)> {
    out.iter()
        .filter(|s| !s.payload.is_empty() || s.flags.fin())
        .map(|s| (s.seq, s.len(), s.kind))
        .collect()
}

/// The sequence numbers of the retransmissions among `out`.
fn resent(out: &[Out]) -> Vec<u32> {
    out.iter()
        .filter(|s| s.kind == Some(SegmentKind::Data(SendKind::Retransmit)))
        .map(|s| s.seq)
        .collect()
}

fn recovery_events(c: &mut Connection) -> Vec<RecoveryEvent> {
    events(c)
        .into_iter()
        .filter_map(|e| match e {
            Event::Recovery { event, .. } => Some(event),
            _ => None,
        })
        .collect()
}

/// Fires `c`'s timers up to `end` with a silent peer; returns what it sent.
/// At most 1000 timers fire: a timer due at its own firing time would
/// otherwise loop for ever.
fn run_timers(c: &mut Connection, end: Instant) -> Vec<(Instant, Out)> {
    let mut sent = Vec::new();
    let mut fired = 0;
    while let Some(deadline) = c.poll_timeout().filter(|&d| d <= end) {
        fired += 1;
        assert!(fired <= 1000, "timers fire without end at {deadline:?}");
        c.handle_timeout(deadline);
        sent.extend(drain(c, deadline).into_iter().map(|s| (deadline, s)));
    }
    sent
}

// ---- the send buffer ----------------------------------------------------

#[test]
fn the_send_queue_and_the_room_left_count_bytes_until_they_are_acknowledged() {
    let cfg = Config {
        send_buffer: 4000,
        ..plain()
    };
    let (mut c, iss) = established(cfg, TcpOptions::default());
    let recv = c.buffer_sizes().1;
    assert_eq!(c.buffer_sizes().0, 4000);
    assert_eq!((c.send_queue(), c.send_capacity()), (0, 4000));
    assert_eq!(c.send(&[1; 1500]), Ok(1500));
    assert_eq!((c.send_queue(), c.send_capacity()), (1500, 2500));
    assert_eq!(c.info().send_queue, 1500);
    // Sent but unacknowledged bytes stay queued.
    drain(&mut c, at_ms(10));
    // Two full segments; Nagle holds the last 428 bytes.
    assert_eq!(c.stats().send.bytes_sent, 1072);
    assert_eq!((c.send_queue(), c.send_capacity()), (1500, 2500));
    // SO_SNDBUF grows and shrinks, never below the bytes queued.
    assert_eq!(c.set_buffer_sizes(6000, recv), (6000, recv));
    assert_eq!(c.buffer_sizes(), (6000, recv));
    assert_eq!(c.send_capacity(), 4500);
    assert_eq!(c.set_buffer_sizes(1000, recv).0, 1500);
    assert_eq!((c.buffer_sizes().0, c.send_capacity()), (1500, 0));
    // The ACK frees them.
    feed(&mut c, at_ms(20), &ack(iss.wrapping_add(1 + 1000)));
    assert_eq!((c.send_queue(), c.send_capacity()), (500, 1000));
}

#[test]
fn writable_is_reported_once_an_ack_frees_room_after_a_send_that_did_not_fit() {
    let cfg = Config {
        send_buffer: 3000,
        ..plain()
    };
    // A send that fits: no Writable when its bytes are acknowledged.
    let (mut c, iss) = established(cfg.clone(), TcpOptions::default());
    events(&mut c);
    assert_eq!(c.send(&[1; 1000]), Ok(1000));
    drain(&mut c, at_ms(10));
    feed(&mut c, at_ms(20), &ack(iss.wrapping_add(1001)));
    assert!(!events(&mut c).contains(&Event::Writable));

    // A send that did not fit: Writable on the ACK that frees bytes, once.
    let (mut c, iss) = established(cfg, TcpOptions::default());
    events(&mut c);
    assert_eq!(c.send(&[1; 5000]), Ok(3000));
    drain(&mut c, at_ms(10));
    assert!(events(&mut c).is_empty());
    feed(&mut c, at_ms(20), &ack(iss.wrapping_add(501)));
    assert_eq!(events(&mut c), [Event::Writable]);
    feed(&mut c, at_ms(30), &ack(iss.wrapping_add(1001)));
    assert!(events(&mut c).is_empty(), "reported once per full send");
}

#[test]
fn an_ack_that_covers_no_queued_byte_is_no_reason_for_writable() {
    // Through the sender itself: SND.UNA moves over the SYN only (the
    // first queued byte is ISS + 1), so no buffer space is freed.
    let cfg = Config {
        send_buffer: 100,
        ..plain()
    };
    let iss = SeqNum(5000);
    let mut s = Sender::new(&cfg, iss);
    assert_eq!(s.queue(&[1; 200]), 100);
    s.want_writable = true;
    let mut timers = Timers::default();
    let input = AckInput {
        ack: iss + 1,
        seq: SeqNum(PEER_ISS + 1),
        window: 1000,
        sack: &[],
        tsecr: None,
        ts_now: 0,
        pure: true,
    };
    let out = s.on_ack(at_ms(1), &input, &mut timers);
    assert!(out.advanced);
    assert!(!out.writable, "nothing was freed");
    assert!(s.want_writable, "still waiting for room");
    assert_eq!((s.buffered(), s.free(), s.capacity()), (100, 0, 100));
}

// ---- path MTU -----------------------------------------------------------

#[test]
fn a_path_mtu_drop_resends_exactly_the_segments_larger_than_the_new_payload() {
    let cfg = Config {
        nodelay: true,
        ..plain()
    };
    let mut opts = TcpOptions::default();
    opts.mss = Some(1460);
    let (mut c, iss) = opened(cfg, opts, 100);
    assert_eq!(c.info().mss, 1460);
    // Three segments in flight: 1000, 600 and 100 bytes.
    for (n, t) in [(1000, 200), (600, 201), (100, 202)] {
        assert_eq!(c.send(&vec![3; n]), Ok(n));
        assert_eq!(drain(&mut c, at_ms(t)).len(), 1);
    }
    let verdict = c.on_path_mtu(at_ms(210), SeqNum(iss.wrapping_add(1)), 600);
    assert_eq!(verdict, synack_tcp::IcmpVerdict::MssLowered);
    assert_eq!(c.info().mss, 600);
    let out = drain(&mut c, at_ms(210));
    let retransmit = Some(SegmentKind::Data(SendKind::Retransmit));
    // Only the 1000-byte segment is lost; it goes again as 600 + 400.
    assert_eq!(
        data_segments(&out),
        [
            (iss.wrapping_add(1), 600, retransmit),
            (iss.wrapping_add(601), 400, retransmit),
        ]
    );
    assert_eq!(c.stats().send.bytes_retransmitted, 1000);
}

// ---- SACK input ---------------------------------------------------------

/// `opened(with_sack(), sack_ok(), 100)` with `n` full segments sent at
/// 1000 ms; returns the connection and segment `k`'s start.
fn in_flight(n: u32) -> (Connection, impl Fn(u32) -> u32) {
    let (mut c, iss) = opened(with_sack(), sack_ok(), 100);
    let mss = u32::from(c.info().mss);
    assert_eq!(c.send(&vec![7; (n * mss) as usize]), Ok((n * mss) as usize));
    let out = drain(&mut c, at_ms(1000));
    assert_eq!(out.len(), n as usize);
    (c, move |k: u32| iss.wrapping_add(1 + k * mss))
}

#[test]
fn a_first_sack_block_at_or_below_the_ack_is_a_dsack_rfc2883() {
    let (mut c, s) = in_flight(3);
    feed(&mut c, at_ms(1100), &ack(s(1)));
    assert_eq!(c.stats().send.dsacks_received, 0);
    // The first segment arrived twice: the block lies below the ACK.
    feed(&mut c, at_ms(1101), &sack_ack(s(1), &[(s(0), s(1))]));
    assert_eq!(c.stats().send.dsacks_received, 1);
    // Only the first block can be a D-SACK: a later one below the ACK is
    // just stale.
    feed(
        &mut c,
        at_ms(1102),
        &sack_ack(s(1), &[(s(2), s(3)), (s(0), s(1))]),
    );
    assert_eq!(c.stats().send.dsacks_received, 1);
    // A first block inside the second reports a duplicate above the ACK.
    let mss = s(1) - s(0);
    feed(
        &mut c,
        at_ms(1103),
        &sack_ack(s(1), &[(s(2), s(2) + mss / 2), (s(2), s(3))]),
    );
    assert_eq!(c.stats().send.dsacks_received, 2);
}

#[test]
fn a_sack_block_beyond_snd_nxt_is_ignored() {
    let (mut c, s) = in_flight(4);
    let mss = s(1) - s(0);
    assert_eq!(c.info().in_flight, 4 * mss);
    // Covers segments 1-3 but ends past anything sent: bogus.
    feed(&mut c, at_ms(1050), &sack_ack(s(0), &[(s(1), s(4) + 100)]));
    assert_eq!(c.info().in_flight, 4 * mss, "nothing SACKed");
    assert!(data_segments(&drain(&mut c, at_ms(1050))).is_empty());
    // The same block ending at SND.NXT is taken: three segments SACKed
    // above the first, which is then lost (RFC 6675 §4 IsLost).
    feed(&mut c, at_ms(1051), &sack_ack(s(0), &[(s(1), s(4))]));
    assert_eq!(c.info().in_flight, 0);
    let out = drain(&mut c, at_ms(1051));
    assert_eq!(
        data_segments(&out),
        [(
            s(0),
            mss as usize,
            Some(SegmentKind::Data(SendKind::Retransmit))
        )]
    );
}

// ---- RTT sampling -------------------------------------------------------

#[test]
fn a_segment_sent_once_is_timed_by_its_ack() {
    let (mut c, iss) = opened(plain(), TcpOptions::default(), 100);
    assert_eq!(c.send(b"x"), Ok(1));
    drain(&mut c, at_ms(1000));
    feed(&mut c, at_ms(1040), &ack(iss.wrapping_add(2)));
    // RFC 6298 §2.3: SRTT = 7/8·100 + 1/8·40 ms.
    assert_eq!(c.info().srtt, Some(Duration::from_micros(92_500)));
}

#[test]
fn karns_rule_an_ack_after_a_retransmission_is_no_sample_even_if_quick() {
    let (mut c, iss) = opened(plain(), TcpOptions::default(), 100);
    let rto = c.info().rto;
    assert_eq!(rto, ms(300));
    assert_eq!(c.send(b"x"), Ok(1));
    drain(&mut c, at_ms(1000));
    let sent = run_timers(&mut c, at_ms(1300));
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].0, at_ms(1300));
    // 10 ms after the retransmission, 310 ms after the original.
    feed(&mut c, at_ms(1310), &ack(iss.wrapping_add(2)));
    assert_eq!(c.info().srtt, Some(ms(100)), "no sample");
    assert_eq!(c.info().rto, rto, "the backoff ends");
}

/// `plain()` with timestamps, opened with a 100 ms SYN round trip; one
/// byte sent at 1000 ms and retransmitted by the RTO at 1300 ms. Returns
/// the connection, the ISS and the retransmission's TSval.
fn retransmitted_with_timestamps() -> (Connection, u32, u32) {
    let cfg = Config {
        timestamps: true,
        ..plain()
    };
    let mut c = active_at(cfg, Instant::ZERO, IsnSecret::from_seed(2));
    let syn = drain(&mut c, Instant::ZERO).remove(0);
    let (syn_val, _) = syn.options.timestamps.unwrap();
    let iss = syn.seq;
    let mut syn_ack = seg(
        PEER_ISS,
        iss.wrapping_add(1),
        TcpFlags::SYN | TcpFlags::ACK,
        b"",
    );
    syn_ack.options.timestamps = Some((7, syn_val));
    feed(&mut c, at_ms(100), &syn_ack);
    drain(&mut c, at_ms(100));
    assert_eq!(c.info().srtt, Some(ms(100)));
    assert_eq!(c.send(b"x"), Ok(1));
    drain(&mut c, at_ms(1000));
    let sent = run_timers(&mut c, at_ms(1300));
    assert_eq!(sent.len(), 1, "{sent:?}");
    let (val, _) = sent[0].1.options.timestamps.unwrap();
    assert_eq!(val, syn_val.wrapping_add(1300));
    (c, iss, val)
}

#[test]
fn a_retransmitted_segment_is_timed_by_its_timestamp_echo() {
    let (mut c, iss, val) = retransmitted_with_timestamps();
    let a = ack(iss.wrapping_add(2)).with_ts(8, val);
    feed(&mut c, at_ms(1310), &a);
    // RFC 7323 §4: the echo says 10 ms; SRTT = 7/8·100 + 1/8·10 ms.
    assert_eq!(c.info().srtt, Some(Duration::from_micros(88_750)));
}

#[test]
fn an_echo_of_zero_or_of_2_pow_30_ms_ago_is_no_rtt_sample() {
    let (mut c, iss, val) = retransmitted_with_timestamps();
    // At 1310 ms our clock reads val + 10; an echo 2^30 ms behind it.
    let ancient = val.wrapping_add(10).wrapping_sub(1 << 30);
    let a = ack(iss.wrapping_add(2)).with_ts(8, ancient);
    feed(&mut c, at_ms(1310), &a);
    assert_eq!(c.info().srtt, Some(ms(100)), "no sample");

    let (mut c, iss, _) = retransmitted_with_timestamps();
    let a = ack(iss.wrapping_add(2)).with_ts(8, 0);
    feed(&mut c, at_ms(1310), &a);
    assert_eq!(c.info().srtt, Some(ms(100)), "zero echoes nothing");
}

#[test]
fn the_rtt_sample_comes_from_the_most_recently_sent_segment_delivered() {
    // RFC 6298 / RFC 8985: of what one ACK delivers (cumulatively and by
    // its SACK blocks, in any order), the latest transmission is timed.
    let (mut c, iss) = opened(with_sack(), sack_ok(), 100);
    let s = |k: u32| iss.wrapping_add(1 + k * 536);
    assert_eq!(c.send(&[7; 4 * 536]), Ok(4 * 536));
    assert_eq!(drain(&mut c, at_ms(1000)).len(), 4);
    assert_eq!(c.send(&[7; 2 * 536]), Ok(2 * 536));
    assert_eq!(drain(&mut c, at_ms(1050)).len(), 2);
    // Segment 0 (sent at 1000) cumulatively; SACKed: 4 (sent at 1050)
    // first, then 2 (sent at 1000). The sample is 50 ms.
    feed(
        &mut c,
        at_ms(1100),
        &sack_ack(s(1), &[(s(4), s(5)), (s(2), s(3))]),
    );
    assert_eq!(c.info().srtt, Some(Duration::from_micros(93_750)));
}

#[test]
fn bytes_sacked_by_several_blocks_of_one_ack_all_count_as_delivered() {
    // Ten segments fill cwnd with more queued; one ACK SACKs two of them
    // in two blocks: slow start grows by both (RFC 3465's 2·SMSS bound).
    let cfg = Config {
        congestion: Algorithm::NewReno,
        hystart: false,
        ..with_sack()
    };
    let (mut c, iss) = opened(cfg, sack_ok(), 100);
    let s = |k: u32| iss.wrapping_add(1 + k * 536);
    assert_eq!(c.send(&[7; 12 * 536]), Ok(12 * 536));
    assert_eq!(drain(&mut c, at_ms(1000)).len(), 10);
    feed(
        &mut c,
        at_ms(1100),
        &sack_ack(s(0), &[(s(5), s(6)), (s(2), s(3))]),
    );
    assert_eq!(c.info().cwnd, 12 * 536);
}

// ---- duplicate ACKs ------------------------------------------------------

#[test]
fn without_sack_each_duplicate_ack_takes_one_segment_out_of_the_pipe() {
    let (mut c, iss) = opened(plain(), TcpOptions::default(), 100);
    let mss = u32::from(c.info().mss);
    assert_eq!(c.send(&vec![1; 4 * mss as usize]), Ok(4 * mss as usize));
    assert_eq!(drain(&mut c, at_ms(1000)).len(), 4);
    let una = iss.wrapping_add(1);
    assert_eq!(c.info().in_flight, 4 * mss);
    feed(&mut c, at_ms(1100), &ack(una));
    assert_eq!(c.info().in_flight, 3 * mss);
    feed(&mut c, at_ms(1101), &ack(una));
    assert_eq!(c.info().in_flight, 2 * mss);

    // With SACK the blocks say what left; a duplicate without one, nothing.
    let (mut c, s) = in_flight(4);
    feed(&mut c, at_ms(1100), &ack(s(0)));
    assert_eq!(c.info().in_flight, 4 * mss);
}

#[test]
fn prr_sends_against_duplicate_acks_during_newreno_fast_recovery() {
    // 40 segments in flight, all the data there is; the third duplicate
    // ACK starts fast recovery with ssthresh = 20 of RecoverFS = 40.
    let cfg = Config {
        congestion: Algorithm::NewReno,
        hystart: false,
        initial_window: 40,
        ..plain()
    };
    // Small segments, so that 40 fit in RFC 6928's 14600-byte cap.
    let mut opts = TcpOptions::default();
    opts.mss = Some(300);
    let (mut c, iss) = opened(cfg, opts, 100);
    let mss = u32::from(c.info().mss);
    assert_eq!(c.send(&vec![1; 40 * mss as usize]), Ok(40 * mss as usize));
    assert_eq!(drain(&mut c, at_ms(1000)).len(), 40);
    let una = iss.wrapping_add(1);
    for k in 1..=3 {
        feed(&mut c, at_ms(1100 + k), &ack(una));
    }
    let out = drain(&mut c, at_ms(1103));
    assert_eq!(
        data_segments(&out),
        [(
            una,
            mss as usize,
            Some(SegmentKind::Data(SendKind::Retransmit))
        )]
    );
    assert_eq!(c.info().ssthresh, 20 * mss);
    assert_eq!(c.send(&vec![1; 20 * mss as usize]), Ok(20 * mss as usize));
    let mut new_after = Vec::new();
    for k in 4..=11 {
        feed(&mut c, at_ms(1100 + k), &ack(una));
        let out = drain(&mut c, at_ms(1100 + k));
        new_after.push(
            out.iter()
                .filter(|s| s.kind == Some(SegmentKind::Data(SendKind::New)))
                .count(),
        );
    }
    // RFC 6937 §3.1 while pipe > ssthresh: sndcnt = ⌈prr_delivered ·
    // ssthresh / RecoverFS⌉ − prr_out, each duplicate delivering one
    // segment: one new segment for every second duplicate.
    assert_eq!(new_after, [0, 0, 1, 0, 1, 0, 1, 0]);
    assert_eq!(c.info().recovery, Phase::Recovery);
}

#[test]
fn slow_start_grows_by_the_bytes_an_ack_covers_not_more() {
    let cfg = Config {
        congestion: Algorithm::NewReno,
        hystart: false,
        ..plain()
    };
    let (mut c, iss) = opened(cfg, TcpOptions::default(), 100);
    let mss = u32::from(c.info().mss);
    assert_eq!(c.info().cwnd, 10 * mss);
    // More than the initial window: cwnd limits the flight.
    assert_eq!(c.send(&vec![1; 12 * mss as usize]), Ok(12 * mss as usize));
    assert_eq!(drain(&mut c, at_ms(1000)).len(), 10);
    feed(&mut c, at_ms(1100), &ack(iss.wrapping_add(1 + mss)));
    assert_eq!(c.info().cwnd, 11 * mss);
}

#[test]
fn slow_start_grows_only_while_the_flight_fills_half_of_cwnd() {
    // Application-limited: cwnd grows only if the largest pipe of the
    // round reached half of it (as Linux's tcp_is_cwnd_limited).
    for (segments, grown) in [(5, 11), (4, 10)] {
        let (mut c, iss) = opened(newreno(), TcpOptions::default(), 100);
        let mss = u32::from(c.info().mss);
        let n = segments * mss as usize;
        assert_eq!(c.send(&vec![1; n]), Ok(n));
        assert_eq!(drain(&mut c, at_ms(1000)).len(), segments);
        feed(&mut c, at_ms(1100), &ack(iss.wrapping_add(1 + mss)));
        assert_eq!(c.info().cwnd, grown * mss, "{segments} segments in flight");
    }
}

#[test]
fn a_sack_without_progress_does_not_end_the_round() {
    // Six segments in flight of a cwnd of ten: cwnd-limited by the
    // half-cwnd rule. A SACK of two shrinks the pipe to four, but the
    // round (and its largest pipe) lasts until SND.UNA passes its end.
    let cfg = Config {
        congestion: Algorithm::NewReno,
        hystart: false,
        ..with_sack()
    };
    let (mut c, iss) = opened(cfg, sack_ok(), 100);
    let mss = u32::from(c.info().mss);
    assert_eq!(c.send(&vec![1; 6 * mss as usize]), Ok(6 * mss as usize));
    assert_eq!(drain(&mut c, at_ms(1000)).len(), 6);
    let s = |k: u32| iss.wrapping_add(1 + k * mss);
    feed(&mut c, at_ms(1100), &sack_ack(s(0), &[(s(4), s(6))]));
    assert_eq!(c.info().in_flight, 4 * mss);
    // RFC 3465: at most 2·SMSS per ACK in slow start.
    assert_eq!(c.info().cwnd, 12 * mss);
    feed(&mut c, at_ms(1101), &ack(s(6)));
    assert_eq!(c.info().cwnd, 14 * mss);
}

/// `newreno()` with an initial window of one segment (536 bytes).
fn one_segment_window(nodelay: bool) -> (Connection, u32) {
    let cfg = Config {
        initial_window: 1,
        nodelay,
        ..newreno()
    };
    let (c, iss) = opened(cfg, TcpOptions::default(), 100);
    assert_eq!(c.info().cwnd, 536);
    (c, iss)
}

#[test]
fn data_held_back_by_cwnd_makes_the_flight_cwnd_limited() {
    // 100 bytes out of a 536-byte cwnd; a full segment more would not fit
    // (and 436 bytes would be a silly segment): cwnd held data back, so the
    // ACK grows it though the flight was far below half of it.
    let (mut c, iss) = one_segment_window(true);
    assert_eq!(c.send(&[1; 100]), Ok(100));
    assert_eq!(drain(&mut c, at_ms(1000)).len(), 1);
    assert_eq!(c.send(&[1; 1000]), Ok(1000));
    assert!(drain(&mut c, at_ms(1000)).is_empty());
    feed(&mut c, at_ms(1100), &ack(iss.wrapping_add(101)));
    assert_eq!(c.info().cwnd, 636);
}

#[test]
fn data_held_back_by_nagle_does_not_make_the_flight_cwnd_limited() {
    // The 436 bytes would fit cwnd exactly; Nagle, not cwnd, holds them.
    let (mut c, iss) = one_segment_window(false);
    assert_eq!(c.send(&[1; 100]), Ok(100));
    assert_eq!(drain(&mut c, at_ms(1000)).len(), 1);
    assert_eq!(c.send(&[1; 436]), Ok(436));
    assert!(drain(&mut c, at_ms(1000)).is_empty(), "Nagle");
    feed(&mut c, at_ms(1100), &ack(iss.wrapping_add(101)));
    assert_eq!(c.info().cwnd, 536);
}

#[test]
fn a_zero_window_does_not_make_the_flight_cwnd_limited() {
    let (mut c, iss) = zero_window();
    let cwnd = c.info().cwnd;
    assert_eq!(cwnd, 10 * 536);
    assert_eq!(run_timers(&mut c, at_ms(500)).len(), 1);
    // The probe byte is taken; the window stays shut.
    feed(&mut c, at_ms(510), &ack(iss.wrapping_add(2)).with_window(0));
    assert_eq!(c.info().snd_una.0, iss.wrapping_add(2));
    assert_eq!(c.info().cwnd, cwnd);
}

#[test]
fn a_fin_does_not_make_the_flight_cwnd_limited() {
    for bare in [false, true] {
        let (mut c, iss) = opened(newreno(), TcpOptions::default(), 100);
        assert_eq!(c.send(&[1; 1072]), Ok(1072));
        if bare {
            assert_eq!(drain(&mut c, at_ms(1000)).len(), 2);
        }
        c.shutdown(at_ms(1000));
        assert!(!drain(&mut c, at_ms(1000)).is_empty());
        feed(&mut c, at_ms(1100), &ack(iss.wrapping_add(1 + 1072 + 1)));
        assert_eq!(c.state(), State::FinWait2);
        assert_eq!(c.info().cwnd, 10 * 536, "bare FIN: {bare}");
    }
}

// ---- the retransmission timer ---------------------------------------------

#[test]
fn a_duplicate_ack_does_not_restart_the_retransmission_timer() {
    let (mut c, iss) = opened(plain(), TcpOptions::default(), 100);
    let mss = u32::from(c.info().mss);
    assert_eq!(c.send(&vec![1; 2 * mss as usize]), Ok(2 * mss as usize));
    assert_eq!(drain(&mut c, at_ms(1000)).len(), 2);
    assert_eq!(c.poll_timeout(), Some(at_ms(1300)));
    feed(&mut c, at_ms(1100), &ack(iss.wrapping_add(1)));
    assert_eq!(c.poll_timeout(), Some(at_ms(1300)));
    // RFC 6298 §5.3: an ACK of new data restarts it.
    feed(&mut c, at_ms(1200), &ack(iss.wrapping_add(1 + mss)));
    assert_eq!(c.poll_timeout(), Some(at_ms(1200) + c.info().rto));
}

/// CUBIC after a fast recovery (cwnd = ssthresh = β·cwnd at the loss),
/// cwnd full and more data queued (cwnd-limited), SRTT 100 ms. With `window_update`, a pure window update
/// arrives at 1201 ms. Returns cwnd after one segment is ACKed at 1400 ms.
fn cubic_cwnd_after_recovery(window_update: bool) -> u32 {
    let (mut c, iss) = opened(plain(), TcpOptions::default(), 100);
    let mss = u32::from(c.info().mss);
    let s = |k: u32| iss.wrapping_add(1 + k * mss);
    assert_eq!(c.send(&vec![1; 20 * mss as usize]), Ok(20 * mss as usize));
    assert_eq!(drain(&mut c, at_ms(1000)).len(), 10);
    for k in 0..3 {
        feed(&mut c, at_ms(1100 + k), &ack(s(0)));
    }
    assert_eq!(resent(&drain(&mut c, at_ms(1102))), [s(0)]);
    feed(&mut c, at_ms(1200), &ack(s(10)));
    assert_eq!(c.info().recovery, Phase::Open);
    let cwnd = c.info().cwnd;
    assert_eq!(c.info().ssthresh, cwnd);
    assert!(!drain(&mut c, at_ms(1200)).is_empty());
    assert!(c.info().in_flight + mss > cwnd, "cwnd is full");
    if window_update {
        feed(&mut c, at_ms(1201), &ack(s(10)).with_window(60000));
        assert_eq!(c.info().snd_wnd, 60000);
        assert_eq!(c.info().cwnd, cwnd);
    }
    feed(&mut c, at_ms(1400), &ack(s(11)));
    c.info().cwnd
}

#[test]
fn a_window_update_acknowledges_nothing_and_does_not_start_cubics_epoch() {
    // RFC 9438 §4.2: the epoch starts with the first ACK of new data in
    // congestion avoidance, so W_cubic(t) counts from 1400 ms.
    let plain_run = cubic_cwnd_after_recovery(false);
    assert_eq!(cubic_cwnd_after_recovery(true), plain_run);
}

// ---- the window update rule ---------------------------------------------

#[test]
fn an_ack_below_snd_una_on_a_newer_segment_does_not_move_the_window() {
    let (mut c, iss) = opened(plain(), TcpOptions::default(), 100);
    assert_eq!(c.send(&[1; 100]), Ok(100));
    drain(&mut c, at_ms(1000));
    feed(&mut c, at_ms(1100), &ack(iss.wrapping_add(101)));
    assert_eq!(c.info().snd_wnd, 65535);
    // Data from the peer (a newer SEG.SEQ) carrying an old ACK.
    let old = iss.wrapping_add(51);
    let s = seg(PEER_ISS + 1, old, TcpFlags::ACK, b"ab").with_window(0);
    feed(&mut c, at_ms(1101), &s);
    assert_eq!(c.recv_queue(), 2, "the data is taken");
    assert_eq!(c.info().snd_wnd, 65535);
    let s = seg(PEER_ISS + 3, old, TcpFlags::ACK, b"cd").with_window(0);
    feed(&mut c, at_ms(1102), &s);
    assert_eq!(c.recv_queue(), 4);
    assert_eq!(c.info().snd_wnd, 65535);
}

#[test]
fn a_segment_older_than_snd_wl1_does_not_move_the_window() {
    let (mut c, iss) = opened(plain(), TcpOptions::default(), 100);
    let una = iss.wrapping_add(1);
    let r = PEER_ISS + 1;
    feed(&mut c, at_ms(200), &seg(r, una, TcpFlags::ACK, b"abcd"));
    // A window update at SEG.SEQ = r + 4: SND.WL1 = r + 4.
    feed(
        &mut c,
        at_ms(201),
        &seg(r + 4, una, TcpFlags::ACK, b"").with_window(3000),
    );
    assert_eq!(c.info().snd_wnd, 3000);
    // The first data again with more after it: SEG.SEQ = r < SND.WL1.
    let s = seg(r, una, TcpFlags::ACK, b"abcdefgh").with_window(100);
    feed(&mut c, at_ms(202), &s);
    assert_eq!(c.recv_queue(), 8, "its new data is taken");
    assert_eq!(c.info().snd_wnd, 3000, "but not its window");
}

// ---- the end of recovery ------------------------------------------------

#[test]
fn fast_recovery_ends_when_snd_una_reaches_the_recovery_point() {
    let (mut c, iss) = opened(newreno(), TcpOptions::default(), 100);
    let mss = u32::from(c.info().mss);
    assert_eq!(c.send(&vec![1; 4 * mss as usize]), Ok(4 * mss as usize));
    drain(&mut c, at_ms(1000));
    events(&mut c);
    let una = iss.wrapping_add(1);
    // Data acknowledged outside recovery ends nothing.
    for k in 0..3 {
        feed(&mut c, at_ms(1100 + k), &ack(una));
    }
    assert_eq!(c.info().recovery, Phase::Recovery);
    drain(&mut c, at_ms(1102));
    assert_eq!(
        recovery_events(&mut c),
        [RecoveryEvent::FastRetransmit { dupacks: 3 }]
    );
    feed(&mut c, at_ms(1200), &ack(una.wrapping_add(4 * mss)));
    assert_eq!(c.info().recovery, Phase::Open);
    assert_eq!(recovery_events(&mut c), [RecoveryEvent::Done]);
    // The ACK that ends recovery does not grow cwnd: it stays at ssthresh,
    // max(FlightSize/2, 2·SMSS).
    assert_eq!((c.info().cwnd, c.info().ssthresh), (2 * mss, 2 * mss));
    // Later ACKs in the open phase report nothing.
    assert_eq!(c.send(&vec![1; mss as usize]), Ok(mss as usize));
    drain(&mut c, at_ms(1300));
    feed(&mut c, at_ms(1400), &ack(una.wrapping_add(5 * mss)));
    assert!(recovery_events(&mut c).is_empty());
}

#[test]
fn the_end_of_the_rto_loss_phase_does_not_deflate_cwnd() {
    let cfg = Config {
        congestion: Algorithm::NewReno,
        hystart: false,
        ..plain()
    };
    let (mut c, iss) = opened(cfg, TcpOptions::default(), 100);
    let mss = u32::from(c.info().mss);
    assert_eq!(c.send(&vec![1; 4 * mss as usize]), Ok(4 * mss as usize));
    assert_eq!(drain(&mut c, at_ms(1000)).len(), 4);
    // All four are lost: the RTO at 1300 ms. cwnd = 1, ssthresh = 2 segments.
    let sent = run_timers(&mut c, at_ms(1300));
    assert_eq!(sent.len(), 1);
    assert_eq!((c.info().cwnd, c.info().ssthresh), (mss, 2 * mss));
    assert_eq!(c.info().recovery, Phase::Loss);
    let s = |k: u32| iss.wrapping_add(1 + k * mss);
    // Slow start to ssthresh, then avoidance: 2, 2, 3 segments.
    feed(&mut c, at_ms(1400), &ack(s(1)));
    assert_eq!(c.info().cwnd, 2 * mss);
    assert_eq!(drain(&mut c, at_ms(1400)).len(), 2);
    feed(&mut c, at_ms(1500), &ack(s(2)));
    assert_eq!(c.info().cwnd, 2 * mss);
    feed(&mut c, at_ms(1500), &ack(s(3)));
    assert_eq!(c.info().cwnd, 3 * mss);
    assert_eq!(drain(&mut c, at_ms(1500)).len(), 1);
    assert_eq!(c.info().recovery, Phase::Loss);
    // The last one ends the episode: cwnd stays above ssthresh.
    feed(&mut c, at_ms(1600), &ack(s(4)));
    assert_eq!(c.info().recovery, Phase::Open);
    assert_eq!(c.info().cwnd, 3 * mss);
}

// ---- tail loss probes -----------------------------------------------------

#[test]
fn a_probe_timeout_probes_only_in_the_open_phase_with_data_in_flight() {
    // Through the sender (the connection clears the timer itself in these
    // cases): RFC 8985 §7.2-7.3 send a probe only when not in recovery
    // and with something unacknowledged.
    let cfg = with_sack();
    let iss = SeqNum(5000);
    let fresh = || {
        let mut s = Sender::new(&cfg, iss);
        assert_eq!(s.queue(&[1; 100]), 100);
        s.una = iss + 1;
        s.nxt = iss + 1;
        s.wnd = 65535;
        s.sack_ok = true;
        s
    };
    // Nothing in flight: no probe, and no RTO armed for it.
    let mut s = fresh();
    let mut timers = Timers::default();
    s.on_tlp_timeout(at_ms(10), &mut timers);
    assert!(!timers.is_armed(TimerKind::Rto));
    let plan = s.next_segment(at_ms(10), 536, false, &mut timers).unwrap();
    assert_eq!(plan.kind, SendKind::New);
    // In fast recovery: no probe either.
    let mut s = fresh();
    let mut timers = Timers::default();
    let first = s.next_segment(at_ms(10), 50, false, &mut timers).unwrap();
    assert_eq!((first.len, first.kind), (50, SendKind::New));
    s.recovery.phase = Phase::Recovery;
    timers.clear(TimerKind::Rto);
    s.on_tlp_timeout(at_ms(20), &mut timers);
    assert!(!timers.is_armed(TimerKind::Rto));
    assert_eq!(s.stats.tail_loss_probes, 0);
}

#[test]
fn an_acked_tail_loss_probe_that_resent_data_is_a_congestion_event() {
    let (mut c, s) = in_flight(2);
    let cwnd = c.info().cwnd;
    events(&mut c);
    // PTO = 2·SRTT = 200 ms; the last segment goes again.
    let sent = run_timers(&mut c, at_ms(1200));
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(
        sent[0].1.kind,
        Some(SegmentKind::Data(SendKind::TailLossProbe))
    );
    assert_eq!(sent[0].1.seq, s(1));
    feed(&mut c, at_ms(1300), &ack(s(2)));
    assert_eq!(
        recovery_events(&mut c),
        [RecoveryEvent::TailLossProbe, RecoveryEvent::TlpRecovered]
    );
    assert!(c.info().cwnd < cwnd, "cwnd was reduced");
}

/// Two full segments sent at 1000 ms, the first ACKed at 1100 ms, and
/// 100 bytes held back by Nagle; the probe timeout sends the 100 bytes as
/// a tail loss probe at 1350 ms.
fn new_data_probed() -> (Connection, impl Fn(u32) -> u32) {
    let (mut c, iss) = opened(with_sack(), sack_ok(), 100);
    let mss = u32::from(c.info().mss);
    assert_eq!(
        c.send(&vec![7; 2 * mss as usize + 100]),
        Ok(2 * mss as usize + 100)
    );
    assert_eq!(drain(&mut c, at_ms(1000)).len(), 2);
    let s = move |k: u32| iss.wrapping_add(1 + k * mss);
    feed(&mut c, at_ms(1100), &ack(s(1)));
    assert!(drain(&mut c, at_ms(1100)).is_empty(), "Nagle");
    events(&mut c);
    // PTO = 2·SRTT + WCDelAckT with one segment in flight, but not past
    // the RTO: 1100 + 250 ms (the 100 ms sample cut RTTVAR to 37.5 ms).
    let sent = run_timers(&mut c, at_ms(1350));
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].0, at_ms(1350));
    assert_eq!(
        (sent[0].1.seq, sent[0].1.len(), sent[0].1.kind),
        (s(2), 100, Some(SegmentKind::Data(SendKind::TailLossProbe)))
    );
    (c, s)
}

#[test]
fn a_tail_loss_probe_with_the_receive_window_full_resends_the_last_segment() {
    // RFC 8985 §7.3: new data only "if available and the receive window
    // allows". The peer offers two segments; a third waits.
    let mut c = active_at(with_sack(), Instant::ZERO, IsnSecret::from_seed(2));
    let iss = drain(&mut c, Instant::ZERO)[0].seq;
    let mut syn_ack = seg(
        PEER_ISS,
        iss.wrapping_add(1),
        TcpFlags::SYN | TcpFlags::ACK,
        b"",
    )
    .with_window(1072);
    syn_ack.options = sack_ok();
    feed(&mut c, at_ms(100), &syn_ack);
    drain(&mut c, at_ms(100));
    let s = |k: u32| iss.wrapping_add(1 + k * 536);
    assert_eq!(c.send(&[7; 3 * 536]), Ok(3 * 536));
    assert_eq!(drain(&mut c, at_ms(1000)).len(), 2);
    let sent = run_timers(&mut c, at_ms(1300));
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(
        (sent[0].1.seq, sent[0].1.len(), sent[0].1.kind),
        (s(1), 536, Some(SegmentKind::Data(SendKind::TailLossProbe)))
    );
}

/// A SACK connection with `n` full segments sent at 1000 ms (the last with
/// the FIN if `fin`), after which the peer's data arrives out of order: our
/// segments now carry a SACK block (12 bytes of options), so the tail loss
/// probe has 524 bytes of room. Returns what the probe sent and segment
/// starts.
fn probe_with_less_room(n: u32, fin: bool) -> (Out, impl Fn(u32) -> u32) {
    let (mut c, iss) = opened(with_sack(), sack_ok(), 100);
    let s = move |k: u32| iss.wrapping_add(1 + k * 536);
    assert_eq!(c.send(&vec![7; 536 * n as usize]), Ok(536 * n as usize));
    if fin {
        c.shutdown(at_ms(1000));
    }
    assert_eq!(drain(&mut c, at_ms(1000)).len(), n as usize);
    let ahead = seg(PEER_ISS + 11, s(0), TcpFlags::ACK, b"later");
    feed(&mut c, at_ms(1010), &ahead);
    let out = drain(&mut c, at_ms(1010));
    assert_eq!(out[0].sack(), [(PEER_ISS + 11, PEER_ISS + 16)]);
    let sent = run_timers(&mut c, at_ms(1300));
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(
        sent[0].1.kind,
        Some(SegmentKind::Data(SendKind::TailLossProbe))
    );
    (sent[0].1.clone(), s)
}

#[test]
fn a_tail_loss_probe_resends_the_last_bytes_that_fit() {
    // RFC 8985 §7.3: the probe is the last segment, as much of its end as
    // fits the probe's own room.
    let (probe, s) = probe_with_less_room(2, false);
    assert_eq!((probe.seq, probe.len()), (s(2) - 524, 524));
    assert!(!probe.flags.fin());
    // With the FIN after them: still the last 524 bytes of data, and the
    // FIN with them (it takes no room in the segment).
    let (probe, s) = probe_with_less_room(2, true);
    assert_eq!((probe.seq, probe.len()), (s(2) - 524, 524));
    assert!(probe.flags.fin(), "{probe:?}");
}

#[test]
fn an_acked_tail_loss_probe_of_new_data_is_no_congestion_event() {
    let (mut c, s) = new_data_probed();
    let (cwnd, ssthresh) = (c.info().cwnd, c.info().ssthresh);
    feed(&mut c, at_ms(1500), &ack(s(2) + 100));
    assert_eq!(recovery_events(&mut c), [RecoveryEvent::TailLossProbe]);
    assert!(c.info().cwnd >= cwnd);
    assert_eq!(c.info().ssthresh, ssthresh);
}

#[test]
fn a_dsack_does_not_end_a_tail_loss_probe_of_new_data() {
    let (mut c, s) = new_data_probed();
    // The first segment arrived twice; the probe still stands, so no
    // second probe: the RTO is what fires next.
    feed(&mut c, at_ms(1410), &sack_ack(s(1), &[(s(0), s(1))]));
    assert_eq!(c.stats().send.dsacks_received, 1);
    let sent = run_timers(&mut c, at_ms(3000));
    assert_eq!(
        sent[0].1.kind,
        Some(SegmentKind::Data(SendKind::Retransmit)),
        "{sent:?}"
    );
    assert_eq!(c.stats().send.tail_loss_probes, 1);
}

// ---- SACK loss detection ---------------------------------------------------

/// SACK without RACK (so RFC 6675 alone decides), NewReno: `n` full
/// segments sent at 1000 ms.
fn sack_only_in_flight(n: u32) -> (Connection, impl Fn(u32) -> u32) {
    let cfg = Config {
        rack: false,
        congestion: Algorithm::NewReno,
        hystart: false,
        ..with_sack()
    };
    let (mut c, iss) = opened(cfg, sack_ok(), 100);
    let mss = u32::from(c.info().mss);
    assert_eq!(c.send(&vec![7; (n * mss) as usize]), Ok((n * mss) as usize));
    assert_eq!(drain(&mut c, at_ms(1000)).len(), n as usize);
    (c, move |k: u32| iss.wrapping_add(1 + k * mss))
}

#[test]
fn the_first_hole_is_lost_once_more_than_two_segments_above_it_are_sacked() {
    // RFC 6675 §4 IsLost: more than (DupThresh − 1)·SMSS bytes SACKed.
    let (mut c, s) = sack_only_in_flight(6);
    feed(&mut c, at_ms(1100), &sack_ack(s(0), &[(s(4), s(6))]));
    assert_eq!(c.info().recovery, Phase::Open, "exactly 2·SMSS");
    assert!(data_segments(&drain(&mut c, at_ms(1100))).is_empty());
    feed(&mut c, at_ms(1101), &sack_ack(s(0), &[(s(3), s(6))]));
    assert_eq!(c.info().recovery, Phase::Recovery);
    // Two duplicates only: the SACKed bytes decided, not DupThresh.
    assert_eq!(recovery_events(&mut c), [RecoveryEvent::SackLoss]);
    assert_eq!(
        data_segments(&drain(&mut c, at_ms(1101))),
        [(
            s(0),
            (s(1) - s(0)) as usize,
            Some(SegmentKind::Data(SendKind::Retransmit))
        )]
    );
}

#[test]
fn with_sack_a_partial_ack_in_recovery_marks_nothing_lost_by_itself() {
    // NewReno's partial-ACK rule (RFC 6582 §3.2 step 4) is for a sender
    // without SACK; with SACK only IsLost (RFC 6675 §4) marks a hole.
    let (mut c, s) = sack_only_in_flight(6);
    let mss = s(1) - s(0);
    for k in 0..3 {
        feed(&mut c, at_ms(1100 + k), &sack_ack(s(0), &[(s(5), s(6))]));
    }
    assert_eq!(c.info().recovery, Phase::Recovery);
    assert_eq!(
        recovery_events(&mut c),
        [RecoveryEvent::FastRetransmit { dupacks: 3 }]
    );
    let out = drain(&mut c, at_ms(1102));
    assert_eq!(resent(&out), [s(0)]);
    // The retransmission arrives: SND.UNA moves to segment 1, below the
    // recovery point, with one segment SACKed above it.
    feed(&mut c, at_ms(1200), &sack_ack(s(1), &[(s(5), s(6))]));
    assert_eq!(c.info().recovery, Phase::Recovery);
    assert_eq!(c.info().in_flight, 4 * mss, "segments 1-4 are in the pipe");
    assert!(resent(&drain(&mut c, at_ms(1200))).is_empty());
}

#[test]
fn rack_waits_a_reordering_window_while_loss_is_not_evident() {
    // RFC 8985 §6.2 step 4: one segment SACKed, no recovery: RACK waits
    // RACK.rtt + min_RTT/4 = 100 + 25 ms from the holes' transmission.
    let (mut c, s) = in_flight(6);
    let mss = s(1) - s(0);
    feed(&mut c, at_ms(1100), &sack_ack(s(0), &[(s(5), s(6))]));
    assert_eq!(c.info().recovery, Phase::Open);
    assert_eq!(c.info().in_flight, 5 * mss, "nothing lost yet");
    assert!(data_segments(&drain(&mut c, at_ms(1100))).is_empty());
    assert_eq!(c.poll_timeout(), Some(at_ms(1125)));
    // The reorder timer: segments 0-4 are lost, recovery starts and the
    // first of them goes at once.
    events(&mut c);
    let sent = run_timers(&mut c, at_ms(1125));
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(
        (sent[0].0, sent[0].1.seq, sent[0].1.kind),
        (
            at_ms(1125),
            s(0),
            Some(SegmentKind::Data(SendKind::Retransmit))
        )
    );
    assert_eq!(c.info().recovery, Phase::Recovery);
    assert_eq!(recovery_events(&mut c), [RecoveryEvent::RackLoss]);
}

#[test]
fn a_late_piece_of_a_segment_below_rack_fack_is_reordering() {
    // RFC 8985 §6.2 step 3: the peer SACKs the middle of segment 1, then
    // acknowledges everything: the head of segment 1 (sent once, ending
    // below RACK.fack) arrived late, so the network reorders. Later, with
    // loss evident, RACK keeps its reordering window: of the holes below
    // three SACKed segments only the first (IsLost) is lost at once.
    let (mut c, iss) = opened(with_sack(), sack_ok(), 100);
    let s = |k: u32| iss.wrapping_add(1 + k * 536);
    assert_eq!(c.send(&[7; 2 * 536]), Ok(2 * 536));
    assert_eq!(drain(&mut c, at_ms(1000)).len(), 2);
    feed(
        &mut c,
        at_ms(1100),
        &sack_ack(s(0), &[(s(1) + 100, s(1) + 200)]),
    );
    feed(&mut c, at_ms(1101), &ack(s(2)));
    assert_eq!(c.info().recovery, Phase::Open);
    assert_eq!(c.send(&[7; 6 * 536]), Ok(6 * 536));
    assert_eq!(drain(&mut c, at_ms(2000)).len(), 6);
    feed(&mut c, at_ms(2100), &sack_ack(s(2), &[(s(5), s(8))]));
    assert_eq!(c.info().recovery, Phase::Recovery);
    assert_eq!(c.info().in_flight, 2 * 536, "segments 3 and 4 still out");
}

#[test]
fn rack_has_no_reordering_window_once_more_than_dupthresh_is_sacked() {
    // RFC 8985 §6.2 step 4: loss is evident (three segments SACKed) and no
    // reordering was seen: every hole below them is lost at once, not
    // only the first (RFC 6675 IsLost).
    let (mut c, s) = in_flight(6);
    feed(&mut c, at_ms(1100), &sack_ack(s(0), &[(s(3), s(6))]));
    assert_eq!(c.info().recovery, Phase::Recovery);
    assert_eq!(c.info().in_flight, 0, "segments 0-2 lost, 3-5 SACKed");
}

#[test]
fn a_reorder_timeout_in_recovery_lets_one_retransmission_go_at_once() {
    // RFC 8985 §6.3: losses the reorder timer finds during fast recovery
    // are repaired at the timer, not at the next ACK.
    let (mut c, s) = in_flight(8);
    // Segment 2 is SACKed, then segment 1: a late original, so RACK has
    // seen reordering and keeps a reordering window even in recovery.
    feed(&mut c, at_ms(1100), &sack_ack(s(0), &[(s(2), s(3))]));
    feed(&mut c, at_ms(1101), &sack_ack(s(0), &[(s(1), s(3))]));
    assert_eq!(c.info().recovery, Phase::Open);
    // More data, so that PRR's allowance is spent on it.
    let mss = (s(1) - s(0)) as usize;
    assert_eq!(c.send(&vec![7; 20 * mss]), Ok(20 * mss));
    // Segments 4-6 too: five SACKed, segment 0 is lost (IsLost).
    feed(
        &mut c,
        at_ms(1102),
        &sack_ack(s(0), &[(s(4), s(7)), (s(1), s(3))]),
    );
    assert_eq!(c.info().recovery, Phase::Recovery);
    let out = drain(&mut c, at_ms(1102));
    assert_eq!(resent(&out), [s(0)]);
    assert!(out.len() > 1, "new data too: {out:?}");
    // Segment 3 waits for the reordering window.
    let due = c.poll_timeout().unwrap();
    assert!(due > at_ms(1102) && due < at_ms(1300), "{due:?}");
    let sent = run_timers(&mut c, due);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(
        (sent[0].0, sent[0].1.seq, sent[0].1.kind),
        (due, s(3), Some(SegmentKind::Data(SendKind::Retransmit)))
    );
}

#[test]
fn a_reorder_timeout_without_sack_does_nothing() {
    // Through the sender: the reorder timer is only ever armed with SACK,
    // and its handler keeps to that even in fast recovery.
    let cfg = plain();
    let iss = SeqNum(5000);
    let mut s = Sender::new(&cfg, iss);
    assert_eq!(s.queue(&[1; 100]), 100);
    s.una = iss + 1;
    s.nxt = iss + 101;
    s.record.push(iss + 1, 100, false, at_ms(0));
    s.recovery.phase = Phase::Recovery;
    s.recovery.prr_allow = 0;
    let mut timers = Timers::default();
    s.on_reorder_timeout(at_ms(10), &mut timers);
    assert_eq!(s.recovery.prr_allow, 0);
    assert_eq!(s.stats.fast_recoveries, 0);
}

// ---- zero-window probing ---------------------------------------------------

/// `opened(plain(), 100 ms)` (RTO 300 ms) whose peer closes its window at
/// 200 ms, with 2000 bytes queued then; returns it and the ISS.
fn zero_window() -> (Connection, u32) {
    let (mut c, iss) = opened(plain(), TcpOptions::default(), 100);
    let una = iss.wrapping_add(1);
    feed(&mut c, at_ms(200), &ack(una).with_window(0));
    assert_eq!(c.info().snd_wnd, 0);
    assert_eq!(c.send(&[9; 2000]), Ok(2000));
    assert!(drain(&mut c, at_ms(200)).is_empty());
    // The persist timer: one RTO (a wait of zero would spin one
    // `handle_timeout` call for ever).
    assert_eq!(c.poll_timeout(), Some(at_ms(500)));
    (c, iss)
}

#[test]
fn zero_window_probes_back_off_and_an_open_window_resets_the_backoff() {
    let (mut c, iss) = zero_window();
    let una = iss.wrapping_add(1);
    // RFC 9293 §3.8.6.1: probes after RTO, 2·RTO, ... (RFC 6298 backoff).
    let sent = run_timers(&mut c, at_ms(1100));
    let probes: Vec<(Instant, u32, usize)> =
        sent.iter().map(|(t, s)| (*t, s.seq, s.len())).collect();
    assert_eq!(probes, [(at_ms(500), una, 1), (at_ms(1100), una, 1)]);
    assert!(sent
        .iter()
        .all(|(_, s)| s.kind == Some(SegmentKind::Data(SendKind::WindowProbe))));
    assert_eq!(c.stats().send.zero_window_probes, 2);
    assert_eq!(c.poll_timeout(), Some(at_ms(2300)));
    // The window opens without the probe byte taken: probing stops and
    // the data goes in full segments from SND.UNA.
    feed(&mut c, at_ms(1200), &ack(una).with_window(1072));
    let out = drain(&mut c, at_ms(1200));
    assert_eq!(
        data_segments(&out),
        [
            (una, 536, Some(SegmentKind::Data(SendKind::New))),
            (una + 536, 536, Some(SegmentKind::Data(SendKind::New))),
        ]
    );
    assert_eq!(c.poll_timeout(), Some(at_ms(1500)), "the RTO, not persist");
    // Acknowledged, and the window closes again: the first probe waits
    // one RTO again, not the backed-off 4·RTO.
    feed(&mut c, at_ms(1300), &ack(una + 1072).with_window(0));
    assert!(drain(&mut c, at_ms(1300)).is_empty());
    let rto = c.info().rto;
    assert_eq!(c.poll_timeout(), Some(at_ms(1300) + rto));
}

#[test]
fn probe_data_a_reopened_window_did_not_take_goes_again_at_once() {
    // A 100-byte window, less than a segment and than half the largest
    // window: SWS avoidance (RFC 9293 §3.8.6.2.1) holds the data, and the
    // persist timer probes with what fits.
    let (mut c, iss) = opened(plain(), TcpOptions::default(), 100);
    let una = iss.wrapping_add(1);
    feed(&mut c, at_ms(200), &ack(una).with_window(100));
    assert_eq!(c.send(&[9; 2000]), Ok(2000));
    assert!(drain(&mut c, at_ms(200)).is_empty(), "SWS avoidance");
    assert_eq!(c.poll_timeout(), Some(at_ms(500)), "persist: one RTO");
    let sent = run_timers(&mut c, at_ms(500));
    assert_eq!(sent.len(), 1);
    assert_eq!(
        (sent[0].0, sent[0].1.seq, sent[0].1.len(), sent[0].1.kind),
        (
            at_ms(500),
            una,
            100,
            Some(SegmentKind::Data(SendKind::WindowProbe))
        )
    );
    assert_eq!(c.stats().send.zero_window_probes, 0, "not a zero window");
    // The window opens wide without those 100 bytes acknowledged: they
    // were lost, and go again before the new data.
    feed(&mut c, at_ms(600), &ack(una).with_window(65535));
    let out = drain(&mut c, at_ms(600));
    let segs = data_segments(&out);
    assert_eq!(
        segs[0],
        (una, 100, Some(SegmentKind::Data(SendKind::Retransmit)))
    );
    assert_eq!(
        segs[1],
        (una + 100, 536, Some(SegmentKind::Data(SendKind::New)))
    );
}

#[test]
fn a_retransmission_in_flight_when_the_window_opens_is_not_marked_lost_again() {
    // Through the sender: when probing ends, the first segment is marked
    // lost only if it is neither SACKed nor already lost; a lost one that
    // was resent stays in the pipe as a retransmission.
    let cfg = plain();
    let iss = SeqNum(5000);
    let mut s = Sender::new(&cfg, iss);
    assert_eq!(s.queue(&[1; 100]), 100);
    s.una = iss + 1;
    s.nxt = iss + 101;
    s.wl1 = SeqNum(PEER_ISS);
    s.wl2 = iss + 1;
    s.record.push(iss + 1, 100, false, at_ms(0));
    assert!(s.record.mark_lost(0));
    s.record.retransmit(0, 100, at_ms(10));
    let mut timers = Timers::default();
    timers.set(TimerKind::Persist, at_ms(500));
    let input = AckInput {
        ack: iss + 1,
        seq: SeqNum(PEER_ISS + 1),
        window: 1000,
        sack: &[],
        tsecr: None,
        ts_now: 0,
        pure: true,
    };
    s.on_ack(at_ms(20), &input, &mut timers);
    assert_eq!(s.wnd, 1000);
    assert!(!timers.is_armed(TimerKind::Persist), "probing ended");
    let first = *s.record.first().unwrap();
    assert!(first.lost() && first.retransmitted(), "{first:?}");
    assert_eq!(s.pipe(), 100);
    assert_eq!(timers.get(TimerKind::Rto), Some(at_ms(20) + s.rtt.rto()));
}

#[test]
fn while_probing_the_persist_timer_not_the_rto_guards_a_resent_probe() {
    // A 100-byte probe of a 100-byte window, then a path MTU drop to 88
    // bytes: the probe goes again in pieces, and the persist timer (due
    // at 1100 ms) still guards it; no RTO is started for it.
    let (mut c, iss) = opened(plain(), TcpOptions::default(), 100);
    let una = iss.wrapping_add(1);
    feed(&mut c, at_ms(200), &ack(una).with_window(100));
    assert_eq!(c.send(&[9; 2000]), Ok(2000));
    assert!(drain(&mut c, at_ms(200)).is_empty());
    assert_eq!(c.poll_timeout(), Some(at_ms(500)));
    assert_eq!(run_timers(&mut c, at_ms(500)).len(), 1);
    assert_eq!(c.poll_timeout(), Some(at_ms(1100)));
    let verdict = c.on_path_mtu(at_ms(510), SeqNum(una), 88);
    assert_eq!(verdict, synack_tcp::IcmpVerdict::MssLowered);
    let out = drain(&mut c, at_ms(510));
    assert_eq!(resent(&out), [una, una + 88]);
    assert_eq!((out[0].len(), out[1].len()), (88, 12));
    assert_eq!(c.poll_timeout(), Some(at_ms(1100)));
}

// ---- the retransmission timeout ---------------------------------------------

#[test]
fn the_rto_gives_up_after_max_retries_retransmissions() {
    let cfg = Config {
        max_retries: 3,
        ..plain()
    };
    let (mut c, _) = opened(cfg, TcpOptions::default(), 100);
    assert_eq!(c.send(b"x"), Ok(1));
    drain(&mut c, at_ms(1000));
    // RFC 6298 §5.5: 300, 600, 1200 ms apart; the fourth expiry ends it.
    let sent = run_timers(&mut c, at_ms(60_000));
    let times: Vec<Instant> = sent.iter().map(|(t, _)| *t).collect();
    assert_eq!(times[..3], [at_ms(1300), at_ms(1900), at_ms(3100)]);
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.close_reason(), Some(synack_tcp::CloseReason::TimedOut));
    assert_eq!(c.stats().send.rto_expirations, 4);
    assert_eq!(c.stats().send.retransmits, 3);
}

#[test]
fn timeouts_in_a_row_lower_ssthresh_only_once() {
    // RFC 5681 §3.1: ssthresh is held when the segment the timer resends
    // was already resent by it. With CUBIC a second reduction would show:
    // β·cwnd of the one-segment loss window is the 2·SMSS floor.
    let (mut c, _) = opened(plain(), TcpOptions::default(), 100);
    let mss = u32::from(c.info().mss);
    assert_eq!(c.send(&vec![1; 10 * mss as usize]), Ok(10 * mss as usize));
    assert_eq!(drain(&mut c, at_ms(1000)).len(), 10);
    assert_eq!(run_timers(&mut c, at_ms(1300)).len(), 1);
    // RFC 9438 §4.6: ssthresh = 0.7 · 10 segments (in floating point).
    let held = c.info().ssthresh;
    assert!((7 * mss - 1..=7 * mss).contains(&held), "{held}");
    assert_eq!(c.info().cwnd, mss);
    assert_eq!(c.info().recovery, Phase::Loss);
    assert_eq!(run_timers(&mut c, at_ms(1900)).len(), 1);
    assert_eq!(c.stats().send.rto_expirations, 2);
    assert_eq!((c.info().cwnd, c.info().ssthresh), (mss, held));
}

#[test]
fn an_rto_after_progress_in_the_loss_phase_lowers_ssthresh_again() {
    // RFC 5681 §3.1 holds ssthresh only for timeouts in a row; after an
    // ACK of new data the next timeout recomputes it from the flight, as
    // Linux's tcp_enter_loss does (CA_Loss with no retransmits counted).
    let (mut c, iss) = opened(newreno(), TcpOptions::default(), 100);
    let mss = u32::from(c.info().mss);
    let s = |k: u32| iss.wrapping_add(1 + k * mss);
    assert_eq!(c.send(&vec![1; 10 * mss as usize]), Ok(10 * mss as usize));
    assert_eq!(drain(&mut c, at_ms(1000)).len(), 10);
    let sent = run_timers(&mut c, at_ms(1300));
    assert_eq!(sent.len(), 1);
    assert_eq!((c.info().cwnd, c.info().ssthresh), (mss, 5 * mss));
    feed(&mut c, at_ms(1400), &ack(s(1)));
    assert_eq!(c.info().recovery, Phase::Loss);
    assert_eq!(resent(&drain(&mut c, at_ms(1400))), [s(1), s(2)]);
    // Nothing more comes back: the second timeout, nine segments out.
    let due = c.poll_timeout().unwrap();
    let sent = run_timers(&mut c, due);
    assert_eq!(sent.len(), 1);
    assert_eq!(
        (c.info().cwnd, c.info().ssthresh),
        (mss, 9 * mss / 2),
        "max(FlightSize/2, 2·SMSS)"
    );
    // In a row, without progress: held.
    let due = c.poll_timeout().unwrap();
    run_timers(&mut c, due);
    assert_eq!((c.info().cwnd, c.info().ssthresh), (mss, 9 * mss / 2));
}

// ---- what goes when ----------------------------------------------------------

/// `newreno()` opened with a 100 ms round trip (RTO 300 ms), `n` full
/// segments sent at 1000 ms, all lost: the RTO at 1300 ms resends the
/// first. With `fin`, the last segment carries the FIN.
fn timed_out(n: u32, fin: bool) -> (Connection, impl Fn(u32) -> u32, u32) {
    let (mut c, iss) = opened(newreno(), TcpOptions::default(), 100);
    let mss = u32::from(c.info().mss);
    let bytes = (n * mss) as usize;
    assert_eq!(c.send(&vec![1; bytes]), Ok(bytes));
    if fin {
        c.shutdown(at_ms(1000));
    }
    assert_eq!(drain(&mut c, at_ms(1000)).len(), n as usize);
    let s = move |k: u32| iss.wrapping_add(1 + k * mss);
    let sent = run_timers(&mut c, at_ms(1300));
    assert_eq!(sent.len(), 1, "cwnd is one segment: {sent:?}");
    assert_eq!(sent[0].1.seq, s(0));
    (c, s, mss)
}

#[test]
fn after_an_rto_retransmissions_are_clocked_by_cwnd() {
    // RFC 6675 §5 / RFC 5681: a lost segment goes only while pipe plus
    // its length fits cwnd (or nothing is in flight).
    let (mut c, s, mss) = timed_out(5, false);
    // ssthresh = 2.5 segments; slow start: cwnd 2, then 3 segments.
    feed(&mut c, at_ms(1400), &ack(s(1)));
    assert_eq!(c.info().cwnd, 2 * mss);
    assert_eq!(resent(&drain(&mut c, at_ms(1400))), [s(1), s(2)], "2 = 2");
    feed(&mut c, at_ms(1500), &ack(s(2)));
    assert_eq!(c.info().cwnd, 3 * mss);
    assert_eq!(
        resent(&drain(&mut c, at_ms(1500))),
        [s(3), s(4)],
        "1 + 1 < 3"
    );
}

#[test]
fn a_lost_fin_counts_its_sequence_byte_against_cwnd() {
    // Segment 2 carries the FIN: one sequence number more than cwnd has
    // room for next to segment 1, so it waits.
    let (mut c, s, mss) = timed_out(3, true);
    feed(&mut c, at_ms(1400), &ack(s(1)));
    assert_eq!(c.info().cwnd, 2 * mss);
    let out = drain(&mut c, at_ms(1400));
    assert_eq!(resent(&out), [s(1)], "{out:?}");
    // Once segment 1 is acknowledged it goes, its data and the FIN in one
    // segment (the FIN takes no payload room: no FIN-only segment after).
    feed(&mut c, at_ms(1500), &ack(s(2)));
    let out = drain(&mut c, at_ms(1500));
    assert_eq!(resent(&out)[0], s(2), "{out:?}");
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(out[0].flags.fin() && out[0].len() == 536, "{out:?}");
    // Every data byte went again once; the FIN is no payload.
    assert_eq!(c.stats().send.bytes_retransmitted, 3 * 536);
    assert!(out
        .iter()
        .all(|o| o.seq.wrapping_add(o.len() as u32) <= s(3)));
}

#[test]
fn with_nothing_in_flight_a_lost_segment_goes_even_if_larger_than_cwnd() {
    // One full segment and the FIN (537 sequence numbers) against a
    // one-segment loss window: with the pipe empty it goes anyway
    // (`timed_out` checks that the RTO resent segment 0).
    let (c, _, mss) = timed_out(1, true);
    assert_eq!(c.info().cwnd, mss);
    assert_eq!(c.stats().send.retransmits, 1);
}

#[test]
fn a_fast_retransmit_does_not_restart_the_retransmission_timer() {
    let (mut c, iss) = opened(plain(), TcpOptions::default(), 100);
    let mss = u32::from(c.info().mss);
    assert_eq!(c.send(&vec![1; 5 * mss as usize]), Ok(5 * mss as usize));
    assert_eq!(drain(&mut c, at_ms(1000)).len(), 5);
    for k in 0..3 {
        feed(&mut c, at_ms(1100 + k), &ack(iss.wrapping_add(1)));
    }
    assert_eq!(resent(&drain(&mut c, at_ms(1102))), [iss.wrapping_add(1)]);
    // RFC 6298 §5.1 arms the timer when it is off; it was not.
    assert_eq!(c.poll_timeout(), Some(at_ms(1300)));
}

/// `newreno()` with cwnd grown to 12 segments by an ACK of five of ten
/// sent at 1000 ms (the rest acknowledged at 1101 ms, SRTT 100 ms, RTO
/// 250 ms); returns it, a function for segment starts and the MSS.
fn grown() -> (Connection, impl Fn(u32) -> u32, u32) {
    let (mut c, iss) = opened(newreno(), TcpOptions::default(), 100);
    let mss = u32::from(c.info().mss);
    let s = move |k: u32| iss.wrapping_add(1 + k * mss);
    assert_eq!(c.send(&vec![1; 10 * mss as usize]), Ok(10 * mss as usize));
    assert_eq!(drain(&mut c, at_ms(1000)).len(), 10);
    feed(&mut c, at_ms(1100), &ack(s(5)));
    assert_eq!(c.info().cwnd, 12 * mss);
    (c, s, mss)
}

#[test]
fn after_an_idle_rto_cwnd_restarts_from_the_initial_window() {
    // RFC 5681 §4.1: idle (nothing in flight) longer than one RTO.
    let (mut c, s, mss) = grown();
    feed(&mut c, at_ms(1101), &ack(s(10)));
    let cwnd = c.info().cwnd;
    assert!(cwnd > 10 * mss);
    // Exactly one RTO since the last send (at 1000 ms): not yet.
    let t1 = at_ms(1000) + c.info().rto;
    assert_eq!(c.send(&[1; 10]), Ok(10));
    assert_eq!(drain(&mut c, t1).len(), 1);
    assert_eq!(c.info().cwnd, cwnd);
    feed(&mut c, t1 + ms(50), &ack(s(10) + 10));
    let cwnd = c.info().cwnd;
    // 1 µs more than an RTO after that send.
    let t2 = t1 + c.info().rto + Duration::from_micros(1);
    assert_eq!(c.send(&[1; 10]), Ok(10));
    assert_eq!(drain(&mut c, t2).len(), 1);
    assert_eq!(c.info().cwnd, 10 * mss, "was {cwnd}");
}

#[test]
fn a_quiet_spell_with_data_in_flight_is_not_idle() {
    let (mut c, _, mss) = grown();
    // Five segments still out; the application writes 400 ms after the
    // last send, more than an RTO.
    assert_eq!(c.send(&vec![1; mss as usize]), Ok(mss as usize));
    assert_eq!(drain(&mut c, at_ms(1400)).len(), 1);
    assert_eq!(c.info().cwnd, 12 * mss);
}

#[test]
fn a_bare_fin_waits_for_room_in_a_full_cwnd() {
    let (mut c, iss) = opened(newreno(), TcpOptions::default(), 100);
    let mss = u32::from(c.info().mss);
    let s = |k: u32| iss.wrapping_add(1 + k * mss);
    assert_eq!(c.send(&vec![1; 10 * mss as usize]), Ok(10 * mss as usize));
    assert_eq!(drain(&mut c, at_ms(1000)).len(), 10);
    c.shutdown(at_ms(1010));
    assert!(drain(&mut c, at_ms(1010)).is_empty(), "cwnd is full");
    feed(&mut c, at_ms(1100), &ack(s(1)));
    let out = drain(&mut c, at_ms(1100));
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(out[0].flags.fin() && out[0].payload.is_empty());
    assert_eq!(out[0].seq, s(10));
}

#[test]
fn a_bare_fin_goes_at_once_when_cwnd_has_room() {
    let (mut c, iss) = opened(newreno(), TcpOptions::default(), 100);
    let mss = u32::from(c.info().mss);
    assert_eq!(c.send(&vec![1; 2 * mss as usize]), Ok(2 * mss as usize));
    assert_eq!(drain(&mut c, at_ms(1000)).len(), 2);
    c.shutdown(at_ms(1010));
    let out = drain(&mut c, at_ms(1010));
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(out[0].flags.fin());
    assert_eq!(out[0].seq, iss.wrapping_add(1 + 2 * mss));
}

// ---- sender SWS avoidance -----------------------------------------------------

#[test]
fn sws_sends_a_window_cut_segment_of_at_least_half_the_largest_window() {
    // RFC 9293 §3.8.6.2.1: send if the usable window allows at least
    // Fs·Max(SND.WND) (Fs = 1/2). The peer's MSS is 1460 but its window
    // only 1000: 1000 bytes go at once.
    let mut opts = TcpOptions::default();
    opts.mss = Some(1460);
    let mut c = active_at(plain(), Instant::ZERO, IsnSecret::from_seed(2));
    let iss = drain(&mut c, Instant::ZERO)[0].seq;
    let mut syn_ack = seg(
        PEER_ISS,
        iss.wrapping_add(1),
        TcpFlags::SYN | TcpFlags::ACK,
        b"",
    )
    .with_window(1000);
    syn_ack.options = opts;
    feed(&mut c, at_ms(100), &syn_ack);
    drain(&mut c, at_ms(100));
    let una = iss.wrapping_add(1);
    assert_eq!(c.send(&[1; 3000]), Ok(3000));
    let out = drain(&mut c, at_ms(200));
    assert_eq!(
        data_segments(&out),
        [(una, 1000, Some(SegmentKind::Data(SendKind::New)))]
    );
    // 499 bytes of window: less than half of 1000, held.
    feed(&mut c, at_ms(300), &ack(una + 1000).with_window(499));
    assert!(drain(&mut c, at_ms(300)).is_empty());
    // 500: exactly half, sent.
    feed(&mut c, at_ms(301), &ack(una + 1000).with_window(500));
    let out = drain(&mut c, at_ms(301));
    assert_eq!(
        data_segments(&out),
        [(una + 1000, 500, Some(SegmentKind::Data(SendKind::New)))]
    );
}

#[test]
fn a_peer_whose_window_never_exceeds_one_byte_is_only_probed() {
    // Half of the largest window is zero bytes: nothing is "at least half"
    // of it, so each byte waits for the persist timer.
    let mut c = active_at(plain(), Instant::ZERO, IsnSecret::from_seed(2));
    let iss = drain(&mut c, Instant::ZERO)[0].seq;
    let syn_ack = seg(
        PEER_ISS,
        iss.wrapping_add(1),
        TcpFlags::SYN | TcpFlags::ACK,
        b"",
    )
    .with_window(1);
    feed(&mut c, at_ms(100), &syn_ack);
    drain(&mut c, at_ms(100));
    assert_eq!(c.send(&[1; 100]), Ok(100));
    assert!(drain(&mut c, at_ms(200)).is_empty());
    assert_eq!(c.poll_timeout(), Some(at_ms(200) + c.info().rto));
}

// ---- the invariant checker -------------------------------------------------

#[test]
fn check_reports_a_sender_out_of_shape() {
    let cfg = plain();
    let iss = SeqNum(5000);
    let mut s = Sender::new(&cfg, iss);
    assert_eq!(s.check(), Ok(()));
    // SND.UNA beyond SND.NXT.
    s.una = iss + 10;
    assert_eq!(s.check(), Err("snd_una after snd_nxt"));
    // More sent than the record holds (beyond the SYN's one).
    let mut s = Sender::new(&cfg, iss);
    s.nxt = iss + 2;
    assert!(s.check().is_err());
    s.nxt = iss + 1;
    assert_eq!(s.check(), Ok(()));
    // A FIN with data queued after it.
    let mut s = Sender::new(&cfg, iss);
    assert_eq!(s.queue(b"abc"), 3);
    s.queue_fin();
    assert_eq!(s.check(), Ok(()));
    assert_eq!(s.queue(b"de"), 2);
    assert_eq!(s.check(), Err("FIN not right after the last queued byte"));
}

// ---- NewReno partial ACKs -------------------------------------------------

#[test]
fn an_ack_of_part_of_the_flight_outside_recovery_resends_nothing() {
    let (mut c, iss) = opened(plain(), TcpOptions::default(), 100);
    let mss = u32::from(c.info().mss);
    assert_eq!(c.send(&vec![1; 3 * mss as usize]), Ok(3 * mss as usize));
    assert_eq!(drain(&mut c, at_ms(1000)).len(), 3);
    feed(&mut c, at_ms(1100), &ack(iss.wrapping_add(1 + mss)));
    assert!(drain(&mut c, at_ms(1100)).is_empty());
    assert_eq!(c.stats().send.retransmits, 0);
    assert_eq!(c.info().in_flight, 2 * mss);
}

#[test]
fn a_duplicate_ack_outside_recovery_does_not_grow_cwnd() {
    // RFC 5681 §3.1: cwnd grows only for ACKs of new data; RFC 3042: the
    // first two duplicate ACKs MUST NOT change it. (Without SACK a
    // duplicate ACK used to count as a segment delivered, in slow start
    // too: each of the first two grew cwnd by one segment.)
    let (mut c, iss) = established(plain(), TcpOptions::default());
    let mss = usize::from(c.info().mss);
    assert_eq!(c.send(&vec![7; 20 * mss]), Ok(20 * mss));
    let first = drain(&mut c, at_ms(1000)).len();
    assert!(first > 0);
    let cwnd = c.info().cwnd;
    let dup = seg(PEER_ISS + 1, iss.wrapping_add(1), TcpFlags::ACK, b"");
    feed(&mut c, at_ms(1100), &dup);
    drain(&mut c, at_ms(1100));
    assert_eq!(c.info().cwnd, cwnd, "the first duplicate ACK");
    feed(&mut c, at_ms(1101), &dup);
    drain(&mut c, at_ms(1101));
    assert_eq!(c.info().cwnd, cwnd, "the second duplicate ACK");
}
