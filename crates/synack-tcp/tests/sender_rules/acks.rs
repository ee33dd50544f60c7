//! What an ACK tells the sender: SACK input, RTT samples, and the
//! window update rule.

use super::*;

// ---- SACK input ---------------------------------------------------------

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
