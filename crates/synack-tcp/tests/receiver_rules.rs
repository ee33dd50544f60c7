//! Rules of the receiving side, at their edges: the window a SYN offers is
//! never scaled (RFC 7323 §2.2) and a scaled window keeps its spare room;
//! the right edge never moves left except by the rounding, once the spare
//! room is used up (RFC 7323 §2.4); receiver SWS avoidance in both styles
//! (RFC 9293 §3.8.6.2.2) and the window update it allows after a read,
//! counted in scaled units; PAWS and its 24-day idle limit (RFC 7323 §5.3,
//! §5.5) and which segments update TS.Recent (§4.3); the delayed ACK (at
//! least every second full-sized segment, RFC 5681 §4.2) and the immediate
//! ACK for a bare FIN beyond a gap; a FIN after data that fills the window
//! exactly; the SACK block for a repeated out-of-order segment (RFC 2018
//! §4, RFC 2883); the TIME-WAIT window; SO_RCVBUF (`set_buffer_sizes`),
//! the memory and counters it shows; and, on the receiver itself, its
//! out-of-order ranges, what it delivers and the invariant checker.

mod common;

use common::*;
use synack_tcp::receiver::ack::AckPolicy;
use synack_tcp::receiver::Receiver;
use synack_tcp::{syn_window, Config, Connection, Duration, Instant, ReceiverSws, SeqNum, State};
use synack_wire::TcpOptions;

/// `plain()` with window scaling offered and this receive buffer.
fn scaled(recv_buffer: usize) -> Config {
    Config {
        window_scaling: true,
        recv_buffer,
        ..plain()
    }
}

/// `plain()` with timestamps offered.
fn stamped() -> Config {
    Config {
        timestamps: true,
        ..plain()
    }
}

/// A SYN-ACK's options that agree to window scaling (the peer's shift 0).
fn wscale_ok() -> TcpOptions {
    let mut o = TcpOptions::default();
    o.window_scale = Some(0);
    o
}

/// The peer's first data byte.
const DATA: u32 = PEER_ISS + 1;

/// An active open answered by a SYN-ACK with timestamps (TSval `tsval`,
/// echoing our SYN's); returns the connection, our ISS and our SYN's TSval.
fn established_ts(cfg: Config, tsval: u32) -> (Connection, u32, u32) {
    let mut c = active(cfg);
    let syn = drain(&mut c, Instant::ZERO).remove(0);
    let ours = syn.options.timestamps.expect("our SYN offers timestamps").0;
    let mut syn_ack = seg(PEER_ISS, syn.seq.wrapping_add(1), SYN | ACK, b"");
    syn_ack.options.timestamps = Some((tsval, ours));
    feed(&mut c, Instant::ZERO, &syn_ack);
    drain(&mut c, Instant::ZERO);
    assert_eq!(c.state(), State::Established);
    (c, syn.seq, ours)
}

/// A receiver on its own: `config`'s buffer, the peer's SYN at 999 (so
/// RCV.NXT is 1000), this window scale, and its first window advertised.
fn receiver(config: &Config, shift: u8) -> Receiver {
    let mut r = Receiver::new(config);
    r.start(SeqNum(999));
    r.set_wscale(shift);
    r.window_field();
    r
}

#[test]
fn the_window_in_a_syn_is_never_scaled() {
    // 1 MiB needs a shift of 5 to be advertised in 16 bits...
    let cfg = scaled(1 << 20);
    assert_eq!(cfg.rcv_wscale(), 5);
    // ...but the window field of a SYN (or a stack's SYN-ACK) is not
    // scaled: the largest it can say is 65535, not 1 MiB >> 5 = 32768.
    assert_eq!(syn_window(&cfg), 65535);
    let small = scaled(4000);
    assert_eq!(syn_window(&small), 4000);
    let mut c = active(cfg.clone());
    let syn = drain(&mut c, Instant::ZERO).remove(0);
    assert_eq!(syn.window, 65535);
    assert_eq!(syn.options.window_scale, Some(5));
    // Once scaling is agreed, the next segment's field is scaled.
    let mut syn_ack = seg(PEER_ISS, syn.seq.wrapping_add(1), SYN | ACK, b"");
    syn_ack.options = wscale_ok();
    feed(&mut c, Instant::ZERO, &syn_ack);
    let ack = drain(&mut c, Instant::ZERO).remove(0);
    assert_eq!(ack.window, ((1 << 20) >> 5) as u16);
}

#[test]
fn a_listener_s_syn_ack_offers_the_window_the_engine_s_own_would() {
    // A connection made from a listener's half-open record takes the edge
    // its SYN-ACK advertised to be what `syn_window` says: it must be what
    // the engine's own SYN-ACK carries, for every buffer around 64 KiB,
    // segment size and window scaling either way. The ring keeps its
    // rounding room beyond the window (65600 bytes at shift 1 with 536-byte
    // segments: 65600 · 2 / 536 + 2 = 246 bytes more), not inside it.
    for recv_buffer in [4000, 65_000, 65_535, 65_536, 65_600, 70_000, 1 << 20] {
        for mss in [536, 1460] {
            for ws in [false, true] {
                let cfg = Config {
                    mss,
                    ..scaled(recv_buffer)
                };
                let mut c = passive(cfg.clone());
                let mut syn = seg(PEER_ISS, 0, SYN, b"");
                if ws {
                    syn.options = wscale_ok();
                }
                feed(&mut c, Instant::ZERO, &syn);
                let syn_ack = drain(&mut c, Instant::ZERO).remove(0);
                assert_eq!(
                    syn_ack.window,
                    syn_window(&cfg),
                    "buffer {recv_buffer}, mss {mss}, ws {ws}"
                );
            }
        }
    }
    let cfg = Config {
        mss: 536,
        ..scaled(65_600)
    };
    assert_eq!((cfg.rcv_wscale(), syn_window(&cfg)), (1, 65_535));
}

#[test]
fn paws_rejects_an_older_timestamp_until_ts_recent_is_24_days_idle() {
    let (mut c, iss, ours) = established_ts(stamped(), 1000);
    let our = iss.wrapping_add(1);
    // One millisecond older than TS.Recent (1000, set at time zero).
    let old = seg(DATA, our, ACK, b"a").with_ts(999, ours);
    let day_ms = 24 * 3600 * 1000;
    // 23 days later: still an old duplicate, dropped and answered with an
    // ACK.
    feed(&mut c, at_ms(23 * day_ms), &old);
    let out = drain(&mut c, at_ms(23 * day_ms));
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!((out[0].ack, c.recv_queue()), (DATA, 0));
    assert_eq!(c.stats().paws_rejected, 1);
    // Exactly 24 days: not yet "more than 24 days".
    feed(&mut c, at_ms(24 * day_ms), &old);
    drain(&mut c, at_ms(24 * day_ms));
    assert_eq!((c.stats().paws_rejected, c.recv_queue()), (2, 0));
    // A millisecond later TS.Recent is invalid (§5.5): the segment is taken
    // and its TSval becomes TS.Recent.
    let t = at_ms(24 * day_ms + 1);
    feed(&mut c, t, &old);
    let out = drain(&mut c, t);
    assert_eq!((c.stats().paws_rejected, c.recv_queue()), (2, 1));
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].ack, DATA + 1);
    assert_eq!(out[0].options.timestamps.map(|t| t.1), Some(999));
}

#[test]
fn ts_recent_follows_only_segments_that_reach_last_ack_sent() {
    let (mut c, iss, ours) = established_ts(stamped(), 100);
    let our = iss.wrapping_add(1);
    let echo = |out: &[Out]| -> Vec<(u32, u32)> {
        out.iter()
            .map(|s| (s.ack, s.options.timestamps.expect("timestamps").1))
            .collect()
    };
    // In order, newer: TS.Recent moves on (§4.3 (2)).
    feed(
        &mut c,
        at_ms(10),
        &seg(DATA, our, ACK, &[1; 10]).with_ts(200, ours),
    );
    assert_eq!(echo(&drain(&mut c, at_ms(10))), [(DATA + 10, 200)]);
    // Beyond a gap, newer: it does not cover Last.ACK.sent, so the ACK
    // still echoes the last in-sequence segment (§4.3, case (B)).
    feed(
        &mut c,
        at_ms(20),
        &seg(DATA + 20, our, ACK, &[3; 10]).with_ts(300, ours),
    );
    assert_eq!(echo(&drain(&mut c, at_ms(20))), [(DATA + 10, 200)]);
    // The segment that fills the hole sets it (case (C)).
    feed(
        &mut c,
        at_ms(30),
        &seg(DATA + 10, our, ACK, &[2; 10]).with_ts(400, ours),
    );
    assert_eq!(echo(&drain(&mut c, at_ms(30))), [(DATA + 30, 400)]);
}

#[test]
fn right_edge_sws_reopens_a_small_buffer_after_half_of_it_is_read() {
    // 1000-byte buffer, MSS 1460: the worthwhile step is half the buffer.
    let (mut c, iss) = established(
        Config {
            recv_buffer: 1000,
            ..plain()
        },
        TcpOptions::default(),
    );
    feed(
        &mut c,
        at_ms(10),
        &seg(DATA, iss.wrapping_add(1), ACK, &[7; 1000]),
    );
    let out = drain(&mut c, at_ms(10));
    assert_eq!((out.len(), out[0].window), (1, 0), "{out:?}");
    let mut buf = [0u8; 1000];
    assert_eq!(c.recv(&mut buf[..499]), Ok(499));
    assert!(drain(&mut c, at_ms(20)).is_empty(), "499 bytes: a sliver");
    assert_eq!(c.recv(&mut buf[..1]), Ok(1));
    let out = drain(&mut c, at_ms(30));
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!((out[0].ack, out[0].window), (DATA + 1000, 500));
}

#[test]
fn small_window_sws_offers_a_quarter_of_a_small_buffer() {
    // 4.4BSD style, 4000-byte buffer, MSS 1460: no window below 1000.
    let (mut c, iss) = established(
        Config {
            recv_buffer: 4000,
            receiver_sws: ReceiverSws::SmallWindow,
            ..plain()
        },
        TcpOptions::default(),
    );
    feed(
        &mut c,
        at_ms(10),
        &seg(DATA, iss.wrapping_add(1), ACK, &[7; 4000]),
    );
    let out = drain(&mut c, at_ms(10));
    assert_eq!((out.len(), out[0].window), (1, 0), "{out:?}");
    let mut buf = [0u8; 1000];
    assert_eq!(c.recv(&mut buf[..999]), Ok(999));
    assert!(drain(&mut c, at_ms(20)).is_empty(), "999 bytes: a sliver");
    assert_eq!(c.recv(&mut buf[..1]), Ok(1));
    let out = drain(&mut c, at_ms(30));
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!((out[0].ack, out[0].window), (DATA + 4000, 1000));
}

#[test]
fn when_the_spare_room_runs_out_the_edge_is_rounded_down_by_less_than_a_unit() {
    // 1 MiB, shift 5 (32-byte units). One-byte segments to an application
    // that never reads: each ACK rounds the window up, so the edge creeps
    // right a byte at a time and uses up the spare room; then it must be
    // rounded down to a whole unit — a retraction of less than a unit.
    let (mut c, iss) = established(scaled(1 << 20), wscale_ok());
    let our = iss.wrapping_add(1);
    let unit = 32u32;
    let mut edge = DATA + (1 << 20);
    for i in 0..100_000u32 {
        let now = at_ms(10);
        feed(&mut c, now, &seg(DATA + i, our, ACK, &[1]));
        let out = drain(&mut c, now);
        assert_eq!(out.len(), 1);
        let new_edge = out[0].ack + (u32::from(out[0].window) << 5);
        if c.stats().recv.window_retractions == 0 {
            assert!(new_edge >= edge, "edge moved left at segment {i}");
            edge = new_edge;
            continue;
        }
        // The first retraction: the window the edge held, rounded down.
        let held = edge - out[0].ack;
        assert_eq!(new_edge - out[0].ack, held / unit * unit, "at segment {i}");
        assert!(edge - new_edge < unit);
        assert!(i > 20_000, "the spare room lasts: {i}");
        return;
    }
    panic!("the spare room never ran out");
}

#[test]
fn time_wait_acks_carry_the_last_window_scaled() {
    let (mut c, iss) = established(scaled(256 * 1024), wscale_ok());
    assert_eq!(c.info().rcv_wscale, 3);
    c.shutdown(at_ms(10));
    drain(&mut c, at_ms(10));
    let fin = seg(DATA, iss.wrapping_add(2), ACK | FIN, b"");
    feed(&mut c, at_ms(20), &fin);
    let out = drain(&mut c, at_ms(20));
    assert_eq!(c.state(), State::TimeWait);
    assert_eq!(out.len(), 1);
    assert_eq!(u32::from(out[0].window), (256 * 1024) >> 3);
    let tw = c.time_wait_state().expect("in TIME-WAIT");
    assert_eq!(u32::from(tw.window), (256 * 1024) >> 3);
}

#[test]
fn a_window_update_is_sent_once_the_scaled_window_doubles_from_half_the_buffer() {
    // 256 KiB, shift 3. The peer fills all but 62144 bytes (less than
    // half); once the application reads, the window may grow to 256 KiB:
    // worth a segment of its own. The limits are in scaled units
    // (65535 << 3), not 65535 bytes.
    let (mut c, iss) = established(scaled(256 * 1024), wscale_ok());
    let our = iss.wrapping_add(1);
    for k in 0..4 {
        feed(
            &mut c,
            at_ms(10),
            &seg(DATA + k * 50_000, our, ACK, &[7; 50_000]),
        );
    }
    let out = drain(&mut c, at_ms(10));
    assert_eq!(
        out.last().map(|s| u32::from(s.window)),
        Some((262_144 - 200_000) >> 3)
    );
    let mut buf = vec![0u8; 200_000];
    assert_eq!(c.recv(&mut buf), Ok(200_000));
    let out = drain(&mut c, at_ms(20));
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(out[0].is_pure_ack());
    assert_eq!(
        (out[0].ack, u32::from(out[0].window)),
        (DATA + 200_000, 262_144 >> 3)
    );
}

#[test]
fn a_fin_right_after_data_that_fills_the_window_is_taken() {
    // The FIN takes no buffer room: data filling the 100-byte window
    // exactly and a FIN after it end the stream, as Linux has it (the
    // RFC 9293 §3.10.7.4 idealized segment would trim the FIN off, and
    // the peer would have to send it again into a zero window).
    let (mut c, iss) = established(
        Config {
            recv_buffer: 100,
            ..plain()
        },
        TcpOptions::default(),
    );
    assert_eq!(c.info().rcv_wnd, 100);
    feed(
        &mut c,
        at_ms(10),
        &seg(DATA, iss.wrapping_add(1), ACK | FIN, &[7; 100]),
    );
    assert_eq!(c.state(), State::CloseWait);
    assert!(c.peer_closed());
    let out = drain(&mut c, at_ms(10));
    assert_eq!((out.len(), out[0].ack, out[0].window), (1, DATA + 101, 0));
}

#[test]
fn a_bare_fin_beyond_a_gap_is_acknowledged_at_once() {
    let (mut c, iss) = established(plain(), TcpOptions::default());
    let our = iss.wrapping_add(1);
    feed(&mut c, at_ms(10), &seg(DATA + 100, our, ACK | FIN, b""));
    let out = drain(&mut c, at_ms(10));
    assert_eq!(out.len(), 1, "the gap is news: {out:?}");
    assert_eq!(out[0].ack, DATA);
    assert_eq!(c.state(), State::Established);
    // The gap filled, the FIN is in order.
    feed(&mut c, at_ms(20), &seg(DATA, our, ACK, &[7; 100]));
    assert_eq!(c.state(), State::CloseWait);
    assert_eq!(drain(&mut c, at_ms(20))[0].ack, DATA + 101);
}

#[test]
fn bytes_received_counts_each_byte_once_when_it_is_delivered() {
    let (mut c, iss) = established(plain(), TcpOptions::default());
    let our = iss.wrapping_add(1);
    feed(&mut c, at_ms(10), &seg(DATA + 100, our, ACK, &[2; 50]));
    assert_eq!(c.stats().recv.bytes_received, 0, "not in order yet");
    feed(&mut c, at_ms(20), &seg(DATA, our, ACK, &[1; 100]));
    assert_eq!(c.stats().recv.bytes_received, 150);
    // A repeat delivers nothing new.
    feed(&mut c, at_ms(30), &seg(DATA + 90, our, ACK, &[1; 70]));
    assert_eq!(c.stats().recv.bytes_received, 160);
    assert_eq!(c.recv_queue(), 160);
}

#[test]
fn set_buffer_sizes_grows_the_scaled_window_and_never_shrinks_below_the_offer() {
    let (mut c, _) = established(scaled(256 * 1024), wscale_ok());
    // Below the 256 KiB already offered: the offer stands (RFC 7323 §2.4).
    assert_eq!(c.set_buffer_sizes(4096, 1000), (4096, 256 * 1024));
    assert_eq!(c.buffer_sizes(), (4096, 256 * 1024));
    // Larger: offered whole by the next segment, in units of 8.
    assert_eq!(c.set_buffer_sizes(4096, 400 * 1024), (4096, 400 * 1024));
    assert_eq!(c.buffer_sizes(), (4096, 400 * 1024));
    assert_eq!(c.send(b"x"), Ok(1));
    let out = drain(&mut c, at_ms(10));
    assert_eq!(out.len(), 1);
    assert_eq!(u32::from(out[0].window), (400 * 1024) >> 3);
    assert_eq!(c.info().rcv_wnd, 400 * 1024);
}

#[test]
fn the_receive_ring_is_allocated_when_data_first_arrives() {
    let (mut c, iss) = established(plain(), TcpOptions::default());
    assert_eq!(c.buffer_memory(), 0);
    feed(
        &mut c,
        at_ms(10),
        &seg(DATA, iss.wrapping_add(1), ACK, &[7; 100]),
    );
    assert_eq!(c.buffer_memory(), synack_tcp::buffer::FIRST_ALLOCATION);
}

#[test]
fn one_full_segment_and_a_sliver_wait_for_the_delayed_ack_timer() {
    // RFC 5681 §4.2: an ACK at least for every second full-sized segment.
    // 1460 + 2 bytes is less than that: the timer decides.
    let cfg = Config {
        delayed_ack: Duration::from_millis(40),
        quick_ack: false,
        ..plain()
    };
    let (mut c, iss) = established(cfg, TcpOptions::default());
    let our = iss.wrapping_add(1);
    feed(&mut c, at_ms(10), &seg(DATA, our, ACK, &[1; 1460]));
    assert!(drain(&mut c, at_ms(10)).is_empty());
    feed(&mut c, at_ms(11), &seg(DATA + 1460, our, ACK, &[2; 2]));
    assert!(
        drain(&mut c, at_ms(11)).is_empty(),
        "1462 bytes: less than two full segments"
    );
    assert_eq!(c.poll_timeout(), Some(at_ms(50)));
    // The rest of a second full segment: acknowledged at once.
    feed(&mut c, at_ms(12), &seg(DATA + 1462, our, ACK, &[3; 1458]));
    let out = drain(&mut c, at_ms(12));
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].ack, DATA + 2920);
}

#[test]
fn a_repeated_out_of_order_segment_puts_its_range_first_after_the_dsack() {
    let cfg = Config {
        sack: true,
        ..plain()
    };
    let mut o = TcpOptions::default();
    o.sack_permitted = true;
    let (mut c, iss) = established(cfg, o);
    let our = iss.wrapping_add(1);
    let high = seg(DATA + 300, our, ACK, &[3; 100]);
    let b = (DATA + 300, DATA + 400);
    let a = (DATA + 100, DATA + 200);
    feed(&mut c, at_ms(10), &high);
    assert_eq!(drain(&mut c, at_ms(10))[0].sack(), [b]);
    feed(&mut c, at_ms(20), &seg(DATA + 100, our, ACK, &[1; 100]));
    assert_eq!(drain(&mut c, at_ms(20))[0].sack(), [a, b]);
    // The higher range again: reported as a D-SACK (RFC 2883), then the
    // range holding it goes first among the SACK blocks (RFC 2018 §4).
    feed(&mut c, at_ms(30), &high);
    let out = drain(&mut c, at_ms(30));
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].sack(), [b, b, a]);
}

// The receiver on its own (`synack_tcp::receiver::Receiver`): what a
// connection does not show — its out-of-order list, its `readable` flag,
// segments the connection's acceptability test answers before they reach
// it, and the invariant checker.

#[test]
fn out_of_order_ranges_are_kept_sorted_and_merged() {
    let mut r = receiver(&plain(), 0);
    assert_eq!(r.ooo_ranges(), &[]);
    r.on_text(SeqNum(1300), &[3; 100], false);
    r.on_text(SeqNum(1100), &[1; 100], false);
    assert_eq!(
        r.ooo_ranges(),
        &[(SeqNum(1100), SeqNum(1200)), (SeqNum(1300), SeqNum(1400))]
    );
    // Filling between them merges them into one.
    r.on_text(SeqNum(1200), &[2; 100], false);
    assert_eq!(r.ooo_ranges(), &[(SeqNum(1100), SeqNum(1400))]);
    // The gap before them filled: delivered, and the list is empty.
    let out = r.on_text(SeqNum(1000), &[0; 100], false);
    assert_eq!(out.delivered, 400);
    assert_eq!(r.ooo_ranges(), &[]);
    r.check(32).unwrap();
}

#[test]
fn only_delivered_data_makes_the_receiver_readable() {
    let mut r = receiver(&plain(), 0);
    r.on_text(SeqNum(1100), &[1; 100], false);
    assert!(!r.readable, "out of order: nothing to read yet");
    assert_eq!(r.queued(), 0);
    r.on_text(SeqNum(1000), &[1; 100], false);
    assert!(r.readable);
    let mut buf = [0u8; 300];
    assert_eq!(r.read(&mut buf), 200);
    assert!(!r.readable);
}

#[test]
fn a_duplicate_ending_at_rcv_nxt_owes_one_ack_with_its_dsack() {
    // `on_text` takes a segment as it arrived, before trimming. One that
    // only repeats data is acknowledged at once, once, with a D-SACK.
    let mut r = receiver(&plain(), 0);
    r.on_text(SeqNum(1000), &[1; 100], false);
    r.ack.on_sent();
    assert_eq!(r.ack.owed(), 0);
    let out = r.on_text(SeqNum(1090), &[1; 10], false);
    assert_eq!(out.delivered, 0);
    assert_eq!(r.ack.owed(), 1);
    assert_eq!(r.stats.duplicate_segments, 1);
    assert_eq!(
        r.ack.blocks().collect::<Vec<_>>(),
        [(SeqNum(1090), SeqNum(1100))]
    );
}

#[test]
fn a_duplicate_wholly_below_rcv_nxt_owes_one_ack_not_two() {
    // A second ACK for the same old segment would be one more duplicate
    // ACK towards the sender's fast-retransmit threshold.
    let mut r = receiver(&plain(), 0);
    r.on_text(SeqNum(1000), &[1; 100], false);
    r.ack.on_sent();
    let out = r.on_text(SeqNum(1020), &[1; 30], false);
    assert_eq!(out.delivered, 0);
    assert_eq!(r.ack.owed(), 1);
    assert_eq!(
        r.ack.blocks().collect::<Vec<_>>(),
        [(SeqNum(1020), SeqNum(1050))]
    );
}

#[test]
fn an_empty_segment_below_rcv_nxt_carries_no_duplicate_data() {
    // Nothing in it was received before: not a duplicate, no D-SACK.
    let mut r = receiver(&plain(), 0);
    r.on_text(SeqNum(1000), &[1; 100], false);
    r.ack.on_sent();
    r.on_text(SeqNum(1050), &[], false);
    assert_eq!(r.stats.duplicate_segments, 0);
    assert!(!r.ack.has_blocks());
}

#[test]
fn an_ack_owed_for_out_of_order_data_is_pending() {
    let mut r = receiver(&plain(), 0);
    assert!(!r.ack.pending());
    r.on_text(SeqNum(1100), &[1; 100], false);
    assert_eq!(r.ack.owed(), 1);
    assert!(r.ack.pending() && r.ack.due());
    // Without data: owing an ACK is pending as such.
    let mut a = AckPolicy::new(Duration::from_millis(40));
    a.owe_one_more();
    assert!(a.pending());
    a.on_sent();
    assert!(!a.pending());
}

#[test]
fn check_reports_a_reassembly_list_over_its_bound() {
    let mut r = receiver(&plain(), 0);
    for k in 0..3 {
        r.on_text(SeqNum(1100 + 200 * k), &[1; 100], false);
    }
    assert_eq!(r.ooo_ranges().len(), 3);
    assert_eq!(r.check(3), Ok(()));
    assert_eq!(r.check(2), Err("reassembly list over its bound"));
}

#[test]
fn check_reports_a_range_not_after_rcv_nxt() {
    let mut r = receiver(&plain(), 0);
    r.on_text(SeqNum(1100), &[1; 100], false);
    assert_eq!(r.check(32), Ok(()));
    // A range RCV.NXT has reached must have been delivered.
    r.nxt = SeqNum(1100);
    assert_eq!(r.check(32), Err("reassembly range not after RCV.NXT"));
    r.nxt = SeqNum(1150);
    assert_eq!(r.check(32), Err("reassembly range not after RCV.NXT"));
}
