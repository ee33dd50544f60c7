//! Typed errors for application calls and the reasons a connection ends.

use core::fmt;

/// Why a connection reached CLOSED.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum CloseReason {
    /// Both sides closed; every byte was delivered and acknowledged.
    Normal,
    /// The peer answered our SYN with a RST: nothing listens there.
    Refused,
    /// The peer reset an open connection.
    Reset,
    /// Retransmissions (of the SYN or of data) were exhausted.
    TimedOut,
    /// The local application aborted the connection.
    Aborted,
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CloseReason::Normal => "closed",
            CloseReason::Refused => "connection refused",
            CloseReason::Reset => "connection reset by peer",
            CloseReason::TimedOut => "connection timed out",
            CloseReason::Aborted => "connection aborted",
        })
    }
}

/// An application call that could not be carried out.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Error {
    /// Nothing can be done now; try again after more input or time.
    WouldBlock,
    /// The call needs a connection that is open in that direction.
    NotConnected,
    /// The application already shut down its sending side.
    SendClosed,
    /// The connection ended; the reason says how.
    Closed(CloseReason),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::WouldBlock => f.write_str("operation would block"),
            Error::NotConnected => f.write_str("not connected"),
            Error::SendClosed => f.write_str("sending side already shut down"),
            Error::Closed(r) => r.fmt(f),
        }
    }
}

impl std::error::Error for Error {}
