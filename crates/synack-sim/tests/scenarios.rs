//! Every demo scenario runs to completion and walks both sides through
//! exactly the states the seeds' diagrams draw.

use synack_device::Side;
use synack_sim::lang::Lang;
use synack_sim::scenarios::{self, DemoOptions};
use synack_sim::TraceEvent;
use synack_tcp::RecoveryEvent;
use synack_tcp::State::{self, *};
use synack_wire::{TcpFlags, TcpHeader};

fn run(name: &str) -> synack_sim::scenarios::Report {
    let scenario = scenarios::find(name).expect("scenario exists");
    let report = scenario
        .run(
            &DemoOptions {
                seed: 1,
                ..DemoOptions::default()
            },
            None,
        )
        .expect("no pcap, no I/O");
    assert_eq!(report.error, None, "scenario {name} failed");
    report
}

fn states(name: &str) -> (Vec<State>, Vec<State>) {
    let r = run(name);
    (r.world.trace.states(Side::A), r.world.trace.states(Side::B))
}

#[test]
fn handshake_close() {
    let (client, server) = states("handshake-close");
    assert_eq!(
        client,
        [
            Closed,
            SynSent,
            Established,
            FinWait1,
            FinWait2,
            TimeWait,
            Closed
        ]
    );
    assert_eq!(
        server,
        [
            Closed,
            Listen,
            SynReceived,
            Established,
            CloseWait,
            LastAck,
            Closed
        ]
    );
}

#[test]
fn simultaneous_open() {
    let (client, server) = states("simultaneous-open");
    assert_eq!(
        client,
        [
            Closed,
            SynSent,
            SynReceived,
            Established,
            FinWait1,
            FinWait2,
            TimeWait,
            Closed
        ]
    );
    assert_eq!(
        server,
        [
            Closed,
            SynSent,
            SynReceived,
            Established,
            CloseWait,
            LastAck,
            Closed
        ]
    );
}

#[test]
fn simultaneous_close() {
    let (client, server) = states("simultaneous-close");
    assert_eq!(
        client,
        [
            Closed,
            SynSent,
            Established,
            FinWait1,
            Closing,
            TimeWait,
            Closed
        ]
    );
    assert_eq!(
        server,
        [
            Closed,
            Listen,
            SynReceived,
            Established,
            FinWait1,
            Closing,
            TimeWait,
            Closed
        ]
    );
}

/// Every segment of a run in the order they were sent: (sender, header,
/// payload length).
fn all_segments(r: &synack_sim::scenarios::Report) -> Vec<(Side, TcpHeader, usize)> {
    r.world
        .trace
        .events
        .iter()
        .filter_map(|e| match e {
            TraceEvent::Segment { from, seg, len, .. } => Some((*from, *seg, *len)),
            _ => None,
        })
        .collect()
}

#[test]
fn three_segment_close() {
    let r = run("three-segment-close");
    assert_eq!(
        r.world.trace.states(Side::A),
        [Closed, SynSent, Established, FinWait1, TimeWait, Closed],
        "no FIN-WAIT-2"
    );
    assert_eq!(
        r.world.trace.states(Side::B),
        [
            Closed,
            Listen,
            SynReceived,
            Established,
            CloseWait,
            LastAck,
            Closed
        ]
    );
    // The client's FIN-WAIT-1 → TIME-WAIT was caused by one segment that
    // carried the server's FIN and acknowledged the client's.
    let cause = r
        .world
        .trace
        .events
        .iter()
        .find_map(|e| match e {
            TraceEvent::State {
                side: Side::A,
                transition,
                ..
            } if transition.to == TimeWait => Some((transition.from, transition.cause)),
            _ => None,
        })
        .unwrap();
    assert_eq!(cause, (FinWait1, synack_tcp::Cause::RecvFinAck));
    // From the client's FIN on: exactly FIN, FIN+ACK, ACK.
    let segs = all_segments(&r);
    let first_fin = segs.iter().position(|(_, s, _)| s.flags.fin()).unwrap();
    let close = &segs[first_fin..];
    assert_eq!(close.len(), 3, "{close:?}");
    let (fin, fin_ack, last) = (&close[0], &close[1], &close[2]);
    assert_eq!((fin.0, fin.2), (Side::A, 0));
    assert_eq!((fin_ack.0, fin_ack.2), (Side::B, 0));
    assert_eq!(fin_ack.1.flags, TcpFlags::FIN | TcpFlags::ACK);
    assert_eq!(
        fin_ack.1.ack,
        fin.1.seq.wrapping_add(1),
        "the server's FIN acknowledges the client's"
    );
    assert_eq!((last.0, last.2), (Side::A, 0));
    assert_eq!(last.1.flags, TcpFlags::ACK);
    assert_eq!(last.1.ack, fin_ack.1.seq.wrapping_add(1));
}

#[test]
fn half_close() {
    let r = run("half-close");
    let (client, server) = (r.world.trace.states(Side::A), r.world.trace.states(Side::B));
    assert_eq!(
        client,
        [
            Closed,
            SynSent,
            Established,
            FinWait1,
            FinWait2,
            TimeWait,
            Closed
        ]
    );
    assert_eq!(
        server,
        [
            Closed,
            Listen,
            SynReceived,
            Established,
            CloseWait,
            LastAck,
            Closed
        ]
    );
    // The server sent data segments while in CLOSE-WAIT, after the client's FIN.
    let data_from_server = r
        .world
        .trace
        .segments(Side::B)
        .filter(|p| p.len > 0)
        .count();
    assert_eq!(data_from_server, 3);
}

#[test]
fn lost_final_ack() {
    let r = run("lost-final-ack");
    let (client, server) = (r.world.trace.states(Side::A), r.world.trace.states(Side::B));
    assert_eq!(
        client,
        [
            Closed,
            SynSent,
            Established,
            FinWait1,
            FinWait2,
            TimeWait,
            Closed
        ]
    );
    assert_eq!(
        server,
        [
            Closed,
            Listen,
            SynReceived,
            Established,
            CloseWait,
            LastAck,
            Closed
        ]
    );
    let fins = r
        .world
        .trace
        .segments(Side::B)
        .filter(|p| p.seg.flags.fin())
        .count();
    assert_eq!(fins, 2, "the server's FIN is retransmitted once");
    // The client's TIME-WAIT ends 2×MSL after the *second* ACK, not the first.
    let acks: Vec<_> = r
        .world
        .trace
        .segments(Side::A)
        .filter(|p| p.seg.flags.ack() && !p.seg.flags.fin() && !p.seg.flags.syn() && p.len == 0)
        .map(|p| p.at)
        .collect();
    let last_ack = *acks.last().unwrap();
    let closed_at = r
        .world
        .trace
        .events
        .iter()
        .find_map(|e| match e {
            synack_sim::TraceEvent::State {
                side: Side::A,
                transition,
                ..
            } if transition.to == Closed => Some(transition.at),
            _ => None,
        })
        .unwrap();
    assert_eq!(closed_at - last_ack, synack_tcp::Duration::from_secs(2));
}

#[test]
fn closed_port() {
    let r = run("closed-port");
    assert_eq!(r.world.trace.states(Side::A), [Closed, SynSent, Closed]);
    assert_eq!(r.world.trace.states(Side::B), []);
    let rst: Vec<_> = r
        .world
        .trace
        .segments(Side::B)
        .map(|p| p.seg.flags)
        .collect();
    assert_eq!(rst.len(), 1);
    assert!(
        rst[0].rst() && rst[0].ack(),
        "a SYN to a closed port gets RST,ACK"
    );
}

#[test]
fn connect_timeout() {
    let r = run("connect-timeout");
    assert_eq!(r.world.trace.states(Side::A), [Closed, SynSent, Closed]);
    let times: Vec<u64> = r
        .world
        .trace
        .segments(Side::A)
        .map(|p| p.at.as_millis())
        .collect();
    // Initial RTO 1 s, doubling: 6 retransmissions (Linux's tcp_syn_retries).
    assert_eq!(times, [0, 1000, 3000, 7000, 15000, 31000, 63000]);
    assert_eq!(r.world.now.as_millis(), 127_000);
}

#[test]
fn stale_syn() {
    let r = run("stale-syn");
    assert_eq!(
        r.world.trace.states(Side::A),
        [
            Closed,
            SynSent,
            Established,
            FinWait1,
            FinWait2,
            TimeWait,
            Closed
        ]
    );
    assert_eq!(
        r.world.trace.states(Side::B),
        [
            Closed,
            Listen,
            SynReceived,
            Listen,
            SynReceived,
            Established,
            CloseWait,
            LastAck,
            Closed
        ]
    );
    let rsts = r
        .world
        .trace
        .segments(Side::A)
        .filter(|p| p.seg.flags.rst())
        .count();
    assert_eq!(rsts, 1);
}

#[test]
fn lossy_transfer() {
    let r = run("lossy-transfer");
    let (client, server) = (r.world.trace.states(Side::A), r.world.trace.states(Side::B));
    assert_eq!(client.first(), Some(&Closed));
    assert_eq!(client.last(), Some(&Closed));
    assert!(client.contains(&TimeWait));
    assert_eq!(
        server,
        [
            Closed,
            Listen,
            SynReceived,
            Established,
            CloseWait,
            LastAck,
            Closed
        ]
    );
    assert!(
        r.world.link.stats(Side::A).lost > 0,
        "the link lost something"
    );
}

#[test]
fn every_scenario_is_tested_here() {
    let names: Vec<&str> = scenarios::SCENARIOS.iter().map(|s| s.name).collect();
    assert_eq!(
        names,
        [
            "handshake-close",
            "simultaneous-open",
            "simultaneous-close",
            "three-segment-close",
            "half-close",
            "lost-final-ack",
            "closed-port",
            "connect-timeout",
            "stale-syn",
            "data-on-third-segment",
            "default-mss-536",
            "rst-abort",
            "rst-after-crash",
            "urgent-data",
            "lossy-transfer",
            "slow-start",
            "fast-retransmit",
            "sack-recovery",
            "tail-loss-probe",
            "rto-backoff",
            "zero-window",
            "nagle",
            "delayed-ack",
            "keepalive-dead-peer",
            "paws",
            "syn-flood",
            "nmap-scan",
            "orphans",
            "time-wait-reuse",
            "connect-port-in-time-wait",
            "old-duplicate-into-new-connection"
        ]
    );
}

/// The recovery events on `side`, as (time, event).
fn recovery(r: &synack_sim::scenarios::Report, side: Side) -> Vec<RecoveryEvent> {
    r.world
        .trace
        .events
        .iter()
        .filter_map(|e| match e {
            TraceEvent::Recovery { side: s, event, .. } if *s == side => Some(*event),
            _ => None,
        })
        .collect()
}

/// Payload lengths of the client's data segments, in order.
fn client_lengths(r: &synack_sim::scenarios::Report) -> Vec<usize> {
    r.world
        .trace
        .segments(Side::A)
        .filter(|p| p.len > 0)
        .map(|p| p.len)
        .collect()
}

/// A line of the summary containing `needle`.
fn summary_has(r: &synack_sim::scenarios::Report, needle: &str) -> bool {
    r.summary.iter().any(|l| l.get(Lang::En).contains(needle))
}

#[test]
fn slow_start() {
    let r = run("slow-start");
    assert!(summary_has(&r, "10 → 20 → 30"), "{:?}", r.summary);
    // cwnd grew: the sender's state on its last data segment.
    let last_cwnd = r
        .world
        .trace
        .events
        .iter()
        .rev()
        .filter_map(|e| match e {
            TraceEvent::Segment {
                from: Side::A,
                sender: Some(s),
                len,
                ..
            } if *len > 0 => Some(s.cwnd),
            _ => None,
        })
        .next()
        .unwrap();
    assert!(last_cwnd >= 30 * 1448, "{last_cwnd}");
}

#[test]
fn fast_retransmit() {
    let r = run("fast-retransmit");
    assert_eq!(
        recovery(&r, Side::A),
        [
            RecoveryEvent::FastRetransmit { dupacks: 3 },
            RecoveryEvent::Done
        ]
    );
    let lens = client_lengths(&r);
    assert_eq!(lens.len(), 15, "14 segments and one retransmission");
}

#[test]
fn sack_recovery() {
    let r = run("sack-recovery");
    let ev = recovery(&r, Side::A);
    assert!(ev.contains(&RecoveryEvent::Done), "{ev:?}");
    assert!(!ev
        .iter()
        .any(|e| matches!(e, RecoveryEvent::Timeout { .. })));
    assert_eq!(
        client_lengths(&r).len(),
        14,
        "12 segments, 2 retransmissions"
    );
    assert!(summary_has(&r, "resent 2 segment(s)"));
}

#[test]
fn tail_loss_probe() {
    let r = run("tail-loss-probe");
    let ev = recovery(&r, Side::A);
    assert_eq!(ev.first(), Some(&RecoveryEvent::TailLossProbe), "{ev:?}");
    assert!(!ev
        .iter()
        .any(|e| matches!(e, RecoveryEvent::Timeout { .. })));
    assert!(summary_has(&r, "2 × SRTT"));
}

#[test]
fn rto_backoff() {
    let r = run("rto-backoff");
    let backoffs: Vec<u32> = recovery(&r, Side::A)
        .iter()
        .filter_map(|e| match e {
            RecoveryEvent::Timeout { backoff } => Some(*backoff),
            _ => None,
        })
        .collect();
    assert_eq!(&backoffs[..3], &[1, 2, 3], "{backoffs:?}");
}

#[test]
fn zero_window() {
    let r = run("zero-window");
    let probes = client_lengths(&r).iter().filter(|&&n| n == 1).count();
    assert!(probes >= 3, "{probes}");
    assert!(r.world.trace.segments(Side::B).any(|p| p.seg.window == 0));
}

#[test]
fn nagle() {
    let r = run("nagle");
    let lens = client_lengths(&r);
    assert_eq!(lens, [20, 80, 20, 20, 20, 20, 20]);
}

#[test]
fn delayed_ack() {
    let r = run("delayed-ack");
    assert!(
        summary_has(&r, "ACKed 40 ms after it arrived"),
        "{:?}",
        r.summary
    );
    assert!(summary_has(&r, "ACKed 0 ms after they arrived"));
}

#[test]
fn keepalive_dead_peer() {
    let r = run("keepalive-dead-peer");
    let (client, _) = (r.world.trace.states(Side::A), ());
    assert_eq!(client, [Closed, SynSent, Established, Closed]);
    let probes = r
        .world
        .trace
        .segments(Side::A)
        .filter(|p| p.len == 0 && p.seg.flags == TcpFlags::ACK)
        .count();
    assert!(probes >= 4);
}

#[test]
fn paws() {
    let r = run("paws");
    assert!(summary_has(&r, "(1 rejected)"), "{:?}", r.summary);
}

#[test]
fn syn_flood() {
    let r = run("syn-flood");
    let server = r.world.server.counters();
    assert_eq!(server.syncookies_recv, 1, "the client came in on a cookie");
    assert_eq!(server.syncookies_sent, 7, "6 spoofed SYNs and the client's");
    assert_eq!(server.syncookies_failed, 0);
    assert_eq!(
        server.tcp_passive_opens, 1,
        "no connection for any spoofed SYN"
    );
    let snap = &r.world.snapshots[0];
    assert_eq!(
        snap.table.matches("SYN-RECEIVED").count(),
        4,
        "{}",
        snap.table
    );
    assert!(r.world.trace.states(Side::A).contains(&Established));
}

#[test]
fn nmap_scan() {
    let r = run("nmap-scan");
    let verdicts: Vec<&str> = r
        .summary
        .iter()
        .take(4)
        .map(|l| {
            l.get(Lang::En)
                .split(": ")
                .nth(1)
                .unwrap_or("")
                .split(' ')
                .next()
                .unwrap_or("")
        })
        .collect();
    assert_eq!(
        verdicts,
        ["open", "closed", "open|filtered", "closed"],
        "{:?}",
        r.summary
    );
    // The half-open record from the SYN scan was reset by the scanner's
    // host: nothing is left on the server but its listener.
    assert_eq!(r.world.server.handles().len(), 1);
    assert_eq!(
        r.world.server.listener_queues(r.world.server.handles()[0]),
        Some((0, 0))
    );
}

#[test]
fn orphans() {
    let r = run("orphans");
    let snap = &r.world.snapshots[0];
    assert!(snap.table.contains("(orphan)"), "{}", snap.table);
    assert!(snap.table.contains("FIN-WAIT-1"), "{}", snap.table);
    assert_eq!(r.world.client.counters().time_waits, 1);
    assert_eq!(r.world.client.orphans(), 0, "finished");
    assert!(
        r.world.client.handles().is_empty(),
        "nothing left once TIME-WAIT ended"
    );
    assert_eq!(r.world.client.time_wait_len(), 0);
}

#[test]
fn time_wait_reuse() {
    let r = run("time-wait-reuse");
    let server = r.world.server.counters();
    assert_eq!((server.time_waits, server.tw_recycled), (1, 1));
    assert!(r.world.snapshots[0].table.contains("TIME-WAIT"));
    assert_eq!(
        r.world.trace.states(Side::B).last(),
        Some(&Established),
        "the tuple opened again"
    );
}

#[test]
fn connect_port_in_time_wait() {
    let r = run("connect-port-in-time-wait");
    let client = r.world.client.counters();
    assert_eq!(client.tcp_active_opens, 3);
    assert_eq!((client.time_waits, client.tw_recycled), (1, 1));
    assert!(summary_has(&r, "EADDRINUSE"));
}

#[test]
fn old_duplicate_into_new_connection() {
    let r = run("old-duplicate-into-new-connection");
    assert!(summary_has(&r, "PAWS: 1 segment"), "{:?}", r.summary);
}

/// The client's segments (header, payload length), in order.
fn client_segments(r: &synack_sim::scenarios::Report) -> Vec<(TcpHeader, usize)> {
    r.world
        .trace
        .segments(Side::A)
        .map(|p| (*p.seg, p.len))
        .collect()
}

#[test]
fn data_on_third_segment() {
    let r = run("data-on-third-segment");
    let segs = client_segments(&r);
    assert!(segs[0].0.flags.syn());
    assert!(segs[1].0.flags.ack() && !segs[1].0.flags.syn());
    assert_eq!(segs[1].1, 32, "the request rides the third segment");
    let server = r.world.trace.states(Side::B);
    assert_eq!(&server[..4], [Closed, Listen, SynReceived, Established]);
}

#[test]
fn default_mss_536() {
    let r = run("default-mss-536");
    assert_eq!(
        r.world.trace.states(Side::A),
        [
            Closed,
            SynSent,
            Established,
            FinWait1,
            FinWait2,
            TimeWait,
            Closed
        ]
    );
    assert_eq!(
        r.world.trace.states(Side::B),
        [
            Closed,
            Listen,
            SynReceived,
            Established,
            CloseWait,
            LastAck,
            Closed
        ]
    );
    // TCP_NOOPT: the client's SYN carries no option at all.
    let (syn, _) = client_segments(&r)[0];
    assert!(syn.flags.syn() && !syn.flags.ack());
    assert_eq!(syn.options.mss, None);
    assert_eq!(syn.options.window_scale, None);
    assert!(!syn.options.sack_permitted);
    assert_eq!(syn.options.timestamps, None);
    // The server still announces its own MSS: the limit is per direction.
    let synack = r
        .world
        .trace
        .segments(Side::B)
        .find(|p| p.seg.flags.syn())
        .unwrap();
    assert_eq!(synack.seg.options.mss, Some(1460));
    // The 4041-byte response in 536-byte segments (no timestamps, so all
    // payload), the short tail last.
    let lens: Vec<usize> = r
        .world
        .trace
        .segments(Side::B)
        .filter(|p| p.len > 0)
        .map(|p| p.len)
        .collect();
    assert_eq!(lens, [536, 536, 536, 536, 536, 536, 536, 289]);
    assert!(summary_has(&r, "assume 536 bytes"), "{:?}", r.summary);
}

#[test]
fn rst_abort() {
    let r = run("rst-abort");
    assert_eq!(
        r.world.trace.states(Side::A),
        [Closed, SynSent, Established, Closed],
        "no FIN-WAIT, no TIME-WAIT"
    );
    assert_eq!(
        r.world.trace.states(Side::B),
        [Closed, Listen, SynReceived, Established, Closed]
    );
    let segs = client_segments(&r);
    assert!(segs.iter().any(|(s, _)| s.flags.rst()));
    assert!(
        !segs.iter().any(|(s, _)| s.flags.fin()),
        "an abort sends no FIN"
    );
}

#[test]
fn rst_after_crash() {
    let r = run("rst-after-crash");
    assert_eq!(
        r.world.trace.states(Side::A),
        [Closed, SynSent, Established, Closed]
    );
    assert_eq!(r.world.server.counters().tcp_out_rsts, 1);
    let (_, last_len) = client_segments(&r).pop().unwrap();
    assert_eq!(
        last_len, 15,
        "the write that found the half-open connection"
    );
}

#[test]
fn urgent_data() {
    let r = run("urgent-data");
    assert_eq!(
        r.world.trace.states(Side::A),
        [
            Closed,
            SynSent,
            Established,
            FinWait1,
            FinWait2,
            TimeWait,
            Closed
        ]
    );
    // One segment carries URG: the Ctrl-C's, its pointer just past it.
    let urgent: Vec<(TcpHeader, usize)> = client_segments(&r)
        .into_iter()
        .filter(|(s, _)| s.flags.urg())
        .collect();
    let [(seg, 1)] = urgent[..] else {
        panic!("{urgent:?}")
    };
    assert_eq!(seg.urgent, 1);
    // The ladder shows the pointer numbered like seq, and what it means.
    let w = &r.world;
    let text = synack_sim::ladder::render(
        &w.trace,
        &synack_sim::ladder::LadderOptions::default(),
        &w.client.addr().to_string(),
        &w.server.addr().to_string(),
    );
    assert!(
        text.contains("PSH,ACK,URG seq=12 ack=1 len=1 win=262144 urg=13 "),
        "{text}"
    );
    assert!(
        text.contains("(URG: the urgent data ends at byte 12; urg points just past it)"),
        "{text}"
    );
    assert_eq!(text.matches("urg=").count(), 1, "{text}");
    // So do the JSON lines (raw field and relative pointer) and the
    // picture's explanation.
    let json = w.trace.to_json_lines();
    let line = json.lines().find(|l| l.contains("URG")).unwrap();
    assert!(
        line.contains("\"urgent\":1,") && line.contains("\"rel_urg\":13,"),
        "{line}"
    );
    assert_eq!(
        json.matches("\"rel_urg\":null").count(),
        json.matches("\"type\":\"segment\"").count() - 1
    );
    let picture = synack_sim::svg::render(
        &w.trace,
        &synack_sim::ladder::LadderOptions::default(),
        "client",
        "server",
    );
    let step = picture
        .steps
        .iter()
        .find(|s| s.label.contains("URG"))
        .unwrap();
    assert!(
        step.explanation
            .contains("URG: the urgent data ends at byte 12"),
        "{step:?}"
    );
    assert!(summary_has(&r, "urg=13"), "{:?}", r.summary);
    assert!(summary_has(&r, "not urgent data"), "{:?}", r.summary);
}

#[test]
fn a_scenario_that_cannot_finish_says_what_happened_in_tcp_terms() {
    let scenario = scenarios::find("handshake-close").unwrap();
    let r = scenario
        .run(
            &DemoOptions {
                seed: 1,
                loss: Some(0.9),
                ..DemoOptions::default()
            },
            None,
        )
        .unwrap();
    assert!(r.error.is_some());
    let story = r
        .what_happened()
        .iter()
        .map(|l| l.get(Lang::En).to_string())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        story.contains("client: 4 of the 7 packets it sent were lost"),
        "{story}"
    );
    assert!(story.contains("retransmissions exhausted"), "{story}");
    // The server's listener did not end: its half-open connection did.
    assert!(story.contains("half-open connection from"), "{story}");
}
