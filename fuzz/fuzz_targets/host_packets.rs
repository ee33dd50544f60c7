//! Fuzz a whole host (`synack_stack::Host`): arbitrary packets, ICMP
//! errors, timers and application calls against a host with a listener,
//! connections in every state, a SYN queue, SYN cookies, orphans and a
//! TIME-WAIT table.
//!
//! Two hosts share an in-memory wire: A (10.77.0.1, fd00::1) is a
//! well-behaved peer the script can make connect and talk; B (10.77.0.2,
//! fd00::2) is the host under attack, with small limits (SYN backlog,
//! orphans, TIME-WAIT entries, buffers) chosen by the first bytes so that
//! every bound is reached. The rest of the input is a loop of operations:
//!
//! * raw bytes handed to B as a packet;
//! * a TCP segment built from the input (any source, any flags, sequence
//!   numbers raw or near a live connection's, options, payload) to B;
//! * A connects to B (open port, closed port, IPv4 or IPv6);
//! * packets on the wire delivered, some with a bit flipped;
//! * time advances and both hosts' timers fire;
//! * B accepts; B's or A's application sends, reads, shuts down, closes,
//!   lets go, resizes its buffers;
//! * an ICMP error (unreachable, packet too big, v4 or v6) quoting a packet
//!   B sent, perhaps altered;
//! * B's listener is closed and opened again.
//!
//! After every operation both hosts are drained and what holds by design
//! is checked:
//!
//! * nothing panics;
//! * `poll_transmit` runs dry within a bound, and every packet parses, with
//!   a valid TCP checksum when it is TCP;
//! * every connection's `check_invariants()` is Ok;
//! * the listener's queues stay within its backlog and SYN queue, orphans
//!   within `max_orphans`, TIME-WAIT within `max_time_wait`.
#![no_main]

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};

use libfuzzer_sys::fuzz_target;
use synack_stack::{Handle, Host, HostConfig};
use synack_tcp::{Config, Duration, Instant, IsnSecret};
use synack_wire::{
    Icmpv4Repr, Icmpv6Repr, IpProtocol, IpRepr, SackBlock, TcpFlags, TcpOptions, TcpRepr,
};

const A4: &str = "10.77.0.1";
const B4: &str = "10.77.0.2";
const A6: &str = "fd00::1";
const B6: &str = "fd00::2";
/// Packets a host may send in one drain before it is called a livelock.
const DRAIN_BOUND: usize = 20_000;
/// Packets kept on the wire per direction.
const WIRE_BOUND: usize = 512;

struct Input<'a> {
    data: &'a [u8],
}

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }
    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.byte(), self.byte()])
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }
    fn bytes(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.data.len());
        let (a, b) = self.data.split_at(n);
        self.data = b;
        a
    }
    fn done(&self) -> bool {
        self.data.is_empty()
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn host_config(v4: &str, v6: &str, tcp: Config) -> HostConfig {
    let mut c = HostConfig::new(ip(v4));
    c.addresses.push((ip(v6), 64));
    c.tcp = tcp;
    c.isn_secret = Some(IsnSecret::from_seed(v4.len() as u64));
    c
}

struct World {
    now: Instant,
    a: Host,
    b: Host,
    to_a: VecDeque<Vec<u8>>,
    to_b: VecDeque<Vec<u8>>,
    buf: Vec<u8>,
    /// The last packet B sent (for ICMP quotes).
    last_from_b: Vec<u8>,
    listener: Option<Handle>,
    backlog: usize,
    syn_max: usize,
    a_conns: Vec<Handle>,
    b_conns: Vec<Handle>,
    max_orphans: usize,
    max_time_wait: usize,
}

impl World {
    fn drain(&mut self) {
        for side in [false, true] {
            let (host, wire) = if side {
                (&mut self.b, &mut self.to_a)
            } else {
                (&mut self.a, &mut self.to_b)
            };
            let mut sent = 0;
            loop {
                let n = match host.poll_transmit(self.now, &mut self.buf) {
                    Ok(Some(n)) => n,
                    Ok(None) => break,
                    Err(e) => panic!("a 2 KiB buffer is too small: {e:?}"),
                };
                sent += 1;
                assert!(sent < DRAIN_BOUND, "poll_transmit never runs dry");
                let pkt = &self.buf[..n];
                let (ip, payload) = IpRepr::parse(pkt).expect("the host sent a bad IP packet");
                if ip.protocol() == IpProtocol::Tcp {
                    TcpRepr::parse(payload, ip.src(), ip.dst(), true)
                        .expect("the host sent a bad TCP segment");
                }
                if side {
                    self.last_from_b.clear();
                    self.last_from_b.extend_from_slice(pkt);
                }
                if wire.len() < WIRE_BOUND {
                    wire.push_back(pkt.to_vec());
                }
            }
            while host.poll_event().is_some() {}
        }
    }

    fn check(&self) {
        for (host, name) in [(&self.a, "A"), (&self.b, "B")] {
            for h in host.handles() {
                if let Some(c) = host.conn(h) {
                    if let Err(e) = c.check_invariants() {
                        panic!("{name}: connection invariant broken: {e}");
                    }
                }
            }
        }
        if let Some(l) = self.listener {
            if let Some((accept, syn)) = self.b.listener_queues(l) {
                assert!(
                    accept <= self.backlog,
                    "accept queue {accept} > {}",
                    self.backlog
                );
                assert!(syn <= self.syn_max, "SYN queue {syn} > {}", self.syn_max);
            }
        }
        assert!(
            self.b.orphans() <= self.max_orphans,
            "orphans over the limit"
        );
        assert!(
            self.b.time_wait_len() <= self.max_time_wait,
            "TIME-WAIT over the limit"
        );
    }

    fn pick(list: &[Handle], i: u8) -> Option<Handle> {
        if list.is_empty() {
            None
        } else {
            Some(list[i as usize % list.len()])
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input { data };
    let setup = inp.byte();
    let small = |b: u8| 512 + (b as usize % 16) * 512;
    let tcp_b = Config {
        send_buffer: small(inp.byte()),
        recv_buffer: small(inp.byte()),
        sack: setup & 1 != 0,
        timestamps: setup & 2 != 0,
        window_scaling: setup & 4 != 0,
        synack_retries: u32::from(inp.byte() % 4),
        ..Config::default()
    };
    let tcp_a = Config {
        send_buffer: 4096,
        recv_buffer: 4096,
        ..Config::default()
    };
    let mut cb = host_config(B4, B6, tcp_b);
    cb.syn_backlog = 1 + inp.byte() as usize % 8;
    cb.syncookies = setup & 8 != 0;
    cb.max_orphans = 1 + inp.byte() as usize % 4;
    cb.max_time_wait = 1 + inp.byte() as usize % 8;
    cb.challenge_ack_limit = 1 + u32::from(inp.byte() % 16);
    let backlog = 1 + inp.byte() as usize % 4;
    let mut w = World {
        now: Instant::ZERO,
        a: Host::new(host_config(A4, A6, tcp_a), [1; 32]),
        b: Host::new(cb.clone(), [2; 32]),
        to_a: VecDeque::new(),
        to_b: VecDeque::new(),
        buf: vec![0; 2048],
        last_from_b: Vec::new(),
        listener: None,
        backlog,
        syn_max: cb.syn_backlog.min(backlog),
        a_conns: Vec::new(),
        b_conns: Vec::new(),
        max_orphans: cb.max_orphans,
        max_time_wait: cb.max_time_wait,
    };
    let any4 = SocketAddr::new(ip("0.0.0.0"), 80);
    w.listener = w.b.listen_on(w.now, any4, backlog, None).ok();

    let mut ops = 0;
    while !inp.done() && ops < 400 {
        ops += 1;
        match inp.byte() % 10 {
            0 => {
                let n = inp.byte() as usize * 2;
                let raw = inp.bytes(n).to_vec();
                let now = w.now;
                w.b.handle_packet(now, &raw);
            }
            1 => {
                let v6 = inp.byte() & 1 != 0;
                let src_ip = match inp.byte() % 3 {
                    0 if v6 => ip(A6),
                    0 => ip(A4),
                    1 if v6 => ip("fd00::50"),
                    1 => ip("10.77.0.50"),
                    _ if v6 => ip("2001:db8::9"),
                    _ => ip("192.0.2.9"),
                };
                let dst_ip = if v6 { ip(B6) } else { ip(B4) };
                // Near a live connection of B's, or anywhere.
                let near = World::pick(&w.b_conns, inp.byte()).and_then(|h| w.b.conn(h));
                let (mut src_port, mut dst_port, mut seq, mut ack) = (
                    inp.u16(),
                    80 + u16::from(inp.byte() % 2),
                    inp.u32(),
                    inp.u32(),
                );
                if let (Some(c), true) = (near, inp.byte() & 1 != 0) {
                    let i = c.info();
                    if i.remote.ip() == src_ip {
                        src_port = i.remote.port();
                        dst_port = i.local.port();
                        seq = i.rcv_nxt.0.wrapping_add(seq % 4096).wrapping_sub(2048);
                        ack = i.snd_una.0.wrapping_add(ack % 4096).wrapping_sub(1024);
                    }
                }
                let flags = TcpFlags(inp.byte());
                let window = inp.u16();
                let o = inp.byte();
                let mut options = TcpOptions::default();
                if o & 1 != 0 {
                    options.mss = Some(inp.u16());
                }
                if o & 2 != 0 {
                    options.window_scale = Some(inp.byte());
                }
                options.sack_permitted = o & 4 != 0;
                if o & 8 != 0 {
                    options.timestamps = Some((inp.u32(), inp.u32()));
                }
                if o & 16 != 0 {
                    let (l, r) = (inp.u32(), inp.u32());
                    options.push_sack_block(SackBlock { left: l, right: r });
                }
                let len = inp.byte() as usize % 96;
                let payload = inp.bytes(len).to_vec();
                let repr = TcpRepr {
                    src_port,
                    dst_port,
                    seq,
                    ack,
                    flags,
                    window,
                    urgent: inp.u16(),
                    options,
                    payload: &payload,
                };
                let mut pkt = vec![0u8; 1600];
                if let Some(n) = synack_stack::write_packet(&mut pkt, src_ip, dst_ip, &repr) {
                    let now = w.now;
                    w.b.handle_packet(now, &pkt[..n]);
                }
            }
            2 => {
                let b = inp.byte();
                let ip_ = if b & 1 != 0 { ip(B6) } else { ip(B4) };
                let port = if b & 2 != 0 { 81 } else { 80 };
                let now = w.now;
                if let Ok(h) = w.a.connect(now, SocketAddr::new(ip_, port)) {
                    if w.a_conns.len() < 64 {
                        w.a_conns.push(h);
                    }
                }
            }
            3 => {
                let k = 1 + inp.byte() as usize % 32;
                let flip = inp.byte();
                let at = inp.u16() as usize;
                for _ in 0..k {
                    let now = w.now;
                    if let Some(mut p) = w.to_b.pop_front() {
                        if flip & 0x80 != 0 && !p.is_empty() {
                            let i = at % p.len();
                            p[i] ^= 1 << (flip & 7);
                        }
                        w.b.handle_packet(now, &p);
                    }
                    if let Some(p) = w.to_a.pop_front() {
                        w.a.handle_packet(now, &p);
                    }
                    w.drain();
                }
            }
            4 => {
                let step = u64::from(inp.byte());
                w.now += Duration::from_millis(step * step * 4);
                let now = w.now;
                w.a.handle_timeout(now);
                w.b.handle_timeout(now);
            }
            5 => {
                if let Some(l) = w.listener {
                    while let Some(h) = w.b.accept(l) {
                        if w.b_conns.len() < 64 {
                            w.b_conns.push(h);
                        }
                    }
                }
            }
            6 | 7 => {
                let on_b = inp.byte() & 1 != 0;
                let which = inp.byte();
                let call = inp.byte();
                let n = inp.u16() as usize % 8192;
                let now = w.now;
                let (host, list) = if on_b {
                    (&mut w.b, &mut w.b_conns)
                } else {
                    (&mut w.a, &mut w.a_conns)
                };
                let Some(h) = World::pick(list, which) else {
                    continue;
                };
                match call % 7 {
                    0 => {
                        if let Some(c) = host.conn_mut(h) {
                            let _ = c.send(&vec![0x61; n]);
                        }
                    }
                    1 => {
                        if let Some(c) = host.conn_mut(h) {
                            let _ = c.recv(&mut vec![0; n]);
                        }
                    }
                    2 => {
                        if let Some(c) = host.conn_mut(h) {
                            c.shutdown(now);
                        }
                    }
                    3 => {
                        host.close(now, h);
                        list.retain(|&x| x != h);
                    }
                    4 => {
                        host.release(now, h);
                        list.retain(|&x| x != h);
                    }
                    5 => {
                        if let Some(c) = host.conn_mut(h) {
                            c.set_buffer_sizes(n, inp.u16() as usize);
                        }
                    }
                    _ => {
                        if let Some(c) = host.conn_mut(h) {
                            c.abort(now);
                        }
                    }
                }
            }
            8 => {
                if w.last_from_b.is_empty() {
                    continue;
                }
                let mut quoted = w.last_from_b.clone();
                let keep = 8 + inp.byte() as usize;
                quoted.truncate(keep.min(quoted.len()));
                if inp.byte() & 1 != 0 && !quoted.is_empty() {
                    let i = inp.u16() as usize % quoted.len();
                    quoted[i] ^= inp.byte();
                }
                let code = inp.byte() % 16;
                let mtu = inp.u16();
                let Ok((orig, _)) = IpRepr::parse(&w.last_from_b) else {
                    continue;
                };
                let router = if orig.dst().is_ipv4() {
                    ip("10.77.0.254")
                } else {
                    ip("fd00::fe")
                };
                let body = match orig.dst() {
                    IpAddr::V4(_) => {
                        let m = Icmpv4Repr::DstUnreachable {
                            code,
                            next_hop_mtu: mtu,
                            original: &quoted,
                        };
                        let mut b = vec![0u8; m.buffer_len()];
                        m.emit(&mut b);
                        b
                    }
                    IpAddr::V6(to) => {
                        let IpAddr::V6(from) = router else { continue };
                        let m = if code & 1 != 0 {
                            Icmpv6Repr::PacketTooBig {
                                mtu: u32::from(mtu),
                                original: &quoted,
                            }
                        } else {
                            Icmpv6Repr::DstUnreachable {
                                code: code % 8,
                                original: &quoted,
                            }
                        };
                        let mut b = vec![0u8; m.buffer_len()];
                        m.emit(&mut b, from, to);
                        b
                    }
                };
                let proto = if router.is_ipv4() {
                    IpProtocol::Icmp
                } else {
                    IpProtocol::Icmpv6
                };
                let dst = orig.src();
                let hdr = IpRepr::new(router, dst, proto, body.len(), 64);
                let mut pkt = vec![0u8; hdr.header_len() + body.len()];
                hdr.emit(&mut pkt[..hdr.header_len()]);
                pkt[hdr.header_len()..].copy_from_slice(&body);
                let now = w.now;
                w.b.handle_packet(now, &pkt);
            }
            _ => {
                let now = w.now;
                match w.listener.take() {
                    Some(l) => w.b.close_listener(now, l),
                    None => {
                        w.backlog = 1 + inp.byte() as usize % 4;
                        w.syn_max = cb.syn_backlog.min(w.backlog);
                        w.listener = w.b.listen_on(now, any4, w.backlog, None).ok();
                    }
                }
            }
        }
        w.drain();
        w.check();
    }
});
