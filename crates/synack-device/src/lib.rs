#![forbid(unsafe_code)]
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
//!
//! Nothing here reads a clock: all times are
//! [`synack_time::Instant`]s supplied by the caller.

pub mod device;
pub mod pcap;
pub mod rng;
pub mod sim;

pub use device::{Device, DeviceCaps, LinkEnd};
pub use pcap::PcapWriter;
pub use rng::Rng;
pub use sim::{Delivery, Fate, Link, LinkConfig, LinkStats, SendOutcome, Side};
