//! A Linux TUN device: IP packets to and from the kernel's own stack.
//!
//! [`TunDevice`] owns one descriptor of `/dev/net/tun`, attached with
//! `IFF_TUN | IFF_NO_PI | IFF_VNET_HDR` to a layer-3 interface: every
//! `read` is one IP packet behind a 10-byte `virtio_net_hdr`, every
//! `write` hands one to the kernel behind an empty one.
//!
//! # Offloads
//!
//! The device asks the kernel for checksum and TCP segmentation offload
//! (`TUNSETOFFLOAD` with `TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6`). The
//! kernel then hands over what its TCP sends as it built it: one packet of
//! up to 64 KiB where the wire would carry dozens of MSS-sized ones, with
//! the checksum left partial (`VIRTIO_NET_HDR_F_NEEDS_CSUM`: only the
//! pseudo-header is summed into the field, as for a NIC that finishes it).
//! synack takes such a packet as one large segment, which RFC 9293 allows
//! a receiver (it checks a segment against its window, not its MSS), and
//! answers it with one ACK. Every packet comes from the local kernel's
//! stack, so the device vouches for its checksums
//! (`DeviceCaps::rx_checksums_verified`): partial and already-verified
//! ones are taken as they are, and the rare whole one (a packet the kernel
//! forwarded) is checked here, before the stack sees it. A kernel
//! that refuses the offloads just sends ordinary packets, and the stack
//! checks their checksums itself.
//!
//! The other way, the device gathers a burst of one connection's segments
//! into one packet and asks the kernel to cut it apart again
//! (`VIRTIO_NET_HDR_GSO_TCPV4`/`TCPV6`; see [`crate::gso`]): one `write`
//! for up to 64 KiB instead of one per segment. What was gathered goes out
//! at [`Device::flush`], or when a segment does not continue it.
//! The descriptor is non-blocking and close-on-exec; a runtime polls it
//! through [`AsFd`] (tokio's `AsyncFd`, or [`wait_readable`] for a blocking
//! loop that also waits on a wake-up descriptor).
//!
//! Configuring the interface (network namespace, MTU, the kernel's
//! addresses, up) goes through iproute2's `ip` command rather than netlink
//! code of our own; that is the slow path, used once at start-up.
//!
//! This module owns the crate's only `unsafe` code: four system calls
//! (`ioctl(TUNSETIFF)`, `ioctl(TUNSETOFFLOAD)`, `ioctl(SIOCGIFFLAGS)`,
//! `poll`), each behind a small safe function. Reads and writes go through [`std::fs::File`].
//!
//! # Order of calls
//!
//! [`TunDevice::open`], then optionally [`TunDevice::move_to_netns`], then
//! [`TunDevice::add_address`] for the kernel's side of the link,
//! [`TunDevice::up`], and [`TunDevice::wait_up`] before the first packet:
//! a packet written while the interface is still coming up is dropped by
//! the kernel, and for a SYN that costs a one-second retransmission.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, IoSlice, Read, Write};
use std::net::{IpAddr, Ipv6Addr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::net::UnixDatagram;
use std::process::{Command, Stdio};
use std::time::Duration;

use synack_time::Instant;
use synack_wire::{IpProtocol, IpRepr, TcpRepr, WireError};

use crate::device::{Device, DeviceCaps};
use crate::gso::{Gather, MAX_GATHERED};

/// The clone device every TUN descriptor is opened from.
const TUN_PATH: &str = "/dev/net/tun";

/// Packets moved per `receive` call at most.
const MAX_BATCH: usize = 64;

/// `struct virtio_net_hdr` (linux/virtio_net.h) in front of every packet
/// read or written with `IFF_VNET_HDR`: flags, gso_type, hdr_len,
/// gso_size, csum_start, csum_offset (the 16-bit fields in the machine's
/// own order, the kernel's default for a TUN device).
const VNET_HDR_LEN: usize = 10;

/// `VIRTIO_NET_HDR_F_NEEDS_CSUM`: the checksum is partial (pseudo-header
/// only); the sender's stack vouches for the data.
const VNET_NEEDS_CSUM: u8 = 1;

/// `VIRTIO_NET_HDR_F_DATA_VALID`: the kernel already verified the checksum.
const VNET_DATA_VALID: u8 = 2;

/// Gatherings of fewer segments than this go to the kernel one segment at
/// a time. A gathered packet of a few segments can wait for the kernel's
/// delayed-ACK timer: a capture showed eight segments sent at the end of a
/// window (the congestion window small after a loss) acknowledged 51 ms
/// later, after a tail loss probe. Cut back into segments, small bursts
/// do not wait so. Measured with 1% loss each way, 512 MiB synack →
/// kernel: every gathering 0.31 and 0.28 Gbit/s, none 0.76 and 0.77, from
/// 8 segments 0.29 and 0.33, from 16 0.52 and 0.50, from 32 0.61 and 0.80;
/// without loss, from 16 5.09 and 4.39, from 32 3.76 and 3.57 (every
/// gathering 6.56, 4.97, 5.80). Sixteen keeps most of both.
const SMALL_GATHERING: usize = 16;

/// The largest packet the kernel hands over with segmentation offload.
const MAX_GSO_PACKET: usize = 65535;

/// Smallest MTU accepted: IPv4's minimum (RFC 791). IPv6 needs 1280
/// (RFC 8200 §5); the kernel disables IPv6 on a smaller link by itself.
pub const MIN_MTU: usize = 68;

/// Largest MTU the kernel's tun driver accepts.
pub const MAX_MTU: usize = 65535;

/// How often [`TunDevice::wait_up`] looks again.
const WAIT_UP_POLL: Duration = Duration::from_millis(5);

/// Display text of a refused open, as a CLI shows it.
const PERMISSION_DENIED: &str =
    "cannot open /dev/net/tun: permission denied (needs root or CAP_NET_ADMIN)";

/// Display text of an open on a machine without the tun driver.
const NO_TUN_DRIVER: &str = "cannot open /dev/net/tun: no such device (is the tun module loaded?)";

/// `struct ifreq` (linux/if.h) as far as this module uses it: the interface
/// name, then the `ifr_flags` member of the union, padded to the size of the
/// union's largest member (`struct ifmap`, 24 bytes on 64-bit targets) so
/// the kernel never reads or writes past the end.
#[repr(C)]
struct IfReq {
    name: [libc::c_char; libc::IFNAMSIZ],
    flags: libc::c_short,
    _rest: [u8; 22],
}

// The kernel copies `sizeof(struct ifreq)` bytes in and out: 40 on 64-bit
// targets, 32 on 32-bit ones.
const _: () = assert!(std::mem::size_of::<IfReq>() >= 40);

impl IfReq {
    /// A request naming `name` (already checked by [`check_name`]).
    fn new(name: &str, flags: libc::c_short) -> IfReq {
        let mut req = IfReq {
            name: [0; libc::IFNAMSIZ],
            flags,
            _rest: [0; 22],
        };
        for (dst, &src) in req.name.iter_mut().zip(name.as_bytes()) {
            *dst = src as libc::c_char;
        }
        req
    }

    /// The name the kernel wrote back (it fills in templates like `tun%d`).
    fn name(&self) -> String {
        let bytes: Vec<u8> = self
            .name
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// What a [`TunDevice`] has moved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TunStats {
    /// Packets read from the kernel and handed to the stack.
    pub packets_in: u64,
    /// Bytes in those packets.
    pub bytes_in: u64,
    /// Packets (segments) the stack sent to the kernel.
    pub packets_out: u64,
    /// Bytes in those packets.
    pub bytes_out: u64,
    /// Packets dropped because the kernel would not take them right now
    /// (`EAGAIN` / `ENOBUFS`); the device never blocks.
    pub write_drops: u64,
    /// Packets read that were larger than the device's MTU (the kernel's
    /// MTU is larger than ours), dropped.
    pub rx_oversize: u64,
    /// Packets read that the kernel built larger than the MTU, for synack
    /// to take whole (segmentation offload).
    pub rx_offloaded: u64,
    /// Packets read with a whole checksum that failed it (only with
    /// offloads on, when the device vouches for checksums), dropped.
    pub rx_bad_checksum: u64,
    /// Writes that carried several of the stack's segments for the kernel
    /// to cut apart again (segmentation offload; `packets_out` counts the
    /// segments).
    pub tx_gathered: u64,
}

/// A Linux TUN interface (layer 3, no packet-information header).
///
/// Closing the device (dropping it) deletes the interface unless it was
/// made persistent elsewhere (`ip tuntap add`).
pub struct TunDevice {
    file: File,
    name: String,
    mtu: usize,
    /// The network namespace the interface was moved to, if any; every
    /// `ip` command for it then runs as `ip -n NS ...`.
    netns: Option<String>,
    /// IPv6 addresses added, which [`TunDevice::wait_up`] waits to see
    /// leave the `tentative` state.
    ipv6: Vec<Ipv6Addr>,
    /// The kernel took `TUNSETOFFLOAD`: it may hand over packets larger
    /// than the MTU and with partial checksums.
    offload: bool,
    /// The virtio header and the largest packet, plus one byte: a read
    /// that fills it was larger than any packet may be.
    rx_buf: Vec<u8>,
    /// The virtio header, the segments gathered so far (up to 64 KiB), and
    /// `mtu` bytes after them, lent to the stack to write a packet into.
    tx_buf: Vec<u8>,
    /// The segments gathered at the start of `tx_buf`, not yet written.
    gather: Option<Gather>,
    /// `mtu` bytes to cut a small gathering back into segments in.
    cut_buf: Vec<u8>,
    stats: TunStats,
}

impl fmt::Debug for TunDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TunDevice")
            .field("fd", &self.file.as_raw_fd())
            .field("name", &self.name)
            .field("mtu", &self.mtu)
            .field("netns", &self.netns)
            .field("offload", &self.offload)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl TunDevice {
    /// Creates the TUN interface `name`, or attaches to an existing one of
    /// that name, and sizes the device's buffers for `mtu`.
    ///
    /// The interface is left as the kernel made it: down, no addresses, the
    /// kernel's default MTU until [`TunDevice::up`] or
    /// [`TunDevice::set_mtu`]. Needs root or `CAP_NET_ADMIN` (or a
    /// persistent interface owned by this user).
    ///
    /// Errors: `InvalidInput` for a bad name (empty, longer than 15 bytes,
    /// `.`, `..`, or containing `/`, `:`, NUL or whitespace) or an MTU
    /// outside `68..=65535`; `PermissionDenied` and `NotFound` with a
    /// one-line explanation; any other error from the kernel with the
    /// interface name in it.
    pub fn open(name: &str, mtu: usize) -> io::Result<TunDevice> {
        check_name(name)?;
        check_mtu(mtu)?;
        // std opens with O_CLOEXEC; O_NONBLOCK so a read never stalls the
        // stack and a full kernel queue drops instead of blocking.
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(TUN_PATH)
            .map_err(open_error)?;
        let flags = libc::IFF_TUN | libc::IFF_NO_PI | libc::IFF_VNET_HDR;
        let mut req = IfReq::new(name, flags as libc::c_short);
        tunsetiff(&file, &mut req).map_err(|e| attach_error(name, e))?;
        let offloads = libc::TUN_F_CSUM | libc::TUN_F_TSO4 | libc::TUN_F_TSO6;
        let offload = tunsetoffload(&file, offloads).is_ok();
        let mut dev = TunDevice {
            file,
            name: req.name(),
            mtu,
            netns: None,
            ipv6: Vec::new(),
            offload,
            rx_buf: Vec::new(),
            tx_buf: Vec::new(),
            gather: None,
            cut_buf: Vec::new(),
            stats: TunStats::default(),
        };
        dev.resize(mtu);
        Ok(dev)
    }

    /// The kernel hands this device whole TCP sends of up to 64 KiB with
    /// partial checksums (see the module documentation); `false` if it
    /// refused the offloads.
    pub fn offloads(&self) -> bool {
        self.offload
    }

    /// The interface's name (as the kernel chose it, for a template such as
    /// `tun%d`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The largest packet this device moves, in bytes.
    pub fn mtu(&self) -> usize {
        self.mtu
    }

    /// The network namespace the interface was moved to, if any.
    pub fn netns(&self) -> Option<&str> {
        self.netns.as_deref()
    }

    /// Counters of what the device has moved.
    pub fn stats(&self) -> TunStats {
        self.stats
    }

    /// Moves the interface into the named network namespace (`ip netns
    /// add NS` made it). The descriptor stays valid; from now on every `ip`
    /// command for the interface runs inside `ns`. Moving takes the
    /// interface down and removes its addresses, so move first.
    pub fn move_to_netns(&mut self, ns: &str) -> io::Result<()> {
        if ns.is_empty() || ns.contains('/') || ns.contains(char::is_whitespace) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("bad network namespace name {ns:?}"),
            ));
        }
        self.ip(&["link", "set", "dev", &self.name, "netns", ns])?;
        self.netns = Some(ns.to_owned());
        self.ipv6.clear();
        Ok(())
    }

    /// Sets the interface's MTU in the kernel and resizes the device's
    /// buffers to match.
    pub fn set_mtu(&mut self, mtu: usize) -> io::Result<()> {
        check_mtu(mtu)?;
        self.ip(&["link", "set", "dev", &self.name, "mtu", &mtu.to_string()])?;
        self.resize(mtu);
        Ok(())
    }

    /// Gives the kernel's end of the link the address `ip/prefix` (the stack
    /// using this device takes another address in that prefix). An IPv6
    /// address is added with `nodad`, so it is usable at once. Adding an
    /// address the interface already has is not an error.
    pub fn add_address(&mut self, ip: IpAddr, prefix: u8) -> io::Result<()> {
        let max = if ip.is_ipv4() { 32 } else { 128 };
        if prefix > max {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("prefix length /{prefix} is too long for {ip}"),
            ));
        }
        let cidr = format!("{ip}/{prefix}");
        let mut args = vec!["addr", "add", &cidr, "dev", &self.name];
        if ip.is_ipv6() {
            // RFC 4862 §5.4: skip duplicate address detection; nothing else
            // is on this point-to-point link.
            args.push("nodad");
        }
        if let Err(e) = self.ip(&args) {
            // iproute2 and kernels word "already there" differently; ask.
            if !self.addresses().is_ok_and(|a| a.contains(&ip)) {
                return Err(e);
            }
        }
        if let IpAddr::V6(v6) = ip {
            if !self.ipv6.contains(&v6) {
                self.ipv6.push(v6);
            }
        }
        Ok(())
    }

    /// Brings the interface up, with its kernel MTU set to the device's, so
    /// the kernel never sends a packet larger than the device reads.
    pub fn up(&mut self) -> io::Result<()> {
        let mtu = self.mtu.to_string();
        self.ip(&["link", "set", "dev", &self.name, "mtu", &mtu, "up"])?;
        Ok(())
    }

    /// Waits until the interface is administratively up and running
    /// (`IFF_UP` and `IFF_RUNNING`) and no IPv6 address added through
    /// [`TunDevice::add_address`] is `tentative` any more. Sleeps in short
    /// steps; meant for start-up, not for a packet loop.
    ///
    /// Errors: `TimedOut` saying what was still missing; an address whose
    /// duplicate address detection failed (`dadfailed`) at once.
    pub fn wait_up(&self, timeout: Duration) -> io::Result<()> {
        let start = std::time::Instant::now();
        loop {
            let missing = match self.link_flags()? {
                LinkFlags { up: false, .. } => Some("administratively up".to_owned()),
                LinkFlags { running: false, .. } => Some("running (carrier)".to_owned()),
                _ => self
                    .tentative_ipv6()?
                    .map(|a| format!("{a} out of the tentative state")),
            };
            let Some(missing) = missing else {
                return Ok(());
            };
            let waited = start.elapsed();
            if waited >= timeout {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "{} is not {missing} after {} ms",
                        self.name,
                        waited.as_millis()
                    ),
                ));
            }
            std::thread::sleep(WAIT_UP_POLL.min(timeout - waited));
        }
    }

    fn resize(&mut self, mtu: usize) {
        self.mtu = mtu;
        self.rx_buf
            .resize(VNET_HDR_LEN + self.largest_packet() + 1, 0);
        self.tx_buf.resize(VNET_HDR_LEN + MAX_GATHERED + mtu, 0);
        self.cut_buf.resize(mtu, 0);
    }

    /// The largest packet a read may bring: the MTU, or with segmentation
    /// offload what the kernel's TCP sends at once.
    fn largest_packet(&self) -> usize {
        if self.offload {
            MAX_GSO_PACKET.max(self.mtu)
        } else {
            self.mtu
        }
    }

    /// Runs `ip [-n NS] args...` for this interface.
    fn ip(&self, args: &[&str]) -> io::Result<String> {
        run_ip(self.netns.as_deref(), args)
    }

    /// The addresses the interface has, from `ip -o addr show`.
    fn addresses(&self) -> io::Result<Vec<IpAddr>> {
        let out = self.ip(&["-o", "addr", "show", "dev", &self.name])?;
        Ok(out
            .lines()
            .filter_map(|line| parse_addr_line(line).map(|a| a.addr))
            .collect())
    }

    /// The interface's `IFF_UP` / `IFF_RUNNING`. In the current namespace
    /// an ioctl answers; after [`TunDevice::move_to_netns`] neither ioctls
    /// nor `/sys` of this namespace see the interface, so `ip -n` does.
    fn link_flags(&self) -> io::Result<LinkFlags> {
        if self.netns.is_none() {
            let flags = get_if_flags(&self.name)?;
            return Ok(LinkFlags {
                up: flags & libc::IFF_UP != 0,
                running: flags & libc::IFF_RUNNING != 0,
            });
        }
        let out = self.ip(&["-o", "link", "show", "dev", &self.name])?;
        parse_link_flags(&out).ok_or_else(|| {
            io::Error::other(format!(
                "cannot read the flags of {} from `ip link show`: {:?}",
                self.name,
                out.trim()
            ))
        })
    }

    /// The first added IPv6 address that is missing or still tentative.
    fn tentative_ipv6(&self) -> io::Result<Option<Ipv6Addr>> {
        if self.ipv6.is_empty() {
            return Ok(None);
        }
        let out = self.ip(&["-o", "-6", "addr", "show", "dev", &self.name])?;
        let listed: Vec<AddrLine> = out.lines().filter_map(parse_addr_line).collect();
        for &want in &self.ipv6 {
            match listed.iter().find(|l| l.addr == IpAddr::V6(want)) {
                Some(l) if l.dad_failed => {
                    return Err(io::Error::other(format!(
                        "duplicate address detection failed for {want} on {}",
                        self.name
                    )));
                }
                Some(l) if !l.tentative => {}
                _ => return Ok(Some(want)),
            }
        }
        Ok(None)
    }
}

impl AsRawFd for TunDevice {
    fn as_raw_fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }
}

impl AsFd for TunDevice {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }
}

impl Device for TunDevice {
    fn caps(&self) -> DeviceCaps {
        DeviceCaps {
            mtu: self.mtu,
            max_batch: MAX_BATCH,
            rx_checksums_verified: self.offload,
        }
    }

    /// One `read` per packet into the device's own buffer, until the kernel
    /// has nothing more (`EAGAIN`) or a batch is done.
    fn receive(&mut self, _now: Instant, packet: &mut dyn FnMut(&[u8])) -> io::Result<usize> {
        let mut delivered = 0;
        let mut reads = 0;
        let largest = self.largest_packet();
        while reads < MAX_BATCH {
            let len = match (&self.file).read(&mut self.rx_buf) {
                Ok(0) => break,
                Ok(len) => len,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(with_context(e, &format!("read from {}", self.name))),
            };
            reads += 1;
            let Some(ip) = self.rx_buf.get(VNET_HDR_LEN..len) else {
                continue;
            };
            if ip.len() > largest {
                self.stats.rx_oversize += 1;
                continue;
            }
            if ip.len() > self.mtu {
                self.stats.rx_offloaded += 1;
            }
            // With offloads on, the stack takes the device's word for
            // checksums: a whole one that nobody checked is checked here.
            let vouched = self.rx_buf[0] & (VNET_NEEDS_CSUM | VNET_DATA_VALID) != 0;
            if self.offload && !vouched && !tcp_checksum_holds(ip) {
                self.stats.rx_bad_checksum += 1;
                continue;
            }
            self.stats.packets_in += 1;
            self.stats.bytes_in += ip.len() as u64;
            packet(ip);
            delivered += 1;
        }
        Ok(delivered)
    }

    /// Lends `fill` an `mtu`-byte buffer right after the segments gathered
    /// so far. A TCP segment that continues them joins them (see
    /// [`crate::gso`]); otherwise what was gathered goes out, and the new
    /// packet starts the next gathering, or goes out at once if it cannot
    /// start one. [`Device::flush`] writes what is gathered. A kernel that
    /// cannot take a packet now costs its segments (counted in
    /// [`TunStats::write_drops`]), never a blocked thread.
    fn transmit(
        &mut self,
        _now: Instant,
        fill: &mut dyn FnMut(&mut [u8]) -> Option<usize>,
    ) -> io::Result<bool> {
        let mtu = self.mtu;
        let at = VNET_HDR_LEN + self.gather.as_ref().map_or(0, Gather::bytes);
        let Some(len) = fill(&mut self.tx_buf[at..at + mtu]) else {
            return Ok(false);
        };
        if len > mtu {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("a packet of {len} bytes does not fit the MTU of {mtu}"),
            ));
        }
        self.stats.packets_out += 1;
        self.stats.bytes_out += len as u64;
        if let Some(g) = self.gather.as_mut() {
            if g.join(&mut self.tx_buf[VNET_HDR_LEN..], len) {
                return Ok(true);
            }
            self.write_gathered()?;
            self.tx_buf.copy_within(at..at + len, VNET_HDR_LEN);
        }
        let packet = &self.tx_buf[VNET_HDR_LEN..VNET_HDR_LEN + len];
        self.gather = if self.offload {
            Gather::start(packet)
        } else {
            None
        };
        if self.gather.is_none() {
            self.tx_buf[..VNET_HDR_LEN].fill(0);
            self.write_out(VNET_HDR_LEN + len, 1)?;
        }
        Ok(true)
    }

    fn flush(&mut self, _now: Instant) -> io::Result<()> {
        self.write_gathered()
    }
}

impl TunDevice {
    /// Writes the segments gathered, as one packet for the kernel to cut.
    fn write_gathered(&mut self) -> io::Result<()> {
        let Some(g) = self.gather.take() else {
            return Ok(());
        };
        if g.segments() > 1 && g.segments() < SMALL_GATHERING {
            // A few segments go out one by one, as they were written.
            let TunDevice {
                file,
                name,
                tx_buf,
                cut_buf,
                stats,
                ..
            } = self;
            return g.cut(&tx_buf[VNET_HDR_LEN..], cut_buf, |segment| {
                let parts = [IoSlice::new(&[0; VNET_HDR_LEN]), IoSlice::new(segment)];
                if !send(file, name, &parts)? {
                    stats.write_drops += 1;
                }
                Ok(())
            });
        }
        let hdr = g.finish(&mut self.tx_buf[VNET_HDR_LEN..]);
        self.tx_buf[..VNET_HDR_LEN].copy_from_slice(&hdr);
        if g.segments() > 1 {
            self.stats.tx_gathered += 1;
        }
        self.write_out(VNET_HDR_LEN + g.bytes(), g.segments() as u64)
    }

    /// One `write` of `tx_buf[..end]` (virtio header and packet), which
    /// carries `segments` of the stack's segments.
    fn write_out(&mut self, end: usize, segments: u64) -> io::Result<()> {
        if !send(&self.file, &self.name, &[IoSlice::new(&self.tx_buf[..end])])? {
            self.stats.write_drops += segments;
        }
        Ok(())
    }
}

/// One `write` of the packet in `parts` (the virtio header first) to the
/// TUN descriptor of the interface `name`; `false` if the kernel could not
/// take it now (the packet is lost; the device never blocks).
fn send(file: &File, name: &str, parts: &[IoSlice<'_>]) -> io::Result<bool> {
    loop {
        match (&*file).write_vectored(parts) {
            Ok(_) => return Ok(true),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e)
                if e.kind() == io::ErrorKind::WouldBlock
                    || e.raw_os_error() == Some(libc::ENOBUFS) =>
            {
                return Ok(false)
            }
            Err(e) => return Err(with_context(e, &format!("write to {name}"))),
        }
    }
}

/// Waits until at least one of `fds` is readable, or `timeout` passes
/// (`None`: no limit). Returns, per descriptor, whether it is ready: readable,
/// or in an error or hang-up state that the next read reports. All `false`
/// means the timeout passed. A signal interrupting the wait is retried with
/// the time left.
pub fn wait_readable(fds: &[BorrowedFd<'_>], timeout: Option<Duration>) -> io::Result<Vec<bool>> {
    let mut pollfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|fd| libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let nfds = libc::nfds_t::try_from(pollfds.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "too many descriptors"))?;
    // A timeout too large to add is no timeout.
    let deadline = timeout.and_then(|t| std::time::Instant::now().checked_add(t));
    loop {
        let timeout_ms = match deadline {
            None => -1,
            Some(d) => poll_millis(d.saturating_duration_since(std::time::Instant::now())),
        };
        // SAFETY: `pollfds` is a live Vec of `nfds` initialised `pollfd`s
        // that poll may write `revents` into, borrowed exclusively for the
        // call; each `fd` comes from a `BorrowedFd`, so it stays open for
        // the call (and poll reports a closed one as POLLNVAL anyway).
        let rc = unsafe { libc::poll(pollfds.as_mut_ptr(), nfds, timeout_ms) };
        if rc >= 0 {
            break;
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
    Ok(pollfds.iter().map(|p| p.revents != 0).collect())
}

/// `poll`'s timeout for `left`: milliseconds rounded up (so a wait never
/// turns into a busy loop of zero timeouts), at most `i32::MAX`.
fn poll_millis(left: Duration) -> libc::c_int {
    let ms = left.as_nanos().div_ceil(1_000_000);
    libc::c_int::try_from(ms).unwrap_or(libc::c_int::MAX)
}

/// `TUNSETIFF`: attach `file` to the interface `req` names, creating it if
/// needed; the kernel writes the final name back into `req`.
fn tunsetiff(file: &File, req: &mut IfReq) -> io::Result<()> {
    // SAFETY: `file` is open for the whole call (borrowed). TUNSETIFF reads
    // and writes one `struct ifreq` through the pointer, and `req` is an
    // exclusively borrowed, fully initialised `#[repr(C)]` value at least as
    // large as the kernel's `struct ifreq`.
    let rc = unsafe { libc::ioctl(file.as_raw_fd(), libc::TUNSETIFF, req as *mut IfReq) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A packet's TCP checksum, if it is a TCP packet, is right. Anything
/// else (not TCP, or malformed) is for the stack to judge and count.
fn tcp_checksum_holds(packet: &[u8]) -> bool {
    let Ok((ip, payload)) = IpRepr::parse(packet) else {
        return true;
    };
    ip.protocol() != IpProtocol::Tcp
        || !matches!(
            TcpRepr::parse(payload, ip.src(), ip.dst(), true),
            Err(WireError::BadChecksum)
        )
}

/// `TUNSETOFFLOAD`: the offloads (`TUN_F_*` bits) this descriptor takes.
fn tunsetoffload(file: &File, offloads: libc::c_uint) -> io::Result<()> {
    // SAFETY: `file` is open for the whole call (borrowed). TUNSETOFFLOAD
    // takes its argument by value (an unsigned long of flag bits), not
    // through a pointer, so no memory of ours is read or written.
    let rc = unsafe {
        libc::ioctl(
            file.as_raw_fd(),
            libc::TUNSETOFFLOAD,
            libc::c_ulong::from(offloads),
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `SIOCGIFFLAGS` for `name` in the current network namespace: the low 16
/// bits of the interface flags (`IFF_UP`, `IFF_RUNNING`, ...).
fn get_if_flags(name: &str) -> io::Result<libc::c_int> {
    // Any socket reaches the generic interface ioctls (AF_UNIX passes what
    // it does not know on to them); an unbound one binds no port and needs
    // no unsafe code to make.
    let sock = UnixDatagram::unbound()?;
    let mut req = IfReq::new(name, 0);
    // SAFETY: `sock` is open for the whole call (owned here). SIOCGIFFLAGS
    // reads the name from and writes the flags into one `struct ifreq`, and
    // `req` is an exclusively borrowed, fully initialised `#[repr(C)]` value
    // at least as large as the kernel's `struct ifreq`.
    let rc = unsafe {
        libc::ioctl(
            sock.as_raw_fd(),
            libc::SIOCGIFFLAGS as libc::Ioctl,
            &mut req as *mut IfReq,
        )
    };
    if rc < 0 {
        let e = io::Error::last_os_error();
        return Err(with_context(e, &format!("cannot read the flags of {name}")));
    }
    // ifr_flags is a C short holding flag bits: keep the bits, not the sign.
    Ok(libc::c_int::from(req.flags as u16))
}

/// An interface name the kernel accepts (`dev_valid_name`): 1 to 15 bytes,
/// not `.` or `..`, no `/`, `:`, NUL or whitespace.
fn check_name(name: &str) -> io::Result<()> {
    let why = if name.is_empty() {
        Some("is empty")
    } else if name.len() >= libc::IFNAMSIZ {
        Some("is longer than 15 bytes")
    } else if name == "." || name == ".." {
        Some("is not a name")
    } else if name.contains(['/', ':', '\0']) || name.contains(char::is_whitespace) {
        Some("contains '/', ':', NUL or whitespace")
    } else {
        None
    };
    match why {
        None => Ok(()),
        Some(why) => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("bad tun interface name {name:?}: {why}"),
        )),
    }
}

fn check_mtu(mtu: usize) -> io::Result<()> {
    if (MIN_MTU..=MAX_MTU).contains(&mtu) {
        return Ok(());
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("MTU {mtu} is outside {MIN_MTU}..={MAX_MTU}"),
    ))
}

/// The error of opening `/dev/net/tun`, as a CLI should show it.
fn open_error(e: io::Error) -> io::Error {
    match e.raw_os_error() {
        Some(libc::EPERM | libc::EACCES) => {
            io::Error::new(io::ErrorKind::PermissionDenied, PERMISSION_DENIED)
        }
        Some(libc::ENOENT | libc::ENODEV | libc::ENXIO) => {
            io::Error::new(io::ErrorKind::NotFound, NO_TUN_DRIVER)
        }
        _ => with_context(e, &format!("cannot open {TUN_PATH}")),
    }
}

/// The error of `TUNSETIFF` on `name`, as a CLI should show it.
fn attach_error(name: &str, e: io::Error) -> io::Error {
    match e.raw_os_error() {
        // Opening worked, but creating an interface needs CAP_NET_ADMIN.
        Some(libc::EPERM | libc::EACCES) => {
            io::Error::new(io::ErrorKind::PermissionDenied, PERMISSION_DENIED)
        }
        Some(libc::EBUSY) => io::Error::new(
            e.kind(),
            format!("tun interface {name} is busy (another descriptor has it open)"),
        ),
        Some(libc::EINVAL) => io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("cannot attach to {name}: an interface of that name exists and is not a tun interface like this one"),
        ),
        _ => with_context(e, &format!("cannot attach to tun interface {name}")),
    }
}

/// `e` with `what` in front, same kind.
fn with_context(e: io::Error, what: &str) -> io::Error {
    io::Error::new(e.kind(), format!("{what}: {e}"))
}

/// Runs `ip [-n NS] args...`; returns its standard output, or an error with
/// the command and its standard error.
fn run_ip(netns: Option<&str>, args: &[&str]) -> io::Result<String> {
    let mut full: Vec<&str> = Vec::with_capacity(args.len() + 2);
    if let Some(ns) = netns {
        full.extend(["-n", ns]);
    }
    full.extend_from_slice(args);
    let output = ip_command()
        .args(&full)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                io::Error::new(
                    io::ErrorKind::NotFound,
                    "cannot run `ip`: not found (install iproute2)",
                )
            } else {
                with_context(e, "cannot run `ip`")
            }
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(io::Error::other(format!(
            "`ip {}` failed ({}): {}",
            full.join(" "),
            output.status,
            stderr.trim()
        )));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// `ip` where distributions install it, else from `PATH`: a non-login
/// shell or a CI runner may lack the sbin directories in its `PATH`.
fn ip_command() -> Command {
    let found = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists());
    Command::new(found.unwrap_or("ip"))
}

/// Interface flags as `ip link show` prints them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LinkFlags {
    up: bool,
    running: bool,
}

/// Reads `<...,UP,LOWER_UP>` from one line of `ip -o link show`. iproute2
/// never prints `RUNNING`: an interface that is up but not running shows
/// `NO-CARRIER`, and a running one has its carrier, `LOWER_UP`.
fn parse_link_flags(line: &str) -> Option<LinkFlags> {
    let start = line.find('<')? + 1;
    let end = start + line[start..].find('>')?;
    let flags: Vec<&str> = line[start..end].split(',').collect();
    let up = flags.contains(&"UP");
    Some(LinkFlags {
        up,
        running: up && flags.contains(&"LOWER_UP") && !flags.contains(&"NO-CARRIER"),
    })
}

/// One address from a line of `ip -o addr show`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct AddrLine {
    addr: IpAddr,
    tentative: bool,
    dad_failed: bool,
}

/// Parses `7: tun0    inet6 fd77:1::1/64 scope global tentative ...`.
fn parse_addr_line(line: &str) -> Option<AddrLine> {
    let mut words = line.split_whitespace();
    words.find(|&w| w == "inet" || w == "inet6")?;
    let addr = words.next()?.split('/').next()?.parse().ok()?;
    let rest: Vec<&str> = words.collect();
    Some(AddrLine {
        addr,
        tentative: rest.contains(&"tentative"),
        dad_failed: rest.contains(&"dadfailed"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixStream;
    use synack_wire::{checksum, TcpFlags, TcpOptions};

    /// An IPv4 TCP packet from 10.77.0.1 to 10.77.0.2 with both checksums.
    fn tcp_packet(payload: &[u8]) -> Vec<u8> {
        let (src, dst): (IpAddr, IpAddr) =
            ("10.77.0.1".parse().unwrap(), "10.77.0.2".parse().unwrap());
        let tcp = TcpRepr {
            src_port: 40000,
            dst_port: 9,
            seq: 1,
            ack: 1,
            flags: TcpFlags::ACK,
            window: 1000,
            urgent: 0,
            options: TcpOptions::default(),
            payload,
        };
        let len = 20 + tcp.buffer_len();
        let mut p = vec![0u8; len];
        p[0] = 0x45;
        p[2..4].copy_from_slice(&(len as u16).to_be_bytes());
        p[8] = 64;
        p[9] = 6;
        p[12..16].copy_from_slice(&[10, 77, 0, 1]);
        p[16..20].copy_from_slice(&[10, 77, 0, 2]);
        let sum = checksum::checksum(&p[..20]);
        p[10..12].copy_from_slice(&sum.to_be_bytes());
        tcp.emit(&mut p[20..], src, dst);
        p
    }

    #[test]
    fn only_a_tcp_checksum_that_fails_is_caught_here() {
        let good = tcp_packet(b"some bytes of text");
        assert!(tcp_checksum_holds(&good));
        let mut bad = good.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert!(!tcp_checksum_holds(&bad));
        // Not TCP, or not a packet: the stack judges and counts those.
        let mut udp = good.clone();
        udp[9] = 17;
        let sum = checksum::checksum(&{
            let mut h = udp[..20].to_vec();
            h[10..12].fill(0);
            h
        });
        udp[10..12].copy_from_slice(&sum.to_be_bytes());
        assert!(tcp_checksum_holds(&udp));
        assert!(tcp_checksum_holds(&good[..10]));
        assert!(tcp_checksum_holds(&[]));
    }

    #[test]
    fn names_the_kernel_would_refuse_are_invalid_input() {
        for bad in [
            "",
            "sixteen-bytes-xx",
            ".",
            "..",
            "a/b",
            "a:b",
            "a b",
            "a\tb",
        ] {
            let err = check_name(bad).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{bad:?}");
            assert!(err.to_string().starts_with("bad tun interface name"));
        }
        for good in ["t", "synack0", "fifteen-bytes-x", "tun%d"] {
            check_name(good).unwrap();
        }
        assert_eq!(
            TunDevice::open("a/b", 1500).unwrap_err().kind(),
            io::ErrorKind::InvalidInput
        );
        assert_eq!(
            TunDevice::open("ok", 20).unwrap_err().kind(),
            io::ErrorKind::InvalidInput
        );
    }

    #[test]
    fn open_errors_read_as_one_line_for_a_cli() {
        for errno in [libc::EPERM, libc::EACCES] {
            let e = open_error(io::Error::from_raw_os_error(errno));
            assert_eq!(e.kind(), io::ErrorKind::PermissionDenied);
            assert_eq!(
                e.to_string(),
                "cannot open /dev/net/tun: permission denied (needs root or CAP_NET_ADMIN)"
            );
            let e = attach_error("tun0", io::Error::from_raw_os_error(errno));
            assert_eq!(e.to_string(), PERMISSION_DENIED);
        }
        let e = open_error(io::Error::from_raw_os_error(libc::ENOENT));
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        assert_eq!(
            e.to_string(),
            "cannot open /dev/net/tun: no such device (is the tun module loaded?)"
        );
        let e = attach_error("tun0", io::Error::from_raw_os_error(libc::EBUSY));
        assert_eq!(
            e.to_string(),
            "tun interface tun0 is busy (another descriptor has it open)"
        );
    }

    #[test]
    fn ifreq_carries_the_name_both_ways() {
        let req = IfReq::new("fifteen-bytes-x", 0x1001);
        assert_eq!(req.name(), "fifteen-bytes-x");
        assert_eq!(req.name[15], 0, "the name stays NUL-terminated");
        assert_eq!(req.flags, 0x1001);
    }

    #[test]
    fn ip_link_flags_are_parsed() {
        let up = "9: sktun1: <POINTOPOINT,MULTICAST,NOARP,UP,LOWER_UP> mtu 1500 qdisc fq_codel";
        assert_eq!(
            parse_link_flags(up),
            Some(LinkFlags {
                up: true,
                running: true
            })
        );
        let no_carrier = "9: sktun1: <NO-CARRIER,POINTOPOINT,MULTICAST,NOARP,UP> mtu 1500";
        assert_eq!(
            parse_link_flags(no_carrier),
            Some(LinkFlags {
                up: true,
                running: false
            })
        );
        let down = "9: sktun1: <POINTOPOINT,MULTICAST,NOARP> mtu 1500 qdisc noop state DOWN";
        assert_eq!(
            parse_link_flags(down),
            Some(LinkFlags {
                up: false,
                running: false
            })
        );
        assert_eq!(parse_link_flags("garbage"), None);
    }

    #[test]
    fn ip_addr_lines_are_parsed() {
        let v6 = "9: sktun1    inet6 fd77:1::1/64 scope global tentative nodad \\       valid_lft forever preferred_lft forever";
        assert_eq!(
            parse_addr_line(v6),
            Some(AddrLine {
                addr: "fd77:1::1".parse().unwrap(),
                tentative: true,
                dad_failed: false
            })
        );
        let v4 = "9: sktun1    inet 10.77.1.1/24 scope global sktun1\\       valid_lft forever";
        assert_eq!(
            parse_addr_line(v4).map(|l| (l.addr, l.tentative)),
            Some(("10.77.1.1".parse().unwrap(), false))
        );
        assert_eq!(parse_addr_line("9: sktun1    link/none"), None);
    }

    #[test]
    fn wait_readable_reports_which_fd_is_ready() {
        let (mut a, b) = UnixStream::pair().unwrap();
        let (_c, d) = UnixStream::pair().unwrap();
        let fds = [b.as_fd(), d.as_fd()];
        let ready = wait_readable(&fds, Some(Duration::ZERO)).unwrap();
        assert_eq!(ready, vec![false, false]);
        a.write_all(b"x").unwrap();
        let ready = wait_readable(&fds, None).unwrap();
        assert_eq!(ready, vec![true, false]);
        assert_eq!(wait_readable(&[], Some(Duration::ZERO)).unwrap(), vec![]);
    }

    #[test]
    fn interface_flags_come_from_the_kernel() {
        // Every network namespace has a loopback interface, up and running.
        let flags = get_if_flags("lo").unwrap();
        assert_ne!(flags & libc::IFF_UP, 0);
        assert_ne!(flags & libc::IFF_RUNNING, 0);
        let err = get_if_flags("no-such-if0").unwrap_err();
        assert!(err
            .to_string()
            .starts_with("cannot read the flags of no-such-if0"));
    }

    #[test]
    fn poll_timeouts_round_up() {
        assert_eq!(poll_millis(Duration::ZERO), 0);
        assert_eq!(poll_millis(Duration::from_micros(1)), 1);
        assert_eq!(poll_millis(Duration::from_millis(250)), 250);
        assert_eq!(poll_millis(Duration::MAX), libc::c_int::MAX);
    }
}
