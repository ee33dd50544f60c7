//! The runtime: one [`Host`] over one device, driven by a task that pumps
//! packets and timers and wakes exactly the sockets whose connections had
//! something happen.
//!
//! ```text
//!   application threads / tasks            driver (a tokio task)
//!   ───────────────────────────            ─────────────────────
//!   read/write/accept/connect ──lock──▶ Inner { host, waiters } ◀──lock── pump(now, device)
//!     WouldBlock: park a Waker or            HostEvent::Conn(h, Readable) → wake h's reader
//!     wait on h's Condvar                    HostEvent::Conn(h, Writable) → wake h's writer
//!   calls that may send ──kick──────────▶  wait: device readable | kick | next deadline
//! ```
//!
//! The driver never walks the connections: the host's ready queue and
//! timer heap find the work, and its events name the handles to wake. The
//! time is `tokio::time::Instant` from one origin (a [`Clock`]): real time
//! normally, virtual time in a test whose runtime starts paused.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use synack_device::{Device, DeviceCaps, LinkEnd};
use synack_stack::{Handle, Host, HostConfig, HostEvent, SocketTable, StackError};
use synack_tcp::{Event, Instant};
use tokio::sync::Notify;

/// A device a [`Stack`] can drive: a [`Device`] that can also say, in the
/// async way, when it may have packets to receive.
pub trait NetDevice: Device + Send + 'static {
    /// Ready when packets may be waiting (a spurious wake-up is fine: the
    /// driver then finds none). Called from inside the driver's runtime.
    fn poll_readable(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
}

/// The time base of a stack, shared by stacks that share a simulated link.
#[derive(Copy, Clone, Debug)]
pub struct Clock {
    origin: tokio::time::Instant,
}

impl Clock {
    /// A clock whose zero is now.
    pub fn new() -> Clock {
        Clock {
            origin: tokio::time::Instant::now(),
        }
    }

    /// The stack's current time.
    pub fn now(&self) -> Instant {
        let d = tokio::time::Instant::now().saturating_duration_since(self.origin);
        Instant::from_micros(d.as_micros().min(u128::from(u64::MAX)) as u64)
    }

    /// The tokio instant of a stack time.
    pub fn to_tokio(&self, t: Instant) -> tokio::time::Instant {
        self.origin + std::time::Duration::from_micros(t.as_micros())
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new()
    }
}

/// Who waits on one connection or listener.
#[derive(Debug, Default)]
pub(crate) struct Waiters {
    pub read: Option<Waker>,
    pub write: Option<Waker>,
    /// Blocking callers wait here (with the `Inner` lock).
    pub cond: Arc<Condvar>,
}

impl Waiters {
    fn wake_read(&mut self) {
        if let Some(w) = self.read.take() {
            w.wake();
        }
    }
    fn wake_write(&mut self) {
        if let Some(w) = self.write.take() {
            w.wake();
        }
    }
}

/// Everything behind the lock.
pub(crate) struct Inner {
    pub host: Host,
    pub waiters: HashMap<Handle, Waiters>,
    /// The driver stopped (device error, or the stack was shut down).
    pub stopped: Option<String>,
}

impl Inner {
    /// Wakes the waiters of every connection or listener the host has
    /// news of, and only those.
    fn dispatch(&mut self) {
        while let Some(ev) = self.host.poll_event() {
            match ev {
                HostEvent::Conn(h, ev) => {
                    let Some(w) = self.waiters.get_mut(&h) else {
                        continue;
                    };
                    match ev {
                        Event::Readable => w.wake_read(),
                        Event::Writable => w.wake_write(),
                        Event::Recovery { .. } => continue,
                        Event::Connected | Event::Closed(_) | Event::StateChanged(_) => {
                            w.wake_read();
                            w.wake_write();
                        }
                    }
                    w.cond.notify_all();
                }
                HostEvent::Incoming(l) => {
                    if let Some(w) = self.waiters.get_mut(&l) {
                        w.wake_read();
                        w.cond.notify_all();
                    }
                }
                HostEvent::Listener { .. } => {}
            }
        }
    }

    pub fn waiters(&mut self, h: Handle) -> &mut Waiters {
        self.waiters.entry(h).or_default()
    }
}

pub(crate) struct Shared {
    pub inner: Mutex<Inner>,
    /// Wakes the driver after an application call that may send.
    pub kick: Notify,
    pub clock: Clock,
}

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic elsewhere while holding the lock leaves the host as it
        // was between two calls; carry on with it.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn now(&self) -> Instant {
        self.clock.now()
    }
}

/// How to build a stack.
#[derive(Clone, Debug)]
pub struct StackConfig {
    pub host: HostConfig,
    /// The host's secrets (ISN key, port and cookie keys); from the
    /// operating system's random source when `None`.
    pub entropy: Option<[u8; 32]>,
    /// The time base; a new one when `None`. Stacks on the two ends of a
    /// simulated link must share one.
    pub clock: Option<Clock>,
}

impl StackConfig {
    pub fn new(host: HostConfig) -> StackConfig {
        StackConfig {
            host,
            entropy: None,
            clock: None,
        }
    }
}

fn os_entropy() -> io::Result<[u8; 32]> {
    use std::io::Read;
    let mut e = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut e)?;
    Ok(e)
}

/// A running TCP/IP stack: a host and the driver that moves its packets.
/// Cloning gives another handle to the same stack; sockets are made from
/// it (`synack::net`, `synack::tokio`) and hold one. The driver stops when
/// the last handle and socket are gone and the connections they closed
/// have finished, or at once at `shutdown`.
#[derive(Clone)]
pub struct Stack {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for Stack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stack")
            .field("addr", &self.shared.lock().host.addr())
            .finish()
    }
}

impl Stack {
    /// Makes the stack and its driver; the driver must be run (spawned on
    /// a tokio runtime) for anything to move. The host's MTU is the
    /// device's.
    pub fn new<D: NetDevice>(
        mut config: StackConfig,
        device: D,
    ) -> io::Result<(Stack, impl Future<Output = io::Result<()>> + Send + 'static)> {
        config.host.mtu = device.caps().mtu;
        let entropy = match config.entropy {
            Some(e) => e,
            None => os_entropy()?,
        };
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner {
                host: Host::new(config.host, entropy),
                waiters: HashMap::new(),
                stopped: None,
            }),
            kick: Notify::new(),
            clock: config.clock.unwrap_or_default(),
        });
        let driver = drive(shared.clone(), device);
        Ok((Stack { shared }, driver))
    }

    /// Makes the stack and spawns its driver on the current tokio runtime.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime.
    pub fn spawn<D: NetDevice>(config: StackConfig, device: D) -> io::Result<Stack> {
        let (stack, driver) = Stack::new(config, device)?;
        tokio::spawn(driver);
        Ok(stack)
    }

    /// Makes the stack and runs its driver on a thread of its own (for
    /// blocking sockets, or async ones from any runtime). `make_device`
    /// runs on that thread, inside its runtime, so a device may register
    /// with the runtime's reactor.
    pub fn spawn_thread<D, F>(config: StackConfig, make_device: F) -> io::Result<Stack>
    where
        D: NetDevice,
        F: FnOnce() -> io::Result<D> + Send + 'static,
    {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("synack-driver".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                };
                rt.block_on(async move {
                    let made = make_device().and_then(|d| Stack::new(config, d));
                    match made {
                        Ok((stack, driver)) => {
                            let _ = tx.send(Ok(stack));
                            if let Err(e) = driver.await {
                                eprintln!("synack: the stack stopped: {e}");
                            }
                        }
                        Err(e) => {
                            let _ = tx.send(Err(e));
                        }
                    }
                });
            })?;
        rx.recv()
            .map_err(|_| io::Error::other("the stack's thread ended before starting"))?
    }

    /// The host's first address.
    pub fn addr(&self) -> IpAddr {
        self.shared.lock().host.addr()
    }

    /// The stack's clock.
    pub fn clock(&self) -> Clock {
        self.shared.clock
    }

    /// The socket table, as `ss -tani` shows it.
    pub fn sockets(&self) -> SocketTable {
        let now = self.shared.now();
        self.shared.lock().host.sockets(now)
    }

    /// The host's counters, with `nstat` names.
    pub fn counters(&self) -> synack_stack::Counters {
        *self.shared.lock().host.counters()
    }

    /// Runs `f` on the host (for settings and inspection), then lets the
    /// driver look at what changed.
    pub fn with_host<R>(&self, f: impl FnOnce(&mut Host) -> R) -> R {
        let r = f(&mut self.shared.lock().host);
        self.shared.kick.notify_one();
        r
    }

    /// Stops the driver; sockets then fail with `NotConnected`.
    pub fn shutdown(&self) {
        self.shared.lock().stopped = Some("the stack was shut down".into());
        self.shared.kick.notify_one();
    }

    pub(crate) fn kick(&self) {
        self.shared.kick.notify_one();
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // The last handle going lets the driver see that it can stop.
        if Arc::strong_count(&self.shared) <= 2 {
            self.shared.kick.notify_one();
        }
    }
}

/// The driver: pump, wake, wait; until the stack is shut down or the
/// device fails.
async fn drive<D: NetDevice>(shared: Arc<Shared>, mut device: D) -> io::Result<()> {
    let result = loop {
        let now = shared.now();
        let next = {
            let mut inner = shared.lock();
            // Stopped; or nobody holds the stack or a socket any more and
            // the connections they closed have finished (TIME-WAIT aside).
            if inner.stopped.is_some()
                || (Arc::strong_count(&shared) == 1 && inner.host.orphans() == 0)
            {
                break Ok(());
            }
            if let Err(e) = inner.host.pump(now, &mut device) {
                break Err(e);
            }
            inner.dispatch();
            [inner.host.poll_timeout(), device.next_arrival()]
                .into_iter()
                .flatten()
                .min()
        };
        let sleep = next.map(|t| tokio::time::sleep_until(shared.clock.to_tokio(t)));
        let readable = std::future::poll_fn(|cx| device.poll_readable(cx));
        tokio::select! {
            r = readable => if let Err(e) = r { break Err(e) },
            _ = shared.kick.notified() => {}
            _ = async { match sleep { Some(s) => s.await, None => std::future::pending().await } } => {}
        }
    };
    // Wake everyone: their calls now fail instead of waiting forever.
    let mut inner = shared.lock();
    let why = match &result {
        Ok(()) => "the stack was shut down".to_string(),
        Err(e) => format!("the stack's device failed: {e}"),
    };
    inner.stopped.get_or_insert(why);
    for w in inner.waiters.values_mut() {
        w.wake_read();
        w.wake_write();
        w.cond.notify_all();
    }
    result
}

/// Maps a host error to the `io::ErrorKind` std uses for it.
pub(crate) fn stack_error(e: StackError) -> io::Error {
    let kind = match e {
        StackError::AddrInUse => io::ErrorKind::AddrInUse,
        StackError::AddrNotAvailable => io::ErrorKind::AddrNotAvailable,
        StackError::Unreachable => io::ErrorKind::NetworkUnreachable,
        StackError::BadHandle => io::ErrorKind::NotConnected,
    };
    io::Error::new(kind, e.to_string())
}

/// One end of an in-memory [`synack_device::Link`] as a [`NetDevice`]:
/// two stacks (in one process) talk over a simulated wire with the link's
/// delay, loss, reordering and MTU, on the stacks' shared clock.
pub struct SimEnd {
    link: Arc<Mutex<SimShared>>,
    side: synack_device::Side,
    buf: Vec<u8>,
}

struct SimShared {
    link: synack_device::Link,
    wakers: [Option<Waker>; 2],
    /// Each side has been sent something since its driver last looked.
    news: [bool; 2],
}

fn side_index(side: synack_device::Side) -> usize {
    match side {
        synack_device::Side::A => 0,
        synack_device::Side::B => 1,
    }
}

/// Two ends of a simulated link (side A, side B).
pub fn sim_link(link: synack_device::Link) -> (SimEnd, SimEnd) {
    let shared = Arc::new(Mutex::new(SimShared {
        link,
        wakers: [None, None],
        news: [false, false],
    }));
    (
        SimEnd {
            link: shared.clone(),
            side: synack_device::Side::A,
            buf: Vec::new(),
        },
        SimEnd {
            link: shared,
            side: synack_device::Side::B,
            buf: Vec::new(),
        },
    )
}

impl SimEnd {
    fn lock(&self) -> MutexGuard<'_, SimShared> {
        self.link.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Device for SimEnd {
    // Each call is the link end's own (`LinkEnd`), under the lock; a send
    // also tells the other end's driver.
    fn caps(&self) -> DeviceCaps {
        LinkEnd::new(&mut self.lock().link, self.side, &mut Vec::new()).caps()
    }

    fn receive(&mut self, now: Instant, packet: &mut dyn FnMut(&[u8])) -> io::Result<usize> {
        let mut s = self.link.lock().unwrap_or_else(|e| e.into_inner());
        LinkEnd::new(&mut s.link, self.side, &mut self.buf).receive(now, packet)
    }

    fn transmit(
        &mut self,
        now: Instant,
        fill: &mut dyn FnMut(&mut [u8]) -> Option<usize>,
    ) -> io::Result<bool> {
        let mut s = self.link.lock().unwrap_or_else(|e| e.into_inner());
        let sent = LinkEnd::new(&mut s.link, self.side, &mut self.buf).transmit(now, fill)?;
        if sent {
            let other = 1 - side_index(self.side);
            s.news[other] = true;
            if let Some(w) = s.wakers[other].take() {
                w.wake();
            }
        }
        Ok(sent)
    }

    fn next_arrival(&self) -> Option<Instant> {
        LinkEnd::new(&mut self.lock().link, self.side, &mut Vec::new()).next_arrival()
    }
}

impl NetDevice for SimEnd {
    fn poll_readable(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Packets on their way have a deadline the driver sleeps until;
        // this wakes it when the other end sends something new.
        let i = side_index(self.side);
        let mut s = self.lock();
        if std::mem::take(&mut s.news[i]) {
            return Poll::Ready(Ok(()));
        }
        s.wakers[i] = Some(cx.waker().clone());
        Poll::Pending
    }
}
