//! Fuzz the sans-IO TCP engine (`synack_tcp::Connection`).
//!
//! The input is a script. The first bytes pick the setup: the connection's
//! settings (small buffers, MSS, window scaling, reassembly bound, retry
//! limits), the address family, the ISN secret, the clock and how it starts:
//!
//! * 0: a listener (`Connection::listen`);
//! * 1: an active opener (`Connection::connect`), its SYN already sent;
//! * 2: an active opener driven to ESTABLISHED by a well-formed SYN-ACK;
//! * 3: a listener driven to ESTABLISHED by a SYN and the final ACK.
//!
//! The rest is a loop of operations: feed a segment built from the input
//! (sequence and acknowledgment numbers as offsets from the connection's
//! own variables or raw; any flags; window, urgent pointer, options and a
//! payload), advance the clock and fire timers, the application calls
//! `send`, `recv`, `shutdown`, `close` and `abort`, and a well-behaved
//! "acknowledge everything" segment that moves the connection along. The
//! settings include SACK, timestamps, Nagle, delayed ACKs, keep-alive and
//! the congestion controller, so every loss-recovery path is reachable.
//!
//! The peer is hostile in everything but one thing: the payload byte at
//! sequence number S is always `stream_byte(S)`, so whatever the engine
//! hands the application can be checked byte for byte, however segments
//! overlap, repeat or arrive out of order.
//!
//! After every operation the outputs are drained (`poll_event`, and
//! `poll_transmit` up to a bound) and what holds by design is checked:
//!
//! * `check_invariants()` is Ok;
//! * `poll_transmit` runs dry within a bound (every data segment carries at
//!   least one byte of the bounded send buffer);
//! * no outgoing payload is larger than the send MSS or the send buffer, and
//!   SYN and RST segments carry none;
//! * every outgoing byte is the byte the application queued at that
//!   sequence number (ISS + 1 + offset in the stream);
//! * every ACK (other than on a RST) acknowledges RCV.NXT;
//! * every outgoing segment survives emit + parse with its checksum;
//! * every byte `recv` returns is the peer's byte at that sequence number
//!   (IRS + 1 + offset), and `recv` never returns more than asked;
//! * state changes chain (each starts where the previous ended, and ends
//!   where `state()` is), and nothing leaves CLOSED;
//! * nothing panics.
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use libfuzzer_sys::fuzz_target;
use synack_tcp::{
    Algorithm, Config, Connection, Duration, Event, Instant, IsnSecret, Keepalive, SeqNum, State,
};
use synack_wire::{SackBlock, TcpFlags, TcpHeader, TcpOptions, TcpRepr};

/// The peer's payload byte at sequence number `seq`.
fn stream_byte(seq: u32) -> u8 {
    let x = seq.wrapping_mul(0x9e37_79b1);
    (x >> 24) as u8 ^ seq as u8
}

/// The peer's payload of `len` bytes starting at sequence number `seq`.
fn stream_bytes(seq: u32, len: usize) -> Vec<u8> {
    (0..len as u32)
        .map(|i| stream_byte(seq.wrapping_add(i)))
        .collect()
}

/// Longest payload the script asks for (in a segment or an app `send`).
const MAX_PAYLOAD: usize = 8192;

/// Reads the script; past its end every read yields zeros.
struct Script<'a> {
    data: &'a [u8],
}

impl Script<'_> {
    fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    /// A small signed offset: mostly within a few bytes, sometimes a few KiB.
    fn offset(&mut self) -> u32 {
        let b = self.u8();
        let magnitude = if b & 0x80 != 0 {
            (u32::from(b & 0x3f) << 8) | u32::from(self.u8())
        } else {
            u32::from(b & 0x3f)
        };
        if b & 0x40 != 0 {
            magnitude.wrapping_neg()
        } else {
            magnitude
        }
    }

    /// A payload length: mostly short, sometimes up to `MAX_PAYLOAD`.
    fn len(&mut self) -> usize {
        let b = self.u8();
        if b & 0x80 != 0 {
            usize::from(self.u16()) % (MAX_PAYLOAD + 1)
        } else {
            usize::from(b)
        }
    }
}

/// The driver around one connection: the peer's side and the clock.
struct Harness {
    conn: Connection,
    now: Instant,
    /// The peer's address (fixed; a listener learns it from the SYN).
    peer: SocketAddr,
    /// Our address as the peer sends to it.
    local: SocketAddr,
    /// Highest sequence number (end of segment) the connection has sent:
    /// a stand-in for SND.MAX, which `info()` does not show.
    snd_max: Option<SeqNum>,
    /// The peer's ISN, used by the handshake setups and as a base for
    /// sequence numbers.
    peer_iss: u32,
    /// Every byte the application queued with `send` (accepted by it).
    sent_stream: Vec<u8>,
    /// Bytes the application has read with `recv`.
    received: u64,
    /// The state the last state change ended in.
    state: State,
    /// The opening move out of CLOSED has been seen; there is no other.
    opened: bool,
    /// Scratch space for emitting outgoing segments.
    wire: Vec<u8>,
    /// Most calls to `poll_transmit` before it must have run dry.
    transmit_bound: usize,
}

impl Harness {
    fn new(
        conn: Connection,
        now: Instant,
        peer: SocketAddr,
        local: SocketAddr,
        peer_iss: u32,
    ) -> Self {
        let send_buffer = conn.config().send_buffer;
        Harness {
            // `connect` and `listen` record their move out of CLOSED.
            state: State::Closed,
            opened: false,
            conn,
            now,
            peer,
            local,
            snd_max: None,
            peer_iss,
            sent_stream: Vec::new(),
            received: 0,
            wire: vec![0u8; 60 + send_buffer],
            // Every data segment takes at least one byte of the send buffer
            // (or is the one zero-window probe); add room for SYN, FIN,
            // RST and the ACKs owed (at most 64 at once).
            transmit_bound: send_buffer + 128,
        }
    }

    fn feed(&mut self, seg: &TcpHeader, payload: &[u8]) {
        self.conn.handle_segment(
            self.now,
            self.peer.ip(),
            self.local.ip(),
            &seg.with_payload(payload),
        );
        self.drain();
    }

    fn events(&mut self) {
        let mut n = 0;
        while let Some(ev) = self.conn.poll_event() {
            n += 1;
            assert!(n <= 1000, "poll_event never runs dry");
            let Event::StateChanged(t) = ev else {
                continue;
            };
            assert_eq!(
                t.at, self.now,
                "state change stamped with another time: {t:?}"
            );
            assert_ne!(t.from, t.to, "state change to the same state: {t:?}");
            if self.conn.stats().events_dropped == 0 {
                assert_eq!(t.from, self.state, "state changes do not chain: {t:?}");
            }
            if t.from == State::Closed {
                assert!(!self.opened, "left CLOSED: {t:?}");
                self.opened = true;
            }
            if t.to == State::Listen {
                // Back to LISTEN: a fresh connection, nothing of the old one.
                self.sent_stream.clear();
                self.received = 0;
                self.snd_max = None;
            }
            self.state = t.to;
        }
        if self.conn.stats().events_dropped == 0 {
            assert_eq!(
                self.state,
                self.conn.state(),
                "events do not end in state()"
            );
        }
        self.state = self.conn.state();
    }

    /// Takes everything the connection has to say and checks it.
    fn drain(&mut self) {
        self.events();
        let send_buffer = self.conn.config().send_buffer;
        let mut ran_dry = false;
        for _ in 0..self.transmit_bound {
            let info = self.conn.info();
            let mss = usize::from(info.mss);
            let Some(t) = self.conn.poll_transmit(self.now) else {
                ran_dry = true;
                break;
            };
            let repr = t.header;
            let mut payload = t.payload[0].to_vec();
            payload.extend_from_slice(t.payload[1]);
            let len = payload.len();
            assert!(
                len <= mss,
                "payload of {len} bytes exceeds the send MSS {mss}: {repr:?}"
            );
            assert!(
                len <= send_buffer,
                "payload of {len} bytes exceeds the send buffer {send_buffer}"
            );
            assert!(
                !(repr.flags.rst() || repr.flags.syn()) || len == 0,
                "SYN or RST with payload: {repr:?}"
            );
            assert_eq!(
                repr.src_port,
                self.local.port(),
                "wrong source port: {repr:?}"
            );
            assert_eq!(
                repr.dst_port,
                self.peer.port(),
                "wrong destination port: {repr:?}"
            );
            if !repr.flags.rst() {
                if repr.flags.ack() {
                    assert_eq!(
                        SeqNum(repr.ack),
                        info.rcv_nxt,
                        "ACK field is not RCV.NXT: {repr:?}"
                    );
                }
                if len > 0 {
                    // The bytes are the application's, at their place in
                    // the stream: ISS + 1 is offset 0.
                    let offset = SeqNum(repr.seq).since(info.iss + 1) as usize;
                    let expected = self.sent_stream.get(offset..offset + len);
                    assert!(
                        expected == Some(&payload[..]),
                        "sent bytes at stream offset {offset} (seq {}, {len} bytes) are not \
                         what the application queued ({} bytes queued in all): {repr:?}",
                        repr.seq,
                        self.sent_stream.len()
                    );
                }
                let space = len as u32 + u32::from(repr.flags.syn()) + u32::from(repr.flags.fin());
                let end = SeqNum(repr.seq) + space;
                if self.snd_max.is_none_or(|m| end.after(m)) {
                    self.snd_max = Some(end);
                }
            }
            // What the engine builds must be emittable and parse back the same.
            let (src, dst) = (t.local.ip(), t.remote.ip());
            assert_eq!(
                src.is_ipv4(),
                dst.is_ipv4(),
                "mixed address families: {t:?}"
            );
            let n = t.segment_len();
            let written = t.emit(&mut self.wire[..n]);
            assert_eq!(written, n, "emit wrote a different length");
            let again = TcpRepr::parse(&self.wire[..n], src, dst, true)
                .unwrap_or_else(|e| panic!("emitted segment does not parse: {e:?}: {repr:?}"));
            let mut expected = repr.with_payload(&payload);
            expected.options = repr.options.truncated_to_fit();
            assert_eq!(again, expected, "emit/parse round trip");
        }
        assert!(
            ran_dry,
            "poll_transmit still had output after {} calls (state {:?})",
            self.transmit_bound,
            self.conn.state()
        );
        self.events();
        if let Err(msg) = self.conn.check_invariants() {
            panic!("invariant broken: {msg}\ninfo: {:#?}", self.conn.info());
        }
    }

    fn advance(&mut self, d: Duration) {
        self.now += d;
        self.conn.handle_timeout(self.now);
        self.drain();
    }

    fn send(&mut self, len: usize) {
        // The application's stream is a pattern unlike the peer's.
        let start = self.sent_stream.len();
        let data: Vec<u8> = (start..start + len).map(|i| (i % 251) as u8).collect();
        if let Ok(n) = self.conn.send(&data) {
            assert!(n <= len, "send took {n} of {len} bytes");
            self.sent_stream.extend_from_slice(&data[..n]);
        }
        self.drain();
    }

    fn recv(&mut self, max: usize) {
        let mut buf = vec![0u8; max];
        if let Ok(n) = self.conn.recv(&mut buf) {
            assert!(n <= max, "recv returned {n} for a {max}-byte buffer");
            // The peer's byte at IRS + 1 + offset.
            let first = self.conn.info().irs + 1 + self.received as u32;
            let want = stream_bytes(first.0, n);
            assert!(
                buf[..n] == want[..],
                "received bytes at stream offset {} ({n} bytes) are not what the peer sent",
                self.received
            );
            self.received += n as u64;
        }
        self.drain();
    }

    /// A segment from the peer, ports and payload filled in for this
    /// connection. The payload's first byte sits at `seq`, or `seq + 1`
    /// when the segment carries a SYN.
    fn segment(&self, seq: u32, ack: u32, flags: TcpFlags, len: usize) -> (TcpHeader, Vec<u8>) {
        let first = seq.wrapping_add(u32::from(flags.syn()));
        let payload = stream_bytes(first, len);
        let repr = TcpHeader {
            src_port: self.peer.port(),
            dst_port: self.local.port(),
            seq,
            ack,
            flags,
            window: 0xffff,
            urgent: 0,
            options: TcpOptions::default(),
        };
        (repr, payload)
    }
}

fn setup(s: &mut Script<'_>) -> Harness {
    let mode = s.u8();
    let knobs = s.u8();
    let mss = 64 + s.u16() % 1400;
    let send_buffer = if knobs & 0x01 != 0 {
        64 * 1024 + usize::from(s.u16())
    } else {
        1 + usize::from(s.u16() % 8192)
    };
    let recv_buffer = if knobs & 0x02 != 0 {
        64 * 1024 + usize::from(s.u16())
    } else {
        1 + usize::from(s.u16() % 8192)
    };
    let config = Config {
        mss,
        send_buffer,
        recv_buffer,
        window_scaling: knobs & 0x04 != 0,
        max_ooo_ranges: 1 + usize::from(s.u8() % 8),
        initial_window: 1 + u32::from(s.u8() % 16),
        msl: Duration::from_millis(500),
        syn_retries: u32::from(s.u8() % 4),
        synack_retries: u32::from(s.u8() % 4),
        max_retries: u32::from(s.u8() % 8),
        sack: knobs & 0x20 != 0,
        timestamps: knobs & 0x40 != 0,
        nodelay: knobs & 0x80 != 0,
        delayed_ack: Duration::from_millis(u64::from(s.u8() % 3) * 40),
        congestion: if s.u8() & 1 == 0 {
            Algorithm::Cubic
        } else {
            Algorithm::NewReno
        },
        keepalive: (s.u8() & 3 == 0).then_some(Keepalive {
            idle: Duration::from_secs(10),
            interval: Duration::from_secs(2),
            count: 3,
        }),
        ..Config::default()
    };

    let (local, peer) = if knobs & 0x08 != 0 {
        (
            SocketAddr::new(IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2)), 80),
            SocketAddr::new(
                IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1)),
                49152,
            ),
        )
    } else {
        (
            SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 80),
            SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 49152),
        )
    };
    // A listener bound to the unspecified address learns its own from the SYN.
    let listen_addr = if knobs & 0x10 != 0 {
        let any = match local.ip() {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        };
        SocketAddr::new(any, local.port())
    } else {
        local
    };
    let secret = IsnSecret::from_seed(u64::from(s.u32()));
    let now = Instant::from_millis(1_000 + u64::from(s.u32()));
    let peer_iss = s.u32();
    let peer_mss = s.u16();
    let peer_ws = s.u8();
    let peer_window = s.u16();

    let conn = match mode % 4 {
        0 | 3 => Connection::listen(config, now, listen_addr, secret),
        _ => Connection::connect(config, now, local, peer, secret),
    };
    let mut h = Harness::new(conn, now, peer, local, peer_iss);
    h.drain();

    // The options the peer's SYN (or SYN-ACK) carries.
    let mut syn_opts = TcpOptions::default();
    if peer_ws & 0x80 == 0 {
        syn_opts.mss = Some(peer_mss);
    }
    if peer_ws & 0x40 == 0 {
        syn_opts.window_scale = Some(peer_ws & 0x0f);
    }
    syn_opts.sack_permitted = peer_ws & 0x20 != 0;
    if peer_ws & 0x10 != 0 {
        syn_opts.timestamps = Some((peer_iss.rotate_left(7), 0));
    }

    match mode % 4 {
        2 => {
            // Active open: answer our SYN with a SYN-ACK.
            let iss = h.conn.info().iss;
            let (mut synack, _) =
                h.segment(h.peer_iss, (iss + 1).0, TcpFlags::SYN | TcpFlags::ACK, 0);
            synack.options = syn_opts;
            synack.window = peer_window;
            h.feed(&synack, &[]);
            assert_eq!(
                h.conn.state(),
                State::Established,
                "SYN-ACK did not establish"
            );
        }
        3 => {
            // Passive open: SYN, our SYN-ACK, then the final ACK.
            let (mut syn, _) = h.segment(h.peer_iss, 0, TcpFlags::SYN, 0);
            syn.options = syn_opts;
            syn.window = peer_window;
            h.feed(&syn, &[]);
            assert_eq!(h.conn.state(), State::SynReceived, "SYN did not open");
            let iss = h.conn.info().iss;
            let (mut ack, _) = h.segment(h.peer_iss.wrapping_add(1), (iss + 1).0, TcpFlags::ACK, 0);
            ack.window = peer_window;
            h.feed(&ack, &[]);
            assert_eq!(
                h.conn.state(),
                State::Established,
                "final ACK did not establish"
            );
        }
        _ => {}
    }
    h
}

/// Builds a segment from the script and feeds it.
fn op_segment(h: &mut Harness, s: &mut Script<'_>) {
    let info = h.conn.info();
    let modes = s.u8();
    let seq = match modes & 0x03 {
        0 => info.rcv_nxt.0,
        1 => (info.rcv_nxt + s.offset()).0,
        2 => h.peer_iss.wrapping_add(s.offset()),
        _ => s.u32(),
    };
    let ack = match (modes >> 2) & 0x03 {
        0 => h.snd_max.unwrap_or(info.snd_nxt).0,
        1 => (info.snd_una + s.offset()).0,
        2 => (info.snd_nxt + s.offset()).0,
        _ => s.u32(),
    };
    let mut flags = TcpFlags(s.u8());
    // Mostly ACK set, as nearly every real segment has it.
    if modes & 0x10 != 0 {
        flags.insert(TcpFlags::ACK);
    }
    let len = s.len();
    let (mut seg, payload) = h.segment(seq, ack, flags, len);
    if modes & 0x20 != 0 {
        seg.window = s.u16();
    }
    if flags.urg() {
        seg.urgent = s.u16();
    }
    if modes & 0x40 != 0 {
        let which = s.u8();
        if which & 0x01 != 0 {
            seg.options.mss = Some(s.u16());
        }
        if which & 0x02 != 0 {
            seg.options.window_scale = Some(s.u8());
        }
        seg.options.sack_permitted = which & 0x04 != 0;
        if which & 0x08 != 0 {
            seg.options.timestamps = Some((s.u32(), s.u32()));
        }
        for _ in 0..(which >> 4) % 5 {
            let left = (info.snd_una + s.offset()).0;
            let right = left.wrapping_add(u32::from(s.u16()));
            seg.options.push_sack_block(SackBlock { left, right });
        }
    }
    h.feed(&seg, &payload);
}

fuzz_target!(|data: &[u8]| {
    let mut s = Script { data };
    let mut h = setup(&mut s);
    let mut ops = 0;
    while !s.is_empty() && ops < 512 {
        ops += 1;
        match s.u8() % 10 {
            0..=3 => op_segment(&mut h, &mut s),
            4 => {
                let ms = u64::from(s.u8());
                h.advance(Duration::from_millis(ms));
            }
            5 => {
                // Jump to the next deadline, or far ahead.
                let d = match h.conn.poll_timeout() {
                    Some(t) if s.u8() & 1 == 0 => t.saturating_since(h.now),
                    _ => Duration::from_millis(u64::from(s.u16()) * 10),
                };
                h.advance(d);
            }
            6 => {
                let len = s.len();
                h.send(len);
            }
            7 => {
                let max = 1 + usize::from(s.u16() % 4096);
                h.recv(max);
            }
            8 => {
                match s.u8() % 4 {
                    0 => h.conn.abort(h.now),
                    1 => h.conn.close(h.now),
                    _ => h.conn.shutdown(h.now),
                }
                h.drain();
            }
            _ => {
                // The well-behaved peer: acknowledge everything sent so far,
                // in order, with a window from the script, and maybe data.
                let info = h.conn.info();
                let ack = h.snd_max.unwrap_or(info.snd_nxt).0;
                let len = usize::from(s.u8() % 4) * 100;
                let (mut seg, payload) = h.segment(info.rcv_nxt.0, ack, TcpFlags::ACK, len);
                seg.window = s.u16();
                h.feed(&seg, &payload);
            }
        }
    }
});
