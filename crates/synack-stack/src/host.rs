//! A host: one IP address, its TCP connections and listeners.
//!
//! The host parses IP packets, drops what is malformed or not for it (and
//! counts it), demultiplexes TCP segments to connections by 4-tuple, spawns
//! half-open connections from listeners, and answers segments that match no
//! connection with a RST (RFC 9293 §3.10.7.1). Like the engine it is sans-IO:
//! packets and time in, packets and deadlines out.

use crate::counters::Counters;
use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use synack_tcp::{Config, Connection, Event, Instant, IsnSecret, SeqNum, State};
use synack_wire::{IpProtocol, IpRepr, TcpFlags, TcpOptions, TcpRepr, WireError};

/// Most RSTs waiting to be sent by the host itself; more are dropped.
const MAX_OUTBOX: usize = 64;
/// Most events kept for the driver; older ones are dropped.
const MAX_EVENTS: usize = 4096;
/// Hop limit / TTL of packets we originate (Linux's default).
const HOP_LIMIT: u8 = 64;

/// Names a connection or listener on a host. Stale handles (of a removed
/// connection) never reach a newer connection in the same slot.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Handle {
    index: u32,
    generation: u32,
}

impl Handle {
    pub fn index(self) -> u32 {
        self.index
    }
}

/// Why a host call failed.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum StackError {
    /// The port already has a listener.
    AddrInUse,
    /// No free ephemeral port for that destination.
    NoPorts,
    /// The address family of the peer differs from the host's.
    WrongFamily,
}

impl std::fmt::Display for StackError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StackError::AddrInUse => "address already in use",
            StackError::NoPorts => "no free ephemeral port",
            StackError::WrongFamily => "address family mismatch",
        })
    }
}

impl std::error::Error for StackError {}

/// Settings for a host.
#[derive(Clone, Debug)]
pub struct HostConfig {
    pub addr: IpAddr,
    pub tcp: Config,
    /// The RFC 6528 ISN secret (draw it from real randomness outside tests).
    pub isn_secret: IsnSecret,
    /// Ephemeral port range for `connect` (RFC 6335: 49152–65535).
    pub ephemeral_ports: (u16, u16),
}

impl HostConfig {
    pub fn new(addr: IpAddr) -> Self {
        HostConfig {
            addr,
            tcp: Config::default(),
            isn_secret: IsnSecret::from_seed(0),
            ephemeral_ports: (49152, 65535),
        }
    }
}

#[derive(Debug)]
struct Slot {
    generation: u32,
    entry: Option<Entry>,
}

#[derive(Debug)]
struct Entry {
    conn: Connection,
    kind: Kind,
    /// The (local, remote) key this entry is demultiplexed under, if any.
    key: Option<(SocketAddr, SocketAddr)>,
}

#[derive(Debug)]
enum Kind {
    Listener { accept_queue: VecDeque<Handle> },
    Child { listener: Handle, queued: bool },
    Active,
}

/// A RST the host sends for a segment that matched no connection.
#[derive(Copy, Clone, Debug)]
struct Reply {
    local: SocketAddr,
    remote: SocketAddr,
    seq: u32,
    ack: u32,
    flags: TcpFlags,
}

/// A host on some link.
#[derive(Debug)]
pub struct Host {
    config: HostConfig,
    secret: IsnSecret,
    slots: Vec<Slot>,
    free: Vec<u32>,
    by_tuple: HashMap<(SocketAddr, SocketAddr), Handle>,
    listeners: HashMap<u16, Handle>,
    outbox: VecDeque<Reply>,
    events: VecDeque<(Handle, Event)>,
    next_port: u16,
    /// Round-robin position for `poll_transmit`.
    cursor: usize,
    /// The connection that produced the last packet `poll_transmit` wrote.
    last_sender: Option<Handle>,
    counters: Counters,
}

impl Host {
    pub fn new(config: HostConfig) -> Host {
        Host {
            secret: config.isn_secret,
            next_port: config.ephemeral_ports.0,
            config,
            slots: Vec::new(),
            free: Vec::new(),
            by_tuple: HashMap::new(),
            listeners: HashMap::new(),
            outbox: VecDeque::new(),
            events: VecDeque::new(),
            cursor: 0,
            last_sender: None,
            counters: Counters::default(),
        }
    }

    pub fn addr(&self) -> IpAddr {
        self.config.addr
    }

    pub fn config(&self) -> &HostConfig {
        &self.config
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    fn insert(&mut self, conn: Connection, kind: Kind) -> Handle {
        let key = match kind {
            Kind::Listener { .. } => None,
            _ => Some((conn.local(), conn.remote())),
        };
        let index = match self.free.pop() {
            Some(i) => i,
            None => {
                self.slots.push(Slot {
                    generation: 0,
                    entry: None,
                });
                (self.slots.len() - 1) as u32
            }
        };
        let slot = &mut self.slots[index as usize];
        slot.generation = slot.generation.wrapping_add(1);
        slot.entry = Some(Entry { conn, kind, key });
        let h = Handle {
            index,
            generation: slot.generation,
        };
        if let Some(key) = key {
            self.by_tuple.insert(key, h);
        }
        self.drain_events(h);
        h
    }

    fn entry(&self, h: Handle) -> Option<&Entry> {
        let slot = self.slots.get(h.index as usize)?;
        if slot.generation != h.generation {
            return None;
        }
        slot.entry.as_ref()
    }

    fn entry_mut(&mut self, h: Handle) -> Option<&mut Entry> {
        let slot = self.slots.get_mut(h.index as usize)?;
        if slot.generation != h.generation {
            return None;
        }
        slot.entry.as_mut()
    }

    /// The connection (or listener) behind a handle.
    pub fn conn(&self, h: Handle) -> Option<&Connection> {
        self.entry(h).map(|e| &e.conn)
    }

    pub fn conn_mut(&mut self, h: Handle) -> Option<&mut Connection> {
        self.entry_mut(h).map(|e| &mut e.conn)
    }

    /// Every live handle, in slot order.
    pub fn handles(&self) -> Vec<Handle> {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.entry.is_some())
            .map(|(i, s)| Handle {
                index: i as u32,
                generation: s.generation,
            })
            .collect()
    }

    /// Passive OPEN on `port`: a listener that spawns one connection per SYN.
    pub fn listen(&mut self, now: Instant, port: u16) -> Result<Handle, StackError> {
        if self.listeners.contains_key(&port) {
            return Err(StackError::AddrInUse);
        }
        let local = SocketAddr::new(self.config.addr, port);
        let conn = Connection::listen(self.config.tcp.clone(), now, local, self.secret);
        let h = self.insert(
            conn,
            Kind::Listener {
                accept_queue: VecDeque::new(),
            },
        );
        self.listeners.insert(port, h);
        Ok(h)
    }

    /// Active OPEN to `remote` from an ephemeral port.
    pub fn connect(&mut self, now: Instant, remote: SocketAddr) -> Result<Handle, StackError> {
        if remote.is_ipv4() != self.config.addr.is_ipv4() {
            return Err(StackError::WrongFamily);
        }
        let (lo, hi) = self.config.ephemeral_ports;
        let span = u32::from(hi.saturating_sub(lo)) + 1;
        for _ in 0..span {
            let port = self.next_port;
            self.next_port = if port >= hi { lo } else { port + 1 };
            let local = SocketAddr::new(self.config.addr, port);
            if self.by_tuple.contains_key(&(local, remote)) || self.listeners.contains_key(&port) {
                continue;
            }
            return Ok(self.connect_from(now, local, remote));
        }
        Err(StackError::NoPorts)
    }

    /// Active OPEN from a given local address (e.g. simultaneous open tests).
    pub fn connect_from(&mut self, now: Instant, local: SocketAddr, remote: SocketAddr) -> Handle {
        let conn = Connection::connect(self.config.tcp.clone(), now, local, remote, self.secret);
        self.insert(conn, Kind::Active)
    }

    /// A connection established through `listener`, if one is waiting.
    pub fn accept(&mut self, listener: Handle) -> Option<Handle> {
        match &mut self.entry_mut(listener)?.kind {
            Kind::Listener { accept_queue } => accept_queue.pop_front(),
            _ => None,
        }
    }

    /// Forgets a connection (after it closed, or to drop a listener).
    pub fn remove(&mut self, h: Handle) -> Option<Connection> {
        let slot = self.slots.get_mut(h.index as usize)?;
        if slot.generation != h.generation {
            return None;
        }
        let entry = slot.entry.take()?;
        self.free.push(h.index);
        if let Some(key) = entry.key {
            if self.by_tuple.get(&key) == Some(&h) {
                self.by_tuple.remove(&key);
            }
        }
        if self.listeners.get(&entry.conn.local().port()) == Some(&h) {
            self.listeners.remove(&entry.conn.local().port());
        }
        Some(entry.conn)
    }

    /// The next event from any connection, oldest first.
    pub fn poll_event(&mut self) -> Option<(Handle, Event)> {
        if self.events.is_empty() {
            // Application calls (connect, close, ...) change states too.
            for i in 0..self.slots.len() {
                let h = Handle {
                    index: i as u32,
                    generation: self.slots[i].generation,
                };
                self.drain_events(h);
            }
        }
        self.events.pop_front()
    }

    fn drain_events(&mut self, h: Handle) {
        let Some(slot) = self.slots.get_mut(h.index as usize) else {
            return;
        };
        let Some(entry) = slot.entry.as_mut() else {
            return;
        };
        while let Some(ev) = entry.conn.poll_event() {
            if self.events.len() == MAX_EVENTS {
                self.events.pop_front();
                self.counters.events_dropped += 1;
            }
            self.events.push_back((h, ev));
        }
    }

    /// One IP packet arrives from the link.
    pub fn handle_packet(&mut self, now: Instant, packet: &[u8]) {
        self.counters.ip_in_receives += 1;
        let (ip, payload) = match IpRepr::parse(packet) {
            Ok(x) => x,
            Err(WireError::Fragment) => {
                self.counters.ip_frag_dropped += 1;
                return;
            }
            Err(WireError::BadChecksum) => {
                self.counters.ip_in_csum_errors += 1;
                return;
            }
            Err(_) => {
                self.counters.ip_in_hdr_errors += 1;
                return;
            }
        };
        if ip.dst() != self.config.addr {
            self.counters.ip_in_addr_errors += 1;
            return;
        }
        match ip.protocol() {
            IpProtocol::Tcp => self.tcp_input(now, ip.src(), ip.dst(), payload),
            IpProtocol::Icmp | IpProtocol::Icmpv6 => self.counters.icmp_in_msgs += 1,
            _ => self.counters.ip_in_unknown_protos += 1,
        }
    }

    fn tcp_input(&mut self, now: Instant, src: IpAddr, dst: IpAddr, segment: &[u8]) {
        let seg = match TcpRepr::parse(segment, src, dst, true) {
            Ok(s) => s,
            Err(WireError::BadChecksum) => {
                self.counters.tcp_in_csum_errors += 1;
                return;
            }
            Err(_) => {
                self.counters.tcp_in_errs += 1;
                return;
            }
        };
        self.counters.tcp_in_segs += 1;
        let local = SocketAddr::new(dst, seg.dst_port);
        let remote = SocketAddr::new(src, seg.src_port);
        if let Some(&h) = self.by_tuple.get(&(local, remote)) {
            if self.deliver(now, h, src, dst, &seg) {
                return;
            }
            self.by_tuple.remove(&(local, remote));
        }
        if let Some(&lh) = self.listeners.get(&seg.dst_port) {
            self.listener_input(now, lh, src, dst, &seg);
            return;
        }
        self.reply_rst(local, remote, &seg);
    }

    /// Hands a segment to an existing connection and tidies up after it.
    fn deliver(
        &mut self,
        now: Instant,
        h: Handle,
        src: IpAddr,
        dst: IpAddr,
        seg: &TcpRepr<'_>,
    ) -> bool {
        let Some(entry) = self.entry_mut(h) else {
            return false;
        };
        entry.conn.handle_segment(now, src, dst, seg);
        let state = entry.conn.state();
        let mut enqueue = None;
        if let Kind::Child { listener, queued } = &mut entry.kind {
            if !*queued && state.is_synchronized() {
                *queued = true;
                enqueue = Some(*listener);
            }
        }
        self.drain_events(h);
        if let Some(lh) = enqueue {
            if let Some(Entry {
                kind: Kind::Listener { accept_queue },
                ..
            }) = self.entry_mut(lh)
            {
                accept_queue.push_back(h);
            }
        }
        self.after_change(h);
        true
    }

    /// A segment for a listening port with no connection yet.
    fn listener_input(
        &mut self,
        now: Instant,
        lh: Handle,
        src: IpAddr,
        dst: IpAddr,
        seg: &TcpRepr<'_>,
    ) {
        let is_syn = seg.flags.syn() && !seg.flags.ack() && !seg.flags.rst();
        if !is_syn {
            // RST ignored, ACK answered with RST: the listener's own rules.
            if let Some(e) = self.entry_mut(lh) {
                e.conn.handle_segment(now, src, dst, seg);
            }
            self.drain_events(lh);
            return;
        }
        let Some(listener) = self.conn(lh) else {
            return;
        };
        // The child starts as a copy of the listening TCB and takes the SYN
        // (LISTEN → SYN-RECEIVED); the listener stays in LISTEN.
        let mut child = listener.clone();
        while child.poll_event().is_some() {}
        child.handle_segment(now, src, dst, seg);
        self.insert(
            child,
            Kind::Child {
                listener: lh,
                queued: false,
            },
        );
    }

    /// Drops a connection from demultiplexing once it cannot take segments,
    /// so the 4-tuple answers with RST again; a child that went back to
    /// LISTEN is discarded (its listener still listens).
    fn after_change(&mut self, h: Handle) {
        let Some(entry) = self.entry(h) else { return };
        let state = entry.conn.state();
        let back_to_listen = state == State::Listen && matches!(entry.kind, Kind::Child { .. });
        if state != State::Closed && !back_to_listen {
            return;
        }
        let unclaimed = matches!(entry.kind, Kind::Child { queued: false, .. });
        let finished = entry.conn.is_finished();
        if let Some(key) = entry.key {
            if self.by_tuple.get(&key) == Some(&h) {
                self.by_tuple.remove(&key);
            }
        }
        // Nobody will ever accept it: forget it (after any RST it owes).
        if back_to_listen || (unclaimed && finished) {
            self.remove(h);
        }
    }

    /// RFC 9293 §3.10.7.1: a segment for no connection gets a RST, unless it
    /// is a RST itself.
    fn reply_rst(&mut self, local: SocketAddr, remote: SocketAddr, seg: &TcpRepr<'_>) {
        if seg.flags.rst() {
            return;
        }
        let reply = if seg.flags.ack() {
            // <SEQ=SEG.ACK><CTL=RST>
            Reply {
                local,
                remote,
                seq: seg.ack,
                ack: 0,
                flags: TcpFlags::RST,
            }
        } else {
            // <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
            let ack = SeqNum(seg.seq) + seg.segment_len() as u32;
            Reply {
                local,
                remote,
                seq: 0,
                ack: ack.0,
                flags: TcpFlags::RST | TcpFlags::ACK,
            }
        };
        if self.outbox.len() >= MAX_OUTBOX {
            self.counters.out_rsts_dropped += 1;
            return;
        }
        self.outbox.push_back(reply);
    }

    /// The earliest deadline of any connection.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.slots
            .iter()
            .filter_map(|s| s.entry.as_ref()?.conn.poll_timeout())
            .min()
    }

    /// Runs every connection's expired timers.
    pub fn handle_timeout(&mut self, now: Instant) {
        for i in 0..self.slots.len() {
            let h = Handle {
                index: i as u32,
                generation: self.slots[i].generation,
            };
            let due = self
                .conn(h)
                .and_then(|c| c.poll_timeout())
                .is_some_and(|t| t <= now);
            if due {
                if let Some(c) = self.conn_mut(h) {
                    c.handle_timeout(now);
                }
                self.drain_events(h);
                self.after_change(h);
            }
        }
    }

    /// Writes the next outgoing IP packet into `buf` and returns its length.
    /// `buf` should hold at least the link MTU (65535 is always enough).
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        self.last_sender = None;
        if let Some(r) = self.outbox.pop_front() {
            let repr = TcpRepr {
                src_port: r.local.port(),
                dst_port: r.remote.port(),
                seq: r.seq,
                ack: r.ack,
                flags: r.flags,
                window: 0,
                urgent: 0,
                options: TcpOptions::default(),
                payload: &[],
            };
            self.counters.tcp_out_rsts += 1;
            return self.emit(buf, r.local.ip(), r.remote.ip(), &repr);
        }
        let n = self.slots.len();
        for step in 0..n {
            let i = (self.cursor + step) % n;
            let Some(entry) = self.slots[i].entry.as_mut() else {
                continue;
            };
            let Some(t) = entry.conn.poll_transmit(now) else {
                continue;
            };
            self.cursor = i;
            let len = write_transmit(buf, &t)?;
            if t.header.flags.rst() {
                self.counters.tcp_out_rsts += 1;
            }
            self.counters.tcp_out_segs += 1;
            let h = Handle {
                index: i as u32,
                generation: self.slots[i].generation,
            };
            self.last_sender = Some(h);
            self.after_change(h);
            return Some(len);
        }
        self.cursor = 0;
        None
    }

    /// The connection that wrote the last packet `poll_transmit` returned
    /// (`None` for a RST the host sent on behalf of no connection).
    pub fn last_sender(&self) -> Option<Handle> {
        self.last_sender
    }

    fn emit(
        &mut self,
        buf: &mut [u8],
        src: IpAddr,
        dst: IpAddr,
        repr: &TcpRepr<'_>,
    ) -> Option<usize> {
        self.counters.tcp_out_segs += 1;
        write_packet(buf, src, dst, repr)
    }
}

/// Writes an IP header and a connection's segment into `buf`; `None` if it
/// does not fit.
pub fn write_transmit(buf: &mut [u8], t: &synack_tcp::Transmit<'_>) -> Option<usize> {
    let (src, dst) = (t.local.ip(), t.remote.ip());
    let ip = IpRepr::new(src, dst, IpProtocol::Tcp, t.segment_len(), HOP_LIMIT);
    let hl = ip.header_len();
    let total = hl + t.segment_len();
    if buf.len() < total {
        return None;
    }
    ip.emit(&mut buf[..hl]);
    t.emit(&mut buf[hl..total]);
    Some(total)
}

/// Writes an IP header and the TCP segment into `buf`; `None` if it does not fit.
pub fn write_packet(buf: &mut [u8], src: IpAddr, dst: IpAddr, repr: &TcpRepr<'_>) -> Option<usize> {
    let ip = IpRepr::new(src, dst, IpProtocol::Tcp, repr.buffer_len(), HOP_LIMIT);
    let hl = ip.header_len();
    let total = hl + repr.buffer_len();
    if buf.len() < total {
        return None;
    }
    ip.emit(&mut buf[..hl]);
    repr.emit(&mut buf[hl..total], src, dst);
    Some(total)
}
