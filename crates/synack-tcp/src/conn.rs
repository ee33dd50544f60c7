//! One TCP connection: its transmission control block (RFC 9293 §3.3.1)
//! and the sans-IO interface around it.
//!
//! # Calling order
//!
//! A driver (the stack, a test, the fuzzer) runs each connection the same
//! way, as quinn-proto's `Connection` is run:
//!
//! 1. feed input: [`Connection::handle_segment`] for each segment the stack
//!    matched to this connection, [`Connection::handle_timeout`] when the
//!    deadline from `poll_timeout` has passed, and the application's calls
//!    (`send`, `recv`, `shutdown`, `close`, `abort`);
//! 2. call [`Connection::poll_transmit`] until it returns `None`, putting
//!    each segment on the wire before asking for the next (it borrows the
//!    send buffer);
//! 3. call [`Connection::poll_timeout`] and arrange to call
//!    `handle_timeout` then;
//! 4. drain [`Connection::poll_event`]: state changes, readable, writable,
//!    connected, closed, and loss-recovery events.
//!
//! Time only enters as the `now` arguments; randomness only as the
//! [`IsnSecret`]. Nothing here reads a clock, draws randomness or touches a
//! socket, so every run can be replayed from its inputs.
//!
//! # Where the rules live
//!
//! The connection orchestrates; the rules live with the state they govern:
//! `sender/` (send space, retransmission record, RTT, congestion, recovery),
//! `receiver/` (receive space, reassembly, window, ACK policy, PAWS),
//! `handshake.rs` (LISTEN, SYN-SENT, SYN-RECEIVED), `input.rs` (the RFC's
//! steps for a segment in a synchronized state), `output.rs` (building
//! segments), `close.rs` (FIN and the closing states) and `timer.rs`.

use crate::config::{CompactKeepalive, Config, Keepalive};
use crate::error::{CloseReason, Error};
use crate::events::Events;
use crate::isn::IsnSecret;
use crate::receiver::{Receiver, RecvStats};
use crate::recovery::{Phase, RecoveryEvent};
use crate::sender::{SendKind, SendStats, Sender};
use crate::seq::SeqNum;
use crate::state::{Cause, State, Transition};
use crate::time::{Duration, Instant};
use crate::timer::{TimerKind, Timers};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use synack_wire::TcpHeader;

/// Most events kept for the driver; older ones are dropped (and counted).
const MAX_EVENTS: usize = 64;

/// Something the driver (and through it the application) may want to know.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The connection changed state.
    StateChanged(Transition),
    /// The handshake completed: the connection is ESTABLISHED.
    Connected,
    /// Data (or the end of the stream) can be read.
    Readable,
    /// Send-buffer space freed up after `send` could not take everything.
    Writable,
    /// The connection reached CLOSED, for this reason.
    Closed(CloseReason),
    /// Loss recovery started, ended, probed or timed out; the congestion
    /// window and ssthresh are as they stand after it.
    Recovery {
        at: Instant,
        event: RecoveryEvent,
        cwnd: u32,
        ssthresh: u32,
    },
}

/// What kind of segment a [`Transmit`] carries.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SegmentKind {
    /// A SYN or SYN-ACK (first transmission or again).
    Syn { retransmission: bool },
    /// Data and/or a FIN, with why it is sent.
    Data(SendKind),
    /// A pure acknowledgment (or window update).
    Ack,
    /// An ACK answering a suspicious segment (RFC 5961): a stack may hold
    /// these to a host-wide budget.
    ChallengeAck,
    /// A keep-alive probe (RFC 9293 §3.8.4).
    Keepalive,
    /// A reset.
    Rst,
}

impl SegmentKind {
    /// Sent before (a retransmission, a probe of old data, a SYN again).
    pub fn is_retransmission(self) -> bool {
        matches!(
            self,
            SegmentKind::Syn {
                retransmission: true
            } | SegmentKind::Data(SendKind::Retransmit)
        )
    }
}

/// A segment ready for the wire: the addresses for the IP header, the TCP
/// header, and the payload, borrowed from the send ring in up to two pieces
/// (the ring may wrap).
#[derive(Debug)]
pub struct Transmit<'a> {
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub header: TcpHeader,
    pub payload: [&'a [u8]; 2],
    pub kind: SegmentKind,
}

impl Transmit<'_> {
    pub fn payload_len(&self) -> usize {
        self.payload[0].len() + self.payload[1].len()
    }

    /// TCP header and payload length.
    pub fn segment_len(&self) -> usize {
        self.header.header_len() + self.payload_len()
    }

    /// Writes the TCP segment (header, options, payload, checksum) into
    /// `buf`; returns its length. `buf` must hold `segment_len()` bytes.
    pub fn emit(&self, buf: &mut [u8]) -> usize {
        self.header.emit(
            buf,
            self.local.ip(),
            self.remote.ip(),
            self.payload[0],
            self.payload[1],
        )
    }
}

/// A RST (or RST+ACK) waiting to be sent to the peer, computed by RFC
/// 9293's reset rules.
#[derive(Copy, Clone, Debug)]
pub(crate) struct PendingRst {
    pub seq: SeqNum,
    pub ack: Option<SeqNum>,
}

/// Counters for one connection (a subset of Linux's TCP_INFO and nstat).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnStats {
    pub segs_in: u64,
    pub segs_out: u64,
    pub unacceptable: u64,
    pub challenge_acks: u64,
    pub paws_rejected: u64,
    /// TCP options skipped because they were malformed.
    pub bad_options: u64,
    pub events_dropped: u64,
    pub keepalive_probes: u64,
    pub send: SendStats,
    pub recv: RecvStats,
}

/// The connection's own counters (the sender and receiver keep theirs).
#[derive(Copy, Clone, Debug, Default)]
pub(crate) struct Counters {
    pub segs_in: u64,
    pub segs_out: u64,
    // Rare events: 32 bits each (saturating).
    pub unacceptable: u32,
    pub challenge_acks: u32,
    pub paws_rejected: u32,
    pub bad_options: u32,
    pub events_dropped: u32,
    pub keepalive_probes: u32,
}

/// A snapshot of a connection for tables (`ss -tin`-like) and tests.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Info {
    pub state: State,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub iss: SeqNum,
    pub irs: SeqNum,
    pub snd_una: SeqNum,
    pub snd_nxt: SeqNum,
    pub snd_wnd: u32,
    pub rcv_nxt: SeqNum,
    pub rcv_wnd: u32,
    pub mss: u16,
    pub snd_wscale: u8,
    pub rcv_wscale: u8,
    /// Window scaling agreed (both SYNs carried the option).
    pub window_scaling: bool,
    pub sack: bool,
    pub timestamps: bool,
    pub cwnd: u32,
    pub ssthresh: u32,
    /// RFC 6675 pipe: data believed in the network.
    pub in_flight: u32,
    pub recovery: Phase,
    pub srtt: Option<Duration>,
    pub rttvar: Duration,
    pub rto: Duration,
    pub min_rtt: Option<Duration>,
    pub send_queue: usize,
    pub recv_queue: usize,
    pub retransmits: u64,
    pub stats: ConnStats,
}

/// Options both SYNs agreed on.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Negotiated {
    /// RFC 7323 timestamps on every segment.
    pub ts: bool,
    /// RFC 2018 SACK.
    pub sack: bool,
    /// Window scaling (both shifts live in the sender and receiver).
    pub wscale: bool,
    /// Our timestamp clock's offset (RFC 7323 §5.4).
    pub ts_offset: u32,
}

/// A TCP connection endpoint (one transmission control block).
#[derive(Clone, Debug)]
pub struct Connection {
    /// Shared by every connection a stack makes with the same settings.
    pub(crate) config: Arc<Config>,
    /// Keep-alive settings (set per connection, see `set_keepalive`).
    pub(crate) keepalive: Option<CompactKeepalive>,
    pub(crate) state: State,
    /// Opened by `listen`: a RST in SYN-RECEIVED returns it to LISTEN.
    pub(crate) passive: bool,
    pub(crate) local: SocketAddr,
    pub(crate) remote: SocketAddr,
    pub(crate) secret: IsnSecret,
    pub(crate) snd: Sender,
    pub(crate) rcv: Receiver,
    pub(crate) opts: Negotiated,
    pub(crate) timers: Timers,
    /// Our SYN (or SYN-ACK) must go out on the next transmit.
    pub(crate) syn_due: bool,
    /// How often our SYN (or SYN-ACK) went out, and when it first did.
    pub(crate) syn_xmits: u8,
    pub(crate) syn_sent_at: Instant,
    /// The application closed: it will neither send nor read. The
    /// connection finishes on its own (an orphan, in Linux's words).
    pub(crate) app_closed: bool,
    pub(crate) pending_rst: Option<PendingRst>,
    /// RFC 5961 §7: challenge ACKs sent in the current one-second slot.
    /// (When the slot began in ms, wrapping; challenge ACKs in it.)
    pub(crate) challenge_slot: (u32, u32),
    /// The next pure ACK answers a suspicious segment (RFC 5961).
    pub(crate) challenge_pending: bool,
    /// When an out-of-window segment without text was last answered.
    /// (µs; `u64::MAX` before the first.)
    pub(crate) last_oow_ack: u64,
    /// Keep-alive: when a segment last arrived, and probes unanswered.
    pub(crate) last_recv: Instant,
    pub(crate) keepalive_probes: u32,
    pub(crate) keepalive_due: bool,
    pub(crate) close_reason: Option<CloseReason>,
    pub(crate) events: Events,
    pub(crate) stats: Counters,
}

pub(crate) const UNSPECIFIED: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0);

impl Connection {
    pub(crate) fn blank(
        config: Arc<Config>,
        local: SocketAddr,
        remote: SocketAddr,
        secret: IsnSecret,
        iss: SeqNum,
    ) -> Self {
        Connection {
            keepalive: config.keepalive.map(CompactKeepalive::from),
            snd: Sender::new(&config, iss),
            rcv: Receiver::new(&config),
            state: State::Closed,
            passive: false,
            local,
            remote,
            secret,
            opts: Negotiated::default(),
            timers: Timers::default(),
            syn_due: false,
            syn_xmits: 0,
            syn_sent_at: Instant::ZERO,
            app_closed: false,
            pending_rst: None,
            challenge_slot: (0, 0),
            challenge_pending: false,
            last_oow_ack: u64::MAX,
            last_recv: Instant::ZERO,
            keepalive_probes: 0,
            keepalive_due: false,
            close_reason: None,
            events: Events::default(),
            stats: Counters::default(),
            config,
        }
    }

    /// Active OPEN (RFC 9293 §3.10.1): CLOSED → SYN-SENT. The SYN goes out on
    /// the next `poll_transmit`. The ISN comes from `secret` and `now`
    /// (RFC 6528).
    pub fn connect(
        config: impl Into<Arc<Config>>,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        secret: IsnSecret,
    ) -> Connection {
        let config = config.into();
        let iss = SeqNum(secret.isn(now, local, remote));
        let mut c = Connection::blank(config, local, remote, secret, iss);
        c.opts.ts_offset = secret.ts_offset(local, remote);
        c.syn_due = true;
        c.set_state(now, State::SynSent, Cause::AppConnect);
        c
    }

    /// Passive OPEN (RFC 9293 §3.10.1): CLOSED → LISTEN on `local`. A listen
    /// with an unspecified address accepts a SYN to any local address. The
    /// first SYN turns this connection into that connection (the RFC's
    /// model); a stack that serves many clients keeps its own listener.
    pub fn listen(
        config: impl Into<Arc<Config>>,
        now: Instant,
        local: SocketAddr,
        secret: IsnSecret,
    ) -> Connection {
        let config = config.into();
        let mut c = Connection::blank(config, local, UNSPECIFIED, secret, SeqNum(0));
        c.passive = true;
        c.set_state(now, State::Listen, Cause::AppListen);
        c
    }

    /// The one place where the state changes: records (from, to, cause) as an
    /// event and performs what every entry into a state implies.
    pub(crate) fn set_state(&mut self, now: Instant, to: State, cause: Cause) {
        let from = self.state;
        if from == to {
            return;
        }
        self.state = to;
        self.push_event(Event::StateChanged(Transition {
            at: now,
            from,
            to,
            cause,
        }));
        match to {
            State::SynSent | State::SynReceived => {
                // The setup limit runs on the keep-alive timer, which has
                // nothing else to do before ESTABLISHED; a simultaneous
                // open keeps the deadline of its SYN.
                if let Some(limit) = self.config.setup_timeout {
                    if !self.timers.is_armed(TimerKind::Keepalive) {
                        self.timers.set(TimerKind::Keepalive, now + limit);
                    }
                }
            }
            State::Established => {
                self.push_event(Event::Connected);
                self.arm_keepalive(now);
            }
            State::FinWait2 if self.app_closed => {
                self.timers
                    .set(TimerKind::FinWait2, now + self.config.fin_timeout);
            }
            State::TimeWait => {
                // RFC 9293 §3.10.7.4: in TIME-WAIT only the 2×MSL timer runs
                // (and an ACK of a retransmitted FIN may still be owed).
                self.timers.clear_all();
                self.timers
                    .set(TimerKind::TimeWait, now + self.config.msl * 2);
            }
            State::Closed => {
                self.timers.clear_all();
                // Nothing will be retransmitted: the record of what is in
                // flight goes (RFC 9293 §3.10.7.4, §3.10.5), so that `info`
                // and `ss` show none.
                self.snd.record.clear();
                self.snd.recovery.reno_sacked = 0;
                let reason = *self.close_reason.get_or_insert(CloseReason::Normal);
                self.push_event(Event::Closed(reason));
            }
            _ => {}
        }
    }

    /// Enters CLOSED for `reason`.
    pub(crate) fn terminate(&mut self, now: Instant, reason: CloseReason, cause: Cause) {
        if self.state == State::Closed {
            return;
        }
        self.close_reason = Some(reason);
        self.set_state(now, State::Closed, cause);
    }

    pub(crate) fn push_event(&mut self, ev: Event) {
        if self.events.len() == MAX_EVENTS {
            self.events.pop_front();
            self.stats.events_dropped = self.stats.events_dropped.saturating_add(1);
        }
        self.events.push_back(ev);
    }

    /// Moves the sender's recovery notes into the event queue. Called on
    /// every segment in and out, and there are seldom any: the test is
    /// inlined, the move is not.
    #[inline]
    pub(crate) fn flush_notes(&mut self) {
        if !self.snd.notes.is_empty() {
            self.move_notes();
        }
    }

    #[inline(never)]
    fn move_notes(&mut self) {
        let (cwnd, ssthresh) = (self.snd.cc.cwnd(), self.snd.cc.ssthresh());
        let notes = std::mem::take(&mut self.snd.notes);
        for &(at, event) in &notes {
            self.push_event(Event::Recovery {
                at,
                event,
                cwnd,
                ssthresh,
            });
        }
        // Keep the allocation for next time.
        let mut notes = notes;
        notes.clear();
        self.snd.notes = notes;
    }

    /// Fires every timer whose deadline has passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(kind) = self.timers.pop_expired(now) {
            self.on_timer(now, kind);
        }
        self.flush_notes();
    }

    /// The earliest time at which `handle_timeout` has work to do.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// Takes over what memory it can of `old`, a connection the driver is
    /// done with (and will drop): its send and receive rings (emptied; each
    /// when this connection has allocated none and its buffer is the same
    /// size) and the storage of its retransmission record. A stack that
    /// opens and closes connection after connection then allocates none of
    /// that anew. Nothing of `old`'s state carries over.
    pub fn reuse_memory(&mut self, old: &mut Connection) {
        self.snd.reuse_memory(&mut old.snd);
        self.rcv.reuse_memory(&mut old.rcv);
    }

    /// The next event, oldest first.
    pub fn poll_event(&mut self) -> Option<Event> {
        // A drained queue holds no heap memory (a million idle connections
        // should not each keep an event queue).
        self.events.pop_front()
    }

    /// Queues application data (copied into the send buffer); returns how
    /// many bytes were taken. RFC 9293 §3.10.2: allowed from SYN-SENT on,
    /// and in CLOSE-WAIT (half-close), until the application shuts down
    /// its sending side.
    pub fn send(&mut self, data: &[u8]) -> Result<usize, Error> {
        if let Some(reason) = self.close_reason {
            return Err(Error::Closed(reason));
        }
        if self.snd.fin_queued() {
            return Err(Error::SendClosed);
        }
        if !self.state.can_send_data() {
            return Err(Error::NotConnected);
        }
        let n = self.snd.queue(data);
        if n < data.len() {
            self.snd.want_writable = true;
        }
        if n == 0 && !data.is_empty() {
            return Err(Error::WouldBlock);
        }
        Ok(n)
    }

    /// Queues urgent data (MSG_OOB), as `send` does, and moves SND.UP just
    /// past the last byte taken (RFC 9293 §3.10.2: on SEND with the urgent
    /// flag, SND.UP ← the end of the data; MUST-62, from RFC 6093 §4: the
    /// pointer points to the octet following the urgent data). Every
    /// segment sent while SND.UP is ahead of its sequence number carries
    /// URG and the pointer, until the urgent data is acknowledged; urgent
    /// data not yet sent is not held back by Nagle's algorithm.
    pub fn send_urgent(&mut self, data: &[u8]) -> Result<usize, Error> {
        let n = self.send(data)?;
        if n > 0 {
            self.snd.mark_urgent();
        }
        Ok(n)
    }

    /// Copies received in-order data into `buf`. `Ok(0)` means end of stream
    /// (the peer's FIN has arrived and everything before it was read).
    pub fn recv(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        if self.app_closed {
            return Err(Error::NotConnected);
        }
        if self.rcv.queued() > 0 {
            let n = self.rcv.read(buf);
            // RFC 9293 §3.8.6.2.2: announce the window once it has grown by
            // a worthwhile step.
            if self.state.can_receive_data() && self.rcv.window_update_due() {
                self.rcv.ack.owe_now();
            }
            return Ok(n);
        }
        if self.rcv.fin_received {
            return Ok(0);
        }
        match self.close_reason {
            Some(CloseReason::Normal) => Ok(0),
            Some(reason) => Err(Error::Closed(reason)),
            None if self.state == State::Listen => Err(Error::NotConnected),
            None => Err(Error::WouldBlock),
        }
    }

    /// Sets this connection's send and receive buffers (SO_SNDBUF and
    /// SO_RCVBUF), at any time: after `accept`, before any data, or later.
    /// Neither shrinks below the bytes it holds, and the receive buffer
    /// never below the window already offered; the memory is still
    /// allocated only when data arrives or is written. Returns the sizes in
    /// effect, (send, receive).
    pub fn set_buffer_sizes(&mut self, send: usize, recv: usize) -> (usize, usize) {
        let before = self.snd.free();
        let send = self.snd.set_buffer(send);
        if self.snd.free() > before && self.snd.want_writable {
            self.snd.want_writable = false;
            self.push_event(Event::Writable);
        }
        // No ACK of its own: the next segment carries the new window (a
        // socket option is not a reason to send, as on Linux and BSD).
        let recv = self.rcv.set_buffer(recv);
        (send, recv)
    }

    /// The send and receive buffer sizes in effect, as `set_buffer_sizes`
    /// returned them (SO_SNDBUF and SO_RCVBUF).
    pub fn buffer_sizes(&self) -> (usize, usize) {
        (self.snd.capacity(), self.rcv.buffer_size())
    }

    /// Turns Nagle's algorithm off (`true`) or on, like TCP_NODELAY.
    pub fn set_nodelay(&mut self, nodelay: bool) {
        self.snd.nodelay = nodelay;
    }

    /// Turns keep-alive on with these settings, or off.
    pub fn set_keepalive(&mut self, now: Instant, keepalive: Option<Keepalive>) {
        self.keepalive = keepalive.map(CompactKeepalive::from);
        self.keepalive_probes = 0;
        // Before ESTABLISHED the timer holds the setup deadline, if any.
        if self.state.is_synchronized() {
            self.arm_keepalive(now);
        }
    }

    pub fn state(&self) -> State {
        self.state
    }

    pub fn local(&self) -> SocketAddr {
        self.local
    }

    pub fn remote(&self) -> SocketAddr {
        self.remote
    }

    /// Opened by `listen` (a half-open child returns to LISTEN on RST).
    pub fn is_passive(&self) -> bool {
        self.passive
    }

    /// Why the connection closed, once it has.
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.close_reason
    }

    /// CLOSED and with nothing left to send: the stack may forget it.
    pub fn is_finished(&self) -> bool {
        self.state == State::Closed && self.pending_rst.is_none()
    }

    /// The application has closed; the connection runs on its own.
    pub fn is_orphan(&self) -> bool {
        self.app_closed
    }

    /// Bytes waiting to be read by the application.
    pub fn recv_queue(&self) -> usize {
        self.rcv.queued()
    }

    /// Bytes the application may still queue with `send`.
    pub fn send_capacity(&self) -> usize {
        self.snd.free()
    }

    /// Bytes queued and not yet acknowledged.
    pub fn send_queue(&self) -> usize {
        self.snd.buffered()
    }

    /// Buffer memory this connection holds now (rings are allocated on
    /// first use, or taken over from a finished connection: see
    /// [`reuse_memory`](Self::reuse_memory)).
    pub fn buffer_memory(&self) -> usize {
        self.snd.allocated() + self.rcv.allocated()
    }

    /// The peer's FIN arrived: no more data will come after what is queued.
    pub fn peer_closed(&self) -> bool {
        self.rcv.fin_received
    }

    /// RFC 6093: the urgent pointer last received, if any: the sequence
    /// number just past the urgent data the peer sent.
    pub fn urgent_pointer(&self) -> Option<SeqNum> {
        self.rcv.up
    }

    /// SND.UP: just past the urgent data this side queued with
    /// `send_urgent`, until that data is acknowledged.
    pub fn send_urgent_pointer(&self) -> Option<SeqNum> {
        self.snd.urgent_pointer()
    }

    pub fn stats(&self) -> ConnStats {
        let c = self.stats;
        let mut recv = self.rcv.stats;
        recv.ooo_dropped = recv.ooo_dropped.saturating_add(self.rcv.evicted_ranges());
        ConnStats {
            segs_in: c.segs_in,
            segs_out: c.segs_out,
            unacceptable: c.unacceptable.into(),
            challenge_acks: c.challenge_acks.into(),
            paws_rejected: c.paws_rejected.into(),
            bad_options: c.bad_options.into(),
            events_dropped: c.events_dropped.into(),
            keepalive_probes: c.keepalive_probes.into(),
            send: self.snd.stats,
            recv,
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn info(&self) -> Info {
        Info {
            state: self.state,
            local: self.local,
            remote: self.remote,
            iss: self.snd.iss,
            irs: self.rcv.irs,
            snd_una: self.snd.una,
            snd_nxt: self.snd.nxt,
            snd_wnd: self.snd.wnd,
            rcv_nxt: self.rcv.nxt,
            rcv_wnd: self.rcv.accept_window(),
            mss: self.snd.mss,
            snd_wscale: self.snd.wscale,
            rcv_wscale: self.rcv.wscale,
            window_scaling: self.opts.wscale,
            sack: self.opts.sack,
            timestamps: self.opts.ts,
            cwnd: self.snd.cc.cwnd(),
            ssthresh: self.snd.cc.ssthresh(),
            in_flight: self.snd.pipe(),
            recovery: self.snd.recovery.phase,
            srtt: self.snd.rtt.srtt(),
            rttvar: self.snd.rtt.rttvar(),
            rto: self.snd.rtt.rto(),
            min_rtt: self.snd.rtt.min_rtt(),
            send_queue: self.snd.buffered(),
            recv_queue: self.rcv.queued(),
            retransmits: self.snd.stats.retransmits.into(),
            stats: self.stats(),
        }
    }

    /// Checks the invariants every input must preserve (used by tests and
    /// the fuzzer). Returns a description of the first one broken.
    pub fn check_invariants(&self) -> Result<(), &'static str> {
        self.snd.check(self.state == State::Closed)?;
        self.rcv.check(self.config.max_ooo_ranges)?;
        if self.events.len() > MAX_EVENTS {
            return Err("event queue over its bound");
        }
        if self.state == State::Closed && self.timers.next().is_some() {
            return Err("timer armed in CLOSED");
        }
        if self.state == State::TimeWait
            && TimerKind::ALL
                .iter()
                .any(|&k| k != TimerKind::TimeWait && self.timers.is_armed(k))
        {
            return Err("a timer other than 2MSL armed in TIME-WAIT");
        }
        if self.state.is_synchronized() && self.state != State::TimeWait && self.snd.flight() > 0 {
            let guarded = [TimerKind::Rto, TimerKind::Persist]
                .iter()
                .any(|&k| self.timers.is_armed(k));
            if !guarded {
                return Err("data in flight with neither RTO nor persist timer armed");
            }
        }
        Ok(())
    }

    /// RFC 5961 §7: at most `CHALLENGE_ACK_LIMIT` challenge ACKs per second.
    pub(crate) fn challenge_ack(&mut self, now: Instant) {
        const CHALLENGE_ACK_LIMIT: u32 = 10;
        let now_ms = now.as_millis() as u32;
        if now_ms.wrapping_sub(self.challenge_slot.0) >= 1000 {
            self.challenge_slot = (now_ms, 0);
        }
        if self.challenge_slot.1 < CHALLENGE_ACK_LIMIT {
            self.challenge_slot.1 += 1;
            self.stats.challenge_acks = self.stats.challenge_acks.saturating_add(1);
            self.challenge_pending = true;
            self.rcv.ack.owe_now();
        }
    }

    /// Our timestamp clock (RFC 7323 §5.4): milliseconds plus the
    /// connection's random offset.
    pub(crate) fn ts_now(&self, now: Instant) -> u32 {
        (now.as_millis() as u32).wrapping_add(self.opts.ts_offset)
    }

    /// Starts the keep-alive idle time, or with keep-alive off stops the
    /// timer (which may hold the setup deadline).
    pub(crate) fn arm_keepalive(&mut self, now: Instant) {
        match self.keepalive {
            Some(k) => self.timers.set(TimerKind::Keepalive, now + k.idle()),
            None => self.timers.clear(TimerKind::Keepalive),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn syn_sent() -> Connection {
        let addr = |s: &str| s.parse::<SocketAddr>().unwrap();
        Connection::connect(
            Config::default(),
            Instant::ZERO,
            addr("10.0.0.1:40000"),
            addr("10.0.0.2:80"),
            IsnSecret::from_seed(1),
        )
    }

    /// `c` (in SYN-SENT, its SYN not yet sent) answered by a SYN-ACK.
    fn established(c: &Connection) -> Connection {
        use synack_wire::TcpFlags;
        let mut c = c.clone();
        let iss = c.poll_transmit(Instant::ZERO).expect("the SYN").header.seq;
        let syn_ack = TcpHeader {
            src_port: c.remote.port(),
            dst_port: c.local.port(),
            seq: 1000,
            ack: iss.wrapping_add(1),
            flags: TcpFlags::SYN | TcpFlags::ACK,
            window: 65535,
            ..TcpHeader::default()
        };
        let (src, dst) = (c.remote.ip(), c.local.ip());
        c.handle_segment(Instant::ZERO, src, dst, &syn_ack.with_payload(&[]));
        while c.poll_transmit(Instant::ZERO).is_some() {}
        assert_eq!(c.state, State::Established);
        c
    }

    #[test]
    fn a_drained_event_queue_gives_its_memory_back() {
        // An idle connection keeps no event memory: a stack holding a
        // million of them should not pay for each one's last burst, and
        // a burst the driver drains at once costs no allocation.
        let mut c = syn_sent();
        assert_eq!(c.events.len(), 1, "the move to SYN-SENT is queued");
        assert_eq!(c.events.heap_capacity(), 0, "held inline");
        c.events.extend([Event::Writable; 8]);
        assert!(c.events.heap_capacity() > 0, "a pile-up spills");
        while c.poll_event().is_some() {}
        assert_eq!(c.events.heap_capacity(), 0);
    }

    #[test]
    fn a_new_connection_takes_over_a_finished_ones_memory() {
        let mut old = established(&syn_sent());
        assert_eq!(old.send(&[1; 100]), Ok(100));
        assert!(old.poll_transmit(Instant::ZERO).is_some());
        let memory = old.buffer_memory();
        assert!(memory > 0 && !old.snd.record.is_empty());

        let mut fresh = syn_sent();
        fresh.reuse_memory(&mut old.clone());
        assert_eq!(fresh.buffer_memory(), memory, "the ring is kept");
        assert_eq!(fresh.send_queue(), 0, "but none of its bytes");
        assert!(fresh.snd.record.is_empty());
        assert_eq!(fresh.check_invariants(), Ok(()));
        // It runs as a fresh connection does.
        let mut fresh = established(&fresh);
        assert_eq!(fresh.send(&[2; 50]), Ok(50));
        let t = fresh.poll_transmit(Instant::ZERO).expect("the data");
        assert_eq!((t.payload[0], t.payload[1].len()), (&[2u8; 50][..], 0));
        assert_eq!(fresh.check_invariants(), Ok(()));

        // The receive ring too, once the window scale (and so its size)
        // is the same: received bytes are not carried over.
        let mut receiver = established(&syn_sent());
        let text = TcpHeader {
            src_port: receiver.remote.port(),
            dst_port: receiver.local.port(),
            seq: 1001,
            ack: receiver.snd.nxt.0,
            flags: synack_wire::TcpFlags::ACK,
            window: 65535,
            ..TcpHeader::default()
        };
        let (src, dst) = (receiver.remote.ip(), receiver.local.ip());
        receiver.handle_segment(Instant::ZERO, src, dst, &text.with_payload(b"old bytes"));
        assert_eq!(receiver.recv_queue(), 9);
        let held = receiver.rcv.allocated();
        assert!(held > 0);
        let mut next = established(&syn_sent());
        next.reuse_memory(&mut receiver);
        assert_eq!(next.rcv.allocated(), held, "the receive ring is kept");
        assert_eq!((next.recv_queue(), receiver.rcv.allocated()), (0, 0));
        next.handle_segment(Instant::ZERO, src, dst, &text.with_payload(b"new"));
        let mut buf = [0u8; 16];
        assert_eq!(next.recv(&mut buf), Ok(3));
        assert_eq!(&buf[..3], b"new");
        assert_eq!(next.check_invariants(), Ok(()));

        // A ring of another size is not taken.
        let mut other = Connection::connect(
            Config {
                send_buffer: 1000,
                ..Config::default()
            },
            Instant::ZERO,
            old.local,
            old.remote,
            IsnSecret::from_seed(1),
        );
        other.reuse_memory(&mut old);
        assert_eq!(other.buffer_memory(), 0);
    }

    #[test]
    fn the_invariant_check_names_what_is_broken() {
        // No input can break these (the fuzzer and every test check that),
        // so the check is shown on a connection broken by hand.
        let c = syn_sent();
        assert_eq!(c.check_invariants(), Ok(()));
        let later = Instant::ZERO + Duration::from_secs(1);

        let mut closed = c.clone();
        closed.state = State::Closed;
        closed.timers.clear_all();
        assert_eq!(closed.check_invariants(), Ok(()));
        closed.timers.set(TimerKind::Rto, later);
        assert_eq!(closed.check_invariants(), Err("timer armed in CLOSED"));

        let mut time_wait = c.clone();
        time_wait.state = State::TimeWait;
        time_wait.timers.clear_all();
        time_wait.timers.set(TimerKind::TimeWait, later);
        assert_eq!(time_wait.check_invariants(), Ok(()));
        time_wait.timers.set(TimerKind::Keepalive, later);
        assert_eq!(
            time_wait.check_invariants(),
            Err("a timer other than 2MSL armed in TIME-WAIT")
        );

        let mut sending = established(&c);
        assert_eq!(sending.send(&[1; 100]), Ok(100));
        let sent = sending
            .poll_transmit(Instant::ZERO)
            .map(|t| t.payload_len());
        assert_eq!(sent, Some(100));
        assert_eq!(sending.check_invariants(), Ok(()));
        sending.timers.clear(TimerKind::Rto);
        assert_eq!(
            sending.check_invariants(),
            Err("data in flight with neither RTO nor persist timer armed")
        );

        let mut flooded = c;
        flooded.events.clear();
        flooded.events.extend([Event::Writable; MAX_EVENTS]);
        assert_eq!(flooded.check_invariants(), Ok(()));
        flooded.events.push_back(Event::Writable);
        assert_eq!(
            flooded.check_invariants(),
            Err("event queue over its bound")
        );
    }
}
