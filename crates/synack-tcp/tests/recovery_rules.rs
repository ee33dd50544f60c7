//! Rules of loss recovery and its clocks that show only at their edges:
//!
//! * RACK (RFC 8985 §6.2): a segment sent before the most recently sent
//!   delivered one is lost after RACK.rtt plus a reordering window of a
//!   quarter of the minimum RTT (step 5), or at once when loss is evident
//!   and no reordering has been seen (step 4); an original segment SACKed
//!   faster than the minimum RTT still counts, a retransmission ACKed
//!   faster than it does not, one ACKed in exactly that time does (step 2);
//!   every segment sent before RACK's is judged, even one behind a later
//!   retransmission in sequence order; only a transmission sent after
//!   RACK's moves RACK.xmit_ts and RACK.rtt; in-order deliveries are not
//!   reordering (step 3); a D-SACK-grown window lasts through the recoveries
//!   after it, then falls back (step 4); after an RTO RACK forgets its
//!   segment;
//! * PRR (RFC 6937 §3.1): the proportional part only while pipe > ssthresh;
//! * the RTO estimator (RFC 6298): each timeout reports how often the RTO
//!   is backed off (§5.5), the latest sample is the one HyStart++ sees
//!   (RFC 9406), SRTT before any sample is the unbacked RTO, the RTO's
//!   ceiling bounds zero-window probing, and no sample is lost to the
//!   "none" sentinel;
//! * the timer table: a deadline past the end of the clock stays armed;
//! * the names and descriptions that traces, the ladder and `ss`-style
//!   output print (phases, recovery events, timers).

mod common;

use common::*;
use synack_tcp::recovery::{Prr, Rack};
use synack_tcp::rtt::RttEstimator;
use synack_tcp::sender::record::{Record, Sent};
use synack_tcp::timer::{TimerKind, Timers};
use synack_tcp::{
    Config, Connection, Duration, Event, Instant, IsnSecret, Phase, RecoveryEvent, SegmentKind,
    SendKind, SeqNum, State,
};
use synack_wire::{SackBlock, TcpFlags, TcpOptions};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// An active open whose SYN-ACK (offering SACK) arrives `rtt_ms` after the
/// SYN: SRTT = min RTT = `rtt_ms`, RTO = 3·`rtt_ms`. Its ISS lies in the
/// lower half of the sequence space (`opened_high` gives one in the upper
/// half).
fn opened_after(rtt_ms: u64) -> (Connection, u32) {
    let (c, iss) = opened_with(rtt_ms, IsnSecret::from_seed(2));
    assert!(iss < 1 << 31, "ISS {iss:#x}");
    (c, iss)
}

fn opened_with(rtt_ms: u64, secret: IsnSecret) -> (Connection, u32) {
    let mut c = active_at(with_sack(), Instant::ZERO, secret);
    let iss = drain(&mut c, Instant::ZERO)[0].seq;
    let mut syn_ack = seg(
        PEER_ISS,
        iss.wrapping_add(1),
        TcpFlags::SYN | TcpFlags::ACK,
        b"",
    );
    syn_ack.options.sack_permitted = true;
    feed(&mut c, at_ms(rtt_ms), &syn_ack);
    drain(&mut c, at_ms(rtt_ms));
    assert_eq!(c.state(), State::Established);
    assert_eq!(
        (c.info().srtt, c.info().min_rtt),
        (Some(ms(rtt_ms)), Some(ms(rtt_ms)))
    );
    (c, iss)
}

/// `opened_after(100)`, then `n` full segments sent at 1000 ms; returns
/// the connection and the start of segment `k` (k = 0..=n) as a function.
fn in_flight(n: u32) -> (Connection, impl Fn(u32) -> u32) {
    let (mut c, iss) = opened_after(100);
    let mss = u32::from(c.info().mss);
    assert_eq!(c.send(&vec![7; (n * mss) as usize]), Ok((n * mss) as usize));
    let out = drain(&mut c, at_ms(1000));
    assert_eq!(out.len(), n as usize);
    (c, move |k: u32| iss.wrapping_add(1 + k * mss))
}

/// A pure ACK of `ack` carrying these SACK blocks.
fn sack_ack(ack: u32, blocks: &[(u32, u32)]) -> Out {
    let mut a = seg(PEER_ISS + 1, ack, TcpFlags::ACK, b"");
    for &(left, right) in blocks {
        assert!(a.options.push_sack_block(SackBlock { left, right }));
    }
    a
}

/// The sequence numbers of the retransmissions among `out`.
fn resent(out: &[Out]) -> Vec<u32> {
    out.iter()
        .filter(|s| s.kind == Some(SegmentKind::Data(SendKind::Retransmit)))
        .map(|s| s.seq)
        .collect()
}

/// The recovery events `c` has queued, with their times.
fn recovery_events(c: &mut Connection) -> Vec<(Instant, RecoveryEvent)> {
    events(c)
        .into_iter()
        .filter_map(|e| match e {
            Event::Recovery { at, event, .. } => Some((at, event)),
            _ => None,
        })
        .collect()
}

// ---- RACK through a connection ------------------------------------------

#[test]
fn rack_waits_rack_rtt_plus_a_quarter_of_the_min_rtt_before_declaring_loss() {
    // RFC 8985 §6.2: segment 1 (sent at 1000 ms) is SACKed at 1090 ms:
    // RACK.rtt = 90 ms. It was an original, so it counts although 90 ms is
    // below the 100 ms minimum RTT (step 2 filters retransmissions only).
    // Segment 0, sent before it, is lost at 1000 + 90 + 100/4 = 1115 ms
    // (steps 4-5, no loss evident yet); not a moment sooner.
    let (mut c, s) = in_flight(4);
    feed(&mut c, at_ms(1090), &sack_ack(s(0), &[(s(1), s(2))]));
    assert!(drain(&mut c, at_ms(1090)).is_empty());
    assert_eq!(c.poll_timeout(), Some(at_ms(1115)), "the reorder timer");
    c.handle_timeout(at_ms(1114));
    assert!(drain(&mut c, at_ms(1114)).is_empty());
    c.handle_timeout(at_ms(1115));
    let out = drain(&mut c, at_ms(1115));
    assert_eq!(resent(&out), [s(0)], "{out:?}");
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(
        recovery_events(&mut c),
        [(at_ms(1115), RecoveryEvent::RackLoss)]
    );
    assert_eq!(c.info().recovery, Phase::Recovery);
}

/// `in_flight(4)` after RACK resent segment 0 at 1115 ms.
fn segment_zero_resent_by_rack() -> (Connection, impl Fn(u32) -> u32) {
    let (mut c, s) = in_flight(4);
    feed(&mut c, at_ms(1090), &sack_ack(s(0), &[(s(1), s(2))]));
    drain(&mut c, at_ms(1090));
    c.handle_timeout(at_ms(1115));
    assert_eq!(resent(&drain(&mut c, at_ms(1115))), [s(0)]);
    (c, s)
}

#[test]
fn an_ack_of_a_retransmission_faster_than_the_min_rtt_is_for_the_original() {
    // RFC 8985 §6.2 step 2: 5 ms after the retransmission the ACK cannot
    // be for it; RACK stays with segment 1. Taken as the retransmission's,
    // it would condemn segments 2 and 3 (sent before it, 5 ms RTT).
    let (mut c, s) = segment_zero_resent_by_rack();
    feed(&mut c, at_ms(1120), &sack_ack(s(2), &[]));
    let out = drain(&mut c, at_ms(1120));
    assert!(out.is_empty(), "{out:?}");
    assert_eq!(c.stats().send.retransmits, 1);
}

#[test]
fn an_ack_of_a_retransmission_after_exactly_the_min_rtt_is_for_it() {
    // The filter is RTT < min RTT, strictly: at 1215 ms (100 ms after the
    // retransmission) the ACK is the retransmission's. Segments 2 and 3
    // were sent before it and are overdue (RACK.rtt 100 ms, no window in
    // recovery): both are resent at once.
    let (mut c, s) = segment_zero_resent_by_rack();
    feed(&mut c, at_ms(1215), &sack_ack(s(2), &[]));
    let out = drain(&mut c, at_ms(1215));
    assert_eq!(resent(&out), [s(2), s(3)], "{out:?}");
}

#[test]
fn rack_judges_segments_behind_a_later_retransmission_in_sequence_order() {
    // RFC 8985 §6.2 step 5 looks at every segment sent before RACK's, not
    // only those up to the first one sent after it: segment 0 (resent at
    // 1115 ms, after RACK's segment) comes first in sequence order, but
    // segment 2 behind it was sent at 1000 ms, before segment 3, which is
    // SACKed at 1120 ms (RACK.rtt 120 ms): due at 1120 ms exactly.
    let (mut c, s) = segment_zero_resent_by_rack();
    feed(
        &mut c,
        at_ms(1120),
        &sack_ack(s(0), &[(s(3), s(4)), (s(1), s(2))]),
    );
    let out = drain(&mut c, at_ms(1120));
    assert_eq!(resent(&out), [s(2)], "{out:?}");
}

#[test]
fn rack_fack_starts_at_the_iss_wherever_it_lies() {
    // RACK.fack began at sequence number 0: from an ISS in the upper half
    // of the space the first in-order delivery lay "below" it and counted
    // as reordering, so in recovery RACK kept a window of min RTT/4 that
    // RFC 8985 §6.2 step 4 says must be zero. The same losses as below,
    // from an ISS above 2^31.
    let (mut c, iss) = opened_with(100, IsnSecret::from_seed(1));
    assert!(iss >= 1 << 31, "ISS {iss:#x}");
    let mss = u32::from(c.info().mss);
    assert_eq!(c.send(&vec![7; (5 * mss) as usize]), Ok((5 * mss) as usize));
    assert_eq!(drain(&mut c, at_ms(1000)).len(), 5);
    let s = |k: u32| iss.wrapping_add(1 + k * mss);
    feed(&mut c, at_ms(1090), &sack_ack(s(0), &[(s(2), s(5))]));
    let out = drain(&mut c, at_ms(1090));
    assert_eq!(resent(&out), [s(0), s(1)], "{out:?}");
}

#[test]
fn with_loss_evident_and_no_reordering_seen_rack_has_no_window() {
    // RFC 8985 §6.2 step 4: three segments SACKed above the first hole
    // (RFC 6675 loss), and no reordering seen: RACK.reo_wnd = 0, so
    // segment 1 (sent before the SACKed ones) is lost at once along with
    // segment 0, not a quarter of the min RTT later.
    let (mut c, s) = in_flight(5);
    feed(&mut c, at_ms(1090), &sack_ack(s(0), &[(s(2), s(5))]));
    let out = drain(&mut c, at_ms(1090));
    assert_eq!(resent(&out), [s(0), s(1)], "{out:?}");
    assert_eq!(
        recovery_events(&mut c),
        [(at_ms(1090), RecoveryEvent::SackLoss)]
    );
}

// ---- RACK's state, step by step -------------------------------------------

/// A record of `n` 100-byte segments from sequence number 1000, segment
/// `k` sent at `sent_ms[k]`.
fn record(sent_ms: &[u64]) -> Record {
    let mut r = Record::default();
    for (k, &t) in sent_ms.iter().enumerate() {
        r.push(SeqNum(1000 + 100 * k as u32), 100, false, at_ms(t));
    }
    r
}

/// SACKs segment `k` of `r`; returns it as delivered.
fn sack(r: &mut Record, k: u32) -> Sent {
    let start = SeqNum(1000 + 100 * k);
    r.sack(start, start + 100).newest.expect("newly SACKed")
}

#[test]
fn only_a_transmission_sent_after_racks_moves_rack_rtt() {
    // RFC 8985 §6.2 step 2: RACK.xmit_ts/RACK.rtt change only for a segment
    // sent after RACK's. The same transmission reported again (later) is
    // not newer: RACK.rtt stays 50 ms, segment 0 is due at 0 + 50 + 5.
    let mut r = record(&[0, 2, 3]);
    let s1 = sack(&mut r, 1);
    let mut rack = Rack::default();
    rack.on_delivered(at_ms(52), &s1, None);
    rack.on_delivered(at_ms(80), &s1, None);
    assert_eq!(
        rack.detect_loss(at_ms(54), ms(5), &mut r),
        (0, Some(at_ms(55)))
    );
    // A later transmission does move it: segment 2 at 90 ms, RACK.rtt 87.
    let s2 = sack(&mut r, 2);
    rack.on_delivered(at_ms(90), &s2, None);
    assert_eq!(
        rack.detect_loss(at_ms(90), ms(5), &mut r),
        (0, Some(at_ms(92)))
    );
}

#[test]
fn in_order_deliveries_are_not_reordering_a_late_original_is() {
    // RFC 8985 §6.2 step 3: reordering is an original segment delivered
    // below RACK.fack; a retransmission arriving there is not.
    let mut r = record(&[0, 1, 2, 3]);
    let mut rack = Rack::default();
    let d = r.ack(SeqNum(1100)).newest.unwrap();
    rack.on_delivered(at_ms(50), &d, None);
    let d = sack(&mut r, 3);
    rack.on_delivered(at_ms(53), &d, None);
    assert!(!rack.reordering_seen, "in order so far");
    // Segment 1 lost and resent; its retransmission lands below RACK.fack.
    assert!(r.mark_lost(0));
    let retx = r.retransmit(0, 100, at_ms(60));
    assert_eq!(retx.xmits, 2);
    let d = sack(&mut r, 1);
    rack.on_delivered(at_ms(110), &d, Some(ms(50)));
    assert!(!rack.reordering_seen, "a retransmission is not reordering");
    // Segment 2, an original, arrives after segment 3: reordering.
    let d = sack(&mut r, 2);
    rack.on_delivered(at_ms(120), &d, Some(ms(50)));
    assert!(rack.reordering_seen);
}

#[test]
fn a_dsack_grown_window_lasts_through_the_next_recoveries_then_falls_back() {
    // RFC 8985 §6.2 step 4: a D-SACK doubles RACK.reo_wnd (min RTT/4 · 2)
    // and RACK.reo_wnd_persist = 16 keeps it for the following recoveries;
    // after them RACK.reo_wnd_mult is 1 again: the 16th exit resets it.
    let mut rack = Rack::default();
    let wnd = |rack: &Rack| rack.reo_wnd(false, Some(ms(40)), ms(100));
    assert_eq!(wnd(&rack), ms(10));
    rack.on_dsack(SeqNum(0), SeqNum(5000));
    assert_eq!(wnd(&rack), ms(20));
    rack.on_recovery_end();
    assert_eq!(wnd(&rack), ms(20), "one recovery later");
    for _ in 1..15 {
        rack.on_recovery_end();
    }
    assert_eq!(wnd(&rack), ms(20), "fifteen recoveries later");
    rack.on_recovery_end();
    assert_eq!(wnd(&rack), ms(10), "sixteen recoveries later");
    // And stays there.
    for _ in 0..20 {
        rack.on_recovery_end();
    }
    assert_eq!(wnd(&rack), ms(10));
}

#[test]
fn after_an_rto_rack_forgets_its_segment() {
    // Segment 2 (sent at 20 ms) SACKed at 30 ms: RACK.rtt 10 ms. Then an
    // RTO: RACK judges nothing until something is delivered again ...
    let mut r = record(&[0, 10, 20]);
    let mut rack = Rack::default();
    let d = sack(&mut r, 2);
    rack.on_delivered(at_ms(30), &d, None);
    rack.reset_after_rto();
    assert_eq!(rack.detect_loss(at_ms(100), ms(15), &mut r), (0, None));
    // ... and then the delivered segment is RACK's, even one sent before
    // the forgotten one: segment 1 (10 ms) at 36 ms, RACK.rtt 26 ms;
    // segment 0 is due at 0 + 26 + 15.
    let d = sack(&mut r, 1);
    rack.on_delivered(at_ms(36), &d, None);
    assert_eq!(
        rack.detect_loss(at_ms(36), ms(15), &mut r),
        (0, Some(at_ms(41)))
    );
}

// ---- PRR ----------------------------------------------------------------

#[test]
fn prr_sends_in_proportion_only_while_pipe_exceeds_ssthresh() {
    // RFC 6937 §3.1: "if (pipe > ssthresh)" the proportional part, else
    // PRR-SSRB, which sends nothing while pipe = ssthresh.
    let mss = 1000;
    let mut prr = Prr::start(20 * mss);
    assert_eq!(
        prr.sndcnt(mss, 10 * mss, 10 * mss, mss),
        0,
        "pipe = ssthresh"
    );
    // One byte above: CEIL(prr_delivered · ssthresh / RecoverFS) − prr_out
    // = CEIL(2000 · 10000 / 20000) − 0.
    assert_eq!(prr.sndcnt(mss, 10 * mss + 1, 10 * mss, mss), 1000);
    // Below: MIN(ssthresh − pipe, MAX(prr_delivered − prr_out,
    // DeliveredData) + MSS) = MIN(4000, 3000 + 1000).
    assert_eq!(prr.sndcnt(mss, 6 * mss, 10 * mss, mss), 4000);
}

// ---- the RTO estimator ------------------------------------------------------

#[test]
fn each_rto_reports_how_often_the_rto_is_backed_off() {
    // RFC 6298 §5.5: every expiry doubles the RTO; the event says by how
    // much (200 ms, then 400, then 800: min RTO, no RTT measured but 0).
    let (mut c, _) = established(plain(), TcpOptions::default());
    assert_eq!(c.send(b"data"), Ok(4));
    drain(&mut c, at_ms(0));
    assert_eq!(c.poll_timeout(), Some(at_ms(200)));
    c.handle_timeout(at_ms(200));
    assert_eq!(resent(&drain(&mut c, at_ms(200))).len(), 1);
    let ev = recovery_events(&mut c);
    assert_eq!(ev, [(at_ms(200), RecoveryEvent::Timeout { backoff: 1 })]);
    assert_eq!(
        ev[0].1.describe(),
        "retransmission timeout (RTO backed off ×2)"
    );
    assert_eq!(c.info().recovery, Phase::Loss);
    assert_eq!(c.info().recovery.name(), "loss");
    assert_eq!(c.poll_timeout(), Some(at_ms(600)));
    c.handle_timeout(at_ms(600));
    let ev = recovery_events(&mut c);
    assert_eq!(ev, [(at_ms(600), RecoveryEvent::Timeout { backoff: 2 })]);
    assert_eq!(
        ev[0].1.describe(),
        "retransmission timeout (RTO backed off ×4)"
    );
    assert_eq!(c.poll_timeout(), Some(at_ms(1400)));
}

#[test]
fn the_estimator_counts_backoffs_until_the_next_sample() {
    let mut e = RttEstimator::new(ms(1000), ms(200), ms(60_000));
    assert_eq!(e.backoffs(), 0);
    e.back_off();
    assert_eq!(e.backoffs(), 1);
    e.back_off();
    assert_eq!((e.backoffs(), e.rto()), (2, ms(4000)));
    e.sample(ms(100));
    assert_eq!(e.backoffs(), 0);
}

#[test]
fn the_latest_sample_is_the_last_measurement_not_the_smoothed_one() {
    let mut e = RttEstimator::new(ms(1000), ms(200), ms(60_000));
    assert_eq!(e.latest(), None);
    e.sample(ms(100));
    assert_eq!(e.latest(), Some(ms(100)));
    e.sample(ms(40));
    assert_eq!(e.latest(), Some(ms(40)));
    // SRTT = 7/8 · 100 + 1/8 · 40 (RFC 6298 §2.3).
    assert_eq!(e.srtt(), Some(Duration::from_micros(92_500)));
}

#[test]
fn hystart_ends_slow_start_on_the_rising_rtt_before_any_loss() {
    // RFC 9406: HyStart++ watches each ACK's RTT sample. A 10 Mbit/s
    // bottleneck with an unbounded queue never drops, so only the queueing
    // delay it builds can end slow start (ssthresh leaves "infinite").
    let cfg = Config {
        send_buffer: 1 << 20,
        recv_buffer: 1 << 20,
        ..modern()
    };
    assert!(cfg.hystart);
    let mut p = Path::open(cfg.clone(), cfg, ms(10));
    p.rate = Some(10_000_000);
    p.run_until(|p| p.a.state() == State::Established && p.b.state() == State::Established);
    let data = pattern(1 << 20);
    assert_eq!(transfer(&mut p, &data), data);
    let st = p.a.stats().send;
    assert_eq!(
        (st.retransmits, st.fast_recoveries, st.rto_expirations),
        (0, 0, 0)
    );
    assert!(p.a.info().ssthresh < u32::MAX, "still in slow start");
}

#[test]
fn before_any_sample_srtt_or_rto_is_the_rto_before_backoff() {
    let mut e = RttEstimator::new(ms(1000), ms(200), ms(60_000));
    assert_eq!(e.srtt_or_rto(), ms(1000));
    e.back_off();
    assert_eq!(e.srtt_or_rto(), ms(1000), "not backed off");
    e.sample(ms(70));
    assert_eq!(e.srtt_or_rto(), ms(70));
}

#[test]
fn the_rto_ceiling_is_max_rto_or_min_rto_if_that_is_larger() {
    let e = RttEstimator::new(ms(1000), ms(200), ms(60_000));
    assert_eq!(e.max_rto(), ms(60_000));
    let e = RttEstimator::new(ms(1000), ms(2000), ms(1000));
    assert_eq!(e.max_rto(), ms(2000));
}

#[test]
fn zero_window_probes_back_off_by_doubling_up_to_max_rto() {
    // RFC 9293 §3.8.6.1 with RFC 6298's backoff: the persist timer starts
    // at the RTO (200 ms) and doubles, but never waits past max_rto.
    let cfg = Config {
        max_rto: ms(300),
        ..plain()
    };
    let (mut c, iss) = established(cfg, TcpOptions::default());
    let shut = seg(PEER_ISS + 1, iss.wrapping_add(1), TcpFlags::ACK, b"").with_window(0);
    feed(&mut c, at_ms(0), &shut);
    assert_eq!(c.send(b"held back"), Ok(9));
    assert!(drain(&mut c, at_ms(0)).is_empty());
    // Probes at 200 ms, then 300 ms apart (not 400, 800).
    for at in [at_ms(200), at_ms(500), at_ms(800)] {
        assert_eq!(c.poll_timeout(), Some(at), "the persist timer");
        c.handle_timeout(at);
        let out = drain(&mut c, at);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].kind, Some(SegmentKind::Data(SendKind::WindowProbe)));
    }
}

#[test]
fn an_rtt_of_u32_max_microseconds_is_still_a_measurement() {
    // The estimator keeps microseconds in a u32 with u32::MAX for "none":
    // a sample that large (71.6 minutes) is clamped one below, not lost.
    let mut e = RttEstimator::new(ms(1000), ms(200), ms(60_000));
    e.sample(Duration::from_micros(u64::from(u32::MAX)));
    let top = Duration::from_micros(u64::from(u32::MAX - 1));
    assert_eq!(
        (e.srtt(), e.latest(), e.min_rtt()),
        (Some(top), Some(top), Some(top))
    );
    // Larger still: the same.
    let mut e = RttEstimator::new(ms(1000), ms(200), ms(60_000));
    e.sample(Duration::from_secs(10_000));
    assert_eq!(e.srtt(), Some(top));
}

// ---- the timer table ------------------------------------------------------

#[test]
fn a_deadline_past_the_end_of_the_clock_stays_armed() {
    let end = Instant::from_micros(u64::MAX);
    let last = Instant::from_micros(u64::MAX - 1);
    let mut t = Timers::default();
    t.set(TimerKind::Rto, end);
    t.set_earliest(TimerKind::DelayedAck, end);
    assert_eq!(t.get(TimerKind::Rto), Some(last));
    assert_eq!(t.get(TimerKind::DelayedAck), Some(last));
    assert_eq!(t.next(), Some(last));
    // Through a connection: the RTO of data sent just before the end of
    // the clock (now + RTO saturates) ...
    let late = Instant::from_micros(u64::MAX - 1000);
    let (mut c, _) = established(plain(), TcpOptions::default());
    assert_eq!(c.send(b"x"), Ok(1));
    assert_eq!(drain(&mut c, late).len(), 1);
    assert_eq!(c.poll_timeout(), Some(last), "armed, at the last instant");
    // ... and a delayed ACK owed then.
    let cfg = Config {
        delayed_ack: ms(40),
        quick_ack: false,
        ..plain()
    };
    let (mut c, iss) = established(cfg, TcpOptions::default());
    feed(
        &mut c,
        late,
        &seg(PEER_ISS + 1, iss.wrapping_add(1), TcpFlags::ACK, b"abc"),
    );
    assert!(drain(&mut c, late).is_empty(), "the ACK is delayed");
    assert_eq!(c.poll_timeout(), Some(last));
    c.handle_timeout(last);
    let out = drain(&mut c, last);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].ack, PEER_ISS + 4);
}

// ---- names --------------------------------------------------------------

#[test]
fn phases_are_named_as_ss_prints_them() {
    assert_eq!(Phase::Open.name(), "open");
    assert_eq!(Phase::Recovery.name(), "recovery");
    assert_eq!(Phase::Loss.name(), "loss");
}

#[test]
fn recovery_events_describe_themselves_for_traces_and_the_ladder() {
    let cases = [
        (
            RecoveryEvent::FastRetransmit { dupacks: 3 },
            "3 duplicate ACKs: fast retransmit, fast recovery",
        ),
        (RecoveryEvent::SackLoss, "SACKs show a hole: fast recovery"),
        (RecoveryEvent::RackLoss, "RACK: lost by time, fast recovery"),
        (RecoveryEvent::TailLossProbe, "tail loss probe"),
        (
            RecoveryEvent::TlpRecovered,
            "the probe repaired a loss: cwnd reduced",
        ),
        (
            RecoveryEvent::Timeout { backoff: 0 },
            "retransmission timeout (RTO backed off ×1)",
        ),
        (
            RecoveryEvent::Timeout { backoff: 3 },
            "retransmission timeout (RTO backed off ×8)",
        ),
        (
            RecoveryEvent::Timeout { backoff: 200 },
            "retransmission timeout (RTO backed off ×9223372036854775808)",
        ),
        (RecoveryEvent::Done, "recovery done"),
    ];
    for (event, text) in cases {
        assert_eq!(event.describe(), text);
    }
}

#[test]
fn timers_are_named_as_traces_print_them_in_firing_order() {
    let names: Vec<&str> = TimerKind::ALL.iter().map(|k| k.name()).collect();
    assert_eq!(
        names,
        [
            "TLP",
            "RTO",
            "RACK reorder",
            "persist",
            "delayed ACK",
            "keepalive",
            "FIN-WAIT-2",
            "TIME-WAIT"
        ]
    );
}
