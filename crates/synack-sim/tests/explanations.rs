//! What the ladder explains, and whose doing it says each thing was: a
//! value on an arrow is explained once, where it first appears (the scaled
//! window, the SYN's one sequence number, a SYN's RTO, a new ISN); a
//! reset's reason is given where it happens (no listener; a SYN,ACK for a
//! SYN never sent); duplicate ACKs are numbered as their sender counts
//! them; a timeout says which RTO expired and the backoff; the network's
//! doing is drawn as the network's, not an application's; what the summary
//! counts as lost is what the ladder draws lost; and a half-open
//! connection that gives up is not its listener. Each in English and
//! Chinese, in the ladder, the JSON and the pictures.

mod common;

use synack_device::{Fate, Side};
use synack_sim::explain;
use synack_sim::ladder::{self, LadderOptions};
use synack_sim::lang::{self, Lang};
use synack_sim::scenarios::{self, DemoOptions, Report, SCENARIOS};
use synack_sim::{ChainOwner, NoteKind, Owner, TraceEvent};
use synack_tcp::{RecoveryEvent, State};

fn play(name: &str) -> Report {
    let report = common::play(scenarios::find(name).expect("scenario exists"));
    assert_eq!(report.error, None, "{name}");
    report
}

fn draw(r: &Report, lang: Lang) -> String {
    let w = &r.world;
    ladder::render(
        &w.trace,
        &LadderOptions {
            full: true,
            lang,
            ..LadderOptions::default()
        },
        &w.client.addr().to_string(),
        &w.server.addr().to_string(),
    )
}

/// The explanations `annotate` adds, in English.
fn explanations(r: &Report) -> Vec<String> {
    explain::annotate(&r.world.trace, false)
        .events
        .iter()
        .filter_map(|e| match e {
            TraceEvent::Note {
                text,
                kind: NoteKind::Explanation,
                ..
            } => Some(text.get(Lang::En).to_string()),
            _ => None,
        })
        .collect()
}

/// The line index of the first line containing `needle`.
fn line_of(ladder: &str, needle: &str) -> usize {
    ladder
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in\n{ladder}"))
}

#[test]
fn the_first_scaled_window_is_explained_once_where_it_appears() {
    let r = play("handshake-close");
    let ladder = draw(&r, Lang::En);
    // The SYN carries 65535 unscaled; the first window after both SYNs
    // agreed ws 3 is 262144, and the line after its arrow says why.
    let arrow = line_of(&ladder, "── ACK seq=1 ack=1 win=262144");
    let lines: Vec<&str> = ladder.lines().collect();
    assert!(
        lines[arrow + 1].contains("(win=262144 = 32768 × 2^3"),
        "{}",
        lines[arrow + 1]
    );
    let said = explanations(&r);
    let scaled: Vec<&String> = said.iter().filter(|t| t.contains("× 2^3")).collect();
    assert_eq!(scaled.len(), 1, "once per run: {said:#?}");
    assert!(
        scaled[0].contains("RFC 7323 §2.2") && scaled[0].contains("win=65535"),
        "{}",
        scaled[0]
    );
    // In Chinese, in the seeds' term for the scale factor.
    assert!(draw(&r, Lang::Zh).contains("窗口扩大因子"));
    // A run whose SYNs carry no window scale says nothing of it.
    let plain = play("default-mss-536");
    assert!(!explanations(&plain).iter().any(|t| t.contains("2^")));
}

#[test]
fn the_first_ack_of_a_syn_says_a_syn_consumes_one_sequence_number() {
    let r = play("handshake-close");
    let ladder = draw(&r, Lang::En);
    let arrow = line_of(&ladder, "SYN,ACK seq=0 ack=1");
    let note = line_of(&ladder, "a SYN consumes one sequence number");
    // Right after the SYN,ACK (its options line between), on the server's
    // side, at the same moment.
    assert_eq!(note, arrow + 2, "\n{ladder}");
    let line = ladder.lines().nth(note).unwrap();
    assert!(
        line.starts_with("  0.010s") && line.contains("(ack=1:"),
        "{line}"
    );
    assert!(line.contains("seq=0") || ladder.lines().nth(note + 1).unwrap().contains("seq=0"));
    assert_eq!(
        explanations(&r)
            .iter()
            .filter(|t| t.contains("consumes one"))
            .count(),
        1
    );
    // With --absolute the numbers named are the raw ones.
    let isn = r.world.trace.segments(Side::A).next().unwrap().seg.seq;
    let raw = explain::annotate(&r.world.trace, true);
    assert!(raw.events.iter().any(|e| matches!(e,
        TraceEvent::Note { text, kind: NoteKind::Explanation, .. }
            if text.get(Lang::En).contains(&format!("ack={}:", isn.wrapping_add(1)))
                && text.get(Lang::En).contains(&format!("seq={isn}")))));
    assert!(draw(&r, Lang::Zh).contains("SYN 占用一个序号"));
}

#[test]
fn duplicate_acks_are_numbered_as_the_sender_counts_them() {
    let r = play("fast-retransmit");
    let ladder = draw(&r, Lang::En);
    for n in 1..=3 {
        assert!(
            ladder.contains(&format!("(duplicate ACK #{n})")),
            "#{n}\n{ladder}"
        );
    }
    // The sender's own count: it retransmits on the third, so the ACK
    // marked #3 reaches it exactly when its fast retransmit fires.
    let a = explain::annotate(&r.world.trace, false);
    let third = a
        .events
        .iter()
        .zip(&a.marks)
        .find_map(|(e, m)| match e {
            TraceEvent::Segment { outcome, .. } if m.dup_ack == Some(3) => outcome.arrival,
            _ => None,
        })
        .expect("a third duplicate ACK");
    let fired = r
        .world
        .trace
        .events
        .iter()
        .find_map(|e| match e {
            TraceEvent::Recovery {
                at,
                event: RecoveryEvent::FastRetransmit { dupacks },
                ..
            } => Some((*at, *dupacks)),
            _ => None,
        })
        .expect("a fast retransmit");
    assert_eq!(fired, (third, 3));
    // Only pure ACKs from the receiver are counted, never data, never a
    // lost one; and the ACK that advances is not a duplicate.
    for (e, m) in a.events.iter().zip(&a.marks) {
        if let (
            TraceEvent::Segment {
                from, len, outcome, ..
            },
            Some(_),
        ) = (e, m.dup_ack)
        {
            assert_eq!((*from, *len, outcome.fate), (Side::B, 0, Fate::Queued));
        }
    }
    assert!(draw(&r, Lang::Zh).contains("第 3 个重复 ACK"));
    // Nothing is a duplicate in a run without loss.
    let clean = play("handshake-close");
    let a = explain::annotate(&clean.world.trace, false);
    assert!(a.marks.iter().all(|m| m.dup_ack.is_none()));
}

#[test]
fn a_timeout_says_which_rto_expired_and_the_backoff() {
    let r = play("rto-backoff");
    let ladder = draw(&r, Lang::En);
    for line in [
        "⚑ RTO 200 ms expired, backoff ×2",
        "⚑ RTO 400 ms expired, backoff ×4",
        "⚑ RTO 800 ms expired, backoff ×8",
    ] {
        assert!(ladder.contains(line), "{line}\n{ladder}");
    }
    // Each RTO that expired is the wait since the one before.
    let timeouts: Vec<(synack_tcp::Instant, synack_tcp::Duration)> = r
        .world
        .trace
        .events
        .iter()
        .filter_map(|e| match e {
            TraceEvent::Recovery {
                at,
                event: RecoveryEvent::Timeout { .. },
                rto,
                ..
            } => Some((*at, rto.expect("a timeout records its RTO"))),
            _ => None,
        })
        .collect();
    for pair in timeouts.windows(2) {
        assert_eq!(pair[1].0 - pair[0].0, pair[1].1);
    }
    assert!(draw(&r, Lang::Zh).contains("重传超时（RTO 200 ms 到期，退避 ×2）"));
    // A SYN's RTO, at the first SYN sent again.
    let r = play("connect-timeout");
    let ladder = draw(&r, Lang::En);
    let again = line_of(&ladder, "(retransmission, lost)");
    assert!(
        ladder
            .lines()
            .nth(again + 1)
            .unwrap()
            .contains("(RTO 1 s expired, backoff ×2"),
        "\n{ladder}"
    );
    assert_eq!(ladder.matches("RTO 1 s expired").count(), 1);
}

#[test]
fn a_reused_4_tuple_says_new_isn() {
    for name in ["time-wait-reuse", "old-duplicate-into-new-connection"] {
        let r = play(name);
        let syns: Vec<u32> = r
            .world
            .trace
            .segments(Side::A)
            .filter(|p| p.seg.flags.syn())
            .map(|p| p.seg.seq)
            .collect();
        let (old, new) = (syns[0], *syns.last().unwrap());
        assert_ne!(old, new, "{name}");
        let said = explanations(&r);
        let isn: Vec<&String> = said.iter().filter(|t| t.contains("new ISN")).collect();
        assert_eq!(isn.len(), 1, "{name}: {said:#?}");
        assert!(
            isn[0].contains(&format!("new ISN {new}")) && isn[0].contains(&old.to_string()),
            "{name}: {}",
            isn[0]
        );
        assert!(draw(&r, Lang::Zh).contains(&format!("新的 ISN {new}")));
    }
    // A run that never reuses a 4-tuple has nothing to say of it.
    assert!(!explanations(&play("handshake-close"))
        .iter()
        .any(|t| t.contains("new ISN")));
}

#[test]
fn closed_port_says_no_listener_on_the_server_side_at_the_syns_arrival() {
    let r = play("closed-port");
    let ladder = draw(&r, Lang::En);
    let rst = line_of(&ladder, "RST,ACK seq=0 ack=1");
    let note = ladder.lines().nth(rst - 1).unwrap();
    // On the server's side (right-aligned to its lifeline), when the SYN
    // arrived, before the RST it causes.
    let arrival = r
        .world
        .trace
        .segments(Side::A)
        .next()
        .unwrap()
        .outcome
        .arrival
        .unwrap();
    assert!(
        note.starts_with(&format!("{:>8}  ", arrival.to_string())),
        "{note}"
    );
    assert!(note.ends_with("(no listener on :81 → RST)"), "{note}");
    assert_eq!(lang::width(note), 80, "{note}");
    let zh = draw(&r, Lang::Zh);
    assert!(zh.contains("（端口 :81 上没有监听 → 回 RST）"), "{zh}");
    // Where a listener answers, nobody says there is none.
    assert!(!draw(&play("handshake-close"), Lang::En).contains("no listener"));
}

#[test]
fn stale_syn_says_why_the_client_resets_the_syn_ack() {
    let r = play("stale-syn");
    let ladder = draw(&r, Lang::En);
    let rst = line_of(&ladder, "── RST seq=-9");
    let reason = line_of(&ladder, "(the SYN,ACK acknowledges -9");
    assert!(reason < rst, "the reason comes before the RST\n{ladder}");
    // On the client's side, naming the numbers relative to its ISN.
    let first = ladder.lines().nth(reason).unwrap();
    assert!(first.starts_with("  0.020s  ("), "{first}");
    let block: String = ladder
        .lines()
        .skip(reason)
        .take(rst - reason)
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ");
    for needed in ["never sent", "seq=0", "ack=1", "RFC 9293 §3.5, Figure 8"] {
        assert!(block.contains(needed), "{needed}: {block}");
    }
    assert!(draw(&r, Lang::Zh).contains("这个 SYN,ACK 确认的是 -9"));
}

#[test]
fn lost_counts_are_what_the_ladder_draws_as_lost() {
    // Every scenario: what the world counts as lost on each side is what
    // the ladder crosses out, the black hole's and staged losses included.
    for scenario in SCENARIOS {
        let r = common::play(scenario);
        for side in [Side::A, Side::B] {
            let crossed = r
                .world
                .trace
                .segments(side)
                .filter(|p| p.outcome.fate != Fate::Queued)
                .count() as u64;
            assert_eq!(r.world.lost(side), crossed, "{} {side:?}", scenario.name);
        }
    }
    let r = play("connect-timeout");
    assert_eq!((r.world.sent(Side::A), r.world.lost(Side::A)), (7, 7));
}

#[test]
fn network_events_are_drawn_as_the_networks_not_an_applications() {
    let r = play("connect-timeout");
    let ladder = draw(&r, Lang::En);
    let line = ladder
        .lines()
        .find(|l| l.contains("black hole"))
        .expect("the black hole is drawn");
    // Between the two sides, framed, no application's marker.
    assert!(
        line.trim_end()
            .ends_with("~ everything the client sends is lost: a black hole ~"),
        "{line}"
    );
    assert!(!line.contains('»') && !line.contains('«'));
    let body = &line[10..];
    let (left, right) = (
        body.len() - body.trim_start().len(),
        70 - lang::width(body.trim_start()),
    );
    assert!(left.abs_diff(right - left) <= 1, "centred: {line}");
    // The JSON calls it the network's.
    let json = r.world.trace.to_json_lines();
    assert!(json
        .lines()
        .any(|l| l.contains("\"kind\":\"network\"") && l.contains("black hole")));
    assert!(json
        .lines()
        .any(|l| l.contains("\"kind\":\"application\"") && l.contains("connect(10.77.0.2:80)")));
    // Every scenario: no network note says "(network)" any more (its form
    // does), and each is drawn as the network's in the ladder and the SVG.
    for scenario in SCENARIOS {
        let r = common::play(scenario);
        let ladder = draw(&r, Lang::En);
        let picture = synack_sim::svg::render(
            &r.world.trace,
            &LadderOptions::default(),
            "10.77.0.1",
            "10.77.0.2",
        );
        for e in &r.world.trace.events {
            if let TraceEvent::Note {
                text,
                kind: NoteKind::Network,
                ..
            } = e
            {
                let en = text.get(Lang::En);
                assert!(!en.contains("(network)"), "{}: {en}", scenario.name);
                let first = en.split(' ').take(3).collect::<Vec<_>>().join(" ");
                assert!(
                    ladder
                        .lines()
                        .any(|l| l.contains(&format!("~ {first}")) && !l.contains('»')),
                    "{}: {en}\n{ladder}",
                    scenario.name
                );
                assert!(
                    picture.svg.contains("class=\"network\""),
                    "{}",
                    scenario.name
                );
            }
        }
        assert!(!ladder.contains("» (network)") && !ladder.contains("(network) "));
    }
    // The Chinese ladder too.
    let zh = draw(&play("connect-timeout"), Lang::Zh);
    assert!(zh.contains("~ 客户端发出的一切都丢了：一个黑洞 ~"), "{zh}");
}

#[test]
fn a_half_open_connection_that_gives_up_is_not_its_listener() {
    // Handshake-close under 90% loss (seed 1): every SYN-ACK is lost, the
    // half-open connection gives up; the listener keeps listening.
    let r = scenarios::find("handshake-close")
        .unwrap()
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
    let gave_up = r
        .world
        .trace
        .events
        .iter()
        .find_map(|e| match e {
            TraceEvent::State {
                side: Side::B,
                transition,
                owner: Owner::HalfOpen { remote, .. },
                ..
            } if transition.to == State::Closed => Some(*remote),
            _ => None,
        })
        .expect("the half-open connection gives up");
    let ladder = draw(&r, Lang::En);
    let change = line_of(&ladder, "[SYN-RECEIVED → CLOSED]");
    let note: String = ladder
        .lines()
        .skip(change + 1)
        .take(2)
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        note.contains(&format!(
            "(the half-open connection from {gave_up} gave up; the listener stays in LISTEN)"
        )),
        "{note}\n{ladder}"
    );
    assert!(draw(&r, Lang::Zh).contains(&format!("来自 {gave_up} 的半连接放弃了")));
    // The summary keeps the listener's run apart from its connection's.
    let chains = r.world.trace.chains(Side::B);
    assert_eq!(chains.len(), 2, "{chains:?}");
    assert!(matches!(chains[0].owner, ChainOwner::Listener(_)));
    assert_eq!(chains[0].states, [State::Closed, State::Listen]);
    assert_eq!(chains[1].owner, ChainOwner::HalfOpen(gave_up));
    assert_eq!(
        chains[1].states,
        [State::Listen, State::SynReceived, State::Closed]
    );
    let summary: Vec<&str> = r.summary.iter().map(|l| l.get(Lang::En)).collect();
    assert!(
        summary.contains(&"server  listener on :80: CLOSED → LISTEN"),
        "{summary:#?}"
    );
    assert!(
        summary.contains(
            &format!("server  half-open connection from {gave_up}: LISTEN → SYN-RECEIVED → CLOSED")
                .as_str()
        ),
        "{summary:#?}"
    );
    // What the failed run says happened names the half-open connection.
    let story: Vec<String> = r
        .what_happened()
        .iter()
        .map(|l| l.get(Lang::En).to_string())
        .collect();
    assert!(
        story[1].contains(&format!("half-open connection from {gave_up} gave up"))
            && story[1].contains("the listener stays in LISTEN"),
        "{story:#?}"
    );
    // The picture's band goes back to LISTEN, not CLOSED.
    let picture = synack_sim::svg::render(
        &r.world.trace,
        &LadderOptions::default(),
        "10.77.0.1",
        "10.77.0.2",
    );
    let bands: Vec<&str> = picture
        .svg
        .match_indices("class=\"statename\">")
        .map(|(i, m)| {
            let rest = &picture.svg[i + m.len()..];
            &rest[..rest.find('<').unwrap()]
        })
        .collect();
    assert_eq!(
        bands.iter().filter(|b| **b == "CLOSED").count(),
        3,
        "client: before and after; server: before only: {bands:?}"
    );
    // A successful run: the listener's run, then the connection's, which
    // begins where the RFC puts a passive open, in LISTEN.
    let r = play("handshake-close");
    let summary: Vec<&str> = r.summary.iter().map(|l| l.get(Lang::En)).collect();
    assert_eq!(
        summary[1..],
        [
            "server  listener on :80: CLOSED → LISTEN",
            "server  connection from 10.77.0.1:53229: LISTEN → SYN-RECEIVED → ESTABLISHED → \
             CLOSE-WAIT → LAST-ACK → CLOSED"
        ]
    );
}

#[test]
fn explanations_reach_the_json_and_the_pictures_steps() {
    let r = play("stale-syn");
    let json = r.world.trace.to_json_lines();
    let kinds = |k: &str| {
        json.lines()
            .filter(|l| l.contains(&format!("\"kind\":\"{k}\"")))
            .count()
    };
    assert!(kinds("explanation") >= 3 && kinds("network") == 2, "{json}");
    assert!(json.contains("the SYN,ACK acknowledges -9"));
    let picture = synack_sim::svg::render(
        &r.world.trace,
        &LadderOptions::default(),
        "10.77.0.1",
        "10.77.0.2",
    );
    let rst = picture
        .steps
        .iter()
        .find(|s| s.label.starts_with("RST"))
        .unwrap();
    assert!(
        rst.explanation.contains("the SYN,ACK acknowledges -9"),
        "{}",
        rst.explanation
    );
    let r = play("fast-retransmit");
    assert!(r
        .world
        .trace
        .to_json_lines()
        .lines()
        .any(|l| l.contains("\"dup_ack\":3")));
}

#[test]
fn every_english_ladder_line_fits_80_columns() {
    let mut wide = Vec::new();
    for scenario in SCENARIOS {
        let r = common::play(scenario);
        for line in draw(&r, Lang::En).lines() {
            if lang::width(line) > 80 {
                wide.push(format!("{}: {line}", scenario.name));
            }
        }
    }
    assert!(wide.is_empty(), "{}", wide.join("\n"));
}
