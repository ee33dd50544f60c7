//! The demo scenarios: each stages one of the seeds' drawings as a real
//! exchange between two hosts on the simulated network.
//!
//! A scenario builds on a [`World`], plays both applications, and checks
//! what it set out to show; `run` returns the world (with its trace) and a
//! short summary either way, so the CLI can print the ladder even when a
//! user-chosen loss rate made the scenario fail.

use crate::lang::{self, story, StaticText, Text};
use crate::trace::Owner;
use crate::world::{Tap, Verdict, World, WorldConfig, WorldError};
use sha2::{Digest, Sha256};
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
mod failure;
mod flow;
mod recovery;
mod seeds;
mod stack;

pub use basics::transfer_payload;
use basics::*;
pub use failure::Failure;
use flow::*;
use recovery::*;
use seeds::*;
use stack::*;

/// One named scenario.
pub struct Scenario {
    pub name: &'static str,
    /// What it shows, in a line (in the scenario table itself, beside its
    /// name, in every language).
    pub about: StaticText,
    default_loss: f64,
    /// One-way link delay unless the user sets one.
    default_delay_ms: u64,
    /// Draw the sender's cwnd and flight on data segments.
    pub show_cwnd: bool,
    /// Draw every segment, however many (the scenario is about them all).
    pub full: bool,
    /// Adjusts the world (TCP settings) before the scenario plays.
    tune: fn(&mut WorldConfig),
    play: fn(&mut World, &mut Vec<Text>) -> Result<(), Failure>,
}

fn no_tuning(_: &mut WorldConfig) {}

/// What a scenario has unless it says otherwise.
const BASE: Scenario = Scenario {
    name: "",
    about: StaticText::new("", ""),
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
        about: StaticText::new(
            "three-way handshake, a small request and response, four-way close",
            "三次握手，一次小的请求和响应，四次挥手",
        ),
        play: handshake_close,
        ..BASE
    },
    Scenario {
        name: "simultaneous-open",
        about: StaticText::new(
            "both sides send SYN at once: SYN-SENT → SYN-RECEIVED → ESTABLISHED",
            "双方同时发 SYN（同时打开）：SYN-SENT(同步已发送) → SYN-RECEIVED(同步已收到) → ESTABLISHED(已建立)",
        ),
        play: simultaneous_open,
        ..BASE
    },
    Scenario {
        name: "simultaneous-close",
        about: StaticText::new(
            "both sides send FIN at once: FIN-WAIT-1 → CLOSING → TIME-WAIT",
            "双方同时发 FIN（同时关闭）：FIN-WAIT-1(终止等待1) → CLOSING(同时关闭) → TIME-WAIT(时间等待)",
        ),
        play: simultaneous_close,
        ..BASE
    },
    Scenario {
        name: "three-segment-close",
        about: StaticText::new(
            "the server closes the moment it reads EOF: its FIN rides the ACK (FIN, FIN+ACK, ACK)",
            "服务器一读到 EOF 就关闭：它的 FIN 搭上 ACK 一起发（FIN、FIN+ACK、ACK，三次挥手）",
        ),
        play: three_segment_close,
        ..BASE
    },
    Scenario {
        name: "half-close",
        about: StaticText::new(
            "the client shuts down writing; the server keeps sending in CLOSE-WAIT",
            "客户端关闭写方向（半关闭）；服务器在 CLOSE-WAIT(关闭等待) 中继续发送",
        ),
        play: half_close,
        ..BASE
    },
    Scenario {
        name: "lost-final-ack",
        about: StaticText::new(
            "the last ACK is lost; the FIN is retransmitted into TIME-WAIT and re-ACKed",
            "最后一个 ACK 丢失；FIN 被重传到 TIME-WAIT(时间等待) 的一方，并再次得到确认",
        ),
        play: lost_final_ack,
        ..BASE
    },
    Scenario {
        name: "closed-port",
        about: StaticText::new(
            "SYN to a port nobody listens on: RST, connection refused",
            "SYN 发往没有进程监听的端口：回 RST，连接被拒绝",
        ),
        play: closed_port,
        ..BASE
    },
    Scenario {
        name: "connect-timeout",
        about: StaticText::new(
            "SYNs into a black hole, retransmitted with doubling intervals, then timed out",
            "SYN 发进黑洞，以翻倍的间隔重传，最后超时",
        ),
        play: connect_timeout,
        ..BASE
    },
    Scenario {
        name: "stale-syn",
        about: StaticText::new(
            "an old duplicate SYN arrives first; the client resets it (RFC 9293 §3.5, Figure 8)",
            "一个已失效的旧 SYN 先到；客户端用 RST 复位它（RFC 9293 §3.5，图 8）",
        ),
        play: stale_syn,
        ..BASE
    },
    Scenario {
        name: "data-on-third-segment",
        about: StaticText::new(
            "the request written in SYN-SENT rides the ACK that completes the handshake",
            "在 SYN-SENT(同步已发送) 时写入的请求，搭上完成三次握手的那个 ACK 一起发出",
        ),
        play: data_on_third_segment,
        ..BASE
    },
    Scenario {
        name: "default-mss-536",
        about: StaticText::new(
            "the client's SYN has no MSS option: the server assumes 536 and cuts its response to fit",
            "客户端的 SYN 不带 MSS 选项：服务器按 536 字节算，把响应切成合适的报文段",
        ),
        tune: client_without_options,
        play: default_mss_536,
        ..BASE
    },
    Scenario {
        name: "rst-abort",
        about: StaticText::new(
            "abort() mid-connection: one RST, no FIN exchange, no TIME-WAIT; the peer reads ECONNRESET",
            "连接中途 abort()：一个 RST，没有 FIN 交换，没有 TIME-WAIT(时间等待)；对端读到 ECONNRESET",
        ),
        play: rst_abort,
        ..BASE
    },
    Scenario {
        name: "rst-after-crash",
        about: StaticText::new(
            "the server reboots; the client's next segment meets a host that never heard of it: RST",
            "服务器重启；客户端的下一个报文段遇到一个从没听说过它的主机：回 RST",
        ),
        play: rst_after_crash,
        ..BASE
    },
    Scenario {
        name: "urgent-data",
        about: StaticText::new(
            "a telnet-like client sends Ctrl-C as urgent data: URG and the urgent pointer",
            "类似 telnet 的客户端把 Ctrl-C 作为紧急数据发送：URG 标志和紧急指针",
        ),
        play: urgent_data,
        ..BASE
    },
    Scenario {
        name: "lossy-transfer",
        about: StaticText::new(
            "1 MiB over a link losing 5% of packets each way, verified by SHA-256",
            "1 MiB 数据经过双向各丢 5% 分组的链路传输，用 SHA-256 校验",
        ),
        default_loss: 0.05,
        play: lossy_transfer,
        ..BASE
    },
    Scenario {
        name: "slow-start",
        about: StaticText::new(
            "cwnd starts at 10 segments and doubles every round trip (RFC 5681, RFC 6928)",
            "慢启动：cwnd 从 10 个报文段开始，每个往返翻一番（RFC 5681，RFC 6928）",
        ),
        default_delay_ms: 25,
        show_cwnd: true,
        full: true,
        play: slow_start,
        ..BASE
    },
    Scenario {
        name: "fast-retransmit",
        about: StaticText::new(
            "one segment lost: three duplicate ACKs, fast retransmit, NewReno recovery (no SACK)",
            "丢了一个报文段：三个重复 ACK，快速重传，NewReno 快速恢复（不用 SACK）",
        ),
        show_cwnd: true,
        full: true,
        tune: newreno_without_sack,
        play: fast_retransmit,
        ..BASE
    },
    Scenario {
        name: "sack-recovery",
        about: StaticText::new(
            "two segments lost: SACK blocks show the holes, only those two are resent (RFC 6675)",
            "丢了两个报文段：SACK 块指出空洞，只重传这两个（RFC 6675）",
        ),
        show_cwnd: true,
        full: true,
        play: sack_recovery,
        ..BASE
    },
    Scenario {
        name: "tail-loss-probe",
        about: StaticText::new(
            "the last segments are lost: a probe after 2·SRTT finds them, no timeout (RFC 8985)",
            "最后几个报文段丢失：2·SRTT 后的尾部丢失探测发现了它们，没有超时（RFC 8985）",
        ),
        show_cwnd: true,
        full: true,
        tune: nodelay_client,
        play: tail_loss_probe,
        ..BASE
    },
    Scenario {
        name: "rto-backoff",
        about: StaticText::new(
            "the path goes dark: retransmission timeouts double, cwnd falls to one segment",
            "路径断了：重传超时时间一次次翻倍，cwnd 降到一个报文段",
        ),
        show_cwnd: true,
        full: true,
        play: rto_backoff,
        ..BASE
    },
    Scenario {
        name: "zero-window",
        about: StaticText::new(
            "the reader stops: the window closes, persist probes back off, then it reopens",
            "接收方不读了：窗口关闭（零窗口），坚持探测逐次退避，之后窗口重新打开",
        ),
        full: true,
        tune: small_server_buffer,
        play: zero_window,
        ..BASE
    },
    Scenario {
        name: "nagle",
        about: StaticText::new(
            "small writes: Nagle's algorithm coalesces them; TCP_NODELAY sends each at once",
            "小块写入：Nagle 算法把它们合并；TCP_NODELAY 则每次立即发送",
        ),
        full: true,
        play: nagle,
        ..BASE
    },
    Scenario {
        name: "delayed-ack",
        about: StaticText::new(
            "quick ACKs at the start, then one ACK per two segments or after 40 ms",
            "开始时快速确认，之后每两个报文段确认一次，或等 40 ms（延迟确认）",
        ),
        full: true,
        play: delayed_ack,
        ..BASE
    },
    Scenario {
        name: "keepalive-dead-peer",
        about: StaticText::new(
            "an idle connection probes its peer; when the peer is gone, keep-alive gives up",
            "空闲的连接探测对端（保活）；对端不在了，保活探测最后放弃",
        ),
        full: true,
        tune: short_keepalive,
        play: keepalive_dead_peer,
        ..BASE
    },
    Scenario {
        name: "paws",
        about: StaticText::new(
            "an old duplicate with a sequence number in the window is caught by its timestamp",
            "序号落在窗口内的旧重复报文段，被它的时间戳识破（PAWS）",
        ),
        play: paws,
        ..BASE
    },
    Scenario {
        name: "syn-flood",
        about: StaticText::new(
            "spoofed SYNs fill the SYN queue; SYN cookies take over and a real client still connects",
            "伪造的 SYN 塞满 SYN 队列（SYN 洪泛攻击）；SYN cookie 接手，真正的客户端照样连上",
        ),
        play: syn_flood,
        full: true,
        ..BASE
    },
    Scenario {
        name: "nmap-scan",
        about: StaticText::new(
            "SYN and FIN scans of an open and a closed port, and what each answer means",
            "对开放和关闭端口的 SYN 扫描与 FIN 扫描，以及每种回答的含义",
        ),
        play: nmap_scan,
        ..BASE
    },
    Scenario {
        name: "orphans",
        about: StaticText::new(
            "the application writes, closes and exits; its host finishes the connection alone",
            "应用写完、关闭并退出；它的主机独自完成这个连接（孤儿连接）",
        ),
        tune: small_receive_buffer,
        play: orphans,
        ..BASE
    },
    Scenario {
        name: "time-wait-reuse",
        about: StaticText::new(
            "a new SYN with a newer timestamp reopens a 4-tuple in TIME-WAIT (RFC 6191)",
            "时间戳更新的新 SYN 重新打开处于 TIME-WAIT(时间等待) 的四元组（RFC 6191）",
        ),
        play: time_wait_reuse,
        ..BASE
    },
    Scenario {
        name: "connect-port-in-time-wait",
        about: StaticText::new(
            "connect from a port whose 4-tuple is in TIME-WAIT: EADDRINUSE, another port, reuse",
            "从四元组处于 TIME-WAIT(时间等待) 的端口发起连接：EADDRINUSE、换端口、重用",
        ),
        play: connect_port_in_time_wait,
        ..BASE
    },
    Scenario {
        name: "old-duplicate-into-new-connection",
        about: StaticText::new(
            "a segment delayed past its connection's end reaches the next incarnation (why 2×MSL)",
            "被耽搁到连接结束之后的报文段，到达了下一个同名连接（为什么要等 2×MSL）",
        ),
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
    pub summary: Vec<Text>,
    /// Set when the scenario did not show what it meant to show.
    pub error: Option<Failure>,
}

impl Report {
    /// What happened, in TCP terms and one sentence, for a scenario that
    /// did not complete: the segment retransmitted and never acknowledged
    /// and how its connection ended, read from the trace; else what the
    /// scenario found.
    pub fn headline(&self) -> Option<Text> {
        let e = self.error.as_ref()?;
        Some(failure::headline(&self.world.trace, e).unwrap_or_else(|| e.text()))
    }

    /// What happened, in TCP terms, for a scenario that did not complete:
    /// what the link did to each side's packets, and where each side's
    /// connections ended and why.
    pub fn what_happened(&self) -> Vec<Text> {
        let w = &self.world;
        [Side::A, Side::B]
            .into_iter()
            .map(|side| {
                let host = match side {
                    Side::A => &w.client,
                    Side::B => &w.server,
                };
                // The last change of a connection's (a listener's own
                // states are not how a connection ended).
                let last = w.trace.events.iter().rev().find_map(|e| match e {
                    crate::trace::TraceEvent::State {
                        side: s,
                        transition,
                        owner,
                        ..
                    } if *s == side => match owner {
                        Owner::Listener { .. } => None,
                        Owner::HalfOpen { remote, .. } => Some((*transition, Some(*remote))),
                        Owner::Connection { .. } => Some((*transition, None)),
                    },
                    _ => None,
                });
                story::what_happened(
                    side,
                    w.lost(side),
                    w.sent(side),
                    host.counters().tcp_retrans_segs,
                    last,
                )
            })
            .collect()
    }
}

/// The TCP settings of the demos: the scenario's tuning, and the MSL of
/// [`demo_msl`].
pub fn demo_config(opts: &DemoOptions, scenario: &Scenario) -> WorldConfig {
    let loss = opts.loss.unwrap_or(scenario.default_loss);
    let delay = opts
        .delay
        .unwrap_or(Duration::from_millis(scenario.default_delay_ms));
    let link = LinkConfig::ideal().with_delay(delay).with_loss(loss);
    let mut cfg = WorldConfig::new(opts.seed, link);
    (scenario.tune)(&mut cfg);
    let msl = demo_msl(&cfg);
    cfg.tcp(|c| c.msl = msl)
}

/// The MSL the demos need: at least the largest RTO the run can reach.
///
/// TIME-WAIT (2×MSL) is there to re-acknowledge a FIN that comes again
/// because the last ACK was lost (RFC 9293 §3.6.1). The peer resends that
/// FIN one RTO after the last copy; if the RTO is longer than TIME-WAIT,
/// the FIN finds no connection and is answered with a RST. One second
/// keeps TIME-WAIT short enough to watch while the RTO stays small: no
/// random loss and a short path. When the link loses packets at random,
/// a FIN can be lost again and again and its RTO doubles each time, up
/// to the limit of the retries and `max_rto`; the MSL is then that
/// largest backed-off RTO. Without random loss the RTO is at most what
/// the first measurement of the round trip sets, 3×RTT (RFC 6298 §2.2),
/// rounded up to whole seconds.
pub fn demo_msl(cfg: &WorldConfig) -> Duration {
    let random_loss = cfg.a_to_b.loss > 0.0 || cfg.b_to_a.loss > 0.0;
    let largest_rto = if random_loss {
        [&cfg.client_tcp, &cfg.server_tcp]
            .into_iter()
            .map(largest_backed_off_rto)
            .max()
            .unwrap_or_default()
    } else {
        let rtt = cfg.a_to_b.delay + cfg.b_to_a.delay;
        Duration::from_secs((rtt * 3).as_micros().div_ceil(1_000_000) as u64)
    };
    largest_rto.max(Duration::from_secs(1))
}

/// RFC 6298 §5.5: each expiry doubles the RTO, up to `max_rto`; at most
/// as many times as the most retries any segment may have.
fn largest_backed_off_rto(c: &synack_tcp::Config) -> Duration {
    let retries = c.max_retries.max(c.syn_retries).max(c.synack_retries);
    c.initial_rto
        .max(c.min_rto)
        .saturating_mul(1 << retries.min(31))
        .min(c.max_rto)
}

impl Scenario {
    /// Runs the scenario in `world` (built with [`demo_config`] or any other).
    pub fn run_in(&self, mut world: World) -> Report {
        let mut summary = Vec::new();
        let error = (self.play)(&mut world, &mut summary).err();
        if error.is_some() {
            // Where each side's listener and connections got to.
            summarize_states(&world, &mut summary);
        }
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

pub(super) fn werr(e: WorldError) -> Failure {
    Failure::World(e)
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
                        notes.push(story::write_bytes(n));
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
                            notes.push(story::read_eof());
                        }
                        break;
                    }
                    Ok(n) => {
                        if self.chatty {
                            notes.push(story::read_bytes(n, &printable(&buf[..n])));
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
                w.note(self.side, story::call("shutdown(SHUT_WR)"));
                w.conn(self.side, self.h).shutdown(now);
            } else {
                w.note(self.side, story::call("close()"));
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
) -> Result<(), Failure> {
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
) -> Result<(), Failure> {
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

pub(super) fn listen(w: &mut World) -> Result<Handle, Failure> {
    w.note(Side::B, story::call(format!("listen(:{SERVER_PORT})")));
    let now = w.now;
    w.server
        .listen(now, SERVER_PORT)
        .map_err(|e| e.to_string().into())
}

pub(super) fn connect(w: &mut World, port: u16) -> Result<Handle, Failure> {
    let to = w.server_addr(port);
    w.note(Side::A, story::call(format!("connect({to})")));
    let now = w.now;
    w.client.connect(now, to).map_err(|e| e.to_string().into())
}

/// listen, connect, accept: a client and a server application on one
/// established connection.
pub(super) fn open(w: &mut World) -> Result<(App, App), Failure> {
    let l = listen(w)?;
    let c = connect(w, SERVER_PORT)?;
    let s = accept(w, l)?;
    established(w, Side::A, c)?;
    Ok((App::new(Side::A, c), App::new(Side::B, s)))
}

/// Runs until the listener has a connection to accept.
pub(super) fn accept(w: &mut World, listener: Handle) -> Result<Handle, Failure> {
    let mut got = None;
    w.run_until(|w| {
        got = w.server.accept(listener);
        got.is_some()
    })
    .map_err(werr)?;
    let h = got.ok_or("no connection to accept")?;
    w.note(Side::B, story::call("accept()"));
    Ok(h)
}

pub(super) fn established(w: &mut World, side: Side, h: Handle) -> Result<(), Failure> {
    w.run_until(|w| {
        w.conn(side, h).state() != State::SynSent && w.conn(side, h).state() != State::SynReceived
    })
    .map_err(werr)?;
    match w.conn(side, h).state() {
        State::Established => Ok(()),
        s => Err(lang::failure::not_established(side, s).into()),
    }
}

pub(super) fn expect_closed(
    w: &mut World,
    side: Side,
    h: Handle,
    reason: CloseReason,
) -> Result<(), Failure> {
    let c = w.conn(side, h);
    match (c.state(), c.close_reason()) {
        (State::Closed, Some(r)) if r == reason => Ok(()),
        (s, r) => Err(lang::failure::closed_otherwise(side, reason, s, r).into()),
    }
}

/// Each side's runs of states, a line each: the listener's apart from
/// its connections', each connection's apart from the others' (labelled
/// when a side has more than one), or that a side had no connection.
pub(super) fn summarize_states(w: &World, out: &mut Vec<Text>) {
    for side in [Side::A, Side::B] {
        out.extend(side_chains(w, side));
    }
}

pub(super) fn side_chains(w: &World, side: Side) -> Vec<Text> {
    let chains = w.trace.chains(side);
    if chains.is_empty() {
        return vec![story::no_connection(side)];
    }
    let labelled = chains.len() > 1;
    chains.iter().map(|c| story::chain(c, labelled)).collect()
}
