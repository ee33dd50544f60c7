//! When to acknowledge, and what SACK blocks to report.
//!
//! RFC 9293 §3.8.6.3 and RFC 5681 §4.2: in-order data may be acknowledged
//! late — at least every second full-sized segment, and within the
//! delayed-ACK time — but out-of-order data, data that fills a gap and
//! duplicates are acknowledged at once. Each out-of-order segment owes
//! *its own* ACK: the sender counts duplicates, so several arriving
//! together must not collapse into one. The ACKs owed are therefore a count.
//!
//! RFC 2018 §4: the first SACK block reports the range holding the segment
//! that triggered the ACK; the others repeat the most recently reported
//! ranges, so each range is reported several times in case ACKs are lost.
//! RFC 2883: a duplicate segment is reported once, as a D-SACK first block.

use crate::config::{AckEvery, Config};
use crate::seq::SeqNum;
use crate::time::Duration;

/// Most immediate ACKs owed at once; beyond it they coalesce.
const MAX_OWED: u16 = 64;

/// Segments acknowledged one by one in quick-ACK mode (Linux's
/// TCP_MAX_QUICKACKS).
pub const QUICK_ACKS: u16 = 16;

/// RFC 2018 §3: at most four SACK blocks fit (three with timestamps).
pub const MAX_BLOCKS: usize = 4;

/// The receiver's acknowledgment policy.
#[derive(Clone, Debug)]
pub struct AckPolicy {
    /// Immediate ACKs owed, each to go out as its own segment.
    owed: u16,
    /// In-order bytes (or segments, with `AckEvery::TwoSegments`) received
    /// since the last ACK we sent.
    unacked: u32,
    /// An ACK is owed but may wait for the delayed-ACK timer.
    delayed: bool,
    /// Longest an ACK may wait in µs (zero: never wait).
    delay_us: u32,
    /// SACK blocks, most recent first.
    blocks: [(SeqNum, SeqNum); MAX_BLOCKS],
    nblocks: u8,
    /// A D-SACK block to report once.
    dsack: Option<(SeqNum, SeqNum)>,
    /// Segments still to be acknowledged one by one (quick-ACK mode).
    quick: u16,
    /// Data has arrived before (the first data starts quick-ACK mode).
    started: bool,
    /// Quick-ACK mode is used at all (`Config::quick_ack`).
    quick_mode: bool,
    /// Count segments, not bytes (`AckEvery::TwoSegments`).
    by_segments: bool,
}

/// What the connection must do about the delayed-ACK timer.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum AckTimer {
    /// Nothing changes.
    Keep,
    /// Arm it (if not armed) for `delay` from now.
    Arm,
    /// No ACK is pending any more: disarm it.
    Disarm,
}

impl AckPolicy {
    pub fn new(delay: Duration) -> Self {
        AckPolicy {
            owed: 0,
            unacked: 0,
            delayed: false,
            delay_us: u32::try_from(delay.as_micros()).unwrap_or(u32::MAX),
            blocks: [(SeqNum(0), SeqNum(0)); MAX_BLOCKS],
            nblocks: 0,
            dsack: None,
            quick: 0,
            started: false,
            quick_mode: true,
            by_segments: false,
        }
    }

    /// The policy `config` asks for: its delay, quick-ACK mode, and what
    /// "every second segment" counts.
    pub fn from_config(config: &Config) -> Self {
        AckPolicy {
            quick_mode: config.quick_ack,
            by_segments: config.ack_every == AckEvery::TwoSegments,
            ..AckPolicy::new(config.delayed_ack)
        }
    }

    /// Acknowledge the next `n` in-order segments at once (Linux's
    /// quick-ACK mode): at the start of a connection, while the sender is
    /// in slow start, and after a loss, while its window regrows, a delayed
    /// ACK would hold its ACK clock back.
    pub fn quick_ack(&mut self, n: u16) {
        if self.quick_mode {
            self.quick = self.quick.max(n);
        }
    }

    /// An ACK must go out now.
    pub fn due(&self) -> bool {
        self.owed > 0
    }

    /// Immediate ACKs owed.
    pub fn owed(&self) -> u16 {
        self.owed
    }

    /// An ACK is pending, now or later.
    pub fn pending(&self) -> bool {
        self.owed > 0 || self.delayed
    }

    /// Longest an ACK may wait (zero: never wait).
    pub fn delay(&self) -> Duration {
        Duration::from_micros(u64::from(self.delay_us))
    }

    /// Owe one more immediate ACK (an out-of-order or duplicate segment).
    pub fn owe_one_more(&mut self) {
        self.owed = (self.owed + 1).min(MAX_OWED);
    }

    /// Owe at least one immediate ACK.
    pub fn owe_now(&mut self) {
        self.owed = self.owed.max(1);
    }

    /// `len` bytes arrived in order; `mss` is the full segment size.
    pub fn on_in_order(&mut self, len: u32, mss: u32) -> AckTimer {
        let (count, every_second) = if self.by_segments {
            (1, 2)
        } else {
            (len, 2 * mss.max(1))
        };
        self.unacked = self.unacked.saturating_add(count);
        if !self.started {
            self.started = true;
            self.quick_ack(QUICK_ACKS);
        }
        if self.quick > 0 {
            self.quick -= 1;
            self.owe_now();
            return AckTimer::Keep;
        }
        // At least every second full-sized segment (RFC 5681 §4.2).
        if self.delay_us == 0 || self.unacked >= every_second {
            self.owe_now();
            return AckTimer::Keep;
        }
        self.delayed = true;
        AckTimer::Arm
    }

    /// The delayed-ACK timer fired.
    pub fn on_timer(&mut self) {
        if self.delayed {
            self.owe_now();
        }
    }

    /// A segment carrying our ACK went out. Returns whether the delayed-ACK
    /// timer should be disarmed.
    pub fn on_sent(&mut self) -> AckTimer {
        self.owed = self.owed.saturating_sub(1);
        self.dsack = None;
        self.unacked = 0;
        self.delayed = false;
        if self.owed == 0 {
            AckTimer::Disarm
        } else {
            AckTimer::Keep
        }
    }

    /// RFC 2883: report `[start, end)` as a duplicate in the next ACK.
    pub fn report_dsack(&mut self, start: SeqNum, end: SeqNum) {
        if start.before(end) {
            self.dsack = Some((start, end));
        }
    }

    /// RFC 2018 §4: the block `[start, end)` holds the segment that just
    /// arrived; it goes first. `ranges` are the out-of-order ranges now
    /// held: earlier blocks are refreshed from them and stale ones dropped.
    pub fn on_sack_change(&mut self, first: Option<(SeqNum, SeqNum)>, ranges: &[(SeqNum, SeqNum)]) {
        let mut out = [(SeqNum(0), SeqNum(0)); MAX_BLOCKS];
        let mut n = 0;
        let push =
            |b: (SeqNum, SeqNum), out: &mut [(SeqNum, SeqNum); MAX_BLOCKS], n: &mut usize| {
                if *n < MAX_BLOCKS && !out[..*n].contains(&b) {
                    out[*n] = b;
                    *n += 1;
                }
            };
        if let Some(f) = first {
            push(f, &mut out, &mut n);
        }
        for &(s, _) in &self.blocks[..usize::from(self.nblocks)] {
            // The range now holding this block's start, if it is still held.
            if let Some(&r) = ranges.iter().find(|r| r.0.before_eq(s) && s.before(r.1)) {
                push(r, &mut out, &mut n);
            }
        }
        self.blocks = out;
        self.nblocks = n as u8;
    }

    /// The blocks to send in the next ACK: the D-SACK first, then the
    /// SACK blocks, most recent first.
    pub fn blocks(&self) -> impl Iterator<Item = (SeqNum, SeqNum)> + '_ {
        self.dsack
            .into_iter()
            .chain(self.blocks[..usize::from(self.nblocks)].iter().copied())
            .take(MAX_BLOCKS)
    }

    /// Whether any SACK information is waiting to be sent.
    pub fn has_blocks(&self) -> bool {
        self.nblocks > 0 || self.dsack.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(a: u32, b: u32) -> (SeqNum, SeqNum) {
        (SeqNum(a), SeqNum(b))
    }

    #[test]
    fn the_first_segments_are_acked_one_by_one() {
        let mut a = AckPolicy::new(Duration::from_millis(40));
        for _ in 0..QUICK_ACKS {
            assert_eq!(a.on_in_order(10, 1000), AckTimer::Keep);
            assert!(a.due());
            a.on_sent();
        }
        assert_eq!(a.on_in_order(10, 1000), AckTimer::Arm);
        assert!(!a.due());
        // After a loss, quick-ACK mode again.
        a.on_sent();
        a.quick_ack(2);
        assert_eq!(a.on_in_order(10, 1000), AckTimer::Keep);
    }

    #[test]
    fn every_second_full_segment_or_the_timer() {
        let mut a = AckPolicy::new(Duration::from_millis(40));
        a.started = true;
        assert_eq!(a.on_in_order(1000, 1000), AckTimer::Arm);
        assert!(!a.due() && a.pending());
        assert_eq!(a.on_in_order(1000, 1000), AckTimer::Keep);
        assert!(a.due());
        assert_eq!(a.on_sent(), AckTimer::Disarm);
        assert!(!a.pending());
        a.on_in_order(10, 1000);
        a.on_timer();
        assert!(a.due());
    }

    #[test]
    fn freebsd_style_counts_segments_and_has_no_quick_acks() {
        let config = Config {
            quick_ack: false,
            ack_every: AckEvery::TwoSegments,
            ..Config::default()
        };
        let mut a = AckPolicy::from_config(&config);
        // The very first segment waits, however small.
        assert_eq!(a.on_in_order(1, 1000), AckTimer::Arm);
        assert!(!a.due());
        // The second one, however small, is acknowledged at once.
        assert_eq!(a.on_in_order(2, 1000), AckTimer::Keep);
        assert!(a.due());
        a.on_sent();
        // Filling a gap asks for quick ACKs; there are none in this style.
        a.quick_ack(QUICK_ACKS);
        assert_eq!(a.on_in_order(4, 1000), AckTimer::Arm);
    }

    #[test]
    fn out_of_order_segments_each_owe_an_ack() {
        let mut a = AckPolicy::new(Duration::from_millis(40));
        for _ in 0..3 {
            a.owe_one_more();
        }
        assert_eq!(a.owed(), 3);
        assert_eq!(a.on_sent(), AckTimer::Keep);
        assert_eq!(a.on_sent(), AckTimer::Keep);
        assert_eq!(a.on_sent(), AckTimer::Disarm);
    }

    #[test]
    fn most_recent_block_first_and_dsack_once() {
        let mut a = AckPolicy::new(Duration::ZERO);
        a.on_sack_change(Some(s(300, 400)), &[s(300, 400)]);
        a.on_sack_change(Some(s(500, 600)), &[s(300, 400), s(500, 600)]);
        a.on_sack_change(Some(s(100, 200)), &[s(100, 200), s(300, 400), s(500, 600)]);
        let b: Vec<_> = a.blocks().collect();
        assert_eq!(b, [s(100, 200), s(500, 600), s(300, 400)]);
        // 300-400 grew and merged with 500-600.
        a.on_sack_change(Some(s(300, 600)), &[s(100, 200), s(300, 600)]);
        assert_eq!(a.blocks().collect::<Vec<_>>(), [s(300, 600), s(100, 200)]);
        a.report_dsack(SeqNum(10), SeqNum(20));
        assert_eq!(a.blocks().next(), Some(s(10, 20)));
        a.on_sent();
        assert_eq!(a.blocks().next(), Some(s(300, 600)));
        // Delivered in order: nothing left to report.
        a.on_sack_change(None, &[]);
        assert!(!a.has_blocks());
    }
}
