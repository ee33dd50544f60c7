//! Ladder diagrams: a trace drawn the way the seeds draw TCP, one line per
//! segment with an arrow between client (left) and server (right), and each
//! side's state changes at the moment they happen. Notes take the form of
//! whose doing they tell: an application's `» …` / `… «`, the network's
//! `~ … ~` between the sides, an explanation's `(…)` (those `explain` adds
//! among them: a value the first time it needs a word, a reset's reason).

use crate::lang::{self, words, Lang};
use crate::trace::{NoteKind, Trace, TraceEvent};
use std::collections::HashMap;
use std::fmt::Write as _;
use synack_device::{Fate, Side};
use synack_wire::{TcpFlags, TcpHeader};

/// How to draw.
#[derive(Copy, Clone, Debug)]
pub struct LadderOptions {
    /// Raw sequence numbers instead of numbers relative to each ISN.
    pub absolute: bool,
    /// Draw every segment, even in long transfers.
    pub full: bool,
    /// Width of the area between the two sides: 70 fits the whole line,
    /// time column included, in 80 columns (what does not fit wraps onto
    /// lines of its own); `--wide` gives more.
    pub width: usize,
    /// Show the sender's cwnd and flight on each data segment.
    pub cwnd: bool,
    /// ANSI colours: lost segments red, retransmissions yellow, injected
    /// ones magenta, state changes cyan (the CLI turns them on for a
    /// terminal, off with `NO_COLOR`).
    pub color: bool,
    /// The language of the states, notes and headings (`--lang`).
    pub lang: Lang,
}

impl Default for LadderOptions {
    fn default() -> Self {
        LadderOptions {
            absolute: false,
            full: false,
            width: 70,
            cwnd: false,
            color: false,
            lang: Lang::En,
        }
    }
}

/// Past this many segments the plain middle of a transfer is summarized.
const ELIDE_OVER: usize = 80;
/// Segments always drawn at each end of a long transfer.
const KEEP_ENDS: usize = 16;

type Flow = (Side, u16, u16);

/// Sequence-number bookkeeping per direction: ISN base and highest sent.
#[derive(Default)]
pub(crate) struct Numbering {
    base: HashMap<Flow, u32>,
    high: HashMap<Flow, u32>,
    /// Window scale shift each direction offered in its SYN.
    ws: HashMap<Flow, u8>,
    /// Flags of the last SYN each direction sent.
    syn_flags: HashMap<Flow, TcpFlags>,
}

impl Numbering {
    /// Records a segment; returns true if it re-sends sequence space.
    pub(crate) fn observe(
        &mut self,
        from: Side,
        s: &TcpHeader,
        len: usize,
        injected: bool,
    ) -> bool {
        let flow = (from, s.src_port, s.dst_port);
        // A SYN,ACK after our own SYN (simultaneous open) re-sends the SYN's
        // sequence number but is a new segment, not a retransmission.
        let mut fresh_syn = false;
        if s.flags.syn() && !injected {
            self.base.insert(flow, s.seq);
            if self
                .high
                .get(&flow)
                .is_some_and(|&h| h != s.seq.wrapping_add(1))
            {
                self.high.remove(&flow);
            }
            fresh_syn = self
                .syn_flags
                .insert(flow, s.flags)
                .is_some_and(|f| f != s.flags);
            match s.options.window_scale {
                Some(shift) => self.ws.insert(flow, shift.min(14)),
                None => self.ws.remove(&flow),
            };
        }
        let len = s.seq_space(len) as u32;
        if len == 0 || injected || s.flags.rst() {
            return false;
        }
        let end = s.seq.wrapping_add(len);
        match self.high.get(&flow) {
            Some(&h) if (s.seq.wrapping_sub(h) as i32) < 0 => {
                if (end.wrapping_sub(h) as i32) > 0 {
                    self.high.insert(flow, end);
                }
                !fresh_syn
            }
            _ => {
                self.high.insert(flow, end);
                false
            }
        }
    }

    /// The ISN of the direction `s` travels in, once its SYN was seen.
    pub(crate) fn base(&self, from: Side, s: &TcpHeader) -> Option<u32> {
        self.base.get(&(from, s.src_port, s.dst_port)).copied()
    }

    /// The shift applied to `s`'s window field, when it is scaled.
    pub(crate) fn shift(&self, from: Side, s: &TcpHeader) -> Option<u8> {
        let other = match from {
            Side::A => Side::B,
            Side::B => Side::A,
        };
        let mine = self.ws.get(&(from, s.src_port, s.dst_port));
        let theirs = self.ws.get(&(other, s.dst_port, s.src_port));
        match (mine, theirs) {
            (Some(&shift), Some(_)) if !s.flags.syn() => Some(shift),
            _ => None,
        }
    }

    pub(crate) fn rel_seq(&self, from: Side, s: &TcpHeader, absolute: bool) -> String {
        match self.base.get(&(from, s.src_port, s.dst_port)) {
            Some(&b) if !absolute => (s.seq.wrapping_sub(b) as i32).to_string(),
            _ => s.seq.to_string(),
        }
    }

    /// The window in bytes: scaled once both SYNs carried window scale
    /// (RFC 7323 §2.2; never in a SYN itself).
    pub(crate) fn window(&self, from: Side, s: &TcpHeader) -> u32 {
        u32::from(s.window) << self.shift(from, s).unwrap_or(0)
    }

    /// Where the urgent pointer of a segment with URG points, numbered
    /// like its seq (SEG.SEQ + the field, RFC 9293 §3.1), and the last
    /// urgent byte, the one before it (RFC 6093 §4: the pointer points to
    /// the byte after the urgent data). `None` without URG.
    pub(crate) fn urgent(&self, from: Side, s: &TcpHeader, absolute: bool) -> Option<(i64, i64)> {
        if !s.flags.urg() {
            return None;
        }
        let up = s.seq.wrapping_add(u32::from(s.urgent));
        Some(match self.base.get(&(from, s.src_port, s.dst_port)) {
            Some(&b) if !absolute => {
                let rel = i64::from(up.wrapping_sub(b) as i32);
                (rel, rel - 1)
            }
            _ => (i64::from(up), i64::from(up.wrapping_sub(1))),
        })
    }

    pub(crate) fn rel_ack(&self, from: Side, s: &TcpHeader, absolute: bool) -> String {
        let other = match from {
            Side::A => Side::B,
            Side::B => Side::A,
        };
        match self.base.get(&(other, s.dst_port, s.src_port)) {
            Some(&b) if !absolute => (s.ack.wrapping_sub(b) as i32).to_string(),
            _ => s.ack.to_string(),
        }
    }
}

/// What the urgent pointer of a segment with URG says, in a line: the
/// pointer points just past the urgent data (RFC 6093 §4).
pub(crate) fn urgent_note(
    n: &Numbering,
    from: Side,
    s: &TcpHeader,
    absolute: bool,
    lang: Lang,
) -> Option<String> {
    let (_, last) = n.urgent(from, s, absolute)?;
    Some(words::urgent(lang, &last.to_string()))
}

/// The text on a segment's arrow: flags, seq, ack, len, window, the
/// urgent pointer when URG is set, options.
pub(crate) fn label(
    n: &Numbering,
    from: Side,
    s: &TcpHeader,
    len: usize,
    opts: &LadderOptions,
) -> String {
    let mut l = format!("{} seq={}", s.flags, n.rel_seq(from, s, opts.absolute));
    if s.flags.ack() {
        let _ = write!(l, " ack={}", n.rel_ack(from, s, opts.absolute));
    }
    if len > 0 {
        let _ = write!(l, " len={len}");
    }
    let _ = write!(l, " win={}", n.window(from, s));
    if let Some((up, _)) = n.urgent(from, s, opts.absolute) {
        let _ = write!(l, " urg={up}");
    }
    let o = s.options.to_string();
    if !o.is_empty() {
        let _ = write!(l, " <{o}>");
    }
    l
}

fn arrow(from: Side, text: &str, width: usize, fate: Fate) -> String {
    let body = format!(" {text} ");
    let used = lang::width(&body) + 3;
    let fill = width.saturating_sub(used).max(2);
    let head_right = if fate == Fate::Queued { "▶" } else { "✕" };
    let head_left = if fate == Fate::Queued { "◀" } else { "✕" };
    match from {
        Side::A => format!("──{body}{}{head_right}", "─".repeat(fill)),
        Side::B => format!("{head_left}{}{body}──", "─".repeat(fill)),
    }
}

pub use crate::lang::wrap;

/// A segment's arrow, and what does not fit on it within `width` (the
/// options, then the notes) on lines of their own under it, on the
/// sender's side.
fn segment_lines(
    from: Side,
    full: &str,
    extra: &[String],
    width: usize,
    fate: Fate,
) -> Vec<String> {
    let one = lang::width;
    let joined = extra.join("  ");
    let whole = if joined.is_empty() {
        arrow(from, full, width, fate)
    } else {
        format!("{}  {joined}", arrow(from, full, width, fate))
    };
    if one(&whole) <= width {
        return vec![whole];
    }
    // The header on the arrow; the options and notes below it.
    let (head, options) = match full.split_once(" <") {
        Some((h, o)) => (h.to_string(), Some(format!("<{o}"))),
        None => (full.to_string(), None),
    };
    let mut lines = vec![arrow(from, &head, width, fate)];
    let mut rest: Vec<String> = options.into_iter().collect();
    rest.extend(extra.iter().cloned());
    for r in rest {
        for part in wrap(&r, width.saturating_sub(3)) {
            lines.push(match from {
                Side::A => format!("   {part}"),
                Side::B => right(&part, width.saturating_sub(3)),
            });
        }
    }
    lines
}

fn right(text: &str, width: usize) -> String {
    lang::pad_left(text, width)
}

/// `text` in as few lines of at most `columns` as `wrap` makes, but as
/// even as they go (a centred note should not end on a word alone).
fn balanced(text: &str, columns: usize) -> Vec<String> {
    let mut lines = wrap(text, columns);
    let mut w = columns;
    while lines.len() > 1 && w > 20 {
        let tighter = wrap(text, w - 1);
        if tighter.len() > lines.len() {
            break;
        }
        lines = tighter;
        w -= 1;
    }
    lines
}

/// A note's lines in the ladder's area of `width` columns: an
/// application's `» …` beside the client or `… «` beside the server, the
/// network's `~ … ~` centred between them, an explanation `(…)` on its
/// side.
fn note_lines(side: Side, text: &str, kind: NoteKind, width: usize, l: Lang) -> Vec<String> {
    match kind {
        NoteKind::Application => wrap(text, width.saturating_sub(2).max(20))
            .iter()
            .enumerate()
            .map(|(i, line)| match (side, i) {
                (Side::A, 0) => format!("» {line}"),
                (Side::A, _) => format!("  {line}"),
                (Side::B, 0) => right(&format!("{line} «"), width),
                (Side::B, _) => right(&format!("{line}  "), width),
            })
            .collect(),
        NoteKind::Network => balanced(text, width.saturating_sub(4).max(20))
            .iter()
            .map(|line| {
                let framed = format!("~ {line} ~");
                let pad = width.saturating_sub(lang::width(&framed)) / 2;
                format!("{}{framed}", " ".repeat(pad))
            })
            .collect(),
        NoteKind::Explanation => {
            // A block on its side, a little narrower than the ladder so
            // that it reads as that side's; the brackets wrap with the
            // text, the later lines under the first one's text.
            let text = words::explanation(l, text);
            let indent = lang::width(&words::explanation(l, "")) / 2;
            let lines: Vec<String> = wrap(&text, width.saturating_sub(10 + indent).max(20))
                .into_iter()
                .enumerate()
                .map(|(i, line)| match i {
                    0 => line,
                    _ => format!("{}{line}", " ".repeat(indent)),
                })
                .collect();
            let block = lines.iter().map(|s| lang::width(s)).max().unwrap_or(0);
            let pad = match side {
                Side::A => 0,
                Side::B => width.saturating_sub(block),
            };
            lines
                .into_iter()
                .map(|line| format!("{}{line}", " ".repeat(pad)))
                .collect()
        }
    }
}

/// Draws the trace. Columns: virtual time, then the client on the left and
/// the server on the right.
pub fn render(trace: &Trace, opts: &LadderOptions, client: &str, server: &str) -> String {
    let w = opts.width;
    let l = opts.lang;
    let mut out = String::new();
    let head = words::host(l, Side::A, client);
    let tail = words::host(l, Side::B, server);
    let gap = w
        .saturating_sub(lang::width(&head) + lang::width(&tail))
        .max(1);
    let _ = writeln!(
        out,
        "{}  {head}{}{tail}",
        lang::pad_left(words::time_column(l), 8),
        " ".repeat(gap)
    );

    // Which segments to draw when the trace is long.
    let seg_total = trace
        .events
        .iter()
        .filter(|e| matches!(e, TraceEvent::Segment { .. }))
        .count();
    let elide = !opts.full && seg_total > ELIDE_OVER;

    let annotated = crate::explain::annotate(trace, opts.absolute);
    let mut n = Numbering::default();
    let mut seg_index = 0usize;
    let mut skipped = 0usize;
    // The events (indices into `annotated`) left out of a long transfer.
    let mut elided = std::collections::HashSet::new();
    for (k, (e, mark)) in annotated.events.iter().zip(&annotated.marks).enumerate() {
        if mark.about.is_some_and(|j| elided.contains(&j)) {
            continue;
        }
        let line = match e {
            TraceEvent::Segment {
                at,
                from,
                seg,
                len,
                outcome,
                injected,
                sender,
            } => {
                let retx = n.observe(*from, seg, *len, injected.is_some());
                let i = seg_index;
                seg_index += 1;
                let interesting = retx
                    || injected.is_some()
                    || outcome.fate != Fate::Queued
                    || outcome.corrupted
                    || outcome.duplicated
                    || outcome.reordered
                    || seg.flags.syn()
                    || seg.flags.fin()
                    || seg.flags.rst();
                if elide && !interesting && i >= KEEP_ENDS && i + KEEP_ENDS < seg_total {
                    skipped += 1;
                    elided.insert(k);
                    continue;
                }
                let full = label(&n, *from, seg, *len, opts);
                let mut notes = Vec::new();
                if let Some(label) = injected {
                    notes.push(label.get(l).to_string());
                }
                if retx {
                    notes.push(words::retransmission(l).to_string());
                }
                if let Some(k) = mark.dup_ack {
                    notes.push(words::dup_ack(l, k));
                }
                if outcome.fate != Fate::Queued
                    || outcome.corrupted
                    || outcome.duplicated
                    || outcome.reordered
                {
                    notes.push(words::fate(l, outcome).to_string());
                }
                if outcome.corrupted {
                    notes.push(words::bad_checksum(l).to_string());
                }
                let mut extra = Vec::new();
                if !notes.is_empty() {
                    extra.push(words::segment_notes(l, &notes));
                }
                if let Some(urgent) = urgent_note(&n, *from, seg, opts.absolute, l) {
                    extra.push(format!("({urgent})"));
                }
                if let (true, Some(cc)) = (opts.cwnd, sender) {
                    if *len > 0 {
                        extra.push(words::cwnd_in_flight(l, cc.cwnd, cc.in_flight));
                    }
                }
                let style = if outcome.fate != Fate::Queued {
                    Some("31")
                } else if retx {
                    Some("33")
                } else if injected.is_some() {
                    Some("35")
                } else {
                    None
                };
                (
                    *at,
                    segment_lines(*from, &full, &extra, w, outcome.fate),
                    style,
                )
            }
            TraceEvent::State {
                at,
                side,
                transition,
                ..
            } => {
                let t = words::transition(l, transition.from, transition.to);
                let cause = words::cause(l, transition.cause);
                let text = match side {
                    Side::A => format!("{t}  {cause}"),
                    Side::B => right(&format!("{cause}  {t}"), w),
                };
                // Too long for one line (long names and a long cause): the
                // cause goes under the change.
                let lines = if lang::width(&text) <= w {
                    vec![text]
                } else {
                    match side {
                        Side::A => vec![t, format!("  {cause}")],
                        Side::B => vec![right(&t, w), right(&format!("{cause}  "), w)],
                    }
                };
                (*at, lines, Some("36"))
            }
            TraceEvent::Recovery {
                at,
                side,
                event,
                cwnd,
                ssthresh,
                rto,
            } => {
                let t = words::recovery_line(l, *event, *rto, *cwnd, *ssthresh);
                let text = wrap(&t, w)
                    .into_iter()
                    .map(|l| match side {
                        Side::A => l,
                        Side::B => right(&l, w),
                    })
                    .collect();
                (*at, text, Some("1;33"))
            }
            TraceEvent::Note {
                at,
                side,
                text,
                kind,
            } => (*at, note_lines(*side, text.get(l), *kind, w, l), None),
        };
        if skipped > 0 {
            let _ = writeln!(out, "{:>8}  {}", "⋮", words::more_segments(l, skipped));
            skipped = 0;
        }
        for (i, text) in line.1.iter().enumerate() {
            let time = if i == 0 {
                line.0.to_string()
            } else {
                String::new()
            };
            match (opts.color, line.2) {
                (true, Some(code)) => {
                    let _ = writeln!(out, "{time:>8}  \x1b[{code}m{text}\x1b[0m");
                }
                _ => {
                    let _ = writeln!(out, "{time:>8}  {text}");
                }
            }
        }
    }
    if skipped > 0 {
        let _ = writeln!(out, "{:>8}  {}", "⋮", words::more_segments(l, skipped));
    }
    out
}
