//! Golden files: every scenario's ladder and summary, as `synack demo NAME`
//! draws them with seed 1, kept in `tests/golden/NAME.txt`. A change in
//! protocol behaviour (a segment more or less, another window, a state
//! reached at another moment) fails here and shows up as a reviewed diff.
//! A few are kept in Chinese too (`--lang zh`, `tests/golden/zh/`), and
//! every scenario's Chinese ladder must keep to 80 display columns and
//! name every state with its Chinese term.
//!
//! After a deliberate change, rewrite them with
//! `SYNACK_BLESS=1 cargo test -p synack-sim --test golden` and review the
//! diff before committing it.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use synack_sim::ladder::{self, LadderOptions};
use synack_sim::lang::{self, words, Lang};
use synack_sim::scenarios::SCENARIOS;
use synack_tcp::State;

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// The scenarios kept in Chinese too, in `tests/golden/zh/`: the opening
/// and closing, and a lossy one (losses, retransmissions, the RTO backing
/// off, cwnd).
const IN_CHINESE: &[&str] = &["handshake-close", "rto-backoff"];

/// One scenario drawn in English and in Chinese.
struct Drawing {
    name: &'static str,
    en: String,
    zh: String,
}

/// What the demo prints for a scenario in `lang`, less the header that
/// names the build's options: the ladder and the summary.
fn drawing(report: &synack_sim::scenarios::Report, full: bool, cwnd: bool, lang: Lang) -> String {
    let w = &report.world;
    let opts = LadderOptions {
        full,
        cwnd,
        lang,
        ..LadderOptions::default()
    };
    let mut out = ladder::render(
        &w.trace,
        &opts,
        &w.client.addr().to_string(),
        &w.server.addr().to_string(),
    );
    out.push_str(&format!("\n{}\n", words::summary_heading(lang)));
    for line in &report.summary {
        out.push_str(&format!("  {}\n", line.get(lang)));
    }
    if let Some(e) = &report.error {
        out.push_str(&format!("  did not complete: {e}\n"));
    }
    out
}

/// Every scenario played once (seed 1) and drawn in both languages; the
/// tests below share the runs.
fn drawings() -> &'static [Drawing] {
    static DRAWINGS: OnceLock<Vec<Drawing>> = OnceLock::new();
    DRAWINGS.get_or_init(|| {
        SCENARIOS
            .iter()
            .map(|scenario| {
                let report = common::play(scenario);
                let (full, cwnd) = (scenario.full, scenario.show_cwnd);
                Drawing {
                    name: scenario.name,
                    en: drawing(&report, full, cwnd, Lang::En),
                    zh: drawing(&report, full, cwnd, Lang::Zh),
                }
            })
            .collect()
    })
}

/// Compares `now` with the file at `path` (or writes it, blessing).
fn check(name: &str, path: &Path, now: &str, bless: bool, failures: &mut Vec<String>) {
    if bless {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, now).unwrap();
        return;
    }
    let Ok(kept) = std::fs::read_to_string(path) else {
        failures.push(format!(
            "{name}: no golden file {} (write it with SYNACK_BLESS=1)",
            path.display()
        ));
        return;
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
            "{name}: differs from {} at line {}:\n  kept: {want}\n  now:  {got}",
            path.display(),
            line + 1
        ));
    }
}

fn blessing() -> bool {
    std::env::var_os("SYNACK_BLESS").is_some_and(|v| v == "1")
}

/// The names of the `.txt` files in `dir` that are no scenario's.
fn stale(dir: &Path, keep: impl Fn(&str) -> bool) -> Vec<String> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name().to_string_lossy().replace(".txt", ""))
        .filter(|name| !keep(name))
        .map(|name| format!("{}/{name}: a golden file for no scenario", dir.display()))
        .collect()
}

#[test]
fn every_scenario_draws_as_its_golden_file_says() {
    let bless = blessing();
    let mut failures = Vec::new();
    for d in drawings() {
        let path = golden_dir().join(format!("{}.txt", d.name));
        check(d.name, &path, &d.en, bless, &mut failures);
    }
    // No stale files for scenarios that are gone.
    if !bless {
        failures.extend(stale(&golden_dir(), |n| {
            SCENARIOS.iter().any(|s| s.name == n)
        }));
    }
    assert!(
        failures.is_empty(),
        "{}\n(after a deliberate change: SYNACK_BLESS=1 cargo test -p synack-sim --test golden, then review the diff)",
        failures.join("\n")
    );
}

#[test]
fn chinese_drawings_match_their_golden_files() {
    let bless = blessing();
    let dir = golden_dir().join("zh");
    let mut failures = Vec::new();
    for d in drawings().iter().filter(|d| IN_CHINESE.contains(&d.name)) {
        let path = dir.join(format!("{}.txt", d.name));
        check(d.name, &path, &d.zh, bless, &mut failures);
    }
    if !bless {
        failures.extend(stale(&dir, |n| IN_CHINESE.contains(&n)));
    }
    assert!(
        failures.is_empty(),
        "{}\n(after a deliberate change: SYNACK_BLESS=1 cargo test -p synack-sim --test golden, then review the diff)",
        failures.join("\n")
    );
}

#[test]
fn every_line_of_every_chinese_ladder_fits_80_columns() {
    // The ladder proper: the summary under it is wrapped by whoever
    // prints it (the CLI's own test checks the whole page).
    let mut wide = Vec::new();
    for d in drawings() {
        let ladder = d.zh.split("\n小结\n").next().unwrap_or_default();
        for line in ladder.lines() {
            if lang::width(line) > 80 {
                wide.push(format!(
                    "{} ({} columns): {line}",
                    d.name,
                    lang::width(line)
                ));
            }
        }
    }
    assert!(wide.is_empty(), "{}", wide.join("\n"));
    // The measure is display columns: a line of Chinese is wider than its
    // characters, and the ladder pads by columns so its arrows still meet
    // the right margin.
    let hs = &drawings()[0].zh;
    assert!(hs.lines().any(|l| lang::width(l) > l.chars().count()));
    let arrows: Vec<&str> = hs.lines().filter(|l| l.ends_with("──▶")).collect();
    assert!(!arrows.is_empty());
    assert!(arrows.iter().all(|l| lang::width(l) == 80), "{arrows:#?}");
}

#[test]
fn no_state_is_left_in_english_in_a_chinese_ladder() {
    // Wherever a Chinese drawing names a state, the seeds' term follows
    // the RFC's name: ESTABLISHED(已建立), never ESTABLISHED alone.
    let mut bare = Vec::new();
    for d in drawings() {
        for s in State::ALL {
            let named = words::state(Lang::Zh, s);
            for (at, _) in d.zh.match_indices(s.name()) {
                if !d.zh[at..].starts_with(named.as_ref()) {
                    let line = d.zh[at..].lines().next().unwrap_or_default();
                    bare.push(format!("{}: {} in \"…{line}\"", d.name, s.name()));
                }
            }
        }
    }
    assert!(bare.is_empty(), "{}", bare.join("\n"));
    // And the English ones name them as the RFC does, alone.
    let hs = &drawings()[0];
    assert!(hs.zh.contains("[CLOSED(关闭) → SYN-SENT(同步已发送)]"));
    assert!(hs.en.contains("[CLOSED → SYN-SENT]") && !hs.en.contains("已建立"));
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
