//! The retransmission record: every segment in flight, in sequence order.
//!
//! Each entry remembers its sequence range, when it was last sent, how many
//! times, and three marks: SACKED (the receiver holds it), LOST (recovery
//! decided it must be sent again) and RETRANS (it was sent again since it
//! was marked lost, and that copy is in flight). From the marks follows
//! RFC 6675's `pipe`, the data believed to be in the network:
//!
//! ```text
//! pipe = outstanding − SACKed − lost + retransmitted
//! ```
//!
//! The record keeps those four sums current on every change, so the sender
//! reads `pipe` in O(1). The bytes themselves stay in the send ring; an
//! entry is 24 bytes of bookkeeping.
//!
//! SACK processing is incremental: a small cache of ranges known to be
//! SACKed lets a block that grew by one segment cost one segment, and lets
//! scans skip SACKed runs in one step.

use crate::seq::SeqNum;
use crate::time::Instant;
use std::collections::VecDeque;

const FIN: u8 = 1;
const SACKED: u8 = 2;
const LOST: u8 = 4;
const RETRANS: u8 = 8;

/// Most ranges the SACK cache remembers; beyond it scans step one entry
/// at a time (slower, never wrong).
const MAX_CACHED_RANGES: usize = 64;

/// One segment in flight.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Sent {
    pub start: SeqNum,
    /// Sequence space it covers: payload bytes, plus one for a FIN.
    pub len: u32,
    /// When it was last (re)transmitted.
    pub xmit_at: Instant,
    /// The connection's transmission counter at that time: orders
    /// transmissions made at the same instant (RACK needs to know which
    /// went out last; a sequence number cannot tell a retransmission sent
    /// after new data from new data sent after it).
    pub order: u32,
    /// Transmissions so far (1 = never retransmitted), saturating.
    pub xmits: u8,
    flags: u8,
}

impl Sent {
    /// This transmission went out after `other`'s (RFC 8985's
    /// RACK_sent_after, with the transmission counter as tie-breaker).
    pub fn sent_after(&self, other: &Sent) -> bool {
        (self.xmit_at, self.order) > (other.xmit_at, other.order)
    }

    pub fn end(&self) -> SeqNum {
        self.start + self.len
    }
    pub fn fin(&self) -> bool {
        self.flags & FIN != 0
    }
    /// Payload bytes (the FIN takes sequence space, not payload).
    pub fn payload_len(&self) -> u32 {
        self.len - u32::from(self.fin())
    }
    pub fn sacked(&self) -> bool {
        self.flags & SACKED != 0
    }
    pub fn lost(&self) -> bool {
        self.flags & LOST != 0
    }
    pub fn retransmitted(&self) -> bool {
        self.flags & RETRANS != 0
    }
    /// Still believed to be in the network (counts towards `pipe`).
    pub fn in_pipe(&self) -> bool {
        !self.sacked() && (!self.lost() || self.retransmitted())
    }
}

/// What a cumulative ACK or a SACK block delivered.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Delivered {
    /// Sequence space newly known to have arrived (not counting what was
    /// already SACKed before).
    pub bytes: u32,
    /// Payload bytes of the above (without the FIN).
    pub payload: u32,
    /// The most recently sent of the delivered segments, for RTT and RACK.
    pub newest: Option<Sent>,
    /// A delivered segment had been sent more than once.
    pub any_retransmitted: bool,
    /// The FIN was among the delivered.
    pub fin: bool,
}

impl Delivered {
    fn add(&mut self, s: &Sent, bytes: u32) {
        self.bytes += bytes;
        self.payload += bytes - u32::from(s.fin() && bytes == s.len);
        self.fin |= s.fin();
        self.any_retransmitted |= s.xmits > 1;
        if self.newest.is_none_or(|n| s.sent_after(&n)) {
            self.newest = Some(*s);
        }
    }
}

/// The segments in flight and the sums over their marks.
#[derive(Clone, Debug, Default)]
pub struct Record {
    segs: VecDeque<Sent>,
    outstanding: u32,
    sacked: u32,
    lost: u32,
    retrans: u32,
    /// Disjoint ranges known to be SACKed in `segs` (a cache: every byte in
    /// it is marked SACKED; not every SACKED byte need be in it).
    sack_cache: Vec<(SeqNum, SeqNum)>,
    /// No LOST-and-not-RETRANS entry sits before this index.
    retx_hint: u32,
    /// The end of the highest SACKed entry still in the record.
    highest_sacked: Option<SeqNum>,
    /// Transmissions so far (the `order` of the next one).
    transmissions: u32,
}

impl Record {
    /// Forgets every segment in flight (the connection is gone: RFC 9293
    /// §3.10.7.4 flushes the retransmission queue on a reset).
    pub fn clear(&mut self) {
        self.segs.clear();
        self.outstanding = 0;
        self.sacked = 0;
        self.lost = 0;
        self.retrans = 0;
        self.sack_cache.clear();
        self.retx_hint = 0;
        self.highest_sacked = None;
    }

    /// Takes the storage of a finished record (emptied) if this one has
    /// none yet.
    pub fn reuse_memory(&mut self, old: &mut Record) {
        if self.segs.capacity() == 0 && self.segs.is_empty() {
            self.segs = std::mem::take(&mut old.segs);
            self.segs.clear();
        }
        if self.sack_cache.capacity() == 0 && self.sack_cache.is_empty() {
            self.sack_cache = std::mem::take(&mut old.sack_cache);
            self.sack_cache.clear();
        }
    }

    pub fn is_empty(&self) -> bool {
        self.segs.is_empty()
    }
    pub fn len(&self) -> usize {
        self.segs.len()
    }
    pub fn outstanding(&self) -> u32 {
        self.outstanding
    }
    pub fn sacked_bytes(&self) -> u32 {
        self.sacked
    }
    pub fn lost_bytes(&self) -> u32 {
        self.lost
    }
    /// RFC 6675 §4 `pipe`.
    pub fn pipe(&self) -> u32 {
        self.outstanding - self.sacked - self.lost + self.retrans
    }
    pub fn first(&self) -> Option<&Sent> {
        self.segs.front()
    }
    pub fn last(&self) -> Option<&Sent> {
        self.segs.back()
    }
    pub fn get(&self, i: usize) -> Option<&Sent> {
        self.segs.get(i)
    }
    pub fn iter(&self) -> impl Iterator<Item = &Sent> {
        self.segs.iter()
    }
    /// The highest sequence number SACKed so far (end of the last SACKed entry).
    pub fn highest_sacked(&self) -> Option<SeqNum> {
        self.highest_sacked
    }

    /// A new segment went out for the first time.
    pub fn push(&mut self, start: SeqNum, len: u32, fin: bool, now: Instant) {
        debug_assert!(self.segs.back().is_none_or(|s| s.end() == start));
        let order = self.next_order();
        self.segs.push_back(Sent {
            start,
            len,
            xmit_at: now,
            order,
            xmits: 1,
            flags: if fin { FIN } else { 0 },
        });
        self.outstanding += len;
    }

    fn next_order(&mut self) -> u32 {
        self.transmissions = self.transmissions.wrapping_add(1);
        self.transmissions
    }

    /// Takes back the last entry if it is a probe byte nobody accepted
    /// (the only thing in flight): it goes out again inside a full segment.
    pub fn unsend_probe(&mut self) -> bool {
        if self.segs.len() != 1 || self.segs[0].len != 1 || self.segs[0].sacked() {
            return false;
        }
        let s = self.segs.pop_back().expect("one entry");
        self.unmark(&s);
        self.outstanding -= s.len;
        self.retx_hint = 0;
        true
    }

    fn unmark(&mut self, s: &Sent) {
        if s.sacked() {
            self.sacked -= s.len;
        } else if s.lost() {
            self.lost -= s.len;
            if s.retransmitted() {
                self.retrans -= s.len;
            }
        }
    }

    fn remark(&mut self, s: &Sent) {
        if s.sacked() {
            self.sacked += s.len;
        } else if s.lost() {
            self.lost += s.len;
            if s.retransmitted() {
                self.retrans += s.len;
            }
        }
    }

    /// Replaces the marks of entry `i` and keeps the sums right.
    fn set_flags(&mut self, i: usize, flags: u8) {
        let old = self.segs[i];
        self.unmark(&old);
        let seg = &mut self.segs[i];
        seg.flags = flags | (seg.flags & FIN);
        let new = *seg;
        self.remark(&new);
    }

    /// Splits entry `i` so that a new entry starts at `at` (strictly inside
    /// it). Both halves keep the marks and the send time; a FIN stays with
    /// the second.
    fn split(&mut self, i: usize, at: SeqNum) {
        let seg = self.segs[i];
        let first_len = at.since(seg.start);
        debug_assert!(first_len > 0 && first_len < seg.len);
        let mut head = seg;
        head.len = first_len;
        head.flags &= !FIN;
        let mut tail = seg;
        tail.start = at;
        tail.len = seg.len - first_len;
        self.segs[i] = head;
        self.segs.insert(i + 1, tail);
    }

    /// Splits entry `i` so that its last `tail` bytes of sequence space are
    /// an entry of their own; returns the index of that entry.
    pub fn split_tail(&mut self, i: usize, tail: u32) -> usize {
        let s = self.segs[i];
        if tail == 0 || tail >= s.len {
            return i;
        }
        self.split(i, s.end() - tail);
        i + 1
    }

    /// Index of the entry containing `seq` (the first entry ending after it).
    fn index_of(&self, seq: SeqNum) -> usize {
        let base = match self.segs.front() {
            Some(s) => s.start,
            None => return 0,
        };
        let key = seq.since(base);
        self.segs.partition_point(|s| s.end().since(base) <= key)
    }

    /// Everything before `ack` was received (SND.UNA advances to `ack`).
    pub fn ack(&mut self, ack: SeqNum) -> Delivered {
        let mut d = Delivered::default();
        // The entries wholly acknowledged (a whole flight, on a bulk
        // transfer's ACK): summed in one pass, then dropped together.
        let (mut whole, mut len, mut sacked, mut lost, mut retrans) = (0, 0, 0, 0, 0);
        for s in &self.segs {
            if !s.end().before_eq(ack) {
                break;
            }
            whole += 1;
            len += s.len;
            // As `unmark` counts them.
            if s.sacked() {
                sacked += s.len;
            } else {
                if s.lost() {
                    lost += s.len;
                    if s.retransmitted() {
                        retrans += s.len;
                    }
                }
                d.add(s, s.len);
            }
        }
        if whole > 0 {
            self.segs.drain(..whole);
            self.outstanding -= len;
            self.sacked -= sacked;
            self.lost -= lost;
            self.retrans -= retrans;
            self.retx_hint = self.retx_hint.saturating_sub(whole as u32);
        }
        if let Some(&s) = self.segs.front() {
            if s.start.before(ack) {
                // A partial ACK of one segment: trim its head.
                let n = ack.since(s.start);
                self.unmark(&s);
                let seg = &mut self.segs[0];
                seg.start = ack;
                seg.len -= n;
                let trimmed = *seg;
                self.remark(&trimmed);
                self.outstanding -= n;
                if !s.sacked() {
                    let mut part = s;
                    part.len = n;
                    part.flags &= !FIN;
                    d.add(&part, n);
                }
            }
        }
        if self.highest_sacked.is_some_and(|h| h.before_eq(ack)) {
            self.highest_sacked = None;
        }
        self.sack_cache.retain_mut(|r| {
            if r.1.before_eq(ack) {
                return false;
            }
            r.0 = r.0.max(ack);
            true
        });
        d
    }

    /// The receiver reports `[left, right)` SACKed (RFC 2018). Only whole
    /// entries are marked; an entry the block covers in part is split at the
    /// block's edge first. Returns what was newly delivered.
    pub fn sack(&mut self, left: SeqNum, right: SeqNum) -> Delivered {
        let mut d = Delivered::default();
        let (Some(first), Some(last)) = (self.segs.front(), self.segs.back()) else {
            return d;
        };
        let (lo, hi) = (first.start, last.end());
        // Clip to what is in flight; a block outside it is stale or bogus.
        let left = left.max(lo);
        let right = right.min(hi);
        if !left.before(right) {
            return d;
        }
        // Only the parts of the block not already known to be SACKed.
        let mut gaps: [(SeqNum, SeqNum); MAX_CACHED_RANGES + 1] =
            [(SeqNum(0), SeqNum(0)); MAX_CACHED_RANGES + 1];
        let mut n = 0;
        let mut from = left;
        for &(a, b) in &self.sack_cache {
            if b.before_eq(from) {
                continue;
            }
            if a.after_eq(right) {
                break;
            }
            if from.before(a) {
                gaps[n] = (from, a);
                n += 1;
            }
            from = from.max(b);
        }
        if from.before(right) {
            gaps[n] = (from, right);
            n += 1;
        }
        for &(a, b) in &gaps[..n] {
            self.mark_sacked(a, b, &mut d);
        }
        self.cache_insert(left, right);
        d
    }

    fn mark_sacked(&mut self, left: SeqNum, right: SeqNum, d: &mut Delivered) {
        let mut i = self.index_of(left);
        if i < self.segs.len() && self.segs[i].start.before(left) {
            if self.segs[i].sacked() {
                i += 1;
            } else {
                self.split(i, left);
                i += 1;
            }
        }
        while i < self.segs.len() {
            let s = self.segs[i];
            if s.start.after_eq(right) {
                break;
            }
            if s.end().after(right) {
                if s.sacked() {
                    break;
                }
                self.split(i, right);
                continue;
            }
            if !s.sacked() {
                self.set_flags(i, SACKED);
                d.add(&s, s.len);
                if self.highest_sacked.is_none_or(|h| s.end().after(h)) {
                    self.highest_sacked = Some(s.end());
                }
            }
            i += 1;
        }
    }

    fn cache_insert(&mut self, left: SeqNum, right: SeqNum) {
        let base = match self.segs.front() {
            Some(s) => s.start,
            None => return,
        };
        let key = |s: SeqNum| s.since(base);
        let (mut left, mut right) = (left, right);
        let mut i = self.sack_cache.partition_point(|r| key(r.1) < key(left));
        let mut j = i;
        while j < self.sack_cache.len() && key(self.sack_cache[j].0) <= key(right) {
            left = left.min(self.sack_cache[j].0);
            right = right.max(self.sack_cache[j].1);
            j += 1;
        }
        if i == j && self.sack_cache.len() >= MAX_CACHED_RANGES {
            // Full: drop the farthest range (the cache only saves work).
            if i == self.sack_cache.len() {
                return;
            }
            self.sack_cache.pop();
            i = i.min(self.sack_cache.len());
            j = i;
        }
        self.sack_cache.drain(i..j);
        self.sack_cache.insert(i, (left, right));
    }

    /// The index of the first entry at or after `i` that is not SACKed.
    pub fn next_unsacked(&self, mut i: usize) -> Option<usize> {
        while let Some(s) = self.segs.get(i) {
            if !s.sacked() {
                return Some(i);
            }
            // Jump over a cached SACKed run in one step.
            let base = self.segs[0].start;
            let key = s.start.since(base);
            let r = self
                .sack_cache
                .iter()
                .find(|r| r.0.since(base) <= key && key < r.1.since(base));
            i = match r {
                Some(&(_, end)) => self.index_of(end).max(i + 1),
                None => i + 1,
            };
        }
        None
    }

    /// Marks entry `i` lost (again, if it was retransmitted): it must be
    /// sent once more. Returns false if it is SACKed or already waiting.
    pub fn mark_lost(&mut self, i: usize) -> bool {
        let s = self.segs[i];
        if s.sacked() || (s.lost() && !s.retransmitted()) {
            return false;
        }
        self.set_flags(i, LOST);
        self.retx_hint = self.retx_hint.min(i as u32);
        true
    }

    /// RFC 6675 §5.1 / RFC 5681 §3.1 after an RTO: everything not SACKed
    /// is lost. Returns the bytes marked.
    pub fn mark_all_lost(&mut self) -> u32 {
        let mut marked = 0;
        for i in 0..self.segs.len() {
            let s = self.segs[i];
            if !s.sacked() {
                marked += s.len;
                self.set_flags(i, LOST);
            }
        }
        self.retx_hint = 0;
        marked
    }

    /// The first entry waiting for retransmission, if any.
    pub fn next_lost(&mut self) -> Option<usize> {
        if self.lost == self.retrans {
            return None;
        }
        let mut i = self.retx_hint as usize;
        while let Some(s) = self.segs.get(i) {
            if s.lost() && !s.retransmitted() {
                self.retx_hint = i as u32;
                return Some(i);
            }
            i += 1;
        }
        self.retx_hint = i as u32;
        None
    }

    /// Entry `i` is about to be sent again, at most `max` bytes of its
    /// payload (its FIN, if it has one, rides along): the rest is split
    /// off. A LOST entry becomes RETRANS. Returns the entry.
    pub fn retransmit(&mut self, i: usize, max: u32, now: Instant) -> Sent {
        let s = self.segs[i];
        // `max` is payload room: a FIN rides along with the data it ends
        // (it takes no room in the segment).
        if s.payload_len() > max.max(1) {
            let at = s.start + max.max(1);
            self.split(i, at);
        }
        let flags = self.segs[i].flags;
        if flags & LOST != 0 {
            self.set_flags(i, LOST | RETRANS);
        }
        let order = self.next_order();
        let seg = &mut self.segs[i];
        seg.xmit_at = now;
        seg.order = order;
        seg.xmits = seg.xmits.saturating_add(1);
        *seg
    }

    /// Checks the sums against the entries (tests and fuzzing).
    pub fn check(&self) -> Result<(), &'static str> {
        let (mut out, mut sacked, mut lost, mut retrans) = (0, 0, 0, 0);
        let mut prev: Option<SeqNum> = None;
        for s in &self.segs {
            if s.len == 0 {
                return Err("empty entry in the retransmission record");
            }
            if prev.is_some_and(|p| p != s.start) {
                return Err("retransmission record not contiguous");
            }
            prev = Some(s.end());
            out += s.len;
            if s.sacked() {
                sacked += s.len;
            } else if s.lost() {
                lost += s.len;
                if s.retransmitted() {
                    retrans += s.len;
                }
            }
        }
        if (out, sacked, lost, retrans) != (self.outstanding, self.sacked, self.lost, self.retrans)
        {
            return Err("retransmission record sums out of date");
        }
        for &(a, b) in &self.sack_cache {
            let mut i = self.index_of(a);
            while let Some(s) = self.segs.get(i) {
                if s.start.after_eq(b) {
                    break;
                }
                if !s.sacked() {
                    return Err("SACK cache covers an entry not SACKed");
                }
                i += 1;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: u64) -> Instant {
        Instant::from_millis(ms)
    }

    /// Ten 100-byte segments from 1000, sent 1 ms apart.
    fn ten() -> Record {
        let mut r = Record::default();
        for k in 0..10u32 {
            r.push(SeqNum(1000 + 100 * k), 100, false, t(u64::from(k)));
        }
        r
    }

    #[test]
    fn cumulative_ack_pops_and_trims() {
        let mut r = ten();
        let d = r.ack(SeqNum(1250));
        assert_eq!(d.bytes, 250);
        assert_eq!(d.newest.map(|n| n.xmit_at), Some(t(2)));
        assert_eq!(r.first().unwrap().start, SeqNum(1250));
        assert_eq!(r.first().unwrap().len, 50);
        assert_eq!(r.outstanding(), 750);
        r.check().unwrap();
    }

    #[test]
    fn sack_marks_whole_entries_and_splits_at_edges() {
        let mut r = ten();
        let d = r.sack(SeqNum(1350), SeqNum(1600));
        assert_eq!(d.bytes, 250);
        assert_eq!(r.sacked_bytes(), 250);
        assert_eq!(r.pipe(), 750);
        r.check().unwrap();
        // The same block again delivers nothing new; a grown block only the growth.
        assert_eq!(r.sack(SeqNum(1350), SeqNum(1600)).bytes, 0);
        assert_eq!(r.sack(SeqNum(1350), SeqNum(1700)).bytes, 100);
        r.check().unwrap();
        // ACK up to the SACKed run: only the unSACKed part counts as delivered.
        let d = r.ack(SeqNum(1700));
        assert_eq!(d.bytes, 350);
        assert_eq!(r.sacked_bytes(), 0);
        r.check().unwrap();
    }

    #[test]
    fn lost_and_retransmitted_adjust_pipe() {
        let mut r = ten();
        r.sack(SeqNum(1300), SeqNum(2000));
        assert_eq!(r.pipe(), 300);
        assert!(r.mark_lost(0));
        assert!(!r.mark_lost(0), "already waiting for retransmission");
        assert!(!r.mark_lost(5), "SACKed entries are never lost");
        assert_eq!(r.pipe(), 200);
        assert_eq!(r.next_lost(), Some(0));
        let s = r.retransmit(0, 60, t(50));
        assert_eq!((s.start, s.len, s.xmits), (SeqNum(1000), 60, 2));
        // The 40 bytes split off are still lost, waiting; the 60 resent
        // are back in the pipe.
        assert_eq!(r.next_lost(), Some(1));
        assert_eq!(r.pipe(), 260);
        r.check().unwrap();
        // A lost retransmission can be marked lost again.
        assert!(r.mark_lost(0));
        r.check().unwrap();
    }

    #[test]
    fn rto_marks_everything_but_sacked_data_lost() {
        let mut r = ten();
        r.sack(SeqNum(1500), SeqNum(1700));
        assert_eq!(r.mark_all_lost(), 800);
        assert_eq!(r.pipe(), 0);
        let mut order = Vec::new();
        while let Some(i) = r.next_lost() {
            order.push(r.retransmit(i, 100, t(9)).start.0);
        }
        assert_eq!(order, [1000, 1100, 1200, 1300, 1400, 1700, 1800, 1900]);
        r.check().unwrap();
    }

    #[test]
    fn next_unsacked_skips_sacked_runs() {
        let mut r = ten();
        r.sack(SeqNum(1100), SeqNum(1800));
        assert_eq!(r.next_unsacked(0), Some(0));
        assert_eq!(r.next_unsacked(1), Some(8));
        assert_eq!(r.next_unsacked(9), Some(9));
        r.sack(SeqNum(1900), SeqNum(2000));
        assert_eq!(r.next_unsacked(9), None);
    }

    #[test]
    fn the_check_names_what_is_broken() {
        // No sequence of calls breaks these (the fuzzer checks that), so
        // the check is shown on records broken by hand.
        let mut ok = ten();
        ok.sack(SeqNum(1300), SeqNum(1500));
        ok.mark_lost(0);
        ok.mark_lost(1);
        ok.retransmit(1, 100, t(20));
        assert_eq!(ok.check(), Ok(()));

        let mut r = ok.clone();
        r.segs[9].len = 0;
        r.outstanding -= 100;
        assert_eq!(r.check(), Err("empty entry in the retransmission record"));

        let mut r = ok.clone();
        r.segs[4].start += 1;
        assert_eq!(r.check(), Err("retransmission record not contiguous"));

        let sums = "retransmission record sums out of date";
        for field in 0..4 {
            let mut r = ok.clone();
            match field {
                0 => r.outstanding += 1,
                1 => r.sacked += 1,
                2 => r.lost += 1,
                _ => r.retrans += 1,
            }
            assert_eq!(r.check(), Err(sums), "sum {field}");
        }

        let mut r = ok.clone();
        r.sack_cache.push((SeqNum(1800), SeqNum(1900)));
        assert_eq!(r.check(), Err("SACK cache covers an entry not SACKed"));
        // A cached range ends where the next entry (not SACKed) begins.
        let mut r = ok.clone();
        r.sack_cache = vec![(SeqNum(1300), SeqNum(1500))];
        assert_eq!(r.check(), Ok(()));
    }

    #[test]
    fn sequence_wrap_is_transparent() {
        let mut r = Record::default();
        let base = SeqNum(u32::MAX - 150);
        for k in 0..4u32 {
            r.push(base + 100 * k, 100, k == 3, t(0));
        }
        r.sack(base + 200, base + 400);
        assert_eq!(r.sacked_bytes(), 200);
        let d = r.ack(base + 400);
        assert_eq!(d.bytes, 200);
        assert!(r.is_empty());
        r.check().unwrap();
    }
}
