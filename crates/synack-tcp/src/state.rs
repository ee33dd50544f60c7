//! The eleven connection states of RFC 9293 §3.3.2 and the record of each
//! change between them.
//!
//! The connection changes state in exactly one place
//! (`Connection::set_state`), which appends a [`Transition`] to the event
//! queue; ladder diagrams, traces and tests all read those records.

use crate::time::Instant;
use core::fmt;

/// A TCP connection state (RFC 9293 §3.3.2, Figure 5).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum State {
    Closed,
    Listen,
    SynSent,
    SynReceived,
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
    TimeWait,
}

impl State {
    /// All states, in the order RFC 9293 lists them.
    pub const ALL: [State; 11] = [
        State::Closed,
        State::Listen,
        State::SynSent,
        State::SynReceived,
        State::Established,
        State::FinWait1,
        State::FinWait2,
        State::CloseWait,
        State::Closing,
        State::LastAck,
        State::TimeWait,
    ];

    /// The RFC's spelling, e.g. `SYN-RECEIVED`.
    pub fn name(self) -> &'static str {
        match self {
            State::Closed => "CLOSED",
            State::Listen => "LISTEN",
            State::SynSent => "SYN-SENT",
            State::SynReceived => "SYN-RECEIVED",
            State::Established => "ESTABLISHED",
            State::FinWait1 => "FIN-WAIT-1",
            State::FinWait2 => "FIN-WAIT-2",
            State::CloseWait => "CLOSE-WAIT",
            State::Closing => "CLOSING",
            State::LastAck => "LAST-ACK",
            State::TimeWait => "TIME-WAIT",
        }
    }

    /// RFC 9293 §3.3.2: the states after the handshake, in which both
    /// sequence spaces are known.
    pub fn is_synchronized(self) -> bool {
        !matches!(
            self,
            State::Closed | State::Listen | State::SynSent | State::SynReceived
        )
    }

    /// States in which the peer may still send us data.
    pub fn can_receive_data(self) -> bool {
        matches!(
            self,
            State::SynReceived | State::Established | State::FinWait1 | State::FinWait2
        )
    }

    /// States in which our application may still queue data to send.
    pub fn can_send_data(self) -> bool {
        matches!(
            self,
            State::SynSent | State::SynReceived | State::Established | State::CloseWait
        )
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// Why a state changed: the event of RFC 9293 Figure 5 that drove it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Cause {
    /// The application called `connect` (active OPEN).
    AppConnect,
    /// The application called `listen` (passive OPEN).
    AppListen,
    /// The application closed the connection (it will neither send nor read).
    AppClose,
    /// The application shut down its sending side (SHUT_WR): a half-close.
    AppShutdown,
    /// The application aborted the connection.
    AppAbort,
    /// A SYN arrived.
    RecvSyn,
    /// A SYN+ACK acknowledging our SYN arrived.
    RecvSynAck,
    /// An ACK arrived (of our SYN or our FIN).
    RecvAck,
    /// A FIN arrived.
    RecvFin,
    /// A FIN arrived that also acknowledged our FIN.
    RecvFinAck,
    /// An acceptable RST arrived.
    RecvRst,
    /// The TIME-WAIT (2×MSL) timer expired.
    TimeWaitExpired,
    /// Retransmissions were exhausted.
    RetransmitLimit,
    /// The FIN-WAIT-2 lifetime of an orphaned connection ran out.
    FinWait2Timeout,
    /// Zero-window probes went unanswered up to the limit.
    PersistLimit,
    /// Keep-alive probes went unanswered up to the limit.
    KeepaliveLimit,
    /// The open did not complete within `Config::setup_timeout`.
    SetupTimeout,
    /// Data arrived after the application closed: nobody will read it, so
    /// the connection is reset (RFC 9293 §3.10.7.4, as Linux does).
    DataAfterClose,
    /// An ICMP destination unreachable (port or protocol) answered our SYN.
    IcmpUnreachable,
    /// The stack reset an orphan to stay under its orphan limit.
    OrphanLimit,
    /// The stack reset a connection waiting in a listener that was closed.
    ListenerClosed,
}

impl Cause {
    pub fn describe(self) -> &'static str {
        match self {
            Cause::AppConnect => "connect()",
            Cause::AppListen => "listen()",
            Cause::AppClose => "close()",
            Cause::AppShutdown => "shutdown(SHUT_WR)",
            Cause::AppAbort => "abort()",
            Cause::RecvSyn => "rcv SYN",
            Cause::RecvSynAck => "rcv SYN,ACK",
            Cause::RecvAck => "rcv ACK",
            Cause::RecvFin => "rcv FIN",
            Cause::RecvFinAck => "rcv FIN,ACK",
            Cause::RecvRst => "rcv RST",
            Cause::TimeWaitExpired => "2MSL timeout",
            Cause::RetransmitLimit => "retransmissions exhausted",
            Cause::FinWait2Timeout => "FIN-WAIT-2 timeout",
            Cause::PersistLimit => "zero-window probes unanswered",
            Cause::KeepaliveLimit => "keep-alive probes unanswered",
            Cause::SetupTimeout => "connection setup timed out",
            Cause::DataAfterClose => "data after close()",
            Cause::IcmpUnreachable => "ICMP unreachable",
            Cause::OrphanLimit => "too many orphans",
            Cause::ListenerClosed => "listener closed",
        }
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// One state change: when, from, to, and why.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Transition {
    pub at: Instant,
    pub from: State,
    pub to: State,
    pub cause: Cause,
}

impl fmt::Display for Transition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} → {} ({})", self.from, self.to, self.cause)
    }
}
