//! The connection's timers: one table, the earliest deadline goes out.
//!
//! Every timer a connection can run is a row here. Arming a timer replaces
//! its deadline; `Connection::poll_timeout` reports the earliest one and
//! `Connection::handle_timeout` fires each row whose deadline has passed,
//! in the order of [`TimerKind::ALL`].

use crate::time::Instant;

/// The timers a connection can have armed.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum TimerKind {
    /// RFC 8985 §7: a tail loss probe. Before the RTO: when both are due
    /// together (the PTO is clamped to the RTO), the probe goes first.
    Tlp = 0,
    /// RFC 6298: retransmit the oldest unacknowledged segment (or the SYN).
    Rto = 1,
    /// RFC 8985 §6.3: RACK's reordering window ran out for a segment.
    Reorder = 2,
    /// RFC 9293 §3.8.6.1: probe a zero window.
    Persist = 3,
    /// RFC 9293 §3.8.6.3: the delayed ACK is due.
    DelayedAck = 4,
    /// RFC 9293 §3.8.4: the connection was idle; probe the peer.
    Keepalive = 5,
    /// Linux's tcp_fin_timeout: an orphan in FIN-WAIT-2 gives up.
    FinWait2 = 6,
    /// RFC 9293 §3.6: 2×MSL in TIME-WAIT.
    TimeWait = 7,
}

const COUNT: usize = 8;

impl TimerKind {
    /// Every timer, in the order `handle_timeout` fires them.
    pub const ALL: [TimerKind; COUNT] = [
        TimerKind::Tlp,
        TimerKind::Rto,
        TimerKind::Reorder,
        TimerKind::Persist,
        TimerKind::DelayedAck,
        TimerKind::Keepalive,
        TimerKind::FinWait2,
        TimerKind::TimeWait,
    ];

    pub fn name(self) -> &'static str {
        match self {
            TimerKind::Rto => "RTO",
            TimerKind::Tlp => "TLP",
            TimerKind::Reorder => "RACK reorder",
            TimerKind::Persist => "persist",
            TimerKind::DelayedAck => "delayed ACK",
            TimerKind::Keepalive => "keepalive",
            TimerKind::FinWait2 => "FIN-WAIT-2",
            TimerKind::TimeWait => "TIME-WAIT",
        }
    }
}

/// Microseconds of a disarmed timer (no deadline is ever this late).
const OFF: u64 = u64::MAX;

/// Deadlines for each timer kind, in microseconds; `OFF` means disarmed
/// (8 bytes a timer rather than 16 for an `Option<Instant>`).
#[derive(Clone, Debug)]
pub struct Timers {
    at: [u64; COUNT],
}

impl Default for Timers {
    fn default() -> Self {
        Timers { at: [OFF; COUNT] }
    }
}

impl Timers {
    pub fn set(&mut self, kind: TimerKind, at: Instant) {
        self.at[kind as usize] = at.as_micros().min(OFF - 1);
    }

    /// Arms `kind` unless it is already armed for an earlier time.
    pub fn set_earliest(&mut self, kind: TimerKind, at: Instant) {
        let slot = &mut self.at[kind as usize];
        *slot = (*slot).min(at.as_micros().min(OFF - 1));
    }

    pub fn clear(&mut self, kind: TimerKind) {
        self.at[kind as usize] = OFF;
    }

    pub fn clear_all(&mut self) {
        self.at = [OFF; COUNT];
    }

    pub fn get(&self, kind: TimerKind) -> Option<Instant> {
        let at = self.at[kind as usize];
        (at != OFF).then_some(Instant::from_micros(at))
    }

    pub fn is_armed(&self, kind: TimerKind) -> bool {
        self.at[kind as usize] != OFF
    }

    /// The earliest armed deadline.
    pub fn next(&self) -> Option<Instant> {
        let at = self.at.iter().copied().min().unwrap_or(OFF);
        (at != OFF).then_some(Instant::from_micros(at))
    }

    /// Disarms and returns one timer whose deadline is at or before `now`.
    pub fn pop_expired(&mut self, now: Instant) -> Option<TimerKind> {
        let now = now.as_micros();
        for kind in TimerKind::ALL {
            let at = &mut self.at[kind as usize];
            if *at != OFF && *at <= now {
                *at = OFF;
                return Some(kind);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_and_expiry() {
        let mut t = Timers::default();
        assert_eq!(t.next(), None);
        t.set(TimerKind::TimeWait, Instant::from_millis(50));
        t.set(TimerKind::Rto, Instant::from_millis(20));
        assert_eq!(t.next(), Some(Instant::from_millis(20)));
        assert_eq!(t.pop_expired(Instant::from_millis(19)), None);
        assert_eq!(
            t.pop_expired(Instant::from_millis(60)),
            Some(TimerKind::Rto)
        );
        assert_eq!(
            t.pop_expired(Instant::from_millis(60)),
            Some(TimerKind::TimeWait)
        );
        assert_eq!(t.pop_expired(Instant::from_millis(60)), None);
    }

    #[test]
    fn set_earliest_keeps_the_sooner_deadline() {
        let mut t = Timers::default();
        t.set_earliest(TimerKind::DelayedAck, Instant::from_millis(40));
        t.set_earliest(TimerKind::DelayedAck, Instant::from_millis(60));
        assert_eq!(t.get(TimerKind::DelayedAck), Some(Instant::from_millis(40)));
        t.set_earliest(TimerKind::DelayedAck, Instant::from_millis(10));
        assert_eq!(t.get(TimerKind::DelayedAck), Some(Instant::from_millis(10)));
    }
}
