//! A small deterministic, seeded pseudo-random number generator.
//!
//! [`Rng`] is xoshiro256** (Blackman & Vigna) with its state expanded from a
//! single `u64` seed by splitmix64. It is *not* cryptographically secure; it
//! exists so that simulations are reproducible: the same seed always yields
//! the same sequence, on every platform.
//!
//! Every method consumes a fixed number of 64-bit draws (one, except
//! [`Rng::fill`], which takes one per started 8-byte chunk), independent of its
//! arguments. Callers can therefore keep their draw order stable no matter
//! which probabilities or ranges are configured.

/// Deterministic xoshiro256** generator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rng {
    s: [u64; 4],
}

/// One step of splitmix64, used to expand the seed into the full state.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Rng {
    /// Create a generator from `seed`. Any seed (including zero) is fine.
    pub fn new(seed: u64) -> Rng {
        let mut sm = seed;
        let mut s = [0u64; 4];
        for word in &mut s {
            *word = splitmix64(&mut sm);
        }
        // splitmix64 is a bijection over a full-period counter, so four
        // consecutive outputs can never all be zero; guard anyway.
        if s == [0; 4] {
            s[0] = 1;
        }
        Rng { s }
    }

    /// Next 64 uniformly distributed bits.
    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Next 32 uniformly distributed bits (the high half of one 64-bit draw).
    pub fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    /// Uniform `f64` in `[0, 1)` with 53 bits of precision.
    pub fn gen_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// `true` with probability `p`. `p <= 0` (or NaN) is never, `p >= 1` is
    /// always. Always consumes exactly one draw.
    pub fn chance(&mut self, p: f64) -> bool {
        self.gen_f64() < p
    }

    /// Uniform integer in `[0, n)`; `0` when `n == 0`. Always consumes exactly
    /// one draw.
    ///
    /// Uses the multiply-high mapping, whose bias is at most `n / 2^64` —
    /// negligible for any range a simulation uses.
    pub fn below(&mut self, n: u64) -> u64 {
        let x = self.next_u64();
        ((u128::from(x) * u128::from(n)) >> 64) as u64
    }

    /// Fill `buf` with random bytes.
    pub fn fill(&mut self, buf: &mut [u8]) {
        let mut chunks = buf.chunks_exact_mut(8);
        for chunk in &mut chunks {
            chunk.copy_from_slice(&self.next_u64().to_le_bytes());
        }
        let rest = chunks.into_remainder();
        if !rest.is_empty() {
            let bytes = self.next_u64().to_le_bytes();
            rest.copy_from_slice(&bytes[..rest.len()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence() {
        let mut a = Rng::new(42);
        let mut b = Rng::new(42);
        for _ in 0..1000 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        let mut ba = [0u8; 37];
        let mut bb = [0u8; 37];
        a.fill(&mut ba);
        b.fill(&mut bb);
        assert_eq!(ba, bb);
        assert_eq!(a.gen_f64().to_bits(), b.gen_f64().to_bits());
        assert_eq!(a.below(1000), b.below(1000));
    }

    #[test]
    fn different_seeds_differ() {
        let mut a = Rng::new(1);
        let mut b = Rng::new(2);
        let va: Vec<u64> = (0..16).map(|_| a.next_u64()).collect();
        let vb: Vec<u64> = (0..16).map(|_| b.next_u64()).collect();
        assert_ne!(va, vb);
    }

    #[test]
    fn zero_seed_is_not_degenerate() {
        let mut r = Rng::new(0);
        let v: Vec<u64> = (0..8).map(|_| r.next_u64()).collect();
        assert!(v.iter().any(|&x| x != 0));
        assert!(v.windows(2).any(|w| w[0] != w[1]));
    }

    #[test]
    fn ranges() {
        let mut r = Rng::new(7);
        let mut sum = 0.0;
        for _ in 0..10_000 {
            let f = r.gen_f64();
            assert!((0.0..1.0).contains(&f));
            sum += f;
            assert!(r.below(10) < 10);
            assert_eq!(r.below(0), 0);
            assert_eq!(r.below(1), 0);
        }
        let mean = sum / 10_000.0;
        assert!((0.45..0.55).contains(&mean), "mean {mean}");
        assert!(!r.chance(0.0));
        assert!(r.chance(1.0));
        assert!(!r.chance(f64::NAN));
        assert!(!r.chance(-1.0));
    }

    #[test]
    fn below_covers_range() {
        let mut r = Rng::new(99);
        let mut seen = [0u32; 6];
        for _ in 0..6000 {
            seen[r.below(6) as usize] += 1;
        }
        for &c in &seen {
            assert!((800..1200).contains(&c), "{seen:?}");
        }
    }

    #[test]
    fn chance_consumes_one_draw() {
        let mut a = Rng::new(5);
        let mut b = Rng::new(5);
        a.chance(0.0);
        b.chance(1.0);
        assert_eq!(a.next_u64(), b.next_u64());
    }

    #[test]
    fn fill_odd_lengths() {
        let mut r = Rng::new(3);
        let mut empty: [u8; 0] = [];
        r.fill(&mut empty);
        let mut buf = [0u8; 1000];
        r.fill(&mut buf);
        assert!(buf.iter().filter(|&&b| b == 0).count() < 20);
    }
}
