#![deny(unsafe_code)]
//! Devices for synack: where packets go once the stack has built them.
//!
//! - [`device`]: [`Device`], the seam a stack drives (MTU and batching in
//!   [`DeviceCaps`]), and [`LinkEnd`], one end of a simulated link as one.
//! - [`rng`]: [`Rng`], the small deterministic seeded PRNG behind every random
//!   choice in the simulator (same seed, same run).
//! - [`sim`]: [`Link`], a simulated point-to-point link on virtual time with
//!   per-direction delay, jitter, loss, duplication, reordering, corruption,
//!   bandwidth/queueing and MTU, plus per-direction [`LinkStats`].
//! - [`pcap`]: [`PcapWriter`], a classic libpcap writer for raw IP packets,
//!   and [`pcap::read_pcap`], a small reader used in tests.
//! - [`impair`]: [`Impaired`], a wrapper that loses, delays, jitters and
//!   reorders the packets of any [`Device`] in both directions, with seeded
//!   decisions ([`ImpairConfig`], [`ImpairStats`]), for running over a real
//!   link what the simulator does to a virtual one.
//! - [`gso`]: [`gso::Gather`], which joins a burst of one connection's TCP
//!   segments into one packet for the kernel to cut apart again
//!   (segmentation offload on a TUN device).
//! - `tun` (Linux only): `TunDevice`, a layer-3 TUN interface
//!   (`/dev/net/tun`, `IFF_TUN | IFF_NO_PI | IFF_VNET_HDR`, with checksum
//!   and segmentation offload) with a non-blocking descriptor to poll, configured through iproute2's `ip` (network namespace, MTU,
//!   the kernel's addresses, up, and `wait_up` until it carries packets);
//!   `TunStats`; and `wait_readable`, a `poll` over several descriptors for
//!   a blocking runtime.
//!
//! Nothing here reads a clock: all times are
//! [`synack_time::Instant`]s supplied by the caller (`TunDevice::wait_up`,
//! a start-up step, sleeps in real time).
//!
//! The crate denies `unsafe` code except in `tun`, which needs four system
//! calls (three `ioctl`s and `poll`); each sits in a small safe function
//! with a `SAFETY` comment.

pub mod device;
pub mod gso;
pub mod impair;
pub mod pcap;
pub mod rng;
pub mod sim;
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
pub mod tun;

pub use device::{Device, DeviceCaps, LinkEnd};
pub use impair::{ImpairConfig, ImpairStats, Impaired};
pub use pcap::PcapWriter;
pub use rng::Rng;
pub use sim::{Delivery, Fate, Link, LinkConfig, LinkStats, SendOutcome, Side};
#[cfg(target_os = "linux")]
pub use tun::{wait_readable, TunDevice, TunStats};
