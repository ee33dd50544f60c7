//! A connection's queue of events for its driver.
//!
//! A driver drains the queue after every call into the connection (the
//! stack does, in `touch`), and what one call produces is a burst of one
//! to three events: a state change, `Connected`, `Readable`, `Closed`. The
//! queue keeps that many in the connection itself, so that opening and
//! closing a connection allocates nothing for its events; only a driver
//! that lets more pile up (a test, a simulation that polls rarely) spills
//! the rest to the heap, and the spill is freed once drained, so that an
//! idle connection holds no event memory.

use crate::conn::Event;
use std::collections::VecDeque;

/// Events kept inline.
const INLINE: usize = 3;

#[derive(Clone, Debug)]
pub(crate) struct Events {
    /// The oldest events, `len` of them from `head` (a ring).
    inline: [Event; INLINE],
    head: u8,
    len: u8,
    /// Events queued while the inline ring was full, oldest first. Every
    /// inline event is older than every spilled one: a push goes inline
    /// only while nothing is spilled. Boxed: 8 bytes of the connection
    /// instead of a `VecDeque`'s 32, for what is almost never used.
    #[allow(clippy::box_collection)]
    spill: Option<Box<VecDeque<Event>>>,
}

impl Default for Events {
    fn default() -> Self {
        Events {
            inline: [Event::Writable; INLINE],
            head: 0,
            len: 0,
            spill: None,
        }
    }
}

impl Events {
    pub fn len(&self) -> usize {
        usize::from(self.len) + self.spill.as_ref().map_or(0, |s| s.len())
    }

    pub fn push_back(&mut self, ev: Event) {
        match &mut self.spill {
            Some(s) => s.push_back(ev),
            None if usize::from(self.len) < INLINE => {
                let at = (usize::from(self.head) + usize::from(self.len)) % INLINE;
                self.inline[at] = ev;
                self.len += 1;
            }
            None => {
                let mut s = Box::<VecDeque<Event>>::default();
                s.push_back(ev);
                self.spill = Some(s);
            }
        }
    }

    pub fn pop_front(&mut self) -> Option<Event> {
        if self.len > 0 {
            let ev = self.inline[usize::from(self.head)];
            self.head = ((usize::from(self.head) + 1) % INLINE) as u8;
            self.len -= 1;
            return Some(ev);
        }
        let s = self.spill.as_mut()?;
        let ev = s.pop_front();
        if s.is_empty() {
            // Drained: give the memory back.
            self.spill = None;
        }
        ev
    }

    #[cfg(test)]
    pub fn clear(&mut self) {
        *self = Events::default();
    }

    /// Heap memory held (0 unless more than the inline events piled up).
    #[cfg(test)]
    pub fn heap_capacity(&self) -> usize {
        self.spill.as_ref().map_or(0, |s| s.capacity())
    }
}

impl Extend<Event> for Events {
    fn extend<I: IntoIterator<Item = Event>>(&mut self, iter: I) {
        for ev in iter {
            self.push_back(ev);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::CloseReason;

    #[test]
    fn events_come_out_in_order_and_spill_only_past_the_inline_ones() {
        let mut q = Events::default();
        let ev = |i: u8| match i % 2 {
            0 => Event::Readable,
            _ => Event::Closed(if i < 5 {
                CloseReason::Normal
            } else {
                CloseReason::Reset
            }),
        };
        let mut want = VecDeque::new();
        // Interleaved pushes and pops across the inline ring's wrap and
        // into the spill and back.
        for round in 0..4u8 {
            for i in 0..(2 + round * 2) {
                q.push_back(ev(i + round));
                want.push_back(ev(i + round));
                assert_eq!(q.len(), want.len());
            }
            assert_eq!(q.heap_capacity() > 0, want.len() > INLINE);
            for _ in 0..(1 + round) {
                assert_eq!(q.pop_front(), want.pop_front());
            }
        }
        while let Some(e) = want.pop_front() {
            assert_eq!(q.pop_front(), Some(e));
        }
        assert_eq!(q.pop_front(), None);
        assert_eq!((q.len(), q.heap_capacity()), (0, 0), "the spill is freed");
        q.push_back(Event::Writable);
        assert_eq!(q.heap_capacity(), 0);
        q.clear();
        assert_eq!(q.len(), 0);
    }
}
