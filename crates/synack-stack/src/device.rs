//! Driving a host from a [`Device`]: packets in, timers, packets out, in
//! batches. A driver (the TUN loop, a simulation) calls `pump` whenever
//! the device has packets or `poll_timeout` is due.

use crate::host::Host;
use std::io;
use synack_device::Device;
use synack_tcp::Instant;

impl Host {
    /// One round: every packet the device has for us, every due timer,
    /// then every packet the host has to send, each written straight into
    /// the device's buffer. The device's MTU must be at least the host's
    /// (`HostConfig::mtu`, from `DeviceCaps::mtu`); otherwise nothing is
    /// taken from any connection and the error says so.
    pub fn pump(&mut self, now: Instant, dev: &mut dyn Device) -> io::Result<()> {
        let caps = dev.caps();
        let batch = caps.max_batch.max(1);
        let mut timers_done = false;
        loop {
            // A batch in, then everything it made goes out, so that what
            // the host builds itself (SYN-ACKs, RSTs) never piles up.
            let n = if caps.rx_checksums_verified {
                dev.receive(now, &mut |p| self.handle_verified_packet(now, p))?
            } else {
                dev.receive(now, &mut |p| self.handle_packet(now, p))?
            };
            if n < batch && !timers_done {
                self.handle_timeout(now);
                timers_done = true;
            }
            self.transmit_all(now, dev)?;
            if n < batch {
                return Ok(());
            }
        }
    }

    fn transmit_all(&mut self, now: Instant, dev: &mut dyn Device) -> io::Result<()> {
        let mut too_small = None;
        while dev.transmit(now, &mut |buf| match self.poll_transmit(now, buf) {
            Ok(n) => n,
            Err(e) => {
                too_small = Some(e);
                None
            }
        })? {}
        dev.flush(now)?;
        match too_small {
            Some(e) => Err(io::Error::new(io::ErrorKind::InvalidInput, e)),
            None => Ok(()),
        }
    }
}
