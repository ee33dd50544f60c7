//! Demultiplexing: the 4-tuple that names a connection, and the keyed hash
//! the host's tables find it with.
//!
//! Every arriving segment is looked up by its 4-tuple, so the hash sits on
//! the hot path: std's SipHash-1-3 took 6% of a bulk transfer's time. The
//! hash here is a folded multiply per 64-bit word (a tuple of two IPv4
//! addresses is two words) and a final avalanche, keyed with a per-host
//! secret drawn from the host's entropy. Without the key an attacker cannot aim many tuples at
//! one bucket; flooding a bucket costs them guesses, not us CPU.

use std::hash::{BuildHasher, Hash, Hasher};
use std::net::{IpAddr, SocketAddr};

/// A connection's addresses from this host's side.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Tuple {
    pub local: SocketAddr,
    pub remote: SocketAddr,
}

impl Hash for Tuple {
    /// Two words for IPv4 (the addresses, then the ports), five for IPv6.
    /// Equal tuples write equal words (flow label and scope are left out,
    /// which only makes more tuples share a word).
    fn hash<H: Hasher>(&self, state: &mut H) {
        let ports = (u64::from(self.local.port()) << 16) | u64::from(self.remote.port());
        match (self.local.ip(), self.remote.ip()) {
            (IpAddr::V4(l), IpAddr::V4(r)) => {
                state.write_u64((u64::from(u32::from(l)) << 32) | u64::from(u32::from(r)));
            }
            (l, r) => {
                state.write_u128(bits(l));
                state.write_u128(bits(r));
            }
        }
        state.write_u64(ports);
    }
}

fn bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

/// The product of `a` and `b` with its high half folded onto its low half:
/// every input bit reaches many output bits.
#[inline]
fn folded_mul(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

/// Odd constants from the fractional digits of π, so that a zero key still
/// mixes.
const PI: [u64; 2] = [0x243f_6a88_85a3_08d3, 0x1319_8a2e_0370_7344];

/// A keyed hash for the demultiplexing tables (a `BuildHasher`).
#[derive(Copy, Clone, Debug)]
pub struct DemuxHash {
    seed: u64,
    key: u64,
}

impl DemuxHash {
    /// A hash keyed by 16 secret bytes.
    pub fn new(key: [u8; 16]) -> DemuxHash {
        let (a, b) = key.split_at(8);
        let word = |s: &[u8]| u64::from_le_bytes(s.try_into().unwrap_or([0; 8]));
        DemuxHash {
            seed: word(a) ^ PI[0],
            // Odd, so multiplying by it loses no bits.
            key: (word(b) ^ PI[1]) | 1,
        }
    }
}

impl Default for DemuxHash {
    /// A fixed key: for tables no outsider can fill (tests, small maps).
    fn default() -> DemuxHash {
        DemuxHash::new([0; 16])
    }
}

impl BuildHasher for DemuxHash {
    type Hasher = DemuxHasher;

    fn build_hasher(&self) -> DemuxHasher {
        DemuxHasher {
            state: self.seed,
            key: self.key,
        }
    }
}

/// The running state of one [`DemuxHash`] computation.
#[derive(Clone, Debug)]
pub struct DemuxHasher {
    state: u64,
    key: u64,
}

impl Hasher for DemuxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(w));
        }
    }

    #[inline]
    fn write_u64(&mut self, word: u64) {
        self.state = folded_mul(self.state ^ word, self.key);
    }

    #[inline]
    fn write_u128(&mut self, word: u128) {
        self.write_u64(word as u64);
        self.write_u64((word >> 64) as u64);
    }

    #[inline]
    fn write_u16(&mut self, n: u16) {
        self.write_u64(u64::from(n));
    }

    #[inline]
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        // A folded multiply mixes a word into the state but leaves close
        // inputs (ports one apart) close in the low bits, which is where a
        // table takes its bucket index: a final avalanche (the 64-bit
        // finaliser of MurmurHash3: every input bit flips each output bit
        // with probability about ½) spreads them.
        let mut x = self.state;
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        x ^ (x >> 33)
    }
}

/// The connection table: 4-tuple → handle. It holds the handles only (a
/// slot is a handle and a control byte, about 12 bytes a connection where
/// a map keyed by the 64-byte tuple took about 100); each tuple stays in
/// its connection, and every lookup, insertion and resize asks `tuple_of`
/// for the tuple a handle names. A lookup compares the tuple of the one
/// candidate whose stored hash bits match, which is the connection the
/// segment then goes to anyway: no extra memory is touched.
///
/// The table's rule: a handle is in it only while `tuple_of` answers for
/// it with the tuple it was inserted under (the host takes a connection
/// out before it forgets it, and a connection's tuple never changes).
#[derive(Debug)]
pub(crate) struct ConnTable<V> {
    table: hashbrown::HashTable<V>,
    hash: DemuxHash,
}

impl<V: Copy + PartialEq> ConnTable<V> {
    pub fn new(hash: DemuxHash) -> ConnTable<V> {
        ConnTable {
            table: hashbrown::HashTable::new(),
            hash,
        }
    }

    /// The handle of the connection named by `t`.
    #[inline]
    pub fn get(&self, t: &Tuple, tuple_of: impl Fn(V) -> Option<Tuple>) -> Option<V> {
        let hash = self.hash.hash_one(t);
        self.table
            .find(hash, |&v| tuple_of(v).as_ref() == Some(t))
            .copied()
    }

    /// Adds `v` under `t`, which no handle in the table has.
    pub fn insert(&mut self, t: Tuple, v: V, tuple_of: impl Fn(V) -> Option<Tuple>) {
        let build = self.hash;
        let hash = build.hash_one(t);
        // On a resize every handle is hashed again from its tuple. The
        // table's rule says each has one; a handle without (a broken rule)
        // lands in one bucket and is merely never found.
        self.table.insert_unique(hash, v, |&old| {
            tuple_of(old).map_or(0, |t| build.hash_one(t))
        });
    }

    /// Takes `v` out from under `t`; `false` if it was not there.
    pub fn remove(&mut self, t: &Tuple, v: V) -> bool {
        let hash = self.hash.hash_one(t);
        match self.table.find_entry(hash, |&x| x == v) {
            Ok(entry) => {
                entry.remove();
                true
            }
            Err(_) => false,
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Bytes the table holds on the heap.
    #[cfg(test)]
    pub fn allocation_size(&self) -> usize {
        self.table.allocation_size()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn tuple(a: &str, b: &str) -> Tuple {
        Tuple {
            local: a.parse().unwrap(),
            remote: b.parse().unwrap(),
        }
    }

    #[test]
    fn equal_tuples_hash_alike_and_keys_change_the_hash() {
        let h = DemuxHash::new([7; 16]);
        let t = tuple("10.0.0.1:80", "10.0.0.2:40000");
        assert_eq!(h.hash_one(t), h.hash_one(t));
        assert_ne!(h.hash_one(t), DemuxHash::new([8; 16]).hash_one(t));
        let v6 = tuple("[2001:db8::1]:80", "[2001:db8::2]:40000");
        assert_eq!(h.hash_one(v6), h.hash_one(v6));
        assert_ne!(h.hash_one(t), h.hash_one(v6));
    }

    #[test]
    fn tuples_that_differ_in_one_port_spread_over_buckets() {
        // 65,536 remote ports to one server: the low 16 bits of the hash
        // (a table's bucket index) should take nearly as many values.
        let h = DemuxHash::new([3; 16]);
        let buckets: HashSet<u64> = (0..=u16::MAX)
            .map(|p| {
                let t = Tuple {
                    local: "10.0.0.1:80".parse().unwrap(),
                    remote: SocketAddr::new("10.0.0.2".parse().unwrap(), p),
                };
                h.hash_one(t) & 0xFFFF
            })
            .collect();
        // A random function fills 1 − 1/e of them: about 41,400.
        assert!(buckets.len() > 40_000, "{} buckets", buckets.len());
    }

    #[test]
    fn ports_are_not_swappable() {
        let h = DemuxHash::default();
        let a = tuple("10.0.0.1:80", "10.0.0.2:443");
        let b = tuple("10.0.0.1:443", "10.0.0.2:80");
        assert_ne!(h.hash_one(a), h.hash_one(b));
    }

    /// The table against a model: handles index a vector of tuples (`None`:
    /// taken out), as the host's slots do.
    #[test]
    fn the_connection_table_finds_what_it_holds_through_resizes() {
        let mut table = ConnTable::<u32>::new(DemuxHash::new([3; 16]));
        let mut slots: Vec<Option<Tuple>> = Vec::new();
        let n = 20_000u32;
        for i in 0..n {
            let t = Tuple {
                local: SocketAddr::new(IpAddr::from([10, 77, 0, 2]), 80),
                remote: SocketAddr::new(IpAddr::from([10, 77, (i >> 8) as u8, i as u8]), 40000),
            };
            slots.push(Some(t));
            let s = &slots;
            table.insert(t, i, |h| s[h as usize]);
        }
        assert_eq!(table.len(), n as usize);
        let per_entry = table.allocation_size() as f64 / f64::from(n);
        assert!(per_entry < 16.0, "{per_entry} bytes per connection");
        for i in (0..n).step_by(7) {
            let t = slots[i as usize].unwrap();
            let s = &slots;
            assert_eq!(table.get(&t, |h| s[h as usize]), Some(i));
        }
        // Out of the table: not found; a handle is removed only from
        // under its own tuple.
        let t5 = slots[5].unwrap();
        assert!(!table.remove(&t5, 6));
        assert!(table.remove(&t5, 5));
        assert!(!table.remove(&t5, 5));
        slots[5] = None;
        let s = &slots;
        assert_eq!(table.get(&t5, |h| s[h as usize]), None);
        let absent = tuple("10.0.0.1:1", "10.0.0.2:2");
        assert_eq!(table.get(&absent, |h| s[h as usize]), None);
        assert_eq!(table.len(), n as usize - 1);
    }
}
