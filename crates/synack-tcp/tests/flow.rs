//! Flow control and the timers around it: Nagle, delayed ACKs, zero-window
//! probing, keep-alive, and the options that ride on every segment
//! (timestamps and PAWS, SACK and D-SACK blocks).

mod common;

use common::*;
use synack_tcp::{
    Cause, CloseReason, Config, Duration, Event, Keepalive, SegmentKind, SendKind, State,
};

fn path(ca: Config, cb: Config, delay_ms: u64) -> Path {
    let mut p = Path::open(ca, cb, Duration::from_millis(delay_ms));
    p.run_until(|p| p.a.state() == State::Established && p.b.state() == State::Established);
    p
}

#[test]
fn nagle_coalesces_small_writes_while_data_is_unacknowledged() {
    let cfg = Config {
        delayed_ack: Duration::ZERO,
        ..plain()
    };
    let mut p = path(cfg.clone(), cfg.clone(), 10);
    let mark = p.log.len();
    // Ten 10-byte writes, 1 ms apart: the first goes at once, the other
    // nine wait for its ACK and go together.
    for _ in 0..10 {
        p.a.send(&[b'x'; 10]).unwrap();
        p.run_for(Duration::from_millis(1));
    }
    p.run_until(|p| p.b.recv_queue() == 100);
    let sizes: Vec<usize> = p.log[mark..]
        .iter()
        .filter(|l| l.from == 'a' && l.seg.len() > 0)
        .map(|l| l.seg.len())
        .collect();
    assert_eq!(sizes, [10, 90]);

    // With TCP_NODELAY every write is its own segment.
    let mut p = path(cfg.clone(), cfg, 10);
    p.a.set_nodelay(true);
    let mark = p.log.len();
    for _ in 0..10 {
        p.a.send(&[b'x'; 10]).unwrap();
        p.run_for(Duration::from_millis(1));
    }
    let n = p.log[mark..]
        .iter()
        .filter(|l| l.from == 'a' && l.seg.len() > 0)
        .count();
    assert_eq!(n, 10);
}

#[test]
fn delayed_ack_timing() {
    let mut p = path(modern(), modern(), 10);
    // The first segments of a connection are ACKed one by one (quick-ACK
    // mode, so slow start is not held back).
    let mark = p.log.len();
    p.a.send(b"first").unwrap();
    p.run_until(|p| p.a.info().snd_una == p.a.info().snd_nxt);
    let data = p.log[mark..]
        .iter()
        .find(|l| l.from == 'a')
        .unwrap()
        .clone();
    let ack = p.log[mark..]
        .iter()
        .find(|l| l.from == 'b')
        .unwrap()
        .clone();
    assert_eq!(ack.sent, data.arrives.unwrap());
    assert_eq!(p.b.recv(&mut [0; 16]), Ok(5));
    assert_eq!(transfer(&mut p, &pattern(100_000)).len(), 100_000);
    p.run_for(Duration::from_secs(1));
    let mark = p.log.len();
    // Later, one small segment: its ACK waits the delayed-ACK time, 40 ms.
    p.a.send(b"ping").unwrap();
    p.run_until(|p| p.a.info().snd_una == p.a.info().snd_nxt);
    let data = p.log[mark..]
        .iter()
        .find(|l| l.from == 'a')
        .unwrap()
        .clone();
    let ack = p.log[mark..]
        .iter()
        .find(|l| l.from == 'b')
        .unwrap()
        .clone();
    assert_eq!(ack.sent - data.arrives.unwrap(), Duration::from_millis(40));

    // Two full segments: the ACK goes out as the second arrives.
    let mark = p.log.len();
    let full = usize::from(p.a.info().mss) - 12;
    p.a.send(&pattern(2 * full)).unwrap();
    p.run_until(|p| p.a.info().snd_una == p.a.info().snd_nxt);
    let second = p.log[mark..]
        .iter()
        .filter(|l| l.from == 'a')
        .nth(1)
        .unwrap()
        .clone();
    let ack = p.log[mark..]
        .iter()
        .find(|l| l.from == 'b')
        .unwrap()
        .clone();
    assert_eq!(ack.sent, second.arrives.unwrap());

    // An out-of-order segment is acknowledged at once (a duplicate ACK).
    let mark = p.log.len();
    let seq = p.a.info().snd_nxt.0;
    let mut first = true;
    p.lose = Box::new(move |from, s, _| {
        let hit = from == 'a' && s.seq == seq && first;
        first &= !hit;
        hit
    });
    p.a.send(&pattern(2 * full)).unwrap();
    p.run_until(|p| p.a.info().snd_una == p.a.info().snd_nxt);
    let ooo = p.log[mark..]
        .iter()
        .filter(|l| l.from == 'a')
        .nth(1)
        .unwrap()
        .clone();
    let dup = p.log[mark..]
        .iter()
        .find(|l| l.from == 'b')
        .unwrap()
        .clone();
    assert_eq!(dup.sent, ooo.arrives.unwrap());
    assert_eq!(dup.seg.ack, seq, "a duplicate ACK");
    assert_eq!(
        dup.seg.sack().len(),
        1,
        "with the SACK block of what arrived"
    );
}

#[test]
fn zero_window_probing_backs_off_resumes_and_gives_up() {
    let small = Config {
        recv_buffer: 4096,
        ..plain()
    };
    let sender = Config {
        max_retries: 6,
        ..plain()
    };
    let mut p = path(sender, small, 10);
    p.a.send(&pattern(40_000)).unwrap();
    p.run_until(|p| p.a.info().snd_wnd == 0 && p.a.info().in_flight == 0);
    // The reader is asleep: probes back off (each wait at least double).
    let mark = p.log.len();
    p.run_for(Duration::from_secs(30));
    let probes: Vec<_> = p.log[mark..]
        .iter()
        .filter(|l| l.from == 'a' && l.seg.kind == Some(SegmentKind::Data(SendKind::WindowProbe)))
        .map(|l| l.sent)
        .collect();
    assert!(probes.len() >= 4, "{probes:?}");
    let gaps: Vec<Duration> = probes.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        gaps.windows(2)
            .all(|g| g[1] >= g[0] * 2 || g[1] >= Duration::from_secs(120)),
        "{gaps:?}"
    );
    assert_eq!(
        p.a.state(),
        State::Established,
        "answered probes keep it alive"
    );

    // The reader wakes: the window reopens and the transfer resumes.
    let mut got = 0;
    let mut buf = [0u8; 4096];
    p.wake = Some(Duration::from_millis(5));
    p.run_until(|p| {
        while let Ok(n) = p.b.recv(&mut buf) {
            if n == 0 {
                break;
            }
            got += n;
        }
        got >= 20_000
    });

    // The reader stops again and the peer vanishes: the probes go
    // unanswered and the connection gives up after max_retries of them.
    p.wake = None;
    p.run_until(|p| p.a.info().snd_wnd == 0 && p.a.info().in_flight <= 1);
    p.lose = Box::new(|_, _, _| true);
    p.run_until(|p| p.a.state() == State::Closed);
    assert_eq!(p.a.close_reason(), Some(CloseReason::TimedOut));
    let evs = events(&mut p.a);
    assert!(evs.iter().any(|e| matches!(
        e,
        Event::StateChanged(t) if t.cause == Cause::PersistLimit || t.cause == Cause::RetransmitLimit
    )));
}

#[test]
fn keepalive_finds_a_dead_peer() {
    let ka = Keepalive {
        idle: Duration::from_secs(60),
        interval: Duration::from_secs(10),
        count: 3,
    };
    let cfg = Config {
        keepalive: Some(ka),
        ..plain()
    };
    let mut p = path(cfg, plain(), 10);
    let t0 = p.now;
    // An idle but live peer answers the probes: nothing happens.
    p.run_for(Duration::from_secs(200));
    assert_eq!(p.a.state(), State::Established);
    let answered = p
        .sent_by('a')
        .filter(|l| l.seg.kind == Some(SegmentKind::Keepalive))
        .count();
    assert_eq!(answered, 3, "one probe per idle minute");
    // The peer vanishes: three unanswered probes, then TimedOut.
    p.lose = Box::new(|_, _, _| true);
    let vanished = p.now;
    p.run_until(|p| p.a.state() == State::Closed);
    assert_eq!(p.a.close_reason(), Some(CloseReason::TimedOut));
    let silent = p.now - vanished;
    assert!(
        silent <= Duration::from_secs(60 + 3 * 10 + 1),
        "gave up after {silent:?}"
    );
    assert!(p.now - t0 > Duration::from_secs(200));
}

#[test]
fn paws_drops_a_segment_with_an_old_timestamp() {
    let mut p = Pair::new(modern(), modern());
    p.establish();
    let now = p.now;
    let info = p.a.info();
    // The peer's current timestamp, as echoed in a's next segment.
    p.a.send(b"x").unwrap();
    let out = drain(&mut p.a, now);
    let (_, recent) = out[0].options.timestamps.unwrap();
    let old =
        seg(info.rcv_nxt.0, info.snd_una.0, ACK, b"stale").with_ts(recent.wrapping_sub(1000), 0);
    feed(&mut p.a, now, &old);
    assert_eq!(p.a.recv_queue(), 0, "dropped");
    assert_eq!(p.a.stats().paws_rejected, 1);
    let answer = drain(&mut p.a, now);
    assert_eq!(answer.len(), 1, "and acknowledged");
    // The same segment with a current timestamp is taken.
    let fresh = seg(info.rcv_nxt.0, info.snd_una.0, ACK, b"fresh").with_ts(recent, 0);
    feed(&mut p.a, now, &fresh);
    assert_eq!(p.a.recv_queue(), 5);
}

#[test]
fn every_segment_carries_timestamps_and_rtt_comes_from_them() {
    let mut p = path(modern(), modern(), 15);
    let data = pattern(100_000);
    assert_eq!(transfer(&mut p, &data), data);
    for l in &p.log {
        if !l.seg.flags.rst() {
            assert!(l.seg.options.timestamps.is_some(), "{:?}", l.seg);
        }
    }
    let srtt = p.a.info().srtt.unwrap();
    assert!(
        srtt >= Duration::from_millis(30) && srtt < Duration::from_millis(75),
        "{srtt:?}"
    );
}

#[test]
fn sack_blocks_report_the_most_recent_range_first() {
    let mut p = Pair::new(modern(), modern());
    p.establish();
    let now = p.now;
    let info = p.b.info();
    let (r, a) = (info.rcv_nxt.0, info.snd_una.0);
    for (off, len) in [(1000, 100), (3000, 100), (2000, 100)] {
        feed(&mut p.b, now, &seg(r + off, a, ACK, &vec![1; len]));
    }
    let acks = drain(&mut p.b, now);
    assert_eq!(acks.len(), 3, "one duplicate ACK per out-of-order segment");
    let blocks = acks[2].sack();
    assert_eq!(
        blocks,
        [
            (r + 2000, r + 2100),
            (r + 3000, r + 3100),
            (r + 1000, r + 1100)
        ]
    );
    // A duplicate of received data is reported as a D-SACK first block.
    feed(&mut p.b, now, &seg(r + 1000, a, ACK, &[1; 100]));
    let acks = drain(&mut p.b, now);
    assert_eq!(acks[0].sack()[0], (r + 1000, r + 1100));
}

#[test]
fn sack_and_timestamps_are_used_only_if_both_offer_them() {
    let mut p = Pair::new(modern(), plain());
    p.establish();
    for c in [&p.a, &p.b] {
        let i = c.info();
        assert!(!i.sack && !i.timestamps && i.snd_wscale == 0);
    }
    let mut p = Pair::new(modern(), modern());
    p.establish();
    let i = p.a.info();
    assert!(i.sack && i.timestamps);
    assert_eq!(i.mss, 1460);
}
