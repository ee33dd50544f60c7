//! Two hosts on a simulated link, driven through the device seam
//! (`Host::pump` over `LinkEnd`), on virtual time.
#![allow(dead_code)]

use std::net::{IpAddr, SocketAddr};
use synack_device::{Link, LinkConfig, LinkEnd, Side};
use synack_stack::{Handle, Host, HostConfig, HostEvent};
use synack_tcp::{Duration, Instant, IsnSecret, State};
use synack_wire::{IpRepr, TcpFlags, TcpOptions, TcpRepr};

pub const A: &str = "10.77.0.1";
pub const B: &str = "10.77.0.2";

pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

pub fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// A host config with a fixed ISN key (so runs replay).
pub fn config(addr: &str) -> HostConfig {
    let mut c = HostConfig::new(ip(addr));
    c.isn_secret = Some(IsnSecret::from_seed(addr.len() as u64));
    c
}

pub struct Net {
    pub now: Instant,
    pub link: Link,
    pub a: Host,
    pub b: Host,
    buf: Vec<u8>,
    /// Events of each host, as they came.
    pub events_a: Vec<HostEvent>,
    pub events_b: Vec<HostEvent>,
    /// Keep events (off for the scale tests).
    pub keep_events: bool,
}

impl Net {
    pub fn new(link: LinkConfig, mut a: HostConfig, mut b: HostConfig) -> Net {
        a.mtu = link.mtu;
        b.mtu = link.mtu;
        Net {
            now: Instant::ZERO,
            link: Link::symmetric(link, 7),
            a: Host::new(a, [1; 32]),
            b: Host::new(b, [2; 32]),
            buf: Vec::new(),
            events_a: Vec::new(),
            events_b: Vec::new(),
            keep_events: true,
        }
    }

    /// Two IPv4 hosts on a 1 ms link.
    pub fn pair() -> Net {
        Net::new(
            LinkConfig::ideal().with_delay(Duration::from_millis(1)),
            config(A),
            config(B),
        )
    }

    pub fn host(&mut self, side: Side) -> &mut Host {
        match side {
            Side::A => &mut self.a,
            Side::B => &mut self.b,
        }
    }

    fn pump(&mut self) {
        let now = self.now;
        for side in [Side::A, Side::B] {
            let host = match side {
                Side::A => &mut self.a,
                Side::B => &mut self.b,
            };
            let mut dev = LinkEnd::new(&mut self.link, side, &mut self.buf);
            host.pump(now, &mut dev).expect("pump");
            let (host, events) = match side {
                Side::A => (&mut self.a, &mut self.events_a),
                Side::B => (&mut self.b, &mut self.events_b),
            };
            while let Some(e) = host.poll_event() {
                if self.keep_events {
                    events.push(e);
                }
            }
        }
    }

    /// The next moment anything happens.
    pub fn next(&self) -> Option<Instant> {
        [
            self.link.next_deadline(),
            self.a.poll_timeout(),
            self.b.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Handles everything due now, then moves to the next moment. False
    /// when nothing is left to happen.
    pub fn step(&mut self) -> bool {
        self.pump();
        let Some(t) = self.next() else {
            return false;
        };
        self.now = self.now.max(t);
        self.pump();
        true
    }

    /// Steps until `done` holds; panics after `limit` of virtual time.
    pub fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&mut Net) -> bool) {
        let end = self.now + limit;
        loop {
            self.pump();
            if done(self) {
                return;
            }
            match self.next() {
                Some(t) if t <= end => self.now = self.now.max(t),
                _ => panic!("condition not reached by {}", end),
            }
        }
    }

    /// Steps until virtual time reaches `now + d`.
    pub fn run_for(&mut self, d: Duration) {
        let end = self.now + d;
        loop {
            self.pump();
            match self.next() {
                Some(t) if t <= end => self.now = self.now.max(t),
                _ => {
                    self.now = self.now.max(end);
                    self.pump();
                    return;
                }
            }
        }
    }

    /// listen on B, connect from A, accept on B: (client, server, listener).
    pub fn open(&mut self, port: u16) -> (Handle, Handle, Handle) {
        let now = self.now;
        let l = self.b.listen(now, port).unwrap();
        let remote = SocketAddr::new(self.b.addr(), port);
        let c = self.a.connect(now, remote).unwrap();
        let mut s = None;
        self.run_until(Duration::from_secs(10), |n| {
            if s.is_none() {
                s = n.b.accept(l);
            }
            s.is_some() && n.a.conn(c).map(|c| c.state()) == Some(State::Established)
        });
        (c, s.unwrap(), l)
    }

    /// Puts a packet on the wire as if `from` sent it.
    pub fn inject(&mut self, from: Side, packet: &[u8]) {
        self.link.send(self.now, from, packet);
    }

    /// Every TCP segment delivered to `to` from now until `d` later, as
    /// (flags, seq, ack, payload length).
    pub fn segments_to(&mut self, to: Side, d: Duration) -> Vec<(TcpFlags, u32, u32, usize)> {
        let end = self.now + d;
        let mut out = Vec::new();
        loop {
            while let Some(del) = self.link.poll_deliver_to(self.now, to) {
                if let Ok((ip, payload)) = IpRepr::parse(&del.data) {
                    if let Ok(seg) = TcpRepr::parse(payload, ip.src(), ip.dst(), true) {
                        out.push((seg.flags, seg.seq, seg.ack, seg.payload.len()));
                    }
                }
                let now = self.now;
                self.host(to).handle_packet(now, &del.data);
            }
            self.pump();
            match self.next() {
                Some(t) if t <= end => self.now = self.now.max(t),
                _ => {
                    self.now = self.now.max(end);
                    return out;
                }
            }
        }
    }
}

/// A hand-made TCP segment in an IP packet.
#[allow(clippy::too_many_arguments)]
pub fn packet(
    src: SocketAddr,
    dst: SocketAddr,
    seq: u32,
    ack: u32,
    flags: TcpFlags,
    window: u16,
    options: TcpOptions,
    payload: &[u8],
) -> Vec<u8> {
    let repr = TcpRepr {
        src_port: src.port(),
        dst_port: dst.port(),
        seq,
        ack,
        flags,
        window,
        urgent: 0,
        options,
        payload,
    };
    let mut buf = vec![0u8; 1600];
    let n = synack_stack::write_packet(&mut buf, src.ip(), dst.ip(), &repr).unwrap();
    buf.truncate(n);
    buf
}

/// Sends and reads until `n` bytes went from `from` to `to`.
pub fn transfer(net: &mut Net, from: (Side, Handle), to: (Side, Handle), n: usize) -> Vec<u8> {
    let data: Vec<u8> = (0..n).map(|i| (i * 7 + i / 251) as u8).collect();
    let mut sent = 0;
    let mut got = Vec::with_capacity(n);
    let mut buf = vec![0u8; 65536];
    net.run_until(Duration::from_secs(600), |net| {
        if sent < n {
            if let Ok(k) = net
                .host(from.0)
                .conn_mut(from.1)
                .unwrap()
                .send(&data[sent..])
            {
                sent += k;
            }
        }
        while let Ok(k) = net.host(to.0).conn_mut(to.1).unwrap().recv(&mut buf) {
            if k == 0 {
                break;
            }
            got.extend_from_slice(&buf[..k]);
        }
        got.len() >= n
    });
    assert_eq!(got, data, "the bytes arrived intact and in order");
    got
}
