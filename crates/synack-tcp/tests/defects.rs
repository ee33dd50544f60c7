//! Regression tests for the defects found in the first shape of the
//! engine, each named after the rule it protects, and for rules the first
//! test suite did not protect (a mutation of the rule went unnoticed).

mod common;

use common::*;
use synack_tcp::{Cause, CloseReason, Config, Duration, Event, Instant, SeqNum, State};
use synack_wire::TcpRepr;

/// An established pair on a zero-delay wire.
fn established(ca: Config, cb: Config) -> Pair {
    let mut p = Pair::new(ca, cb);
    p.establish();
    p
}

// ---- 2. abort() after an RTO --------------------------------------------

#[test]
fn abort_after_an_rto_resets_with_the_highest_sequence_number_sent() {
    let mut p = established(plain(), plain());
    p.a.send(&[1u8; 3000]).unwrap();
    // All three segments are lost; the RTO retransmits the first.
    p.exchange(|from, _| from == 'a');
    let before = p.a.info();
    assert!(p.tick());
    p.exchange(|from, _| from == 'a');
    assert_eq!(p.a.stats().send.rto_expirations, 1);
    let now = p.now;
    p.a.abort(now);
    let out = drain(&mut p.a, now);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].flags, RST);
    // RFC 9293 §3.10.5: <SEQ=SND.NXT>, the highest sequence number sent.
    assert_eq!(out[0].seq, before.snd_nxt.0);
    // It lies in the peer's window (the peer never got the data), so the
    // peer does not ignore it: RFC 5961 §3.2 has it ask for an exact RST
    // with a challenge ACK...
    feed(&mut p.b, now, &out[0]);
    let challenge = drain(&mut p.b, now);
    assert_eq!(challenge.len(), 1);
    assert!(challenge[0].is_pure_ack());
    // ...which a's stack (no connection any more) answers with
    // <SEQ=SEG.ACK><CTL=RST>: exact, so b resets.
    feed(&mut p.b, now, &seg(challenge[0].ack, 0, RST, b""));
    assert_eq!(p.b.state(), State::Closed);
    assert_eq!(p.b.close_reason(), Some(CloseReason::Reset));
}

// ---- 3. a second FIN ------------------------------------------------------

/// Drives a fresh pair to the state `want` on side a, returning it.
fn in_state(want: State) -> Pair {
    let mut p = established(plain(), plain());
    let now = p.now;
    match want {
        State::CloseWait => {
            p.b.shutdown(now);
            p.exchange(|_, _| false);
        }
        State::LastAck => {
            p.b.shutdown(now);
            p.exchange(|_, _| false);
            p.a.shutdown(now);
            p.exchange(|from, _| from == 'b'); // b's final ACK is lost
        }
        State::Closing => {
            p.a.shutdown(now);
            p.b.shutdown(now);
            // Both FINs cross; the ACKs of them are lost.
            let fa = drain(&mut p.a, now);
            let fb = drain(&mut p.b, now);
            feed(&mut p.a, now, &fb[0]);
            feed(&mut p.b, now, &fa[0]);
        }
        State::TimeWait => {
            p.a.shutdown(now);
            p.exchange(|_, _| false);
            p.b.shutdown(now);
            p.exchange(|_, _| false);
        }
        _ => unreachable!(),
    }
    assert_eq!(p.a.state(), want);
    p
}

#[test]
fn a_second_fin_does_not_advance_rcv_nxt() {
    // RFC 9293 §3.10.7.4 eighth step: in CLOSE-WAIT, CLOSING, LAST-ACK and
    // TIME-WAIT the FIN has already been received; another one changes
    // nothing (a FIN at the new RCV.NXT would otherwise be taken again).
    for state in [
        State::CloseWait,
        State::Closing,
        State::LastAck,
        State::TimeWait,
    ] {
        let mut p = in_state(state);
        let now = p.now;
        let before = p.a.info();
        feed(
            &mut p.a,
            now,
            &seg(before.rcv_nxt.0, before.snd_una.0, FIN | ACK, b""),
        );
        drain(&mut p.a, now);
        assert_eq!(p.a.info().rcv_nxt, before.rcv_nxt, "in {state}");
        assert_eq!(p.a.state(), state, "in {state}");
    }
}

#[test]
fn a_fin_in_time_wait_restarts_the_2msl_timer() {
    let mut p = in_state(State::TimeWait);
    let first = p.a.poll_timeout().unwrap();
    p.now += Duration::from_millis(700);
    let now = p.now;
    let info = p.a.info();
    // The peer's FIN again (its ACK was lost): at RCV.NXT − 1.
    feed(
        &mut p.a,
        now,
        &seg(info.rcv_nxt.0 - 1, info.snd_nxt.0, FIN | ACK, b""),
    );
    let out = drain(&mut p.a, now);
    assert_eq!(out.len(), 1, "re-ACKed");
    assert_eq!(out[0].ack, info.rcv_nxt.0);
    assert_eq!(
        p.a.poll_timeout().unwrap() - first,
        Duration::from_millis(700)
    );
}

// ---- 4. SYN,ACK with data in ESTABLISHED ---------------------------------

#[test]
fn a_syn_in_a_synchronized_state_gets_a_challenge_ack_and_its_data_is_dropped() {
    let mut p = established(plain(), plain());
    let now = p.now;
    let info = p.a.info();
    // RFC 5961 §4: whatever its sequence number, even RCV.NXT − 1 (which
    // trimming would turn into in-order data with the SYN cut off).
    feed(
        &mut p.a,
        now,
        &seg(info.rcv_nxt.0 - 1, info.snd_nxt.0, SYN | ACK, b"injected"),
    );
    let out = drain(&mut p.a, now);
    assert_eq!(out.len(), 1);
    assert!(out[0].is_pure_ack(), "a challenge ACK");
    assert_eq!(out[0].ack, info.rcv_nxt.0);
    assert_eq!(
        p.a.recv_queue(),
        0,
        "the data never reaches the application"
    );
    assert_eq!(p.a.state(), State::Established);
    assert_eq!(p.a.stats().challenge_acks, 1);
}

// ---- 5. silly windows and shrinking windows -------------------------------

#[test]
fn receiver_sws_avoidance_keeps_a_slow_readers_window_from_going_silly() {
    // RFC 9293 §3.8.6.2.2 (a MUST): a reader taking 100 bytes at a time
    // must not make the sender send 100-byte segments.
    let small = Config {
        recv_buffer: 8192,
        ..plain()
    };
    let mut p = Path::open(plain(), small, Duration::from_millis(5));
    p.wake = Some(Duration::from_millis(1));
    p.run_until(|p| p.a.state() == State::Established && p.b.state() == State::Established);
    let data = pattern(200_000);
    let mut sent = 0;
    let mut got = Vec::new();
    let mut buf = [0u8; 100];
    let mut reads = 0u64;
    p.run_until(|p| {
        if sent < data.len() {
            sent += p.a.send(&data[sent..]).unwrap_or(0);
        }
        // One 100-byte read per millisecond of virtual time.
        if p.now.as_millis() > reads {
            reads = p.now.as_millis();
            if let Ok(n) = p.b.recv(&mut buf) {
                got.extend_from_slice(&buf[..n]);
            }
        }
        got.len() == data.len()
    });
    assert_eq!(got, data);
    let sizes: Vec<usize> = p
        .sent_by('a')
        .filter(|l| l.seg.kind.is_some_and(|k| !k.is_retransmission()))
        .map(|l| l.seg.len())
        .filter(|&n| n > 0)
        .collect();
    // The window opens in steps of at least min(MSS, buffer/2): full
    // segments, and at most one remnant of each step (held back by the
    // sender's own SWS rule until its override timer).
    let full = sizes.iter().filter(|&&n| n == 1460).count();
    let silly = sizes.iter().filter(|&&n| n < 100).count();
    assert!(full * 10 > sizes.len() * 7, "{sizes:?}");
    assert!(silly * 20 < sizes.len(), "{silly} tiny segments: {sizes:?}");
}

#[test]
fn the_advertised_right_edge_never_moves_left() {
    // RFC 7323 §2.4: rounding by the window scale must not retract the
    // window. The reader takes odd amounts; the window is scaled by 2^5.
    let cfg = Config {
        recv_buffer: 1 << 20,
        ..modern()
    };
    let mut p = Path::open(modern(), cfg, Duration::from_millis(10));
    p.wake = Some(Duration::from_millis(1));
    let data = pattern(8 << 20);
    let mut sent = 0;
    let mut got = 0usize;
    let mut buf = vec![0u8; 7777];
    let mut tick = 0;
    p.run_until(|p| {
        if sent < data.len() {
            sent += p.a.send(&data[sent..]).unwrap_or(0);
        }
        tick += 1;
        if tick % 3 == 0 {
            if let Ok(n) = p.b.recv(&mut buf) {
                got += n;
            }
        }
        got == data.len()
    });
    let shift = p.b.info().rcv_wscale;
    assert_eq!(shift, 5);
    let mut edge: Option<SeqNum> = None;
    let mut checked = 0;
    for l in p.sent_by('b') {
        if l.seg.flags.syn() {
            continue;
        }
        let e = SeqNum(l.seg.ack) + (u32::from(l.seg.window) << shift);
        if let Some(prev) = edge {
            assert!(
                !e.before(prev),
                "the right edge moved left: {prev:?} → {e:?}"
            );
        }
        edge = Some(e);
        checked += 1;
    }
    assert!(checked > 1000);
    assert_eq!(p.b.stats().recv.window_retractions, 0);
}

// ---- 6. connections with no end -------------------------------------------

#[test]
fn zero_window_probes_give_up_when_the_peer_vanishes() {
    let small = Config {
        recv_buffer: 2920,
        ..plain()
    };
    let mut p = established(
        Config {
            max_retries: 5,
            ..plain()
        },
        small,
    );
    p.a.send(&[7u8; 10_000]).unwrap();
    p.exchange(|_, _| false);
    assert_eq!(p.a.info().snd_wnd, 0);
    // The peer vanishes: nothing it would send arrives.
    let start = p.now;
    let mut probe_times = Vec::new();
    while p.a.state() != State::Closed {
        assert!(p.tick());
        for (from, s) in p.exchange(|from, _| from == 'a' || from == 'b') {
            if from == 'a' && s.len() == 1 {
                probe_times.push((p.now - start).as_millis());
            }
        }
        assert!(
            p.now - start < Duration::from_secs(3600),
            "probed for an hour"
        );
    }
    assert_eq!(p.a.close_reason(), Some(CloseReason::TimedOut));
    assert_eq!(probe_times.len(), 5, "{probe_times:?}");
    // Backing off: each wait at least as long as the one before.
    let gaps: Vec<u128> = probe_times.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps.windows(2).all(|g| g[1] >= g[0]), "{gaps:?}");
    let last = transitions(&events(&mut p.a));
    assert_eq!(last.last(), Some(&(State::Established, State::Closed)));
}

#[test]
fn an_orphan_in_fin_wait_2_times_out() {
    let cfg = Config {
        fin_timeout: Duration::from_secs(30),
        ..plain()
    };
    let mut p = established(cfg, plain());
    let now = p.now;
    p.a.close(now);
    p.exchange(|_, _| false);
    assert_eq!(p.a.state(), State::FinWait2);
    events(&mut p.a);
    // The peer never sends its FIN.
    assert!(p.tick());
    assert_eq!(p.now - now, Duration::from_secs(30));
    assert_eq!(p.a.state(), State::Closed);
    let evs = events(&mut p.a);
    assert!(evs.iter().any(|e| matches!(
        e,
        Event::StateChanged(t) if t.cause == Cause::FinWait2Timeout
    )));
}

#[test]
fn a_half_closed_connection_waits_in_fin_wait_2_for_the_peer() {
    // shutdown(SHUT_WR) is not an orphan: the application may still read
    // for as long as the peer keeps sending.
    let mut p = established(plain(), plain());
    let now = p.now;
    p.a.shutdown(now);
    p.exchange(|_, _| false);
    assert_eq!(p.a.state(), State::FinWait2);
    assert_eq!(p.a.poll_timeout(), None);
}

// ---- 7. one malformed option ------------------------------------------------

#[test]
fn a_malformed_option_is_skipped_and_the_segment_processed() {
    let mut p = established(plain(), plain());
    let now = p.now;
    let info = p.a.info();
    // A data segment whose window-scale option has length 4 (it is 3).
    let src = addr(SERVER).ip();
    let dst = addr(CLIENT).ip();
    let mut raw = [0u8; 24 + 5];
    let mut pkt = synack_wire::TcpPacket::new_unchecked(&mut raw[..]);
    pkt.set_src_port(80);
    pkt.set_dst_port(40000);
    pkt.set_seq_number(info.rcv_nxt.0);
    pkt.set_ack_number(info.snd_nxt.0);
    pkt.set_header_len(24);
    pkt.set_flags(ACK | PSH);
    pkt.set_window_len(1000);
    pkt.options_mut().copy_from_slice(&[3, 4, 7, 0]);
    pkt.payload_mut().copy_from_slice(b"hello");
    pkt.fill_checksum(src, dst);
    let parsed = TcpRepr::parse(&raw, src, dst, true).unwrap();
    assert_eq!(parsed.options.malformed, 1);
    p.a.handle_segment(now, src, dst, &parsed);
    assert_eq!(p.a.recv_queue(), 5, "the data was taken");
    assert_eq!(p.a.stats().bad_options, 1);
}

// ---- 8. smaller rule errors --------------------------------------------------

#[test]
fn the_send_window_ignores_an_ack_below_snd_una() {
    // RFC 9293 §3.10.7.4: the window is updated only if SND.UNA =< SEG.ACK.
    let mut p = established(plain(), plain());
    p.a.send(&[1u8; 1000]).unwrap();
    p.exchange(|_, _| false);
    let now = p.now;
    let info = p.a.info();
    // A later segment (higher SEQ) whose ACK is old: its window is stale.
    let old = seg(info.rcv_nxt.0, info.snd_una.0 - 500, ACK, b"").with_window(0);
    feed(&mut p.a, now, &old);
    assert_eq!(p.a.info().snd_wnd, info.snd_wnd);
}

#[test]
fn the_window_update_rule_ignores_an_older_segment() {
    // RFC 9293 §3.10.7.4: SND.WL1 < SEG.SEQ, or equal and SND.WL2 =< SEG.ACK.
    let mut p = established(plain(), plain());
    let now = p.now;
    let info = p.a.info();
    let r = info.rcv_nxt.0;
    let a = info.snd_una.0;
    feed(&mut p.a, now, &seg(r, a, ACK, b"xy").with_window(3000));
    assert_eq!(p.a.info().snd_wnd, 3000);
    // A reordered older segment (lower SEQ, same ACK) must not move it.
    feed(&mut p.a, now, &seg(r - 1, a, ACK, b"").with_window(100));
    assert_eq!(p.a.info().snd_wnd, 3000);
    // Same SEQ and ACK: newer information, taken.
    feed(&mut p.a, now, &seg(r + 2, a, ACK, b"").with_window(5000));
    assert_eq!(p.a.info().snd_wnd, 5000);
}

#[test]
fn an_ack_older_than_the_largest_window_is_challenged_and_its_data_dropped() {
    // RFC 5961 §5.2: SEG.ACK < SND.UNA − MAX.SND.WND.
    let mut p = established(plain(), plain());
    let now = p.now;
    let info = p.a.info();
    let stale = info.snd_una.0.wrapping_sub(70_000);
    feed(
        &mut p.a,
        now,
        &seg(info.rcv_nxt.0, stale, ACK, b"blind data"),
    );
    let out = drain(&mut p.a, now);
    assert_eq!(out.len(), 1);
    assert!(out[0].is_pure_ack());
    assert_eq!(p.a.recv_queue(), 0);
    assert_eq!(p.a.stats().challenge_acks, 1);
}

#[test]
fn an_ack_of_unsent_data_is_answered_and_dropped() {
    let mut p = established(plain(), plain());
    let now = p.now;
    let info = p.a.info();
    feed(
        &mut p.a,
        now,
        &seg(info.rcv_nxt.0, info.snd_nxt.0 + 10, ACK, b"data"),
    );
    let out = drain(&mut p.a, now);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].ack, info.rcv_nxt.0);
    assert_eq!(p.a.recv_queue(), 0);
    assert_eq!(p.a.info().snd_una, info.snd_una);
}

#[test]
fn the_urgent_pointer_counts_from_the_segments_own_sequence_number() {
    let mut p = established(plain(), plain());
    let now = p.now;
    let info = p.a.info();
    let r = info.rcv_nxt.0;
    // Overlapping: 4 bytes we have, 4 new; urgent pointer 6 from SEG.SEQ.
    feed(&mut p.a, now, &seg(r, info.snd_una.0, ACK, b"abcd"));
    let mut s = seg(
        r,
        info.snd_una.0,
        ACK | synack_wire::TcpFlags::URG,
        b"abcdefgh",
    );
    s.urgent = 6;
    feed(&mut p.a, now, &s);
    assert_eq!(p.a.urgent_pointer(), Some(SeqNum(r + 6)));
}

#[test]
fn a_bare_fin_at_rcv_nxt_is_accepted_in_a_zero_window() {
    let small = Config {
        recv_buffer: 1000,
        ..plain()
    };
    let mut p = established(small, plain());
    p.b.send(&[5u8; 1000]).unwrap();
    p.exchange(|_, _| false);
    assert_eq!(p.a.info().rcv_wnd, 0);
    let now = p.now;
    p.b.shutdown(now);
    p.exchange(|_, _| false);
    assert_eq!(
        p.a.state(),
        State::CloseWait,
        "the FIN needs no buffer space"
    );
    let mut buf = [0u8; 2000];
    assert_eq!(p.a.recv(&mut buf).unwrap(), 1000);
    assert_eq!(p.a.recv(&mut buf).unwrap(), 0);
}

#[test]
fn a_send_ring_wrap_does_not_split_a_full_segment() {
    // A 3000-byte ring: after 2000 bytes are acknowledged, the next 1460
    // bytes straddle the ring's end. They go out as one segment.
    let cfg = Config {
        send_buffer: 3000,
        ..plain()
    };
    let mut p = established(cfg, plain());
    p.a.send(&[1u8; 2000]).unwrap();
    p.exchange(|_, _| false);
    p.a.send(&pattern(2900)).unwrap();
    let log = p.exchange(|_, _| false);
    let sizes: Vec<usize> = log
        .iter()
        .filter(|(f, s)| *f == 'a' && s.len() > 0)
        .map(|(_, s)| s.len())
        .collect();
    assert_eq!(sizes, [1460, 1440]);
    let mut buf = [0u8; 5000];
    let n = p.b.recv(&mut buf).unwrap();
    assert_eq!(&buf[2000..n], &pattern(2900)[..]);
}

#[test]
fn a_full_reassembly_list_gives_up_the_farthest_range() {
    let cfg = Config {
        max_ooo_ranges: 2,
        ..plain()
    };
    let mut p = established(cfg, plain());
    let now = p.now;
    let info = p.a.info();
    let (r, a) = (info.rcv_nxt.0, info.snd_una.0);
    feed(&mut p.a, now, &seg(r + 100, a, ACK, &[b'b'; 10]));
    feed(&mut p.a, now, &seg(r + 300, a, ACK, &[b'd'; 10]));
    // A nearer range arrives with the list full: the farthest goes.
    feed(&mut p.a, now, &seg(r + 200, a, ACK, &[b'c'; 10]));
    feed(&mut p.a, now, &seg(r, a, ACK, &[b'a'; 100]));
    feed(&mut p.a, now, &seg(r + 110, a, ACK, &[b'x'; 90]));
    // 0..210 are now in order; the range at 300 was given up.
    assert_eq!(p.a.info().rcv_nxt.0, r + 210);
    assert_eq!(p.a.stats().recv.ooo_dropped, 1);
}

#[test]
fn rto_is_not_left_backed_off_after_a_lost_syn() {
    // RFC 6298 §5.7: after a SYN timeout, data starts with a fresh 3 s RTO
    // (no RTT sample: Karn), not the SYN's backed-off value.
    let mut p = Path::open(plain(), plain(), Duration::from_millis(10));
    let mut syns = 0;
    p.lose = Box::new(move |from, s, _| {
        if from == 'a' && s.flags == SYN && syns < 3 {
            syns += 1;
            return true;
        }
        false
    });
    p.run_until(|p| p.a.state() == State::Established);
    assert_eq!(p.a.info().rto, Duration::from_secs(3));
    assert_eq!(p.a.info().srtt, None);
    // The first data segment is lost: retransmitted 3 s later.
    p.lose = Box::new(|from, s, _| {
        from == 'a' && s.len() > 0 && s.kind.is_some_and(|k| !k.is_retransmission())
    });
    p.a.send(b"data").unwrap();
    p.flush();
    let t0 = p.now;
    p.run_until(|p| p.a.stats().send.retransmits > 3);
    let retx = p
        .sent_by('a')
        .filter(|l| l.seg.len() > 0)
        .nth(1)
        .unwrap()
        .sent;
    assert_eq!(retx - t0, Duration::from_secs(3));
}

#[test]
fn karns_rule_takes_no_rtt_sample_from_a_retransmitted_segment() {
    // RFC 6298 §3 (Karn): without timestamps an ACK of a retransmitted
    // segment is ambiguous and must not be timed.
    let mut p = Path::open(plain(), plain(), Duration::from_millis(10));
    p.run_until(|p| p.b.state() == State::Established);
    let srtt = p.a.info().srtt.unwrap();
    assert_eq!(srtt, Duration::from_millis(20));
    // The segment's ACK is lost; the RTO retransmits; the second ACK comes
    // back 20 ms after the retransmission, 1.02 s after the original.
    let mut first = true;
    p.lose = Box::new(move |from, s, _| {
        if from == 'b' && s.is_pure_ack() && first {
            first = false;
            return true;
        }
        false
    });
    p.a.send(b"x").unwrap();
    p.run_until(|p| p.a.info().snd_una == p.a.info().snd_nxt);
    assert_eq!(p.a.stats().send.retransmits, 1);
    assert_eq!(p.a.info().srtt, Some(srtt), "no sample was taken");
}

#[test]
fn nothing_allocates_a_buffer_until_data_moves() {
    let mut p = established(plain(), plain());
    assert_eq!(p.a.buffer_memory() + p.b.buffer_memory(), 0);
    p.a.send(b"x").unwrap();
    // A first slice of the buffer, not all of it: it grows as data needs.
    assert_eq!(
        p.a.buffer_memory(),
        synack_tcp::buffer::FIRST_ALLOCATION.min(plain().send_buffer)
    );
    assert!(synack_tcp::buffer::FIRST_ALLOCATION < plain().send_buffer);
    let _ = Instant::ZERO;
}
