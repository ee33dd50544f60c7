//! What goes when: the send buffer, a path MTU drop, which segment a
//! sender sends next, sender SWS avoidance, and the invariant checker.

use super::*;

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
    // One segment of the peer's 536-byte MSS goes; Nagle holds the rest.
    assert_eq!(drain(&mut c, at_ms(10)).len(), 1);
    feed(&mut c, at_ms(20), &ack(iss.wrapping_add(537)));
    assert_eq!(c.send_queue(), 464, "the ACK freed room");
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
    assert_eq!(s.check(false), Ok(()));
    // SND.UNA beyond SND.NXT.
    s.una = iss + 10;
    assert_eq!(s.check(false), Err("snd_una after snd_nxt"));
    // More sent than the record holds (beyond the SYN's one).
    let mut s = Sender::new(&cfg, iss);
    s.nxt = iss + 2;
    assert!(s.check(false).is_err());
    s.nxt = iss + 1;
    assert_eq!(s.check(false), Ok(()));
    // Once CLOSED the record is flushed: what was sent is no longer held,
    // and a record that still holds a segment is out of shape.
    s.nxt = iss + 2;
    assert_eq!(s.check(true), Ok(()));
    let mut t = Timers::default();
    assert_eq!(s.queue(b"x"), 1);
    s.nxt = iss + 1;
    s.una = iss + 1;
    s.wnd = 65535;
    assert!(s.next_segment(Instant::ZERO, 536, false, &mut t).is_some());
    assert_eq!(s.check(true), Err("segments in flight after CLOSED"));
    // A FIN with data queued after it.
    let mut s = Sender::new(&cfg, iss);
    assert_eq!(s.queue(b"abc"), 3);
    s.queue_fin();
    assert_eq!(s.check(false), Ok(()));
    assert_eq!(s.queue(b"de"), 2);
    assert_eq!(
        s.check(false),
        Err("FIN not right after the last queued byte")
    );
}
