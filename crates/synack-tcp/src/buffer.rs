//! A fixed-capacity byte ring shared by the send and receive sides.
//!
//! The ring's memory is allocated the first time a byte is written to it,
//! not when the connection is created: a listener, a half-open connection
//! or an idle one that never moved data costs no buffer memory. It starts
//! small ([`FIRST_ALLOCATION`]) and doubles when a write needs more, up to
//! the capacity: a connection that exchanged a request and a response
//! holds a few KiB, not its whole buffer, and a bulk transfer grows its
//! ring in about a dozen steps, after which nothing on the per-segment
//! path allocates. Each payload byte is copied once into the ring (from
//! the application or from the device buffer) and once out of it.

use synack_wire::checksum;

/// A circular byte buffer of fixed capacity (below 4 GiB), allocated on
/// first write and grown as writes need. Positions are `u32`: the ring is
/// 32 bytes of the connection, not 40.
///
/// The ring wraps at its allocated size (`data.len()`), which is at most
/// the capacity; `at` is the head's index in `data`.
#[derive(Clone, Debug)]
pub struct Ring {
    data: Box<[u8]>,
    cap: u32,
    at: u32,
    used: u32,
}

/// The largest capacity a ring takes (larger requests are cut to it).
pub const MAX_CAPACITY: usize = u32::MAX as usize;

/// The size of a ring's first allocation (or its capacity, if smaller).
pub const FIRST_ALLOCATION: usize = 2048;

impl Ring {
    /// A ring that will hold up to `capacity` bytes. Nothing is allocated yet.
    pub fn new(capacity: usize) -> Ring {
        Ring {
            data: Box::default(),
            cap: capacity.min(MAX_CAPACITY) as u32,
            at: 0,
            used: 0,
        }
    }

    pub fn capacity(&self) -> usize {
        self.cap as usize
    }

    fn head(&self) -> usize {
        self.at as usize
    }

    fn used(&self) -> usize {
        self.used as usize
    }

    /// Bytes of memory this ring holds now (0 until the first write).
    pub fn allocated(&self) -> usize {
        self.data.len()
    }

    /// Bytes stored, counted from the head.
    pub fn len(&self) -> usize {
        self.used()
    }

    pub fn is_empty(&self) -> bool {
        self.used == 0
    }

    pub fn free(&self) -> usize {
        self.capacity() - self.used()
    }

    /// The storage, grown if need be so that `end` bytes past the head
    /// fit (`end` is at most the capacity).
    fn storage(&mut self, end: usize) -> &mut [u8] {
        if end > self.data.len() {
            self.grow(end);
        }
        &mut self.data
    }

    /// Reallocates to hold at least `end` bytes past the head: double the
    /// old size or `end`, at least [`FIRST_ALLOCATION`], at most the
    /// capacity. Everything from the head on (stored bytes and any placed
    /// beyond them) moves to the start of the new storage.
    #[cold]
    fn grow(&mut self, end: usize) {
        let old = self.data.len();
        let size = (old * 2)
            .max(end)
            .max(FIRST_ALLOCATION)
            .min(self.capacity());
        let mut data = vec![0; size].into_boxed_slice();
        let start = self.head();
        data[..old - start].copy_from_slice(&self.data[start..]);
        data[old - start..old].copy_from_slice(&self.data[..start]);
        self.data = data;
        self.at = 0;
    }

    fn wrap(&self, i: usize) -> usize {
        if i >= self.data.len() {
            i - self.data.len()
        } else {
            i
        }
    }

    /// Appends as much of `src` as fits; returns the count appended.
    pub fn push(&mut self, src: &[u8]) -> usize {
        let n = src.len().min(self.free());
        self.write_at(self.used(), &src[..n]);
        self.used += n as u32;
        n
    }

    /// Writes `src` at `offset` bytes past the head without changing the
    /// length (used to place out-of-order data). Bytes past the capacity are
    /// ignored; returns the count written.
    pub fn write_at(&mut self, offset: usize, src: &[u8]) -> usize {
        let cap = self.capacity();
        if offset >= cap || src.is_empty() {
            return 0;
        }
        let n = src.len().min(cap - offset);
        let size = self.storage(offset + n).len();
        let start = self.wrap(self.head() + offset);
        let first = n.min(size - start);
        let data = &mut self.data;
        data[start..start + first].copy_from_slice(&src[..first]);
        data[..n - first].copy_from_slice(&src[first..n]);
        n
    }

    /// Writes all of `src` just past the stored bytes, in free space,
    /// without storing it, and returns its partial Internet checksum (as
    /// `synack_wire::checksum::sum` would give): the copy and the checksum
    /// pass are one pass over the bytes. `None`, writing nothing, if `src`
    /// does not fit in the free space. [`extend`](Ring::extend) stores it.
    pub fn write_summed(&mut self, src: &[u8]) -> Option<u32> {
        let offset = self.used();
        if src.len() > self.free() {
            return None;
        }
        let size = self.storage(offset + src.len()).len();
        let start = self.wrap(self.head() + offset);
        let first = src.len().min(size - start);
        let data = &mut self.data;
        let a = checksum::copy_and_sum(&mut data[start..start + first], &src[..first]);
        if first == src.len() {
            return Some(a);
        }
        let b = checksum::copy_and_sum(&mut data[..src.len() - first], &src[first..]);
        // The second piece starts at an odd byte of the payload when the
        // first piece's length is odd: its sum moves to the other lane.
        Some(a + checksum::shifted(b, first % 2 == 1))
    }

    /// Marks `n` bytes past the current end as stored (after `write_at`).
    pub fn extend(&mut self, n: usize) {
        let used = (self.used() + n).min(self.capacity());
        // Normally `write_at` already grew the storage over these bytes.
        self.storage(used);
        self.used = used as u32;
    }

    /// The stored bytes from `offset` past the head, at most `max` of them,
    /// as two slices: the second is non-empty only where the ring wraps.
    pub fn slices_at(&self, offset: usize, max: usize) -> (&[u8], &[u8]) {
        if offset >= self.used() || self.data.is_empty() {
            return (&[], &[]);
        }
        let n = max.min(self.used() - offset);
        let start = self.wrap(self.head() + offset);
        let first = n.min(self.data.len() - start);
        (&self.data[start..start + first], &self.data[..n - first])
    }

    /// Drops `n` bytes from the head.
    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.used());
        self.at = self.wrap(self.head() + n) as u32;
        // The head is never rewound when the ring empties: out-of-order
        // data may already sit past the end, placed relative to the head.
        self.used -= n as u32;
    }

    /// Changes the capacity to `capacity` (never below the bytes stored),
    /// keeping the first `keep` bytes past the head: the bytes stored and
    /// any placed beyond them out of order. A setup-time call, not for the
    /// per-segment path: an allocated ring is copied into new storage.
    pub fn resize(&mut self, capacity: usize, keep: usize) {
        let capacity = capacity.min(MAX_CAPACITY).max(self.used());
        let keep = keep.max(self.used()).min(capacity).min(self.data.len());
        if !self.data.is_empty() {
            // The new storage holds what is kept and grows from there.
            let size = keep.max(FIRST_ALLOCATION).min(capacity);
            let mut data = vec![0; size].into_boxed_slice();
            let start = self.head();
            let first = keep.min(self.data.len() - start);
            data[..first].copy_from_slice(&self.data[start..start + first]);
            data[first..keep].copy_from_slice(&self.data[..keep - first]);
            self.data = data;
        }
        self.at = 0;
        self.cap = capacity as u32;
    }

    /// Copies bytes from the head into `dst` and drops them; returns the count.
    pub fn pop_into(&mut self, dst: &mut [u8]) -> usize {
        let (a, b) = self.slices_at(0, dst.len());
        let n = a.len() + b.len();
        dst[..a.len()].copy_from_slice(a);
        dst[a.len()..n].copy_from_slice(b);
        self.consume(n);
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn nothing_is_allocated_until_the_first_write() {
        let mut r = Ring::new(1 << 20);
        assert_eq!(r.allocated(), 0);
        assert_eq!(r.pop_into(&mut [0; 4]), 0);
        assert_eq!(r.slices_at(0, 10), (&[][..], &[][..]));
        r.push(b"x");
        assert_eq!(r.allocated(), FIRST_ALLOCATION);
    }

    #[test]
    fn storage_doubles_as_writes_need_it_up_to_the_capacity() {
        let mut r = Ring::new(10_000);
        r.push(&[1; 100]);
        assert_eq!(r.allocated(), FIRST_ALLOCATION);
        // Wrap inside the small storage, then grow: the order holds.
        let mut out = [0; 100];
        r.pop_into(&mut out);
        let data: Vec<u8> = (0..3000u32).map(|i| i as u8).collect();
        assert_eq!(r.push(&data[..2000]), 2000);
        assert_eq!(r.allocated(), FIRST_ALLOCATION, "2000 bytes fit in 2048");
        assert_eq!(r.push(&data[2000..]), 1000);
        assert_eq!(r.allocated(), 2 * FIRST_ALLOCATION);
        let (a, b) = r.slices_at(0, usize::MAX);
        assert_eq!([a, b].concat(), data);
        // Out-of-order data placed far ahead grows it at once, never past
        // the capacity.
        assert_eq!(r.write_at(9_000, &[9; 2000]), 1000);
        assert_eq!(r.allocated(), 10_000);
        r.extend(0);
        assert_eq!(
            r.slices_at(0, usize::MAX).0.len() + r.slices_at(0, usize::MAX).1.len(),
            3000
        );
        // A ring smaller than the first allocation takes only its capacity.
        let mut small = Ring::new(100);
        small.push(b"x");
        assert_eq!(small.allocated(), 100);
    }

    #[test]
    fn wraps_and_reads_back_in_two_slices() {
        let mut r = Ring::new(8);
        assert_eq!(r.push(b"abcdef"), 6);
        let mut out = [0; 4];
        assert_eq!(r.pop_into(&mut out), 4);
        assert_eq!(&out, b"abcd");
        assert_eq!(r.push(b"ghijklmn"), 6);
        assert_eq!(r.len(), 8);
        assert_eq!(r.slices_at(0, 100), (&b"efgh"[..], &b"ijkl"[..]));
        assert_eq!(r.slices_at(3, 3), (&b"h"[..], &b"ij"[..]));
        assert_eq!(r.slices_at(4, 100), (&b"ijkl"[..], &b""[..]));
        let mut all = [0; 8];
        assert_eq!(r.pop_into(&mut all), 8);
        assert_eq!(&all, b"efghijkl");
    }

    #[test]
    fn empty_only_while_nothing_is_stored() {
        let mut r = Ring::new(8);
        assert!(r.is_empty());
        r.push(b"abc");
        r.pop_into(&mut [0; 2]);
        assert!(!r.is_empty(), "one byte left");
        r.pop_into(&mut [0; 2]);
        assert!(r.is_empty());
    }

    #[test]
    fn nothing_is_read_past_the_stored_bytes() {
        let mut r = Ring::new(8);
        r.push(b"ab");
        r.write_at(4, b"yz"); // placed, not stored
        assert_eq!(r.slices_at(2, 10), (&[][..], &[][..]));
        assert_eq!(r.slices_at(3, 10), (&[][..], &[][..]));
        assert_eq!(r.slices_at(5, 10), (&[][..], &[][..]));
    }

    #[test]
    fn write_at_then_extend() {
        let mut r = Ring::new(8);
        r.push(b"ab");
        assert_eq!(r.write_at(4, b"xy"), 2);
        r.push(b"cd");
        r.extend(2);
        let mut out = [0; 6];
        r.pop_into(&mut out);
        assert_eq!(&out, b"abcdxy");
        assert_eq!(r.write_at(9, b"z"), 0);
    }

    #[test]
    fn out_of_order_data_survives_draining_the_ring() {
        let mut r = Ring::new(8);
        r.push(b"ab");
        r.write_at(3, b"d"); // a gap at offset 2
        let mut out = [0; 2];
        r.pop_into(&mut out); // the ring is empty, the "d" is still placed
        r.push(b"c");
        r.extend(1);
        let mut rest = [0; 2];
        assert_eq!(r.pop_into(&mut rest), 2);
        assert_eq!(&rest, b"cd");
    }

    #[test]
    fn resize_keeps_stored_and_placed_bytes() {
        let mut r = Ring::new(8);
        r.push(b"abcdef");
        let mut out = [0; 5];
        r.pop_into(&mut out); // head at 5, "f" stored
        r.push(b"gh"); // wraps: "fgh"
        r.write_at(4, b"j"); // placed out of order past a gap
        r.resize(16, 5);
        assert_eq!(r.capacity(), 16);
        assert_eq!(
            r.allocated(),
            16,
            "what is kept, at least the first allocation, at most the capacity"
        );
        assert_eq!(r.slices_at(0, 100), (&b"fgh"[..], &b""[..]));
        r.push(b"i");
        r.extend(1);
        assert_eq!(r.slices_at(0, 100), (&b"fghij"[..], &b""[..]));
        // Never below what is stored.
        r.resize(2, 0);
        assert_eq!(r.capacity(), 5);
        assert_eq!(r.slices_at(0, 100), (&b"fghij"[..], &b""[..]));
        // An unallocated ring stays unallocated.
        let mut e = Ring::new(4);
        e.resize(1 << 20, 0);
        assert_eq!((e.capacity(), e.allocated()), (1 << 20, 0));
    }

    #[test]
    fn a_summed_write_is_the_sum_of_its_bytes_and_stores_nothing_until_extended() {
        let text: Vec<u8> = (0..700u32).map(|i| (i * 7 + 3) as u8).collect();
        for head in [0, 1, 2, 3, 100, 333, 998, 999, 1000] {
            for len in [1, 2, 3, 5, 64, 129, 255, 256, 700] {
                let mut r = Ring::new(1000);
                r.push(&vec![0xee; head]);
                r.consume(head);
                let src = &text[..len];
                let sum = r.write_summed(src).unwrap();
                assert_eq!(
                    checksum::fold(sum),
                    checksum::fold(checksum::sum(src)),
                    "head {head}, len {len}"
                );
                assert!(r.is_empty(), "written, not stored");
                r.extend(len);
                let (a, b) = r.slices_at(0, usize::MAX);
                assert_eq!([a, b].concat(), src, "head {head}, len {len}");
            }
        }
        // What does not fit in the free space is not written at all.
        let mut r = Ring::new(10);
        r.push(b"abcdef");
        assert_eq!(r.write_summed(b"12345"), None);
        assert_eq!(
            r.write_summed(b"1234").map(checksum::fold),
            Some(checksum::fold(checksum::sum(b"1234")))
        );
    }

    proptest! {
        #[test]
        fn behaves_like_a_queue(ops in proptest::collection::vec((any::<bool>(), 0usize..20), 0..60)) {
            queue_model(16, ops)?;
        }

        #[test]
        fn behaves_like_a_queue_while_it_grows(ops in proptest::collection::vec((any::<bool>(), 0usize..1500), 0..40)) {
            queue_model(5000, ops)?;
        }
    }

    /// Pushes and pops on a ring of `cap` against a `VecDeque`.
    fn queue_model(cap: usize, ops: Vec<(bool, usize)>) -> Result<(), TestCaseError> {
        {
            let mut ring = Ring::new(cap);
            let mut model = std::collections::VecDeque::new();
            let mut next = 0u8;
            for (push, n) in ops {
                if push {
                    let src: Vec<u8> = (0..n)
                        .map(|_| {
                            next = next.wrapping_add(1);
                            next
                        })
                        .collect();
                    let k = ring.push(&src);
                    prop_assert_eq!(k, n.min(cap - model.len()));
                    model.extend(&src[..k]);
                } else {
                    let mut dst = vec![0; n];
                    let k = ring.pop_into(&mut dst);
                    let want: Vec<u8> = model.drain(..k.min(model.len())).collect();
                    prop_assert_eq!(&dst[..k], &want[..]);
                }
                prop_assert_eq!(ring.len(), model.len());
                let (a, b) = ring.slices_at(0, usize::MAX);
                let joined: Vec<u8> = a.iter().chain(b).copied().collect();
                let want: Vec<u8> = model.iter().copied().collect();
                prop_assert_eq!(joined, want);
                prop_assert!(ring.allocated() <= cap);
            }
        }
        Ok(())
    }
}
