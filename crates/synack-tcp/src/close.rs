//! Closing a connection (RFC 9293 §3.6): the application's three ways out
//! (shutdown, close, abort), the peer's FIN, and the closing states it
//! leads to, with their timers (FIN-WAIT-2, TIME-WAIT).
//!
//! `shutdown` is a half-close: a FIN follows the queued data and the
//! application still reads until the peer's FIN. `close` is the socket
//! call: the application goes away. The connection then finishes on its
//! own — an *orphan* — and, as in Linux, unread data at close time or data
//! arriving afterwards resets it (nobody would ever read it; RFC 2525
//! §2.17), and a FIN-WAIT-2 that waits longer than `fin_timeout` for the
//! peer's FIN gives up.

use crate::conn::{Connection, PendingRst};
use crate::error::CloseReason;
use crate::seq::SeqNum;
use crate::state::{Cause, State};
use crate::time::Instant;
use crate::timer::TimerKind;
use std::net::SocketAddr;
use synack_wire::OptionLayout;

/// What TIME-WAIT needs of a connection, for a stack that keeps it in a
/// compact table instead of the whole TCB.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct TimeWaitState {
    pub local: SocketAddr,
    pub remote: SocketAddr,
    /// SND.NXT and RCV.NXT: what the re-ACK of a retransmitted FIN carries.
    pub snd_nxt: SeqNum,
    pub rcv_nxt: SeqNum,
    /// The window field to put in that ACK.
    pub window: u16,
    /// TS.Recent and our timestamp clock's offset, if timestamps are on.
    pub ts: Option<(u32, u32)>,
    /// When 2×MSL ends.
    pub deadline: Instant,
    /// The option layout of the connection's config, for that ACK.
    pub option_layout: OptionLayout,
}

impl Connection {
    /// The connection in TIME-WAIT, as a stack's compact table keeps it.
    pub fn time_wait_state(&self) -> Option<TimeWaitState> {
        if self.state != State::TimeWait {
            return None;
        }
        Some(TimeWaitState {
            local: self.local,
            remote: self.remote,
            snd_nxt: self.snd.nxt,
            rcv_nxt: self.rcv.nxt,
            window: self.rcv.last_window_field(),
            ts: self
                .opts
                .ts
                .then(|| (self.rcv.ts_recent.unwrap_or(0), self.opts.ts_offset)),
            deadline: self.timers.get(TimerKind::TimeWait)?,
            option_layout: self.config.option_layout,
        })
    }

    /// RFC 9293 §3.10.4 CLOSE as a half-close (SHUT_WR): no more data will
    /// be sent; a FIN follows what is queued. The application may still
    /// receive.
    pub fn shutdown(&mut self, now: Instant) {
        self.queue_fin(now, Cause::AppShutdown);
    }

    /// The application closes the connection and goes away: it will
    /// neither send nor read again. Queued data is still delivered and a
    /// FIN follows it; if data the application never read is waiting, the
    /// connection is reset instead (RFC 2525 §2.17, as Linux does).
    pub fn close(&mut self, now: Instant) {
        if self.app_closed {
            return;
        }
        self.app_closed = true;
        if self.rcv.queued() > 0 && self.state.is_synchronized() {
            self.abort(now);
            return;
        }
        self.queue_fin(now, Cause::AppClose);
        if self.state == State::FinWait2 {
            self.timers
                .set(TimerKind::FinWait2, now + self.config.fin_timeout);
        }
    }

    fn queue_fin(&mut self, now: Instant, cause: Cause) {
        match self.state {
            State::Listen | State::SynSent => {
                self.terminate(now, CloseReason::Normal, cause);
            }
            // RFC 9293 §3.10.4: in SYN-RECEIVED the FIN waits until the
            // handshake completes (see `establish`).
            State::SynReceived => self.snd.queue_fin(),
            State::Established => {
                self.snd.queue_fin();
                self.set_state(now, State::FinWait1, cause);
            }
            State::CloseWait => {
                self.snd.queue_fin();
                self.set_state(now, State::LastAck, cause);
            }
            _ => {}
        }
    }

    /// RFC 9293 §3.10.5 ABORT: send a RST if the peer knows of us, drop
    /// everything, go to CLOSED.
    pub fn abort(&mut self, now: Instant) {
        self.abort_because(now, Cause::AppAbort);
    }

    /// ABORT on the stack's behalf, with the reason it gives (an orphan
    /// limit, a listener that closed with connections not yet accepted).
    pub fn abort_because(&mut self, now: Instant, cause: Cause) {
        if matches!(
            self.state,
            State::SynReceived
                | State::Established
                | State::FinWait1
                | State::FinWait2
                | State::CloseWait
        ) {
            // <SEQ=SND.NXT><CTL=RST>: SND.NXT is never rewound, so this is
            // the highest sequence number sent, inside the peer's window.
            self.pending_rst = Some(PendingRst {
                seq: self.snd.nxt,
                ack: None,
            });
        }
        self.terminate(now, CloseReason::Aborted, cause);
    }

    /// RFC 9293 §3.10.7.4, eighth step: the peer's FIN arrived in order.
    pub(crate) fn on_fin(&mut self, now: Instant) {
        // The FIN consumes one sequence number and is acknowledged at once.
        self.rcv.on_fin();
        self.push_event(crate::conn::Event::Readable);
        match self.state {
            State::SynReceived | State::Established => {
                self.set_state(now, State::CloseWait, Cause::RecvFin)
            }
            // Our FIN acknowledged by this very segment: straight to
            // TIME-WAIT; otherwise both sides are closing at once.
            State::FinWait1 if self.snd.fin_acked() => {
                self.set_state(now, State::TimeWait, Cause::RecvFinAck)
            }
            State::FinWait1 => self.set_state(now, State::Closing, Cause::RecvFin),
            State::FinWait2 => self.set_state(now, State::TimeWait, Cause::RecvFin),
            _ => {}
        }
    }

    /// The FIN-WAIT-2 lifetime of an orphan ran out (Linux tcp_fin_timeout).
    pub(crate) fn on_fin_wait2_timeout(&mut self, now: Instant) {
        if self.state == State::FinWait2 && self.app_closed {
            self.terminate(now, CloseReason::TimedOut, Cause::FinWait2Timeout);
        }
    }

    /// Data arrived for an application that has closed: reset (Linux's
    /// behaviour; the data can never be read).
    pub(crate) fn reset_orphan(&mut self, now: Instant) {
        self.pending_rst = Some(PendingRst {
            seq: self.snd.nxt,
            ack: None,
        });
        self.terminate(now, CloseReason::Aborted, Cause::DataAfterClose);
    }
}
