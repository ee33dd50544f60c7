//! Every scenario's HTML page loads in a real browser (headless Chromium)
//! with no console error, and its step-through works: the page's own
//! `#selftest` presses → twice and ← once and reports whether the highlight
//! followed; the test reads that report from the DOM Chromium dumps.
//!
//! With `SYNACK_BLESS=1` it also writes the screenshot the README shows,
//! `docs/images/handshake-close.png`, from the same page.
//!
//! Needs `chromium` (Debian package `chromium`; `scripts/test.sh` installs
//! it). Without it the test prints a note and passes, unless
//! `SYNACK_REQUIRE_TOOLS=1` is set, in which case it fails.

mod common;

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use synack_sim::ladder::LadderOptions;
use synack_sim::lang::Lang;
use synack_sim::scenarios::SCENARIOS;
use synack_sim::svg;

fn chromium_available() -> bool {
    match Command::new("chromium").arg("--version").output() {
        Ok(out) if out.status.success() => true,
        result => {
            let why = match result {
                Ok(out) => format!("`chromium --version` exited with {}", out.status),
                Err(e) if e.kind() == ErrorKind::NotFound => "chromium is not installed".into(),
                Err(e) => format!("chromium could not be run: {e}"),
            };
            if std::env::var("SYNACK_REQUIRE_TOOLS").is_ok_and(|v| v == "1") {
                panic!(
                    "{why}, and SYNACK_REQUIRE_TOOLS=1: install chromium \
                     (apt-get install chromium; scripts/test.sh does this)"
                );
            }
            eprintln!("skipping: {why} (set SYNACK_REQUIRE_TOOLS=1 to make this a failure)");
            false
        }
    }
}

/// A directory of its own, removed when the test passes.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!("synack-html-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// Runs headless Chromium with a fresh profile; returns (stdout, stderr).
fn chromium(profile: &Path, args: &[&str]) -> (String, String) {
    let out = Command::new("timeout")
        .arg("120")
        .arg("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .expect("chromium runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Console messages that are errors in the page, from Chromium's log.
fn page_errors(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught"))
        .filter(|l| l.contains("Error") || l.contains("Uncaught") || l.contains("error"))
        .collect()
}

#[test]
fn every_page_renders_without_errors_and_steps_with_the_arrow_keys() {
    if !chromium_available() {
        return;
    }
    let dir = Scratch::new();
    let mut failures = Vec::new();
    for scenario in SCENARIOS {
        let report = common::play(scenario);
        let picture = svg::render(
            &report.world.trace,
            &LadderOptions::default(),
            "10.77.0.1",
            "10.77.0.2",
        );
        let page = svg::html_page(
            scenario.name,
            scenario.about.en,
            &picture,
            &report.summary,
            Lang::En,
        );
        let file = dir.0.join(format!("{}.html", scenario.name));
        std::fs::write(&file, page).unwrap();
        let profile = dir.0.join(format!("profile-{}", scenario.name));
        let url = format!("file://{}#selftest", file.display());
        let (dom, log) = chromium(&profile, &["--dump-dom", &url]);
        let steps = picture.steps.len();
        let want = format!("SELFTEST OK at step 1 of {steps}");
        if !dom.contains(&want) {
            let got = dom
                .find("SELFTEST")
                .map(|i| dom[i..].lines().next().unwrap_or(""))
                .unwrap_or("no self-test report in the DOM");
            failures.push(format!("{}: {got}", scenario.name));
        }
        let errors = page_errors(&log);
        if !errors.is_empty() {
            failures.push(format!(
                "{}: console: {}",
                scenario.name,
                errors.join(" | ")
            ));
        }
        if scenario.name == "handshake-close"
            && std::env::var_os("SYNACK_BLESS").is_some_and(|v| v == "1")
        {
            let png = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../docs/images/handshake-close.png");
            std::fs::create_dir_all(png.parent().unwrap()).unwrap();
            let shot = format!("--screenshot={}", png.display());
            let page_url = format!("file://{}", file.display());
            chromium(&profile, &[&shot, "--window-size=1200,1500", &page_url]);
            assert!(png.exists(), "the screenshot was not written");
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
