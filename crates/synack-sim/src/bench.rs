//! Bulk throughput between two synack hosts over an ideal in-memory link.
//!
//! The sending application copies data into the connection, the receiving
//! one copies it out; between them each segment is emitted into a packet,
//! crosses the simulated link and is parsed and checksummed on arrival.
//! Wall-clock time is measured by the caller: the engine never reads a clock.

use crate::world::{World, WorldConfig, WorldError};
use synack_device::{LinkConfig, Side};
use synack_tcp::Config;

/// What one bulk run moved.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct BulkResult {
    pub bytes: u64,
    /// Segments sent by both sides (data and ACKs).
    pub segments: u64,
    /// Simulation steps taken.
    pub steps: u64,
}

/// The TCP settings of the benchmark: large buffers, as a bulk sender would use.
pub fn bulk_config() -> Config {
    Config {
        send_buffer: 1 << 20,
        recv_buffer: 1 << 20,
        ..Config::default()
    }
}

/// Moves `bytes` from client to server and closes; fails if a byte is
/// missing or the run does not settle.
pub fn bulk_transfer(bytes: u64, seed: u64) -> Result<BulkResult, WorldError> {
    let tcp = bulk_config();
    let mut cfg = WorldConfig::new(seed, LinkConfig::ideal());
    cfg.trace = false;
    cfg.client_tcp = tcp.clone();
    cfg.server_tcp = tcp;
    let mut w = World::new(cfg);
    let now = w.now;
    let listener = w.server.listen(now, 9).expect("fresh host has port 9 free");
    let to = w.server_addr(9);
    let c = w
        .client
        .connect(now, to)
        .expect("fresh host has free ports");
    let mut s = None;
    w.run_until(|w| {
        s = w.server.accept(listener);
        s.is_some()
    })?;
    let s = s.expect("accepted");
    let chunk: Vec<u8> = (0..65536u32).map(|i| (i * 7 + 3) as u8).collect();
    let mut inbuf = vec![0u8; 65536];
    let mut sent = 0u64;
    let mut received = 0u64;
    let mut closed = false;
    let mut eof = false;
    w.run_until(|w| {
        let now = w.now;
        let cc = w.conn(Side::A, c);
        while sent < bytes {
            let want = (bytes - sent).min(chunk.len() as u64) as usize;
            match cc.send(&chunk[..want]) {
                Ok(n) if n > 0 => sent += n as u64,
                _ => break,
            }
        }
        if sent == bytes && !closed {
            cc.close(now);
            closed = true;
        }
        let sc = w.conn(Side::B, s);
        loop {
            match sc.recv(&mut inbuf) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => received += n as u64,
                Err(_) => break,
            }
        }
        eof
    })?;
    let segments = w.conn(Side::A, c).stats().segs_out + w.conn(Side::B, s).stats().segs_out;
    if received != bytes {
        return Err(WorldError {
            seed,
            at: w.now,
            what: format!("received {received} of {bytes} bytes"),
        });
    }
    Ok(BulkResult {
        bytes: received,
        segments,
        steps: w.steps(),
    })
}
