//! The capture reader and the state inference, on captures built here.

use super::*;
use crate::lang::Lang;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::DataLink;
use std::borrow::Cow;
use std::time::Duration;
use synack_device::pcap::PcapWriter as SynackPcap;
use synack_tcp::{Cause, Instant};
use synack_wire::{IpProtocol, IpRepr};
use synack_wire::{TcpFlags, TcpOptions, TcpRepr};
use State::*;

const SYN: TcpFlags = TcpFlags::SYN;
const ACK: TcpFlags = TcpFlags::ACK;
const FIN: TcpFlags = TcpFlags::FIN;
const RST: TcpFlags = TcpFlags::RST;
const PSH: TcpFlags = TcpFlags::PSH;

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// An IP packet carrying one TCP segment.
fn packet(from: &str, to: &str, flags: TcpFlags, seq: u32, ack: u32, data: &[u8]) -> Vec<u8> {
    let (from, to) = (addr(from), addr(to));
    let tcp = TcpRepr {
        src_port: from.port(),
        dst_port: to.port(),
        seq,
        ack,
        flags,
        window: 65535,
        urgent: 0,
        options: TcpOptions::default(),
        payload: data,
    };
    let ip = IpRepr::new(from.ip(), to.ip(), IpProtocol::Tcp, tcp.buffer_len(), 64);
    let mut buf = vec![0; ip.total_len()];
    ip.emit(&mut buf);
    tcp.emit(&mut buf[ip.header_len()..], from.ip(), to.ip());
    buf
}

const C: &str = "10.0.0.1:40000";
const S: &str = "10.0.0.2:80";

/// Open, a request and a response, the server closes first, the
/// client follows.
fn full_exchange(c: &str, s: &str) -> Vec<Vec<u8>> {
    vec![
        packet(c, s, SYN, 100, 0, &[]),
        packet(s, c, SYN | ACK, 500, 101, &[]),
        packet(c, s, ACK, 101, 501, &[]),
        packet(c, s, PSH | ACK, 101, 501, b"GET"),
        packet(s, c, ACK, 501, 104, &[]),
        packet(s, c, PSH | ACK, 501, 104, b"hello"),
        packet(s, c, FIN | ACK, 506, 104, &[]),
        packet(c, s, ACK, 104, 507, &[]),
        packet(c, s, FIN | ACK, 104, 507, &[]),
        packet(s, c, ACK, 507, 105, &[]),
    ]
}

/// A raw-IP pcap written by synack's own writer, one packet a
/// millisecond.
fn raw_pcap(packets: &[Vec<u8>]) -> Vec<u8> {
    let mut w = SynackPcap::new(Vec::new()).unwrap();
    for (i, p) in packets.iter().enumerate() {
        w.write_packet(Instant::from_millis(1000 + i as u64), p)
            .unwrap();
    }
    w.into_inner()
}

/// A pcap of link type `link` with `frame` made of each packet.
fn pcap_with(link: DataLink, frames: &[Vec<u8>]) -> Vec<u8> {
    let header = PcapHeader {
        datalink: link,
        ..PcapHeader::default()
    };
    let mut w = PcapWriter::with_header(Vec::new(), header).unwrap();
    for (i, f) in frames.iter().enumerate() {
        let ts = Duration::from_millis(5000 + i as u64);
        w.write_packet(&PcapPacket::new(ts, f.len() as u32, f))
            .unwrap();
    }
    w.into_writer()
}

fn ethernet(ethertype: u16, vlan: bool, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
    if vlan {
        f.extend_from_slice(&[0x81, 0x00, 0x00, 0x07]);
    }
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

fn states(v: &View, side: Side) -> Vec<State> {
    v.states(side)
}

fn causes(v: &View, side: Side) -> Vec<Cause> {
    v.trace
        .events
        .iter()
        .filter_map(|e| match e {
            TraceEvent::State {
                side: s,
                transition,
                ..
            } if *s == side => Some(transition.cause),
            _ => None,
        })
        .collect()
}

#[test]
fn a_full_exchange_goes_through_the_rfc_states() {
    let v = view(&raw_pcap(&full_exchange(C, S)), 1).unwrap();
    assert_eq!((v.client, v.server), (addr(C), addr(S)));
    assert_eq!((v.connection, v.connections), (1, 1));
    assert_eq!(v.format, Format::Pcap);
    assert_eq!(v.link_types, [LINK_RAW]);
    assert_eq!(
        states(&v, Side::A),
        [Closed, SynSent, Established, CloseWait, LastAck, Closed]
    );
    assert_eq!(
        causes(&v, Side::A),
        [
            Cause::AppConnect,
            Cause::RecvSynAck,
            Cause::RecvFin,
            Cause::AppClose,
            Cause::RecvAck
        ]
    );
    assert_eq!(
        states(&v, Side::B),
        [
            Listen,
            SynReceived,
            Established,
            FinWait1,
            FinWait2,
            TimeWait
        ]
    );
    assert_eq!(
        causes(&v, Side::B),
        [
            Cause::RecvSyn,
            Cause::RecvAck,
            Cause::AppClose,
            Cause::RecvAck,
            Cause::RecvFin
        ]
    );
    // The trace's own reading agrees.
    assert_eq!(v.trace.states(Side::B), states(&v, Side::B));
    let c = v.counts;
    assert_eq!((c.packets, c.shown, c.skipped()), (10, 10, 0));
    // One note per side first, then the segments at their capture
    // times, arriving as they are sent.
    let notes: Vec<_> = v
        .trace
        .events
        .iter()
        .take_while(|e| matches!(e, TraceEvent::Note { .. }))
        .collect();
    assert_eq!(notes.len(), 2);
    assert!(
        matches!(notes[0], TraceEvent::Note { text, .. } if text.get(Lang::En).contains("inferred"))
    );
    let times: Vec<(u64, Option<Instant>)> = v
        .trace
        .events
        .iter()
        .filter_map(|e| match e {
            TraceEvent::Segment { at, outcome, .. } => Some((at.as_micros(), outcome.arrival)),
            _ => None,
        })
        .collect();
    assert_eq!(times.len(), 10);
    for (i, (at, arrival)) in times.iter().enumerate() {
        assert_eq!(*at, i as u64 * 1000);
        assert_eq!(*arrival, Some(Instant::from_micros(*at)));
    }
}

#[test]
fn simultaneous_close_and_a_fin_that_acks_a_fin() {
    let v = view(
        &raw_pcap(&[
            packet(C, S, SYN, 100, 0, &[]),
            packet(S, C, SYN | ACK, 500, 101, &[]),
            packet(C, S, ACK, 101, 501, &[]),
            packet(C, S, FIN | ACK, 101, 501, &[]),
            packet(S, C, FIN | ACK, 501, 101, &[]),
            packet(C, S, ACK, 102, 502, &[]),
            packet(S, C, ACK, 502, 102, &[]),
        ]),
        1,
    )
    .unwrap();
    assert_eq!(
        states(&v, Side::A),
        [Closed, SynSent, Established, FinWait1, Closing, TimeWait]
    );
    assert_eq!(
        states(&v, Side::B),
        [
            Listen,
            SynReceived,
            Established,
            FinWait1,
            Closing,
            TimeWait
        ]
    );
    // The client's FIN answered by a FIN that acknowledges it.
    let v = view(
        &raw_pcap(&[
            packet(C, S, SYN, 100, 0, &[]),
            packet(S, C, SYN | ACK, 500, 101, &[]),
            packet(C, S, ACK, 101, 501, &[]),
            packet(C, S, FIN | ACK, 101, 501, &[]),
            packet(S, C, FIN | ACK, 501, 102, &[]),
            packet(C, S, ACK, 102, 502, &[]),
        ]),
        1,
    )
    .unwrap();
    assert_eq!(
        states(&v, Side::A),
        [Closed, SynSent, Established, FinWait1, TimeWait]
    );
    assert_eq!(*causes(&v, Side::A).last().unwrap(), Cause::RecvFinAck);
    assert_eq!(
        states(&v, Side::B),
        [Listen, SynReceived, Established, CloseWait, LastAck, Closed]
    );
}

#[test]
fn a_reset_closes_both_sides() {
    // Refused: the server has no listener and answers with a RST.
    let v = view(
        &raw_pcap(&[
            packet(C, S, SYN, 100, 0, &[]),
            packet(S, C, RST | ACK, 0, 101, &[]),
        ]),
        1,
    )
    .unwrap();
    assert_eq!(states(&v, Side::A), [Closed, SynSent, Closed]);
    assert_eq!(causes(&v, Side::A), [Cause::AppConnect, Cause::RecvRst]);
    assert_eq!(states(&v, Side::B), [Closed]);
    // Aborted once established.
    let v = view(
        &raw_pcap(&[
            packet(C, S, SYN, 100, 0, &[]),
            packet(S, C, SYN | ACK, 500, 101, &[]),
            packet(C, S, ACK, 101, 501, &[]),
            packet(S, C, RST | ACK, 501, 101, &[]),
        ]),
        1,
    )
    .unwrap();
    assert_eq!(states(&v, Side::A), [Closed, SynSent, Established, Closed]);
    assert_eq!(*causes(&v, Side::A).last().unwrap(), Cause::RecvRst);
    assert_eq!(
        states(&v, Side::B),
        [Listen, SynReceived, Established, Closed]
    );
    assert_eq!(*causes(&v, Side::B).last().unwrap(), Cause::AppAbort);
}

#[test]
fn a_capture_that_starts_mid_connection_starts_established() {
    let v = view(
        &raw_pcap(&[
            packet(S, C, PSH | ACK, 7000, 3000, b"more data"),
            packet(C, S, ACK, 3000, 7009, &[]),
            packet(C, S, FIN | ACK, 3000, 7009, &[]),
            packet(S, C, FIN | ACK, 7009, 3001, &[]),
            packet(C, S, ACK, 3001, 7010, &[]),
        ]),
        1,
    )
    .unwrap();
    // No SYN: the sender of the first segment is taken as the client.
    assert_eq!((v.client, v.server), (addr(S), addr(C)));
    assert_eq!(v.initial, [Established, Established]);
    assert_eq!(states(&v, Side::B), [Established, FinWait1, TimeWait]);
    assert_eq!(
        states(&v, Side::A),
        [Established, CloseWait, LastAck, Closed]
    );
    for side in [Side::A, Side::B] {
        let note = v.trace.events.iter().find_map(|e| match e {
            TraceEvent::Note { side: s, text, .. } if *s == side => {
                Some(text.get(Lang::En).to_string())
            }
            _ => None,
        });
        let note = note.unwrap();
        assert!(
            note.contains("mid-connection") && note.contains("ESTABLISHED"),
            "{note}"
        );
    }
    // A capture that starts at the SYN-ACK knows who the client is.
    let v = view(
        &raw_pcap(&[
            packet(S, C, SYN | ACK, 500, 101, &[]),
            packet(C, S, ACK, 101, 501, &[]),
        ]),
        1,
    )
    .unwrap();
    assert_eq!((v.client, v.server), (addr(C), addr(S)));
    assert_eq!(states(&v, Side::A), [SynSent, Established]);
    assert_eq!(states(&v, Side::B), [SynReceived, Established]);
}

#[test]
fn conn_picks_connections_in_order_of_first_appearance() {
    let c2 = "10.0.0.1:40001";
    let s2 = "10.0.0.3:443";
    let first = full_exchange(C, S);
    let second = full_exchange(c2, s2);
    // Interleaved, the second starting after the first, with a UDP
    // packet between.
    let mut packets = Vec::new();
    let udp = {
        let ip = IpRepr::new(addr(C).ip(), addr(S).ip(), IpProtocol::Udp, 8, 64);
        let mut b = vec![0; ip.total_len()];
        ip.emit(&mut b);
        b
    };
    for i in 0..10 {
        packets.push(first[i].clone());
        if i == 3 {
            packets.push(udp.clone());
        }
        if i >= 2 {
            packets.push(second[i - 2].clone());
        }
    }
    packets.extend_from_slice(&second[8..]);
    let bytes = raw_pcap(&packets);
    let v = view(&bytes, 2).unwrap();
    assert_eq!((v.connection, v.connections), (2, 2));
    assert_eq!((v.client, v.server), (addr(c2), addr(s2)));
    assert_eq!(
        states(&v, Side::A),
        [Closed, SynSent, Established, CloseWait, LastAck, Closed]
    );
    assert_eq!(
        (v.counts.shown, v.counts.other_connections, v.counts.not_tcp),
        (10, 10, 1)
    );
    // The second connection's first segment came 3 packets in; its
    // times start at zero.
    assert_eq!(v.offset_us, 3000);
    assert_eq!(v.trace.events.first().map(|e| e.at()), Some(Instant::ZERO));
    assert_eq!(view(&bytes, 1).unwrap().client, addr(C));
    for n in [0, 3] {
        let e = view(&bytes, n).unwrap_err();
        assert_eq!(
            e,
            ViewError::NoSuchConnection {
                asked: n,
                connections: 2
            }
        );
        assert!(e.to_string().contains("has 2 TCP connections"), "{e}");
    }
}

#[test]
fn the_same_addresses_again_after_a_close_are_a_new_connection() {
    let mut packets = full_exchange(C, S);
    packets.extend(full_exchange(C, S));
    let v = view(&raw_pcap(&packets), 2).unwrap();
    assert_eq!(v.connections, 2);
    assert_eq!(v.counts.shown, 10);
    assert_eq!(v.states(Side::A).last(), Some(&Closed));
}

#[test]
fn ethernet_with_a_vlan_tag_and_arp() {
    let mut frames: Vec<Vec<u8>> = full_exchange(C, S)
        .iter()
        .enumerate()
        .map(|(i, p)| ethernet(0x0800, i == 2, p))
        .collect();
    // ARP, and Ethernet's padding of short frames.
    frames.insert(0, ethernet(0x0806, false, &[0; 28]));
    for f in &mut frames {
        if f.len() < 60 {
            f.resize(60, 0);
        }
    }
    let v = view(&pcap_with(DataLink::ETHERNET, &frames), 1).unwrap();
    assert_eq!(v.link_types, [LINK_ETHERNET]);
    assert_eq!((v.counts.packets, v.counts.not_ip), (11, 1));
    assert_eq!(
        states(&v, Side::B),
        [
            Listen,
            SynReceived,
            Established,
            FinWait1,
            FinWait2,
            TimeWait
        ]
    );
    assert_eq!(v.trace.segments(Side::B).nth(2).map(|s| s.len), Some(5));
}

#[test]
fn every_link_type_it_claims() {
    let syn = packet(C, S, SYN, 1, 0, &[]);
    let syn6 = packet("[fd00::1]:1234", "[fd00::2]:80", SYN, 1, 0, &[]);
    let frames = |ip: &Vec<u8>, v6: bool| -> Vec<(u32, Vec<u8>)> {
        let et: u16 = if v6 { 0x86dd } else { 0x0800 };
        // AF_INET6 is 10 on Linux, 30 on macOS, 24 on OpenBSD.
        let family = |v6_number: u32| if v6 { v6_number } else { 2u32 };
        let mut sll = vec![0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0];
        sll.extend_from_slice(&et.to_be_bytes());
        let mut sll2 = et.to_be_bytes().to_vec();
        sll2.extend_from_slice(&[0; 18]);
        let with = |mut head: Vec<u8>| {
            head.extend_from_slice(ip);
            head
        };
        vec![
            (LINK_RAW, ip.clone()),
            (LINK_RAW_OLD, ip.clone()),
            (LINK_RAW_OLD2, ip.clone()),
            (LINK_ETHERNET, ethernet(et, false, ip)),
            (LINK_LINUX_SLL, with(sll)),
            (LINK_LINUX_SLL2, with(sll2)),
            // NULL in either byte order; LOOP in network order.
            (LINK_NULL, with(family(30).to_le_bytes().to_vec())),
            (LINK_NULL, with(family(10).to_be_bytes().to_vec())),
            (LINK_LOOP, with(family(24).to_be_bytes().to_vec())),
        ]
    };
    for (ip, v6) in [(&syn, false), (&syn6, true)] {
        for (link, frame) in frames(ip, v6) {
            let bytes = pcap_with(DataLink::from(link), &[frame]);
            let v = view(&bytes, 1).unwrap_or_else(|e| panic!("link {link} v6 {v6}: {e}"));
            assert_eq!(v.states(Side::A), [Closed, SynSent], "link {link}");
            assert_eq!(v.client.is_ipv6(), v6);
        }
    }
}

#[test]
fn pcapng_with_nanosecond_ticks_and_linux_cooked_frames() {
    let mut w = PcapNgWriter::new(Vec::new()).unwrap();
    w.write_pcapng_block(InterfaceDescriptionBlock {
        linktype: DataLink::LINUX_SLL2,
        snaplen: 262_144,
        options: vec![InterfaceDescriptionOption::IfTsResol(9)],
    })
    .unwrap();
    // A second interface at the default microseconds.
    w.write_pcapng_block(InterfaceDescriptionBlock {
        linktype: DataLink::RAW,
        snaplen: 262_144,
        options: vec![],
    })
    .unwrap();
    for (i, p) in full_exchange(C, S).iter().enumerate() {
        let (interface, frame, ticks) = if i % 2 == 0 {
            let mut f = vec![0x08, 0x00];
            f.extend_from_slice(&[0; 18]);
            f.extend_from_slice(p);
            // 1.5 ms a packet, in nanoseconds.
            (0, f, 7_000_000_000 + i as u64 * 1_500_000)
        } else {
            (1, p.clone(), 7_000_000 + i as u64 * 1_500)
        };
        w.write_pcapng_block(EnhancedPacketBlock {
            interface_id: interface,
            timestamp: Duration::from_nanos(ticks),
            original_len: frame.len() as u32,
            data: Cow::Borrowed(&frame),
            options: vec![],
        })
        .unwrap();
    }
    let bytes = w.into_inner();
    let v = view(&bytes, 1).unwrap();
    assert_eq!(v.format, Format::PcapNg);
    assert_eq!(v.link_types, [LINK_LINUX_SLL2, LINK_RAW]);
    assert_eq!(
        states(&v, Side::A),
        [Closed, SynSent, Established, CloseWait, LastAck, Closed]
    );
    let times: Vec<u64> = v
        .trace
        .events
        .iter()
        .filter(|e| matches!(e, TraceEvent::Segment { .. }))
        .map(|e| e.at().as_micros())
        .collect();
    assert_eq!(times, (0..10).map(|i| i * 1500).collect::<Vec<u64>>());
    // Cut inside the last packet block.
    let e = view(&bytes[..bytes.len() - 10], 1).unwrap_err();
    assert!(
        matches!(e, ViewError::Truncated { packet: 10, .. }),
        "{e:?}"
    );
}

#[test]
fn a_snapped_capture_keeps_the_lengths_and_offloaded_checksums_do_not_matter() {
    let mut packets = full_exchange(C, S);
    // The response: 1000 bytes, captured to 60, its TCP checksum left
    // to the NIC (zero) and, for good measure, its IP checksum too.
    let mut big = packet(S, C, PSH | ACK, 501, 104, &[7; 1000]);
    big[10] = 0;
    big[11] = 0;
    big[36] = 0;
    big[37] = 0;
    packets[5] = big;
    let header = PcapHeader {
        datalink: DataLink::RAW,
        snaplen: 60,
        ..PcapHeader::default()
    };
    let mut w = PcapWriter::with_header(Vec::new(), header).unwrap();
    for (i, p) in packets.iter().enumerate() {
        let ts = Duration::from_millis(i as u64);
        let cut = &p[..p.len().min(60)];
        w.write_packet(&PcapPacket::new(ts, p.len() as u32, cut))
            .unwrap();
    }
    let v = view(&w.into_writer(), 1).unwrap();
    assert_eq!(v.counts.unreadable, 0);
    let lens: Vec<usize> = v.trace.segments(Side::B).map(|s| s.len).collect();
    assert_eq!(lens, [0, 0, 1000, 0, 0]);
    // Cut inside the TCP header: unreadable, counted, not a panic.
    let p = packet(C, S, SYN, 1, 0, &[]);
    let header = PcapHeader {
        datalink: DataLink::RAW,
        snaplen: 30,
        ..PcapHeader::default()
    };
    let mut w = PcapWriter::with_header(Vec::new(), header).unwrap();
    w.write_packet(&PcapPacket::new(Duration::ZERO, p.len() as u32, &p[..30]))
        .unwrap();
    assert_eq!(
        view(&w.into_writer(), 1).unwrap_err(),
        ViewError::NoTcp { packets: 1 }
    );
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    // A link type it does not read.
    let bytes = pcap_with(DataLink::IEEE802_11, &[vec![0; 40]]);
    let e = view(&bytes, 1).unwrap_err();
    assert_eq!(e, ViewError::LinkType(105));
    assert!(e.to_string().contains("link type 105"), "{e}");
    // Truncated inside the last packet.
    let bytes = raw_pcap(&full_exchange(C, S));
    let e = view(&bytes[..bytes.len() - 5], 1).unwrap_err();
    assert!(
        matches!(e, ViewError::Truncated { packet: 10, .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("cut short"), "{e}");
    // Inside the file header.
    assert!(matches!(
        view(&bytes[..10], 1).unwrap_err(),
        ViewError::Malformed { offset: 0, .. }
    ));
    // Not a capture, or empty.
    let e = view(b"<!DOCTYPE html>", 1).unwrap_err();
    assert_eq!(
        e.to_string(),
        "not a pcap or pcapng capture (it starts with 3c 21 44 4f)"
    );
    assert!(matches!(view(b"", 1), Err(ViewError::NotACapture(_))));
    // No TCP at all.
    assert_eq!(
        view(&raw_pcap(&[]), 1).unwrap_err(),
        ViewError::NoTcp { packets: 0 }
    );
    // Every prefix, and every single-byte change of the header area,
    // of a pcap and a pcapng: an answer, never a panic.
    let mut ng = PcapNgWriter::new(Vec::new()).unwrap();
    ng.write_pcapng_block(InterfaceDescriptionBlock {
        linktype: DataLink::ETHERNET,
        snaplen: 0,
        options: vec![InterfaceDescriptionOption::IfTsResol(0x83)],
    })
    .unwrap();
    for p in full_exchange(C, S).iter().take(4) {
        let f = ethernet(0x0800, false, p);
        ng.write_pcapng_block(EnhancedPacketBlock {
            interface_id: 0,
            timestamp: Duration::from_nanos(u64::MAX),
            original_len: f.len() as u32,
            data: Cow::Borrowed(&f),
            options: vec![],
        })
        .unwrap();
    }
    let ng = ng.into_inner();
    assert_eq!(view(&ng, 1).unwrap().counts.shown, 4);
    for bytes in [&bytes[..400], &ng[..]] {
        for cut in 0..bytes.len() {
            let _ = view(&bytes[..cut], 1);
        }
        for at in 0..bytes.len().min(200) {
            for x in [0x01, 0x80, 0xff] {
                let mut b = bytes.to_vec();
                b[at] ^= x;
                let _ = view(&b, 1);
            }
        }
    }
}

#[test]
fn the_renderers_draw_a_view() {
    let v = view(&raw_pcap(&full_exchange(C, S)), 1).unwrap();
    let text = crate::ladder::render(
        &v.trace,
        &crate::ladder::LadderOptions::default(),
        &v.client.to_string(),
        &v.server.to_string(),
    );
    assert!(text.contains("[LISTEN → SYN-RECEIVED]"), "{text}");
    assert!(text.contains("states inferred"), "{text}");
    let picture = crate::svg::render(
        &v.trace,
        &crate::ladder::LadderOptions::default(),
        &v.client.to_string(),
        &v.server.to_string(),
    );
    assert_eq!(picture.steps.len(), 10);
    let summary = v.summary();
    assert!(
        summary[1].get(Lang::En).contains("LISTEN → SYN-RECEIVED"),
        "{summary:?}"
    );
}

#[test]
fn a_capture_plots_bytes_in_flight_estimated_instead_of_cwnd() {
    let packets = vec![
        packet(C, S, SYN, 100, 0, &[]),
        packet(S, C, SYN | ACK, 500, 101, &[]),
        packet(C, S, ACK, 101, 501, &[]),
        packet(C, S, ACK, 101, 501, &[1; 100]),
        packet(C, S, ACK, 201, 501, &[2; 100]),
        packet(C, S, ACK, 301, 501, &[3; 100]),
        packet(S, C, ACK, 501, 201, &[]),
        // The second segment again: a retransmission.
        packet(C, S, ACK, 201, 501, &[2; 100]),
        packet(S, C, ACK, 501, 401, &[]),
    ];
    let v = view(&raw_pcap(&packets), 1).unwrap();
    let flows = crate::plot::flows::read(&v.trace);
    assert_eq!(flows.len(), 1, "only the client sent data");
    let flight: Vec<f64> = crate::plot::outstanding(&flows[0])
        .iter()
        .map(|p| p.1)
        .collect();
    assert_eq!(flight, [100.0, 200.0, 300.0, 200.0, 200.0, 0.0]);

    let client = v.client.to_string();
    let figures = crate::plot::render(&v.trace, &client, &v.server.to_string());
    assert_eq!(figures.len(), 2);
    let seq = roxmltree::Document::parse(&figures[0].svg).unwrap();
    let class = |doc: &roxmltree::Document, tag: &str, c: &str| {
        doc.descendants()
            .filter(|n| {
                n.has_tag_name(tag)
                    && n.attribute("class")
                        .is_some_and(|k| k.split(' ').any(|w| w == c))
            })
            .count()
    };
    assert_eq!(class(&seq, "path", "bar"), 4);
    assert_eq!(class(&seq, "path", "retx"), 1);
    assert_eq!(class(&seq, "path", "lost"), 0, "a capture knows no losses");
    assert!(
        figures[0].title.contains("client 10.0.0.1:40000 → server"),
        "{}",
        figures[0].title
    );
    let win = roxmltree::Document::parse(&figures[1].svg).unwrap();
    assert!(
        figures[1].title.contains("estimated"),
        "{}",
        figures[1].title
    );
    assert!(figures[1]
        .svg
        .contains("A capture does not show the sender"));
    assert_eq!(class(&win, "polyline", "estimated"), 1);
    assert_eq!(class(&win, "polyline", "cwnd"), 0);
    assert_eq!(class(&win, "polyline", "ssthresh"), 0);
}
