//! The host around the connections, drawn: a SYN flood met by SYN
//! cookies, what an nmap scan sees, orphans the stack finishes alone, the
//! TIME-WAIT table (a new SYN reopening a tuple, a connect that must pick
//! another port), and an old duplicate arriving in a new incarnation of
//! its connection.

use super::*;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use synack_stack::{ConnectOptions, Host, StackError};
use synack_tcp::Instant;

/// The named counters of `host`, as `name value` pairs on one line.
fn counters(host: &Host, names: &[&str]) -> String {
    host.counters()
        .iter()
        .filter(|(n, _)| names.contains(n))
        .map(|(n, v)| format!("{n} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A hand-made TCP segment from `src` to `dst`, put on the wire from the
/// client's side of the link (as if the client's host, or someone
/// pretending to be it, sent it).
fn inject(w: &mut World, src: SocketAddr, dst: SocketAddr, seq: u32, flags: TcpFlags, label: Text) {
    let mut options = TcpOptions::default();
    if flags.syn() {
        options.mss = Some(1460);
    }
    let seg = TcpRepr {
        src_port: src.port(),
        dst_port: dst.port(),
        seq,
        ack: 0,
        flags,
        window: 1024,
        urgent: 0,
        options,
        payload: &[],
    };
    let mut pkt = [0u8; 128];
    if let Some(n) = write_packet(&mut pkt, src.ip(), dst.ip(), &seg) {
        w.inject_as(Side::A, &pkt[..n], label);
    }
}

/// Listen backlog of the flooded server: its SYN queue is full at 4.
const FLOOD_BACKLOG: usize = 4;
const SPOOFED: u32 = 10;

pub(super) fn syn_flood(w: &mut World, out: &mut Vec<Text>) -> Result<(), Failure> {
    w.note(
        Side::B,
        story::call(format!("listen(:{SERVER_PORT}, backlog {FLOOD_BACKLOG})")),
    );
    let now = w.now;
    let any = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), SERVER_PORT);
    let l = w
        .server
        .listen_on(now, any, FLOOD_BACKLOG, None)
        .map_err(|e| e.to_string())?;
    w.network(Side::A, story::spoofed_syns(SPOOFED));
    let to = w.server_addr(SERVER_PORT);
    let mut rng = Rng::new(w.seed() ^ 0xf100d);
    for i in 0..SPOOFED {
        let src = SocketAddr::new(
            IpAddr::V4(Ipv4Addr::new(198, 18, (i / 250) as u8, 1 + (i % 250) as u8)),
            1024 + (rng.next_u32() % 60000) as u16,
        );
        inject(
            w,
            src,
            to,
            rng.next_u32(),
            TcpFlags::SYN,
            story::spoofed_source(),
        );
        w.run_for(Duration::from_millis(1)).map_err(werr)?;
        if i + 1 == FLOOD_BACKLOG as u32 {
            w.run_for(Duration::from_millis(10)).map_err(werr)?;
            w.explain(Side::B, story::syn_queue_full(FLOOD_BACKLOG));
        }
    }
    w.run_for(Duration::from_millis(15)).map_err(werr)?;
    w.snapshot(Side::B, story::server_under_flood());
    let (syn_queue, cookies_before) = (
        w.server.listener_queues(l).map_or(0, |q| q.1),
        w.server.counters().syncookies_sent,
    );
    w.note(Side::A, story::legitimate_client());
    let c = connect(w, SERVER_PORT)?;
    let s = accept(w, l)?;
    established(w, Side::A, c)?;
    let mut client = App::new(Side::A, c);
    let mut server = App::new(Side::B, s);
    client.write(super::basics::REQUEST);
    client.pump(w);
    pump_until(w, &mut server, |a| {
        a.read.len() == super::basics::REQUEST.len()
    })?;
    server.write(super::basics::RESPONSE);
    server.pump(w);
    pump_until(w, &mut client, |a| {
        a.read.len() == super::basics::RESPONSE.len()
    })?;
    // The client closes; the half-open records keep retransmitting their
    // SYN-ACKs to addresses that never answer (1 s, then 2 s later...).
    client.close(w);
    pump_until(w, &mut server, |a| a.eof)?;
    server.close(w);
    w.run_for(Duration::from_millis(3100)).map_err(werr)?;
    let cookies = w.server.counters().syncookies_sent;
    if w.server.counters().syncookies_recv != 1 {
        return Err("the client's connection should have come from a cookie".into());
    }
    out.push(story::flood(SPOOFED, syn_queue, cookies_before));
    out.push(story::cookie_checked(cookies));
    out.push(story::counters(
        Side::B,
        &counters(
            &w.server,
            &[
                "TcpExtSyncookiesSent",
                "TcpExtSyncookiesRecv",
                "TcpExtSyncookiesFailed",
                "TcpPassiveOpens",
                "TcpExtListenOverflows",
            ],
        ),
    ));
    out.push(story::synack_retries());
    Ok(())
}

pub(super) fn nmap_scan(w: &mut World, out: &mut Vec<Text>) -> Result<(), Failure> {
    listen(w)?;
    w.run_for(Duration::from_millis(1)).map_err(werr)?;
    let (scanner, target) = (w.client.addr(), w.server.addr());
    let probes = [
        (story::scan("SYN", Some("-sS"), 80), 80, TcpFlags::SYN),
        (story::scan("SYN", None, 81), 81, TcpFlags::SYN),
        (story::scan("FIN", Some("-sF"), 80), 80, TcpFlags::FIN),
        (story::scan("FIN", None, 81), 81, TcpFlags::FIN),
    ];
    let mut verdicts = Vec::new();
    for (i, (what, port, flags)) in probes.into_iter().enumerate() {
        w.note(Side::A, story::raw_socket(&what));
        let before = w.trace.segments(Side::B).count();
        let src = SocketAddr::new(scanner, 45000 + i as u16);
        inject(
            w,
            src,
            SocketAddr::new(target, port),
            1000,
            flags,
            story::nmap_probe(),
        );
        w.run_for(Duration::from_millis(100)).map_err(werr)?;
        let answer = w.trace.segments(Side::B).nth(before).map(|p| p.seg.flags);
        let verdict = match (flags.syn(), answer) {
            (true, Some(f)) if f.syn() && f.ack() => story::open_port(),
            (_, Some(f)) if f.rst() => story::closed_port(),
            (false, None) => story::open_or_filtered(),
            _ => story::filtered(),
        };
        w.note(Side::A, story::nmap_says(port, &verdict));
        verdicts.push(story::scan_verdict(&what, &verdict));
    }
    w.run_until_idle().map_err(werr)?;
    out.extend(verdicts);
    out.push(story::counters(
        Side::B,
        &counters(&w.server, &["TcpInSegs", "TcpOutRsts", "TcpExtListenDrops"]),
    ));
    Ok(())
}

/// The server's receive buffer holds 8 KiB: the orphan has to wait for it.
pub(super) fn small_receive_buffer(cfg: &mut WorldConfig) {
    cfg.server_tcp.recv_buffer = 8192;
}

pub(super) fn orphans(w: &mut World, out: &mut Vec<Text>) -> Result<(), Failure> {
    let (mut client, mut server) = open(w)?;
    client.chatty = false;
    server.chatty = false;
    const TOTAL: usize = 40 * 1024;
    let data: Vec<u8> = (0..TOTAL).map(|i| b'a' + (i % 26) as u8).collect();
    // The whole response fits the send buffer: write() returns at once.
    let n = w
        .conn(Side::A, client.h)
        .send(&data)
        .map_err(|e| e.to_string())?;
    w.note(Side::A, story::write_bytes(n));
    let now = w.now;
    w.note(Side::A, story::orphaned());
    w.client.close(now, client.h);
    w.run_for(Duration::from_millis(25)).map_err(werr)?;
    w.snapshot(Side::A, story::application_gone());
    let orphans_then = w.client.orphans();
    w.note(Side::B, story::reads_slowly());
    let mut read = Vec::new();
    let mut buf = vec![0u8; 8192];
    let mut eof = false;
    while !eof {
        w.run_for(Duration::from_millis(100)).map_err(werr)?;
        match w.conn(Side::B, server.h).recv(&mut buf) {
            Ok(0) => eof = true,
            Ok(k) => read.extend_from_slice(&buf[..k]),
            Err(Error::WouldBlock) => {}
            Err(e) => return Err(format!("server read failed: {e}").into()),
        }
        if w.now > Instant::from_millis(30_000) {
            return Err("the orphan never finished sending".into());
        }
    }
    w.note(Side::B, story::read_all_then_eof(read.len()));
    server.close(w);
    w.run_for(Duration::from_millis(50)).map_err(werr)?;
    w.snapshot(Side::A, story::orphan_in_time_wait());
    let tw = w.client.time_wait_len();
    w.run_until_idle().map_err(werr)?;
    if read != data {
        return Err("the server did not read what the client wrote".into());
    }
    out.push(story::orphan_finished(TOTAL, orphans_then));
    out.push(story::orphan_time_wait_entry(tw));
    out.push(story::counters(
        Side::A,
        &counters(
            &w.client,
            &["TcpOutSegs", "TcpExtTW", "TcpExtTCPAbortOnMemory"],
        ),
    ));
    Ok(())
}

/// The server closes first and lets go: its side goes to the TIME-WAIT
/// table. Returns the client's (local, remote) addresses.
fn server_closes_first(w: &mut World) -> Result<(SocketAddr, SocketAddr), Failure> {
    let (mut client, server) = open(w)?;
    let info = w.conn(Side::A, client.h).info();
    w.note(Side::B, story::close_and_exit());
    let now = w.now;
    w.server.close(now, server.h);
    pump_until(w, &mut client, |a| a.eof)?;
    client.close(w);
    w.run_until(|w| w.server.time_wait_len() == 1 && w.link.in_flight() == 0)
        .map_err(werr)?;
    w.run_for(Duration::from_millis(20)).map_err(werr)?;
    Ok((info.local, info.remote))
}

pub(super) fn time_wait_reuse(w: &mut World, out: &mut Vec<Text>) -> Result<(), Failure> {
    let (local, remote) = server_closes_first(w)?;
    w.snapshot(Side::B, story::server_side_in_time_wait());
    w.note(Side::A, story::connect_again_from(remote, local.port()));
    let now = w.now;
    let c = w
        .client
        .connect_from(now, local, remote)
        .map_err(|e| e.to_string())?;
    w.explain(Side::B, story::newer_timestamp_lets_in());
    established(w, Side::A, c)?;
    w.run_for(Duration::from_millis(15)).map_err(werr)?;
    let recycled = w.server.counters().tw_recycled;
    if recycled != 1 {
        return Err(format!("expected the TIME-WAIT entry recycled, got {recycled}").into());
    }
    out.push(story::time_wait_reused(local, remote));
    out.push(story::counters(
        Side::B,
        &counters(
            &w.server,
            &["TcpExtTW", "TcpExtTWRecycled", "TcpPassiveOpens"],
        ),
    ));
    Ok(())
}

pub(super) fn connect_port_in_time_wait(w: &mut World, out: &mut Vec<Text>) -> Result<(), Failure> {
    let (mut client, mut server) = open(w)?;
    let info = w.conn(Side::A, client.h).info();
    let (local, remote) = (info.local, info.remote);
    // The client closes first and lets go: TIME-WAIT is on its side.
    w.note(Side::A, story::close_and_exit());
    let now = w.now;
    w.client.close(now, client.h);
    client.closed = true;
    pump_until(w, &mut server, |a| a.eof)?;
    server.close(w);
    w.run_until(|w| w.client.time_wait_len() == 1 && w.link.in_flight() == 0)
        .map_err(werr)?;
    w.snapshot(Side::A, story::client_side_in_time_wait());
    w.note(
        Side::A,
        story::call(format!("bind(:{}) + connect({remote})", local.port())),
    );
    let now = w.now;
    let refused = w.client.connect_from(now, local, remote);
    if refused != Err(StackError::AddrInUse) {
        return Err(lang::failure::not_addr_in_use(
            refused.err().map(|e| e.to_string()).as_deref(),
        )
        .into());
    }
    w.note(Side::A, story::addr_in_use());
    w.note(Side::A, story::connect_ephemeral(remote));
    let c2 = w.client.connect(now, remote).map_err(|e| e.to_string())?;
    let port2 = w.conn(Side::A, c2).local().port();
    w.note(Side::A, story::ephemeral_skips(port2));
    established(w, Side::A, c2)?;
    w.note(Side::A, story::reuse_anyway(local.port()));
    let now = w.now;
    let reuse = ConnectOptions {
        local: Some(local),
        reuse_addr: true,
        ..ConnectOptions::default()
    };
    let c3 = w
        .client
        .connect_with(now, remote, reuse)
        .map_err(|e| e.to_string())?;
    established(w, Side::A, c3)?;
    w.run_for(Duration::from_millis(15)).map_err(werr)?;
    out.push(story::port_in_time_wait(local, remote, local.port()));
    out.push(story::ephemeral_then_reuse(port2, local.port()));
    out.push(story::counters(
        Side::A,
        &counters(
            &w.client,
            &["TcpActiveOpens", "TcpExtTW", "TcpExtTWRecycled"],
        ),
    ));
    Ok(())
}

pub(super) fn old_duplicate(w: &mut World, out: &mut Vec<Text>) -> Result<(), Failure> {
    let (mut client, mut server) = open(w)?;
    client.chatty = false;
    let info = w.conn(Side::A, client.h).info();
    let (local, remote) = (info.local, info.remote);
    // The network holds the first copy of the message's second segment
    // for 2.5 s; the client retransmits it and the first connection ends
    // normally long before the old copy surfaces.
    let second = (info.snd_nxt + 1448).0;
    let mut held = false;
    w.set_filter(move |side, seg, len| {
        if side == Side::A && seg.seq == second && len > 0 && !held {
            held = true;
            Verdict::Delay(Duration::from_millis(2500))
        } else {
            Verdict::Pass
        }
    });
    let first: Vec<u8> = b"OLD!".iter().copied().cycle().take(3000).collect();
    client.write(&first);
    w.note(Side::A, story::write_pattern(3000, "\"OLD!OLD!...\""));
    client.pump(w);
    w.network(Side::A, story::stuck_in_router());
    pump_until(w, &mut server, |a| a.read.len() == first.len())?;
    // The client closes first and exits: TIME-WAIT is on its side.
    w.note(Side::A, story::close_and_exit());
    let now = w.now;
    w.client.close(now, client.h);
    client.closed = true;
    pump_until(w, &mut server, |a| a.eof)?;
    server.close(w);
    w.run_until(|w| w.client.time_wait_len() == 1 && w.link.in_flight() == 0)
        .map_err(werr)?;
    w.clear_filter();
    w.note(Side::A, story::reconnect_at_once(remote, local.port()));
    let now = w.now;
    let reuse = ConnectOptions {
        local: Some(local),
        reuse_addr: true,
        ..ConnectOptions::default()
    };
    let c2 = w
        .client
        .connect_with(now, remote, reuse)
        .map_err(|e| e.to_string())?;
    let listener = w
        .server
        .handles()
        .into_iter()
        .find(|&h| w.server.listener(h).is_some())
        .ok_or("no listener")?;
    let s2 = accept(w, listener)?;
    established(w, Side::A, c2)?;
    let mut client2 = App::new(Side::A, c2);
    let mut server2 = App::new(Side::B, s2);
    let second_msg: Vec<u8> = b"new.".iter().copied().cycle().take(4000).collect();
    client2.write(&second_msg);
    client2.chatty = false;
    w.note(Side::A, story::write_pattern(4000, "\"new.new....\""));
    w.run_until(|w| {
        client2.pump(w);
        server2.pump(w);
        server2.read.len() == second_msg.len()
    })
    .map_err(werr)?;
    // The stuck copy reaches the server 2.5 s (plus the link's delay)
    // after it was sent.
    let sent_at = w
        .trace
        .segments(Side::A)
        .find(|p| p.seg.seq == second && p.len > 0 && p.outcome.reordered)
        .map(|p| p.at)
        .ok_or("the delayed segment is not in the trace")?;
    let arrives = sent_at + Duration::from_millis(2500) + w.link.config(Side::A).delay;
    w.run_for(arrives.saturating_since(w.now)).map_err(werr)?;
    w.network(Side::B, story::stuck_copy_arrives());
    w.run_for(Duration::from_millis(50)).map_err(werr)?;
    let stats = w.conn(Side::B, s2).stats();
    if server2.read != second_msg {
        return Err("the old duplicate got into the new connection's stream".into());
    }
    client_closes_first(w, &mut client2, &mut server2)?;
    out.push(story::old_copy_delayed());
    out.push(story::old_copy_dropped(
        stats.paws_rejected,
        stats.unacceptable,
    ));
    out.push(story::why_two_msl());
    Ok(())
}
