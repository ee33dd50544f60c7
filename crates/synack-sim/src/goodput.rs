//! Goodput on simulated paths: how much of a link (or of the loss-limited
//! bound) a long transfer gets, per congestion controller. The numbers are
//! virtual-time rates, so they depend only on the algorithms, never on the
//! machine running them.
//!
//! Each run moves data one way for a fixed virtual time over a link with
//! a bottleneck rate, a queue of one bandwidth-delay product and random
//! loss on the data direction; goodput is what the receiving application
//! read during the second half of the run (after slow start).

use crate::world::{World, WorldConfig};
use synack_device::LinkConfig;
use synack_tcp::{Algorithm, Config, Duration, State};

/// One path of the table.
#[derive(Copy, Clone, Debug)]
pub struct PathSpec {
    pub name: &'static str,
    pub rate_bps: u64,
    pub rtt: Duration,
    /// Random loss on the data direction.
    pub loss: f64,
    /// Virtual time each run lasts.
    pub duration: Duration,
    /// Runs (seeds) averaged.
    pub runs: u64,
}

/// The three paths of BENCHMARKS.md.
pub const PATHS: [PathSpec; 3] = [
    PathSpec {
        name: "no loss, 50 ms RTT, 100 Mbit/s",
        rate_bps: 100_000_000,
        rtt: Duration::from_millis(50),
        loss: 0.0,
        duration: Duration::from_secs(30),
        runs: 1,
    },
    PathSpec {
        name: "1% loss, 20 ms RTT, 100 Mbit/s",
        rate_bps: 100_000_000,
        rtt: Duration::from_millis(20),
        loss: 0.01,
        duration: Duration::from_secs(60),
        runs: 10,
    },
    PathSpec {
        name: "0.1% loss, 100 ms RTT, 1 Gbit/s",
        rate_bps: 1_000_000_000,
        rtt: Duration::from_millis(100),
        loss: 0.001,
        duration: Duration::from_secs(60),
        runs: 5,
    },
];

impl PathSpec {
    /// Bytes in flight that fill the path: rate × RTT.
    pub fn bdp(&self) -> u64 {
        (self.rate_bps as f64 / 8.0 * self.rtt.as_secs_f64()) as u64
    }

    /// The Mathis et al. bound for a Reno-style flow: MSS/RTT · 1.22/√p
    /// (bits per second), for `mss` payload bytes per segment.
    pub fn mathis_bps(&self, mss: u32) -> Option<f64> {
        (self.loss > 0.0)
            .then(|| f64::from(mss) * 8.0 / self.rtt.as_secs_f64() * 1.22 / self.loss.sqrt())
    }
}

/// What one run measured.
#[derive(Copy, Clone, Debug)]
pub struct Measured {
    /// Goodput over the second half, bits per second.
    pub goodput_bps: f64,
    /// Payload bytes in a full segment (MSS less options).
    pub payload_mss: u32,
    pub retransmits: u64,
    pub rto_expirations: u64,
    pub stats: synack_tcp::ConnStats,
}

/// Runs one transfer over `path` with `algo` and `seed`.
pub fn run(path: &PathSpec, algo: Algorithm, seed: u64) -> Result<Measured, String> {
    run_with(path, algo, seed, |_| {})
}

/// Like [`run`], with the TCP settings adjusted by `tune` (experiments).
pub fn run_with(
    path: &PathSpec,
    algo: Algorithm,
    seed: u64,
    tune: impl Fn(&mut Config),
) -> Result<Measured, String> {
    let one_way = path.rtt / 2;
    let bdp = path.bdp();
    // A bottleneck queue of one BDP (in 1500-byte packets).
    let queue = (bdp / 1500).max(16) as usize;
    let data_link = LinkConfig::default()
        .with_delay(one_way)
        .with_bandwidth(path.rate_bps)
        .with_queue_limit(queue)
        .with_loss(path.loss);
    let ack_link = LinkConfig::default()
        .with_delay(one_way)
        .with_bandwidth(path.rate_bps)
        .with_queue_limit(queue);
    let buffer = (4 * bdp).max(1 << 20) as usize;
    let mut tcp = Config {
        send_buffer: buffer,
        recv_buffer: buffer,
        congestion: algo,
        ..Config::default()
    };
    tune(&mut tcp);
    let mut wc = WorldConfig::new(seed, data_link);
    wc.b_to_a = ack_link;
    wc.client_tcp = tcp.clone();
    wc.server_tcp = tcp;
    wc.trace = false;
    wc.max_steps = u64::MAX;
    let mut w = World::new(wc);
    let now = w.now;
    let l = w.server.listen(now, 5001).map_err(|e| e.to_string())?;
    let c = w
        .client
        .connect(now, w.server_addr(5001))
        .map_err(|e| e.to_string())?;
    let mut s = None;
    w.run_until(|w| {
        s = w.server.accept(l);
        s.is_some()
    })
    .map_err(|e| e.to_string())?;
    let s = s.ok_or("no connection")?;
    let chunk = vec![0x5au8; 1 << 20];
    let mut buf = vec![0u8; 1 << 20];
    let start = w.now;
    let half = start + path.duration / 2;
    let end = start + path.duration;
    let mut got = 0u64;
    let mut got_at_half = None;
    w.run_until(|w| {
        if let Some(cc) = w.client.conn_mut(c) {
            while cc.send(&chunk).is_ok_and(|n| n > 0) {}
        }
        if let Some(sc) = w.server.conn_mut(s) {
            while let Ok(n) = sc.recv(&mut buf) {
                if n == 0 {
                    break;
                }
                got += n as u64;
            }
        }
        if w.now >= half && got_at_half.is_none() {
            got_at_half = Some((w.now, got));
        }
        w.now >= end
    })
    .map_err(|e| e.to_string())?;
    let (t_half, g_half) = got_at_half.ok_or("the run ended before its half")?;
    let secs = (w.now - t_half).as_secs_f64();
    let conn = w.client.conn(c).ok_or("connection gone")?;
    if conn.state() != State::Established {
        return Err(format!("the connection ended in {}", conn.state()));
    }
    let info = conn.info();
    Ok(Measured {
        goodput_bps: (got - g_half) as f64 * 8.0 / secs,
        payload_mss: u32::from(info.mss) - if info.timestamps { 12 } else { 0 },
        retransmits: info.stats.send.retransmits.into(),
        rto_expirations: info.stats.send.rto_expirations.into(),
        stats: info.stats,
    })
}

/// One row of the table: the mean over the path's runs.
#[derive(Copy, Clone, Debug)]
pub struct Row {
    pub path: PathSpec,
    pub algo: Algorithm,
    pub goodput_bps: f64,
    /// The Mathis bound under random loss.
    pub mathis_bps: Option<f64>,
    /// Payload bytes per segment (for the payload share of the link).
    pub payload_mss: u32,
    pub retransmits: u64,
    pub rto_expirations: u64,
}

impl Row {
    /// Goodput as a fraction of the link rate.
    pub fn of_link(&self) -> f64 {
        self.goodput_bps / self.path.rate_bps as f64
    }

    /// The most goodput a full link carries: the payload's share of each
    /// packet (payload + 20 IP + 20 TCP + options).
    pub fn payload_capacity_bps(&self) -> f64 {
        let packet = f64::from(self.payload_mss) + 40.0 + 12.0;
        self.path.rate_bps as f64 * f64::from(self.payload_mss) / packet
    }
}

/// Runs every path with `algo`, averaging each path's seeds.
pub fn table(algos: &[Algorithm]) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    for path in PATHS {
        for &algo in algos {
            let mut sum = 0.0;
            let (mut retx, mut rto) = (0, 0);
            let mut mss = 0;
            for seed in 1..=path.runs {
                let m = run(&path, algo, seed)?;
                sum += m.goodput_bps;
                retx += m.retransmits;
                rto += m.rto_expirations;
                mss = m.payload_mss;
            }
            rows.push(Row {
                path,
                algo,
                goodput_bps: sum / path.runs as f64,
                mathis_bps: path.mathis_bps(mss),
                payload_mss: mss,
                retransmits: retx / path.runs,
                rto_expirations: rto / path.runs,
            });
        }
    }
    Ok(rows)
}
