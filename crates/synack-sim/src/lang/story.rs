//! What the scenarios say: the notes beside the lifelines (what an
//! application did, what the network was made to do) and the lines of each
//! summary. One function per message, taking the values it shows and
//! returning it in every language as a [`Text`]; the trace keeps it so,
//! and the ladder picks the reader's language when it draws.
//!
//! Calls (`close()`, `connect(10.77.0.2:80)`) and data read the same in
//! every language: [`call`]. States inside a Chinese sentence are named as
//! the ladder names them, RFC name and the seeds' term: `TIME-WAIT(时间等待)`.

use super::{pad_right, words, Lang, Text};
use crate::trace::{Chain, ChainOwner};
use std::borrow::Cow;
use std::fmt::Display;
use std::net::SocketAddr;
use synack_device::Side;
use synack_tcp::{Instant, State, Transition};

fn t(en: impl Into<Cow<'static, str>>, zh: impl Into<Cow<'static, str>>) -> Text {
    Text::new(en, zh)
}

/// A state inside a Chinese sentence.
fn zh(s: State) -> Cow<'static, str> {
    words::state(Lang::Zh, s)
}

/// An application call, an address, bytes of data: the same in every
/// language.
pub fn call(text: impl Into<Cow<'static, str>>) -> Text {
    Text::same(text)
}

// What the applications do and see (scenarios/mod.rs).

pub fn write_bytes(n: usize) -> Text {
    t(format!("write {n} bytes"), format!("写入 {n} 字节"))
}

pub fn read_bytes(n: usize, data: &str) -> Text {
    t(
        format!("read {n} bytes: {data}"),
        format!("读取 {n} 字节：{data}"),
    )
}

pub fn read_eof() -> Text {
    Text::fixed("read → EOF (peer sent FIN)", "read → EOF（对方发来了 FIN）")
}

/// That a side had no connection, for a summary.
pub fn no_connection(side: Side) -> Text {
    Text::by(|l| {
        let text = match l {
            Lang::En => "(no connection)",
            Lang::Zh => "（没有连接）",
        };
        format!("{} {text}", pad_right(words::side(l, side), 7))
    })
}

/// One run of states in a summary: a listener's, or one connection's.
/// `labelled`: say whose (a side with one connection and no listener
/// needs no label).
pub fn chain(c: &Chain, labelled: bool) -> Text {
    Text::by(|l| {
        let name = pad_right(words::side(l, c.side), 7);
        let run = words::states(l, &c.states);
        if !labelled {
            return format!("{name} {run}");
        }
        let whose = match (l, c.owner) {
            (Lang::En, ChainOwner::Listener(a)) => format!("listener on :{}", a.port()),
            (Lang::En, ChainOwner::Connection { remote, accepted }) => {
                format!(
                    "connection {} {remote}",
                    if accepted { "from" } else { "to" }
                )
            }
            (Lang::En, ChainOwner::HalfOpen(remote)) => {
                format!("half-open connection from {remote}")
            }
            (Lang::Zh, ChainOwner::Listener(a)) => format!("监听 :{} 的套接字", a.port()),
            (Lang::Zh, ChainOwner::Connection { remote, accepted }) => {
                format!("{} {remote} 的连接", if accepted { "来自" } else { "到" })
            }
            (Lang::Zh, ChainOwner::HalfOpen(remote)) => format!("来自 {remote} 的半连接"),
        };
        match l {
            Lang::En => format!("{name} {whose}: {run}"),
            Lang::Zh => format!("{name} {whose}：{run}"),
        }
    })
}

/// For a scenario that did not complete: what the link did to one side's
/// packets, and where its connection ended and why (a half-open
/// connection's end is not its listener's).
pub fn what_happened(
    side: Side,
    lost: u64,
    sent: u64,
    retransmitted: u64,
    last: Option<(Transition, Option<SocketAddr>)>,
) -> Text {
    Text::by(|l| {
        let name = words::side(l, side);
        let mut line = match l {
            Lang::En => format!(
                "{name}: {lost} of the {sent} packets it sent were lost; it retransmitted {retransmitted} segment{}",
                if retransmitted == 1 { "" } else { "s" }
            ),
            Lang::Zh => format!(
                "{name}：它发出的 {sent} 个分组中丢失了 {lost} 个；它重传了 {retransmitted} 个报文段"
            ),
        };
        match (l, last) {
            (_, None) => {}
            (Lang::En, Some((t, Some(remote)))) if t.to == State::Closed => {
                line.push_str(&format!(
                    "; its half-open connection from {remote} gave up ({} → CLOSED: {}); \
                     the listener stays in LISTEN",
                    t.from, t.cause
                ));
            }
            (Lang::En, Some((t, None))) if t.to == State::Closed => {
                line.push_str(&format!(
                    "; its connection ended {} → CLOSED: {}",
                    t.from, t.cause
                ));
            }
            (Lang::En, Some((t, _))) => {
                line.push_str(&format!(
                    "; its last state was {} ({} at {})",
                    t.to, t.cause, t.at
                ));
            }
            (Lang::Zh, Some((t, Some(remote)))) if t.to == State::Closed => {
                line.push_str(&format!(
                    "；来自 {remote} 的半连接放弃了（{} → {}：{}）；监听套接字仍处于 {}",
                    zh(t.from),
                    zh(State::Closed),
                    words::cause(l, t.cause),
                    zh(State::Listen)
                ));
            }
            (Lang::Zh, Some((t, None))) if t.to == State::Closed => {
                line.push_str(&format!(
                    "；它的连接以 {} → {} 结束：{}",
                    zh(t.from),
                    zh(State::Closed),
                    words::cause(l, t.cause)
                ));
            }
            (Lang::Zh, Some((t, _))) => {
                line.push_str(&format!(
                    "；它最后的状态是 {}（{} 时 {}）",
                    zh(t.to),
                    t.at,
                    words::cause(l, t.cause)
                ));
            }
        }
        line
    })
}

// Opening and closing (scenarios/basics.rs).

pub fn connect_from(to: impl Display, port: u16) -> Text {
    t(
        format!("connect({to}) from :{port}"),
        format!("从 :{port} connect({to})"),
    )
}

pub fn still_sending_in(state: State) -> Text {
    t(
        format!("still sending in {state}; setsockopt(TCP_NODELAY)"),
        format!("在 {} 下仍在发送；setsockopt(TCP_NODELAY)", zh(state)),
    )
}

pub fn read_after_shutdown(n: usize) -> Text {
    t(
        format!("client read {n} bytes after shutdown(write)"),
        format!("客户端在 shutdown(write) 之后又读到 {n} 字节"),
    )
}

pub fn fin_again_in_time_wait(at: Instant) -> Text {
    t(
        format!("FIN again in TIME-WAIT: re-ACK, 2MSL timer restarted at {at}"),
        format!(
            "在 {} 中又收到 FIN：再次 ACK，2MSL 计时器在 {at} 重新开始",
            zh(State::TimeWait)
        ),
    )
}

pub fn fin_sent_times(fins: usize) -> Text {
    t(
        format!("server sent its FIN {fins} times; the client re-ACKed it from TIME-WAIT"),
        format!(
            "服务器的 FIN 发了 {fins} 次；客户端在 {} 中再次确认了它",
            zh(State::TimeWait)
        ),
    )
}

pub fn connect_refused() -> Text {
    Text::fixed(
        "connect() failed: connection refused",
        "connect() 失败：连接被拒绝",
    )
}

pub fn refused_by_rst() -> Text {
    Text::fixed(
        "connect() → connection refused (the peer answered RST,ACK)",
        "connect() → 连接被拒绝（该端口没有进程监听，对方回了 RST,ACK）",
    )
}

pub fn black_hole() -> Text {
    Text::fixed(
        "everything the client sends is lost: a black hole",
        "客户端发出的一切都丢了：一个黑洞",
    )
}

pub fn connect_timed_out() -> Text {
    Text::fixed(
        "connect() failed: connection timed out",
        "connect() 失败：连接超时",
    )
}

pub fn syns_sent(n: usize, times: &str, gave_up: Instant) -> Text {
    t(
        format!("{n} SYNs sent at {times}; gave up at {gave_up}"),
        format!("在 {times} 共发出 {n} 个 SYN（每次重传间隔翻倍）；{gave_up} 放弃"),
    )
}

pub fn syn_held_back() -> Text {
    Text::fixed("this SYN is held back 30 ms", "这个 SYN 被耽搁了 30 ms")
}

pub fn old_syn_in_flight() -> Text {
    Text::fixed(
        "an old duplicate SYN, seq = ISN-10, is still in flight",
        "一个已失效的旧 SYN（seq = ISN-10）还在网络中",
    )
}

pub fn rst_for_bogus_syn_ack(rsts: usize) -> Text {
    t(
        format!("client sent {rsts} RST for the bogus SYN,ACK; the server went back to LISTEN"),
        format!(
            "客户端为这个不该有的 SYN,ACK 发了 {rsts} 个 RST；服务器回到 {}",
            zh(State::Listen)
        ),
    )
}

pub fn write_then_close(n: usize) -> Text {
    t(
        format!("write {n} bytes, then close()"),
        format!("写入 {n} 字节，然后 close()"),
    )
}

pub fn transfer(bytes: usize, secs: f64, segments: u64, retransmitted: u64, lost: u64) -> Text {
    t(
        format!(
            "{bytes} bytes in {secs:.3} s of virtual time; {segments} segments sent, {retransmitted} retransmitted, {lost} lost on the link"
        ),
        format!(
            "{bytes} 字节，用了 {secs:.3} s 虚拟时间；发出 {segments} 个报文段，重传 {retransmitted} 个，链路上丢失 {lost} 个"
        ),
    )
}

pub fn hash_matches(hex: &str) -> Text {
    t(
        format!("SHA-256 of what arrived matches what was sent: {hex}…"),
        format!("收到的数据与发出的 SHA-256 一致：{hex}…"),
    )
}

// More of the seeds' drawings (scenarios/seeds.rs).

pub fn ack_rides_fin() -> Text {
    Text::fixed(
        "the ACK owed for the client's FIN has not left yet: it rides this FIN",
        "对客户端 FIN 应回的 ACK 还没发出：它搭上了这个 FIN",
    )
}

pub fn straight_to_time_wait() -> Text {
    t(
        "this FIN,ACK also acknowledges our FIN: straight to TIME-WAIT, no FIN-WAIT-2",
        format!(
            "这个 FIN,ACK 同时确认了我方的 FIN：直接进入 {}，不经过 {}",
            zh(State::TimeWait),
            zh(State::FinWait2)
        ),
    )
}

pub fn close_in_three() -> Text {
    Text::fixed(
        "the close took three segments, not four: FIN, FIN+ACK, ACK. The server's application \
         closed the moment it read EOF, before its host had sent the ACK it owed for the \
         client's FIN, so that ACK rode the server's own FIN",
        "这次挥手只用了三个报文段，而不是四个：FIN、FIN+ACK、ACK。服务器的应用一读到 EOF \
         就关闭了，那时它的主机还没发出对客户端 FIN 应回的 ACK，于是这个 ACK 搭上了服务器自己的 FIN",
    )
}

pub fn never_in_fin_wait_2() -> Text {
    t(
        "the client never was in FIN-WAIT-2: in FIN-WAIT-1 a FIN whose ACK covers our FIN \
         takes the connection straight to TIME-WAIT (RFC 9293 §3.10.7.4)",
        format!(
            "客户端从未进入 {}：在 {} 收到一个同时确认了我方 FIN 的 FIN，连接直接进入 {}（RFC 9293 §3.10.7.4）",
            zh(State::FinWait2),
            zh(State::FinWait1),
            zh(State::TimeWait)
        ),
    )
}

pub fn write_in_syn_sent(n: usize) -> Text {
    t(
        format!("write {n} bytes (in SYN-SENT: queued until the handshake completes)"),
        format!(
            "写入 {n} 字节（处于 {}：先排队，握手完成后再发）",
            zh(State::SynSent)
        ),
    )
}

pub fn data_on_third_segment(len: usize) -> Text {
    t(
        format!(
            "the third segment of the handshake is both the ACK of the SYN-ACK and the first {len} bytes of data"
        ),
        format!("三次握手的第三个报文段既是对 SYN-ACK 的确认，又带着最先的 {len} 字节数据"),
    )
}

pub fn no_options() -> Text {
    Text::fixed(
        "setsockopt(TCP_NOOPT): no TCP options in anything this socket sends, MSS included",
        "setsockopt(TCP_NOOPT)：这个套接字发出的报文段都不带 TCP 选项，MSS 也不带",
    )
}

pub fn assume_536() -> Text {
    Text::fixed(
        "no MSS option: assume 536 for segments to this peer, RFC 9293 §3.7.1",
        "没有 MSS 选项：发往这个对端的报文段按 536 字节算，见 RFC 9293 §3.7.1",
    )
}

pub fn why_536() -> Text {
    Text::fixed(
        "536 = 576, the IPv4 datagram every host must accept, − 20 IP − 20 TCP",
        "536 = 576，即每个主机都必须能接收的 IPv4 数据报，− 20 IP − 20 TCP",
    )
}

pub fn cut_at_536(len: usize, full: usize, rest: usize) -> Text {
    t(
        format!(
            "{len} = {full} × 536 + {rest}; the short {rest}-byte tail waits for their ACKs: Nagle"
        ),
        format!("{len} = {full} × 536 + {rest}；{rest} 字节的短尾巴要等前面的 ACK：Nagle 算法"),
    )
}

pub fn no_mss_option_536() -> Text {
    Text::fixed(
        "the client's SYN carried no options at all. Without an MSS option the server must assume \
         536 bytes (RFC 9293 §3.7.1): what fits the 576-byte datagram every IPv4 host must \
         accept, less 40 bytes of IP and TCP header",
        "客户端的 SYN 不带任何选项。没有 MSS 选项，服务器只能按 536 字节算（RFC 9293 §3.7.1）：\
         每个 IPv4 主机都必须能接收的 576 字节数据报，减去 40 字节的 IP 和 TCP 首部",
    )
}

pub fn response_in_536(len: usize, full: usize, rest: usize) -> Text {
    t(
        format!(
            "so the {len}-byte response went out as {full} segments of 536 bytes and one of {rest} \
             (held back by Nagle's algorithm until the others were ACKed: see `nagle`); with no \
             timestamps (TCP_NOOPT turns them off too) all 536 bytes are payload"
        ),
        format!(
            "所以 {len} 字节的响应分成 {full} 个 536 字节的报文段和一个 {rest} 字节的报文段发出\
             （最后这个被 Nagle 算法压到前面的都确认之后才发，见 `nagle`）；没有时间戳\
             （TCP_NOOPT 把它也关了），536 字节全是数据"
        ),
    )
}

pub fn mss_per_direction(mss: u16) -> Text {
    t(
        format!(
            "the MSS is per direction: the server's SYN,ACK announced {mss}, so the client \
             may send segments of up to {mss} bytes"
        ),
        format!("MSS 是分方向的：服务器的 SYN,ACK 通告了 {mss}，所以客户端可以发最长 {mss} 字节的报文段"),
    )
}

pub fn abort() -> Text {
    t(
        "abort() (close with SO_LINGER 0): RST, no FIN, no TIME-WAIT",
        format!(
            "abort()（SO_LINGER 为 0 的 close）：发 RST，不发 FIN，没有 {}",
            zh(State::TimeWait)
        ),
    )
}

pub fn read_reset() -> Text {
    Text::fixed(
        "read → ECONNRESET (connection reset by peer)",
        "read → ECONNRESET（连接被对方复位）",
    )
}

pub fn abort_sends_one_rst() -> Text {
    t(
        "an abort sends one RST at SND.NXT; the peer checks it is in its window and drops the connection: \
         no FIN exchange, no TIME-WAIT, unread data lost",
        format!(
            "abort() 在 SND.NXT 处发一个 RST（复位报文段）；对端确认它落在窗口内，就丢弃连接：\
             没有 FIN 交换，没有 {}，没读的数据也丢了",
            zh(State::TimeWait)
        ),
    )
}

pub fn rst_for_crossing_ack(rsts: u64) -> Text {
    t(
        format!(
            "the client sent {rsts} RSTs: after the first, the server's ACK that crossed it met a host \
             with no such connection, which answers any segment but a RST with a RST"
        ),
        format!(
            "客户端发了 {rsts} 个 RST：第一个之后，服务器那个与它交错而过的 ACK 到达时，客户端主机\
             已经没有这个连接，而它对这样的报文段（RST 除外）一律回 RST"
        ),
    )
}

pub fn host_reboots() -> Text {
    Text::fixed(
        "the server's host crashes and reboots: every connection is forgotten",
        "服务器的主机崩溃后重启：所有连接都忘了",
    )
}

pub fn half_open_found() -> Text {
    Text::fixed(
        "read → ECONNRESET: the peer has no such connection (half-open found)",
        "read → ECONNRESET：对端没有这个连接（发现了半开连接）",
    )
}

pub fn rst_for_unknown_connection() -> Text {
    Text::fixed(
        "a segment for a connection the host does not have gets a RST whose sequence number is the \
         segment's ACK (RFC 9293 §3.10.7.1): the client learns its connection is half-open",
        "发给主机上不存在的连接的报文段会收到一个 RST，它的序列号就是该报文段的确认号\
         （RFC 9293 §3.10.7.1）：客户端由此得知自己的连接是半开的",
    )
}

pub fn rebooted_server_rsts(rsts: u64) -> Text {
    t(
        format!("the rebooted server sent {rsts} RST"),
        format!("重启后的服务器发了 {rsts} 个 RST"),
    )
}

// Congestion control and loss recovery (scenarios/recovery.rs).

pub fn write_full_segments(bytes: usize, segments: usize) -> Text {
    t(
        format!("write {bytes} bytes ({segments} full segments)"),
        format!("写入 {bytes} 字节（{segments} 个满长报文段）"),
    )
}

pub fn read_total(bytes: usize) -> Text {
    t(format!("read {bytes} bytes"), format!("读取 {bytes} 字节"))
}

pub fn slow_start(rounds: &str) -> Text {
    t(
        format!(
            "segments sent per round trip: {rounds} — cwnd starts at 10 segments (RFC 6928) and grows \
             by one segment per segment acknowledged (RFC 5681 §3.1), doubling every RTT"
        ),
        format!(
            "每个往返发出的报文段数：{rounds} —— 慢启动：cwnd 从 10 个报文段开始（RFC 6928），\
             每确认一个报文段就加一个报文段（RFC 5681 §3.1），每个 RTT 翻一番"
        ),
    )
}

pub fn fast_retransmit(dupacks: usize, at: Instant, timeouts: u64) -> Text {
    t(
        format!(
            "segment 3 lost; the server answered segments 4, 5, ... with {dupacks} duplicate ACKs; \
             the third made the client resend segment 3 at once, at {at} (RFC 5681 §3.2), \
             long before a timeout ({timeouts} timeouts)"
        ),
        format!(
            "第 3 个报文段丢失；服务器对第 4、5……个报文段回了 {dupacks} 个重复 ACK；第三个重复 ACK \
             让客户端在 {at} 立即重传第 3 个报文段（快速重传，RFC 5681 §3.2），远早于超时\
             （超时 {timeouts} 次）"
        ),
    )
}

pub fn newreno_deflates() -> Text {
    Text::fixed(
        "ssthresh = half the data in flight, and cwnd deflates to it when the ACK of all \
         that was sent arrives (NewReno, RFC 6582)",
        "ssthresh = 在途数据的一半；等发出的数据全部得到确认时，cwnd 缩回到 ssthresh\
         （NewReno，RFC 6582）",
    )
}

pub fn sack_recovery(sacks: usize, resent: usize) -> Text {
    t(
        format!(
            "segments 3 and 6 lost; {sacks} ACKs carried SACK blocks naming what arrived beyond \
             the holes; the client resent {resent} segment(s): exactly the two holes (RFC 2018, RFC 6675)"
        ),
        format!(
            "第 3 和第 6 个报文段丢失；{sacks} 个 ACK 带着 SACK 块，指明空洞之后已经到达的数据；\
             客户端重传了 {resent} 个报文段：正好是那两个空洞（RFC 2018，RFC 6675）"
        ),
    )
}

pub fn tail_loss_probe(after_ms: f64, two_srtt_ms: f64, timeouts: u64) -> Text {
    t(
        format!(
            "segments 9 and 10 lost: nothing came after them to reveal it. {after_ms:.0} ms after the last \
             ACK (2 × SRTT = {two_srtt_ms:.0} ms) the client sent a tail loss probe, segment 10 again; its \
             SACK showed segment 9 missing and RACK resent it (RFC 8985). Timeouts: {timeouts}"
        ),
        format!(
            "第 9 和第 10 个报文段丢失：后面没有报文段能暴露这一点。最后一个 ACK 之后 {after_ms:.0} ms\
             （2 × SRTT = {two_srtt_ms:.0} ms），客户端发出尾部丢失探测，即再发一次第 10 个报文段；\
             换回的 SACK 显示第 9 个缺失，RACK 重传了它（RFC 8985）。超时次数：{timeouts}"
        ),
    )
}

pub fn path_goes_dark() -> Text {
    Text::fixed(
        "the path drops everything the client sends, for a while",
        "有一阵子，路径丢掉客户端发出的一切",
    )
}

pub fn rto_backoff(times: &str, gaps: &str) -> Text {
    t(
        format!(
            "retransmission timeouts at {times}: each wait twice the one before (RFC 6298 §5.5: {gaps})"
        ),
        format!(
            "重传超时发生在 {times}：每次等待都是上一次的两倍（RTO 退避，RFC 6298 §5.5：{gaps}）"
        ),
    )
}

pub fn cwnd_after_timeout() -> Text {
    Text::fixed(
        "after a timeout cwnd is one segment (RFC 5681 §3.1) and slow start begins again",
        "超时之后 cwnd 降为一个报文段（RFC 5681 §3.1），重新开始慢启动",
    )
}

// Flow control and its timers (scenarios/flow.rs).

pub fn busy_reader() -> Text {
    Text::fixed(
        "(the application is busy: it does not read for 5 s)",
        "（应用正忙：5 s 内不读数据）",
    )
}

pub fn reads_again() -> Text {
    Text::fixed("the application reads again", "应用又开始读数据")
}

pub fn read_in_all(bytes: usize) -> Text {
    t(
        format!("read {bytes} bytes in all"),
        format!("一共读取 {bytes} 字节"),
    )
}

pub fn zero_window(zero_at: Instant, probes: &str, gaps: &str) -> Text {
    t(
        format!(
            "the server's 4 KiB buffer filled and it advertised win=0 at {zero_at}; the client \
             probed with one byte at {probes} (waits {gaps}: the persist timer backs off, RFC 9293 §3.8.6.1)"
        ),
        format!(
            "服务器 4 KiB 的缓冲区满了，它在 {zero_at} 通告 win=0（零窗口）；客户端在 {probes} \
             用一个字节探测（间隔 {gaps}：坚持计时器退避，RFC 9293 §3.8.6.1）"
        ),
    )
}

pub fn window_reopened() -> Text {
    Text::fixed(
        "each probe was answered with win=0; when the reader woke, a window update reopened it \
         and the rest flowed",
        "每次探测得到的回答都是 win=0；读数据的一方醒来后，一个窗口更新报文段重新打开了窗口，\
         其余数据随之发出",
    )
}

pub fn five_writes_with_nagle() -> Text {
    Text::fixed(
        "five 20-byte writes, 2 ms apart (Nagle on: the default)",
        "五次 20 字节的写入，间隔 2 ms（Nagle 算法开着：默认如此）",
    )
}

pub fn nodelay_five_more() -> Text {
    Text::fixed(
        "setsockopt(TCP_NODELAY); five more writes",
        "setsockopt(TCP_NODELAY)；再写五次",
    )
}

pub fn with_nagle(segments: usize) -> Text {
    t(
        format!(
            "with Nagle: 5 writes → {segments} segments (the first goes at once; the others \
             wait for its ACK and go together, RFC 9293 §3.7.4)"
        ),
        format!(
            "开着 Nagle：5 次写入 → {segments} 个报文段（第一个立即发出；其余的等它的 ACK，\
             然后一起发出，RFC 9293 §3.7.4）"
        ),
    )
}

pub fn with_nodelay(segments: usize) -> Text {
    t(
        format!("with TCP_NODELAY: 5 writes → {segments} segments, one per write"),
        format!("开着 TCP_NODELAY：5 次写入 → {segments} 个报文段，每次写入一个"),
    )
}

pub fn write_segments(bytes: usize, segments: usize) -> Text {
    t(
        format!("write {bytes} bytes ({segments} segments)"),
        format!("写入 {bytes} 字节（{segments} 个报文段）"),
    )
}

pub fn quick_acks(acks: usize) -> Text {
    t(
        format!(
            "the first 16 segments got {acks} ACKs: one each (quick-ACK mode at the start \
             of a connection, so slow start is not held back)"
        ),
        format!(
            "前 16 个报文段得到了 {acks} 个 ACK：每个一个（连接刚开始时处于快速确认模式，\
             免得拖慢慢启动）"
        ),
    )
}

pub fn delayed_ack(ms: f64) -> Text {
    t(
        format!(
            "a lone small segment was ACKed {ms:.0} ms after it arrived (the delayed-ACK timer, \
             RFC 9293 §3.8.6.3)"
        ),
        format!(
            "一个单独的小报文段在到达 {ms:.0} ms 后才被确认（延迟确认计时器，RFC 9293 §3.8.6.3）"
        ),
    )
}

pub fn two_full_segments_acked(ms: f64) -> Text {
    t(
        format!(
            "two full segments were ACKed {ms:.0} ms after they arrived: at least every second \
             full-sized segment is ACKed at once (RFC 5681 §4.2)"
        ),
        format!(
            "两个满长报文段在到达 {ms:.0} ms 后被确认：至少每收到两个满长报文段就立即确认一次\
             （RFC 5681 §4.2）"
        ),
    )
}

pub fn idle_keepalive() -> Text {
    Text::fixed(
        "(idle: nobody writes; keep-alive after 2 s)",
        "（空闲：谁也不写；2 s 后开始保活探测）",
    )
}

pub fn server_loses_power() -> Text {
    Text::fixed("the server's host loses power", "服务器的主机断电了")
}

pub fn read_timed_out() -> Text {
    Text::fixed(
        "read() → error: connection timed out",
        "read() → 错误：连接超时",
    )
}

pub fn keepalive_probes(times: &str, answered: usize) -> Text {
    t(
        format!(
            "keep-alive probes (SEG.SEQ = SND.NXT − 1, no data) at {times}; {answered} answered while \
             the server lived"
        ),
        format!(
            "保活探测（SEG.SEQ = SND.NXT − 1，不带数据）发生在 {times}；服务器还在时有 {answered} 个得到回应"
        ),
    )
}

pub fn keepalive_gave_up(at: Instant) -> Text {
    t(
        format!(
            "three unanswered probes later the client gave up at {at}: connection timed out \
             (RFC 9293 §3.8.4)"
        ),
        format!("又有三个探测无人应答，客户端在 {at} 放弃：连接超时（RFC 9293 §3.8.4）"),
    )
}

pub fn server_gone() -> Text {
    Text::by(|l| {
        let name = pad_right(words::side(l, Side::B), 7);
        match l {
            Lang::En => format!("{name} (its host is gone: nothing more from it)"),
            Lang::Zh => format!("{name} （它的主机已经不在了：再也没有它的消息）"),
        }
    })
}

pub fn paws_old_duplicate() -> Text {
    Text::fixed(
        "an old duplicate from before the sequence space wrapped: in the window, \
         but its timestamp is 5 s old",
        "一个序号空间回绕之前的旧重复报文段：序号在窗口内，但它的时间戳是 5 s 前的",
    )
}

pub fn paws(rejected: u64) -> Text {
    t(
        format!(
            "PAWS (RFC 7323 §5): the old segment's sequence number was acceptable, but its \
             timestamp was older than the last one seen, so it was dropped ({rejected} rejected) \
             and answered with an ACK; the real response, with a current timestamp, was read"
        ),
        format!(
            "PAWS（防止序号回绕，RFC 7323 §5）：旧报文段的序号可以接受，但它的时间戳比最近见过的\
             更旧，所以被丢弃（拒绝 {rejected} 个）并回以 ACK；带着当前时间戳的真正响应被读到了"
        ),
    )
}

// The host around the connections (scenarios/stack.rs).

pub fn spoofed_syns(n: u32) -> Text {
    t(
        format!("an attacker sends {n} SYNs from spoofed addresses in 198.18.0.0/15, 1 ms apart"),
        format!("攻击者从 198.18.0.0/15 里伪造的地址发出 {n} 个 SYN，间隔 1 ms"),
    )
}

/// What the diagram calls a SYN from a spoofed address.
pub fn spoofed_source() -> Text {
    Text::fixed("spoofed source", "伪造源地址")
}

pub fn syn_queue_full(half_open: usize) -> Text {
    t(
        format!("the SYN queue is full, {half_open} half-open: SYN cookies from now on"),
        format!("SYN 队列已满，有 {half_open} 个半连接：从现在起用 SYN cookie"),
    )
}

pub fn server_under_flood() -> Text {
    Text::fixed("the server under the flood", "遭受 SYN 洪泛攻击的服务器")
}

pub fn legitimate_client() -> Text {
    Text::fixed(
        "a legitimate client connects; its SYN-ACK carries a cookie",
        "一个正常的客户端来连接；给它的 SYN-ACK 带着 cookie",
    )
}

pub fn flood(spoofed: u32, in_queue: usize, cookies: u64) -> Text {
    t(
        format!(
            "{spoofed} spoofed SYNs: {in_queue} filled the SYN queue, the other {cookies} were answered \
             with SYN cookies (the server kept nothing for them)"
        ),
        format!(
            "{spoofed} 个伪造的 SYN：{in_queue} 个填满了 SYN 队列，其余 {cookies} 个用 SYN cookie 应答\
             （服务器没有为它们保存任何东西）"
        ),
    )
}

pub fn cookie_checked(cookie: u64) -> Text {
    t(
        format!(
            "the client's SYN got cookie #{cookie}; its ACK brought the cookie back, it checked \
             out, and only then did the server build a connection"
        ),
        format!(
            "客户端的 SYN 得到了第 {cookie} 个 cookie；它的 ACK 把 cookie 带了回来，校验通过，\
             服务器这才建立连接"
        ),
    )
}

pub fn counters(side: Side, list: &str) -> Text {
    Text::by(|l| match l {
        Lang::En => format!("{} counters: {list}", words::side(l, side)),
        Lang::Zh => format!("{}计数器：{list}", words::side(l, side)),
    })
}

pub fn synack_retries() -> Text {
    Text::fixed(
        "the half-open records retransmit their SYN-ACKs (1 s, 2 s, 4 s, ... 5 times, \
         tcp_synack_retries) and are then dropped",
        "半连接记录会重传它们的 SYN-ACK（1 s、2 s、4 s……共 5 次，tcp_synack_retries），然后被丢弃",
    )
}

/// An nmap scan: its flag, nmap's option for it (said once), the port.
pub fn scan(flag: &str, option: Option<&str>, port: u16) -> Text {
    t(
        match option {
            Some(o) => format!("{flag} scan (nmap {o}) of :{port}"),
            None => format!("{flag} scan of :{port}"),
        },
        match option {
            Some(o) => format!("对 :{port} 的 {flag} 扫描（nmap {o}）"),
            None => format!("对 :{port} 的 {flag} 扫描"),
        },
    )
}

pub fn raw_socket(scan: &Text) -> Text {
    Text::by(|l| match l {
        Lang::En => format!("(nmap, raw socket) {}", scan.get(l)),
        Lang::Zh => format!("（nmap，原始套接字）{}", scan.get(l)),
    })
}

/// What the diagram calls a scanner's probe.
pub fn nmap_probe() -> Text {
    Text::fixed("nmap probe", "nmap 探测")
}

/// What nmap concludes from a SYN,ACK to its SYN.
pub fn open_port() -> Text {
    Text::fixed(
        "open (SYN,ACK; the scanner's kernel, knowing no such connection, sent RST)",
        "open（开放：回了 SYN,ACK；扫描方的内核不知道这个连接，于是发了 RST）",
    )
}

pub fn closed_port() -> Text {
    Text::fixed("closed (RST)", "closed（关闭：没有进程监听，回了 RST）")
}

pub fn open_or_filtered() -> Text {
    t(
        "open|filtered (no answer: RFC 9293 drops a bare FIN in LISTEN)",
        format!(
            "open|filtered（没有回答：RFC 9293 规定 {} 丢弃单独的 FIN）",
            zh(State::Listen)
        ),
    )
}

pub fn filtered() -> Text {
    Text::fixed("filtered (no answer)", "filtered（被过滤：没有回答）")
}

pub fn nmap_says(port: u16, verdict: &Text) -> Text {
    Text::by(|l| match l {
        Lang::En => format!("nmap: {port}/tcp {}", verdict.get(l)),
        Lang::Zh => format!("nmap：{port}/tcp {}", verdict.get(l)),
    })
}

pub fn scan_verdict(scan: &Text, verdict: &Text) -> Text {
    Text::by(|l| match l {
        Lang::En => format!("{}: {}", scan.get(l), verdict.get(l)),
        Lang::Zh => format!("{}：{}", scan.get(l), verdict.get(l)),
    })
}

pub fn close_and_exit() -> Text {
    Text::fixed("close() and exit", "close() 后退出")
}

pub fn orphaned() -> Text {
    Text::fixed(
        "close() and exit: the socket is an orphan, the host finishes it",
        "close() 后退出：这个套接字成了孤儿连接，由主机来收尾",
    )
}

pub fn application_gone() -> Text {
    Text::fixed(
        "the client's host, its application gone",
        "客户端主机，应用已经退出",
    )
}

pub fn reads_slowly() -> Text {
    Text::fixed(
        "(the application reads 8 KiB every 100 ms)",
        "（应用每 100 ms 读 8 KiB）",
    )
}

pub fn read_all_then_eof(bytes: usize) -> Text {
    t(
        format!("read {bytes} bytes in all, then EOF"),
        format!("一共读取 {bytes} 字节，然后读到 EOF"),
    )
}

pub fn orphan_in_time_wait() -> Text {
    t(
        "the orphan in TIME-WAIT",
        format!("处于 {} 的孤儿连接", zh(State::TimeWait)),
    )
}

pub fn orphan_finished(bytes: usize, orphans: usize) -> Text {
    t(
        format!(
            "the client application wrote {bytes} bytes and closed at once; its host kept the \
             connection as an orphan ({orphans} orphan) and sent it all as the server's \
             8 KiB window allowed, then the FIN"
        ),
        format!(
            "客户端应用写入 {bytes} 字节后立即关闭；它的主机把连接留作孤儿连接（{orphans} 个），\
             在服务器 8 KiB 窗口允许的范围内把数据全部发完，然后发 FIN"
        ),
    )
}

pub fn orphan_time_wait_entry(entries: usize) -> Text {
    t(
        format!(
            "in TIME-WAIT the orphan left its TCB for a compact entry ({entries} in the TIME-WAIT table), \
             gone after 2×MSL"
        ),
        format!(
            "进入 {tw} 后，孤儿连接放下了 TCB，只留下一个紧凑的条目（{tw} 表中有 {entries} 个），\
             2×MSL 后消失",
            tw = zh(State::TimeWait)
        ),
    )
}

pub fn server_side_in_time_wait() -> Text {
    t(
        "the server's side in TIME-WAIT",
        format!("服务器一侧处于 {}", zh(State::TimeWait)),
    )
}

pub fn client_side_in_time_wait() -> Text {
    t(
        "the client's side in TIME-WAIT",
        format!("客户端一侧处于 {}", zh(State::TimeWait)),
    )
}

pub fn connect_again_from(remote: impl Display, port: u16) -> Text {
    t(
        format!("connect({remote}) again from the same port {port}"),
        format!("从同一个端口 {port} 再次 connect({remote})"),
    )
}

pub fn newer_timestamp_lets_in() -> Text {
    t(
        "the SYN's timestamp is newer than the TIME-WAIT entry's: RFC 6191 lets it in",
        format!(
            "这个 SYN 的时间戳比 {} 条目里的新：RFC 6191 允许它进来",
            zh(State::TimeWait)
        ),
    )
}

pub fn time_wait_reused(local: impl Display, remote: impl Display) -> Text {
    t(
        format!(
            "the server closed first, so the 4-tuple {local} ↔ {remote} sat in its TIME-WAIT table; \
             a new SYN from the same port, with a newer timestamp, ended TIME-WAIT early and opened \
             a new connection (RFC 6191, as Linux does)"
        ),
        format!(
            "服务器先关闭，所以四元组 {local} ↔ {remote} 留在它的 {tw} 表里；来自同一端口、\
             时间戳更新的新 SYN 提前结束了 {tw}，建立了新连接（RFC 6191，与 Linux 的做法相同）",
            tw = zh(State::TimeWait)
        ),
    )
}

pub fn addr_in_use() -> Text {
    t(
        "→ EADDRINUSE: that 4-tuple is in TIME-WAIT for 2×MSL",
        format!(
            "→ EADDRINUSE：这个四元组在 2×MSL 内处于 {}",
            zh(State::TimeWait)
        ),
    )
}

pub fn connect_ephemeral(remote: impl Display) -> Text {
    t(
        format!("connect({remote}) with an ephemeral port"),
        format!("用临时端口 connect({remote})"),
    )
}

pub fn ephemeral_skips(port: u16) -> Text {
    t(
        format!("→ port {port}: ephemeral ports skip tuples in TIME-WAIT"),
        format!(
            "→ 端口 {port}：分配临时端口时跳过处于 {} 的四元组",
            zh(State::TimeWait)
        ),
    )
}

pub fn reuse_anyway(port: u16) -> Text {
    t(
        format!("SO_REUSEADDR-style: connect from :{port} anyway"),
        format!("仿 SO_REUSEADDR：照样从 :{port} 发起连接"),
    )
}

pub fn port_in_time_wait(local: impl Display, remote: impl Display, port: u16) -> Text {
    t(
        format!(
            "the client closed first, so {local} ↔ {remote} stayed in its TIME-WAIT table: \
             connecting from :{port} again was refused (EADDRINUSE)"
        ),
        format!(
            "客户端先关闭，所以 {local} ↔ {remote} 留在它的 {} 表里：再从 :{port} 连接被拒绝（EADDRINUSE）",
            zh(State::TimeWait)
        ),
    )
}

pub fn ephemeral_then_reuse(ephemeral: u16, port: u16) -> Text {
    t(
        format!(
            "an ephemeral connect took port {ephemeral} instead; asking to reuse the address ended the \
             TIME-WAIT entry and connected from :{port}"
        ),
        format!(
            "用临时端口连接时换成了端口 {ephemeral}；要求重用地址则结束了那个 {} 条目，并从 :{port} 连上了",
            zh(State::TimeWait)
        ),
    )
}

pub fn write_pattern(bytes: usize, pattern: &str) -> Text {
    t(
        format!("write {bytes} bytes ({pattern})"),
        format!("写入 {bytes} 字节（{pattern}）"),
    )
}

pub fn stuck_in_router() -> Text {
    Text::fixed(
        "the 2nd segment's first copy is stuck in a router for 2.5 s",
        "第 2 个报文段的第一份副本在路由器里卡了 2.5 s",
    )
}

pub fn reconnect_at_once(remote: impl Display, port: u16) -> Text {
    t(
        format!("connect({remote}) from :{port} again at once, ending TIME-WAIT early (reuse)"),
        format!(
            "立即再从 :{port} connect({remote})，提前结束 {}（重用）",
            zh(State::TimeWait)
        ),
    )
}

pub fn stuck_copy_arrives() -> Text {
    Text::fixed(
        "the stuck copy of the old connection's 2nd segment arrives now",
        "旧连接第 2 个报文段卡住的那份副本现在到了",
    )
}

pub fn old_copy_delayed() -> Text {
    Text::fixed(
        "a copy of the first connection's 2nd segment was delayed 2.5 s; the connection \
         retransmitted it, finished, and the same 4-tuple was opened again at once",
        "第一个连接的第 2 个报文段有一份副本被耽搁了 2.5 s；连接重传了它并正常结束，\
         同一个四元组随即再次打开",
    )
}

pub fn old_copy_dropped(paws: u64, out_of_window: u64) -> Text {
    t(
        format!(
            "the old copy then arrived in the new connection: dropped (PAWS: {paws} segment, out of \
             window: {out_of_window}), so the new stream is only \"new.\" bytes"
        ),
        format!(
            "随后旧副本到达新连接：被丢弃（PAWS：{paws} 个报文段，窗口外：{out_of_window} 个），\
             所以新的字节流里只有 \"new.\""
        ),
    )
}

pub fn why_two_msl() -> Text {
    t(
        "TIME-WAIT lasts 2×MSL so that such copies die before the tuple is used again; here \
         the tuple was reused early, and timestamps and the ISN clock caught it",
        format!(
            "{} 持续 2×MSL，就是为了让这类已失效的副本在四元组再次使用之前消失；这里四元组被提前重用，\
             是时间戳和 ISN 时钟拦住了它",
            zh(State::TimeWait)
        ),
    )
}

// Urgent data (scenarios/seeds.rs, urgent-data).

pub fn urgent_send() -> Text {
    t(
        "send(\"\\x03\", MSG_OOB): Ctrl-C as urgent data",
        "send(\"\\x03\", MSG_OOB)：把 Ctrl-C 作为紧急数据发送",
    )
}

pub fn urgent_pointer_seen(rel: u32) -> Text {
    let last = rel.wrapping_sub(1);
    t(
        format!("urgent_pointer() → {rel}: the urgent data ends at byte {last}"),
        format!("urgent_pointer() → {rel}：紧急数据到第 {last} 字节为止"),
    )
}

pub fn urgent_byte_read() -> Text {
    t(
        "(that byte is the Ctrl-C: interrupt the command)",
        "（这个字节就是 Ctrl-C：中断正在运行的命令）",
    )
}

pub fn urgent_went(rel_seq: u32, rel_up: u32, field: u16) -> Text {
    t(
        format!(
            "the Ctrl-C (byte {rel_seq}) went as urgent data: its segment carries URG and \
             urg={rel_up}, the number just past the urgent byte (RFC 6093: the pointer points to \
             the byte after the urgent data; on the wire it is an offset from seq, here {field})"
        ),
        format!(
            "Ctrl-C（第 {rel_seq} 字节）作为紧急数据发出：它的报文段带 URG，urg={rel_up}，\
             即紧急字节之后的那个序号（RFC 6093：紧急指针指向紧急数据之后的字节；\
             报文里填的是相对 seq 的偏移，这里是 {field}）"
        ),
    )
}

pub fn urgent_not_a_channel() -> Text {
    t(
        "urgent data is not a second channel: the byte arrives in order in the same stream. \
         The pointer tells the receiver that urgent data is coming and where it ends, so a \
         telnet server can act on the interrupt (and discard output) before it reads that far",
        "紧急数据不是第二条通道：这个字节仍按顺序在同一个字节流里到达。\
         紧急指针告诉接收方紧急数据要来了、到哪里结束，\
         于是 telnet 服务器在读到那里之前就能处理中断（并丢弃输出）",
    )
}

pub fn urgent_past_nagle() -> Text {
    t(
        "the Ctrl-C left at once, before the command was acknowledged: Nagle's algorithm \
         holds a small segment back while data is unacknowledged, but not urgent data",
        "Ctrl-C 立即发出，没等命令被确认：Nagle 算法在有未确认数据时会扣住小报文段，\
         但不扣紧急数据",
    )
}
