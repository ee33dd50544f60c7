//! The host's sockets as `ss -tan` shows them: listeners, half-open
//! connections in SYN queues, connections, and the TIME-WAIT table.

use crate::host::{Entry, Handle, Host};
use std::fmt;
use std::net::SocketAddr;
use synack_tcp::{Duration, Instant, State};

/// One line of the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SocketRow {
    pub state: State,
    pub local: SocketAddr,
    /// `None` for a listener.
    pub remote: Option<SocketAddr>,
    /// Bytes received and not yet read; for a listener, connections
    /// waiting in its accept queue.
    pub recv_q: usize,
    /// Bytes not yet acknowledged; for a listener, its backlog.
    pub send_q: usize,
    /// Time until the entry's next timer, if one runs.
    pub timer: Option<Duration>,
    /// The handle, for connections and listeners (not for half-open
    /// connections or TIME-WAIT entries, which have none).
    pub handle: Option<Handle>,
    /// The application has let go of it (an orphan, finished by the host).
    pub orphan: bool,
    /// The sender's state, for connections (`ss -i`).
    pub tcp: Option<TcpRow>,
}

/// What `ss -i` adds for a connection.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct TcpRow {
    pub mss: u16,
    pub cwnd: u32,
    pub ssthresh: u32,
    pub srtt: Option<Duration>,
    pub rto: Duration,
    pub retransmits: u64,
}

/// Rows of a table, printable.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SocketTable(pub Vec<SocketRow>);

impl Host {
    /// Every socket on the host, listeners first, then by local and
    /// remote address.
    pub fn sockets(&self, now: Instant) -> SocketTable {
        let until = |at: Option<Instant>| at.map(|t| t.saturating_since(now));
        let mut rows = Vec::new();
        for (i, slot) in self.slots.iter().enumerate() {
            let handle = Handle {
                index: i as u32,
                generation: slot.generation,
            };
            match &slot.entry {
                Some(Entry::Listener(l)) => {
                    rows.push(SocketRow {
                        state: State::Listen,
                        local: l.local,
                        remote: None,
                        recv_q: l.accept.len(),
                        send_q: l.backlog,
                        timer: None,
                        handle: Some(handle),
                        orphan: false,
                        tcp: None,
                    });
                    for h in l.half_open() {
                        rows.push(SocketRow {
                            state: State::SynReceived,
                            local: h.tuple.local,
                            remote: Some(h.tuple.remote),
                            recv_q: 0,
                            send_q: 0,
                            timer: until(Some(Instant::from_micros(h.next))),
                            handle: None,
                            orphan: false,
                            tcp: None,
                        });
                    }
                }
                Some(Entry::Conn(c)) => rows.push(SocketRow {
                    state: c.conn.state(),
                    local: c.conn.local(),
                    remote: Some(c.conn.remote()),
                    recv_q: c.conn.recv_queue(),
                    send_q: c.conn.send_queue(),
                    timer: until(c.conn.poll_timeout()),
                    handle: Some(handle),
                    orphan: c.released,
                    tcp: Some({
                        let i = c.conn.info();
                        TcpRow {
                            mss: i.mss,
                            cwnd: i.cwnd,
                            ssthresh: i.ssthresh,
                            srtt: i.srtt,
                            rto: i.rto,
                            retransmits: i.retransmits,
                        }
                    }),
                }),
                None => {}
            }
        }
        for e in self.tw.iter() {
            rows.push(SocketRow {
                state: State::TimeWait,
                local: e.tuple.local,
                remote: Some(e.tuple.remote),
                recv_q: 0,
                send_q: 0,
                timer: until(Some(Instant::from_micros(e.deadline))),
                handle: None,
                orphan: true,
                tcp: None,
            });
        }
        rows.sort_by_key(|r| (r.state != State::Listen, r.local, r.remote));
        SocketTable(rows)
    }
}

impl SocketTable {
    /// How many rows are in `state`.
    pub fn count(&self, state: State) -> usize {
        self.0.iter().filter(|r| r.state == state).count()
    }
}

impl fmt::Display for SocketTable {
    /// `ss -tani`: one line per socket, the sender's state under each
    /// connection.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<12} {:>7} {:>7} {:<24} {:<24} Timer",
            "State", "Recv-Q", "Send-Q", "Local", "Peer"
        )?;
        for r in &self.0 {
            let peer = r
                .remote
                .map_or_else(|| "*:*".to_string(), |a| a.to_string());
            let mut timer = r
                .timer
                .map_or_else(String::new, |d| format!("{} ms", d.as_millis()));
            if r.orphan && r.state != State::TimeWait {
                timer.push_str(" (orphan)");
            }
            writeln!(
                f,
                "{:<12} {:>7} {:>7} {:<24} {:<24} {}",
                r.state.name(),
                r.recv_q,
                r.send_q,
                r.local.to_string(),
                peer,
                timer.trim_start()
            )?;
            if let Some(t) = r.tcp {
                let ms = |d: Duration| d.as_micros() as f64 / 1000.0;
                let srtt = t
                    .srtt
                    .map_or_else(|| "-".to_string(), |d| format!("{:.1}", ms(d)));
                // ssthresh starts "infinite": ss leaves it out then.
                let ssthresh = if t.ssthresh >= u32::MAX / 2 {
                    String::new()
                } else {
                    format!(" ssthresh:{}", t.ssthresh / u32::from(t.mss.max(1)))
                };
                writeln!(
                    f,
                    "    mss:{} cwnd:{}{} rtt:{} rto:{:.0} retrans:{}",
                    t.mss,
                    t.cwnd / u32::from(t.mss.max(1)),
                    ssthresh,
                    srtt,
                    ms(t.rto),
                    t.retransmits
                )?;
            }
        }
        Ok(())
    }
}
