//! Plots of the transfers in a trace, as hand-written SVG for the HTML page
//! (and under the ladder in `--svg`). For each direction of a connection
//! that carried data, two figures on the same time axis:
//!
//! * the sequence numbers over time, as tcptrace draws them: each data
//!   segment a short vertical bar from its first to its last byte at the
//!   moment it was sent (retransmissions red), the cumulative ACK the
//!   sender received as a step line, the right edge of the window it was
//!   offered (ACK + scaled window) above it, and the SACK blocks it
//!   received as purple bars; numbers count from the sender's ISN;
//! * the sender's congestion window and ssthresh over time, with its
//!   fast retransmits, timeouts and tail loss probes marked. A capture
//!   holds neither, so for a capture the second figure is the data
//!   outstanding at the capture point instead (highest sequence number
//!   sent minus highest ACK seen), and says it is an estimate.
//!
//! This module reads a [`Trace`] and nothing else (no host, no engine), so
//! a capture plots the way a simulated run does, minus what a capture
//! cannot know. A run without data has no figures.

mod axis;
pub(crate) mod flows;

use crate::svg::xml;
use crate::trace::Trace;
use axis::{bytes_words, Frame};
use flows::Flow;
use std::fmt::Write as _;
use synack_device::Side;
use synack_tcp::{Instant, RecoveryEvent};

/// What a figure shows.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FigureKind {
    /// Sequence numbers over time (tcptrace's time–sequence graph).
    Sequence,
    /// The sender's cwnd and ssthresh, or for a capture the estimated
    /// bytes in flight.
    Window,
}

/// One plot: a standalone SVG document.
#[derive(Clone, Debug)]
pub struct Figure {
    pub kind: FigureKind,
    pub title: String,
    pub svg: String,
    pub width: f64,
    pub height: f64,
}

const WIDTH: f64 = 1100.0;
/// Room for the byte labels left of the plot.
const LEFT: f64 = 86.0;
const RIGHT: f64 = 24.0;
/// Room for the time labels and the axis name under the plot.
const BOTTOM: f64 = 44.0;
const SEQ_HEIGHT: f64 = 340.0;
const WINDOW_HEIGHT: f64 = 210.0;
/// A line of the title, notes or legend.
const LINE: f64 = 15.0;
/// Bars of segments sent at the same moment (and SACK blocks that arrived
/// together) stand this far apart, so that a burst shows its segments
/// side by side rather than as one line; at most [`BURST_MAX`] steps.
const BURST_STEP: f64 = 1.5;
const BURST_MAX: usize = 20;
/// A bar shorter than this is drawn this tall, centred, so that a
/// 1448-byte segment in a megabyte still shows.
const MIN_BAR: f64 = 2.5;

const DATA: &str = "#222222";
const RETX: &str = "#d32f2f";
const LOST: &str = "#ef6c00";
const ACK: &str = "#2e7d32";
const RWND: &str = "#c79100";
const SACK: &str = "#8e24aa";
const CWND: &str = "#1565c0";
const SSTHRESH: &str = "#ef6c00";
const FLIGHT: &str = "#888888";

const STYLE: &str = "<style>.tcpplot .ptitle{font-size:14px;font-weight:bold;fill:#111}\
    .tcpplot .pnote{font-size:11px;fill:#555}.tcpplot .legend{font-size:11px;fill:#333}\
    .tcpplot .tick{font-size:10px;fill:#444}.tcpplot .axis{font-size:11px;fill:#333}\
    .tcpplot .marklabel{font-size:9px;font-weight:bold}</style>\n";

/// The figures for every direction of `trace` that carried data: its
/// sequence plot, then its window plot. `client` and `server` name the two
/// hosts in the titles.
pub fn render(trace: &Trace, client: &str, server: &str) -> Vec<Figure> {
    let mut out = Vec::new();
    for f in flows::read(trace) {
        let (t0, t1) = span(&f);
        let (me, peer) = match f.from {
            Side::A => (("client", client), ("server", server)),
            Side::B => (("server", server), ("client", client)),
        };
        let who = format!(
            "{} → {}",
            endpoint(me.0, me.1, f.src_port),
            endpoint(peer.0, peer.1, f.dst_port)
        );
        let clip = format!("plotclip{}", out.len());
        out.push(sequence(&f, t0, t1, &who, &clip));
        let clip = format!("plotclip{}", out.len());
        out.push(window(&f, t0, t1, &who, &clip));
    }
    out
}

/// `role addr port N`, or `role addr:N` when the address carries the port.
fn endpoint(role: &str, addr: &str, port: u16) -> String {
    if addr.ends_with(&format!(":{port}")) {
        format!("{role} {addr}")
    } else {
        format!("{role} {addr} port {port}")
    }
}

/// The time range both figures of a flow show, in µs: from the
/// connection's first segment (or the first data, when the connection
/// idled more than three times as long as the transfer took) to the ACK of the last byte (or the
/// last sign of life when it never came), with a margin.
fn span(f: &Flow) -> (f64, f64) {
    let us = |t: Instant| t.as_micros() as f64;
    let first = f.bars.iter().map(|b| b.at).min().unwrap_or(f.conn_start);
    let last = f.bars.iter().map(|b| b.at).max().unwrap_or(first);
    let high = f.high();
    let acked = f.acks.iter().find(|a| a.ack >= high).map(|a| a.at);
    let mut end = acked.unwrap_or_else(|| f.acks.last().map_or(last, |a| a.at.max(last)));
    end = end.max(last);
    if let Some(r) = f.recovery.iter().map(|r| r.at).max() {
        end = end.max(r);
    }
    let lead = us(first) - us(f.conn_start);
    let start = if lead > 3.0 * (us(end) - us(first)) {
        first
    } else {
        f.conn_start
    };
    let range = (us(end) - us(start)).max(1000.0);
    (us(start) - 0.02 * range, us(end) + 0.03 * range)
}

/// A sample in a legend.
enum Swatch {
    Line(&'static str, bool),
    Bar(&'static str),
    Cross(&'static str),
    Dot(&'static str),
}

/// The title, notes and legend; returns where the plot's top goes.
fn header(out: &mut String, title: &str, notes: &[String], legend: &[(Swatch, String)]) -> f64 {
    let _ = writeln!(
        out,
        "<text x=\"{LEFT}\" y=\"18\" class=\"ptitle\">{}</text>",
        xml(title)
    );
    let mut y = 18.0;
    for n in notes {
        y += LINE;
        let _ = writeln!(
            out,
            "<text x=\"{LEFT}\" y=\"{y:.1}\" class=\"pnote\">{}</text>",
            xml(n)
        );
    }
    y += LINE + 2.0;
    let mut x = LEFT;
    let _ = write!(out, "<g class=\"legend\">");
    for (swatch, text) in legend {
        let (x0, x1, ym) = (x, x + 22.0, y - 4.0);
        match swatch {
            Swatch::Line(c, dashed) => {
                let _ = write!(
                    out,
                    "<line x1=\"{x0:.1}\" y1=\"{ym:.1}\" x2=\"{x1:.1}\" y2=\"{ym:.1}\" stroke=\"{c}\" stroke-width=\"2\"{}/>",
                    if *dashed { " stroke-dasharray=\"5 3\"" } else { "" }
                );
            }
            Swatch::Bar(c) => {
                let xm = x0 + 11.0;
                let _ = write!(
                    out,
                    "<line x1=\"{xm:.1}\" y1=\"{:.1}\" x2=\"{xm:.1}\" y2=\"{:.1}\" stroke=\"{c}\" stroke-width=\"2\"/>",
                    ym - 6.0,
                    ym + 6.0
                );
            }
            Swatch::Cross(c) => {
                let _ = write!(
                    out,
                    "<path d=\"M{:.1},{:.1} l6,6 m0,-6 l-6,6\" stroke=\"{c}\" stroke-width=\"1.5\"/>",
                    x0 + 8.0,
                    ym - 3.0
                );
            }
            Swatch::Dot(c) => {
                let _ = write!(
                    out,
                    "<circle cx=\"{:.1}\" cy=\"{ym:.1}\" r=\"2\" fill=\"{c}\"/>",
                    x0 + 11.0
                );
            }
        }
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{y:.1}\">{}</text>",
            x1 + 6.0,
            xml(text)
        );
        x = x1 + 6.0 + 6.3 * text.chars().count() as f64 + 20.0;
    }
    let _ = writeln!(out, "</g>");
    y + 14.0
}

/// The opening of a figure's document, its clip rectangle, and the
/// closing: `(head, tail)` around the body.
fn document(kind: &str, title: &str, height: f64, frame: &Frame, clip: &str) -> (String, String) {
    let mut head = String::new();
    let _ = writeln!(
        head,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"tcpplot {kind}\" width=\"{WIDTH}\" height=\"{height:.0}\" \
         viewBox=\"0 0 {WIDTH} {height:.0}\" font-family=\"sans-serif\" font-size=\"11\"><title>{}</title>",
        xml(title)
    );
    head.push_str(STYLE);
    let _ = writeln!(
        head,
        "<rect width=\"{WIDTH}\" height=\"{height:.0}\" fill=\"#fff\"/>\
         <defs><clipPath id=\"{clip}\"><rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\"/></clipPath></defs>",
        frame.left,
        frame.top,
        frame.right - frame.left,
        frame.bottom - frame.top
    );
    (head, "</svg>\n".to_string())
}

/// Points of a step line through `(t µs, value)` samples in time order:
/// each value holds until the next sample, the last until `t_end`.
fn steps(frame: &Frame, samples: &[(f64, f64)], t_end: f64) -> String {
    let mut pts: Vec<(f64, f64)> = Vec::with_capacity(samples.len() * 2 + 1);
    let mut push = |p: (f64, f64)| {
        if pts.last() != Some(&p) {
            pts.push(p);
        }
    };
    let round = |v: f64| (v * 10.0).round() / 10.0;
    let mut prev: Option<f64> = None;
    for &(t, v) in samples {
        let x = round(frame.x(t));
        if let Some(p) = prev {
            push((x, round(frame.y(p))));
        }
        push((x, round(frame.y(v))));
        prev = Some(v);
    }
    if let (Some(p), Some(&(t, _))) = (prev, samples.last()) {
        push((round(frame.x(t_end.max(t))), round(frame.y(p))));
    }
    let mut s = String::new();
    for (i, (x, y)) in pts.iter().enumerate() {
        let _ = write!(s, "{}{x},{y}", if i == 0 { "" } else { " " });
    }
    s
}

/// A vertical bar at `x` from `v0` to `v1`, at least [`MIN_BAR`] tall.
fn bar_ends(frame: &Frame, v0: f64, v1: f64) -> (f64, f64) {
    let (a, b) = (frame.y(v0), frame.y(v1));
    let (lo, hi) = (a.min(b), a.max(b));
    if hi - lo >= MIN_BAR {
        (hi, lo)
    } else {
        let m = (lo + hi) / 2.0;
        (m + MIN_BAR / 2.0, m - MIN_BAR / 2.0)
    }
}

/// How far right to draw the next of several things at one moment.
#[derive(Default)]
struct Burst {
    at: Option<Instant>,
    rank: usize,
}

impl Burst {
    fn offset(&mut self, at: Instant) -> f64 {
        if self.at == Some(at) {
            self.rank += 1;
        } else {
            self.at = Some(at);
            self.rank = 0;
        }
        self.rank.min(BURST_MAX) as f64 * BURST_STEP
    }
}

fn us(t: Instant) -> f64 {
    t.as_micros() as f64
}

/// The time–sequence plot of one flow.
fn sequence(f: &Flow, t0: f64, t1: f64, who: &str, clip: &str) -> Figure {
    let captured = f.sender.is_empty();
    let high = f.high() as f64;
    let mut best = i64::MIN;
    let acks: Vec<(f64, f64)> = f
        .acks
        .iter()
        .map(|a| {
            best = best.max(a.ack);
            (us(a.at), best as f64)
        })
        .collect();
    let edges: Vec<(f64, f64)> = f.acks.iter().map(|a| (us(a.at), a.right as f64)).collect();
    let low = f
        .bars
        .iter()
        .map(|b| b.start)
        .chain(f.acks.iter().map(|a| a.ack))
        .min()
        .unwrap_or(0)
        .min(0) as f64;
    let top_data = high.max(acks.iter().map(|a| a.1).fold(0.0, f64::max));
    let top_edge = edges.iter().map(|e| e.1).fold(0.0, f64::max);
    // A window far above the data would squash it: cut the window line off
    // instead, and say so.
    let edge_fits = top_edge <= top_data * 1.5;
    let top = if edge_fits {
        top_data.max(top_edge)
    } else {
        top_data
    };

    let title = format!("Sequence numbers: {who}");
    let mut notes = vec![
        format!(
            "Each bar is a data segment, from its first to its last byte, at the moment it was {} \
             (a burst side by side).",
            if captured { "captured" } else { "sent" }
        ),
        if captured {
            "The lines are the cumulative ACK and the window's right edge the receiver sent, when they were captured."
        } else {
            "The lines are the cumulative ACK and the window's right edge the sender received, when they reached it."
        }
        .to_string(),
    ];
    notes.push(if f.isn_known {
        "Sequence numbers count from the sender's initial sequence number (ISN).".to_string()
    } else {
        "Sequence numbers count from the first one seen: the capture has no SYN.".to_string()
    });
    if !edge_fits && !edges.is_empty() {
        notes.push(format!(
            "The window's right edge (up to {}) is above the top of the plot.",
            bytes_words(top_edge)
        ));
    }
    let mut legend = vec![(Swatch::Bar(DATA), "data segment".to_string())];
    if f.bars.iter().any(|b| b.retx) {
        legend.push((Swatch::Bar(RETX), "retransmission".to_string()));
    }
    if f.bars.iter().any(|b| b.lost) {
        legend.push((Swatch::Cross(LOST), "lost on the link".to_string()));
    }
    legend.push((Swatch::Line(ACK, false), "cumulative ACK".to_string()));
    legend.push((
        Swatch::Line(RWND, false),
        "receive window (ACK + window)".to_string(),
    ));
    if !f.sacks.is_empty() {
        legend.push((Swatch::Bar(SACK), "SACK block".to_string()));
    }

    let mut body = String::new();
    let plot_top = header(&mut body, &title, &notes, &legend);
    let height = plot_top + SEQ_HEIGHT + BOTTOM;
    let frame = Frame {
        left: LEFT,
        right: WIDTH - RIGHT,
        top: plot_top,
        bottom: plot_top + SEQ_HEIGHT,
        t0,
        t1,
        v0: low,
        v1: (top * 1.05).max(low + 1.0),
    };
    frame.axes(&mut body, "sequence offset (bytes)");
    let _ = writeln!(body, "<g clip-path=\"url(#{clip})\">");
    if !edges.is_empty() {
        let _ = writeln!(
            body,
            "<polyline class=\"rwnd\" fill=\"none\" stroke=\"{RWND}\" stroke-width=\"1.5\" points=\"{}\"/>",
            steps(&frame, &edges, t1)
        );
        let _ = writeln!(
            body,
            "<polyline class=\"ack\" fill=\"none\" stroke=\"{ACK}\" stroke-width=\"1.5\" points=\"{}\"/>",
            steps(&frame, &acks, t1)
        );
    }
    let mut burst = Burst::default();
    for s in &f.sacks {
        let x = frame.x(us(s.at)) + 2.0 + burst.offset(s.at);
        let (y0, y1) = bar_ends(&frame, s.left as f64, s.right as f64);
        let _ = writeln!(
            body,
            "<path class=\"sack\" stroke=\"{SACK}\" stroke-width=\"1.5\" d=\"M{x:.1},{y0:.1}V{y1:.1}\"/>"
        );
    }
    let mut burst = Burst::default();
    for b in &f.bars {
        let x = frame.x(us(b.at)) + burst.offset(b.at);
        let (y0, y1) = bar_ends(&frame, b.start as f64, b.end as f64);
        let (class, colour) = if b.retx {
            ("bar retx", RETX)
        } else {
            ("bar", DATA)
        };
        let _ = writeln!(
            body,
            "<path class=\"{class}{}\" stroke=\"{colour}\" stroke-width=\"1.5\" d=\"M{x:.1},{y0:.1}V{y1:.1}\"/>",
            if b.lost { " lost" } else { "" }
        );
        if b.lost {
            let _ = writeln!(
                body,
                "<path class=\"lostmark\" stroke=\"{LOST}\" stroke-width=\"1.5\" d=\"M{:.1},{:.1} l6,6 m0,-6 l-6,6\"/>",
                x - 3.0,
                y1 - 9.0
            );
        }
    }
    let _ = writeln!(body, "</g>");
    let (head, tail) = document("seqplot", &title, height, &frame, clip);
    Figure {
        kind: FigureKind::Sequence,
        title,
        svg: head + &body + &tail,
        width: WIDTH,
        height,
    }
}

/// How recovery events are marked: class, label on the plot, colour, and
/// what the legend says.
const MARKS: [(&str, &str, &str, &str); 3] = [
    ("fr", "FR", "#6a1b9a", "fast retransmit / recovery"),
    ("rto", "RTO", "#c62828", "retransmission timeout"),
    ("tlp", "TLP", "#00838f", "tail loss probe"),
];

/// Which of [`MARKS`] marks `event`; events that change nothing worth
/// marking have none.
fn mark(event: RecoveryEvent) -> Option<usize> {
    match event {
        RecoveryEvent::FastRetransmit { .. }
        | RecoveryEvent::SackLoss
        | RecoveryEvent::RackLoss => Some(0),
        RecoveryEvent::Timeout { .. } => Some(1),
        RecoveryEvent::TailLossProbe => Some(2),
        RecoveryEvent::TlpRecovered | RecoveryEvent::Done => None,
    }
}

/// Data outstanding at the capture point after each segment: the highest
/// byte sent minus the highest byte acknowledged.
pub(crate) fn outstanding(f: &Flow) -> Vec<(f64, f64)> {
    let mut events: Vec<(Instant, Option<i64>, Option<i64>)> = f
        .bars
        .iter()
        .map(|b| (b.at, Some(b.end), None))
        .chain(f.acks.iter().map(|a| (a.at, None, Some(a.ack))))
        .collect();
    events.sort_by_key(|e| e.0);
    let (mut sent, mut acked) = (None::<i64>, None::<i64>);
    let mut out = Vec::new();
    for (at, end, ack) in events {
        if let Some(e) = end {
            sent = Some(sent.map_or(e, |s| s.max(e)));
        }
        if let Some(a) = ack {
            acked = Some(acked.map_or(a, |x| x.max(a)));
        }
        if let Some(s) = sent {
            let flight = (s - acked.unwrap_or(s)).max(0);
            out.push((us(at), flight as f64));
        }
    }
    out
}

/// The window plot of one flow: cwnd and ssthresh from the sender, or the
/// estimated bytes in flight for a capture.
fn window(f: &Flow, t0: f64, t1: f64, who: &str, clip: &str) -> Figure {
    let captured = f.sender.is_empty();
    // (t, cwnd, ssthresh) from each segment sent and each recovery event.
    let mut cc: Vec<(f64, u32, u32)> = f
        .sender
        .iter()
        .map(|(t, s)| (us(*t), s.cwnd, s.ssthresh))
        .chain(f.recovery.iter().map(|r| (us(r.at), r.cwnd, r.ssthresh)))
        .collect();
    cc.sort_by(|a, b| a.0.total_cmp(&b.0));
    let in_span = |t: f64| t >= t0 && t <= t1;
    let pipe: Vec<(f64, f64)> = f
        .sender
        .iter()
        .map(|(t, s)| (us(*t), f64::from(s.in_flight)))
        .filter(|p| in_span(p.0))
        .collect();
    let flight = if captured { outstanding(f) } else { Vec::new() };
    let cwnd: Vec<(f64, f64)> = cc.iter().map(|c| (c.0, f64::from(c.1))).collect();
    let finite = |s: u32| s != u32::MAX;
    let top = cwnd
        .iter()
        .chain(&pipe)
        .chain(&flight)
        .filter(|p| in_span(p.0))
        .map(|p| p.1)
        .fold(0.0, f64::max);
    let top_ss = cc
        .iter()
        .filter(|c| in_span(c.0) && finite(c.2))
        .map(|c| f64::from(c.2))
        .fold(0.0, f64::max);
    let ss_fits = top_ss <= top * 1.5;
    let top = if ss_fits { top.max(top_ss) } else { top };

    let (title, mut notes) = if captured {
        (
            format!("Bytes in flight (estimated from the capture): {who}"),
            vec![
                "A capture does not show the sender's cwnd or ssthresh, so this plot shows the data \
                 outstanding at the capture point instead:"
                    .to_string(),
                "the highest sequence number sent minus the highest ACK seen, after each segment."
                    .to_string(),
            ],
        )
    } else {
        (
            format!("Congestion window: {who}"),
            vec![
                "The sender's cwnd and ssthresh as it reported them with each segment it sent and at \
                 each recovery event (a change between two sends shows at the next one),"
                    .to_string(),
                "and the data it had in flight after each segment.".to_string(),
            ],
        )
    };
    let ss_drawn = cc.iter().any(|c| in_span(c.0) && finite(c.2));
    if !captured {
        let mut ss = cc.iter().filter(|c| in_span(c.0)).map(|c| c.2);
        match ss.next() {
            Some(first) if !finite(first) => notes.push(
                if ss_drawn {
                    "ssthresh is infinite until the first loss sets it; it is drawn from then on."
                } else {
                    "ssthresh stayed infinite (no loss set it), so it is not drawn."
                }
                .to_string(),
            ),
            _ => {}
        }
        if !ss_fits {
            notes.push(format!(
                "ssthresh above the top of the plot (up to {}) is cut off.",
                bytes_words(top_ss)
            ));
        }
    }
    let marks: Vec<_> = f
        .recovery
        .iter()
        .filter(|r| in_span(us(r.at)))
        .filter_map(|r| mark(r.event).map(|m| (r, m)))
        .collect();
    let mut legend = Vec::new();
    if captured {
        legend.push((
            Swatch::Line(FLIGHT, false),
            "in flight (estimated)".to_string(),
        ));
    } else {
        legend.push((Swatch::Line(CWND, false), "cwnd".to_string()));
        if ss_drawn {
            legend.push((Swatch::Line(SSTHRESH, true), "ssthresh".to_string()));
        }
        legend.push((
            Swatch::Dot(FLIGHT),
            "in flight (RFC 6675 pipe) after a send".to_string(),
        ));
    }
    for (i, (_, label, colour, what)) in MARKS.iter().enumerate() {
        if marks.iter().any(|(_, m)| *m == i) {
            legend.push((Swatch::Line(colour, true), format!("{label}: {what}")));
        }
    }

    let mut body = String::new();
    let plot_top = header(&mut body, &title, &notes, &legend);
    let height = plot_top + WINDOW_HEIGHT + BOTTOM;
    let frame = Frame {
        left: LEFT,
        right: WIDTH - RIGHT,
        top: plot_top,
        bottom: plot_top + WINDOW_HEIGHT,
        t0,
        t1,
        v0: 0.0,
        v1: (top * 1.08).max(1.0),
    };
    frame.axes(&mut body, "bytes");
    let _ = writeln!(body, "<g clip-path=\"url(#{clip})\">");
    if captured {
        let _ = writeln!(
            body,
            "<polyline class=\"flight estimated\" fill=\"none\" stroke=\"{FLIGHT}\" stroke-width=\"1.5\" points=\"{}\"/>",
            steps(&frame, &flight, t1)
        );
    } else {
        for (t, v) in &pipe {
            let _ = writeln!(
                body,
                "<circle class=\"pipe\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"1.3\" fill=\"{FLIGHT}\"/>",
                frame.x(*t),
                frame.y(*v)
            );
        }
        // ssthresh only where it is finite: one line per stretch, each
        // holding its last value until the stretch ends.
        let mut runs: Vec<(Vec<(f64, f64)>, f64)> = Vec::new();
        let mut open = false;
        for c in &cc {
            match (finite(c.2), runs.last_mut()) {
                (true, Some(run)) if open => run.0.push((c.0, f64::from(c.2))),
                (true, _) => runs.push((vec![(c.0, f64::from(c.2))], t1)),
                (false, Some(run)) if open => run.1 = c.0,
                (false, _) => {}
            }
            open = finite(c.2);
        }
        for (run, end) in &runs {
            let _ = writeln!(
                body,
                "<polyline class=\"ssthresh\" fill=\"none\" stroke=\"{SSTHRESH}\" stroke-width=\"1.5\" stroke-dasharray=\"6 3\" points=\"{}\"/>",
                steps(&frame, run, *end)
            );
        }
        let _ = writeln!(
            body,
            "<polyline class=\"cwnd\" fill=\"none\" stroke=\"{CWND}\" stroke-width=\"2\" points=\"{}\"/>",
            steps(&frame, &cwnd, t1)
        );
    }
    let _ = writeln!(body, "</g>");
    // Marks last, over the lines; labels step down when they crowd.
    let mut last_x = f64::NEG_INFINITY;
    let mut row = 0;
    for (r, m) in &marks {
        let (class, label, colour, _) = MARKS[*m];
        let x = frame.x(us(r.at));
        row = if x - last_x < 28.0 { (row + 1) % 3 } else { 0 };
        last_x = x;
        let _ = writeln!(
            body,
            "<g class=\"mark {class}\"><title>{} at {}: {}</title>\
             <line x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"{colour}\" stroke-dasharray=\"3 3\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" fill=\"{colour}\" class=\"marklabel\">{label}</text></g>",
            label,
            r.at,
            xml(&r.event.describe()),
            frame.top,
            frame.bottom,
            x + 2.0,
            frame.top + 10.0 + 10.0 * f64::from(row)
        );
    }
    let (head, tail) = document("cwndplot", &title, height, &frame, clip);
    Figure {
        kind: FigureKind::Window,
        title,
        svg: head + &body + &tail,
        width: WIDTH,
        height,
    }
}

/// One SVG document: `ladder` (`width` × `height`) with `figures` under it.
pub fn stack(ladder: &str, width: f64, height: f64, figures: &[Figure]) -> String {
    if figures.is_empty() {
        return ladder.to_string();
    }
    let total_w = figures.iter().map(|f| f.width).fold(width, f64::max);
    let total_h = height + figures.iter().map(|f| f.height + 20.0).sum::<f64>();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{total_w:.0}\" height=\"{total_h:.0}\" viewBox=\"0 0 {total_w:.0} {total_h:.0}\">"
    );
    out.push_str(ladder);
    let mut y = height;
    for f in figures {
        y += 20.0;
        let _ = writeln!(out, "<g transform=\"translate(0 {y:.0})\">");
        out.push_str(&f.svg);
        out.push_str("</g>\n");
        y += f.height;
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame() -> Frame {
        Frame {
            left: 0.0,
            right: 100.0,
            top: 0.0,
            bottom: 100.0,
            t0: 0.0,
            t1: 100.0,
            v0: 0.0,
            v1: 100.0,
        }
    }

    #[test]
    fn a_step_line_holds_each_value_until_the_next() {
        let s = steps(&frame(), &[(10.0, 20.0), (30.0, 50.0), (30.0, 40.0)], 90.0);
        assert_eq!(s, "10,80 30,80 30,50 30,60 90,60");
        assert_eq!(steps(&frame(), &[], 90.0), "");
    }

    #[test]
    fn short_bars_are_drawn_tall_enough_to_see() {
        let (y0, y1) = bar_ends(&frame(), 50.0, 50.1);
        assert!((y0 - y1 - MIN_BAR).abs() < 1e-9);
        assert_eq!(bar_ends(&frame(), 10.0, 30.0), (90.0, 70.0));
    }

    #[test]
    fn an_address_with_its_port_is_not_given_the_port_twice() {
        assert_eq!(
            endpoint("client", "10.0.0.1", 80),
            "client 10.0.0.1 port 80"
        );
        assert_eq!(endpoint("server", "10.0.0.2:80", 80), "server 10.0.0.2:80");
    }
}
