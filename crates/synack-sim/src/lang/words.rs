//! The vocabulary every renderer shares: the ladder, the SVG picture, the
//! state machine, the HTML page, and the header and summary `synack demo`
//! prints around the ladder. One function per message, taking the values
//! it shows; each says it in every [`Lang`].
//!
//! The Chinese follows the seeds: a state keeps the RFC's name with the
//! seeds' term after it in ASCII brackets, `FIN-WAIT-1(终止等待1)`, as the
//! textbook they quote writes it; flags stay SYN, ACK, FIN, RST; a segment
//! is a 报文段, a sequence number a 序列号 (序号 for short), an
//! acknowledgement number a 确认号, retransmission 重传.

use super::{Lang, Text};
use crate::view::Counts;
use crate::world::Tap;
use std::borrow::Cow;
use std::net::SocketAddr;
use synack_device::{Fate, SendOutcome, Side};
use synack_tcp::{Cause, Duration, RecoveryEvent, State};
use synack_wire::TcpFlags;

/// The seeds' Chinese term for a state (建立连接's `ESTABLISHED` is 已建立).
pub fn gloss(s: State) -> &'static str {
    match s {
        State::Closed => "关闭",
        State::Listen => "监听",
        State::SynSent => "同步已发送",
        State::SynReceived => "同步已收到",
        State::Established => "已建立",
        State::FinWait1 => "终止等待1",
        State::FinWait2 => "终止等待2",
        State::CloseWait => "关闭等待",
        State::Closing => "同时关闭",
        State::LastAck => "最后确认",
        State::TimeWait => "时间等待",
    }
}

/// A state as the ladder names it: `ESTABLISHED`, `ESTABLISHED(已建立)`.
pub fn state(lang: Lang, s: State) -> Cow<'static, str> {
    match lang {
        Lang::En => Cow::Borrowed(s.name()),
        Lang::Zh => Cow::Owned(format!("{}({})", s.name(), gloss(s))),
    }
}

/// A run of states: `CLOSED → SYN-SENT → ESTABLISHED`.
pub fn states(lang: Lang, states: &[State]) -> String {
    states
        .iter()
        .map(|&s| state(lang, s))
        .collect::<Vec<_>>()
        .join(" → ")
}

/// A state change as the ladder draws it: `[CLOSED → SYN-SENT]`.
pub fn transition(lang: Lang, from: State, to: State) -> String {
    format!("[{} → {}]", state(lang, from), state(lang, to))
}

/// Why a state changed: the event of RFC 9293's Figure 5.
pub fn cause(lang: Lang, c: Cause) -> Cow<'static, str> {
    let zh = match c {
        // The application's calls read the same in every language.
        Cause::AppConnect
        | Cause::AppListen
        | Cause::AppClose
        | Cause::AppShutdown
        | Cause::AppAbort => c.describe(),
        Cause::RecvSyn => "收到 SYN",
        Cause::RecvSynAck => "收到 SYN,ACK",
        Cause::RecvAck => "收到 ACK",
        Cause::RecvFin => "收到 FIN",
        Cause::RecvFinAck => "收到 FIN,ACK",
        Cause::RecvRst => "收到 RST",
        Cause::TimeWaitExpired => "2MSL 超时",
        Cause::RetransmitLimit => "重传次数用尽",
        Cause::FinWait2Timeout => {
            return match lang {
                Lang::En => Cow::Borrowed(c.describe()),
                Lang::Zh => Cow::Owned(format!("{} 超时", state(lang, State::FinWait2))),
            }
        }
        Cause::PersistLimit => "零窗口探测无应答",
        Cause::KeepaliveLimit => "保活探测无应答",
        Cause::SetupTimeout => "连接建立超时",
        Cause::DataAfterClose => "close() 之后又收到数据",
        Cause::IcmpUnreachable => "ICMP 不可达",
        Cause::OrphanLimit => "孤儿连接过多",
        Cause::ListenerClosed => "监听套接字已关闭",
    };
    match lang {
        Lang::En => Cow::Borrowed(c.describe()),
        Lang::Zh => Cow::Borrowed(zh),
    }
}

/// A loss-recovery event of the sender; for a retransmission timeout,
/// `rto` is the RTO that expired.
pub fn recovery(lang: Lang, e: RecoveryEvent, rto: Option<Duration>) -> String {
    if let (RecoveryEvent::Timeout { backoff }, Some(rto)) = (e, rto) {
        let times = 1u64 << backoff.min(63);
        let rto = crate::explain::duration(rto);
        return match lang {
            Lang::En => format!("RTO {rto} expired, backoff ×{times}"),
            Lang::Zh => format!("重传超时（RTO {rto} 到期，退避 ×{times}）"),
        };
    }
    match lang {
        Lang::En => e.describe(),
        Lang::Zh => match e {
            RecoveryEvent::FastRetransmit { dupacks } => {
                format!("{dupacks} 个重复 ACK：快速重传，快速恢复")
            }
            RecoveryEvent::SackLoss => "SACK 显示出空洞：快速恢复".to_string(),
            RecoveryEvent::RackLoss => "RACK：按时间判定丢失，快速恢复".to_string(),
            RecoveryEvent::TailLossProbe => "尾部丢失探测（TLP）".to_string(),
            RecoveryEvent::TlpRecovered => "探测修复了一次丢失：cwnd 减小".to_string(),
            RecoveryEvent::Timeout { backoff } => {
                format!("重传超时（RTO 退避 ×{}）", 1u64 << backoff.min(63))
            }
            RecoveryEvent::Done => "恢复完成".to_string(),
        },
    }
}

/// A recovery event with the congestion state after it, as the ladder
/// flags it.
pub fn recovery_line(
    lang: Lang,
    e: RecoveryEvent,
    rto: Option<Duration>,
    cwnd: u32,
    ssthresh: u32,
) -> String {
    let ssthresh = if ssthresh == u32::MAX {
        "∞".to_string()
    } else {
        ssthresh.to_string()
    };
    let what = recovery(lang, e, rto);
    match lang {
        Lang::En => format!("⚑ {what} (cwnd {cwnd} ssthresh {ssthresh})"),
        Lang::Zh => format!("⚑ {what}：cwnd {cwnd}，ssthresh {ssthresh}"),
    }
}

/// `client` or `server`.
pub fn side(lang: Lang, side: Side) -> &'static str {
    match (lang, side) {
        (Lang::En, Side::A) => "client",
        (Lang::En, Side::B) => "server",
        (Lang::Zh, Side::A) => "客户端",
        (Lang::Zh, Side::B) => "服务器",
    }
}

/// A side and its address, over its lifeline: `client 10.77.0.1`.
pub fn host(lang: Lang, s: Side, addr: &str) -> String {
    format!("{} {addr}", side(lang, s))
}

/// The heading of the time column.
pub fn time_column(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "time",
        Lang::Zh => "时间",
    }
}

/// A segment that re-sends sequence space.
pub fn retransmission(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "retransmission",
        Lang::Zh => "重传",
    }
}

/// What the link did with a segment, in a word.
pub fn fate(lang: Lang, o: &SendOutcome) -> &'static str {
    match lang {
        Lang::En => crate::trace::fate_name(o),
        Lang::Zh => match o.fate {
            Fate::Lost => "丢失",
            Fate::QueueFull => "队列已满被丢弃",
            Fate::TooBig => "超过 MTU 被丢弃",
            Fate::Queued if o.corrupted => "损坏",
            Fate::Queued if o.duplicated => "重复",
            Fate::Queued if o.reordered => "延迟",
            Fate::Queued => "送达",
        },
    }
}

/// A corrupted segment's end.
pub fn bad_checksum(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "receiver drops it: bad checksum",
        Lang::Zh => "接收方丢弃：校验和错误",
    }
}

/// The notes under a segment's arrow, bracketed: `(retransmission, lost)`.
pub fn segment_notes(lang: Lang, notes: &[String]) -> String {
    match lang {
        Lang::En => format!("({})", notes.join(", ")),
        Lang::Zh => format!("（{}）", notes.join("，")),
    }
}

/// A duplicate ACK, numbered as its receiver counts it.
pub fn dup_ack(lang: Lang, n: u32) -> String {
    match lang {
        Lang::En => format!("duplicate ACK #{n}"),
        Lang::Zh => format!("第 {n} 个重复 ACK"),
    }
}

/// An explanation as the ladder draws it: in brackets.
pub fn explanation(lang: Lang, text: &str) -> String {
    match lang {
        Lang::En => format!("({text})"),
        Lang::Zh => format!("（{text}）"),
    }
}

/// The sender's congestion window and flight beside a data segment.
pub fn cwnd_in_flight(lang: Lang, cwnd: u32, in_flight: u32) -> String {
    match lang {
        Lang::En => format!("[cwnd {cwnd} in flight {in_flight}]"),
        Lang::Zh => format!("[cwnd {cwnd} 在途 {in_flight}]"),
    }
}

/// Where the plain middle of a long transfer was left out.
pub fn more_segments(lang: Lang, n: usize) -> String {
    match lang {
        Lang::En => format!("⋮ {n} more segments (--full draws them all)"),
        Lang::Zh => format!("⋮ 省略 {n} 个报文段（--full 全部画出）"),
    }
}

/// What the diagram calls a packet a scenario injected by default.
pub fn old_duplicate() -> Text {
    Text::fixed("old duplicate", "旧的重复报文段")
}

/// Why a segment is worth a second look, in the picture: it re-sends.
pub fn why_retransmission(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "a retransmission: the same sequence numbers again",
        Lang::Zh => "重传：再次发送同样的序号",
    }
}

/// Why a segment is worth a second look, in the picture: the link's doing.
pub fn why_on_the_wire(lang: Lang, fate: &str) -> String {
    match lang {
        Lang::En => format!("on the wire: {fate}"),
        Lang::Zh => format!("线路上：{fate}"),
    }
}

/// A segment in plain words: what its flags ask for, and what befell it.
pub fn explain(lang: Lang, from: Side, flags: TcpFlags, len: usize, why: &[String]) -> String {
    let mut what = Vec::new();
    let zh = lang == Lang::Zh;
    if flags.rst() {
        what.push(if zh {
            "复位连接（RST）：不再应答，也不再有数据".to_string()
        } else {
            "resets the connection (RST): no reply, no further data".to_string()
        });
    } else if flags.syn() && flags.ack() {
        what.push(if zh {
            "应答 SYN（SYN-ACK）：带上自己的初始序列号，确认号是客户端的初始序列号加一".to_string()
        } else {
            "answers the SYN (SYN-ACK): its own initial sequence number, and the client's plus one"
                .to_string()
        });
    } else if flags.syn() {
        what.push(if zh {
            "请求建立连接（SYN）：带上自己的初始序列号和选项".to_string()
        } else {
            "asks to open a connection (SYN): its initial sequence number and options".to_string()
        });
    }
    if len > 0 {
        what.push(if zh {
            format!("发送 {len} 字节数据")
        } else {
            format!("sends {len} bytes of data")
        });
    }
    if flags.fin() {
        what.push(if zh {
            "没有更多数据要发送（FIN），FIN 占用一个序号".to_string()
        } else {
            "has no more to send (FIN), which takes one sequence number".to_string()
        });
    }
    if what.is_empty() && flags.ack() {
        what.push(if zh {
            "确认已收到的数据（ACK），并通告自己的窗口".to_string()
        } else {
            "acknowledges what it has received (ACK) and offers its window".to_string()
        });
    }
    let who = match (lang, from) {
        (Lang::En, Side::A) => "the client",
        (Lang::En, Side::B) => "the server",
        (Lang::Zh, s) => side(Lang::Zh, s),
    };
    let mut s = match lang {
        Lang::En => format!("{who} {}", what.join("; ")),
        Lang::Zh => format!("{who}{}", what.join("；")),
    };
    for n in why {
        s.push_str(" — ");
        s.push_str(n);
    }
    s
}

/// The state machine's mark for a transition the run took that RFC
/// 9293's figure has no arrow for.
pub fn not_in_figure(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "(not in the figure)",
        Lang::Zh => "（图中没有）",
    }
}

/// Who took a transition of the state machine, for its hover title.
pub fn taken_by(lang: Lang, client: bool, server: bool) -> &'static str {
    match (lang, client, server) {
        (_, false, false) => "",
        (Lang::En, true, true) => " (client and server)",
        (Lang::En, true, false) => " (client)",
        (Lang::En, false, true) => " (server)",
        (Lang::Zh, true, true) => "（客户端和服务器）",
        (Lang::Zh, true, false) => "（客户端）",
        (Lang::Zh, false, true) => "（服务器）",
    }
}

/// The state machine's legend: client, server, both, and the dashes.
pub fn figure_legend(lang: Lang) -> [&'static str; 4] {
    match lang {
        Lang::En => [
            "client",
            "server",
            "both",
            "dashed: not in RFC 9293's figure",
        ],
        Lang::Zh => ["客户端", "服务器", "两端都有", "虚线：RFC 9293 的图中没有"],
    }
}

/// The words of the HTML page around the picture (plain text, nothing to
/// escape).
pub struct Page {
    /// The `lang` attribute of the page.
    pub html_lang: &'static str,
    pub previous: &'static str,
    pub next: &'static str,
    pub hint: &'static str,
    pub summary: &'static str,
    pub machine: &'static str,
    pub machine_about: &'static str,
    pub steps: &'static str,
    /// The heading of the transfer plots, what they show, and the line for
    /// a run without data.
    pub transfers: &'static str,
    pub plots_about: &'static str,
    pub no_plots: &'static str,
}

pub fn page(lang: Lang) -> Page {
    match lang {
        Lang::En => Page {
            html_lang: "en",
            previous: "◀ previous",
            next: "next ▶",
            hint: "Step through the exchange with the buttons or the ← → keys.",
            summary: "Summary",
            machine: "The state machine",
            machine_about: "RFC 9293's eleven states; the transitions this run took are coloured.",
            steps: "Each segment",
            transfers: "Transfers",
            no_plots: "No data was sent in this run, so there is nothing to plot.",
            plots_about: "For each direction that carried data: its sequence numbers over time, \
                          as tcptrace draws them, and under it the sender's congestion window \
                          (for a capture, which cannot show it, the bytes in flight estimated \
                          from the capture). Both share one time axis.",
        },
        Lang::Zh => Page {
            html_lang: "zh-CN",
            previous: "◀ 上一步",
            next: "下一步 ▶",
            hint: "用按钮或 ← → 键逐个报文段查看这次交互。",
            summary: "小结",
            machine: "状态机",
            machine_about: "RFC 9293 的十一个状态；这次运行经过的状态转换以颜色标出。",
            steps: "逐个报文段",
            transfers: "数据传输",
            no_plots: "这次运行没有发送数据，所以没有可画的图。",
            plots_about: "每个传送了数据的方向各有两幅图：上面是序列号随时间的变化（tcptrace 的画法），\
                          下面是发送方的拥塞窗口（抓包文件无法给出拥塞窗口，改画从抓包估算的在途字节数）。\
                          两幅图共用一条时间轴；图中的标注为英文。",
        },
    }
}

/// The demo's line of settings under its title.
pub fn demo_settings(
    lang: Lang,
    seed: u64,
    delay_ms: u128,
    loss_percent: f64,
    msl_s: u64,
) -> String {
    match lang {
        Lang::En => format!(
            "seed {seed}, one-way delay {delay_ms} ms, loss {loss_percent}%, MSL {msl_s} s (TIME-WAIT lasts 2×MSL)"
        ),
        Lang::Zh => format!(
            "种子 {seed}，单向时延 {delay_ms} ms，丢包 {loss_percent}%，MSL {msl_s} s（{} 为 2×MSL）",
            state(lang, State::TimeWait)
        ),
    }
}

/// Under the settings, when the MSL is longer than the demos' usual 1 s.
pub fn msl_longest_rto(lang: Lang) -> String {
    match lang {
        Lang::En => format!(
            "MSL is the largest RTO this run can reach: a resent FIN still finds {}",
            state(lang, State::TimeWait)
        ),
        Lang::Zh => format!(
            "MSL 取本次运行可能达到的最大 RTO：重传的 FIN 到达时，{} 仍在",
            state(lang, State::TimeWait)
        ),
    }
}

/// How to read the numbers on the arrows.
pub fn demo_numbers(lang: Lang, absolute: bool) -> &'static str {
    match (lang, absolute) {
        (Lang::En, true) => "seq/ack are raw sequence numbers;\nwin is the receive window in bytes",
        (Lang::En, false) => {
            "seq/ack count from each side's initial sequence number (--absolute: raw);\n\
             win is the receive window in bytes"
        }
        (Lang::Zh, true) => "seq/ack 是报文段里原始的序列号和确认号；\nwin 是接收窗口，单位字节（已按窗口扩大因子换算）",
        (Lang::Zh, false) => {
            "seq/ack 从各方的初始序列号（ISN）起算（--absolute：原始序号）；\n\
             win 是接收窗口，单位字节（已按窗口扩大因子换算）"
        }
    }
}

/// How to read the notes beside the lifelines.
pub fn demo_legend(lang: Lang) -> &'static str {
    match lang {
        Lang::En => {
            "» «: what the applications do; ~ ~: what the network does;
(…): why TCP does what it does"
        }
        Lang::Zh => "» «：应用做的事；~ ~：网络上发生的事；（…）：TCP 为什么这样做",
    }
}

/// The heading over the summary.
pub fn summary_heading(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "Summary",
        Lang::Zh => "小结",
    }
}

/// One host's segment counts, on two lines, under the summary.
pub fn host_counts(
    lang: Lang,
    s: Side,
    sent: u64,
    lost: u64,
    corrupted: u64,
    received: u64,
    bad_checksums: u64,
) -> String {
    let name = super::pad_right(side(lang, s), 7);
    match lang {
        Lang::En => format!(
            "  {name} sent {sent} segment{} ({lost} lost, {corrupted} corrupted on the link);\n          received {received}, dropped {bad_checksums} with bad checksums",
            if sent == 1 { "" } else { "s" },
        ),
        Lang::Zh => format!(
            "  {name} 发送 {sent} 个报文段（链路上丢失 {lost} 个，损坏 {corrupted} 个）；\n          接收 {received} 个，因校验和错误丢弃 {bad_checksums} 个"
        ),
    }
}

/// Where the capture went.
pub fn pcap_written(lang: Lang, path: &str, tap: Tap) -> String {
    match lang {
        Lang::En => {
            let (view, holding) = match tap {
                Tap::Client => ("the client's view", HOST_VIEW),
                Tap::Server => ("the server's view", HOST_VIEW),
                Tap::Link => (
                    "the link's view",
                    "every packet as it was put on the wire, when it was sent",
                ),
            };
            format!(
                "  pcap written to {path}, {view} (--pcap-at {tap}): {holding}; open with: tshark -r {path}"
            )
        }
        Lang::Zh => {
            let (view, holding) = match tap {
                Tap::Client => ("客户端的视角", HOST_VIEW_ZH),
                Tap::Server => ("服务器的视角", HOST_VIEW_ZH),
                Tap::Link => ("链路的视角", "放上线路的每个分组，按发送时刻记录"),
            };
            format!("  pcap 已写入 {path}，{view}（--pcap-at {tap}）：{holding}；用 tshark -r {path} 打开")
        }
    }
}

const HOST_VIEW: &str = "what it sent, when it left, and what reached it, when it arrived";
const HOST_VIEW_ZH: &str = "它发出的分组按离开时刻、到达它的分组按到达时刻记录";

/// What to try when a scenario could not finish under the loss given.
pub fn lower_loss_hint(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "  (a lower --loss, or another --seed, lets it finish)",
        Lang::Zh => "  （调低 --loss，或换一个 --seed，就能跑完）",
    }
}

/// `--netstat`: the heading of a socket table the scenario took.
pub fn snapshot_heading(lang: Lang, s: Side, at: &str, label: &str, addr: &str) -> String {
    match lang {
        Lang::En => format!("{} at {at}: {label} ({addr})", side(lang, s)),
        Lang::Zh => format!("{} 在 {at}：{label}（{addr}）", side(lang, s)),
    }
}

/// `--netstat`: the heading of a host's table at the end.
pub fn end_heading(lang: Lang, s: Side, addr: &str, at: &str) -> String {
    match lang {
        Lang::En => format!("{} {addr} at the end, {at}", side(lang, s)),
        Lang::Zh => format!("{} {addr} 结束时，{at}", side(lang, s)),
    }
}

/// `--netstat`: a host with no sockets left.
pub fn no_sockets(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "(no sockets)",
        Lang::Zh => "（没有套接字）",
    }
}

/// `--netstat`: the heading of the counters.
pub fn counters_heading(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "counters (nstat):",
        Lang::Zh => "计数器（nstat）：",
    }
}

// What `explain` adds to a trace: a value on an arrow the first time it
// needs a word, and the reason for an answer where it is not obvious.

/// The first window a SYN's window scale option changed.
pub fn explain_scaled_window(bytes: u32, field: u16, shift: u8, syn: Option<u16>) -> Text {
    let (syn_en, syn_zh) = match syn {
        Some(w) => (
            format!(", hence win={w} in it"),
            format!("，所以 SYN 里是 win={w}"),
        ),
        None => (String::new(), String::new()),
    };
    Text::new(
        format!(
            "win={bytes} = {field} × 2^{shift}: both SYNs carried window scale, so the windows \
             after them are scaled (ws {shift}); a SYN's own window never is (RFC 7323 §2.2){syn_en}"
        ),
        format!(
            "win={bytes} = {field} × 2^{shift}：双方的 SYN 都带了窗口扩大选项，此后的窗口都按窗口扩大因子\
             换算（ws {shift}）；SYN 自己的窗口从不扩大（RFC 7323 §2.2）{syn_zh}"
        ),
    )
}

/// The first ACK of a SYN: a SYN takes one sequence number.
pub fn explain_syn_takes_one(peer: Side, ack: &str, syn_seq: &str) -> Text {
    Text::new(
        format!(
            "ack={ack}: a SYN consumes one sequence number; the {}'s SYN was seq={syn_seq}, \
             so the next one expected is {ack}",
            side(Lang::En, peer)
        ),
        format!(
            "ack={ack}：SYN 占用一个序号；{}的 SYN 是 seq={syn_seq}，所以期望收到的下一个序号是 {ack}",
            side(Lang::Zh, peer)
        ),
    )
}

/// The first SYN (or SYN,ACK) sent again: its RTO expired.
pub fn explain_syn_rto(flags: &str, rto: Duration) -> Text {
    let rto = crate::explain::duration(rto);
    Text::new(
        format!(
            "RTO {rto} expired, backoff ×2: no answer, so the {flags} goes again, and each wait \
             doubles (RFC 6298 §5.5)"
        ),
        format!("RTO {rto} 到期，退避 ×2：没有应答，于是重传 {flags}，每次等待的时间翻倍（RFC 6298 §5.5）"),
    )
}

/// A SYN that opens a 4-tuple again, with an ISN of its own.
pub fn explain_new_isn(isn: u32, old: u32) -> Text {
    Text::new(
        format!(
            "new ISN {isn}: a new connection on the same 4-tuple picks its own initial sequence \
             number (the last one's was {old}, RFC 9293 §3.4.1), and seq/ack count from it again"
        ),
        format!(
            "新的 ISN {isn}：同一个四元组上的新连接选了自己的初始序列号（上一个连接的是 {old}，\
             RFC 9293 §3.4.1），seq/ack 重新从它起算"
        ),
    )
}

/// Why a host answers a SYN (or a bare FIN) with RST,ACK.
pub fn explain_no_listener(port: u16) -> Text {
    Text::new(
        format!("no listener on :{port} → RST"),
        format!("端口 :{port} 上没有监听 → 回 RST"),
    )
}

/// Why a connection in SYN-SENT resets a SYN,ACK.
pub fn explain_bogus_syn_ack(acked: &str, syn_seq: &str, expected: &str) -> Text {
    Text::new(
        format!(
            "the SYN,ACK acknowledges {acked}, a sequence number this connection never sent (its \
             SYN was seq={syn_seq}, so it expects ack={expected}): it answers an old SYN, so RST \
             (RFC 9293 §3.5, Figure 8)"
        ),
        format!(
            "这个 SYN,ACK 确认的是 {acked}，本连接从没发过这个序号（它的 SYN 是 seq={syn_seq}，\
             应确认 {expected}）：它应答的是一个旧 SYN，所以回 RST（RFC 9293 §3.5，图 8）"
        ),
    )
}

/// A half-open connection that gave up is not its listener.
pub fn explain_half_open_gave_up(remote: SocketAddr) -> Text {
    Text::new(
        format!("the half-open connection from {remote} gave up; the listener stays in LISTEN"),
        format!(
            "来自 {remote} 的半连接放弃了；监听套接字仍处于 {}",
            state(Lang::Zh, State::Listen)
        ),
    )
}

// The capture view (`synack view`): what it says of a capture file.

/// Why both sides start in the states they start in, when the capture
/// missed the opening.
pub fn capture_starts_after_syn() -> Text {
    Text::new(
        "the capture starts after the SYN: SYN-SENT and SYN-RECEIVED assumed",
        format!(
            "抓包从 SYN 之后才开始：假定为 {} 和 {}",
            state(Lang::Zh, State::SynSent),
            state(Lang::Zh, State::SynReceived)
        ),
    )
}

pub fn capture_starts_mid_connection() -> Text {
    Text::new(
        "the capture starts mid-connection: ESTABLISHED assumed",
        format!(
            "抓包从连接中途开始：假定为 {}",
            state(Lang::Zh, State::Established)
        ),
    )
}

/// The note on each lifeline of a capture: its states are inferred.
pub fn states_inferred(how: Option<&Text>) -> Text {
    Text::by(|l| {
        let mut text = match l {
            Lang::En => {
                "states inferred from the segments: the capture sees one point, so the arrows \
                 are flat"
                    .to_string()
            }
            Lang::Zh => "状态是从报文段推断出来的：只在一处抓包，所以箭头是平的".to_string(),
        };
        if let Some(how) = how {
            text.push_str(match l {
                Lang::En => "; ",
                Lang::Zh => "；",
            });
            text.push_str(how.get(l));
        }
        text
    })
}

/// How the capture view told the client.
pub fn client_sent_first_syn() -> Text {
    Text::fixed("sent the first SYN", "它发出了第一个 SYN")
}

pub fn client_received_first_syn_ack() -> Text {
    Text::fixed("received the first SYN-ACK", "它收到了第一个 SYN-ACK")
}

pub fn client_sent_first_segment() -> Text {
    Text::fixed(
        "sent the first segment; the capture has no SYN",
        "它发出了第一个报文段；抓包里没有 SYN",
    )
}

/// One side's inferred states, for the summary.
pub fn inferred_states(s: Side, addr: SocketAddr, run: &[State]) -> Text {
    Text::by(|l| match l {
        Lang::En => format!("{} {addr}: {} (inferred)", side(l, s), states(l, run)),
        Lang::Zh => format!("{} {addr}：{}（推断）", side(l, s), states(l, run)),
    })
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// What else the capture held, for the summary.
pub fn capture_counts(c: &Counts, other_connections: usize) -> Text {
    let mut en = format!("{} segment{} of this connection", c.shown, plural(c.shown));
    let mut zh = format!("这个连接有 {} 个报文段", c.shown);
    if other_connections > 0 {
        en.push_str(&format!(
            "; {} in {other_connections} other connection{}",
            c.other_connections,
            plural(other_connections)
        ));
        zh.push_str(&format!(
            "；另外 {other_connections} 个连接有 {} 个",
            c.other_connections
        ));
    }
    if c.skipped() > 0 {
        en.push_str(&format!(
            "; {} other packet{} skipped ({} not IP, {} not TCP, {} unreadable)",
            c.skipped(),
            plural(c.skipped()),
            c.not_ip,
            c.not_tcp,
            c.unreadable
        ));
        zh.push_str(&format!(
            "；跳过 {} 个其他分组（{} 个不是 IP，{} 个不是 TCP，{} 个无法读取）",
            c.skipped(),
            c.not_ip,
            c.not_tcp,
            c.unreadable
        ));
    }
    Text::new(en, zh)
}

/// Which connection of the capture is drawn.
pub fn view_connection(lang: Lang, n: usize, of: usize, client: &str, server: &str) -> String {
    match lang {
        Lang::En => format!("connection {n} of {of}: {client} ↔ {server}"),
        Lang::Zh => format!("第 {n} 个连接（共 {of} 个）：{client} ↔ {server}"),
    }
}

/// What the capture file held.
pub fn view_packets(lang: Lang, format: &str, links: &str, c: &Counts) -> String {
    match lang {
        Lang::En => format!(
            "{format}, link type {links}; {} packet{}: {} shown, {} in other connections, {} skipped \
             ({} not IP, {} not TCP, {} unreadable)",
            c.packets,
            plural(c.packets),
            c.shown,
            c.other_connections,
            c.skipped(),
            c.not_ip,
            c.not_tcp,
            c.unreadable
        ),
        Lang::Zh => format!(
            "{format}，链路类型 {links}；{} 个分组：画出 {} 个，其他连接 {} 个，跳过 {} 个\
             （{} 个不是 IP，{} 个不是 TCP，{} 个无法读取）",
            c.packets,
            c.shown,
            c.other_connections,
            c.skipped(),
            c.not_ip,
            c.not_tcp,
            c.unreadable
        ),
    }
}

/// Which end is the client, and where the times start.
pub fn view_client(lang: Lang, client: &str, reason: &str, offset: &str) -> String {
    match lang {
        Lang::En => format!(
            "client {client} ({reason}); times count from the connection's first packet, {offset} into the capture"
        ),
        Lang::Zh => format!(
            "客户端 {client}（{reason}）；时间从这个连接的第一个分组起算，它在抓包开始后 {offset}"
        ),
    }
}

/// How to read a capture's ladder.
pub fn view_reading(lang: Lang, absolute: bool) -> &'static str {
    match (lang, absolute) {
        (Lang::En, true) => {
            "A capture sees one point of the path: each segment is drawn at the moment it was captured.\n\
             States are inferred from the segments, not read from either host.\n\
             seq/ack are raw sequence numbers; win is the receive window in bytes"
        }
        (Lang::En, false) => {
            "A capture sees one point of the path: each segment is drawn at the moment it was captured.\n\
             States are inferred from the segments, not read from either host.\n\
             seq/ack count from each side's initial sequence number (--absolute shows raw numbers); \
             win is the receive window in bytes"
        }
        (Lang::Zh, true) => {
            "抓包只看到路径上的一点：每个报文段都画在它被抓到的时刻。\n\
             状态是从报文段推断出来的，不是从哪一端的主机读到的。\n\
             seq/ack 是原始的序列号和确认号；win 是接收窗口，单位字节"
        }
        (Lang::Zh, false) => {
            "抓包只看到路径上的一点：每个报文段都画在它被抓到的时刻。\n\
             状态是从报文段推断出来的，不是从哪一端的主机读到的。\n\
             seq/ack 从各方的初始序列号（ISN）起算（--absolute 显示原始序号）；\n\
             win 是接收窗口，单位字节"
        }
    }
}

/// What a segment's urgent pointer says (RFC 6093 §4: it points just past
/// the urgent data); `last` is the last urgent byte, numbered as seq is.
pub fn urgent(lang: Lang, last: &str) -> String {
    match lang {
        Lang::En => format!("URG: the urgent data ends at byte {last}; urg points just past it"),
        Lang::Zh => format!("URG：紧急数据到第 {last} 字节为止；urg 指向它的下一个字节"),
    }
}

/// The same, in a picture's explanation of the segment.
pub fn urgent_why(lang: Lang, urgent: &str) -> String {
    match lang {
        Lang::En => format!("{urgent} (RFC 6093), and the data after that byte is ordinary data"),
        Lang::Zh => format!("{urgent}（RFC 6093），那个字节之后的数据是普通数据"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_keeps_its_rfc_name_beside_the_seeds_term() {
        for s in State::ALL {
            assert_eq!(state(Lang::En, s), s.name());
            let zh = state(Lang::Zh, s);
            assert!(zh.starts_with(s.name()) && zh.ends_with(')'), "{zh}");
            assert!(super::super::width(gloss(s)) >= 4);
        }
        assert_eq!(state(Lang::Zh, State::Established), "ESTABLISHED(已建立)");
    }

    #[test]
    fn english_is_what_the_engine_says() {
        for e in [
            RecoveryEvent::FastRetransmit { dupacks: 3 },
            RecoveryEvent::Timeout { backoff: 2 },
            RecoveryEvent::Done,
        ] {
            assert_eq!(recovery(Lang::En, e, None), e.describe());
        }
        assert_eq!(cause(Lang::En, Cause::RecvFin), "rcv FIN");
        assert_eq!(cause(Lang::Zh, Cause::RecvFin), "收到 FIN");
        assert_eq!(
            cause(Lang::Zh, Cause::FinWait2Timeout),
            "FIN-WAIT-2(终止等待2) 超时"
        );
        assert_eq!(
            recovery(Lang::Zh, RecoveryEvent::Timeout { backoff: 2 }, None),
            "重传超时（RTO 退避 ×4）"
        );
    }

    #[test]
    fn a_timeout_says_which_rto_expired_and_the_backoff() {
        let e = RecoveryEvent::Timeout { backoff: 1 };
        let rto = Some(Duration::from_millis(200));
        assert_eq!(recovery(Lang::En, e, rto), "RTO 200 ms expired, backoff ×2");
        assert_eq!(
            recovery(Lang::Zh, e, rto),
            "重传超时（RTO 200 ms 到期，退避 ×2）"
        );
        let e = RecoveryEvent::Timeout { backoff: 3 };
        let rto = Some(Duration::from_millis(1600));
        assert_eq!(recovery(Lang::En, e, rto), "RTO 1.6 s expired, backoff ×8");
    }

    #[test]
    fn segments_are_explained_in_plain_words() {
        let e = explain(Lang::En, Side::A, TcpFlags::SYN, 0, &[]);
        assert!(e.starts_with("the client asks to open a connection"), "{e}");
        let e = explain(
            Lang::En,
            Side::B,
            TcpFlags::ACK | TcpFlags::FIN,
            0,
            &["on the wire: lost".into()],
        );
        assert!(
            e.contains("no more to send (FIN)") && e.ends_with("lost"),
            "{e}"
        );
        let e = explain(Lang::Zh, Side::B, TcpFlags::ACK | TcpFlags::FIN, 0, &[]);
        assert_eq!(e, "服务器没有更多数据要发送（FIN），FIN 占用一个序号");
    }
}
