//! What a scenario that did not complete says. First, in TCP terms, what
//! happened, read from the trace: which segment was retransmitted and never
//! acknowledged, and how its connection ended ("the server's SYN,ACK was
//! retransmitted 7 times and never acknowledged; the server gave up
//! (retransmissions exhausted)"). Then the scenario's own check that did
//! not hold, in plain words ("expected the server's connection to close
//! normally, but it was reset"). One function per message, every language
//! at once, as in [`story`](super::story).

use super::{words, Lang, Text};
use std::borrow::Cow;
use synack_device::Side;
use synack_tcp::{Cause, CloseReason, Error, State, Transition};

/// A state inside a sentence, as the ladder names it.
fn st(l: Lang, s: State) -> Cow<'static, str> {
    words::state(l, s)
}

/// The start of the first line: which scenario did not complete.
pub fn did_not_complete(l: Lang, scenario: &str) -> String {
    match l {
        Lang::En => format!("scenario {scenario} did not complete: "),
        Lang::Zh => format!("场景 {scenario} 没有完成："),
    }
}

/// What a retransmitted segment was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    Syn,
    SynAck,
    Fin,
    /// Data (perhaps with a FIN): its sequence number as the ladder shows
    /// it, and its length.
    Data {
        seq: String,
        len: usize,
    },
}

fn segment(l: Lang, s: Side, seg: &Segment) -> String {
    let who = words::side(l, s);
    match (l, seg) {
        (Lang::En, Segment::Syn) => format!("the {who}'s SYN"),
        (Lang::En, Segment::SynAck) => format!("the {who}'s SYN,ACK"),
        (Lang::En, Segment::Fin) => format!("the {who}'s FIN"),
        (Lang::En, Segment::Data { seq, len }) => {
            format!("the {who}'s data segment seq={seq} len={len}")
        }
        (Lang::Zh, Segment::Syn) => format!("{who}的 SYN"),
        (Lang::Zh, Segment::SynAck) => format!("{who}的 SYN,ACK"),
        (Lang::Zh, Segment::Fin) => format!("{who}的 FIN"),
        (Lang::Zh, Segment::Data { seq, len }) => {
            format!("{who}的数据报文段 seq={seq} len={len}")
        }
    }
}

/// How the connection that kept retransmitting ended: `end` is the
/// transition that closed it, if it closed.
fn ending(l: Lang, s: Side, end: Option<Transition>) -> String {
    let who = words::side(l, s);
    let Some(t) = end else {
        return String::new();
    };
    let cause = words::cause(l, t.cause);
    let gave_up = matches!(
        t.cause,
        Cause::RetransmitLimit
            | Cause::SetupTimeout
            | Cause::PersistLimit
            | Cause::KeepaliveLimit
            | Cause::FinWait2Timeout
    );
    let reset = t.cause == Cause::RecvRst;
    match (l, t.to) {
        (Lang::En, State::Closed) if gave_up => format!("; the {who} gave up ({cause})"),
        (Lang::Zh, State::Closed) if gave_up => format!("；{who}放弃了（{cause}）"),
        (Lang::En, State::Closed) if reset => format!(
            "; the {who}'s connection was reset in {} ({cause})",
            st(l, t.from)
        ),
        (Lang::Zh, State::Closed) if reset => {
            format!("；{who}的连接在 {} 被复位（{cause}）", st(l, t.from))
        }
        (Lang::En, _) => format!(
            "; the {who}'s connection ended {} → {} ({cause})",
            st(l, t.from),
            st(l, t.to)
        ),
        (Lang::Zh, _) => format!(
            "；{who}的连接以 {} → {} 结束（{cause}）",
            st(l, t.from),
            st(l, t.to)
        ),
    }
}

/// The first line of a scenario that did not complete: a segment sent
/// again and again that no ACK ever covered, and how its connection ended.
pub fn never_acknowledged(
    s: Side,
    seg: &Segment,
    retransmitted: usize,
    end: Option<Transition>,
) -> Text {
    Text::by(|l| {
        let what = segment(l, s, seg);
        let how = ending(l, s, end);
        match l {
            Lang::En => {
                let times = match retransmitted {
                    1 => "once".to_string(),
                    n => format!("{n} times"),
                };
                format!("{what} was retransmitted {times} and never acknowledged{how}")
            }
            Lang::Zh => format!("{what} 被重传了 {retransmitted} 次，始终没有得到确认{how}"),
        }
    })
}

/// Every RST one side sent was lost: the other side never learns.
pub fn rst_lost(s: Side, other_state: State) -> Text {
    Text::by(|l| {
        let (who, other) = (words::side(l, s), words::side(l, s.other()));
        let state = st(l, other_state);
        match l {
            Lang::En => format!(
                "the {who}'s RST was lost, and a RST is never retransmitted; \
                 the {other}'s connection stayed {state}"
            ),
            Lang::Zh => format!("{who}的 RST 丢失了，而 RST 从不重传；{other}的连接停在 {state}"),
        }
    })
}

/// A connection that gave up or was reset, when nothing else went wrong
/// on the wire.
pub fn closed_by(s: Side, t: Transition) -> Text {
    Text::by(|l| {
        let who = words::side(l, s);
        let (from, cause) = (st(l, t.from), words::cause(l, t.cause));
        match (l, t.cause) {
            (Lang::En, Cause::RecvRst) => {
                format!("the {who}'s connection was reset in {from} ({cause})")
            }
            (Lang::Zh, Cause::RecvRst) => format!("{who}的连接在 {from} 被复位（{cause}）"),
            (Lang::En, _) => format!("the {who} gave up in {from} ({cause})"),
            (Lang::Zh, _) => format!("{who}在 {from} 放弃了（{cause}）"),
        }
    })
}

/// Where the world stopped, for a scenario whose next step never came.
pub fn world_stopped(seed: u64, at: &str, idle: bool, what: &str) -> Text {
    Text::by(|l| match (l, idle) {
        (Lang::En, true) => format!(
            "at {at} nothing was left to happen (no packet in flight, no timer set), \
             but the scenario was still waiting (seed {seed})"
        ),
        (Lang::Zh, true) => format!(
            "{at} 时已无事可做（没有在途的分组，也没有定时器），场景却还在等待（种子 {seed}）"
        ),
        (Lang::En, false) => format!("at {at}: {what} (seed {seed})"),
        (Lang::Zh, false) => format!("{at}：{what}（种子 {seed}）"),
    })
}

/// How a connection was expected to end, or ended.
fn close_reason(l: Lang, r: CloseReason, expected: bool) -> &'static str {
    match (l, r, expected) {
        (Lang::En, CloseReason::Normal, true) => "close normally",
        (Lang::En, CloseReason::Refused, true) => "be refused",
        (Lang::En, CloseReason::Reset, true) => "be reset",
        (Lang::En, CloseReason::TimedOut, true) => "time out",
        (Lang::En, CloseReason::Aborted, true) => "be aborted",
        (Lang::En, CloseReason::Normal, false) => "it closed normally",
        (Lang::En, CloseReason::Refused, false) => "it was refused",
        (Lang::En, CloseReason::Reset, false) => "it was reset",
        (Lang::En, CloseReason::TimedOut, false) => "it timed out",
        (Lang::En, CloseReason::Aborted, false) => "it was aborted",
        (Lang::Zh, CloseReason::Normal, true) => "正常关闭",
        (Lang::Zh, CloseReason::Refused, true) => "被拒绝",
        (Lang::Zh, CloseReason::Reset, true) => "被复位",
        (Lang::Zh, CloseReason::TimedOut, true) => "超时",
        (Lang::Zh, CloseReason::Aborted, true) => "被中止",
        (Lang::Zh, CloseReason::Normal, false) => "它正常关闭了",
        (Lang::Zh, CloseReason::Refused, false) => "它被拒绝了",
        (Lang::Zh, CloseReason::Reset, false) => "它被复位了",
        (Lang::Zh, CloseReason::TimedOut, false) => "它超时了",
        (Lang::Zh, CloseReason::Aborted, false) => "它被中止了",
    }
}

/// A connection that did not end the way the scenario expected.
pub fn closed_otherwise(
    s: Side,
    expected: CloseReason,
    state: State,
    found: Option<CloseReason>,
) -> Text {
    Text::by(|l| {
        let who = words::side(l, s);
        let want = close_reason(l, expected, true);
        let got: Cow<'static, str> = match (l, state, found) {
            (_, State::Closed, Some(r)) => close_reason(l, r, false).into(),
            (Lang::En, State::Closed, None) => "it closed without saying why".into(),
            (Lang::Zh, State::Closed, None) => "它关闭了，却没有记下原因".into(),
            (Lang::En, s, _) => format!("it is still in {}", st(l, s)).into(),
            (Lang::Zh, s, _) => format!("它还处于 {}", st(l, s)).into(),
        };
        match l {
            Lang::En => format!("expected the {who}'s connection to {want}, but {got}"),
            Lang::Zh => format!("预期{who}的连接{want}，但{got}"),
        }
    })
}

/// An application call's error, in words.
fn error(l: Lang, e: Error) -> Cow<'static, str> {
    match (l, e) {
        (Lang::En, e) => e.to_string().into(),
        (Lang::Zh, Error::WouldBlock) => "暂时无法完成（会阻塞）".into(),
        (Lang::Zh, Error::NotConnected) => "没有连接".into(),
        (Lang::Zh, Error::SendClosed) => "发送方向已经关闭".into(),
        (Lang::Zh, Error::Closed(r)) => match r {
            CloseReason::Normal => "连接已关闭".into(),
            CloseReason::Refused => "连接被拒绝".into(),
            CloseReason::Reset => "连接被对方复位".into(),
            CloseReason::TimedOut => "连接超时".into(),
            CloseReason::Aborted => "连接被中止".into(),
        },
    }
}

/// closed-port: the connection was not refused.
pub fn not_refused(err: Option<Error>) -> Text {
    Text::by(|l| match (l, err) {
        (Lang::En, None) => "expected connect() to be refused, but send() succeeded".into(),
        (Lang::Zh, None) => "预期 connect() 被拒绝，但 send() 成功了".into(),
        (Lang::En, Some(e)) => format!(
            "expected connect() to be refused, but send() failed with: {}",
            error(l, e)
        ),
        (Lang::Zh, Some(e)) => format!("预期 connect() 被拒绝，但 send() 失败：{}", error(l, e)),
    })
}

/// rst-abort and rst-after-crash: a read that should have found the reset.
pub fn read_not_reset(s: Side, got: Result<usize, Error>) -> Text {
    Text::by(|l| {
        let who = words::side(l, s);
        match (l, got) {
            (Lang::En, Ok(0)) => format!("the {who}'s read found end of file, not a reset"),
            (Lang::En, Ok(n)) => format!("the {who}'s read returned {n} bytes, not a reset"),
            (Lang::En, Err(e)) => format!(
                "the {who}'s read failed with \"{}\", not a reset",
                error(l, e)
            ),
            (Lang::Zh, Ok(0)) => format!("{who}的 read 读到了文件结束（EOF），而不是复位"),
            (Lang::Zh, Ok(n)) => format!("{who}的 read 读到了 {n} 字节，而不是复位"),
            (Lang::Zh, Err(e)) => format!("{who}的 read 失败：{}，而不是复位", error(l, e)),
        }
    })
}

/// connect-port-in-time-wait: connecting from the port in TIME-WAIT did
/// not fail with EADDRINUSE.
pub fn not_addr_in_use(failed: Option<&str>) -> Text {
    Text::by(|l| {
        let tw = st(l, State::TimeWait);
        match (l, failed) {
            (Lang::En, None) => format!(
                "expected connect() from a port in {tw} to fail with EADDRINUSE, but it succeeded"
            ),
            (Lang::En, Some(e)) => format!(
                "expected connect() from a port in {tw} to fail with EADDRINUSE, but it failed with: {e}"
            ),
            (Lang::Zh, None) => {
                format!("预期从处于 {tw} 的端口 connect() 会失败（EADDRINUSE），但它成功了")
            }
            (Lang::Zh, Some(e)) => format!(
                "预期从处于 {tw} 的端口 connect() 会失败（EADDRINUSE），但它的错误是：{e}"
            ),
        }
    })
}

/// delayed-ack: the ACK timing was not what the scenario shows.
pub fn ack_timing(quick_acks: usize, delayed_ms: f64, pair_ms: f64) -> Text {
    Text::by(|l| match l {
        Lang::En => format!(
            "expected at least 16 quick ACKs, an ACK delayed 40 ms and two full segments \
             acknowledged at once; got {quick_acks} quick ACKs, {delayed_ms} ms and {pair_ms} ms"
        ),
        Lang::Zh => format!(
            "预期至少 16 个快速确认、一个延迟 40 ms 的 ACK、两个满长报文段被立即确认；\
             实际是 {quick_acks} 个快速确认、{delayed_ms} ms 和 {pair_ms} ms"
        ),
    })
}

/// keepalive-dead-peer: too few probes, or none answered.
pub fn keepalive_probes(sent: usize, answered: usize) -> Text {
    Text::by(|l| match l {
        Lang::En => format!(
            "expected at least 4 keep-alive probes, some answered; got {sent}, {answered} answered"
        ),
        Lang::Zh => format!(
            "预期至少 4 个保活探测，且有的得到应答；实际发出 {sent} 个，{answered} 个得到应答"
        ),
    })
}

/// paws: the old duplicate was not rejected once, or the response was not
/// what the server sent.
pub fn paws_rejections(rejected: u64, read: &str) -> Text {
    Text::by(|l| {
        match l {
        Lang::En => format!(
            "expected 1 PAWS rejection and the real response; got {rejected} rejections and read {read}"
        ),
        Lang::Zh => format!("预期 1 次 PAWS 拒绝并读到真正的响应；实际拒绝 {rejected} 次，读到 {read}"),
    }
    })
}

/// slow-start: the rounds did not grow 10, 20, ...
pub fn slow_start_rounds(rounds: &str) -> Text {
    Text::by(|l| match l {
        Lang::En => format!(
            "expected rounds of 10, 20, ... segments; got {}",
            if rounds.is_empty() { "none" } else { rounds }
        ),
        Lang::Zh => format!(
            "预期每轮 10、20……个报文段；实际是 {}",
            if rounds.is_empty() { "没有" } else { rounds }
        ),
    })
}

/// fast-retransmit: no fast retransmit on the third duplicate ACK; what
/// the sender's recovery did instead.
pub fn no_fast_retransmit(events: &[synack_tcp::RecoveryEvent]) -> Text {
    Text::by(|l| {
        let did = events
            .iter()
            .map(|&e| words::recovery(l, e, None))
            .collect::<Vec<_>>()
            .join(match l {
                Lang::En => "; ",
                Lang::Zh => "；",
            });
        match (l, did.is_empty()) {
            (Lang::En, true) => {
                "no fast retransmit on the third duplicate ACK, and no other recovery".into()
            }
            (Lang::En, false) => {
                format!(
                    "no fast retransmit on the third duplicate ACK; the sender's recovery: {did}"
                )
            }
            (Lang::Zh, true) => "第三个重复 ACK 没有触发快速重传，也没有别的恢复".into(),
            (Lang::Zh, false) => {
                format!("第三个重复 ACK 没有触发快速重传；发送方的恢复过程：{did}")
            }
        }
    })
}

/// sack-recovery: what was resent is not what was lost (sequence numbers
/// as they are on the wire).
pub fn resent_not_lost(resent: &[u32], lost: &[u32]) -> Text {
    let list = |v: &[u32]| {
        v.iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (resent, lost) = (list(resent), list(lost));
    Text::by(|l| match l {
        Lang::En => format!(
            "expected only the lost segments (seq {lost}) to be resent; resent seq {}",
            if resent.is_empty() { "none" } else { &resent }
        ),
        Lang::Zh => format!(
            "预期只重传丢失的报文段（seq {lost}）；实际重传了 seq {}",
            if resent.is_empty() { "无" } else { &resent }
        ),
    })
}

/// default-mss-536: the client's SYN carried options it should not have.
pub fn syn_carried(options: &str) -> Text {
    Text::by(|l| match l {
        Lang::En => format!("expected the client's SYN to carry no options; it carried {options}"),
        Lang::Zh => format!("预期客户端的 SYN 不带任何选项；它带了 {options}"),
    })
}

/// default-mss-536: the server's data segments were not cut at 536 bytes.
pub fn not_cut_at_536(lens: &[usize]) -> Text {
    let lens = lens
        .iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    Text::by(|l| match l {
        Lang::En => format!(
            "expected the server's data segments to be cut at 536 bytes; their lengths were {lens}"
        ),
        Lang::Zh => format!("预期服务器的数据报文段按 536 字节切分；实际长度是 {lens}"),
    })
}

/// A connection that should have opened and did not.
pub fn not_established(s: Side, state: State) -> Text {
    Text::by(|l| {
        let who = words::side(l, s);
        let (now, est) = (st(l, state), st(l, State::Established));
        match l {
            Lang::En => format!("the {who}'s connection ended up in {now}, not {est}"),
            Lang::Zh => format!("{who}的连接最后处于 {now}，而不是 {est}"),
        }
    })
}
