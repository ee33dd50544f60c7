//! The demo's MSL is at least the largest RTO the run can reach, so a
//! FIN resent after backed-off timeouts still finds TIME-WAIT, and the
//! header says which MSL the run used.

use synack_sim::demo::{self, Request};
use synack_sim::scenarios::{self, demo_config, DemoOptions, Report};
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
    assert!(r.error.is_none(), "{:?}", r.error);
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
