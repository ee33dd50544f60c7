//! `synack demo` as a user runs it: `--json` carries what the ladder shows
//! (a header, each segment with relative numbers, the urgent pointer, the
//! scaled window, the retransmission mark and its arrival, then the
//! summary), `--svg` / `--html` write their files, with the transfer plots
//! when data flowed, `--pcap-at` picks the view `--pcap` captures,
//! `--lang zh` draws in Chinese within 80 columns, `--lang en` is the
//! default byte for byte, and any other language is refused in one line.

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
fn json_carries_the_urgent_pointer_raw_and_numbered_like_seq() {
    let (ok, out, err) = synack(&["demo", "urgent-data", "--json"]);
    assert!(ok, "{err}");
    let segments: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .filter(|l: &serde_json::Value| l["type"] == "segment")
        .collect();
    let urgent: Vec<&serde_json::Value> = segments
        .iter()
        .filter(|s| s["flags"].as_str().unwrap().contains("URG"))
        .collect();
    let [mark] = urgent[..] else {
        panic!("{urgent:?}")
    };
    assert_eq!(mark["len"], 1);
    assert_eq!(mark["urgent"], 1, "the raw field: an offset from seq");
    assert_eq!(mark["rel_seq"], 12);
    assert_eq!(mark["rel_urg"], 13, "just past the urgent byte");
    assert!(segments
        .iter()
        .filter(|s| !s["flags"].as_str().unwrap().contains("URG"))
        .all(|s| s["rel_urg"].is_null() && s["urgent"] == 0));
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

/// lost-final-ack loses one segment, the client's last ACK, on its way to
/// the server: the server's capture lacks it, the client's and the link's
/// hold it. The last line names the view, the client's by default, and
/// `synack view` draws each file.
#[test]
fn pcap_at_picks_the_view_and_says_which() {
    let dir = std::env::temp_dir().join(format!("synack-demo-pcap-at-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut packets = Vec::new();
    for (at, says) in [
        (None, "the client's view"),
        (Some("client"), "the client's view"),
        (Some("server"), "the server's view"),
        (Some("link"), "the link's view"),
    ] {
        let file = dir.join(format!("{}.pcap", at.unwrap_or("default")));
        let file = file.to_str().unwrap();
        let mut args = vec!["demo", "lost-final-ack", "--pcap", file];
        if let Some(at) = at {
            args.extend(["--pcap-at", at]);
        }
        let (ok, out, err) = synack(&args);
        assert!(ok, "{err}");
        let line = out.lines().find(|l| l.contains("pcap written to")).unwrap();
        assert!(
            line.contains(&format!("pcap written to {file}, {says}")),
            "{line}"
        );
        let bytes = std::fs::read(file).unwrap();
        let records = synack_device::pcap::read_pcap(&bytes).unwrap();
        assert!(records.windows(2).all(|w| w[0].0 <= w[1].0), "{file}");
        packets.push((at, bytes, records.len()));
        let (ok, out, err) = synack(&["view", file]);
        assert!(ok, "synack view {file}: {err}");
        assert!(out.contains("SYN"), "synack view {file}:\n{out}");
    }
    let [(_, default, _), (_, client, c), (_, _, s), (_, _, l)] = &packets[..] else {
        unreachable!()
    };
    assert!(default == client, "the default view is not the client's");
    assert_eq!(
        (*c, *s),
        (*l, *l - 1),
        "client, server and link packet counts"
    );

    // A view that does not exist, or a view without a file: one line each.
    let (ok, _, err) = synack(&["demo", "--pcap", "x.pcap", "--pcap-at", "middle"]);
    assert!(!ok);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("synack: invalid value 'middle' for '--pcap-at <WHERE>'"),
        "{err}"
    );
    let (ok, _, err) = synack(&["demo", "--pcap-at", "link"]);
    assert!(!ok);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--pcap <FILE>"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn svg_and_html_carry_the_transfer_plots() {
    let dir = std::env::temp_dir().join(format!("synack-demo-plots-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (svg, html) = (dir.join("x.svg"), dir.join("x.html"));
    let (ok, _, err) = synack(&[
        "demo",
        "sack-recovery",
        "--svg",
        svg.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    // The picture, then the sequence and window plots under it.
    let svg_text = std::fs::read_to_string(&svg).unwrap();
    for text in [&svg_text, &std::fs::read_to_string(&html).unwrap()] {
        assert_eq!(text.matches("class=\"tcpplot seqplot\"").count(), 1);
        assert_eq!(text.matches("class=\"tcpplot cwndplot\"").count(), 1);
    }
    // A run without data says so in one line, with no empty frame.
    let (ok, _, err) = synack(&["demo", "closed-port", "--html", html.to_str().unwrap()]);
    assert!(ok, "{err}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("No data was sent in this run") && !page.contains("tcpplot"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn lang_en_is_the_default_byte_for_byte() {
    for name in ["handshake-close", "lost-final-ack"] {
        let (ok, default, err) = synack(&["demo", name]);
        assert!(ok, "{err}");
        let (ok, en, err) = synack(&["demo", name, "--lang", "en"]);
        assert!(ok, "{err}");
        assert_eq!(default, en);
        assert!(default.contains("Summary") && !default.contains("小结"));
    }
}

#[test]
fn an_unknown_language_is_refused_in_one_line_naming_the_known_ones() {
    for args in [
        &["demo", "--lang", "xx"][..],
        &["demo", "handshake-close", "--lang", "fr"],
        &["view", "x.pcap", "--lang", "xx"],
    ] {
        let (ok, out, err) = synack(args);
        assert!(!ok, "{args:?} was accepted");
        assert!(out.is_empty(), "{out}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with("synack: invalid value")
                && err.contains("--lang")
                && err.contains("en, zh"),
            "{err}"
        );
    }
}

#[test]
fn every_scenario_prints_in_chinese_within_80_columns_and_names_states_in_chinese() {
    use synack_sim::lang::{self, words, Lang};
    use synack_sim::scenarios::SCENARIOS;
    use synack_tcp::State;
    let mut wrong = Vec::new();
    for scenario in SCENARIOS {
        let (ok, out, err) = synack(&["demo", scenario.name, "--lang", "zh"]);
        assert!(ok, "{}: {err}", scenario.name);
        // Header, ladder, summary and counts: what a reader's terminal shows.
        for line in out.lines() {
            if lang::width(line) > 80 {
                wrong.push(format!(
                    "{} is {} columns wide: {line}",
                    scenario.name,
                    lang::width(line)
                ));
            }
        }
        for s in State::ALL {
            let named = words::state(Lang::Zh, s);
            for (at, _) in out.match_indices(s.name()) {
                if !out[at..].starts_with(named.as_ref()) {
                    let line = out[at..].lines().next().unwrap_or_default();
                    wrong.push(format!(
                        "{}: {} untranslated in \"…{line}\"",
                        scenario.name,
                        s.name()
                    ));
                }
            }
        }
        assert!(out.contains("小结"), "{}", scenario.name);
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_chinese_page_and_picture_speak_chinese() {
    let dir = std::env::temp_dir().join(format!("synack-demo-zh-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (svg, html) = (dir.join("x.svg"), dir.join("x.html"));
    let (ok, _, err) = synack(&[
        "demo",
        "lost-final-ack",
        "--lang",
        "zh",
        "--svg",
        svg.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let picture = std::fs::read_to_string(&svg).unwrap();
    assert!(picture.contains("客户端 10.77.0.1") && picture.contains("TIME-WAIT(时间等待)"));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<html lang=\"zh-CN\">") && page.contains("状态机"));
    // The step-through explains each segment in Chinese.
    assert!(
        page.contains("客户端请求建立连接（SYN）"),
        "no Chinese explanation"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Exit code, stdout, stderr.
fn synack_code(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_synack"))
        .args(args)
        .output()
        .expect("the synack binary runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_run_that_cannot_finish_says_what_happened_first_in_tcp_terms_and_exits_1() {
    let (code, out, err) = synack_code(&["demo", "--loss", "0.9"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        out.contains("\nSummary\n"),
        "the ladder is printed all the same"
    );
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines[0],
        "synack: scenario handshake-close did not complete: the server's SYN,ACK was \
         retransmitted 7 times and never acknowledged; the server gave up (retransmissions \
         exhausted)"
    );
    assert_eq!(
        lines.last().unwrap(),
        &"  (a lower --loss, or another --seed, lets it finish)"
    );
    assert!(
        !err.contains("went idle") && !err.contains("panicked"),
        "{err}"
    );
    // In Chinese, the whole message.
    let (code, _, err) = synack_code(&["demo", "--loss", "0.9", "--lang", "zh"]);
    assert_eq!(code, Some(1));
    assert!(
        err.starts_with(
            "synack: 场景 handshake-close 没有完成：服务器的 SYN,ACK 被重传了 7 次，始终没有得到确认"
        ),
        "{err}"
    );
    // The JSON summary carries the same sentence, and what the scenario found.
    let (code, out, _) = synack_code(&["demo", "--loss", "0.9", "--json"]);
    assert_eq!(code, Some(1));
    let summary: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(
        summary["error"],
        lines[0].trim_start_matches("synack: scenario handshake-close did not complete: ")
    );
    assert!(summary["check"]
        .as_str()
        .unwrap()
        .contains("nothing was left to happen"));
}

#[test]
fn debug_text_never_reaches_the_user() {
    // The server's FIN is lost past the client's TIME-WAIT and answered
    // with a RST: once "found CLOSED (Some(Reset))".
    let (code, _, err) = synack_code(&["demo", "handshake-close", "--loss", "0.5", "--seed", "1"]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("\n  expected the server's connection to close normally, but it was reset\n"),
        "{err}"
    );
    assert!(!err.contains("Some(") && !err.contains("Reset)"), "{err}");
    let (_, _, err) = synack_code(&[
        "demo",
        "handshake-close",
        "--loss",
        "0.5",
        "--seed",
        "1",
        "--lang",
        "zh",
    ]);
    assert!(
        err.contains("\n  预期服务器的连接正常关闭，但它被复位了\n"),
        "{err}"
    );
}

#[test]
fn the_seed_7_run_at_30_percent_loss_finishes_with_an_msl_above_the_rto() {
    let (code, out, err) =
        synack_code(&["demo", "handshake-close", "--loss", "0.3", "--seed", "7"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("loss 30%, MSL 120 s (TIME-WAIT lasts 2×MSL)\nMSL is the largest RTO"),
        "{out}"
    );
    assert!(!out.contains("── RST"), "{out}");
}

#[test]
fn negative_and_out_of_range_numbers_say_must_be_in_one_line() {
    for (args, says) in [
        (
            &["demo", "--seed", "-1"][..],
            "'--seed <N>': must be a whole number from 0 to 18446744073709551615",
        ),
        (
            &["demo", "--loss", "-0.1"],
            "'--loss <P>': must be between 0 and 0.9",
        ),
        (
            &["demo", "--loss", "1"],
            "'--loss <P>': must be between 0 and 0.9",
        ),
        (
            &["demo", "--delay", "-5"],
            "'--delay <MS>': must be a whole number from 0 to 10000",
        ),
        (
            &["chaos", "--seeds", "-1"],
            "'--seeds <N>': must be a whole number from 1 to 10000000",
        ),
        (
            &["chaos", "--from", "-1"],
            "'--from <SEED>': must be a whole number from 0 to",
        ),
        (
            &["bench", "scale", "--idle", "5,-1"],
            "'--idle <N,N,...>': must be a whole number from 0 to 1000000",
        ),
        (
            &["bench", "bulk", "--size", "0"],
            "'--size <MIB>': must be a whole number from 1 to 65536",
        ),
        (
            &["view", "x.pcap", "--conn", "-2"],
            "'--conn <N>': must be a whole number from 1 to",
        ),
    ] {
        let (code, out, err) = synack_code(args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(out.is_empty());
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(says), "{args:?}: {err}");
        let sub = if args[0] == "bench" { 2 } else { 1 };
        assert!(
            err.trim_end()
                .ends_with(&format!("(see `synack {} --help`)", args[..sub].join(" "))),
            "{err}"
        );
        assert!(!err.contains("valid:"), "{err}");
    }
}

#[test]
fn the_cli_prints_exactly_what_demo_run_writes() {
    use synack_sim::demo::{self, Request};
    use synack_sim::lang::Lang;
    use synack_sim::scenarios::{DemoOptions, SCENARIOS};
    for scenario in SCENARIOS {
        for (flag, json, lang) in [
            ("", false, Lang::En),
            ("--json", true, Lang::En),
            ("--lang=zh", false, Lang::Zh),
        ] {
            let mut args = vec!["demo", scenario.name];
            if !flag.is_empty() {
                args.push(flag);
            }
            let (code, out, err) = synack_code(&args);
            let req = Request {
                name: Some(scenario.name.to_string()),
                run: DemoOptions {
                    seed: 1,
                    ..DemoOptions::default()
                },
                json,
                lang,
                ..Request::default()
            };
            let mut want = Vec::new();
            let result = demo::run(&req, &mut want);
            assert_eq!(out.as_bytes(), &want[..], "{args:?}");
            match result {
                Ok(()) => assert_eq!((code, err.as_str()), (Some(0), ""), "{args:?}"),
                Err(e) => {
                    assert_eq!(code, Some(i32::from(e.exit_code())));
                    assert_eq!(err, format!("synack: {e}\n"));
                }
            }
        }
    }
}

#[test]
fn connect_timeout_counts_what_the_black_hole_took() {
    // Every SYN is drawn lost (the scenario's black hole drops them before
    // the link sees them): the counts under the summary say so too, in
    // the text and in the JSON.
    let (ok, out, err) = synack(&["demo", "connect-timeout"]);
    assert!(ok, "{err}");
    let crosses = out.lines().filter(|l| l.ends_with("──✕")).count();
    assert_eq!(crosses, 7, "{out}");
    assert!(
        out.contains("client  sent 7 segments (7 lost, 0 corrupted on the link);"),
        "{out}"
    );
    let (ok, out, err) = synack(&["demo", "connect-timeout", "--json"]);
    assert!(ok, "{err}");
    let last: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(last["hosts"][0]["side"], "client");
    assert_eq!(last["hosts"][0]["sent"], 7);
    assert_eq!(last["hosts"][0]["lost"], 7);
    let (ok, out, err) = synack(&["demo", "connect-timeout", "--lang", "zh"]);
    assert!(ok, "{err}");
    assert!(out.contains("发送 7 个报文段（链路上丢失 7 个"), "{out}");
}

#[test]
fn the_network_has_its_own_form_and_the_header_says_which_is_which() {
    let (ok, out, err) = synack(&["demo", "connect-timeout"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("» «: what the applications do; ~ ~: what the network does;"),
        "{out}"
    );
    let hole = out
        .lines()
        .find(|l| l.contains("black hole") && l.contains('~'))
        .unwrap();
    assert!(
        hole.starts_with("  0.000s  ") && hole.trim_start().contains("~ everything"),
        "{hole}"
    );
    assert!(!hole.contains('»'), "{hole}");
    let (ok, out, err) = synack(&["demo", "connect-timeout", "--json"]);
    assert!(ok, "{err}");
    let notes: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["type"] == "note")
        .collect();
    let kind_of = |needle: &str| {
        notes
            .iter()
            .find(|n| n["text"].as_str().unwrap().contains(needle))
            .map(|n| n["kind"].as_str().unwrap().to_string())
    };
    assert_eq!(kind_of("black hole").as_deref(), Some("network"));
    assert_eq!(kind_of("connect(").as_deref(), Some("application"));
    assert_eq!(kind_of("RTO 1 s expired").as_deref(), Some("explanation"));
    let (ok, out, err) = synack(&["demo", "connect-timeout", "--lang", "zh"]);
    assert!(ok, "{err}");
    assert!(out.contains("~ ~：网络上发生的事"), "{out}");
}

#[test]
fn a_half_open_connection_that_gives_up_reads_as_its_own_not_the_listeners() {
    // 90% loss with seed 1: the server's SYN-ACKs all vanish and its
    // half-open connection gives up; the listener goes on listening.
    let (ok, out, err) = synack(&["demo", "--loss", "0.9"]);
    assert!(!ok);
    let lines: Vec<&str> = out.lines().collect();
    let change = lines
        .iter()
        .position(|l| l.contains("[SYN-RECEIVED → CLOSED]"))
        .expect("the half-open connection's end is drawn");
    let note = format!("{} {}", lines[change + 1].trim(), lines[change + 2].trim());
    assert!(
        note.starts_with("66.010s")
            && note.contains("(the half-open connection from 10.77.0.1:")
            && note.ends_with("gave up; the listener stays in LISTEN)"),
        "{note}"
    );
    assert!(
        out.contains("  server  listener on :80: CLOSED → LISTEN\n"),
        "{out}"
    );
    assert!(
        out.contains("  server  half-open connection from 10.77.0.1:"),
        "{out}"
    );
    assert!(
        err.contains("its half-open connection from 10.77.0.1:")
            && err.contains("the listener stays in LISTEN"),
        "{err}"
    );
}
