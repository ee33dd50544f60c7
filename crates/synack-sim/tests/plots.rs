//! The transfer plots against the trace they draw: for a run with loss and
//! SACK, one bar per data segment, each retransmission the trace records
//! in the retransmission colour, each loss on the link crossed, cwnd
//! falling only after the first loss, ssthresh drawn only once finite and
//! within the axis, each fast retransmit and timeout marked; no plot for a
//! run without data; every figure (alone, in the page and under the ladder)
//! parses as XML.

mod common;

use synack_device::{Fate, Side};
use synack_sim::ladder::LadderOptions;
use synack_sim::lang::Lang;
use synack_sim::plot::{Figure, FigureKind};
use synack_sim::scenarios::{find, Report, SCENARIOS};
use synack_sim::svg::{self, Picture};
use synack_sim::TraceEvent;
use synack_tcp::RecoveryEvent;

fn class_has(node: &roxmltree::Node, class: &str) -> bool {
    node.attribute("class")
        .is_some_and(|c| c.split(' ').any(|w| w == class))
}

fn play(name: &str) -> (Report, Picture) {
    let report = common::play(find(name).expect("a scenario of that name"));
    let picture = svg::render(
        &report.world.trace,
        &LadderOptions::default(),
        "10.77.0.1",
        "10.77.0.2",
    );
    (report, picture)
}

fn parse(f: &Figure) -> roxmltree::Document<'_> {
    roxmltree::Document::parse(&f.svg)
        .unwrap_or_else(|e| panic!("{}: the figure does not parse: {e}", f.title))
}

/// Elements named `tag` with class `class`.
fn all<'a>(
    doc: &'a roxmltree::Document<'a>,
    tag: &'a str,
    class: &'a str,
) -> Vec<roxmltree::Node<'a, 'a>> {
    doc.descendants()
        .filter(|n| n.has_tag_name(tag) && class_has(n, class))
        .collect()
}

/// The x of a bar drawn as `M x,y V y`.
fn bar_x(node: &roxmltree::Node) -> f64 {
    let d = node.attribute("d").unwrap();
    d[1..d.find(',').unwrap()].parse().unwrap()
}

fn points(node: &roxmltree::Node) -> Vec<(f64, f64)> {
    node.attribute("points")
        .unwrap()
        .split(' ')
        .map(|p| {
            let (x, y) = p.split_once(',').unwrap();
            (x.parse().unwrap(), y.parse().unwrap())
        })
        .collect()
}

/// Bytes at a height of a figure, read off its labelled y-axis ticks.
fn y_axis(doc: &roxmltree::Document) -> impl Fn(f64) -> f64 {
    let ticks: Vec<(f64, f64)> = doc
        .descendants()
        .filter(|n| class_has(n, "tick") && n.attribute("text-anchor") == Some("end"))
        .map(|n| {
            // A label's baseline sits 4 px under its tick.
            let y = n.attribute("y").unwrap().parse::<f64>().unwrap() - 4.0;
            let text = n.text().unwrap();
            let bytes = match text.split_once(' ') {
                None => text.parse::<f64>().unwrap(),
                Some((v, unit)) => {
                    let scale = match unit {
                        "B" => 1.0,
                        "kB" => 1e3,
                        "MB" => 1e6,
                        _ => panic!("unit {unit}"),
                    };
                    v.parse::<f64>().unwrap() * scale
                }
            };
            (y, bytes)
        })
        .collect();
    let ((y0, v0), (y1, v1)) = (ticks[0], ticks[1]);
    move |y| v0 + (y - y0) * (v1 - v0) / (y1 - y0)
}

/// The client's cwnd as the trace records it with each data segment and
/// each recovery event.
fn client_cwnd(report: &Report) -> Vec<f64> {
    report
        .world
        .trace
        .events
        .iter()
        .filter_map(|e| match e {
            TraceEvent::Segment {
                from: Side::A,
                len,
                sender: Some(s),
                ..
            } if *len > 0 => Some(f64::from(s.cwnd)),
            TraceEvent::Recovery {
                side: Side::A,
                cwnd,
                ..
            } => Some(f64::from(*cwnd)),
            _ => None,
        })
        .collect()
}

/// The client's data segments in the trace: (lost on the link).
fn client_data(report: &Report) -> Vec<bool> {
    report
        .world
        .trace
        .events
        .iter()
        .filter_map(|e| match e {
            TraceEvent::Segment {
                from: Side::A,
                len,
                outcome,
                injected: None,
                ..
            } if *len > 0 => Some(outcome.fate != Fate::Queued),
            _ => None,
        })
        .collect()
}

/// Data segments from the client the trace marks as retransmissions (the
/// mark the ladder and `--json` carry).
fn client_retransmissions(report: &Report) -> usize {
    report
        .world
        .trace
        .to_json_lines()
        .lines()
        .filter(|l| l.contains("\"type\":\"segment\"") && l.contains("\"from\":\"client\""))
        .filter(|l| l.contains("\"retransmission\":true") && !l.contains("\"len\":0,"))
        .count()
}

fn client_recoveries(report: &Report, which: fn(&RecoveryEvent) -> bool) -> usize {
    report
        .world
        .trace
        .events
        .iter()
        .filter(|e| matches!(e, TraceEvent::Recovery { side: Side::A, event, .. } if which(event)))
        .count()
}

#[test]
fn lossy_transfer_draws_each_segment_each_retransmission_and_cwnd_falling_after_a_loss() {
    let (report, picture) = play("lossy-transfer");
    let kinds: Vec<FigureKind> = picture.plots.iter().map(|f| f.kind).collect();
    assert_eq!(
        kinds,
        [FigureKind::Sequence, FigureKind::Window],
        "the client alone sends data"
    );

    let seq = parse(&picture.plots[0]);
    let bars = all(&seq, "path", "bar");
    let data = client_data(&report);
    assert_eq!(bars.len(), data.len(), "one bar per data segment sent");
    let retx: Vec<_> = bars.iter().filter(|b| class_has(b, "retx")).collect();
    let recorded = client_retransmissions(&report);
    assert!(recorded > 10, "a lossy transfer retransmits: {recorded}");
    assert_eq!(retx.len(), recorded, "a red bar per retransmission");
    let colour = |b: &roxmltree::Node| b.attribute("stroke").unwrap().to_string();
    let first_colour = colour(&bars[0]);
    assert!(bars
        .iter()
        .filter(|b| !class_has(b, "retx"))
        .all(|b| colour(b) == first_colour));
    assert!(retx.iter().all(|b| colour(b) == colour(retx[0])));
    assert_ne!(colour(retx[0]), first_colour, "retransmissions stand out");
    let lost: Vec<_> = bars.iter().filter(|b| class_has(b, "lost")).collect();
    assert_eq!(lost.len(), data.iter().filter(|l| **l).count());
    assert_eq!(all(&seq, "path", "lostmark").len(), lost.len());
    // A purple tick per SACK block that reached the client.
    let blocks: usize = report
        .world
        .trace
        .events
        .iter()
        .filter_map(|e| match e {
            TraceEvent::Segment {
                from: Side::B,
                seg,
                outcome,
                ..
            } if outcome.fate == Fate::Queued && !outcome.corrupted => {
                Some(seg.options.sack_blocks().len())
            }
            _ => None,
        })
        .sum();
    let sacks = all(&seq, "path", "sack");
    assert!(blocks > 0);
    assert_eq!(sacks.len(), blocks, "a tick per SACK block received");
    assert!(sacks
        .iter()
        .all(|s| colour(s) != first_colour && colour(s) != colour(retx[0])));
    assert_eq!(all(&seq, "polyline", "ack").len(), 1);
    assert_eq!(all(&seq, "polyline", "rwnd").len(), 1);

    // Both figures share the time axis: cwnd falls only at or after the
    // first segment the link lost.
    let win = parse(&picture.plots[1]);
    let cwnd = all(&win, "polyline", "cwnd");
    assert_eq!(cwnd.len(), 1);
    let pts = points(&cwnd[0]);
    // y grows down the page: a drop in cwnd is a step down.
    let drops: Vec<f64> = pts
        .windows(2)
        .filter(|w| w[1].1 > w[0].1 + 0.05)
        .map(|w| w[1].0)
        .collect();
    let first_loss = lost.iter().map(|b| bar_x(b)).fold(f64::MAX, f64::min);
    assert!(!drops.is_empty(), "cwnd never falls");
    assert!(
        drops[0] >= first_loss,
        "cwnd fell at x={} before the first loss at x={first_loss}",
        drops[0]
    );
    assert!(
        drops.len() >= 5,
        "cwnd falls again with later losses: {drops:?}"
    );
    // The line goes through the values the trace recorded, and only those.
    let bytes = y_axis(&win);
    let drawn: Vec<f64> = pts.iter().map(|p| bytes(p.1)).collect();
    let recorded = client_cwnd(&report);
    let near = |a: f64, b: f64| (a - b).abs() < 60.0;
    for v in &recorded {
        assert!(drawn.iter().any(|d| near(*d, *v)), "cwnd {v} not drawn");
    }
    for d in &drawn {
        assert!(
            recorded.iter().any(|v| near(*d, *v)),
            "cwnd {d} not recorded"
        );
    }

    // ssthresh starts infinite: it is drawn from the first loss on, inside
    // the plot, and cwnd still fills the height (the axis is not squashed).
    let clip = win
        .descendants()
        .find(|n| n.has_tag_name("clipPath"))
        .and_then(|c| c.first_element_child())
        .unwrap();
    let top: f64 = clip.attribute("y").unwrap().parse().unwrap();
    let height: f64 = clip.attribute("height").unwrap().parse().unwrap();
    let ss = all(&win, "polyline", "ssthresh");
    assert!(!ss.is_empty());
    for line in &ss {
        let p = points(line);
        assert!(p[0].0 >= first_loss, "ssthresh drawn before it was set");
        assert!(p.iter().all(|&(_, y)| y >= top && y <= top + height));
    }
    let (lo, hi) = pts.iter().fold((f64::MAX, f64::MIN), |(lo, hi), p| {
        (lo.min(p.1), hi.max(p.1))
    });
    assert!(
        hi - lo > height / 2.0,
        "cwnd spans {} of {height} px",
        hi - lo
    );
    assert!(picture.plots[1]
        .svg
        .contains("ssthresh is infinite until the first loss"));

    let marks = all(&win, "g", "fr").len();
    let fast = client_recoveries(&report, |e| {
        matches!(
            e,
            RecoveryEvent::FastRetransmit { .. }
                | RecoveryEvent::SackLoss
                | RecoveryEvent::RackLoss
        )
    });
    assert!(fast > 0);
    assert_eq!(marks, fast, "each fast retransmit marked");
}

#[test]
fn timeouts_and_tail_loss_probes_are_marked() {
    let (report, picture) = play("rto-backoff");
    let win = parse(&picture.plots[1]);
    let timeouts = client_recoveries(&report, |e| matches!(e, RecoveryEvent::Timeout { .. }));
    assert!(timeouts >= 2);
    assert_eq!(all(&win, "g", "rto").len(), timeouts);
    let probes = client_recoveries(&report, |e| matches!(e, RecoveryEvent::TailLossProbe));
    assert_eq!(all(&win, "g", "tlp").len(), probes);
    for m in all(&win, "g", "mark") {
        assert!(m.children().any(|c| c.has_tag_name("title")));
    }
}

#[test]
fn ssthresh_that_stays_infinite_is_not_drawn() {
    let (_, picture) = play("slow-start");
    let win = parse(&picture.plots[1]);
    assert!(all(&win, "polyline", "ssthresh").is_empty());
    assert_eq!(all(&win, "polyline", "cwnd").len(), 1);
    assert!(picture.plots[1].svg.contains("ssthresh stayed infinite"));
}

#[test]
fn a_run_without_data_has_no_plot() {
    for name in ["simultaneous-open", "closed-port", "connect-timeout"] {
        let (report, picture) = play(name);
        assert!(picture.plots.is_empty(), "{name}");
        assert_eq!(picture.svg_with_plots(), picture.svg, "{name}");
        let page = svg::html_page(name, "", &picture, &report.summary, Lang::En);
        assert!(page.contains("id=\"noplots\""), "{name}");
        assert!(
            !page.contains("seqplot") && !page.contains("cwndplot"),
            "{name}"
        );
    }
}

#[test]
fn every_direction_with_data_has_both_figures_and_they_parse() {
    for scenario in SCENARIOS {
        let report = common::play(scenario);
        let trace = &report.world.trace;
        let picture = svg::render(trace, &LadderOptions::default(), "10.77.0.1", "10.77.0.2");
        let mut senders: Vec<(Side, u16)> = Vec::new();
        for e in &trace.events {
            if let TraceEvent::Segment {
                from,
                seg,
                len,
                injected: None,
                ..
            } = e
            {
                if *len > 0 && !senders.contains(&(*from, seg.src_port)) {
                    senders.push((*from, seg.src_port));
                }
            }
        }
        assert!(
            picture.plots.len() >= 2 * senders.len(),
            "{}: {} figures for {senders:?}",
            scenario.name,
            picture.plots.len()
        );
        for (i, f) in picture.plots.iter().enumerate() {
            let want = if i % 2 == 0 {
                FigureKind::Sequence
            } else {
                FigureKind::Window
            };
            assert_eq!(f.kind, want, "{}", scenario.name);
            let doc = parse(f);
            let root = doc.root_element();
            assert!(class_has(&root, "tcpplot"), "{}", scenario.name);
            assert!(
                root.descendants().any(|n| n.has_tag_name("title")),
                "{}",
                scenario.name
            );
        }
        let stacked = picture.svg_with_plots();
        let doc = roxmltree::Document::parse(&stacked)
            .unwrap_or_else(|e| panic!("{}: the stacked SVG does not parse: {e}", scenario.name));
        assert_eq!(
            doc.descendants()
                .filter(|n| class_has(n, "tcpplot"))
                .count(),
            picture.plots.len()
        );
        // Clip paths are named once in the page, where all figures meet.
        let page = svg::html_page(
            scenario.name,
            scenario.about.en,
            &picture,
            &report.summary,
            Lang::En,
        );
        for (i, f) in picture.plots.iter().enumerate() {
            assert!(page.contains(&f.svg));
            assert_eq!(
                page.matches(&format!("id=\"plotclip{i}\"")).count(),
                1,
                "{}",
                scenario.name
            );
        }
    }
}
