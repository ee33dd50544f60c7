//! `synack`: see TCP work. `synack demo` plays a scenario on the simulated
//! network and draws it as a ladder diagram; `synack view` draws a capture
//! file the same way; `synack bench` measures;
//! `synack serve|connect|get|netstat` run the stack on a TUN device
//! (`real.rs`).
#![forbid(unsafe_code)]

mod drill;
mod numbers;
mod real;

use clap::{Args, CommandFactory, Parser, Subcommand};
use numbers::{between, whole};
use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::Instant as WallClock;
use synack_sim::ladder::{self, LadderOptions};
use synack_sim::lang::{words, Lang};
use synack_sim::scenarios::DemoOptions;
use synack_sim::Tap;
use synack_tcp::Duration;

#[derive(Parser, Debug)]
#[command(
    name = "synack",
    version,
    about = "A userspace TCP/IP stack you can watch: ladder diagrams of real TCP exchanges",
    long_about = "synack runs its own TCP engine on a simulated network and shows every segment and \
                  state change, the way textbook diagrams draw TCP.\n\nStart with `synack demo`, then \
                  `synack demo --list` for the other scenarios. `serve`, `connect` and `get` put the \
                  same stack on a Linux TUN device, where the kernel, curl, nc and nmap talk to it \
                  (root or CAP_NET_ADMIN; best inside a network namespace of your own)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Play a TCP scenario between two simulated hosts and draw it as a ladder diagram
    Demo(DemoArgs),
    /// Measure the engine
    Bench {
        #[command(subcommand)]
        what: BenchCommand,
    },
    /// Sweep seeds of random chaos: data both ways over impaired links, every byte checked
    #[command(
        long_about = "For each seed, two simulated hosts send data to each other at the same time over a \
                      link that loses (0-10%), duplicates (0-2%), reorders (0-5%) and corrupts (0-2%) \
                      packets, with jitter, a bandwidth limit and a queue, and with TCP settings (SACK, \
                      timestamps, delayed ACK, Nagle, CUBIC or NewReno, buffer sizes) drawn from the seed. \
                      Every byte must arrive exactly once and in order, both sides must close cleanly, and \
                      the transfer must end within a bound computed from the path. A failing seed is \
                      printed; `synack chaos --from SEED --seeds 1` replays it."
    )]
    Chaos(ChaosArgs),
    /// Serve echo, discard, HTTP or HTTPS from a synack stack on a Linux TUN device (needs root)
    #[command(
        long_about = "Creates the TUN device (or attaches to it), gives the kernel's side an address \
                      in synack's prefix (the first other host address, or --tun-addr), waits until it is \
                      up, and serves on --port with a synack stack until Ctrl-C or SIGTERM, logging one \
                      line per connection. The kernel, curl, nc or nmap reach synack at --addr. \
                      `synack netstat --tun NAME` prints the running stack's sockets and counters. \
                      Needs root or CAP_NET_ADMIN; run it inside a network namespace to keep the test \
                      network to yourself: `ip netns add t; ip netns exec t synack serve ...`."
    )]
    Serve(real::ServeArgs),
    /// Connect to HOST:PORT through a synack stack on a TUN device: stdin to it, it to stdout, like nc
    Connect(real::ConnectArgs),
    /// Fetch an http:// or https:// URL through a synack stack on a TUN device
    Get(real::GetArgs),
    /// Print the sockets and counters of a running `synack serve`
    Netstat(real::NetstatArgs),
    /// Run packetdrill scripts against one synack host on virtual time
    Drill(drill::DrillArgs),
    /// Draw one TCP connection of a capture file (pcap or pcapng, e.g. from tcpdump) as a ladder diagram
    #[command(
        long_about = "Reads a capture file, pcap or pcapng (tcpdump -w, Wireshark, dumpcap, \
                      `synack demo --pcap`), of raw IP, Ethernet, Linux cooked or BSD loopback \
                      frames, and draws one TCP connection in it the way `synack demo` draws a \
                      simulated run: the ladder printed, and with --svg and --html the picture and \
                      the page with a step-through and plots of each transfer (sequence numbers \
                      over time; under them the bytes in flight estimated from the capture, \
                      since a capture holds no cwnd).\n\nThe connections are numbered in order of their \
                      first packet; --conn picks one (default the first). The client is the end that \
                      sent the first SYN. Checksums are not checked: a capture taken on the sending \
                      host holds checksums the NIC had yet to fill in.\n\nA capture sees one point of \
                      the path, so each segment is drawn sent and received at the moment it was \
                      captured (flat arrows), and it records no states: each side's TCP state is \
                      inferred from the segments it sends and receives, following RFC 9293's state \
                      machine (a capture that starts mid-connection starts both sides in \
                      ESTABLISHED). The inferred states are what the segments imply, not what \
                      either host's TCP reported."
    )]
    View(ViewArgs),
}

#[derive(Args, Debug)]
struct ChaosArgs {
    /// How many seeds to run
    #[arg(long, value_name = "N", default_value_t = 500, value_parser = whole::<u64>(1..=10_000_000), allow_negative_numbers = true)]
    seeds: u64,
    /// First seed
    #[arg(long, value_name = "SEED", default_value_t = 0, value_parser = whole::<u64>(0..=u64::MAX), allow_negative_numbers = true)]
    from: u64,
    /// Bytes each side sends per seed
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20, value_parser = whole::<u64>(1..=(1 << 30)), allow_negative_numbers = true)]
    size: u64,
    /// Threads to run seeds on (default: the number of CPUs)
    #[arg(long, value_name = "J", value_parser = whole::<u64>(1..=256), allow_negative_numbers = true)]
    jobs: Option<u64>,
}

#[derive(Args, Debug)]
#[command(after_help = synack_sim::demo::scenario_help())]
struct DemoArgs {
    /// Scenario to play (default: handshake-close); see --list
    name: Option<String>,
    /// List the scenarios and exit
    #[arg(long)]
    list: bool,
    /// Write the packets one point of the network sees to this pcap file
    /// (raw IP; opens in Wireshark/tshark); --pcap-at picks the point
    #[arg(long, value_name = "FILE")]
    pcap: Option<std::path::PathBuf>,
    /// Where --pcap taps the network: a host's interface (client, the
    /// default, or server), or the middle of the link
    #[arg(long, value_name = "WHERE", value_enum, default_value_t = PcapAt::Client, requires = "pcap")]
    pcap_at: PcapAt,
    /// Also draw the exchange as an SVG picture: arrows sloped by the delay,
    /// lost segments crossed, states as bands along each lifeline; under it
    /// the transfer plots (sequence numbers and cwnd over time)
    #[arg(long, value_name = "FILE")]
    svg: Option<std::path::PathBuf>,
    /// Also write a self-contained HTML page: the picture, a step-through
    /// (← → keys), plots of each transfer and each segment explained in
    /// plain words
    #[arg(long, value_name = "FILE")]
    html: Option<std::path::PathBuf>,
    /// Seed for the simulated network and the ISNs; the same seed replays the same run
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = whole::<u64>(0..=u64::MAX), allow_negative_numbers = true)]
    seed: u64,
    /// Probability (0 to 0.9) that the link loses a packet, in each
    /// direction. With any loss the MSL is the largest RTO the run can
    /// reach (120 s), so a resent FIN still finds TIME-WAIT; a scenario
    /// that cannot finish says first what happened on the wire, and exits 1
    #[arg(long, value_name = "P", value_parser = between(0.0, 0.9), allow_negative_numbers = true)]
    loss: Option<f64>,
    /// One-way link delay in milliseconds, 0 to 10000 (default 10)
    #[arg(long, value_name = "MS", value_parser = whole::<u64>(0..=10_000), allow_negative_numbers = true)]
    delay: Option<u64>,
    /// Print JSON lines instead of the diagram: a header, one object per event (with relative numbers, the window in bytes, retransmission, duplicate ACK count and arrival; notes with their kind, the explanations included), the summary with each host's counts
    #[arg(long)]
    json: bool,
    /// Show raw sequence numbers instead of numbers relative to each ISN
    #[arg(long)]
    absolute: bool,
    /// Draw every segment of long transfers
    #[arg(long)]
    full: bool,
    /// Draw the ladder 110 columns wide instead of 80 (fewer wrapped lines)
    #[arg(long)]
    wide: bool,
    /// Also print each host's socket table (like `ss -tani`) and non-zero
    /// counters (named as `nstat` names them), at the moments the scenario
    /// marks and at the end
    #[arg(long)]
    netstat: bool,
    /// Language of the ladder, the notes, the summary and the pictures: en, or zh for
    /// Chinese in the seeds' terms (states as ESTABLISHED(已建立), 报文段, 重传); --json
    /// stays English
    #[arg(long, value_name = "LANG", default_value_t = Lang::En, value_parser = parse_lang)]
    lang: Lang,
}

/// `--pcap-at`: the views a capture of a demo can take.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum PcapAt {
    /// The client's interface: each packet it sends, stamped when it leaves
    /// (also those the link then loses), and each packet that reaches it,
    /// stamped when it arrives (delayed, reordered, a duplicate twice, a
    /// corrupted one as it arrived); what the link lost on the way is absent
    Client,
    /// The server's interface, the same from the server's side
    Server,
    /// The middle of the wire: every packet as it is put on the link,
    /// stamped when it was sent, whatever the link then does to it
    Link,
}

impl From<PcapAt> for Tap {
    fn from(at: PcapAt) -> Tap {
        match at {
            PcapAt::Client => Tap::Client,
            PcapAt::Server => Tap::Server,
            PcapAt::Link => Tap::Link,
        }
    }
}

#[derive(Args, Debug)]
struct ViewArgs {
    /// The capture file: pcap or pcapng
    capture: std::path::PathBuf,
    /// Which TCP connection to draw: the N-th in order of first appearance
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = whole::<usize>(1..=u32::MAX as u64), allow_negative_numbers = true)]
    conn: usize,
    /// Also draw the connection as an SVG picture, with the transfer plots
    /// under it (bytes in flight estimated: a capture holds no cwnd)
    #[arg(long, value_name = "FILE")]
    svg: Option<std::path::PathBuf>,
    /// Also write a self-contained HTML page: the picture, a step-through
    /// (← → keys), plots of each transfer and each segment explained in
    /// plain words
    #[arg(long, value_name = "FILE")]
    html: Option<std::path::PathBuf>,
    /// Show raw sequence numbers instead of numbers relative to each ISN
    #[arg(long)]
    absolute: bool,
    /// Draw every segment of long transfers
    #[arg(long)]
    full: bool,
    /// Language of the ladder, the notes and the summary: en or zh
    #[arg(long, value_name = "LANG", default_value_t = Lang::En, value_parser = parse_lang)]
    lang: Lang,
}

#[derive(Subcommand, Debug)]
enum BenchCommand {
    /// Goodput of NewReno and CUBIC on simulated paths with loss and delay (virtual time)
    #[command(
        long_about = "One-way transfers over simulated paths: no loss at 50 ms RTT and 100 Mbit/s, \
                      1% loss at 20 ms and 100 Mbit/s, 0.1% loss at 100 ms and 1 Gbit/s; a bottleneck \
                      queue of one bandwidth-delay product; socket buffers of four. Goodput is what the \
                      receiving application reads in the second half of a 30-60 s run, after slow start, \
                      measured in virtual time (so it depends on the algorithms, not on this machine), \
                      and is compared with the link rate or with the Mathis bound MSS/RTT·1.22/√p."
    )]
    Goodput {
        /// Only this congestion controller (newreno or cubic)
        #[arg(long, value_name = "ALGO")]
        cc: Option<synack_tcp::Algorithm>,
    },
    /// Wall time of one request and response beside 0 to 100,000 idle connections
    #[command(
        long_about = "A simulated host pair opens N idle connections (accepted, then left alone) and \
                      one busy connection, which then trades a 1000-byte request and a 1000-byte \
                      response E times. Each row times those exchanges with the wall clock in five rounds and \
                      reports the median round, for one N of --idle; the last column compares the time per segment with the first row's. \
                      The stack's work per event does not grow with N (its timer heap and ready \
                      queue); what grows is the cost of a large connection table in the caches."
    )]
    Scale {
        /// Idle connection counts, one row each
        #[arg(long, value_name = "N,N,...", value_delimiter = ',', default_values_t = [0u64, 1000, 10_000, 100_000], value_parser = whole::<u64>(0..=1_000_000), allow_hyphen_values = true)]
        idle: Vec<u64>,
        /// Request/response exchanges timed per row
        #[arg(long, value_name = "E", default_value_t = 20_000, value_parser = whole::<u64>(1..=10_000_000), allow_negative_numbers = true)]
        exchanges: u64,
    },
    /// Move data between two synack engines over an ideal in-memory link
    Bulk {
        /// MiB to transfer
        #[arg(long, value_name = "MIB", default_value_t = 256, value_parser = whole::<u64>(1..=65536), allow_negative_numbers = true)]
        size: u64,
    },
}

fn parse_lang(s: &str) -> Result<Lang, String> {
    s.parse()
        .map_err(|_| format!("choose one of: {}", Lang::codes()))
}

/// A parse error in one line: clap's first, with the indented lines that
/// finish it when it ends in a colon (the names of missing arguments), and
/// where to read the options of the command that was being parsed (its
/// `--help` is made from the same definitions, so it cannot go stale).
fn one_line(e: &clap::Error, args: impl IntoIterator<Item = String>) -> String {
    let text = e.to_string();
    let mut lines = text.lines();
    let mut first = lines.next().unwrap_or("invalid arguments").to_string();
    if first.ends_with(':') {
        for more in lines.take_while(|l| l.starts_with(' ')) {
            first.push(' ');
            first.push_str(more.trim());
        }
    }
    let first = first.trim_start_matches("error: ");
    // The subcommands named on the command line, as far as they go.
    let mut path = vec!["synack".to_string()];
    let mut cmd = Cli::command();
    for arg in args.into_iter().skip(1) {
        if arg.starts_with('-') {
            continue;
        }
        match cmd.find_subcommand(&arg) {
            Some(sub) => {
                path.push(arg);
                cmd = sub.clone();
            }
            None => break,
        }
    }
    format!("{first} (see `{} --help`)", path.join(" "))
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                let _ = Cli::command().print_help();
                return ExitCode::from(2);
            }
            eprintln!("synack: {}", one_line(&e, std::env::args()));
            return ExitCode::from(2);
        }
    };
    match cli.command {
        Command::Demo(args) => demo(args),
        Command::Bench {
            what: BenchCommand::Bulk { size },
        } => bench_bulk(size),
        Command::Bench {
            what: BenchCommand::Goodput { cc },
        } => bench_goodput(cc),
        Command::Bench {
            what: BenchCommand::Scale { idle, exchanges },
        } => bench_scale(&idle, exchanges),
        Command::Chaos(args) => chaos(args),
        Command::Serve(args) => real::serve(args),
        Command::Connect(args) => real::connect(args),
        Command::Get(args) => real::get(args),
        Command::Netstat(args) => real::netstat(args),
        Command::Drill(args) => drill::drill(args),
        Command::View(args) => view(args),
    }
}

fn chaos(args: ChaosArgs) -> ExitCode {
    use synack_sim::chaos;
    let jobs = args.jobs.map(|j| j as usize).unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let size = args.size as usize;
    let end = args.from.saturating_add(args.seeds);
    let start = WallClock::now();
    let summary = chaos::sweep(args.from..end, size, jobs);
    let secs = start.elapsed().as_secs_f64();
    let mut o = String::new();
    let _ = writeln!(
        o,
        "synack chaos: seeds {}..{} ({} runs), {} bytes each way per seed, {} threads, {:.1} s",
        args.from, end, summary.runs, size, jobs, secs
    );
    let ok = summary.outcomes.len();
    let (lost, dup, reord, corrupt, retx, rtos) = summary.totals();
    let _ = writeln!(o, "  passed         {ok}");
    let _ = writeln!(o, "  failed         {}", summary.failures.len());
    if ok > 0 {
        let _ = writeln!(
            o,
            "  transfer time  median {:.3} s, p99 {:.3} s, max {:.3} s (virtual)",
            summary.percentile(50.0).as_secs_f64(),
            summary.percentile(99.0).as_secs_f64(),
            summary.percentile(100.0).as_secs_f64()
        );
        let _ = writeln!(
            o,
            "  link           lost {lost}, duplicated {dup}, reordered {reord}, corrupted {corrupt} packets"
        );
        let _ = writeln!(
            o,
            "  TCP            {retx} segments retransmitted, {rtos} retransmission timeouts"
        );
        if let Some(w) = summary.worst(1).first() {
            let case = chaos::ChaosCase::from_seed(w.seed, size);
            let _ = writeln!(
                o,
                "  closest to its bound: {:.3} s of {:.3} s — {}",
                w.transfer.as_secs_f64(),
                w.bound.as_secs_f64(),
                case.describe()
            );
        }
    }
    for (seed, e) in &summary.failures {
        let _ = writeln!(o, "  FAILED seed {seed}: {e}");
    }
    emit(&o);
    if summary.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "synack: {} of {} seeds failed; replay one with: synack chaos --from SEED --seeds 1",
            summary.failures.len(),
            summary.runs
        );
        ExitCode::FAILURE
    }
}

/// Writes to stdout; a closed pipe (`synack demo | head`) is not an error.
fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
}

/// Colours in the ladder: on a terminal, unless `NO_COLOR` is set
/// (no-color.org).
fn colour_wanted() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

fn demo(args: DemoArgs) -> ExitCode {
    let request = synack_sim::demo::Request {
        name: args.name,
        list: args.list,
        run: DemoOptions {
            seed: args.seed,
            loss: args.loss,
            delay: args.delay.map(Duration::from_millis),
        },
        pcap: args.pcap,
        pcap_at: args.pcap_at.into(),
        svg: args.svg,
        html: args.html,
        json: args.json,
        absolute: args.absolute,
        full: args.full,
        wide: args.wide,
        netstat: args.netstat,
        lang: args.lang,
        color: colour_wanted(),
    };
    match synack_sim::demo::run(&request, &mut std::io::stdout().lock()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("synack: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// `synack view`: one connection of a capture file, drawn like a demo.
fn view(args: ViewArgs) -> ExitCode {
    use synack_sim::view;
    let file = args.capture.display().to_string();
    let bytes = match std::fs::read(&args.capture) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("synack: cannot read {file}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let v = match view::view(&bytes, args.conn) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("synack: {file}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let l = args.lang;
    let (client, server) = (v.client.to_string(), v.server.to_string());
    let about = words::view_connection(l, v.connection, v.connections, &client, &server);
    let c = &v.counts;
    let links: Vec<String> = v
        .link_types
        .iter()
        .map(|&l| format!("{} ({l})", view::link_name(l)))
        .collect();
    let mut o = String::new();
    let _ = writeln!(o, "synack view {file} — {about}");
    let _ = writeln!(
        o,
        "{}",
        words::view_packets(l, &v.format.to_string(), &links.join(", "), c)
    );
    let _ = writeln!(
        o,
        "{}",
        words::view_client(
            l,
            &client,
            v.client_reason.get(l),
            &synack_tcp::Instant::from_micros(v.offset_us).to_string()
        )
    );
    let _ = writeln!(o, "{}\n", words::view_reading(l, args.absolute));
    let lopts = LadderOptions {
        absolute: args.absolute,
        full: args.full,
        color: colour_wanted(),
        lang: l,
        ..LadderOptions::default()
    };
    o.push_str(&ladder::render(&v.trace, &lopts, &client, &server));
    let summary = v.summary();
    let _ = writeln!(o, "\n{}", words::summary_heading(l));
    for line in &summary {
        let _ = writeln!(o, "  {}", line.get(l));
    }
    if args.svg.is_some() || args.html.is_some() {
        let picture = synack_sim::svg::render(&v.trace, &lopts, &client, &server);
        let write = |path: &std::path::Path, text: &str| {
            std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
        };
        let mut written = Ok(());
        if let Some(path) = &args.svg {
            written = written.and_then(|_| write(path, &picture.svg_with_plots()));
        }
        if let Some(path) = &args.html {
            let title = format!("synack view {file}");
            let page = synack_sim::svg::html_page(&title, &about, &picture, &summary, l);
            written = written.and_then(|_| write(path, &page));
        }
        if let Err(e) = written {
            eprintln!("synack: {e}");
            return ExitCode::FAILURE;
        }
    }
    emit(&o);
    ExitCode::SUCCESS
}

fn bench_goodput(cc: Option<synack_tcp::Algorithm>) -> ExitCode {
    use synack_sim::goodput;
    use synack_tcp::Algorithm;
    let algos = match cc {
        Some(a) => vec![a],
        None => vec![Algorithm::NewReno, Algorithm::Cubic],
    };
    let start = WallClock::now();
    let rows = match goodput::table(&algos) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("synack: goodput run failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut o = String::new();
    let _ = writeln!(
        o,
        "synack bench goodput: one-way transfers in the simulator; goodput over the second half of \
         each run (virtual time)\n"
    );
    let _ = writeln!(
        o,
        "| path | cc | runs | goodput | of the link rate | Mathis bound | × Mathis | retransmits/run | RTOs/run |"
    );
    let _ = writeln!(o, "|---|---|---|---|---|---|---|---|---|");
    for r in &rows {
        let (mathis, ratio) = match r.mathis_bps {
            Some(m) => (
                format!("{:.1} Mbit/s", m / 1e6),
                format!("{:.2}×", r.goodput_bps / m),
            ),
            None => ("—".to_string(), "—".to_string()),
        };
        let _ = writeln!(
            o,
            "| {} | {} | {} | {:.1} Mbit/s | {:.3} | {mathis} | {ratio} | {} | {} |",
            r.path.name,
            r.algo.name(),
            r.path.runs,
            r.goodput_bps / 1e6,
            r.of_link(),
            r.retransmits,
            r.rto_expirations
        );
    }
    if let Some(r) = rows.first() {
        let _ = writeln!(
            o,
            "\nA full link carries at most {:.1}% payload ({} payload bytes per {}-byte packet: \
             IP, TCP and timestamp headers take the rest).",
            100.0 * r.payload_capacity_bps() / r.path.rate_bps as f64,
            r.payload_mss,
            r.payload_mss + 52
        );
    }
    let _ = writeln!(o, "\n({:.1} s of wall time)", start.elapsed().as_secs_f64());
    emit(&o);
    ExitCode::SUCCESS
}

fn bench_scale(idle: &[u64], exchanges: u64) -> ExitCode {
    use synack_sim::scale::ScaleBench;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "synack bench scale: a 1000-byte request and response on one connection, beside idle \
         ones; wall time, the median of 5 rounds of {} exchanges\n",
        exchanges.div_ceil(5)
    );
    let _ = writeln!(
        o,
        "| idle connections | set-up | per exchange | segments per exchange | per segment | × first row |"
    );
    let _ = writeln!(o, "|---|---|---|---|---|---|");
    let mut first = None;
    for &n in idle {
        let setup = WallClock::now();
        let mut bench = match ScaleBench::new(n as usize) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("synack: opening {n} connections failed: {e}");
                return ExitCode::FAILURE;
            }
        };
        let setup = setup.elapsed().as_secs_f64();
        // Five rounds; the median round is reported (the others are noise
        // from the machine).
        let per_round = exchanges.div_ceil(5);
        let mut rounds = Vec::new();
        let mut segments = 0;
        for _ in 0..5 {
            let start = WallClock::now();
            for _ in 0..per_round {
                match bench.exchange() {
                    Ok(k) => segments += k,
                    Err(e) => {
                        eprintln!("synack: exchange with {n} idle connections failed: {e}");
                        return ExitCode::FAILURE;
                    }
                }
            }
            rounds.push(start.elapsed().as_secs_f64());
        }
        rounds.sort_by(f64::total_cmp);
        let per_exchange = rounds[2] / per_round as f64;
        let seg_per_exchange = segments as f64 / (5 * per_round) as f64;
        let per_segment = per_exchange / seg_per_exchange.max(1.0);
        let base = *first.get_or_insert(per_segment);
        let _ = writeln!(
            o,
            "| {n} | {setup:.1} s | {:.2} µs | {seg_per_exchange:.2} | {:.3} µs | {:.2}× |",
            per_exchange * 1e6,
            per_segment * 1e6,
            per_segment / base
        );
        drop(bench);
    }
    emit(&o);
    ExitCode::SUCCESS
}

fn bench_bulk(mib: u64) -> ExitCode {
    let bytes = mib << 20;
    let start = WallClock::now();
    let result = synack_sim::bench::bulk_transfer(bytes, 1);
    let secs = start.elapsed().as_secs_f64();
    match result {
        Ok(r) => {
            emit(&format!(
                "bulk: {mib} MiB from one synack engine to another over an ideal in-memory link\n  \
                 time        {secs:.3} s\n  throughput  {:.2} Gbit/s\n  segments    {} ({:.0} segments/s, data and ACKs)\n",
                r.bytes as f64 * 8.0 / secs / 1e9,
                r.segments,
                r.segments as f64 / secs
            ));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("synack: bulk transfer failed: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What each subcommand needs besides the option under test.
    fn required(path: &str) -> &'static [&'static str] {
        match path {
            "serve" => &["--tun", "t", "--addr", "10.0.0.2/24", "--port", "80"],
            "connect" => &["--tun", "t", "--addr", "10.0.0.2/24", "1.2.3.4:80"],
            "get" => &["--tun", "t", "--addr", "10.0.0.2/24", "http://x/"],
            "netstat" => &["--tun", "t"],
            "drill" => &["x.pkt"],
            "view" => &["x.pcap"],
            _ => &[],
        }
    }

    /// Value names of options that take numbers, and of those that do not;
    /// an option with a new value name must be put in one of them.
    const NUMERIC: &[&str] = &[
        "N", "SEED", "BYTES", "J", "P", "MS", "MIB", "E", "N,N,...", "PORT", "USECS",
    ];
    const OTHER: &[&str] = &[
        "FILE",
        "WHERE",
        "LANG",
        "NAME",
        "IP/PREFIX",
        "DIR",
        "PATH",
        "PROFILE",
        "ALGO",
    ];

    /// Every option of every subcommand that takes a number, as
    /// (subcommand path, --long).
    fn numeric_options() -> Vec<(Vec<String>, String)> {
        fn walk(cmd: &clap::Command, path: Vec<String>, out: &mut Vec<(Vec<String>, String)>) {
            for arg in cmd.get_arguments() {
                let Some(long) = arg.get_long() else { continue };
                if !arg.get_action().takes_values() {
                    continue;
                }
                let name = arg
                    .get_value_names()
                    .and_then(|n| n.first())
                    .map(|n| n.to_string())
                    .unwrap_or_default();
                if NUMERIC.contains(&name.as_str()) {
                    out.push((path.clone(), format!("--{long}")));
                } else {
                    assert!(
                        OTHER.contains(&name.as_str()),
                        "{path:?} --{long} <{name}>: a number or not? add it to NUMERIC or OTHER"
                    );
                }
            }
            for sub in cmd.get_subcommands() {
                let mut p = path.clone();
                p.push(sub.get_name().to_string());
                walk(sub, p, out);
            }
        }
        let mut out = Vec::new();
        walk(&Cli::command(), Vec::new(), &mut out);
        out
    }

    #[test]
    fn every_numeric_option_says_its_range_in_one_line_for_negative_and_huge_values() {
        let options = numeric_options();
        // demo 3, chaos 4, bench 3, view 1, serve/connect/get 6 each, serve 2 more, drill 1.
        assert_eq!(options.len(), 32, "{options:?}");
        for (path, long) in options {
            for bad in ["-1", "-0.5", "99999999999999999999999"] {
                let mut args = vec!["synack".to_string()];
                args.extend(path.iter().cloned());
                let req = required(path.last().map_or("", |s| s.as_str()));
                // The option under test replaces a required one of the same name.
                let mut i = 0;
                while i < req.len() {
                    if req[i] == long {
                        i += 2;
                        continue;
                    }
                    args.push(req[i].to_string());
                    i += 1;
                }
                args.push(long.clone());
                args.push(bad.to_string());
                let e = Cli::try_parse_from(&args).expect_err(&args.join(" "));
                let line = one_line(&e, args.clone());
                assert!(
                    line.contains(": must be a whole number from ")
                        || line.contains(": must be between "),
                    "{}: {line}",
                    args.join(" ")
                );
                assert!(!line.contains('\n'), "{line}");
                assert!(
                    line.ends_with(&format!("(see `synack {} --help`)", path.join(" "))),
                    "{line}"
                );
            }
        }
    }

    #[test]
    fn a_parse_error_points_at_the_help_of_its_subcommand() {
        let args = ["synack", "bench", "scale", "--bogus"].map(String::from);
        let e = Cli::try_parse_from(&args).unwrap_err();
        assert_eq!(
            one_line(&e, args),
            "unexpected argument '--bogus' found (see `synack bench scale --help`)"
        );
        let args = ["synack", "view"].map(String::from);
        let e = Cli::try_parse_from(&args).unwrap_err();
        assert_eq!(
            one_line(&e, args),
            "the following required arguments were not provided: <CAPTURE> (see `synack view --help`)"
        );
    }
}
