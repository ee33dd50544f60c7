//! Blocking sockets shaped like `std::net`: [`TcpListener`] and
//! [`TcpStream`] over a [`Stack`].
//!
//! A call that cannot proceed waits on its own connection's condition
//! variable; the stack's driver signals it when the host reports an event
//! for that connection (readable, writable, connected, closed), and no one
//! else's. Errors carry std's `io::ErrorKind`s: `ConnectionRefused`,
//! `ConnectionReset`, `TimedOut`, `AddrInUse`, `AddrNotAvailable`,
//! `BrokenPipe`, `NotConnected`; a read or write timeout gives
//! `WouldBlock`, as std does on Linux.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant as WallInstant};

use synack_stack::Handle;
use synack_tcp::Config;

use crate::sock;
use crate::stack::{Inner, Stack};

/// Waits on `h`'s condition variable until `ready` gives an answer or the
/// deadline passes (then `Err(WouldBlock)`, or `TimedOut` if `timed_out`
/// says so).
fn wait_for<T>(
    stack: &Stack,
    h: Handle,
    deadline: Option<WallInstant>,
    timeout_kind: io::ErrorKind,
    mut ready: impl FnMut(&mut Inner) -> io::Result<Option<T>>,
) -> io::Result<T> {
    let mut inner = stack.shared.lock();
    loop {
        if let Some(v) = ready(&mut inner)? {
            return Ok(v);
        }
        let cond = inner.waiters(h).cond.clone();
        inner = match deadline {
            None => cond.wait(inner).unwrap_or_else(|e| e.into_inner()),
            Some(d) => {
                let left = d.saturating_duration_since(WallInstant::now());
                if left.is_zero() {
                    return Err(io::Error::new(timeout_kind, "timed out"));
                }
                cond.wait_timeout(inner, left)
                    .unwrap_or_else(|e| e.into_inner())
                    .0
            }
        };
    }
}

fn would_block<T>(r: io::Result<T>) -> io::Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
        Err(e) => Err(e),
    }
}

/// A listening socket.
#[derive(Debug)]
pub struct TcpListener {
    stack: Stack,
    h: Handle,
    local: SocketAddr,
}

impl TcpListener {
    /// Listens on `addr` with a backlog of 128 (an unspecified address
    /// listens on every address of the stack).
    pub fn bind(stack: &Stack, addr: SocketAddr) -> io::Result<TcpListener> {
        TcpListener::bind_with(stack, addr, 128, None)
    }

    /// `bind` with a backlog and the accepted connections' TCP settings
    /// (buffers, Nagle, ...).
    pub fn bind_with(
        stack: &Stack,
        addr: SocketAddr,
        backlog: usize,
        config: Option<Config>,
    ) -> io::Result<TcpListener> {
        let h = sock::listen(stack, addr, backlog, config)?;
        Ok(TcpListener {
            stack: stack.clone(),
            h,
            local: addr,
        })
    }

    /// Waits for a connection.
    pub fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (h, local, peer) =
            wait_for(&self.stack, self.h, None, io::ErrorKind::WouldBlock, |i| {
                sock::accept(i, self.h)
            })?;
        Ok((TcpStream::new(&self.stack, h, local, peer), peer))
    }

    /// Accepted connections, forever.
    pub fn incoming(&self) -> impl Iterator<Item = io::Result<TcpStream>> + '_ {
        std::iter::repeat_with(move || self.accept().map(|(s, _)| s))
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.local)
    }
}

impl Drop for TcpListener {
    fn drop(&mut self) {
        sock::release(&self.stack, self.h);
    }
}

/// A connection.
#[derive(Debug)]
pub struct TcpStream {
    stack: Stack,
    h: Handle,
    local: SocketAddr,
    peer: SocketAddr,
    timeouts: Mutex<(Option<Duration>, Option<Duration>)>,
    read_shut: AtomicBool,
}

impl TcpStream {
    fn new(stack: &Stack, h: Handle, local: SocketAddr, peer: SocketAddr) -> TcpStream {
        TcpStream {
            stack: stack.clone(),
            h,
            local,
            peer,
            timeouts: Mutex::new((None, None)),
            read_shut: AtomicBool::new(false),
        }
    }

    /// Opens a connection to `addr`, waiting as long as the SYN
    /// retransmissions allow.
    pub fn connect(stack: &Stack, addr: SocketAddr) -> io::Result<TcpStream> {
        TcpStream::connect_with(stack, addr, None, None)
    }

    /// Opens a connection, giving up after `timeout`.
    pub fn connect_timeout(
        stack: &Stack,
        addr: SocketAddr,
        timeout: Duration,
    ) -> io::Result<TcpStream> {
        TcpStream::connect_with(stack, addr, Some(timeout), None)
    }

    /// Opens a connection with its own TCP settings and an optional timeout.
    pub fn connect_with(
        stack: &Stack,
        addr: SocketAddr,
        timeout: Option<Duration>,
        config: Option<Config>,
    ) -> io::Result<TcpStream> {
        let h = sock::start_connect(stack, addr, config)?;
        let deadline = timeout.map(|t| WallInstant::now() + t);
        let r = wait_for(stack, h, deadline, io::ErrorKind::TimedOut, |i| {
            Ok(sock::connected(i, h)?.then_some(()))
        });
        if let Err(e) = r {
            sock::release(stack, h);
            return Err(e);
        }
        let local = {
            let inner = stack.shared.lock();
            inner.host.conn(h).map(|c| c.local())
        };
        Ok(TcpStream::new(stack, h, local.unwrap_or(addr), addr))
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.local)
    }

    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.peer)
    }

    /// Shuts down writing (a FIN), reading (later reads return 0), or both.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        if matches!(how, Shutdown::Read | Shutdown::Both) {
            self.read_shut.store(true, Ordering::Relaxed);
            let mut inner = self.stack.shared.lock();
            inner.waiters(self.h).cond.notify_all();
        }
        if matches!(how, Shutdown::Write | Shutdown::Both) {
            sock::shutdown_write(&self.stack, self.h)?;
        }
        Ok(())
    }

    /// TCP_NODELAY: `true` turns Nagle's algorithm off.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        sock::set_nodelay(&self.stack, self.h, nodelay)
    }

    pub fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        if t == Some(Duration::ZERO) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "zero timeout"));
        }
        self.timeouts.lock().unwrap_or_else(|e| e.into_inner()).0 = t;
        Ok(())
    }

    pub fn set_write_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        if t == Some(Duration::ZERO) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "zero timeout"));
        }
        self.timeouts.lock().unwrap_or_else(|e| e.into_inner()).1 = t;
        Ok(())
    }

    pub fn read_timeout(&self) -> io::Result<Option<Duration>> {
        Ok(self.timeouts.lock().unwrap_or_else(|e| e.into_inner()).0)
    }

    pub fn write_timeout(&self) -> io::Result<Option<Duration>> {
        Ok(self.timeouts.lock().unwrap_or_else(|e| e.into_inner()).1)
    }

    /// The error the connection ended with, if it was reset or timed out.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        Ok(sock::take_error(&self.stack, self.h))
    }

    fn do_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() || self.read_shut.load(Ordering::Relaxed) {
            return Ok(0);
        }
        let deadline = self.read_timeout()?.map(|t| WallInstant::now() + t);
        let n = wait_for(
            &self.stack,
            self.h,
            deadline,
            io::ErrorKind::WouldBlock,
            |i| {
                if self.read_shut.load(Ordering::Relaxed) {
                    return Ok(Some(0));
                }
                would_block(sock::recv(i, self.h, buf))
            },
        )?;
        // The window opened: the driver may owe the peer an update.
        self.stack.kick();
        Ok(n)
    }

    fn do_write(&self, buf: &[u8]) -> io::Result<usize> {
        let deadline = self.write_timeout()?.map(|t| WallInstant::now() + t);
        let n = wait_for(
            &self.stack,
            self.h,
            deadline,
            io::ErrorKind::WouldBlock,
            |i| would_block(sock::send(i, self.h, buf)),
        )?;
        self.stack.kick();
        Ok(n)
    }
}

impl Read for TcpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.do_read(buf)
    }
}

impl Read for &TcpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.do_read(buf)
    }
}

impl Write for TcpStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.do_write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Write for &TcpStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.do_write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for TcpStream {
    fn drop(&mut self) {
        sock::release(&self.stack, self.h);
    }
}
