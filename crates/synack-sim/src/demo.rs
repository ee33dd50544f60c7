//! `synack demo`: one scenario played and told, the way a user asked for
//! it — the ladder with its header and summary, or JSON lines, and the
//! pictures and capture beside them. The CLI parses the arguments into
//! [`Request`] and calls [`run`]; everything the demo prints is decided
//! here.

use crate::ladder::{self, LadderOptions};
use crate::lang::{failure, words, Lang};
use crate::scenarios::{self, DemoOptions, Report, Scenario, SCENARIOS};
use crate::trace::json_escape;
use crate::world::{Tap, World};
use std::fmt::{self, Write as _};
use std::path::PathBuf;
use synack_device::Side;

/// What the user asked `synack demo` for.
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// The scenario to play (default: handshake-close).
    pub name: Option<String>,
    /// List the scenarios instead of playing one.
    pub list: bool,
    /// Seed, loss and delay.
    pub run: DemoOptions,
    /// Write what `pcap_at` sees to this file.
    pub pcap: Option<PathBuf>,
    pub pcap_at: Tap,
    /// Also draw the run as an SVG picture here.
    pub svg: Option<PathBuf>,
    /// Also write the self-contained HTML page here.
    pub html: Option<PathBuf>,
    /// JSON lines instead of the ladder.
    pub json: bool,
    /// Raw sequence numbers instead of relative ones.
    pub absolute: bool,
    /// Every segment of long transfers.
    pub full: bool,
    /// The wide ladder instead of 80 columns.
    pub wide: bool,
    /// Each host's socket table and counters.
    pub netstat: bool,
    pub lang: Lang,
    /// ANSI colours in the ladder (the caller knows whether its output is
    /// a terminal that wants them).
    pub color: bool,
}

/// Why a demo did not end well. The text is one line, except for a
/// scenario that did not complete, which says what happened under it.
#[derive(Debug)]
pub enum Error {
    /// No scenario has that name.
    UnknownScenario(String),
    /// The capture file could not be created.
    CreatePcap {
        path: PathBuf,
        error: std::io::Error,
    },
    /// Writing the capture failed.
    WritePcap(std::io::Error),
    /// The picture or the page could not be written.
    Pictures(String),
    /// The scenario ran but did not show what it set out to show (the
    /// ladder was printed all the same).
    NotCompleted {
        scenario: &'static str,
        lang: Lang,
        /// The first line: what happened, in TCP terms.
        error: String,
        /// What happened, line by line, in the reader's language.
        lines: Vec<String>,
    },
}

impl Error {
    /// The process's exit status for it: 2 for a usage mistake, 1 for a
    /// run that failed.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::UnknownScenario(_) => 2,
            _ => 1,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::UnknownScenario(name) => write!(
                f,
                "unknown scenario '{name}'; choose one of: {}",
                scenarios::names()
            ),
            Error::CreatePcap { path, error } => {
                write!(f, "cannot create {}: {error}", path.display())
            }
            Error::WritePcap(error) => write!(f, "writing the pcap failed: {error}"),
            Error::Pictures(e) => f.write_str(e),
            Error::NotCompleted {
                scenario,
                lang,
                error,
                lines,
            } => {
                write!(f, "{}{error}", failure::did_not_complete(*lang, scenario))?;
                for line in lines {
                    write!(f, "\n{line}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for Error {}

/// The longest scenario name, for lining up the lists.
fn name_width() -> usize {
    SCENARIOS.iter().map(|s| s.name.len()).max().unwrap_or(0)
}

/// The scenarios, one a line with what each shows, for `--help`.
pub fn scenario_help() -> String {
    let mut s = String::from("Scenarios:\n");
    for sc in SCENARIOS {
        let _ = writeln!(s, "  {:<w$} {}", sc.name, sc.about.en, w = name_width());
    }
    s
}

/// Plays the scenario the request names and writes what the user asked
/// for to `out`. The ladder (or the JSON) is written even when the
/// scenario did not complete; the error then says what happened.
pub fn run(req: &Request, out: &mut dyn std::io::Write) -> Result<(), Error> {
    let mut o = String::new();
    let l = req.lang;
    if req.list {
        for sc in SCENARIOS {
            let _ = writeln!(o, "{:<w$}  {}", sc.name, sc.about.get(l), w = name_width());
        }
        emit(out, &o);
        return Ok(());
    }
    let name = req.name.as_deref().unwrap_or("handshake-close");
    let scenario = scenarios::find(name).ok_or_else(|| Error::UnknownScenario(name.into()))?;
    let opts = &req.run;
    let pcap: Option<Box<dyn std::io::Write>> = match &req.pcap {
        None => None,
        Some(path) => match std::fs::File::create(path) {
            Ok(f) => Some(Box::new(std::io::BufWriter::new(f))),
            Err(error) => {
                return Err(Error::CreatePcap {
                    path: path.clone(),
                    error,
                })
            }
        },
    };
    let report = scenario
        .run(opts, pcap.map(|w| (w, req.pcap_at)))
        .map_err(Error::WritePcap)?;
    write_pictures(req, scenario, &report).map_err(Error::Pictures)?;
    if req.json {
        json(&mut o, req, scenario, &report);
    } else {
        text(&mut o, req, scenario, &report);
    }
    emit(out, &o);
    match &report.error {
        None => Ok(()),
        Some(failure) => {
            // What happened in TCP terms first; then what the scenario
            // found, unless that is only that nothing more happened; then
            // each side's story.
            let headline = report.headline().unwrap_or_else(|| failure.text());
            let check = failure.text();
            let mut lines = Vec::new();
            if check != headline && !failure.is_idle() {
                lines.push(format!("  {}", check.get(l)));
            }
            lines.extend(
                report
                    .what_happened()
                    .iter()
                    .map(|line| format!("  {}", line.get(l))),
            );
            if opts.loss.is_some_and(|p| p > 0.0) {
                lines.push(words::lower_loss_hint(l).to_string());
            }
            Err(Error::NotCompleted {
                scenario: scenario.name,
                lang: l,
                error: headline.get(l).to_string(),
                lines,
            })
        }
    }
}

/// Writes to the reader; one who has gone (a closed pipe, `synack demo |
/// head`) is not the demo's failure.
fn emit(out: &mut dyn std::io::Write, text: &str) {
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
}

/// `--json`: a header with what the run was, the events, then the
/// summary: everything the ladder shows.
fn json(o: &mut String, req: &Request, scenario: &Scenario, report: &Report) {
    let w = &report.world;
    let opts = &req.run;
    let cfg = scenarios::demo_config(opts, scenario);
    let _ = writeln!(
        o,
        "{{\"type\":\"demo\",\"scenario\":\"{}\",\"about\":\"{}\",\"seed\":{},\"delay_ms\":{},\"loss\":{},\"msl_s\":{},\"client\":\"{}\",\"server\":\"{}\"}}",
        scenario.name,
        json_escape(scenario.about.en),
        opts.seed,
        cfg.a_to_b.delay.as_millis(),
        cfg.a_to_b.loss,
        cfg.client_tcp.msl.as_secs(),
        w.client.addr(),
        w.server.addr()
    );
    o.push_str(&w.trace.to_json_lines());
    let lines: Vec<String> = report
        .summary
        .iter()
        .map(|line| format!("\"{}\"", json_escape(line.get(Lang::En))))
        .collect();
    // The error is the first line the terminal prints: what happened in
    // TCP terms; the check is what the scenario itself found.
    let error = match (report.headline(), &report.error) {
        (Some(headline), Some(failure)) => format!(
            "\"{}\",\"check\":\"{}\"",
            json_escape(headline.get(Lang::En)),
            json_escape(failure.text().get(Lang::En))
        ),
        _ => "null".to_string(),
    };
    // Each host's counts, as the text summary gives them; lost as the
    // ladder draws it (on the link or before it, in a black hole).
    let hosts: Vec<String> = [(Side::A, &w.client), (Side::B, &w.server)]
        .into_iter()
        .map(|(side, host)| {
            let c = host.counters();
            format!(
                "{{\"side\":\"{}\",\"sent\":{},\"lost\":{},\"corrupted\":{},\"received\":{},\"bad_checksums\":{}}}",
                crate::trace::side_name(side),
                c.tcp_out_segs,
                w.lost(side),
                w.link.stats(side).corrupted,
                c.tcp_in_segs,
                c.checksum_errors()
            )
        })
        .collect();
    let _ = writeln!(
        o,
        "{{\"type\":\"summary\",\"lines\":[{}],\"hosts\":[{}],\"error\":{error}}}",
        lines.join(","),
        hosts.join(",")
    );
}

/// The header, the ladder, the summary and each host's counts.
fn text(o: &mut String, req: &Request, scenario: &Scenario, report: &Report) {
    let w = &report.world;
    let l = req.lang;
    let opts = &req.run;
    let cfg = scenarios::demo_config(opts, scenario);
    let _ = writeln!(o, "synack demo {}", scenario.name);
    let _ = writeln!(o, "{}", ladder::wrap(scenario.about.get(l), 80).join("\n"));
    let _ = writeln!(
        o,
        "{}",
        words::demo_settings(
            l,
            opts.seed,
            cfg.a_to_b.delay.as_millis(),
            cfg.a_to_b.loss * 100.0,
            cfg.client_tcp.msl.as_secs(),
        )
    );
    if cfg.client_tcp.msl > std::time::Duration::from_secs(1) {
        let _ = writeln!(o, "{}", words::msl_longest_rto(l));
    }
    let _ = writeln!(o, "{}", words::demo_numbers(l, req.absolute));
    let _ = writeln!(o, "{}\n", words::demo_legend(l));
    let lopts = LadderOptions {
        absolute: req.absolute,
        full: req.full || scenario.full,
        width: if req.wide {
            100
        } else {
            LadderOptions::default().width
        },
        cwnd: scenario.show_cwnd,
        color: req.color,
        lang: l,
    };
    let client = w.client.addr().to_string();
    let server = w.server.addr().to_string();
    o.push_str(&ladder::render(&w.trace, &lopts, &client, &server));
    let _ = writeln!(o);
    let _ = writeln!(o, "{}", words::summary_heading(l));
    // 80 columns: each summary line wraps, its continuation indented.
    for line in &report.summary {
        for (i, part) in ladder::wrap(line.get(l), 76).iter().enumerate() {
            let _ = writeln!(o, "{}{part}", if i == 0 { "  " } else { "    " });
        }
    }
    for (side, host) in [(Side::A, &w.client), (Side::B, &w.server)] {
        let c = host.counters();
        // Lost as the ladder draws it: on the link or before it (a
        // scenario's black hole).
        let _ = writeln!(
            o,
            "{}",
            words::host_counts(
                l,
                side,
                c.tcp_out_segs,
                w.lost(side),
                w.link.stats(side).corrupted,
                c.tcp_in_segs,
                c.checksum_errors()
            )
        );
    }
    if req.netstat {
        netstat(o, w, l);
    }
    if let Some(path) = &req.pcap {
        let _ = writeln!(
            o,
            "{}",
            words::pcap_written(l, &path.display().to_string(), req.pcap_at)
        );
    }
}

/// `--netstat`: the tables the scenario took, then both hosts' tables and
/// counters at the end.
fn netstat(o: &mut String, w: &World, l: Lang) {
    for snap in &w.snapshots {
        let host = match snap.side {
            Side::A => &w.client,
            Side::B => &w.server,
        };
        let _ = writeln!(
            o,
            "\n{}",
            words::snapshot_heading(
                l,
                snap.side,
                &snap.at.to_string(),
                snap.label.get(l),
                &host.addr().to_string()
            )
        );
        o.push_str(&indent(&snap.table));
    }
    for (side, host) in [(Side::A, &w.client), (Side::B, &w.server)] {
        let _ = writeln!(
            o,
            "\n{}",
            words::end_heading(l, side, &host.addr().to_string(), &w.now.to_string())
        );
        let table = host.sockets(w.now);
        if table.0.is_empty() {
            let _ = writeln!(o, "  {}", words::no_sockets(l));
        } else {
            o.push_str(&indent(&table.to_string()));
        }
        let _ = writeln!(o, "  {}", words::counters_heading(l));
        o.push_str(&indent(&indent(&host.counters().to_string())));
    }
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}

/// `--svg` and `--html`: the run drawn as a picture and as a page.
fn write_pictures(req: &Request, scenario: &Scenario, report: &Report) -> Result<(), String> {
    if req.svg.is_none() && req.html.is_none() {
        return Ok(());
    }
    let w = &report.world;
    let lopts = LadderOptions {
        absolute: req.absolute,
        lang: req.lang,
        ..LadderOptions::default()
    };
    let client = w.client.addr().to_string();
    let server = w.server.addr().to_string();
    let picture = crate::svg::render(&w.trace, &lopts, &client, &server);
    let write = |path: &std::path::Path, text: &str| {
        std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    if let Some(path) = &req.svg {
        write(path, &picture.svg_with_plots())?;
    }
    if let Some(path) = &req.html {
        let title = format!("synack demo {}", scenario.name);
        let page = crate::svg::html_page(
            &title,
            scenario.about.get(req.lang),
            &picture,
            &report.summary,
            req.lang,
        );
        write(path, &page)?;
    }
    Ok(())
}
