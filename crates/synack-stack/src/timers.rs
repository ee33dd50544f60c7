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

use std::cmp::Reverse;
use std::collections::BinaryHeap;
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
            self.heap.push(Reverse((at, target)));
            *armed = at;
            return true;
        }
        false
    }

    /// The earliest entry (possibly stale: a wake-up that finds nothing).
    pub fn next(&self) -> Option<Instant> {
        self.heap
            .peek()
            .map(|Reverse((t, _))| Instant::from_micros(*t))
    }

    /// Pops one entry due at or before `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<(u64, Target)> {
        match self.heap.peek() {
            Some(Reverse((t, _))) if *t <= now.as_micros() => self.heap.pop().map(|Reverse(e)| e),
            _ => None,
        }
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Drops every entry `live` says is stale, and any second entry for
    /// the same owner and deadline.
    pub fn retain(&mut self, mut live: impl FnMut(Target, u64) -> bool) {
        let mut seen = std::collections::HashSet::with_capacity(self.heap.len() / 2);
        self.heap
            .retain(|Reverse((at, t))| live(*t, *at) && seen.insert(*t));
    }
}
