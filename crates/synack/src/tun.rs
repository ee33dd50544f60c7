//! A Linux TUN device as a [`NetDevice`]: the kernel on one side, a synack
//! stack on the other. Readiness comes from tokio's reactor (`AsyncFd` on
//! the TUN's descriptor); packets move in batches of up to 64 per wake-up.
//! Optional seeded impairment (loss, delay, reordering) and a pcap tap of
//! what crosses the device sit in the same pump.

use std::fs::File;
use std::io::{self, BufWriter};
use std::task::{Context, Poll};

use synack_device::{Device, DeviceCaps, ImpairConfig, Impaired, PcapWriter, TunDevice};
use synack_tcp::Instant;
use tokio::io::unix::AsyncFd;

use crate::stack::NetDevice;

/// The TUN device registered with tokio's reactor. The `AsyncFd` owns the
/// device, which owns the descriptor: it is deregistered before it is
/// closed, and never changes while registered, which is what tokio asks.
struct Registered(AsyncFd<TunDevice>);

impl Device for Registered {
    fn caps(&self) -> DeviceCaps {
        self.0.get_ref().caps()
    }
    fn receive(&mut self, now: Instant, packet: &mut dyn FnMut(&[u8])) -> io::Result<usize> {
        self.0.get_mut().receive(now, packet)
    }
    fn transmit(
        &mut self,
        now: Instant,
        fill: &mut dyn FnMut(&mut [u8]) -> Option<usize>,
    ) -> io::Result<bool> {
        self.0.get_mut().transmit(now, fill)
    }
    fn flush(&mut self, now: Instant) -> io::Result<()> {
        self.0.get_mut().flush(now)
    }
}

/// A TUN device driven by a stack.
pub struct Tun {
    dev: Impaired<Registered>,
    pcap: Option<PcapWriter<BufWriter<File>>>,
}

impl Tun {
    /// Wraps an open, configured TUN device; `impair` applies in both
    /// directions (`ImpairConfig::default()` changes nothing). Must be
    /// called inside a tokio runtime (the device joins its reactor).
    pub fn new(dev: TunDevice, impair: ImpairConfig) -> io::Result<Tun> {
        // `AsyncFd::new` is deprecated because a caller could close the
        // descriptor while it is registered; here the AsyncFd owns the
        // device that owns the descriptor, so that cannot happen.
        #[allow(deprecated)]
        let fd = AsyncFd::new(dev)?;
        Ok(Tun {
            dev: Impaired::symmetric(Registered(fd), impair),
            pcap: None,
        })
    }

    /// Writes every packet that crosses the device, both ways, to `path`.
    pub fn capture(&mut self, path: &std::path::Path) -> io::Result<()> {
        let f = File::create(path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        self.pcap = Some(PcapWriter::new(BufWriter::new(f))?);
        Ok(())
    }

    pub fn device(&self) -> &TunDevice {
        self.dev.inner().0.get_ref()
    }

    /// What the impairment did: (received side, sent side).
    pub fn impair_stats(&self) -> (synack_device::ImpairStats, synack_device::ImpairStats) {
        (self.dev.rx_stats(), self.dev.tx_stats())
    }
}

impl Device for Tun {
    fn caps(&self) -> DeviceCaps {
        self.dev.caps()
    }

    fn receive(&mut self, now: Instant, packet: &mut dyn FnMut(&[u8])) -> io::Result<usize> {
        match self.pcap.as_mut() {
            None => self.dev.receive(now, packet),
            Some(pcap) => self.dev.receive(now, &mut |p| {
                let _ = pcap.write_packet(now, p);
                packet(p)
            }),
        }
    }

    fn transmit(
        &mut self,
        now: Instant,
        fill: &mut dyn FnMut(&mut [u8]) -> Option<usize>,
    ) -> io::Result<bool> {
        match self.pcap.as_mut() {
            None => self.dev.transmit(now, fill),
            Some(pcap) => self.dev.transmit(now, &mut |buf| {
                let n = fill(buf)?;
                let _ = pcap.write_packet(now, &buf[..n]);
                Some(n)
            }),
        }
    }

    fn flush(&mut self, now: Instant) -> io::Result<()> {
        if let Some(p) = self.pcap.as_mut() {
            p.flush()?;
        }
        self.dev.flush(now)
    }

    fn next_arrival(&self) -> Option<Instant> {
        self.dev.next_arrival()
    }
}

impl NetDevice for Tun {
    fn poll_readable(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.dev.inner().0.poll_read_ready(cx) {
            Poll::Ready(Ok(mut guard)) => {
                // Cleared before the driver reads everything there is: a
                // packet that arrives meanwhile sets it again.
                guard.clear_ready();
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }
}
