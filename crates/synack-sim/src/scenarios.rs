//! The demo scenarios: each stages one of the seeds' drawings as a real
//! exchange between two hosts on the simulated network.
//!
//! A scenario builds on a [`World`], plays both applications, and checks
//! what it set out to show; `run` returns the world (with its trace) and a
//! short summary either way, so the CLI can print the ladder even when a
//! user-chosen loss rate made the scenario fail.

use crate::world::{Verdict, World, WorldConfig, WorldError};
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

/// One named scenario.
pub struct Scenario {
    pub name: &'static str,
    pub about: &'static str,
    default_loss: f64,
    play: fn(&mut World, &mut Vec<String>) -> Result<(), String>,
}

/// Every scenario, in the order `synack demo --list` prints them.
pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "handshake-close",
        about: "three-way handshake, a small request and response, four-way close",
        default_loss: 0.0,
        play: handshake_close,
    },
    Scenario {
        name: "simultaneous-open",
        about: "both sides send SYN at once: SYN-SENT → SYN-RECEIVED → ESTABLISHED",
        default_loss: 0.0,
        play: simultaneous_open,
    },
    Scenario {
        name: "simultaneous-close",
        about: "both sides send FIN at once: FIN-WAIT-1 → CLOSING → TIME-WAIT",
        default_loss: 0.0,
        play: simultaneous_close,
    },
    Scenario {
        name: "half-close",
        about: "the client shuts down writing; the server keeps sending in CLOSE-WAIT",
        default_loss: 0.0,
        play: half_close,
    },
    Scenario {
        name: "lost-final-ack",
        about: "the last ACK is lost; the FIN is retransmitted into TIME-WAIT and re-ACKed",
        default_loss: 0.0,
        play: lost_final_ack,
    },
    Scenario {
        name: "closed-port",
        about: "SYN to a port nobody listens on: RST, connection refused",
        default_loss: 0.0,
        play: closed_port,
    },
    Scenario {
        name: "connect-timeout",
        about: "SYNs into a black hole, retransmitted with doubling intervals, then timed out",
        default_loss: 0.0,
        play: connect_timeout,
    },
    Scenario {
        name: "stale-syn",
        about: "an old duplicate SYN arrives first; the client resets it (RFC 9293 §3.5, Figure 8)",
        default_loss: 0.0,
        play: stale_syn,
    },
    Scenario {
        name: "lossy-transfer",
        about: "1 MiB over a link losing 5% of packets each way, verified by SHA-256",
        default_loss: 0.05,
        play: lossy_transfer,
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

/// The TCP settings of the demos: MSL of 1 s so TIME-WAIT lasts 2 s.
pub fn demo_config(opts: &DemoOptions, scenario: &Scenario) -> WorldConfig {
    let loss = opts.loss.unwrap_or(scenario.default_loss);
    let delay = opts.delay.unwrap_or(Duration::from_millis(10));
    let link = LinkConfig::ideal().with_delay(delay).with_loss(loss);
    WorldConfig::new(opts.seed, link).tcp(|c| c.msl = Duration::from_secs(1))
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

    /// Builds the demo world and runs the scenario, optionally capturing.
    pub fn run(
        &self,
        opts: &DemoOptions,
        pcap: Option<Box<dyn std::io::Write>>,
    ) -> std::io::Result<Report> {
        let mut world = World::new(demo_config(opts, self));
        if let Some(out) = pcap {
            world.capture(out)?;
        }
        let mut report = self.run_in(world);
        report.world.finish_capture()?;
        Ok(report)
    }
}

fn werr(e: WorldError) -> String {
    e.to_string()
}

/// One application endpoint: what it still has to write and what it read.
struct App {
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
fn pump_until(w: &mut World, app: &mut App, done: impl Fn(&App) -> bool) -> Result<(), String> {
    w.run_until(|w| {
        app.pump(w);
        done(app)
    })
    .map_err(werr)
}

/// The four-way close as the seeds draw it: the client closes, the server
/// closes when it reads EOF, and both must end CLOSED without error.
fn client_closes_first(w: &mut World, client: &mut App, server: &mut App) -> Result<(), String> {
    client.close(w);
    pump_until(w, server, |a| a.eof)?;
    server.close(w);
    w.run_until_idle().map_err(werr)?;
    expect_closed(w, Side::A, client.h, CloseReason::Normal)?;
    expect_closed(w, Side::B, server.h, CloseReason::Normal)
}

fn printable(b: &[u8]) -> String {
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

fn listen(w: &mut World) -> Result<Handle, String> {
    w.note(Side::B, format!("listen(:{SERVER_PORT})"));
    let now = w.now;
    w.server.listen(now, SERVER_PORT).map_err(|e| e.to_string())
}

fn connect(w: &mut World, port: u16) -> Result<Handle, String> {
    let to = w.server_addr(port);
    w.note(Side::A, format!("connect({to})"));
    let now = w.now;
    w.client.connect(now, to).map_err(|e| e.to_string())
}

/// listen, connect, accept: a client and a server application on one
/// established connection.
fn open(w: &mut World) -> Result<(App, App), String> {
    let l = listen(w)?;
    let c = connect(w, SERVER_PORT)?;
    let s = accept(w, l)?;
    established(w, Side::A, c)?;
    Ok((App::new(Side::A, c), App::new(Side::B, s)))
}

/// Runs until the listener has a connection to accept.
fn accept(w: &mut World, listener: Handle) -> Result<Handle, String> {
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

fn established(w: &mut World, side: Side, h: Handle) -> Result<(), String> {
    w.run_until(|w| {
        w.conn(side, h).state() != State::SynSent && w.conn(side, h).state() != State::SynReceived
    })
    .map_err(werr)?;
    match w.conn(side, h).state() {
        State::Established => Ok(()),
        s => Err(format!("connection ended up in {s}, not ESTABLISHED")),
    }
}

fn expect_closed(w: &mut World, side: Side, h: Handle, reason: CloseReason) -> Result<(), String> {
    let c = w.conn(side, h);
    match (c.state(), c.close_reason()) {
        (State::Closed, Some(r)) if r == reason => Ok(()),
        (s, r) => Err(format!("expected CLOSED ({reason}), found {s} ({r:?})")),
    }
}

fn summarize_states(w: &World, out: &mut Vec<String>) {
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

const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: synack\r\n\r\n";
const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nhello\n";

fn handshake_close(w: &mut World, out: &mut Vec<String>) -> Result<(), String> {
    let (mut client, mut server) = open(w)?;
    client.write(REQUEST);
    client.pump(w);
    pump_until(w, &mut server, |a| a.read.len() == REQUEST.len())?;
    server.write(RESPONSE);
    server.pump(w);
    pump_until(w, &mut client, |a| a.read.len() == RESPONSE.len())?;
    // The client closes first (active close); the server closes on EOF.
    client_closes_first(w, &mut client, &mut server)?;
    summarize_states(w, out);
    Ok(())
}

fn simultaneous_open(w: &mut World, out: &mut Vec<String>) -> Result<(), String> {
    // Both sides actively open towards each other's fixed port at t = 0.
    let (a, b) = (w.client_addr(5000), w.server_addr(6000));
    w.note(Side::A, format!("connect({b}) from :5000"));
    w.note(Side::B, format!("connect({a}) from :6000"));
    let now = w.now;
    let c = w.client.connect_from(now, a, b);
    let s = w.server.connect_from(now, b, a);
    established(w, Side::A, c)?;
    established(w, Side::B, s)?;
    w.run_until(|w| w.conn(Side::B, s).state() == State::Established)
        .map_err(werr)?;
    let mut client = App::new(Side::A, c);
    let mut server = App::new(Side::B, s);
    client_closes_first(w, &mut client, &mut server)?;
    summarize_states(w, out);
    Ok(())
}

fn simultaneous_close(w: &mut World, out: &mut Vec<String>) -> Result<(), String> {
    let (mut client, mut server) = open(w)?;
    let (c, s) = (client.h, server.h);
    // Let the last ACK of the handshake settle, then both close at once.
    w.run_until(|w| w.link.in_flight() == 0).map_err(werr)?;
    client.close_when_written = true;
    server.close_when_written = true;
    client.pump(w);
    server.pump(w);
    w.run_until_idle().map_err(werr)?;
    expect_closed(w, Side::A, c, CloseReason::Normal)?;
    expect_closed(w, Side::B, s, CloseReason::Normal)?;
    summarize_states(w, out);
    Ok(())
}

fn half_close(w: &mut World, out: &mut Vec<String>) -> Result<(), String> {
    let (mut client, mut server) = open(w)?;
    let (c, s) = (client.h, server.h);
    // The client sends its whole request and shuts down its sending side.
    client.write(b"upload: 3 lines\n");
    client.shutdown(w);
    pump_until(w, &mut server, |a| a.eof)?;
    // In CLOSE-WAIT the server may still send, and the client still reads.
    // Each line goes out at once (no Nagle: see the `nagle` scenario).
    let state = server.state(w);
    w.note(
        Side::B,
        format!("still sending in {state}; setsockopt(TCP_NODELAY)"),
    );
    w.conn(Side::B, s).set_nodelay(true);
    for line in [
        &b"line 1 received\n"[..],
        b"line 2 received\n",
        b"line 3 received\n",
    ] {
        server.write(line);
        server.pump(w);
        w.run_for(Duration::from_millis(5)).map_err(werr)?;
    }
    pump_until(w, &mut client, |a| a.read.len() == 48)?;
    server.close(w);
    pump_until(w, &mut client, |a| a.eof)?;
    w.run_until_idle().map_err(werr)?;
    if client.read.len() != 48 {
        return Err(format!(
            "client read {} bytes after its shutdown, expected 48",
            client.read.len()
        ));
    }
    expect_closed(w, Side::A, c, CloseReason::Normal)?;
    expect_closed(w, Side::B, s, CloseReason::Normal)?;
    out.push(format!(
        "client read {} bytes after shutdown(write)",
        client.read.len()
    ));
    summarize_states(w, out);
    Ok(())
}

fn lost_final_ack(w: &mut World, out: &mut Vec<String>) -> Result<(), String> {
    let (mut client, mut server) = open(w)?;
    let (c, s) = (client.h, server.h);
    client.close(w);
    pump_until(w, &mut server, |a| a.eof)?;
    // Lose the client's first ACK of the server's FIN.
    let mut dropped = false;
    w.set_filter(move |side, seg| {
        if side == Side::A && !dropped && seg.flags == TcpFlags::ACK && seg.len == 0 {
            dropped = true;
            Verdict::Drop
        } else {
            Verdict::Pass
        }
    });
    server.close(w);
    w.run_until(|w| w.conn(Side::A, c).state() == State::TimeWait)
        .map_err(werr)?;
    let first_deadline = w.conn(Side::A, c).poll_timeout();
    let mut restarted = None;
    w.run_until(|w| {
        let now = w.conn(Side::A, c).poll_timeout();
        if now != first_deadline && restarted.is_none() {
            restarted = now;
            let t = w.now;
            w.note(
                Side::A,
                format!("FIN again in TIME-WAIT: re-ACK, 2MSL timer restarted at {t}"),
            );
        }
        w.conn(Side::B, s).state() == State::Closed
    })
    .map_err(werr)?;
    w.run_until_idle().map_err(werr)?;
    if restarted.is_none() {
        return Err("the TIME-WAIT timer was never restarted".into());
    }
    expect_closed(w, Side::A, c, CloseReason::Normal)?;
    expect_closed(w, Side::B, s, CloseReason::Normal)?;
    let fins = w
        .trace
        .segments(Side::B)
        .filter(|(_, seg, _)| seg.flags.fin())
        .count();
    out.push(format!(
        "server sent its FIN {fins} times; the client re-ACKed it from TIME-WAIT"
    ));
    summarize_states(w, out);
    Ok(())
}

fn closed_port(w: &mut World, out: &mut Vec<String>) -> Result<(), String> {
    let c = connect(w, 81)?;
    w.run_until(|w| w.conn(Side::A, c).state() == State::Closed)
        .map_err(werr)?;
    let err = w.conn(Side::A, c).send(b"x").err();
    if err != Some(Error::Closed(CloseReason::Refused)) {
        return Err(format!("connect did not fail with refused: {err:?}"));
    }
    w.note(Side::A, "connect() failed: connection refused");
    w.run_until_idle().map_err(werr)?;
    out.push("connect() → connection refused (the peer answered RST,ACK)".into());
    summarize_states(w, out);
    Ok(())
}

fn connect_timeout(w: &mut World, out: &mut Vec<String>) -> Result<(), String> {
    // Everything the client sends disappears.
    w.set_filter(|side, _| {
        if side == Side::A {
            Verdict::Drop
        } else {
            Verdict::Pass
        }
    });
    w.note(
        Side::A,
        "(network) everything the client sends is lost: a black hole",
    );
    let c = connect(w, SERVER_PORT)?;
    w.run_until(|w| w.conn(Side::A, c).state() == State::Closed)
        .map_err(werr)?;
    expect_closed(w, Side::A, c, CloseReason::TimedOut)?;
    let t = w.now;
    w.note(Side::A, "connect() failed: connection timed out");
    let times: Vec<String> = w
        .trace
        .segments(Side::A)
        .map(|(at, _, _)| at.to_string())
        .collect();
    out.push(format!(
        "{} SYNs sent at {}; gave up at {t}",
        times.len(),
        times.join(", ")
    ));
    summarize_states(w, out);
    Ok(())
}

fn stale_syn(w: &mut World, out: &mut Vec<String>) -> Result<(), String> {
    let l = listen(w)?;
    // The client's real SYN is slow; an old duplicate SYN of an earlier
    // incarnation of the same connection overtakes it.
    let mut first = true;
    w.set_filter(move |side, seg| {
        if side == Side::A && seg.flags == TcpFlags::SYN && first {
            first = false;
            Verdict::Delay(Duration::from_millis(30))
        } else {
            Verdict::Pass
        }
    });
    let c = connect(w, SERVER_PORT)?;
    w.note(Side::A, "(network) this SYN is held back 30 ms");
    w.flush();
    let info = w.conn(Side::A, c).info();
    let mut options = TcpOptions::default();
    options.mss = Some(1460);
    let old = TcpRepr {
        src_port: info.local.port(),
        dst_port: SERVER_PORT,
        seq: info.iss.0.wrapping_sub(10),
        ack: 0,
        flags: TcpFlags::SYN,
        window: 65535,
        urgent: 0,
        options,
        payload: &[],
    };
    let mut pkt = [0u8; 128];
    let n = write_packet(&mut pkt, info.local.ip(), info.remote.ip(), &old)
        .ok_or("packet buffer too small")?;
    w.note(
        Side::A,
        "(network) an old duplicate SYN, seq = ISN-10, is still in flight",
    );
    w.inject(Side::A, &pkt[..n]);
    let s = accept(w, l)?;
    established(w, Side::A, c)?;
    let mut client = App::new(Side::A, c);
    let mut server = App::new(Side::B, s);
    client_closes_first(w, &mut client, &mut server)?;
    let rsts = w
        .trace
        .segments(Side::A)
        .filter(|(_, seg, _)| seg.flags.rst())
        .count();
    out.push(format!(
        "client sent {rsts} RST for the bogus SYN,ACK; the server went back to LISTEN"
    ));
    summarize_states(w, out);
    Ok(())
}

/// The deterministic 1 MiB payload of `lossy-transfer`.
pub fn transfer_payload(seed: u64, len: usize) -> Vec<u8> {
    let mut data = vec![0u8; len];
    Rng::new(seed ^ 0x5eed).fill(&mut data);
    data
}

fn lossy_transfer(w: &mut World, out: &mut Vec<String>) -> Result<(), String> {
    const LEN: usize = 1 << 20;
    let data = transfer_payload(w.seed(), LEN);
    let sent_hash = Sha256::digest(&data);
    let (mut client, mut server) = open(w)?;
    let (c, s) = (client.h, server.h);
    client.chatty = false;
    server.chatty = false;
    w.note(Side::A, format!("write {LEN} bytes, then close()"));
    client.write(&data);
    client.close_when_written = true;
    let start = w.now;
    w.run_until(|w| {
        client.pump(w);
        server.pump(w);
        server.eof
    })
    .map_err(werr)?;
    let elapsed = w.now - start;
    server.close(w);
    w.run_until_idle().map_err(werr)?;
    let got_hash = Sha256::digest(&server.read);
    let stats = w.conn(Side::A, c).stats();
    let link = w.link.stats(Side::A);
    out.push(format!(
        "{} bytes in {:.3} s of virtual time; {} segments sent, {} retransmitted, {} lost on the link",
        server.read.len(),
        elapsed.as_secs_f64(),
        stats.segs_out,
        stats.send.retransmits,
        link.lost + w.link.stats(Side::B).lost
    ));
    let mut hex = String::new();
    for b in got_hash.iter().take(8) {
        let _ = write!(hex, "{b:02x}");
    }
    if got_hash != sent_hash || server.read.len() != LEN {
        return Err(format!(
            "data corrupted: received {} bytes, SHA-256 {hex}… does not match",
            server.read.len()
        ));
    }
    out.push(format!(
        "SHA-256 of what arrived matches what was sent: {hex}…"
    ));
    expect_closed(w, Side::A, c, CloseReason::Normal)?;
    expect_closed(w, Side::B, s, CloseReason::Normal)?;
    summarize_states(w, out);
    Ok(())
}
