//! A simulated point-to-point link on virtual time.
//!
//! [`Link`] connects two endpoints, [`Side::A`] and [`Side::B`]. Each direction
//! has its own [`LinkConfig`] (delay, jitter, loss, duplication, reordering,
//! corruption, bandwidth with a tail-drop queue, MTU) and its own
//! [`LinkStats`]. All randomness comes from one seeded [`Rng`], so the same
//! seed and the same sequence of calls always produce the same deliveries,
//! byte for byte.
//!
//! The link never reads a clock: callers hand it `now` on every call, ask
//! [`Link::next_deadline`] when something will be ready, and drain ready
//! packets with [`Link::poll_deliver`].
//!
//! # Model
//!
//! For a packet sent from one side at `now`:
//!
//! 1. The RNG is drawn exactly six times, always in the same order (loss,
//!    duplicate, reorder, corrupt, corrupted bit, jitter), whatever the
//!    configuration and whatever happens to the packet.
//! 2. Packets longer than `mtu` are dropped ([`Fate::TooBig`]).
//! 3. With a bandwidth, the packet is serialized after everything queued
//!    before it: it starts at `max(now, busy_until)` and takes
//!    `len * 8 / bandwidth`. If the link is busy and `queue_limit` packets are
//!    already waiting to start serializing, it is tail-dropped
//!    ([`Fate::QueueFull`]).
//! 4. Loss happens on the wire, after serialization ([`Fate::Lost`]); a lost
//!    packet still occupies the link for its serialization time.
//! 5. Arrival is `departure + delay + uniform[0, jitter]`, then raised to the
//!    arrival of the previous in-order packet of that direction, so jitter
//!    alone never reorders. A packet chosen for reordering gets an extra
//!    `reorder_delay` on top and does not hold back later packets, which may
//!    therefore overtake it.
//! 6. A corrupted packet has one uniformly chosen bit flipped (anywhere in the
//!    packet). A duplicated packet is delivered a second time, 1 µs after the
//!    first copy; the duplicate is an unmodified copy of what was sent.
//!
//! Times are kept in nanoseconds internally (so serialization at high
//! bandwidths stays accurate) and rounded up to whole microseconds for
//! [`Instant`]s.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

use synack_time::{Duration, Instant};

use crate::rng::Rng;

/// Gap between a packet and its duplicate.
const DUP_GAP_NS: u64 = 1_000;
/// Largest number of spare buffers kept for reuse.
const POOL_MAX: usize = 4096;

/// Impairments and capacity of one direction of a [`Link`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinkConfig {
    /// One-way propagation delay.
    pub delay: Duration,
    /// Uniform extra delay in `[0, jitter]`. Jitter alone never reorders.
    pub jitter: Duration,
    /// Probability that a packet is dropped on the wire.
    pub loss: f64,
    /// Probability that a packet is delivered twice (second copy 1 µs later).
    pub duplicate: f64,
    /// Probability that a packet is held back by `reorder_delay` extra,
    /// letting later packets overtake it.
    pub reorder: f64,
    /// Extra delay applied to packets chosen for reordering.
    pub reorder_delay: Duration,
    /// Probability that one random bit of the packet is flipped.
    pub corrupt: f64,
    /// Bits per second; `None` (or `Some(0)`) is infinite. Packets queue behind
    /// each other for `len * 8 / bandwidth` of serialization.
    pub bandwidth: Option<u64>,
    /// Maximum number of packets waiting for serialization to start; further
    /// packets are tail-dropped. Only applies when `bandwidth` is set.
    pub queue_limit: usize,
    /// Packets longer than this many bytes are dropped.
    pub mtu: usize,
}

impl Default for LinkConfig {
    /// 10 ms delay, no jitter, no impairments, 5 ms reorder delay, infinite
    /// bandwidth, queue limit 1000, MTU 1500.
    fn default() -> Self {
        LinkConfig {
            delay: Duration::from_millis(10),
            jitter: Duration::ZERO,
            loss: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
            reorder_delay: Duration::from_millis(5),
            corrupt: 0.0,
            bandwidth: None,
            queue_limit: 1000,
            mtu: 1500,
        }
    }
}

impl LinkConfig {
    /// Zero delay, no impairments, infinite bandwidth, an Ethernet MTU
    /// (1500).
    pub fn ideal() -> Self {
        LinkConfig {
            delay: Duration::ZERO,
            ..LinkConfig::default()
        }
    }

    /// Set the one-way propagation delay.
    #[must_use]
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Set the maximum jitter.
    #[must_use]
    pub fn with_jitter(mut self, jitter: Duration) -> Self {
        self.jitter = jitter;
        self
    }

    /// Set the loss probability.
    #[must_use]
    pub fn with_loss(mut self, p: f64) -> Self {
        self.loss = p;
        self
    }

    /// Set the duplication probability.
    #[must_use]
    pub fn with_duplicate(mut self, p: f64) -> Self {
        self.duplicate = p;
        self
    }

    /// Set the reordering probability.
    #[must_use]
    pub fn with_reorder(mut self, p: f64) -> Self {
        self.reorder = p;
        self
    }

    /// Set the extra delay of reordered packets.
    #[must_use]
    pub fn with_reorder_delay(mut self, d: Duration) -> Self {
        self.reorder_delay = d;
        self
    }

    /// Set the corruption probability.
    #[must_use]
    pub fn with_corrupt(mut self, p: f64) -> Self {
        self.corrupt = p;
        self
    }

    /// Set the bandwidth in bits per second.
    #[must_use]
    pub fn with_bandwidth(mut self, bits_per_sec: u64) -> Self {
        self.bandwidth = Some(bits_per_sec);
        self
    }

    /// Remove the bandwidth limit.
    #[must_use]
    pub fn with_infinite_bandwidth(mut self) -> Self {
        self.bandwidth = None;
        self
    }

    /// Set the serialization queue limit (packets).
    #[must_use]
    pub fn with_queue_limit(mut self, packets: usize) -> Self {
        self.queue_limit = packets;
        self
    }

    /// Set the MTU (bytes).
    #[must_use]
    pub fn with_mtu(mut self, mtu: usize) -> Self {
        self.mtu = mtu;
        self
    }
}

/// One end of a [`Link`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    A,
    B,
}

impl Side {
    /// The opposite end.
    pub fn other(self) -> Side {
        match self {
            Side::A => Side::B,
            Side::B => Side::A,
        }
    }

    fn index(self) -> usize {
        match self {
            Side::A => 0,
            Side::B => 1,
        }
    }
}

/// What happened to a packet handed to the link (for tracing / ladder
/// diagrams).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// In flight; it will be delivered at [`SendOutcome::arrival`].
    Queued,
    /// Dropped on the wire.
    Lost,
    /// Tail-dropped: the serialization queue was full.
    QueueFull,
    /// Longer than the MTU.
    TooBig,
}

/// Result of [`Link::send`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendOutcome {
    pub fate: Fate,
    /// A second copy will also be delivered (1 µs after `arrival`).
    pub duplicated: bool,
    /// One bit of the (first) delivered copy was flipped.
    pub corrupted: bool,
    /// The packet was held back by `reorder_delay`.
    pub reordered: bool,
    /// When the (first copy of the) packet arrives; `None` unless queued.
    pub arrival: Option<Instant>,
}

impl SendOutcome {
    fn dropped(fate: Fate) -> Self {
        SendOutcome {
            fate,
            duplicated: false,
            corrupted: false,
            reordered: false,
            arrival: None,
        }
    }
}

/// A packet arriving at one side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The receiving side.
    pub to: Side,
    /// Arrival time.
    pub at: Instant,
    /// The packet bytes. Hand the buffer back with [`Link::recycle`].
    pub data: Vec<u8>,
    /// One bit of this copy was flipped in transit.
    pub corrupted: bool,
    /// This is the second copy of a duplicated packet.
    pub duplicate: bool,
}

/// Per-direction counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Packets handed to the link, whatever their fate.
    pub sent: u64,
    /// Copies delivered (duplicates count separately).
    pub delivered: u64,
    /// Packets dropped on the wire.
    pub lost: u64,
    /// Packets that were duplicated.
    pub duplicated: u64,
    /// Packets that had a bit flipped.
    pub corrupted: u64,
    /// Packets held back for reordering.
    pub reordered: u64,
    /// Packets tail-dropped by the serialization queue.
    pub queue_drops: u64,
    /// Packets dropped for exceeding the MTU.
    pub too_big: u64,
    /// Bytes in delivered copies.
    pub bytes_delivered: u64,
}

/// State of one direction.
#[derive(Debug)]
struct Direction {
    cfg: LinkConfig,
    stats: LinkStats,
    /// When the serializer becomes free, in ns.
    busy_until_ns: u64,
    /// Serialization start times (ns, nondecreasing) of packets that had to
    /// wait; those still in the future are the queue occupancy.
    waiting: VecDeque<u64>,
    /// Arrival (ns) of the last in-order packet; later ones never arrive
    /// earlier.
    last_arrival_ns: u64,
}

impl Direction {
    fn new(cfg: LinkConfig) -> Self {
        Direction {
            cfg,
            stats: LinkStats::default(),
            busy_until_ns: 0,
            waiting: VecDeque::new(),
            last_arrival_ns: 0,
        }
    }
}

/// A packet copy in flight. Ordered so that `BinaryHeap` pops the earliest
/// `(at, seq)` first.
#[derive(Debug)]
struct InFlight {
    at: Instant,
    seq: u64,
    to: Side,
    data: Vec<u8>,
    corrupted: bool,
    duplicate: bool,
}

impl PartialEq for InFlight {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at && self.seq == other.seq
    }
}

impl Eq for InFlight {}

impl PartialOrd for InFlight {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for InFlight {
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

fn dur_ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

fn instant_ns(t: Instant) -> u64 {
    t.as_micros().saturating_mul(1_000)
}

fn ns_to_instant(ns: u64) -> Instant {
    Instant::from_micros(ns.div_ceil(1_000))
}

/// Serialization time of `len` bytes at `bps` bits per second, in ns
/// (rounded up).
fn serialization_ns(len: usize, bps: u64) -> u64 {
    let bits = (len as u128) * 8 * 1_000_000_000;
    let bps = u128::from(bps.max(1));
    u64::try_from(bits.div_ceil(bps)).unwrap_or(u64::MAX)
}

/// A simulated bidirectional point-to-point link.
#[derive(Debug)]
pub struct Link {
    dirs: [Direction; 2],
    /// Packets in flight, per receiving side.
    heap: [BinaryHeap<InFlight>; 2],
    pool: Vec<Vec<u8>>,
    rng: Rng,
    seq: u64,
}

impl Link {
    /// A link whose A→B direction uses `a_to_b` and B→A direction `b_to_a`.
    pub fn new(a_to_b: LinkConfig, b_to_a: LinkConfig, seed: u64) -> Link {
        Link {
            dirs: [Direction::new(a_to_b), Direction::new(b_to_a)],
            heap: [BinaryHeap::new(), BinaryHeap::new()],
            pool: Vec::new(),
            rng: Rng::new(seed),
            seq: 0,
        }
    }

    /// A link with the same configuration in both directions.
    pub fn symmetric(cfg: LinkConfig, seed: u64) -> Link {
        Link::new(cfg, cfg, seed)
    }

    /// Hand a packet from `from` to the link at time `now`. Copies the bytes
    /// into a pooled buffer.
    pub fn send(&mut self, now: Instant, from: Side, packet: &[u8]) -> SendOutcome {
        let len = packet.len();
        let dir = &mut self.dirs[from.index()];
        let cfg = dir.cfg;
        dir.stats.sent += 1;

        // Fixed draw order, independent of configuration and fate.
        let lost = self.rng.chance(cfg.loss);
        let duplicated = self.rng.chance(cfg.duplicate);
        let reordered = self.rng.chance(cfg.reorder);
        let corrupted = self.rng.chance(cfg.corrupt) && len > 0;
        let bit = self.rng.below((len as u64).saturating_mul(8));
        let jitter_ns = self.rng.below(dur_ns(cfg.jitter).saturating_add(1));

        if len > cfg.mtu {
            dir.stats.too_big += 1;
            return SendOutcome::dropped(Fate::TooBig);
        }

        let now_ns = instant_ns(now);
        let mut depart_ns = now_ns;
        if let Some(bps) = cfg.bandwidth.filter(|&b| b > 0) {
            while dir.waiting.front().is_some_and(|&start| start <= now_ns) {
                dir.waiting.pop_front();
            }
            let start = now_ns.max(dir.busy_until_ns);
            if start > now_ns {
                if dir.waiting.len() >= cfg.queue_limit {
                    dir.stats.queue_drops += 1;
                    return SendOutcome::dropped(Fate::QueueFull);
                }
                dir.waiting.push_back(start);
            }
            dir.busy_until_ns = start.saturating_add(serialization_ns(len, bps));
            depart_ns = dir.busy_until_ns;
        }

        if lost {
            dir.stats.lost += 1;
            return SendOutcome::dropped(Fate::Lost);
        }

        let mut arrival_ns = depart_ns
            .saturating_add(dur_ns(cfg.delay))
            .saturating_add(jitter_ns)
            .max(dir.last_arrival_ns);
        if reordered {
            dir.stats.reordered += 1;
            arrival_ns = arrival_ns.saturating_add(dur_ns(cfg.reorder_delay));
        }
        let dup_ns = arrival_ns.saturating_add(DUP_GAP_NS);
        if !reordered {
            dir.last_arrival_ns = if duplicated { dup_ns } else { arrival_ns };
        }
        if duplicated {
            dir.stats.duplicated += 1;
        }
        if corrupted {
            dir.stats.corrupted += 1;
        }

        let to = from.other();
        let at = ns_to_instant(arrival_ns);
        let mut data = self.take_buf(packet);
        if corrupted {
            // `bit < len * 8` because `len > 0`.
            if let Some(byte) = data.get_mut((bit / 8) as usize) {
                *byte ^= 1 << (bit % 8);
            }
        }
        self.push(at, to, data, corrupted, false);
        if duplicated {
            let copy = self.take_buf(packet);
            self.push(ns_to_instant(dup_ns), to, copy, false, true);
        }

        SendOutcome {
            fate: Fate::Queued,
            duplicated,
            corrupted,
            reordered,
            arrival: Some(at),
        }
    }

    fn take_buf(&mut self, packet: &[u8]) -> Vec<u8> {
        let mut buf = self.pool.pop().unwrap_or_default();
        buf.clear();
        buf.extend_from_slice(packet);
        buf
    }

    fn push(&mut self, at: Instant, to: Side, data: Vec<u8>, corrupted: bool, duplicate: bool) {
        let seq = self.seq;
        self.seq = self.seq.wrapping_add(1);
        self.heap[to.index()].push(InFlight {
            at,
            seq,
            to,
            data,
            corrupted,
            duplicate,
        });
    }

    /// Earliest time at which a packet will be ready for delivery.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.heap
            .iter()
            .filter_map(|h| h.peek().map(|p| p.at))
            .min()
    }

    /// Earliest time at which a packet will be ready for delivery to `to`.
    pub fn next_deadline_to(&self, to: Side) -> Option<Instant> {
        self.heap[to.index()].peek().map(|p| p.at)
    }

    /// Next packet due at or before `now` (in arrival-time order; ties in
    /// send order).
    pub fn poll_deliver(&mut self, now: Instant) -> Option<Delivery> {
        let key = |h: &BinaryHeap<InFlight>| h.peek().map(|p| (p.at, p.seq));
        let to = match (key(&self.heap[0]), key(&self.heap[1])) {
            (Some(a), Some(b)) => {
                if a <= b {
                    Side::A
                } else {
                    Side::B
                }
            }
            (Some(_), None) => Side::A,
            (None, Some(_)) => Side::B,
            (None, None) => return None,
        };
        self.poll_deliver_to(now, to)
    }

    /// Next packet for `to` due at or before `now`.
    pub fn poll_deliver_to(&mut self, now: Instant, to: Side) -> Option<Delivery> {
        let heap = &mut self.heap[to.index()];
        if heap.peek()?.at > now {
            return None;
        }
        let p = heap.pop()?;
        let stats = &mut self.dirs[p.to.other().index()].stats;
        stats.delivered += 1;
        stats.bytes_delivered += p.data.len() as u64;
        Some(Delivery {
            to: p.to,
            at: p.at,
            data: p.data,
            corrupted: p.corrupted,
            duplicate: p.duplicate,
        })
    }

    /// Return a delivered buffer to the pool, so steady-state sending does
    /// not allocate.
    pub fn recycle(&mut self, buf: Vec<u8>) {
        if buf.capacity() > 0 && self.pool.len() < POOL_MAX {
            self.pool.push(buf);
        }
    }

    /// Counters of the direction that starts at `from`.
    pub fn stats(&self, from: Side) -> LinkStats {
        self.dirs[from.index()].stats
    }

    /// Packet copies currently in flight (both directions).
    pub fn in_flight(&self) -> usize {
        self.heap[0].len() + self.heap[1].len()
    }

    /// Configuration of the direction that starts at `from`.
    pub fn config(&self, from: Side) -> &LinkConfig {
        &self.dirs[from.index()].cfg
    }

    /// Mutable configuration of the direction that starts at `from`. Changes
    /// apply to packets sent afterwards.
    pub fn config_mut(&mut self, from: Side) -> &mut LinkConfig {
        &mut self.dirs[from.index()].cfg
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(us: u64) -> Instant {
        Instant::from_micros(us)
    }

    fn pkt(i: u32, len: usize) -> Vec<u8> {
        let mut v = vec![0u8; len.max(4)];
        v[..4].copy_from_slice(&i.to_be_bytes());
        v
    }

    fn id(d: &Delivery) -> u32 {
        u32::from_be_bytes([d.data[0], d.data[1], d.data[2], d.data[3]])
    }

    fn drain(link: &mut Link) -> Vec<Delivery> {
        let mut out = Vec::new();
        while let Some(when) = link.next_deadline() {
            while let Some(d) = link.poll_deliver(when) {
                out.push(d);
            }
        }
        out
    }

    /// Send `n` packets from A, one every `gap_us`, delivering as we go.
    fn run(link: &mut Link, n: u32, gap_us: u64, len: usize) -> (Vec<SendOutcome>, Vec<Delivery>) {
        let mut outs = Vec::new();
        let mut dels = Vec::new();
        for i in 0..n {
            let now = t(u64::from(i) * gap_us);
            while let Some(d) = link.poll_deliver(now) {
                dels.push(d);
            }
            outs.push(link.send(now, Side::A, &pkt(i, len)));
        }
        dels.extend(drain(link));
        (outs, dels)
    }

    fn messy() -> LinkConfig {
        LinkConfig::default()
            .with_jitter(Duration::from_millis(3))
            .with_loss(0.1)
            .with_duplicate(0.05)
            .with_reorder(0.05)
            .with_corrupt(0.05)
            .with_bandwidth(10_000_000)
            .with_queue_limit(20)
    }

    #[test]
    fn deterministic_same_seed() {
        let mut a = Link::symmetric(messy(), 1234);
        let mut b = Link::symmetric(messy(), 1234);
        let (oa, da) = run(&mut a, 2000, 300, 1000);
        let (ob, db) = run(&mut b, 2000, 300, 1000);
        assert_eq!(oa, ob);
        assert_eq!(da, db);
        assert_eq!(a.stats(Side::A), b.stats(Side::A));
        let s = a.stats(Side::A);
        assert!(s.lost > 0 && s.duplicated > 0 && s.reordered > 0 && s.corrupted > 0);
    }

    #[test]
    fn different_seed_differs() {
        let cfg = LinkConfig::ideal().with_loss(0.3);
        let mut a = Link::symmetric(cfg, 1);
        let mut b = Link::symmetric(cfg, 2);
        let (oa, _) = run(&mut a, 200, 10, 100);
        let (ob, _) = run(&mut b, 200, 10, 100);
        assert_ne!(oa, ob);
    }

    #[test]
    fn loss_rate_near_p() {
        let mut link = Link::symmetric(LinkConfig::ideal().with_loss(0.2), 99);
        let (_, dels) = run(&mut link, 10_000, 1, 64);
        let s = link.stats(Side::A);
        assert_eq!(s.sent, 10_000);
        assert!((1700..2300).contains(&s.lost), "lost {}", s.lost);
        assert_eq!(s.delivered, 10_000 - s.lost);
        assert_eq!(dels.len() as u64, s.delivered);
        assert_eq!(s.bytes_delivered, s.delivered * 64);
    }

    #[test]
    fn corruption_flips_exactly_one_bit() {
        let mut link = Link::symmetric(LinkConfig::ideal().with_corrupt(1.0), 5);
        let mut positions = std::collections::HashSet::new();
        for i in 0..200u32 {
            let orig = pkt(i, 40);
            let out = link.send(t(u64::from(i)), Side::A, &orig);
            assert!(out.corrupted);
            let d = link.poll_deliver(t(u64::from(i))).unwrap();
            assert!(d.corrupted);
            let diff: u32 = orig
                .iter()
                .zip(&d.data)
                .map(|(a, b)| (a ^ b).count_ones())
                .sum();
            assert_eq!(diff, 1);
            let pos = orig.iter().zip(&d.data).position(|(a, b)| a != b).unwrap();
            positions.insert(pos);
        }
        // Flips land all over the packet, not just in one place.
        assert!(positions.len() > 20);
        assert_eq!(link.stats(Side::A).corrupted, 200);
        // Empty packets cannot be corrupted.
        let out = link.send(t(1000), Side::A, &[]);
        assert!(!out.corrupted);
        let d = link.poll_deliver(t(1000)).unwrap();
        assert!(d.data.is_empty() && !d.corrupted);
    }

    #[test]
    fn duplication_delivers_two_copies() {
        let cfg = LinkConfig::ideal()
            .with_delay(Duration::from_millis(1))
            .with_duplicate(1.0);
        let mut link = Link::symmetric(cfg, 8);
        let out = link.send(t(0), Side::B, b"hello");
        assert!(out.duplicated);
        assert_eq!(out.arrival, Some(t(1000)));
        assert_eq!(link.in_flight(), 2);
        let d = drain(&mut link);
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].data, b"hello");
        assert_eq!(d[1].data, b"hello");
        assert!(!d[0].duplicate && d[1].duplicate);
        assert_eq!(d[0].to, Side::A);
        assert_eq!(d[0].at, t(1000));
        assert!(d[1].at > d[0].at);
        let s = link.stats(Side::B);
        assert_eq!((s.duplicated, s.delivered), (1, 2));
        assert_eq!(link.stats(Side::A), LinkStats::default());
    }

    #[test]
    fn reorder_reorders() {
        let cfg = LinkConfig::ideal()
            .with_delay(Duration::from_millis(10))
            .with_reorder(0.2)
            .with_reorder_delay(Duration::from_millis(5));
        let mut link = Link::symmetric(cfg, 77);
        let (outs, dels) = run(&mut link, 500, 100, 20);
        let ids: Vec<u32> = dels.iter().map(id).collect();
        assert_eq!(ids.len(), 500);
        assert!(ids.windows(2).any(|w| w[0] > w[1]), "no reordering");
        // Every overtaken packet was one chosen for reordering.
        let reordered = outs.iter().filter(|o| o.reordered).count() as u64;
        assert_eq!(reordered, link.stats(Side::A).reordered);
        for (i, o) in outs.iter().enumerate() {
            let expect = t(i as u64 * 100 + 10_000 + if o.reordered { 5_000 } else { 0 });
            assert_eq!(o.arrival, Some(expect));
        }
        // Deliveries come out in arrival order.
        assert!(dels.windows(2).all(|w| w[0].at <= w[1].at));
    }

    #[test]
    fn jitter_keeps_fifo() {
        let cfg = LinkConfig::ideal()
            .with_delay(Duration::from_millis(5))
            .with_jitter(Duration::from_millis(20));
        let mut link = Link::symmetric(cfg, 3);
        let (outs, dels) = run(&mut link, 2000, 50, 20);
        let ids: Vec<u32> = dels.iter().map(id).collect();
        assert_eq!(ids, (0..2000).collect::<Vec<_>>());
        // Jitter actually varies delays.
        let delays: std::collections::HashSet<u64> = outs
            .iter()
            .enumerate()
            .map(|(i, o)| o.arrival.unwrap().as_micros() - i as u64 * 50)
            .collect();
        assert!(delays.len() > 100);
        assert!(delays.iter().all(|&d| d >= 5_000));
    }

    #[test]
    fn bandwidth_serialization_timing() {
        let cfg = LinkConfig::ideal().with_bandwidth(12_000_000);
        let mut link = Link::symmetric(cfg, 0);
        let p = vec![0x45u8; 1500];
        let o1 = link.send(t(0), Side::A, &p);
        let o2 = link.send(t(0), Side::A, &p);
        let o3 = link.send(t(0), Side::A, &p);
        assert_eq!(o1.arrival, Some(Instant::from_millis(1)));
        assert_eq!(o2.arrival, Some(Instant::from_millis(2)));
        assert_eq!(o3.arrival, Some(Instant::from_millis(3)));
        // After the queue drains, a new packet starts at `now`.
        let o4 = link.send(Instant::from_millis(10), Side::A, &p);
        assert_eq!(o4.arrival, Some(Instant::from_millis(11)));
        // The other direction has its own serializer.
        let o5 = link.send(t(0), Side::B, &p);
        assert_eq!(o5.arrival, Some(Instant::from_millis(1)));
        // With propagation delay.
        let cfg = cfg.with_delay(Duration::from_millis(10));
        let mut link = Link::symmetric(cfg, 0);
        assert_eq!(
            link.send(t(0), Side::A, &p).arrival,
            Some(Instant::from_millis(11))
        );
        // Sub-microsecond serialization accumulates exactly: 10 Gbit/s,
        // 1500 B = 1.2 µs each; 1000 packets = 1200 µs.
        let mut link = Link::symmetric(
            LinkConfig::ideal()
                .with_bandwidth(10_000_000_000)
                .with_queue_limit(10_000),
            0,
        );
        let mut last = None;
        for _ in 0..1000 {
            last = link.send(t(0), Side::A, &p).arrival;
        }
        assert_eq!(last, Some(t(1200)));
    }

    #[test]
    fn queue_limit_tail_drops() {
        let cfg = LinkConfig::ideal()
            .with_bandwidth(12_000_000)
            .with_queue_limit(3);
        let mut link = Link::symmetric(cfg, 0);
        let p = vec![0u8; 1500];
        let fates: Vec<Fate> = (0..10).map(|_| link.send(t(0), Side::A, &p).fate).collect();
        assert_eq!(&fates[..4], &[Fate::Queued; 4]);
        assert!(fates[4..].iter().all(|&f| f == Fate::QueueFull));
        assert_eq!(link.stats(Side::A).queue_drops, 6);
        // At 1.5 ms packet 0 is done and packet 1 is serializing: two waiting.
        assert_eq!(link.send(t(1500), Side::A, &p).fate, Fate::Queued);
        assert_eq!(link.send(t(1500), Side::A, &p).fate, Fate::QueueFull);
        assert_eq!(drain(&mut link).len(), 5);
    }

    #[test]
    fn mtu_drop() {
        let mut link = Link::symmetric(LinkConfig::default(), 0);
        let o = link.send(t(0), Side::A, &vec![0u8; 1501]);
        assert_eq!(o, SendOutcome::dropped(Fate::TooBig));
        let o = link.send(t(0), Side::A, &vec![0u8; 1500]);
        assert_eq!(o.fate, Fate::Queued);
        assert_eq!(o.arrival, Some(Instant::from_millis(10)));
        let s = link.stats(Side::A);
        assert_eq!((s.sent, s.too_big), (2, 1));
        assert_eq!(link.in_flight(), 1);
        assert_eq!(link.next_deadline(), Some(Instant::from_millis(10)));
        assert!(link.poll_deliver(t(9_999)).is_none());
        assert!(link.poll_deliver(t(10_000)).is_some());
        assert_eq!(link.next_deadline(), None);
    }

    #[test]
    fn lost_packets_still_use_bandwidth() {
        let cfg = LinkConfig::ideal()
            .with_bandwidth(12_000_000)
            .with_loss(1.0);
        let mut link = Link::symmetric(cfg, 0);
        let p = vec![0u8; 1500];
        assert_eq!(link.send(t(0), Side::A, &p).fate, Fate::Lost);
        link.config_mut(Side::A).loss = 0.0;
        assert_eq!(
            link.send(t(0), Side::A, &p).arrival,
            Some(Instant::from_millis(2))
        );
    }

    #[test]
    fn buffers_are_recycled() {
        let mut link = Link::symmetric(LinkConfig::ideal(), 0);
        link.send(t(0), Side::A, &[1, 2, 3]);
        let d = link.poll_deliver(t(0)).unwrap();
        let ptr = d.data.as_ptr();
        link.recycle(d.data);
        link.send(t(1), Side::B, &[4, 5]);
        let d = link.poll_deliver(t(1)).unwrap();
        assert_eq!(d.data, [4, 5]);
        assert_eq!(d.data.as_ptr(), ptr);
        assert_eq!(d.to, Side::A);
    }

    #[test]
    fn extreme_configs_do_not_panic() {
        let cfg = LinkConfig {
            delay: Duration::MAX,
            jitter: Duration::MAX,
            loss: f64::NAN,
            duplicate: 2.0,
            reorder: -1.0,
            reorder_delay: Duration::MAX,
            corrupt: f64::INFINITY,
            bandwidth: Some(1),
            queue_limit: 0,
            mtu: usize::MAX,
        };
        let mut link = Link::symmetric(cfg, 0);
        for i in 0..10 {
            link.send(Instant::from_micros(u64::MAX - i), Side::A, &[0xff; 100]);
            link.send(t(i), Side::B, &[]);
        }
        let mut link = Link::symmetric(cfg.with_bandwidth(0), 0);
        link.send(t(0), Side::A, &[1]);
        let _ = drain(&mut link);
    }

    #[test]
    fn side_other() {
        assert_eq!(Side::A.other(), Side::B);
        assert_eq!(Side::B.other(), Side::A);
    }
}
