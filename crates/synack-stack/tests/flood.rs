//! The seeds' SYN flood: spoofed SYNs fill the listener's SYN queue;
//! SYN cookies take over, and legitimate clients still connect and talk,
//! while the listener's memory stays within its SYN queue and backlog.

mod common;

use common::*;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use synack_device::{LinkConfig, Rng};
use synack_stack::Handle;
use synack_tcp::{Duration, Instant, State};
use synack_wire::{TcpFlags, TcpOptions};

const SPOOFED: u32 = 100_000;
/// One spoofed SYN every 10 µs of virtual time: 100,000 per second.
const GAP_US: u64 = 10;
const CLIENTS: usize = 100;
const BACKLOG: usize = 128;

struct Client {
    h: Handle,
    sent: bool,
    echoed: Vec<u8>,
}

#[test]
fn legitimate_clients_connect_through_a_syn_flood() {
    let mut net = Net::new(
        LinkConfig::ideal().with_delay(Duration::from_millis(5)),
        config(A),
        config(B),
    );
    net.keep_events = false;
    let l = net
        .b
        .listen_on(Instant::ZERO, sa("0.0.0.0:80"), BACKLOG, None)
        .unwrap();
    let to = SocketAddr::new(ip(B), 80);
    let mut rng = Rng::new(99);
    let mut clients: Vec<Client> = Vec::new();
    let mut servers: Vec<Handle> = Vec::new();
    let (mut peak_syn, mut peak_accept, mut peak_mem) = (0, 0, 0);
    let mut buf = vec![0u8; 4096];
    let request: Vec<u8> = (0..1000u32).map(|i| (i % 200) as u8).collect();

    // The applications: clients send a request once connected; the server
    // accepts and echoes; a client is done when its echo is back.
    let mut apps = |net: &mut Net, clients: &mut Vec<Client>, servers: &mut Vec<Handle>| {
        while let Some(h) = net.b.accept(l) {
            servers.push(h);
        }
        for &s in servers.iter() {
            let conn = net.b.conn_mut(s).unwrap();
            while let Ok(n) = conn.recv(&mut buf) {
                if n == 0 {
                    break;
                }
                assert_eq!(conn.send(&buf[..n]), Ok(n));
            }
        }
        for c in clients.iter_mut() {
            let conn = net.a.conn_mut(c.h).unwrap();
            if !c.sent && conn.state() == State::Established {
                assert_eq!(conn.send(&request), Ok(request.len()));
                c.sent = true;
            }
            while let Ok(n) = conn.recv(&mut buf) {
                if n == 0 {
                    break;
                }
                c.echoed.extend_from_slice(&buf[..n]);
            }
        }
    };

    for i in 0..SPOOFED {
        let t = Instant::from_micros(u64::from(i) * GAP_US);
        if t > net.now {
            net.run_for(t.saturating_since(net.now));
        }
        // A SYN from a random address that will never answer.
        let src = SocketAddr::new(
            IpAddr::V4(Ipv4Addr::from(0xc612_0000 | (rng.next_u32() & 0xffff))),
            1024 + (rng.next_u32() % 60000) as u16,
        );
        let syn = packet(
            src,
            to,
            rng.next_u32(),
            0,
            TcpFlags::SYN,
            64240,
            mss_option(),
            &[],
        );
        net.b.handle_packet(net.now, &syn);
        if i % (SPOOFED / CLIENTS as u32) == 500 {
            let now = net.now;
            let h = net.a.connect(now, to).unwrap();
            clients.push(Client {
                h,
                sent: false,
                echoed: Vec::new(),
            });
        }
        if i % 100 == 0 {
            apps(&mut net, &mut clients, &mut servers);
            let listener = net.b.listener(l).unwrap();
            peak_syn = peak_syn.max(listener.syn_queue_len());
            peak_accept = peak_accept.max(listener.accept.len());
            peak_mem = peak_mem.max(listener.memory());
        }
    }
    let flood_end = net.now;
    net.run_until(Duration::from_secs(30), |net| {
        apps(net, &mut clients, &mut servers);
        let listener = net.b.listener(l).unwrap();
        peak_syn = peak_syn.max(listener.syn_queue_len());
        peak_accept = peak_accept.max(listener.accept.len());
        peak_mem = peak_mem.max(listener.memory());
        clients.iter().all(|c| c.echoed.len() == request.len())
    });
    let c = *net.b.counters();
    println!(
        "flood: {SPOOFED} spoofed SYNs in {flood_end} of virtual time ({} per second)",
        u64::from(SPOOFED) * 1_000_000 / flood_end.as_micros().max(1)
    );
    println!(
        "cookies sent {}, validated {}, failed {}; listen drops {}",
        c.syncookies_sent, c.syncookies_recv, c.syncookies_failed, c.listen_drops
    );
    println!(
        "legitimate clients connected and echoed: {}/{CLIENTS}; peak SYN queue {peak_syn}, \
         peak accept queue {peak_accept}, peak listener memory {peak_mem} bytes",
        clients.iter().filter(|c| c.echoed == request).count()
    );
    for cl in &clients {
        assert_eq!(cl.echoed, request, "every client got its echo");
    }
    assert_eq!(servers.len(), CLIENTS);
    assert!(u64::from(SPOOFED) * 1_000_000 / flood_end.as_micros() >= 100_000);
    let syn_max = BACKLOG.min(net.b.config().syn_backlog);
    assert!(peak_syn <= syn_max, "SYN queue bounded: {peak_syn}");
    assert!(peak_accept <= BACKLOG);
    // Memory: the queues at their bounds (capacity rounding aside).
    let bound = std::mem::size_of::<synack_stack::Listener>()
        + 4 * syn_max * (std::mem::size_of::<synack_stack::HalfOpen>() + 96)
        + 2 * BACKLOG * 8;
    assert!(peak_mem <= bound, "listener memory {peak_mem} > {bound}");
    assert!(c.syncookies_sent >= u64::from(SPOOFED) - syn_max as u64 - 1000);
    assert!(c.syncookies_recv >= 1, "cookies were validated");
    assert_eq!(
        c.tcp_passive_opens, CLIENTS as u64,
        "every passive open is a legitimate client"
    );
    // The host holds no connection for any spoofed SYN.
    assert_eq!(net.b.handles().len(), 1 + CLIENTS);
}

fn mss_option() -> TcpOptions {
    let mut o = TcpOptions::default();
    o.mss = Some(1460);
    o
}
