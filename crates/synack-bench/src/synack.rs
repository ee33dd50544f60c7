//! synack's runs: two hosts (the whole stack: IP, demux, listeners,
//! connections) joined by the in-memory [`Wire`], driven by the wall clock.

use crate::wire::{End, Wire};
use crate::{check_pattern, chunk, Bulk, Rate};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Instant as WallClock;
use synack_stack::{Handle, Host, HostConfig};
use synack_tcp::{Config, Error};
use synack_time::Instant;

pub const A_ADDR: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 77, 0, 1));
pub const B_ADDR: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 77, 0, 2));

/// Connections per listening port, so that no run runs out of 4-tuples.
pub const PER_PORT: usize = 10_000;

/// Host A (the client) and host B (the server) on one wire.
pub struct Pair {
    pub a: Host,
    pub b: Host,
    pub wire: Wire,
    start: WallClock,
}

impl Pair {
    /// Two hosts on a link of `mtu` bytes with these TCP settings; with
    /// `checksums` false they leave TCP checksums to the (perfect) wire.
    pub fn new(mtu: usize, tcp: Config, checksums: bool) -> Pair {
        let host = |addr, key: u8| {
            let mut cfg = HostConfig::new(addr);
            cfg.mtu = mtu;
            cfg.checksum_offload = !checksums;
            cfg.tcp = tcp.clone();
            Host::new(cfg, [key; 32])
        };
        Pair {
            a: host(A_ADDR, 1),
            b: host(B_ADDR, 2),
            wire: Wire::new(mtu),
            start: WallClock::now(),
        }
    }

    /// The wall clock, as the stack's time.
    pub fn now(&self) -> Instant {
        Instant::from_micros(self.start.elapsed().as_micros() as u64)
    }

    /// Runs due timers, then moves every packet A has to B and every
    /// packet B has (including its answers) to A.
    pub fn pump(&mut self, now: Instant) {
        step(&mut self.a, &mut self.b, &self.wire, End::A, now);
        step(&mut self.b, &mut self.a, &self.wire, End::B, now);
        // An application takes the events; these runs need none of them.
        while self.a.poll_event().is_some() {}
        while self.b.poll_event().is_some() {}
    }

    /// Opens one listener on `port` of B, with room for any backlog.
    pub fn listen(&mut self, port: u16) -> Result<Handle, String> {
        let now = self.now();
        self.b
            .listen_on(now, SocketAddr::new(B_ADDR, port), 65535, None)
            .map_err(|e| format!("synack: listen on {port}: {e}"))
    }

    /// A connects to `port` on B.
    pub fn connect(&mut self, port: u16) -> Result<Handle, String> {
        let now = self.now();
        self.a
            .connect(now, SocketAddr::new(B_ADDR, port))
            .map_err(|e| format!("synack: connect to {port}: {e}"))
    }
}

/// `host` runs its due timers and sends all it has; `peer` takes it in.
fn step(host: &mut Host, peer: &mut Host, wire: &Wire, from: End, now: Instant) {
    if host.poll_timeout().is_some_and(|t| t <= now) {
        host.handle_timeout(now);
    }
    transmit(host, wire, from, now);
    let to = if from == End::A { End::B } else { End::A };
    while let Some(p) = wire.recv(to) {
        peer.handle_packet(now, p.bytes());
        wire.recycle(p.buf);
    }
}

fn transmit(host: &mut Host, wire: &Wire, from: End, now: Instant) {
    loop {
        let mut buf = wire.buffer();
        match host.poll_transmit(now, &mut buf) {
            Ok(Some(n)) => wire.send(from, buf, n),
            _ => {
                wire.recycle(buf);
                return;
            }
        }
    }
}

/// The TCP settings of a bulk run: 1 MiB buffers, as smoltcp gets.
pub fn bulk_config() -> Config {
    Config {
        send_buffer: 1 << 20,
        recv_buffer: 1 << 20,
        ..Config::default()
    }
}

/// Moves `bytes` from A to B over a link of `mtu`, then closes.
pub fn bulk(bytes: u64, mtu: usize, checksums: bool) -> Result<Bulk, String> {
    let mut p = Pair::new(mtu, bulk_config(), checksums);
    let listener = p.listen(9)?;
    let start = WallClock::now();
    let c = p.connect(9)?;
    let data = chunk();
    let mut inbuf = vec![0u8; 65536];
    let (mut sent, mut received) = (0u64, 0u64);
    let mut server = None;
    let mut closed = false;
    let mut idle_rounds = 0;
    loop {
        let now = p.now();
        if !closed {
            let conn = p.a.conn_mut(c).ok_or("synack: the client vanished")?;
            while sent < bytes {
                let from = (sent % data.len() as u64) as usize;
                let want = ((bytes - sent) as usize).min(data.len() - from);
                match conn.send(&data[from..from + want]) {
                    Ok(n) if n > 0 => sent += n as u64,
                    _ => break,
                }
            }
            // RFC 9293 §3.10.4: CLOSE in SYN-SENT drops what is queued.
            if sent == bytes && conn.state().is_synchronized() {
                p.a.close(now, c);
                closed = true;
            }
        }
        if server.is_none() {
            server = p.b.accept(listener);
        }
        if let Some(s) = server {
            let conn = p.b.conn_mut(s).ok_or("synack: the server vanished")?;
            loop {
                match conn.recv(&mut inbuf) {
                    Ok(0) => {
                        if received != bytes {
                            return Err(format!("synack: EOF after {received} of {bytes} bytes"));
                        }
                        let elapsed = start.elapsed();
                        p.b.close(now, s);
                        return Ok(Bulk {
                            bytes,
                            elapsed,
                            packets: p.wire.packets(),
                        });
                    }
                    Ok(n) => {
                        if !check_pattern(received, &inbuf[..n]) {
                            return Err(format!("synack: wrong bytes at offset {received}"));
                        }
                        received += n as u64;
                    }
                    Err(Error::WouldBlock) => break,
                    Err(e) => return Err(format!("synack: server recv: {e}")),
                }
            }
        }
        let before = p.wire.packets();
        p.pump(now);
        idle_rounds = if p.wire.packets() == before {
            idle_rounds + 1
        } else {
            0
        };
        if idle_rounds > 10_000_000 {
            return Err(format!("synack: stalled at {received} of {bytes} bytes"));
        }
    }
}

/// Opens `n` connections one after another; on each A sends one byte, B
/// reads it and closes, A reads the end and closes. A connection counts
/// once nothing more crosses the wire for it.
pub fn rate(n: usize) -> Result<Rate, String> {
    let tcp = Config {
        send_buffer: 4096,
        recv_buffer: 4096,
        ..Config::default()
    };
    let mut p = Pair::new(1500, tcp, true);
    let ports = n.div_ceil(PER_PORT);
    let listeners = (0..ports)
        .map(|i| p.listen(9 + i as u16))
        .collect::<Result<Vec<_>, _>>()?;
    let mut byte = [0u8; 16];
    let start = WallClock::now();
    for i in 0..n {
        let port = 9 + (i / PER_PORT) as u16;
        let c = p.connect(port)?;
        let mut s = None;
        let (mut wrote, mut server_done, mut client_done) = (false, false, false);
        let mut rounds = 0;
        while !(client_done && p.wire.is_idle()) {
            rounds += 1;
            if rounds > 1_000_000 {
                return Err(format!("synack: connection {i} never finished"));
            }
            let now = p.now();
            if !wrote {
                let conn = p.a.conn_mut(c).ok_or("synack: the client vanished")?;
                wrote = conn.send(b"x") == Ok(1);
            }
            if s.is_none() {
                s = p.b.accept(listeners[i / PER_PORT]);
            }
            if let (Some(h), false) = (s, server_done) {
                let conn = p.b.conn_mut(h).ok_or("synack: the server vanished")?;
                if conn.recv(&mut byte) == Ok(1) {
                    p.b.close(now, h);
                    server_done = true;
                }
            }
            if server_done && !client_done {
                let conn = p.a.conn_mut(c).ok_or("synack: the client vanished")?;
                if conn.recv(&mut byte) == Ok(0) {
                    p.a.close(now, c);
                    client_done = true;
                }
            }
            p.pump(now);
        }
    }
    Ok(Rate {
        connections: n,
        elapsed: start.elapsed(),
    })
}

/// Opens `n` connections and leaves them idle and established; returns
/// the pair, so that the caller can count what it holds.
pub fn idle(n: usize) -> Result<(Pair, Vec<Handle>), String> {
    let tcp = Config {
        send_buffer: 4096,
        recv_buffer: 4096,
        ..Config::default()
    };
    let mut p = Pair::new(1500, tcp, true);
    let listeners = (0..n.div_ceil(PER_PORT))
        .map(|i| p.listen(9 + i as u16))
        .collect::<Result<Vec<_>, _>>()?;
    let mut handles = Vec::with_capacity(2 * n);
    let mut accepted = 0;
    let mut opened = 0;
    while accepted < n {
        let batch_end = (opened + 1000).min(n);
        while opened < batch_end {
            handles.push(p.connect(9 + (opened / PER_PORT) as u16)?);
            opened += 1;
        }
        let mut rounds = 0;
        while accepted < opened {
            let now = p.now();
            p.pump(now);
            for &l in &listeners {
                while let Some(h) = p.b.accept(l) {
                    handles.push(h);
                    accepted += 1;
                }
            }
            rounds += 1;
            if rounds > 100_000 {
                return Err(format!("synack: only {accepted} of {opened} accepted"));
            }
        }
    }
    Ok((p, handles))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_bulk_run_arrives_whole() {
        let r = bulk(300_000, 1500, true).unwrap();
        assert_eq!(r.bytes, 300_000);
        assert!(r.packets > 200, "{r:?}");
        // All of it fits in the send buffer before the handshake ends.
        assert_eq!(bulk(1 << 20, 65535, false).unwrap().bytes, 1 << 20);
    }

    #[test]
    fn connections_open_and_close_one_after_another() {
        assert_eq!(rate(20).unwrap().connections, 20);
    }

    #[test]
    fn idle_connections_are_established_on_both_sides() {
        let (p, handles) = idle(50).unwrap();
        assert_eq!(handles.len(), 100);
        assert!(p.wire.is_idle());
    }
}
