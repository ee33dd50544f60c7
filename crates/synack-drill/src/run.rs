//! The harness: one synack `Host` on a virtual clock, the script playing
//! the peer, as gVisor's testing/context does.
//!
//! Time never really passes: before each event the clock jumps to the
//! event's time, firing the host's timers on the way; every packet the host
//! sends is queued with the time it was sent and matched, in order, against
//! the next `>` line. Blocking calls (`a...b`, or a call on a blocking
//! socket that cannot complete yet) wait in virtual time.

use crate::profile::{self, Knobs, Profile};
use crate::script::{
    self, Arg, Direction, Event, EventKind, Opt, Packet, Point, Ret, Syscall, When,
};
use crate::wire::{self, Inbound, Outbound};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use synack_stack::{ConnectOptions, Handle, Host};
use synack_tcp::{CloseReason, Config, Error, Instant, State};

/// How to run a script.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub profile: Profile,
    /// Overrides the script's `--tolerance_usecs` (4 ms when absent).
    pub tolerance_usecs: Option<u64>,
}

/// What happened to a script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every line was checked or skipped; the skipped lines with why.
    Pass { skipped: Vec<(usize, String)> },
    /// The first mismatch.
    Fail {
        line: usize,
        text: String,
        expected: String,
        actual: String,
    },
    /// A construct the runner does not implement, at a line.
    Unsupported { line: usize, construct: String },
}

/// A failure inside the harness, turned into an [`Outcome`].
#[derive(Debug)]
enum Stop {
    Fail { expected: String, actual: String },
    Unsupported(String),
}

fn fail<T>(expected: impl Into<String>, actual: impl Into<String>) -> Result<T, Stop> {
    Err(Stop::Fail {
        expected: expected.into(),
        actual: actual.into(),
    })
}

fn unsupported<T>(what: impl Into<String>) -> Result<T, Stop> {
    Err(Stop::Unsupported(what.into()))
}

/// Parses and runs a script.
pub fn run_script(text: &str, opts: &RunOptions) -> Outcome {
    let script = match script::parse(text) {
        Ok(s) => s,
        Err(e) => {
            return Outcome::Unsupported {
                line: e.line,
                construct: format!("parse error: {}", e.msg),
            }
        }
    };
    let mut r = match Runner::new(&script, opts) {
        Ok(r) => r,
        Err(construct) => return Outcome::Unsupported { line: 1, construct },
    };
    for ev in &script.events {
        if let Err(stop) = r.event(ev) {
            return stop_outcome(ev.line, &ev.text, stop);
        }
        if let Some((line, text, stop)) = r.blocked_failure.take() {
            return stop_outcome(line, &text, stop);
        }
    }
    if let Err(stop) = r.finish_blocked() {
        let (line, text) = r
            .blocked
            .as_ref()
            .map(|b| (b.line, b.text.clone()))
            .unwrap_or((0, String::new()));
        return stop_outcome(line, &text, stop);
    }
    if let Some((line, text, stop)) = r.blocked_failure.take() {
        return stop_outcome(line, &text, stop);
    }
    Outcome::Pass { skipped: r.skipped }
}

fn stop_outcome(line: usize, text: &str, stop: Stop) -> Outcome {
    match stop {
        Stop::Fail { expected, actual } => Outcome::Fail {
            line,
            text: text.to_string(),
            expected,
            actual,
        },
        Stop::Unsupported(construct) => Outcome::Unsupported { line, construct },
    }
}

/// A socket as the script's file descriptor sees it.
#[derive(Debug)]
enum SockKind {
    Fresh,
    Listener(Handle),
    Conn(Handle),
    /// Closed by the script; the number stays taken for reporting.
    Closed,
}

#[derive(Debug)]
struct Sock {
    kind: SockKind,
    nonblock: bool,
    bound: Option<u16>,
    config: Config,
    /// SO_SNDBUF / SO_RCVBUF as set (after the profile's doubling).
    sndbuf: Option<usize>,
    rcvbuf: Option<usize>,
    /// SO_ERROR already reported.
    error_taken: bool,
    /// The buffers were set to the defaults after the handshake.
    sized: bool,
    /// SHUT_RD: reads return end of stream once nothing is queued.
    shut_rd: bool,
}

impl Sock {
    /// A new descriptor: blocking, unbound, nothing reported yet.
    fn new(kind: SockKind, config: Config, sndbuf: Option<usize>, rcvbuf: Option<usize>) -> Sock {
        Sock {
            kind,
            nonblock: false,
            bound: None,
            config,
            sndbuf,
            rcvbuf,
            error_taken: false,
            sized: false,
            shut_rd: false,
        }
    }
}

/// A call waiting in virtual time.
#[derive(Debug)]
struct Blocked {
    line: usize,
    text: String,
    call: Syscall,
    fd: i64,
    /// When it must return, and the tolerance.
    end: Instant,
    tol: u64,
}

struct Sent {
    at: Instant,
    seg: Result<Outbound, String>,
}

struct Runner {
    host: Host,
    knobs: Knobs,
    now: Instant,
    /// The time the previous event actually took place.
    last: Instant,
    tol: u64,
    v6: bool,
    fds: BTreeMap<i64, Sock>,
    /// The 4-tuple the script's packets use: (ours, the peer's).
    tuple: (SocketAddr, SocketAddr),
    /// Our ISN, learned from our first SYN on the tuple.
    our_isn: Option<u32>,
    /// The peer's ISN (the value the script writes on its SYN).
    peer_isn: u32,
    /// Script TS val → the value we actually sent.
    ts_map: HashMap<u32, u32>,
    last_ts_sent: Option<u32>,
    /// `--tcp_ts_tick_usecs`: outbound TS values are checked against the
    /// clock, from the first one (the anchor: its value and when it left).
    ts_tick: Option<u64>,
    ts_anchor: Option<(u32, Instant)>,
    pending: VecDeque<Sent>,
    blocked: Option<Blocked>,
    blocked_failure: Option<(usize, String, Stop)>,
    skipped: Vec<(usize, String)>,
    /// The socket last named by a call (for python state asserts).
    last_fd: Option<i64>,
    buf: Vec<u8>,
}

const LISTEN_PORT: u16 = 8080;
const PEER_PORT: u16 = 40_000;

fn at(us: i64) -> Instant {
    Instant::from_micros(us.max(0) as u64)
}

fn show(t: Instant) -> String {
    format!("{:.6}", t.as_micros() as f64 / 1e6)
}

impl Runner {
    fn new(script: &script::Script, opts: &RunOptions) -> Result<Runner, String> {
        let v6 = match script.option("ip_version") {
            None | Some("ipv4") => false,
            Some("ipv6") => true,
            Some(v) => return Err(format!("--ip_version={v}")),
        };
        let mtu = match script.option("mtu") {
            Some(m) => Some(m.parse::<usize>().map_err(|_| format!("--mtu={m}"))?),
            None => None,
        };
        let tol = match (opts.tolerance_usecs, script.option("tolerance_usecs")) {
            (Some(t), _) => t,
            (None, Some(t)) => t.parse().map_err(|_| format!("--tolerance_usecs={t}"))?,
            (None, None) => 4000,
        };
        for (name, _) in &script.options {
            if !matches!(
                name.as_str(),
                "ip_version" | "mtu" | "tolerance_usecs" | "tcp_ts_tick_usecs"
            ) {
                return Err(format!("header option --{name}"));
            }
        }
        let ts_tick = match script.option("tcp_ts_tick_usecs") {
            Some(t) => match t.parse::<u64>() {
                Ok(n) if n > 0 => Some(n),
                _ => return Err(format!("--tcp_ts_tick_usecs={t}")),
            },
            None => None,
        };
        let cfg = profile::host_config(opts.profile, v6, mtu);
        let host = Host::new(cfg, [0x5a; 32]);
        let local = SocketAddr::new(profile::local_ip(v6), LISTEN_PORT);
        let remote = SocketAddr::new(profile::remote_ip(v6), PEER_PORT);
        Ok(Runner {
            host,
            knobs: Knobs::new(opts.profile),
            now: Instant::ZERO,
            last: Instant::ZERO,
            tol,
            v6,
            fds: BTreeMap::new(),
            tuple: (local, remote),
            our_isn: None,
            peer_isn: 0,
            ts_map: HashMap::new(),
            last_ts_sent: None,
            ts_tick,
            ts_anchor: None,
            pending: VecDeque::new(),
            blocked: None,
            blocked_failure: None,
            skipped: Vec::new(),
            last_fd: None,
            buf: vec![0; 65_536 + 128],
        })
    }

    fn point(&self, p: Point) -> Instant {
        match p {
            Point::Abs(us) => at(us),
            Point::Rel(us) => at(self.last.as_micros() as i64 + us),
        }
    }

    fn event(&mut self, ev: &Event) -> Result<(), Stop> {
        match &ev.kind {
            EventKind::Packet(p) if p.dir == Direction::Out => self.outbound(ev, p),
            EventKind::Packet(p) => {
                let t = self.event_time(ev)?;
                self.advance_to(t);
                self.last = t.max(self.now);
                self.inbound(p)
            }
            EventKind::Syscall(call) => self.syscall(ev, call),
            EventKind::Shell(cmd) => {
                let t = self.event_time(ev)?;
                self.advance_to(t);
                self.last = t;
                self.shell(ev.line, cmd)
            }
            EventKind::Python(code) => {
                let t = self.event_time(ev)?;
                self.advance_to(t);
                self.last = t;
                self.python(ev.line, code)
            }
            EventKind::Unsupported(what) => unsupported(what.clone()),
        }
    }

    fn event_time(&self, ev: &Event) -> Result<Instant, Stop> {
        match ev.when {
            When::At(p) => Ok(self.point(p)),
            _ => unsupported("`*`, `~` and `...` times on this kind of line"),
        }
    }

    // ---- the clock ----------------------------------------------------

    /// Takes everything the host wants to send now.
    fn drain(&mut self) {
        while let Ok(Some(n)) = self.host.poll_transmit(self.now, &mut self.buf) {
            let seg = wire::decode(&self.buf[..n]);
            if let Ok(s) = &seg {
                if s.header.flags.syn() && self.our_isn.is_none() {
                    self.our_isn = Some(s.header.seq);
                }
                if let Some(Opt::Ts { val, .. }) =
                    s.options.iter().find(|o| matches!(o, Opt::Ts { .. }))
                {
                    self.last_ts_sent = Some(*val);
                }
            }
            self.pending.push_back(Sent { at: self.now, seg });
        }
        while self.host.poll_event().is_some() {}
        self.check_blocked();
    }

    /// Runs the host's timers up to `t` and moves the clock there.
    fn advance_to(&mut self, t: Instant) {
        self.drain();
        for _ in 0..1_000_000 {
            match self.host.poll_timeout() {
                Some(d) if d <= t => {
                    self.now = self.now.max(d);
                    self.host.handle_timeout(self.now);
                    self.drain();
                }
                _ => break,
            }
        }
        self.now = self.now.max(t);
        self.drain();
    }

    /// Fires the next timer if it is due by `limit`; false if none.
    fn step_until(&mut self, limit: Instant) -> bool {
        match self.host.poll_timeout() {
            Some(d) if d <= limit => {
                self.now = self.now.max(d);
                self.host.handle_timeout(self.now);
                self.drain();
                true
            }
            _ => false,
        }
    }

    // ---- packets --------------------------------------------------------

    fn inbound(&mut self, p: &Packet) -> Result<(), Stop> {
        if p.flags & 0x02 != 0 && p.flags & 0x10 == 0 {
            self.peer_isn = p.start;
        }
        let Some(options) = &p.options else {
            return unsupported("`<...>` options on an inbound packet");
        };
        let our = self.our_isn.unwrap_or(0);
        let options: Vec<Opt> = options
            .iter()
            .map(|o| match o {
                Opt::Ts { val, ecr } => Opt::Ts {
                    val: *val,
                    ecr: self.translate_ecr(*ecr),
                },
                Opt::Sack(blocks) => Opt::Sack(
                    blocks
                        .iter()
                        .map(|(l, r)| (l.wrapping_add(our), r.wrapping_add(our)))
                        .collect(),
                ),
                o => o.clone(),
            })
            .collect();
        let (local, remote) = self.tuple;
        let pkt = wire::build(&Inbound {
            src: remote.ip(),
            dst: local.ip(),
            src_port: remote.port(),
            dst_port: local.port(),
            // The peer's numbers are written as the peer uses them: its
            // SYN carries its ISN as written.
            seq: p.start,
            ack: p.ack.map(|a| a.wrapping_add(our)).unwrap_or(0),
            flags: p.flags,
            window: p.win.unwrap_or(0).min(0xffff) as u16,
            urgent: p.urg.unwrap_or(0) as u16,
            options: &options,
            payload_len: p.len as usize,
        });
        self.host.handle_packet(self.now, &pkt);
        self.drain();
        Ok(())
    }

    fn translate_ecr(&self, ecr: u32) -> u32 {
        if ecr == 0 {
            return 0;
        }
        self.ts_map
            .get(&ecr)
            .copied()
            .or(self.last_ts_sent)
            .unwrap_or(ecr)
    }

    fn outbound(&mut self, ev: &Event, p: &Packet) -> Result<(), Stop> {
        let (lo, hi, expect) = match ev.when {
            When::At(pt) => {
                let t = self.point(pt);
                let gap = t.as_micros().saturating_sub(self.last.as_micros());
                let tol = self.tol.max(gap / 8);
                (
                    Instant::from_micros(t.as_micros().saturating_sub(tol)),
                    t + Duration::from_micros(tol),
                    t,
                )
            }
            When::Any => (
                Instant::ZERO,
                self.now + Duration::from_secs(3600),
                self.now,
            ),
            When::Window(a, b) => {
                let (a, b) = (self.point(a), self.point(b));
                (
                    Instant::from_micros(a.as_micros().saturating_sub(self.tol)),
                    b + Duration::from_micros(self.tol),
                    a,
                )
            }
            When::Blocking(..) => return unsupported("`...` time on a packet"),
        };
        loop {
            if !self.pending.is_empty() {
                break;
            }
            if !self.step_until(hi) {
                return fail(
                    format!("{p} at {}", show(expect)),
                    format!("nothing sent by {}", show(hi)),
                );
            }
        }
        let first = self
            .pending
            .pop_front()
            .ok_or(Stop::Unsupported("internal".into()))?;
        let seg = match first.seg {
            Ok(s) => s,
            Err(e) => return fail(p.to_string(), e),
        };
        if first.at < lo || first.at > hi {
            return fail(
                format!(
                    "{p} at {} (±{} µs)",
                    show(expect),
                    hi.as_micros() - expect.as_micros()
                ),
                format!("{} at {}", self.describe(&seg), show(first.at)),
            );
        }
        let seg = self.aggregate(seg, p);
        self.compare(p, &seg)?;
        self.check_ts_clock(p, &seg, first.at)?;
        // Remember which value we sent where the script wrote its own, so
        // that a later inbound `ecr` naming it gets the live value.
        if let (
            Some(Opt::Ts {
                val: script_val, ..
            }),
            Some(Opt::Ts { val, .. }),
        ) = (
            p.options
                .as_ref()
                .and_then(|o| o.iter().find(|x| matches!(x, Opt::Ts { .. }))),
            seg.options.iter().find(|x| matches!(x, Opt::Ts { .. })),
        ) {
            self.ts_map.insert(*script_val, *val);
        }
        self.last = first.at;
        Ok(())
    }

    /// TSO: a run of equal-headed segments may stand for one larger one.
    fn aggregate(&mut self, mut seg: Outbound, p: &Packet) -> Outbound {
        let want = p.len as usize;
        if seg.payload_len == 0 || seg.payload_len >= want {
            return seg;
        }
        // Segments may still be on their way at this instant.
        let unit = seg.payload_len;
        while seg.payload_len < want {
            let Some(next) = self.pending.front() else {
                break;
            };
            let Ok(n) = &next.seg else { break };
            let (h, mine) = (&n.header, &seg.header);
            let same = h.src_port == mine.src_port
                && h.dst_port == mine.dst_port
                && h.seq == mine.seq.wrapping_add(seg.payload_len as u32)
                && h.ack == mine.ack
                && h.flags.0 & !0x09 == mine.flags.0 & !0x09
                && n.options.len() == seg.options.len()
                && n.payload_len <= unit
                && n.payload_len > 0;
            if !same || !seg.payload_len.is_multiple_of(unit) {
                break;
            }
            let n = n.clone();
            self.pending.pop_front();
            seg.payload_len += n.payload_len;
            seg.header.flags = n.header.flags;
            seg.header.window = n.header.window;
        }
        seg
    }

    /// Writes a segment in the script's terms (relative numbers).
    fn describe(&self, s: &Outbound) -> String {
        let h = &s.header;
        let our = self.our_isn.unwrap_or(0);
        let start = h.seq.wrapping_sub(our);
        let mut out = format!(
            "> {} {}:{}({})",
            script::format_flags(h.flags.0),
            start,
            start.wrapping_add(s.payload_len as u32),
            s.payload_len
        );
        if h.flags.ack() {
            out.push_str(&format!(
                " ack {}",
                h.ack.wrapping_sub(self.peer_isn_base())
            ));
        }
        out.push_str(&format!(" win {}", h.window));
        if !s.options.is_empty() {
            out.push(' ');
            out.push_str(&script::format_options(&s.options));
        }
        out
    }

    /// Outbound ack values are written as the peer's own numbers.
    fn peer_isn_base(&self) -> u32 {
        0
    }

    fn compare(&self, p: &Packet, s: &Outbound) -> Result<(), Stop> {
        let our = self.our_isn.unwrap_or(0);
        let h = &s.header;
        let bad = |what: &str| fail(format!("{p} ({what})"), self.describe(s));
        if p.flags != h.flags.0 {
            return bad("flags");
        }
        if h.seq.wrapping_sub(our) != p.start {
            return bad("sequence number");
        }
        if s.payload_len != p.len as usize {
            return bad("payload length");
        }
        if let Some(a) = p.ack {
            if h.ack.wrapping_sub(self.peer_isn_base()) != a {
                return bad("ack");
            }
        }
        if let Some(w) = p.win {
            if u32::from(h.window) != w {
                return bad("window");
            }
        }
        if let Some(u) = p.urg {
            if u32::from(h.urgent) != u {
                return bad("urgent pointer");
            }
        }
        if let Some(opts) = &p.options {
            if opts.len() != s.options.len() {
                return bad("options");
            }
            for (e, a) in opts.iter().zip(&s.options) {
                let ok = match (e, a) {
                    // Our TS val is ours to choose; the ecr is not checked.
                    (Opt::Ts { .. }, Opt::Ts { .. }) => true,
                    (Opt::Sack(eb), Opt::Sack(ab)) => eb == ab,
                    _ => e == a,
                };
                if !ok {
                    return bad("options");
                }
            }
        }
        Ok(())
    }

    /// With `--tcp_ts_tick_usecs`, an outbound TS val the script writes must
    /// be the first one sent (the anchor) plus the ticks elapsed since it
    /// left, within the tolerance (counted in ticks, at least one).
    fn check_ts_clock(&mut self, p: &Packet, s: &Outbound, at: Instant) -> Result<(), Stop> {
        let Some(tick) = self.ts_tick else {
            return Ok(());
        };
        let scripted = p
            .options
            .as_ref()
            .is_some_and(|o| o.iter().any(|x| matches!(x, Opt::Ts { .. })));
        let Some(val) = s.options.iter().find_map(|o| match o {
            Opt::Ts { val, .. } => Some(*val),
            _ => None,
        }) else {
            return Ok(());
        };
        if !scripted {
            return Ok(());
        }
        let Some((anchor, since)) = self.ts_anchor else {
            self.ts_anchor = Some((val, at));
            return Ok(());
        };
        let ticks = (at.as_micros() - since.as_micros()) / tick;
        let want = anchor.wrapping_add(ticks as u32);
        let slack = (self.tol / tick).max(1);
        let off = i64::from(val.wrapping_sub(want) as i32);
        if off.unsigned_abs() > slack {
            return fail(
                format!("{p} (TS val {want}: {anchor} + {ticks} ticks of {tick} µs, ±{slack})"),
                self.describe(s),
            );
        }
        Ok(())
    }

    // ---- blocks -----------------------------------------------------------

    fn shell(&mut self, line: usize, cmd: &str) -> Result<(), Stop> {
        let mut any_applied = false;
        let mut unknown = Vec::new();
        for part in cmd.split(['\n', ';']) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            if let Some(rest) = part
                .strip_prefix("sysctl -w ")
                .or_else(|| part.strip_prefix("sysctl "))
            {
                if let Some((name, value)) = rest.trim().split_once('=') {
                    match self.knobs.apply_sysctl(name.trim(), value.trim()) {
                        Ok(_) => any_applied = true,
                        Err(why) => unknown.push(why),
                    }
                    continue;
                }
            }
            if part.contains("set_sysctls.py") {
                for arg in part.split_whitespace().skip(1) {
                    if let Some((path, value)) = arg.split_once('=') {
                        if path.ends_with("/tcp_timestamps") {
                            self.knobs.timestamps = value != "0";
                            any_applied = true;
                            continue;
                        }
                        unknown.push(format!("sysctl {path}"));
                    }
                }
                continue;
            }
            unknown.push(format!("shell `{part}`"));
        }
        if !unknown.is_empty() || !any_applied {
            let why = if unknown.is_empty() {
                format!("shell `{cmd}`")
            } else {
                unknown.join("; ")
            };
            self.skipped.push((line, why));
        }
        Ok(())
    }

    /// The two Python forms the corpus README allows a runner to evaluate:
    /// `assert tcpi_state == TCPI_*` and `assert tcpi_options == N`, on
    /// the socket used last. Anything else is skipped, never run.
    fn python(&mut self, line: usize, code: &str) -> Result<(), Stop> {
        let code = code.trim();
        let parsed = code
            .strip_prefix("assert ")
            .and_then(|rest| rest.split_once("=="))
            .map(|(field, want)| (field.trim(), want.trim()));
        let Some((field @ ("tcpi_state" | "tcpi_options"), want)) = parsed else {
            self.skipped.push((line, format!("python `{code}`")));
            return Ok(());
        };
        let Some(fd) = self.last_fd else {
            self.skipped
                .push((line, format!("python `{code}` (no socket)")));
            return Ok(());
        };
        let kind = self.fds.get(&fd).map(|s| &s.kind);
        let conn = match kind {
            Some(SockKind::Conn(h)) => self.host.conn(*h),
            _ => None,
        };
        let actual = if field == "tcpi_state" {
            let state = match kind {
                Some(SockKind::Listener(_)) => State::Listen,
                _ => conn.map(|c| c.state()).unwrap_or(State::Closed),
            };
            self.knobs.profile.tcpi_state(state).to_string()
        } else {
            // TCPI_OPT_TIMESTAMPS 1, TCPI_OPT_SACK 2, TCPI_OPT_WSCALE 4
            // (ECN, 8, is never agreed).
            let bits = conn.map_or(0, |c| {
                let i = c.info();
                u8::from(i.timestamps) | u8::from(i.sack) << 1 | u8::from(i.window_scaling) << 2
            });
            bits.to_string()
        };
        if actual != want {
            return fail(format!("{field} == {want}"), format!("{field} == {actual}"));
        }
        Ok(())
    }

    // ---- system calls -------------------------------------------------------

    fn syscall(&mut self, ev: &Event, call: &Syscall) -> Result<(), Stop> {
        let (start, end) = match ev.when {
            When::At(p) => {
                let t = self.point(p);
                (t, None)
            }
            When::Blocking(a, b) => {
                let start = self.point(a);
                let end = match (a, b) {
                    // `+a...b`: b from the same base as a.
                    (Point::Rel(_), Point::Abs(us)) | (Point::Rel(_), Point::Rel(us)) => {
                        at(self.last.as_micros() as i64 + us)
                    }
                    (Point::Abs(_), b) => self.point(b),
                };
                (start, Some(end))
            }
            _ => return unsupported("`*` or `~` time on a system call"),
        };
        // A call blocked earlier may return on the way to this one.
        self.advance_to(start);
        if self.blocked.is_some() {
            return unsupported("a system call while another call blocks");
        }
        self.last = start;
        if let Some(fd) = call.args.first().and_then(Arg::int) {
            if self.fds.contains_key(&fd) {
                self.last_fd = Some(fd);
            }
        }
        match self.try_call(call)? {
            Some(result) => {
                if let Some(end) = end {
                    if end.as_micros() > start.as_micros() + self.tol {
                        return fail(
                            format!("{} to return at {}", call.name, show(end)),
                            format!("returned {} at {}", fmt_result(&result), show(self.now)),
                        );
                    }
                }
                check_ret(&call.ret, &result)
            }
            None => {
                let fd = call.args.first().and_then(Arg::int).unwrap_or(-1);
                let blocked = Blocked {
                    line: ev.line,
                    text: ev.text.clone(),
                    call: call.clone(),
                    fd,
                    end: end.unwrap_or(start),
                    tol: self.tol,
                };
                self.blocked = Some(blocked);
                if end.is_none() {
                    // A plain blocking call: the script waits for it.
                    self.finish_blocked()?;
                    if let Some((_, _, stop)) = self.blocked_failure.take() {
                        return Err(stop);
                    }
                }
                Ok(())
            }
        }
    }

    /// Completes a blocked call if it can now.
    fn check_blocked(&mut self) {
        let Some(b) = self.blocked.take() else { return };
        match self.try_call(&b.call) {
            Ok(None) => {
                if self.now > b.end + Duration::from_micros(b.tol) {
                    self.blocked_failure = Some((
                        b.line,
                        b.text.clone(),
                        Stop::Fail {
                            expected: format!("{} to return at {}", b.call.name, show(b.end)),
                            actual: format!("still blocked at {}", show(self.now)),
                        },
                    ));
                } else {
                    self.blocked = Some(b);
                }
            }
            Ok(Some(result)) => {
                let lo = b.end.as_micros().saturating_sub(b.tol);
                let r = if self.now.as_micros() < lo {
                    fail(
                        format!("{} to return at {}", b.call.name, show(b.end)),
                        format!("returned {} at {}", fmt_result(&result), show(self.now)),
                    )
                } else {
                    check_ret(&b.call.ret, &result)
                };
                if let Err(stop) = r {
                    self.blocked_failure = Some((b.line, b.text, stop));
                }
                let _ = b.fd;
            }
            Err(stop) => self.blocked_failure = Some((b.line, b.text, stop)),
        }
    }

    /// Runs time on until a blocked call returns or its deadline passes.
    fn finish_blocked(&mut self) -> Result<(), Stop> {
        while let Some(b) = &self.blocked {
            let limit = b.end + Duration::from_micros(b.tol);
            if !self.step_until(limit) {
                self.now = self.now.max(limit);
                self.check_blocked();
                if let Some(b) = self.blocked.take() {
                    return fail(
                        format!("{} to return at {}", b.call.name, show(b.end)),
                        format!("still blocked at {}", show(self.now)),
                    );
                }
            }
        }
        Ok(())
    }

    /// A new descriptor. Numbers in a script are labels: the one the
    /// script expects, if free; else the lowest free from 3 on, as a Unix
    /// kernel hands out.
    fn alloc_fd(&mut self, want: &Ret) -> i64 {
        if want.errno.is_none() && want.value >= 0 && !self.fds.contains_key(&want.value) {
            return want.value;
        }
        (3..).find(|fd| !self.fds.contains_key(fd)).unwrap_or(3)
    }

    fn sock(&mut self, fd: i64) -> Result<&mut Sock, Stop> {
        match self.fds.get_mut(&fd) {
            Some(s) => Ok(s),
            None => fail(format!("fd {fd} to be open"), "no such file descriptor"),
        }
    }

    fn conn_of(&mut self, fd: i64) -> Result<Handle, Stop> {
        match self.sock(fd)?.kind {
            SockKind::Conn(h) => Ok(h),
            _ => Err(Stop::Fail {
                expected: format!("fd {fd} to be connected"),
                actual: "not a connection".into(),
            }),
        }
    }

    /// Sets a new connection's buffers to the defaults once synchronized.
    fn size_buffers(&mut self, fd: i64) {
        let Some(sock) = self.fds.get_mut(&fd) else {
            return;
        };
        let SockKind::Conn(h) = sock.kind else { return };
        if sock.sized || !self.knobs.rcvbuf_round_to_mss {
            return;
        }
        let Some(c) = self.host.conn_mut(h) else {
            return;
        };
        if !c.state().is_synchronized() {
            return;
        }
        let mss = c.info().mss;
        let rcv = self.knobs.rcvbuf(sock.rcvbuf, Some(mss));
        c.set_buffer_sizes(sock.sndbuf.unwrap_or(self.knobs.sendspace), rcv);
        sock.sized = true;
    }

    /// Runs a call. `Ok(None)`: it would block (on a blocking socket).
    fn try_call(&mut self, call: &Syscall) -> Result<Option<CallResult>, Stop> {
        let a = &call.args;
        let fd = a.first().and_then(Arg::int).unwrap_or(-1);
        let now = self.now;
        let res = match call.name.as_str() {
            "socket" => {
                let nfd = self.alloc_fd(&call.ret);
                let sock = Sock::new(SockKind::Fresh, self.knobs.tcp_config(), None, None);
                self.fds.insert(nfd, sock);
                self.last_fd = Some(nfd);
                Ok(nfd)
            }
            "bind" => {
                let s = self.sock(fd)?;
                s.bound = Some(LISTEN_PORT);
                self.tuple.0 = SocketAddr::new(profile::local_ip(self.v6), LISTEN_PORT);
                self.tuple.1 = SocketAddr::new(profile::remote_ip(self.v6), PEER_PORT);
                Ok(0)
            }
            "listen" => {
                let backlog = a.get(1).and_then(Arg::int).unwrap_or(1).max(1) as usize;
                let s = self.sock(fd)?;
                let port = s.bound.unwrap_or(LISTEN_PORT);
                let cfg = s.config.clone();
                let local = SocketAddr::new(profile::local_ip(self.v6), port);
                match self.host.listen_on(now, local, backlog, Some(cfg)) {
                    Ok(h) => {
                        self.sock(fd)?.kind = SockKind::Listener(h);
                        Ok(0)
                    }
                    Err(_) => Err("EADDRINUSE"),
                }
            }
            "accept" => {
                let lh = match self.sock(fd)?.kind {
                    SockKind::Listener(h) => h,
                    _ => return Ok(Some(Err("EINVAL"))),
                };
                let nonblock = self.sock(fd)?.nonblock;
                match self.host.accept(lh) {
                    Some(h) => {
                        let nfd = self.alloc_fd(&call.ret);
                        let listener = self.sock(fd)?;
                        let config = listener.config.clone();
                        let (sndbuf, rcvbuf) = (listener.sndbuf, listener.rcvbuf);
                        let sock = Sock::new(SockKind::Conn(h), config, sndbuf, rcvbuf);
                        self.fds.insert(nfd, sock);
                        self.size_buffers(nfd);
                        self.last_fd = Some(nfd);
                        Ok(nfd)
                    }
                    None if nonblock => Err("EAGAIN"),
                    None => return Ok(None),
                }
            }
            "connect" => return self.connect(fd),
            "fcntl" => {
                let cmd = a.get(1).and_then(Arg::name).unwrap_or("");
                let o_nonblock = self.knobs.profile.o_nonblock();
                let s = self.sock(fd)?;
                match cmd {
                    "F_GETFL" => Ok(0x02 | if s.nonblock { o_nonblock } else { 0 }),
                    "F_SETFL" => {
                        let names = a.get(2).map(Arg::names).unwrap_or_default();
                        s.nonblock = names.contains(&"O_NONBLOCK");
                        Ok(0)
                    }
                    _ => return unsupported(format!("fcntl {cmd}")),
                }
            }
            "setsockopt" => return self.setsockopt(call).map(Some),
            "getsockopt" => return self.getsockopt(call).map(Some),
            "ioctl" => {
                let req = a.get(1).and_then(Arg::name).unwrap_or("");
                if req != "SIOCINQ" && req != "FIONREAD" {
                    return unsupported(format!("ioctl {req}"));
                }
                let h = self.conn_of(fd)?;
                let n = self.host.conn(h).map(|c| c.recv_queue()).unwrap_or(0) as i64;
                if let Some(want) = a.get(2).and_then(Arg::int) {
                    if want != n {
                        return fail(format!("{req} [{want}]"), format!("[{n}]"));
                    }
                }
                Ok(0)
            }
            "read" | "recv" => {
                let n = a.get(2).and_then(Arg::int).unwrap_or(0).max(0) as usize;
                let flags = a.get(3).map(Arg::names).unwrap_or_default();
                let h = self.conn_of(fd)?;
                let nonblock = self.sock(fd)?.nonblock;
                let shut_rd = self.sock(fd)?.shut_rd;
                let Some(c) = self.host.conn_mut(h) else {
                    return Ok(Some(Err("ENOTCONN")));
                };
                if shut_rd && c.recv_queue() == 0 {
                    Ok(0)
                } else if flags.contains(&"MSG_PEEK") {
                    // Peeking leaves the data queued: only the count shows.
                    let q = c.recv_queue();
                    if q == 0 && !c.peer_closed() && c.close_reason().is_none() {
                        if nonblock {
                            return Ok(Some(Err("EAGAIN")));
                        }
                        return Ok(None);
                    }
                    Ok(q.min(n) as i64)
                } else {
                    let mut buf = vec![0u8; n];
                    match c.recv(&mut buf) {
                        Ok(k) => Ok(k as i64),
                        Err(Error::WouldBlock) if !nonblock => return Ok(None),
                        Err(e) => Err(errno_of(e)),
                    }
                }
            }
            "write" | "send" => {
                let n = a.get(2).and_then(Arg::int).unwrap_or(0).max(0) as usize;
                let h = self.conn_of(fd)?;
                let nonblock = self.sock(fd)?.nonblock;
                let Some(c) = self.host.conn_mut(h) else {
                    return Ok(Some(Err("EPIPE")));
                };
                match c.send(&vec![0u8; n]) {
                    Ok(k) => Ok(k as i64),
                    Err(Error::WouldBlock) if !nonblock => return Ok(None),
                    Err(Error::NotConnected) if c.state() == State::SynSent && !nonblock => {
                        return Ok(None)
                    }
                    Err(e) => Err(errno_of(e)),
                }
            }
            "shutdown" => {
                let how = a.get(1).and_then(Arg::name).unwrap_or("");
                let h = self.conn_of(fd)?;
                if how == "SHUT_RD" || how == "SHUT_RDWR" {
                    self.sock(fd)?.shut_rd = true;
                }
                let Some(c) = self.host.conn_mut(h) else {
                    return Ok(Some(Err("ENOTCONN")));
                };
                match how {
                    // Linux keeps accepting (and ACKing) data after SHUT_RD.
                    "SHUT_RD" => Ok(0),
                    "SHUT_WR" | "SHUT_RDWR" => {
                        c.shutdown(now);
                        Ok(0)
                    }
                    _ => return unsupported(format!("shutdown {how}")),
                }
            }
            "close" => {
                let s = self.sock(fd)?;
                let kind = std::mem::replace(&mut s.kind, SockKind::Closed);
                match kind {
                    SockKind::Conn(h) | SockKind::Listener(h) => self.host.close(now, h),
                    SockKind::Fresh => {}
                    SockKind::Closed => return Ok(Some(Err("EBADF"))),
                }
                self.fds.remove(&fd);
                Ok(0)
            }
            other => return unsupported(format!("system call `{other}`")),
        };
        self.drain_quiet();
        Ok(Some(res))
    }

    /// Takes what a call made the host send, without re-entering calls.
    fn drain_quiet(&mut self) {
        let b = self.blocked.take();
        self.drain();
        if self.blocked.is_none() {
            self.blocked = b;
        }
    }

    fn connect(&mut self, fd: i64) -> Result<Option<CallResult>, Stop> {
        let now = self.now;
        let remote = SocketAddr::new(profile::remote_ip(self.v6), LISTEN_PORT);
        let s = self.sock(fd)?;
        let nonblock = s.nonblock;
        match s.kind {
            SockKind::Fresh => {
                let opts = ConnectOptions {
                    config: Some(s.config.clone()),
                    local: s
                        .bound
                        .map(|p| SocketAddr::new(profile::local_ip(self.v6), p)),
                    reuse_addr: true,
                };
                let h = match self.host.connect_with(now, remote, opts) {
                    Ok(h) => h,
                    Err(_) => return Ok(Some(Err("EADDRNOTAVAIL"))),
                };
                if let Some(c) = self.host.conn(h) {
                    self.tuple = (c.local(), c.remote());
                }
                self.sock(fd)?.kind = SockKind::Conn(h);
                self.drain_quiet();
                if nonblock {
                    return Ok(Some(Err("EINPROGRESS")));
                }
                Ok(None)
            }
            SockKind::Conn(h) => {
                let (state, reason) = match self.host.conn(h) {
                    Some(c) => (c.state(), c.close_reason()),
                    None => (State::Closed, Some(CloseReason::Reset)),
                };
                if state == State::Closed {
                    self.sock(fd)?.error_taken = true;
                    return Ok(Some(Err(reason
                        .map(reason_errno)
                        .unwrap_or("ECONNREFUSED"))));
                }
                if state.is_synchronized() {
                    self.size_buffers(fd);
                    return Ok(Some(Ok(0)));
                }
                if nonblock {
                    return Ok(Some(Err("EALREADY")));
                }
                Ok(None)
            }
            _ => Ok(Some(Err("EISCONN"))),
        }
    }

    fn setsockopt(&mut self, call: &Syscall) -> Result<CallResult, Stop> {
        let a = &call.args;
        let fd = a.first().and_then(Arg::int).unwrap_or(-1);
        let opt = a.get(2).and_then(Arg::name).unwrap_or("").to_string();
        let val = a.get(3).and_then(Arg::int).unwrap_or(0);
        let now = self.now;
        let keepalive = self.knobs.keepalive;
        let size = self.knobs.sockbuf(val);
        let linux = self.knobs.profile == Profile::Linux;
        let s = self.sock(fd)?;
        let conn = match s.kind {
            SockKind::Conn(h) => Some(h),
            _ => None,
        };
        match opt.as_str() {
            "SO_REUSEADDR" | "SO_REUSEPORT" => {}
            "TCP_NODELAY" => {
                s.config.nodelay = val != 0;
                if let Some(c) = conn.and_then(|h| self.host.conn_mut(h)) {
                    c.set_nodelay(val != 0);
                }
            }
            "SO_KEEPALIVE" => {
                let k = if val != 0 { Some(keepalive) } else { None };
                s.config.keepalive = k;
                if let Some(c) = conn.and_then(|h| self.host.conn_mut(h)) {
                    c.set_keepalive(now, k);
                }
            }
            "TCP_NOOPT" => {
                // FreeBSD: no options at all on what this socket sends.
                let on = val == 0;
                s.config.mss_option = on;
                s.config.window_scaling &= on;
                s.config.sack &= on;
                s.config.timestamps &= on;
            }
            "TCP_KEEPINIT" => {
                s.config.setup_timeout = Some(Duration::from_secs(val.max(0) as u64));
            }
            "TCP_MAXSEG" => {
                // Linux refuses an MSS below TCP_MIN_MSS (88).
                let Ok(mss @ 88..) = u16::try_from(val) else {
                    return Ok(Err("EINVAL"));
                };
                s.config.max_segment = Some(mss);
            }
            "SO_SNDBUF" | "SO_RCVBUF" => {
                if opt == "SO_SNDBUF" {
                    s.sndbuf = Some(size);
                    s.config.send_buffer = size;
                } else {
                    s.rcvbuf = Some(size);
                    if linux {
                        // A buffer set before connect also sets the window
                        // scale Linux offers.
                        s.config.recv_buffer = size;
                    }
                }
                let (snd, rcv) = (s.sndbuf, s.rcvbuf);
                if let Some(c) = conn.and_then(|h| self.host.conn_mut(h)) {
                    let (send, recv) = c.buffer_sizes();
                    c.set_buffer_sizes(snd.unwrap_or(send), rcv.unwrap_or(recv));
                }
            }
            _ => return unsupported(format!("setsockopt {opt}")),
        }
        // Options set on a listening socket pass to what it accepts.
        let s = self.sock(fd)?;
        if let SockKind::Listener(h) = s.kind {
            let config = s.config.clone();
            self.host.set_listener_config(h, config);
        }
        Ok(Ok(0))
    }

    fn getsockopt(&mut self, call: &Syscall) -> Result<CallResult, Stop> {
        let a = &call.args;
        let fd = a.first().and_then(Arg::int).unwrap_or(-1);
        let opt = a.get(2).and_then(Arg::name).unwrap_or("").to_string();
        let want = a.get(3).cloned().unwrap_or(Arg::Ellipsis);
        let knobs = self.knobs.clone();
        let s = self.sock(fd)?;
        let conn = match s.kind {
            SockKind::Conn(h) => Some(h),
            _ => None,
        };
        let ka = s.config.keepalive.unwrap_or(knobs.keepalive);
        let (sndbuf, rcvbuf) = (s.sndbuf, s.rcvbuf);
        let (nodelay, max_segment) = (s.config.nodelay, s.config.max_segment);
        let setup_timeout = s.config.setup_timeout;
        let actual: Value = match opt.as_str() {
            "SO_ERROR" => {
                let reason = conn
                    .and_then(|h| self.host.conn(h))
                    .and_then(|c| c.close_reason());
                let s = self.sock(fd)?;
                match reason.map(reason_errno) {
                    Some(e) if !s.error_taken && e != "0" => {
                        s.error_taken = true;
                        Value::Name(e.to_string())
                    }
                    _ => Value::Int(0),
                }
            }
            "SO_RCVBUF" => {
                // FreeBSD rounds the buffer in tcp_mss(), as soon as the
                // peer's SYN gives the MSS: in SYN-RECEIVED of a
                // simultaneous open too.
                let mss = conn
                    .and_then(|h| self.host.conn(h))
                    .filter(|c| {
                        c.state().is_synchronized()
                            || matches!(c.state(), State::Closed | State::SynReceived)
                    })
                    .map(|c| c.info().mss);
                Value::Int(knobs.rcvbuf(rcvbuf, mss) as i64)
            }
            "SO_SNDBUF" => Value::Int(sndbuf.unwrap_or(knobs.sendspace) as i64),
            "TCP_MAXSEG" => match conn.and_then(|h| self.host.conn(h)) {
                Some(c) => Value::Int(i64::from(c.info().mss)),
                // Before a connection: what the application set, or the
                // default MSS.
                None => Value::Int(i64::from(max_segment.unwrap_or(536))),
            },
            "TCP_NODELAY" => Value::Int(i64::from(nodelay)),
            "TCP_KEEPIDLE" => Value::Int(ka.idle.as_secs() as i64),
            "TCP_KEEPINTVL" => Value::Int(ka.interval.as_secs() as i64),
            "TCP_KEEPCNT" => Value::Int(i64::from(ka.count)),
            "TCP_KEEPINIT" => Value::Int(setup_timeout.unwrap_or(knobs.keepinit).as_secs() as i64),
            _ => return unsupported(format!("getsockopt {opt}")),
        };
        let matches = match (&want, &actual) {
            (Arg::Ellipsis, _) => true,
            (w, Value::Int(v)) => w.int() == Some(*v),
            (w, Value::Name(n)) => w.name() == Some(n.as_str()),
        };
        if !matches {
            return fail(
                format!("{opt} = {want:?}"),
                format!("{opt} = {}", actual.show()),
            );
        }
        Ok(Ok(0))
    }
}

enum Value {
    Int(i64),
    Name(String),
}

impl Value {
    fn show(&self) -> String {
        match self {
            Value::Int(v) => format!("[{v}]"),
            Value::Name(n) => format!("[{n}]"),
        }
    }
}

/// A call's result: a value, or an errno name.
type CallResult = Result<i64, &'static str>;

fn fmt_result(r: &CallResult) -> String {
    match r {
        Ok(v) => v.to_string(),
        Err(e) => format!("-1 {e}"),
    }
}

fn check_ret(want: &Ret, got: &CallResult) -> Result<(), Stop> {
    // EWOULDBLOCK is EAGAIN on both Linux and FreeBSD.
    fn same(e: &str) -> &str {
        if e == "EWOULDBLOCK" {
            "EAGAIN"
        } else {
            e
        }
    }
    let ok = match (&want.errno, got) {
        (Some(e), Err(g)) => same(e) == same(g),
        (None, Ok(v)) => *v == want.value,
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        fail(format!("= {want}"), format!("= {}", fmt_result(got)))
    }
}

fn reason_errno(r: CloseReason) -> &'static str {
    match r {
        CloseReason::Normal => "0",
        CloseReason::Refused => "ECONNREFUSED",
        CloseReason::Reset => "ECONNRESET",
        CloseReason::TimedOut => "ETIMEDOUT",
        CloseReason::Aborted => "ECONNABORTED",
    }
}

fn errno_of(e: Error) -> &'static str {
    match e {
        Error::WouldBlock => "EAGAIN",
        Error::NotConnected => "ENOTCONN",
        Error::SendClosed => "EPIPE",
        Error::Closed(CloseReason::Normal) => "EPIPE",
        Error::Closed(r) => reason_errno(r),
    }
}

/// The IP address helpers the tests use.
pub fn addresses(v6: bool) -> (IpAddr, IpAddr) {
    (profile::local_ip(v6), profile::remote_ip(v6))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> Outcome {
        run_script(
            text,
            &RunOptions {
                profile: Profile::Linux,
                tolerance_usecs: None,
            },
        )
    }

    const SERVER: &str = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n\
        +0 bind(3, ..., ...) = 0\n+0 listen(3, 1) = 0\n\
        +0 < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>\n";

    #[test]
    fn passive_open_matches() {
        let s = format!(
            "{SERVER}+0 > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 8>\n\
             +0 < . 1:1(0) ack 1 win 257\n+0 accept(3, ..., ...) = 4\n"
        );
        assert!(matches!(run(&s), Outcome::Pass { .. }), "{:?}", run(&s));
    }

    #[test]
    fn option_order_is_checked() {
        let s = format!("{SERVER}+0 > S. 0:0(0) ack 1 <mss 1460,sackOK,nop,nop,nop,wscale 8>\n");
        assert!(
            matches!(run(&s), Outcome::Fail { line: 5, .. }),
            "{:?}",
            run(&s)
        );
        let s = format!("{SERVER}+0 > S. 0:0(0) ack 1 <...>\n");
        assert!(matches!(run(&s), Outcome::Pass { .. }));
        let s = format!("{SERVER}+0 > S. 0:0(0) ack 1\n");
        assert!(
            matches!(run(&s), Outcome::Fail { .. }),
            "no <> means no options"
        );
    }

    #[test]
    fn timing_and_fields_are_checked() {
        let s = format!("{SERVER}+0.1 > S. 0:0(0) ack 1 <...>\n");
        let Outcome::Fail { actual, .. } = run(&s) else {
            panic!("early SYN-ACK accepted")
        };
        assert!(actual.contains("at 0.000000"), "{actual}");
        let s = format!("{SERVER}+0 > S. 0:0(0) ack 2 <...>\n");
        assert!(matches!(run(&s), Outcome::Fail { .. }));
        let s = format!("{SERVER}+0 > S. 0:0(0) ack 1 win 1 <...>\n");
        assert!(matches!(run(&s), Outcome::Fail { .. }));
    }

    #[test]
    fn nothing_sent_is_reported_with_the_deadline() {
        let s = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 > S 0:0(0) <...>\n";
        let Outcome::Fail { actual, .. } = run(s) else {
            panic!()
        };
        assert_eq!(actual, "nothing sent by 0.004000");
    }

    #[test]
    fn syscall_results_and_unsupported_lines() {
        let s = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, ..., ...) = 1\n";
        assert!(matches!(run(s), Outcome::Fail { line: 2, .. }));
        let s = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 < icmp unreachable\n";
        assert!(matches!(run(s), Outcome::Unsupported { line: 2, .. }));
        let s = "`../common/defaults.sh`\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n";
        let Outcome::Pass { skipped } = run(s) else {
            panic!()
        };
        assert_eq!(skipped.len(), 1);
    }

    #[test]
    fn ts_values_follow_the_tick_when_asked() {
        let script = |tick: u32| {
            format!(
                "--tcp_ts_tick_usecs={tick}\n\
                 0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n\
                 +0 bind(3, ..., ...) = 0\n+0 listen(3, 1) = 0\n\
                 +0 < S 0:0(0) win 20000 <mss 1000,sackOK,TS val 100 ecr 0>\n\
                 +0 > S. 0:0(0) ack 1 <mss 1460,sackOK,TS val 100 ecr 100>\n\
                 +.1 < . 1:1(0) ack 1 win 20000 <nop,nop,TS val 200 ecr 100>\n\
                 +0 accept(3, ..., ...) = 4\n\
                 +1 close(4) = 0\n\
                 +0 > F. 1:1(0) ack 1 <nop,nop,TS val 1200 ecr 200>\n"
            )
        };
        // synack's clock ticks every millisecond: 1100 ticks in 1.1 s.
        assert!(
            matches!(run(&script(1000)), Outcome::Pass { .. }),
            "{:?}",
            run(&script(1000))
        );
        // A 100 µs tick would have counted 11,000.
        let Outcome::Fail { expected, .. } = run(&script(100)) else {
            panic!("a wrong tick accepted")
        };
        assert!(expected.contains("11000 ticks"), "{expected}");
        // Without the option the value is not compared.
        let loose = script(1000)
            .replacen("--tcp_ts_tick_usecs=1000\n", "", 1)
            .replace("TS val 1200", "TS val 7");
        assert!(
            matches!(run(&loose), Outcome::Pass { .. }),
            "{:?}",
            run(&loose)
        );
    }

    #[test]
    fn blocking_connect_waits_in_virtual_time() {
        let s = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n\
                 +.1...0.200 connect(3, ..., ...) = 0\n\
                 +0 > S 0:0(0) <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 8>\n\
                 +.1 < S. 0:0(0) ack 1 win 5792 <mss 1460,nop,wscale 2,nop,nop,sackOK>\n\
                 +0 > . 1:1(0) ack 1\n";
        assert!(matches!(run(s), Outcome::Pass { .. }), "{:?}", run(s));
    }
}
