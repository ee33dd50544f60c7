//! Congestion control and loss recovery, drawn: slow start, fast
//! retransmit, SACK recovery, the tail loss probe and the retransmission
//! timeout's backoff. Each drops exactly the segments it needs to.

use super::*;
use crate::trace::TraceEvent;
use synack_tcp::{Algorithm, Instant, RecoveryEvent};
use synack_wire::TcpHeader;

/// NewReno with no SACK: the recovery of RFC 5681 and RFC 6582 on its
/// own; the client sends each write at once (no Nagle).
pub(super) fn newreno_without_sack(cfg: &mut WorldConfig) {
    for c in [&mut cfg.client_tcp, &mut cfg.server_tcp] {
        c.sack = false;
        c.congestion = Algorithm::NewReno;
    }
    cfg.client_tcp.nodelay = true;
}

/// The client sends each write at once (no Nagle).
pub(super) fn nodelay_client(cfg: &mut WorldConfig) {
    cfg.client_tcp.nodelay = true;
}

/// Payload bytes in a full segment of the client's connection.
pub(super) fn full_segment(w: &mut World, side: Side, h: Handle) -> usize {
    let i = w.conn(side, h).info();
    usize::from(i.mss) - if i.timestamps { 12 } else { 0 }
}

/// The client's data segments as sent (time, header, payload length), in order.
pub(super) fn client_data(w: &World) -> Vec<(Instant, TcpHeader, usize)> {
    w.trace
        .segments(Side::A)
        .filter(|p| p.len > 0)
        .map(|p| (p.at, *p.seg, p.len))
        .collect()
}

/// Recovery events on `side`, in order.
pub(super) fn recovery_events(w: &World, side: Side) -> Vec<(Instant, RecoveryEvent)> {
    w.trace
        .events
        .iter()
        .filter_map(|e| match e {
            TraceEvent::Recovery {
                at, side: s, event, ..
            } if *s == side => Some((*at, *event)),
            _ => None,
        })
        .collect()
}

/// Drops the client's first transmission of its data segments number
/// `which` (1-based, counting first transmissions only).
fn lose_client_segments(w: &mut World, which: &'static [usize]) {
    let mut seen: Vec<u32> = Vec::new();
    w.set_filter(move |side, seg, len| {
        if side != Side::A || len == 0 || seen.contains(&seg.seq) {
            return Verdict::Pass;
        }
        seen.push(seg.seq);
        if which.contains(&seen.len()) {
            Verdict::Drop
        } else {
            Verdict::Pass
        }
    });
}

/// Client writes `segments` full segments; both read and close.
fn bulk(w: &mut World, segments: usize) -> Result<(App, App, usize), Failure> {
    let (mut client, mut server) = open(w)?;
    let full = full_segment(w, Side::A, client.h);
    let total = segments * full;
    client.chatty = false;
    server.chatty = false;
    w.note(Side::A, story::write_full_segments(total, segments));
    client.write(&vec![b'x'; total]);
    w.run_until(|w| {
        client.pump(w);
        server.pump(w);
        server.read.len() == total
    })
    .map_err(werr)?;
    w.note(Side::B, story::read_total(total));
    Ok((client, server, full))
}

pub(super) fn slow_start(w: &mut World, out: &mut Vec<Text>) -> Result<(), Failure> {
    let (mut client, mut server, _) = bulk(w, 60)?;
    client_closes_first(w, &mut client, &mut server)?;
    // Rounds: bursts of data separated by a round trip.
    let data = client_data(w);
    let mut rounds: Vec<usize> = Vec::new();
    let mut last: Option<Instant> = None;
    for (t, _, _) in &data {
        if last.is_none_or(|l| *t - l > Duration::from_millis(20)) {
            rounds.push(0);
        }
        *rounds.last_mut().expect("a round") += 1;
        last = Some(*t);
    }
    let text: Vec<String> = rounds.iter().map(|r| r.to_string()).collect();
    out.push(story::slow_start(&text.join(" → ")));
    if rounds.len() < 3 || rounds[0] != 10 || rounds[1] != 20 {
        return Err(lang::failure::slow_start_rounds(&text.join(" → ")).into());
    }
    summarize_states(w, out);
    Ok(())
}

pub(super) fn fast_retransmit(w: &mut World, out: &mut Vec<Text>) -> Result<(), Failure> {
    lose_client_segments(w, &[3]);
    let (mut client, mut server, _) = bulk(w, 14)?;
    w.clear_filter();
    client_closes_first(w, &mut client, &mut server)?;
    let data = client_data(w);
    let lost = data.get(2).map(|d| d.1.seq).ok_or("too few segments")?;
    let retx = data
        .iter()
        .skip(3)
        .find(|(_, s, _)| s.seq == lost)
        .ok_or("the lost segment was never resent")?;
    // Duplicate ACKs from the server before the retransmission.
    let dupacks = w
        .trace
        .segments(Side::B)
        .filter(|p| p.seg.ack == lost && p.len == 0 && p.at <= retx.0)
        .count()
        .saturating_sub(1);
    let events = recovery_events(w, Side::A);
    if !events
        .iter()
        .any(|(_, e)| matches!(e, RecoveryEvent::FastRetransmit { dupacks: 3 }))
    {
        let did: Vec<RecoveryEvent> = events.iter().map(|&(_, e)| e).collect();
        return Err(lang::failure::no_fast_retransmit(&did).into());
    }
    let stats = w.conn(Side::A, client.h).stats().send;
    out.push(story::fast_retransmit(
        dupacks,
        retx.0,
        stats.rto_expirations.into(),
    ));
    out.push(story::newreno_deflates());
    if stats.rto_expirations != 0 {
        return Err("a retransmission timeout fired".into());
    }
    summarize_states(w, out);
    Ok(())
}

pub(super) fn sack_recovery(w: &mut World, out: &mut Vec<Text>) -> Result<(), Failure> {
    lose_client_segments(w, &[3, 6]);
    let (mut client, mut server, _) = bulk(w, 12)?;
    w.clear_filter();
    client_closes_first(w, &mut client, &mut server)?;
    let data = client_data(w);
    let lost = [data[2].1.seq, data[5].1.seq];
    let mut seen = Vec::new();
    let mut resent = Vec::new();
    for (_, s, _) in &data {
        if seen.contains(&s.seq) {
            resent.push(s.seq);
        }
        seen.push(s.seq);
    }
    let sacks = w
        .trace
        .segments(Side::B)
        .filter(|p| !p.seg.options.sack_blocks().is_empty())
        .count();
    out.push(story::sack_recovery(sacks, resent.len()));
    resent.sort_unstable();
    let mut want = lost.to_vec();
    want.sort_unstable();
    if resent != want {
        return Err(lang::failure::resent_not_lost(&resent, &want).into());
    }
    if w.conn(Side::A, client.h).stats().send.rto_expirations != 0 {
        return Err("a retransmission timeout fired".into());
    }
    summarize_states(w, out);
    Ok(())
}

pub(super) fn tail_loss_probe(w: &mut World, out: &mut Vec<Text>) -> Result<(), Failure> {
    lose_client_segments(w, &[9, 10]);
    let (mut client, mut server, _) = bulk(w, 10)?;
    w.clear_filter();
    let srtt = w.conn(Side::A, client.h).info().srtt.unwrap_or_default();
    client_closes_first(w, &mut client, &mut server)?;
    let events = recovery_events(w, Side::A);
    let probe_at = events
        .iter()
        .find(|(_, e)| *e == RecoveryEvent::TailLossProbe)
        .map(|(t, _)| *t)
        .ok_or("no tail loss probe was sent")?;
    let one_way = w.link.config(Side::B).delay;
    let last_ack = w
        .trace
        .segments(Side::B)
        .filter(|p| p.at + one_way <= probe_at && p.len == 0)
        .map(|p| p.at + one_way)
        .max()
        .ok_or("no ACK before the probe")?;
    let stats = w.conn(Side::A, client.h).stats().send;
    out.push(story::tail_loss_probe(
        (probe_at - last_ack).as_secs_f64() * 1000.0,
        srtt.as_secs_f64() * 2000.0,
        stats.rto_expirations.into(),
    ));
    if stats.rto_expirations != 0 {
        return Err("a retransmission timeout fired".into());
    }
    summarize_states(w, out);
    Ok(())
}

pub(super) fn rto_backoff(w: &mut World, out: &mut Vec<Text>) -> Result<(), Failure> {
    let (mut client, mut server) = open(w)?;
    client.chatty = false;
    server.chatty = false;
    // The path goes dark for the client's data: its first seven
    // transmissions (four segments, a probe, two retransmissions) vanish.
    let mut dropped = 0;
    w.set_filter(move |side, _, len| {
        if side == Side::A && len > 0 && dropped < 7 {
            dropped += 1;
            Verdict::Drop
        } else {
            Verdict::Pass
        }
    });
    w.network(Side::A, story::path_goes_dark());
    let full = full_segment(w, Side::A, client.h);
    client.write(&vec![b'x'; 4 * full]);
    w.run_until(|w| {
        client.pump(w);
        server.pump(w);
        server.read.len() == 4 * full
    })
    .map_err(werr)?;
    w.clear_filter();
    client_closes_first(w, &mut client, &mut server)?;
    let timeouts: Vec<Instant> = recovery_events(w, Side::A)
        .iter()
        .filter(|(_, e)| matches!(e, RecoveryEvent::Timeout { .. }))
        .map(|(t, _)| *t)
        .collect();
    if timeouts.len() < 3 {
        return Err(format!("expected at least 3 timeouts, saw {}", timeouts.len()).into());
    }
    let gaps: Vec<String> = timeouts
        .windows(2)
        .map(|p| format!("{:.0} ms", (p[1] - p[0]).as_secs_f64() * 1000.0))
        .collect();
    let times = timeouts
        .iter()
        .map(|t| t.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    out.push(story::rto_backoff(&times, &gaps.join(", ")));
    out.push(story::cwnd_after_timeout());
    summarize_states(w, out);
    Ok(())
}
