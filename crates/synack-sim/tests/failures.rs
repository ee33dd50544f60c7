//! Options that cannot fail the demo: a scenario that cannot finish under
//! the loss a user chose says first, in one sentence and in TCP terms,
//! what happened on the wire (read from the trace, not told by the
//! scenario); no message shows Rust's Debug text, in English or Chinese;
//! the MSL is at least the largest RTO the run can reach, so a FIN resent
//! after backed-off timeouts still finds TIME-WAIT; and `demo::run` is the
//! whole demo, header to summary.

use synack_sim::demo::{self, Request};
use synack_sim::lang::Lang;
use synack_sim::scenarios::{self, demo_config, DemoOptions, Report, SCENARIOS};
use synack_sim::TraceEvent;
use synack_tcp::Duration;

fn run(name: &str, seed: u64, loss: f64) -> Report {
    let opts = DemoOptions {
        seed,
        loss: Some(loss),
        ..DemoOptions::default()
    };
    scenarios::find(name).unwrap().run(&opts, None).unwrap()
}

fn headline(r: &Report, l: Lang) -> String {
    r.headline().expect("the run failed").get(l).to_string()
}

#[test]
fn a_syn_ack_never_acknowledged_is_the_first_thing_said() {
    let r = run("handshake-close", 1, 0.9);
    assert_eq!(
        headline(&r, Lang::En),
        "the server's SYN,ACK was retransmitted 7 times and never acknowledged; \
         the server gave up (retransmissions exhausted)"
    );
    assert_eq!(
        headline(&r, Lang::Zh),
        "服务器的 SYN,ACK 被重传了 7 次，始终没有得到确认；服务器放弃了（重传次数用尽）"
    );
}

#[test]
fn a_fin_never_acknowledged_says_how_its_connection_ended() {
    // At half the packets lost, the server's FIN is lost again and again,
    // past the client's TIME-WAIT; the copy that finally arrives is
    // answered with a RST.
    let r = run("handshake-close", 1, 0.5);
    assert_eq!(
        headline(&r, Lang::En),
        "the server's FIN was retransmitted 14 times and never acknowledged; \
         the server's connection was reset in LAST-ACK (rcv RST)"
    );
    // What the scenario itself found stays, in plain words.
    assert_eq!(
        r.error.as_ref().unwrap().to_string(),
        "expected the server's connection to close normally, but it was reset"
    );
    assert_eq!(
        r.error.as_ref().unwrap().text().get(Lang::Zh),
        "预期服务器的连接正常关闭，但它被复位了"
    );
}

#[test]
fn a_lost_rst_and_a_keepalive_that_gave_up_are_said_in_tcp_terms() {
    let r = run("rst-abort", 2, 0.3);
    assert_eq!(
        headline(&r, Lang::En),
        "the client's RST was lost, and a RST is never retransmitted; \
         the server's connection stayed ESTABLISHED"
    );
    let r = run("keepalive-dead-peer", 1, 0.3);
    assert_eq!(
        headline(&r, Lang::En),
        "the client gave up in ESTABLISHED (keep-alive probes unanswered)"
    );
}

/// Rust's Debug text: `Some(..)`, `None`, `Ok(..)`, `Err(..)`, a struct
/// (`Name { .. }`) or a list (`[1, 2]`).
fn debug_text(s: &str) -> bool {
    [
        "Some(", "None", "Ok(", "Err(", " { ", "[", "Reset", "TimedOut",
    ]
    .iter()
    .any(|d| s.contains(d))
}

#[test]
fn no_failure_of_any_scenario_under_loss_reads_as_rust_debug_text() {
    let mut failed = 0;
    for scenario in SCENARIOS {
        for (seed, loss) in [(1, 0.9), (1, 0.5), (3, 0.5), (7, 0.3)] {
            let req = Request {
                name: Some(scenario.name.to_string()),
                run: DemoOptions {
                    seed,
                    loss: Some(loss),
                    ..DemoOptions::default()
                },
                ..Request::default()
            };
            for lang in Lang::ALL {
                let req = Request {
                    lang,
                    ..req.clone()
                };
                let Err(e) = demo::run(&req, &mut std::io::sink()) else {
                    continue;
                };
                failed += 1;
                let text = e.to_string();
                assert!(
                    !debug_text(&text),
                    "{} --seed {seed} --loss {loss} --lang {lang}:\n{text}",
                    scenario.name
                );
                let first = text.lines().next().unwrap();
                match lang {
                    Lang::En => assert!(first.starts_with("scenario "), "{first}"),
                    Lang::Zh => assert!(first.starts_with("场景 "), "{first}"),
                }
                assert!(!text.contains("went idle"), "{text}");
            }
        }
    }
    assert!(
        failed > 50,
        "only {failed} runs failed: the sweep tests little"
    );
}

#[test]
fn the_msl_is_at_least_the_largest_rto_a_lossy_run_can_reach() {
    let scenario = scenarios::find("handshake-close").unwrap();
    let lossy = demo_config(
        &DemoOptions {
            loss: Some(0.3),
            ..DemoOptions::default()
        },
        scenario,
    );
    for tcp in [&lossy.client_tcp, &lossy.server_tcp] {
        assert!(tcp.msl >= tcp.max_rto, "{:?} < {:?}", tcp.msl, tcp.max_rto);
    }
    // Without random loss the RTO does not back off: a second keeps
    // TIME-WAIT short enough to watch.
    let clean = demo_config(&DemoOptions::default(), scenario);
    assert_eq!(clean.client_tcp.msl, Duration::from_secs(1));
    // A long path: 3×RTT, the RTO after the first measurement.
    let far = demo_config(
        &DemoOptions {
            delay: Some(Duration::from_millis(3000)),
            ..DemoOptions::default()
        },
        scenario,
    );
    assert_eq!(far.client_tcp.msl, Duration::from_secs(18));
}

#[test]
fn a_fin_resent_after_backed_off_timeouts_still_finds_time_wait() {
    // Seed 7 at 30% loss: the last ACK is lost and the server's FIN comes
    // again 3.7 s later. With a 1 s MSL the client's TIME-WAIT was over
    // and it answered with a RST; now the FIN is acknowledged again.
    let r = run("handshake-close", 7, 0.3);
    assert_eq!(r.error, None, "{}", r.error.as_ref().unwrap());
    let rsts = r
        .world
        .trace
        .events
        .iter()
        .filter(|e| matches!(e, TraceEvent::Segment { seg, .. } if seg.flags.rst()))
        .count();
    assert_eq!(rsts, 0);
}

#[test]
fn the_header_says_which_msl_and_why() {
    let req = Request {
        name: Some("handshake-close".into()),
        run: DemoOptions {
            seed: 7,
            loss: Some(0.3),
            ..DemoOptions::default()
        },
        ..Request::default()
    };
    let mut out = Vec::new();
    demo::run(&req, &mut out).unwrap();
    let out = String::from_utf8(out).unwrap();
    let header: Vec<&str> = out.lines().take(4).collect();
    assert_eq!(
        header[2],
        "seed 7, one-way delay 10 ms, loss 30%, MSL 120 s (TIME-WAIT lasts 2×MSL)"
    );
    assert_eq!(
        header[3],
        "MSL is the largest RTO this run can reach: a resent FIN still finds TIME-WAIT"
    );
    let mut json = Vec::new();
    demo::run(&Request { json: true, ..req }, &mut json).unwrap();
    assert!(String::from_utf8(json).unwrap().contains("\"msl_s\":120,"));
}

#[test]
fn the_demo_writes_everything_and_fails_after_its_ladder() {
    let req = Request {
        name: Some("handshake-close".into()),
        run: DemoOptions {
            seed: 1,
            loss: Some(0.9),
            ..DemoOptions::default()
        },
        ..Request::default()
    };
    let mut out = Vec::new();
    let e = demo::run(&req, &mut out).unwrap_err();
    let out = String::from_utf8(out).unwrap();
    assert!(out.starts_with("synack demo handshake-close\n"), "{out}");
    assert!(out.contains("\nSummary\n"), "{out}");
    assert_eq!(e.exit_code(), 1);
    let text = e.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "scenario handshake-close did not complete: the server's SYN,ACK was retransmitted \
         7 times and never acknowledged; the server gave up (retransmissions exhausted)"
    );
    assert_eq!(
        lines.last().unwrap(),
        &"  (a lower --loss, or another --seed, lets it finish)"
    );
    let unknown = demo::run(
        &Request {
            name: Some("nope".into()),
            ..Request::default()
        },
        &mut out.into_bytes(),
    )
    .unwrap_err();
    assert_eq!(unknown.exit_code(), 2);
}
