//! The retransmission record (`sender::record`) through its own API, for
//! the rules the sender and recovery rely on but cannot show alone:
//!
//! * RFC 6675 §4 `pipe`: an entry is in the network unless SACKed or
//!   marked lost, and a lost entry sent again is back in it;
//! * what a cumulative ACK or a SACK block reports as delivered: the
//!   sequence space, the payload (a FIN takes sequence space, not
//!   payload), the FIN, whether any of it had been sent more than once
//!   (RFC 9293 §3.10.7.4's retransmission queue, RFC 2018's SACK);
//! * the entries in sequence order, first and last, and the highest
//!   sequence number SACKed.

use synack_tcp::sender::record::Record;
use synack_tcp::{Duration, Instant, SeqNum};

fn t(ms: u64) -> Instant {
    Instant::ZERO + Duration::from_millis(ms)
}

/// `n` 100-byte segments from 1000, sent 1 ms apart.
fn record(n: u32) -> Record {
    let mut r = Record::default();
    for k in 0..n {
        r.push(SeqNum(1000 + 100 * k), 100, false, t(u64::from(k)));
    }
    r
}

/// Whether each entry counts towards `pipe`, in order.
fn in_pipe(r: &Record) -> Vec<bool> {
    r.iter().map(|s| s.in_pipe()).collect()
}

#[test]
fn pipe_counts_what_is_neither_sacked_nor_lost_and_lost_data_once_resent() {
    // RFC 6675 §4: pipe = outstanding − SACKed − lost + retransmitted.
    let mut r = record(4);
    assert_eq!(in_pipe(&r), [true, true, true, true], "all sent once");
    r.sack(SeqNum(1100), SeqNum(1200));
    assert!(r.mark_lost(0));
    assert_eq!(in_pipe(&r), [false, false, true, true]);
    assert_eq!(r.pipe(), 200);
    // Segment 0 sent again is back in the network.
    let s = r.retransmit(0, 100, t(10));
    assert!(s.lost() && s.retransmitted());
    assert!(r.get(0).unwrap().retransmitted());
    assert_eq!(in_pipe(&r), [true, false, true, true]);
    assert_eq!(r.pipe(), 300);
    // A segment sent again without being marked lost (a tail loss probe)
    // is not a retransmission of lost data: it was in the pipe all along.
    let s = r.retransmit(3, 100, t(11));
    assert!(!s.lost() && !s.retransmitted());
    assert_eq!(in_pipe(&r), [true, false, true, true]);
    assert_eq!(r.pipe(), 300);
    // The sum of the entries in the pipe is `pipe`.
    let sum: u32 = r.iter().filter(|s| s.in_pipe()).map(|s| s.len).sum();
    assert_eq!(sum, r.pipe());
    r.check().unwrap();
}

#[test]
fn a_lost_segment_sent_again_is_no_longer_waiting_to_be_sent() {
    // RFC 6675 §5 (NextSeg rule 1): only lost data not yet retransmitted
    // is sent again; once resent it waits to be ACKed, SACKed or marked
    // lost once more.
    let mut r = record(3);
    assert!(r.mark_lost(1));
    assert_eq!(r.next_lost(), Some(1));
    r.retransmit(1, 100, t(10));
    assert_eq!(r.next_lost(), None);
    assert!(r.mark_lost(2));
    assert_eq!(r.next_lost(), Some(2));
    r.retransmit(2, 100, t(11));
    assert_eq!(r.next_lost(), None);
    // Lost again: waiting again.
    assert!(r.mark_lost(1));
    assert_eq!(r.next_lost(), Some(1));
    r.check().unwrap();
}

#[test]
fn an_ack_reports_payload_without_the_fin_and_whether_any_was_resent() {
    let mut r = record(2);
    // 50 bytes and the FIN: 51 of sequence space.
    r.push(SeqNum(1200), 51, true, t(2));
    assert!(r.last().unwrap().fin());

    let d = r.ack(SeqNum(1100));
    assert_eq!((d.bytes, d.payload, d.fin), (100, 100, false));
    assert!(!d.any_retransmitted, "sent once");

    r.retransmit(0, 100, t(10));
    let d = r.ack(SeqNum(1200));
    assert_eq!((d.bytes, d.payload, d.fin), (100, 100, false));
    assert!(d.any_retransmitted, "sent twice");

    let d = r.ack(SeqNum(1251));
    assert_eq!((d.bytes, d.payload, d.fin), (51, 50, true));
    assert!(!d.any_retransmitted);
    assert!(r.is_empty());
}

#[test]
fn a_partial_ack_of_the_fins_segment_delivers_payload_not_the_fin() {
    let mut r = Record::default();
    r.push(SeqNum(1000), 101, true, t(0));
    let d = r.ack(SeqNum(1100));
    assert_eq!((d.bytes, d.payload, d.fin), (100, 100, false));
    let d = r.ack(SeqNum(1101));
    assert_eq!((d.bytes, d.payload, d.fin), (1, 0, true));
}

#[test]
fn a_sack_block_reports_what_it_delivered_like_an_ack() {
    // RFC 2018: a SACKed segment is delivered once; the FIN's sequence
    // byte is not payload.
    let mut r = record(2);
    r.push(SeqNum(1200), 51, true, t(2));
    r.retransmit(1, 100, t(10));
    let d = r.sack(SeqNum(1100), SeqNum(1251));
    assert_eq!((d.bytes, d.payload, d.fin), (151, 150, true));
    assert!(d.any_retransmitted);
    assert_eq!(d.newest.map(|s| s.start), Some(SeqNum(1100)), "sent last");
    let d = r.sack(SeqNum(1000), SeqNum(1100));
    assert_eq!((d.bytes, d.payload, d.fin), (100, 100, false));
    assert!(!d.any_retransmitted);
}

#[test]
fn entries_are_kept_in_sequence_order_first_to_last() {
    let mut r = record(3);
    let starts: Vec<u32> = r.iter().map(|s| s.start.0).collect();
    assert_eq!(starts, [1000, 1100, 1200]);
    assert_eq!(r.first().map(|s| s.start), Some(SeqNum(1000)));
    assert_eq!(r.last().map(|s| s.start), Some(SeqNum(1200)));
    r.ack(SeqNum(1250));
    assert_eq!(r.first().map(|s| (s.start, s.len)), Some((SeqNum(1250), 50)));
    assert_eq!(r.last().map(|s| (s.start, s.len)), Some((SeqNum(1250), 50)));
    r.ack(SeqNum(1300));
    assert_eq!(r.last(), None);
    assert_eq!(r.iter().count(), 0);
}

#[test]
fn highest_sacked_is_the_end_of_the_highest_sacked_entry_until_acked() {
    // The highest sequence number a SACK block has covered, forgotten
    // once SND.UNA passes it.
    let mut r = record(4);
    assert_eq!(r.highest_sacked(), None, "nothing SACKed");
    r.sack(SeqNum(1100), SeqNum(1200));
    assert_eq!(r.highest_sacked(), Some(SeqNum(1200)));
    r.sack(SeqNum(1300), SeqNum(1350));
    assert_eq!(r.highest_sacked(), Some(SeqNum(1350)));
    r.sack(SeqNum(1200), SeqNum(1300));
    assert_eq!(r.highest_sacked(), Some(SeqNum(1350)), "a lower block");
    r.ack(SeqNum(1200));
    assert_eq!(r.highest_sacked(), Some(SeqNum(1350)));
    r.ack(SeqNum(1350));
    assert_eq!(r.highest_sacked(), None, "all of it ACKed");
}
