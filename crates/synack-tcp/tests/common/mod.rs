//! What the engine tests share: segments as owned values, a way to feed
//! and drain one connection, a zero-delay pair, and a timed path (delay,
//! bandwidth, chosen losses) on a virtual clock.
#![allow(dead_code)]

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::{IpAddr, SocketAddr};
use synack_tcp::{Config, Connection, Duration, Event, Instant, IsnSecret, SegmentKind, State};
use synack_wire::{TcpFlags, TcpHeader, TcpOptions, TcpRepr};

pub const ACK: TcpFlags = TcpFlags::ACK;
pub const SYN: TcpFlags = TcpFlags::SYN;
pub const RST: TcpFlags = TcpFlags::RST;
pub const FIN: TcpFlags = TcpFlags::FIN;
pub const PSH: TcpFlags = TcpFlags::PSH;

pub fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

pub const CLIENT: &str = "10.0.0.1:40000";
pub const SERVER: &str = "10.0.0.2:80";

/// A segment as it left a connection (owned, for assertions): the shared
/// header type and the payload bytes. It reads as its header (`out.seq`).
#[derive(Clone, Debug, PartialEq)]
pub struct Out {
    pub header: TcpHeader,
    pub payload: Vec<u8>,
    pub kind: Option<SegmentKind>,
}

impl std::ops::Deref for Out {
    type Target = TcpHeader;

    fn deref(&self) -> &TcpHeader {
        &self.header
    }
}

impl std::ops::DerefMut for Out {
    fn deref_mut(&mut self) -> &mut TcpHeader {
        &mut self.header
    }
}

impl Out {
    pub fn repr(&self) -> TcpRepr<'_> {
        self.header.with_payload(&self.payload)
    }

    pub fn len(&self) -> usize {
        self.payload.len()
    }

    /// Sequence space: payload, SYN and FIN.
    pub fn space(&self) -> u32 {
        self.seq_space(self.payload.len()) as u32
    }

    pub fn is_pure_ack(&self) -> bool {
        self.flags == ACK && self.payload.is_empty()
    }

    pub fn sack(&self) -> Vec<(u32, u32)> {
        self.options
            .sack_blocks()
            .iter()
            .map(|b| (b.left, b.right))
            .collect()
    }

    pub fn with_window(mut self, w: u16) -> Out {
        self.window = w;
        self
    }

    pub fn with_ts(mut self, val: u32, ecr: u32) -> Out {
        self.options.timestamps = Some((val, ecr));
        self
    }
}

/// Every segment `c` wants to send now.
pub fn drain(c: &mut Connection, now: Instant) -> Vec<Out> {
    let mut v = Vec::new();
    while let Some(t) = c.poll_transmit(now) {
        let mut payload = t.payload[0].to_vec();
        payload.extend_from_slice(t.payload[1]);
        v.push(Out {
            header: t.header,
            payload,
            kind: Some(t.kind),
        });
        assert!(v.len() < 100_000, "runaway transmit");
    }
    c.check_invariants().unwrap();
    v
}

/// Feeds `seg` to `c` as if it came from `c`'s peer.
pub fn feed(c: &mut Connection, now: Instant, seg: &Out) {
    let (src, dst) = (c.remote(), c.local());
    let mut r = seg.repr();
    r.src_port = if src.port() == 0 { 40000 } else { src.port() };
    r.dst_port = dst.port();
    let src_ip = if src.ip().is_unspecified() {
        addr("10.0.0.1:0").ip()
    } else {
        src.ip()
    };
    c.handle_segment(now, src_ip, dst.ip(), &r);
    c.check_invariants().unwrap();
}

pub fn seg(seq: u32, ack: u32, flags: TcpFlags, payload: &[u8]) -> Out {
    Out {
        header: TcpHeader {
            seq,
            ack,
            flags,
            window: 65535,
            ..TcpHeader::default()
        },
        payload: payload.to_vec(),
        kind: None,
    }
}

/// The peer's ISS in tests that drive one connection by hand.
pub const PEER_ISS: u32 = 1000;

/// `n` milliseconds after time zero.
pub fn at_ms(n: u64) -> Instant {
    Instant::ZERO + Duration::from_millis(n)
}

/// An active open answered at time zero by a SYN-ACK from `PEER_ISS`
/// (window 65535) carrying `options`; returns the ESTABLISHED connection
/// and our ISS.
pub fn established(cfg: Config, options: TcpOptions) -> (Connection, u32) {
    let mut c = active(cfg);
    let iss = drain(&mut c, Instant::ZERO)[0].seq;
    let mut syn_ack = seg(PEER_ISS, iss.wrapping_add(1), SYN | ACK, b"");
    syn_ack.options = options;
    feed(&mut c, Instant::ZERO, &syn_ack);
    drain(&mut c, Instant::ZERO);
    assert_eq!(c.state(), State::Established);
    (c, iss)
}

/// `plain()` with SACK (and so RACK-TLP) on.
pub fn with_sack() -> Config {
    Config {
        sack: true,
        ..plain()
    }
}

/// Options that offer SACK-permitted and nothing else.
pub fn sack_ok() -> TcpOptions {
    let mut o = TcpOptions::default();
    o.sack_permitted = true;
    o
}

/// RFC 793-era settings: no window scaling, SACK or timestamps, every
/// segment ACKed at once; MSL 1 s. For tests that count exact segments.
pub fn plain() -> Config {
    Config {
        msl: Duration::from_secs(1),
        window_scaling: false,
        sack: false,
        timestamps: false,
        delayed_ack: Duration::ZERO,
        ..Config::default()
    }
}

/// Today's defaults (SACK, timestamps, window scaling, delayed ACK,
/// CUBIC, RACK-TLP) with MSL 1 s.
pub fn modern() -> Config {
    Config {
        msl: Duration::from_secs(1),
        ..Config::default()
    }
}

/// A client at 10.0.0.1:40000 opening towards 10.0.0.2:80 at time zero.
pub fn active(cfg: Config) -> Connection {
    active_at(cfg, Instant::ZERO, IsnSecret::from_seed(1))
}

pub fn active_at(cfg: Config, now: Instant, secret: IsnSecret) -> Connection {
    Connection::connect(cfg, now, addr(CLIENT), addr(SERVER), secret)
}

/// A listener on 10.0.0.2:80 from time zero.
pub fn passive(cfg: Config) -> Connection {
    passive_with(cfg, IsnSecret::from_seed(2))
}

pub fn passive_with(cfg: Config, secret: IsnSecret) -> Connection {
    Connection::listen(cfg, Instant::ZERO, addr(SERVER), secret)
}

fn ip(s: &str) -> IpAddr {
    addr(s).ip()
}

/// Hands `s` (sent by `from`) to the other connection.
fn deliver(to: &mut Connection, from: char, now: Instant, s: &Out) {
    let mut r = s.repr();
    let (src, dst) = if from == 'a' {
        r.src_port = 40000;
        r.dst_port = 80;
        (ip(CLIENT), ip(SERVER))
    } else {
        r.src_port = 80;
        r.dst_port = 40000;
        (ip(SERVER), ip(CLIENT))
    };
    to.handle_segment(now, src, dst, &r);
    to.check_invariants().unwrap();
}

/// Two connections wired back to back with zero delay.
pub struct Pair {
    pub a: Connection,
    pub b: Connection,
    pub now: Instant,
}

impl Pair {
    /// Client `a` connects to listener `b`.
    pub fn new(ca: Config, cb: Config) -> Pair {
        Pair {
            a: active(ca),
            b: passive(cb),
            now: Instant::ZERO,
        }
    }

    /// Delivers segments both ways until quiet; returns what crossed, tagged
    /// 'a' (a→b) or 'b' (b→a). `drop` decides which segments vanish.
    pub fn exchange(&mut self, mut drop: impl FnMut(char, &Out) -> bool) -> Vec<(char, Out)> {
        let mut log = Vec::new();
        for _ in 0..100_000 {
            let from_a = drain(&mut self.a, self.now);
            let from_b = drain(&mut self.b, self.now);
            if from_a.is_empty() && from_b.is_empty() {
                return log;
            }
            for s in from_a {
                if !drop('a', &s) {
                    deliver(&mut self.b, 'a', self.now, &s);
                }
                log.push(('a', s));
            }
            for s in from_b {
                if !drop('b', &s) {
                    deliver(&mut self.a, 'b', self.now, &s);
                }
                log.push(('b', s));
            }
        }
        panic!("no quiescence");
    }

    /// Advances to the earliest timer and fires it.
    pub fn tick(&mut self) -> bool {
        let next = [self.a.poll_timeout(), self.b.poll_timeout()]
            .into_iter()
            .flatten()
            .min();
        match next {
            Some(t) => {
                self.now = self.now.max(t);
                self.a.handle_timeout(self.now);
                self.b.handle_timeout(self.now);
                true
            }
            None => false,
        }
    }

    /// Exchanges and fires timers until both are ESTABLISHED.
    pub fn establish(&mut self) {
        for _ in 0..1000 {
            self.exchange(|_, _| false);
            if self.a.state() == State::Established && self.b.state() == State::Established {
                return;
            }
            assert!(self.tick(), "handshake went idle");
        }
        panic!("no handshake");
    }
}

/// Decides for each segment (sender, segment, index in the log) whether
/// the path loses it.
pub type LoseFn = Box<dyn FnMut(char, &Out, usize) -> bool>;

/// One segment on a timed path.
#[derive(Clone, Debug)]
pub struct Logged {
    /// When it was sent, and when it arrives (None: lost).
    pub sent: Instant,
    pub arrives: Option<Instant>,
    pub from: char,
    pub seg: Out,
}

/// Two connections joined by a path with a one-way delay and, optionally,
/// a bottleneck rate in each direction; a chooser decides which segments
/// are lost. Everything happens on a virtual clock.
pub struct Path {
    pub a: Connection,
    pub b: Connection,
    pub now: Instant,
    pub delay: Duration,
    /// Bits per second of each direction; `None` is infinitely fast.
    pub rate: Option<u64>,
    busy_until: [Instant; 2],
    queue: BinaryHeap<Reverse<(Instant, u64, usize)>>,
    order: u64,
    pub log: Vec<Logged>,
    pub lose: LoseFn,
    /// Wake the caller of `run_until` at least this often (an application
    /// that acts on its own clock), even when the path is idle.
    pub wake: Option<Duration>,
}

impl Path {
    pub fn new(a: Connection, b: Connection, delay: Duration) -> Path {
        Path {
            a,
            b,
            now: Instant::ZERO,
            delay,
            rate: None,
            busy_until: [Instant::ZERO; 2],
            queue: BinaryHeap::new(),
            order: 0,
            log: Vec::new(),
            lose: Box::new(|_, _, _| false),
            wake: None,
        }
    }

    /// A client and a listener with these settings.
    pub fn open(ca: Config, cb: Config, delay: Duration) -> Path {
        Path::new(active(ca), passive(cb), delay)
    }

    pub fn conn(&mut self, side: char) -> &mut Connection {
        if side == 'a' {
            &mut self.a
        } else {
            &mut self.b
        }
    }

    /// Puts everything both sides want to send on the path.
    pub fn flush(&mut self) {
        for side in ['a', 'b'] {
            let now = self.now;
            let out = drain(self.conn(side), now);
            for s in out {
                let idx = self.log.len();
                let lost = (self.lose)(side, &s, idx);
                let d = usize::from(side == 'b');
                let mut start = now;
                if let Some(rate) = self.rate {
                    // Serialization at the bottleneck, 40 bytes of headers.
                    let bits = (s.payload.len() as u64 + 40) * 8;
                    let tx = Duration::from_nanos(bits * 1_000_000_000 / rate);
                    start = self.busy_until[d].max(now) + tx;
                    self.busy_until[d] = start;
                }
                let arrives = (!lost).then_some(start + self.delay);
                if let Some(at) = arrives {
                    self.queue.push(Reverse((at, self.order, idx)));
                    self.order += 1;
                }
                self.log.push(Logged {
                    sent: now,
                    arrives,
                    from: side,
                    seg: s,
                });
            }
        }
    }

    /// The next moment something happens.
    pub fn next_event(&self) -> Option<Instant> {
        let arrival = self.queue.peek().map(|Reverse((t, _, _))| *t);
        let wake = self.wake.map(|w| {
            let w = w.as_micros().max(1) as u64;
            Instant::from_micros((self.now.as_micros() / w + 1) * w)
        });
        [arrival, self.a.poll_timeout(), self.b.poll_timeout(), wake]
            .into_iter()
            .flatten()
            .min()
    }

    /// Advances to the next event and handles it; false when idle.
    pub fn step(&mut self) -> bool {
        self.flush();
        let Some(t) = self.next_event() else {
            return false;
        };
        self.now = self.now.max(t);
        while let Some(&Reverse((at, _, idx))) = self.queue.peek() {
            if at > self.now {
                break;
            }
            self.queue.pop();
            let l = self.log[idx].clone();
            let now = self.now;
            let to = if l.from == 'a' {
                &mut self.b
            } else {
                &mut self.a
            };
            deliver(to, l.from, now, &l.seg);
            self.flush();
        }
        let now = self.now;
        self.a.handle_timeout(now);
        self.b.handle_timeout(now);
        self.a.check_invariants().unwrap();
        self.b.check_invariants().unwrap();
        self.flush();
        true
    }

    /// Steps until `done` holds; panics if the path goes idle or the step
    /// bound is hit first.
    pub fn run_until(&mut self, mut done: impl FnMut(&mut Path) -> bool) {
        for _ in 0..10_000_000 {
            self.flush();
            if done(self) {
                return;
            }
            if !self.step() {
                assert!(done(self), "went idle at {}", self.now);
                return;
            }
        }
        panic!("did not finish");
    }

    /// Steps until `end` (or idle).
    pub fn run_for(&mut self, d: Duration) {
        let end = self.now + d;
        loop {
            self.flush();
            match self.next_event() {
                Some(t) if t <= end => {
                    self.step();
                }
                _ => {
                    self.now = self.now.max(end);
                    return;
                }
            }
        }
    }

    /// Segments sent by `side` (in order), with their send times.
    pub fn sent_by(&self, side: char) -> impl Iterator<Item = &Logged> {
        self.log.iter().filter(move |l| l.from == side)
    }
}

/// Moves `data` from `a` to `b` over `p`, reading as it arrives; returns
/// what `b` read. Closes nothing.
pub fn transfer(p: &mut Path, data: &[u8]) -> Vec<u8> {
    let mut sent = 0;
    let mut got = Vec::with_capacity(data.len());
    let mut buf = vec![0u8; 65536];
    p.run_until(|p| {
        if sent < data.len() {
            if let Ok(n) = p.a.send(&data[sent..]) {
                sent += n;
            }
        }
        while let Ok(n) = p.b.recv(&mut buf) {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        got.len() == data.len()
    });
    got
}

/// Every event a connection has queued, oldest first.
pub fn events(c: &mut Connection) -> Vec<Event> {
    std::iter::from_fn(|| c.poll_event()).collect()
}

/// The state transitions among `events`.
pub fn transitions(events: &[Event]) -> Vec<(State, State)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::StateChanged(t) => Some((t.from, t.to)),
            _ => None,
        })
        .collect()
}

/// A deterministic test pattern.
pub fn pattern(len: usize) -> Vec<u8> {
    (0..len as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}
