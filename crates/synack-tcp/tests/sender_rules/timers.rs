//! The sender's timers: the retransmission timer and timeout, tail loss
//! probes, and zero-window probing.

use super::*;

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
    // The probe is reported as it goes, before whatever its ACK brings
    // (a trace must not show the effect before the cause).
    assert_eq!(recovery_events(&mut c), [RecoveryEvent::TailLossProbe]);
    feed(&mut c, at_ms(1300), &ack(s(2)));
    assert_eq!(recovery_events(&mut c), [RecoveryEvent::TlpRecovered]);
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

// ---- zero-window probing ---------------------------------------------------

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
