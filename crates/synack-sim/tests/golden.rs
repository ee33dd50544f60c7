//! Golden files: every scenario's ladder and summary, as `synack demo NAME`
//! draws them with seed 1, kept in `tests/golden/NAME.txt`. A change in
//! protocol behaviour (a segment more or less, another window, a state
//! reached at another moment) fails here and shows up as a reviewed diff.
//!
//! After a deliberate change, rewrite them with
//! `SYNACK_BLESS=1 cargo test -p synack-sim --test golden` and review the
//! diff before committing it.

mod common;

use std::path::PathBuf;
use synack_sim::ladder::{self, LadderOptions};
use synack_sim::scenarios::SCENARIOS;

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// What the demo prints for a scenario, less the header line that names
/// the build's options.
fn drawing(name: &str) -> String {
    let scenario = synack_sim::scenarios::find(name).expect("scenario exists");
    let report = common::play(scenario);
    let w = &report.world;
    let opts = LadderOptions {
        full: scenario.full,
        cwnd: scenario.show_cwnd,
        ..LadderOptions::default()
    };
    let mut out = ladder::render(
        &w.trace,
        &opts,
        &w.client.addr().to_string(),
        &w.server.addr().to_string(),
    );
    out.push_str("\nSummary\n");
    for line in &report.summary {
        out.push_str(&format!("  {line}\n"));
    }
    if let Some(e) = &report.error {
        out.push_str(&format!("  did not complete: {e}\n"));
    }
    out
}

#[test]
fn every_scenario_draws_as_its_golden_file_says() {
    let bless = std::env::var_os("SYNACK_BLESS").is_some_and(|v| v == "1");
    let mut failures = Vec::new();
    for scenario in SCENARIOS {
        let now = drawing(scenario.name);
        let path = golden_dir().join(format!("{}.txt", scenario.name));
        if bless {
            std::fs::create_dir_all(golden_dir()).unwrap();
            std::fs::write(&path, &now).unwrap();
            continue;
        }
        let Ok(kept) = std::fs::read_to_string(&path) else {
            failures.push(format!(
                "{}: no golden file {} (write it with SYNACK_BLESS=1)",
                scenario.name,
                path.display()
            ));
            continue;
        };
        if kept != now {
            let (line, (want, got)) = kept
                .lines()
                .chain(std::iter::repeat(""))
                .zip(now.lines().chain(std::iter::repeat("")))
                .enumerate()
                .find(|(_, (a, b))| a != b)
                .unwrap_or((0, ("", "")));
            failures.push(format!(
                "{}: differs from {} at line {}:\n  kept: {want}\n  now:  {got}",
                scenario.name,
                path.display(),
                line + 1
            ));
        }
    }
    // No stale files for scenarios that are gone.
    if !bless {
        for entry in std::fs::read_dir(golden_dir())
            .into_iter()
            .flatten()
            .flatten()
        {
            let name = entry.file_name().to_string_lossy().replace(".txt", "");
            if !SCENARIOS.iter().any(|s| s.name == name) {
                failures.push(format!("{name}: a golden file for no scenario"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{}\n(after a deliberate change: SYNACK_BLESS=1 cargo test -p synack-sim --test golden, then review the diff)",
        failures.join("\n")
    );
}

#[test]
fn colours_paint_lines_without_moving_anything() {
    // With colours on, a lost segment is red and a retransmission yellow;
    // without the escape codes the drawing is the plain one, column for
    // column.
    let scenario = synack_sim::scenarios::find("lost-final-ack").expect("scenario exists");
    let report = common::play(scenario);
    let w = &report.world;
    let (client, server) = (w.client.addr().to_string(), w.server.addr().to_string());
    let plain = ladder::render(&w.trace, &LadderOptions::default(), &client, &server);
    let coloured = ladder::render(
        &w.trace,
        &LadderOptions {
            color: true,
            ..LadderOptions::default()
        },
        &client,
        &server,
    );
    assert!(coloured
        .lines()
        .any(|l| l.contains("\x1b[31m") && l.contains("(lost)")));
    assert!(coloured
        .lines()
        .any(|l| l.contains("\x1b[33m") && l.contains("retransmission")));
    let mut stripped = String::new();
    let mut rest = coloured.as_str();
    while let Some(i) = rest.find("\x1b[") {
        stripped.push_str(&rest[..i]);
        let end = rest[i..].find('m').expect("an escape ends with m");
        rest = &rest[i + end + 1..];
    }
    stripped.push_str(rest);
    assert_eq!(stripped, plain);
}
