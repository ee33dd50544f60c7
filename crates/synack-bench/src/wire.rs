//! The in-memory wire both userspace stacks run over: two one-way queues
//! of IP packets in buffers that are recycled, so after warm-up no packet
//! allocates. Each stack writes a packet straight into a wire buffer and
//! parses it straight out of one, as it would with a device ring.

use std::cell::RefCell;
use std::collections::VecDeque;

/// One end of the wire.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum End {
    A,
    B,
}

impl End {
    fn index(self) -> usize {
        match self {
            End::A => 0,
            End::B => 1,
        }
    }
}

/// A packet buffer of the wire's MTU and how much of it is the packet.
#[derive(Debug)]
pub struct Packet {
    pub buf: Vec<u8>,
    pub len: usize,
}

impl Packet {
    pub fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

#[derive(Debug, Default)]
struct Inner {
    /// `queues[i]`: packets on their way to end `i`.
    queues: [VecDeque<Packet>; 2],
    pool: Vec<Vec<u8>>,
    packets: u64,
}

/// Two queues of packets and a pool of buffers. Interior mutability lets
/// a smoltcp device hand out receive and transmit tokens at once; both
/// stacks pay the same for it.
#[derive(Debug)]
pub struct Wire {
    mtu: usize,
    inner: RefCell<Inner>,
}

impl Wire {
    pub fn new(mtu: usize) -> Wire {
        Wire {
            mtu,
            inner: RefCell::new(Inner::default()),
        }
    }

    pub fn mtu(&self) -> usize {
        self.mtu
    }

    /// An empty buffer of the MTU, from the pool when it has one.
    pub fn buffer(&self) -> Vec<u8> {
        self.inner
            .borrow_mut()
            .pool
            .pop()
            .unwrap_or_else(|| vec![0; self.mtu])
    }

    /// Puts the first `len` bytes of `buf` on the wire from `from` to the
    /// other end.
    pub fn send(&self, from: End, buf: Vec<u8>, len: usize) {
        let mut w = self.inner.borrow_mut();
        w.packets += 1;
        let to = 1 - from.index();
        w.queues[to].push_back(Packet { buf, len });
    }

    /// The next packet for `to`.
    pub fn recv(&self, to: End) -> Option<Packet> {
        self.inner.borrow_mut().queues[to.index()].pop_front()
    }

    /// Gives a buffer back to the pool.
    pub fn recycle(&self, buf: Vec<u8>) {
        self.inner.borrow_mut().pool.push(buf);
    }

    /// Nothing in flight either way.
    pub fn is_idle(&self) -> bool {
        self.inner.borrow().queues.iter().all(VecDeque::is_empty)
    }

    /// Packets sent so far, both ways.
    pub fn packets(&self) -> u64 {
        self.inner.borrow().packets
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets_cross_to_the_other_end_and_buffers_come_back() {
        let w = Wire::new(1500);
        let mut b = w.buffer();
        assert_eq!(b.len(), 1500);
        b[0] = 42;
        w.send(End::A, b, 20);
        assert!(w.recv(End::A).is_none());
        assert!(!w.is_idle());
        let p = w.recv(End::B).unwrap();
        assert_eq!((p.len, p.bytes()[0]), (20, 42));
        w.recycle(p.buf);
        assert!(w.is_idle());
        assert_eq!(w.buffer()[0], 42, "the same buffer, reused");
        assert_eq!(w.packets(), 1);
    }
}
