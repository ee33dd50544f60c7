//! The sender: everything about the data this side sends.
//!
//! It owns the send sequence space (RFC 9293 §3.3.1), the send ring, the
//! retransmission record of segments in flight, the RTT estimator, the
//! congestion controller and the loss-recovery state. The connection feeds
//! it the ACK part of each segment ([`Sender::on_ack`]) and asks it what to
//! send next ([`Sender::next_segment`]); the timers it owns are the RTO,
//! the tail loss probe, RACK's reorder timer and the persist timer.
//!
//! SND.NXT is never rewound: retransmissions are taken from the record, so
//! SND.NXT is also SND.MAX, the highest sequence number sent (+1). Every
//! rule that means "the highest sequence number sent" uses it.

pub mod record;

use crate::buffer::Ring;
use crate::config::Config;
use crate::congestion::{AckSample, Congestion};
use crate::recovery::{rack, Phase, Prr, Recovery, RecoveryEvent, DUP_THRESH};
use crate::rtt::RttEstimator;
use crate::seq::SeqNum;
use crate::time::{Duration, Instant};
use crate::timer::{TimerKind, Timers};
use record::{Delivered, Record};
use synack_wire::SackBlock;

/// RFC 9293 §3.7.1: the MSS to assume when an IPv4 peer sends no MSS
/// option (576 − 40).
pub const DEFAULT_MSS: u16 = 536;

/// RFC 9293 §3.7.1 (MUST-15): the MSS to assume when a peer at `ip`
/// sends no MSS option: 536 over IPv4, 1220 (1280 − 60) over IPv6.
pub fn default_mss(ip: std::net::IpAddr) -> u16 {
    if ip.is_ipv4() {
        DEFAULT_MSS
    } else {
        1220
    }
}

/// Why a segment is being sent.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SendKind {
    /// Data (or a FIN) sent for the first time.
    New,
    /// A segment recovery decided was lost, or the RTO's oldest segment.
    Retransmit,
    /// RFC 8985 §7.3: a tail loss probe (new data or the last segment).
    TailLossProbe,
    /// RFC 9293 §3.8.6.1: a probe of a zero (or too small) window.
    WindowProbe,
}

/// A probe requested by a timer, sent on the next transmit.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Probe {
    Window,
    Tail,
}

/// The segment the sender wants to send next.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub seq: SeqNum,
    /// Payload bytes (the FIN, if any, comes after them).
    pub len: u32,
    pub fin: bool,
    pub kind: SendKind,
}

/// The ACK-related fields of an arriving segment.
#[derive(Copy, Clone, Debug)]
pub struct AckInput<'a> {
    pub ack: SeqNum,
    /// SEG.SEQ, for the window-update rule (SND.WL1).
    pub seq: SeqNum,
    /// SEG.WND, already scaled.
    pub window: u32,
    pub sack: &'a [SackBlock],
    /// TSecr, when timestamps are in use and the segment carried them.
    pub tsecr: Option<u32>,
    /// Our timestamp clock now (to turn TSecr into an RTT).
    pub ts_now: u32,
    /// No payload, no SYN, no FIN: a candidate duplicate ACK (RFC 5681 §2).
    pub pure: bool,
}

/// What an ACK changed, for the connection to act on.
#[derive(Copy, Clone, Debug, Default)]
pub struct AckOutcome {
    /// SND.UNA advanced.
    pub advanced: bool,
    /// Our FIN is now acknowledged.
    pub fin_acked: bool,
    /// Send-buffer space was freed and the application asked to be told.
    pub writable: bool,
}

/// What the retransmission timer decided.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum TimeoutVerdict {
    /// Nothing was outstanding; the timer was stale.
    Idle,
    /// Retransmit (the oldest segment first).
    Retransmit,
    /// The limit is reached: the connection fails with TimedOut.
    GiveUp,
}

/// Counters of the sending side.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct SendStats {
    /// New payload bytes sent (each byte once).
    pub bytes_sent: u64,
    /// Payload bytes sent again.
    pub bytes_retransmitted: u64,
    /// Segments sent again (RTO, fast retransmit, RACK, TLP, probes).
    pub retransmits: u32,
    pub rto_expirations: u32,
    pub fast_recoveries: u32,
    pub tail_loss_probes: u32,
    pub zero_window_probes: u32,
    pub dsacks_received: u32,
}

/// Adds one to a counter, stopping at its maximum.
pub(crate) fn bump(c: &mut u32) {
    *c = c.saturating_add(1);
}

/// The sending half of a connection.
#[derive(Clone, Debug)]
pub struct Sender {
    pub iss: SeqNum,
    /// SND.UNA: the oldest unacknowledged sequence number.
    pub una: SeqNum,
    /// SND.NXT (= SND.MAX): the next new sequence number to send.
    pub nxt: SeqNum,
    /// SND.WND, scaled, and the largest ever seen (RFC 5961 §5.2, SWS).
    pub wnd: u32,
    pub max_wnd: u32,
    /// SND.WL1, SND.WL2: the segment that last updated the window.
    pub wl1: SeqNum,
    pub wl2: SeqNum,
    /// The peer's window scale shift (Snd.Wind.Shift).
    pub wscale: u8,
    /// Largest payload per segment before options: min(the peer's MSS, ours).
    pub mss: u16,
    buf: Ring,
    /// Sequence number of the first byte in `buf`.
    buf_seq: SeqNum,
    /// Sequence number of our FIN, once the application shut down sending.
    fin_seq: Option<SeqNum>,
    /// SND.UP (RFC 9293 §3.8.5): just past the last urgent byte queued
    /// (MUST-62, from RFC 6093 §4: the pointer points to the octet
    /// following the urgent data). Urgent data is unacknowledged while it is ahead
    /// of SND.UNA; otherwise it moves along with SND.UNA (Linux's urgent
    /// mode test, BSD's "drag it along"), so that it never drifts far
    /// enough behind to look ahead again modulo 2^32.
    up: SeqNum,
    pub record: Record,
    pub rtt: RttEstimator,
    pub cc: Congestion,
    pub recovery: Recovery,
    /// Both SYNs carried SACK-permitted.
    pub sack_ok: bool,
    rack_on: bool,
    pub nodelay: bool,
    max_retries: u32,
    /// Consecutive retransmission timeouts without progress.
    pub retries: u32,
    /// Window probes sent since the last ACK (the give-up count).
    pub probes: u32,
    /// Window probes since the window was last open (the backoff).
    persist_backoff: u32,
    probe: Option<Probe>,
    /// When data was last sent, in µs (RFC 5681 §4.1 restart after idle);
    /// `u64::MAX` before the first.
    last_send: u64,
    /// Round-trip tracking: the round ends when this is acknowledged.
    round_end: SeqNum,
    /// The largest pipe seen this round, and whether cwnd held data back.
    max_pipe: u32,
    cwnd_blocked: bool,
    /// `send` found the buffer full: report when space frees up.
    pub want_writable: bool,
    /// Recovery events to report, oldest first (drained by the connection).
    pub notes: Vec<(Instant, RecoveryEvent)>,
    pub stats: SendStats,
}

impl Sender {
    pub fn new(config: &Config, iss: SeqNum) -> Sender {
        let mss = DEFAULT_MSS.min(config.mss);
        Sender {
            iss,
            una: iss,
            nxt: iss,
            wnd: 0,
            max_wnd: 0,
            wl1: SeqNum(0),
            wl2: iss,
            wscale: 0,
            mss,
            buf: Ring::new(config.send_buffer),
            buf_seq: iss + 1,
            fin_seq: None,
            up: iss,
            record: Record::default(),
            rtt: RttEstimator::new(config.initial_rto, config.min_rto, config.max_rto),
            cc: Congestion::new(
                config.congestion,
                u32::from(mss),
                config.initial_window,
                config.hystart,
            ),
            recovery: Recovery::new(iss),
            sack_ok: false,
            rack_on: config.rack,
            nodelay: config.nodelay,
            max_retries: config.max_retries,
            retries: 0,
            probes: 0,
            persist_backoff: 0,
            probe: None,
            last_send: u64::MAX,
            round_end: iss,
            max_pipe: 0,
            cwnd_blocked: false,
            want_writable: false,
            notes: Vec::new(),
            stats: SendStats::default(),
        }
    }

    // ---- the send buffer ------------------------------------------------

    /// Queues application bytes; returns how many fit.
    pub fn queue(&mut self, data: &[u8]) -> usize {
        self.buf.push(data)
    }

    /// The application will send no more: the FIN follows the last byte.
    pub fn queue_fin(&mut self) {
        if self.fin_seq.is_none() {
            self.fin_seq = Some(self.buf_seq + self.buf.len() as u32);
        }
    }

    /// Everything queued so far is urgent data: SND.UP moves to just past
    /// the last queued byte. It never recedes: the queue only grows.
    pub fn mark_urgent(&mut self) {
        self.up = self.data_end();
    }

    /// SND.UP, while urgent data is unacknowledged.
    pub fn urgent_pointer(&self) -> Option<SeqNum> {
        self.up.after(self.una).then_some(self.up)
    }

    /// The urgent field of a segment starting at `seq`, if it carries URG
    /// (call it once the segment is accounted for in SND.NXT). RFC 9293
    /// §3.8.5: the urgent field is carried in all segments sent, URG saying
    /// it is meaningful, while urgent data is outstanding: here, every
    /// segment SND.UP is ahead of, retransmissions and pure ACKs included;
    /// the field is an offset from SEG.SEQ (§3.1).
    ///
    /// An offset over 65535 does not fit. Then the field says 65535, as
    /// Linux does (BSD truncates it to 16 bits): the receiver learns that
    /// urgent data is coming, and later segments carry the exact pointer.
    /// Only while that point lies beyond everything already sent, also as
    /// Linux does: a receiver that takes the byte before the pointer out
    /// of the stream (the sockets' out-of-band byte) must not be pointed at
    /// a byte it may already hold; the segment that sends that byte carries
    /// a pointer at least as far. A retransmission far behind goes without.
    pub fn urgent_field(&self, seq: SeqNum) -> Option<u16> {
        let up = self.urgent_pointer().filter(|up| up.after(seq))?;
        match u16::try_from(up.since(seq)) {
            Ok(offset) => Some(offset),
            Err(_) => (seq + u32::from(u16::MAX))
                .after(self.nxt)
                .then_some(u16::MAX),
        }
    }

    pub fn fin_queued(&self) -> bool {
        self.fin_seq.is_some()
    }

    pub fn fin_seq(&self) -> Option<SeqNum> {
        self.fin_seq
    }

    /// Our FIN has been sent.
    pub fn fin_sent(&self) -> bool {
        self.fin_seq.is_some_and(|f| self.nxt.after(f))
    }

    /// Our FIN has been acknowledged.
    pub fn fin_acked(&self) -> bool {
        self.fin_seq.is_some_and(|f| self.una.after(f))
    }

    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    pub fn free(&self) -> usize {
        self.buf.free()
    }

    /// Sets the send buffer to `size` bytes (never below the bytes queued),
    /// like SO_SNDBUF; returns the size in effect.
    pub fn set_buffer(&mut self, size: usize) -> usize {
        let keep = self.buf.len();
        self.buf.resize(size, keep);
        self.buf.capacity()
    }

    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    pub fn allocated(&self) -> usize {
        self.buf.allocated()
    }

    /// Takes over the memory of a finished sender: its send ring, if this
    /// sender has allocated none yet and the capacity is the same
    /// (emptied: only its storage is kept), and the storage of its
    /// retransmission record. `old` is left without them.
    pub(crate) fn reuse_memory(&mut self, old: &mut Sender) {
        if self.buf.allocated() == 0
            && self.buf.is_empty()
            && old.buf.allocated() > 0
            && old.buf.capacity() == self.buf.capacity()
        {
            std::mem::swap(&mut self.buf, &mut old.buf);
            self.buf.consume(self.buf.len());
        }
        self.record.reuse_memory(&mut old.record);
    }

    /// Queued bytes not yet sent.
    /// The sequence number just past the last byte the application queued.
    pub fn data_end(&self) -> SeqNum {
        self.buf_seq + self.buf.len() as u32
    }

    pub fn unsent(&self) -> u32 {
        let end = self.buf_seq + self.buf.len() as u32;
        if end.after(self.nxt) {
            end.since(self.nxt)
        } else {
            0
        }
    }

    /// The payload of a planned segment, in up to two slices.
    pub fn payload(&self, seq: SeqNum, len: u32) -> (&[u8], &[u8]) {
        let off = seq.since(self.buf_seq) as usize;
        self.buf.slices_at(off, len as usize)
    }

    /// RFC 6675 `pipe`, less what duplicate ACKs said left without SACK.
    pub fn pipe(&self) -> u32 {
        self.record.pipe().saturating_sub(self.recovery.reno_sacked)
    }

    /// Data outstanding: SND.NXT − SND.UNA, without a SYN.
    pub fn flight(&self) -> u32 {
        self.record.outstanding()
    }

    // ---- handshake ------------------------------------------------------

    /// Both SYNs are through: settle what the handshake negotiated.
    /// `payload_mss` is the typical payload per segment (MSS less the
    /// options every segment carries).
    pub fn on_established(&mut self, config: &Config, payload_mss: u16, syn_retransmitted: bool) {
        self.cc = Congestion::new(
            config.congestion,
            u32::from(payload_mss),
            config.initial_window,
            config.hystart,
        );
        if syn_retransmitted {
            // RFC 5681 §3.1: a lost SYN or SYN-ACK leaves one segment of IW;
            // RFC 6298 §5.7: and an RTO of at least 3 s.
            self.cc.set_loss_window();
            self.rtt.handshake_timed_out();
        }
        self.rtt.reset_backoff();
        self.retries = 0;
        self.round_end = self.nxt;
        self.recovery.point = self.nxt;
        self.buf_seq = self.una;
    }

    /// The path MTU fell: segments in flight bigger than `max_payload`
    /// are lost (the network dropped them); they go again in smaller pieces.
    pub fn lower_mss(&mut self, max_payload: u32) {
        for i in 0..self.record.len() {
            let big = self
                .record
                .get(i)
                .is_some_and(|s| s.payload_len() > max_payload && !s.sacked());
            if big {
                self.record.mark_lost(i);
            }
        }
        self.cc.set_mss(max_payload);
    }

    // ---- acknowledgments --------------------------------------------------

    /// RFC 9293 §3.10.7.4 fifth step for an ACK that passed the checks
    /// (SND.UNA − MAX.SND.WND =< SEG.ACK =< SND.NXT): take what it
    /// acknowledges and SACKs, measure, detect losses, move the window.
    ///
    /// The test for the common case of a connection that only receives is
    /// inlined into the caller; the general path is a function of its own.
    #[inline]
    pub fn on_ack(&mut self, now: Instant, a: &AckInput<'_>, timers: &mut Timers) -> AckOutcome {
        if self.nothing_to_do(a, timers) {
            // What the general path below comes to in this case.
            self.probes = 0;
            self.persist_backoff = 0;
            self.update_window(a);
            timers.clear(TimerKind::Rto);
            timers.clear(TimerKind::Tlp);
            timers.clear(TimerKind::Reorder);
            return AckOutcome::default();
        }
        self.on_ack_general(now, a, timers)
    }

    #[inline(never)]
    fn on_ack_general(
        &mut self,
        now: Instant,
        a: &AckInput<'_>,
        timers: &mut Timers,
    ) -> AckOutcome {
        let mut out = AckOutcome::default();
        let prior_una = self.una;
        let prior_wnd = self.wnd;
        let prior_phase = self.recovery.phase;
        let mss = self.cc.mss();
        // Any acceptable ACK shows the peer is alive (persist limit).
        self.probes = 0;

        let mut delivered = Delivered::default();
        if a.ack.after(self.una) {
            delivered = self.record.ack(a.ack);
            let data_end = self.buf_seq + self.buf.len() as u32;
            let acked = if a.ack.after(self.buf_seq) {
                a.ack.min(data_end).since(self.buf_seq) as usize
            } else {
                0
            };
            self.buf.consume(acked);
            self.buf_seq += acked as u32;
            self.una = a.ack;
            // Once the urgent data is acknowledged, SND.UP moves along.
            self.up = self.up.max(self.una);
            out.advanced = true;
            out.fin_acked = self.fin_acked();
            if acked > 0 && self.want_writable {
                self.want_writable = false;
                out.writable = true;
            }
        }

        // RFC 2018 SACK blocks; a first block below SND.UNA or inside the
        // second is a D-SACK (RFC 2883 §4): a duplicate arrived.
        if self.sack_ok {
            for (k, b) in a.sack.iter().enumerate() {
                let (l, r) = (SeqNum(b.left), SeqNum(b.right));
                if !l.before(r) {
                    continue;
                }
                let inside_second = a
                    .sack
                    .get(1)
                    .is_some_and(|s| SeqNum(s.left).before_eq(l) && r.before_eq(SeqNum(s.right)));
                if k == 0 && (r.before_eq(a.ack) || inside_second) {
                    bump(&mut self.stats.dsacks_received);
                    self.recovery.rack.on_dsack(self.una, self.nxt);
                    if self.recovery.tlp.end_seq.is_some() && self.recovery.tlp.is_retrans {
                        // RFC 8985 §7.4.1: the probe was a duplicate; no loss.
                        self.recovery.tlp.end_seq = None;
                    }
                    continue;
                }
                // A block beyond what we sent is bogus (RFC 5961 spirit).
                if r.after(self.nxt) || r.before_eq(self.una) {
                    continue;
                }
                let d = self.record.sack(l, r);
                merge(&mut delivered, &d);
            }
        }

        if out.advanced {
            // RFC 6298 with Karn's rule: time only a segment sent once; with
            // timestamps (RFC 7323 §4) the echo times any segment.
            let sample = match delivered.newest {
                Some(n) if n.xmits == 1 => Some(now.saturating_since(n.xmit_at)),
                _ => a
                    .tsecr
                    .filter(|&e| e != 0 && a.ts_now.wrapping_sub(e) < (1 << 30))
                    .map(|e| Duration::from_millis(u64::from(a.ts_now.wrapping_sub(e)))),
            };
            if let Some(s) = sample {
                self.rtt.sample(s);
            }
            self.rtt.reset_backoff();
            self.retries = 0;
        }
        if let Some(n) = delivered.newest {
            self.recovery.rack.on_delivered(now, &n, self.rtt.min_rtt());
        }

        // RFC 5681 §2: a duplicate ACK. Not while the window is zero: the
        // answers to zero-window probes repeat themselves by design.
        let dupack = !out.advanced
            && a.ack == prior_una
            && a.pure
            && !self.record.is_empty()
            && a.window == prior_wnd
            && prior_wnd > 0;
        if out.advanced {
            self.recovery.dupacks = 0;
            self.recovery.reno_sacked = self.recovery.reno_sacked.saturating_sub(delivered.bytes);
        } else if dupack {
            self.recovery.dupacks += 1;
            if !self.sack_ok {
                // Each duplicate stands for one segment that left the network.
                let cap = self.record.outstanding().saturating_sub(mss);
                self.recovery.reno_sacked = (self.recovery.reno_sacked + mss).min(cap);
            }
        }

        // RFC 9293 §3.10.7.4: update the window if SND.UNA =< SEG.ACK and
        // the segment is newer than the one that last did (WL1/WL2).
        if a.ack.after_eq(prior_una) {
            self.update_window(a);
        }
        self.after_window_change(now, timers);

        // The end of a recovery episode (RFC 6582 §3.2 step 3, RFC 6675).
        if self.recovery.phase != Phase::Open && self.una.after_eq(self.recovery.point) {
            if self.recovery.phase == Phase::Recovery {
                self.cc.on_recovery_end();
            }
            self.recovery.phase = Phase::Open;
            self.recovery.reno_sacked = 0;
            self.recovery.rack.on_recovery_end();
            self.notes.push((now, RecoveryEvent::Done));
        }

        // RFC 8985 §7.4: was the tail loss probe a repair?
        if let Some(end) = self.recovery.tlp.end_seq {
            if self.una.after_eq(end) {
                if self.recovery.tlp.is_retrans && self.recovery.phase == Phase::Open {
                    self.cc.on_congestion_event(now, self.record.outstanding());
                    self.cc.on_recovery_end();
                    self.notes.push((now, RecoveryEvent::TlpRecovered));
                }
                self.recovery.tlp.end_seq = None;
            }
        }

        // A NewReno partial ACK: the next hole is lost too (RFC 6582 §3.2 step 4).
        if !self.sack_ok
            && out.advanced
            && self.recovery.phase == Phase::Recovery
            && self.una.before(self.recovery.point)
        {
            if let Some(first) = self.record.first() {
                if !first.lost() {
                    self.record.mark_lost(0);
                }
            }
        }

        let trigger = self.detect_losses(now, dupack, timers);
        let mut entered = false;
        if let Some(trigger) = trigger {
            if self.recovery.phase == Phase::Open {
                self.enter_recovery(now, trigger);
                entered = true;
            }
        }

        // Growth, or Proportional Rate Reduction during fast recovery.
        let mut delivered_bytes = delivered.bytes;
        // Without SACK a duplicate ACK stands for one segment that left the
        // network: PRR counts it (RFC 6937's DeliveredData) in recovery.
        // Outside it cwnd must not grow on it (RFC 5681 §3.1; RFC 3042).
        if dupack && !self.sack_ok && self.recovery.phase == Phase::Recovery {
            delivered_bytes += mss;
        }
        let round_end = out.advanced && self.una.after_eq(self.round_end);
        if self.recovery.phase == Phase::Recovery {
            let pipe = self.pipe();
            let ssthresh = self.cc.ssthresh();
            let mut sndcnt = self
                .recovery
                .prr
                .sndcnt(delivered_bytes, pipe, ssthresh, mss);
            if entered {
                // The fast retransmit itself always goes (RFC 6937 §3.1).
                sndcnt = sndcnt.max(mss);
            }
            self.recovery.prr_allow = sndcnt;
        } else if delivered_bytes > 0 && prior_phase != Phase::Recovery {
            let cwnd_limited =
                self.cwnd_blocked || self.max_pipe.saturating_mul(2) >= self.cc.cwnd();
            self.cc.on_ack(&AckSample {
                now,
                acked: delivered_bytes,
                rtt: if out.advanced {
                    self.rtt.latest()
                } else {
                    None
                },
                srtt: self.rtt.srtt_or_rto(),
                round_end,
                cwnd_limited,
            });
        }
        if round_end {
            self.round_end = self.nxt;
            self.max_pipe = self.pipe();
            self.cwnd_blocked = false;
        }

        // RFC 6298 §5.2-5.3: stop the timer when all is acknowledged,
        // restart it when new data is.
        if self.record.is_empty() {
            timers.clear(TimerKind::Rto);
            timers.clear(TimerKind::Tlp);
            timers.clear(TimerKind::Reorder);
        } else if out.advanced && !timers.is_armed(TimerKind::Persist) {
            timers.set(TimerKind::Rto, now + self.rtt.rto());
        }
        self.schedule_tlp(now, timers);
        out
    }

    /// The ACK of a connection that only receives, on every segment it
    /// gets: nothing in flight, nothing newly acknowledged, no SACK blocks,
    /// the same open window, no recovery, probe or tail-loss probe under
    /// way. Of the general path only the window bookkeeping then changes
    /// anything, so it is skipped.
    fn nothing_to_do(&self, a: &AckInput<'_>, timers: &Timers) -> bool {
        self.record.is_empty()
            && a.ack == self.una
            && a.sack.is_empty()
            && a.window == self.wnd
            && self.wnd > 0
            && self.recovery.phase == Phase::Open
            && self.recovery.tlp.end_seq.is_none()
            && !timers.is_armed(TimerKind::Persist)
    }

    /// RFC 9293 §3.10.7.4: for an ACK at or above SND.UNA, take the window
    /// if the segment is newer than the one that last set it (WL1/WL2).
    fn update_window(&mut self, a: &AckInput<'_>) {
        if self.wl1.before(a.seq) || (self.wl1 == a.seq && self.wl2.before_eq(a.ack)) {
            self.wnd = a.window;
            self.max_wnd = self.max_wnd.max(a.window);
            self.wl1 = a.seq;
            self.wl2 = a.ack;
        }
    }

    /// RFC 5681 / RFC 6675 / RFC 8985 loss detection after an ACK. Marks
    /// segments lost; returns what should start recovery, if anything.
    fn detect_losses(
        &mut self,
        now: Instant,
        dupack: bool,
        timers: &mut Timers,
    ) -> Option<RecoveryEvent> {
        let mss = self.cc.mss();
        let mut trigger = None;
        let first_unmarked = self
            .record
            .first()
            .is_some_and(|s| !s.sacked() && !s.lost());
        if !self.sack_ok {
            // RFC 5681 §3.2: the third duplicate ACK.
            if dupack
                && self.recovery.dupacks == DUP_THRESH
                && self.recovery.phase == Phase::Open
                && first_unmarked
            {
                self.record.mark_lost(0);
                trigger = Some(RecoveryEvent::FastRetransmit {
                    dupacks: self.recovery.dupacks,
                });
            }
            return trigger;
        }
        // RFC 6675 §4 IsLost(SND.UNA): more than DupThresh−1 segments'
        // worth SACKed above the first hole (or DupThresh duplicates).
        let sacked_enough = self.record.sacked_bytes() > (DUP_THRESH - 1) * mss;
        if (sacked_enough || self.recovery.dupacks >= DUP_THRESH) && first_unmarked {
            self.record.mark_lost(0);
            trigger = Some(if self.recovery.dupacks >= DUP_THRESH {
                RecoveryEvent::FastRetransmit {
                    dupacks: self.recovery.dupacks,
                }
            } else {
                RecoveryEvent::SackLoss
            });
        }
        if self.rack_on {
            let evident = self.recovery.phase != Phase::Open || sacked_enough;
            let srtt = self.rtt.srtt_or_rto();
            let reo = self
                .recovery
                .rack
                .reo_wnd(evident, self.rtt.min_rtt(), srtt);
            let (marked, due) = self.recovery.rack.detect_loss(now, reo, &mut self.record);
            if marked > 0 && trigger.is_none() {
                trigger = Some(RecoveryEvent::RackLoss);
            }
            match due {
                Some(t) => timers.set(TimerKind::Reorder, t),
                None => timers.clear(TimerKind::Reorder),
            }
        }
        trigger
    }

    fn enter_recovery(&mut self, now: Instant, trigger: RecoveryEvent) {
        let flight = self.record.outstanding();
        self.recovery.phase = Phase::Recovery;
        self.recovery.point = self.nxt;
        self.recovery.prr = Prr::start(flight);
        self.recovery.tlp.end_seq = None;
        self.cc.on_congestion_event(now, flight);
        bump(&mut self.stats.fast_recoveries);
        self.notes.push((now, trigger));
    }

    /// The reorder timer fired (RFC 8985 §6.3): some segments' reordering
    /// window ran out.
    pub fn on_reorder_timeout(&mut self, now: Instant, timers: &mut Timers) {
        if !self.sack_ok || self.record.is_empty() {
            return;
        }
        if let Some(trigger) = self.detect_losses(now, false, timers) {
            if self.recovery.phase == Phase::Open {
                self.enter_recovery(now, trigger);
                self.recovery.prr_allow = self.cc.mss();
            }
        }
        if self.recovery.phase == Phase::Recovery {
            self.recovery.prr_allow = self.recovery.prr_allow.max(self.cc.mss());
        }
    }

    /// Called whenever SND.WND may have changed: start or stop probing.
    fn after_window_change(&mut self, now: Instant, timers: &mut Timers) {
        if self.wnd > 0 {
            self.persist_backoff = 0;
        }
        if self.wnd > 0 && timers.is_armed(TimerKind::Persist) {
            // RFC 9293 §3.8.6.1: the window opened; probing ends. A probe
            // byte the peer did not take is simply lost.
            timers.clear(TimerKind::Persist);
            self.probe = None;
            if self.record.unsend_probe() {
                // Nobody took the probe byte: it goes out again with the
                // data after it, in a full segment.
                self.nxt = self.nxt - 1;
            } else if let Some(first) = self.record.first() {
                if !first.sacked() && !first.lost() {
                    self.record.mark_lost(0);
                }
                timers.set(TimerKind::Rto, now + self.rtt.rto());
            }
        }
    }

    // ---- timers -----------------------------------------------------------

    /// RFC 6298 §5.4-5.7: the retransmission timer expired.
    pub fn on_rto(&mut self, now: Instant, timers: &mut Timers) -> TimeoutVerdict {
        if self.record.is_empty() {
            return TimeoutVerdict::Idle;
        }
        bump(&mut self.stats.rto_expirations);
        if self.retries >= self.max_retries {
            return TimeoutVerdict::GiveUp;
        }
        self.retries += 1;
        // RFC 5681 §3.1: ssthresh falls on the first timeout of an episode
        // only; after that cwnd stays at the loss window.
        if self.recovery.phase == Phase::Loss && self.retries > 1 {
            self.cc.set_loss_window();
        } else {
            self.cc.on_rto(now, self.record.outstanding());
        }
        self.rtt.back_off();
        // RFC 6675 §5.1: everything not SACKed is lost and resent in order.
        self.record.mark_all_lost();
        self.recovery.phase = Phase::Loss;
        self.recovery.point = self.nxt;
        self.recovery.dupacks = 0;
        self.recovery.reno_sacked = 0;
        self.recovery.tlp.end_seq = None;
        self.recovery.rack.reset_after_rto();
        self.probe = None;
        timers.clear(TimerKind::Tlp);
        timers.clear(TimerKind::Reorder);
        // RFC 6298 §5.5-5.6: the timer restarts with the doubled RTO.
        timers.set(TimerKind::Rto, now + self.rtt.rto());
        self.notes.push((
            now,
            RecoveryEvent::Timeout {
                backoff: self.rtt.backoffs(),
            },
        ));
        TimeoutVerdict::Retransmit
    }

    /// RFC 8985 §7.3: the probe timeout fired. The RTO restarts from the
    /// probe (it may have been due at this very instant).
    pub fn on_tlp_timeout(&mut self, now: Instant, timers: &mut Timers) {
        if self.recovery.phase == Phase::Open
            && !self.record.is_empty()
            && self.recovery.tlp.end_seq.is_none()
        {
            self.probe = Some(Probe::Tail);
            timers.set(TimerKind::Rto, now + self.rtt.rto());
        }
    }

    /// RFC 9293 §3.8.6.1: the persist timer fired. Returns false when the
    /// probe limit is reached and the connection must fail.
    pub fn on_persist_timeout(&mut self, now: Instant, timers: &mut Timers) -> bool {
        if self.probes >= self.max_retries {
            return false;
        }
        self.probe = Some(Probe::Window);
        // Each probe doubles the wait for the next, answered or not (as
        // Linux does); only an open window resets it.
        self.persist_backoff = self.persist_backoff.saturating_add(1);
        timers.set(TimerKind::Persist, now + self.persist_wait());
        timers.clear(TimerKind::Rto);
        true
    }

    fn persist_wait(&self) -> Duration {
        let shift = self.persist_backoff.min(16);
        self.rtt
            .rto()
            .saturating_mul(1 << shift)
            .min(self.rtt.max_rto())
    }

    /// RFC 8985 §7.2: (re)arm the probe timeout when a tail loss could go
    /// unnoticed: data in flight, no recovery, nothing SACKed.
    fn schedule_tlp(&mut self, now: Instant, timers: &mut Timers) {
        let eligible = self.rack_on
            && self.sack_ok
            && self.recovery.phase == Phase::Open
            && !self.record.is_empty()
            && self.record.sacked_bytes() == 0
            && self.recovery.tlp.end_seq.is_none()
            && !timers.is_armed(TimerKind::Persist);
        if !eligible {
            timers.clear(TimerKind::Tlp);
            return;
        }
        let pto = rack::pto_micros(self.rtt.srtt_micros(), self.record.len());
        let mut at = Instant::from_micros(now.as_micros().saturating_add(pto));
        if let Some(rto) = timers.get(TimerKind::Rto) {
            at = at.min(rto);
        }
        timers.set(TimerKind::Tlp, at);
    }

    fn arm_persist(&mut self, now: Instant, timers: &mut Timers) {
        if timers.is_armed(TimerKind::Persist) {
            return;
        }
        timers.set(TimerKind::Persist, now + self.persist_wait());
        timers.clear(TimerKind::Rto);
        timers.clear(TimerKind::Tlp);
    }

    // ---- sending ----------------------------------------------------------

    /// The next segment to send, if any. `max_payload` is the room for
    /// payload once this segment's options are in; `can_fin` says whether
    /// the state allows our FIN to go.
    #[inline]
    pub fn next_segment(
        &mut self,
        now: Instant,
        max_payload: u32,
        can_fin: bool,
        timers: &mut Timers,
    ) -> Option<Plan> {
        let max_payload = max_payload.max(1);
        match self.probe.take() {
            Some(Probe::Window) => {
                if let Some(plan) = self.window_probe(now, max_payload, can_fin, timers) {
                    return Some(plan);
                }
            }
            Some(Probe::Tail) => {
                if let Some(plan) = self.tail_probe(now, max_payload, can_fin, timers) {
                    return Some(plan);
                }
            }
            None => {}
        }
        // RFC 6675 §5 NextSeg: lost segments go before new data.
        if let Some(i) = self.record.next_lost() {
            let s = *self.record.get(i)?;
            let len = s.len.min(max_payload + u32::from(s.fin()));
            let cwnd = self.allowed_cwnd();
            let pipe = self.pipe();
            if pipe.saturating_add(len) > cwnd && pipe > 0 {
                self.cwnd_blocked = true;
                return None;
            }
            return Some(self.resend(i, max_payload, SendKind::Retransmit, now, timers));
        }
        self.new_data(now, max_payload, can_fin, false, timers)
    }

    /// cwnd, or during fast recovery what PRR allows on top of the pipe.
    fn allowed_cwnd(&self) -> u32 {
        if self.recovery.phase == Phase::Recovery {
            self.pipe().saturating_add(self.recovery.prr_allow)
        } else {
            self.cc.cwnd()
        }
    }

    /// Retransmits record entry `i` (at most `max_payload` bytes of it).
    fn resend(
        &mut self,
        i: usize,
        max_payload: u32,
        kind: SendKind,
        now: Instant,
        timers: &mut Timers,
    ) -> Plan {
        let s = self.record.retransmit(i, max_payload, now);
        // A FIN-only tail split off by `max_payload` keeps the FIN.
        let fin = s.fin();
        let len = s.payload_len();
        bump(&mut self.stats.retransmits);
        self.stats.bytes_retransmitted += u64::from(len);
        self.spent(s.len, now);
        if !timers.is_armed(TimerKind::Rto) && !timers.is_armed(TimerKind::Persist) {
            timers.set(TimerKind::Rto, now + self.rtt.rto());
        }
        Plan {
            seq: s.start,
            len,
            fin,
            kind,
        }
    }

    /// Bookkeeping for `bytes` of sequence space put on the wire.
    fn spent(&mut self, bytes: u32, now: Instant) {
        if self.recovery.phase == Phase::Recovery {
            self.recovery.prr.out = self.recovery.prr.out.saturating_add(bytes);
            self.recovery.prr_allow = self.recovery.prr_allow.saturating_sub(bytes);
        }
        self.max_pipe = self.max_pipe.max(self.pipe());
        self.last_send = now.as_micros();
    }

    /// New data (and the FIN), within both windows, by Nagle's and the
    /// sender's SWS rules. `probe` ignores cwnd and the small-segment rules.
    #[inline]
    fn new_data(
        &mut self,
        now: Instant,
        max_payload: u32,
        can_fin: bool,
        probe: bool,
        timers: &mut Timers,
    ) -> Option<Plan> {
        let unsent = self.unsent();
        let fin_unsent = can_fin && self.fin_queued() && !self.fin_sent();
        if unsent == 0 && !fin_unsent {
            return None;
        }
        // What a bulk transfer asks for nearly every time: a full segment
        // of new data, with data in flight (so no restart after idle) and
        // room for it in both windows. Every rule below comes to the same
        // plan then (nothing cut short: neither SWS avoidance nor Nagle
        // holds it back), so they are not walked through.
        if !probe && unsent >= max_payload && !self.record.is_empty() {
            let edge = self.una + self.wnd;
            let rwnd_room = if edge.after(self.nxt) {
                edge.since(self.nxt)
            } else {
                0
            };
            let cwnd_room = self.allowed_cwnd().saturating_sub(self.pipe());
            if rwnd_room >= max_payload && cwnd_room >= max_payload {
                let fin = fin_unsent && max_payload == unsent;
                return Some(self.take_new(now, max_payload, fin, false, timers));
            }
        }
        // RFC 5681 §4.1: after an idle period longer than an RTO, cwnd
        // restarts from the initial window.
        if self.record.is_empty() && self.last_send != u64::MAX {
            let last = Instant::from_micros(self.last_send);
            if now.saturating_since(last) > self.rtt.rto() {
                self.cc.on_idle_restart();
            }
        }
        let edge = self.una + self.wnd;
        let rwnd_room = if edge.after(self.nxt) {
            edge.since(self.nxt)
        } else {
            0
        };
        let cwnd_room = self.allowed_cwnd().saturating_sub(self.pipe());
        let mut len = unsent.min(max_payload);
        if !(probe && rwnd_room == 0) {
            // A zero-window probe is the one byte allowed past the edge.
            len = len.min(rwnd_room);
        }
        if !probe {
            if cwnd_room < len || (len == 0 && cwnd_room == 0 && fin_unsent) {
                self.cwnd_blocked = true;
            }
            len = len.min(cwnd_room);
        }
        let fin = fin_unsent && len == unsent;
        if len == 0 && !fin {
            if self.record.is_empty() && unsent > 0 {
                // Window-limited with nothing in flight: only the persist
                // timer will find out when it opens.
                self.arm_persist(now, timers);
            }
            return None;
        }
        if fin && len == 0 && !probe && cwnd_room == 0 && self.pipe() > 0 {
            return None;
        }
        if len < max_payload && len < unsent && !probe {
            // RFC 9293 §3.8.6.2.1 (sender SWS avoidance): a segment the
            // window cut short waits, unless it is at least half the
            // largest window the peer ever offered.
            let half_window = self.max_wnd / 2;
            if !(len >= half_window && half_window > 0 && len == rwnd_room) {
                if self.record.is_empty() {
                    self.arm_persist(now, timers);
                }
                return None;
            }
        } else if len < max_payload && !probe && !fin {
            // Nagle (RFC 9293 §3.7.4): a small segment that empties the
            // queue waits while earlier data is unacknowledged, unless
            // TCP_NODELAY is set or the application has closed (the FIN
            // flushes everything). Urgent data not yet sent does not wait
            // either (as in Linux's tcp_nagle_test): urgency is its point.
            let urgent = self.up.after(self.nxt);
            if !self.nodelay && !self.fin_queued() && !urgent && !self.record.is_empty() {
                return None;
            }
        }
        Some(self.take_new(now, len, fin, probe, timers))
    }

    /// Puts `len` new bytes (and the FIN) in flight: the record, SND.NXT,
    /// the timers.
    fn take_new(
        &mut self,
        now: Instant,
        len: u32,
        fin: bool,
        probe: bool,
        timers: &mut Timers,
    ) -> Plan {
        let seq = self.nxt;
        let space = len + u32::from(fin);
        self.record.push(seq, space, fin, now);
        self.nxt += space;
        self.stats.bytes_sent += u64::from(len);
        self.spent(space, now);
        if !timers.is_armed(TimerKind::Persist) {
            if !timers.is_armed(TimerKind::Rto) {
                timers.set(TimerKind::Rto, now + self.rtt.rto());
            }
            if !probe {
                self.schedule_tlp(now, timers);
            }
        }
        Plan {
            seq,
            len,
            fin,
            kind: if probe {
                SendKind::WindowProbe
            } else {
                SendKind::New
            },
        }
    }

    /// RFC 9293 §3.8.6.1: one probe into a window that is zero (or too
    /// small for the SWS rules): the first unacknowledged byte again, or one
    /// new byte, or whatever the window allows.
    fn window_probe(
        &mut self,
        now: Instant,
        max_payload: u32,
        can_fin: bool,
        timers: &mut Timers,
    ) -> Option<Plan> {
        self.probes += 1;
        if self.wnd == 0 {
            bump(&mut self.stats.zero_window_probes);
        }
        let plan = if !self.record.is_empty() {
            Some(self.resend(0, 1, SendKind::WindowProbe, now, timers))
        } else {
            let room = if self.wnd > 0 {
                max_payload.min(self.wnd)
            } else {
                1
            };
            self.new_data(now, room, can_fin, true, timers)
        };
        // The persist timer (armed when it fired) guards the probe.
        timers.clear(TimerKind::Rto);
        if !timers.is_armed(TimerKind::Persist) {
            self.arm_persist(now, timers);
        }
        plan
    }

    /// RFC 8985 §7.3: new data if the receive window allows, otherwise the
    /// most recently sent segment again.
    fn tail_probe(
        &mut self,
        now: Instant,
        max_payload: u32,
        can_fin: bool,
        timers: &mut Timers,
    ) -> Option<Plan> {
        let edge = self.una + self.wnd;
        let rwnd_room = if edge.after(self.nxt) {
            edge.since(self.nxt)
        } else {
            0
        };
        let plan = if self.unsent() > 0 && rwnd_room > 0 {
            let mut p = self.new_data(now, max_payload.min(rwnd_room), can_fin, true, timers)?;
            self.recovery.tlp.is_retrans = false;
            p.kind = SendKind::TailLossProbe;
            p
        } else {
            let last = self.record.len().checked_sub(1)?;
            let s = *self.record.get(last)?;
            // Resend only the last `max_payload` bytes of it.
            let i = if s.payload_len() > max_payload {
                self.record
                    .split_tail(last, max_payload + u32::from(s.fin()))
            } else {
                last
            };
            self.recovery.tlp.is_retrans = true;
            self.resend(i, max_payload, SendKind::TailLossProbe, now, timers)
        };
        self.recovery.tlp.end_seq = Some(self.nxt);
        bump(&mut self.stats.tail_loss_probes);
        self.notes.push((now, RecoveryEvent::TailLossProbe));
        // §7.3: after the probe, the RTO guards the flight.
        timers.set(TimerKind::Rto, now + self.rtt.rto());
        Some(plan)
    }

    /// Checks what must hold between calls (tests and fuzzing). `closed`:
    /// the connection is CLOSED, and its record of what was in flight was
    /// flushed.
    pub fn check(&self, closed: bool) -> Result<(), &'static str> {
        self.record.check()?;
        if !self.una.before_eq(self.nxt) {
            return Err("snd_una after snd_nxt");
        }
        if closed {
            if !self.record.is_empty() {
                return Err("segments in flight after CLOSED");
            }
        } else if self.nxt.since(self.una) > self.record.outstanding() + 1 {
            return Err("snd_nxt − snd_una exceeds the record (beyond a SYN)");
        }
        if self.buf.len() > self.buf.capacity() {
            return Err("send buffer over capacity");
        }
        if let Some(f) = self.fin_seq {
            if f != self.buf_seq + self.buf.len() as u32 && !self.fin_acked() {
                return Err("FIN not right after the last queued byte");
            }
        }
        Ok(())
    }
}

fn merge(into: &mut Delivered, d: &Delivered) {
    into.bytes += d.bytes;
    into.payload += d.payload;
    into.fin |= d.fin;
    into.any_retransmitted |= d.any_retransmitted;
    if let Some(n) = d.newest {
        if into.newest.is_none_or(|o| n.sent_after(&o)) {
            into.newest = Some(n);
        }
    }
}

#[cfg(test)]
mod sender_mutant_tests {
    use super::*;

    /// RFC 9293 §3.8.6.1 with the RFC 6298 §5.5 backoff: each expiry of
    /// the persist timer doubles the wait, from one RTO up to the RTO's
    /// ceiling. Here, in the library's own tests (which run first), so that
    /// a wait of zero fails fast: through a connection it would re-arm the
    /// timer at `now` and keep one `handle_timeout` call spinning.
    #[test]
    fn persist_waits_double_from_one_rto_up_to_the_ceiling() {
        let config = Config {
            initial_rto: Duration::from_secs(1),
            max_rto: Duration::from_secs(60),
            ..Config::default()
        };
        let mut s = Sender::new(&config, SeqNum(1));
        let mut timers = Timers::default();
        let t0 = Instant::ZERO;
        assert_eq!(s.persist_wait(), Duration::from_secs(1));
        let mut waits = Vec::new();
        for _ in 0..20 {
            assert!(s.on_persist_timeout(t0, &mut timers));
            let at = timers.get(TimerKind::Persist).unwrap();
            waits.push(at.saturating_since(t0).as_secs());
        }
        let mut want = vec![2, 4, 8, 16, 32];
        want.resize(20, 60);
        assert_eq!(waits, want);
        assert!(!timers.is_armed(TimerKind::Rto));
    }
}
