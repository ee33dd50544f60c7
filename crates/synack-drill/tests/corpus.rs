//! Runs the whole packetdrill corpus and holds the number of passing
//! scripts to the floor in `floor.txt` (a ratchet: raise it when more pass).
//!
//! `SYNACK_DRILL_WRITE=1 cargo test -p synack-drill --test corpus`
//! rewrites `NOT_PASSING.md` (the same text as `synack drill --not-passing
//! <corpus>`).

use std::path::Path;
use synack_drill::report::{not_passing_markdown, run_path, Summary};

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/conformance/packetdrill"
);

#[test]
fn corpus_meets_the_floor() {
    let root = Path::new(CORPUS);
    if !root.is_dir() {
        eprintln!("corpus not found at {CORPUS}; skipping");
        return;
    }
    let verdicts = run_path(root, None, None).expect("read the corpus");
    let summary = Summary::of(&verdicts);
    for v in &verdicts {
        eprintln!("{}", v.line());
    }
    for line in summary.lines() {
        eprintln!("{line}");
    }
    let manifest = env!("CARGO_MANIFEST_DIR");
    if std::env::var_os("SYNACK_DRILL_WRITE").is_some() {
        std::fs::write(
            Path::new(manifest).join("NOT_PASSING.md"),
            not_passing_markdown(&verdicts, root),
        )
        .expect("write NOT_PASSING.md");
    }
    let floor: usize = std::fs::read_to_string(Path::new(manifest).join("floor.txt"))
        .expect("floor.txt")
        .trim()
        .parse()
        .expect("floor.txt holds a number");
    assert!(
        summary.passed() >= floor,
        "{} scripts pass, below the floor of {floor}",
        summary.passed()
    );
}
