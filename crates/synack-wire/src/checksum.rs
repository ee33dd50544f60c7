//! The Internet checksum (RFC 1071) and the IPv4/IPv6 pseudo-header sums.
//!
//! This module owns the ones'-complement arithmetic used by the IPv4 header,
//! TCP, ICMPv4 and ICMPv6 checksums. The building blocks are:
//!
//! * [`sum`]: the partial ones'-complement sum of a byte slice,
//! * [`pseudo_header`]: the partial sum of the IPv4 (RFC 9293 §3.1) or IPv6
//!   (RFC 8200 §8.1) pseudo-header,
//! * [`fold`] / [`finish`]: end-around carry folding and final complement.
//!
//! Partial sums returned by this module are always folded to at most
//! `0xFFFF`, so up to 65 537 of them can be added in a `u32` before calling
//! [`fold`] without overflow.
//!
//! To *compute* a checksum, zero the checksum field, then
//! `finish(pseudo + sum(bytes))`. To *verify*, sum everything including the
//! checksum field: the data is intact iff `fold(pseudo + sum(bytes)) == 0xFFFF`
//! (see [`verify`]).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Fold a 64-bit accumulator down to 16 bits with end-around carry.
#[inline]
fn fold64(mut acc: u64) -> u16 {
    // RFC 1071 §2(C): carries out of the top are added back in at the bottom.
    while acc > 0xFFFF {
        acc = (acc & 0xFFFF) + (acc >> 16);
    }
    acc as u16
}

/// Ones'-complement partial sum of `data`, taken as big-endian 16-bit words.
///
/// An odd trailing byte is padded with a zero byte on the right (RFC 1071
/// §1). The result is folded to at most `0xFFFF`.
///
/// Partial sums of consecutive pieces may be added together only if every
/// piece except the last has even length (otherwise the byte lanes shift;
/// [`shifted`] moves a piece's sum into the other lane).
///
/// How it is fast: the ones'-complement sum does not care about byte order
/// except for one swap at the end (RFC 1071 §2(B)), nor about word width,
/// since 2^16 ≡ 1 modulo 0xFFFF (§2(C)). So the bytes are read as 32-bit
/// words in the machine's own order and added into eight independent
/// 64-bit lanes: plain widening adds with no carry chain, which the
/// compiler turns into vector adds. [`pulp`] compiles that loop for the
/// widest vector unit the processor has (AVX2 or AVX-512 on x86-64, found
/// at run time) without any `unsafe` here. The lanes are folded and swapped
/// to network order once.
pub fn sum(data: &[u8]) -> u32 {
    if data.len() < SHORT {
        // A header: not worth a trip to the vector unit.
        return to_network(tail_sum(data));
    }
    // The final fold stays outside: with it inside, the compiler no longer
    // inlines the loop into the vector-unit version, which then runs the
    // plain one.
    to_network(arch().dispatch(
        #[inline(always)]
        || wide_sum(data),
    ))
}

/// Copies `src` into `dst` (of the same length) and returns the partial
/// sum of the bytes, as [`sum`] would: one pass over the bytes instead of a
/// copy and then a sum, as a kernel's copy-and-checksum does.
///
/// # Panics
///
/// If the lengths differ (as `copy_from_slice` does).
pub fn copy_and_sum(dst: &mut [u8], src: &[u8]) -> u32 {
    assert_eq!(dst.len(), src.len(), "copy_and_sum: lengths differ");
    if src.len() < CHUNK {
        // No whole chunk (a pure ACK, a FIN, a byte of data): the trip to
        // the vector unit would cost more than the bytes.
        dst.copy_from_slice(src);
        return to_network(tail_sum(src));
    }
    // Only the loop goes to the vector unit; the folds stay outside, as in
    // `sum` (with them inside, the loop is not inlined there).
    let whole = src.len() - src.len() % CHUNK;
    let (src_body, rest) = src.split_at(whole);
    let (dst_body, dst_rest) = dst.split_at_mut(whole);
    let lanes = arch().dispatch(
        #[inline(always)]
        || {
            let mut lanes = [0u64; LANES];
            for (s, d) in src_body
                .chunks_exact(CHUNK)
                .zip(dst_body.chunks_exact_mut(CHUNK))
            {
                d.copy_from_slice(s);
                add_chunk(&mut lanes, s);
            }
            // Added up here, so that a pair of registers comes back
            // rather than the lanes through memory.
            lanes.iter().map(|&l| u128::from(l)).sum::<u128>()
        },
    );
    dst_rest.copy_from_slice(rest);
    to_network(fold_total(lanes) + tail_sum(rest))
}

/// The partial sum of a piece that starts at an odd offset of the data it
/// belongs to, from its own [`sum`]: its bytes sit in the other half of
/// each 16-bit word, so the sum is byte-swapped (RFC 1071 §2(B)).
#[inline]
pub fn shifted(sum: u32, odd_offset: bool) -> u32 {
    if odd_offset {
        u32::from(fold(sum).swap_bytes())
    } else {
        sum
    }
}

/// The processor's vector unit, found once.
fn arch() -> pulp::Arch {
    static ARCH: std::sync::OnceLock<pulp::Arch> = std::sync::OnceLock::new();
    *ARCH.get_or_init(pulp::Arch::new)
}

/// Below this many bytes [`sum`] stays in plain code.
const SHORT: usize = 128;

/// Independent accumulators: enough for a vector unit to add without
/// waiting on itself.
const LANES: usize = 8;
/// Bytes per round: one 32-bit word per lane.
const CHUNK: usize = 4 * LANES;

/// Adds one `CHUNK` of native-order 32-bit words into the lanes. A lane
/// takes less than 2^32 per round, so it cannot overflow before 2^32
/// rounds (128 GiB), far beyond any slice summed here.
#[inline(always)]
fn add_chunk(lanes: &mut [u64; LANES], chunk: &[u8]) {
    for (lane, w) in lanes.iter_mut().zip(chunk.chunks_exact(4)) {
        *lane += u64::from(u32::from_ne_bytes([w[0], w[1], w[2], w[3]]));
    }
}

/// The lanes added up and folded to at most 0x10000 (native order).
#[inline(always)]
fn fold_lanes(lanes: &[u64; LANES]) -> u64 {
    fold_total(lanes.iter().map(|&l| u128::from(l)).sum())
}

/// The lanes' total folded to at most 0x10000 (native order).
#[inline(always)]
fn fold_total(total: u128) -> u64 {
    // 2^64 ≡ 1 modulo 0xFFFF: the halves add, and a carry out of that add
    // is one more end-around carry.
    let (low, carry) = (total as u64).overflowing_add((total >> 64) as u64);
    u64::from(fold64(low)) + u64::from(carry)
}

/// The native-order sum of a few bytes (the rest after the last whole
/// chunk, or a header): 16-bit words, then an odd last byte padded on the
/// right in network order. For short inputs this plain widening sum beats
/// both the lanes and 32-bit words.
#[inline(always)]
fn tail_sum(rest: &[u8]) -> u64 {
    debug_assert!(rest.len() < SHORT.max(CHUNK));
    // Fewer than 2^16 words of at most 0xFFFF: a u32 cannot overflow.
    let mut total: u32 = rest
        .chunks_exact(2)
        .map(|w| u32::from(u16::from_ne_bytes([w[0], w[1]])))
        .sum();
    if rest.len() % 2 == 1 {
        total += u32::from(u16::from_ne_bytes([rest[rest.len() - 1], 0]));
    }
    u64::from(total)
}

/// The native-order sum of `data`, not yet folded.
#[inline(always)]
fn wide_sum(data: &[u8]) -> u64 {
    let mut lanes = [0u64; LANES];
    let mut chunks = data.chunks_exact(CHUNK);
    for c in &mut chunks {
        add_chunk(&mut lanes, c);
    }
    fold_lanes(&lanes) + tail_sum(chunks.remainder())
}

/// Folds a native-order sum and swaps it to network order.
#[inline(always)]
fn to_network(native: u64) -> u32 {
    u32::from(u16::from_be(fold64(native)))
}

/// Fold the carries of a partial sum into 16 bits (not complemented).
#[inline]
pub fn fold(sum: u32) -> u16 {
    fold64(u64::from(sum))
}

/// Fold and complement a partial sum: the value to store in a checksum field.
#[inline]
pub fn finish(sum: u32) -> u16 {
    !fold(sum)
}

/// `true` if a partial sum taken over data *including* its checksum field
/// (and the pseudo-header, if any) shows the data is intact.
#[inline]
pub fn verify(sum: u32) -> bool {
    fold(sum) == 0xFFFF
}

/// The checksum of `data` alone: `finish(sum(data))`.
#[inline]
pub fn checksum(data: &[u8]) -> u16 {
    finish(sum(data))
}

/// Partial sum of the IPv4 pseudo-header (RFC 9293 §3.1: source address,
/// destination address, zero, protocol, upper-layer length).
///
/// `len` is a 16-bit field on the wire; larger values are summed as two
/// 16-bit halves, which never arises for a valid IPv4 packet.
pub fn pseudo_header_v4(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, len: u32) -> u32 {
    let s = src.octets();
    let d = dst.octets();
    let total = u32::from(u16::from_be_bytes([s[0], s[1]]))
        + u32::from(u16::from_be_bytes([s[2], s[3]]))
        + u32::from(u16::from_be_bytes([d[0], d[1]]))
        + u32::from(u16::from_be_bytes([d[2], d[3]]))
        + u32::from(protocol)
        + (len >> 16)
        + (len & 0xFFFF);
    u32::from(fold(total))
}

/// Partial sum of the IPv6 pseudo-header (RFC 8200 §8.1: source address,
/// destination address, 32-bit upper-layer length, three zero bytes, next
/// header).
pub fn pseudo_header_v6(src: Ipv6Addr, dst: Ipv6Addr, protocol: u8, len: u32) -> u32 {
    let total = sum(&src.octets())
        + sum(&dst.octets())
        + (len >> 16)
        + (len & 0xFFFF)
        + u32::from(protocol);
    u32::from(fold(total))
}

/// Partial sum of the IPv4 or IPv6 pseudo-header for `src`/`dst`.
///
/// If both addresses are IPv4, the IPv4 pseudo-header is used; if both are
/// IPv6, the IPv6 one. If the families are mixed, the IPv4 address is mapped
/// to its IPv4-mapped IPv6 form (`::ffff:a.b.c.d`) and the IPv6 pseudo-header
/// is used, matching [`crate::IpRepr::new`] which builds an IPv6 header in
/// that case.
pub fn pseudo_header(src: IpAddr, dst: IpAddr, protocol: u8, len: u32) -> u32 {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => pseudo_header_v4(s, d, protocol, len),
        _ => pseudo_header_v6(to_v6(src), to_v6(dst), protocol, len),
    }
}

/// Map an address to IPv6, using the IPv4-mapped form for IPv4 addresses.
pub(crate) fn to_v6(addr: IpAddr) -> Ipv6Addr {
    match addr {
        IpAddr::V4(a) => a.to_ipv6_mapped(),
        IpAddr::V6(a) => a,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Straightforward RFC 1071 reference: 16-bit words, fold at the end.
    fn slow_sum(data: &[u8]) -> u16 {
        let mut acc: u64 = 0;
        for (i, b) in data.iter().enumerate() {
            acc += if i % 2 == 0 {
                u64::from(*b) << 8
            } else {
                u64::from(*b)
            };
        }
        while acc > 0xFFFF {
            acc = (acc & 0xFFFF) + (acc >> 16);
        }
        acc as u16
    }

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(fold(sum(&data)), 0xddf2);
        assert_eq!(finish(sum(&data)), !0xddf2);
    }

    #[test]
    fn odd_length_padded() {
        assert_eq!(sum(&[0xAB]), 0xAB00);
        assert_eq!(sum(&[0x01, 0x02, 0x03]), 0x0102 + 0x0300);
        assert_eq!(sum(&[]), 0);
    }

    #[test]
    fn fold_and_finish() {
        assert_eq!(fold(0x1_FFFE), 0xFFFF);
        assert_eq!(fold(0xFFFF_FFFF), 0xFFFF);
        assert_eq!(fold(0x2_0001), 0x0003);
        assert_eq!(finish(0xFFFF), 0);
        assert_eq!(finish(0), 0xFFFF);
    }

    #[test]
    fn large_input_all_ones() {
        let data = vec![0xFF; (1 << 20) * 3 + 7];
        assert_eq!(u16::try_from(sum(&data)).unwrap(), slow_sum(&data));
    }

    #[test]
    fn pseudo_header_mixed_family_maps_v4() {
        let v4: IpAddr = Ipv4Addr::new(10, 0, 0, 1).into();
        let v6: IpAddr = "2001:db8::1".parse::<Ipv6Addr>().unwrap().into();
        let mapped: IpAddr = Ipv4Addr::new(10, 0, 0, 1).to_ipv6_mapped().into();
        assert_eq!(
            pseudo_header(v4, v6, 6, 20),
            pseudo_header(mapped, v6, 6, 20)
        );
    }

    #[test]
    fn pseudo_header_v4_matches_bytes() {
        let s = Ipv4Addr::new(192, 168, 0, 1);
        let d = Ipv4Addr::new(10, 1, 2, 3);
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&s.octets());
        bytes.extend_from_slice(&d.octets());
        bytes.extend_from_slice(&[0, 6, 0x01, 0x2c]);
        assert_eq!(fold(pseudo_header_v4(s, d, 6, 300)), slow_sum(&bytes));
    }

    #[test]
    fn pseudo_header_v6_matches_bytes() {
        let s: Ipv6Addr = "fe80::1:2:3:4".parse().unwrap();
        let d: Ipv6Addr = "2001:db8:ffff::9".parse().unwrap();
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&s.octets());
        bytes.extend_from_slice(&d.octets());
        bytes.extend_from_slice(&70_000u32.to_be_bytes());
        bytes.extend_from_slice(&[0, 0, 0, 58]);
        assert_eq!(fold(pseudo_header_v6(s, d, 58, 70_000)), slow_sum(&bytes));
    }

    proptest! {
        #[test]
        fn sum_matches_reference(data in proptest::collection::vec(any::<u8>(), 0..600)) {
            let fast = sum(&data);
            prop_assert!(fast <= 0xFFFF);
            // A fold of a non-zero sum is never zero, so the two agree exactly.
            prop_assert_eq!(fast, u32::from(slow_sum(&data)));
        }

        #[test]
        fn sums_of_even_splits_combine(data in proptest::collection::vec(any::<u8>(), 0..300), cut in 0usize..150) {
            let cut = (cut * 2).min(data.len() & !1);
            let whole = fold(sum(&data));
            let parts = fold(sum(&data[..cut]) + sum(&data[cut..]));
            prop_assert_eq!(whole, parts);
        }

        #[test]
        fn copy_and_sum_copies_and_sums(data in proptest::collection::vec(any::<u8>(), 0..600)) {
            let mut out = vec![0xA5; data.len()];
            let s = copy_and_sum(&mut out, &data);
            prop_assert_eq!(&out, &data);
            prop_assert_eq!(s, u32::from(slow_sum(&data)));
        }

        #[test]
        fn a_piece_at_an_odd_offset_is_shifted(data in proptest::collection::vec(any::<u8>(), 0..300), cut in 0usize..300) {
            let cut = cut.min(data.len());
            let whole = fold(sum(&data));
            let (a, b) = data.split_at(cut);
            let parts = fold(sum(a) + shifted(sum(b), cut % 2 == 1));
            prop_assert_eq!(whole, parts);
        }

        #[test]
        fn checksum_then_verify(mut data in proptest::collection::vec(any::<u8>(), 2..300)) {
            data[0] = 0;
            data[1] = 0;
            let c = checksum(&data);
            data[..2].copy_from_slice(&c.to_be_bytes());
            prop_assert!(verify(sum(&data)));
        }
    }
}
