//! The TIME-WAIT table: a connection the application has let go of that
//! reaches TIME-WAIT leaves its whole TCB (and buffers) behind and lives
//! on as a compact entry — addresses, SND.NXT, RCV.NXT, the window, the
//! timestamps, the deadline — until 2×MSL is over.
//!
//! What the entry does (RFC 9293 §3.10.7.4 for TIME-WAIT, RFC 1337, RFC
//! 6191): a RST is ignored; a retransmitted FIN is ACKed again and the
//! 2×MSL timer restarts; a new SYN reopens the 4-tuple when its sequence
//! number (or, with timestamps, its timestamp) is beyond the old
//! connection's, as Linux allows; anything else with text, or not at
//! RCV.NXT (the peer's sequence space ended at its FIN), is ACKed.

use crate::demux::{DemuxHash, Tuple};
use crate::host::Host;
use crate::timers::{Target, NEVER};
use std::collections::HashMap;
use synack_tcp::{Duration, Instant, SeqNum, TimeWaitState};
use synack_wire::{OptionLayout, TcpFlags, TcpHeader, TcpOptions, TcpRepr};

/// One connection in TIME-WAIT.
#[derive(Copy, Clone, Debug)]
pub struct TimeWaitEntry {
    pub tuple: Tuple,
    pub snd_nxt: SeqNum,
    pub rcv_nxt: SeqNum,
    pub window: u16,
    /// TS.Recent and our clock's offset, with timestamps.
    pub ts: Option<(u32, u32)>,
    /// When 2×MSL ends (µs).
    pub deadline: u64,
    /// The connection's option layout, for the ACKs sent from here.
    pub option_layout: OptionLayout,
    /// The deadline the host's timer heap was last given for it.
    pub(crate) armed: u64,
    gen: u32,
}

/// The table: entries in a slab, found by 4-tuple.
#[derive(Debug)]
pub(crate) struct TimeWaitTable {
    slots: Vec<Option<TimeWaitEntry>>,
    gens: Vec<u32>,
    free: Vec<u32>,
    by_tuple: HashMap<Tuple, u32, DemuxHash>,
}

impl TimeWaitTable {
    pub fn new(hash: DemuxHash) -> TimeWaitTable {
        TimeWaitTable {
            slots: Vec::new(),
            gens: Vec::new(),
            free: Vec::new(),
            by_tuple: HashMap::with_hasher(hash),
        }
    }

    pub fn len(&self) -> usize {
        self.by_tuple.len()
    }

    pub fn find(&self, t: &Tuple) -> Option<u32> {
        self.by_tuple.get(t).copied()
    }

    /// The deadline the timer heap holds for entry `index` of `gen`.
    pub fn armed(&self, index: u32, gen: u32) -> Option<u64> {
        self.slots
            .get(index as usize)?
            .as_ref()
            .filter(|e| e.gen == gen)
            .map(|e| e.armed)
    }

    pub fn get_gen(&mut self, index: u32, gen: u32) -> Option<&mut TimeWaitEntry> {
        self.slots
            .get_mut(index as usize)?
            .as_mut()
            .filter(|e| e.gen == gen)
    }

    pub fn insert(&mut self, s: &TimeWaitState) -> (u32, u32) {
        let tuple = Tuple {
            local: s.local,
            remote: s.remote,
        };
        let index = match self.free.pop() {
            Some(i) => i,
            None => {
                self.slots.push(None);
                self.gens.push(0);
                (self.slots.len() - 1) as u32
            }
        };
        let gen = self.gens[index as usize].wrapping_add(1);
        self.gens[index as usize] = gen;
        self.slots[index as usize] = Some(TimeWaitEntry {
            tuple,
            snd_nxt: s.snd_nxt,
            rcv_nxt: s.rcv_nxt,
            window: s.window,
            ts: s.ts,
            deadline: s.deadline.as_micros(),
            option_layout: s.option_layout,
            armed: NEVER,
            gen,
        });
        if let Some(old) = self.by_tuple.insert(tuple, index) {
            if old != index {
                self.remove(old);
                self.by_tuple.insert(tuple, index);
            }
        }
        (index, gen)
    }

    pub fn remove(&mut self, index: u32) -> Option<TimeWaitEntry> {
        let e = self.slots.get_mut(index as usize)?.take()?;
        if self.by_tuple.get(&e.tuple) == Some(&index) {
            self.by_tuple.remove(&e.tuple);
        }
        self.free.push(index);
        Some(e)
    }

    pub fn iter(&self) -> impl Iterator<Item = &TimeWaitEntry> {
        self.slots.iter().flatten()
    }
}

/// What TIME-WAIT does with a segment.
pub(crate) enum TwVerdict {
    /// Nothing.
    Drop,
    /// Answer with this ACK.
    Ack(TcpHeader),
    /// RFC 6191: the old connection is gone; hand the SYN to a listener.
    Reopen,
}

impl TimeWaitEntry {
    fn ack(&self, now: Instant) -> TcpHeader {
        let mut options = TcpOptions::with_layout(self.option_layout);
        if let Some((recent, offset)) = self.ts {
            let tsval = (now.as_millis() as u32).wrapping_add(offset);
            options.timestamps = Some((tsval, recent));
        }
        TcpHeader {
            src_port: self.tuple.local.port(),
            dst_port: self.tuple.remote.port(),
            seq: self.snd_nxt.0,
            ack: self.rcv_nxt.0,
            flags: TcpFlags::ACK,
            window: self.window,
            urgent: 0,
            options,
        }
    }

    /// RFC 9293 §3.10.7.4 (TIME-WAIT), RFC 1337, RFC 6191.
    pub(crate) fn on_segment(
        &mut self,
        now: Instant,
        seg: &TcpRepr<'_>,
        msl: Duration,
    ) -> TwVerdict {
        // RFC 1337: no TIME-WAIT assassination.
        if seg.flags.rst() {
            return TwVerdict::Drop;
        }
        if seg.flags.syn() && !seg.flags.ack() {
            // RFC 6191: a timestamp newer than TS.Recent, or without
            // timestamps a sequence number beyond RCV.NXT, proves the SYN
            // is of a new incarnation.
            let newer = match (self.ts, seg.options.timestamps) {
                (Some((recent, _)), Some((tsval, _))) => (tsval.wrapping_sub(recent) as i32) > 0,
                _ => SeqNum(seg.seq).after(self.rcv_nxt),
            };
            return if newer {
                TwVerdict::Reopen
            } else {
                TwVerdict::Ack(self.ack(now))
            };
        }
        if seg.flags.fin() {
            // The peer's FIN again: our last ACK was lost. ACK it, and
            // TIME-WAIT starts over.
            self.deadline = (now + msl * 2).as_micros();
            return TwVerdict::Ack(self.ack(now));
        }
        // The peer's sequence space ended at its FIN: only a bare ACK at
        // RCV.NXT is acceptable (RFC 9293 §3.10.7.4, first step with the
        // window closed); anything else is answered with an ACK.
        if !seg.payload.is_empty() || SeqNum(seg.seq) != self.rcv_nxt {
            return TwVerdict::Ack(self.ack(now));
        }
        TwVerdict::Drop
    }
}

impl Host {
    /// A TIME-WAIT timer fired.
    pub(crate) fn on_time_wait_timer(&mut self, now: Instant, index: u32, gen: u32, at: u64) {
        let Some(e) = self.tw.get_gen(index, gen) else {
            return;
        };
        if e.armed != at {
            return;
        }
        e.armed = NEVER;
        if e.deadline <= now.as_micros() {
            self.tw.remove(index);
        } else {
            let deadline = Some(Instant::from_micros(e.deadline));
            let mut armed = NEVER;
            self.timers
                .schedule(Target::TimeWait { index, gen }, deadline, &mut armed);
            if let Some(e) = self.tw.get_gen(index, gen) {
                e.armed = armed;
            }
        }
    }

    /// Moves a connection's TIME-WAIT into the table; false if it is full.
    pub(crate) fn enter_time_wait(&mut self, s: &TimeWaitState) -> bool {
        if self.tw.len() >= self.config.max_time_wait {
            self.counters.tw_overflows += 1;
            return false;
        }
        let (index, gen) = self.tw.insert(s);
        self.counters.time_waits += 1;
        let mut armed = NEVER;
        self.timers.schedule(
            Target::TimeWait { index, gen },
            Some(s.deadline),
            &mut armed,
        );
        if let Some(e) = self.tw.get_gen(index, gen) {
            e.armed = armed;
        }
        true
    }

    /// A segment for a 4-tuple in TIME-WAIT. Returns true if it was
    /// handled here (false: the SYN reopens the tuple; go on to listeners).
    pub(crate) fn time_wait_input(&mut self, now: Instant, index: u32, seg: &TcpRepr<'_>) -> bool {
        let msl = self.config.tcp.msl;
        let Some(e) = self
            .tw
            .slots
            .get_mut(index as usize)
            .and_then(|s| s.as_mut())
        else {
            return false;
        };
        let tuple = e.tuple;
        // A restarted 2×MSL only moves the deadline later: the armed timer
        // fires first, finds it, and sets itself again.
        match e.on_segment(now, seg, msl) {
            TwVerdict::Drop => true,
            TwVerdict::Ack(repr) => {
                self.push_out(tuple.local.ip(), tuple.remote.ip(), repr);
                true
            }
            TwVerdict::Reopen => {
                self.tw.remove(index);
                self.counters.tw_recycled += 1;
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(layout: OptionLayout) -> TimeWaitEntry {
        TimeWaitEntry {
            tuple: Tuple {
                local: "10.0.0.2:80".parse().unwrap(),
                remote: "10.0.0.1:40000".parse().unwrap(),
            },
            snd_nxt: SeqNum(500),
            rcv_nxt: SeqNum(1002),
            window: 65535,
            ts: Some((7, 100)),
            deadline: 0,
            option_layout: layout,
            armed: NEVER,
            gen: 1,
        }
    }

    fn ack(seq: u32) -> TcpRepr<'static> {
        TcpHeader {
            src_port: 40000,
            dst_port: 80,
            seq,
            ack: 500,
            flags: TcpFlags::ACK,
            window: 65535,
            urgent: 0,
            options: TcpOptions::default(),
        }
        .with_payload(&[])
    }

    #[test]
    fn only_a_bare_ack_at_rcv_nxt_goes_unanswered() {
        let mut e = entry(OptionLayout::Linux);
        let (now, msl) = (Instant::ZERO, Duration::from_secs(30));
        assert!(matches!(
            e.on_segment(now, &ack(1002), msl),
            TwVerdict::Drop
        ));
        for seq in [1001, 1003] {
            match e.on_segment(now, &ack(seq), msl) {
                TwVerdict::Ack(r) => assert_eq!((r.seq, r.ack), (500, 1002)),
                _ => panic!("segment at {seq} not answered"),
            }
        }
    }

    #[test]
    fn acks_use_the_connections_option_layout() {
        let mut e = entry(OptionLayout::FreeBsd);
        match e.on_segment(Instant::ZERO, &ack(1003), Duration::from_secs(30)) {
            TwVerdict::Ack(r) => assert_eq!(r.options.layout, OptionLayout::FreeBsd),
            _ => panic!("not answered"),
        }
    }
}
