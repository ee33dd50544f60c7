//! Listeners: passive OPEN for many clients.
//!
//! A listener answers a SYN with a SYN-ACK and keeps a *half-open record*
//! — addresses, both ISNs, what the SYN offered, retransmission count and
//! deadline: about a hundred bytes, no buffers — in a bounded SYN queue.
//! The full connection is made only when the final ACK arrives, and waits
//! in the accept queue, which the listen backlog bounds. When the SYN queue
//! is full the listener answers with a SYN cookie instead (RFC 4987 §3.6)
//! and keeps nothing; a valid cookie in the ACK makes the connection. The
//! seeds' SYN flood fills the SYN queue with half-opens that never
//! complete: with cookies, legitimate clients still connect, and memory
//! stays bounded by the SYN queue and the backlog.
//!
//! RFC 9293 §3.10.7.2 for what LISTEN does with other segments: a RST is
//! ignored, an ACK gets a RST, a SYN with FIN (a scanner's probe) is
//! dropped, anything else is dropped.

use crate::cookie;
use crate::demux::{DemuxHash, Tuple};
use crate::host::{adapt, Entry, Handle, Host, HostEvent, StackError};
use crate::timers::{Target, NEVER};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use synack_tcp::{
    syn_ack_options, syn_window, timestamp_clock, Cause, Config, Connection, Duration, Handshake,
    Instant, SeqNum, State, Transition,
};
use synack_wire::{TcpFlags, TcpHeader, TcpOptions, TcpRepr};

/// What a peer's SYN offered, compactly.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct PeerSyn {
    pub mss: Option<u16>,
    pub wscale: Option<u8>,
    pub sack: bool,
    /// The SYN's TSval, if it carried timestamps.
    pub tsval: Option<u32>,
}

impl PeerSyn {
    fn from_options(o: &TcpOptions) -> PeerSyn {
        PeerSyn {
            mss: o.mss,
            wscale: o.window_scale,
            sack: o.sack_permitted,
            tsval: o.timestamps.map(|t| t.0),
        }
    }

    fn options(&self) -> TcpOptions {
        let mut o = TcpOptions::default();
        o.mss = self.mss;
        o.window_scale = self.wscale;
        o.sack_permitted = self.sack;
        o.timestamps = self.tsval.map(|v| (v, 0));
        o
    }
}

/// A half-open connection: SYN received, SYN-ACK sent, waiting for the ACK.
#[derive(Copy, Clone, Debug)]
pub struct HalfOpen {
    pub tuple: Tuple,
    pub iss: SeqNum,
    pub irs: SeqNum,
    pub peer: PeerSyn,
    /// SEG.WND of the SYN.
    pub window: u16,
    /// SYN-ACKs sent.
    pub xmits: u8,
    pub first_sent: Instant,
    /// When the SYN-ACK goes again (µs).
    pub next: u64,
    gen: u32,
}

/// A listening port.
#[derive(Debug)]
pub struct Listener {
    /// The address it listens on (unspecified: any of the host's).
    pub local: SocketAddr,
    /// The accept queue's bound (listen's backlog).
    pub backlog: usize,
    /// The SYN queue's bound.
    pub syn_max: usize,
    /// Settings of its connections, per family, if its own.
    config: Option<(Arc<Config>, Arc<Config>)>,
    syn: Vec<Option<HalfOpen>>,
    syn_gens: Vec<u32>,
    syn_free: Vec<u32>,
    syn_by_tuple: HashMap<Tuple, u32, DemuxHash>,
    syn_timers: BinaryHeap<Reverse<(u64, u32, u32)>>,
    /// Connections ready for `accept`.
    pub accept: VecDeque<Handle>,
    /// When the SYN queue last overflowed (cookies are checked only after).
    pub last_overflow: Option<Instant>,
    /// The deadline the host's timer heap was last given for it.
    pub(crate) armed: u64,
}

impl Listener {
    /// Half-open connections in the SYN queue.
    pub fn syn_queue_len(&self) -> usize {
        self.syn_by_tuple.len()
    }

    /// The half-open connections.
    pub fn half_open(&self) -> impl Iterator<Item = &HalfOpen> {
        self.syn.iter().flatten()
    }

    fn add(&mut self, mut h: HalfOpen) -> u32 {
        let index = match self.syn_free.pop() {
            Some(i) => i,
            None => {
                self.syn.push(None);
                self.syn_gens.push(0);
                (self.syn.len() - 1) as u32
            }
        };
        let gen = self.syn_gens[index as usize].wrapping_add(1);
        self.syn_gens[index as usize] = gen;
        h.gen = gen;
        self.syn_by_tuple.insert(h.tuple, index);
        self.syn_timers.push(Reverse((h.next, index, gen)));
        self.syn[index as usize] = Some(h);
        // Entries of half-opens that completed stay in the heap until they
        // come up; keep them from outgrowing the queue itself.
        if self.syn_timers.len() > 2 * self.syn_max + 16 {
            let syn = &self.syn;
            self.syn_timers.retain(|&Reverse((at, i, g))| {
                matches!(syn.get(i as usize), Some(Some(h)) if h.gen == g && h.next == at)
            });
        }
        index
    }

    /// Bytes the listener holds: itself, its SYN queue and its accept
    /// queue (the connections waiting there are counted with the host's).
    pub fn memory(&self) -> usize {
        use std::mem::size_of;
        size_of::<Listener>()
            + self.syn.capacity() * size_of::<Option<HalfOpen>>()
            + (self.syn_gens.capacity() + self.syn_free.capacity()) * size_of::<u32>()
            + self.syn_by_tuple.capacity() * (size_of::<Tuple>() + size_of::<u32>() + 1)
            + self.syn_timers.capacity() * size_of::<(u64, u32, u32)>()
            + self.accept.capacity() * size_of::<Handle>()
    }

    fn remove(&mut self, index: u32) -> Option<HalfOpen> {
        let h = self.syn.get_mut(index as usize)?.take()?;
        self.syn_by_tuple.remove(&h.tuple);
        self.syn_free.push(index);
        Some(h)
    }

    /// The earliest SYN-ACK deadline (skipping stale heap entries).
    fn next_deadline(&mut self) -> Option<u64> {
        while let Some(&Reverse((at, index, gen))) = self.syn_timers.peek() {
            match self.syn.get(index as usize).and_then(|s| s.as_ref()) {
                Some(h) if h.gen == gen && h.next == at => return Some(at),
                _ => {
                    self.syn_timers.pop();
                }
            }
        }
        None
    }
}

impl Host {
    /// Passive OPEN on `port`, any local address, backlog 128.
    pub fn listen(&mut self, now: Instant, port: u16) -> Result<Handle, StackError> {
        let any = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port);
        self.listen_on(now, any, 128, None)
    }

    /// `c` fitted to each family's interface (MTU and MSS clamp).
    fn per_family(&self, c: Config) -> (Arc<Config>, Arc<Config>) {
        let clamp = self.config.mss_clamp;
        let c4 = adapt(c.clone(), &self.iface, clamp, true);
        let c6 = adapt(c, &self.iface, clamp, false);
        (Arc::new(c4), Arc::new(c6))
    }

    /// New TCP settings for a listener's connections (a socket option set
    /// on a listening socket): SYN-ACKs sent from now on and connections
    /// whose handshake completes from now on use them.
    pub fn set_listener_config(&mut self, listener: Handle, config: Config) -> bool {
        let both = self.per_family(config);
        match self.listener_mut(listener) {
            Some(l) => {
                l.config = Some(both);
                true
            }
            None => false,
        }
    }

    /// Passive OPEN on `local` (an unspecified address listens on all of
    /// the host's, of both families) with an accept queue of `backlog`
    /// and, optionally, the connections' own TCP settings.
    pub fn listen_on(
        &mut self,
        now: Instant,
        local: SocketAddr,
        backlog: usize,
        config: Option<Config>,
    ) -> Result<Handle, StackError> {
        if self.listeners.contains_key(&local.port()) {
            return Err(StackError::AddrInUse);
        }
        if !local.ip().is_unspecified() && !self.iface.has(local.ip()) {
            return Err(StackError::AddrNotAvailable);
        }
        let backlog = backlog.max(1);
        let config = config.map(|c| self.per_family(c));
        let l = Listener {
            local,
            backlog,
            // Linux: the SYN queue is full at the listen backlog, and never
            // above tcp_max_syn_backlog.
            syn_max: self.config.syn_backlog.min(backlog).max(1),
            config,
            syn: Vec::new(),
            syn_gens: Vec::new(),
            syn_free: Vec::new(),
            syn_by_tuple: HashMap::with_hasher(self.keys.demux),
            syn_timers: BinaryHeap::new(),
            accept: VecDeque::new(),
            last_overflow: None,
            armed: NEVER,
        };
        let h = self.insert(Entry::Listener(Box::new(l)));
        self.listeners.insert(local.port(), h);
        self.push_event(HostEvent::Listener {
            listener: h,
            remote: None,
            transition: Transition {
                at: now,
                from: State::Closed,
                to: State::Listen,
                cause: Cause::AppListen,
            },
        });
        Ok(h)
    }

    /// Closes a listener: its half-open connections are forgotten, and
    /// connections waiting in its accept queue are reset (nobody will
    /// accept them).
    pub fn close_listener(&mut self, now: Instant, lh: Handle) {
        let Some(l) = self.listener_mut(lh) else {
            return;
        };
        let waiting: Vec<Handle> = l.accept.drain(..).collect();
        let port = l.local.port();
        if self.listeners.get(&port) == Some(&lh) {
            self.listeners.remove(&port);
        }
        for h in waiting {
            if let Some(c) = self.conn_entry_mut(h) {
                c.listener = None;
                c.conn.abort_because(now, Cause::ListenerClosed);
            }
            self.release(now, h);
        }
        self.push_event(HostEvent::Listener {
            listener: lh,
            remote: None,
            transition: Transition {
                at: now,
                from: State::Listen,
                to: State::Closed,
                cause: Cause::AppClose,
            },
        });
        if let Some(Entry::Listener(_)) = self.entry(lh) {
            self.remove_slot(lh);
        }
    }

    /// Connections ready to accept, and the SYN queue, of a listener.
    pub fn listener_queues(&self, lh: Handle) -> Option<(usize, usize)> {
        self.listener(lh)
            .map(|l| (l.accept.len(), l.syn_queue_len()))
    }

    /// Whether the listener takes segments to `dst`.
    pub(crate) fn listener_accepts(&self, lh: Handle, dst: IpAddr) -> bool {
        self.listener(lh)
            .is_some_and(|l| l.local.ip().is_unspecified() || l.local.ip() == dst)
    }

    fn listener_config(&self, lh: Handle, v4: bool) -> Arc<Config> {
        match self.listener(lh).and_then(|l| l.config.clone()) {
            Some((c4, c6)) => {
                if v4 {
                    c4
                } else {
                    c6
                }
            }
            None => self.tcp_config(v4),
        }
    }

    fn half_open_event(
        &mut self,
        lh: Handle,
        remote: SocketAddr,
        now: Instant,
        from: State,
        to: State,
        cause: Cause,
    ) {
        self.push_event(HostEvent::Listener {
            listener: lh,
            remote: Some(remote),
            transition: Transition {
                at: now,
                from,
                to,
                cause,
            },
        });
    }

    /// A segment for a listening port with no connection.
    pub(crate) fn listener_input(&mut self, now: Instant, lh: Handle, t: Tuple, seg: &TcpRepr<'_>) {
        let found = self
            .listener(lh)
            .and_then(|l| l.syn_by_tuple.get(&t).copied());
        // First: a RST. For a half-open connection in the window, it is
        // gone (back to LISTEN); otherwise ignored.
        if seg.flags.rst() {
            if let Some(i) = found {
                let irs = self
                    .listener(lh)
                    .and_then(|l| l.syn[i as usize].map(|h| h.irs));
                if irs.is_some_and(|irs| SeqNum(seg.seq) == irs + 1) {
                    if let Some(l) = self.listener_mut(lh) {
                        l.remove(i);
                    }
                    self.half_open_event(
                        lh,
                        t.remote,
                        now,
                        State::SynReceived,
                        State::Listen,
                        Cause::RecvRst,
                    );
                }
            }
            return;
        }
        if seg.flags.syn() {
            if seg.flags.ack() {
                // A SYN-ACK to a listener: <SEQ=SEG.ACK><CTL=RST>.
                self.reply_rst(t, seg);
            } else if !seg.flags.fin() {
                self.on_listener_syn(now, lh, t, seg, found);
            }
            // SYN+FIN: dropped, as Linux does.
            return;
        }
        if seg.flags.ack() {
            match found {
                Some(i) => self.complete_half_open(now, lh, t, seg, i),
                None => self.check_cookie(now, lh, t, seg),
            }
        }
        // Anything else (a bare FIN, data without ACK): dropped, no answer
        // (what nmap's FIN scan reads as "open|filtered").
    }

    fn on_listener_syn(
        &mut self,
        now: Instant,
        lh: Handle,
        t: Tuple,
        seg: &TcpRepr<'_>,
        found: Option<u32>,
    ) {
        let Some(l) = self.listener(lh) else {
            return;
        };
        if let Some(i) = found {
            // The SYN again: our SYN-ACK was lost. Send it again.
            if let Some(h) = l.syn[i as usize] {
                if h.irs == SeqNum(seg.seq) {
                    self.send_synack(now, lh, &h, None);
                }
            }
            return;
        }
        if l.accept.len() >= l.backlog {
            self.counters.listen_overflows += 1;
            self.counters.listen_drops += 1;
            return;
        }
        let peer = PeerSyn::from_options(&seg.options);
        let irs = SeqNum(seg.seq);
        if l.syn_queue_len() >= l.syn_max {
            if !self.config.syncookies {
                self.counters.listen_drops += 1;
                return;
            }
            if let Some(l) = self.listener_mut(lh) {
                l.last_overflow = Some(now);
            }
            let idx = cookie::mss_index(peer.mss.unwrap_or(536));
            let iss = cookie::make(&self.keys.cookie, &t, irs, now, idx);
            let h = HalfOpen {
                tuple: t,
                iss,
                irs,
                peer,
                window: seg.window,
                xmits: 1,
                first_sent: now,
                next: NEVER,
                gen: 0,
            };
            let bits = cookie::ts_bits(peer.wscale, peer.sack);
            self.counters.syncookies_sent += 1;
            self.send_synack(now, lh, &h, Some(bits));
            return;
        }
        let iss = SeqNum(self.keys.isn.isn(now, t.local, t.remote));
        let rto = self.listener_config(lh, t.local.is_ipv4()).initial_rto;
        let h = HalfOpen {
            tuple: t,
            iss,
            irs,
            peer,
            window: seg.window,
            xmits: 1,
            first_sent: now,
            next: (now + rto).as_micros(),
            gen: 0,
        };
        if let Some(l) = self.listener_mut(lh) {
            l.add(h);
        }
        self.half_open_event(
            lh,
            t.remote,
            now,
            State::Listen,
            State::SynReceived,
            Cause::RecvSyn,
        );
        self.send_synack(now, lh, &h, None);
        self.arm_listener(lh);
    }

    /// Builds and queues the SYN-ACK of `h` (a cookie's if `cookie_bits`).
    fn send_synack(&mut self, now: Instant, lh: Handle, h: &HalfOpen, cookie_bits: Option<u32>) {
        let config = self.listener_config(lh, h.tuple.local.is_ipv4());
        let clock = timestamp_clock(&self.keys.isn, h.tuple.local, h.tuple.remote, now);
        let tsval = match cookie_bits {
            Some(bits) => cookie::tsval(clock, bits),
            None => clock,
        };
        let mut options = syn_ack_options(&config, &h.peer.options(), tsval);
        if cookie_bits.is_some() && options.timestamps.is_none() {
            // Without timestamps a cookie cannot carry these.
            options.window_scale = None;
            options.sack_permitted = false;
        }
        let repr = TcpHeader {
            src_port: h.tuple.local.port(),
            dst_port: h.tuple.remote.port(),
            seq: h.iss.0,
            ack: (h.irs + 1).0,
            flags: TcpFlags::SYN | TcpFlags::ACK,
            // RFC 7323 §2.2: never scaled in a SYN.
            window: syn_window(&config),
            urgent: 0,
            options,
        };
        self.push_out(h.tuple.local.ip(), h.tuple.remote.ip(), repr);
    }

    /// The final ACK of a handshake in the SYN queue.
    fn complete_half_open(
        &mut self,
        now: Instant,
        lh: Handle,
        t: Tuple,
        seg: &TcpRepr<'_>,
        i: u32,
    ) {
        let Some(l) = self.listener(lh) else {
            return;
        };
        let Some(h) = l.syn[i as usize] else {
            return;
        };
        if SeqNum(seg.ack) != h.iss + 1 {
            self.reply_rst(t, seg);
            return;
        }
        if l.accept.len() >= l.backlog {
            // Linux drops the ACK and keeps the half-open: the SYN-ACK
            // goes again and the client's next ACK may find room.
            self.counters.listen_overflows += 1;
            self.counters.listen_drops += 1;
            return;
        }
        if let Some(l) = self.listener_mut(lh) {
            l.remove(i);
        }
        let hs = Handshake {
            iss: h.iss,
            irs: h.irs,
            peer: h.peer.options(),
            peer_window: h.window,
            synack_xmits: h.xmits,
            synack_sent_at: Some(h.first_sent),
        };
        self.open_child(now, lh, t, seg, &hs);
    }

    /// An ACK with no half-open: a SYN cookie?
    fn check_cookie(&mut self, now: Instant, lh: Handle, t: Tuple, seg: &TcpRepr<'_>) {
        let recent = self
            .listener(lh)
            .and_then(|l| l.last_overflow)
            .is_some_and(|at| now.saturating_since(at) < Duration::from_secs(128));
        if !self.config.syncookies || !recent {
            self.reply_rst(t, seg);
            return;
        }
        let Some(mss) = cookie::check(&self.keys.cookie, &t, SeqNum(seg.seq), SeqNum(seg.ack), now)
        else {
            self.counters.syncookies_failed += 1;
            self.reply_rst(t, seg);
            return;
        };
        if self
            .listener(lh)
            .is_some_and(|l| l.accept.len() >= l.backlog)
        {
            self.counters.listen_overflows += 1;
            self.counters.listen_drops += 1;
            return;
        }
        self.counters.syncookies_recv += 1;
        let mut peer = TcpOptions::default();
        peer.mss = Some(mss);
        if let Some((tsval, tsecr)) = seg.options.timestamps {
            let (ws, sack) = cookie::from_ts_bits(tsecr & cookie::TS_BITS);
            peer.window_scale = ws;
            peer.sack_permitted = sack;
            peer.timestamps = Some((tsval, 0));
        }
        let hs = Handshake {
            iss: SeqNum(seg.ack) - 1,
            irs: SeqNum(seg.seq) - 1,
            peer,
            peer_window: 0,
            synack_xmits: 1,
            synack_sent_at: None,
        };
        self.open_child(now, lh, t, seg, &hs);
    }

    /// The handshake is complete: make the connection, give it the ACK,
    /// and queue it for `accept`.
    fn open_child(
        &mut self,
        now: Instant,
        lh: Handle,
        t: Tuple,
        seg: &TcpRepr<'_>,
        hs: &Handshake,
    ) {
        let config = self.listener_config(lh, t.local.is_ipv4());
        let mut conn =
            Connection::from_handshake(config, now, t.local, t.remote, self.keys.isn, hs);
        self.reuse_spare_memory(&mut conn);
        conn.handle_segment(now, t.remote.ip(), t.local.ip(), seg);
        let established = conn.state().is_synchronized();
        self.counters.tcp_passive_opens += 1;
        let h = self.add_conn(conn, Some(lh));
        if established {
            if let Some(l) = self.listener_mut(lh) {
                l.accept.push_back(h);
            }
            self.push_event(HostEvent::Incoming(lh));
        }
    }

    /// Puts the listener's earliest SYN-ACK deadline in the timer heap.
    fn arm_listener(&mut self, lh: Handle) {
        let Some(l) = self.listener_mut(lh) else {
            return;
        };
        let next = l.next_deadline().map(Instant::from_micros);
        let mut armed = l.armed;
        self.timers.schedule(
            Target::Listener {
                index: lh.index,
                gen: lh.generation,
            },
            next,
            &mut armed,
        );
        if let Some(l) = self.listener_mut(lh) {
            l.armed = armed;
        }
    }

    /// The listener's timer: SYN-ACKs to send again, half-opens to give up.
    pub(crate) fn on_listener_timer(&mut self, now: Instant, lh: Handle, at: u64) {
        let retries = self.listener_config(lh, true).synack_retries;
        let Some(l) = self.listener_mut(lh) else {
            return;
        };
        if l.armed != at {
            return;
        }
        l.armed = NEVER;
        let mut resend = Vec::new();
        let mut expired = Vec::new();
        while let Some(&Reverse((t, index, gen))) = l.syn_timers.peek() {
            if t > now.as_micros() {
                break;
            }
            l.syn_timers.pop();
            let Some(h) = l.syn.get_mut(index as usize).and_then(|s| s.as_mut()) else {
                continue;
            };
            if h.gen != gen || h.next != t {
                continue;
            }
            if u32::from(h.xmits) > retries {
                expired.push(index);
                continue;
            }
            h.xmits = h.xmits.saturating_add(1);
            // Linux: 1 s, 2 s, 4 s, 8 s, 16 s between SYN-ACKs.
            let wait = Duration::from_secs(1) * (1u32 << (h.xmits - 1).min(16));
            h.next = (now + wait).as_micros();
            let copy = *h;
            l.syn_timers.push(Reverse((copy.next, index, gen)));
            resend.push(copy);
        }
        let mut gone = Vec::new();
        for index in expired {
            if let Some(h) = l.remove(index) {
                gone.push(h.tuple.remote);
            }
        }
        for remote in gone {
            self.counters.synack_timeouts += 1;
            self.half_open_event(
                lh,
                remote,
                now,
                State::SynReceived,
                State::Closed,
                Cause::RetransmitLimit,
            );
        }
        // Linux counts a SYN-ACK sent again as a retransmitted segment.
        self.counters.tcp_retrans_segs += resend.len() as u64;
        for h in resend {
            self.send_synack(now, lh, &h, None);
        }
        self.arm_listener(lh);
    }
}
