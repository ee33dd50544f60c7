//! `synack demo` as a user runs it: `--json` carries what the ladder shows
//! (a header, each segment with relative numbers, the scaled window, the
//! retransmission mark and its arrival, then the summary), and `--svg` /
//! `--html` write their files.

use std::process::Command;

fn synack(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_synack"))
        .args(args)
        .output()
        .expect("the synack binary runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn json_is_the_ladder_as_data() {
    let (ok, out, err) = synack(&["demo", "lost-final-ack", "--json"]);
    assert!(ok, "{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let first = &lines[0];
    assert_eq!(first["type"], "demo");
    assert_eq!(first["scenario"], "lost-final-ack");
    assert_eq!(first["seed"], 1);
    let last = lines.last().unwrap();
    assert_eq!(last["type"], "summary");
    assert!(last["error"].is_null());
    assert!(!last["lines"].as_array().unwrap().is_empty());
    let segments: Vec<&serde_json::Value> =
        lines.iter().filter(|l| l["type"] == "segment").collect();
    // The SYN is at relative 0 and arrives one delay later.
    assert_eq!(segments[0]["flags"], "SYN");
    assert_eq!(segments[0]["rel_seq"], 0);
    assert_eq!(segments[0]["arrival_us"], 10_000);
    // The final ACK is lost (no arrival); the server's FIN comes again,
    // marked as a retransmission.
    assert!(segments
        .iter()
        .any(|s| s["fate"] == "lost" && s["arrival_us"].is_null()));
    assert!(segments
        .iter()
        .any(|s| s["retransmission"] == true && s["flags"].as_str().unwrap().contains("FIN")));
    // Windows after the handshake are scaled: bytes, not the raw field.
    let data_ack = segments.iter().find(|s| s["flags"] == "ACK").unwrap();
    assert!(data_ack["window_bytes"].as_u64().unwrap() > data_ack["win"].as_u64().unwrap());
}

#[test]
fn svg_and_html_are_written_where_asked() {
    let dir = std::env::temp_dir().join(format!("synack-demo-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (svg, html) = (dir.join("x.svg"), dir.join("x.html"));
    let (ok, _, err) = synack(&[
        "demo",
        "handshake-close",
        "--svg",
        svg.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(std::fs::read_to_string(&svg).unwrap().starts_with("<svg"));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>") && page.contains("The state machine"));
    // A file that cannot be written is a one-line error, not a panic.
    let (ok, _, err) = synack(&["demo", "--svg", "/nonexistent-dir/x.svg"]);
    assert!(!ok);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("synack: cannot write /nonexistent-dir/x.svg"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
