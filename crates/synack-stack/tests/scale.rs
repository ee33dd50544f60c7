//! Scale: a million idle connections in one simulated host pair, and the
//! work one segment costs with 1 or 100,000 connections idle beside it.
//! Work is counted (slots, timer entries and lookups touched: `Host::work`),
//! not timed; `synack bench scale` times it.

mod common;

use common::*;
use std::net::SocketAddr;
use synack_device::LinkConfig;
use synack_stack::{Handle, HostConfig};
use synack_tcp::Duration;

/// Resident memory of this process, in bytes (Linux).
fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

/// A host that can hold many connections: every ephemeral port, a big
/// backlog, small buffers (they are allocated lazily anyway).
fn roomy(addr: &str) -> HostConfig {
    let mut c = config(addr);
    c.ephemeral_ports = (1024, 65535);
    c
}

const PORTS: u16 = 16;

/// `n` established, accepted, idle connections from A to B.
fn connect_many(net: &mut Net, n: usize) -> Vec<Handle> {
    let now = net.now;
    let listeners: Vec<Handle> = (0..PORTS)
        .map(|p| {
            net.b
                .listen_on(now, SocketAddr::new(ip(B), 1000 + p), 65535, None)
                .unwrap()
        })
        .collect();
    let mut clients = Vec::with_capacity(n);
    let mut accepted = 0;
    while clients.len() < n {
        let batch = (n - clients.len()).min(20_000);
        let now = net.now;
        for _ in 0..batch {
            let port = 1000 + (clients.len() % PORTS as usize) as u16;
            let h = net.a.connect(now, SocketAddr::new(ip(B), port)).unwrap();
            clients.push(h);
        }
        let want = clients.len();
        net.run_until(Duration::from_secs(60), |net| {
            for &l in &listeners {
                while net.b.accept(l).is_some() {
                    accepted += 1;
                }
            }
            accepted == want
        });
    }
    // Let the last ACKs and timers settle (stale heap entries included):
    // then nothing is armed and an idle host costs nothing.
    net.run_until(Duration::from_secs(10), |n| n.next().is_none());
    clients
}

#[test]
fn a_million_idle_connections() {
    const N: usize = 1_000_000;
    let before = rss();
    let mut net = Net::new(
        LinkConfig::ideal().with_delay(Duration::from_millis(1)),
        roomy(A),
        roomy(B),
    );
    net.keep_events = false;
    let clients = connect_many(&mut net, N);
    let after = rss();
    let per_conn = (after - before) as f64 / (2 * N) as f64;
    println!(
        "{N} idle connections on each of two hosts: RSS +{} MiB, {per_conn:.0} bytes per connection \
         (TCB {} B); timer entries {} + {}",
        (after - before) >> 20,
        std::mem::size_of::<synack_tcp::Connection>(),
        net.a.timer_entries(),
        net.b.timer_entries()
    );
    assert_eq!(clients.len(), N);
    assert_eq!(net.a.handles().len(), N);
    assert_eq!(net.b.handles().len(), N + PORTS as usize);
    assert_eq!(net.a.counters().tcp_retrans_segs, 0, "{}", net.a.counters());
    assert!(per_conn < 2048.0, "{per_conn} bytes per idle connection");
}

/// Work both hosts do for one 1000-byte request and its ACK, with `idle`
/// other connections open.
fn work_per_segment(idle: usize) -> (u64, u64) {
    let mut net = Net::new(
        LinkConfig::ideal().with_delay(Duration::from_millis(1)),
        roomy(A),
        roomy(B),
    );
    net.keep_events = false;
    connect_many(&mut net, idle);
    let (c, s, _) = net.open(80);
    net.run_for(Duration::from_secs(1));
    let start = (net.a.work(), net.b.work());
    let data = [7u8; 1000];
    assert_eq!(net.a.conn_mut(c).unwrap().send(&data), Ok(1000));
    let mut buf = [0u8; 2000];
    let mut got = 0;
    net.run_until(Duration::from_secs(5), |net| {
        got += net.b.conn_mut(s).unwrap().recv(&mut buf).unwrap_or(0);
        got == 1000 && net.a.conn(c).unwrap().send_queue() == 0
    });
    // The delayed ACK and anything else the segment set going.
    net.run_for(Duration::from_secs(1));
    (net.a.work() - start.0, net.b.work() - start.1)
}

#[test]
fn one_segment_costs_the_same_beside_100k_idle_connections() {
    let one = work_per_segment(1);
    let many = work_per_segment(100_000);
    println!("work per segment and ACK (client, server): 1 idle {one:?}, 100,000 idle {many:?}");
    let total = |w: (u64, u64)| w.0 + w.1;
    assert!(
        total(many) <= 2 * total(one),
        "{many:?} with 100k idle vs {one:?} with 1"
    );
}

#[test]
fn stale_timer_entries_do_not_pile_up() {
    // A connection whose earliest deadline keeps moving (keep-alive far
    // out, retransmission and delayed-ACK timers near) must not leave its
    // old heap entries behind without bound.
    let mut net = Net::pair();
    let (c, s, _) = net.open(80);
    let now = net.now;
    let ka = synack_tcp::Keepalive {
        idle: Duration::from_secs(7200),
        interval: Duration::from_secs(75),
        count: 9,
    };
    net.a.conn_mut(c).unwrap().set_keepalive(now, Some(ka));
    net.b.conn_mut(s).unwrap().set_keepalive(now, Some(ka));
    let mut buf = [0u8; 100];
    let mut most = 0;
    for _ in 0..20_000 {
        net.a.conn_mut(c).unwrap().send(b"tick").unwrap();
        net.run_for(Duration::from_millis(50));
        while net.b.conn_mut(s).unwrap().recv(&mut buf).unwrap_or(0) > 0 {}
        most = most.max(net.a.timer_entries()).max(net.b.timer_entries());
    }
    println!("most timer entries in either heap: {most}");
    assert!(most <= 2 * 3 + 1024 + 1, "{most}");
}
