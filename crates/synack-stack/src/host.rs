//! A host: its interface, its connections and listeners, and the
//! machinery that runs them — the demultiplexer, the timer heap, the
//! ready queue and the event queue. Like the engine it is sans-IO: packets,
//! time and application calls in; packets, deadlines and events out.
//!
//! Work per event is O(1) amortised whatever the number of connections
//! (O(log n) for a timer): a segment goes to its connection by one hash
//! lookup; a connection that may have something to send joins the ready
//! queue, and `poll_transmit` only visits that queue; a timer sits in one
//! heap; events are drained from the connections just touched. A host with
//! nothing to do costs nothing.
//!
//! What lives where: `ip.rs` (addresses, routes, MSS, writing packets),
//! `demux.rs` (the 4-tuple), `listener.rs` (SYN queue, accept queue, SYN
//! cookies in `cookie.rs`), `timewait.rs` (the TIME-WAIT table), `icmp.rs`,
//! `ports.rs` (ephemeral ports), `timers.rs`, `counters.rs`, `table.rs`.

use crate::config::{HostConfig, Keys};
use crate::counters::Counters;
use crate::demux::{ConnTable, DemuxHash, Tuple};
use crate::ip::{self, Interface};
use crate::listener::Listener;
use crate::ports::Ports;
use crate::timers::{Target, TimerHeap, NEVER};
use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use synack_tcp::{
    Cause, Config, Connection, Event, Instant, SegmentKind, SeqNum, State, Transition,
};
use synack_wire::{
    checksum, IpProtocol, IpRepr, TcpFlags, TcpHeader, TcpOptions, TcpRepr, WireError,
};

/// Most host-built segments waiting (RSTs, SYN-ACKs, TIME-WAIT ACKs, ICMP).
pub(crate) const MAX_OUTBOX: usize = 4096;
/// Most events kept for the driver; older ones are dropped (and counted).
const MAX_EVENTS: usize = 65536;
/// Boxes of finished connections kept for new ones, and the most buffer
/// memory such a box may still hold (its old connection is dropped only
/// when the box is reused, after the new one took over its memory).
const SPARE_BOXES: usize = 8;
const SPARE_BUFFERS: usize = 16 * 1024;

/// Names a connection or listener on a host. Stale handles (of a removed
/// entry) never reach a newer one in the same slot.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Handle {
    pub(crate) index: u32,
    pub(crate) generation: u32,
}

impl Handle {
    pub fn index(self) -> u32 {
        self.index
    }
}

/// Why a host call failed.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum StackError {
    /// The port (or 4-tuple) is taken, by a listener, a connection or
    /// TIME-WAIT (without the reuse option).
    AddrInUse,
    /// No free ephemeral port, or no local address of the family.
    AddrNotAvailable,
    /// No route to the destination.
    Unreachable,
    /// The handle names nothing (any more), or not what the call needs.
    BadHandle,
}

impl std::fmt::Display for StackError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StackError::AddrInUse => "address already in use",
            StackError::AddrNotAvailable => "cannot assign requested address",
            StackError::Unreachable => "network is unreachable",
            StackError::BadHandle => "no such connection or listener",
        })
    }
}

impl std::error::Error for StackError {}

/// `poll_transmit` was given less room than a packet may need.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct BufferTooSmall {
    /// The link MTU: a buffer this large always suffices.
    pub need: usize,
}

impl std::fmt::Display for BufferTooSmall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "transmit buffer too small: need {} bytes", self.need)
    }
}

impl std::error::Error for BufferTooSmall {}

/// What happened, for the driver and the application.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum HostEvent {
    /// An engine event of a connection.
    Conn(Handle, Event),
    /// A listener's own state change (CLOSED → LISTEN and back), or one of
    /// its half-open connections' (LISTEN → SYN-RECEIVED, SYN-RECEIVED →
    /// LISTEN or CLOSED), which have no connection of their own yet.
    Listener {
        listener: Handle,
        remote: Option<SocketAddr>,
        transition: Transition,
    },
    /// A connection is waiting in the listener's accept queue.
    Incoming(Handle),
}

/// How to open a connection.
#[derive(Clone, Debug, Default)]
pub struct ConnectOptions {
    /// Its own TCP settings (buffers, Nagle, ...); the host's otherwise.
    pub config: Option<Config>,
    /// A local address and port to use instead of an ephemeral one.
    pub local: Option<SocketAddr>,
    /// Take a 4-tuple (or port) that a TIME-WAIT entry still holds.
    pub reuse_addr: bool,
}

/// A packet the host built itself.
#[derive(Clone, Debug)]
pub(crate) enum Outgoing {
    Tcp {
        src: IpAddr,
        dst: IpAddr,
        repr: TcpHeader,
    },
    /// An ICMP or ICMPv6 message, encoded (checksum included).
    Icmp {
        src: IpAddr,
        dst: IpAddr,
        msg: Vec<u8>,
    },
}

/// One connection and what the host keeps about it.
#[derive(Debug)]
pub(crate) struct ConnEntry {
    pub conn: Connection,
    /// The listener it came from, while it waits in its accept queue.
    pub listener: Option<Handle>,
    /// The application let go of its handle: the host finishes it alone.
    pub released: bool,
    /// Released while not yet CLOSED: counted against `max_orphans`.
    pub orphan: bool,
    pub in_ready: bool,
    pub in_map: bool,
    /// Borrowed by the application since the host last looked at it.
    pub dirty: bool,
    /// The deadline the timer heap was last given for it.
    pub armed: u64,
}

#[derive(Debug)]
pub(crate) enum Entry {
    Conn(Box<ConnEntry>),
    Listener(Box<Listener>),
}

/// The 4-tuple of the connection `h` names, while the connection table
/// holds it (`in_map`): what [`ConnTable`] compares and hashes.
#[inline]
pub(crate) fn mapped_tuple(slots: &[Slot], h: Handle) -> Option<Tuple> {
    let slot = slots.get(h.index as usize)?;
    match &slot.entry {
        Some(Entry::Conn(c)) if slot.generation == h.generation && c.in_map => Some(c.tuple()),
        _ => None,
    }
}

impl ConnEntry {
    /// The connection's 4-tuple (kept once, in the connection).
    pub fn tuple(&self) -> Tuple {
        Tuple {
            local: self.conn.local(),
            remote: self.conn.remote(),
        }
    }
}

#[derive(Debug)]
pub(crate) struct Slot {
    pub generation: u32,
    pub entry: Option<Entry>,
}

/// RFC 5961 §7: a host-wide budget of challenge ACKs per second.
#[derive(Debug, Default)]
struct ChallengeBudget {
    /// The second the budget is for (+1, so that 0 means "none yet").
    second: u64,
    used: u32,
    budget: u32,
}

impl ChallengeBudget {
    /// May a challenge ACK go out? The budget is drawn afresh each second
    /// between half and 1.5 times `limit`, so that the count cannot serve
    /// as a side channel (CVE-2016-5696), as Linux does.
    fn allow(&mut self, now: Instant, limit: u32, keys: &mut Keys) -> bool {
        let second = now.as_micros() / 1_000_000 + 1;
        if self.second != second {
            let limit = u64::from(limit.max(1));
            let budget = limit / 2 + keys.next_random() % (limit + 1);
            *self = ChallengeBudget {
                second,
                used: 0,
                budget: budget as u32,
            };
        }
        if self.used >= self.budget {
            return false;
        }
        self.used += 1;
        true
    }
}

/// A host on some link.
#[derive(Debug)]
pub struct Host {
    pub(crate) config: HostConfig,
    pub(crate) iface: Interface,
    pub(crate) keys: Keys,
    pub(crate) tcp4: Arc<Config>,
    pub(crate) tcp6: Arc<Config>,
    pub(crate) slots: Vec<Slot>,
    free: Vec<u32>,
    /// Boxes of forgotten connections: a new connection moves into one
    /// instead of allocating (a `ConnEntry` is past the allocator's
    /// small-size caches, so each fresh one takes its slow path), and
    /// takes over the old one's send ring and record storage. The boxes
    /// themselves are what is kept: `Entry::Conn` holds one.
    #[allow(clippy::vec_box)]
    spare: Vec<Box<ConnEntry>>,
    pub(crate) conns: ConnTable<Handle>,
    pub(crate) listeners: HashMap<u16, Handle, DemuxHash>,
    pub(crate) tw: crate::timewait::TimeWaitTable,
    pub(crate) timers: TimerHeap,
    ready: VecDeque<Handle>,
    /// Handles the application borrowed mutably: looked at on the next call.
    dirty: Vec<Handle>,
    pub(crate) outbox: VecDeque<Outgoing>,
    events: VecDeque<HostEvent>,
    orphans: VecDeque<Handle>,
    orphan_count: usize,
    pub(crate) ports: Ports,
    challenge: ChallengeBudget,
    pub(crate) counters: Counters,
    /// Units of work done (slots and timer entries touched, lookups):
    /// what the scale tests count instead of time.
    pub(crate) work: u64,
    last_sender: Option<Handle>,
    /// The connection the last segment was delivered to, and its tuple.
    last_hit: Option<Handle>,
    last_tuple: Tuple,
}

/// A connection's settings on this host: its MSS is what the link's MTU
/// allows for the family (`Config::mss` is replaced), lowered to the
/// host's clamp if it has one.
pub(crate) fn adapt(mut cfg: Config, iface: &Interface, clamp: Option<u16>, v4: bool) -> Config {
    cfg.mss = iface
        .mss(v4)
        .min(clamp.unwrap_or(u16::MAX))
        .min(cfg.max_segment.unwrap_or(u16::MAX));
    cfg
}

impl Host {
    /// A host with `config`, its secrets (ISN key, cookie key, port key)
    /// drawn from `entropy`, which the driver takes from a real random
    /// source (or, in a simulation, from its seed).
    pub fn new(config: HostConfig, entropy: [u8; 32]) -> Host {
        let iface = Interface {
            addresses: config.addresses.clone(),
            default_v4: config.default_route_v4,
            default_v6: config.default_route_v6,
            mtu: config.mtu,
        };
        let keys = Keys::new(&entropy, config.isn_secret);
        let demux = keys.demux;
        Host {
            tcp4: Arc::new(adapt(config.tcp.clone(), &iface, config.mss_clamp, true)),
            tcp6: Arc::new(adapt(config.tcp.clone(), &iface, config.mss_clamp, false)),
            ports: Ports::new(config.ephemeral_ports, keys.ports),
            keys,
            iface,
            config,
            slots: Vec::new(),
            free: Vec::new(),
            spare: Vec::new(),
            conns: ConnTable::new(demux),
            listeners: HashMap::with_hasher(demux),
            tw: crate::timewait::TimeWaitTable::new(demux),
            timers: TimerHeap::default(),
            ready: VecDeque::new(),
            dirty: Vec::new(),
            outbox: VecDeque::new(),
            events: VecDeque::new(),
            orphans: VecDeque::new(),
            orphan_count: 0,
            challenge: ChallengeBudget::default(),
            counters: Counters::default(),
            work: 0,
            last_sender: None,
            last_hit: None,
            last_tuple: Tuple {
                local: SocketAddr::new(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), 0),
                remote: SocketAddr::new(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), 0),
            },
        }
    }

    /// The first address.
    pub fn addr(&self) -> IpAddr {
        self.config.addr()
    }

    pub fn config(&self) -> &HostConfig {
        &self.config
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Units of work done so far (see the scale tests).
    pub fn work(&self) -> u64 {
        self.work
    }

    /// Entries in the TIME-WAIT table.
    pub fn time_wait_len(&self) -> usize {
        self.tw.len()
    }

    /// Connections let go of by their application and not yet finished.
    pub fn orphans(&self) -> usize {
        self.orphan_count
    }

    /// Timer entries in the heap (some may be stale).
    pub fn timer_entries(&self) -> usize {
        self.timers.len()
    }

    /// The TCP settings for a family (MSS from the MTU).
    pub(crate) fn tcp_config(&self, v4: bool) -> Arc<Config> {
        if v4 {
            self.tcp4.clone()
        } else {
            self.tcp6.clone()
        }
    }

    // ---- the slab ---------------------------------------------------------

    pub(crate) fn insert(&mut self, entry: Entry) -> Handle {
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
        slot.entry = Some(entry);
        Handle {
            index,
            generation: slot.generation,
        }
    }

    pub(crate) fn entry_mut(&mut self, h: Handle) -> Option<&mut Entry> {
        let slot = self.slots.get_mut(h.index as usize)?;
        if slot.generation != h.generation {
            return None;
        }
        slot.entry.as_mut()
    }

    pub(crate) fn entry(&self, h: Handle) -> Option<&Entry> {
        let slot = self.slots.get(h.index as usize)?;
        if slot.generation != h.generation {
            return None;
        }
        slot.entry.as_ref()
    }

    pub(crate) fn conn_entry_mut(&mut self, h: Handle) -> Option<&mut ConnEntry> {
        match self.entry_mut(h)? {
            Entry::Conn(c) => Some(c),
            Entry::Listener(_) => None,
        }
    }

    pub(crate) fn listener_mut(&mut self, h: Handle) -> Option<&mut Listener> {
        match self.entry_mut(h)? {
            Entry::Listener(l) => Some(l),
            Entry::Conn(_) => None,
        }
    }

    /// The listener behind a handle.
    pub fn listener(&self, h: Handle) -> Option<&Listener> {
        match self.entry(h)? {
            Entry::Listener(l) => Some(l),
            Entry::Conn(_) => None,
        }
    }

    pub(crate) fn remove_slot(&mut self, h: Handle) -> Option<Entry> {
        let slot = self.slots.get_mut(h.index as usize)?;
        if slot.generation != h.generation {
            return None;
        }
        let e = slot.entry.take()?;
        self.free.push(h.index);
        Some(e)
    }

    /// The connection behind a handle.
    pub fn conn(&self, h: Handle) -> Option<&Connection> {
        match self.entry(h)? {
            Entry::Conn(c) => Some(&c.conn),
            Entry::Listener(_) => None,
        }
    }

    /// The connection behind a handle, for application calls (`send`,
    /// `recv`, `shutdown`, ...). The host looks at it again on its next
    /// call: what the application did may need a segment or a timer.
    pub fn conn_mut(&mut self, h: Handle) -> Option<&mut Connection> {
        let c = match self.slots.get_mut(h.index as usize) {
            Some(Slot {
                generation,
                entry: Some(Entry::Conn(c)),
            }) if *generation == h.generation => c,
            _ => return None,
        };
        if !c.dirty {
            c.dirty = true;
            self.dirty.push(h);
        }
        Some(&mut c.conn)
    }

    /// Every live handle (connections and listeners), in slot order.
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

    // ---- opening --------------------------------------------------------

    /// Active OPEN to `remote` from an ephemeral port.
    pub fn connect(&mut self, now: Instant, remote: SocketAddr) -> Result<Handle, StackError> {
        self.connect_with(now, remote, ConnectOptions::default())
    }

    /// Active OPEN from a given local address (e.g. simultaneous open).
    pub fn connect_from(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> Result<Handle, StackError> {
        self.connect_with(
            now,
            remote,
            ConnectOptions {
                local: Some(local),
                ..ConnectOptions::default()
            },
        )
    }

    /// Active OPEN with options.
    pub fn connect_with(
        &mut self,
        now: Instant,
        remote: SocketAddr,
        opts: ConnectOptions,
    ) -> Result<Handle, StackError> {
        self.flush_dirty();
        let v4 = remote.is_ipv4();
        let local = match opts.local {
            Some(l) => {
                if l.is_ipv4() != v4 || !self.iface.has(l.ip()) {
                    return Err(StackError::AddrNotAvailable);
                }
                let t = Tuple { local: l, remote };
                let slots = &self.slots;
                if self.conns.get(&t, |h| mapped_tuple(slots, h)).is_some()
                    || self.listeners.contains_key(&l.port())
                {
                    return Err(StackError::AddrInUse);
                }
                if let Some(i) = self.tw.find(&t) {
                    if !opts.reuse_addr {
                        return Err(StackError::AddrInUse);
                    }
                    self.tw.remove(i);
                    self.counters.tw_recycled += 1;
                }
                l
            }
            None => {
                let src = self
                    .iface
                    .source_for(remote.ip())
                    .ok_or(StackError::Unreachable)?;
                let reuse = opts.reuse_addr;
                let mut work = 0;
                let port = {
                    let (conns, tw, listeners) = (&self.conns, &self.tw, &self.listeners);
                    let slots = &self.slots;
                    self.ports.choose(src, remote, |p| {
                        work += 1;
                        let t = Tuple {
                            local: SocketAddr::new(src, p),
                            remote,
                        };
                        listeners.contains_key(&p)
                            || conns.get(&t, |h| mapped_tuple(slots, h)).is_some()
                            || (!reuse && tw.find(&t).is_some())
                    })
                };
                self.work += work;
                let port = port.ok_or(StackError::AddrNotAvailable)?;
                let l = SocketAddr::new(src, port);
                if let Some(i) = self.tw.find(&Tuple { local: l, remote }) {
                    self.tw.remove(i);
                    self.counters.tw_recycled += 1;
                }
                l
            }
        };
        let config = match opts.config {
            Some(c) => Arc::new(adapt(c, &self.iface, self.config.mss_clamp, v4)),
            None => self.tcp_config(v4),
        };
        let conn = Connection::connect(config, now, local, remote, self.keys.isn);
        self.counters.tcp_active_opens += 1;
        Ok(self.add_conn(conn, None))
    }

    /// Gives `conn` the rings of the spare box [`Host::add_conn`] will
    /// move it into, before it takes its first segment: a connection a
    /// listener opens may get data with the handshake's last ACK.
    pub(crate) fn reuse_spare_memory(&mut self, conn: &mut Connection) {
        if let Some(b) = self.spare.last_mut() {
            conn.reuse_memory(&mut b.conn);
        }
    }

    /// Registers a new connection: slab, 4-tuple, ready queue, timers.
    pub(crate) fn add_conn(&mut self, mut conn: Connection, listener: Option<Handle>) -> Handle {
        let tuple = Tuple {
            local: conn.local(),
            remote: conn.remote(),
        };
        let boxed = match self.spare.pop() {
            Some(mut b) => {
                conn.reuse_memory(&mut b.conn);
                // Field by field: the connection moves straight in.
                b.conn = conn;
                b.listener = listener;
                b.released = false;
                b.orphan = false;
                b.in_ready = false;
                b.in_map = true;
                b.dirty = false;
                b.armed = NEVER;
                b
            }
            None => Box::new(ConnEntry {
                conn,
                listener,
                released: false,
                orphan: false,
                in_ready: false,
                in_map: true,
                dirty: false,
                armed: NEVER,
            }),
        };
        let h = self.insert(Entry::Conn(boxed));
        let slots = &self.slots;
        self.conns.insert(tuple, h, |x| mapped_tuple(slots, x));
        self.work += 1;
        self.touch(h);
        h
    }

    /// A connection waiting in `listener`'s accept queue, if any.
    pub fn accept(&mut self, listener: Handle) -> Option<Handle> {
        let l = self.listener_mut(listener)?;
        let h = l.accept.pop_front()?;
        if let Some(c) = self.conn_entry_mut(h) {
            c.listener = None;
        }
        Some(h)
    }

    // ---- closing --------------------------------------------------------

    /// The application closes the connection and lets go of its handle
    /// (a socket's `close`): the host finishes it alone.
    pub fn close(&mut self, now: Instant, h: Handle) {
        if let Some(c) = self.conn_entry_mut(h) {
            c.conn.close(now);
        }
        self.release(now, h);
    }

    /// The application lets go of a handle without closing first (the
    /// connection is closed for it). A listener handle closes the listener.
    pub fn release(&mut self, now: Instant, h: Handle) {
        if self.listener(h).is_some() {
            self.close_listener(now, h);
            return;
        }
        let Some(c) = self.conn_entry_mut(h) else {
            return;
        };
        if !c.released {
            c.released = true;
            if !c.conn.is_orphan() {
                c.conn.close(now);
            }
            if c.conn.state() != State::Closed {
                c.orphan = true;
                self.orphan_count += 1;
                self.orphans.push_back(h);
            }
        }
        self.touch(h);
        self.limit_orphans(now);
    }

    /// An orphan is finished, or reset: it no longer counts.
    fn uncount_orphan(&mut self, h: Handle) {
        let Some(c) = self.conn_entry_mut(h) else {
            return;
        };
        if !c.orphan {
            return;
        }
        c.orphan = false;
        self.orphan_count = self.orphan_count.saturating_sub(1);
        // The queue keeps handles of orphans that have finished since;
        // drop them once they are the majority (amortised O(1)).
        if self.orphans.len() > 2 * self.orphan_count + 64 {
            let live: VecDeque<Handle> = self
                .orphans
                .iter()
                .copied()
                .filter(|&o| matches!(self.entry(o), Some(Entry::Conn(c)) if c.orphan))
                .collect();
            self.orphans = live;
        }
    }

    /// Resets the oldest orphans until there are at most `max_orphans`.
    fn limit_orphans(&mut self, now: Instant) {
        while self.orphan_count > self.config.max_orphans {
            let Some(h) = self.orphans.pop_front() else {
                break;
            };
            let Some(c) = self.conn_entry_mut(h) else {
                continue;
            };
            if !c.orphan {
                continue;
            }
            c.conn.abort_because(now, Cause::OrphanLimit);
            self.counters.orphans_reset += 1;
            self.uncount_orphan(h);
            self.touch(h);
        }
    }

    // ---- the per-connection bookkeeping --------------------------------

    /// Looks at a connection after anything happened to it: its events,
    /// whether it may send, its timer, and whether it is done.
    pub(crate) fn touch(&mut self, h: Handle) {
        self.touch_with(h, false);
    }

    /// `touch`; `drained`: the connection just said it has nothing to
    /// send (it stays out of the ready queue, and may now be finished).
    fn touch_with(&mut self, h: Handle, drained: bool) {
        self.work += 1;
        let Some(Entry::Conn(c)) = self.slots.get_mut(h.index as usize).and_then(|s| {
            (s.generation == h.generation)
                .then_some(())
                .and(s.entry.as_mut())
        }) else {
            return;
        };
        let mut closed_cause = None;
        while let Some(ev) = c.conn.poll_event() {
            if let Event::StateChanged(t) = ev {
                if t.to == State::Closed {
                    closed_cause = Some((t.from, t.cause));
                }
            }
            if self.events.len() >= MAX_EVENTS {
                self.events.pop_front();
                self.counters.events_dropped += 1;
            }
            self.events.push_back(HostEvent::Conn(h, ev));
        }
        if !c.in_ready && !drained {
            c.in_ready = true;
            self.ready.push_back(h);
        }
        let target = Target::Conn {
            index: h.index,
            gen: h.generation,
        };
        let deadline = c.conn.poll_timeout();
        let pushed = self.timers.schedule(target, deadline, &mut c.armed);
        let state = c.conn.state();
        let released = c.released;
        let finished = c.conn.is_finished();
        if pushed {
            self.compact_timers();
        }
        if let Some((from, cause)) = closed_cause {
            match (from, cause) {
                (State::SynSent | State::SynReceived, _) => self.counters.tcp_attempt_fails += 1,
                (State::Established | State::CloseWait, Cause::RecvRst) => {
                    self.counters.tcp_estab_resets += 1
                }
                _ => {}
            }
        }
        if state == State::Closed {
            self.unmap(h);
            if finished && (released || self.is_unclaimed(h)) {
                self.forget(h);
            }
        } else if state == State::TimeWait && released && drained {
            // The application is gone: TIME-WAIT moves to the compact table.
            let tw = self.conn(h).and_then(|c| c.time_wait_state());
            if let Some(tw) = tw {
                self.unmap(h);
                self.enter_time_wait(&tw);
                self.forget(h);
            }
        }
    }

    /// A connection nobody can ever claim: still in an accept queue whose
    /// application never took it, and now closed.
    fn is_unclaimed(&self, h: Handle) -> bool {
        matches!(self.entry(h), Some(Entry::Conn(c)) if c.listener.is_some())
    }

    /// Takes a connection out of demultiplexing: its 4-tuple answers with
    /// RST again (or belongs to TIME-WAIT).
    fn unmap(&mut self, h: Handle) {
        if let Some(c) = self.conn_entry_mut(h) {
            if c.in_map {
                c.in_map = false;
                let t = c.tuple();
                self.conns.remove(&t, h);
            }
        }
    }

    /// Frees the slot of a finished (or moved) connection.
    fn forget(&mut self, h: Handle) {
        self.unmap(h);
        self.uncount_orphan(h);
        if let Some(Entry::Conn(c)) = self.remove_slot(h) {
            if let Some(l) = c.listener {
                if let Some(l) = self.listener_mut(l) {
                    l.accept.retain(|&x| x != h);
                }
            }
            if self.spare.len() < SPARE_BOXES && c.conn.buffer_memory() <= SPARE_BUFFERS {
                self.spare.push(c);
            }
        }
    }

    /// Looks at every connection the application borrowed.
    fn flush_dirty(&mut self) {
        while let Some(h) = self.dirty.pop() {
            if let Some(c) = self.conn_entry_mut(h) {
                c.dirty = false;
                self.touch(h);
            }
        }
    }

    // ---- input ------------------------------------------------------------

    /// One IP packet arrives from the link.
    pub fn handle_packet(&mut self, now: Instant, packet: &[u8]) {
        self.packet_input(now, packet, false);
    }

    /// One IP packet arrives from a device that vouches for its TCP
    /// checksum (`DeviceCaps::rx_checksums_verified`): a TUN device with
    /// offloads, whose packets the local kernel built, and may hand over
    /// with only the pseudo-header summed into the checksum field (the
    /// kernel's `CHECKSUM_PARTIAL`). The IPv4 header checksum is still
    /// checked.
    pub fn handle_verified_packet(&mut self, now: Instant, packet: &[u8]) {
        self.packet_input(now, packet, true);
    }

    fn packet_input(&mut self, now: Instant, packet: &[u8], verified: bool) {
        self.flush_dirty();
        self.counters.ip_in_receives += 1;
        self.work += 1;
        let (ip, payload) = match IpRepr::parse(packet) {
            Ok(x) => x,
            Err(WireError::Fragment) => {
                self.counters.ip_reasm_fails += 1;
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
        if ip.hop_limit() == 0 {
            self.counters.ip_in_hdr_errors += 1;
            return;
        }
        if !self.iface.has(ip.dst()) {
            self.counters.ip_in_addr_errors += 1;
            return;
        }
        match ip.protocol() {
            IpProtocol::Tcp => self.tcp_input(now, ip.src(), ip.dst(), payload, verified),
            IpProtocol::Icmp | IpProtocol::Icmpv6 => self.icmp_input(now, &ip, payload),
            _ => self.counters.ip_in_unknown_protos += 1,
        }
    }

    fn tcp_input(
        &mut self,
        now: Instant,
        src: IpAddr,
        dst: IpAddr,
        segment: &[u8],
        verified: bool,
    ) {
        // The checksum is verified where the segment goes: a connection
        // sums its text while copying it into the receive ring (one pass
        // over the bytes, not two); anything else sums it first.
        let verify = !self.config.checksum_offload && !verified;
        let parsed = if verify {
            TcpRepr::parse_deferred(segment, src, dst).map(|(s, sum)| (s, Some(sum)))
        } else {
            TcpRepr::parse(segment, src, dst, false).map(|s| (s, None))
        };
        let (seg, header_sum) = match parsed {
            Ok(s) => s,
            Err(_) => {
                self.counters.tcp_in_errs += 1;
                return;
            }
        };
        let (local, remote) = ip::endpoints(src, dst, &seg);
        let tuple = Tuple { local, remote };
        self.work += 1;
        // Segments come in trains: the connection the last one went to is
        // tried before the table. It must still hold the tuple (`in_map`:
        // a closed connection waiting for its application has let go).
        let slots = &self.slots;
        let found = self
            .last_hit
            .filter(|&h| self.last_tuple == tuple && mapped_tuple(slots, h) == Some(tuple))
            .or_else(|| self.conns.get(&tuple, |h| mapped_tuple(slots, h)));
        if let Some(h) = found {
            let Some(c) = self.conn_entry_mut(h) else {
                return;
            };
            let intact = match header_sum {
                Some(sum) => c.conn.handle_segment_summed(now, src, dst, &seg, sum),
                None => {
                    c.conn.handle_segment(now, src, dst, &seg);
                    true
                }
            };
            if !intact {
                self.counters.tcp_in_csum_errors += 1;
                return;
            }
            self.counters.tcp_in_segs += 1;
            self.last_hit = Some(h);
            self.last_tuple = tuple;
            self.touch(h);
            return;
        }
        if let Some(sum) = header_sum {
            if !checksum::verify(sum + checksum::sum(seg.payload)) {
                self.counters.tcp_in_csum_errors += 1;
                return;
            }
        }
        self.counters.tcp_in_segs += 1;
        if let Some(index) = self.tw.find(&tuple) {
            if self.time_wait_input(now, index, &seg) {
                return;
            }
        }
        if let Some(&lh) = self.listeners.get(&seg.dst_port) {
            if self.listener_accepts(lh, dst) {
                self.listener_input(now, lh, tuple, &seg);
                return;
            }
        }
        self.reply_rst(tuple, &seg);
    }

    /// RFC 9293 §3.10.7.1: a segment for no connection gets a RST, unless
    /// it is a RST itself.
    pub(crate) fn reply_rst(&mut self, t: Tuple, seg: &TcpRepr<'_>) {
        if seg.flags.rst() {
            return;
        }
        let (seq, ack, flags) = if seg.flags.ack() {
            // <SEQ=SEG.ACK><CTL=RST>
            (seg.ack, 0, TcpFlags::RST)
        } else {
            // <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
            let ack = SeqNum(seg.seq) + seg.segment_len() as u32;
            (0, ack.0, TcpFlags::RST | TcpFlags::ACK)
        };
        let repr = TcpHeader {
            src_port: t.local.port(),
            dst_port: t.remote.port(),
            seq,
            ack,
            flags,
            window: 0,
            urgent: 0,
            options: TcpOptions::default(),
        };
        self.push_out(t.local.ip(), t.remote.ip(), repr);
    }

    /// Queues a host-built TCP segment.
    pub(crate) fn push_out(&mut self, src: IpAddr, dst: IpAddr, repr: TcpHeader) {
        if self.outbox.len() >= MAX_OUTBOX {
            self.counters.outbox_drops += 1;
            return;
        }
        self.outbox.push_back(Outgoing::Tcp { src, dst, repr });
    }

    pub(crate) fn push_event(&mut self, ev: HostEvent) {
        if self.events.len() >= MAX_EVENTS {
            self.events.pop_front();
            self.counters.events_dropped += 1;
        }
        self.events.push_back(ev);
    }

    // ---- timers -----------------------------------------------------------

    /// The earliest time at which `handle_timeout` has work to do (it may
    /// occasionally find nothing: stale entries are skipped then).
    pub fn poll_timeout(&self) -> Option<Instant> {
        // Connections the application borrowed since may want earlier.
        let dirty = self
            .dirty
            .iter()
            .filter_map(|&h| self.conn(h).and_then(|c| c.poll_timeout()));
        self.timers.next().into_iter().chain(dirty).min()
    }

    /// Rebuilds the timer heap from its live entries once stale ones are
    /// the majority. Every owner has at most one live entry.
    pub(crate) fn compact_timers(&mut self) {
        let owners = self.slots.len() + self.tw.len();
        if self.timers.len() <= 2 * owners + 1024 {
            return;
        }
        let (slots, tw) = (&self.slots, &self.tw);
        self.timers.retain(|target, at| match target {
            Target::Conn { index, gen } | Target::Listener { index, gen } => {
                match slots.get(index as usize) {
                    Some(s) if s.generation == gen => match &s.entry {
                        Some(Entry::Conn(c)) => c.armed == at,
                        Some(Entry::Listener(l)) => l.armed == at,
                        None => false,
                    },
                    _ => false,
                }
            }
            Target::TimeWait { index, gen } => tw.armed(index, gen) == Some(at),
        });
        self.work += self.timers.len() as u64;
    }

    /// Runs every timer that is due.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.flush_dirty();
        while let Some((at, target)) = self.timers.pop_due(now) {
            self.work += 1;
            match target {
                Target::Conn { index, gen } => {
                    let h = Handle {
                        index,
                        generation: gen,
                    };
                    let Some(c) = self.conn_entry_mut(h) else {
                        continue;
                    };
                    if c.armed != at {
                        continue;
                    }
                    c.armed = NEVER;
                    c.conn.handle_timeout(now);
                    self.touch(h);
                }
                Target::Listener { index, gen } => {
                    let h = Handle {
                        index,
                        generation: gen,
                    };
                    self.on_listener_timer(now, h, at);
                }
                Target::TimeWait { index, gen } => self.on_time_wait_timer(now, index, gen, at),
            }
        }
    }

    // ---- output -----------------------------------------------------------

    /// Writes the next outgoing IP packet into `buf` and returns its
    /// length, or `None` when there is nothing to send. `buf` must hold the
    /// link MTU; if it is smaller nothing is taken from any connection and
    /// the error says how much is needed.
    pub fn poll_transmit(
        &mut self,
        now: Instant,
        buf: &mut [u8],
    ) -> Result<Option<usize>, BufferTooSmall> {
        self.last_sender = None;
        if buf.len() < self.iface.mtu {
            self.counters.out_buffer_small += 1;
            return Err(BufferTooSmall {
                need: self.iface.mtu,
            });
        }
        self.flush_dirty();
        while let Some(out) = self.outbox.pop_front() {
            let n = match out {
                Outgoing::Tcp { src, dst, repr } => {
                    if repr.flags.rst() {
                        self.counters.tcp_out_rsts += 1;
                    }
                    self.counters.tcp_out_segs += 1;
                    let csum = !self.config.checksum_offload;
                    ip::write_tcp(
                        buf,
                        src,
                        dst,
                        self.config.hop_limit,
                        &repr,
                        [&[], &[]],
                        csum,
                    )
                }
                Outgoing::Icmp { src, dst, msg } => self.write_icmp(buf, src, dst, &msg),
            };
            if let Some(n) = n {
                return Ok(Some(n));
            }
        }
        while let Some(&h) = self.ready.front() {
            self.work += 1;
            let hop = self.config.hop_limit;
            let Some(Entry::Conn(c)) = self
                .slots
                .get_mut(h.index as usize)
                .filter(|s| s.generation == h.generation)
                .and_then(|s| s.entry.as_mut())
            else {
                self.ready.pop_front();
                continue;
            };
            // Looked at where it was returned: a 176-byte `Transmit`
            // moved out of the `Option` is copied (a call to memcpy).
            let out = c.conn.poll_transmit(now);
            let Some(t) = &out else {
                c.in_ready = false;
                self.ready.pop_front();
                self.after_transmit(h);
                continue;
            };
            let kind = t.kind;
            if kind == SegmentKind::ChallengeAck
                && !self
                    .challenge
                    .allow(now, self.config.challenge_ack_limit, &mut self.keys)
            {
                self.counters.challenge_acks_dropped += 1;
                continue;
            }
            let csum = !self.config.checksum_offload;
            let n = ip::write_tcp(
                buf,
                t.local.ip(),
                t.remote.ip(),
                hop,
                &t.header,
                t.payload,
                csum,
            );
            if kind == SegmentKind::Rst {
                self.counters.tcp_out_rsts += 1;
            }
            if kind.is_retransmission() {
                self.counters.tcp_retrans_segs += 1;
            }
            if kind == SegmentKind::ChallengeAck {
                self.counters.challenge_acks += 1;
            }
            self.counters.tcp_out_segs += 1;
            self.last_sender = Some(h);
            if let Some(n) = n {
                return Ok(Some(n));
            }
        }
        Ok(None)
    }

    /// A connection ran out of things to send: events, timers, and maybe
    /// its end (a RST that was owed has now gone out).
    fn after_transmit(&mut self, h: Handle) {
        self.touch_with(h, true);
    }

    /// The connection that wrote the last packet `poll_transmit` returned
    /// (`None` for a packet the host built itself).
    pub fn last_sender(&self) -> Option<Handle> {
        self.last_sender
    }

    /// The next event, oldest first.
    pub fn poll_event(&mut self) -> Option<HostEvent> {
        self.flush_dirty();
        self.events.pop_front()
    }
}
