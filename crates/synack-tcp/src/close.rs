//! Closing a connection (RFC 9293 §3.6): the FIN we receive and the closing
//! states it leads to. Our own FIN is queued by `Connection::close` and sent
//! by `send.rs` after the last data byte.

use crate::conn::Connection;
use crate::state::{Cause, State};
use crate::time::Instant;

impl Connection {
    /// RFC 9293 §3.10.7.4, eighth step: the peer's FIN arrived in order.
    pub(crate) fn on_fin(&mut self, now: Instant) {
        // The FIN consumes one sequence number and is acknowledged at once.
        self.rcv_nxt += 1;
        self.fin_received = true;
        self.ack_pending = true;
        match self.state {
            State::SynReceived | State::Established => {
                self.set_state(now, State::CloseWait, Cause::RecvFin)
            }
            // Our FIN acknowledged by this very segment: straight to
            // TIME-WAIT; otherwise both sides are closing at once.
            State::FinWait1 if self.fin_acked() => {
                self.set_state(now, State::TimeWait, Cause::RecvFinAck)
            }
            State::FinWait1 => self.set_state(now, State::Closing, Cause::RecvFin),
            State::FinWait2 => self.set_state(now, State::TimeWait, Cause::RecvFin),
            _ => {}
        }
    }
}
