//! RACK-TLP (RFC 8985): loss detection by time instead of by counting.
//!
//! RACK ("recent ACK") remembers the most recently *sent* segment that has
//! been delivered. Any segment sent before it that is still missing after
//! one RTT plus a reordering window is lost — whether it was an original
//! or a retransmission, and however few segments followed it. The
//! reordering window starts at a quarter of the minimum RTT, grows when
//! D-SACKs show that a retransmission was spurious, and drops to zero in
//! recovery when no reordering has been seen.
//!
//! TLP ("tail loss probe") covers the case RACK cannot: the last segments
//! of a flight are lost, so no later delivery reveals them. About two RTTs
//! after the last transmission, one probe segment goes out; its ACK (or
//! SACK) lets RACK or fast recovery repair the tail long before an RTO.

use crate::sender::record::{Record, Sent};
use crate::seq::SeqNum;
use crate::time::{Duration, Instant};

/// RFC 8985 §7.2: the worst-case delayed-ACK time assumed for the peer
/// when only one segment is in flight.
pub const WC_DEL_ACK: Duration = Duration::from_millis(200);

/// RFC 8985 §6.2 step 4: D-SACK-driven growth of the window persists for
/// this many recoveries.
const REO_WND_PERSIST: u32 = 16;

/// RACK's state (RFC 8985 §6.1).
#[derive(Clone, Debug)]
pub struct Rack {
    /// RACK.xmit_ts and RACK.end_seq: when the most recently sent segment
    /// known to be delivered went out (µs, `u64::MAX` for none) and its
    /// transmission order (which breaks ties in time).
    latest_at: u64,
    latest_order: u32,
    /// RACK.rtt: the RTT measured from that segment, in µs.
    rtt_us: u32,
    /// RACK.fack: the highest sequence number delivered.
    fack: SeqNum,
    /// RACK.reordering_seen.
    pub reordering_seen: bool,
    /// RACK.reo_wnd_mult and RACK.reo_wnd_persist.
    reo_wnd_mult: u32,
    reo_wnd_persist: u32,
    /// RACK.dsack_round: SND.NXT when the window last grew for a D-SACK.
    dsack_round: Option<SeqNum>,
}

impl Default for Rack {
    fn default() -> Self {
        Rack {
            latest_at: u64::MAX,
            latest_order: 0,
            rtt_us: 0,
            fack: SeqNum(0),
            reordering_seen: false,
            reo_wnd_mult: 0,
            reo_wnd_persist: 0,
            dsack_round: None,
        }
    }
}

impl Rack {
    /// RACK for a connection whose initial send sequence number is `iss`:
    /// nothing is delivered yet, so RACK.fack starts there (not at 0, which
    /// from an ISS in the upper half of the space would make the first
    /// delivery look like reordering).
    pub fn new(iss: SeqNum) -> Rack {
        Rack {
            fack: iss,
            ..Rack::default()
        }
    }

    /// The latest delivered transmission, as (time µs, order).
    fn latest(&self) -> Option<(u64, u32)> {
        (self.latest_at != u64::MAX).then_some((self.latest_at, self.latest_order))
    }

    /// §6.2 steps 1-3: segment `s` (as last sent) was delivered, as the
    /// ACK arriving `now` shows. `min_rtt` filters out an ACK that must be
    /// for an earlier copy of a retransmitted segment.
    pub fn on_delivered(&mut self, now: Instant, s: &Sent, min_rtt: Option<Duration>) {
        let (xmits, end) = (s.xmits, s.end());
        let rtt = now.saturating_since(s.xmit_at);
        if xmits > 1 && min_rtt.is_some_and(|m| rtt < m) {
            // Step 2: faster than any RTT seen: it acknowledges the original
            // transmission, not this retransmission. Ignore it.
            return;
        }
        // Step 3: a segment below the highest delivered one arrived late,
        // and was not retransmitted: the network reorders.
        if xmits == 1 && end.before(self.fack) {
            self.reordering_seen = true;
        }
        if end.after(self.fack) {
            self.fack = end;
        }
        if self.latest().is_none_or(|l| stamp(s) > l) {
            self.rtt_us = u32::try_from(rtt.as_micros()).unwrap_or(u32::MAX);
            (self.latest_at, self.latest_order) = stamp(s);
        }
    }

    /// §6.2 step 4: a D-SACK arrived while `snd_una`/`snd_nxt` stood here.
    pub fn on_dsack(&mut self, snd_una: SeqNum, snd_nxt: SeqNum) {
        if self.dsack_round.is_none_or(|r| snd_una.after_eq(r)) {
            self.reo_wnd_mult = self.reo_wnd_mult.max(1) + 1;
            self.dsack_round = Some(snd_nxt);
            self.reo_wnd_persist = REO_WND_PERSIST;
        }
    }

    /// §6.2 step 4: called when a loss recovery ends. The window a D-SACK
    /// grew lasts for 16 recoveries: the 16th resets it.
    pub fn on_recovery_end(&mut self) {
        self.reo_wnd_persist = self.reo_wnd_persist.saturating_sub(1);
        if self.reo_wnd_persist == 0 {
            self.reo_wnd_mult = 1;
        }
    }

    /// §6.2 step 4: the reordering window. Zero when no reordering was
    /// seen and loss is already evident (in recovery, or DupThresh
    /// segments SACKed).
    pub fn reo_wnd(
        &self,
        loss_evident: bool,
        min_rtt: Option<Duration>,
        srtt: Duration,
    ) -> Duration {
        if !self.reordering_seen && loss_evident {
            return Duration::ZERO;
        }
        let min_rtt = min_rtt.unwrap_or(srtt);
        (min_rtt / 4)
            .saturating_mul(self.reo_wnd_mult.max(1))
            .min(srtt)
    }

    /// §6.2 step 5: marks lost every segment sent before RACK's segment
    /// whose time is up. Returns the bytes newly marked and, for segments
    /// not yet due, when the first of them will be (for the reorder timer).
    pub fn detect_loss(
        &self,
        now: Instant,
        reo_wnd: Duration,
        record: &mut Record,
    ) -> (u32, Option<Instant>) {
        let Some(latest) = self.latest() else {
            return (0, None);
        };
        let mut marked = 0;
        let mut due: Option<Instant> = None;
        let mut i = 0;
        while let Some(j) = record.next_unsacked(i) {
            let s: Sent = *record.get(j).expect("index from next_unsacked");
            i = j + 1;
            if latest <= stamp(&s) {
                // Sent at or after RACK's segment. Entries never
                // retransmitted are in send order, so none after this one
                // can qualify except retransmissions, which were sent later
                // still.
                if s.xmits == 1 {
                    break;
                }
                continue;
            }
            if s.lost() && !s.retransmitted() {
                continue; // already waiting for retransmission
            }
            let rtt = Duration::from_micros(u64::from(self.rtt_us));
            let deadline = s.xmit_at + rtt + reo_wnd;
            if deadline <= now {
                if record.mark_lost(j) {
                    marked += s.len;
                }
            } else {
                // RFC 8985 keeps the latest deadline; the earliest fires
                // sooner and is re-armed after, which loses nothing.
                due = Some(due.map_or(deadline, |d| d.min(deadline)));
            }
        }
        (marked, due)
    }

    /// Forget the delivery history (after an RTO: everything is resent).
    pub fn reset_after_rto(&mut self) {
        self.latest_at = u64::MAX;
    }
}

/// When a transmission went out, ordered: (time µs, transmission counter).
fn stamp(s: &Sent) -> (u64, u32) {
    (s.xmit_at.as_micros(), s.order)
}

/// TLP's state (RFC 8985 §7).
#[derive(Clone, Debug, Default)]
pub struct Tlp {
    /// TLP.end_seq: SND.NXT when the probe went out; `Some` while a probe
    /// is unresolved.
    pub end_seq: Option<SeqNum>,
    /// TLP.is_retrans: the probe retransmitted old data.
    pub is_retrans: bool,
}

/// §7.2: the probe timeout for a flight of `flight_segments` segments.
pub fn pto(srtt: Option<Duration>, flight_segments: usize) -> Duration {
    let srtt_us = srtt.map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
    Duration::from_micros(pto_micros(srtt_us, flight_segments))
}

/// [`pto`] in microseconds, for the sender, which re-arms the probe on
/// every new segment: plain integer arithmetic, where `Duration`'s
/// seconds-and-nanoseconds would divide and carry each time.
#[inline]
pub fn pto_micros(srtt_us: Option<u64>, flight_segments: usize) -> u64 {
    const WC_DEL_ACK_US: u64 = WC_DEL_ACK.as_micros() as u64;
    match srtt_us {
        Some(srtt) => {
            let mut pto = srtt.saturating_mul(2);
            if flight_segments <= 1 {
                pto = pto.saturating_add(WC_DEL_ACK_US);
            }
            pto.max(10_000)
        }
        None => 1_000_000,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: u64) -> Instant {
        Instant::from_millis(ms)
    }

    #[test]
    fn a_segment_sent_before_a_delivered_one_is_lost_after_rtt_plus_reo_wnd() {
        let mut r = Record::default();
        for k in 0..4u32 {
            r.push(SeqNum(100 * k), 100, false, t(u64::from(k)));
        }
        // The segment sent at 2 ms is SACKed at 52 ms: RTT 50 ms.
        r.sack(SeqNum(200), SeqNum(300));
        let mut rack = Rack::default();
        let sacked = *r.get(2).unwrap();
        rack.on_delivered(t(52), &sacked, None);
        let reo = Duration::from_millis(5);
        // Segments 0 and 1 were sent before it; due at 55 and 56 ms.
        let (marked, due) = rack.detect_loss(t(52), reo, &mut r);
        assert_eq!((marked, due), (0, Some(t(55))));
        let (marked, due) = rack.detect_loss(t(55), reo, &mut r);
        assert_eq!((marked, due), (100, Some(t(56))));
        let (marked, due) = rack.detect_loss(t(56), reo, &mut r);
        assert_eq!((marked, due), (100, None));
        // Segment 3 was sent after: not lost.
        assert_eq!(r.lost_bytes(), 200);
    }

    #[test]
    fn reordering_widens_the_window_and_dsack_grows_it() {
        let mut rack = Rack::default();
        let ms = Duration::from_millis;
        assert_eq!(rack.reo_wnd(true, Some(ms(40)), ms(50)), Duration::ZERO);
        assert_eq!(rack.reo_wnd(false, Some(ms(40)), ms(50)), ms(10));
        let mut r = Record::default();
        r.push(SeqNum(300), 100, false, t(40));
        r.push(SeqNum(400), 100, false, t(50));
        let (early, late) = (*r.get(0).unwrap(), *r.get(1).unwrap());
        rack.on_delivered(t(100), &late, None);
        rack.on_delivered(t(101), &early, None);
        assert!(rack.reordering_seen);
        assert_eq!(rack.reo_wnd(true, Some(ms(40)), ms(50)), ms(10));
        rack.on_dsack(SeqNum(0), SeqNum(1000));
        assert_eq!(rack.reo_wnd(true, Some(ms(40)), ms(50)), ms(20));
        rack.on_dsack(SeqNum(10), SeqNum(1000)); // same round: no growth
        assert_eq!(rack.reo_wnd(true, Some(ms(40)), ms(50)), ms(20));
        // Bounded by SRTT.
        for k in 1..10 {
            rack.on_dsack(SeqNum(1000 * k), SeqNum(1000 * (k + 1)));
        }
        assert_eq!(rack.reo_wnd(true, Some(ms(40)), ms(50)), ms(50));
    }

    #[test]
    fn pto_is_two_srtt_plus_delayed_ack_for_one_segment() {
        let ms = Duration::from_millis;
        assert_eq!(pto(Some(ms(30)), 5), ms(60));
        assert_eq!(pto(Some(ms(30)), 1), ms(260));
        assert_eq!(pto(None, 5), ms(1000));
        assert_eq!(pto(Some(ms(1)), 5), ms(10));
    }
}
