//! Async sockets for tokio: [`TcpListener`] and [`TcpStream`] over a
//! [`Stack`], with `AsyncRead` and `AsyncWrite`, so that unmodified
//! ecosystem code (codecs, hyper, rustls) runs over synack.
//!
//! A pending read parks its task's waker on its connection; the driver
//! wakes it when the host reports the connection readable (or closed), and
//! wakes no other task. Writers likewise on writable.

use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use ::tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use synack_stack::Handle;
use synack_tcp::Config;

use crate::sock;
use crate::stack::Stack;

fn pending_on<T>(r: io::Result<T>) -> Option<io::Result<T>> {
    match r {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => None,
        r => Some(r),
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
    /// Listens on `addr` with a backlog of 128.
    pub async fn bind(stack: &Stack, addr: SocketAddr) -> io::Result<TcpListener> {
        TcpListener::bind_with(stack, addr, 128, None)
    }

    /// `bind` with a backlog and the accepted connections' TCP settings.
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
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let mut inner = self.stack.shared.lock();
        match sock::accept(&mut inner, self.h) {
            Ok(Some((h, local, peer))) => {
                drop(inner);
                Poll::Ready(Ok((TcpStream::new(&self.stack, h, local, peer), peer)))
            }
            Ok(None) => {
                inner.waiters(self.h).read = Some(cx.waker().clone());
                Poll::Pending
            }
            Err(e) => Poll::Ready(Err(e)),
        }
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

#[derive(Debug)]
struct Conn {
    stack: Stack,
    h: Handle,
    local: SocketAddr,
    peer: SocketAddr,
}

impl Drop for Conn {
    fn drop(&mut self) {
        sock::release(&self.stack, self.h);
    }
}

impl Conn {
    fn poll_read(&self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        let mut inner = self.stack.shared.lock();
        match pending_on(sock::recv(&mut inner, self.h, buf.initialize_unfilled())) {
            Some(Ok(n)) => {
                drop(inner);
                buf.advance(n);
                if n > 0 {
                    // The window opened: the driver may owe an update.
                    self.stack.kick();
                }
                Poll::Ready(Ok(()))
            }
            Some(Err(e)) => Poll::Ready(Err(e)),
            None => {
                inner.waiters(self.h).read = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }

    fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let mut inner = self.stack.shared.lock();
        match pending_on(sock::send(&mut inner, self.h, buf)) {
            Some(Ok(n)) => {
                drop(inner);
                self.stack.kick();
                Poll::Ready(Ok(n))
            }
            Some(Err(e)) => Poll::Ready(Err(e)),
            None => {
                inner.waiters(self.h).write = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }

    fn poll_connected(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut inner = self.stack.shared.lock();
        match sock::connected(&mut inner, self.h) {
            Ok(true) => Poll::Ready(Ok(())),
            Ok(false) => {
                inner.waiters(self.h).write = Some(cx.waker().clone());
                Poll::Pending
            }
            Err(e) => Poll::Ready(Err(e)),
        }
    }
}

/// A connection.
#[derive(Debug)]
pub struct TcpStream {
    conn: Arc<Conn>,
}

impl TcpStream {
    fn new(stack: &Stack, h: Handle, local: SocketAddr, peer: SocketAddr) -> TcpStream {
        TcpStream {
            conn: Arc::new(Conn {
                stack: stack.clone(),
                h,
                local,
                peer,
            }),
        }
    }

    /// Opens a connection to `addr`.
    pub async fn connect(stack: &Stack, addr: SocketAddr) -> io::Result<TcpStream> {
        TcpStream::connect_with(stack, addr, None).await
    }

    /// Opens a connection with its own TCP settings.
    pub async fn connect_with(
        stack: &Stack,
        addr: SocketAddr,
        config: Option<Config>,
    ) -> io::Result<TcpStream> {
        let h = sock::start_connect(stack, addr, config)?;
        // Until it is connected the stream is the one owner: dropping this
        // future (a timeout) lets go of the connection.
        let mut s = TcpStream::new(stack, h, addr, addr);
        poll_fn(|cx| s.conn.poll_connected(cx)).await?;
        let local = stack.shared.lock().host.conn(h).map(|c| c.local());
        if let (Some(local), Some(conn)) = (local, Arc::get_mut(&mut s.conn)) {
            conn.local = local;
        }
        Ok(s)
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.conn.local)
    }

    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.conn.peer)
    }

    /// TCP_NODELAY: `true` turns Nagle's algorithm off.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        sock::set_nodelay(&self.conn.stack, self.conn.h, nodelay)
    }

    /// The error the connection ended with, if it was reset or timed out.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        Ok(sock::take_error(&self.conn.stack, self.conn.h))
    }

    /// Splits into a reading and a writing half that can move to
    /// different tasks. Dropping the write half shuts down writing.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        (
            OwnedReadHalf {
                conn: self.conn.clone(),
            },
            OwnedWriteHalf {
                conn: self.conn,
                shut: false,
            },
        )
    }
}

impl AsyncRead for TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.conn.poll_read(cx, buf)
    }
}

impl AsyncWrite for TcpStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.conn.poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(sock::shutdown_write(&self.conn.stack, self.conn.h))
    }
}

/// The reading half of a [`TcpStream`].
#[derive(Debug)]
pub struct OwnedReadHalf {
    conn: Arc<Conn>,
}

/// The writing half of a [`TcpStream`]; dropping it sends a FIN.
#[derive(Debug)]
pub struct OwnedWriteHalf {
    conn: Arc<Conn>,
    shut: bool,
}

impl AsyncRead for OwnedReadHalf {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.conn.poll_read(cx, buf)
    }
}

impl AsyncWrite for OwnedWriteHalf {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.conn.poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.shut = true;
        Poll::Ready(sock::shutdown_write(&self.conn.stack, self.conn.h))
    }
}

impl Drop for OwnedWriteHalf {
    fn drop(&mut self) {
        if !self.shut {
            let _ = sock::shutdown_write(&self.conn.stack, self.conn.h);
        }
    }
}
