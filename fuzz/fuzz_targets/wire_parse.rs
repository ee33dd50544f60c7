//! Fuzz the synack-wire parsers.
//!
//! The input is parsed as an IP packet; its payload is then parsed as TCP
//! (with and without checksum verification), ICMPv4 and ICMPv6. Whatever
//! parses is re-emitted and re-parsed, and the reprs must match. The TCP
//! options are also walked in wire order. Parsing must never panic.
#![no_main]

use std::net::IpAddr;

use libfuzzer_sys::fuzz_target;
use synack_wire::{Icmpv4Repr, Icmpv6Repr, IpRepr, OptionList, TcpPacket, TcpRepr};

fuzz_target!(|data: &[u8]| {
    let Ok((ip, payload)) = IpRepr::parse(data) else {
        return;
    };

    // IP round trip: the emitted header carries no options or extension
    // headers, but the repr (upper-layer protocol and length) is preserved.
    let mut ip_out = vec![0u8; ip.total_len()];
    ip.emit(&mut ip_out);
    ip_out[ip.header_len()..].copy_from_slice(payload);
    let (ip_again, payload_again) = IpRepr::parse(&ip_out).expect("re-parse emitted IP");
    assert_eq!(ip_again, ip);
    assert_eq!(payload_again, payload);

    let (src, dst) = (ip.src(), ip.dst());
    for verify in [true, false] {
        if let Ok(tcp) = TcpRepr::parse(payload, src, dst, verify) {
            let mut out = vec![0u8; tcp.buffer_len()];
            tcp.emit(&mut out, src, dst);
            // Emission drops SACK blocks that do not fit in 40 bytes of
            // options; everything else must survive unchanged.
            let mut expected = tcp;
            expected.options = tcp.options.truncated_to_fit();
            let again = TcpRepr::parse(&out, src, dst, true).expect("re-parse emitted TCP");
            assert_eq!(again, expected);
        }
    }

    // Each option in wire order takes at least one byte, so the walk ends.
    if let Ok(packet) = TcpPacket::new_checked(payload) {
        let bytes = packet.options();
        assert!(OptionList::new(bytes).count() <= bytes.len());
    }

    if let Ok(icmp) = Icmpv4Repr::parse(payload) {
        let mut out = vec![0u8; icmp.buffer_len()];
        icmp.emit(&mut out);
        assert_eq!(Icmpv4Repr::parse(&out), Ok(icmp));
    }

    if let (IpAddr::V6(s), IpAddr::V6(d)) = (src, dst) {
        if let Ok(icmp) = Icmpv6Repr::parse(payload, s, d) {
            let mut out = vec![0u8; icmp.buffer_len()];
            icmp.emit(&mut out, s, d);
            assert_eq!(Icmpv6Repr::parse(&out, s, d), Ok(icmp));
        }
    }
});
