//! Rules of the sending side (`sender/`) that show only at their edges:
//!
//! * the send buffer as the application sees it: the bytes queued, the
//!   room left and SO_SNDBUF (`send_queue`, `send_capacity`,
//!   `set_buffer_sizes`, `buffer_sizes`), `bytes_sent`, and `Writable`
//!   only when an ACK frees bytes after a `send` that did not fit;
//! * a path MTU drop (RFC 8201 / RFC 1191): exactly the segments in flight
//!   larger than the new payload size go again, in pieces;
//! * SACK input (RFC 2018, RFC 2883 §4): a first block at or below the
//!   ACK, or inside the second block, is a D-SACK and counted; a block
//!   beyond SND.NXT is ignored; bytes SACKed by several blocks all count
//!   as delivered; a D-SACK ends a tail loss probe only when the probe was
//!   a retransmission (RFC 8985 §7.4.1);
//! * RTT sampling (RFC 6298 §3, Karn's rule; RFC 7323 §4): a segment sent
//!   once is timed by its ACK, a retransmitted one only by a timestamp
//!   echo, an echo of zero or of 2^30 ms or more ago is no sample, and of
//!   what one ACK delivers the latest transmission is timed;
//! * duplicate ACKs without SACK (RFC 5681 §2, RFC 6675 `pipe`): each one
//!   takes one segment out of the pipe, and during fast recovery it is the
//!   data delivered that PRR (RFC 6937 §3.1) sends against;
//! * cwnd growth: slow start by the bytes an ACK covers (RFC 3465), only
//!   while cwnd-limited (the round's largest pipe at least half of cwnd,
//!   or cwnd held data back; not Nagle, a zero window or a FIN), the round
//!   ending only when SND.UNA passes it; a window update acknowledges
//!   nothing and does not start CUBIC's epoch (RFC 9438 §4.2); the restart
//!   window after an idle RTO, and only when nothing is in flight (RFC
//!   5681 §4.1);
//! * the window update rule (RFC 9293 §3.10.7.4, SND.WL1/SND.WL2): an ACK
//!   below SND.UNA or a segment older than SND.WL1 does not move SND.WND;
//! * the end of a recovery episode: fast recovery and the RTO's loss phase
//!   end when SND.UNA reaches the recovery point; the ending ACK does not
//!   grow cwnd and the loss phase is not deflated to ssthresh;
//! * loss detection: RFC 6675 IsLost (more than 2·SMSS SACKed, or
//!   DupThresh duplicates), NewReno's partial-ACK rule (RFC 6582 §3.2
//!   step 4) only without SACK and only in recovery, RACK's reordering
//!   window (RFC 8985 §6.2 steps 3-4) and its reorder timer (§6.3);
//! * tail loss probes (RFC 8985 §7): only in the open phase with data in
//!   flight; new data if the receive window allows, else the last bytes
//!   of the last segment that fit; a probe that resent data and repaired a
//!   loss is a congestion event, a probe of new data is not;
//! * the retransmission timer (RFC 6298 §5): not restarted by duplicate
//!   ACKs or a fast retransmit; the give-up after `max_retries`; ssthresh
//!   held over timeouts in a row, lowered again after progress (as Linux);
//!   retransmissions clocked by cwnd, a lost FIN counting its sequence
//!   number, and a lost segment sent with nothing in flight;
//! * zero-window probing (RFC 9293 §3.8.6.1): probes back off from one RTO,
//!   an open window ends probing and resets the backoff, probe data the
//!   reopened window did not take goes again, and the persist timer, not
//!   the RTO, guards a resent probe;
//! * the FIN (a bare FIN waits for room in cwnd) and sender SWS avoidance
//!   (RFC 9293 §3.8.6.2.1: a window-cut segment of at least half the
//!   largest window goes; a window that never exceeds one byte is probed);
//! * `Sender::check`, the invariant checker.

#[path = "../common/mod.rs"]
mod common;

mod acks;
mod congestion;
mod sending;
mod timers;

use common::*;
use synack_tcp::sender::{AckInput, Sender};
use synack_tcp::timer::{TimerKind, Timers};
use synack_tcp::{
    Algorithm, Config, Connection, Duration, Event, Instant, IsnSecret, Phase, RecoveryEvent,
    SegmentKind, SendKind, SeqNum, State,
};
use synack_wire::{SackBlock, TcpFlags, TcpOptions};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// An active open with `cfg` whose SYN-ACK (with `options`, window 65535)
/// arrives `rtt_ms` after the SYN: SRTT = `rtt_ms`, RTTVAR = `rtt_ms`/2,
/// so RTO = 3·`rtt_ms` (300 ms for 100 ms, above the 200 ms minimum).
fn opened(cfg: Config, options: TcpOptions, rtt_ms: u64) -> (Connection, u32) {
    let mut c = active_at(cfg, Instant::ZERO, IsnSecret::from_seed(2));
    let iss = drain(&mut c, Instant::ZERO)[0].seq;
    let mut syn_ack = seg(
        PEER_ISS,
        iss.wrapping_add(1),
        TcpFlags::SYN | TcpFlags::ACK,
        b"",
    );
    syn_ack.options = options;
    feed(&mut c, at_ms(rtt_ms), &syn_ack);
    drain(&mut c, at_ms(rtt_ms));
    assert_eq!(c.state(), State::Established);
    assert_eq!(c.info().srtt, Some(ms(rtt_ms)));
    (c, iss)
}

/// `plain()` with NewReno and no HyStart++: cwnd moves by RFC 5681 alone.
fn newreno() -> Config {
    Config {
        congestion: Algorithm::NewReno,
        hystart: false,
        ..plain()
    }
}

/// A pure ACK of `ack` carrying these SACK blocks.
fn sack_ack(ack: u32, blocks: &[(u32, u32)]) -> Out {
    let mut a = seg(PEER_ISS + 1, ack, TcpFlags::ACK, b"");
    for &(left, right) in blocks {
        assert!(a.options.push_sack_block(SackBlock { left, right }));
    }
    a
}

/// A pure ACK of `ack` from the peer (window 65535).
fn ack(ack: u32) -> Out {
    seg(PEER_ISS + 1, ack, TcpFlags::ACK, b"")
}

fn data_segments(out: &[Out]) -> Vec<(u32, usize, Option<SegmentKind>)> {
    out.iter()
        .filter(|s| !s.payload.is_empty() || s.flags.fin())
        .map(|s| (s.seq, s.len(), s.kind))
        .collect()
}

/// The sequence numbers of the retransmissions among `out`.
fn resent(out: &[Out]) -> Vec<u32> {
    out.iter()
        .filter(|s| s.kind == Some(SegmentKind::Data(SendKind::Retransmit)))
        .map(|s| s.seq)
        .collect()
}

fn recovery_events(c: &mut Connection) -> Vec<RecoveryEvent> {
    events(c)
        .into_iter()
        .filter_map(|e| match e {
            Event::Recovery { event, .. } => Some(event),
            _ => None,
        })
        .collect()
}

/// Fires `c`'s timers up to `end` with a silent peer; returns what it sent.
/// At most 1000 timers fire: a timer due at its own firing time would
/// otherwise loop for ever.
fn run_timers(c: &mut Connection, end: Instant) -> Vec<(Instant, Out)> {
    let mut sent = Vec::new();
    let mut fired = 0;
    while let Some(deadline) = c.poll_timeout().filter(|&d| d <= end) {
        fired += 1;
        assert!(fired <= 1000, "timers fire without end at {deadline:?}");
        c.handle_timeout(deadline);
        sent.extend(drain(c, deadline).into_iter().map(|s| (deadline, s)));
    }
    sent
}

/// `opened(with_sack(), sack_ok(), 100)` with `n` full segments sent at
/// 1000 ms; returns the connection and segment `k`'s start.
fn in_flight(n: u32) -> (Connection, impl Fn(u32) -> u32) {
    let (mut c, iss) = opened(with_sack(), sack_ok(), 100);
    let mss = u32::from(c.info().mss);
    assert_eq!(c.send(&vec![7; (n * mss) as usize]), Ok((n * mss) as usize));
    let out = drain(&mut c, at_ms(1000));
    assert_eq!(out.len(), n as usize);
    (c, move |k: u32| iss.wrapping_add(1 + k * mss))
}

/// `opened(plain(), 100 ms)` (RTO 300 ms) whose peer closes its window at
/// 200 ms, with 2000 bytes queued then; returns it and the ISS.
fn zero_window() -> (Connection, u32) {
    let (mut c, iss) = opened(plain(), TcpOptions::default(), 100);
    let una = iss.wrapping_add(1);
    feed(&mut c, at_ms(200), &ack(una).with_window(0));
    assert_eq!(c.info().snd_wnd, 0);
    assert_eq!(c.send(&[9; 2000]), Ok(2000));
    assert!(drain(&mut c, at_ms(200)).is_empty());
    // The persist timer: one RTO (a wait of zero would spin one
    // `handle_timeout` call for ever).
    assert_eq!(c.poll_timeout(), Some(at_ms(500)));
    (c, iss)
}
