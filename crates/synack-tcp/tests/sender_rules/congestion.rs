//! cwnd and loss: duplicate ACKs, growth and cwnd-limited rounds, the end
//! of recovery, SACK loss detection and NewReno's partial ACKs.

use super::*;

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
