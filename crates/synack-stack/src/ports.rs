//! Ephemeral ports (RFC 6056 algorithm 3, "simple hash-based"): each
//! destination gets its own keyed starting point in the range, and a
//! shared counter moves on from there. An off-path attacker cannot guess
//! the port of a new connection, yet ports to one destination are not
//! reused soon (which keeps clear of TIME-WAIT).

use std::net::{IpAddr, SocketAddr};
use synack_tcp::isn::siphash24;

#[derive(Clone, Debug)]
pub(crate) struct Ports {
    first: u16,
    last: u16,
    key: [u8; 16],
    /// RFC 6056 `next_ephemeral` (64 bits: it never wraps, so `num`
    /// successive tries always cover the whole range).
    next: u64,
    /// The last destination's offset: a client opening connection after
    /// connection to one server hashes its addresses once.
    recent: Option<(IpAddr, SocketAddr, u32)>,
}

impl Ports {
    pub fn new(range: (u16, u16), key: [u8; 16]) -> Ports {
        let (a, b) = range;
        Ports {
            first: a.min(b).max(1),
            last: a.max(b).max(1),
            key,
            next: 0,
            recent: None,
        }
    }

    /// F(local address, remote address, remote port, secret) of the RFC.
    fn offset(&self, local: IpAddr, remote: SocketAddr) -> u32 {
        let mut msg = [0u8; 34];
        let mut n = 0;
        for ip in [local, remote.ip()] {
            match ip {
                IpAddr::V4(a) => {
                    msg[n..n + 4].copy_from_slice(&a.octets());
                    n += 4;
                }
                IpAddr::V6(a) => {
                    msg[n..n + 16].copy_from_slice(&a.octets());
                    n += 16;
                }
            }
        }
        msg[n..n + 2].copy_from_slice(&remote.port().to_be_bytes());
        siphash24(&self.key, &msg[..n + 2]) as u32
    }

    /// A free port for a connection from `local` to `remote`; `in_use`
    /// says whether a port is taken (a connection, a listener, TIME-WAIT).
    /// `None` when every port in the range is taken.
    pub fn choose(
        &mut self,
        local: IpAddr,
        remote: SocketAddr,
        mut in_use: impl FnMut(u16) -> bool,
    ) -> Option<u16> {
        let num = u32::from(self.last - self.first) + 1;
        let offset = match self.recent {
            Some((l, r, offset)) if l == local && r == remote => offset,
            _ => {
                let offset = self.offset(local, remote);
                self.recent = Some((local, remote, offset));
                offset
            }
        };
        for _ in 0..num {
            let port = u64::from(self.first) + (u64::from(offset) + self.next) % u64::from(num);
            self.next += 1;
            let port = port as u16;
            if !in_use(port) {
                return Some(port);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_stay_in_range_and_differ_per_destination() {
        let mut p = Ports::new((50000, 50009), [7; 16]);
        let l: IpAddr = "10.0.0.1".parse().unwrap();
        let a: SocketAddr = "10.0.0.2:80".parse().unwrap();
        let b: SocketAddr = "10.0.0.3:80".parse().unwrap();
        let mut taken = Vec::new();
        for _ in 0..10 {
            let port = p.choose(l, a, |q| taken.contains(&q)).unwrap();
            assert!((50000..=50009).contains(&port));
            taken.push(port);
        }
        assert_eq!(p.choose(l, a, |q| taken.contains(&q)), None, "exhausted");
        // The remembered offset is the hash's: the same sequence again.
        let mut again = Ports::new((50000, 50009), [7; 16]);
        let mut q = Ports::new((50000, 50009), [7; 16]);
        q.choose(l, b, |_| false);
        q.next = 0;
        for _ in 0..10 {
            assert_eq!(q.choose(l, a, |_| false), again.choose(l, a, |_| false));
        }
        // Another destination starts elsewhere in the range.
        let mut p2 = Ports::new((1024, 65535), [7; 16]);
        let pa = p2.choose(l, a, |_| false).unwrap();
        let mut p3 = Ports::new((1024, 65535), [7; 16]);
        let pb = p3.choose(l, b, |_| false).unwrap();
        assert_ne!(pa, pb);
    }
}
