//! Flow control and the timers around it, drawn: a zero window and its
//! persist probes, Nagle's algorithm, delayed ACKs, keep-alive finding a
//! dead peer, and PAWS catching an old duplicate by its timestamp.

use super::basics::{REQUEST, RESPONSE};
use super::recovery::{client_data, full_segment};
use super::*;
use crate::trace::TraceEvent;
use synack_tcp::{Instant, Keepalive, SeqNum};

/// The server's receive buffer holds 4 KiB.
pub(super) fn small_server_buffer(cfg: &mut WorldConfig) {
    cfg.server_tcp.recv_buffer = 4096;
}

/// Keep-alive on the client after 2 s of silence, every 1 s, 3 probes
/// (Linux's defaults are 2 h, 75 s and 9: the same story, slower).
pub(super) fn short_keepalive(cfg: &mut WorldConfig) {
    cfg.client_tcp.keepalive = Some(Keepalive {
        idle: Duration::from_secs(2),
        interval: Duration::from_secs(1),
        count: 3,
    });
}

/// Pumps only the client for `d` of virtual time.
fn client_for(w: &mut World, client: &mut App, d: Duration) -> Result<(), Failure> {
    let end = w.now + d;
    w.run_until(|w| {
        client.pump(w);
        w.now >= end || w.next_deadline().is_none_or(|t| t > end)
    })
    .map_err(werr)?;
    w.run_for(end.saturating_since(w.now)).map_err(werr)
}

pub(super) fn zero_window(w: &mut World, out: &mut Vec<Text>) -> Result<(), Failure> {
    let (mut client, mut server) = open(w)?;
    client.chatty = false;
    server.chatty = false;
    const TOTAL: usize = 16 * 1024;
    w.note(Side::A, story::write_bytes(TOTAL));
    w.note(Side::B, story::busy_reader());
    client.write(&[b'z'; TOTAL]);
    client_for(w, &mut client, Duration::from_secs(5))?;
    let zero_at = w
        .trace
        .segments(Side::B)
        .find(|p| p.seg.window == 0 && !p.seg.flags.syn())
        .map(|p| p.at)
        .ok_or("the window never closed")?;
    let probes: Vec<Instant> = client_data(w)
        .iter()
        .filter(|(t, _, len)| *len == 1 && *t > zero_at)
        .map(|(t, _, _)| *t)
        .collect();
    w.note(Side::B, story::reads_again());
    w.run_until(|w| {
        client.pump(w);
        server.pump(w);
        server.read.len() == TOTAL
    })
    .map_err(werr)?;
    w.note(Side::B, story::read_in_all(TOTAL));
    client_closes_first(w, &mut client, &mut server)?;
    if probes.len() < 3 {
        return Err(format!("expected persist probes, saw {}", probes.len()).into());
    }
    let gaps: Vec<String> = probes
        .windows(2)
        .map(|p| format!("{:.0} ms", (p[1] - p[0]).as_secs_f64() * 1000.0))
        .collect();
    let times = probes
        .iter()
        .map(|t| t.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    out.push(story::zero_window(zero_at, &times, &gaps.join(", ")));
    out.push(story::window_reopened());
    summarize_states(w, out);
    Ok(())
}

/// Five 20-byte writes, 2 ms apart; returns how many data segments the
/// client sent for them.
fn five_small_writes(w: &mut World, client: &mut App, server: &mut App) -> Result<usize, Failure> {
    let before = client_data(w).len();
    for _ in 0..5 {
        client.write(b"twenty bytes, hello\n");
        client.pump(w);
        w.run_for(Duration::from_millis(2)).map_err(werr)?;
    }
    let target = client.out.len();
    w.run_until(|w| {
        client.pump(w);
        server.pump(w);
        server.read.len() == target
    })
    .map_err(werr)?;
    Ok(client_data(w).len() - before)
}

pub(super) fn nagle(w: &mut World, out: &mut Vec<Text>) -> Result<(), Failure> {
    let (mut client, mut server) = open(w)?;
    w.note(Side::A, story::five_writes_with_nagle());
    let with_nagle = five_small_writes(w, &mut client, &mut server)?;
    w.run_for(Duration::from_millis(100)).map_err(werr)?;
    w.note(Side::A, story::nodelay_five_more());
    w.conn(Side::A, client.h).set_nodelay(true);
    let without = five_small_writes(w, &mut client, &mut server)?;
    client_closes_first(w, &mut client, &mut server)?;
    out.push(story::with_nagle(with_nagle));
    out.push(story::with_nodelay(without));
    if with_nagle != 2 || without != 5 {
        return Err(format!("expected 2 and 5 segments, got {with_nagle} and {without}").into());
    }
    summarize_states(w, out);
    Ok(())
}

pub(super) fn delayed_ack(w: &mut World, out: &mut Vec<Text>) -> Result<(), Failure> {
    let (mut client, mut server) = open(w)?;
    client.chatty = false;
    server.chatty = false;
    let full = full_segment(w, Side::A, client.h);
    let one_way = w.link.config(Side::A).delay;
    // The first 16 segments: one ACK each (quick-ACK mode).
    w.note(Side::A, story::write_segments(16 * full, 16));
    client.write(&vec![b'a'; 16 * full]);
    let mut target = 16 * full;
    w.run_until(|w| {
        client.pump(w);
        server.pump(w);
        server.read.len() == target
    })
    .map_err(werr)?;
    w.run_for(Duration::from_millis(200)).map_err(werr)?;
    let quick_acks = w
        .trace
        .segments(Side::B)
        .filter(|p| p.len == 0 && !p.seg.flags.syn() && !p.seg.flags.fin())
        .count();
    // One small segment: its ACK waits 40 ms.
    w.note(Side::A, story::write_bytes(100));
    client.write(&[b'b'; 100]);
    target += 100;
    let sent_at = w.now;
    w.run_until(|w| {
        client.pump(w);
        server.pump(w);
        server.read.len() == target
    })
    .map_err(werr)?;
    w.run_for(Duration::from_millis(200)).map_err(werr)?;
    let delayed = w
        .trace
        .segments(Side::B)
        .find(|p| p.at > sent_at && p.len == 0)
        .map(|p| p.at - (sent_at + one_way))
        .ok_or("no ACK of the small segment")?;
    // Two full segments: the ACK goes out when the second arrives.
    w.note(Side::A, story::write_segments(2 * full, 2));
    client.write(&vec![b'c'; 2 * full]);
    target += 2 * full;
    let sent_at = w.now;
    w.run_until(|w| {
        client.pump(w);
        server.pump(w);
        server.read.len() == target
    })
    .map_err(werr)?;
    let pair = w
        .trace
        .segments(Side::B)
        .find(|p| p.at > sent_at && p.len == 0)
        .map(|p| p.at - (sent_at + one_way))
        .ok_or("no ACK of the two segments")?;
    client_closes_first(w, &mut client, &mut server)?;
    out.push(story::quick_acks(quick_acks));
    out.push(story::delayed_ack(delayed.as_secs_f64() * 1000.0));
    out.push(story::two_full_segments_acked(pair.as_secs_f64() * 1000.0));
    if delayed != Duration::from_millis(40) || pair != Duration::ZERO || quick_acks < 16 {
        return Err(lang::failure::ack_timing(
            quick_acks,
            delayed.as_secs_f64() * 1000.0,
            pair.as_secs_f64() * 1000.0,
        )
        .into());
    }
    summarize_states(w, out);
    Ok(())
}

pub(super) fn keepalive_dead_peer(w: &mut World, out: &mut Vec<Text>) -> Result<(), Failure> {
    let (mut client, mut server) = open(w)?;
    client.write(REQUEST);
    client.pump(w);
    pump_until(w, &mut server, |a| a.read.len() == REQUEST.len())?;
    server.write(RESPONSE);
    server.pump(w);
    pump_until(w, &mut client, |a| a.read.len() == RESPONSE.len())?;
    w.note(Side::A, story::idle_keepalive());
    w.run_for(Duration::from_millis(2500)).map_err(werr)?;
    w.network(Side::B, story::server_loses_power());
    w.set_filter(|_, _, _| Verdict::Drop);
    let c = client.h;
    w.run_until(|w| w.conn(Side::A, c).state() == State::Closed)
        .map_err(werr)?;
    let gone_at = w.now;
    w.note(Side::A, story::read_timed_out());
    let snd_nxt = w.conn(Side::A, c).info().snd_nxt;
    let probes: Vec<(Instant, bool)> = w
        .trace
        .events
        .iter()
        .filter_map(|e| match e {
            TraceEvent::Segment {
                at,
                from: Side::A,
                seg,
                len: 0,
                outcome,
                ..
            } if seg.flags == TcpFlags::ACK => {
                // Keep-alive probes carry SND.NXT − 1.
                (SeqNum(seg.seq) + 1 == snd_nxt)
                    .then_some((*at, outcome.fate == synack_device::Fate::Queued))
            }
            _ => None,
        })
        .collect();
    expect_closed(w, Side::A, c, CloseReason::TimedOut)?;
    let answered = probes.iter().filter(|p| p.1).count();
    let times = probes
        .iter()
        .map(|p| p.0.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    out.push(story::keepalive_probes(&times, answered));
    out.push(story::keepalive_gave_up(gone_at));
    if answered == 0 || probes.len() < 4 {
        return Err(lang::failure::keepalive_probes(probes.len(), answered).into());
    }
    out.extend(side_chains(w, Side::A));
    out.push(story::server_gone());
    Ok(())
}

pub(super) fn paws(w: &mut World, out: &mut Vec<Text>) -> Result<(), Failure> {
    let (mut client, mut server) = open(w)?;
    client.write(REQUEST);
    client.pump(w);
    pump_until(w, &mut server, |a| a.read.len() == REQUEST.len())?;
    // The server's latest timestamp, as the client has seen it.
    let (tsval, _) = w
        .trace
        .segments(Side::B)
        .filter_map(|p| p.seg.options.timestamps)
        .last()
        .ok_or("no timestamps in use")?;
    let info = w.conn(Side::A, client.h).info();
    let mut options = TcpOptions::default();
    options.timestamps = Some((tsval.wrapping_sub(5000), 0));
    let old = TcpRepr {
        src_port: SERVER_PORT,
        dst_port: info.local.port(),
        seq: info.rcv_nxt.0,
        ack: info.snd_nxt.0,
        flags: TcpFlags::ACK | TcpFlags::PSH,
        window: 1000,
        urgent: 0,
        options,
        payload: b"STALE DATA",
    };
    let mut pkt = [0u8; 128];
    let n = write_packet(&mut pkt, info.remote.ip(), info.local.ip(), &old)
        .ok_or("packet buffer too small")?;
    w.network(Side::B, story::paws_old_duplicate());
    w.inject(Side::B, &pkt[..n]);
    w.run_for(Duration::from_millis(30)).map_err(werr)?;
    let rejected = w.conn(Side::A, client.h).stats().paws_rejected;
    server.write(RESPONSE);
    server.pump(w);
    pump_until(w, &mut client, |a| a.read.len() == RESPONSE.len())?;
    client_closes_first(w, &mut client, &mut server)?;
    out.push(story::paws(rejected));
    if rejected != 1 || client.read != RESPONSE {
        return Err(lang::failure::paws_rejections(rejected, &printable(&client.read)).into());
    }
    summarize_states(w, out);
    Ok(())
}
