//! The packetdrill language as the corpus uses it, and its parser.
//!
//! A script is header options (`--tolerance_usecs=N`) followed by events,
//! each starting with a time. The parser never runs anything: shell and
//! python blocks become [`EventKind::Shell`] / [`EventKind::Python`] with
//! their text, and constructs the runner does not implement (ICMP lines,
//! `#ifdef`, `sendmsg` structures) become [`EventKind::Unsupported`] so the
//! runner can name them. Every error carries its line number.

use std::fmt;

/// Microseconds, signed so that relative offsets can be negative.
pub type Micros = i64;

/// One point of a time specification.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Point {
    /// Seconds since the script started.
    Abs(Micros),
    /// Relative to the previous event.
    Rel(Micros),
}

/// When an event happens.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum When {
    At(Point),
    /// `*`: any time (outbound packets only).
    Any,
    /// `a~b`: within this window (outbound packets only).
    Window(Point, Point),
    /// `a...b`: a blocking call that starts at `a` and returns at `b`; a
    /// relative `b` without `+` is counted from the same base as `a`.
    Blocking(Point, Point),
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Direction {
    /// `<`: injected into the stack.
    In,
    /// `>`: the stack must send it.
    Out,
}

/// A TCP option as the script writes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Opt {
    Mss(u16),
    SackOk,
    Ts { val: u32, ecr: u32 },
    Nop,
    Eol,
    Wscale(u8),
    Sack(Vec<(u32, u32)>),
}

impl fmt::Display for Opt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Opt::Mss(m) => write!(f, "mss {m}"),
            Opt::SackOk => f.write_str("sackOK"),
            Opt::Ts { val, ecr } => write!(f, "TS val {val} ecr {ecr}"),
            Opt::Nop => f.write_str("nop"),
            Opt::Eol => f.write_str("eol"),
            Opt::Wscale(w) => write!(f, "wscale {w}"),
            Opt::Sack(blocks) => {
                f.write_str("sack")?;
                for (a, b) in blocks {
                    write!(f, " {a}:{b}")?;
                }
                Ok(())
            }
        }
    }
}

/// Writes an option list the way a script does, `<a,b,c>`.
pub fn format_options(opts: &[Opt]) -> String {
    let parts: Vec<String> = opts.iter().map(ToString::to_string).collect();
    format!("<{}>", parts.join(","))
}

/// A `<` or `>` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    pub dir: Direction,
    /// TCP flag bits as on the wire (synack_wire::TcpFlags values).
    pub flags: u8,
    pub start: u32,
    pub end: u32,
    pub len: u32,
    pub ack: Option<u32>,
    pub win: Option<u32>,
    pub urg: Option<u32>,
    /// `None`: the literal `<...>`, options not checked. `Some(vec![])`:
    /// no `<>` part, so no options at all.
    pub options: Option<Vec<Opt>>,
}

/// Flag letters in the order a script writes them.
pub fn format_flags(flags: u8) -> String {
    let mut s = String::new();
    for (bit, c) in [
        (0x02, 'S'),
        (0x01, 'F'),
        (0x04, 'R'),
        (0x08, 'P'),
        (0x20, 'U'),
        (0x40, 'E'),
        (0x80, 'W'),
        (0x10, '.'),
    ] {
        if flags & bit != 0 {
            s.push(c);
        }
    }
    if s.is_empty() {
        s.push('-');
    }
    s
}

impl fmt::Display for Packet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dir = if self.dir == Direction::In { '<' } else { '>' };
        write!(
            f,
            "{dir} {} {}:{}({})",
            format_flags(self.flags),
            self.start,
            self.end,
            self.len
        )?;
        if let Some(a) = self.ack {
            write!(f, " ack {a}")?;
        }
        if let Some(w) = self.win {
            write!(f, " win {w}")?;
        }
        if let Some(u) = self.urg {
            write!(f, " urg {u}")?;
        }
        match &self.options {
            None => f.write_str(" <...>"),
            Some(o) if o.is_empty() => Ok(()),
            Some(o) => write!(f, " {}", format_options(o)),
        }
    }
}

/// An argument of a system call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arg {
    /// `...`: anything sensible.
    Ellipsis,
    Int(i64),
    /// A name (`SOCK_STREAM`, `SO_ERROR`, `ECONNRESET`).
    Name(String),
    /// `A | B`: flags or-ed together.
    Or(Vec<String>),
    /// `[v]`: a value passed in or expected out.
    Bracket(Vec<Arg>),
}

impl Arg {
    pub fn int(&self) -> Option<i64> {
        match self {
            Arg::Int(v) => Some(*v),
            Arg::Bracket(v) if v.len() == 1 => v[0].int(),
            _ => None,
        }
    }

    pub fn name(&self) -> Option<&str> {
        match self {
            Arg::Name(n) => Some(n),
            Arg::Bracket(v) if v.len() == 1 => v[0].name(),
            _ => None,
        }
    }

    /// The names of an or-ed flag argument (a single name counts).
    pub fn names(&self) -> Vec<&str> {
        match self {
            Arg::Name(n) => vec![n.as_str()],
            Arg::Or(v) => v.iter().map(String::as_str).collect(),
            _ => Vec::new(),
        }
    }
}

/// What a call must return: a value, or `-1` and an errno name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ret {
    pub value: i64,
    pub errno: Option<String>,
}

impl fmt::Display for Ret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.errno {
            Some(e) => write!(f, "{} {e}", self.value),
            None => write!(f, "{}", self.value),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Syscall {
    pub name: String,
    pub args: Vec<Arg>,
    pub ret: Ret,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventKind {
    Packet(Packet),
    Syscall(Syscall),
    /// A backtick block: its text, never executed.
    Shell(String),
    /// A `%{ }%` block: its text, never executed.
    Python(String),
    /// A construct the runner does not implement, named.
    Unsupported(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// 1-based line number where the event starts.
    pub line: usize,
    pub when: When,
    pub kind: EventKind,
    /// The event's text as written (first line), for reports.
    pub text: String,
}

/// A parsed script.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Script {
    /// `--name=value` header options, in order.
    pub options: Vec<(String, String)>,
    pub events: Vec<Event>,
}

impl Script {
    pub fn option(&self, name: &str) -> Option<&str> {
        self.options
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A parse error at a line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub msg: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.msg)
    }
}

impl std::error::Error for ParseError {}

fn err<T>(line: usize, msg: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError {
        line,
        msg: msg.into(),
    })
}

/// Removes a `//` comment (outside of blocks).
fn strip_comment(s: &str) -> &str {
    match s.find("//") {
        Some(i) => &s[..i],
        None => s,
    }
}

/// Parses a whole script.
pub fn parse(text: &str) -> Result<Script, ParseError> {
    let lines: Vec<&str> = text.lines().collect();
    let mut script = Script::default();
    let mut i = 0;
    let mut in_block_comment = false;
    while i < lines.len() {
        let lineno = i + 1;
        let raw = lines[i];
        i += 1;
        if in_block_comment {
            if raw.contains("*/") {
                in_block_comment = false;
            }
            continue;
        }
        let trimmed = raw.trim();
        if trimmed.starts_with("/*") {
            in_block_comment = !trimmed.contains("*/");
            continue;
        }
        let code = strip_comment(trimmed).trim();
        if code.is_empty() {
            continue;
        }
        if let Some(opt) = code.strip_prefix("--") {
            let (name, value) = match opt.split_once('=') {
                Some((n, v)) => (n.trim(), v.trim()),
                None => (opt.trim(), ""),
            };
            script.options.push((name.to_string(), value.to_string()));
            continue;
        }
        if code.starts_with('#') {
            script.events.push(Event {
                line: lineno,
                when: When::At(Point::Rel(0)),
                kind: EventKind::Unsupported(format!("preprocessor line `{code}`")),
                text: code.to_string(),
            });
            continue;
        }
        // A block may begin a line without a time (Linux's defaults.sh).
        let (when, rest) = if code.starts_with('`') || code.starts_with("%{") {
            (When::At(Point::Rel(0)), code)
        } else {
            parse_when(code, lineno)?
        };
        let rest = rest.trim_start();
        // Blocks may span lines: gather raw text up to the closing mark.
        let kind = if let Some(body) = rest.strip_prefix('`') {
            let full = gather(body, "`", &lines, &mut i, lineno)?;
            EventKind::Shell(full)
        } else if let Some(body) = rest.strip_prefix("%{") {
            let full = gather(body, "}%", &lines, &mut i, lineno)?;
            EventKind::Python(full)
        } else {
            parse_event_body(rest, lineno)?
        };
        script.events.push(Event {
            line: lineno,
            when,
            kind,
            text: code.to_string(),
        });
    }
    Ok(script)
}

/// Collects a block's text from `first` (the rest of the opening line)
/// until `close`, advancing `i` over the lines consumed.
fn gather(
    first: &str,
    close: &str,
    lines: &[&str],
    i: &mut usize,
    lineno: usize,
) -> Result<String, ParseError> {
    if let Some(end) = first.find(close) {
        return Ok(first[..end].trim().to_string());
    }
    let mut text = first.to_string();
    while *i < lines.len() {
        let l = lines[*i];
        *i += 1;
        if let Some(end) = l.find(close) {
            text.push('\n');
            text.push_str(&l[..end]);
            return Ok(text.trim().to_string());
        }
        text.push('\n');
        text.push_str(l);
    }
    err(lineno, format!("block not closed with `{close}`"))
}

/// Parses a number of seconds (`1.5`, `.1`, `2`) into microseconds.
fn parse_seconds(s: &str, line: usize) -> Result<Micros, ParseError> {
    let (int, frac) = match s.split_once('.') {
        Some((a, b)) => (a, b),
        None => (s, ""),
    };
    if int.is_empty() && frac.is_empty() {
        return err(line, format!("bad time `{s}`"));
    }
    if !int.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return err(line, format!("bad time `{s}`"));
    }
    let secs: i64 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| ParseError {
            line,
            msg: format!("bad time `{s}`"),
        })?
    };
    let mut micros = 0i64;
    for (k, c) in frac.chars().take(6).enumerate() {
        micros += i64::from(c as u8 - b'0') * 10i64.pow(5 - k as u32);
    }
    Ok(secs * 1_000_000 + micros)
}

/// Parses one point (`+0.1`, `+ 0.00`, `1.5`) at the start of `s`.
fn parse_point(s: &str, line: usize) -> Result<(Point, &str), ParseError> {
    let s = s.trim_start();
    let (rel, s) = match s.strip_prefix('+') {
        Some(r) => (true, r.trim_start()),
        None => (false, s),
    };
    let end = s
        .char_indices()
        .find(|&(k, c)| !(c.is_ascii_digit() || (c == '.' && !s[k..].starts_with("..."))))
        .map(|(k, _)| k)
        .unwrap_or(s.len());
    if end == 0 {
        return err(line, format!("expected a time at `{s}`"));
    }
    let v = parse_seconds(&s[..end], line)?;
    let p = if rel { Point::Rel(v) } else { Point::Abs(v) };
    Ok((p, &s[end..]))
}

/// Parses the time at the start of an event line.
pub fn parse_when(s: &str, line: usize) -> Result<(When, &str), ParseError> {
    let s = s.trim_start();
    if let Some(rest) = s.strip_prefix('*') {
        return Ok((When::Any, rest));
    }
    let (a, rest) = parse_point(s, line)?;
    if let Some(r) = rest.strip_prefix("...") {
        let (b, rest) = parse_point(r, line)?;
        return Ok((When::Blocking(a, b), rest));
    }
    if let Some(r) = rest.strip_prefix('~') {
        let (b, rest) = parse_point(r, line)?;
        return Ok((When::Window(a, b), rest));
    }
    Ok((When::At(a), rest))
}

fn parse_event_body(s: &str, line: usize) -> Result<EventKind, ParseError> {
    let s = s.trim();
    if s.starts_with('<') || s.starts_with('>') {
        let dir = if s.starts_with('<') {
            Direction::In
        } else {
            Direction::Out
        };
        let body = s[1..].trim_start();
        let word = body.split_whitespace().next().unwrap_or("");
        if word.eq_ignore_ascii_case("icmp")
            || word.eq_ignore_ascii_case("udp")
            || word.starts_with('[')
            || word.starts_with('(')
        {
            return Ok(EventKind::Unsupported(format!("`{word}` packet")));
        }
        return parse_packet(dir, body, line).map(EventKind::Packet);
    }
    let name_end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    if name_end > 0 && s[name_end..].trim_start().starts_with('(') {
        let name = &s[..name_end];
        if matches!(name, "sendmsg" | "recvmsg" | "epoll_ctl" | "epoll_wait") {
            return Ok(EventKind::Unsupported(format!("system call `{name}`")));
        }
        return parse_syscall(name, s[name_end..].trim_start(), line).map(EventKind::Syscall);
    }
    err(line, format!("unrecognised event `{s}`"))
}

fn parse_u32(s: &str, line: usize, what: &str) -> Result<u32, ParseError> {
    s.trim().parse::<u32>().map_err(|_| ParseError {
        line,
        msg: format!("bad {what} `{s}`"),
    })
}

/// Parses a packet line after its `<` or `>`.
pub fn parse_packet(dir: Direction, s: &str, line: usize) -> Result<Packet, ParseError> {
    let s = s.trim();
    let (flag_word, rest) = s.split_once(char::is_whitespace).unwrap_or((s, ""));
    let mut flags = 0u8;
    if flag_word != "-" {
        for c in flag_word.chars() {
            flags |= match c {
                'S' => 0x02,
                'F' => 0x01,
                'R' => 0x04,
                'P' => 0x08,
                '.' => 0x10,
                'U' => 0x20,
                'E' => 0x40,
                'W' => 0x80,
                _ => return err(line, format!("unknown flag `{c}` in `{flag_word}`")),
            };
        }
    }
    let rest = rest.trim_start();
    // start:end(len)
    let (range, mut rest) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let (se, len) = range
        .strip_suffix(')')
        .and_then(|r| r.split_once('('))
        .ok_or_else(|| ParseError {
            line,
            msg: format!("expected start:end(len), found `{range}`"),
        })?;
    let (start, end) = se.split_once(':').ok_or_else(|| ParseError {
        line,
        msg: format!("expected start:end, found `{se}`"),
    })?;
    let (start, end, len) = (
        parse_u32(start, line, "sequence number")?,
        parse_u32(end, line, "sequence number")?,
        parse_u32(len, line, "length")?,
    );
    if end.wrapping_sub(start) != len {
        return err(line, format!("{start}:{end} does not span ({len}) bytes"));
    }
    let mut p = Packet {
        dir,
        flags,
        start,
        end,
        len,
        ack: None,
        win: None,
        urg: None,
        options: Some(Vec::new()),
    };
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        if rest.starts_with('<') {
            let close = rest.rfind('>').ok_or_else(|| ParseError {
                line,
                msg: "options not closed with `>`".into(),
            })?;
            p.options = parse_options(&rest[1..close], line)?;
            rest = &rest[close + 1..];
            continue;
        }
        let (key, r) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        let r = r.trim_start();
        let (val, r) = r.split_once(char::is_whitespace).unwrap_or((r, ""));
        match key {
            "ack" => p.ack = Some(parse_u32(val, line, "ack")?),
            "win" => p.win = Some(parse_u32(val, line, "window")?),
            "urg" => p.urg = Some(parse_u32(val, line, "urgent pointer")?),
            _ => return err(line, format!("unknown packet field `{key}`")),
        }
        rest = r;
    }
    Ok(p)
}

/// Parses the inside of `<...>`. `None` for the literal `...`.
pub fn parse_options(s: &str, line: usize) -> Result<Option<Vec<Opt>>, ParseError> {
    if s.trim() == "..." {
        return Ok(None);
    }
    let mut out = Vec::new();
    for part in s.split(',') {
        let words: Vec<&str> = part.split_whitespace().collect();
        let opt = match words.as_slice() {
            [] => continue,
            ["nop"] => Opt::Nop,
            ["eol"] => Opt::Eol,
            ["sackOK"] => Opt::SackOk,
            ["mss", v] => Opt::Mss(v.parse().map_err(|_| ParseError {
                line,
                msg: format!("bad mss `{v}`"),
            })?),
            ["wscale", v] => Opt::Wscale(v.parse().map_err(|_| ParseError {
                line,
                msg: format!("bad wscale `{v}`"),
            })?),
            ["TS", "val", v, "ecr", e] => Opt::Ts {
                val: parse_u32(v, line, "TS val")?,
                ecr: parse_u32(e, line, "TS ecr")?,
            },
            ["sack", blocks @ ..] => {
                let mut bs = Vec::new();
                for b in blocks {
                    let (l, r) = b.split_once(':').ok_or_else(|| ParseError {
                        line,
                        msg: format!("bad sack block `{b}`"),
                    })?;
                    bs.push((parse_u32(l, line, "sack")?, parse_u32(r, line, "sack")?));
                }
                Opt::Sack(bs)
            }
            _ => return err(line, format!("unsupported option `{}`", part.trim())),
        };
        out.push(opt);
    }
    Ok(Some(out))
}

/// Splits at top-level commas (outside brackets and parentheses).
fn split_args(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut from) = (0i32, 0usize);
    for (k, c) in s.char_indices() {
        match c {
            '[' | '(' | '{' => depth += 1,
            ']' | ')' | '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[from..k]);
                from = k + 1;
            }
            _ => {}
        }
    }
    out.push(&s[from..]);
    out
}

fn parse_int(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        return i64::from_str_radix(h, 16).ok();
    }
    s.parse().ok()
}

fn parse_arg(s: &str, line: usize) -> Result<Arg, ParseError> {
    let s = s.trim();
    if s == "..." {
        return Ok(Arg::Ellipsis);
    }
    if let Some(inner) = s.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        let items = split_args(inner)
            .into_iter()
            .filter(|x| !x.trim().is_empty())
            .map(|x| parse_arg(x, line))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(Arg::Bracket(items));
    }
    if let Some(v) = parse_int(s) {
        return Ok(Arg::Int(v));
    }
    let is_name =
        |x: &str| !x.is_empty() && x.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if s.contains('|') {
        let parts: Vec<String> = s.split('|').map(|p| p.trim().to_string()).collect();
        if parts.iter().all(|p| is_name(p)) {
            return Ok(Arg::Or(parts));
        }
    }
    if is_name(s) {
        return Ok(Arg::Name(s.to_string()));
    }
    err(line, format!("unsupported argument `{s}`"))
}

/// Parses `(args) = ret [(note)]` after a call's name.
pub fn parse_syscall(name: &str, s: &str, line: usize) -> Result<Syscall, ParseError> {
    let s = s.trim();
    let inner_start = 1;
    let mut depth = 0i32;
    let mut close = None;
    for (k, c) in s.char_indices() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(k);
                    break;
                }
            }
            _ => {}
        }
    }
    let close = close.ok_or_else(|| ParseError {
        line,
        msg: format!("`{name}(` not closed"),
    })?;
    let inner = &s[inner_start..close];
    let args = if inner.trim().is_empty() {
        Vec::new()
    } else {
        split_args(inner)
            .into_iter()
            .map(|a| parse_arg(a, line))
            .collect::<Result<Vec<_>, _>>()?
    };
    let rest = s[close + 1..].trim_start();
    let rest = rest.strip_prefix('=').ok_or_else(|| ParseError {
        line,
        msg: format!("`{name}` has no `= result`"),
    })?;
    // Drop a trailing note in parentheses.
    let rest = match rest.find('(') {
        Some(k) => &rest[..k],
        None => rest,
    };
    let mut words = rest.split_whitespace();
    let value = words.next().and_then(parse_int).ok_or_else(|| ParseError {
        line,
        msg: format!("bad result `{}`", rest.trim()),
    })?;
    let errno = words.next().map(str::to_string);
    if errno.is_some() && value != -1 {
        return err(line, "an errno follows only a result of -1");
    }
    Ok(Syscall {
        name: name.to_string(),
        args,
        ret: Ret { value, errno },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(line: &str) -> Event {
        let s = parse(line).expect("parses");
        assert_eq!(s.events.len(), 1, "{line}");
        s.events[0].clone()
    }

    #[test]
    fn times() {
        assert_eq!(
            one("0.100 close(3) = 0").when,
            When::At(Point::Abs(100_000))
        );
        assert_eq!(one("+.1 close(3) = 0").when, When::At(Point::Rel(100_000)));
        assert_eq!(one("+ 0.00 close(3) = 0").when, When::At(Point::Rel(0)));
        assert_eq!(one("2 close(3) = 0").when, When::At(Point::Abs(2_000_000)));
        assert_eq!(one("* > . 1:1(0) ack 1").when, When::Any);
        assert_eq!(
            one("+.3~+.310 > . 1:1(0) ack 1").when,
            When::Window(Point::Rel(300_000), Point::Rel(310_000))
        );
        assert_eq!(
            one("+.1...0.200 connect(3, ..., ...) = 0").when,
            When::Blocking(Point::Rel(100_000), Point::Abs(200_000))
        );
    }

    #[test]
    fn packets() {
        let e = one("+0 < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>");
        let EventKind::Packet(p) = e.kind else {
            panic!()
        };
        assert_eq!(p.dir, Direction::In);
        assert_eq!(p.flags, 0x02);
        assert_eq!(p.win, Some(32792));
        assert_eq!(
            p.options,
            Some(vec![
                Opt::Mss(1000),
                Opt::SackOk,
                Opt::Nop,
                Opt::Nop,
                Opt::Nop,
                Opt::Wscale(7)
            ])
        );
        let e =
            one("+0 > P. 1:1001(1000) ack 1 <nop,nop,TS val 100 ecr 7,nop,nop,sack 1:2 3:4,eol>");
        let EventKind::Packet(p) = e.kind else {
            panic!()
        };
        assert_eq!(
            (p.flags, p.start, p.end, p.len, p.ack),
            (0x18, 1, 1001, 1000, Some(1))
        );
        let o = p.options.expect("options");
        assert_eq!(o[2], Opt::Ts { val: 100, ecr: 7 });
        assert_eq!(o[5], Opt::Sack(vec![(1, 2), (3, 4)]));
        assert_eq!(o[6], Opt::Eol);
        let EventKind::Packet(p) = one("+0 > R 34:34(0) // no ack").kind else {
            panic!()
        };
        assert_eq!((p.flags, p.ack, p.options), (0x04, None, Some(vec![])));
        let EventKind::Packet(p) = one("+0 < F 2:2(0) ack 2 win 5 <...>").kind else {
            panic!()
        };
        assert_eq!((p.flags, p.ack, p.options), (0x01, Some(2), None));
        let EventKind::Packet(p) = one("+0 < SF. 0:0(0) ack 1 win 5").kind else {
            panic!()
        };
        assert_eq!(p.flags, 0x13);
    }

    #[test]
    fn syscalls() {
        let EventKind::Syscall(c) =
            one("+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)").kind
        else {
            panic!()
        };
        assert_eq!(c.name, "connect");
        assert_eq!(c.args, vec![Arg::Int(3), Arg::Ellipsis, Arg::Ellipsis]);
        assert_eq!(
            c.ret,
            Ret {
                value: -1,
                errno: Some("EINPROGRESS".into())
            }
        );
        let EventKind::Syscall(c) = one("+0 fcntl(3, F_GETFL) = 0x02 (flags O_RDWR)").kind else {
            panic!()
        };
        assert_eq!(c.ret.value, 2);
        let EventKind::Syscall(c) = one("+0 fcntl(3, F_SETFL, O_RDWR | O_NONBLOCK) = 0").kind
        else {
            panic!()
        };
        assert_eq!(c.args[2].names(), vec!["O_RDWR", "O_NONBLOCK"]);
        let EventKind::Syscall(c) =
            one("+0 getsockopt(3, SOL_SOCKET, SO_ERROR, [ECONNRESET], [4]) = 0").kind
        else {
            panic!()
        };
        assert_eq!(c.args[3].name(), Some("ECONNRESET"));
        assert_eq!(c.args[4].int(), Some(4));
    }

    #[test]
    fn blocks_and_header() {
        let s = parse(
            "--tolerance_usecs=50000\n`../common/defaults.sh\nethtool -K tun0 tso off`\n\
             +0 %{ assert tcpi_state == TCPI_CLOSE_WAIT }%\n0 `sysctl -w a=1`\n",
        )
        .expect("parses");
        assert_eq!(s.option("tolerance_usecs"), Some("50000"));
        assert_eq!(s.events.len(), 3);
        assert!(matches!(&s.events[0].kind, EventKind::Shell(t) if t.contains("ethtool")));
        assert!(matches!(&s.events[1].kind, EventKind::Python(t) if t.contains("TCPI_CLOSE_WAIT")));
        assert_eq!(s.events[1].line, 4);
        assert!(matches!(&s.events[2].kind, EventKind::Shell(t) if t == "sysctl -w a=1"));
    }

    #[test]
    fn unsupported_and_errors_carry_lines() {
        let s = parse("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 < icmp unreachable\n")
            .expect("parses");
        assert!(matches!(s.events[1].kind, EventKind::Unsupported(_)));
        assert_eq!(parse("\n\n+0 > S 0:5(0)\n").unwrap_err().line, 3);
        assert_eq!(parse("x\n").unwrap_err().line, 1);
        assert_eq!(parse("+0 > S 0:0(0) <mss>\n").unwrap_err().line, 1);
        assert_eq!(parse("+0 `never closed\n").unwrap_err().line, 1);
    }
}
