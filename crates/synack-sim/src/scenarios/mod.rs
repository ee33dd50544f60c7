//! The demo scenarios: each stages one of the seeds' drawings as a real
//! exchange between two hosts on the simulated network.
//!
//! A scenario builds on a [`World`], plays both applications, and checks
//! what it set out to show; `run` returns the world (with its trace) and a
//! short summary either way, so the CLI can print the ladder even when a
//! user-chosen loss rate made the scenario fail.

use crate::world::{Tap, Verdict, World, WorldConfig, WorldError};
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use synack_device::{LinkConfig, Rng, Side};
use synack_stack::{write_packet, Handle};
use synack_tcp::{CloseReason, Duration, Error, State};
use synack_wire::{TcpFlags, TcpOptions, TcpRepr};

/// The port the demo server listens on.
pub const SERVER_PORT: u16 = 80;

/// Settings a user can change from the command line.
#[derive(Clone, Debug, Default)]
pub struct DemoOptions {
    pub seed: u64,
    /// Loss probability in each direction (default: the scenario's own).
    pub loss: Option<f64>,
    /// One-way link delay (default 10 ms).
    pub delay: Option<Duration>,
}

mod basics;
mod flow;
mod recovery;
mod seeds;
mod stack;

pub use basics::transfer_payload;
use basics::*;
use flow::*;
use recovery::*;
use seeds::*;
use stack::*;

/// One named scenario.
pub struct Scenario {
    pub name: &'static str,
    pub about: &'static str,
    default_loss: f64,
    /// One-way link delay unless the user sets one.
    default_delay_ms: u64,
    /// Draw the sender's cwnd and flight on data segments.
    pub show_cwnd: bool,
    /// Draw every segment, however many (the scenario is about them all).
    pub full: bool,
    /// Adjusts the world (TCP settings) before the scenario plays.
    tune: fn(&mut WorldConfig),
    play: fn(&mut World, &mut Vec<String>) -> Result<(), String>,
}

fn no_tuning(_: &mut WorldConfig) {}

/// What a scenario has unless it says otherwise.
const BASE: Scenario = Scenario {
    name: "",
    about: "",
    default_loss: 0.0,
    default_delay_ms: 10,
    show_cwnd: false,
    full: false,
    tune: no_tuning,
    play: handshake_close,
};

/// Every scenario, in the order `synack demo --list` prints them.
pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "handshake-close",
        about: "three-way handshake, a small request and response, four-way close",
        play: handshake_close,
        ..BASE
    },
    Scenario {
        name: "simultaneous-open",
        about: "both sides send SYN at once: SYN-SENT → SYN-RECEIVED → ESTABLISHED",
        play: simultaneous_open,
        ..BASE
    },
    Scenario {
        name: "simultaneous-close",
        about: "both sides send FIN at once: FIN-WAIT-1 → CLOSING → TIME-WAIT",
        play: simultaneous_close,
        ..BASE
    },
    Scenario {
        name: "three-segment-close",
        about: "the server closes the moment it reads EOF: its FIN rides the ACK (FIN, FIN+ACK, ACK)",
        play: three_segment_close,
        ..BASE
    },
    Scenario {
        name: "half-close",
        about: "the client shuts down writing; the server keeps sending in CLOSE-WAIT",
        play: half_close,
        ..BASE
    },
    Scenario {
        name: "lost-final-ack",
        about: "the last ACK is lost; the FIN is retransmitted into TIME-WAIT and re-ACKed",
        play: lost_final_ack,
        ..BASE
    },
    Scenario {
        name: "closed-port",
        about: "SYN to a port nobody listens on: RST, connection refused",
        play: closed_port,
        ..BASE
    },
    Scenario {
        name: "connect-timeout",
        about: "SYNs into a black hole, retransmitted with doubling intervals, then timed out",
        play: connect_timeout,
        ..BASE
    },
    Scenario {
        name: "stale-syn",
        about: "an old duplicate SYN arrives first; the client resets it (RFC 9293 §3.5, Figure 8)",
        play: stale_syn,
        ..BASE
    },
    Scenario {
        name: "data-on-third-segment",
        about: "the request written in SYN-SENT rides the ACK that completes the handshake",
        play: data_on_third_segment,
        ..BASE
    },
    Scenario {
        name: "default-mss-536",
        about: "the client's SYN has no MSS option: the server assumes 536 and cuts its response to fit",
        tune: client_without_options,
        play: default_mss_536,
        ..BASE
    },
    Scenario {
        name: "rst-abort",
        about: "abort() mid-connection: one RST, no FIN exchange, no TIME-WAIT; the peer reads ECONNRESET",
        play: rst_abort,
        ..BASE
    },
    Scenario {
        name: "rst-after-crash",
        about: "the server reboots; the client's next segment meets a host that never heard of it: RST",
        play: rst_after_crash,
        ..BASE
    },
    Scenario {
        name: "lossy-transfer",
        about: "1 MiB over a link losing 5% of packets each way, verified by SHA-256",
        default_loss: 0.05,
        play: lossy_transfer,
        ..BASE
    },
    Scenario {
        name: "slow-start",
        about: "cwnd starts at 10 segments and doubles every round trip (RFC 5681, RFC 6928)",
        default_delay_ms: 25,
        show_cwnd: true,
        full: true,
        play: slow_start,
        ..BASE
    },
    Scenario {
        name: "fast-retransmit",
        about:
            "one segment lost: three duplicate ACKs, fast retransmit, NewReno recovery (no SACK)",
        show_cwnd: true,
        full: true,
        tune: newreno_without_sack,
        play: fast_retransmit,
        ..BASE
    },
    Scenario {
        name: "sack-recovery",
        about:
            "two segments lost: SACK blocks show the holes, only those two are resent (RFC 6675)",
        show_cwnd: true,
        full: true,
        play: sack_recovery,
        ..BASE
    },
    Scenario {
        name: "tail-loss-probe",
        about: "the last segments are lost: a probe after 2·SRTT finds them, no timeout (RFC 8985)",
        show_cwnd: true,
        full: true,
        tune: nodelay_client,
        play: tail_loss_probe,
        ..BASE
    },
    Scenario {
        name: "rto-backoff",
        about: "the path goes dark: retransmission timeouts double, cwnd falls to one segment",
        show_cwnd: true,
        full: true,
        play: rto_backoff,
        ..BASE
    },
    Scenario {
        name: "zero-window",
        about: "the reader stops: the window closes, persist probes back off, then it reopens",
        full: true,
        tune: small_server_buffer,
        play: zero_window,
        ..BASE
    },
    Scenario {
        name: "nagle",
        about: "small writes: Nagle's algorithm coalesces them; TCP_NODELAY sends each at once",
        full: true,
        play: nagle,
        ..BASE
    },
    Scenario {
        name: "delayed-ack",
        about: "quick ACKs at the start, then one ACK per two segments or after 40 ms",
        full: true,
        play: delayed_ack,
        ..BASE
    },
    Scenario {
        name: "keepalive-dead-peer",
        about: "an idle connection probes its peer; when the peer is gone, keep-alive gives up",
        full: true,
        tune: short_keepalive,
        play: keepalive_dead_peer,
        ..BASE
    },
    Scenario {
        name: "paws",
        about: "an old duplicate with a sequence number in the window is caught by its timestamp",
        play: paws,
        ..BASE
    },
    Scenario {
        name: "syn-flood",
        about: "spoofed SYNs fill the SYN queue; SYN cookies take over and a real client still connects",
        play: syn_flood,
        full: true,
        ..BASE
    },
    Scenario {
        name: "nmap-scan",
        about: "SYN and FIN scans of an open and a closed port, and what each answer means",
        play: nmap_scan,
        ..BASE
    },
    Scenario {
        name: "orphans",
        about: "the application writes, closes and exits; its host finishes the connection alone",
        tune: small_receive_buffer,
        play: orphans,
        ..BASE
    },
    Scenario {
        name: "time-wait-reuse",
        about: "a new SYN with a newer timestamp reopens a 4-tuple in TIME-WAIT (RFC 6191)",
        play: time_wait_reuse,
        ..BASE
    },
    Scenario {
        name: "connect-port-in-time-wait",
        about: "connect from a port whose 4-tuple is in TIME-WAIT: EADDRINUSE, another port, reuse",
        play: connect_port_in_time_wait,
        ..BASE
    },
    Scenario {
        name: "old-duplicate-into-new-connection",
        about: "a segment delayed past its connection's end reaches the next incarnation (why 2×MSL)",
        play: old_duplicate,
        ..BASE
    },
];

/// Looks a scenario up by name.
pub fn find(name: &str) -> Option<&'static Scenario> {
    SCENARIOS.iter().find(|s| s.name == name)
}

/// Names of all scenarios, comma-separated (for error messages).
pub fn names() -> String {
    SCENARIOS
        .iter()
        .map(|s| s.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a scenario run left behind.
pub struct Report {
    pub world: World,
    /// Lines for the summary under the ladder.
    pub summary: Vec<String>,
    /// Set when the scenario did not show what it meant to show.
    pub error: Option<String>,
}

impl Report {
    /// What happened, in TCP terms, for a scenario that did not complete:
    /// what the link did to each side's packets, and where each side's
    /// connections ended and why.
    pub fn what_happened(&self) -> Vec<String> {
        let w = &self.world;
        let mut out = Vec::new();
        for side in [Side::A, Side::B] {
            let name = crate::trace::side_name(side);
            let link = w.link.stats(side);
            let host = match side {
                Side::A => &w.client,
                Side::B => &w.server,
            };
            let retrans = host.counters().tcp_retrans_segs;
            let mut line = format!(
                "{name}: the link lost {} of the {} packets it sent; it retransmitted {retrans} segment{}",
                link.lost,
                link.sent,
                if retrans == 1 { "" } else { "s" }
            );
            let last = w.trace.events.iter().rev().find_map(|e| match e {
                crate::trace::TraceEvent::State {
                    side: s,
                    transition,
                    ..
                } if *s == side => Some(*transition),
                _ => None,
            });
            match last {
                Some(t) if t.to == State::Closed => {
                    let _ = write!(
                        line,
                        "; its connection ended {} → CLOSED: {}",
                        t.from, t.cause
                    );
                }
                Some(t) => {
                    let _ = write!(
                        line,
                        "; its last state was {} ({} at {})",
                        t.to, t.cause, t.at
                    );
                }
                None => {}
            }
            out.push(line);
        }
        out
    }
}

/// The TCP settings of the demos: MSL of 1 s so TIME-WAIT lasts 2 s.
pub fn demo_config(opts: &DemoOptions, scenario: &Scenario) -> WorldConfig {
    let loss = opts.loss.unwrap_or(scenario.default_loss);
    let delay = opts
        .delay
        .unwrap_or(Duration::from_millis(scenario.default_delay_ms));
    let link = LinkConfig::ideal().with_delay(delay).with_loss(loss);
    let mut cfg = WorldConfig::new(opts.seed, link).tcp(|c| c.msl = Duration::from_secs(1));
    (scenario.tune)(&mut cfg);
    cfg
}

impl Scenario {
    /// Runs the scenario in `world` (built with [`demo_config`] or any other).
    pub fn run_in(&self, mut world: World) -> Report {
        let mut summary = Vec::new();
        let error = (self.play)(&mut world, &mut summary).err();
        Report {
            world,
            summary,
            error,
        }
    }

    /// Builds the demo world and runs the scenario, optionally capturing
    /// what one [`Tap`] sees.
    pub fn run(
        &self,
        opts: &DemoOptions,
        pcap: Option<(Box<dyn std::io::Write>, Tap)>,
    ) -> std::io::Result<Report> {
        let mut world = World::new(demo_config(opts, self));
        if let Some((out, tap)) = pcap {
            world.capture(out, tap)?;
        }
        let mut report = self.run_in(world);
        report.world.finish_capture()?;
        Ok(report)
    }
}

pub(super) fn werr(e: WorldError) -> String {
    e.to_string()
}

/// One application endpoint: what it still has to write and what it read.
pub(super) struct App {
    side: Side,
    h: Handle,
    out: Vec<u8>,
    written: usize,
    close_when_written: bool,
    /// Half-close (shutdown(SHUT_WR)) instead of close when written.
    half_close: bool,
    closed: bool,
    read: Vec<u8>,
    eof: bool,
    /// Add a trace note for each read and write.
    chatty: bool,
}

impl App {
    fn new(side: Side, h: Handle) -> Self {
        App {
            side,
            h,
            out: Vec::new(),
            written: 0,
            close_when_written: false,
            half_close: false,
            closed: false,
            read: Vec::new(),
            eof: false,
            chatty: true,
        }
    }

    fn write(&mut self, data: &[u8]) {
        self.out.extend_from_slice(data);
    }

    /// Writes what fits, reads what arrived, closes when told to.
    fn pump(&mut self, w: &mut World) {
        let mut notes = Vec::new();
        {
            let c = w.conn(self.side, self.h);
            if self.written < self.out.len() {
                if let Ok(n) = c.send(&self.out[self.written..]) {
                    if self.chatty && n > 0 {
                        notes.push(format!("write {n} bytes"));
                    }
                    self.written += n;
                }
            }
            let mut buf = [0u8; 16384];
            loop {
                match c.recv(&mut buf) {
                    Ok(0) => {
                        if !self.eof {
                            self.eof = true;
                            notes.push("read → EOF (peer sent FIN)".to_string());
                        }
                        break;
                    }
                    Ok(n) => {
                        if self.chatty {
                            notes.push(format!("read {n} bytes: {}", printable(&buf[..n])));
                        }
                        self.read.extend_from_slice(&buf[..n]);
                    }
                    Err(_) => break,
                }
            }
        }
        for n in notes {
            w.note(self.side, n);
        }
        if self.close_when_written && !self.closed && self.written == self.out.len() {
            self.closed = true;
            let now = w.now;
            // The note goes first: the call is the cause of what follows.
            if self.half_close {
                w.note(self.side, "shutdown(SHUT_WR)");
                w.conn(self.side, self.h).shutdown(now);
            } else {
                w.note(self.side, "close()");
                w.conn(self.side, self.h).close(now);
            }
        }
    }

    /// Closes the connection once everything queued is written.
    fn close(&mut self, w: &mut World) {
        self.close_when_written = true;
        self.pump(w);
    }

    /// Shuts down the sending side (a half-close) once everything queued
    /// is written; the application keeps reading.
    fn shutdown(&mut self, w: &mut World) {
        self.half_close = true;
        self.close(w);
    }

    fn state(&self, w: &mut World) -> State {
        w.conn(self.side, self.h).state()
    }
}

/// Pumps one application until `done` holds for it.
pub(super) fn pump_until(
    w: &mut World,
    app: &mut App,
    done: impl Fn(&App) -> bool,
) -> Result<(), String> {
    w.run_until(|w| {
        app.pump(w);
        done(app)
    })
    .map_err(werr)
}

/// The four-way close as the seeds draw it: the client closes, the server
/// closes when it reads EOF, and both must end CLOSED without error.
pub(super) fn client_closes_first(
    w: &mut World,
    client: &mut App,
    server: &mut App,
) -> Result<(), String> {
    client.close(w);
    pump_until(w, server, |a| a.eof)?;
    server.close(w);
    w.run_until_idle().map_err(werr)?;
    expect_closed(w, Side::A, client.h, CloseReason::Normal)?;
    expect_closed(w, Side::B, server.h, CloseReason::Normal)
}

pub(super) fn printable(b: &[u8]) -> String {
    let s: String = b
        .iter()
        .take(40)
        .map(|&c| match c {
            b'\r' => "\\r".to_string(),
            b'\n' => "\\n".to_string(),
            0x20..=0x7e => (c as char).to_string(),
            _ => ".".to_string(),
        })
        .collect();
    if b.len() > 40 {
        format!("\"{s}…\"")
    } else {
        format!("\"{s}\"")
    }
}

pub(super) fn listen(w: &mut World) -> Result<Handle, String> {
    w.note(Side::B, format!("listen(:{SERVER_PORT})"));
    let now = w.now;
    w.server.listen(now, SERVER_PORT).map_err(|e| e.to_string())
}

pub(super) fn connect(w: &mut World, port: u16) -> Result<Handle, String> {
    let to = w.server_addr(port);
    w.note(Side::A, format!("connect({to})"));
    let now = w.now;
    w.client.connect(now, to).map_err(|e| e.to_string())
}

/// listen, connect, accept: a client and a server application on one
/// established connection.
pub(super) fn open(w: &mut World) -> Result<(App, App), String> {
    let l = listen(w)?;
    let c = connect(w, SERVER_PORT)?;
    let s = accept(w, l)?;
    established(w, Side::A, c)?;
    Ok((App::new(Side::A, c), App::new(Side::B, s)))
}

/// Runs until the listener has a connection to accept.
pub(super) fn accept(w: &mut World, listener: Handle) -> Result<Handle, String> {
    let mut got = None;
    w.run_until(|w| {
        got = w.server.accept(listener);
        got.is_some()
    })
    .map_err(werr)?;
    let h = got.ok_or("no connection to accept")?;
    w.note(Side::B, "accept()");
    Ok(h)
}

pub(super) fn established(w: &mut World, side: Side, h: Handle) -> Result<(), String> {
    w.run_until(|w| {
        w.conn(side, h).state() != State::SynSent && w.conn(side, h).state() != State::SynReceived
    })
    .map_err(werr)?;
    match w.conn(side, h).state() {
        State::Established => Ok(()),
        s => Err(format!("connection ended up in {s}, not ESTABLISHED")),
    }
}

pub(super) fn expect_closed(
    w: &mut World,
    side: Side,
    h: Handle,
    reason: CloseReason,
) -> Result<(), String> {
    let c = w.conn(side, h);
    match (c.state(), c.close_reason()) {
        (State::Closed, Some(r)) if r == reason => Ok(()),
        (s, r) => Err(format!("expected CLOSED ({reason}), found {s} ({r:?})")),
    }
}

pub(super) fn summarize_states(w: &World, out: &mut Vec<String>) {
    for side in [Side::A, Side::B] {
        let states: Vec<&str> = w.trace.states(side).iter().map(|s| s.name()).collect();
        let text = if states.is_empty() {
            "(no connection)".to_string()
        } else {
            states.join(" → ")
        };
        out.push(format!("{:<7} {text}", crate::trace::side_name(side)));
    }
}
