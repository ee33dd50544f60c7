//! The engine on its own, driven segment by segment: the RFC 9293 tables
//! (acceptability, RST validation), the edge cases of opening and closing,
//! and flow control at a zero window.

mod common;

use common::*;
use synack_tcp::{
    check_rst, segment_acceptable, CloseReason, Config, Duration, Error, Event, Instant,
    RstVerdict, SeqNum, State,
};

fn config() -> Config {
    plain()
}

#[test]
fn acceptability_table() {
    let n = SeqNum(1000);
    // RFC 9293 §3.10.7.4, the four cases.
    let cases = [
        // (seq, len, wnd, acceptable)
        (1000, 0, 0, true),
        (1001, 0, 0, false),
        (999, 0, 0, false),
        (1000, 0, 10, true),
        (1009, 0, 10, true),
        (1010, 0, 10, false),
        (999, 0, 10, false),
        (1000, 1, 0, false),
        (1000, 5, 10, true),
        (995, 10, 10, true), // last octet in the window
        (995, 5, 10, false), // ends just before RCV.NXT
        (1009, 5, 10, true), // first octet in the window
        (1010, 5, 10, false),
    ];
    for (seq, len, wnd, ok) in cases {
        assert_eq!(
            segment_acceptable(SeqNum(seq), len, n, wnd),
            ok,
            "seq={seq} len={len} wnd={wnd}"
        );
    }
    // The same across 2^32.
    let n = SeqNum(u32::MAX - 2);
    assert!(segment_acceptable(SeqNum(3), 1, n, 10));
    assert!(segment_acceptable(SeqNum(u32::MAX - 5), 5, n, 10));
    assert!(!segment_acceptable(SeqNum(7), 1, n, 10));
}

#[test]
fn rst_validation_table() {
    let (rn, una, nxt) = (SeqNum(5000), SeqNum(100), SeqNum(101));
    use RstVerdict::*;
    let cases = [
        (State::Listen, 5000, None, Drop),
        (State::SynSent, 0, Some(101), Reset),
        (State::SynSent, 0, Some(100), Drop),
        (State::SynSent, 0, None, Drop),
        (State::SynReceived, 5000, None, Reset),
        (State::SynReceived, 5001, None, ChallengeAck),
        (State::Established, 5000, None, Reset),
        (State::Established, 5100, None, ChallengeAck),
        (State::Established, 4999, None, Drop),
        (State::Established, 6000, None, Drop),
        (State::FinWait2, 5000, None, Reset),
        (State::CloseWait, 5000, None, Reset),
        (State::LastAck, 5000, None, Reset),
        (State::TimeWait, 5000, None, Drop), // RFC 1337
    ];
    for (state, seq, ack, want) in cases {
        let got = check_rst(state, SeqNum(seq), ack.map(SeqNum), rn, 1000, una, nxt);
        assert_eq!(got, want, "{state} seq={seq} ack={ack:?}");
    }
}

#[test]
fn handshake_then_data_then_close() {
    let mut p = Pair::new(config(), config());
    p.exchange(|_, _| false);
    assert_eq!(
        (p.a.state(), p.b.state()),
        (State::Established, State::Established)
    );
    assert_eq!(p.a.send(b"hello").unwrap(), 5);
    p.exchange(|_, _| false);
    let mut buf = [0u8; 16];
    assert_eq!(p.b.recv(&mut buf).unwrap(), 5);
    assert_eq!(&buf[..5], b"hello");
    assert_eq!(p.b.recv(&mut buf), Err(Error::WouldBlock));
    p.a.shutdown(p.now);
    p.exchange(|_, _| false);
    assert_eq!(
        (p.a.state(), p.b.state()),
        (State::FinWait2, State::CloseWait)
    );
    assert_eq!(p.b.recv(&mut buf).unwrap(), 0, "EOF after the FIN");
    // Half-close: the passive side still sends, the active side still reads.
    p.b.send(b"bye").unwrap();
    p.b.close(p.now);
    p.exchange(|_, _| false);
    assert_eq!(p.a.recv(&mut buf).unwrap(), 3);
    assert_eq!(p.a.recv(&mut buf).unwrap(), 0);
    assert_eq!((p.a.state(), p.b.state()), (State::TimeWait, State::Closed));
    while p.tick() {}
    assert_eq!(p.a.state(), State::Closed);
    assert_eq!(p.now.as_millis(), 2000, "TIME-WAIT lasts 2×MSL");
    assert_eq!(p.a.close_reason(), Some(CloseReason::Normal));
}

#[test]
fn mss_defaults_to_536_without_the_option() {
    let now = Instant::ZERO;
    let mut c = active(config());
    let syn = drain(&mut c, now).remove(0);
    assert_eq!(syn.options.mss, Some(1460));
    // SYN,ACK without any options.
    feed(&mut c, now, &seg(7000, syn.seq + 1, SYN | ACK, b""));
    assert_eq!(c.state(), State::Established);
    c.send(&[7u8; 3000]).unwrap();
    let out = drain(&mut c, now);
    assert!(
        out.iter().all(|s| s.payload.len() <= 536),
        "{:?}",
        out.iter().map(|s| s.payload.len()).collect::<Vec<_>>()
    );
    assert_eq!(c.info().mss, 536);
}

#[test]
fn syn_sent_resets_an_ack_for_something_else() {
    let now = Instant::ZERO;
    let mut c = active(config());
    let syn = drain(&mut c, now).remove(0);
    // RFC 9293 §3.10.7.3: SEG.ACK =< ISS or > SND.NXT → <SEQ=SEG.ACK><CTL=RST>.
    feed(
        &mut c,
        now,
        &seg(7000, syn.seq.wrapping_add(1000), SYN | ACK, b""),
    );
    let out = drain(&mut c, now);
    assert_eq!(out.len(), 1);
    assert_eq!(
        (out[0].flags, out[0].seq),
        (RST, syn.seq.wrapping_add(1000))
    );
    assert_eq!(c.state(), State::SynSent);
    // A RST with an unacceptable ACK is ignored; with no ACK, too.
    feed(&mut c, now, &seg(0, syn.seq, RST | ACK, b""));
    feed(&mut c, now, &seg(0, 0, RST, b""));
    assert_eq!(c.state(), State::SynSent);
    // An acceptable RST means "connection refused".
    feed(&mut c, now, &seg(0, syn.seq + 1, RST | ACK, b""));
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.send(b"x"), Err(Error::Closed(CloseReason::Refused)));
}

#[test]
fn listener_returns_to_listen_on_rst_and_accepts_again() {
    let now = Instant::ZERO;
    let mut l = passive(config());
    feed(&mut l, now, &seg(500, 0, SYN, b""));
    assert_eq!(l.state(), State::SynReceived);
    let synack = drain(&mut l, now).remove(0);
    assert_eq!((synack.flags, synack.ack), (SYN | ACK, 501));
    feed(&mut l, now, &seg(501, 0, RST, b""));
    assert_eq!(
        l.state(),
        State::Listen,
        "a passive open goes back to LISTEN"
    );
    assert!(
        l.poll_timeout().is_none(),
        "no SYN,ACK retransmission is left armed"
    );
    feed(&mut l, now, &seg(900, 0, SYN, b""));
    assert_eq!(l.state(), State::SynReceived);
    let synack = drain(&mut l, now).remove(0);
    assert_eq!(synack.ack, 901);
    feed(&mut l, now, &seg(901, synack.seq + 1, ACK, b""));
    assert_eq!(l.state(), State::Established);
    // In LISTEN an ACK gets <SEQ=SEG.ACK><CTL=RST>; a RST is ignored.
    let mut l = passive(config());
    feed(&mut l, now, &seg(1, 4242, ACK, b""));
    let out = drain(&mut l, now);
    assert_eq!((out[0].flags, out[0].seq), (RST, 4242));
    feed(&mut l, now, &seg(1, 0, RST, b""));
    assert!(drain(&mut l, now).is_empty());
    assert_eq!(l.state(), State::Listen);
}

#[test]
fn lost_syn_ack_is_recovered_by_retransmission() {
    let mut p = Pair::new(config(), config());
    let mut lost = false;
    p.exchange(|from, s| {
        let drop = from == 'b' && s.flags == SYN | ACK && !lost;
        lost |= drop;
        drop
    });
    assert_eq!(
        (p.a.state(), p.b.state()),
        (State::SynSent, State::SynReceived)
    );
    while p.a.state() != State::Established || p.b.state() != State::Established {
        assert!(p.tick());
        p.exchange(|_, _| false);
    }
    // The client's SYN timer (1 s) fired first: its retransmitted SYN made
    // the server answer again.
    assert_eq!(p.now.as_millis(), 1000);
}

#[test]
fn lost_final_handshake_ack_is_recovered() {
    let mut p = Pair::new(config(), config());
    let mut lost = false;
    p.exchange(|from, s| {
        let drop = from == 'a' && s.flags == ACK && !lost;
        lost |= drop;
        drop
    });
    assert_eq!(
        (p.a.state(), p.b.state()),
        (State::Established, State::SynReceived)
    );
    // The server retransmits its SYN,ACK; the client (ESTABLISHED) finds it
    // old and ACKs it, which completes the server's side.
    assert!(p.tick());
    let log = p.exchange(|_, _| false);
    assert_eq!(p.b.state(), State::Established);
    assert_eq!(log[0].1.flags, SYN | ACK);
    assert_eq!(log[1].1.flags, ACK);
}

#[test]
fn rst_in_window_gets_a_challenge_ack_exact_rst_resets() {
    let mut p = Pair::new(config(), config());
    p.exchange(|_, _| false);
    let info = p.a.info();
    let now = p.now;
    // RFC 5961 §3.2: in the window but not at RCV.NXT → challenge ACK.
    feed(&mut p.a, now, &seg(info.rcv_nxt.0 + 10, 0, RST, b""));
    assert_eq!(p.a.state(), State::Established);
    let out = drain(&mut p.a, now);
    assert_eq!(out.len(), 1);
    assert_eq!(
        (out[0].flags, out[0].seq, out[0].ack),
        (ACK, info.snd_nxt.0, info.rcv_nxt.0)
    );
    // Outside the window: silently dropped.
    feed(
        &mut p.a,
        now,
        &seg(info.rcv_nxt.0.wrapping_sub(10), 0, RST, b""),
    );
    assert!(drain(&mut p.a, now).is_empty());
    // A SYN in a synchronized state: challenge ACK, never a reset (RFC 5961 §4).
    feed(&mut p.a, now, &seg(info.rcv_nxt.0, 0, SYN, b""));
    assert_eq!(p.a.state(), State::Established);
    assert_eq!(drain(&mut p.a, now).len(), 1);
    // Exactly at RCV.NXT: reset.
    feed(&mut p.a, now, &seg(info.rcv_nxt.0, 0, RST, b""));
    assert_eq!(p.a.state(), State::Closed);
    assert_eq!(
        p.a.recv(&mut [0; 4]),
        Err(Error::Closed(CloseReason::Reset))
    );
}

#[test]
fn challenge_acks_are_rate_limited() {
    let mut p = Pair::new(config(), config());
    p.exchange(|_, _| false);
    let info = p.a.info();
    let now = p.now;
    let mut acks = 0;
    for i in 0..100 {
        feed(&mut p.a, now, &seg(info.rcv_nxt.0 + 1 + i, 0, RST, b""));
        acks += drain(&mut p.a, now).len();
    }
    assert_eq!(acks, 10, "RFC 5961 §7: a bounded number per second");
    assert_eq!(p.a.state(), State::Established);
}

#[test]
fn time_wait_ignores_rst_and_reacks_a_retransmitted_fin() {
    let mut p = Pair::new(config(), config());
    p.exchange(|_, _| false);
    p.a.close(p.now);
    p.exchange(|_, _| false);
    p.b.close(p.now);
    let log = p.exchange(|_, _| false);
    let fin = log
        .iter()
        .find(|(f, s)| *f == 'b' && s.flags.fin())
        .unwrap()
        .1
        .clone();
    assert_eq!(p.a.state(), State::TimeWait);
    let first_deadline = p.a.poll_timeout().unwrap();
    p.now += Duration::from_millis(500);
    let now = p.now;
    // RFC 1337: a RST must not end TIME-WAIT early.
    feed(&mut p.a, now, &seg(fin.seq + 1, 0, RST, b""));
    assert_eq!(p.a.state(), State::TimeWait);
    // The retransmitted FIN is ACKed again and restarts the 2×MSL timer.
    feed(&mut p.a, now, &fin);
    let out = drain(&mut p.a, now);
    assert_eq!(out.len(), 1);
    assert_eq!((out[0].flags, out[0].ack), (ACK, fin.seq + 1));
    let restarted = p.a.poll_timeout().unwrap();
    assert_eq!(restarted - first_deadline, Duration::from_millis(500));
}

#[test]
fn fin_wait_1_with_fin_ack_goes_straight_to_time_wait() {
    let mut p = Pair::new(config(), config());
    p.exchange(|_, _| false);
    let now = p.now;
    p.a.close(now);
    let fin = drain(&mut p.a, now).remove(0);
    // The server gets the FIN, and closes at once: its FIN carries the ACK.
    feed(&mut p.b, now, &fin);
    let _ack = drain(&mut p.b, now);
    p.b.close(now);
    let mut finack = drain(&mut p.b, now);
    let finack = finack.remove(0);
    assert!(finack.flags.fin() && finack.flags.ack() && finack.ack == fin.seq + 1);
    feed(&mut p.a, now, &finack);
    assert_eq!(p.a.state(), State::TimeWait);
    let all = events(&mut p.a);
    let last = *transitions(&all).last().unwrap();
    assert_eq!(last, (State::FinWait1, State::TimeWait));
    assert!(all
        .iter()
        .all(|e| !matches!(e, Event::StateChanged(t) if t.to == State::FinWait2)));
}

#[test]
fn zero_window_is_probed_until_it_opens() {
    let small = Config {
        recv_buffer: 4096,
        ..config()
    };
    let mut p = Pair::new(config(), small);
    p.exchange(|_, _| false);
    let data: Vec<u8> = (0..20_000u32).map(|i| i as u8).collect();
    let mut sent = p.a.send(&data).unwrap();
    p.exchange(|_, _| false);
    // Two full segments fit; the 1176 bytes left of the window are less
    // than half the largest window, so sender SWS avoidance (RFC 9293
    // §3.8.6.2.1) holds them until the override timeout.
    assert_eq!(p.b.recv_queue(), 2920);
    assert!(p.tick());
    p.exchange(|_, _| false);
    assert_eq!(p.b.recv_queue(), 4096, "the receiver's buffer is full");
    assert_eq!(p.a.info().snd_wnd, 0);
    // Nobody reads for a while: the sender probes with backoff, and the
    // connection stays up (probes are answered).
    let mut probes = 0;
    for _ in 0..6 {
        assert!(p.tick());
        probes += p
            .exchange(|_, _| false)
            .iter()
            .filter(|(f, s)| *f == 'a' && s.payload.len() == 1)
            .count();
    }
    assert!(probes >= 5, "{probes} probes");
    assert_eq!(p.a.state(), State::Established);
    assert_eq!(p.a.stats().send.zero_window_probes as usize, probes);
    // Now the application reads; window updates let the rest through.
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while got.len() < data.len() {
        while let Ok(n) = p.b.recv(&mut buf) {
            got.extend_from_slice(&buf[..n]);
        }
        if sent < data.len() {
            sent += p.a.send(&data[sent..]).unwrap_or(0);
        }
        if p.exchange(|_, _| false).is_empty() && p.b.recv_queue() == 0 && got.len() < data.len() {
            assert!(p.tick(), "stalled at {} bytes", got.len());
        }
    }
    assert_eq!(got, data);
}

#[test]
fn retransmission_timeout_backs_off_exponentially() {
    let mut p = Pair::new(config(), config());
    p.exchange(|_, _| false);
    p.a.send(b"lost forever").unwrap();
    let mut times = Vec::new();
    p.exchange(|_, _| true);
    for _ in 0..4 {
        assert!(p.tick());
        times.push(p.now);
        p.exchange(|from, _| from == 'a');
    }
    let gaps: Vec<u128> = times
        .windows(2)
        .map(|w| (w[1] - w[0]).as_millis())
        .collect();
    assert_eq!(gaps.len(), 3);
    assert_eq!(gaps[1], gaps[0] * 2);
    assert_eq!(gaps[2], gaps[1] * 2);
    assert!(p.a.stats().send.retransmits >= 4);
}

#[test]
fn out_of_order_segments_are_reassembled_within_a_bound() {
    let cfg = Config {
        max_ooo_ranges: 2,
        ..config()
    };
    let now = Instant::ZERO;
    let mut l = passive(cfg);
    feed(&mut l, now, &seg(u32::MAX - 1, 0, SYN, b""));
    let synack = drain(&mut l, now).remove(0);
    let base = u32::MAX; // crosses 2^32 on the way
    feed(&mut l, now, &seg(base, synack.seq + 1, ACK, b""));
    assert_eq!(l.state(), State::Established);
    let a = synack.seq + 1;
    feed(&mut l, now, &seg(base.wrapping_add(10), a, ACK, b"klmno")); // range 1
    feed(&mut l, now, &seg(base.wrapping_add(20), a, ACK, b"uvwxy")); // range 2
    feed(&mut l, now, &seg(base.wrapping_add(30), a, ACK, b"!!!!!")); // over the bound: dropped
    assert_eq!(l.stats().recv.ooo_dropped, 1);
    let dupacks = drain(&mut l, now);
    assert!(
        dupacks.iter().all(|s| s.ack == base),
        "out-of-order data is ACKed at RCV.NXT"
    );
    feed(&mut l, now, &seg(base, a, ACK, b"abcdefghij"));
    feed(&mut l, now, &seg(base.wrapping_add(15), a, ACK, b"pqrst"));
    let mut buf = [0u8; 64];
    let n = l.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"abcdefghijklmnopqrstuvwxy");
    assert_eq!(l.info().rcv_nxt.0, base.wrapping_add(25));
}

#[test]
fn window_scale_only_when_both_offer_it() {
    let on = Config {
        window_scaling: true,
        recv_buffer: 1 << 20,
        ..config()
    };
    let off = Config {
        window_scaling: false,
        ..config()
    };
    let mut p = Pair::new(on.clone(), on.clone());
    p.exchange(|_, _| false);
    assert_eq!((p.a.info().rcv_wscale, p.a.info().snd_wscale), (5, 5));
    let mut p = Pair::new(on, off);
    p.exchange(|_, _| false);
    assert_eq!((p.a.info().rcv_wscale, p.a.info().snd_wscale), (0, 0));
    assert_eq!((p.b.info().rcv_wscale, p.b.info().snd_wscale), (0, 0));
}

#[test]
fn connect_times_out_after_syn_retries() {
    let cfg = Config {
        syn_retries: 2,
        ..config()
    };
    let now = Instant::ZERO;
    let mut c = active(cfg);
    let mut sends = vec![];
    let mut t = now;
    loop {
        sends.extend(drain(&mut c, t).into_iter().map(|_| t.as_millis()));
        match c.poll_timeout() {
            Some(next) => {
                t = next;
                c.handle_timeout(t);
            }
            None => break,
        }
    }
    assert_eq!(sends, [0, 1000, 3000]);
    assert_eq!(t.as_millis(), 7000);
    assert_eq!(c.close_reason(), Some(CloseReason::TimedOut));
}

#[test]
fn zero_receive_window_still_takes_acks() {
    let small = Config {
        recv_buffer: 1024,
        ..config()
    };
    let mut p = Pair::new(small, config());
    p.exchange(|_, _| false);
    // Fill A's receive buffer; A's application does not read.
    p.b.send(&[1u8; 1024]).unwrap();
    p.exchange(|_, _| false);
    assert_eq!(p.a.info().rcv_wnd, 0);
    // A sends; B's pure ACK of it is lost.
    p.a.send(b"request").unwrap();
    p.exchange(|from, _| from == 'b');
    let a = p.a.info();
    assert_eq!(a.snd_nxt.since(a.snd_una), 7);
    // B's next segment (a window probe, one byte at RCV.NXT) carries the ACK:
    // its text is refused, its ACK is taken.
    let now = p.now;
    feed(&mut p.a, now, &seg(a.rcv_nxt.0, a.snd_nxt.0, ACK, b"x"));
    let a2 = p.a.info();
    assert_eq!(a2.snd_una, a.snd_nxt, "the ACK was processed");
    assert_eq!(a2.rcv_nxt, a.rcv_nxt, "the byte was not");
    let out = drain(&mut p.a, now);
    assert_eq!(out.len(), 1, "the probe is answered");
    assert_eq!((out[0].ack, out[0].window), (a.rcv_nxt.0, 0));
}

#[test]
fn data_past_the_peers_fin_does_not_hide_the_fin() {
    let mut p = Pair::new(config(), config());
    p.exchange(|_, _| false);
    let now = p.now;
    p.a.shutdown(now);
    let fin = drain(&mut p.a, now).remove(0);
    let r = p.a.info().rcv_nxt.0;
    // A confused peer: bytes at r+5.., then "abcd" + FIN at r (FIN at r+4).
    feed(&mut p.a, now, &seg(r + 5, fin.seq, ACK, b"zzzz"));
    feed(&mut p.a, now, &seg(r, fin.seq + 1, FIN | ACK, b"abcd"));
    assert_eq!(p.a.state(), State::TimeWait);
    assert_eq!(p.a.info().rcv_nxt.0, r + 5);
    let mut buf = [0u8; 16];
    assert_eq!(p.a.recv(&mut buf).unwrap(), 4);
    assert_eq!(p.a.recv(&mut buf).unwrap(), 0);
}
