//! What each state allows the application and the peer (RFC 9293 §3.10),
//! and how states and sequence numbers print (the ladder and `ss` show
//! them).

mod common;

use common::*;
use synack_tcp::{Error, SeqNum, State};
use synack_wire::TcpFlags;

#[test]
fn states_print_with_the_rfc_names() {
    let names = [
        (State::Closed, "CLOSED"),
        (State::Listen, "LISTEN"),
        (State::SynSent, "SYN-SENT"),
        (State::SynReceived, "SYN-RECEIVED"),
        (State::Established, "ESTABLISHED"),
        (State::FinWait1, "FIN-WAIT-1"),
        (State::FinWait2, "FIN-WAIT-2"),
        (State::CloseWait, "CLOSE-WAIT"),
        (State::Closing, "CLOSING"),
        (State::LastAck, "LAST-ACK"),
        (State::TimeWait, "TIME-WAIT"),
    ];
    for (s, name) in names {
        assert_eq!(s.name(), name);
        assert_eq!(format!("{s:<12}|"), format!("{name:<12}|"), "Display pads");
    }
}

#[test]
fn sequence_numbers_print_as_numbers() {
    assert_eq!(format!("{}", SeqNum(4_000_000_000)), "4000000000");
    assert_eq!(format!("{:>6}", SeqNum(42)), "    42");
    assert_eq!(format!("{:?}", SeqNum(7)), "SeqNum(7)");
}

#[test]
fn a_listener_cannot_send() {
    let mut l = passive(plain());
    assert_eq!(l.send(b"x"), Err(Error::NotConnected));
    assert_eq!(l.send_queue(), 0);
}

#[test]
fn text_after_the_peers_fin_is_ignored_in_close_wait() {
    let mut p = Pair::new(plain(), plain());
    p.establish();
    let now = p.now;
    p.a.shutdown(now);
    p.exchange(|_, _| false);
    assert_eq!(p.b.state(), State::CloseWait);
    let mut buf = [0u8; 16];
    assert_eq!(p.b.recv(&mut buf), Ok(0), "EOF");
    // A segment past the FIN with text: RFC 9293 §3.10.7.4 (seventh step)
    // ignores segment text in CLOSE-WAIT.
    let i = p.b.info();
    feed(
        &mut p.b,
        now,
        &seg(
            i.rcv_nxt.0,
            i.snd_nxt.0,
            TcpFlags::ACK | TcpFlags::PSH,
            b"late",
        ),
    );
    assert_eq!(p.b.info().rcv_nxt, i.rcv_nxt, "RCV.NXT does not move");
    assert_eq!(p.b.recv(&mut buf), Ok(0), "still EOF, nothing delivered");
    assert_eq!(p.b.state(), State::CloseWait);
}

#[test]
fn causes_and_transitions_read_as_the_ladder_prints_them() {
    use synack_tcp::{Cause, Instant, Transition};
    assert_eq!(Cause::RecvFin.describe(), "rcv FIN");
    assert_eq!(Cause::TimeWaitExpired.to_string(), "2MSL timeout");
    assert_eq!(Cause::AppShutdown.to_string(), "shutdown(SHUT_WR)");
    let t = Transition {
        at: Instant::ZERO,
        from: State::Established,
        to: State::CloseWait,
        cause: Cause::RecvFin,
    };
    assert_eq!(t.to_string(), "ESTABLISHED → CLOSE-WAIT (rcv FIN)");
}

#[test]
fn close_reasons_and_errors_print_the_line_users_see() {
    use synack_tcp::CloseReason;
    for (reason, line) in [
        (CloseReason::Normal, "closed"),
        (CloseReason::Refused, "connection refused"),
        (CloseReason::Reset, "connection reset by peer"),
        (CloseReason::TimedOut, "connection timed out"),
        (CloseReason::Aborted, "connection aborted"),
    ] {
        assert_eq!(reason.to_string(), line);
        assert_eq!(
            Error::Closed(reason).to_string(),
            line,
            "a closed error says why"
        );
    }
    assert_eq!(Error::WouldBlock.to_string(), "operation would block");
    assert_eq!(Error::NotConnected.to_string(), "not connected");
    assert_eq!(
        Error::SendClosed.to_string(),
        "sending side already shut down"
    );
}
