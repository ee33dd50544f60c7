//! The opening and closing drawings of the seeds: handshake and four-way
//! close, simultaneous open and close, half-close, a lost final ACK, a
//! closed port, a connect timeout, an old duplicate SYN, and a transfer
//! under loss.

use super::*;

pub(super) const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: synack\r\n\r\n";
pub(super) const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nhello\n";

pub(super) fn handshake_close(w: &mut World, out: &mut Vec<Text>) -> Result<(), Failure> {
    let (mut client, mut server) = open(w)?;
    client.write(REQUEST);
    client.pump(w);
    pump_until(w, &mut server, |a| a.read.len() == REQUEST.len())?;
    server.write(RESPONSE);
    server.pump(w);
    pump_until(w, &mut client, |a| a.read.len() == RESPONSE.len())?;
    // The client closes first (active close); the server closes on EOF.
    client_closes_first(w, &mut client, &mut server)?;
    summarize_states(w, out);
    Ok(())
}

pub(super) fn simultaneous_open(w: &mut World, out: &mut Vec<Text>) -> Result<(), Failure> {
    // Both sides actively open towards each other's fixed port at t = 0.
    let (a, b) = (w.client_addr(5000), w.server_addr(6000));
    w.note(Side::A, story::connect_from(b, 5000));
    w.note(Side::B, story::connect_from(a, 6000));
    let now = w.now;
    let c = w
        .client
        .connect_from(now, a, b)
        .map_err(|e| e.to_string())?;
    let s = w
        .server
        .connect_from(now, b, a)
        .map_err(|e| e.to_string())?;
    established(w, Side::A, c)?;
    established(w, Side::B, s)?;
    w.run_until(|w| w.conn(Side::B, s).state() == State::Established)
        .map_err(werr)?;
    let mut client = App::new(Side::A, c);
    let mut server = App::new(Side::B, s);
    client_closes_first(w, &mut client, &mut server)?;
    summarize_states(w, out);
    Ok(())
}

pub(super) fn simultaneous_close(w: &mut World, out: &mut Vec<Text>) -> Result<(), Failure> {
    let (mut client, mut server) = open(w)?;
    let (c, s) = (client.h, server.h);
    // Let the last ACK of the handshake settle, then both close at once.
    w.run_until(|w| w.link.in_flight() == 0).map_err(werr)?;
    client.close_when_written = true;
    server.close_when_written = true;
    client.pump(w);
    server.pump(w);
    w.run_until_idle().map_err(werr)?;
    expect_closed(w, Side::A, c, CloseReason::Normal)?;
    expect_closed(w, Side::B, s, CloseReason::Normal)?;
    summarize_states(w, out);
    Ok(())
}

pub(super) fn half_close(w: &mut World, out: &mut Vec<Text>) -> Result<(), Failure> {
    let (mut client, mut server) = open(w)?;
    let (c, s) = (client.h, server.h);
    // The client sends its whole request and shuts down its sending side.
    client.write(b"upload: 3 lines\n");
    client.shutdown(w);
    pump_until(w, &mut server, |a| a.eof)?;
    // In CLOSE-WAIT the server may still send, and the client still reads.
    // Each line goes out at once (no Nagle: see the `nagle` scenario).
    let state = server.state(w);
    w.note(Side::B, story::still_sending_in(state));
    w.conn(Side::B, s).set_nodelay(true);
    for line in [
        &b"line 1 received\n"[..],
        b"line 2 received\n",
        b"line 3 received\n",
    ] {
        server.write(line);
        server.pump(w);
        w.run_for(Duration::from_millis(5)).map_err(werr)?;
    }
    pump_until(w, &mut client, |a| a.read.len() == 48)?;
    server.close(w);
    pump_until(w, &mut client, |a| a.eof)?;
    w.run_until_idle().map_err(werr)?;
    if client.read.len() != 48 {
        return Err(format!(
            "client read {} bytes after its shutdown, expected 48",
            client.read.len()
        )
        .into());
    }
    expect_closed(w, Side::A, c, CloseReason::Normal)?;
    expect_closed(w, Side::B, s, CloseReason::Normal)?;
    out.push(story::read_after_shutdown(client.read.len()));
    summarize_states(w, out);
    Ok(())
}

pub(super) fn lost_final_ack(w: &mut World, out: &mut Vec<Text>) -> Result<(), Failure> {
    let (mut client, mut server) = open(w)?;
    let (c, s) = (client.h, server.h);
    client.close(w);
    pump_until(w, &mut server, |a| a.eof)?;
    // Lose the client's first ACK of the server's FIN.
    let mut dropped = false;
    w.set_filter(move |side, seg, len| {
        if side == Side::A && !dropped && seg.flags == TcpFlags::ACK && len == 0 {
            dropped = true;
            Verdict::Drop
        } else {
            Verdict::Pass
        }
    });
    server.close(w);
    w.run_until(|w| w.conn(Side::A, c).state() == State::TimeWait)
        .map_err(werr)?;
    let first_deadline = w.conn(Side::A, c).poll_timeout();
    let mut restarted = None;
    w.run_until(|w| {
        let now = w.conn(Side::A, c).poll_timeout();
        if now != first_deadline && restarted.is_none() {
            restarted = now;
            let t = w.now;
            w.explain(Side::A, story::fin_again_in_time_wait(t));
        }
        w.conn(Side::B, s).state() == State::Closed
    })
    .map_err(werr)?;
    w.run_until_idle().map_err(werr)?;
    if restarted.is_none() {
        return Err("the TIME-WAIT timer was never restarted".into());
    }
    expect_closed(w, Side::A, c, CloseReason::Normal)?;
    expect_closed(w, Side::B, s, CloseReason::Normal)?;
    let fins = w
        .trace
        .segments(Side::B)
        .filter(|p| p.seg.flags.fin())
        .count();
    out.push(story::fin_sent_times(fins));
    summarize_states(w, out);
    Ok(())
}

pub(super) fn closed_port(w: &mut World, out: &mut Vec<Text>) -> Result<(), Failure> {
    let c = connect(w, 81)?;
    w.run_until(|w| w.conn(Side::A, c).state() == State::Closed)
        .map_err(werr)?;
    let err = w.conn(Side::A, c).send(b"x").err();
    if err != Some(Error::Closed(CloseReason::Refused)) {
        return Err(lang::failure::not_refused(err).into());
    }
    w.note(Side::A, story::connect_refused());
    w.run_until_idle().map_err(werr)?;
    out.push(story::refused_by_rst());
    summarize_states(w, out);
    Ok(())
}

pub(super) fn connect_timeout(w: &mut World, out: &mut Vec<Text>) -> Result<(), Failure> {
    // Everything the client sends disappears.
    w.set_filter(|side, _, _| {
        if side == Side::A {
            Verdict::Drop
        } else {
            Verdict::Pass
        }
    });
    w.network(Side::A, story::black_hole());
    let c = connect(w, SERVER_PORT)?;
    w.run_until(|w| w.conn(Side::A, c).state() == State::Closed)
        .map_err(werr)?;
    expect_closed(w, Side::A, c, CloseReason::TimedOut)?;
    let t = w.now;
    w.note(Side::A, story::connect_timed_out());
    let times: Vec<String> = w
        .trace
        .segments(Side::A)
        .map(|p| p.at.to_string())
        .collect();
    out.push(story::syns_sent(times.len(), &times.join(", "), t));
    summarize_states(w, out);
    Ok(())
}

pub(super) fn stale_syn(w: &mut World, out: &mut Vec<Text>) -> Result<(), Failure> {
    let l = listen(w)?;
    // The client's real SYN is slow; an old duplicate SYN of an earlier
    // incarnation of the same connection overtakes it.
    let mut first = true;
    w.set_filter(move |side, seg, _| {
        if side == Side::A && seg.flags == TcpFlags::SYN && first {
            first = false;
            Verdict::Delay(Duration::from_millis(30))
        } else {
            Verdict::Pass
        }
    });
    let c = connect(w, SERVER_PORT)?;
    w.network(Side::A, story::syn_held_back());
    w.flush();
    let info = w.conn(Side::A, c).info();
    let mut options = TcpOptions::default();
    options.mss = Some(1460);
    let old = TcpRepr {
        src_port: info.local.port(),
        dst_port: SERVER_PORT,
        seq: info.iss.0.wrapping_sub(10),
        ack: 0,
        flags: TcpFlags::SYN,
        window: 65535,
        urgent: 0,
        options,
        payload: &[],
    };
    let mut pkt = [0u8; 128];
    let n = write_packet(&mut pkt, info.local.ip(), info.remote.ip(), &old)
        .ok_or("packet buffer too small")?;
    w.network(Side::A, story::old_syn_in_flight());
    w.inject(Side::A, &pkt[..n]);
    let s = accept(w, l)?;
    established(w, Side::A, c)?;
    let mut client = App::new(Side::A, c);
    let mut server = App::new(Side::B, s);
    client_closes_first(w, &mut client, &mut server)?;
    let rsts = w
        .trace
        .segments(Side::A)
        .filter(|p| p.seg.flags.rst())
        .count();
    out.push(story::rst_for_bogus_syn_ack(rsts));
    summarize_states(w, out);
    Ok(())
}

/// The deterministic 1 MiB payload of `lossy-transfer`.
pub fn transfer_payload(seed: u64, len: usize) -> Vec<u8> {
    let mut data = vec![0u8; len];
    Rng::new(seed ^ 0x5eed).fill(&mut data);
    data
}

pub(super) fn lossy_transfer(w: &mut World, out: &mut Vec<Text>) -> Result<(), Failure> {
    const LEN: usize = 1 << 20;
    let data = transfer_payload(w.seed(), LEN);
    let sent_hash = Sha256::digest(&data);
    let (mut client, mut server) = open(w)?;
    let (c, s) = (client.h, server.h);
    client.chatty = false;
    server.chatty = false;
    w.note(Side::A, story::write_then_close(LEN));
    client.write(&data);
    client.close_when_written = true;
    let start = w.now;
    w.run_until(|w| {
        client.pump(w);
        server.pump(w);
        server.eof
    })
    .map_err(werr)?;
    let elapsed = w.now - start;
    server.close(w);
    w.run_until_idle().map_err(werr)?;
    let got_hash = Sha256::digest(&server.read);
    let stats = w.conn(Side::A, c).stats();
    out.push(story::transfer(
        server.read.len(),
        elapsed.as_secs_f64(),
        stats.segs_out,
        stats.send.retransmits.into(),
        w.lost(Side::A) + w.lost(Side::B),
    ));
    let hex: String = got_hash
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    if got_hash != sent_hash || server.read.len() != LEN {
        return Err(format!(
            "data corrupted: received {} bytes, SHA-256 {hex}… does not match",
            server.read.len()
        )
        .into());
    }
    out.push(story::hash_matches(&hex));
    expect_closed(w, Side::A, c, CloseReason::Normal)?;
    expect_closed(w, Side::B, s, CloseReason::Normal)?;
    summarize_states(w, out);
    Ok(())
}
