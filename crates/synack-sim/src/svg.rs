//! The ladder as a picture: a self-contained SVG with the two lifelines,
//! each segment an arrow from the moment it was sent to the moment it
//! arrived (so a longer path slopes more), lost segments ending in a
//! cross, retransmissions dashed, each side's state as a labelled band
//! along its lifeline, and the application's calls beside it. Every arrow
//! carries its header on the line and a plain-words explanation as its
//! hover title (`<title>`), numbered to match the footnotes.
//!
//! Time runs down the page. A run mixes microseconds with minutes, so the
//! vertical scale is not linear: each distinct moment gets its own row,
//! and the gap between rows grows with the logarithm of the time between
//! them. Arrows still slope by the real delay, in those rows.

use crate::ladder::{label, urgent_note, wrap, LadderOptions, Numbering};
use crate::lang::{words, Lang, Text};
use crate::trace::{NoteKind, Owner, Trace, TraceEvent};
use std::collections::HashMap;
use std::fmt::Write as _;
use synack_device::{Fate, Side};
use synack_tcp::{Instant, State};

const WIDTH: f64 = 1280.0;
/// The client's lifeline; its state names end just left of it, its
/// application's notes further left, the time column at the far left.
const LEFT: f64 = 380.0;
const RIGHT: f64 = 900.0;
const TOP: f64 = 70.0;
/// The least space between two events: a label and its options line.
const ROW: f64 = 26.0;
const BAND: f64 = 10.0;
/// Where notes end (client) or start (server), away from the state names.
const NOTE_GAP: f64 = 90.0;

/// One drawn segment, for the footnotes and the HTML step-through.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// The text on the arrow.
    pub label: String,
    /// What the step means, in plain words.
    pub explanation: String,
}

/// The picture, and its steps in order (one per segment).
#[derive(Clone, Debug)]
pub struct Picture {
    /// The ladder.
    pub svg: String,
    /// The ladder's size in pixels.
    pub width: f64,
    pub height: f64,
    pub steps: Vec<Step>,
    /// The eleven-state machine with the run's transitions highlighted.
    pub machine: String,
    /// Each data-carrying direction's sequence and window plots (none for
    /// a run without data).
    pub plots: Vec<crate::plot::Figure>,
}

impl Picture {
    /// The ladder with the plots under it, as one SVG document (`--svg`).
    pub fn svg_with_plots(&self) -> String {
        crate::plot::stack(&self.svg, self.width, self.height, &self.plots)
    }
}

/// Escapes text for XML.
pub fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Maps the trace to the page: one row per event, in order, the gap
/// between rows growing with the log of the time between them; a moment
/// that is not an event (a segment arriving with nothing to show for it)
/// falls between the rows around it, in proportion to time.
struct TimeAxis {
    rows: Vec<(Instant, f64)>,
}

impl TimeAxis {
    #[cfg(test)]
    fn new(times: impl IntoIterator<Item = Instant>) -> TimeAxis {
        TimeAxis::with_room(times.into_iter().map(|t| (t, ROW)))
    }

    /// Each event with the room it takes below its row (a note of several
    /// lines more than a row), so that nothing overlaps the next one.
    fn with_room(events: impl IntoIterator<Item = (Instant, f64)>) -> TimeAxis {
        let mut rows: Vec<(Instant, f64)> = Vec::new();
        let mut room = ROW;
        for (t, needs) in events {
            let y = match rows.last() {
                None => TOP,
                Some(&(prev, y)) => {
                    let ms = t.as_micros().saturating_sub(prev.as_micros()) as f64 / 1000.0;
                    y + room.max(ROW) + (9.0 * (1.0 + ms).ln()).min(60.0)
                }
            };
            rows.push((t, y));
            room = needs;
        }
        TimeAxis { rows }
    }

    /// The row of event `i`.
    fn row(&self, i: usize) -> f64 {
        self.rows.get(i).map_or(TOP, |r| r.1)
    }

    /// Where moment `t` falls: the first row at `t` if an event happened
    /// then, else in proportion between its neighbours.
    fn at(&self, t: Instant) -> f64 {
        let after = self.rows.partition_point(|r| r.0 < t);
        match (
            after.checked_sub(1).map(|i| self.rows[i]),
            self.rows.get(after),
        ) {
            (_, Some(&(t1, y1))) if t1 == t => y1,
            (Some((t0, y0)), Some(&(t1, y1))) => {
                let span = (t1.as_micros() - t0.as_micros()) as f64;
                y0 + (y1 - y0) * (t.as_micros() - t0.as_micros()) as f64 / span
            }
            (None, Some(&(_, y1))) => y1,
            (Some((_, y0)), None) => y0 + ROW,
            (None, None) => TOP,
        }
    }

    /// The last row at moment `t`, or where `t` falls if nothing happened
    /// then.
    fn last(&self, t: Instant) -> f64 {
        let after = self.rows.partition_point(|r| r.0 <= t);
        match after.checked_sub(1).map(|i| self.rows[i]) {
            Some((t0, y0)) if t0 == t => y0,
            _ => self.at(t),
        }
    }

    fn bottom(&self) -> f64 {
        self.rows.last().map_or(TOP, |r| r.1)
    }
}

/// Characters per line of a note (longer ones wrap at spaces).
const NOTE_CHARS: usize = 40;

/// Counts the segments each side sends at one moment.
#[derive(Default)]
struct Burst {
    last: Option<(Side, Instant)>,
    count: usize,
}

impl Burst {
    /// How many segments `side` already sent at `at` (0 for the first).
    fn rank(&mut self, side: Side, at: Instant) -> usize {
        if self.last == Some((side, at)) {
            self.count += 1;
        } else {
            self.last = Some((side, at));
            self.count = 0;
        }
        self.count
    }
}

/// A note's class and its lines: an application's as it is, the
/// network's framed `~ … ~` (it has the width between the lifelines), an
/// explanation in brackets, smaller, narrow enough to clear the time
/// column.
fn note_text(kind: NoteKind, text: &str, l: Lang) -> (&'static str, Vec<String>) {
    match kind {
        NoteKind::Application => ("note", wrap(text, NOTE_CHARS)),
        NoteKind::Network => ("network", wrap(&format!("~ {text} ~"), 2 * NOTE_CHARS)),
        NoteKind::Explanation => (
            "explain",
            wrap(&words::explanation(l, text), NOTE_CHARS - 4),
        ),
    }
}

/// Where a side's notes go, and how they are aligned.
fn note_column(side: Side) -> (f64, &'static str) {
    match side {
        Side::A => (LEFT - NOTE_GAP, "end"),
        Side::B => (RIGHT + NOTE_GAP, "start"),
    }
}

fn x_of(side: Side) -> f64 {
    match side {
        Side::A => LEFT,
        Side::B => RIGHT,
    }
}

fn other(side: Side) -> Side {
    match side {
        Side::A => Side::B,
        Side::B => Side::A,
    }
}

/// A light fill per state, so that bands read at a glance.
fn state_colour(s: State) -> &'static str {
    match s {
        State::Closed => "#eeeeee",
        State::Listen => "#e3f2fd",
        State::SynSent | State::SynReceived => "#fff3cd",
        State::Established => "#d4edda",
        State::FinWait1 | State::FinWait2 | State::Closing => "#fde2e1",
        State::CloseWait | State::LastAck => "#e8daef",
        State::TimeWait => "#d6d8db",
    }
}

/// Draws `trace`: the client (side A) on the left, the server on the right.
pub fn render(trace: &Trace, opts: &LadderOptions, client: &str, server: &str) -> Picture {
    // With the explanations the ladder draws. Some events are recorded
    // after later ones (a recovery event is flushed when its connection
    // is next polled): draw them in time order, ties in the order they
    // were recorded.
    let annotated = crate::explain::annotate(trace, opts.absolute);
    let mut order: Vec<usize> = (0..annotated.events.len()).collect();
    order.sort_by_key(|&i| annotated.events[i].at());
    let events: Vec<&TraceEvent> = order.iter().map(|&i| &annotated.events[i]).collect();
    let marks: Vec<crate::explain::Mark> = order.iter().map(|&i| annotated.marks[i]).collect();
    // What the explanations say of each segment, for its step.
    let mut explained: HashMap<usize, Vec<String>> = HashMap::new();
    for (e, m) in annotated.events.iter().zip(&annotated.marks) {
        if let (TraceEvent::Note { text, .. }, Some(about)) = (e, m.about) {
            explained
                .entry(about)
                .or_default()
                .push(text.get(opts.lang).to_string());
        }
    }
    let axis = TimeAxis::with_room(events.iter().map(|e| {
        let lines = match e {
            TraceEvent::Note { text, kind, .. } => {
                note_text(*kind, text.get(opts.lang), opts.lang).1.len()
            }
            _ => 1,
        };
        (e.at(), 12.0 * lines as f64 + 10.0)
    }));
    let bottom = axis.bottom() + 60.0;
    let mut body = String::new();
    let mut steps = Vec::new();
    let l = opts.lang;

    // State bands first, under everything else.
    for side in [Side::A, Side::B] {
        let mut bands: Vec<(f64, State)> = Vec::new();
        for (i, e) in events.iter().enumerate() {
            if let TraceEvent::State {
                side: s,
                transition,
                owner,
                ..
            } = e
            {
                if *s == side {
                    if bands.is_empty() {
                        bands.push((TOP - 20.0, transition.from));
                    }
                    // A half-open connection that gives up leaves its
                    // listener listening.
                    let to = match owner {
                        Owner::HalfOpen { .. } if transition.to == State::Closed => State::Listen,
                        _ => transition.to,
                    };
                    bands.push((axis.row(i), to));
                }
            }
        }
        let x = x_of(side) - BAND / 2.0;
        for (i, (y0, state)) in bands.iter().enumerate() {
            let y0 = *y0;
            let y1 = bands.get(i + 1).map_or(bottom - 20.0, |b| b.0);
            let _ = write!(
                body,
                "<g class=\"state\"><rect x=\"{x:.1}\" y=\"{y0:.1}\" width=\"{BAND}\" height=\"{:.1}\" fill=\"{}\" stroke=\"#999\" stroke-width=\"0.5\"><title>{}</title></rect>",
                (y1 - y0).max(1.0),
                state_colour(*state),
                xml(&words::state(l, *state))
            );
            let (tx, anchor) = match side {
                Side::A => (x - 6.0, "end"),
                Side::B => (x + BAND + 6.0, "start"),
            };
            let _ = writeln!(
                body,
                "<text x=\"{tx:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\" class=\"statename\">{}</text></g>",
                y0 + 4.0,
                xml(&words::state(l, *state))
            );
        }
    }

    // Lifelines.
    for side in [Side::A, Side::B] {
        let x = x_of(side);
        let _ = writeln!(
            body,
            "<line x1=\"{x}\" y1=\"{:.1}\" x2=\"{x}\" y2=\"{:.1}\" class=\"lifeline\"/>",
            TOP - 20.0,
            bottom - 20.0
        );
    }

    let mut n = Numbering::default();
    let mut burst = Burst::default();
    for (i, e) in events.iter().enumerate() {
        let row = axis.row(i);
        match e {
            TraceEvent::Segment {
                from,
                seg,
                len,
                outcome,
                injected,
                ..
            } => {
                let retx = n.observe(*from, seg, *len, injected.is_some());
                let text = label(&n, *from, seg, *len, opts);
                let (x0, y0) = (x_of(*from), row);
                let lost = outcome.fate != Fate::Queued;
                let (x1, y1) = match outcome.arrival {
                    // Segments sent together arrive together: the k-th of
                    // a burst lands k rows into the receiver's events of
                    // that moment, so a burst draws as parallel arrows
                    // rather than a fan into one point.
                    Some(a) if !lost => {
                        let k = burst.rank(*from, e.at());
                        let y = (axis.at(a) + k as f64 * ROW).min(axis.last(a));
                        (x_of(other(*from)), y.max(y0))
                    }
                    // A lost segment stops part-way, where the wire lost it.
                    _ => (x0 + (x_of(other(*from)) - x0) * 0.6, y0 + 18.0),
                };
                let mut why = Vec::new();
                if let Some(i) = injected {
                    why.push(i.get(l).to_string());
                }
                if retx {
                    why.push(words::why_retransmission(l).to_string());
                }
                if let Some(urgent) = urgent_note(&n, *from, seg, opts.absolute, l) {
                    why.push(words::urgent_why(l, &urgent));
                }
                if let Some(k) = marks[i].dup_ack {
                    why.push(words::dup_ack(l, k));
                }
                why.extend(explained.remove(&order[i]).unwrap_or_default());
                if lost || outcome.corrupted || outcome.duplicated || outcome.reordered {
                    why.push(words::why_on_the_wire(l, words::fate(l, outcome)));
                }
                let explanation = words::explain(l, *from, seg.flags, *len, &why);
                steps.push(Step {
                    label: text.clone(),
                    explanation: explanation.clone(),
                });
                let k = steps.len();
                let mut class = String::from("segment");
                if retx {
                    class.push_str(" retx");
                }
                if lost {
                    class.push_str(" lost");
                }
                if injected.is_some() {
                    class.push_str(" injected");
                }
                // The label sits a third of the way from the sender, so
                // that arrows crossing mid-way keep their labels apart;
                // the options go under the line, smaller.
                let (mx, my) = (x0 + (x1 - x0) / 3.0, y0 + (y1 - y0) / 3.0);
                let angle = (y1 - y0).atan2(x1 - x0).to_degrees();
                // Keep the text upright.
                let angle = if angle.abs() > 90.0 {
                    angle - 180.0_f64.copysign(angle)
                } else {
                    angle
                };
                let _ =
                    write!(
                    body,
                    "<g class=\"{class}\" id=\"step{k}\" data-step=\"{k}\"><title>{k}. {}</title>\
                     <line x1=\"{x0:.1}\" y1=\"{y0:.1}\" x2=\"{x1:.1}\" y2=\"{y1:.1}\"{}/>",
                    xml(&explanation),
                    if lost { "" } else { " marker-end=\"url(#head)\"" }
                );
                if lost {
                    let _ = write!(
                        body,
                        "<path d=\"M{:.1},{:.1} l8,8 m0,-8 l-8,8\" class=\"cross\"/>",
                        x1 - 4.0,
                        y1 - 4.0
                    );
                }
                let (head, options) = match text.split_once(" <") {
                    Some((h, o)) => (h.to_string(), format!("<{o}")),
                    None => (text.clone(), String::new()),
                };
                let _ = write!(
                    body,
                    "<text x=\"{mx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" transform=\"rotate({angle:.2} {mx:.1} {my:.1})\" class=\"label\"><tspan class=\"num\">{k}</tspan> {}",
                    my - 4.0,
                    xml(&head)
                );
                if !options.is_empty() {
                    let _ = write!(
                        body,
                        "<tspan x=\"{mx:.1}\" dy=\"14\" class=\"options\">{}</tspan>",
                        xml(&options)
                    );
                }
                let _ = writeln!(body, "</text></g>");
            }
            TraceEvent::Note {
                side, text, kind, ..
            } => {
                // The network's doing between the lifelines, the
                // applications' and the explanations beside their side.
                let (x, anchor) = match kind {
                    NoteKind::Network => ((LEFT + RIGHT) / 2.0, "middle"),
                    _ => note_column(*side),
                };
                let (class, lines) = note_text(*kind, text.get(l), l);
                let _ = write!(
                    body,
                    "<text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\" class=\"{class}\">",
                    row + 4.0
                );
                for (j, line) in lines.iter().enumerate() {
                    let dy = if j == 0 { 0 } else { 12 };
                    let _ = write!(
                        body,
                        "<tspan x=\"{x:.1}\" dy=\"{dy}\">{}</tspan>",
                        xml(line)
                    );
                }
                let _ = writeln!(body, "</text>");
            }
            TraceEvent::Recovery {
                side, event, rto, ..
            } => {
                let (x, anchor) = note_column(*side);
                let _ = writeln!(
                    body,
                    "<text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\" class=\"recovery\">⚑ {}</text>",
                    row + 4.0,
                    xml(&words::recovery(l, *event, *rto))
                );
            }
            TraceEvent::State { .. } => {}
        }
    }

    // Time on the far left, once per distinct moment.
    let mut ticks = String::new();
    let mut last: Option<Instant> = None;
    for (i, e) in events.iter().enumerate() {
        if last != Some(e.at()) {
            let _ = writeln!(
                ticks,
                "<text x=\"8\" y=\"{:.1}\" class=\"time\">{}</text>",
                axis.row(i) + 4.0,
                e.at()
            );
            last = Some(e.at());
        }
    }

    let height = bottom + 10.0;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height:.0}\" viewBox=\"0 0 {WIDTH} {height:.0}\" font-family=\"monospace\" font-size=\"11\">"
    );
    svg.push_str(
        "<defs><marker id=\"head\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#333\"/></marker></defs>\n",
    );
    svg.push_str(
        "<style>.lifeline{stroke:#444;stroke-width:1.5}.segment line{stroke:#333;stroke-width:1.2}\
         .segment.retx line{stroke:#b35900;stroke-dasharray:6 3}.segment.lost line{stroke:#c00}\
         .segment.injected line{stroke:#6a1b9a}.cross{stroke:#c00;stroke-width:2}.label{fill:#111}\
         .num{fill:#777;font-size:9px}.note{fill:#1a4f8b}.network{fill:#2e7d32;font-style:italic;stroke:#fff;stroke-width:3px;paint-order:stroke}\
         .explain{fill:#666;font-style:italic;font-size:10px}.recovery{fill:#b35900}.statename{fill:#555;font-size:10px}\
         .time{fill:#777;font-size:10px}.options{fill:#666;font-size:9px}.head{font-size:13px;font-weight:bold}\
         .segment.current line{stroke:#0066ff;stroke-width:3}.segment.current .label{fill:#0066ff;font-weight:bold}</style>\n",
    );
    let _ = writeln!(
        svg,
        "<text x=\"{LEFT}\" y=\"24\" text-anchor=\"middle\" class=\"head\">{}</text>\
         <text x=\"{RIGHT}\" y=\"24\" text-anchor=\"middle\" class=\"head\">{}</text>",
        xml(&words::host(l, Side::A, client)),
        xml(&words::host(l, Side::B, server))
    );
    svg.push_str(&ticks);
    svg.push_str(&body);
    svg.push_str("</svg>\n");
    Picture {
        svg,
        width: WIDTH,
        height,
        steps,
        machine: crate::machine::render(trace, l),
        plots: crate::plot::render(trace, client, server),
    }
}

/// A self-contained HTML page: the picture, a step-through (the buttons or
/// the arrow keys move a highlight from segment to segment and show what
/// each one means), `summary`, the plots of each transfer (or a line saying
/// there was none), the state machine, and the numbered explanations as
/// footnotes, in `lang` (the plots' own labels are in English).
pub fn html_page(
    title: &str,
    about: &str,
    picture: &Picture,
    summary: &[Text],
    lang: Lang,
) -> String {
    let words = words::page(lang);
    let mut notes = String::new();
    for (i, s) in picture.steps.iter().enumerate() {
        let _ = writeln!(
            notes,
            "<li id=\"note{}\"><code>{}</code><br>{}</li>",
            i + 1,
            xml(&s.label),
            xml(&s.explanation)
        );
    }
    let mut sum = String::new();
    for line in summary {
        let _ = writeln!(sum, "<li>{}</li>", xml(line.get(lang)));
    }
    let mut plots = String::new();
    if picture.plots.is_empty() {
        let _ = writeln!(plots, "<p id=\"noplots\">{}</p>", words.no_plots);
    } else {
        let _ = writeln!(plots, "<p>{}</p>", words.plots_about);
        for f in &picture.plots {
            plots.push_str(&f.svg);
        }
    }
    let mut page = String::new();
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"{hl}\"><head><meta charset=\"utf-8\"><title>{t}</title>\n\
         <style>body{{font-family:sans-serif;margin:1.5em;max-width:1320px}}svg{{max-width:100%;height:auto}}\
         #bar{{position:sticky;top:0;background:#fff;padding:.5em 0;border-bottom:1px solid #ccc}}\
         #explain{{display:inline-block;margin-left:1em}}ol li{{margin:.3em 0}}\
         li.current{{background:#e6f0ff}}</style></head>\n<body>\n\
         <h1>{t}</h1>\n<p>{a}</p>\n\
         <div id=\"bar\"><button id=\"prev\">{prev}</button> <button id=\"next\">{next}</button>\
         <span id=\"explain\">{hint}</span></div>\n\
         {svg}\n<h2>{summary}</h2>\n<ul>\n{sum}</ul>\n\
         <h2>{transfers}</h2>\n{plots}\
         <h2>{machine_h}</h2>\n<p>{machine_p}</p>\n{machine}\n\
         <h2>{steps}</h2>\n<ol>\n{notes}</ol>\n",
        t = xml(title),
        a = xml(about),
        svg = picture.svg,
        machine = picture.machine,
        hl = words.html_lang,
        prev = words.previous,
        next = words.next,
        hint = words.hint,
        summary = words.summary,
        machine_h = words.machine,
        machine_p = words.machine_about,
        steps = words.steps,
        transfers = words.transfers,
    );
    page.push_str(
        "<script>\n\
         (function () {\n\
           var steps = document.querySelectorAll('g.segment');\n\
           var current = -1;\n\
           function show(i) {\n\
             if (steps.length === 0) return;\n\
             i = Math.max(0, Math.min(steps.length - 1, i));\n\
             if (current >= 0) {\n\
               steps[current].classList.remove('current');\n\
               document.getElementById('note' + (current + 1)).classList.remove('current');\n\
             }\n\
             current = i;\n\
             steps[i].classList.add('current');\n\
             var note = document.getElementById('note' + (i + 1));\n\
             note.classList.add('current');\n\
             document.getElementById('explain').textContent = (i + 1) + '/' + steps.length + ': ' +\n\
               steps[i].querySelector('title').textContent.replace(/^\\d+\\. /, '');\n\
             steps[i].scrollIntoView({block: 'center'});\n\
           }\n\
           document.getElementById('next').onclick = function () { show(current + 1); };\n\
           document.getElementById('prev').onclick = function () { show(current - 1); };\n\
           document.addEventListener('keydown', function (e) {\n\
             if (e.key === 'ArrowRight' || e.key === 'ArrowDown') { show(current + 1); e.preventDefault(); }\n\
             if (e.key === 'ArrowLeft' || e.key === 'ArrowUp') { show(current - 1); e.preventDefault(); }\n\
           });\n\
           window.synackStep = function () { return current; };\n\
           // #selftest: press → twice and ← once, as a reader would, and\n\
           // say whether the highlight followed (the tests read this).\n\
           if (location.hash === '#selftest') {\n\
             var key = function (k) { document.dispatchEvent(new KeyboardEvent('keydown', {key: k})); };\n\
             key('ArrowRight'); var a = current;\n\
             key('ArrowRight'); var b = current;\n\
             key('ArrowLeft'); var c = current;\n\
             var ok = steps.length === 0 || (a === 0 && b === Math.min(1, steps.length - 1) && c === 0 &&\n\
               document.querySelectorAll('g.segment.current').length === 1 &&\n\
               document.querySelectorAll('li.current').length === 1);\n\
             var p = document.createElement('p');\n\
             p.id = 'selftest';\n\
             p.textContent = (ok ? 'SELFTEST OK' : 'SELFTEST FAILED') + ' at step ' + (current + 1) + ' of ' + steps.length;\n\
             document.body.appendChild(p);\n\
           }\n\
         })();\n\
         </script>\n</body></html>\n",
    );
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_wrap_at_spaces() {
        assert_eq!(wrap("a bb ccc dddd", 6), ["a bb", "ccc", "dddd"]);
        assert_eq!(wrap("short", 40), ["short"]);
        assert_eq!(
            wrap("averyveryverylongword x", 5),
            ["averyveryverylongword", "x"]
        );
    }

    #[test]
    fn text_is_escaped_for_xml() {
        assert_eq!(xml("a<b & \"c\">"), "a&lt;b &amp; &quot;c&quot;&gt;");
    }

    #[test]
    fn the_time_axis_gives_each_event_a_row_and_compresses_long_gaps() {
        let ms = Instant::from_millis;
        let axis = TimeAxis::new([ms(0), ms(10), ms(10), ms(20), ms(60_000)]);
        let rows: Vec<f64> = (0..5).map(|i| axis.row(i)).collect();
        assert!(rows.windows(2).all(|w| w[0] < w[1]), "{rows:?}");
        assert!(rows[4] - rows[3] <= ROW + 60.0, "a minute is not a page");
        // A moment between events falls between their rows, in proportion.
        let mid = axis.at(ms(15));
        assert!(mid > rows[2] && mid < rows[3]);
        assert_eq!(axis.at(ms(10)), rows[1], "the first event at that moment");
        assert!(axis.at(ms(70_000)) > rows[4]);
    }
}
