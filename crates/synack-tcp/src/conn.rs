//! One TCP connection: its transmission control block (RFC 9293 §3.3.1) and
//! the sans-IO interface around it.
//!
//! Input: `handle_segment(now, ..)`, `handle_timeout(now)` and the
//! application calls (`send`, `recv`, `close`, `abort`). Output:
//! `poll_transmit(now)` (segments to put on the wire), `poll_timeout()` (the
//! next deadline) and `poll_event()` (state changes). Nothing here reads a
//! clock, draws randomness or touches a socket.
//!
//! The processing rules are split by concern: `handshake.rs` (LISTEN,
//! SYN-SENT), `recv.rs` (acceptability, RST/SYN checks, reassembly),
//! `send.rs` (ACK processing, segment building), `close.rs` (FIN handling and
//! the closing states).

use crate::buffer::Ring;
use crate::config::Config;
use crate::congestion::{Algorithm, Congestion};
use crate::error::{CloseReason, Error};
use crate::isn::IsnSecret;
use crate::recv::Reassembly;
use crate::rtt::RttEstimator;
use crate::seq::SeqNum;
use crate::state::{Cause, State, Transition};
use crate::time::{Duration, Instant};
use crate::timer::{TimerKind, Timers};
use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use synack_wire::{TcpFlags, TcpOptions, TcpRepr};

/// Most events kept for the application; older ones are dropped (and counted).
const MAX_EVENTS: usize = 64;

/// Something the application or a tracer may want to know about.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The connection changed state.
    StateChanged(Transition),
}

/// A segment ready for the wire: the addresses to put in the IP header and
/// the TCP header and payload (borrowed from the send buffer, not copied).
#[derive(Debug)]
pub struct Transmit<'a> {
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub repr: TcpRepr<'a>,
}

/// A RST (or RST+ACK) waiting to be sent, computed by RFC 9293's reset rules.
#[derive(Copy, Clone, Debug)]
pub(crate) struct PendingRst {
    pub remote: SocketAddr,
    pub seq: SeqNum,
    pub ack: Option<SeqNum>,
}

/// Counters for one connection (a subset of Linux's TCP_INFO and nstat).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnStats {
    pub segs_in: u64,
    pub segs_out: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub retransmits: u64,
    pub rto_expirations: u64,
    pub unacceptable: u64,
    pub challenge_acks: u64,
    pub ooo_segments: u64,
    pub ooo_dropped: u64,
    pub events_dropped: u64,
    pub zero_window_probes: u64,
}

/// A snapshot of a connection for tables and tests.
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
    pub cwnd: u32,
    pub ssthresh: u32,
    pub srtt: Option<Duration>,
    pub rto: Duration,
    pub send_queue: usize,
    pub recv_queue: usize,
    pub stats: ConnStats,
}

/// A TCP connection endpoint (one transmission control block).
#[derive(Clone, Debug)]
pub struct Connection {
    pub(crate) config: Config,
    pub(crate) state: State,
    /// Opened by `listen`: a RST in SYN-RECEIVED returns it to LISTEN.
    pub(crate) passive: bool,
    pub(crate) local: SocketAddr,
    pub(crate) remote: SocketAddr,
    pub(crate) secret: IsnSecret,

    // Send sequence space (RFC 9293 §3.3.1).
    pub(crate) iss: SeqNum,
    pub(crate) snd_una: SeqNum,
    pub(crate) snd_nxt: SeqNum,
    /// Highest sequence number sent; `snd_nxt` falls back to `snd_una` after
    /// a retransmission timeout and climbs back up to here.
    pub(crate) snd_max: SeqNum,
    pub(crate) snd_wnd: u32,
    pub(crate) max_snd_wnd: u32,
    pub(crate) snd_wl1: SeqNum,
    pub(crate) snd_wl2: SeqNum,
    pub(crate) snd_wscale: u8,
    /// Effective send MSS: min(peer's MSS option or 536, ours).
    pub(crate) snd_mss: u16,

    // Receive sequence space.
    pub(crate) irs: SeqNum,
    pub(crate) rcv_nxt: SeqNum,
    pub(crate) rcv_wscale: u8,
    /// Both SYNs carried the window scale option (RFC 7323 §2.2).
    pub(crate) wscale_ok: bool,
    /// RFC 6093: the most recent urgent pointer, as an absolute sequence number.
    pub(crate) rcv_up: Option<SeqNum>,

    pub(crate) send_buf: Ring,
    pub(crate) recv_buf: Ring,
    pub(crate) reasm: Reassembly,
    /// The application shut down its sending side: a FIN follows the data.
    pub(crate) fin_queued: bool,
    /// Our FIN has been acknowledged.
    pub(crate) fin_acked: bool,
    /// The peer's FIN has been received in order.
    pub(crate) fin_received: bool,
    /// Receive window last advertised, to decide when a window update is due.
    pub(crate) rcv_wnd_advertised: u32,

    pub(crate) rtt: RttEstimator,
    /// The segment being timed: (sequence number whose ACK ends it, send time).
    pub(crate) rtt_probe: Option<(SeqNum, Instant)>,
    pub(crate) cc: Congestion,
    pub(crate) timers: Timers,
    /// Consecutive retransmission timeouts without progress.
    pub(crate) retries: u32,
    /// Persist timer backoff count.
    pub(crate) persist_backoff: u32,
    /// Send one byte past a zero window on the next transmit.
    pub(crate) probe_due: bool,

    /// An ACK must be sent (data arrived, window opened, or a check failed).
    pub(crate) ack_pending: bool,
    pub(crate) pending_rst: Option<PendingRst>,
    /// RFC 5961 §7: challenge ACKs sent in the current one-second slot.
    pub(crate) challenge_slot: (Instant, u32),

    pub(crate) close_reason: Option<CloseReason>,
    pub(crate) events: VecDeque<Event>,
    pub(crate) stats: ConnStats,
}

pub(crate) const UNSPECIFIED: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0);

impl Connection {
    pub(crate) fn blank(
        config: Config,
        local: SocketAddr,
        remote: SocketAddr,
        secret: IsnSecret,
    ) -> Self {
        let mss = u32::from(config.mss.max(1));
        Connection {
            send_buf: Ring::new(config.send_buffer),
            recv_buf: Ring::new(config.recv_buffer),
            reasm: Reassembly::new(config.max_ooo_ranges),
            rtt: RttEstimator::new(config.initial_rto, config.min_rto, config.max_rto),
            cc: Congestion::new(Algorithm::Reno, mss, config.initial_window),
            snd_mss: 536.min(config.mss),
            state: State::Closed,
            passive: false,
            local,
            remote,
            secret,
            iss: SeqNum(0),
            snd_una: SeqNum(0),
            snd_nxt: SeqNum(0),
            snd_max: SeqNum(0),
            snd_wnd: 0,
            max_snd_wnd: 0,
            snd_wl1: SeqNum(0),
            snd_wl2: SeqNum(0),
            snd_wscale: 0,
            irs: SeqNum(0),
            rcv_nxt: SeqNum(0),
            rcv_wscale: 0,
            wscale_ok: false,
            rcv_up: None,
            fin_queued: false,
            fin_acked: false,
            fin_received: false,
            rcv_wnd_advertised: 0,
            rtt_probe: None,
            timers: Timers::default(),
            retries: 0,
            persist_backoff: 0,
            probe_due: false,
            ack_pending: false,
            pending_rst: None,
            challenge_slot: (Instant::ZERO, 0),
            close_reason: None,
            events: VecDeque::with_capacity(16),
            stats: ConnStats::default(),
            config,
        }
    }

    /// Active OPEN (RFC 9293 §3.10.1): CLOSED → SYN-SENT. The SYN goes out on
    /// the next `poll_transmit`. The ISN comes from `secret` and `now`
    /// (RFC 6528).
    pub fn connect(
        config: Config,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        secret: IsnSecret,
    ) -> Connection {
        let mut c = Connection::blank(config, local, remote, secret);
        c.set_iss(secret.isn(now, local, remote));
        c.set_state(now, State::SynSent, Cause::AppConnect);
        c
    }

    /// Passive OPEN (RFC 9293 §3.10.1): CLOSED → LISTEN on `local`. A listen
    /// with an unspecified address accepts a SYN to any local address.
    pub fn listen(
        config: Config,
        now: Instant,
        local: SocketAddr,
        secret: IsnSecret,
    ) -> Connection {
        let mut c = Connection::blank(config, local, UNSPECIFIED, secret);
        c.passive = true;
        c.set_state(now, State::Listen, Cause::AppListen);
        c
    }

    pub(crate) fn set_iss(&mut self, iss: u32) {
        self.iss = SeqNum(iss);
        self.snd_una = self.iss;
        self.snd_nxt = self.iss;
        self.snd_max = self.iss;
    }

    /// The one place where the state changes: records (from, to, cause) as an
    /// event and performs what every entry into a state implies.
    pub(crate) fn set_state(&mut self, now: Instant, to: State, cause: Cause) {
        let from = self.state;
        if from == to {
            return;
        }
        self.state = to;
        if self.events.len() == MAX_EVENTS {
            self.events.pop_front();
            self.stats.events_dropped += 1;
        }
        self.events.push_back(Event::StateChanged(Transition {
            at: now,
            from,
            to,
            cause,
        }));
        match to {
            State::TimeWait => {
                // RFC 9293 §3.10.7.4: in TIME-WAIT only the 2×MSL timer runs.
                self.timers.clear_all();
                self.timers
                    .set(TimerKind::TimeWait, now + self.config.msl * 2);
            }
            State::Closed => {
                self.timers.clear_all();
                self.ack_pending = false;
                if self.close_reason.is_none() {
                    self.close_reason = Some(CloseReason::Normal);
                }
            }
            _ => {}
        }
    }

    /// Enters CLOSED for `reason`.
    pub(crate) fn terminate(&mut self, now: Instant, reason: CloseReason, cause: Cause) {
        self.close_reason = Some(reason);
        self.set_state(now, State::Closed, cause);
    }

    /// Feeds one incoming segment that the stack matched to this connection.
    /// `src` and `dst` are the IP addresses it travelled between (a listener
    /// learns its peer from them).
    pub fn handle_segment(&mut self, now: Instant, src: IpAddr, dst: IpAddr, seg: &TcpRepr<'_>) {
        self.stats.segs_in += 1;
        match self.state {
            // RFC 9293 §3.10.7.1: a CLOSED connection has no TCB; the stack
            // answers for it.
            State::Closed => {}
            State::Listen => self.on_listen(now, src, dst, seg),
            State::SynSent => self.on_syn_sent(now, seg),
            _ => self.on_segment(now, seg),
        }
    }

    /// Fires every timer whose deadline has passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(kind) = self.timers.pop_expired(now) {
            match kind {
                TimerKind::Retransmit => self.on_retransmit_timeout(now),
                TimerKind::Persist => self.on_persist_timeout(now),
                TimerKind::TimeWait => {
                    self.terminate(now, CloseReason::Normal, Cause::TimeWaitExpired)
                }
            }
        }
    }

    /// The earliest time at which `handle_timeout` has work to do.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// The next state change or other event, oldest first.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Queues application data (copied into the send buffer); returns how
    /// many bytes were taken. RFC 9293 §3.10.2: allowed from SYN-SENT on,
    /// and in CLOSE-WAIT (half-close), until the application closes.
    pub fn send(&mut self, data: &[u8]) -> Result<usize, Error> {
        if self.fin_queued {
            return Err(Error::SendClosed);
        }
        if let Some(reason) = self.close_reason {
            return Err(Error::Closed(reason));
        }
        if !self.state.can_send_data() {
            return Err(Error::NotConnected);
        }
        let n = self.send_buf.push(data);
        if n == 0 && !data.is_empty() {
            return Err(Error::WouldBlock);
        }
        Ok(n)
    }

    /// Copies received in-order data into `buf`. `Ok(0)` means end of stream
    /// (the peer's FIN has arrived and everything before it was read).
    pub fn recv(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        if !self.recv_buf.is_empty() {
            let n = self.recv_buf.pop_into(buf);
            self.maybe_window_update();
            return Ok(n);
        }
        if self.fin_received {
            return Ok(0);
        }
        match self.close_reason {
            Some(CloseReason::Normal) => Ok(0),
            Some(reason) => Err(Error::Closed(reason)),
            None if self.state == State::Listen => Err(Error::NotConnected),
            None => Err(Error::WouldBlock),
        }
    }

    /// RFC 9293 §3.10.4 CLOSE: no more data will be sent; a FIN follows what
    /// is queued. The application may still receive (half-close).
    pub fn close(&mut self, now: Instant) {
        match self.state {
            State::Listen | State::SynSent => {
                self.terminate(now, CloseReason::Normal, Cause::AppClose);
            }
            // RFC 9293 §3.10.4: in SYN-RECEIVED the FIN waits until the
            // handshake completes (see `on_segment`).
            State::SynReceived => self.fin_queued = true,
            State::Established => {
                self.fin_queued = true;
                self.set_state(now, State::FinWait1, Cause::AppClose);
            }
            State::CloseWait => {
                self.fin_queued = true;
                self.set_state(now, State::LastAck, Cause::AppClose);
            }
            _ => {}
        }
    }

    /// RFC 9293 §3.10.5 ABORT: send a RST if the peer knows of us, drop
    /// everything, go to CLOSED.
    pub fn abort(&mut self, now: Instant) {
        if matches!(
            self.state,
            State::SynReceived
                | State::Established
                | State::FinWait1
                | State::FinWait2
                | State::CloseWait
        ) {
            self.pending_rst = Some(PendingRst {
                remote: self.remote,
                seq: self.snd_nxt,
                ack: None,
            });
        }
        if self.state != State::Closed {
            self.terminate(now, CloseReason::Aborted, Cause::AppAbort);
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

    /// Bytes waiting to be read by the application.
    pub fn recv_queue(&self) -> usize {
        self.recv_buf.len()
    }

    /// Bytes the application may still queue with `send`.
    pub fn send_capacity(&self) -> usize {
        self.send_buf.free()
    }

    /// Bytes queued and not yet acknowledged.
    pub fn send_queue(&self) -> usize {
        self.send_buf.len()
    }

    /// The peer's FIN arrived: no more data will come after what is queued.
    pub fn peer_closed(&self) -> bool {
        self.fin_received
    }

    /// RFC 6093: the urgent pointer last received, if any.
    pub fn urgent_pointer(&self) -> Option<SeqNum> {
        self.rcv_up
    }

    pub fn stats(&self) -> &ConnStats {
        &self.stats
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn info(&self) -> Info {
        Info {
            state: self.state,
            local: self.local,
            remote: self.remote,
            iss: self.iss,
            irs: self.irs,
            snd_una: self.snd_una,
            snd_nxt: self.snd_nxt,
            snd_wnd: self.snd_wnd,
            rcv_nxt: self.rcv_nxt,
            rcv_wnd: self.rcv_wnd(),
            mss: self.snd_mss,
            snd_wscale: self.snd_wscale,
            rcv_wscale: self.rcv_wscale,
            cwnd: self.cc.cwnd(),
            ssthresh: self.cc.ssthresh(),
            srtt: self.rtt.srtt(),
            rto: self.rtt.rto(),
            send_queue: self.send_buf.len(),
            recv_queue: self.recv_buf.len(),
            stats: self.stats,
        }
    }

    /// Checks the invariants every input must preserve (used by tests and
    /// the fuzzer). Returns a description of the first one broken.
    pub fn check_invariants(&self) -> Result<(), &'static str> {
        if !self.snd_una.before_eq(self.snd_nxt) {
            return Err("snd_una after snd_nxt");
        }
        if !self.snd_nxt.before_eq(self.snd_max) {
            return Err("snd_nxt after snd_max");
        }
        // In flight: at most the buffered data plus SYN and FIN.
        if self.snd_max.since(self.snd_una) as usize > self.send_buf.len() + 2 {
            return Err("more in flight than buffered");
        }
        if self.send_buf.len() > self.send_buf.capacity()
            || self.recv_buf.len() > self.recv_buf.capacity()
        {
            return Err("buffer over capacity");
        }
        if self.reasm.len() > self.config.max_ooo_ranges {
            return Err("reassembly queue over its bound");
        }
        if self.events.len() > MAX_EVENTS {
            return Err("event queue over its bound");
        }
        if self.state == State::Closed && self.timers.next().is_some() {
            return Err("timer armed in CLOSED");
        }
        Ok(())
    }

    /// The receive window we can offer now: the free space in the receive
    /// buffer, limited to what the window field can express.
    pub(crate) fn rcv_wnd(&self) -> u32 {
        let max = 0xffff_u32 << self.rcv_wscale;
        (self.recv_buf.free() as u64).min(u64::from(max)) as u32
    }

    /// RFC 9293 §3.8.6.2.2: after the application reads, announce a larger
    /// window once it has grown by at least min(half the buffer, one MSS).
    fn maybe_window_update(&mut self) {
        if !self.state.can_receive_data() {
            return;
        }
        let wnd = self.rcv_wnd();
        let step = (self.recv_buf.capacity() as u32 / 2).min(u32::from(self.config.mss));
        if wnd >= self.rcv_wnd_advertised.saturating_add(step) {
            self.ack_pending = true;
        }
    }

    /// RFC 5961 §7: at most `CHALLENGE_ACK_LIMIT` challenge ACKs per second.
    pub(crate) fn challenge_ack(&mut self, now: Instant) {
        const CHALLENGE_ACK_LIMIT: u32 = 10;
        if now.saturating_since(self.challenge_slot.0) >= Duration::from_secs(1) {
            self.challenge_slot = (now, 0);
        }
        if self.challenge_slot.1 < CHALLENGE_ACK_LIMIT {
            self.challenge_slot.1 += 1;
            self.stats.challenge_acks += 1;
            self.ack_pending = true;
        }
    }

    /// Builds an outgoing segment header with the ACK and window filled in.
    pub(crate) fn header(&mut self, seq: SeqNum, flags: TcpFlags) -> TcpRepr<'static> {
        let wnd = self.rcv_wnd();
        let (ack, flags) = if flags.syn() && !flags.ack() {
            (0, flags)
        } else {
            (self.rcv_nxt.0, flags | TcpFlags::ACK)
        };
        // RFC 7323 §2.2: the window field of a SYN is never scaled.
        let field = if flags.syn() {
            wnd.min(0xffff)
        } else {
            (wnd >> self.rcv_wscale).min(0xffff)
        };
        self.rcv_wnd_advertised = if flags.syn() {
            field
        } else {
            field << self.rcv_wscale
        };
        self.ack_pending = false;
        self.stats.segs_out += 1;
        TcpRepr {
            src_port: self.local.port(),
            dst_port: self.remote.port(),
            seq: seq.0,
            ack,
            flags,
            window: field as u16,
            urgent: 0,
            options: TcpOptions::default(),
            payload: &[],
        }
    }

    /// The next segment to send, if any. Call until it returns `None`.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Transmit<'_>> {
        if let Some(rst) = self.pending_rst.take() {
            self.stats.segs_out += 1;
            let (ack, flags) = match rst.ack {
                Some(a) => (a.0, TcpFlags::RST | TcpFlags::ACK),
                None => (0, TcpFlags::RST),
            };
            let repr = TcpRepr {
                src_port: self.local.port(),
                dst_port: rst.remote.port(),
                seq: rst.seq.0,
                ack,
                flags,
                window: 0,
                urgent: 0,
                options: TcpOptions::default(),
                payload: &[],
            };
            return Some(Transmit {
                local: self.local,
                remote: rst.remote,
                repr,
            });
        }
        let (local, remote) = (self.local, self.remote);
        let repr = match self.state {
            State::Closed | State::Listen => return None,
            State::TimeWait if !self.ack_pending => return None,
            State::SynSent => self.transmit_syn(now)?,
            // SYN-RECEIVED with our FIN queued still needs its SYN,ACK first.
            State::SynReceived => self.transmit_syn(now)?,
            _ => self.transmit_data(now)?,
        };
        Some(Transmit {
            local,
            remote,
            repr,
        })
    }
}
