//! The seam between a stack and whatever carries its packets: a TUN
//! device, one end of a simulated link, a capture being replayed.
//!
//! A device says what it can carry ([`DeviceCaps`]: the MTU, from which a
//! stack derives its MSS per address family, and how many packets it moves
//! per call), and moves packets in batches. Sending lends the stack the
//! device's own buffer, so a segment is written once, straight into the
//! memory the device sends from.

use crate::sim::{Link, Side};
use std::io;
use synack_time::Instant;

/// What a device can carry.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct DeviceCaps {
    /// The largest IP packet, in bytes.
    pub mtu: usize,
    /// Packets moved per `receive` call at most (a batch).
    pub max_batch: usize,
    /// The device checked the checksums of what it delivers (offload); a
    /// stack checks them anyway when this is false.
    pub rx_checksums_verified: bool,
}

impl Default for DeviceCaps {
    /// An Ethernet-sized link: MTU 1500, batches of 64.
    fn default() -> Self {
        DeviceCaps {
            mtu: 1500,
            max_batch: 64,
            rx_checksums_verified: false,
        }
    }
}

/// Something that carries IP packets (no link-layer header).
pub trait Device {
    /// What the device can carry.
    fn caps(&self) -> DeviceCaps;

    /// Hands each packet that has arrived by `now` to `packet`, at most
    /// `caps().max_batch` of them; returns how many.
    fn receive(&mut self, now: Instant, packet: &mut dyn FnMut(&[u8])) -> io::Result<usize>;

    /// Lends a buffer of at least `caps().mtu` bytes to `fill`, which
    /// writes one packet into it and returns its length, or `None` when it
    /// has nothing to send. Returns whether a packet was taken.
    fn transmit(
        &mut self,
        now: Instant,
        fill: &mut dyn FnMut(&mut [u8]) -> Option<usize>,
    ) -> io::Result<bool>;

    /// Pushes out packets a batching device still holds.
    fn flush(&mut self, _now: Instant) -> io::Result<()> {
        Ok(())
    }

    /// When a packet will next be ready to receive, if the device knows
    /// (a simulated one does; a real one is polled).
    fn next_arrival(&self) -> Option<Instant> {
        None
    }
}

/// One end of a simulated [`Link`], as a device.
#[derive(Debug)]
pub struct LinkEnd<'a> {
    link: &'a mut Link,
    side: Side,
    buf: &'a mut Vec<u8>,
}

impl<'a> LinkEnd<'a> {
    /// The `side` end of `link`; `buf` is the scratch buffer packets are
    /// written into before the link takes them.
    pub fn new(link: &'a mut Link, side: Side, buf: &'a mut Vec<u8>) -> LinkEnd<'a> {
        LinkEnd { link, side, buf }
    }
}

impl Device for LinkEnd<'_> {
    fn caps(&self) -> DeviceCaps {
        DeviceCaps {
            mtu: self.link.config(self.side).mtu,
            ..DeviceCaps::default()
        }
    }

    fn receive(&mut self, now: Instant, packet: &mut dyn FnMut(&[u8])) -> io::Result<usize> {
        let mut n = 0;
        while n < self.caps().max_batch {
            let Some(d) = self.link.poll_deliver_to(now, self.side) else {
                break;
            };
            packet(&d.data);
            self.link.recycle(d.data);
            n += 1;
        }
        Ok(n)
    }

    fn transmit(
        &mut self,
        now: Instant,
        fill: &mut dyn FnMut(&mut [u8]) -> Option<usize>,
    ) -> io::Result<bool> {
        let mtu = self.caps().mtu;
        if self.buf.len() < mtu {
            self.buf.resize(mtu, 0);
        }
        match fill(&mut self.buf[..mtu]) {
            Some(n) => {
                self.link.send(now, self.side, &self.buf[..n]);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    fn next_arrival(&self) -> Option<Instant> {
        self.link.next_deadline_to(self.side)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::LinkConfig;
    use synack_time::Duration;

    #[test]
    fn a_link_end_carries_packets_to_the_other_end() {
        let mut link = Link::symmetric(
            LinkConfig::ideal()
                .with_delay(Duration::from_millis(1))
                .with_mtu(1280),
            1,
        );
        let mut buf = Vec::new();
        let mut a = LinkEnd::new(&mut link, Side::A, &mut buf);
        assert_eq!(a.caps().mtu, 1280);
        let sent = a
            .transmit(Instant::ZERO, &mut |b| {
                assert!(b.len() >= 1280);
                b[..3].copy_from_slice(b"abc");
                Some(3)
            })
            .unwrap();
        assert!(sent);
        assert!(!a.transmit(Instant::ZERO, &mut |_| None).unwrap());
        let mut b = LinkEnd::new(&mut link, Side::B, &mut buf);
        assert_eq!(b.next_arrival(), Some(Instant::from_millis(1)));
        let mut got = Vec::new();
        assert_eq!(
            b.receive(Instant::ZERO, &mut |p| got.push(p.to_vec()))
                .unwrap(),
            0
        );
        let t = Instant::from_millis(1);
        assert_eq!(b.receive(t, &mut |p| got.push(p.to_vec())).unwrap(), 1);
        assert_eq!(got, vec![b"abc".to_vec()]);
    }
}
