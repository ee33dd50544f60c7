//! The chaos sweep: for each seed, two hosts move data both ways at once
//! across a link that loses, duplicates, reorders, corrupts, jitters and
//! limits bandwidth, with impairments and TCP settings drawn from the seed.
//! Every byte must arrive exactly once and in order, both sides must close
//! cleanly, and the transfer must finish within a bound computed from the
//! path (see [`ChaosCase::bound`]). A failure names its seed; the same seed
//! replays the same run.

use crate::world::{World, WorldConfig};
use sha2::{Digest, Sha256};
use synack_device::{LinkConfig, Rng, Side};
use synack_tcp::{Algorithm, CloseReason, Config, Duration, Instant, State};

/// Bytes each side sends by default.
pub const DEFAULT_SIZE: usize = 1 << 20;

/// What one seed runs: the link each way and both hosts' TCP settings.
#[derive(Clone, Debug)]
pub struct ChaosCase {
    pub seed: u64,
    pub size: usize,
    pub a_to_b: LinkConfig,
    pub b_to_a: LinkConfig,
    pub tcp: Config,
}

fn impaired(rng: &mut Rng, delay: Duration, bandwidth: u64) -> LinkConfig {
    LinkConfig::default()
        .with_delay(delay)
        .with_jitter(Duration::from_micros(rng.below(5_000)))
        .with_loss(rng.gen_f64() * 0.10)
        .with_duplicate(rng.gen_f64() * 0.02)
        .with_reorder(rng.gen_f64() * 0.05)
        .with_reorder_delay(Duration::from_millis(1 + rng.below(20)))
        .with_corrupt(rng.gen_f64() * 0.02)
        .with_bandwidth(bandwidth)
        .with_queue_limit(32 + rng.below(480) as usize)
}

impl ChaosCase {
    /// The case for `seed`: loss 0–10%, duplication 0–2%, reordering 0–5%,
    /// corruption 0–2%, jitter 0–5 ms in each direction; a one-way delay of
    /// 1–50 ms and 1–100 Mbit/s; SACK, timestamps, delayed ACKs and the
    /// congestion controller on or off.
    pub fn from_seed(seed: u64, size: usize) -> ChaosCase {
        let mut rng = Rng::new(seed ^ 0xc4a0_5eed);
        let delay = Duration::from_millis(1 + rng.below(50));
        let bandwidth = (1 + rng.below(100)) * 1_000_000;
        let a_to_b = impaired(&mut rng, delay, bandwidth);
        let b_to_a = impaired(&mut rng, delay, bandwidth);
        let buffer = (64 * 1024) << rng.below(5);
        let tcp = Config {
            send_buffer: buffer,
            recv_buffer: buffer,
            sack: rng.below(4) != 0,
            timestamps: rng.below(4) != 0,
            delayed_ack: Duration::from_millis(40 * rng.below(2)),
            congestion: if rng.below(2) == 0 {
                Algorithm::Cubic
            } else {
                Algorithm::NewReno
            },
            nodelay: rng.below(2) == 0,
            ..Config::default()
        };
        ChaosCase {
            seed,
            size,
            a_to_b,
            b_to_a,
            tcp,
        }
    }

    /// The stated bound on virtual completion time: 120 s, plus 20 times
    /// what the bytes need at the link rate with no loss at all, plus 200
    /// round trips. 10% loss each way with RTO backoff (a handshake that
    /// loses its SYN-ACK four times inflates the first RTT sample to
    /// seconds) stays inside it; a stall — a lost wake-up, a deadlock —
    /// does not.
    pub fn bound(&self) -> Duration {
        let bw = self.a_to_b.bandwidth.unwrap_or(u64::MAX).max(1);
        let wire = Duration::from_secs_f64(self.size as f64 * 8.0 / bw as f64);
        let rtt = self.a_to_b.delay * 2;
        Duration::from_secs(120) + wire * 20 + rtt * 200
    }

    /// One line: the link and settings, for reports.
    pub fn describe(&self) -> String {
        let l = &self.a_to_b;
        format!(
            "seed {}: {} ms, {} Mbit/s, loss {:.1}%, dup {:.1}%, reorder {:.1}%, corrupt {:.1}%; \
             {}, sack {}, ts {}, delack {} ms, buffers {} KiB",
            self.seed,
            l.delay.as_millis(),
            l.bandwidth.unwrap_or(0) / 1_000_000,
            l.loss * 100.0,
            l.duplicate * 100.0,
            l.reorder * 100.0,
            l.corrupt * 100.0,
            self.tcp.congestion.name(),
            on_off(self.tcp.sack),
            on_off(self.tcp.timestamps),
            self.tcp.delayed_ack.as_millis(),
            self.tcp.recv_buffer / 1024
        )
    }
}

fn on_off(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}

/// What one seed did.
#[derive(Clone, Debug)]
pub struct ChaosOutcome {
    pub seed: u64,
    /// Virtual time until both sides had every byte.
    pub transfer: Duration,
    pub bound: Duration,
    /// Packets the link lost, duplicated, reordered, corrupted (both ways).
    pub lost: u64,
    pub duplicated: u64,
    pub reordered: u64,
    pub corrupted: u64,
    /// Segments retransmitted by both sides.
    pub retransmits: u64,
    pub rto_expirations: u64,
}

/// One application end: what it must send, what it read.
struct Peer {
    out: Vec<u8>,
    sent: usize,
    got: Vec<u8>,
    eof: bool,
    shut: bool,
    closed: bool,
}

impl Peer {
    fn pump(&mut self, c: &mut synack_tcp::Connection, now: Instant, buf: &mut [u8]) {
        if self.sent < self.out.len() {
            if let Ok(n) = c.send(&self.out[self.sent..]) {
                self.sent += n;
            }
        }
        if self.sent == self.out.len() && !self.shut {
            self.shut = true;
            c.shutdown(now);
        }
        while !self.closed {
            match c.recv(buf) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => self.got.extend_from_slice(&buf[..n]),
                Err(_) => break,
            }
        }
        if self.eof && self.shut && !self.closed {
            self.closed = true;
            c.close(now);
        }
    }
}

/// Runs one case.
pub fn run(case: &ChaosCase) -> Result<ChaosOutcome, String> {
    run_in(case, false).0
}

/// Runs one case, optionally tracing, and hands back the world too (to
/// draw what happened when a seed fails).
pub fn run_in(case: &ChaosCase, trace: bool) -> (Result<ChaosOutcome, String>, World) {
    let mut wc = WorldConfig::new(case.seed, case.a_to_b);
    wc.b_to_a = case.b_to_a;
    wc.client_tcp = case.tcp.clone();
    wc.server_tcp = case.tcp.clone();
    wc.trace = trace;
    let mut w = World::new(wc);
    let r = play(case, &mut w);
    (r, w)
}

fn play(case: &ChaosCase, w: &mut World) -> Result<ChaosOutcome, String> {
    let fail = |what: String| format!("{}: {what}", case.describe());
    let now = w.now;
    let l = w.server.listen(now, 80).map_err(|e| fail(e.to_string()))?;
    let to = w.server_addr(80);
    let c = w.client.connect(now, to).map_err(|e| fail(e.to_string()))?;
    let mut s = None;
    w.run_until(|w| {
        s = w.server.accept(l);
        s.is_some() || w.client.conn(c).is_some_and(|x| x.state() == State::Closed)
    })
    .map_err(|e| fail(e.to_string()))?;
    let s = s.ok_or_else(|| fail("the handshake failed".into()))?;
    let up = payload(case.seed, case.size, 1);
    let down = payload(case.seed, case.size, 2);
    let mut a = Peer {
        out: up.clone(),
        sent: 0,
        got: Vec::new(),
        eof: false,
        shut: false,
        closed: false,
    };
    let mut b = Peer {
        out: down.clone(),
        sent: 0,
        got: Vec::new(),
        eof: false,
        shut: false,
        closed: false,
    };
    let start = w.now;
    let mut done_at = None;
    let mut buf = vec![0u8; 64 * 1024];
    let bound = case.bound();
    w.run_until(|w| {
        let now = w.now;
        if let Some(conn) = w.client.conn_mut(c) {
            a.pump(conn, now, &mut buf);
        }
        if let Some(conn) = w.server.conn_mut(s) {
            b.pump(conn, now, &mut buf);
        }
        if done_at.is_none() && a.got.len() == down.len() && b.got.len() == up.len() {
            done_at = Some(w.now);
        }
        let closed =
            |h: &synack_stack::Host, x| h.conn(x).is_none_or(|k| k.state() == State::Closed);
        (closed(&w.client, c) && closed(&w.server, s)) || w.now - start > bound * 2
    })
    .map_err(|e| fail(e.to_string()))?;
    let transfer = done_at.map(|t| t - start).unwrap_or(w.now - start);
    for (side, h, x) in [("client", &w.client, c), ("server", &w.server, s)] {
        let k = h
            .conn(x)
            .ok_or_else(|| fail(format!("{side}: connection vanished")))?;
        if k.state() != State::Closed || k.close_reason() != Some(CloseReason::Normal) {
            let why = match (k.state(), k.close_reason()) {
                (State::Closed, Some(r)) => format!("closed: {r}"),
                (State::Closed, None) => "closed without a reason".to_string(),
                (s, _) => format!("still in {s}"),
            };
            return Err(fail(format!("{side} did not close cleanly: {why}")));
        }
    }
    if Sha256::digest(&b.got) != Sha256::digest(&up) {
        return Err(fail(format!(
            "client → server: {} of {} bytes, content differs",
            b.got.len(),
            up.len()
        )));
    }
    if Sha256::digest(&a.got) != Sha256::digest(&down) {
        return Err(fail(format!(
            "server → client: {} of {} bytes, content differs",
            a.got.len(),
            down.len()
        )));
    }
    if transfer > bound {
        return Err(fail(format!(
            "took {:.3} s of virtual time, over the bound of {:.3} s",
            transfer.as_secs_f64(),
            bound.as_secs_f64()
        )));
    }
    // Corrupted packets that arrived were all dropped before TCP acted.
    let caught: u64 = [&w.client, &w.server]
        .iter()
        .map(|h| h.counters().ip_in_receives - h.counters().tcp_in_segs)
        .sum();
    let (la, lb) = (w.link.stats(Side::A), w.link.stats(Side::B));
    if caught != la.corrupted + lb.corrupted {
        return Err(fail(format!(
            "{} corrupted packets arrived but {caught} were dropped as bad",
            la.corrupted + lb.corrupted
        )));
    }
    let (sc, ss) = (
        w.client.conn(c).map(|k| k.stats()).unwrap_or_default(),
        w.server.conn(s).map(|k| k.stats()).unwrap_or_default(),
    );
    Ok(ChaosOutcome {
        seed: case.seed,
        transfer,
        bound,
        lost: la.lost + lb.lost,
        duplicated: la.duplicated + lb.duplicated,
        reordered: la.reordered + lb.reordered,
        corrupted: la.corrupted + lb.corrupted,
        retransmits: u64::from(sc.send.retransmits) + u64::from(ss.send.retransmits),
        rto_expirations: u64::from(sc.send.rto_expirations) + u64::from(ss.send.rto_expirations),
    })
}

/// The deterministic payload one side of a seed sends.
pub fn payload(seed: u64, len: usize, which: u64) -> Vec<u8> {
    let mut data = vec![0u8; len];
    Rng::new(seed.wrapping_mul(31).wrapping_add(which)).fill(&mut data);
    data
}

/// A sweep's results.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub runs: usize,
    pub failures: Vec<(u64, String)>,
    pub outcomes: Vec<ChaosOutcome>,
}

impl Summary {
    /// The transfer times' ratio to their bounds, worst first.
    pub fn worst(&self, n: usize) -> Vec<&ChaosOutcome> {
        let mut v: Vec<&ChaosOutcome> = self.outcomes.iter().collect();
        v.sort_by(|a, b| {
            let ra = a.transfer.as_secs_f64() / a.bound.as_secs_f64();
            let rb = b.transfer.as_secs_f64() / b.bound.as_secs_f64();
            rb.total_cmp(&ra)
        });
        v.truncate(n);
        v
    }

    pub fn totals(&self) -> (u64, u64, u64, u64, u64, u64) {
        self.outcomes.iter().fold((0, 0, 0, 0, 0, 0), |t, o| {
            (
                t.0 + o.lost,
                t.1 + o.duplicated,
                t.2 + o.reordered,
                t.3 + o.corrupted,
                t.4 + o.retransmits,
                t.5 + o.rto_expirations,
            )
        })
    }

    /// A percentile (0–100) of the transfer times.
    pub fn percentile(&self, p: f64) -> Duration {
        let mut t: Vec<Duration> = self.outcomes.iter().map(|o| o.transfer).collect();
        if t.is_empty() {
            return Duration::ZERO;
        }
        t.sort();
        let i = ((p / 100.0) * (t.len() - 1) as f64).round() as usize;
        t[i.min(t.len() - 1)]
    }
}

/// Runs one seed; a panic is a failure of that seed, not of the sweep.
fn run_caught(seed: u64, size: usize) -> Result<ChaosOutcome, (u64, String)> {
    let case = ChaosCase::from_seed(seed, size);
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&case))) {
        Ok(r) => r.map_err(|e| (seed, e)),
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "panic".to_string());
            Err((seed, format!("{}: panicked: {msg}", case.describe())))
        }
    }
}

/// Runs `seeds` on `jobs` threads (each seed is independent and
/// deterministic, so the result does not depend on `jobs`).
pub fn sweep(seeds: std::ops::Range<u64>, size: usize, jobs: usize) -> Summary {
    let seeds: Vec<u64> = seeds.collect();
    let jobs = jobs.max(1).min(seeds.len().max(1));
    let chunks: Vec<Vec<u64>> = (0..jobs)
        .map(|j| seeds.iter().copied().skip(j).step_by(jobs).collect())
        .collect();
    let results: Vec<Vec<Result<ChaosOutcome, (u64, String)>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .into_iter()
                        .map(|seed| run_caught(seed, size))
                        .collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let mut summary = Summary::default();
    for r in results.into_iter().flatten() {
        summary.runs += 1;
        match r {
            Ok(o) => summary.outcomes.push(o),
            Err(f) => summary.failures.push(f),
        }
    }
    summary.failures.sort();
    summary.outcomes.sort_by_key(|o| o.seed);
    summary
}
