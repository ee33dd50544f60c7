//! Fuzz the sans-IO TCP engine (`synack_tcp::Connection`).
//!
//! The input is a script. The first bytes pick the setup: the connection's
//! settings (small buffers, MSS, window scaling, reassembly bound), the
//! address family, the ISN secret and how it starts:
//!
//! * 0: a listener (`Connection::listen`);
//! * 1: an active opener (`Connection::connect`), its SYN already sent;
//! * 2: an active opener driven to ESTABLISHED by a well-formed SYN-ACK;
//! * 3: a listener driven to ESTABLISHED by a SYN and the final ACK.
//!
//! The rest is a loop of operations: feed a segment built from the input
//! (sequence and acknowledgment numbers as offsets from the connection's
//! own variables, or raw; any flags; window, urgent pointer, options and a
//! payload), advance the clock and fire timers, and the application calls
//! `send`, `recv`, `close` and `abort`.
//!
//! After every operation the outputs are drained (`poll_transmit`, bounded,
//! and `poll_event`) and what holds by design is checked:
//!
//! * `check_invariants()` is Ok;
//! * no outgoing payload is larger than the send MSS or the send buffer;
//! * every outgoing segment survives emit + parse (checksum verified);
//! * `poll_transmit` runs dry (each data segment moves SND.NXT forward, so
//!   a bounded number of calls must reach `None`);
//! * nothing panics.
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use libfuzzer_sys::fuzz_target;
use synack_tcp::{Config, Connection, Duration, Instant, IsnSecret, SeqNum, State};
use synack_wire::{SackBlock, TcpFlags, TcpOptions, TcpRepr};

/// Reads the script; past its end every read yields zeros.
struct Script<'a> {
    data: &'a [u8],
}

impl<'a> Script<'a> {
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
            u32::from(b & 0x3f) << 8 | u32::from(self.u8())
        } else {
            u32::from(b & 0x3f)
        };
        if b & 0x40 != 0 {
            magnitude.wrapping_neg()
        } else {
            magnitude
        }
    }

    /// `len` bytes of payload: from the script while it lasts, else filler.
    fn payload(&mut self, len: usize, filler: &'a [u8]) -> &'a [u8] {
        if self.data.len() >= len {
            let (head, rest) = self.data.split_at(len);
            self.data = rest;
            head
        } else {
            &filler[..len.min(filler.len())]
        }
    }
}

/// Filler for payloads longer than what is left of the script.
static FILLER: [u8; 8192] = [0x5a; 8192];

/// Most outputs drained per operation before `poll_transmit` is declared
/// stuck: every data segment carries at least one byte of the send buffer
/// (or is the one zero-window probe), so the bound is generous.
fn transmit_bound(config: &Config) -> usize {
    config.send_buffer + 16
}

/// The driver around one connection: the peer's view and the clock.
struct Harness {
    conn: Connection,
    now: Instant,
    /// The peer's address (fixed; a listener learns it from the SYN).
    peer: SocketAddr,
    /// Our address as the peer sends to it.
    local: SocketAddr,
    /// Highest sequence number (end of segment) the connection has sent:
    /// a stand-in for SND.MAX, which `info()` does not show.
    snd_max: SeqNum,
    /// The connection has sent at least one segment with a sequence number.
    sent_any: bool,
    /// The peer's ISN, used by the handshake setups.
    peer_iss: u32,
    /// Scratch space for emitting outgoing segments.
    wire: Vec<u8>,
}

impl Harness {
    fn feed(&mut self, seg: &TcpRepr<'_>) {
        self.conn
            .handle_segment(self.now, self.peer.ip(), self.local.ip(), seg);
        self.drain();
    }

    /// Takes everything the connection has to say and checks it.
    fn drain(&mut self) {
        let config = self.conn.config().clone();
        let bound = transmit_bound(&config);
        let mut ran_dry = false;
        for _ in 0..bound {
            let mss = usize::from(self.conn.info().mss);
            let Some(t) = self.conn.poll_transmit(self.now) else {
                ran_dry = true;
                break;
            };
            let repr = t.repr;
            let len = repr.payload.len();
            assert!(
                len <= mss,
                "payload of {len} bytes exceeds the send MSS {mss}: {repr:?}"
            );
            assert!(
                len <= config.send_buffer,
                "payload of {len} bytes exceeds the send buffer {}",
                config.send_buffer
            );
            if repr.flags.rst() {
                assert!(len == 0, "RST with payload: {repr:?}");
            }
            if repr.flags.syn() {
                assert!(len == 0, "SYN with payload: {repr:?}");
            }
            // What the engine builds must be emittable and parse back the same.
            let (src, dst) = (t.local.ip(), t.remote.ip());
            if src.is_ipv4() == dst.is_ipv4() {
                let out = &mut self.wire[..repr.buffer_len()];
                repr.emit(out, src, dst);
                let again = TcpRepr::parse(out, src, dst, true)
                    .unwrap_or_else(|e| panic!("emitted segment does not parse: {e:?}: {repr:?}"));
                let mut expected = repr;
                expected.options = repr.options.truncated_to_fit();
                assert_eq!(again, expected, "emit/parse round trip");
            }
            if !repr.flags.rst() {
                let end = SeqNum(repr.seq) + repr.segment_len() as u32;
                if !self.sent_any || end.after(self.snd_max) {
                    self.snd_max = end;
                    self.sent_any = true;
                }
            }
        }
        assert!(
            ran_dry,
            "poll_transmit still had output after {bound} calls (state {:?})",
            self.conn.state()
        );
        let mut events = 0;
        while self.conn.poll_event().is_some() {
            events += 1;
            assert!(events <= 1000, "poll_event never runs dry");
        }
        if let Err(msg) = self.conn.check_invariants() {
            panic!(
                "invariant broken: {msg}\ninfo: {:#?}",
                self.conn.info()
            );
        }
    }

    fn advance(&mut self, d: Duration) {
        self.now += d;
        self.conn.handle_timeout(self.now);
        self.drain();
    }

    /// A segment from the peer with ports and ACK filled in for this
    /// connection.
    fn peer_segment(&self, seq: u32, ack: u32, flags: TcpFlags) -> TcpRepr<'static> {
        TcpRepr {
            src_port: self.peer.port(),
            dst_port: self.local.port(),
            seq,
            ack,
            flags,
            window: 0xffff,
            urgent: 0,
            options: TcpOptions::default(),
            payload: &[],
        }
    }
}

fn setup(s: &mut Script<'_>) -> Harness {
    let mode = s.u8();
    let knobs = s.u8();
    let mut config = Config::default();
    config.mss = 64 + s.u16() % 1400;
    config.send_buffer = if knobs & 0x01 != 0 {
        64 * 1024 + usize::from(s.u16())
    } else {
        1 + usize::from(s.u16() % 8192)
    };
    config.recv_buffer = if knobs & 0x02 != 0 {
        64 * 1024 + usize::from(s.u16())
    } else {
        1 + usize::from(s.u16() % 8192)
    };
    config.window_scaling = knobs & 0x04 != 0;
    config.max_ooo_ranges = 1 + usize::from(s.u8() % 8);
    config.initial_window = 1 + u32::from(s.u8() % 16);
    config.msl = Duration::from_millis(500);
    config.syn_retries = u32::from(s.u8() % 4);
    config.synack_retries = u32::from(s.u8() % 4);
    config.max_retries = u32::from(s.u8() % 8);

    let (local, peer) = if knobs & 0x08 != 0 {
        (
            SocketAddr::new(IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2)), 80),
            SocketAddr::new(IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1)), 49152),
        )
    } else {
        (
            SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 80),
            SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 49152),
        )
    };
    // A listener bound to the unspecified address learns its own from the SYN.
    let listen_addr = if knobs & 0x10 != 0 {
        SocketAddr::new(
            match local.ip() {
                IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            },
            local.port(),
        )
    } else {
        local
    };
    let secret = IsnSecret::from_seed(u64::from(s.u32()));
    let now = Instant::from_millis(1_000 + u64::from(s.u32()));
    let peer_iss = s.u32();
    let peer_mss = s.u16();
    let peer_ws = s.u8();
    let peer_window = s.u16();

    let config_send_buffer = config.send_buffer;
    let conn = match mode % 4 {
        0 | 3 => Connection::listen(config, now, listen_addr, secret),
        _ => Connection::connect(config, now, local, peer, secret),
    };
    let mut h = Harness {
        conn,
        now,
        peer,
        local,
        snd_max: SeqNum(0),
        sent_any: false,
        peer_iss,
        wire: vec![0u8; 60 + config_send_buffer],
    };
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

    match mode % 4 {
        2 => {
            // Active open: answer our SYN with a SYN-ACK.
            let iss = h.conn.info().iss;
            let mut synack =
                h.peer_segment(h.peer_iss, (iss + 1).0, TcpFlags::SYN | TcpFlags::ACK);
            synack.options = syn_opts;
            synack.window = peer_window;
            h.feed(&synack);
            assert_eq!(h.conn.state(), State::Established, "SYN-ACK did not establish");
        }
        3 => {
            // Passive open: SYN, our SYN-ACK, then the final ACK.
            let mut syn = h.peer_segment(h.peer_iss, 0, TcpFlags::SYN);
            syn.options = syn_opts;
            syn.window = peer_window;
            h.feed(&syn);
            assert_eq!(h.conn.state(), State::SynReceived, "SYN did not open");
            let iss = h.conn.info().iss;
            let mut ack = h.peer_segment(h.peer_iss.wrapping_add(1), (iss + 1).0, TcpFlags::ACK);
            ack.window = peer_window;
            h.feed(&ack);
            assert_eq!(h.conn.state(), State::Established, "final ACK did not establish");
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
        0 => h.snd_max.0,
        1 => (info.snd_una + s.offset()).0,
        2 => (info.snd_nxt + s.offset()).0,
        _ => s.u32(),
    };
    // Mostly ACK set, as nearly every real segment has it.
    let mut flags = TcpFlags(s.u8());
    if modes & 0x10 != 0 {
        flags.insert(TcpFlags::ACK);
    }
    let window = if modes & 0x20 != 0 { s.u16() } else { 0xffff };
    let urgent = if flags.urg() { s.u16() } else { 0 };

    let mut options = TcpOptions::default();
    if modes & 0x40 != 0 {
        let which = s.u8();
        if which & 0x01 != 0 {
            options.mss = Some(s.u16());
        }
        if which & 0x02 != 0 {
            options.window_scale = Some(s.u8());
        }
        options.sack_permitted = which & 0x04 != 0;
        if which & 0x08 != 0 {
            options.timestamps = Some((s.u32(), s.u32()));
        }
        for _ in 0..(which >> 4) % 5 {
            let left = (info.snd_una + s.offset()).0;
            let right = left.wrapping_add(u32::from(s.u16()));
            options.push_sack_block(SackBlock { left, right });
        }
    }

    let len = if modes & 0x80 != 0 {
        usize::from(s.u16()) % (FILLER.len() + 1)
    } else {
        usize::from(s.u8() % 64)
    };
    let payload = s.payload(len, &FILLER);

    let seg = TcpRepr {
        src_port: h.peer.port(),
        dst_port: h.local.port(),
        seq,
        ack,
        flags,
        window,
        urgent,
        options,
        payload,
    };
    h.feed(&seg);
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
                let len = usize::from(s.u16()) % (FILLER.len() + 1);
                let data = s.payload(len, &FILLER);
                let _ = h.conn.send(data);
                h.drain();
            }
            7 => {
                let mut buf = vec![0u8; 1 + usize::from(s.u16() % 4096)];
                if let Ok(n) = h.conn.recv(&mut buf) {
                    assert!(n <= buf.len());
                }
                h.drain();
            }
            8 => {
                if s.u8() % 4 == 0 {
                    h.conn.abort(h.now);
                } else {
                    h.conn.close(h.now);
                }
                h.drain();
            }
            _ => {
                // Acknowledge everything sent so far, in order, with a
                // window: the well-behaved peer that moves things along.
                let info = h.conn.info();
                let mut seg = h.peer_segment(info.rcv_nxt.0, h.snd_max.0, TcpFlags::ACK);
                seg.window = s.u16();
                h.feed(&seg);
            }
        }
    }
});
