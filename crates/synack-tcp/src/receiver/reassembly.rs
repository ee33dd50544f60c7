//! Out-of-order ranges waiting for the gap before them to fill.
//!
//! The bytes themselves are written straight into the receive ring at their
//! final offsets; this list only remembers which ranges `[start, end)` are
//! there. It is sorted, its ranges are disjoint and never touch, and its
//! length is bounded: when it is full, the range farthest from RCV.NXT is
//! the one given up (as Linux prunes its out-of-order queue), because the
//! data nearest the gap is what lets the application make progress soonest.

use crate::seq::SeqNum;

/// What inserting a range did.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Inserted {
    /// Recorded (possibly merged with neighbours) as the range returned.
    Kept(SeqNum, SeqNum),
    /// Every byte of it was already held: a duplicate.
    Duplicate,
    /// The list was full and this range was the farthest: dropped.
    Dropped,
}

/// Sorted, disjoint out-of-order ranges, bounded in number.
#[derive(Clone, Debug)]
pub struct Reassembly {
    ranges: Vec<(SeqNum, SeqNum)>,
    max: u32,
    /// Ranges given up to make room for nearer ones.
    pub evicted: u32,
}

impl Reassembly {
    pub fn new(max: usize) -> Self {
        Reassembly {
            ranges: Vec::new(),
            max: max.clamp(1, u32::MAX as usize) as u32,
            evicted: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    pub fn ranges(&self) -> &[(SeqNum, SeqNum)] {
        &self.ranges
    }

    /// The range holding `seq`, if any.
    pub fn containing(&self, seq: SeqNum) -> Option<(SeqNum, SeqNum)> {
        self.ranges
            .iter()
            .copied()
            .find(|&(s, e)| s.before_eq(seq) && seq.before(e))
    }

    /// The first bytes of `[start, end)` (at or after `base`, RCV.NXT)
    /// already held: its overlap with the lowest range it meets. RFC 2883
    /// §4 reports this part of a partly duplicate segment in a D-SACK.
    pub fn first_overlap(
        &self,
        base: SeqNum,
        start: SeqNum,
        end: SeqNum,
    ) -> Option<(SeqNum, SeqNum)> {
        let key = |s: SeqNum| s.since(base);
        let i = self.ranges.partition_point(|r| key(r.1) <= key(start));
        let &(s, e) = self.ranges.get(i)?;
        if key(s) >= key(end) {
            return None;
        }
        let left = if key(s) > key(start) { s } else { start };
        let right = if key(e) < key(end) { e } else { end };
        Some((left, right))
    }

    /// Records `[start, end)` (all after `base`, the current RCV.NXT),
    /// merging with neighbours that overlap or touch it.
    pub fn insert(&mut self, base: SeqNum, start: SeqNum, end: SeqNum) -> Inserted {
        let key = |s: SeqNum| s.since(base);
        let (mut start, mut end) = (start, end);
        // First range that ends at or after our start: candidates to merge.
        let i = self.ranges.partition_point(|r| key(r.1) < key(start));
        if let Some(&(s, e)) = self.ranges.get(i) {
            if key(s) <= key(start) && key(end) <= key(e) {
                return Inserted::Duplicate;
            }
        }
        let mut j = i;
        while j < self.ranges.len() && key(self.ranges[j].0) <= key(end) {
            start = start.min(self.ranges[j].0);
            end = end.max(self.ranges[j].1);
            j += 1;
        }
        if i == j && self.ranges.len() >= self.max as usize {
            // Full: keep the ranges nearest RCV.NXT.
            if i == self.ranges.len() {
                return Inserted::Dropped;
            }
            self.ranges.pop();
            self.evicted += 1;
        }
        self.ranges.drain(i..j);
        self.ranges.insert(i, (start, end));
        Inserted::Kept(start, end)
    }

    /// If the first range now touches `rcv_nxt`, removes it and returns its end.
    pub fn pop_ready(&mut self, rcv_nxt: SeqNum) -> Option<SeqNum> {
        let &(start, end) = self.ranges.first()?;
        if start.before_eq(rcv_nxt) {
            self.ranges.remove(0);
            Some(end.max(rcv_nxt))
        } else {
            None
        }
    }

    pub fn clear(&mut self) {
        self.ranges.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_overlap_is_the_lowest_held_part() {
        let base = SeqNum(100);
        let mut r = Reassembly::new(8);
        r.insert(base, SeqNum(200), SeqNum(300));
        r.insert(base, SeqNum(400), SeqNum(500));
        let o = |a: u32, b: u32| r.first_overlap(base, SeqNum(a), SeqNum(b));
        assert_eq!(o(150, 700), Some((SeqNum(200), SeqNum(300))));
        assert_eq!(o(250, 450), Some((SeqNum(250), SeqNum(300))));
        assert_eq!(o(300, 450), Some((SeqNum(400), SeqNum(450))));
        assert_eq!(o(300, 400), None);
        assert_eq!(o(100, 200), None);
        assert_eq!(o(500, 600), None);
    }

    #[test]
    fn merges_across_the_wrap() {
        let base = SeqNum(u32::MAX - 100);
        let mut r = Reassembly::new(4);
        assert_eq!(
            r.insert(base, base + 50, base + 60),
            Inserted::Kept(base + 50, base + 60)
        );
        assert!(matches!(
            r.insert(base, base + 200, base + 210),
            Inserted::Kept(..)
        ));
        assert_eq!(r.insert(base, base + 52, base + 58), Inserted::Duplicate);
        assert_eq!(
            r.insert(base, base + 55, base + 205),
            Inserted::Kept(base + 50, base + 210)
        );
        assert_eq!(r.ranges(), &[(base + 50, base + 210)]);
        assert_eq!(r.pop_ready(base), None);
        assert_eq!(r.pop_ready(base + 50), Some(base + 210));
        assert!(r.is_empty());
    }

    #[test]
    fn a_full_list_gives_up_the_farthest_range() {
        let base = SeqNum(0);
        let mut r = Reassembly::new(2);
        r.insert(base, SeqNum(100), SeqNum(110));
        r.insert(base, SeqNum(300), SeqNum(310));
        // Nearer than the farthest: the farthest goes.
        assert!(matches!(
            r.insert(base, SeqNum(200), SeqNum(210)),
            Inserted::Kept(..)
        ));
        assert_eq!(
            r.ranges(),
            &[(SeqNum(100), SeqNum(110)), (SeqNum(200), SeqNum(210))]
        );
        assert_eq!(r.evicted, 1);
        // Farther than everything kept: this one goes.
        assert_eq!(r.insert(base, SeqNum(400), SeqNum(410)), Inserted::Dropped);
        // Merging needs no room.
        assert!(matches!(
            r.insert(base, SeqNum(110), SeqNum(120)),
            Inserted::Kept(..)
        ));
    }
}
