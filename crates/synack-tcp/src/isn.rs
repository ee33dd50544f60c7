//! Initial sequence numbers per RFC 6528: ISN = M + F(4-tuple, secret).
//!
//! M is a clock that ticks every 4 microseconds (taken from `now`, which the
//! caller passes in); F is SipHash-2-4 keyed with a secret the caller draws
//! from its own randomness. An off-path attacker who does not know the secret
//! cannot predict the ISN, yet ISNs for one 4-tuple still increase with time,
//! which keeps old duplicates of an earlier incarnation out of the window.

use crate::time::Instant;
use std::net::{IpAddr, SocketAddr};

/// The 128-bit key for the ISN hash. Draw it once per stack from a real
/// random source (or from the test seed).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct IsnSecret {
    key: [u8; 16],
    /// Tests only: F is this constant instead of the keyed hash.
    fixed: Option<u32>,
}

impl IsnSecret {
    pub fn new(key: [u8; 16]) -> IsnSecret {
        IsnSecret { key, fixed: None }
    }

    /// Builds a secret from a 64-bit seed (for tests and the simulator).
    pub fn from_seed(seed: u64) -> IsnSecret {
        let mut key = [0u8; 16];
        key[..8].copy_from_slice(&seed.to_le_bytes());
        key[8..].copy_from_slice(&(!seed).rotate_left(17).to_le_bytes());
        IsnSecret::new(key)
    }

    /// A predictable generator, ISN = `base` + M, for tests that need a
    /// chosen ISN (e.g. to cross 2^32 early). Never use it on a network.
    pub fn predictable(base: u32) -> IsnSecret {
        IsnSecret {
            key: [0; 16],
            fixed: Some(base),
        }
    }

    /// RFC 6528 §3: ISN = M + F(localip, localport, remoteip, remoteport, secretkey).
    pub fn isn(&self, now: Instant, local: SocketAddr, remote: SocketAddr) -> u32 {
        let mut msg = [0u8; 36];
        let mut n = put_ip(&mut msg, 0, local.ip());
        msg[n..n + 2].copy_from_slice(&local.port().to_be_bytes());
        n += 2;
        n = put_ip(&mut msg, n, remote.ip());
        msg[n..n + 2].copy_from_slice(&remote.port().to_be_bytes());
        n += 2;
        let f = match self.fixed {
            Some(f) => f,
            None => siphash24(&self.key, &msg[..n]) as u32,
        };
        let m = (now.as_micros() / 4) as u32;
        m.wrapping_add(f)
    }
}

impl IsnSecret {
    /// RFC 7323 §5.4: the timestamp clock of a connection starts at a
    /// random offset, so TSval reveals neither uptime nor other connections.
    pub fn ts_offset(&self, local: SocketAddr, remote: SocketAddr) -> u32 {
        if self.fixed.is_some() {
            return 0;
        }
        let mut msg = [0u8; 37];
        let mut n = put_ip36(&mut msg, 0, local.ip());
        msg[n..n + 2].copy_from_slice(&local.port().to_be_bytes());
        n += 2;
        n = put_ip36(&mut msg, n, remote.ip());
        msg[n..n + 2].copy_from_slice(&remote.port().to_be_bytes());
        n += 2;
        msg[n] = 0x75; // a different domain than the ISN's hash
        (siphash24(&self.key, &msg[..n + 1]) >> 32) as u32
    }
}

fn put_ip36(buf: &mut [u8; 37], at: usize, ip: IpAddr) -> usize {
    match ip {
        IpAddr::V4(a) => {
            buf[at..at + 4].copy_from_slice(&a.octets());
            at + 4
        }
        IpAddr::V6(a) => {
            buf[at..at + 16].copy_from_slice(&a.octets());
            at + 16
        }
    }
}

fn put_ip(buf: &mut [u8; 36], at: usize, ip: IpAddr) -> usize {
    match ip {
        IpAddr::V4(a) => {
            buf[at..at + 4].copy_from_slice(&a.octets());
            at + 4
        }
        IpAddr::V6(a) => {
            buf[at..at + 16].copy_from_slice(&a.octets());
            at + 16
        }
    }
}

/// SipHash-2-4 (Aumasson & Bernstein), 64-bit output.
pub fn siphash24(key: &[u8; 16], msg: &[u8]) -> u64 {
    let k0 = u64::from_le_bytes(key[..8].try_into().unwrap_or([0; 8]));
    let k1 = u64::from_le_bytes(key[8..].try_into().unwrap_or([0; 8]));
    let mut v = [
        k0 ^ 0x736f_6d65_7073_6575,
        k1 ^ 0x646f_7261_6e64_6f6d,
        k0 ^ 0x6c79_6765_6e65_7261,
        k1 ^ 0x7465_6462_7974_6573,
    ];
    fn round(v: &mut [u64; 4]) {
        v[0] = v[0].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(13) ^ v[0];
        v[0] = v[0].rotate_left(32);
        v[2] = v[2].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(16) ^ v[2];
        v[0] = v[0].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(21) ^ v[0];
        v[2] = v[2].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(17) ^ v[2];
        v[2] = v[2].rotate_left(32);
    }
    let mut chunks = msg.chunks_exact(8);
    for c in &mut chunks {
        let m = u64::from_le_bytes(c.try_into().unwrap_or([0; 8]));
        v[3] ^= m;
        round(&mut v);
        round(&mut v);
        v[0] ^= m;
    }
    let rest = chunks.remainder();
    let mut last = [0u8; 8];
    last[..rest.len()].copy_from_slice(rest);
    last[7] = msg.len() as u8;
    let m = u64::from_le_bytes(last);
    v[3] ^= m;
    round(&mut v);
    round(&mut v);
    v[0] ^= m;
    v[2] ^= 0xff;
    for _ in 0..4 {
        round(&mut v);
    }
    v[0] ^ v[1] ^ v[2] ^ v[3]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn siphash_reference_vectors() {
        // Test vectors from the SipHash paper: key 00..0f, message 00..(n-1).
        let key: [u8; 16] = core::array::from_fn(|i| i as u8);
        let msg: Vec<u8> = (0..15).collect();
        assert_eq!(siphash24(&key, &[]), 0x726f_db47_dd0e_0e31);
        assert_eq!(siphash24(&key, &msg), 0xa129_ca61_49be_45e5);
    }

    #[test]
    fn isn_grows_with_time_and_depends_on_tuple() {
        let s = IsnSecret::from_seed(7);
        let a: SocketAddr = "10.0.0.1:40000".parse().unwrap();
        let b: SocketAddr = "10.0.0.2:80".parse().unwrap();
        let c: SocketAddr = "10.0.0.2:81".parse().unwrap();
        let t0 = s.isn(Instant::ZERO, a, b);
        let t1 = s.isn(Instant::from_micros(400), a, b);
        assert_eq!(t1.wrapping_sub(t0), 100);
        assert_ne!(s.isn(Instant::ZERO, a, c), t0);
        assert_ne!(IsnSecret::from_seed(8).isn(Instant::ZERO, a, b), t0);
        assert_eq!(
            IsnSecret::predictable(u32::MAX).isn(Instant::from_micros(8), a, b),
            1
        );
    }
}
