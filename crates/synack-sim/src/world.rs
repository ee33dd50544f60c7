//! A two-host world on a virtual clock: a client (side A) and a server
//! (side B) joined by a simulated link. Everything is driven from one seed,
//! so a run can be replayed exactly; a run that does not settle within its
//! step bound fails with that seed in the message.

use crate::lang::Text;
use crate::trace::{tcp_header_of, NoteKind, Owner, SenderState, Trace, TraceEvent};
use std::collections::HashMap;
use std::fmt;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use synack_device::{Delivery, Fate, Link, LinkConfig, PcapWriter, SendOutcome, Side};
use synack_stack::{Handle, Host, HostConfig, HostEvent};
use synack_tcp::{Config, Duration, Event, Instant, IsnSecret, RecoveryEvent};
use synack_wire::TcpHeader;

/// Client address used by default (inside the simulation only).
pub const CLIENT_ADDR: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 77, 0, 1));
/// Server address used by default (inside the simulation only).
pub const SERVER_ADDR: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 77, 0, 2));

/// How to build a world.
#[derive(Clone, Debug)]
pub struct WorldConfig {
    pub seed: u64,
    /// Link from client to server.
    pub a_to_b: LinkConfig,
    /// Link from server to client.
    pub b_to_a: LinkConfig,
    pub client_tcp: Config,
    pub server_tcp: Config,
    pub client_addr: IpAddr,
    pub server_addr: IpAddr,
    /// ISN generators of the two hosts (derived from the seed by default).
    pub client_isn: IsnSecret,
    pub server_isn: IsnSecret,
    /// Record a trace of segments and state changes.
    pub trace: bool,
    /// Give up (with an error naming the seed) after this many steps.
    pub max_steps: u64,
}

impl WorldConfig {
    /// Both directions with the same link settings.
    pub fn new(seed: u64, link: LinkConfig) -> Self {
        WorldConfig {
            seed,
            a_to_b: link,
            b_to_a: link,
            client_tcp: Config::default(),
            server_tcp: Config::default(),
            client_addr: CLIENT_ADDR,
            server_addr: SERVER_ADDR,
            client_isn: IsnSecret::from_seed(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 1),
            server_isn: IsnSecret::from_seed(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 2),
            trace: true,
            max_steps: 10_000_000,
        }
    }

    /// Applies `f` to both hosts' TCP settings.
    pub fn tcp(mut self, f: impl Fn(&mut Config)) -> Self {
        f(&mut self.client_tcp);
        f(&mut self.server_tcp);
        self
    }
}

/// A run that did not finish as expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorldError {
    pub seed: u64,
    pub at: Instant,
    pub what: String,
}

impl fmt::Display for WorldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "seed {} at {}: {}", self.seed, self.at, self.what)
    }
}

impl std::error::Error for WorldError {}

/// What `run_until` says when nothing was left to happen first.
const WENT_IDLE: &str = "went idle before the condition held";

impl WorldError {
    /// Nothing was left to happen (no packet in flight, no timer) while
    /// the run still waited for its condition.
    pub fn idle(&self) -> bool {
        self.what == WENT_IDLE
    }
}

/// Where a capture taps the simulated network.
///
/// A host's tap is its own interface: the packets it sends, stamped when
/// they leave it (also those the link or a filter then loses), and the
/// packets that reach it, stamped when they arrive (after the delay, in the
/// order the link delivered them, a duplicate twice, a corrupted one with
/// its flipped bit). What the link lost on the way to it is not there. A
/// packet `inject`ed as if from a host is not that host's sending, so only
/// its arrival at the other host (and the link) sees it.
///
/// The link's tap sits in the middle of the wire: every packet put on it,
/// injected ones included, stamped when it was sent, whatever the link then
/// does to it.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum Tap {
    /// The client's interface (side A): the host's own view.
    #[default]
    Client,
    /// The server's interface (side B).
    Server,
    /// The wire, as the hosts put packets on it.
    Link,
}

impl Tap {
    /// `client`, `server` or `link`, as `synack demo --pcap-at` spells it.
    pub fn name(self) -> &'static str {
        match self {
            Tap::Client => "client",
            Tap::Server => "server",
            Tap::Link => "link",
        }
    }
}

/// A host's own interface.
impl From<Side> for Tap {
    fn from(side: Side) -> Tap {
        match side {
            Side::A => Tap::Client,
            Side::B => Tap::Server,
        }
    }
}

impl fmt::Display for Tap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a filter decides for one segment before it reaches the link.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Hand it to the link as usual.
    Pass,
    /// Lose it (recorded in the trace as lost).
    Drop,
    /// Hold it back this long before handing it to the link.
    Delay(Duration),
}

/// Decides the fate of chosen segments (to stage a lost ACK, a delayed SYN...).
/// It sees the sender, the TCP header and the payload length.
pub type Filter = Box<dyn FnMut(Side, &TcpHeader, usize) -> Verdict>;

/// A side's index in per-side arrays.
fn ix(side: Side) -> usize {
    match side {
        Side::A => 0,
        Side::B => 1,
    }
}

/// A host's entropy (its secrets: port choice, SYN cookies, challenge
/// budget) from the world's seed, so that every run replays exactly.
fn entropy(seed: u64, side: u64) -> [u8; 32] {
    let mut x = seed ^ side.wrapping_mul(0xa076_1d64_78bd_642f);
    let mut out = [0u8; 32];
    for chunk in out.chunks_mut(8) {
        // splitmix64
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        chunk.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    out
}

/// Two hosts, one link, one clock.
pub struct World {
    pub now: Instant,
    pub link: Link,
    pub client: Host,
    pub server: Host,
    pub trace: Trace,
    seed: u64,
    tracing: bool,
    steps: u64,
    max_steps: u64,
    pcap: Option<(Tap, PcapWriter<Box<dyn Write>>)>,
    pcap_error: Option<String>,
    buf: Vec<u8>,
    filter: Option<Filter>,
    /// Segments held back by a filter: (release time, from, packet).
    held: Vec<(Instant, Side, Vec<u8>)>,
    /// Socket tables a scenario took along the way (`--netstat`).
    pub snapshots: Vec<Snapshot>,
    /// Packets a filter dropped, per side (the link never saw them).
    filter_drops: [u64; 2],
    /// Each connection's addresses, once seen (a closed connection may be
    /// gone from its host by the time its last events are read).
    tuples: HashMap<(Side, Handle), (SocketAddr, SocketAddr)>,
    /// The RTO each connection had after its last retransmission timeout,
    /// with the backoff then.
    last_timeout: HashMap<(Side, Handle), (u32, Duration)>,
}

/// One host's socket table at a moment a scenario chose.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub at: Instant,
    pub side: Side,
    pub label: Text,
    /// `ss -tani`-shaped.
    pub table: String,
}

impl World {
    pub fn new(cfg: WorldConfig) -> World {
        let mut client = HostConfig::new(cfg.client_addr);
        client.tcp = cfg.client_tcp;
        client.isn_secret = Some(cfg.client_isn);
        // Each host's MTU is its end of the link's (the device seam).
        client.mtu = cfg.a_to_b.mtu;
        let mut server = HostConfig::new(cfg.server_addr);
        server.tcp = cfg.server_tcp;
        server.isn_secret = Some(cfg.server_isn);
        server.mtu = cfg.b_to_a.mtu;
        World {
            now: Instant::ZERO,
            link: Link::new(cfg.a_to_b, cfg.b_to_a, cfg.seed),
            client: Host::new(client, entropy(cfg.seed, 1)),
            server: Host::new(server, entropy(cfg.seed, 2)),
            trace: Trace::default(),
            seed: cfg.seed,
            tracing: cfg.trace,
            steps: 0,
            max_steps: cfg.max_steps,
            pcap: None,
            pcap_error: None,
            buf: vec![0; 65536],
            filter: None,
            held: Vec::new(),
            snapshots: Vec::new(),
            filter_drops: [0; 2],
            tuples: HashMap::new(),
            last_timeout: HashMap::new(),
        }
    }

    /// Packets `side` put on the network: those the link carried and
    /// those a filter dropped before it.
    pub fn sent(&self, side: Side) -> u64 {
        self.link.stats(side).sent + self.filter_drops[ix(side)]
    }

    /// Packets `side` sent that never arrived, as the ladder draws them
    /// (with a cross): lost on the link, dropped by its full queue or for
    /// their size, or dropped by a filter (a black hole, a lost ACK a
    /// scenario stages).
    pub fn lost(&self, side: Side) -> u64 {
        let link = self.link.stats(side);
        link.lost + link.queue_drops + link.too_big + self.filter_drops[ix(side)]
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Writes the packets `tap` sees to a pcap (raw IP link type). Every
    /// packet is written at the world's `now`, which never goes back, so
    /// the file's timestamps never decrease.
    pub fn capture(&mut self, out: Box<dyn Write>, tap: Tap) -> std::io::Result<()> {
        self.pcap = Some((tap, PcapWriter::new(out)?));
        Ok(())
    }

    /// Writes `packet` to the capture, stamped now, if `tap` is the one
    /// capturing.
    fn tap(&mut self, tap: Tap, packet: &[u8]) {
        let now = self.now;
        if let Some((_, p)) = self.pcap.as_mut().filter(|(t, _)| *t == tap) {
            if let Err(e) = p.write_packet(now, packet) {
                self.pcap_error.get_or_insert(e.to_string());
            }
        }
    }

    /// Flushes and closes the capture; reports the first write error.
    pub fn finish_capture(&mut self) -> std::io::Result<()> {
        if let Some((_, mut p)) = self.pcap.take() {
            p.flush()?;
        }
        match self.pcap_error.take() {
            Some(e) => Err(std::io::Error::other(e)),
            None => Ok(()),
        }
    }

    pub fn host(&mut self, side: Side) -> &mut Host {
        match side {
            Side::A => &mut self.client,
            Side::B => &mut self.server,
        }
    }

    /// The server's address with a port.
    pub fn server_addr(&self, port: u16) -> SocketAddr {
        SocketAddr::new(self.server.addr(), port)
    }

    /// The client's address with a port.
    pub fn client_addr(&self, port: u16) -> SocketAddr {
        SocketAddr::new(self.client.addr(), port)
    }

    /// Records `side`'s socket table now, under `label`.
    pub fn snapshot(&mut self, side: Side, label: Text) {
        self.flush();
        let now = self.now;
        let table = self.host(side).sockets(now).to_string();
        self.snapshots.push(Snapshot {
            at: now,
            side,
            label,
            table,
        });
    }

    /// Adds an application note to the trace (from `lang::story`, or
    /// `story::call` for what reads the same in every language).
    pub fn note(&mut self, side: Side, text: Text) {
        self.push_note(side, text, NoteKind::Application);
    }

    /// Adds a note of what the network does (a black hole, a packet held
    /// back, a host losing power) to the trace; `side` is the host it
    /// concerns.
    pub fn network(&mut self, side: Side, text: Text) {
        self.push_note(side, text, NoteKind::Network);
    }

    /// Adds a note of why `side`'s TCP does what it does.
    pub fn explain(&mut self, side: Side, text: Text) {
        self.push_note(side, text, NoteKind::Explanation);
    }

    fn push_note(&mut self, side: Side, text: Text, kind: NoteKind) {
        // Keep the trace in order: state changes made by earlier application
        // calls go in before the note.
        self.collect_events(Side::A);
        self.collect_events(Side::B);
        if self.tracing {
            self.trace.events.push(TraceEvent::Note {
                at: self.now,
                side,
                text,
                kind,
            });
        }
    }

    fn error(&self, what: impl Into<String>) -> WorldError {
        WorldError {
            seed: self.seed,
            at: self.now,
            what: what.into(),
        }
    }

    /// Installs a filter that sees every segment before the link does.
    pub fn set_filter(&mut self, f: impl FnMut(Side, &TcpHeader, usize) -> Verdict + 'static) {
        self.filter = Some(Box::new(f));
    }

    pub fn clear_filter(&mut self) {
        self.filter = None;
    }

    /// Puts a hand-made IP packet on the link as if `from` had sent it
    /// (e.g. an old duplicate SYN). It is traced and captured like any other.
    pub fn inject(&mut self, from: Side, packet: &[u8]) {
        self.inject_as(from, packet, crate::lang::words::old_duplicate());
    }

    /// `inject`, with what the diagram calls the packet.
    pub fn inject_as(&mut self, from: Side, packet: &[u8], label: Text) {
        self.send_packet(from, packet, Some(label), None);
    }

    /// Sends everything both hosts have to send, and records their events.
    pub fn flush(&mut self) {
        let mut i = 0;
        while i < self.held.len() {
            if self.held[i].0 <= self.now {
                let (_, side, packet) = self.held.remove(i);
                self.send_to_link(side, &packet);
            } else {
                i += 1;
            }
        }
        self.collect_events(Side::A);
        self.collect_events(Side::B);
        for side in [Side::A, Side::B] {
            loop {
                let now = self.now;
                let host = match side {
                    Side::A => &mut self.client,
                    Side::B => &mut self.server,
                };
                // The buffer is larger than any MTU, so this never fails.
                let Ok(Some(n)) = host.poll_transmit(now, &mut self.buf) else {
                    break;
                };
                let sender = if self.tracing {
                    host.last_sender().and_then(|h| host.conn(h)).map(|c| {
                        let i = c.info();
                        SenderState {
                            cwnd: i.cwnd,
                            ssthresh: i.ssthresh,
                            in_flight: i.in_flight,
                        }
                    })
                } else {
                    None
                };
                let buf = std::mem::take(&mut self.buf);
                self.send_packet(side, &buf[..n], None, sender);
                self.buf = buf;
            }
            self.collect_events(side);
        }
    }

    /// Traces, captures, filters and sends one packet.
    fn send_packet(
        &mut self,
        side: Side,
        packet: &[u8],
        injected: Option<Text>,
        sender: Option<SenderState>,
    ) {
        let now = self.now;
        self.tap(Tap::Link, packet);
        // An injected packet never left the host it pretends to come from.
        if injected.is_none() {
            self.tap(side.into(), packet);
        }
        let seg = if self.tracing || self.filter.is_some() {
            tcp_header_of(packet)
        } else {
            None
        };
        let verdict = match (self.filter.as_mut(), seg.as_ref()) {
            (Some(f), Some((seg, len))) => f(side, seg, *len),
            _ => Verdict::Pass,
        };
        let outcome = match verdict {
            Verdict::Pass => self.link.send(now, side, packet),
            Verdict::Drop => {
                self.filter_drops[ix(side)] += 1;
                SendOutcome {
                    fate: Fate::Lost,
                    duplicated: false,
                    corrupted: false,
                    reordered: false,
                    arrival: None,
                }
            }
            Verdict::Delay(d) => {
                self.held.push((now + d, side, packet.to_vec()));
                SendOutcome {
                    fate: Fate::Queued,
                    duplicated: false,
                    corrupted: false,
                    reordered: true,
                    arrival: None,
                }
            }
        };
        if self.tracing {
            if let Some((seg, len)) = seg {
                self.trace.events.push(TraceEvent::Segment {
                    at: now,
                    from: side,
                    seg,
                    len,
                    outcome,
                    injected,
                    sender,
                });
            }
        }
    }

    /// Hands a held-back packet to the link (already traced and captured).
    fn send_to_link(&mut self, side: Side, packet: &[u8]) {
        self.link.send(self.now, side, packet);
    }

    fn collect_events(&mut self, side: Side) {
        let host = match side {
            Side::A => &mut self.client,
            Side::B => &mut self.server,
        };
        while let Some(ev) = host.poll_event() {
            if !self.tracing {
                continue;
            }
            let (ev, owner, handle) = match ev {
                HostEvent::Conn(h, ev) => {
                    let (local, remote) = match host.conn(h) {
                        Some(c) => *self
                            .tuples
                            .entry((side, h))
                            .or_insert_with(|| (c.local(), c.remote())),
                        None => self.tuples.get(&(side, h)).copied().unwrap_or((
                            SocketAddr::new(host.addr(), 0),
                            SocketAddr::new(host.addr(), 0),
                        )),
                    };
                    (ev, Owner::Connection { local, remote }, Some(h))
                }
                // A listener's own transitions and its half-open
                // connections' (which have no connection yet).
                HostEvent::Listener {
                    listener,
                    remote,
                    transition,
                } => {
                    let local = host
                        .listener(listener)
                        .map_or(SocketAddr::new(host.addr(), 0), |l| l.local);
                    let owner = match remote {
                        Some(remote) => Owner::HalfOpen { local, remote },
                        None => Owner::Listener { local },
                    };
                    (Event::StateChanged(transition), owner, None)
                }
                HostEvent::Incoming(_) => continue,
            };
            match ev {
                Event::StateChanged(transition) => self.trace.events.push(TraceEvent::State {
                    at: transition.at,
                    side,
                    transition,
                    owner,
                }),
                Event::Recovery {
                    at,
                    event,
                    cwnd,
                    ssthresh,
                } => {
                    let rto = match (event, handle) {
                        (RecoveryEvent::Timeout { backoff }, Some(h)) => {
                            // The RTO now is the one that expired, doubled
                            // (RFC 6298 §5.5). In a run of timeouts the
                            // last one left it (right even where the
                            // doubling met the ceiling); the first
                            // halves what the connection has now.
                            let now_rto = host.conn(h).map(|c| c.info().rto);
                            let last = self.last_timeout.get(&(side, h)).copied();
                            let expired = match (last, now_rto) {
                                (Some((b, r)), _) if b + 1 == backoff => Some(r),
                                (_, Some(r)) => Some(r / 2),
                                _ => None,
                            };
                            if let Some(r) = now_rto {
                                self.last_timeout.insert((side, h), (backoff, r));
                            }
                            expired
                        }
                        _ => None,
                    };
                    let mut i = self.trace.events.len();
                    if event == RecoveryEvent::TailLossProbe {
                        // The probe is chosen while the host picks the packet
                        // to send, and reported once the packet is out: it
                        // goes before the segments it sent at that instant.
                        while i > 0
                            && matches!(&self.trace.events[i - 1],
                                TraceEvent::Segment { at: t, from, .. } if *t == at && *from == side)
                        {
                            i -= 1;
                        }
                    }
                    self.trace.events.insert(
                        i,
                        TraceEvent::Recovery {
                            at,
                            side,
                            event,
                            cwnd,
                            ssthresh,
                            rto,
                        },
                    );
                }
                _ => {}
            }
        }
    }

    /// The next moment something happens (a delivery or a timer).
    pub fn next_deadline(&self) -> Option<Instant> {
        let held = self.held.iter().map(|h| h.0).min();
        [
            self.link.next_deadline(),
            self.client.poll_timeout(),
            self.server.poll_timeout(),
            held,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Advances to the next deadline and handles it. Returns false when
    /// nothing is left to happen (idle).
    pub fn step(&mut self) -> Result<bool, WorldError> {
        self.flush();
        let Some(next) = self.next_deadline() else {
            return Ok(false);
        };
        self.steps += 1;
        if self.steps > self.max_steps {
            return Err(self.error(format!("did not settle within {} steps", self.max_steps)));
        }
        self.now = self.now.max(next);
        while self.deliver_next() {
            self.flush();
        }
        self.client.handle_timeout(self.now);
        self.server.handle_timeout(self.now);
        self.flush();
        Ok(true)
    }

    /// Hands the next packet the link has due by now to its host, and
    /// captures it there if that host's interface is tapped: the one place
    /// a packet arrives. Returns false when nothing is due.
    pub fn deliver_next(&mut self) -> bool {
        let Some(Delivery { to, data, .. }) = self.link.poll_deliver(self.now) else {
            return false;
        };
        // Stamped with `now`, not the link's arrival time: the two are
        // equal (the clock only ever jumps to the earliest deadline), and
        // `now` is what keeps the file in order.
        self.tap(to.into(), &data);
        let now = self.now;
        self.host(to).handle_packet(now, &data);
        self.link.recycle(data);
        true
    }

    /// Steps until `done` holds (checked before each step), or fails when
    /// the world goes idle first or the step bound is reached.
    pub fn run_until(
        &mut self,
        mut done: impl FnMut(&mut World) -> bool,
    ) -> Result<(), WorldError> {
        loop {
            self.flush();
            if done(self) {
                return Ok(());
            }
            if !self.step()? {
                if done(self) {
                    return Ok(());
                }
                return Err(self.error(WENT_IDLE));
            }
        }
    }

    /// Steps until nothing is left to happen: no packets in flight and no
    /// timers armed (TIME-WAIT included).
    pub fn run_until_idle(&mut self) -> Result<(), WorldError> {
        while self.step()? {}
        Ok(())
    }

    /// Steps until virtual time reaches `now + d` (or the world is idle).
    pub fn run_for(&mut self, d: Duration) -> Result<(), WorldError> {
        let end = self.now + d;
        loop {
            self.flush();
            match self.next_deadline() {
                Some(t) if t <= end => {
                    self.step()?;
                }
                _ => {
                    self.now = self.now.max(end);
                    return Ok(());
                }
            }
        }
    }

    /// The connection behind a handle on one side (panics on a stale handle:
    /// a test bug).
    pub fn conn(&mut self, side: Side, h: Handle) -> &mut synack_tcp::Connection {
        self.host(side)
            .conn_mut(h)
            .expect("stale connection handle")
    }
}

/// Runs `f` for every seed; returns the seeds that failed with their errors.
pub fn sweep<E: fmt::Display>(
    seeds: impl IntoIterator<Item = u64>,
    mut f: impl FnMut(u64) -> Result<(), E>,
) -> Vec<(u64, String)> {
    seeds
        .into_iter()
        .filter_map(|s| f(s).err().map(|e| (s, e.to_string())))
        .collect()
}
