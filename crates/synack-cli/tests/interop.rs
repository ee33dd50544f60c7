//! Interop: synack (the `synack` binary on a TUN device) against the Linux
//! kernel's TCP and everyday tools — curl, nc, socat, openssl, python's
//! http.server, nmap, hping3 and tshark — each test in network namespaces
//! of its own (see `common`).
//!
//! These are the only tests that run on real time: bounds are generous,
//! and nothing sleeps to wait for TCP (readiness is polled). The figures
//! (bytes, SHA-256, port states, success rates, memory) are printed;
//! `cargo test -p synack-cli --test interop -- --nocapture` shows them.
//!
//! Address plan: test N puts synack at 10.77.N.2 and the kernel's end of
//! the TUN at 10.77.N.1 (fd77:N::/64 for IPv6); a second namespace, when a
//! test needs a kernel host to compare with, is 10.78.N.2 behind a veth
//! whose other end is 10.78.N.1.
#![cfg(target_os = "linux")]

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{assert_same_file, counter, proc_status_kib, write_random, Lab, SYNACK};

const MIB: usize = 1 << 20;

/// The bound on one transfer of tens of MiB (they take about a second).
const TRANSFER_LIMIT: Duration = Duration::from_secs(90);

/// A directory `www` in the lab with `name` of `len` random bytes.
fn www_with(lab: &Lab, name: &str, len: usize, seed: u64) -> String {
    let www = lab.path("www");
    std::fs::create_dir_all(&www).unwrap();
    write_random(&www.join(name), len, seed);
    www.to_str().unwrap().to_owned()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn mbit_per_s(bytes: u64, d: Duration) -> f64 {
    bytes as f64 * 8.0 / d.as_secs_f64().max(1e-9) / 1e6
}

/// `socat` sends `input` to ADDR:PORT and writes what comes back to
/// `output`, both directions at once; it ends when both have seen a FIN
/// (`-t` waits for the peer's after its own).
fn socat_both_ways(lab: &mut Lab, to: &str, input: &Path, output: &Path) -> common::Finished {
    let dual = format!("OPEN:{},rdonly!!CREATE:{}", p(input), p(output));
    let tcp = format!("TCP:{to}");
    lab.run(
        "socat",
        &["socat", "-b", "65536", "-t", "60", &dual, &tcp],
        TRANSFER_LIMIT,
    )
    .expect_success("socat")
}

/// The line `synack serve` logs when a connection ends ("... bytes in,
/// ... bytes out, ... s"); waits for it (the log follows the FIN).
fn served_line(lab: &mut Lab, serve: &common::Serve) -> String {
    let id = serve.id;
    lab.poll(
        "synack serve logging the connection",
        Some(id),
        Duration::from_secs(10),
        |lab| {
            lab.stderr(id)
                .lines()
                .rev()
                .find(|l| l.contains(" bytes out, ") || l.contains(" after "))
                .map(str::to_owned)
        },
    )
}

// ---- 1. kernel client → synack server ------------------------------------

#[test]
fn curl_gets_10_mib_from_synack_serve_http() {
    let Some(mut lab) = Lab::new("curl-http", &["curl"]) else {
        return;
    };
    let www = www_with(&lab, "big.bin", 10 * MIB, 1);
    let _serve = lab.serve(
        "sk0",
        &["--addr", "10.77.1.2/24", "--port", "80", "--http", &www],
    );
    let got = lab.path("got.bin");
    let r = lab
        .run(
            "curl",
            &[
                "curl",
                "-sS",
                "--max-time",
                "60",
                "-o",
                p(&got),
                "-w",
                "%{http_code}",
                "http://10.77.1.2/big.bin",
            ],
            TRANSFER_LIMIT,
        )
        .expect_success("curl");
    println!(
        "curl http://10.77.1.2/big.bin: HTTP {} in {:.3} s ({:.0} Mbit/s)",
        r.stdout_text(),
        r.elapsed.as_secs_f64(),
        mbit_per_s(10 * MIB as u64, r.elapsed)
    );
    assert_eq!(r.stdout_text(), "200");
    assert_same_file("curl GET", &lab.path("www/big.bin"), &got);
}

#[test]
fn nc_echoes_through_synack_serve_echo() {
    let Some(mut lab) = Lab::new("nc-echo", &["nc"]) else {
        return;
    };
    let _serve = lab.serve("sk0", &["--addr", "10.77.2.2/24", "--port", "7", "--echo"]);
    for (name, len) in [("line", 0), ("256k", 256 * 1024)] {
        let input = lab.path(&format!("{name}.in"));
        if len == 0 {
            std::fs::write(&input, "hello, synack\n").unwrap();
        } else {
            write_random(&input, len, 2);
        }
        let ns = lab.ns.clone();
        let r = lab
            .run_in(
                &ns,
                "nc",
                &["nc", "-N", "-w", "30", "10.77.2.2", "7"],
                Some(&input),
                TRANSFER_LIMIT,
            )
            .expect_success("nc -N");
        let back = lab.path(&format!("{name}.back"));
        std::fs::write(&back, &r.stdout).unwrap();
        println!(
            "nc -N 10.77.2.2 7 < {name}: {:.3} s",
            r.elapsed.as_secs_f64()
        );
        assert_same_file(&format!("nc echo ({name})"), &input, &back);
    }
}

#[test]
fn socat_moves_50_mib_each_way_at_once_through_synack_echo() {
    let Some(mut lab) = Lab::new("socat-echo", &["socat"]) else {
        return;
    };
    let serve = lab.serve("sk0", &["--addr", "10.77.3.2/24", "--port", "7", "--echo"]);
    let input = lab.path("in.bin");
    write_random(&input, 50 * MIB, 3);
    let output = lab.path("out.bin");
    let r = socat_both_ways(&mut lab, "10.77.3.2:7", &input, &output);
    let line = served_line(&mut lab, &serve);
    println!(
        "socat 50 MiB to and from synack echo at once: {:.3} s ({:.0} Mbit/s each way)",
        r.elapsed.as_secs_f64(),
        mbit_per_s(50 * MIB as u64, r.elapsed)
    );
    println!("  synack serve: {line}");
    let n = 50 * MIB;
    assert!(
        line.contains(&format!(": {n} bytes in, {n} bytes out")),
        "synack did not get and send all {n} bytes: {line}"
    );
    assert_same_file("socat echo", &input, &output);
}

// ---- 2. synack client → kernel server ------------------------------------

#[test]
fn synack_get_fetches_from_python_http_server() {
    let Some(mut lab) = Lab::new("get-python", &["python3"]) else {
        return;
    };
    let www = www_with(&lab, "big.bin", 10 * MIB, 4);
    lab.precreate_tun("sk0", "10.77.4.1/24");
    let ns = lab.ns.clone();
    let py = lab.spawn_in(
        &ns,
        "python-http",
        &[
            "python3",
            "-m",
            "http.server",
            "8000",
            "--bind",
            "10.77.4.1",
            "--directory",
            &www,
        ],
        None,
        None,
    );
    lab.wait_listening(&ns, 8000, py);
    let got = lab.path("got.bin");
    let r = lab
        .run(
            "synack-get",
            &[
                SYNACK,
                "get",
                "--tun",
                "sk0",
                "--addr",
                "10.77.4.2/24",
                "-o",
                p(&got),
                "http://10.77.4.1:8000/big.bin",
            ],
            TRANSFER_LIMIT,
        )
        .expect_success("synack get");
    println!(
        "synack get http://10.77.4.1:8000/big.bin (python3 -m http.server): {:.3} s; {}",
        r.elapsed.as_secs_f64(),
        r.stderr.trim()
    );
    assert_same_file("synack get", &lab.path("www/big.bin"), &got);
}

/// Runs `synack connect` to `to` with `ours` on stdin while the kernel
/// server `server` (already listening) answers; returns what each side got
/// as (synack's stdout, the server's stdout).
fn connect_against(
    lab: &mut Lab,
    server: common::ProcId,
    to: &str,
    ours: &Path,
) -> (common::Finished, common::Finished) {
    let ns = lab.ns.clone();
    let r = lab
        .run_in(
            &ns,
            "synack-connect",
            &[
                SYNACK,
                "connect",
                "--tun",
                "sk0",
                "--addr",
                "10.77.5.2/24",
                to,
            ],
            Some(ours),
            TRANSFER_LIMIT,
        )
        .expect_success("synack connect");
    let done = lab
        .wait(server, Duration::from_secs(30))
        .expect("the kernel server ends after both FINs")
        .expect_success("the kernel server");
    (r, done)
}

/// Half-close both ways. Round 1: synack sends 4 MiB then FIN while
/// `nc -N -l` sends 16 KiB then FIN at once, so synack goes on sending
/// after the kernel's FIN (CLOSE-WAIT). Round 2: the kernel reads to
/// synack's FIN before it sends its 4 MiB reply then FIN, so synack goes on
/// receiving after its own FIN (FIN-WAIT-2). Round 2 is not nc's: nc
/// (netcat-openbsd 1.219) stops sending its stdin once the peer's FIN
/// arrives, with the kernel at the other end too; a shell under socat
/// (`cat > got; cat reply`) reads first and replies after.
#[test]
fn synack_connect_half_closes_with_kernel_nc() {
    let Some(mut lab) = Lab::new("half-close", &["nc", "socat"]) else {
        return;
    };
    lab.precreate_tun("sk0", "10.77.5.1/24");
    let ns = lab.ns.clone();

    let (ours, theirs) = (lab.path("synack-1.in"), lab.path("nc-1.in"));
    write_random(&ours, 4 * MIB, 51);
    write_random(&theirs, 16 * 1024, 61);
    let nc = lab.spawn_in(
        &ns,
        "nc-listen",
        &["nc", "-N", "-l", "10.77.5.1", "9001"],
        Some(&theirs),
        None,
    );
    lab.wait_listening(&ns, 9001, nc);
    let (r, server) = connect_against(&mut lab, nc, "10.77.5.1:9001", &ours);
    let (synack_got, nc_got) = (lab.path("synack-1.got"), lab.path("nc-1.got"));
    std::fs::write(&synack_got, &r.stdout).unwrap();
    std::fs::write(&nc_got, &server.stdout).unwrap();
    println!(
        "half-close 1: synack sends 4 MiB then FIN; nc -N -l sends 16 KiB then FIN at once ({:.3} s)",
        r.elapsed.as_secs_f64()
    );
    assert_same_file("  nc got synack's", &ours, &nc_got);
    assert_same_file("  synack got nc's", &theirs, &synack_got);

    let (ours, reply) = (lab.path("synack-2.in"), lab.path("reply-2.in"));
    write_random(&ours, MIB, 52);
    write_random(&reply, 4 * MIB, 62);
    let kernel_got = lab.path("kernel-2.got");
    let shell = format!("SYSTEM:cat > {}; cat {}", p(&kernel_got), p(&reply));
    let server = lab.spawn_in(
        &ns,
        "socat-listen",
        &[
            "socat",
            "-t",
            "60",
            "TCP-LISTEN:9002,bind=10.77.5.1",
            &shell,
        ],
        None,
        None,
    );
    lab.wait_listening(&ns, 9002, server);
    let (r, _) = connect_against(&mut lab, server, "10.77.5.1:9002", &ours);
    let synack_got = lab.path("synack-2.got");
    std::fs::write(&synack_got, &r.stdout).unwrap();
    println!(
        "half-close 2: synack sends 1 MiB then FIN; the kernel reads to the FIN, then replies 4 MiB then FIN ({:.3} s)",
        r.elapsed.as_secs_f64()
    );
    assert_same_file("  the kernel got synack's", &ours, &kernel_got);
    assert_same_file("  synack got the reply", &reply, &synack_got);
}

#[test]
fn synack_connect_to_a_closed_kernel_port_is_refused() {
    let Some(mut lab) = Lab::new("refused", &[]) else {
        return;
    };
    let r = lab.run(
        "synack-connect",
        &[
            SYNACK,
            "connect",
            "--tun",
            "sk0",
            "--addr",
            "10.77.6.2/24",
            "10.77.6.1:81",
        ],
        Duration::from_secs(30),
    );
    println!(
        "synack connect 10.77.6.1:81 (closed): {} in {:.3} s, stderr: {}",
        r.status,
        r.elapsed.as_secs_f64(),
        r.stderr.trim()
    );
    assert!(!r.status.success());
    assert!(r.stderr.contains("connection refused"), "{}", r.stderr);
}

#[test]
fn synack_connect_to_a_blackholed_address_times_out() {
    let Some(mut lab) = Lab::new("blackhole", &[]) else {
        return;
    };
    // 10.77.6.3 is in the TUN's prefix and nobody has it: the kernel
    // (forwarding off) drops the SYNs. Two retries: 1 + 2 + 4 s.
    let r = lab.run(
        "synack-connect",
        &[
            SYNACK,
            "connect",
            "--syn-retries",
            "2",
            "--tun",
            "sk0",
            "--addr",
            "10.77.6.2/24",
            "10.77.6.3:80",
        ],
        Duration::from_secs(60),
    );
    println!(
        "synack connect --syn-retries 2 10.77.6.3:80 (blackholed): {} in {:.3} s, stderr: {}",
        r.status,
        r.elapsed.as_secs_f64(),
        r.stderr.trim()
    );
    assert!(!r.status.success());
    assert!(r.stderr.contains("timed out"), "{}", r.stderr);
    // RFC 6298 §2.1 and §5.5: 1 s, then doubling.
    assert!(
        (Duration::from_secs(6)..Duration::from_secs(20)).contains(&r.elapsed),
        "{:?}",
        r.elapsed
    );
}

// ---- 3. HTTPS --------------------------------------------------------------

#[test]
fn curl_and_openssl_s_client_talk_to_synack_serve_https() {
    let Some(mut lab) = Lab::new("https-serve", &["curl", "openssl"]) else {
        return;
    };
    let www = www_with(&lab, "big.bin", 10 * MIB, 7);
    std::fs::write(lab.path("www/hello.txt"), "hello over TLS\n").unwrap();
    let _serve = lab.serve(
        "sk0",
        &[
            "--addr",
            "10.77.7.2/24",
            "--port",
            "443",
            "--https",
            &www,
            "--self-signed",
        ],
    );
    let got = lab.path("got.bin");
    let r = lab
        .run(
            "curl",
            &[
                "curl",
                "-sS",
                "-k",
                "--max-time",
                "60",
                "-o",
                p(&got),
                "-w",
                "%{http_code}",
                "https://10.77.7.2/big.bin",
            ],
            TRANSFER_LIMIT,
        )
        .expect_success("curl -k");
    println!(
        "curl -k https://10.77.7.2/big.bin: HTTP {} in {:.3} s",
        r.stdout_text(),
        r.elapsed.as_secs_f64()
    );
    assert_same_file("curl -k GET", &lab.path("www/big.bin"), &got);

    let request = lab.path("request");
    std::fs::write(
        &request,
        "GET /hello.txt HTTP/1.1\r\nHost: 10.77.7.2\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let ns = lab.ns.clone();
    let r = lab
        .run_in(
            &ns,
            "s_client",
            &[
                "openssl",
                "s_client",
                "-connect",
                "10.77.7.2:443",
                "-brief",
                "-ign_eof",
            ],
            Some(&request),
            Duration::from_secs(30),
        )
        .expect_success("openssl s_client");
    let reply = r.stdout_text();
    let brief: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.starts_with("Protocol version") || l.starts_with("Ciphersuite"))
        .collect();
    println!(
        "openssl s_client -connect 10.77.7.2:443: {}; reply: {:?}",
        brief.join(", "),
        reply.lines().next().unwrap_or("")
    );
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}\n{}", r.stderr);
    assert!(reply.ends_with("hello over TLS\n"), "{reply}");
}

#[test]
fn synack_get_fetches_from_openssl_s_server() {
    let Some(mut lab) = Lab::new("https-get", &["openssl"]) else {
        return;
    };
    let www = www_with(&lab, "big.bin", 10 * MIB, 8);
    let (cert, key) = (lab.path("cert.pem"), lab.path("key.pem"));
    // CA:FALSE: webpki (rustls) will not take a CA certificate as a
    // server's own, which openssl req -x509 makes by default.
    lab.run(
        "openssl-req",
        &[
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=10.77.8.1",
            "-addext",
            "subjectAltName=IP:10.77.8.1",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
            "-keyout",
            p(&key),
            "-out",
            p(&cert),
        ],
        Duration::from_secs(30),
    )
    .expect_success("openssl req");
    lab.precreate_tun("sk0", "10.77.8.1/24");
    let ns = lab.ns.clone();
    let server = lab.spawn_in(
        &ns,
        "s_server",
        &[
            "openssl",
            "s_server",
            "-WWW",
            "-accept",
            "10.77.8.1:4433",
            "-cert",
            p(&cert),
            "-key",
            p(&key),
        ],
        None,
        Some(Path::new(&www)),
    );
    lab.wait_listening(&ns, 4433, server);
    let cert_s = p(&cert).to_owned();
    for (i, trust) in [vec!["-k"], vec!["--cacert", &cert_s]]
        .into_iter()
        .enumerate()
    {
        let got = lab.path(&format!("got-{i}.bin"));
        let mut args = vec![
            SYNACK,
            "get",
            "--tun",
            "sk0",
            "--addr",
            "10.77.8.2/24",
            "-o",
            p(&got),
        ];
        args.extend(&trust);
        args.push("https://10.77.8.1:4433/big.bin");
        let r = lab
            .run("synack-get", &args, TRANSFER_LIMIT)
            .expect_success("synack get https");
        println!(
            "synack get {} https://10.77.8.1:4433/big.bin (openssl s_server -WWW): {:.3} s; {}",
            trust.join(" "),
            r.elapsed.as_secs_f64(),
            r.stderr.trim()
        );
        assert_same_file("synack get https", &lab.path("www/big.bin"), &got);
    }
}

// ---- 4. nmap ---------------------------------------------------------------

/// `port → state` from nmap's grepable output.
fn nmap_states(grepable: &str) -> Vec<(u16, String)> {
    let ports = grepable
        .lines()
        .find_map(|l| l.split("\tPorts: ").nth(1))
        .unwrap_or_else(|| panic!("no Ports: line in\n{grepable}"));
    ports
        .split(", ")
        .map(|entry| {
            let mut f = entry.split('/');
            let port = f.next().unwrap().trim().parse().unwrap();
            (port, f.next().unwrap().to_owned())
        })
        .collect()
}

#[test]
fn nmap_sees_synack_as_it_sees_linux() {
    let Some(mut lab) = Lab::new("nmap", &["nmap", "python3"]) else {
        return;
    };
    let www = www_with(&lab, "index.html", 100, 9);
    let _serve = lab.serve(
        "sk0",
        &["--addr", "10.77.9.2/24", "--port", "80", "--http", &www],
    );
    let host = lab.kernel_host("10.78.9.1/24", "10.78.9.2/24");
    let py = lab.spawn_in(
        &host,
        "python-http",
        &[
            "python3",
            "-m",
            "http.server",
            "80",
            "--bind",
            "10.78.9.2",
            "--directory",
            &www,
        ],
        None,
        None,
    );
    lab.wait_listening(&host, 80, py);
    for scan in ["-sS", "-sF"] {
        let mut states = Vec::new();
        let mut took = Vec::new();
        for target in ["10.77.9.2", "10.78.9.2"] {
            let r = lab
                .run(
                    "nmap",
                    &[
                        "nmap",
                        scan,
                        "-p",
                        "75-85",
                        "--max-retries",
                        "1",
                        "-T4",
                        "-n",
                        "-Pn",
                        "-oG",
                        "-",
                        target,
                    ],
                    Duration::from_secs(60),
                )
                .expect_success("nmap");
            states.push(nmap_states(&r.stdout_text()));
            took.push(r.elapsed.as_secs_f64());
        }
        println!(
            "nmap {scan} -p 75-85 ({:.1} s, {:.1} s):   synack 10.77.9.2    Linux 10.78.9.2",
            took[0], took[1]
        );
        for ((port, s), (_, l)) in states[0].iter().zip(&states[1]) {
            let mark = if s == l { "" } else { "   <-- differs" };
            println!("  {port:>5}/tcp           {s:<19} {l}{mark}");
        }
        assert_eq!(states[0], states[1], "nmap {scan}: synack and Linux differ");
        let open = if scan == "-sS" {
            "open"
        } else {
            "open|filtered"
        };
        assert!(
            states[0].contains(&(80, open.to_owned())),
            "{:?}",
            states[0]
        );
    }
}

// ---- 5. SYN flood ------------------------------------------------------------

/// Fetch loops that run at once under a flood, each of at most
/// `FLOOD_LOOP_FETCHES` fetches started in its first `FLOOD_LOOP_SECS`
/// seconds; each fetch may take `FLOOD_FETCH_SECS` (SYNs lost on the
/// flooded link are sent again after 1, 3 and 7 s).
const FLOOD_LOOPS: usize = 4;
const FLOOD_LOOP_FETCHES: usize = 50;
const FLOOD_LOOP_SECS: u64 = 8;
const FLOOD_FETCH_SECS: u64 = 10;
/// Fewer fetches than this make no rate worth a test.
const FLOOD_MIN_FETCHES: usize = 40;
const FLOOD_FILE: usize = 64 * 1024;
/// synack's peak resident memory under the flood may not pass this.
const FLOOD_RSS_LIMIT_KIB: u64 = 256 * 1024;

/// What the fetches under a flood came to.
struct FloodFetches {
    tried: usize,
    ok: usize,
    /// Fetches whose connection took a SYN retransmission (1 s or more):
    /// their first SYN was lost on the flooded link.
    slow_connects: usize,
    secs: f64,
}

impl FloodFetches {
    fn rate(&self) -> f64 {
        self.ok as f64 * 100.0 / self.tried.max(1) as f64
    }

    fn print(&self) {
        println!(
            "  fetches: {} of {} succeeded ({:.1}%) in {:.1} s ({FLOOD_LOOPS} curl loops at once, --max-time {FLOOD_FETCH_SECS}); {} connected only after a SYN retransmission",
            self.ok,
            self.tried,
            self.rate(),
            self.secs,
            self.slow_connects
        );
    }
}

/// Runs `FLOOD_LOOPS` loops of `curl URL` (one connection each) in the
/// main namespace while the flood `hping` runs, and counts. Panics if the
/// flood ended before the loops did, or if they made too few fetches.
fn fetch_under_flood(lab: &mut Lab, hping: common::ProcId, url: &str) -> FloodFetches {
    let script = format!(
        r#"end=$(( $(date +%s) + {FLOOD_LOOP_SECS} )); i=0
while [ "$i" -lt {FLOOD_LOOP_FETCHES} ] && [ "$(date +%s)" -lt "$end" ]; do
  curl -sS -o /dev/null --max-time {FLOOD_FETCH_SECS} -w '%{{http_code}} %{{size_download}} %{{time_connect}}\n' "$1"
  i=$((i + 1))
done"#
    );
    let start = Instant::now();
    let loops: Vec<common::ProcId> = (0..FLOOD_LOOPS)
        .map(|_| lab.spawn("curl-loop", &["sh", "-c", &script, "sh", url]))
        .collect();
    let limit = Duration::from_secs(FLOOD_LOOP_SECS + FLOOD_FETCH_SECS + 10);
    let mut f = FloodFetches {
        tried: 0,
        ok: 0,
        slow_connects: 0,
        secs: 0.0,
    };
    let mut failures = Vec::new();
    let want = format!("{FLOOD_FILE}");
    for id in loops {
        let done = lab
            .wait(id, limit)
            .unwrap_or_else(|| panic!("a curl loop still running after {limit:?}"));
        for line in done.stdout_text().lines() {
            let w: Vec<&str> = line.split_whitespace().collect();
            f.tried += 1;
            if w.first() == Some(&"200") && w.get(1) == Some(&want.as_str()) {
                f.ok += 1;
            } else {
                failures.push(line.to_owned());
            }
            if w.get(2).and_then(|t| t.parse::<f64>().ok()).unwrap_or(0.0) >= 0.9 {
                f.slow_connects += 1;
            }
        }
        if !done.stderr.trim().is_empty() {
            failures.push(done.stderr.trim().to_owned());
        }
    }
    f.secs = start.elapsed().as_secs_f64();
    f.print();
    for failure in failures.iter().take(8) {
        println!("  failed fetch: {failure}");
    }
    assert!(
        lab.running(hping),
        "the flood ended before the fetches did ({:.1} s): {}",
        f.secs,
        lab.stderr(hping)
    );
    assert!(
        f.tried >= FLOOD_MIN_FETCHES,
        "only {} fetches in {:.1} s",
        f.tried,
        f.secs
    );
    f
}

/// The kernel's count of packets it dropped on the way out of `dev` in
/// `ns` (for a TUN: those synack did not read in time).
fn tx_dropped(ns: &str, dev: &str) -> u64 {
    let out = std::process::Command::new("ip")
        .args(["-n", ns, "-s", "link", "show", "dev", dev])
        .output()
        .expect("ip -s link");
    let text = String::from_utf8_lossy(&out.stdout);
    // "TX:  bytes packets errors dropped ..." then the numbers.
    let mut lines = text.lines();
    while let Some(l) = lines.next() {
        if l.trim_start().starts_with("TX:") {
            let numbers = lines.next().unwrap_or("");
            return numbers
                .split_whitespace()
                .nth(3)
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
        }
    }
    0
}

/// Stops hping3 and returns its statistics line.
fn stop_flood(lab: &mut Lab, hping: common::ProcId) -> String {
    let done = lab
        .stop(hping, "INT", Duration::from_secs(10))
        .expect("hping3 stops on SIGINT");
    let all = format!("{}{}", done.stdout_text(), done.stderr);
    all.lines()
        .find(|l| l.contains("packets transmitted"))
        .unwrap_or("")
        .to_owned()
}

/// An nstat counter of the namespace `ns` (absolute, history untouched).
fn nstat(ns: &str, name: &str) -> u64 {
    let out = std::process::Command::new("ip")
        .args(["netns", "exec", ns, "nstat", "-asz", name])
        .output()
        .expect("nstat");
    counter(&String::from_utf8_lossy(&out.stdout), name)
}

#[test]
fn synack_serves_through_a_syn_flood() {
    let Some(mut lab) = Lab::new("flood", &["hping3", "curl", "python3", "nstat"]) else {
        return;
    };
    let www = www_with(&lab, "f.bin", FLOOD_FILE, 10);
    let serve = lab.serve(
        "sk0",
        &["--addr", "10.77.10.2/24", "--port", "80", "--http", &www],
    );
    let rss_before = proc_status_kib(serve.pid, "VmRSS").unwrap_or(0);
    let hping = lab.spawn(
        "hping3",
        &[
            // In the foreground: hping3 stays in the lab's process group,
            // which the lab's guard kills even when the test fails.
            "timeout",
            "--foreground",
            "-k",
            "2",
            "20",
            "hping3",
            "-S",
            "--flood",
            "--rand-source",
            "-p",
            "80",
            "10.77.10.2",
        ],
    );
    // Fetch once the listener's SYN queue is full and cookies go out.
    lab.poll(
        "SYN cookies under the flood",
        Some(hping),
        Duration::from_secs(10),
        |lab| (counter(&lab.netstat(&serve), "TcpExtSyncookiesSent") > 0).then_some(()),
    );
    println!("SYN flood (hping3 -S --flood --rand-source) against synack serve --http:");
    let fetches = fetch_under_flood(&mut lab, hping, "http://10.77.10.2/f.bin");
    let netstat = lab.netstat(&serve);
    let hwm = proc_status_kib(serve.pid, "VmHWM").expect("VmHWM of synack serve");
    let hping_stats = stop_flood(&mut lab, hping);
    let rate = fetches.rate();
    println!("  hping3: {hping_stats}");
    println!(
        "  the kernel dropped {} packets queued for synack's TUN (its queue was full)",
        tx_dropped(&lab.ns, "sk0")
    );
    println!(
        "  synack peak RSS (VmHWM): {:.1} MiB (limit {} MiB; {:.1} MiB before the flood)",
        hwm as f64 / 1024.0,
        FLOOD_RSS_LIMIT_KIB / 1024,
        rss_before as f64 / 1024.0
    );
    for name in [
        "IpInReceives",
        "TcpInSegs",
        "TcpOutSegs",
        "TcpPassiveOpens",
        "TcpExtSyncookiesSent",
        "TcpExtSyncookiesRecv",
        "TcpExtSyncookiesFailed",
        "TcpExtListenOverflows",
        "TcpExtListenDrops",
    ] {
        println!("  synack {name:<24} {}", counter(&netstat, name));
    }

    // The same against Linux: python's http.server in a namespace behind a
    // veth, flooded from this one.
    let host = lab.kernel_host("10.78.10.1/24", "10.78.10.2/24");
    let py = lab.spawn_in(
        &host,
        "python-http",
        &[
            "python3",
            "-m",
            "http.server",
            "80",
            "--bind",
            "10.78.10.2",
            "--directory",
            &www,
        ],
        None,
        None,
    );
    lab.wait_listening(&host, 80, py);
    // Without a route back, Linux drops a SYN it cannot answer before it
    // counts or queues it.
    lab.route_back(&host, "10.78.10.1");
    let hping = lab.spawn(
        "hping3-linux",
        &[
            // In the foreground: hping3 stays in the lab's process group,
            // which the lab's guard kills even when the test fails.
            "timeout",
            "--foreground",
            "-k",
            "2",
            "20",
            "hping3",
            "-S",
            "--flood",
            "--rand-source",
            "-p",
            "80",
            "10.78.10.2",
        ],
    );
    let host_ns = host.clone();
    lab.poll(
        "Linux SYN cookies under the flood",
        Some(hping),
        Duration::from_secs(10),
        |_| (nstat(&host_ns, "TcpExtSyncookiesSent") > 0).then_some(()),
    );
    println!("the same against Linux (python3 -m http.server in a namespace over veth):");
    let linux = fetch_under_flood(&mut lab, hping, "http://10.78.10.2/f.bin");
    let linux_hping = stop_flood(&mut lab, hping);
    println!("  hping3: {linux_hping}");
    println!(
        "  Linux TcpExtSyncookiesSent {}, TcpExtSyncookiesRecv {}",
        nstat(&host, "TcpExtSyncookiesSent"),
        nstat(&host, "TcpExtSyncookiesRecv")
    );
    println!(
        "fetches under the flood: synack {rate:.1}%, Linux {:.1}%",
        linux.rate()
    );

    assert!(
        rate >= 99.0,
        "only {rate:.1}% of fetches succeeded under the flood"
    );
    assert!(
        hwm < FLOOD_RSS_LIMIT_KIB,
        "synack's peak RSS {hwm} KiB passed {FLOOD_RSS_LIMIT_KIB} KiB"
    );
    assert!(counter(&netstat, "TcpExtSyncookiesSent") > 0, "{netstat}");
}

// ---- 6. IPv6 -------------------------------------------------------------------

#[test]
fn curl_gets_over_ipv6_from_synack() {
    let Some(mut lab) = Lab::new("ipv6", &["curl"]) else {
        return;
    };
    let www = www_with(&lab, "big.bin", 10 * MIB, 11);
    let _serve = lab.serve(
        "sk0",
        &[
            "--addr",
            "10.77.11.2/24",
            "--addr",
            "fd77:11::2/64",
            "--port",
            "80",
            "--http",
            &www,
        ],
    );
    let got = lab.path("got.bin");
    let r = lab
        .run(
            "curl",
            &[
                "curl",
                "-g",
                "-sS",
                "--max-time",
                "60",
                "-o",
                p(&got),
                "-w",
                "%{http_code} %{remote_ip}",
                "http://[fd77:11::2]/big.bin",
            ],
            TRANSFER_LIMIT,
        )
        .expect_success("curl over IPv6");
    println!(
        "curl -g http://[fd77:11::2]/big.bin: {} in {:.3} s",
        r.stdout_text(),
        r.elapsed.as_secs_f64()
    );
    assert_eq!(r.stdout_text(), "200 fd77:11::2");
    assert_same_file("curl GET over IPv6", &lab.path("www/big.bin"), &got);
}

// ---- 7. loss ---------------------------------------------------------------------

#[test]
fn echo_with_one_percent_loss_stays_byte_exact() {
    let Some(mut lab) = Lab::new("loss", &["socat"]) else {
        return;
    };
    let serve = lab.serve(
        "sk0",
        &[
            "--addr",
            "10.77.12.2/24",
            "--port",
            "7",
            "--echo",
            "--loss",
            "0.01",
            "--seed",
            "12",
        ],
    );
    let input = lab.path("in.bin");
    write_random(&input, 10 * MIB, 12);
    let output = lab.path("out.bin");
    let r = socat_both_ways(&mut lab, "10.77.12.2:7", &input, &output);
    let line = served_line(&mut lab, &serve);
    let netstat = lab.netstat(&serve);
    println!(
        "socat 10 MiB each way through synack echo with 1% loss each way (seed 12): {:.3} s",
        r.elapsed.as_secs_f64()
    );
    println!("  synack serve: {line}");
    println!(
        "  synack TcpOutSegs {}, TcpRetransSegs {}; kernel TcpRetransSegs {}",
        counter(&netstat, "TcpOutSegs"),
        counter(&netstat, "TcpRetransSegs"),
        nstat(&lab.ns, "TcpRetransSegs")
    );
    assert_same_file("socat echo with loss", &input, &output);
}

// ---- 8. wire hygiene ---------------------------------------------------------------

/// `tshark -r FILE ARGS` with checksum validation on; its stdout.
fn tshark_read(lab: &mut Lab, pcap: &Path, args: &[&str]) -> String {
    let mut full = vec![
        "tshark",
        "-n",
        "-r",
        p(pcap),
        "-o",
        "tcp.check_checksum:TRUE",
        "-o",
        "ip.check_checksum:TRUE",
    ];
    full.extend_from_slice(args);
    lab.run("tshark-read", &full, Duration::from_secs(60))
        .expect_success("tshark -r")
        .stdout_text()
}

fn count_matching(lab: &mut Lab, pcap: &Path, filter: &str) -> usize {
    tshark_read(
        lab,
        pcap,
        &["-Y", filter, "-T", "fields", "-e", "frame.number"],
    )
    .lines()
    .filter(|l| !l.trim().is_empty())
    .count()
}

#[test]
fn tshark_finds_nothing_wrong_on_the_wire() {
    let Some(mut lab) = Lab::new("wire", &["tshark", "socat", "nstat"]) else {
        return;
    };
    // Two captures: synack's own (`--pcap`: every segment as the stack
    // wrote it and took it) and the kernel's, on the TUN interface.
    let own = lab.path("synack.pcap");
    let serve = lab.serve(
        "sk0",
        &[
            "--addr",
            "10.77.13.2/24",
            "--port",
            "7",
            "--echo",
            "--pcap",
            p(&own),
        ],
    );
    let pcap = lab.path("tun.pcap");
    let tshark = lab.spawn("tshark", &["tshark", "-n", "-i", "sk0", "-w", p(&pcap)]);
    lab.poll(
        "tshark capturing",
        Some(tshark),
        Duration::from_secs(20),
        |lab| lab.stderr(tshark).contains("Capturing on").then_some(()),
    );
    let csum_before = nstat(&lab.ns, "TcpInCsumErrors");
    let input = lab.path("in.bin");
    write_random(&input, 8 * MIB, 13);
    let output = lab.path("out.bin");
    socat_both_ways(&mut lab, "10.77.13.2:7", &input, &output);
    served_line(&mut lab, &serve);
    let csum_after = nstat(&lab.ns, "TcpInCsumErrors");
    let netstat = lab.netstat(&serve);
    let stopped = lab
        .stop(tshark, "INT", Duration::from_secs(20))
        .expect("tshark stops on SIGINT");
    assert_same_file("socat echo (captured)", &input, &output);

    // What synack sends must be flawless, segment by segment, as its own
    // capture shows them. The TUN's offloads move whole bursts: the kernel
    // hands synack a TCP send of up to 64 KiB in one packet, and synack
    // hands the kernel a burst of its segments in one packet for the
    // kernel to cut apart again, each with the checksum partial (only the
    // pseudo-header summed in, as for a NIC with checksum offload), which
    // tshark cannot call good. On the TUN, every IP header must still be.
    let frames = count_matching(&mut lab, &own, "tcp && ip.src == 10.77.13.2");
    let good = count_matching(
        &mut lab,
        &own,
        "tcp && ip.src == 10.77.13.2 && tcp.checksum.status == 1 && ip.checksum.status == 1",
    );
    let bad = count_matching(
        &mut lab,
        &own,
        "ip.src == 10.77.13.2 && (_ws.malformed || _ws.expert.severity == error || tcp.checksum.status == 0 || ip.checksum.status == 0)",
    ) + count_matching(&mut lab, &pcap, "tcp && (_ws.malformed || ip.checksum.status == 0)");
    let kernel_frames = count_matching(&mut lab, &pcap, "tcp && ip.dst == 10.77.13.2");
    let offloaded = count_matching(
        &mut lab,
        &pcap,
        "tcp && ip.dst == 10.77.13.2 && ip.len > 1500",
    );
    let gathered = count_matching(
        &mut lab,
        &pcap,
        "tcp && ip.src == 10.77.13.2 && ip.len > 1500",
    );
    let from_synack = tshark_read(
        &mut lab,
        &own,
        &[
            "-Y",
            "ip.src == 10.77.13.2 && tcp",
            "-T",
            "fields",
            "-e",
            "tcp.len",
        ],
    );
    let lens: Vec<usize> = from_synack
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    let max_len = lens.iter().copied().max().unwrap_or(0);
    let data_segments = lens.iter().filter(|&&l| l > 0).count();
    let mss = tshark_read(
        &mut lab,
        &pcap,
        &[
            "-Y",
            "tcp.flags.syn == 1",
            "-T",
            "fields",
            "-e",
            "ip.src",
            "-e",
            "tcp.options.mss_val",
        ],
    );
    println!("tshark on sk0 during 8 MiB each way through synack echo:");
    println!("  {}", stopped.stderr.lines().last().unwrap_or("").trim());
    println!(
        "  TCP frames from synack {frames}, checksums verified good {good}, malformed or bad {bad}"
    );
    println!("  TCP frames from the kernel {kernel_frames}, {offloaded} of them larger than the MTU (segmentation offload)");
    println!("  on the TUN, {gathered} packets from synack larger than the MTU (bursts for the kernel to cut)");
    println!(
        "  synack sent {} segments, {data_segments} with data, largest payload {max_len} bytes (MSS 1460)",
        lens.len()
    );
    for l in mss.lines() {
        println!("  SYN from {}", l.replace('\t', " with MSS option "));
    }
    println!(
        "  kernel TcpInCsumErrors {csum_before} -> {csum_after}; synack TcpInCsumErrors {}",
        counter(&netstat, "TcpInCsumErrors")
    );
    assert!(frames > 1000, "only {frames} TCP frames captured");
    assert_eq!(good, frames, "not every checksum was verified good");
    assert_eq!(bad, 0, "malformed packets or bad checksums");
    assert!(data_segments > 1000, "{data_segments}");
    assert!(
        max_len <= 1460,
        "synack sent {max_len} bytes in one segment"
    );
    assert_eq!(csum_after, csum_before, "the kernel saw bad TCP checksums");
    assert_eq!(counter(&netstat, "TcpInCsumErrors"), 0);
}
