//! Sequence numbers: 32-bit values compared modulo 2^32 (RFC 9293 §3.4).
//!
//! `SeqNum` deliberately has no `Ord`: "less than" only makes sense for two
//! numbers less than 2^31 apart, so every comparison is a named method.

use core::fmt;
use core::ops::{Add, AddAssign, Sub};

/// A TCP sequence number. Arithmetic wraps at 2^32.
#[derive(Copy, Clone, Default, PartialEq, Eq, Hash)]
pub struct SeqNum(pub u32);

impl SeqNum {
    /// `self` comes strictly before `other` in sequence space.
    #[inline]
    pub fn before(self, other: SeqNum) -> bool {
        (self.0.wrapping_sub(other.0) as i32) < 0
    }

    /// `self` comes before or is equal to `other`.
    #[inline]
    pub fn before_eq(self, other: SeqNum) -> bool {
        (self.0.wrapping_sub(other.0) as i32) <= 0
    }

    /// `self` comes strictly after `other`.
    #[inline]
    pub fn after(self, other: SeqNum) -> bool {
        other.before(self)
    }

    /// `self` comes after or is equal to `other`.
    #[inline]
    pub fn after_eq(self, other: SeqNum) -> bool {
        other.before_eq(self)
    }

    /// `start <= self < start + len`, modulo 2^32.
    #[inline]
    pub fn in_window(self, start: SeqNum, len: u32) -> bool {
        self.0.wrapping_sub(start.0) < len
    }

    /// `low < self <= high`, the shape RFC 9293 uses for acceptable ACKs.
    #[inline]
    pub fn in_range_excl_incl(self, low: SeqNum, high: SeqNum) -> bool {
        low.before(self) && self.before_eq(high)
    }

    /// Distance from `earlier` to `self`, assuming `self` is not before it.
    #[inline]
    pub fn since(self, earlier: SeqNum) -> u32 {
        self.0.wrapping_sub(earlier.0)
    }

    /// The later of two sequence numbers.
    #[inline]
    pub fn max(self, other: SeqNum) -> SeqNum {
        if self.before(other) {
            other
        } else {
            self
        }
    }

    /// The earlier of two sequence numbers.
    #[inline]
    pub fn min(self, other: SeqNum) -> SeqNum {
        if self.before(other) {
            self
        } else {
            other
        }
    }
}

impl Add<u32> for SeqNum {
    type Output = SeqNum;
    #[inline]
    fn add(self, n: u32) -> SeqNum {
        SeqNum(self.0.wrapping_add(n))
    }
}

impl AddAssign<u32> for SeqNum {
    #[inline]
    fn add_assign(&mut self, n: u32) {
        self.0 = self.0.wrapping_add(n);
    }
}

impl Sub<u32> for SeqNum {
    type Output = SeqNum;
    #[inline]
    fn sub(self, n: u32) -> SeqNum {
        SeqNum(self.0.wrapping_sub(n))
    }
}

impl fmt::Debug for SeqNum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SeqNum({})", self.0)
    }
}

impl fmt::Display for SeqNum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn comparisons_across_wrap() {
        let a = SeqNum(u32::MAX - 5);
        let b = a + 10; // wrapped to 4
        assert_eq!(b.0, 4);
        assert!(a.before(b));
        assert!(b.after(a));
        assert!(!b.before(a));
        assert_eq!(b.since(a), 10);
        assert!(SeqNum(2).in_window(a, 10));
        assert!(!SeqNum(4).in_window(a, 10));
        assert!(b.in_range_excl_incl(a, b));
        assert!(!a.in_range_excl_incl(a, b));
        assert_eq!(a.max(b), b);
        assert_eq!(a.min(b), a);
    }

    proptest! {
        #[test]
        fn add_then_since_roundtrips(base: u32, n in 0u32..(1 << 31)) {
            let a = SeqNum(base);
            let b = a + n;
            prop_assert_eq!(b.since(a), n);
            prop_assert!(a.before_eq(b));
            if n > 0 {
                prop_assert!(a.before(b));
                prop_assert!(!b.before_eq(a));
            }
            prop_assert_eq!(b - n, a);
        }

        #[test]
        fn window_membership(start: u32, len in 0u32..(1 << 30), off: u32) {
            let s = SeqNum(start);
            prop_assert_eq!((s + off).in_window(s, len), off < len);
        }
    }
}
