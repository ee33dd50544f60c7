//! `synack view` on a capture of the Linux kernel's own TCP: curl fetches
//! a page from python's http.server over the loopback of a network
//! namespace the test makes, tcpdump captures it, and the states
//! `synack view` infers from the capture must be the ones RFC 9293 gives
//! a client and a server, ending where the kernel's socket table says.
//!
//! Every packet stays on that namespace's `lo`; the harness (`common`)
//! runs each process under `timeout` and its guard kills them and deletes
//! the namespace however the test ends. Without root, iproute2, tcpdump,
//! python3 or curl the test says why and passes, unless
//! `SYNACK_REQUIRE_NETNS=1`, when it fails.
#![cfg(target_os = "linux")]

mod common;

use std::process::Command;
use std::time::Duration;

use common::{Lab, SYNACK};

const PORT: u16 = 8080;
const LIMIT: Duration = Duration::from_secs(30);

/// One side's address and states from the summary of `synack view`, e.g.
/// "  client 127.0.0.1:40000: CLOSED → SYN-SENT → ... (inferred)".
fn side(view: &str, role: &str) -> (String, Vec<String>) {
    let line = view
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with(&format!("{role} ")) && l.ends_with("(inferred)"))
        .unwrap_or_else(|| panic!("no {role} line in the summary:\n{view}"));
    let (addr, path) = line[role.len() + 1..]
        .split_once(": ")
        .unwrap_or_else(|| panic!("unexpected summary line: {line}"));
    let states = path
        .trim_end_matches("(inferred)")
        .split('→')
        .map(|s| s.trim().to_owned())
        .collect();
    (addr.to_owned(), states)
}

fn states(view: &str, role: &str) -> Vec<String> {
    side(view, role).1
}

/// `synack view ARGS`, in full.
fn synack_view(args: &[&str]) -> (bool, String, String) {
    let out = Command::new("timeout")
        .arg("60")
        .arg(SYNACK)
        .arg("view")
        .args(args)
        .output()
        .expect("run synack view");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn is_final(s: &str) -> bool {
    s == "CLOSED" || s == "TIME-WAIT"
}

#[test]
fn view_infers_the_kernels_states_from_a_tcpdump_capture() {
    let Some(mut lab) = Lab::new("view-kernel", &["tcpdump", "python3", "curl"]) else {
        return;
    };
    let ns = lab.ns.clone();
    lab.ip(&["-n", &ns, "link", "set", "lo", "up"]);
    let www = lab.path("www");
    std::fs::create_dir_all(&www).unwrap();
    std::fs::write(www.join("hello.txt"), "hello from the kernel\n".repeat(200)).unwrap();
    let www = www.to_str().unwrap().to_owned();
    let port = PORT.to_string();
    let server = lab.spawn_in(
        &ns,
        "python-http",
        &[
            "python3",
            "-m",
            "http.server",
            &port,
            "--bind",
            "127.0.0.1",
            "--directory",
            &www,
        ],
        None,
        None,
    );
    lab.wait_listening(&ns, PORT, server);

    // -Z root: the file is written by root, in the lab's directory;
    // --immediate-mode and -U: every packet is in the file once seen.
    let capture = lab.path("kernel.pcap");
    let capture_s = capture.to_str().unwrap().to_owned();
    let tcpdump = lab.spawn_in(
        &ns,
        "tcpdump",
        &[
            "tcpdump",
            "-i",
            "lo",
            "-n",
            "-U",
            "--immediate-mode",
            "-Z",
            "root",
            "-w",
            &capture_s,
        ],
        None,
        None,
    );
    lab.poll("tcpdump listening", Some(tcpdump), LIMIT, |lab| {
        lab.stderr(tcpdump).contains("listening on").then_some(())
    });

    let url = format!("http://127.0.0.1:{PORT}/hello.txt");
    let got = lab.path("got.txt");
    lab.run(
        "curl",
        &[
            "curl",
            "-sS",
            "--max-time",
            "20",
            "-o",
            got.to_str().unwrap(),
            &url,
        ],
        LIMIT,
    )
    .expect_success("curl");
    assert_eq!(std::fs::read(&got).unwrap().len(), 22 * 200);

    // Until the capture holds the close: both sides in CLOSED or
    // TIME-WAIT, which takes the last ACK.
    lab.poll(
        "the capture holding the close",
        Some(tcpdump),
        LIMIT,
        |_| {
            let (ok, view, _) = synack_view(&[&capture_s]);
            (ok && states(&view, "client").last().is_some_and(|s| is_final(s))
                && states(&view, "server").last().is_some_and(|s| is_final(s)))
            .then_some(())
        },
    );
    let stopped = lab
        .stop(tcpdump, "INT", Duration::from_secs(10))
        .expect("tcpdump stops on SIGINT");
    println!("tcpdump: {}", stopped.stderr.trim());

    // Where the kernel has the connection now: the sides in TIME-WAIT.
    let ss = Command::new("ip")
        .args(["netns", "exec", &ns, "ss", "-Htan", "state", "time-wait"])
        .output()
        .expect("run ss");
    let ss = String::from_utf8_lossy(&ss.stdout).into_owned();
    println!("ss state time-wait:\n{ss}");

    let svg = lab.path("kernel.svg");
    let html = lab.path("kernel.html");
    let (ok, view_out, err) = synack_view(&[
        &capture_s,
        "--svg",
        svg.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ]);
    assert!(ok, "synack view failed: {err}");
    let view = view_out;
    println!("{view}");

    assert!(
        view.contains("connection 1 of 1: 127.0.0.1:"),
        "one connection, on the loopback:\n{view}"
    );
    assert!(
        view.contains(&format!("↔ 127.0.0.1:{PORT}")),
        "the server is the listener:\n{view}"
    );
    assert!(view.contains("link type ETHERNET (1)"), "{view}");
    let (client_addr, client) = side(&view, "client");
    let (server_addr, server) = side(&view, "server");
    assert_eq!(server_addr, format!("127.0.0.1:{PORT}"));
    assert_eq!(
        client[..3],
        ["CLOSED", "SYN-SENT", "ESTABLISHED"],
        "client states {client:?}"
    );
    assert_eq!(
        server[..3],
        ["LISTEN", "SYN-RECEIVED", "ESTABLISHED"],
        "server states {server:?}"
    );
    // Each side closes the way RFC 9293 has it: the passive closer through
    // CLOSE-WAIT and LAST-ACK to CLOSED, an active one through FIN-WAIT-1
    // to TIME-WAIT (both are active if the FINs crossed).
    let mut active = 0;
    for (role, states) in [("client", &client), ("server", &server)] {
        if states[3] == "CLOSE-WAIT" {
            assert_eq!(states[3..], ["CLOSE-WAIT", "LAST-ACK", "CLOSED"], "{role}");
        } else {
            active += 1;
            assert_eq!(states[3], "FIN-WAIT-1", "{role}: {states:?}");
            assert_eq!(states.last().unwrap(), "TIME-WAIT", "{role}: {states:?}");
        }
    }
    assert!(active >= 1, "someone closes first: {client:?} {server:?}");
    // The kernel agrees about who is in TIME-WAIT: a side is if its
    // address is the local one (the first) of a TIME-WAIT socket.
    for (addr, states) in [(&client_addr, &client), (&server_addr, &server)] {
        let kernel = ss
            .lines()
            .any(|l| l.split_whitespace().find(|f| f.contains(':')) == Some(addr.as_str()));
        assert_eq!(
            kernel,
            states.last().unwrap() == "TIME-WAIT",
            "synack view says {addr} ends in {}; the kernel's TIME-WAIT sockets:\n{ss}",
            states.last().unwrap()
        );
    }

    let svg = std::fs::read_to_string(&svg).expect("the SVG was written");
    assert!(svg.starts_with("<svg") && svg.contains("SYN-RECEIVED"));
    let html = std::fs::read_to_string(&html).expect("the HTML was written");
    assert!(html.contains("<title>synack view ") && html.contains("connection 1 of 1"));

    // Bad input: one line on stderr, status 1.
    for (args, says) in [
        (
            vec![capture_s.as_str(), "--conn", "2"],
            "there is no connection 2",
        ),
        (vec![www.as_str()], "cannot read"),
        (
            vec![lab.path("www/hello.txt").to_str().unwrap()],
            "not a pcap or pcapng capture",
        ),
    ] {
        let out = Command::new(SYNACK)
            .arg("view")
            .args(&args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains(says) && err.trim().lines().count() == 1,
            "{args:?}: {err}"
        );
    }
}
