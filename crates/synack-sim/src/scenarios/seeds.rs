//! More of the seeds' drawings: data riding the third segment of the
//! handshake, an abort with RST in mid-connection, and the RST a host
//! sends for a segment of a connection it does not know (a half-open
//! connection found after the peer crashed, RFC 9293 §3.5.2).

use super::*;
use crate::trace::TraceEvent;

pub(super) fn data_on_third_segment(w: &mut World, out: &mut Vec<String>) -> Result<(), String> {
    let l = listen(w)?;
    let c = connect(w, SERVER_PORT)?;
    // RFC 9293 §3.10.2: SEND in SYN-SENT queues the data; it goes out
    // with the ACK that completes the handshake.
    let n = w
        .conn(Side::A, c)
        .send(REQUEST)
        .map_err(|e| format!("send in SYN-SENT failed: {e}"))?;
    w.note(
        Side::A,
        format!("write {n} bytes (in SYN-SENT: queued until the handshake completes)"),
    );
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
        return Err(format!(
            "the third segment carried {len} bytes, not the request"
        ));
    }
    out.push(format!(
        "the third segment of the handshake is both the ACK of the SYN-ACK and the first {len} bytes of data"
    ));
    let mut client = App::new(Side::A, c);
    client_closes_first(w, &mut client, &mut server)?;
    summarize_states(w, out);
    Ok(())
}

pub(super) fn rst_abort(w: &mut World, out: &mut Vec<String>) -> Result<(), String> {
    let (mut client, mut server) = open(w)?;
    let (c, s) = (client.h, server.h);
    client.write(REQUEST);
    client.pump(w);
    pump_until(w, &mut server, |a| a.read.len() == REQUEST.len())?;
    let now = w.now;
    w.note(
        Side::A,
        "abort() (close with SO_LINGER 0): RST, no FIN, no TIME-WAIT",
    );
    w.conn(Side::A, c).abort(now);
    w.run_until(|w| w.conn(Side::B, s).state() == State::Closed)
        .map_err(werr)?;
    match w.conn(Side::B, s).recv(&mut [0u8; 16]) {
        Err(Error::Closed(CloseReason::Reset)) => {
            w.note(Side::B, "read → ECONNRESET (connection reset by peer)")
        }
        other => return Err(format!("the server's read gave {other:?}, not a reset")),
    }
    w.run_until_idle().map_err(werr)?;
    expect_closed(w, Side::A, c, CloseReason::Aborted)?;
    expect_closed(w, Side::B, s, CloseReason::Reset)?;
    out.push(
        "an abort sends one RST at SND.NXT; the peer checks it is in its window and drops the connection: \
         no FIN exchange, no TIME-WAIT, unread data lost"
            .into(),
    );
    let rsts = w.client.counters().tcp_out_rsts;
    if rsts > 1 {
        out.push(format!(
            "the client sent {rsts} RSTs: after the first, the server's ACK that crossed it met a host \
             with no such connection, which answers any segment but a RST with a RST"
        ));
    }
    summarize_states(w, out);
    Ok(())
}

pub(super) fn rst_after_crash(w: &mut World, out: &mut Vec<String>) -> Result<(), String> {
    let (mut client, mut server) = open(w)?;
    let c = client.h;
    client.write(REQUEST);
    client.pump(w);
    pump_until(w, &mut server, |a| a.read.len() == REQUEST.len())?;
    w.run_until(|w| w.link.in_flight() == 0).map_err(werr)?;
    // The server's host crashes and comes back: it remembers no
    // connection, and nothing listens yet.
    w.note(
        Side::B,
        "(the host crashes and reboots: every connection is forgotten)",
    );
    let config = w.server.config().clone();
    w.server = synack_stack::Host::new(config, [0x5a; 32]);
    w.run_for(Duration::from_millis(100)).map_err(werr)?;
    // The client does not know: its connection is half-open.
    client.write(b"are you there?\n");
    client.pump(w);
    w.run_until(|w| w.conn(Side::A, c).state() == State::Closed)
        .map_err(werr)?;
    match w.conn(Side::A, c).recv(&mut [0u8; 16]) {
        Err(Error::Closed(CloseReason::Reset)) => w.note(
            Side::A,
            "read → ECONNRESET: the peer has no such connection (half-open found)",
        ),
        other => return Err(format!("the client's read gave {other:?}, not a reset")),
    }
    w.run_until_idle().map_err(werr)?;
    expect_closed(w, Side::A, c, CloseReason::Reset)?;
    out.push(
        "a segment for a connection the host does not have gets a RST whose sequence number is the \
         segment's ACK (RFC 9293 §3.10.7.1): the client learns its connection is half-open"
            .into(),
    );
    let rsts = w.server.counters().tcp_out_rsts;
    out.push(format!("the rebooted server sent {rsts} RST"));
    summarize_states(w, out);
    Ok(())
}
