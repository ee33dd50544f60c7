//! The host's timer structure: one min-heap with lazy deletion.
//!
//! Each entry names what it is for (a connection, a listener's SYN queue,
//! a TIME-WAIT entry) and a generation. Nothing is ever removed from the
//! middle: when an owner's deadline changes, the owner remembers its
//! current one and a new entry is pushed only if it is *earlier*; an entry
//! that pops and no longer matches its owner is skipped; when stale
//! entries outnumber live ones (an owner whose deadline keeps moving
//! earlier leaves one behind each time), the heap is rebuilt from the live
//! ones, which keeps it within twice the owners, amortised O(1). A host with a
//! million idle connections and no timers running has an empty heap, and a
//! timer costs O(log n) whatever else is armed.
//!
//! Beside the heap runs a sorted queue: an entry that sorts at or after
//! the queue's last one is appended there in O(1) instead of sifting
//! through the heap. Deadlines a fixed time ahead of a clock that only
//! moves forward arrive in order — above all the 2×MSL of every TIME-WAIT
//! entry, which would otherwise make up most of a busy server's heap and
//! sit in the way of every short timer — so they all take this lane.
//! Entries pop from whichever side holds the smaller (deadline, target),
//! so the order is exactly that of one heap.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use synack_tcp::Instant;

/// What a timer entry is for.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Target {
    /// A connection in slot `index` of generation `gen`.
    Conn { index: u32, gen: u32 },
    /// The SYN queue of the listener in slot `index`.
    Listener { index: u32, gen: u32 },
    /// Entry `index` of the TIME-WAIT table, of generation `gen`.
    TimeWait { index: u32, gen: u32 },
}

/// A deadline in µs; `NEVER` means none.
pub(crate) const NEVER: u64 = u64::MAX;

#[derive(Debug, Default)]
pub(crate) struct TimerHeap {
    heap: BinaryHeap<Reverse<(u64, Target)>>,
    /// Entries in ascending (deadline, target) order.
    queue: VecDeque<(u64, Target)>,
}

impl TimerHeap {
    /// Makes sure `target` is woken at `at`, given that `armed` is the
    /// deadline of its live entry (updated here). A later deadline, or
    /// none, needs no new entry: the live one pops, finds nothing to do,
    /// and the owner reschedules. `armed` goes back to `NEVER` only when
    /// the live entry pops, so an owner has at most one live entry even
    /// when its deadline is cleared and set again at the same instant (on
    /// a zero-delay link, a delayed ACK armed and sent over and over at one
    /// virtual time).
    pub fn schedule(&mut self, target: Target, at: Option<Instant>, armed: &mut u64) -> bool {
        let at = at.map_or(NEVER, |t| t.as_micros());
        if at < *armed {
            let e = (at, target);
            if self.queue.back().is_none_or(|last| *last <= e) {
                self.queue.push_back(e);
            } else {
                self.heap.push(Reverse(e));
            }
            *armed = at;
            return true;
        }
        false
    }

    /// The smallest entry of either side, and whether it is the queue's.
    fn first(&self) -> Option<((u64, Target), bool)> {
        match (self.heap.peek(), self.queue.front()) {
            (Some(Reverse(h)), Some(q)) => Some(if q < h { (*q, true) } else { (*h, false) }),
            (Some(Reverse(h)), None) => Some((*h, false)),
            (None, Some(q)) => Some((*q, true)),
            (None, None) => None,
        }
    }

    /// The earliest entry (possibly stale: a wake-up that finds nothing).
    pub fn next(&self) -> Option<Instant> {
        self.first().map(|((t, _), _)| Instant::from_micros(t))
    }

    /// Pops one entry due at or before `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<(u64, Target)> {
        match self.first() {
            Some(((t, _), queued)) if t <= now.as_micros() => {
                if queued {
                    self.queue.pop_front()
                } else {
                    self.heap.pop().map(|Reverse(e)| e)
                }
            }
            _ => None,
        }
    }

    pub fn len(&self) -> usize {
        self.heap.len() + self.queue.len()
    }

    /// Drops every entry `live` says is stale, and any second entry for
    /// the same owner and deadline.
    pub fn retain(&mut self, mut live: impl FnMut(Target, u64) -> bool) {
        let mut seen = std::collections::HashSet::with_capacity(self.len() / 2);
        self.heap
            .retain(|Reverse((at, t))| live(*t, *at) && seen.insert(*t));
        self.queue.retain(|&(at, t)| live(t, at) && seen.insert(t));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_pop_in_deadline_order_from_either_side() {
        let mut t = TimerHeap::default();
        let conn = |index| Target::Conn { index, gen: 1 };
        // In order: these take the queue; then earlier ones the heap.
        let deadlines = [10, 20, 20, 30, 5, 25, 20, 40, 1, 30];
        for (i, &at) in deadlines.iter().enumerate() {
            let mut armed = NEVER;
            assert!(t.schedule(conn(i as u32), Some(Instant::from_micros(at)), &mut armed));
            assert_eq!(armed, at);
        }
        assert!(!t.queue.is_empty() && !t.heap.is_empty());
        assert_eq!(t.len(), deadlines.len());
        assert_eq!(t.next(), Some(Instant::from_micros(1)));
        assert_eq!(t.pop_due(Instant::from_micros(0)), None);
        let mut popped = Vec::new();
        while let Some(e) = t.pop_due(Instant::from_micros(100)) {
            popped.push(e);
        }
        let mut want: Vec<_> = deadlines
            .iter()
            .enumerate()
            .map(|(i, &at)| (at, conn(i as u32)))
            .collect();
        want.sort();
        assert_eq!(popped, want, "the order of one heap");
        assert_eq!(t.next(), None);
    }

    #[test]
    fn retain_looks_at_both_sides() {
        let mut t = TimerHeap::default();
        for (i, at) in [10u64, 20, 5, 30].into_iter().enumerate() {
            let mut armed = NEVER;
            t.schedule(
                Target::TimeWait {
                    index: i as u32,
                    gen: 0,
                },
                Some(Instant::from_micros(at)),
                &mut armed,
            );
        }
        t.retain(|_, at| at != 20 && at != 5);
        let mut left = Vec::new();
        while let Some((at, _)) = t.pop_due(Instant::from_micros(100)) {
            left.push(at);
        }
        assert_eq!(left, [10, 30]);
    }
}
