//! The cost of one exchange beside many idle connections (`synack bench
//! scale`): a host pair holds `idle` established connections, and one more
//! connection trades a 1000-byte request and a 1000-byte response over and
//! over. Set-up is done here; the caller times `exchange` with a wall
//! clock (the simulation itself runs on virtual time).
//!
//! The stack's per-event work is O(1) in the number of connections (its
//! timer heap and ready queue; the `scale` test counts it). This measures
//! what remains in wall time: cache and hash-table effects of a large
//! connection table.

use crate::world::{World, WorldConfig, WorldError};
use std::net::SocketAddr;
use synack_device::{LinkConfig, Side};
use synack_stack::Handle;
use synack_tcp::{Config, Duration};

/// Listening ports the idle connections are spread over (each 4-tuple
/// space has 16,384 ephemeral ports).
const PORTS: u16 = 16;
const MESSAGE: usize = 1000;

/// A host pair with idle connections and one busy one.
pub struct ScaleBench {
    world: World,
    client: Handle,
    server: Handle,
    message: Vec<u8>,
    buf: Vec<u8>,
}

impl ScaleBench {
    /// Opens `idle` connections (accepted, then left alone) and the busy one.
    pub fn new(idle: usize) -> Result<ScaleBench, WorldError> {
        let tcp = Config {
            send_buffer: 16 * 1024,
            recv_buffer: 16 * 1024,
            ..Config::default()
        };
        let mut cfg = WorldConfig::new(1, LinkConfig::ideal().with_delay(Duration::from_millis(1)));
        cfg.trace = false;
        cfg.client_tcp = tcp.clone();
        cfg.server_tcp = tcp;
        cfg.max_steps = u64::MAX;
        let mut w = World::new(cfg);
        let now = w.now;
        let mut listeners = Vec::new();
        for p in 0..=PORTS {
            let to = w.server_addr(1000 + p);
            let l = w
                .server
                .listen_on(now, to, 65535, None)
                .map_err(|e| w_error(&w, format!("listen: {e}")))?;
            listeners.push(l);
        }
        let mut opened = 0;
        let mut accepted = 0;
        while opened < idle {
            let batch = (idle - opened).min(10_000);
            let now = w.now;
            for _ in 0..batch {
                let to = w.server_addr(1000 + (opened % PORTS as usize) as u16);
                w.client
                    .connect(now, to)
                    .map_err(|e| w_error(&w, format!("connect #{opened}: {e}")))?;
                opened += 1;
            }
            w.run_until(|w| {
                for &l in &listeners {
                    while w.server.accept(l).is_some() {
                        accepted += 1;
                    }
                }
                accepted == opened
            })?;
        }
        // The busy connection, on a port of its own.
        let now = w.now;
        let to: SocketAddr = w.server_addr(1000 + PORTS);
        let client = w
            .client
            .connect(now, to)
            .map_err(|e| w_error(&w, format!("connect: {e}")))?;
        let busy = listeners[PORTS as usize];
        let mut server = None;
        w.run_until(|w| {
            server = server.or_else(|| w.server.accept(busy));
            server.is_some()
        })?;
        // Let the handshakes' last ACKs and timers settle.
        w.run_for(Duration::from_secs(1))?;
        Ok(ScaleBench {
            world: w,
            client,
            server: server.expect("accepted"),
            message: vec![0x5a; MESSAGE],
            buf: vec![0; 4 * MESSAGE],
        })
    }

    /// Connections open on each host, the busy one included.
    pub fn connections(&self) -> usize {
        self.world.client.handles().len()
    }

    /// One request from client to server and its response, each read by
    /// the other application; returns the segments both sides sent.
    pub fn exchange(&mut self) -> Result<u64, WorldError> {
        let (c, s) = (self.client, self.server);
        let before = self.segments();
        let w = &mut self.world;
        if w.conn(Side::A, c).send(&self.message) != Ok(MESSAGE) {
            return Err(w_error(w, "the request did not fit".into()));
        }
        let buf = &mut self.buf;
        let mut got = 0;
        w.run_until(|w| {
            got += w.conn(Side::B, s).recv(buf).unwrap_or(0);
            got == MESSAGE
        })?;
        if w.conn(Side::B, s).send(&self.message) != Ok(MESSAGE) {
            return Err(w_error(w, "the response did not fit".into()));
        }
        let mut got = 0;
        w.run_until(|w| {
            got += w.conn(Side::A, c).recv(buf).unwrap_or(0);
            got == MESSAGE
        })?;
        Ok(self.segments() - before)
    }

    fn segments(&mut self) -> u64 {
        let (c, s) = (self.client, self.server);
        self.world.conn(Side::A, c).stats().segs_out + self.world.conn(Side::B, s).stats().segs_out
    }
}

fn w_error(w: &World, what: String) -> WorldError {
    WorldError {
        seed: w.seed(),
        at: w.now,
        what,
    }
}
