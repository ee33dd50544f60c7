//! More of the seeds' drawings: a close in three segments (the server's
//! FIN riding its ACK of the client's FIN), data riding the third segment
//! of the handshake, the 536-byte segments a peer gets when its SYN had no
//! MSS option, an abort with RST in mid-connection, the RST a host
//! sends for a segment of a connection it does not know (a half-open
//! connection found after the peer crashed, RFC 9293 §3.5.2), and urgent
//! data with the URG flag and the urgent pointer (RFC 9293 §3.8.5).

use super::*;
use crate::trace::TraceEvent;
use synack_wire::TcpHeader;

/// Steps the world, running `app` after what arrives has been handed to the
/// hosts and before they answer it, until `app` says it is done.
/// `World::step` lets the hosts send first, so an ACK that a segment makes
/// due leaves before any application has seen the segment. Here the
/// application woken by the segment acts in the same instant, and what it
/// sends leaves in the same segments as the host's answer.
fn app_first_until(w: &mut World, mut app: impl FnMut(&mut World) -> bool) -> Result<(), Failure> {
    for _ in 0..10_000 {
        w.flush();
        let next = w
            .next_deadline()
            .ok_or("went idle before the application was done")?;
        w.now = w.now.max(next);
        let now = w.now;
        while w.deliver_next() {}
        let done = app(w);
        w.client.handle_timeout(now);
        w.server.handle_timeout(now);
        w.flush();
        if done {
            return Ok(());
        }
    }
    Err("the application was not done after 10000 steps".into())
}

/// The segments put on the link since trace event `start`, in order.
fn segments_since(w: &World, start: usize) -> Vec<(Side, TcpHeader, usize)> {
    w.trace.events[start..]
        .iter()
        .filter_map(|e| match e {
            TraceEvent::Segment { from, seg, len, .. } => Some((*from, *seg, *len)),
            _ => None,
        })
        .collect()
}

pub(super) fn three_segment_close(w: &mut World, out: &mut Vec<Text>) -> Result<(), Failure> {
    let (mut client, mut server) = open(w)?;
    let (c, s) = (client.h, server.h);
    client.write(REQUEST);
    client.pump(w);
    pump_until(w, &mut server, |a| a.read.len() == REQUEST.len())?;
    server.write(RESPONSE);
    server.pump(w);
    pump_until(w, &mut client, |a| a.read.len() == RESPONSE.len())?;
    // The close starts on a quiet link: every segment after this is the close's.
    w.run_until(|w| w.link.in_flight() == 0).map_err(werr)?;
    let start = w.trace.events.len();
    client.close(w);
    // The server application is woken by the FIN and closes in the same
    // instant, before its host has sent the ACK it owes for that FIN: the
    // ACK and the server's own FIN leave as one segment.
    app_first_until(w, |w| {
        server.pump(w);
        if server.eof {
            server.close(w);
            w.explain(Side::B, story::ack_rides_fin());
        }
        server.eof
    })?;
    app_first_until(w, |w| {
        let state = w.conn(Side::A, c).state();
        if state == State::TimeWait {
            w.explain(Side::A, story::straight_to_time_wait());
        }
        state != State::FinWait1
    })?;
    w.run_until_idle().map_err(werr)?;
    expect_closed(w, Side::A, c, CloseReason::Normal)?;
    expect_closed(w, Side::B, s, CloseReason::Normal)?;

    let close = segments_since(w, start);
    let [(Side::A, fin, 0), (Side::B, fin_ack, 0), (Side::A, last, 0)] = close[..] else {
        let seen: Vec<String> = close
            .iter()
            .map(|(side, seg, len)| {
                let who = crate::trace::side_name(*side);
                match len {
                    0 => format!("{who} {}", seg.flags),
                    n => format!("{who} {} len={n}", seg.flags),
                }
            })
            .collect();
        return Err(format!(
            "the close took {} segments, not FIN, FIN+ACK, ACK: {}",
            close.len(),
            seen.join("; ")
        )
        .into());
    };
    if !fin.flags.fin() || fin.flags.syn() || fin.flags.rst() {
        return Err(format!("the close began with {}, not a FIN", fin.flags).into());
    }
    if !(fin_ack.flags.fin() && fin_ack.flags.ack()) || fin_ack.ack != fin.seq.wrapping_add(1) {
        return Err(format!(
            "the server's segment ({}) does not both acknowledge the client's FIN and carry its own",
            fin_ack.flags
        ).into());
    }
    if last.flags != TcpFlags::ACK || last.ack != fin_ack.seq.wrapping_add(1) {
        return Err(format!(
            "the last segment ({}) is not the ACK of the server's FIN",
            last.flags
        )
        .into());
    }
    let client_states = w.trace.states(Side::A);
    let direct = client_states
        .windows(2)
        .any(|p| p == [State::FinWait1, State::TimeWait]);
    if !direct || client_states.contains(&State::FinWait2) {
        let names: Vec<&str> = client_states.iter().map(|s| s.name()).collect();
        return Err(format!(
            "the client did not go FIN-WAIT-1 → TIME-WAIT directly: {}",
            names.join(" → ")
        )
        .into());
    }
    out.push(story::close_in_three());
    out.push(story::never_in_fin_wait_2());
    summarize_states(w, out);
    Ok(())
}

pub(super) fn data_on_third_segment(w: &mut World, out: &mut Vec<Text>) -> Result<(), Failure> {
    let l = listen(w)?;
    let c = connect(w, SERVER_PORT)?;
    // RFC 9293 §3.10.2: SEND in SYN-SENT queues the data; it goes out
    // with the ACK that completes the handshake.
    let n = w
        .conn(Side::A, c)
        .send(REQUEST)
        .map_err(|e| format!("send in SYN-SENT failed: {e}"))?;
    w.note(Side::A, story::write_in_syn_sent(n));
    let s = accept(w, l)?;
    let mut server = App::new(Side::B, s);
    pump_until(w, &mut server, |a| a.read.len() == REQUEST.len())?;
    // The client's first segment after its SYN: the third of the handshake.
    let third = w.trace.events.iter().find_map(|e| match e {
        TraceEvent::Segment {
            from: Side::A,
            seg,
            len,
            ..
        } if !seg.flags.syn() => Some((*seg, *len)),
        _ => None,
    });
    let (third, len) = third.ok_or("the client sent nothing after its SYN")?;
    if len != REQUEST.len() || !third.flags.ack() {
        return Err(format!("the third segment carried {len} bytes, not the request").into());
    }
    out.push(story::data_on_third_segment(len));
    let mut client = App::new(Side::A, c);
    client_closes_first(w, &mut client, &mut server)?;
    summarize_states(w, out);
    Ok(())
}

/// TCP_NOOPT on the client, as FreeBSD has it and the drill runner models
/// it: nothing the client sends carries an option, not even the MSS.
pub(super) fn client_without_options(cfg: &mut WorldConfig) {
    let c = &mut cfg.client_tcp;
    c.mss_option = false;
    c.window_scaling = false;
    c.sack = false;
    c.timestamps = false;
}

pub(super) fn default_mss_536(w: &mut World, out: &mut Vec<Text>) -> Result<(), Failure> {
    const BODY: usize = 4000;
    let l = listen(w)?;
    w.note(Side::A, story::no_options());
    let c = connect(w, SERVER_PORT)?;
    // Say what the server makes of the SYN as it arrives, before its SYN,ACK.
    app_first_until(w, |w| {
        let arrived = w.server.counters().tcp_in_segs > 0;
        if arrived {
            w.explain(Side::B, story::assume_536());
            w.explain(Side::B, story::why_536());
        }
        arrived
    })?;
    let s = accept(w, l)?;
    established(w, Side::A, c)?;
    let syn = w
        .trace
        .segments(Side::A)
        .find(|p| p.seg.flags.syn())
        .map(|p| p.seg.options)
        .ok_or("the client sent no SYN")?;
    if syn.mss.is_some() {
        return Err(lang::failure::syn_carried(&syn.to_string()).into());
    }
    if syn.window_scale.is_some() || syn.sack_permitted || syn.timestamps.is_some() {
        return Err(lang::failure::syn_carried(&syn.to_string()).into());
    }
    let server_mss = w.conn(Side::B, s).info().mss;
    if server_mss != 536 {
        return Err(format!(
            "the server's MSS towards the client is {server_mss}, not the default 536"
        )
        .into());
    }
    let client_mss = w.conn(Side::A, c).info().mss;

    let mut client = App::new(Side::A, c);
    let mut server = App::new(Side::B, s);
    client.write(REQUEST);
    client.pump(w);
    pump_until(w, &mut server, |a| a.read.len() == REQUEST.len())?;
    let mut response = format!("HTTP/1.1 200 OK\r\nContent-Length: {BODY}\r\n\r\n").into_bytes();
    response.extend((0..BODY).map(|i| b'a' + (i % 26) as u8));
    let len = response.len();
    let (full, rest) = (len / 536, len % 536);
    server.write(&response);
    server.pump(w);
    w.explain(Side::B, story::cut_at_536(len, full, rest));
    pump_until(w, &mut client, |a| a.read.len() == len)?;

    // Every data segment from the server carries 536 bytes, but the one
    // that ends the response (retransmissions included, under loss).
    let isn = w
        .trace
        .segments(Side::B)
        .find(|p| p.seg.flags.syn())
        .map(|p| p.seg.seq)
        .ok_or("the server sent no SYN,ACK")?;
    let data: Vec<(usize, usize)> = w
        .trace
        .segments(Side::B)
        .filter(|p| p.len > 0)
        .map(|p| (p.seg.seq.wrapping_sub(isn).wrapping_sub(1) as usize, p.len))
        .collect();
    let odd = data
        .iter()
        .any(|&(at, n)| n > 536 || (n < 536 && at + n != len));
    if odd || !data.iter().any(|&(_, n)| n == 536) {
        let lens: Vec<usize> = data.iter().map(|&(_, n)| n).collect();
        return Err(lang::failure::not_cut_at_536(&lens).into());
    }
    client_closes_first(w, &mut client, &mut server)?;
    out.push(story::no_mss_option_536());
    out.push(story::response_in_536(len, full, rest));
    out.push(story::mss_per_direction(client_mss));
    summarize_states(w, out);
    Ok(())
}

pub(super) fn rst_abort(w: &mut World, out: &mut Vec<Text>) -> Result<(), Failure> {
    let (mut client, mut server) = open(w)?;
    let (c, s) = (client.h, server.h);
    client.write(REQUEST);
    client.pump(w);
    pump_until(w, &mut server, |a| a.read.len() == REQUEST.len())?;
    let now = w.now;
    w.note(Side::A, story::abort());
    w.conn(Side::A, c).abort(now);
    w.run_until(|w| w.conn(Side::B, s).state() == State::Closed)
        .map_err(werr)?;
    match w.conn(Side::B, s).recv(&mut [0u8; 16]) {
        Err(Error::Closed(CloseReason::Reset)) => w.note(Side::B, story::read_reset()),
        other => return Err(lang::failure::read_not_reset(Side::B, other).into()),
    }
    w.run_until_idle().map_err(werr)?;
    expect_closed(w, Side::A, c, CloseReason::Aborted)?;
    expect_closed(w, Side::B, s, CloseReason::Reset)?;
    out.push(story::abort_sends_one_rst());
    let rsts = w.client.counters().tcp_out_rsts;
    if rsts > 1 {
        out.push(story::rst_for_crossing_ack(rsts));
    }
    summarize_states(w, out);
    Ok(())
}

pub(super) fn rst_after_crash(w: &mut World, out: &mut Vec<Text>) -> Result<(), Failure> {
    let (mut client, mut server) = open(w)?;
    let c = client.h;
    client.write(REQUEST);
    client.pump(w);
    pump_until(w, &mut server, |a| a.read.len() == REQUEST.len())?;
    w.run_until(|w| w.link.in_flight() == 0).map_err(werr)?;
    // The server's host crashes and comes back: it remembers no
    // connection, and nothing listens yet.
    w.network(Side::B, story::host_reboots());
    let config = w.server.config().clone();
    w.server = synack_stack::Host::new(config, [0x5a; 32]);
    w.run_for(Duration::from_millis(100)).map_err(werr)?;
    // The client does not know: its connection is half-open.
    client.write(b"are you there?\n");
    client.pump(w);
    w.run_until(|w| w.conn(Side::A, c).state() == State::Closed)
        .map_err(werr)?;
    match w.conn(Side::A, c).recv(&mut [0u8; 16]) {
        Err(Error::Closed(CloseReason::Reset)) => w.note(Side::A, story::half_open_found()),
        other => return Err(lang::failure::read_not_reset(Side::A, other).into()),
    }
    w.run_until_idle().map_err(werr)?;
    expect_closed(w, Side::A, c, CloseReason::Reset)?;
    out.push(story::rst_for_unknown_connection());
    let rsts = w.server.counters().tcp_out_rsts;
    out.push(story::rebooted_server_rsts(rsts));
    summarize_states(w, out);
    Ok(())
}

pub(super) fn urgent_data(w: &mut World, out: &mut Vec<Text>) -> Result<(), Failure> {
    const COMMAND: &[u8] = b"sleep 100\r\n";
    const CTRL_C: u8 = 0x03;
    const ECHO: &[u8] = b"^C\r\n$ ";
    let (mut client, mut server) = open(w)?;
    let (c, s) = (client.h, server.h);
    client.write(COMMAND);
    client.pump(w);
    pump_until(w, &mut server, |a| a.read.len() == COMMAND.len())?;
    // The user presses Ctrl-C while the command runs: a telnet-like client
    // sends the interrupt as urgent data, so that the server hears of it
    // before it reads that far.
    w.note(Side::A, story::urgent_send());
    let n = w
        .conn(Side::A, c)
        .send_urgent(&[CTRL_C])
        .map_err(|e| format!("send_urgent failed: {e}"))?;
    if n != 1 {
        return Err(format!("send_urgent took {n} bytes, not 1").into());
    }
    // The server's TCP reports the pointer as the segment arrives, before
    // the application reads the byte.
    let irs = w.conn(Side::B, s).info().irs;
    let mut up = None;
    app_first_until(w, |w| {
        up = w.conn(Side::B, s).urgent_pointer();
        if let Some(up) = up {
            let rel = up.since(irs);
            w.note(Side::B, story::urgent_pointer_seen(rel));
        }
        up.is_some()
    })?;
    let up = up.ok_or("the server's TCP saw no urgent pointer")?;
    pump_until(w, &mut server, |a| a.read.len() == COMMAND.len() + 1)?;
    w.note(Side::B, story::urgent_byte_read());
    server.write(ECHO);
    server.pump(w);
    pump_until(w, &mut client, |a| a.read.len() == ECHO.len())?;
    client_closes_first(w, &mut client, &mut server)?;

    // The urgent byte's segment: URG, and a pointer just past the byte.
    let urgent: Vec<_> = w
        .trace
        .segments(Side::A)
        .filter(|p| p.seg.flags.urg())
        .map(|p| (p.at, *p.seg, p.len))
        .collect();
    let [(sent_at, seg, len)] = urgent[..] else {
        return Err(format!(
            "{} client segments carried URG, not just the urgent byte's",
            urgent.len()
        )
        .into());
    };
    let pointer = seg.seq.wrapping_add(u32::from(seg.urgent));
    if len != 1 || pointer != seg.seq.wrapping_add(1) || pointer != up.0 {
        return Err(format!(
            "the urgent segment (len {len}, field {}) does not point just past the urgent byte \
             (the server saw the pointer at {up})",
            seg.urgent
        )
        .into());
    }
    let mut want = COMMAND.to_vec();
    want.push(CTRL_C);
    if server.read != want {
        return Err(format!(
            "the server read {}, not the command and the Ctrl-C in order",
            printable(&server.read)
        )
        .into());
    }
    let (rel_seq, rel_up) = (seg.seq.wrapping_sub(irs.0), up.since(irs));
    out.push(story::urgent_went(rel_seq, rel_up, seg.urgent));
    out.push(story::urgent_not_a_channel());
    // Was the command still unacknowledged when the Ctrl-C left?
    let command_end = seg.seq;
    let acked_at = w
        .trace
        .segments(Side::B)
        .filter(|p| p.seg.flags.ack() && (p.seg.ack.wrapping_sub(command_end) as i32) >= 0)
        .filter_map(|p| p.outcome.arrival)
        .min();
    if acked_at.is_some_and(|a| sent_at < a) {
        out.push(story::urgent_past_nagle());
    }
    summarize_states(w, out);
    Ok(())
}
