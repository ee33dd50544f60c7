//! What the blocking and the async sockets share: the calls into the host
//! under the lock, and how the engine's errors read as `io::Error`s.

use std::io;
use std::net::SocketAddr;

use synack_stack::Handle;
use synack_tcp::{CloseReason, Config, Error, State};

use crate::stack::{stack_error, Inner, Stack};

/// The `io::Error` for an engine error.
pub(crate) fn io_error(e: Error) -> io::Error {
    match e {
        Error::WouldBlock => io::ErrorKind::WouldBlock.into(),
        Error::NotConnected => io::Error::new(io::ErrorKind::NotConnected, "not connected"),
        Error::SendClosed => {
            io::Error::new(io::ErrorKind::BrokenPipe, "the sending side was shut down")
        }
        Error::Closed(r) => close_error(r),
    }
}

/// The `io::Error` for a connection that ended this way.
pub(crate) fn close_error(r: CloseReason) -> io::Error {
    let kind = match r {
        CloseReason::Normal => io::ErrorKind::BrokenPipe,
        CloseReason::Refused => io::ErrorKind::ConnectionRefused,
        CloseReason::Reset => io::ErrorKind::ConnectionReset,
        CloseReason::TimedOut => io::ErrorKind::TimedOut,
        CloseReason::Aborted => io::ErrorKind::ConnectionAborted,
    };
    io::Error::new(kind, r.to_string())
}

pub(crate) fn stopped(inner: &Inner) -> io::Result<()> {
    match &inner.stopped {
        Some(why) => Err(io::Error::new(io::ErrorKind::NotConnected, why.clone())),
        None => Ok(()),
    }
}

fn gone() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "the connection is gone")
}

/// One `recv`; `Err(WouldBlock)` when nothing is there yet.
pub(crate) fn recv(inner: &mut Inner, h: Handle, buf: &mut [u8]) -> io::Result<usize> {
    stopped(inner)?;
    let c = inner.host.conn_mut(h).ok_or_else(gone)?;
    c.recv(buf).map_err(io_error)
}

/// One `send`; `Err(WouldBlock)` when the send buffer is full.
pub(crate) fn send(inner: &mut Inner, h: Handle, buf: &[u8]) -> io::Result<usize> {
    stopped(inner)?;
    if buf.is_empty() {
        return Ok(0);
    }
    let c = inner.host.conn_mut(h).ok_or_else(gone)?;
    c.send(buf).map_err(io_error)
}

/// Where an opening connection stands: `Ok(true)` once synchronized.
pub(crate) fn connected(inner: &mut Inner, h: Handle) -> io::Result<bool> {
    stopped(inner)?;
    let c = inner.host.conn(h).ok_or_else(gone)?;
    match c.state() {
        State::SynSent | State::SynReceived | State::Listen => Ok(false),
        State::Closed => Err(close_error(
            c.close_reason().unwrap_or(CloseReason::Aborted),
        )),
        _ => Ok(true),
    }
}

/// Starts an active open.
pub(crate) fn start_connect(
    stack: &Stack,
    remote: SocketAddr,
    config: Option<Config>,
) -> io::Result<Handle> {
    let now = stack.shared.now();
    let mut inner = stack.shared.lock();
    stopped(&inner)?;
    let opts = synack_stack::ConnectOptions {
        config,
        ..Default::default()
    };
    let h = inner
        .host
        .connect_with(now, remote, opts)
        .map_err(stack_error)?;
    inner.waiters(h);
    drop(inner);
    stack.kick();
    Ok(h)
}

/// Opens a listener on `local` (an unspecified address listens on all of
/// the host's).
pub(crate) fn listen(
    stack: &Stack,
    local: SocketAddr,
    backlog: usize,
    config: Option<Config>,
) -> io::Result<Handle> {
    if local.port() == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a listener needs a port (0 is not supported)",
        ));
    }
    let now = stack.shared.now();
    let mut inner = stack.shared.lock();
    stopped(&inner)?;
    let h = inner
        .host
        .listen_on(now, local, backlog, config)
        .map_err(stack_error)?;
    inner.waiters(h);
    Ok(h)
}

/// Takes a connection from the accept queue: (handle, local, peer).
pub(crate) fn accept(
    inner: &mut Inner,
    l: Handle,
) -> io::Result<Option<(Handle, SocketAddr, SocketAddr)>> {
    stopped(inner)?;
    if inner.host.listener(l).is_none() {
        return Err(gone());
    }
    let Some(h) = inner.host.accept(l) else {
        return Ok(None);
    };
    inner.waiters(h);
    let c = inner.host.conn(h).ok_or_else(gone)?;
    Ok(Some((h, c.local(), c.remote())))
}

/// The application lets go of a connection or listener.
pub(crate) fn release(stack: &Stack, h: Handle) {
    let now = stack.shared.now();
    let mut inner = stack.shared.lock();
    inner.waiters.remove(&h);
    inner.host.close(now, h);
    drop(inner);
    stack.kick();
}

/// SHUT_WR: a FIN after what is queued.
pub(crate) fn shutdown_write(stack: &Stack, h: Handle) -> io::Result<()> {
    let now = stack.shared.now();
    let mut inner = stack.shared.lock();
    stopped(&inner)?;
    let c = inner.host.conn_mut(h).ok_or_else(gone)?;
    if c.state() == State::Closed {
        return Err(close_error(
            c.close_reason().unwrap_or(CloseReason::Aborted),
        ));
    }
    c.shutdown(now);
    drop(inner);
    stack.kick();
    Ok(())
}

/// The error the connection ended with, if it ended badly (`take_error`).
pub(crate) fn take_error(stack: &Stack, h: Handle) -> Option<io::Error> {
    let inner = stack.shared.lock();
    let c = inner.host.conn(h)?;
    match c.close_reason() {
        None | Some(CloseReason::Normal) => None,
        Some(r) => Some(close_error(r)),
    }
}

pub(crate) fn set_nodelay(stack: &Stack, h: Handle, on: bool) -> io::Result<()> {
    let mut inner = stack.shared.lock();
    let c = inner.host.conn_mut(h).ok_or_else(gone)?;
    c.set_nodelay(on);
    drop(inner);
    stack.kick();
    Ok(())
}
