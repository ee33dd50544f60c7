//! The pieces of the handshake a stack's listener uses on its own: the
//! SYN-ACK's options, the timestamp clock, a connection made from a
//! finished handshake; and what LISTEN drops.

mod common;

use common::*;
use synack_tcp::{
    syn_ack_options, timestamp_clock, Config, Connection, Handshake, Instant, IsnSecret, SeqNum,
    State,
};
use synack_wire::{TcpFlags, TcpOptions};

#[test]
fn the_timestamp_clock_ticks_in_milliseconds_from_a_per_connection_offset() {
    let s = IsnSecret::from_seed(9);
    let (l, r) = (addr(SERVER), addr(CLIENT));
    let t0 = timestamp_clock(&s, l, r, Instant::ZERO);
    let t1 = timestamp_clock(&s, l, r, Instant::from_millis(5000));
    assert_eq!(t1.wrapping_sub(t0), 5000);
    assert_eq!(t0, s.ts_offset(l, r));
    let other = timestamp_clock(&s, l, addr("10.0.0.9:1234"), Instant::ZERO);
    assert_ne!(
        t0, other,
        "each connection has its own offset (RFC 7323 §5.4)"
    );
}

#[test]
fn a_syn_ack_offers_only_what_both_sides_support() {
    let mut all = TcpOptions::default();
    all.mss = Some(1400);
    all.window_scale = Some(7);
    all.sack_permitted = true;
    all.timestamps = Some((111, 0));
    let full = Config::default();
    let o = syn_ack_options(&full, &all, 555);
    assert_eq!(o.mss, Some(full.mss));
    assert_eq!(o.window_scale, Some(full.rcv_wscale()));
    assert!(o.sack_permitted);
    assert_eq!(
        o.timestamps,
        Some((555, 111)),
        "TSecr echoes the SYN's TSval"
    );
    // The peer offered nothing: only our MSS.
    let none = syn_ack_options(&full, &TcpOptions::default(), 555);
    assert_eq!(
        (none.window_scale, none.sack_permitted, none.timestamps),
        (None, false, None)
    );
    assert_eq!(none.mss, Some(full.mss));
    // We turned each off: not offered, whatever the peer asked.
    let off = Config {
        window_scaling: false,
        sack: false,
        timestamps: false,
        ..Config::default()
    };
    let o = syn_ack_options(&off, &all, 555);
    assert_eq!(
        (o.window_scale, o.sack_permitted, o.timestamps),
        (None, false, None)
    );
}

#[test]
fn a_connection_from_a_handshake_is_established_by_the_final_ack() {
    let iss = SeqNum(0xffff_fff0);
    let mut peer = TcpOptions::default();
    peer.mss = Some(1460);
    let hs = Handshake {
        iss,
        irs: SeqNum(7000),
        peer,
        peer_window: 4096,
        synack_xmits: 1,
        synack_sent_at: Some(Instant::ZERO),
    };
    let mut c = Connection::from_handshake(
        plain(),
        Instant::ZERO,
        addr(SERVER),
        addr(CLIENT),
        IsnSecret::from_seed(2),
        &hs,
    );
    assert_eq!(c.state(), State::SynReceived);
    assert_eq!(c.info().snd_nxt, iss + 1, "the SYN-ACK took one number");
    let now = Instant::from_millis(10);
    feed(
        &mut c,
        now,
        &seg(7001, iss.0.wrapping_add(1), TcpFlags::ACK, b""),
    );
    assert_eq!(c.state(), State::Established);
    assert!(c.info().srtt.is_some(), "the handshake gave an RTT sample");
}

#[test]
fn listen_drops_syn_fin_and_segments_without_syn() {
    let mut l = passive(plain());
    for flags in [TcpFlags::SYN | TcpFlags::FIN, TcpFlags::PSH, TcpFlags::FIN] {
        feed(&mut l, Instant::ZERO, &seg(100, 0, flags, b"x"));
        assert_eq!(l.state(), State::Listen, "{flags:?}");
        assert!(
            drain(&mut l, Instant::ZERO).is_empty(),
            "{flags:?} answered"
        );
    }
    feed(&mut l, Instant::ZERO, &seg(100, 0, TcpFlags::SYN, b""));
    assert_eq!(l.state(), State::SynReceived);
}

#[test]
fn the_configured_option_layout_reaches_syn_syn_ack_and_data() {
    use synack_wire::OptionLayout;
    let cfg = Config {
        option_layout: OptionLayout::FreeBsd,
        ..Config::default()
    };
    let mut c = active(cfg.clone());
    let syn = drain(&mut c, Instant::ZERO);
    let o = syn[0].options;
    assert_eq!(o.layout, OptionLayout::FreeBsd);
    let mut buf = [0u8; 40];
    let n = o.emit(&mut buf);
    // <mss,nop,wscale,sackOK,TS>
    assert_eq!(&buf[..8], &[2, 4, 0x05, 0xb4, 1, 3, 3, cfg.rcv_wscale()]);
    assert_eq!((&buf[8..11], n), (&[4, 2, 8][..], 20));
    let mut peer = TcpOptions::default();
    peer.mss = Some(1460);
    peer.sack_permitted = true;
    assert_eq!(
        syn_ack_options(&cfg, &peer, 1).layout,
        OptionLayout::FreeBsd
    );
    let mut synack = seg(
        1000,
        syn[0].seq.wrapping_add(1),
        TcpFlags::SYN | TcpFlags::ACK,
        b"",
    );
    synack.options = peer;
    feed(&mut c, Instant::ZERO, &synack);
    let ack = drain(&mut c, Instant::ZERO);
    assert_eq!(ack[0].options.layout, OptionLayout::FreeBsd);
}
