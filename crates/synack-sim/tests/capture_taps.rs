//! Where a capture taps the simulated network (`synack demo --pcap-at`):
//! a host's interface holds what the host sent, when it left, and what
//! reached it, when and as it arrived; what the link lost toward it is not
//! there. The link's tap holds every packet at the moment it was sent.
//! Every file's timestamps run forward.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};
use std::rc::Rc;

use synack_device::pcap::read_pcap;
use synack_device::{Fate, Side};
use synack_sim::scenarios::{self, demo_config, DemoOptions, Report};
use synack_sim::world::{Tap, World, SERVER_ADDR};
use synack_sim::{tcp_header_of, TraceEvent};
use synack_tcp::{Duration, Instant};

/// A `Write` whose bytes the test can read back afterwards.
#[derive(Clone, Default)]
struct SharedBuf(Rc<RefCell<Vec<u8>>>);

impl Write for SharedBuf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

type Packets = Vec<(Instant, Vec<u8>)>;

/// Runs `world` through lossy-transfer with `tap` capturing, and reads the
/// capture back.
fn capture(mut world: World, tap: Tap) -> (Report, Packets) {
    let buf = SharedBuf::default();
    world.capture(Box::new(buf.clone()), tap).unwrap();
    let scenario = scenarios::find("lossy-transfer").unwrap();
    let mut report = scenario.run_in(world);
    report.world.finish_capture().unwrap();
    assert_eq!(report.error, None, "lossy-transfer at the {tap}");
    let packets = read_pcap(&buf.0.borrow()).unwrap();
    assert!(!packets.is_empty(), "the {tap}'s capture is empty");
    (report, packets)
}

/// The IPv4 source address (the demo hosts speak IPv4).
fn source(packet: &[u8]) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(
        packet[12], packet[13], packet[14], packet[15],
    ))
}

fn from(packets: &Packets, addr: IpAddr) -> Packets {
    packets
        .iter()
        .filter(|(_, p)| source(p) == addr)
        .cloned()
        .collect()
}

/// `packets` with one copy of each packet of `minus` (by its bytes) taken
/// out, in order.
fn without(packets: &Packets, minus: &Packets) -> Packets {
    let mut left: HashMap<&[u8], usize> = HashMap::new();
    for (_, p) in minus {
        *left.entry(p).or_default() += 1;
    }
    packets
        .iter()
        .filter(|(_, p)| match left.get_mut(p.as_slice()) {
            Some(n) if *n > 0 => {
                *n -= 1;
                false
            }
            _ => true,
        })
        .cloned()
        .collect()
}

fn assert_in_time_order(packets: &Packets, what: &str) {
    for (i, w) in packets.windows(2).enumerate() {
        assert!(
            w[0].0 <= w[1].0,
            "{what}: record {} at {} comes after record {} at {}",
            i + 2,
            w[1].0,
            i + 1,
            w[0].0
        );
    }
}

/// (time sent, sequence number) of each packet.
fn sent_at(packets: &Packets) -> Vec<(Instant, u32)> {
    let mut v: Vec<_> = packets
        .iter()
        .map(|(t, p)| (*t, tcp_header_of(p).expect("a TCP packet").0.seq))
        .collect();
    v.sort();
    v
}

#[test]
fn a_hosts_capture_lacks_what_the_link_lost_toward_it() {
    let opts = DemoOptions {
        seed: 1,
        ..DemoOptions::default()
    };
    let scenario = scenarios::find("lossy-transfer").unwrap();
    let cfg = demo_config(&opts, scenario);
    let delay = cfg.b_to_a.delay;
    assert_eq!(delay, Duration::from_millis(10));
    let (report, link) = capture(World::new(cfg.clone()), Tap::Link);
    let (_, client) = capture(World::new(cfg.clone()), Tap::Client);
    let (_, server) = capture(World::new(cfg), Tap::Server);
    let client_addr = report.world.client.addr();
    assert_eq!(report.world.server.addr(), SERVER_ADDR);
    for (packets, tap) in [
        (&link, Tap::Link),
        (&client, Tap::Client),
        (&server, Tap::Server),
    ] {
        assert_in_time_order(packets, &format!("the {tap}'s capture"));
    }

    // Each host's capture has every packet it sent, as and when the link
    // view saw it leave, those the link then lost included.
    assert_eq!(from(&client, client_addr), from(&link, client_addr));
    assert_eq!(from(&server, SERVER_ADDR), from(&link, SERVER_ADDR));

    // What the link lost toward the client is in the link's view and the
    // server's, and nowhere in the client's: exactly the segments the trace
    // marks lost on their way to the client.
    let lost_toward_client = report.world.link.stats(Side::B).lost;
    assert!(
        lost_toward_client > 0,
        "the link lost nothing toward the client"
    );
    let arrived = from(&client, SERVER_ADDR);
    let missing = without(&from(&link, SERVER_ADDR), &arrived);
    assert_eq!(missing.len() as u64, lost_toward_client);
    assert!(without(&missing, &from(&server, SERVER_ADDR)).is_empty());
    let traced_lost: Vec<(Instant, u32)> = {
        let mut v: Vec<_> = report
            .world
            .trace
            .events
            .iter()
            .filter_map(|e| match e {
                TraceEvent::Segment {
                    at,
                    from: Side::B,
                    seg,
                    outcome,
                    ..
                } if outcome.fate == Fate::Lost => Some((*at, seg.seq)),
                _ => None,
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(sent_at(&missing), traced_lost);
    // Everything else arrived (no duplicates or corruption on this link).
    assert!(without(&arrived, &from(&link, SERVER_ADDR)).is_empty());

    // An arrival is stamped one link delay after the same packet left.
    // (Identical packets are paired in order, so a copy is never paired
    // with a later sending than its own.)
    let mut sent: HashMap<Vec<u8>, VecDeque<Instant>> = HashMap::new();
    for (t, p) in from(&link, SERVER_ADDR) {
        sent.entry(p).or_default().push_back(t);
    }
    for (at, p) in &arrived {
        let left = sent
            .get_mut(p)
            .and_then(|v| v.pop_front())
            .expect("sent first");
        assert!(
            *at >= left + delay,
            "a packet sent at {left} is captured arriving at {at}, before one delay ({delay:?})"
        );
    }
}

/// Over a link that also duplicates, reorders and corrupts, the client's
/// capture holds each packet as the link delivered it: every delivery (a
/// duplicate twice), the corrupted copies with their flipped bit, in order
/// of arrival.
#[test]
fn a_hosts_capture_holds_what_arrived_as_it_arrived() {
    let scenario = scenarios::find("lossy-transfer").unwrap();
    let opts = DemoOptions {
        seed: 7,
        loss: Some(0.02),
        ..DemoOptions::default()
    };
    let mut cfg = demo_config(&opts, scenario);
    for link in [&mut cfg.a_to_b, &mut cfg.b_to_a] {
        *link = link
            .with_corrupt(0.02)
            .with_duplicate(0.01)
            .with_reorder(0.01);
    }
    let (report, link) = capture(World::new(cfg.clone()), Tap::Link);
    let (_, client) = capture(World::new(cfg), Tap::Client);
    assert_in_time_order(&client, "the client's capture");
    assert_in_time_order(&link, "the link's capture");
    let stats = report.world.link.stats(Side::B);
    assert!(stats.duplicated > 0 && stats.corrupted > 0 && stats.reordered > 0);
    assert_eq!(report.world.link.in_flight(), 0);

    // What the client did not send arrived (a flipped bit may be in the
    // source address, so arrivals are not told by it).
    let client_addr = report.world.client.addr();
    let arrived = without(&client, &from(&link, client_addr));
    let sent = from(&link, SERVER_ADDR);
    assert_eq!(arrived.len() as u64, stats.delivered);
    // A corrupted copy is a packet nobody sent.
    let damaged = arrived
        .iter()
        .filter(|(_, p)| !sent.iter().any(|(_, q)| q == p))
        .count();
    assert_eq!(damaged as u64, stats.corrupted);
    // A duplicate arrives twice; the link saw it sent once.
    let mut count: HashMap<&[u8], (usize, usize)> = HashMap::new();
    for (_, p) in &arrived {
        count.entry(p).or_default().0 += 1;
    }
    for (_, p) in &sent {
        count.entry(p).or_default().1 += 1;
    }
    assert!(
        count.values().any(|&(got, sent)| sent == 1 && got == 2),
        "no packet arrived twice"
    );
}
