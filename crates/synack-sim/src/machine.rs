//! The eleven-state machine of RFC 9293 (§3.3.2, Figure 5) as the seeds
//! draw it, with the transitions a run took highlighted: the client's in
//! blue, the server's in green, both in purple. A transition the figure
//! does not have (a reset out of ESTABLISHED, say) is drawn as well, dashed,
//! where it happened.

use crate::lang::{words, Lang, StaticText};
use crate::svg::xml;
use crate::trace::{Trace, TraceEvent};
use std::fmt::Write as _;
use synack_device::Side;
use synack_tcp::State;

const BOX_W: f64 = 120.0;
const BOX_H: f64 = 30.0;

/// Where each state's box is centred.
fn place(s: State) -> (f64, f64) {
    match s {
        State::Closed => (360.0, 40.0),
        State::Listen => (210.0, 120.0),
        State::SynReceived => (110.0, 220.0),
        State::SynSent => (610.0, 220.0),
        State::Established => (360.0, 300.0),
        State::FinWait1 => (110.0, 400.0),
        State::CloseWait => (610.0, 400.0),
        State::FinWait2 => (110.0, 510.0),
        State::Closing => (360.0, 455.0),
        State::LastAck => (610.0, 510.0),
        State::TimeWait => (360.0, 580.0),
    }
}

/// The figure's transitions and their labels (event / action), in the
/// figure's words and the seeds'.
pub const TRANSITIONS: &[(State, State, StaticText)] = &[
    (
        State::Closed,
        State::Listen,
        StaticText::new("passive open", "被动打开"),
    ),
    (
        State::Closed,
        State::SynSent,
        StaticText::new("active open / SYN", "主动打开 / SYN"),
    ),
    (
        State::Listen,
        State::SynReceived,
        StaticText::new("rcv SYN / SYN,ACK", "收到 SYN / SYN,ACK"),
    ),
    (
        State::Listen,
        State::SynSent,
        StaticText::new("send / SYN", "发送 / SYN"),
    ),
    (
        State::Listen,
        State::Closed,
        StaticText::new("close", "关闭"),
    ),
    (
        State::SynSent,
        State::SynReceived,
        StaticText::new("rcv SYN / SYN,ACK", "收到 SYN / SYN,ACK"),
    ),
    (
        State::SynSent,
        State::Established,
        StaticText::new("rcv SYN,ACK / ACK", "收到 SYN,ACK / ACK"),
    ),
    (
        State::SynSent,
        State::Closed,
        StaticText::new("close, timeout", "关闭、超时"),
    ),
    (
        State::SynReceived,
        State::Established,
        StaticText::new("rcv ACK of SYN", "收到 SYN 的 ACK"),
    ),
    (
        State::SynReceived,
        State::FinWait1,
        StaticText::new("close / FIN", "关闭 / FIN"),
    ),
    (
        State::SynReceived,
        State::Listen,
        StaticText::new("rcv RST", "收到 RST"),
    ),
    (
        State::Established,
        State::FinWait1,
        StaticText::new("close / FIN", "关闭 / FIN"),
    ),
    (
        State::Established,
        State::CloseWait,
        StaticText::new("rcv FIN / ACK", "收到 FIN / ACK"),
    ),
    (
        State::FinWait1,
        State::FinWait2,
        StaticText::new("rcv ACK of FIN", "收到 FIN 的 ACK"),
    ),
    (
        State::FinWait1,
        State::Closing,
        StaticText::new("rcv FIN / ACK", "收到 FIN / ACK"),
    ),
    (
        State::FinWait1,
        State::TimeWait,
        StaticText::new("rcv FIN,ACK / ACK", "收到 FIN,ACK / ACK"),
    ),
    (
        State::FinWait2,
        State::TimeWait,
        StaticText::new("rcv FIN / ACK", "收到 FIN / ACK"),
    ),
    (
        State::Closing,
        State::TimeWait,
        StaticText::new("rcv ACK of FIN", "收到 FIN 的 ACK"),
    ),
    (
        State::CloseWait,
        State::LastAck,
        StaticText::new("close / FIN", "关闭 / FIN"),
    ),
    (
        State::LastAck,
        State::Closed,
        StaticText::new("rcv ACK of FIN", "收到 FIN 的 ACK"),
    ),
    (
        State::TimeWait,
        State::Closed,
        StaticText::new("2MSL timeout", "2MSL 超时"),
    ),
];

/// Waypoints for the transitions a straight line would draw across other
/// boxes: the two into CLOSED from the bottom go up the right margin.
fn detour(from: State, to: State) -> &'static [(f64, f64)] {
    match (from, to) {
        (State::TimeWait, State::Closed) => &[(705.0, 580.0), (705.0, 40.0)],
        (State::LastAck, State::Closed) => &[(690.0, 510.0), (690.0, 48.0)],
        // (the labels of these two sit left of their vertical legs)
        _ => &[],
    }
}

/// The point where the segment from `a`'s centre towards `b` leaves `a`'s box.
fn edge((ax, ay): (f64, f64), (bx, by): (f64, f64)) -> (f64, f64) {
    let (dx, dy) = (bx - ax, by - ay);
    let sx = if dx == 0.0 {
        f64::INFINITY
    } else {
        (BOX_W / 2.0) / dx.abs()
    };
    let sy = if dy == 0.0 {
        f64::INFINITY
    } else {
        (BOX_H / 2.0) / dy.abs()
    };
    let s = sx.min(sy).min(1.0);
    (ax + dx * s, ay + dy * s)
}

/// The transitions `side` took in `trace`, each once, in order.
fn taken(trace: &Trace, side: Side) -> Vec<(State, State)> {
    let mut out = Vec::new();
    for e in &trace.events {
        if let TraceEvent::State {
            side: s,
            transition,
            ..
        } = e
        {
            let t = (transition.from, transition.to);
            if *s == side && !out.contains(&t) {
                out.push(t);
            }
        }
    }
    out
}

/// The colour of a transition taken by the client, the server or both.
fn colour(client: bool, server: bool) -> Option<&'static str> {
    match (client, server) {
        (true, true) => Some("#7b1fa2"),
        (true, false) => Some("#1565c0"),
        (false, true) => Some("#2e7d32"),
        (false, false) => None,
    }
}

/// The state machine with this run's transitions highlighted, in `lang`.
pub fn render(trace: &Trace, lang: Lang) -> String {
    let client = taken(trace, Side::A);
    let server = taken(trace, Side::B);
    let visited: Vec<State> = client
        .iter()
        .chain(&server)
        .flat_map(|&(a, b)| [a, b])
        .collect();
    let mut arrows = String::new();
    let mut line = |from: State, to: State, label: &str, extra: bool| {
        let (a, b) = (place(from), place(to));
        let via = detour(from, to);
        let start = edge(a, via.first().copied().unwrap_or(b));
        let end = edge(b, via.last().copied().unwrap_or(a));
        // A pair of opposite arrows is drawn side by side, not on top of
        // each other.
        let reverse = TRANSITIONS.iter().any(|t| (t.0, t.1) == (to, from));
        let (ox, oy) = if reverse && via.is_empty() {
            let (dx, dy) = (end.0 - start.0, end.1 - start.1);
            let len = (dx * dx + dy * dy).sqrt().max(1.0);
            (-dy / len * 5.0, dx / len * 5.0)
        } else {
            (0.0, 0.0)
        };
        let mut points = vec![start];
        points.extend(via.iter().copied());
        points.push(end);
        let d: String = points
            .iter()
            .enumerate()
            .map(|(i, (x, y))| {
                format!(
                    "{}{:.1},{:.1}",
                    if i == 0 { "M" } else { " L" },
                    x + ox,
                    y + oy
                )
            })
            .collect();
        // The label sits on the middle leg, pushed to the arrow's side.
        let mid = points.len() / 2;
        let (p, q) = (points[mid - 1], points[mid]);
        let (mut mx, my) = ((p.0 + q.0) / 2.0 + 2.5 * ox, (p.1 + q.1) / 2.0 + 2.5 * oy);
        // A detour's label goes inside its leg, clear of the margin.
        let anchor = if via.is_empty() {
            "middle"
        } else {
            mx -= 6.0;
            "end"
        };
        let c = client.contains(&(from, to));
        let s = server.contains(&(from, to));
        let (class, stroke, width) = match colour(c, s) {
            Some(col) => ("transition taken", col, 2.5),
            None => ("transition", "#aaa", 1.0),
        };
        let dash = if extra {
            " stroke-dasharray=\"5 3\""
        } else {
            ""
        };
        let who = words::taken_by(lang, c, s);
        let _ = writeln!(
            arrows,
            "<g class=\"{class}\"><title>{} → {}: {}{who}</title>\
             <path d=\"{d}\" fill=\"none\" stroke=\"{stroke}\" stroke-width=\"{width}\"{dash} marker-end=\"url(#mhead)\"/>\
             <text x=\"{mx:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\" class=\"tlabel\">{}</text></g>",
            xml(&words::state(lang, from)),
            xml(&words::state(lang, to)),
            xml(label),
            my - 3.0,
            xml(label)
        );
    };
    for (from, to, label) in TRANSITIONS {
        line(*from, *to, label.get(lang), false);
    }
    // What the run did that the figure has no arrow for.
    let mut extra: Vec<(State, State)> = Vec::new();
    for &t in client.iter().chain(&server) {
        if t.0 != t.1 && !extra.contains(&t) && !TRANSITIONS.iter().any(|f| (f.0, f.1) == t) {
            extra.push(t);
        }
    }
    for (from, to) in extra {
        line(from, to, words::not_in_figure(lang), true);
    }
    let mut boxes = String::new();
    for s in State::ALL {
        let (x, y) = place(s);
        let fill = if visited.contains(&s) {
            "#fff8dc"
        } else {
            "#fafafa"
        };
        // The RFC's name; in Chinese the seeds' term under it, smaller.
        let name = match lang {
            Lang::En => format!(
                "<text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                y + 4.0,
                s.name()
            ),
            Lang::Zh => format!(
                "<text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}\
                 <tspan x=\"{x:.1}\" dy=\"12\" font-size=\"10\">{}</tspan></text>",
                y - 2.0,
                s.name(),
                words::gloss(s)
            ),
        };
        let _ = writeln!(
            boxes,
            "<g class=\"stbox\"><rect x=\"{:.1}\" y=\"{:.1}\" width=\"{BOX_W}\" height=\"{BOX_H}\" rx=\"6\" fill=\"{fill}\" stroke=\"#555\"/>{name}</g>",
            x - BOX_W / 2.0,
            y - BOX_H / 2.0,
        );
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"machine\" width=\"730\" height=\"640\" viewBox=\"0 0 730 640\" font-family=\"sans-serif\" font-size=\"12\">"
    );
    out.push_str(
        "<defs><marker id=\"mhead\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#555\"/></marker></defs>\n\
         <style>.tlabel{fill:#444;font-size:10px}</style>\n",
    );
    out.push_str(&arrows);
    out.push_str(&boxes);
    let [client, server, both, dashed] = words::figure_legend(lang);
    let _ = writeln!(
        out,
        "<text x=\"10\" y=\"625\" font-size=\"11\"><tspan fill=\"#1565c0\">■ {client}</tspan>  <tspan fill=\"#2e7d32\">■ {server}</tspan>  <tspan fill=\"#7b1fa2\">■ {both}</tspan>  {dashed}</text>"
    );
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::collections::BTreeSet;

    #[test]
    fn every_state_has_a_place_of_its_own() {
        let places: BTreeSet<(i64, i64)> = State::ALL
            .iter()
            .map(|&s| {
                let (x, y) = place(s);
                (x as i64, y as i64)
            })
            .collect();
        assert_eq!(places.len(), 11);
    }

    #[test]
    fn an_arrow_starts_and_ends_on_the_boxes() {
        let (x, y) = edge((0.0, 0.0), (0.0, 100.0));
        assert_eq!((x, y), (0.0, BOX_H / 2.0));
        let (x, y) = edge((0.0, 0.0), (300.0, 0.0));
        assert_eq!((x, y), (BOX_W / 2.0, 0.0));
    }

    #[test]
    fn the_figure_has_each_transition_once() {
        let set: BTreeSet<(&str, &str)> = TRANSITIONS
            .iter()
            .map(|t| (t.0.name(), t.1.name()))
            .collect();
        assert_eq!(set.len(), TRANSITIONS.len());
    }
}
