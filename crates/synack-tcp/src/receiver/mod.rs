//! The receiver: everything about the data this side receives.
//!
//! It owns the receive sequence space (RFC 9293 §3.3.1), the receive ring,
//! the reassembly list, the ACK policy (delayed ACKs, ACKs owed, SACK
//! blocks) and what RFC 7323 keeps per connection on the receiving side
//! (TS.Recent for PAWS and the echo). The connection hands it the text and
//! FIN of acceptable segments ([`Receiver::on_text`]) and asks it for the
//! window to advertise ([`Receiver::window_field`]).
//!
//! The advertised window follows two rules at once:
//!
//! * receiver SWS avoidance (RFC 9293 §3.8.6.2.2, a MUST): the right edge
//!   moves only when it can move by min(half the buffer, one MSS);
//! * it never moves left (RFC 7323 §2.4): with a window scale the field is
//!   rounded *up* to the scale's unit. Rounding up moves the edge right by
//!   less than a unit each time a segment arrives while the edge is held,
//!   so the ring keeps spare room beyond the window offered: one unit per
//!   full-sized segment the window holds, plus one. Only a peer sending
//!   many segments much smaller than a unit to an application that does
//!   not read can use the spare up; then the window is rounded down (a
//!   retraction RFC 7323 §2.4 allows, counted), never beyond the buffer.

pub mod ack;
pub mod reassembly;

use crate::buffer::Ring;
use crate::config::{Config, ReceiverSws};
use crate::sender::bump;
use crate::seq::SeqNum;
use crate::time::{Duration, Instant};
use ack::{AckPolicy, AckTimer};
use reassembly::{Inserted, Reassembly};

/// RFC 7323 §5.5: TS.Recent older than 24 days is invalid.
const PAWS_IDLE: Duration = Duration::from_secs(24 * 24 * 3600);

/// Counters of the receiving side.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct RecvStats {
    /// Payload bytes delivered in order (each byte once).
    pub bytes_received: u64,
    /// Segments that arrived out of order.
    pub ooo_segments: u32,
    /// Out-of-order data dropped because the reassembly list was full.
    pub ooo_dropped: u32,
    /// Segments (or parts) that carried only data we already had.
    pub duplicate_segments: u32,
    /// Times rounding forced the right edge left (only when the
    /// application stops reading and the spare unit is used up).
    pub window_retractions: u32,
}

/// What `on_text` did with a segment's text and FIN.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct TextOutcome {
    /// Bytes that became readable.
    pub delivered: u32,
    /// The FIN is next in order: the connection must process it now.
    pub fin: bool,
    /// What to do with the delayed-ACK timer.
    pub timer: Option<AckTimer>,
}

/// The receiving half of a connection.
#[derive(Clone, Debug)]
pub struct Receiver {
    /// IRS: the peer's initial sequence number.
    pub irs: SeqNum,
    /// RCV.NXT: the next sequence number expected.
    pub nxt: SeqNum,
    /// Our window scale shift (Rcv.Wind.Shift), 0 if scaling is off.
    pub wscale: u8,
    /// The right edge of the window advertised, the farthest ever: data up
    /// to it is accepted (RFC 7323 §2.4 receiver rule 1).
    adv: SeqNum,
    /// The largest window we offer (the configured buffer size).
    offer: u32,
    /// Room the ring keeps beyond `offer` for rounding up (see the module
    /// documentation); fixed when the window scale is agreed.
    spare: u32,
    /// A full-sized segment from the peer, for SWS and delayed ACKs: our
    /// MSS less the peer's per-segment options, or the largest segment
    /// seen if that is smaller (the peer's own MSS may be).
    pub mss: u32,
    /// The largest payload seen in one segment.
    largest_seen: u32,
    buf: Ring,
    reasm: Reassembly,
    pub ack: AckPolicy,
    /// The SWS avoidance in use (`Config::receiver_sws`).
    sws: ReceiverSws,
    /// Where the peer's FIN sits, once seen beyond a gap.
    fin_at: Option<SeqNum>,
    /// The peer's FIN arrived in order.
    pub fin_received: bool,
    /// RFC 6093: the urgent pointer last received, absolute.
    pub up: Option<SeqNum>,
    /// RFC 7323 TS.Recent and when it was set.
    pub ts_recent: Option<u32>,
    ts_recent_at: Instant,
    /// RCV.NXT as of the last ACK sent (RFC 7323 Last.ACK.sent).
    pub last_ack_sent: SeqNum,
    /// New data arrived since the application last read.
    pub readable: bool,
    /// Bytes of the segment being checked that [`Receiver::stage`] wrote
    /// at RCV.NXT, ready to be stored without a second copy.
    staged: u32,
    pub stats: RecvStats,
}

/// The room a ring of a receive buffer of `offer` bytes holds beyond the
/// window when the window is scaled by `shift` (the window stays `offer`):
/// a unit of scaling for rounding the advertised edge up, and per segment
/// a unit of slack.
fn spare_bytes(offer: u32, mss: u32, shift: u8) -> u32 {
    if shift == 0 {
        return 0;
    }
    let unit = 1u64 << shift;
    let per_segments = u64::from(offer) * unit / u64::from(mss.max(1));
    (per_segments.min(u64::from(offer)) + unit) as u32
}

/// The window field of a SYN-ACK under `config`: the window a new
/// connection offers, the whole buffer (the ring keeps its rounding room
/// beyond it), never scaled in a SYN (RFC 7323 §2.2), so at most 65535.
/// The same field the engine's own SYN-ACK carries, so a connection made
/// from a listener's half-open record knows the edge it advertised.
pub fn syn_window(config: &Config) -> u16 {
    config.recv_buffer.min(0xffff) as u16
}

impl Receiver {
    pub fn new(config: &Config) -> Receiver {
        let offer = config.recv_buffer.min(1 << 30) as u32;
        Receiver {
            irs: SeqNum(0),
            nxt: SeqNum(0),
            wscale: 0,
            adv: SeqNum(0),
            offer,
            spare: 0,
            mss: u32::from(config.mss),
            largest_seen: 0,
            buf: Ring::new(offer as usize),
            reasm: Reassembly::new(config.max_ooo_ranges),
            ack: AckPolicy::from_config(config),
            sws: config.receiver_sws,
            fin_at: None,
            fin_received: false,
            up: None,
            ts_recent: None,
            ts_recent_at: Instant::ZERO,
            last_ack_sent: SeqNum(0),
            readable: false,
            staged: 0,
            stats: RecvStats::default(),
        }
    }

    /// The peer's SYN carried `irs`.
    pub fn start(&mut self, irs: SeqNum) {
        // The window our SYN offered (SYN-SENT) stays offered from the new
        // RCV.NXT: text on the SYN-ACK may use it (RFC 9293 §3.10.7.3,
        // SYN-SENT, sixth step onwards).
        let offered = if self.adv.after(self.nxt) {
            self.adv.since(self.nxt)
        } else {
            0
        };
        self.irs = irs;
        self.nxt = irs + 1;
        self.adv = self.nxt + offered;
        self.last_ack_sent = self.nxt;
    }

    /// Window scaling was agreed (or not): the ring gets its spare room.
    pub fn set_wscale(&mut self, shift: u8) {
        self.wscale = shift;
        self.spare = self.spare_for(shift);
        self.buf = Ring::new((self.offer + self.spare) as usize);
    }

    fn unit(&self) -> u32 {
        1 << self.wscale
    }

    /// Room the ring keeps beyond the window offered, for rounding up.
    fn spare(&self) -> u32 {
        self.spare
    }

    fn spare_for(&self, shift: u8) -> u32 {
        spare_bytes(self.offer, self.mss, shift)
    }

    /// RCV.WND for the acceptability test: up to the farthest edge we
    /// ever advertised.
    pub fn accept_window(&self) -> u32 {
        if self.adv.after(self.nxt) {
            self.adv.since(self.nxt)
        } else {
            0
        }
    }

    /// The window our buffer could offer now, before SWS and rounding.
    fn offerable(&self) -> u32 {
        (self.buf.free() as u32).saturating_sub(self.spare())
    }

    /// RFC 9293 §3.8.6.2.2: the window to offer under the SWS rule in use.
    /// It never falls below what is already offered.
    fn sws_window(&self) -> u32 {
        let cur = self.accept_window();
        let free = self.offerable();
        match self.sws {
            // Move the right edge only by a worthwhile step.
            ReceiverSws::RightEdge => {
                let step = (self.offer / 2).min(self.mss).max(1);
                if free >= cur.saturating_add(step) {
                    free
                } else {
                    cur
                }
            }
            // Offer what is free unless that is a sliver.
            ReceiverSws::SmallWindow => {
                let sliver = (self.offer / 4).min(self.mss);
                if free >= sliver {
                    free.max(cur)
                } else {
                    cur
                }
            }
        }
    }

    /// The window field for a segment other than a SYN, and the right edge
    /// it advertises remembered. Never moves the edge left unless the
    /// spare unit is used up (counted in `window_retractions`).
    pub fn window_field(&mut self) -> u16 {
        let wnd = self.sws_window();
        let unit = self.unit();
        let physical = self.buf.free() as u32;
        let up = wnd.div_ceil(unit).saturating_mul(unit);
        let wnd = if up <= physical {
            up
        } else {
            wnd / unit * unit
        };
        let field = (wnd >> self.wscale).min(0xffff);
        let edge = self.nxt + (field << self.wscale);
        if edge.after(self.adv) {
            self.adv = edge;
        } else if edge.before(self.adv) {
            bump(&mut self.stats.window_retractions);
        }
        self.last_ack_sent = self.nxt;
        field as u16
    }

    /// The window field our next segment would carry, without moving the
    /// advertised edge (for a TIME-WAIT table's ACKs).
    pub fn last_window_field(&self) -> u16 {
        (self.accept_window() >> self.wscale).min(0xffff) as u16
    }

    /// The window field of a SYN or SYN-ACK: never scaled (RFC 7323 §2.2).
    pub fn syn_window_field(&mut self) -> u16 {
        let field = self.offerable().min(0xffff);
        let edge = self.nxt + field;
        if edge.after(self.adv) {
            self.adv = edge;
        }
        self.last_ack_sent = self.nxt;
        field as u16
    }

    /// After the application read: is a window update worth a segment of
    /// its own? Only when the peer may be held back — the window
    /// advertised has fallen to half the buffer or less — and the new one
    /// is at least twice as large (and passes the SWS rule). Otherwise the
    /// next ACK carries the new window anyway.
    pub fn window_update_due(&self) -> bool {
        // Both counted in what the window field can carry: without window
        // scaling a buffer above 64 KiB cannot be offered whole, and an
        // update that cannot move the right edge is not worth a segment.
        let max = 0xffff_u32 << self.wscale;
        let cur = self.accept_window();
        let new = self.sws_window().min(max);
        cur.saturating_mul(2) <= self.offer.min(max) && new > cur && new >= cur.saturating_mul(2)
    }

    /// Takes over the storage of `old`'s ring, emptied (nothing of it is
    /// readable), when this receiver has none yet, holds nothing, and
    /// would have a ring of the same capacity. `old` is left without it.
    pub(crate) fn reuse_memory(&mut self, old: &mut Receiver) {
        if self.buf.allocated() == 0
            && self.buf.is_empty()
            && self.reasm.is_empty()
            && old.buf.allocated() > 0
            && old.buf.capacity() == self.buf.capacity()
        {
            std::mem::swap(&mut self.buf, &mut old.buf);
            self.buf.consume(self.buf.len());
            self.staged = 0;
        }
    }

    /// Before a segment's checksum is verified: writes its text into the
    /// ring's free space at RCV.NXT, summing it on the way, and returns the
    /// text's partial Internet checksum. The copy the text needs anyway is
    /// then also the checksum's pass over it. Nothing is stored: if the
    /// segment passes its checksum and the checks of RFC 9293 §3.10.7.4,
    /// [`on_text`](Receiver::on_text) stores the bytes in place; otherwise
    /// they lie in free space, to be overwritten.
    ///
    /// `None`, writing nothing, unless the text starts at RCV.NXT, fits in
    /// the ring, and no out-of-order data sits beyond the stored bytes
    /// (a segment that fails its checksum must not overwrite it).
    pub fn stage(&mut self, seq: SeqNum, payload: &[u8]) -> Option<u32> {
        self.staged = 0;
        if seq != self.nxt || payload.is_empty() || !self.reasm.is_empty() {
            return None;
        }
        let sum = self.buf.write_summed(payload)?;
        self.staged = payload.len() as u32;
        Some(sum)
    }

    /// Forgets what [`stage`](Receiver::stage) wrote (the segment was
    /// dropped, or its text was not stored).
    pub fn unstage(&mut self) {
        self.staged = 0;
    }

    /// Steps seven and eight (RFC 9293 §3.10.7.4) for the text and FIN of
    /// a segment that passed the checks. `seq` is the segment's sequence
    /// number *before* any trimming.
    pub fn on_text(&mut self, seq: SeqNum, payload: &[u8], fin: bool) -> TextOutcome {
        let staged = std::mem::take(&mut self.staged) as usize;
        let mut out = TextOutcome::default();
        let len = payload.len() as u32;
        let end = seq + len;
        self.largest_seen = self.largest_seen.max(len);
        // What we already have: report it (RFC 2883) and cut it off.
        let (mut seq, mut payload) = (seq, payload);
        let mut dsack_reported = false;
        if seq.before(self.nxt) {
            let dup = self.nxt.since(seq).min(len);
            if dup > 0 {
                bump(&mut self.stats.duplicate_segments);
                self.ack.report_dsack(seq, seq + dup);
                self.ack.owe_now();
                dsack_reported = true;
            }
            payload = &payload[dup as usize..];
            seq = self.nxt;
        }
        // What does not fit: beyond the advertised edge or the ring.
        let window = self.accept_window();
        let offset = seq.since(self.nxt);
        let room_wnd = window.saturating_sub(offset);
        let room_ring = (self.buf.free() as u32).saturating_sub(offset);
        let room = room_wnd.min(room_ring) as usize;
        let mut fin = fin;
        if payload.len() > room {
            payload = &payload[..room];
            fin = false;
        }
        if fin {
            self.fin_at = Some(seq + payload.len() as u32);
        }
        if !payload.is_empty() {
            // RFC 2883 §4: the first part of the segment that out-of-order
            // data already held is a duplicate to report, unless one below
            // RCV.NXT was (one D-SACK block per segment, the lowest part).
            let stop = seq + payload.len() as u32;
            if let (false, Some((a, b))) = (
                dsack_reported,
                self.reasm.first_overlap(self.nxt, seq, stop),
            ) {
                self.ack.report_dsack(a, b);
            }
            if seq == self.nxt {
                let had_gap = !self.reasm.is_empty();
                // Staged text starts at RCV.NXT too, so what is left of the
                // segment after trimming its tail is already in place.
                let n = if staged >= payload.len() && !had_gap {
                    self.buf.extend(payload.len());
                    payload.len() as u32
                } else {
                    self.buf.push(payload) as u32
                };
                self.nxt += n;
                out.delivered += n;
                let filled = self.deliver_reassembled();
                out.delivered += filled;
                if had_gap {
                    // RFC 5681 §4.2: data that fills a gap is ACKed at once,
                    // and the sender's window regrowing after the loss gets
                    // one ACK per segment for a while.
                    self.ack.owe_now();
                    self.ack.quick_ack(ack::QUICK_ACKS);
                    self.ack.on_sack_change(None, self.reasm.ranges());
                } else {
                    let full = self.mss.min(self.largest_seen.max(1));
                    out.timer = Some(self.ack.on_in_order(n, full));
                }
            } else {
                bump(&mut self.stats.ooo_segments);
                let start = seq;
                match self.reasm.insert(self.nxt, start, stop) {
                    // The range now holding the segment goes first among
                    // the SACK blocks (RFC 2018 §4), right after a D-SACK
                    // (RFC 2883 §4, its second block).
                    Inserted::Kept(a, b) => {
                        let at = self.buf.len() + offset as usize;
                        self.buf.write_at(at, payload);
                        self.ack.on_sack_change(Some((a, b)), self.reasm.ranges());
                    }
                    Inserted::Duplicate => {
                        bump(&mut self.stats.duplicate_segments);
                        let held = self.reasm.containing(start);
                        self.ack.on_sack_change(held, self.reasm.ranges());
                    }
                    Inserted::Dropped => bump(&mut self.stats.ooo_dropped),
                }
                // Every out-of-order segment is acknowledged on its own.
                self.ack.owe_one_more();
            }
        } else if seq.after(self.nxt) || (end.before(seq) && !dsack_reported) {
            // A bare FIN beyond a gap: acknowledge, the gap is news. An
            // empty segment from below RCV.NXT gets its ACK too; one that
            // only repeated data owes the single ACK its D-SACK rides on.
            self.ack.owe_one_more();
        }
        self.stats.bytes_received += u64::from(out.delivered);
        if out.delivered > 0 {
            self.readable = true;
        }
        if self.fin_at == Some(self.nxt) && !self.fin_received {
            out.fin = true;
        }
        out
    }

    /// Moves out-of-order ranges that the in-order data reached into the
    /// readable part of the ring; returns the bytes that became readable.
    fn deliver_reassembled(&mut self) -> u32 {
        let mut total = 0;
        while let Some(end) = self.reasm.pop_ready(self.nxt) {
            let extra = end.since(self.nxt);
            self.buf.extend(extra as usize);
            self.nxt = end;
            total += extra;
        }
        total
    }

    /// The peer's FIN is in order: it takes one sequence number and is
    /// acknowledged at once. Nothing can follow it.
    pub fn on_fin(&mut self) {
        self.nxt += 1;
        self.fin_received = true;
        self.fin_at = None;
        self.reasm.clear();
        self.ack.on_sack_change(None, &[]);
        self.ack.owe_now();
        self.readable = true;
    }

    /// RFC 9293 §3.10.7.4, sixth step: RCV.UP ← max(RCV.UP, SEG.UP), the
    /// later of the two in sequence space (`SeqNum::max` compares modulo
    /// 2^32). SEG.UP is SEG.SEQ plus the field: it points just past the
    /// urgent data (RFC 6093 §4), as `Sender::urgent_field` writes it.
    pub fn on_urgent(&mut self, seq: SeqNum, pointer: u16) {
        let up = seq + u32::from(pointer);
        self.up = Some(self.up.map_or(up, |old| old.max(up)));
    }

    /// RFC 7323 §5.3 R1 (PAWS): a timestamp older than TS.Recent marks an
    /// old duplicate, unless TS.Recent has been idle for 24 days.
    pub fn paws_rejects(&mut self, tsval: u32, now: Instant) -> bool {
        let Some(recent) = self.ts_recent else {
            return false;
        };
        if (tsval.wrapping_sub(recent) as i32) >= 0 {
            return false;
        }
        if now.saturating_since(self.ts_recent_at) > PAWS_IDLE {
            // §5.5: the peer's clock may have wrapped meanwhile.
            self.ts_recent = None;
            return false;
        }
        true
    }

    /// RFC 7323 §4.3 (2): remember TSval to echo if the segment covers
    /// Last.ACK.sent and its timestamp is not older.
    pub fn update_ts_recent(&mut self, tsval: u32, seq: SeqNum, now: Instant) {
        let newer = self
            .ts_recent
            .is_none_or(|r| (tsval.wrapping_sub(r) as i32) >= 0);
        if newer && seq.before_eq(self.last_ack_sent) {
            self.ts_recent = Some(tsval);
            self.ts_recent_at = now;
        }
    }

    /// The SYN's TSval: TS.Recent starts from it (§4.3 (1)).
    pub fn set_ts_recent(&mut self, tsval: u32, now: Instant) {
        self.ts_recent = Some(tsval);
        self.ts_recent_at = now;
    }

    /// Sets the buffer (the largest window offered) to `size` bytes, like
    /// SO_RCVBUF. It never falls below what is stored and what the window
    /// already promised (RFC 7323 §2.4: the right edge never moves left);
    /// returns the size in effect. The window scale agreed in the handshake
    /// stays: a larger buffer is offered up to 65535 << scale.
    pub fn set_buffer(&mut self, size: usize) -> usize {
        let promised = (self.buf.len() as u32).saturating_add(self.accept_window());
        self.offer = (size.min(1 << 30) as u32).max(promised).max(1);
        self.spare = self.spare_for(self.wscale);
        let keep = promised as usize;
        self.buf.resize((self.offer + self.spare) as usize, keep);
        self.offer as usize
    }

    /// The buffer size in effect (the largest window offered).
    pub fn buffer_size(&self) -> usize {
        self.offer as usize
    }

    /// Copies readable bytes into `out`; returns the count.
    pub fn read(&mut self, out: &mut [u8]) -> usize {
        let n = self.buf.pop_into(out);
        if self.buf.is_empty() {
            self.readable = false;
        }
        n
    }

    /// Readable bytes.
    pub fn queued(&self) -> usize {
        self.buf.len()
    }

    pub fn allocated(&self) -> usize {
        self.buf.allocated()
    }

    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    pub fn ooo_ranges(&self) -> &[(SeqNum, SeqNum)] {
        self.reasm.ranges()
    }

    pub fn evicted_ranges(&self) -> u32 {
        self.reasm.evicted
    }

    /// Checks what must hold between calls (tests and fuzzing).
    pub fn check(&self, max_ranges: usize) -> Result<(), &'static str> {
        if self.buf.len() > self.buf.capacity() {
            return Err("receive buffer over capacity");
        }
        if self.reasm.len() > max_ranges.max(1) {
            return Err("reassembly list over its bound");
        }
        if self.accept_window() as usize > self.buf.free() {
            return Err("advertised window beyond the free receive buffer");
        }
        for &(s, e) in self.reasm.ranges() {
            if !self.nxt.before(s) || !s.before(e) {
                return Err("reassembly range not after RCV.NXT");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rx(buffer: usize, shift: u8) -> Receiver {
        let cfg = Config {
            recv_buffer: buffer,
            mss: 1000,
            ..Config::default()
        };
        let mut r = Receiver::new(&cfg);
        r.start(SeqNum(999));
        r.set_wscale(shift);
        r
    }

    #[test]
    fn the_right_edge_never_moves_left_with_a_scaled_window() {
        // RFC 7323 §2.4: with shift 7 (128-byte units), segments that are
        // not multiples of 128 would round the edge left if rounded down.
        let mut r = rx(64 * 1024, 7);
        r.window_field();
        let mut edge = r.adv;
        let mut seq = r.nxt;
        let mut out = [0u8; 4096];
        for k in 0..2000u32 {
            let len = 500 + (k * 37) % 501;
            let data = vec![7u8; len as usize];
            r.on_text(seq, &data, false);
            seq = r.nxt;
            if k % 5 == 0 {
                r.read(&mut out[..(k as usize * 13) % 4096]);
            }
            let field = u32::from(r.window_field());
            let new_edge = r.nxt + (field << 7);
            assert!(!new_edge.before(edge), "edge moved left at segment {k}");
            edge = new_edge;
        }
        assert_eq!(r.stats.window_retractions, 0);
    }

    #[test]
    fn tiny_segments_to_a_stalled_reader_never_overrun_the_buffer() {
        // The adversarial case: 1-byte segments, nobody reads. The edge
        // may finally be rounded down, but never promises more than fits.
        let mut r = rx(16 * 1024, 7);
        r.window_field();
        for _ in 0..40_000 {
            let seq = r.nxt;
            r.on_text(seq, &[1], false);
            r.window_field();
            r.check(32).unwrap();
            if r.accept_window() == 0 {
                break;
            }
        }
        assert_eq!(r.accept_window(), 0, "the window closes");
        assert!(r.queued() <= r.capacity());
    }

    #[test]
    fn receiver_sws_keeps_the_edge_until_a_worthwhile_step() {
        // 4000-byte buffer, MSS 1000: the edge moves in steps of ≥ 1000.
        let mut r = rx(4000, 0);
        assert_eq!(r.window_field(), 4000);
        let seq = r.nxt;
        r.on_text(seq, &[1; 4000], false);
        assert_eq!(r.window_field(), 0);
        let mut out = [0u8; 999];
        r.read(&mut out);
        assert!(!r.window_update_due());
        assert_eq!(r.window_field(), 0, "999 bytes free: not worth announcing");
        r.read(&mut out[..1]);
        assert!(r.window_update_due());
        assert_eq!(r.window_field(), 1000);
    }

    #[test]
    fn out_of_order_then_fill_delivers_everything_once() {
        let mut r = rx(10_000, 0);
        r.window_field();
        let base = r.nxt;
        r.on_text(base + 100, &[2; 100], false);
        r.on_text(base + 300, &[4; 100], true);
        assert_eq!(r.ack.owed(), 2);
        let o = r.on_text(base, &[1; 100], false);
        assert_eq!(o.delivered, 200);
        assert!(!o.fin);
        let o = r.on_text(base + 200, &[3; 100], false);
        assert_eq!(o.delivered, 200);
        assert!(o.fin, "the FIN seen beyond the gap is now in order");
        let mut out = [0u8; 1000];
        assert_eq!(r.read(&mut out), 400);
        assert_eq!(out[..400].iter().map(|&b| u32::from(b)).sum::<u32>(), 1000);
    }

    #[test]
    fn a_duplicate_is_reported_as_dsack() {
        let mut r = rx(10_000, 0);
        r.window_field();
        let base = r.nxt;
        r.on_text(base, &[1; 100], false);
        r.ack.on_sent();
        r.on_text(base, &[1; 100], false);
        assert_eq!(r.ack.blocks().next(), Some((base, base + 100)));
        assert!(r.ack.due());
    }

    #[test]
    fn paws_rejects_old_timestamps_until_24_days_idle() {
        let mut r = rx(1000, 0);
        r.set_ts_recent(1000, Instant::ZERO);
        assert!(r.paws_rejects(999, Instant::from_millis(10)));
        assert!(!r.paws_rejects(1000, Instant::from_millis(10)));
        // Across the 2^32 wrap, "later" still wins.
        r.set_ts_recent(u32::MAX - 5, Instant::ZERO);
        assert!(!r.paws_rejects(3, Instant::ZERO));
        assert!(r.paws_rejects(u32::MAX - 6, Instant::ZERO));
        let later = Instant::ZERO + PAWS_IDLE + Duration::from_secs(1);
        assert!(!r.paws_rejects(0x8000_0000, later));
    }
}
