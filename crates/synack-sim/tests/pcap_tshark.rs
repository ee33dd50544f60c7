//! The pcaps the demo scenarios write, from each host's interface and from
//! the link, are read by Wireshark's dissectors
//! (through `tshark`) without complaint: every packet is there, none is
//! malformed, and every TCP checksum verifies.
//!
//! Needs `tshark` (Debian package `tshark`; `scripts/test.sh` installs it).
//! Without it the tests print a note and pass, unless `SYNACK_REQUIRE_TOOLS=1`
//! is set, in which case they fail.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use synack_device::pcap::read_pcap;
use synack_device::Side;
use synack_sim::scenarios::{self, demo_config, DemoOptions, Scenario, SCENARIOS};
use synack_sim::world::{Tap, World};

/// Whether `tshark` can be run; if not, either skip (returns false) or, when
/// `SYNACK_REQUIRE_TOOLS=1`, fail.
fn tshark_available(test: &str) -> bool {
    match Command::new("tshark").arg("--version").output() {
        Ok(out) if out.status.success() => true,
        result => {
            let why = match result {
                Ok(out) => format!("`tshark --version` exited with {}", out.status),
                Err(e) if e.kind() == ErrorKind::NotFound => "tshark is not installed".into(),
                Err(e) => format!("tshark could not be run: {e}"),
            };
            if std::env::var("SYNACK_REQUIRE_TOOLS").is_ok_and(|v| v == "1") {
                panic!(
                    "{why}, and SYNACK_REQUIRE_TOOLS=1: install tshark \
                     (apt-get install tshark; scripts/test.sh does this)"
                );
            }
            eprintln!("skipping {test}: {why} (set SYNACK_REQUIRE_TOOLS=1 to make this a failure)");
            false
        }
    }
}

/// A fresh directory under the system temp dir, removed on drop unless the
/// test is failing (then it is kept, and named in the panic message, so
/// the pcap can be inspected).
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> TempDir {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!(
            "synack-{test}-{}-{nanos}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = fs::remove_dir_all(&self.0);
        }
    }
}

/// One frame as tshark dissected it.
#[derive(Debug)]
struct Frame {
    number: u64,
    /// `tcp.checksum.status` of each TCP header in the frame
    /// (0 bad, 1 good, 2 unverified).
    checksum_status: Vec<String>,
    /// `_ws.malformed`: non-empty when the dissector found a malformed packet.
    malformed: String,
}

/// Runs tshark on `file` with TCP checksum verification on.
///
/// The demo server listens on port 80, so Wireshark would hand its payload
/// (pseudo-random transfer bytes) to the HTTP dissector, which calls a
/// reordered stream of them a "Malformed Packet: HTTP". What is checked
/// here is our IP and TCP, so that port is decoded as plain data.
fn dissect(file: &Path) -> Vec<Frame> {
    let out = Command::new("tshark")
        .arg("-n") // no name resolution
        .arg("-r")
        .arg(file)
        .args(["-o", "tcp.check_checksum:TRUE"])
        .arg("-d")
        .arg(format!("tcp.port=={},data", scenarios::SERVER_PORT))
        .args(["-T", "fields", "-E", "separator=/t", "-E", "occurrence=a"])
        .args(["-E", "aggregator=,"])
        .args(["-e", "frame.number"])
        .args(["-e", "tcp.checksum.status"])
        .args(["-e", "_ws.malformed"])
        .output()
        .expect("run tshark");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "tshark -r {} exited with {}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        file.display(),
        out.status
    );
    stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let mut fields = line.split('\t');
            let number = fields.next().unwrap_or("");
            let number = number
                .trim()
                .parse()
                .unwrap_or_else(|_| panic!("tshark line without a frame number: {line:?}"));
            let checksum_status = fields
                .next()
                .unwrap_or("")
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
            let malformed = fields.next().unwrap_or("").trim().to_string();
            Frame {
                number,
                checksum_status,
                malformed,
            }
        })
        .collect()
}

/// Checks `file` (written by a scenario run) with tshark; `what` names the
/// run in failure messages. Returns the number of packets (none is a
/// valid capture: a host that nothing reached and that sent nothing).
fn check_pcap(file: &Path, what: &str) -> usize {
    let bytes = fs::read(file).expect("read pcap");
    let packets = read_pcap(&bytes)
        .unwrap_or_else(|e| panic!("{what}: our own reader rejects the pcap: {e}"))
        .len();

    let frames = dissect(file);
    let where_ = format!("{what} ({})", file.display());
    assert_eq!(
        frames.len(),
        packets,
        "{where_}: tshark saw {} frames, the pcap holds {packets} packets",
        frames.len()
    );
    for (i, f) in frames.iter().enumerate() {
        assert_eq!(f.number, i as u64 + 1, "{where_}: frames out of order");
        assert!(
            f.malformed.is_empty(),
            "{where_}: frame {} is malformed: {:?}",
            f.number,
            f.malformed
        );
        // Every packet the demo hosts exchange is TCP.
        assert!(
            !f.checksum_status.is_empty(),
            "{where_}: frame {} has no TCP header (or no checksum status)",
            f.number
        );
        assert!(
            f.checksum_status.iter().all(|s| s == "1"),
            "{where_}: frame {} has TCP checksum status {:?} (want 1, good)",
            f.number,
            f.checksum_status
        );
    }
    packets
}

/// Runs `scenario` with a capture of what `tap` sees into `file`.
fn run_scenario(
    scenario: &Scenario,
    opts: &DemoOptions,
    tap: Tap,
    file: &Path,
) -> scenarios::Report {
    let out = fs::File::create(file).expect("create pcap");
    let report = scenario
        .run(opts, Some((Box::new(out), tap)))
        .expect("write pcap");
    assert_eq!(report.error, None, "scenario {} failed", scenario.name);
    report
}

#[test]
fn every_scenario_pcap_passes_tshark() {
    if !tshark_available("every_scenario_pcap_passes_tshark") {
        return;
    }
    let dir = TempDir::new("pcap-tshark");
    // No demo scenario corrupts packets, so every view, the hosts' and the
    // link's, holds only good checksums.
    for scenario in SCENARIOS {
        for tap in [Tap::Client, Tap::Server, Tap::Link] {
            let file = dir.path(&format!("{}-{tap}.pcap", scenario.name));
            let opts = DemoOptions {
                seed: 1,
                ..DemoOptions::default()
            };
            let report = run_scenario(scenario, &opts, tap, &file);
            let what = format!("{} at the {tap}", scenario.name);
            let packets = check_pcap(&file, &what);
            // A host's capture is empty only when nothing went in or out of
            // it (connect-timeout's server: every SYN is lost on the way).
            let host = match tap {
                Tap::Client => Some(&report.world.client),
                Tap::Server => Some(&report.world.server),
                Tap::Link => None,
            };
            let seen = host.map_or(1, |h| h.counters().tcp_in_segs + h.counters().tcp_out_segs);
            assert_eq!(packets > 0, seen > 0, "{what}: {packets} packets captured");
        }
    }
}

/// A transfer over a link that loses, duplicates, reorders and corrupts
/// packets. The link's capture taps packets as the hosts send them, before the
/// link damages them, so even here every checksum in the pcap must be good;
/// the corrupted copies exist only on the simulated wire (the receiving
/// host drops them on the checksum, and the sender retransmits).
#[test]
fn damaged_link_pcap_passes_tshark() {
    if !tshark_available("damaged_link_pcap_passes_tshark") {
        return;
    }
    let dir = TempDir::new("pcap-tshark-damaged");
    let scenario = scenarios::find("lossy-transfer").expect("lossy-transfer scenario");
    let opts = DemoOptions {
        seed: 7,
        loss: Some(0.02),
        ..DemoOptions::default()
    };
    let mut cfg = demo_config(&opts, scenario);
    for link in [&mut cfg.a_to_b, &mut cfg.b_to_a] {
        *link = link
            .with_corrupt(0.02)
            .with_duplicate(0.01)
            .with_reorder(0.01);
    }
    let file = dir.path("lossy-transfer-damaged.pcap");
    let mut world = World::new(cfg);
    world
        .capture(
            Box::new(fs::File::create(&file).expect("create pcap")),
            Tap::Link,
        )
        .expect("start capture");
    let mut report = scenario.run_in(world);
    report.world.finish_capture().expect("write pcap");
    assert_eq!(
        report.error, None,
        "lossy-transfer on a damaged link failed"
    );
    let corrupted =
        report.world.link.stats(Side::A).corrupted + report.world.link.stats(Side::B).corrupted;
    assert!(
        corrupted > 0,
        "the link corrupted nothing; the test shows nothing"
    );

    let packets = check_pcap(&file, "lossy-transfer on a damaged link");
    // Duplicates are made by the link, after the tap: the pcap holds each
    // packet once, as many as the hosts sent.
    let sent = report.world.link.stats(Side::A).sent + report.world.link.stats(Side::B).sent;
    assert_eq!(
        packets as u64, sent,
        "pcap packets vs packets handed to the link"
    );
}
