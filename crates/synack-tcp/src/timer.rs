//! The connection's timers: one table, the earliest deadline goes out.

use crate::time::Instant;

/// The timers a connection can have armed.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum TimerKind {
    /// RFC 6298: retransmit the oldest unacknowledged segment (or the SYN).
    Retransmit = 0,
    /// RFC 9293 §3.8.6.1: probe a zero window.
    Persist = 1,
    /// RFC 9293 §3.6: 2×MSL in TIME-WAIT.
    TimeWait = 2,
}

const KINDS: [TimerKind; 3] = [
    TimerKind::Retransmit,
    TimerKind::Persist,
    TimerKind::TimeWait,
];

/// Deadlines for each timer kind; `None` means disarmed.
#[derive(Clone, Debug, Default)]
pub struct Timers {
    at: [Option<Instant>; 3],
}

impl Timers {
    pub fn set(&mut self, kind: TimerKind, at: Instant) {
        self.at[kind as usize] = Some(at);
    }

    pub fn clear(&mut self, kind: TimerKind) {
        self.at[kind as usize] = None;
    }

    pub fn clear_all(&mut self) {
        self.at = [None; 3];
    }

    pub fn get(&self, kind: TimerKind) -> Option<Instant> {
        self.at[kind as usize]
    }

    pub fn is_armed(&self, kind: TimerKind) -> bool {
        self.at[kind as usize].is_some()
    }

    /// The earliest armed deadline.
    pub fn next(&self) -> Option<Instant> {
        self.at.iter().flatten().min().copied()
    }

    /// Disarms and returns one timer whose deadline is at or before `now`.
    pub fn pop_expired(&mut self, now: Instant) -> Option<TimerKind> {
        for kind in KINDS {
            if let Some(at) = self.at[kind as usize] {
                if at <= now {
                    self.at[kind as usize] = None;
                    return Some(kind);
                }
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
        t.set(TimerKind::Retransmit, Instant::from_millis(20));
        assert_eq!(t.next(), Some(Instant::from_millis(20)));
        assert_eq!(t.pop_expired(Instant::from_millis(19)), None);
        assert_eq!(
            t.pop_expired(Instant::from_millis(60)),
            Some(TimerKind::Retransmit)
        );
        assert_eq!(
            t.pop_expired(Instant::from_millis(60)),
            Some(TimerKind::TimeWait)
        );
        assert_eq!(t.pop_expired(Instant::from_millis(60)), None);
    }
}
