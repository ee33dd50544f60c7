//! Seeded impairments around any device: loss, delay, jitter, reordering.
//!
//! [`Impaired`] wraps a [`Device`] (a TUN device, usually) and impairs both
//! directions, each with its own [`ImpairConfig`]: packets the stack sends
//! on their way to the inner device, packets the inner device delivers on
//! their way to the stack. It is the simulator's [`crate::sim::Link`] model,
//! cut down to what a real link needs, so a run over a real kernel can be
//! made lossy and slow without netem.
//!
//! It never reads a clock: every call takes `now`, and
//! [`Device::next_arrival`] says when the wrapper next has a packet to move
//! (in either direction), so a runtime knows when to wake.
//!
//! # Model
//!
//! For each packet, in each direction:
//!
//! 1. Its direction's [`Rng`] is drawn exactly three times, in this order
//!    (loss, reorder, jitter), whatever the configuration and whatever
//!    happens to the packet; the same seed and the same packets give the
//!    same decisions.
//! 2. With probability `loss` it is dropped.
//! 3. Otherwise it is held until `now + delay + uniform[0, jitter]`, raised
//!    to the release time of the previous in-order packet of its direction,
//!    so jitter alone never reorders.
//! 4. With probability `reorder` it is held one extra `delay` and does not
//!    hold back later packets, which may therefore overtake it. With zero
//!    delay, reordering has no effect.
//! 5. At most [`QUEUE_LIMIT`] packets are held per direction; beyond that a
//!    packet is dropped and counted.
//!
//! The transmit direction draws from `Rng::new(tx.seed)`, the receive
//! direction from `Rng::new(rx.seed ^ RX_SEED_SALT)`, so with one config
//! for both ([`Impaired::symmetric`]) the two directions do not make
//! mirror-image decisions.
//!
//! # Calling order
//!
//! Call [`Device::receive`] and [`Device::flush`] when the inner device is
//! readable and at [`Device::next_arrival`]: `receive` takes what the inner
//! device has, then hands over held packets that are due; `transmit`,
//! `flush` and `receive` all push due outgoing packets to the inner device.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::io;

use synack_time::{Duration, Instant};

use crate::device::{Device, DeviceCaps};
use crate::rng::Rng;

/// Packets held per direction at most; more are dropped and counted in
/// [`ImpairStats::queue_drops`].
pub const QUEUE_LIMIT: usize = 10_000;

/// Mixed into the receive direction's seed so it does not repeat the
/// transmit direction's decisions.
pub const RX_SEED_SALT: u64 = 0x5258_5f53_414c_5421;

/// Spare buffers kept for reuse at most.
const POOL_MAX: usize = 1024;

/// Impairments of one direction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImpairConfig {
    /// Probability that a packet is dropped.
    pub loss: f64,
    /// How long every packet is held.
    pub delay: Duration,
    /// Uniform extra hold in `[0, jitter]`; alone it never reorders.
    pub jitter: Duration,
    /// Probability that a packet is held one extra `delay`, letting later
    /// packets overtake it.
    pub reorder: f64,
    /// Seed of the direction's random decisions.
    pub seed: u64,
}

impl Default for ImpairConfig {
    /// No impairment, seed 0.
    fn default() -> Self {
        ImpairConfig {
            loss: 0.0,
            delay: Duration::ZERO,
            jitter: Duration::ZERO,
            reorder: 0.0,
            seed: 0,
        }
    }
}

impl ImpairConfig {
    /// Changes nothing: no loss, no delay, no jitter, no reordering.
    pub fn is_identity(&self) -> bool {
        self.loss <= 0.0 && self.reorder <= 0.0 && self.delay.is_zero() && self.jitter.is_zero()
    }

    /// Set the loss probability.
    #[must_use]
    pub fn with_loss(mut self, p: f64) -> Self {
        self.loss = p;
        self
    }

    /// Set the delay.
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

    /// Set the reordering probability.
    #[must_use]
    pub fn with_reorder(mut self, p: f64) -> Self {
        self.reorder = p;
        self
    }

    /// Set the seed.
    #[must_use]
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
}

/// What [`Impaired`] did in one direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImpairStats {
    /// Packets that entered the direction.
    pub packets: u64,
    /// Packets dropped by `loss`.
    pub lost: u64,
    /// Packets held back for reordering.
    pub reordered: u64,
    /// Packets dropped because [`QUEUE_LIMIT`] packets were held.
    pub queue_drops: u64,
    /// Outgoing packets dropped because the inner device's MTU shrank
    /// below their size while they were held.
    pub too_big: u64,
    /// Packets passed on (to the stack, or to the inner device).
    pub passed: u64,
}

/// A held packet. Ordered so that `BinaryHeap` pops the earliest
/// `(at, seq)` first.
#[derive(Debug)]
struct Held {
    at: Instant,
    seq: u64,
    data: Vec<u8>,
}

impl PartialEq for Held {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl Eq for Held {}

impl PartialOrd for Held {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Held {
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

/// One direction: its config, its decisions and what it holds.
#[derive(Debug)]
struct Direction {
    cfg: ImpairConfig,
    rng: Rng,
    held: BinaryHeap<Held>,
    /// Release time of the last in-order packet; later ones never leave
    /// earlier.
    last_in_order: Instant,
    seq: u64,
    stats: ImpairStats,
}

impl Direction {
    /// Packets go straight through, with no copy and no decision: the
    /// config changes nothing and nothing is held from before.
    fn passes_through(&self) -> bool {
        self.cfg.is_identity() && self.held.is_empty()
    }

    fn new(cfg: ImpairConfig, seed: u64) -> Direction {
        Direction {
            cfg,
            rng: Rng::new(seed),
            held: BinaryHeap::new(),
            last_in_order: Instant::ZERO,
            seq: 0,
            stats: ImpairStats::default(),
        }
    }

    /// Decides the fate of a packet entering at `now`: `None` when it is
    /// dropped, else when it leaves.
    fn admit(&mut self, now: Instant) -> Option<Instant> {
        let cfg = self.cfg;
        self.stats.packets += 1;
        // Fixed draw order, independent of configuration and fate.
        let lost = self.rng.chance(cfg.loss);
        let reordered = self.rng.chance(cfg.reorder);
        let jitter_us = self.rng.below(micros(cfg.jitter).saturating_add(1));
        if lost {
            self.stats.lost += 1;
            return None;
        }
        if self.held.len() >= QUEUE_LIMIT {
            self.stats.queue_drops += 1;
            return None;
        }
        let at = now + cfg.delay + Duration::from_micros(jitter_us);
        if reordered {
            self.stats.reordered += 1;
            return Some(at + cfg.delay);
        }
        self.last_in_order = at.max(self.last_in_order);
        Some(self.last_in_order)
    }

    fn hold(&mut self, at: Instant, data: Vec<u8>) {
        let seq = self.seq;
        self.seq = self.seq.wrapping_add(1);
        self.held.push(Held { at, seq, data });
    }

    /// The earliest held packet, if it is due at `now`.
    fn pop_due(&mut self, now: Instant) -> Option<Vec<u8>> {
        if self.held.peek()?.at > now {
            return None;
        }
        self.held.pop().map(|h| h.data)
    }

    fn next_release(&self) -> Option<Instant> {
        self.held.peek().map(|h| h.at)
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// A device whose packets are lost, delayed and reordered on purpose, in
/// both directions, with seeded (repeatable) decisions. See the
/// [module documentation](self) for the model.
#[derive(Debug)]
pub struct Impaired<D: Device> {
    inner: D,
    rx: Direction,
    tx: Direction,
    pool: Vec<Vec<u8>>,
}

impl<D: Device> Impaired<D> {
    /// Wraps `inner`: packets it delivers get `rx`, packets sent through it
    /// get `tx`.
    pub fn new(inner: D, rx: ImpairConfig, tx: ImpairConfig) -> Impaired<D> {
        Impaired {
            inner,
            rx: Direction::new(rx, rx.seed ^ RX_SEED_SALT),
            tx: Direction::new(tx, tx.seed),
            pool: Vec::new(),
        }
    }

    /// Wraps `inner` with the same impairments in both directions.
    pub fn symmetric(inner: D, cfg: ImpairConfig) -> Impaired<D> {
        Impaired::new(inner, cfg, cfg)
    }

    /// The wrapped device.
    pub fn inner(&self) -> &D {
        &self.inner
    }

    /// The wrapped device, mutably (to configure it; packets sent straight
    /// through it bypass the impairments).
    pub fn inner_mut(&mut self) -> &mut D {
        &mut self.inner
    }

    /// Unwraps the device; held packets are dropped.
    pub fn into_inner(self) -> D {
        self.inner
    }

    /// The receive direction's impairments.
    pub fn rx_config(&self) -> &ImpairConfig {
        &self.rx.cfg
    }

    /// The transmit direction's impairments.
    pub fn tx_config(&self) -> &ImpairConfig {
        &self.tx.cfg
    }

    /// What was done to packets on their way to the stack.
    pub fn rx_stats(&self) -> ImpairStats {
        self.rx.stats
    }

    /// What was done to packets on their way out.
    pub fn tx_stats(&self) -> ImpairStats {
        self.tx.stats
    }

    /// Packets held now, in both directions.
    pub fn held(&self) -> usize {
        self.rx.held.len() + self.tx.held.len()
    }

    fn take_buf(pool: &mut Vec<Vec<u8>>) -> Vec<u8> {
        let mut buf = pool.pop().unwrap_or_default();
        buf.clear();
        buf
    }

    fn recycle(&mut self, buf: Vec<u8>) {
        if self.pool.len() < POOL_MAX {
            self.pool.push(buf);
        }
    }

    /// Hands every outgoing packet due at `now` to the inner device.
    fn release_tx(&mut self, now: Instant) -> io::Result<()> {
        while let Some(data) = self.tx.pop_due(now) {
            let mut fits = true;
            let sent = self.inner.transmit(now, &mut |buf| {
                let dst = buf.get_mut(..data.len());
                fits = dst.is_some();
                dst.map(|dst| {
                    dst.copy_from_slice(&data);
                    data.len()
                })
            });
            self.recycle(data);
            if !fits {
                self.tx.stats.too_big += 1;
            } else if sent? {
                self.tx.stats.passed += 1;
            }
        }
        Ok(())
    }
}

impl<D: Device> Device for Impaired<D> {
    fn caps(&self) -> DeviceCaps {
        self.inner.caps()
    }

    /// Pushes out due outgoing packets, takes what the inner device has
    /// into the receive direction, then hands the stack the held packets
    /// that are due, at most a batch.
    fn receive(&mut self, now: Instant, packet: &mut dyn FnMut(&[u8])) -> io::Result<usize> {
        self.release_tx(now)?;
        if self.rx.passes_through() {
            let n = self.inner.receive(now, packet)?;
            self.rx.stats.packets += n as u64;
            self.rx.stats.passed += n as u64;
            return Ok(n);
        }
        let Impaired {
            inner, rx, pool, ..
        } = self;
        inner.receive(now, &mut |p| {
            if let Some(at) = rx.admit(now) {
                let mut buf = Self::take_buf(pool);
                buf.extend_from_slice(p);
                rx.hold(at, buf);
            }
        })?;
        let max_batch = self.inner.caps().max_batch;
        let mut n = 0;
        while n < max_batch {
            let Some(data) = self.rx.pop_due(now) else {
                break;
            };
            packet(&data);
            self.rx.stats.passed += 1;
            self.recycle(data);
            n += 1;
        }
        Ok(n)
    }

    /// Lends `fill` a buffer of the inner device's MTU, decides the
    /// packet's fate, and hands the inner device whatever is due.
    fn transmit(
        &mut self,
        now: Instant,
        fill: &mut dyn FnMut(&mut [u8]) -> Option<usize>,
    ) -> io::Result<bool> {
        // Older due packets go out before this one.
        self.release_tx(now)?;
        if self.tx.passes_through() {
            let sent = self.inner.transmit(now, fill)?;
            if sent {
                self.tx.stats.packets += 1;
                self.tx.stats.passed += 1;
            }
            return Ok(sent);
        }
        let mtu = self.inner.caps().mtu;
        let mut buf = Self::take_buf(&mut self.pool);
        buf.resize(mtu, 0);
        let Some(len) = fill(&mut buf) else {
            self.recycle(buf);
            return Ok(false);
        };
        buf.truncate(len);
        match self.tx.admit(now) {
            Some(at) => self.tx.hold(at, buf),
            None => self.recycle(buf),
        }
        self.release_tx(now)?;
        Ok(true)
    }

    fn flush(&mut self, now: Instant) -> io::Result<()> {
        self.release_tx(now)?;
        self.inner.flush(now)
    }

    /// The earliest of: a held packet in either direction, and the inner
    /// device's own next arrival.
    fn next_arrival(&self) -> Option<Instant> {
        [
            self.rx.next_release(),
            self.tx.next_release(),
            self.inner.next_arrival(),
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    /// A device on virtual time: `inbox` is what it will deliver, `sent`
    /// what it was given and when.
    #[derive(Debug)]
    struct Fake {
        mtu: usize,
        inbox: VecDeque<Vec<u8>>,
        sent: Vec<(Instant, Vec<u8>)>,
    }

    impl Fake {
        fn new() -> Fake {
            Fake {
                mtu: 1500,
                inbox: VecDeque::new(),
                sent: Vec::new(),
            }
        }
    }

    impl Device for Fake {
        fn caps(&self) -> DeviceCaps {
            DeviceCaps {
                mtu: self.mtu,
                ..DeviceCaps::default()
            }
        }

        fn receive(&mut self, _now: Instant, packet: &mut dyn FnMut(&[u8])) -> io::Result<usize> {
            let mut n = 0;
            while n < self.caps().max_batch {
                let Some(p) = self.inbox.pop_front() else {
                    break;
                };
                packet(&p);
                n += 1;
            }
            Ok(n)
        }

        fn transmit(
            &mut self,
            now: Instant,
            fill: &mut dyn FnMut(&mut [u8]) -> Option<usize>,
        ) -> io::Result<bool> {
            let mut buf = vec![0; self.mtu];
            let Some(n) = fill(&mut buf) else {
                return Ok(false);
            };
            buf.truncate(n);
            self.sent.push((now, buf));
            Ok(true)
        }
    }

    fn t(ms: u64) -> Instant {
        Instant::from_millis(ms)
    }

    fn pkt(i: u32) -> Vec<u8> {
        let mut p = i.to_be_bytes().to_vec();
        p.resize(40, 0xab);
        p
    }

    fn id(p: &[u8]) -> u32 {
        u32::from_be_bytes([p[0], p[1], p[2], p[3]])
    }

    fn send(dev: &mut Impaired<Fake>, now: Instant, i: u32) {
        let p = pkt(i);
        let taken = dev
            .transmit(now, &mut |buf| {
                buf[..p.len()].copy_from_slice(&p);
                Some(p.len())
            })
            .unwrap();
        assert!(taken);
    }

    /// Receives at `now`, returning the ids handed to the stack.
    fn recv(dev: &mut Impaired<Fake>, now: Instant) -> Vec<u32> {
        let mut got = Vec::new();
        dev.receive(now, &mut |p| got.push(id(p))).unwrap();
        got
    }

    /// Sends `n` packets 1 ms apart, then steps virtual time 1 ms at a time
    /// until nothing is held; returns `(id, when it reached the inner
    /// device)`.
    fn run_tx(cfg: ImpairConfig, n: u32) -> (Vec<(u32, Instant)>, ImpairStats) {
        let mut dev = Impaired::new(Fake::new(), ImpairConfig::default(), cfg);
        for i in 0..n {
            send(&mut dev, t(u64::from(i)), i);
        }
        let mut now = t(u64::from(n));
        while let Some(at) = dev.next_arrival() {
            now = now.max(at);
            dev.flush(now).unwrap();
        }
        let out = dev
            .inner()
            .sent
            .iter()
            .map(|(at, p)| (id(p), *at))
            .collect();
        (out, dev.tx_stats())
    }

    #[test]
    fn without_impairments_packets_pass_at_once() {
        let mut dev = Impaired::symmetric(Fake::new(), ImpairConfig::default());
        assert_eq!(dev.caps().mtu, 1500);
        send(&mut dev, t(0), 7);
        assert_eq!(dev.inner().sent, vec![(t(0), pkt(7))]);
        dev.inner_mut().inbox.extend([pkt(1), pkt(2)]);
        assert_eq!(recv(&mut dev, t(0)), vec![1, 2]);
        assert_eq!(dev.next_arrival(), None);
        assert!(!dev.transmit(t(0), &mut |_| None).unwrap());
        assert_eq!(dev.tx_stats().packets, 1);
        assert_eq!(dev.rx_stats().passed, 2);
    }

    #[test]
    fn delay_holds_packets_in_both_directions() {
        let cfg = ImpairConfig::default().with_delay(Duration::from_millis(30));
        let mut dev = Impaired::symmetric(Fake::new(), cfg);
        send(&mut dev, t(0), 1);
        dev.inner_mut().inbox.push_back(pkt(2));
        assert_eq!(recv(&mut dev, t(5)), Vec::<u32>::new());
        assert!(dev.inner().sent.is_empty());
        assert_eq!(dev.held(), 2);
        assert_eq!(dev.next_arrival(), Some(t(30)));

        dev.flush(t(29)).unwrap();
        assert!(dev.inner().sent.is_empty());
        dev.flush(t(30)).unwrap();
        assert_eq!(dev.inner().sent, vec![(t(30), pkt(1))]);
        assert_eq!(dev.next_arrival(), Some(t(35)));
        assert_eq!(recv(&mut dev, t(34)), Vec::<u32>::new());
        assert_eq!(recv(&mut dev, t(35)), vec![2]);
        assert_eq!(dev.next_arrival(), None);
    }

    #[test]
    fn receive_also_pushes_out_due_packets() {
        let cfg = ImpairConfig::default().with_delay(Duration::from_millis(10));
        let mut dev = Impaired::new(Fake::new(), ImpairConfig::default(), cfg);
        send(&mut dev, t(0), 1);
        recv(&mut dev, t(10));
        assert_eq!(dev.inner().sent.len(), 1);
        assert_eq!(dev.tx_stats().passed, 1);
    }

    #[test]
    fn loss_drops_about_the_configured_share() {
        let (out, stats) = run_tx(ImpairConfig::default().with_loss(1.0), 100);
        assert!(out.is_empty());
        assert_eq!((stats.packets, stats.lost), (100, 100));

        let (out, stats) = run_tx(ImpairConfig::default().with_loss(0.3).with_seed(9), 2000);
        assert!((500..700).contains(&stats.lost), "{stats:?}");
        assert_eq!(out.len() as u64, 2000 - stats.lost);
        assert_eq!(stats.passed, out.len() as u64);
    }

    #[test]
    fn the_same_seed_makes_the_same_decisions() {
        let cfg = ImpairConfig {
            loss: 0.2,
            delay: Duration::from_millis(20),
            jitter: Duration::from_millis(15),
            reorder: 0.2,
            seed: 42,
        };
        let a = run_tx(cfg, 500);
        assert_eq!(a, run_tx(cfg, 500));
        assert_ne!(a.0, run_tx(cfg.with_seed(43), 500).0);
    }

    #[test]
    fn the_two_directions_do_not_mirror_each_other() {
        let cfg = ImpairConfig::default().with_loss(0.5).with_seed(1);
        let mut dev = Impaired::symmetric(Fake::new(), cfg);
        let mut sent = Vec::new();
        for i in 0..64 {
            send(&mut dev, t(0), i);
            dev.inner_mut().inbox.push_back(pkt(i));
        }
        sent.extend(dev.inner().sent.iter().map(|(_, p)| id(p)));
        assert_ne!(sent, recv(&mut dev, t(0)));
    }

    #[test]
    fn reordering_lets_later_packets_overtake() {
        let cfg = ImpairConfig::default()
            .with_delay(Duration::from_millis(10))
            .with_reorder(0.25)
            .with_seed(3);
        let (out, stats) = run_tx(cfg, 200);
        assert_eq!(out.len(), 200, "reordering loses nothing");
        assert!(stats.reordered > 20, "{stats:?}");
        let overtaken = out.windows(2).filter(|w| w[1].0 < w[0].0).count();
        assert!(overtaken > 0);
        for &(i, at) in &out {
            let sent = t(u64::from(i));
            assert!(
                at == sent + Duration::from_millis(10) || at == sent + Duration::from_millis(20)
            );
        }
    }

    #[test]
    fn jitter_alone_keeps_the_order() {
        let cfg = ImpairConfig::default()
            .with_delay(Duration::from_millis(5))
            .with_jitter(Duration::from_millis(8))
            .with_seed(11);
        let (out, stats) = run_tx(cfg, 300);
        assert_eq!(stats.reordered, 0);
        let ids: Vec<u32> = out.iter().map(|&(i, _)| i).collect();
        assert_eq!(ids, (0..300).collect::<Vec<_>>());
        let mut spread = std::collections::BTreeSet::new();
        for &(i, at) in &out {
            let held = at - t(u64::from(i));
            assert!(held >= Duration::from_millis(5) && held <= Duration::from_millis(13));
            spread.insert(held);
        }
        assert!(spread.len() > 10, "jitter varies the delay");
    }

    #[test]
    fn the_hold_queue_is_bounded() {
        let cfg = ImpairConfig::default().with_delay(Duration::from_secs(1));
        let mut dev = Impaired::symmetric(Fake::new(), cfg);
        let extra = 5;
        for i in 0..(QUEUE_LIMIT as u32 + extra) {
            send(&mut dev, t(0), i);
        }
        assert_eq!(dev.held(), QUEUE_LIMIT);
        assert_eq!(dev.tx_stats().queue_drops, u64::from(extra));
        dev.flush(t(1000)).unwrap();
        assert_eq!(dev.inner().sent.len(), QUEUE_LIMIT);
        assert_eq!(dev.held(), 0);
    }

    #[test]
    fn a_receive_hands_over_at_most_a_batch() {
        let mut dev = Impaired::symmetric(Fake::new(), ImpairConfig::default());
        dev.inner_mut().inbox.extend((0..100).map(pkt));
        assert_eq!(recv(&mut dev, t(0)).len(), 64);
        assert_eq!(recv(&mut dev, t(0)), (64..100).collect::<Vec<_>>());
    }

    #[test]
    fn a_held_packet_too_big_for_a_shrunk_mtu_is_dropped() {
        let cfg = ImpairConfig::default().with_delay(Duration::from_millis(1));
        let mut dev = Impaired::symmetric(Fake::new(), cfg);
        send(&mut dev, t(0), 1);
        dev.inner_mut().mtu = 20;
        dev.flush(t(1)).unwrap();
        assert!(dev.inner().sent.is_empty());
        assert_eq!(dev.tx_stats().too_big, 1);
    }
}
