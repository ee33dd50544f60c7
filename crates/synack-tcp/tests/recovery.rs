//! Loss recovery, exactly: fast retransmit on the third duplicate ACK,
//! NewReno's partial ACKs, SACK recovery that resends only what was lost,
//! tail loss probes, RACK, the RTO, and filling a large window.

mod common;

use common::*;
use synack_tcp::{Algorithm, Config, Duration, Instant, Phase, SegmentKind, SendKind, State};

const MSS: usize = 1460;

/// A path of `delay` each way and `mbit` Mbit/s, established.
fn path(ca: Config, cb: Config, delay_ms: u64, mbit: u64) -> Path {
    let mut p = Path::open(ca, cb, Duration::from_millis(delay_ms));
    p.rate = Some(mbit * 1_000_000);
    p.run_until(|p| p.a.state() == State::Established && p.b.state() == State::Established);
    p
}

/// Payload bytes in a full segment from `a`: the MSS less the timestamp
/// option when timestamps are on.
fn full(p: &Path) -> u32 {
    let i = p.a.info();
    u32::from(i.mss) - if i.timestamps { 12 } else { 0 }
}

fn is_retransmit(l: &Logged) -> bool {
    l.seg.kind == Some(SegmentKind::Data(SendKind::Retransmit))
}

#[test]
fn fast_retransmit_on_the_third_duplicate_ack_at_its_arrival() {
    // RFC 5681 §3.2, NewReno without SACK: the fourth segment is lost.
    let mut p = path(plain(), plain(), 10, 10);
    let isn = p.a.info().snd_nxt.0;
    let lost_seq = isn + 3 * MSS as u32;
    p.lose = Box::new(move |from, s, _| {
        from == 'a' && s.seq == lost_seq && s.kind == Some(SegmentKind::Data(SendKind::New))
    });
    let data = pattern(20 * MSS);
    let got = transfer(&mut p, &data);
    assert_eq!(got, data);
    let dupacks: Vec<Logged> = p
        .sent_by('b')
        .filter(|l| l.seg.is_pure_ack() && l.seg.ack == lost_seq)
        .cloned()
        .collect();
    // The first ACK of `lost_seq` is the cumulative one; then duplicates.
    assert!(dupacks.len() >= 4, "{}", dupacks.len());
    let third_dup = dupacks[3].arrives.unwrap();
    let retx: Vec<&Logged> = p.sent_by('a').filter(|l| is_retransmit(l)).collect();
    assert_eq!(retx.len(), 1, "one retransmission, no RTO");
    assert_eq!(retx[0].seg.seq, lost_seq);
    assert_eq!(
        retx[0].sent, third_dup,
        "sent the moment the third duplicate arrived"
    );
    assert_eq!(p.a.stats().send.rto_expirations, 0);
    assert_eq!(p.a.stats().send.fast_recoveries, 1);
}

#[test]
fn a_newreno_partial_ack_retransmits_the_next_hole_at_once() {
    // RFC 6582 §3.2 step 4: two losses in one window, no SACK. The partial
    // ACK after the first repair triggers the second, without an RTO.
    let cfg = Config {
        congestion: Algorithm::NewReno,
        ..plain()
    };
    let mut p = path(cfg, plain(), 10, 10);
    let isn = p.a.info().snd_nxt.0;
    let (hole1, hole2) = (isn + 2 * MSS as u32, isn + 6 * MSS as u32);
    p.lose = Box::new(move |from, s, _| {
        from == 'a'
            && (s.seq == hole1 || s.seq == hole2)
            && s.kind == Some(SegmentKind::Data(SendKind::New))
    });
    let data = pattern(10 * MSS);
    assert_eq!(transfer(&mut p, &data), data);
    let retx: Vec<&Logged> = p.sent_by('a').filter(|l| is_retransmit(l)).collect();
    assert_eq!(
        retx.iter().map(|l| l.seg.seq).collect::<Vec<_>>(),
        [hole1, hole2]
    );
    let partial = p
        .sent_by('b')
        .find(|l| l.seg.ack == hole2)
        .expect("a partial ACK up to the second hole");
    assert_eq!(retx[1].sent, partial.arrives.unwrap());
    assert_eq!(p.a.stats().send.rto_expirations, 0);
    assert_eq!(p.a.stats().send.fast_recoveries, 1, "one episode");
}

/// Deterministic pseudo-random loss of `a`'s data segments (originals and
/// retransmissions alike) with probability `per_mille`/1000; counts the
/// payload bytes lost.
fn random_loss(p: &mut Path, per_mille: u64, seed: u64) -> std::rc::Rc<std::cell::Cell<u64>> {
    let lost = std::rc::Rc::new(std::cell::Cell::new(0u64));
    let counter = lost.clone();
    let mut x = seed | 1;
    p.lose = Box::new(move |from, s, _| {
        if from != 'a' || s.len() == 0 {
            return false;
        }
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let hit = x % 1000 < per_mille;
        if hit {
            counter.set(counter.get() + s.len() as u64);
        }
        hit
    });
    lost
}

#[test]
fn sack_recovery_retransmits_only_what_was_lost() {
    let big = Config {
        send_buffer: 1 << 20,
        recv_buffer: 1 << 20,
        ..modern()
    };
    for seed in 1..=20u64 {
        let mut p = path(big.clone(), big.clone(), 10, 100);
        let lost = random_loss(&mut p, 20, seed);
        let data = pattern(2 << 20);
        assert_eq!(transfer(&mut p, &data), data, "seed {seed}");
        let st = p.a.stats().send;
        let bound = lost.get() + MSS as u64 * u64::from(st.rto_expirations + st.tail_loss_probes);
        assert!(
            st.bytes_retransmitted <= bound,
            "seed {seed}: resent {} bytes, lost {} (+{} RTOs, {} TLPs)",
            st.bytes_retransmitted,
            lost.get(),
            st.rto_expirations,
            st.tail_loss_probes
        );
        assert!(st.bytes_retransmitted >= lost.get(), "seed {seed}");
    }
}

#[test]
fn a_tail_loss_probe_fires_about_two_srtt_after_the_last_ack_and_avoids_an_rto() {
    let cfg = Config {
        nodelay: true,
        delayed_ack: Duration::ZERO,
        ..modern()
    };
    let mut p = path(cfg.clone(), cfg, 10, 100);
    // Warm up the RTT estimate.
    assert_eq!(transfer(&mut p, &pattern(20_000)).len(), 20_000);
    let srtt = p.a.info().srtt.unwrap();
    // Ten segments, the last two lost: nothing after them can reveal it.
    // (With one segment left in flight the PTO adds the peer's worst-case
    // delayed-ACK time, RFC 8985 §7.2.)
    let start = p.a.info().snd_nxt.0;
    let last = start + 9 * full(&p);
    let before_last = start + 8 * full(&p);
    p.lose = Box::new(move |from, s, _| {
        from == 'a'
            && (s.seq == last || s.seq == before_last)
            && s.kind == Some(SegmentKind::Data(SendKind::New))
    });
    let data = pattern(10 * full(&p) as usize);
    assert_eq!(transfer(&mut p, &data), data);
    let probe = p
        .sent_by('a')
        .find(|l| l.seg.kind == Some(SegmentKind::Data(SendKind::TailLossProbe)))
        .expect("a tail loss probe")
        .clone();
    assert_eq!(probe.seg.seq, last, "the probe resends the last segment");
    let last_ack = p
        .sent_by('b')
        .filter(|l| l.arrives.is_some_and(|t| t <= probe.sent))
        .map(|l| l.arrives.unwrap())
        .max()
        .unwrap();
    let wait = probe.sent - last_ack;
    assert!(
        wait >= srtt * 19 / 10 && wait <= srtt * 2 + Duration::from_millis(2),
        "PTO {wait:?} for SRTT {srtt:?}"
    );
    let st = p.a.stats().send;
    assert_eq!((st.tail_loss_probes, st.rto_expirations), (1, 0));
    // The probe's SACK let RACK find the other hole: fast recovery.
    assert_eq!(st.fast_recoveries, 1);
}

#[test]
fn a_probe_due_with_the_rto_goes_first() {
    // One segment in flight: PTO = 2·SRTT + 200 ms, clamped to the RTO.
    // At that instant the probe is sent, not the RTO's go-back.
    let cfg = Config {
        nodelay: true,
        delayed_ack: Duration::ZERO,
        ..modern()
    };
    let mut p = path(cfg.clone(), cfg, 10, 100);
    assert_eq!(transfer(&mut p, &pattern(20_000)).len(), 20_000);
    let seq = p.a.info().snd_nxt.0;
    let mut first = true;
    p.lose = Box::new(move |from, s, _| {
        let hit = from == 'a' && s.seq == seq && first;
        first &= !hit;
        hit
    });
    assert_eq!(transfer(&mut p, b"one"), b"one");
    let st = p.a.stats().send;
    assert_eq!((st.tail_loss_probes, st.rto_expirations), (1, 0));
}

#[test]
fn rack_marks_a_lost_retransmission_lost_again_without_an_rto() {
    // RFC 8985: the retransmission of a hole is lost too; later deliveries
    // show it by time.
    let cfg = Config {
        send_buffer: 1 << 20,
        recv_buffer: 1 << 20,
        ..modern()
    };
    let mut p = path(cfg.clone(), cfg, 10, 100);
    let isn = p.a.info().snd_nxt.0;
    let hole = isn + 5 * full(&p);
    let mut sends = 0;
    p.lose = Box::new(move |from, s, _| {
        if from == 'a' && s.seq == hole && s.len() > 0 {
            sends += 1;
            return sends <= 2;
        }
        false
    });
    let data = pattern(400 * MSS);
    assert_eq!(transfer(&mut p, &data), data);
    let resends: Vec<&Logged> = p
        .sent_by('a')
        .filter(|l| l.seg.seq == hole && l.seg.len() > 0)
        .collect();
    assert_eq!(resends.len(), 3);
    assert_eq!(p.a.stats().send.rto_expirations, 0);
}

#[test]
fn the_rto_backs_off_and_never_resends_sacked_data() {
    let cfg = modern();
    let mut p = path(cfg.clone(), cfg, 10, 100);
    let isn = p.a.info().snd_nxt.0;
    let second = isn + full(&p);
    // The first two segments vanish twice; everything after arrives (and
    // is SACKed). Only those two are resent after each timeout.
    let mut first_two = 0;
    p.lose = Box::new(move |from, s, _| {
        if from == 'a' && s.len() > 0 && (s.seq == isn || s.seq == second) {
            first_two += 1;
            return first_two <= 4;
        }
        false
    });
    let data = pattern(10 * MSS);
    assert_eq!(transfer(&mut p, &data), data);
    let resent: Vec<(Instant, u32)> = p
        .sent_by('a')
        .filter(|l| {
            l.seg.kind.is_some_and(|k| k.is_retransmission())
                || l.seg.kind == Some(SegmentKind::Data(SendKind::TailLossProbe))
        })
        .map(|l| (l.sent, l.seg.seq))
        .collect();
    assert!(
        resent.iter().all(|&(_, s)| s == isn || s == second),
        "SACKed data resent: {resent:?}"
    );
    assert!(p.a.stats().send.rto_expirations >= 1);
}

#[test]
fn a_four_mib_window_is_filled_over_a_100_ms_path() {
    let cfg = Config {
        send_buffer: 8 << 20,
        recv_buffer: 4 << 20,
        ..modern()
    };
    let mut p = path(cfg.clone(), cfg, 50, 1000);
    let data = pattern(64 << 20);
    let mut sent = 0;
    let mut got = 0;
    let mut max_flight = 0;
    let mut buf = vec![0u8; 1 << 20];
    let t0 = p.now;
    let mut slow_start = 0.0;
    p.run_until(|p| {
        if sent < data.len() {
            sent += p.a.send(&data[sent..]).unwrap_or(0);
        }
        while let Ok(n) = p.b.recv(&mut buf) {
            if n == 0 {
                break;
            }
            got += n;
        }
        if got >= 16 << 20 && slow_start == 0.0 {
            slow_start = (p.now - t0).as_secs_f64();
        }
        max_flight = max_flight.max(p.a.info().in_flight);
        got == data.len()
    });
    let window = 4u32 << 20;
    assert!(
        max_flight > window - 4 * MSS as u32,
        "at most {max_flight} bytes in flight"
    );
    // Window-limited: 4 MiB per 100 ms once slow start is over. Data
    // arrives in window-sized bursts, so the measure is good to one RTT
    // (100 ms in 1.2 s): at least 90% of the window's rate.
    let secs = (p.now - t0).as_secs_f64();
    let steady = secs - slow_start;
    let rate = f64::from(48u32 << 20) / steady;
    let ideal = f64::from(window) / 0.1;
    assert!(
        rate > 0.9 * ideal,
        "48 MiB in {steady} s: {rate} B/s of {ideal}"
    );
    assert_eq!(p.a.info().recovery, Phase::Open);
    assert_eq!(p.a.stats().send.retransmits, 0);
}
