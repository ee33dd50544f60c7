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
    assert_eq!(
        r.first().map(|s| (s.start, s.len)),
        Some((SeqNum(1250), 50))
    );
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

#[test]
fn a_resent_fin_rides_with_the_last_bytes_of_its_segment() {
    // The FIN takes the sequence number after the last byte (RFC 9293
    // §3.4) but no room in the segment: the payload room `max` limits the
    // bytes; a FIN goes with the piece that ends the entry.
    let mut r = Record::default();
    r.push(SeqNum(1000), 100, false, t(0));
    r.push(SeqNum(1100), 101, true, t(0));
    let s = r.retransmit(1, 100, t(10));
    assert_eq!((s.start, s.len, s.fin()), (SeqNum(1100), 101, true), "fits");
    assert_eq!(r.len(), 2);
    let s = r.retransmit(1, 60, t(11));
    assert_eq!((s.start, s.len, s.fin()), (SeqNum(1100), 60, false));
    let rest = *r.get(2).unwrap();
    assert_eq!((rest.start, rest.len, rest.fin()), (SeqNum(1160), 41, true));
    // No room at all still sends one byte.
    let s = r.retransmit(2, 0, t(12));
    assert_eq!((s.start, s.len, s.fin()), (SeqNum(1160), 1, false));
    let s = r.retransmit(3, 40, t(13));
    assert_eq!((s.start, s.len, s.fin()), (SeqNum(1161), 40, true));
    // A FIN alone (no payload) is sent whole.
    let mut r = Record::default();
    r.push(SeqNum(1000), 1, true, t(0));
    let s = r.retransmit(0, 0, t(1));
    assert_eq!((s.len, s.fin(), s.payload_len()), (1, true, 0));
    r.check().unwrap();
}

#[test]
fn one_sack_block_over_more_holes_than_the_cache_holds_delivers_each_hole() {
    // RFC 2018: a block reports everything in it received. Here it
    // covers 100 SACKed ranges and the 100 holes between them, more than
    // the record's cache of SACKed ranges remembers.
    let mut r = Record::default();
    for k in 0..200u32 {
        r.push(SeqNum(1000 + 10 * k), 10, false, t(0));
    }
    for k in 0..100u32 {
        let left = SeqNum(1000 + 20 * k);
        assert_eq!(r.sack(left, left + 10).bytes, 10);
    }
    r.check().unwrap();
    let d = r.sack(SeqNum(1000), SeqNum(3000));
    assert_eq!(d.bytes, 1000);
    assert_eq!(r.sacked_bytes(), 2000);
    assert_eq!(r.pipe(), 0);
    assert_eq!(r.next_unsacked(0), None);
    r.check().unwrap();
}

// ---- the record against a byte-by-byte model --------------------------------

/// What the model knows of one byte in flight.
#[derive(Clone, Copy, Default, PartialEq, Debug)]
struct Byte {
    sacked: bool,
    lost: bool,
    retrans: bool,
}

impl Byte {
    fn in_pipe(self) -> bool {
        !self.sacked && (!self.lost || self.retrans)
    }
}

/// A byte-by-byte model of the record: `bytes[k]` is sequence number
/// `una + k`.
struct Model {
    una: SeqNum,
    bytes: Vec<Byte>,
}

impl Model {
    fn count(&self, f: impl Fn(Byte) -> bool) -> u32 {
        self.bytes.iter().filter(|&&b| f(b)).count() as u32
    }
    fn at(&self, seq: SeqNum) -> Byte {
        self.bytes[seq.since(self.una) as usize]
    }
    fn range(&mut self, start: SeqNum, len: u32) -> &mut [Byte] {
        let k = start.since(self.una) as usize;
        &mut self.bytes[k..k + len as usize]
    }
}

/// A small deterministic generator (numbers from Knuth's MMIX LCG).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u32) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % u64::from(n.max(1))) as u32
    }
}

/// Checks every sum and mark of `r` against the model.
fn agree(r: &Record, m: &Model, step: usize) {
    r.check().unwrap_or_else(|e| panic!("step {step}: {e}"));
    assert_eq!(r.outstanding(), m.bytes.len() as u32, "step {step}");
    assert_eq!(r.sacked_bytes(), m.count(|b| b.sacked), "step {step}");
    assert_eq!(r.lost_bytes(), m.count(|b| b.lost), "step {step}");
    assert_eq!(r.pipe(), m.count(Byte::in_pipe), "step {step}");
    assert_eq!(
        r.first().map(|s| s.start),
        (!m.bytes.is_empty()).then_some(m.una)
    );
    for s in r.iter() {
        // Every byte of an entry carries the entry's marks.
        let want = Byte {
            sacked: s.sacked(),
            lost: s.lost(),
            retrans: s.retransmitted(),
        };
        for k in 0..s.len {
            assert_eq!(m.at(s.start + k), want, "step {step}: {s:?} byte {k}");
        }
    }
}

#[test]
fn the_record_agrees_with_a_byte_model_through_acks_sacks_losses_and_resends() {
    // RFC 6675 §4's pipe and RFC 2018's SACK, kept per byte the simple way,
    // against the record's entries, splits, sums and SACK cache, for
    // thousands of random steps; the sequence space crosses 2^32, and more
    // than 64 disjoint SACKed ranges overflow the cache.
    for seed in 1..=40u64 {
        let mut g = Lcg(seed);
        let start = SeqNum(u32::MAX - 3000) + g.below(6000);
        let mut r = Record::default();
        let mut m = Model {
            una: start,
            bytes: Vec::new(),
        };
        let mut nxt = start;
        let mut now = 0;
        // Every other seed SACKs only short blocks and ACKs nothing for a
        // while: its SACKed ranges outnumber the cache.
        let dense = seed % 2 == 0;
        if dense {
            for _ in 0..400 {
                let len = 1 + g.below(8);
                r.push(nxt, len, false, t(0));
                nxt += len;
                m.bytes.extend((0..len).map(|_| Byte::default()));
            }
        }
        for step in 0..600 {
            now += 1;
            let flight = m.bytes.len() as u32;
            let entries = r.len() as u32;
            match g.below(10) {
                0 | 1 if flight < 4000 => {
                    // Short segments, so that many SACK ranges fit.
                    let most = if g.below(4) == 0 { 60 } else { 8 };
                    let len = 1 + g.below(most);
                    r.push(nxt, len, false, t(now));
                    nxt += len;
                    m.bytes.extend((0..len).map(|_| Byte::default()));
                }
                2 | 3 => {
                    let left = m.una + g.below(flight + 20);
                    let left = left - 10;
                    let most = if dense || g.below(2) == 0 { 5 } else { 200 };
                    let right = left + g.below(most);
                    let mut newly = 0;
                    for k in 0..flight {
                        let seq = m.una + k;
                        if seq.after_eq(left) && seq.before(right) && !m.bytes[k as usize].sacked {
                            newly += 1;
                            m.bytes[k as usize] = Byte {
                                sacked: true,
                                ..Byte::default()
                            };
                        }
                    }
                    let d = r.sack(left, right);
                    assert_eq!(d.bytes, newly, "step {step}: SACK {left}..{right}");
                }
                4 if g.below(3) == 0 && (!dense || step > 450) => {
                    let n = g.below(flight.min(300) + 1);
                    let newly = m.bytes[..n as usize].iter().filter(|b| !b.sacked).count() as u32;
                    let d = r.ack(m.una + n);
                    assert_eq!(d.bytes, newly, "step {step}: ACK +{n}");
                    m.bytes.drain(..n as usize);
                    m.una += n;
                }
                5 if entries > 0 => {
                    let i = g.below(entries) as usize;
                    let s = *r.get(i).unwrap();
                    let b = m.at(s.start);
                    let want = !(b.sacked || b.lost && !b.retrans);
                    assert_eq!(r.mark_lost(i), want, "step {step}: mark_lost({i})");
                    if want {
                        m.range(s.start, s.len).fill(Byte {
                            lost: true,
                            ..Byte::default()
                        });
                    }
                }
                6 if g.below(8) == 0 => {
                    let want = m.count(|b| !b.sacked);
                    assert_eq!(r.mark_all_lost(), want, "step {step}");
                    for b in m.bytes.iter_mut().filter(|b| !b.sacked) {
                        *b = Byte {
                            lost: true,
                            ..Byte::default()
                        };
                    }
                }
                7 | 8 if entries > 0 => {
                    // The first lost entry not yet resent (NextSeg rule 1),
                    // or any entry (a probe).
                    let waiting = r.iter().position(|s| s.lost() && !s.retransmitted());
                    assert_eq!(r.next_lost(), waiting, "step {step}");
                    let i = match waiting {
                        Some(i) if g.below(2) == 0 => i,
                        _ => g.below(entries) as usize,
                    };
                    let max = g.below(40);
                    let before = *r.get(i).unwrap();
                    let s = r.retransmit(i, max, t(now));
                    assert_eq!(s.start, before.start);
                    assert_eq!(s.len, before.len.min(max.max(1)), "step {step}");
                    assert_eq!(s.xmits, before.xmits + 1);
                    if before.lost() && !before.sacked() {
                        for b in m.range(s.start, s.len) {
                            b.retrans = true;
                        }
                    }
                }
                9 if entries > 0 => {
                    let i = g.below(entries + 2) as usize;
                    let want = (i..r.len()).find(|&j| !r.get(j).unwrap().sacked());
                    assert_eq!(r.next_unsacked(i), want, "step {step}");
                    if i < r.len() {
                        let s = *r.get(i).unwrap();
                        let tail = g.below(s.len + 2);
                        let j = r.split_tail(i, tail);
                        if tail == 0 || tail >= s.len {
                            assert_eq!((j, r.get(j).unwrap().len), (i, s.len));
                        } else {
                            assert_eq!(j, i + 1);
                            assert_eq!(r.get(j).unwrap().start, s.end() - tail);
                            assert_eq!(r.get(j).unwrap().len, tail);
                        }
                    }
                }
                _ => {}
            }
            agree(&r, &m, step);
        }
    }
}
