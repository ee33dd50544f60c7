//! The host at its edges: ports run out, tuples in TIME-WAIT, RSTs that
//! TIME-WAIT ignores, orphans, listeners closed with connections waiting,
//! scanners' odd flag sets, IPv6 on an Ethernet-sized link, and the sizes
//! of the compact records.

mod common;

use common::*;
use std::net::SocketAddr;
use synack_device::{LinkConfig, Side};
use synack_stack::{ConnectOptions, HalfOpen, HostEvent, StackError, TimeWaitEntry};
use synack_tcp::{Cause, CloseReason, Connection, Duration, Event, State};
use synack_wire::{TcpFlags, TcpOptions};

#[test]
fn ephemeral_ports_run_out_with_addr_not_available() {
    let mut a = config(A);
    a.ephemeral_ports = (50000, 50003);
    let mut net = Net::new(
        LinkConfig::ideal().with_delay(Duration::from_millis(1)),
        a,
        config(B),
    );
    let now = net.now;
    net.b.listen(now, 80).unwrap();
    let to = SocketAddr::new(ip(B), 80);
    let mut ports = Vec::new();
    for _ in 0..4 {
        let h = net.a.connect(now, to).unwrap();
        ports.push(net.a.conn(h).unwrap().local().port());
    }
    ports.sort_unstable();
    assert_eq!(ports, [50000, 50001, 50002, 50003], "every port once");
    assert_eq!(net.a.connect(now, to), Err(StackError::AddrNotAvailable));
    // Another destination port is another set of 4-tuples.
    let other = SocketAddr::new(ip(B), 81);
    assert!(net.a.connect(now, other).is_ok());
}

#[test]
fn a_double_bind_is_addr_in_use() {
    let mut net = Net::pair();
    let (c, _, _) = net.open(80);
    let now = net.now;
    assert_eq!(net.b.listen(now, 80).err(), Some(StackError::AddrInUse));
    let local = net.a.conn(c).unwrap().local();
    let remote = net.a.conn(c).unwrap().remote();
    assert_eq!(
        net.a.connect_from(now, local, remote),
        Err(StackError::AddrInUse),
        "the same 4-tuple twice"
    );
    assert_eq!(
        net.a.connect_from(now, sa("10.77.0.99:5000"), remote),
        Err(StackError::AddrNotAvailable),
        "not our address"
    );
    assert_eq!(
        net.a.connect(now, sa("192.0.2.1:80")).map(|_| ()),
        Ok(()),
        "a default route reaches any IPv4 address"
    );
    assert_eq!(
        net.a.connect(now, sa("[2001:db8::1]:80")),
        Err(StackError::Unreachable),
        "no IPv6 address on the host"
    );
}

/// The server closes first: its side of the 4-tuple goes to the TIME-WAIT
/// table once the application has let go of it.
fn server_in_time_wait(net: &mut Net, timestamps: bool) -> (SocketAddr, SocketAddr) {
    if !timestamps {
        let mut a = config(A);
        a.tcp.timestamps = false;
        let mut b = config(B);
        b.tcp.timestamps = false;
        *net = Net::new(
            LinkConfig::ideal().with_delay(Duration::from_millis(1)),
            a,
            b,
        );
    }
    let (c, s, _) = net.open(80);
    let (local, remote) = {
        let conn = net.a.conn(c).unwrap();
        (conn.local(), conn.remote())
    };
    let now = net.now;
    net.b.close(now, s);
    net.run_until(Duration::from_secs(5), |n| {
        n.a.conn(c).map(Connection::state) == Some(State::CloseWait)
    });
    let now = net.now;
    net.a.close(now, c);
    net.run_until(Duration::from_secs(5), |n| n.b.time_wait_len() == 1);
    net.run_for(Duration::from_millis(5));
    assert!(net.b.conn(s).is_none(), "the TCB is gone; the entry stays");
    assert!(net.a.handles().is_empty(), "the client finished");
    (local, remote)
}

#[test]
fn a_newer_syn_reopens_a_tuple_in_time_wait() {
    for timestamps in [true, false] {
        let mut net = Net::pair();
        let (local, remote) = server_in_time_wait(&mut net, timestamps);
        net.run_for(Duration::from_secs(1));
        let now = net.now;
        // RFC 6191: the new SYN's timestamp (or, without timestamps, its
        // sequence number: the ISN clock has moved on) is beyond the old
        // connection's, so the server takes it at once.
        let c = net.a.connect_from(now, local, remote).unwrap();
        net.run_until(Duration::from_millis(50), |n| {
            n.a.conn(c).map(Connection::state) == Some(State::Established)
        });
        assert_eq!(net.b.time_wait_len(), 0);
        assert_eq!(net.b.counters().tw_recycled, 1, "timestamps: {timestamps}");
    }
}

#[test]
fn time_wait_ignores_rst_and_acks_a_retransmitted_fin() {
    let mut net = Net::pair();
    let (client, server) = server_in_time_wait(&mut net, false);
    let row = net
        .b
        .sockets(net.now)
        .0
        .into_iter()
        .find(|r| r.state == State::TimeWait)
        .unwrap();
    assert_eq!(row.local, server);
    assert_eq!(row.remote, Some(client));
    let entry_timer = row.timer.unwrap();
    // What the client last sent: its FIN. Find the sequence numbers the
    // entry answers with by provoking an ACK with a stray data segment.
    let probe = packet(
        client,
        server,
        0,
        0,
        TcpFlags::ACK,
        100,
        TcpOptions::default(),
        b"x",
    );
    net.inject(Side::A, &probe);
    let acks = net.segments_to(Side::A, Duration::from_millis(5));
    assert_eq!(acks.len(), 1, "data in TIME-WAIT is answered with an ACK");
    let (flags, our_nxt, peer_nxt, _) = acks[0];
    assert_eq!(flags, TcpFlags::ACK);
    // RFC 1337: an in-window RST does not end TIME-WAIT.
    let rst = packet(
        client,
        server,
        peer_nxt,
        0,
        TcpFlags::RST,
        0,
        TcpOptions::default(),
        &[],
    );
    net.inject(Side::A, &rst);
    net.run_for(Duration::from_millis(5));
    assert_eq!(net.b.time_wait_len(), 1, "RST ignored (RFC 1337)");
    // The peer's FIN again: ACKed again, and 2MSL starts over.
    net.run_for(Duration::from_secs(10));
    let fin = packet(
        client,
        server,
        peer_nxt.wrapping_sub(1),
        our_nxt,
        TcpFlags::FIN | TcpFlags::ACK,
        100,
        TcpOptions::default(),
        &[],
    );
    net.inject(Side::A, &fin);
    let acks = net.segments_to(Side::A, Duration::from_millis(5));
    assert_eq!(acks, [(TcpFlags::ACK, our_nxt, peer_nxt, 0)]);
    let timer = net
        .b
        .sockets(net.now)
        .0
        .into_iter()
        .find(|r| r.state == State::TimeWait)
        .unwrap()
        .timer
        .unwrap();
    assert!(
        timer > entry_timer,
        "2MSL restarted: {timer:?} left, was {entry_timer:?} 10 s before"
    );
    // And it ends: the 4-tuple answers RST again.
    net.run_for(Duration::from_secs(121));
    assert_eq!(net.b.time_wait_len(), 0);
    assert_eq!(net.b.timer_entries(), 0, "no timer left behind");
}

#[test]
fn connect_into_a_tuple_in_time_wait_needs_reuse() {
    // The client closes first and keeps TIME-WAIT; connecting from the same
    // port to the same server is refused unless the caller asks to reuse.
    let mut net = Net::pair();
    let (c, s, _) = net.open(80);
    let (local, remote) = {
        let conn = net.a.conn(c).unwrap();
        (conn.local(), conn.remote())
    };
    let now = net.now;
    net.a.close(now, c);
    net.run_until(Duration::from_secs(5), |n| {
        n.b.conn(s).map(Connection::state) == Some(State::CloseWait)
    });
    let now = net.now;
    net.b.close(now, s);
    net.run_until(Duration::from_secs(5), |n| n.a.time_wait_len() == 1);
    let now = net.now;
    assert_eq!(
        net.a.connect_from(now, local, remote),
        Err(StackError::AddrInUse)
    );
    let reuse = ConnectOptions {
        local: Some(local),
        reuse_addr: true,
        ..ConnectOptions::default()
    };
    let c2 = net.a.connect_with(now, remote, reuse).unwrap();
    assert_eq!(net.a.time_wait_len(), 0);
    net.run_until(Duration::from_secs(5), |n| {
        n.a.conn(c2).map(Connection::state) == Some(State::Established)
    });
    // Ephemeral ports skip tuples in TIME-WAIT.
    let mut a = config(A);
    a.ephemeral_ports = (50000, 50001);
    let mut net = Net::new(
        LinkConfig::ideal().with_delay(Duration::from_millis(1)),
        a,
        config(B),
    );
    let (c, s, _) = net.open(80);
    let port = net.a.conn(c).unwrap().local().port();
    let now = net.now;
    net.a.close(now, c);
    net.run_until(Duration::from_secs(5), |n| {
        n.b.conn(s).map(Connection::state) == Some(State::CloseWait)
    });
    let now = net.now;
    net.b.close(now, s);
    net.run_until(Duration::from_secs(5), |n| n.a.time_wait_len() == 1);
    let now = net.now;
    let c2 = net.a.connect(now, remote).unwrap();
    assert_ne!(net.a.conn(c2).unwrap().local().port(), port);
    assert_eq!(
        net.a.connect(now, remote),
        Err(StackError::AddrNotAvailable),
        "the only other port is in TIME-WAIT"
    );
}

#[test]
fn orphans_are_bounded_and_fin_wait_2_times_out() {
    let mut a = config(A);
    a.max_orphans = 2;
    let mut net = Net::new(
        LinkConfig::ideal().with_delay(Duration::from_millis(1)),
        a,
        config(B),
    );
    let now = net.now;
    let l = net.b.listen(now, 80).unwrap();
    let to = SocketAddr::new(ip(B), 80);
    let cs: Vec<_> = (0..3).map(|_| net.a.connect(now, to).unwrap()).collect();
    net.run_until(Duration::from_secs(5), |n| {
        n.b.listener_queues(l) == Some((3, 0))
    });
    // The client application closes all three and goes away; the server
    // application never closes: the client's side waits in FIN-WAIT-2.
    for (i, &c) in cs.iter().enumerate() {
        net.run_for(Duration::from_millis(10));
        let now = net.now;
        net.a.close(now, c);
        assert!(net.a.orphans() <= 2, "after {} closes", i + 1);
    }
    net.run_for(Duration::from_millis(10));
    assert_eq!(net.a.counters().orphans_reset, 1, "the oldest was reset");
    assert!(net.a.conn(cs[0]).is_none());
    let fw2 = |n: &Net, c| n.a.conn(c).map(Connection::state);
    assert_eq!(fw2(&net, cs[1]), Some(State::FinWait2));
    assert_eq!(fw2(&net, cs[2]), Some(State::FinWait2));
    let reset = net.events_a.iter().any(|e| {
        matches!(e, HostEvent::Conn(h, Event::StateChanged(t))
            if *h == cs[0] && t.to == State::Closed && t.cause == Cause::OrphanLimit)
    });
    assert!(reset, "the reset says why");
    // tcp_fin_timeout: 60 s in FIN-WAIT-2 and the orphans are gone.
    net.run_for(Duration::from_secs(59));
    assert_eq!(net.a.orphans(), 2);
    net.run_for(Duration::from_secs(2));
    assert_eq!(net.a.orphans(), 0);
    assert!(net.a.handles().is_empty());
}

#[test]
fn closing_a_listener_resets_connections_not_yet_accepted() {
    let mut net = Net::pair();
    let now = net.now;
    let l = net.b.listen(now, 80).unwrap();
    let to = SocketAddr::new(ip(B), 80);
    let c1 = net.a.connect(now, to).unwrap();
    let c2 = net.a.connect(now, to).unwrap();
    net.run_until(Duration::from_secs(5), |n| {
        n.b.listener_queues(l) == Some((2, 0))
    });
    let now = net.now;
    net.b.close_listener(now, l);
    net.run_for(Duration::from_millis(10));
    for c in [c1, c2] {
        let conn = net.a.conn(c).unwrap();
        assert_eq!(conn.state(), State::Closed);
        assert_eq!(conn.close_reason(), Some(CloseReason::Reset));
    }
    assert!(net.b.handles().is_empty(), "nothing left on the server");
    // The port is closed now: a SYN gets a RST.
    let now = net.now;
    let c3 = net.a.connect(now, to).unwrap();
    net.run_for(Duration::from_millis(10));
    assert_eq!(
        net.a.conn(c3).unwrap().close_reason(),
        Some(CloseReason::Refused)
    );
}

#[test]
fn a_listener_drops_syn_fin_and_syn_rst() {
    let mut net = Net::pair();
    let now = net.now;
    let l = net.b.listen(now, 80).unwrap();
    // A spoofed source (not host A, which would answer the SYN-ACK with a
    // RST): the half-open record stays.
    let (src, dst) = (sa("10.77.0.50:40000"), sa("10.77.0.2:80"));
    for flags in [
        TcpFlags::SYN | TcpFlags::FIN,
        TcpFlags::SYN | TcpFlags::RST,
        TcpFlags::FIN,
        TcpFlags::RST,
    ] {
        net.inject(
            Side::A,
            &packet(src, dst, 1, 0, flags, 1000, TcpOptions::default(), &[]),
        );
        let replies = net.segments_to(Side::A, Duration::from_millis(5));
        assert!(replies.is_empty(), "{flags:?} answered with {replies:?}");
        assert_eq!(net.b.listener_queues(l), Some((0, 0)), "{flags:?}");
    }
    // A plain SYN does get a SYN-ACK, and makes no connection yet.
    net.inject(
        Side::A,
        &packet(
            src,
            dst,
            1,
            0,
            TcpFlags::SYN,
            1000,
            TcpOptions::default(),
            &[],
        ),
    );
    let replies = net.segments_to(Side::A, Duration::from_millis(5));
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0].0, TcpFlags::SYN | TcpFlags::ACK);
    assert_eq!(net.b.listener_queues(l), Some((0, 1)));
    assert_eq!(
        net.b.handles(),
        vec![l],
        "a half-open record, no connection"
    );
}

#[test]
fn ipv6_bulk_transfer_on_a_1500_byte_link() {
    let mut net = Net::new(
        LinkConfig::ideal()
            .with_delay(Duration::from_millis(5))
            .with_mtu(1500),
        config("fd00::1"),
        config("fd00::2"),
    );
    let (c, s, _) = net.open(80);
    assert_eq!(net.a.conn(c).unwrap().info().mss, 1440, "1500 − 40 − 20");
    transfer(&mut net, (Side::A, c), (Side::B, s), 1 << 20);
    let stats = net.link.stats(Side::A);
    assert_eq!(stats.too_big, 0, "no packet over the MTU");
    assert!(stats.bytes_delivered > 1 << 20);
    // The other way, too.
    transfer(&mut net, (Side::B, s), (Side::A, c), 1 << 20);
    assert_eq!(net.link.stats(Side::B).too_big, 0);
}

#[test]
fn the_mss_follows_the_mtu_per_family() {
    for (a, b, mtu, want) in [
        (A, B, 1500, 1460),
        ("fd00::1", "fd00::2", 1500, 1440),
        (A, B, 9000, 8960),
        ("fd00::1", "fd00::2", 1280, 1220),
    ] {
        let mut net = Net::new(
            LinkConfig::ideal()
                .with_delay(Duration::from_millis(1))
                .with_mtu(mtu),
            config(a),
            config(b),
        );
        let (c, _, _) = net.open(80);
        // Both SYNs announce MTU − headers; with timestamps 12 bytes less
        // per segment.
        assert_eq!(net.a.conn(c).unwrap().info().mss, want, "{a} mtu {mtu}");
    }
}

#[test]
fn compact_records_are_small() {
    let half_open = std::mem::size_of::<HalfOpen>();
    let time_wait = std::mem::size_of::<TimeWaitEntry>();
    let conn = std::mem::size_of::<Connection>();
    println!("half-open record {half_open} B, TIME-WAIT entry {time_wait} B, Connection {conn} B");
    assert!(half_open < 256);
    assert!(time_wait <= 128);
    // The connection keeps a burst of up to three events inline (56
    // bytes), so that opening and closing one allocates nothing for them.
    assert!(conn <= 1088);
}

#[test]
fn buffers_are_sized_per_connection_at_accept() {
    let mut net = Net::pair();
    let (c, s, _) = net.open(80);
    let server = net.b.conn_mut(s).unwrap();
    assert_eq!(server.buffer_memory(), 0, "nothing allocated before data");
    // Larger than the listener's 256 KiB (the window scale agreed in the
    // handshake allows up to 65535 << 3), and a small send buffer.
    let (send, recv) = server.set_buffer_sizes(1000, 400 * 1024);
    assert_eq!((send, recv), (1000, 400 * 1024));
    assert_eq!(server.send_capacity(), 1000);
    assert_eq!(server.buffer_memory(), 0, "still allocated lazily");
    // The client writes 1 MiB and the server reads nothing: the window the
    // server offers, and so what it holds, is its own 400 KiB.
    let data = vec![7u8; 1 << 20];
    let mut sent = 0;
    net.run_until(Duration::from_secs(30), |n| {
        if let Ok(k) = n.a.conn_mut(c).unwrap().send(&data[sent..]) {
            sent += k;
        }
        n.a.conn(c).unwrap().send_queue() > 0 && n.b.conn(s).unwrap().recv_queue() >= 400 * 1024
    });
    let server = net.b.conn_mut(s).unwrap();
    assert_eq!(server.recv_queue(), 400 * 1024);
    // The server's writes fill its 1000-byte buffer and no more.
    assert_eq!(server.send(&[1u8; 4000]), Ok(1000));
    // Shrinking after the window was offered keeps what was promised: the
    // right edge never moves left.
    let (_, recv) = server.set_buffer_sizes(1000, 4096);
    assert!(recv >= 400 * 1024, "{recv}");
    let mut buf = vec![0u8; 1 << 20];
    let mut got = 0;
    net.run_until(Duration::from_secs(60), |n| {
        if let Ok(k) = n.a.conn_mut(c).unwrap().send(&data[sent..]) {
            sent += k;
        }
        if let Ok(k) = n.b.conn_mut(s).unwrap().recv(&mut buf) {
            got += k;
        }
        got == 1 << 20
    });
    assert_eq!(got, 1 << 20);
    let stats = net.b.conn(s).unwrap().stats();
    assert_eq!(stats.recv.window_retractions, 0);
}
