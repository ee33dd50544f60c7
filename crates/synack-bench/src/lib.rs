//! Side-by-side benchmarks of synack against other ways of moving bytes.
//!
//! Everything a comparison needs except the other stack lives here: the
//! in-memory wire both userspace stacks run over, synack's runs on it,
//! Linux loopback TCP through `std::net`, the `memcpy` ceiling, and the
//! table. smoltcp's runs are in `benches/compare.rs`, because smoltcp is
//! only a dev-dependency: the product never links it.
//!
//! Run them all with `cargo bench -p synack-bench` (see BENCHMARKS.md).
#![forbid(unsafe_code)]

pub mod linux;
pub mod report;
pub mod synack;
pub mod wire;

use std::time::Duration;

/// How much one benchmark does.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Sizes {
    /// Bytes moved by one bulk run.
    pub bulk_bytes: u64,
    /// Runs of each bulk case; the median is reported.
    pub bulk_runs: usize,
    /// Connections opened, used for one byte and closed, one after another.
    pub connections: usize,
    /// Idle established connections counted by the allocator.
    pub idle: usize,
}

impl Sizes {
    /// The sizes the issue asks for: 1 GiB, 20,000 connections, 100,000 idle.
    pub const FULL: Sizes = Sizes {
        bulk_bytes: 1 << 30,
        bulk_runs: 5,
        connections: 20_000,
        idle: 100_000,
    };

    /// Small enough for CI to prove the harness works in seconds; its
    /// figures mean nothing.
    pub const QUICK: Sizes = Sizes {
        bulk_bytes: 4 << 20,
        bulk_runs: 1,
        connections: 200,
        idle: 1_000,
    };
}

/// The bytes a bulk run sends, 64 KiB at a time (the application's
/// buffer), in a pattern the receiver can check cheaply.
pub fn chunk() -> Vec<u8> {
    (0..65536u32)
        .map(|i| (i.wrapping_mul(7) + 3) as u8)
        .collect()
}

/// What one bulk run measured.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Bulk {
    pub bytes: u64,
    pub elapsed: Duration,
    /// Packets that crossed the wire, both directions (0 where unknown).
    pub packets: u64,
}

impl Bulk {
    pub fn gbit_per_s(&self) -> f64 {
        self.bytes as f64 * 8.0 / self.elapsed.as_secs_f64() / 1e9
    }
}

/// What one connection-rate run measured.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Rate {
    pub connections: usize,
    pub elapsed: Duration,
}

impl Rate {
    pub fn per_second(&self) -> f64 {
        self.connections as f64 / self.elapsed.as_secs_f64()
    }
}

/// Checks a receiver's bytes against `chunk()`: `offset` is where `got`
/// starts in the stream. A cheap sample (every 4 KiB), so the check costs
/// little next to the transfer yet catches a shifted or corrupted stream.
pub fn check_pattern(offset: u64, got: &[u8]) -> bool {
    let pattern_at = |pos: u64| ((pos % 65536) as u32).wrapping_mul(7).wrapping_add(3) as u8;
    got.iter()
        .enumerate()
        .step_by(4096)
        .all(|(i, &b)| b == pattern_at(offset + i as u64))
}

/// The median of some durations (the upper one of an even count).
pub fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pattern_check_finds_a_shift() {
        let c = chunk();
        assert!(check_pattern(0, &c));
        assert!(check_pattern(65536, &c));
        assert!(!check_pattern(1, &c));
        assert!(check_pattern(4096, &c[4096..]));
    }

    #[test]
    fn median_of_three_and_of_none() {
        let ms = Duration::from_millis;
        assert_eq!(median(vec![ms(3), ms(1), ms(2)]), ms(2));
        assert_eq!(median(Vec::new()), Duration::ZERO);
    }
}
